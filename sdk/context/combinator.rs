//! Durable combinators: `all`, `all_settled`, `any` and `race` over operations that were
//! started earlier. Which operation decided the outcome is recorded, so a replay gives the
//! same outcome instead of racing again.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;

use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::{Deserialize, Serialize};

use super::{DurableContext, Name, Position};
use crate::error::{error_object, Error};
use crate::replay::Expected;
use crate::wire::{OperationAction, OperationStatus, OperationType};

type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

#[derive(Serialize, Deserialize)]
struct Decision {
    index: usize,
}

impl DurableContext {
    /// Waits for every operation and returns their values in order; fails as soon as one
    /// fails (the first failure, in the order they failed, is recorded and replayed).
    ///
    /// Operations reserve their ids when they are created, so start them first and
    /// combine them afterwards:
    ///
    /// ```no_run
    /// use std::future::IntoFuture;
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// async fn both(ctx: &DurableContext) -> Result<Vec<u32>, Error> {
    ///     let a = ctx.step("a", |_| async { Ok::<_, std::io::Error>(1) });
    ///     let b = ctx.step("b", |_| async { Ok::<_, std::io::Error>(2) });
    ///     ctx.all("a and b", vec![a.into_future(), b.into_future()]).await
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// The first operation error.
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
        let mut futures = boxed(operations);
        if let Some(index) = self.recorded_decision(&position, "All").await? {
            let failed = take(&mut futures, index, &position)?.await;
            return match failed {
                Err(err) => Err(err),
                Ok(_) => Err(inconsistent(&position, index)),
            };
        }
        let mut values: Vec<Option<T>> = (0..futures.len()).map(|_| None).collect();
        let mut running: FuturesUnordered<_> = futures
            .into_iter()
            .enumerate()
            .filter_map(|(index, future)| future.map(|future| (index, future)))
            .map(|(index, future)| async move { (index, future.await) })
            .collect();
        while let Some((index, outcome)) = running.next().await {
            match outcome {
                Ok(value) => values[index] = Some(value),
                Err(err) => {
                    self.record_decision(&position, "All", index).await?;
                    return Err(err);
                }
            }
        }
        Ok(values.into_iter().flatten().collect())
    }

    /// Waits for every operation and returns each outcome, success or failure, in order.
    /// The outcome does not depend on timing, so nothing is recorded.
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
        let _position = self.reserve(name.into());
        futures_util::future::join_all(boxed(operations).into_iter().flatten()).await
    }

    /// Returns the value of the first operation to succeed (recorded and replayed); fails
    /// with [`Error::AllFailed`] when every operation fails.
    ///
    /// # Errors
    ///
    /// [`Error::AllFailed`] with the error of the first operation (by position).
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
        let mut futures = boxed(operations);
        let count = futures.len();
        if let Some(index) = self.recorded_decision(&position, "Any").await? {
            return take(&mut futures, index, &position)?.await;
        }
        let mut errors: Vec<Option<Error>> = (0..count).map(|_| None).collect();
        let mut running: FuturesUnordered<_> = futures
            .into_iter()
            .enumerate()
            .filter_map(|(index, future)| future.map(|future| (index, future)))
            .map(|(index, future)| async move { (index, future.await) })
            .collect();
        while let Some((index, outcome)) = running.next().await {
            match outcome {
                Ok(value) => {
                    self.record_decision(&position, "Any", index).await?;
                    return Ok(value);
                }
                Err(err) => errors[index] = Some(err),
            }
        }
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

    /// Returns the outcome (success or failure) of the first operation to finish; which
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
    /// The error of the first operation to finish, if it failed.
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
        let mut futures = boxed(operations);
        if futures.is_empty() {
            return Err(Error::InvalidArgument {
                operation: position.reference("race"),
                message: "race needs at least one operation".to_string(),
            });
        }
        if let Some(index) = self.recorded_decision(&position, "Race").await? {
            return take(&mut futures, index, &position)?.await;
        }
        let mut running: FuturesUnordered<_> = futures
            .into_iter()
            .enumerate()
            .filter_map(|(index, future)| future.map(|future| (index, future)))
            .map(|(index, future)| async move { (index, future.await) })
            .collect();
        match running.next().await {
            Some((index, outcome)) => {
                self.record_decision(&position, "Race", index).await?;
                outcome
            }
            None => Err(Error::InvalidArgument {
                operation: position.reference("race"),
                message: "race needs at least one operation".to_string(),
            }),
        }
    }

    async fn recorded_decision(
        &self,
        position: &Position,
        sub_type: &'static str,
    ) -> Result<Option<usize>, Error> {
        let expected = Expected {
            ty: OperationType::Step,
            sub_type,
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
        sub_type: &'static str,
        index: usize,
    ) -> Result<(), Error> {
        let exec = Arc::clone(self.exec());
        let mut update = position.update(OperationType::Step, sub_type, OperationAction::Succeed);
        update.payload = serde_json::to_string(&Decision { index }).ok();
        exec.checkpoint(update).await
    }
}

fn boxed<'a, T, F>(operations: Vec<F>) -> Vec<Option<Boxed<'a, T>>>
where
    F: IntoFuture<Output = Result<T, Error>>,
    F::IntoFuture: Send + 'a,
{
    operations
        .into_iter()
        .map(|op| Some(Box::pin(op.into_future()) as Boxed<'a, T>))
        .collect()
}

fn take<'a, T>(
    futures: &mut [Option<Boxed<'a, T>>],
    index: usize,
    position: &Position,
) -> Result<Boxed<'a, T>, Error> {
    futures
        .get_mut(index)
        .and_then(Option::take)
        .ok_or_else(|| inconsistent(position, index))
}

fn inconsistent(position: &Position, index: usize) -> Error {
    Error::NonDeterministic {
        id: position.id.to_string(),
        expected: "the operations given to the combinator".to_string(),
        found: format!("a recorded outcome of operation #{index}, which does not match"),
    }
}
