//! IAM policy documents for xacct.
mod canonical;
mod decode;
mod edit;
mod error;
mod model;
mod size;

pub use canonical::{equivalent, equivalent_text, normalize_aws_principal};
pub use decode::{decode_document, is_percent_encoded};
pub use edit::{
    find_equivalent_statement, find_statement, insert_statement, parse_document, remove_statement,
    statements, to_document_text, upsert_statement,
};
pub use error::{PolicyError, Result};
pub use model::{
    is_unique_id, parse_effect, parse_json, unique_id_principals, ConditionClause, Effect, Policy,
    Principal, PrincipalType, Statement, VERSION_2008, VERSION_2012,
};
pub use size::{
    check_size, iam_size, inline_policies_size, MANAGED_POLICY_QUOTA, ROLE_INLINE_POLICIES_QUOTA,
    TRUST_POLICY_DEFAULT_QUOTA, TRUST_POLICY_MAX_QUOTA,
};
