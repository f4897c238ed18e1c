//! Walking the plan's graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::task::JoinSet;
use xacct_plan::{sha256, Action, Change, Cloud, CloudError, DocRef, Plan, Target};
use xacct_spec::Address;
use xacct_state::{Backend, ResourceState, State};

use crate::events::{Event, Sink};

#[derive(Clone)]
pub struct ApplyOptions {
    /// Steps in flight at once (`--parallelism`, default 10).
    pub parallelism: usize,
    /// Set (by Ctrl-C) to stop scheduling; steps in flight finish and state is saved.
    pub interrupt: Arc<AtomicBool>,
    pub xacct_version: String,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 10,
            interrupt: Arc::new(AtomicBool::new(false)),
            xacct_version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// What an apply did.
#[derive(Debug, Default)]
pub struct Report {
    pub done: Vec<Address>,
    pub failed: Vec<(Address, String)>,
    pub skipped: Vec<Address>,
    /// Saving state failed (the first error). From then on no step was started and nothing more
    /// was written to the backend: the state [`apply`] returns holds what happened, and the caller
    /// must save it elsewhere (see [`save_errored_state`](crate::save_errored_state)).
    pub state_error: Option<String>,
    /// Steps whose outcome is recorded in the returned state but not in the backend (the one
    /// whose checkpoint failed, and those in flight then that finished after).
    pub unsaved: Vec<Address>,
    pub interrupted: bool,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty() && self.state_error.is_none() && !self.interrupted
    }
}

/// Apply `plan`: every step in dependency order, state checkpointed after each. `state` is the
/// state the plan was made against (a new one is created when `None`).
pub async fn apply(
    plan: &Plan,
    cloud: Arc<dyn Cloud>,
    backend: &dyn Backend,
    state: Option<State>,
    opts: &ApplyOptions,
    sink: &dyn Sink,
) -> (Report, State) {
    let mut state = state.unwrap_or_else(|| State::new(&opts.xacct_version));
    let steps: BTreeMap<Address, Change> = plan
        .changes
        .iter()
        .filter(|c| c.action() != Action::NoOp || records(c, &state))
        .map(|c| (c.address.clone(), c.clone()))
        .collect();
    let mut report = Report::default();
    sink.event(&Event::Begin { steps: steps.iter().filter(|(_, c)| c.kind != "role").count() });

    // Addresses that must succeed before a step runs; no-op changes count as done.
    let mut finished: BTreeSet<Address> =
        plan.changes.iter().filter(|c| !steps.contains_key(&c.address)).map(|c| c.address.clone()).collect();
    let mut failed: BTreeSet<Address> = BTreeSet::new();
    let mut pending: Vec<Address> = steps.keys().cloned().collect();
    let mut running: JoinSet<(Address, Result<(), String>, u64)> = JoinSet::new();
    let mut tasks: std::collections::HashMap<tokio::task::Id, Address> = std::collections::HashMap::new();
    // Manifest steps whose state was recorded before their write, with the entry it replaced.
    let mut recorded_ahead: BTreeMap<Address, Snapshot> = BTreeMap::new();
    let (written_tx, mut written_rx) = tokio::sync::mpsc::unbounded_channel::<Address>();

    loop {
        let interrupted = opts.interrupt.load(Ordering::SeqCst);
        if interrupted && !report.interrupted {
            report.interrupted = true;
            sink.event(&Event::Interrupted);
        }
        // Skip what can no longer run.
        let mut i = 0;
        while i < pending.len() {
            let c = &steps[&pending[i]];
            let because = if report.state_error.is_some() {
                Some(STATE_NOT_SAVED.to_string())
            } else if interrupted {
                Some("the run was interrupted".to_string())
            } else {
                c.depends_on.iter().find(|d| failed.contains(*d)).map(|b| format!("`{b}` failed or was skipped"))
            };
            if let Some(because) = because {
                sink.event(&Event::Skipped { address: c.address.clone(), because });
                report.skipped.push(c.address.clone());
                failed.insert(c.address.clone());
                pending.remove(i);
            } else {
                i += 1;
            }
        }
        // Start what is ready.
        let mut i = 0;
        while i < pending.len()
            && running.len() < opts.parallelism.max(1)
            && !interrupted
            && report.state_error.is_none()
        {
            let c = &steps[&pending[i]];
            if c.depends_on.iter().all(|d| finished.contains(d) || !steps.contains_key(d) && !failed.contains(d)) {
                let c = c.clone();
                pending.remove(i);
                if c.kind != "role" {
                    sink.event(&Event::Started { address: c.address.clone(), action: c.action() });
                }
                // A manifest edit is recorded before the file is written: a crash in between then
                // leaves state holding the record that undoes the edit (the next plan re-applies
                // it), never an edited file that state knows nothing about.
                // (A removal is recorded after: its record is what undoes the edit.)
                if matches!(c.target, Target::Manifest { .. }) && c.write.is_some() && !c.state_after.is_null() {
                    let before = snapshot(&state, &c);
                    record(&mut state, &c);
                    if let Err(e) = xacct_state::commit(backend, &mut state, &opts.xacct_version).await {
                        // Nothing was written for this step; the run stops here like any other
                        // refused checkpoint.
                        restore(&mut state, before);
                        state_failed(&e, sink, &mut report);
                        let error = format!("state could not be saved before writing the manifest: {e}");
                        sink.event(&Event::Failed {
                            address: c.address.clone(),
                            action: c.action(),
                            error: error.clone(),
                        });
                        failed.insert(c.address.clone());
                        report.failed.push((c.address.clone(), error));
                        break;
                    }
                    sink.event(&Event::StateSaved { serial: state.serial });
                    recorded_ahead.insert(c.address.clone(), before);
                }
                let remove_file = c.action() == Action::Delete && owns_file(&state, &c.address);
                let cloud = cloud.clone();
                let written = written_tx.clone();
                let address = c.address.clone();
                let task = running.spawn(async move {
                    let t = Instant::now();
                    let r = step(&c, remove_file, cloud.as_ref(), &|| drop(written.send(c.address.clone()))).await;
                    (c.address.clone(), r, t.elapsed().as_millis() as u64)
                });
                tasks.insert(task.id(), address);
            } else {
                i += 1;
            }
        }
        // Wait for a step to finish, reporting writes that now wait for IAM to settle.
        let joined = loop {
            tokio::select! {
                biased;
                Some(address) = written_rx.recv() => sink.event(&Event::Propagating { address }),
                joined = running.join_next_with_id() => break joined,
            }
        };
        while let Ok(address) = written_rx.try_recv() {
            sink.event(&Event::Propagating { address });
        }
        let Some(joined) = joined else {
            if pending.is_empty() {
                break;
            }
            // Nothing running and nothing startable: a dependency never resolves.
            for a in pending.drain(..) {
                sink.event(&Event::Skipped { address: a.clone(), because: "its dependencies did not complete".into() });
                report.skipped.push(a);
            }
            break;
        };
        let (address, result, elapsed_ms) = match joined {
            Ok((id, r)) => {
                tasks.remove(&id);
                r
            }
            // A bug, not an AWS answer: the step failed (what it wrote, if anything, is not
            // known, so a record made ahead of it stays, and the next plan reads live again).
            Err(e) => match tasks.remove(&e.id()) {
                Some(address) => {
                    recorded_ahead.remove(&address);
                    (address, Err(format!("the step panicked (a bug in xacct): {e}")), 0)
                }
                None => {
                    report.state_error = Some(format!("a step panicked: {e}"));
                    continue;
                }
            },
        };
        let c = &steps[&address];
        match result {
            Ok(()) => {
                finished.insert(address.clone());
                if c.kind != "role" {
                    if recorded_ahead.remove(&address).is_none() {
                        record(&mut state, c);
                        save(backend, &mut state, opts, sink, &mut report, &address).await;
                    }
                    sink.event(&Event::Done { address: address.clone(), action: c.action(), elapsed_ms });
                    report.done.push(address);
                }
            }
            Err(error) => {
                if let Some(before) = recorded_ahead.remove(&address) {
                    // The file was not written: take back what was recorded ahead of it.
                    restore(&mut state, before);
                    save(backend, &mut state, opts, sink, &mut report, &address).await;
                }
                sink.event(&Event::Failed { address: address.clone(), action: c.action(), error: error.clone() });
                failed.insert(address.clone());
                report.failed.push((address, error));
            }
        }
    }
    (report, state)
}

/// Whether a no-op still has to be recorded (state differs from what the plan says it should be).
fn records(c: &Change, state: &State) -> bool {
    if c.kind == "role" {
        return false;
    }
    let have = state.resources.get(&c.address.to_string()).map(|r| &r.attributes);
    match (&c.state_after, have) {
        (serde_json::Value::Null, None) => false,
        (want, Some(have)) => want != have,
        _ => true,
    }
}

/// The state entries a change's record touches (its address, and the one it replaces), as they
/// were: what [`restore`] puts back.
type Snapshot = Vec<(String, Option<ResourceState>)>;

fn snapshot(state: &State, c: &Change) -> Snapshot {
    std::iter::once(c.address.to_string())
        .chain(c.replaces.iter().map(ToString::to_string))
        .map(|k| {
            let v = state.resources.get(&k).cloned();
            (k, v)
        })
        .collect()
}

fn restore(state: &mut State, before: Snapshot) {
    for (key, value) in before {
        match value {
            Some(r) => state.resources.insert(key, r),
            None => state.resources.remove(&key),
        };
    }
}

/// Why steps are skipped once a checkpoint failed.
const STATE_NOT_SAVED: &str = "state could not be saved, so nothing new is started";

/// Checkpoint state after `address`'s step. Once a checkpoint has failed nothing more is written
/// to the backend: the step's outcome stays in `state` only, and is listed as unsaved.
async fn save(
    backend: &dyn Backend,
    state: &mut State,
    opts: &ApplyOptions,
    sink: &dyn Sink,
    report: &mut Report,
    address: &Address,
) {
    if report.state_error.is_none() {
        match xacct_state::commit(backend, state, &opts.xacct_version).await {
            Ok(()) => {
                sink.event(&Event::StateSaved { serial: state.serial });
                return;
            }
            Err(e) => state_failed(&e, sink, report),
        }
    }
    report.unsaved.push(address.clone());
}

/// The first refused checkpoint: report it; the caller stops scheduling.
fn state_failed(e: &xacct_state::StateError, sink: &dyn Sink, report: &mut Report) {
    // With its causes: "could not write state backup `…`: Permission denied (os error 13)".
    let mut msg = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        msg.push_str(&format!(": {c}"));
        cause = c.source();
    }
    sink.event(&Event::StateError { error: msg.clone() });
    report.state_error.get_or_insert(msg);
}

fn record(state: &mut State, c: &Change) {
    // Taking over a renamed workload's address: one write moves the record.
    if let Some(old) = &c.replaces {
        state.resources.remove(&old.to_string());
    }
    let key = c.address.to_string();
    if c.state_after.is_null() {
        state.resources.remove(&key);
    } else {
        state.resources.insert(key, ResourceState { kind: c.kind.clone(), attributes: c.state_after.clone() });
    }
}

/// Whether state says xacct owns the whole file at `address` (an identity file): removing it
/// then removes the file.
fn owns_file(state: &State, address: &Address) -> bool {
    state
        .resources
        .get(&address.to_string())
        .and_then(|r| serde_json::from_value::<xacct_plan::StoredManifest>(r.attributes.clone()).ok())
        .is_some_and(|m| m.owned)
}

/// Run one step. `written` is called once a write to IAM has landed, before waiting until IAM
/// reads it back. `remove_file`: the step deletes a file xacct owns whole.
async fn step(c: &Change, remove_file: bool, cloud: &dyn Cloud, written: &(dyn Fn() + Sync)) -> Result<(), String> {
    // A bootstrap change always carries its step (its absence is an error, not nothing to do).
    let bootstrap = matches!(c.target, Target::Iam { .. });
    if !c.action().writes() || c.write.is_none() && c.action() != Action::Delete && !bootstrap {
        return Ok(());
    }
    let err = |e: CloudError| e.to_string();
    match (&c.target, c.action()) {
        (Target::Trust { account, role }, _) => {
            let (Some(expected), Some(doc)) = (c.live.as_deref(), c.write.as_deref()) else {
                return Err(format!("{}: the plan has no trust document to write", c.address));
            };
            cloud.update_trust_policy(account, role, expected, doc).await.map_err(err)?;
            written();
            cloud
                .wait_consistent(&DocRef::Trust { account: account.clone(), role: role.clone() }, Some(doc))
                .await
                .map_err(err)
        }
        (Target::InlinePolicy { account, role, policy }, Action::Delete) => {
            let Some(expected) = c.live.as_deref() else { return Ok(()) };
            cloud.delete_role_policy(account, role, policy, expected).await.map_err(err)?;
            written();
            let doc = DocRef::InlinePolicy { account: account.clone(), role: role.clone(), policy: policy.clone() };
            cloud.wait_consistent(&doc, None).await.map_err(err)
        }
        (Target::InlinePolicy { account, role, policy }, _) => {
            let doc_text = c.write.as_deref().expect("checked above");
            cloud.put_role_policy(account, role, policy, c.live.as_deref(), doc_text).await.map_err(err)?;
            written();
            let doc = DocRef::InlinePolicy { account: account.clone(), role: role.clone(), policy: policy.clone() };
            cloud.wait_consistent(&doc, Some(doc_text)).await.map_err(err)
        }
        (Target::Manifest { path }, action) => {
            let path = Path::new(path);
            let remove = remove_file && action == Action::Delete;
            if c.write.is_none() && !remove {
                return Ok(());
            }
            let now = std::fs::read(path).ok().map(|b| sha256(&b));
            if now != c.live_fingerprint {
                return Err(format!("`{}` changed since it was read; re-run `xacct plan`", path.display()));
            }
            let Some(text) = c.write.as_deref() else {
                return std::fs::remove_file(path).map_err(|e| format!("cannot remove `{}`: {e}", path.display()));
            };
            // An identity file's directory is created with it.
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && now.is_none()) {
                std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
            }
            xacct_manifest::write_atomic(path, text).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
        }
        (Target::Role { .. }, _) => Ok(()),
        (Target::Iam { .. }, _) => crate::iam_step::run(c, cloud, written).await,
    }
}
