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
}
