//! The static `sts:AssumeRole` evaluator: wildcard and ARN matching against a reference, the
//! condition operators and keys trust policies use, and how principals, accounts and sessions
//! decide the outcome.

use proptest::prelude::*;
use serde_json::{json, Value};
use xacct_policy::{
    action_matches, arn_account, arn_match, evaluate_assume_role, glob_match, AssumeRoleRequest, Decision, NamedPolicy,
    Outcome, Policy, StatementRef,
};

const SOURCE: &str = "111111111111";
const TARGET: &str = "222222222222";
const ROLE: &str = "control-plane.cluster-api-provider-aws.sigs.k8s.io";

fn role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/{ROLE}")
}

fn policy(v: Value) -> Policy {
    Policy::from_value(&v).unwrap()
}

/// A trust policy with one statement: `Allow` `sts:AssumeRole` to `principal` under `condition`.
fn trust(principal: Value, condition: Option<Value>) -> Policy {
    let mut stmt = json!({"Sid": "T", "Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"});
    if let Some(c) = condition {
        stmt["Condition"] = c;
    }
    policy(json!({"Version": "2012-10-17", "Statement": [stmt]}))
}

/// The source side: `Allow sts:AssumeRole` on the target role.
fn identity() -> Policy {
    policy(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn(TARGET)}]}))
}

fn caller() -> AssumeRoleRequest {
    AssumeRoleRequest { principal_arn: role_arn(SOURCE), ..Default::default() }
}

fn decide(req: &AssumeRoleRequest, trust: &Policy) -> Decision {
    let id = identity();
    evaluate_assume_role(req, &role_arn(TARGET), trust, &[NamedPolicy { name: "assume", policy: &id }])
}

fn allowed_with_condition(req: &AssumeRoleRequest, condition: Value) -> bool {
    decide(req, &trust(json!({"AWS": role_arn(SOURCE)}), Some(condition))).is_allowed()
}

// ---- wildcard matching ----

/// The obvious (exponential) definition of `*`/`?` matching.
fn reference_glob(p: &[char], v: &[char]) -> bool {
    match p.split_first() {
        None => v.is_empty(),
        Some(('*', rest)) => (0..=v.len()).any(|k| reference_glob(rest, &v[k..])),
        Some(('?', rest)) => !v.is_empty() && reference_glob(rest, &v[1..]),
        Some((c, rest)) => v.first() == Some(c) && reference_glob(rest, &v[1..]),
    }
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
    ))]

    /// Values may hold `*` and `?` themselves: they are then plain characters.
    #[test]
    fn glob_matches_like_the_reference(pattern in "[ab*?]{0,6}", value in "[ab*?]{0,7}") {
        prop_assert_eq!(
            glob_match(&pattern, &value, false),
            reference_glob(&chars(&pattern), &chars(&value)),
            "{:?} vs {:?}", pattern, value
        );
    }

    #[test]
    fn ignoring_case_matches_the_lowercased_reference(pattern in "[aAbB*?]{0,5}", value in "[aAbB]{0,6}") {
        let expected = reference_glob(&chars(&pattern.to_lowercase()), &chars(&value.to_lowercase()));
        prop_assert_eq!(glob_match(&pattern, &value, true), expected);
        prop_assert_eq!(action_matches(&pattern, &value), expected);
        prop_assert_eq!(glob_match(&pattern, &value, false), reference_glob(&chars(&pattern), &chars(&value)));
    }
}

#[test]
fn glob_star_backtracks_over_literal_wildcard_characters() {
    assert!(glob_match("*?", "a*", false));
    assert!(glob_match("*b", "a*b", false));
    assert!(glob_match("a*?b", "a**b", false));
    assert!(!glob_match("*?", "", false));
    assert!(!glob_match("a*", "b*", false));
}

#[test]
fn arn_match_falls_back_to_wildcard_or_equality_for_non_arns() {
    assert!(arn_match("*", "not-an-arn"));
    assert!(arn_match("*", &role_arn(SOURCE)));
    assert!(arn_match("not-an-arn", "not-an-arn"));
    assert!(!arn_match("not-an-arn", "other"));
    assert!(!arn_match(&role_arn(SOURCE), "not-an-arn"));
    assert!(arn_match(&role_arn(SOURCE), &role_arn(SOURCE)));
    assert!(!arn_match(&role_arn(SOURCE), &role_arn(TARGET)));
    // Wildcards stay inside their component: `*` in the account does not reach into the resource.
    assert!(arn_match("arn:aws:iam::*:role/*", &role_arn(TARGET)));
    assert!(!arn_match("arn:aws:iam:*:role/x", "arn:aws:iam::1:role/x"));
    assert!(!arn_match("arn:aws:iam::111111111111:role/*", &role_arn(TARGET)));
}

#[test]
fn arn_account_needs_an_arn_with_an_account() {
    assert_eq!(arn_account(&role_arn(SOURCE)), Some(SOURCE));
    assert_eq!(arn_account("arn:aws:sts::111111111111:assumed-role/r/s"), Some(SOURCE));
    assert_eq!(arn_account("notarn:aws:iam::111111111111:role/x"), None);
    assert_eq!(arn_account("arn:aws:s3:::bucket"), None);
    assert_eq!(arn_account("arn:aws:iam::111111111111"), None);
    assert_eq!(arn_account(""), None);
}

// ---- condition operators and keys ----

#[test]
fn resource_org_id_is_the_role_accounts_organization() {
    let cond = json!({"StringEquals": {"aws:ResourceOrgID": "o-abcdef1234"}});
    let mut req = caller();
    assert!(!allowed_with_condition(&req, cond.clone()), "no organization known");
    req.resource_org_id = Some("o-abcdef1234".into());
    assert!(allowed_with_condition(&req, cond.clone()));
    req.resource_org_id = Some("o-other00000".into());
    assert!(!allowed_with_condition(&req, cond.clone()));
    // The caller's organization is another key.
    let req = AssumeRoleRequest { principal_org_id: Some("o-abcdef1234".into()), ..caller() };
    assert!(!allowed_with_condition(&req, cond));
}

#[test]
fn string_not_like_allows_what_does_not_match() {
    let req = caller();
    assert!(allowed_with_condition(&req, json!({"StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin*"}})));
    assert!(!allowed_with_condition(
        &req,
        json!({"StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/control-*"}})
    ));
    let d = decide(
        &req,
        &trust(json!({"AWS": role_arn(SOURCE)}), Some(json!({"StringNotLike": {"aws:PrincipalArn": "x"}}))),
    );
    assert!(!d.notes.iter().any(|n| n.contains("not supported")), "{d:?}");
}

#[test]
fn bool_compares_without_case() {
    let req = AssumeRoleRequest { external_id: Some("True".into()), ..caller() };
    assert!(allowed_with_condition(&req, json!({"Bool": {"sts:ExternalId": "true"}})));
    assert!(!allowed_with_condition(&req, json!({"Bool": {"sts:ExternalId": "false"}})));
    // A key xacct does not model is absent: `BoolIfExists` holds, `Bool` does not.
    assert!(allowed_with_condition(&caller(), json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}})));
    assert!(!allowed_with_condition(&caller(), json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}})));
    let d =
        decide(&caller(), &trust(json!("*"), Some(json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}))));
    assert!(!d.notes.iter().any(|n| n.contains("not supported")), "{d:?}");
    assert!(d.notes.iter().any(|n| n.contains("`aws:MultiFactorAuthPresent` is not modelled")), "{d:?}");
}

#[test]
fn every_condition_must_hold() {
    let req = AssumeRoleRequest { external_id: Some("dev-7f3a".into()), ..caller() };
    let both =
        |ext: &str, arn: &str| json!({"StringEquals": {"sts:ExternalId": ext}, "ArnLike": {"aws:PrincipalArn": arn}});
    assert!(allowed_with_condition(&req, both("dev-7f3a", "arn:aws:iam::*:role/*")));
    assert!(!allowed_with_condition(&req, both("nope", "arn:aws:iam::*:role/*")));
    assert!(!allowed_with_condition(&req, both("dev-7f3a", "arn:aws:iam::*:user/*")));
    assert!(!allowed_with_condition(&req, both("nope", "arn:aws:iam::*:user/*")));
}

#[test]
fn decisions_name_the_statements_that_decided() {
    let d = decide(&caller(), &trust(json!({"AWS": role_arn(SOURCE)}), None));
    assert_eq!(d.outcome, Outcome::Allowed);
    assert_eq!(
        d.deciding,
        [
            StatementRef { policy: "trust".into(), index: 0, sid: Some("T".into()) },
            StatementRef { policy: "assume".into(), index: 0, sid: None },
        ]
    );
}

#[test]
fn explicit_deny_notes_name_each_denying_statement() {
    let trust = policy(json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Allow", "Effect": "Allow", "Principal": {"AWS": role_arn(SOURCE)}, "Action": "sts:AssumeRole"},
        {"Sid": "Block", "Effect": "Deny", "Principal": "*", "Action": "sts:*"}]}));
    let id = identity();
    let deny = policy(json!({"Statement": [{"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}]}));
    let d = evaluate_assume_role(
        &caller(),
        &role_arn(TARGET),
        &trust,
        &[NamedPolicy { name: "assume", policy: &id }, NamedPolicy { name: "guard", policy: &deny }],
    );
    assert_eq!(d.outcome, Outcome::ExplicitDeny);
    assert_eq!(
        d.deciding,
        [
            StatementRef { policy: "trust".into(), index: 1, sid: Some("Block".into()) },
            StatementRef { policy: "guard".into(), index: 0, sid: None },
        ]
    );
    assert!(d.notes.contains(&"denied explicitly by `trust` statement 1 (Sid `Block`)".to_string()), "{d:?}");
    assert!(d.notes.contains(&"denied explicitly by `guard` statement 0".to_string()), "{d:?}");
}

#[test]
fn a_trust_statement_counts_only_for_assume_role_on_this_role() {
    let principal = json!({"AWS": role_arn(SOURCE)});
    let with = |extra: Value| {
        let mut stmt = json!({"Effect": "Allow", "Principal": principal.clone()});
        for (k, v) in extra.as_object().unwrap() {
            stmt[k] = v.clone();
        }
        policy(json!({"Version": "2012-10-17", "Statement": [stmt]}))
    };
    assert!(decide(&caller(), &with(json!({"Action": "sts:AssumeRole"}))).is_allowed());
    assert!(!decide(&caller(), &with(json!({"Action": "sts:TagSession"}))).is_allowed());
    assert!(!decide(&caller(), &with(json!({"NotAction": "sts:AssumeRole"}))).is_allowed());
    assert!(decide(&caller(), &with(json!({"NotAction": "s3:*"}))).is_allowed());
    assert!(!decide(&caller(), &with(json!({"Action": "sts:AssumeRole", "Resource": role_arn("333333333333")})))
        .is_allowed());
    assert!(decide(&caller(), &with(json!({"Action": "sts:AssumeRole", "Resource": role_arn(TARGET)}))).is_allowed());
    assert!(!decide(&caller(), &with(json!({"Action": "sts:AssumeRole", "NotResource": "arn:aws:iam::*:role/*"})))
        .is_allowed());
    assert!(decide(&caller(), &with(json!({"Action": "sts:AssumeRole", "NotResource": "arn:aws:iam::*:role/x"})))
        .is_allowed());
    // A deny that does not apply to the action or the role does not deny.
    let allow_and = |deny: Value| {
        let mut d = json!({"Effect": "Deny", "Principal": "*"});
        for (k, v) in deny.as_object().unwrap() {
            d[k] = v.clone();
        }
        policy(json!({"Statement": [
            {"Effect": "Allow", "Principal": principal.clone(), "Action": "sts:AssumeRole"}, d]}))
    };
    assert_eq!(decide(&caller(), &allow_and(json!({"Action": "sts:TagSession"}))).outcome, Outcome::Allowed);
    assert_eq!(
        decide(&caller(), &allow_and(json!({"Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/x"}))).outcome,
        Outcome::Allowed
    );
    assert_eq!(decide(&caller(), &allow_and(json!({"Action": "sts:AssumeRole"}))).outcome, Outcome::ExplicitDeny);
}

#[test]
fn identity_statements_with_a_principal_are_ignored() {
    for principal in ["Principal", "NotPrincipal"] {
        let mut stmt = json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"});
        stmt[principal] = json!({"AWS": "*"});
        let with_principal = policy(json!({"Version": "2012-10-17", "Statement": [stmt]}));
        let d = evaluate_assume_role(
            &caller(),
            &role_arn(TARGET),
            &trust(json!({"AWS": role_arn(SOURCE)}), None),
            &[NamedPolicy { name: "odd", policy: &with_principal }],
        );
        assert_eq!(d.outcome, Outcome::ImplicitDeny, "{principal}: {d:?}");
        assert!(
            d.notes.iter().any(|n| n == "`odd` statement 0 has a principal; ignored in an identity policy"),
            "{d:?}"
        );
    }
}
