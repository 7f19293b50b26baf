//! The only I/O of the runtime: the durable-execution service behind a small trait, and
//! the batcher task that writes checkpoints to it.

use std::future::Future;
use std::pin::Pin;

use crate::wire::{
    CheckpointDurableExecutionRequest, CheckpointDurableExecutionResponse,
    GetDurableExecutionStateRequest, GetDurableExecutionStateResponse,
};

pub(crate) mod aws;
pub(crate) mod batcher;

/// A boxed future, as returned by [`DurableService`] methods.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The two calls the runtime makes to the durable-execution service.
pub(crate) trait DurableService: Send + Sync + 'static {
    /// `CheckpointDurableExecution`: applies updates, rotates the token.
    fn checkpoint<'a>(
        &'a self,
        arn: &'a str,
        request: &'a CheckpointDurableExecutionRequest,
    ) -> BoxFuture<'a, Result<CheckpointDurableExecutionResponse, ServiceError>>;

    /// `GetDurableExecutionState`: one page of the operation log.
    fn get_state<'a>(
        &'a self,
        arn: &'a str,
        request: &'a GetDurableExecutionStateRequest,
    ) -> BoxFuture<'a, Result<GetDurableExecutionStateResponse, ServiceError>>;
}

/// What kind of failure a service call had; decides whether it is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServiceErrorKind {
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

/// A failed service call.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub(crate) struct ServiceError {
    pub(crate) kind: ServiceErrorKind,
    pub(crate) code: String,
    pub(crate) message: String,
}

impl ServiceError {
    pub(crate) fn new(kind: ServiceErrorKind, code: &str, message: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// An `InvalidParameterValueException` about the checkpoint token (matched without
    /// regard to case: the service and its emulators spell it differently).
    pub(crate) fn is_invalid_token(&self) -> bool {
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

    /// Whether the same request may succeed when sent again.
    pub(crate) fn is_transient(&self) -> bool {
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
