//! State of one invocation: the operation log, the checkpoint writer, the fatal-error
//! latch and the bookkeeping that tells when the handler can make no more progress.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::checkpoint::batcher::Checkpointer;
use crate::error::Error;
use crate::wire::Operation;

/// The operation log, keyed by operation id.
#[derive(Debug, Default)]
pub(crate) struct Operations {
    map: Mutex<HashMap<String, Operation>>,
}

impl Operations {
    pub(crate) fn new(operations: Vec<Operation>) -> Self {
        let store = Self::default();
        store.merge(operations);
        store
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Operation>> {
        // A panic while holding the lock cannot leave the map half-updated (inserts are
        // atomic), so a poisoned lock is still usable.
        self.map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Replaces the local copies of `operations`, keyed by id.
    pub(crate) fn merge(&self, operations: Vec<Operation>) {
        if operations.is_empty() {
            return;
        }
        let mut map = self.lock();
        for operation in operations {
            map.insert(operation.id.to_string(), operation);
        }
    }

    /// A copy of the operation with this id, if the log has it.
    pub(crate) fn get(&self, id: &str) -> Option<Operation> {
        self.lock().get(id).cloned()
    }

    /// Runs `f` on the operation with this id, without copying it.
    pub(crate) fn with<R>(&self, id: &str, f: impl FnOnce(Option<&Operation>) -> R) -> R {
        f(self.lock().get(id))
    }

    /// The start time (epoch millis) of the first operation of type `ty`.
    pub(crate) fn find_start(&self, ty: crate::wire::OperationType) -> Option<i64> {
        self.lock()
            .values()
            .find(|op| op.type_ == ty)
            .and_then(|op| op.start_timestamp.as_ref().map(|ts| ts.epoch_millis()))
    }

    /// Whether any operation satisfies `f`.
    pub(crate) fn any(&self, f: impl Fn(&Operation) -> bool) -> bool {
        self.lock().values().any(f)
    }
}

/// Shared state of one invocation.
pub(crate) struct ExecutionState {
    pub(crate) arn: String,
    pub(crate) operations: Arc<Operations>,
    pub(crate) checkpointer: Checkpointer,
    pub(crate) log_during_replay: bool,
    fatal: Mutex<Option<Error>>,
    active: AtomicUsize,
    suspended: AtomicUsize,
}

impl ExecutionState {
    pub(crate) fn new(
        arn: String,
        operations: Arc<Operations>,
        checkpointer: Checkpointer,
        log_during_replay: bool,
    ) -> Self {
        Self {
            arn,
            operations,
            checkpointer,
            log_during_replay,
            fatal: Mutex::new(None),
            active: AtomicUsize::new(0),
            suspended: AtomicUsize::new(0),
        }
    }

    /// Latches an error that ends the invocation whatever the user code does with it.
    /// The first one wins.
    pub(crate) fn fail(&self, error: Error) {
        let mut fatal = self.fatal.lock().unwrap_or_else(|p| p.into_inner());
        if fatal.is_none() {
            *fatal = Some(error);
        }
    }

    /// The latched fatal error, if any.
    pub(crate) fn fatal(&self) -> Option<Error> {
        self.fatal.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Marks the caller as doing work that will finish by itself (a step body, a
    /// checkpoint being written) until the guard is dropped.
    pub(crate) fn active(self: &Arc<Self>) -> ActivityGuard {
        self.active.fetch_add(1, Ordering::SeqCst);
        ActivityGuard {
            state: Arc::clone(self),
            suspended: false,
        }
    }

    /// Parks the caller for the rest of the invocation: the operation cannot finish
    /// without a timer or an external event, which the service delivers by invoking the
    /// function again. Once nothing else is running the invocation suspends.
    pub(crate) async fn park(self: &Arc<Self>) -> ! {
        self.suspended.fetch_add(1, Ordering::SeqCst);
        let _guard = ActivityGuard {
            state: Arc::clone(self),
            suspended: true,
        };
        std::future::pending::<()>().await;
        unreachable!("a pending future never completes")
    }

    /// Whether nothing can progress by itself and at least one operation is parked.
    pub(crate) fn is_quiescent(&self) -> bool {
        self.active.load(Ordering::SeqCst) == 0 && self.suspended.load(Ordering::SeqCst) > 0
    }

    /// Whether some operation is parked.
    pub(crate) fn has_parked(&self) -> bool {
        self.suspended.load(Ordering::SeqCst) > 0
    }

    /// Checkpoints `update` and waits for it, latching a failure as fatal.
    pub(crate) async fn checkpoint(
        self: &Arc<Self>,
        update: crate::wire::OperationUpdate,
    ) -> Result<(), Error> {
        let _active = self.active();
        let result = self.checkpointer.checkpoint(update).await;
        if let Err(err) = &result {
            self.fail(err.clone());
        }
        result
    }
}

/// See [`ExecutionState::active`] and [`ExecutionState::park`].
pub(crate) struct ActivityGuard {
    state: Arc<ExecutionState>,
    suspended: bool,
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
