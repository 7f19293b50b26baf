//! Waits: start the timer, wait for it, or go on.

use crate::log::OpRecord;
use crate::wire::OperationStatus;

/// What a wait does at this point of the replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitDecision {
    /// Not recorded yet: checkpoint START.
    Start,
    /// The timer is running: suspend.
    Park,
    /// The wait is over (succeeded, or ended otherwise, such as cancelled).
    Done,
}

/// The replay decision table for waits. The same table reads the service's answer to the
/// START (which may already report the wait as over).
pub(crate) fn wait_decision(op: Option<&OpRecord>) -> WaitDecision {
    match op.map(|op| op.status) {
        None => WaitDecision::Start,
        // Never reached with an unknown status: the log does not hand out such records.
        Some(
            OperationStatus::Started
            | OperationStatus::Pending
            | OperationStatus::Ready
            | OperationStatus::Unknown(_),
        ) => WaitDecision::Park,
        Some(
            OperationStatus::Succeeded
            | OperationStatus::Failed
            | OperationStatus::Cancelled
            | OperationStatus::TimedOut
            | OperationStatus::Stopped,
        ) => WaitDecision::Done,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::{record, STATUSES};

    #[test]
    fn wait_table() {
        assert_eq!(wait_decision(None), WaitDecision::Start);
        for status in STATUSES {
            let expected = match status {
                "STARTED" | "PENDING" | "READY" => WaitDecision::Park,
                _ => WaitDecision::Done,
            };
            let op = record("WAIT", status, serde_json::json!({"SubType": "Wait"}));
            assert_eq!(wait_decision(Some(&op)), expected, "{status}");
        }
    }
}
