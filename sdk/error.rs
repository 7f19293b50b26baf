//! Errors of durable operations and of the SDK itself.

use std::fmt;

use crate::wire::ErrorObject;

/// Names one durable operation in error messages: its kind, its name if it has one, and
/// its operation id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRef {
    kind: &'static str,
    id: String,
    name: Option<String>,
}

impl OperationRef {
    pub(crate) fn new(kind: &'static str, id: &str, name: Option<&str>) -> Self {
        Self {
            kind,
            id: id.to_string(),
            name: name.map(str::to_string),
        }
    }

    /// The operation id (as checkpointed).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The operation's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl fmt::Display for OperationRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{} {name:?} (id {})", self.kind, self.id),
            None => write!(f, "{} (id {})", self.kind, self.id),
        }
    }
}

/// The failure of a durable operation, or of the SDK while running one.
///
/// Errors that come from a checkpointed failure (for example [`Error::StepFailed`]) are
/// rebuilt from the recorded [`ErrorObject`], so the first run and every replay see the same
/// error type and message.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A step failed and its retry strategy gave up (or the failure was replayed).
    #[error("{operation} failed: {}", describe(error))]
    StepFailed {
        /// The step.
        operation: OperationRef,
        /// The recorded error of the last attempt.
        error: Box<ErrorObject>,
    },
    /// A child context (or a map item or parallel branch) failed.
    #[error("{operation} failed: {}", describe(error))]
    ChildContextFailed {
        /// The child context.
        operation: OperationRef,
        /// The recorded error that left the child context.
        error: Box<ErrorObject>,
    },
    /// A callback was completed with a failure by the external system.
    #[error("{operation} failed: {}", describe(error))]
    CallbackFailed {
        /// The callback.
        operation: OperationRef,
        /// The error the external system sent.
        error: Box<ErrorObject>,
    },
    /// A callback timed out (`Callback.Timeout`) or missed a heartbeat
    /// (`Callback.Heartbeat`).
    #[error("{operation} timed out: {}", describe(error))]
    CallbackTimedOut {
        /// The callback.
        operation: OperationRef,
        /// The service's timeout error.
        error: Box<ErrorObject>,
    },
    /// An invoked function failed.
    #[error("{operation} failed: {}", describe(error))]
    InvokeFailed {
        /// The invoke.
        operation: OperationRef,
        /// The target's error.
        error: Box<ErrorObject>,
    },
    /// An invoked function did not finish in time.
    #[error("{operation} timed out: {}", describe(error))]
    InvokeTimedOut {
        /// The invoke.
        operation: OperationRef,
        /// The service's error.
        error: Box<ErrorObject>,
    },
    /// An invoked durable execution was stopped.
    #[error("{operation} was stopped: {}", describe(error))]
    InvokeStopped {
        /// The invoke.
        operation: OperationRef,
        /// The service's error.
        error: Box<ErrorObject>,
    },
    /// A wait-for-condition check failed, or its strategy gave up.
    #[error("{operation} failed: {}", describe(error))]
    WaitForConditionFailed {
        /// The wait-for-condition operation.
        operation: OperationRef,
        /// The recorded error.
        error: Box<ErrorObject>,
    },
    /// Every operation given to [`DurableContext::any`](crate::DurableContext::any) failed.
    #[error(
        "{operation}: all {count} operations failed; the first: {}",
        describe(error)
    )]
    AllFailed {
        /// The combinator.
        operation: OperationRef,
        /// How many operations there were.
        count: usize,
        /// The recorded error of the first operation.
        error: Box<ErrorObject>,
    },
    /// The code asked for a different operation than the one recorded at this position, so
    /// the handler is not deterministic. The execution fails even if this error is caught.
    #[error("non-deterministic execution: at operation id {id} the code asked for {expected} but the execution history has {found}")]
    NonDeterministic {
        /// The operation id at which the mismatch was found.
        id: String,
        /// What the code asked for (type, sub type and name).
        expected: String,
        /// What the history holds.
        found: String,
    },
    /// A value could not be serialized or deserialized.
    #[error("{operation}: cannot {action} the value: {message}")]
    Serialization {
        /// The operation whose value failed.
        operation: OperationRef,
        /// `serialize` or `deserialize`.
        action: &'static str,
        /// The serializer's message.
        message: String,
    },
    /// An operation was called with an argument the service would reject.
    #[error("{operation}: invalid argument: {message}")]
    InvalidArgument {
        /// The operation.
        operation: OperationRef,
        /// What is wrong.
        message: String,
    },
    /// A value an operation was about to checkpoint (a step's result, a wait-for-condition
    /// state, an invoke's input) is larger than the service accepts for that operation
    /// (1 MiB; see the README's section on limits). It is raised before anything is sent,
    /// so it is the same on Lambda and on the local runner, and nothing is checkpointed for
    /// the value: a step whose result is too large is not retried and, if the error is
    /// caught, runs again on the next invocation.
    #[error("{operation}: the {what} is {size} bytes; the service accepts at most {limit} bytes")]
    #[non_exhaustive]
    PayloadTooLarge {
        /// The operation.
        operation: OperationRef,
        /// Which value: `result`, `state` or `payload`.
        what: &'static str,
        /// Its size in bytes (serialized, UTF-8).
        size: usize,
        /// The service's limit in bytes.
        limit: usize,
    },
    /// The durable-execution service failed and the SDK's own retries did not help.
    #[error("checkpoint failed: {message}")]
    Checkpoint {
        /// What the service said.
        message: String,
        /// Whether a later invocation may succeed (the invocation then fails with a function
        /// error, so that Lambda invokes it again, instead of failing the execution).
        retryable: bool,
    },
    /// The invocation input could not be understood.
    #[error("invalid invocation input: {0}")]
    InvalidInput(String),
}

fn describe(error: &ErrorObject) -> String {
    match (&error.error_type, &error.error_message) {
        (Some(ty), Some(message)) => format!("{ty}: {message}"),
        (Some(ty), None) => ty.clone(),
        (None, Some(message)) => message.clone(),
        (None, None) => "unknown error".to_string(),
    }
}

impl Error {
    /// The `ErrorType` this error has when it ends the execution (for example `StepError`).
    pub fn error_type(&self) -> &'static str {
        match self {
            Error::StepFailed { .. } => "StepError",
            Error::ChildContextFailed { .. } => "ChildContextError",
            Error::CallbackFailed { .. } => "CallbackError",
            Error::CallbackTimedOut { .. } => "CallbackTimeoutError",
            Error::InvokeFailed { .. }
            | Error::InvokeTimedOut { .. }
            | Error::InvokeStopped { .. } => "InvokeError",
            Error::WaitForConditionFailed { .. } => "WaitForConditionError",
            Error::AllFailed { .. } => "CombinatorError",
            Error::NonDeterministic { .. } => "NonDeterministicExecutionError",
            Error::Serialization { .. } => "SerdesError",
            Error::InvalidArgument { .. } => "ValidationError",
            Error::PayloadTooLarge { .. } => "PayloadTooLargeError",
            Error::Checkpoint { .. } => "CheckpointError",
            Error::InvalidInput(_) => "InvalidInputError",
        }
    }

    /// The recorded error of the failed operation, for errors that carry one.
    pub fn recorded(&self) -> Option<&ErrorObject> {
        match self {
            Error::StepFailed { error, .. }
            | Error::ChildContextFailed { error, .. }
            | Error::CallbackFailed { error, .. }
            | Error::CallbackTimedOut { error, .. }
            | Error::InvokeFailed { error, .. }
            | Error::InvokeTimedOut { error, .. }
            | Error::InvokeStopped { error, .. }
            | Error::WaitForConditionFailed { error, .. }
            | Error::AllFailed { error, .. } => Some(error.as_ref()),
            _ => None,
        }
    }

    /// The error as it is checkpointed or returned to the service: cut down to the
    /// service's limit on errors (32 KiB of JSON) if it is larger, with a note in the
    /// message that it was truncated.
    pub fn to_error_object(&self) -> ErrorObject {
        crate::limits::truncate_error(match self.recorded() {
            Some(error) => ErrorObject {
                error_type: Some(self.error_type().to_string()),
                error_message: error.error_message.clone(),
                error_data: error.error_data.clone(),
                stack_trace: error.stack_trace.clone(),
            },
            None => error_object(self.error_type(), &self.to_string()),
        })
    }

    /// Whether this error must end the execution even when user code catches it.
    pub(crate) fn is_fatal(&self) -> bool {
        matches!(
            self,
            Error::NonDeterministic { .. } | Error::Checkpoint { .. }
        )
    }
}

/// Builds an [`ErrorObject`] with a type and a message.
pub(crate) fn error_object(error_type: &str, message: &str) -> ErrorObject {
    ErrorObject {
        error_type: Some(error_type.to_string()),
        error_message: Some(message.to_string()),
        error_data: None,
        stack_trace: Vec::new(),
    }
}

/// The short name of a type, used as the `ErrorType` of a user error: the last path
/// segment without generic arguments (`my_app::PaymentError` gives `PaymentError`).
/// Type-erased errors (boxed trait objects, strings, `anyhow::Error`) give `Error`.
pub(crate) fn short_type_name<E: ?Sized>() -> String {
    let full = std::any::type_name::<E>();
    let base = full.split('<').next().unwrap_or(full);
    let short = base.rsplit("::").next().unwrap_or(base);
    let erased = base.starts_with("alloc::boxed::Box")
        || matches!(short, "String" | "str" | "&str" | "Error" | "")
        || short.starts_with("dyn ")
        || short.starts_with('&');
    if erased {
        "Error".to_string()
    } else {
        short.to_string()
    }
}

/// Converts a user error into the [`ErrorObject`] that is checkpointed for it. An SDK
/// [`Error`] keeps its own type (e.g. `StepError`); other errors use their type name.
/// Errors over the service's limit are truncated ([`crate::limits::truncate_error`]).
pub(crate) fn user_error_object<E>(error: E) -> ErrorObject
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let type_name = short_type_name::<E>();
    let boxed: Box<dyn std::error::Error + Send + Sync> = error.into();
    match boxed.downcast::<Error>() {
        Ok(sdk_error) => sdk_error.to_error_object(),
        Err(other) => crate::limits::truncate_error(error_object(&type_name, &other.to_string())),
    }
}

/// The `ErrorType` of a panic in user code.
pub(crate) const PANIC_ERROR_TYPE: &str = "Panic";

/// The error object of a panic in user code: its message when the payload is a string (as
/// with `panic!("...")`), else a generic one.
pub(crate) fn panic_error_object(payload: &(dyn std::any::Any + Send)) -> ErrorObject {
    let message = payload
        .downcast_ref::<&str>()
        .map(|message| (*message).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with a payload that is not a string".to_string());
    error_object(PANIC_ERROR_TYPE, &format!("panicked: {message}"))
}

/// Runs user code (a step body, a check, a branch), turning a panic into a failure with
/// [`panic_error_object`], so that it is recorded and offered to the retry strategy like
/// any other failure instead of unwinding through the SDK. Needs `panic = "unwind"` (the
/// default); with `panic = "abort"` the process ends.
pub(crate) async fn catch_panic<T>(
    future: impl std::future::Future<Output = Result<T, ErrorObject>>,
) -> Result<T, ErrorObject> {
    unwind_to_error(future).await.and_then(|outcome| outcome)
}

/// The output of `future`, or the [`panic_error_object`] of a panic while it was polled.
pub(crate) async fn unwind_to_error<F: std::future::Future>(
    future: F,
) -> Result<F::Output, ErrorObject> {
    use futures_util::FutureExt;
    std::panic::AssertUnwindSafe(future)
        .catch_unwind()
        .await
        .map_err(|payload| panic_error_object(&*payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("card declined")]
    struct PaymentError;

    #[test]
    fn user_errors_keep_their_type_name() {
        let obj = user_error_object(PaymentError);
        assert_eq!(obj.error_type.as_deref(), Some("PaymentError"));
        assert_eq!(obj.error_message.as_deref(), Some("card declined"));
        let obj = user_error_object("plain text");
        assert_eq!(obj.error_type.as_deref(), Some("Error"));
        assert_eq!(obj.error_message.as_deref(), Some("plain text"));
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(PaymentError);
        assert_eq!(
            user_error_object(boxed).error_type.as_deref(),
            Some("Error")
        );
    }

    #[test]
    fn sdk_errors_keep_their_wrapper_type() {
        let err = Error::StepFailed {
            operation: OperationRef::new("step", "abc", Some("charge")),
            error: Box::new(error_object("PaymentError", "card declined")),
        };
        assert_eq!(
            err.to_string(),
            "step \"charge\" (id abc) failed: PaymentError: card declined"
        );
        let obj = user_error_object(err);
        assert_eq!(obj.error_type.as_deref(), Some("StepError"));
        assert_eq!(obj.error_message.as_deref(), Some("card declined"));
    }
}
