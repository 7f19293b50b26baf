//! The durable-execution service over `aws-sdk-lambda`.
//!
//! The client is configured like the official SDKs' (5 s connect timeout, about 50 s per
//! attempt) but with the AWS client's own retries **disabled**: the batcher retries,
//! reusing the request's `ClientToken`, and needs to see every failure to do so. Every
//! client, a given one too, names the SDK in its user agent (`lib/lambda-durable/<version>`),
//! as the official SDKs do.

use std::time::Duration;

use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::timeout::TimeoutConfig;
use aws_sdk_lambda::config::FrameworkMetadata;
use aws_sdk_lambda::error::{ErrorMetadata, ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::checkpoint_durable_execution::CheckpointDurableExecutionError;
use aws_sdk_lambda::operation::get_durable_execution_state::GetDurableExecutionStateError;

use super::{BoxFuture, DurableService, ServiceError, ServiceErrorKind};
use crate::wire::{
    CheckpointDurableExecutionRequest, CheckpointDurableExecutionResponse,
    GetDurableExecutionStateRequest, GetDurableExecutionStateResponse,
};

mod convert;
#[cfg(test)]
mod tests;

/// Time allowed to open a connection to the service.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time allowed for one call, from sending the request to reading the whole response.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(50);

/// The durable-execution service over an `aws-sdk-lambda` client: what
/// [`lambda_durable::run`](crate::run) uses.
///
/// Whichever way it is made, its client adds `lib/lambda-durable/<version>` to the user
/// agent of every call, so that the service can tell which SDK and version made it.
///
/// ```no_run
/// use lambda_durable::service::AwsService;
///
/// # async fn example() {
/// // The endpoint, region and credentials of the environment, as `run` does:
/// let service = AwsService::from_env().await;
/// // Or from a configuration of your own (an endpoint, an HTTP client, credentials):
/// let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
///     .endpoint_url("http://127.0.0.1:5000")
///     .load()
///     .await;
/// let service = AwsService::from_sdk_config(&shared);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct AwsService {
    client: aws_sdk_lambda::Client,
}

impl AwsService {
    /// A service configured from the environment (`AWS_REGION`, credentials,
    /// `AWS_ENDPOINT_URL_LAMBDA`, ...) by `aws-config`, with the SDK's settings (see
    /// [`from_sdk_config`](Self::from_sdk_config)).
    pub async fn from_env() -> Self {
        let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::from_sdk_config(&shared)
    }

    /// A service whose client takes everything from `config` (region, endpoint,
    /// credentials, HTTP client, ...) but its retries and timeouts: the AWS client's
    /// retries are off, because the SDK retries checkpoints itself and must see every
    /// failure to do so, and each call has a 5 s connect timeout and 50 s in all, like the
    /// official SDKs' clients. For other settings, build the client yourself and use
    /// [`from_client`](Self::from_client).
    pub fn from_sdk_config(config: &aws_config::SdkConfig) -> Self {
        Self::from_conf(configure(aws_sdk_lambda::config::Builder::from(config)).build())
    }

    /// A service over `client`, used as it is configured (retries and timeouts included),
    /// with `lib/lambda-durable/<version>` added to its user agent. Leave the client's
    /// retries off (`RetryConfig::disabled()`) unless you mean to add retries to the
    /// SDK's own: every checkpoint failure the client retries is one the SDK does not see.
    pub fn from_client(client: aws_sdk_lambda::Client) -> Self {
        Self::from_conf(client.config().clone())
    }

    /// A service over a client built from `config`, with the SDK's user agent added.
    pub(crate) fn from_conf(config: aws_sdk_lambda::Config) -> Self {
        let mut builder = config.to_builder();
        if let Some(metadata) = user_agent() {
            builder.push_framework_metadata(metadata);
        }
        Self {
            client: aws_sdk_lambda::Client::from_conf(builder.build()),
        }
    }

    /// The AWS client the service calls through.
    pub fn client(&self) -> &aws_sdk_lambda::Client {
        &self.client
    }

    async fn call_checkpoint(
        &self,
        arn: &str,
        request: &CheckpointDurableExecutionRequest,
    ) -> Result<CheckpointDurableExecutionResponse, ServiceError> {
        let updates = convert::updates(&request.updates)?;
        let output = self
            .client
            .checkpoint_durable_execution()
            .durable_execution_arn(arn)
            .checkpoint_token(request.checkpoint_token.as_str())
            // Set explicitly: otherwise the client invents a new token on every `send()`, and
            // the service could not recognise the batcher's retries as repeats.
            .set_client_token(
                request
                    .client_token
                    .as_ref()
                    .map(|token| token.as_str().to_owned()),
            )
            // Always sent, as `[]` when empty, like the official SDKs.
            .set_updates(Some(updates))
            .send()
            .await
            .map_err(service_error)?;
        convert::checkpoint_response(output.checkpoint_token, output.new_execution_state)
    }

    async fn call_get_state(
        &self,
        arn: &str,
        request: &GetDurableExecutionStateRequest,
    ) -> Result<GetDurableExecutionStateResponse, ServiceError> {
        let max_items = request
            .max_items
            .map(|items| convert::to_i32(items, || "MaxItems".to_owned()))
            .transpose()?;
        let output = self
            .client
            .get_durable_execution_state()
            .durable_execution_arn(arn)
            .checkpoint_token(request.checkpoint_token.as_str())
            .set_marker(request.marker.clone())
            .set_max_items(max_items)
            .send()
            .await
            .map_err(service_error)?;
        convert::state_response(output.operations, output.next_marker)
    }
}

/// What the SDK adds to the user agent of its calls: `lib/lambda-durable/<version>`.
fn user_agent() -> Option<FrameworkMetadata> {
    // Both parts are made of characters the user agent allows; `None` is unreachable.
    FrameworkMetadata::new(SDK_NAME, Some(env!("CARGO_PKG_VERSION"))).ok()
}

/// The SDK's name in the user agent.
const SDK_NAME: &str = "lambda-durable";

/// Our settings on top of the shared configuration: timeouts, and no client-level retries.
fn configure(builder: aws_sdk_lambda::config::Builder) -> aws_sdk_lambda::config::Builder {
    builder
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .build(),
        )
}

impl DurableService for AwsService {
    fn checkpoint<'a>(
        &'a self,
        arn: &'a str,
        request: &'a CheckpointDurableExecutionRequest,
    ) -> BoxFuture<'a, Result<CheckpointDurableExecutionResponse, ServiceError>> {
        Box::pin(self.call_checkpoint(arn, request))
    }

    fn get_state<'a>(
        &'a self,
        arn: &'a str,
        request: &'a GetDurableExecutionStateRequest,
    ) -> BoxFuture<'a, Result<GetDurableExecutionStateResponse, ServiceError>> {
        Box::pin(self.call_get_state(arn, request))
    }

    /// Runs a checkpoint call through the AWS client up to the point where it would be
    /// sent, and stops it there: the endpoint is resolved, credentials are loaded into the
    /// client's cache, the request is signed, and the HTTP connector (with its TLS
    /// settings) is created and cached, as the first real call would otherwise do. Nothing
    /// is sent; the connection itself opens with the first call.
    fn warm_up(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let started = std::time::Instant::now();
            // Always an error (the call is stopped before it is sent); nothing to report.
            let _stopped = self
                .client
                .checkpoint_durable_execution()
                .durable_execution_arn(WARM_UP_ARN)
                .checkpoint_token("warm-up")
                .client_token("warm-up")
                .set_updates(Some(Vec::new()))
                .customize()
                .interceptor(StopBeforeSending)
                .send()
                .await;
            tracing::debug!(
                elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                "the AWS client is warmed up"
            );
        })
    }
}

/// A well-formed execution ARN for the warm-up call, which is never sent.
const WARM_UP_ARN: &str =
    "arn:aws:lambda:us-east-1:000000000000:function:warm-up:$LATEST/durable-execution/warm-up/0";

/// Stops a call right before it is sent, once it is signed, after creating the HTTP
/// connector the call would use (the client caches it for the calls that follow).
#[derive(Debug)]
struct StopBeforeSending;

impl aws_sdk_lambda::config::Intercept for StopBeforeSending {
    fn name(&self) -> &'static str {
        "lambda-durable warm-up"
    }

    fn read_before_transmit(
        &self,
        _context: &aws_sdk_lambda::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        components: &aws_sdk_lambda::config::RuntimeComponents,
        config: &mut aws_sdk_lambda::config::ConfigBag,
    ) -> Result<(), aws_sdk_lambda::error::BoxError> {
        if let Some(client) = components.http_client() {
            // The settings the client's orchestrator derives for every call, so that the
            // connector made here is the one the calls find in the cache.
            let timeouts = config.load::<TimeoutConfig>();
            let mut settings =
                aws_smithy_runtime_api::client::http::HttpConnectorSettings::builder();
            settings.set_connect_timeout(timeouts.and_then(TimeoutConfig::connect_timeout));
            settings.set_read_timeout(timeouts.and_then(TimeoutConfig::read_timeout));
            let _connector = aws_sdk_lambda::config::HttpClient::http_connector(
                &client,
                &settings.build(),
                components,
            );
        }
        Err("stopped before sending: a warm-up call".into())
    }
}

/// The modeled errors of an operation, classified.
trait ModeledError: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static {
    /// The kind of a modeled error; `None` for an unmodeled (unhandled) one.
    fn modeled_kind(&self) -> Option<ServiceErrorKind>;
}

macro_rules! modeled_errors {
    ($($error:ty),*) => {$(
        impl ModeledError for $error {
            fn modeled_kind(&self) -> Option<ServiceErrorKind> {
                Some(match self {
                    Self::InvalidParameterValueException(_) => ServiceErrorKind::InvalidParameter,
                    Self::TooManyRequestsException(_) => ServiceErrorKind::Throttled,
                    Self::ServiceException(_) => ServiceErrorKind::Server,
                    Self::KmsAccessDeniedException(_)
                    | Self::KmsDisabledException(_)
                    | Self::KmsInvalidStateException(_)
                    | Self::KmsNotFoundException(_) => ServiceErrorKind::Other,
                    _ => return None,
                })
            }
        }
    )*};
}

modeled_errors!(
    CheckpointDurableExecutionError,
    GetDurableExecutionStateError
);

/// Maps a failed call to a [`ServiceError`]. Messages come from the service's error
/// metadata or the SDK's error chain; neither carries request or response payloads.
fn service_error<E: ModeledError>(err: SdkError<E, HttpResponse>) -> ServiceError {
    let (kind, code) = match &err {
        SdkError::ServiceError(context) => {
            let error = context.err();
            let response = context.raw();
            let status = response.status().as_u16();
            // An error without a code is "unhandled", and the SDK then keeps the metadata it
            // parsed (the message) only as the error's source.
            let parsed = std::error::Error::source(error)
                .and_then(|source| source.downcast_ref::<ErrorMetadata>());
            let code = error
                .code()
                .or_else(|| parsed.and_then(ErrorMetadata::code))
                // When the body is not JSON the SDK drops the code; the header still has it.
                .or_else(|| {
                    response
                        .headers()
                        .get("x-amzn-errortype")
                        .map(sanitize_code)
                })
                .filter(|code| !code.is_empty())
                .map(str::to_owned);
            let kind = error
                .modeled_kind()
                .unwrap_or_else(|| unmodeled_kind(code.as_deref(), status));
            let message = error
                .message()
                .or_else(|| parsed.and_then(ErrorMetadata::message))
                .map_or_else(
                    || format!("HTTP {status} without a message: {}", error_chain(error)),
                    str::to_owned,
                );
            let code = code.unwrap_or_else(|| format!("HTTP {status}"));
            return ServiceError::new(kind, code, message).caused_by(err);
        }
        SdkError::DispatchFailure(_) => (ServiceErrorKind::Transport, "DispatchFailure"),
        SdkError::TimeoutError(_) => (ServiceErrorKind::Transport, "TimeoutError"),
        SdkError::ResponseError(_) => (ServiceErrorKind::Transport, "ResponseError"),
        SdkError::ConstructionFailure(_) => (ServiceErrorKind::Other, "ConstructionFailure"),
        _ => (ServiceErrorKind::Other, "SdkError"),
    };
    let message = error_chain(&err);
    ServiceError::new(kind, code, message).caused_by(err)
}

/// An error code as restJson1 reads it: without a `:...` suffix or a `namespace#` prefix.
fn sanitize_code(code: &str) -> &str {
    let code = code.split(':').next().unwrap_or(code);
    code.rsplit('#').next().unwrap_or(code)
}

/// An error and its sources, joined with `: `.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = err.to_string();
    let mut source = err.source();
    while let Some(err) = source {
        chain.push_str(": ");
        chain.push_str(&err.to_string());
        source = err.source();
    }
    chain
}

/// The kind of an error the operation's model does not list: by its code when we know it
/// (it may be modeled for other Lambda operations), else by the HTTP status.
fn unmodeled_kind(code: Option<&str>, status: u16) -> ServiceErrorKind {
    match code {
        Some("InvalidParameterValueException") => ServiceErrorKind::InvalidParameter,
        Some("TooManyRequestsException") => ServiceErrorKind::Throttled,
        Some("ServiceException") => ServiceErrorKind::Server,
        Some("ResourceNotFoundException") => ServiceErrorKind::NotFound,
        Some(code) if code.starts_with("KMS") => ServiceErrorKind::Other,
        _ => match status {
            429 => ServiceErrorKind::Throttled,
            500..=599 => ServiceErrorKind::Server,
            // A 400 without a code we know: most likely an emulator's
            // InvalidParameterValue (so an invalid-token message is still recognised).
            400 => ServiceErrorKind::InvalidParameter,
            404 => ServiceErrorKind::NotFound,
            // Other 4xx, and a 2xx whose body could not be read.
            _ => ServiceErrorKind::Other,
        },
    }
}
