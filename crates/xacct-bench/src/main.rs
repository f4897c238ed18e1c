//! `xacct-bench`: `xacct plan` and `xacct apply` on the moto emulator beside the emulator's floor,
//! the same AWS calls issued by a minimal client with the same concurrency (see `floor.rs`).
//! Benchmarks, not tests: they print numbers and fail only when a run fails.
//!
//! ```text
//! xacct-bench --endpoint-url URL [--xacct PATH] [--plan N,…] [--apply N,…] [--org N,…]
//!             [--bootstrap N,…] [--rounds R] [--parallelism P] [--reset-emulator]
//! ```
//!
//! `./scripts/bench-emulator` builds the release binaries, starts the emulator and runs this.

// A benchmark's output is its purpose.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bootstrap;
mod emulator;
mod floor;
mod org;
mod table;
mod xacct;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use crate::emulator::Emulator;
use crate::floor::Measured;
use crate::table::{median, Row};
use crate::xacct::Xacct;

/// Pause between two confirming reads in xacct's consistency wait (its default interval).
const CONSISTENCY_INTERVAL: Duration = Duration::from_millis(100);

struct Options {
    endpoint: String,
    xacct: PathBuf,
    plan: Vec<usize>,
    apply: Vec<usize>,
    org: Vec<usize>,
    bootstrap: Vec<usize>,
    rounds: usize,
    parallelism: usize,
    reset: bool,
}

const USAGE: &str =
    "usage: xacct-bench --endpoint-url URL [--xacct PATH] [--plan N,…] [--apply N,…] [--org N,…] [--bootstrap N,…] [--rounds R] [--parallelism P] [--reset-emulator]
  --endpoint-url  the moto server (default: $XACCT_TEST_MOTO_URL)
  --xacct         the xacct binary to time (default: target/release/xacct)
  --plan          workload counts for the plan benchmark (default: 100,1000; `none` for none)
  --apply         workload counts for the apply benchmark (default: 100; `none` for none)
  --org           account counts for the organization benchmark: a no-change plan over accounts
                  discovered from AWS Organizations (31 OUs, three levels), all applied once
                  before timing (default: 1000; `none` for none; also $XACCT_BENCH_ORG)
  --bootstrap     workload counts for the bootstrap benchmark: a no-change plan over N + 1 accounts
                  whose CAPA prerequisites xacct made (`bootstrap: { profile: capa }`), applied
                  once before timing (default: 100; `none` for none; also $XACCT_BENCH_BOOTSTRAP)
  --rounds        measurements of each side, interleaved; the median is printed (default: 3)
  --parallelism   xacct's --parallelism, mirrored by the floor (default: 10)
  --reset-emulator  empty the emulator before each plan size, apply run, organization and
                  bootstrap size, so every run meets an emulator holding only its own accounts
                  (moto slows down as it holds more); only for an emulator of your own";

fn sizes(text: &str) -> anyhow::Result<Vec<usize>> {
    if text == "none" {
        return Ok(Vec::new());
    }
    text.split(',').map(|s| s.trim().parse().with_context(|| format!("`{s}` is not a count"))).collect()
}

fn parse(args: impl Iterator<Item = String>) -> anyhow::Result<Options> {
    let mut o = Options {
        endpoint: std::env::var("XACCT_TEST_MOTO_URL").unwrap_or_default(),
        xacct: PathBuf::from("target/release/xacct"),
        plan: vec![100, 1000],
        apply: vec![100],
        org: match std::env::var("XACCT_BENCH_ORG") {
            Ok(v) if !v.trim().is_empty() => sizes(v.trim())?,
            _ => vec![1000],
        },
        bootstrap: match std::env::var("XACCT_BENCH_BOOTSTRAP") {
            Ok(v) if !v.trim().is_empty() => sizes(v.trim())?,
            _ => vec![100],
        },
        rounds: 3,
        parallelism: 10,
        reset: false,
    };
    let mut args = args.peekable();
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        if flag == "--reset-emulator" {
            o.reset = true;
            continue;
        }
        let value = args.next().with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--endpoint-url" => o.endpoint = value,
            "--xacct" => o.xacct = PathBuf::from(value),
            "--plan" => o.plan = sizes(&value)?,
            "--apply" => o.apply = sizes(&value)?,
            "--org" => o.org = sizes(&value)?,
            "--bootstrap" => o.bootstrap = sizes(&value)?,
            "--rounds" => o.rounds = value.parse().context("--rounds")?,
            "--parallelism" => o.parallelism = value.parse().context("--parallelism")?,
            _ => bail!("unknown argument `{flag}`\n{USAGE}"),
        }
    }
    if o.endpoint.trim().is_empty() {
        bail!("no emulator: pass --endpoint-url or set XACCT_TEST_MOTO_URL\n{USAGE}");
    }
    o.endpoint = o.endpoint.trim().trim_end_matches('/').to_string();
    o.rounds = o.rounds.max(1);
    Ok(o)
}

fn say(line: &str) {
    eprintln!("xacct-bench: {line}");
}

fn secs(m: &Measured) -> String {
    if m.org_calls > 0 {
        format!("{:.3}s/{} calls + {} Organizations", m.wall.as_secs_f64(), m.calls, m.org_calls)
    } else {
        format!("{:.3}s/{} calls", m.wall.as_secs_f64(), m.calls)
    }
}

/// The plan benchmark at `n` workloads: one arrangement, `rounds` interleaved runs of each side
/// (plans write nothing to IAM, so every run reads the same accounts).
async fn plan_bench(o: &Options, emu: &Emulator, x: &Xacct, n: usize) -> anyhow::Result<Row> {
    if o.reset {
        emulator::reset(&o.endpoint)?;
    }
    say(&format!("plan, {n} workloads: arranging {} accounts", n + 1));
    let scenario = emu.arrange(n).await?;
    let dir = tempfile::tempdir()?;
    scenario.write_spec(dir.path())?;
    let (mut xs, mut fs) = (Vec::new(), Vec::new());
    for round in 0..o.rounds {
        let mut run_x = || -> anyhow::Result<()> {
            let m = tokio::task::block_in_place(|| x.plan(dir.path()))?;
            xs.push(m);
            Ok(())
        };
        if round % 2 == 0 {
            run_x()?;
            fs.push(floor::plan(&o.endpoint, &scenario, o.parallelism).await?);
        } else {
            fs.push(floor::plan(&o.endpoint, &scenario, o.parallelism).await?);
            run_x()?;
        }
        say(&format!(
            "plan, {n} workloads, round {}: xacct {}, floor {}",
            round + 1,
            secs(&xs[round]),
            secs(&fs[round])
        ));
    }
    Ok(row("plan", n, &xs, &fs))
}

/// The organization benchmark at `n` accounts: one arrangement (timed and reported: moto's
/// CreateAccount is the slow part), one untimed `xacct apply`, a check that the next plan selects
/// the `n` accounts and changes nothing, then `rounds` interleaved no-change plans of each side.
/// Returns the row and what the setup took.
async fn org_bench(o: &Options, emu: &Emulator, x: &Xacct, n: usize) -> anyhow::Result<(Row, String)> {
    if o.reset {
        emulator::reset(&o.endpoint)?;
    }
    say(&format!("plan, {n} discovered accounts: arranging an organization of {n} accounts below 31 OUs"));
    let t = Instant::now();
    let scenario = org::arrange(emu, &o.endpoint, n).await?;
    let arranged = t.elapsed();
    say(&format!("plan, {n} discovered accounts: arranged in {:.1}s", arranged.as_secs_f64()));
    let dir = tempfile::tempdir()?;
    scenario.write_spec(dir.path())?;
    let t = Instant::now();
    let applied = tokio::task::block_in_place(|| x.apply(dir.path()))?;
    let applied_in = t.elapsed();
    say(&format!(
        "plan, {n} discovered accounts: applied in {:.1}s ({} AWS calls)",
        applied_in.as_secs_f64(),
        applied.calls
    ));
    let (_, plan) = tokio::task::block_in_place(|| x.plan_json(dir.path()))?;
    let summary = &plan["summary"];
    let changed: u64 =
        ["create", "update", "delete", "adopt", "forget"].iter().map(|k| summary[*k].as_u64().unwrap_or(0)).sum();
    anyhow::ensure!(changed == 0, "the plan after apply is not empty: {summary}");
    anyhow::ensure!(
        summary["organization"]["selected"].as_u64() == Some(n as u64),
        "the plan does not select the {n} accounts: {summary}"
    );
    let (mut xs, mut fs) = (Vec::new(), Vec::new());
    for round in 0..o.rounds {
        let mut run_x = || -> anyhow::Result<()> {
            xs.push(tokio::task::block_in_place(|| x.plan(dir.path()))?);
            Ok(())
        };
        if round % 2 == 0 {
            run_x()?;
            fs.push(org::floor_plan(&o.endpoint, &scenario, o.parallelism).await?);
        } else {
            fs.push(org::floor_plan(&o.endpoint, &scenario, o.parallelism).await?);
            run_x()?;
        }
        say(&format!(
            "plan, {n} discovered accounts, round {}: xacct {}, floor {}",
            round + 1,
            secs(&xs[round]),
            secs(&fs[round])
        ));
    }
    let mut r = row("plan, discovered accounts", n, &xs, &fs);
    let org_calls = |ms: &[Measured]| ms.iter().map(|m| m.org_calls).max().unwrap_or(0);
    r.org_calls = Some((org_calls(&xs), org_calls(&fs)));
    let setup = format!(
        "organization of {n}: arranged on the emulator in {:.1}s ({} OUs; CreateAccount, MoveAccount, AssumeRole and CreateRole per account, {} at once), applied by xacct in {:.1}s",
        arranged.as_secs_f64(),
        scenario.ous.len(),
        emulator::ARRANGE_PARALLELISM,
        applied_in.as_secs_f64()
    );
    Ok((r, setup))
}

/// The bootstrap benchmark at `n` workloads: one arrangement of `n + 1` accounts holding only
/// their access role (timed and reported), one `xacct apply` bootstrapping them all (timed and
/// reported apart), a check that the next plan changes nothing, then `rounds` interleaved
/// no-change plans of each side. Returns the row and what the setup took.
async fn bootstrap_bench(o: &Options, emu: &Emulator, x: &Xacct, n: usize) -> anyhow::Result<(Row, String)> {
    if o.reset {
        emulator::reset(&o.endpoint)?;
    }
    let what = format!("plan, {n} bootstrapped workloads");
    say(&format!("{what}: arranging {} accounts", n + 1));
    let t = Instant::now();
    let scenario = bootstrap::arrange(emu, n).await?;
    let arranged = t.elapsed();
    say(&format!("{what}: arranged in {:.1}s", arranged.as_secs_f64()));
    let dir = tempfile::tempdir()?;
    bootstrap::write_spec(&scenario, dir.path())?;
    let applied = tokio::task::block_in_place(|| x.apply(dir.path()))?;
    say(&format!("{what}: applied in {:.1}s ({} AWS calls)", applied.wall.as_secs_f64(), applied.calls));
    let (_, plan) = tokio::task::block_in_place(|| x.plan_json(dir.path()))?;
    let summary = &plan["summary"];
    let changed: u64 =
        ["create", "update", "delete", "adopt", "forget"].iter().map(|k| summary[*k].as_u64().unwrap_or(0)).sum();
    anyhow::ensure!(changed == 0, "the plan after apply is not empty: {summary}");
    let (mut xs, mut fs) = (Vec::new(), Vec::new());
    for round in 0..o.rounds {
        let mut run_x = || -> anyhow::Result<()> {
            xs.push(tokio::task::block_in_place(|| x.plan(dir.path()))?);
            Ok(())
        };
        if round % 2 == 0 {
            run_x()?;
            fs.push(bootstrap::floor_plan(&o.endpoint, &scenario, o.parallelism).await?);
        } else {
            fs.push(bootstrap::floor_plan(&o.endpoint, &scenario, o.parallelism).await?);
            run_x()?;
        }
        say(&format!("{what}, round {}: xacct {}, floor {}", round + 1, secs(&xs[round]), secs(&fs[round])));
    }
    let setup = format!(
        "bootstrapped workloads, {n}: {} accounts arranged on the emulator in {:.1}s (AssumeRole and CreateRole of the access role per account, {} at once), bootstrapped by `xacct apply --auto-approve` in {:.1}s ({} AWS calls)",
        n + 1,
        arranged.as_secs_f64(),
        emulator::ARRANGE_PARALLELISM,
        applied.wall.as_secs_f64(),
        applied.calls
    );
    Ok((row("plan, bootstrapped workloads", n, &xs, &fs), setup))
}

/// Who an apply run is: xacct, or one of the two floors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Xacct,
    Floor,
    Paused,
}

/// The apply benchmark at `n` workloads, from nothing to applied. Every run gets the same
/// conditions: with `--reset-emulator` the emulator is emptied and holds only that run's `n + 1`
/// fresh accounts (moto slows as it fills, so a run after another's writes would be slower), and
/// the order of the three sides rotates from round to round (so no side is always first or last).
/// Two floors: the calls alone, and the calls with the pauses of xacct's consistency wait.
async fn apply_bench(o: &Options, emu: &Emulator, x: &Xacct, n: usize) -> anyhow::Result<Vec<Row>> {
    let (mut xs, mut fs, mut ps) = (Vec::new(), Vec::new(), Vec::new());
    let sides = [Side::Xacct, Side::Floor, Side::Paused];
    for round in 0..o.rounds {
        let order: Vec<Side> = (0..3).map(|i| sides[(i + round) % 3]).collect();
        say(&format!("apply, {n} workloads, round {}: order {order:?}", round + 1));
        for side in order {
            if o.reset {
                emulator::reset(&o.endpoint)?;
            }
            let scenario = emu.arrange(n).await?;
            match side {
                Side::Xacct => {
                    let dir = tempfile::tempdir()?;
                    scenario.write_spec(dir.path())?;
                    xs.push(tokio::task::block_in_place(|| x.apply(dir.path()))?);
                }
                Side::Floor => fs.push(floor::apply(&o.endpoint, &scenario, o.parallelism, None).await?),
                Side::Paused => {
                    ps.push(floor::apply(&o.endpoint, &scenario, o.parallelism, Some(CONSISTENCY_INTERVAL)).await?)
                }
            }
        }
        say(&format!(
            "apply, {n} workloads, round {}: xacct {}, floor {}, floor with pauses {}",
            round + 1,
            secs(&xs[round]),
            secs(&fs[round]),
            secs(&ps[round])
        ));
    }
    Ok(vec![row("apply", n, &xs, &fs), row("apply (floor with consistency pauses)", n, &xs, &ps)])
}

fn row(bench: &str, n: usize, xs: &[Measured], fs: &[Measured]) -> Row {
    let calls = |ms: &[Measured]| ms.iter().map(|m| m.calls).max().unwrap_or(0);
    Row {
        bench: bench.to_string(),
        n,
        xacct: median(&xs.iter().map(|m| m.wall).collect::<Vec<_>>()),
        floor: median(&fs.iter().map(|m| m.wall).collect::<Vec<_>>()),
        xacct_calls: calls(xs),
        floor_calls: calls(fs),
        org_calls: None,
    }
}

async fn run(o: Options) -> anyhow::Result<()> {
    if !o.xacct.is_file() {
        bail!("no xacct binary at `{}`: build it with `cargo build --release --bin xacct`", o.xacct.display());
    }
    let emu = Emulator::new(&o.endpoint).await;
    let x = Xacct { bin: std::fs::canonicalize(&o.xacct)?, endpoint: o.endpoint.clone(), parallelism: o.parallelism };
    let mut rows = Vec::new();
    for &n in &o.plan {
        rows.push(plan_bench(&o, &emu, &x, n).await?);
    }
    for &n in &o.apply {
        rows.extend(apply_bench(&o, &emu, &x, n).await?);
    }
    let mut setups = Vec::new();
    for &n in &o.org {
        let (r, setup) = org_bench(&o, &emu, &x, n).await?;
        rows.push(r);
        setups.push(setup);
    }
    let mut boot_setups = Vec::new();
    for &n in &o.bootstrap {
        let (r, setup) = bootstrap_bench(&o, &emu, &x, n).await?;
        rows.push(r);
        boot_setups.push(setup);
    }
    println!(
        "xacct vs the emulator's floor (same calls, same concurrency: --parallelism {}), median of {} interleaved rounds",
        o.parallelism, o.rounds
    );
    print!("{}", table::format(&rows));
    println!(
        "floor: a minimal client making the same AWS calls (plan: every account's reads; apply: the reads, each write, and the three reads confirming it, back to back)."
    );
    if !o.apply.is_empty() {
        println!(
            "floor with consistency pauses: the same, waiting {} ms between two confirming reads as xacct's consistency wait does; the fair yardstick for apply.",
            CONSISTENCY_INTERVAL.as_millis()
        );
    }
    for r in &rows {
        if let Some((xo, fo)) = r.org_calls {
            println!(
                "{}, {}: AWS Organizations calls xacct {xo}, floor {fo}; IAM and STS calls xacct {}, floor {} (each side also assumes the reader role once, in neither count).",
                r.bench, r.n, r.xacct_calls, r.floor_calls
            );
        }
    }
    if !o.org.is_empty() {
        println!(
            "floor for discovered accounts: AssumeRole into the reader role, DescribeOrganization, ListParents of the selected OU, ListAccountsForParent and ListOrganizationalUnitsForParent (pages of 20) for each OU below it one after the other, then every account's reads as above; no-change plans of an applied organization."
        );
        for s in &setups {
            println!("{s}.");
        }
    }
    if !o.bootstrap.is_empty() {
        println!(
            "floor for bootstrapped workloads: per account, AssumeRole then GetAccountAuthorizationDetails (Filter Role and LocalManagedPolicy, every page); no-change plans of bootstrapped accounts."
        );
        for s in &boot_setups {
            println!("{s}.");
        }
    }
    println!(
        "{}",
        if o.reset {
            "conditions: the emulator was emptied before each plan size, each apply run, each organization and each bootstrap size, so every run met an emulator holding only its own accounts."
        } else {
            "conditions: the emulator was NOT emptied between runs (no --reset-emulator): later runs met a fuller emulator."
        }
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    let result = parse(std::env::args().skip(1)).and_then(|o| {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        rt.block_on(run(o))
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xacct-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
