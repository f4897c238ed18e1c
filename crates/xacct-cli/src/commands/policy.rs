//! `xacct policy …`: the policy engine on its own (being written).

use clap::{Args, Subcommand};

use crate::{Outcome, Printer};

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print a policy in canonical form.
    Fmt { file: std::path::PathBuf },
}

pub fn run(_args: &PolicyArgs, _printer: &Printer) -> anyhow::Result<Outcome> {
    anyhow::bail!("not yet")
}
