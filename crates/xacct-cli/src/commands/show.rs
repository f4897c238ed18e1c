//! `xacct show PLAN`: a saved plan rendered again, byte for byte as `xacct plan` printed it.

use std::sync::Arc;

use anyhow::Context as _;
use xacct_plan::{Cloud, Plan};

use super::context::{runtime, Context};
use super::live::{format, print_plan};
use crate::args::{Global, ShowArgs};
use crate::{Outcome, Printer};

pub fn run(global: &Global, args: &ShowArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let text = std::fs::read_to_string(&args.plan)
        .with_context(|| format!("cannot read the plan `{}`", args.plan.display()))?;
    let plan = Plan::from_json(&text).with_context(|| format!("cannot show `{}`", args.plan.display()))?;
    // Nothing but the file: no AWS call, no state read, no lock (unless asked to check).
    print_plan(&plan, format(args.json, args.format), printer);
    if !args.check {
        return Ok(Outcome::Success);
    }
    runtime()?.block_on(async {
        let cx = Context::new(global, &args.live, printer).await?;
        let state = cx.load_state().await?;
        let cloud: Arc<dyn Cloud> = cx.cloud.clone();
        xacct_apply::check_stale(&plan, state.as_ref(), cloud).await?;
        printer.status(&format!(
            "{} is still applyable: state and every live document it read are unchanged. Apply it with: xacct apply {}",
            args.plan.display(),
            args.plan.display()
        ));
        Ok(Outcome::Success)
    })
}
