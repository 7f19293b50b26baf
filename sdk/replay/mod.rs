//! The pure core of replay: every decision replay makes, as synchronous functions from
//! what the operation log holds (and what the code asks for) to what to do. No I/O, no
//! async, no tokio; each table is tested row by row.
//!
//! The operation shells in `context/` follow one life cycle (look up, decide, start, run,
//! close; see `context::lifecycle`) and take every decision from here:
//!
//! | operation | decision |
//! |---|---|
//! | identity of a recorded operation | [`check_identity`] |
//! | step | [`step::step_decision`] |
//! | wait | [`wait::wait_decision`] |
//! | callback, wait for callback | [`callback::registration`], [`callback::outcome`], [`callback::submitter_failure`] |
//! | invoke | [`invoke::invoke_decision`] |
//! | child context (and batch contexts) | [`context::context_decision`], [`context::on_success`], [`context::on_failure`] |
//! | wait for condition | [`condition::condition_decision`] |
//! | map and parallel | [`batch::completion`], [`batch::rebuild_plan`], [`batch::rebuilt_branch`] |
//! | all, any, race | [`combinator::recorded_decision`], [`combinator::on_finished`], [`combinator::replay_agrees`] |
//! | replay-safe helpers | [`helpers::helper_digest`] |
//! | replay mode, execution completion | [`completion::replaying_at_start`], [`completion::still_replaying`], [`completion::on_return`], [`completion::counts_as_skipped`], [`completion::on_body_return`], [`completion::deliver_result`], [`completion::deliver_error`], [`completion::on_fatal`] |
//! | suspension and deadlines | [`pending::when_pending`] |
//! | versioning (`patched`) | [`versioning::patch_decision`] |

use sha2::{Digest, Sha256};

use crate::error::{error_object, Error};
use crate::log::OpRecord;
use crate::wire::{ErrorObject, OperationStatus, OperationType};

pub(crate) mod batch;
pub(crate) mod callback;
pub(crate) mod combinator;
pub(crate) mod completion;
pub(crate) mod condition;
pub(crate) mod context;
pub(crate) mod helpers;
pub(crate) mod invoke;
pub(crate) mod pending;
pub(crate) mod step;
pub(crate) mod versioning;
pub(crate) mod wait;

pub use step::StepSemantics;

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

/// The recorded error of a finished operation, or one made of `error_type` and the
/// status when the service recorded none.
pub(crate) fn recorded_error(op: &OpRecord, error_type: &str, noun: &str) -> ErrorObject {
    op.error()
        .cloned()
        .unwrap_or_else(|| error_object(error_type, &format!("{noun} ended {}", op.status)))
}

/// A recorded operation made from its wire JSON, for the tables of the submodules.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn record(ty: &str, status: &str, extra: serde_json::Value) -> OpRecord {
    let mut json = serde_json::json!({
        "Id": "op1", "Type": ty, "Status": status, "SubType": "Step", "Name": "charge"
    });
    if let serde_json::Value::Object(extra) = extra {
        json.as_object_mut().unwrap().extend(extra);
    }
    OpRecord::from_wire(serde_json::from_value::<crate::wire::Operation>(json).unwrap()).1
}

/// Every status the protocol knows, for tables that must cover them all.
#[cfg(test)]
pub(crate) const STATUSES: [&str; 8] = [
    "STARTED",
    "PENDING",
    "READY",
    "SUCCEEDED",
    "FAILED",
    "CANCELLED",
    "TIMED_OUT",
    "STOPPED",
];

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
    fn terminal_statuses() {
        let terminal = ["SUCCEEDED", "FAILED", "CANCELLED", "TIMED_OUT", "STOPPED"];
        for status in STATUSES {
            let op = record("STEP", status, serde_json::json!({}));
            assert_eq!(
                is_terminal(op.status),
                terminal.contains(&status),
                "{status}"
            );
        }
    }

    #[test]
    fn recorded_error_falls_back_to_the_status() {
        let op = record(
            "CALLBACK",
            "FAILED",
            serde_json::json!({"CallbackDetails": {"Error": {"ErrorType": "Declined", "ErrorMessage": "no"}}}),
        );
        let error = recorded_error(&op, "CallbackError", "callback");
        assert_eq!(error.error_type.as_deref(), Some("Declined"));
        let op = record("CALLBACK", "TIMED_OUT", serde_json::json!({}));
        let error = recorded_error(&op, "CallbackError", "callback");
        assert_eq!(error.error_type.as_deref(), Some("CallbackError"));
        assert_eq!(
            error.error_message.as_deref(),
            Some("callback ended TIMED_OUT")
        );
    }

    #[test]
    fn identity_table() {
        let recorded = record("STEP", "SUCCEEDED", serde_json::json!({}));
        let unnamed = record(
            "WAIT",
            "STARTED",
            serde_json::json!({"SubType": "Wait", "Name": null}),
        );
        let no_sub_type = record("STEP", "SUCCEEDED", serde_json::json!({"SubType": null}));
        let step = |name| Expected {
            ty: OperationType::Step,
            sub_type: "Step",
            name,
        };
        // recorded, expected -> (expected, found) of the mismatch, if any
        type Row<'a> = (&'a OpRecord, Expected<'a>, Option<(&'a str, &'a str)>);
        let rows: [Row<'_>; 7] = [
            (&recorded, step(Some("charge")), None),
            (
                &recorded,
                step(Some("refund")),
                Some(("STEP/Step named \"refund\"", "STEP/Step named \"charge\"")),
            ),
            (
                &recorded,
                step(None),
                Some(("STEP/Step without a name", "STEP/Step named \"charge\"")),
            ),
            (
                &recorded,
                Expected {
                    ty: OperationType::Wait,
                    sub_type: "Wait",
                    name: None,
                },
                Some(("WAIT/Wait without a name", "STEP/Step named \"charge\"")),
            ),
            (
                &recorded,
                Expected {
                    ty: OperationType::Step,
                    sub_type: "WaitForCondition",
                    name: Some("charge"),
                },
                Some((
                    "STEP/WaitForCondition named \"charge\"",
                    "STEP/Step named \"charge\"",
                )),
            ),
            (
                &unnamed,
                Expected {
                    ty: OperationType::Wait,
                    sub_type: "Wait",
                    name: None,
                },
                None,
            ),
            // A record without a sub type matches any sub type of its type.
            (
                &no_sub_type,
                Expected {
                    ty: OperationType::Step,
                    sub_type: "Race",
                    name: Some("charge"),
                },
                None,
            ),
        ];
        for (op, expected, mismatch) in rows {
            let result = check_identity("op1", op, &expected);
            match (result, mismatch) {
                (Ok(()), None) => {}
                (
                    Err(Error::NonDeterministic {
                        id,
                        expected: e,
                        found,
                    }),
                    Some((want_e, want_f)),
                ) => {
                    assert_eq!(id, "op1");
                    assert_eq!(e, want_e);
                    assert_eq!(found, want_f);
                }
                (other, want) => panic!("{expected:?}: got {other:?}, want {want:?}"),
            }
        }
    }
}
