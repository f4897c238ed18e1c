//! Views of a [`PolicyDiff`] (`xacct policy diff`): a unified-diff-like text for a terminal and
//! the versioned JSON document. Which statements pair up, and so what "changed" means, is
//! decided by [`xacct_policy::diff_policies`]; this module only shows it.

use serde_json::{json, Value};
use similar::{capture_diff_slices, Algorithm, ChangeTag};
use xacct_policy::{DiffSide, PolicyDiff};

use crate::style::{Style, Tone};

/// The `format_version` of [`policy_diff_json`].
pub const POLICY_DIFF_FORMAT_VERSION: u32 = 1;

fn side_json(s: &DiffSide<'_>) -> Value {
    json!({ "index": s.index, "sid": s.sid(), "statement": s.canonical })
}

/// The machine view: `format_version`, `equivalent`, `document`, `only_in_a`, `only_in_b`,
/// `changed` (docs/policy.md), pretty-printed.
pub fn policy_diff_json(diff: &PolicyDiff<'_>) -> String {
    let doc = json!({
        "format_version": POLICY_DIFF_FORMAT_VERSION,
        "equivalent": diff.is_empty(),
        "document": diff.document.iter().map(|e| json!({"element": e.element, "a": e.a, "b": e.b})).collect::<Vec<_>>(),
        "only_in_a": diff.only_in_a.iter().map(side_json).collect::<Vec<_>>(),
        "only_in_b": diff.only_in_b.iter().map(side_json).collect::<Vec<_>>(),
        "changed": diff.changed.iter().map(|(x, y)| json!({"a": side_json(x), "b": side_json(y)})).collect::<Vec<_>>(),
    });
    // Serialising a Value cannot fail.
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// A line diff of two texts: `(' ' | '-' | '+', line)`, deletions before insertions.
pub(crate) fn line_diff<'t>(a: &'t str, b: &'t str) -> Vec<(char, &'t str)> {
    let old: Vec<&str> = a.lines().collect();
    let new: Vec<&str> = b.lines().collect();
    capture_diff_slices(Algorithm::Myers, &old, &new)
        .iter()
        .flat_map(|op| op.iter_changes(&old, &new))
        .map(|c| {
            let tag = match c.tag() {
                ChangeTag::Equal => ' ',
                ChangeTag::Delete => '-',
                ChangeTag::Insert => '+',
            };
            (tag, c.value())
        })
        .collect()
}

fn pretty(s: &DiffSide<'_>) -> String {
    serde_json::to_string_pretty(&s.canonical).unwrap_or_default()
}

fn label(s: &DiffSide<'_>) -> String {
    match s.sid() {
        Some(sid) => format!("Sid `{sid}` (#{})", s.index),
        None => format!("#{}", s.index),
    }
}

fn diff_line(style: &Style, tag: char, line: &str) -> String {
    let text = format!("{tag} {line}");
    match tag {
        '-' => style.paint(Tone::Red, &text),
        '+' => style.paint(Tone::Green, &text),
        _ => text,
    }
}

fn show(v: &Option<String>) -> String {
    v.as_ref().map_or_else(|| "missing".to_string(), |s| format!("`{s}`"))
}

/// The human view for stdout: `--- a` / `+++ b`, then `Version`/`Id` differences, each changed
/// statement pair as a line diff of the two canonical statements, and the statements only on
/// one side. Empty when the documents are equivalent. `a` and `b` name the two documents.
pub fn policy_diff_human(diff: &PolicyDiff<'_>, a: &str, b: &str, style: &Style) -> String {
    if diff.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(style.paint(Tone::Bold, &format!("--- {a}\n+++ {b}")));
    for e in &diff.document {
        line(style.paint(Tone::Cyan, &format!("~ {}: {} in {a}, {} in {b}", e.element, show(&e.a), show(&e.b))));
    }
    for (x, y) in &diff.changed {
        let sid = |s: &DiffSide<'_>| s.sid().map_or_else(|| "without Sid".to_string(), |v| format!("Sid `{v}`"));
        let what = if x.sid() == y.sid() { sid(x) } else { format!("{} → {}", sid(x), sid(y)) };
        let at = if x.index == y.index {
            format!("#{}", x.index)
        } else {
            format!("#{} in {a}, #{} in {b}", x.index, y.index)
        };
        line(style.paint(Tone::Cyan, &format!("~ statement {what} changed ({at})")));
        for (tag, text) in line_diff(&pretty(x), &pretty(y)) {
            line(diff_line(style, tag, text));
        }
    }
    for (sides, tag, name) in [(&diff.only_in_a, '-', a), (&diff.only_in_b, '+', b)] {
        for s in sides {
            line(style.paint(Tone::Cyan, &format!("{tag} statement {} only in {name}", label(s))));
            for text in pretty(s).lines() {
                line(diff_line(style, tag, text));
            }
        }
    }
    out
}

/// The messages for stderr, in order: whether the documents are the same and, when they differ,
/// how many changes and one-sided statements, then a hint when a principal is a unique ID.
pub fn policy_diff_messages(diff: &PolicyDiff<'_>, a: &str, b: &str) -> Vec<String> {
    if diff.is_empty() {
        return vec![format!("{a} and {b} are the same policy")];
    }
    let changes = diff.changes();
    let mut out = vec![format!(
        "{a} and {b} differ: {changes} {}, {} only in {a}, {} only in {b}",
        if changes == 1 { "change" } else { "changes" },
        diff.only_in_a.len(),
        diff.only_in_b.len(),
    )];
    if let Some(id) = diff.unique_ids.first() {
        out.push(format!(
            "\nhint: `{id}` is a unique ID, not an ARN: the role or user it named was deleted and the trust is broken"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use xacct_policy::{diff_policies, Policy};

    fn policy(text: &str) -> Policy {
        Policy::parse(text).unwrap()
    }

    #[test]
    fn line_diff_keeps_common_lines() {
        assert_eq!(line_diff("a\nb\nc", "a\nx\nc"), [(' ', "a"), ('-', "b"), ('+', "x"), (' ', "c")]);
        assert_eq!(line_diff("a\nb", "a\nb\nc"), [(' ', "a"), (' ', "b"), ('+', "c")]);
        assert_eq!(line_diff("x\ny", ""), [('-', "x"), ('-', "y")]);
    }

    #[test]
    fn equivalent_documents_print_nothing_and_say_so() {
        let a = policy(r#"{"Statement":[{"Effect":"Allow","Action":"x:y","Resource":"*"}]}"#);
        let d = diff_policies(&a, &a, None);
        assert_eq!(policy_diff_human(&d, "a.json", "b.json", &Style::COLOR), "");
        assert_eq!(policy_diff_messages(&d, "a.json", "b.json"), ["a.json and b.json are the same policy"]);
        let v: Value = serde_json::from_str(&policy_diff_json(&d)).unwrap();
        assert_eq!(
            v,
            json!({"format_version": 1, "equivalent": true, "document": [], "only_in_a": [], "only_in_b": [], "changed": []})
        );
    }

    #[test]
    fn a_changed_pair_a_one_sided_statement_and_a_document_element() {
        let a = policy(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":{"AWS":"AROA3XFRBF535PLBIFPI4"},"Action":"sts:AssumeRole"}]}"#,
        );
        let b = policy(
            r#"{"Statement":[{"Sid":"B","Effect":"Deny","Action":"x:y","Resource":"*"},{"Sid":"A","Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}"#,
        );
        let d = diff_policies(&a, &b, Some("aws-cn"));
        let text = policy_diff_human(&d, "a.json", "b.json", &Style::PLAIN);
        let expected = "\
--- a.json
+++ b.json
~ Version: `2012-10-17` in a.json, missing in b.json
~ statement Sid `A` changed (#0 in a.json, #1 in b.json)
  {
    \"Sid\": \"A\",
    \"Effect\": \"Allow\",
    \"Principal\": {
      \"AWS\": [
-       \"AROA3XFRBF535PLBIFPI4\"
+       \"arn:aws-cn:iam::123456789012:root\"
      ]
    },
    \"Action\": [
      \"sts:AssumeRole\"
    ]
  }
+ statement Sid `B` (#0) only in b.json
+ {
+   \"Sid\": \"B\",
+   \"Effect\": \"Deny\",
+   \"Action\": [
+     \"x:y\"
+   ],
+   \"Resource\": [
+     \"*\"
+   ]
+ }
";
        assert_eq!(text, expected);
        assert_eq!(
            policy_diff_messages(&d, "a.json", "b.json"),
            [
                "a.json and b.json differ: 2 changes, 0 only in a.json, 1 only in b.json".to_string(),
                "\nhint: `AROA3XFRBF535PLBIFPI4` is a unique ID, not an ARN: the role or user it named was deleted and the trust is broken".to_string(),
            ]
        );
        let colored = policy_diff_human(&d, "a.json", "b.json", &Style::COLOR);
        assert!(colored.starts_with("\x1b[1m--- a.json\n+++ b.json\x1b[0m\n"), "{colored:?}");
        assert!(colored.contains("\x1b[31m-       \"AROA3XFRBF535PLBIFPI4\"\x1b[0m\n"), "{colored:?}");
        assert!(colored.contains("\x1b[32m+ {\x1b[0m\n"), "{colored:?}");
        assert!(colored.contains("\x1b[36m~ Version: "), "{colored:?}");

        let v: Value = serde_json::from_str(&policy_diff_json(&d)).unwrap();
        assert_eq!(v["equivalent"], false);
        assert_eq!(v["document"], json!([{"element": "Version", "a": "2012-10-17", "b": null}]));
        assert_eq!(v["only_in_a"], json!([]));
        assert_eq!(v["only_in_b"][0]["index"], 0);
        assert_eq!(v["only_in_b"][0]["sid"], "B");
        assert_eq!(v["changed"][0]["a"]["index"], 0);
        assert_eq!(v["changed"][0]["b"]["index"], 1);
        assert_eq!(v["changed"][0]["b"]["statement"]["Principal"]["AWS"], json!(["arn:aws-cn:iam::123456789012:root"]));
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["format_version", "equivalent", "document", "only_in_a", "only_in_b", "changed"]);
    }

    #[test]
    fn a_renamed_statement_shows_both_sids_and_one_change_is_singular() {
        let a = policy(r#"{"Statement":[{"Sid":"Old","Effect":"Allow","Action":"x:y","Resource":"*"}]}"#);
        let b = policy(r#"{"Statement":[{"Sid":"New","Effect":"Allow","Action":"x:y","Resource":"*"}]}"#);
        let d = diff_policies(&a, &b, None);
        let text = policy_diff_human(&d, "a", "b", &Style::PLAIN);
        assert!(text.contains("~ statement Sid `Old` → Sid `New` changed (#0)\n"), "{text}");
        assert_eq!(policy_diff_messages(&d, "a", "b"), ["a and b differ: 1 change, 0 only in a, 0 only in b"]);
        let sidless = policy(r#"{"Statement":[{"Effect":"Deny","Action":"x:y","Resource":"*"}]}"#);
        let unnamed = policy(r#"{"Statement":[{"Effect":"Allow","Action":"x:y","Resource":"*"}]}"#);
        let text = policy_diff_human(&diff_policies(&sidless, &unnamed, None), "a", "b", &Style::PLAIN);
        assert!(text.contains("~ statement without Sid changed (#0)\n"), "{text}");
    }
}
