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
    pub options: Options,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Options {
    /// When to colour output (NO_COLOR is honoured with `auto`).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Log to stderr at this level: `debug` logs one line per AWS call, `trace` the AWS SDK's
    /// own detail. Default: XACCT_LOG (a level, or filters such as
    /// `xacct=debug,aws_smithy_runtime=trace`), else off. Credentials are never logged.
    #[arg(long, global = true, value_enum, value_name = "LEVEL")]
    pub log_level: Option<LogLevel>,
    /// How log lines look: `text`, or `json` (one JSON object per line).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "XACCT_LOG_FORMAT")]
    pub log_format: LogFormat,
}

/// `--log-level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    Off,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// `--log-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `-f/--file`, on the commands that read the desired-state file (not `policy` or `completions`).
#[derive(Debug, Clone, Args)]
pub struct FileArg {
    /// The desired-state file.
    #[arg(short = 'f', long = "file", global = true, default_value = "xacct.yaml", env = "XACCT_FILE")]
    pub file: PathBuf,
}

/// What the commands that read the desired-state file are given.
#[derive(Debug, Clone)]
pub struct Global {
    pub file: PathBuf,
}

impl From<&FileArg> for Global {
    fn from(f: &FileArg) -> Self {
        Global { file: f.file.clone() }
    }
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
    /// Show what would change: desired file vs stored state vs live IAM.
    ///
    /// Reads every account the file names (in parallel) and prints the changes, the drift it
    /// found, and a summary. Nothing is written, except the plan file with `-o`.
    ///
    /// Exit: 0 (with --detailed-exitcode: 0 no changes, 2 changes), 1 error.
    ///
    /// Examples:
    ///   xacct plan
    ///   xacct plan -o xacct.plan --detailed-exitcode      # CI: save the plan, gate on changes
    ///   xacct plan --format markdown > plan.md            # for a pull-request comment
    ///   xacct plan --target 'trust.dev'                   # one resource and what it needs
    #[command(verbatim_doc_comment)]
    Plan(PlanArgs),
    /// Apply a saved plan exactly, or plan, show and ask for `yes`.
    ///
    /// A saved plan is refused (nothing written) when state or any live document it read has
    /// changed since. Steps run in dependency order; state is saved after each. Ctrl-C stops
    /// starting new steps, lets those in flight finish, saves state and releases the lock;
    /// `xacct apply` again continues. On a terminal a progress bar shows finished/total steps.
    ///
    /// Examples:
    ///   xacct apply xacct.plan
    ///   xacct apply --auto-approve          # non-interactive: plan and apply at once
    ///   xacct apply xacct.plan --json       # one JSON event per line, for CI logs
    #[command(verbatim_doc_comment)]
    Apply(ApplyArgs),
    /// Print a saved plan exactly as `xacct plan` printed it, without reading AWS or state.
    ///
    /// For CI: plan once with `-o`, render the same file for a comment (`--format markdown`) or a
    /// log, and apply exactly that file. `--check` also re-reads state and every live document
    /// the plan touches, and says whether `xacct apply PLAN` would still take it.
    ///
    /// Exit: 0 shown (with --check: 0 still applyable, 1 stale), 1 the file cannot be read.
    ///
    /// Examples:
    ///   xacct show xacct.plan
    ///   xacct show xacct.plan --format markdown > plan.md
    ///   xacct show xacct.plan --check            # would apply still take it?
    #[command(verbatim_doc_comment)]
    Show(ShowArgs),
    /// Compare live IAM and manifests with what xacct last applied (state only).
    ///
    /// Changes in the desired-state file are not drift. Exit: 0 in sync, 2 drift, 1 error.
    ///
    /// Example (a nightly job):
    ///   xacct drift --format markdown || notify-team
    #[command(verbatim_doc_comment)]
    Drift(DriftArgs),
    /// Prove each trust chain statically on the live documents.
    ///
    /// For every workload: may the management role call sts:AssumeRole on the workload role
    /// (its inline policies and the workload role's trust policy, with the ExternalId CAPA
    /// sends)? Also flags what breaks CAPA at runtime: unique-ID principals, required session
    /// tags or source identity, sessions longer than the role allows.
    ///
    /// Exit: 0 all good, 2 findings, 1 error.
    ///
    /// Example:
    ///   xacct verify --json
    #[command(verbatim_doc_comment)]
    Verify(VerifyArgs),
    /// Remove everything xacct owns (its trust statements, its inline policy, its manifest
    /// edits) and nothing else.
    ///
    /// Example:
    ///   xacct destroy --auto-approve
    #[command(verbatim_doc_comment)]
    Destroy(DestroyArgs),
    /// Inspect and repair state: list, show, rm, pull, push.
    ///
    /// Examples:
    ///   xacct state list
    ///   xacct state show 'trust.dev'
    ///   xacct state pull > backup.json            # later: xacct state push --force backup.json
    #[command(verbatim_doc_comment)]
    State(StateArgs),
    /// Remove a state lock left by a crashed run, given the lock ID the error printed.
    ///
    /// Example:
    ///   xacct force-unlock 2b1f6c0e-…
    #[command(verbatim_doc_comment)]
    ForceUnlock(ForceUnlockArgs),
    /// Print the JSON Schema of the desired-state file, for editors and CI.
    ///
    /// Built from the same key tables `xacct validate` checks with. For editors with the YAML
    /// language server, put the schema in the repository and name it on the file's first line:
    ///   # yaml-language-server: $schema=./xacct.schema.json
    ///
    /// Example:
    ///   xacct schema > xacct.schema.json
    #[command(verbatim_doc_comment)]
    Schema,
    /// Print shell completions.
    ///
    /// Example:
    ///   xacct completions bash > /etc/bash_completion.d/xacct
    #[command(verbatim_doc_comment)]
    Completions { shell: clap_complete::Shell },
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
    #[command(flatten)]
    pub file: FileArg,
    /// Print the diagnostics as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub file: FileArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

/// Options of every command that talks to AWS.
#[derive(Debug, Clone, Args)]
pub struct LiveArgs {
    /// Send every AWS request here (an emulator); also read from AWS_ENDPOINT_URL.
    #[arg(long, env = "AWS_ENDPOINT_URL", global = true)]
    pub endpoint_url: Option<String>,
    /// The AWS region for STS and S3 (IAM is global).
    #[arg(long, env = "AWS_REGION", global = true)]
    pub region: Option<String>,
    /// Accounts read, and steps applied, at once.
    #[arg(long, default_value_t = 10, global = true)]
    pub parallelism: usize,
}

/// For the commands that take the state lock.
#[derive(Debug, Args)]
pub struct LockArgs {
    /// Wait this long for a held state lock instead of failing at once (e.g. `30s`, `2m`).
    #[arg(long, default_value = "0s", value_parser = parse_duration, global = true)]
    pub lock_timeout: std::time::Duration,
}

pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().map_err(|_| format!("expected a duration like `30s` or `2m`, found `{s}`"))?;
    match unit {
        "" | "s" => Ok(std::time::Duration::from_secs(n)),
        "m" => Ok(std::time::Duration::from_secs(n * 60)),
        "ms" => Ok(std::time::Duration::from_millis(n)),
        _ => Err(format!("expected a duration like `30s` or `2m`, found `{s}`")),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub live: LiveArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Save the plan here, to apply it exactly with `xacct apply PLAN`.
    #[arg(short = 'o', long = "out")]
    pub out: Option<PathBuf>,
    /// Print the plan as JSON (same as `--format json`).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    /// Exit 2 when there are changes, 0 when there are none.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Read live IAM (`--refresh=false` plans from state alone; such a plan cannot be applied).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub refresh: bool,
    /// Plan only this address and what it depends on (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Remove the trust statements of discovered accounts that left the AWS Organizations
    /// selection even when the removal guard refuses: when more than one and more than a fifth
    /// of the accounts state holds from Organizations left at once, or when a selector state holds
    /// accounts from found no ACTIVE account. A wrong OU ID, a reorganisation or a lost
    /// permission looks the same: check the selectors first.
    #[arg(long)]
    pub allow_removals: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub live: LiveArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// A plan saved with `xacct plan -o`; without it, xacct plans and asks first.
    pub plan: Option<PathBuf>,
    /// Apply without asking.
    #[arg(long)]
    pub auto_approve: bool,
    /// Print apply events as JSON lines on stdout.
    #[arg(long)]
    pub json: bool,
    /// Remove the trust statements of discovered accounts that left the AWS Organizations
    /// selection even when the removal guard refuses: when more than one and more than a fifth
    /// of the accounts state holds from Organizations left at once, or when a selector state holds
    /// accounts from found no ACTIVE account. A wrong OU ID, a reorganisation or a lost
    /// permission looks the same: check the selectors first.
    /// (Planning only: not with a saved plan, whose removals were decided when it was made.)
    #[arg(long, conflicts_with = "plan")]
    pub allow_removals: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The desired-state file (read only with `--check`, for the state backend and the accounts).
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub live: LiveArgs,
    /// A plan saved with `xacct plan -o`.
    pub plan: PathBuf,
    /// Print the plan as JSON (same as `--format json`).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    /// Also check that the plan is still applyable: re-read state and the live documents it touched.
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Print the report as JSON (same as `--format json`).
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Output format (`markdown` for a pull-request comment or a job summary).
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub live: LiveArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Destroy without asking.
    #[arg(long)]
    pub auto_approve: bool,
}

#[derive(Debug, Args)]
pub struct StateArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub live: LiveArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    #[command(subcommand)]
    pub command: StateCommand,
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the addresses in state, one per line.
    ///
    /// Examples:
    ///   xacct state list
    ///   xacct state list | grep '^trust\.'
    #[command(verbatim_doc_comment)]
    List,
    /// Show what xacct last applied for one address.
    ///
    /// Examples:
    ///   xacct state show trust.dev
    ///   xacct state show 'manifest.dev["clusters/dev-1.yaml"]'
    #[command(verbatim_doc_comment)]
    Show {
        /// The address, as `xacct state list` prints it.
        address: String,
    },
    /// Forget one address (nothing live is touched).
    ///
    /// The next plan reads live IAM again: an equivalent statement or policy still there is
    /// adopted; a manifest that still carries the identity is recorded without an undo record.
    ///
    /// Examples:
    ///   xacct state rm trust.dev
    ///   xacct state rm assume_policy.management   # e.g. before renaming the policy
    #[command(verbatim_doc_comment)]
    Rm {
        /// The address, as `xacct state list` prints it.
        address: String,
    },
    /// Print the state document (JSON) to stdout.
    ///
    /// Examples:
    ///   xacct state pull > backup.json
    #[command(verbatim_doc_comment)]
    Pull,
    /// Replace the state with FILE (refuses another lineage or an older serial unless --force).
    ///
    /// Examples:
    ///   xacct state push backup.json
    ///   xacct state push --force other-lineage.json   # you know it is the right one
    #[command(verbatim_doc_comment)]
    Push {
        // Not named `file`: that id is the global `-f/--file`, and clap would fill one from the other.
        /// A state document, as `xacct state pull` printed it.
        #[arg(value_name = "FILE")]
        document: PathBuf,
        /// Push even when the lineage differs or the serial is older.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub live: LiveArgs,
    /// The lock ID, as the lock error printed it.
    pub id: String,
}

/// The least severe finding that fails a check (exit 2), as IAM Access Analyzer names severities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Only errors: what IAM rejects or what cannot work.
    Error,
    /// Errors and security warnings (grants wider than they should be).
    SecurityWarning,
    /// Errors, security warnings and warnings (likely mistakes). The default.
    Warning,
    /// Every finding, suggestions included.
    Suggestion,
}

impl FailOn {
    pub fn severity(self) -> xacct_policy::Severity {
        match self {
            FailOn::Error => xacct_policy::Severity::Error,
            FailOn::SecurityWarning => xacct_policy::Severity::SecurityWarning,
            FailOn::Warning => xacct_policy::Severity::Warning,
            FailOn::Suggestion => xacct_policy::Severity::Suggestion,
        }
    }
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub file: FileArg,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Exit 2 on findings this severe or worse; a trust chain that is not allowed always fails.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = FailOn::Warning)]
    pub fail_on: FailOn,
}
