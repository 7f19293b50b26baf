//! Callbacks: wait for an external system to report a result.

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use super::child::run_child;
use super::lifecycle::Op;
use super::{DurableContext, Name, Position};
use crate::error::Error;
use crate::log::OpRecord;
use crate::replay::callback::{
    outcome, registration, submitter_failure, CallbackOutcome, Registration, WaitForCallbackFailure,
};
use crate::retry::RetryStrategy;
use crate::serdes::{Decode, JsonSerdes, RawString};
use crate::wire::{CallbackOptions, ErrorObject, OperationAction, OperationType};

const SUB_TYPE: &str = "Callback";

use crate::limits::MAX_CALLBACK_SECONDS;

/// A callback being configured; `.await` it to register it with the service. Created by
/// [`DurableContext::create_callback`].
#[must_use = "a callback is not created until it is awaited"]
pub struct CreateCallback<'a, T, S = JsonSerdes> {
    ctx: &'a DurableContext,
    position: Position,
    timeout: Option<Duration>,
    heartbeat_timeout: Option<Duration>,
    sub_type: &'static str,
    serdes: S,
    result: PhantomData<fn() -> T>,
}

/// A registered callback: hand [`Callback::id`] to the external system, then await
/// [`Callback::result`].
pub struct Callback<T, S = JsonSerdes> {
    ctx: DurableContext,
    position: Position,
    callback_id: String,
    sub_type: &'static str,
    serdes: S,
    result: PhantomData<fn() -> T>,
}

impl<T, S> std::fmt::Debug for Callback<T, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callback")
            .field("id", &self.callback_id)
            .field("operation_id", &self.position.id.as_str())
            .finish_non_exhaustive()
    }
}

impl DurableContext {
    /// Creates a callback that an external system completes with
    /// `SendDurableExecutionCallbackSuccess` (or `...Failure`, or keeps alive with
    /// `...Heartbeat`), using the id it gets from [`Callback::id`].
    ///
    /// Awaiting [`Callback::result`] suspends the execution until the callback is
    /// completed. The result is the JSON the external system sent, deserialized as `T`
    /// (see [`CreateCallback::serdes`] for other formats). A failure comes back as
    /// [`Error::CallbackFailed`], a timeout as [`Error::CallbackTimedOut`].
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Approval { approved: bool }
    ///
    /// async fn approval(ctx: &DurableContext) -> Result<bool, Error> {
    ///     let callback = ctx
    ///         .create_callback::<Approval>("manager approval")
    ///         .timeout(Duration::from_secs(24 * 3600))
    ///         .await?;
    ///     let id = callback.id().to_string();
    ///     ctx.step("ask manager", |_| async move {
    ///         // send `id` to the manager's inbox here
    ///         Ok::<_, std::io::Error>(id.len())
    ///     })
    ///     .await?;
    ///     Ok(callback.result().await?.approved)
    /// }
    /// ```
    pub fn create_callback<T>(&self, name: impl Into<Name>) -> CreateCallback<'_, T> {
        CreateCallback {
            ctx: self,
            position: self.reserve(name.into()),
            timeout: None,
            heartbeat_timeout: None,
            sub_type: SUB_TYPE,
            serdes: JsonSerdes,
            result: PhantomData,
        }
    }

    /// Creates a callback, runs `submitter` (a step, with its own retry strategy) with the
    /// callback id so it can hand the id to an external system, and waits for the
    /// callback's result.
    ///
    /// It is recorded as a CONTEXT operation holding the callback and the submitter step.
    /// A submitter that fails for good gives [`Error::StepFailed`]; a failed callback
    /// [`Error::CallbackFailed`]; a timed-out one [`Error::CallbackTimedOut`]. The
    /// [`Error::recorded`] error of these keeps the message and data of the original, under
    /// the `ErrorType` the context recorded (`StepError`, `CallbackError` or
    /// `CallbackTimeoutError`), identically on the first run and on every replay. Use
    /// [`DurableContext::create_callback`] and a step to see the external system's own
    /// error type.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// async fn signed(ctx: &DurableContext) -> Result<String, Error> {
    ///     // The result type (`String`) comes from where it is used.
    ///     ctx.wait_for_callback("signature", |callback_id, _step| async move {
    ///         // e-mail a link carrying `callback_id` to the signer
    ///         Ok::<_, std::io::Error>(drop(callback_id))
    ///     })
    ///     .timeout(Duration::from_secs(7 * 24 * 3600))
    ///     .await
    /// }
    /// ```
    pub fn wait_for_callback<T, F, Fut>(
        &self,
        name: impl Into<Name>,
        submitter: F,
    ) -> WaitForCallback<'_, T, F>
    where
        F: FnOnce(String, super::StepContext) -> Fut,
    {
        WaitForCallback {
            ctx: self,
            position: self.reserve(name.into()),
            submitter,
            timeout: None,
            heartbeat_timeout: None,
            retry: None,
            submitter_timeout: None,
            serdes: JsonSerdes,
            result: PhantomData,
        }
    }
}

impl<'a, T, S> CreateCallback<'a, T, S> {
    /// Fails the callback with [`Error::CallbackTimedOut`] if it is not completed within
    /// `timeout` (whole seconds; by default there is no limit).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Fails the callback if the external system sends no heartbeat within this interval.
    pub fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.heartbeat_timeout = Some(timeout);
        self
    }

    /// Records the callback with this `SubType` instead of `Callback` (see
    /// [`Step::sub_type`](crate::Step::sub_type) for the rules).
    pub fn sub_type(mut self, sub_type: &'static str) -> Self {
        self.sub_type = sub_type;
        self
    }

    /// Uses another format for the result (the default is JSON; [`RawString`] returns the
    /// text the external system sent unchanged).
    pub fn serdes<S2>(self, serdes: S2) -> CreateCallback<'a, T, S2> {
        CreateCallback {
            ctx: self.ctx,
            position: self.position,
            timeout: self.timeout,
            heartbeat_timeout: self.heartbeat_timeout,
            sub_type: self.sub_type,
            serdes,
            result: PhantomData,
        }
    }
}

fn timeout_seconds(timeout: Option<Duration>) -> Result<Option<i64>, String> {
    let Some(timeout) = timeout else {
        return Ok(None);
    };
    // Rounded up; saturating, so that `Duration::MAX` is refused instead of overflowing.
    let seconds = timeout
        .as_secs()
        .saturating_add(u64::from(timeout.subsec_nanos() > 0));
    if seconds == 0 {
        return Err("a callback timeout must be at least 1 second".to_string());
    }
    if seconds > MAX_CALLBACK_SECONDS {
        return Err(format!(
            "a callback timeout must be at most {MAX_CALLBACK_SECONDS} seconds, got {seconds}"
        ));
    }
    Ok(i64::try_from(seconds).ok())
}

impl<'a, T, S> IntoFuture for CreateCallback<'a, T, S>
where
    T: Send + 'a,
    S: Decode<T> + 'a,
{
    type Output = Result<Callback<T, S>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let span = operation_span!("create_callback", self.position, "CALLBACK", self.sub_type);
        Box::pin(self.register().instrument(span))
    }
}

impl<'a, T, S> CreateCallback<'a, T, S>
where
    T: Send + 'a,
    S: Decode<T> + 'a,
{
    async fn register(self) -> Result<Callback<T, S>, Error> {
        let ctx = self.ctx;
        let op = Op::open(
            ctx,
            self.position,
            OperationType::Callback,
            self.sub_type,
            "callback",
        )?;
        op.check_sub_type(SUB_TYPE)?;
        let timeout = timeout_seconds(self.timeout).map_err(|message| op.invalid(message))?;
        let heartbeat =
            timeout_seconds(self.heartbeat_timeout).map_err(|message| op.invalid(message))?;
        // `None` to start, else the recorded id (`None` if the service gave none).
        let owned = |registration: Registration<'_>| match registration {
            Registration::Start => None,
            Registration::Registered(id) => Some(Some(id.to_string())),
            Registration::MissingId => Some(None),
        };
        let mut registered = op.decide(|record| owned(registration(record))).await;
        if registered.is_none() {
            let mut update = op.update(OperationAction::Start);
            update.callback_options = Some(CallbackOptions {
                timeout_seconds: timeout,
                heartbeat_timeout_seconds: heartbeat,
            });
            op.write(update).await?;
            registered = op.decide_again(|record| owned(registration(record)));
        }
        let Some(Some(callback_id)) = registered else {
            let err = Error::checkpoint(
                format!(
                    "{}: the service did not return a callback id",
                    op.reference()
                ),
                false,
            );
            op.exec().fail(&err);
            return Err(err);
        };
        Ok(Callback {
            ctx: ctx.clone(),
            position: op.position,
            callback_id,
            sub_type: self.sub_type,
            serdes: self.serdes,
            result: PhantomData,
        })
    }
}

impl<T, S: Decode<T>> Callback<T, S> {
    /// The id the external system needs to complete the callback.
    pub fn id(&self) -> &str {
        &self.callback_id
    }

    /// Waits for the callback's result, suspending the execution until it arrives.
    ///
    /// # Errors
    ///
    /// [`Error::CallbackFailed`] when the external system reported a failure (or the
    /// callback was cancelled or stopped), [`Error::CallbackTimedOut`] when it timed out,
    /// [`Error::Serialization`] when the result does not deserialize as `T`.
    pub async fn result(self) -> Result<T, Error> {
        let Callback {
            ctx,
            position,
            sub_type,
            serdes,
            ..
        } = self;
        // Registered already: the record was looked up and checked when it was created.
        let op = Op::open(
            &ctx,
            position,
            OperationType::Callback,
            sub_type,
            "callback",
        )?;
        let decide = |record: Option<&OpRecord>| match outcome(record) {
            CallbackOutcome::Park => None,
            CallbackOutcome::Succeeded(text) => Some(
                serdes
                    .decode(text.unwrap_or("null"))
                    .map_err(|err| op.serialization("deserialize", err)),
            ),
            CallbackOutcome::Failed(error) => Some(Err(Error::CallbackFailed {
                operation: op.reference(),
                error: Box::new(error),
            })),
            CallbackOutcome::TimedOut(error) => Some(Err(Error::CallbackTimedOut {
                operation: op.reference(),
                error: Box::new(error),
            })),
        };
        // Resumes as soon as the service reports the callback completed, also while this
        // invocation runs.
        let result = op.park_until(decide).await;
        op.finished();
        result
    }
}

/// A wait-for-callback being configured; `.await` it to run it. Created by
/// [`DurableContext::wait_for_callback`].
#[must_use = "a wait for callback does nothing until it is awaited"]
pub struct WaitForCallback<'a, T, F, S = JsonSerdes> {
    ctx: &'a DurableContext,
    position: Position,
    submitter: F,
    timeout: Option<Duration>,
    heartbeat_timeout: Option<Duration>,
    retry: Option<Arc<dyn RetryStrategy>>,
    submitter_timeout: Option<Duration>,
    serdes: S,
    result: PhantomData<fn() -> T>,
}

impl<'a, T, F, S> WaitForCallback<'a, T, F, S> {
    /// Limits each attempt of the submitter step (see [`Step::timeout`](super::Step::timeout)).
    pub fn submitter_timeout(mut self, timeout: Duration) -> Self {
        self.submitter_timeout = Some(timeout);
        self
    }

    /// See [`CreateCallback::timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// See [`CreateCallback::heartbeat_timeout`].
    pub fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.heartbeat_timeout = Some(timeout);
        self
    }

    /// The retry strategy of the submitter step.
    pub fn retry(mut self, strategy: impl RetryStrategy) -> Self {
        self.retry = Some(Arc::new(strategy));
        self
    }

    /// Uses another format for the result (the default is JSON).
    pub fn serdes<S2>(self, serdes: S2) -> WaitForCallback<'a, T, F, S2> {
        WaitForCallback {
            ctx: self.ctx,
            position: self.position,
            submitter: self.submitter,
            timeout: self.timeout,
            heartbeat_timeout: self.heartbeat_timeout,
            retry: self.retry,
            submitter_timeout: self.submitter_timeout,
            serdes,
            result: PhantomData,
        }
    }
}

impl<'a, T, F, Fut, E, S> IntoFuture for WaitForCallback<'a, T, F, S>
where
    F: FnOnce(String, super::StepContext) -> Fut + Send + 'a,
    Fut: Future<Output = Result<(), E>> + Send + 'a,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'a,
    T: Send + 'a,
    S: Decode<T> + 'a,
{
    type Output = Result<T, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let span = operation_span!(
            "wait_for_callback",
            self.position,
            "CONTEXT",
            "WaitForCallback"
        );
        let WaitForCallback {
            ctx,
            position,
            submitter,
            timeout,
            heartbeat_timeout,
            retry,
            submitter_timeout,
            serdes,
            ..
        } = self;
        let inner_names = match position.name_str() {
            Some(name) => (
                format!("{name} create callback id"),
                format!("{name} submitter"),
            ),
            None => ("create callback id".to_string(), "submitter".to_string()),
        };
        let reference = position.reference("wait for callback");
        Box::pin(
            async move {
                // The context records the raw text the external system sent; it is decoded
                // as `T` on every run, so the first run and the replays agree.
                let raw = run_child(
                    ctx,
                    position,
                    "WaitForCallback",
                    RawString,
                    |child| async move {
                        let mut create = child
                            .create_callback::<String>(inner_names.0)
                            .serdes(RawString);
                        create.timeout = timeout;
                        create.heartbeat_timeout = heartbeat_timeout;
                        let callback = create.await.map_err(|err| err.to_error_object())?;
                        let id = callback.id().to_string();
                        let mut step =
                            child.step(inner_names.1, move |step_ctx| submitter(id, step_ctx));
                        if let Some(retry) = retry {
                            step = step.retry_shared(retry);
                        }
                        if let Some(timeout) = submitter_timeout {
                            step = step.timeout(timeout);
                        }
                        // The submitter's own error is recorded, so that a typed error
                        // keeps its type and data.
                        step.await.map_err(|err| match err.recorded() {
                            Some(recorded) => recorded.clone(),
                            None => err.to_error_object(),
                        })?;
                        callback.result().await.map_err(|err| err.to_error_object())
                    },
                )
                .await
                .map_err(|err| unwrap_context_error(err, reference.clone()))?;
                serdes
                    .decode(&raw)
                    .map_err(|err| Error::serialization(reference, "deserialize", err))
            }
            .instrument(span),
        )
    }
}

/// Maps the failure of the wait-for-callback context back to the error of the operation
/// that caused it (see [`submitter_failure`]), so callers see the same distinct errors as
/// with `create_callback`.
fn unwrap_context_error(err: Error, operation: crate::error::OperationRef) -> Error {
    let Error::ChildContextFailed { error, .. } = err else {
        return err;
    };
    let error: Box<ErrorObject> = error;
    match submitter_failure(error.error_type.as_deref()) {
        WaitForCallbackFailure::Callback => Error::CallbackFailed { operation, error },
        WaitForCallbackFailure::CallbackTimedOut => Error::CallbackTimedOut { operation, error },
        WaitForCallbackFailure::Submitter => Error::StepFailed { operation, error },
        WaitForCallbackFailure::Context => Error::ChildContextFailed { operation, error },
    }
}
