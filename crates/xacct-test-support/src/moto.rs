//! The shared emulator handle and the helpers tests use to arrange and inspect IAM.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use rand::Rng;

use crate::server::{self, Started, MOTO_URL_ENV};

/// The role every emulated account can be entered through (moto does not evaluate trust).
pub const ACCESS_ROLE: &str = "OrganizationAccountAccessRole";

/// moto's default account: never handed out by [`Moto::fresh_account`].
pub const DEFAULT_ACCOUNT: &str = "123456789012";

/// A trust policy letting EC2 assume a role: the shape CAPA's own roles start with.
pub const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// A moto server shared by every test of this process, seen from one partition.
///
/// moto keeps one IAM and STS store per partition and picks it from the region a request is
/// signed for: [`moto()`] works in `aws` (region `us-east-1`); [`Moto::in_partition`] gives a
/// handle on the same server for `aws-cn` (`cn-north-1`) or `aws-us-gov` (`us-gov-west-1`).
pub struct Moto {
    endpoint: String,
    partition: &'static str,
    region: &'static str,
    _started: Option<Started>,
}

/// The partitions moto knows, each with the region whose requests it files under it: the
/// region xacct signs IAM for in that partition (`xacct_aws::Partition::iam_region`). moto 5.2
/// files `aws-iso-e` and `aws-iso-f` regions under `aws`, so those two are not here.
const PARTITIONS: [(&str, &str); 6] = [
    ("aws", "us-east-1"),
    ("aws-cn", "cn-north-1"),
    ("aws-us-gov", "us-gov-west-1"),
    ("aws-eusc", "eusc-de-east-1"),
    ("aws-iso", "us-iso-east-1"),
    ("aws-iso-b", "us-isob-east-1"),
];

fn partition_entry(partition: &str) -> (&'static str, &'static str) {
    PARTITIONS.into_iter().find(|(p, _)| *p == partition).unwrap_or_else(|| {
        let known: Vec<&str> = PARTITIONS.iter().map(|(p, _)| *p).collect();
        panic!("unknown partition `{partition}`: expected one of {}", known.join(", "))
    })
}

/// The region moto files under `partition` (`cn-north-1` for `aws-cn`).
pub fn partition_region(partition: &str) -> &'static str {
    partition_entry(partition).1
}

static MOTO: OnceLock<Moto> = OnceLock::new();

/// The process-wide emulator: the one named by `XACCT_TEST_MOTO_URL`, else one started (and,
/// when needed, installed) on first use. A server started here dies with the test process.
///
/// Blocks the calling thread while the server starts (about a second); safe to call from async
/// tests. The server has AWS's managed policies (`MOTO_IAM_LOAD_MANAGED_POLICIES=true`, as
/// `scripts/lib/moto.sh` starts it), built only for accounts whose requests look at managed
/// policies (`scripts/lib/moto-site/sitecustomize.py`), so a fresh account stays cheap.
pub fn moto() -> &'static Moto {
    MOTO.get_or_init(|| match std::env::var(MOTO_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => Moto {
            endpoint: url.trim().trim_end_matches('/').to_string(),
            partition: "aws",
            region: "us-east-1",
            _started: None,
        },
        _ => {
            let started = server::start();
            Moto { endpoint: started.url.clone(), partition: "aws", region: "us-east-1", _started: Some(started) }
        }
    })
}

/// Static credentials the emulator accepts; they act in [`DEFAULT_ACCOUNT`].
pub fn static_credentials() -> Credentials {
    Credentials::new("testing", "testing", None, None, "xacct-test-support")
}

/// Decode an IAM policy document if it is percent-encoded (as `GetRole` and `GetRolePolicy`
/// return it); text that already parses as JSON is returned unchanged.
pub fn decode_document(text: &str) -> String {
    if serde_json::from_str::<serde_json::Value>(text).is_ok() {
        return text.to_string();
    }
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

impl Moto {
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn endpoint_url(&self) -> &str {
        &self.endpoint
    }

    /// The same server seen from `partition` (`aws`, `aws-cn` or `aws-us-gov`): every helper of
    /// the handle signs for that partition's region and builds that partition's ARNs, so it
    /// arranges and reads the partition's own IAM store. The server stays owned by [`moto()`].
    pub fn in_partition(&self, partition: &str) -> Moto {
        let (partition, region) = partition_entry(partition);
        Moto { endpoint: self.endpoint.clone(), partition, region, _started: None }
    }

    /// The partition this handle works in (`aws` for [`moto()`]).
    pub fn partition(&self) -> &str {
        self.partition
    }

    /// The region this handle signs for (`us-east-1` for [`moto()`]).
    pub fn region(&self) -> &str {
        self.region
    }

    /// A random 12-digit account ID, never moto's default account; every call a new one, so
    /// tests sharing the server do not see each other's roles.
    pub fn fresh_account(&self) -> String {
        let mut rng = rand::rng();
        loop {
            let id = rng.random_range(100_000_000_000u64..1_000_000_000_000u64).to_string();
            if id != DEFAULT_ACCOUNT {
                return id;
            }
        }
    }

    /// SDK configuration for the emulator: region `us-east-1` (the handle's region, see
    /// [`Moto::in_partition`]), static `testing` credentials, endpoint set. Build it inside the
    /// test's own runtime (clients are not shared across runtimes).
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(self.region))
            .endpoint_url(&self.endpoint)
            .credentials_provider(static_credentials())
            .load()
            .await
    }

    /// An STS client with the static credentials.
    pub async fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.sdk_config().await)
    }

    /// An S3 client (path-style addressing) with the static credentials.
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk_config().await).force_path_style(true).build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// Credentials acting in `account`, from `sts:AssumeRole` into its [`ACCESS_ROLE`].
    pub async fn account_credentials(&self, account: &str) -> Credentials {
        let arn = format!("arn:{}:iam::{account}:role/{ACCESS_ROLE}", self.partition);
        let out = self
            .sts()
            .await
            .assume_role()
            .role_arn(&arn)
            .role_session_name("xacct-test-support")
            .send()
            .await
            .unwrap_or_else(|e| panic!("AssumeRole {arn} on the emulator: {e:?}"));
        let c = out.credentials().expect("AssumeRole returned credentials");
        Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            None,
            "xacct-test-support-assumed",
        )
    }

    /// An IAM client acting in `account`.
    pub async fn iam(&self, account: &str) -> aws_sdk_iam::Client {
        let creds = self.account_credentials(account).await;
        let conf = aws_sdk_iam::config::Builder::from(&self.sdk_config().await).credentials_provider(creds).build();
        aws_sdk_iam::Client::from_conf(conf)
    }

    /// Create role `name` (path `/`) in `account` with `trust` as its trust policy; returns its ARN.
    pub async fn create_role(&self, account: &str, name: &str, trust: &str) -> String {
        let out = self
            .iam(account)
            .await
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateRole {name} in {account}: {e:?}"));
        out.role().expect("CreateRole returned a role").arn().to_string()
    }

    /// Replace the trust policy of `role` in `account`.
    pub async fn put_trust(&self, account: &str, role: &str, document: &str) {
        self.iam(account)
            .await
            .update_assume_role_policy()
            .role_name(role)
            .policy_document(document)
            .send()
            .await
            .unwrap_or_else(|e| panic!("UpdateAssumeRolePolicy {role} in {account}: {e:?}"));
    }

    /// The decoded trust policy of `role` in `account`, or `None` when the role does not exist.
    pub async fn trust_of(&self, account: &str, role: &str) -> Option<String> {
        match self.iam(account).await.get_role().role_name(role).send().await {
            Ok(out) => {
                let role = out.role().expect("GetRole returned a role");
                Some(decode_document(role.assume_role_policy_document().unwrap_or_default()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => None,
            Err(e) => panic!("GetRole {role} in {account}: {e:?}"),
        }
    }

    /// Put (create or replace) inline policy `name` on `role` in `account`.
    pub async fn put_inline_policy(&self, account: &str, role: &str, name: &str, document: &str) {
        self.iam(account)
            .await
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(document)
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutRolePolicy {role}/{name} in {account}: {e:?}"));
    }

    /// Delete inline policy `name` of `role` in `account`.
    pub async fn delete_inline_policy(&self, account: &str, role: &str, name: &str) {
        self.iam(account)
            .await
            .delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("DeleteRolePolicy {role}/{name} in {account}: {e:?}"));
    }

    /// Every inline policy of `role` in `account`, by name, decoded.
    pub async fn inline_policies(&self, account: &str, role: &str) -> BTreeMap<String, String> {
        let iam = self.iam(account).await;
        let names = iam
            .list_role_policies()
            .role_name(role)
            .send()
            .await
            .unwrap_or_else(|e| panic!("ListRolePolicies {role} in {account}: {e:?}"))
            .policy_names()
            .to_vec();
        let mut policies = BTreeMap::new();
        for name in names {
            let out = iam
                .get_role_policy()
                .role_name(role)
                .policy_name(&name)
                .send()
                .await
                .unwrap_or_else(|e| panic!("GetRolePolicy {role}/{name} in {account}: {e:?}"));
            policies.insert(name, decode_document(out.policy_document()));
        }
        policies
    }

    /// Create S3 bucket `name` (in the emulator's default account).
    pub async fn create_bucket(&self, name: &str) {
        self.s3()
            .await
            .create_bucket()
            .bucket(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateBucket {name}: {e:?}"));
    }

    /// A fresh bucket name (lowercase, unique per call).
    pub fn fresh_bucket_name(&self) -> String {
        format!("xacct-test-{:016x}", rand::rng().random::<u64>())
    }
}
