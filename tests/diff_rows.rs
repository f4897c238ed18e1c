//! Every row of DESIGN.md's three-way diff table, driven through the real binary on the emulator:
//! create, adopt, no-op, update (drift), create (drift: deleted), update (desired changed),
//! delete and forget — for trust statements, the assume policy and manifests — plus the
//! over-budget assume policy and its way out, and the call count of a no-change plan.

mod common;

use std::collections::BTreeMap;

use common::{statements, Run, Scenario, CAPA_ROLE};
use serde_json::{json, Value};
use xacct_test_support::{moto, FaultConfig, FaultProxy};

fn parse(r: &Run) -> Value {
    serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n--- stderr\n{}", r.stdout, r.stderr))
}

/// The plan as JSON (exit 0; errors are checked by the caller through `diagnostics`).
fn plan(s: &Scenario) -> Value {
    let r = s.run(&["plan", "--json"]);
    r.assert_code(0);
    parse(&r)
}

fn change<'a>(plan: &'a Value, address: &str) -> &'a Value {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("no change for {address} in\n{plan:#}"))
}

/// Asserts the action and drift flag of one address.
#[track_caller]
fn expect(plan: &Value, address: &str, action: &str, drift: bool) {
    let c = change(plan, address);
    assert_eq!(c["actions"], json!([action]), "{address}: {c:#}");
    assert_eq!(c["drift"], drift, "{address}: {c:#}");
}

fn rewrite_spec(s: &Scenario, edit: impl FnOnce(String) -> String) {
    let path = s.path("xacct.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let new = edit(text.clone());
    assert_ne!(new, text, "the edit changed nothing");
    std::fs::write(path, new).unwrap();
}

fn mgmt_arn(s: &Scenario) -> String {
    format!("arn:aws:iam::{}:role/{CAPA_ROLE}", s.mgmt)
}

/// The statements in `account`'s CAPA role that name the management role.
async fn grants_to_mgmt(s: &Scenario, account: &str) -> Vec<Value> {
    let trust = moto().trust_of(account, CAPA_ROLE).await.unwrap();
    statements(&trust).into_iter().filter(|st| st["Principal"]["AWS"] == mgmt_arn(s)).collect()
}

/// A no-change `plan --json` through a counting proxy: every change is a no-op, and the emulator
/// received exactly the calls README's "What a plan costs" names — `sts:AssumeRole` and
/// `iam:GetRole` per workload account, `sts:AssumeRole`, `iam:GetRole` and `iam:GetRolePolicy` for
/// the management account: 2N+3 — which is also what xacct reports in `summary.aws_calls`.
async fn no_change_plan_in_budget(s: &Scenario) -> Value {
    let proxy = FaultProxy::start(moto().endpoint_url(), FaultConfig::none()).await.unwrap();
    let r = s.run_with(&["plan", "--json"], &[("AWS_ENDPOINT_URL", proxy.url())]);
    r.assert_code(0);
    let p = parse(&r);
    for c in p["changes"].as_array().unwrap() {
        assert_eq!(c["actions"], json!(["no-op"]), "{c:#}");
    }
    let n = s.workloads.len() as u64;
    let expected: BTreeMap<String, u64> = [("iam:GetRole", n + 1), ("iam:GetRolePolicy", 1), ("sts:AssumeRole", n + 1)]
        .into_iter()
        .map(|(op, count)| (op.to_string(), count))
        .collect();
    assert_eq!(proxy.operations(), expected, "what the emulator received for a no-change plan of {n} workloads");
    assert_eq!(proxy.requests(), 2 * n + 3);
    assert_eq!(proxy.counts().failures(), 0);
    assert_eq!(p["summary"]["aws_calls"], 2 * n + 3, "xacct's own count: {:#}", p["summary"]);
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_change_plan_makes_exactly_2n_plus_3_aws_calls() {
    for names in [&["dev"][..], &["dev", "test", "prod"]] {
        let s = Scenario::new(names).await;
        s.run(&["apply", "--auto-approve"]).assert_code(0);
        no_change_plan_in_budget(&s).await;
    }
}

const M_DEV: &str = "manifest.dev[\"clusters/dev-1.yaml\"]";
const M_TEST: &str = "manifest.test[\"clusters/test-1.yaml\"]";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_of_the_three_way_diff() {
    let s = Scenario::new(&["dev", "test"]).await;
    let dev = s.workloads[0].1.clone();
    let test = s.workloads[1].1.clone();
    let test_manifest_before = std::fs::read(s.path("clusters/test-1.yaml")).unwrap();
    let test_trust_before = moto().trust_of(&test, CAPA_ROLE).await.unwrap();

    // desired yes, stored no, live no: create.
    let p = plan(&s);
    for a in ["trust.dev", "trust.test", "assume_policy.management", M_DEV, M_TEST] {
        expect(&p, a, "create", false);
    }
    expect(&p, "role.dev", "no-op", false);
    assert_eq!(p["summary"]["create"], 5, "{:#}", p["summary"]);
    s.run(&["apply", "--auto-approve"]).assert_code(0);

    // desired yes, stored yes, live equal to both: no-op, in exactly the README's calls.
    let p = no_change_plan_in_budget(&s).await;
    let calls = p["summary"]["aws_calls"].as_u64().unwrap();
    let r = s.run(&["plan"]);
    assert!(
        r.stderr.contains(&format!("{calls} AWS calls")) || r.stdout.contains(&format!("{calls} AWS calls")),
        "{r:?}"
    );

    // desired yes, stored yes, live differs from stored: update, marked drift.
    let mut edited: Value = serde_json::from_str(&moto().trust_of(&dev, CAPA_ROLE).await.unwrap()).unwrap();
    edited["Statement"][1]["Action"] = json!(["sts:AssumeRole", "sts:TagSession"]);
    moto().put_trust(&dev, CAPA_ROLE, &edited.to_string()).await;
    // desired yes, stored yes, live gone: create, marked drift (trust statement and assume policy).
    let only_ec2 = json!({"Version": "2012-10-17", "Statement": [statements(&test_trust_before)[0]]});
    moto().put_trust(&test, CAPA_ROLE, &only_ec2.to_string()).await;
    moto().delete_inline_policy(&s.mgmt, CAPA_ROLE, "xacct-assume-workload-roles").await;

    let r = s.run(&["drift", "--json"]);
    r.assert_code(2);
    let d = parse(&r);
    let mut kinds: Vec<(String, String)> = d["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["address"].as_str().unwrap().to_string(), x["kind"].as_str().unwrap().to_string()))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            ("assume_policy.management".to_string(), "deleted".to_string()),
            ("trust.dev".into(), "modified".into()),
            ("trust.test".into(), "deleted".into())
        ],
        "{d:#}"
    );
    let p = plan(&s);
    expect(&p, "trust.dev", "update", true);
    expect(&p, "trust.test", "create", true);
    expect(&p, "assume_policy.management", "create", true);
    expect(&p, M_DEV, "no-op", false);
    assert_eq!(p["summary"]["drift"], 3);
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    assert_eq!(grants_to_mgmt(&s, &dev).await[0]["Action"], "sts:AssumeRole");
    assert_eq!(grants_to_mgmt(&s, &test).await.len(), 1);
    assert!(moto().inline_policies(&s.mgmt, CAPA_ROLE).await.contains_key("xacct-assume-workload-roles"));
    s.run(&["drift"]).assert_code(0);

    // Removed, then put back by hand as the runbook writes it (no Sid): adopted, never doubled.
    let by_hand = json!({"Version": "2012-10-17", "Statement": [
        statements(&test_trust_before)[0],
        {"Effect": "Allow", "Principal": {"AWS": mgmt_arn(&s)}, "Action": "sts:AssumeRole"}
    ]});
    moto().put_trust(&test, CAPA_ROLE, &by_hand.to_string()).await;
    let p = plan(&s);
    expect(&p, "trust.test", "adopt", true);
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    assert_eq!(moto().trust_of(&test, CAPA_ROLE).await.unwrap(), by_hand.to_string().replace(' ', ""));
    let p = plan(&s);
    expect(&p, "trust.test", "no-op", false);

    // desired changed, stored yes, live equal to stored: update (no drift), manifest included.
    rewrite_spec(&s, |t| {
        t.replace(
            "identity: { name: dev-account-role }",
            "external_id: capa-dev-41x9\n    identity: { name: dev-account-role }",
        )
    });
    let p = plan(&s);
    expect(&p, "trust.dev", "update", false);
    expect(&p, M_DEV, "update", false);
    expect(&p, "trust.test", "no-op", false);
    expect(&p, "assume_policy.management", "no-op", false);
    let diff = change(&p, M_DEV)["diff"].as_str().unwrap();
    assert!(diff.contains("+  externalID: capa-dev-41x9"), "{diff}");
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let ours = grants_to_mgmt(&s, &dev).await;
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0]["Condition"]["StringEquals"]["sts:ExternalId"], "capa-dev-41x9", "{:#}", ours[0]);
    assert!(std::fs::read_to_string(s.path("clusters/dev-1.yaml")).unwrap().contains("externalID: capa-dev-41x9"));

    // A manifest edited by hand since xacct patched it is drift.
    let dev_manifest = s.path("clusters/dev-1.yaml");
    let mut text = std::fs::read_to_string(&dev_manifest).unwrap();
    text.push_str("# edited by hand\n");
    std::fs::write(&dev_manifest, &text).unwrap();
    let r = s.run(&["drift", "--json"]);
    r.assert_code(2);
    assert_eq!(parse(&r)["drift"][0]["address"], M_DEV, "{}", r.stdout);
    std::fs::write(&dev_manifest, text.trim_end_matches("# edited by hand\n")).unwrap();
    s.run(&["drift"]).assert_code(0);

    // desired no, stored yes, live present: delete — xacct's parts only.
    let spec_with_test = std::fs::read_to_string(s.path("xacct.yaml")).unwrap();
    rewrite_spec(&s, |t| {
        let start = t.find("  - name: test").unwrap();
        t[..start].to_string()
    });
    let p = plan(&s);
    expect(&p, "trust.test", "delete", false);
    expect(&p, M_TEST, "delete", false);
    expect(&p, "assume_policy.management", "update", false);
    expect(&p, "trust.dev", "no-op", false);
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    assert_eq!(moto().trust_of(&test, CAPA_ROLE).await.unwrap(), test_trust_before, "the trust, byte for byte");
    assert_eq!(std::fs::read(s.path("clusters/test-1.yaml")).unwrap(), test_manifest_before);
    let policy = moto().inline_policies(&s.mgmt, CAPA_ROLE).await.remove("xacct-assume-workload-roles").unwrap();
    assert!(!policy.contains(&test) && policy.contains(&dev), "{policy}");
    let r = s.run(&["state", "list"]);
    assert!(!r.stdout.contains("trust.test"), "{}", r.stdout);

    // Back in the file and applied, then gone from the file and already gone live: forget.
    std::fs::write(s.path("xacct.yaml"), &spec_with_test).unwrap();
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    assert_eq!(grants_to_mgmt(&s, &test).await.len(), 1);
    rewrite_spec(&s, |t| {
        let start = t.find("  - name: test").unwrap();
        t[..start].to_string()
    });
    moto().put_trust(&test, CAPA_ROLE, &only_ec2.to_string()).await;
    let p = plan(&s);
    expect(&p, "trust.test", "forget", false);
    assert!(change(&p, "trust.test")["write"].is_null());
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    assert!(!s.run(&["state", "list"]).stdout.contains("trust.test"));
    assert_eq!(moto().trust_of(&test, CAPA_ROLE).await.unwrap(), only_ec2.to_string().replace(' ', ""));

    // Everything converged: nothing to do, nothing drifted.
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    s.run(&["drift"]).assert_code(0);
}

/// A foreign inline policy of `size` characters (whitespace excluded, as IAM counts).
fn foreign_policy(size: usize) -> String {
    let mut resources = Vec::new();
    let mut doc = String::new();
    for i in 0.. {
        resources.push(format!("arn:aws:s3:::team-artifacts-{i:05}/*"));
        doc = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Artifacts", "Effect": "Allow", "Action": "s3:GetObject", "Resource": resources}
        ]})
        .to_string();
        if doc.len() >= size {
            break;
        }
    }
    doc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_budget_assume_policy_fails_before_writing_and_names_the_organization_grant() {
    let s = Scenario::new(&["dev", "test", "acc", "prod", "sandbox"]).await;
    // Leaves about 300 characters: too few for five role ARNs, enough for one organization grant.
    let foreign = foreign_policy(9_900);
    moto().put_inline_policy(&s.mgmt, CAPA_ROLE, "team-artifacts", &foreign).await;
    let trusts_before: Vec<String> = {
        let mut v = Vec::new();
        for (_, a) in &s.workloads {
            v.push(moto().trust_of(a, CAPA_ROLE).await.unwrap());
        }
        v
    };
    let manifest_before = std::fs::read(s.path("clusters/dev-1.yaml")).unwrap();

    let r = s.run(&["plan"]);
    r.assert_code(1);
    let out = format!("{}{}", r.stdout, r.stderr);
    assert!(out.contains("assume_policy.management"), "{out}");
    assert!(out.contains("inline budget"), "{out}");
    assert!(out.contains("10240-character") || out.contains("10,240"), "{out}");
    assert!(out.contains("organization"), "{out}");
    // Saving a plan or applying fails the same way, and nothing is written anywhere.
    s.run(&["plan", "-o", "over.plan"]).assert_code(1);
    assert!(!s.path("over.plan").exists());
    let r = s.run(&["apply", "--auto-approve"]);
    r.assert_code(1);
    assert!(r.stderr.contains("inline budget") || r.stdout.contains("inline budget"), "{r:?}");
    let policies = moto().inline_policies(&s.mgmt, CAPA_ROLE).await;
    assert_eq!(policies.keys().collect::<Vec<_>>(), ["team-artifacts"]);
    for ((_, a), before) in s.workloads.iter().zip(&trusts_before) {
        assert_eq!(&moto().trust_of(a, CAPA_ROLE).await.unwrap(), before);
    }
    assert_eq!(std::fs::read(s.path("clusters/dev-1.yaml")).unwrap(), manifest_before);
    assert!(s.run(&["state", "list"]).stdout.trim().is_empty());

    // The way out the error names: grant by organization. It fits, and applies.
    rewrite_spec(&s, |t| {
        t.replace("management:\n", "management:\n  assume_policy: { grant: { organization: o-a1b2c3d4e5 } }\n")
    });
    let r = s.run(&["plan", "--detailed-exitcode"]);
    r.assert_code(2);
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let policies = moto().inline_policies(&s.mgmt, CAPA_ROLE).await;
    assert_eq!(policies["team-artifacts"], foreign, "the foreign policy is untouched");
    let ours: Value = serde_json::from_str(&policies["xacct-assume-workload-roles"]).unwrap();
    let stmt = &statements(&ours.to_string())[0];
    assert_eq!(stmt["Condition"]["StringEquals"]["aws:ResourceOrgID"], "o-a1b2c3d4e5", "{ours:#}");
    assert_eq!(stmt["Resource"], json!([format!("arn:aws:iam::*:role/{CAPA_ROLE}")]), "{ours:#}");
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trust_policy_over_the_account_quota_fails_before_writing() {
    let s = Scenario::new(&["dev"]).await;
    let dev = s.workloads[0].1.clone();
    // A foreign trust already close to the default 2,048-character quota.
    let mut foreign =
        vec![json!({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})];
    let mut doc = String::new();
    for i in 0.. {
        foreign.push(json!({"Sid": format!("Ci{i}"), "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{dev}:role/ci-runner-{i:02}")}, "Action": "sts:AssumeRole"}));
        doc = json!({"Version": "2012-10-17", "Statement": foreign}).to_string();
        if doc.len() > 1_940 {
            break;
        }
    }
    assert!(doc.len() < 2_048, "{}", doc.len());
    moto().put_trust(&dev, CAPA_ROLE, &doc).await;
    let before = moto().trust_of(&dev, CAPA_ROLE).await.unwrap();

    let r = s.run(&["plan"]);
    r.assert_code(1);
    let out = format!("{}{}", r.stdout, r.stderr);
    assert!(out.contains("trust.dev"), "{out}");
    assert!(out.contains("2048"), "{out}");
    s.run(&["apply", "--auto-approve"]).assert_code(1);
    assert_eq!(moto().trust_of(&dev, CAPA_ROLE).await.unwrap(), before);
    assert!(moto().inline_policies(&s.mgmt, CAPA_ROLE).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_assume_policy_is_refused_and_the_documented_way_round_works() {
    let s = Scenario::new(&["dev"]).await;
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    rewrite_spec(&s, |t| t.replace("management:\n", "management:\n  assume_policy: { name: capa-cross-account }\n"));
    let r = s.run(&["plan"]);
    r.assert_code(1);
    let out = format!("{}{}", r.stdout, r.stderr);
    assert!(out.contains("renamed from `xacct-assume-workload-roles` to `capa-cross-account`"), "{out}");
    assert!(out.contains("xacct state rm assume_policy.management"), "{out}");

    // The way round the hint gives: access is never lost on the way.
    s.run(&["state", "rm", "assume_policy.management"]).assert_code(0);
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let policies = moto().inline_policies(&s.mgmt, CAPA_ROLE).await;
    assert_eq!(policies.keys().collect::<Vec<_>>(), ["capa-cross-account", "xacct-assume-workload-roles"]);
    moto().delete_inline_policy(&s.mgmt, CAPA_ROLE, "xacct-assume-workload-roles").await;
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    s.run(&["verify"]).assert_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_a_workload_keeps_its_trust_and_manifest() {
    let s = Scenario::new(&["dev"]).await;
    let dev = s.workloads[0].1.clone();
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let trust = moto().trust_of(&dev, CAPA_ROLE).await.unwrap();
    rewrite_spec(&s, |t| t.replace("  - name: dev\n", "  - name: development\n"));

    let p = plan(&s);
    expect(&p, "trust.dev", "forget", false);
    expect(&p, "trust.development", "no-op", false);
    expect(&p, M_DEV, "forget", false);
    assert_eq!(change(&p, "trust.development")["replaces"], "trust.dev");
    // Through a saved plan: the stale check reads what each half read.
    s.run(&["plan", "-o", "rename.plan"]).assert_code(0);
    s.run(&["apply", "rename.plan"]).assert_code(0);
    assert_eq!(moto().trust_of(&dev, CAPA_ROLE).await.unwrap(), trust, "the live trust is untouched");
    s.run(&["verify"]).assert_code(0);
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    let listed = s.run(&["state", "list"]).stdout;
    assert!(listed.contains("trust.development") && !listed.contains("trust.dev\n"), "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_at_another_path_than_the_file_says_fails_the_plan_naming_the_path() {
    let s = Scenario::new(&[]).await;
    let acct = moto().fresh_account();
    moto()
        .iam(&acct)
        .await
        .create_role()
        .role_name("capa-wl")
        .path("/teams/x/")
        .assume_role_policy_document(xacct_test_support::EC2_TRUST)
        .send()
        .await
        .unwrap();
    std::fs::create_dir_all(s.path("clusters")).unwrap();
    let spec = std::fs::read_to_string(s.path("xacct.yaml")).unwrap();
    let with = |role: &str| format!("{spec}  - name: wl\n    account: \"{acct}\"\n    role: {role}\n");
    std::fs::write(s.path("xacct.yaml"), with("capa-wl")).unwrap();
    let r = s.run(&["plan"]);
    r.assert_code(1);
    let out = format!("{}{}", r.stdout, r.stderr);
    assert!(out.contains(&format!("arn:aws:iam::{acct}:role/teams/x/capa-wl")), "{out}");
    assert!(out.contains("path: /teams/x/"), "{out}");

    // With the path the file is right, and every ARN xacct writes carries it.
    std::fs::write(s.path("xacct.yaml"), with("{ name: capa-wl, path: /teams/x/ }")).unwrap();
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let policy = moto().inline_policies(&s.mgmt, CAPA_ROLE).await.remove("xacct-assume-workload-roles").unwrap();
    assert!(policy.contains(&format!("arn:aws:iam::{acct}:role/teams/x/capa-wl")), "{policy}");
    s.run(&["verify"]).assert_code(0);
}
