//! xacct-render: the human (terminal), JSON and Markdown views of plans and drift reports.
//!
//! Every function here is pure: it takes a [`Plan`](xacct_plan::Plan) or a
//! [`DriftReport`](xacct_plan::drift::DriftReport) and returns a `String`. This crate owns how
//! things look and nothing else: it never decides what to change, whether a plan may be applied or
//! what counts as drift (it only shows what the plan says, `applyable` and `summary` included),
//! and it never prints; the CLI writes the strings where they belong.
//!
//! - [`plan_human`] / [`drift_human`]: Terraform-like text for a terminal. Colour only when
//!   [`Style::color`] is set (the caller checks for a terminal and `NO_COLOR`); every coloured
//!   symbol (`+ ~ - = ±`) also has a word beside it.
//! - [`plan_json`] / [`drift_json`]: the stable, versioned machine view (`format_version` first).
//!   The plan view leaves out each change's executor-only `live` and `write` documents.
//! - [`plan_markdown`] / [`drift_markdown`]: a pull-request comment, with collapsed diffs and
//!   never an ANSI escape.
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
mod style;
mod text;

pub use drift::{drift_human, drift_json, drift_markdown};
pub use plan::{plan_human, plan_json, plan_markdown, MARKDOWN_LIMIT};
pub use md::failure_markdown;
pub use style::Style;
