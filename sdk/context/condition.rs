//! `wait_for_condition`: poll a check until a condition holds, suspending between polls.

use std::future::{Future, IntoFuture};
use std::num::NonZeroU64;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use super::lifecycle::Op;
use super::{DurableContext, Name, Position, StepContext};
use crate::error::{catch_panic, error_object, user_error_object, Error};
use crate::log::OpRecord;
use crate::replay::condition::{condition_decision, ConditionDecision};
use crate::retry;
use crate::serdes::{DefaultSerdes, Serdes};
use crate::state::abandon;
use crate::wait_strategy::{WaitDecision, WaitStrategy};
use crate::wire::{ErrorObject, OperationAction, OperationType, StepOptions};

const SUB_TYPE: &str = "WaitForCondition";

/// A wait-for-condition being configured; `.await` it to run it. Created by
/// [`DurableContext::wait_for_condition`].
#[must_use = "a wait for condition does nothing until it is awaited"]
pub struct WaitForCondition<'a, S, F, D = DefaultSerdes> {
    ctx: &'a DurableContext,
    position: Position,
    initial: S,
    check: F,
    strategy: Option<Arc<dyn WaitStrategy<S>>>,
    timeout: Option<Duration>,
    serdes: D,
}

impl DurableContext {
    /// Polls `check` until the wait strategy says the condition holds, and returns the
    /// final state.
    ///
    /// Each poll runs `check` once with the current state (the `initial` state first) and
    /// gives the new state to the strategy ([`WaitForCondition::strategy`]; for example
    /// [`WaitStrategyConfig`](crate::wait_strategy::WaitStrategyConfig), which polls with
    /// exponential backoff from 5 s, up to 60 attempts). Between polls the state is
    /// checkpointed and the execution suspends. Without a strategy the first poll's state
    /// is returned.
    ///
    /// ```no_run
    /// use lambda_durable::{DurableContext, Error};
    /// use lambda_durable::wait_strategy::WaitStrategyConfig;
    ///
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Job { id: String, done: bool }
    ///
    /// async fn until_done(ctx: &DurableContext, id: String) -> Result<Job, Error> {
    ///     ctx.wait_for_condition("job finished", Job { id, done: false }, |job, _step| async move {
    ///         // ask the job service here
    ///         Ok::<_, std::io::Error>(Job { done: true, ..job })
    ///     })
    ///     .strategy(WaitStrategyConfig::until(|job: &Job| job.done))
    ///     .await
    /// }
    /// ```
    pub fn wait_for_condition<S, F, Fut>(
        &self,
        name: impl Into<Name>,
        initial: S,
        check: F,
    ) -> WaitForCondition<'_, S, F>
    where
        F: FnOnce(S, StepContext) -> Fut,
    {
        WaitForCondition {
            ctx: self,
            position: self.reserve(name.into()),
            initial,
            check,
            strategy: None,
            timeout: None,
            serdes: self.default_serdes(),
        }
    }
}

impl<'a, S, F, D> WaitForCondition<'a, S, F, D> {
    /// Sets the strategy that decides, after each poll, whether to poll again and when.
    pub fn strategy(mut self, strategy: impl WaitStrategy<S>) -> Self {
        self.strategy = Some(Arc::new(strategy));
        self
    }

    /// Polls until `done(state)` holds, with the standard backoff: shorthand for
    /// `.strategy(WaitStrategyConfig::until(done))` whose closure needs no type annotation.
    /// For other delays or attempt limits, give a configured
    /// [`WaitStrategyConfig`](crate::wait_strategy::WaitStrategyConfig) to
    /// [`strategy`](Self::strategy).
    ///
    /// ```no_run
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct Job { done: bool }
    ///
    /// async fn finished(ctx: &DurableContext) -> Result<Job, Error> {
    ///     ctx.wait_for_condition("job", Job { done: false }, |_job, _| async {
    ///         Ok::<_, std::io::Error>(Job { done: true })
    ///     })
    ///     .until(|job| job.done)
    ///     .await
    /// }
    /// ```
    pub fn until(self, done: impl Fn(&S) -> bool + Send + Sync + 'static) -> Self
    where
        S: 'static,
    {
        self.strategy(crate::wait_strategy::WaitStrategyConfig::until(done))
    }

    /// Limits each check to `timeout`. A check still running then is cut short (its
    /// future is dropped; the [`StepContext`] tells work it handed elsewhere) and the wait
    /// fails with [`Error::WaitForConditionFailed`] carrying a `StepTimeoutError`. (A check
    /// that fails ends the wait; return a state that says "not yet" to poll again.)
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Checkpoints the state with `serdes` instead of JSON: the state between polls and
    /// the final one are written and read back with it, on the first run and on replay
    /// alike. A serdes that fails fails the wait with [`Error::Serialization`] naming it.
    ///
    /// ```no_run
    /// use lambda_durable::serdes::RawString;
    /// use lambda_durable::wait_strategy::WaitStrategyConfig;
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// async fn until_ready(ctx: &DurableContext) -> Result<String, Error> {
    ///     ctx.wait_for_condition("status", "PENDING".to_string(), |_, _| async {
    ///         Ok::<_, std::io::Error>("READY".to_string())
    ///     })
    ///     .serdes(RawString)
    ///     .strategy(WaitStrategyConfig::until(|status: &String| status == "READY"))
    ///     .await
    /// }
    /// ```
    pub fn serdes<D2>(self, serdes: D2) -> WaitForCondition<'a, S, F, D2> {
        WaitForCondition {
            ctx: self.ctx,
            position: self.position,
            initial: self.initial,
            check: self.check,
            strategy: self.strategy,
            timeout: self.timeout,
            serdes,
        }
    }
}

impl<'a, S, F, Fut, E, D> IntoFuture for WaitForCondition<'a, S, F, D>
where
    S: Send + 'static,
    D: Serdes<S> + 'a,
    F: FnOnce(S, StepContext) -> Fut + Send + 'a,
    Fut: Future<Output = Result<S, E>> + Send + 'a,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'a,
{
    type Output = Result<S, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<S, Error>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let span = operation_span!("wait_for_condition", self.position, "STEP", SUB_TYPE);
        Box::pin(self.run().instrument(span))
    }
}

impl<'a, S, F, Fut, E, D> WaitForCondition<'a, S, F, D>
where
    S: Send + 'static,
    D: Serdes<S> + 'a,
    F: FnOnce(S, StepContext) -> Fut + Send + 'a,
    Fut: Future<Output = Result<S, E>> + Send + 'a,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'a,
{
    async fn run(self) -> Result<S, Error> {
        let WaitForCondition {
            ctx,
            position,
            initial,
            check,
            strategy,
            timeout,
            serdes,
        } = self;
        let op = Op::open(
            ctx,
            position,
            OperationType::Step,
            SUB_TYPE,
            "wait for condition",
        )?;
        let decode = |text: &str| {
            serdes
                .deserialize(text)
                .map_err(|err| op.serialization("deserialize", err))
        };
        let failed = |error: ErrorObject| Error::WaitForConditionFailed {
            operation: op.reference(),
            error: Box::new(error),
        };
        let replay_only = super::scope::replay_only();
        let decide = |record: Option<&OpRecord>| match condition_decision(record, replay_only) {
            ConditionDecision::Succeeded(text) => Next::Done(decode(text.unwrap_or("null"))),
            ConditionDecision::Failed(error) => Next::Done(Err(failed(error))),
            ConditionDecision::Park => Next::Park,
            ConditionDecision::Abandon => Next::Abandon,
            ConditionDecision::Check {
                attempt,
                start,
                state,
            } => Next::Check {
                attempt,
                start,
                // The state of the last poll, if it survived; else the initial state.
                state: state.and_then(|text| serdes.deserialize(text).ok()),
            },
        };
        let mut next = op.decide(decide).await;
        if let Next::Park = next {
            // Waiting for the next check, which has not run in this invocation: it runs
            // here if the service reports it due while the invocation still runs.
            next = op
                .park_while(decide, |next| matches!(next, Next::Park))
                .await;
        }
        let (attempt, start, state) = match next {
            Next::Done(result) => {
                op.finished();
                return result;
            }
            Next::Park => op.park().await,
            Next::Abandon => abandon().await,
            Next::Check {
                attempt,
                start,
                state,
            } => (attempt, start, state.unwrap_or(initial)),
        };
        let exec = Arc::clone(op.exec());
        if start {
            op.queue(op.update(OperationAction::Start));
        }
        let (step_ctx, cancel) = StepContext::for_attempt(&op, attempt);
        let trace = crate::plugin::UserFunctionTrace::start(
            exec.operations.hooks(),
            || op.update(OperationAction::Start),
            Some(attempt),
            false,
        );
        let outcome = {
            let _active = exec.active();
            let check =
                catch_panic(async move { check(state, step_ctx).await.map_err(user_error_object) });
            match timeout {
                None => check.await,
                Some(limit) => match tokio::time::timeout(limit, check).await {
                    Ok(outcome) => outcome,
                    Err(_) => {
                        cancel.send_replace(true);
                        Err(error_object(
                            retry::STEP_TIMEOUT,
                            &format!(
                                "{}: the check timed out after {} s",
                                op.reference(),
                                limit.as_secs_f64()
                            ),
                        ))
                    }
                },
            }
        };
        if let Some(trace) = trace {
            trace.end(outcome.as_ref().err());
        }
        let fail = |error: ErrorObject| async {
            let mut update = op.update(OperationAction::Fail);
            update.error = Some(error.clone());
            op.write(update).await?;
            op.finished();
            Err::<S, _>(failed(error))
        };
        let state = match outcome {
            Ok(state) => state,
            Err(error) => return fail(error).await,
        };
        let payload = serdes
            .serialize(&state)
            .map_err(|err| op.serialization("serialize", err))?;
        crate::limits::check_payload(|| op.reference(), "state", payload.len())?;
        let decision = match &strategy {
            Some(strategy) => strategy.decide(&state, attempt),
            None => Ok(WaitDecision::Stop),
        };
        match decision {
            Ok(WaitDecision::Stop) => {
                let mut update = op.update(OperationAction::Succeed);
                update.payload = Some(payload.clone());
                op.write(update).await?;
                op.finished();
                decode(&payload)
            }
            Ok(WaitDecision::Continue { delay }) => {
                let seconds = retry::whole_delay_seconds(delay);
                let mut update = op.update(OperationAction::Retry);
                update.payload = Some(payload);
                update.step_options = Some(StepOptions {
                    next_attempt_delay_seconds: Some(
                        NonZeroU64::new(seconds).unwrap_or(NonZeroU64::MIN),
                    ),
                });
                op.write(update).await?;
                op.park_for_next_attempt().await
            }
            Err(err) => {
                let error = error_object("WaitForConditionError", &err.to_string());
                fail(crate::limits::truncate_error(error)).await
            }
        }
    }
}

/// What a wait-for-condition does after looking at the log.
enum Next<S> {
    Done(Result<S, Error>),
    Park,
    Abandon,
    Check {
        attempt: u32,
        start: bool,
        state: Option<S>,
    },
}
