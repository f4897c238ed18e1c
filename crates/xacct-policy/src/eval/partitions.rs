//! The evaluator in every partition: the account root and the session → role mapping follow
//! the caller's partition, never `aws` alone.

use super::*;

const SOURCE: &str = "111111111111";
const TARGET: &str = "222222222222";
const ROLE: &str = "control-plane.cluster-api-provider-aws.sigs.k8s.io";
const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

fn role(partition: &str, acct: &str, name: &str) -> String {
    format!("arn:{partition}:iam::{acct}:role/{name}")
}

fn policy(text: &str) -> Policy {
    Policy::parse(text).unwrap()
}

/// A trust of `principal` (a JSON value), with `condition` (JSON, or empty).
fn trust(principal: &str, condition: &str) -> Policy {
    let condition = if condition.is_empty() { String::new() } else { format!(r#","Condition":{condition}"#) };
    policy(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"Capa","Effect":"Allow","Principal":{{"AWS":{principal}}},"Action":"sts:AssumeRole"{condition}}}]}}"#
    ))
}

/// An identity policy allowing `sts:AssumeRole` on every role of `partition`.
fn assume_any_role(partition: &str) -> Policy {
    policy(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:{partition}:iam::*:role/*"}}]}}"#
    ))
}

fn decide(caller: &str, target_partition: &str, trust: &Policy) -> Decision {
    let identity = assume_any_role(target_partition);
    let named = [NamedPolicy { name: "assume", policy: &identity }];
    let request = AssumeRoleRequest { principal_arn: caller.into(), ..Default::default() };
    evaluate_assume_role(&request, &role(target_partition, TARGET, ROLE), trust, &named)
}

#[test]
fn an_account_root_trust_with_a_principal_arn_condition_admits_only_that_role() {
    for p in PARTITIONS {
        let capa = role(p, SOURCE, ROLE);
        let t = trust(
            &format!(r#""arn:{p}:iam::{SOURCE}:root""#),
            &format!(r#"{{"ArnEquals":{{"aws:PrincipalArn":"{capa}"}}}}"#),
        );
        let d = decide(&capa, p, &t);
        assert_eq!(d.outcome, Outcome::Allowed, "{p}: {d:?}");
        assert_eq!(d.deciding.len(), 2, "the trust statement and the identity statement: {d:?}");
        let d = decide(&role(p, SOURCE, "ci-runner"), p, &t);
        assert_eq!(d.outcome, Outcome::ImplicitDeny, "{p}: another role of the account: {d:?}");
    }
}

#[test]
fn a_bare_account_trusts_the_account_in_the_callers_partition() {
    for p in PARTITIONS {
        let d = decide(&role(p, SOURCE, ROLE), p, &trust(&format!(r#""{SOURCE}""#), ""));
        assert_eq!(d.outcome, Outcome::Allowed, "{p}: {d:?}");
        let d = decide(&role(p, TARGET, "other"), p, &trust(&format!(r#""{SOURCE}""#), ""));
        assert_eq!(d.outcome, Outcome::ImplicitDeny, "{p}: another account: {d:?}");
    }
}

#[test]
fn an_account_root_of_another_partition_is_another_principal() {
    for p in PARTITIONS {
        for q in PARTITIONS.into_iter().filter(|q| *q != p) {
            let t = trust(&format!(r#""arn:{q}:iam::{SOURCE}:root""#), "");
            let d = decide(&role(p, SOURCE, ROLE), p, &t);
            assert_eq!(d.outcome, Outcome::ImplicitDeny, "a {p} caller, a {q} root: {d:?}");
        }
    }
}

#[test]
fn a_session_is_evaluated_as_its_role_in_its_partition() {
    for p in PARTITIONS {
        let capa = role(p, SOURCE, ROLE);
        let session = format!("arn:{p}:sts::{SOURCE}:assumed-role/{ROLE}/capa-session");
        let d = decide(&session, p, &trust(&format!(r#""{capa}""#), ""));
        assert_eq!(d.outcome, Outcome::Allowed, "{p}: {d:?}");
        assert!(d.notes.iter().any(|n| n.contains(&format!("evaluated as its role `{capa}`"))), "{p}: {d:?}");
        // The root with a PrincipalArn condition sees the role's ARN, not the session's.
        let t = trust(
            &format!(r#""arn:{p}:iam::{SOURCE}:root""#),
            &format!(r#"{{"ArnEquals":{{"aws:PrincipalArn":"{capa}"}}}}"#),
        );
        assert_eq!(decide(&session, p, &t).outcome, Outcome::Allowed, "{p}");
    }
}

#[test]
fn a_session_like_arn_that_is_not_one_is_left_alone() {
    for odd in ["arn::sts::111111111111:assumed-role/r/s", "xarn:aws:sts::111111111111:assumed-role/r/s"] {
        let request = AssumeRoleRequest { principal_arn: odd.into(), ..Default::default() };
        let d = evaluate_assume_role(&request, &role("aws", TARGET, ROLE), &trust(r#""*""#, ""), &[]);
        assert!(!d.notes.iter().any(|n| n.contains("is a session")), "{odd}: {d:?}");
    }
}

#[test]
fn only_a_whole_arn_names_a_partition() {
    assert_eq!(arn_partition("arn:aws-cn:iam::111111111111:role/x"), Some("aws-cn"));
    assert_eq!(arn_partition("arn:aws-us-gov:sts::111111111111:assumed-role/r/s"), Some("aws-us-gov"));
    // Too few parts, another scheme, an empty partition: no partition.
    assert_eq!(arn_partition("arn:aws-cn:iam::111111111111"), None);
    assert_eq!(arn_partition("urn:aws-cn:iam::111111111111:role/x"), None);
    assert_eq!(arn_partition("arn::iam::111111111111:role/x"), None);
}
