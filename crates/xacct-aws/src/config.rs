//! Building SDK configuration and clients, and counting what they send.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata, OrchestratorError};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use crate::settings::{AwsSettings, BaseCredentials};

/// API calls (operations, however many attempts each took) and HTTP attempts, across every
/// client built from one [`AwsCloud`](crate::AwsCloud) or [`S3Backend`](crate::S3Backend).
#[derive(Debug, Default)]
pub(crate) struct Counter {
    pub(crate) calls: AtomicU64,
    pub(crate) attempts: AtomicU64,
}

/// The interceptor that feeds a [`Counter`] and logs each call; added to every client.
///
/// Every call it counts is logged, once, when it ends: at `debug`, target [`CALL_TARGET`], with
/// service, operation, account (when the client was built for one, see [`ForAccount`]), the
/// number of attempts, the last attempt's HTTP status and error code (or the transport error),
/// the earlier attempts' outcomes when there were retries, and the call's latency including
/// retries. So the calls a run logs are exactly the calls its summary counts.
#[derive(Debug, Clone)]
pub(crate) struct Counting(pub(crate) Arc<Counter>);

/// The `tracing` target of the one line per AWS call.
pub const CALL_TARGET: &str = "xacct::aws";

/// Marks the calls of a client built for one account, for [`Counting`]'s log line: the account
/// the calls are for, and who makes them (an ARN, or a description of the base credentials —
/// never a key).
#[derive(Debug, Clone)]
pub(crate) struct ForAccount {
    pub(crate) account: String,
    pub(crate) principal: String,
}

#[derive(Debug, Clone)]
struct CallAccount(ForAccount);
impl Storable for CallAccount {
    type Storer = StoreReplace<Self>;
}

#[derive(Debug, Clone, Copy)]
struct CallStart(Instant);
impl Storable for CallStart {
    type Storer = StoreReplace<Self>;
}

/// The outcome of each finished attempt of the current call, in order.
#[derive(Debug, Clone, Default)]
struct Attempts(Vec<String>);
impl Storable for Attempts {
    type Storer = StoreReplace<Self>;
}

impl Intercept for ForAccount {
    fn name(&self) -> &'static str {
        "xacct-call-account"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(CallAccount(self.clone()));
        Ok(())
    }
}

impl Intercept for Counting {
    fn name(&self) -> &'static str {
        "xacct-call-counter"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.calls.fetch_add(1, Ordering::Relaxed);
        cfg.interceptor_state().store_put(CallStart(Instant::now()));
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

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if tracing::enabled!(target: CALL_TARGET, tracing::Level::DEBUG) {
            let mut attempts = cfg.load::<Attempts>().cloned().unwrap_or_default();
            attempts.0.push(outcome(context.response(), context.output_or_error().and_then(Result::err)));
            cfg.interceptor_state().store_put(attempts);
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if !tracing::enabled!(target: CALL_TARGET, tracing::Level::DEBUG) {
            return Ok(());
        }
        let (service, operation) = match cfg.load::<Metadata>() {
            Some(m) => (m.service().to_ascii_lowercase(), m.name().to_string()),
            None => ("?".to_string(), "?".to_string()),
        };
        let (account, principal) =
            cfg.load::<CallAccount>().map_or(("-", "-"), |a| (a.0.account.as_str(), a.0.principal.as_str()));
        let latency_ms = cfg.load::<CallStart>().map_or(0, |s| s.0.elapsed().as_millis());
        let mut attempts = cfg.load::<Attempts>().map(|a| a.0.clone()).unwrap_or_default();
        // The last attempt's outcome is the call's: say it once, with the earlier ones apart.
        let last = attempts.pop().unwrap_or_else(|| {
            // No attempt finished: the call failed before sending (credentials, endpoint).
            outcome(context.response(), context.output_or_error().and_then(Result::err))
        });
        let tries = attempts.len() + 1;
        if attempts.is_empty() {
            tracing::debug!(
                target: CALL_TARGET,
                service = service.as_str(),
                operation = operation.as_str(),
                account = account,
                principal = principal,
                attempts = tries,
                outcome = last.as_str(),
                latency_ms = latency_ms as u64,
                "aws call"
            );
        } else {
            tracing::debug!(
                target: CALL_TARGET,
                service = service.as_str(),
                operation = operation.as_str(),
                account = account,
                principal = principal,
                attempts = tries,
                outcome = last.as_str(),
                retried = attempts.join(", ").as_str(),
                latency_ms = latency_ms as u64,
                "aws call"
            );
        }
        Ok(())
    }
}

/// What one attempt came back with: `200`, `404 NoSuchEntity`, or the reason nothing came back.
fn outcome<E: std::error::Error + 'static>(
    response: Option<&HttpResponse>,
    error: Option<&OrchestratorError<E>>,
) -> String {
    if let Some(response) = response {
        let status = response.status().as_u16();
        if status < 300 {
            return status.to_string();
        }
        return match error_code(response) {
            Some(code) => format!("{status} {code}"),
            None => status.to_string(),
        };
    }
    match error {
        Some(e) if e.is_timeout_error() => "timeout".to_string(),
        Some(e) => {
            let kind = if e.is_connector_error() { "connection error" } else { "not sent" };
            format!("{kind}: {}", crate::errors::scrub(&crate::errors::chain(e)))
        }
        None => "no response".to_string(),
    }
}

/// The AWS error code of an error response: the query protocol's `x-amzn-query-error` header,
/// JSON protocols' `x-amzn-errortype`, or the `<Code>` of an XML body.
fn error_code(response: &HttpResponse) -> Option<String> {
    let headers = response.headers();
    if let Some(v) = headers.get("x-amzn-query-error").or_else(|| headers.get("x-amzn-errortype")) {
        let code = v.split([';', ':']).next().unwrap_or(v).trim();
        if !code.is_empty() {
            return Some(code.to_string());
        }
    }
    let body = std::str::from_utf8(response.body().bytes()?).ok()?;
    let start = body.find("<Code>")? + "<Code>".len();
    let len = body[start..].find("</Code>")?;
    let code = body[start..start + len].trim();
    (!code.is_empty() && code.len() <= 100 && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '.'))
        .then(|| code.to_string())
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
