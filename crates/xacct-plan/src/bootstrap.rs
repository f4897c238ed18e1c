//! Bootstrap: CAPA's prerequisite IAM that xacct creates and keeps in every bootstrapped account
//! (DESIGN.md, "The prerequisites").
//!
//! - [`prepare`] loads each bootstrapped account's source (an `AWSIAMConfiguration` file, read
//!   once per file, or a profile), renders its [`ResourceSet`] for the file's partition and runs
//!   `xacct-bootstrap`'s checks: every error is a plan error before anything is read. It also
//!   gives an account that names no `role` the set's controller role (a spec transform before
//!   expansion, as the Organizations merge is).
//! - [`desired`] is the spec's expansion with one `iam_*` address per entity and the edges
//!   between them (`iam_role` after the customer-managed `iam_policy`s it attaches, an instance
//!   profile after its role, a group after its policies, a user after its groups and policies;
//!   `trust.<w>` and `assume_policy.management` after the `iam_role` they live in).
//! - [`read`] reads each bootstrapped account once (`GetAccountAuthorizationDetails`), and the
//!   planner takes the trust documents and inline policies of roles there from that read instead
//!   of `GetRole`/`GetRolePolicy`.
//! - [`diff`] is the three-way diff of every entity; [`StoredIam`] is what state records.

mod diff;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use futures::stream::{self, StreamExt};
use serde_json::Value;
use xacct_bootstrap::{PolicyRef, Principal, ResourceSet, Source};
use xacct_spec::{Address, BootstrapProfile, BootstrapSource, Desired, IamKind, RoleRef, Spec};

use crate::cloud::{Cloud, CloudError, LiveRole};
use crate::iam::{AccountIam, ReadScope};
use crate::live::{Live, ReadSet};

pub use diff::{diff, drift, edit_trust, StateDrift, StoredIam};

/// One bootstrapped account.
#[derive(Clone, Debug)]
pub struct Account {
    /// `management` or the workload's name (the account part of its addresses).
    pub name: String,
    /// The 12-digit account ID.
    pub id: String,
    pub set: ResourceSet,
    /// Where the set came from (for the checks that need it).
    pub source: Source,
    pub adopt: bool,
}

/// The file's bootstrapped accounts, ready to plan.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The spec with each bootstrapped account's role resolved (see the module docs).
    pub spec: Spec,
    pub accounts: Vec<Account>,
    /// Warnings of the configuration reader and the checks.
    pub warnings: Vec<xacct_spec::Diagnostic>,
}

impl Prepared {
    pub fn account(&self, name: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.name == name)
    }
}

fn source_of(
    b: &xacct_spec::BootstrapSpec,
    cache: &mut BTreeMap<PathBuf, Result<Source, Vec<xacct_spec::Diagnostic>>>,
) -> Result<Source, Vec<xacct_spec::Diagnostic>> {
    match &b.source {
        BootstrapSource::Profile(BootstrapProfile::Capa) => Ok(Source::Profile(xacct_bootstrap::Profile::Capa)),
        BootstrapSource::Profile(BootstrapProfile::Dkp) => Ok(Source::Profile(xacct_bootstrap::Profile::Dkp)),
        BootstrapSource::Config(m) => cache
            .entry(m.path.clone())
            .or_insert_with(|| xacct_bootstrap::load(&m.path).map(Source::from).map_err(|d| d.0))
            .clone(),
    }
}

/// Load, render and check every bootstrapped account of `spec` (see the module docs). `Err`:
/// the errors (configuration files, checks), each with its file, line and column. No I/O but
/// reading the configuration files; the same file is read and rendered once.
pub fn prepare(spec: &Spec) -> Result<Prepared, Vec<xacct_spec::Diagnostic>> {
    let mut out = spec.clone();
    let mut cache = BTreeMap::new();
    let mut rendered: BTreeMap<String, ResourceSet> = BTreeMap::new();
    let mut errors: Vec<xacct_spec::Diagnostic> = Vec::new();
    let mut warnings = Vec::new();
    let mut accounts = Vec::new();
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let mut entries: Vec<(String, String, &xacct_spec::BootstrapSpec, bool, &RoleRef)> = Vec::new();
    if let Some(b) = &spec.management.bootstrap {
        entries.push((
            "management".into(),
            spec.management.account.clone(),
            b,
            spec.management.role_given,
            &spec.management.role,
        ));
    }
    for w in &spec.workloads {
        if let Some(b) = &w.bootstrap {
            entries.push((w.name.clone(), w.account.clone(), b, w.role_given, &w.role));
        }
    }
    for (name, id, b, role_given, role) in entries {
        let source = match source_of(b, &mut cache) {
            Ok(s) => s,
            Err(d) => {
                for e in d {
                    if reported.insert(e.to_string()) {
                        if e.is_error() {
                            errors.push(e);
                        } else {
                            warnings.push(e);
                        }
                    }
                }
                continue;
            }
        };
        let key = match &source {
            Source::Config(c) => c.file.display().to_string(),
            Source::Profile(p) => format!("<profile {}>", p.name()),
        };
        if !rendered.contains_key(&key) {
            let set = xacct_bootstrap::resource_set(&source, &spec.partition);
            for d in xacct_bootstrap::check(&source, &set) {
                if d.is_error() {
                    errors.push(d);
                } else {
                    warnings.push(d);
                }
            }
            if let Source::Config(c) = &source {
                warnings.extend(c.warnings.iter().cloned());
            }
            rendered.insert(key.clone(), set);
        }
        let set = rendered[&key].clone();
        let resolved = if role_given {
            role.clone()
        } else {
            let path = set.role(&set.controller_role).map(|r| r.path.clone()).unwrap_or_else(|| "/".into());
            RoleRef { name: set.controller_role.clone(), path }
        };
        if set.role(&resolved.name).is_none() {
            let mut d = xacct_spec::Diagnostic::new(
                xacct_spec::Severity::Error,
                &spec.file,
                b.pos,
                &if name == "management" { "management.role".to_string() } else { format!("workloads.{name}.role") },
                format!(
                    "account `{name}` is bootstrapped, but its role `{}` is not one the bootstrap set makes ({})",
                    resolved.name,
                    set.roles.iter().map(|r| format!("`{}`", r.name)).collect::<Vec<_>>().join(", ")
                ),
            );
            d.hint = Some(format!(
                "leave `role` out to use the set's controller role `{}`, or say `bootstrap: false` for this account",
                set.controller_role
            ));
            errors.push(d);
            continue;
        }
        if name == "management" {
            out.management.role = resolved;
        } else if let Some(w) = out.workloads.iter_mut().find(|w| w.name == name) {
            w.role = resolved;
        }
        accounts.push(Account { name, id, set, source, adopt: b.adopt });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Prepared { spec: out, accounts, warnings })
}

/// The desired resources and graph of the prepared spec, with the bootstrap entities: see the
/// module docs. (The `iam_*` addresses are graph nodes only; [`diff`] plans them.)
pub fn desired(p: &Prepared) -> Desired {
    let mut d = p.spec.desired();
    for a in &p.accounts {
        let addr = |kind: IamKind, name: &str| Address::Iam { kind, account: a.name.clone(), name: name.to_string() };
        let deps = |to: &Principal| -> Vec<Address> {
            a.set
                .attached_to(to)
                .filter_map(|r| match r {
                    PolicyRef::Managed(n) => Some(addr(IamKind::Policy, n)),
                    PolicyRef::Arn(_) => None,
                })
                .collect()
        };
        for p in &a.set.policies {
            d.graph.add(addr(IamKind::Policy, &p.name));
        }
        for r in &a.set.roles {
            let node = addr(IamKind::Role, &r.name);
            d.graph.add(node.clone());
            for dep in deps(&Principal::Role(r.name.clone())) {
                d.graph.depends_on(&node, &dep);
            }
        }
        for ip in &a.set.instance_profiles {
            d.graph.depends_on(&addr(IamKind::InstanceProfile, &ip.name), &addr(IamKind::Role, &ip.role));
        }
        for g in &a.set.groups {
            let node = addr(IamKind::Group, &g.name);
            d.graph.add(node.clone());
            for dep in deps(&Principal::Group(g.name.clone())) {
                d.graph.depends_on(&node, &dep);
            }
        }
        for u in &a.set.users {
            let node = addr(IamKind::User, &u.name);
            d.graph.add(node.clone());
            for dep in deps(&Principal::User(u.name.clone())) {
                d.graph.depends_on(&node, &dep);
            }
            for g in &u.groups {
                d.graph.depends_on(&node, &addr(IamKind::Group, g));
            }
        }
    }
    d
}

/// Prepare and expand in one go (for `xacct graph`): the desired resources and graph, or the
/// bootstrap errors.
pub fn expand(spec: &Spec) -> Result<(Prepared, Desired), Vec<xacct_spec::Diagnostic>> {
    let p = prepare(spec)?;
    let d = desired(&p);
    Ok((p, d))
}

/// What one account's bulk read gave.
pub type Reads = BTreeMap<String, Result<AccountIam, CloudError>>;

/// Read every account in `accounts` (ID → whether users and groups are needed) once, at most
/// `parallelism` at a time. A cloud without [`Cloud::as_iam`] gives an error per account.
pub async fn read(cloud: Arc<dyn Cloud>, accounts: &BTreeMap<String, bool>, parallelism: usize) -> Reads {
    let results = stream::iter(accounts.iter().map(|(id, users)| {
        let cloud = cloud.clone();
        let id = id.clone();
        let scope = if *users { ReadScope::ALL } else { ReadScope::ROLES };
        async move {
            let r = match cloud.as_iam() {
                Some(iam) => iam.read_account(&id, scope).await,
                None => Err(CloudError::Other {
                    account: id.clone(),
                    action: "iam:GetAccountAuthorizationDetails".into(),
                    message: "this cloud client has no bootstrap interface (IamCloud): a bootstrapped account cannot be planned with it".into(),
                }),
            };
            (id, r)
        }
    }))
    .buffer_unordered(parallelism.max(1))
    .collect::<Vec<_>>()
    .await;
    results.into_iter().collect()
}

/// Take out of `set` every read in an account that is read in bulk (`reads`), and fill `live`
/// with what the bulk read says instead: a role's trust document as it will be once the
/// bootstrap step before it has run (`trusts`: account ID → role → document), its inline
/// policies as read.
pub fn take_reads(set: &mut ReadSet, bulk: &BTreeSet<String>) -> ReadSet {
    let mut taken = ReadSet::default();
    set.roles.retain(|k| {
        let keep = !bulk.contains(&k.0);
        if !keep {
            taken.roles.insert(k.clone());
        }
        keep
    });
    set.policies.retain(|k| {
        let keep = !bulk.contains(&k.0);
        if !keep {
            taken.policies.insert(k.clone());
        }
        keep
    });
    taken
}

/// Fill `live` for the reads [`take_reads`] took (see there).
pub fn fill_live(
    live: &mut Live,
    taken: &ReadSet,
    reads: &Reads,
    trusts: &BTreeMap<(String, String), Value>,
    partition: &str,
) {
    for (account, role) in &taken.roles {
        let r = match reads.get(account) {
            Some(Ok(iam)) => {
                let live_role = iam.roles.get(role);
                let trust = trusts.get(&(account.clone(), role.clone())).or(live_role.map(|r| &r.trust));
                Ok(trust.map(|t| LiveRole {
                    arn: live_role
                        .map(|r| r.arn.clone())
                        .unwrap_or_else(|| format!("arn:{partition}:iam::{account}:role/{role}")),
                    role_id: live_role.map(|r| r.role_id.clone()).unwrap_or_default(),
                    trust_policy: t.to_string(),
                    max_session_duration: live_role.and_then(|r| r.max_session_duration).unwrap_or(3600) as i32,
                }))
            }
            Some(Err(e)) => Err(e.clone()),
            None => Ok(None),
        };
        live.roles.insert((account.clone(), role.clone()), r);
    }
    for (account, role, policy) in &taken.policies {
        let r = match reads.get(account) {
            Some(Ok(iam)) => Ok(iam.roles.get(role).and_then(|r| r.inline_policies.get(policy)).map(|d| d.to_string())),
            Some(Err(e)) => Err(e.clone()),
            None => Ok(None),
        };
        live.policies.insert((account.clone(), role.clone(), policy.clone()), r);
    }
}

/// The plan diagnostic of a bootstrap diagnostic (it names its file, line and column).
pub(crate) fn plan_diagnostic(d: &xacct_spec::Diagnostic) -> crate::model::Diagnostic {
    let mut plain = d.clone();
    plain.hint = None;
    let text = plain.to_string();
    let message = text.split_once(": ").map(|(_, m)| m.to_string()).unwrap_or(text);
    crate::model::Diagnostic {
        severity: if d.is_error() { crate::model::Level::Error } else { crate::model::Level::Warning },
        address: None,
        message,
        hint: d.hint.clone(),
    }
}

/// The bootstrap part of one plan run: the bulk reads, the diff, the reads it took over.
pub(crate) struct Run {
    bulk: BTreeSet<String>,
    taken: ReadSet,
    reads: Reads,
    diff: diff::Diff,
}

impl Run {
    /// Read the bootstrapped accounts and the accounts state holds bootstrap entries in (once
    /// each), take their role and policy reads out of `set`, and diff every entity.
    pub(crate) async fn start(
        p: &Prepared,
        stored: &BTreeMap<Address, StoredIam>,
        set: &mut ReadSet,
        cloud: &Arc<dyn Cloud>,
        opts: &crate::planner::PlanOptions,
    ) -> Run {
        let destroy = opts.removals == crate::planner::Removals::Destroy;
        let accounts: &[Account] = if destroy { &[] } else { &p.accounts };
        let mut bulk: BTreeMap<String, bool> = BTreeMap::new();
        for a in accounts {
            *bulk.entry(a.id.clone()).or_default() |= !a.set.users.is_empty() || !a.set.groups.is_empty();
        }
        for (addr, s) in stored {
            let users = matches!(addr, Address::Iam { kind: IamKind::User | IamKind::Group, .. });
            *bulk.entry(s.account.clone()).or_default() |= users;
        }
        // The CAPA role of a bootstrapped account has no `role.*` precondition to ask for it.
        let spec = &p.spec;
        if spec.management.bootstrap.is_some() && !destroy {
            set.roles.insert((spec.management.account.clone(), spec.management.role.name.clone()));
        }
        for w in spec.workloads.iter().filter(|w| w.bootstrap.is_some()) {
            set.roles.insert((w.account.clone(), w.role.name.clone()));
        }
        if !opts.refresh {
            let mut diff = diff::Diff::default();
            if !bulk.is_empty() {
                diff.diagnostics.push(crate::model::Diagnostic {
                    severity: crate::model::Level::Warning,
                    address: None,
                    message:
                        "the bootstrap entities (`iam_*`) are not planned from state alone: only a refresh reads them"
                            .into(),
                    hint: None,
                });
            }
            return Run { bulk: BTreeSet::new(), taken: ReadSet::default(), reads: Reads::new(), diff };
        }
        let taken = take_reads(set, &bulk.keys().cloned().collect());
        let reads = read(cloud.clone(), &bulk, opts.parallelism).await;
        let sids: BTreeSet<String> = [xacct_spec::trust_sid(&spec.management.account)].into();
        let cx = diff::Context {
            accounts,
            stored,
            reads: &reads,
            partition: &spec.partition,
            xacct_sids: sids,
            assume_policy_name: &spec.management.assume_policy_name,
        };
        let mut d = diff::diff(&cx);
        if !destroy {
            checks(p, &reads, cloud, &mut d.diagnostics).await;
        }
        Run { bulk: bulk.keys().cloned().collect(), taken, reads, diff: d }
    }

    /// Whether `account` is read in bulk (its inline budget is checked here, not by GetRolePolicy).
    pub(crate) fn is_bulk(&self, account: &str) -> bool {
        self.bulk.contains(account)
    }

    /// Fill the planner's live view for the reads this run took, and give them back to `set`
    /// (which then says, as before, every account the plan read).
    pub(crate) fn fill(&self, live: &mut Live, set: &mut ReadSet, partition: &str) {
        fill_live(live, &self.taken, &self.reads, &self.diff.trusts, partition);
        set.roles.extend(self.taken.roles.iter().cloned());
        set.policies.extend(self.taken.policies.iter().cloned());
    }

    /// Add the bootstrap changes, drift and diagnostics to the plan.
    pub(crate) fn finish(self, plan: &mut crate::model::Plan) {
        plan.diagnostics.extend(self.diff.diagnostics);
        for d in self.diff.diffed {
            plan.changes.push(d.change);
            plan.drift.extend(d.drift);
            plan.diagnostics.extend(d.diagnostics);
        }
    }
}

/// Checks that need the account: the management controller role's inline budget with xacct's
/// assume policy, and managed policies per role past 10 against the account's quota.
async fn checks(p: &Prepared, reads: &Reads, cloud: &Arc<dyn Cloud>, out: &mut Vec<crate::model::Diagnostic>) {
    let spec = &p.spec;
    for a in &p.accounts {
        let Some(Ok(iam)) = reads.get(&a.id) else { continue };
        if a.name == "management" && !spec.workloads.is_empty() {
            let role = &spec.management.role.name;
            let assume = spec.assume_policy_document().to_string();
            let ours = xacct_policy::iam_size(&assume);
            let set_role = a.set.role(role);
            let set_size = set_role.map(|r| r.inline_size()).unwrap_or(0);
            let set_names: BTreeSet<&str> =
                set_role.map(|r| r.inline_policies.iter().map(|p| p.name.as_str()).collect()).unwrap_or_default();
            let others: Vec<String> = iam
                .roles
                .get(role)
                .map(|r| {
                    r.inline_policies
                        .iter()
                        .filter(|(n, _)| !set_names.contains(n.as_str()) && **n != spec.management.assume_policy_name)
                        .map(|(_, d)| d.to_string())
                        .collect()
                })
                .unwrap_or_default();
            let foreign = xacct_policy::inline_policies_size(others.iter().map(String::as_str));
            let budget = xacct_policy::ROLE_INLINE_POLICIES_QUOTA;
            if ours + set_size + foreign > budget {
                out.push(crate::model::Diagnostic {
                    severity: crate::model::Level::Error,
                    address: Some(Address::AssumePolicy.to_string()),
                    message: format!(
                        "role `{role}` in account {} would hold {} characters of inline policies, over its {budget}-character budget: xacct's assume policy {ours}, the bootstrap set's inline policies (extraStatements) {set_size}, other inline policies {foreign}",
                        a.id,
                        ours + set_size + foreign
                    ),
                    hint: Some("shorten `extraStatements` in the AWSIAMConfiguration, or grant by organization (`management.assume_policy.grant: { organization: o-xxxxxxxxxx }`) to shrink the assume policy".into()),
                });
            }
        }
        let over = a
            .set
            .roles
            .iter()
            .any(|r| a.set.managed_policy_count(&r.name) > crate::iam::DEFAULT_ATTACHED_POLICIES_QUOTA);
        if over {
            let Some(iam_cloud) = cloud.as_iam() else { continue };
            match iam_cloud.attached_policies_quota(&a.id).await {
                Ok(quota) => {
                    for d in xacct_bootstrap::check_attachment_quota(&a.source, &a.set, quota) {
                        let mut pd = plan_diagnostic(&d);
                        pd.message = format!("account {} (`{}`): {}", a.id, a.name, pd.message);
                        out.push(pd);
                    }
                }
                Err(e) => out.push(crate::model::Diagnostic {
                    severity: crate::model::Level::Error,
                    address: None,
                    message: format!("cannot read the managed-policies-per-role quota of account {}: {e}", a.id),
                    hint: None,
                }),
            }
        }
    }
}

/// Order bootstrap removals in reverse of the graph, as IAM needs them: an instance profile
/// before its role, a role (and user, group) before the policies it had attached, a user before
/// its groups, and `trust.*` and the assume policy before the role they live in.
pub(crate) fn order_removals(plan: &mut crate::model::Plan) {
    use crate::model::Action;
    let removal = |c: &crate::model::Change| matches!(c.action(), Action::Delete | Action::Forget);
    let removals: Vec<(Address, String, Option<String>)> = plan
        .changes
        .iter()
        .filter(|c| removal(c))
        .map(|c| {
            let acct = match &c.target {
                crate::model::Target::Iam { account, .. }
                | crate::model::Target::Trust { account, .. }
                | crate::model::Target::InlinePolicy { account, .. } => account.clone(),
                _ => String::new(),
            };
            let role = match &c.target {
                crate::model::Target::Trust { role, .. } | crate::model::Target::InlinePolicy { role, .. } => {
                    Some(role.clone())
                }
                _ => c.before.get("role").and_then(Value::as_str).map(str::to_string),
            };
            (c.address.clone(), acct, role)
        })
        .collect();
    let iam_removals: BTreeSet<Address> =
        removals.iter().filter(|(a, _, _)| matches!(a, Address::Iam { .. })).map(|(a, _, _)| a.clone()).collect();
    for c in plan.changes.iter_mut().filter(|c| removal(c)) {
        let crate::model::Target::Iam { account, kind, name } = &c.target else {
            // A trust statement or the assume policy goes before the role it lives in.
            c.depends_on.retain(|d| !iam_removals.contains(d));
            continue;
        };
        let mut deps: Vec<Address> = Vec::new();
        for (a, acct, role) in &removals {
            if acct != account || *a == c.address {
                continue;
            }
            let wait = match (kind, a) {
                (IamKind::Role, Address::Iam { kind: IamKind::InstanceProfile, .. }) => role.as_deref() == Some(name),
                (IamKind::Role, Address::Trust(_) | Address::AssumePolicy) => role.as_deref() == Some(name),
                (IamKind::Policy, Address::Iam { kind: IamKind::Role | IamKind::User | IamKind::Group, .. }) => true,
                (IamKind::Group, Address::Iam { kind: IamKind::User, .. }) => true,
                _ => false,
            };
            if wait {
                deps.push(a.clone());
            }
        }
        // What the graph says is the create order: a removal runs the other way.
        deps.extend(c.depends_on.drain(..).filter(|d| !matches!(d, Address::Iam { .. })));
        deps.sort();
        deps.dedup();
        c.depends_on = deps;
    }
}
