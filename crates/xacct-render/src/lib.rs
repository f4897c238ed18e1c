//! xacct-render: the human (terminal), JSON and Markdown views of plans, drift reports and
//! policy diffs.
//!
//! Every function here is pure: it takes a [`Plan`](xacct_plan::Plan), a
//! [`DriftReport`](xacct_plan::drift::DriftReport) or a [`PolicyDiff`](xacct_policy::PolicyDiff)
//! and returns a `String`. This crate owns how things look and nothing else: it never decides
//! what to change, whether a plan may be applied, what counts as drift or which statements of two
//! policies pair up (it only shows what the plan or diff says, `applyable` and `summary`
//! included), and it never prints; the CLI writes the strings where they belong.
//!
//! - [`plan_human`] / [`drift_human`]: Terraform-like text for a terminal. Colour only when
//!   [`Style::color`] is set (the caller checks for a terminal and `NO_COLOR`); every coloured
//!   symbol (`+ ~ - = ±`) also has a word beside it.
//! - [`plan_json`] / [`drift_json`]: the stable, versioned machine view (`format_version` first).
//!   The plan view leaves out each change's executor-only `live` and `write` documents.
//! - [`plan_markdown`] / [`drift_markdown`]: a pull-request comment, with collapsed diffs and
//!   never an ANSI escape.
//! - [`policy_diff_human`] / [`policy_diff_messages`] / [`policy_diff_json`]: `xacct policy
//!   diff`, showing the pairing [`xacct_policy::diff_policies`] decided.
//!
//! Text that came from manifests or AWS is scrubbed of control characters in the human and
//! Markdown views, so a hostile file cannot drive the terminal.
//!
//! ```no_run
//! # fn show(plan: &xacct_plan::Plan) {
//! use xacct_render::{plan_human, plan_json, Style};
//!
//! let text = plan_human(plan, &Style { color: false });
//! assert!(text.lines().any(|l| l.starts_with("Plan: ") || l.starts_with("No changes")));
//! let json = plan_json(plan);
//! assert!(!json.contains("\"write\""));
//! # }
//! ```

mod drift;
mod human;
mod md;
mod plan;
mod policy_diff;
mod style;
mod text;

pub use drift::{drift_human, drift_json, drift_markdown};
pub use md::failure_markdown;
pub use plan::{plan_human, plan_json, plan_markdown, MARKDOWN_LIMIT};
pub use policy_diff::{policy_diff_human, policy_diff_json, policy_diff_messages, POLICY_DIFF_FORMAT_VERSION};
pub use style::Style;
