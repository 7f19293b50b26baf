//! CONTEXT operations (child contexts, the contexts of map, parallel, their nested
//! branches and wait-for-callback): whether to run the body, and what to record when it
//! ends.

use super::recorded_error;
use crate::limits::REPLAY_CHILDREN_THRESHOLD_BYTES;
use crate::log::OpRecord;
use crate::wire::{ErrorObject, OperationStatus};

/// What a CONTEXT operation does at this point of the replay.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ContextDecision<'a> {
    /// Return the recorded result without running the body.
    Succeeded(Option<&'a str>),
    /// Raise the recorded error.
    Failed(ErrorObject),
    /// Run the body; checkpoint START first when `start`. With `replay_children` the
    /// context already succeeded with a result too large to store: the body runs again
    /// to rebuild it from its children's records, and nothing is recorded.
    Run { start: bool, replay_children: bool },
    /// Polled replay-only with nothing recorded: stop here, starting nothing.
    Abandon,
}

/// The replay decision table for CONTEXT operations.
pub(crate) fn context_decision(op: Option<&OpRecord>, replay_only: bool) -> ContextDecision<'_> {
    let Some(op) = op else {
        return if replay_only {
            ContextDecision::Abandon
        } else {
            ContextDecision::Run {
                start: true,
                replay_children: false,
            }
        };
    };
    match op.status {
        OperationStatus::Succeeded if op.replay_children().unwrap_or(false) => {
            ContextDecision::Run {
                start: false,
                replay_children: true,
            }
        }
        OperationStatus::Succeeded => ContextDecision::Succeeded(op.result()),
        // Never reached: the log does not hand out records it cannot interpret.
        OperationStatus::Started
        | OperationStatus::Pending
        | OperationStatus::Ready
        | OperationStatus::Unknown(_) => ContextDecision::Run {
            start: false,
            replay_children: false,
        },
        OperationStatus::Failed
        | OperationStatus::Cancelled
        | OperationStatus::TimedOut
        | OperationStatus::Stopped => {
            ContextDecision::Failed(recorded_error(op, "ChildContextError", "context"))
        }
    }
}

/// What a CONTEXT records when its body returns a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnSuccess {
    /// Nothing: the body ran to rebuild a result that is already recorded.
    Return,
    /// SUCCEED with the result.
    Store,
    /// SUCCEED with `ReplayChildren` and the batch's summary in place of a result too
    /// large to store; a replay runs the body again, guided by the summary.
    StoreSummary,
    /// SUCCEED with `ReplayChildren` and no result; a replay runs the body again.
    StoreNothing,
}

/// The table of [`OnSuccess`]: `payload_len` is the size of the serialized result,
/// `batch` whether the context is the one of a map or parallel.
pub(crate) fn on_success(replay_children: bool, payload_len: usize, batch: bool) -> OnSuccess {
    if replay_children {
        OnSuccess::Return
    } else if payload_len <= REPLAY_CHILDREN_THRESHOLD_BYTES {
        OnSuccess::Store
    } else if batch {
        OnSuccess::StoreSummary
    } else {
        OnSuccess::StoreNothing
    }
}

/// What a CONTEXT records when its body fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnFailure {
    /// Nothing: the context is recorded as succeeded, and the rebuild failed.
    Return,
    /// FAIL with the error.
    Record,
}

/// The table of [`OnFailure`].
pub(crate) fn on_failure(replay_children: bool) -> OnFailure {
    if replay_children {
        OnFailure::Return
    } else {
        OnFailure::Record
    }
}

/// Whether a body that ran to its end must have visited every operation recorded under
/// its context (else the replay is non-deterministic). A batch body is not held to it:
/// it completes while branches it abandoned have records it does not revisit, and each
/// nested branch is held to its own when its body completes.
pub(crate) fn must_visit_records(batch: bool) -> bool {
    !batch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::error_object;
    use crate::replay::{record, STATUSES};
    use serde_json::json;

    fn run(start: bool, replay_children: bool) -> ContextDecision<'static> {
        ContextDecision::Run {
            start,
            replay_children,
        }
    }

    #[test]
    fn context_table() {
        assert_eq!(context_decision(None, false), run(true, false));
        assert_eq!(context_decision(None, true), ContextDecision::Abandon);
        for replay_only in [false, true] {
            for status in STATUSES {
                let op = record(
                    "CONTEXT",
                    status,
                    json!({"SubType": "RunInChildContext", "ContextDetails": {"Result": "[1]"}}),
                );
                let large = record(
                    "CONTEXT",
                    status,
                    json!({"SubType": "Map", "ContextDetails": {"Result": "", "ReplayChildren": true}}),
                );
                let (expected, expected_large) = match status {
                    "SUCCEEDED" => (ContextDecision::Succeeded(Some("[1]")), run(false, true)),
                    "STARTED" | "PENDING" | "READY" => (run(false, false), run(false, false)),
                    _ => {
                        let error =
                            error_object("ChildContextError", &format!("context ended {status}"));
                        (
                            ContextDecision::Failed(error.clone()),
                            ContextDecision::Failed(error),
                        )
                    }
                };
                assert_eq!(
                    context_decision(Some(&op), replay_only),
                    expected,
                    "{status}"
                );
                assert_eq!(
                    context_decision(Some(&large), replay_only),
                    expected_large,
                    "{status}, replay children"
                );
            }
        }
        let failed = record(
            "CONTEXT",
            "FAILED",
            json!({"ContextDetails": {"Error": {"ErrorType": "Boom", "ErrorMessage": "x"}}}),
        );
        assert_eq!(
            context_decision(Some(&failed), false),
            ContextDecision::Failed(error_object("Boom", "x"))
        );
    }

    #[test]
    fn closing_tables() {
        let limit = REPLAY_CHILDREN_THRESHOLD_BYTES;
        let rows = [
            // replay children, payload size, batch -> what is recorded
            (true, 10, false, OnSuccess::Return),
            (true, limit + 1, true, OnSuccess::Return),
            (false, 0, false, OnSuccess::Store),
            (false, limit, false, OnSuccess::Store),
            (false, limit, true, OnSuccess::Store),
            (false, limit + 1, false, OnSuccess::StoreNothing),
            (false, limit + 1, true, OnSuccess::StoreSummary),
        ];
        for (replay_children, len, batch, expected) in rows {
            assert_eq!(
                on_success(replay_children, len, batch),
                expected,
                "{replay_children} {len} {batch}"
            );
        }
        assert_eq!(on_failure(true), OnFailure::Return);
        assert_eq!(on_failure(false), OnFailure::Record);
        assert!(must_visit_records(false));
        assert!(!must_visit_records(true));
    }
}
