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
