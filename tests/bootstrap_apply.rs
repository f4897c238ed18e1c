//! Bootstrap end to end on the emulator: the real binary plans CAPA's prerequisite IAM in every
//! account (clusterawsadm's default set; the control-plane role the accounts already have is
//! adopted), applies the saved plan (the trust statement and assume policy on the controllers
//! role it creates in the same run), plans nothing the second time, and destroys it all in IAM's
//! order; ten accounts through 30 % injected faults, and an apply SIGKILLed at seeded moments,
//! converge with nothing made twice and nothing foreign lost; a saved plan is refused after a
//! change outside, writing nothing.

mod common;

use common::{statements, Scenario, CAPA_ROLE};
use xacct_test_support::moto;

const SFX: &str = ".cluster-api-provider-aws.sigs.k8s.io";

fn with_bootstrap(s: &Scenario) {
    let path = s.path("xacct.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replacen("version: 1\n", "version: 1\nbootstrap: { profile: capa, adopt: true }\n", 1);
    std::fs::write(&path, text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capas_default_set_in_two_accounts_applied_from_a_saved_plan_then_nothing_to_do_then_destroyed() {
    let s = Scenario::new(&["dev"]).await;
    with_bootstrap(&s);
    let (_, dev) = &s.workloads[0];
    let r = s.run(&["plan", "--detailed-exitcode", "-o", "first.plan"]);
    r.assert_code(2);
    assert!(r.stdout.contains("Plan: 23 to create, 2 to update, 0 to delete"), "{}", r.stdout);

    let r = s.run(&["apply", "first.plan"]);
    r.assert_code(0);
    assert!(r.stderr.contains("Apply complete: 25 done, 0 failed, 0 skipped."), "{}", r.stderr);

    let controllers = format!("controllers{SFX}");
    for account in [&s.mgmt, dev] {
        let iam = moto().iam(account).await;
        for name in ["control-plane", "controllers", "nodes"] {
            let profile = format!("{name}{SFX}");
            let out = iam.get_instance_profile().instance_profile_name(&profile).send().await.unwrap();
            let roles: Vec<&str> = out.instance_profile().unwrap().roles().iter().map(|r| r.role_name()).collect();
            assert_eq!(roles, [profile.as_str()], "{account}");
        }
        for name in ["control-plane", "controllers-eks", "controllers", "nodes"] {
            let arn = format!("arn:aws:iam::{account}:policy/{name}{SFX}");
            let out = iam.get_policy().policy_arn(&arn).send().await.unwrap();
            assert_eq!(out.policy().unwrap().default_version_id(), Some("v1"), "{arn}");
        }
        // The adopted control-plane role keeps the statement it had.
        let trust = moto().trust_of(account, CAPA_ROLE).await.unwrap();
        assert_eq!(statements(&trust)[0]["Principal"]["Service"], "ec2.amazonaws.com", "{trust}");
    }
    // The workload's controllers role, made in this run, trusts the management's beside
    // bootstrap's own statement.
    let trust = moto().trust_of(dev, &controllers).await.unwrap();
    let stmts = statements(&trust);
    assert_eq!(stmts.len(), 2, "{trust}");
    assert_eq!(stmts[1]["Principal"]["AWS"], format!("arn:aws:iam::{}:role/{controllers}", s.mgmt), "{trust}");
    let policies = moto().inline_policies(&s.mgmt, &controllers).await;
    assert!(policies["xacct-assume-workload-roles"].contains(&format!("arn:aws:iam::{dev}:role/{controllers}")));

    let r = s.run(&["plan", "--detailed-exitcode"]);
    r.assert_code(0);
    assert!(r.stdout.contains("No changes."), "{}", r.stdout);

    // Destroy takes out what xacct made and adopted, in IAM's order: nothing is left.
    let r = s.run(&["destroy", "--auto-approve"]);
    r.assert_code(0);
    assert!(r.stderr.contains("Destroy complete: 25 done, 0 failed, 0 skipped."), "{}", r.stderr);
    for account in [&s.mgmt, dev] {
        let iam = moto().iam(account).await;
        let out = iam.list_roles().send().await.unwrap();
        assert!(out.roles().is_empty(), "{account}: {:?}", out.roles());
        let out = iam.list_instance_profiles().send().await.unwrap();
        assert!(out.instance_profiles().is_empty(), "{account}: {:?}", out.instance_profiles());
        for name in ["control-plane", "controllers-eks", "controllers", "nodes"] {
            let arn = format!("arn:aws:iam::{account}:policy/{name}{SFX}");
            assert!(iam.get_policy().policy_arn(&arn).send().await.is_err(), "{arn} is gone");
        }
    }
    assert_eq!(s.run(&["state", "list"]).stdout.trim(), "");
}

/// A statement on the control-plane role that neither bootstrap nor xacct owns.
fn foreign_statement() -> serde_json::Value {
    serde_json::json!({"Sid": "TeamB", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444444444444:root"}, "Action": "sts:AssumeRole"})
}

/// An attachment on the control-plane role that xacct did not make.
const FOREIGN_ATTACHMENT: &str = "arn:aws:iam::aws:policy/ReadOnlyAccess";

/// Every account of `s` holds CAPA's default set exactly once (each profile its one role, each
/// policy one version, no attachment twice), and the control-plane role keeps the foreign
/// statement and attachment.
async fn assert_bootstrapped_once(s: &Scenario) {
    let accounts: Vec<&String> = std::iter::once(&s.mgmt).chain(s.workloads.iter().map(|(_, a)| a)).collect();
    for account in accounts {
        let iam = moto().iam(account).await;
        for name in ["control-plane", "controllers", "nodes"] {
            let profile = format!("{name}{SFX}");
            let out = iam.get_instance_profile().instance_profile_name(&profile).send().await.unwrap();
            let roles: Vec<&str> = out.instance_profile().unwrap().roles().iter().map(|r| r.role_name()).collect();
            assert_eq!(roles, [profile.as_str()], "{account}");
        }
        for name in ["control-plane", "controllers-eks", "controllers", "nodes"] {
            let arn = format!("arn:aws:iam::{account}:policy/{name}{SFX}");
            let out = iam.list_policy_versions().policy_arn(&arn).send().await.unwrap();
            assert_eq!(out.versions().len(), 1, "{arn}");
        }
        for role in [CAPA_ROLE.to_string(), format!("controllers{SFX}"), format!("nodes{SFX}")] {
            let out = iam.list_attached_role_policies().role_name(&role).send().await.unwrap();
            let arns: Vec<&str> = out.attached_policies().iter().filter_map(|p| p.policy_arn()).collect();
            let unique: std::collections::BTreeSet<&&str> = arns.iter().collect();
            assert_eq!(unique.len(), arns.len(), "{account} {role}: {arns:?}");
            if role == CAPA_ROLE {
                assert!(arns.contains(&FOREIGN_ATTACHMENT), "{account}: {arns:?}");
            }
            let trust = moto().trust_of(account, &role).await.unwrap();
            let stmts = statements(&trust);
            let unique: std::collections::BTreeSet<String> = stmts.iter().map(|s| s.to_string()).collect();
            assert_eq!(unique.len(), stmts.len(), "{account} {role}: {trust}");
            if role == CAPA_ROLE {
                assert_eq!(stmts.iter().filter(|s| **s == foreign_statement()).count(), 1, "{account}: {trust}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bootstrap_apply_of_ten_accounts_through_thirty_percent_faults_converges() {
    let names: Vec<String> = (1..10).map(|i| format!("w{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let s = foreign_scenario(&names).await;
    let proxy = xacct_test_support::FaultProxy::start(
        moto().endpoint_url(),
        xacct_test_support::FaultConfig::failures(0.3, 14_2026),
    )
    .await
    .unwrap();
    let through_proxy = [("AWS_ENDPOINT_URL", proxy.url())];
    // A run the faults defeat (a call whose retries all failed) leaves what it did in state and
    // IAM; the next plan and apply take it from there.
    let mut runs = Vec::new();
    for _ in 0..3 {
        let r = s.run_with(&["apply", "--auto-approve", "--parallelism", "10"], &through_proxy);
        runs.push(r.code);
        if r.code == 0 {
            assert!(r.stderr.contains("Apply complete"), "{}", r.stderr);
            break;
        }
    }
    assert_eq!(runs.last(), Some(&0), "{runs:?}");
    let counts = proxy.counts();
    assert!(counts.throttling > 0 && counts.http500 > 0 && counts.reset > 0, "{counts:?}");
    s.run_with(&["plan", "--detailed-exitcode"], &through_proxy).assert_code(0);
    drop(proxy);
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    assert_bootstrapped_once(&s).await;
    #[allow(clippy::print_stderr)]
    {
        eprintln!("bootstrap through faults: runs {runs:?}; {counts:?}");
    }
}

/// A scenario of `names` bootstrapped with `profile: capa, adopt: true`, the control-plane role
/// of every account holding a foreign statement and a foreign attachment.
async fn foreign_scenario(names: &[&str]) -> Scenario {
    let s = Scenario::new(names).await;
    with_bootstrap(&s);
    for account in std::iter::once(&s.mgmt).chain(s.workloads.iter().map(|(_, a)| a)) {
        let ec2: serde_json::Value = serde_json::from_str(xacct_test_support::EC2_TRUST).unwrap();
        let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [ec2["Statement"][0].clone(), foreign_statement()]});
        moto().put_trust(account, CAPA_ROLE, &trust.to_string()).await;
        let iam = moto().iam(account).await;
        iam.attach_role_policy().role_name(CAPA_ROLE).policy_arn(FOREIGN_ATTACHMENT).send().await.unwrap();
    }
    s
}

/// splitmix64, so the kill moments are the same on every run.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn between(&mut self, lo: std::time::Duration, hi: std::time::Duration) -> std::time::Duration {
        let span = (hi - lo).as_micros().max(1) as u64;
        lo + std::time::Duration::from_micros(self.next() % span)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bootstrap_apply_sigkilled_at_seeded_moments_converges() {
    use std::os::unix::process::ExitStatusExt;
    const ROUNDS: u32 = 8;
    let names = ["w1", "w2"];
    let baseline = foreign_scenario(&names).await;
    let t = std::time::Instant::now();
    baseline.run(&["apply", "--auto-approve"]).assert_code(0);
    let full = t.elapsed();
    let resources = baseline.run(&["state", "list"]).stdout.lines().count();
    assert_bootstrapped_once(&baseline).await;

    let mut rng = SplitMix(0x14_5EED);
    let mut points = Vec::new();
    for round in 0..ROUNDS {
        let s = foreign_scenario(&names).await;
        let delay = rng.between(full * round / ROUNDS, full * (round + 1) / ROUNDS);
        let mut child = s.spawn(&["apply", "--auto-approve"], "killed");
        tokio::time::sleep(delay).await;
        let killed = match child.try_wait().unwrap() {
            Some(status) => {
                let log = std::fs::read_to_string(s.path("killed.stderr")).unwrap_or_default();
                assert!(status.success(), "round {round}: the apply failed before the kill: {status:?}\n{log}");
                false
            }
            None => {
                child.kill().unwrap(); // SIGKILL
                assert_eq!(child.wait().unwrap().signal(), Some(9), "round {round}");
                true
            }
        };
        let listed = s.run(&["state", "list"]);
        listed.assert_code(0);
        let recorded = listed.stdout.lines().filter(|l| !l.trim().is_empty()).count();
        let lock_path = s.path("state/default.json.lock");
        if lock_path.exists() {
            let holder: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&lock_path).unwrap()).unwrap();
            s.run(&["force-unlock", holder["ID"].as_str().unwrap()]).assert_code(0);
        }
        // Plan and apply again: it converges, nothing made twice, nothing foreign lost.
        let r = s.run(&["apply", "--auto-approve"]);
        r.assert_code(0);
        s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
        assert_eq!(s.run(&["state", "list"]).stdout.lines().count(), resources, "round {round}");
        assert_bootstrapped_once(&s).await;
        points.push((delay.as_millis(), killed, recorded));
    }
    assert!(points.iter().any(|(_, killed, recorded)| *killed && *recorded > 0 && *recorded < resources), "{points:?}");
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "bootstrap kills (ms, killed, recorded of {resources}): {points:?}; full apply {} ms",
            full.as_millis()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_bootstrap_plan_is_refused_after_a_change_outside_and_writes_nothing() {
    let s = Scenario::new(&["dev"]).await;
    with_bootstrap(&s);
    let (_, dev) = &s.workloads[0];
    s.run(&["plan", "--detailed-exitcode", "-o", "saved.plan"]).assert_code(2);
    // Somebody edits the control-plane role's trust (which bootstrap adopts) in the meantime.
    let ec2: serde_json::Value = serde_json::from_str(xacct_test_support::EC2_TRUST).unwrap();
    let trust =
        serde_json::json!({"Version": "2012-10-17", "Statement": [ec2["Statement"][0].clone(), foreign_statement()]});
    moto().put_trust(dev, CAPA_ROLE, &trust.to_string()).await;

    let r = s.run(&["apply", "saved.plan"]);
    r.assert_code(1);
    assert!(
        r.stderr.contains(&format!(
            "the saved plan is stale; nothing was written:\n  - iam_role.dev[\"{CAPA_ROLE}\"]: the live role changed since the plan was made\nhint: run `xacct plan` again"
        )),
        "{}",
        r.stderr
    );
    for account in [&s.mgmt, dev] {
        let out = moto().iam(account).await.list_instance_profiles().send().await.unwrap();
        assert!(out.instance_profiles().is_empty(), "nothing was written in {account}");
    }
    assert!(!s.path("state/default.json").exists(), "no state was written");
    assert_eq!(moto().trust_of(dev, CAPA_ROLE).await.map(|t| statements(&t).len()), Some(2));
}
