//! Size quotas at their exact boundaries, and which findings make a document unusable.

use serde_json::json;
use xacct_policy::{
    has_errors, iam_size, validate, Finding, PolicyKind, Severity, ROLE_INLINE_POLICIES_QUOTA,
    TRUST_POLICY_DEFAULT_QUOTA, TRUST_POLICY_MAX_QUOTA,
};

/// A valid document of exactly `size` IAM characters (padded in the `Sid`).
fn sized(kind: PolicyKind, size: usize) -> String {
    let doc = |pad: usize| {
        let sid = "A".repeat(pad);
        match kind {
            PolicyKind::Trust => json!({"Version": "2012-10-17", "Statement": [{"Sid": sid, "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:role/r"}, "Action": "sts:AssumeRole"}]}),
            PolicyKind::Identity => json!({"Version": "2012-10-17", "Statement": [{"Sid": sid, "Effect": "Allow",
                "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::222222222222:role/r"}]}),
        }
        .to_string()
    };
    let text = doc(size - iam_size(&doc(0)));
    assert_eq!(iam_size(&text), size);
    text
}

fn size_findings(kind: PolicyKind, size: usize) -> Vec<(Severity, &'static str)> {
    validate(&sized(kind, size), kind)
        .into_iter()
        .filter(|f| f.code.starts_with("SIZE_"))
        .map(|f| (f.severity, f.code))
        .collect()
}

#[test]
fn trust_policy_quotas_allow_their_exact_size() {
    assert_eq!(size_findings(PolicyKind::Trust, TRUST_POLICY_DEFAULT_QUOTA), []);
    assert_eq!(
        size_findings(PolicyKind::Trust, TRUST_POLICY_DEFAULT_QUOTA + 1),
        [(Severity::Warning, "SIZE_EXCEEDS_DEFAULT_QUOTA")]
    );
    assert_eq!(
        size_findings(PolicyKind::Trust, TRUST_POLICY_MAX_QUOTA),
        [(Severity::Warning, "SIZE_EXCEEDS_DEFAULT_QUOTA")]
    );
    assert_eq!(size_findings(PolicyKind::Trust, TRUST_POLICY_MAX_QUOTA + 1), [(Severity::Error, "SIZE_EXCEEDS_QUOTA")]);
}

#[test]
fn inline_policy_quota_allows_its_exact_size() {
    assert_eq!(size_findings(PolicyKind::Identity, TRUST_POLICY_MAX_QUOTA + 1), []);
    assert_eq!(size_findings(PolicyKind::Identity, ROLE_INLINE_POLICIES_QUOTA - 1), []);
    assert_eq!(size_findings(PolicyKind::Identity, ROLE_INLINE_POLICIES_QUOTA), []);
    assert_eq!(
        size_findings(PolicyKind::Identity, ROLE_INLINE_POLICIES_QUOTA + 1),
        [(Severity::Error, "SIZE_EXCEEDS_QUOTA")]
    );
}

#[test]
fn only_errors_make_a_document_unusable() {
    let over_default = validate(&sized(PolicyKind::Trust, TRUST_POLICY_DEFAULT_QUOTA + 1), PolicyKind::Trust);
    assert!(!over_default.is_empty());
    assert!(over_default.iter().all(|f| f.severity != Severity::Error), "{over_default:?}");
    assert!(!has_errors(&over_default));
    assert!(has_errors(&validate(&sized(PolicyKind::Trust, TRUST_POLICY_MAX_QUOTA + 1), PolicyKind::Trust)));
    assert!(!has_errors(&[]));
    let finding = |severity| Finding { severity, code: "X", message: String::new(), path: String::new() };
    for severity in [Severity::SecurityWarning, Severity::Warning, Severity::Suggestion] {
        assert!(!has_errors(&[finding(severity)]));
        assert!(has_errors(&[finding(severity), finding(Severity::Error)]));
    }
}

fn findings(doc: serde_json::Value, kind: PolicyKind) -> Vec<(Severity, &'static str, String, String)> {
    validate(&doc.to_string(), kind).into_iter().map(|f| (f.severity, f.code, f.path, f.message)).collect()
}

const TRUSTING: &str = "arn:aws:iam::111111111111:role/r";

fn trust_statement() -> serde_json::Value {
    json!({"Effect": "Allow", "Principal": {"AWS": TRUSTING}, "Action": "sts:AssumeRole"})
}

#[test]
fn version_and_id_findings_say_what_was_found() {
    assert_eq!(
        findings(json!({"Version": "2013-01-01", "Id": 5, "Statement": [trust_statement()]}), PolicyKind::Trust),
        [
            (
                Severity::Error,
                "INVALID_VERSION",
                "Version".to_string(),
                "expected `2012-10-17` or `2008-10-17`, found `2013-01-01`".to_string()
            ),
            (Severity::Error, "INVALID_ELEMENT", "Id".to_string(), "expected a string, found a number".to_string()),
        ]
    );
    assert_eq!(
        findings(json!({"Version": 7, "Id": "x", "Statement": [trust_statement()]}), PolicyKind::Trust),
        [(
            Severity::Error,
            "INVALID_VERSION",
            "Version".to_string(),
            "expected `2012-10-17` or `2008-10-17`, found a number".to_string()
        )]
    );
    assert_eq!(
        findings(json!({"Version": "2012-10-17", "Id": "x", "Statement": [trust_statement()]}), PolicyKind::Trust),
        []
    );
}

#[test]
fn an_element_that_does_not_parse_is_reported_once_beside_other_findings() {
    let mut bad = trust_statement();
    bad["Condition"] = json!({"StringEquals": {"sts:ExternalId": null}});
    let f = findings(json!({"Statement": [bad]}), PolicyKind::Trust);
    assert_eq!(f.iter().map(|x| x.1).collect::<Vec<_>>(), ["MISSING_VERSION", "INVALID_ELEMENT"], "{f:#?}");
    assert_eq!(f[1].2, "Statement[0].Condition.StringEquals.sts:ExternalId");
    assert_eq!(f[1].3, "expected a string, boolean or number, found null");

    let mut bad = trust_statement();
    bad["Principal"] = json!({"AWS": 5});
    let f = findings(json!({"Version": "2012-10-17", "Statement": [bad]}), PolicyKind::Trust);
    assert_eq!(
        f,
        [(
            Severity::Error,
            "INVALID_ELEMENT",
            "Statement[0].Principal.AWS".to_string(),
            "expected a string or an array of strings, found a number".to_string()
        )]
    );
}

fn codes_for(stmt: serde_json::Value) -> Vec<&'static str> {
    validate(&json!({"Version": "2012-10-17", "Statement": [stmt]}).to_string(), PolicyKind::Trust)
        .into_iter()
        .map(|f| f.code)
        .collect()
}

fn with_condition(effect: &str, action: &str, condition: serde_json::Value) -> serde_json::Value {
    json!({"Effect": effect, "Principal": {"AWS": TRUSTING}, "Action": action, "Condition": condition})
}

#[test]
fn conditions_capa_cannot_meet_are_flagged_only_where_they_block_assume_role() {
    let source = |op: &str, v: &str| json!({op: {"sts:SourceIdentity": v}});
    let blocks = ["REQUIRES_SOURCE_IDENTITY"];
    assert_eq!(codes_for(with_condition("Allow", "sts:AssumeRole", source("StringLike", "*"))), blocks);
    // A value that reads `true` is still a value to match, unless the operator is `Null`.
    assert_eq!(codes_for(with_condition("Allow", "sts:AssumeRole", source("StringEquals", "true"))), blocks);
    assert_eq!(codes_for(with_condition("Allow", "sts:AssumeRole", source("Null", "false"))), blocks);
    assert!(codes_for(with_condition("Allow", "sts:AssumeRole", source("Null", "true"))).is_empty());
    // A deny, or an allow of another action, does not stop CAPA assuming the role.
    assert!(!codes_for(with_condition("Deny", "sts:AssumeRole", source("StringLike", "*"))).contains(&blocks[0]));
    assert!(!codes_for(with_condition("Allow", "sts:TagSession", source("StringLike", "*"))).contains(&blocks[0]));

    let tags = ["REQUIRES_SESSION_TAGS"];
    assert_eq!(
        codes_for(with_condition(
            "Allow",
            "sts:AssumeRole",
            json!({"ForAllValues:StringEquals": {"aws:TagKeys": "team"}})
        )),
        tags
    );
    assert_eq!(
        codes_for(with_condition("Allow", "sts:AssumeRole", json!({"StringEquals": {"aws:RequestTag/team": "x"}}))),
        tags
    );
    assert!(codes_for(with_condition("Allow", "sts:AssumeRole", json!({"StringEquals": {"sts:ExternalId": "x"}})))
        .is_empty());
    assert!(codes_for(with_condition(
        "Allow",
        "sts:AssumeRole",
        json!({"StringEquals": {"aws:PrincipalTag/team": "x"}})
    ))
    .is_empty());
}
