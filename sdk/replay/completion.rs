//! Replay mode and the end of an execution: whether an invocation starts by replaying,
//! when it stops replaying, and whether a handler that returned may complete.

use super::is_terminal;
use crate::error::Error;
use crate::log::OpRecord;
use crate::wire::OperationType;

/// Whether an invocation starts by replaying: the log holds an operation besides the
/// EXECUTION operation itself.
pub(crate) fn replaying_at_start(types: impl IntoIterator<Item = OperationType>) -> bool {
    types.into_iter().any(|ty| ty != OperationType::Execution)
}

/// Whether a context stays in replay mode after looking up an operation: only a finished
/// record keeps it there; an unfinished or missing one means the code runs live from
/// here (logs are no longer suppressed).
pub(crate) fn still_replaying(op: Option<&OpRecord>) -> bool {
    op.is_some_and(|op| is_terminal(op.status))
}

/// Whether a handler that returned may complete the execution: a replay must have asked
/// for every operation recorded under the bodies that ran to their end. `first_unvisited`
/// is the first recorded operation it did not ask for, with its description.
pub(crate) fn on_return(first_unvisited: Option<(String, String)>) -> Result<(), Error> {
    match first_unvisited {
        None => Ok(()),
        Some((id, found)) => Err(Error::NonDeterministic {
            id,
            expected: "no further operation (the handler returned)".to_string(),
            found,
        }),
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
        assert!(!still_replaying(None));
        for status in STATUSES {
            let op = record("STEP", status, serde_json::json!({}));
            let terminal = !matches!(status, "STARTED" | "PENDING" | "READY");
            assert_eq!(still_replaying(Some(&op)), terminal, "{status}");
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
}
