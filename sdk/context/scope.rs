//! Id namespaces and poll scopes.
//!
//! Every operation takes its id from a *namespace*: a path prefix with a counter. A context
//! has one of its own. The operands of a combinator get one each: while operand `i` of a
//! combinator at path `P` is polled, operations that it starts on the combinator's context
//! are numbered `P-(i+1)-1`, `P-(i+1)-2`, ... So the ids of an operand written as an
//! `async { .. }` block do not depend on which other operands were polled, or in which
//! order, which is what lets a replay poll only the operands it needs.
//!
//! A scope can also be *replay-only*: code polled inside it may replay recorded outcomes,
//! but never runs a step body, never writes a checkpoint and never counts as waiting on the
//! service. Operands that lost a recorded race run in such a scope on replay, so that their
//! recorded operations are visited exactly as far as they got, and no further.
//!
//! Scopes live on a thread-local stack for the duration of one `poll` call: everything an
//! operand runs is polled inside its own poll, on the same thread.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// No time observed yet.
pub(crate) const NO_TIME: i64 = i64::MIN;

/// Where operations get their positions: a path prefix and counters.
#[derive(Debug)]
pub(crate) struct Namespace {
    /// Path of the namespace ("" at the root); operations get `<prefix>-<n>`.
    pub(crate) prefix: String,
    /// Operations reserved so far.
    pub(crate) counter: AtomicU64,
    /// Calls of replay-safe helpers (uuid, random) so far.
    pub(crate) helper_counter: AtomicU64,
    /// What `now()` reads: epoch millis of the latest finished operation awaited in this
    /// namespace, or of its start ([`NO_TIME`] when unknown).
    pub(crate) clock: AtomicI64,
    /// The answers `patched` gave in this namespace during this invocation, by change: a
    /// marker being written is not in the log yet.
    pub(crate) patches: Mutex<Vec<(String, bool)>>,
}

impl Namespace {
    pub(crate) fn new(prefix: String, clock: i64) -> Self {
        Self {
            prefix,
            counter: AtomicU64::new(0),
            helper_counter: AtomicU64::new(0),
            clock: AtomicI64::new(clock),
            patches: Mutex::new(Vec::new()),
        }
    }

    /// The path of the next operation.
    pub(crate) fn next_path(&self) -> String {
        self.path(self.counter.fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// The path the next operation would get, without reserving it.
    pub(crate) fn peek_path(&self) -> String {
        self.path(self.counter.load(Ordering::Relaxed) + 1)
    }

    /// The path of the `n`-th operation of this namespace.
    fn path(&self, n: u64) -> String {
        join_path(&self.prefix, n)
    }

    /// Moves the clock forward to `millis` (never back).
    pub(crate) fn advance(&self, millis: i64) {
        self.clock.fetch_max(millis, Ordering::Relaxed);
    }

    pub(crate) fn clock(&self) -> i64 {
        self.clock.load(Ordering::Relaxed)
    }
}

/// One entry of the scope stack.
struct Scope {
    /// The context whose reservations go to `namespace` (its `Arc` address).
    context: usize,
    namespace: Arc<Namespace>,
    replay_only: bool,
}

thread_local! {
    static SCOPES: RefCell<Vec<Scope>> = const { RefCell::new(Vec::new()) };
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

fn enter(context: usize, namespace: Arc<Namespace>, replay_only: bool) -> ScopeGuard {
    SCOPES.with(|scopes| {
        scopes.borrow_mut().push(Scope {
            context,
            namespace,
            replay_only,
        });
    });
    ScopeGuard
}

/// The namespace that reservations on `context` use now: the innermost scope for it, if
/// any.
pub(crate) fn active_namespace(context: usize) -> Option<Arc<Namespace>> {
    SCOPES.with(|scopes| {
        scopes
            .borrow()
            .iter()
            .rev()
            .find(|scope| scope.context == context)
            .map(|scope| Arc::clone(&scope.namespace))
    })
}

/// Whether the code being polled runs in a replay-only scope.
pub(crate) fn replay_only() -> bool {
    SCOPES.with(|scopes| scopes.borrow().iter().any(|scope| scope.replay_only))
}

/// A future polled inside a scope.
pub(crate) struct Scoped<F: ?Sized> {
    context: usize,
    namespace: Arc<Namespace>,
    replay_only: bool,
    future: Pin<Box<F>>,
}

impl<F: ?Sized> Scoped<F> {
    pub(crate) fn new(
        context: usize,
        namespace: Arc<Namespace>,
        replay_only: bool,
        future: Pin<Box<F>>,
    ) -> Self {
        Self {
            context,
            namespace,
            replay_only,
            future,
        }
    }

    /// `future`, replay-only, with no namespace of its own.
    pub(crate) fn replay_only(future: Pin<Box<F>>) -> Self {
        Self::new(
            0,
            Arc::new(Namespace::new(String::new(), NO_TIME)),
            true,
            future,
        )
    }

    pub(crate) fn namespace(&self) -> &Arc<Namespace> {
        &self.namespace
    }

    /// Makes the future replay-only from its next poll on.
    pub(crate) fn set_replay_only(&mut self) {
        self.replay_only = true;
    }
}

impl<F: Future + ?Sized> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let _guard = enter(this.context, Arc::clone(&this.namespace), this.replay_only);
        this.future.as_mut().poll(cx)
    }
}

/// A waker that notes whether it was woken (and passes the wake on, if it has a waker to
/// pass it to): it tells whether a future woke itself while it was polled, so that it can
/// still make progress whatever it waits for.
#[derive(Default)]
pub(crate) struct WakeFlag {
    woken: AtomicBool,
    forward: Mutex<Option<Waker>>,
}

impl WakeFlag {
    /// A waker for the next poll, with the flag cleared; wakes are passed on to `forward`.
    pub(crate) fn waker(self: &Arc<Self>, forward: Option<&Waker>) -> Waker {
        self.woken.store(false, Ordering::SeqCst);
        let mut slot = self
            .forward
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match (forward, slot.as_ref()) {
            (Some(forward), Some(known)) if known.will_wake(forward) => {}
            (forward, _) => *slot = forward.cloned(),
        }
        Waker::from(Arc::clone(self))
    }

    /// Whether a waker made by [`waker`](Self::waker) was woken since.
    pub(crate) fn woken(&self) -> bool {
        self.woken.load(Ordering::SeqCst)
    }
}

impl Wake for WakeFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        let forward = self
            .forward
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(forward) = forward.as_ref() {
            forward.wake_by_ref();
        }
    }
}

/// How many times a replay-only operand is polled again after waking itself, at most. Replay
/// resolves recorded operations without waiting; an operand that keeps waking itself longer
/// is waiting on something else and is left where it is.
const MAX_REPLAY_ONLY_POLLS: usize = 10_000;

/// Polls replay-only futures until none of them can make progress by itself: each either
/// finished (its output is returned, by position) or waits for something that replay-only
/// code never gets (an operation that was not finished when it was abandoned).
pub(crate) fn drain_replay_only<F: Future + ?Sized>(
    futures: &mut [Scoped<F>],
) -> Vec<Option<F::Output>> {
    let flag = Arc::new(WakeFlag::default());
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    for _ in 0..MAX_REPLAY_ONLY_POLLS {
        let mut woken = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_some() {
                continue;
            }
            let waker = flag.waker(None);
            match Pin::new(&mut *future).poll(&mut Context::from_waker(&waker)) {
                Poll::Ready(value) => *output = Some(value),
                Poll::Pending => woken |= flag.woken(),
            }
        }
        if !woken {
            break;
        }
    }
    outputs
}

impl<F: ?Sized> Unpin for Scoped<F> {}

/// The path of the `n`-th operation of the namespace `prefix` (`""` at the root).
fn join_path(prefix: &str, n: u64) -> String {
    if prefix.is_empty() {
        n.to_string()
    } else {
        format!("{prefix}-{n}")
    }
}

/// The path of the operation that follows the one at `path` in its namespace: `"3"` after
/// `"2"`, `"4-2"` after `"4-1"`.
pub(crate) fn following_path(path: &str) -> String {
    let (prefix, n) = path.rsplit_once('-').unwrap_or(("", path));
    // Paths are made by `join_path`: the last part is always a number.
    join_path(prefix, n.parse::<u64>().map_or(0, |n| n.saturating_add(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_following_path_is_the_next_sibling() {
        assert_eq!(following_path("1"), "2");
        assert_eq!(following_path("9"), "10");
        assert_eq!(following_path("4-1"), "4-2");
        assert_eq!(following_path("4-2-19"), "4-2-20");
        let namespace = Namespace::new("7-3".to_owned(), NO_TIME);
        let first = namespace.next_path();
        assert_eq!(following_path(&first), namespace.peek_path());
    }
}
