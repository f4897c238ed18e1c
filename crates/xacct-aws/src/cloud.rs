//! [`AwsCloud`]: the [`Cloud`] trait on IAM and STS, one set of credentials per account.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use aws_config::{Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_iam::types::SummaryKeyType;
use tokio::sync::OnceCell;
use xacct_plan::cloud::{same_or_both_absent, AccountId, Cloud, CloudError, DocRef, LiveRole, WriteCheck};

use crate::config::{base_config, Counter, Counting, ForAccount};
use crate::errors::Failure;
use crate::settings::{AccountAccess, AwsSettings, BaseCredentials};

/// The trust-policy quota assumed when IAM does not tell (REFERENCE: 2,048 by default).
pub const DEFAULT_TRUST_POLICY_QUOTA: usize = 2048;

/// Live IAM through the AWS SDK.
///
/// Credentials for an account are obtained on first use (one `sts:AssumeRole`, or one
/// `sts:GetCallerIdentity` to check that direct credentials act in that account) and reused for
/// the rest of the run. Every API call is counted ([`Cloud::call_count`]); retries of one call are
/// counted separately ([`AwsCloud::attempt_count`]).
pub struct AwsCloud {
    settings: AwsSettings,
    base: SdkConfig,
    counter: Arc<Counter>,
    accounts: Mutex<HashMap<String, Arc<OnceCell<Arc<Account>>>>>,
}

/// How xacct acts in one account, once established.
pub(crate) struct Account {
    pub(crate) iam: aws_sdk_iam::Client,
    /// The ARN xacct acts as there (for error messages).
    pub(crate) principal: String,
    /// When assumed-role credentials run out; `None` for credentials the SDK refreshes itself.
    expires: Option<SystemTime>,
    quota: OnceCell<usize>,
}

/// Assumed-role sessions this close to their end are replaced before the next call.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

impl Account {
    fn expires_soon(&self) -> bool {
        self.expires.is_some_and(|at| at.duration_since(SystemTime::now()).map_or(true, |left| left < RENEW_BEFORE))
    }
}

impl fmt::Debug for AwsCloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCloud")
            .field("endpoint_url", &self.settings.endpoint_url)
            .field("partition", &self.settings.partition)
            .field("base", &self.settings.base)
            .field("accounts", &self.settings.accounts.len())
            .field("calls", &self.call_count())
            .finish_non_exhaustive()
    }
}

fn is_account_id(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

/// The account in an ARN (`arn:aws:sts::<account>:assumed-role/…`).
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// Decode a policy document IAM returned percent-encoded; text that is already JSON (moto's
/// `GetAccountAuthorizationDetails`) is returned as is.
pub fn decode_policy_document(text: &str) -> String {
    if serde_json::from_str::<serde_json::Value>(text).is_ok() {
        return text.to_string();
    }
    match percent_encoding::percent_decode_str(text).decode_utf8() {
        Ok(decoded) => decoded.into_owned(),
        Err(_) => text.to_string(),
    }
}

impl AwsCloud {
    /// Configure clients; nothing is sent until the first call.
    pub async fn new(settings: AwsSettings) -> AwsCloud {
        if let BaseCredentials::Static { access_key_id, secret_access_key, session_token } = &settings.base {
            for value in [Some(access_key_id), Some(secret_access_key), session_token.as_ref()].into_iter().flatten() {
                crate::errors::remember_secret(value);
            }
        }
        let base = base_config(&settings, None).await;
        AwsCloud { settings, base, counter: Arc::default(), accounts: Mutex::default() }
    }

    /// HTTP attempts so far: [`Cloud::call_count`] plus every retry.
    pub fn attempt_count(&self) -> u64 {
        self.counter.attempts.load(Ordering::Relaxed)
    }

    /// The settings this client was built from.
    pub fn settings(&self) -> &AwsSettings {
        &self.settings
    }

    /// An STS client for work on `account`, as `principal` (for the call log), with `credentials`
    /// or the base ones.
    fn sts(
        &self,
        account: &str,
        principal: &str,
        credentials: Option<SharedCredentialsProvider>,
    ) -> aws_sdk_sts::Client {
        let mut conf = aws_sdk_sts::config::Builder::from(&self.base)
            .interceptor(Counting(self.counter.clone()))
            .interceptor(ForAccount { account: account.to_string(), principal: principal.to_string() });
        if let Some(credentials) = credentials {
            conf = conf.credentials_provider(credentials);
        }
        aws_sdk_sts::Client::from_conf(conf.build())
    }

    /// The IAM client of `account`, acting as `principal` with `credentials`.
    pub(crate) fn iam(
        &self,
        account: &str,
        principal: &str,
        credentials: SharedCredentialsProvider,
    ) -> aws_sdk_iam::Client {
        let mut conf = aws_sdk_iam::config::Builder::from(&self.base)
            .interceptor(Counting(self.counter.clone()))
            .interceptor(ForAccount { account: account.to_string(), principal: principal.to_string() })
            .credentials_provider(credentials);
        if self.settings.endpoint_url.is_none() {
            // IAM is global per partition: its endpoint and signing region follow from this.
            conf = conf.region(Region::from_static(self.settings.partition.iam_region()));
        }
        aws_sdk_iam::Client::from_conf(conf.build())
    }

    /// A description of the base credentials for messages (never the keys themselves).
    fn base_principal(&self) -> String {
        match &self.settings.base {
            BaseCredentials::DefaultChain => "the default credentials".to_string(),
            BaseCredentials::Profile(name) => format!("profile `{name}`"),
            BaseCredentials::Static { .. } => "the configured static credentials".to_string(),
        }
    }

    /// The established access to `account`, establishing it on first use.
    pub(crate) async fn account(&self, account: &str) -> Result<Arc<Account>, CloudError> {
        if !is_account_id(account) {
            return Err(CloudError::Other {
                account: account.to_string(),
                action: "select account".to_string(),
                message: "an AWS account ID is exactly 12 digits".to_string(),
            });
        }
        let cell = {
            let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
            accounts.entry(account.to_string()).or_default().clone()
        };
        let established = cell.get_or_try_init(|| self.establish(account)).await?.clone();
        if !established.expires_soon() {
            return Ok(established);
        }
        // A long run outlived the session: start a new one (once, whoever gets here first).
        let fresh = {
            let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
            let slot = accounts.entry(account.to_string()).or_default();
            if Arc::ptr_eq(slot, &cell) {
                *slot = Arc::default();
            }
            slot.clone()
        };
        fresh.get_or_try_init(|| self.establish(account)).await.cloned()
    }

    async fn establish(&self, account: &str) -> Result<Arc<Account>, CloudError> {
        let listed = self.settings.accounts.contains_key(account);
        self.establish_with(account).await.map_err(|e| match e {
            // An account only the state names (its workload left the file) is reached the
            // default way: say so, or the hint to configure its `access` makes no sense.
            CloudError::Credentials { account, message } if !listed => CloudError::Credentials {
                message: format!(
                    "{message} (no workload in the file names this account any more, so xacct reaches it through `defaults.access`)"
                ),
                account,
            },
            e => e,
        })
    }

    async fn establish_with(&self, account: &str) -> Result<Arc<Account>, CloudError> {
        let access = match self.settings.accounts.get(account) {
            Some(a) => a.clone(),
            None => self.settings.unlisted.for_account(account),
        };
        let (credentials, principal, expires) = match access {
            AccountAccess::AssumeRole { role_arn, external_id, session_name } => {
                self.assume_role(account, &role_arn, external_id.as_deref(), session_name.as_deref()).await?
            }
            AccountAccess::DefaultChain => {
                let provider = self.base.credentials_provider().ok_or_else(|| CloudError::Credentials {
                    account: account.to_string(),
                    message: "no credentials are configured".to_string(),
                })?;
                let principal = self.check_identity(account, provider.clone(), &self.base_principal()).await?;
                (provider, principal, None)
            }
            AccountAccess::Profile(name) => {
                let provider = SharedCredentialsProvider::new(
                    aws_config::profile::ProfileFileCredentialsProvider::builder().profile_name(&name).build(),
                );
                let principal = self.check_identity(account, provider.clone(), &format!("profile `{name}`")).await?;
                (provider, principal, None)
            }
        };
        let iam = self.iam(account, &principal, credentials);
        Ok(Arc::new(Account { iam, principal, expires, quota: OnceCell::new() }))
    }

    async fn assume_role(
        &self,
        account: &str,
        role_arn: &str,
        external_id: Option<&str>,
        session_name: Option<&str>,
    ) -> Result<(SharedCredentialsProvider, String, Option<SystemTime>), CloudError> {
        if arn_account(role_arn) != Some(account) {
            return Err(CloudError::Credentials {
                account: account.to_string(),
                message: format!("the role to assume, `{role_arn}`, is not in account {account}"),
            });
        }
        let out = self
            .sts(account, &self.base_principal(), None)
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(session_name.unwrap_or("xacct"))
            .set_external_id(external_id.map(str::to_string))
            .send()
            .await
            .map_err(|e| {
                let failure = Failure::of(&e);
                match failure {
                    Failure::AccessDenied(message) => CloudError::AccessDenied {
                        account: account.to_string(),
                        principal: self.base_principal(),
                        action: "sts:AssumeRole".to_string(),
                        message: format!(
                            "{message}; check that the trust policy of `{role_arn}` allows the base credentials \
                             (and the external ID, if one is set)"
                        ),
                    },
                    other => other.into_cloud(account, "sts:AssumeRole", role_arn, &self.base_principal()),
                }
            })?;
        let missing = || CloudError::Credentials {
            account: account.to_string(),
            message: format!("sts:AssumeRole on `{role_arn}` returned no credentials"),
        };
        let c = out.credentials().ok_or_else(missing)?;
        for value in [c.access_key_id(), c.secret_access_key(), c.session_token()] {
            crate::errors::remember_secret(value);
        }
        let expiry = SystemTime::try_from(c.expiration().to_owned()).ok();
        let credentials = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            expiry,
            "xacct-assume-role",
        );
        let principal = out.assumed_role_user().map(|u| u.arn().to_string()).unwrap_or_else(|| role_arn.to_string());
        if let Some(acted) = arn_account(&principal).filter(|a| *a != account) {
            return Err(CloudError::Credentials {
                account: account.to_string(),
                message: format!("assuming `{role_arn}` gave a session in account {acted}, not {account}"),
            });
        }
        Ok((SharedCredentialsProvider::new(credentials), principal, expiry))
    }

    /// `sts:GetCallerIdentity`: credentials used as they are must act in `account`.
    async fn check_identity(
        &self,
        account: &str,
        provider: SharedCredentialsProvider,
        described: &str,
    ) -> Result<String, CloudError> {
        let out = self
            .sts(account, described, Some(provider))
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| Failure::of(&e).into_cloud(account, "sts:GetCallerIdentity", described, described))?;
        let acted = out.account().unwrap_or_default();
        if acted != account {
            return Err(CloudError::Credentials {
                account: account.to_string(),
                message: format!(
                    "{described} act in account {acted}, not {account}; configure `access` for this account \
                     (for example assume_role)"
                ),
            });
        }
        Ok(out.arn().unwrap_or(described).to_string())
    }

    async fn read_trust(&self, account: &str, role: &str) -> Result<Option<LiveRole>, CloudError> {
        let acct = self.account(account).await?;
        match acct.iam.get_role().role_name(role).send().await {
            Ok(out) => {
                let Some(r) = out.role() else { return Ok(None) };
                Ok(Some(LiveRole {
                    arn: r.arn().to_string(),
                    role_id: r.role_id().to_string(),
                    trust_policy: decode_policy_document(r.assume_role_policy_document().unwrap_or("")),
                    max_session_duration: r.max_session_duration().unwrap_or(3600),
                }))
            }
            Err(e) => match Failure::of(&e) {
                Failure::NoSuchEntity(_) => Ok(None),
                f => Err(f.into_cloud(account, "iam:GetRole", &role_what(account, role), &acct.principal)),
            },
        }
    }

    async fn read_policy(&self, account: &str, role: &str, policy: &str) -> Result<Option<String>, CloudError> {
        let acct = self.account(account).await?;
        match acct.iam.get_role_policy().role_name(role).policy_name(policy).send().await {
            Ok(out) => Ok(Some(decode_policy_document(out.policy_document()))),
            Err(e) => match Failure::of(&e) {
                Failure::NoSuchEntity(_) => Ok(None),
                f => Err(f.into_cloud(
                    account,
                    "iam:GetRolePolicy",
                    &policy_what(account, role, policy),
                    &acct.principal,
                )),
            },
        }
    }

    /// Run `write` again while IAM says a principal in it is invalid (not propagated yet), for at
    /// most the configured window.
    pub(crate) async fn with_principal_retry<F, Fut>(&self, mut write: F) -> Result<(), Failure>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<(), Failure>>,
    {
        let window = self.settings.retry.invalid_principal_window;
        let start = Instant::now();
        let mut pause = Duration::from_millis(500);
        loop {
            match write().await {
                Err(f) if f.is_invalid_principal() && start.elapsed() + pause <= window => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(10));
                }
                other => return other,
            }
        }
    }
}

fn role_what(account: &str, role: &str) -> String {
    format!("role `{role}` in account {account}")
}

fn policy_what(account: &str, role: &str, policy: &str) -> String {
    DocRef::InlinePolicy { account: account.to_string(), role: role.to_string(), policy: policy.to_string() }
        .to_string()
}

fn trust_what(account: &str, role: &str) -> String {
    DocRef::Trust { account: account.to_string(), role: role.to_string() }.to_string()
}

#[async_trait]
impl Cloud for AwsCloud {
    async fn get_role(&self, account: &AccountId, role: &str) -> Result<Option<LiveRole>, CloudError> {
        self.read_trust(account, role).await
    }

    async fn list_role_policies(&self, account: &AccountId, role: &str) -> Result<Vec<String>, CloudError> {
        let acct = self.account(account).await?;
        let mut names = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let out =
                acct.iam.list_role_policies().role_name(role).set_marker(marker.take()).send().await.map_err(|e| {
                    Failure::of(&e).into_cloud(
                        account,
                        "iam:ListRolePolicies",
                        &role_what(account, role),
                        &acct.principal,
                    )
                })?;
            names.extend(out.policy_names().iter().cloned());
            match out.marker() {
                Some(next) if out.is_truncated() && !next.is_empty() => marker = Some(next.to_string()),
                _ => return Ok(names),
            }
        }
    }

    async fn get_role_policy(
        &self,
        account: &AccountId,
        role: &str,
        policy: &str,
    ) -> Result<Option<String>, CloudError> {
        self.read_policy(account, role, policy).await
    }

    async fn trust_policy_quota(&self, account: &AccountId) -> Result<usize, CloudError> {
        let acct = self.account(account).await?;
        acct.quota
            .get_or_try_init(|| async {
                match acct.iam.get_account_summary().send().await {
                    Ok(out) => Ok(out
                        .summary_map()
                        .and_then(|m| m.get(&SummaryKeyType::AssumeRolePolicySizeQuota))
                        .and_then(|q| usize::try_from(*q).ok())
                        .filter(|q| *q > 0)
                        .unwrap_or(DEFAULT_TRUST_POLICY_QUOTA)),
                    Err(e) => match Failure::of(&e) {
                        Failure::AccessDenied(_) => Ok(DEFAULT_TRUST_POLICY_QUOTA),
                        f => Err(f.into_cloud(
                            account,
                            "iam:GetAccountSummary",
                            &format!("account {account}"),
                            &acct.principal,
                        )),
                    },
                }
            })
            .await
            .copied()
    }

    async fn update_trust_policy(
        &self,
        account: &AccountId,
        role: &str,
        expected: &str,
        document: &str,
    ) -> Result<(), CloudError> {
        let what = trust_what(account, role);
        let live = self
            .read_trust(account, role)
            .await?
            .ok_or_else(|| CloudError::NoSuchEntity { what: role_what(account, role) })?;
        if !WriteCheck::gate(Some(&live.trust_policy), Some(expected), Some(document), || what.clone())? {
            return Ok(());
        }
        let acct = self.account(account).await?;
        self.with_principal_retry(|| async {
            acct.iam
                .update_assume_role_policy()
                .role_name(role)
                .policy_document(document)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| Failure::of(&e))
        })
        .await
        .map_err(|f| f.into_cloud(account, "iam:UpdateAssumeRolePolicy", &what, &acct.principal))
    }

    async fn put_role_policy(
        &self,
        account: &AccountId,
        role: &str,
        policy: &str,
        expected: Option<&str>,
        document: &str,
    ) -> Result<(), CloudError> {
        let what = policy_what(account, role, policy);
        let live = self.read_policy(account, role, policy).await?;
        if !WriteCheck::gate(live.as_deref(), expected, Some(document), || what.clone())? {
            return Ok(());
        }
        let acct = self.account(account).await?;
        self.with_principal_retry(|| async {
            acct.iam
                .put_role_policy()
                .role_name(role)
                .policy_name(policy)
                .policy_document(document)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| Failure::of(&e))
        })
        .await
        .map_err(|f| match f {
            Failure::NoSuchEntity(_) => CloudError::NoSuchEntity { what: role_what(account, role) },
            f => f.into_cloud(account, "iam:PutRolePolicy", &what, &acct.principal),
        })
    }

    async fn delete_role_policy(
        &self,
        account: &AccountId,
        role: &str,
        policy: &str,
        expected: &str,
    ) -> Result<(), CloudError> {
        let what = policy_what(account, role, policy);
        let live = self.read_policy(account, role, policy).await?;
        if !WriteCheck::gate(live.as_deref(), Some(expected), None, || what.clone())? {
            return Ok(());
        }
        let acct = self.account(account).await?;
        match acct.iam.delete_role_policy().role_name(role).policy_name(policy).send().await {
            Ok(_) => Ok(()),
            Err(e) => match Failure::of(&e) {
                Failure::NoSuchEntity(_) => Ok(()),
                f => Err(f.into_cloud(account, "iam:DeleteRolePolicy", &what, &acct.principal)),
            },
        }
    }

    async fn wait_consistent(&self, doc: &DocRef, document: Option<&str>) -> Result<(), CloudError> {
        wait_consistently(
            &self.settings.consistency,
            || doc.to_string(),
            || async move {
                let live = match doc {
                    DocRef::Trust { account, role } => self.read_trust(account, role).await?.map(|r| r.trust_policy),
                    DocRef::InlinePolicy { account, role, policy } => self.read_policy(account, role, policy).await?,
                };
                Ok(same_or_both_absent(live.as_deref(), document))
            },
        )
        .await
    }

    fn call_count(&self) -> u64 {
        self.counter.calls.load(Ordering::Relaxed)
    }

    fn as_iam(&self) -> Option<&dyn xacct_plan::iam::IamCloud> {
        Some(self)
    }
}

/// Every read-back wait: poll `holds` until it is true for `settings.reads` reads in a row
/// (`settings.interval` apart; backing off from 100 ms to 2 s while it is false), or fail with
/// [`CloudError::NotConsistent`] about `what` once the next pause would pass `settings.timeout`.
pub(crate) async fn wait_consistently<F, Fut>(
    settings: &crate::settings::ConsistencySettings,
    what: impl FnOnce() -> String,
    mut holds: F,
) -> Result<(), CloudError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<bool, CloudError>>,
{
    let start = Instant::now();
    let mut streak = 0;
    let mut backoff = Duration::from_millis(100);
    loop {
        let pause = if holds().await? {
            streak += 1;
            if streak >= settings.reads.max(1) {
                return Ok(());
            }
            backoff = Duration::from_millis(100);
            settings.interval
        } else {
            streak = 0;
            let pause = backoff;
            backoff = (backoff * 2).min(Duration::from_secs(2));
            pause
        };
        if start.elapsed() + pause > settings.timeout {
            return Err(CloudError::NotConsistent { what: what(), seconds: settings.timeout.as_secs() });
        }
        tokio::time::sleep(pause).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_only_when_encoded() {
        let raw = r#"{"Statement":[{"Condition":{"StringLike":{"x":"100%"}}}]}"#;
        assert_eq!(decode_policy_document(raw), raw);
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%7D";
        assert_eq!(decode_policy_document(encoded), r#"{"Version":"2012-10-17"}"#);
    }

    fn offline(partition: crate::Partition, endpoint: Option<&str>) -> AwsSettings {
        AwsSettings {
            endpoint_url: endpoint.map(str::to_string),
            region: Some("eu-west-1".to_string()),
            base: BaseCredentials::Static {
                access_key_id: "AKIAXACCTTESTKEY0001".into(),
                secret_access_key: "s".into(),
                session_token: None,
            },
            partition,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn iam_is_signed_for_the_partition_region_unless_an_endpoint_is_set() {
        use crate::Partition::*;
        for (partition, region) in [(Aws, "us-east-1"), (AwsCn, "cn-north-1"), (AwsUsGov, "us-gov-west-1")] {
            let cloud = AwsCloud::new(offline(partition, None)).await;
            let creds = cloud.base.credentials_provider().unwrap();
            assert_eq!(
                cloud.iam("111111111111", "-", creds.clone()).config().region().map(|r| r.as_ref()),
                Some(region)
            );
            assert_eq!(
                cloud.sts("111111111111", "-", Some(creds)).config().region().map(|r| r.as_ref()),
                Some("eu-west-1")
            );
        }
        let cloud = AwsCloud::new(offline(AwsCn, Some("http://127.0.0.1:9"))).await;
        let creds = cloud.base.credentials_provider().unwrap();
        assert_eq!(cloud.iam("111111111111", "-", creds).config().region().map(|r| r.as_ref()), Some("eu-west-1"));
    }

    #[tokio::test]
    async fn invalid_principal_is_retried_within_the_window() {
        let mut settings = offline(crate::Partition::Aws, None);
        settings.retry.invalid_principal_window = Duration::from_secs(5);
        let cloud = AwsCloud::new(settings).await;
        let tries = std::sync::atomic::AtomicU32::new(0);
        let result = cloud
            .with_principal_retry(|| async {
                if tries.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(Failure::Malformed("Invalid principal in policy: \"AWS\":\"arn:aws:iam::1:role/x\"".into()))
                } else {
                    Ok(())
                }
            })
            .await;
        assert_eq!(result, Ok(()));
        assert_eq!(tries.load(Ordering::SeqCst), 3);

        // Other rejections, and a window that ran out, are returned as they are.
        let result = cloud.with_principal_retry(|| async { Err(Failure::Malformed("Syntax errors".into())) }).await;
        assert_eq!(result, Err(Failure::Malformed("Syntax errors".into())));
    }

    #[test]
    fn assumed_sessions_are_renewed_before_they_end() {
        let soon = |secs: u64| Account {
            iam: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::Config::builder().behavior_version(aws_config::BehaviorVersion::latest()).build(),
            ),
            principal: String::new(),
            expires: Some(SystemTime::now() + Duration::from_secs(secs)),
            quota: OnceCell::new(),
        };
        assert!(soon(60).expires_soon());
        assert!(!soon(3600).expires_soon());
    }

    #[test]
    fn account_ids_and_arns() {
        assert!(is_account_id("012345678901"));
        assert!(!is_account_id("12345"));
        assert_eq!(arn_account("arn:aws:sts::222222222222:assumed-role/r/s"), Some("222222222222"));
        assert_eq!(arn_account("nope"), None);
    }
}
