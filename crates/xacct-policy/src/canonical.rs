//! Canonical form and equivalence (the rules of REFERENCE.md §4).
//!
//! Two documents are equivalent when their canonical forms are equal. The canonical
//! form keeps `Version`, `Id` and `Sid` as written; spells `Effect` `Allow`/`Deny`;
//! writes every list-valued element as a sorted array (duplicates kept); writes
//! condition values as sorted arrays of strings (booleans and numbers as text);
//! rewrites a bare 12-digit account in an `AWS` principal to its root ARN,
//! `arn:<partition>:iam::<id>:root`; drops empty principal lists (and a principal map
//! left empty); sorts statements. Action names keep their case and unique-ID
//! principals are left alone.
//!
//! The partition of a bare account ID is the one the documents belong to. The `_in`
//! variants take it (`Some("aws-cn")`, what the planner passes from the desired-state
//! file); given `None`, and in the functions without `_in`, it is inferred as
//! hashicorp/awspolicyequivalence does, where a bare ID matches any partition's root
//! ARN of that account: an account whose root ARN the compared documents name takes
//! that ARN's partition; any other account takes the one partition all the documents'
//! ARNs name, else `aws`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::model::{Policy, Principal, PrincipalType, Statement};

/// The partition `arn:aws:…` ARNs belong to, and the one assumed when nothing says otherwise.
pub const DEFAULT_PARTITION: &str = "aws";

/// How bare account IDs in `AWS` principals are written as root ARNs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Roots {
    /// The partition of an account not in `by_account`.
    default: Option<String>,
    /// Accounts whose root ARN the documents name in exactly one partition (inferred only).
    by_account: BTreeMap<String, String>,
}

impl Roots {
    /// The root ARNs of `partition` (`Some`), or inferred from `statements` (`None`).
    pub(crate) fn new<'a>(partition: Option<&str>, statements: impl IntoIterator<Item = &'a Statement>) -> Roots {
        match partition {
            Some(p) => Roots { default: Some(p.to_string()), by_account: BTreeMap::new() },
            None => Roots::inferred(statements),
        }
    }

    fn inferred<'a>(statements: impl IntoIterator<Item = &'a Statement>) -> Roots {
        let mut partitions = BTreeSet::new();
        let mut roots: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for s in statements {
            for arn in arns_of(s) {
                if let Some(p) = arn_partition(arn) {
                    partitions.insert(p.to_string());
                }
            }
            for p in [&s.principal, &s.not_principal].into_iter().flatten() {
                for v in p.aws() {
                    if let Some((partition, account)) = root_arn_parts(v) {
                        roots.entry(account.to_string()).or_default().insert(partition.to_string());
                    }
                }
            }
        }
        let single = |set: BTreeSet<String>| (set.len() == 1).then(|| set.into_iter().next()).flatten();
        Roots {
            default: single(partitions),
            by_account: roots.into_iter().filter_map(|(acct, ps)| single(ps).map(|p| (acct, p))).collect(),
        }
    }

    /// The value `v` of an `AWS` principal, with a bare account ID written as its root ARN.
    fn principal(&self, v: &str) -> String {
        if !is_account_id(v) {
            return v.to_string();
        }
        let partition = self.by_account.get(v).or(self.default.as_ref()).map_or(DEFAULT_PARTITION, String::as_str);
        format!("arn:{partition}:iam::{v}:root")
    }
}

/// Every ARN-looking string a statement holds: principals, resources and condition values.
fn arns_of(s: &Statement) -> impl Iterator<Item = &str> {
    let principals = [&s.principal, &s.not_principal].into_iter().flatten().flat_map(|p| match p {
        Principal::Any => Vec::new(),
        Principal::Typed(entries) => entries.iter().flat_map(|(_, v)| v.iter()).collect(),
    });
    let lists = [&s.resource, &s.not_resource].into_iter().flatten().flat_map(|v| v.iter());
    let conditions = s.conditions.iter().flat_map(|c| c.values.iter());
    principals.chain(lists).chain(conditions).map(String::as_str).filter(|v| v.starts_with("arn:"))
}

/// The partition of an ARN, when it names one without wildcards.
fn arn_partition(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(3, ':');
    let (Some("arn"), Some(p), Some(_)) = (parts.next(), parts.next(), parts.next()) else { return None };
    (!p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')).then_some(p)
}

/// `(partition, account)` of `arn:<partition>:iam::<12 digits>:root`.
fn root_arn_parts(v: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    match parts[..] {
        ["arn", p, "iam", "", acct, "root"] if is_account_id(acct) && arn_partition(v).is_some() => Some((p, acct)),
        _ => None,
    }
}

fn is_account_id(v: &str) -> bool {
    v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit())
}

/// The one partition the ARNs of `policies` name (`None` when they name none, or several).
pub fn infer_partition(policies: &[&Policy]) -> Option<String> {
    Roots::inferred(policies.iter().flat_map(|p| &p.statements)).default
}

impl Policy {
    /// The canonical JSON value of this document, bare account IDs in the partition its
    /// ARNs name (else `aws`).
    pub fn canonical_json(&self) -> Value {
        self.canonical_json_in(None)
    }

    /// The canonical JSON value of this document, bare account IDs as root ARNs of
    /// `partition` (`None`: inferred from the document, see the module documentation).
    pub fn canonical_json_in(&self, partition: Option<&str>) -> Value {
        self.canonical_with(&Roots::new(partition, &self.statements))
    }

    pub(crate) fn canonical_with(&self, roots: &Roots) -> Value {
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
                let v = canonical_statement(s, true, roots);
                (v.to_string(), v)
            })
            .collect();
        statements.sort_by(|a, b| a.0.cmp(&b.0));
        out.insert("Statement".into(), Value::Array(statements.into_iter().map(|(_, v)| v).collect()));
        Value::Object(out)
    }

    /// The canonical form as stable, pretty-printed JSON.
    pub fn to_canonical_string(&self) -> String {
        self.to_canonical_string_in(None)
    }

    /// The canonical form as stable, pretty-printed JSON, bare account IDs as root ARNs of
    /// `partition` (`None`: inferred from the document).
    pub fn to_canonical_string_in(&self, partition: Option<&str>) -> String {
        // Serialising a Value built from strings cannot fail.
        serde_json::to_string_pretty(&self.canonical_json_in(partition)).unwrap_or_default()
    }
}

impl Statement {
    /// The canonical JSON value of this statement (including its `Sid`).
    pub fn canonical_json(&self) -> Value {
        self.canonical_json_in(None)
    }

    /// The canonical JSON value of this statement, bare account IDs as root ARNs of
    /// `partition` (`None`: inferred from the statement).
    pub fn canonical_json_in(&self, partition: Option<&str>) -> Value {
        canonical_statement(self, true, &Roots::new(partition, [self]))
    }

    pub(crate) fn canonical_with(&self, include_sid: bool, roots: &Roots) -> Value {
        canonical_statement(self, include_sid, roots)
    }

    /// Whether two statements are equivalent apart from their `Sid`: the test used to
    /// adopt an existing statement instead of adding a duplicate.
    pub fn equivalent_ignoring_sid(&self, other: &Statement) -> bool {
        self.equivalent_ignoring_sid_in(other, None)
    }

    /// [`Statement::equivalent_ignoring_sid`] for statements of `partition` (`None`: inferred
    /// from the two statements).
    pub fn equivalent_ignoring_sid_in(&self, other: &Statement, partition: Option<&str>) -> bool {
        let roots = Roots::new(partition, [self, other]);
        canonical_statement(self, false, &roots) == canonical_statement(other, false, &roots)
    }

    /// Whether two statements are equivalent, `Sid` included.
    pub fn equivalent(&self, other: &Statement) -> bool {
        self.equivalent_in(other, None)
    }

    /// [`Statement::equivalent`] for statements of `partition` (`None`: inferred from the two
    /// statements).
    pub fn equivalent_in(&self, other: &Statement, partition: Option<&str>) -> bool {
        let roots = Roots::new(partition, [self, other]);
        canonical_statement(self, true, &roots) == canonical_statement(other, true, &roots)
    }
}

/// Whether two documents are equivalent, the partition inferred from their ARNs (a bare
/// account ID is the same principal as that account's root ARN in any partition).
pub fn equivalent(a: &Policy, b: &Policy) -> bool {
    equivalent_in(a, b, None)
}

/// Whether two documents of `partition` are equivalent (same canonical form); `None`
/// infers the partition as [`equivalent`] does.
pub fn equivalent_in(a: &Policy, b: &Policy, partition: Option<&str>) -> bool {
    let roots = Roots::new(partition, a.statements.iter().chain(&b.statements));
    a.canonical_with(&roots) == b.canonical_with(&roots)
}

/// Parse (decoding IAM's URL encoding when present) and compare two documents.
pub fn equivalent_text(a: &str, b: &str) -> crate::Result<bool> {
    equivalent_text_in(a, b, None)
}

/// [`equivalent_text`] for documents of `partition` (`None`: inferred).
pub fn equivalent_text_in(a: &str, b: &str, partition: Option<&str>) -> crate::Result<bool> {
    Ok(equivalent_in(&Policy::parse_encoded(a)?, &Policy::parse_encoded(b)?, partition))
}

fn sorted_strings(values: &[String]) -> Value {
    let mut v: Vec<&String> = values.iter().collect();
    v.sort();
    Value::Array(v.into_iter().map(|s| Value::String(s.clone())).collect())
}

/// `123456789012` → `arn:aws:iam::123456789012:root`; anything else unchanged.
pub fn normalize_aws_principal(value: &str) -> String {
    normalize_aws_principal_in(value, DEFAULT_PARTITION)
}

/// `123456789012` → `arn:<partition>:iam::123456789012:root`; anything else unchanged.
pub fn normalize_aws_principal_in(value: &str, partition: &str) -> String {
    Roots::new(Some(partition), []).principal(value)
}

fn canonical_principal(p: &Principal, roots: &Roots) -> Option<Value> {
    match p {
        Principal::Any => Some(Value::String("*".into())),
        Principal::Typed(entries) => {
            let mut by_type: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
            for (ty, values) in entries {
                let list = by_type.entry(ty.as_str()).or_default();
                for v in values {
                    list.push(if *ty == PrincipalType::Aws { roots.principal(v) } else { v.clone() });
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

fn canonical_statement(s: &Statement, include_sid: bool, roots: &Roots) -> Value {
    let mut out = Map::new();
    if include_sid {
        if let Some(sid) = &s.sid {
            out.insert("Sid".into(), Value::String(sid.clone()));
        }
    }
    out.insert("Effect".into(), Value::String(s.effect.as_str().into()));
    for (name, p) in [("Principal", &s.principal), ("NotPrincipal", &s.not_principal)] {
        if let Some(v) = p.as_ref().and_then(|p| canonical_principal(p, roots)) {
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

    // ---- partitions: a bare account ID and its root ARN ----

    const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];
    const ID: &str = "123456789012";
    const OTHER: &str = "999999999999";

    /// The six awspolicyequivalence-style cases in `partition`: a bare ID against its root ARN,
    /// both directions, as a string and in lists (with another account beside it).
    fn six_cases(partition: &str) -> Vec<(&'static str, String, String)> {
        let root = |id: &str| format!("\"arn:{partition}:iam::{id}:root\"");
        let doc = |principal: String| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"","Effect":"Allow","Action":"*","Resource":"*","Principal":{{"AWS":{principal}}}}}]}}"#
            )
        };
        let bare = |id: &str| format!("\"{id}\"");
        vec![
            ("id vs root", doc(bare(ID)), doc(root(ID))),
            ("root vs id", doc(root(ID)), doc(bare(ID))),
            ("[id] vs [root]", doc(format!("[{}]", bare(ID))), doc(format!("[{}]", root(ID)))),
            ("[root] vs id", doc(format!("[{}]", root(ID))), doc(bare(ID))),
            (
                "[id, other root] vs [root, other root]",
                doc(format!("[{},{}]", bare(ID), root(OTHER))),
                doc(format!("[{},{}]", root(ID), root(OTHER))),
            ),
            (
                "[other root, root] vs [id, other id]",
                doc(format!("[{},{}]", root(OTHER), root(ID))),
                doc(format!("[{},{}]", bare(ID), bare(OTHER))),
            ),
        ]
    }

    #[test]
    fn a_bare_account_is_its_root_arn_in_the_given_partition() {
        for partition in PARTITIONS {
            for (name, a, b) in six_cases(partition) {
                let (pa, pb) = (Policy::parse(&a).unwrap(), Policy::parse(&b).unwrap());
                for p in [Some(partition), None] {
                    assert!(equivalent_in(&pa, &pb, p), "{name} in {partition} ({p:?})");
                    assert!(equivalent_in(&pb, &pa, p), "{name} in {partition} ({p:?}), reversed");
                    assert!(equivalent_text_in(&a, &b, p).unwrap(), "{name} in {partition} ({p:?}), as text");
                }
                assert!(equivalent(&pa, &pb), "{name} in {partition}, partition inferred");
                assert_eq!(
                    pa.canonical_json_in(Some(partition)),
                    pb.canonical_json_in(Some(partition)),
                    "{name} in {partition}: one canonical form"
                );
                for other in PARTITIONS.into_iter().filter(|o| *o != partition) {
                    assert!(
                        !equivalent_in(&pa, &pb, Some(other)),
                        "{name}: in {other} the bare ID is not the {partition} root"
                    );
                }
            }
        }
    }

    #[test]
    fn the_partition_is_inferred_from_the_documents_arns() {
        let doc = |aws: &str, resource: &str| {
            Policy::parse(&format!(
                r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":{aws}}},"Action":"sts:AssumeRole","Resource":"{resource}"}}]}}"#
            ))
            .unwrap()
        };
        let bare = doc(r#""123456789012""#, "*");
        let cn_role = doc(r#"["123456789012","arn:aws-cn:iam::111111111111:role/r"]"#, "*");
        assert_eq!(infer_partition(&[&bare]), None);
        assert_eq!(infer_partition(&[&cn_role]), Some("aws-cn".into()));
        assert_eq!(infer_partition(&[&bare, &doc(r#""1""#, "arn:aws-us-gov:s3:::b")]), Some("aws-us-gov".into()));
        assert_eq!(infer_partition(&[&cn_role, &doc(r#""1""#, "arn:aws:s3:::b")]), None, "two partitions");
        // A document alone: its own ARNs decide, else `aws`.
        assert_eq!(bare.canonical_json()["Statement"][0]["Principal"]["AWS"][0], "arn:aws:iam::123456789012:root");
        assert_eq!(
            cn_role.canonical_json()["Statement"][0]["Principal"]["AWS"],
            serde_json::json!(["arn:aws-cn:iam::111111111111:role/r", "arn:aws-cn:iam::123456789012:root"])
        );
        assert_eq!(
            bare.canonical_json_in(Some("aws-us-gov"))["Statement"][0]["Principal"]["AWS"][0],
            "arn:aws-us-gov:iam::123456789012:root"
        );
        assert!(bare.to_canonical_string_in(Some("aws-cn")).contains("\"arn:aws-cn:iam::123456789012:root\""));
        // Two root ARNs of one account in different partitions are different principals.
        let root = |p: &str| doc(&format!(r#""arn:{p}:iam::123456789012:root""#), "*");
        assert!(!equivalent(&root("aws"), &root("aws-cn")));
        assert!(!equivalent_in(&root("aws"), &root("aws-cn"), Some("aws")));
        // An account whose root ARN is named takes its partition even when other ARNs name another.
        let mixed = doc(r#"["123456789012","arn:aws:iam::111111111111:role/r"]"#, "*");
        let mixed_root = doc(r#"["arn:aws-cn:iam::123456789012:root","arn:aws:iam::111111111111:role/r"]"#, "*");
        assert!(equivalent(&mixed, &mixed_root));
        assert!(!equivalent_in(&mixed, &mixed_root, Some("aws")));
    }

    #[test]
    fn statements_compare_in_a_partition() {
        let stmt = |aws: &str, sid: &str| {
            Statement::from_value(&serde_json::json!({"Sid": sid, "Effect": "Allow", "Principal": {"AWS": aws}, "Action": "sts:AssumeRole"}))
                .unwrap()
        };
        let bare = stmt(ID, "A");
        let cn = stmt("arn:aws-cn:iam::123456789012:root", "B");
        assert!(bare.equivalent_ignoring_sid(&cn));
        assert!(bare.equivalent_ignoring_sid_in(&cn, Some("aws-cn")));
        assert!(!bare.equivalent_ignoring_sid_in(&cn, Some("aws")));
        let cn_a = stmt("arn:aws-cn:iam::123456789012:root", "A");
        assert!(bare.equivalent(&cn_a) && bare.equivalent_in(&cn_a, Some("aws-cn")));
        assert!(!bare.equivalent_in(&cn_a, Some("aws-us-gov")));
        assert_eq!(bare.canonical_json_in(Some("aws-cn"))["Principal"]["AWS"][0], "arn:aws-cn:iam::123456789012:root");
        assert_eq!(bare.canonical_json()["Principal"]["AWS"][0], "arn:aws:iam::123456789012:root");
    }

    #[test]
    fn normalising_one_value_in_a_partition() {
        assert_eq!(normalize_aws_principal_in(ID, "aws-cn"), "arn:aws-cn:iam::123456789012:root");
        assert_eq!(normalize_aws_principal_in(ID, "aws-us-gov"), "arn:aws-us-gov:iam::123456789012:root");
        assert_eq!(normalize_aws_principal(ID), "arn:aws:iam::123456789012:root");
        for unchanged in ["12345678901", "AROA12345678", "*", "arn:aws-cn:iam::123456789012:root"] {
            assert_eq!(normalize_aws_principal_in(unchanged, "aws-cn"), unchanged);
        }
    }

    #[test]
    fn only_a_root_arn_with_a_twelve_digit_account_names_a_partition_for_it() {
        assert_eq!(root_arn_parts("arn:aws-cn:iam::123456789012:root"), Some(("aws-cn", ID)));
        for no in [
            "arn:aws-cn:iam::12345678901:root",
            "arn:aws-cn:iam::123456789012:role/root",
            "arn:aws-cn:sts::123456789012:root",
            "arn:*:iam::123456789012:root",
            "arn::iam::123456789012:root",
            "123456789012",
        ] {
            assert_eq!(root_arn_parts(no), None, "{no}");
        }
    }
}
