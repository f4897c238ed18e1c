//! Building SDK configuration and clients, and counting what they send.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::settings::{AwsSettings, BaseCredentials};

/// API calls (operations, however many attempts each took) and HTTP attempts, across every
/// client built from one [`AwsCloud`](crate::AwsCloud) or [`S3Backend`](crate::S3Backend).
#[derive(Debug, Default)]
pub(crate) struct Counter {
    pub(crate) calls: AtomicU64,
    pub(crate) attempts: AtomicU64,
}

/// The interceptor that feeds a [`Counter`]; added to every client.
#[derive(Debug, Clone)]
pub(crate) struct Counting(pub(crate) Arc<Counter>);

impl Intercept for Counting {
    fn name(&self) -> &'static str {
        "xacct-call-counter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.calls.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.attempts.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// The configuration every client starts from: base credentials, region, endpoint, retries and
/// timeouts. `region` overrides the settings' region (the S3 state bucket's own region).
pub(crate) async fn base_config(settings: &AwsSettings, region: Option<&str>) -> SdkConfig {
    let retry = RetryConfig::standard()
        .with_max_attempts(settings.retry.max_attempts.max(1))
        .with_initial_backoff(settings.retry.initial_backoff)
        .with_max_backoff(settings.retry.max_backoff);
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(10))
        .operation_attempt_timeout(Duration::from_secs(60))
        .build();
    let region = region.or(settings.region.as_deref()).map(|r| Region::new(r.to_string()));
    let fallback = Region::from_static(settings.partition.default_region());
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry).timeout_config(timeouts);
    loader = match &settings.base {
        BaseCredentials::DefaultChain => loader,
        BaseCredentials::Profile(name) => loader.profile_name(name),
        BaseCredentials::Static { access_key_id, secret_access_key, session_token } => loader.credentials_provider(
            Credentials::new(access_key_id, secret_access_key, session_token.clone(), None, "xacct-static"),
        ),
    };
    loader = match region {
        Some(region) => loader.region(region),
        None => loader.region(RegionProviderChain::default_provider().or_else(fallback)),
    };
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.http_client(shared_https_client()).load().await
}

/// One HTTPS client, so one connection pool, for every service client built from the base
/// config. Left to itself, each client (one IAM client per account) would build its own and open
/// new connections — a TCP and TLS handshake per account and service on every plan. Same TLS
/// (rustls with aws-lc) and proxy handling (`HTTPS_PROXY`, `NO_PROXY`) as the SDK's default.
fn shared_https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::{proxy::ProxyConfig, tls, Builder, ConnectorBuilder};
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}
