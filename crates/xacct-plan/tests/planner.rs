//! The planner against DESIGN.md's three-way diff table, row by row and kind by kind, plus
//! foreign statements, missing roles, IAM size limits, call counts, `--refresh=false` and
//! `--target`. Live IAM is a `MemoryCloud`; manifests are real files in a temp directory.

mod common;

use common::*;
use serde_json::{json, Value};
use xacct_plan::{sha256, Action, Cloud, DriftKind, Level, PlanOptions};
use xacct_spec::Address;

const DEV_MANIFEST: &str = "clusters/dev-1.yaml";

/// One workload `dev` (account 0) whose role trusts ec2 and that patches one manifest.
fn dev_world() -> World {
    let w = World::new(spec_text(&[workload("dev", &account(0), &[DEV_MANIFEST])], ""));
    w.cloud.add_role(&account(0), ROLE, EC2_TRUST);
    w.write_file(DEV_MANIFEST, MANIFEST);
    w
}

/// Workloads `dev` (with a manifest) and `test` (without).
fn two_world() -> World {
    let w = World::new(two_spec());
    w.cloud.add_role(&account(0), ROLE, EC2_TRUST);
    w.cloud.add_role(&account(1), ROLE, EC2_TRUST);
    w.write_file(DEV_MANIFEST, MANIFEST);
    w
}

fn two_spec() -> String {
    spec_text(&[workload("dev", &account(0), &[DEV_MANIFEST]), workload("test", &account(1), &[])], "")
}

fn dev_spec() -> String {
    spec_text(&[workload("dev", &account(0), &[DEV_MANIFEST])], "")
}

fn mdev() -> String {
    manifest_addr("dev", DEV_MANIFEST)
}

fn assume_doc(accounts: &[String]) -> Value {
    let mut arns: Vec<String> = accounts.iter().map(|a| role_arn(a)).collect();
    arns.sort();
    json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "XacctAssumeWorkloadRoles", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arns}
    ]})
}

fn ec2_statement() -> Value {
    statements(EC2_TRUST).remove(0)
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

// ---------------------------------------------------------------------------------------------
// First plan: create everything

#[tokio::test]
async fn first_plan_creates_trust_policy_and_manifest() {
    let w = dev_world();
    let p = w.plan().await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    assert!(p.drift.is_empty());
    // Roles first, then trust statements, the assume policy and manifests (the graph's order).
    assert_eq!(
        addresses(&p),
        [
            "role.dev",
            "role.management",
            "trust.dev",
            "assume_policy.management",
            "manifest.dev[\"clusters/dev-1.yaml\"]"
        ]
    );

    let t = change(&p, "trust.dev");
    assert_eq!(t.actions, [Action::Create]);
    assert!(!t.drift);
    assert_eq!(statements(t.write.as_deref().unwrap()), [ec2_statement(), our_statement()]);
    assert_eq!(t.after, our_statement());
    assert_eq!(t.state_after["statement"], our_statement());
    assert_eq!(t.state_after["sid"], json!(format!("XacctTrust{MGMT}")));
    assert_eq!(t.state_after["account"], json!(account(0)));
    assert_eq!(t.live_fingerprint, Some(xacct_plan::doc_fingerprint(EC2_TRUST)));
    let deps: Vec<String> = t.depends_on.iter().map(ToString::to_string).collect();
    assert_eq!(deps, ["role.dev", "role.management"]);

    let a = change(&p, "assume_policy.management");
    assert_eq!(a.actions, [Action::Create]);
    assert_eq!(a.live, None);
    assert_eq!(a.live_fingerprint, None);
    assert_eq!(json_of(a.write.as_deref().unwrap()), assume_doc(&[account(0)]));
    assert_eq!(a.state_after["document"], assume_doc(&[account(0)]));
    assert_eq!(a.state_after["policy"], json!(POLICY));

    let m = change(&p, &mdev());
    assert_eq!(m.actions, [Action::Create]);
    let text = m.write.as_deref().unwrap();
    assert!(text.contains("identityRef:\n    kind: AWSClusterRoleIdentity\n    name: dev\n"), "{text}");
    assert!(text.contains("kind: AWSClusterRoleIdentity"), "{text}");
    assert!(text.contains(&role_arn(&account(0))), "{text}");
    assert!(text.contains("  - team-a"), "least privilege: the cluster's namespace\n{text}");
    assert!(text.contains("region: us-west-2 # keep me"), "{text}");
    assert!(m.diff.is_some());
    assert_eq!(m.live_fingerprint, Some(sha256(MANIFEST.as_bytes())));
    assert_eq!(m.state_after["applied_sha256"], json!(sha256(text.as_bytes())));
    assert_eq!(m.state_after["identity"], json!("dev"));
    let deps: Vec<String> = m.depends_on.iter().map(ToString::to_string).collect();
    assert_eq!(deps, ["trust.dev", "assume_policy.management"]);

    assert_eq!((p.summary.create, p.summary.no_op, p.summary.drift), (3, 2, 0));
}

#[tokio::test]
async fn plan_after_apply_is_all_noop_and_writes_nothing() {
    let mut w = dev_world();
    w.converge().await;
    assert_eq!(statements(&w.cloud.trust(&account(0), ROLE).unwrap()), [ec2_statement(), our_statement()]);
    let p = w.plan().await;
    assert_all_noop(&p);
    for c in &p.changes {
        assert!(c.write.is_none(), "{}", c.address);
        if c.kind != "role" {
            assert_eq!(&c.state_after, &w.state.get(&c.address.to_string()).unwrap().attributes, "{}", c.address);
        }
    }
    assert_eq!(p.summary.no_op, 5);
}

// ---------------------------------------------------------------------------------------------
// Trust statements

/// The statement an operator adds by hand following the runbook: no Sid, other spellings.
fn runbook_statement() -> Value {
    json!({"Effect": "Allow", "Action": ["sts:AssumeRole"], "Principal": {"AWS": [role_arn(MGMT)]}})
}

#[tokio::test]
async fn trust_adopts_runbook_statement_without_write_and_then_stays_quiet() {
    let mut w = dev_world();
    let live = json!({"Version": "2012-10-17", "Statement": [ec2_statement(), runbook_statement()]}).to_string();
    w.cloud.set_trust(&account(0), ROLE, &live);

    let p = w.plan().await;
    let t = change(&p, "trust.dev");
    assert_eq!(t.actions, [Action::Adopt]);
    assert!(t.write.is_none());
    assert!(!t.drift);
    assert_eq!(t.state_after["sid"], Value::Null);
    assert_eq!(t.state_after["statement"], runbook_statement());

    w.apply(&p).await;
    assert_eq!(w.cloud.trust(&account(0), ROLE).unwrap(), live, "adopting writes nothing");
    assert_all_noop(&w.plan().await);
}

#[tokio::test]
async fn trust_adopts_equivalent_statement_with_foreign_sid() {
    let mut w = dev_world();
    let mut hand = runbook_statement();
    hand["Sid"] = json!("AllowCapaManagement");
    hand["Principal"] = json!({"AWS": role_arn(MGMT)});
    hand["Effect"] = json!("allow");
    let live = json!({"Version": "2012-10-17", "Statement": [hand.clone(), ec2_statement()]}).to_string();
    w.cloud.set_trust(&account(0), ROLE, &live);

    let p = w.plan().await;
    let t = change(&p, "trust.dev");
    assert_eq!(t.actions, [Action::Adopt]);
    assert!(t.write.is_none());
    assert_eq!(t.state_after["sid"], json!("AllowCapaManagement"));
    w.apply(&p).await;
    assert_all_noop(&w.plan().await);
}

#[tokio::test]
async fn trust_changed_outside_xacct_is_update_marked_drift() {
    let mut w = dev_world();
    w.converge().await;
    let mut edited = our_statement();
    edited["Principal"] = json!({"AWS": "arn:aws:iam::999999999999:role/intruder"});
    let live = json!({"Version": "2012-10-17", "Statement": [ec2_statement(), edited.clone()]}).to_string();
    w.cloud.set_trust(&account(0), ROLE, &live);

    let p = w.plan().await;
    let t = change(&p, "trust.dev");
    assert_eq!(t.actions, [Action::Update]);
    assert!(t.drift);
    assert_eq!(t.before, edited);
    assert_eq!(statements(t.write.as_deref().unwrap()), [ec2_statement(), our_statement()]);
    assert_eq!(p.drift.len(), 1);
    assert_eq!(p.drift[0].address, Address::Trust("dev".into()));
    assert_eq!(p.drift[0].kind, DriftKind::Modified);
    assert_eq!(p.drift[0].live, edited);
    assert_eq!(p.drift[0].stored, our_statement());
    assert_eq!(p.summary.drift, 1);
    w.apply(&p).await;
    assert_all_noop(&w.plan().await);
}

#[tokio::test]
async fn trust_deleted_outside_xacct_is_create_marked_drift() {
    let mut w = dev_world();
    w.converge().await;
    w.cloud.set_trust(&account(0), ROLE, EC2_TRUST); // e.g. the CloudFormation stack re-ran

    let p = w.plan().await;
    let t = change(&p, "trust.dev");
    assert_eq!(t.actions, [Action::Create]);
    assert!(t.drift);
    assert_eq!(statements(t.write.as_deref().unwrap()), [ec2_statement(), our_statement()]);
    assert_eq!(p.drift.len(), 1);
    assert_eq!(p.drift[0].kind, DriftKind::Deleted);
    assert_eq!(p.drift[0].live, Value::Null);
    w.apply(&p).await;
    assert_all_noop(&w.plan().await);
}

#[tokio::test]
async fn trust_deleted_then_put_back_by_hand_is_adopted_not_duplicated() {
    let mut w = dev_world();
    w.converge().await;
    // Someone removed xacct's statement, then re-ran the runbook: the same grant, without a Sid.
    let mut by_hand = our_statement();
    by_hand.as_object_mut().unwrap().remove("Sid");
    let doc = json!({"Version": "2012-10-17", "Statement": [ec2_statement(), by_hand.clone()]});
    w.cloud.set_trust(&account(0), ROLE, &doc.to_string());

    let p = w.plan().await;
    let t = change(&p, "trust.dev");
    assert_eq!(t.actions, [Action::Adopt], "{:?}", t.reason);
    assert!(t.drift);
    assert!(t.write.is_none());
    assert_eq!(p.drift.len(), 1);
    assert_eq!(p.drift[0].kind, DriftKind::Modified);
    assert_eq!(p.drift[0].live, by_hand);
    w.apply(&p).await;
    assert_all_noop(&w.plan().await);
    assert_eq!(statements(&w.cloud.trust(&account(0), ROLE).unwrap()).len(), 2);
}

#[tokio::test]
async fn trust_desired_change_is_update_without_drift() {
    let mut w = dev_world();
    w.converge().await;
    w.set_spec(dev_spec().replace("    manifests:", "    external_id: ext-0123456789\n    manifests:"));

    let p = w.plan().await;
    let t = change(&p, "trust.dev");
    assert_eq!(t.actions, [Action::Update]);
    assert!(!t.drift);
    assert!(p.drift.is_empty(), "{:#?}", p.drift);
    let mut want = our_statement();
    want["Condition"] = json!({"StringEquals": {"sts:ExternalId": "ext-0123456789"}});
    assert_eq!(t.before, our_statement());
    assert_eq!(t.after, want);
    assert_eq!(statements(t.write.as_deref().unwrap()), [ec2_statement(), want.clone()]);
    assert_eq!(t.state_after["statement"], want);
    assert_eq!(change(&p, &mdev()).actions, [Action::Update], "the identity gets the externalID too");
    assert_eq!(change(&p, "assume_policy.management").actions, [Action::NoOp]);
    w.apply(&p).await;
    assert_all_noop(&w.plan().await);
}

/// Statements someone else wrote, in spellings that must survive untouched.
fn foreign_statements() -> Vec<Value> {
    let a: Value = serde_json::from_str(
        r#"{"Sid":"Ec2","Principal":{"Service":["ec2.amazonaws.com"]},"Effect":"Allow","Action":"sts:AssumeRole"}"#,
    )
    .unwrap();
    let b: Value = serde_json::from_str(
        r#"{"Effect":"allow","Principal":{"AWS":"333333333333"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"Bool":{"aws:SecureTransport":true},"StringEquals":{"aws:PrincipalOrgID":"o-abcdefghij"}}}"#,
    )
    .unwrap();
    let c: Value = serde_json::from_str(
        r#"{"Action":"sts:AssumeRoleWithWebIdentity","Effect":"Allow","Principal":{"Federated":"arn:aws:iam::222222222222:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC"},"Condition":{"StringEquals":{"oidc.eks.us-west-2.amazonaws.com/id/ABC:sub":"system:serviceaccount:kube-system:capa"}}}"#,
    )
    .unwrap();
    vec![a, b, c]
}

fn texts(v: &[Value]) -> Vec<String> {
    v.iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn foreign_statements_are_kept_byte_identical_in_order_on_create_update_and_delete() {
    let mut w = dev_world();
    let foreign = foreign_statements();
    let live = format!(
        r#"{{"Version":"2012-10-17","Id":"capa-control-plane","Statement":[{}]}}"#,
        foreign.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
    );
    w.cloud.set_trust(&account(0), ROLE, &live);

    // Create: appended after the foreign statements, which keep their exact text and order.
    let p = w.converge().await;
    let t = change(&p, "trust.dev");
    assert_eq!(t.actions, [Action::Create]);
    let written = t.write.as_deref().unwrap();
    assert!(written.starts_with(r#"{"Version":"2012-10-17","Id":"capa-control-plane","Statement":["#), "{written}");
    let s = statements(written);
    assert_eq!(texts(&s[..3]), texts(&foreign));
    assert_eq!(s[3], our_statement());

    // A foreign statement added after ours later: still untouched by an update of ours.
    let extra: Value = serde_json::from_str(
        r#"{"Sid":"Later","Effect":"Deny","Principal":"*","Action":"sts:AssumeRole","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}"#,
    )
    .unwrap();
    let mut now = s.clone();
    now.push(extra.clone());
    let live = json!({"Version": "2012-10-17", "Id": "capa-control-plane", "Statement": now}).to_string();
    w.cloud.set_trust(&account(0), ROLE, &live);
    assert_all_noop(&w.plan().await);

    w.set_spec(dev_spec().replace("    manifests:", "    external_id: ext-0123456789\n    manifests:"));
    let p = w.converge().await;
    let s = statements(change(&p, "trust.dev").write.as_deref().unwrap());
    assert_eq!(texts(&s[..3]), texts(&foreign));
    assert_eq!(s[3]["Condition"]["StringEquals"]["sts:ExternalId"], json!("ext-0123456789"), "replaced in place");
    assert_eq!(s[4].to_string(), extra.to_string());

    // Delete: only ours goes.
    w.set_spec(spec_text(&[], ""));
    let p = w.plan().await;
    let t = change(&p, "trust.dev");
    assert_eq!(t.actions, [Action::Delete]);
    let s = statements(t.write.as_deref().unwrap());
    let mut want = foreign.clone();
    want.push(extra);
    assert_eq!(texts(&s), texts(&want));
}

#[tokio::test]
async fn trust_removed_from_file_is_deleted_keeping_foreign_statements() {
    let mut w = two_world();
    w.converge().await;
    let after: Value = json!({"Sid": "Audit", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444444444444:root"}, "Action": "sts:AssumeRole"});
    let live = json!({"Version": "2012-10-17", "Statement": [ec2_statement(), our_statement(), after.clone()]});
    w.cloud.set_trust(&account(1), ROLE, &live.to_string());
    w.set_spec(dev_spec());

    let p = w.plan().await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    let t = change(&p, "trust.test");
    assert_eq!(t.actions, [Action::Delete]);
    assert!(!t.drift);
    assert_eq!(t.before, our_statement());
    assert_eq!(t.after, Value::Null);
    assert_eq!(t.state_after, Value::Null);
    assert_eq!(texts(&statements(t.write.as_deref().unwrap())), texts(&[ec2_statement(), after.clone()]));
    assert!(!addresses(&p).contains(&"role.test".to_string()), "{:?}", addresses(&p));
    let a = change(&p, "assume_policy.management");
    assert_eq!(a.actions, [Action::Update]);
    assert_eq!(json_of(a.write.as_deref().unwrap()), assume_doc(&[account(0)]));

    w.apply(&p).await;
    assert_eq!(texts(&statements(&w.cloud.trust(&account(1), ROLE).unwrap())), texts(&[ec2_statement(), after]));
    assert!(w.state.get("trust.test").is_none());
    assert_all_noop(&w.plan().await);
}

#[tokio::test]
async fn trust_removed_from_file_and_already_gone_is_forgotten() {
    let mut w = two_world();
    w.converge().await;
    w.cloud.set_trust(&account(1), ROLE, EC2_TRUST);
    w.set_spec(dev_spec());

    let p = w.plan().await;
    let t = change(&p, "trust.test");
    assert_eq!(t.actions, [Action::Forget]);
    assert!(t.write.is_none());
    assert_eq!(t.state_after, Value::Null);
    assert_eq!(p.summary.forget, 1);
    w.apply(&p).await;
    assert_eq!(w.cloud.trust(&account(1), ROLE).unwrap(), EC2_TRUST);
    assert!(w.state.get("trust.test").is_none());
    assert_all_noop(&w.plan().await);
}

#[tokio::test]
async fn trust_principal_turned_unique_id_is_update_marked_drift() {
    let mut w = dev_world();
    w.converge().await;
    let mut broken = our_statement();
    broken["Principal"] = json!({"AWS": "AROA5EXAMPLEUNIQUEID1"});
    let live = json!({"Version": "2012-10-17", "Statement": [ec2_statement(), broken.clone()]}).to_string();
    w.cloud.set_trust(&account(0), ROLE, &live);

    let p = w.plan().await;
    let t = change(&p, "trust.dev");
    assert_eq!(t.actions, [Action::Update]);
    assert!(t.drift);
    assert_eq!(statements(t.write.as_deref().unwrap()), [ec2_statement(), our_statement()]);
    assert_eq!(p.drift.len(), 1);
    assert_eq!(p.drift[0].kind, DriftKind::UniqueIdPrincipal);
    assert!(p.drift[0].detail.contains("AROA5EXAMPLEUNIQUEID1"), "{}", p.drift[0].detail);
    w.apply(&p).await;
    assert_all_noop(&w.plan().await);
}

#[tokio::test]
async fn adopted_statement_turned_unique_id_is_update_marked_drift() {
    let mut w = dev_world();
    let live = json!({"Version": "2012-10-17", "Statement": [ec2_statement(), runbook_statement()]}).to_string();
    w.cloud.set_trust(&account(0), ROLE, &live);
    w.converge().await;
    let mut broken = runbook_statement();
    broken["Principal"] = json!({"AWS": ["AROA5EXAMPLEUNIQUEID1"]});
    let live = json!({"Version": "2012-10-17", "Statement": [ec2_statement(), broken]}).to_string();
    w.cloud.set_trust(&account(0), ROLE, &live);

    let p = w.plan().await;
    let t = change(&p, "trust.dev");
    assert_eq!(t.actions, [Action::Update], "{:?}", t.reason);
    assert_eq!(p.drift.len(), 1, "{:#?}", p.drift);
    assert_eq!(p.drift[0].kind, DriftKind::UniqueIdPrincipal);
    let s = statements(t.write.as_deref().unwrap());
    assert_eq!(s, [ec2_statement(), our_statement()], "the broken statement is replaced, not kept beside ours");
    w.apply(&p).await;
    assert_all_noop(&w.plan().await);
}

// ---------------------------------------------------------------------------------------------
// The assume policy

#[tokio::test]
async fn assume_policy_adopts_an_equivalent_document() {
    let mut w = dev_world();
    // Same meaning, other spellings: one statement object, Action as a list, Resource as a string.
    let live = json!({"Version": "2012-10-17", "Statement": {
        "Resource": role_arn(&account(0)), "Action": ["sts:AssumeRole"], "Effect": "Allow", "Sid": "XacctAssumeWorkloadRoles"
    }})
    .to_string();
    w.cloud.set_policy(MGMT, ROLE, POLICY, Some(&live));

    let p = w.plan().await;
    let a = change(&p, "assume_policy.management");
    assert_eq!(a.actions, [Action::Adopt]);
    assert!(a.write.is_none());
    assert!(!a.drift);
    w.apply(&p).await;
    assert_eq!(w.cloud.policy(MGMT, ROLE, POLICY).unwrap(), live);
    assert_all_noop(&w.plan().await);
}

#[tokio::test]
async fn assume_policy_with_our_name_but_other_content_is_updated() {
    let mut w = dev_world();
    let live = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]});
    w.cloud.set_policy(MGMT, ROLE, POLICY, Some(&live.to_string()));
    let p = w.plan().await;
    let a = change(&p, "assume_policy.management");
    assert_eq!(a.actions, [Action::Update]);
    assert_eq!(json_of(a.write.as_deref().unwrap()), assume_doc(&[account(0)]));
    w.apply(&p).await;
    assert_all_noop(&w.plan().await);
}

#[tokio::test]
async fn assume_policy_changed_outside_xacct_is_update_marked_drift() {
    let mut w = dev_world();
    w.converge().await;
    let mut doc = assume_doc(&[account(0)]);
    doc["Statement"][0]["Resource"] = json!([role_arn(&account(0)), "arn:aws:iam::999999999999:role/intruder"]);
    w.cloud.set_policy(MGMT, ROLE, POLICY, Some(&doc.to_string()));

    let p = w.plan().await;
    let a = change(&p, "assume_policy.management");
    assert_eq!(a.actions, [Action::Update]);
    assert!(a.drift);
    assert_eq!(json_of(a.write.as_deref().unwrap()), assume_doc(&[account(0)]));
    assert_eq!(p.drift.len(), 1);
    assert_eq!(p.drift[0].address, Address::AssumePolicy);
    assert_eq!(p.drift[0].kind, DriftKind::Modified);
    assert_eq!(p.drift[0].live, doc);
    w.apply(&p).await;
    assert_all_noop(&w.plan().await);
}

#[tokio::test]
async fn assume_policy_deleted_outside_xacct_is_create_marked_drift() {
    let mut w = dev_world();
    w.converge().await;
    w.cloud.set_policy(MGMT, ROLE, POLICY, None);

    let p = w.plan().await;
    let a = change(&p, "assume_policy.management");
    assert_eq!(a.actions, [Action::Create]);
    assert!(a.drift);
    assert_eq!(a.live, None);
    assert_eq!(json_of(a.write.as_deref().unwrap()), assume_doc(&[account(0)]));
    assert_eq!(p.drift.len(), 1);
    assert_eq!(p.drift[0].kind, DriftKind::Deleted);
    w.apply(&p).await;
    assert_all_noop(&w.plan().await);
}

#[tokio::test]
async fn assume_policy_desired_change_is_update_without_drift() {
    let mut w = dev_world();
    w.converge().await;
    w.cloud.add_role(&account(1), ROLE, EC2_TRUST);
    w.set_spec(two_spec());

    let p = w.plan().await;
    assert!(p.drift.is_empty());
    let a = change(&p, "assume_policy.management");
    assert_eq!(a.actions, [Action::Update]);
    assert!(!a.drift);
    assert_eq!(a.before, assume_doc(&[account(0)]));
    assert_eq!(json_of(a.write.as_deref().unwrap()), assume_doc(&[account(0), account(1)]));
    assert_eq!(change(&p, "trust.test").actions, [Action::Create]);
    assert_eq!(change(&p, "trust.dev").actions, [Action::NoOp]);
    w.apply(&p).await;
    assert_all_noop(&w.plan().await);
}

#[tokio::test]
async fn renaming_a_workload_moves_what_it_owns_and_writes_nothing() {
    let mut w = dev_world();
    w.converge().await;
    let trust_before = w.cloud.trust(&account(0), ROLE).unwrap();
    w.set_spec(spec_text(&[workload("renamed", &account(0), &[DEV_MANIFEST])], ""));

    let p = w.plan().await;
    assert!(p.applyable && p.drift.is_empty(), "{:#?} {:#?}", p.diagnostics, p.drift);
    for old in ["trust.dev".to_string(), mdev()] {
        let c = change(&p, &old);
        assert_eq!(c.actions, [Action::Forget], "{old}: {:?}", c.reason);
        assert!(c.write.is_none() && c.state_after.is_null());
        assert!(c.reason.as_deref().unwrap().contains("renamed"), "{:?}", c.reason);
    }
    let t = change(&p, "trust.renamed");
    assert_eq!(t.actions, [Action::NoOp], "the statement is already there, and xacct's: {:?}", t.reason);
    assert_eq!(t.state_after["sid"], json!(format!("XacctTrust{MGMT}")));
    let m = change(&p, &manifest_addr("renamed", DEV_MANIFEST));
    // The identity's default name follows the workload's: the manifest is re-pointed, and the new
    // address takes the old one's record over.
    assert_eq!(m.actions, [Action::Update], "{:?}", m.reason);
    assert_eq!(m.replaces.as_ref().map(ToString::to_string), Some(mdev()));
    assert!(m.write.as_deref().unwrap().contains("name: renamed"), "{:?}", m.write);

    w.apply(&p).await;
    assert_eq!(w.cloud.trust(&account(0), ROLE).unwrap(), trust_before, "nothing live was touched");
    assert!(!w.state.resources.contains_key("trust.dev") && w.state.resources.contains_key("trust.renamed"));
    assert_all_noop(&w.plan().await);

    // The new name owns everything the old one did: removing it restores every byte.
    w.set_spec(spec_text(&[], ""));
    let p = w.plan().await;
    w.apply(&p).await;
    assert_eq!(w.read_file(DEV_MANIFEST), MANIFEST);
    assert_eq!(w.cloud.trust(&account(0), ROLE).unwrap(), json_of(EC2_TRUST).to_string());
    assert!(w.state.resources.is_empty());
}

#[tokio::test]
async fn a_manifest_moved_to_another_workload_is_one_update_not_a_delete_and_a_create() {
    let mut w = two_world();
    w.converge().await;
    w.set_spec(spec_text(&[workload("dev", &account(0), &[]), workload("test", &account(1), &[DEV_MANIFEST])], ""));

    let p = w.plan().await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    assert_eq!(change(&p, &mdev()).actions, [Action::Forget]);
    let m = change(&p, &manifest_addr("test", DEV_MANIFEST));
    assert_eq!(m.actions, [Action::Update], "{:?}", m.reason);
    w.apply(&p).await;
    assert!(w.read_file(DEV_MANIFEST).contains(&role_arn(&account(1))));
    assert_all_noop(&w.plan().await);
    w.set_spec(spec_text(&[], ""));
    let p = w.plan().await;
    w.apply(&p).await;
    assert_eq!(w.read_file(DEV_MANIFEST), MANIFEST, "both workloads' edits undone");
}

#[tokio::test]
async fn everything_removed_from_file_is_deleted_then_state_is_empty() {
    let mut w = dev_world();
    let other = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#;
    w.cloud.set_policy(MGMT, ROLE, "capa-controller", Some(other));
    w.converge().await;
    w.set_spec(spec_text(&[], ""));

    let p = w.plan().await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    let a = change(&p, "assume_policy.management");
    assert_eq!(a.actions, [Action::Delete]);
    assert!(a.write.is_none());
    assert_eq!(json_of(a.live.as_deref().unwrap()), assume_doc(&[account(0)]));
    assert_eq!(a.state_after, Value::Null);
    let deps: Vec<String> = a.depends_on.iter().map(ToString::to_string).collect();
    assert!(deps.contains(&mdev()), "manifests are unpatched before the policy goes: {deps:?}");
    assert_eq!(change(&p, "trust.dev").actions, [Action::Delete]);
    assert_eq!(change(&p, &mdev()).actions, [Action::Delete]);
    let unset = p.diagnostics.iter().find(|d| d.message.contains("removes `identityRef` from AWSCluster `dev-1`"));
    assert_eq!(unset.map(|d| d.severity), Some(Level::Warning), "{:#?}", p.diagnostics);

    w.apply(&p).await;
    assert_eq!(w.cloud.policy(MGMT, ROLE, POLICY), None);
    assert_eq!(w.cloud.policy(MGMT, ROLE, "capa-controller").as_deref(), Some(other), "other inline policies stay");
    assert_eq!(w.cloud.trust(&account(0), ROLE).unwrap(), json_of(EC2_TRUST).to_string());
    assert_eq!(w.read_file(DEV_MANIFEST), MANIFEST, "the manifest gets its original bytes back");
    assert!(w.state.resources.is_empty(), "{:?}", w.state.resources.keys().collect::<Vec<_>>());
    assert_all_noop(&w.plan().await);
}

#[tokio::test]
async fn assume_policy_removed_from_file_and_already_gone_is_forgotten() {
    let mut w = two_world();
    w.set_spec(spec_text(&[workload("test", &account(1), &[])], ""));
    w.converge().await;
    w.cloud.set_policy(MGMT, ROLE, POLICY, None);
    w.set_spec(spec_text(&[], ""));

    let p = w.plan().await;
    let a = change(&p, "assume_policy.management");
    assert_eq!(a.actions, [Action::Forget]);
    assert!(a.write.is_none());
    assert_eq!(a.state_after, Value::Null);
    w.apply(&p).await;
    assert!(w.state.resources.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Manifests

/// The identity the planner derives for `dev` by default.
fn dev_identity() -> xacct_manifest::IdentitySpec {
    xacct_manifest::IdentitySpec {
        name: "dev".into(),
        role_arn: role_arn(&account(0)),
        allowed_namespaces: xacct_manifest::AllowedNamespaces::List(vec!["team-a".into()]),
        external_id: None,
        duration_seconds: None,
        session_name: None,
    }
}

#[tokio::test]
async fn manifest_already_carrying_the_identity_is_adopted() {
    let mut w = dev_world();
    let m = xacct_manifest::Manifest::parse(&w.path(DEV_MANIFEST), MANIFEST).unwrap();
    let by_hand = xacct_manifest::patch(&m, &dev_identity()).unwrap().text;
    w.write_file(DEV_MANIFEST, &by_hand);

    let p = w.plan().await;
    let c = change(&p, &mdev());
    assert_eq!(c.actions, [Action::Adopt]);
    assert!(c.write.is_none());
    assert!(!c.drift);
    assert_eq!(c.state_after["applied_sha256"], json!(sha256(by_hand.as_bytes())));
    w.apply(&p).await;
    assert_eq!(w.read_file(DEV_MANIFEST), by_hand);
    assert_all_noop(&w.plan().await);
}

#[tokio::test]
async fn manifest_edited_outside_xacct_is_update_marked_drift_and_still_unpatches() {
    let mut w = dev_world();
    w.converge().await;
    let applied = w.read_file(DEV_MANIFEST);
    let edited = applied.replace(&role_arn(&account(0)), "arn:aws:iam::999999999999:role/intruder");
    assert_ne!(edited, applied);
    w.write_file(DEV_MANIFEST, &edited);

    let p = w.plan().await;
    let c = change(&p, &mdev());
    assert_eq!(c.actions, [Action::Update]);
    assert!(c.drift);
    assert_eq!(c.write.as_deref(), Some(applied.as_str()));
    assert_eq!(p.drift.len(), 1);
    assert_eq!(p.drift[0].kind, DriftKind::Modified);
    w.apply(&p).await;
    assert_all_noop(&w.plan().await);

    // The repaired file still gives its original bytes back when xacct lets go of it.
    w.set_spec(spec_text(&[workload("dev", &account(0), &[])], ""));
    let p = w.plan().await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    let c = change(&p, &mdev());
    assert_eq!(c.actions, [Action::Delete]);
    assert_eq!(c.write.as_deref(), Some(MANIFEST));
}

#[tokio::test]
async fn manifest_whose_identity_ref_was_changed_by_hand_is_update_marked_drift_naming_both() {
    let mut w = dev_world();
    w.converge().await;
    let applied = w.read_file(DEV_MANIFEST);
    let name = &dev_identity().name;
    let edited = applied.replacen(
        &format!("kind: AWSClusterRoleIdentity\n    name: {name}\n"),
        "kind: AWSClusterRoleIdentity\n    name: edited-by-hand\n",
        1,
    );
    assert_ne!(edited, applied);
    w.write_file(DEV_MANIFEST, &edited);

    let p = w.plan().await;
    let c = change(&p, &mdev());
    assert_eq!(c.actions, [Action::Update], "{:?}", c.reason);
    assert!(c.drift);
    assert_eq!(
        c.reason.as_deref(),
        Some(
            format!("`identityRef` was changed outside xacct to `edited-by-hand`: setting it back to `{name}`")
                .as_str()
        )
    );
    assert_eq!(c.write.as_deref(), Some(applied.as_str()));
    assert_eq!(p.drift.len(), 1, "{:#?}", p.drift);
    assert_eq!(p.drift[0].kind, DriftKind::Modified);
    assert!(p.drift[0].detail.ends_with("its `identityRef` now names `edited-by-hand`"), "{}", p.drift[0].detail);
    w.apply(&p).await;
    assert_all_noop(&w.plan().await);
}

#[tokio::test]
async fn manifest_with_xacct_edits_removed_is_create_marked_drift() {
    let mut w = dev_world();
    let first = w.converge().await;
    // The file was regenerated (`dkp create cluster … --dry-run`): xacct's edits are gone.
    w.write_file(DEV_MANIFEST, MANIFEST);

    let p = w.plan().await;
    let c = change(&p, &mdev());
    assert_eq!(c.actions, [Action::Create], "{:?}", c.reason);
    assert!(c.drift);
    assert_eq!(c.write, change(&first, &mdev()).write);
    assert_eq!(p.drift.len(), 1, "{:#?}", p.drift);
    assert_eq!(p.drift[0].kind, DriftKind::Deleted);
    w.apply(&p).await;
    assert_all_noop(&w.plan().await);

    // And xacct can still give the regenerated file back.
    w.set_spec(spec_text(&[workload("dev", &account(0), &[])], ""));
    let p = w.plan().await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    assert_eq!(change(&p, &mdev()).write.as_deref(), Some(MANIFEST));
}

#[tokio::test]
async fn manifest_unrelated_edit_is_recorded_not_rewritten() {
    let mut w = dev_world();
    w.converge().await;
    let applied = w.read_file(DEV_MANIFEST);
    let edited = applied.replace("sshKeyName: default", "sshKeyName: ops # rotated");
    w.write_file(DEV_MANIFEST, &edited);

    let p = w.plan().await;
    let c = change(&p, &mdev());
    assert!(c.write.is_none(), "nothing of xacct's changed: {:?}", c.write);
    assert!(!c.action().writes());
    w.apply(&p).await;
    assert_all_noop(&w.plan().await);

    w.set_spec(spec_text(&[workload("dev", &account(0), &[])], ""));
    let p = w.plan().await;
    assert_eq!(
        change(&p, &mdev()).write.as_deref(),
        Some(MANIFEST.replace("sshKeyName: default", "sshKeyName: ops # rotated").as_str()),
        "unpatching keeps the user's own edit"
    );
}

#[tokio::test]
async fn manifest_desired_change_is_update_without_drift() {
    let mut w = dev_world();
    w.converge().await;
    w.set_spec(
        dev_spec().replace(
            "    manifests:",
            "    identity: { name: dev-account-role, duration_seconds: 1800 }\n    manifests:",
        ),
    );

    let p = w.plan().await;
    let c = change(&p, &mdev());
    assert_eq!(c.actions, [Action::Update]);
    assert!(!c.drift);
    assert!(p.drift.is_empty());
    let text = c.write.as_deref().unwrap();
    assert!(text.contains("name: dev-account-role"), "{text}");
    assert!(text.contains("durationSeconds: 1800"), "{text}");
    assert_eq!(change(&p, "trust.dev").actions, [Action::NoOp]);
    w.apply(&p).await;
    assert_all_noop(&w.plan().await);

    w.set_spec(spec_text(&[workload("dev", &account(0), &[])], ""));
    let p = w.plan().await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    assert_eq!(change(&p, &mdev()).write.as_deref(), Some(MANIFEST), "both patches undone");
}

#[tokio::test]
async fn manifest_removed_from_file_is_unpatched_to_original_bytes() {
    let mut w = dev_world();
    w.converge().await;
    w.set_spec(spec_text(&[workload("dev", &account(0), &[])], ""));

    let p = w.plan().await;
    let c = change(&p, &mdev());
    assert_eq!(c.actions, [Action::Delete]);
    assert_eq!(c.write.as_deref(), Some(MANIFEST));
    assert!(c.diff.is_some());
    assert_eq!(c.state_after, Value::Null);
    assert_eq!(change(&p, "trust.dev").actions, [Action::NoOp]);
    w.apply(&p).await;
    assert_eq!(w.read_file(DEV_MANIFEST), MANIFEST);
    assert!(w.state.get(&mdev()).is_none());
    assert_all_noop(&w.plan().await);
}

#[tokio::test]
async fn manifest_removed_from_file_and_gone_from_disk_is_forgotten() {
    let mut w = dev_world();
    w.converge().await;
    std::fs::remove_file(w.path(DEV_MANIFEST)).unwrap();
    w.set_spec(spec_text(&[workload("dev", &account(0), &[])], ""));

    let p = w.plan().await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    let c = change(&p, &mdev());
    assert_eq!(c.actions, [Action::Forget]);
    assert!(c.write.is_none());
    assert_eq!(c.state_after, Value::Null);
    w.apply(&p).await;
    assert!(w.state.get(&mdev()).is_none());
    assert_all_noop(&w.plan().await);
}

#[tokio::test]
async fn manifest_deleted_after_validation_is_an_error() {
    let w = dev_world();
    let spec = w.spec();
    std::fs::remove_file(w.path(DEV_MANIFEST)).unwrap();
    let p = xacct_plan::plan(&spec, w.spec_text.as_bytes(), None, w.cloud.clone(), &PlanOptions::default(), &()).await;
    assert!(!p.applyable);
    assert!(p.errors().any(|d| d.address.as_deref() == Some(mdev().as_str())), "{:#?}", p.diagnostics);
}

// ---------------------------------------------------------------------------------------------
// Preconditions and limits

#[tokio::test]
async fn missing_workload_role_is_an_error_on_its_role_address() {
    let w = World::new(dev_spec());
    w.write_file(DEV_MANIFEST, MANIFEST);
    let p = w.plan().await;
    assert!(!p.applyable);
    let errors: Vec<_> = p.errors().collect();
    assert!(
        errors.iter().any(|d| d.address.as_deref() == Some("role.dev")
            && d.message.contains(ROLE)
            && d.message.contains(&account(0))),
        "{errors:#?}"
    );
    assert!(errors.iter().all(|d| d.address.as_deref() == Some("role.dev")), "one error, on the role: {errors:#?}");
}

#[tokio::test]
async fn missing_management_role_is_an_error() {
    let w = dev_world();
    let p = {
        let cloud = std::sync::Arc::new(xacct_plan::memory::MemoryCloud::new());
        cloud.add_role(&account(0), ROLE, EC2_TRUST);
        let spec = w.spec();
        xacct_plan::plan(&spec, w.spec_text.as_bytes(), None, cloud, &PlanOptions::default(), &()).await
    };
    assert!(!p.applyable);
    assert!(p.errors().any(|d| d.address.as_deref() == Some("role.management")), "{:#?}", p.diagnostics);
}

#[tokio::test]
async fn trust_policy_over_2048_characters_is_an_error_before_anything_is_written() {
    let w = dev_world();
    let mut stmts = vec![ec2_statement()];
    let mut i = 0;
    loop {
        let doc = json!({"Version": "2012-10-17", "Statement": stmts}).to_string();
        if xacct_policy::iam_size(&doc) > 2048 - 100 {
            break;
        }
        stmts.push(json!({"Sid": format!("Other{i}"), "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{:012}:role/some-other-controller", 500_000_000_000u64 + i)}, "Action": "sts:AssumeRole"}));
        i += 1;
    }
    let live = json!({"Version": "2012-10-17", "Statement": stmts}).to_string();
    assert!(xacct_policy::iam_size(&live) <= 2048);
    w.cloud.set_trust(&account(0), ROLE, &live);

    let p = w.plan().await;
    assert!(!p.applyable);
    let size = xacct_policy::iam_size(change(&p, "trust.dev").write.as_deref().unwrap());
    assert!(size > 2048);
    let e: Vec<_> = p.errors().collect();
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].address.as_deref(), Some("trust.dev"));
    assert!(e[0].message.contains(&size.to_string()) && e[0].message.contains("2048"), "{}", e[0].message);
    assert!(e[0].hint.as_deref().unwrap_or_default().contains("quota"), "{:?}", e[0].hint);
}

fn many_workloads(n: usize) -> Vec<String> {
    (0..n).map(|i| workload(&format!("w{i}"), &account(i), &[])).collect()
}

#[tokio::test]
async fn assume_policy_over_the_inline_budget_is_an_error_naming_sizes_and_the_organization_grant() {
    let n = 400;
    let w = World::new(spec_text(&many_workloads(n), ""));
    for i in 0..n {
        w.cloud.add_role(&account(i), ROLE, EC2_TRUST);
    }
    let p = w.plan().await;
    assert!(!p.applyable);
    let needed = xacct_policy::iam_size(change(&p, "assume_policy.management").write.as_deref().unwrap());
    assert!(needed > 10_240);
    let e: Vec<_> = p.errors().collect();
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].address.as_deref(), Some("assume_policy.management"));
    assert!(e[0].message.contains(&needed.to_string()), "needed size: {}", e[0].message);
    assert!(e[0].message.contains("10240"), "available size: {}", e[0].message);
    assert!(e[0].hint.as_deref().unwrap_or_default().contains("organization"), "{:?}", e[0].hint);

    // The way out: grant by organization.
    let mut w = w;
    w.set_spec(spec_text(&many_workloads(n), "  assume_policy:\n    grant: { organization: o-abcdefghij }\n"));
    let p = w.plan().await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    let a = change(&p, "assume_policy.management");
    let doc = json_of(a.write.as_deref().unwrap());
    assert_eq!(doc["Statement"][0]["Condition"], json!({"StringEquals": {"aws:ResourceOrgID": "o-abcdefghij"}}));
    assert!(xacct_policy::iam_size(a.write.as_deref().unwrap()) < 1000);
}

#[tokio::test]
async fn assume_policy_budget_counts_the_roles_other_inline_policies() {
    let w = dev_world();
    let filler = "x".repeat(10_100);
    let other = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Filler", "Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{filler}")}]}).to_string();
    let others = xacct_policy::iam_size(&other);
    w.cloud.set_policy(MGMT, ROLE, "capa-controllers", Some(&other));

    let p = w.plan().await;
    assert!(!p.applyable);
    let needed = xacct_policy::iam_size(change(&p, "assume_policy.management").write.as_deref().unwrap());
    let e: Vec<_> = p.errors().collect();
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].address.as_deref(), Some("assume_policy.management"));
    assert!(e[0].message.contains(&needed.to_string()), "{}", e[0].message);
    assert!(e[0].message.contains(&(10_240 - others).to_string()), "available: {}", e[0].message);
    assert!(e[0].hint.as_deref().unwrap_or_default().contains("organization"));
}

#[tokio::test]
async fn session_longer_than_the_roles_max_is_an_error() {
    let w =
        World::new(dev_spec().replace("    manifests:", "    identity: { duration_seconds: 3600 }\n    manifests:"));
    w.cloud.add_role(&account(0), ROLE, EC2_TRUST);
    w.write_file(DEV_MANIFEST, MANIFEST);
    assert!(w.plan().await.applyable, "the role allows 3600 s");
    w.cloud.set_max_session_duration(&account(0), ROLE, 1800);
    let p = w.plan().await;
    assert!(!p.applyable);
    let e: Vec<_> = p.errors().collect();
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].address.as_deref(), Some("role.dev"));
    assert!(e[0].message.contains("3600") && e[0].message.contains("1800"), "{}", e[0].message);
}

#[tokio::test]
async fn deleting_the_only_statement_of_a_trust_policy_is_an_error() {
    let mut w = two_world();
    w.cloud.set_trust(&account(1), ROLE, r#"{"Version":"2012-10-17","Statement":[]}"#);
    w.converge().await;
    w.set_spec(dev_spec());
    let p = w.plan().await;
    assert!(!p.applyable);
    assert!(p.errors().any(|d| d.address.as_deref() == Some("trust.test") && d.message.contains("empty")));
}

#[tokio::test]
async fn state_this_xacct_did_not_write_is_an_error() {
    let mut w = dev_world();
    w.state.insert(
        "trust.dev",
        xacct_state::ResourceState { kind: "trust".into(), attributes: json!({"statement": "not a record"}) },
    );
    let p = w.plan().await;
    assert!(!p.applyable);
    assert!(p.errors().any(|d| d.message.contains("trust.dev")), "{:#?}", p.diagnostics);
}

#[tokio::test]
async fn workload_moved_to_another_account_does_not_orphan_its_old_trust() {
    let mut w = dev_world();
    w.converge().await;
    w.cloud.add_role("555555555555", ROLE, EC2_TRUST);
    w.set_spec(dev_spec().replace(&account(0), "555555555555"));
    let p = w.plan().await;
    // The old account's role still trusts the management role: xacct must not forget it silently
    // nor call the new account's missing statement drift.
    assert!(p.drift.is_empty(), "{:#?}", p.drift);
    assert!(!p.applyable);
    let e: Vec<_> = p.errors().filter(|d| d.address.as_deref() == Some("trust.dev")).collect();
    assert_eq!(e.len(), 1, "{:#?}", p.diagnostics);
    assert!(e[0].message.contains(&account(0)) && e[0].message.contains("555555555555"), "{}", e[0].message);
    assert!(e[0].hint.is_some());
}

#[tokio::test]
async fn management_account_change_does_not_orphan_the_old_assume_policy() {
    let mut w = dev_world();
    w.converge().await;
    w.cloud.add_role("666666666666", ROLE, EC2_TRUST);
    w.set_spec(dev_spec().replace(MGMT, "666666666666"));
    let p = w.plan().await;
    assert!(!p.applyable);
    assert!(
        p.errors().any(|d| d.address.as_deref() == Some("assume_policy.management")
            && d.message.contains(MGMT)
            && d.message.contains("666666666666")),
        "{:#?}",
        p.diagnostics
    );
}

// ---------------------------------------------------------------------------------------------
// Call counts, --refresh=false, --target

#[tokio::test]
async fn no_change_plan_makes_one_get_role_per_workload_plus_two() {
    for n in [1, 7, 25] {
        let mut w = World::new(spec_text(&many_workloads(n), ""));
        for i in 0..n {
            w.cloud.add_role(&account(i), ROLE, EC2_TRUST);
        }
        w.converge().await;
        w.cloud.reset_calls();
        let p = w.plan().await;
        assert_all_noop(&p);
        assert_eq!(w.cloud.call_count(), n as u64 + 2, "n = {n}");
        assert_eq!(p.summary.aws_calls, n as u64 + 2, "n = {n}");
    }
}

#[tokio::test]
async fn refresh_false_plans_a_removed_workload_without_judging_foreign_statements_it_cannot_see() {
    let mut w = two_world();
    w.converge().await;
    w.set_spec(dev_spec());
    let p = w.plan_with(&PlanOptions { refresh: false, ..PlanOptions::default() }).await;
    assert!(p.errors().next().is_none(), "{:#?}", p.diagnostics);
    assert_eq!(change(&p, "trust.test").actions, [Action::Delete]);
}

#[tokio::test]
async fn refresh_false_makes_no_calls_and_is_not_applyable() {
    let mut w = dev_world();
    w.converge().await;
    // Drift that a refresh would see, and a new workload in the file.
    w.cloud.set_trust(&account(0), ROLE, EC2_TRUST);
    w.cloud.add_role(&account(1), ROLE, EC2_TRUST);
    w.set_spec(two_spec());
    w.cloud.reset_calls();

    let p = w.plan_with(&PlanOptions { refresh: false, ..PlanOptions::default() }).await;
    assert_eq!(w.cloud.call_count(), 0);
    assert_eq!(p.summary.aws_calls, 0);
    assert!(!p.refreshed);
    assert!(!p.applyable);
    assert!(p.diagnostics.iter().any(|d| d.severity == Level::Warning && d.message.contains("refresh")));
    assert!(p.errors().next().is_none(), "{:#?}", p.diagnostics);
    assert_eq!(change(&p, "trust.dev").actions, [Action::NoOp], "state says it is there");
    assert!(p.drift.is_empty());
    assert_eq!(change(&p, "trust.test").actions, [Action::Create]);
    assert_eq!(change(&p, "assume_policy.management").actions, [Action::Update]);
}

#[tokio::test]
async fn a_target_that_names_nothing_is_an_error_with_the_nearest_address() {
    let w = two_world();
    let opts = PlanOptions { targets: vec!["trust.dve".parse().unwrap()], ..PlanOptions::default() };
    let p = w.plan_with(&opts).await;
    assert!(!p.applyable);
    let errs: Vec<_> = p.diagnostics.iter().filter(|d| d.severity == Level::Error).collect();
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(errs[0].message.contains("`trust.dve` names nothing"), "{}", errs[0].message);
    assert!(errs[0].message.contains("did you mean `trust.dev`?"), "{}", errs[0].message);
}

#[tokio::test]
async fn target_plans_only_the_target_and_its_dependencies_with_a_warning() {
    let w = two_world();
    let opts = PlanOptions { targets: vec!["trust.dev".parse().unwrap()], ..PlanOptions::default() };
    let p = w.plan_with(&opts).await;
    assert_eq!(addresses(&p), ["role.dev", "role.management", "trust.dev"]);
    assert_eq!(p.targets, ["trust.dev"]);
    assert!(p.applyable);
    assert_eq!(p.summary.create, 1);
    let warns: Vec<_> = p.diagnostics.iter().filter(|d| d.severity == Level::Warning).collect();
    assert_eq!(warns.len(), 1, "{warns:#?}");
    assert!(warns[0].message.contains("trust.dev") && warns[0].message.contains("incomplete"), "{}", warns[0].message);

    let opts = PlanOptions { targets: vec![mdev().parse().unwrap()], ..PlanOptions::default() };
    let p = w.plan_with(&opts).await;
    assert_eq!(
        addresses(&p),
        ["role.dev", "role.management", "role.test", "trust.dev", "assume_policy.management", mdev().as_str()]
    );
}

#[tokio::test]
async fn target_keeps_errors_of_what_it_plans_and_drops_the_rest() {
    let w = two_world();
    let cloud = std::sync::Arc::new(xacct_plan::memory::MemoryCloud::new());
    cloud.add_role(MGMT, ROLE, EC2_TRUST);
    cloud.add_role(&account(0), ROLE, EC2_TRUST); // role of `test` is missing
    let spec = w.spec();
    let opts = PlanOptions { targets: vec!["trust.dev".parse().unwrap()], ..PlanOptions::default() };
    let p = xacct_plan::plan(&spec, w.spec_text.as_bytes(), None, cloud.clone(), &opts, &()).await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    let opts = PlanOptions { targets: vec!["trust.test".parse().unwrap()], ..PlanOptions::default() };
    let p = xacct_plan::plan(&spec, w.spec_text.as_bytes(), None, cloud, &opts, &()).await;
    assert!(!p.applyable);
    assert!(p.errors().any(|d| d.address.as_deref() == Some("role.test")));
}

#[tokio::test]
async fn target_can_name_a_resource_removed_from_the_file() {
    let mut w = two_world();
    w.converge().await;
    w.set_spec(dev_spec());
    let opts = PlanOptions { targets: vec!["trust.test".parse().unwrap()], ..PlanOptions::default() };
    let p = w.plan_with(&opts).await;
    assert_eq!(addresses(&p), ["trust.test"]);
    assert_eq!(change(&p, "trust.test").actions, [Action::Delete]);
}

#[tokio::test]
async fn saved_plan_round_trips() {
    let w = dev_world();
    let p = w.plan().await;
    let back = xacct_plan::Plan::from_json(&p.to_json()).unwrap();
    assert_eq!(back, p);
    let v: Value = serde_json::from_str(&p.to_json()).unwrap();
    let trust = v["changes"].as_array().unwrap().iter().find(|c| c["address"] == "trust.dev").unwrap();
    assert_eq!(trust["actions"], json!(["create"]));
    assert_eq!(trust["kind"], json!("trust"));
    assert_eq!(trust["drift"], json!(false));
}

// ---------------------------------------------------------------------------------------------
// Found in code review: a record made ahead of a write that never happened, and renames split
// by --target or made twice.

fn dev_with_identity(name: &str) -> String {
    spec_text(
        &[workload("dev", &account(0), &[DEV_MANIFEST])
            .replace("    manifests:", &format!("    identity: {{ name: {name} }}\n    manifests:"))],
        "",
    )
}

/// What the executor leaves when it is killed after recording a manifest change ahead of its
/// write: the change's record in state, the file as it was.
fn record_ahead(w: &mut World, c: &xacct_plan::Change) {
    w.state.insert(
        c.address.to_string(),
        xacct_state::ResourceState { kind: c.kind.clone(), attributes: c.state_after.clone() },
    );
}

#[tokio::test]
async fn an_identity_change_recorded_but_never_written_is_still_undone_by_a_removal() {
    let mut w = dev_world();
    w.converge().await;
    let applied = w.read_file(DEV_MANIFEST);
    w.set_spec(dev_with_identity("other"));
    let p = w.plan().await;
    record_ahead(&mut w, change(&p, &mdev()));
    assert_eq!(w.read_file(DEV_MANIFEST), applied);

    w.set_spec(spec_text(&[], ""));
    let p = w.plan().await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    assert_eq!(change(&p, &mdev()).actions, [Action::Delete]);
    w.apply(&p).await;
    assert_eq!(w.read_file(DEV_MANIFEST), MANIFEST, "the edits that were written are undone");
}

#[tokio::test]
async fn an_identity_change_recorded_but_never_written_keeps_the_older_record() {
    let mut w = dev_world();
    w.converge().await;
    w.set_spec(dev_with_identity("other"));
    let p = w.plan().await;
    record_ahead(&mut w, change(&p, &mdev()));

    w.set_spec(dev_with_identity("third"));
    let p = w.plan().await;
    w.apply(&p).await;
    assert!(w.read_file(DEV_MANIFEST).contains("name: third"));
    w.set_spec(spec_text(&[], ""));
    let p = w.plan().await;
    w.apply(&p).await;
    assert_eq!(w.read_file(DEV_MANIFEST), MANIFEST, "every step xacct wrote is undone");
}

#[tokio::test]
async fn a_target_never_splits_a_rename() {
    let mut w = dev_world();
    w.converge().await;
    w.set_spec(spec_text(&[workload("c", &account(0), &[DEV_MANIFEST])], ""));
    for target in [mdev(), manifest_addr("c", DEV_MANIFEST), "trust.dev".into()] {
        let opts = PlanOptions { targets: vec![target.parse().unwrap()], ..PlanOptions::default() };
        let p = w.plan_with(&opts).await;
        let kept = addresses(&p);
        let (old, new) = if target.contains("trust") {
            ("trust.dev".to_string(), "trust.c".to_string())
        } else {
            (mdev(), manifest_addr("c", DEV_MANIFEST))
        };
        assert!(kept.contains(&old) && kept.contains(&new), "--target {target}: {kept:?}");
        assert_eq!(change(&p, &new).replaces.as_ref().map(ToString::to_string), Some(old.clone()));
        assert!(change(&p, &old).depends_on.iter().any(|d| d.to_string() == new), "{:?}", change(&p, &old).depends_on);
    }
    let opts = PlanOptions { targets: vec![mdev().parse().unwrap()], ..PlanOptions::default() };
    let p = w.plan_with(&opts).await;
    w.apply(&p).await;
    w.converge().await;
    w.set_spec(spec_text(&[], ""));
    w.converge().await;
    assert_eq!(w.read_file(DEV_MANIFEST), MANIFEST);
}

#[tokio::test]
async fn two_stored_names_for_one_statement_are_both_forgotten_never_deleted() {
    let mut w = dev_world();
    w.converge().await;
    let trust = w.cloud.trust(&account(0), ROLE).unwrap();
    // As an older xacct could leave it: the statement recorded under an old name and a new one.
    let entry = w.state.resources.get("trust.dev").unwrap().clone();
    w.state.insert("trust.b".to_string(), entry);
    w.set_spec(spec_text(&[workload("c", &account(0), &[DEV_MANIFEST])], ""));

    let p = w.plan().await;
    assert_eq!(change(&p, "trust.dev").actions, [Action::Forget]);
    assert_eq!(change(&p, "trust.b").actions, [Action::Forget]);
    assert_eq!(change(&p, "trust.c").actions, [Action::NoOp]);
    w.apply(&p).await;
    assert_eq!(w.cloud.trust(&account(0), ROLE).unwrap(), trust, "the live statement stays");
    assert_all_noop(&w.plan().await);
}

#[tokio::test]
async fn a_manifest_edited_by_hand_then_removed_is_still_an_error_not_a_silent_forget() {
    let mut w = dev_world();
    w.converge().await;
    let applied = w.read_file(DEV_MANIFEST);
    let edited = applied.replacen(
        "kind: AWSClusterRoleIdentity\nmetadata:\n",
        "kind: AWSClusterRoleIdentity\nmetadata:\n  labels: { team: a }\n",
        1,
    );
    assert_ne!(edited, applied);
    w.write_file(DEV_MANIFEST, &edited);
    w.set_spec(spec_text(&[], ""));
    let p = w.plan().await;
    assert!(!p.applyable);
    let e: Vec<_> = p.errors().collect();
    assert!(e.iter().any(|d| d.message.contains("cannot remove xacct's edits")), "{e:#?}");
}

#[tokio::test]
async fn a_target_on_a_no_op_does_not_pull_in_unrelated_removals() {
    let org = "  assume_policy:\n    grant: { organization: o-abcdefghij }\n";
    let mut w = World::new(spec_text(
        &[workload("dev", &account(0), &[DEV_MANIFEST]), workload("prod", &account(1), &["clusters/prod-1.yaml"])],
        org,
    ));
    w.cloud.add_role(&account(0), ROLE, EC2_TRUST);
    w.cloud.add_role(&account(1), ROLE, EC2_TRUST);
    w.write_file(DEV_MANIFEST, MANIFEST);
    w.write_file("clusters/prod-1.yaml", &MANIFEST.replace("dev-1", "prod-1"));
    w.converge().await;
    w.set_spec(spec_text(&[workload("dev", &account(0), &[DEV_MANIFEST])], org));
    let opts = PlanOptions { targets: vec![mdev().parse().unwrap()], ..PlanOptions::default() };
    let p = w.plan_with(&opts).await;
    let kept = addresses(&p);
    assert!(!kept.iter().any(|a| a.contains("prod")), "{kept:?}");
}

// ---------------------------------------------------------------------------------------------
// ClusterClass: the identity a topology Cluster ends up with

/// A topology `Cluster`, its ClusterClass (no `identityRef` variable) and the class's template.
const QUICK_START: &str = "\
apiVersion: cluster.x-k8s.io/v1beta1
kind: Cluster
metadata:
  name: shop-1
  namespace: team-a
spec:
  topology:
    class: quick
    version: v1.30.0
---
apiVersion: cluster.x-k8s.io/v1beta1
kind: ClusterClass
metadata:
  name: quick
  namespace: team-a
spec:
  infrastructure:
    ref: {apiVersion: infrastructure.cluster.x-k8s.io/v1beta2, kind: AWSClusterTemplate, name: quick}
---
apiVersion: infrastructure.cluster.x-k8s.io/v1beta2
kind: AWSClusterTemplate
metadata:
  name: quick
  namespace: team-a
spec:
  template:
    spec:
      region: us-west-2 # keep me
";

#[tokio::test]
async fn a_clusterclass_template_gets_the_identity_and_the_plan_says_every_cluster_of_the_class_uses_it() {
    let mut w = dev_world();
    w.write_file(DEV_MANIFEST, QUICK_START);
    let p = w.plan().await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    let m = change(&p, &mdev());
    assert_eq!(m.actions, [Action::Create]);
    let text = m.write.as_deref().unwrap();
    assert!(text.contains("    spec:\n      identityRef:\n        kind: AWSClusterRoleIdentity\n        name: dev\n      region: us-west-2 # keep me\n"), "{text}");
    let warned: Vec<&str> = p
        .diagnostics
        .iter()
        .filter(|d| d.severity == Level::Warning && d.address.as_deref() == Some(mdev().as_str()))
        .map(|d| d.message.as_str())
        .collect();
    let shared = format!(
        "clusters/dev-1.yaml:20:1: `AWSClusterTemplate` `team-a/quick` is the template of ClusterClass `team-a/quick`, which has no `identityRef` variable: every cluster of that class (`Cluster` `team-a/shop-1` in this file) uses `AWSClusterRoleIdentity` `dev` (the role in account {}), not only this file's; to give clusters of one class different accounts, declare an `identityRef` variable in the class",
        account(0)
    );
    assert!(warned.iter().any(|m| m.starts_with(&shared)), "{warned:#?}");
    assert!(!warned.iter().any(|m| m.contains("keeps the controller's default identity")), "{warned:#?}");

    w.apply(&p).await;
    // Nothing left to do; the warning stays, as true on every plan as on the first.
    let again = w.plan().await;
    assert!(again.applyable && again.pending().next().is_none() && again.drift.is_empty(), "{again:#?}");
    let said: Vec<&str> = again.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert!(said.len() == 1 && said[0].starts_with(&shared), "{said:#?}");
    // Removing the workload gives the file back byte for byte.
    w.set_spec(spec_text(&[], ""));
    let p = w.plan().await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    assert_eq!(change(&p, &mdev()).actions, [Action::Delete]);
    w.apply(&p).await;
    assert_eq!(w.read_file(DEV_MANIFEST), QUICK_START);
}

#[tokio::test]
async fn a_topology_cluster_alone_without_the_variable_is_an_error_that_says_what_it_may_use() {
    let w = dev_world();
    let alone = QUICK_START.split("---\n").next().unwrap();
    w.write_file(DEV_MANIFEST, alone);
    let p = w.plan().await;
    assert!(!p.applyable);
    let e: Vec<&str> =
        p.errors().filter(|d| d.address.as_deref() == Some(mdev().as_str())).map(|d| d.message.as_str()).collect();
    assert_eq!(e.len(), 1, "{:#?}", p.diagnostics);
    assert!(e[0].contains(":1:1: no object carries an identity"), "{}", e[0]);
    assert!(
        e[0].contains("; `Cluster` `team-a/shop-1` has no `identityRef` variable and its ClusterClass `team-a/quick` is not in this file: it gets whatever identity that class gives it, which may be the controller's default identity (the management account); if the class declares an `identityRef` variable, add `{name: identityRef, value: {}}` under `spec.topology.variables`"),
        "{}",
        e[0]
    );
}
