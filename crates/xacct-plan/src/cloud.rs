//! The `Cloud` interface: everything the planner and executor ask of live IAM.
//!
//! `xacct-aws` implements it against the real AWS SDK; [`MemoryCloud`](crate::memory::MemoryCloud)
//! implements it in memory for unit tests of the planner. Documents cross this boundary as decoded
//! JSON text (never URL-encoded).

use async_trait::async_trait;

/// A 12-digit AWS account ID.
pub type AccountId = str;

/// A role as read from IAM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveRole {
    pub arn: String,
    /// The role's unique ID (`AROA…`).
    pub role_id: String,
    /// The trust (assume-role) policy, URL-decoded JSON text.
    pub trust_policy: String,
    /// `MaxSessionDuration` in seconds.
    pub max_session_duration: i32,
}

/// Whether two documents are the same JSON value (key order and whitespace aside); text that
/// does not parse is compared trimmed.
pub fn same_document(a: &str, b: &str) -> bool {
    match (serde_json::from_str::<serde_json::Value>(a), serde_json::from_str::<serde_json::Value>(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a.trim() == b.trim(),
    }
}

/// [`same_document`], where `None` (absent) equals only `None`.
pub fn same_or_both_absent(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => same_document(a, b),
        _ => false,
    }
}

/// What a conflict-checked write does, decided on the document it has just read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteCheck {
    /// Live already is what would be written (a retried or repeated step): nothing to send.
    AlreadyDone,
    /// Live is still what the plan read: write.
    Write,
    /// Live changed since the plan read it: refuse.
    Conflict,
}

impl WriteCheck {
    /// Decide a write of `document` (`None` deletes) where the plan read `expected` (`None`:
    /// absent) and IAM now has `live`.
    pub fn decide(live: Option<&str>, expected: Option<&str>, document: Option<&str>) -> WriteCheck {
        if same_or_both_absent(live, document) {
            WriteCheck::AlreadyDone
        } else if same_or_both_absent(live, expected) {
            WriteCheck::Write
        } else {
            WriteCheck::Conflict
        }
    }

    /// [`WriteCheck::decide`] as every `Cloud` write uses it: `Ok(true)` to write, `Ok(false)`
    /// when live already is the document, a [`CloudError::Conflict`] on `what` otherwise.
    pub fn gate(
        live: Option<&str>,
        expected: Option<&str>,
        document: Option<&str>,
        what: impl FnOnce() -> String,
    ) -> Result<bool, CloudError> {
        match WriteCheck::decide(live, expected, document) {
            WriteCheck::AlreadyDone => Ok(false),
            WriteCheck::Write => Ok(true),
            WriteCheck::Conflict => Err(CloudError::Conflict { what: what() }),
        }
    }
}

/// Which live document a consistency wait or a conflict is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocRef {
    Trust { account: String, role: String },
    InlinePolicy { account: String, role: String, policy: String },
}

impl std::fmt::Display for DocRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DocRef::Trust { account, role } => write!(f, "trust policy of role `{role}` in account {account}"),
            DocRef::InlinePolicy { account, role, policy } => {
                write!(f, "inline policy `{policy}` of role `{role}` in account {account}")
            }
        }
    }
}

/// Errors from live IAM, worded so a user can act on them. Never carries credentials.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CloudError {
    #[error("{what} does not exist")]
    NoSuchEntity { what: String },
    #[error("access denied in account {account}: {principal} may not call `{action}`{}", hint_suffix(.message))]
    AccessDenied { account: String, principal: String, action: String, message: String },
    #[error("IAM rejected the policy document for {what}: {message}")]
    MalformedPolicy { what: String, message: String },
    #[error("IAM limit exceeded for {what}: {message}")]
    LimitExceeded { what: String, message: String },
    #[error("no usable credentials for account {account}: {message}")]
    Credentials { account: String, message: String },
    #[error("{what} changed since it was read; re-run `xacct plan`")]
    Conflict { what: String },
    #[error("{what} did not read back consistently within {seconds}s after the write")]
    NotConsistent { what: String, seconds: u64 },
    #[error("AWS throttled `{action}` in account {account} and retries ran out")]
    Throttled { account: String, action: String },
    #[error("`{action}` failed in account {account}: {message}")]
    Other { account: String, action: String, message: String },
}

fn hint_suffix(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(" ({message})")
    }
}

/// Live IAM, as the planner and executor see it.
///
/// Reads return `Ok(None)` for a missing entity. Writes take the document as it was last read
/// (`expected`, `None` meaning "absent") and refuse with [`CloudError::Conflict`] when a fresh read
/// shows it changed: IAM has no conditional writes, so every write is preceded by a read.
#[async_trait]
pub trait Cloud: Send + Sync {
    /// `GetRole`: ARN, unique ID, decoded trust policy, max session duration.
    async fn get_role(&self, account: &AccountId, role: &str) -> Result<Option<LiveRole>, CloudError>;
    /// `ListRolePolicies`: names of the role's inline policies.
    async fn list_role_policies(&self, account: &AccountId, role: &str) -> Result<Vec<String>, CloudError>;
    /// `GetRolePolicy`: one inline policy, decoded JSON text.
    async fn get_role_policy(
        &self,
        account: &AccountId,
        role: &str,
        policy: &str,
    ) -> Result<Option<String>, CloudError>;
    /// The account's trust-policy size quota (`AssumeRolePolicySizeQuota`), or 2048 when the
    /// account does not let us read it.
    async fn trust_policy_quota(&self, account: &AccountId) -> Result<usize, CloudError>;
    /// `UpdateAssumeRolePolicy`, after checking the live trust policy still equals `expected`.
    async fn update_trust_policy(
        &self,
        account: &AccountId,
        role: &str,
        expected: &str,
        document: &str,
    ) -> Result<(), CloudError>;
    /// `PutRolePolicy`, after checking the live inline policy still equals `expected`.
    async fn put_role_policy(
        &self,
        account: &AccountId,
        role: &str,
        policy: &str,
        expected: Option<&str>,
        document: &str,
    ) -> Result<(), CloudError>;
    /// `DeleteRolePolicy`, after checking the live inline policy still equals `expected`.
    async fn delete_role_policy(
        &self,
        account: &AccountId,
        role: &str,
        policy: &str,
        expected: &str,
    ) -> Result<(), CloudError>;
    /// Wait (bounded) until IAM reads back `document` (or absence, for `None`) consistently.
    async fn wait_consistent(&self, doc: &DocRef, document: Option<&str>) -> Result<(), CloudError>;
    /// How many AWS API calls this client has made so far (STS included).
    fn call_count(&self) -> u64;
    /// The bootstrap interface of this client, where it has one (the SDK client and
    /// [`MemoryIam`](crate::iam::memory::MemoryIam) do; [`MemoryCloud`](crate::memory::MemoryCloud)
    /// does not, so planning a bootstrapped account on it is an error).
    fn as_iam(&self) -> Option<&dyn crate::iam::IamCloud> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::{same_document, WriteCheck};

    #[test]
    fn same_document_ignores_key_order_and_space() {
        assert!(same_document(r#"{"a":1,"b":[1,2]}"#, r#"{ "b": [1, 2], "a": 1 }"#));
        assert!(!same_document(r#"{"b":[2,1]}"#, r#"{"b":[1,2]}"#));
    }

    #[test]
    fn write_check_table() {
        let (a, b, c) = (Some(r#"{"v":1}"#), Some(r#"{"v":2}"#), Some(r#"{"v":3}"#));
        assert_eq!(WriteCheck::decide(a, a, b), WriteCheck::Write);
        assert_eq!(WriteCheck::decide(b, a, b), WriteCheck::AlreadyDone);
        assert_eq!(WriteCheck::decide(c, a, b), WriteCheck::Conflict);
        assert_eq!(WriteCheck::decide(None, None, b), WriteCheck::Write, "create");
        assert_eq!(WriteCheck::decide(a, None, b), WriteCheck::Conflict, "created meanwhile");
        assert_eq!(WriteCheck::decide(a, a, None), WriteCheck::Write, "delete");
        assert_eq!(WriteCheck::decide(None, a, None), WriteCheck::AlreadyDone, "deleted meanwhile");
        assert_eq!(WriteCheck::decide(b, a, None), WriteCheck::Conflict);
    }
}
