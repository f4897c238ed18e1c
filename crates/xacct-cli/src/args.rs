//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Declarative cross-account IAM trust for Cluster API Provider AWS (CAPA).
///
/// One desired-state file names a management (source) account and its workload (target)
/// accounts. xacct diffs it against live IAM and its stored state, and applies trust statements,
/// an sts:AssumeRole inline policy and manifest identityRefs in dependency order.
#[derive(Debug, Parser)]
#[command(name = "xacct", version, propagate_version = true, max_term_width = 100)]
#[command(
    after_help = "Start with:\n  xacct validate -f examples/two-accounts/xacct.yaml\n  xacct graph -f examples/two-accounts/xacct.yaml"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// The desired-state file.
    #[arg(short = 'f', long = "file", global = true, default_value = "xacct.yaml", env = "XACCT_FILE")]
    pub file: PathBuf,
    /// When to colour output (NO_COLOR is honoured with `auto`).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and check the desired-state file, without touching the network.
    ///
    /// Every problem is reported at once, with file, line, column and field path.
    /// Exit 0 when the file is valid, 1 when it is not.
    ///
    /// Example:
    ///   xacct validate -f examples/tiers/xacct.yaml
    #[command(verbatim_doc_comment)]
    Validate(ValidateArgs),
    /// Print the resources and the order xacct changes them in.
    ///
    /// Roles are preconditions; trust statements and the assume policy come next; manifest
    /// patches last. Deletes run in reverse.
    ///
    /// Example:
    ///   xacct graph -f examples/tiers/xacct.yaml --format mermaid
    #[command(verbatim_doc_comment)]
    Graph(GraphArgs),
    /// The IAM policy engine on its own: diff, fmt, check, can-assume.
    ///
    /// The same judgement xacct uses when planning, for reviewers and CI.
    ///
    /// Example:
    ///   xacct policy diff live-trust.json desired-trust.json
    #[command(verbatim_doc_comment)]
    Policy(crate::commands::policy::PolicyArgs),
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Print the diagnostics as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}
