//! xacct-apply: the executor. It walks the graph of a saved [`Plan`] (never the desired-state
//! file), calls the [`Cloud`], patches manifests, checkpoints state after every step and emits
//! [`Event`]s for the CLI to render.
//!
//! Guarantees: independent steps run in parallel up to a bound; a failed step skips its
//! dependents while independent branches finish; state records exactly what happened (when the
//! backend refuses a checkpoint, nothing new starts, steps in flight finish, and the state
//! returned holds it all, for [`save_errored_state`] to keep beside the backend); a stale
//! plan (lineage, serial or any live fingerprint moved) is refused before anything is written;
//! every write is preceded by a fresh read (the `Cloud` refuses a write whose document changed).
//! It never prints.

mod errored;
mod events;
mod executor;
mod iam_step;
mod stale;

pub use errored::{save_errored_state, ERRORED_STATE_FILE};
pub use events::{Event, Sink};
pub use executor::{apply, ApplyOptions, Report};
pub use stale::{check_stale, Stale};
