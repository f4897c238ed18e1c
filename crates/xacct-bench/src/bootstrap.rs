//! The bootstrap benchmark: a no-change `xacct plan` over N workload accounts whose CAPA
//! prerequisites xacct made itself (`bootstrap: { profile: capa }`), beside a floor making the
//! same STS and IAM calls.
//!
//! The arrangement: N + 1 fresh accounts holding only the access role. The file bootstraps them
//! all (roles, instance profiles, customer-managed policies, attachments; every workload's role is
//! the set's controller role) and grants the assume policy by organization. `xacct apply` runs
//! once before timing; a no-change plan then reads each account with one
//! `iam:GetAccountAuthorizationDetails` after its `sts:AssumeRole`.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::Context as _;
use futures::stream::{self, StreamExt, TryStreamExt};

use crate::emulator::{fresh_account, Emulator, Scenario, ACCESS_ROLE, ARRANGE_PARALLELISM};
use crate::floor::{Client, Measured};

/// The trust of each account's access role: the emulator's default account, whose credentials
/// both sides start from.
const ACCESS_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#;

/// N + 1 fresh accounts (the last one the management account), each holding only its access role.
pub async fn arrange(emu: &Emulator, n: usize) -> anyhow::Result<Scenario> {
    let mut accounts: Vec<String> = stream::iter(0..=n)
        .map(|_| async move {
            let account = fresh_account();
            let creds = emu.enter(&account).await?;
            emu.iam
                .create_role()
                .role_name(ACCESS_ROLE)
                .assume_role_policy_document(ACCESS_TRUST)
                .customize()
                .config_override(aws_sdk_iam::config::Builder::default().credentials_provider(creds))
                .send()
                .await
                .with_context(|| format!("CreateRole {ACCESS_ROLE} in {account}"))?;
            anyhow::Ok(account)
        })
        .buffer_unordered(ARRANGE_PARALLELISM)
        .try_collect()
        .await?;
    let management = accounts.pop().expect("n + 1 accounts");
    Ok(Scenario { management, workloads: accounts })
}

/// The desired-state file: the plan benchmark's, every account bootstrapped with CAPA's set.
pub fn spec(scenario: &Scenario) -> String {
    scenario.spec().replacen("version: 1\n", "version: 1\nbootstrap: { profile: capa }\n", 1)
}

pub fn write_spec(scenario: &Scenario, dir: &Path) -> anyhow::Result<()> {
    std::fs::write(dir.join("xacct.yaml"), spec(scenario)).context("write xacct.yaml")
}

/// The floor of a no-change `xacct plan` of the bootstrapped accounts: for each account in
/// account order, at most `parallelism` at once, `sts:AssumeRole` then every page of
/// `iam:GetAccountAuthorizationDetails` filtered to roles and customer-managed policies (the
/// set has no users).
pub async fn floor_plan(endpoint: &str, scenario: &Scenario, parallelism: usize) -> anyhow::Result<Measured> {
    let start = Instant::now();
    let client = Client::new(endpoint).await;
    let mut accounts: Vec<&String> = scenario.workloads.iter().chain([&scenario.management]).collect();
    accounts.sort();
    let client = &client;
    stream::iter(accounts.into_iter().map(|account| async move {
        let creds = client.assume(account).await?;
        client.read_authorization(&creds, account).await
    }))
    .buffer_unordered(parallelism.max(1))
    .try_collect::<Vec<()>>()
    .await?;
    Ok(Measured { wall: start.elapsed(), calls: client.calls.load(Ordering::Relaxed), org_calls: 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_bootstraps_every_account_with_capas_set() {
        let s = Scenario { management: "111111111111".into(), workloads: vec!["222222222222".into()] };
        let yaml = spec(&s);
        assert!(yaml.starts_with("version: 1\nbootstrap: { profile: capa }\ndefaults:\n"), "{yaml}");
        assert!(yaml.contains("- { name: w00000, account: \"222222222222\" }\n"), "{yaml}");
        assert!(!yaml.contains(" role:"), "{yaml}");
    }
}
