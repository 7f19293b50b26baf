//! Combinators (`all`, `any`, `race`; `all_settled` records nothing): when an operand
//! decides the outcome, what is recorded, and how a recorded decision replays.
//!
//! A combinator records the index of the operand that decided its outcome. On replay that
//! operand runs again from its records and gives the outcome; the others run replay-only.

use serde::{Deserialize, Serialize};

use crate::log::OpRecord;
use crate::wire::OperationStatus;

/// The kinds of combinator that record a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Every operand must succeed: the first failure decides.
    All,
    /// The first success decides.
    Any,
    /// The first operand to finish decides.
    Race,
}

impl Kind {
    /// The sub type of the combinator's record.
    pub(crate) fn sub_type(self) -> &'static str {
        match self {
            Kind::All => "All",
            Kind::Any => "Any",
            Kind::Race => "Race",
        }
    }
}

/// What a combinator records: the operand that decided its outcome.
#[derive(Serialize, Deserialize)]
struct Decision {
    index: usize,
}

/// The payload recording that operand `index` decided.
pub(crate) fn decision_payload(index: usize) -> String {
    format!("{{\"index\":{index}}}")
}

/// What the record of a combinator says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// Nothing decided yet: run the operands.
    Live,
    /// Operand `index` decided: replay it, the others replay-only.
    Replay(usize),
    /// The record cannot be read (the message says why).
    Unreadable(String),
    /// The record names an operand the code does not give.
    OutOfRange(usize),
}

/// The replay decision table of a combinator with `operands` operands.
pub(crate) fn recorded_decision(op: Option<&OpRecord>, operands: usize) -> Recorded {
    let Some(op) = op.filter(|op| op.status == OperationStatus::Succeeded) else {
        return Recorded::Live;
    };
    match serde_json::from_str::<Decision>(op.result().unwrap_or("null")) {
        Ok(Decision { index }) if index < operands => Recorded::Replay(index),
        Ok(Decision { index }) => Recorded::OutOfRange(index),
        Err(err) => Recorded::Unreadable(err.to_string()),
    }
}

/// What a combinator does when an operand finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Combine {
    /// This operand decides the outcome: record it and return.
    Decide,
    /// Wait for the others.
    Continue,
}

/// The table of [`Combine`]: `succeeded` tells how the operand finished.
pub(crate) fn on_finished(kind: Kind, succeeded: bool) -> Combine {
    match (kind, succeeded) {
        (Kind::All, false) | (Kind::Any, true) | (Kind::Race, _) => Combine::Decide,
        (Kind::All, true) | (Kind::Any, false) => Combine::Continue,
    }
}

/// Whether a replayed deciding operand finished as the recorded decision says it did: an
/// `all` is decided by a failure, an `any` by a success, a `race` by either.
pub(crate) fn replay_agrees(kind: Kind, succeeded: bool) -> bool {
    on_finished(kind, succeeded) == Combine::Decide
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::{record, STATUSES};
    use serde_json::json;

    #[test]
    fn recorded_decision_table() {
        assert_eq!(recorded_decision(None, 2), Recorded::Live);
        for status in STATUSES {
            let op = record(
                "STEP",
                status,
                json!({"SubType": "Race", "StepDetails": {"Result": decision_payload(1)}}),
            );
            let expected = if status == "SUCCEEDED" {
                Recorded::Replay(1)
            } else {
                Recorded::Live
            };
            assert_eq!(recorded_decision(Some(&op), 2), expected, "{status}");
        }
        let at = |result: &str| {
            record(
                "STEP",
                "SUCCEEDED",
                json!({"SubType": "Any", "StepDetails": {"Result": result}}),
            )
        };
        assert_eq!(
            recorded_decision(Some(&at("{\"index\":0}")), 1),
            Recorded::Replay(0)
        );
        assert_eq!(
            recorded_decision(Some(&at("{\"index\":2}")), 2),
            Recorded::OutOfRange(2)
        );
        assert!(matches!(
            recorded_decision(Some(&at("{\"winner\":1}")), 2),
            Recorded::Unreadable(_)
        ));
        let no_result = record("STEP", "SUCCEEDED", json!({"SubType": "All"}));
        assert!(matches!(
            recorded_decision(Some(&no_result), 2),
            Recorded::Unreadable(_)
        ));
    }

    #[test]
    fn payloads_read_back() {
        for index in [0, 1, 17, usize::MAX] {
            let op = record(
                "STEP",
                "SUCCEEDED",
                json!({"StepDetails": {"Result": decision_payload(index)}}),
            );
            assert_eq!(
                recorded_decision(Some(&op), usize::MAX),
                if index < usize::MAX {
                    Recorded::Replay(index)
                } else {
                    Recorded::OutOfRange(index)
                }
            );
        }
    }

    #[test]
    fn combine_tables() {
        let rows = [
            (Kind::All, true, Combine::Continue),
            (Kind::All, false, Combine::Decide),
            (Kind::Any, true, Combine::Decide),
            (Kind::Any, false, Combine::Continue),
            (Kind::Race, true, Combine::Decide),
            (Kind::Race, false, Combine::Decide),
        ];
        for (kind, succeeded, expected) in rows {
            assert_eq!(
                on_finished(kind, succeeded),
                expected,
                "{kind:?} {succeeded}"
            );
            assert_eq!(replay_agrees(kind, succeeded), expected == Combine::Decide);
        }
        assert_eq!(Kind::All.sub_type(), "All");
        assert_eq!(Kind::Any.sub_type(), "Any");
        assert_eq!(Kind::Race.sub_type(), "Race");
    }
}
