//! EC2 clients: credentials and region through the SDK's standard chain, overridden by Packer's
//! `access_key` / `secret_key` / `token`, `profile`, `region` and `custom_endpoint_ec2`; retries
//! (throttling, 5xx, timeouts) by the SDK's own standard retry mode.

use crate::config::AmazonConfig;
use aws_config::retry::RetryConfig;
use aws_config::BehaviorVersion;
use aws_sdk_ec2::config::Credentials;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use std::time::{Duration, Instant};

/// Logs every API call (service, operation, attempts, HTTP status, duration) at debug level,
/// for `KILN_LOG`: what a build asked of the cloud, and how long it waited.
#[derive(Debug)]
struct LogCalls;

#[derive(Debug, Clone)]
struct CallStarted {
    at: Instant,
    attempts: u32,
}

impl Storable for CallStarted {
    type Storer = StoreReplace<Self>;
}

impl Intercept for LogCalls {
    fn name(&self) -> &'static str {
        "kiln-log-calls"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(CallStarted {
            at: Instant::now(),
            attempts: 0,
        });
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(mut c) = cfg.load::<CallStarted>().cloned() {
            c.attempts += 1;
            let status = context.response().map(|r| r.status().as_u16());
            if status.is_some_and(|s| s >= 400) {
                let (service, operation) = names(cfg);
                tracing::debug!(
                    service,
                    operation,
                    attempt = c.attempts,
                    status,
                    "api attempt failed"
                );
            }
            cfg.interceptor_state().store_put(c);
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = names(cfg);
        let started = cfg.load::<CallStarted>();
        let elapsed_ms = started.map_or(0, |c| c.at.elapsed().as_millis());
        let attempts = started.map_or(0, |c| c.attempts);
        let status = context.response().map(|r| r.status().as_u16());
        let ok = matches!(context.output_or_error(), Some(Ok(_)));
        tracing::debug!(service, operation, attempts, status, elapsed_ms, ok, "api call");
        Ok(())
    }
}

fn names(cfg: &ConfigBag) -> (String, String) {
    cfg.load::<Metadata>().map_or_else(
        || (String::new(), String::new()),
        |m| (m.service().to_string(), m.name().to_string()),
    )
}

/// The settings every client of a build shares.
#[derive(Debug, Clone)]
pub struct Access {
    sdk: aws_config::SdkConfig,
    endpoint: Option<String>,
}

impl Access {
    /// Loads the SDK configuration (environment, shared config and credentials files, IMDS)
    /// with the template's overrides.
    pub async fn load(c: &AmazonConfig) -> Access {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(
            RetryConfig::standard()
                .with_max_attempts(c.max_retries.map_or(5, |n| n.max(1)))
                .with_initial_backoff(Duration::from_millis(200))
                .with_max_backoff(Duration::from_secs(20)),
        );
        if let Some(p) = c.profile.as_deref().filter(|p| !p.is_empty()) {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &c.region {
            loader = loader.region(aws_config::Region::new(r.clone()));
        }
        if let (Some(k), Some(s)) = (&c.access_key, &c.secret_key) {
            loader = loader.credentials_provider(Credentials::new(
                k.clone(),
                s.clone(),
                c.token.clone().filter(|t| !t.is_empty()),
                None,
                "template",
            ));
        }
        Access {
            sdk: loader.load().await,
            endpoint: c.custom_endpoint_ec2.clone(),
        }
    }

    /// The SDK's standard chain (environment, shared files, IMDS) with an optional endpoint: what
    /// the catalog uses to act on images after their build.
    pub async fn standard(endpoint: Option<String>) -> Access {
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(5))
            .load()
            .await;
        Access { sdk, endpoint }
    }

    /// The template's `custom_endpoint_ec2`, if any.
    #[must_use]
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// The region builds run in, when the chain found one.
    #[must_use]
    pub fn region(&self) -> Option<String> {
        self.sdk.region().map(ToString::to_string)
    }

    /// An EC2 client for `region`.
    #[must_use]
    pub fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        let mut b = aws_sdk_ec2::config::Builder::from(&self.sdk)
            .region(aws_config::Region::new(region.to_string()))
            .interceptor(LogCalls);
        if let Some(e) = &self.endpoint {
            b = b.endpoint_url(e.clone());
        }
        aws_sdk_ec2::Client::from_conf(b.build())
    }

    /// An SSM client for `region`. Its endpoint is the SDK's for SSM (`AWS_ENDPOINT_URL_SSM`,
    /// `AWS_ENDPOINT_URL`, the shared config's `services`), not the template's EC2 endpoint.
    #[must_use]
    pub fn ssm(&self, region: &str) -> aws_sdk_ssm::Client {
        let b = aws_sdk_ssm::config::Builder::from(&self.sdk)
            .region(aws_config::Region::new(region.to_string()))
            .interceptor(LogCalls);
        aws_sdk_ssm::Client::from_conf(b.build())
    }
}

/// An EC2 error as one line: the service's code and message, or what went wrong on the way.
pub fn describe<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    describe_for("EC2", e)
}

/// An error of `service`'s API as one line (see [`describe`]).
pub fn describe_for<E, R>(service: &str, e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e {
        SdkError::ServiceError(s) => {
            let err = s.err();
            match (err.code(), err.message()) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.to_string(),
                _ => format!("{err}"),
            }
        }
        SdkError::DispatchFailure(d) => {
            let mut s = format!("the {service} API could not be reached");
            if let Some(c) = d.as_connector_error() {
                let mut src: Option<&dyn std::error::Error> = Some(c);
                while let Some(e) = src {
                    s = format!("{s}: {e}");
                    src = e.source();
                }
            }
            s
        }
        SdkError::TimeoutError(_) => format!("the {service} API did not answer in time"),
        other => {
            let mut s = other.to_string();
            let mut src = std::error::Error::source(other);
            while let Some(e) = src {
                s = format!("{s}: {e}");
                src = e.source();
            }
            s
        }
    }
}

/// The service's error code, if the call reached it.
pub fn code<E, R>(e: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    match e {
        SdkError::ServiceError(s) => s.err().code(),
        _ => None,
    }
}
