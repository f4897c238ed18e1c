//! A saved plan is applied only if nothing it read has moved since.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use xacct_plan::iam::{AccountIam, ReadScope};
use xacct_plan::{doc_fingerprint, sha256, Action, Change, Cloud, Plan, Target};
use xacct_spec::IamKind;
use xacct_state::State;

/// Why a saved plan is stale: one line per thing that moved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the saved plan is stale; nothing was written:\n{}\nhint: run `xacct plan` again", .0.iter().map(|l| format!("  - {l}")).collect::<Vec<_>>().join("\n"))]
pub struct Stale(pub Vec<String>);

/// Check state lineage and serial, then re-read every live document the plan's steps touch and
/// compare its fingerprint with the one the plan recorded. A bootstrap change's entity is
/// compared as [`AccountIam::fingerprint`] gives it, from one bulk read per account.
pub async fn check_stale(plan: &Plan, state: Option<&State>, cloud: Arc<dyn Cloud>) -> Result<(), Stale> {
    let mut moved = Vec::new();
    if !plan.refreshed {
        moved.push("the plan was made with --refresh=false and never read live IAM".to_string());
    }
    let (lineage, serial) = (state.map(|s| s.lineage.clone()), state.map(|s| s.serial));
    if plan.lineage.is_some() && lineage != plan.lineage {
        moved.push(format!(
            "state lineage is {} but the plan was made against {}",
            lineage.as_deref().unwrap_or("(no state)"),
            plan.lineage.as_deref().unwrap_or("(no state)")
        ));
    } else if serial != plan.serial {
        moved.push(format!(
            "state serial is {} but the plan was made at {} (someone applied since)",
            serial.map_or("(no state)".into(), |s| s.to_string()),
            plan.serial.map_or("(no state)".into(), |s| s.to_string())
        ));
    }
    // A no-op writes nothing; an unreachable account (closed or suspended) was never read.
    let checked = |c: &&Change| !(c.action() == Action::NoOp && c.kind != "role" || c.unreachable);
    // Bootstrap changes: each account read once, in bulk (users and groups only when a change
    // there is one), when the first of its changes is checked.
    let mut scopes: BTreeMap<&str, ReadScope> = BTreeMap::new();
    for c in plan.changes.iter().filter(checked) {
        if let Target::Iam { account, kind, .. } = &c.target {
            let scope = scopes.entry(account.as_str()).or_default();
            scope.users |= matches!(kind, IamKind::User | IamKind::Group);
        }
    }
    // Roles this plan creates (bootstrap): their trust and inline policies cannot have been read
    // live; what the plan expects of them is the role's absence, which its own change checks.
    let created: BTreeSet<(&str, &str)> = plan
        .changes
        .iter()
        .filter(|c| c.action() == Action::Create)
        .filter_map(|c| match &c.target {
            Target::Iam { account, kind: IamKind::Role, name } => Some((account.as_str(), name.as_str())),
            _ => None,
        })
        .collect();
    let mut accounts: BTreeMap<&str, Result<AccountIam, String>> = BTreeMap::new();
    for c in plan.changes.iter().filter(checked) {
        if let Target::Trust { account, role }
        | Target::InlinePolicy { account, role, .. }
        | Target::Role { account, role } = &c.target
        {
            if created.contains(&(account.as_str(), role.as_str())) {
                continue;
            }
        }
        let now = match &c.target {
            Target::Iam { account, kind, name } => {
                if !accounts.contains_key(account.as_str()) {
                    let read = match cloud.as_iam() {
                        None => Err("this cloud cannot read bootstrap resources".to_string()),
                        Some(iam) => {
                            iam.read_account(account, scopes[account.as_str()]).await.map_err(|e| e.to_string())
                        }
                    };
                    accounts.insert(account.as_str(), read);
                }
                match &accounts[account.as_str()] {
                    Ok(iam) => iam.fingerprint(*kind, name),
                    Err(e) => {
                        moved.push(format!("{}: cannot re-read: {e}", c.address));
                        continue;
                    }
                }
            }
            Target::Trust { account, role } => match cloud.get_role(account, role).await {
                Ok(r) => r.map(|r| doc_fingerprint(&r.trust_policy)),
                Err(e) => {
                    moved.push(format!("{}: cannot re-read: {e}", c.address));
                    continue;
                }
            },
            Target::Role { account, role } => match cloud.get_role(account, role).await {
                Ok(r) => r.map(|r| sha256(r.role_id.as_bytes())),
                Err(e) => {
                    moved.push(format!("{}: cannot re-read: {e}", c.address));
                    continue;
                }
            },
            Target::InlinePolicy { account, role, policy } => {
                match cloud.get_role_policy(account, role, policy).await {
                    Ok(d) => d.as_deref().map(doc_fingerprint),
                    Err(e) => {
                        moved.push(format!("{}: cannot re-read: {e}", c.address));
                        continue;
                    }
                }
            }
            Target::Manifest { path } => std::fs::read(path).ok().map(|b| sha256(&b)),
        };
        if now != c.live_fingerprint {
            let what = match (&c.live_fingerprint, &now) {
                (Some(_), None) => "is gone",
                (None, Some(_)) => "appeared",
                _ => "changed",
            };
            let thing = match &c.target {
                Target::Iam { kind, .. } => kind.noun(),
                _ => "document",
            };
            moved.push(format!("{}: the live {thing} {what} since the plan was made", c.address));
        }
    }
    if moved.is_empty() {
        Ok(())
    } else {
        Err(Stale(moved))
    }
}
