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
/// Errors come in two families, told apart by [`Error::kind`]:
///
/// - **Recorded outcomes** ([`ErrorKind::Recorded`]): the operation ran and its failure is
///   part of the execution's history: a step failed after its retries, a callback failed or
///   timed out, an invoke failed, timed out or was stopped, a child context, branch or
///   wait-for-condition failed, every operand of [`any`](crate::DurableContext::any)
///   failed. They are rebuilt from the recorded [`ErrorObject`] ([`Error::recorded`]), so
///   the first run and every replay see the same error type, message and data
///   ([`Error::downcast`]); handle them like any business result.
/// - **SDK failures** ([`ErrorKind::Sdk`]): the SDK could not do what the code asked: a
///   value did not serialize, an argument or payload breaks the service's rules, the
///   checkpoint service failed, the code is not deterministic, a record is of a newer
///   protocol, the invocation input is malformed. Nothing is recorded for them. Those for
///   which [`Error::ends_execution`] is true end the invocation even when the code catches
///   them. Their causes are kept as [`source`](std::error::Error::source)s (the
///   serializer's error, the service call's error), never recorded.
///
/// `Error` is not `Clone`: its sources need not be.
#[derive(Debug, thiserror::Error)]
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
    /// Replay reached a recorded operation that this SDK version cannot interpret: its type
    /// or status is a value its schemas do not list (a newer service recorded it). Only
    /// reaching the operation fails; operations replay never reaches do not matter. Upgrade
    /// the SDK; the execution fails even if this error is caught.
    #[error("this SDK version does not know {what} of operation {id}; upgrade the SDK")]
    UnknownProtocolValue {
        /// The operation id.
        id: String,
        /// What is not known, e.g. `operation status "PAUSED"`.
        what: String,
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
        /// The serializer's error (for example a [`SerdesError`](crate::serdes::SerdesError)
        /// with the `serde_json` error behind it), when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
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
        /// The service call's error (its code and kind, and the AWS SDK's error behind
        /// it), when the failure came from a call.
        #[source]
        source: Option<crate::ServiceError>,
    },
    /// The invocation input could not be understood.
    #[error("invalid invocation input: {message}")]
    InvalidInput {
        /// What is wrong.
        message: String,
        /// The parser's error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

fn describe(error: &ErrorObject) -> String {
    match (&error.error_type, &error.error_message) {
        (Some(ty), Some(message)) => format!("{ty}: {message}"),
        (Some(ty), None) => ty.clone(),
        (None, Some(message)) => message.clone(),
        (None, None) => "unknown error".to_string(),
    }
}

/// The family of an [`Error`]: see [`Error::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The recorded outcome of an operation: the same on every replay.
    Recorded,
    /// A failure of the SDK or of how it was called: nothing is recorded for it.
    Sdk,
}

impl Error {
    /// Whether this error is a recorded outcome of an operation or an SDK failure.
    ///
    /// ```
    /// use lambda_durable::{DurableContext, Error, ErrorKind};
    ///
    /// async fn charge(ctx: &DurableContext) -> Result<String, Error> {
    ///     match ctx.step("charge", |_| async { Err::<String, _>("card declined") }).await {
    ///         Ok(receipt) => Ok(receipt),
    ///         // The step's recorded failure: a business outcome, handled on every replay.
    ///         Err(err) if err.kind() == ErrorKind::Recorded => Ok(format!("not charged: {err}")),
    ///         // Anything else is the SDK's: pass it on.
    ///         Err(err) => Err(err),
    ///     }
    /// }
    /// ```
    pub fn kind(&self) -> ErrorKind {
        if self.recorded().is_some() {
            ErrorKind::Recorded
        } else {
            ErrorKind::Sdk
        }
    }

    /// Whether this error ends the invocation even when the code catches it: the checkpoint
    /// service failed ([`Error::Checkpoint`]; the invocation ends with a function error when
    /// a later one may succeed, else the execution fails), the code is not deterministic
    /// ([`Error::NonDeterministic`]), or replay reached a record of a newer protocol
    /// ([`Error::UnknownProtocolValue`]). Code may catch it to clean up, but whatever it
    /// returns, the invocation ends with this error.
    pub fn ends_execution(&self) -> bool {
        self.is_fatal()
    }

    /// The operation this error is about, when it is about one.
    pub fn operation(&self) -> Option<&OperationRef> {
        match self {
            Error::StepFailed { operation, .. }
            | Error::ChildContextFailed { operation, .. }
            | Error::CallbackFailed { operation, .. }
            | Error::CallbackTimedOut { operation, .. }
            | Error::InvokeFailed { operation, .. }
            | Error::InvokeTimedOut { operation, .. }
            | Error::InvokeStopped { operation, .. }
            | Error::WaitForConditionFailed { operation, .. }
            | Error::AllFailed { operation, .. }
            | Error::Serialization { operation, .. }
            | Error::InvalidArgument { operation, .. }
            | Error::PayloadTooLarge { operation, .. } => Some(operation),
            Error::NonDeterministic { .. }
            | Error::UnknownProtocolValue { .. }
            | Error::Checkpoint { .. }
            | Error::InvalidInput { .. } => None,
        }
    }

    /// A checkpoint failure with no service error behind it.
    pub(crate) fn checkpoint(message: impl Into<String>, retryable: bool) -> Self {
        Error::Checkpoint {
            message: message.into(),
            retryable,
            source: None,
        }
    }

    /// A malformed invocation input.
    pub(crate) fn invalid_input(message: impl Into<String>) -> Self {
        Error::InvalidInput {
            message: message.into(),
            source: None,
        }
    }

    /// A value of `operation` that does not (de)serialize; `action` is `"serialize"` or
    /// `"deserialize"`.
    pub(crate) fn serialization(
        operation: OperationRef,
        action: &'static str,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        let source = cause.into();
        Error::Serialization {
            operation,
            action,
            message: source.to_string(),
            source: Some(source),
        }
    }

    /// A copy of a fatal error (see [`ends_execution`](Self::ends_execution)), the form in
    /// which a latched error reaches every operation and the invocation's end: their
    /// fields are plain data and a shared source. `None` for any other error, which is
    /// never latched.
    pub(crate) fn fatal_copy(&self) -> Option<Error> {
        match self {
            Error::NonDeterministic {
                id,
                expected,
                found,
            } => Some(Error::NonDeterministic {
                id: id.clone(),
                expected: expected.clone(),
                found: found.clone(),
            }),
            Error::UnknownProtocolValue { id, what } => Some(Error::UnknownProtocolValue {
                id: id.clone(),
                what: what.clone(),
            }),
            Error::Checkpoint {
                message,
                retryable,
                source,
            } => Some(Error::Checkpoint {
                message: message.clone(),
                retryable: *retryable,
                source: source.clone(),
            }),
            _ => None,
        }
    }

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
            Error::UnknownProtocolValue { .. } => "UnknownProtocolValueError",
            Error::Serialization { .. } => "SerdesError",
            Error::InvalidArgument { .. } => "ValidationError",
            Error::PayloadTooLarge { .. } => "PayloadTooLargeError",
            Error::Checkpoint { .. } => "CheckpointError",
            Error::InvalidInput { .. } => "InvalidInputError",
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

    /// The [`TypedError`] this error was recorded from, rebuilt from the recorded
    /// `ErrorType` and `ErrorData`: the same on the first run and on every replay. `None`
    /// when the recorded error is of another type (or is not a recorded failure).
    ///
    /// The error is the one returned at the level it failed: a step's error from the step,
    /// a branch's from its item. An SDK error passed on with `?` out of a child context or
    /// branch is recorded as that error (`StepError`, ...), so downcast it where it was
    /// returned, or return the typed error itself.
    pub fn downcast<E: TypedError>(&self) -> Option<E> {
        let recorded = self.recorded()?;
        typed_from(
            recorded.error_type.as_deref(),
            recorded.error_data.as_deref(),
        )
    }

    /// Whether this error must end the execution even when user code catches it.
    pub(crate) fn is_fatal(&self) -> bool {
        matches!(
            self,
            Error::NonDeterministic { .. }
                | Error::UnknownProtocolValue { .. }
                | Error::Checkpoint { .. }
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

/// The `ErrorType` this SDK records for a user error of type `E` that does not choose its
/// own with [`TypedError`]: the type's path without generic arguments (`Box<dyn Error>` for
/// boxed errors, `String` for string errors). A test can compare a recorded error with it
/// instead of spelling the path out.
///
/// ```
/// #[derive(Debug, thiserror::Error)]
/// #[error("card declined")]
/// struct Declined;
///
/// assert!(lambda_durable::error_type_name::<Declined>().ends_with("::Declined"));
/// assert_eq!(lambda_durable::error_type_name::<String>(), "String");
/// ```
pub fn error_type_name<E: ?Sized>() -> String {
    short_type_name::<E>()
}

/// The `ErrorType` recorded for a user error of type `E` that does not choose its own (see
/// [`TypedError`]): the type's path without generic arguments, so that distinct types
/// never share a name (`my_app::billing::Error` and `my_app::shipping::Error` stay apart).
/// Type-erased errors record what they are: `Box<dyn Error>` for boxed errors (their
/// concrete type is not known), `String` for string errors.
pub(crate) fn short_type_name<E: ?Sized>() -> String {
    let full = std::any::type_name::<E>();
    let base = full.split('<').next().unwrap_or(full);
    if base.ends_with("boxed::Box") || full.starts_with("dyn ") {
        "Box<dyn Error>".to_string()
    } else if matches!(
        base,
        "alloc::string::String" | "&str" | "str" | "&alloc::string::String"
    ) {
        "String".to_string()
    } else {
        base.trim_start_matches('&').to_string()
    }
}

/// Whether a recorded `ErrorType` names the type `wanted`: the same path, or a path that
/// ends with `::wanted` (so `PaymentError` names `my_app::PaymentError`).
pub(crate) fn type_matches(recorded: &str, wanted: &str) -> bool {
    recorded == wanted
        || recorded
            .strip_suffix(wanted)
            .is_some_and(|head| head.ends_with("::"))
}

/// A business error that keeps its type across retries and replays.
///
/// Implement it (it needs `Serialize` and `Deserialize`) for an error type whose values
/// callers should get back, fields and all, rather than as a type name and a message.
/// Return it from a step, a branch, a child context or a callback submitter through an
/// [`ErrorRecord`] (`?` converts it): the SDK records [`TypedError::error_type`] as the
/// `ErrorType` and the value as JSON in `ErrorData`. After the retries run out, on the
/// first run and on every replay, [`Error::downcast`] gives the value back, and a retry
/// strategy can decide on it ([`FailedAttempt::downcast`](crate::retry::FailedAttempt::downcast)).
///
/// ```
/// use lambda_durable::{DurableContext, Error, ErrorRecord, TypedError};
///
/// #[derive(Debug, thiserror::Error, serde::Serialize, serde::Deserialize)]
/// enum PaymentError {
///     #[error("card declined: {reason}")]
///     Declined { reason: String },
///     #[error("the payment gateway is down")]
///     Unavailable,
/// }
///
/// impl TypedError for PaymentError {}
///
/// async fn charge(ctx: &DurableContext, cents: u64) -> Result<String, Error> {
///     let receipt = ctx
///         .step("charge", |_| async move {
///             if cents > 10_000 {
///                 Err(PaymentError::Declined { reason: "over the limit".into() })?;
///             }
///             Ok::<_, ErrorRecord>(format!("receipt for {cents}"))
///         })
///         .await;
///     match receipt {
///         Err(err) => match err.downcast::<PaymentError>() {
///             Some(PaymentError::Declined { reason }) => Ok(format!("declined: {reason}")),
///             _ => Err(err),
///         },
///         ok => ok,
///     }
/// }
/// ```
pub trait TypedError:
    std::error::Error + serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static
{
    /// The `ErrorType` recorded for errors of this type, by which [`Error::downcast`]
    /// recognizes them. By default the type's path (`my_app::PaymentError`); override it
    /// to keep recorded errors recognizable when the type moves or is renamed.
    fn error_type() -> String {
        short_type_name::<Self>()
    }
}

/// A user error with the `ErrorType`, message and `ErrorData` to record for it.
///
/// Step bodies, branches, child contexts and callback submitters may fail with any error
/// type; most record its type name and message. An `ErrorRecord` records exactly what it
/// holds: made from a [`TypedError`] (with `?` or `From`), it keeps the value in `ErrorData`
/// so that [`Error::downcast`] can rebuild it; made with [`ErrorRecord::new`], it records
/// the type and message given, with [`ErrorRecord::with_data`] for data.
#[derive(Debug)]
pub struct ErrorRecord {
    object: ErrorObject,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ErrorRecord {
    /// An error recorded with this `ErrorType` and message.
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            object: ErrorObject {
                error_type: Some(error_type.into()),
                error_message: Some(message.into()),
                error_data: None,
                stack_trace: Vec::new(),
            },
            source: None,
        }
    }

    /// Records `data` as JSON in `ErrorData` (a value that does not serialize is left out).
    pub fn with_data(mut self, data: &impl serde::Serialize) -> Self {
        self.object.error_data = serde_json::to_string(data).ok();
        self
    }

    /// The recorded `ErrorType`.
    pub fn error_type(&self) -> &str {
        self.object.error_type.as_deref().unwrap_or_default()
    }

    /// The recorded `ErrorData`, if any.
    pub fn error_data(&self) -> Option<&str> {
        self.object.error_data.as_deref()
    }

    pub(crate) fn into_object(self) -> ErrorObject {
        self.object
    }
}

impl<E: TypedError> From<E> for ErrorRecord {
    fn from(error: E) -> Self {
        let mut record = ErrorRecord::new(E::error_type(), error.to_string()).with_data(&error);
        record.source = Some(Box::new(error));
        record
    }
}

impl fmt::Display for ErrorRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.object.error_message.as_deref().unwrap_or_default())
    }
}

impl std::error::Error for ErrorRecord {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

/// The error of an operation whose declaration names its error type `E` (see the typed
/// workflows section of the README): the declared error, rebuilt from the record on the
/// first run and on every replay, or any other failure.
///
/// `?` turns it into an [`Error`] (the failure it came from).
#[derive(Debug)]
pub enum DeclaredError<E> {
    /// The operation failed with its declared error.
    Declared {
        /// The declared error.
        error: E,
        /// The failure it was recorded as (for example [`Error::StepFailed`]).
        failure: Error,
    },
    /// Any other failure: an SDK error, or an error recorded without the declared type.
    Other(Error),
}

impl<E> DeclaredError<E> {
    /// The declared error, if that is what the operation failed with.
    pub fn declared(&self) -> Option<&E> {
        match self {
            DeclaredError::Declared { error, .. } => Some(error),
            DeclaredError::Other(_) => None,
        }
    }

    /// The failure as an [`Error`].
    pub fn into_error(self) -> Error {
        match self {
            DeclaredError::Declared { failure, .. } | DeclaredError::Other(failure) => failure,
        }
    }
}

impl<E: TypedError> From<Error> for DeclaredError<E> {
    fn from(failure: Error) -> Self {
        match failure.downcast::<E>() {
            Some(error) => DeclaredError::Declared { error, failure },
            None => DeclaredError::Other(failure),
        }
    }
}

impl<E> From<DeclaredError<E>> for Error {
    fn from(error: DeclaredError<E>) -> Self {
        error.into_error()
    }
}

impl<E> fmt::Display for DeclaredError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeclaredError::Declared { failure, .. } | DeclaredError::Other(failure) => {
                failure.fmt(f)
            }
        }
    }
}

impl<E: fmt::Debug> std::error::Error for DeclaredError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DeclaredError::Declared { failure, .. } | DeclaredError::Other(failure) => {
                Some(failure)
            }
        }
    }
}

/// The typed error of type `E` in a recorded error object, if it holds one: its
/// `ErrorType` names `E` and its `ErrorData` deserializes as `E`.
pub(crate) fn typed_from<E: TypedError>(error_type: Option<&str>, data: Option<&str>) -> Option<E> {
    if !type_matches(error_type?, &E::error_type()) {
        return None;
    }
    serde_json::from_str(data?).ok()
}

/// Converts a user error into the [`ErrorObject`] that is checkpointed for it. An SDK
/// [`Error`] keeps its own type (e.g. `StepError`); an [`ErrorRecord`] records what it
/// holds; other errors record their type name ([`short_type_name`]) and message.
/// Errors over the service's limit are truncated ([`crate::limits::truncate_error`]).
pub(crate) fn user_error_object<E>(error: E) -> ErrorObject
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let type_name = short_type_name::<E>();
    let boxed: Box<dyn std::error::Error + Send + Sync> = error.into();
    let boxed = match boxed.downcast::<Error>() {
        Ok(sdk_error) => return sdk_error.to_error_object(),
        Err(other) => other,
    };
    match boxed.downcast::<ErrorRecord>() {
        Ok(record) => crate::limits::truncate_error(record.into_object()),
        Err(other) => crate::limits::truncate_error(error_object(&type_name, &other.to_string())),
    }
}

/// The `ErrorType` of a panic in user code.
pub(crate) const PANIC_ERROR_TYPE: &str = "Panic";

/// The error object of a panic in user code: its message when the payload is a string (as
/// with `panic!("...")`), else a generic one.
pub(crate) fn panic_error_object(payload: &(dyn std::any::Any + Send)) -> ErrorObject {
    error_object(
        PANIC_ERROR_TYPE,
        &format!("panicked: {}", panic_message(payload)),
    )
}

/// The message of a panic: its payload when that is a string (as with `panic!("...")`).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|message| (*message).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with a payload that is not a string".to_string())
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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("card declined")]
    struct PaymentError;

    mod billing {
        #[derive(Debug, thiserror::Error)]
        #[error("billing failed")]
        pub(super) struct Error;
    }

    mod shipping {
        #[derive(Debug, thiserror::Error)]
        #[error("shipping failed")]
        pub(super) struct Error;
    }

    #[test]
    fn user_errors_keep_distinct_type_names() {
        let obj = user_error_object(PaymentError);
        assert_eq!(
            obj.error_type.as_deref(),
            Some("lambda_durable::error::tests::PaymentError")
        );
        assert_eq!(obj.error_message.as_deref(), Some("card declined"));
        let billing = user_error_object(billing::Error);
        let shipping = user_error_object(shipping::Error);
        assert_ne!(billing.error_type, shipping.error_type);
        assert!(billing
            .error_type
            .as_deref()
            .unwrap()
            .ends_with("billing::Error"));
        let obj = user_error_object("plain text");
        assert_eq!(obj.error_type.as_deref(), Some("String"));
        assert_eq!(obj.error_message.as_deref(), Some("plain text"));
        assert_eq!(
            user_error_object(String::from("owned"))
                .error_type
                .as_deref(),
            Some("String")
        );
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(PaymentError);
        assert_eq!(
            user_error_object(boxed).error_type.as_deref(),
            Some("Box<dyn Error>")
        );
        let io = std::io::Error::other("disk");
        assert_eq!(
            user_error_object(io).error_type.as_deref(),
            Some("std::io::error::Error")
        );
    }

    #[test]
    fn type_names_match_by_path_or_last_segments() {
        let rows = [
            ("my_app::PaymentError", "PaymentError", true),
            ("my_app::PaymentError", "my_app::PaymentError", true),
            ("my_app::PaymentError", "app::PaymentError", false),
            ("my_app::billing::Error", "billing::Error", true),
            ("my_app::NoPaymentError", "PaymentError", false),
            ("PaymentError", "PaymentError", true),
            ("StepError", "PaymentError", false),
        ];
        for (recorded, wanted, expected) in rows {
            assert_eq!(
                type_matches(recorded, wanted),
                expected,
                "{recorded} {wanted}"
            );
        }
    }

    #[derive(Debug, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
    enum Declined {
        #[error("declined: {reason}")]
        Card { reason: String },
        #[error("limit")]
        Limit(u64),
    }

    impl TypedError for Declined {}

    #[derive(Debug, thiserror::Error, serde::Serialize, serde::Deserialize)]
    #[error("renamed")]
    struct Renamed;

    impl TypedError for Renamed {
        fn error_type() -> String {
            "Payments.Renamed".to_string()
        }
    }

    #[test]
    fn typed_errors_record_their_data_and_come_back() {
        let record = ErrorRecord::from(Declined::Card {
            reason: "stolen".into(),
        });
        assert!(std::error::Error::source(&record).is_some());
        let obj = user_error_object(record);
        assert!(obj
            .error_type
            .as_deref()
            .unwrap()
            .ends_with("tests::Declined"));
        assert_eq!(obj.error_message.as_deref(), Some("declined: stolen"));
        assert_eq!(
            obj.error_data.as_deref(),
            Some(r#"{"Card":{"reason":"stolen"}}"#)
        );
        let err = Error::StepFailed {
            operation: OperationRef::new("step", "abc", None),
            error: Box::new(obj),
        };
        assert_eq!(
            err.downcast::<Declined>(),
            Some(Declined::Card {
                reason: "stolen".into()
            })
        );
        assert!(err.downcast::<Renamed>().is_none());
        // A custom type name, and a record made by hand.
        let obj = user_error_object(ErrorRecord::from(Renamed));
        assert_eq!(obj.error_type.as_deref(), Some("Payments.Renamed"));
        let by_hand = ErrorRecord::new("Limit", "too much").with_data(&Declined::Limit(5));
        assert_eq!(by_hand.error_type(), "Limit");
        assert_eq!(by_hand.error_data(), Some(r#"{"Limit":5}"#));
        let obj = user_error_object(by_hand);
        assert_eq!(obj.error_message.as_deref(), Some("too much"));
        // Not a typed error: a string error, a record without data, data of another shape.
        assert!(typed_from::<Declined>(Some("String"), None).is_none());
        let name = Declined::error_type();
        assert!(typed_from::<Declined>(Some(&name), None).is_none());
        assert!(typed_from::<Declined>(Some(&name), Some("[1]")).is_none());
        assert_eq!(
            typed_from::<Declined>(Some(&name), Some(r#"{"Limit":7}"#)),
            Some(Declined::Limit(7))
        );
        assert!(typed_from::<Declined>(Some("Declined"), Some(r#"{"Limit":7}"#)).is_none());
        let not_recorded = Error::invalid_input("x");
        assert!(not_recorded.downcast::<Declined>().is_none());
    }

    #[test]
    fn errors_are_recorded_outcomes_or_sdk_failures() {
        let step = || OperationRef::new("step", "abc", Some("charge"));
        let recorded = Error::StepFailed {
            operation: step(),
            error: Box::new(error_object("PaymentError", "card declined")),
        };
        assert_eq!(recorded.kind(), ErrorKind::Recorded);
        assert!(!recorded.ends_execution());
        assert_eq!(recorded.operation(), Some(&step()));
        assert!(
            recorded.fatal_copy().is_none(),
            "only fatal errors are latched"
        );

        let cause = serde_json::from_str::<u32>("\"x\"").unwrap_err();
        let serialization = Error::serialization(
            step(),
            "deserialize",
            crate::serdes::SerdesError::caused_by(cause),
        );
        assert_eq!(serialization.kind(), ErrorKind::Sdk);
        assert!(!serialization.ends_execution());
        assert!(
            serialization.to_string().contains("expected u32"),
            "{serialization}"
        );
        // The chain reaches the serializer's own error.
        let serdes = std::error::Error::source(&serialization).unwrap();
        assert!(serdes
            .downcast_ref::<crate::serdes::SerdesError>()
            .is_some());
        assert!(serdes
            .source()
            .and_then(|json| json.downcast_ref::<serde_json::Error>())
            .is_some());

        let service = crate::ServiceError::new(
            crate::ServiceErrorKind::Transport,
            "DispatchFailure",
            "connection reset",
        )
        .caused_by(std::io::Error::other("connection reset"));
        let checkpoint = service.into_checkpoint_error("checkpoint call failed".into(), true);
        assert_eq!(checkpoint.kind(), ErrorKind::Sdk);
        assert!(checkpoint.ends_execution());
        assert_eq!(checkpoint.operation(), None);
        let Some(Error::Checkpoint {
            message,
            retryable: true,
            source: Some(copied),
        }) = checkpoint.fatal_copy()
        else {
            panic!("a checkpoint error is latched whole");
        };
        assert_eq!(message, "checkpoint call failed");
        assert_eq!(copied.code(), "DispatchFailure");
        // The chain: the checkpoint error, the service error, the transport's error.
        let service = std::error::Error::source(&checkpoint).unwrap();
        assert!(service.downcast_ref::<crate::ServiceError>().is_some());
        let io = service.source().unwrap();
        assert_eq!(
            io.downcast_ref::<std::io::Error>().map(ToString::to_string),
            Some("connection reset".to_string())
        );

        let non_deterministic = Error::NonDeterministic {
            id: "1".into(),
            expected: "STEP a".into(),
            found: "WAIT b".into(),
        };
        assert_eq!(
            non_deterministic.fatal_copy().map(|copy| copy.to_string()),
            Some(non_deterministic.to_string())
        );
        assert!(Error::invalid_input("x").fatal_copy().is_none());
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
