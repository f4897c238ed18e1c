//! xacct-aws: the only crate that talks to AWS.
//!
//! It owns the AWS SDK clients: [`AwsCloud`] implements the planner's
//! [`Cloud`](xacct_plan::cloud::Cloud) trait on IAM and STS (credentials per account, obtained once
//! per run and reused; policy documents decoded; every write preceded by a conflict-checking read;
//! bounded, jittered retries of throttling, 5xx and connection errors; every call counted), and
//! [`S3Backend`] implements the state [`Backend`](xacct_state::Backend) on S3 with conditional
//! writes. The same per-account clients implement [`IamCloud`](xacct_plan::iam::IamCloud) for
//! bootstrapped accounts: the bulk read (`GetAccountAuthorizationDetails`, filtered to roles and
//! customer-managed policies, and users and groups when asked: one call per page, so a no-change
//! read of an account costs its `sts:AssumeRole` plus one call) and bootstrap's writes (roles,
//! instance profiles, managed policies and their versions, attachments, users, groups, read-back
//! waits). It must not decide anything (what to change is the planner's business), print, or let a
//! credential into an error, a `Debug` string or state. It logs through `tracing` (one `debug`
//! line per AWS call, target [`CALL_TARGET`]); whoever installs a subscriber passes its output
//! through [`redact_secrets`], since the SDK's own `trace` output shows requests and responses.
//!
//! ```no_run
//! use std::collections::HashMap;
//! use xacct_aws::{role_arn, AccountAccess, AwsCloud, AwsSettings, Partition};
//! use xacct_plan::cloud::Cloud;
//!
//! # async fn demo() -> Result<(), xacct_plan::cloud::CloudError> {
//! let target = "222222222222";
//! let access = AccountAccess::AssumeRole {
//!     role_arn: role_arn(Partition::Aws, target, "OrganizationAccountAccessRole", None),
//!     external_id: None,
//!     session_name: None,
//! };
//! let settings = AwsSettings { accounts: HashMap::from([(target.to_string(), access)]), ..Default::default() };
//! let cloud = AwsCloud::new(settings).await;
//! let role = cloud.get_role(target, "control-plane.cluster-api-provider-aws.sigs.k8s.io").await?;
//! let trust = role.map(|r| r.trust_policy); // decoded JSON text, or None when the role is absent
//! assert!(cloud.call_count() >= 2); // sts:AssumeRole once for this account, then iam:GetRole
//! # let _ = trust;
//! # Ok(()) }
//! ```

mod cloud;
mod config;
mod errors;
mod iam;
mod organizations;
mod s3;
mod settings;

pub use cloud::{decode_policy_document, AwsCloud, DEFAULT_TRUST_POLICY_QUOTA};
pub use config::CALL_TARGET;
pub use errors::redact_secrets;
pub use organizations::{AwsOrganizations, MAX_ORGANIZATIONS_PAGE};
pub use s3::S3Backend;
pub use settings::{
    role_arn, AccountAccess, AwsSettings, BaseCredentials, ConsistencySettings, Partition, RetrySettings,
};
