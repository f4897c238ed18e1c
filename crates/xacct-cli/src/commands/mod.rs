//! One module per command.

mod context;
mod graph;
mod live;
pub(crate) mod policy;
mod show;
mod state;
mod validate;

use crate::args::{Cli, Command};
use crate::{Outcome, Printer};

pub fn run(cli: Cli, printer: &Printer) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Validate(a) => validate::run(&(&a.file).into(), &a, printer),
        Command::Graph(a) => graph::run(&(&a.file).into(), &a, printer),
        Command::Policy(a) => policy::run(&a, printer),
        Command::Plan(a) => live::plan(&(&a.file).into(), &a, printer),
        Command::Apply(a) => live::apply(&(&a.file).into(), &a, printer),
        Command::Show(a) => show::run(&(&a.file).into(), &a, printer),
        Command::Drift(a) => live::drift(&(&a.file).into(), &a, printer),
        Command::Verify(a) => live::verify(&(&a.file).into(), &a, printer),
        Command::Destroy(a) => live::destroy(&(&a.file).into(), &a, printer),
        Command::State(a) => state::run(&(&a.file).into(), &a, printer),
        Command::ForceUnlock(a) => state::force_unlock(&(&a.file).into(), &a, printer),
        Command::Schema => {
            let schema = serde_json::to_string_pretty(&xacct_spec::keys::schema())?;
            printer.out(&schema);
            Ok(Outcome::Success)
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "xacct", &mut out);
            printer.out(&String::from_utf8_lossy(&out));
            Ok(Outcome::Success)
        }
    }
}

/// Load and validate the desired-state file, printing its warnings; errors become one report.
pub(crate) fn load_spec(global: &crate::args::Global, printer: &Printer) -> anyhow::Result<xacct_spec::Spec> {
    match xacct_spec::load(&global.file) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                printer.warning(&w.to_string());
            }
            Ok(loaded.spec)
        }
        Err(diags) => Err(invalid_file(diags)),
    }
}

pub(crate) fn invalid_file(diags: xacct_spec::Diagnostics) -> anyhow::Error {
    let n = diags.errors().count();
    anyhow::anyhow!("{diags}\n\n{} in the desired-state file; nothing was changed", plural(n, "error"))
}

pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
