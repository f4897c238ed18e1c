//! Errors and warnings.

use std::fmt;
use std::path::PathBuf;

/// Why a manifest could not be read, patched or unpatched. The file is never touched when one
/// of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("failed to read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: invalid yaml: {message}", path.display())]
    Syntax { path: PathBuf, line: usize, column: usize, message: String },
    #[error(
        "{}:{line}:{column}: no object carries an identity (expected an `AWSCluster`, \
         `AWSClusterTemplate`, `AWSManagedControlPlane`, `AWSManagedControlPlaneTemplate`, `ROSAControlPlane`, \
         `ROSANetwork`, `ROSARoleConfig` or a ClusterClass `Cluster` with an `identityRef` variable){detail}",
        path.display()
    )]
    NoTargets {
        path: PathBuf,
        line: usize,
        column: usize,
        /// Empty, or `; ` and what a topology `Cluster` in the file lacks.
        detail: String,
    },
    /// `first` and `second` read like `` `AWSCluster` `default/a` uses `AWSClusterRoleIdentity/x` ``.
    #[error(
        "{}:{line}:{column}: conflicting identities: {second}, but {first}; a manifest belongs to one workload",
        path.display()
    )]
    ConflictingIdentities { path: PathBuf, line: usize, column: usize, first: String, second: String },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Unsupported { path: PathBuf, line: usize, column: usize, message: String },
    #[error("invalid identity: {0}")]
    InvalidSpec(String),
    #[error("cannot unpatch `{file}`: {message}")]
    Unpatch { file: String, message: String },
}

/// A warning about a manifest: the patch still applies.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "warning: {}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)
    }
}
