//! `map` and `parallel`: run many branches, each in its own child context, with a
//! concurrency limit and completion rules.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;

use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use super::child::{run_batch_context, run_child};
use super::scope::{drain_replay_only, Scoped};
use super::{DurableContext, Name, Position};
use crate::error::{user_error_object, Error};
use crate::replay;
use crate::replay::batch::Rules;
use crate::serdes::{DefaultSerdes, Serdes};
use crate::wire::ErrorObject;

type BranchFuture<'a, R> = Pin<Box<dyn Future<Output = Result<R, ErrorObject>> + Send + 'a>>;
/// A branch's code, run once.
type OnceBody<'a, R> = Box<dyn FnOnce(DurableContext) -> BranchFuture<'a, R> + Send + 'a>;

/// A branch's code.
enum BranchBody<'a, R> {
    /// Runs once (a [`branch`] of a parallel).
    Once(OnceBody<'a, R>),
    /// Makes the code of each run: the branch can run again in place (a map item, whose
    /// function and item the map keeps; see [`super::restart`]).
    Again(Box<dyn FnMut() -> OnceBody<'a, R> + Send + 'a>),
}

impl<'a, R: 'a> BranchBody<'a, R> {
    /// The code of one run.
    fn once(self) -> OnceBody<'a, R> {
        match self {
            BranchBody::Once(body) => body,
            BranchBody::Again(mut make) => make(),
        }
    }
}
type Predicate = Arc<dyn Fn(&BatchProgress) -> bool + Send + Sync>;

/// One branch of a [`parallel`](DurableContext::parallel), made by [`branch`].
pub struct Branch<'a, R> {
    name: Name,
    body: BranchBody<'a, R>,
}

impl<R> fmt::Debug for Branch<'_, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Branch")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<'a, R: 'a> Branch<'a, R> {
    /// The same branch, for a batch that borrows for a shorter time (`Branch` is invariant
    /// in its lifetime, which appears in what its body returns).
    fn within<'b>(self) -> Branch<'b, R>
    where
        'a: 'b,
    {
        let body = self.body.once();
        Branch {
            name: self.name,
            body: BranchBody::Once(Box::new(move |ctx| -> BranchFuture<'b, R> { body(ctx) })),
        }
    }
}

impl<'a, R: Serialize + Send + 'a> Branch<'a, R> {
    /// The same branch with its value as JSON, for a parallel of branches of different
    /// types: recorded exactly as the typed branch would be.
    pub(crate) fn into_json(self) -> Branch<'a, serde_json::Value> {
        let body = self.body.once();
        Branch {
            name: self.name,
            body: BranchBody::Once(Box::new(move |ctx| {
                Box::pin(async move {
                    let value = body(ctx).await?;
                    serde_json::to_value(value).map_err(|err| {
                        crate::error::error_object(
                            "SerdesError",
                            &format!("the branch's value does not serialize: {err}"),
                        )
                    })
                })
            })),
        }
    }
}

/// Makes a branch for [`DurableContext::parallel`] from a name (or `None`) and an async
/// function of the branch's own context.
pub fn branch<'a, R, E, F, Fut>(name: impl Into<Name>, body: F) -> Branch<'a, R>
where
    F: FnOnce(DurableContext) -> Fut + Send + 'a,
    Fut: Future<Output = Result<R, E>> + Send + 'a,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'a,
{
    Branch {
        name: name.into(),
        body: BranchBody::Once(Box::new(move |ctx| {
            Box::pin(async move { body(ctx).await.map_err(user_error_object) })
        })),
    }
}

/// How the branches of a batch are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Nesting {
    /// Each branch is a CONTEXT operation of its own (the default); its result is
    /// checkpointed, so a finished branch never runs again.
    #[default]
    Nested,
    /// Branches are not checkpointed as operations: their operations hang directly under
    /// the batch, which saves one operation per branch. An unfinished batch re-runs the
    /// bodies of finished branches on replay (their operations replay from the log).
    Flat,
}

/// Progress of a batch, given to a custom completion predicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchProgress {
    /// Branches that succeeded.
    pub succeeded: usize,
    /// Branches that failed.
    pub failed: usize,
    /// Branches started and not finished.
    pub running: usize,
    /// All branches.
    pub total: usize,
}

/// When a batch stops starting branches and completes.
///
/// Without any rule a batch runs every branch and fails fast: the first failure completes
/// it with [`CompletionReason::FailureToleranceExceeded`]. A batch never fails because of
/// its branches: it completes with a [`BatchResult`] that tells what happened.
#[derive(Clone, Default)]
pub struct CompletionConfig {
    rules: Rules,
    predicate: Option<Predicate>,
}

impl fmt::Debug for CompletionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompletionConfig")
            .field("min_successful", &self.rules.min_successful)
            .field(
                "tolerated_failure_count",
                &self.rules.tolerated_failure_count,
            )
            .field(
                "tolerated_failure_percentage",
                &self.rules.tolerated_failure_percentage,
            )
            .field("predicate", &self.predicate.is_some())
            .finish()
    }
}

impl CompletionConfig {
    /// No rules: run everything, fail fast.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every branch must succeed (tolerates no failure).
    pub fn all_successful() -> Self {
        Self::new().tolerated_failure_count(0)
    }

    /// Complete as soon as one branch succeeds.
    pub fn first_successful() -> Self {
        Self::new().min_successful(1)
    }

    /// Run every branch whatever fails.
    pub fn all_completed() -> Self {
        Self::new().tolerated_failure_percentage(100.0)
    }

    /// Complete once this many branches succeeded (at least 1).
    pub fn min_successful(mut self, count: usize) -> Self {
        self.rules.min_successful = Some(count);
        self
    }

    /// Complete (with [`CompletionReason::FailureToleranceExceeded`]) once more than this
    /// many branches failed.
    pub fn tolerated_failure_count(mut self, count: usize) -> Self {
        self.rules.tolerated_failure_count = Some(count);
        self
    }

    /// Complete once more than this percentage (0 to 100) of all branches failed.
    pub fn tolerated_failure_percentage(mut self, percentage: f64) -> Self {
        self.rules.tolerated_failure_percentage = Some(percentage);
        self
    }

    /// Also complete (as [`CompletionReason::PredicateSatisfied`]) as soon as `predicate`
    /// returns true, checked after each branch finishes.
    pub fn complete_when(
        mut self,
        predicate: impl Fn(&BatchProgress) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.predicate = Some(Arc::new(predicate));
        self
    }

    fn validate(&self, total: usize) -> Result<(), String> {
        replay::batch::validate(&self.rules, total)
    }

    /// Whether the batch is complete, and why.
    fn completion(&self, progress: &BatchProgress) -> Option<CompletionReason> {
        replay::batch::completion(&self.rules, progress, |progress| {
            self.predicate
                .as_ref()
                .is_some_and(|predicate| predicate(progress))
        })
    }
}

/// Why a batch completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompletionReason {
    /// Every branch finished.
    AllCompleted,
    /// Enough branches succeeded.
    MinSuccessfulReached,
    /// Too many branches failed.
    FailureToleranceExceeded,
    /// The custom predicate of [`CompletionConfig::complete_when`] held.
    PredicateSatisfied,
}

/// What became of one branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BatchItemStatus {
    /// The branch returned a value.
    Succeeded,
    /// The branch failed.
    Failed,
    /// The branch was running when the batch completed; it gets no further checkpoints.
    Started,
    /// The branch never started: the batch completed first.
    Skipped,
}

/// The outcome of a batch as a whole: see [`BatchResult::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BatchStatus {
    /// No branch failed.
    Succeeded,
    /// At least one branch failed (the batch may still have completed as its
    /// [`CompletionConfig`] allows).
    Failed,
}

/// One branch of a [`BatchResult`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchItem<R> {
    /// The branch's position in the input (0-based).
    pub index: usize,
    /// What became of it.
    pub status: BatchItemStatus,
    /// Its value, when it succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<R>,
    /// Its recorded error, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
}

/// The outcome of a [`map`](DurableContext::map) or [`parallel`](DurableContext::parallel):
/// every branch in index order with what became of it (succeeded, failed, started and
/// unfinished, or skipped because the batch completed before it started), and why the batch
/// completed.
///
/// Each count says what it counts: [`branch_count`](Self::branch_count) (every branch),
/// [`started_count`](Self::started_count) (branches that started, whatever became of
/// them), [`success_count`](Self::success_count), [`failure_count`](Self::failure_count),
/// [`unfinished_count`](Self::unfinished_count) and [`skipped_count`](Self::skipped_count).
///
/// ```
/// use lambda_durable::{BatchItemStatus, BatchStatus, CompletionConfig, DurableContext, Error};
///
/// async fn first_two(ctx: &DurableContext) -> Result<Vec<u32>, Error> {
///     let batch = ctx
///         .map("square", vec![1u32, 2, 3, 4], |_ctx, n, _index| async move {
///             Ok::<_, Error>(n * n)
///         })
///         .max_concurrency(1)
///         .completion(CompletionConfig::new().min_successful(2))
///         .await?;
///     assert_eq!(batch.branch_count(), 4);
///     assert_eq!(batch.started_count(), 2);
///     assert_eq!(batch.skipped_count(), 2);
///     assert_eq!(batch.items()[3].status, BatchItemStatus::Skipped);
///     assert_eq!(batch.status(), BatchStatus::Succeeded);
///     Ok(batch.succeeded().copied().collect())
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BatchResult<R> {
    /// Every branch, `items[i].index == i`.
    items: Vec<BatchItem<R>>,
    completion_reason: CompletionReason,
}

/// The most branches a recorded batch result may claim (the operation log of a batch that
/// large would not fit the service's limits anyway).
const MAX_RECORDED_BRANCHES: usize = 1 << 24;

/// The recorded form of a [`BatchResult`]: the branches that started (skipped ones are
/// left out, and filled in again when it is read), why it completed and how many branches
/// it had.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StoredBatchRef<'a, R> {
    all: Vec<&'a BatchItem<R>>,
    completion_reason: CompletionReason,
    total_count: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredBatch<R> {
    all: Vec<BatchItem<R>>,
    completion_reason: CompletionReason,
    total_count: usize,
}

impl<R: Serialize> Serialize for BatchResult<R> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        StoredBatchRef {
            all: self
                .items
                .iter()
                .filter(|item| item.status != BatchItemStatus::Skipped)
                .collect(),
            completion_reason: self.completion_reason,
            total_count: self.items.len(),
        }
        .serialize(serializer)
    }
}

impl<'de, R: Deserialize<'de>> Deserialize<'de> for BatchResult<R> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = StoredBatch::<R>::deserialize(deserializer)?;
        BatchResult::new(stored.all, stored.completion_reason, stored.total_count)
            .map_err(serde::de::Error::custom)
    }
}

impl<R> BatchItem<R> {
    /// The [`TypedError`](crate::TypedError) the branch failed with, rebuilt from its
    /// recorded error; `None` when it did not fail with one.
    pub fn downcast_error<E: crate::TypedError>(&self) -> Option<E> {
        let error = self.error.as_ref()?;
        crate::error::typed_from(error.error_type.as_deref(), error.error_data.as_deref())
    }
}

impl<R> BatchResult<R> {
    /// The result of a batch of `total` branches of which `started` started (in any
    /// order); the others are skipped. An index out of range, given twice or with the
    /// status `Skipped` is an error naming it.
    fn new(
        started: Vec<BatchItem<R>>,
        completion_reason: CompletionReason,
        total: usize,
    ) -> Result<Self, String> {
        // A recorded count is not trusted with memory: no batch has that many branches.
        if total > MAX_RECORDED_BRANCHES {
            return Err(format!(
                "a batch of {total} branches is more than the {MAX_RECORDED_BRANCHES} a result can hold"
            ));
        }
        let mut slots: Vec<Option<BatchItem<R>>> = Vec::new();
        slots.resize_with(total, || None);
        for item in started {
            let index = item.index;
            if item.status == BatchItemStatus::Skipped {
                return Err(format!("branch {index} is recorded as skipped"));
            }
            match slots.get_mut(index) {
                None => {
                    return Err(format!(
                        "branch {index} is out of range for a batch of {total} branches"
                    ))
                }
                Some(Some(_)) => return Err(format!("branch {index} is recorded twice")),
                Some(slot) => *slot = Some(item),
            }
        }
        let items = slots
            .into_iter()
            .enumerate()
            .map(|(index, slot)| {
                slot.unwrap_or(BatchItem {
                    index,
                    status: BatchItemStatus::Skipped,
                    result: None,
                    error: None,
                })
            })
            .collect();
        Ok(Self {
            items,
            completion_reason,
        })
    }

    /// Every branch, in index order (`items()[i].index == i`), skipped ones included.
    pub fn items(&self) -> &[BatchItem<R>] {
        &self.items
    }

    /// Every branch, in index order, by value.
    pub fn into_items(self) -> Vec<BatchItem<R>> {
        self.items
    }

    /// The branch at `index`, if the batch had one there.
    pub fn item(&self, index: usize) -> Option<&BatchItem<R>> {
        self.items.get(index)
    }

    /// [`BatchStatus::Failed`] when any branch failed, else [`BatchStatus::Succeeded`].
    pub fn status(&self) -> BatchStatus {
        if self.has_failure() {
            BatchStatus::Failed
        } else {
            BatchStatus::Succeeded
        }
    }

    /// Why the batch completed.
    pub fn completion_reason(&self) -> CompletionReason {
        self.completion_reason
    }

    /// The values of the branches that succeeded, in index order.
    pub fn succeeded(&self) -> impl Iterator<Item = &R> {
        self.items.iter().filter_map(|item| item.result.as_ref())
    }

    /// The branches that failed, in index order.
    pub fn failed(&self) -> impl Iterator<Item = &BatchItem<R>> {
        self.with_status(BatchItemStatus::Failed)
    }

    /// The recorded errors of the branches that failed, in index order.
    pub fn errors(&self) -> impl Iterator<Item = &ErrorObject> {
        self.failed().filter_map(|item| item.error.as_ref())
    }

    /// The branches that were still running when the batch completed, in index order.
    pub fn unfinished(&self) -> impl Iterator<Item = &BatchItem<R>> {
        self.with_status(BatchItemStatus::Started)
    }

    /// The indexes of the branches that never started, in order.
    pub fn skipped(&self) -> impl Iterator<Item = usize> + '_ {
        self.with_status(BatchItemStatus::Skipped)
            .map(|item| item.index)
    }

    fn with_status(&self, status: BatchItemStatus) -> impl Iterator<Item = &BatchItem<R>> {
        self.items.iter().filter(move |item| item.status == status)
    }

    /// How many branches the batch had: started or not, its input's length.
    pub fn branch_count(&self) -> usize {
        self.items.len()
    }

    /// How many branches started, whatever became of them (succeeded, failed or
    /// unfinished): the official SDKs' total count.
    pub fn started_count(&self) -> usize {
        self.branch_count() - self.skipped_count()
    }

    /// How many branches succeeded.
    pub fn success_count(&self) -> usize {
        self.count(BatchItemStatus::Succeeded)
    }

    /// How many branches failed.
    pub fn failure_count(&self) -> usize {
        self.count(BatchItemStatus::Failed)
    }

    /// How many branches were still running when the batch completed (status
    /// [`Started`](BatchItemStatus::Started)).
    pub fn unfinished_count(&self) -> usize {
        self.count(BatchItemStatus::Started)
    }

    /// How many branches never started.
    pub fn skipped_count(&self) -> usize {
        self.count(BatchItemStatus::Skipped)
    }

    /// Whether any branch failed.
    pub fn has_failure(&self) -> bool {
        self.failure_count() > 0
    }

    fn count(&self, status: BatchItemStatus) -> usize {
        self.with_status(status).count()
    }

    /// The values of all branches in index order, or the first failure as
    /// [`Error::ChildContextFailed`]. Branches that did not finish or never started are
    /// left out.
    ///
    /// # Errors
    ///
    /// The first failed branch's error.
    pub fn into_results(self) -> Result<Vec<R>, Error> {
        let mut values = Vec::with_capacity(self.items.len());
        for item in self.items {
            match (item.status, item.result, item.error) {
                (BatchItemStatus::Failed, _, error) => {
                    return Err(branch_failure(
                        item.index,
                        error.unwrap_or_else(|| {
                            crate::error::error_object("ChildContextError", "branch failed")
                        }),
                    ))
                }
                (_, Some(value), _) => values.push(value),
                _ => {}
            }
        }
        Ok(values)
    }
}

/// The error of branch `index` of a batch that has no value: `error` is why.
pub(crate) fn branch_failure(index: usize, error: ErrorObject) -> Error {
    Error::ChildContextFailed {
        operation: crate::error::OperationRef::new("batch item", &index.to_string(), None),
        error: Box::new(error),
    }
}

/// Settings shared by map and parallel.
struct BatchSettings {
    max_concurrency: Option<usize>,
    completion: CompletionConfig,
    nesting: Nesting,
}

impl Default for BatchSettings {
    fn default() -> Self {
        Self {
            max_concurrency: None,
            completion: CompletionConfig::new(),
            nesting: Nesting::Nested,
        }
    }
}

#[derive(Clone, Copy)]
struct BatchKind {
    sub_type: &'static str,
    item_sub_type: &'static str,
    default_name: &'static str,
    label: &'static str,
}

const MAP: BatchKind = BatchKind {
    sub_type: "Map",
    item_sub_type: "MapIteration",
    default_name: "map-item",
    label: "map",
};

const PARALLEL: BatchKind = BatchKind {
    sub_type: "Parallel",
    item_sub_type: "ParallelBranch",
    default_name: "parallel-branch",
    label: "parallel",
};

type ItemNamer<'a, I> = Box<dyn Fn(&I, usize) -> String + Send + Sync + 'a>;

/// The serdes of each branch's result, shared by the branches of a batch.
type ItemSerdes<'a, R> = Arc<dyn Serdes<R> + 'a>;

/// A map being configured; `.await` it to run it. Created by [`DurableContext::map`].
#[must_use = "a map does nothing until it is awaited"]
pub struct Map<'a, I, F, S = DefaultSerdes, B = DefaultSerdes> {
    ctx: &'a DurableContext,
    position: Position,
    items: Vec<I>,
    function: F,
    namer: Option<ItemNamer<'a, I>>,
    settings: BatchSettings,
    serdes: BatchSerdes<S, B>,
}

/// The serdes of a batch: `item` for each branch's result, `batch` for the whole result.
#[derive(Debug, Clone)]
struct BatchSerdes<S, B> {
    item: S,
    batch: B,
}

/// A parallel being configured; `.await` it to run it. Created by
/// [`DurableContext::parallel`].
#[must_use = "a parallel does nothing until it is awaited"]
pub struct Parallel<'a, R, S = DefaultSerdes, B = DefaultSerdes> {
    ctx: &'a DurableContext,
    position: Position,
    branches: Vec<Branch<'a, R>>,
    settings: BatchSettings,
    serdes: BatchSerdes<S, B>,
}

macro_rules! batch_setters {
    () => {
        /// Runs at most this many branches at once (by default all). A branch waiting for
        /// a timer or a callback keeps its slot.
        pub fn max_concurrency(mut self, limit: usize) -> Self {
            self.settings.max_concurrency = Some(limit);
            self
        }

        /// Sets when the batch completes (see [`CompletionConfig`]).
        pub fn completion(mut self, completion: CompletionConfig) -> Self {
            self.settings.completion = completion;
            self
        }

        /// Sets how branches are recorded (see [`Nesting`]).
        pub fn nesting(mut self, nesting: Nesting) -> Self {
            self.settings.nesting = nesting;
            self
        }
    };
}

impl<'a, I, F, S, B> Map<'a, I, F, S, B> {
    batch_setters!();

    /// Records each item's result with `serdes` instead of JSON (the result of its child
    /// context; [`Nesting::Flat`] branches record no result of their own). A replay reads
    /// the results back with it.
    ///
    /// ```no_run
    /// use lambda_durable::serdes::RawString;
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// async fn shout(ctx: &DurableContext, words: Vec<String>) -> Result<Vec<String>, Error> {
    ///     let batch = ctx
    ///         .map("shout", words, |_, word, _| async move {
    ///             Ok::<_, Error>(word.to_uppercase())
    ///         })
    ///         // Each branch's text is recorded as it is, not as a JSON string.
    ///         .item_serdes(RawString)
    ///         .await?;
    ///     batch.into_results()
    /// }
    /// ```
    pub fn item_serdes<S2>(self, serdes: S2) -> Map<'a, I, F, S2, B> {
        Map {
            ctx: self.ctx,
            position: self.position,
            items: self.items,
            function: self.function,
            namer: self.namer,
            settings: self.settings,
            serdes: BatchSerdes {
                item: serdes,
                batch: self.serdes.batch,
            },
        }
    }

    /// Records the whole [`BatchResult`] with `serdes` instead of JSON. A replay reads it
    /// back with it; a serdes that fails fails the map with [`Error::Serialization`].
    pub fn serdes<B2>(self, serdes: B2) -> Map<'a, I, F, S, B2> {
        Map {
            ctx: self.ctx,
            position: self.position,
            items: self.items,
            function: self.function,
            namer: self.namer,
            settings: self.settings,
            serdes: BatchSerdes {
                item: self.serdes.item,
                batch: serdes,
            },
        }
    }

    /// Names each item's child context (by default `map-item-<index>`).
    pub fn item_namer(mut self, namer: impl Fn(&I, usize) -> String + Send + Sync + 'a) -> Self {
        self.namer = Some(Box::new(namer));
        self
    }
}

impl<'a, R, S, B> Parallel<'a, R, S, B> {
    batch_setters!();

    /// Records each branch's result with `serdes` instead of JSON (see
    /// [`Map::item_serdes`]).
    pub fn item_serdes<S2>(self, serdes: S2) -> Parallel<'a, R, S2, B> {
        Parallel {
            ctx: self.ctx,
            position: self.position,
            branches: self.branches,
            settings: self.settings,
            serdes: BatchSerdes {
                item: serdes,
                batch: self.serdes.batch,
            },
        }
    }

    /// Records the whole [`BatchResult`] with `serdes` instead of JSON (see
    /// [`Map::serdes`]).
    pub fn serdes<B2>(self, serdes: B2) -> Parallel<'a, R, S, B2> {
        Parallel {
            ctx: self.ctx,
            position: self.position,
            branches: self.branches,
            settings: self.settings,
            serdes: BatchSerdes {
                item: self.serdes.item,
                batch: serdes,
            },
        }
    }
}

impl DurableContext {
    /// Runs `function` on every item, each in its own child context, and returns a
    /// [`BatchResult`].
    ///
    /// Items start in index order, at most [`Map::max_concurrency`] at a time; the batch
    /// completes according to [`Map::completion`] (by default when every item finished,
    /// or at the first failure). Concurrent items share checkpoint calls. On replay a
    /// finished map returns its recorded result without running any item.
    ///
    /// An item whose step failed an attempt and waits for its retry (or whose
    /// [`wait_for_condition`](DurableContext::wait_for_condition) waits for its next check)
    /// runs again in place once the service reports the attempt ready, if nothing else of
    /// the item is under way: `function` is called again with a clone of the item, and the
    /// operations the item already finished return their records. So a retry that falls due
    /// while other items run does not wait for the next invocation.
    ///
    /// ```no_run
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// async fn resize_all(ctx: &DurableContext, images: Vec<String>) -> Result<Vec<String>, Error> {
    ///     ctx.map("resize", images, |item_ctx, image: String, _index| async move {
    ///         item_ctx
    ///             .step("resize", |_| async move { Ok::<_, std::io::Error>(format!("{image}@2x")) })
    ///             .await
    ///     })
    ///     .max_concurrency(10)
    ///     .await?
    ///     .into_results()
    /// }
    /// ```
    pub fn map<I, F, Fut>(&self, name: impl Into<Name>, items: Vec<I>, function: F) -> Map<'_, I, F>
    where
        F: Fn(DurableContext, I, usize) -> Fut,
    {
        Map {
            ctx: self,
            position: self.reserve(name.into()),
            items,
            function,
            namer: None,
            settings: BatchSettings::default(),
            serdes: BatchSerdes {
                item: self.default_serdes(),
                batch: self.default_serdes(),
            },
        }
    }

    /// Runs heterogeneous branches (made with [`branch`]), each in its own child context,
    /// and returns a [`BatchResult`]. Configured like [`map`](DurableContext::map).
    ///
    /// ```no_run
    /// use lambda_durable::{branch, DurableContext, Error};
    ///
    /// async fn quotes(ctx: &DurableContext) -> Result<Vec<u32>, Error> {
    ///     ctx.parallel("quotes", vec![
    ///         branch("carrier a", |c| async move {
    ///             c.step("ask a", |_| async { Ok::<_, std::io::Error>(120) }).await
    ///         }),
    ///         branch("carrier b", |c| async move {
    ///             c.step("ask b", |_| async { Ok::<_, std::io::Error>(95) }).await
    ///         }),
    ///     ])
    ///     .await?
    ///     .into_results()
    /// }
    /// ```
    pub fn parallel<'a, 'b: 'a, R: 'b>(
        &'a self,
        name: impl Into<Name>,
        branches: Vec<Branch<'b, R>>,
    ) -> Parallel<'a, R> {
        Parallel {
            ctx: self,
            position: self.reserve(name.into()),
            branches: branches.into_iter().map(Branch::within).collect(),
            settings: BatchSettings::default(),
            serdes: BatchSerdes {
                item: self.default_serdes(),
                batch: self.default_serdes(),
            },
        }
    }
}

impl<'a, I, F, Fut, R, E, S, B> IntoFuture for Map<'a, I, F, S, B>
where
    I: Clone + Send + 'a,
    F: Fn(DurableContext, I, usize) -> Fut + Send + Sync + 'a,
    Fut: Future<Output = Result<R, E>> + Send + 'a,
    R: Send + 'a,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + 'a,
    S: Serdes<R> + 'a,
    B: Serdes<BatchResult<R>> + 'a,
{
    type Output = Result<BatchResult<R>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let span = operation_span!("map", self.position, "CONTEXT", "Map");
        let Map {
            ctx,
            position,
            items,
            function,
            namer,
            settings,
            serdes,
        } = self;
        let function = Arc::new(function);
        let branches = items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                let name = namer.as_ref().map(|namer| Name::from(namer(&item, index)));
                let function = Arc::clone(&function);
                // Each run of the item gets its own copy of the item.
                let make = move || -> OnceBody<'a, R> {
                    let item = item.clone();
                    let function = Arc::clone(&function);
                    Box::new(move |ctx| {
                        Box::pin(async move {
                            function(ctx, item, index).await.map_err(user_error_object)
                        })
                    })
                };
                (name, BranchBody::Again(Box::new(make)))
            })
            .collect();
        Box::pin(run_batch(ctx, position, MAP, branches, settings, serdes).instrument(span))
    }
}

impl<'a, R, S, B> IntoFuture for Parallel<'a, R, S, B>
where
    R: Send + 'a,
    S: Serdes<R> + 'a,
    B: Serdes<BatchResult<R>> + 'a,
{
    type Output = Result<BatchResult<R>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let span = operation_span!("parallel", self.position, "CONTEXT", "Parallel");
        let branches = self
            .branches
            .into_iter()
            .map(|branch| (branch.name.as_str().map(Name::from), branch.body))
            .collect();
        Box::pin(
            run_batch(
                self.ctx,
                self.position,
                PARALLEL,
                branches,
                self.settings,
                self.serdes,
            )
            .instrument(span),
        )
    }
}

async fn run_batch<'a, R, S, B>(
    ctx: &'a DurableContext,
    position: Position,
    kind: BatchKind,
    branches: Vec<(Option<Name>, BranchBody<'a, R>)>,
    settings: BatchSettings,
    serdes: BatchSerdes<S, B>,
) -> Result<BatchResult<R>, Error>
where
    R: Send + 'a,
    S: Serdes<R> + 'a,
    B: Serdes<BatchResult<R>> + 'a,
{
    let item_serdes: ItemSerdes<'a, R> = Arc::new(serdes.item);
    let total = branches.len();
    let invalid = |message: String| Error::InvalidArgument {
        operation: position.reference(kind.label),
        message,
    };
    if settings.max_concurrency == Some(0) {
        return Err(invalid("max_concurrency must be at least 1".to_string()));
    }
    settings.completion.validate(total).map_err(invalid)?;
    let batch_digest = position.digest;
    let exec = Arc::clone(ctx.exec());
    let summarize = |result: &BatchResult<R>| summarize(result);
    run_batch_context(
        ctx,
        position,
        kind.sub_type,
        serdes.batch,
        &summarize,
        move |batch_ctx| async move {
            let mut pending = Vec::with_capacity(total);
            for (index, (name, body)) in branches.into_iter().enumerate() {
                let name =
                    name.unwrap_or_else(|| Name::from(format!("{}-{index}", kind.default_name)));
                let branch_position = batch_ctx.reserve(name);
                pending.push((index, branch_position, body));
            }
            // A batch that already succeeded only runs again to rebuild a result too large to
            // store, from the summary it recorded instead.
            let rebuild = exec.operations.visit(&batch_digest, |op| {
                replay::batch::recorded_summary(op).map(str::to_string)
            });
            if let Some(summary) = rebuild {
                return rebuild_batch(
                    &batch_ctx,
                    kind,
                    settings.nesting,
                    &item_serdes,
                    pending,
                    &summary,
                )
                .await;
            }
            let limit = settings.max_concurrency.unwrap_or(usize::MAX).max(1);
            let mut outcomes: Vec<Option<Result<R, ErrorObject>>> =
                (0..total).map(|_| None).collect();
            let mut started = vec![false; total];
            let mut running = FuturesUnordered::new();
            let mut queue = pending.into_iter();
            let mut progress = BatchProgress {
                succeeded: 0,
                failed: 0,
                running: 0,
                total,
            };
            let mut reason = if total == 0 {
                Some(CompletionReason::AllCompleted)
            } else {
                None
            };
            while reason.is_none() {
                while running.len() < limit {
                    let Some((index, branch_position, body)) = queue.next() else {
                        break;
                    };
                    started[index] = true;
                    running.push(start_branch(
                        &batch_ctx,
                        branch_position,
                        kind,
                        settings.nesting,
                        Arc::clone(&item_serdes),
                        body,
                        index,
                    ));
                }
                progress.running = running.len();
                let Some((index, outcome)) = running.next().await else {
                    reason = Some(CompletionReason::AllCompleted);
                    break;
                };
                let outcome = outcome?;
                match &outcome {
                    Ok(_) => progress.succeeded += 1,
                    Err(_) => progress.failed += 1,
                }
                outcomes[index] = Some(outcome);
                progress.running = running.len();
                reason = settings.completion.completion(&progress);
            }
            // Branches still running are dropped: they record nothing more.
            drop(running);
            let items = outcomes
                .into_iter()
                .enumerate()
                .map(|(index, outcome)| item(index, outcome, started[index]))
                .collect();
            Ok(BatchResult {
                items,
                completion_reason: reason.unwrap_or(CompletionReason::AllCompleted),
            })
        },
    )
    .await
}

fn item<R>(index: usize, outcome: Option<Result<R, ErrorObject>>, started: bool) -> BatchItem<R> {
    let (status, result, error) = match outcome {
        Some(Ok(value)) => (BatchItemStatus::Succeeded, Some(value), None),
        Some(Err(error)) => (BatchItemStatus::Failed, None, Some(error)),
        None if started => (BatchItemStatus::Started, None, None),
        None => (BatchItemStatus::Skipped, None, None),
    };
    BatchItem {
        index,
        status,
        result,
        error,
    }
}

/// A branch run by a rebuild: its index, and its outcome (the outer error is an SDK
/// failure, the inner one the branch's).
type BranchRun<'a, R> =
    Pin<Box<dyn Future<Output = (usize, Result<Result<R, ErrorObject>, ErrorObject>)> + Send + 'a>>;

fn summarize<R>(result: &BatchResult<R>) -> String {
    replay::batch::summarize(
        result.completion_reason,
        result.branch_count(),
        result.items.iter().map(|item| (item.index, item.status)),
    )
}

/// Rebuilds the result of a batch whose result was too large to store, following its
/// summary exactly: the branches it lists run again replay-only (their outcomes come from
/// their records; they start and write nothing), the others stay out.
async fn rebuild_batch<'a, R>(
    batch_ctx: &DurableContext,
    kind: BatchKind,
    nesting: Nesting,
    item_serdes: &ItemSerdes<'a, R>,
    pending: Vec<(usize, Position, BranchBody<'a, R>)>,
    summary: &str,
) -> Result<BatchResult<R>, ErrorObject>
where
    R: Send + 'a,
{
    let non_deterministic =
        |message: String| crate::error::error_object("NonDeterministicExecutionError", &message);
    let plan = replay::batch::rebuild_plan(summary, pending.len(), kind.label)
        .map_err(non_deterministic)?;
    // Every branch the summary lists runs again, replay-only, in index order.
    let mut runs = Vec::new();
    for (index, position, body) in pending {
        if !plan.fates.get(index).is_some_and(|fate| fate.replays()) {
            continue;
        }
        let branch: BranchRun<'_, R> = Box::pin(run_branch(
            batch_ctx.clone(),
            position,
            kind,
            nesting,
            Arc::clone(item_serdes),
            body.once(),
            index,
        ));
        runs.push(Scoped::replay_only(branch));
    }
    let mut outcomes: Vec<Option<Result<R, ErrorObject>>> =
        (0..plan.fates.len()).map(|_| None).collect();
    for (index, outcome) in drain_replay_only(&mut runs).into_iter().flatten() {
        if let Some(slot) = outcomes.get_mut(index) {
            *slot = Some(outcome.unwrap_or_else(Err));
        }
    }
    drop(runs);
    let mut items = Vec::new();
    for (index, (fate, outcome)) in plan.fates.iter().zip(outcomes).enumerate() {
        let replayed = outcome.as_ref().map(Result::is_ok);
        let status = replay::batch::rebuilt_branch(index, *fate, replayed, kind.label)
            .map_err(non_deterministic)?;
        let status = status.unwrap_or(BatchItemStatus::Skipped);
        let (result, error) = match outcome {
            Some(Ok(value)) if status == BatchItemStatus::Succeeded => (Some(value), None),
            Some(Err(error)) if status == BatchItemStatus::Failed => (None, Some(error)),
            _ => (None, None),
        };
        items.push(BatchItem {
            index,
            status,
            result,
            error,
        });
    }
    Ok(BatchResult {
        items,
        completion_reason: plan.reason,
    })
}

/// Starts one branch (see [`run_branch`]): one that can run again in place does so when
/// one of its operations is ready for an attempt it cannot start by itself (see
/// [`super::restart`]).
fn start_branch<'a, R>(
    batch_ctx: &DurableContext,
    position: Position,
    kind: BatchKind,
    nesting: Nesting,
    item_serdes: ItemSerdes<'a, R>,
    body: BranchBody<'a, R>,
    index: usize,
) -> BranchRun<'a, R>
where
    R: Send + 'a,
{
    match body {
        BranchBody::Once(body) => Box::pin(run_branch(
            batch_ctx.clone(),
            position,
            kind,
            nesting,
            item_serdes,
            body,
            index,
        )),
        BranchBody::Again(mut make) => {
            let batch_ctx = batch_ctx.clone();
            let exec = Arc::clone(batch_ctx.exec());
            Box::pin(super::restart::run_restartable(exec, move |again| {
                // A run again replays what the branch recorded, as the next invocation
                // would.
                let ctx = if again {
                    batch_ctx.replaying()
                } else {
                    batch_ctx.clone()
                };
                Box::pin(run_branch(
                    ctx,
                    position.again(),
                    kind,
                    nesting,
                    Arc::clone(&item_serdes),
                    make(),
                    index,
                ))
            }))
        }
    }
}

/// Runs one branch; a fatal SDK error is returned as `Err` (the outer `Result`), a branch
/// failure as the inner `Err`.
async fn run_branch<'a, R>(
    batch_ctx: DurableContext,
    position: Position,
    kind: BatchKind,
    nesting: Nesting,
    item_serdes: ItemSerdes<'a, R>,
    body: OnceBody<'a, R>,
    index: usize,
) -> (usize, Result<Result<R, ErrorObject>, ErrorObject>)
where
    R: Send + 'a,
{
    let outcome = match nesting {
        Nesting::Nested => {
            match run_child(&batch_ctx, position, kind.item_sub_type, item_serdes, body).await {
                Ok(value) => Ok(Ok(value)),
                Err(Error::ChildContextFailed { error, .. }) => Ok(Err(*error)),
                Err(err) if err.is_fatal() => Err(err.to_error_object()),
                Err(err) => Ok(Err(err.to_error_object())),
            }
        }
        Nesting::Flat => {
            let child = batch_ctx.child(&position, batch_ctx.parent_id().cloned());
            let outcome = crate::error::catch_panic(body(child.clone())).await;
            // No record holds a flat branch to its operations: it must not return before
            // the operations it recorded.
            match replay::completion::on_body_return(child.next_recorded()) {
                Ok(()) => Ok(outcome),
                Err(err) => {
                    tracing::error!(error = %err, "non-deterministic execution");
                    let object = err.to_error_object();
                    batch_ctx.exec().fail(&err);
                    Err(object)
                }
            }
        }
    };
    (index, outcome)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn progress(succeeded: usize, failed: usize, total: usize) -> BatchProgress {
        BatchProgress {
            succeeded,
            failed,
            running: 0,
            total,
        }
    }

    #[test]
    fn no_criteria_fails_fast_and_otherwise_runs_everything() {
        let config = CompletionConfig::new();
        assert_eq!(config.completion(&progress(2, 0, 5)), None);
        assert_eq!(
            config.completion(&progress(2, 1, 5)),
            Some(CompletionReason::FailureToleranceExceeded)
        );
        assert_eq!(
            config.completion(&progress(5, 0, 5)),
            Some(CompletionReason::AllCompleted)
        );
    }

    #[test]
    fn tolerances_and_minimums() {
        let config = CompletionConfig::new().tolerated_failure_count(1);
        assert_eq!(config.completion(&progress(1, 1, 5)), None);
        assert_eq!(
            config.completion(&progress(1, 2, 5)),
            Some(CompletionReason::FailureToleranceExceeded)
        );
        let config = CompletionConfig::new().tolerated_failure_percentage(40.0);
        assert_eq!(config.completion(&progress(0, 2, 5)), None);
        assert_eq!(
            config.completion(&progress(0, 3, 5)),
            Some(CompletionReason::FailureToleranceExceeded)
        );
        let config = CompletionConfig::first_successful();
        assert_eq!(
            config.completion(&progress(1, 3, 5)),
            Some(CompletionReason::MinSuccessfulReached)
        );
        assert_eq!(
            CompletionConfig::all_completed().completion(&progress(1, 4, 5)),
            Some(CompletionReason::AllCompleted)
        );
        let config = CompletionConfig::new()
            .tolerated_failure_percentage(100.0)
            .complete_when(|p| p.succeeded >= 2);
        assert_eq!(
            config.completion(&progress(2, 0, 5)),
            Some(CompletionReason::PredicateSatisfied)
        );
    }

    #[test]
    fn invalid_configs_are_rejected() {
        assert!(CompletionConfig::new()
            .min_successful(0)
            .validate(3)
            .is_err());
        assert!(CompletionConfig::new()
            .min_successful(4)
            .validate(3)
            .is_err());
        assert!(CompletionConfig::new()
            .tolerated_failure_percentage(101.0)
            .validate(3)
            .is_err());
        assert!(CompletionConfig::new()
            .tolerated_failure_percentage(f64::NAN)
            .validate(3)
            .is_err());
        assert!(CompletionConfig::new()
            .min_successful(3)
            .validate(3)
            .is_ok());
    }

    #[test]
    fn batch_results_serialize_as_plain_json() {
        let result = BatchResult::new(
            vec![
                BatchItem {
                    index: 2,
                    status: BatchItemStatus::Failed,
                    result: None,
                    error: Some(crate::error::error_object("StepError", "boom")),
                },
                BatchItem {
                    index: 0,
                    status: BatchItemStatus::Succeeded,
                    result: Some(7),
                    error: None,
                },
                BatchItem {
                    index: 3,
                    status: BatchItemStatus::Started,
                    result: None,
                    error: None,
                },
            ],
            CompletionReason::FailureToleranceExceeded,
            5,
        )
        .unwrap();
        // Every branch, in order; the ones not given are skipped.
        let statuses: Vec<_> = result.items().iter().map(|item| item.status).collect();
        use BatchItemStatus::*;
        assert_eq!(statuses, [Succeeded, Skipped, Failed, Started, Skipped]);
        assert!(result
            .items()
            .iter()
            .enumerate()
            .all(|(index, item)| item.index == index));
        assert_eq!(result.branch_count(), 5);
        assert_eq!(result.started_count(), 3);
        assert_eq!(result.success_count(), 1);
        assert_eq!(result.failure_count(), 1);
        assert_eq!(result.unfinished_count(), 1);
        assert_eq!(result.skipped_count(), 2);
        assert_eq!(result.skipped().collect::<Vec<_>>(), [1, 4]);
        assert_eq!(result.status(), BatchStatus::Failed);
        assert_eq!(
            result
                .errors()
                .map(|error| error.error_message.as_deref())
                .collect::<Vec<_>>(),
            [Some("boom")]
        );
        assert_eq!(result.item(3).map(|item| item.status), Some(Started));
        assert!(result.item(5).is_none());
        // Skipped branches are left out of the record and come back when it is read.
        let json = serde_json::to_value(&result).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({
                "all": [
                    {"index": 0, "status": "SUCCEEDED", "result": 7},
                    {"index": 2, "status": "FAILED", "error": {"ErrorType": "StepError", "ErrorMessage": "boom"}},
                    {"index": 3, "status": "STARTED"}
                ],
                "completionReason": "FAILURE_TOLERANCE_EXCEEDED",
                "totalCount": 5
            })
        );
        let back: BatchResult<i32> =
            serde_json::from_value(json).unwrap_or_else(|_| result.clone());
        assert_eq!(back, result);
        assert!(back.clone().into_results().is_err());
    }

    #[test]
    fn unreadable_batch_records_name_the_problem() {
        let rows = [
            (
                r#"{"all":[{"index":3,"status":"SUCCEEDED","result":1}],"completionReason":"ALL_COMPLETED","totalCount":2}"#,
                "branch 3 is out of range",
            ),
            (
                r#"{"all":[{"index":0,"status":"SUCCEEDED","result":1},{"index":0,"status":"FAILED"}],"completionReason":"ALL_COMPLETED","totalCount":2}"#,
                "branch 0 is recorded twice",
            ),
            (
                r#"{"all":[{"index":1,"status":"SKIPPED"}],"completionReason":"ALL_COMPLETED","totalCount":2}"#,
                "branch 1 is recorded as skipped",
            ),
            (
                r#"{"all":[],"completionReason":"ALL_COMPLETED","totalCount":1000000000000}"#,
                "more than",
            ),
        ];
        for (json, message) in rows {
            let err = serde_json::from_str::<BatchResult<i32>>(json).unwrap_err();
            assert!(err.to_string().contains(message), "{json}: {err}");
        }
        let empty: BatchResult<i32> =
            serde_json::from_str(r#"{"all":[],"completionReason":"ALL_COMPLETED","totalCount":0}"#)
                .unwrap();
        assert_eq!(empty.branch_count(), 0);
        assert_eq!(empty.status(), BatchStatus::Succeeded);
    }
}
