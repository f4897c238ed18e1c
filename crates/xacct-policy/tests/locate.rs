//! `locate` against serde_json: every member and element of a document, compact or pretty,
//! is found at the text that parses back to it.

use proptest::prelude::*;
use serde_json::{Map, Value};
use xacct_policy::locate;

fn key() -> impl Strategy<Value = String> {
    // Quotes, backslashes and brackets inside keys must not confuse the walk.
    "[a-z\"\\\\\\]\\[{},:é\n ]{0,5}"
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        key().prop_map(Value::String),
        any::<i32>().prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Every path into `v` with the value (for an element) or key (for a member) it names.
fn paths(v: &Value, prefix: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{prefix}[{i}]");
                out.push((p.clone(), item.clone()));
                paths(item, p, out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                // A path is dot-separated: keys holding `.` or `[` cannot be named.
                if k.is_empty() || k.contains(['.', '[', ']']) {
                    continue;
                }
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                out.push((p.clone(), Value::String(k.clone())));
                paths(item, p, out);
            }
        }
        _ => {}
    }
}

/// The byte offset of a 1-based line and column (in characters).
fn offset(text: &str, (line, col): (usize, usize)) -> usize {
    let start: usize = text.split('\n').take(line - 1).map(|l| l.len() + 1).sum();
    start + text[start..].chars().take(col - 1).map(char::len_utf8).sum::<usize>()
}

fn first_value(text: &str) -> Value {
    serde_json::Deserializer::from_str(text).into_iter::<Value>().next().unwrap().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
    ))]

    #[test]
    fn every_path_is_found_where_it_is_written(doc in prop::collection::vec((key(), value()), 0..4), pretty in any::<bool>()) {
        let doc = Value::Object(doc.into_iter().collect());
        let text = if pretty { serde_json::to_string_pretty(&doc).unwrap() } else { doc.to_string() };
        let text = format!("\r\n\t {text}\t\r\n ");
        let mut all = Vec::new();
        paths(&doc, String::new(), &mut all);
        for (path, expected) in all {
            let at = locate(&text, &path);
            prop_assert!(at.is_some(), "{} not found in {}", path, text);
            let off = offset(&text, at.unwrap());
            prop_assert_eq!(first_value(&text[off..]), expected, "{} in {}", path, text);
        }
        prop_assert_eq!(locate(&text, ""), Some((2, 3)));
        prop_assert_eq!(locate(&text, "(document)"), Some((2, 3)));
    }
}

#[test]
fn whitespace_to_the_end_of_the_text() {
    assert_eq!(locate("", ""), Some((1, 1)));
    assert_eq!(locate(" \t\r\n ", ""), Some((2, 2)));
    assert_eq!(locate("  ", "a"), None);
    assert_eq!(locate("[1, 2 ", "[2]"), None);
    // A scalar that runs to the end of the text ends there.
    assert_eq!(locate("[1", "[1]"), None);
    assert_eq!(locate("{\"a\": true", "b"), None);
    assert_eq!(locate("{\"a\": \"unterminated", "b"), None);
    assert_eq!(locate("{\"a\": [1, {\"b\": 2}", "c"), None);
}

#[test]
fn paths_that_do_not_parse_are_none() {
    let doc = r#"{"a": [[1, 2], {"b": 3}]}"#;
    assert_eq!(locate(doc, "a[1].b"), Some((1, 17)));
    assert_eq!(locate(doc, "a[0][1]"), Some((1, 12)));
    assert_eq!(locate(doc, "a[1]x"), None);
    assert_eq!(locate(doc, "a[1"), None);
    assert_eq!(locate(doc, "a[-1]"), None);
    // `[0]` finds a single value only where the value is not itself a list.
    assert_eq!(locate(r#"{"a": []}"#, "a[0]"), None);
    assert_eq!(locate(r#"{"a": "x"}"#, "a[0]"), Some((1, 7)));
}
