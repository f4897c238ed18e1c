//! The one error type of this crate.

use std::path::PathBuf;
use std::time::Duration;

use crate::LockInfo;

/// Everything that can go wrong reading, writing or locking state.
///
/// Messages are lowercase fragments that read well after "failed to …:" and name values in
/// backticks. Variants carry the data a caller needs to decide (exit codes, retries).
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Someone else holds the lock.
    #[error(
        "state is locked by `{}` (`{}`, pid {} on `{}`, since {}, xacct {}); lock ID `{}`; \
         if that process is gone, release it with `xacct force-unlock {}`",
        .0.who, .0.operation, .0.pid, .0.host, .0.created, .0.version, .0.id, .0.id
    )]
    Locked(LockInfo),

    /// [`crate::lock_with_timeout`] gave up.
    #[error(
        "timed out after {}s waiting for the state lock held by `{}` (`{}`, pid {} on `{}`, \
         since {}); lock ID `{}`; if that process is gone, release it with `xacct force-unlock {}`",
        .waited.as_secs_f64().round(), .holder.who, .holder.operation, .holder.pid, .holder.host,
        .holder.created, .holder.id, .holder.id
    )]
    LockTimeout { waited: Duration, holder: LockInfo },

    /// Ctrl-C while waiting for a held lock.
    #[error(
        "interrupted while waiting for the state lock held by `{}` (`{}`); nothing was changed",
        .holder.who, .holder.operation
    )]
    LockWaitInterrupted { holder: LockInfo },

    /// `unlock`/`force_unlock` named an ID that does not hold the lock.
    #[error(
        "lock ID `{given}` does not hold the state lock; it is held by `{}` (`{}`, pid {} on `{}`) \
         with lock ID `{}`",
        .holder.who, .holder.operation, .holder.pid, .holder.host, .holder.id
    )]
    LockIdMismatch { given: String, holder: LockInfo },

    /// `unlock`/`force_unlock` when no lock is held.
    #[error("state is not locked (tried to release lock ID `{given}`)")]
    NotLocked { given: String },

    /// A lock exists but its contents cannot be read (a process died while creating it).
    #[error(
        "lock file `{}` exists but cannot be read ({reason}); if no xacct process is running, \
         delete it by hand", .path.display()
    )]
    LockUnreadable { path: PathBuf, reason: String },

    /// The bytes are not JSON, or not a state of the claimed version.
    #[error(
        "`{origin}` is not a valid xacct state at line {line}, column {column}: {reason}; \
         the file was left untouched"
    )]
    Corrupt { origin: String, line: usize, column: usize, reason: String },

    /// Parsed, but a value breaks a rule of the format (empty lineage, bad address, …).
    #[error("`{origin}` is not a valid xacct state: {reason}; the file was left untouched")]
    Invalid { origin: String, reason: String },

    /// Written by a newer xacct; reading it could lose data, writing over it would.
    #[error(
        "`{origin}` uses state format_version {found}{}, but this xacct reads format_version {supported} \
         at most; upgrade xacct (the state was not modified)",
        .written_by.as_ref().map(|v| format!(" (written by xacct `{v}`)")).unwrap_or_default()
    )]
    NewerFormat { origin: String, found: u64, supported: u32, written_by: Option<String> },

    /// A `format_version` that never existed (0, negative, missing, not a number).
    #[error("`{origin}` has unsupported state format_version `{found}`")]
    UnsupportedFormat { origin: String, found: String },

    /// The stored state is as new as, or newer than, the one being written.
    #[error(
        "refusing to write state serial {incoming}: the stored state already has serial {stored}; \
         someone else wrote state since it was read — re-run to pick up their changes"
    )]
    StaleSerial { stored: u64, incoming: u64 },

    /// The stored state belongs to another lineage (another project or a recreated state).
    #[error(
        "refusing to write state of lineage `{incoming}` over state of lineage `{stored}`: \
         they are different states"
    )]
    LineageMismatch { stored: String, incoming: String },

    /// `state push` of a document that is not newer than the stored state, or of another lineage.
    #[error(
        "refusing to push: {reason}; pass --force to replace the stored state anyway (saved plans \
         made against it become stale)"
    )]
    PushRefused { reason: String },

    /// Something that looks like a credential was about to be stored.
    #[error(
        "refusing to store `{address}`: attribute `{key}` looks like a credential, and state never \
         holds credentials"
    )]
    CredentialInState { address: String, key: String },

    /// `show`/`rm` of an address not in state.
    #[error("no resource `{address}` in state{}", .suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    NoSuchAddress { address: String, suggestion: Option<String> },

    /// A file-system operation failed.
    #[error("could not {action} `{}`", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A backend-specific failure (network, permissions, …), with its cause.
    #[error("{backend}: {message}")]
    Backend {
        backend: String,
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// Anything else; prefer a precise variant.
    #[error("{0}")]
    Other(String),
}

impl StateError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StateError::Io { action, path: path.into(), source }
    }

    /// True for the errors that mean "someone else holds the lock" (worth waiting for).
    pub fn is_locked(&self) -> bool {
        matches!(self, StateError::Locked(_) | StateError::LockTimeout { .. })
    }
}
