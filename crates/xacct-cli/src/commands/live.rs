//! The commands that read or write live IAM: plan, apply, drift, destroy.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context as _};
use xacct_apply::ApplyOptions;
use xacct_plan::{Cloud, Plan, PlanOptions};
use xacct_render::Style;
use xacct_spec::Address;

use super::context::{runtime, Context, RefreshProgress};
use crate::args::{ApplyArgs, DestroyArgs, DriftArgs, Global, LiveArgs, OutputFormat, PlanArgs, VerifyArgs};
use crate::{Outcome, Printer};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn format(json: bool, f: OutputFormat) -> OutputFormat {
    if json {
        OutputFormat::Json
    } else {
        f
    }
}

fn print_plan(plan: &Plan, f: OutputFormat, printer: &Printer) {
    let text = match f {
        OutputFormat::Human => xacct_render::plan_human(plan, &Style { color: printer.stdout_color() }),
        OutputFormat::Json => xacct_render::plan_json(plan),
        OutputFormat::Markdown => xacct_render::plan_markdown(plan),
    };
    printer.out(&text);
}

async fn make_plan(
    cx: &Context,
    live: &LiveArgs,
    refresh: bool,
    targets: Vec<Address>,
    destroy: bool,
) -> anyhow::Result<Plan> {
    let state = cx.load_state().await?;
    let opts = PlanOptions { refresh, targets, parallelism: live.parallelism, xacct_version: VERSION.into() };
    let progress = RefreshProgress::new();
    let mut spec = cx.spec.clone();
    if destroy {
        spec.workloads.clear();
    }
    let cloud: Arc<dyn Cloud> = cx.cloud.clone();
    let plan = xacct_plan::plan(&spec, &cx.spec_bytes, state.as_ref(), cloud, &opts, &progress).await;
    progress.finish();
    Ok(plan)
}

pub fn plan(global: &Global, args: &PlanArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let targets = args.targets.iter().map(|t| t.parse::<Address>()).collect::<Result<Vec<_>, _>>()?;
    let rt = runtime()?;
    rt.block_on(async {
        let cx = Context::new(global, &args.live, printer).await?;
        let lock = cx.lock("plan", args.lock.lock_timeout).await?;
        let plan = tokio::select! {
            plan = make_plan(&cx, &args.live, args.refresh, targets, false) => plan,
            _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted while planning; nothing was changed")),
        };
        lock.release().await?;
        let plan = plan?;
        print_plan(&plan, format(args.json, args.format), printer);
        let has_errors = plan.errors().next().is_some();
        if let Some(out) = args.out.as_ref().filter(|_| !has_errors) {
            plan.save(out).with_context(|| format!("cannot save the plan to `{}`", out.display()))?;
            printer.status(&format!(
                "Saved the plan to {}. Apply exactly this plan with: xacct apply {}",
                out.display(),
                out.display()
            ));
        }
        if has_errors {
            let not_saved = match &args.out {
                Some(out) => format!(" (not saved to `{}`)", out.display()),
                None => String::new(),
            };
            bail!("the plan has errors (above){not_saved}; nothing can be applied until they are fixed");
        }
        Ok(if args.detailed_exitcode && plan.has_changes() { Outcome::Differs } else { Outcome::Success })
    })
}

pub fn drift(global: &Global, args: &DriftArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let rt = runtime()?;
    rt.block_on(async {
        let cx = Context::new(global, &args.live, printer).await?;
        let state = cx.load_state().await?;
        if state.is_none() {
            printer.warning("no state yet: nothing has been applied, so nothing can have drifted");
        }
        let progress = RefreshProgress::new();
        let cloud: Arc<dyn Cloud> = cx.cloud.clone();
        let report =
            xacct_plan::drift::detect(&cx.spec.dir, state.as_ref(), cloud, args.live.parallelism, &progress).await;
        progress.finish();
        let text = match format(args.json, args.format) {
            OutputFormat::Human => xacct_render::drift_human(&report, &Style { color: printer.stdout_color() }),
            OutputFormat::Json => xacct_render::drift_json(&report),
            OutputFormat::Markdown => xacct_render::drift_markdown(&report),
        };
        printer.out(&text);
        if report.has_errors() {
            bail!("drift detection could not read everything (above)");
        }
        Ok(if report.in_sync() { Outcome::Success } else { Outcome::Differs })
    })
}

pub fn apply(global: &Global, args: &ApplyArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let mode =
        Mode { auto_approve: args.auto_approve, json: args.json, destroy: false, lock_timeout: args.lock.lock_timeout };
    run_apply(global, &args.live, args.plan.as_deref(), mode, printer)
}

pub fn destroy(global: &Global, args: &DestroyArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    run_apply(
        global,
        &args.live,
        None,
        Mode { auto_approve: args.auto_approve, json: false, destroy: true, lock_timeout: args.lock.lock_timeout },
        printer,
    )
}

fn run_apply(
    global: &Global,
    live: &LiveArgs,
    saved: Option<&std::path::Path>,
    mode: Mode,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    let destroy = mode.destroy;
    let saved_plan = match saved {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read the plan `{}`", p.display()))?;
            Some(Plan::from_json(&text).with_context(|| format!("`{}`", p.display()))?)
        }
        None => None,
    };
    let rt = runtime()?;
    rt.block_on(async {
        let cx = Context::new(global, live, printer).await?;
        let lock = cx.lock(if destroy { "destroy" } else { "apply" }, mode.lock_timeout).await?;
        // Ctrl-C before the first write abandons the run; once applying, it stops scheduling and
        // lets steps in flight finish. Either way the lock is released below.
        let signals = Arc::new(Signals::default());
        let watcher = tokio::spawn(signals.clone().watch());
        let result = tokio::select! {
            r = apply_locked(&cx, live, saved_plan, mode, &signals, printer) => r,
            _ = signals.cancel.notified() => Err(anyhow::anyhow!("interrupted before anything was changed")),
        };
        watcher.abort();
        let released = lock.release().await;
        let outcome = result?;
        released?;
        Ok(outcome)
    })
}

async fn apply_locked(
    cx: &Context,
    live: &LiveArgs,
    saved: Option<Plan>,
    mode: Mode,
    signals: &Signals,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    let Mode { auto_approve, json, destroy, .. } = mode;
    let state = cx.load_state().await?;
    let cloud: Arc<dyn Cloud> = cx.cloud.clone();
    let plan = match saved {
        Some(plan) => {
            if !plan.applyable {
                bail!("this plan cannot be applied (it has errors or was made with --refresh=false); run `xacct plan` again");
            }
            xacct_apply::check_stale(&plan, state.as_ref(), cloud.clone()).await?;
            if plan.spec_digest != xacct_plan::sha256(&cx.spec_bytes) {
                printer.warning(&format!(
                    "`{}` changed since this plan was made; applying the plan exactly as saved, without those edits (run `xacct plan` again to include them)",
                    cx.spec.file.display()
                ));
            }
            plan
        }
        None => {
            let plan = make_plan(cx, live, true, Vec::new(), destroy).await?;
            if !json {
                print_plan(&plan, OutputFormat::Human, printer);
            }
            if !plan.applyable {
                bail!("the plan has errors (above); nothing was changed");
            }
            if !plan.pending().any(|c| c.kind != "role") {
                return Ok(Outcome::Success);
            }
            if !auto_approve && !tokio::task::spawn_blocking(move || confirm(destroy)).await?? {
                bail!("{} cancelled; nothing was changed", if destroy { "destroy" } else { "apply" });
            }
            plan
        }
    };
    let opts = ApplyOptions {
        parallelism: live.parallelism,
        xacct_version: VERSION.into(),
        interrupt: signals.interrupt.clone(),
    };
    signals.applying.store(true, Ordering::SeqCst);
    let sink = crate::progress::EventPrinter::new(json, printer.clone());
    let (report, _state) = xacct_apply::apply(&plan, cloud, cx.backend.as_ref(), state, &opts, &sink).await;
    sink.finish();
    let verb = if destroy { "Destroy" } else { "Apply" };
    let line = format!(
        "{verb} {}: {} done, {} failed, {} skipped. ({} AWS calls)",
        if report.ok() { "complete" } else { "incomplete" },
        report.done.len(),
        report.failed.len(),
        report.skipped.len(),
        cx.cloud.call_count()
    );
    printer.status(&line);
    if let Some(e) = &report.state_error {
        bail!("state could not be saved: {e}\nhint: what was applied is live; run `xacct plan` to see it adopted");
    }
    if report.interrupted {
        bail!("interrupted: finished steps are saved in state; run `xacct apply` again to continue");
    }
    if !report.ok() {
        bail!("some steps failed (above); state records what was done; fix the cause and run `xacct apply` again");
    }
    Ok(Outcome::Success)
}

/// How `apply` or `destroy` was asked to run.
#[derive(Clone, Copy)]
struct Mode {
    auto_approve: bool,
    json: bool,
    destroy: bool,
    lock_timeout: std::time::Duration,
}

/// What Ctrl-C does during `apply` and `destroy`: before the apply phase it cancels the run
/// (nothing was written); during it, it asks the executor to stop scheduling.
#[derive(Default)]
struct Signals {
    applying: AtomicBool,
    interrupt: Arc<AtomicBool>,
    cancel: tokio::sync::Notify,
}

impl Signals {
    async fn watch(self: Arc<Self>) {
        while tokio::signal::ctrl_c().await.is_ok() {
            if self.applying.load(Ordering::SeqCst) {
                self.interrupt.store(true, Ordering::SeqCst);
            } else {
                self.cancel.notify_one();
            }
        }
    }
}

fn confirm(destroy: bool) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        if destroy {
            bail!("refusing to destroy without a terminal to confirm on; pass --auto-approve");
        }
        bail!("refusing to apply without a terminal to confirm on; pass --auto-approve, or apply a saved plan");
    }
    let mut err = std::io::stderr();
    let _ = write!(
        err,
        "\nDo you want to {}? Only `yes` is accepted: ",
        if destroy { "remove everything xacct owns" } else { "apply these changes" }
    );
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim() == "yes")
}

pub fn verify(global: &Global, args: &VerifyArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async {
        let cx = Context::new(global, &args.live, printer).await?;
        let cloud: Arc<dyn Cloud> = cx.cloud.clone();
        let report = xacct_plan::verify::verify(&cx.spec, cloud).await;
        if args.json {
            printer.out(&serde_json::to_string_pretty(&report)?);
        } else {
            let mut out = String::new();
            for c in &report.checks {
                let mark = if c.outcome == "allowed" { "ok  " } else { "FAIL" };
                out.push_str(&format!(
                    "{mark} {}: {} -> {}: {}\n",
                    c.workload,
                    c.principal,
                    c.role_arn,
                    c.outcome.replace('_', " ")
                ));
                if !c.deciding.is_empty() {
                    out.push_str(&format!("       decided by: {}\n", c.deciding.join(", ")));
                }
                for n in &c.notes {
                    out.push_str(&format!("       note: {n}\n"));
                }
            }
            for f in &report.findings {
                out.push_str(&format!("{}: {}: {}\n", f.severity.replace('_', " "), f.address, f.message));
            }
            let failed = report.checks.iter().filter(|c| c.outcome != "allowed").count();
            out.push_str(&format!(
                "Verified {} trust chain{}: {} allowed, {} not; {} finding{}. ({} AWS calls)",
                report.checks.len(),
                if report.checks.len() == 1 { "" } else { "s" },
                report.checks.len() - failed,
                failed,
                report.findings.len(),
                if report.findings.len() == 1 { "" } else { "s" },
                report.aws_calls
            ));
            printer.out(&out);
        }
        if !report.errors.is_empty() {
            for e in &report.errors {
                printer.error(&anyhow::anyhow!("{e}"));
            }
            bail!("verify could not read everything it needs (above); the verdict is incomplete");
        }
        Ok(if report.all_good() { Outcome::Success } else { Outcome::Differs })
    })
}
