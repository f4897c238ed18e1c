//! xacct-spec: the desired-state file (`xacct.yaml`, JSON accepted too).
//!
//! It owns parsing with positions, validation that reports every problem at once (file, line,
//! column, field path, what was expected, a did-you-mean for misspelt keys), defaults, and the
//! expansion of a file into the resources xacct owns, with their addresses and dependency graph.
//! It does no network I/O and never prints; the only files it touches are the ones it reads.
//!
//! ```
//! use std::path::Path;
//! let text = r#"
//! version: 1
//! management: { account: "111111111111" }
//! workloads:
//!   - { name: dev, account: "222222222222" }
//! "#;
//! let loaded = xacct_spec::parse_str(Path::new("xacct.yaml"), text).unwrap();
//! let desired = loaded.spec.desired();
//! let order: Vec<String> = desired.graph.levels().concat().iter().map(|a| a.to_string()).collect();
//! // Level by level (roles first); within a level by kind (trust before the assume policy), then name.
//! assert_eq!(order, ["role.dev", "role.management", "trust.dev", "assume_policy.management"]);
//! ```

pub mod address;
pub mod diagnostic;
pub mod expand;
pub mod graph;
pub mod keys;
pub mod model;
mod parse;
pub mod rules;
pub mod yaml;

pub use address::{Address, IamKind};
pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use expand::{trust_sid, Desired, DesiredResource, ManifestIdentity, ASSUME_SID};
pub use graph::Graph;
pub use model::*;
pub use parse::{load, parse_str, Loaded};
