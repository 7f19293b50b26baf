//! Branches that run again in place.
//!
//! A step whose attempt failed waits for its retry; its body (an `FnOnce`) has run, so the
//! step cannot run the next attempt by itself. Inside a branch that can be started again (a
//! map item: the map keeps its function and the item), the branch does it instead: once
//! the service reports the retry ready and nothing of the branch is under way, the branch's
//! code is dropped and run again from its start, as a replay would in the next invocation.
//! Its finished operations return their records; the step runs its next attempt. So a
//! retry due while other branches still run does not wait for the next invocation.
//!
//! The same holds for a wait-for-condition whose check ran and that waits for the next.
//!
//! Restart scopes live on a thread-local stack for the duration of one `poll`, like the
//! namespaces of [`super::scope`]: everything a branch runs is polled inside its own poll.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use crate::replay::pending::{run_again, Branch};
use crate::state::ExecutionState;

/// What a branch that can run again keeps track of while it runs.
#[derive(Debug, Default)]
pub(crate) struct RestartScope {
    /// Work under way in the branch that finishes by itself (see
    /// [`ExecutionState::active`]).
    active: AtomicUsize,
    /// The number of the last update the branch queued without waiting for it.
    queued: AtomicU64,
    /// The operations of the branch that wait for the service to schedule their next
    /// attempt after running one in this run of the branch (by id; an id once per waiter).
    stuck: Mutex<Vec<String>>,
    /// The branch this one runs in, if any: it counts this one's work and updates too.
    parent: Option<Arc<RestartScope>>,
}

impl RestartScope {
    /// This scope and those it runs in, innermost first.
    fn chain(self: &Arc<Self>) -> impl Iterator<Item = &RestartScope> {
        std::iter::successors(Some(&**self), |scope| scope.parent.as_deref())
    }
}

impl RestartScope {
    /// Whether an operation of the branch waits for an attempt it cannot start by itself.
    fn has_stuck(&self) -> bool {
        !self
            .stuck
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }

    /// Whether the branch should run again now: see [`run_again`].
    fn wants_restart(&self, exec: &ExecutionState) -> bool {
        let stuck = self.stuck.lock().unwrap_or_else(|p| p.into_inner());
        if stuck.is_empty() {
            return false;
        }
        let branch = Branch {
            active: self.active.load(Ordering::SeqCst),
            unwritten: self.queued.load(Ordering::SeqCst) > exec.operations.written(),
            deadline_reached: exec.deadline_reached(),
        };
        run_again(
            branch,
            stuck.iter().map(|id| {
                exec.operations
                    .with(id, |record| record.map(|record| record.status))
            }),
        )
    }
}

thread_local! {
    static SCOPES: RefCell<Vec<Arc<RestartScope>>> = const { RefCell::new(Vec::new()) };
}

/// The innermost restart scope the code being polled runs in, if any.
fn innermost() -> Option<Arc<RestartScope>> {
    SCOPES.with(|scopes| scopes.borrow().last().cloned())
}

/// Work under way (see [`ExecutionState::active`]) counted by the branches the code being
/// polled runs in, until it is dropped.
pub(crate) struct Work(Option<Arc<RestartScope>>);

impl Work {
    /// Starts counting work in the enclosing branches (nothing outside of any).
    pub(crate) fn start() -> Self {
        let scope = innermost();
        if let Some(scope) = &scope {
            for scope in scope.chain() {
                scope.active.fetch_add(1, Ordering::SeqCst);
            }
        }
        Self(scope)
    }

    /// Counts nothing.
    pub(crate) fn none() -> Self {
        Self(None)
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        if let Some(scope) = &self.0 {
            for scope in scope.chain() {
                scope.active.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }
}

/// Notes that the code being polled queued update number `number` without waiting for
/// it: its branches do not run again before it is written.
pub(crate) fn queued(number: u64) {
    if let Some(scope) = innermost() {
        for scope in scope.chain() {
            scope.queued.fetch_max(number, Ordering::SeqCst);
        }
    }
}

/// Registers the operation `id` as waiting for its next attempt in the innermost branch
/// that can run again, if the code being polled runs in one; the registration ends with
/// the guard.
pub(crate) fn stuck(id: &str) -> Option<StuckGuard> {
    let scope = innermost()?;
    scope
        .stuck
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(id.to_string());
    Some(StuckGuard {
        scope,
        id: id.to_string(),
    })
}

/// See [`stuck`].
pub(crate) struct StuckGuard {
    scope: Arc<RestartScope>,
    id: String,
}

impl Drop for StuckGuard {
    fn drop(&mut self) {
        let mut stuck = self.scope.stuck.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(index) = stuck.iter().position(|id| *id == self.id) {
            stuck.swap_remove(index);
        }
    }
}

/// Pops the scope it pushed, also when the poll panics.
struct ScopeGuard;

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        SCOPES.with(|scopes| {
            scopes.borrow_mut().pop();
        });
    }
}

/// A run of a branch, polled inside its restart scope.
struct InScope<F: ?Sized> {
    scope: Arc<RestartScope>,
    future: Pin<Box<F>>,
}

impl<F: Future + ?Sized> Future for InScope<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        SCOPES.with(|scopes| scopes.borrow_mut().push(Arc::clone(&this.scope)));
        let _guard = ScopeGuard;
        this.future.as_mut().poll(cx)
    }
}

impl<F: ?Sized> Unpin for InScope<F> {}

/// Runs a branch made by `run` (called with whether this run is a restart), running it
/// again in place whenever one of its operations is ready for the next attempt that its
/// run cannot start by itself (see the module's documentation).
pub(crate) async fn run_restartable<'a, T, F>(exec: Arc<ExecutionState>, mut run: F) -> T
where
    F: FnMut(bool) -> Pin<Box<dyn Future<Output = T> + Send + 'a>>,
{
    let mut restart = false;
    // Polled inside the poll of the branch this one runs in, if any.
    let parent = innermost();
    loop {
        let scope = Arc::new(RestartScope {
            parent: parent.clone(),
            ..RestartScope::default()
        });
        let mut current = InScope {
            scope: Arc::clone(&scope),
            future: run(restart),
        };
        // Wakes the branch when an answer of the service changes the log, or when queued
        // updates are written; made once an operation of the branch is stuck (the common
        // case costs no wake-ups). Made after the stuck operation registered, it may miss
        // an earlier change, which the check below sees in the log.
        let mut changes = None;
        let again = std::future::poll_fn(|cx| {
            if let Poll::Ready(value) = Pin::new(&mut current).poll(cx) {
                return Poll::Ready(Some(value));
            }
            if !scope.has_stuck() {
                return Poll::Pending;
            }
            let changes = changes.get_or_insert_with(|| exec.operations.changes());
            while changes.poll_changed(cx).is_ready() {}
            if scope.wants_restart(&exec) {
                Poll::Ready(None)
            } else {
                Poll::Pending
            }
        })
        .await;
        match again {
            Some(value) => return value,
            None => {
                tracing::debug!(
                    "an operation is ready for its next attempt: the branch runs again in place"
                );
                restart = true;
            }
        }
    }
}
