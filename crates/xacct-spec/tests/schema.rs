//! The JSON Schema (`xacct schema`) and the parser agree: every example validates against it, a
//! file with an unknown key, a wrong type or a missing required key fails both, and every key the
//! schema calls required is one the parser refuses to do without.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use xacct_spec::keys;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A YAML document as a YAML language server sees it: plain scalars typed by YAML's core schema.
fn yaml_to_json(y: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Real(r) => json!(r.parse::<f64>().unwrap()),
        Yaml::Integer(i) => json!(i),
        Yaml::String(s) => json!(s),
        Yaml::Boolean(b) => json!(b),
        Yaml::Array(a) => Value::Array(a.iter().map(yaml_to_json).collect()),
        Yaml::Hash(h) => {
            Value::Object(h.iter().map(|(k, v)| (k.as_str().unwrap().to_string(), yaml_to_json(v))).collect())
        }
        Yaml::Null => Value::Null,
        other => panic!("unexpected YAML node {other:?}"),
    }
}

fn load_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
    yaml_to_json(&docs[0])
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&keys::schema()).expect("the schema is a valid JSON Schema")
}

fn errors(v: &Value) -> Vec<String> {
    validator().iter_errors(v).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path().join("xacct.yaml"))
        .filter(|p| p.exists())
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_validates_against_the_schema() {
    let files = examples();
    assert!(files.len() >= 3, "{files:?}");
    for f in files {
        assert_eq!(errors(&load_yaml(&f)), Vec::<String>::new(), "{}", f.display());
        xacct_spec::load(&f).unwrap_or_else(|d| panic!("{}: {d}", f.display()));
    }
}

/// A file using every mapping the schema describes, valid for both.
fn full() -> Value {
    json!({
        "version": 1,
        "partition": "aws",
        "bootstrap": { "profile": "capa", "adopt": true },
        "backend": { "s3": { "bucket": "b", "key": "k", "region": "us-east-1" } },
        "defaults": {
            "role": { "name": "capa", "path": "/capa/" },
            "access": { "assume_role": { "role_name": "Admin", "external_id": "ext-1", "session_name": "xacct" } },
            "identity": { "allowed_namespaces": { "selector": { "matchLabels": { "tier": "prod" } } }, "duration_seconds": 3600, "session_name": "capa" }
        },
        "management": {
            "account": "111111111111",
            "role": "capa",
            "access": { "profile": "mgmt" },
            "assume_policy": { "name": "xacct-assume", "grant": { "organization": "o-abcdefghij" } },
            "trust_principal": "account_root",
            "bootstrap": false
        },
        "workloads": [
            {
                "name": "dev", "account": "222222222222", "role": { "name": "capa" },
                "access": { "assume_role": { "role_arn": "arn:aws:iam::222222222222:role/Admin" } },
                "external_id": "dev-ext", "identity": { "name": "dev-id", "allowed_namespaces": ["a", "b"] }, "manifests": [],
                "bootstrap": { "profile": "dkp", "adopt": false }
            }
        ],
        "organization": {
            "access": { "assume_role": { "role_arn": "arn:aws:iam::999999999999:role/xacct-org-reader" } },
            "workloads": [
                {
                    "ou": "ou-ab12-11111111", "tags": { "capa": "enabled" }, "except": ["444444444444"],
                    "role": { "name": "capa" }, "access": { "profile": "tenants" }, "external_id": "tenant-ext",
                    "identity": { "allowed_namespaces": "all", "duration_seconds": 900, "session_name": "capa" },
                    "identities_dir": "identities",
                    "bootstrap": false
                },
                { "ou": "r-ab12" }
            ]
        }
    })
}

fn parse(v: &Value) -> Result<xacct_spec::Loaded, xacct_spec::Diagnostics> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("xacct.json");
    xacct_spec::parse_str(&path, &serde_json::to_string_pretty(v).unwrap())
}

#[test]
fn the_full_file_is_valid_for_both() {
    assert_eq!(errors(&full()), Vec::<String>::new());
    parse(&full()).unwrap();
}

#[test]
fn an_unknown_key_a_wrong_type_and_a_missing_required_key_fail_both() {
    let mut unknown = full();
    unknown["management"]["acount"] = json!("111111111111");
    let mut wrong_type = full();
    wrong_type["workloads"][0]["identity"]["duration_seconds"] = json!("3600");
    let mut missing = full();
    missing["workloads"][0].as_object_mut().unwrap().remove("account");
    for (name, v, at) in [
        ("unknown key", unknown, "/management"),
        ("wrong type", wrong_type, "/workloads/0/identity/duration_seconds"),
        ("missing key", missing, "/workloads/0"),
    ] {
        let e = errors(&v);
        assert!(e.iter().any(|e| e.starts_with(&format!("{at}: "))), "{name}: schema errors {e:#?}");
        assert!(parse(&v).is_err(), "{name}: the parser accepted it");
    }
}

/// Every key path of `v` whose key the schema marks required, with the table it belongs to.
fn required_paths(v: &Value, table: &keys::Table, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let Value::Object(o) = v else { return };
    for k in table.keys {
        let Some(child) = o.get(k.name) else { continue };
        at.push(k.name.to_string());
        if k.required {
            out.push(at.clone());
        }
        let sub = (k.value)();
        for t in tables_in(&sub) {
            match child {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        at.push(i.to_string());
                        required_paths(item, t, at, out);
                        at.pop();
                    }
                }
                _ => required_paths(child, t, at, out),
            }
        }
        at.pop();
    }
}

/// The tables a key's value schema is built from (matched by their property names).
fn tables_in(schema: &Value) -> Vec<&'static keys::Table> {
    let all: [&'static keys::Table; 19] = [
        &keys::ROOT,
        &keys::BACKEND,
        &keys::BACKEND_LOCAL,
        &keys::BACKEND_S3,
        &keys::DEFAULTS,
        &keys::DEFAULTS_IDENTITY,
        &keys::ROLE,
        &keys::ACCESS,
        &keys::ASSUME_ROLE,
        &keys::SELECTOR,
        &keys::SELECTOR_LABELS,
        &keys::MANAGEMENT,
        &keys::ASSUME_POLICY,
        &keys::GRANT,
        &keys::WORKLOAD,
        &keys::IDENTITY,
        &keys::ORGANIZATION,
        &keys::ORG_SELECTOR,
        &keys::BOOTSTRAP,
    ];
    let mut found = Vec::new();
    let mut stack = vec![schema];
    while let Some(s) = stack.pop() {
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            let names: Vec<&str> = props.keys().map(String::as_str).collect();
            found.extend(all.iter().copied().filter(|t| t.names() == names));
        }
        for k in ["oneOf", "items"] {
            match s.get(k) {
                Some(Value::Array(a)) => stack.extend(a.iter()),
                Some(o @ Value::Object(_)) => stack.push(o),
                _ => {}
            }
        }
    }
    found
}

#[test]
fn every_key_the_schema_requires_is_one_the_parser_requires() {
    let mut paths = Vec::new();
    required_paths(&full(), &keys::ROOT, &mut Vec::new(), &mut paths);
    // version, management, management.account, workloads[0].name/account, backend.s3.bucket/key,
    // defaults.role.name, defaults.identity…selector, …matchLabels, workloads[0].role.name,
    // organization.workloads, organization.workloads[0].ou/[1].ou, organization.workloads[0].role.name.
    assert!(paths.len() >= 15, "{paths:?}");
    for path in paths {
        let mut v = full();
        let (last, parent) = path.split_last().unwrap();
        let mut at = &mut v;
        for p in parent {
            at = match p.parse::<usize>() {
                Ok(i) => &mut at[i],
                Err(_) => &mut at[p.as_str()],
            };
        }
        at.as_object_mut().unwrap().remove(last.as_str());
        assert!(!errors(&v).is_empty(), "the schema accepts a file without {path:?}");
        let d = parse(&v).expect_err(&format!("the parser accepts a file without {path:?}"));
        assert!(d.to_string().contains(&format!("missing required key `{last}`")), "without {path:?}: {d}");
    }
}

#[test]
fn the_schemas_partitions_are_the_ones_the_parser_accepts() {
    let mut v = full();
    v["partition"] = json!("aws-moon");
    let d = parse(&v).unwrap_err().to_string();
    let listed = keys::PARTITIONS.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ");
    assert!(d.contains(&format!("expected one of {listed}, found `aws-moon`")), "{d}");
    assert!(!errors(&v).is_empty());
    for p in keys::PARTITIONS {
        let mut v = full();
        v["partition"] = json!(p);
        v["workloads"][0]["access"] = json!({ "profile": "dev" });
        assert_eq!(errors(&v), Vec::<String>::new());
        parse(&v).unwrap_or_else(|d| panic!("{p}: {d}"));
    }
}

#[test]
fn workloads_or_organization_or_both() {
    let mut neither = full();
    neither.as_object_mut().unwrap().remove("workloads");
    neither.as_object_mut().unwrap().remove("organization");
    assert!(!errors(&neither).is_empty(), "the schema accepts a file with neither");
    let d = parse(&neither).expect_err("the parser accepts a file with neither").to_string();
    assert!(d.contains("missing required key `workloads`"), "{d}");
    for only in ["workloads", "organization"] {
        let mut v = full();
        v.as_object_mut().unwrap().retain(|k, _| k != only);
        assert_eq!(errors(&v), Vec::<String>::new(), "without {only}");
        parse(&v).unwrap_or_else(|d| panic!("without {only}: {d}"));
    }
}

#[test]
fn the_schema_checks_an_ou_and_tags_as_the_parser_does() {
    for (bad, at) in [
        (json!({ "ou": "ou-AB12-11111111" }), "/organization/workloads/0/ou"),
        (json!({ "ou": "o-abcdefghij" }), "/organization/workloads/0/ou"),
        (json!({ "ou": "r-ab12", "tags": { "capa": true } }), "/organization/workloads/0/tags/capa"),
        (json!({ "ou": "r-ab12", "except": ["4444"] }), "/organization/workloads/0/except/0"),
        (json!({ "ou": "r-ab12", "identity": { "name": "x" } }), "/organization/workloads/0/identity"),
        (json!({ "tags": { "capa": "enabled" } }), "/organization/workloads/0"),
    ] {
        let mut v = full();
        v["organization"]["workloads"] = json!([bad.clone()]);
        let e = errors(&v);
        assert!(e.iter().any(|e| e.starts_with(&format!("{at}: "))), "{bad}: schema errors {e:#?}");
        assert!(parse(&v).is_err(), "{bad}: the parser accepted it");
    }
    // `grant: organization` is the block's organization: valid for both with the block, and for the
    // parser an error without it.
    let mut v = full();
    v["management"]["assume_policy"]["grant"] = json!("organization");
    assert_eq!(errors(&v), Vec::<String>::new());
    assert_eq!(parse(&v).unwrap().spec.management.grant, xacct_spec::Grant::FromOrganization);
    v.as_object_mut().unwrap().remove("organization");
    assert!(parse(&v).is_err());
    let mut empty = full();
    empty["organization"]["workloads"] = json!([]);
    assert!(!errors(&empty).is_empty());
    assert!(parse(&empty).is_err());
}

#[test]
fn the_schema_checks_bootstrap_as_the_parser_does() {
    // Accepted by both wherever `bootstrap` is: `false` or a block with one of config/profile.
    for (at, good) in [
        ("/bootstrap", json!(false)),
        ("/management/bootstrap", json!({ "profile": "dkp" })),
        ("/workloads/0/bootstrap", json!(false)),
        ("/organization/workloads/1/bootstrap", json!({ "profile": "capa", "adopt": true })),
    ] {
        let mut v = full();
        *insert(&mut v, at) = good;
        assert_eq!(errors(&v), Vec::<String>::new(), "{at}");
        parse(&v).unwrap_or_else(|d| panic!("{at}: {d}"));
    }
    // Refused by both.
    for bad in [
        json!(true),
        json!({ "profile": "capa", "config": "capa-iam.yaml" }),
        json!({ "adopt": true }),
        json!({ "profile": "kdp" }),
        json!({ "profile": "capa", "adopt": "yes" }),
        json!({ "profile": "capa", "adpot": true }),
        json!("capa"),
    ] {
        for at in
            ["/bootstrap", "/management/bootstrap", "/workloads/0/bootstrap", "/organization/workloads/0/bootstrap"]
        {
            let mut v = full();
            *insert(&mut v, at) = bad.clone();
            let e = errors(&v);
            assert!(
                e.iter().any(|e| e.starts_with(&format!("{at}: ")) || e.starts_with(&format!("{at}/"))),
                "{at} = {bad}: schema errors {e:#?}"
            );
            assert!(parse(&v).is_err(), "{at} = {bad}: the parser accepted it");
        }
    }
}

/// The value at JSON pointer `at` of `v`, created (null) in its parent object when absent.
fn insert<'v>(v: &'v mut Value, at: &str) -> &'v mut Value {
    let (parent, key) = at.rsplit_once('/').unwrap();
    let p = if parent.is_empty() { v } else { v.pointer_mut(parent).unwrap() };
    p.as_object_mut().unwrap().entry(key.to_string()).or_insert(Value::Null)
}
