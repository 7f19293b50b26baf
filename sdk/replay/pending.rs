//! Suspension: what an invocation does while its handler is pending.

/// What the handler was doing when it returned `Pending` to the invocation driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Activity {
    /// It woke itself while it was polled: some of its code can run right away.
    pub(crate) woken: bool,
    /// Work that finishes by itself is under way: step bodies and checks, checkpoint
    /// calls.
    pub(crate) active: usize,
    /// Live operations parked until the service reports a timer or an outside event.
    /// Operations abandoned by a finished combinator, batch or context are not counted.
    pub(crate) parked: usize,
}

/// What the invocation does while the handler is pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PendingDecision {
    /// Wait for the handler to make progress.
    KeepRunning,
    /// Nothing can progress without the service: write what is queued and return
    /// `PENDING`; the service invokes again when a parked operation is ready.
    Suspend,
    /// The deadline is near while code could still progress: write what is queued and end
    /// the invocation with a function error, so that the service invokes again at once.
    /// (`PENDING` would wait for an outside event that the unfinished code may be the one
    /// to cause, such as a submitter that hands out a callback id.)
    EndForRetry,
}

/// Whether to suspend: only when no code can run or is running, and some live operation
/// waits on the service.
pub(crate) fn when_pending(activity: Activity, deadline_passed: bool) -> PendingDecision {
    let quiescent = !activity.woken && activity.active == 0 && activity.parked > 0;
    if quiescent {
        PendingDecision::Suspend
    } else if deadline_passed {
        PendingDecision::EndForRetry
    } else {
        PendingDecision::KeepRunning
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_pending_table() {
        use PendingDecision::{EndForRetry, KeepRunning, Suspend};
        let rows = [
            // woken, active, parked, deadline passed -> decision
            (false, 0, 1, false, Suspend),
            (false, 0, 3, true, Suspend),
            (false, 0, 0, false, KeepRunning),
            (false, 0, 0, true, EndForRetry),
            (true, 0, 1, false, KeepRunning),
            (true, 0, 1, true, EndForRetry),
            (false, 1, 1, false, KeepRunning),
            (false, 1, 1, true, EndForRetry),
            (false, 2, 0, true, EndForRetry),
            (true, 3, 0, false, KeepRunning),
        ];
        for (woken, active, parked, deadline, expected) in rows {
            let activity = Activity {
                woken,
                active,
                parked,
            };
            assert_eq!(
                when_pending(activity, deadline),
                expected,
                "{activity:?}, deadline passed: {deadline}"
            );
        }
    }
}
