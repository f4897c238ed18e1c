//! Canonical form and equivalence (the rules of REFERENCE.md §4).
//!
//! Two documents are equivalent when their canonical forms are equal. The canonical
//! form keeps `Version`, `Id` and `Sid` as written; spells `Effect` `Allow`/`Deny`;
//! writes every list-valued element as a sorted array (duplicates kept); writes
//! condition values as sorted arrays of strings (booleans and numbers as text);
//! rewrites a bare 12-digit account in an `AWS` principal to `arn:aws:iam::<id>:root`;
//! drops empty principal lists (and a principal map left empty); sorts statements.
//! Action names keep their case and unique-ID principals are left alone.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::model::{Policy, Principal, PrincipalType, Statement};

impl Policy {
    /// The canonical JSON value of this document.
    pub fn canonical_json(&self) -> Value {
        let mut out = Map::new();
        if let Some(v) = &self.version {
            out.insert("Version".into(), Value::String(v.clone()));
        }
        if let Some(id) = &self.id {
            out.insert("Id".into(), Value::String(id.clone()));
        }
        let mut statements: Vec<(String, Value)> = self
            .statements
            .iter()
            .map(|s| {
                let v = s.canonical_json();
                (v.to_string(), v)
            })
            .collect();
        statements.sort_by(|a, b| a.0.cmp(&b.0));
        out.insert("Statement".into(), Value::Array(statements.into_iter().map(|(_, v)| v).collect()));
        Value::Object(out)
    }

    /// The canonical form as stable, pretty-printed JSON.
    pub fn to_canonical_string(&self) -> String {
        // Serialising a Value built from strings cannot fail.
        serde_json::to_string_pretty(&self.canonical_json()).unwrap_or_default()
    }
}

impl Statement {
    /// The canonical JSON value of this statement (including its `Sid`).
    pub fn canonical_json(&self) -> Value {
        canonical_statement(self, true)
    }

    /// Whether two statements are equivalent apart from their `Sid`: the test used to
    /// adopt an existing statement instead of adding a duplicate.
    pub fn equivalent_ignoring_sid(&self, other: &Statement) -> bool {
        canonical_statement(self, false) == canonical_statement(other, false)
    }

    /// Whether two statements are equivalent, `Sid` included.
    pub fn equivalent(&self, other: &Statement) -> bool {
        self.canonical_json() == other.canonical_json()
    }
}

/// Whether two documents are equivalent (same canonical form).
pub fn equivalent(a: &Policy, b: &Policy) -> bool {
    a.canonical_json() == b.canonical_json()
}

/// Parse (decoding IAM's URL encoding when present) and compare two documents.
pub fn equivalent_text(a: &str, b: &str) -> crate::Result<bool> {
    Ok(equivalent(&Policy::parse_encoded(a)?, &Policy::parse_encoded(b)?))
}

fn sorted_strings(values: &[String]) -> Value {
    let mut v: Vec<&String> = values.iter().collect();
    v.sort();
    Value::Array(v.into_iter().map(|s| Value::String(s.clone())).collect())
}

/// `123456789012` → `arn:aws:iam::123456789012:root`; anything else unchanged.
pub fn normalize_aws_principal(value: &str) -> String {
    if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        format!("arn:aws:iam::{value}:root")
    } else {
        value.to_string()
    }
}

fn canonical_principal(p: &Principal) -> Option<Value> {
    match p {
        Principal::Any => Some(Value::String("*".into())),
        Principal::Typed(entries) => {
            let mut by_type: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
            for (ty, values) in entries {
                let list = by_type.entry(ty.as_str()).or_default();
                for v in values {
                    list.push(if *ty == PrincipalType::Aws { normalize_aws_principal(v) } else { v.clone() });
                }
            }
            let mut map = Map::new();
            for (ty, values) in by_type {
                if !values.is_empty() {
                    map.insert(ty.into(), sorted_strings(&values));
                }
            }
            (!map.is_empty()).then_some(Value::Object(map))
        }
    }
}

fn canonical_statement(s: &Statement, include_sid: bool) -> Value {
    let mut out = Map::new();
    if include_sid {
        if let Some(sid) = &s.sid {
            out.insert("Sid".into(), Value::String(sid.clone()));
        }
    }
    out.insert("Effect".into(), Value::String(s.effect.as_str().into()));
    for (name, p) in [("Principal", &s.principal), ("NotPrincipal", &s.not_principal)] {
        if let Some(v) = p.as_ref().and_then(canonical_principal) {
            out.insert(name.into(), v);
        }
    }
    for (name, list) in [
        ("Action", &s.action),
        ("NotAction", &s.not_action),
        ("Resource", &s.resource),
        ("NotResource", &s.not_resource),
    ] {
        if let Some(values) = list {
            out.insert(name.into(), sorted_strings(values));
        }
    }
    if !s.conditions.is_empty() {
        let mut ops: BTreeMap<&str, BTreeMap<&str, Vec<String>>> = BTreeMap::new();
        for c in &s.conditions {
            ops.entry(c.operator.as_str())
                .or_default()
                .entry(c.key.as_str())
                .or_default()
                .extend(c.values.iter().cloned());
        }
        let mut cond = Map::new();
        for (op, keys) in ops {
            let mut k = Map::new();
            for (key, values) in keys {
                k.insert(key.into(), sorted_strings(&values));
            }
            cond.insert(op.into(), Value::Object(k));
        }
        out.insert("Condition".into(), Value::Object(cond));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(a: &str, b: &str) -> bool {
        let pa = Policy::parse(a).unwrap();
        let pb = Policy::parse(b).unwrap();
        let r = equivalent(&pa, &pb);
        assert_eq!(r, equivalent(&pb, &pa), "symmetry");
        r
    }

    const BASE: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/r"},"Action":"sts:AssumeRole"}]}"#;

    // ---- equal ----

    #[test]
    fn equal_whitespace() {
        let spaced = "{\n  \"Version\" : \"2012-10-17\",\n\t\"Statement\": [ { \"Sid\": \"A\", \"Effect\": \"Allow\",\n \"Principal\": {\"AWS\": \"arn:aws:iam::111111111111:role/r\"}, \"Action\": \"sts:AssumeRole\" } ]\n}\n";
        assert!(eq(BASE, spaced));
    }

    #[test]
    fn equal_statement_order() {
        let a = r#"{"Statement":[{"Sid":"A","Effect":"Allow","Action":"a:b","Resource":"*"},{"Sid":"B","Effect":"Deny","Action":"c:d","Resource":"*"}]}"#;
        let b = r#"{"Statement":[{"Sid":"B","Effect":"Deny","Action":"c:d","Resource":"*"},{"Sid":"A","Effect":"Allow","Action":"a:b","Resource":"*"}]}"#;
        assert!(eq(a, b));
    }

    #[test]
    fn equal_single_statement_vs_one_element_array() {
        let single = r#"{"Version":"2012-10-17","Statement":{"Sid":"A","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/r"},"Action":"sts:AssumeRole"}}"#;
        assert!(eq(BASE, single));
    }

    #[test]
    fn equal_string_vs_one_element_array_action() {
        let a = r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","NotAction":"x:y","Resource":"*"}]}"#;
        let b = r#"{"Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"NotAction":["x:y"],"Resource":["*"]}]}"#;
        assert!(eq(a, b));
    }

    #[test]
    fn equal_string_vs_one_element_array_resource() {
        let a = r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","NotResource":"arn:aws:s3:::c"}]}"#;
        let b = r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::b/*"],"NotResource":["arn:aws:s3:::c"]}]}"#;
        assert!(eq(a, b));
    }

    #[test]
    fn equal_string_vs_one_element_array_principal() {
        let b = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111111111111:role/r"]},"Action":["sts:AssumeRole"]}]}"#;
        assert!(eq(BASE, b));
        let np1 = r#"{"Statement":[{"Effect":"Deny","NotPrincipal":{"Service":"ec2.amazonaws.com"},"Action":"*","Resource":"*"}]}"#;
        let np2 = r#"{"Statement":[{"Effect":"Deny","NotPrincipal":{"Service":["ec2.amazonaws.com"]},"Action":"*","Resource":"*"}]}"#;
        assert!(eq(np1, np2));
    }

    #[test]
    fn equal_array_order_of_values() {
        let a = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:role/a","arn:aws:iam::1:role/b"],"Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":["x","y"]}}}]}"#;
        let b = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com","AWS":["arn:aws:iam::1:role/b","arn:aws:iam::1:role/a"]},"Action":["sts:TagSession","sts:AssumeRole"],"Condition":{"StringEquals":{"sts:ExternalId":["y","x"]}}}]}"#;
        assert!(eq(a, b));
    }

    #[test]
    fn equal_string_vs_one_element_array_condition_value() {
        let a = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}"#;
        let b = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":["x"]}}}]}"#;
        assert!(eq(a, b));
    }

    #[test]
    fn equal_effect_case() {
        let lower = BASE.replace("\"Allow\"", "\"allow\"");
        assert!(eq(BASE, &lower));
        let upper = BASE.replace("\"Allow\"", "\"ALLOW\"");
        assert!(eq(BASE, &upper));
    }

    #[test]
    fn equal_bool_vs_string_in_condition() {
        let a = r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}]}"#;
        let b = r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
        assert!(eq(a, b));
    }

    #[test]
    fn equal_number_vs_string_in_condition() {
        let a = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":[10]}}}]}"#;
        let b = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"10"}}}]}"#;
        assert!(eq(a, b));
    }

    #[test]
    fn equal_account_id_vs_root_arn() {
        let a = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}"#;
        let b = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;
        assert!(eq(a, b));
        let c = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:root"]},"Action":"sts:AssumeRole"}]}"#;
        assert!(eq(a, c));
    }

    #[test]
    fn equal_empty_vs_missing_principal_lists() {
        let a = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":[],"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let b = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        assert!(eq(a, b));
        let c = r#"{"Statement":[{"Effect":"Allow","Principal":{},"Action":"s3:*","Resource":"*"}]}"#;
        let d = r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
        assert!(eq(c, d));
    }

    // ---- not equal ----

    #[test]
    fn not_equal_different_sid() {
        assert!(!eq(BASE, &BASE.replace("\"Sid\":\"A\"", "\"Sid\":\"B\"")));
        assert!(!eq(BASE, &BASE.replace("\"Sid\":\"A\",", "")));
    }

    #[test]
    fn not_equal_different_id() {
        let with_id = BASE.replace("{\"Version\"", "{\"Id\":\"one\",\"Version\"");
        assert!(!eq(BASE, &with_id));
        assert!(!eq(&with_id, &with_id.replace("one", "two")));
    }

    #[test]
    fn not_equal_missing_version_vs_2012() {
        assert!(!eq(BASE, &BASE.replace("\"Version\":\"2012-10-17\",", "")));
    }

    #[test]
    fn not_equal_wildcard_principal_string_vs_aws_map() {
        let a = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}"#;
        let b = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
        assert!(!eq(a, b));
    }

    #[test]
    fn not_equal_action_case() {
        assert!(!eq(BASE, &BASE.replace("sts:AssumeRole", "sts:assumerole")));
    }

    #[test]
    fn not_equal_duplicate_statements() {
        let dup = BASE.replace(
            "]}",
            r#",{"Sid":"A","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/r"},"Action":"sts:AssumeRole"}]}"#,
        );
        assert_eq!(Policy::parse(&dup).unwrap().statements.len(), 2);
        assert!(!eq(BASE, &dup));
    }

    #[test]
    fn not_equal_unique_id_principal() {
        let broken = BASE.replace("arn:aws:iam::111111111111:role/r", "AROA1234567890EXAMPLE");
        assert!(!eq(BASE, &broken));
    }

    #[test]
    fn not_equal_different_condition_values() {
        let a = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}"#;
        assert!(!eq(a, &a.replace("\"x\"", "\"y\"")));
        assert!(!eq(a, &a.replace("StringEquals", "StringLike")));
    }

    #[test]
    fn canonical_is_stable_and_pretty() {
        let p = Policy::parse(BASE).unwrap();
        let s = p.to_canonical_string();
        assert!(s.contains('\n'));
        assert_eq!(Policy::parse(&s).unwrap().to_canonical_string(), s);
        assert_eq!(
            p.canonical_json(),
            serde_json::json!({"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111111111111:role/r"]},"Action":["sts:AssumeRole"]}]})
        );
    }

    #[test]
    fn statement_equivalent_ignoring_sid() {
        let a = Policy::parse(BASE).unwrap().statements.remove(0);
        let b = Policy::parse(&BASE.replace("\"Sid\":\"A\"", "\"Sid\":\"Other\"")).unwrap().statements.remove(0);
        assert!(a.equivalent_ignoring_sid(&b));
        assert!(!a.equivalent(&b));
        let c = Policy::parse(&BASE.replace("sts:AssumeRole", "sts:TagSession")).unwrap().statements.remove(0);
        assert!(!a.equivalent_ignoring_sid(&c));
    }

    #[test]
    fn equivalent_text_decodes() {
        let enc: String = BASE
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect();
        assert!(equivalent_text(BASE, &enc).unwrap());
        assert!(equivalent_text(BASE, "{").is_err());
    }
}
