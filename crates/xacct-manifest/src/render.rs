//! Rendering the small amount of new YAML xacct writes, in the file's own layout.

use crate::text::Layout;
use crate::tree::{Node, NodeKind, Quote};

/// A value xacct wants in the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Val {
    Str(String),
    Int(u64),
    Map(Vec<(String, Val)>),
    Seq(Vec<Val>),
}

impl Val {
    pub(crate) fn map(entries: &[(&str, Val)]) -> Val {
        Val::Map(entries.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect())
    }

    pub(crate) fn str(s: &str) -> Val {
        Val::Str(s.to_string())
    }

    /// Whether `node` already holds this value (mapping order and sequence order ignored).
    pub(crate) fn matches(&self, node: &Node) -> bool {
        match (self, &node.kind) {
            (Val::Str(s), NodeKind::Scalar { value, .. }) => s == value,
            (Val::Int(n), NodeKind::Scalar { value, style }) => *style == Quote::Plain && *value == n.to_string(),
            (Val::Map(want), NodeKind::Map { entries, .. }) => {
                want.len() == entries.len() && want.iter().all(|(k, v)| node.get(k).is_some_and(|n| v.matches(n)))
            }
            (Val::Seq(want), NodeKind::Seq { items, .. }) => {
                let mut want: Vec<&Val> = want.iter().collect();
                if want.len() != items.len() {
                    return false;
                }
                items.iter().all(|item| match want.iter().position(|v| v.matches(item)) {
                    Some(i) => {
                        want.swap_remove(i);
                        true
                    }
                    None => false,
                })
            }
            _ => false,
        }
    }
}

/// Whether `s` can be written as a plain scalar and read back as the same string.
fn plain_ok(s: &str) -> bool {
    const RESERVED: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"];
    let Some(first) = s.chars().next() else {
        return false;
    };
    first.is_ascii_alphabetic()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "._/:@=+,-".contains(c))
        && !s.ends_with(':')
        && !RESERVED.contains(&s.to_ascii_lowercase().as_str())
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A scalar, plain when that is safe.
pub(crate) fn scalar(s: &str) -> String {
    if plain_ok(s) {
        s.to_string()
    } else {
        double_quoted(s)
    }
}

/// A scalar in the quoting style an existing scalar used, when that style can hold it.
pub(crate) fn scalar_like(s: &str, style: Quote) -> String {
    match style {
        Quote::Double => double_quoted(s),
        Quote::Single if !s.contains(['\n', '\r']) && !s.chars().any(char::is_control) => {
            format!("'{}'", s.replace('\'', "''"))
        }
        _ => scalar(s),
    }
}

fn render_key(k: &str) -> String {
    scalar(k)
}

/// A value in flow style: `{kind: A, name: b}`.
pub(crate) fn flow(v: &Val) -> String {
    match v {
        Val::Str(s) => scalar(s),
        Val::Int(n) => n.to_string(),
        Val::Map(entries) => {
            let inner: Vec<String> = entries.iter().map(|(k, v)| format!("{}: {}", render_key(k), flow(v))).collect();
            format!("{{{}}}", inner.join(", "))
        }
        Val::Seq(items) => {
            let inner: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", inner.join(", "))
        }
    }
}

/// A block mapping entry `key: value` whose key sits at column `col` (0-based). The first line
/// carries no indentation and the text ends without a line break.
pub(crate) fn entry(key: &str, v: &Val, col: usize, layout: &Layout) -> String {
    let mut out = render_key(key);
    out.push(':');
    match v {
        Val::Map(entries) if !entries.is_empty() => {
            let inner = col + layout.indent;
            for (k, v) in entries {
                out.push_str(layout.newline);
                out.push_str(&" ".repeat(inner));
                out.push_str(&entry(k, v, inner, layout));
            }
        }
        Val::Seq(items) if !items.is_empty() => {
            let dash = if layout.indent_sequences { col + layout.indent } else { col };
            for item in items {
                out.push_str(layout.newline);
                out.push_str(&" ".repeat(dash));
                out.push_str("- ");
                out.push_str(&flow(item));
            }
        }
        _ => {
            out.push(' ');
            out.push_str(&flow(v));
        }
    }
    out
}

/// Whole lines for block mapping entries at column `col`, each ending with a line break.
pub(crate) fn entry_lines(entries: &[(String, Val)], col: usize, layout: &Layout) -> String {
    let mut out = String::new();
    for (k, v) in entries {
        out.push_str(&" ".repeat(col));
        out.push_str(&entry(k, v, col, layout));
        out.push_str(layout.newline);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_quote_what_yaml_would_misread() {
        assert_eq!(scalar("arn:aws:iam::123456789012:role/x"), "arn:aws:iam::123456789012:role/x");
        assert_eq!(scalar("default"), "default");
        assert_eq!(scalar("true"), "\"true\"");
        assert_eq!(scalar("123"), "\"123\"");
        assert_eq!(scalar("a b"), "\"a b\"");
        assert_eq!(scalar(""), "\"\"");
        assert_eq!(scalar_like("x'y", Quote::Single), "'x''y'");
    }

    #[test]
    fn entries_follow_layout() {
        let layout = Layout { newline: "\r\n", indent: 4, indent_sequences: true };
        let v = Val::map(&[("list", Val::Seq(vec![Val::str("a"), Val::str("b")]))]);
        assert_eq!(
            entry("allowedNamespaces", &v, 2, &layout),
            "allowedNamespaces:\r\n      list:\r\n          - a\r\n          - b"
        );
        assert_eq!(entry("x", &Val::Map(vec![]), 0, &layout), "x: {}");
    }
}
