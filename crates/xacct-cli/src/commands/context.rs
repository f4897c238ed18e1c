//! What the live commands share: the file, AWS clients per account, the state backend and its lock.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use xacct_aws::{AccountAccess, AwsCloud, AwsOrganizations, AwsSettings, Partition, RetrySettings, S3Backend};
use xacct_plan::live::Progress;
use xacct_plan::org::Discovery;
use xacct_spec::{Access, BackendSpec, Spec};
use xacct_state::{Backend, LocalBackend, LockInfo, State};

use crate::args::{Global, LiveArgs};
use crate::Printer;

pub struct Context {
    /// The file's spec; with an `organization` block, merged with what discovery selected (see
    /// [`xacct_plan::org::merge`]): the spec every live command works on.
    pub spec: Spec,
    pub spec_bytes: Vec<u8>,
    pub cloud: Arc<AwsCloud>,
    pub backend: Box<dyn Backend>,
    /// What discovery from AWS Organizations found; `None` without an `organization` block.
    pub discovery: Option<Discovery>,
}

/// Read AWS Organizations for the file's `organization` block with the same AWS settings as
/// IAM (endpoint, region, base credentials, retries) and `organization.access`, and merge what
/// it selects into the spec. Any error fails: a partly read organization must never look like
/// accounts that left.
pub async fn discover(spec: Spec, settings: &AwsSettings) -> anyhow::Result<(Spec, Option<Discovery>)> {
    let Some(org) = spec.organization.as_ref() else { return Ok((spec, None)) };
    let reader = access(&org.access, &spec.partition, &spec.management.account);
    let failed =
        "cannot read AWS Organizations, so xacct cannot tell which accounts the file selects; nothing was changed";
    let organizations = AwsOrganizations::new(settings, &reader).await.context(failed)?;
    let selectors = xacct_plan::org::merge::selectors(org);
    let discovery = xacct_plan::org::discover(&organizations, &selectors).await.context(failed)?;
    let merged = xacct_plan::org::merge::merge(&spec, &discovery);
    Ok((merged.spec, Some(discovery)))
}

pub(super) fn access(a: &Access, partition: &str, account: &str) -> AccountAccess {
    match a {
        Access::DefaultChain => AccountAccess::DefaultChain,
        Access::Profile(p) => AccountAccess::Profile(p.clone()),
        Access::AssumeRole { external_id, session_name, .. } => AccountAccess::AssumeRole {
            role_arn: a.role_arn(partition, account).expect("assume_role has a role"),
            external_id: external_id.clone(),
            session_name: session_name.clone(),
        },
    }
}

/// Attempts per AWS call: `AWS_MAX_ATTEMPTS` (the SDKs' own variable) when set to a positive
/// number, else xacct's default (8).
fn max_attempts() -> u32 {
    std::env::var("AWS_MAX_ATTEMPTS")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(RetrySettings::default().max_attempts)
}

pub fn aws_settings(spec: &Spec, live: &LiveArgs) -> AwsSettings {
    let mut accounts = HashMap::new();
    accounts.insert(
        spec.management.account.clone(),
        access(&spec.management.access, &spec.partition, &spec.management.account),
    );
    for w in &spec.workloads {
        accounts.insert(w.account.clone(), access(&w.access, &spec.partition, &w.account));
    }
    AwsSettings {
        endpoint_url: live.endpoint_url.clone(),
        region: live.region.clone(),
        accounts,
        unlisted: access(&spec.default_access, &spec.partition, "{account}"),
        retry: RetrySettings { max_attempts: max_attempts(), ..RetrySettings::default() },
        partition: Partition::parse(&spec.partition).unwrap_or_default(),
        ..AwsSettings::default()
    }
}

impl Context {
    /// The file as written, with clients for the accounts it names; AWS Organizations is not
    /// read (`cx.discovery` is `None`): for the commands that only need the state backend.
    pub async fn new(global: &Global, live: &LiveArgs, printer: &Printer) -> anyhow::Result<Context> {
        Self::build(global, live, printer, false).await
    }

    /// [`Context::new`], and with an `organization` block in the file, AWS Organizations read
    /// ([`discover`]) and merged: `cx.spec` holds every selected account as a workload,
    /// `cx.discovery` what discovery found, and the clients know how to reach each account —
    /// those that left the selection included (their selector's access, as state records it).
    /// For the commands that plan or read live IAM.
    pub async fn with_discovery(global: &Global, live: &LiveArgs, printer: &Printer) -> anyhow::Result<Context> {
        Self::build(global, live, printer, true).await
    }

    async fn build(global: &Global, live: &LiveArgs, printer: &Printer, org: bool) -> anyhow::Result<Context> {
        let spec = super::load_spec(global, printer)?;
        let spec_bytes =
            std::fs::read(&global.file).with_context(|| format!("cannot read `{}`", global.file.display()))?;
        let settings = aws_settings(&spec, live);
        let backend: Box<dyn Backend> = match &spec.backend {
            BackendSpec::Local { path } => Box::new(LocalBackend::new(path.clone())),
            BackendSpec::S3 { bucket, key, region } => {
                Box::new(S3Backend::new(&settings, bucket, key, region.as_deref()).await)
            }
        };
        let (spec, discovery) = if org { discover(spec, &settings).await? } else { (spec, None) };
        let mut settings = aws_settings(&spec, live);
        // An account that left the selection is reached with its selector's access (state
        // records which selector found it); read state for that only when a selector's access
        // differs from `defaults.access`, which reaches every other account the file no longer
        // names.
        let own_access =
            spec.organization.as_ref().is_some_and(|o| o.selectors.iter().any(|s| s.access != spec.default_access));
        if own_access {
            let state = backend.load().await.ok().flatten();
            for (account, a) in xacct_plan::org::merge::departed_access(&spec, state.as_ref()) {
                settings.accounts.entry(account.clone()).or_insert_with(|| access(&a, &spec.partition, &account));
            }
        }
        let cloud = Arc::new(AwsCloud::new(settings).await);
        Ok(Context { spec, spec_bytes, cloud, backend, discovery })
    }

    pub async fn load_state(&self) -> anyhow::Result<Option<State>> {
        self.backend.load().await.with_context(|| format!("cannot read state from {}", self.backend.describe()))
    }

    /// Take the state lock for `operation`, waiting up to `timeout`.
    pub async fn lock(&self, operation: &str, timeout: Duration) -> anyhow::Result<Lock<'_>> {
        self.lock_until(operation, timeout, &|| false).await
    }

    /// [`Context::lock`] that stops waiting once `stop` returns true (Ctrl-C).
    pub async fn lock_until(
        &self,
        operation: &str,
        timeout: Duration,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> anyhow::Result<Lock<'_>> {
        let info = LockInfo::new(operation, env!("CARGO_PKG_VERSION"));
        if timeout.is_zero() {
            self.backend.lock(&info).await?;
        } else {
            xacct_state::lock_until(self.backend.as_ref(), &info, timeout, stop).await?;
        }
        Ok(Lock { backend: self.backend.as_ref(), id: info.id, released: false })
    }
}

/// A held state lock. Release it with [`Lock::release`]; dropping it without releasing leaves it
/// for `xacct force-unlock`.
pub struct Lock<'a> {
    backend: &'a dyn Backend,
    pub id: String,
    released: bool,
}

impl Lock<'_> {
    pub async fn release(mut self) -> anyhow::Result<()> {
        self.released = true;
        self.backend.unlock(&self.id).await.context("cannot release the state lock")
    }
}

impl Drop for Lock<'_> {
    fn drop(&mut self) {
        if !self.released {
            let _ = writeln!(
                std::io::stderr(),
                "warning: the state lock `{}` is still held; release it with `xacct force-unlock {}`",
                self.id,
                self.id
            );
        }
    }
}

/// A one-line refresh progress display on a terminal (indicatif draws it only there); silent
/// otherwise.
pub struct RefreshProgress {
    bar: indicatif::ProgressBar,
}

impl RefreshProgress {
    pub fn new() -> Self {
        let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template("refreshing: {pos}/{len} accounts ({msg})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        RefreshProgress { bar }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for RefreshProgress {
    fn account_done(&self, account: &str, done: usize, total: usize) {
        self.bar.set_length(total as u64);
        self.bar.set_position(done as u64);
        self.bar.set_message(account.to_string());
    }
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")
}
