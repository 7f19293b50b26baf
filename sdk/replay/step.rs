//! Steps: whether to return the recorded outcome, wait for a scheduled retry, or run an
//! attempt.

use super::recorded_error;
use crate::log::OpRecord;
use crate::wire::{ErrorObject, OperationStatus};

/// How a step runs with respect to retries and interruptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StepSemantics {
    /// The body may run more than once per attempt if the invocation is interrupted while
    /// it runs (the default). Its START is not awaited.
    #[default]
    AtLeastOncePerRetry,
    /// The body runs at most once per attempt: its START is persisted before it runs, and
    /// an attempt interrupted mid-way counts as failed (`StepInterruptedError`) instead of
    /// running again.
    AtMostOncePerRetry,
}

/// What a step does at this point of the replay. The recorded result is borrowed from
/// the log, so it is decoded without being copied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StepDecision<'a> {
    /// Return the recorded result.
    Succeeded(Option<&'a str>),
    /// Raise the recorded error.
    Failed(ErrorObject),
    /// A retry is scheduled: suspend without running the body.
    Park,
    /// Run attempt `attempt`; checkpoint START first when `start` is set.
    Run { attempt: u32, start: bool },
    /// An at-most-once attempt was interrupted: treat attempt `attempt` as failed with
    /// `StepInterruptedError` without running the body.
    Interrupted { attempt: u32 },
    /// The step is polled replay-only (an operand that lost a recorded race, a branch of a
    /// rebuilt batch) and has no recorded outcome: stop here, running and deciding
    /// nothing.
    Abandon,
}

/// Attempts the service has seen finish (`StepDetails.Attempt`), never negative.
pub(crate) fn finished_attempts(op: &OpRecord) -> u32 {
    op.step_attempt().map_or(0, |attempt| {
        u32::try_from(attempt.max(0)).unwrap_or(u32::MAX)
    })
}

/// The replay decision table for steps.
pub(crate) fn step_decision(
    op: Option<&OpRecord>,
    semantics: StepSemantics,
    replay_only: bool,
) -> StepDecision<'_> {
    let decision = match op {
        None => StepDecision::Run {
            attempt: 1,
            start: true,
        },
        Some(op) => recorded_step(op, semantics),
    };
    match decision {
        StepDecision::Run { .. } | StepDecision::Interrupted { .. } if replay_only => {
            StepDecision::Abandon
        }
        decision => decision,
    }
}

fn recorded_step(op: &OpRecord, semantics: StepSemantics) -> StepDecision<'_> {
    let next_attempt = finished_attempts(op).saturating_add(1);
    match op.status {
        OperationStatus::Succeeded => StepDecision::Succeeded(op.result()),
        // Never reached: the log does not hand out records it cannot interpret.
        OperationStatus::Pending | OperationStatus::Unknown(_) => StepDecision::Park,
        OperationStatus::Ready => StepDecision::Run {
            attempt: next_attempt,
            start: true,
        },
        OperationStatus::Started => match semantics {
            StepSemantics::AtLeastOncePerRetry => StepDecision::Run {
                attempt: next_attempt,
                start: false,
            },
            StepSemantics::AtMostOncePerRetry => StepDecision::Interrupted {
                attempt: next_attempt,
            },
        },
        OperationStatus::Failed
        | OperationStatus::Cancelled
        | OperationStatus::TimedOut
        | OperationStatus::Stopped => StepDecision::Failed(recorded_error(op, "StepError", "step")),
    }
}

/// Why a step attempt is cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CutCause {
    /// Its `timeout` passed.
    Timeout,
    /// The invocation reached its deadline while the attempt ran.
    Deadline,
    /// The invocation had reached its deadline when the attempt was about to start.
    NotStarted,
}

/// What a step attempt cut short does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    /// The attempt failed with a timeout error (`StepTimeoutError`), offered to the retry
    /// strategy like any failure.
    TimedOut,
    /// The attempt failed as interrupted (`StepInterruptedError`), offered to the retry
    /// strategy (which retries it by default).
    Interrupted,
    /// Nothing is recorded: the attempt runs again in the next invocation, which the
    /// invocation ends for (at least once: an interrupted attempt is not a failure).
    RunAgain,
}

/// The decision table for step attempts cut short: a step with a timeout records the
/// attempt as timed out (its own timeout, or the deadline before it); without one, an
/// at-most-once attempt counts as interrupted and an at-least-once attempt runs again. An
/// attempt that had not started yet starts in the next invocation.
pub(crate) fn on_cut(cause: CutCause, has_timeout: bool, semantics: StepSemantics) -> Cut {
    match (cause, has_timeout, semantics) {
        (CutCause::NotStarted, _, _) => Cut::RunAgain,
        (CutCause::Timeout, _, _) | (CutCause::Deadline, true, _) => Cut::TimedOut,
        (CutCause::Deadline, false, StepSemantics::AtMostOncePerRetry) => Cut::Interrupted,
        (CutCause::Deadline, false, StepSemantics::AtLeastOncePerRetry) => Cut::RunAgain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::record;
    use serde_json::json;
    use StepSemantics::{AtLeastOncePerRetry as Least, AtMostOncePerRetry as Most};

    fn run(attempt: u32, start: bool) -> StepDecision<'static> {
        StepDecision::Run { attempt, start }
    }

    #[test]
    fn cut_table() {
        use CutCause::{Deadline, NotStarted, Timeout};
        let rows = [
            (Timeout, true, Least, Cut::TimedOut),
            (Timeout, true, Most, Cut::TimedOut),
            (Deadline, true, Least, Cut::TimedOut),
            (Deadline, true, Most, Cut::TimedOut),
            (Deadline, false, Most, Cut::Interrupted),
            (Deadline, false, Least, Cut::RunAgain),
            (NotStarted, true, Most, Cut::RunAgain),
            (NotStarted, false, Most, Cut::RunAgain),
            (NotStarted, false, Least, Cut::RunAgain),
        ];
        for (cause, has_timeout, semantics, expected) in rows {
            assert_eq!(
                on_cut(cause, has_timeout, semantics),
                expected,
                "{cause:?} timeout {has_timeout} {semantics:?}"
            );
        }
    }

    /// Recorded status and details (or nothing), semantics, replay-only -> decision.
    type Row<'a> = (
        Option<(&'a str, serde_json::Value)>,
        StepSemantics,
        bool,
        StepDecision<'a>,
    );

    /// One row per (recorded state × semantics × replay-only).
    #[test]
    fn step_table() {
        let failed = |error_type: &str, message: &str| {
            StepDecision::Failed(crate::error::error_object(error_type, message))
        };
        let rows: Vec<Row<'_>> = vec![
            // Nothing recorded: attempt 1, with START; replay-only code stops.
            (None, Least, false, run(1, true)),
            (None, Most, false, run(1, true)),
            (None, Least, true, StepDecision::Abandon),
            (None, Most, true, StepDecision::Abandon),
            // Finished: the recorded outcome, whatever the semantics or scope.
            (
                Some((
                    "SUCCEEDED",
                    json!({"StepDetails": {"Result": "42", "Attempt": 1}}),
                )),
                Least,
                false,
                StepDecision::Succeeded(Some("42")),
            ),
            (
                Some(("SUCCEEDED", json!({"StepDetails": {"Result": "42"}}))),
                Most,
                true,
                StepDecision::Succeeded(Some("42")),
            ),
            (
                Some(("SUCCEEDED", json!({}))),
                Least,
                false,
                StepDecision::Succeeded(None),
            ),
            (
                Some((
                    "FAILED",
                    json!({"StepDetails": {"Error": {"ErrorType": "PaymentError", "ErrorMessage": "declined"}}}),
                )),
                Least,
                false,
                failed("PaymentError", "declined"),
            ),
            (
                Some((
                    "FAILED",
                    json!({"StepDetails": {"Error": {"ErrorType": "PaymentError", "ErrorMessage": "declined"}}}),
                )),
                Most,
                true,
                failed("PaymentError", "declined"),
            ),
            (
                Some(("FAILED", json!({}))),
                Least,
                false,
                failed("StepError", "step ended FAILED"),
            ),
            (
                Some(("CANCELLED", json!({}))),
                Least,
                false,
                failed("StepError", "step ended CANCELLED"),
            ),
            (
                Some(("TIMED_OUT", json!({}))),
                Most,
                false,
                failed("StepError", "step ended TIMED_OUT"),
            ),
            (
                Some(("STOPPED", json!({}))),
                Least,
                false,
                failed("StepError", "step ended STOPPED"),
            ),
            // A retry is scheduled: wait for it.
            (
                Some(("PENDING", json!({"StepDetails": {"Attempt": 1}}))),
                Least,
                false,
                StepDecision::Park,
            ),
            (
                Some(("PENDING", json!({"StepDetails": {"Attempt": 1}}))),
                Most,
                true,
                StepDecision::Park,
            ),
            // The retry is due: the next attempt, with START.
            (
                Some(("READY", json!({"StepDetails": {"Attempt": 2}}))),
                Most,
                false,
                run(3, true),
            ),
            (
                Some(("READY", json!({"StepDetails": {"Attempt": 2}}))),
                Least,
                false,
                run(3, true),
            ),
            (
                Some(("READY", json!({"StepDetails": {"Attempt": 2}}))),
                Least,
                true,
                StepDecision::Abandon,
            ),
            (Some(("READY", json!({}))), Least, false, run(1, true)),
            (
                Some(("READY", json!({"StepDetails": {"Attempt": -3}}))),
                Least,
                false,
                run(1, true),
            ),
            // Interrupted mid-attempt: run again, or count as failed at most once.
            (Some(("STARTED", json!({}))), Least, false, run(1, false)),
            (
                Some(("STARTED", json!({"StepDetails": {"Attempt": 1}}))),
                Least,
                false,
                run(2, false),
            ),
            (
                Some(("STARTED", json!({}))),
                Most,
                false,
                StepDecision::Interrupted { attempt: 1 },
            ),
            (
                Some(("STARTED", json!({"StepDetails": {"Attempt": 4}}))),
                Most,
                false,
                StepDecision::Interrupted { attempt: 5 },
            ),
            (
                Some(("STARTED", json!({}))),
                Most,
                true,
                StepDecision::Abandon,
            ),
            (
                Some(("STARTED", json!({}))),
                Least,
                true,
                StepDecision::Abandon,
            ),
        ];
        for (recorded, semantics, replay_only, expected) in rows {
            let op = recorded
                .clone()
                .map(|(status, extra)| record("STEP", status, extra));
            assert_eq!(
                step_decision(op.as_ref(), semantics, replay_only),
                expected,
                "{recorded:?} {semantics:?} replay-only: {replay_only}"
            );
        }
    }
}
