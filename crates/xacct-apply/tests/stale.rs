//! `check_stale`, reason by reason: each test moves one thing a saved plan read and asserts the
//! exact line the refusal gives (or that nothing is refused). Live IAM is a `MemoryCloud` behind
//! a wrapper that can hide a role (deleted outside xacct) or fail reads in an account.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use xacct_apply::{apply, check_stale, ApplyOptions, Stale};
use xacct_plan::memory::MemoryCloud;
use xacct_plan::{plan, Action, Cloud, CloudError, DocRef, LiveRole, Plan, PlanOptions};
use xacct_state::{Backend, LocalBackend, State};

const MGMT: &str = "111111111111";
const DEV: &str = "222222222222";
const TEST: &str = "333333333333";
const ROLE: &str = "control-plane.cluster-api-provider-aws.sigs.k8s.io";
const POLICY: &str = "xacct-assume-workload-roles";
const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const LAMBDA_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const MANIFEST: &str = "\
apiVersion: infrastructure.cluster.x-k8s.io/v1beta2
kind: AWSCluster
metadata:
  name: dev-1
  namespace: team-a
spec:
  region: us-west-2
";
const M_DEV: &str = "manifest.dev[\"clusters/dev-1.yaml\"]";

/// Live IAM as the stale check sees it: a `MemoryCloud`, minus the roles of `hidden` accounts
/// (as if deleted), with every read in a `broken` account failing.
#[derive(Default)]
struct Rigged {
    inner: MemoryCloud,
    hidden: Mutex<BTreeSet<String>>,
    broken: Mutex<BTreeSet<String>>,
}

impl Rigged {
    fn hide(&self, account: &str) {
        self.hidden.lock().unwrap().insert(account.into());
    }
    fn unhide(&self, account: &str) {
        self.hidden.lock().unwrap().remove(account);
    }
    fn break_reads(&self, account: &str) {
        self.broken.lock().unwrap().insert(account.into());
    }
    fn read(&self, account: &str, action: &str) -> Result<(), CloudError> {
        if self.broken.lock().unwrap().contains(account) {
            return Err(CloudError::Other {
                account: account.into(),
                action: action.into(),
                message: "connection reset".into(),
            });
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Cloud for Rigged {
    async fn get_role(&self, a: &str, r: &str) -> Result<Option<LiveRole>, CloudError> {
        self.read(a, "iam:GetRole")?;
        if self.hidden.lock().unwrap().contains(a) {
            return Ok(None);
        }
        self.inner.get_role(a, r).await
    }
    async fn list_role_policies(&self, a: &str, r: &str) -> Result<Vec<String>, CloudError> {
        self.read(a, "iam:ListRolePolicies")?;
        self.inner.list_role_policies(a, r).await
    }
    async fn get_role_policy(&self, a: &str, r: &str, p: &str) -> Result<Option<String>, CloudError> {
        self.read(a, "iam:GetRolePolicy")?;
        self.inner.get_role_policy(a, r, p).await
    }
    async fn trust_policy_quota(&self, a: &str) -> Result<usize, CloudError> {
        self.inner.trust_policy_quota(a).await
    }
    async fn update_trust_policy(&self, a: &str, r: &str, e: &str, d: &str) -> Result<(), CloudError> {
        self.inner.update_trust_policy(a, r, e, d).await
    }
    async fn put_role_policy(&self, a: &str, r: &str, p: &str, e: Option<&str>, d: &str) -> Result<(), CloudError> {
        self.inner.put_role_policy(a, r, p, e, d).await
    }
    async fn delete_role_policy(&self, a: &str, r: &str, p: &str, e: &str) -> Result<(), CloudError> {
        self.inner.delete_role_policy(a, r, p, e).await
    }
    async fn wait_consistent(&self, d: &DocRef, t: Option<&str>) -> Result<(), CloudError> {
        self.inner.wait_consistent(d, t).await
    }
    fn call_count(&self) -> u64 {
        self.inner.call_count()
    }
}

struct World {
    dir: tempfile::TempDir,
    cloud: Arc<Rigged>,
    backend: LocalBackend,
}

impl World {
    /// Roles in the management account and in DEV and TEST, each trusting ec2; DEV's manifest.
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("clusters")).unwrap();
        std::fs::write(dir.path().join("clusters/dev-1.yaml"), MANIFEST).unwrap();
        let cloud = Arc::new(Rigged::default());
        for a in [MGMT, DEV, TEST] {
            cloud.inner.add_role(a, ROLE, EC2_TRUST);
        }
        let backend = LocalBackend::new(dir.path().join("state/default.json"));
        World { dir, cloud, backend }
    }

    fn cloud(&self) -> Arc<dyn Cloud> {
        self.cloud.clone()
    }

    async fn state(&self) -> Option<State> {
        self.backend.load().await.unwrap()
    }

    /// Plan workload `dev` (with its manifest), and `test` too when `with_test`.
    async fn plan_with(&self, with_test: bool, refresh: bool) -> Plan {
        let mut text = format!(
            "version: 1\nmanagement:\n  account: \"{MGMT}\"\nworkloads:\n  - name: dev\n    account: \"{DEV}\"\n    manifests: [clusters/dev-1.yaml]\n"
        );
        if with_test {
            text.push_str(&format!("  - name: test\n    account: \"{TEST}\"\n"));
        }
        let path = self.dir.path().join("xacct.yaml");
        std::fs::write(&path, &text).unwrap();
        let spec = xacct_spec::parse_str(&path, &text).unwrap().spec;
        let opts = PlanOptions { refresh, ..PlanOptions::default() };
        plan(&spec, text.as_bytes(), self.state().await.as_ref(), self.cloud(), &opts, &()).await
    }

    async fn plan(&self, with_test: bool) -> Plan {
        let p = self.plan_with(with_test, true).await;
        assert!(p.applyable, "{:#?}", p.diagnostics);
        p
    }

    async fn apply(&self, p: &Plan) {
        let (report, _) =
            apply(p, self.cloud(), &self.backend, self.state().await, &ApplyOptions::default(), &()).await;
        assert!(report.ok(), "{report:?}");
    }

    /// `check_stale` against the state on disk now.
    async fn check(&self, p: &Plan) -> Result<(), Stale> {
        check_stale(p, self.state().await.as_ref(), self.cloud()).await
    }

    /// A world where `dev` is applied, and a plan that adds `test` (so `trust.dev`, its role and
    /// its manifest are no-ops, and the assume policy is an update).
    async fn applied_then_adding_test() -> (World, Plan) {
        let w = World::new();
        let first = w.plan(false).await;
        w.apply(&first).await;
        let p = w.plan(true).await;
        (w, p)
    }
}

fn action(p: &Plan, address: &str) -> Action {
    p.changes.iter().find(|c| c.address.to_string() == address).unwrap_or_else(|| panic!("no {address}")).action()
}

/// The refusal's lines, asserting the whole message wraps them as documented.
fn lines(r: Result<(), Stale>) -> Vec<String> {
    let stale = r.expect_err("the plan should be refused as stale");
    let text = stale.to_string();
    let body: String = stale.0.iter().map(|l| format!("\n  - {l}")).collect();
    assert_eq!(text, format!("the saved plan is stale; nothing was written:{body}\nhint: run `xacct plan` again"));
    stale.0
}

fn moved(address: &str, what: &str) -> String {
    format!("{address}: the live document {what} since the plan was made")
}

#[tokio::test]
async fn a_fresh_plan_with_nothing_moved_is_not_stale() {
    let w = World::new();
    let p = w.plan(false).await;
    assert_eq!(w.check(&p).await, Ok(()), "no state, nothing moved");
    w.apply(&p).await;
    let p = w.plan(false).await;
    assert!(p.lineage.is_some() && p.serial.is_some());
    assert_eq!(w.check(&p).await, Ok(()), "made against the current state, nothing moved");
}

#[tokio::test]
async fn a_plan_made_with_refresh_false_is_refused() {
    let w = World::new();
    let mut p = w.plan(false).await;
    p.refreshed = false;
    assert_eq!(lines(w.check(&p).await), ["the plan was made with --refresh=false and never read live IAM"]);

    // The planner's own --refresh=false plan says so too (among what it could not read).
    let p = w.plan_with(false, false).await;
    assert!(!p.applyable && !p.refreshed);
    let got = lines(w.check(&p).await);
    assert_eq!(got[0], "the plan was made with --refresh=false and never read live IAM", "{got:#?}");
}

#[tokio::test]
async fn a_plan_made_before_any_state_is_refused_once_state_exists() {
    let w = World::new();
    let p = w.plan(false).await;
    w.apply(&w.plan(false).await).await;
    let serial = w.state().await.unwrap().serial;
    // Not a lineage line: the plan had no lineage to compare. (The documents it would write have
    // been written since, too.)
    assert_eq!(
        lines(w.check(&p).await),
        [
            format!("state serial is {serial} but the plan was made at (no state) (someone applied since)"),
            moved("trust.dev", "changed"),
            moved("assume_policy.management", "appeared"),
            moved(M_DEV, "changed"),
        ]
    );
}

#[tokio::test]
async fn a_serial_that_moved_is_refused() {
    let (w, p) = World::applied_then_adding_test().await;
    let planned = p.serial.unwrap();
    // Someone else wrote state since (same lineage, one more serial).
    let mut state = w.state().await.unwrap();
    xacct_state::commit(&w.backend, &mut state, "0.0.0").await.unwrap();
    assert_eq!(
        lines(w.check(&p).await),
        [format!("state serial is {} but the plan was made at {planned} (someone applied since)", planned + 1)]
    );
}

#[tokio::test]
async fn a_state_that_went_away_is_refused_as_a_lineage_change() {
    let (w, p) = World::applied_then_adding_test().await;
    let lineage = p.lineage.clone().unwrap();
    let got = check_stale(&p, None, w.cloud()).await;
    assert_eq!(lines(got), [format!("state lineage is (no state) but the plan was made against {lineage}")]);
}

#[tokio::test]
async fn a_replaced_state_is_refused_as_a_lineage_change_not_a_serial_one() {
    let (w, p) = World::applied_then_adding_test().await;
    let mut other = State::new("0.0.0");
    other.serial = p.serial.unwrap() + 7;
    assert_ne!(Some(&other.lineage), p.lineage.as_ref());
    let got = check_stale(&p, Some(&other), w.cloud()).await;
    assert_eq!(
        lines(got),
        [format!("state lineage is {} but the plan was made against {}", other.lineage, p.lineage.as_deref().unwrap())]
    );
    // Same serial, another lineage: still refused.
    other.serial = p.serial.unwrap();
    assert_eq!(lines(check_stale(&p, Some(&other), w.cloud()).await).len(), 1);
}

#[tokio::test]
async fn a_trust_document_edited_out_of_band_is_refused() {
    let w = World::new();
    let p = w.plan(false).await;
    w.cloud.inner.set_trust(DEV, ROLE, LAMBDA_TRUST);
    assert_eq!(lines(w.check(&p).await), [moved("trust.dev", "changed")]);
}

#[tokio::test]
async fn whitespace_and_key_order_in_a_trust_document_do_not_count() {
    let w = World::new();
    let p = w.plan(false).await;
    let v: serde_json::Value = serde_json::from_str(EC2_TRUST).unwrap();
    w.cloud.inner.set_trust(DEV, ROLE, &serde_json::to_string_pretty(&v).unwrap());
    assert_eq!(w.check(&p).await, Ok(()));
}

#[tokio::test]
async fn a_deleted_role_is_refused_as_gone() {
    let w = World::new();
    let p = w.plan(false).await;
    w.cloud.hide(DEV);
    assert_eq!(lines(w.check(&p).await), [moved("role.dev", "is gone"), moved("trust.dev", "is gone")]);
}

#[tokio::test]
async fn a_role_that_appeared_is_refused() {
    let w = World::new();
    w.cloud.hide(DEV);
    let p = w.plan_with(false, true).await;
    assert!(p.changes.iter().any(|c| c.address.to_string() == "role.dev" && c.live_fingerprint.is_none()));
    w.cloud.unhide(DEV);
    assert_eq!(lines(w.check(&p).await), [moved("role.dev", "appeared"), moved("trust.dev", "appeared")]);
}

#[tokio::test]
async fn a_role_re_created_under_the_same_name_is_refused_though_its_precondition_is_a_no_op() {
    let w = World::new();
    let p = w.plan(false).await;
    assert_eq!(action(&p, "role.dev"), Action::NoOp);
    // Deleted and created again with the same trust: only the unique ID tells.
    w.cloud.inner.add_role(DEV, ROLE, EC2_TRUST);
    assert_eq!(lines(w.check(&p).await), [moved("role.dev", "changed")]);
}

#[tokio::test]
async fn a_no_op_that_is_not_a_role_is_not_re_read() {
    let (w, p) = World::applied_then_adding_test().await;
    assert_eq!(action(&p, "trust.dev"), Action::NoOp);
    assert_eq!(action(&p, M_DEV), Action::NoOp);
    // Edits to what the plan does not touch do not make it stale.
    w.cloud.inner.set_trust(DEV, ROLE, LAMBDA_TRUST);
    std::fs::write(w.dir.path().join("clusters/dev-1.yaml"), "edited: by hand\n").unwrap();
    assert_eq!(w.check(&p).await, Ok(()));
    // A role precondition is checked all the same, no-op as it is.
    w.cloud.inner.add_role(DEV, ROLE, EC2_TRUST);
    assert_eq!(lines(w.check(&p).await), [moved("role.dev", "changed")]);
}

#[tokio::test]
async fn an_inline_policy_that_appeared_changed_or_went_away_is_refused() {
    let w = World::new();
    let p = w.plan(false).await;
    assert_eq!(action(&p, "assume_policy.management"), Action::Create);
    w.cloud.inner.set_policy(MGMT, ROLE, POLICY, Some(r#"{"Version":"2012-10-17","Statement":[]}"#));
    assert_eq!(lines(w.check(&p).await), [moved("assume_policy.management", "appeared")]);

    let (w, p) = World::applied_then_adding_test().await;
    assert_eq!(action(&p, "assume_policy.management"), Action::Update);
    w.cloud.inner.set_policy(MGMT, ROLE, POLICY, Some(r#"{"Version":"2012-10-17","Statement":[]}"#));
    assert_eq!(lines(w.check(&p).await), [moved("assume_policy.management", "changed")]);
    w.cloud.inner.set_policy(MGMT, ROLE, POLICY, None);
    assert_eq!(lines(w.check(&p).await), [moved("assume_policy.management", "is gone")]);
}

#[tokio::test]
async fn a_manifest_whose_bytes_changed_or_that_went_away_is_refused() {
    let w = World::new();
    let p = w.plan(false).await;
    let file = w.dir.path().join("clusters/dev-1.yaml");
    // One byte more (a trailing newline) is a change: manifests are compared byte for byte.
    std::fs::write(&file, format!("{MANIFEST}\n")).unwrap();
    assert_eq!(lines(w.check(&p).await), [moved(M_DEV, "changed")]);
    std::fs::remove_file(&file).unwrap();
    assert_eq!(lines(w.check(&p).await), [moved(M_DEV, "is gone")]);
}

#[tokio::test]
async fn a_document_that_cannot_be_re_read_is_refused_with_the_error() {
    let w = World::new();
    let p = w.plan(false).await;
    w.cloud.break_reads(DEV);
    w.cloud.break_reads(MGMT);
    let err = |account: &str, action: &str| format!("`{action}` failed in account {account}: connection reset");
    assert_eq!(
        lines(w.check(&p).await),
        [
            format!("role.dev: cannot re-read: {}", err(DEV, "iam:GetRole")),
            format!("role.management: cannot re-read: {}", err(MGMT, "iam:GetRole")),
            format!("trust.dev: cannot re-read: {}", err(DEV, "iam:GetRole")),
            format!("assume_policy.management: cannot re-read: {}", err(MGMT, "iam:GetRolePolicy")),
        ]
    );
}

#[tokio::test]
async fn every_reason_is_listed_at_once_in_plan_order() {
    let (w, p) = World::applied_then_adding_test().await;
    let mut p = p;
    p.refreshed = false;
    let mut state = w.state().await.unwrap();
    xacct_state::commit(&w.backend, &mut state, "0.0.0").await.unwrap();
    w.cloud.inner.set_trust(TEST, ROLE, LAMBDA_TRUST);
    w.cloud.inner.set_policy(MGMT, ROLE, POLICY, None);
    assert_eq!(
        lines(w.check(&p).await),
        [
            "the plan was made with --refresh=false and never read live IAM".to_string(),
            format!(
                "state serial is {} but the plan was made at {} (someone applied since)",
                state.serial,
                p.serial.unwrap()
            ),
            moved("trust.test", "changed"),
            moved("assume_policy.management", "is gone"),
        ]
    );
}
