//! Every security-relevant knob of the desired-state file, end to end on the emulator: applied by
//! the real binary, then read back from live IAM and the manifests and compared exactly —
//! principal, action, and each condition's operator, key and value — and judged by the binary's
//! own `verify` and `policy can-assume` on the live documents. Each test fails when the
//! protection it covers is taken out of the code.

mod common;

use std::collections::BTreeMap;

use common::{statements, Run, Scenario, CAPA_ROLE};
use serde_json::{json, Value};

fn parse(r: &Run) -> Value {
    serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n--- stderr\n{}", r.stdout, r.stderr))
}

fn rewrite_spec(s: &Scenario, edit: impl FnOnce(String) -> String) {
    let path = s.path("xacct.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let new = edit(text.clone());
    assert_ne!(new, text, "the edit changed nothing");
    std::fs::write(path, new).unwrap();
}

/// `arn:<partition>:iam::<account>:role/<CAPA_ROLE>`.
fn capa_arn(s: &Scenario, account: &str) -> String {
    format!("arn:{}:iam::{account}:role/{CAPA_ROLE}", s.partition)
}

fn trust_sid(s: &Scenario) -> String {
    format!("XacctTrust{}", s.mgmt)
}

/// The live trust policy of `account`'s CAPA role: its statements, and the one carrying xacct's
/// Sid (exactly one).
async fn live_trust(s: &Scenario, account: &str) -> (Vec<Value>, Value) {
    let text = s.moto().trust_of(account, CAPA_ROLE).await.expect("the workload role exists");
    let stmts = statements(&text);
    let ours: Vec<&Value> = stmts.iter().filter(|st| st["Sid"] == trust_sid(s)).collect();
    assert_eq!(ours.len(), 1, "exactly one statement with xacct's Sid: {text}");
    let ours = ours[0].clone();
    (stmts, ours)
}

/// The live inline policy xacct owns on the management role, parsed.
async fn live_assume_policy(s: &Scenario) -> Value {
    let policies = s.moto().inline_policies(&s.mgmt, CAPA_ROLE).await;
    let text = policies.get("xacct-assume-workload-roles").unwrap_or_else(|| panic!("no assume policy: {policies:?}"));
    serde_json::from_str(text).unwrap()
}

fn change<'a>(plan: &'a Value, address: &str) -> &'a Value {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("no change for {address} in\n{plan:#}"))
}

/// The top-level scalar entries of the `spec` of the `AWSClusterRoleIdentity` in a manifest,
/// unquoted (`roleARN`, `externalID`, …). Exactly one such document must be there.
fn identity_spec(manifest: &str) -> BTreeMap<String, String> {
    let docs: Vec<&str> =
        manifest.split("\n---\n").filter(|d| d.contains("\nkind: AWSClusterRoleIdentity\n")).collect();
    assert_eq!(docs.len(), 1, "one AWSClusterRoleIdentity:\n{manifest}");
    let mut out = BTreeMap::new();
    let mut in_spec = false;
    for line in docs[0].lines() {
        if !line.starts_with(' ') {
            in_spec = line == "spec:";
            continue;
        }
        let Some(entry) = line.strip_prefix("  ").filter(|e| in_spec && !e.starts_with(' ')) else { continue };
        if let Some((k, v)) = entry.split_once(": ") {
            out.insert(k.to_string(), v.trim_matches(|c| c == '"' || c == '\'').to_string());
        }
    }
    out
}

/// Write `doc` to `<dir>/<name>` (for `xacct policy can-assume`).
fn write(s: &Scenario, name: &str, doc: &str) {
    std::fs::write(s.path(name), doc).unwrap();
}

/// `xacct policy can-assume --json` in the scenario's directory: the exit code and the verdict.
fn can_assume(
    s: &Scenario,
    trust: &str,
    identity: &[&str],
    principal: &str,
    role: &str,
    extra: &[&str],
) -> (i32, Value) {
    let mut args = vec!["policy", "can-assume", "--json", "--trust", trust];
    for i in identity {
        args.extend(["--identity", i]);
    }
    args.extend(["--principal", principal, "--role-arn", role]);
    args.extend_from_slice(extra);
    let r = s.run(&args);
    assert!(r.code == 0 || r.code == 2, "can-assume failed: {r:?}");
    let v = parse(&r);
    assert_eq!(v["allowed"], r.code == 0, "exit code and verdict agree: {v:#}");
    (r.code, v)
}

/// An identity policy allowing `sts:AssumeRole` on everything: what an admin role in the
/// management account carries, so that only the trust policy can stop it.
const ASSUME_ANYTHING: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_root_trust_admits_the_management_role_and_no_other_principal_of_its_account() {
    let s = Scenario::new(&["dev"]).await;
    let dev = s.workloads[0].1.clone();
    rewrite_spec(&s, |t| t.replace("management:\n", "management:\n  trust_principal: account_root\n"));
    s.run(&["apply", "--auto-approve"]).assert_code(0);

    let mgmt_arn = capa_arn(&s, &s.mgmt);
    let (stmts, ours) = live_trust(&s, &dev).await;
    assert_eq!(stmts.len(), 2, "the prerequisites' statement and xacct's: {stmts:#?}");
    assert_eq!(
        ours,
        json!({
            "Sid": trust_sid(&s),
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{}:root", s.mgmt)},
            "Action": "sts:AssumeRole",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": mgmt_arn}},
        }),
        "the live statement"
    );

    // verify proves the chain on the live documents.
    let r = s.run(&["verify", "--json"]);
    r.assert_code(0);
    let v = parse(&r);
    assert_eq!(v["checks"][0]["principal"], mgmt_arn, "{v:#}");
    assert_eq!(v["checks"][0]["outcome"], "allowed", "{v:#}");

    // The policy engine on the live trust document: the management role may, another role of
    // the management account may not — even with an identity policy allowing it everything.
    let trust_text = s.moto().trust_of(&dev, CAPA_ROLE).await.unwrap();
    write(&s, "trust.json", &trust_text);
    write(&s, "assume.json", &live_assume_policy(&s).await.to_string());
    write(&s, "anything.json", ASSUME_ANYTHING);
    let dev_arn = capa_arn(&s, &dev);
    let (code, v) = can_assume(&s, "trust.json", &["assume.json"], &mgmt_arn, &dev_arn, &[]);
    assert_eq!(code, 0, "the management role is allowed: {v:#}");
    let (code, v) = can_assume(&s, "trust.json", &["anything.json"], &mgmt_arn, &dev_arn, &[]);
    assert_eq!(code, 0, "the management role is allowed: {v:#}");
    let intruder = format!("arn:aws:iam::{}:role/ci-runner", s.mgmt);
    let (code, v) = can_assume(&s, "trust.json", &["anything.json"], &intruder, &dev_arn, &[]);
    assert_eq!(code, 2, "another role of the management account is denied: {v:#}");
    assert_eq!(v["outcome"], "implicit_deny", "{v:#}");
    let user = format!("arn:aws:iam::{}:user/alice", s.mgmt);
    let (code, v) = can_assume(&s, "trust.json", &["anything.json"], &user, &dev_arn, &[]);
    assert_eq!(code, 2, "a user of the management account is denied: {v:#}");

    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_grant_is_exactly_the_role_name_wildcard_conditioned_on_the_org_id() {
    let s = Scenario::new(&["dev", "test"]).await;
    rewrite_spec(&s, |t| {
        t.replace("management:\n", "management:\n  assume_policy: { grant: { organization: o-a1b2c3d4e5 } }\n")
    });
    s.run(&["apply", "--auto-approve"]).assert_code(0);

    let doc = live_assume_policy(&s).await;
    assert_eq!(
        doc,
        json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "XacctAssumeWorkloadRoles",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": [format!("arn:aws:iam::*:role/{CAPA_ROLE}")],
            "Condition": {"StringEquals": {"aws:ResourceOrgID": "o-a1b2c3d4e5"}},
        }]}),
        "the live assume policy"
    );
    // The accounts are in no organization (the ID above is made up): nothing proves the grant
    // reaches them, so verify says so (tests/verify_org.rs proves it inside a real one).
    let r = s.run(&["verify"]);
    r.assert_code(2);
    assert_eq!(r.stdout.matches(": not proven\n").count(), 2, "{}", r.stdout);

    // The grant reaches roles of that organization only.
    let dev = s.workloads[0].1.clone();
    write(&s, "trust.json", &s.moto().trust_of(&dev, CAPA_ROLE).await.unwrap());
    write(&s, "assume.json", &doc.to_string());
    let (mgmt_arn, dev_arn) = (capa_arn(&s, &s.mgmt), capa_arn(&s, &dev));
    let in_org = ["--resource-org-id", "o-a1b2c3d4e5"];
    let (code, v) = can_assume(&s, "trust.json", &["assume.json"], &mgmt_arn, &dev_arn, &in_org);
    assert_eq!(code, 0, "a role of the organization: {v:#}");
    let elsewhere = ["--resource-org-id", "o-zz99zz99zz"];
    let (code, v) = can_assume(&s, "trust.json", &["assume.json"], &mgmt_arn, &dev_arn, &elsewhere);
    assert_eq!(code, 2, "a role of another organization: {v:#}");
    let (code, v) = can_assume(&s, "trust.json", &["assume.json"], &mgmt_arn, &dev_arn, &[]);
    assert_eq!(code, 2, "a role in no organization: {v:#}");
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_paths_grant_is_exactly_any_of_the_paths_with_a_trailing_wildcard() {
    let s = Scenario::new(&["dev"]).await;
    let paths = ["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/", "o-a1b2c3d4e5/r-ab12/ou-ab12-22222222/ou-ab12-33333333/"];
    rewrite_spec(&s, |t| {
        t.replace(
            "management:\n",
            &format!("management:\n  assume_policy: {{ grant: {{ org_paths: [{}, {}] }} }}\n", paths[0], paths[1]),
        )
    });
    s.run(&["apply", "--auto-approve"]).assert_code(0);

    let doc = live_assume_policy(&s).await;
    assert_eq!(
        doc,
        json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "XacctAssumeWorkloadRoles",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": [format!("arn:aws:iam::*:role/{CAPA_ROLE}")],
            "Condition": {"ForAnyValue:StringLike": {"aws:ResourceOrgPaths": [
                format!("{}*", paths[0]), format!("{}*", paths[1])
            ]}},
        }]}),
        "the live assume policy"
    );
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_id_is_the_trust_condition_and_the_identity_field_and_changes_both() {
    let s = Scenario::new(&["dev"]).await;
    let dev = s.workloads[0].1.clone();
    rewrite_spec(&s, |t| {
        t.replace(
            "    identity: { name: dev-account-role }",
            "    external_id: capa-dev-7f3a\n    identity: { name: dev-account-role }",
        )
    });
    s.run(&["apply", "--auto-approve"]).assert_code(0);

    let (mgmt_arn, dev_arn) = (capa_arn(&s, &s.mgmt), capa_arn(&s, &dev));
    let with_external_id = |x: &str| {
        json!({
            "Sid": trust_sid(&s),
            "Effect": "Allow",
            "Principal": {"AWS": mgmt_arn},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": x}},
        })
    };
    let (_, ours) = live_trust(&s, &dev).await;
    assert_eq!(ours, with_external_id("capa-dev-7f3a"), "the live statement");
    let manifest = std::fs::read_to_string(s.path("clusters/dev-1.yaml")).unwrap();
    let spec = identity_spec(&manifest);
    assert_eq!(spec.get("externalID").map(String::as_str), Some("capa-dev-7f3a"), "{manifest}");
    assert_eq!(spec.get("roleARN"), Some(&dev_arn), "{manifest}");
    s.run(&["verify"]).assert_code(0);

    // Only a caller sending that external ID gets in.
    write(&s, "trust.json", &s.moto().trust_of(&dev, CAPA_ROLE).await.unwrap());
    write(&s, "assume.json", &live_assume_policy(&s).await.to_string());
    let ask = |extra: &[&str]| can_assume(&s, "trust.json", &["assume.json"], &mgmt_arn, &dev_arn, extra);
    assert_eq!(ask(&["--external-id", "capa-dev-7f3a"]).0, 0);
    assert_eq!(ask(&[]).0, 2, "without the external ID");
    assert_eq!(ask(&["--external-id", "capa-dev-0000"]).0, 2, "with another external ID");

    // A new external ID in the file: one plan updates the trust condition and the identity.
    rewrite_spec(&s, |t| t.replace("external_id: capa-dev-7f3a", "external_id: capa-dev-8b2c"));
    let r = s.run(&["plan", "--json"]);
    r.assert_code(0);
    let plan = parse(&r);
    let trust = change(&plan, "trust.dev");
    assert_eq!(trust["actions"], json!(["update"]), "{trust:#}");
    assert_eq!(trust["before"], with_external_id("capa-dev-7f3a"), "{trust:#}");
    assert_eq!(trust["after"], with_external_id("capa-dev-8b2c"), "{trust:#}");
    let m = change(&plan, "manifest.dev[\"clusters/dev-1.yaml\"]");
    assert_eq!(m["actions"], json!(["update"]), "{m:#}");
    let diff = m["diff"].as_str().unwrap();
    assert!(
        diff.contains("-  externalID: capa-dev-7f3a\n") && diff.contains("+  externalID: capa-dev-8b2c\n"),
        "{diff}"
    );
    assert_eq!(change(&plan, "assume_policy.management")["actions"], json!(["no-op"]));
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let (_, ours) = live_trust(&s, &dev).await;
    assert_eq!(ours, with_external_id("capa-dev-8b2c"), "the live statement");
    let manifest = std::fs::read_to_string(s.path("clusters/dev-1.yaml")).unwrap();
    assert_eq!(identity_spec(&manifest).get("externalID").map(String::as_str), Some("capa-dev-8b2c"), "{manifest}");
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
}

/// Every `arn:…` in `t`.
fn arns_in_text(t: &str, out: &mut Vec<String>) {
    let mut rest = t;
    while let Some(i) = rest.find("arn:") {
        out.push(rest[i..].chars().take_while(|c| !c.is_whitespace() && !"\"'`,;)]}".contains(*c)).collect());
        rest = &rest[i + 4..];
    }
}

/// Every `arn:` in `v` (keys and strings, recursively), so that none escapes a partition check.
fn arns_in(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => arns_in_text(s, out),
        Value::Array(a) => a.iter().for_each(|x| arns_in(x, out)),
        Value::Object(o) => {
            for (k, x) in o {
                arns_in_text(k, out);
                arns_in(x, out);
            }
        }
        _ => {}
    }
}

/// Every ARN in `v` is in `partition`; there is at least one.
#[track_caller]
fn all_in_partition(v: &Value, partition: &str, what: &str) {
    let mut arns = Vec::new();
    arns_in(v, &mut arns);
    assert!(!arns.is_empty(), "{what}: no ARN at all");
    let prefix = format!("arn:{partition}:");
    let strays: Vec<&String> = arns.iter().filter(|a| !a.starts_with(&prefix)).collect();
    assert!(strays.is_empty(), "{what}: ARNs outside {partition}: {strays:?}\n{v:#}");
}

/// The whole story in `partition`: every ARN xacct builds (both trust principal forms, the
/// assume policy's resources for both grants, the identity's `roleARN`) uses it, in the plan,
/// the saved plan, the state, the live documents and the manifest.
async fn every_arn_in(partition: &str) {
    let s = Scenario::in_partition(partition, &["dev"]).await;
    let dev = s.workloads[0].1.clone();
    let (mgmt_arn, dev_arn) = (capa_arn(&s, &s.mgmt), capa_arn(&s, &dev));
    let trust_before = s.moto().trust_of(&dev, CAPA_ROLE).await.unwrap();
    let manifest_before = std::fs::read(s.path("clusters/dev-1.yaml")).unwrap();
    const M_DEV: &str = "manifest.dev[\"clusters/dev-1.yaml\"]";

    // Default forms: the role ARN as principal, the role ARNs as resources.
    let role_arn_stmt =
        json!({"Sid": trust_sid(&s), "Effect": "Allow", "Principal": {"AWS": mgmt_arn}, "Action": "sts:AssumeRole"});
    let role_arns_doc = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "XacctAssumeWorkloadRoles", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": [dev_arn]}
    ]});
    for args in [&["plan", "--json"][..], &["plan", "--json", "--refresh=false"]] {
        let r = s.run(args);
        r.assert_code(0);
        let plan = parse(&r);
        assert_eq!(change(&plan, "trust.dev")["after"], role_arn_stmt, "{args:?}");
        assert_eq!(change(&plan, "assume_policy.management")["after"], role_arns_doc, "{args:?}");
        assert_eq!(change(&plan, M_DEV)["after"]["role_arn"], dev_arn, "{args:?}");
        all_in_partition(&plan, partition, &format!("{args:?}"));
    }
    let r = s.run(&["plan", "-o", "first.plan"]);
    r.assert_code(0);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(s.path("first.plan")).unwrap()).unwrap();
    all_in_partition(&saved, partition, "the saved plan (live and written documents included)");
    s.run(&["apply", "first.plan"]).assert_code(0);

    let (_, ours) = live_trust(&s, &dev).await;
    assert_eq!(ours, role_arn_stmt, "the live trust statement");
    assert_eq!(live_assume_policy(&s).await, role_arns_doc, "the live assume policy");
    let manifest = std::fs::read_to_string(s.path("clusters/dev-1.yaml")).unwrap();
    assert_eq!(identity_spec(&manifest).get("roleARN"), Some(&dev_arn), "{manifest}");
    let r = s.run(&["verify", "--json"]);
    r.assert_code(0);
    all_in_partition(&parse(&r), partition, "verify");
    let state: Value = serde_json::from_str(&s.run(&["state", "pull"]).stdout).unwrap();
    all_in_partition(&state, partition, "the state");
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);

    // The other forms: the account root with the ARN condition, the organization grant.
    rewrite_spec(&s, |t| {
        t.replace(
            "management:\n",
            "management:\n  trust_principal: account_root\n  assume_policy: { grant: { organization: o-a1b2c3d4e5 } }\n",
        )
    });
    let root_stmt = json!({
        "Sid": trust_sid(&s), "Effect": "Allow",
        "Principal": {"AWS": format!("arn:{partition}:iam::{}:root", s.mgmt)},
        "Action": "sts:AssumeRole",
        "Condition": {"ArnEquals": {"aws:PrincipalArn": mgmt_arn}},
    });
    let org_doc = json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "XacctAssumeWorkloadRoles", "Effect": "Allow", "Action": "sts:AssumeRole",
        "Resource": [format!("arn:{partition}:iam::*:role/{CAPA_ROLE}")],
        "Condition": {"StringEquals": {"aws:ResourceOrgID": "o-a1b2c3d4e5"}},
    }]});
    for args in [&["plan", "--json"][..], &["plan", "--json", "--refresh=false"]] {
        let r = s.run(args);
        r.assert_code(0);
        let plan = parse(&r);
        assert_eq!(change(&plan, "trust.dev")["after"], root_stmt, "{args:?}");
        assert_eq!(change(&plan, "assume_policy.management")["after"], org_doc, "{args:?}");
        all_in_partition(&plan, partition, &format!("{args:?}"));
    }
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let (_, ours) = live_trust(&s, &dev).await;
    assert_eq!(ours, root_stmt, "the live trust statement");
    assert_eq!(live_assume_policy(&s).await, org_doc, "the live assume policy");
    let state: Value = serde_json::from_str(&s.run(&["state", "pull"]).stdout).unwrap();
    all_in_partition(&state, partition, "the state");
    // (`verify` on the root form in each partition: `an_account_root_trust_is_judged_allowed_in_*`.)
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    s.run(&["drift"]).assert_code(0);

    // And back out of the partition's IAM store, byte for byte.
    s.run(&["destroy", "--auto-approve"]).assert_code(0);
    assert_eq!(s.moto().trust_of(&dev, CAPA_ROLE).await.unwrap(), trust_before);
    assert!(s.moto().inline_policies(&s.mgmt, CAPA_ROLE).await.is_empty());
    assert_eq!(std::fs::read(s.path("clusters/dev-1.yaml")).unwrap(), manifest_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_arn_xacct_builds_is_in_the_china_partition() {
    every_arn_in("aws-cn").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_arn_xacct_builds_is_in_the_govcloud_partition() {
    every_arn_in("aws-us-gov").await;
}

/// `verify` and `policy can-assume` judge an `account_root` trust in `partition` as real IAM
/// does: the management role gets in, another role of its account does not.
async fn account_root_is_judged_in(partition: &str) {
    let s = Scenario::in_partition(partition, &["dev"]).await;
    let dev = s.workloads[0].1.clone();
    rewrite_spec(&s, |t| t.replace("management:\n", "management:\n  trust_principal: account_root\n"));
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let (mgmt_arn, dev_arn) = (capa_arn(&s, &s.mgmt), capa_arn(&s, &dev));
    let r = s.run(&["verify", "--json"]);
    let v = parse(&r);
    assert_eq!(
        v["checks"][0]["outcome"], "allowed",
        "the trust names `arn:{partition}:iam::{}:root` with `ArnEquals aws:PrincipalArn {mgmt_arn}`: {v:#}",
        s.mgmt
    );
    r.assert_code(0);
    write(&s, "trust.json", &s.moto().trust_of(&dev, CAPA_ROLE).await.unwrap());
    write(&s, "anything.json", &ASSUME_ANYTHING.replace("\"*\"", &format!("\"arn:{partition}:iam::*:role/*\"")));
    let (code, v) = can_assume(&s, "trust.json", &["anything.json"], &mgmt_arn, &dev_arn, &[]);
    assert_eq!(code, 0, "the management role is allowed: {v:#}");
    let intruder = format!("arn:{partition}:iam::{}:role/ci-runner", s.mgmt);
    let (code, v) = can_assume(&s, "trust.json", &["anything.json"], &intruder, &dev_arn, &[]);
    assert_eq!(code, 2, "another role of the management account is denied: {v:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_root_trust_is_judged_allowed_in_the_china_partition() {
    account_root_is_judged_in("aws-cn").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_root_trust_is_judged_allowed_in_the_govcloud_partition() {
    account_root_is_judged_in("aws-us-gov").await;
}

/// A trust statement written by hand with the management account's bare ID, equivalent to the
/// `account_root` statement xacct wants in `aws-cn`: adopted, and never planned again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_written_bare_account_trust_in_the_china_partition_is_adopted_without_a_perpetual_diff() {
    let s = Scenario::in_partition("aws-cn", &["dev", "test"]).await;
    let (dev, test) = (s.workloads[0].1.clone(), s.workloads[1].1.clone());
    rewrite_spec(&s, |t| t.replace("management:\n", "management:\n  trust_principal: account_root\n"));
    let mgmt_arn = capa_arn(&s, &s.mgmt);
    assert!(mgmt_arn.starts_with("arn:aws-cn:iam::"), "{mgmt_arn}");
    // What an operator following the runbook by hand writes: the account ID, not its root ARN.
    let by_hand = |sid: Option<String>| {
        let mut st = json!({
            "Effect": "Allow",
            "Principal": {"AWS": s.mgmt.clone()},
            "Action": "sts:AssumeRole",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": mgmt_arn.clone()}},
        });
        if let Some(sid) = sid {
            st["Sid"] = json!(sid);
        }
        st
    };
    let ec2 = json!({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"});
    // dev: under xacct's Sid; test: without a Sid.
    for (account, stmt) in [(&dev, by_hand(Some(trust_sid(&s)))), (&test, by_hand(None))] {
        let doc = json!({"Version": "2012-10-17", "Statement": [ec2.clone(), stmt]}).to_string();
        s.moto().put_trust(account, CAPA_ROLE, &doc).await;
    }
    let before_dev = s.moto().trust_of(&dev, CAPA_ROLE).await.unwrap();
    let before_test = s.moto().trust_of(&test, CAPA_ROLE).await.unwrap();
    assert!(before_dev.contains(&format!("\"AWS\":\"{}\"", s.mgmt)), "the bare ID is stored as written: {before_dev}");

    let r = s.run(&["plan", "--json"]);
    r.assert_code(0);
    let plan = parse(&r);
    for addr in ["trust.dev", "trust.test"] {
        assert_eq!(change(&plan, addr)["actions"], json!(["adopt"]), "{addr}: {:#}", change(&plan, addr));
    }
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    assert_eq!(s.moto().trust_of(&dev, CAPA_ROLE).await.unwrap(), before_dev, "adopting writes nothing");
    assert_eq!(s.moto().trust_of(&test, CAPA_ROLE).await.unwrap(), before_test, "adopting writes nothing");

    // The second plan: nothing to do, not an update of the statement to its root ARN form.
    let r = s.run(&["plan", "--json"]);
    r.assert_code(0);
    let plan = parse(&r);
    for c in plan["changes"].as_array().unwrap() {
        assert!(c["actions"] == json!(["no-op"]) || c["actions"] == json!(["adopt"]), "{}: {:#}", c["address"], c);
    }
    for addr in ["trust.dev", "trust.test"] {
        assert_eq!(change(&plan, addr)["actions"], json!(["no-op"]), "{addr}: {:#}", change(&plan, addr));
    }
    s.run(&["plan", "--detailed-exitcode"]).assert_code(0);
    s.run(&["drift"]).assert_code(0);
    // And the hand-written trust is judged as IAM would: the management role gets in.
    let r = s.run(&["verify", "--json"]);
    let v = parse(&r);
    for check in v["checks"].as_array().unwrap() {
        assert_eq!(check["outcome"], "allowed", "{v:#}");
    }
    r.assert_code(0);
}

/// A partition xacct learnt from the SDK's endpoint data, on the emulator too (moto files
/// `us-iso-east-1` under `aws-iso`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_arn_xacct_builds_is_in_the_iso_partition() {
    every_arn_in("aws-iso").await;
}
