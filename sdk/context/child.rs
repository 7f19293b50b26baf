//! `run_in_child_context`: a group of operations with its own id namespace, checkpointed
//! as one CONTEXT operation.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;

use tracing::Instrument;

use super::lifecycle::Op;
use super::{scope, DurableContext, Name, Position};
use crate::error::{catch_panic, user_error_object, Error};
use crate::replay::context::{
    context_decision, must_visit_records, on_failure, on_success, ContextDecision, OnFailure,
    OnSuccess,
};
use crate::serdes::{DefaultSerdes, Serdes};
use crate::state::abandon;
use crate::wire::{ContextOptions, ErrorObject, OperationAction, OperationType};

/// The `SubType` of a child context unless it is given another.
const DEFAULT_SUB_TYPE: &str = "RunInChildContext";

/// A child context being configured; `.await` it to run it. Created by
/// [`DurableContext::run_in_child_context`].
#[must_use = "a child context does nothing until it is awaited"]
pub struct ChildContext<'a, F, S = DefaultSerdes> {
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
            sub_type: DEFAULT_SUB_TYPE,
            serdes: self.default_serdes(),
        }
    }
}

impl<'a, F, S> ChildContext<'a, F, S> {
    /// Records the context with this `SubType` instead of `RunInChildContext` (see
    /// [`Step::sub_type`](crate::Step::sub_type) for the rules).
    pub fn sub_type(mut self, sub_type: &'static str) -> Self {
        self.sub_type = sub_type;
        self
    }

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
        let span = operation_span!("child_context", self.position, "CONTEXT", self.sub_type);
        let ChildContext {
            ctx,
            position,
            body,
            sub_type,
            serdes,
        } = self;
        if let Err(message) = super::lifecycle::custom_sub_type(sub_type, DEFAULT_SUB_TYPE) {
            let operation = position.reference("child context");
            return Box::pin(async move { Err(Error::InvalidArgument { operation, message }) });
        }
        Box::pin(
            run_child(ctx, position, sub_type, serdes, move |child| async move {
                body(child).await.map_err(user_error_object)
            })
            .instrument(span),
        )
    }
}

/// A virtual child context being set up; `.await` it to run it. Created by
/// [`DurableContext::run_in_virtual_context`].
#[must_use = "a virtual context does nothing until it is awaited"]
pub struct VirtualContext<'a, F> {
    ctx: &'a DurableContext,
    position: Position,
    body: F,
}

impl DurableContext {
    /// Runs `body` as a virtual child context: its operations get their own id namespace
    /// under this call, as in [`run_in_child_context`](Self::run_in_child_context), but no
    /// CONTEXT operation is recorded for the group; they hang directly under this context.
    ///
    /// It saves an operation (and its checkpoint) per group, at a price: nothing holds the
    /// group's result, so its body runs again on every replay (its operations return their
    /// recorded results), and the result needs no serialization. Use it to give a helper's
    /// operations a namespace of their own, so that adding operations to it does not move
    /// the ids of the operations after it; use a child context when the body is expensive
    /// to run again or its result should be recorded.
    ///
    /// An error of the body is returned as [`Error::ChildContextFailed`], as from a child
    /// context (but not recorded); a body that returns before operations it recorded on an
    /// earlier run fails the execution as non-deterministic.
    ///
    /// ```no_run
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// async fn ship(ctx: &DurableContext, order: &str) -> Result<String, Error> {
    ///     let order = order.to_string();
    ///     ctx.run_in_virtual_context("shipping", |group| async move {
    ///         let label = group
    ///             .step("label", |_| async move { Ok::<_, std::io::Error>(format!("L-{order}")) })
    ///             .await?;
    ///         group
    ///             .step("pickup", |_| async { Ok::<_, std::io::Error>(()) })
    ///             .await?;
    ///         Ok::<_, Error>(label)
    ///     })
    ///     .await
    /// }
    /// ```
    #[doc(alias = "virtual")]
    pub fn run_in_virtual_context<F, Fut>(
        &self,
        name: impl Into<Name>,
        body: F,
    ) -> VirtualContext<'_, F>
    where
        F: FnOnce(DurableContext) -> Fut,
    {
        VirtualContext {
            ctx: self,
            position: self.reserve(name.into()),
            body,
        }
    }
}

impl<'a, F, Fut, T, E> IntoFuture for VirtualContext<'a, F>
where
    F: FnOnce(DurableContext) -> Fut + Send + 'a,
    Fut: Future<Output = Result<T, E>> + Send + 'a,
    T: Send + 'a,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'a,
{
    type Output = Result<T, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let span = operation_span!(
            "virtual_context",
            self.position,
            "CONTEXT",
            DEFAULT_SUB_TYPE
        );
        let VirtualContext {
            ctx,
            position,
            body,
        } = self;
        Box::pin(
            async move {
                let group = ctx.child(&position, ctx.parent_id().cloned());
                let hooks = ctx.exec().operations.hooks();
                let start = || {
                    position.update(
                        OperationType::Context,
                        DEFAULT_SUB_TYPE,
                        OperationAction::Start,
                    )
                };
                // Its body runs again in every invocation that reaches it, and no record says
                // what an earlier one reported: each run is reported as the operation.
                let synthetic = crate::plugin::SyntheticOperation::start(hooks, start);
                let trace = crate::plugin::UserFunctionTrace::start(hooks, start, None, false);
                let outcome =
                    catch_panic(async { body(group.clone()).await.map_err(user_error_object) })
                        .await;
                if let Some(trace) = trace {
                    trace.end(outcome.as_ref().err());
                }
                if let Some(synthetic) = synthetic {
                    synthetic.end(None, outcome.as_ref().err());
                }
                let exec = ctx.exec();
                if outcome.is_err() {
                    if let Some(fatal) = exec.fatal() {
                        return Err(fatal);
                    }
                }
                // No record holds the group to its operations: it must not return before
                // the operations it recorded.
                if let Err(err) = crate::replay::completion::on_body_return(group.next_recorded()) {
                    tracing::error!(error = %err, "non-deterministic execution");
                    exec.fail(&err);
                    return Err(err);
                }
                outcome.map_err(|error| Error::ChildContextFailed {
                    operation: position.reference("virtual context"),
                    error: Box::new(error),
                })
            }
            .instrument(span),
        )
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
    let op = Op::open(
        ctx,
        position,
        OperationType::Context,
        sub_type,
        "child context",
    )?;
    let replay_only = scope::replay_only();
    let failed = |error: ErrorObject| Error::ChildContextFailed {
        operation: op.reference(),
        error: Box::new(error),
    };
    let decision = op
        .decide(|record| match context_decision(record, replay_only) {
            ContextDecision::Succeeded(result) => {
                Err(decode(&serdes, &op, result.unwrap_or("null")))
            }
            ContextDecision::Failed(error) => Err(Err(failed(error))),
            ContextDecision::Run {
                start,
                replay_children,
            } => Ok(Some((start, replay_children))),
            ContextDecision::Abandon => Ok(None),
        })
        .await;
    let (start, replay_children) = match decision {
        Err(recorded) => return recorded,
        Ok(None) => abandon().await,
        Ok(Some(run)) => run,
    };
    let exec = Arc::clone(op.exec());
    if start {
        op.queue(op.update(OperationAction::Start));
    }
    let child = ctx.child(&op.position, Some(op.position.id.clone()));
    let trace = crate::plugin::UserFunctionTrace::start(
        exec.operations.hooks(),
        || op.update(OperationAction::Start),
        None,
        replay_children,
    );
    let outcome = catch_panic(body(child)).await;
    if let Some(trace) = trace {
        trace.end(outcome.as_ref().err());
    }
    // A fatal SDK error inside the body (a failed checkpoint, non-determinism) ends the
    // invocation; it is not the context's failure, which the caller could catch and go on
    // from.
    if outcome.is_err() {
        if let Some(fatal) = exec.fatal() {
            return Err(fatal);
        }
    }
    if must_visit_records(batch.is_some()) {
        exec.operations.body_completed(&op.position.digest);
    }
    match outcome {
        Ok(value) => {
            let payload = serdes
                .serialize(&value)
                .map_err(|err| op.serialization("serialize", err))?;
            let decoded = decode(&serdes, &op, &payload);
            let closing = on_success(replay_children, payload.len(), batch.is_some());
            let stored = match closing {
                // Rebuilt from the children's checkpoints; nothing more to record.
                OnSuccess::Return => return decoded,
                OnSuccess::Store => payload,
                OnSuccess::StoreSummary => {
                    batch.map(|summarize| summarize(&value)).unwrap_or_default()
                }
                OnSuccess::StoreNothing => String::new(),
            };
            let large = closing != OnSuccess::Store;
            let mut update = op.into_update(OperationAction::Succeed);
            update.payload = Some(stored);
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
            if on_failure(replay_children) == OnFailure::Record {
                let mut update = op.update(OperationAction::Fail);
                update.error = Some(error.clone());
                op.queue(update);
            }
            Err(failed(error))
        }
    }
}

fn decode<T, S: Serdes<T>>(serdes: &S, op: &Op<'_>, payload: &str) -> Result<T, Error> {
    serdes
        .deserialize(payload)
        .map_err(|err| op.serialization("deserialize", err))
}
