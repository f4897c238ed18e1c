//! Pieces shared by every view: symbols and words for actions and drift, JSON line diffs, counts,
//! and scrubbing control characters out of text that came from files or AWS.

use serde_json::Value;
use similar::{ChangeTag, TextDiff};
use xacct_plan::{Action, Change, Diagnostic, Drift, DriftKind, Level, Summary};

/// Lines of unchanged context kept around each change in a JSON diff.
const CONTEXT: usize = 4;

/// The symbol shown before an action (always next to its word).
pub(crate) fn action_symbol(action: Action) -> &'static str {
    match action {
        Action::Create => "+",
        Action::Update => "~",
        Action::Delete => "-",
        Action::Adopt => "=",
        Action::Forget => "±",
        Action::NoOp => " ",
    }
}

/// The symbol for a drift entry.
pub(crate) fn drift_symbol(kind: DriftKind) -> &'static str {
    match kind {
        DriftKind::Modified | DriftKind::UniqueIdPrincipal => "~",
        DriftKind::Deleted | DriftKind::RoleMissing => "-",
    }
}

/// A drift kind in words.
pub(crate) fn drift_word(kind: DriftKind) -> &'static str {
    match kind {
        DriftKind::Modified => "modified",
        DriftKind::Deleted => "deleted",
        DriftKind::UniqueIdPrincipal => "unique-ID principal",
        DriftKind::RoleMissing => "role missing",
    }
}

/// How a drifted change was altered, from the plan's own drift entry for that address.
pub(crate) fn drift_note(change: &Change, drift: &[Drift]) -> &'static str {
    match drift.iter().find(|d| d.address == change.address).map(|d| d.kind) {
        Some(DriftKind::Deleted) => "deleted outside xacct",
        Some(DriftKind::RoleMissing) => "role deleted outside xacct",
        _ => "changed outside xacct",
    }
}

/// Roles are preconditions: shown only when a diagnostic is about them.
pub(crate) fn shown(change: &Change, diagnostics: &[Diagnostic]) -> bool {
    if change.kind == "role" {
        let address = change.address.to_string();
        diagnostics.iter().any(|d| d.address.as_deref() == Some(address.as_str()))
    } else {
        change.action() != Action::NoOp
    }
}

/// What a change without a document diff says instead, if anything.
pub(crate) fn no_write_note(change: &Change) -> Option<&'static str> {
    match change.action() {
        _ if change.kind == "role" => Some("precondition: the role must exist; xacct never writes it"),
        Action::Adopt => Some("nothing is written: xacct records the existing one as its own"),
        Action::Forget if change.unreachable => {
            Some("only state changes: the account cannot be reached, so nothing is read or written there")
        }
        Action::Forget if change.kind == "manifest" && change.live.is_some() => {
            Some("only state changes: the file is left as it is, nothing is written")
        }
        Action::Forget => Some("only state changes: it is already gone, nothing is written"),
        _ => None,
    }
}

/// Whether a change's diff is a document diff of `before` → `after` (else the manifest `diff`).
pub(crate) fn is_document(change: &Change) -> bool {
    change.kind != "manifest" || change.diff.is_none()
}

/// `2 to create, 1 to update, 0 to delete, 1 to adopt, 0 to forget`
pub(crate) fn counts(s: &Summary) -> String {
    format!(
        "{} to create, {} to update, {} to delete, {} to adopt, {} to forget",
        s.create, s.update, s.delete, s.adopt, s.forget
    )
}

/// `7 AWS calls` / `1 AWS call`
pub(crate) fn aws_calls(n: u64) -> String {
    format!("{n} AWS call{}", if n == 1 { "" } else { "s" })
}

/// `Organizations: 12 accounts selected by 2 selectors (1 new), 1 SUSPENDED not selected; 9
/// Organizations calls.` — `None` for a plan without an `organization` block.
pub(crate) fn organizations(s: &Summary) -> Option<String> {
    let o = s.organization.as_ref()?;
    let mut within = vec![format!("{} new", o.new)];
    if o.listed > 0 {
        within.push(format!("{} also listed in the file", o.listed));
    }
    let mut line = format!(
        "Organizations: {} selected by {} ({})",
        plural(o.selected, "account", "accounts"),
        plural(o.selectors, "selector", "selectors"),
        within.join(", ")
    );
    if !o.inactive.is_empty() {
        let states: Vec<String> = o.inactive.iter().map(|(state, n)| format!("{n} {state}")).collect();
        let states = match states.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        };
        line.push_str(&format!(", {states} not selected"));
    }
    let calls = s.organizations_calls.unwrap_or(0);
    line.push_str(&format!("; {calls} Organizations call{}.", if calls == 1 { "" } else { "s" }));
    Some(line)
}

/// `1 resource` / `5 resources`
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub(crate) fn level_word(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
    }
}

/// Replace control characters (ANSI escapes included) with visible `\u{…}` forms, so text read
/// from manifests or AWS can never drive the terminal or sneak escapes into Markdown.
pub(crate) fn clean(text: &str) -> String {
    if !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// The lines of a text, each without its line ending (CRLF included), control characters scrubbed.
pub(crate) fn lines(text: &str) -> Vec<String> {
    text.lines().map(|l| clean(l.strip_suffix('\r').unwrap_or(l))).collect()
}

/// One row of a line diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Row {
    Same(String),
    Added(String),
    Removed(String),
    /// This many unchanged lines are not shown.
    Hidden(usize),
}

/// The value with every object's keys sorted, so two documents that differ only in key order
/// (IAM returns keys in its own order) print the same.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&m[k]))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Pretty JSON of a value (keys sorted), one trailing newline; empty for `null` (absent).
fn pretty(v: &Value) -> String {
    if v.is_null() {
        return String::new();
    }
    let mut s = serde_json::to_string_pretty(&sorted(v)).unwrap_or_else(|_| v.to_string());
    s.push('\n');
    s
}

/// A line diff of the pretty JSON of `before` and `after`, with a little context around each
/// change. Empty when both print the same.
pub(crate) fn json_diff(before: &Value, after: &Value) -> Vec<Row> {
    let (old, new) = (pretty(before), pretty(after));
    if old == new {
        return Vec::new();
    }
    let diff = TextDiff::from_lines(&old, &new);
    let old_len = diff.old_slices().len();
    let mut rows = Vec::new();
    let mut shown_to = 0;
    for group in diff.grouped_ops(CONTEXT) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else { continue };
        if first.old_range().start > shown_to {
            rows.push(Row::Hidden(first.old_range().start - shown_to));
        }
        shown_to = last.old_range().end;
        for op in &group {
            for change in diff.iter_changes(op) {
                let text = clean(change.value().trim_end_matches('\n'));
                rows.push(match change.tag() {
                    ChangeTag::Equal => Row::Same(text),
                    ChangeTag::Insert => Row::Added(text),
                    ChangeTag::Delete => Row::Removed(text),
                });
            }
        }
    }
    if old_len > shown_to {
        rows.push(Row::Hidden(old_len - shown_to));
    }
    rows
}

/// A diff as plain `+`/`-`/` ` prefixed lines (for Markdown's ```diff fences).
pub(crate) fn diff_text(rows: &[Row]) -> String {
    let mut out = String::new();
    for row in rows {
        match row {
            Row::Same(t) => out.push_str(&format!("  {t}\n")),
            Row::Added(t) => out.push_str(&format!("+ {t}\n")),
            Row::Removed(t) => out.push_str(&format!("- {t}\n")),
            Row::Hidden(n) => {
                out.push_str(&format!("  ... ({} hidden)\n", plural(*n, "unchanged line", "unchanged lines")))
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn json_diff_ignores_key_order() {
        let a = serde_json::json!({"Sid": "X", "Effect": "Allow", "Action": "sts:AssumeRole"});
        let b = serde_json::json!({"Action": "sts:AssumeRole", "Effect": "Allow", "Sid": "X"});
        assert!(json_diff(&a, &b).is_empty());
        let c = serde_json::json!({"Action": "sts:AssumeRole", "Effect": "Deny", "Sid": "X"});
        assert!(!json_diff(&a, &c).is_empty());
    }

    #[test]
    fn json_diff_of_create_is_all_added() {
        let rows = json_diff(&Value::Null, &json!({ "a": 1 }));
        assert_eq!(rows, vec![Row::Added("{".into()), Row::Added("  \"a\": 1".into()), Row::Added("}".into())]);
    }

    #[test]
    fn json_diff_hides_far_unchanged_lines() {
        let before: serde_json::Map<String, Value> = (0..20).map(|i| (format!("k{i:02}"), json!(i))).collect();
        let mut after = before.clone();
        after.insert("k10".into(), json!("ten"));
        let rows = json_diff(&Value::Object(before), &Value::Object(after));
        assert_eq!(rows.first(), Some(&Row::Hidden(7)));
        assert_eq!(rows.last(), Some(&Row::Hidden(6)));
        assert!(rows.contains(&Row::Removed("  \"k10\": 10,".into())));
        assert!(rows.contains(&Row::Added("  \"k10\": \"ten\",".into())));
    }

    #[test]
    fn equal_documents_have_no_diff() {
        assert!(json_diff(&json!({ "a": [1] }), &json!({ "a": [1] })).is_empty());
    }

    #[test]
    fn clean_escapes_control_characters() {
        assert_eq!(clean("a\x1b[31mb\tc\u{9b}"), "a\\u{1b}[31mb\tc\\u{9b}");
        assert_eq!(lines("x\r\ny\n"), vec!["x", "y"]);
    }
}
