//! [`Signal`]: a counter whose changes wake the code waiting for them.
//!
//! Like a `tokio::sync::watch` channel of a counter, except that waiters are woken in a
//! fixed order (tokio's watch channel spreads its receivers over several notifiers at
//! random, so the order in which they wake differs from run to run). The operations of an
//! invocation are polled on one task, so a fixed wake order is what keeps a run
//! reproducible on a paused clock.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::futures::OwnedNotified;
use tokio::sync::Notify;

/// A counter that wakes its [`Watcher`]s when it changes.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    value: Arc<AtomicU64>,
    notify: Arc<Notify>,
    /// How many watchers there are: without any, a change wakes nobody (and costs no
    /// lock).
    watchers: Arc<AtomicUsize>,
}

impl Signal {
    /// Counts one change and wakes the watchers.
    pub(crate) fn bump(&self) {
        self.value.fetch_add(1, Ordering::SeqCst);
        // A watcher made after this load reads the new value as already seen.
        if self.watchers.load(Ordering::SeqCst) > 0 {
            self.notify.notify_waiters();
        }
    }

    /// A watcher that sees the changes from now on.
    pub(crate) fn watch(&self) -> Watcher {
        self.watchers.fetch_add(1, Ordering::SeqCst);
        Watcher {
            seen: self.value.load(Ordering::SeqCst),
            value: Arc::clone(&self.value),
            notify: Arc::clone(&self.notify),
            watchers: Arc::clone(&self.watchers),
            waiting: None,
        }
    }
}

/// Sees the changes of a [`Signal`].
pub(crate) struct Watcher {
    seen: u64,
    value: Arc<AtomicU64>,
    notify: Arc<Notify>,
    watchers: Arc<AtomicUsize>,
    /// Registered with the signal's waiters while a change is awaited.
    waiting: Option<Pin<Box<OwnedNotified>>>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.watchers.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Watcher {
    /// Ready once the signal changed since this was last ready (or since the watcher was
    /// made); otherwise the task is woken at the next change.
    pub(crate) fn poll_changed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let value = self.value.load(Ordering::SeqCst);
            if value != self.seen {
                self.seen = value;
                self.waiting = None;
                return Poll::Ready(());
            }
            let waiting = self.waiting.get_or_insert_with(|| {
                let mut notified = Box::pin(Arc::clone(&self.notify).notified_owned());
                // Registered before the value is read again, so no change is missed.
                notified.as_mut().enable();
                notified
            });
            if self.value.load(Ordering::SeqCst) != self.seen {
                continue;
            }
            match waiting.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                // Notified: look at the value again, with a new registration if needed.
                Poll::Ready(()) => self.waiting = None,
            }
        }
    }

    /// Waits for the next change (see [`poll_changed`](Self::poll_changed)).
    pub(crate) async fn changed(&mut self) {
        std::future::poll_fn(|cx| self.poll_changed(cx)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_watcher_sees_each_change_once_and_none_before_it_was_made() {
        let signal = Signal::default();
        signal.bump();
        let mut watcher = signal.watch();
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(watcher.poll_changed(&mut cx).is_pending());
        signal.bump();
        signal.bump();
        assert!(watcher.poll_changed(&mut cx).is_ready());
        assert!(watcher.poll_changed(&mut cx).is_pending());
        let waiting = tokio::spawn(async move { watcher.changed().await });
        tokio::task::yield_now().await;
        signal.bump();
        assert!(
            tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
                .await
                .is_ok()
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn watchers_wake_in_a_fixed_order() {
        let signal = Arc::new(Signal::default());
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..16 {
            let mut watcher = signal.watch();
            let order = Arc::clone(&order);
            tasks.push(tokio::spawn(async move {
                watcher.changed().await;
                order.lock().unwrap_or_else(|p| p.into_inner()).push(i);
            }));
            tokio::task::yield_now().await;
        }
        signal.bump();
        for task in tasks {
            let _ = task.await;
        }
        let order = order.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        // Woken in the order they began waiting (or its reverse): never shuffled.
        let mut reversed = sorted.clone();
        reversed.reverse();
        assert!(order == sorted || order == reversed, "{order:?}");
    }
}
