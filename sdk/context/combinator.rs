//! Durable combinators: `all`, `all_settled`, `any` and `race`. Which operand decided the
//! outcome is recorded, so a replay gives the same outcome instead of racing again.
//!
//! Each operand polls in an id namespace of its own (see [`super::scope`]): operations an
//! operand starts on the combinator's context while it is polled are numbered under the
//! combinator (`P-1-…` for the first operand of the combinator at `P`, `P-2-…` for the
//! second), so their ids do not depend on which operands run or in which order. On replay
//! the operand that decided the outcome runs again from its records; the others run in a
//! replay-only scope, where they revisit what they recorded and stop where they were
//! abandoned, writing nothing.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use super::lifecycle::Op;
use super::scope::{drain_replay_only, Namespace, Scoped};
use super::{DurableContext, Name, Position};
use crate::error::{error_object, Error};
use crate::replay::combinator::{
    self, decision_payload, on_finished, replay_agrees, Combine, Kind, Recorded,
};
use crate::wire::{OperationAction, OperationType};

type Operand<'a, T> = Scoped<dyn Future<Output = Result<T, Error>> + Send + 'a>;

impl DurableContext {
    /// Waits for every operand and returns their values in order; fails as soon as one
    /// fails (the first failure, in the order they failed, is recorded and replayed).
    ///
    /// Operands are futures of durable operations: operations created beforehand, or
    /// `async` blocks that run several operations on this context. Each operand gets an
    /// id namespace of its own, so blocks may run any operations in any order:
    ///
    /// ```no_run
    /// use std::future::IntoFuture;
    /// use std::time::Duration;
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// async fn both(ctx: &DurableContext) -> Result<Vec<u32>, Error> {
    ///     let a = ctx.step("a", |_| async { Ok::<_, std::io::Error>(1) });
    ///     let b = async {
    ///         ctx.wait("settle", Duration::from_secs(5)).await?;
    ///         ctx.step("b", |_| async { Ok::<_, std::io::Error>(2) }).await
    ///     };
    ///     ctx.all("a and b", vec![a.into_future(), Box::pin(b)]).await
    /// }
    /// ```
    ///
    /// Operands must start their operations on this context (or on contexts they create),
    /// not on another context they captured.
    ///
    /// # Errors
    ///
    /// The first operand error.
    pub async fn all<'a, T, F>(
        &'a self,
        name: impl Into<Name>,
        operations: Vec<F>,
    ) -> Result<Vec<T>, Error>
    where
        F: IntoFuture<Output = Result<T, Error>>,
        F::IntoFuture: Send + 'a,
        T: Send + 'a,
    {
        let position = self.reserve(name.into());
        let operands = self.operands(&position, operations);
        let op = Op::open(
            self,
            position,
            OperationType::Step,
            Kind::All.sub_type(),
            "all",
        )?;
        if let Some(index) = recorded_decision(&op, operands.len()).await? {
            // An `all` is decided only by a failure (`replay_decision` checks it).
            return Err(
                match replay_decision(&op, Kind::All, operands, index).await {
                    Err(err) => err,
                    Ok(_) => inconsistent(&op, index),
                },
            );
        }
        let namespaces = namespaces(&operands);
        let mut values: Vec<Option<T>> = (0..operands.len()).map(|_| None).collect();
        let mut running = indexed(operands);
        while let Some((index, outcome)) = running.next().await {
            let outcome = outcome_of(outcome)?;
            match on_finished(Kind::All, outcome.is_ok()) {
                Combine::Continue => values[index] = outcome.ok(),
                Combine::Decide => {
                    record_decision(&op, index).await?;
                    advance(op.ctx, &namespaces[index..=index]);
                    return outcome.map(|_| Vec::new());
                }
            }
        }
        advance(op.ctx, &namespaces);
        Ok(values.into_iter().flatten().collect())
    }

    /// Waits for every operand and returns each outcome, success or failure, in order.
    /// The outcome does not depend on timing (every operand runs to its end on every
    /// replay), so nothing is recorded.
    pub async fn all_settled<'a, T, F>(
        &'a self,
        name: impl Into<Name>,
        operations: Vec<F>,
    ) -> Vec<Result<T, Error>>
    where
        F: IntoFuture<Output = Result<T, Error>>,
        F::IntoFuture: Send + 'a,
        T: Send + 'a,
    {
        let position = self.reserve(name.into());
        let operands = self.operands(&position, operations);
        let namespaces = namespaces(&operands);
        let outcomes = futures_util::future::join_all(operands).await;
        advance(self, &namespaces);
        outcomes
    }

    /// Returns the value of the first operand to succeed (recorded and replayed); fails
    /// with [`Error::AllFailed`] when every operand fails.
    ///
    /// # Errors
    ///
    /// [`Error::AllFailed`] with the error of the first operand (by position). A fatal SDK
    /// error of an operand ([`Error::Checkpoint`], [`Error::NonDeterministic`]) is returned
    /// at once, as it is by every combinator: it ends the invocation, it is not an
    /// operand's failure.
    pub async fn any<'a, T, F>(
        &'a self,
        name: impl Into<Name>,
        operations: Vec<F>,
    ) -> Result<T, Error>
    where
        F: IntoFuture<Output = Result<T, Error>>,
        F::IntoFuture: Send + 'a,
        T: Send + 'a,
    {
        let position = self.reserve(name.into());
        let operands = self.operands(&position, operations);
        let op = Op::open(
            self,
            position,
            OperationType::Step,
            Kind::Any.sub_type(),
            "any",
        )?;
        let count = operands.len();
        if let Some(index) = recorded_decision(&op, count).await? {
            return replay_decision(&op, Kind::Any, operands, index).await;
        }
        let namespaces = namespaces(&operands);
        let mut errors: Vec<Option<Error>> = (0..count).map(|_| None).collect();
        let mut running = indexed(operands);
        while let Some((index, outcome)) = running.next().await {
            let outcome = outcome_of(outcome)?;
            match on_finished(Kind::Any, outcome.is_ok()) {
                Combine::Continue => errors[index] = outcome.err(),
                Combine::Decide => {
                    record_decision(&op, index).await?;
                    advance(op.ctx, &namespaces[index..=index]);
                    return outcome;
                }
            }
        }
        advance(op.ctx, &namespaces);
        let first = errors
            .into_iter()
            .flatten()
            .next()
            .map(|err| err.to_error_object())
            .unwrap_or_else(|| error_object("CombinatorError", "no operations were given"));
        Err(Error::AllFailed {
            operation: op.reference(),
            count,
            error: Box::new(first),
        })
    }

    /// Returns the outcome (success or failure) of the first operand to finish; which
    /// one finished first is recorded and replayed.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// // An approval, or a default after a day, whichever comes first.
    /// async fn approved(ctx: &DurableContext) -> Result<bool, Error> {
    ///     let callback = ctx.create_callback::<bool>("approval").await?;
    ///     let answer = callback.result();
    ///     let default = async {
    ///         ctx.wait("one day", Duration::from_secs(86_400)).await?;
    ///         Ok::<_, Error>(false)
    ///     };
    ///     ctx.race("approval or default", vec![
    ///         Box::pin(answer) as std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>,
    ///         Box::pin(default),
    ///     ])
    ///     .await
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// The error of the first operand to finish, if it failed;
    /// [`Error::InvalidArgument`] when there is no operand.
    pub async fn race<'a, T, F>(
        &'a self,
        name: impl Into<Name>,
        operations: Vec<F>,
    ) -> Result<T, Error>
    where
        F: IntoFuture<Output = Result<T, Error>>,
        F::IntoFuture: Send + 'a,
        T: Send + 'a,
    {
        let position = self.reserve(name.into());
        let operands = self.operands(&position, operations);
        let op = Op::open(
            self,
            position,
            OperationType::Step,
            Kind::Race.sub_type(),
            "race",
        )?;
        if operands.is_empty() {
            return Err(op.invalid("race needs at least one operation".to_string()));
        }
        if let Some(index) = recorded_decision(&op, operands.len()).await? {
            return replay_decision(&op, Kind::Race, operands, index).await;
        }
        let namespaces = namespaces(&operands);
        let mut running = indexed(operands);
        while let Some((index, outcome)) = running.next().await {
            let outcome = outcome_of(outcome)?;
            if on_finished(Kind::Race, outcome.is_ok()) == Combine::Decide {
                record_decision(&op, index).await?;
                advance(op.ctx, &namespaces[index..=index]);
                return outcome;
            }
        }
        Err(op.invalid("race needs at least one operation".to_string()))
    }

    /// The operands of the combinator at `position`, each polled in its own namespace.
    fn operands<'a, T, F>(&self, position: &Position, operations: Vec<F>) -> Vec<Operand<'a, T>>
    where
        F: IntoFuture<Output = Result<T, Error>>,
        F::IntoFuture: Send + 'a,
    {
        operations
            .into_iter()
            .enumerate()
            .map(|(index, operation)| {
                let namespace =
                    Namespace::new(format!("{}-{}", position.path, index + 1), position.clock);
                let future: Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>> =
                    Box::pin(operation.into_future());
                Scoped::new(self.scope_key(), Arc::new(namespace), false, future)
            })
            .collect()
    }
}

/// Looks up the combinator's record: the index of the operand that decided, if any.
async fn recorded_decision(op: &Op<'_>, operands: usize) -> Result<Option<usize>, Error> {
    match op
        .decide(|record| combinator::recorded_decision(record, operands))
        .await
    {
        Recorded::Live => Ok(None),
        Recorded::Replay(index) => Ok(Some(index)),
        Recorded::Unreadable(message) => Err(op.serialization("deserialize", message)),
        Recorded::OutOfRange(index) => Err(inconsistent(op, index)),
    }
}

/// Records that operand `index` decided the outcome.
async fn record_decision(op: &Op<'_>, index: usize) -> Result<(), Error> {
    let mut update = op.update(OperationAction::Succeed);
    update.payload = Some(decision_payload(index));
    op.write(update).await
}

/// An operand's outcome, unless it is a fatal SDK error (a failed checkpoint,
/// non-determinism): that one is returned at once by every combinator, records nothing and
/// ends the invocation; it is not an operand's failure.
fn outcome_of<T>(outcome: Result<T, Error>) -> Result<Result<T, Error>, Error> {
    match outcome {
        Err(err) if err.is_fatal() => Err(err),
        outcome => Ok(outcome),
    }
}

fn namespaces<T>(operands: &[Operand<'_, T>]) -> Vec<Arc<Namespace>> {
    operands
        .iter()
        .map(|operand| Arc::clone(operand.namespace()))
        .collect()
}

/// The operands still running, polled together. An operand that ends with a fatal SDK
/// error (a checkpoint that failed, non-determinism) does not decide anything: the
/// combinators return that error at once and record nothing, and the invocation ends.
///
/// Every pass polls every running operand, in index order, so that each of them has been
/// polled (and has replayed what it recorded in earlier invocations) before an outcome is
/// decided; when several finish in one pass, the lowest index comes first.
struct Running<'a, T> {
    operands: Vec<Option<Operand<'a, T>>>,
    finished: std::collections::VecDeque<(usize, Result<T, Error>)>,
}

fn indexed<T>(operands: Vec<Operand<'_, T>>) -> Running<'_, T> {
    Running {
        operands: operands.into_iter().map(Some).collect(),
        finished: std::collections::VecDeque::new(),
    }
}

impl<T> Running<'_, T> {
    /// The next operand to finish, with its index; `None` when none is left.
    async fn next(&mut self) -> Option<(usize, Result<T, Error>)> {
        std::future::poll_fn(|cx| {
            if let Some(done) = self.finished.pop_front() {
                return Poll::Ready(Some(done));
            }
            let mut left = false;
            for (index, slot) in self.operands.iter_mut().enumerate() {
                let Some(operand) = slot else { continue };
                if let Poll::Ready(outcome) = Pin::new(operand).poll(cx) {
                    *slot = None;
                    self.finished.push_back((index, outcome));
                } else {
                    left = true;
                }
            }
            match self.finished.pop_front() {
                Some(done) => Poll::Ready(Some(done)),
                None if left => Poll::Pending,
                None => Poll::Ready(None),
            }
        })
        .await
    }
}

/// Moves the clock of the combinator's namespace to the latest time the operands that
/// decided the outcome reached.
fn advance(ctx: &DurableContext, namespaces: &[Arc<Namespace>]) {
    if let Some(latest) = namespaces.iter().map(|namespace| namespace.clock()).max() {
        ctx.namespace().advance(latest);
    }
}

/// Replays a recorded decision: the other operands revisit their records replay-only, then
/// the deciding operand runs again from its records, and must finish as recorded.
async fn replay_decision<T>(
    op: &Op<'_>,
    kind: Kind,
    mut operands: Vec<Operand<'_, T>>,
    index: usize,
) -> Result<T, Error> {
    if index >= operands.len() {
        return Err(inconsistent(op, index));
    }
    let decider = operands.remove(index);
    for operand in &mut operands {
        operand.set_replay_only();
    }
    drain_replay_only(&mut operands);
    drop(operands);
    let namespace = Arc::clone(decider.namespace());
    let outcome = outcome_of(decider.await)?;
    if !replay_agrees(kind, outcome.is_ok()) {
        return Err(inconsistent(op, index));
    }
    advance(op.ctx, std::slice::from_ref(&namespace));
    outcome
}

fn inconsistent(op: &Op<'_>, index: usize) -> Error {
    Error::NonDeterministic {
        id: op.position.id.to_string(),
        expected: "the operations given to the combinator".to_string(),
        found: format!("a recorded outcome of operation #{index}, which does not match"),
    }
}
