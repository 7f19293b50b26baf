//! `step`: run a piece of code once and checkpoint its result.

use std::future::{Future, IntoFuture};
use std::num::NonZeroU64;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use super::lifecycle::Op;
use super::{scope, DurableContext, Name, Position};
use crate::error::{catch_panic, error_object, user_error_object, Error};
use crate::log::OpRecord;
use crate::logger::Logger;
use crate::replay::step::{on_cut, step_decision, Cut, CutCause, StepDecision, StepSemantics};
use crate::retry::{self, FailedAttempt, RetryDecision, RetryStrategy};
use crate::serdes::{DefaultSerdes, Serdes};
use crate::state::abandon;
use crate::wire::{ErrorObject, OperationAction, OperationType, StepOptions};

const SUB_TYPE: &str = "Step";

/// What a step body receives: the attempt number, a logger and a cancellation signal.
#[derive(Debug, Clone)]
pub struct StepContext {
    attempt: u32,
    operation_id: String,
    execution_arn: Arc<str>,
    logger: Logger,
    cancelled: tokio::sync::watch::Receiver<bool>,
}

impl StepContext {
    /// The context of attempt `attempt` of the step-like operation `op` (a step, a
    /// wait-for-condition check), and the sender that tells it it was cut short.
    pub(crate) fn for_attempt(
        op: &Op<'_>,
        attempt: u32,
    ) -> (Self, tokio::sync::watch::Sender<bool>) {
        let (cancel, cancelled) = tokio::sync::watch::channel(false);
        let context = Self {
            attempt,
            operation_id: op.position.id.to_string(),
            execution_arn: Arc::clone(&op.ctx.exec().log.execution_arn),
            logger: Logger::for_step(
                &op.ctx.exec().log,
                &op.position.id,
                op.position.name_str(),
                attempt,
            ),
            cancelled,
        };
        (context, cancel)
    }

    /// Whether the attempt was cut short: its timeout passed, or the invocation reached
    /// its deadline. The body's future is dropped when that happens; work it handed to
    /// other tasks or threads (with a clone of this context) should check this flag, or
    /// await [`cancelled`](Self::cancelled), and stop.
    pub fn is_cancelled(&self) -> bool {
        *self.cancelled.borrow()
    }

    /// Resolves when the attempt is cut short (see [`is_cancelled`](Self::is_cancelled))
    /// or is over.
    pub async fn cancelled(&self) {
        let mut cancelled = self.cancelled.clone();
        let _ = cancelled.wait_for(|cancelled| *cancelled).await;
    }

    /// The attempt that is running, counted from 1.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The step's operation id.
    pub fn operation_id(&self) -> &str {
        &self.operation_id
    }

    /// The ARN of the durable execution the step belongs to.
    pub fn execution_arn(&self) -> &str {
        &self.execution_arn
    }

    /// A logger whose records carry the step's id, name and attempt. Step bodies only run
    /// for real, so it never suppresses records.
    pub fn logger(&self) -> &Logger {
        &self.logger
    }
}

/// A step being configured; `.await` it to run it. Created by [`DurableContext::step`].
///
/// The step's operation id is reserved when the `Step` is created, so the order in which
/// steps are *created* fixes their ids.
#[must_use = "a step does nothing until it is awaited"]
pub struct Step<'a, F, S = DefaultSerdes> {
    ctx: &'a DurableContext,
    position: Position,
    body: F,
    retry: Option<Arc<dyn RetryStrategy>>,
    semantics: StepSemantics,
    timeout: Option<Duration>,
    sub_type: &'static str,
    serdes: S,
}

impl DurableContext {
    /// Runs `body` as a durable step and returns its result.
    ///
    /// On the first run the body runs and its result is checkpointed; on replay the
    /// recorded result is returned without running the body. A failed attempt is offered
    /// to the retry strategy (by default 6 attempts with exponential backoff from 5 s): a
    /// retry waits for the service to schedule the next attempt, which runs in the next
    /// invocation (or in place, inside a [`map`](DurableContext::map) item while other work
    /// still runs: the item runs again from its start, replaying what it recorded). When
    /// the strategy gives up, the step fails with [`Error::StepFailed`], which carries the
    /// error type and message of the last attempt, the same on every replay.
    ///
    /// The returned [`Step`] can be configured before it is awaited: [`Step::retry`],
    /// [`Step::semantics`], [`Step::serdes`].
    ///
    /// A step body must not start durable operations (it gets a [`StepContext`], not a
    /// `DurableContext`).
    ///
    /// ```no_run
    /// use lambda_durable::{DurableContext, Error};
    /// use lambda_durable::retry::presets;
    ///
    /// # #[derive(Debug, thiserror::Error)] #[error("declined")] struct Declined;
    /// async fn charge(ctx: &DurableContext, cents: u64) -> Result<String, Error> {
    ///     ctx.step("charge", |step| async move {
    ///         step.logger().info(format_args!("attempt {}", step.attempt()));
    ///         if cents == 0 {
    ///             return Err(Declined);
    ///         }
    ///         Ok(format!("receipt-{cents}"))
    ///     })
    ///     .retry(presets::transient())
    ///     .await
    /// }
    /// ```
    pub fn step<F, Fut>(&self, name: impl Into<Name>, body: F) -> Step<'_, F>
    where
        F: FnOnce(StepContext) -> Fut,
    {
        Step {
            ctx: self,
            position: self.reserve(name.into()),
            body,
            retry: None,
            semantics: StepSemantics::default(),
            timeout: None,
            sub_type: SUB_TYPE,
            serdes: self.default_serdes(),
        }
    }

    /// [`step`](Self::step) for a body that cannot fail: it returns the value itself, so
    /// neither `Ok(..)` nor an error type needs spelling out. A panic in it is still a
    /// failed attempt, offered to the retry strategy.
    ///
    /// ```no_run
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// async fn greet(ctx: &DurableContext, name: String) -> Result<String, Error> {
    ///     ctx.infallible_step("greeting", |_| async move { format!("hello {name}") })
    ///         .await
    /// }
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn infallible_step<F, Fut>(
        &self,
        name: impl Into<Name>,
        body: F,
    ) -> Step<
        '_,
        impl FnOnce(
            StepContext,
        ) -> futures_util::future::Map<
            Fut,
            fn(Fut::Output) -> Result<Fut::Output, std::convert::Infallible>,
        >,
    >
    where
        F: FnOnce(StepContext) -> Fut,
        Fut: Future,
    {
        use futures_util::FutureExt;
        let ok: fn(Fut::Output) -> Result<Fut::Output, std::convert::Infallible> = Ok;
        self.step(name, move |step| body(step).map(ok))
    }
}

impl<'a, F, S> Step<'a, F, S> {
    /// Sets the retry strategy (see [`crate::retry`]).
    pub fn retry(mut self, strategy: impl RetryStrategy) -> Self {
        self.retry = Some(Arc::new(strategy));
        self
    }

    /// Sets the retry strategy from a shared one.
    pub fn retry_shared(mut self, strategy: Arc<dyn RetryStrategy>) -> Self {
        self.retry = Some(strategy);
        self
    }

    /// Sets at-least-once (default) or at-most-once execution per attempt.
    pub fn semantics(mut self, semantics: StepSemantics) -> Self {
        self.semantics = semantics;
        self
    }

    /// Limits each attempt to `timeout`. An attempt still running then is cut short: its
    /// body's future is dropped (the [`StepContext`] tells work it handed elsewhere), and
    /// the attempt fails with `StepTimeoutError`, offered to the retry strategy like any
    /// failure. An attempt that cannot finish before the invocation's deadline is recorded
    /// as timed out too, before the deadline, so that its retry is scheduled rather than
    /// lost (see the README's section on deadlines for steps without a timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Records the step with this `SubType` instead of `Step`, so that tools reading the
    /// history can tell kinds of steps apart. 1 to 32 letters, digits, `-` or `_`, and not
    /// one of the SDK's own sub types (else the step fails with
    /// [`Error::InvalidArgument`]); part of the step's identity on replay, like its name.
    ///
    /// ```no_run
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// async fn score(ctx: &DurableContext) -> Result<u32, Error> {
    ///     ctx.step("score order", |_| async { Ok::<_, std::io::Error>(7) })
    ///         .sub_type("FraudCheck")
    ///         .await
    /// }
    /// ```
    pub fn sub_type(mut self, sub_type: &'static str) -> Self {
        self.sub_type = sub_type;
        self
    }

    /// Uses another serializer for the step's result.
    pub fn serdes<S2>(self, serdes: S2) -> Step<'a, F, S2> {
        Step {
            ctx: self.ctx,
            position: self.position,
            body: self.body,
            retry: self.retry,
            semantics: self.semantics,
            timeout: self.timeout,
            sub_type: self.sub_type,
            serdes,
        }
    }
}

impl<'a, F, Fut, T, E, S> IntoFuture for Step<'a, F, S>
where
    F: FnOnce(StepContext) -> Fut + Send + 'a,
    Fut: Future<Output = Result<T, E>> + Send + 'a,
    T: Send + 'a,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'a,
    S: Serdes<T> + 'a,
{
    type Output = Result<T, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let span = operation_span!(
            "step",
            self.position,
            "STEP",
            self.sub_type,
            durable.attempt.number = tracing::field::Empty
        );
        Box::pin(self.run().instrument(span))
    }
}

impl<'a, F, Fut, T, E, S> Step<'a, F, S>
where
    F: FnOnce(StepContext) -> Fut + Send + 'a,
    Fut: Future<Output = Result<T, E>> + Send + 'a,
    T: Send + 'a,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'a,
    S: Serdes<T> + 'a,
{
    async fn run(self) -> Result<T, Error> {
        let Step {
            ctx,
            position,
            body,
            retry,
            semantics,
            timeout,
            sub_type,
            serdes,
        } = self;
        let op = Op::open(ctx, position, OperationType::Step, sub_type, "step")?;
        op.check_sub_type(SUB_TYPE)?;
        let replay_only = scope::replay_only();
        // A recorded result is decoded while the log lends it, without a copy.
        let decide = |record: Option<&OpRecord>| match step_decision(record, semantics, replay_only)
        {
            StepDecision::Succeeded(result) => {
                Next::Done(decode(&serdes, &op, result.unwrap_or("null")))
            }
            StepDecision::Failed(error) => Next::Done(Err(Error::StepFailed {
                operation: op.reference(),
                error: Box::new(error),
            })),
            StepDecision::Park => Next::Park,
            StepDecision::Run { attempt, start } => Next::Run { attempt, start },
            StepDecision::Interrupted { attempt } => Next::Interrupted { attempt },
            StepDecision::Abandon => Next::Abandon,
        };
        let mut next = op.decide(decide).await;
        if let Next::Park = next {
            // Waiting to retry, and the body has not run in this invocation: the attempt
            // runs here if the service reports it ready while the invocation still runs.
            next = op
                .park_while(decide, |next| matches!(next, Next::Park))
                .await;
        }
        let attempt = Attempt {
            op,
            retry,
            semantics,
            timeout,
            serdes,
        };
        match next {
            Next::Done(result) => {
                attempt.op.finished();
                result
            }
            Next::Park => attempt.op.park().await,
            Next::Abandon => abandon().await,
            Next::Run { attempt: n, start } => attempt.run(body, n, start).await,
            Next::Interrupted { attempt: n } => {
                let error = attempt.interrupted();
                attempt.failed(error, n).await
            }
        }
    }
}

/// What a step does after looking at the log.
enum Next<T> {
    Done(Result<T, Error>),
    Park,
    Run { attempt: u32, start: bool },
    Interrupted { attempt: u32 },
    Abandon,
}

/// A step about to run an attempt, or to close one that failed.
struct Attempt<'c, S> {
    op: Op<'c>,
    retry: Option<Arc<dyn RetryStrategy>>,
    semantics: StepSemantics,
    timeout: Option<Duration>,
    serdes: S,
}

impl<'c, S> Attempt<'c, S> {
    /// Runs attempt `attempt` of the body (after START when `start`) and closes it.
    async fn run<F, Fut, T, E>(self, body: F, attempt: u32, start: bool) -> Result<T, Error>
    where
        F: FnOnce(StepContext) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
        S: Serdes<T>,
    {
        let op = &self.op;
        let exec = Arc::clone(op.exec());
        tracing::Span::current().record("durable.attempt.number", i64::from(attempt));
        if exec.deadline_reached() {
            return self.cut(CutCause::NotStarted, attempt).await;
        }
        if start {
            let update = op.update(OperationAction::Start);
            match self.semantics {
                StepSemantics::AtMostOncePerRetry => op.write(update).await?,
                StepSemantics::AtLeastOncePerRetry => op.queue(update),
            }
        }
        let (step_ctx, cancel) = StepContext::for_attempt(op, attempt);
        let trace = crate::plugin::UserFunctionTrace::start(
            exec.operations.hooks(),
            || op.update(OperationAction::Start),
            Some(attempt),
            false,
        );
        let outcome = {
            let _active = exec.active();
            let body = catch_panic(async move { body(step_ctx).await.map_err(user_error_object) });
            let timeout = self.timeout;
            let timer = async move {
                match timeout {
                    Some(timeout) => tokio::time::sleep(timeout).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                outcome = body => Ok(outcome),
                () = timer => Err(CutCause::Timeout),
                () = exec.deadline_signal() => Err(CutCause::Deadline),
            }
        };
        if let Some(trace) = trace {
            match &outcome {
                Ok(Ok(_)) => trace.end(None),
                Ok(Err(error)) => trace.end(Some(error)),
                Err(cause) => trace.end(Some(&error_object(
                    retry::STEP_TIMEOUT,
                    &format!("the attempt was cut short ({cause:?})"),
                ))),
            }
        }
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(cause) => {
                cancel.send_replace(true);
                return self.cut(cause, attempt).await;
            }
        };
        match outcome {
            Ok(value) => {
                let payload = self
                    .serdes
                    .serialize(&value)
                    .map_err(|err| op.serialization("serialize", err))?;
                crate::limits::check_payload(|| op.reference(), "result", payload.len())?;
                // Return the stored copy, so the first run sees what every replay sees
                // (decoded now, returned once it is durable).
                let decoded = decode(&self.serdes, op, &payload);
                let (ctx, digest) = (op.ctx, op.position.digest);
                let mut update = self.op.into_update(OperationAction::Succeed);
                update.payload = Some(payload);
                exec.checkpoint(update).await?;
                ctx.finished(&digest);
                decoded
            }
            Err(error) => self.failed(error, attempt).await,
        }
    }

    /// The error of an at-most-once attempt that an interruption cut short.
    fn interrupted(&self) -> ErrorObject {
        error_object(
            retry::STEP_INTERRUPTED,
            &format!(
                "step operation_id={} name={} was started but did not finish: the invocation was interrupted",
                self.op.position.id,
                self.op.position.name_str().unwrap_or("")
            ),
        )
    }

    /// Ends an attempt cut short by its timeout or the invocation's deadline.
    async fn cut<T>(self, cause: CutCause, attempt: u32) -> Result<T, Error> {
        match on_cut(cause, self.timeout.is_some(), self.semantics) {
            Cut::TimedOut => {
                let seconds = self.timeout.map_or(0.0, |timeout| timeout.as_secs_f64());
                let message = match cause {
                    CutCause::Timeout => {
                        format!("{} timed out after {seconds} s", self.op.reference())
                    }
                    _ => format!(
                        "{} could not finish before the invocation's deadline (its timeout is {seconds} s)",
                        self.op.reference()
                    ),
                };
                let error = error_object(retry::STEP_TIMEOUT, &message);
                self.failed(error, attempt).await
            }
            Cut::Interrupted => {
                let error = self.interrupted();
                self.failed(error, attempt).await
            }
            Cut::RunAgain => {
                // Counts as running work, so that the invocation ends for a retry instead
                // of suspending while this attempt waits to run again.
                let _active = self.op.exec().active();
                abandon().await
            }
        }
    }

    /// Asks the retry strategy about a failed attempt and checkpoints RETRY or FAIL.
    async fn failed<T>(self, error: ErrorObject, attempt: u32) -> Result<T, Error> {
        let op = &self.op;
        let strategy = self.retry.clone().unwrap_or_else(retry::default_strategy);
        let failure = FailedAttempt::from_recorded(&error);
        match strategy.decide(&failure, attempt) {
            RetryDecision::Retry { delay } => {
                let seconds = retry::whole_delay_seconds(delay);
                let mut update = op.update(OperationAction::Retry);
                update.error = Some(error);
                update.step_options = Some(StepOptions {
                    next_attempt_delay_seconds: Some(
                        NonZeroU64::new(seconds).unwrap_or(NonZeroU64::MIN),
                    ),
                });
                op.write(update).await?;
                tracing::info!(
                    attempt,
                    delay_seconds = seconds,
                    "step attempt failed; retry scheduled"
                );
                op.park_for_next_attempt().await
            }
            RetryDecision::Stop => {
                let mut update = op.update(OperationAction::Fail);
                update.error = Some(error.clone());
                op.write(update).await?;
                op.finished();
                Err(Error::StepFailed {
                    operation: op.reference(),
                    error: Box::new(error),
                })
            }
        }
    }
}

fn decode<T, S: Serdes<T>>(serdes: &S, op: &Op<'_>, payload: &str) -> Result<T, Error> {
    serdes
        .deserialize(payload)
        .map_err(|err| op.serialization("deserialize", err))
}
