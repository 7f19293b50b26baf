//! The pure core of replay: given what the operation log holds for an operation id and
//! what the code asks for, decide what to do. No I/O, no async.

use sha2::{Digest, Sha256};

use crate::error::{error_object, Error};
use crate::log::OpRecord;
use crate::wire::{ErrorObject, OperationStatus, OperationType};

/// The wire id of the operation at a logical path (`"3"`, `"2-1"`): the lowercase hex
/// SHA-256 of the path.
#[cfg(test)]
pub(crate) fn operation_id(path: &str) -> String {
    hex_id(&path_digest(path))
}

/// The SHA-256 of a logical path, whose hex is the operation id.
pub(crate) fn path_digest(path: &str) -> [u8; 32] {
    Sha256::digest(path.as_bytes()).into()
}

/// A digest as an operation id: lowercase hex.
pub(crate) fn hex_id(digest: &[u8; 32]) -> String {
    let mut out = [0u8; 64];
    for (pair, byte) in out.chunks_exact_mut(2).zip(digest) {
        pair[0] = HEX[usize::from(byte >> 4)];
        pair[1] = HEX[usize::from(byte & 0x0f)];
    }
    std::str::from_utf8(&out)
        .unwrap_or_else(|_| unreachable!("hex digits are ASCII"))
        .to_string()
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// What the code asks for at an operation id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    pub(crate) ty: OperationType,
    pub(crate) sub_type: &'a str,
    pub(crate) name: Option<&'a str>,
}

impl Expected<'_> {
    fn describe(&self) -> String {
        describe(self.ty, Some(self.sub_type), self.name)
    }
}

pub(crate) fn describe(ty: OperationType, sub_type: Option<&str>, name: Option<&str>) -> String {
    let mut out = ty.to_string();
    if let Some(sub_type) = sub_type {
        out.push('/');
        out.push_str(sub_type);
    }
    match name {
        Some(name) => out.push_str(&format!(" named {name:?}")),
        None => out.push_str(" without a name"),
    }
    out
}

/// Checks that the operation recorded at `id` is the one the code asks for (type, sub type
/// and name). A mismatch means the handler is not deterministic.
pub(crate) fn check_identity(
    id: &str,
    op: &OpRecord,
    expected: &Expected<'_>,
) -> Result<(), Error> {
    let sub_type = op.sub_type();
    let name = op.name();
    if op.type_ == expected.ty
        && sub_type.is_none_or(|recorded| recorded == expected.sub_type)
        && name == expected.name
    {
        return Ok(());
    }
    Err(Error::NonDeterministic {
        id: id.to_string(),
        expected: expected.describe(),
        found: describe(op.type_, sub_type, name),
    })
}

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
}

fn finished_attempts(op: &OpRecord) -> u32 {
    op.step_attempt().map_or(0, |attempt| {
        u32::try_from(attempt.max(0)).unwrap_or(u32::MAX)
    })
}

/// The replay decision table for steps.
pub(crate) fn step_decision(op: Option<&OpRecord>, semantics: StepSemantics) -> StepDecision<'_> {
    let Some(op) = op else {
        return StepDecision::Run {
            attempt: 1,
            start: true,
        };
    };
    let next_attempt = finished_attempts(op).saturating_add(1);
    match op.status {
        OperationStatus::Succeeded => StepDecision::Succeeded(op.result()),
        OperationStatus::Pending => StepDecision::Park,
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
        status @ (OperationStatus::Failed
        | OperationStatus::Cancelled
        | OperationStatus::TimedOut
        | OperationStatus::Stopped) => StepDecision::Failed(
            op.error()
                .cloned()
                .unwrap_or_else(|| error_object("StepError", &format!("step ended {status}"))),
        ),
    }
}

/// What a wait does at this point of the replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitDecision {
    /// Not recorded yet: checkpoint START.
    Start,
    /// The timer is running: suspend.
    Park,
    /// The wait is over (succeeded or cancelled).
    Done,
}

/// The replay decision table for waits.
pub(crate) fn wait_decision(op: Option<&OpRecord>) -> WaitDecision {
    match op.map(|op| op.status) {
        None => WaitDecision::Start,
        Some(OperationStatus::Started | OperationStatus::Pending | OperationStatus::Ready) => {
            WaitDecision::Park
        }
        Some(_) => WaitDecision::Done,
    }
}

/// Whether an operation's status is terminal.
pub(crate) fn is_terminal(status: OperationStatus) -> bool {
    matches!(
        status,
        OperationStatus::Succeeded
            | OperationStatus::Failed
            | OperationStatus::Cancelled
            | OperationStatus::TimedOut
            | OperationStatus::Stopped
    )
}

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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::wire::Operation;

    fn op(ty: &str, status: &str, extra: serde_json::Value) -> OpRecord {
        let mut json = serde_json::json!({
            "Id": "op1", "Type": ty, "Status": status, "SubType": "Step", "Name": "charge"
        });
        if let serde_json::Value::Object(extra) = extra {
            json.as_object_mut().unwrap().extend(extra);
        }
        OpRecord::from_wire(serde_json::from_value::<Operation>(json).unwrap()).1
    }

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

    #[test]
    fn ids_are_sha256_of_the_path() {
        assert_eq!(
            operation_id("1"),
            "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b"
        );
        assert_eq!(
            operation_id("2-1"),
            "e2433ac3278279ac90b51abed3d4dd9057d9e1f66541ad9cdfd13762a30e5a43"
        );
    }

    #[test]
    fn new_step_runs_attempt_one_with_start() {
        for semantics in [
            StepSemantics::AtLeastOncePerRetry,
            StepSemantics::AtMostOncePerRetry,
        ] {
            assert_eq!(
                step_decision(None, semantics),
                StepDecision::Run {
                    attempt: 1,
                    start: true
                }
            );
        }
    }

    #[test]
    fn succeeded_step_returns_the_recorded_result() {
        let op = op(
            "STEP",
            "SUCCEEDED",
            serde_json::json!({"StepDetails": {"Result": "42", "Attempt": 1}}),
        );
        assert_eq!(
            step_decision(Some(&op), StepSemantics::default()),
            StepDecision::Succeeded(Some("42"))
        );
    }

    #[test]
    fn failed_step_raises_the_recorded_error() {
        let op = op(
            "STEP",
            "FAILED",
            serde_json::json!({"StepDetails": {"Error": {"ErrorType": "PaymentError", "ErrorMessage": "declined"}}}),
        );
        let StepDecision::Failed(error) = step_decision(Some(&op), StepSemantics::default()) else {
            panic!("expected a failure");
        };
        assert_eq!(error.error_type.as_deref(), Some("PaymentError"));
        assert_eq!(error.error_message.as_deref(), Some("declined"));
    }

    #[test]
    fn pending_step_parks() {
        let op = op(
            "STEP",
            "PENDING",
            serde_json::json!({"StepDetails": {"Attempt": 1}}),
        );
        assert_eq!(
            step_decision(Some(&op), StepSemantics::default()),
            StepDecision::Park
        );
    }

    #[test]
    fn ready_step_starts_the_next_attempt() {
        let op = op(
            "STEP",
            "READY",
            serde_json::json!({"StepDetails": {"Attempt": 2}}),
        );
        assert_eq!(
            step_decision(Some(&op), StepSemantics::AtMostOncePerRetry),
            StepDecision::Run {
                attempt: 3,
                start: true
            }
        );
    }

    #[test]
    fn started_step_depends_on_semantics() {
        let op = op("STEP", "STARTED", serde_json::json!({}));
        assert_eq!(
            step_decision(Some(&op), StepSemantics::AtLeastOncePerRetry),
            StepDecision::Run {
                attempt: 1,
                start: false
            }
        );
        assert_eq!(
            step_decision(Some(&op), StepSemantics::AtMostOncePerRetry),
            StepDecision::Interrupted { attempt: 1 }
        );
    }

    #[test]
    fn missing_step_details_count_as_zero_attempts() {
        let op = op("STEP", "READY", serde_json::json!({}));
        assert_eq!(
            step_decision(Some(&op), StepSemantics::default()),
            StepDecision::Run {
                attempt: 1,
                start: true
            }
        );
        let op = super::tests::op(
            "STEP",
            "READY",
            serde_json::json!({"StepDetails": {"Attempt": -3}}),
        );
        assert_eq!(
            step_decision(Some(&op), StepSemantics::default()),
            StepDecision::Run {
                attempt: 1,
                start: true
            }
        );
    }

    #[test]
    fn wait_decisions() {
        assert_eq!(wait_decision(None), WaitDecision::Start);
        assert_eq!(
            wait_decision(Some(&op("WAIT", "STARTED", serde_json::json!({})))),
            WaitDecision::Park
        );
        assert_eq!(
            wait_decision(Some(&op("WAIT", "SUCCEEDED", serde_json::json!({})))),
            WaitDecision::Done
        );
        assert_eq!(
            wait_decision(Some(&op("WAIT", "CANCELLED", serde_json::json!({})))),
            WaitDecision::Done
        );
    }

    #[test]
    fn identity_mismatch_names_both_sides() {
        let recorded = op("STEP", "SUCCEEDED", serde_json::json!({}));
        let expected = Expected {
            ty: OperationType::Step,
            sub_type: "Step",
            name: Some("charge"),
        };
        check_identity("op1", &recorded, &expected).unwrap();
        let err = check_identity(
            "op1",
            &recorded,
            &Expected {
                ty: OperationType::Wait,
                sub_type: "Wait",
                name: None,
            },
        )
        .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("WAIT/Wait without a name"), "{message}");
        assert!(message.contains("STEP/Step named \"charge\""), "{message}");
        let err = check_identity(
            "op1",
            &recorded,
            &Expected {
                ty: OperationType::Step,
                sub_type: "Step",
                name: Some("refund"),
            },
        )
        .unwrap_err();
        assert!(matches!(err, Error::NonDeterministic { .. }));
    }
}
