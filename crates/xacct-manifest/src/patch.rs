//! Setting every identity reference and the identity document, by splicing text.

use std::path::Path;

use crate::error::{Diagnostic, ManifestError};
use crate::manifest::{Found, Manifest, INFRA_GROUP, ROLE_IDENTITY};
use crate::model::{AllowedNamespaces, IdentitySpec};
use crate::record::{unpatch, ObjectRef, PatchRecord, PatchStep, RecordedEdit};
use crate::render::{self, Val};
use crate::splice::{apply, entry_end, identity_span, Splice};
use crate::topology;
use crate::tree::{Node, NodeKind, Quote};
use crate::validate::validate;

/// The result of [`patch`].
#[derive(Clone, Debug)]
pub struct Patched {
    /// The new file text.
    pub text: String,
    /// Whether `text` differs from the manifest's text.
    pub changed: bool,
    /// What to keep to undo this patch with [`unpatch`]. Empty when nothing changed; combine
    /// with an earlier record with [`PatchRecord::then`].
    pub record: PatchRecord,
    pub diagnostics: Vec<Diagnostic>,
}

struct Ctx<'m> {
    m: &'m Manifest,
    diagnostics: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn warn(&mut self, at: usize, message: String) {
        let (line, column) = self.m.pos(at);
        let d = Diagnostic { file: self.m.path().to_path_buf(), line, column, message };
        if !self.diagnostics.contains(&d) {
            self.diagnostics.push(d);
        }
    }

    fn unsupported(&self, at: usize, message: String) -> ManifestError {
        let (line, column) = self.m.pos(at);
        ManifestError::Unsupported { path: self.m.path().to_path_buf(), line, column, message }
    }
}

/// Points every identity-carrying object in `m` at the `AWSClusterRoleIdentity` described by
/// `spec`, and adds or updates that identity document. Returns the new text; nothing is written.
pub fn patch(m: &Manifest, spec: &IdentitySpec) -> Result<Patched, ManifestError> {
    validate(spec)?;
    let mut cx = Ctx { m, diagnostics: Vec::new() };
    let found = m.found();
    if found.is_empty() {
        let why = topology::no_targets(m, spec);
        let (line, column) = why.as_ref().map_or((1, 1), |n| m.pos(n.at));
        let detail = why.map(|n| format!("; {}", n.message)).unwrap_or_default();
        return Err(ManifestError::NoTargets { path: m.path().to_path_buf(), line, column, detail });
    }
    let previous = check_conflicts(m, &found)?;

    let text = m.text();
    let want_ref = Val::map(&[("kind", Val::str(ROLE_IDENTITY)), ("name", Val::str(&spec.name))]);
    let mut splices = Vec::new();
    let mut edits = Vec::new();
    for f in &found {
        if let Some((splice, edit)) = patch_ref(&cx, f, &want_ref)? {
            splices.push(splice);
            edits.push(edit);
        }
    }
    namespace_warnings(&mut cx, &found, spec);
    for note in topology::notes(m, &found, spec) {
        cx.warn(note.at, note.message);
    }

    let (version, version_node) = m.infra_version();
    if let Some(node) = version_node {
        warn_old_version(&mut cx, node);
    }
    let mut appended = String::new();
    match m.identity_docs(&spec.name).as_slice() {
        [] => {
            appended = append_identity(m, spec, &version);
            edits.push(RecordedEdit::AppendIdentity { name: spec.name.clone(), text: appended.clone() });
        }
        [root] => {
            if let Some((splice, edit)) = update_identity(&mut cx, root, spec)? {
                splices.push(splice);
                edits.push(edit);
            }
        }
        [_, second, ..] => {
            return Err(
                cx.unsupported(second.start, format!("`{ROLE_IDENTITY}` `{}` appears more than once", spec.name))
            )
        }
    }
    if let Some(old) = previous.filter(|r| r.kind == ROLE_IDENTITY && r.name != spec.name) {
        for root in m.identity_docs(&old.name) {
            cx.warn(
                root.start,
                format!(
                    "`{ROLE_IDENTITY}` `{}` is left in place but no object in this file uses it any more",
                    old.name
                ),
            );
        }
    }

    let mut out = apply(text, splices).map_err(|()| cx.unsupported(0, "internal error: overlapping edits".into()))?;
    out.push_str(&appended);
    let step = (!edits.is_empty()).then(|| PatchStep { identity: spec.name.clone(), edits });
    let record = PatchRecord::new(m.path(), step);
    self_check(m, &out, &record)?;
    Ok(Patched { changed: out != text, text: out, record, diagnostics: cx.diagnostics })
}

/// Refuses to hand back text that does not parse or that unpatch could not restore.
fn self_check(m: &Manifest, out: &str, record: &PatchRecord) -> Result<(), ManifestError> {
    let internal = |message: &str| ManifestError::Unsupported {
        path: m.path().to_path_buf(),
        line: 1,
        column: 1,
        message: format!("internal error: {message}; the file was left untouched"),
    };
    Manifest::parse(m.path(), out).map_err(|_| internal("the patched text does not parse"))?;
    match unpatch(out, record) {
        Ok(back) if back == m.text() => Ok(()),
        _ => Err(internal("the patch could not be undone exactly")),
    }
}

/// Fails when the file already points at two different identities; returns the one it uses.
fn check_conflicts(m: &Manifest, found: &[Found<'_>]) -> Result<Option<crate::IdentityRef>, ManifestError> {
    let mut first: Option<(&Found<'_>, crate::IdentityRef)> = None;
    for f in found {
        let Some(r) = f.identity_ref() else { continue };
        match &first {
            None => first = Some((f, r)),
            Some((ff, fr)) if *fr != r => {
                let at = f.holder.and_then(|h| h.get(f.key)).map_or(f.root.start, |v| v.start);
                let (line, column) = m.pos(at);
                return Err(ManifestError::ConflictingIdentities {
                    path: m.path().to_path_buf(),
                    line,
                    column,
                    first: format!("{} uses `{fr}`", ff.describe()),
                    second: format!("{} uses `{r}`", f.describe()),
                });
            }
            Some(_) => {}
        }
    }
    Ok(first.map(|(_, r)| r))
}

fn patch_ref(cx: &Ctx<'_>, f: &Found<'_>, want: &Val) -> Result<Option<(Splice, RecordedEdit)>, ManifestError> {
    let m = cx.m;
    let text = m.text();
    let object: ObjectRef = f.object.clone();
    let Some(holder) = f.holder else {
        let at = f.root.get("spec").map_or(f.root.start, |s| s.start);
        return Err(cx.unsupported(at, format!("{} has no mapping to hold `{}`", f.describe(), f.kind.field())));
    };
    if let Some((k, v)) = holder.entry(f.key) {
        if want.matches(v) {
            return Ok(None);
        }
        let end = entry_end(text, k, v);
        let after = rewrite_ref(m, holder, k, v, end, want);
        let edit = RecordedEdit::ReplaceRef { object, before: text[k.start..end].to_string(), after: after.clone() };
        return Ok(Some((Splice::new(k.start, end, &after), edit)));
    }
    let (anchor, inserted) = if holder.is_flow_map() {
        let sep = if holder.entries().is_empty() { "" } else { ", " };
        let entry = format!("{}: {}{sep}", f.key, render::flow(want));
        (holder.start + 1, entry)
    } else {
        let first = &holder.entries()[0].0;
        let Some(line_start) = insertion_line(m, first) else {
            return Err(cx.unsupported(first.start, format!("cannot insert `{}` into {} here", f.key, f.describe())));
        };
        let entries = [(f.key.to_string(), want.clone())];
        (line_start, render::entry_lines(&entries, m.col(first.start), m.layout()))
    };
    let edit = RecordedEdit::InsertRef { object, text: inserted.clone() };
    Ok(Some((Splice::new(anchor, anchor, &inserted), edit)))
}

/// The new text of a reference entry `k.start..end`. Keeps the entry's own text and quoting when
/// it is a `{kind, name}` mapping, changing only the scalars that differ.
fn rewrite_ref(m: &Manifest, holder: &Node, k: &Node, v: &Node, end: usize, want: &Val) -> String {
    let text = m.text();
    let Val::Map(want_entries) = want else { unreachable!("references are mappings") };
    let keys_match = v.entries().len() == want_entries.len()
        && want_entries.iter().all(|(key, _)| {
            v.get(key).is_some_and(|n| matches!(&n.kind, NodeKind::Scalar { style, .. } if *style != Quote::Block))
        });
    if keys_match {
        let mut local = Vec::new();
        for (key, val) in want_entries {
            let node = v.get(key).unwrap_or(v);
            if !val.matches(node) {
                if let (Val::Str(s), NodeKind::Scalar { style, .. }) = (val, &node.kind) {
                    local.push(Splice::new(node.start - k.start, node.end - k.start, &render::scalar_like(s, *style)));
                }
            }
        }
        if let Ok(out) = apply(&text[k.start..end], local) {
            return out;
        }
    }
    let key = &text[k.start..k.end];
    if holder.is_flow_map() || v.is_flow_map() {
        format!("{key}: {}", render::flow(want))
    } else {
        let rendered = render::entry("k", want, m.col(k.start), m.layout());
        format!("{key}{}", &rendered[1..])
    }
}

fn allowed_val(a: &AllowedNamespaces) -> Option<Val> {
    match a {
        AllowedNamespaces::All => Some(Val::Map(Vec::new())),
        AllowedNamespaces::None => None,
        AllowedNamespaces::List(list) => {
            Some(Val::map(&[("list", Val::Seq(list.iter().map(|s| Val::str(s)).collect()))]))
        }
        AllowedNamespaces::Selector(labels) => Some(Val::map(&[(
            "selector",
            Val::map(&[("matchLabels", Val::Map(labels.iter().map(|(k, v)| (k.clone(), Val::str(v))).collect()))]),
        )])),
    }
}

/// The owned fields of the identity's `spec`, in the order xacct writes them.
fn desired_spec(spec: &IdentitySpec) -> Vec<(&'static str, Option<Val>)> {
    vec![
        ("allowedNamespaces", allowed_val(&spec.allowed_namespaces)),
        ("roleARN", Some(Val::str(&spec.role_arn))),
        ("externalID", spec.external_id.as_deref().map(Val::str)),
        ("durationSeconds", spec.duration_seconds.map(|d| Val::Int(d.into()))),
        ("sessionName", spec.session_name.as_deref().map(Val::str)),
        (
            "sourceIdentityRef",
            Some(Val::map(&[("kind", Val::str("AWSClusterControllerIdentity")), ("name", Val::str("default"))])),
        ),
    ]
}

fn append_identity(m: &Manifest, spec: &IdentitySpec, version: &str) -> String {
    let layout = m.layout();
    let nl = layout.newline;
    let spec_entries: Vec<(String, Val)> =
        desired_spec(spec).into_iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v))).collect();
    let doc = [
        ("apiVersion".to_string(), Val::Str(format!("{INFRA_GROUP}/{version}"))),
        ("kind".to_string(), Val::str(ROLE_IDENTITY)),
        ("metadata".to_string(), Val::map(&[("name", Val::str(&spec.name))])),
        ("spec".to_string(), Val::Map(spec_entries)),
    ];
    let text = m.text();
    let mut out = String::new();
    if !text.is_empty() && !text.ends_with('\n') {
        out.push_str(nl);
    }
    out.push_str("---");
    out.push_str(nl);
    out.push_str(&render::entry_lines(&doc, 0, layout));
    out
}

fn update_identity(
    cx: &mut Ctx<'_>,
    root: &Node,
    spec: &IdentitySpec,
) -> Result<Option<(Splice, RecordedEdit)>, ManifestError> {
    let m = cx.m;
    let text = m.text();
    let lines = m.lines();
    if let Some(v) = root.get("apiVersion") {
        warn_old_version(cx, v);
    }
    if let Some((k, _)) = root.get("metadata").and_then(|md| md.entry("namespace")) {
        cx.warn(k.start, format!("`{ROLE_IDENTITY}` is cluster-scoped: its `metadata.namespace` is ignored"));
    }
    let spec_node = match root.get("spec") {
        Some(s) if s.is_map() && !s.is_flow_map() => s,
        other => {
            return Err(cx.unsupported(
                other.map_or(root.start, |s| s.start),
                format!("`{ROLE_IDENTITY}` `{}` needs a block `spec` mapping", spec.name),
            ))
        }
    };
    if let Some((k, _)) = spec_node.entry("policyARNs") {
        cx.warn(k.start, "`policyARNs` has no effect: CAPA never sends it to STS".to_string());
    }
    let entries = spec_node.entries();
    let mut local = Vec::new();
    let mut missing = Vec::new();
    for (key, want) in desired_spec(spec) {
        let index = entries.iter().position(|(k, _)| k.as_str() == Some(key));
        match (index, want) {
            (Some(i), Some(want)) => {
                let (k, v) = &entries[i];
                if want.matches(v) {
                    continue;
                }
                match (&want, &v.kind) {
                    // Keep the key, any comment and the quoting: change only the scalar.
                    (Val::Str(s), NodeKind::Scalar { style, .. }) if *style != Quote::Block && v.start < v.end => {
                        local.push(Splice::new(v.start, v.end, &render::scalar_like(s, *style)));
                    }
                    (Val::Int(n), NodeKind::Scalar { style: Quote::Plain, .. }) if v.start < v.end => {
                        local.push(Splice::new(v.start, v.end, &n.to_string()));
                    }
                    _ => {
                        let end = entry_end(text, k, v);
                        let new = render::entry(key, &want, m.col(k.start), m.layout());
                        local.push(Splice::new(k.start, end, &new));
                    }
                }
            }
            (Some(i), None) => {
                let (k, v) = &entries[i];
                let end = lines.line_break(text, entry_end(text, k, v));
                let start = match i {
                    0 => lines.line_start(k.start),
                    _ => {
                        let (pk, pv) = &entries[i - 1];
                        lines.line_break(text, entry_end(text, pk, pv))
                    }
                };
                let end = if i == 0 { lines.next_line(end) } else { end };
                local.push(Splice::new(start, end, ""));
            }
            (None, Some(want)) => missing.push((key.to_string(), want)),
            (None, None) => {}
        }
    }
    if !missing.is_empty() {
        let first = &entries[0].0;
        let Some(line_start) = insertion_line(m, first) else {
            return Err(cx.unsupported(first.start, "cannot insert into this `spec`".into()));
        };
        let new = render::entry_lines(&missing, m.col(first.start), m.layout());
        local.push(Splice::new(line_start, line_start, &new));
    }
    if local.is_empty() {
        return Ok(None);
    }
    let (start, end) = identity_span(m, root);
    let shifted = local.into_iter().map(|s| Splice::new(s.start - start, s.end - start, &s.text)).collect();
    let after = apply(&text[start..end], shifted)
        .map_err(|()| cx.unsupported(root.start, "internal error: overlapping edits".into()))?;
    let edit = RecordedEdit::ReplaceIdentity {
        name: spec.name.clone(),
        before: text[start..end].to_string(),
        after: after.clone(),
    };
    Ok(Some((Splice::new(start, end, &after), edit)))
}

/// Where new entries go in a block mapping whose first key is `first`: the start of that key's
/// line, moved above the comment lines directly over it (they describe that key). `None` when
/// the key does not start its line.
fn insertion_line(m: &Manifest, first: &Node) -> Option<usize> {
    let text = m.text();
    let lines = m.lines();
    let mut at = lines.line_start(first.start);
    if !text[at..first.start].bytes().all(|b| b == b' ') {
        return None;
    }
    while at > 0 {
        let prev = lines.line_start(at - 1);
        if !text[prev..at].trim_start().starts_with('#') {
            break;
        }
        at = prev;
    }
    Some(at)
}

fn warn_old_version(cx: &mut Ctx<'_>, node: &Node) {
    let Some(api_version) = node.as_str() else { return };
    let old = ["v1alpha3", "v1alpha4", "v1beta1"];
    if let Some(version) = api_version.strip_prefix(&format!("{INFRA_GROUP}/")) {
        if old.contains(&version) {
            cx.warn(
                node.start,
                format!(
                    "`{api_version}` is not served by current CAPA, which serves only `v1beta2`: \
                     applying this manifest fails with \"no matches for kind\""
                ),
            );
        }
    }
}

fn namespace_warnings(cx: &mut Ctx<'_>, found: &[Found<'_>], spec: &IdentitySpec) {
    let first = found[0].root.start;
    match &spec.allowed_namespaces {
        AllowedNamespaces::None => cx.warn(
            first,
            format!("`allowedNamespaces` is omitted: no namespace can use `{ROLE_IDENTITY}` `{}`", spec.name),
        ),
        AllowedNamespaces::List(list) => {
            for f in found {
                let ns = f.object.effective_namespace();
                if !list.iter().any(|n| n == ns) {
                    cx.warn(
                        f.root.start,
                        format!(
                            "namespace `{ns}` of {} is not in `allowedNamespaces` of `{}`: \
                             CAPA will refuse the identity",
                            f.describe(),
                            spec.name
                        ),
                    );
                }
            }
        }
        _ => {}
    }
    if spec.duration_seconds.is_some_and(|d| d > 3600) {
        cx.warn(
            first,
            "`durationSeconds` above 3600 fails at runtime: role chaining caps sessions at 1 hour".to_string(),
        );
    }
}

/// The `AWSClusterRoleIdentity` described by `spec` as a file of its own: the same document
/// [`patch`] appends to a manifest (infrastructure API `v1beta2`, two-space indentation, `\n`
/// line endings), without the leading `---`. For a file xacct owns whole.
pub fn identity_document(spec: &IdentitySpec) -> Result<String, ManifestError> {
    validate(spec)?;
    let empty = Manifest::parse(Path::new(""), "")?;
    let text = append_identity(&empty, spec, "v1beta2");
    Ok(text.strip_prefix("---\n").map(str::to_string).unwrap_or(text))
}

/// Patches the file at `path` and returns the result without writing it.
pub fn patch_file(path: &Path, spec: &IdentitySpec) -> Result<Patched, ManifestError> {
    patch(&Manifest::read(path)?, spec)
}

#[cfg(test)]
mod identity_document_tests {
    use super::*;

    #[test]
    fn is_the_document_patch_appends() {
        let spec = IdentitySpec {
            name: "tenant-a".into(),
            role_arn: "arn:aws:iam::222222222222:role/capa".into(),
            allowed_namespaces: AllowedNamespaces::List(Vec::new()),
            external_id: Some("x-1".into()),
            duration_seconds: None,
            session_name: None,
        };
        let doc = identity_document(&spec).unwrap();
        assert_eq!(
            doc,
            "apiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSClusterRoleIdentity\nmetadata:\n  name: tenant-a\nspec:\n  allowedNamespaces:\n    list: []\n  roleARN: arn:aws:iam::222222222222:role/capa\n  externalID: x-1\n  sourceIdentityRef:\n    kind: AWSClusterControllerIdentity\n    name: default\n"
        );
        let m = Manifest::parse(
            Path::new("c.yaml"),
            "apiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSCluster\nmetadata:\n  name: c\nspec: {}\n",
        )
        .unwrap();
        let patched = patch(&m, &spec).unwrap();
        assert!(patched.text.ends_with(&format!("---\n{doc}")), "{}", patched.text);
        let bad = IdentitySpec { name: "Tenant A".into(), ..spec };
        assert!(identity_document(&bad).is_err());
    }
}
