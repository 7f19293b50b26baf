//! Suspension: what an invocation does while its handler is pending, and at its deadline.

use crate::wire::OperationStatus;

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

/// What the invocation knows of the operations parked on the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Parked {
    /// The earliest time one of them is due (the end of a wait, the next attempt of a step
    /// or a check), in the service's epoch milliseconds.
    pub(crate) earliest_due: Option<i64>,
    /// Whether one of them is due at no set time (a callback, a chained invoke).
    pub(crate) undated: bool,
}

/// The least time between two questions to the service, so that operations due within it
/// share one.
pub(crate) const MIN_POLL_SPACING_MS: i64 = 100;
/// The time between questions about operations due at no set time (or overdue), doubled
/// after each answer that changed nothing, up to [`MAX_POLL_INTERVAL_MS`].
pub(crate) const FIRST_POLL_INTERVAL_MS: i64 = 1_000;
/// See [`FIRST_POLL_INTERVAL_MS`].
pub(crate) const MAX_POLL_INTERVAL_MS: i64 = 10_000;

/// When to ask the service what changed, in milliseconds from `now` (both in the service's
/// time), while the handler is pending; `None` to not ask.
///
/// Only while work runs beside operations parked on the service: an answer then lets them
/// resume within the invocation. When nothing runs the invocation suspends instead (see
/// [`when_pending`]): waiting idle is billed. An operation due at a set time is asked about
/// when it is due; undated ones (and overdue ones) every second, backing off to every ten
/// seconds while answers change nothing. `since_answer` is the time since the service last
/// answered (any checkpoint call counts), `unchanged` the questions asked since an answer
/// last changed the log.
pub(crate) fn next_poll(
    activity: Activity,
    parked: Parked,
    now: i64,
    since_answer: i64,
    unchanged: u32,
) -> Option<i64> {
    if activity.active == 0 || activity.parked == 0 {
        return None;
    }
    let interval = FIRST_POLL_INTERVAL_MS
        .saturating_mul(1 << unchanged.min(4))
        .min(MAX_POLL_INTERVAL_MS);
    let backed_off = interval.saturating_sub(since_answer).max(0);
    let dated = parked
        .earliest_due
        .map(|due| if due > now { due - now } else { backed_off });
    let undated = parked.undated.then_some(backed_off);
    let delay = match (dated, undated) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        // Only operations that cannot resume in this invocation (a step whose body already
        // ran, waiting to retry): an answer would change nothing.
        (None, None) => return None,
    };
    Some(delay.max(MIN_POLL_SPACING_MS.saturating_sub(since_answer)))
}

/// What a branch that can run again in place is doing (see
/// [`crate::context::restart`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Branch {
    /// Work of the branch under way that finishes by itself (step bodies, checks,
    /// checkpoint calls).
    pub(crate) active: usize,
    /// Updates the branch queued without waiting are not written yet.
    pub(crate) unwritten: bool,
    /// The invocation reached its deadline: no attempt starts any more.
    pub(crate) deadline_reached: bool,
}

/// Whether a branch runs again in place, given the statuses of its operations that wait
/// for their next attempt after running one in this run of the branch (`None`: no record).
///
/// Only when one of them is no longer `PENDING` (the service made it `READY`, or finished
/// it), and nothing of the branch is under way: a run dropped then loses nothing (whatever
/// it queued is written, no body is cut short), and its replay returns what it recorded.
pub(crate) fn run_again(
    branch: Branch,
    stuck: impl IntoIterator<Item = Option<OperationStatus>>,
) -> bool {
    if branch.active > 0 || branch.unwritten || branch.deadline_reached {
        return false;
    }
    stuck
        .into_iter()
        .any(|status| status.is_some_and(|status| status != OperationStatus::Pending))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_poll_table() {
        let running = Activity {
            woken: false,
            active: 1,
            parked: 1,
        };
        let idle = Activity {
            active: 0,
            ..running
        };
        let nothing_parked = Activity {
            parked: 0,
            ..running
        };
        let due = |at| Parked {
            earliest_due: Some(at),
            undated: false,
        };
        let undated = Parked {
            earliest_due: None,
            undated: true,
        };
        let both = |at| Parked {
            earliest_due: Some(at),
            undated: true,
        };
        let rows = [
            // activity, parked, now, since answer, unchanged -> delay
            (idle, due(5_000), 0, 0, 0, None),
            (nothing_parked, due(5_000), 0, 0, 0, None),
            // Dated: when due.
            (running, due(5_000), 1_000, 0, 0, Some(4_000)),
            (running, due(1_050), 1_000, 10, 0, Some(90)),
            (running, due(1_200), 1_000, 500, 0, Some(200)),
            // Overdue: a second after the last answer, backing off.
            (running, due(900), 1_000, 0, 0, Some(1_000)),
            (running, due(900), 1_000, 400, 0, Some(600)),
            (running, due(900), 1_000, 5_000, 3, Some(3_000)),
            // Undated: every second, backing off to ten.
            (running, undated, 0, 0, 0, Some(1_000)),
            (running, undated, 0, 0, 1, Some(2_000)),
            (running, undated, 0, 0, 2, Some(4_000)),
            (running, undated, 0, 0, 3, Some(8_000)),
            (running, undated, 0, 0, 4, Some(10_000)),
            (running, undated, 0, 0, 40, Some(10_000)),
            (running, undated, 0, 2_500, 0, Some(0)),
            (running, undated, 0, 50, 0, Some(950)),
            // The earlier of both.
            (running, both(300), 0, 0, 0, Some(300)),
            (running, both(3_000), 0, 0, 0, Some(1_000)),
            // Nothing parked that could resume in place: no question.
            (
                running,
                Parked {
                    earliest_due: None,
                    undated: false,
                },
                0,
                0,
                0,
                None,
            ),
        ];
        for (activity, parked, now, since, unchanged, expected) in rows {
            assert_eq!(
                next_poll(activity, parked, now, since, unchanged),
                expected,
                "{activity:?} {parked:?} now {now} since {since} unchanged {unchanged}"
            );
        }
    }

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

    #[test]
    fn run_again_table() {
        use OperationStatus::{Pending, Ready, Succeeded};
        let idle = Branch {
            active: 0,
            unwritten: false,
            deadline_reached: false,
        };
        let busy = Branch { active: 1, ..idle };
        let unwritten = Branch {
            unwritten: true,
            ..idle
        };
        let late = Branch {
            deadline_reached: true,
            ..idle
        };
        let rows: [(Branch, Vec<Option<OperationStatus>>, bool); 9] = [
            (idle, vec![], false),
            (idle, vec![Some(Pending)], false),
            (idle, vec![None], false),
            (idle, vec![Some(Ready)], true),
            (idle, vec![Some(Pending), Some(Ready)], true),
            (idle, vec![Some(Succeeded)], true),
            (busy, vec![Some(Ready)], false),
            (unwritten, vec![Some(Ready)], false),
            (late, vec![Some(Ready)], false),
        ];
        for (branch, stuck, expected) in rows {
            assert_eq!(
                run_again(branch, stuck.clone()),
                expected,
                "{branch:?} {stuck:?}"
            );
        }
    }
}
