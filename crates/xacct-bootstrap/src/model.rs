//! The desired IAM resources of one account: plain values, sorted by name, with serde.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which of CAPA's roles a role is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleKind {
    ControlPlane,
    Controllers,
    Nodes,
    EksControlPlane,
    EksNodegroup,
    EksFargate,
}

/// An inline policy of a role or user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InlinePolicy {
    pub name: String,
    pub document: Value,
}

/// A role.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub kind: RoleKind,
    pub path: String,
    /// The trust (assume-role) policy document.
    pub trust: Value,
    /// `None`: IAM's default (3,600 s); clusterawsadm sets none.
    pub max_session_duration: Option<u32>,
    pub permissions_boundary: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub inline_policies: Vec<InlinePolicy>,
}

impl Role {
    /// What IAM charges the trust document against `ACLSizePerRole`.
    pub fn trust_size(&self) -> usize {
        xacct_policy::iam_size(&self.trust.to_string())
    }

    /// What IAM charges this role's inline policies against its 10,240 characters. The planner
    /// adds xacct's own assume policy (on the management account's role) to this.
    pub fn inline_size(&self) -> usize {
        let texts: Vec<String> = self.inline_policies.iter().map(|p| p.document.to_string()).collect();
        xacct_policy::inline_policies_size(texts.iter().map(String::as_str))
    }
}

/// An instance profile and the one role in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceProfile {
    pub name: String,
    pub path: String,
    pub role: String,
}

/// A customer-managed policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub name: String,
    pub path: String,
    pub description: String,
    pub document: Value,
}

impl ManagedPolicy {
    /// What IAM charges the document against a managed policy's 6,144 characters.
    pub fn size(&self) -> usize {
        xacct_policy::iam_size(&self.document.to_string())
    }

    /// The policy's ARN in `account`.
    pub fn arn(&self, partition: &str, account: &str) -> String {
        format!("arn:{partition}:iam::{account}:policy{}{}", self.path, self.name)
    }
}

/// A user (the bootstrap user).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub path: String,
    /// Groups the user is a member of (the bootstrap group and `extraGroups`).
    pub groups: Vec<String>,
    pub tags: BTreeMap<String, String>,
    pub inline_policies: Vec<InlinePolicy>,
}

impl User {
    /// What IAM charges this user's inline policies against its 2,048 characters.
    pub fn inline_size(&self) -> usize {
        let texts: Vec<String> = self.inline_policies.iter().map(|p| p.document.to_string()).collect();
        xacct_policy::inline_policies_size(texts.iter().map(String::as_str))
    }
}

/// A group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    pub path: String,
}

/// What a policy is attached to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "name")]
pub enum Principal {
    Role(String),
    User(String),
    Group(String),
}

impl Principal {
    /// The role, user or group name.
    pub fn name(&self) -> &str {
        match self {
            Principal::Role(n) | Principal::User(n) | Principal::Group(n) => n,
        }
    }
}

/// The policy of an attachment.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyRef {
    /// One of the set's customer-managed policies, by name (its ARN needs the account).
    Managed(String),
    /// A policy by ARN: AWS-managed ones (`arn:<partition>:iam::aws:policy/…`) or any the
    /// configuration names.
    Arn(String),
}

impl PolicyRef {
    /// The ARN in `account` of `partition`.
    pub fn arn(&self, partition: &str, account: &str) -> String {
        match self {
            PolicyRef::Managed(name) => format!("arn:{partition}:iam::{account}:policy/{name}"),
            PolicyRef::Arn(arn) => arn.clone(),
        }
    }
}

/// A managed-policy attachment.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Attachment {
    pub to: Principal,
    pub policy: PolicyRef,
}

/// Everything bootstrap wants in one account, each list sorted by name (attachments by
/// principal, then policy).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceSet {
    /// The partition the set was rendered for (AWS-managed policy ARNs use it).
    pub partition: String,
    /// The role the CAPA controllers run as, which cross-account trust names:
    /// `controllers.<suffix>` for clusterawsadm's set, `control-plane.<suffix>` for DKP's.
    pub controller_role: String,
    pub roles: Vec<Role>,
    pub instance_profiles: Vec<InstanceProfile>,
    pub policies: Vec<ManagedPolicy>,
    pub attachments: Vec<Attachment>,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
}

impl ResourceSet {
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name == name)
    }

    pub fn role_of_kind(&self, kind: RoleKind) -> Option<&Role> {
        self.roles.iter().find(|r| r.kind == kind)
    }

    pub fn policy(&self, name: &str) -> Option<&ManagedPolicy> {
        self.policies.iter().find(|p| p.name == name)
    }

    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    /// The policies attached to `to`, in order.
    pub fn attached_to<'a>(&'a self, to: &'a Principal) -> impl Iterator<Item = &'a PolicyRef> + 'a {
        self.attachments.iter().filter(move |a| &a.to == to).map(|a| &a.policy)
    }

    /// How many managed policies (customer- and AWS-managed) the set attaches to role `name`.
    /// IAM allows 10 by default (`AttachedPoliciesPerRoleQuota`, 20 at most): the planner reads
    /// the account's quota only when a count passes 10.
    pub fn managed_policy_count(&self, role: &str) -> usize {
        let to = Principal::Role(role.to_string());
        self.attached_to(&to).count()
    }

    /// Sort every list into the set's deterministic order.
    pub(crate) fn sort(&mut self) {
        self.roles.sort_by(|a, b| a.name.cmp(&b.name));
        self.instance_profiles.sort_by(|a, b| a.name.cmp(&b.name));
        self.policies.sort_by(|a, b| a.name.cmp(&b.name));
        self.attachments.sort();
        self.attachments.dedup();
        self.users.sort_by(|a, b| a.name.cmp(&b.name));
        self.groups.sort_by(|a, b| a.name.cmp(&b.name));
    }
}
