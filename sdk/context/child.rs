//! `run_in_child_context`: a group of operations with its own id namespace, checkpointed
//! as one CONTEXT operation.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;

use tracing::Instrument;

use super::{DurableContext, Name, Position};
use crate::error::{catch_panic, user_error_object, Error};
use crate::limits::REPLAY_CHILDREN_THRESHOLD_BYTES;
use crate::log::OpRecord;
use crate::replay::Expected;
use crate::serdes::{JsonSerdes, Serdes};
use crate::state::abandon;
use crate::wire::{ContextOptions, ErrorObject, OperationAction, OperationStatus, OperationType};

/// A child context being configured; `.await` it to run it. Created by
/// [`DurableContext::run_in_child_context`].
#[must_use = "a child context does nothing until it is awaited"]
pub struct ChildContext<'a, F, S = JsonSerdes> {
    ctx: &'a DurableContext,
    position: Position,
    body: F,
    sub_type: &'static str,
    serdes: S,
}

impl DurableContext {
    /// Runs `body` in a child context: its operations get their own id namespace under this
    /// operation, and the whole group is checkpointed as one CONTEXT operation.
    ///
    /// On replay a finished child context returns its recorded result without running the
    /// body. A result larger than 256 KiB is not stored: the context is marked
    /// `ReplayChildren` and the body runs again on replay, rebuilding the result from its
    /// children's recorded results. An error leaving the body fails the context
    /// ([`Error::ChildContextFailed`], the same on every replay).
    ///
    /// ```no_run
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// async fn reserve_all(ctx: &DurableContext) -> Result<(String, String), Error> {
    ///     ctx.run_in_child_context("reserve", |child| async move {
    ///         let hotel = child
    ///             .step("hotel", |_| async { Ok::<_, std::io::Error>("H-1".to_string()) })
    ///             .await?;
    ///         let car = child
    ///             .step("car", |_| async { Ok::<_, std::io::Error>("C-7".to_string()) })
    ///             .await?;
    ///         Ok::<_, Error>((hotel, car))
    ///     })
    ///     .await
    /// }
    /// ```
    pub fn run_in_child_context<F, Fut>(
        &self,
        name: impl Into<Name>,
        body: F,
    ) -> ChildContext<'_, F>
    where
        F: FnOnce(DurableContext) -> Fut,
    {
        ChildContext {
            ctx: self,
            position: self.reserve(name.into()),
            body,
            sub_type: "RunInChildContext",
            serdes: JsonSerdes,
        }
    }
}

impl<'a, F, S> ChildContext<'a, F, S> {
    /// Uses another serializer for the context's result.
    pub fn serdes<S2>(self, serdes: S2) -> ChildContext<'a, F, S2> {
        ChildContext {
            ctx: self.ctx,
            position: self.position,
            body: self.body,
            sub_type: self.sub_type,
            serdes,
        }
    }
}

impl<'a, F, Fut, T, E, S> IntoFuture for ChildContext<'a, F, S>
where
    F: FnOnce(DurableContext) -> Fut + Send + 'a,
    Fut: Future<Output = Result<T, E>> + Send + 'a,
    T: Send + 'a,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'a,
    S: Serdes<T> + 'a,
{
    type Output = Result<T, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let span = tracing::info_span!(
            "child_context",
            operation_id = %self.position.id,
            name = self.position.name_str(),
        );
        let ChildContext {
            ctx,
            position,
            body,
            sub_type,
            serdes,
        } = self;
        Box::pin(
            run_child(ctx, position, sub_type, serdes, move |child| async move {
                body(child).await.map_err(user_error_object)
            })
            .instrument(span),
        )
    }
}

/// What a CONTEXT operation does at this point of the replay.
pub(crate) enum ContextDecision {
    /// Return the recorded result without running the body.
    Succeeded(Option<String>),
    /// Raise the recorded error.
    Failed(ErrorObject),
    /// Run the body; checkpoint START first when `start`, and checkpoint the outcome
    /// unless `replay_children` (the context already succeeded).
    Run { start: bool, replay_children: bool },
}

pub(crate) fn context_decision(op: Option<&OpRecord>) -> ContextDecision {
    let Some(op) = op else {
        return ContextDecision::Run {
            start: true,
            replay_children: false,
        };
    };
    match op.status {
        OperationStatus::Succeeded => {
            if op.replay_children().unwrap_or(false) {
                ContextDecision::Run {
                    start: false,
                    replay_children: true,
                }
            } else {
                ContextDecision::Succeeded(op.result().map(str::to_string))
            }
        }
        OperationStatus::Started | OperationStatus::Pending | OperationStatus::Ready => {
            ContextDecision::Run {
                start: false,
                replay_children: false,
            }
        }
        status => ContextDecision::Failed(op.error().cloned().unwrap_or_else(|| {
            crate::error::error_object("ChildContextError", &format!("context ended {status}"))
        })),
    }
}

/// Runs a CONTEXT operation around `body` (shared by child contexts, map and parallel and
/// wait-for-callback): replay decision, START, the body in a child namespace, and
/// SUCCEED/FAIL.
pub(crate) async fn run_child<T, S, B, BFut>(
    ctx: &DurableContext,
    position: Position,
    sub_type: &'static str,
    serdes: S,
    body: B,
) -> Result<T, Error>
where
    S: Serdes<T>,
    B: FnOnce(DurableContext) -> BFut,
    BFut: Future<Output = Result<T, ErrorObject>>,
{
    run_context(ctx, position, sub_type, serdes, None, body).await
}

/// How a map or parallel summarizes a result too large to store, so that its body, run
/// again, can rebuild the result.
pub(crate) type Summarize<'s, T> = &'s (dyn Fn(&T) -> String + Send + Sync);

/// [`run_child`] for a batch (map or parallel): a result too large to store is recorded as
/// `summarize(result)`, and the body may complete while branches it abandoned have records
/// it does not revisit, so it is not held to visiting them (each nested branch is held to
/// its own when its body completes).
pub(crate) async fn run_batch_context<T, S, B, BFut>(
    ctx: &DurableContext,
    position: Position,
    sub_type: &'static str,
    serdes: S,
    summarize: Summarize<'_, T>,
    body: B,
) -> Result<T, Error>
where
    S: Serdes<T>,
    B: FnOnce(DurableContext) -> BFut,
    BFut: Future<Output = Result<T, ErrorObject>>,
{
    run_context(ctx, position, sub_type, serdes, Some(summarize), body).await
}

/// The CONTEXT life cycle shared by [`run_child`] and [`run_batch_context`]; `batch` is the
/// summary of a batch, `None` for other contexts.
async fn run_context<T, S, B, BFut>(
    ctx: &DurableContext,
    position: Position,
    sub_type: &'static str,
    serdes: S,
    batch: Option<Summarize<'_, T>>,
    body: B,
) -> Result<T, Error>
where
    S: Serdes<T>,
    B: FnOnce(DurableContext) -> BFut,
    BFut: Future<Output = Result<T, ErrorObject>>,
{
    ctx.check_name(&position, "child context")?;
    let expected = Expected {
        ty: OperationType::Context,
        sub_type,
        name: position.name_str(),
    };
    let decision = ctx
        .recorded_map(&position, expected, context_decision)
        .await;
    let exec = Arc::clone(ctx.exec());
    let (start, replay_children) = match decision {
        ContextDecision::Succeeded(result) => {
            return decode(&serdes, &position, result.as_deref().unwrap_or("null"));
        }
        ContextDecision::Failed(error) => {
            return Err(Error::ChildContextFailed {
                operation: position.reference("child context"),
                error: Box::new(error),
            });
        }
        ContextDecision::Run {
            start,
            replay_children,
        } => (start, replay_children),
    };
    // Replay-only code starts nothing new.
    if start && super::scope::replay_only() {
        abandon().await
    }
    if start {
        exec.enqueue(position.update(OperationType::Context, sub_type, OperationAction::Start));
    }
    let child = ctx.child(&position, Some(position.id.clone()));
    let outcome = catch_panic(body(child)).await;
    // A fatal SDK error inside the body (a failed checkpoint, non-determinism) ends the
    // invocation; it is not the context's failure, which the caller could catch and go on
    // from.
    if outcome.is_err() {
        if let Some(fatal) = exec.fatal() {
            return Err(fatal);
        }
    }
    // A completed body must have visited everything recorded under it; see
    // `run_batch_context` for why a batch is not held to it.
    if batch.is_none() {
        exec.operations.body_completed(&position.digest);
    }
    match outcome {
        Ok(value) => {
            let payload = serdes
                .serialize(&value)
                .map_err(|err| Error::Serialization {
                    operation: position.reference("child context"),
                    action: "serialize",
                    message: err.to_string(),
                })?;
            if replay_children {
                // Rebuilt from the children's checkpoints; nothing more to record.
                return decode(&serdes, &position, &payload);
            }
            let large = payload.len() > REPLAY_CHILDREN_THRESHOLD_BYTES;
            let decoded = decode(&serdes, &position, &payload);
            let mut update =
                position.into_update(OperationType::Context, sub_type, OperationAction::Succeed);
            update.payload = Some(if large {
                batch.map(|summarize| summarize(&value)).unwrap_or_default()
            } else {
                payload
            });
            update.context_options = Some(ContextOptions {
                replay_children: Some(large),
            });
            // Not awaited: the outcome is rebuilt by replaying the children if it is lost,
            // and it shares the next request with whatever follows (queued updates are
            // flushed before the invocation ends).
            exec.enqueue(update);
            decoded
        }
        Err(error) => {
            if replay_children {
                return Err(Error::ChildContextFailed {
                    operation: position.reference("child context"),
                    error: Box::new(error),
                });
            }
            let mut update =
                position.update(OperationType::Context, sub_type, OperationAction::Fail);
            update.error = Some(error.clone());
            exec.enqueue(update);
            Err(Error::ChildContextFailed {
                operation: position.reference("child context"),
                error: Box::new(error),
            })
        }
    }
}

fn decode<T, S: Serdes<T>>(serdes: &S, position: &Position, payload: &str) -> Result<T, Error> {
    serdes
        .deserialize(payload)
        .map_err(|err| Error::Serialization {
            operation: position.reference("child context"),
            action: "deserialize",
            message: err.to_string(),
        })
}
