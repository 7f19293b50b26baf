//! Versioning: whether code that asks `patched(change)` takes the new path or the old one.
//!
//! A change is marked by a STEP record (sub type [`PATCH_SUB_TYPE`], named after the
//! change) whose id is derived from the change, not from the operation counter, so a
//! marker shifts no operation id and old histories replay unchanged.

use crate::log::OpRecord;

/// The sub type of a change marker.
pub(crate) const PATCH_SUB_TYPE: &str = "Patch";

/// The logical path of the marker of `change` in the namespace `prefix`; it cannot collide
/// with an operation's path (those are numbers joined by `-`).
pub(crate) fn marker_path(prefix: &str, change: &str) -> String {
    format!("{prefix}:patch:{change}")
}

/// What `patched` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchDecision {
    /// The new code path; record the marker first when `record`.
    New { record: bool },
    /// The old code path: the history was recorded by code without the change.
    Old,
}

/// The decision table of `patched`: `marker` is the change's marker record, if any;
/// `next_recorded` whether the operation the code would start next is recorded (the
/// history went on past this point); `replay_only` whether the code runs replay-only.
///
/// A recorded marker means the new path, always. Without one, a history that went on past
/// this point was recorded by the old code, so the old path replays it; a history that
/// ends here can go on with the new path, which records the marker.
pub(crate) fn patch_decision(
    marker: Option<&OpRecord>,
    next_recorded: bool,
    replay_only: bool,
) -> PatchDecision {
    match (marker, next_recorded, replay_only) {
        (Some(_), _, _) => PatchDecision::New { record: false },
        (None, true, _) | (None, false, true) => PatchDecision::Old,
        (None, false, false) => PatchDecision::New { record: true },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::record;

    #[test]
    fn patch_table() {
        let marker = record(
            "STEP",
            "SUCCEEDED",
            serde_json::json!({"SubType": PATCH_SUB_TYPE, "Name": "new-tax"}),
        );
        let rows = [
            // marker, next recorded, replay-only -> decision
            (true, false, false, PatchDecision::New { record: false }),
            (true, true, false, PatchDecision::New { record: false }),
            (true, true, true, PatchDecision::New { record: false }),
            (true, false, true, PatchDecision::New { record: false }),
            (false, true, false, PatchDecision::Old),
            (false, true, true, PatchDecision::Old),
            (false, false, true, PatchDecision::Old),
            (false, false, false, PatchDecision::New { record: true }),
        ];
        for (has_marker, next, replay_only, expected) in rows {
            let op = has_marker.then_some(&marker);
            assert_eq!(
                patch_decision(op, next, replay_only),
                expected,
                "marker {has_marker}, next recorded {next}, replay-only {replay_only}"
            );
        }
    }

    #[test]
    fn marker_paths_never_look_like_operation_paths() {
        assert_eq!(marker_path("", "x"), ":patch:x");
        assert_eq!(marker_path("2-1", "x"), "2-1:patch:x");
        assert_ne!(marker_path("2", "1"), marker_path("2-1", ""));
        assert!(!marker_path("3", "4")
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-'));
    }
}
