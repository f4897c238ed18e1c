//! End to end on the emulator: the real binary, the real AWS SDK, a real moto server, real files.

mod common;

use common::{statements, Scenario, CAPA_ROLE};
use serde_json::Value;
use xacct_test_support::moto;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runbook_scenario_plan_apply_drift_destroy() {
    let s = Scenario::new(&["dev"]).await;
    let (_, dev) = &s.workloads[0];
    let manifest_before = std::fs::read(s.path("clusters/dev-1.yaml")).unwrap();
    let trust_before = moto().trust_of(dev, CAPA_ROLE).await.unwrap();

    s.run(&["validate"]).assert_code(0);
    let r = s.run(&["plan", "--detailed-exitcode", "-o", "first.plan"]);
    r.assert_code(2);
    assert!(r.stdout.contains("trust.dev"), "{}", r.stdout);
    assert!(r.stdout.contains("assume_policy.management"), "{}", r.stdout);

    let r = s.run(&["apply", "first.plan"]);
    r.assert_code(0);

    // Live IAM now has xacct's statement beside the foreign one, and the assume policy.
    let trust = moto().trust_of(dev, CAPA_ROLE).await.unwrap();
    let stmts = statements(&trust);
    assert_eq!(stmts.len(), 2, "{trust}");
    assert_eq!(stmts[0]["Principal"]["Service"], "ec2.amazonaws.com");
    assert_eq!(stmts[1]["Principal"]["AWS"], format!("arn:aws:iam::{}:role/{CAPA_ROLE}", s.mgmt));
    let policies = moto().inline_policies(&s.mgmt, CAPA_ROLE).await;
    let doc = policies.get("xacct-assume-workload-roles").expect("assume policy");
    assert!(doc.contains(&format!("arn:aws:iam::{dev}:role/{CAPA_ROLE}")), "{doc}");
    let manifest = std::fs::read_to_string(s.path("clusters/dev-1.yaml")).unwrap();
    assert!(manifest.contains("kind: AWSClusterRoleIdentity"), "{manifest}");
    assert!(manifest.contains("name: dev-account-role"));

    // The chain is provably allowed on the live documents.
    let r = s.run(&["verify", "--json"]);
    r.assert_code(0);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["checks"][0]["outcome"], "allowed", "{}", r.stdout);

    // A second plan is empty.
    let r = s.run(&["plan", "--detailed-exitcode"]);
    r.assert_code(0);
    assert!(r.stdout.contains("No changes"), "{}", r.stdout);
    s.run(&["drift"]).assert_code(0);

    // An out-of-band edit: drift catches it, a saved plan made before it is refused.
    let r = s.run(&["plan", "-o", "noop.plan"]);
    r.assert_code(0);
    let mut edited = serde_json::from_str::<Value>(&trust).unwrap();
    edited["Statement"][1]["Condition"] = serde_json::json!({"Bool": {"aws:MultiFactorAuthPresent": "true"}});
    moto().put_trust(dev, CAPA_ROLE, &edited.to_string()).await;
    let r = s.run(&["drift", "--json"]);
    r.assert_code(2);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["drift"][0]["address"], "trust.dev", "{}", r.stdout);
    assert_eq!(report["drift"][0]["kind"], "modified");

    let r = s.run(&["plan", "-o", "fix.plan", "--json"]);
    r.assert_code(0);
    let plan: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(plan["format_version"], 1);
    let change = plan["changes"].as_array().unwrap().iter().find(|c| c["address"] == "trust.dev").unwrap().clone();
    assert_eq!(change["actions"], serde_json::json!(["update"]));
    assert_eq!(change["drift"], true);

    // Another edit after fix.plan was saved: applying it is refused, nothing written.
    edited["Statement"][1]["Condition"] = serde_json::json!({"Bool": {"aws:MultiFactorAuthPresent": "false"}});
    moto().put_trust(dev, CAPA_ROLE, &edited.to_string()).await;
    let before_refusal = moto().trust_of(dev, CAPA_ROLE).await.unwrap();
    let r = s.run(&["apply", "fix.plan"]);
    r.assert_code(1);
    assert!(r.stderr.contains("stale"), "{}", r.stderr);
    assert!(r.stderr.contains("trust.dev"), "{}", r.stderr);
    assert_eq!(moto().trust_of(dev, CAPA_ROLE).await.unwrap(), before_refusal);

    // verify sees the MFA condition CAPA can never satisfy.
    let r = s.run(&["verify"]);
    r.assert_code(2);
    assert!(r.stdout.contains("FAIL dev"), "{}", r.stdout);

    // A fresh apply repairs it.
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    s.run(&["drift"]).assert_code(0);
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);

    // Destroy gives back exactly what was there before: the trust document's text as IAM
    // returns it (decoded), and the manifest's bytes.
    s.run(&["destroy", "--auto-approve"]).assert_code(0);
    let trust_after = moto().trust_of(dev, CAPA_ROLE).await.unwrap();
    assert_eq!(trust_after, trust_before, "the trust document, byte for byte");
    assert!(moto().inline_policies(&s.mgmt, CAPA_ROLE).await.is_empty());
    assert_eq!(std::fs::read(s.path("clusters/dev-1.yaml")).unwrap(), manifest_before);
    let r = s.run(&["state", "list"]);
    r.assert_code(0);
    assert_eq!(r.stdout.trim(), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runbook_statement_added_by_hand_is_adopted_not_duplicated() {
    let s = Scenario::new(&["test"]).await;
    let (_, acct) = &s.workloads[0];
    // The manual runbook's statement, without a Sid.
    let by_hand = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"ec2.amazonaws.com"}},"Action":"sts:AssumeRole"}},{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:role/{CAPA_ROLE}"}},"Action":"sts:AssumeRole"}}]}}"#,
        s.mgmt
    );
    moto().put_trust(acct, CAPA_ROLE, &by_hand).await;
    let r = s.run(&["plan", "--json"]);
    r.assert_code(0);
    let plan: Value = serde_json::from_str(&r.stdout).unwrap();
    let change = plan["changes"].as_array().unwrap().iter().find(|c| c["address"] == "trust.test").unwrap().clone();
    assert_eq!(change["actions"], serde_json::json!(["adopt"]), "{change}");
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    assert_eq!(statements(&moto().trust_of(acct, CAPA_ROLE).await.unwrap()).len(), 2);
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_apply_fails_at_once_naming_the_lock_holder() {
    let s = Scenario::new(&["acc"]).await;
    let state_dir = s.path("state");
    std::fs::create_dir_all(&state_dir).unwrap();
    let holder = serde_json::json!({"ID": "11111111-2222-3333-4444-555555555555", "operation": "apply", "who": "ci@runner-7", "host": "runner-7", "pid": 4242, "version": "0.1.0", "created": "2026-11-29T10:00:00Z"});
    std::fs::write(state_dir.join("default.json.lock"), holder.to_string()).unwrap();
    let t = std::time::Instant::now();
    let r = s.run(&["apply", "--auto-approve"]);
    r.assert_code(1);
    assert!(t.elapsed() < std::time::Duration::from_secs(20));
    assert!(r.stderr.contains("ci@runner-7"), "{}", r.stderr);
    assert!(r.stderr.contains("force-unlock"), "{}", r.stderr);
    // With --lock-timeout it waits, then names the holder all the same.
    let t = std::time::Instant::now();
    let r = s.run(&["plan", "--lock-timeout", "1500ms"]);
    r.assert_code(1);
    assert!(t.elapsed() >= std::time::Duration::from_millis(1500), "{:?}", t.elapsed());
    assert!(r.stderr.contains("timed out") && r.stderr.contains("ci@runner-7"), "{}", r.stderr);
    s.run(&["force-unlock", "11111111-2222-3333-4444-555555555555"]).assert_code(0);
    s.run(&["apply", "--auto-approve"]).assert_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_in_s3_plans_applies_locks_and_destroys() {
    let s = Scenario::new(&["dev"]).await;
    let bucket = moto().fresh_bucket_name();
    moto().create_bucket(&bucket).await;
    let spec = std::fs::read_to_string(s.path("xacct.yaml")).unwrap();
    let spec = spec.replacen(
        "version: 1\n",
        &format!("version: 1\nbackend: {{ s3: {{ bucket: {bucket}, key: capa/xacct.json }} }}\n"),
        1,
    );
    std::fs::write(s.path("xacct.yaml"), spec).unwrap();

    s.run(&["plan", "-o", "s3.plan"]).assert_code(0);
    s.run(&["apply", "s3.plan"]).assert_code(0);
    assert!(!s.path("state").exists(), "nothing local: the state lives in the bucket");
    let object = moto().s3().await.get_object().bucket(&bucket).key("capa/xacct.json").send().await.unwrap();
    let body = object.body.collect().await.unwrap().into_bytes();
    let state: Value = serde_json::from_slice(&body).unwrap();
    assert!(state["resources"]["trust.dev"].is_object(), "{state:#}");
    assert!(!String::from_utf8_lossy(&body).contains("testing"), "no credentials in state");
    // The lock object is gone after the run.
    let lock = moto().s3().await.head_object().bucket(&bucket).key("capa/xacct.json.lock").send().await;
    assert!(lock.is_err(), "the lock object was left behind");

    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    let r = s.run(&["state", "pull"]);
    r.assert_code(0);
    assert_eq!(serde_json::from_str::<Value>(&r.stdout).unwrap()["lineage"], state["lineage"]);

    // A lock held by someone else fails the next apply at once, naming them.
    let holder = serde_json::json!({"ID": "aaaaaaaa-0000-4000-8000-000000000001", "operation": "apply", "who": "ci@runner-9", "host": "runner-9", "pid": 7, "version": "0.1.0", "created": "2026-11-29T10:00:00Z"});
    moto()
        .s3()
        .await
        .put_object()
        .bucket(&bucket)
        .key("capa/xacct.json.lock")
        .body(holder.to_string().into_bytes().into())
        .send()
        .await
        .unwrap();
    let r = s.run(&["destroy", "--auto-approve"]);
    r.assert_code(1);
    assert!(r.stderr.contains("ci@runner-9"), "{}", r.stderr);
    s.run(&["force-unlock", "aaaaaaaa-0000-4000-8000-000000000001"]).assert_code(0);
    s.run(&["destroy", "--auto-approve"]).assert_code(0);
    assert_eq!(s.run(&["state", "list"]).stdout.trim(), "");
    assert_eq!(moto().trust_of(&s.workloads[0].1, CAPA_ROLE).await.unwrap(), xacct_test_support::EC2_TRUST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_pull_and_push_restore_a_backup_and_refuse_an_older_one() {
    let s = Scenario::new(&["dev", "test"]).await;
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let r = s.run(&["state", "pull"]);
    r.assert_code(0);
    std::fs::write(s.path("backup.json"), &r.stdout).unwrap();
    let backup: Value = serde_json::from_str(&r.stdout).unwrap();

    // Newer state exists (a resource forgotten since): the backup is older and refused.
    s.run(&["state", "rm", "trust.test"]).assert_code(0);
    let r = s.run(&["state", "push", "backup.json"]);
    r.assert_code(1);
    assert!(r.stderr.contains("serial"), "{}", r.stderr);
    assert!(!s.run(&["state", "list"]).stdout.contains("trust.test"), "nothing was pushed");

    // --force restores it, with a serial above the current one.
    let r = s.run(&["state", "push", "--force", "backup.json"]);
    r.assert_code(0);
    let now: Value = serde_json::from_str(&s.run(&["state", "pull"]).stdout).unwrap();
    assert_eq!(now["resources"], backup["resources"]);
    assert!(now["serial"].as_u64() > backup["serial"].as_u64(), "{now:#}");
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);

    // A file that is not a state document is refused with its name.
    std::fs::write(s.path("nonsense.json"), "{\"hello\": 1}").unwrap();
    let r = s.run(&["state", "push", "nonsense.json"]);
    r.assert_code(1);
    assert!(r.stderr.contains("nonsense.json"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_exits_1_when_aws_cannot_be_reached() {
    let s = Scenario::new(&["dev"]).await;
    // Nothing listens on port 9 of loopback: every read fails at once.
    let r = s.run_with(&["verify", "--json"], &[("AWS_ENDPOINT_URL", "http://127.0.0.1:9"), ("AWS_MAX_ATTEMPTS", "1")]);
    r.assert_code(1);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(!v["errors"].as_array().unwrap().is_empty(), "{v:#}");
    assert!(r.stderr.contains("verdict is incomplete"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_flags_an_external_id_that_another_statement_makes_pointless() {
    let s = Scenario::new(&["dev"]).await;
    let dev = s.workloads[0].1.clone();
    let spec = std::fs::read_to_string(s.path("xacct.yaml")).unwrap();
    let spec = spec.replace(
        "    identity: { name: dev-account-role }",
        "    external_id: capa-dev-9z\n    identity: { name: dev-account-role }",
    );
    std::fs::write(s.path("xacct.yaml"), spec).unwrap();
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    s.run(&["verify"]).assert_code(0);

    // The old runbook statement, unconditioned, is still (or again) there.
    let mut trust: Value = serde_json::from_str(&moto().trust_of(&dev, CAPA_ROLE).await.unwrap()).unwrap();
    trust["Statement"].as_array_mut().unwrap().push(serde_json::json!({
        "Sid": "RunbookTrust", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:role/{CAPA_ROLE}", s.mgmt)}, "Action": "sts:AssumeRole"
    }));
    moto().put_trust(&dev, CAPA_ROLE, &trust.to_string()).await;
    let r = s.run(&["verify", "--json"]);
    r.assert_code(2);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let f = v["findings"].as_array().unwrap().iter().find(|f| f["severity"] == "security_warning").cloned();
    let f = f.unwrap_or_else(|| panic!("no security warning: {v:#}"));
    assert_eq!(f["address"], "trust.dev");
    assert!(f["message"].as_str().unwrap().contains("RunbookTrust"), "{f}");
    assert!(f["message"].as_str().unwrap().contains("external ID protects nothing"), "{f}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_gives_back_a_hand_formatted_trust_as_equivalent_statements_foreign_ones_untouched() {
    let s = Scenario::new(&["dev"]).await;
    let dev = s.workloads[0].1.clone();
    // Written by hand or by another tool: indented, a single statement object, its own key order.
    let hand = format!(
        "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {{\n    \"Sid\": \"Ops\",\n    \"Action\": \"sts:AssumeRole\",\n    \"Principal\": {{ \"AWS\": \"arn:aws:iam::{dev}:role/ops\" }},\n    \"Effect\": \"Allow\"\n  }}\n}}\n"
    );
    moto().put_trust(&dev, CAPA_ROLE, &hand).await;
    let before = moto().trust_of(&dev, CAPA_ROLE).await.unwrap();
    assert_eq!(before, hand, "the emulator gives back what it was sent");
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    s.run(&["destroy", "--auto-approve"]).assert_code(0);

    // IAM documents are rewritten whole, so the formatting is xacct's (compact, a statement
    // list) — but the statements are the same, the foreign one with its own keys in its own order.
    let after = moto().trust_of(&dev, CAPA_ROLE).await.unwrap();
    std::fs::write(s.path("before.json"), &before).unwrap();
    std::fs::write(s.path("after.json"), &after).unwrap();
    s.run(&["policy", "diff", "before.json", "after.json"]).assert_code(0);
    let foreign = |doc: &str| -> Vec<String> { statements(doc).iter().map(Value::to_string).collect() };
    assert_eq!(foreign(&after), foreign(&before), "{after}");
    assert_eq!(
        foreign(&after),
        [format!(
            r#"{{"Sid":"Ops","Action":"sts:AssumeRole","Principal":{{"AWS":"arn:aws:iam::{dev}:role/ops"}},"Effect":"Allow"}}"#
        )]
    );
    let v: Value = serde_json::from_str(&after).unwrap();
    assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), ["Version", "Statement"], "{after}");
}
