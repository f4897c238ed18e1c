//! What the executor tells the outside world while it runs.

use serde::Serialize;
use xacct_plan::Action;
use xacct_spec::Address;

/// One thing that happened during an apply. Serialized as one JSON object per line for `--json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The apply starts `steps` changes.
    Begin { steps: usize },
    /// A step starts.
    Started { address: Address, action: Action },
    /// A write landed; waiting until IAM reads it back.
    Propagating { address: Address },
    /// A step finished.
    Done { address: Address, action: Action, elapsed_ms: u64 },
    /// A step failed.
    Failed { address: Address, action: Action, error: String },
    /// A step did not run because something it depends on failed (or the run was interrupted).
    Skipped { address: Address, because: String },
    /// State was saved.
    StateSaved { serial: u64 },
    /// Saving state failed (emitted once, for the first refusal): nothing new is started, steps
    /// in flight finish, and nothing more is written to the backend; the state the executor
    /// returns holds everything that happened.
    StateError { error: String },
    /// The state the backend refused was saved to `path` instead; `push` is the command that
    /// puts it back. Emitted by the caller after the run (the executor writes no files itself).
    StateBackup { path: String, push: String },
    /// The run was interrupted: nothing new is started.
    Interrupted,
}

/// Receives events. Implementations must not block for long.
pub trait Sink: Send + Sync {
    fn event(&self, event: &Event);
}

impl Sink for () {
    fn event(&self, _: &Event) {}
}

impl<F: Fn(&Event) + Send + Sync> Sink for F {
    fn event(&self, event: &Event) {
        self(event)
    }
}
