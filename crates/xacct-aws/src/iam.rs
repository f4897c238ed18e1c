//! [`IamCloud`] on [`AwsCloud`]: the bulk read of a bootstrapped account and bootstrap's writes.
//!
//! The same per-account clients as the [`Cloud`](xacct_plan::cloud::Cloud) calls (one
//! `sts:AssumeRole` per account per run), the same counting, SDK retries (throttling, 5xx,
//! connection errors) and error wording. Beyond those, writes that name something just created
//! are retried while IAM has not caught up — `NoSuchEntity` for the role, profile, policy, user
//! or group the write names, `MalformedPolicyDocument: Invalid principal` for a trust naming a
//! new principal — for at most [`RetrySettings::invalid_principal_window`](crate::RetrySettings).
//!
//! Cost of [`IamCloud::read_account`]: one `GetAccountAuthorizationDetails` call per page (see
//! [`xacct_plan::iam`]), plus the account's `sts:AssumeRole` on first use. moto answers every
//! read with one page (it ignores `MaxItems`/`Marker`), returns trust documents raw and other
//! documents URL-encoded, and leaves `PolicyName`/`PolicyId` out of the policy entries (the
//! name is taken from the ARN); all of that is handled here. The bulk read does not list an
//! instance profile that holds no role (`GetAccountAuthorizationDetails` reports profiles only
//! through their roles): a profile created but not filled, or emptied outside xacct, is seen
//! only by [`IamCloud::create_instance_profile`] (which then succeeds on it) and
//! [`IamCloud::wait_until`].

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_iam::types::{EntityType, SummaryKeyType, Tag};
use aws_smithy_runtime_api::client::result::SdkError;
use serde_json::Value;
use xacct_plan::cloud::{AccountId, CloudError};
use xacct_plan::iam::{
    delete_conflict, exists_differently, policy_name_from_arn, sort_versions, version_to_prune, AccountIam, Created,
    IamCloud, IamEntity, IamExpect, IamGroup, IamInstanceProfile, IamPolicy, IamPolicyVersion, IamPrincipal, IamRole,
    IamUser, NewPolicy, NewRole, NewUser, ReadScope, DEFAULT_ATTACHED_POLICIES_QUOTA,
};

use crate::cloud::AwsCloud;
use crate::errors::Failure;

const GAAD: &str = "iam:GetAccountAuthorizationDetails";

/// The error code of a service error.
fn code_of<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> Option<&str> {
    e.as_service_error().and_then(|s| s.code())
}

fn message_of<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    crate::errors::scrub(e.as_service_error().and_then(|s| s.message()).unwrap_or(""))
}

fn is_code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>, code: &str) -> bool {
    code_of(e) == Some(code)
}

/// An SDK error as a [`CloudError`]: `DeleteConflict` worded by [`delete_conflict`], the rest
/// as every other call words them.
fn cloud_error<E, R>(account: &str, action: &str, what: &str, principal: &str, e: &SdkError<E, R>) -> CloudError
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: std::fmt::Debug + 'static,
{
    if is_code(e, "DeleteConflict") {
        let said = message_of(e);
        return delete_conflict(account, action, what, &format!("something still holds on to it (IAM: {said})"));
    }
    Failure::of(e).into_cloud(account, action, what, principal)
}

/// Whether IAM may not have caught up with a write this one depends on.
fn is_propagation<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    match code_of(e) {
        Some("NoSuchEntity") => true,
        Some("MalformedPolicyDocument") => message_of(e).to_ascii_lowercase().contains("invalid principal"),
        _ => false,
    }
}

/// A document as IAM returned it (URL-encoded, or raw from moto), decoded and parsed.
fn document(account: &str, what: &str, text: Option<&str>) -> Result<Value, CloudError> {
    let text = text.unwrap_or("");
    let decoded = xacct_policy::decode_document(text).map_err(|e| CloudError::Other {
        account: account.to_string(),
        action: GAAD.to_string(),
        message: format!("the document of {what} could not be decoded: {e}"),
    })?;
    serde_json::from_str(&decoded).map_err(|e| CloudError::Other {
        account: account.to_string(),
        action: GAAD.to_string(),
        message: format!("the document of {what} is not JSON ({e})"),
    })
}

fn tags(list: &[Tag]) -> BTreeMap<String, String> {
    list.iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

fn sdk_tags(account: &str, action: &str, tags: &BTreeMap<String, String>) -> Result<Option<Vec<Tag>>, CloudError> {
    if tags.is_empty() {
        return Ok(None);
    }
    tags.iter()
        .map(|(k, v)| {
            Tag::builder().key(k).value(v).build().map_err(|e| CloudError::Other {
                account: account.to_string(),
                action: action.to_string(),
                message: format!("tag `{k}`: {e}"),
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn path_or_root(path: &str) -> &str {
    if path.is_empty() {
        "/"
    } else {
        path
    }
}

fn in_account(what: impl std::fmt::Display, account: &str) -> String {
    format!("{what} in account {account}")
}

impl AwsCloud {
    /// Run `call` again while IAM has not caught up with an earlier write ([`is_propagation`]),
    /// for at most the invalid-principal window.
    async fn retry_propagation<T, E, R, F, Fut>(&self, mut call: F) -> Result<T, SdkError<E, R>>
    where
        E: ProvideErrorMetadata,
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError<E, R>>>,
    {
        let window = self.settings().retry.invalid_principal_window;
        let start = Instant::now();
        let mut pause = Duration::from_millis(200);
        loop {
            match call().await {
                Err(e) if is_propagation(&e) && start.elapsed() + pause <= window => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(10));
                }
                other => return other,
            }
        }
    }

    /// Every version of a managed policy, oldest first (`ListPolicyVersions`, every page);
    /// `None` when the policy does not exist.
    async fn policy_versions(&self, account: &str, arn: &str) -> Result<Option<Vec<IamPolicyVersion>>, CloudError> {
        let acct = self.account(account).await?;
        let mut versions = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let out = match acct.iam.list_policy_versions().policy_arn(arn).set_marker(marker.take()).send().await {
                Ok(out) => out,
                Err(e) if is_code(&e, "NoSuchEntity") => return Ok(None),
                Err(e) => {
                    let what = in_account(IamEntity::Policy(arn.to_string()), account);
                    return Err(cloud_error(account, "iam:ListPolicyVersions", &what, &acct.principal, &e));
                }
            };
            for v in out.versions() {
                let id = v.version_id().unwrap_or_default().to_string();
                let what = format!("version {id} of managed policy `{arn}`");
                versions.push(IamPolicyVersion {
                    document: document(account, &what, v.document()).unwrap_or(Value::Null),
                    id,
                    is_default: v.is_default_version(),
                });
            }
            match out.marker() {
                Some(next) if out.is_truncated() && !next.is_empty() => marker = Some(next.to_string()),
                _ => break,
            }
        }
        sort_versions(&mut versions);
        Ok(Some(versions))
    }

    async fn delete_policy_version(&self, account: &str, arn: &str, id: &str) -> Result<(), CloudError> {
        let acct = self.account(account).await?;
        match acct.iam.delete_policy_version().policy_arn(arn).version_id(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, "NoSuchEntity") => Ok(()),
            Err(e) => {
                let what = in_account(format!("version {id} of managed policy `{arn}`"), account);
                Err(cloud_error(account, "iam:DeletePolicyVersion", &what, &acct.principal, &e))
            }
        }
    }

    /// A role as `GetRole` reads it (for a create that found one already there).
    async fn role_as_read(&self, account: &str, name: &str) -> Result<Option<IamRole>, CloudError> {
        let acct = self.account(account).await?;
        let out = match acct.iam.get_role().role_name(name).send().await {
            Ok(out) => out,
            Err(e) if is_code(&e, "NoSuchEntity") => return Ok(None),
            Err(e) => {
                let what = in_account(IamEntity::Role(name.to_string()), account);
                return Err(cloud_error(account, "iam:GetRole", &what, &acct.principal, &e));
            }
        };
        let Some(r) = out.role() else { return Ok(None) };
        Ok(Some(IamRole {
            name: r.role_name().to_string(),
            path: r.path().to_string(),
            arn: r.arn().to_string(),
            role_id: r.role_id().to_string(),
            trust: document(account, &format!("the trust policy of role `{name}`"), r.assume_role_policy_document())?,
            max_session_duration: r.max_session_duration().and_then(|m| u32::try_from(m).ok()),
            description: r.description().map(str::to_string),
            permissions_boundary: r
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_string),
            tags: tags(r.tags()),
            inline_policies: BTreeMap::new(),
            attached_policies: Vec::new(),
            instance_profiles: Vec::new(),
        }))
    }

    /// The ARNs attached to `to` (`ListAttached{Role,User,Group}Policies`, every page);
    /// `None` when `to` does not exist.
    async fn attached(&self, account: &str, to: &IamPrincipal) -> Result<Option<Vec<String>>, CloudError> {
        let acct = self.account(account).await?;
        let mut arns = Vec::new();
        let mut marker: Option<String> = None;
        let what = in_account(to, account);
        loop {
            // One page of `ListAttached{Role,User,Group}Policies`: the same call on three builders.
            macro_rules! page {
                ($op:ident, $who:ident, $n:expr, $action:literal) => {
                    match acct.iam.$op().$who($n).set_marker(marker.take()).send().await {
                        Ok(o) => (
                            o.attached_policies().to_vec(),
                            o.is_truncated().then(|| o.marker().map(str::to_string)).flatten(),
                        ),
                        Err(e) if is_code(&e, "NoSuchEntity") => return Ok(None),
                        Err(e) => return Err(cloud_error(account, $action, &what, &acct.principal, &e)),
                    }
                };
            }
            let (list, next) = match to {
                IamPrincipal::Role(n) => {
                    page!(list_attached_role_policies, role_name, n, "iam:ListAttachedRolePolicies")
                }
                IamPrincipal::User(n) => {
                    page!(list_attached_user_policies, user_name, n, "iam:ListAttachedUserPolicies")
                }
                IamPrincipal::Group(n) => {
                    page!(list_attached_group_policies, group_name, n, "iam:ListAttachedGroupPolicies")
                }
            };
            arns.extend(list.iter().filter_map(|p| p.policy_arn()).map(str::to_string));
            match next {
                Some(m) if !m.is_empty() => marker = Some(m),
                _ => break,
            }
        }
        arns.sort();
        Ok(Some(arns))
    }

    /// Whether IAM reads back `expect` now (one read, two for a default document).
    async fn holds(&self, expect: &IamExpect) -> Result<bool, CloudError> {
        match expect {
            IamExpect::Exists { account, entity, exists } => {
                let acct = self.account(account).await?;
                let what = in_account(entity, account);
                let found = match entity {
                    IamEntity::Role(n) => match acct.iam.get_role().role_name(n).send().await {
                        Ok(_) => true,
                        Err(e) if is_code(&e, "NoSuchEntity") => false,
                        Err(e) => return Err(cloud_error(account, "iam:GetRole", &what, &acct.principal, &e)),
                    },
                    IamEntity::InstanceProfile(n) => {
                        match acct.iam.get_instance_profile().instance_profile_name(n).send().await {
                            Ok(_) => true,
                            Err(e) if is_code(&e, "NoSuchEntity") => false,
                            Err(e) => {
                                return Err(cloud_error(account, "iam:GetInstanceProfile", &what, &acct.principal, &e))
                            }
                        }
                    }
                    IamEntity::Policy(arn) => match acct.iam.get_policy().policy_arn(arn).send().await {
                        Ok(_) => true,
                        Err(e) if is_code(&e, "NoSuchEntity") => false,
                        Err(e) => return Err(cloud_error(account, "iam:GetPolicy", &what, &acct.principal, &e)),
                    },
                    IamEntity::User(n) => match acct.iam.get_user().user_name(n).send().await {
                        Ok(_) => true,
                        Err(e) if is_code(&e, "NoSuchEntity") => false,
                        Err(e) => return Err(cloud_error(account, "iam:GetUser", &what, &acct.principal, &e)),
                    },
                    IamEntity::Group(n) => match acct.iam.get_group().group_name(n).send().await {
                        Ok(_) => true,
                        Err(e) if is_code(&e, "NoSuchEntity") => false,
                        Err(e) => return Err(cloud_error(account, "iam:GetGroup", &what, &acct.principal, &e)),
                    },
                };
                Ok(found == *exists)
            }
            IamExpect::ProfileRoles { account, profile, roles } => {
                let acct = self.account(account).await?;
                match acct.iam.get_instance_profile().instance_profile_name(profile).send().await {
                    Ok(out) => {
                        let live: Vec<&str> = out
                            .instance_profile()
                            .map(|p| p.roles().iter().map(|r| r.role_name()).collect())
                            .unwrap_or_default();
                        Ok(live == roles.iter().map(String::as_str).collect::<Vec<_>>())
                    }
                    Err(e) if is_code(&e, "NoSuchEntity") => Ok(false),
                    Err(e) => {
                        let what = in_account(IamEntity::InstanceProfile(profile.clone()), account);
                        Err(cloud_error(account, "iam:GetInstanceProfile", &what, &acct.principal, &e))
                    }
                }
            }
            IamExpect::DefaultDocument { account, policy_arn, document: expected } => {
                let acct = self.account(account).await?;
                let what = in_account(IamEntity::Policy(policy_arn.clone()), account);
                let default = match acct.iam.get_policy().policy_arn(policy_arn).send().await {
                    Ok(out) => out.policy().and_then(|p| p.default_version_id()).map(str::to_string),
                    Err(e) if is_code(&e, "NoSuchEntity") => return Ok(false),
                    Err(e) => return Err(cloud_error(account, "iam:GetPolicy", &what, &acct.principal, &e)),
                };
                let Some(default) = default else { return Ok(false) };
                match acct.iam.get_policy_version().policy_arn(policy_arn).version_id(&default).send().await {
                    Ok(out) => {
                        let text = out.policy_version().and_then(|v| v.document());
                        Ok(document(account, &what, text).is_ok_and(|d| &d == expected))
                    }
                    Err(e) if is_code(&e, "NoSuchEntity") => Ok(false),
                    Err(e) => Err(cloud_error(account, "iam:GetPolicyVersion", &what, &acct.principal, &e)),
                }
            }
            IamExpect::Attached { account, to, policy_arn, attached } => {
                let live = self.attached(account, to).await?;
                Ok(live.is_some_and(|l| l.contains(policy_arn)) == *attached)
            }
        }
    }
}

/// Fold one role entry of a bulk-read page into `out`.
fn add_role(out: &mut AccountIam, r: &aws_sdk_iam::types::RoleDetail) -> Result<(), CloudError> {
    let account = out.account.clone();
    let name = r.role_name().unwrap_or_default().to_string();
    let mut inline = BTreeMap::new();
    for p in r.role_policy_list() {
        let policy = p.policy_name().unwrap_or_default();
        let what = format!("inline policy `{policy}` of role `{name}`");
        inline.insert(policy.to_string(), document(&account, &what, p.policy_document())?);
    }
    let mut attached: Vec<String> =
        r.attached_managed_policies().iter().filter_map(|p| p.policy_arn()).map(str::to_string).collect();
    attached.sort();
    let mut profiles = Vec::new();
    let (mut description, mut max_session) = (None, None);
    for p in r.instance_profile_list() {
        profiles.push(p.instance_profile_name().to_string());
        for member in p.roles() {
            if member.role_name() == name {
                description = description.or_else(|| member.description().map(str::to_string));
                max_session = max_session.or_else(|| member.max_session_duration().and_then(|m| u32::try_from(m).ok()));
            }
        }
        out.instance_profiles.entry(p.instance_profile_name().to_string()).or_insert_with(|| IamInstanceProfile {
            name: p.instance_profile_name().to_string(),
            path: p.path().to_string(),
            arn: p.arn().to_string(),
            roles: p.roles().iter().map(|m| m.role_name().to_string()).collect(),
        });
    }
    profiles.sort();
    let trust = document(&account, &format!("the trust policy of role `{name}`"), r.assume_role_policy_document())?;
    out.roles.insert(
        name.clone(),
        IamRole {
            path: r.path().unwrap_or("/").to_string(),
            arn: r.arn().unwrap_or_default().to_string(),
            role_id: r.role_id().unwrap_or_default().to_string(),
            trust,
            max_session_duration: max_session,
            description,
            permissions_boundary: r
                .permissions_boundary()
                .and_then(|b| b.permissions_boundary_arn())
                .map(str::to_string),
            tags: tags(r.tags()),
            inline_policies: inline,
            attached_policies: attached,
            instance_profiles: profiles,
            name,
        },
    );
    Ok(())
}

fn add_policy(out: &mut AccountIam, p: &aws_sdk_iam::types::ManagedPolicyDetail) -> Result<(), CloudError> {
    let arn = p.arn().unwrap_or_default().to_string();
    // moto leaves PolicyName out: the ARN ends with it.
    let name = p.policy_name().map(str::to_string).unwrap_or_else(|| policy_name_from_arn(&arn).to_string());
    let mut versions = Vec::new();
    for v in p.policy_version_list() {
        let id = v.version_id().unwrap_or_default().to_string();
        let what = format!("version {id} of managed policy `{name}`");
        versions.push(IamPolicyVersion {
            document: document(&out.account, &what, v.document())?,
            is_default: v.is_default_version(),
            id,
        });
    }
    sort_versions(&mut versions);
    let default_version_id = p
        .default_version_id()
        .map(str::to_string)
        .or_else(|| versions.iter().find(|v| v.is_default).map(|v| v.id.clone()))
        .unwrap_or_default();
    out.policies.insert(
        name.clone(),
        IamPolicy {
            path: p.path().unwrap_or("/").to_string(),
            policy_id: p.policy_id().map(str::to_string),
            description: p.description().map(str::to_string).filter(|d| !d.is_empty()),
            default_version_id,
            versions,
            attachment_count: p.attachment_count().and_then(|c| u32::try_from(c).ok()).unwrap_or(0),
            name,
            arn,
        },
    );
    Ok(())
}

fn add_user(out: &mut AccountIam, u: &aws_sdk_iam::types::UserDetail) -> Result<(), CloudError> {
    let name = u.user_name().unwrap_or_default().to_string();
    let mut inline = BTreeMap::new();
    for p in u.user_policy_list() {
        let policy = p.policy_name().unwrap_or_default();
        let what = format!("inline policy `{policy}` of user `{name}`");
        inline.insert(policy.to_string(), document(&out.account, &what, p.policy_document())?);
    }
    let mut attached: Vec<String> =
        u.attached_managed_policies().iter().filter_map(|p| p.policy_arn()).map(str::to_string).collect();
    attached.sort();
    let mut groups = u.group_list().to_vec();
    groups.sort();
    let user = IamUser {
        path: u.path().unwrap_or("/").to_string(),
        arn: u.arn().unwrap_or_default().to_string(),
        user_id: u.user_id().unwrap_or_default().to_string(),
        tags: tags(u.tags()),
        inline_policies: inline,
        attached_policies: attached,
        groups,
        name: name.clone(),
    };
    out.users.get_or_insert_with(BTreeMap::new).insert(name, user);
    Ok(())
}

fn add_group(out: &mut AccountIam, g: &aws_sdk_iam::types::GroupDetail) -> Result<(), CloudError> {
    let name = g.group_name().unwrap_or_default().to_string();
    let mut inline = BTreeMap::new();
    for p in g.group_policy_list() {
        let policy = p.policy_name().unwrap_or_default();
        let what = format!("inline policy `{policy}` of group `{name}`");
        inline.insert(policy.to_string(), document(&out.account, &what, p.policy_document())?);
    }
    let mut attached: Vec<String> =
        g.attached_managed_policies().iter().filter_map(|p| p.policy_arn()).map(str::to_string).collect();
    attached.sort();
    let group = IamGroup {
        path: g.path().unwrap_or("/").to_string(),
        arn: g.arn().unwrap_or_default().to_string(),
        group_id: g.group_id().unwrap_or_default().to_string(),
        inline_policies: inline,
        attached_policies: attached,
        name: name.clone(),
    };
    out.groups.get_or_insert_with(BTreeMap::new).insert(name, group);
    Ok(())
}

#[async_trait]
impl IamCloud for AwsCloud {
    async fn read_account(&self, account: &AccountId, scope: ReadScope) -> Result<AccountIam, CloudError> {
        let acct = self.account(account).await?;
        let mut filter = vec![EntityType::Role, EntityType::LocalManagedPolicy];
        if scope.users {
            filter.extend([EntityType::User, EntityType::Group]);
        }
        let mut out = AccountIam {
            account: account.to_string(),
            users: scope.users.then(BTreeMap::new),
            groups: scope.users.then(BTreeMap::new),
            ..AccountIam::default()
        };
        let mut marker: Option<String> = None;
        loop {
            let page = acct
                .iam
                .get_account_authorization_details()
                .set_filter(Some(filter.clone()))
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| cloud_error(account, GAAD, &format!("account {account}"), &acct.principal, &e))?;
            out.pages += 1;
            for r in page.role_detail_list() {
                add_role(&mut out, r)?;
            }
            for p in page.policies() {
                add_policy(&mut out, p)?;
            }
            if scope.users {
                for u in page.user_detail_list() {
                    add_user(&mut out, u)?;
                }
                for g in page.group_detail_list() {
                    add_group(&mut out, g)?;
                }
            }
            match page.marker() {
                Some(next) if page.is_truncated() && !next.is_empty() => marker = Some(next.to_string()),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn create_role(&self, account: &AccountId, role: &NewRole) -> Result<Created, CloudError> {
        let acct = self.account(account).await?;
        let what = in_account(IamEntity::Role(role.name.clone()), account);
        let tags = sdk_tags(account, "iam:CreateRole", &role.tags)?;
        let trust = role.trust.to_string();
        let sent = self
            .retry_propagation(|| {
                acct.iam
                    .create_role()
                    .role_name(&role.name)
                    .path(path_or_root(&role.path))
                    .assume_role_policy_document(&trust)
                    .set_description(role.description.clone())
                    .set_max_session_duration(role.max_session_duration.and_then(|m| i32::try_from(m).ok()))
                    .set_permissions_boundary(role.permissions_boundary.clone())
                    .set_tags(tags.clone())
                    .send()
            })
            .await;
        match sent {
            Ok(out) => {
                let r = out.role();
                Ok(Created {
                    arn: r.map(|r| r.arn().to_string()).unwrap_or_default(),
                    id: r.map(|r| r.role_id().to_string()),
                })
            }
            Err(e) if is_code(&e, "EntityAlreadyExists") => {
                let mut wanted = role.clone();
                wanted.path = path_or_root(&role.path).to_string();
                match self.role_as_read(account, &role.name).await? {
                    Some(live) if live.name == role.name && wanted.is_same_as(&live) => {
                        Ok(Created { arn: live.arn, id: Some(live.role_id) })
                    }
                    _ => Err(exists_differently(&what)),
                }
            }
            Err(e) => Err(cloud_error(account, "iam:CreateRole", &what, &acct.principal, &e)),
        }
    }

    async fn update_role(
        &self,
        account: &AccountId,
        role: &str,
        description: Option<&str>,
        max_session_duration: Option<u32>,
    ) -> Result<(), CloudError> {
        let acct = self.account(account).await?;
        acct.iam
            .update_role()
            .role_name(role)
            .set_description(description.map(str::to_string))
            .set_max_session_duration(max_session_duration.and_then(|m| i32::try_from(m).ok()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                cloud_error(
                    account,
                    "iam:UpdateRole",
                    &in_account(IamEntity::Role(role.into()), account),
                    &acct.principal,
                    &e,
                )
            })
    }

    async fn delete_role(&self, account: &AccountId, role: &str) -> Result<(), CloudError> {
        let acct = self.account(account).await?;
        match acct.iam.delete_role().role_name(role).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, "NoSuchEntity") => Ok(()),
            Err(e) => {
                let what = in_account(IamEntity::Role(role.into()), account);
                Err(cloud_error(account, "iam:DeleteRole", &what, &acct.principal, &e))
            }
        }
    }

    async fn create_instance_profile(
        &self,
        account: &AccountId,
        name: &str,
        path: &str,
    ) -> Result<Created, CloudError> {
        let acct = self.account(account).await?;
        let what = in_account(IamEntity::InstanceProfile(name.into()), account);
        match acct.iam.create_instance_profile().instance_profile_name(name).path(path_or_root(path)).send().await {
            Ok(out) => {
                let p = out.instance_profile();
                Ok(Created {
                    arn: p.map(|p| p.arn().to_string()).unwrap_or_default(),
                    id: p.map(|p| p.instance_profile_id().to_string()),
                })
            }
            Err(e) if is_code(&e, "EntityAlreadyExists") => {
                match acct.iam.get_instance_profile().instance_profile_name(name).send().await {
                    Ok(out) => match out.instance_profile() {
                        Some(p) if p.path() == path_or_root(path) => {
                            Ok(Created { arn: p.arn().to_string(), id: Some(p.instance_profile_id().to_string()) })
                        }
                        _ => Err(exists_differently(&what)),
                    },
                    Err(e) => Err(cloud_error(account, "iam:GetInstanceProfile", &what, &acct.principal, &e)),
                }
            }
            Err(e) => Err(cloud_error(account, "iam:CreateInstanceProfile", &what, &acct.principal, &e)),
        }
    }

    async fn add_role_to_instance_profile(
        &self,
        account: &AccountId,
        profile: &str,
        role: &str,
    ) -> Result<(), CloudError> {
        let acct = self.account(account).await?;
        let what = in_account(IamEntity::InstanceProfile(profile.into()), account);
        let sent = self
            .retry_propagation(|| {
                acct.iam.add_role_to_instance_profile().instance_profile_name(profile).role_name(role).send()
            })
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, "LimitExceeded") || is_code(&e, "EntityAlreadyExists") => {
                // Already holding a role: this one (a retried step) is success.
                let here = IamExpect::ProfileRoles {
                    account: account.to_string(),
                    profile: profile.to_string(),
                    roles: vec![role.to_string()],
                };
                if self.holds(&here).await? {
                    Ok(())
                } else {
                    Err(CloudError::LimitExceeded {
                        what,
                        message: format!(
                            "it already holds another role (one role per instance profile): {}",
                            message_of(&e)
                        ),
                    })
                }
            }
            Err(e) => Err(cloud_error(account, "iam:AddRoleToInstanceProfile", &what, &acct.principal, &e)),
        }
    }

    async fn remove_role_from_instance_profile(
        &self,
        account: &AccountId,
        profile: &str,
        role: &str,
    ) -> Result<(), CloudError> {
        let acct = self.account(account).await?;
        match acct.iam.remove_role_from_instance_profile().instance_profile_name(profile).role_name(role).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, "NoSuchEntity") => Ok(()),
            Err(e) => {
                let what = in_account(IamEntity::InstanceProfile(profile.into()), account);
                Err(cloud_error(account, "iam:RemoveRoleFromInstanceProfile", &what, &acct.principal, &e))
            }
        }
    }

    async fn delete_instance_profile(&self, account: &AccountId, profile: &str) -> Result<(), CloudError> {
        let acct = self.account(account).await?;
        match acct.iam.delete_instance_profile().instance_profile_name(profile).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, "NoSuchEntity") => Ok(()),
            Err(e) => {
                let what = in_account(IamEntity::InstanceProfile(profile.into()), account);
                Err(cloud_error(account, "iam:DeleteInstanceProfile", &what, &acct.principal, &e))
            }
        }
    }

    async fn create_policy(&self, account: &AccountId, policy: &NewPolicy) -> Result<Created, CloudError> {
        let acct = self.account(account).await?;
        let path = path_or_root(&policy.path);
        let what = in_account(format!("managed policy `{}`", policy.name), account);
        let sent = acct
            .iam
            .create_policy()
            .policy_name(&policy.name)
            .path(path)
            .set_description(Some(policy.description.clone()).filter(|d| !d.is_empty()))
            .policy_document(policy.document.to_string())
            .send()
            .await;
        match sent {
            Ok(out) => {
                let p = out.policy();
                Ok(Created {
                    arn: p.and_then(|p| p.arn()).unwrap_or_default().to_string(),
                    id: p.and_then(|p| p.policy_id()).map(str::to_string),
                })
            }
            Err(e) if is_code(&e, "EntityAlreadyExists") => {
                let partition = self.settings().partition.as_str();
                let arn = format!("arn:{partition}:iam::{account}:policy{path}{}", policy.name);
                let versions = self.policy_versions(account, &arn).await?;
                match versions {
                    Some(v) if v.iter().any(|v| v.is_default && v.document == policy.document) => {
                        Ok(Created { arn, id: None })
                    }
                    _ => Err(exists_differently(&what)),
                }
            }
            Err(e) => Err(cloud_error(account, "iam:CreatePolicy", &what, &acct.principal, &e)),
        }
    }

    async fn create_policy_version(
        &self,
        account: &AccountId,
        policy_arn: &str,
        document: &Value,
    ) -> Result<String, CloudError> {
        let what = in_account(IamEntity::Policy(policy_arn.to_string()), account);
        let versions = self
            .policy_versions(account, policy_arn)
            .await?
            .ok_or_else(|| CloudError::NoSuchEntity { what: what.clone() })?;
        if let Some(default) = versions.iter().find(|v| v.is_default && &v.document == document) {
            return Ok(default.id.clone());
        }
        if let Some(oldest) = version_to_prune(&versions) {
            self.delete_policy_version(account, policy_arn, &oldest.id).await?;
        }
        let acct = self.account(account).await?;
        let out = acct
            .iam
            .create_policy_version()
            .policy_arn(policy_arn)
            .policy_document(document.to_string())
            .set_as_default(true)
            .send()
            .await
            .map_err(|e| cloud_error(account, "iam:CreatePolicyVersion", &what, &acct.principal, &e))?;
        Ok(out.policy_version().and_then(|v| v.version_id()).unwrap_or_default().to_string())
    }

    async fn delete_policy(&self, account: &AccountId, policy_arn: &str) -> Result<(), CloudError> {
        let Some(versions) = self.policy_versions(account, policy_arn).await? else { return Ok(()) };
        for v in versions.iter().filter(|v| !v.is_default) {
            self.delete_policy_version(account, policy_arn, &v.id).await?;
        }
        let acct = self.account(account).await?;
        match acct.iam.delete_policy().policy_arn(policy_arn).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, "NoSuchEntity") => Ok(()),
            Err(e) => {
                let what = in_account(IamEntity::Policy(policy_arn.to_string()), account);
                Err(cloud_error(account, "iam:DeletePolicy", &what, &acct.principal, &e))
            }
        }
    }

    async fn attach_policy(&self, account: &AccountId, to: &IamPrincipal, policy_arn: &str) -> Result<(), CloudError> {
        let acct = self.account(account).await?;
        let what = in_account(format!("managed policy `{policy_arn}` on {to}"), account);
        // `Attach{Role,User,Group}Policy`: the same call on three builders.
        macro_rules! attach {
            ($op:ident, $who:ident, $n:expr, $action:literal) => {
                self.retry_propagation(|| acct.iam.$op().$who($n).policy_arn(policy_arn).send())
                    .await
                    .map(|_| ())
                    .map_err(|e| cloud_error(account, $action, &what, &acct.principal, &e))
            };
        }
        match to {
            IamPrincipal::Role(n) => attach!(attach_role_policy, role_name, n, "iam:AttachRolePolicy"),
            IamPrincipal::User(n) => attach!(attach_user_policy, user_name, n, "iam:AttachUserPolicy"),
            IamPrincipal::Group(n) => attach!(attach_group_policy, group_name, n, "iam:AttachGroupPolicy"),
        }
    }

    async fn detach_policy(&self, account: &AccountId, to: &IamPrincipal, policy_arn: &str) -> Result<(), CloudError> {
        let acct = self.account(account).await?;
        let what = in_account(format!("managed policy `{policy_arn}` on {to}"), account);
        // `Detach{Role,User,Group}Policy`: the same call on three builders; already detached is done.
        macro_rules! detach {
            ($op:ident, $who:ident, $n:expr, $action:literal) => {
                match acct.iam.$op().$who($n).policy_arn(policy_arn).send().await {
                    Ok(_) => Ok(()),
                    Err(e) if is_code(&e, "NoSuchEntity") => Ok(()),
                    Err(e) => Err(cloud_error(account, $action, &what, &acct.principal, &e)),
                }
            };
        }
        match to {
            IamPrincipal::Role(n) => detach!(detach_role_policy, role_name, n, "iam:DetachRolePolicy"),
            IamPrincipal::User(n) => detach!(detach_user_policy, user_name, n, "iam:DetachUserPolicy"),
            IamPrincipal::Group(n) => detach!(detach_group_policy, group_name, n, "iam:DetachGroupPolicy"),
        }
    }

    async fn create_user(&self, account: &AccountId, user: &NewUser) -> Result<Created, CloudError> {
        let acct = self.account(account).await?;
        let what = in_account(IamEntity::User(user.name.clone()), account);
        let tags = sdk_tags(account, "iam:CreateUser", &user.tags)?;
        match acct.iam.create_user().user_name(&user.name).path(path_or_root(&user.path)).set_tags(tags).send().await {
            Ok(out) => {
                let u = out.user();
                Ok(Created {
                    arn: u.map(|u| u.arn().to_string()).unwrap_or_default(),
                    id: u.map(|u| u.user_id().to_string()),
                })
            }
            Err(e) if is_code(&e, "EntityAlreadyExists") => {
                match acct.iam.get_user().user_name(&user.name).send().await {
                    Ok(out) => match out.user() {
                        Some(u) if u.path() == path_or_root(&user.path) => {
                            Ok(Created { arn: u.arn().to_string(), id: Some(u.user_id().to_string()) })
                        }
                        _ => Err(exists_differently(&what)),
                    },
                    Err(e) => Err(cloud_error(account, "iam:GetUser", &what, &acct.principal, &e)),
                }
            }
            Err(e) => Err(cloud_error(account, "iam:CreateUser", &what, &acct.principal, &e)),
        }
    }

    async fn delete_user(&self, account: &AccountId, user: &str) -> Result<(), CloudError> {
        let acct = self.account(account).await?;
        match acct.iam.delete_user().user_name(user).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, "NoSuchEntity") => Ok(()),
            Err(e) => {
                let what = in_account(IamEntity::User(user.into()), account);
                Err(cloud_error(account, "iam:DeleteUser", &what, &acct.principal, &e))
            }
        }
    }

    async fn create_group(&self, account: &AccountId, group: &str, path: &str) -> Result<Created, CloudError> {
        let acct = self.account(account).await?;
        let what = in_account(IamEntity::Group(group.into()), account);
        match acct.iam.create_group().group_name(group).path(path_or_root(path)).send().await {
            Ok(out) => {
                let g = out.group();
                Ok(Created {
                    arn: g.map(|g| g.arn().to_string()).unwrap_or_default(),
                    id: g.map(|g| g.group_id().to_string()),
                })
            }
            Err(e) if is_code(&e, "EntityAlreadyExists") => match acct.iam.get_group().group_name(group).send().await {
                Ok(out) => match out.group() {
                    Some(g) if g.path() == path_or_root(path) => {
                        Ok(Created { arn: g.arn().to_string(), id: Some(g.group_id().to_string()) })
                    }
                    _ => Err(exists_differently(&what)),
                },
                Err(e) => Err(cloud_error(account, "iam:GetGroup", &what, &acct.principal, &e)),
            },
            Err(e) => Err(cloud_error(account, "iam:CreateGroup", &what, &acct.principal, &e)),
        }
    }

    async fn delete_group(&self, account: &AccountId, group: &str) -> Result<(), CloudError> {
        let acct = self.account(account).await?;
        match acct.iam.delete_group().group_name(group).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, "NoSuchEntity") => Ok(()),
            Err(e) => {
                let what = in_account(IamEntity::Group(group.into()), account);
                Err(cloud_error(account, "iam:DeleteGroup", &what, &acct.principal, &e))
            }
        }
    }

    async fn add_user_to_group(&self, account: &AccountId, user: &str, group: &str) -> Result<(), CloudError> {
        let acct = self.account(account).await?;
        self.retry_propagation(|| acct.iam.add_user_to_group().group_name(group).user_name(user).send())
            .await
            .map(|_| ())
            .map_err(|e| {
                let what = in_account(format!("{} in group `{group}`", IamEntity::User(user.into())), account);
                cloud_error(account, "iam:AddUserToGroup", &what, &acct.principal, &e)
            })
    }

    async fn remove_user_from_group(&self, account: &AccountId, user: &str, group: &str) -> Result<(), CloudError> {
        let acct = self.account(account).await?;
        match acct.iam.remove_user_from_group().group_name(group).user_name(user).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, "NoSuchEntity") => Ok(()),
            Err(e) => {
                let what = in_account(format!("{} in group `{group}`", IamEntity::User(user.into())), account);
                Err(cloud_error(account, "iam:RemoveUserFromGroup", &what, &acct.principal, &e))
            }
        }
    }

    async fn put_user_policy(
        &self,
        account: &AccountId,
        user: &str,
        policy: &str,
        document: &Value,
    ) -> Result<(), CloudError> {
        let acct = self.account(account).await?;
        let text = document.to_string();
        self.retry_propagation(|| {
            acct.iam.put_user_policy().user_name(user).policy_name(policy).policy_document(&text).send()
        })
        .await
        .map(|_| ())
        .map_err(|e| {
            let what = in_account(format!("inline policy `{policy}` of user `{user}`"), account);
            cloud_error(account, "iam:PutUserPolicy", &what, &acct.principal, &e)
        })
    }

    async fn delete_user_policy(&self, account: &AccountId, user: &str, policy: &str) -> Result<(), CloudError> {
        let acct = self.account(account).await?;
        match acct.iam.delete_user_policy().user_name(user).policy_name(policy).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, "NoSuchEntity") => Ok(()),
            Err(e) => {
                let what = in_account(format!("inline policy `{policy}` of user `{user}`"), account);
                Err(cloud_error(account, "iam:DeleteUserPolicy", &what, &acct.principal, &e))
            }
        }
    }

    async fn attached_policies_quota(&self, account: &AccountId) -> Result<usize, CloudError> {
        let acct = self.account(account).await?;
        match acct.iam.get_account_summary().send().await {
            Ok(out) => Ok(out
                .summary_map()
                .and_then(|m| m.get(&SummaryKeyType::AttachedPoliciesPerRoleQuota))
                .and_then(|q| usize::try_from(*q).ok())
                .filter(|q| *q > 0)
                .unwrap_or(DEFAULT_ATTACHED_POLICIES_QUOTA)),
            Err(e) => match Failure::of(&e) {
                Failure::AccessDenied(_) => Ok(DEFAULT_ATTACHED_POLICIES_QUOTA),
                f => {
                    Err(f.into_cloud(account, "iam:GetAccountSummary", &format!("account {account}"), &acct.principal))
                }
            },
        }
    }

    async fn wait_until(&self, expect: &IamExpect) -> Result<(), CloudError> {
        crate::cloud::wait_consistently(&self.settings().consistency, || expect.to_string(), || self.holds(expect))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_raw_or_encoded() {
        let raw = r#"{"Version": "2012-10-17", "Statement": []}"#;
        let encoded = "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%5D%7D";
        assert_eq!(document("1", "x", Some(raw)).unwrap(), document("1", "x", Some(encoded)).unwrap());
        let e = document("111111111111", "inline policy `p` of role `r`", Some("%7Bnot")).unwrap_err();
        assert!(e.to_string().contains("the document of inline policy `p` of role `r` is not JSON"), "{e}");
    }
}
