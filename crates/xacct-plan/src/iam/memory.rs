//! An in-memory [`IamCloud`] (and [`Cloud`]) for unit tests of the planner and executor.
//!
//! It keeps each account as an [`AccountIam`] and enforces what IAM enforces and the planner
//! and executor rely on: unique names (roles case-insensitively), five versions per managed
//! policy (the default never deleted), one role per instance profile, the attachment quota
//! ([`MemoryIam::set_attached_policies_quota`]), and IAM's delete order — a role cannot be
//! deleted while it has attachments, inline policies or instance profiles, a policy while it is
//! attached, an instance profile while it holds a role, a user while it has groups, attachments
//! or inline policies, a group while it has members, attachments or inline policies (each a
//! `DeleteConflict`). Where moto is laxer (`DeletePolicy` of an attached policy) this follows
//! AWS. Calls are counted as the AWS implementation counts them; the bulk read costs one call
//! per page of [`MemoryIam::page_size`] entities.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;

use super::{
    delete_conflict, exists_differently, is_aws_managed, version_to_prune, AccountIam, Created, IamCloud, IamEntity,
    IamExpect, IamGroup, IamInstanceProfile, IamPolicy, IamPolicyVersion, IamPrincipal, IamRole, IamUser, NewPolicy,
    NewRole, NewUser, ReadScope, DEFAULT_ATTACHED_POLICIES_QUOTA,
};
use crate::cloud::{AccountId, Cloud, CloudError, DocRef, LiveRole, WriteCheck};

/// In-memory IAM of any number of accounts (partition `aws`).
pub struct MemoryIam {
    accounts: Mutex<BTreeMap<String, Store>>,
    calls: AtomicU64,
    page_size: usize,
    quota: Mutex<usize>,
    /// Writes fail for these accounts (to test partial failure).
    pub fail_writes_in: Mutex<Vec<String>>,
}

#[derive(Default)]
struct Store {
    iam: AccountIam,
    /// Users and groups, always kept; a read returns them when asked.
    users: BTreeMap<String, IamUser>,
    groups: BTreeMap<String, IamGroup>,
    /// The next version number of each policy (IAM never reuses one).
    next_version: BTreeMap<String, u64>,
    ids: u64,
}

impl Store {
    fn id(&mut self, prefix: &str) -> String {
        self.ids += 1;
        format!("{prefix}{:017}", self.ids)
    }
}

impl Default for MemoryIam {
    fn default() -> Self {
        MemoryIam {
            accounts: Mutex::default(),
            calls: AtomicU64::new(0),
            page_size: 100,
            quota: Mutex::new(DEFAULT_ATTACHED_POLICIES_QUOTA),
            fail_writes_in: Mutex::default(),
        }
    }
}

fn no_such(account: &str, what: impl std::fmt::Display) -> CloudError {
    CloudError::NoSuchEntity { what: format!("{what} in account {account}") }
}

fn arn(account: &str, kind: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:{kind}{path}{name}")
}

impl MemoryIam {
    pub fn new() -> Self {
        Self::default()
    }

    /// A bulk read returns at most `size` entities (all kinds together) per page, as IAM's
    /// `MaxItems` does; the default is 100.
    pub fn with_page_size(size: usize) -> Self {
        MemoryIam { page_size: size.max(1), ..Self::default() }
    }

    /// The page size of the bulk read.
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// Set the `AttachedPoliciesPerRoleQuota` every account reports (and enforces).
    pub fn set_attached_policies_quota(&self, quota: usize) {
        *self.quota.lock().unwrap() = quota;
    }

    pub fn reset_calls(&self) {
        self.calls.store(0, Ordering::SeqCst);
    }

    /// The account as stored, users and groups included (no call counted).
    pub fn snapshot(&self, account: &str) -> AccountIam {
        let accounts = self.accounts.lock().unwrap();
        let mut iam = accounts.get(account).map(|s| s.iam.clone()).unwrap_or_default();
        iam.account = account.to_string();
        iam.users = Some(accounts.get(account).map(|s| s.users.clone()).unwrap_or_default());
        iam.groups = Some(accounts.get(account).map(|s| s.groups.clone()).unwrap_or_default());
        iam.pages = 0;
        iam
    }

    /// Change an account behind xacct's back (drift in tests). No call counted.
    pub fn edit<R>(&self, account: &str, f: impl FnOnce(&mut AccountIam) -> R) -> R {
        let mut accounts = self.accounts.lock().unwrap();
        f(&mut accounts.entry(account.to_string()).or_default().iam)
    }

    fn call(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }

    /// One write call in `account`: counted, failing when the account is in `fail_writes_in`.
    fn write<R>(
        &self,
        account: &str,
        action: &str,
        f: impl FnOnce(&mut Store) -> Result<R, CloudError>,
    ) -> Result<R, CloudError> {
        if self.fail_writes_in.lock().unwrap().iter().any(|a| a == account) {
            return Err(CloudError::Other {
                account: account.into(),
                action: action.into(),
                message: "injected failure".into(),
            });
        }
        self.call();
        let mut accounts = self.accounts.lock().unwrap();
        let store = accounts.entry(account.to_string()).or_default();
        store.iam.account = account.to_string();
        f(store)
    }

    /// One read call in `account`.
    fn read<R>(&self, account: &str, f: impl FnOnce(&Store) -> R) -> R {
        self.call();
        let mut accounts = self.accounts.lock().unwrap();
        let store = accounts.entry(account.to_string()).or_default();
        f(store)
    }

    fn holds(&self, expect: &IamExpect) -> bool {
        let account = match expect {
            IamExpect::Exists { account, .. }
            | IamExpect::ProfileRoles { account, .. }
            | IamExpect::DefaultDocument { account, .. }
            | IamExpect::Attached { account, .. } => account,
        };
        self.read(account, |s| match expect {
            IamExpect::Exists { entity, exists, .. } => {
                let found = match entity {
                    IamEntity::Role(n) => s.iam.roles.contains_key(n),
                    IamEntity::InstanceProfile(n) => s.iam.instance_profiles.contains_key(n),
                    IamEntity::Policy(a) => s.iam.policy_by_arn(a).is_some(),
                    IamEntity::User(n) => s.users.contains_key(n),
                    IamEntity::Group(n) => s.groups.contains_key(n),
                };
                found == *exists
            }
            IamExpect::ProfileRoles { profile, roles, .. } => {
                s.iam.instance_profiles.get(profile).is_some_and(|p| &p.roles == roles)
            }
            IamExpect::DefaultDocument { policy_arn, document, .. } => {
                s.iam.policy_by_arn(policy_arn).and_then(IamPolicy::default_document) == Some(document)
            }
            IamExpect::Attached { to, policy_arn, attached, .. } => {
                attached_list(s, to).is_some_and(|l| l.contains(policy_arn)) == *attached
            }
        })
    }
}

fn attached_list<'a>(s: &'a Store, to: &IamPrincipal) -> Option<&'a Vec<String>> {
    match to {
        IamPrincipal::Role(n) => s.iam.roles.get(n).map(|r| &r.attached_policies),
        IamPrincipal::User(n) => s.users.get(n).map(|u| &u.attached_policies),
        IamPrincipal::Group(n) => s.groups.get(n).map(|g| &g.attached_policies),
    }
}

fn attached_list_mut<'a>(s: &'a mut Store, to: &IamPrincipal) -> Option<&'a mut Vec<String>> {
    match to {
        IamPrincipal::Role(n) => s.iam.roles.get_mut(n).map(|r| &mut r.attached_policies),
        IamPrincipal::User(n) => s.users.get_mut(n).map(|u| &mut u.attached_policies),
        IamPrincipal::Group(n) => s.groups.get_mut(n).map(|g| &mut g.attached_policies),
    }
}

fn parse(account: &str, what: &str, text: &str) -> Result<Value, CloudError> {
    serde_json::from_str(text).map_err(|e| CloudError::MalformedPolicy {
        what: format!("{what} in account {account}"),
        message: format!("not JSON: {e}"),
    })
}

/// Count of entities a bulk read pages over.
fn entities(s: &Store, scope: ReadScope) -> usize {
    let mut n = s.iam.roles.len() + s.iam.policies.len();
    if scope.users {
        n += s.users.len() + s.groups.len();
    }
    n
}

#[async_trait]
impl IamCloud for MemoryIam {
    async fn read_account(&self, account: &AccountId, scope: ReadScope) -> Result<AccountIam, CloudError> {
        let mut accounts = self.accounts.lock().unwrap();
        let s = accounts.entry(account.to_string()).or_default();
        let pages = entities(s, scope).div_ceil(self.page_size).max(1);
        self.calls.fetch_add(pages as u64, Ordering::SeqCst);
        let mut iam = s.iam.clone();
        iam.account = account.to_string();
        iam.users = scope.users.then(|| s.users.clone());
        iam.groups = scope.users.then(|| s.groups.clone());
        iam.pages = pages as u32;
        Ok(iam)
    }

    async fn create_role(&self, account: &AccountId, role: &NewRole) -> Result<Created, CloudError> {
        self.write(account, "iam:CreateRole", |s| {
            let clash = s.iam.roles.values().find(|r| r.name.eq_ignore_ascii_case(&role.name));
            if let Some(live) = clash {
                if live.name == role.name && role.is_same_as(live) {
                    return Ok(Created { arn: live.arn.clone(), id: Some(live.role_id.clone()) });
                }
                return Err(exists_differently(&format!("role `{}` in account {account}", role.name)));
            }
            let path = if role.path.is_empty() { "/".to_string() } else { role.path.clone() };
            let live = IamRole {
                name: role.name.clone(),
                arn: arn(account, "role", &path, &role.name),
                path,
                role_id: s.id("AROA"),
                trust: role.trust.clone(),
                max_session_duration: Some(role.max_session_duration.unwrap_or(3600)),
                description: role.description.clone(),
                permissions_boundary: role.permissions_boundary.clone(),
                tags: role.tags.clone(),
                inline_policies: BTreeMap::new(),
                attached_policies: Vec::new(),
                instance_profiles: Vec::new(),
            };
            let created = Created { arn: live.arn.clone(), id: Some(live.role_id.clone()) };
            s.iam.roles.insert(role.name.clone(), live);
            Ok(created)
        })
    }

    async fn update_role(
        &self,
        account: &AccountId,
        role: &str,
        description: Option<&str>,
        max_session_duration: Option<u32>,
    ) -> Result<(), CloudError> {
        self.write(account, "iam:UpdateRole", |s| {
            let live = s.iam.roles.get_mut(role).ok_or_else(|| no_such(account, format!("role `{role}`")))?;
            if let Some(d) = description {
                live.description = Some(d.to_string());
            }
            if let Some(m) = max_session_duration {
                if !(3600..=43200).contains(&m) {
                    return Err(CloudError::Other {
                        account: account.into(),
                        action: "iam:UpdateRole".into(),
                        message: format!("ValidationError: MaxSessionDuration {m} is not between 3600 and 43200"),
                    });
                }
                live.max_session_duration = Some(m);
            }
            Ok(())
        })
    }

    async fn delete_role(&self, account: &AccountId, role: &str) -> Result<(), CloudError> {
        self.write(account, "iam:DeleteRole", |s| {
            let Some(live) = s.iam.roles.get(role) else { return Ok(()) };
            let what = format!("role `{role}`");
            let holds = if !live.instance_profiles.is_empty() {
                Some(format!("it is in instance profile(s) {}", live.instance_profiles.join(", ")))
            } else if !live.attached_policies.is_empty() {
                Some(format!("managed policies are attached to it ({})", live.attached_policies.join(", ")))
            } else if !live.inline_policies.is_empty() {
                let names: Vec<&str> = live.inline_policies.keys().map(String::as_str).collect();
                Some(format!("it has inline policies ({})", names.join(", ")))
            } else {
                None
            };
            if let Some(holds) = holds {
                return Err(delete_conflict(account, "iam:DeleteRole", &what, &holds));
            }
            s.iam.roles.remove(role);
            Ok(())
        })
    }

    async fn create_instance_profile(
        &self,
        account: &AccountId,
        name: &str,
        path: &str,
    ) -> Result<Created, CloudError> {
        self.write(account, "iam:CreateInstanceProfile", |s| {
            let path = if path.is_empty() { "/" } else { path };
            if let Some(live) = s.iam.instance_profiles.get(name) {
                if live.path == path {
                    return Ok(Created { arn: live.arn.clone(), id: None });
                }
                return Err(exists_differently(&format!("instance profile `{name}` in account {account}")));
            }
            let profile = IamInstanceProfile {
                name: name.to_string(),
                path: path.to_string(),
                arn: arn(account, "instance-profile", path, name),
                roles: Vec::new(),
            };
            let created = Created { arn: profile.arn.clone(), id: Some(s.id("AIPA")) };
            s.iam.instance_profiles.insert(name.to_string(), profile);
            Ok(created)
        })
    }

    async fn add_role_to_instance_profile(
        &self,
        account: &AccountId,
        profile: &str,
        role: &str,
    ) -> Result<(), CloudError> {
        self.write(account, "iam:AddRoleToInstanceProfile", |s| {
            if !s.iam.roles.contains_key(role) {
                return Err(no_such(account, format!("role `{role}`")));
            }
            let p = s
                .iam
                .instance_profiles
                .get_mut(profile)
                .ok_or_else(|| no_such(account, format!("instance profile `{profile}`")))?;
            if p.roles.iter().any(|r| r == role) {
                return Ok(());
            }
            if !p.roles.is_empty() {
                return Err(CloudError::LimitExceeded {
                    what: format!("instance profile `{profile}` in account {account}"),
                    message: format!(
                        "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1 (it holds role `{}`)",
                        p.roles[0]
                    ),
                });
            }
            p.roles.push(role.to_string());
            let r = s.iam.roles.get_mut(role).expect("checked above");
            r.instance_profiles.push(profile.to_string());
            r.instance_profiles.sort();
            Ok(())
        })
    }

    async fn remove_role_from_instance_profile(
        &self,
        account: &AccountId,
        profile: &str,
        role: &str,
    ) -> Result<(), CloudError> {
        self.write(account, "iam:RemoveRoleFromInstanceProfile", |s| {
            if let Some(p) = s.iam.instance_profiles.get_mut(profile) {
                p.roles.retain(|r| r != role);
            }
            if let Some(r) = s.iam.roles.get_mut(role) {
                r.instance_profiles.retain(|p| p != profile);
            }
            Ok(())
        })
    }

    async fn delete_instance_profile(&self, account: &AccountId, profile: &str) -> Result<(), CloudError> {
        self.write(account, "iam:DeleteInstanceProfile", |s| {
            let Some(p) = s.iam.instance_profiles.get(profile) else { return Ok(()) };
            if !p.roles.is_empty() {
                return Err(delete_conflict(
                    account,
                    "iam:DeleteInstanceProfile",
                    &format!("instance profile `{profile}`"),
                    &format!("it holds role `{}`", p.roles.join(", ")),
                ));
            }
            s.iam.instance_profiles.remove(profile);
            Ok(())
        })
    }

    async fn create_policy(&self, account: &AccountId, policy: &NewPolicy) -> Result<Created, CloudError> {
        self.write(account, "iam:CreatePolicy", |s| {
            let path = if policy.path.is_empty() { "/" } else { policy.path.as_str() };
            if let Some(live) = s.iam.policies.get(&policy.name) {
                if live.path == path && live.default_document() == Some(&policy.document) {
                    return Ok(Created { arn: live.arn.clone(), id: live.policy_id.clone() });
                }
                return Err(exists_differently(&format!("managed policy `{}` in account {account}", policy.name)));
            }
            let live = IamPolicy {
                name: policy.name.clone(),
                path: path.to_string(),
                arn: arn(account, "policy", path, &policy.name),
                policy_id: Some(s.id("ANPA")),
                description: Some(policy.description.clone()).filter(|d| !d.is_empty()),
                default_version_id: "v1".into(),
                versions: vec![IamPolicyVersion {
                    id: "v1".into(),
                    document: policy.document.clone(),
                    is_default: true,
                }],
                attachment_count: 0,
            };
            let created = Created { arn: live.arn.clone(), id: live.policy_id.clone() };
            s.next_version.insert(live.arn.clone(), 2);
            s.iam.policies.insert(policy.name.clone(), live);
            Ok(created)
        })
    }

    async fn create_policy_version(
        &self,
        account: &AccountId,
        policy_arn: &str,
        document: &Value,
    ) -> Result<String, CloudError> {
        // The fresh read (ListPolicyVersions).
        let versions = self.read(account, |s| s.iam.policy_by_arn(policy_arn).map(|p| p.versions.clone()));
        let versions = versions.ok_or_else(|| no_such(account, format!("managed policy `{policy_arn}`")))?;
        if let Some(default) = versions.iter().find(|v| v.is_default && &v.document == document) {
            return Ok(default.id.clone());
        }
        if let Some(prune) = version_to_prune(&versions) {
            let id = prune.id.clone();
            self.write(account, "iam:DeletePolicyVersion", |s| {
                let name = s.iam.policy_by_arn(policy_arn).map(|p| p.name.clone()).unwrap_or_default();
                if let Some(p) = s.iam.policies.get_mut(&name) {
                    p.versions.retain(|v| v.id != id);
                }
                Ok(())
            })?;
        }
        self.write(account, "iam:CreatePolicyVersion", |s| {
            let name = s
                .iam
                .policy_by_arn(policy_arn)
                .map(|p| p.name.clone())
                .ok_or_else(|| no_such(account, format!("managed policy `{policy_arn}`")))?;
            let next = s.next_version.entry(policy_arn.to_string()).or_insert(2);
            let id = format!("v{next}");
            *next += 1;
            let p = s.iam.policies.get_mut(&name).expect("found above");
            if p.versions.len() >= super::MAX_POLICY_VERSIONS {
                return Err(CloudError::LimitExceeded {
                    what: format!("managed policy `{policy_arn}` in account {account}"),
                    message: "A managed policy can have up to 5 versions".into(),
                });
            }
            for v in &mut p.versions {
                v.is_default = false;
            }
            p.versions.push(IamPolicyVersion { id: id.clone(), document: document.clone(), is_default: true });
            p.default_version_id = id.clone();
            Ok(id)
        })
    }

    async fn delete_policy(&self, account: &AccountId, policy_arn: &str) -> Result<(), CloudError> {
        let versions = self.read(account, |s| s.iam.policy_by_arn(policy_arn).map(|p| p.versions.clone()));
        let Some(versions) = versions else { return Ok(()) };
        for v in versions.iter().filter(|v| !v.is_default) {
            self.write(account, "iam:DeletePolicyVersion", |s| {
                let name = s.iam.policy_by_arn(policy_arn).map(|p| p.name.clone()).unwrap_or_default();
                if let Some(p) = s.iam.policies.get_mut(&name) {
                    p.versions.retain(|x| x.id != v.id);
                }
                Ok(())
            })?;
        }
        self.write(account, "iam:DeletePolicy", |s| {
            let Some(p) = s.iam.policy_by_arn(policy_arn) else { return Ok(()) };
            if p.attachment_count > 0 {
                return Err(delete_conflict(
                    account,
                    "iam:DeletePolicy",
                    &format!("managed policy `{policy_arn}`"),
                    &format!("it is attached to {} entities", p.attachment_count),
                ));
            }
            let name = p.name.clone();
            s.iam.policies.remove(&name);
            s.next_version.remove(policy_arn);
            Ok(())
        })
    }

    async fn attach_policy(&self, account: &AccountId, to: &IamPrincipal, policy_arn: &str) -> Result<(), CloudError> {
        let quota = *self.quota.lock().unwrap();
        self.write(account, "iam:AttachPolicy", |s| {
            let customer = s.iam.policy_by_arn(policy_arn).map(|p| p.name.clone());
            if customer.is_none() && !is_aws_managed(policy_arn) {
                return Err(no_such(account, format!("managed policy `{policy_arn}`")));
            }
            let list = attached_list_mut(s, to).ok_or_else(|| no_such(account, to))?;
            if list.iter().any(|a| a == policy_arn) {
                return Ok(());
            }
            if list.len() >= quota {
                return Err(CloudError::LimitExceeded {
                    what: format!("{to} in account {account}"),
                    message: format!("Cannot exceed quota for PoliciesPerRole: {quota}"),
                });
            }
            list.push(policy_arn.to_string());
            list.sort();
            if let Some(name) = customer {
                s.iam.policies.get_mut(&name).expect("found above").attachment_count += 1;
            }
            Ok(())
        })
    }

    async fn detach_policy(&self, account: &AccountId, to: &IamPrincipal, policy_arn: &str) -> Result<(), CloudError> {
        self.write(account, "iam:DetachPolicy", |s| {
            let Some(list) = attached_list_mut(s, to) else { return Ok(()) };
            let before = list.len();
            list.retain(|a| a != policy_arn);
            if list.len() < before {
                let name = s.iam.policy_by_arn(policy_arn).map(|p| p.name.clone());
                if let Some(p) = name.and_then(|n| s.iam.policies.get_mut(&n)) {
                    p.attachment_count = p.attachment_count.saturating_sub(1);
                }
            }
            Ok(())
        })
    }

    async fn create_user(&self, account: &AccountId, user: &NewUser) -> Result<Created, CloudError> {
        self.write(account, "iam:CreateUser", |s| {
            let path = if user.path.is_empty() { "/" } else { user.path.as_str() };
            if let Some(live) = s.users.get(&user.name) {
                if live.path == path {
                    return Ok(Created { arn: live.arn.clone(), id: Some(live.user_id.clone()) });
                }
                return Err(exists_differently(&format!("user `{}` in account {account}", user.name)));
            }
            let live = IamUser {
                name: user.name.clone(),
                path: path.to_string(),
                arn: arn(account, "user", path, &user.name),
                user_id: s.id("AIDA"),
                tags: user.tags.clone(),
                inline_policies: BTreeMap::new(),
                attached_policies: Vec::new(),
                groups: Vec::new(),
            };
            let created = Created { arn: live.arn.clone(), id: Some(live.user_id.clone()) };
            s.users.insert(user.name.clone(), live);
            Ok(created)
        })
    }

    async fn delete_user(&self, account: &AccountId, user: &str) -> Result<(), CloudError> {
        self.write(account, "iam:DeleteUser", |s| {
            let Some(u) = s.users.get(user) else { return Ok(()) };
            let holds = if !u.groups.is_empty() {
                Some(format!("it is in group(s) {}", u.groups.join(", ")))
            } else if !u.attached_policies.is_empty() {
                Some(format!("managed policies are attached to it ({})", u.attached_policies.join(", ")))
            } else if !u.inline_policies.is_empty() {
                Some("it has inline policies".to_string())
            } else {
                None
            };
            if let Some(holds) = holds {
                return Err(delete_conflict(account, "iam:DeleteUser", &format!("user `{user}`"), &holds));
            }
            s.users.remove(user);
            Ok(())
        })
    }

    async fn create_group(&self, account: &AccountId, group: &str, path: &str) -> Result<Created, CloudError> {
        self.write(account, "iam:CreateGroup", |s| {
            let path = if path.is_empty() { "/" } else { path };
            if let Some(live) = s.groups.get(group) {
                if live.path == path {
                    return Ok(Created { arn: live.arn.clone(), id: Some(live.group_id.clone()) });
                }
                return Err(exists_differently(&format!("group `{group}` in account {account}")));
            }
            let live = IamGroup {
                name: group.to_string(),
                path: path.to_string(),
                arn: arn(account, "group", path, group),
                group_id: s.id("AGPA"),
                inline_policies: BTreeMap::new(),
                attached_policies: Vec::new(),
            };
            let created = Created { arn: live.arn.clone(), id: Some(live.group_id.clone()) };
            s.groups.insert(group.to_string(), live);
            Ok(created)
        })
    }

    async fn delete_group(&self, account: &AccountId, group: &str) -> Result<(), CloudError> {
        self.write(account, "iam:DeleteGroup", |s| {
            let Some(g) = s.groups.get(group) else { return Ok(()) };
            let members: Vec<&str> =
                s.users.values().filter(|u| u.groups.iter().any(|x| x == group)).map(|u| u.name.as_str()).collect();
            let holds = if !members.is_empty() {
                Some(format!("it has members ({})", members.join(", ")))
            } else if !g.attached_policies.is_empty() {
                Some(format!("managed policies are attached to it ({})", g.attached_policies.join(", ")))
            } else if !g.inline_policies.is_empty() {
                Some("it has inline policies".to_string())
            } else {
                None
            };
            if let Some(holds) = holds {
                return Err(delete_conflict(account, "iam:DeleteGroup", &format!("group `{group}`"), &holds));
            }
            s.groups.remove(group);
            Ok(())
        })
    }

    async fn add_user_to_group(&self, account: &AccountId, user: &str, group: &str) -> Result<(), CloudError> {
        self.write(account, "iam:AddUserToGroup", |s| {
            if !s.groups.contains_key(group) {
                return Err(no_such(account, format!("group `{group}`")));
            }
            let u = s.users.get_mut(user).ok_or_else(|| no_such(account, format!("user `{user}`")))?;
            if !u.groups.iter().any(|g| g == group) {
                u.groups.push(group.to_string());
                u.groups.sort();
            }
            Ok(())
        })
    }

    async fn remove_user_from_group(&self, account: &AccountId, user: &str, group: &str) -> Result<(), CloudError> {
        self.write(account, "iam:RemoveUserFromGroup", |s| {
            if let Some(u) = s.users.get_mut(user) {
                u.groups.retain(|g| g != group);
            }
            Ok(())
        })
    }

    async fn put_user_policy(
        &self,
        account: &AccountId,
        user: &str,
        policy: &str,
        document: &Value,
    ) -> Result<(), CloudError> {
        self.write(account, "iam:PutUserPolicy", |s| {
            let u = s.users.get_mut(user).ok_or_else(|| no_such(account, format!("user `{user}`")))?;
            u.inline_policies.insert(policy.to_string(), document.clone());
            Ok(())
        })
    }

    async fn delete_user_policy(&self, account: &AccountId, user: &str, policy: &str) -> Result<(), CloudError> {
        self.write(account, "iam:DeleteUserPolicy", |s| {
            if let Some(u) = s.users.get_mut(user) {
                u.inline_policies.remove(policy);
            }
            Ok(())
        })
    }

    async fn attached_policies_quota(&self, _account: &AccountId) -> Result<usize, CloudError> {
        self.call();
        Ok(*self.quota.lock().unwrap())
    }

    async fn wait_until(&self, expect: &IamExpect) -> Result<(), CloudError> {
        // Memory is consistent at once: one read shows it, or it never will.
        if self.holds(expect) {
            Ok(())
        } else {
            Err(CloudError::NotConsistent { what: expect.to_string(), seconds: 0 })
        }
    }
}

#[async_trait]
impl Cloud for MemoryIam {
    async fn get_role(&self, account: &AccountId, role: &str) -> Result<Option<LiveRole>, CloudError> {
        Ok(self.read(account, |s| {
            s.iam.roles.get(role).map(|r| LiveRole {
                arn: r.arn.clone(),
                role_id: r.role_id.clone(),
                trust_policy: r.trust.to_string(),
                max_session_duration: r.max_session_duration.unwrap_or(3600) as i32,
            })
        }))
    }

    async fn list_role_policies(&self, account: &AccountId, role: &str) -> Result<Vec<String>, CloudError> {
        Ok(self.read(account, |s| {
            s.iam.roles.get(role).map(|r| r.inline_policies.keys().cloned().collect()).unwrap_or_default()
        }))
    }

    async fn get_role_policy(
        &self,
        account: &AccountId,
        role: &str,
        policy: &str,
    ) -> Result<Option<String>, CloudError> {
        Ok(self
            .read(account, |s| s.iam.roles.get(role).and_then(|r| r.inline_policies.get(policy)).map(Value::to_string)))
    }

    async fn trust_policy_quota(&self, _account: &AccountId) -> Result<usize, CloudError> {
        self.call();
        Ok(2048)
    }

    async fn update_trust_policy(
        &self,
        account: &AccountId,
        role: &str,
        expected: &str,
        document: &str,
    ) -> Result<(), CloudError> {
        let live = self.get_role(account, role).await?.ok_or_else(|| no_such(account, format!("role `{role}`")))?;
        let what = || DocRef::Trust { account: account.into(), role: role.into() }.to_string();
        if WriteCheck::gate(Some(&live.trust_policy), Some(expected), Some(document), what)? {
            let doc = parse(account, &format!("the trust policy of role `{role}`"), document)?;
            self.write(account, "iam:UpdateAssumeRolePolicy", |s| {
                let r = s.iam.roles.get_mut(role).ok_or_else(|| no_such(account, format!("role `{role}`")))?;
                r.trust = doc;
                Ok(())
            })?;
        }
        Ok(())
    }

    async fn put_role_policy(
        &self,
        account: &AccountId,
        role: &str,
        policy: &str,
        expected: Option<&str>,
        document: &str,
    ) -> Result<(), CloudError> {
        let live = self.get_role_policy(account, role, policy).await?;
        let what =
            || DocRef::InlinePolicy { account: account.into(), role: role.into(), policy: policy.into() }.to_string();
        if WriteCheck::gate(live.as_deref(), expected, Some(document), what)? {
            let doc = parse(account, &format!("inline policy `{policy}` of role `{role}`"), document)?;
            self.write(account, "iam:PutRolePolicy", |s| {
                let r = s.iam.roles.get_mut(role).ok_or_else(|| no_such(account, format!("role `{role}`")))?;
                r.inline_policies.insert(policy.to_string(), doc);
                Ok(())
            })?;
        }
        Ok(())
    }

    async fn delete_role_policy(
        &self,
        account: &AccountId,
        role: &str,
        policy: &str,
        expected: &str,
    ) -> Result<(), CloudError> {
        let live = self.get_role_policy(account, role, policy).await?;
        let what =
            || DocRef::InlinePolicy { account: account.into(), role: role.into(), policy: policy.into() }.to_string();
        if WriteCheck::gate(live.as_deref(), Some(expected), None, what)? {
            self.write(account, "iam:DeleteRolePolicy", |s| {
                if let Some(r) = s.iam.roles.get_mut(role) {
                    r.inline_policies.remove(policy);
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    async fn wait_consistent(&self, _doc: &DocRef, _document: Option<&str>) -> Result<(), CloudError> {
        Ok(())
    }

    fn call_count(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    fn as_iam(&self) -> Option<&dyn IamCloud> {
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const A: &str = "111111111111";

    fn role(name: &str) -> NewRole {
        NewRole {
            name: name.into(),
            path: "/".into(),
            trust: json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
            ..NewRole::default()
        }
    }

    fn doc(n: u32) -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": format!("ec2:Describe{n}"), "Resource": "*"}]})
    }

    fn policy(name: &str) -> NewPolicy {
        NewPolicy { name: name.into(), path: "/".into(), description: "d".into(), document: doc(1) }
    }

    fn is_delete_conflict(e: &CloudError) -> bool {
        matches!(e, CloudError::Other { message, .. } if message.starts_with("DeleteConflict: "))
    }

    #[tokio::test]
    async fn create_is_idempotent_for_an_equal_role_and_a_conflict_for_another() {
        let iam = MemoryIam::new();
        let first = iam.create_role(A, &role("r")).await.unwrap();
        assert_eq!(first.arn, "arn:aws:iam::111111111111:role/r");
        assert_eq!(iam.create_role(A, &role("r")).await.unwrap(), first);
        let mut other = role("R");
        other.path = "/x/".into();
        let e = iam.create_role(A, &other).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "role `R` in account 111111111111 (it exists already, not as xacct would create it) changed since it was \
             read; re-run `xacct plan`"
        );
        assert_eq!(iam.call_count(), 3);
    }

    #[tokio::test]
    async fn five_versions_at_most_the_oldest_non_default_goes_first() {
        let iam = MemoryIam::new();
        let arn = iam.create_policy(A, &policy("p")).await.unwrap().arn;
        for n in 2..=5 {
            assert_eq!(iam.create_policy_version(A, &arn, &doc(n)).await.unwrap(), format!("v{n}"));
        }
        iam.reset_calls();
        assert_eq!(iam.create_policy_version(A, &arn, &doc(6)).await.unwrap(), "v6");
        assert_eq!(iam.call_count(), 3, "list, delete v1, create");
        let p = iam.snapshot(A).policies["p"].clone();
        let ids: Vec<&str> = p.versions.iter().map(|v| v.id.as_str()).collect();
        assert_eq!(ids, ["v2", "v3", "v4", "v5", "v6"]);
        assert_eq!((p.default_version_id.as_str(), p.default_document()), ("v6", Some(&doc(6))));
        // The same document again is a retried step: nothing written.
        iam.reset_calls();
        assert_eq!(iam.create_policy_version(A, &arn, &doc(6)).await.unwrap(), "v6");
        assert_eq!(iam.call_count(), 1);
    }

    #[tokio::test]
    async fn deletes_follow_iams_order() {
        let iam = MemoryIam::new();
        iam.create_role(A, &role("r")).await.unwrap();
        iam.create_instance_profile(A, "r", "/").await.unwrap();
        iam.add_role_to_instance_profile(A, "r", "r").await.unwrap();
        iam.add_role_to_instance_profile(A, "r", "r").await.unwrap();
        iam.create_role(A, &role("other")).await.unwrap();
        let e = iam.add_role_to_instance_profile(A, "r", "other").await.unwrap_err();
        assert!(matches!(e, CloudError::LimitExceeded { .. }), "{e}");
        let arn = iam.create_policy(A, &policy("p")).await.unwrap().arn;
        iam.create_policy_version(A, &arn, &doc(2)).await.unwrap();
        let to = IamPrincipal::Role("r".into());
        iam.attach_policy(A, &to, &arn).await.unwrap();
        iam.attach_policy(A, &to, "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy").await.unwrap();
        assert_eq!(iam.snapshot(A).policies["p"].attachment_count, 1);
        iam.wait_instance_profile_has_role(A, "r", "r").await.unwrap();

        let e = iam.delete_role(A, "r").await.unwrap_err();
        assert!(is_delete_conflict(&e) && e.to_string().contains("instance profile(s) r"), "{e}");
        let e = iam.delete_instance_profile(A, "r").await.unwrap_err();
        assert!(is_delete_conflict(&e), "{e}");
        iam.remove_role_from_instance_profile(A, "r", "r").await.unwrap();
        let e = iam.delete_role(A, "r").await.unwrap_err();
        assert!(e.to_string().contains("managed policies are attached"), "{e}");
        let e = iam.delete_policy(A, &arn).await.unwrap_err();
        assert!(e.to_string().contains("attached to 1 entities"), "{e}");
        iam.detach_policy(A, &to, &arn).await.unwrap();
        iam.detach_policy(A, &to, "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy").await.unwrap();
        iam.detach_policy(A, &to, &arn).await.unwrap();
        iam.put_role_policy(A, "r", "inline", None, &doc(3).to_string()).await.unwrap();
        let e = iam.delete_role(A, "r").await.unwrap_err();
        assert!(e.to_string().contains("inline policies (inline)"), "{e}");
        iam.delete_role_policy(A, "r", "inline", &doc(3).to_string()).await.unwrap();
        iam.reset_calls();
        iam.delete_policy(A, &arn).await.unwrap();
        // v1 went with the refused attempt above (versions go first): list, delete the policy.
        assert_eq!(iam.call_count(), 2);
        for r in ["r", "other"] {
            iam.delete_role(A, r).await.unwrap();
        }
        iam.delete_instance_profile(A, "r").await.unwrap();
        // Gone already is success.
        iam.delete_role(A, "r").await.unwrap();
        iam.delete_policy(A, &arn).await.unwrap();
        let wait = IamExpect::Exists { account: A.into(), entity: IamEntity::Role("r".into()), exists: false };
        iam.wait_until(&wait).await.unwrap();
        assert!(iam.read_account(A, ReadScope::ALL).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn users_groups_and_their_conflicts() {
        let iam = MemoryIam::new();
        iam.create_user(A, &NewUser { name: "u".into(), path: "/".into(), ..NewUser::default() }).await.unwrap();
        iam.create_group(A, "g", "/").await.unwrap();
        iam.add_user_to_group(A, "u", "g").await.unwrap();
        iam.put_user_policy(A, "u", "i", &doc(1)).await.unwrap();
        let e = iam.delete_group(A, "g").await.unwrap_err();
        assert!(e.to_string().contains("it has members (u)"), "{e}");
        let e = iam.delete_user(A, "u").await.unwrap_err();
        assert!(e.to_string().contains("group(s) g"), "{e}");
        let roles_only = iam.read_account(A, ReadScope::ROLES).await.unwrap();
        assert_eq!((roles_only.users, roles_only.groups), (None, None));
        let all = iam.read_account(A, ReadScope::ALL).await.unwrap();
        assert_eq!(all.users.as_ref().unwrap()["u"].groups, ["g"]);
        assert_eq!(all.users.as_ref().unwrap()["u"].inline_policies["i"], doc(1));
        iam.remove_user_from_group(A, "u", "g").await.unwrap();
        iam.delete_user_policy(A, "u", "i").await.unwrap();
        iam.delete_user(A, "u").await.unwrap();
        iam.delete_group(A, "g").await.unwrap();
        assert!(iam.read_account(A, ReadScope::ALL).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_bulk_read_costs_one_call_per_page_and_attachments_respect_the_quota() {
        let iam = MemoryIam::with_page_size(2);
        for n in 0..3 {
            iam.create_role(A, &role(&format!("r{n}"))).await.unwrap();
        }
        iam.create_policy(A, &policy("p")).await.unwrap();
        iam.reset_calls();
        let live = iam.read_account(A, ReadScope::ROLES).await.unwrap();
        assert_eq!((live.pages, iam.call_count()), (2, 2));
        assert_eq!(live.roles.len(), 3);
        // An empty account still costs one page.
        assert_eq!(iam.read_account("222222222222", ReadScope::ROLES).await.unwrap().pages, 1);

        iam.set_attached_policies_quota(1);
        assert_eq!(iam.attached_policies_quota(A).await.unwrap(), 1);
        let to = IamPrincipal::Role("r0".into());
        iam.attach_policy(A, &to, "arn:aws:iam::aws:policy/A").await.unwrap();
        let e = iam.attach_policy(A, &to, "arn:aws:iam::aws:policy/B").await.unwrap_err();
        assert!(matches!(e, CloudError::LimitExceeded { .. }), "{e}");
        let e = iam.attach_policy(A, &to, "arn:aws:iam::111111111111:policy/none").await.unwrap_err();
        assert!(matches!(e, CloudError::NoSuchEntity { .. }), "{e}");
    }

    #[tokio::test]
    async fn trust_and_inline_writes_go_through_the_cloud_checks() {
        let iam = MemoryIam::new();
        iam.create_role(A, &role("r")).await.unwrap();
        let live = iam.get_role(A, "r").await.unwrap().unwrap();
        let new = json!({"Version": "2012-10-17", "Statement": []}).to_string();
        iam.update_trust_policy(A, "r", &live.trust_policy, &new).await.unwrap();
        assert_eq!(iam.snapshot(A).roles["r"].trust, json!({"Version": "2012-10-17", "Statement": []}));
        let e = iam.update_trust_policy(A, "r", &live.trust_policy, "{}").await.unwrap_err();
        assert!(matches!(e, CloudError::Conflict { .. }), "{e}");
        iam.fail_writes_in.lock().unwrap().push(A.into());
        let e = iam.create_group(A, "g", "/").await.unwrap_err();
        assert_eq!(e.to_string(), "`iam:CreateGroup` failed in account 111111111111: injected failure");
    }
}
