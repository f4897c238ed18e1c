//! What a patch changed, kept in xacct's state so `destroy` can give the original bytes back.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ManifestError;
use crate::manifest::Manifest;
use crate::splice::{apply, entry_end, identity_span, Splice};

/// The version of the [`PatchRecord`] JSON format; bumped for any change a reader must know.
pub const RECORD_FORMAT_VERSION: u32 = 1;

/// Names one object in a manifest: kind, name, namespace and, for duplicates, which one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    pub kind: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// 0 for the first object with this kind, name and namespace.
    #[serde(default)]
    pub ordinal: usize,
}

impl ObjectRef {
    /// `metadata.namespace`, or `default`.
    pub fn effective_namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or("default")
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` `{}/{}`", self.kind, self.effective_namespace(), self.name)
    }
}

/// Everything xacct changed in one file, as a list of patch steps (oldest first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatchRecord {
    pub format_version: u32,
    /// The file, for messages.
    pub file: String,
    pub steps: Vec<PatchStep>,
}

/// One call of [`crate::patch`] that changed something.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatchStep {
    /// The identity name the step set.
    pub identity: String,
    pub edits: Vec<RecordedEdit>,
}

/// One edited node, with the exact text before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum RecordedEdit {
    /// An existing reference entry (`identityRef: …`, or a ClusterClass variable's `value: …`)
    /// rewritten; `before`/`after` run from the key to the end of the value.
    ReplaceRef { object: ObjectRef, before: String, after: String },
    /// A reference entry that did not exist; `text` is exactly what was inserted.
    InsertRef { object: ObjectRef, text: String },
    /// An existing identity document updated; `before`/`after` run from its first key to the
    /// end of its last line.
    ReplaceIdentity { name: String, before: String, after: String },
    /// An identity document appended at the end; `text` is exactly what was appended.
    AppendIdentity { name: String, text: String },
}

impl PatchRecord {
    pub(crate) fn new(file: &Path, step: Option<PatchStep>) -> Self {
        PatchRecord {
            format_version: RECORD_FORMAT_VERSION,
            file: file.display().to_string(),
            steps: step.into_iter().collect(),
        }
    }

    /// The objects whose `identityRef` the record added (undoing it unsets the reference).
    pub fn inserted_refs(&self) -> Vec<&ObjectRef> {
        self.steps
            .iter()
            .flat_map(|s| &s.edits)
            .filter_map(|e| match e {
                RecordedEdit::InsertRef { object, .. } => Some(object),
                _ => None,
            })
            .collect()
    }

    /// The record without its last step: what undoes a file when that step was recorded ahead of
    /// a write that never happened. `None` when fewer than two steps remain (an empty record
    /// "undoes" any text, which would hide a file edited by hand).
    pub fn without_last(&self) -> Option<PatchRecord> {
        let mut r = self.clone();
        r.steps.pop()?;
        (!r.steps.is_empty()).then_some(r)
    }

    /// The identity names the record's steps set, oldest first.
    pub fn identities(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().map(|s| s.identity.as_str())
    }

    /// Whether the record undoes nothing.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The record of applying `self` and then `later` to the same file: unpatching it undoes
    /// both. Use it when a file xacct already patched is patched again.
    #[must_use]
    pub fn then(mut self, later: PatchRecord) -> PatchRecord {
        self.steps.extend(later.steps);
        self
    }
}

/// Undoes `record` on `text` (the file as xacct left it, possibly with unrelated edits since):
/// every recorded node gets its original text back, everything else is kept.
///
/// Fails, changing nothing, when a recorded node was edited by someone else since.
pub fn unpatch(text: &str, record: &PatchRecord) -> Result<String, ManifestError> {
    if record.format_version != RECORD_FORMAT_VERSION {
        return Err(ManifestError::Unpatch {
            file: record.file.clone(),
            message: format!(
                "record format `{}` is not supported (expected `{RECORD_FORMAT_VERSION}`)",
                record.format_version
            ),
        });
    }
    let mut out = text.to_string();
    for step in record.steps.iter().rev() {
        out = undo(&out, &record.file, step)?;
    }
    Ok(out)
}

fn undo(text: &str, file: &str, step: &PatchStep) -> Result<String, ManifestError> {
    let fail = |message: String| ManifestError::Unpatch { file: file.to_string(), message };
    let m = Manifest::parse(Path::new(file), text)?;
    let found = m.found();
    let mut splices = Vec::new();
    let check = |start: usize, expected: &str, what: &dyn fmt::Display| {
        if text[start..].starts_with(expected) {
            Ok(())
        } else {
            Err(fail(format!("{what} was changed since xacct patched it")))
        }
    };
    for edit in &step.edits {
        match edit {
            RecordedEdit::ReplaceRef { object, .. } | RecordedEdit::InsertRef { object, .. } => {
                let f = found
                    .iter()
                    .find(|f| &f.object == object)
                    .ok_or_else(|| fail(format!("{object} is no longer in the file")))?;
                let what = format!("`{}` of {object}", f.kind.field());
                let (k, v) =
                    f.holder.and_then(|h| h.entry(f.key)).ok_or_else(|| fail(format!("{what} is no longer set")))?;
                match edit {
                    RecordedEdit::ReplaceRef { before, after, .. } => {
                        let end = entry_end(text, k, v);
                        if &text[k.start..end] != after {
                            return Err(fail(format!("{what} was changed since xacct patched it")));
                        }
                        splices.push(Splice::new(k.start, end, before));
                    }
                    RecordedEdit::InsertRef { text: inserted, .. } => {
                        let holder = f.holder.unwrap_or(k);
                        let anchor = if holder.is_flow_map() { k.start } else { m.lines().line_start(k.start) };
                        check(anchor, inserted, &what)?;
                        splices.push(Splice::new(anchor, anchor + inserted.len(), ""));
                    }
                    _ => unreachable!("matched above"),
                }
            }
            RecordedEdit::ReplaceIdentity { name, before, after } => {
                let root = single_identity(&m, name).map_err(fail)?;
                let (start, end) = identity_span(&m, root);
                if &text[start..end] != after {
                    return Err(fail(format!("`AWSClusterRoleIdentity` `{name}` was changed since xacct patched it")));
                }
                splices.push(Splice::new(start, end, before));
            }
            RecordedEdit::AppendIdentity { name, text: appended } => {
                let root = single_identity(&m, name).map_err(fail)?;
                let offset = appended.find("apiVersion").unwrap_or(0);
                let start = root.start.checked_sub(offset).unwrap_or(usize::MAX);
                let what = format!("`AWSClusterRoleIdentity` `{name}`");
                if start == usize::MAX || !text[start..].starts_with(appended.as_str()) {
                    return Err(fail(format!("{what} was changed since xacct added it")));
                }
                splices.push(Splice::new(start, start + appended.len(), ""));
            }
        }
    }
    apply(text, splices).map_err(|()| fail("recorded edits overlap".to_string()))
}

fn single_identity<'m>(m: &'m Manifest, name: &str) -> Result<&'m crate::tree::Node, String> {
    match m.identity_docs(name).as_slice() {
        [one] => Ok(one),
        [] => Err(format!("`AWSClusterRoleIdentity` `{name}` is no longer in the file")),
        _ => Err(format!("`AWSClusterRoleIdentity` `{name}` appears more than once")),
    }
}
