//! Edits of xacct's own statement: what counts as a statement xacct can own.

use serde_json::json;
use xacct_policy::{insert_statement, upsert_statement, PolicyError};

#[test]
fn an_owned_statement_needs_a_non_empty_sid() {
    let doc = json!({"Version": "2012-10-17", "Statement": []});
    let base = json!({"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "sts:AssumeRole"});
    for sid in [json!(""), json!(7), serde_json::Value::Null] {
        let mut stmt = base.clone();
        if !sid.is_null() {
            stmt["Sid"] = sid.clone();
        }
        // A non-string Sid does not parse as a statement; an empty or missing one is no Sid.
        let err = upsert_statement(&doc, &stmt).unwrap_err();
        if sid.is_number() {
            assert!(matches!(err, PolicyError::Invalid { .. }), "{sid}: {err:?}");
        } else {
            assert_eq!(err, PolicyError::MissingSid, "{sid}");
        }
        assert_eq!(insert_statement(&doc, &stmt).unwrap_err(), err);
    }
    let mut named = base;
    named["Sid"] = json!("X");
    assert_eq!(upsert_statement(&doc, &named).unwrap()["Statement"], json!([named]));
}
