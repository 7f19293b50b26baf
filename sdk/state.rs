//! State of one invocation: the operation log, the checkpoint writer, the fatal-error
//! latch and the bookkeeping that tells when the handler can make no more progress.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::checkpoint::batcher::Checkpointer;
use crate::context::restart;
use crate::error::Error;
use crate::log::Operations;
use crate::logger::InvocationLog;

/// Shared state of one invocation.
pub(crate) struct ExecutionState {
    pub(crate) arn: String,
    pub(crate) operations: Arc<Operations>,
    pub(crate) checkpointer: Checkpointer,
    /// What the loggers of this invocation add to their records, and whether they log
    /// while replaying.
    pub(crate) log: Arc<InvocationLog>,
    fatal: Mutex<Option<Error>>,
    active: AtomicUsize,
    suspended: AtomicUsize,
    /// The operations parked until the service reports on them (by id, with how many
    /// callers wait on each), to know when to ask the service about them.
    parked: Mutex<HashMap<String, usize>>,
    /// Set when the invocation reaches its deadline: running step attempts end, and no new
    /// one starts.
    deadline: tokio::sync::watch::Sender<bool>,
    /// The serdes of operations whose serdes is not set, if not JSON.
    pub(crate) default_serdes: crate::serdes::DefaultSerdes,
}

impl ExecutionState {
    pub(crate) fn new(
        arn: String,
        operations: Arc<Operations>,
        checkpointer: Checkpointer,
        log: InvocationLog,
    ) -> Self {
        Self {
            arn,
            operations,
            checkpointer,
            log: Arc::new(log),
            fatal: Mutex::new(None),
            active: AtomicUsize::new(0),
            suspended: AtomicUsize::new(0),
            parked: Mutex::new(HashMap::new()),
            deadline: tokio::sync::watch::Sender::new(false),
            default_serdes: crate::serdes::DefaultSerdes::default(),
        }
    }

    /// Tells running step attempts that the invocation reached its deadline.
    pub(crate) fn reach_deadline(&self) {
        self.deadline.send_replace(true);
    }

    /// Whether the invocation reached its deadline.
    pub(crate) fn deadline_reached(&self) -> bool {
        *self.deadline.borrow()
    }

    /// Resolves once the invocation reaches its deadline.
    pub(crate) async fn deadline_signal(&self) {
        let mut reached = self.deadline.subscribe();
        // The sender lives as long as `self`.
        let _ = reached.wait_for(|reached| *reached).await;
    }

    /// The same state, with `serdes` for the operations whose serdes is not set.
    pub(crate) fn with_default_serdes(mut self, serdes: crate::serdes::DefaultSerdes) -> Self {
        self.default_serdes = serdes;
        self
    }

    /// Latches an error that ends the invocation whatever the user code does with it (one
    /// for which [`Error::ends_execution`] holds; any other is ignored). The first one
    /// wins.
    pub(crate) fn fail(&self, error: &Error) {
        let mut fatal = self.fatal.lock().unwrap_or_else(|p| p.into_inner());
        if fatal.is_none() {
            // A record this SDK cannot interpret, reached earlier, is the first error (the
            // log latches it; what failed since may only be a consequence).
            *fatal = self
                .operations
                .reached_unknown()
                .or_else(|| error.fatal_copy());
        }
    }

    /// The latched fatal error, if any: one passed to [`fail`](Self::fail), or else a
    /// recorded operation this SDK version cannot interpret that the code reached.
    pub(crate) fn fatal(&self) -> Option<Error> {
        let fatal = self
            .fatal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(Error::fatal_copy);
        fatal.or_else(|| self.operations.reached_unknown())
    }

    /// Marks the caller as doing work that will finish by itself (a step body, a
    /// checkpoint being written) until the guard is dropped.
    pub(crate) fn active(self: &Arc<Self>) -> ActivityGuard {
        self.active.fetch_add(1, Ordering::SeqCst);
        ActivityGuard {
            state: Arc::clone(self),
            suspended: false,
            // The branches it runs in count it too (see `crate::context::restart`).
            _branches: restart::Work::start(),
        }
    }

    /// Parks the caller for the rest of the invocation: the operation cannot finish
    /// without a timer or an external event, which the service delivers by invoking the
    /// function again. Once nothing else is running the invocation suspends.
    ///
    /// In a replay-only scope (see [`crate::context::scope`]) the caller is abandoned
    /// instead: it never resumes, and nothing waits for it.
    pub(crate) async fn park(self: &Arc<Self>) -> ! {
        if crate::context::scope::replay_only() {
            abandon().await
        }
        let _guard = self.parked();
        std::future::pending::<()>().await;
        unreachable!("a pending future never completes")
    }

    /// Parks an operation that ran an attempt in this invocation and waits for the service
    /// to schedule the next one, which it cannot start by itself (its body is spent): as
    /// [`park`](Self::park), except that inside a branch that can run again in place the
    /// operation `id` is registered with it, and the branch runs again once the service
    /// reports the operation ready (see `crate::context::restart`).
    pub(crate) async fn park_for_next_attempt(self: &Arc<Self>, id: &str) -> ! {
        if crate::context::scope::replay_only() {
            abandon().await
        }
        let Some(_stuck) = restart::stuck(id) else {
            self.park().await
        };
        // Asked about when it is due, like the operations that resume by themselves.
        let _registered = ParkedId::register(self, id);
        self.park().await
    }

    /// Parks the caller until `ready` gives a value: it is asked now, then again after
    /// each answer of the service merged into the log (a checkpoint response, a poll), so
    /// that an operation the service finishes while the invocation still runs (a wait
    /// that ended, a callback completed, an invoke that returned, a step ready to retry)
    /// resumes in place. Until then the caller counts as parked on the service, as with
    /// [`park`](Self::park): once nothing else runs, the invocation suspends.
    ///
    /// In a replay-only scope a caller that is not ready at once is abandoned instead.
    pub(crate) async fn park_until<R>(
        self: &Arc<Self>,
        id: &str,
        mut ready: impl FnMut() -> Option<R>,
    ) -> R {
        let mut changes = self.operations.changes();
        if let Some(value) = ready() {
            return value;
        }
        if crate::context::scope::replay_only() {
            abandon().await
        }
        let _guard = self.parked();
        let _registered = ParkedId::register(self, id);
        loop {
            changes.changed().await;
            if let Some(value) = ready() {
                return value;
            }
        }
    }

    /// Counts the caller as parked on the service until the guard is dropped.
    fn parked(self: &Arc<Self>) -> ActivityGuard {
        self.suspended.fetch_add(1, Ordering::SeqCst);
        ActivityGuard {
            state: Arc::clone(self),
            suspended: true,
            _branches: restart::Work::none(),
        }
    }

    /// The ids of the operations parked until the service reports on them.
    pub(crate) fn parked_ids(&self) -> Vec<String> {
        self.parked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// How many pieces of work that finish by themselves are under way (step bodies,
    /// checks, checkpoint calls).
    pub(crate) fn active_count(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// How many live operations are parked until the service reports on them.
    pub(crate) fn parked_count(&self) -> usize {
        self.suspended.load(Ordering::SeqCst)
    }

    /// Queues `update` without waiting for it. Replay-only code writes nothing.
    pub(crate) fn enqueue(&self, update: crate::wire::OperationUpdate) {
        if !crate::context::scope::replay_only() {
            self.operations.live_start(&update);
            restart::queued(self.checkpointer.enqueue(update));
        }
    }

    /// Checkpoints `update` and waits for it, latching a failure as fatal. Replay-only code
    /// writes nothing: it is abandoned here.
    pub(crate) async fn checkpoint(
        self: &Arc<Self>,
        update: crate::wire::OperationUpdate,
    ) -> Result<(), Error> {
        if crate::context::scope::replay_only() {
            abandon().await
        }
        let _active = self.active();
        self.operations.live_start(&update);
        let result = self.checkpointer.checkpoint(update).await;
        if let Err(err) = &result {
            self.fail(err);
        }
        result
    }
}

/// Never resumes: the caller's future is dropped with the invocation (or with the
/// combinator or batch that abandoned it). Unlike [`ExecutionState::park`] it does not keep
/// the invocation waiting.
pub(crate) async fn abandon() -> ! {
    std::future::pending::<()>().await;
    unreachable!("a pending future never completes")
}

/// An id in [`ExecutionState::parked_ids`] while its guard lives.
struct ParkedId<'a> {
    state: &'a ExecutionState,
    id: String,
}

impl<'a> ParkedId<'a> {
    fn register(state: &'a ExecutionState, id: &str) -> Self {
        *state
            .parked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id.to_string())
            .or_default() += 1;
        Self {
            state,
            id: id.to_string(),
        }
    }
}

impl Drop for ParkedId<'_> {
    fn drop(&mut self) {
        let mut parked = self.state.parked.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = parked.get_mut(&self.id) {
            *count -= 1;
            if *count == 0 {
                parked.remove(&self.id);
            }
        }
    }
}

/// See [`ExecutionState::active`] and [`ExecutionState::park`].
pub(crate) struct ActivityGuard {
    state: Arc<ExecutionState>,
    suspended: bool,
    /// The branches that count the work too.
    _branches: restart::Work,
}

impl Drop for ActivityGuard {
    fn drop(&mut self) {
        let counter = if self.suspended {
            &self.state.suspended
        } else {
            &self.state.active
        };
        counter.fetch_sub(1, Ordering::SeqCst);
    }
}
