//! `verify` proves the `organization` and `org_paths` grants on the emulator with the workload
//! accounts' real organization and OU path (moto's Organizations: CreateAccount, MoveAccount),
//! instead of assuming them: allowed inside, denied once an account is moved out of the path or
//! is in another organization, and "not proven" (exit 2, never 0) when Organizations cannot be
//! read. `policy can-assume` takes the same keys.

mod common;

use std::collections::BTreeMap;

use common::{Run, Scenario, CAPA_ROLE};
use serde_json::Value;
use xacct_test_support::org::Org;
use xacct_test_support::{moto, FaultConfig, FaultProxy, EC2_TRUST};

fn parse(r: &Run) -> Value {
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", r.stdout, r.stderr))
}

/// `(workload, outcome)` of every check.
fn outcomes(v: &Value) -> Vec<(String, String)> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["workload"].as_str().unwrap().to_string(), c["outcome"].as_str().unwrap().to_string()))
        .collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

fn check<'v>(v: &'v Value, workload: &str) -> &'v Value {
    v["checks"].as_array().unwrap().iter().find(|c| c["workload"] == workload).unwrap()
}

/// Organizations requests the proxy saw, by operation.
fn org_operations(proxy: &FaultProxy) -> BTreeMap<String, u64> {
    proxy
        .operations()
        .into_iter()
        .filter_map(|(op, n)| op.strip_prefix("organizations:AWSOrganizationsV20161128.").map(|o| (o.to_string(), n)))
        .collect()
}

/// The desired-state file: the organization's management account (its CAPA role the management
/// role) granting by `grant`, and the workloads `(name, account)`.
fn write_spec(s: &Scenario, management: &str, grant: &str, workloads: &[(&str, &str)]) {
    let mut yaml = format!(
        "version: 1\ndefaults:\n  access: {{ assume_role: {{ role_name: OrganizationAccountAccessRole }} }}\nmanagement:\n  account: \"{management}\"\n  access: {{ assume_role: {{ role_name: OrganizationAccountAccessRole }} }}\n  assume_policy: {{ grant: {grant} }}\nworkloads:\n"
    );
    for (name, account) in workloads {
        yaml.push_str(&format!("  - name: {name}\n    account: \"{account}\"\n"));
    }
    std::fs::write(s.path("xacct.yaml"), yaml).unwrap();
}

/// ```text
/// root ─┬─ workloads ─┬─ team: dev
///       │             └─ test
///       └─ other
/// ```
/// The accounts are CreateAccount accounts of the organization, each with the CAPA role.
struct Layout {
    org: Org,
    workloads: String,
    other: String,
    dev: String,
    test: String,
}

async fn layout() -> Layout {
    let org = Org::create(moto()).await;
    moto().create_role(&org.management, CAPA_ROLE, EC2_TRUST).await;
    let workloads = org.create_ou(&org.root, "workloads").await;
    let team = org.create_ou(&workloads, "team").await;
    let other = org.create_ou(&org.root, "other").await;
    let dev = org.create_account("Dev", &team, &[]).await;
    let test = org.create_account("Test", &workloads, &[]).await;
    for account in [&dev, &test] {
        moto().create_role(account, CAPA_ROLE, EC2_TRUST).await;
    }
    Layout { org, workloads, other, dev, test }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn org_paths_grant_is_proven_inside_the_path_and_denied_once_an_account_moves_out() {
    let l = layout().await;
    let s = Scenario::new(&[]).await;
    let path = format!("{}/{}/{}/", l.org.id, l.org.root, l.workloads);
    write_spec(&s, &l.org.management, &format!("{{ org_paths: [\"{path}\"] }}"), &[("dev", &l.dev), ("test", &l.test)]);
    s.run(&["apply", "--auto-approve"]).assert_code(0);

    let proxy = FaultProxy::start(moto().endpoint_url(), FaultConfig::none()).await.unwrap();
    let r = s.run_with(&["verify", "--json"], &[("AWS_ENDPOINT_URL", proxy.url())]);
    r.assert_code(0);
    let v = parse(&r);
    assert_eq!(outcomes(&v), pairs(&[("dev", "allowed"), ("test", "allowed")]), "{v:#}");
    assert_eq!(check(&v, "dev")["notes"], serde_json::json!([]), "exact: nothing approximated: {v:#}");
    // One DescribeOrganization; ListParents for each account, then `team` and `workloads` once.
    let ops = org_operations(&proxy);
    assert_eq!(ops, BTreeMap::from([("DescribeOrganization".into(), 1), ("ListParents".into(), 4)]), "{ops:?}");
    assert_eq!(v["organizations_calls"], 5, "{v:#}");
    // IAM and STS (the sts:AssumeRole into the reader role included) apart: every call counted once.
    let total = v["aws_calls"].as_u64().unwrap() + v["organizations_calls"].as_u64().unwrap();
    assert_eq!(total, proxy.requests(), "{v:#}");

    // `test` moves to an OU outside the path: denied by that condition; `dev` still allowed.
    // (ListParents: test → other → root, then dev → team → workloads → root.)
    l.org.move_account(&l.test, &l.other).await;
    let r = s.run(&["verify"]);
    r.assert_code(2);
    assert!(
        r.stdout.contains(&format!("ok   dev: arn:aws:iam::{}:role/{CAPA_ROLE}", l.org.management)),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!(
            "FAIL test: arn:aws:iam::{}:role/{CAPA_ROLE} -> arn:aws:iam::{}:role/{CAPA_ROLE}: implicit deny",
            l.org.management, l.test
        )),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "Verified 2 trust chains: 1 allowed, 1 not; 0 findings. (8 AWS calls and 6 AWS Organizations calls)"
        ),
        "{}",
        r.stdout
    );
    let v = parse(&s.run(&["verify", "--json"]));
    assert_eq!(
        check(&v, "test")["notes"][0],
        format!(
            "cross-account: no identity policy of `arn:aws:iam::{}:role/{CAPA_ROLE}` allows `sts:AssumeRole` on `arn:aws:iam::{}:role/{CAPA_ROLE}`",
            l.org.management, l.test
        ),
        "{v:#}"
    );

    // An account of another organization: its paths start with that organization's ID, so the
    // grant's pattern cannot match them.
    let other_org = Org::create(moto()).await;
    moto().create_role(&other_org.management, CAPA_ROLE, EC2_TRUST).await;
    write_spec(
        &s,
        &l.org.management,
        &format!("{{ org_paths: [\"{path}\"] }}"),
        &[("dev", &l.dev), ("elsewhere", &other_org.management)],
    );
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let r = s.run(&["verify", "--json"]);
    r.assert_code(2);
    let v = parse(&r);
    assert_eq!(outcomes(&v), pairs(&[("dev", "allowed"), ("elsewhere", "implicit_deny")]), "{v:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_grant_is_proven_for_its_accounts_and_denied_in_another_organization() {
    let l = layout().await;
    let s = Scenario::new(&[]).await;
    let other_org = Org::create(moto()).await;
    moto().create_role(&other_org.management, CAPA_ROLE, EC2_TRUST).await;
    // An account in no organization at all.
    let nowhere = moto().fresh_account();
    moto().create_role(&nowhere, CAPA_ROLE, EC2_TRUST).await;
    l.org.move_account(&l.test, &l.other).await;
    write_spec(
        &s,
        &l.org.management,
        &format!("{{ organization: {} }}", l.org.id),
        &[("dev", &l.dev), ("test", &l.test), ("elsewhere", &other_org.management), ("nowhere", &nowhere)],
    );
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let proxy = FaultProxy::start(moto().endpoint_url(), FaultConfig::none()).await.unwrap();
    let r = s.run_with(&["verify", "--json"], &[("AWS_ENDPOINT_URL", proxy.url())]);
    r.assert_code(2);
    let v = parse(&r);
    assert_eq!(
        outcomes(&v),
        pairs(&[("dev", "allowed"), ("test", "allowed"), ("elsewhere", "implicit_deny"), ("nowhere", "implicit_deny")]),
        "{v:#}"
    );
    // The two accounts outside were asked themselves (DescribeOrganization as each).
    let ops = org_operations(&proxy);
    assert_eq!(ops["DescribeOrganization"], 3, "{ops:?}");
    assert_eq!(v["organizations_calls"].as_u64(), Some(ops.values().sum::<u64>()), "{v:#}");
    let total = v["aws_calls"].as_u64().unwrap() + v["organizations_calls"].as_u64().unwrap();
    assert_eq!(total, proxy.requests(), "every call counted once: {v:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovered_workloads_are_placed_by_discovery_without_another_call() {
    let l = layout().await;
    let s = Scenario::new(&[]).await;
    let yaml = format!(
        "version: 1\ndefaults:\n  access: {{ assume_role: {{ role_name: OrganizationAccountAccessRole }} }}\nmanagement:\n  account: \"{}\"\n  access: {{ assume_role: {{ role_name: OrganizationAccountAccessRole }} }}\n  assume_policy: {{ grant: {{ org_paths: [\"{}/{}/{}/\"] }} }}\norganization:\n  access: {{ assume_role: {{ role_name: OrganizationAccountAccessRole }} }}\n  workloads:\n    - ou: {}\n",
        l.org.management, l.org.id, l.org.root, l.workloads, l.workloads
    );
    std::fs::write(s.path("xacct.yaml"), yaml).unwrap();
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let proxy = FaultProxy::start(moto().endpoint_url(), FaultConfig::none()).await.unwrap();
    let r = s.run_with(&["verify", "--json"], &[("AWS_ENDPOINT_URL", proxy.url())]);
    r.assert_code(0);
    let v = parse(&r);
    let mut got = outcomes(&v);
    got.sort();
    assert_eq!(got, pairs(&[("dev", "allowed"), ("test", "allowed")]), "{v:#}");
    // Discovery's calls only (DescribeOrganization, ListParents of the selected OU, then one
    // ListAccountsForParent and one ListOrganizationalUnitsForParent per OU below it): no
    // ListParents per account.
    let ops = org_operations(&proxy);
    assert_eq!(
        ops,
        BTreeMap::from([
            ("DescribeOrganization".into(), 1),
            ("ListAccountsForParent".into(), 2),
            ("ListOrganizationalUnitsForParent".into(), 2),
            ("ListParents".into(), 1),
        ]),
        "{ops:?}"
    );
    assert_eq!(v["organizations_calls"], 6, "{v:#}");

    // Moved out of the selected OU: no longer a workload, so no longer verified.
    l.org.move_account(&l.test, &l.other).await;
    let v = parse(s.run(&["verify", "--json"]).assert_code(0));
    assert_eq!(outcomes(&v), pairs(&[("dev", "allowed")]), "{v:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_organizations_every_org_chain_is_not_proven_and_verify_exits_2() {
    // The management account is in no organization (moto answers DescribeOrganization with
    // AWSOrganizationsNotInUseException).
    let s = Scenario::new(&["dev", "test"]).await;
    let text = std::fs::read_to_string(s.path("xacct.yaml")).unwrap();
    let grant = "management:\n  assume_policy: { grant: { org_paths: [o-a1b2c3d4e5/r-ab12/] } }\n";
    std::fs::write(s.path("xacct.yaml"), text.replace("management:\n", grant)).unwrap();
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let r = s.run(&["verify", "--json"]);
    r.assert_code(2);
    let v = parse(&r);
    assert_eq!(outcomes(&v), pairs(&[("dev", "not_proven"), ("test", "not_proven")]), "{v:#}");
    assert_eq!(v["errors"], serde_json::json!([]), "not an IAM read error (exit 1): {v:#}");
    let note = check(&v, "dev")["notes"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|n| n.as_str().filter(|n| n.starts_with("not proven:")))
        .unwrap()
        .to_string();
    assert!(
        note.contains(
            "`xacct-assume-workload-roles` statement 0 (Sid `XacctAssumeWorkloadRoles`) is an Allow that may apply"
        ),
        "{note}"
    );
    assert!(note.contains("`aws:ResourceOrgPaths` is not known (AWS Organizations could not be read: the account xacct reads Organizations as"), "{note}");
    assert!(note.contains("is not in an organization"), "{note}");
    let r = s.run(&["verify"]);
    r.assert_code(2);
    assert!(r.stdout.contains("FAIL dev: ") && r.stdout.contains(": not proven\n"), "{}", r.stdout);

    // With the role ARNs grant Organizations is never read.
    std::fs::write(s.path("xacct.yaml"), text).unwrap();
    s.run(&["apply", "--auto-approve"]).assert_code(0);
    let v = parse(s.run(&["verify", "--json"]).assert_code(0));
    assert_eq!(v["organizations_calls"], 0, "{v:#}");
}

#[test]
fn can_assume_takes_the_org_paths_and_keeps_them_consistent_with_the_org_id() {
    let dir = tempfile::tempdir().unwrap();
    let role = format!("arn:aws:iam::*:role/{CAPA_ROLE}");
    std::fs::write(
        dir.path().join("trust.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/capa"},"Action":"sts:AssumeRole"}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("assume.json"),
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{role}","Condition":{{"ForAnyValue:StringLike":{{"aws:ResourceOrgPaths":"o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"}}}}}}]}}"#
        ),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "policy",
            "can-assume",
            "--trust",
            "trust.json",
            "--identity",
            "assume.json",
            "--principal",
            "arn:aws:iam::111111111111:role/capa",
            "--role-arn",
            "arn:aws:iam::222222222222:role/control-plane.cluster-api-provider-aws.sigs.k8s.io",
        ];
        args.extend_from_slice(extra);
        common::xacct_in(dir.path(), &args, &[])
    };
    let inside = ["--resource-org-paths", "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/ou-ab12-22222222/"];
    run(&inside).assert_code(0);
    // Repeatable: any of the paths.
    run(&[
        "--resource-org-paths",
        "o-a1b2c3d4e5/r-ab12/",
        "--resource-org-paths",
        "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/",
    ])
    .assert_code(0);
    let r = run(&["--resource-org-paths", "o-a1b2c3d4e5/r-ab12/ou-ab12-99999999/", "--json"]);
    r.assert_code(2);
    assert_eq!(parse(&r)["outcome"], "implicit_deny");
    // The ID alone: the paths exist but are not given.
    let r = run(&["--resource-org-id", "o-a1b2c3d4e5", "--json"]);
    r.assert_code(2);
    let v = parse(&r);
    assert_eq!(v["outcome"], "not_proven", "{v:#}");
    assert!(
        v["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains(
            "`aws:ResourceOrgPaths` is not known (--resource-org-id was given without --resource-org-paths)"
        )),
        "{v:#}"
    );
    let r = run(&["--resource-org-id", "o-a1b2c3d4e5"]);
    assert!(
        r.stdout.starts_with("not proven: arn:aws:iam::111111111111:role/capa may or may not assume"),
        "{}",
        r.stdout
    );
    // The ID of another organization: the paths cannot match, whatever they are.
    run(&["--resource-org-id", "o-zzzzzzzzzz"]).assert_code(2);
    // Inconsistent or malformed input is an error (exit 1) that says what was expected.
    let r = run(&["--resource-org-id", "o-zzzzzzzzzz", "--resource-org-paths", inside[1]]);
    r.assert_code(1);
    assert!(
        r.stderr.contains(
            "--resource-org-id `o-zzzzzzzzzz` and --resource-org-paths `o-a1b2c3d4e5/…` name different organizations"
        ),
        "{}",
        r.stderr
    );
    let r = run(&["--resource-org-paths", "o-a1b2c3d4e5/ou-ab12-11111111"]);
    r.assert_code(1);
    assert!(
        r.stderr.contains("--resource-org-paths `o-a1b2c3d4e5/ou-ab12-11111111` is not an organization path"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("e.g. o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"), "{}", r.stderr);
    let r = run(&["--resource-org-paths", "o-a1b2c3d4e5/r-ab12/", "--resource-org-paths", "o-zzzzzzzzzz/r-zz12/"]);
    r.assert_code(1);
    assert!(r.stderr.contains("name 2 organizations (`o-a1b2c3d4e5`, `o-zzzzzzzzzz`)"), "{}", r.stderr);
}
