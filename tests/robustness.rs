//! Robustness on the emulator (issue #8): the real binary applying through injected AWS failures,
//! and killed with SIGKILL at random moments of an apply, must still converge to the same end state.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use common::{Scenario, CAPA_ROLE};
use serde_json::Value;
use xacct_test_support::{moto, FaultConfig, FaultProxy, EC2_TRUST};

/// The inline policy xacct owns on the management role.
const ASSUME_POLICY: &str = "xacct-assume-workload-roles";
/// An inline policy on the management role that xacct does not own and must never touch.
const FOREIGN_POLICY: &str = "ops-read-only";
const FOREIGN_POLICY_DOC: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Sid":"OpsRead","Effect":"Allow","Action":"iam:Get*","Resource":"*"}]}"#;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn statements(doc: &Value) -> Vec<Value> {
    match &doc["Statement"] {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    }
}

fn role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/{CAPA_ROLE}")
}

/// The string or list of strings at `v`.
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|x| x.as_str().expect("a string").to_string()).collect(),
        _ => Vec::new(),
    }
}

/// The YAML documents of a manifest (split on `---` separator lines).
fn documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line == "---" || line.starts_with("--- ") {
            docs.push(String::new());
        } else {
            let last = docs.last_mut().unwrap();
            last.push_str(line);
            last.push('\n');
        }
    }
    docs.retain(|d| d.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')));
    docs
}

/// The document's top-level `kind`.
fn kind(doc: &str) -> Option<&str> {
    doc.lines().find_map(|l| l.strip_prefix("kind:")).map(str::trim)
}

/// Everything issue #8 calls "converged", checked on live IAM and the files: each workload role
/// keeps its foreign statement and has exactly one statement for the management role; the
/// management role has the foreign policy untouched and an assume policy naming every workload
/// role exactly once; each manifest holds its original documents plus exactly one
/// `AWSClusterRoleIdentity` for its identity, referenced from the `AWSCluster`.
async fn assert_converged(s: &Scenario, originals: &BTreeMap<String, String>) {
    let foreign = statements(&json(EC2_TRUST)).remove(0);
    let mgmt_arn = role_arn(&s.mgmt);
    for (name, account) in &s.workloads {
        let trust = moto().trust_of(account, CAPA_ROLE).await.expect("the workload role exists");
        let stmts = statements(&json(&trust));
        assert_eq!(
            stmts.iter().filter(|st| **st == foreign).count(),
            1,
            "{name}: foreign statement kept once: {trust}"
        );
        let ours: Vec<&Value> =
            stmts.iter().filter(|st| strings(&st["Principal"]["AWS"]).contains(&mgmt_arn)).collect();
        assert_eq!(ours.len(), 1, "{name}: exactly one statement for the management role: {trust}");
        assert_eq!(stmts.len(), 2, "{name}: nothing else in the trust policy: {trust}");
        assert_eq!(ours[0]["Effect"], "Allow", "{trust}");
        assert_eq!(strings(&ours[0]["Action"]), ["sts:AssumeRole"], "{trust}");
        assert!(ours[0]["Sid"].as_str().is_some_and(|sid| !sid.is_empty()), "{name}: xacct's Sid: {trust}");
    }

    let policies = moto().inline_policies(&s.mgmt, CAPA_ROLE).await;
    let names: Vec<&str> = policies.keys().map(String::as_str).collect();
    let mut expected_names = vec![FOREIGN_POLICY, ASSUME_POLICY];
    expected_names.sort_unstable();
    assert_eq!(names, expected_names, "inline policies of the management role");
    assert_eq!(json(&policies[FOREIGN_POLICY]), json(FOREIGN_POLICY_DOC), "the foreign policy is untouched");
    let assume = json(&policies[ASSUME_POLICY]);
    let mut resources: Vec<String> = Vec::new();
    for st in statements(&assume) {
        assert_eq!(st["Effect"], "Allow", "{assume}");
        assert_eq!(strings(&st["Action"]), ["sts:AssumeRole"], "{assume}");
        resources.extend(strings(&st["Resource"]));
    }
    let unique: BTreeSet<&String> = resources.iter().collect();
    assert_eq!(unique.len(), resources.len(), "no role listed twice: {assume}");
    let want: BTreeSet<String> = s.workloads.iter().map(|(_, a)| role_arn(a)).collect();
    assert_eq!(unique.into_iter().cloned().collect::<BTreeSet<_>>(), want, "every workload role, nothing else");

    for (name, account) in &s.workloads {
        let rel = format!("clusters/{name}-1.yaml");
        let text = std::fs::read_to_string(s.path(&rel)).unwrap();
        let docs = documents(&text);
        let original = documents(&originals[name]);
        assert_eq!(docs.len(), original.len() + 1, "{rel}: the original documents plus one:\n{text}");
        let identities: Vec<&String> = docs.iter().filter(|d| kind(d) == Some("AWSClusterRoleIdentity")).collect();
        assert_eq!(identities.len(), 1, "{rel}: exactly one AWSClusterRoleIdentity:\n{text}");
        let identity = identities[0];
        assert!(identity.contains(&format!("name: {name}-account-role\n")), "{rel}: identity name:\n{identity}");
        assert!(identity.contains(&role_arn(account)), "{rel}: identity role ARN:\n{identity}");
        let clusters: Vec<&String> = docs.iter().filter(|d| kind(d) == Some("AWSCluster")).collect();
        assert_eq!(clusters.len(), 1, "{rel}:\n{text}");
        assert_eq!(clusters[0].matches("identityRef:").count(), 1, "{rel}: one identityRef:\n{}", clusters[0]);
        assert!(clusters[0].contains(&format!("{name}-account-role")), "{rel}: identityRef names it:\n{}", clusters[0]);
        for d in &original {
            assert!(
                docs.iter().any(|p| kind(p) == kind(d) && p.lines().next() == d.lines().next()),
                "{rel}: an original document went missing:\n{d}"
            );
        }
    }
}

/// The manifests as they are before any apply, by workload name.
fn manifests(s: &Scenario) -> BTreeMap<String, String> {
    s.workloads
        .iter()
        .map(|(name, _)| (name.clone(), std::fs::read_to_string(s.path(&format!("clusters/{name}-1.yaml"))).unwrap()))
        .collect()
}

/// A comparable picture of what xacct left behind: live documents and file bytes with every
/// account ID replaced by a placeholder, and the addresses in state.
async fn snapshot(s: &Scenario) -> BTreeMap<String, String> {
    let anon = |text: &str| {
        let mut t = text.replace(&s.mgmt, "<mgmt>");
        for (name, account) in &s.workloads {
            t = t.replace(account, &format!("<{name}>"));
        }
        t
    };
    let mut out = BTreeMap::new();
    for (name, account) in &s.workloads {
        let trust = json(&moto().trust_of(account, CAPA_ROLE).await.unwrap());
        out.insert(format!("trust {name}"), anon(&trust.to_string()));
        let rel = format!("clusters/{name}-1.yaml");
        out.insert(rel.clone(), anon(&std::fs::read_to_string(s.path(&rel)).unwrap()));
    }
    for (policy, doc) in moto().inline_policies(&s.mgmt, CAPA_ROLE).await {
        // xacct lists the roles sorted by ARN, so by account ID, which differs between scenarios.
        let mut doc = json(&anon(&doc));
        sort_string_lists(&mut doc);
        out.insert(format!("policy {policy}"), doc.to_string());
    }
    let r = s.run(&["state", "list"]);
    r.assert_code(0);
    out.insert("state list".into(), r.stdout);
    out
}

#[track_caller]
fn assert_same(want: &BTreeMap<String, String>, got: &BTreeMap<String, String>, what: &str) {
    assert_eq!(want.keys().collect::<Vec<_>>(), got.keys().collect::<Vec<_>>(), "{what}");
    for (k, v) in want {
        assert_eq!(&got[k], v, "{what}: {k} differs from the clean apply");
    }
}

/// Sort every list of strings in `v` (a policy's `Resource` list, say) in place.
fn sort_string_lists(v: &mut Value) {
    match v {
        Value::Array(a) if a.iter().all(Value::is_string) => a.sort_by(|x, y| x.as_str().cmp(&y.as_str())),
        Value::Array(a) => a.iter_mut().for_each(sort_string_lists),
        Value::Object(o) => o.values_mut().for_each(sort_string_lists),
        _ => {}
    }
}

async fn scenario(names: &[&str]) -> (Scenario, BTreeMap<String, String>) {
    let s = Scenario::new(names).await;
    moto().put_inline_policy(&s.mgmt, CAPA_ROLE, FOREIGN_POLICY, FOREIGN_POLICY_DOC).await;
    let originals = manifests(&s);
    (s, originals)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_through_thirty_percent_failures_ends_where_a_clean_apply_does() {
    let names = ["alpha", "beta", "gamma", "delta", "epsilon"];

    // Control: the same file applied with nothing in the way.
    let (control, control_originals) = scenario(&names).await;
    control.run(&["apply", "--auto-approve"]).assert_code(0);
    control.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    assert_converged(&control, &control_originals).await;

    // The same through a proxy failing 30% of requests (throttling, 500s, resets). The SDK's
    // standard retries (8 attempts per call) absorb them: the run itself succeeds.
    let (faulty, originals) = scenario(&names).await;
    let proxy = FaultProxy::start(moto().endpoint_url(), FaultConfig::failures(0.3, 8_2026)).await.unwrap();
    let through_proxy = [("AWS_ENDPOINT_URL", proxy.url())];
    let r = faulty.run_with(&["apply", "--auto-approve"], &through_proxy);
    r.assert_code(0);
    assert!(r.stderr.contains("Apply complete"), "{}", r.stderr);
    let during_apply = proxy.counts();
    assert!(
        during_apply.throttling > 0 && during_apply.http500 > 0 && during_apply.reset > 0,
        "every kind of failure was injected: {during_apply:?}"
    );

    // Still through faults: nothing left to do, and no drift.
    faulty.run_with(&["plan", "--detailed-exitcode"], &through_proxy).assert_code(0);
    faulty.run_with(&["drift"], &through_proxy).assert_code(0);
    let total = proxy.counts();
    assert!(total.failures() > during_apply.failures(), "the plan and drift met failures too: {total:?}");
    drop(proxy);

    // Without faults: no changes, the same end state as the control, byte for byte.
    faulty.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    assert_converged(&faulty, &originals).await;
    assert_same(&snapshot(&control).await, &snapshot(&faulty).await, "the apply through faults");
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "faults: {} requests forwarded, {} failed on purpose ({} throttled, {} 500, {} reset); {} during apply",
            total.forwarded,
            total.failures(),
            total.throttling,
            total.http500,
            total.reset,
            during_apply.failures()
        );
    }
}

/// splitmix64: a small seeded generator, so kill moments are the same on every run.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)`.
    fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        let span = (hi - lo).as_micros().max(1) as u64;
        lo + Duration::from_micros(self.next() % span)
    }
}

/// What one killed run left behind.
#[derive(Debug)]
struct KillPoint {
    delay_ms: u128,
    exited_before_kill: bool,
    lock_left: bool,
    recorded: usize,
    /// Written live by the killed run but not yet in its state.
    adopted: usize,
    /// Manifest edits recorded in state by the killed run but not yet written.
    reapplied: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_of_a_twenty_workload_apply_always_converges() {
    const ROUNDS: u32 = 12;
    let owned: Vec<String> = (0..20).map(|i| format!("w{i:02}")).collect();
    let names: Vec<&str> = owned.iter().map(String::as_str).collect();

    // How long an uninterrupted apply takes, from spawn to exit.
    let (baseline, baseline_originals) = scenario(&names).await;
    let t = Instant::now();
    baseline.run(&["apply", "--auto-approve"]).assert_code(0);
    let full = t.elapsed();
    assert_converged(&baseline, &baseline_originals).await;
    let resources = baseline.run(&["state", "list"]).stdout.lines().count();
    let clean = snapshot(&baseline).await;

    // One kill per round, each round in its own slice of [0, full) so the whole run is covered
    // (later runs are often faster than the first, so the last slices reach its end and exit).
    let mut rng = SplitMix(0x8_5EED);
    let mut points = Vec::new();
    for round in 0..ROUNDS {
        let (s, originals) = scenario(&names).await;
        let delay = rng.between(full * round / ROUNDS, full * (round + 1) / ROUNDS);
        let mut child = s.spawn(&["apply", "--auto-approve"], "killed");
        tokio::time::sleep(delay).await;
        let exited_before_kill = match child.try_wait().unwrap() {
            Some(status) => {
                let log = std::fs::read_to_string(s.path("killed.stderr")).unwrap_or_default();
                assert!(status.success(), "round {round}: the apply failed before the kill: {status:?}\n{log}");
                true
            }
            None => {
                child.kill().unwrap(); // SIGKILL
                let status = child.wait().unwrap();
                assert_eq!(status.signal(), Some(9), "round {round}: killed by SIGKILL: {status:?}");
                false
            }
        };

        // The state is readable whatever the moment.
        let listed = s.run(&["state", "list"]);
        listed.assert_code(0);
        let recorded = listed.stdout.lines().filter(|l| !l.trim().is_empty()).count();

        // The lock is either gone or named, and force-unlock frees it.
        let lock_path = s.path("state/default.json.lock");
        let lock_left = lock_path.exists();
        let plan = s.run(&["plan", "--detailed-exitcode"]);
        if lock_left {
            plan.assert_code(1);
            assert!(plan.stderr.contains("force-unlock"), "{}", plan.stderr);
            let text = std::fs::read_to_string(&lock_path).unwrap();
            let holder: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("round {round}: the lock file is not readable ({e}): {text:?}"));
            let id = holder["ID"].as_str().expect("the lock names its ID");
            assert!(plan.stderr.contains(id), "the error names the holder's ID: {}", plan.stderr);
            s.run(&["force-unlock", id]).assert_code(0);
            assert!(!lock_path.exists());
        } else {
            assert!(plan.code == 0 || plan.code == 2, "plan after the kill: {plan:?}");
        }

        // Plan and apply again: it converges.
        let replan_run = s.run(&["plan", "--detailed-exitcode", "--json"]);
        let replan: Value = json(&replan_run.stdout);
        let changes = replan["changes"].as_array().unwrap();
        let actions = |action: &str| changes.iter().filter(|c| c["actions"] == serde_json::json!([action])).count();
        // Written live but killed before state recorded it: adopted, never written twice.
        let adopted = actions("adopt");
        // A manifest edit is recorded before its file is written: killed in between, the edit is
        // in state but not in the file, and the plan makes it again (marked drift). Only manifests.
        let reapplied: Vec<&Value> =
            changes.iter().filter(|c| c["actions"] == serde_json::json!(["create"]) && c["drift"] == true).collect();
        assert!(reapplied.iter().all(|c| c["kind"] == "manifest"), "round {round}: {replan}");
        assert_eq!(recorded + adopted + actions("create") - reapplied.len(), resources, "round {round}: {replan}");
        replan_run.assert_code(if recorded == resources && reapplied.is_empty() { 0 } else { 2 });
        let r = s.run(&["apply", "--auto-approve"]);
        r.assert_code(0);
        s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
        assert!(!lock_path.exists(), "round {round}: the recovery released its lock");
        assert_eq!(s.run(&["state", "list"]).stdout.lines().count(), resources, "round {round}: all in state");
        assert_converged(&s, &originals).await;
        assert_same(&clean, &snapshot(&s).await, &format!("round {round}"));
        let reapplied = reapplied.len();
        points.push(KillPoint {
            delay_ms: delay.as_millis(),
            exited_before_kill,
            lock_left,
            recorded,
            adopted,
            reapplied,
        });
    }

    // The kills landed where they matter: at least one mid-apply (lock held, part recorded).
    assert!(
        points.iter().any(|p| p.lock_left && !p.exited_before_kill),
        "no kill landed while the lock was held: {points:?}"
    );
    #[allow(clippy::print_stderr)]
    {
        eprintln!("uninterrupted apply: {} ms, {resources} resources in state", full.as_millis());
        for p in &points {
            eprintln!(
                "killed at {} ms: {}lock {}, {}/{resources} recorded, {} written but unrecorded, {} recorded but unwritten",
                p.delay_ms,
                if p.exited_before_kill { "already exited, " } else { "" },
                if p.lock_left { "left behind" } else { "free" },
                p.recorded,
                p.adopted,
                p.reapplied
            );
        }
    }
}
