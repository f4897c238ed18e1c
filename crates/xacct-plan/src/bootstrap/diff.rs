//! The three-way diff of bootstrap entities (DESIGN.md's table) and what state records of them.
//!
//! xacct owns, per entity, only its own parts: of a role, the set's trust statements (compared
//! by policy equivalence, REFERENCE.md §4), the attachments and inline policies it made or
//! adopted; of an instance profile, its role; of a managed policy, its default document; of a
//! user, its groups, attachments and inline policies; of a group, its attachments. Everything
//! else in an entity (xacct's own `trust.*` statement, other people's statements, attachments
//! and inline policies) is foreign and survives every write and delete.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use xacct_bootstrap::Principal;
use xacct_policy as policy;
use xacct_spec::{Address, IamKind};

use super::{Account, Reads};
use crate::diff::{change, error, warning, Diffed};
use crate::iam::step::{IamOp, IamStep};
use crate::iam::{AccountIam, IamPrincipal, NewPolicy, NewRole, NewUser};
use crate::model::{Action, Drift, DriftKind, Target};

/// What state records for one bootstrap entity (`Change::state_after`). Every field but the
/// account and name is optional, so entries of other kinds (and older ones) load.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredIam {
    /// The 12-digit account ID.
    pub account: String,
    pub name: String,
    /// xacct took it over (`adopt: true`) rather than creating it; deleted all the same.
    #[serde(default)]
    pub adopted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A role's trust statements xacct owns (the set's), as last applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trust: Vec<Value>,
    /// Managed-policy ARNs xacct attached (or adopted) to a role, user or group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<String>,
    /// Inline policies xacct owns on a role or user: name → document as last applied.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inline_policies: BTreeMap<String, Value>,
    /// An instance profile's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// A managed policy's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// A managed policy's default document as last applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Value>,
    /// A user's groups xacct added it to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// Statement equivalence, Sid included (the set's statements have none; xacct's `trust.*` one
/// has its own, so it never counts as the set's).
fn same_stmt(a: &Value, b: &Value, partition: &str) -> bool {
    crate::iam::step::statements_equivalent(a, b, Some(partition))
}

fn same_doc(a: &Value, b: &Value, partition: &str) -> bool {
    match (policy::Policy::from_value(a), policy::Policy::from_value(b)) {
        (Ok(x), Ok(y)) => policy::equivalent_in(&x, &y, Some(partition)),
        _ => a == b,
    }
}

fn stmts(doc: &Value) -> Vec<Value> {
    policy::statements(doc).map(|v| v.into_iter().cloned().collect()).unwrap_or_default()
}

fn has_stmt(doc: &Value, s: &Value, partition: &str) -> bool {
    stmts(doc).iter().any(|x| same_stmt(x, s, partition))
}

/// What [`IamOp::EditTrust`] leaves in a trust document: the executor's own edit
/// ([`edit_trust_document`](crate::iam::step::edit_trust_document)), the document unchanged when
/// the edit changes nothing.
pub fn edit_trust(doc: &Value, remove: &[Value], add: &[Value], partition: &str) -> Value {
    crate::iam::step::edit_trust_document(doc, remove, add, Some(partition))
        .ok()
        .flatten()
        .unwrap_or_else(|| doc.clone())
}

/// One entity the set wants.
struct Want {
    kind: IamKind,
    record: StoredIam,
    create: Vec<IamOp>,
}

fn principal(p: &Principal) -> IamPrincipal {
    match p {
        Principal::Role(n) => IamPrincipal::Role(n.clone()),
        Principal::User(n) => IamPrincipal::User(n.clone()),
        Principal::Group(n) => IamPrincipal::Group(n.clone()),
    }
}

fn wants(a: &Account) -> Vec<Want> {
    let set = &a.set;
    let part = set.partition.as_str();
    let arns = |to: &Principal| -> Vec<String> {
        let mut v: Vec<String> = set.attached_to(to).map(|r| r.arn(part, &a.id)).collect();
        v.sort();
        v.dedup();
        v
    };
    let mut out = Vec::new();
    for p in &set.policies {
        let arn = p.arn(part, &a.id);
        out.push(Want {
            kind: IamKind::Policy,
            record: StoredIam {
                account: a.id.clone(),
                name: p.name.clone(),
                path: Some(p.path.clone()),
                arn: Some(arn),
                document: Some(p.document.clone()),
                ..Default::default()
            },
            create: vec![IamOp::CreatePolicy {
                policy: NewPolicy {
                    name: p.name.clone(),
                    path: p.path.clone(),
                    description: p.description.clone(),
                    document: p.document.clone(),
                },
            }],
        });
    }
    for r in &set.roles {
        let to = Principal::Role(r.name.clone());
        let attachments = arns(&to);
        let inline: BTreeMap<String, Value> =
            r.inline_policies.iter().map(|p| (p.name.clone(), p.document.clone())).collect();
        let mut create = vec![IamOp::CreateRole {
            role: NewRole {
                name: r.name.clone(),
                path: r.path.clone(),
                trust: r.trust.clone(),
                description: None,
                max_session_duration: r.max_session_duration,
                permissions_boundary: r.permissions_boundary.clone(),
                tags: r.tags.clone(),
            },
        }];
        for (n, d) in &inline {
            create.push(IamOp::PutRolePolicy { role: r.name.clone(), policy: n.clone(), document: d.clone() });
        }
        for arn in &attachments {
            create.push(IamOp::Attach { to: principal(&to), policy_arn: arn.clone() });
        }
        out.push(Want {
            kind: IamKind::Role,
            record: StoredIam {
                account: a.id.clone(),
                name: r.name.clone(),
                path: Some(r.path.clone()),
                trust: stmts(&r.trust),
                attachments,
                inline_policies: inline,
                ..Default::default()
            },
            create,
        });
    }
    for ip in &set.instance_profiles {
        out.push(Want {
            kind: IamKind::InstanceProfile,
            record: StoredIam {
                account: a.id.clone(),
                name: ip.name.clone(),
                path: Some(ip.path.clone()),
                role: Some(ip.role.clone()),
                ..Default::default()
            },
            create: vec![
                IamOp::CreateInstanceProfile { profile: ip.name.clone(), path: ip.path.clone() },
                IamOp::AddRoleToInstanceProfile { profile: ip.name.clone(), role: ip.role.clone() },
            ],
        });
    }
    for g in &set.groups {
        let to = Principal::Group(g.name.clone());
        let attachments = arns(&to);
        let mut create = vec![IamOp::CreateGroup { group: g.name.clone(), path: g.path.clone() }];
        for arn in &attachments {
            create.push(IamOp::Attach { to: principal(&to), policy_arn: arn.clone() });
        }
        out.push(Want {
            kind: IamKind::Group,
            record: StoredIam {
                account: a.id.clone(),
                name: g.name.clone(),
                path: Some(g.path.clone()),
                attachments,
                ..Default::default()
            },
            create,
        });
    }
    for u in &set.users {
        let to = Principal::User(u.name.clone());
        let attachments = arns(&to);
        let inline: BTreeMap<String, Value> =
            u.inline_policies.iter().map(|p| (p.name.clone(), p.document.clone())).collect();
        let mut create = vec![IamOp::CreateUser {
            user: NewUser { name: u.name.clone(), path: u.path.clone(), tags: u.tags.clone() },
        }];
        for (n, d) in &inline {
            create.push(IamOp::PutUserPolicy { user: u.name.clone(), policy: n.clone(), document: d.clone() });
        }
        for g in &u.groups {
            create.push(IamOp::AddUserToGroup { user: u.name.clone(), group: g.clone() });
        }
        for arn in &attachments {
            create.push(IamOp::Attach { to: principal(&to), policy_arn: arn.clone() });
        }
        out.push(Want {
            kind: IamKind::User,
            record: StoredIam {
                account: a.id.clone(),
                name: u.name.clone(),
                path: Some(u.path.clone()),
                attachments,
                inline_policies: inline,
                groups: u.groups.clone(),
                ..Default::default()
            },
            create,
        });
    }
    out
}

/// The parts of a live entity, in [`StoredIam`]'s shape (`trust`: every statement).
fn live_parts(iam: &AccountIam, kind: IamKind, name: &str) -> Option<StoredIam> {
    let base = |path: &str| StoredIam {
        account: iam.account.clone(),
        name: name.to_string(),
        path: Some(path.to_string()),
        ..Default::default()
    };
    match kind {
        IamKind::Role => iam.roles.get(name).map(|r| StoredIam {
            trust: stmts(&r.trust),
            attachments: r.attached_policies.clone(),
            inline_policies: r.inline_policies.clone().into_iter().collect(),
            ..base(&r.path)
        }),
        IamKind::InstanceProfile => {
            iam.instance_profiles.get(name).map(|p| StoredIam { role: p.roles.first().cloned(), ..base(&p.path) })
        }
        IamKind::Policy => iam.policies.get(name).map(|p| StoredIam {
            arn: Some(p.arn.clone()),
            document: p.default_document().cloned(),
            ..base(&p.path)
        }),
        IamKind::User => iam.users.as_ref()?.get(name).map(|u| StoredIam {
            attachments: u.attached_policies.clone(),
            inline_policies: u.inline_policies.clone().into_iter().collect(),
            groups: u.groups.clone(),
            ..base(&u.path)
        }),
        IamKind::Group => iam
            .groups
            .as_ref()?
            .get(name)
            .map(|g| StoredIam { attachments: g.attached_policies.clone(), ..base(&g.path) }),
    }
}

fn iam_principal(kind: IamKind, name: &str) -> Option<IamPrincipal> {
    match kind {
        IamKind::Role => Some(IamPrincipal::Role(name.into())),
        IamKind::User => Some(IamPrincipal::User(name.into())),
        IamKind::Group => Some(IamPrincipal::Group(name.into())),
        _ => None,
    }
}

/// The update of an existing entity towards `want`, owning `owned` (what state says xacct owns;
/// nothing for an entity being adopted). Returns the operations and, where live lost something
/// xacct owned, a description of the drift.
fn update_ops(
    kind: IamKind,
    want: &StoredIam,
    owned: &StoredIam,
    live: &StoredIam,
    partition: &str,
) -> (Vec<IamOp>, Vec<String>) {
    let mut ops = Vec::new();
    let mut drift = Vec::new();
    let name = &want.name;
    match kind {
        IamKind::Role => {
            let live_doc = json!({ "Statement": live.trust });
            let add: Vec<Value> = want.trust.iter().filter(|s| !has_stmt(&live_doc, s, partition)).cloned().collect();
            let remove: Vec<Value> = owned
                .trust
                .iter()
                .filter(|s| !want.trust.iter().any(|w| same_stmt(w, s, partition)) && has_stmt(&live_doc, s, partition))
                .cloned()
                .collect();
            for s in owned.trust.iter().filter(|s| !has_stmt(&live_doc, s, partition)) {
                drift.push(format!("a trust statement xacct made was removed: {s}"));
            }
            if !add.is_empty() || !remove.is_empty() {
                ops.push(IamOp::EditTrust { role: name.clone(), remove, add });
            }
        }
        IamKind::InstanceProfile => {
            if let (Some(o), l) = (&owned.role, &live.role) {
                if l.as_ref() != Some(o) {
                    drift.push(format!("role `{o}` was removed from the instance profile"));
                }
            }
            if live.role.is_none() {
                if let Some(r) = &want.role {
                    ops.push(IamOp::AddRoleToInstanceProfile { profile: name.clone(), role: r.clone() });
                }
            }
        }
        IamKind::Policy => {
            if let (Some(o), Some(l)) = (&owned.document, &live.document) {
                if !same_doc(o, l, partition) {
                    drift.push("its default version's document was changed".into());
                }
            }
            if let (Some(w), arn) = (&want.document, &live.arn) {
                if !live.document.as_ref().is_some_and(|l| same_doc(w, l, partition)) {
                    ops.push(IamOp::CreatePolicyVersion {
                        policy_arn: arn.clone().unwrap_or_default(),
                        document: w.clone(),
                    });
                }
            }
        }
        IamKind::User | IamKind::Group => {}
    }
    // Inline policies (roles and users).
    for (n, d) in &want.inline_policies {
        if owned
            .inline_policies
            .get(n)
            .is_some_and(|o| !live.inline_policies.get(n).is_some_and(|l| same_doc(o, l, partition)))
        {
            drift.push(format!("inline policy `{n}` was changed or deleted"));
        }
        if !live.inline_policies.get(n).is_some_and(|l| same_doc(d, l, partition)) {
            ops.push(match kind {
                IamKind::User => IamOp::PutUserPolicy { user: name.clone(), policy: n.clone(), document: d.clone() },
                _ => IamOp::PutRolePolicy { role: name.clone(), policy: n.clone(), document: d.clone() },
            });
        }
    }
    for n in owned.inline_policies.keys().filter(|n| !want.inline_policies.contains_key(*n)) {
        if live.inline_policies.contains_key(n) {
            ops.push(match kind {
                IamKind::User => IamOp::DeleteUserPolicy { user: name.clone(), policy: n.clone() },
                _ => IamOp::DeleteRolePolicy { role: name.clone(), policy: n.clone() },
            });
        }
    }
    // Groups (users).
    for g in owned.groups.iter().filter(|g| !live.groups.contains(g)) {
        drift.push(format!("the user was removed from group `{g}`"));
    }
    for g in want.groups.iter().filter(|g| !live.groups.contains(g)) {
        ops.push(IamOp::AddUserToGroup { user: name.clone(), group: g.clone() });
    }
    for g in owned.groups.iter().filter(|g| !want.groups.contains(g) && live.groups.contains(g)) {
        ops.push(IamOp::RemoveUserFromGroup { user: name.clone(), group: g.clone() });
    }
    // Attachments (roles, users, groups).
    if let Some(to) = iam_principal(kind, name) {
        for arn in owned.attachments.iter().filter(|a| !live.attachments.contains(a)) {
            drift.push(format!("managed policy `{arn}` was detached"));
        }
        for arn in want.attachments.iter().filter(|a| !live.attachments.contains(a)) {
            ops.push(IamOp::Attach { to: to.clone(), policy_arn: arn.clone() });
        }
        for arn in owned.attachments.iter().filter(|a| !want.attachments.contains(a) && live.attachments.contains(a)) {
            ops.push(IamOp::Detach { to: to.clone(), policy_arn: arn.clone() });
        }
    }
    (ops, drift)
}

/// What a delete of an owned entity does, and whether the entity itself goes (false: only
/// xacct's parts are removed, with the reason the entity stays).
fn delete_ops(
    kind: IamKind,
    owned: &StoredIam,
    live: &StoredIam,
    not_foreign: &dyn Fn(&Value) -> bool,
    foreign_inline_ok: &BTreeSet<String>,
    partition: &str,
) -> (Vec<IamOp>, Option<String>) {
    let name = &owned.name;
    let mut ops = Vec::new();
    let mut keeps = Vec::new();
    if let Some(to) = iam_principal(kind, name) {
        for arn in owned.attachments.iter().filter(|a| live.attachments.contains(a)) {
            ops.push(IamOp::Detach { to: to.clone(), policy_arn: arn.clone() });
        }
        let foreign: Vec<&String> = live.attachments.iter().filter(|a| !owned.attachments.contains(a)).collect();
        if !foreign.is_empty() {
            keeps.push(format!(
                "managed policies xacct did not attach ({})",
                foreign.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    for g in owned.groups.iter().filter(|g| live.groups.contains(g)) {
        ops.push(IamOp::RemoveUserFromGroup { user: name.clone(), group: g.clone() });
    }
    if live.groups.iter().any(|g| !owned.groups.contains(g)) {
        keeps.push("groups xacct did not add it to".into());
    }
    for n in owned.inline_policies.keys().filter(|n| live.inline_policies.contains_key(*n)) {
        ops.push(match kind {
            IamKind::User => IamOp::DeleteUserPolicy { user: name.clone(), policy: n.clone() },
            _ => IamOp::DeleteRolePolicy { role: name.clone(), policy: n.clone() },
        });
    }
    let foreign_inline: Vec<&String> = live
        .inline_policies
        .keys()
        .filter(|n| !owned.inline_policies.contains_key(*n) && !foreign_inline_ok.contains(*n))
        .collect();
    if !foreign_inline.is_empty() {
        keeps.push(format!(
            "inline policies xacct did not make ({})",
            foreign_inline.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    match kind {
        IamKind::Role => {
            let live_doc = json!({ "Statement": live.trust });
            let foreign: Vec<&Value> = live
                .trust
                .iter()
                .filter(|s| !owned.trust.iter().any(|o| same_stmt(o, s, partition)) && !not_foreign(s))
                .collect();
            if !foreign.is_empty() {
                keeps.push(format!("{} trust statement(s) xacct did not make", foreign.len()));
                let remove: Vec<Value> =
                    owned.trust.iter().filter(|s| has_stmt(&live_doc, s, partition)).cloned().collect();
                if !remove.is_empty() {
                    ops.push(IamOp::EditTrust { role: name.clone(), remove, add: Vec::new() });
                }
            }
        }
        IamKind::InstanceProfile => {
            if let Some(r) = owned.role.as_ref().filter(|r| live.role.as_ref() == Some(*r)) {
                ops.push(IamOp::RemoveRoleFromInstanceProfile { profile: name.clone(), role: r.clone() });
            } else if let Some(r) = &live.role {
                keeps.push(format!("role `{r}`, which xacct did not put in it"));
            }
        }
        _ => {}
    }
    if keeps.is_empty() {
        ops.push(match kind {
            IamKind::Role => IamOp::DeleteRole { role: name.clone() },
            IamKind::InstanceProfile => IamOp::DeleteInstanceProfile { profile: name.clone() },
            IamKind::Policy => {
                IamOp::DeletePolicy { policy_arn: owned.arn.clone().or(live.arn.clone()).unwrap_or_default() }
            }
            IamKind::User => IamOp::DeleteUser { user: name.clone() },
            IamKind::Group => IamOp::DeleteGroup { group: name.clone() },
        });
        (ops, None)
    } else {
        (ops, Some(keeps.join("; ")))
    }
}

/// The owned parts for display (`before`/`after`).
fn shown(r: &StoredIam) -> Value {
    serde_json::to_value(r).unwrap_or(Value::Null)
}

/// What of an entity about to be adopted is already xacct's part, for `before`: the entity's own
/// values, and of its shared parts only those the set wants too (the trust statements equivalent
/// to the set's, the set's attachments, inline policies and groups). The rest is somebody
/// else's, which adopting neither takes over nor removes, so the plan must not show it going.
fn claimed(live: &StoredIam, desired: &StoredIam, partition: &str) -> StoredIam {
    StoredIam {
        trust: live
            .trust
            .iter()
            .filter(|l| desired.trust.iter().any(|d| same_stmt(l, d, partition)))
            .cloned()
            .collect(),
        attachments: live.attachments.iter().filter(|a| desired.attachments.contains(a)).cloned().collect(),
        inline_policies: live
            .inline_policies
            .iter()
            .filter(|(n, _)| desired.inline_policies.contains_key(*n))
            .map(|(n, d)| (n.clone(), d.clone()))
            .collect(),
        groups: live.groups.iter().filter(|g| desired.groups.contains(g)).cloned().collect(),
        ..live.clone()
    }
}

/// What the bootstrap diff gives the planner.
#[derive(Default)]
pub struct Diff {
    pub(crate) diffed: Vec<Diffed>,
    /// `(account ID, role)` → the role's trust document once its bootstrap step has run (for the
    /// `trust.*` change's expected document).
    pub trusts: BTreeMap<(String, String), Value>,
    pub diagnostics: Vec<crate::model::Diagnostic>,
}

/// Inputs of [`diff`] from the planner.
pub struct Context<'a> {
    pub accounts: &'a [Account],
    /// State's bootstrap entries.
    pub stored: &'a BTreeMap<Address, StoredIam>,
    pub reads: &'a Reads,
    pub partition: &'a str,
    /// xacct's own trust statements (any Sid in it) and the assume policy's name: parts of a
    /// role no `iam_role` owns and that a delete does not count as foreign when the plan
    /// removes them too.
    pub xacct_sids: BTreeSet<String>,
    pub assume_policy_name: &'a str,
}

/// The three-way diff of every bootstrap entity the file or the state names.
pub fn diff(cx: &Context<'_>) -> Diff {
    let mut out = Diff::default();
    let mut seen: BTreeSet<Address> = BTreeSet::new();
    for a in cx.accounts {
        let iam = match cx.reads.get(&a.id) {
            Some(Ok(iam)) => iam,
            Some(Err(e)) => {
                out.diagnostics.push(crate::model::Diagnostic {
                    severity: crate::model::Level::Error,
                    address: None,
                    message: format!("cannot read the IAM of account {} (`{}`) in bulk: {e}", a.id, a.name),
                    hint: None,
                });
                for w in wants(a) {
                    seen.insert(Address::Iam { kind: w.kind, account: a.name.clone(), name: w.record.name.clone() });
                }
                continue;
            }
            None => continue,
        };
        for w in wants(a) {
            let addr = Address::Iam { kind: w.kind, account: a.name.clone(), name: w.record.name.clone() };
            seen.insert(addr.clone());
            let stored = cx.stored.get(&addr);
            let live = live_parts(iam, w.kind, &w.record.name);
            let target = Target::Iam { account: a.id.clone(), kind: w.kind, name: w.record.name.clone() };
            let mut c = change(&addr, Action::NoOp, target);
            c.live_fingerprint = iam.fingerprint(w.kind, &w.record.name);
            c.after = shown(&w.record);
            let mut drift = None;
            let mut diags = Vec::new();
            let step = |ops: Vec<IamOp>| IamStep { account: a.id.clone(), ops }.to_write();
            // IAM cannot move an entity to another path, and every ARN xacct writes has the set's.
            if let Some(l) = live.as_ref().filter(|l| l.path.is_some() && l.path != w.record.path) {
                diags.push(error(
                    &addr,
                    format!(
                        "{} `{}` in account {} has path `{}`, but the bootstrap set makes it at `{}`: IAM cannot move it",
                        w.kind.noun(),
                        w.record.name,
                        a.id,
                        l.path.as_deref().unwrap_or_default(),
                        w.record.path.as_deref().unwrap_or_default()
                    ),
                    Some("set the same path in the AWSIAMConfiguration (`spec.controlPlane.path`), or delete the entity so that xacct re-creates it".into()),
                ));
            }
            match (stored, &live) {
                (None, None) | (Some(_), None) => {
                    c.actions = vec![Action::Create];
                    c.write = Some(step(w.create.clone()));
                    c.state_after = shown(&w.record);
                    if let Some(s) = stored {
                        c.before = shown(s);
                        c.drift = true;
                        c.reason =
                            Some(format!("deleted outside xacct: {} `{}` is gone", w.kind.noun(), w.record.name));
                        drift = Some(Drift {
                            address: addr.clone(),
                            kind: DriftKind::Deleted,
                            detail: format!(
                                "{} `{}` no longer exists in account {}",
                                w.kind.noun(),
                                w.record.name,
                                a.id
                            ),
                            stored: shown(s),
                            live: Value::Null,
                        });
                    }
                    if w.kind == IamKind::Role {
                        let role = a.set.role(&w.record.name).expect("wanted roles are the set's");
                        out.trusts.insert((a.id.clone(), role.name.clone()), role.trust.clone());
                    }
                }
                (None, Some(l)) => {
                    if !a.adopt {
                        diags.push(error(
                            &addr,
                            format!(
                                "{} `{}` already exists in account {} and xacct does not own it",
                                w.kind.noun(),
                                w.record.name,
                                a.id
                            ),
                            Some(format!(
                                "to take it over (e.g. from a CloudFormation stack), set `bootstrap: {{ …, adopt: true }}` for account `{}`; or delete or rename it",
                                a.name
                            )),
                        ));
                        c.reason = Some("exists already, not owned: adopt it or remove it".into());
                    } else {
                        let (ops, _) = update_ops(w.kind, &w.record, &StoredIam::default(), l, cx.partition);
                        let mut record = w.record.clone();
                        record.adopted = true;
                        c.before = shown(&claimed(l, &w.record, cx.partition));
                        c.state_after = shown(&record);
                        if ops.is_empty() {
                            c.actions = vec![Action::Adopt];
                            c.reason = Some("an equal one exists: adopting it".into());
                        } else {
                            c.actions = vec![Action::Update];
                            c.reason = Some("exists, different: adopting it and updating xacct's parts".into());
                            trust_after(&mut out, a, w.kind, &ops, iam, cx.partition);
                            c.write = Some(step(ops));
                        }
                    }
                }
                (Some(s), Some(l)) => {
                    let (ops, lost) = update_ops(w.kind, &w.record, s, l, cx.partition);
                    let mut record = w.record.clone();
                    record.adopted = s.adopted;
                    c.before = shown(s);
                    c.state_after = shown(&record);
                    if !ops.is_empty() {
                        c.actions = vec![Action::Update];
                        trust_after(&mut out, a, w.kind, &ops, iam, cx.partition);
                        c.write = Some(step(ops));
                        if !lost.is_empty() {
                            c.drift = true;
                            c.reason = Some(format!("changed outside xacct: {}", lost.join("; ")));
                            drift = Some(Drift {
                                address: addr.clone(),
                                kind: DriftKind::Modified,
                                detail: lost.join("; "),
                                stored: shown(s),
                                live: shown(l),
                            });
                        }
                    }
                }
            }
            out.diffed.push(Diffed { change: c, drift, diagnostics: diags });
        }
    }
    // Owned entities the file no longer asks for: deleted (xacct's parts only), or forgotten.
    let mut gone: Vec<(&Address, &StoredIam)> = cx.stored.iter().filter(|(addr, _)| !seen.contains(*addr)).collect();
    gone.sort_by_key(|(a, _)| (*a).clone());
    for (addr, s) in gone {
        let Address::Iam { kind, name, .. } = addr else { continue };
        let target = Target::Iam { account: s.account.clone(), kind: *kind, name: name.clone() };
        let mut c = change(addr, Action::Forget, target);
        c.before = shown(s);
        let mut diags = Vec::new();
        let iam = match cx.reads.get(&s.account) {
            Some(Ok(iam)) => iam,
            Some(Err(e)) => {
                diags.push(error(addr, format!("cannot read account {} to delete `{addr}`: {e}", s.account), None));
                c.actions = vec![Action::NoOp];
                out.diffed.push(Diffed { change: c, drift: None, diagnostics: diags });
                continue;
            }
            None => continue,
        };
        c.live_fingerprint = iam.fingerprint(*kind, name);
        match live_parts(iam, *kind, name) {
            None => {
                c.reason = Some(format!("the {} is gone already: dropping it from state", kind.noun()));
            }
            Some(l) => {
                let sids = &cx.xacct_sids;
                let not_foreign =
                    |v: &Value| v.get("Sid").and_then(Value::as_str).is_some_and(|sid| sids.contains(sid));
                let ok_inline: BTreeSet<String> = [cx.assume_policy_name.to_string()].into();
                let (ops, kept) = delete_ops(*kind, s, &l, &not_foreign, &ok_inline, cx.partition);
                c.actions = vec![Action::Delete];
                if let Some(why) = kept {
                    diags.push(warning(
                        addr,
                        format!(
                            "{} `{name}` in account {} keeps {why}: xacct removes only its own parts and leaves the {}",
                            kind.noun(),
                            s.account,
                            kind.noun()
                        ),
                        Some("delete it by hand once nothing else needs it".into()),
                    ));
                    c.reason = Some(format!("removing xacct's parts; the {} stays (it keeps {why})", kind.noun()));
                }
                if ops.is_empty() {
                    c.actions = vec![Action::Forget];
                } else {
                    c.write = Some(IamStep { account: s.account.clone(), ops }.to_write());
                }
            }
        }
        out.diffed.push(Diffed { change: c, drift: None, diagnostics: diags });
    }
    out
}

/// Record the trust document role `kind`'s operations leave (for the `trust.*` change).
fn trust_after(out: &mut Diff, a: &Account, kind: IamKind, ops: &[IamOp], iam: &AccountIam, partition: &str) {
    if kind != IamKind::Role {
        return;
    }
    for op in ops {
        if let IamOp::EditTrust { role, remove, add } = op {
            if let Some(live) = iam.roles.get(role) {
                out.trusts.insert((a.id.clone(), role.clone()), edit_trust(&live.trust, remove, add, partition));
            }
        }
    }
}

/// What [`drift`] found.
#[derive(Default)]
pub struct StateDrift {
    /// How many entries were compared with live.
    pub checked: usize,
    pub drift: Vec<Drift>,
    /// A failed bulk read, one per account.
    pub diagnostics: Vec<crate::model::Diagnostic>,
}

/// Drift of the bootstrap entities state holds (`xacct drift`): live (`reads`, one bulk read per
/// account) against what state says xacct last applied, with the plan's own comparison (the
/// entry is both what is wanted and what xacct owns): the same rows as the plan's drift.
pub fn drift(stored: &BTreeMap<Address, StoredIam>, reads: &Reads, partition: &str) -> StateDrift {
    let mut out = StateDrift::default();
    let mut failed: BTreeSet<&str> = BTreeSet::new();
    for (addr, s) in stored {
        let Address::Iam { kind, name, .. } = addr else { continue };
        let iam = match reads.get(&s.account) {
            Some(Ok(iam)) => iam,
            Some(Err(e)) => {
                if failed.insert(s.account.as_str()) {
                    out.diagnostics.push(crate::model::Diagnostic {
                        severity: crate::model::Level::Error,
                        address: None,
                        message: format!("cannot read the IAM of account {} in bulk: {e}", s.account),
                        hint: None,
                    });
                }
                continue;
            }
            None => continue,
        };
        out.checked += 1;
        match live_parts(iam, *kind, name) {
            None => out.drift.push(Drift {
                address: addr.clone(),
                kind: DriftKind::Deleted,
                detail: format!("{} `{name}` no longer exists in account {}", kind.noun(), s.account),
                stored: shown(s),
                live: Value::Null,
            }),
            Some(l) => {
                let (_, lost) = update_ops(*kind, s, s, &l, partition);
                if !lost.is_empty() {
                    out.drift.push(Drift {
                        address: addr.clone(),
                        kind: DriftKind::Modified,
                        detail: lost.join("; "),
                        stored: shown(s),
                        live: shown(&l),
                    });
                }
            }
        }
    }
    out
}
