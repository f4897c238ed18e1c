//! The `xacct` binary end to end: offline commands (validate, graph).

mod common;

use common::{xacct, Run};

#[test]
fn validate_accepts_the_examples() {
    for ex in [
        "examples/two-accounts/xacct.yaml",
        "examples/tiers/xacct.yaml",
        "examples/eks/xacct.yaml",
        "examples/bootstrap/xacct.yaml",
        "examples/bootstrap/xacct-dkp.yaml",
    ] {
        let r = xacct(&["validate", "-f", ex]);
        r.assert_code(0);
        assert!(r.stderr.contains("is valid"), "{}", r.stderr);
    }
    let r = xacct(&["validate", "-f", "examples/organization/xacct.yaml"]);
    r.assert_code(0);
    assert_eq!(
        r.stderr.trim_end(),
        "examples/organization/xacct.yaml is valid: management account 111111111111, 1 listed workload, 0 manifests, \
         2 AWS Organizations selectors (their accounts are read by `plan`)"
    );
}

#[test]
fn validate_reports_five_mistakes_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("xacct.yaml");
    std::fs::write(
        &file,
        "version: 1\nmanagment:\n  account: \"111111111111\"\nworkloads:\n  - name: dev\n    account: 12345\n    identity:\n      duration_seconds: 99999\n  - name: dev\n    account: \"333333333333\"\n    external_id: \"x\"\n",
    )
    .unwrap();
    let r = xacct(&["validate", "-f", file.to_str().unwrap()]);
    r.assert_code(1);
    let errors: Vec<&str> = r.stderr.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 5, "{}", r.stderr);
    for (line, field) in [
        (2, "managment"),
        (6, "workloads[0].account"),
        (8, "workloads[0].identity.duration_seconds"),
        (9, "workloads[1].name"),
        (11, "workloads[1].external_id"),
    ] {
        let needle = format!("xacct.yaml:{line}:");
        assert!(
            errors.iter().any(|e| e.contains(&needle) && e.contains(&format!(": {field}: "))),
            "{needle} {field}\n{}",
            r.stderr
        );
    }
    assert!(r.stderr.contains("did you mean `management`?"));
    assert!(r.stderr.contains("5 errors in the desired-state file; nothing was changed"));

    let r = xacct(&["validate", "--json", "-f", file.to_str().unwrap()]);
    r.assert_code(1);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["valid"], false);
    assert_eq!(doc["diagnostics"].as_array().unwrap().len(), 5);
}

#[test]
fn graph_orders_trust_and_policy_before_manifests() {
    let r = xacct(&["graph", "-f", "examples/two-accounts/xacct.yaml"]);
    r.assert_code(0);
    let pos = |s: &str| r.stdout.find(s).unwrap_or_else(|| panic!("{s} missing:\n{}", r.stdout));
    let manifest = "\"manifest.workload[\\\"clusters/workload-1.yaml\\\"]\";";
    assert!(pos("\"role.workload\";") < pos("\"trust.workload\";"));
    assert!(pos("\"trust.workload\";") < pos(manifest));
    assert!(pos("\"assume_policy.management\";") < pos(manifest));
    assert!(r.stdout.contains("\"trust.workload\" -> \"manifest.workload[\\\"clusters/workload-1.yaml\\\"]\""));

    let r = xacct(&["graph", "--format", "mermaid", "-f", "examples/tiers/xacct.yaml"]);
    r.assert_code(0);
    assert!(r.stdout.starts_with("flowchart LR"));
    assert_eq!(r.stdout.matches("-->").count(), 4 * 5 + 1, "{}", r.stdout);
}

#[test]
fn missing_file_is_a_clear_error() {
    let r = xacct(&["validate", "-f", "does/not/exist.yaml"]);
    r.assert_code(1);
    assert!(r.stderr.contains("cannot read the desired-state file"), "{}", r.stderr);
    let _ = Run::default();
}

#[test]
fn a_markdown_plan_stays_under_the_pull_request_comment_limit() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("xacct.yaml");
    let plan_of = |n: u64| {
        let mut spec = String::from(
            "version: 1\nmanagement:\n  account: \"100000000000\"\n  assume_policy: { grant: { organization: o-abcdefghij } }\nworkloads:\n",
        );
        for i in 0..n {
            spec.push_str(&format!("  - {{ name: w{i}, account: \"{}\" }}\n", 200_000_000_000u64 + i));
        }
        std::fs::write(&file, spec).unwrap();
        let r = xacct(&["plan", "--refresh=false", "--format", "markdown", "-f", file.to_str().unwrap()]);
        r.assert_code(0);
        assert!(r.stdout.len() <= 60_000, "{n} workloads: {} characters", r.stdout.len());
        assert!(r.stdout.contains("| `+` | `trust.w0` | create |"), "the first rows are kept");
        r.stdout
    };
    // The table fits, the diffs do not; then not even the table does.
    let out = plan_of(400);
    assert!(out.contains("the diffs are left out") && !out.contains("<details>"), "{}", &out[out.len() - 300..]);
    let out = plan_of(1_500);
    assert!(out.contains("more changes and every diff are left out"), "{}", &out[out.len() - 300..]);

    // A small plan keeps its diffs.
    let small = dir.path().join("small.yaml");
    std::fs::write(
        &small,
        "version: 1\nmanagement:\n  account: \"100000000000\"\nworkloads:\n  - { name: dev, account: \"200000000000\" }\n",
    )
    .unwrap();
    let r = xacct(&["plan", "--refresh=false", "--format", "markdown", "-f", small.to_str().unwrap()]);
    r.assert_code(0);
    assert!(r.stdout.contains("<details>") && !r.stdout.contains("left out"), "{}", r.stdout);
}

#[test]
fn json_and_another_format_are_refused_not_silently_merged() {
    for cmd in ["plan", "drift"] {
        let r = xacct(&[cmd, "--json", "--format", "markdown", "-f", "examples/two-accounts/xacct.yaml"]);
        r.assert_code(1);
        assert!(r.stderr.contains("the argument '--json' cannot be used with '--format <FORMAT>'"), "{}", r.stderr);
        assert!(r.stdout.is_empty(), "{}", r.stdout);
    }
}

#[test]
fn file_is_offered_only_by_commands_that_read_the_file() {
    for args in [&["policy", "fmt", "-f", "x.yaml", "-"][..], &["completions", "bash", "-f", "x.yaml"]] {
        let r = xacct(args);
        r.assert_code(1);
        assert!(r.stderr.contains("unexpected argument '-f'"), "{args:?}: {}", r.stderr);
    }
    for cmd in ["validate", "graph", "plan", "apply", "drift", "verify", "destroy", "state", "force-unlock"] {
        let r = xacct(&[cmd, "--help"]);
        r.assert_code(0);
        assert!(r.stdout.contains("-f, --file <FILE>"), "{cmd} --help:\n{}", r.stdout);
    }
    for cmd in ["policy", "completions"] {
        let r = xacct(&[cmd, "--help"]);
        assert!(!r.stdout.contains("--file"), "{cmd} --help:\n{}", r.stdout);
    }
}

#[test]
fn state_flags_work_after_the_subcommand_and_an_empty_state_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("xacct.yaml");
    std::fs::write(&file, "version: 1\nmanagement: { account: \"111111111111\" }\nworkloads: []\n").unwrap();
    let f = file.to_str().unwrap();
    for args in [
        &[
            "state",
            "list",
            "-f",
            f,
            "--lock-timeout",
            "1s",
            "--region",
            "us-east-1",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ][..],
        &["state", "--lock-timeout", "1s", "list", "-f", f],
        &["state", "-f", f, "list", "--parallelism", "2"],
    ] {
        let r = xacct(args);
        r.assert_code(0);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
        assert!(r.stderr.contains("There is no state yet in local file"), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("nothing has been applied"), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn the_committed_schema_is_what_xacct_schema_prints() {
    let r = xacct(&["schema"]);
    r.assert_code(0);
    let committed = std::fs::read_to_string(common::root().join("docs/xacct.schema.json")).unwrap();
    assert_eq!(r.stdout, committed, "docs/xacct.schema.json is stale: run `xacct schema > docs/xacct.schema.json`");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["required"], serde_json::json!(["version", "management"]));
    assert_eq!(v["anyOf"], serde_json::json!([{ "required": ["workloads"] }, { "required": ["organization"] }]));
    for ex in [
        "two-accounts/xacct",
        "tiers/xacct",
        "eks/xacct",
        "organization/xacct",
        "bootstrap/xacct",
        "bootstrap/xacct-dkp",
    ] {
        let text = std::fs::read_to_string(common::root().join(format!("examples/{ex}.yaml"))).unwrap();
        assert!(text.starts_with("# yaml-language-server: $schema=../../docs/xacct.schema.json\n"), "{ex}");
    }
}
