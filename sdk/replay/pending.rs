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
/// waits on the service, unless the invocation `lingers` (see [`linger`]). At the deadline,
/// running attempts are cut first; once they have recorded their outcome (or the grace time
/// is over) the invocation suspends if it can, and ends for a retry otherwise.
pub(crate) fn when_pending(
    activity: Activity,
    deadline: Deadline,
    lingers: bool,
) -> PendingDecision {
    let quiescent = !activity.woken && activity.active == 0 && activity.parked > 0;
    let quiescent = quiescent && !(lingers && deadline == Deadline::Ahead);
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

/// The longest an invocation with nothing running waits for an operation due soon (see
/// [`linger`]), in milliseconds.
pub(crate) const MAX_LINGER_MS: i64 = 1_000;

/// How long an invocation with nothing running may wait for an operation due soon rather
/// than suspend, in milliseconds, given the typical time of a call to the service
/// (`round_trip`): two calls, about what a new invocation takes to get back to the same
/// point (the service's invoke, then the function's first call), without the request and
/// the replay. 0 (never wait) before the first call.
pub(crate) fn linger_window(round_trip: Option<i64>) -> i64 {
    round_trip.map_or(0, |trip| trip.saturating_mul(2).clamp(0, MAX_LINGER_MS))
}

/// Whether an invocation with nothing running (for `idle_for` milliseconds, at the
/// service's time `now`) waits instead of suspending: when an operation that resumes in
/// place is due by the time a new invocation would take (`window`, see [`linger_window`])
/// after it went idle. Waiting that long costs no more than suspending and being invoked
/// again, and the operation resumes sooner. It waits at most twice the window (room for
/// the question that finds the operation ready), then suspends.
pub(crate) fn linger(parked: Parked, now: i64, idle_for: i64, window: i64) -> bool {
    if window <= 0 || idle_for > window.saturating_mul(2) {
        return false;
    }
    let idle_since = now.saturating_sub(idle_for);
    parked
        .earliest_due
        .is_some_and(|due| due <= idle_since.saturating_add(window))
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
/// Only while work runs beside operations parked on the service, or while the invocation
/// lingers for one due soon (`lingering` is then the window of [`linger`]): an answer then
/// lets them resume within the invocation. When nothing runs the invocation suspends
/// instead (see [`when_pending`]): waiting idle is billed. An operation due at a set time is asked about
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
    lingering: Option<i64>,
) -> Option<i64> {
    if activity.parked == 0 {
        return None;
    }
    // Nothing runs: only the operation lingered for is asked about, when it is due, with no
    // more than one question per round trip (half the window).
    let idle = match (activity.active, lingering) {
        (0, None) => return None,
        (0, Some(window)) => Some(window / 2),
        _ => None,
    };
    let interval = FIRST_POLL_INTERVAL_MS
        .saturating_mul(1 << unchanged.min(4))
        .min(MAX_POLL_INTERVAL_MS);
    let backed_off = interval.saturating_sub(since_answer).max(0);
    let overdue = if idle.is_some() { 0 } else { backed_off };
    let dated = parked
        .earliest_due
        .map(|due| if due > now { due - now } else { overdue });
    let undated = (parked.undated && idle.is_none()).then_some(backed_off);
    let delay = match (dated, undated) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        // Only operations that cannot resume in this invocation (a step whose body already
        // ran, waiting to retry): an answer would change nothing.
        (None, None) => return None,
    };
    let spacing = idle.unwrap_or(MIN_POLL_SPACING_MS);
    Some(delay.max(spacing.saturating_sub(since_answer)))
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

    /// Parked operations, the earliest due at `at`.
    fn due(at: i64) -> Parked {
        Parked {
            earliest_due: Some(at),
            undated: false,
        }
    }

    /// Parked operations due at no set time.
    const UNDATED: Parked = Parked {
        earliest_due: None,
        undated: true,
    };

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
            (running, UNDATED, 0, 0, 0, Some(1_000)),
            (running, UNDATED, 0, 0, 1, Some(2_000)),
            (running, UNDATED, 0, 0, 2, Some(4_000)),
            (running, UNDATED, 0, 0, 3, Some(8_000)),
            (running, UNDATED, 0, 0, 4, Some(10_000)),
            (running, UNDATED, 0, 0, 40, Some(10_000)),
            (running, UNDATED, 0, 2_500, 0, Some(0)),
            (running, UNDATED, 0, 50, 0, Some(950)),
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
                next_poll(activity, parked, now, since, unchanged, None),
                expected,
                "{activity:?} {parked:?} now {now} since {since} unchanged {unchanged}"
            );
        }
    }

    #[test]
    fn next_poll_while_lingering() {
        let idle = Activity {
            woken: false,
            active: 0,
            parked: 1,
        };
        let both = Parked {
            earliest_due: Some(1_025),
            undated: true,
        };
        let rows = [
            // parked, now, since answer, lingering window -> delay
            // Not lingering: nothing runs, no question.
            (due(1_025), 1_000, 0, None, None),
            // When due, no sooner than a round trip (half the window) after the last answer.
            (due(1_025), 1_000, 0, Some(30), Some(25)),
            (due(1_005), 1_000, 0, Some(30), Some(15)),
            (due(1_005), 1_000, 40, Some(30), Some(5)),
            // Overdue: at once, once a round trip has passed.
            (due(990), 1_000, 40, Some(30), Some(0)),
            (due(990), 1_000, 5, Some(30), Some(10)),
            // Callbacks and invokes are not lingered for.
            (UNDATED, 1_000, 0, Some(30), None),
            (both, 1_000, 0, Some(30), Some(25)),
        ];
        for (parked, now, since, window, expected) in rows {
            assert_eq!(
                next_poll(idle, parked, now, since, 0, window),
                expected,
                "{parked:?} now {now} since {since} window {window:?}"
            );
        }
        // While work runs, lingering changes nothing.
        let running = Activity { active: 1, ..idle };
        assert_eq!(
            next_poll(running, due(5_000), 1_000, 0, 0, Some(30)),
            next_poll(running, due(5_000), 1_000, 0, 0, None)
        );
    }

    #[test]
    fn linger_table() {
        let rows = [
            // parked, now, idle for, window -> lingers
            // Due within the window after going idle.
            (due(1_025), 1_000, 0, 30, true),
            (due(1_030), 1_000, 0, 30, true),
            (due(1_031), 1_000, 0, 30, false),
            (due(1_025), 1_010, 10, 30, true),
            // Overdue, or due now: waits for the question that finds it.
            (due(990), 1_000, 0, 30, true),
            // At most twice the window idle.
            (due(1_025), 1_060, 60, 30, true),
            (due(1_025), 1_061, 61, 30, false),
            // No round trip measured: never.
            (due(1_000), 1_000, 0, 0, false),
            // Only dated operations.
            (UNDATED, 1_000, 0, 30, false),
        ];
        for (parked, now, idle_for, window, expected) in rows {
            assert_eq!(
                linger(parked, now, idle_for, window),
                expected,
                "{parked:?} now {now} idle {idle_for} window {window}"
            );
        }
        assert_eq!(linger_window(None), 0);
        assert_eq!(linger_window(Some(15)), 30);
        assert_eq!(linger_window(Some(5_000)), MAX_LINGER_MS);
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
                when_pending(activity, deadline, false),
                expected,
                "{activity:?}, {deadline:?}"
            );
        }
        // Lingering keeps an idle invocation running, until the deadline is near.
        let idle = Activity {
            woken: false,
            active: 0,
            parked: 1,
        };
        assert_eq!(when_pending(idle, Ahead, true), KeepRunning);
        assert_eq!(when_pending(idle, Reached { cut: false }, true), Suspend);
        assert_eq!(when_pending(idle, GraceOver, true), Suspend);
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
