//! Chained invokes: start the target, wait for it, or return what it gave.

use super::recorded_error;
use crate::log::OpRecord;
use crate::wire::{ErrorObject, OperationStatus};

/// What an invoke does at this point of the replay.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum InvokeDecision<'a> {
    /// Not recorded: checkpoint START with the payload.
    Start,
    /// The target is running: suspend.
    Park,
    /// The target's result.
    Succeeded(Option<&'a str>),
    /// The target failed (or the invoke was cancelled).
    Failed(ErrorObject),
    /// The target timed out.
    TimedOut(ErrorObject),
    /// The target, a durable execution, was stopped.
    Stopped(ErrorObject),
}

/// The replay decision table for invokes. The same table reads the service's answer to
/// the START, where [`InvokeDecision::Start`] means that nothing came back yet.
pub(crate) fn invoke_decision(op: Option<&OpRecord>) -> InvokeDecision<'_> {
    let Some(op) = op else {
        return InvokeDecision::Start;
    };
    let error = || recorded_error(op, "InvokeError", "invoke");
    match op.status {
        // Never reached: the log does not hand out records it cannot interpret.
        OperationStatus::Started
        | OperationStatus::Pending
        | OperationStatus::Ready
        | OperationStatus::Unknown(_) => InvokeDecision::Park,
        OperationStatus::Succeeded => InvokeDecision::Succeeded(op.result()),
        OperationStatus::TimedOut => InvokeDecision::TimedOut(error()),
        OperationStatus::Stopped => InvokeDecision::Stopped(error()),
        OperationStatus::Failed | OperationStatus::Cancelled => InvokeDecision::Failed(error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::error_object;
    use crate::replay::{record, STATUSES};
    use serde_json::json;

    #[test]
    fn invoke_table() {
        assert_eq!(invoke_decision(None), InvokeDecision::Start);
        let target_error = json!({"ChainedInvokeDetails": {"Error": {"ErrorType": "Boom", "ErrorMessage": "target"}}});
        for status in STATUSES {
            let bare = record(
                "CHAINED_INVOKE",
                status,
                json!({"SubType": "ChainedInvoke", "ChainedInvokeDetails": {"Result": "7"}}),
            );
            let with_error = record("CHAINED_INVOKE", status, target_error.clone());
            let default = error_object("InvokeError", &format!("invoke ended {status}"));
            let target = error_object("Boom", "target");
            let (expected, expected_with_error) = match status {
                "STARTED" | "PENDING" | "READY" => (InvokeDecision::Park, InvokeDecision::Park),
                "SUCCEEDED" => (
                    InvokeDecision::Succeeded(Some("7")),
                    InvokeDecision::Succeeded(None),
                ),
                "TIMED_OUT" => (
                    InvokeDecision::TimedOut(default),
                    InvokeDecision::TimedOut(target),
                ),
                "STOPPED" => (
                    InvokeDecision::Stopped(default),
                    InvokeDecision::Stopped(target),
                ),
                _ => (
                    InvokeDecision::Failed(default),
                    InvokeDecision::Failed(target),
                ),
            };
            assert_eq!(invoke_decision(Some(&bare)), expected, "{status}");
            assert_eq!(
                invoke_decision(Some(&with_error)),
                expected_with_error,
                "{status} with an error"
            );
        }
    }
}
