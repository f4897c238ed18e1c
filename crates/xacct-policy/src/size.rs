//! Size accounting the way IAM counts it.
//!
//! IAM does not count whitespace outside JSON strings; every other character counts
//! (Unicode scalar values, not bytes). Check the decoded document, not IAM's
//! URL-encoded form.

use crate::error::{PolicyError, Result};

/// Default quota of one role's trust policy (`ACLSizePerRole`).
pub const TRUST_POLICY_DEFAULT_QUOTA: usize = 2_048;
/// Largest trust-policy quota AWS grants on request.
pub const TRUST_POLICY_MAX_QUOTA: usize = 4_096;
/// All inline policies of one role together.
pub const ROLE_INLINE_POLICIES_QUOTA: usize = 10_240;
/// One customer-managed policy.
pub const MANAGED_POLICY_QUOTA: usize = 6_144;

/// The size IAM charges for `doc_text`: characters, not counting whitespace outside strings.
pub fn iam_size(doc_text: &str) -> usize {
    let mut size = 0;
    let mut in_string = false;
    let mut escaped = false;
    for c in doc_text.chars() {
        if in_string {
            size += 1;
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            size += 1;
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            size += 1;
        }
    }
    size
}

/// The total IAM charges against [`ROLE_INLINE_POLICIES_QUOTA`] for a role's inline
/// policy documents.
pub fn inline_policies_size<'a>(docs: impl IntoIterator<Item = &'a str>) -> usize {
    docs.into_iter().map(iam_size).sum()
}

/// The document's size when it fits within `quota`, else [`PolicyError::TooLarge`].
pub fn check_size(doc_text: &str, quota: usize) -> Result<usize> {
    let size = iam_size(doc_text);
    if size > quota {
        Err(PolicyError::TooLarge { size, quota })
    } else {
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_outside_strings_not_counted() {
        assert_eq!(iam_size(r#"{"a":"b"}"#), 9);
        assert_eq!(iam_size("{ \"a\" :\n\t\"b\" }\r\n"), 9);
    }

    #[test]
    fn whitespace_inside_strings_counted() {
        assert_eq!(iam_size(r#"{"a":"b c"}"#), 11);
        assert_eq!(iam_size(r#"{"a":"q\" x"}"#), 13);
        assert_eq!(iam_size(r#"{"a":"\\" , "b":1}"#), 16);
    }

    #[test]
    fn characters_not_bytes() {
        assert_eq!(iam_size("\"é\""), 3);
    }

    #[test]
    fn quotas_and_checks() {
        let stmt = r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/control-plane.cluster-api-provider-aws.sigs.k8s.io"},"Action":"sts:AssumeRole"}"#;
        let doc = |n: usize| format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, vec![stmt; n].join(","));
        assert!(check_size(&doc(1), TRUST_POLICY_DEFAULT_QUOTA).is_ok());
        let err = check_size(&doc(20), TRUST_POLICY_DEFAULT_QUOTA).unwrap_err();
        assert!(matches!(err, PolicyError::TooLarge { quota: 2048, .. }), "{err}");
        assert_eq!(check_size("{}", 2), Ok(2));
        assert!(check_size("{ }", 2).is_ok());
        assert_eq!(inline_policies_size(["{}", "{ \"a\": 1 }"]), 9);
        assert_eq!(TRUST_POLICY_MAX_QUOTA, 4096);
        assert_eq!(MANAGED_POLICY_QUOTA, 6144);
        assert_eq!(ROLE_INLINE_POLICIES_QUOTA, 10240);
    }
}
