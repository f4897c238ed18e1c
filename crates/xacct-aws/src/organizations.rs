//! [`AwsOrganizations`]: the planner's [`Organization`] trait on the AWS Organizations API.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use aws_config::Region;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_iam::error::ProvideErrorMetadata;
use aws_sdk_organizations::types::ParentType;
use aws_smithy_runtime_api::client::result::SdkError;
use xacct_plan::org::{Account, AccountState, OrgError, OrgSummary, OrgUnit, Organization, Page, Parent, ParentKind};

use crate::config::{base_config, Counter, Counting};
use crate::errors::Failure;
use crate::settings::{AccountAccess, AwsSettings, BaseCredentials};

/// The largest page Organizations' List calls return (`MaxResults` ≤ 20).
pub const MAX_ORGANIZATIONS_PAGE: i32 = 20;

/// AWS Organizations through the SDK, read as one principal: the management account or a
/// delegated administrator (only they may list an organization).
///
/// Built from the same settings as [`AwsCloud`](crate::AwsCloud): base credentials, region,
/// endpoint, the bounded, jittered retries (`TooManyRequestsException` is throttling to the SDK,
/// so it is retried with backoff) and timeouts. Every call is counted
/// ([`AwsOrganizations::call_count`], the `sts:AssumeRole` that obtained the credentials
/// included); retries apart ([`AwsOrganizations::attempt_count`]). Each method of
/// [`Organization`] is one call for one page of at most [`MAX_ORGANIZATIONS_PAGE`] items.
pub struct AwsOrganizations {
    client: aws_sdk_organizations::Client,
    principal: String,
    counter: Arc<Counter>,
    page_size: i32,
}

impl fmt::Debug for AwsOrganizations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsOrganizations")
            .field("principal", &self.principal)
            .field("page_size", &self.page_size)
            .field("calls", &self.call_count())
            .finish_non_exhaustive()
    }
}

fn describe_base(base: &BaseCredentials) -> String {
    match base {
        BaseCredentials::DefaultChain => "the default credentials".to_string(),
        BaseCredentials::Profile(name) => format!("profile `{name}`"),
        BaseCredentials::Static { .. } => "the configured static credentials".to_string(),
    }
}

impl AwsOrganizations {
    /// A client that reads Organizations with `access` (for `assume_role`, one `sts:AssumeRole`
    /// now, with the base credentials of `settings`).
    pub async fn new(settings: &AwsSettings, access: &AccountAccess) -> Result<AwsOrganizations, OrgError> {
        if let BaseCredentials::Static { access_key_id, secret_access_key, session_token } = &settings.base {
            for value in [Some(access_key_id), Some(secret_access_key), session_token.as_ref()].into_iter().flatten() {
                crate::errors::remember_secret(value);
            }
        }
        let base = base_config(settings, None).await;
        let counter = Arc::new(Counter::default());
        let base_principal = describe_base(&settings.base);
        let (credentials, principal) = match access {
            AccountAccess::AssumeRole { role_arn, external_id, session_name } => {
                let sts = aws_sdk_sts::Client::from_conf(
                    aws_sdk_sts::config::Builder::from(&base).interceptor(Counting(counter.clone())).build(),
                );
                let out = sts
                    .assume_role()
                    .role_arn(role_arn)
                    .role_session_name(session_name.as_deref().unwrap_or("xacct-org-reader"))
                    .set_external_id(external_id.clone())
                    .send()
                    .await
                    .map_err(|e| match Failure::of(&e) {
                        Failure::AccessDenied(message) => OrgError::AccessDenied {
                            principal: base_principal.clone(),
                            action: "sts:AssumeRole".to_string(),
                            message: format!("{message}; check that the trust policy of `{role_arn}` allows them"),
                        },
                        _ => OrgError::Credentials {
                            message: format!("assuming `{role_arn}` with {base_principal}: {}", detail(&e)),
                        },
                    })?;
                let c = out.credentials().ok_or_else(|| OrgError::Credentials {
                    message: format!("sts:AssumeRole on `{role_arn}` returned no credentials"),
                })?;
                for value in [c.access_key_id(), c.secret_access_key(), c.session_token()] {
                    crate::errors::remember_secret(value);
                }
                let credentials = Credentials::new(
                    c.access_key_id(),
                    c.secret_access_key(),
                    Some(c.session_token().to_string()),
                    SystemTime::try_from(c.expiration().to_owned()).ok(),
                    "xacct-org-reader",
                );
                let principal = out.assumed_role_user().map_or_else(|| role_arn.clone(), |u| u.arn().to_string());
                (SharedCredentialsProvider::new(credentials), principal)
            }
            AccountAccess::DefaultChain => {
                let provider = base
                    .credentials_provider()
                    .ok_or_else(|| OrgError::Credentials { message: "no credentials are configured".to_string() })?;
                (provider, base_principal)
            }
            AccountAccess::Profile(name) => (
                SharedCredentialsProvider::new(
                    aws_config::profile::ProfileFileCredentialsProvider::builder().profile_name(name).build(),
                ),
                format!("profile `{name}`"),
            ),
        };
        let mut conf = aws_sdk_organizations::config::Builder::from(&base)
            .interceptor(Counting(counter.clone()))
            .credentials_provider(credentials);
        if settings.endpoint_url.is_none() {
            // Organizations is global per partition, like IAM: its endpoint rules pick the
            // endpoint and signing region from any region of the partition.
            conf = conf.region(Region::from_static(settings.partition.iam_region()));
        }
        let client = aws_sdk_organizations::Client::from_conf(conf.build());
        Ok(AwsOrganizations { client, principal, counter, page_size: MAX_ORGANIZATIONS_PAGE })
    }

    /// Ask for pages of at most `size` items (clamped to 1..=20; 20 unless set).
    pub fn with_page_size(mut self, size: i32) -> Self {
        self.page_size = size.clamp(1, MAX_ORGANIZATIONS_PAGE);
        self
    }

    /// Who the calls are made as (an assumed-role ARN, or a description of the credentials).
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// API calls so far (however many attempts each took).
    pub fn call_count(&self) -> u64 {
        self.counter.calls.load(Ordering::Relaxed)
    }

    /// HTTP attempts so far: [`AwsOrganizations::call_count`] plus every retry.
    pub fn attempt_count(&self) -> u64 {
        self.counter.attempts.load(Ordering::Relaxed)
    }

    /// Word an SDK error of `action` (`organizations:ListAccountsForParent`) about `what`.
    fn error<E, R>(&self, err: &SdkError<E, R>, action: &str, what: &str) -> OrgError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug + 'static,
    {
        if let Some(service) = err.as_service_error() {
            let message = crate::errors::scrub(service.message().unwrap_or(""));
            match service.code().unwrap_or("") {
                "AWSOrganizationsNotInUseException" => {
                    return OrgError::NotInOrganization { principal: self.principal.clone(), message }
                }
                code @ ("ParentNotFoundException"
                | "ChildNotFoundException"
                | "TargetNotFoundException"
                | "AccountNotFoundException"
                | "OrganizationalUnitNotFoundException") => {
                    let message = if message.is_empty() { code.to_string() } else { format!("{code}: {message}") };
                    return OrgError::NotFound { what: what.to_string(), message };
                }
                _ => {}
            }
        }
        match Failure::of(err) {
            Failure::AccessDenied(message) => {
                OrgError::AccessDenied { principal: self.principal.clone(), action: action.to_string(), message }
            }
            Failure::Throttled(_) => OrgError::Throttled { action: action.to_string() },
            Failure::Credentials(_) | Failure::NoCredentials(_) => {
                OrgError::Credentials { message: format!("{} for `{action}`: {}", self.principal, detail(err)) }
            }
            _ => OrgError::Other { action: action.to_string(), message: detail(err) },
        }
    }
}

/// What an SDK error says: `code: message` from the service, else the error chain (scrubbed).
fn detail<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    match err.as_service_error() {
        Some(s) => {
            let code = s.code().unwrap_or("error");
            match s.message() {
                Some(m) if !m.is_empty() => format!("{code}: {}", crate::errors::scrub(m)),
                _ => code.to_string(),
            }
        }
        None => crate::errors::scrub(&crate::errors::chain(err)),
    }
}

fn account(a: &aws_sdk_organizations::types::Account) -> Account {
    #[allow(deprecated)]
    let status = a.status().map(|s| s.as_str());
    Account {
        id: a.id().unwrap_or_default().to_string(),
        name: a.name().unwrap_or_default().to_string(),
        email: a.email().map(str::to_string),
        state: AccountState::from_api(a.state().map(|s| s.as_str()), status),
    }
}

#[async_trait]
impl Organization for AwsOrganizations {
    async fn describe_organization(&self) -> Result<OrgSummary, OrgError> {
        const ACTION: &str = "organizations:DescribeOrganization";
        let out =
            self.client.describe_organization().send().await.map_err(|e| self.error(&e, ACTION, "the organization"))?;
        let o = out.organization().ok_or_else(|| OrgError::Other {
            action: ACTION.to_string(),
            message: "the answer has no organization".to_string(),
        })?;
        match (o.id(), o.master_account_id()) {
            (Some(id), Some(management)) => {
                Ok(OrgSummary { id: id.to_string(), management_account_id: management.to_string() })
            }
            _ => Err(OrgError::Other {
                action: ACTION.to_string(),
                message: "the answer lacks the organization ID or the management account ID".to_string(),
            }),
        }
    }

    async fn list_organizational_units(
        &self,
        parent: &str,
        next_token: Option<&str>,
    ) -> Result<Page<OrgUnit>, OrgError> {
        let out = self
            .client
            .list_organizational_units_for_parent()
            .parent_id(parent)
            .max_results(self.page_size)
            .set_next_token(next_token.map(str::to_string))
            .send()
            .await
            .map_err(|e| {
                self.error(&e, "organizations:ListOrganizationalUnitsForParent", &format!("parent `{parent}`"))
            })?;
        let items = out
            .organizational_units()
            .iter()
            .map(|u| OrgUnit {
                id: u.id().unwrap_or_default().to_string(),
                name: u.name().unwrap_or_default().to_string(),
            })
            .collect();
        Ok(Page { items, next_token: out.next_token().map(str::to_string) })
    }

    async fn list_accounts(&self, parent: &str, next_token: Option<&str>) -> Result<Page<Account>, OrgError> {
        let out = self
            .client
            .list_accounts_for_parent()
            .parent_id(parent)
            .max_results(self.page_size)
            .set_next_token(next_token.map(str::to_string))
            .send()
            .await
            .map_err(|e| self.error(&e, "organizations:ListAccountsForParent", &format!("parent `{parent}`")))?;
        let items = out.accounts().iter().map(account).collect();
        Ok(Page { items, next_token: out.next_token().map(str::to_string) })
    }

    async fn list_parents(&self, child: &str, next_token: Option<&str>) -> Result<Page<Parent>, OrgError> {
        let out = self
            .client
            .list_parents()
            .child_id(child)
            .max_results(self.page_size)
            .set_next_token(next_token.map(str::to_string))
            .send()
            .await
            .map_err(|e| self.error(&e, "organizations:ListParents", &format!("`{child}`")))?;
        let items = out
            .parents()
            .iter()
            .map(|p| Parent {
                id: p.id().unwrap_or_default().to_string(),
                kind: match p.r#type() {
                    Some(ParentType::Root) => ParentKind::Root,
                    _ => ParentKind::OrganizationalUnit,
                },
            })
            .collect();
        Ok(Page { items, next_token: out.next_token().map(str::to_string) })
    }

    async fn list_tags(&self, account: &str, next_token: Option<&str>) -> Result<Page<(String, String)>, OrgError> {
        let out = self
            .client
            .list_tags_for_resource()
            .resource_id(account)
            .set_next_token(next_token.map(str::to_string))
            .send()
            .await
            .map_err(|e| self.error(&e, "organizations:ListTagsForResource", &format!("account {account}")))?;
        let items = out.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
        Ok(Page { items, next_token: out.next_token().map(str::to_string) })
    }
}
