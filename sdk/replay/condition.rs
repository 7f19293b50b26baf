//! wait_for_condition: return the final state, wait for the next poll, or poll.

use super::recorded_error;
use super::step::finished_attempts;
use crate::log::OpRecord;
use crate::wire::{ErrorObject, OperationStatus};

/// What a wait-for-condition does at this point of the replay.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ConditionDecision<'a> {
    /// The condition held: return the recorded final state.
    Succeeded(Option<&'a str>),
    /// Raise the recorded error.
    Failed(ErrorObject),
    /// The next poll is scheduled: suspend.
    Park,
    /// Run poll `attempt` from `state` (the state the last poll recorded, `None` for the
    /// initial state); checkpoint START first when `start`.
    Check {
        attempt: u32,
        start: bool,
        state: Option<&'a str>,
    },
    /// Polled replay-only with no recorded outcome: stop here, checking nothing.
    Abandon,
}

/// The replay decision table for wait-for-condition.
pub(crate) fn condition_decision(
    op: Option<&OpRecord>,
    replay_only: bool,
) -> ConditionDecision<'_> {
    let decision = match op {
        None => ConditionDecision::Check {
            attempt: 1,
            start: true,
            state: None,
        },
        Some(op) => match op.status {
            OperationStatus::Succeeded => ConditionDecision::Succeeded(op.result()),
            // Never reached: the log does not hand out records it cannot interpret.
            OperationStatus::Pending | OperationStatus::Unknown(_) => ConditionDecision::Park,
            status @ (OperationStatus::Ready | OperationStatus::Started) => {
                ConditionDecision::Check {
                    attempt: finished_attempts(op).saturating_add(1),
                    start: status == OperationStatus::Ready,
                    state: op.result(),
                }
            }
            OperationStatus::Failed
            | OperationStatus::Cancelled
            | OperationStatus::TimedOut
            | OperationStatus::Stopped => ConditionDecision::Failed(recorded_error(
                op,
                "WaitForConditionError",
                "wait for condition",
            )),
        },
    };
    match decision {
        ConditionDecision::Check { .. } if replay_only => ConditionDecision::Abandon,
        decision => decision,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::error_object;
    use crate::replay::{record, STATUSES};
    use serde_json::json;

    #[test]
    fn condition_table() {
        let check = |attempt, start, state| ConditionDecision::Check {
            attempt,
            start,
            state,
        };
        assert_eq!(condition_decision(None, false), check(1, true, None));
        assert_eq!(condition_decision(None, true), ConditionDecision::Abandon);
        for replay_only in [false, true] {
            for status in STATUSES {
                let op = record(
                    "STEP",
                    status,
                    json!({"SubType": "WaitForCondition", "StepDetails": {"Result": "{\"n\":2}", "Attempt": 2}}),
                );
                let expected = match (status, replay_only) {
                    ("SUCCEEDED", _) => ConditionDecision::Succeeded(Some("{\"n\":2}")),
                    ("PENDING", _) => ConditionDecision::Park,
                    ("READY" | "STARTED", true) => ConditionDecision::Abandon,
                    ("READY", false) => check(3, true, Some("{\"n\":2}")),
                    ("STARTED", false) => check(3, false, Some("{\"n\":2}")),
                    _ => ConditionDecision::Failed(error_object(
                        "WaitForConditionError",
                        &format!("wait for condition ended {status}"),
                    )),
                };
                assert_eq!(
                    condition_decision(Some(&op), replay_only),
                    expected,
                    "{status} replay-only: {replay_only}"
                );
            }
        }
        // A first poll interrupted before it recorded anything starts from the initial state.
        let fresh = record("STEP", "STARTED", json!({"SubType": "WaitForCondition"}));
        assert_eq!(
            condition_decision(Some(&fresh), false),
            check(1, false, None)
        );
    }
}
