//! The commands that read or write live IAM: plan, apply, drift, destroy.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context as _};
use xacct_apply::ApplyOptions;
use xacct_plan::{Cloud, Plan, PlanOptions, Removals};
use xacct_render::Style;
use xacct_spec::Address;

use super::context::{runtime, Context, RefreshProgress};
use crate::args::{ApplyArgs, DestroyArgs, DriftArgs, Global, LiveArgs, OutputFormat, PlanArgs, VerifyArgs};
use crate::{Outcome, Printer};

const VERSION: &str = env!("CARGO_PKG_VERSION");

pub(super) fn format(json: bool, f: OutputFormat) -> OutputFormat {
    if json {
        OutputFormat::Json
    } else {
        f
    }
}

pub(super) fn print_plan(plan: &Plan, f: OutputFormat, printer: &Printer) {
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
    allow_removals: bool,
) -> anyhow::Result<Plan> {
    let state = cx.load_state().await?;
    let removals = match (destroy, allow_removals) {
        (true, _) => Removals::Destroy,
        (false, true) => Removals::Allowed,
        (false, false) => Removals::Guarded,
    };
    let opts = PlanOptions {
        refresh,
        targets,
        parallelism: live.parallelism,
        xacct_version: VERSION.into(),
        organization: cx.discovery.clone(),
        removals,
    };
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

/// Run `command`; when it fails before printing its report and the format is Markdown, print the
/// error as Markdown on stdout too, so that a CI job posting stdout as a comment says what failed.
fn markdown_on_failure(
    command: &str,
    f: OutputFormat,
    printer: &Printer,
    run: impl FnOnce(&mut bool) -> anyhow::Result<Outcome>,
) -> anyhow::Result<Outcome> {
    let mut printed = false;
    let result = run(&mut printed);
    if let (Err(e), false, OutputFormat::Markdown) = (&result, printed, f) {
        let text = crate::printer::error_text(e);
        let text = if text.starts_with("error: ") { text } else { format!("error: {text}") };
        printer.out(&xacct_render::failure_markdown(command, &text));
    }
    result
}

pub fn plan(global: &Global, args: &PlanArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    markdown_on_failure("plan", format(args.json, args.format), printer, |printed| {
        plan_run(global, args, printer, printed)
    })
}

fn plan_run(global: &Global, args: &PlanArgs, printer: &Printer, printed: &mut bool) -> anyhow::Result<Outcome> {
    let targets = args.targets.iter().map(|t| t.parse::<Address>()).collect::<Result<Vec<_>, _>>()?;
    let rt = runtime()?;
    rt.block_on(async {
        let cx = Context::with_discovery(global, &args.live, printer).await?;
        let lock = cx.lock("plan", args.lock.lock_timeout).await?;
        let plan = tokio::select! {
            plan = make_plan(&cx, &args.live, args.refresh, targets, false, args.allow_removals) => plan,
            _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted while planning; nothing was changed")),
        };
        lock.release().await?;
        let plan = plan?;
        print_plan(&plan, format(args.json, args.format), printer);
        *printed = true;
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
    markdown_on_failure("drift", format(args.json, args.format), printer, |printed| {
        drift_run(global, args, printer, printed)
    })
}

fn drift_run(global: &Global, args: &DriftArgs, printer: &Printer, printed: &mut bool) -> anyhow::Result<Outcome> {
    let rt = runtime()?;
    rt.block_on(async {
        let cx = Context::with_discovery(global, &args.live, printer).await?;
        let state = cx.load_state().await?;
        if state.is_none() {
            printer.warning("no state yet: nothing has been applied, so nothing can have drifted");
        }
        let progress = RefreshProgress::new();
        let cloud: Arc<dyn Cloud> = cx.cloud.clone();
        let report = xacct_plan::drift::detect_with(
            &cx.spec.dir,
            state.as_ref(),
            cloud,
            args.live.parallelism,
            &progress,
            cx.discovery.as_ref(),
        )
        .await;
        progress.finish();
        let text = match format(args.json, args.format) {
            OutputFormat::Human => xacct_render::drift_human(&report, &Style { color: printer.stdout_color() }),
            OutputFormat::Json => xacct_render::drift_json(&report),
            OutputFormat::Markdown => xacct_render::drift_markdown(&report),
        };
        printer.out(&text);
        *printed = true;
        if report.has_errors() {
            bail!("drift detection could not read everything (above)");
        }
        Ok(if report.in_sync() { Outcome::Success } else { Outcome::Differs })
    })
}

pub fn apply(global: &Global, args: &ApplyArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    let mode = Mode {
        auto_approve: args.auto_approve,
        json: args.json,
        destroy: false,
        lock_timeout: args.lock.lock_timeout,
        allow_removals: args.allow_removals,
    };
    run_apply(global, &args.live, args.plan.as_deref(), mode, printer)
}

pub fn destroy(global: &Global, args: &DestroyArgs, printer: &Printer) -> anyhow::Result<Outcome> {
    run_apply(
        global,
        &args.live,
        None,
        Mode {
            auto_approve: args.auto_approve,
            json: false,
            destroy: true,
            lock_timeout: args.lock.lock_timeout,
            allow_removals: false,
        },
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
    let outcome = rt.block_on(async {
        let cx = Context::with_discovery(global, live, printer).await?;
        // Listen for Ctrl-C before taking the lock, so it never kills the process holding it.
        let signals = Arc::new(Signals::default());
        let watcher = tokio::spawn(signals.clone().watch(interrupts()?));
        let operation = if destroy { "destroy" } else { "apply" };
        let lock = cx.lock_until(operation, mode.lock_timeout, &|| signals.is_cancelled()).await?;
        let result = async {
            // Ctrl-C while planning, checking or asking abandons the run: nothing was written.
            let prepared = tokio::select! {
                r = prepare(&cx, live, saved_plan, mode, printer) => r?,
                () = signals.cancelled() => bail!("interrupted before anything was changed"),
            };
            let Some((plan, state)) = prepared else { return Ok(Outcome::Success) };
            if !signals.start_applying() {
                bail!("interrupted before anything was changed");
            }
            // From here Ctrl-C stops scheduling; steps in flight finish and state is saved.
            execute(&cx, live, &plan, state, mode, &signals, printer).await
        }
        .await;
        watcher.abort();
        let released = lock.release().await;
        let outcome = result?;
        released?;
        Ok(outcome)
    });
    // A `yes` prompt may still be reading stdin on a blocking thread: do not wait for it.
    rt.shutdown_background();
    outcome
}

/// Load state and settle the plan to apply: a saved plan checked against live, or a fresh one
/// shown and confirmed. `None` when there is nothing to do.
async fn prepare(
    cx: &Context,
    live: &LiveArgs,
    saved: Option<Plan>,
    mode: Mode,
    printer: &Printer,
) -> anyhow::Result<Option<(Plan, Option<xacct_state::State>)>> {
    let Mode { auto_approve, json, destroy, allow_removals, .. } = mode;
    let state = cx.load_state().await?;
    let cloud: Arc<dyn Cloud> = cx.cloud.clone();
    let plan = match saved {
        Some(plan) => {
            if !plan.applyable {
                bail!("this plan cannot be applied (it has errors or was made with --refresh=false); run `xacct plan` again");
            }
            xacct_apply::check_stale(&plan, state.as_ref(), cloud).await?;
            if plan.spec_digest != xacct_plan::sha256(&cx.spec_bytes) {
                printer.warning(&format!(
                    "`{}` changed since this plan was made; applying the plan exactly as saved, without those edits (run `xacct plan` again to include them)",
                    cx.spec.file.display()
                ));
            }
            plan
        }
        None => {
            let plan = make_plan(cx, live, true, Vec::new(), destroy, allow_removals).await?;
            if !json {
                print_plan(&plan, OutputFormat::Human, printer);
            }
            if !plan.applyable {
                bail!("the plan has errors (above); nothing was changed");
            }
            if !plan.pending().any(|c| c.kind != "role") {
                return Ok(None);
            }
            if !auto_approve && !tokio::task::spawn_blocking(move || confirm(destroy)).await?? {
                bail!("{} cancelled; nothing was changed", if destroy { "destroy" } else { "apply" });
            }
            plan
        }
    };
    Ok(Some((plan, state)))
}

async fn execute(
    cx: &Context,
    live: &LiveArgs,
    plan: &Plan,
    state: Option<xacct_state::State>,
    mode: Mode,
    signals: &Signals,
    printer: &Printer,
) -> anyhow::Result<Outcome> {
    let Mode { json, destroy, .. } = mode;
    let cloud: Arc<dyn Cloud> = cx.cloud.clone();
    let opts = ApplyOptions {
        parallelism: live.parallelism,
        xacct_version: VERSION.into(),
        interrupt: signals.interrupt.clone(),
    };
    let sink = crate::progress::EventPrinter::new(json, printer.clone());
    let (report, state) = xacct_apply::apply(plan, cloud, cx.backend.as_ref(), state, &opts, &sink).await;
    // The backend refused a checkpoint: keep what happened in a local file before anything else.
    let errored = match &report.state_error {
        Some(_) => Some(keep_errored_state(cx, &state).await),
        None => None,
    };
    if let Some(Ok(kept)) = &errored {
        xacct_apply::Sink::event(
            &sink,
            &xacct_apply::Event::StateBackup { path: kept.path.display().to_string(), push: kept.push.clone() },
        );
    }
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
    if let (Some(e), Some(kept)) = (&report.state_error, errored) {
        let unsaved = if report.unsaved.is_empty() {
            "none".to_string()
        } else {
            report.unsaved.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
        };
        let stopped = format!(
            "state could not be saved: {e}\nxacct started nothing new after that and let the steps in flight finish; \
             applied but missing from {}: {unsaved}",
            cx.backend.describe()
        );
        match kept {
            Ok(kept) => bail!(
                "{stopped}\nthe full state, with everything that was applied, is saved in `{}`{}\n\
                 hint: fix the cause, then push it back with: {}",
                kept.path.display(),
                kept.note,
                kept.push
            ),
            // Never printed when it would show something that looks like a credential.
            Err(why) if xacct_state::check_no_credentials(&state).is_err() => {
                bail!("{stopped}\nthe full state could not be saved to a file either: {why:#}")
            }
            Err(why) => bail!(
                "{stopped}\nthe full state could not be saved to a file either ({why:#}); here it is — save it \
                 and push it back with `xacct state push FILE` once the cause is fixed:\n{}",
                String::from_utf8_lossy(&xacct_state::encode(&state))
            ),
        }
    }
    if report.interrupted {
        bail!("interrupted: finished steps are saved in state; run `xacct apply` again to continue");
    }
    if !report.ok() {
        bail!("some steps failed (above); state records what was done; fix the cause and run `xacct apply` again");
    }
    Ok(Outcome::Success)
}

/// Where [`keep_errored_state`] saved the state, and the command that pushes it back.
struct Kept {
    path: std::path::PathBuf,
    push: String,
    /// Why `push` needs `--force`, or empty.
    note: String,
}

/// Save the state the backend refused (see [`xacct_apply::save_errored_state`]) beside the local
/// state file, or in the current directory for a remote backend (or when the state directory
/// cannot be written), and work out the `xacct state push` command that puts it back.
async fn keep_errored_state(cx: &Context, state: &xacct_state::State) -> anyhow::Result<Kept> {
    let here = std::path::PathBuf::from(".");
    let mut dirs = Vec::new();
    if let xacct_spec::BackendSpec::Local { path } = &cx.spec.backend {
        match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => dirs.push(d.to_path_buf()),
            _ => {}
        }
    }
    dirs.push(here.clone());
    let mut last = None;
    let mut saved = None;
    for dir in &dirs {
        match xacct_apply::save_errored_state(state, dir, VERSION).await {
            Ok(s) => {
                saved = Some(s);
                break;
            }
            Err(e) => last = Some(anyhow::Error::new(e).context(format!("cannot write to `{}`", dir.display()))),
        }
    }
    let Some((path, written)) = saved else {
        return Err(last.unwrap_or_else(|| anyhow::anyhow!("nowhere to write")));
    };
    let path = match path.strip_prefix(&here) {
        Ok(p) => p.to_path_buf(),
        Err(_) => path,
    };
    // Plain `state push` takes it when the backend still holds the last checkpoint; when someone
    // wrote state meanwhile it needs --force, and that replaces what they wrote.
    let (force, note) = match cx.backend.load().await {
        Ok(current) => match xacct_state::check_push(current.as_ref(), &written, false) {
            Ok(()) => (false, String::new()),
            Err(e) => (
                true,
                format!(
                    "\n{} no longer holds the state this apply started from ({e}); check it with `xacct state pull` \
                     before replacing it",
                    cx.backend.describe()
                ),
            ),
        },
        Err(_) => (false, String::new()),
    };
    let mut push = String::from("xacct state push ");
    if cx.spec.file != std::path::Path::new("xacct.yaml") {
        push.push_str(&format!("-f {} ", shell_word(&cx.spec.file.display().to_string())));
    }
    if force {
        push.push_str("--force ");
    }
    push.push_str(&shell_word(&path.display().to_string()));
    Ok(Kept { path, push, note })
}

/// `s` as one word for a POSIX shell.
fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// How `apply` or `destroy` was asked to run.
#[derive(Clone, Copy)]
struct Mode {
    auto_approve: bool,
    json: bool,
    destroy: bool,
    lock_timeout: std::time::Duration,
    /// `--allow-removals`: the removal guard warns instead of refusing.
    allow_removals: bool,
}

/// What Ctrl-C does during `apply` and `destroy`: before the apply phase it cancels the run
/// (nothing was written); during it, it asks the executor to stop scheduling. One atomic phase,
/// so a Ctrl-C racing the start of the apply phase is either a cancel or an interrupt, never lost.
#[derive(Default)]
struct Signals {
    /// [`PREPARING`], [`CANCELLED`] or [`APPLYING`].
    phase: std::sync::atomic::AtomicU8,
    interrupt: Arc<AtomicBool>,
    cancel: tokio::sync::Notify,
}

const PREPARING: u8 = 0;
const CANCELLED: u8 = 1;
const APPLYING: u8 = 2;

impl Signals {
    async fn watch(self: Arc<Self>, mut interrupts: Interrupts) {
        while interrupts.next().await {
            match self.phase.compare_exchange(PREPARING, CANCELLED, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => self.cancel.notify_one(),
                Err(APPLYING) => self.interrupt.store(true, Ordering::SeqCst),
                Err(_) => {}
            }
        }
    }

    fn is_cancelled(&self) -> bool {
        self.phase.load(Ordering::SeqCst) == CANCELLED
    }

    /// Resolves once the run is cancelled.
    async fn cancelled(&self) {
        while self.phase.load(Ordering::SeqCst) != CANCELLED {
            self.cancel.notified().await;
        }
    }

    /// Enter the apply phase; `false` when a Ctrl-C cancelled the run first.
    fn start_applying(&self) -> bool {
        self.phase.compare_exchange(PREPARING, APPLYING, Ordering::SeqCst, Ordering::SeqCst).is_ok()
    }
}

/// Ctrl-C as a stream, registered when created (not on first poll).
#[cfg(unix)]
struct Interrupts(tokio::signal::unix::Signal);

#[cfg(unix)]
fn interrupts() -> anyhow::Result<Interrupts> {
    let s = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("cannot listen for Ctrl-C")?;
    Ok(Interrupts(s))
}

#[cfg(unix)]
impl Interrupts {
    async fn next(&mut self) -> bool {
        self.0.recv().await.is_some()
    }
}

#[cfg(not(unix))]
struct Interrupts;

#[cfg(not(unix))]
fn interrupts() -> anyhow::Result<Interrupts> {
    Ok(Interrupts)
}

#[cfg(not(unix))]
impl Interrupts {
    async fn next(&mut self) -> bool {
        tokio::signal::ctrl_c().await.is_ok()
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
        // With an `organization` block the workloads are what discovery selects, each with its
        // organization and OU path: the chains need no further Organizations call for them.
        let cx = Context::with_discovery(global, &args.live, printer).await?;
        let cloud: Arc<dyn Cloud> = cx.cloud.clone();
        let organizations = org_facts_source(&cx.spec, &args.live);
        let mut report = xacct_plan::verify::verify_with_org(&cx.spec, cloud, &organizations).await;
        report.organizations_calls += cx.discovery.as_ref().map_or(0, |d| d.calls);
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
            let of_them = match report.organizations_calls {
                0 => String::new(),
                1 => " and 1 AWS Organizations call".to_string(),
                n => format!(" and {n} AWS Organizations calls"),
            };
            out.push_str(&format!(
                "Verified {} trust chain{}: {} allowed, {} not; {} finding{}. ({} AWS calls{of_them})",
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
        let fail_on = args.fail_on.severity();
        let below = report.below(fail_on);
        if below > 0 && !args.json {
            printer.status(&format!(
                "{} below --fail-on {}: not failing on {}",
                super::plural(below, "finding"),
                fail_on.as_str().to_lowercase().replace('_', "-"),
                if below == 1 { "it" } else { "them" }
            ));
        }
        Ok(if report.passes(fail_on) { Outcome::Success } else { Outcome::Differs })
    })
}

/// Where `verify` learns which organization and OU each account is in, asked only when a chain's
/// policies condition on them: AWS Organizations read with `organization.access` when the file
/// has an `organization` block, else with the management account's access (only the management
/// account or a delegated administrator may call `ListParents`); an account outside that
/// organization is asked itself, with its own access, which organization it is in
/// (`DescribeOrganization`, which any member may call). Whatever fails leaves the accounts it
/// concerns unreadable, with the reason: their chains are `not_proven`.
fn org_facts_source(spec: &xacct_spec::Spec, live: &crate::args::LiveArgs) -> impl xacct_plan::verify::OrgFactsSource {
    use std::sync::atomic::AtomicU64;
    use xacct_aws::{AccountAccess, AwsOrganizations};
    use xacct_plan::org::facts::{resolve, DescribeFuture, FnMembers, OrgFacts};
    use xacct_plan::org::Organization as _;
    use xacct_plan::verify::{FactsFuture, FnSource};

    let settings = super::context::aws_settings(spec, live);
    let reader = match &spec.organization {
        Some(org) => super::context::access(&org.access, &spec.partition, &spec.management.account),
        None => settings.accounts.get(&spec.management.account).cloned().unwrap_or_default(),
    };
    // The `sts:AssumeRole` a client made before it failed, if its access assumes a role.
    let assumed = |a: &AccountAccess| u64::from(matches!(a, AccountAccess::AssumeRole { .. }));
    FnSource(move |accounts: std::collections::BTreeSet<String>| -> FactsFuture {
        let (settings, reader) = (settings.clone(), reader.clone());
        Box::pin(async move {
            let organizations = match AwsOrganizations::new(&settings, &reader).await {
                Ok(o) => o,
                Err(e) => {
                    let mut facts =
                        OrgFacts::unreadable(accounts, &format!("AWS Organizations could not be read: {e}"));
                    facts.sts_calls = assumed(&reader);
                    return facts;
                }
            };
            // The sts:AssumeRole calls made for the accounts asked themselves.
            let member_sts = Arc::new(AtomicU64::new(0));
            let counted = member_sts.clone();
            let members = FnMembers(move |account: String| -> DescribeFuture {
                let (settings, counted) = (settings.clone(), counted.clone());
                Box::pin(async move {
                    let Some(access) = settings.accounts.get(&account).cloned() else {
                        let message = format!("xacct has no access configured for account {account}");
                        let e = xacct_plan::org::OrgError::Credentials { message };
                        return (Err(e), 0);
                    };
                    counted.fetch_add(assumed(&access), Ordering::Relaxed);
                    match AwsOrganizations::new(&settings, &access).await {
                        Ok(own) => (own.describe_organization().await, 1),
                        Err(e) => (Err(e), 0),
                    }
                })
            });
            let mut facts = resolve(&organizations, &accounts, &members).await;
            // `facts.calls` counts the Organizations calls (one per page, the lookups' included);
            // the sts:AssumeRole calls that got credentials for them are counted apart.
            facts.sts_calls = assumed(&reader) + member_sts.load(Ordering::Relaxed);
            facts
        })
    })
}
