use super::*;

const SOURCE: &str = "111111111111";
const TARGET: &str = "222222222222";
const ROLE: &str = "control-plane.cluster-api-provider-aws.sigs.k8s.io";

fn role_arn(acct: &str) -> String {
    format!("arn:aws:iam::{acct}:role/{ROLE}")
}

fn policy(text: &str) -> Policy {
    Policy::parse(text).unwrap()
}

/// The runbook's target trust statement (step 3).
fn runbook_trust(extra_condition: &str) -> Policy {
    policy(&format!(
        r#"{{"Version":"2012-10-17","Statement":[
          {{"Effect":"Allow","Principal":{{"Service":"ec2.amazonaws.com"}},"Action":"sts:AssumeRole"}},
          {{"Sid":"XacctDev","Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"sts:AssumeRole"{extra_condition}}}
        ]}}"#,
        role_arn(SOURCE)
    ))
}

/// The runbook's source inline policy (step 4).
fn runbook_identity() -> Policy {
    policy(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{}"}}]}}"#,
        role_arn(TARGET)
    ))
}

fn request(external_id: Option<&str>) -> AssumeRoleRequest {
    AssumeRoleRequest {
        principal_arn: role_arn(SOURCE),
        external_id: external_id.map(str::to_string),
        ..Default::default()
    }
}

fn eval(req: &AssumeRoleRequest, trust: &Policy, identity: &[&Policy]) -> Decision {
    let named: Vec<NamedPolicy<'_>> = identity
        .iter()
        .enumerate()
        .map(|(i, p)| NamedPolicy { name: ["assume-workloads", "other"][i.min(1)], policy: p })
        .collect();
    evaluate_assume_role(req, &role_arn(TARGET), trust, &named)
}

const EXTERNAL_ID: &str = r#","Condition":{"StringEquals":{"sts:ExternalId":"dev-7f3a"}}"#;

#[test]
fn runbook_trust_allows_cross_account() {
    let d = eval(&request(None), &runbook_trust(""), &[&runbook_identity()]);
    assert_eq!(d.outcome, Outcome::Allowed, "{d:?}");
    assert_eq!(
        d.deciding,
        [
            StatementRef { policy: "trust".into(), index: 1, sid: Some("XacctDev".into()) },
            StatementRef { policy: "assume-workloads".into(), index: 0, sid: None },
        ]
    );
}

#[test]
fn runbook_trust_with_external_id_allows() {
    let d = eval(&request(Some("dev-7f3a")), &runbook_trust(EXTERNAL_ID), &[&runbook_identity()]);
    assert!(d.is_allowed(), "{d:?}");
}

#[test]
fn wrong_or_missing_external_id_is_implicit_deny() {
    let trust = runbook_trust(EXTERNAL_ID);
    for ext in [Some("dev-7f3b"), Some("DEV-7F3A"), None] {
        let d = eval(&request(ext), &trust, &[&runbook_identity()]);
        assert_eq!(d.outcome, Outcome::ImplicitDeny, "{ext:?}: {d:?}");
        assert!(d.deciding.is_empty());
        assert!(d.notes.iter().any(|n| n.contains("no statement of the trust policy")), "{d:?}");
    }
}

#[test]
fn deny_statement_wins() {
    let trust = policy(&format!(
        r#"{{"Version":"2012-10-17","Statement":[
          {{"Sid":"Allow","Effect":"Allow","Principal":{{"AWS":"{src}"}},"Action":"sts:AssumeRole"}},
          {{"Sid":"Block","Effect":"Deny","Principal":{{"AWS":"arn:aws:iam::{SOURCE}:root"}},"Action":"sts:*"}}
        ]}}"#,
        src = role_arn(SOURCE)
    ));
    let d = eval(&request(None), &trust, &[&runbook_identity()]);
    assert_eq!(d.outcome, Outcome::ExplicitDeny);
    assert_eq!(d.deciding, [StatementRef { policy: "trust".into(), index: 1, sid: Some("Block".into()) }]);

    let deny_identity =
        policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"sts:Assume*","Resource":"*"}]}"#);
    let d = eval(&request(None), &runbook_trust(""), &[&runbook_identity(), &deny_identity]);
    assert_eq!(d.outcome, Outcome::ExplicitDeny);
    assert_eq!(d.deciding[0].policy, "other");
}

#[test]
fn unique_id_principal_does_not_allow() {
    let trust = policy(
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"XacctDev","Effect":"Allow","Principal":{"AWS":"AROA3XFRBF23EXAMPLE12"},"Action":"sts:AssumeRole"}]}"#,
    );
    let d = eval(&request(None), &trust, &[&runbook_identity()]);
    assert_eq!(d.outcome, Outcome::ImplicitDeny);
    assert!(d.notes.iter().any(|n| n.contains("unique ID")), "{d:?}");
}

#[test]
fn cross_account_needs_identity_side() {
    let d = eval(&request(None), &runbook_trust(""), &[]);
    assert_eq!(d.outcome, Outcome::ImplicitDeny);
    assert!(d.notes.iter().any(|n| n.contains("cross-account")), "{d:?}");
    let other_resource = policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::333333333333:role/*"}]}"#,
    );
    assert_eq!(eval(&request(None), &runbook_trust(""), &[&other_resource]).outcome, Outcome::ImplicitDeny);
}

#[test]
fn identity_wildcards_in_action_and_resource() {
    let wild = policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"STS:assume*","Resource":"arn:aws:iam::2222222222??:role/control-plane.*"}]}"#,
    );
    assert!(eval(&request(None), &runbook_trust(""), &[&wild]).is_allowed());
    let not_action = policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"s3:*","NotResource":"arn:aws:iam::*:role/admin"}]}"#,
    );
    assert!(eval(&request(None), &runbook_trust(""), &[&not_action]).is_allowed());
    let wrong_action = policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRoleWithSAML","Resource":"*"}]}"#,
    );
    assert!(!eval(&request(None), &runbook_trust(""), &[&wrong_action]).is_allowed());
}

#[test]
fn account_principal_needs_identity_policy_even_same_account() {
    let trust = policy(&format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{TARGET}"}},"Action":"sts:AssumeRole"}}]}}"#
    ));
    let same = AssumeRoleRequest { principal_arn: format!("arn:aws:iam::{TARGET}:role/ops"), ..Default::default() };
    let d = evaluate_assume_role(&same, &role_arn(TARGET), &trust, &[]);
    assert_eq!(d.outcome, Outcome::ImplicitDeny, "{d:?}");
    let ident = runbook_identity();
    let d = evaluate_assume_role(&same, &role_arn(TARGET), &trust, &[NamedPolicy { name: "p", policy: &ident }]);
    assert!(d.is_allowed(), "{d:?}");
    let root = policy(&format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{SOURCE}:root"}},"Action":"sts:AssumeRole","Condition":{{"ArnEquals":{{"aws:PrincipalArn":"{}"}}}}}}]}}"#,
        role_arn(SOURCE)
    ));
    assert!(eval(&request(None), &root, &[&runbook_identity()]).is_allowed());
    let other = AssumeRoleRequest { principal_arn: format!("arn:aws:iam::{SOURCE}:role/other"), ..Default::default() };
    assert!(!eval(&other, &root, &[&runbook_identity()]).is_allowed());
}

#[test]
fn same_account_direct_trust_suffices() {
    let same = AssumeRoleRequest { principal_arn: format!("arn:aws:iam::{TARGET}:role/ops"), ..Default::default() };
    let trust = policy(&format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{TARGET}:role/ops"}},"Action":"sts:AssumeRole"}}]}}"#
    ));
    let d = evaluate_assume_role(&same, &role_arn(TARGET), &trust, &[]);
    assert!(d.is_allowed(), "{d:?}");
    assert_eq!(d.deciding.len(), 1);
}

#[test]
fn wildcard_principal_and_not_principal() {
    let star = policy(r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}"#);
    assert!(eval(&request(None), &star, &[&runbook_identity()]).is_allowed());
    let aws_star = policy(r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#);
    assert!(eval(&request(None), &aws_star, &[&runbook_identity()]).is_allowed());
    let service_only = policy(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
    );
    assert!(!eval(&request(None), &service_only, &[&runbook_identity()]).is_allowed());
    let deny_others = policy(&format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}},{{"Effect":"Deny","NotPrincipal":{{"AWS":"{}"}},"Action":"sts:AssumeRole"}}]}}"#,
        role_arn(SOURCE)
    ));
    assert!(eval(&request(None), &deny_others, &[&runbook_identity()]).is_allowed());
    let other = AssumeRoleRequest { principal_arn: format!("arn:aws:iam::{SOURCE}:role/x"), ..Default::default() };
    assert_eq!(eval(&other, &deny_others, &[&runbook_identity()]).outcome, Outcome::ExplicitDeny);
}

#[test]
fn org_and_account_condition_keys() {
    let trust = policy(
        r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc","aws:PrincipalAccount":["111111111111","333333333333"]},"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/control-plane.*"}}}]}"#,
    );
    let mut req = request(None);
    assert!(!eval(&req, &trust, &[&runbook_identity()]).is_allowed());
    req.principal_org_id = Some("o-abc".into());
    assert!(eval(&req, &trust, &[&runbook_identity()]).is_allowed());
    let resource_org = policy(
        r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:ResourceOrgID":"${aws:PrincipalOrgID}"}}}]}"#,
    );
    let d = eval(&req, &resource_org, &[&runbook_identity()]);
    assert!(!d.is_allowed());
    assert!(d.notes.iter().any(|n| n.contains("literally")), "{d:?}");
}

#[test]
fn condition_operator_semantics() {
    let mut ctx = Ctx {
        principal_arn: role_arn(SOURCE),
        principal_account: SOURCE.into(),
        role_arn: "arn:aws:iam::222222222222:role/x",
        req: &AssumeRoleRequest { external_id: Some("Ab".into()), ..Default::default() },
        notes: Vec::new(),
        pending: Vec::new(),
    };
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let arn = role_arn(SOURCE);
    assert!(ctx.clause_holds("StringEquals", "sts:ExternalId", &v(&["x", "Ab"])));
    assert!(ctx.clause_holds("StringEquals", "STS:EXTERNALID", &v(&["Ab"])));
    assert!(!ctx.clause_holds("StringEquals", "sts:ExternalId", &v(&["ab"])));
    assert!(ctx.clause_holds("StringEqualsIgnoreCase", "sts:ExternalId", &v(&["ab"])));
    assert!(!ctx.clause_holds("StringNotEquals", "sts:ExternalId", &v(&["Ab"])));
    assert!(ctx.clause_holds("StringNotEqualsIgnoreCase", "sts:ExternalId", &v(&["zz"])));
    assert!(ctx.clause_holds("StringLike", "sts:ExternalId", &v(&["A?"])));
    assert!(!ctx.clause_holds("StringNotLike", "sts:ExternalId", &v(&["A*"])));
    assert!(ctx.clause_holds("ArnEquals", "aws:PrincipalArn", &v(&[&arn])));
    assert!(ctx.clause_holds("ArnLike", "aws:PrincipalArn", &v(&["arn:aws:iam::*:role/control-plane.*"])));
    assert!(!ctx.clause_holds("ArnLike", "aws:PrincipalArn", &v(&["arn:aws:iam::*:user/*"])));
    assert!(ctx.clause_holds("ArnNotEquals", "aws:PrincipalArn", &v(&["arn:aws:iam::1:role/x"])));
    assert!(!ctx.clause_holds("ArnNotLike", "aws:PrincipalArn", &v(&["arn:aws:iam::111111111111:role/*"])));
    // Missing keys: positive false, negated true, IfExists true, Null.
    assert!(!ctx.clause_holds("StringEquals", "aws:PrincipalOrgID", &v(&["o-1"])));
    assert!(ctx.clause_holds("StringNotEquals", "aws:PrincipalOrgID", &v(&["o-1"])));
    assert!(ctx.clause_holds("StringEqualsIfExists", "aws:PrincipalOrgID", &v(&["o-1"])));
    assert!(!ctx.clause_holds("StringEqualsIfExists", "sts:ExternalId", &v(&["nope"])));
    assert!(ctx.clause_holds("Null", "aws:PrincipalOrgID", &v(&["true"])));
    assert!(!ctx.clause_holds("Null", "sts:ExternalId", &v(&["true"])));
    assert!(ctx.clause_holds("Null", "sts:ExternalId", &v(&["false"])));
    // Set operators.
    assert!(ctx.clause_holds("ForAnyValue:StringEquals", "sts:ExternalId", &v(&["Ab", "c"])));
    assert!(!ctx.clause_holds("ForAnyValue:StringEquals", "aws:PrincipalOrgID", &v(&["o"])));
    assert!(ctx.clause_holds("ForAllValues:StringLike", "sts:ExternalId", &v(&["A*"])));
    assert!(ctx.clause_holds("ForAllValues:StringEquals", "aws:PrincipalOrgID", &v(&["o"])));
    assert!(!ctx.clause_holds("ForAllValues:StringEquals", "sts:ExternalId", &v(&["zz"])));
    // Bool.
    assert!(!ctx.clause_holds("Bool", "aws:MultiFactorAuthPresent", &v(&["true"])));
    assert!(ctx.notes.iter().any(|n| n.contains("aws:MultiFactorAuthPresent")));
    // Unknown operator.
    assert!(!ctx.clause_holds("NumericLessThan", "sts:ExternalId", &v(&["3"])));
    assert!(ctx.notes.iter().any(|n| n.contains("`NumericLessThan` is not supported")));
}

#[test]
fn session_arn_maps_to_role() {
    let req = AssumeRoleRequest {
        principal_arn: format!("arn:aws:sts::{SOURCE}:assumed-role/{ROLE}/i-0abc"),
        ..Default::default()
    };
    let d = eval(&req, &runbook_trust(""), &[&runbook_identity()]);
    assert!(d.is_allowed(), "{d:?}");
    assert!(d.notes.iter().any(|n| n.contains("is a session")));
}

#[test]
fn glob_and_arn_helpers() {
    assert!(glob_match("*", "", false));
    assert!(glob_match("a*b?d", "axxbcd", false));
    assert!(!glob_match("a*b?d", "axxbd", false));
    assert!(glob_match("s3:Get*", "S3:GETOBJECT", true));
    assert!(!glob_match("s3:Get*", "S3:GETOBJECT", false));
    assert!(action_matches("sts:*", "sts:AssumeRole"));
    assert!(arn_match("arn:aws:iam::*:role/*", "arn:aws:iam::1:role/a/b"));
    assert!(!arn_match("arn:aws:iam::*:role/*", "arn:aws:iam::1:user/a"));
    assert!(!arn_match("arn:*", "arn:aws:iam::1:role/a"));
    assert_eq!(arn_account("arn:aws:iam::123456789012:role/x"), Some("123456789012"));
    assert_eq!(arn_account("nope"), None);
}
