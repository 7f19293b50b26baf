//! `parallel_tuple`: a parallel of branches whose values have different types.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::batch::branch_failure;
use super::{
    BatchItem, BatchItemStatus, BatchResult, Branch, CompletionConfig, CompletionReason,
    DurableContext, Name, Nesting, Parallel,
};
use crate::error::{error_object, Error, OperationRef};

/// A tuple of 2 to 8 [`Branch`]es whose values may have different types, for
/// [`DurableContext::parallel_tuple`].
pub trait BranchTuple<'a>: Sized {
    /// The tuple of what became of each branch, `(BatchItem<A>, BatchItem<B>, ...)`.
    type Items: ItemTuple;

    /// The branches, their values as JSON.
    #[doc(hidden)]
    fn into_json(self) -> Vec<Branch<'a, Value>>;
}

/// A tuple of 2 to 8 [`BatchItem`]s of different types: the items of a
/// [`TupleResult`].
pub trait ItemTuple: Sized {
    /// The tuple of the items' values, `(A, B, ...)`.
    type Values;

    /// Every value, or the error of the first item that has none.
    #[doc(hidden)]
    fn values(self) -> Result<Self::Values, Error>;

    /// Each branch's item, its value read back as its own type.
    #[doc(hidden)]
    fn from_json(items: Vec<BatchItem<Value>>) -> Result<Self, Error>;
}

/// One branch's item with its value read back as `T`.
fn typed<T: DeserializeOwned>(item: BatchItem<Value>) -> Result<BatchItem<T>, Error> {
    let BatchItem {
        index,
        status,
        result,
        error,
    } = item;
    let result = match result {
        Some(value) => Some(
            serde_json::from_value(value)
                .map_err(|err| Error::serialization(branch_ref(index), "deserialize", err))?,
        ),
        None => None,
    };
    Ok(BatchItem {
        index,
        status,
        result,
        error,
    })
}

fn branch_ref(index: usize) -> OperationRef {
    OperationRef::new("parallel branch", &index.to_string(), None)
}

/// A branch's value, or why it has none: its recorded error, or that it never finished.
fn value<T>(item: BatchItem<T>) -> Result<T, Error> {
    let index = item.index;
    match (item.status, item.result, item.error) {
        (BatchItemStatus::Succeeded, Some(value), _) => Ok(value),
        (BatchItemStatus::Failed, _, error) => Err(branch_failure(
            index,
            error.unwrap_or_else(|| error_object("ChildContextError", "branch failed")),
        )),
        (status, ..) => Err(branch_failure(
            index,
            error_object(
                "BranchNotFinished",
                &format!("branch {index} has no value: {status:?} when the parallel completed"),
            ),
        )),
    }
}

macro_rules! branch_tuple {
    ($($value:ident $branch:ident $index:tt),+) => {
        impl<'a, $($value),+> BranchTuple<'a> for ($(Branch<'a, $value>,)+)
        where
            $($value: Serialize + DeserializeOwned + Send + 'a,)+
        {
            type Items = ($(BatchItem<$value>,)+);

            fn into_json(self) -> Vec<Branch<'a, Value>> {
                vec![$(self.$index.into_json()),+]
            }
        }

        impl<$($value: DeserializeOwned),+> ItemTuple for ($(BatchItem<$value>,)+) {
            type Values = ($($value,)+);

            fn values(self) -> Result<Self::Values, Error> {
                Ok(($(value(self.$index)?,)+))
            }

            fn from_json(items: Vec<BatchItem<Value>>) -> Result<Self, Error> {
                let mut items = items.into_iter();
                $(
                    let $branch = typed::<$value>(items.next().ok_or_else(|| {
                        Error::invalid_input(format!("the parallel has no branch {}", $index))
                    })?)?;
                )+
                Ok(($($branch,)+))
            }
        }
    };
}

branch_tuple!(A a 0, B b 1);
branch_tuple!(A a 0, B b 1, C c 2);
branch_tuple!(A a 0, B b 1, C c 2, D d 3);
branch_tuple!(A a 0, B b 1, C c 2, D d 3, E e 4);
branch_tuple!(A a 0, B b 1, C c 2, D d 3, E e 4, F f 5);
branch_tuple!(A a 0, B b 1, C c 2, D d 3, E e 4, F f 5, G g 6);
branch_tuple!(A a 0, B b 1, C c 2, D d 3, E e 4, F f 5, G g 6, H h 7);

/// The outcome of a [`parallel_tuple`](DurableContext::parallel_tuple): what became of
/// each branch, typed, and why the parallel completed.
#[derive(Debug, Clone, PartialEq)]
pub struct TupleResult<I> {
    items: I,
    completion_reason: CompletionReason,
}

impl<I> TupleResult<I> {
    /// What became of each branch: `(BatchItem<A>, BatchItem<B>, ...)`.
    pub fn items(&self) -> &I {
        &self.items
    }

    /// The items, by value.
    pub fn into_items(self) -> I {
        self.items
    }

    /// Why the parallel completed.
    pub fn completion_reason(&self) -> CompletionReason {
        self.completion_reason
    }
}

/// A parallel of branches of different types being configured; `.await` it to run it.
/// Created by [`DurableContext::parallel_tuple`].
#[must_use = "a parallel does nothing until it is awaited"]
pub struct ParallelTuple<'a, I> {
    parallel: Parallel<'a, Value>,
    items: std::marker::PhantomData<fn() -> I>,
}

impl<'a, I> ParallelTuple<'a, I> {
    /// See [`Parallel::max_concurrency`].
    pub fn max_concurrency(mut self, limit: usize) -> Self {
        self.parallel = self.parallel.max_concurrency(limit);
        self
    }

    /// See [`Parallel::completion`].
    pub fn completion(mut self, completion: CompletionConfig) -> Self {
        self.parallel = self.parallel.completion(completion);
        self
    }

    /// See [`Parallel::nesting`].
    pub fn nesting(mut self, nesting: Nesting) -> Self {
        self.parallel = self.parallel.nesting(nesting);
        self
    }
}

impl DurableContext {
    /// Runs branches whose values have different types in parallel, as
    /// [`parallel`](Self::parallel) does (recorded the same way, each branch's value as
    /// JSON of its own type), and gives each branch's outcome back typed.
    ///
    /// ```no_run
    /// use lambda_durable::{branch, DurableContext, Error};
    ///
    /// async fn trip(ctx: &DurableContext) -> Result<(String, u32), Error> {
    ///     let booked = ctx
    ///         .parallel_tuple(
    ///             "book",
    ///             (
    ///                 branch("hotel", |c: DurableContext| async move {
    ///                     c.step("reserve", |_| async { Ok::<_, std::io::Error>("H-1".to_string()) })
    ///                         .await
    ///                 }),
    ///                 branch("seats", |c: DurableContext| async move {
    ///                     c.step("count", |_| async { Ok::<_, std::io::Error>(2u32) }).await
    ///                 }),
    ///             ),
    ///         )
    ///         .await?;
    ///     // Both values, or the first branch's error.
    ///     booked.into_values()
    /// }
    /// ```
    pub fn parallel_tuple<'a, 'b: 'a, T: BranchTuple<'b>>(
        &'a self,
        name: impl Into<Name>,
        branches: T,
    ) -> ParallelTuple<'a, T::Items> {
        ParallelTuple {
            parallel: self.parallel(name, branches.into_json()),
            items: std::marker::PhantomData,
        }
    }
}

impl<I: ItemTuple> TupleResult<I> {
    /// Every branch's value, or the error of the first branch (in order) that has none:
    /// its recorded failure, or that it had not finished when the parallel completed.
    ///
    /// # Errors
    ///
    /// [`Error::ChildContextFailed`] for that branch.
    pub fn into_values(self) -> Result<I::Values, Error> {
        self.items.values()
    }
}

impl<'a, I> IntoFuture for ParallelTuple<'a, I>
where
    I: ItemTuple + 'a,
{
    type Output = Result<TupleResult<I>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let parallel = self.parallel.into_future();
        Box::pin(async move {
            let result: BatchResult<Value> = parallel.await?;
            let completion_reason = result.completion_reason();
            Ok(TupleResult {
                items: I::from_json(result.into_items())?,
                completion_reason,
            })
        })
    }
}
