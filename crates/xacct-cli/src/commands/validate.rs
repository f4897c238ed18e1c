//! `xacct validate`: parse and check the file, no network.

use crate::args::{Global, ValidateArgs};
use crate::{Outcome, Printer};

pub fn run(global: &Global, args: &ValidateArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    // The bootstrap configurations are read and checked too (no network).
    let result = xacct_spec::load(&global.file).and_then(|mut l| match xacct_plan::bootstrap::prepare(&l.spec) {
        Ok(p) => {
            l.warnings.extend(p.warnings);
            Ok(l)
        }
        Err(errors) => Err(xacct_spec::Diagnostics(errors)),
    });
    if args.json {
        let (valid, diags) = match &result {
            Ok(l) => (true, l.warnings.clone()),
            Err(d) => (false, d.0.clone()),
        };
        let doc = serde_json::json!({ "format_version": 1, "valid": valid, "diagnostics": diags });
        printer.out(&serde_json::to_string_pretty(&doc)?);
        return if valid { Ok(Outcome::Success) } else { Err(anyhow::anyhow!("the desired-state file is invalid")) };
    }
    match result {
        Ok(loaded) => {
            for w in &loaded.warnings {
                printer.warning(&w.to_string());
            }
            let s = &loaded.spec;
            let manifests: usize = s.workloads.iter().map(|w| w.manifests.len()).sum();
            // Discovered workloads are known only once Organizations is read (`plan`).
            let selectors = match &s.organization {
                Some(o) => format!(
                    ", {} (their accounts are read by `plan`)",
                    super::plural(o.selectors.len(), "AWS Organizations selector")
                ),
                None => String::new(),
            };
            let workloads = if s.organization.is_some() { "listed workload" } else { "workload" };
            printer.status(&format!(
                "{} is valid: management account {}, {}, {}{selectors}",
                global.file.display(),
                s.management.account,
                super::plural(s.workloads.len(), workloads),
                super::plural(manifests, "manifest")
            ));
            Ok(Outcome::Success)
        }
        Err(diags) => Err(super::invalid_file(diags)),
    }
}
