//! Running one bootstrap change: the [`IamStep`] its `write` carries, operation by operation,
//! through the cloud's [`IamCloud`].
//!
//! Every operation is idempotent there (a create finding an equal resource, a delete of
//! something gone, an attach already made all succeed), and this runner keeps it so for what
//! it decides itself: [`IamOp::EditTrust`] and the inline-policy writes read the live document
//! just before writing and write nothing when it already is what they would write. A step cut
//! short (a fault, a kill) therefore converges when it runs again, with nothing duplicated.
//!
//! After each write the runner waits until IAM reads it back (bounded by the cloud's
//! consistency settings) before the next operation, and so before any dependent step: a created
//! entity exists, an instance profile holds its role, a new policy version is the default, an
//! attachment is made or gone, a deleted entity is gone, a trust or inline document reads back
//! as written. `written` is called once, at the step's first write, for the `propagating` event.

use serde_json::Value;
use xacct_plan::iam::step::{edit_trust_document, IamOp, IamStep};
use xacct_plan::iam::{IamCloud, IamEntity, IamExpect, ReadScope};
use xacct_plan::{Change, Cloud, CloudError, DocRef, Target};

/// Run the bootstrap step of `c` (a `Target::Iam` change that writes).
pub(crate) async fn run(c: &Change, cloud: &dyn Cloud, written: &(dyn Fn() + Sync)) -> Result<(), String> {
    let Target::Iam { account, .. } = &c.target else {
        unreachable!("only bootstrap changes come here");
    };
    let Some(text) = c.write.as_deref() else {
        return Err(format!("{}: the plan has no bootstrap step to run", c.address));
    };
    let step = IamStep::from_write(text)
        .map_err(|e| format!("{}: the plan's bootstrap step is not valid: {e}; re-run `xacct plan`", c.address))?;
    if &step.account != account {
        return Err(format!(
            "{}: the plan's bootstrap step is for account {} but the change is in account {account}; re-run `xacct plan`",
            c.address, step.account
        ));
    }
    let Some(iam) = cloud.as_iam() else {
        return Err(format!("{}: this cloud cannot apply bootstrap changes", c.address));
    };
    let once = std::sync::Once::new();
    let wrote = || once.call_once(written);
    for (i, op) in step.ops.iter().enumerate() {
        run_op(iam, account, op, &step.ops[i + 1..], &wrote).await.map_err(|e| {
            format!("{} (operation {} of {}, `{}`): {e}", c.address, i + 1, step.ops.len(), op.action())
        })?;
    }
    Ok(())
}

/// The partition of an ARN (`arn:aws-cn:…` → `aws-cn`).
fn partition_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(1).filter(|p| !p.is_empty())
}

fn parse(what: &str, text: &str) -> Result<Value, CloudError> {
    serde_json::from_str(text)
        .map_err(|e| CloudError::MalformedPolicy { what: what.to_string(), message: format!("not JSON: {e}") })
}

/// One operation, then its read-back wait. `rest` is what the step does after it.
async fn run_op(
    iam: &dyn IamCloud,
    account: &str,
    op: &IamOp,
    rest: &[IamOp],
    wrote: &(dyn Fn() + Sync),
) -> Result<(), CloudError> {
    let exists = |entity: IamEntity, exists: bool| IamExpect::Exists { account: account.to_string(), entity, exists };
    match op {
        IamOp::CreateRole { role } => {
            match iam.create_role(account, role).await {
                Ok(_) => {}
                // A retried step whose first attempt went further: the role is there with the
                // trust this step's own later edits give it.
                Err(e @ CloudError::Conflict { .. }) => {
                    if !created_and_edited(iam, account, role, rest).await? {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
            wrote();
            iam.wait_until(&exists(IamEntity::Role(role.name.clone()), true)).await
        }
        IamOp::UpdateRole { role, description, max_session_duration } => {
            iam.update_role(account, role, description.as_deref(), *max_session_duration).await?;
            wrote();
            Ok(())
        }
        IamOp::EditTrust { role, remove, add } => {
            let Some(live) = iam.get_role(account, role).await? else {
                if add.is_empty() {
                    // Nothing of xacct's to take out of a role that is gone.
                    return Ok(());
                }
                return Err(CloudError::NoSuchEntity { what: format!("role `{role}` in account {account}") });
            };
            let what = format!("the trust policy of role `{role}` in account {account}");
            let doc = parse(&what, &live.trust_policy)?;
            let edited = edit_trust_document(&doc, remove, add, partition_of(&live.arn))
                .map_err(|message| CloudError::MalformedPolicy { what: what.clone(), message })?;
            let Some(edited) = edited else { return Ok(()) };
            let text = xacct_policy::to_document_text(&edited);
            iam.update_trust_policy(account, role, &live.trust_policy, &text).await?;
            wrote();
            iam.wait_consistent(&DocRef::Trust { account: account.to_string(), role: role.clone() }, Some(&text)).await
        }
        IamOp::PutRolePolicy { role, policy, document } => {
            let text = document.to_string();
            let live = iam.get_role_policy(account, role, policy).await?;
            iam.put_role_policy(account, role, policy, live.as_deref(), &text).await?;
            wrote();
            let doc = DocRef::InlinePolicy { account: account.to_string(), role: role.clone(), policy: policy.clone() };
            iam.wait_consistent(&doc, Some(&text)).await
        }
        IamOp::DeleteRolePolicy { role, policy } => {
            let Some(live) = iam.get_role_policy(account, role, policy).await? else { return Ok(()) };
            iam.delete_role_policy(account, role, policy, &live).await?;
            wrote();
            let doc = DocRef::InlinePolicy { account: account.to_string(), role: role.clone(), policy: policy.clone() };
            iam.wait_consistent(&doc, None).await
        }
        IamOp::DeleteRole { role } => {
            iam.delete_role(account, role).await?;
            wrote();
            iam.wait_until(&exists(IamEntity::Role(role.clone()), false)).await
        }
        IamOp::CreateInstanceProfile { profile, path } => {
            iam.create_instance_profile(account, profile, path).await?;
            wrote();
            iam.wait_until(&exists(IamEntity::InstanceProfile(profile.clone()), true)).await
        }
        IamOp::AddRoleToInstanceProfile { profile, role } => {
            iam.add_role_to_instance_profile(account, profile, role).await?;
            wrote();
            iam.wait_instance_profile_has_role(account, profile, role).await
        }
        IamOp::RemoveRoleFromInstanceProfile { profile, role } => {
            // No read-back here: a profile already gone cannot be read as empty, and the
            // deletes that follow it are refused (DeleteConflict) rather than harmed by a lag.
            iam.remove_role_from_instance_profile(account, profile, role).await?;
            wrote();
            Ok(())
        }
        IamOp::DeleteInstanceProfile { profile } => {
            iam.delete_instance_profile(account, profile).await?;
            wrote();
            iam.wait_until(&exists(IamEntity::InstanceProfile(profile.clone()), false)).await
        }
        IamOp::CreatePolicy { policy } => {
            let created = iam.create_policy(account, policy).await?;
            wrote();
            iam.wait_until(&exists(IamEntity::Policy(created.arn), true)).await
        }
        IamOp::CreatePolicyVersion { policy_arn, document } => {
            iam.create_policy_version(account, policy_arn, document).await?;
            wrote();
            iam.wait_until(&IamExpect::DefaultDocument {
                account: account.to_string(),
                policy_arn: policy_arn.clone(),
                document: document.clone(),
            })
            .await
        }
        IamOp::DeletePolicy { policy_arn } => {
            iam.delete_policy(account, policy_arn).await?;
            wrote();
            iam.wait_until(&exists(IamEntity::Policy(policy_arn.clone()), false)).await
        }
        IamOp::Attach { to, policy_arn } | IamOp::Detach { to, policy_arn } => {
            let attached = matches!(op, IamOp::Attach { .. });
            if attached {
                iam.attach_policy(account, to, policy_arn).await?;
            } else {
                iam.detach_policy(account, to, policy_arn).await?;
            }
            wrote();
            iam.wait_until(&IamExpect::Attached {
                account: account.to_string(),
                to: to.clone(),
                policy_arn: policy_arn.clone(),
                attached,
            })
            .await
        }
        IamOp::CreateUser { user } => {
            iam.create_user(account, user).await?;
            wrote();
            iam.wait_until(&exists(IamEntity::User(user.name.clone()), true)).await
        }
        IamOp::DeleteUser { user } => {
            iam.delete_user(account, user).await?;
            wrote();
            iam.wait_until(&exists(IamEntity::User(user.clone()), false)).await
        }
        IamOp::CreateGroup { group, path } => {
            iam.create_group(account, group, path).await?;
            wrote();
            iam.wait_until(&exists(IamEntity::Group(group.clone()), true)).await
        }
        IamOp::DeleteGroup { group } => {
            iam.delete_group(account, group).await?;
            wrote();
            iam.wait_until(&exists(IamEntity::Group(group.clone()), false)).await
        }
        IamOp::AddUserToGroup { user, group } => {
            iam.add_user_to_group(account, user, group).await?;
            wrote();
            Ok(())
        }
        IamOp::RemoveUserFromGroup { user, group } => {
            iam.remove_user_from_group(account, user, group).await?;
            wrote();
            Ok(())
        }
        IamOp::PutUserPolicy { user, policy, document } => {
            iam.put_user_policy(account, user, policy, document).await?;
            wrote();
            Ok(())
        }
        IamOp::DeleteUserPolicy { user, policy } => {
            iam.delete_user_policy(account, user, policy).await?;
            wrote();
            Ok(())
        }
    }
}

/// Whether a create of `role` that found the name taken found the role this step makes: the
/// role as created, with the trust the step's later [`IamOp::EditTrust`]s of it give it (one
/// bulk read; only on this path).
async fn created_and_edited(
    iam: &dyn IamCloud,
    account: &str,
    role: &xacct_plan::iam::NewRole,
    rest: &[IamOp],
) -> Result<bool, CloudError> {
    let partition = role_partition(iam, account, &role.name).await?;
    let mut trust = role.trust.clone();
    let mut edited = false;
    for op in rest {
        if let IamOp::EditTrust { role: name, remove, add } = op {
            if *name == role.name {
                let what = format!("the trust policy of role `{name}` in account {account}");
                if let Some(t) = edit_trust_document(&trust, remove, add, partition.as_deref())
                    .map_err(|message| CloudError::MalformedPolicy { what, message })?
                {
                    trust = t;
                    edited = true;
                }
            }
        }
    }
    if !edited {
        return Ok(false);
    }
    let live = iam.read_account(account, ReadScope::ROLES).await?;
    let expected = xacct_plan::iam::NewRole { trust, ..role.clone() };
    Ok(live.roles.get(&role.name).is_some_and(|r| expected.is_same_as(r)))
}

async fn role_partition(iam: &dyn IamCloud, account: &str, role: &str) -> Result<Option<String>, CloudError> {
    Ok(iam.get_role(account, role).await?.and_then(|r| partition_of(&r.arn).map(str::to_string)))
}
