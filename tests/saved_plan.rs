//! `xacct apply PLAN` refuses a saved plan that is stale or bad, exit 1 with nothing written:
//! one test per refusal `docs/plan-json.md` and `docs/ci.md` promise, on the emulator with the
//! real binary. "Nothing written" is checked on everything the plan could have written: the state
//! file's bytes, every role's live trust document, the management role's inline policies, the
//! manifest's bytes, and no lock left behind.

mod common;

use std::collections::BTreeMap;

use common::{Run, Scenario, CAPA_ROLE};
use serde_json::Value;
use xacct_test_support::moto;

/// Everything an apply could write, as it is now.
#[derive(Debug, PartialEq)]
struct Written {
    state: Option<Vec<u8>>,
    trust: BTreeMap<String, Option<String>>,
    inline: BTreeMap<String, String>,
    manifests: BTreeMap<String, Option<Vec<u8>>>,
}

async fn written(s: &Scenario) -> Written {
    let mut trust = BTreeMap::new();
    trust.insert(s.mgmt.clone(), moto().trust_of(&s.mgmt, CAPA_ROLE).await);
    let mut manifests = BTreeMap::new();
    for (name, account) in &s.workloads {
        trust.insert(account.clone(), moto().trust_of(account, CAPA_ROLE).await);
        let file = format!("clusters/{name}-1.yaml");
        manifests.insert(file.clone(), std::fs::read(s.path(&file)).ok());
    }
    Written {
        state: std::fs::read(s.path("state/default.json")).ok(),
        trust,
        inline: moto().inline_policies(&s.mgmt, CAPA_ROLE).await,
        manifests,
    }
}

/// Apply `plan`, expecting a refusal: exit 1, stderr holding every one of `expect`, nothing
/// written and no lock left.
async fn refused(s: &Scenario, plan: &str, expect: &[&str]) -> Run {
    let before = written(s).await;
    let r = s.run(&["apply", plan]);
    r.assert_code(1);
    for e in expect {
        assert!(r.stderr.contains(e), "expected `{e}` in\n{}", r.stderr);
    }
    assert!(!r.stderr.contains("Apply complete") && !r.stderr.contains("Apply incomplete"), "{}", r.stderr);
    assert_eq!(written(s).await, before, "the refused apply wrote something\n{}", r.stderr);
    assert!(!s.path("state/default.json.lock").exists(), "the lock was left behind");
    r
}

fn state_json(s: &Scenario) -> Value {
    serde_json::from_slice(&std::fs::read(s.path("state/default.json")).unwrap()).unwrap()
}

fn plan_json(s: &Scenario, file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(s.path(file)).unwrap()).unwrap()
}

fn write_json(s: &Scenario, file: &str, v: &Value) {
    std::fs::write(s.path(file), serde_json::to_string_pretty(v).unwrap()).unwrap();
}

/// A scenario with `dev` applied, then xacct's trust statement removed by hand, and the repair
/// saved as `update.plan` (its only pending change re-creates `trust.dev`).
async fn applied_with_update_saved() -> Scenario {
    let s = Scenario::new(&["dev"]).await;
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    moto().put_trust(&s.workloads[0].1, CAPA_ROLE, xacct_test_support::EC2_TRUST).await;
    s.run(&["plan", "-o", "update.plan"]).assert_code(0);
    let p = plan_json(&s, "update.plan");
    let pending: Vec<(&str, bool)> = p["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["actions"][0] != "no-op")
        .map(|c| (c["address"].as_str().unwrap(), c["drift"] == true))
        .collect();
    assert_eq!(pending, [("trust.dev", true)], "{}", p["changes"]);
    s
}

async fn delete_role(account: &str) {
    moto().iam(account).await.delete_role().role_name(CAPA_ROLE).send().await.expect("DeleteRole");
}

async fn role_id(account: &str) -> String {
    let out = moto().iam(account).await.get_role().role_name(CAPA_ROLE).send().await.expect("GetRole");
    out.role().unwrap().role_id().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_saved_before_someone_else_applied_is_refused_for_the_serial() {
    let s = Scenario::new(&["dev"]).await;
    s.run(&["plan", "-o", "first.plan"]).assert_code(0);
    // Another merge applied first.
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let serial = state_json(&s)["serial"].as_u64().unwrap();
    refused(
        &s,
        "first.plan",
        &[
            "error: the saved plan is stale; nothing was written:",
            &format!("  - state serial is {serial} but the plan was made at (no state) (someone applied since)"),
            "  - trust.dev: the live document changed since the plan was made",
            "  - assume_policy.management: the live document appeared since the plan was made",
            "hint: run `xacct plan` again",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_whose_state_serial_alone_moved_is_refused() {
    let s = applied_with_update_saved().await;
    let planned = plan_json(&s, "update.plan")["serial"].as_u64().unwrap();
    // State written since (nothing live touched): only the serial moved.
    s.run(&["state", "rm", "trust.dev"]).assert_code(0);
    let r = refused(
        &s,
        "update.plan",
        &[&format!("  - state serial is {} but the plan was made at {planned} (someone applied since)", planned + 1)],
    )
    .await;
    assert_eq!(r.stderr.matches("\n  - ").count(), 1, "one reason only\n{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_whose_state_was_replaced_is_refused_for_the_lineage() {
    let s = applied_with_update_saved().await;
    let planned = plan_json(&s, "update.plan")["lineage"].as_str().unwrap().to_string();
    // Someone pushed a state of another lineage over it.
    let mut other = state_json(&s);
    let lineage = "0b6f1a52-7c1e-4c1f-9a55-3f1d2e4b5a60";
    other["lineage"] = Value::from(lineage);
    write_json(&s, "other.json", &other);
    s.run(&["state", "push", "--force", "other.json"]).assert_code(0);
    let r = refused(
        &s,
        "update.plan",
        &[&format!("  - state lineage is {lineage} but the plan was made against {planned}")],
    )
    .await;
    assert!(!r.stderr.contains("state serial"), "lineage, not serial\n{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_whose_workload_role_was_deleted_is_refused() {
    let s = Scenario::new(&["dev"]).await;
    let dev = s.workloads[0].1.clone();
    s.run(&["plan", "-o", "first.plan"]).assert_code(0);
    delete_role(&dev).await;
    refused(
        &s,
        "first.plan",
        &[
            "  - role.dev: the live document is gone since the plan was made",
            "  - trust.dev: the live document is gone since the plan was made",
        ],
    )
    .await;
    assert_eq!(moto().trust_of(&dev, CAPA_ROLE).await, None, "not re-created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_whose_workload_role_was_re_created_is_refused() {
    let s = Scenario::new(&["dev"]).await;
    let dev = s.workloads[0].1.clone();
    s.run(&["plan", "-o", "first.plan"]).assert_code(0);
    let old_id = role_id(&dev).await;
    // Same name, same trust document: only the unique ID differs.
    delete_role(&dev).await;
    moto().create_role(&dev, CAPA_ROLE, xacct_test_support::EC2_TRUST).await;
    assert_ne!(role_id(&dev).await, old_id);
    let r = refused(&s, "first.plan", &["  - role.dev: the live document changed since the plan was made"]).await;
    assert_eq!(r.stderr.matches("\n  - ").count(), 1, "the trust document is as it was\n{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_whose_trust_document_was_edited_out_of_band_is_refused() {
    let s = applied_with_update_saved().await;
    let dev = s.workloads[0].1.clone();
    let trust = moto().trust_of(&dev, CAPA_ROLE).await.unwrap();
    let mut edited: Value = serde_json::from_str(&trust).unwrap();
    edited["Statement"][0]["Condition"] = serde_json::json!({"Bool": {"aws:SecureTransport": "true"}});
    moto().put_trust(&dev, CAPA_ROLE, &edited.to_string()).await;
    let r = refused(&s, "update.plan", &["  - trust.dev: the live document changed since the plan was made"]).await;
    assert_eq!(r.stderr.matches("\n  - ").count(), 1, "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_with_errors_is_never_saved_and_one_marked_not_applyable_is_refused() {
    let s = Scenario::new(&["dev"]).await;
    // A workload whose role does not exist: the plan has an error and `-o` does not save it.
    let missing = moto().fresh_account();
    let mut spec = std::fs::read_to_string(s.path("xacct.yaml")).unwrap();
    spec.push_str(&format!("  - name: gone\n    account: \"{missing}\"\n"));
    std::fs::write(s.path("xacct.yaml"), &spec).unwrap();
    let r = s.run(&["plan", "-o", "errors.plan"]);
    r.assert_code(1);
    assert!(r.stderr.contains("(not saved to `errors.plan`)"), "{}", r.stderr);
    assert!(!s.path("errors.plan").exists());

    // The same plan as a file (as `--json` printed it, the documents put back from a good plan):
    // `applyable: false` is refused before anything is read or written.
    let mut with_errors: Value = serde_json::from_str(&s.run(&["plan", "--json"]).stdout).unwrap();
    assert_eq!(with_errors["applyable"], false, "{with_errors:#}");
    assert!(with_errors["diagnostics"].as_array().unwrap().iter().any(|d| d["severity"] == "error"));
    let good_spec = spec.split("  - name: gone\n").next().unwrap().to_string();
    std::fs::write(s.path("xacct.yaml"), &good_spec).unwrap();
    s.run(&["plan", "-o", "good.plan"]).assert_code(0);
    let good = plan_json(&s, "good.plan");
    with_errors["changes"] = good["changes"].clone();
    write_json(&s, "errors.plan", &with_errors);
    refused(
        &s,
        "errors.plan",
        &["error: this plan cannot be applied (it has errors or was made with --refresh=false); run `xacct plan` again"],
    )
    .await;
    // The good plan, with only `applyable` flipped, is refused the same way.
    let mut flipped = good.clone();
    flipped["applyable"] = Value::Bool(false);
    write_json(&s, "flipped.plan", &flipped);
    refused(&s, "flipped.plan", &["this plan cannot be applied"]).await;
    // And the unedited good plan still applies: the refusals above wrote nothing it conflicts with.
    s.run(&["apply", "good.plan"]).assert_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_made_with_refresh_false_is_refused() {
    let s = applied_with_update_saved().await;
    let r = s.run(&["plan", "--refresh=false", "-o", "norefresh.plan"]);
    r.assert_code(0);
    let p = plan_json(&s, "norefresh.plan");
    assert_eq!((p["refreshed"].clone(), p["applyable"].clone()), (Value::Bool(false), Value::Bool(false)));
    refused(
        &s,
        "norefresh.plan",
        &["error: this plan cannot be applied (it has errors or was made with --refresh=false)"],
    )
    .await;
    // Marked applyable by hand, it is still refused: it never read live IAM.
    let mut p = p;
    p["applyable"] = Value::Bool(true);
    write_json(&s, "norefresh.plan", &p);
    refused(
        &s,
        "norefresh.plan",
        &[
            "error: the saved plan is stale; nothing was written:",
            "  - the plan was made with --refresh=false and never read live IAM",
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_file_of_another_format_version_is_refused() {
    let s = applied_with_update_saved().await;
    for (version, shown) in [(Value::from(2), "2"), (Value::from(0), "0")] {
        let mut p = plan_json(&s, "update.plan");
        p["format_version"] = version;
        write_json(&s, "other.plan", &p);
        refused(
            &s,
            "other.plan",
            &[
                "error: `other.plan`",
                &format!("caused by: the plan file has format_version {shown}; this xacct reads version 1"),
            ],
        )
        .await;
    }
    let mut p = plan_json(&s, "update.plan");
    p.as_object_mut().unwrap().remove("format_version");
    write_json(&s, "other.plan", &p);
    refused(&s, "other.plan", &["caused by: the plan file is not a valid xacct plan: missing `format_version`"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_file_that_is_garbage_or_truncated_is_refused() {
    let s = applied_with_update_saved().await;
    std::fs::write(s.path("garbage.plan"), "this is not a plan\n").unwrap();
    refused(&s, "garbage.plan", &["error: `garbage.plan`", "caused by: the plan file is not a valid xacct plan: "])
        .await;

    let text = std::fs::read_to_string(s.path("update.plan")).unwrap();
    std::fs::write(s.path("truncated.plan"), &text[..text.len() / 2]).unwrap();
    refused(&s, "truncated.plan", &["error: `truncated.plan`", "caused by: the plan file is not a valid xacct plan: "])
        .await;

    // Valid JSON of the right version that is not a plan.
    std::fs::write(s.path("other.plan"), r#"{"format_version": 1, "hello": "world"}"#).unwrap();
    refused(&s, "other.plan", &["caused by: the plan file is not a valid xacct plan: missing field"]).await;

    std::fs::write(s.path("empty.plan"), "").unwrap();
    refused(&s, "empty.plan", &["caused by: the plan file is not a valid xacct plan: "]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_plan_file_is_refused() {
    let s = applied_with_update_saved().await;
    refused(&s, "nope.plan", &["error: cannot read the plan `nope.plan`", "caused by: "]).await;
    // A directory is not a plan either.
    std::fs::create_dir(s.path("dir.plan")).unwrap();
    refused(&s, "dir.plan", &["error: cannot read the plan `dir.plan`"]).await;
    // After all of these, the saved plan itself is still good.
    s.run(&["apply", "update.plan"]).assert_code(0);
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
}
