//! How xacct reaches AWS: endpoint, region, partition, base credentials, per-account access,
//! retries and consistency waits.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// An AWS partition: decides ARNs and where IAM lives.
///
/// The partitions are those of the endpoint data compiled into the AWS SDK for Rust
/// (`aws-sdk-iam` 1.133: `src/endpoint_lib.rs`, the `partitions` JSON), each with the region
/// IAM's endpoint rules sign its global endpoint for (`src/config/endpoint.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Partition {
    #[default]
    Aws,
    AwsCn,
    AwsUsGov,
    /// The AWS European Sovereign Cloud.
    AwsEusc,
    AwsIso,
    AwsIsoB,
    AwsIsoE,
    AwsIsoF,
}

impl Partition {
    /// Every partition, `aws` first.
    pub const ALL: [Partition; 8] = [
        Partition::Aws,
        Partition::AwsCn,
        Partition::AwsUsGov,
        Partition::AwsEusc,
        Partition::AwsIso,
        Partition::AwsIsoB,
        Partition::AwsIsoE,
        Partition::AwsIsoF,
    ];

    /// The partition as it appears in ARNs (`aws`, `aws-cn`, `aws-us-gov`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
            Partition::AwsEusc => "aws-eusc",
            Partition::AwsIso => "aws-iso",
            Partition::AwsIsoB => "aws-iso-b",
            Partition::AwsIsoE => "aws-iso-e",
            Partition::AwsIsoF => "aws-iso-f",
        }
    }

    /// The region IAM's global endpoint is signed for in this partition.
    pub fn iam_region(self) -> &'static str {
        match self {
            Partition::Aws => "us-east-1",
            Partition::AwsCn => "cn-north-1",
            Partition::AwsUsGov => "us-gov-west-1",
            Partition::AwsEusc => "eusc-de-east-1",
            Partition::AwsIso => "us-iso-east-1",
            Partition::AwsIsoB => "us-isob-east-1",
            Partition::AwsIsoE => "eu-isoe-west-1",
            Partition::AwsIsoF => "us-isof-south-1",
        }
    }

    /// The region used for STS (and S3) when none is configured anywhere.
    pub fn default_region(self) -> &'static str {
        self.iam_region()
    }

    /// Parse a partition's name as it appears in ARNs.
    pub fn parse(text: &str) -> Option<Partition> {
        Partition::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The ARN of role `role_name` under `path` (`/` when `None` or empty) in `account`.
///
/// ```
/// use xacct_aws::{role_arn, Partition};
/// assert_eq!(role_arn(Partition::Aws, "222222222222", "r", None), "arn:aws:iam::222222222222:role/r");
/// assert_eq!(role_arn(Partition::AwsCn, "2", "r", Some("/capa/")), "arn:aws-cn:iam::2:role/capa/r");
/// ```
pub fn role_arn(partition: Partition, account: &str, role_name: &str, path: Option<&str>) -> String {
    let path = match path {
        None | Some("") | Some("/") => "/".to_string(),
        Some(p) => {
            let p = if p.starts_with('/') { p.to_string() } else { format!("/{p}") };
            if p.ends_with('/') {
                p
            } else {
                format!("{p}/")
            }
        }
    };
    format!("arn:{}:iam::{account}:role{path}{role_name}", partition.as_str())
}

/// Where the credentials xacct starts from come from.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum BaseCredentials {
    /// The SDK's default chain (environment, profile, SSO, web identity, instance metadata, …).
    #[default]
    DefaultChain,
    /// A named profile from the shared config and credentials files.
    Profile(String),
    /// Fixed keys (tests and emulators).
    Static { access_key_id: String, secret_access_key: String, session_token: Option<String> },
}

impl fmt::Debug for BaseCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BaseCredentials::DefaultChain => f.write_str("DefaultChain"),
            BaseCredentials::Profile(name) => f.debug_tuple("Profile").field(name).finish(),
            BaseCredentials::Static { access_key_id, session_token, .. } => f
                .debug_struct("Static")
                .field("access_key_id", &redact_key_id(access_key_id))
                .field("secret_access_key", &"** redacted **")
                .field("session_token", &session_token.as_ref().map(|_| "** redacted **"))
                .finish(),
        }
    }
}

/// `AKIA…WXYZ`-style: enough to recognise a key, not enough to use it.
pub(crate) fn redact_key_id(id: &str) -> String {
    if id.len() > 8 {
        format!("{}…{}", &id[..4], &id[id.len() - 4..])
    } else {
        "****".to_string()
    }
}

/// How xacct acts in one account.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum AccountAccess {
    /// The base credentials as they are (they must act in this account: checked once with
    /// `sts:GetCallerIdentity`).
    #[default]
    DefaultChain,
    /// A named profile (which may itself assume a role); checked like `DefaultChain`.
    Profile(String),
    /// `sts:AssumeRole` from the base credentials.
    AssumeRole { role_arn: String, external_id: Option<String>, session_name: Option<String> },
}

impl AccountAccess {
    /// This access for `account`: `{account}` in an assume-role ARN replaced by the account ID.
    pub fn for_account(&self, account: &str) -> AccountAccess {
        match self {
            AccountAccess::AssumeRole { role_arn, external_id, session_name } => AccountAccess::AssumeRole {
                role_arn: role_arn.replace("{account}", account),
                external_id: external_id.clone(),
                session_name: session_name.clone(),
            },
            other => other.clone(),
        }
    }
}

/// Bounded retries of throttling, 5xx and connection errors (the SDK's standard mode: jittered
/// exponential backoff).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySettings {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// How long to keep retrying a write IAM rejects with `Invalid principal` (a principal that
    /// was just created and has not propagated yet). Zero disables.
    pub invalid_principal_window: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            max_attempts: 8,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(20),
            invalid_principal_window: Duration::from_secs(120),
        }
    }
}

/// How [`Cloud::wait_consistent`](xacct_plan::cloud::Cloud::wait_consistent) decides IAM has
/// settled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencySettings {
    /// Consecutive reads that must show the expected document.
    pub reads: u32,
    /// Pause between two matching reads.
    pub interval: Duration,
    /// Give up (with `NotConsistent`) after this long.
    pub timeout: Duration,
}

impl Default for ConsistencySettings {
    fn default() -> Self {
        ConsistencySettings { reads: 3, interval: Duration::from_millis(100), timeout: Duration::from_secs(30) }
    }
}

/// Everything [`AwsCloud::new`](crate::AwsCloud::new) needs.
#[derive(Clone, Debug, Default)]
pub struct AwsSettings {
    /// Send every request (STS, IAM, S3) here (`--endpoint-url`); otherwise the SDK's own
    /// resolution, which honours `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    /// Region for STS and S3; otherwise the SDK's chain, else the partition's default.
    pub region: Option<String>,
    pub base: BaseCredentials,
    /// Access per account ID; an account not listed uses [`unlisted`](Self::unlisted).
    pub accounts: HashMap<String, AccountAccess>,
    /// Access for an account not in `accounts` (one only the state still names, after its
    /// workload left the file). In an `AssumeRole` ARN, `{account}` stands for the account ID.
    pub unlisted: AccountAccess,
    pub partition: Partition,
    pub retry: RetrySettings,
    pub consistency: ConsistencySettings,
}

#[cfg(test)]
mod partition_tests {
    use super::Partition;

    #[test]
    fn every_partition_parses_from_its_name_and_signs_iam_in_its_own_region() {
        let expected = [
            ("aws", "us-east-1"),
            ("aws-cn", "cn-north-1"),
            ("aws-us-gov", "us-gov-west-1"),
            ("aws-eusc", "eusc-de-east-1"),
            ("aws-iso", "us-iso-east-1"),
            ("aws-iso-b", "us-isob-east-1"),
            ("aws-iso-e", "eu-isoe-west-1"),
            ("aws-iso-f", "us-isof-south-1"),
        ];
        let got: Vec<(&str, &str)> = Partition::ALL.iter().map(|p| (p.as_str(), p.iam_region())).collect();
        assert_eq!(got, expected);
        for p in Partition::ALL {
            assert_eq!(Partition::parse(p.as_str()), Some(p));
            assert_eq!(p.default_region(), p.iam_region());
            assert_eq!(p.to_string(), p.as_str());
        }
        for unknown in ["", "AWS", "aws-eu", "aws-iso-x", "aws-cn "] {
            assert_eq!(Partition::parse(unknown), None, "{unknown:?}");
        }
    }

    /// `iam_region` is what the SDK's own IAM endpoint rules sign for in that partition: the
    /// region resolves to the partition's IAM endpoint, signed for that same region.
    #[tokio::test]
    async fn iam_region_is_the_signing_region_of_the_sdks_iam_endpoint_rules() {
        use aws_sdk_iam::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
        use aws_smithy_types::Document;
        for p in Partition::ALL {
            let params =
                Params::builder().region(p.iam_region()).use_fips(false).use_dual_stack(false).build().unwrap();
            let endpoint = DefaultResolver::new().resolve_endpoint(&params).await.unwrap();
            let signing =
                endpoint.auth_schemes().iter().find(|a| a.name() == "sigv4").and_then(|a| a.get("signingRegion"));
            assert_eq!(signing, Some(&Document::String(p.iam_region().into())), "{p}: {endpoint:?}");
            assert!(endpoint.url().starts_with("https://iam."), "{p}: {}", endpoint.url());
        }
    }
}
