//! Validation of desired-state files: each rule, positions and field paths.

use std::path::{Path, PathBuf};

use xacct_spec::{parse_str, AllowedNamespaces, Diagnostic, Severity};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn errors(text: &str) -> Vec<Diagnostic> {
    match parse_str(&dir().join("xacct.yaml"), text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(d) => d.0.into_iter().filter(|d| d.severity == Severity::Error).collect(),
    }
}

fn one_error(text: &str) -> Diagnostic {
    let e = errors(text);
    assert_eq!(e.len(), 1, "{e:#?}");
    e.into_iter().next().unwrap()
}

const HEAD: &str = "version: 1\nmanagement: { account: \"111111111111\" }\n";

#[test]
fn unquoted_account_keeps_leading_zero() {
    let text = format!("{HEAD}workloads:\n  - name: dev\n    account: 012345678901\n");
    let spec = parse_str(&dir().join("x.yaml"), &text).unwrap().spec;
    assert_eq!(spec.workloads[0].account, "012345678901");
}

#[test]
fn account_must_be_twelve_digits() {
    let e = one_error(&format!("{HEAD}workloads:\n  - name: dev\n    account: 1234\n"));
    assert_eq!((e.line, e.column, e.field.as_str()), (5, 14, "workloads[0].account"));
    assert!(e.message.contains("12-digit"), "{}", e.message);
}

#[test]
fn management_account_cannot_be_a_workload() {
    let e = one_error(&format!("{HEAD}workloads:\n  - name: dev\n    account: \"111111111111\"\n"));
    assert_eq!(e.field, "workloads[0].account");
    assert!(e.message.contains("management account"));
}

#[test]
fn workload_names_and_accounts_are_unique() {
    let e = errors(&format!(
        "{HEAD}workloads:\n  - {{ name: dev, account: \"222222222222\" }}\n  - {{ name: dev, account: \"222222222222\" }}\n"
    ));
    let fields: Vec<&str> = e.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(fields, ["workloads[1].name", "workloads[1].account"]);
}

#[test]
fn misspelt_key_suggests_the_nearest() {
    let e = one_error(&format!("{HEAD}workloads:\n  - name: dev\n    acount: \"222222222222\"\n"));
    assert_eq!(e.field, "workloads[0].acount");
    assert!(e.hint.as_deref().unwrap().contains("did you mean `account`?"), "{e:?}");
}

#[test]
fn role_name_and_path_rules() {
    let e = errors(&format!(
        "{HEAD}workloads:\n  - name: dev\n    account: \"222222222222\"\n    role: {{ name: \"bad role\", path: nope }}\n"
    ));
    let fields: Vec<&str> = e.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(fields, ["workloads[0].role.name", "workloads[0].role.path"]);
}

#[test]
fn external_id_and_session_name_rules() {
    let e = errors(&format!(
        "{HEAD}workloads:\n  - name: dev\n    account: \"222222222222\"\n    external_id: \"has space\"\n    identity: {{ session_name: \"a\" }}\n"
    ));
    let fields: Vec<&str> = e.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(fields, ["workloads[0].external_id", "workloads[0].identity.session_name"]);
}

#[test]
fn duration_range_and_chaining_warning() {
    let e = one_error(&format!(
        "{HEAD}workloads:\n  - name: dev\n    account: \"222222222222\"\n    identity: {{ duration_seconds: 600 }}\n"
    ));
    assert_eq!(e.field, "workloads[0].identity.duration_seconds");
    let ok = parse_str(
        &dir().join("x.yaml"),
        &format!("{HEAD}workloads:\n  - name: dev\n    account: \"222222222222\"\n    identity: {{ duration_seconds: 7200 }}\n"),
    )
    .unwrap();
    assert_eq!(ok.warnings.len(), 1);
    assert!(ok.warnings[0].message.contains("role chaining"));
}

#[test]
fn a_quoted_duration_is_a_string_not_a_number() {
    for (yaml, found) in [("\"3600\"", "string \"3600\""), ("'3600'", "string \"3600\"")] {
        let e = one_error(&format!(
            "{HEAD}workloads:\n  - name: dev\n    account: \"222222222222\"\n    identity: {{ duration_seconds: {yaml} }}\n"
        ));
        assert_eq!(e.field, "workloads[0].identity.duration_seconds");
        assert!(e.message.ends_with(&format!("found {found}")), "{}", e.message);
    }
    // In `defaults` too, and in a JSON file, where a number is unquoted.
    let e = one_error(&format!("{HEAD}defaults: {{ identity: {{ duration_seconds: \"900\" }} }}\nworkloads: []\n"));
    assert_eq!(e.field, "defaults.identity.duration_seconds");
    let json = r#"{"version": 1, "management": {"account": "111111111111"}, "workloads": [{"name": "dev", "account": "222222222222", "identity": {"duration_seconds": 3600}}]}"#;
    let ok = parse_str(&dir().join("x.json"), json).unwrap();
    assert_eq!(ok.spec.workloads[0].identity.duration_seconds, Some(3600));
}

#[test]
fn every_allowed_namespaces_form() {
    let cases = [
        ("all", AllowedNamespaces::All),
        ("none", AllowedNamespaces::None),
        ("[a, b]", AllowedNamespaces::List(vec!["a".into(), "b".into()])),
        (
            "{ selector: { matchLabels: { tier: prod } } }",
            AllowedNamespaces::Selector([("tier".to_string(), "prod".to_string())].into()),
        ),
    ];
    for (text, want) in cases {
        let doc = format!("{HEAD}workloads:\n  - name: dev\n    account: \"222222222222\"\n    identity: {{ allowed_namespaces: {text} }}\n");
        let spec = parse_str(&dir().join("x.yaml"), &doc).unwrap().spec;
        assert_eq!(spec.workloads[0].identity.allowed_namespaces, Some(want), "{text}");
    }
    for bad in ["[]", "sometimes", "{ selector: { matchLabels: {} } }", "[Bad_NS]"] {
        let doc = format!("{HEAD}workloads:\n  - name: dev\n    account: \"222222222222\"\n    identity: {{ allowed_namespaces: {bad} }}\n");
        let e = errors(&doc);
        assert!(e[0].field.starts_with("workloads[0].identity.allowed_namespaces"), "{bad}: {e:?}");
    }
}

#[test]
fn manifests_must_exist() {
    let e = one_error(&format!(
        "{HEAD}workloads:\n  - name: dev\n    account: \"222222222222\"\n    manifests: [missing.yaml]\n"
    ));
    assert_eq!(e.field, "workloads[0].manifests[0]");
}

#[test]
fn json_files_are_accepted() {
    let text = r#"{"version": 1, "management": {"account": "111111111111"}, "workloads": [{"name": "dev", "account": "222222222222"}]}"#;
    let spec = parse_str(&dir().join("x.json"), text).unwrap().spec;
    assert_eq!(spec.workloads[0].name, "dev");
}

#[test]
fn five_mistakes_five_errors() {
    let text = "version: 1\nmanagment:\n  account: \"111111111111\"\nworkloads:\n  - name: dev\n    account: 12345\n    identity:\n      duration_seconds: 99999\n  - name: dev\n    account: \"333333333333\"\n    external_id: \"x\"\n";
    let e = errors(text);
    let got: Vec<(usize, &str)> = e.iter().map(|d| (d.line, d.field.as_str())).collect();
    assert_eq!(
        got,
        [
            (2, "managment"),
            (6, "workloads[0].account"),
            (8, "workloads[0].identity.duration_seconds"),
            (9, "workloads[1].name"),
            (11, "workloads[1].external_id"),
        ]
    );
}

#[test]
fn syntax_errors_point_at_a_line() {
    let e = one_error("version: 1\nmanagement: [\n");
    assert!(e.message.starts_with("invalid YAML"), "{e:?}");
    assert!(e.line >= 2);
}

#[test]
fn defaults_apply_and_expand_to_addresses() {
    let text = "version: 1\ndefaults:\n  access: { assume_role: { role_name: OrganizationAccountAccessRole } }\nmanagement: { account: \"111111111111\" }\nworkloads:\n  - { name: dev, account: \"222222222222\", external_id: abc123 }\n";
    let spec = parse_str(&dir().join("x.yaml"), text).unwrap().spec;
    let w = &spec.workloads[0];
    assert_eq!(
        w.access.role_arn("aws", &w.account).unwrap(),
        "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"
    );
    assert_eq!(w.identity.name, "dev");
    let stmt = spec.trust_statement(w);
    assert_eq!(
        stmt["Principal"]["AWS"],
        "arn:aws:iam::111111111111:role/control-plane.cluster-api-provider-aws.sigs.k8s.io"
    );
    assert_eq!(stmt["Condition"]["StringEquals"]["sts:ExternalId"], "abc123");
    let doc = spec.assume_policy_document();
    assert_eq!(
        doc["Statement"][0]["Resource"][0],
        "arn:aws:iam::222222222222:role/control-plane.cluster-api-provider-aws.sigs.k8s.io"
    );
}

#[test]
fn identity_defaults_apply_to_every_workload() {
    let text = "version: 1\ndefaults:\n  identity: { session_name: capa-xacct, duration_seconds: 1800 }\nmanagement: { account: \"111111111111\" }\nworkloads:\n  - { name: dev, account: \"222222222222\" }\n  - { name: prod, account: \"333333333333\", identity: { session_name: capa-prod } }\n";
    let spec = parse_str(&dir().join("x.yaml"), text).unwrap().spec;
    assert_eq!(spec.workloads[0].identity.session_name.as_deref(), Some("capa-xacct"));
    assert_eq!(spec.workloads[0].identity.duration_seconds, Some(1800));
    assert_eq!(spec.workloads[1].identity.session_name.as_deref(), Some("capa-prod"));
}

#[test]
fn an_identity_without_session_name_keeps_the_default_one() {
    let text = "version: 1\ndefaults:\n  identity: { session_name: capa-xacct, duration_seconds: 1800 }\nmanagement: { account: \"111111111111\" }\nworkloads:\n  - { name: dev, account: \"222222222222\", identity: { allowed_namespaces: all } }\n";
    let spec = parse_str(&dir().join("x.yaml"), text).unwrap().spec;
    assert_eq!(spec.workloads[0].identity.session_name.as_deref(), Some("capa-xacct"));
    assert_eq!(spec.workloads[0].identity.duration_seconds, Some(1800));
    assert_eq!(spec.workloads[0].identity.allowed_namespaces, Some(AllowedNamespaces::All));
}

#[test]
fn one_manifest_under_two_spellings_is_still_one_manifest() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("clusters")).unwrap();
    std::fs::write(dir.path().join("clusters/a.yaml"), "kind: AWSCluster\n").unwrap();
    std::os::unix::fs::symlink(dir.path().join("clusters/a.yaml"), dir.path().join("alias.yaml")).unwrap();
    for other in ["clusters/../clusters/a.yaml", "alias.yaml"] {
        let text = format!(
            "{HEAD}workloads:\n  - {{ name: dev, account: \"222222222222\", manifests: [clusters/a.yaml] }}\n  - {{ name: test, account: \"333333333333\", manifests: [\"{other}\"] }}\n"
        );
        let e = match parse_str(&dir.path().join("xacct.yaml"), &text) {
            Ok(_) => panic!("{other}: accepted"),
            Err(d) => d.0,
        };
        assert_eq!(e.len(), 1, "{e:#?}");
        assert_eq!(e[0].field, "workloads[1].manifests");
        assert!(e[0].message.contains("already listed by workloads[0]"), "{}", e[0].message);
    }
    let text = format!("{HEAD}workloads:\n  - {{ name: dev, account: \"222222222222\", manifests: [clusters] }}\n");
    let e = match parse_str(&dir.path().join("xacct.yaml"), &text) {
        Ok(_) => panic!("a directory accepted"),
        Err(d) => d.0,
    };
    assert!(e[0].message.contains("is a directory"), "{e:#?}");
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_first_key() {
    let text = format!("\u{feff}{HEAD}workloads:\n  - {{ name: dev, account: \"222222222222\" }}\n");
    let spec = parse_str(&dir().join("x.yaml"), &text).unwrap().spec;
    assert_eq!(spec.version, 1);
}

#[test]
fn a_scalar_grant_or_access_names_every_accepted_form() {
    let e = one_error(
        "version: 1\nmanagement:\n  account: \"111111111111\"\n  assume_policy: { grant: role_arn }\nworkloads: []\n",
    );
    assert_eq!(e.field, "management.assume_policy.grant");
    assert!(e.message.contains("expected `role_arns`, `organization`, `{organization: o-…}`"), "{}", e.message);
    assert!(e.hint.as_deref().unwrap().contains("did you mean `role_arns`?"), "{e:?}");
    let e = one_error(&format!("{HEAD}workloads:\n  - {{ name: dev, account: \"222222222222\", access: 5 }}\n"));
    assert_eq!(e.field, "workloads[0].access");
    assert!(
        e.message.contains("expected `default`, `{profile: NAME}` or `{assume_role: {…}}`, found `5`"),
        "{}",
        e.message
    );
}
