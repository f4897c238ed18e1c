//! The planner: desired resources, stored state and a refresh of live IAM in, a [`Plan`] out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{json, Value};
use xacct_policy as policy;
use xacct_spec::{Address, DesiredResource, Spec};
use xacct_state::State;

use crate::cloud::{Cloud, CloudError, LiveRole};
use crate::diff::{self, error, warning, StoredManifest, StoredPolicy, StoredTrust};
use crate::live::{refresh, Live, Progress, ReadSet};
use crate::model::{sha256, Action, Change, OrgCounts, Plan, Target, PLAN_FORMAT_VERSION};
use crate::org::{AccountState, Discovery};

/// How to plan.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    /// Read live IAM (`--refresh=false` plans from state alone; such a plan cannot be applied).
    pub refresh: bool,
    /// Plan only these addresses and what they depend on (`--target`).
    pub targets: Vec<Address>,
    /// Accounts read at once.
    pub parallelism: usize,
    pub xacct_version: String,
    /// What discovery from AWS Organizations found for the file's `organization` block (the
    /// spec planned is then the merged one, see [`crate::org::merge`]). `None`: the file has no
    /// such block. With it, an account state holds that is now closed or suspended is forgotten
    /// without being read, and the removal guard applies.
    pub organization: Option<Discovery>,
    /// The removal guard (`--allow-removals` turns it into a warning).
    pub removals: Removals,
}

/// The removal guard: how a plan treats discovered accounts that left the selection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Removals {
    /// Refuse (a plan error) when discovery lost too many of the accounts state holds from it:
    /// see [`removal_guard`].
    #[default]
    Guarded,
    /// `--allow-removals`: plan them, with a warning that the guard was overridden.
    Allowed,
    /// `destroy`: every removal is asked for; no guard.
    Destroy,
}

/// Whether the removal guard refuses `removals` of the `discovered` trust statements state holds
/// from AWS Organizations, with some selector state holds accounts from finding no ACTIVE
/// account when `empty_selector` is true: more than one and more than a fifth of them, or any at
/// all while a selector found nothing.
pub fn removal_guard(removals: usize, discovered: usize, empty_selector: bool) -> bool {
    (removals >= 2 && removals * 5 > discovered) || (removals >= 1 && empty_selector)
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            refresh: true,
            targets: Vec::new(),
            parallelism: 10,
            xacct_version: env!("CARGO_PKG_VERSION").into(),
            organization: None,
            removals: Removals::Guarded,
        }
    }
}

/// Everything xacct owns according to state, typed.
#[derive(Default)]
pub(crate) struct Stored {
    pub trust: BTreeMap<Address, StoredTrust>,
    pub policy: Option<StoredPolicy>,
    pub manifests: BTreeMap<Address, StoredManifest>,
    pub iam: BTreeMap<Address, crate::bootstrap::StoredIam>,
}

pub(crate) fn stored(state: Option<&State>) -> Result<Stored, String> {
    let mut out = Stored::default();
    let Some(state) = state else { return Ok(out) };
    for (addr, r) in &state.resources {
        let a: Address = addr.parse().map_err(|e| format!("state: {e}"))?;
        let bad = |e: serde_json::Error| format!("state entry `{addr}` is not what this xacct wrote: {e}");
        match &a {
            Address::Trust(_) => {
                out.trust.insert(a.clone(), serde_json::from_value(r.attributes.clone()).map_err(bad)?);
            }
            Address::AssumePolicy => out.policy = Some(serde_json::from_value(r.attributes.clone()).map_err(bad)?),
            Address::Manifest { .. } => {
                out.manifests.insert(a.clone(), serde_json::from_value(r.attributes.clone()).map_err(bad)?);
            }
            Address::Role(_) => {}
            Address::Iam { .. } => {
                out.iam.insert(a.clone(), serde_json::from_value(r.attributes.clone()).map_err(bad)?);
            }
        }
    }
    Ok(out)
}

/// Build the plan.
pub async fn plan(
    spec: &Spec,
    spec_bytes: &[u8],
    state: Option<&State>,
    cloud: Arc<dyn Cloud>,
    opts: &PlanOptions,
    progress: &dyn Progress,
) -> Plan {
    let mut plan = Plan {
        format_version: PLAN_FORMAT_VERSION,
        xacct_version: opts.xacct_version.clone(),
        spec_digest: sha256(spec_bytes),
        lineage: state.map(|s| s.lineage.clone()),
        serial: state.map(|s| s.serial),
        refreshed: opts.refresh,
        targets: opts.targets.iter().map(ToString::to_string).collect(),
        changes: Vec::new(),
        drift: Vec::new(),
        diagnostics: Vec::new(),
        summary: Default::default(),
        applyable: true,
    };
    let stored = match stored(state) {
        Ok(s) => s,
        Err(e) => {
            plan.diagnostics.push(crate::model::Diagnostic {
                severity: crate::model::Level::Error,
                address: None,
                message: e,
                hint: None,
            });
            plan.summarize(0);
            return plan;
        }
    };
    let prepared = match crate::bootstrap::prepare(spec) {
        Ok(p) => p,
        Err(errors) => {
            plan.diagnostics.extend(errors.iter().map(crate::bootstrap::plan_diagnostic));
            plan.summarize(0);
            return plan;
        }
    };
    plan.diagnostics.extend(prepared.warnings.iter().map(crate::bootstrap::plan_diagnostic));
    let spec = &prepared.spec;
    let desired = crate::bootstrap::desired(&prepared);
    let calls_before = cloud.call_count();
    let moves = renamed(spec, &desired, &stored);
    // Accounts Organizations reports closed or suspended: what state holds in them is forgotten
    // without reading or writing anything there.
    let inactive: BTreeMap<&str, &crate::org::Account> =
        opts.organization.iter().flat_map(|d| d.inactive.iter().map(|f| (f.account.id.as_str(), &f.account))).collect();
    let unreachable = |addr: &Address, t: &StoredTrust| -> Option<&crate::org::Account> {
        if desired.resources.contains_key(addr) || moves.from.contains_key(addr) {
            return None;
        }
        inactive.get(t.account.as_str()).copied()
    };

    // What to read: every role and policy the file or the state names.
    let mut set = ReadSet::default();
    for r in desired.resources.values() {
        match r {
            DesiredResource::Role { account, role } => {
                set.roles.insert((account.clone(), role.name.clone()));
            }
            DesiredResource::AssumePolicy { account, role, policy_name, .. } => {
                set.policies.insert((account.clone(), role.name.clone(), policy_name.clone()));
            }
            _ => {}
        }
    }
    for (addr, t) in &stored.trust {
        if unreachable(addr, t).is_none() {
            set.roles.insert((t.account.clone(), t.role.clone()));
        }
    }
    if let Some(p) = &stored.policy {
        set.policies.insert((p.account.clone(), p.role.clone(), p.policy.clone()));
    }
    let boot = crate::bootstrap::Run::start(&prepared, &stored.iam, &mut set, &cloud, opts).await;
    let live = if opts.refresh {
        let mut live = refresh(cloud.clone(), &set, opts.parallelism, progress).await;
        boot.fill(&mut live, &mut set, &spec.partition);
        live
    } else {
        live_from_state(&set, &stored)
    };

    // Manifests: the identity each workload's files should carry.
    let mut manifest_texts: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
    let mut read_text =
        |p: &PathBuf| manifest_texts.entry(p.clone()).or_insert_with(|| std::fs::read_to_string(p).ok()).clone();
    let mut namespaces: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in desired.resources.values() {
        if let DesiredResource::Manifest { workload, path, identity, .. } = r {
            if identity.allowed_namespaces.is_none() {
                if let Some(text) = read_text(path) {
                    if let Ok(m) = xacct_manifest::Manifest::parse(path, &text) {
                        namespaces.entry(workload.clone()).or_default().extend(m.namespaces());
                    }
                }
            }
        }
    }

    let workloads: std::collections::HashMap<&str, &xacct_spec::Workload> =
        spec.workloads.iter().map(|w| (w.name.as_str(), w)).collect();
    let mut diffed = Vec::new();
    // Discovered trust statements the plan removes because their account left the selection.
    let mut leaving: Vec<Address> = Vec::new();
    for (addr, r) in &desired.resources {
        match r {
            DesiredResource::Role { account, role } => {
                let mut c = diff::change(
                    addr,
                    Action::NoOp,
                    Target::Role { account: account.clone(), role: role.name.clone() },
                );
                match live.role(account, &role.name) {
                    Some(Ok(Some(lr))) => {
                        c.live_fingerprint = Some(sha256(lr.role_id.as_bytes()));
                        let expected = role.arn(&spec.partition, account);
                        if opts.refresh && lr.arn != expected && lr.arn.eq_ignore_ascii_case(&expected) {
                            // IAM role names are unique regardless of case, so GetRole found it.
                            plan.diagnostics.push(warning(
                                addr,
                                format!("IAM spells the role `{}`; the file writes `{expected}`", lr.arn),
                                Some("write the role name as IAM does: policies and manifests carry the name as written".into()),
                            ));
                        } else if opts.refresh && lr.arn != expected {
                            // Every ARN xacct writes (trust principal, assume policy, manifest
                            // roleARN) is built from the file's path: a wrong one grants nothing.
                            let live_path = lr
                                .arn
                                .split_once(":role")
                                .and_then(|(_, rest)| rest.rsplit_once('/'))
                                .map(|(path, _)| format!("{path}/"))
                                .unwrap_or_else(|| "/".into());
                            plan.diagnostics.push(error(
                                addr,
                                format!(
                                    "role `{}` in account {account} is `{}`, but the file makes it `{expected}`",
                                    role.name, lr.arn
                                ),
                                Some(format!("set the role's path: `role: {{ name: {}, path: {live_path} }}`", role.name)),
                            ));
                        }
                        let w = addr.workload().and_then(|n| workloads.get(n).copied());
                        check_session_duration(w, addr, lr, &mut plan);
                    }
                    Some(Ok(None)) => plan.diagnostics.push(error(
                        addr,
                        format!("role `{}` does not exist in account {account}", role.name),
                        Some("create the CAPA IAM roles first (`clusterawsadm bootstrap iam` or the DKP prerequisites), or name the right role with `role:`".into()),
                    )),
                    Some(Err(e)) => plan.diagnostics.push(error(addr, format!("cannot read role `{}`: {e}", role.name), None)),
                    None => {}
                }
                plan.changes.push(c);
            }
            DesiredResource::Trust { account, role, statement, .. } => {
                let mut owned = stored.trust.get(addr).or_else(|| moves.trust_for(addr, &stored));
                if let Some(s) = owned.filter(|s| s.account != *account || s.role != role.name) {
                    // Diffing the new role against what xacct owns in the old one would call the
                    // statement deleted and leave the old trust in place, forgotten.
                    plan.diagnostics.push(error(
                        addr,
                        format!(
                            "`{addr}` moved from role `{}` in account {} to role `{}` in account {account}; xacct's statement in the old role would be left behind",
                            s.role, s.account, role.name
                        ),
                        Some("remove the workload from the file and apply (this deletes the old statement), then add it back with its new account or role".into()),
                    ));
                    owned = None;
                }
                diffed.push(diff::trust(diff::TrustInput {
                    address: addr,
                    account,
                    role: &role.name,
                    desired: Some(statement),
                    stored: owned,
                    live: live.role(account, &role.name),
                    from_state: !opts.refresh,
                    partition: Some(&spec.partition),
                }))
            }
            DesiredResource::AssumePolicy { account, role, policy_name, document } => {
                let mut owned = stored.policy.as_ref();
                if let Some(s) = owned.filter(|s| s.account != *account || s.role != role.name) {
                    plan.diagnostics.push(error(
                        addr,
                        format!(
                            "the assume policy moved from role `{}` in account {} to role `{}` in account {account}; the old policy `{}` would be left behind",
                            s.role, s.account, role.name, s.policy
                        ),
                        Some("moving the management role is not supported: restore the old account and role, or `xacct destroy` and apply again".into()),
                    ));
                    owned = None;
                } else if let Some(s) = owned.filter(|s| s.policy != *policy_name) {
                    plan.diagnostics.push(error(
                        addr,
                        format!("the assume policy was renamed from `{}` to `{policy_name}`", s.policy),
                        Some(format!(
                            "renaming is not supported; without losing access: `xacct state rm assume_policy.management`, `xacct apply` (creates `{policy_name}`), then delete `{}` from the role by hand (`aws iam delete-role-policy`)",
                            s.policy
                        )),
                    ));
                }
                diffed.push(diff::inline_policy(diff::PolicyInput {
                    address: addr,
                    account,
                    role: &role.name,
                    name: policy_name,
                    desired: Some(document),
                    stored: owned,
                    live: live.policy(account, &role.name, policy_name),
                    partition: Some(&spec.partition),
                }))
            }
            DesiredResource::Manifest { workload, path, written, identity } => {
                if workloads.get(workload.as_str()).is_some_and(|w| w.discovered.is_some()) {
                    diffed.push(crate::identity_file::desired(crate::identity_file::Desired {
                        address: addr,
                        written,
                        path,
                        identity,
                        stored: stored.manifests.get(addr),
                        others: &desired,
                        live: read_text(path).as_deref(),
                    }));
                    continue;
                }
                let spec_identity = xacct_manifest::IdentitySpec {
                    name: identity.name.clone(),
                    role_arn: identity.role_arn.clone(),
                    allowed_namespaces: match &identity.allowed_namespaces {
                        Some(a) => a.clone(),
                        None => xacct_manifest::AllowedNamespaces::List(
                            namespaces.get(workload).map(|s| s.iter().cloned().collect()).unwrap_or_default(),
                        ),
                    },
                    external_id: identity.external_id.clone(),
                    duration_seconds: identity.duration_seconds,
                    session_name: identity.session_name.clone(),
                };
                let text = read_text(path);
                diffed.push(diff::manifest(diff::ManifestInput {
                    address: addr,
                    written,
                    desired: Some(&spec_identity),
                    stored: stored.manifests.get(addr).or_else(|| moves.manifest_for(addr, &stored)),
                    live: text.as_deref(),
                    path,
                }));
            }
        }
    }
    // Owned things the file no longer asks for (a renamed workload's are now the new name's).
    for (addr, s) in &stored.trust {
        if let Some(to) = moves.from.get(addr) {
            // The fingerprint of what was read, so a saved plan's stale check can compare it.
            let seen = match live.role(&s.account, &s.role) {
                Some(Ok(Some(lr))) => Some(crate::model::doc_fingerprint(&lr.trust_policy)),
                _ => None,
            };
            diffed.push(moved(addr, to, Target::Trust { account: s.account.clone(), role: s.role.clone() }, seen));
        } else if let Some(account) = unreachable(addr, s) {
            let (d, warning) = forget_unreachable(addr, s, account);
            diffed.push(d);
            plan.diagnostics.push(warning);
        } else if !desired.resources.contains_key(addr) {
            if s.discovered() && opts.organization.is_some() {
                leaving.push(addr.clone());
            }
            diffed.push(diff::trust(diff::TrustInput {
                address: addr,
                account: &s.account,
                role: &s.role,
                desired: None,
                stored: Some(s),
                live: live.role(&s.account, &s.role),
                from_state: !opts.refresh,
                partition: Some(&spec.partition),
            }));
        }
    }
    if let Some(s) = stored.policy.as_ref().filter(|_| !desired.resources.contains_key(&Address::AssumePolicy)) {
        diffed.push(diff::inline_policy(diff::PolicyInput {
            address: &Address::AssumePolicy,
            account: &s.account,
            role: &s.role,
            name: &s.policy,
            desired: None,
            stored: Some(s),
            live: live.policy(&s.account, &s.role, &s.policy),
            partition: Some(&spec.partition),
        }));
    }
    for (addr, s) in &stored.manifests {
        if let Some(to) = moves.from.get(addr) {
            let path = spec.dir.join(&s.path);
            let seen = read_text(&path).map(|t| sha256(t.as_bytes()));
            diffed.push(moved(addr, to, Target::Manifest { path: path.display().to_string() }, seen));
        } else if s.owned && !desired.resources.contains_key(addr) {
            let path = spec.dir.join(&s.path);
            let trust = Address::Trust(addr.workload().unwrap_or_default().to_string());
            match stored.trust.get(&trust).and_then(|t| unreachable(&trust, t)) {
                Some(a) => diffed.push(crate::identity_file::forget_unreachable(
                    addr,
                    s,
                    &path,
                    &format!("account {} is {} in AWS Organizations", a.id, a.state),
                )),
                None => diffed.push(crate::identity_file::diff(crate::identity_file::FileInput {
                    address: addr,
                    written: &s.path,
                    path: &path,
                    desired: None,
                    stored: Some(s),
                    live: read_text(&path).as_deref(),
                })),
            }
        } else if !desired.resources.contains_key(addr) {
            let path = spec.dir.join(&s.path);
            let text = read_text(&path);
            diffed.push(diff::manifest(diff::ManifestInput {
                address: addr,
                written: &s.path,
                desired: None,
                stored: Some(s),
                live: text.as_deref(),
                path: &path,
            }));
        }
    }
    for d in &mut diffed {
        mark_discovered(spec, &workloads, &mut d.change);
        if opts.removals != Removals::Destroy && leaving.contains(&d.change.address) {
            let Target::Trust { account, .. } = &d.change.target else { continue };
            d.change.reason = match d.change.action() {
                Action::Delete => Some(format!("account {account} left the AWS Organizations selection")),
                Action::Forget => Some(format!(
                    "account {account} left the AWS Organizations selection, and the statement is already gone"
                )),
                _ => d.change.reason.take(),
            };
        }
    }
    if let (Some(discovery), Some(org)) = (&opts.organization, &spec.organization) {
        if opts.removals != Removals::Destroy {
            guard(org, discovery, &stored, &leaving, opts.removals, &mut plan);
        }
    }
    for mut d in diffed {
        d.change.replaces = moves.to.get(&d.change.address).cloned();
        plan.changes.push(d.change);
        plan.drift.extend(d.drift);
        plan.diagnostics.extend(d.diagnostics);
    }

    if opts.refresh {
        check_limits(spec, &mut plan, &cloud, &boot).await;
    } else {
        plan.diagnostics.push(crate::model::Diagnostic {
            severity: crate::model::Level::Warning,
            address: None,
            message: "planned from state alone (--refresh=false): live IAM was not read, so changes made outside xacct are not shown".into(),
            hint: Some("this plan cannot be applied; plan again with refresh to apply".into()),
        });
    }
    boot.finish(&mut plan);
    order(&desired.graph, &mut plan);
    crate::bootstrap::order_removals(&mut plan);
    if !opts.targets.is_empty() {
        restrict(&desired.graph, &opts.targets, &mut plan);
    }
    account_failures(&set, &live, &mut plan);
    if let (Some(discovery), Some(org)) = (&opts.organization, &spec.organization) {
        plan.summary.organizations_calls = Some(discovery.calls);
        plan.summary.organization = Some(org_counts(spec, org, discovery, &stored));
    }
    plan.summarize(cloud.call_count() - calls_before);
    if !opts.refresh {
        plan.applyable = false;
    }
    plan
}

/// What to do about credentials that cannot be loaded or are refused.
const CREDENTIALS_HINT: &str = "xacct starts from the default credential chain: set AWS_PROFILE to a profile in \
     ~/.aws/config (for an SSO profile, run `aws sso login --profile NAME` first), or AWS_ACCESS_KEY_ID and \
     AWS_SECRET_ACCESS_KEY; an account reached another way needs its own `access` block in the file; against an \
     emulator, pass --endpoint-url with its test credentials. See docs/troubleshooting.md, \"No AWS credentials\"";

/// What to do about an `sts:AssumeRole` that AWS denies.
const ASSUME_HINT: &str = "the role in the account's `access.assume_role` must trust the base credentials (and \
     expect the `external_id` set, if any). See docs/troubleshooting.md, \"Access denied and credentials\"";

/// What to do when STS cannot be reached.
const REACH_HINT: &str = "check the way to AWS (HTTPS_PROXY, NO_PROXY) or the emulator's --endpoint-url \
     (AWS_ENDPOINT_URL); --log-level debug logs every call and what came back. See docs/troubleshooting.md, \
     \"AWS cannot be reached\"";

/// A read that failed because xacct could not act in its account at all — its credentials, or
/// the STS call that gets them: the account, the cause worded without the resource, and the hint.
fn account_failure(e: &CloudError) -> Option<(&str, String, &'static str)> {
    match e {
        CloudError::Credentials { account, message } => Some((account, message.clone(), CREDENTIALS_HINT)),
        CloudError::AccessDenied { account, action, .. } if action.starts_with("sts:") => {
            Some((account, e.to_string(), ASSUME_HINT))
        }
        CloudError::Other { account, action, message } if action.starts_with("sts:") => {
            Some((account, format!("`{action}` failed: {message}"), REACH_HINT))
        }
        CloudError::Throttled { account, action } if action.starts_with("sts:") => {
            Some((account, format!("AWS throttled `{action}` and retries ran out"), REACH_HINT))
        }
        _ => None,
    }
}

/// `account 1`, `accounts 1 and 2`, `accounts 1, 2 and 3`.
fn accounts_phrase<'a>(accounts: impl IntoIterator<Item = &'a String>) -> String {
    let accounts: Vec<&String> = accounts.into_iter().collect();
    match accounts.split_last() {
        Some((last, [])) => format!("account {last}"),
        Some((last, rest)) => {
            format!("accounts {} and {last}", rest.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", "))
        }
        None => "no account".to_string(),
    }
}

/// Reads that failed for want of access to their account share a cause: say it once per
/// account, or once for all the accounts it stopped (the base credentials, an unreachable
/// endpoint), first, instead of once per resource. When no account could be read, nothing was
/// compared with live IAM, so no change is listed either.
fn account_failures(set: &ReadSet, live: &Live, plan: &mut Plan) {
    let mut causes: BTreeMap<String, (BTreeSet<String>, &'static str)> = BTreeMap::new();
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let errors = live
        .roles
        .values()
        .filter_map(|r| r.as_ref().err())
        .chain(live.policies.values().filter_map(|r| r.as_ref().err()));
    for e in errors {
        let Some((account, cause, hint)) = account_failure(e) else { continue };
        reported.insert(e.to_string());
        causes.entry(cause).or_insert_with(|| (BTreeSet::new(), hint)).0.insert(account.to_string());
    }
    if causes.is_empty() {
        return;
    }
    // Every per-resource diagnostic ends with the error it reports.
    plan.diagnostics.retain(|d| !reported.iter().any(|e| d.message.ends_with(e.as_str())));
    let read: BTreeSet<&str> =
        set.roles.iter().map(|(a, _)| a.as_str()).chain(set.policies.iter().map(|(a, _, _)| a.as_str())).collect();
    let failed: BTreeSet<&str> = causes.values().flat_map(|(a, _)| a.iter().map(String::as_str)).collect();
    let none_read = read.iter().all(|a| failed.contains(a));
    let diagnostic = |message: String, hint: Option<&str>| crate::model::Diagnostic {
        severity: crate::model::Level::Error,
        address: None,
        message,
        hint: hint.map(str::to_string),
    };
    let mut first = Vec::new();
    for (cause, (accounts, hint)) in &causes {
        let which = accounts_phrase(accounts);
        let message = if none_read && causes.len() == 1 {
            let ids = accounts.iter().map(String::as_str).collect::<Vec<_>>().join(", ");
            format!(
                "no account could be read ({ids}), so nothing was compared with live IAM and no change is listed: {cause}"
            )
        } else {
            format!("cannot read {which}: {cause}")
        };
        first.push(diagnostic(message, Some(hint)));
    }
    if none_read && causes.len() > 1 {
        first.push(diagnostic(
            "no account could be read (above), so nothing was compared with live IAM and no change is listed".into(),
            None,
        ));
    }
    if none_read {
        plan.changes.clear();
        plan.drift.clear();
    }
    first.append(&mut plan.diagnostics);
    plan.diagnostics = first;
}

/// Addresses whose owned thing carries on under another address: a workload renamed in the file
/// keeps the same role (or manifest), so its statement (or edits) move to the new name instead of
/// being adopted by one address and deleted by the other.
#[derive(Default)]
struct Moves {
    /// new address → old address
    to: BTreeMap<Address, Address>,
    /// old address → new address
    from: BTreeMap<Address, Address>,
}

impl Moves {
    fn trust_for<'s>(&self, addr: &Address, stored: &'s Stored) -> Option<&'s StoredTrust> {
        self.to.get(addr).and_then(|old| stored.trust.get(old))
    }

    fn manifest_for<'s>(&self, addr: &Address, stored: &'s Stored) -> Option<&'s StoredManifest> {
        self.to.get(addr).and_then(|old| stored.manifests.get(old))
    }

    fn pair(&mut self, old: &Address, new: &Address) {
        self.to.insert(new.clone(), old.clone());
        self.from.insert(old.clone(), new.clone());
    }
}

/// For each stored address the file no longer names, the desired address that owns the same
/// thing (xacct's statement in the same role, or the same manifest file), if any. A desired
/// address with no state of its own takes over the old one's state (its change `replaces` the
/// old address); otherwise the old address is just let go. Either way it is forgotten, never
/// deleted: deleting would remove what the new name owns.
fn renamed(spec: &Spec, desired: &xacct_spec::Desired, stored: &Stored) -> Moves {
    let mut moves = Moves::default();
    let mut trust_heirs: BTreeMap<(&str, &str), &Address> = BTreeMap::new();
    let mut manifest_heirs: BTreeMap<PathBuf, &Address> = BTreeMap::new();
    for (addr, r) in &desired.resources {
        match r {
            DesiredResource::Trust { account, role, .. } => {
                trust_heirs.insert((account.as_str(), role.name.as_str()), addr);
            }
            DesiredResource::Manifest { path, .. } => {
                manifest_heirs.insert(canonical(path), addr);
            }
            _ => {}
        }
    }
    let mut hand_over = |old: &Address, new: &Address, has_own_state: bool| {
        if has_own_state || moves.to.contains_key(new) {
            moves.from.insert(old.clone(), new.clone());
        } else {
            moves.pair(old, new);
        }
    };
    for (old, s) in stored.trust.iter().filter(|(a, _)| !desired.resources.contains_key(*a)) {
        if let Some(new) = trust_heirs.get(&(s.account.as_str(), s.role.as_str())) {
            hand_over(old, new, stored.trust.contains_key(*new));
        }
    }
    for (old, s) in stored.manifests.iter().filter(|(a, _)| !desired.resources.contains_key(*a)) {
        if let Some(new) = manifest_heirs.get(&canonical(&spec.dir.join(&s.path))) {
            hand_over(old, new, stored.manifests.contains_key(*new));
        }
    }
    moves
}

/// The file a path names (through `..`, `.` or a symlink); the path itself when it cannot be read.
fn canonical(path: &std::path::Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The old address of a renamed workload: dropped from state, nothing written.
fn moved(old: &Address, new: &Address, target: Target, live_fingerprint: Option<String>) -> diff::Diffed {
    let mut c = diff::change(old, Action::Forget, target);
    c.live_fingerprint = live_fingerprint;
    c.reason = Some(format!("renamed to `{new}`, which keeps it: dropping the old name from state"));
    diff::Diffed { change: c, drift: None, diagnostics: Vec::new() }
}

/// A live view that says "live is what state says": for `--refresh=false`.
fn live_from_state(set: &ReadSet, stored: &Stored) -> Live {
    let mut live = Live::default();
    for (account, role) in &set.roles {
        let stmts: Vec<Value> = stored
            .trust
            .values()
            .filter(|t| &t.account == account && &t.role == role)
            .map(|t| t.statement.clone())
            .collect();
        let doc = json!({ "Version": "2012-10-17", "Statement": stmts });
        live.roles.insert(
            (account.clone(), role.clone()),
            Ok(Some(LiveRole {
                arn: String::new(),
                role_id: String::new(),
                trust_policy: doc.to_string(),
                max_session_duration: 3600,
            })),
        );
    }
    for (account, role, name) in &set.policies {
        let doc = stored
            .policy
            .as_ref()
            .filter(|p| &p.account == account && &p.role == role && &p.policy == name)
            .map(|p| p.document.to_string());
        live.policies.insert((account.clone(), role.clone(), name.clone()), Ok(doc));
    }
    live
}

fn check_session_duration(w: Option<&xacct_spec::Workload>, addr: &Address, role: &LiveRole, plan: &mut Plan) {
    let Some(w) = w else { return };
    if let Some(d) = w.identity.duration_seconds {
        if i64::from(d) > i64::from(role.max_session_duration) {
            plan.diagnostics.push(error(
                addr,
                format!(
                    "identity `{}` asks for {d}-second sessions but role `{}` allows at most {} (MaxSessionDuration)",
                    w.identity.name, w.role.name, role.max_session_duration
                ),
                Some("lower `identity.duration_seconds` or raise the role's MaxSessionDuration".into()),
            ));
        }
    }
}

/// Limits real IAM enforces and the emulator does not: trust size against the account's quota,
/// and the management role's inline-policy budget.
async fn check_limits(spec: &Spec, plan: &mut Plan, cloud: &Arc<dyn Cloud>, boot: &crate::bootstrap::Run) {
    let mut diags = Vec::new();
    for c in &plan.changes {
        let Some(doc) = c.write.as_deref() else { continue };
        match (&c.target, c.action()) {
            (Target::Trust { account, role }, Action::Create | Action::Update) => {
                let size = policy::iam_size(doc);
                if size <= policy::TRUST_POLICY_DEFAULT_QUOTA {
                    continue;
                }
                let quota = cloud.trust_policy_quota(account).await.unwrap_or(policy::TRUST_POLICY_DEFAULT_QUOTA);
                if size > quota {
                    diags.push(error(
                        &c.address,
                        format!("the trust policy of role `{role}` in account {account} would be {size} characters; the account allows {quota}"),
                        Some(format!(
                            "ask AWS to raise the `Role trust policy length` quota (up to {}), or remove unused statements",
                            policy::TRUST_POLICY_MAX_QUOTA
                        )),
                    ));
                }
            }
            // A bulk-read account's inline budget is checked by bootstrap (with its set's policies).
            (Target::InlinePolicy { account, .. }, _) if boot.is_bulk(account) => {}
            (Target::InlinePolicy { account, role, policy: name }, Action::Create | Action::Update) => {
                let ours = policy::iam_size(doc);
                let mut others = 0;
                if ours > 0 {
                    match cloud.list_role_policies(account, role).await {
                        Ok(names) => {
                            for n in names.iter().filter(|n| *n != name) {
                                if let Ok(Some(d)) = cloud.get_role_policy(account, role, n).await {
                                    others += policy::iam_size(&d);
                                }
                            }
                        }
                        Err(e) => diags.push(warning(
                            &c.address,
                            format!("cannot list the role's other inline policies to check the size budget: {e}"),
                            None,
                        )),
                    }
                }
                let budget = policy::ROLE_INLINE_POLICIES_QUOTA;
                if ours + others > budget {
                    let available = budget.saturating_sub(others);
                    diags.push(error(
                        &c.address,
                        format!(
                            "the assume policy needs {ours} characters but role `{role}` has {available} of its {budget}-character inline budget left ({others} used by its other inline policies) for {} workload roles",
                            spec.workloads.len()
                        ),
                        Some("grant by organization instead of by ARN: `management.assume_policy.grant: { organization: o-xxxxxxxxxx }` (or `{ org_paths: [...] }`)".into()),
                    ));
                }
            }
            _ => {}
        }
    }
    plan.diagnostics.extend(diags);
}

/// Fill `depends_on`: creates and updates follow the graph; removals run in reverse (manifests
/// first, then trust statements and the assume policy).
fn order(graph: &xacct_spec::Graph, plan: &mut Plan) {
    let present: BTreeSet<Address> = plan.changes.iter().map(|c| c.address.clone()).collect();
    // old address → the change that takes it over: the old one's Forget waits for it (and is
    // skipped if it fails), and is no removal of anything in a file.
    let handed: BTreeMap<Address, Address> =
        plan.changes.iter().filter_map(|c| c.replaces.clone().map(|old| (old, c.address.clone()))).collect();
    let manifest_removals: Vec<Address> = plan
        .changes
        .iter()
        .filter(|c| c.kind == "manifest" && matches!(c.action(), Action::Delete | Action::Forget))
        .map(|c| c.address.clone())
        .collect();
    // The assume policy waits for real removals only: a handed-over manifest waits for its heir,
    // which waits for the assume policy.
    let real_removals: Vec<Address> = manifest_removals.iter().filter(|a| !handed.contains_key(*a)).cloned().collect();
    for c in &mut plan.changes {
        let mut deps: Vec<Address> = if graph.contains(&c.address) {
            graph.dependencies(&c.address).into_iter().filter(|d| present.contains(d)).collect()
        } else {
            Vec::new()
        };
        match (&c.address, c.action()) {
            (Address::Trust(w), Action::Delete | Action::Forget) => {
                deps.extend(manifest_removals.iter().filter(|m| m.workload() == Some(w.as_str())).cloned())
            }
            (Address::AssumePolicy, _) => deps.extend(real_removals.iter().cloned()),
            _ => {}
        }
        if let Some(new) = handed.get(&c.address) {
            deps.push(new.clone());
        }
        deps.sort();
        deps.dedup();
        c.depends_on = deps;
    }
    plan.changes.sort_by(|a, b| a.address.cmp(&b.address));
}

/// Keep only the targeted addresses and what they depend on.
fn restrict(graph: &xacct_spec::Graph, targets: &[Address], plan: &mut Plan) {
    // A target that names nothing would plan nothing and call it "no changes".
    let known: Vec<String> = plan.changes.iter().map(|c| c.address.to_string()).collect();
    for t in targets.iter().map(ToString::to_string).filter(|t| !known.contains(t)) {
        let nearest = known
            .iter()
            .min_by_key(|k| strsim::damerau_levenshtein(&t, k))
            .filter(|k| strsim::damerau_levenshtein(&t, k) <= 3);
        plan.diagnostics.push(crate::model::Diagnostic {
            severity: crate::model::Level::Error,
            address: None,
            message: format!(
                "--target `{t}` names nothing in the file or the state{}",
                nearest.map(|n| format!("; did you mean `{n}`?")).unwrap_or_default()
            ),
            hint: Some("`xacct graph` and `xacct state list` show the addresses".into()),
        });
    }
    // What each target needs first (the graph's order and the removals' reverse order), and the
    // other half of a renamed workload's hand-over: a target never splits one.
    let by_address: BTreeMap<&Address, &Change> = plan.changes.iter().map(|c| (&c.address, c)).collect();
    let mut keep: BTreeSet<Address> = BTreeSet::new();
    let mut stack: Vec<Address> = targets.to_vec();
    while let Some(a) = stack.pop() {
        if keep.insert(a.clone()) {
            stack.extend(graph.dependencies(&a));
            if let Some(c) = by_address.get(&a) {
                // What a change that writes or forgets must wait for (a no-op waits for nothing).
                if c.action() != Action::NoOp {
                    stack.extend(c.depends_on.iter().cloned());
                }
                stack.extend(c.replaces.iter().cloned());
            }
        }
    }
    plan.changes.retain(|c| keep.contains(&c.address));
    plan.drift.retain(|d| keep.contains(&d.address));
    plan.diagnostics.retain(|d| d.address.as_ref().is_none_or(|a| keep.iter().any(|k| k.to_string() == *a)));
    plan.diagnostics.push(crate::model::Diagnostic {
        severity: crate::model::Level::Warning,
        address: None,
        message: format!(
            "planning only {} and what they depend on: the result may be incomplete",
            targets.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
        ),
        hint: Some("run a full plan before relying on the state".into()),
    });
}

/// A trust statement in an account Organizations reports closed or suspended: dropped from state
/// without reading or writing anything there (it cannot be reached), and a warning that says so.
fn forget_unreachable(
    addr: &Address,
    s: &StoredTrust,
    account: &crate::org::Account,
) -> (diff::Diffed, crate::model::Diagnostic) {
    let state = &account.state;
    let mut c = diff::change(addr, Action::Forget, Target::Trust { account: s.account.clone(), role: s.role.clone() });
    c.before = s.statement.clone();
    c.unreachable = true;
    c.reason = Some(format!("account {} is {state} in AWS Organizations", s.account));
    let name = if account.name.is_empty() { String::new() } else { format!(" ({})", account.name) };
    let again = match state {
        AccountState::Closed => "a closed account cannot be used again; the statement goes with it",
        _ => "should it become ACTIVE again, it rejoins the selection and the next plan adopts the statement it finds",
    };
    let warning = warning(
        addr,
        format!(
            "account {}{name} is {state}: it cannot be reached; forgetting `{addr}` without deleting its statement from role `{}`",
            s.account, s.role
        ),
        Some(again.to_string()),
    );
    (diff::Diffed { change: c, drift: None, diagnostics: Vec::new() }, warning)
}

/// Record in a discovered workload's trust entry which selector found it (its index and `ou`), so
/// that once it leaves the selection xacct knows how to reach it and the removal guard counts
/// it; a listed workload's entry carries no such marker.
fn mark_discovered(spec: &Spec, workloads: &std::collections::HashMap<&str, &xacct_spec::Workload>, c: &mut Change) {
    let Address::Trust(name) = &c.address else { return };
    let Some(w) = workloads.get(name.as_str()) else { return };
    let Some(obj) = c.state_after.as_object_mut() else { return };
    let selector = w.discovered.as_ref().and_then(|d| {
        let ou = spec.organization.as_ref()?.selectors.get(d.selector)?.ou.clone();
        Some((d.selector, ou))
    });
    match selector {
        Some((i, ou)) => {
            obj.insert("org_selector".into(), json!(i));
            obj.insert("org_ou".into(), json!(ou));
        }
        None => {
            obj.remove("org_selector");
            obj.remove("org_ou");
        }
    }
}

/// `organization.workloads[0]` (`ou-…`).
fn selector_name(org: &xacct_spec::OrgSpec, i: usize) -> String {
    format!("`organization.workloads[{i}]` (`{}`)", org.selectors[i].ou)
}

/// The removal guard (see [`removal_guard`]): refuse, or warn when overridden.
fn guard(
    org: &xacct_spec::OrgSpec,
    discovery: &Discovery,
    stored: &Stored,
    leaving: &[Address],
    removals: Removals,
    plan: &mut Plan,
) {
    let held: Vec<&StoredTrust> = stored.trust.values().filter(|t| t.discovered()).collect();
    let selectors: BTreeSet<usize> =
        held.iter().filter_map(|t| crate::org::merge::selector_for(org, t.org_selector, t.org_ou.as_deref())).collect();
    let empty: Vec<usize> =
        selectors.into_iter().filter(|i| discovery.selectors.get(*i).is_some_and(|c| c.matched == 0)).collect();
    let (r, n) = (leaving.len(), held.len());
    if !removal_guard(r, n, !empty.is_empty()) {
        return;
    }
    let why = if empty.is_empty() {
        "more than one account and more than a fifth of them left the selection at once".to_string()
    } else {
        empty
            .iter()
            .map(|i| format!("{} found no ACTIVE account", selector_name(org, *i)))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let what = format!(
        "{r} of the {n} trust statement{} state holds for accounts discovered from AWS Organizations",
        if n == 1 { "" } else { "s" }
    );
    match removals {
        Removals::Guarded => plan.diagnostics.push(crate::model::Diagnostic {
            severity: crate::model::Level::Error,
            address: None,
            message: format!("refusing to remove {what}: {why}"),
            hint: Some(
                "a discovery that finds far fewer accounts than before is more often a wrong OU ID, a reorganisation or a lost permission than accounts that left: check `organization.workloads` and the reading role; if these accounts did leave, plan again with --allow-removals (nothing was written)"
                    .into(),
            ),
        }),
        Removals::Allowed => plan.diagnostics.push(crate::model::Diagnostic {
            severity: crate::model::Level::Warning,
            address: None,
            message: format!("--allow-removals overrides the removal guard: removing {what} ({why})"),
            hint: None,
        }),
        Removals::Destroy => {}
    }
}

/// The plan summary's account of discovery.
fn org_counts(spec: &Spec, org: &xacct_spec::OrgSpec, discovery: &Discovery, stored: &Stored) -> OrgCounts {
    let listed: BTreeSet<&str> =
        spec.workloads.iter().filter(|w| w.discovered.is_none()).map(|w| w.account.as_str()).collect();
    let held: BTreeSet<(&str, &str)> = stored.trust.values().map(|t| (t.account.as_str(), t.role.as_str())).collect();
    let selected: Vec<&str> =
        discovery.selected.iter().map(|f| f.account.id.as_str()).filter(|a| *a != spec.management.account).collect();
    let mut inactive = BTreeMap::new();
    for f in &discovery.inactive {
        *inactive.entry(f.account.state.as_str().to_string()).or_insert(0) += 1;
    }
    OrgCounts {
        org_id: discovery.organization.id.clone(),
        selectors: org.selectors.len(),
        selected: selected.len(),
        listed: selected.iter().filter(|a| listed.contains(*a)).count(),
        new: spec
            .workloads
            .iter()
            .filter(|w| w.discovered.is_some() && !held.contains(&(w.account.as_str(), w.role.name.as_str())))
            .count(),
        inactive,
    }
}
