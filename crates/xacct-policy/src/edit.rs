//! Edits of xacct's own statement inside a document that others also write.
//!
//! Every function works on the document as a `serde_json::Value` (parsed with
//! `preserve_order`), never on the normalised model, so a foreign statement keeps
//! its exact content, key order and position: a string `Principal` stays a string,
//! an odd `Effect` spelling stays as written. Only the statement carrying xacct's
//! `Sid` is inserted, replaced or removed.

use serde_json::{Map, Value};

use crate::error::{PolicyError, Result};
use crate::model::{kind_of, parse_json, Statement};

/// Decode (when percent-encoded) and parse a document into a JSON value for editing.
pub fn parse_document(text: &str) -> Result<Value> {
    let decoded = crate::decode::decode_document(text)?;
    let value = parse_json(&decoded)?;
    doc_object(&value)?;
    Ok(value)
}

fn doc_object(doc: &Value) -> Result<&Map<String, Value>> {
    doc.as_object()
        .ok_or_else(|| PolicyError::invalid("(document)", format!("expected a JSON object, found {}", kind_of(doc))))
}

/// The statements of a document as a slice of JSON values, whatever form
/// `Statement` takes (missing: none; a single object: one).
pub fn statements(doc: &Value) -> Result<Vec<&Value>> {
    match doc_object(doc)?.get("Statement") {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items.iter().collect()),
        Some(obj @ Value::Object(_)) => Ok(vec![obj]),
        Some(other) => {
            Err(PolicyError::invalid("Statement", format!("expected an object or an array, found {}", kind_of(other))))
        }
    }
}

fn sid_of(stmt: &Value) -> Option<&str> {
    stmt.get("Sid").and_then(Value::as_str)
}

/// The first statement whose `Sid` is `sid`, with its index.
pub fn find_statement<'a>(doc: &'a Value, sid: &str) -> Option<(usize, &'a Value)> {
    statements(doc).ok()?.into_iter().enumerate().find(|(_, s)| sid_of(s) == Some(sid))
}

/// The first statement equivalent to `stmt` ignoring `Sid` (for adoption), with its
/// index and its `Sid`. Statements that do not parse are skipped. The partition of a bare
/// account ID is inferred from each pair of statements (see [`crate::equivalent`]).
pub fn find_equivalent_statement(doc: &Value, stmt: &Value) -> Option<(usize, Option<String>)> {
    find_equivalent_statement_in(doc, stmt, None)
}

/// [`find_equivalent_statement`] in a document of `partition`: there a bare account ID is
/// `arn:<partition>:iam::<id>:root` and no other partition's root (`None`: inferred).
pub fn find_equivalent_statement_in(
    doc: &Value,
    stmt: &Value,
    partition: Option<&str>,
) -> Option<(usize, Option<String>)> {
    let wanted = Statement::from_value(stmt).ok()?;
    statements(doc).ok()?.into_iter().enumerate().find_map(|(i, s)| {
        let have = Statement::from_value(s).ok()?;
        have.equivalent_ignoring_sid_in(&wanted, partition).then_some((i, have.sid))
    })
}

fn owned_sid(stmt: &Value) -> Result<String> {
    Statement::from_value(stmt)?;
    match stmt.get("Sid") {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => Err(PolicyError::MissingSid),
    }
}

/// Take the statement list out of a document, turning a single statement object
/// into a one-element array and a missing `Statement` into an empty one.
fn statement_array(doc: &Value) -> Result<(Map<String, Value>, Vec<Value>)> {
    let mut map = doc_object(doc)?.clone();
    let list = statements(doc)?.into_iter().cloned().collect();
    if !map.contains_key("Statement") {
        map.insert("Statement".into(), Value::Null);
    }
    Ok((map, list))
}

fn positions(list: &[Value], sid: &str) -> Vec<usize> {
    list.iter().enumerate().filter(|(_, s)| sid_of(s) == Some(sid)).map(|(i, _)| i).collect()
}

/// Insert `stmt` (which must carry a `Sid`), or replace the statement with that
/// `Sid` in place. Every other statement keeps its content and position. A missing
/// `Statement` is created as an array; a single statement object becomes an array.
pub fn upsert_statement(doc: &Value, stmt: &Value) -> Result<Value> {
    let sid = owned_sid(stmt)?;
    let (mut map, mut list) = statement_array(doc)?;
    match positions(&list, &sid).as_slice() {
        [] => list.push(stmt.clone()),
        [i] => list[*i] = stmt.clone(),
        _ => return Err(PolicyError::DuplicateSid(sid)),
    }
    map.insert("Statement".into(), Value::Array(list));
    Ok(Value::Object(map))
}

/// Insert `stmt`; an error when a statement with its `Sid` already exists.
pub fn insert_statement(doc: &Value, stmt: &Value) -> Result<Value> {
    let sid = owned_sid(stmt)?;
    if find_statement(doc, &sid).is_some() {
        return Err(PolicyError::DuplicateSid(sid));
    }
    upsert_statement(doc, stmt)
}

/// Remove the statement with `Sid` `sid`, returning the new document and the
/// removed statement (`None`, and the document unchanged, when there was none).
pub fn remove_statement(doc: &Value, sid: &str) -> Result<(Value, Option<Value>)> {
    let (mut map, mut list) = statement_array(doc)?;
    let removed = match positions(&list, sid).as_slice() {
        [] => {
            doc_object(doc)?;
            return Ok((doc.clone(), None));
        }
        [i] => list.remove(*i),
        _ => return Err(PolicyError::DuplicateSid(sid.to_string())),
    };
    map.insert("Statement".into(), Value::Array(list));
    Ok((Value::Object(map), Some(removed)))
}

/// The document as compact JSON text (the form to send to IAM).
pub fn to_document_text(doc: &Value) -> String {
    doc.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{equivalent, Policy};
    use serde_json::json;

    fn foreign_doc() -> Value {
        parse_document(
            r#"{"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},
              {"Sid":"Foreign","Principal":"*","Effect":"allow","Action":["sts:AssumeRole"],"Condition":{"Bool":{"aws:SecureTransport":true}}}
            ]}"#,
        )
        .unwrap()
    }

    fn ours() -> Value {
        json!({"Sid":"XacctDev","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/r"},"Action":"sts:AssumeRole"})
    }

    fn policy(v: &Value) -> Policy {
        Policy::from_value(v).unwrap()
    }

    #[test]
    fn insert_appends_and_keeps_foreign_statements_verbatim() {
        let doc = foreign_doc();
        let out = upsert_statement(&doc, &ours()).unwrap();
        let list = out["Statement"].as_array().unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[0], doc["Statement"][0]);
        assert_eq!(list[1].to_string(), doc["Statement"][1].to_string());
        assert_eq!(list[1]["Principal"], json!("*"));
        assert_eq!(list[2], ours());
        assert_eq!(out["Version"], json!("2012-10-17"));
    }

    #[test]
    fn upsert_replaces_in_place() {
        let doc = upsert_statement(&foreign_doc(), &ours()).unwrap();
        let doc = upsert_statement(&doc, &foreign_doc()["Statement"][0]).unwrap_err();
        assert_eq!(doc, PolicyError::MissingSid);
        let mut first = ours();
        first["Sid"] = json!("Foreign");
        first["Action"] = json!("sts:TagSession");
        let doc = upsert_statement(&foreign_doc(), &first).unwrap();
        assert_eq!(doc["Statement"][1], first);
        assert_eq!(doc["Statement"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn insert_statement_refuses_existing_sid() {
        let doc = upsert_statement(&foreign_doc(), &ours()).unwrap();
        assert_eq!(insert_statement(&doc, &ours()).unwrap_err(), PolicyError::DuplicateSid("XacctDev".into()));
    }

    #[test]
    fn creates_statement_array_when_missing() {
        let out = upsert_statement(&json!({"Version":"2012-10-17"}), &ours()).unwrap();
        assert_eq!(out, json!({"Version":"2012-10-17","Statement":[ours()]}));
    }

    #[test]
    fn single_object_statement_becomes_array() {
        let single = json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}});
        let out = upsert_statement(&single, &ours()).unwrap();
        assert_eq!(out["Statement"][0], single["Statement"]);
        let (back, removed) = remove_statement(&out, "XacctDev").unwrap();
        assert_eq!(removed, Some(ours()));
        assert!(equivalent(&policy(&back), &policy(&single)));
    }

    #[test]
    fn remove_gives_back_equivalent_document() {
        let doc = foreign_doc();
        let with = upsert_statement(&doc, &ours()).unwrap();
        let (back, removed) = remove_statement(&with, "XacctDev").unwrap();
        assert_eq!(removed, Some(ours()));
        assert_eq!(back, doc);
        assert!(equivalent(&policy(&back), &policy(&doc)));
    }

    #[test]
    fn remove_missing_is_noop() {
        let doc = foreign_doc();
        let (back, removed) = remove_statement(&doc, "Nope").unwrap();
        assert_eq!(back, doc);
        assert!(removed.is_none());
    }

    #[test]
    fn duplicate_sid_is_refused() {
        let doc = json!({"Statement":[ours(), ours()]});
        assert!(matches!(upsert_statement(&doc, &ours()), Err(PolicyError::DuplicateSid(_))));
        assert!(matches!(remove_statement(&doc, "XacctDev"), Err(PolicyError::DuplicateSid(_))));
    }

    #[test]
    fn find_by_sid_and_by_equivalence() {
        let doc = upsert_statement(&foreign_doc(), &ours()).unwrap();
        assert_eq!(find_statement(&doc, "XacctDev").unwrap().0, 2);
        assert!(find_statement(&doc, "xacctdev").is_none());
        let mut hand_made = json!({"Effect":"allow","Action":["sts:AssumeRole"],"Principal":{"AWS":["arn:aws:iam::111111111111:role/r"]}});
        assert!(find_equivalent_statement(&foreign_doc(), &hand_made).is_none());
        let with_hand_made = upsert_statement(&foreign_doc(), &{
            hand_made["Sid"] = json!("ByHand");
            hand_made.clone()
        })
        .unwrap();
        assert_eq!(find_equivalent_statement(&with_hand_made, &ours()), Some((2, Some("ByHand".into()))));
    }

    #[test]
    fn invalid_inputs_are_errors() {
        assert!(upsert_statement(&json!([]), &ours()).is_err());
        assert!(upsert_statement(&json!({"Statement":"x"}), &ours()).is_err());
        let bad = json!({"Sid":"X","Effect":"Perhaps"});
        assert!(upsert_statement(&json!({}), &bad).is_err());
        assert!(parse_document("{\"a\":").is_err());
        assert!(parse_document("[1]").is_err());
    }

    #[test]
    fn document_text_is_compact_and_ordered() {
        let doc = parse_document(r#"{ "Version": "2012-10-17", "Statement": [] }"#).unwrap();
        assert_eq!(to_document_text(&doc), r#"{"Version":"2012-10-17","Statement":[]}"#);
    }

    #[test]
    fn an_equivalent_statement_with_a_bare_account_is_found_in_its_partition() {
        let doc = parse_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}"#,
        )
        .unwrap();
        for partition in ["aws", "aws-cn", "aws-us-gov"] {
            let ours = json!({"Sid": "Xacct", "Effect": "Allow",
                "Principal": {"AWS": format!("arn:{partition}:iam::123456789012:root")}, "Action": "sts:AssumeRole"});
            assert_eq!(find_equivalent_statement_in(&doc, &ours, Some(partition)), Some((1, None)), "{partition}");
            assert_eq!(find_equivalent_statement(&doc, &ours), Some((1, None)), "{partition}, inferred");
            let elsewhere = if partition == "aws" { "aws-cn" } else { "aws" };
            assert_eq!(find_equivalent_statement_in(&doc, &ours, Some(elsewhere)), None, "{partition} in {elsewhere}");
        }
    }
}
