//! Identity files: the `AWSClusterRoleIdentity` of a workload discovered from AWS Organizations,
//! in `<identities_dir>/<workload>.yaml`, a file xacct owns whole.
//!
//! The address is the manifest kind's (`manifest.<workload>["<identities_dir>/<workload>.yaml"]`)
//! and its state entry a [`StoredManifest`] with [`StoredManifest::owned`] set: xacct wrote the
//! whole file, and its `applied_sha256` is what it wrote. So, against that:
//!
//! | desired | stored | the file | action |
//! |---|---|---|---|
//! | yes | no | missing | create |
//! | yes | no | exactly the document | adopt (no write) |
//! | yes | no | anything else | plan error: xacct never overwrites a file it did not write |
//! | yes | yes | as written, the document | no-op |
//! | yes | yes | as written, another document | update |
//! | yes | yes | changed since | update (or adopt when it is the document), drift |
//! | yes | yes | missing | create, drift |
//! | no | yes | as written | delete (the file is removed) |
//! | no | yes | changed since | forget, with a warning: the file is kept |
//! | no | yes | missing | forget |
//!
//! An account Organizations reports closed or suspended is forgotten, its file left alone (see
//! [`forget_unreachable`]).

use serde_json::{json, Value};
use xacct_spec::Address;

use crate::diff::{change, error, warning, Diffed, StoredManifest};
use crate::model::{sha256, Action, Drift, DriftKind, Target};

pub(crate) struct FileInput<'a> {
    pub address: &'a Address,
    /// The path as the address shows it (`identities/tenant-a.yaml`).
    pub written: &'a str,
    pub path: &'a std::path::Path,
    pub desired: Option<&'a xacct_manifest::IdentitySpec>,
    pub stored: Option<&'a StoredManifest>,
    /// The file's text, `None` when it does not exist.
    pub live: Option<&'a str>,
}

/// The state entry of a file xacct wrote as `text`.
fn stored_after(written: &str, identity: &str, text: &str) -> Value {
    json!(StoredManifest {
        path: written.into(),
        identity: identity.into(),
        applied_sha256: sha256(text.as_bytes()),
        record: xacct_manifest::PatchRecord {
            format_version: xacct_manifest::RECORD_FORMAT_VERSION,
            file: written.into(),
            steps: Vec::new(),
        },
        owned: true,
    })
}

pub(crate) fn diff(i: FileInput<'_>) -> Diffed {
    let target = Target::Manifest { path: i.path.display().to_string() };
    let mut diags = Vec::new();
    let mut c = change(i.address, Action::NoOp, target);
    c.live_fingerprint = i.live.map(|t| sha256(t.as_bytes()));
    c.live = i.live.map(String::from);
    c.before = i.stored.map(|s| json!({ "identity": s.identity })).unwrap_or(Value::Null);
    let edited = match (i.stored, i.live) {
        (Some(s), Some(t)) => s.applied_sha256 != sha256(t.as_bytes()),
        _ => false,
    };
    let mut drift = None;
    let Some(want) = i.desired else {
        let Some(s) = i.stored else { return Diffed { change: c, drift, diagnostics: diags } };
        match i.live {
            None => {
                c.actions = vec![Action::Forget];
                c.reason = Some("no longer wanted, and the file is already gone".into());
            }
            Some(_) if edited => {
                c.actions = vec![Action::Forget];
                c.reason = Some("no longer wanted, but changed by hand since xacct wrote it: keeping it".into());
                diags.push(warning(
                    i.address,
                    format!(
                        "`{}` was changed by hand since xacct wrote it: keeping the file, and forgetting it (identity `{}`)",
                        i.written, s.identity
                    ),
                    Some(format!("delete `{}` yourself once it is no longer needed", i.written)),
                ));
            }
            Some(_) => {
                c.actions = vec![Action::Delete];
                c.reason = Some("no longer wanted: removing the file xacct wrote".into());
            }
        }
        return Diffed { change: c, drift, diagnostics: diags };
    };
    let text = match xacct_manifest::identity_document(want) {
        Ok(t) => t,
        Err(e) => {
            diags.push(error(i.address, format!("cannot write `{}`: {e}", i.written), None));
            return Diffed { change: c, drift, diagnostics: diags };
        }
    };
    c.after = json!({ "identity": want.name, "role_arn": want.role_arn });
    let (action, reason) = match (i.stored, i.live) {
        (_, Some(live)) if live == text && i.stored.is_none() => {
            (Action::Adopt, Some("the file already holds this identity: recording it".into()))
        }
        (None, Some(_)) => {
            diags.push(error(
                i.address,
                format!("`{}` already exists and xacct did not write it: it would be overwritten", i.written),
                Some(format!(
                    "xacct owns each file it writes in `identities_dir` whole: move `{}` elsewhere (or delete it), or choose another `identities_dir`",
                    i.written
                )),
            ));
            return Diffed { change: c, drift, diagnostics: diags };
        }
        (None, None) => (Action::Create, None),
        (Some(s), None) => {
            drift = Some(Drift {
                address: i.address.clone(),
                kind: DriftKind::Deleted,
                detail: format!("`{}` was deleted outside xacct", i.written),
                stored: json!({ "sha256": s.applied_sha256 }),
                live: Value::Null,
            });
            (Action::Create, Some("deleted outside xacct".into()))
        }
        (Some(s), Some(live)) if edited => {
            drift = Some(Drift {
                address: i.address.clone(),
                kind: DriftKind::Modified,
                detail: format!("`{}` was edited since xacct wrote it", i.written),
                stored: json!({ "sha256": s.applied_sha256 }),
                live: json!({ "sha256": sha256(live.as_bytes()) }),
            });
            if live == text {
                (Action::Adopt, Some("edited outside xacct to what xacct writes: recording it".into()))
            } else {
                (Action::Update, Some("edited outside xacct".into()))
            }
        }
        (Some(_), Some(live)) if live == text => (Action::NoOp, None),
        (Some(_), Some(_)) => (Action::Update, Some("the identity changed".into())),
    };
    c.actions = vec![action];
    c.reason = reason;
    c.drift = drift.is_some();
    if matches!(action, Action::Create | Action::Update) {
        c.diff = Some(xacct_manifest::unified_diff(i.written, i.live.unwrap_or_default(), &text));
        c.write = Some(text.clone());
    }
    c.state_after = stored_after(i.written, &want.name, &text);
    Diffed { change: c, drift, diagnostics: diags }
}

/// The identity file of an account Organizations reports closed or suspended: dropped from state,
/// the file left as it is (nothing of the account is read or written).
pub(crate) fn forget_unreachable(address: &Address, s: &StoredManifest, path: &std::path::Path, why: &str) -> Diffed {
    let mut c = change(address, Action::Forget, Target::Manifest { path: path.display().to_string() });
    c.before = json!({ "identity": s.identity });
    c.reason = Some(format!("{why}: forgetting `{}`, the file is left as it is", s.path));
    c.unreachable = true;
    Diffed { change: c, drift: None, diagnostics: Vec::new() }
}

/// `<identities_dir>/<workload>.yaml` as written in the file (the address's path) and as a path.
pub(crate) fn file_of(dir: &xacct_spec::ManifestRef, workload: &str) -> xacct_spec::ManifestRef {
    let name = format!("{workload}.yaml");
    let written =
        if dir.written.ends_with('/') { format!("{}{name}", dir.written) } else { format!("{}/{name}", dir.written) };
    xacct_spec::ManifestRef { written, path: dir.path.join(&name) }
}

/// A desired identity file, with what the planner knows around it.
pub(crate) struct Desired<'a> {
    pub address: &'a Address,
    pub written: &'a str,
    pub path: &'a std::path::Path,
    pub identity: &'a xacct_spec::ManifestIdentity,
    pub stored: Option<&'a StoredManifest>,
    /// Every desired resource: another manifest naming the same file is a collision.
    pub others: &'a xacct_spec::Desired,
    pub live: Option<&'a str>,
}

/// The plan of a desired identity file: a plan error when another desired manifest names the
/// same file (xacct never writes one file for two addresses), else [`diff`]. Without the
/// selector's `identity.allowed_namespaces`, the identity allows no namespace (an empty list):
/// there are no cluster manifests to take namespaces from, and least privilege is none.
pub(crate) fn desired(d: Desired<'_>) -> Diffed {
    let key = same_file(d.path);
    let mut with: Vec<String> = d
        .others
        .resources
        .iter()
        .filter(|(a, r)| {
            *a != d.address && matches!(r, xacct_spec::DesiredResource::Manifest { path, .. } if same_file(path) == key)
        })
        .map(|(a, _)| format!("`{a}`"))
        .collect();
    if !with.is_empty() {
        with.sort();
        let c = change(d.address, Action::NoOp, Target::Manifest { path: d.path.display().to_string() });
        let e = error(
            d.address,
            format!(
                "`{}` is the identity file of `{}` and also the manifest of {}: xacct does not write one file for two addresses",
                d.written,
                d.address.workload().unwrap_or_default(),
                with.join(" and ")
            ),
            Some("give the selector another `identities_dir`, or move the listed workload's manifest".into()),
        );
        return Diffed { change: c, drift: None, diagnostics: vec![e] };
    }
    let want = xacct_manifest::IdentitySpec {
        name: d.identity.name.clone(),
        role_arn: d.identity.role_arn.clone(),
        allowed_namespaces: d
            .identity
            .allowed_namespaces
            .clone()
            .unwrap_or(xacct_manifest::AllowedNamespaces::List(Vec::new())),
        external_id: d.identity.external_id.clone(),
        duration_seconds: d.identity.duration_seconds,
        session_name: d.identity.session_name.clone(),
    };
    diff(FileInput {
        address: d.address,
        written: d.written,
        path: d.path,
        desired: Some(&want),
        stored: d.stored,
        live: d.live,
    })
}

/// Which file a path names, for collisions: its directory resolved (through `..`, `.` and
/// symlinks) when it exists, and its file name.
fn same_file(path: &std::path::Path) -> std::path::PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    match (path.parent().and_then(|p| std::fs::canonicalize(p).ok()), path.file_name()) {
        (Some(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}
