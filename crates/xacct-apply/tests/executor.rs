//! The executor on a `MemoryCloud` and a real local state file: dependency order, events,
//! checkpoints after every step, failures that skip only their dependents, interrupts, and
//! deletes in reverse order.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use xacct_apply::{apply, ApplyOptions, Event, Report};
use xacct_plan::memory::MemoryCloud;
use xacct_plan::{plan, Action, Cloud, Plan, PlanOptions};
use xacct_state::{Backend, LocalBackend, State};

const MGMT: &str = "111111111111";
const DEV: &str = "222222222222";
const TEST: &str = "333333333333";
const ROLE: &str = "control-plane.cluster-api-provider-aws.sigs.k8s.io";
const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
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

struct World {
    dir: tempfile::TempDir,
    cloud: Arc<MemoryCloud>,
    backend: LocalBackend,
}

fn spec_text(workloads: bool) -> String {
    let list = if workloads {
        format!(
            "workloads:\n  - name: dev\n    account: \"{DEV}\"\n    manifests: [clusters/dev-1.yaml]\n  - name: test\n    account: \"{TEST}\"\n"
        )
    } else {
        "workloads: []\n".to_string()
    };
    format!("version: 1\nmanagement:\n  account: \"{MGMT}\"\n{list}")
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("clusters")).unwrap();
        std::fs::write(dir.path().join("clusters/dev-1.yaml"), MANIFEST).unwrap();
        let cloud = Arc::new(MemoryCloud::new());
        for a in [MGMT, DEV, TEST] {
            cloud.add_role(a, ROLE, EC2_TRUST);
        }
        let backend = LocalBackend::new(dir.path().join("state/default.json"));
        World { dir, cloud, backend }
    }

    async fn state(&self) -> Option<State> {
        self.backend.load().await.unwrap()
    }

    async fn plan(&self, workloads: bool) -> Plan {
        let path = self.dir.path().join("xacct.yaml");
        let text = spec_text(workloads);
        std::fs::write(&path, &text).unwrap();
        let spec = xacct_spec::parse_str(&path, &text).unwrap().spec;
        let cloud: Arc<dyn Cloud> = self.cloud.clone();
        let p = plan(&spec, text.as_bytes(), self.state().await.as_ref(), cloud, &PlanOptions::default(), &()).await;
        assert!(p.applyable, "{:#?}", p.diagnostics);
        p
    }

    async fn apply(&self, p: &Plan, opts: &ApplyOptions) -> (Report, Vec<Event>) {
        let events = Mutex::new(Vec::new());
        let sink = |e: &Event| events.lock().unwrap().push(e.clone());
        let cloud: Arc<dyn Cloud> = self.cloud.clone();
        let (report, _) = apply(p, cloud, &self.backend, self.state().await, opts, &sink).await;
        (report, events.into_inner().unwrap())
    }
}

/// Position of the first event matching `f`.
fn pos(events: &[Event], f: impl Fn(&Event) -> bool) -> usize {
    events.iter().position(f).unwrap_or_else(|| panic!("no such event in {events:#?}"))
}

fn done(addr: &str) -> impl Fn(&Event) -> bool + '_ {
    move |e| matches!(e, Event::Done { address, .. } if address.to_string() == addr)
}

fn started(addr: &str) -> impl Fn(&Event) -> bool + '_ {
    move |e| matches!(e, Event::Started { address, .. } if address.to_string() == addr)
}

fn propagating(addr: &str) -> impl Fn(&Event) -> bool + '_ {
    move |e| matches!(e, Event::Propagating { address } if address.to_string() == addr)
}

#[tokio::test]
async fn applies_in_dependency_order_checkpointing_after_every_step() {
    use std::os::unix::fs::PermissionsExt;
    let w = World::new();
    let manifest = w.dir.path().join("clusters/dev-1.yaml");
    std::fs::set_permissions(&manifest, std::fs::Permissions::from_mode(0o644)).unwrap();
    let p = w.plan(true).await;
    let (report, events) = w.apply(&p, &ApplyOptions::default()).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.done.len(), 4, "{report:?}");
    assert_eq!(events[0], Event::Begin { steps: 4 });

    // IAM writes report the wait for IAM to settle before they are done; the manifest waits for
    // the trust statement and the assume policy.
    for a in ["trust.dev", "trust.test", "assume_policy.management"] {
        assert!(pos(&events, started(a)) < pos(&events, propagating(a)), "{a}: {events:#?}");
        assert!(pos(&events, propagating(a)) < pos(&events, done(a)), "{a}: {events:#?}");
    }
    assert!(!events.iter().any(propagating(M_DEV)), "a manifest has no IAM to wait for");
    let m = pos(&events, started(M_DEV));
    assert!(pos(&events, done("trust.dev")) < m && pos(&events, done("assume_policy.management")) < m);

    // One checkpoint per step, serials 1..=4, and the state on disk has all four.
    let serials: Vec<u64> =
        events.iter().filter_map(|e| if let Event::StateSaved { serial } = e { Some(*serial) } else { None }).collect();
    assert_eq!(serials, [1, 2, 3, 4]);
    let state = w.state().await.unwrap();
    assert_eq!(state.serial, 4);
    let mut keys: Vec<&String> = state.resources.keys().collect();
    keys.sort();
    assert_eq!(keys, ["assume_policy.management", M_DEV, "trust.dev", "trust.test"]);
    let mode = std::fs::metadata(&manifest).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "the patched manifest keeps its permissions");

    // Converged: the next plan has nothing to do, and applying it writes nothing.
    let again = w.plan(true).await;
    assert!(again.changes.iter().all(|c| c.action() == Action::NoOp), "{:#?}", again.changes);
    let calls = w.cloud.call_count();
    let (report, events) = w.apply(&again, &ApplyOptions::default()).await;
    assert!(report.ok() && report.done.is_empty());
    assert_eq!(events, [Event::Begin { steps: 0 }]);
    assert_eq!(w.cloud.call_count(), calls);
}

#[tokio::test]
async fn a_failed_step_skips_its_dependents_and_independent_branches_finish() {
    let w = World::new();
    w.cloud.fail_writes_in.lock().unwrap().push(DEV.to_string());
    let p = w.plan(true).await;
    let (report, events) = w.apply(&p, &ApplyOptions { parallelism: 1, ..ApplyOptions::default() }).await;
    assert!(!report.ok());
    let failed: Vec<String> = report.failed.iter().map(|(a, _)| a.to_string()).collect();
    assert_eq!(failed, ["trust.dev"]);
    assert!(report.failed[0].1.contains("injected failure"), "{report:?}");
    let skipped: Vec<String> = report.skipped.iter().map(ToString::to_string).collect();
    assert_eq!(skipped, [M_DEV]);
    assert!(events.iter().any(|e| matches!(e, Event::Skipped { because, .. } if because.contains("trust.dev"))));
    let mut done: Vec<String> = report.done.iter().map(ToString::to_string).collect();
    done.sort();
    assert_eq!(done, ["assume_policy.management", "trust.test"]);
    // State records exactly what was done; the manifest is untouched.
    let state = w.state().await.unwrap();
    assert!(state.resources.contains_key("trust.test") && !state.resources.contains_key("trust.dev"));
    assert_eq!(std::fs::read_to_string(w.dir.path().join("clusters/dev-1.yaml")).unwrap(), MANIFEST);

    // Once the cause is gone, planning and applying again finishes the job.
    w.cloud.fail_writes_in.lock().unwrap().clear();
    let p = w.plan(true).await;
    let (report, _) = w.apply(&p, &ApplyOptions::default()).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.done.len(), 2, "only what was left: {report:?}");
}

#[tokio::test]
async fn an_interrupted_run_starts_nothing_new_and_says_why() {
    let w = World::new();
    let p = w.plan(true).await;
    let opts = ApplyOptions { interrupt: Arc::new(AtomicBool::new(true)), ..ApplyOptions::default() };
    let (report, events) = w.apply(&p, &opts).await;
    assert!(report.interrupted && !report.ok());
    assert!(report.done.is_empty());
    assert_eq!(report.skipped.len(), 4, "{report:?}");
    assert_eq!(events[1], Event::Interrupted);
    for e in &events[2..] {
        assert!(matches!(e, Event::Skipped { because, .. } if because == "the run was interrupted"), "{e:?}");
    }
    assert!(w.state().await.is_none(), "nothing applied, nothing saved");
    assert_eq!(w.cloud.trust(DEV, ROLE).unwrap(), EC2_TRUST);
}

#[tokio::test]
async fn removals_run_in_reverse_order_and_restore_everything() {
    let w = World::new();
    let p = w.plan(true).await;
    assert!(w.apply(&p, &ApplyOptions::default()).await.0.ok());

    let p = w.plan(false).await;
    let (report, events) = w.apply(&p, &ApplyOptions::default()).await;
    assert!(report.ok(), "{report:?}");
    // The manifest stops referring to the identity before the trust it relies on goes away.
    assert!(pos(&events, done(M_DEV)) < pos(&events, started("trust.dev")), "{events:#?}");
    assert!(pos(&events, done(M_DEV)) < pos(&events, started("assume_policy.management")), "{events:#?}");
    for a in [DEV, TEST] {
        let v: serde_json::Value = serde_json::from_str(&w.cloud.trust(a, ROLE).unwrap()).unwrap();
        let want: serde_json::Value = serde_json::from_str(EC2_TRUST).unwrap();
        assert_eq!(v, want);
    }
    assert_eq!(w.cloud.policy(MGMT, ROLE, "xacct-assume-workload-roles"), None);
    assert_eq!(std::fs::read_to_string(w.dir.path().join("clusters/dev-1.yaml")).unwrap(), MANIFEST);
    assert!(w.state().await.unwrap().resources.is_empty());
}

#[tokio::test]
async fn a_manifest_edit_is_recorded_before_the_file_is_written() {
    let w = World::new();
    let p = w.plan(true).await;
    let state_file = w.dir.path().join("state/default.json");
    let manifest = w.dir.path().join("clusters/dev-1.yaml");
    // The checkpoint that follows the manifest step's start holds its record while the file is
    // still as it was: a crash right there leaves state with what undoes the edit.
    let started = std::sync::atomic::AtomicBool::new(false);
    let seen = Mutex::new(None);
    let sink = |e: &Event| match e {
        Event::Started { address, .. } if address.to_string() == M_DEV => {
            started.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Event::StateSaved { .. } if started.load(std::sync::atomic::Ordering::SeqCst) => {
            let mut seen = seen.lock().unwrap();
            if seen.is_none() {
                let state: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
                *seen = Some((state, std::fs::read_to_string(&manifest).unwrap()));
            }
        }
        _ => {}
    };
    let cloud: Arc<dyn Cloud> = w.cloud.clone();
    let (report, _) = apply(&p, cloud, &w.backend, None, &ApplyOptions::default(), &sink).await;
    assert!(report.ok(), "{report:?}");
    let (state, file) = seen.into_inner().unwrap().expect("a checkpoint after the manifest step started");
    assert_eq!(file, MANIFEST, "not written yet");
    let record = &state["resources"][M_DEV];
    assert!(record.is_object(), "the record is already in state: {state:#}");

    // Simulate the crash: the record is in state, the file is back as it was before the write.
    std::fs::write(&manifest, MANIFEST).unwrap();
    let p = w.plan(true).await;
    let c = p.changes.iter().find(|c| c.address.to_string() == M_DEV).unwrap();
    assert!(c.action().writes(), "the edit is made again: {c:#?}");
    assert!(w.apply(&p, &ApplyOptions::default()).await.0.ok());
    // And removing the workload still restores the original bytes.
    let p = w.plan(false).await;
    assert!(w.apply(&p, &ApplyOptions::default()).await.0.ok());
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), MANIFEST);
}

#[tokio::test]
async fn a_manifest_changed_after_planning_fails_and_takes_back_its_record() {
    let w = World::new();
    let p = w.plan(true).await;
    let manifest = w.dir.path().join("clusters/dev-1.yaml");
    let edited = format!("{MANIFEST}# edited after the plan\n");
    std::fs::write(&manifest, &edited).unwrap();
    let (report, _) = w.apply(&p, &ApplyOptions::default()).await;
    let failed: Vec<String> = report.failed.iter().map(|(a, _)| a.to_string()).collect();
    assert_eq!(failed, [M_DEV], "{report:?}");
    assert!(report.failed[0].1.contains("changed since it was read"), "{report:?}");
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), edited, "the file is not touched");
    let state = w.state().await.unwrap();
    assert!(!state.resources.contains_key(M_DEV), "the record made ahead of the write is taken back");
    assert!(state.resources.contains_key("trust.dev"));
}

#[tokio::test]
async fn a_removal_interrupted_after_restoring_the_file_converges() {
    let w = World::new();
    let p = w.plan(true).await;
    assert!(w.apply(&p, &ApplyOptions::default()).await.0.ok());
    // A crash after the file was restored but before state dropped the record.
    let manifest = w.dir.path().join("clusters/dev-1.yaml");
    std::fs::write(&manifest, MANIFEST).unwrap();
    let p = w.plan(false).await;
    let c = p.changes.iter().find(|c| c.address.to_string() == M_DEV).unwrap();
    assert!(c.write.is_none(), "nothing left to undo: {c:#?}");
    assert!(w.apply(&p, &ApplyOptions::default()).await.0.ok());
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), MANIFEST);
    assert!(w.state().await.unwrap().resources.is_empty());
}

async fn plan_text(w: &World, text: &str) -> Plan {
    let path = w.dir.path().join("xacct.yaml");
    std::fs::write(&path, text).unwrap();
    let spec = xacct_spec::parse_str(&path, text).unwrap().spec;
    let cloud: Arc<dyn Cloud> = w.cloud.clone();
    let p = plan(&spec, text.as_bytes(), w.state().await.as_ref(), cloud, &PlanOptions::default(), &()).await;
    assert!(p.applyable, "{:#?}", p.diagnostics);
    p
}

#[tokio::test]
async fn a_rename_whose_new_name_fails_keeps_the_old_record() {
    let w = World::new();
    let p = w.plan(true).await;
    assert!(w.apply(&p, &ApplyOptions::default()).await.0.ok());
    // Renamed, and an external ID added in the same edit: the new name has writes to make.
    let renamed = format!(
        "version: 1\nmanagement:\n  account: \"{MGMT}\"\nworkloads:\n  - name: zed\n    account: \"{DEV}\"\n    external_id: ext-123\n    manifests: [clusters/dev-1.yaml]\n  - name: test\n    account: \"{TEST}\"\n"
    );
    let p = plan_text(&w, &renamed).await;
    w.cloud.fail_writes_in.lock().unwrap().push(DEV.to_string());
    let (report, _) = w.apply(&p, &ApplyOptions::default()).await;
    assert!(!report.ok());
    let keys: Vec<String> = w.state().await.unwrap().resources.keys().cloned().collect();
    assert!(
        keys.contains(&"trust.dev".to_string()) && keys.contains(&M_DEV.to_string()),
        "the old name keeps its record: {keys:?}"
    );
    assert!(!keys.iter().any(|k| k.contains("zed")), "{keys:?}");

    w.cloud.fail_writes_in.lock().unwrap().clear();
    let p = plan_text(&w, &renamed).await;
    assert!(w.apply(&p, &ApplyOptions::default()).await.0.ok());
    let keys: Vec<String> = w.state().await.unwrap().resources.keys().cloned().collect();
    assert!(!keys.iter().any(|k| k == "trust.dev" || k == M_DEV), "{keys:?}");
    let p = w.plan(false).await;
    assert!(w.apply(&p, &ApplyOptions::default()).await.0.ok());
    assert_eq!(std::fs::read_to_string(w.dir.path().join("clusters/dev-1.yaml")).unwrap(), MANIFEST);
}

/// A `Cloud` whose trust writes in DEV panic (a bug in a dependency, say).
struct Panicky(Arc<MemoryCloud>);

#[async_trait::async_trait]
impl Cloud for Panicky {
    async fn get_role(&self, a: &str, r: &str) -> Result<Option<xacct_plan::LiveRole>, xacct_plan::CloudError> {
        self.0.get_role(a, r).await
    }
    async fn list_role_policies(&self, a: &str, r: &str) -> Result<Vec<String>, xacct_plan::CloudError> {
        self.0.list_role_policies(a, r).await
    }
    async fn get_role_policy(&self, a: &str, r: &str, p: &str) -> Result<Option<String>, xacct_plan::CloudError> {
        self.0.get_role_policy(a, r, p).await
    }
    async fn trust_policy_quota(&self, a: &str) -> Result<usize, xacct_plan::CloudError> {
        self.0.trust_policy_quota(a).await
    }
    async fn update_trust_policy(&self, a: &str, r: &str, e: &str, d: &str) -> Result<(), xacct_plan::CloudError> {
        assert_ne!(a, DEV, "a bug");
        self.0.update_trust_policy(a, r, e, d).await
    }
    async fn put_role_policy(
        &self,
        a: &str,
        r: &str,
        p: &str,
        e: Option<&str>,
        d: &str,
    ) -> Result<(), xacct_plan::CloudError> {
        self.0.put_role_policy(a, r, p, e, d).await
    }
    async fn delete_role_policy(&self, a: &str, r: &str, p: &str, e: &str) -> Result<(), xacct_plan::CloudError> {
        self.0.delete_role_policy(a, r, p, e).await
    }
    async fn wait_consistent(&self, d: &xacct_plan::DocRef, t: Option<&str>) -> Result<(), xacct_plan::CloudError> {
        self.0.wait_consistent(d, t).await
    }
    fn call_count(&self) -> u64 {
        self.0.call_count()
    }
}

#[tokio::test]
async fn a_panicking_step_is_a_failed_step() {
    let w = World::new();
    let p = w.plan(true).await;
    let cloud: Arc<dyn Cloud> = Arc::new(Panicky(w.cloud.clone()));
    let (report, _) = apply(&p, cloud, &w.backend, None, &ApplyOptions::default(), &()).await;
    let failed: Vec<String> = report.failed.iter().map(|(a, _)| a.to_string()).collect();
    assert_eq!(failed, ["trust.dev"], "{report:?}");
    assert!(report.failed[0].1.contains("panicked"), "{report:?}");
    assert_eq!(report.state_error, None, "state was saved: {report:?}");
    let skipped: Vec<String> = report.skipped.iter().map(ToString::to_string).collect();
    assert_eq!(skipped, [M_DEV]);
}

/// A local backend that takes `allow` checkpoints, then refuses every write (a serial conflict,
/// as when someone else wrote state under the lock).
struct Refusing {
    inner: LocalBackend,
    allow: std::sync::atomic::AtomicUsize,
    refused: std::sync::atomic::AtomicUsize,
}

impl Refusing {
    fn new(inner: &LocalBackend, allow: usize) -> Refusing {
        Refusing { inner: inner.clone(), allow: allow.into(), refused: 0.into() }
    }
}

#[async_trait::async_trait]
impl Backend for Refusing {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    async fn load(&self) -> Result<Option<State>, xacct_state::StateError> {
        self.inner.load().await
    }
    async fn persist(&self, state: &State) -> Result<(), xacct_state::StateError> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.allow.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_err() {
            self.refused.fetch_add(1, SeqCst);
            return Err(xacct_state::StateError::StaleSerial { stored: 99, incoming: state.serial });
        }
        self.inner.persist(state).await
    }
    async fn lock(&self, info: &xacct_state::LockInfo) -> Result<(), xacct_state::StateError> {
        self.inner.lock(info).await
    }
    async fn unlock(&self, id: &str) -> Result<(), xacct_state::StateError> {
        self.inner.unlock(id).await
    }
}

fn addresses(list: &[xacct_spec::Address]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(ToString::to_string).collect();
    v.sort();
    v
}

fn keys(state: &State) -> Vec<String> {
    state.resources.keys().cloned().collect()
}

#[tokio::test]
async fn a_refused_checkpoint_starts_nothing_new_and_returns_everything_that_happened() {
    let w = World::new();
    let p = w.plan(true).await;
    // One step at a time: trust.dev is saved, trust.test's checkpoint is refused.
    let backend = Refusing::new(&w.backend, 1);
    let events = Mutex::new(Vec::new());
    let sink = |e: &Event| events.lock().unwrap().push(e.clone());
    let cloud: Arc<dyn Cloud> = w.cloud.clone();
    let opts = ApplyOptions { parallelism: 1, ..ApplyOptions::default() };
    let (report, state) = apply(&p, cloud, &backend, None, &opts, &sink).await;
    let events = events.into_inner().unwrap();

    assert!(!report.ok());
    let refusal = "refusing to write state serial 2: the stored state already has serial 99; \
                   someone else wrote state since it was read — re-run to pick up their changes";
    assert_eq!(report.state_error.as_deref(), Some(refusal), "{report:?}");
    assert_eq!(addresses(&report.done), ["trust.dev", "trust.test"]);
    assert_eq!(addresses(&report.unsaved), ["trust.test"]);
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(addresses(&report.skipped), ["assume_policy.management", M_DEV]);
    // Exactly one refused write: nothing more was sent to the backend after it.
    assert_eq!(backend.refused.load(std::sync::atomic::Ordering::SeqCst), 1);

    // The refusal is reported once; no step starts after it; what was pending is skipped, saying why.
    let at = pos(&events, |e| matches!(e, Event::StateError { .. }));
    assert_eq!(events.iter().filter(|e| matches!(e, Event::StateError { .. })).count(), 1);
    assert!(!events[at..].iter().any(|e| matches!(e, Event::Started { .. } | Event::StateSaved { .. })), "{events:#?}");
    for e in events[at..].iter().filter(|e| matches!(e, Event::Skipped { .. })) {
        assert!(
            matches!(e, Event::Skipped { because, .. } if because == "state could not be saved, so nothing new is started"),
            "{e:?}"
        );
    }
    assert!(at < pos(&events, done("trust.test")), "the step is done all the same: {events:#?}");

    // The backend has the first checkpoint only; the returned state has both steps.
    let stored = w.state().await.unwrap();
    assert_eq!((stored.serial, keys(&stored)), (1, vec!["trust.dev".to_string()]));
    assert_eq!(state.serial, 1, "the serial of the last checkpoint the backend took");
    assert_eq!(state.lineage, stored.lineage);
    assert_eq!(keys(&state), ["trust.dev", "trust.test"]);
    let live = w.cloud.trust(TEST, ROLE).unwrap();
    assert!(live.contains(&format!("arn:aws:iam::{MGMT}:role/{ROLE}")), "trust.test was written: {live}");
    assert_eq!(w.cloud.policy(MGMT, ROLE, "xacct-assume-workload-roles"), None, "not started");
}

#[tokio::test]
async fn steps_in_flight_when_a_checkpoint_is_refused_finish_and_are_kept() {
    let w = World::new();
    let p = w.plan(true).await;
    // Nothing is ever saved; the three IAM steps are in flight together when the first ends.
    let backend = Refusing::new(&w.backend, 0);
    let events = Mutex::new(Vec::new());
    let sink = |e: &Event| events.lock().unwrap().push(e.clone());
    let cloud: Arc<dyn Cloud> = w.cloud.clone();
    let (report, state) = apply(&p, cloud, &backend, None, &ApplyOptions::default(), &sink).await;
    let events = events.into_inner().unwrap();

    let all = ["assume_policy.management", "trust.dev", "trust.test"];
    assert_eq!(addresses(&report.done), all, "{report:?}");
    assert_eq!(addresses(&report.unsaved), all, "{report:?}");
    assert_eq!(addresses(&report.skipped), [M_DEV]);
    assert_eq!(backend.refused.load(std::sync::atomic::Ordering::SeqCst), 1, "one attempt, then none");
    let at = pos(&events, |e| matches!(e, Event::StateError { .. }));
    for a in all {
        assert!(pos(&events, started(a)) < at, "{a} started before the refusal: {events:#?}");
    }
    assert!(!events[at..].iter().any(|e| matches!(e, Event::Started { .. })), "{events:#?}");
    assert_eq!(events.iter().filter(|e| matches!(e, Event::Done { .. })).count(), 3);
    assert!(w.state().await.is_none(), "the backend has nothing");
    assert_eq!(keys(&state), all);
    assert_eq!(std::fs::read_to_string(w.dir.path().join("clusters/dev-1.yaml")).unwrap(), MANIFEST, "not started");

    // Saved to a file beside the state, it holds every completed step, with a serial `state push`
    // accepts, mode 0600, and applying the rest from it converges.
    let dir = w.dir.path().join("state");
    let (path, written) = xacct_apply::save_errored_state(&state, &dir, "9.9.9").await.unwrap();
    assert_eq!(path, dir.join("errored.xacct-state.json"));
    let saved = LocalBackend::new(&path).load().await.unwrap().unwrap();
    assert_eq!(saved, written);
    assert_eq!(
        (saved.serial, saved.lineage.as_str(), saved.xacct_version.as_str()),
        (1, state.lineage.as_str(), "9.9.9")
    );
    assert_eq!(saved.resources, state.resources);
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let pushed = xacct_state::prepare_push(None, &saved, false).unwrap();
    w.backend.persist(&pushed).await.unwrap();
    let p = w.plan(true).await;
    let pending: Vec<String> = p.pending().map(|c| c.address.to_string()).collect();
    assert_eq!(pending, [M_DEV], "only the skipped step is left");
    assert!(w.apply(&p, &ApplyOptions::default()).await.0.ok());
    assert!(!w.plan(true).await.has_changes());

    // A second errored state never overwrites the first.
    let (again, _) = xacct_apply::save_errored_state(&state, &dir, "9.9.9").await.unwrap();
    assert_eq!(again, dir.join("errored.xacct-state.1.json"));
    assert_eq!(LocalBackend::new(&path).load().await.unwrap().unwrap(), written);
}

#[tokio::test]
async fn a_refused_checkpoint_before_a_manifest_write_leaves_the_file_alone_and_stops() {
    let w = World::new();
    let p = w.plan(true).await;
    // The three IAM steps are saved; the record made ahead of the manifest edit is refused.
    let backend = Refusing::new(&w.backend, 3);
    let cloud: Arc<dyn Cloud> = w.cloud.clone();
    let (report, state) = apply(&p, cloud, &backend, None, &ApplyOptions::default(), &()).await;
    assert!(report.state_error.is_some(), "{report:?}");
    let failed: Vec<String> = report.failed.iter().map(|(a, _)| a.to_string()).collect();
    assert_eq!(failed, [M_DEV]);
    assert!(report.failed[0].1.starts_with("state could not be saved before writing the manifest: "), "{report:?}");
    assert!(report.unsaved.is_empty(), "{report:?}");
    assert_eq!(std::fs::read_to_string(w.dir.path().join("clusters/dev-1.yaml")).unwrap(), MANIFEST);
    assert!(!state.resources.contains_key(M_DEV), "the record made ahead is taken back");
    assert_eq!(keys(&state), keys(&w.state().await.unwrap()));
}
