//! `xacct graph`: the dependency graph as DOT or Mermaid.

use crate::args::{Global, GraphArgs, GraphFormat};
use crate::{Outcome, Printer};

pub fn run(global: &Global, args: &GraphArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let spec = super::load_spec(global, printer)?;
    // With the bootstrap entities (`iam_*`): their configurations are read, no network.
    let (_, desired) =
        xacct_plan::bootstrap::expand(&spec).map_err(|e| super::invalid_file(xacct_spec::Diagnostics(e)))?;
    let text = match args.format {
        GraphFormat::Dot => desired.graph.to_dot(),
        GraphFormat::Mermaid => desired.graph.to_mermaid(),
    };
    printer.out(&text);
    Ok(Outcome::Success)
}
