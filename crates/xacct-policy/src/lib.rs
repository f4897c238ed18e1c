//! IAM policy documents for xacct: parse, canonical form and equivalence,
//! edits of xacct's own statement, size accounting, validation and a static
//! `sts:AssumeRole` evaluator.
//!
//! This crate owns the meaning of a policy document. It decides when two documents
//! are the same (the rules of hashicorp/awspolicyequivalence, so adoption and drift
//! never show a perpetual diff), how xacct inserts, replaces and removes the one
//! statement it owns while every foreign statement keeps its content and position,
//! how IAM counts size against its quotas, what IAM would reject, and whether a
//! trust chain lets a principal assume a role.
//!
//! It must not do I/O, call AWS or print: documents come in as text or
//! `serde_json::Value` and answers go out as values, typed errors ([`PolicyError`])
//! and [`Finding`]s. Documents read from IAM are URL-encoded: pass them through
//! [`decode_document`] (or use [`Policy::parse_encoded`] / [`parse_document`]).
//!
//! Modules: `model` (typed model and parsing), `canonical` (canonical form,
//! equivalence, in a partition or with the partition inferred), `diff` (statement
//! pairing: what changed between two documents), `edit` (owned-statement edits on JSON values), `size` (IAM size
//! accounting, quotas), `validate` (findings), `eval` (static evaluation),
//! `decode` (URL decoding), `locate` (path → line/column).
//!
//! ```
//! use serde_json::json;
//! use xacct_policy::{
//!     equivalent, evaluate_assume_role, parse_document, remove_statement, upsert_statement,
//!     validate, AssumeRoleRequest, NamedPolicy, Outcome, Policy, PolicyKind,
//! };
//!
//! // A target role's trust policy as IAM returns it (URL-encoded), with a foreign statement.
//! let live = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C\
//!             %22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%7D";
//! let doc = parse_document(live)?;
//!
//! // Add xacct's statement; the foreign one is untouched.
//! let source_role = "arn:aws:iam::111111111111:role/control-plane.cluster-api-provider-aws.sigs.k8s.io";
//! let ours = json!({"Sid": "XacctDev", "Effect": "Allow",
//!                   "Principal": {"AWS": source_role}, "Action": "sts:AssumeRole"});
//! let new_doc = upsert_statement(&doc, &ours)?;
//! assert_eq!(new_doc["Statement"][0], doc["Statement"]);
//! assert!(validate(&new_doc.to_string(), PolicyKind::Trust).is_empty());
//!
//! // The trust chain works once the source side allows it too.
//! let trust = Policy::from_value(&new_doc)?;
//! let target_role = "arn:aws:iam::222222222222:role/control-plane.cluster-api-provider-aws.sigs.k8s.io";
//! let identity = Policy::parse(&json!({"Version": "2012-10-17", "Statement": [
//!     {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": target_role}]}).to_string())?;
//! let request = AssumeRoleRequest { principal_arn: source_role.into(), ..Default::default() };
//! let decision = evaluate_assume_role(&request, target_role, &trust,
//!                                     &[NamedPolicy { name: "xacct-assume", policy: &identity }]);
//! assert_eq!(decision.outcome, Outcome::Allowed);
//!
//! // Removing it gives back an equivalent document.
//! let (back, removed) = remove_statement(&new_doc, "XacctDev")?;
//! assert_eq!(removed, Some(ours));
//! assert!(equivalent(&Policy::from_value(&back)?, &Policy::from_value(&doc)?));
//! # Ok::<(), xacct_policy::PolicyError>(())
//! ```

mod canonical;
mod decode;
mod diff;
mod edit;
mod error;
mod eval;
mod locate;
mod model;
mod size;
mod validate;

pub use canonical::{
    equivalent, equivalent_in, equivalent_text, equivalent_text_in, infer_partition, normalize_aws_principal,
    normalize_aws_principal_in, DEFAULT_PARTITION,
};
pub use decode::{decode_document, is_percent_encoded};
pub use diff::{diff_policies, DiffSide, ElementDiff, PolicyDiff};
pub use edit::{
    find_equivalent_statement, find_equivalent_statement_in, find_statement, insert_statement, parse_document,
    remove_statement, statements, to_document_text, upsert_statement,
};
pub use error::{PolicyError, Result};
pub use eval::{
    action_matches, arn_account, arn_match, evaluate_assume_role, glob_match, AssumeRoleRequest, Decision, NamedPolicy,
    Outcome, StatementRef, UnknownKey, ASSUME_ROLE, TRUST_POLICY_NAME,
};
pub use locate::locate;
pub use model::{
    is_unique_id, parse_effect, parse_json, unique_id_principals, ConditionClause, Effect, Policy, Principal,
    PrincipalType, Statement, VERSION_2008, VERSION_2012,
};
pub use size::{
    check_size, iam_size, inline_policies_size, MANAGED_POLICY_QUOTA, ROLE_INLINE_POLICIES_QUOTA,
    TRUST_POLICY_DEFAULT_QUOTA, TRUST_POLICY_MAX_QUOTA,
};
pub use validate::{has_errors, validate, validate_value, Finding, PolicyKind, Severity};
