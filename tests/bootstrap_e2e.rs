//! Bootstrap end to end on the emulator, through the real binary (issue #14's "Done when"):
//! CAPA's default set made from empty accounts, kept (an empty second plan read in bulk, drift of
//! an attachment and a base trust statement repaired), verified and destroyed back to what the
//! accounts held before; the same set made beforehand as the CloudFormation stack makes it,
//! refused without `adopt` and taken over with it; bad configurations refused before anything is
//! written.

mod common;

use std::collections::BTreeMap;

use common::{statements, Scenario, CAPA_ROLE};
use serde_json::Value;
use xacct_bootstrap::{Profile, ResourceSet, Source};
use xacct_test_support::{decode_document, moto};

const SFX: &str = ".cluster-api-provider-aws.sigs.k8s.io";

fn capa_set() -> ResourceSet {
    xacct_bootstrap::resource_set(&Source::Profile(Profile::Capa), "aws")
}

/// Everything IAM holds in `account`, one line per entity with its parts (documents decoded and
/// in a canonical JSON form), read through the SDK's `GetAccountAuthorizationDetails`.
async fn snapshot(account: &str) -> BTreeMap<String, String> {
    let iam = moto().iam(account).await;
    let doc = |text: Option<&str>| -> String {
        let text = decode_document(text.unwrap_or_default());
        serde_json::from_str::<Value>(&text).map(|v| v.to_string()).unwrap_or(text)
    };
    let mut out = BTreeMap::new();
    let mut marker: Option<String> = None;
    loop {
        let page = iam
            .get_account_authorization_details()
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetAccountAuthorizationDetails in {account}: {e:?}"));
        for r in page.role_detail_list() {
            let mut attached: Vec<&str> = r.attached_managed_policies().iter().filter_map(|p| p.policy_arn()).collect();
            attached.sort();
            let mut inline: Vec<String> = r
                .role_policy_list()
                .iter()
                .map(|p| format!("{}={}", p.policy_name().unwrap_or_default(), doc(p.policy_document())))
                .collect();
            inline.sort();
            let mut profiles: Vec<&str> = r.instance_profile_list().iter().map(|p| p.instance_profile_name()).collect();
            profiles.sort();
            out.insert(
                format!("role {}{}", r.path().unwrap_or_default(), r.role_name().unwrap_or_default()),
                format!(
                    "trust {} attached {attached:?} inline {inline:?} profiles {profiles:?}",
                    doc(r.assume_role_policy_document())
                ),
            );
        }
        // Customer-managed policies only (the emulator lists AWS-managed ones too).
        for p in page.policies().iter().filter(|p| p.arn().is_some_and(|a| a.contains(&format!(":iam::{account}:")))) {
            let mut versions: Vec<String> = p
                .policy_version_list()
                .iter()
                .map(|v| {
                    format!(
                        "{}{} {}",
                        v.version_id().unwrap_or_default(),
                        if v.is_default_version() { " (default)" } else { "" },
                        doc(v.document())
                    )
                })
                .collect();
            versions.sort();
            out.insert(format!("policy {}", p.arn().unwrap_or_default()), format!("{versions:?}"));
        }
        for u in page.user_detail_list() {
            out.insert(format!("user {}", u.user_name().unwrap_or_default()), format!("{:?}", u.group_list()));
        }
        for g in page.group_detail_list() {
            out.insert(format!("group {}", g.group_name().unwrap_or_default()), String::new());
        }
        if page.is_truncated() {
            marker = page.marker().map(str::to_string);
        } else {
            break;
        }
    }
    let profiles = iam.list_instance_profiles().send().await.unwrap();
    for p in profiles.instance_profiles() {
        let roles: Vec<&str> = p.roles().iter().map(|r| r.role_name()).collect();
        out.insert(format!("instance profile {}{}", p.path(), p.instance_profile_name()), format!("{roles:?}"));
    }
    out
}

/// The accounts of `s`, management first.
fn accounts(s: &Scenario) -> Vec<String> {
    std::iter::once(s.mgmt.clone()).chain(s.workloads.iter().map(|(_, a)| a.clone())).collect()
}

async fn snapshots(s: &Scenario) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    for a in accounts(s) {
        out.push(snapshot(&a).await);
    }
    out
}

/// Rewrite the scenario's file: `bootstrap` as given at the top, the management account and
/// every workload with no role, identity or manifests (a bootstrapped account's role is the set's
/// controllers role).
fn write_file(s: &Scenario, bootstrap: &str) {
    let mut yaml = format!(
        "version: 1\nbootstrap: {bootstrap}\ndefaults:\n  access: {{ assume_role: {{ role_name: OrganizationAccountAccessRole }} }}\nmanagement:\n  account: \"{}\"\n  access: {{ assume_role: {{ role_name: OrganizationAccountAccessRole }} }}\nworkloads:\n",
        s.mgmt
    );
    for (name, account) in &s.workloads {
        yaml.push_str(&format!("  - {{ name: {name}, account: \"{account}\" }}\n"));
    }
    std::fs::write(s.path("xacct.yaml"), yaml).unwrap();
}

/// Fresh accounts holding nothing (the CAPA role Scenario makes is deleted again): the account
/// access role xacct assumes is the emulator's, not a role in the account.
async fn empty_accounts(names: &[&str]) -> Scenario {
    let s = Scenario::new(names).await;
    for a in accounts(&s) {
        moto().iam(&a).await.delete_role().role_name(CAPA_ROLE).send().await.unwrap();
    }
    s
}

fn json(r: &common::Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", r.stdout, r.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_empty_accounts_apply_noop_verify_drift_repair_destroy() {
    let s = empty_accounts(&["dev", "test"]).await;
    write_file(&s, "{ profile: capa }");
    let before = snapshots(&s).await;
    for b in &before {
        assert!(b.is_empty(), "{b:?}");
    }
    let set = capa_set();
    let controllers = set.controller_role.clone();
    assert_eq!(controllers, format!("controllers{SFX}"));

    let r = s.run(&["apply", "--auto-approve"]);
    r.assert_code(0);
    for (a, snap) in accounts(&s).iter().zip(snapshots(&s).await) {
        for role in &set.roles {
            assert!(snap.contains_key(&format!("role {}{}", role.path, role.name)), "{a}: {snap:?}");
        }
        for p in &set.policies {
            assert!(snap.contains_key(&format!("policy {}", p.arn("aws", a))), "{a}: {snap:?}");
        }
    }

    // A second plan: nothing to do, read in bulk.
    let r = s.run(&["plan", "--json", "--detailed-exitcode"]);
    r.assert_code(0);
    let plan = json(&r);
    let summary = &plan["summary"];
    assert_eq!(summary["create"], 0, "{summary}");
    assert_eq!(summary["update"], 0, "{summary}");
    assert_eq!(summary["delete"], 0, "{summary}");
    assert_eq!(summary["drift"], 0, "{summary}");
    // Per account: one sts:AssumeRole (the account access role) and one
    // GetAccountAuthorizationDetails page; nothing else.
    assert_eq!(summary["aws_calls"], 6, "{summary}");
    let r = s.run(&["plan", "--detailed-exitcode"]);
    r.assert_code(0);
    assert!(r.stdout.contains("No changes."), "{}", r.stdout);
    assert!(r.stderr.contains("6 AWS calls") || r.stdout.contains("6 AWS calls"), "{}\n{}", r.stdout, r.stderr);

    // verify sees the controllers roles plan made and proves each chain.
    let r = s.run(&["verify", "--json"]);
    r.assert_code(0);
    let v = json(&r);
    let checks = v["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2, "{}", r.stdout);
    for (c, (name, account)) in checks.iter().zip(&s.workloads) {
        assert_eq!(c["workload"], name.as_str());
        assert_eq!(c["outcome"], "allowed", "{}", r.stdout);
        assert_eq!(c["role_arn"], format!("arn:aws:iam::{account}:role/{controllers}"), "{}", r.stdout);
        assert_eq!(c["principal"], format!("arn:aws:iam::{}:role/{controllers}", s.mgmt), "{}", r.stdout);
    }
    s.run(&["drift"]).assert_code(0);

    // A managed policy xacct attached, detached outside xacct: drift, repaired by the next apply.
    let (_, dev) = &s.workloads[0];
    let arn = format!("arn:aws:iam::{dev}:policy/controllers{SFX}");
    moto().iam(dev).await.detach_role_policy().role_name(&controllers).policy_arn(&arn).send().await.unwrap();
    let r = s.run(&["drift", "--json"]);
    r.assert_code(2);
    let report = json(&r);
    let address = format!("iam_role.dev[\"{controllers}\"]");
    assert_eq!(report["drift"].as_array().unwrap().len(), 1, "{}", r.stdout);
    assert_eq!(report["drift"][0]["address"], address.as_str(), "{}", r.stdout);
    assert_eq!(report["drift"][0]["kind"], "modified");
    assert_eq!(report["drift"][0]["detail"], format!("managed policy `{arn}` was detached"));
    let r = s.run(&["drift"]);
    r.assert_code(2);
    assert!(r.stdout.contains(&address), "{}", r.stdout);
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let attached = moto().iam(dev).await.list_attached_role_policies().role_name(&controllers).send().await.unwrap();
    assert!(attached.attached_policies().iter().any(|p| p.policy_arn() == Some(arn.as_str())), "{attached:?}");
    s.run(&["drift"]).assert_code(0);

    // A base trust statement (the set's) removed outside xacct, xacct's own kept: drift, repaired.
    let (_, test) = &s.workloads[1];
    let trust = moto().trust_of(test, &controllers).await.unwrap();
    let stmts = statements(&trust);
    assert_eq!(stmts.len(), 2, "{trust}");
    let base = set.role(&controllers).unwrap().trust.clone();
    let kept: Vec<Value> = stmts.iter().filter(|s| s.get("Sid").is_some()).cloned().collect();
    assert_eq!(kept.len(), 1, "{trust}");
    moto()
        .put_trust(test, &controllers, &serde_json::json!({"Version": "2012-10-17", "Statement": kept}).to_string())
        .await;
    let r = s.run(&["drift", "--json"]);
    r.assert_code(2);
    let report = json(&r);
    assert_eq!(report["drift"].as_array().unwrap().len(), 1, "{}", r.stdout);
    assert_eq!(report["drift"][0]["address"], format!("iam_role.test[\"{controllers}\"]"), "{}", r.stdout);
    assert!(
        report["drift"][0]["detail"].as_str().unwrap().starts_with("a trust statement xacct made was removed"),
        "{}",
        r.stdout
    );
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let trust = moto().trust_of(test, &controllers).await.unwrap();
    let stmts = statements(&trust);
    assert_eq!(stmts.len(), 2, "{trust}");
    for b in statements(&base.to_string()) {
        assert!(stmts.iter().any(|s| s["Principal"] == b["Principal"] && s["Action"] == b["Action"]), "{trust}");
    }
    s.run(&["drift"]).assert_code(0);
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);

    // destroy leaves each account as it was.
    s.run(&["destroy", "--auto-approve"]).assert_code(0);
    assert_eq!(snapshots(&s).await, before);
}
