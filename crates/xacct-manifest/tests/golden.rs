//! Golden tests: `fixtures/<name>.in.yaml` patched must equal `fixtures/<name>.out.yaml`, with
//! warnings in `fixtures/<name>.warnings.txt`. Each also checks that patching the output changes
//! nothing and that unpatch gives the input back byte for byte.
//!
//! `XACCT_BLESS=1 cargo nextest run -p xacct-manifest` rewrites the expected files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use xacct_manifest::{patch, unpatch, AllowedNamespaces, IdentitySpec, Manifest, PatchRecord};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn role(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/control-plane.cluster-api-provider-aws.sigs.k8s.io")
}

fn spec(name: &str, account: &str, allowed: AllowedNamespaces) -> IdentitySpec {
    IdentitySpec {
        name: name.to_string(),
        role_arn: role(account),
        allowed_namespaces: allowed,
        external_id: None,
        duration_seconds: None,
        session_name: None,
    }
}

fn expect_file(path: &Path, actual: &str) {
    if std::env::var_os("XACCT_BLESS").is_some() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with XACCT_BLESS=1 to create)", path.display()));
    if expected != actual {
        panic!(
            "{} differs from the actual output:\n{}",
            path.display(),
            xacct_manifest::unified_diff("expected", &expected, actual)
        );
    }
}

/// Runs one golden case and returns the patched text.
fn golden(name: &str, make_spec: impl FnOnce(&Manifest) -> IdentitySpec) -> String {
    let input_path = fixture(&format!("{name}.in.yaml"));
    let input = std::fs::read_to_string(&input_path).unwrap();
    let m = Manifest::read(&input_path).unwrap();
    let spec = make_spec(&m);
    let patched = patch(&m, &spec).unwrap();
    assert!(patched.changed, "{name}: expected a change");
    expect_file(&fixture(&format!("{name}.out.yaml")), &patched.text);
    let warnings: String =
        patched.diagnostics.iter().map(|d| format!("{}:{}: {}\n", d.line, d.column, d.message)).collect();
    expect_file(&fixture(&format!("{name}.warnings.txt")), &warnings);

    // Idempotent: the second patch changes nothing and records nothing.
    let again = patch(&Manifest::parse(&input_path, &patched.text).unwrap(), &spec).unwrap();
    assert!(!again.changed, "{name}: second patch changed the file");
    assert_eq!(again.text, patched.text);
    assert!(again.record.is_empty());

    // The record survives JSON (it lives in xacct's state) and restores the exact input.
    let json = serde_json::to_string_pretty(&patched.record).unwrap();
    let record: PatchRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(unpatch(&patched.text, &record).unwrap(), input, "{name}: unpatch");
    let combined = patched.record.clone().then(again.record);
    assert_eq!(unpatch(&patched.text, &combined).unwrap(), input);
    patched.text
}

#[test]
fn dkp_dry_run_output() {
    let out = golden("dkp-aws", |m| IdentitySpec {
        duration_seconds: Some(3600),
        session_name: Some("capa-dev".into()),
        ..spec("dev-account-role", "222222222222", AllowedNamespaces::List(m.namespaces().into_iter().collect()))
    });
    assert!(out.contains("kind: AWSClusterRoleIdentity"));
}

#[test]
fn eks_managed_control_plane() {
    golden("eks", |_| IdentitySpec {
        external_id: Some("prod-ext-1".into()),
        ..spec("prod-eks", "333333333333", AllowedNamespaces::All)
    });
}

#[test]
fn clusterclass_topology_variable() {
    golden("clusterclass", |_| {
        let labels = BTreeMap::from([("xacct.example/tenant".to_string(), "a".to_string())]);
        spec("tenant-a-role", "444444444444", AllowedNamespaces::Selector(labels))
    });
}

#[test]
fn crlf_line_endings() {
    let out = golden("crlf", |m| {
        spec("win-role", "555555555555", AllowedNamespaces::List(m.namespaces().into_iter().collect()))
    });
    assert!(!out.replace("\r\n", "").contains('\n'), "a bare LF slipped in");
}

#[test]
fn existing_identity_is_updated() {
    golden("existing-identity", |_| {
        spec("cross-account-role", "666666666666", AllowedNamespaces::List(vec!["default".into()]))
    });
}

/// An error golden case: `fixtures/<name>.in.yaml` must be refused with the text in
/// `fixtures/<name>.error.txt` (the path shown relative to the fixtures directory).
fn golden_error(name: &str, spec: &IdentitySpec) {
    let input = std::fs::read_to_string(fixture(&format!("{name}.in.yaml"))).unwrap();
    let m = Manifest::parse(Path::new(&format!("{name}.in.yaml")), &input).unwrap();
    let err = patch(&m, spec).unwrap_err();
    expect_file(&fixture(&format!("{name}.error.txt")), &format!("{err}\n"));
}

fn namespaces(m: &Manifest) -> AllowedNamespaces {
    AllowedNamespaces::List(m.namespaces().into_iter().collect())
}

#[test]
fn clusterclass_variable_declared_and_set() {
    let out = golden("clusterclass-variable", |m| spec("tenant-b-role", "777777777777", namespaces(m)));
    // The Cluster's variable and the class's template both name the identity.
    assert!(
        out.contains("      - name: identityRef\n        value: {kind: AWSClusterRoleIdentity, name: tenant-b-role}\n")
    );
    assert!(out.contains(
        "    spec:\n      identityRef:\n        kind: AWSClusterRoleIdentity\n        name: tenant-b-role\n      controlPlaneLoadBalancer:\n"
    ));
}

#[test]
fn clusterclass_without_variable_template_in_the_file() {
    let out = golden("clusterclass-no-variable", |m| spec("shop-role", "888888888888", namespaces(m)));
    assert!(out.contains("    spec:\n      identityRef:\n        kind: AWSClusterRoleIdentity\n        name: shop-role\n      sshKeyName: ops\n"));
}

#[test]
fn clusterclass_cluster_alone() {
    golden("clusterclass-cluster-alone", |m| spec("edge-role", "999999999999", namespaces(m)));
    golden_error(
        "clusterclass-cluster-alone-no-variable",
        &spec("edge-role", "999999999999", AllowedNamespaces::List(vec!["edge".into()])),
    );
}
