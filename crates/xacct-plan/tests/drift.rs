//! `drift::detect`: live IAM and manifests against stored state only. What the file wants now
//! (a new workload, a changed identity) is not drift.

mod common;

use std::sync::Arc;

use common::*;
use serde_json::{json, Value};
use xacct_plan::drift::{detect, DriftReport};
use xacct_plan::memory::MemoryCloud;
use xacct_plan::{Action, Cloud, DriftKind};
use xacct_spec::Address;

const DEV_MANIFEST: &str = "clusters/dev-1.yaml";

/// `dev` (account 0, one manifest) and `test` (account 1), planned and applied.
async fn applied() -> World {
    let mut w =
        World::new(spec_text(&[workload("dev", &account(0), &[DEV_MANIFEST]), workload("test", &account(1), &[])], ""));
    w.cloud.add_role(&account(0), ROLE, EC2_TRUST);
    w.cloud.add_role(&account(1), ROLE, EC2_TRUST);
    w.write_file(DEV_MANIFEST, MANIFEST);
    w.converge().await;
    w
}

async fn run(w: &World) -> DriftReport {
    detect(w.dir.path(), w.state(), w.cloud.clone(), 10, &()).await
}

fn with_statements(stmts: Vec<Value>) -> String {
    json!({"Version": "2012-10-17", "Statement": stmts}).to_string()
}

fn ec2() -> Value {
    statements(EC2_TRUST).remove(0)
}

#[tokio::test]
async fn in_sync_is_empty() {
    let w = applied().await;
    w.cloud.reset_calls();
    let r = run(&w).await;
    assert!(r.in_sync(), "{:#?}", r.drift);
    assert!(!r.has_errors(), "{:#?}", r.diagnostics);
    assert!(r.diagnostics.is_empty(), "{:#?}", r.diagnostics);
    assert_eq!(r.checked, 4, "two trust statements, the assume policy, one manifest");
    assert_eq!(r.aws_calls, 2 + 1, "GetRole per workload role in state, GetRolePolicy for the assume policy");
    assert_eq!(r.lineage.as_deref(), Some(w.state.lineage.as_str()));
}

#[tokio::test]
async fn empty_state_is_in_sync_and_reads_nothing() {
    let w = World::new(spec_text(&[workload("dev", &account(0), &[])], ""));
    w.cloud.reset_calls();
    let r = detect(w.dir.path(), None, w.cloud.clone(), 10, &()).await;
    assert!(r.in_sync());
    assert_eq!(r.checked, 0);
    assert_eq!(w.cloud.call_count(), 0);
}

#[tokio::test]
async fn modified_trust_is_drift() {
    let w = applied().await;
    let mut edited = our_statement();
    edited["Action"] = json!(["sts:AssumeRole", "sts:TagSession"]);
    w.cloud.set_trust(&account(1), ROLE, &with_statements(vec![ec2(), edited.clone()]));

    let r = run(&w).await;
    assert_eq!(r.drift.len(), 1, "{:#?}", r.drift);
    let d = &r.drift[0];
    assert_eq!(d.address, Address::Trust("test".into()));
    assert_eq!(d.kind, DriftKind::Modified);
    assert_eq!(d.stored, our_statement());
    assert_eq!(d.live, edited);
}

#[tokio::test]
async fn equivalent_respelling_of_trust_is_not_drift() {
    let w = applied().await;
    let mut same = our_statement();
    same["Action"] = json!(["sts:AssumeRole"]);
    same["Principal"] = json!({"AWS": [role_arn(MGMT)]});
    w.cloud.set_trust(&account(1), ROLE, &with_statements(vec![same, ec2()]));
    let r = run(&w).await;
    assert!(r.in_sync(), "{:#?}", r.drift);
}

#[tokio::test]
async fn foreign_trust_changes_are_not_drift() {
    let w = applied().await;
    let foreign = json!({"Sid": "Other", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444444444444:root"}, "Action": "sts:AssumeRole"});
    w.cloud.set_trust(&account(1), ROLE, &with_statements(vec![foreign, our_statement()]));
    let r = run(&w).await;
    assert!(r.in_sync(), "{:#?}", r.drift);
}

#[tokio::test]
async fn deleted_trust_statement_is_drift() {
    let w = applied().await;
    w.cloud.set_trust(&account(0), ROLE, EC2_TRUST);
    let r = run(&w).await;
    assert_eq!(r.drift.len(), 1, "{:#?}", r.drift);
    assert_eq!(r.drift[0].address, Address::Trust("dev".into()));
    assert_eq!(r.drift[0].kind, DriftKind::Deleted);
    assert_eq!(r.drift[0].live, Value::Null);
}

#[tokio::test]
async fn unique_id_principal_is_drift() {
    let w = applied().await;
    let mut broken = our_statement();
    broken["Principal"] = json!({"AWS": "AROA5EXAMPLEUNIQUEID1"});
    w.cloud.set_trust(&account(0), ROLE, &with_statements(vec![ec2(), broken]));
    let r = run(&w).await;
    assert_eq!(r.drift.len(), 1, "{:#?}", r.drift);
    assert_eq!(r.drift[0].kind, DriftKind::UniqueIdPrincipal);
}

#[tokio::test]
async fn deleted_role_is_drift() {
    let w = applied().await;
    // The same world without `test`'s role.
    let cloud = Arc::new(MemoryCloud::new());
    cloud.add_role(MGMT, ROLE, EC2_TRUST);
    cloud.add_role(&account(0), ROLE, &w.cloud.trust(&account(0), ROLE).unwrap());
    cloud.set_policy(MGMT, ROLE, POLICY, w.cloud.policy(MGMT, ROLE, POLICY).as_deref());
    let r = detect(w.dir.path(), w.state(), cloud, 10, &()).await;
    assert_eq!(r.drift.len(), 1, "{:#?}", r.drift);
    assert_eq!(r.drift[0].address, Address::Trust("test".into()));
    assert_eq!(r.drift[0].kind, DriftKind::RoleMissing);
}

#[tokio::test]
async fn deleted_assume_policy_is_drift() {
    let w = applied().await;
    let stored = w.cloud.policy(MGMT, ROLE, POLICY).unwrap();
    w.cloud.set_policy(MGMT, ROLE, POLICY, None);
    let r = run(&w).await;
    assert_eq!(r.drift.len(), 1, "{:#?}", r.drift);
    let d = &r.drift[0];
    assert_eq!(d.address, Address::AssumePolicy);
    assert_eq!(d.kind, DriftKind::Deleted);
    assert_eq!(d.stored, serde_json::from_str::<Value>(&stored).unwrap());
    assert_eq!(d.live, Value::Null);
}

#[tokio::test]
async fn modified_assume_policy_is_drift() {
    let w = applied().await;
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Sid": "XacctAssumeWorkloadRoles", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]});
    w.cloud.set_policy(MGMT, ROLE, POLICY, Some(&doc.to_string()));
    let r = run(&w).await;
    assert_eq!(r.drift.len(), 1, "{:#?}", r.drift);
    assert_eq!(r.drift[0].kind, DriftKind::Modified);
    assert_eq!(r.drift[0].live, doc);
}

#[tokio::test]
async fn edited_manifest_is_drift() {
    let w = applied().await;
    let text = w.read_file(DEV_MANIFEST).replace("region: us-west-2", "region: eu-west-1");
    w.write_file(DEV_MANIFEST, &text);
    let r = run(&w).await;
    assert_eq!(r.drift.len(), 1, "{:#?}", r.drift);
    assert_eq!(r.drift[0].address.to_string(), manifest_addr("dev", DEV_MANIFEST));
    assert_eq!(r.drift[0].kind, DriftKind::Modified);
    assert_eq!(r.drift[0].live, json!({ "sha256": xacct_plan::sha256(text.as_bytes()) }));
}

#[tokio::test]
async fn deleted_manifest_is_drift() {
    let w = applied().await;
    std::fs::remove_file(w.path(DEV_MANIFEST)).unwrap();
    let r = run(&w).await;
    assert_eq!(r.drift.len(), 1, "{:#?}", r.drift);
    assert_eq!(r.drift[0].kind, DriftKind::Deleted);
}

#[tokio::test]
async fn several_drifts_are_reported_in_address_order() {
    let w = applied().await;
    w.cloud.set_trust(&account(1), ROLE, EC2_TRUST);
    w.cloud.set_trust(&account(0), ROLE, EC2_TRUST);
    w.cloud.set_policy(MGMT, ROLE, POLICY, None);
    std::fs::write(w.path(DEV_MANIFEST), MANIFEST).unwrap();
    let r = run(&w).await;
    let addrs: Vec<String> = r.drift.iter().map(|d| d.address.to_string()).collect();
    assert_eq!(
        addrs,
        ["trust.dev", "trust.test", "assume_policy.management", manifest_addr("dev", DEV_MANIFEST).as_str()]
    );
}

#[tokio::test]
async fn new_workload_in_the_file_is_not_drift() {
    let mut w = applied().await;
    w.cloud.add_role(&account(2), ROLE, EC2_TRUST);
    w.set_spec(spec_text(
        &[
            workload("dev", &account(0), &[DEV_MANIFEST]),
            workload("test", &account(1), &[]),
            workload("prod", &account(2), &[]),
        ],
        "",
    ));
    // The plan has work to do, but none of it is drift…
    let p = w.plan().await;
    assert_eq!(change(&p, "trust.prod").actions, [Action::Create]);
    assert!(p.drift.is_empty(), "{:#?}", p.drift);
    // …and `detect` does not even look at the file.
    w.cloud.reset_calls();
    let r = run(&w).await;
    assert!(r.in_sync(), "{:#?}", r.drift);
    assert_eq!(r.checked, 4);
    assert_eq!(w.cloud.call_count(), 3, "no read of the new workload's role");
}

#[tokio::test]
async fn desired_change_in_the_file_is_not_drift() {
    let mut w = applied().await;
    w.set_spec(spec_text(
        &[
            workload("dev", &account(0), &[DEV_MANIFEST]),
            workload("test", &account(1), &[]).replace("    account:", "    external_id: ext-0123456789\n    account:"),
        ],
        "",
    ));
    let p = w.plan().await;
    assert_eq!(change(&p, "trust.test").actions, [Action::Update]);
    assert!(p.drift.is_empty());
    assert!(run(&w).await.in_sync());
}

#[tokio::test]
async fn adopted_statement_is_checked_too() {
    let mut w = World::new(spec_text(&[workload("dev", &account(0), &[])], ""));
    let hand = json!({"Effect": "Allow", "Principal": {"AWS": role_arn(MGMT)}, "Action": "sts:AssumeRole"});
    w.cloud.add_role(&account(0), ROLE, &with_statements(vec![ec2(), hand.clone()]));
    let p = w.converge().await;
    assert_eq!(change(&p, "trust.dev").actions, [Action::Adopt]);
    assert!(run(&w).await.in_sync());

    w.cloud.set_trust(&account(0), ROLE, EC2_TRUST);
    let r = run(&w).await;
    assert_eq!(r.drift.len(), 1, "{:#?}", r.drift);
    assert_eq!(r.drift[0].kind, DriftKind::Deleted);
    assert_eq!(r.drift[0].stored, hand);
}

#[tokio::test]
async fn a_suspended_account_is_not_read_and_says_so() {
    use xacct_plan::org::{Account, AccountState, Discovery, Found, OrgSummary};
    let w = applied().await;
    w.cloud.reset_calls();
    let suspended = Found {
        account: Account { id: account(1), name: "Test".into(), email: None, state: AccountState::Suspended },
        ou_path: "o-exampleorg1/r-ab12/ou-ab12-11111111/".into(),
        selector: 0,
        also: Vec::new(),
        tags: None,
    };
    let discovery = Discovery {
        organization: OrgSummary { id: "o-exampleorg1".into(), management_account_id: "999999999999".into() },
        selected: Vec::new(),
        inactive: vec![suspended],
        excluded: Vec::new(),
        selectors: Vec::new(),
        calls: 3,
    };
    let r = xacct_plan::drift::detect_with(w.dir.path(), w.state(), w.cloud.clone(), 10, &(), Some(&discovery)).await;
    assert!(r.in_sync() && !r.has_errors(), "{:#?}", r.diagnostics);
    assert_eq!(r.checked, 3, "trust.dev, the assume policy, one manifest");
    assert_eq!(r.aws_calls, 2, "GetRole for dev's role, GetRolePolicy: nothing in the suspended account");
    let d: Vec<(Option<&str>, &str, Option<&str>)> =
        r.diagnostics.iter().map(|d| (d.address.as_deref(), d.message.as_str(), d.hint.as_deref())).collect();
    assert_eq!(
        d,
        [(
            Some("trust.test"),
            "account 222222222223 is SUSPENDED in AWS Organizations: it cannot be reached, so `trust.test` was not checked",
            Some("the next `xacct plan` forgets it without deleting its statement")
        )]
    );
}
