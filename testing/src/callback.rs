//! Completing callbacks from a test: the callbacks waiting for an external system, the
//! answers a test (or a callback responder) gives, and the errors the service answers with.

use std::time::Duration;

use super::store::Completion;
use crate::error_object;
use lambda_durable::limits::{
    json_size, MAX_CALLBACK_ERROR_BYTES as MAX_ERROR_BYTES,
    MAX_CALLBACK_RESULT_BYTES as MAX_RESULT_BYTES,
};
use lambda_durable::wire::ErrorObject;

/// A callback waiting for an external system to complete it, as listed by
/// [`RunningExecution::pending_callbacks`](super::RunningExecution::pending_callbacks) and
/// given to callback responders ([`LocalRunner::on_callback`](super::LocalRunner::on_callback)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCallback {
    pub(crate) callback_id: String,
    pub(crate) operation_id: String,
    pub(crate) name: Option<String>,
    pub(crate) execution_arn: String,
}

impl PendingCallback {
    /// The callback id, which the external system passes to
    /// `SendDurableExecutionCallbackSuccess` (and [`Callback::id`](lambda_durable::Callback::id)
    /// returns in the handler).
    pub fn id(&self) -> &str {
        &self.callback_id
    }

    /// The name the code gave: the name of [`create_callback`](lambda_durable::DurableContext::create_callback),
    /// or of [`wait_for_callback`](lambda_durable::DurableContext::wait_for_callback) for the
    /// callback it creates. `None` for an unnamed one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The id of the CALLBACK operation.
    pub fn operation_id(&self) -> &str {
        &self.operation_id
    }

    /// The ARN of the execution that created the callback (the runner's execution, or one
    /// started by a chained invoke).
    pub fn execution_arn(&self) -> &str {
        &self.execution_arn
    }
}

/// How a callback responder answers a callback (see
/// [`LocalRunner::on_callback`](super::LocalRunner::on_callback)).
///
/// ```
/// use std::time::Duration;
/// use lambda_durable_testing::CallbackResponse;
///
/// // The raw text the external system sends: the handler decodes it (JSON by default).
/// let approve = CallbackResponse::success(r#"{"approved":true}"#);
/// // The same, two hours (of virtual time) after the callback started.
/// let late = CallbackResponse::json(serde_json::json!({"approved": true}))
///     .after(Duration::from_secs(7200));
/// let reject = CallbackResponse::failure("Rejected", "over budget");
/// // Never answer: the callback times out if it has a timeout, or stays pending.
/// let silent = CallbackResponse::ignore();
/// assert_eq!(late.delay(), Duration::from_secs(7200));
/// assert_ne!(approve, reject);
/// assert_ne!(approve, silent);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackResponse {
    answer: Answer,
    delay: Duration,
    heartbeat: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
enum Answer {
    Success(String),
    Failure(ErrorObject),
    Ignore,
}

impl CallbackResponse {
    /// Completes the callback with `result`, the raw text the external system sends with
    /// `SendDurableExecutionCallbackSuccess` (at most 1 MiB). The handler decodes it with
    /// the callback's serdes, JSON by default: send `"\"text\""` for a `String`.
    pub fn success(result: impl Into<String>) -> Self {
        Self {
            answer: Answer::Success(result.into()),
            delay: Duration::ZERO,
            heartbeat: None,
        }
    }

    /// Completes the callback with `value` as JSON.
    pub fn json(value: serde_json::Value) -> Self {
        Self::success(value.to_string())
    }

    /// Fails the callback with an error of this type and message, as
    /// `SendDurableExecutionCallbackFailure` does; the handler gets
    /// [`Error::CallbackFailed`](lambda_durable::Error::CallbackFailed).
    pub fn failure(error_type: &str, message: &str) -> Self {
        Self::failure_object(error_object(error_type, message))
    }

    /// Fails the callback with this error.
    pub fn failure_object(error: ErrorObject) -> Self {
        Self {
            answer: Answer::Failure(error),
            delay: Duration::ZERO,
            heartbeat: None,
        }
    }

    /// Does not answer: the callback times out if it has a timeout, and otherwise stays
    /// pending (a test can still complete it with
    /// [`RunningExecution::send_callback_success`](super::RunningExecution::send_callback_success)).
    pub fn ignore() -> Self {
        Self {
            answer: Answer::Ignore,
            delay: Duration::ZERO,
            heartbeat: None,
        }
    }

    /// Answers `delay` (of virtual time, rounded down to milliseconds) after the callback
    /// started, instead of at once. An answer that arrives after the callback's timeout
    /// (or heartbeat timeout) is too late: the callback has timed out. An answer arriving
    /// exactly at the deadline is in time.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    /// How long after the callback started the answer arrives.
    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// Until the answer arrives, the external system sends a heartbeat
    /// (`SendDurableExecutionCallbackHeartbeat`) every `interval` (of virtual time, at
    /// least 1 ms) from the callback's start, which keeps a callback with a
    /// [heartbeat timeout](lambda_durable::CreateCallback::heartbeat_timeout) alive past that timeout. A heartbeat
    /// arriving exactly at the heartbeat deadline is in time. For
    /// [`CallbackResponse::ignore`], the heartbeats go on until its
    /// [`after`](CallbackResponse::after) delay, then the external system falls silent and
    /// the heartbeat timeout fires.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lambda_durable_testing::CallbackResponse;
    ///
    /// // Works for an hour, reporting every 30 s, then answers.
    /// let slow = CallbackResponse::json(serde_json::json!({"done": true}))
    ///     .after(Duration::from_secs(3600))
    ///     .heartbeat_every(Duration::from_secs(30));
    /// assert_eq!(slow.heartbeat_interval(), Some(Duration::from_secs(30)));
    /// ```
    pub fn heartbeat_every(mut self, interval: Duration) -> Self {
        self.heartbeat = Some(interval.max(Duration::from_millis(1)));
        self
    }

    /// How often the external system sends heartbeats before it answers, if it does.
    pub fn heartbeat_interval(&self) -> Option<Duration> {
        self.heartbeat
    }

    /// The completion this answer sends, validated like the service does; `None` for
    /// [`CallbackResponse::ignore`].
    pub(crate) fn completion(&self) -> Result<Option<Completion>, SendCallbackError> {
        match &self.answer {
            Answer::Success(result) => success(result.as_bytes()).map(Some),
            Answer::Failure(error) => failure(error.clone()).map(Some),
            Answer::Ignore => Ok(None),
        }
    }
}

/// Checks a success result and turns it into the stored text (invalid UTF-8 is replaced).
pub(crate) fn success(result: &[u8]) -> Result<Completion, SendCallbackError> {
    if result.len() > MAX_RESULT_BYTES {
        return Err(SendCallbackError::InvalidParameter {
            message: format!(
                "the result is {} bytes; a callback result is at most {MAX_RESULT_BYTES} bytes",
                result.len()
            ),
        });
    }
    Ok(Completion::Success(
        String::from_utf8_lossy(result).into_owned(),
    ))
}

/// Checks a failure's error.
pub(crate) fn failure(error: ErrorObject) -> Result<Completion, SendCallbackError> {
    let size = json_size(&error);
    if size > MAX_ERROR_BYTES {
        return Err(SendCallbackError::InvalidParameter {
            message: format!(
                "the error is {size} bytes of JSON; a callback error is at most {MAX_ERROR_BYTES} bytes"
            ),
        });
    }
    Ok(Completion::Failure(error))
}

/// Why the service refused to complete a callback (PROTOCOL.md 6.4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendCallbackError {
    /// `ResourceNotFoundException` (404): no callback has this id, it was already
    /// completed, or its execution is over.
    #[error("ResourceNotFoundException: no active callback has the id {callback_id}")]
    NotFound {
        /// The callback id sent.
        callback_id: String,
    },
    /// `CallbackTimeoutException` (400): the callback already timed out.
    #[error("CallbackTimeoutException: the callback {callback_id} has timed out")]
    TimedOut {
        /// The callback id sent.
        callback_id: String,
    },
    /// `InvalidParameterValueException` (400): the request is invalid (a result over
    /// 1 MiB, for example).
    #[error("InvalidParameterValueException: {message}")]
    InvalidParameter {
        /// What is wrong.
        message: String,
    },
}

impl SendCallbackError {
    /// The service's error code (`ResourceNotFoundException`, `CallbackTimeoutException`
    /// or `InvalidParameterValueException`).
    pub fn code(&self) -> &'static str {
        match self {
            SendCallbackError::NotFound { .. } => "ResourceNotFoundException",
            SendCallbackError::TimedOut { .. } => "CallbackTimeoutException",
            SendCallbackError::InvalidParameter { .. } => "InvalidParameterValueException",
        }
    }
}

/// Which callbacks a callback responder answers: a name (the name of the
/// `create_callback` or `wait_for_callback`, see [`PendingCallback::name`]) or any
/// `Fn(&PendingCallback) -> bool`.
pub trait CallbackMatcher: Send + Sync + 'static {
    /// Whether the responder answers `callback`.
    fn matches(&self, callback: &PendingCallback) -> bool;
}

impl CallbackMatcher for &'static str {
    fn matches(&self, callback: &PendingCallback) -> bool {
        callback.name() == Some(*self)
    }
}

impl CallbackMatcher for String {
    fn matches(&self, callback: &PendingCallback) -> bool {
        callback.name() == Some(self.as_str())
    }
}

impl<F> CallbackMatcher for F
where
    F: Fn(&PendingCallback) -> bool + Send + Sync + 'static,
{
    fn matches(&self, callback: &PendingCallback) -> bool {
        self(callback)
    }
}

/// How a callback responder answers: a fixed [`CallbackResponse`], or any
/// `Fn(&PendingCallback) -> CallbackResponse`.
pub trait CallbackResponder: Send + Sync + 'static {
    /// The answer to `callback`.
    fn respond(&self, callback: &PendingCallback) -> CallbackResponse;
}

impl CallbackResponder for CallbackResponse {
    fn respond(&self, _callback: &PendingCallback) -> CallbackResponse {
        self.clone()
    }
}

impl<F> CallbackResponder for F
where
    F: Fn(&PendingCallback) -> CallbackResponse + Send + Sync + 'static,
{
    fn respond(&self, callback: &PendingCallback) -> CallbackResponse {
        self(callback)
    }
}
