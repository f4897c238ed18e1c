//! The floor: the AWS calls an xacct run makes, issued by a minimal client with the same
//! concurrency and nothing else (no spec, no state, no diff, no process start).
//!
//! One STS and one IAM client share one connection pool; IAM calls act in an account through
//! per-call credentials, kept per account like xacct keeps them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use aws_credential_types::Credentials;
use futures::stream::{self, StreamExt};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::emulator::{assume, sdk_config, Scenario, ASSUME_POLICY_NAME, CAPA_ROLE};

/// What a floor run took.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    pub wall: Duration,
    /// IAM and STS calls.
    pub calls: u64,
    /// AWS Organizations calls, one per page; 0 without discovery.
    pub org_calls: u64,
}

pub struct Client {
    pub sts: aws_sdk_sts::Client,
    iam: aws_sdk_iam::Client,
    /// IAM and STS calls made.
    pub calls: AtomicU64,
}

fn with(creds: &Credentials) -> aws_sdk_iam::config::Builder {
    aws_sdk_iam::config::Builder::default().credentials_provider(creds.clone())
}

impl Client {
    pub async fn new(endpoint: &str) -> Client {
        let conf = sdk_config(endpoint).await;
        Client { sts: aws_sdk_sts::Client::new(&conf), iam: aws_sdk_iam::Client::new(&conf), calls: AtomicU64::new(0) }
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    pub async fn assume(&self, account: &str) -> anyhow::Result<Credentials> {
        self.count();
        assume(&self.sts, account, "xacct").await
    }

    /// `iam:GetRole`; the role must exist.
    async fn get_role(&self, creds: &Credentials, account: &str) -> anyhow::Result<()> {
        self.count();
        let out = self.iam.get_role().role_name(CAPA_ROLE).customize().config_override(with(creds)).send().await;
        out.with_context(|| format!("GetRole in {account}"))?;
        Ok(())
    }

    /// `iam:GetRolePolicy` on the management role; the policy may be missing.
    async fn get_role_policy(&self, creds: &Credentials, account: &str) -> anyhow::Result<()> {
        self.count();
        let out = self
            .iam
            .get_role_policy()
            .role_name(CAPA_ROLE)
            .policy_name(ASSUME_POLICY_NAME)
            .customize()
            .config_override(with(creds))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("GetRolePolicy in {account}")),
        }
    }

    /// Every page of `iam:GetAccountAuthorizationDetails` filtered to roles and customer-managed
    /// policies, as xacct reads a bootstrapped account; one call per page.
    pub async fn read_authorization(&self, creds: &Credentials, account: &str) -> anyhow::Result<()> {
        use aws_sdk_iam::types::EntityType;
        let mut marker: Option<String> = None;
        loop {
            self.count();
            let page = self
                .iam
                .get_account_authorization_details()
                .set_filter(Some(vec![EntityType::Role, EntityType::LocalManagedPolicy]))
                .set_marker(marker.take())
                .customize()
                .config_override(with(creds))
                .send()
                .await
                .with_context(|| format!("GetAccountAuthorizationDetails in {account}"))?;
            match page.marker() {
                Some(next) if page.is_truncated() && !next.is_empty() => marker = Some(next.to_string()),
                _ => return Ok(()),
            }
        }
    }

    async fn list_role_policies(&self, creds: &Credentials, account: &str) -> anyhow::Result<()> {
        self.count();
        let out =
            self.iam.list_role_policies().role_name(CAPA_ROLE).customize().config_override(with(creds)).send().await;
        out.with_context(|| format!("ListRolePolicies in {account}"))?;
        Ok(())
    }

    async fn update_trust(&self, creds: &Credentials, account: &str, document: &str) -> anyhow::Result<()> {
        self.count();
        let out = self
            .iam
            .update_assume_role_policy()
            .role_name(CAPA_ROLE)
            .policy_document(document)
            .customize()
            .config_override(with(creds))
            .send()
            .await;
        out.with_context(|| format!("UpdateAssumeRolePolicy in {account}"))?;
        Ok(())
    }

    async fn put_role_policy(&self, creds: &Credentials, account: &str, document: &str) -> anyhow::Result<()> {
        self.count();
        let out = self
            .iam
            .put_role_policy()
            .role_name(CAPA_ROLE)
            .policy_name(ASSUME_POLICY_NAME)
            .policy_document(document)
            .customize()
            .config_override(with(creds))
            .send()
            .await;
        out.with_context(|| format!("PutRolePolicy in {account}"))?;
        Ok(())
    }
}

/// The reads of a refresh, as `xacct plan` makes them: at most `parallelism` accounts at once,
/// each account's calls in sequence (AssumeRole, GetRole, and GetRolePolicy for the management
/// account); then, because the assume policy is to be created, ListRolePolicies on the management
/// role (the inline-budget check). Returns the credentials per account.
async fn refresh(
    client: &Client,
    scenario: &Scenario,
    parallelism: usize,
) -> anyhow::Result<HashMap<String, Credentials>> {
    let creds = read_accounts(client, &scenario.workloads, &scenario.management, parallelism).await?;
    client.list_role_policies(&creds[&scenario.management], &scenario.management).await?;
    Ok(creds)
}

/// The per-account reads of a refresh: at most `parallelism` accounts at once, each account's
/// calls in sequence (AssumeRole, GetRole, and GetRolePolicy for the management account).
/// Returns the credentials per account.
pub async fn read_accounts(
    client: &Client,
    workloads: &[String],
    management: &String,
    parallelism: usize,
) -> anyhow::Result<HashMap<String, Credentials>> {
    let mut accounts: Vec<&String> = workloads.iter().chain([management]).collect();
    accounts.sort();
    let mut results = stream::iter(accounts.into_iter().map(|account| async move {
        let creds = client.assume(account).await?;
        client.get_role(&creds, account).await?;
        if account == management {
            client.get_role_policy(&creds, account).await?;
        }
        anyhow::Ok((account.clone(), creds))
    }))
    .buffer_unordered(parallelism.max(1));
    let mut creds = HashMap::new();
    while let Some(r) = results.next().await {
        let (account, c) = r?;
        creds.insert(account, c);
    }
    Ok(creds)
}

/// The floor of `xacct plan` (with refresh) on a scenario nothing was applied to.
pub async fn plan(endpoint: &str, scenario: &Scenario, parallelism: usize) -> anyhow::Result<Measured> {
    let start = Instant::now();
    let client = Client::new(endpoint).await;
    refresh(&client, scenario, parallelism).await?;
    Ok(Measured { wall: start.elapsed(), calls: client.calls.load(Ordering::Relaxed), org_calls: 0 })
}

/// The floor of `xacct apply --auto-approve` on a scenario nothing was applied to: the plan's
/// reads, then every step with at most `parallelism` in flight, each a read, the write, and the
/// three reads that confirm it (`pause` between two confirming reads, as xacct's consistency
/// wait does, when given).
pub async fn apply(
    endpoint: &str,
    scenario: &Scenario,
    parallelism: usize,
    pause: Option<Duration>,
) -> anyhow::Result<Measured> {
    let start = Instant::now();
    let client = Arc::new(Client::new(endpoint).await);
    let creds = refresh(&client, scenario, parallelism).await?;
    let trust = Arc::new(scenario.trust_document());
    let policy = Arc::new(scenario.assume_policy_document());
    let slots = Arc::new(Semaphore::new(parallelism.max(1)));
    let mut running = JoinSet::new();
    // The executor starts steps in address order: `assume_policy.management`, then `trust.*`.
    let steps = std::iter::once((scenario.management.clone(), true))
        .chain(scenario.workloads.iter().map(|a| (a.clone(), false)));
    for (account, is_policy) in steps {
        let permit = slots.clone().acquire_owned().await?;
        let (client, creds) = (client.clone(), creds[&account].clone());
        let (trust, policy) = (trust.clone(), policy.clone());
        running.spawn(async move {
            let _permit = permit;
            if is_policy {
                client.get_role_policy(&creds, &account).await?;
                client.put_role_policy(&creds, &account, &policy).await?;
            } else {
                client.get_role(&creds, &account).await?;
                client.update_trust(&creds, &account, &trust).await?;
            }
            for i in 0..3 {
                if i > 0 {
                    if let Some(p) = pause {
                        tokio::time::sleep(p).await;
                    }
                }
                if is_policy {
                    client.get_role_policy(&creds, &account).await?;
                } else {
                    client.get_role(&creds, &account).await?;
                }
            }
            anyhow::Ok(())
        });
    }
    while let Some(r) = running.join_next().await {
        r.context("a floor step panicked")??;
    }
    Ok(Measured { wall: start.elapsed(), calls: client.calls.load(Ordering::Relaxed), org_calls: 0 })
}
