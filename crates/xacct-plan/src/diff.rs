//! The three-way diff per resource kind: desired (the file), stored (state), live (read now).
//! See DESIGN.md's table; every row has a test in `tests/planner.rs`.

use serde_json::{json, Value};
use xacct_policy as policy;
use xacct_spec::Address;

use crate::cloud::{CloudError, LiveRole};
use crate::model::{doc_fingerprint, sha256, Action, Change, Diagnostic, Drift, DriftKind, Level, Target};

/// The outcome of diffing one resource.
pub(crate) struct Diffed {
    pub change: Change,
    pub drift: Option<Drift>,
    pub diagnostics: Vec<Diagnostic>,
}

pub(crate) fn error(address: &Address, message: impl Into<String>, hint: Option<String>) -> Diagnostic {
    Diagnostic { severity: Level::Error, address: Some(address.to_string()), message: message.into(), hint }
}

pub(crate) fn warning(address: &Address, message: impl Into<String>, hint: Option<String>) -> Diagnostic {
    Diagnostic { severity: Level::Warning, address: Some(address.to_string()), message: message.into(), hint }
}

/// A change skeleton; callers fill in what differs.
pub(crate) fn change(address: &Address, action: Action, target: Target) -> Change {
    Change {
        address: address.clone(),
        kind: address.kind().to_string(),
        actions: vec![action],
        before: Value::Null,
        after: Value::Null,
        reason: None,
        drift: false,
        depends_on: Vec::new(),
        live_fingerprint: None,
        target,
        live: None,
        write: None,
        state_after: Value::Null,
        diff: None,
        replaces: None,
        unreachable: false,
    }
}

/// Statement equivalence in `partition` (the file's: there a bare account ID is that
/// partition's root ARN); `None` infers it from the statements.
fn stmt_equiv(a: &Value, b: &Value, ignore_sid: bool, partition: Option<&str>) -> bool {
    match (policy::Statement::from_value(a), policy::Statement::from_value(b)) {
        (Ok(x), Ok(y)) => {
            if ignore_sid {
                x.equivalent_ignoring_sid_in(&y, partition)
            } else {
                x.equivalent_in(&y, partition)
            }
        }
        _ => a == b,
    }
}

fn doc_equiv(a: &Value, b: &Value, partition: Option<&str>) -> bool {
    match (policy::Policy::from_value(a), policy::Policy::from_value(b)) {
        (Ok(x), Ok(y)) => policy::equivalent_in(&x, &y, partition),
        _ => a == b,
    }
}

/// Stored attributes of a trust statement.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct StoredTrust {
    pub account: String,
    pub role: String,
    /// The statement's `Sid`; `None` for an adopted statement that had none.
    pub sid: Option<String>,
    pub statement: Value,
    /// For a workload discovered from AWS Organizations: the index of the `organization.workloads`
    /// selector that found it when this was recorded. With [`StoredTrust::org_ou`] it tells how
    /// to reach the account once it leaves the selection, and which entries the removal guard
    /// counts. Absent for a listed workload (and in state written before discovery existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_selector: Option<usize>,
    /// That selector's `ou` (an OU or root ID) when this was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_ou: Option<String>,
}

impl StoredTrust {
    /// Whether discovery from AWS Organizations found this workload (by the state marker).
    pub fn discovered(&self) -> bool {
        self.org_selector.is_some() || self.org_ou.is_some()
    }
}

/// xacct's statement in a live trust document: by stored Sid, by equivalence to what was
/// stored (an adopted statement without a Sid), or by the desired Sid.
fn find_ours(
    doc: &Value,
    stored: Option<&StoredTrust>,
    desired_sid: Option<&str>,
    partition: Option<&str>,
) -> Option<(usize, Value)> {
    let by_sid = |sid: &str| policy::find_statement(doc, sid).map(|(i, s)| (i, s.clone()));
    match stored {
        Some(StoredTrust { sid: Some(sid), .. }) => by_sid(sid),
        Some(StoredTrust { sid: None, statement, .. }) => {
            policy::find_equivalent_statement_in(doc, statement, partition)
                .map(|(i, _)| i)
                .or_else(|| find_unique_id_twin(doc, statement, partition))
                .and_then(|i| policy::statements(doc).ok().and_then(|v| v.get(i).map(|s| (i, (*s).clone()))))
        }
        None => desired_sid.and_then(by_sid),
    }
}

/// An adopted statement (no Sid) whose principal IAM turned into a unique ID: the Sid-less
/// statement with a unique-ID principal that equals `stored` once its principal is put back.
fn find_unique_id_twin(doc: &Value, stored: &Value, partition: Option<&str>) -> Option<usize> {
    policy::statements(doc).ok()?.into_iter().position(|s| {
        let broken = s.get("Sid").is_none()
            && policy::Statement::from_value(s).is_ok_and(|st| {
                !policy::unique_id_principals(&policy::Policy { version: None, id: None, statements: vec![st] })
                    .is_empty()
            });
        let mut restored = s.clone();
        restored["Principal"] = stored.get("Principal").cloned().unwrap_or(Value::Null);
        broken && stmt_equiv(&restored, stored, false, partition)
    })
}

/// Replace (Some) or remove (None) the statement at `index`, keeping every other statement as is.
pub(crate) fn set_statement_at(doc: &Value, index: usize, stmt: Option<&Value>) -> Value {
    let mut doc = doc.clone();
    let obj = doc.as_object_mut().expect("policy documents are objects");
    let mut list = match obj.remove("Statement") {
        Some(Value::Array(v)) => v,
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    match stmt {
        Some(s) if index < list.len() => list[index] = s.clone(),
        Some(s) => list.push(s.clone()),
        None if index < list.len() => {
            list.remove(index);
        }
        None => {}
    }
    obj.insert("Statement".into(), Value::Array(list));
    doc
}

pub(crate) struct TrustInput<'a> {
    pub address: &'a Address,
    pub account: &'a str,
    pub role: &'a str,
    pub desired: Option<&'a Value>,
    pub stored: Option<&'a StoredTrust>,
    pub live: Option<&'a Result<Option<LiveRole>, CloudError>>,
    /// `live` was rebuilt from state (`--refresh=false`): it holds only xacct's statements.
    pub from_state: bool,
    /// The documents' partition (the file's); `None`: inferred from the statements compared.
    pub partition: Option<&'a str>,
}

pub(crate) fn trust(i: TrustInput<'_>) -> Diffed {
    let target = Target::Trust { account: i.account.to_string(), role: i.role.to_string() };
    let mut diags = Vec::new();
    let role = match i.live {
        None => None,
        Some(Err(e)) => {
            diags.push(error(i.address, format!("cannot read role `{}` in account {}: {e}", i.role, i.account), None));
            let mut c = change(i.address, Action::NoOp, target);
            c.reason = Some("live state unknown: the read failed".into());
            return Diffed { change: c, drift: None, diagnostics: diags };
        }
        Some(Ok(r)) => r.as_ref(),
    };
    let Some(role) = role else {
        // The role is gone (a missing role is reported on its `role.*` address).
        let mut c = change(i.address, if i.desired.is_some() { Action::Create } else { Action::Forget }, target);
        c.before = i.stored.map(|s| s.statement.clone()).unwrap_or(Value::Null);
        c.after = i.desired.cloned().unwrap_or(Value::Null);
        let drift = i.stored.map(|s| Drift {
            address: i.address.clone(),
            kind: DriftKind::RoleMissing,
            detail: format!("role `{}` no longer exists in account {}", i.role, i.account),
            stored: s.statement.clone(),
            live: Value::Null,
        });
        c.drift = drift.is_some();
        if i.desired.is_none() {
            c.reason = Some("the role is gone, and the statement with it: dropping it from state".into());
        }
        return Diffed { change: c, drift, diagnostics: diags };
    };
    let doc = match policy::parse_document(&role.trust_policy) {
        Ok(d) => d,
        Err(e) => {
            diags.push(error(
                i.address,
                format!("the live trust policy of role `{}` in account {} does not parse: {e}", i.role, i.account),
                None,
            ));
            return Diffed { change: change(i.address, Action::NoOp, target), drift: None, diagnostics: diags };
        }
    };
    let desired_sid = i.desired.and_then(|d| d.get("Sid")).and_then(Value::as_str);
    let ours = find_ours(&doc, i.stored, desired_sid, i.partition);
    let unique_ids = ours
        .as_ref()
        .and_then(|(_, s)| policy::Statement::from_value(s).ok())
        .map(|s| {
            let p = policy::Policy { version: None, id: None, statements: vec![s] };
            policy::unique_id_principals(&p)
        })
        .unwrap_or_default();

    let mut drift = None;
    let mut mk_drift = |kind: DriftKind, detail: String, live: Value| {
        drift = Some(Drift {
            address: i.address.clone(),
            kind,
            detail,
            stored: i.stored.map(|s| s.statement.clone()).unwrap_or(Value::Null),
            live,
        });
    };
    let (action, reason): (Action, Option<String>) = match (i.desired, i.stored, &ours) {
        (Some(d), None, Some((_, l))) => {
            if stmt_equiv(l, d, true, i.partition) {
                (Action::Adopt, Some("a statement with xacct's Sid is already there: recording it".into()))
            } else {
                (Action::Update, Some("a statement with xacct's Sid is there but differs".into()))
            }
        }
        (Some(d), None, None) => match policy::find_equivalent_statement_in(&doc, d, i.partition) {
            Some((_, sid)) => (
                Action::Adopt,
                Some(format!(
                    "an equivalent statement{} is already there (added by hand?): adopting it, no write",
                    sid.map(|s| format!(" (`{s}`)")).unwrap_or_default()
                )),
            ),
            None => (Action::Create, None),
        },
        (Some(d), Some(_), None) => match policy::find_equivalent_statement_in(&doc, d, i.partition) {
            // Removed, then put back by hand (the runbook again?): adopt the copy, never add a twin.
            Some((idx, _)) => {
                let l = policy::statements(&doc).ok().and_then(|v| v.get(idx).map(|s| (*s).clone()));
                mk_drift(
                    DriftKind::Modified,
                    "xacct's trust statement was replaced outside xacct by an equivalent one".into(),
                    l.unwrap_or(Value::Null),
                );
                (Action::Adopt, Some("replaced outside xacct by an equivalent statement: adopting it, no write".into()))
            }
            None => {
                mk_drift(DriftKind::Deleted, "xacct's trust statement was removed outside xacct".into(), Value::Null);
                (Action::Create, Some("deleted outside xacct".into()))
            }
        },
        (Some(d), Some(s), Some((_, l))) => {
            if !unique_ids.is_empty() {
                mk_drift(
                    DriftKind::UniqueIdPrincipal,
                    format!(
                        "principal {} is a unique ID: the role it named was deleted (and maybe re-created), so this trust is broken",
                        unique_ids.join(", ")
                    ),
                    l.clone(),
                );
                (Action::Update, Some("the trust principal became a unique ID".into()))
            } else if stmt_equiv(l, &s.statement, false, i.partition) {
                if stmt_equiv(d, &s.statement, true, i.partition) {
                    (Action::NoOp, None)
                } else {
                    (Action::Update, Some("the desired statement changed".into()))
                }
            } else {
                mk_drift(DriftKind::Modified, "xacct's trust statement was changed outside xacct".into(), l.clone());
                if stmt_equiv(l, d, true, i.partition) {
                    (Action::Adopt, Some("changed outside xacct to what the file wants: recording it".into()))
                } else {
                    (Action::Update, Some("changed outside xacct".into()))
                }
            }
        }
        (None, Some(_), Some(_)) => (Action::Delete, Some("no longer in the file".into())),
        (None, Some(_), None) => (Action::Forget, Some("no longer in the file, and already gone".into())),
        (None, None, _) => (Action::NoOp, None),
    };

    let mut c = change(i.address, action, target);
    c.drift = drift.is_some();
    c.reason = reason;
    c.live_fingerprint = Some(doc_fingerprint(&role.trust_policy));
    c.live = Some(policy::to_document_text(&doc));
    c.before =
        ours.as_ref().map(|(_, l)| l.clone()).or_else(|| i.stored.map(|s| s.statement.clone())).unwrap_or(Value::Null);
    c.after = i.desired.cloned().unwrap_or(Value::Null);
    let new_doc = match (action, i.desired, &ours) {
        (Action::Create | Action::Update, Some(d), Some((idx, _))) => Some(set_statement_at(&doc, *idx, Some(d))),
        (Action::Create | Action::Update, Some(d), None) => Some(set_statement_at(&doc, usize::MAX, Some(d))),
        (Action::Delete, _, Some((idx, _))) => Some(set_statement_at(&doc, *idx, None)),
        _ => None,
    };
    if let Some(nd) = &new_doc {
        if !i.from_state && policy::statements(nd).map(|s| s.is_empty()).unwrap_or(false) {
            diags.push(error(
                i.address,
                format!("removing xacct's statement would leave role `{}` in account {} with an empty trust policy, which IAM rejects", i.role, i.account),
                Some("keep another statement in the role's trust policy (CAPA roles normally trust ec2.amazonaws.com)".into()),
            ));
        }
        c.write = Some(policy::to_document_text(nd));
    }
    c.state_after = match (action, i.desired) {
        (Action::Delete | Action::Forget, _) | (_, None) => Value::Null,
        (Action::Adopt, Some(_)) => {
            let (sid, stmt) = match &ours {
                Some((_, l)) => (l.get("Sid").and_then(Value::as_str).map(String::from), l.clone()),
                None => {
                    let d = i.desired.unwrap();
                    let (idx, sid) =
                        policy::find_equivalent_statement_in(&doc, d, i.partition).expect("adopt found one");
                    (sid, policy::statements(&doc).unwrap()[idx].clone())
                }
            };
            json!(StoredTrust {
                account: i.account.into(),
                role: i.role.into(),
                sid,
                statement: stmt,
                org_selector: None,
                org_ou: None
            })
        }
        (Action::NoOp, Some(_)) => i.stored.map(|s| json!(s)).unwrap_or(Value::Null),
        (_, Some(d)) => json!(StoredTrust {
            account: i.account.into(),
            role: i.role.into(),
            sid: d.get("Sid").and_then(Value::as_str).map(String::from),
            statement: d.clone(),
            org_selector: None,
            org_ou: None
        }),
    };
    Diffed { change: c, drift, diagnostics: diags }
}

/// Stored attributes of the assume policy.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct StoredPolicy {
    pub account: String,
    pub role: String,
    pub policy: String,
    pub document: Value,
}

pub(crate) struct PolicyInput<'a> {
    pub address: &'a Address,
    pub account: &'a str,
    pub role: &'a str,
    pub name: &'a str,
    pub desired: Option<&'a Value>,
    pub stored: Option<&'a StoredPolicy>,
    pub live: Option<&'a Result<Option<String>, CloudError>>,
    /// The document's partition (the file's); `None`: inferred from the documents compared.
    pub partition: Option<&'a str>,
}

pub(crate) fn inline_policy(i: PolicyInput<'_>) -> Diffed {
    let target = Target::InlinePolicy { account: i.account.into(), role: i.role.into(), policy: i.name.into() };
    let mut diags = Vec::new();
    let live_text = match i.live {
        None => None,
        Some(Err(e)) => {
            diags.push(error(
                i.address,
                format!("cannot read inline policy `{}` of role `{}` in account {}: {e}", i.name, i.role, i.account),
                None,
            ));
            return Diffed { change: change(i.address, Action::NoOp, target), drift: None, diagnostics: diags };
        }
        Some(Ok(t)) => t.clone(),
    };
    let live = match live_text.as_deref().map(policy::parse_document).transpose() {
        Ok(v) => v,
        Err(e) => {
            diags.push(error(i.address, format!("the live inline policy `{}` does not parse: {e}", i.name), None));
            return Diffed { change: change(i.address, Action::NoOp, target), drift: None, diagnostics: diags };
        }
    };
    let mut drift = None;
    let mut mk = |kind, detail: &str| {
        drift = Some(Drift {
            address: i.address.clone(),
            kind,
            detail: detail.into(),
            stored: i.stored.map(|s| s.document.clone()).unwrap_or(Value::Null),
            live: live.clone().unwrap_or(Value::Null),
        })
    };
    let (action, reason): (Action, Option<String>) = match (i.desired, i.stored, &live) {
        (Some(d), None, Some(l)) if doc_equiv(l, d, i.partition) => {
            (Action::Adopt, Some("an equivalent policy is already there: recording it".into()))
        }
        (Some(_), None, Some(_)) => {
            (Action::Update, Some(format!("an inline policy named `{}` is there but differs", i.name)))
        }
        (Some(_), None, None) => (Action::Create, None),
        (Some(_), Some(_), None) => {
            mk(DriftKind::Deleted, "xacct's inline policy was deleted outside xacct");
            (Action::Create, Some("deleted outside xacct".into()))
        }
        (Some(d), Some(s), Some(l)) => {
            if doc_equiv(l, &s.document, i.partition) {
                if doc_equiv(d, &s.document, i.partition) {
                    (Action::NoOp, None)
                } else {
                    (Action::Update, Some("the set of workload roles changed".into()))
                }
            } else {
                mk(DriftKind::Modified, "xacct's inline policy was changed outside xacct");
                if doc_equiv(l, d, i.partition) {
                    (Action::Adopt, Some("changed outside xacct to what the file wants: recording it".into()))
                } else {
                    (Action::Update, Some("changed outside xacct".into()))
                }
            }
        }
        (None, Some(_), Some(_)) => (Action::Delete, Some("no workloads left".into())),
        (None, Some(_), None) => (Action::Forget, Some("no workloads left, and already gone".into())),
        (None, None, _) => (Action::NoOp, None),
    };
    let mut c = change(i.address, action, target);
    c.reason = reason;
    c.drift = drift.is_some();
    c.live_fingerprint = live_text.as_deref().map(doc_fingerprint);
    c.live = live.as_ref().map(policy::to_document_text);
    c.before = live.clone().or_else(|| i.stored.map(|s| s.document.clone())).unwrap_or(Value::Null);
    c.after = i.desired.cloned().unwrap_or(Value::Null);
    if matches!(action, Action::Create | Action::Update) {
        c.write = i.desired.map(policy::to_document_text);
    }
    c.state_after = match (action, i.desired) {
        (Action::Delete | Action::Forget, _) | (_, None) => Value::Null,
        (_, Some(d)) => json!(StoredPolicy {
            account: i.account.into(),
            role: i.role.into(),
            policy: i.name.into(),
            document: if action == Action::Adopt { live.clone().unwrap_or(d.clone()) } else { d.clone() }
        }),
    };
    Diffed { change: c, drift, diagnostics: diags }
}

/// Stored attributes of a manifest patch.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct StoredManifest {
    /// The path as written in the desired-state file.
    pub path: String,
    pub identity: String,
    /// SHA-256 of the file as xacct left it.
    pub applied_sha256: String,
    /// What undoes xacct's edits.
    pub record: xacct_manifest::PatchRecord,
    /// xacct owns the whole file (an identity file of a workload discovered from AWS
    /// Organizations, see `identity_file`): it wrote all of it, `applied_sha256` is what it
    /// wrote, and removing the workload removes the file. `record` is then empty.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub owned: bool,
}

pub(crate) struct ManifestInput<'a> {
    pub address: &'a Address,
    pub written: &'a str,
    pub desired: Option<&'a xacct_manifest::IdentitySpec>,
    pub stored: Option<&'a StoredManifest>,
    /// The file's text, `None` when it does not exist.
    pub live: Option<&'a str>,
    pub path: &'a std::path::Path,
}

pub(crate) fn manifest(i: ManifestInput<'_>) -> Diffed {
    let target = Target::Manifest { path: i.path.display().to_string() };
    let mut diags = Vec::new();
    let mut c = change(i.address, Action::NoOp, target.clone());
    c.live_fingerprint = i.live.map(|t| sha256(t.as_bytes()));
    c.live = i.live.map(String::from);
    c.before = i.stored.map(|s| json!({ "identity": s.identity })).unwrap_or(Value::Null);
    let Some(text) = i.live else {
        if i.desired.is_some() {
            diags.push(error(i.address, format!("manifest `{}` does not exist", i.written), None));
        } else {
            c.actions = vec![Action::Forget];
            c.reason = Some("no longer in the file, and the manifest is gone".into());
        }
        return Diffed { change: c, drift: None, diagnostics: diags };
    };
    let edited = i.stored.is_some_and(|s| s.applied_sha256 != sha256(text.as_bytes()));
    let mut drift = edited.then(|| Drift {
        address: i.address.clone(),
        kind: DriftKind::Modified,
        detail: format!("`{}` was edited since xacct last patched it", i.written),
        stored: json!({ "sha256": i.stored.map(|s| s.applied_sha256.clone()) }),
        live: json!({ "sha256": sha256(text.as_bytes()) }),
    });
    match i.desired {
        Some(want) => {
            let parsed = xacct_manifest::Manifest::parse(i.path, text)
                .and_then(|m| xacct_manifest::patch(&m, want).map(|p| (m, p)));
            let (m, patched) = match parsed {
                Ok(p) => p,
                Err(e) => {
                    diags.push(error(i.address, e.to_string(), None));
                    return Diffed { change: c, drift: None, diagnostics: diags };
                }
            };
            for d in &patched.diagnostics {
                diags.push(warning(i.address, format!("{}:{}:{}: {}", i.written, d.line, d.column, d.message), None));
            }
            c.after = json!({ "identity": want.name, "role_arn": want.role_arn });
            // No object points at the identity xacct set any more: its edits are gone (the file
            // was regenerated or reverted by hand).
            // (Any identity the record set counts: its last step may never have been written.)
            let gone = i.stored.is_some_and(|s| {
                !m.targets().iter().any(|t| {
                    t.identity_ref
                        .as_ref()
                        .is_some_and(|r| r.name == s.identity || s.record.identities().any(|n| n == r.name))
                })
            });
            // An object now points at another identity: xacct's `identityRef` was changed by hand,
            // not removed. That is an update (set it back), not a re-creation.
            let retargeted: Option<String> = if gone {
                m.targets().iter().find_map(|t| t.identity_ref.as_ref().map(|r| r.name.clone()))
            } else {
                None
            };
            if let Some(d) = drift.as_mut().filter(|_| retargeted.is_some()) {
                d.detail = format!(
                    "`{}` was edited since xacct last patched it: its `identityRef` now names `{}`",
                    i.written,
                    retargeted.as_deref().unwrap_or_default()
                );
            }
            let gone = gone && retargeted.is_none();
            if let (true, Some(d)) = (gone, drift.as_mut()) {
                d.kind = DriftKind::Deleted;
                d.detail = format!(
                    "xacct's identity edits are missing from `{}` (removed outside xacct, or an apply stopped before writing them)",
                    i.written
                );
            }
            // What undoes everything xacct did: the stored record followed by this patch while the
            // stored record still undoes the file as it is; the stored record alone when this patch
            // writes back exactly what it recorded (an outside edit repaired, or edits re-applied
            // to a regenerated file); else this patch alone (the file as it is now is the original).
            // And when the stored record's last step was recorded ahead of a write that never
            // happened (a killed apply), the steps before it, followed by this patch.
            let before_last =
                |s: &StoredManifest| s.record.without_last().filter(|r| xacct_manifest::unpatch(text, r).is_ok());
            let record = match i.stored {
                Some(s) if xacct_manifest::unpatch(text, &s.record).is_ok() => {
                    s.record.clone().then(patched.record.clone())
                }
                Some(s) if xacct_manifest::unpatch(&patched.text, &s.record).is_ok() => s.record.clone(),
                Some(s) => match before_last(s) {
                    Some(r) => r.then(patched.record.clone()),
                    None => patched.record.clone(),
                },
                None => patched.record.clone(),
            };
            if patched.changed {
                c.actions = vec![if i.stored.is_some() && !gone { Action::Update } else { Action::Create }];
                c.diff = Some(xacct_manifest::unified_diff(i.written, text, &patched.text));
                c.write = Some(patched.text.clone());
                c.drift = edited;
                c.reason = edited.then(|| match (&retargeted, gone) {
                    (Some(other), _) => {
                        format!(
                            "`identityRef` was changed outside xacct to `{other}`: setting it back to `{}`",
                            want.name
                        )
                    }
                    (None, true) => "xacct's edits were removed outside xacct".to_string(),
                    (None, false) => "edited outside xacct".to_string(),
                });
            } else if i.stored.is_none() {
                c.actions = vec![Action::Adopt];
                c.reason = Some("the manifest already has this identity: recording it".into());
            } else if edited {
                c.actions = vec![Action::Adopt];
                c.drift = true;
                c.reason = Some("edited outside xacct, identity still as desired: recording it".into());
            }
            let applied = patched.text.clone();
            c.state_after = json!(StoredManifest {
                path: i.written.into(),
                identity: want.name.clone(),
                applied_sha256: sha256(applied.as_bytes()),
                record,
                owned: false,
            });
            let drift = if c.drift { drift } else { None };
            Diffed { change: c, drift, diagnostics: diags }
        }
        None => {
            let Some(s) = i.stored else { return Diffed { change: c, drift: None, diagnostics: diags } };
            // All of the record, or all but a last step recorded ahead of a write that never
            // happened (a killed apply).
            let restored = xacct_manifest::unpatch(text, &s.record)
                .or_else(|e| s.record.without_last().and_then(|r| xacct_manifest::unpatch(text, &r).ok()).ok_or(e));
            match restored {
                Ok(restored) => {
                    c.actions = vec![Action::Delete];
                    c.reason = Some("no longer in the file: removing xacct's edits".into());
                    let unset: Vec<String> = s
                        .record
                        .inserted_refs()
                        .into_iter()
                        .filter(|o| o.kind == "AWSCluster")
                        .map(|o| format!("`{}`", o.name))
                        .collect();
                    if !unset.is_empty() && restored != text {
                        diags.push(warning(
                            i.address,
                            format!(
                                "this removes `identityRef` from AWSCluster {}: CAPA does not let a created cluster's identityRef be unset, so re-applying the restored manifest to a running cluster is rejected",
                                unset.join(", ")
                            ),
                            Some("for a running cluster, point it at another identity instead of removing the workload".into()),
                        ));
                    }
                    if restored != text {
                        c.diff = Some(xacct_manifest::unified_diff(i.written, text, &restored));
                        c.write = Some(restored);
                    }
                }
                // Nothing of xacct's is left (a removal that stopped before state caught up, or
                // a file regenerated since): there is nothing to undo.
                Err(_)
                    if xacct_manifest::Manifest::parse(i.path, text).is_ok_and(|m| {
                        !m.mentions_identity(&s.identity) && !s.record.identities().any(|n| m.mentions_identity(n))
                    }) =>
                {
                    c.actions = vec![Action::Forget];
                    c.reason = Some("no longer in the file, and xacct's edits are already gone".into());
                }
                Err(e) => diags.push(error(
                    i.address,
                    format!("cannot remove xacct's edits from `{}`: {e}", i.written),
                    Some(format!("restore the file by hand, then `xacct state rm '{}'`", i.address)),
                )),
            }
            Diffed { change: c, drift, diagnostics: diags }
        }
    }
}

#[cfg(test)]
mod partition_tests {
    use super::*;

    const MGMT: &str = "111111111111";

    /// The trust diff of a live role holding `hand` (beside the EC2 statement) against xacct's
    /// account-root statement in aws-cn, with the documents' partition given as `partition`.
    fn plan_against(hand: Value, stored: Option<&StoredTrust>, partition: Option<&str>) -> Diffed {
        let desired = json!({"Sid": "XacctTrust", "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws-cn:iam::{MGMT}:root")}, "Action": "sts:AssumeRole"});
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}, hand]});
        let live = Ok(Some(LiveRole {
            arn: "arn:aws-cn:iam::222222222222:role/capa".into(),
            role_id: "AROAEXAMPLEEXAMPLE01".into(),
            trust_policy: doc.to_string(),
            max_session_duration: 3600,
        }));
        trust(TrustInput {
            address: &Address::Trust("dev".into()),
            account: "222222222222",
            role: "capa",
            desired: Some(&desired),
            stored,
            live: Some(&live),
            from_state: false,
            partition,
        })
    }

    #[test]
    fn a_bare_account_is_the_root_of_the_files_partition() {
        let hand = json!({"Effect": "Allow", "Principal": {"AWS": MGMT}, "Action": "sts:AssumeRole"});
        for partition in [Some("aws-cn"), None] {
            let d = plan_against(hand.clone(), None, partition);
            assert_eq!(d.change.actions, [Action::Adopt], "{partition:?}: {:?}", d.change.reason);
            // Recorded as found, and planned as nothing to do from then on.
            let stored: StoredTrust = serde_json::from_value(d.change.state_after.clone()).unwrap();
            assert_eq!(stored.statement, hand);
            let again = plan_against(hand.clone(), Some(&stored), partition);
            assert_eq!(again.change.actions, [Action::NoOp], "{partition:?}: {:?}", again.change.reason);
            assert!(again.drift.is_none());
        }
        // In `aws` the same account ID is another principal than the aws-cn root: a new statement.
        let d = plan_against(hand, None, Some("aws"));
        assert_eq!(d.change.actions, [Action::Create], "{:?}", d.change.reason);
    }
}
