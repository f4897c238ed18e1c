//! xacct-plan: the three-way planner (desired file, stored state, live IAM), the plan model and
//! plan file with live fingerprints, drift detection, and the [`Cloud`](cloud::Cloud) interface
//! live IAM is read and written through.
//!
//! It decides what would change and why; it never writes (the executor in `xacct-apply` does)
//! and never prints (the views in `xacct-render` do). Its only AWS knowledge is the `Cloud` trait.

pub mod bootstrap;
pub mod cloud;
mod diff;
pub mod drift;
pub mod iam;
mod identity_file;
pub mod live;
pub mod memory;
pub mod model;
pub mod org;
mod planner;
pub mod verify;

pub use cloud::{Cloud, CloudError, DocRef, LiveRole};
pub use diff::{StoredManifest, StoredPolicy, StoredTrust};
pub use model::*;
pub use planner::{plan, removal_guard, PlanOptions, Removals};
