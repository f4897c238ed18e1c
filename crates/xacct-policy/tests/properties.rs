//! Property tests: canonical form, equivalence (what REFERENCE.md §4 calls equal is equivalent,
//! what it does not is not) and owned-statement edits.
//!
//! Case counts are modest by default; `PROPTEST_CASES` overrides them (scripts/mutants lowers it).

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use xacct_policy::{equivalent, find_statement, remove_statement, statements, upsert_statement, Policy, Statement};

const OWNED_SID: &str = "XacctOwned";

fn one_or_many(values: Vec<String>, as_string: bool) -> Value {
    if values.len() == 1 && as_string {
        Value::String(values[0].clone())
    } else {
        Value::Array(values.into_iter().map(Value::String).collect())
    }
}

fn account() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["111111111111", "222222222222", "123456789012"]).prop_map(str::to_string)
}

fn aws_principal() -> impl Strategy<Value = String> {
    prop_oneof![
        account(),
        account().prop_map(|a| format!("arn:aws:iam::{a}:root")),
        (account(), "[a-z][a-z0-9.-]{0,12}").prop_map(|(a, r)| format!("arn:aws:iam::{a}:role/{r}")),
        Just("AROA1234567890EXAMPLE".to_string()),
        Just("*".to_string()),
    ]
}

fn principal() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(json!("*")),
        4 => (
            prop::collection::vec(aws_principal(), 0..4),
            prop::option::of(prop::collection::vec(
                prop::sample::select(vec!["ec2.amazonaws.com", "eks.amazonaws.com"]).prop_map(str::to_string),
                1..3,
            )),
            any::<bool>(),
        )
            .prop_map(|(aws, service, s)| {
                let mut m = Map::new();
                m.insert("AWS".into(), one_or_many(aws, s));
                if let Some(service) = service {
                    m.insert("Service".into(), one_or_many(service, !s));
                }
                Value::Object(m)
            }),
    ]
}

fn action() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "sts:AssumeRole",
        "sts:assumerole",
        "sts:TagSession",
        "sts:*",
        "s3:GetObject",
        "iam:PassRole",
        "*",
    ])
    .prop_map(str::to_string)
}

fn condition() -> impl Strategy<Value = Value> {
    let op =
        prop::sample::select(vec!["StringEquals", "StringLike", "ArnEquals", "Bool", "ForAnyValue:StringLikeIfExists"]);
    let key = prop::sample::select(vec!["sts:ExternalId", "aws:PrincipalArn", "aws:SecureTransport"]);
    let val = prop_oneof![
        "[a-z0-9-]{1,8}".prop_map(Value::String),
        any::<bool>().prop_map(Value::Bool),
        (0u32..5000).prop_map(|n| json!(n)),
    ];
    prop::collection::vec((op, key, prop::collection::vec(val, 1..3), any::<bool>()), 1..3).prop_map(|clauses| {
        let mut ops = Map::new();
        for (op, key, vals, single) in clauses {
            let entry = ops.entry(op.to_string()).or_insert_with(|| json!({}));
            let v = if single && vals.len() == 1 { vals[0].clone() } else { Value::Array(vals) };
            entry.as_object_mut().unwrap().insert(key.to_string(), v);
        }
        Value::Object(ops)
    })
}

/// A random statement in any of the forms IAM accepts. `sid` is drawn from names
/// that never collide with [`OWNED_SID`].
fn statement() -> impl Strategy<Value = Value> {
    (
        prop::option::of("Foreign[A-Z0-9]{0,3}"),
        prop::sample::select(vec!["Allow", "Deny", "allow", "DENY"]),
        prop::option::of(principal()),
        prop::collection::vec(action(), 1..4),
        any::<bool>(),
        prop::option::of(prop::collection::vec("arn:aws:s3:::[a-z]{1,5}(/\\*)?", 1..3)),
        prop::option::of(condition()),
        any::<bool>(),
    )
        .prop_map(|(sid, effect, principal, actions, single, resources, cond, not_action)| {
            let mut m = Map::new();
            if let Some(sid) = sid {
                m.insert("Sid".into(), Value::String(sid));
            }
            m.insert("Effect".into(), Value::String(effect.into()));
            if let Some(p) = principal {
                m.insert("Principal".into(), p);
            }
            let key = if not_action { "NotAction" } else { "Action" };
            m.insert(key.into(), one_or_many(actions, single));
            if let Some(r) = resources {
                m.insert("Resource".into(), one_or_many(r, !single));
            }
            if let Some(c) = cond {
                m.insert("Condition".into(), c);
            }
            Value::Object(m)
        })
}

fn document() -> impl Strategy<Value = Value> {
    (
        prop::option::of(prop::sample::select(vec!["2012-10-17", "2008-10-17"])),
        prop::option::of("[a-z]{1,6}"),
        prop::collection::vec(statement(), 0..6),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(version, id, stmts, single, omit)| {
            let mut m = Map::new();
            if let Some(v) = version {
                m.insert("Version".into(), Value::String(v.into()));
            }
            if let Some(id) = id {
                m.insert("Id".into(), Value::String(id));
            }
            match stmts.len() {
                0 if omit => {}
                1 if single => {
                    m.insert("Statement".into(), stmts[0].clone());
                }
                _ => {
                    m.insert("Statement".into(), Value::Array(stmts));
                }
            }
            Value::Object(m)
        })
}

/// A small deterministic generator for shuffles driven by a proptest seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// Reorder and reshape every list without changing meaning: statements, array
/// values, single value ↔ one-element array, object key order.
fn shuffled(v: &Value, rng: &mut Rng, depth: usize) -> Value {
    match v {
        Value::Array(items) => {
            let mut items: Vec<Value> =
                items.iter().map(|i| if i.is_object() { shuffled(i, rng, depth + 1) } else { i.clone() }).collect();
            rng.shuffle(&mut items);
            if items.len() == 1 && depth > 1 && rng.next() % 2 == 0 && items[0].is_string() {
                items.pop().unwrap_or_default()
            } else {
                Value::Array(items)
            }
        }
        Value::String(s) if depth > 1 && rng.next() % 3 == 0 => json!([s]),
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map
                .iter()
                .map(|(k, val)| {
                    // A bare `"*"` principal must stay a string: it differs from `["*"]`.
                    let keep = k == "Principal"
                        || k == "NotPrincipal"
                        || k == "Version"
                        || k == "Id"
                        || k == "Sid"
                        || k == "Effect";
                    let val = if keep && val.is_string() { val.clone() } else { shuffled(val, rng, depth + 1) };
                    (k.clone(), val)
                })
                .collect();
            rng.shuffle(&mut entries);
            Value::Object(entries.into_iter().collect())
        }
        other => other.clone(),
    }
}

fn policy(v: &Value) -> Policy {
    Policy::from_value(v).expect("generated documents parse")
}

fn owned_statement() -> impl Strategy<Value = Value> {
    statement().prop_map(|mut s| {
        s["Sid"] = json!(OWNED_SID);
        s
    })
}

/// `cases` unless `PROPTEST_CASES` says otherwise.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    ProptestConfig::with_cases(cases)
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn canonical_form_is_idempotent(doc in document()) {
        let p = policy(&doc);
        let once = p.to_canonical_string();
        let again = Policy::parse(&once).unwrap().to_canonical_string();
        prop_assert_eq!(&once, &again);
        prop_assert!(equivalent(&p, &Policy::parse(&once).unwrap()));
    }

    #[test]
    fn equivalence_is_symmetric(a in document(), b in document(), seed in any::<u64>()) {
        let (pa, pb) = (policy(&a), policy(&b));
        prop_assert_eq!(equivalent(&pa, &pb), equivalent(&pb, &pa));
        let pc = policy(&shuffled(&a, &mut Rng(seed | 1), 0));
        prop_assert_eq!(equivalent(&pa, &pc), equivalent(&pc, &pa));
        prop_assert!(equivalent(&pa, &pa));
    }

    #[test]
    fn shuffling_keeps_equivalence(doc in document(), seed in any::<u64>()) {
        let shuffled = shuffled(&doc, &mut Rng(seed | 1), 0);
        let (p, q) = (policy(&doc), policy(&shuffled));
        prop_assert!(equivalent(&p, &q), "{}\nvs\n{}", doc, shuffled);
        prop_assert_eq!(p.canonical_json(), q.canonical_json());
    }

    #[test]
    fn insert_then_remove_is_identity(doc in document(), ours in owned_statement()) {
        let before = statements(&doc).unwrap().into_iter().cloned().collect::<Vec<_>>();
        let with = upsert_statement(&doc, &ours).unwrap();

        // The owned statement is there; foreign statements keep order and content.
        prop_assert_eq!(find_statement(&with, OWNED_SID).map(|(_, s)| s.clone()), Some(ours.clone()));
        let foreign_after: Vec<Value> = statements(&with)
            .unwrap()
            .into_iter()
            .filter(|s| s.get("Sid").and_then(Value::as_str) != Some(OWNED_SID))
            .cloned()
            .collect();
        prop_assert_eq!(&foreign_after, &before);
        for (a, b) in foreign_after.iter().zip(&before) {
            prop_assert_eq!(a.to_string(), b.to_string());
        }
        // Upserting again is a no-op.
        prop_assert_eq!(&upsert_statement(&with, &ours).unwrap(), &with);

        let (back, removed) = remove_statement(&with, OWNED_SID).unwrap();
        prop_assert_eq!(removed, Some(ours));
        prop_assert_eq!(policy(&back).canonical_json(), policy(&doc).canonical_json());
        let after: Vec<Value> = statements(&back).unwrap().into_iter().cloned().collect();
        prop_assert_eq!(&after, &before);
        prop_assert_eq!(back.get("Version"), doc.get("Version"));
        prop_assert_eq!(back.get("Id"), doc.get("Id"));
    }

    #[test]
    fn replacing_owned_statement_keeps_position(doc in document(), a in owned_statement(), b in owned_statement()) {
        let with_a = upsert_statement(&doc, &a).unwrap();
        let with_b = upsert_statement(&with_a, &b).unwrap();
        let ia = find_statement(&with_a, OWNED_SID).unwrap().0;
        let ib = find_statement(&with_b, OWNED_SID).unwrap().0;
        prop_assert_eq!(ia, ib);
        let (back, _) = remove_statement(&with_b, OWNED_SID).unwrap();
        prop_assert!(equivalent(&policy(&back), &policy(&doc)));
    }
}

// ---- not equal: each difference REFERENCE.md §4 does not list as equal ----

/// One difference between two documents that §4 does not list among the equal ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Difference {
    /// Another `Sid` on one statement.
    Sid,
    /// Another `Id`, or an `Id` added or dropped.
    Id,
    /// `Version` dropped (or `2012-10-17` added).
    Version,
    /// `"Principal": "*"` vs `{"AWS": "*"}`.
    WildcardPrincipalAsAwsMap,
    /// The case of one action name.
    ActionCase,
    /// One statement duplicated.
    DuplicateStatement,
    /// An `AWS` principal replaced by a unique ID (`AROA…`).
    UniqueIdPrincipal,
    /// Another action.
    Action,
    /// Another resource.
    Resource,
    /// `Allow` vs `Deny`.
    Effect,
    /// Another condition value.
    ConditionValue,
}

const DIFFERENCES: [Difference; 11] = [
    Difference::Sid,
    Difference::Id,
    Difference::Version,
    Difference::WildcardPrincipalAsAwsMap,
    Difference::ActionCase,
    Difference::DuplicateStatement,
    Difference::UniqueIdPrincipal,
    Difference::Action,
    Difference::Resource,
    Difference::Effect,
    Difference::ConditionValue,
];

/// Never produced by the generators above, so a replacement always changes a value.
const UNIQUE_ID: &str = "AROAZZZZZZZZZZZZZZZZ9";
const OTHER_ACTION: &str = "kms:Decrypt";
const OTHER_RESOURCE: &str = "arn:aws:s3:::other-bucket";
const OTHER_CONDITION_VALUE: &str = "zz-other-value";

fn statement_list(doc: &Value) -> Vec<Value> {
    match doc.get("Statement") {
        None => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(one) => vec![one.clone()],
    }
}

fn with_statements(doc: &Value, list: Vec<Value>) -> Value {
    let mut d = doc.clone();
    d["Statement"] = Value::Array(list);
    d
}

/// A string or array value as an array of values.
fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.clone(),
        one => vec![one.clone()],
    }
}

/// `v` (a string or an array) with the value at `pick` (modulo its length) mapped by `f`.
fn map_one(v: &Value, pick: usize, f: impl Fn(&Value) -> Value) -> Value {
    let mut list = as_list(v);
    let i = pick % list.len();
    list[i] = f(&list[i]);
    Value::Array(list)
}

fn swap_case(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }).collect()
}

/// A statement and the same statement with one statement-level difference; the first may be
/// adjusted so the difference applies (e.g. given the `"*"` principal the second changes).
fn differ_statement(s: &Value, d: Difference, pick: usize) -> (Value, Value) {
    let mut a = s.clone();
    let action_key = if a.get("Action").is_some() { "Action" } else { "NotAction" };
    let b = match d {
        Difference::Sid => {
            let mut b = a.clone();
            let old = a.get("Sid").and_then(Value::as_str).unwrap_or_default();
            b["Sid"] = json!(format!("{old}Changed"));
            b
        }
        Difference::WildcardPrincipalAsAwsMap => {
            a["Principal"] = json!("*");
            let mut b = a.clone();
            b["Principal"] = json!({"AWS": "*"});
            b
        }
        Difference::ActionCase => {
            a[action_key] = map_one(&a[action_key], pick, |v| {
                if v.as_str().is_some_and(|s| s.bytes().any(|c| c.is_ascii_alphabetic())) {
                    v.clone()
                } else {
                    json!("sts:AssumeRole")
                }
            });
            let mut b = a.clone();
            b[action_key] = map_one(&a[action_key], pick, |v| json!(swap_case(v.as_str().unwrap())));
            b
        }
        Difference::UniqueIdPrincipal => {
            let has_aws = a.get("Principal").and_then(|p| p.get("AWS")).is_some_and(|v| !as_list(v).is_empty());
            if !has_aws {
                a["Principal"] = json!({"AWS": "arn:aws:iam::111111111111:role/capa"});
            }
            let mut b = a.clone();
            b["Principal"]["AWS"] = map_one(&a["Principal"]["AWS"], pick, |_| json!(UNIQUE_ID));
            b
        }
        Difference::Action => {
            let mut b = a.clone();
            b[action_key] = map_one(&a[action_key], pick, |_| json!(OTHER_ACTION));
            b
        }
        Difference::Resource => {
            if a.get("Resource").is_none() {
                a["Resource"] = json!("arn:aws:s3:::one");
            }
            let mut b = a.clone();
            b["Resource"] = map_one(&a["Resource"], pick, |_| json!(OTHER_RESOURCE));
            b
        }
        Difference::Effect => {
            let mut b = a.clone();
            let allow = a["Effect"].as_str().unwrap().eq_ignore_ascii_case("allow");
            b["Effect"] = json!(if allow { "Deny" } else { "Allow" });
            b
        }
        Difference::ConditionValue => {
            if a.get("Condition").is_none() {
                a["Condition"] = json!({"StringEquals": {"sts:ExternalId": "one"}});
            }
            let mut b = a.clone();
            let ops = b["Condition"].as_object_mut().unwrap();
            let keys = ops.values_mut().next().unwrap().as_object_mut().unwrap();
            let values = keys.values_mut().next().unwrap();
            *values = map_one(values, pick, |_| json!(OTHER_CONDITION_VALUE));
            b
        }
        Difference::Id | Difference::Version | Difference::DuplicateStatement => {
            unreachable!("a document-level difference")
        }
    };
    (a, b)
}

/// A document (based on `doc`) and a copy of it with difference `d`. `extra` is used as the
/// statement to differ in when `doc` has none.
fn differ(doc: &Value, extra: &Value, d: Difference, pick: usize) -> (Value, Value) {
    let mut list = statement_list(doc);
    if list.is_empty() {
        list.push(extra.clone());
    }
    let i = pick % list.len();
    let base = with_statements(doc, list.clone());
    match d {
        Difference::Id => {
            let mut b = base.clone();
            match doc.get("Id").and_then(Value::as_str) {
                Some(_) if pick % 2 == 0 => {
                    b.as_object_mut().unwrap().remove("Id");
                }
                Some(id) => b["Id"] = json!(format!("{id}x")),
                None => b["Id"] = json!("added"),
            }
            (base, b)
        }
        Difference::Version => {
            let mut a = base.clone();
            a["Version"] = json!("2012-10-17");
            let mut b = base;
            b.as_object_mut().unwrap().remove("Version");
            (a, b)
        }
        Difference::DuplicateStatement => {
            let mut dup = list.clone();
            dup.insert(pick % (list.len() + 1), list[i].clone());
            (base, with_statements(doc, dup))
        }
        _ => {
            let (sa, sb) = differ_statement(&list[i], d, pick / 7);
            let (mut la, mut lb) = (list.clone(), list);
            la[i] = sa;
            lb[i] = sb;
            (with_statements(doc, la), with_statements(doc, lb))
        }
    }
}

proptest! {
    #![proptest_config(config(64))]

    /// Every difference §4 does not list as equal gives two documents that are not equivalent,
    /// whatever the rest of the document says: no two such documents share a canonical form.
    #[test]
    fn differences_outside_the_equal_list_are_not_equivalent(
        doc in document(),
        extra in statement(),
        pick in any::<usize>(),
        seed in any::<u64>(),
    ) {
        for d in DIFFERENCES {
            let (a, b) = differ(&doc, &extra, d, pick);
            let (pa, pb) = (policy(&a), policy(&b));
            prop_assert!(!equivalent(&pa, &pb), "{:?}: judged equivalent:\n{}\nvs\n{}", d, a, b);
            prop_assert!(!equivalent(&pb, &pa), "{:?}: not symmetric:\n{}\nvs\n{}", d, a, b);
            prop_assert_ne!(pa.canonical_json(), pb.canonical_json(), "{:?}", d);
            prop_assert_ne!(pa.to_canonical_string(), pb.to_canonical_string(), "{:?}", d);
            // Reshaping one side in the ways §4 calls equal does not hide the difference.
            let shuffled_b = shuffled(&b, &mut Rng(seed | 1), 0);
            prop_assert!(!equivalent(&pa, &policy(&shuffled_b)), "{:?}: hidden by a reshape:\n{}\nvs\n{}", d, a, shuffled_b);
        }
    }

    /// Statement-level differences other than the `Sid` make statements different even when the
    /// `Sid` is ignored (so adoption never takes a statement that grants something else); another
    /// `Sid` alone is ignored there and nowhere else.
    #[test]
    fn statement_differences_survive_ignoring_the_sid(s in statement(), pick in any::<usize>()) {
        for d in DIFFERENCES {
            if matches!(d, Difference::Id | Difference::Version | Difference::DuplicateStatement) {
                continue;
            }
            let (a, b) = differ_statement(&s, d, pick);
            let (sa, sb) = (Statement::from_value(&a).unwrap(), Statement::from_value(&b).unwrap());
            prop_assert!(!sa.equivalent(&sb), "{:?}:\n{}\nvs\n{}", d, a, b);
            prop_assert_ne!(sa.canonical_json(), sb.canonical_json());
            prop_assert_eq!(sa.equivalent_ignoring_sid(&sb), d == Difference::Sid, "{:?}:\n{}\nvs\n{}", d, a, b);
            prop_assert!(sa.equivalent(&sa.clone()) && sa.equivalent_ignoring_sid(&sa.clone()));
        }
    }
}
