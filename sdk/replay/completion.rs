//! Replay mode and the end of an execution: whether an invocation starts by replaying,
//! when it stops replaying, and whether a handler that returned may complete.

use super::is_terminal;
use crate::error::Error;
use crate::limits::MAX_EXECUTION_PAYLOAD_BYTES;
use crate::log::OpRecord;
use crate::wire::OperationType;

/// Whether an invocation starts by replaying: the log holds an operation besides the
/// EXECUTION operation itself.
pub(crate) fn replaying_at_start(types: impl IntoIterator<Item = OperationType>) -> bool {
    types.into_iter().any(|ty| ty != OperationType::Execution)
}

/// Whether a context stays in replay mode after looking up an operation: only when the
/// record is finished and the log also holds a record for the operation that follows it
/// (`next_recorded`), as the official SDKs decide (PROTOCOL.md §9.7). Otherwise the code
/// runs live from here: an unfinished or missing record means this operation goes on in
/// this invocation, and after the last finished record comes code that no invocation ran
/// to its next operation, so what it logs is (most likely) new.
pub(crate) fn still_replaying(op: Option<&OpRecord>, next_recorded: bool) -> bool {
    next_recorded && op.is_some_and(|op| is_terminal(op.status))
}

/// Whether a handler that returned may complete the execution: a replay must have asked
/// for every operation recorded under the bodies that ran to their end. `first_unvisited`
/// is the first recorded operation it did not ask for, with its description.
pub(crate) fn on_return(first_unvisited: Option<(String, String)>) -> Result<(), Error> {
    returned_before("the handler", first_unvisited)
}

/// Non-determinism when `who` returned while `skipped` (an id and its description) is
/// recorded for it.
fn returned_before(who: &str, skipped: Option<(String, String)>) -> Result<(), Error> {
    match skipped {
        None => Ok(()),
        Some((id, found)) => Err(Error::NonDeterministic {
            id,
            expected: format!("no further operation ({who} returned)"),
            found,
        }),
    }
}

/// Whether a recorded operation that a completed body did not ask for means the code
/// changed: every operation but the EXECUTION itself and change markers (`patched` may be
/// removed once no execution takes the old path).
pub(crate) fn counts_as_skipped(ty: OperationType, sub_type: Option<&str>) -> bool {
    ty != OperationType::Execution && sub_type != Some(super::versioning::PATCH_SUB_TYPE)
}

/// Whether a body whose operations have no record of their own to be held to (a flat
/// branch of a map or parallel) may return: the operation it would have started next must
/// not be recorded. Its operation ids are dense, so a record there means the code asked
/// for fewer operations than the run it repeats. `next_recorded` is that record's id and
/// description, if there is one.
pub(crate) fn on_body_return(next_recorded: Option<(String, String)>) -> Result<(), Error> {
    returned_before("the branch", next_recorded)
}

/// How the outcome of a finished execution reaches the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// In the invocation's output.
    Inline,
    /// Too large for the output: checkpointed on the EXECUTION operation, and the output
    /// carries only the status.
    Checkpoint,
    /// Too large for the service to store at all: the execution fails instead.
    TooLarge,
}

/// What the invocation output adds around an error object, at most.
const OUTPUT_ENVELOPE_BYTES: usize = 64;

/// How a result of `len` bytes is delivered, given the size the invocation output may have.
pub(crate) fn deliver_result(len: usize, response_limit: usize) -> Delivery {
    if len <= response_limit {
        Delivery::Inline
    } else if len <= MAX_EXECUTION_PAYLOAD_BYTES {
        Delivery::Checkpoint
    } else {
        Delivery::TooLarge
    }
}

/// How an error object of `size` bytes (serialized, already truncated to the service's
/// limit) is delivered.
pub(crate) fn deliver_error(size: usize, response_limit: usize) -> Delivery {
    if size.saturating_add(OUTPUT_ENVELOPE_BYTES) <= response_limit {
        Delivery::Inline
    } else {
        Delivery::Checkpoint
    }
}

/// How an invocation ends on an SDK error that ends it whatever the handler does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FatalEnd {
    /// A function error: Lambda invokes again, and the execution goes on from its
    /// checkpoints (a checkpoint call that may succeed when tried again).
    Retry,
    /// The execution fails with the error (non-determinism, a refused checkpoint, ...).
    Fail,
}

/// The table of [`FatalEnd`].
pub(crate) fn on_fatal(err: &Error) -> FatalEnd {
    match err {
        Error::Checkpoint {
            retryable: true, ..
        } => FatalEnd::Retry,
        _ => FatalEnd::Fail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::{record, STATUSES};

    #[test]
    fn replay_mode_table() {
        use OperationType::{Callback, Context, Execution, Step};
        let rows: [(&[OperationType], bool); 5] = [
            (&[], false),
            (&[Execution], false),
            (&[Execution, Step], true),
            (&[Context], true),
            (&[Callback, Execution], true),
        ];
        for (types, expected) in rows {
            assert_eq!(
                replaying_at_start(types.iter().copied()),
                expected,
                "{types:?}"
            );
        }
        assert!(!still_replaying(None, true));
        for status in STATUSES {
            let op = record("STEP", status, serde_json::json!({}));
            let terminal = !matches!(status, "STARTED" | "PENDING" | "READY");
            assert_eq!(still_replaying(Some(&op), true), terminal, "{status}");
            // After the last recorded operation, the code runs live.
            assert!(!still_replaying(Some(&op), false), "{status}");
        }
    }

    #[test]
    fn skipped_records_table() {
        let rows = [
            (OperationType::Execution, None, false),
            (OperationType::Step, Some("Step"), true),
            (OperationType::Step, Some("Patch"), false),
            (OperationType::Step, None, true),
            (OperationType::Context, Some("Patch"), false),
            (OperationType::Wait, Some("Wait"), true),
        ];
        for (ty, sub_type, expected) in rows {
            assert_eq!(
                counts_as_skipped(ty, sub_type),
                expected,
                "{ty:?} {sub_type:?}"
            );
        }
    }

    #[test]
    fn a_return_with_unvisited_records_is_non_deterministic() {
        assert!(on_return(None).is_ok());
        let err = on_return(Some((
            "abc".to_string(),
            "STEP/Step named \"x\"".to_string(),
        )))
        .expect_err("unvisited records");
        match err {
            Error::NonDeterministic {
                id,
                expected,
                found,
            } => {
                assert_eq!(id, "abc");
                assert!(expected.contains("handler returned"), "{expected}");
                assert_eq!(found, "STEP/Step named \"x\"");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_branch_returning_before_its_records_is_non_deterministic() {
        assert!(on_body_return(None).is_ok());
        match on_body_return(Some((
            "id2".to_string(),
            "STEP/Step named \"b\"".to_string(),
        ))) {
            Err(Error::NonDeterministic {
                id,
                expected,
                found,
            }) => {
                assert_eq!(id, "id2");
                assert!(expected.contains("branch returned"), "{expected}");
                assert_eq!(found, "STEP/Step named \"b\"");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn delivery_tables() {
        let limit = 1000;
        let max = MAX_EXECUTION_PAYLOAD_BYTES;
        let rows = [
            (0, Delivery::Inline),
            (limit, Delivery::Inline),
            (limit + 1, Delivery::Checkpoint),
            (max, Delivery::Checkpoint),
            (max + 1, Delivery::TooLarge),
        ];
        for (len, expected) in rows {
            assert_eq!(
                deliver_result(len, limit),
                expected,
                "result of {len} bytes"
            );
        }
        let rows = [
            (0, Delivery::Inline),
            (limit - OUTPUT_ENVELOPE_BYTES, Delivery::Inline),
            (limit - OUTPUT_ENVELOPE_BYTES + 1, Delivery::Checkpoint),
            (usize::MAX, Delivery::Checkpoint),
        ];
        for (size, expected) in rows {
            assert_eq!(
                deliver_error(size, limit),
                expected,
                "error of {size} bytes"
            );
        }
    }

    #[test]
    fn fatal_table() {
        let checkpoint = |retryable| Error::checkpoint("x", retryable);
        assert_eq!(on_fatal(&checkpoint(true)), FatalEnd::Retry);
        assert_eq!(on_fatal(&checkpoint(false)), FatalEnd::Fail);
        let non_deterministic = Error::NonDeterministic {
            id: "a".to_string(),
            expected: "b".to_string(),
            found: "c".to_string(),
        };
        assert_eq!(on_fatal(&non_deterministic), FatalEnd::Fail);
        assert_eq!(
            on_fatal(&Error::invalid_input("x".to_string())),
            FatalEnd::Fail
        );
    }
}
