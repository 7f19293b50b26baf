//! Suspension: what an invocation does while its handler is pending, and at its deadline.

/// What the handler was doing when it returned `Pending` to the invocation driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Activity {
    /// It woke itself while it was polled: some of its code can run right away.
    pub(crate) woken: bool,
    /// Work that finishes by itself is under way: step bodies and checks, checkpoint
    /// calls, and step attempts the deadline cut short that must run again.
    pub(crate) active: usize,
    /// Live operations parked until the service reports a timer or an outside event.
    /// Operations abandoned by a finished combinator, batch or context are not counted.
    pub(crate) parked: usize,
}

/// Where the invocation stands with respect to its Lambda deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deadline {
    /// Not near yet.
    Ahead,
    /// Within the margin before the deadline; `cut` tells whether running step attempts
    /// were told to end.
    Reached { cut: bool },
    /// The time granted to the cut attempts to record their outcome is over.
    GraceOver,
}

/// What the invocation does while the handler is pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PendingDecision {
    /// Wait for the handler to make progress.
    KeepRunning,
    /// Nothing can progress without the service: write what is queued and return
    /// `PENDING`; the service invokes again when a parked operation is ready.
    Suspend,
    /// The deadline is near: tell running step attempts to end (see
    /// [`step::on_cut`](super::step::on_cut)) and start no new one, then keep running
    /// while they record their outcome.
    Cut,
    /// The deadline is near while code could still progress: write what is queued and end
    /// the invocation with a function error, so that the service invokes again at once.
    /// (`PENDING` would wait for an outside event that the unfinished code may be the one
    /// to cause, such as a submitter that hands out a callback id.)
    EndForRetry,
}

/// Whether to suspend: only when no code can run or is running, and some live operation
/// waits on the service. At the deadline, running attempts are cut first; once they have
/// recorded their outcome (or the grace time is over) the invocation suspends if it can,
/// and ends for a retry otherwise.
pub(crate) fn when_pending(activity: Activity, deadline: Deadline) -> PendingDecision {
    let quiescent = !activity.woken && activity.active == 0 && activity.parked > 0;
    let settling = activity.woken || activity.active > 0;
    match deadline {
        _ if quiescent => PendingDecision::Suspend,
        Deadline::Ahead => PendingDecision::KeepRunning,
        Deadline::Reached { cut: false } => PendingDecision::Cut,
        Deadline::Reached { cut: true } if settling => PendingDecision::KeepRunning,
        Deadline::Reached { cut: true } | Deadline::GraceOver => PendingDecision::EndForRetry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_pending_table() {
        use Deadline::{Ahead, GraceOver, Reached};
        use PendingDecision::{Cut, EndForRetry, KeepRunning, Suspend};
        let cut = Reached { cut: true };
        let uncut = Reached { cut: false };
        let rows = [
            // woken, active, parked, deadline -> decision
            (false, 0, 1, Ahead, Suspend),
            (false, 0, 3, uncut, Suspend),
            (false, 0, 3, cut, Suspend),
            (false, 0, 3, GraceOver, Suspend),
            (false, 0, 0, Ahead, KeepRunning),
            (false, 0, 0, uncut, Cut),
            (false, 0, 0, cut, EndForRetry),
            (false, 0, 0, GraceOver, EndForRetry),
            (true, 0, 1, Ahead, KeepRunning),
            (true, 0, 1, uncut, Cut),
            (true, 0, 1, cut, KeepRunning),
            (true, 0, 1, GraceOver, EndForRetry),
            (false, 1, 1, Ahead, KeepRunning),
            (false, 1, 1, uncut, Cut),
            (false, 1, 1, cut, KeepRunning),
            (false, 1, 1, GraceOver, EndForRetry),
            (false, 2, 0, cut, KeepRunning),
            (false, 2, 0, GraceOver, EndForRetry),
            (true, 3, 0, Ahead, KeepRunning),
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
                "{activity:?}, {deadline:?}"
            );
        }
    }
}
