//! Bootstrap end to end on the emulator: the real binary plans CAPA's prerequisite IAM in every
//! account (clusterawsadm's default set; the control-plane role the accounts already have is
//! adopted), applies the saved plan (the trust statement and assume policy on the controllers
//! role it creates in the same run), and plans nothing the second time.

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
async fn capas_default_set_in_two_accounts_applied_from_a_saved_plan_then_nothing_to_do() {
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
}
