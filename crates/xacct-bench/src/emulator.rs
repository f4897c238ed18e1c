//! The emulator side: clients that share one connection pool, fresh accounts, and the scenario
//! (accounts with the CAPA role, and the `xacct.yaml` naming them).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use futures::stream::{self, StreamExt, TryStreamExt};
use rand::Rng;

/// The role every emulated account is entered through (moto maps an assumed role's credentials
/// to the account in the role's ARN).
pub const ACCESS_ROLE: &str = "OrganizationAccountAccessRole";
/// The CAPA controller role xacct manages trust on.
pub const CAPA_ROLE: &str = "control-plane.cluster-api-provider-aws.sigs.k8s.io";
/// The trust CAPA's roles start with.
pub const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
/// The organization the bench files grant by (an ARN list for 1,000 roles would not fit the
/// management role's inline-policy budget).
pub const ORG_ID: &str = "o-benchbench1";
/// xacct's default name for the management role's inline policy.
pub const ASSUME_POLICY_NAME: &str = "xacct-assume-workload-roles";
/// moto's default account, never handed out.
const DEFAULT_ACCOUNT: &str = "123456789012";
/// Accounts arranged at once.
pub const ARRANGE_PARALLELISM: usize = 16;

/// One emulator endpoint, and one STS and one IAM client on one connection pool. IAM calls act
/// in an account through per-call credentials.
#[derive(Clone)]
pub struct Emulator {
    pub sts: aws_sdk_sts::Client,
    pub iam: aws_sdk_iam::Client,
}

/// SDK configuration for the emulator: static `testing` credentials, `us-east-1`.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "xacct-bench"))
        .load()
        .await
}

impl Emulator {
    pub async fn new(endpoint: &str) -> Emulator {
        let conf = sdk_config(endpoint).await;
        Emulator { sts: aws_sdk_sts::Client::new(&conf), iam: aws_sdk_iam::Client::new(&conf) }
    }

    /// Credentials acting in `account`.
    pub async fn enter(&self, account: &str) -> anyhow::Result<Credentials> {
        assume(&self.sts, account, "xacct-bench-arrange").await
    }

    /// A fresh account with the CAPA role trusting EC2, as the prerequisites leave it.
    async fn account_with_capa_role(&self) -> anyhow::Result<String> {
        let account = fresh_account();
        self.create_capa_role(&account).await?;
        Ok(account)
    }

    /// The CAPA role trusting EC2 in `account`, entered through its access role.
    pub async fn create_capa_role(&self, account: &str) -> anyhow::Result<()> {
        let creds = self.enter(account).await?;
        self.iam
            .create_role()
            .role_name(CAPA_ROLE)
            .assume_role_policy_document(EC2_TRUST)
            .customize()
            .config_override(aws_sdk_iam::config::Builder::default().credentials_provider(creds))
            .send()
            .await
            .with_context(|| format!("CreateRole in {account}"))?;
        Ok(())
    }

    /// A management account and `n` workload accounts, each with the CAPA role.
    pub async fn arrange(&self, n: usize) -> anyhow::Result<Scenario> {
        let mut accounts: Vec<String> = stream::iter(0..=n)
            .map(|_| self.account_with_capa_role())
            .buffer_unordered(ARRANGE_PARALLELISM)
            .try_collect()
            .await?;
        let management = accounts.pop().expect("n + 1 accounts");
        Ok(Scenario { management, workloads: accounts })
    }
}

/// Empty the emulator (moto's `POST /moto-api/reset`): moto slows down as it holds more
/// accounts, so each benchmark starts from the same empty server. Only for a server of one's own.
pub fn reset(endpoint: &str) -> anyhow::Result<()> {
    use std::io::{Read as _, Write as _};
    let authority = endpoint.strip_prefix("http://").context("the emulator URL is not http://")?;
    let authority = authority.split('/').next().unwrap_or(authority);
    let mut stream = std::net::TcpStream::connect(authority).with_context(|| format!("connect to {authority}"))?;
    write!(
        stream,
        "POST /moto-api/reset HTTP/1.1\r\nHost: {authority}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.lines().next().unwrap_or_default();
    anyhow::ensure!(status.contains(" 200 "), "resetting the emulator: {status}");
    Ok(())
}

/// `sts:AssumeRole` into `account`'s access role with `sts`'s own credentials.
pub async fn assume(sts: &aws_sdk_sts::Client, account: &str, session: &str) -> anyhow::Result<Credentials> {
    let arn = format!("arn:aws:iam::{account}:role/{ACCESS_ROLE}");
    let out = sts
        .assume_role()
        .role_arn(&arn)
        .role_session_name(session)
        .send()
        .await
        .with_context(|| format!("AssumeRole {arn}"))?;
    let c = out.credentials().context("AssumeRole returned no credentials")?;
    Ok(Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "xacct-bench-assumed",
    ))
}

/// A random 12-digit account ID (moto keeps state per account, so every run gets new ones).
pub fn fresh_account() -> String {
    let mut rng = rand::rng();
    loop {
        let id = rng.random_range(100_000_000_000u64..1_000_000_000_000u64).to_string();
        if id != DEFAULT_ACCOUNT {
            return id;
        }
    }
}

/// Arranged accounts: nothing applied yet.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub management: String,
    pub workloads: Vec<String>,
}

impl Scenario {
    /// The desired-state file for these accounts: every account entered by assuming its access
    /// role, the assume policy granted by organization, no manifests.
    pub fn spec(&self) -> String {
        let mut yaml = format!(
            "version: 1\ndefaults:\n  access: {{ assume_role: {{ role_name: {ACCESS_ROLE} }} }}\nmanagement:\n  account: \"{}\"\n  access: {{ assume_role: {{ role_name: {ACCESS_ROLE} }} }}\n  assume_policy: {{ grant: {{ organization: {ORG_ID} }} }}\nworkloads:\n",
            self.management
        );
        for (i, account) in self.workloads.iter().enumerate() {
            let _ = writeln!(yaml, "  - {{ name: w{i:05}, account: \"{account}\" }}");
        }
        yaml
    }

    pub fn write_spec(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::write(dir.join("xacct.yaml"), self.spec()).context("write xacct.yaml")
    }

    /// The ARN of the management account's CAPA role.
    pub fn management_role_arn(&self) -> String {
        format!("arn:aws:iam::{}:role/{CAPA_ROLE}", self.management)
    }

    /// The trust document xacct writes into a workload role: EC2's statement and xacct's.
    pub fn trust_document(&self) -> String {
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                { "Effect": "Allow", "Principal": { "Service": "ec2.amazonaws.com" }, "Action": "sts:AssumeRole" },
                {
                    "Sid": format!("XacctTrust{}", self.management),
                    "Effect": "Allow",
                    "Principal": { "AWS": self.management_role_arn() },
                    "Action": "sts:AssumeRole"
                }
            ]
        })
        .to_string()
    }

    /// The inline policy xacct puts on the management role (granted by organization).
    pub fn assume_policy_document(&self) -> String {
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "XacctAssumeWorkloadRoles",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": [format!("arn:aws:iam::*:role/{CAPA_ROLE}")],
                "Condition": { "StringEquals": { "aws:ResourceOrgID": ORG_ID } }
            }]
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_names_every_account() {
        let s = Scenario { management: "111111111111".into(), workloads: vec!["222222222222".into()] };
        let yaml = s.spec();
        assert!(yaml.contains("account: \"111111111111\""));
        assert!(yaml.contains("- { name: w00000, account: \"222222222222\" }"));
        assert!(yaml.contains(ORG_ID));
    }
}
