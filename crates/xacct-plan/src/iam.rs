//! Live IAM of a bootstrapped account: the model one bulk read returns ([`AccountIam`]) and the
//! interface the planner and executor read and write it through ([`IamCloud`]).
//!
//! `xacct-aws` implements [`IamCloud`] on the AWS SDK; [`MemoryIam`](memory::MemoryIam)
//! implements it in memory, with IAM's rules, for unit tests of the planner and executor.
//!
//! **Documents** cross this boundary as decoded [`serde_json::Value`]s: IAM returns them
//! URL-encoded (and moto returns some raw); implementations decode both before they get here, so
//! nothing above this layer sees percent-encoding. A `Value` keeps the document as IAM stores it
//! (key order preserved, no canonical form): whether two documents mean the same is
//! `xacct-policy`'s equivalence (`equivalent_in`), which the planner applies; `==` here means
//! "the same JSON", which is what a retried write and the read-back waits compare.
//!
//! **Reads.** [`IamCloud::read_account`] is `GetAccountAuthorizationDetails` with `Filter`
//! `Role` + `LocalManagedPolicy` (+ `User` + `Group` when [`ReadScope::users`]), every page
//! (`IsTruncated`/`Marker`). It never asks for `AWSManagedPolicy`, so the ~1,500 AWS-managed
//! policy documents are never read; attachments of AWS-managed policies appear as ARNs on the
//! role, user or group. Cost: one call per page (IAM's default page is 100 entities of every
//! kind together; pages may be shorter), plus the account's `sts:AssumeRole` the first time
//! the account is used in a run. A no-change plan of a bootstrapped account therefore costs
//! 2 calls when everything fits one page. [`AccountIam::pages`] says how many pages it took.
//!
//! `GetAccountAuthorizationDetails` does not return a role's description or
//! `MaxSessionDuration` in its role entries (AWS's `RoleDetail` has neither); they are filled in
//! from the role's own entry in an instance profile's role list when there is one, and are
//! `None` (unknown, not "unset") otherwise. The planner must not report drift on an unknown
//! value (clusterawsadm sets neither).
//!
//! **Writes** are one IAM operation each (plus the fresh read some need, said per method) and
//! idempotent where IAM allows: a create that finds an *equal* resource already there (a retried
//! step whose first attempt landed) succeeds and returns it; one that finds a *different*
//! resource under the name is a [`CloudError::Conflict`]. A delete of something already gone
//! succeeds. IAM's refusals map to [`CloudError`] precisely: `NoSuchEntity` →
//! [`CloudError::NoSuchEntity`], `LimitExceeded` → [`CloudError::LimitExceeded`],
//! `MalformedPolicyDocument` → [`CloudError::MalformedPolicy`], `DeleteConflict` →
//! [`CloudError::Other`] whose message says what still holds on to the entity (see
//! [`delete_conflict`]). A role's trust document and its inline policies are written through
//! the [`Cloud`] supertrait (`update_trust_policy`, `put_role_policy`, `delete_role_policy`):
//! they already check for concurrent edits.

pub mod memory;
pub mod step;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cloud::{AccountId, Cloud, CloudError};

/// IAM's limit on versions of one managed policy.
pub const MAX_POLICY_VERSIONS: usize = 5;

/// Managed policies per role (and per user, per group) when the account does not say
/// otherwise (`GetAccountSummary` `AttachedPoliciesPerRoleQuota`).
pub const DEFAULT_ATTACHED_POLICIES_QUOTA: usize = 10;

/// What [`IamCloud::read_account`] includes besides roles, instance profiles and
/// customer-managed policies (always read).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadScope {
    /// Also users and groups (`Filter` `User`, `Group`): only when the account's set has them.
    pub users: bool,
}

impl ReadScope {
    /// Roles, instance profiles and customer-managed policies.
    pub const ROLES: ReadScope = ReadScope { users: false };
    /// Those, users and groups.
    pub const ALL: ReadScope = ReadScope { users: true };
}

/// One account's IAM as `GetAccountAuthorizationDetails` returns it. Every map is keyed by name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountIam {
    pub account: String,
    pub roles: BTreeMap<String, IamRole>,
    pub instance_profiles: BTreeMap<String, IamInstanceProfile>,
    /// Customer-managed policies only (never AWS-managed ones).
    pub policies: BTreeMap<String, IamPolicy>,
    /// `None` when the read did not ask for users ([`ReadScope::users`]).
    pub users: Option<BTreeMap<String, IamUser>>,
    /// `None` when the read did not ask for groups.
    pub groups: Option<BTreeMap<String, IamGroup>>,
    /// `GetAccountAuthorizationDetails` pages the read took (its calls, STS aside).
    pub pages: u32,
}

impl AccountIam {
    /// The customer-managed policy whose ARN is `arn`.
    pub fn policy_by_arn(&self, arn: &str) -> Option<&IamPolicy> {
        self.policies.values().find(|p| p.arn == arn)
    }

    /// The live fingerprint of one entity, as plans record it (`Change::live_fingerprint`) and
    /// the saved-plan check compares it: the SHA-256 of its JSON as read; `None` when it is
    /// absent (or its kind was not read). A policy is found by name.
    pub fn fingerprint(&self, kind: xacct_spec::IamKind, name: &str) -> Option<String> {
        use xacct_spec::IamKind;
        let json = match kind {
            IamKind::Role => self.roles.get(name).map(serde_json::to_vec),
            IamKind::InstanceProfile => self.instance_profiles.get(name).map(serde_json::to_vec),
            IamKind::Policy => self.policies.get(name).map(serde_json::to_vec),
            IamKind::User => self.users.as_ref().and_then(|u| u.get(name)).map(serde_json::to_vec),
            IamKind::Group => self.groups.as_ref().and_then(|g| g.get(name)).map(serde_json::to_vec),
        }?;
        Some(crate::model::sha256(&json.expect("IAM entities always serialize")))
    }

    /// Whether the account holds nothing of the kinds read (what a full `destroy` leaves).
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty()
            && self.instance_profiles.is_empty()
            && self.policies.is_empty()
            && self.users.as_ref().is_none_or(BTreeMap::is_empty)
            && self.groups.as_ref().is_none_or(BTreeMap::is_empty)
    }
}

/// A role.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IamRole {
    pub name: String,
    pub path: String,
    pub arn: String,
    /// The unique ID (`AROA…`).
    pub role_id: String,
    /// The trust (assume-role) policy, decoded.
    pub trust: Value,
    /// `None`: not known from the bulk read (see the module documentation).
    pub max_session_duration: Option<u32>,
    /// `None`: not known from the bulk read, or none set.
    pub description: Option<String>,
    /// The permissions boundary's policy ARN.
    pub permissions_boundary: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// Inline policies, name → decoded document.
    pub inline_policies: BTreeMap<String, Value>,
    /// Attached managed policies (customer- and AWS-managed), by ARN, sorted.
    pub attached_policies: Vec<String>,
    /// The instance profiles the role is in, by name, sorted.
    pub instance_profiles: Vec<String>,
}

/// An instance profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IamInstanceProfile {
    pub name: String,
    pub path: String,
    pub arn: String,
    /// The roles in it, by name (IAM allows one).
    pub roles: Vec<String>,
}

/// A customer-managed policy with every version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IamPolicy {
    pub name: String,
    pub path: String,
    pub arn: String,
    /// `None` where the emulator leaves it out of the bulk read.
    pub policy_id: Option<String>,
    pub description: Option<String>,
    pub default_version_id: String,
    /// Every version, oldest first.
    pub versions: Vec<IamPolicyVersion>,
    /// How many roles, users and groups it is attached to.
    pub attachment_count: u32,
}

impl IamPolicy {
    /// The default version's document.
    pub fn default_document(&self) -> Option<&Value> {
        self.versions.iter().find(|v| v.is_default).map(|v| &v.document)
    }
}

/// One version of a managed policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IamPolicyVersion {
    /// `v1`, `v2`, …
    pub id: String,
    pub document: Value,
    pub is_default: bool,
}

/// A user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IamUser {
    pub name: String,
    pub path: String,
    pub arn: String,
    pub user_id: String,
    pub tags: BTreeMap<String, String>,
    pub inline_policies: BTreeMap<String, Value>,
    /// By ARN, sorted.
    pub attached_policies: Vec<String>,
    /// Group names, sorted.
    pub groups: Vec<String>,
}

/// A group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IamGroup {
    pub name: String,
    pub path: String,
    pub arn: String,
    pub group_id: String,
    pub inline_policies: BTreeMap<String, Value>,
    /// By ARN, sorted.
    pub attached_policies: Vec<String>,
}

/// What a managed policy is attached to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "name")]
pub enum IamPrincipal {
    Role(String),
    User(String),
    Group(String),
}

impl IamPrincipal {
    pub fn name(&self) -> &str {
        match self {
            IamPrincipal::Role(n) | IamPrincipal::User(n) | IamPrincipal::Group(n) => n,
        }
    }
}

impl fmt::Display for IamPrincipal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IamPrincipal::Role(n) => write!(f, "role `{n}`"),
            IamPrincipal::User(n) => write!(f, "user `{n}`"),
            IamPrincipal::Group(n) => write!(f, "group `{n}`"),
        }
    }
}

/// A role to create.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct NewRole {
    pub name: String,
    /// `/` unless set.
    pub path: String,
    pub trust: Value,
    pub description: Option<String>,
    /// `None`: IAM's default (3,600 s).
    pub max_session_duration: Option<u32>,
    pub permissions_boundary: Option<String>,
    pub tags: BTreeMap<String, String>,
}

impl NewRole {
    /// Whether `live` is this role as created (a retried create found it): same path, the same
    /// trust JSON, and the boundary and tags asked for.
    pub fn is_same_as(&self, live: &IamRole) -> bool {
        live.path == self.path
            && live.trust == self.trust
            && live.permissions_boundary == self.permissions_boundary
            && self.tags.iter().all(|(k, v)| live.tags.get(k) == Some(v))
    }
}

/// A customer-managed policy to create.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewPolicy {
    pub name: String,
    pub path: String,
    pub description: String,
    pub document: Value,
}

/// A user to create.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct NewUser {
    pub name: String,
    pub path: String,
    pub tags: BTreeMap<String, String>,
}

/// What a create returns: the new (or, for a retried create, the existing equal) entity's ARN
/// and unique ID (`AROA…`, `ANPA…`, `AIDA…`, `AGPA…`, `AIPA…`; `None` where the emulator
/// gives none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    pub arn: String,
    pub id: Option<String>,
}

/// An IAM entity, for existence waits and messages.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IamEntity {
    Role(String),
    InstanceProfile(String),
    /// By ARN.
    Policy(String),
    User(String),
    Group(String),
}

impl fmt::Display for IamEntity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IamEntity::Role(n) => write!(f, "role `{n}`"),
            IamEntity::InstanceProfile(n) => write!(f, "instance profile `{n}`"),
            IamEntity::Policy(arn) => write!(f, "managed policy `{arn}`"),
            IamEntity::User(n) => write!(f, "user `{n}`"),
            IamEntity::Group(n) => write!(f, "group `{n}`"),
        }
    }
}

/// What a read-back wait waits for ([`IamCloud::wait_until`]).
#[derive(Clone, Debug, PartialEq)]
pub enum IamExpect {
    /// The entity exists (`true`) or is gone (`false`).
    Exists { account: String, entity: IamEntity, exists: bool },
    /// The instance profile holds exactly these roles.
    ProfileRoles { account: String, profile: String, roles: Vec<String> },
    /// The policy's default version has this document.
    DefaultDocument { account: String, policy_arn: String, document: Value },
    /// The policy is attached (`true`) or not (`false`).
    Attached { account: String, to: IamPrincipal, policy_arn: String, attached: bool },
}

impl fmt::Display for IamExpect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IamExpect::Exists { account, entity, exists: true } => write!(f, "{entity} in account {account}"),
            IamExpect::Exists { account, entity, exists: false } => {
                write!(f, "the deletion of {entity} in account {account}")
            }
            IamExpect::ProfileRoles { account, profile, roles } => {
                write!(f, "instance profile `{profile}` in account {account} holding [{}]", roles.join(", "))
            }
            IamExpect::DefaultDocument { account, policy_arn, .. } => {
                write!(f, "the new default version of managed policy `{policy_arn}` in account {account}")
            }
            IamExpect::Attached { account, to, policy_arn, attached } => write!(
                f,
                "managed policy `{policy_arn}` {} {to} in account {account}",
                if *attached { "attached to" } else { "detached from" }
            ),
        }
    }
}

/// The error for IAM's `DeleteConflict`: `what` cannot be deleted while `holds` (its
/// attachments, instance profiles, inline policies, members, non-default versions) still exist.
pub fn delete_conflict(account: &str, action: &str, what: &str, holds: &str) -> CloudError {
    CloudError::Other {
        account: account.to_string(),
        action: action.to_string(),
        message: format!(
            "DeleteConflict: {what} cannot be deleted while {holds}; delete in IAM's order (detach policies, \
             remove roles from instance profiles, delete inline policies and non-default versions, then the entity)"
        ),
    }
}

/// The error for a create that found a different resource under the name.
pub fn exists_differently(what: &str) -> CloudError {
    CloudError::Conflict { what: format!("{what} (it exists already, not as xacct would create it)") }
}

/// Which version a new one replaces when a policy is full: the oldest non-default version, or
/// `None` when fewer than [`MAX_POLICY_VERSIONS`] exist. `versions` oldest first.
pub fn version_to_prune(versions: &[IamPolicyVersion]) -> Option<&IamPolicyVersion> {
    if versions.len() < MAX_POLICY_VERSIONS {
        return None;
    }
    versions.iter().find(|v| !v.is_default)
}

/// Sort versions oldest first by their number (`v2` before `v10`); what IAM lists carries no
/// order guarantee.
pub fn sort_versions(versions: &mut [IamPolicyVersion]) {
    versions.sort_by_key(|v| (version_number(&v.id), v.id.clone()));
}

fn version_number(id: &str) -> u64 {
    id.trim_start_matches(['v', 'V']).parse().unwrap_or(u64::MAX)
}

/// The name of a managed policy from its ARN (`arn:aws:iam::1:policy/path/name` → `name`).
pub fn policy_name_from_arn(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Whether `arn` is an AWS-managed policy (`arn:<partition>:iam::aws:policy/…`).
pub fn is_aws_managed(arn: &str) -> bool {
    arn.split(':').nth(4) == Some("aws") && arn.split(':').nth(5).is_some_and(|r| r.starts_with("policy/"))
}

/// Live IAM of bootstrapped accounts: the bulk read, every write bootstrap makes, read-back
/// waits. The [`Cloud`] supertrait gives the trust and inline-policy writes and the call count
/// ([`Cloud::call_count`] counts these calls too).
#[async_trait]
pub trait IamCloud: Cloud {
    /// `GetAccountAuthorizationDetails` (see the module documentation for filter and cost).
    async fn read_account(&self, account: &AccountId, scope: ReadScope) -> Result<AccountIam, CloudError>;

    /// `CreateRole` (with tags, boundary, description, max session). A retried create that
    /// finds an equal role ([`NewRole::is_same_as`], one `GetRole`) returns it.
    async fn create_role(&self, account: &AccountId, role: &NewRole) -> Result<Created, CloudError>;
    /// `UpdateRole`: the description and/or `MaxSessionDuration` (`None` leaves it).
    async fn update_role(
        &self,
        account: &AccountId,
        role: &str,
        description: Option<&str>,
        max_session_duration: Option<u32>,
    ) -> Result<(), CloudError>;
    /// `DeleteRole`. IAM refuses while the role has attachments, inline policies or instance
    /// profiles ([`delete_conflict`]); gone already is success.
    async fn delete_role(&self, account: &AccountId, role: &str) -> Result<(), CloudError>;

    /// `CreateInstanceProfile`; an existing one with the same path is success.
    async fn create_instance_profile(&self, account: &AccountId, name: &str, path: &str)
        -> Result<Created, CloudError>;
    /// `AddRoleToInstanceProfile`; the role already in it is success, another role in it is
    /// [`CloudError::LimitExceeded`] (one role per profile).
    async fn add_role_to_instance_profile(
        &self,
        account: &AccountId,
        profile: &str,
        role: &str,
    ) -> Result<(), CloudError>;
    /// `RemoveRoleFromInstanceProfile`; not in it (or gone) is success.
    async fn remove_role_from_instance_profile(
        &self,
        account: &AccountId,
        profile: &str,
        role: &str,
    ) -> Result<(), CloudError>;
    /// `DeleteInstanceProfile` (refused while it holds a role); gone already is success.
    async fn delete_instance_profile(&self, account: &AccountId, profile: &str) -> Result<(), CloudError>;

    /// `CreatePolicy` (version `v1`, default). A retried create that finds the policy with the
    /// same path and default document returns it.
    async fn create_policy(&self, account: &AccountId, policy: &NewPolicy) -> Result<Created, CloudError>;
    /// A new default version: `ListPolicyVersions` (the fresh read), `DeletePolicyVersion` of
    /// the oldest non-default one when five exist, `CreatePolicyVersion` with `SetAsDefault`.
    /// When the default already has `document` (a retried step) nothing is written. Returns the
    /// default version's ID.
    async fn create_policy_version(
        &self,
        account: &AccountId,
        policy_arn: &str,
        document: &Value,
    ) -> Result<String, CloudError>;
    /// `ListPolicyVersions`, `DeletePolicyVersion` of every non-default one, `DeletePolicy`.
    /// IAM refuses while it is attached ([`delete_conflict`]; moto does not); gone is success.
    async fn delete_policy(&self, account: &AccountId, policy_arn: &str) -> Result<(), CloudError>;
    /// `Attach{Role,User,Group}Policy` (attaching again is success, as in IAM).
    async fn attach_policy(&self, account: &AccountId, to: &IamPrincipal, policy_arn: &str) -> Result<(), CloudError>;
    /// `Detach{Role,User,Group}Policy`; not attached (or gone) is success.
    async fn detach_policy(&self, account: &AccountId, to: &IamPrincipal, policy_arn: &str) -> Result<(), CloudError>;

    /// `CreateUser`; an existing one with the same path is success.
    async fn create_user(&self, account: &AccountId, user: &NewUser) -> Result<Created, CloudError>;
    /// `DeleteUser` (refused while it has groups, attachments or inline policies).
    async fn delete_user(&self, account: &AccountId, user: &str) -> Result<(), CloudError>;
    /// `CreateGroup`; an existing one with the same path is success.
    async fn create_group(&self, account: &AccountId, group: &str, path: &str) -> Result<Created, CloudError>;
    /// `DeleteGroup` (refused while it has members, attachments or inline policies).
    async fn delete_group(&self, account: &AccountId, group: &str) -> Result<(), CloudError>;
    /// `AddUserToGroup` (a member already is success).
    async fn add_user_to_group(&self, account: &AccountId, user: &str, group: &str) -> Result<(), CloudError>;
    /// `RemoveUserFromGroup`; not a member (or gone) is success.
    async fn remove_user_from_group(&self, account: &AccountId, user: &str, group: &str) -> Result<(), CloudError>;
    /// `PutUserPolicy` (replaces the whole document).
    async fn put_user_policy(
        &self,
        account: &AccountId,
        user: &str,
        policy: &str,
        document: &Value,
    ) -> Result<(), CloudError>;
    /// `DeleteUserPolicy`; gone is success.
    async fn delete_user_policy(&self, account: &AccountId, user: &str, policy: &str) -> Result<(), CloudError>;

    /// `GetAccountSummary` `AttachedPoliciesPerRoleQuota`, or
    /// [`DEFAULT_ATTACHED_POLICIES_QUOTA`] when the account does not let us read it. One call per
    /// account per run.
    async fn attached_policies_quota(&self, account: &AccountId) -> Result<usize, CloudError>;

    /// Wait (bounded, like [`Cloud::wait_consistent`]) until IAM reads back `expect`
    /// consistently; [`CloudError::NotConsistent`] when it does not in time.
    async fn wait_until(&self, expect: &IamExpect) -> Result<(), CloudError>;

    /// Wait until instance profile `profile` reads back holding `role` (EC2 rejects a profile
    /// whose role has not propagated).
    async fn wait_instance_profile_has_role(
        &self,
        account: &AccountId,
        profile: &str,
        role: &str,
    ) -> Result<(), CloudError> {
        self.wait_until(&IamExpect::ProfileRoles {
            account: account.to_string(),
            profile: profile.to_string(),
            roles: vec![role.to_string()],
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(id: &str, is_default: bool) -> IamPolicyVersion {
        IamPolicyVersion { id: id.into(), document: Value::Null, is_default }
    }

    #[test]
    fn the_oldest_non_default_version_is_pruned_only_when_five_exist() {
        let four = [v("v1", false), v("v2", false), v("v3", false), v("v4", true)];
        assert_eq!(version_to_prune(&four), None);
        let five = [v("v1", true), v("v2", false), v("v3", false), v("v4", false), v("v5", false)];
        assert_eq!(version_to_prune(&five).map(|x| x.id.as_str()), Some("v2"));
        let mut shuffled = vec![v("v10", true), v("v9", false), v("v11", false)];
        sort_versions(&mut shuffled);
        let ids: Vec<&str> = shuffled.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["v9", "v10", "v11"]);
    }

    #[test]
    fn arns() {
        assert_eq!(policy_name_from_arn("arn:aws:iam::111111111111:policy/a/b/nodes.x"), "nodes.x");
        assert!(is_aws_managed("arn:aws-cn:iam::aws:policy/AmazonEKS_CNI_Policy"));
        assert!(is_aws_managed("arn:aws:iam::aws:policy/service-role/AWSBackup"));
        assert!(!is_aws_managed("arn:aws:iam::111111111111:policy/aws"));
        assert!(!is_aws_managed("arn:aws:iam::aws:role/x"));
    }

    #[test]
    fn messages() {
        let e = delete_conflict("111111111111", "iam:DeleteRole", "role `r`", "it is in instance profile `p`");
        assert_eq!(
            e.to_string(),
            "`iam:DeleteRole` failed in account 111111111111: DeleteConflict: role `r` cannot be deleted while it is \
             in instance profile `p`; delete in IAM's order (detach policies, remove roles from instance profiles, \
             delete inline policies and non-default versions, then the entity)"
        );
        let x = IamExpect::Attached {
            account: "1".into(),
            to: IamPrincipal::Group("g".into()),
            policy_arn: "arn:p".into(),
            attached: false,
        };
        assert_eq!(x.to_string(), "managed policy `arn:p` detached from group `g` in account 1");
    }
}
