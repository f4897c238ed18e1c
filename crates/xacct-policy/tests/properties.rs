//! Property tests: canonical form, equivalence and owned-statement edits.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use xacct_policy::{equivalent, find_statement, remove_statement, statements, upsert_statement, Policy};

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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

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
