//! Refresh: read every live document a plan needs, independent accounts in parallel (bounded),
//! each account's reads in sequence so its credentials are fetched once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::stream::{self, StreamExt};

use crate::cloud::{Cloud, CloudError, LiveRole};

/// `(account, role)`.
pub type RoleKey = (String, String);
/// `(account, role, policy)`.
pub type PolicyKey = (String, String, String);

/// What to read.
#[derive(Clone, Debug, Default)]
pub struct ReadSet {
    pub roles: BTreeSet<RoleKey>,
    pub policies: BTreeSet<PolicyKey>,
}

/// What was read. A failed read is kept as its error so the rest of the plan still works.
#[derive(Clone, Debug, Default)]
pub struct Live {
    pub roles: BTreeMap<RoleKey, Result<Option<LiveRole>, CloudError>>,
    pub policies: BTreeMap<PolicyKey, Result<Option<String>, CloudError>>,
}

impl Live {
    pub fn role(&self, account: &str, role: &str) -> Option<&Result<Option<LiveRole>, CloudError>> {
        self.roles.get(&(account.to_string(), role.to_string()))
    }

    pub fn policy(&self, account: &str, role: &str, policy: &str) -> Option<&Result<Option<String>, CloudError>> {
        self.policies.get(&(account.to_string(), role.to_string(), policy.to_string()))
    }
}

/// Progress of a refresh, for a progress display.
pub trait Progress: Send + Sync {
    fn account_done(&self, account: &str, done: usize, total: usize);
}

impl Progress for () {
    fn account_done(&self, _: &str, _: usize, _: usize) {}
}

/// Read everything in `set`, at most `parallelism` accounts at a time.
pub async fn refresh(cloud: Arc<dyn Cloud>, set: &ReadSet, parallelism: usize, progress: &dyn Progress) -> Live {
    // Per account: the roles to read, then the (role, policy) pairs.
    type Reads = (Vec<String>, Vec<(String, String)>);
    let mut by_account: BTreeMap<String, Reads> = BTreeMap::new();
    for (a, r) in &set.roles {
        by_account.entry(a.clone()).or_default().0.push(r.clone());
    }
    for (a, r, p) in &set.policies {
        by_account.entry(a.clone()).or_default().1.push((r.clone(), p.clone()));
    }
    let total = by_account.len();
    let mut live = Live::default();
    let mut results = stream::iter(by_account.into_iter().map(|(account, (roles, policies))| {
        let cloud = cloud.clone();
        async move {
            let mut out_roles = Vec::new();
            let mut out_policies = Vec::new();
            for role in roles {
                let r = cloud.get_role(&account, &role).await;
                out_roles.push(((account.clone(), role), r));
            }
            for (role, policy) in policies {
                let r = cloud.get_role_policy(&account, &role, &policy).await;
                out_policies.push(((account.clone(), role, policy), r));
            }
            (account, out_roles, out_policies)
        }
    }))
    .buffer_unordered(parallelism.max(1));
    let mut done = 0;
    while let Some((account, roles, policies)) = results.next().await {
        done += 1;
        progress.account_done(&account, done, total);
        live.roles.extend(roles);
        live.policies.extend(policies);
    }
    live
}
