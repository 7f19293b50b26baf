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

use serde::{Deserialize, Serialize};

use super::scope::{drain_replay_only, Namespace, Scoped};
use super::{DurableContext, Name, Position};
use crate::error::{error_object, Error};
use crate::replay::Expected;
use crate::wire::{OperationAction, OperationStatus, OperationType};

type Operand<'a, T> = Scoped<dyn Future<Output = Result<T, Error>> + Send + 'a>;

/// What a combinator records: the operand that decided its outcome.
#[derive(Serialize, Deserialize)]
struct Decision {
    index: usize,
}

/// The kinds of combinator, by the sub type of their record.
#[derive(Clone, Copy)]
enum Kind {
    All,
    Any,
    Race,
}

impl Kind {
    fn sub_type(self) -> &'static str {
        match self {
            Kind::All => "All",
            Kind::Any => "Any",
            Kind::Race => "Race",
        }
    }
}

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
        if let Some(index) = self.recorded_decision(&position, Kind::All).await? {
            return match replay_decision(self, &position, operands, index).await? {
                Err(err) => Err(err),
                Ok(_) => Err(inconsistent(&position, index)),
            };
        }
        let namespaces = namespaces(&operands);
        let mut values: Vec<Option<T>> = (0..operands.len()).map(|_| None).collect();
        let mut running = indexed(operands);
        while let Some((index, outcome)) = running.next().await {
            match outcome {
                Ok(value) => values[index] = Some(value),
                Err(err) if err.is_fatal() => return Err(err),
                Err(err) => {
                    self.record_decision(&position, Kind::All, index).await?;
                    advance(self, &namespaces[index..=index]);
                    return Err(err);
                }
            }
        }
        advance(self, &namespaces);
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
        let count = operands.len();
        if let Some(index) = self.recorded_decision(&position, Kind::Any).await? {
            return replay_decision(self, &position, operands, index).await?;
        }
        let namespaces = namespaces(&operands);
        let mut errors: Vec<Option<Error>> = (0..count).map(|_| None).collect();
        let mut running = indexed(operands);
        while let Some((index, outcome)) = running.next().await {
            match outcome {
                Ok(value) => {
                    self.record_decision(&position, Kind::Any, index).await?;
                    advance(self, &namespaces[index..=index]);
                    return Ok(value);
                }
                Err(err) if err.is_fatal() => return Err(err),
                Err(err) => errors[index] = Some(err),
            }
        }
        advance(self, &namespaces);
        let first = errors
            .into_iter()
            .flatten()
            .next()
            .map(|err| err.to_error_object())
            .unwrap_or_else(|| error_object("CombinatorError", "no operations were given"));
        Err(Error::AllFailed {
            operation: position.reference("any"),
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
        if operands.is_empty() {
            return Err(Error::InvalidArgument {
                operation: position.reference("race"),
                message: "race needs at least one operation".to_string(),
            });
        }
        if let Some(index) = self.recorded_decision(&position, Kind::Race).await? {
            return replay_decision(self, &position, operands, index).await?;
        }
        let namespaces = namespaces(&operands);
        let mut running = indexed(operands);
        match running.next().await {
            Some((_, Err(err))) if err.is_fatal() => Err(err),
            Some((index, outcome)) => {
                self.record_decision(&position, Kind::Race, index).await?;
                advance(self, &namespaces[index..=index]);
                outcome
            }
            None => Err(Error::InvalidArgument {
                operation: position.reference("race"),
                message: "race needs at least one operation".to_string(),
            }),
        }
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

    async fn recorded_decision(
        &self,
        position: &Position,
        kind: Kind,
    ) -> Result<Option<usize>, Error> {
        let expected = Expected {
            ty: OperationType::Step,
            sub_type: kind.sub_type(),
            name: position.name_str(),
        };
        let Some(op) = self.recorded(position, expected).await else {
            return Ok(None);
        };
        if op.status != OperationStatus::Succeeded {
            return Ok(None);
        }
        let text = op
            .step_details
            .as_ref()
            .and_then(|d| d.result.as_deref())
            .unwrap_or("null");
        serde_json::from_str::<Decision>(text)
            .map(|decision| Some(decision.index))
            .map_err(|err| Error::Serialization {
                operation: position.reference("combinator"),
                action: "deserialize",
                message: err.to_string(),
            })
    }

    async fn record_decision(
        &self,
        position: &Position,
        kind: Kind,
        index: usize,
    ) -> Result<(), Error> {
        let exec = Arc::clone(self.exec());
        let mut update = position.update(
            OperationType::Step,
            kind.sub_type(),
            OperationAction::Succeed,
        );
        update.payload = serde_json::to_string(&Decision { index }).ok();
        exec.checkpoint(update).await
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
/// the deciding operand runs again from its records.
async fn replay_decision<T>(
    ctx: &DurableContext,
    position: &Position,
    mut operands: Vec<Operand<'_, T>>,
    index: usize,
) -> Result<Result<T, Error>, Error> {
    if index >= operands.len() {
        return Err(inconsistent(position, index));
    }
    let decider = operands.remove(index);
    for operand in &mut operands {
        operand.set_replay_only();
    }
    drain_replay_only(&mut operands);
    drop(operands);
    let namespace = Arc::clone(decider.namespace());
    let outcome = decider.await;
    advance(ctx, std::slice::from_ref(&namespace));
    Ok(outcome)
}

fn inconsistent(position: &Position, index: usize) -> Error {
    Error::NonDeterministic {
        id: position.id.to_string(),
        expected: "the operations given to the combinator".to_string(),
        found: format!("a recorded outcome of operation #{index}, which does not match"),
    }
}
