//! A state write refused in the middle of an apply, on the emulator with the real binary: apply
//! starts nothing new, lets the steps in flight finish, saves the whole state to a local file
//! and exits 1 naming the file and the command that pushes it back; that command works, and the
//! next plan converges.

mod common;

use common::{statements, Scenario, CAPA_ROLE};
use serde_json::Value;
use xacct_test_support::moto;

fn events(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// Apply workload `dev` alone (the desired-state file is `file`), put `test` back in the file, and
/// make every state write fail from now on: the local backend keeps the replaced version as
/// `default.json.backup`, and a directory with something in it stands where that file goes.
fn dev_applied_then_state_unwritable(s: &Scenario, file: &str) {
    let full = std::fs::read_to_string(s.path("xacct.yaml")).unwrap();
    std::fs::remove_file(s.path("xacct.yaml")).unwrap();
    let dev_only = full.split("  - name: test\n").next().unwrap().to_string();
    std::fs::write(s.path(file), &dev_only).unwrap();
    s.run(&["apply", "-f", file, "--auto-approve"]).assert_code(0);
    std::fs::write(s.path(file), &full).unwrap();
    std::fs::remove_file(s.path("state/default.json.backup")).unwrap();
    std::fs::create_dir_all(s.path("state/default.json.backup/in-the-way")).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_state_write_stops_the_apply_and_saves_state_to_push_back() {
    let s = Scenario::new(&["dev", "test"]).await;
    let (_, test) = s.workloads[1].clone();
    dev_applied_then_state_unwritable(&s, "xacct.yaml");
    let state_before = std::fs::read(s.path("state/default.json")).unwrap();
    let before: Value = serde_json::from_slice(&state_before).unwrap();
    let manifest_before = std::fs::read(s.path("clusters/test-1.yaml")).unwrap();

    let r = s.run(&["apply", "--auto-approve", "--json"]);
    r.assert_code(1);
    let ev = events(&r.stdout);
    let of = |kind: &str| ev.iter().filter(|e| e["event"] == kind).cloned().collect::<Vec<_>>();
    let errors = of("state_error");
    assert_eq!(errors.len(), 1, "{}", r.stdout);
    let error = errors[0]["error"].as_str().unwrap();
    assert!(error.starts_with("could not write state backup `"), "{error}");
    // Nothing starts after the refusal; both IAM steps (in flight together) finish; the manifest
    // step, which waits for them, is skipped.
    let at = ev.iter().position(|e| e["event"] == "state_error").unwrap();
    assert!(!ev[at..].iter().any(|e| e["event"] == "started" || e["event"] == "state_saved"), "{}", r.stdout);
    let done_events = of("done");
    let mut done: Vec<&str> = done_events.iter().map(|e| e["address"].as_str().unwrap()).collect();
    done.sort();
    assert_eq!(done, ["assume_policy.management", "trust.test"], "{}", r.stdout);
    let skipped = of("skipped");
    assert_eq!(skipped.len(), 1, "{}", r.stdout);
    assert_eq!(skipped[0]["address"], "manifest.test[\"clusters/test-1.yaml\"]");
    assert_eq!(skipped[0]["because"], "state could not be saved, so nothing new is started");
    let backup = of("state_backup");
    assert_eq!(backup.len(), 1, "{}", r.stdout);
    assert_eq!(backup[0]["path"], "state/errored.xacct-state.json");
    assert_eq!(backup[0]["push"], "xacct state push state/errored.xacct-state.json");

    // The message names the cause, the file and the command.
    for want in [
        "error: state could not be saved: could not write state backup `",
        "xacct started nothing new after that and let the steps in flight finish",
        "the full state, with everything that was applied, is saved in `state/errored.xacct-state.json`",
        "hint: fix the cause, then push it back with: xacct state push state/errored.xacct-state.json",
    ] {
        assert!(r.stderr.contains(want), "expected `{want}` in\n{}", r.stderr);
    }
    assert!(r.stderr.contains("`trust.test`") && r.stderr.contains("`assume_policy.management`"), "{}", r.stderr);

    // The state file is as it was; live IAM has both writes; the manifest is untouched.
    assert_eq!(std::fs::read(s.path("state/default.json")).unwrap(), state_before);
    let trust = moto().trust_of(&test, CAPA_ROLE).await.unwrap();
    assert!(
        statements(&trust)
            .iter()
            .any(|st| st["Principal"]["AWS"] == format!("arn:aws:iam::{}:role/{CAPA_ROLE}", s.mgmt)),
        "{trust}"
    );
    let policy = moto().inline_policies(&s.mgmt, CAPA_ROLE).await["xacct-assume-workload-roles"].clone();
    assert!(policy.contains(&format!("arn:aws:iam::{test}:role/{CAPA_ROLE}")), "{policy}");
    assert_eq!(std::fs::read(s.path("clusters/test-1.yaml")).unwrap(), manifest_before);

    // The saved state: private, no credentials, same lineage, next serial, with both writes.
    let file = s.path("state/errored.xacct-state.json");
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("testing"), "no credentials: {text}");
    let saved: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(saved["lineage"], before["lineage"]);
    assert_eq!(saved["serial"].as_u64(), Some(before["serial"].as_u64().unwrap() + 1));
    let mut keys: Vec<&String> = saved["resources"].as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["assume_policy.management", "manifest.dev[\"clusters/dev-1.yaml\"]", "trust.dev", "trust.test"]);
    assert!(saved["resources"]["assume_policy.management"].to_string().contains(&test));

    // Fix the cause, run exactly the command the message gave: the rest applies and converges.
    std::fs::remove_dir_all(s.path("state/default.json.backup")).unwrap();
    let push = backup[0]["push"].as_str().unwrap();
    let args: Vec<&str> = push.split(' ').skip(1).collect();
    s.run(&args).assert_code(0);
    let r = s.run(&["plan", "--json", "--detailed-exitcode"]);
    r.assert_code(2);
    let plan: Value = serde_json::from_str(&r.stdout).unwrap();
    let pending: Vec<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["actions"][0] != "no-op")
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    assert_eq!(pending, ["manifest.test[\"clusters/test-1.yaml\"]"], "only the skipped step: {}", r.stdout);
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    s.run(&["drift"]).assert_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_push_command_names_a_desired_state_file_that_is_not_the_default() {
    let s = Scenario::new(&["dev", "test"]).await;
    dev_applied_then_state_unwritable(&s, "prod.yaml");
    let r = s.run(&["apply", "-f", "prod.yaml", "--auto-approve"]);
    r.assert_code(1);
    let push = "xacct state push -f prod.yaml state/errored.xacct-state.json";
    assert!(r.stderr.contains(&format!("hint: fix the cause, then push it back with: {push}\n")), "{}", r.stderr);
    // Without --json, the refusal is a warning line as it happens.
    assert!(r.stderr.contains("warning: state not saved: could not write state backup `"), "{}", r.stderr);

    std::fs::remove_dir_all(s.path("state/default.json.backup")).unwrap();
    let args: Vec<&str> = push.split(' ').skip(1).collect();
    let r = s.run(&args);
    r.assert_code(0);
    assert!(r.stderr.contains("Pushed state serial"), "{}", r.stderr);
    s.run(&["apply", "-f", "prod.yaml", "--auto-approve"]).assert_code(0);
    s.run(&["plan", "-f", "prod.yaml", "--detailed-exitcode"]).assert_code(0);
}
