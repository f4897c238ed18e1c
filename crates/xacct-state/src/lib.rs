//! xacct-state: what xacct last applied, and where that record lives.
//!
//! This crate owns
//! - the state model ([`State`], [`ResourceState`]) and its versioned JSON file format
//!   ([`decode`], [`encode`]; one reader per `format_version`, upgrades between them);
//! - the [`Backend`] trait (load, persist, lock, unlock, force-unlock) and [`LockInfo`];
//! - [`LocalBackend`], the default backend (a file with a lock file beside it);
//! - the [`conformance`] suite every backend must pass (the S3 backend in `xacct-aws` runs it too);
//! - the pure state operations behind `xacct state list | show | rm | pull | push`.
//!
//! It must not: print (errors are [`StateError`] values; the CLI reports them), parse arguments,
//! talk to AWS, or know what the planner stores in a resource's `attributes`. State never holds
//! credentials: it records only what the planner puts in `attributes` (the documents and manifest
//! edits xacct applied), and [`check_persist`] refuses attribute keys that look like secrets
//! (`SecretAccessKey`, `SessionToken`, `password`, …).
//!
//! Safety rules every backend keeps: a write whose serial is not newer than the stored one, or
//! whose lineage differs, is refused; a state written by a newer xacct (higher `format_version`) is
//! refused and never overwritten; a corrupt state is reported (file, line, column) and left as is.
//!
//! ```no_run
//! use std::time::Duration;
//! use xacct_state::{commit, lock_with_timeout, Backend, LocalBackend, LockInfo, ResourceState, State};
//!
//! # async fn demo() -> Result<(), xacct_state::StateError> {
//! let backend = LocalBackend::beside("xacct.yaml".as_ref()); // state/default.json
//! let info = LockInfo::new("apply", "0.1.0");
//! lock_with_timeout(&backend, &info, Duration::from_secs(30)).await?;
//! let mut state = backend.load().await?.unwrap_or_else(|| State::new("0.1.0"));
//! state.insert("trust.dev", ResourceState { kind: "trust".into(), attributes: serde_json::json!({"sid": "XacctDev"}) });
//! commit(&backend, &mut state, "0.1.0").await?; // serial + 1, atomic write
//! backend.unlock(&info.id).await?;
//! # Ok(()) }
//! ```

// `StateError::Locked(LockInfo)` carries the holder's details by value (the shape every backend
// and caller matches on), which makes the error larger than clippy's default threshold; state
// operations are rare and I/O-bound, so the size costs nothing measurable.
#![allow(clippy::result_large_err)]

use async_trait::async_trait;

pub mod conformance;
mod error;
mod format;
mod local;
mod lock;
mod model;

pub use error::StateError;
pub use format::{decode, decode_from, encode};
pub use local::LocalBackend;
pub use lock::{lock_until, lock_with_timeout, LockInfo};
pub use model::{check_no_credentials, check_persist, check_push, commit, prepare_push, ResourceState, State};

/// The state format this build writes.
pub const FORMAT_VERSION: u32 = 1;

/// Where state lives. Every implementation passes the [`conformance`] suite.
#[async_trait]
pub trait Backend: Send + Sync {
    /// A short description for messages (`local file state/default.json`, `s3://bucket/key`).
    fn describe(&self) -> String;

    /// Read the current state; `None` when none was ever written.
    async fn load(&self) -> Result<Option<State>, StateError>;

    /// Write `state`; refuses a different lineage or a serial not newer than the stored one
    /// (see [`check_persist`]), and never overwrites a state of a newer format.
    async fn persist(&self, state: &State) -> Result<(), StateError>;

    /// Take the lock, or fail at once with [`StateError::Locked`] naming the holder.
    async fn lock(&self, info: &LockInfo) -> Result<(), StateError>;

    /// Release the lock if `id` holds it; [`StateError::LockIdMismatch`] when another ID does,
    /// [`StateError::NotLocked`] when nobody does.
    async fn unlock(&self, id: &str) -> Result<(), StateError>;

    /// `xacct force-unlock ID`: release a lock left behind (for instance by a killed process),
    /// only when `id` is the ID that holds it; the same errors as [`Backend::unlock`] otherwise.
    async fn force_unlock(&self, id: &str) -> Result<(), StateError> {
        self.unlock(id).await
    }

    /// Who holds the lock now, if anyone.
    async fn lock_info(&self) -> Result<Option<LockInfo>, StateError> {
        Ok(None)
    }

    /// Write `state` without the lineage and serial checks (`xacct state push -force`). A state of
    /// a newer format is still never overwritten. Backends that do not override this keep the
    /// checks of [`Backend::persist`].
    async fn replace(&self, state: &State) -> Result<(), StateError> {
        self.persist(state).await
    }
}
