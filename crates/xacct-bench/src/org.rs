//! The organization benchmark: `xacct plan` over N accounts discovered from AWS Organizations,
//! all applied, beside a floor making the same Organizations, STS and IAM calls.
//!
//! The arrangement: a fresh management account creates an organization; below its root one OU
//! `workloads`, ten OUs below it and two below each of those (31 OUs, three levels); N accounts
//! made with `CreateAccount` (moto gives each an `OrganizationAccountAccessRole`), spread over the
//! 31 OUs in turn, each with the CAPA role trusting EC2. The file selects `workloads`.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::Context as _;
use aws_credential_types::Credentials;
use aws_sdk_organizations::types::AccountState;
use futures::stream::{self, StreamExt, TryStreamExt};

use crate::emulator::{fresh_account, sdk_config, Emulator, ACCESS_ROLE, ARRANGE_PARALLELISM};
use crate::floor::{read_accounts, Client, Measured};

/// OUs below the selected one, and below each of those.
const TEAMS: usize = 10;
const ENVS_PER_TEAM: usize = 2;
/// The page size xacct asks Organizations for (the service's maximum).
const PAGE: i32 = 20;

/// An arranged organization: nothing applied yet.
#[derive(Clone, Debug)]
pub struct OrgScenario {
    pub management: String,
    pub org_id: String,
    pub root: String,
    /// The selected OU (`workloads`).
    pub top: String,
    /// Every OU of the selected subtree, `top` first.
    pub ous: Vec<String>,
    /// The member accounts made below `top`, all ACTIVE.
    pub accounts: Vec<String>,
}

/// An Organizations client with `creds`, on the emulator.
async fn organizations(endpoint: &str, creds: Credentials) -> aws_sdk_organizations::Client {
    let conf =
        aws_sdk_organizations::config::Builder::from(&sdk_config(endpoint).await).credentials_provider(creds).build();
    aws_sdk_organizations::Client::from_conf(conf)
}

async fn create_ou(org: &aws_sdk_organizations::Client, parent: &str, name: &str) -> anyhow::Result<String> {
    let out = org
        .create_organizational_unit()
        .parent_id(parent)
        .name(name)
        .send()
        .await
        .with_context(|| format!("CreateOrganizationalUnit {name}"))?;
    Ok(out.organizational_unit().and_then(|o| o.id()).context("CreateOrganizationalUnit returned no ID")?.to_string())
}

/// The organization of `n` accounts described in the module header.
pub async fn arrange(emu: &Emulator, endpoint: &str, n: usize) -> anyhow::Result<OrgScenario> {
    let management = fresh_account();
    emu.create_capa_role(&management).await?;
    let org = organizations(endpoint, emu.enter(&management).await?).await;
    let out = org.create_organization().send().await.context("CreateOrganization")?;
    let org_id = out.organization().and_then(|o| o.id()).context("CreateOrganization returned no ID")?.to_string();
    let roots = org.list_roots().send().await.context("ListRoots")?;
    let root = roots.roots().first().and_then(|r| r.id()).context("no root")?.to_string();
    let top = create_ou(&org, &root, "workloads").await?;
    let mut ous = vec![top.clone()];
    for t in 0..TEAMS {
        let team = create_ou(&org, &top, &format!("team-{t:02}")).await?;
        ous.push(team.clone());
        for e in 0..ENVS_PER_TEAM {
            ous.push(create_ou(&org, &team, &format!("team-{t:02}-env-{e}")).await?);
        }
    }
    let accounts: Vec<String> = stream::iter(0..n)
        .map(|i| {
            let (org, ous, root) = (&org, &ous, &root);
            async move {
                let name = format!("Tenant {i:05}");
                let out = org
                    .create_account()
                    .account_name(&name)
                    .email(format!("tenant-{i:05}@example.com"))
                    .send()
                    .await
                    .with_context(|| format!("CreateAccount {name}"))?;
                let id = out
                    .create_account_status()
                    .and_then(|s| s.account_id())
                    .context("CreateAccount returned no account ID")?
                    .to_string();
                org.move_account()
                    .account_id(&id)
                    .source_parent_id(root)
                    .destination_parent_id(&ous[i % ous.len()])
                    .send()
                    .await
                    .with_context(|| format!("MoveAccount {id}"))?;
                emu.create_capa_role(&id).await?;
                anyhow::Ok(id)
            }
        })
        .buffer_unordered(ARRANGE_PARALLELISM)
        .try_collect()
        .await?;
    Ok(OrgScenario { management, org_id, root, top, ous, accounts })
}

impl OrgScenario {
    /// The desired-state file: the organization read as its management account, every account
    /// below `workloads` selected, every account entered by assuming its access role, the assume
    /// policy granted by organization, no listed workloads and no manifests.
    pub fn spec(&self) -> String {
        let mut yaml = String::new();
        let _ = write!(
            yaml,
            "version: 1\n\
             defaults:\n  access: {{ assume_role: {{ role_name: {ACCESS_ROLE} }} }}\n\
             management:\n  account: \"{m}\"\n  access: {{ assume_role: {{ role_name: {ACCESS_ROLE} }} }}\n  assume_policy: {{ grant: {{ organization: {org} }} }}\n\
             organization:\n  access: {{ assume_role: {{ role_arn: \"arn:aws:iam::{m}:role/{ACCESS_ROLE}\" }} }}\n  workloads:\n    - ou: {top}\n",
            m = self.management,
            org = self.org_id,
            top = self.top,
        );
        yaml
    }

    pub fn write_spec(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::write(dir.join("xacct.yaml"), self.spec()).context("write xacct.yaml")
    }
}

/// Organizations calls of the floor, counted as xacct's `summary.organizations_calls` counts
/// them: one per page, not the `sts:AssumeRole` into the reader role (which both sides make and
/// neither count reports).
struct OrgCounter(u64);

/// Every page of `ListAccountsForParent` and `ListOrganizationalUnitsForParent` below `top`,
/// depth first, one OU after the other, pages of [`PAGE`]: the walk xacct's discovery makes.
/// Returns the ACTIVE accounts other than the management account.
async fn walk(
    org: &aws_sdk_organizations::Client,
    n: &mut OrgCounter,
    top: &str,
    management: &str,
) -> anyhow::Result<Vec<String>> {
    let mut stack = vec![top.to_string()];
    let mut seen = HashSet::new();
    let mut active = Vec::new();
    while let Some(parent) = stack.pop() {
        if !seen.insert(parent.clone()) {
            continue;
        }
        let mut token: Option<String> = None;
        loop {
            n.0 += 1;
            let out = org
                .list_accounts_for_parent()
                .parent_id(&parent)
                .max_results(PAGE)
                .set_next_token(token.take())
                .send()
                .await
                .with_context(|| format!("ListAccountsForParent {parent}"))?;
            for a in out.accounts() {
                let id = a.id().context("an account without ID")?;
                if id != management && a.state() == Some(&AccountState::Active) {
                    active.push(id.to_string());
                }
            }
            match out.next_token().filter(|t| !t.is_empty()) {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        let mut children = Vec::new();
        loop {
            n.0 += 1;
            let out = org
                .list_organizational_units_for_parent()
                .parent_id(&parent)
                .max_results(PAGE)
                .set_next_token(token.take())
                .send()
                .await
                .with_context(|| format!("ListOrganizationalUnitsForParent {parent}"))?;
            children.extend(out.organizational_units().iter().filter_map(|u| u.id()).map(str::to_string));
            match out.next_token().filter(|t| !t.is_empty()) {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        stack.extend(children.into_iter().rev());
    }
    Ok(active)
}

/// The floor of `xacct plan` (with refresh) over the discovered accounts once everything is
/// applied: `sts:AssumeRole` into the reader role, `DescribeOrganization`, `ListParents` of the
/// selected OU, the walk below it; then every account's reads (AssumeRole, GetRole; GetRolePolicy
/// for the management account), `parallelism` accounts at once. Nothing is to be created, so no
/// ListRolePolicies.
pub async fn floor_plan(endpoint: &str, scenario: &OrgScenario, parallelism: usize) -> anyhow::Result<Measured> {
    let start = Instant::now();
    let client = Client::new(endpoint).await;
    let mut n = OrgCounter(0);
    let reader = crate::emulator::assume(&client.sts, &scenario.management, "xacct-org").await?;
    let org = organizations(endpoint, reader).await;
    n.0 += 1;
    let described = org.describe_organization().send().await.context("DescribeOrganization")?;
    let management = described
        .organization()
        .and_then(|o| o.master_account_id())
        .context("DescribeOrganization returned no management account")?
        .to_string();
    n.0 += 1;
    let parents = org.list_parents().child_id(&scenario.top).send().await.context("ListParents")?;
    anyhow::ensure!(
        parents.parents().first().and_then(|p| p.id()) == Some(scenario.root.as_str()),
        "the selected OU is not below the root"
    );
    let mut accounts = walk(&org, &mut n, &scenario.top, &management).await?;
    accounts.sort();
    read_accounts(&client, &accounts, &scenario.management, parallelism).await?;
    let wall = start.elapsed();
    let mut arranged = scenario.accounts.clone();
    arranged.sort();
    anyhow::ensure!(
        accounts == arranged,
        "the floor's walk found {} accounts, not the {} arranged",
        accounts.len(),
        arranged.len()
    );
    Ok(Measured { wall, calls: client.calls.load(Ordering::Relaxed), org_calls: n.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_selects_the_top_ou_and_reads_as_the_management_account() {
        let s = OrgScenario {
            management: "111111111111".into(),
            org_id: "o-abcdefghij".into(),
            root: "r-ab12".into(),
            top: "ou-ab12-11111111".into(),
            ous: vec!["ou-ab12-11111111".into()],
            accounts: vec![],
        };
        let yaml = s.spec();
        assert!(yaml.contains("  account: \"111111111111\"\n"), "{yaml}");
        assert!(yaml.contains("grant: { organization: o-abcdefghij }"), "{yaml}");
        assert!(
            yaml.contains("organization:\n  access: { assume_role: { role_arn: \"arn:aws:iam::111111111111:role/OrganizationAccountAccessRole\" } }\n  workloads:\n    - ou: ou-ab12-11111111\n"),
            "{yaml}"
        );
    }
}
