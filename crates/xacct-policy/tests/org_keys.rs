//! `aws:ResourceOrgID` / `aws:ResourceOrgPaths` (and the principal's) as the `organization` and
//! `org_paths` grants use them, and keys whose value is not known: never allowed, "not proven"
//! with the reason whenever the outcome hinges on them.

use serde_json::{json, Value};
use xacct_policy::{evaluate_assume_role, AssumeRoleRequest, Decision, NamedPolicy, Outcome, Policy, UnknownKey};

const SOURCE: &str = "111111111111";
const TARGET: &str = "222222222222";
const ROLE: &str = "control-plane.cluster-api-provider-aws.sigs.k8s.io";
const ORG: &str = "o-a1b2c3d4e5";
const PROD: &str = "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/";
const TEAM: &str = "o-a1b2c3d4e5/r-ab12/ou-ab12-22222222/ou-ab12-33333333/";

fn role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/{ROLE}")
}

fn policy(v: Value) -> Policy {
    Policy::from_value(&v).unwrap()
}

/// The runbook's trust statement on the workload role.
fn trust() -> Policy {
    policy(json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "XacctTrust", "Effect": "Allow", "Principal": {"AWS": role_arn(SOURCE)}, "Action": "sts:AssumeRole"}]}))
}

/// The management role's inline policy xacct writes for `grant: { org_paths: [PROD, TEAM] }`.
fn org_paths_grant() -> Policy {
    policy(json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "XacctAssumeWorkloadRoles", "Effect": "Allow", "Action": "sts:AssumeRole",
        "Resource": [format!("arn:aws:iam::*:role/{ROLE}")],
        "Condition": {"ForAnyValue:StringLike": {"aws:ResourceOrgPaths": [format!("{PROD}*"), format!("{TEAM}*")]}},
    }]}))
}

/// … and for `grant: { organization: ORG }`.
fn organization_grant() -> Policy {
    policy(json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "XacctAssumeWorkloadRoles", "Effect": "Allow", "Action": "sts:AssumeRole",
        "Resource": [format!("arn:aws:iam::*:role/{ROLE}")],
        "Condition": {"StringEquals": {"aws:ResourceOrgID": ORG}},
    }]}))
}

fn decide(req: &AssumeRoleRequest, identity: &[&Policy]) -> Decision {
    let named: Vec<NamedPolicy<'_>> =
        identity.iter().enumerate().map(|(i, p)| NamedPolicy { name: ["assume", "guard"][i], policy: p }).collect();
    evaluate_assume_role(req, &role_arn(TARGET), &trust(), &named)
}

/// The workload account at `path` (in the organization the path starts with).
fn at(path: &str) -> AssumeRoleRequest {
    AssumeRoleRequest {
        principal_arn: role_arn(SOURCE),
        resource_org_id: Some(path.split('/').next().unwrap().to_string()),
        resource_org_paths: Some(vec![path.to_string()]),
        ..Default::default()
    }
}

fn unknown(key: &str, prefix: &str) -> UnknownKey {
    UnknownKey {
        key: key.into(),
        reason: "Organizations could not be read: access denied".into(),
        prefix: prefix.into(),
    }
}

#[test]
fn org_paths_grant_allows_accounts_under_a_path_and_nowhere_else() {
    let grant = org_paths_grant();
    for path in [PROD, TEAM, &format!("{PROD}ou-ab12-44444444/"), &format!("{TEAM}ou-ab12-55555555/")] {
        let d = decide(&at(path), &[&grant]);
        assert_eq!(d.outcome, Outcome::Allowed, "{path}: {d:?}");
        assert_eq!(d.deciding.len(), 2, "trust and grant: {d:?}");
        assert!(d.notes.is_empty(), "{path}: exact, nothing approximated: {d:?}");
    }
    // Moved out of the path: under the root, in a sibling OU, or the parent of a listed OU.
    for path in
        ["o-a1b2c3d4e5/r-ab12/", "o-a1b2c3d4e5/r-ab12/ou-ab12-99999999/", "o-a1b2c3d4e5/r-ab12/ou-ab12-22222222/"]
    {
        let d = decide(&at(path), &[&grant]);
        assert_eq!(d.outcome, Outcome::ImplicitDeny, "{path}: {d:?}");
        assert!(d.notes.iter().any(|n| n.contains("cross-account: no identity policy")), "{d:?}");
    }
    // The same OU IDs in another organization, and an account in no organization.
    let d = decide(&at("o-zzzzzzzzzz/r-ab12/ou-ab12-11111111/"), &[&grant]);
    assert_eq!(d.outcome, Outcome::ImplicitDeny, "{d:?}");
    let nowhere = AssumeRoleRequest { principal_arn: role_arn(SOURCE), ..Default::default() };
    assert_eq!(decide(&nowhere, &[&grant]).outcome, Outcome::ImplicitDeny);
}

#[test]
fn organization_grant_allows_its_organization_only() {
    let grant = organization_grant();
    assert_eq!(decide(&at(PROD), &[&grant]).outcome, Outcome::Allowed);
    assert_eq!(decide(&at("o-zzzzzzzzzz/r-zz12/"), &[&grant]).outcome, Outcome::ImplicitDeny);
    let nowhere = AssumeRoleRequest { principal_arn: role_arn(SOURCE), ..Default::default() };
    assert_eq!(decide(&nowhere, &[&grant]).outcome, Outcome::ImplicitDeny);
}

#[test]
fn an_unknown_key_the_outcome_hinges_on_is_not_proven_with_the_reason() {
    let req = AssumeRoleRequest {
        principal_arn: role_arn(SOURCE),
        unknown_keys: vec![unknown("aws:ResourceOrgPaths", ""), unknown("aws:ResourceOrgID", "")],
        ..Default::default()
    };
    for grant in [org_paths_grant(), organization_grant()] {
        let d = decide(&req, &[&grant]);
        assert_eq!(d.outcome, Outcome::NotProven, "{d:?}");
        assert!(!d.is_allowed());
        assert_eq!(d.deciding.len(), 1, "the grant statement: {d:?}");
        assert_eq!(d.deciding[0].policy, "assume");
        let note = d.notes.iter().find(|n| n.starts_with("not proven:")).expect("a not-proven note");
        assert!(note.contains("is an Allow that may apply"), "{note}");
        assert!(note.contains("is not known (Organizations could not be read: access denied)"), "{note}");
        assert!(!d.notes.iter().any(|n| n.contains("not modelled")), "{d:?}");
    }
    // Keys are matched case-insensitively, and an unknown key overrides a value given beside it.
    let req = AssumeRoleRequest { unknown_keys: vec![unknown("AWS:RESOURCEORGPATHS", "")], ..at(PROD) };
    assert_eq!(decide(&req, &[&org_paths_grant()]).outcome, Outcome::NotProven);
}

#[test]
fn an_unknown_key_the_outcome_does_not_hinge_on_decides_nothing() {
    let req = AssumeRoleRequest {
        principal_arn: role_arn(SOURCE),
        unknown_keys: vec![unknown("aws:ResourceOrgPaths", "")],
        ..Default::default()
    };
    // Another identity statement allows the role by ARN: proven allowed whatever the paths are.
    let by_arn = policy(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn(TARGET)}]}));
    let d = decide(&req, &[&org_paths_grant(), &by_arn]);
    assert_eq!(d.outcome, Outcome::Allowed, "{d:?}");
    // A trust that does not name the caller: denied whatever the paths are.
    let foreign = policy(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}));
    let grant = org_paths_grant();
    let d = evaluate_assume_role(&req, &role_arn(TARGET), &foreign, &[NamedPolicy { name: "assume", policy: &grant }]);
    assert_eq!(d.outcome, Outcome::ImplicitDeny, "{d:?}");
}

#[test]
fn a_deny_that_may_apply_leaves_an_allow_not_proven() {
    let by_arn = policy(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn(TARGET)}]}));
    let guard = policy(json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "OnlyOurOrg", "Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:ResourceOrgID": ORG}},
    }]}));
    let req = AssumeRoleRequest {
        principal_arn: role_arn(SOURCE),
        unknown_keys: vec![unknown("aws:ResourceOrgID", "")],
        ..Default::default()
    };
    let d = decide(&req, &[&by_arn, &guard]);
    assert_eq!(d.outcome, Outcome::NotProven, "{d:?}");
    assert!(
        d.notes.iter().any(|n| n.contains("`guard` statement 0 (Sid `OnlyOurOrg`) is a Deny that may apply")),
        "{d:?}"
    );
    // Known: inside the deny does not apply, outside it does.
    assert_eq!(decide(&at(PROD), &[&by_arn, &guard]).outcome, Outcome::Allowed);
    assert_eq!(decide(&at("o-zzzzzzzzzz/r-zz12/"), &[&by_arn, &guard]).outcome, Outcome::ExplicitDeny);
}

#[test]
fn a_known_organization_decides_paths_whose_ous_cannot_be_read() {
    // The account is in another organization than the one the grant names: its paths all start
    // with that organization's ID, so no pattern of the grant can match them.
    let elsewhere = AssumeRoleRequest {
        principal_arn: role_arn(SOURCE),
        resource_org_id: Some("o-zzzzzzzzzz".into()),
        unknown_keys: vec![unknown("aws:ResourceOrgPaths", "o-zzzzzzzzzz/")],
        ..Default::default()
    };
    assert_eq!(decide(&elsewhere, &[&org_paths_grant()]).outcome, Outcome::ImplicitDeny);
    // In the grant's organization, the rest of the path decides: not proven.
    let inside = AssumeRoleRequest {
        principal_arn: role_arn(SOURCE),
        resource_org_id: Some(ORG.into()),
        unknown_keys: vec![unknown("aws:ResourceOrgPaths", &format!("{ORG}/"))],
        ..Default::default()
    };
    assert_eq!(decide(&inside, &[&org_paths_grant()]).outcome, Outcome::NotProven);
    // A whole-organization pattern is decided by the prefix.
    let whole = policy(json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*",
        "Condition": {"ForAnyValue:StringLike": {"aws:ResourceOrgPaths": format!("{ORG}/*")}},
    }]}));
    assert_eq!(decide(&inside, &[&whole]).outcome, Outcome::Allowed);
    assert_eq!(decide(&elsewhere, &[&whole]).outcome, Outcome::ImplicitDeny);
    // A known prefix means the key is present.
    let present = policy(json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*",
        "Condition": {"Null": {"aws:ResourceOrgPaths": "false"}},
    }]}));
    assert_eq!(decide(&elsewhere, &[&present]).outcome, Outcome::Allowed);
    let no_prefix = AssumeRoleRequest { unknown_keys: vec![unknown("aws:ResourceOrgPaths", "")], ..elsewhere.clone() };
    assert_eq!(decide(&no_prefix, &[&present]).outcome, Outcome::NotProven);
}

#[test]
fn principal_org_keys() {
    let trust = policy(json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
        "Condition": {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": format!("{PROD}*")}},
    }]}));
    let grant = policy(json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn(TARGET)}]}));
    let named = [NamedPolicy { name: "assume", policy: &grant }];
    let caller = |paths: Option<Vec<String>>| AssumeRoleRequest {
        principal_arn: role_arn(SOURCE),
        principal_org_paths: paths,
        ..Default::default()
    };
    let d = evaluate_assume_role(&caller(Some(vec![PROD.into()])), &role_arn(TARGET), &trust, &named);
    assert_eq!(d.outcome, Outcome::Allowed, "{d:?}");
    let d = evaluate_assume_role(&caller(Some(vec![TEAM.into()])), &role_arn(TARGET), &trust, &named);
    assert_eq!(d.outcome, Outcome::ImplicitDeny, "{d:?}");
    let d = evaluate_assume_role(&caller(None), &role_arn(TARGET), &trust, &named);
    assert_eq!(d.outcome, Outcome::ImplicitDeny, "{d:?}");
}
