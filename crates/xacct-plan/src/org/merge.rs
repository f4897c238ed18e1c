//! The spec the planner uses when the file selects workloads from AWS Organizations: the file's
//! listed workloads, then one workload per account [`discover`](super::discover) selected.
//!
//! - Each selected account becomes a [`Workload`] with its selector's settings (role, access,
//!   external ID, identity — whose `name` is the workload name) and [`Workload::discovered`] set.
//!   Its one manifest, when the selector has an `identities_dir`, is its identity file
//!   `<identities_dir>/<name>.yaml` (see [`crate::identity_file`]); otherwise it has none.
//! - Names come from [`workload_names_reserving`]: every name the file lists is taken, so a
//!   discovered account never takes a listed name.
//! - An account the file lists is the listed workload, never a second one.
//! - The management account (the organization's, which discovery leaves out, and the file's
//!   `management.account`) is never a workload.
//! - `grant: organization` becomes `grant: { organization: <the ID DescribeOrganization gave> }`.

use std::collections::{BTreeMap, BTreeSet};

use xacct_spec::{Access, Discovered, Grant, OrgSpec, Spec, Workload};
use xacct_state::State;

use super::{workload_names_reserving, Discovery, Selector};

/// Discovery's selectors for the file's `organization.workloads`, in order.
pub fn selectors(org: &OrgSpec) -> Vec<Selector> {
    org.selectors
        .iter()
        .map(|s| Selector { ou: s.ou.clone(), tags: s.tags.clone(), except: s.except.clone() })
        .collect()
}

/// The merged spec, and what the merge noticed.
#[derive(Clone, Debug)]
pub struct Merged {
    pub spec: Spec,
    /// Selected accounts the file lists under `workloads`: `(account, listed workload name)`.
    /// The listed entry is used; discovery adds nothing for them.
    pub listed: Vec<(String, String)>,
}

/// `spec` with the accounts `discovery` selected added as workloads (see the module docs).
/// A spec without an `organization` block comes back unchanged.
pub fn merge(spec: &Spec, discovery: &Discovery) -> Merged {
    let mut out = spec.clone();
    let Some(org) = spec.organization.as_ref() else { return Merged { spec: out, listed: Vec::new() } };
    let listed_by_account: BTreeMap<&str, &str> =
        spec.workloads.iter().map(|w| (w.account.as_str(), w.name.as_str())).collect();
    let reserved: BTreeSet<String> = spec.workloads.iter().map(|w| w.name.clone()).collect();
    let mut listed = Vec::new();
    let mut found = Vec::new();
    for f in &discovery.selected {
        if f.account.id == spec.management.account || f.account.id == discovery.organization.management_account_id {
            continue;
        }
        if let Some(name) = listed_by_account.get(f.account.id.as_str()) {
            listed.push((f.account.id.clone(), name.to_string()));
            continue;
        }
        found.push(f);
    }
    let names = workload_names_reserving(found.iter().map(|f| &f.account), &reserved);
    for f in found {
        let Some(sel) = org.selectors.get(f.selector) else { continue };
        let name = names[&f.account.id].clone();
        let mut identity = sel.identity.clone();
        identity.name = name.clone();
        let manifests = sel.identities_dir.iter().map(|d| crate::identity_file::file_of(d, &name)).collect();
        out.workloads.push(Workload {
            name,
            account: f.account.id.clone(),
            role: sel.role.clone(),
            access: sel.access.clone(),
            external_id: sel.external_id.clone(),
            identity,
            manifests,
            discovered: Some(Discovered {
                selector: f.selector,
                account_name: f.account.name.clone(),
                ou_path: f.ou_path.clone(),
                org_id: discovery.organization.id.clone(),
            }),
            bootstrap: sel.bootstrap.clone(),
            role_given: sel.role_given,
            pos: sel.pos,
        });
    }
    if out.management.grant == Grant::FromOrganization {
        out.management.grant = Grant::Organization { org_id: discovery.organization.id.clone() };
    }
    Merged { spec: out, listed }
}

/// The selector a state entry recorded as `(org_selector, org_ou)` belongs to in `org` now: the
/// selector with that `ou` (the recorded index when several have it), else — for an entry that
/// recorded no OU — the recorded index. `None` when the file has no such selector any more.
pub fn selector_for(org: &OrgSpec, selector: Option<usize>, ou: Option<&str>) -> Option<usize> {
    match ou {
        Some(ou) => {
            if let Some(i) = selector.filter(|i| org.selectors.get(*i).is_some_and(|s| s.ou == ou)) {
                return Some(i);
            }
            org.selectors.iter().position(|s| s.ou == ou)
        }
        None => selector.filter(|i| *i < org.selectors.len()),
    }
}

/// How to reach each account that state holds a discovered trust statement for and that `spec`
/// (merged) no longer names: with the access of the selector that found it (see
/// [`selector_for`]). An account whose selector is gone from the file is not in the map (it is
/// reached like any account the file no longer names: with `defaults.access`).
pub fn departed_access(spec: &Spec, state: Option<&State>) -> BTreeMap<String, Access> {
    let mut out = BTreeMap::new();
    let Some(org) = spec.organization.as_ref() else { return out };
    let Ok(stored) = crate::planner::stored(state) else { return out };
    let named: BTreeSet<&str> = spec
        .workloads
        .iter()
        .map(|w| w.account.as_str())
        .chain(std::iter::once(spec.management.account.as_str()))
        .collect();
    for t in stored.trust.values().filter(|t| t.discovered() && !named.contains(t.account.as_str())) {
        if let Some(i) = selector_for(org, t.org_selector, t.org_ou.as_deref()) {
            out.entry(t.account.clone()).or_insert_with(|| org.selectors[i].access.clone());
        }
    }
    out
}
