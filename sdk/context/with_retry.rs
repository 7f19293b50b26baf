//! `with_retry`: a block of several durable operations retried as a unit.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;

use tracing::Instrument;

use super::child::run_child;
use super::{DurableContext, Name, Position};
use crate::error::{user_error_object, Error};
use crate::retry::{self, FailedAttempt, RetryDecision, RetryStrategy};
use crate::serdes::{DefaultSerdes, Serdes};
use crate::wire::ErrorObject;

/// The `SubType` of the CONTEXT that holds the attempts of a `with_retry` block.
pub(crate) const SUB_TYPE: &str = "WithRetry";

/// The `SubType` of each attempt: a child context.
const ATTEMPT_SUB_TYPE: &str = "RunInChildContext";

/// A block retried as a unit, being configured; `.await` it to run it. Created by
/// [`DurableContext::with_retry`].
#[must_use = "a retried block does nothing until it is awaited"]
pub struct WithRetry<'a, F, S = DefaultSerdes> {
    ctx: &'a DurableContext,
    position: Position,
    body: F,
    retry: Option<Arc<dyn RetryStrategy>>,
    serdes: S,
}

impl DurableContext {
    /// Runs `body` as a unit that is retried as a whole: each attempt runs in a child
    /// context of its own (`attempt 1`, `attempt 2`, ...), so an attempt's operations are
    /// new operations, not the replayed ones of the attempt before. When an attempt fails,
    /// the retry strategy ([`WithRetry::retry`], by default the one of steps) decides on
    /// its error, as for a step; a retry waits durably (`retry delay 1`, ...) and the
    /// execution suspends meanwhile. Everything is recorded under one CONTEXT operation
    /// (sub type `WithRetry`) that holds the final result, so a finished block replays
    /// without running again.
    ///
    /// `body` gets the attempt's context and the attempt number (1 for the first). When
    /// the strategy gives up, the block fails with [`Error::ChildContextFailed`] carrying
    /// the last attempt's error (so [`Error::downcast`] gives a typed error back). An SDK
    /// failure that ends the execution (a failed checkpoint, non-determinism) is not
    /// retried.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use lambda_durable::{DurableContext, Error};
    /// use lambda_durable::retry::ExponentialBackoff;
    ///
    /// async fn book(ctx: &DurableContext) -> Result<String, Error> {
    ///     ctx.with_retry("book trip", |attempt_ctx, attempt| async move {
    ///         let hold = attempt_ctx
    ///             .step("hold seat", move |_| async move {
    ///                 Ok::<_, std::io::Error>(format!("hold-{attempt}"))
    ///             })
    ///             .await?;
    ///         attempt_ctx
    ///             .step("confirm", |_| async move { Ok::<_, std::io::Error>(hold) })
    ///             .await
    ///     })
    ///     .retry(ExponentialBackoff::new().max_attempts(3).initial_delay(Duration::from_secs(10)))
    ///     .await
    /// }
    /// ```
    pub fn with_retry<F, Fut>(&self, name: impl Into<Name>, body: F) -> WithRetry<'_, F>
    where
        F: Fn(DurableContext, u32) -> Fut,
    {
        WithRetry {
            ctx: self,
            position: self.reserve(name.into()),
            body,
            retry: None,
            serdes: self.default_serdes(),
        }
    }
}

impl<'a, F, S> WithRetry<'a, F, S> {
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

    /// Uses another serializer for the result (of each attempt and of the block).
    pub fn serdes<S2>(self, serdes: S2) -> WithRetry<'a, F, S2> {
        WithRetry {
            ctx: self.ctx,
            position: self.position,
            body: self.body,
            retry: self.retry,
            serdes,
        }
    }
}

impl<'a, F, Fut, T, E, S> IntoFuture for WithRetry<'a, F, S>
where
    F: Fn(DurableContext, u32) -> Fut + Send + Sync + 'a,
    Fut: Future<Output = Result<T, E>> + Send + 'a,
    T: Send + 'a,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'a,
    S: Serdes<T> + 'a,
{
    type Output = Result<T, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let span = operation_span!("with_retry", self.position, "CONTEXT", SUB_TYPE);
        let WithRetry {
            ctx,
            position,
            body,
            retry,
            serdes,
        } = self;
        let serdes = Arc::new(serdes);
        let strategy = retry.unwrap_or_else(retry::default_strategy);
        Box::pin(
            run_child(
                ctx,
                position,
                SUB_TYPE,
                Arc::clone(&serdes),
                move |block| async move { attempts(&block, &body, &*strategy, serdes).await },
            )
            .instrument(span),
        )
    }
}

/// Runs attempts in `block` until one succeeds or the strategy gives up: the block's
/// outcome, or the error that ends the execution.
async fn attempts<F, Fut, T, E, S>(
    block: &DurableContext,
    body: &F,
    strategy: &dyn RetryStrategy,
    serdes: Arc<S>,
) -> Result<T, ErrorObject>
where
    F: Fn(DurableContext, u32) -> Fut + Send + Sync,
    Fut: Future<Output = Result<T, E>> + Send,
    T: Send,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
    S: Serdes<T>,
{
    let mut attempt = 1u32;
    loop {
        let position = block.reserve(Name::from(format!("attempt {attempt}")));
        let outcome = run_child(
            block,
            position,
            ATTEMPT_SUB_TYPE,
            Arc::clone(&serdes),
            |attempt_ctx| async move { body(attempt_ctx, attempt).await.map_err(user_error_object) },
        )
        .await;
        let error = match outcome {
            Ok(value) => return Ok(value),
            Err(Error::ChildContextFailed { error, .. }) => *error,
            // Not the attempt's failure: the SDK's (a value that does not serialize, an
            // execution that must end). The block ends with it.
            Err(err) => return Err(err.to_error_object()),
        };
        let failure = FailedAttempt::from_recorded(&error);
        match strategy.decide(&failure, attempt) {
            RetryDecision::Retry { delay } => {
                let delay = std::time::Duration::from_secs(retry::whole_delay_seconds(delay));
                block
                    .wait(format!("retry delay {attempt}"), delay)
                    .await
                    .map_err(|err| err.to_error_object())?;
                attempt = attempt.saturating_add(1);
            }
            RetryDecision::Stop => return Err(error),
        }
    }
}
