//! `wait_for_condition`: poll a check until a condition holds, suspending between polls.

use std::future::{Future, IntoFuture};
use std::num::NonZeroU64;
use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tracing::Instrument;

use super::{DurableContext, Name, Position, StepContext};
use crate::error::{catch_panic, error_object, user_error_object, Error};
use crate::logger::Logger;
use crate::replay::Expected;
use crate::retry;
use crate::state::abandon;
use crate::wait_strategy::{WaitDecision, WaitStrategy};
use crate::wire::{ErrorObject, OperationAction, OperationStatus, OperationType, StepOptions};

const SUB_TYPE: &str = "WaitForCondition";

/// A wait-for-condition being configured; `.await` it to run it. Created by
/// [`DurableContext::wait_for_condition`].
#[must_use = "a wait for condition does nothing until it is awaited"]
pub struct WaitForCondition<'a, S, F> {
    ctx: &'a DurableContext,
    position: Position,
    initial: S,
    check: F,
    strategy: Option<Arc<dyn WaitStrategy<S>>>,
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
    ///     .strategy(WaitStrategyConfig::new(|job: &Job| !job.done))
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
        }
    }
}

impl<S, F> WaitForCondition<'_, S, F> {
    /// Sets the strategy that decides, after each poll, whether to poll again and when.
    pub fn strategy(mut self, strategy: impl WaitStrategy<S>) -> Self {
        self.strategy = Some(Arc::new(strategy));
        self
    }
}

impl<'a, S, F, Fut, E> IntoFuture for WaitForCondition<'a, S, F>
where
    S: Serialize + DeserializeOwned + Send + 'static,
    F: FnOnce(S, StepContext) -> Fut + Send + 'a,
    Fut: Future<Output = Result<S, E>> + Send + 'a,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'a,
{
    type Output = Result<S, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<S, Error>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let span = tracing::info_span!(
            "wait_for_condition",
            operation_id = %self.position.id,
            name = self.position.name_str(),
        );
        Box::pin(self.run().instrument(span))
    }
}

impl<'a, S, F, Fut, E> WaitForCondition<'a, S, F>
where
    S: Serialize + DeserializeOwned + Send + 'static,
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
        } = self;
        ctx.check_name(&position, "wait for condition")?;
        let operation = || position.reference("wait for condition");
        let decode = |text: &str| {
            serde_json::from_str::<S>(text).map_err(|err| Error::Serialization {
                operation: operation(),
                action: "deserialize",
                message: err.to_string(),
            })
        };
        let expected = Expected {
            ty: OperationType::Step,
            sub_type: SUB_TYPE,
            name: position.name_str(),
        };
        let exec = Arc::clone(ctx.exec());
        let recorded = ctx.recorded(&position, expected).await;
        let details = recorded.as_ref().and_then(|op| op.step_details.as_ref());
        let finished = details
            .and_then(|d| d.attempt)
            .map_or(0, |a| u32::try_from(a.max(0)).unwrap_or(u32::MAX));
        let stored = details.and_then(|d| d.result.clone());
        let (state, start) = match recorded.as_ref().map(|op| op.status) {
            None => (initial, true),
            Some(OperationStatus::Succeeded) => {
                ctx.finished(&position.digest);
                return decode(stored.as_deref().unwrap_or("null"));
            }
            Some(OperationStatus::Pending) => exec.park().await,
            Some(status @ (OperationStatus::Ready | OperationStatus::Started)) => {
                // The state of the last poll, if it survived; else the initial state.
                let state = match stored
                    .as_deref()
                    .map(|text| serde_json::from_str::<S>(text))
                {
                    Some(Ok(state)) => state,
                    _ => initial,
                };
                (state, status == OperationStatus::Ready)
            }
            Some(status) => {
                ctx.finished(&position.digest);
                let error = details.and_then(|d| d.error.clone()).unwrap_or_else(|| {
                    error_object(
                        "WaitForConditionError",
                        &format!("wait for condition ended {status}"),
                    )
                });
                return Err(Error::WaitForConditionFailed {
                    operation: operation(),
                    error: Box::new(error),
                });
            }
        };
        // Replay-only code never runs a check.
        if super::scope::replay_only() {
            abandon().await
        }
        let attempt = finished.saturating_add(1);
        if start {
            exec.enqueue(position.update(OperationType::Step, SUB_TYPE, OperationAction::Start));
        }
        let step_ctx = StepContext::new(
            attempt,
            position.id.to_string(),
            Logger::for_step(
                Arc::clone(ctx.arn()),
                &position.id,
                position.name_str(),
                attempt,
            ),
        );
        let outcome = {
            let _active = exec.active();
            catch_panic(async move { check(state, step_ctx).await.map_err(user_error_object) })
                .await
        };
        let fail = |error: ErrorObject| async {
            let mut update = position.update(OperationType::Step, SUB_TYPE, OperationAction::Fail);
            update.error = Some(error.clone());
            exec.checkpoint(update).await?;
            ctx.finished(&position.digest);
            Err::<S, _>(Error::WaitForConditionFailed {
                operation: operation(),
                error: Box::new(error),
            })
        };
        let state = match outcome {
            Ok(state) => state,
            Err(error) => return fail(error).await,
        };
        let payload = serde_json::to_string(&state).map_err(|err| Error::Serialization {
            operation: operation(),
            action: "serialize",
            message: err.to_string(),
        })?;
        crate::limits::check_payload(operation, "state", payload.len())?;
        let decision = match &strategy {
            Some(strategy) => strategy.decide(&state, attempt),
            None => Ok(WaitDecision::Stop),
        };
        match decision {
            Ok(WaitDecision::Stop) => {
                let mut update =
                    position.update(OperationType::Step, SUB_TYPE, OperationAction::Succeed);
                update.payload = Some(payload.clone());
                exec.checkpoint(update).await?;
                ctx.finished(&position.digest);
                decode(&payload)
            }
            Ok(WaitDecision::Continue { delay }) => {
                let seconds = retry::whole_delay_seconds(delay);
                let mut update =
                    position.update(OperationType::Step, SUB_TYPE, OperationAction::Retry);
                update.payload = Some(payload);
                update.step_options = Some(StepOptions {
                    next_attempt_delay_seconds: Some(
                        NonZeroU64::new(seconds).unwrap_or(NonZeroU64::MIN),
                    ),
                });
                exec.checkpoint(update).await?;
                exec.park().await
            }
            Err(err) => {
                let error = error_object("WaitForConditionError", &err.to_string());
                fail(crate::limits::truncate_error(error)).await
            }
        }
    }
}
