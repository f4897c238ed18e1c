//! xacct-state: the state model and its versioned file format, the [`Backend`] trait, the local
//! file backend and the conformance suite every backend passes. (Interface sketch; being filled in.)

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// The state format this build writes.
pub const FORMAT_VERSION: u32 = 1;

/// What xacct last applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub format_version: u32,
    /// The xacct version that last wrote this state.
    pub xacct_version: String,
    /// Set once when the state is created; never changes.
    pub lineage: String,
    /// Bumped on every write.
    pub serial: u64,
    /// One entry per owned resource, keyed by address (`trust.dev`, `assume_policy.management`, …).
    pub resources: BTreeMap<String, ResourceState>,
}

/// One owned resource as last applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// `trust`, `assume_policy` or `manifest`.
    pub kind: String,
    /// Kind-specific record of what was applied (a statement, a policy document, a manifest edit).
    pub attributes: serde_json::Value,
}

/// Who holds a lock, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    #[serde(rename = "ID")]
    pub id: String,
    pub operation: String,
    pub who: String,
    pub host: String,
    pub pid: u32,
    pub version: String,
    pub created: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state is locked by {} ({}, pid {} on {}, since {}); lock ID `{}`", .0.who, .0.operation, .0.pid, .0.host, .0.created, .0.id)]
    Locked(LockInfo),
    #[error("{0}")]
    Other(String),
}

/// Where state lives. Every implementation passes the conformance suite.
#[async_trait]
pub trait Backend: Send + Sync {
    /// A short description for messages (`local file state/default.json`, `s3://bucket/key`).
    fn describe(&self) -> String;
    /// Read the current state; `None` when none was ever written.
    async fn load(&self) -> Result<Option<State>, StateError>;
    /// Write `state`; refuses a different lineage or a serial not newer than the stored one.
    async fn persist(&self, state: &State) -> Result<(), StateError>;
    /// Take the lock, or fail at once with [`StateError::Locked`] naming the holder.
    async fn lock(&self, info: &LockInfo) -> Result<(), StateError>;
    /// Release the lock if `id` holds it.
    async fn unlock(&self, id: &str) -> Result<(), StateError>;
}
