//! Callbacks: registering one, waiting for its outcome, and which operation a failed
//! wait-for-callback reports.

use super::recorded_error;
use crate::log::OpRecord;
use crate::wire::{ErrorObject, OperationStatus};

/// What `create_callback` does at this point of the replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Registration<'a> {
    /// Not recorded: checkpoint START (the service answers with the callback id).
    Start,
    /// Recorded with this callback id, whatever its status: hand it out again.
    Registered(&'a str),
    /// Recorded without a callback id: the service broke the protocol.
    MissingId,
}

/// The decision table of `create_callback`. The same table reads the service's answer to
/// the START, where [`Registration::Start`] also means that no id came back.
pub(crate) fn registration(op: Option<&OpRecord>) -> Registration<'_> {
    match op {
        None => Registration::Start,
        Some(op) => op
            .callback_id()
            .map_or(Registration::MissingId, Registration::Registered),
    }
}

/// What awaiting a callback's result gives at this point of the replay.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CallbackOutcome<'a> {
    /// No outcome yet: suspend until the service reports one.
    Park,
    /// The text the external system sent.
    Succeeded(Option<&'a str>),
    /// Failed by the external system, cancelled or stopped.
    Failed(ErrorObject),
    /// Timed out (overall or for want of a heartbeat).
    TimedOut(ErrorObject),
}

/// The decision table of a callback's result.
pub(crate) fn outcome(op: Option<&OpRecord>) -> CallbackOutcome<'_> {
    let Some(op) = op else {
        return CallbackOutcome::Park;
    };
    let error = || recorded_error(op, "CallbackError", "callback");
    match op.status {
        // Never reached: the log does not hand out records it cannot interpret.
        OperationStatus::Started
        | OperationStatus::Pending
        | OperationStatus::Ready
        | OperationStatus::Unknown(_) => CallbackOutcome::Park,
        OperationStatus::Succeeded => CallbackOutcome::Succeeded(op.result()),
        OperationStatus::TimedOut => CallbackOutcome::TimedOut(error()),
        OperationStatus::Failed | OperationStatus::Cancelled | OperationStatus::Stopped => {
            CallbackOutcome::Failed(error())
        }
    }
}

/// Which operation of a wait-for-callback a failure of its context came from, by the
/// `ErrorType` the context recorded. Only the context's own record is read, on the first
/// run as on a replay: the service may leave the children of a finished context out of
/// the state, so looking at them would give a replay another error than the run it
/// repeats. The callback's failures have types of their own, and so do the SDK's errors;
/// every other type is the submitter's error (recorded as it failed, or as `StepError` by
/// earlier versions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitForCallbackFailure {
    /// The callback failed.
    Callback,
    /// The callback timed out.
    CallbackTimedOut,
    /// The submitter step failed for good.
    Submitter,
    /// Anything else (a panic, an SDK error turned into the context's failure).
    Context,
}

/// The table of [`WaitForCallbackFailure`].
pub(crate) fn submitter_failure(error_type: Option<&str>) -> WaitForCallbackFailure {
    match error_type {
        Some("CallbackError") => WaitForCallbackFailure::Callback,
        Some("CallbackTimeoutError") => WaitForCallbackFailure::CallbackTimedOut,
        None
        | Some(
            "ChildContextError"
            | "ValidationError"
            | "SerdesError"
            | "PayloadTooLargeError"
            | "CheckpointError"
            | "NonDeterministicExecutionError"
            | "InvalidInputError",
        ) => WaitForCallbackFailure::Context,
        Some(_) => WaitForCallbackFailure::Submitter,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::error_object;
    use crate::replay::{record, STATUSES};
    use serde_json::json;

    #[test]
    fn registration_table() {
        assert_eq!(registration(None), Registration::Start);
        for status in STATUSES {
            let with_id = record(
                "CALLBACK",
                status,
                json!({"SubType": "Callback", "CallbackDetails": {"CallbackId": "cb-1"}}),
            );
            assert_eq!(
                registration(Some(&with_id)),
                Registration::Registered("cb-1"),
                "{status}"
            );
            let without = record("CALLBACK", status, json!({"SubType": "Callback"}));
            assert_eq!(
                registration(Some(&without)),
                Registration::MissingId,
                "{status}"
            );
        }
    }

    #[test]
    fn outcome_table() {
        assert_eq!(outcome(None), CallbackOutcome::Park);
        let details = json!({"CallbackDetails": {"CallbackId": "cb-1", "Result": "\"yes\""}});
        let failure = json!({"CallbackDetails": {"CallbackId": "cb-1", "Error": {"ErrorType": "Declined", "ErrorMessage": "no"}}});
        for status in STATUSES {
            let op = record("CALLBACK", status, details.clone());
            let failed = record("CALLBACK", status, failure.clone());
            let (expected, expected_failed) = match status {
                "STARTED" | "PENDING" | "READY" => (CallbackOutcome::Park, CallbackOutcome::Park),
                "SUCCEEDED" => (
                    CallbackOutcome::Succeeded(Some("\"yes\"")),
                    CallbackOutcome::Succeeded(None),
                ),
                "TIMED_OUT" => (
                    CallbackOutcome::TimedOut(error_object(
                        "CallbackError",
                        "callback ended TIMED_OUT",
                    )),
                    CallbackOutcome::TimedOut(error_object("Declined", "no")),
                ),
                _ => (
                    CallbackOutcome::Failed(error_object(
                        "CallbackError",
                        &format!("callback ended {status}"),
                    )),
                    CallbackOutcome::Failed(error_object("Declined", "no")),
                ),
            };
            assert_eq!(outcome(Some(&op)), expected, "{status}");
            assert_eq!(
                outcome(Some(&failed)),
                expected_failed,
                "{status} with an error"
            );
        }
    }

    #[test]
    fn submitter_failure_table() {
        let rows = [
            (Some("CallbackError"), WaitForCallbackFailure::Callback),
            (
                Some("CallbackTimeoutError"),
                WaitForCallbackFailure::CallbackTimedOut,
            ),
            (Some("StepError"), WaitForCallbackFailure::Submitter),
            (Some("my_app::SendError"), WaitForCallbackFailure::Submitter),
            (Some("Panic"), WaitForCallbackFailure::Submitter),
            (Some("callbackerror"), WaitForCallbackFailure::Submitter),
            (Some("ValidationError"), WaitForCallbackFailure::Context),
            (Some("SerdesError"), WaitForCallbackFailure::Context),
            (Some("ChildContextError"), WaitForCallbackFailure::Context),
            (None, WaitForCallbackFailure::Context),
        ];
        for (error_type, expected) in rows {
            assert_eq!(submitter_failure(error_type), expected, "{error_type:?}");
        }
    }
}
