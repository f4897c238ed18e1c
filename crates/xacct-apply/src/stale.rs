//! A saved plan is applied only if nothing it read has moved since.

use std::sync::Arc;

use xacct_plan::{doc_fingerprint, sha256, Action, Cloud, Plan, Target};
use xacct_state::State;

/// Why a saved plan is stale: one line per thing that moved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the saved plan is stale; nothing was written:\n{}\nhint: run `xacct plan` again", .0.iter().map(|l| format!("  - {l}")).collect::<Vec<_>>().join("\n"))]
pub struct Stale(pub Vec<String>);

/// Check state lineage and serial, then re-read every live document the plan's steps touch and
/// compare its fingerprint with the one the plan recorded.
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
    for c in &plan.changes {
        // A no-op writes nothing; an unreachable account (closed or suspended) was never read.
        if c.action() == Action::NoOp && c.kind != "role" || c.unreachable {
            continue;
        }
        let now = match &c.target {
            Target::Iam { .. } => {
                moved.push(format!("{}: this xacct cannot check a bootstrap change of a saved plan yet", c.address));
                continue;
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
            moved.push(format!("{}: the live document {what} since the plan was made", c.address));
        }
    }
    if moved.is_empty() {
        Ok(())
    } else {
        Err(Stale(moved))
    }
}
