//! The only I/O of the runtime: the durable-execution service behind a small trait, and
//! the batcher task that writes checkpoints to it. The trait, its AWS implementation and
//! its errors are public through [`crate::service`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::wire::{
    CheckpointDurableExecutionRequest, CheckpointDurableExecutionResponse,
    GetDurableExecutionStateRequest, GetDurableExecutionStateResponse,
};

pub(crate) mod aws;
pub(crate) mod batcher;

/// A boxed future, as returned by [`DurableService`] methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The two calls the SDK makes to the durable-execution service: the seam between the
/// SDK and its transport.
///
/// [`AwsService`](crate::service::AwsService) implements it over `aws-sdk-lambda`; the
/// local runner has its own in-process implementation. Implement it to put the SDK on
/// another transport, or wrap another implementation to observe its calls (metrics,
/// logging, a proxy), and give it to
/// [`RuntimeBuilder::durable_service`](crate::RuntimeBuilder::durable_service).
///
/// Both calls are made from one task per invocation, one at a time (checkpoints carry a
/// token that each response rotates). The SDK retries failures whose
/// [`ServiceErrorKind`] says they are transient, sending the same request again (with the
/// same `ClientToken`), so an implementation should not retry by itself; one that does
/// must keep the request as it is.
///
/// See the [`service`](crate::service) module for an example.
pub trait DurableService: Send + Sync + 'static {
    /// `CheckpointDurableExecution` for the execution `arn`: applies `request.updates` in
    /// order and answers with the next checkpoint token and the operations that changed.
    ///
    /// # Errors
    ///
    /// A [`ServiceError`] whose [kind](ServiceError::kind) tells the SDK whether to send
    /// the request again.
    fn checkpoint<'a>(
        &'a self,
        arn: &'a str,
        request: &'a CheckpointDurableExecutionRequest,
    ) -> BoxFuture<'a, Result<CheckpointDurableExecutionResponse, ServiceError>>;

    /// `GetDurableExecutionState` for the execution `arn`: one page of its operation log,
    /// from `request.marker`.
    ///
    /// # Errors
    ///
    /// As [`checkpoint`](Self::checkpoint).
    fn get_state<'a>(
        &'a self,
        arn: &'a str,
        request: &'a GetDurableExecutionStateRequest,
    ) -> BoxFuture<'a, Result<GetDurableExecutionStateResponse, ServiceError>>;

    /// Prepares what the first call would otherwise set up (an HTTP connector, TLS
    /// settings, credentials, signing): called once when the runtime starts, during the
    /// function's init, so that the first invocation's first checkpoint does not pay for
    /// it. It must not fail or make a call the service would act on. The runtime waits for
    /// it a short while (and lets it finish in the background after that). The default does
    /// nothing; a wrapper should forward it to the service it wraps.
    fn warm_up(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// A shared service is a service: one instance (an emulation of the service in a test, a
/// client with state) can serve several runtimes.
impl<S: DurableService + ?Sized> DurableService for std::sync::Arc<S> {
    fn checkpoint<'a>(
        &'a self,
        arn: &'a str,
        request: &'a CheckpointDurableExecutionRequest,
    ) -> BoxFuture<'a, Result<CheckpointDurableExecutionResponse, ServiceError>> {
        (**self).checkpoint(arn, request)
    }

    fn get_state<'a>(
        &'a self,
        arn: &'a str,
        request: &'a GetDurableExecutionStateRequest,
    ) -> BoxFuture<'a, Result<GetDurableExecutionStateResponse, ServiceError>> {
        (**self).get_state(arn, request)
    }

    fn warm_up(&self) -> BoxFuture<'_, ()> {
        (**self).warm_up()
    }
}

/// What kind of failure a call to the durable-execution service had; it decides whether
/// the SDK sends the call again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServiceErrorKind {
    /// 400 `InvalidParameterValueException` (including an invalid checkpoint token).
    InvalidParameter,
    /// 429 `TooManyRequestsException`.
    Throttled,
    /// A 5xx `ServiceException`.
    Server,
    /// The request never got an answer: connection refused or reset, timeout.
    Transport,
    /// 404 `ResourceNotFoundException`.
    NotFound,
    /// Any other error (KMS errors, access denied, unknown codes).
    Other,
    /// An answer this SDK version cannot read (a value that breaks its schemas, from a
    /// newer service). Sending the request again does not help, but it is not the
    /// execution's fault either: the invocation ends with a function error, so that Lambda
    /// invokes it again and a newer SDK can continue the execution.
    UnreadableResponse,
}

/// A failed call to the durable-execution service (a checkpoint or a state read): the
/// [source](std::error::Error::source) of an [`Error::Checkpoint`](crate::Error::Checkpoint).
///
/// Its own source, when the call went through the AWS SDK, is the AWS SDK's error
/// (`aws_sdk_lambda::error::SdkError`), down to the connection's error. Cloning shares it.
#[derive(Debug, Clone)]
pub struct ServiceError {
    pub(crate) kind: ServiceErrorKind,
    pub(crate) code: String,
    pub(crate) message: String,
    /// The transport's own error (the AWS SDK's), when the call went through one.
    pub(crate) source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ServiceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // Through the `Arc` to the error itself, so that it downcasts to its own type.
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

impl ServiceError {
    /// What kind of failure it was.
    pub fn kind(&self) -> ServiceErrorKind {
        self.kind
    }

    /// The service's error code (for example `TooManyRequestsException`), or what the
    /// transport failed with (for example `DispatchFailure`).
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The service's message, or the transport error's chain.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl ServiceError {
    /// An error of kind `kind`, with the service's error `code` (for example
    /// `TooManyRequestsException`, or a name for a transport failure) and `message`.
    ///
    /// ```
    /// use lambda_durable::{ServiceError, ServiceErrorKind};
    ///
    /// let err = ServiceError::new(ServiceErrorKind::Throttled, "TooManyRequestsException", "slow down");
    /// assert_eq!(err.to_string(), "TooManyRequestsException: slow down");
    /// ```
    pub fn new(
        kind: ServiceErrorKind,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            code: code.into(),
            message: message.into(),
            source: None,
        }
    }

    /// The same error, caused by `source` (the transport's own error), which becomes its
    /// [source](std::error::Error::source).
    pub fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// The SDK error of a checkpoint or state call that failed with this error: `message`
    /// says what failed, and this error stays its source.
    pub(crate) fn into_checkpoint_error(self, message: String, retryable: bool) -> crate::Error {
        crate::Error::Checkpoint {
            message,
            retryable,
            source: Some(self),
        }
    }

    /// Whether this is the service's `InvalidParameterValueException` about the checkpoint
    /// token (matched without regard to case: the service and its emulators spell it
    /// differently), which the SDK answers by sending the call again with the newest
    /// token it has.
    pub fn is_invalid_token(&self) -> bool {
        self.kind == ServiceErrorKind::InvalidParameter
            && self
                .message
                .get(..24)
                .is_some_and(|prefix| prefix.eq_ignore_ascii_case("invalid checkpoint token"))
    }

    /// Whether the invocation must end with a function error at once (see
    /// [`ServiceErrorKind::UnreadableResponse`]).
    pub(crate) fn ends_invocation(&self) -> bool {
        self.kind == ServiceErrorKind::UnreadableResponse
    }

    /// Whether the same request may succeed when sent again, so that the SDK retries it
    /// (with backoff, see [`CheckpointConfig::retry_backoff`](crate::CheckpointConfig::retry_backoff)):
    /// throttling, server errors, transport failures and an invalid checkpoint token.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            ServiceErrorKind::Throttled | ServiceErrorKind::Server | ServiceErrorKind::Transport
        ) || self.is_invalid_token()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_errors() {
        let token = ServiceError::new(
            ServiceErrorKind::InvalidParameter,
            "InvalidParameterValueException",
            "Invalid checkpoint token",
        );
        assert!(token.is_invalid_token() && token.is_transient());
        let token = ServiceError::new(
            ServiceErrorKind::InvalidParameter,
            "InvalidParameterValueException",
            "Invalid Checkpoint Token: stale",
        );
        assert!(token.is_invalid_token());
        let other = ServiceError::new(
            ServiceErrorKind::InvalidParameter,
            "InvalidParameterValueException",
            "Invalid parent operation id.",
        );
        assert!(!other.is_transient());
        for kind in [
            ServiceErrorKind::Throttled,
            ServiceErrorKind::Server,
            ServiceErrorKind::Transport,
        ] {
            assert!(ServiceError::new(kind, "x", "y").is_transient());
        }
        assert!(
            !ServiceError::new(ServiceErrorKind::Other, "KMSDisabledException", "y").is_transient()
        );
    }
}
