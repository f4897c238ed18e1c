//! xacct-cli: the `xacct` command line — clap arguments, settings, commands and exit codes.
//!
//! Every command returns an [`Outcome`] or an error; [`main`] maps them to the documented exit
//! codes (0 success or nothing to do, 1 error, 2 changes/drift/findings where a command says so).
//! Data goes to stdout, progress and diagnostics to stderr.

mod args;
mod commands;
mod printer;
mod progress;

use std::process::ExitCode;

use clap::Parser as _;

pub use args::Cli;
pub use printer::Printer;

/// What a command found, as an exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 2: changes pending, drift found, findings reported, documents differ.
    Differs,
}

/// Parse the process arguments, run the command, return its exit code.
pub fn main() -> ExitCode {
    // Usage errors exit 1 (2 means "changes", "drift" or "differs" here); --help and --version 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(1) } else { ExitCode::SUCCESS };
        }
    };
    let printer = Printer::new(cli.options.color);
    match commands::run(cli, &printer) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Differs) => ExitCode::from(2),
        Err(err) => {
            printer.error(&err);
            ExitCode::from(1)
        }
    }
}
