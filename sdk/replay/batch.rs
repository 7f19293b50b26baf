//! Map and parallel: when a batch completes, and how a batch whose result was too large
//! to store is rebuilt from the summary it recorded instead.

use serde::{Deserialize, Serialize};

use crate::context::{BatchItemStatus, BatchProgress, CompletionReason};
use crate::log::OpRecord;
use crate::wire::OperationStatus;

/// The completion rules of a batch, without its custom predicate.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Rules {
    pub(crate) min_successful: Option<usize>,
    pub(crate) tolerated_failure_count: Option<usize>,
    pub(crate) tolerated_failure_percentage: Option<f64>,
}

impl Rules {
    fn has_criteria(&self) -> bool {
        self.min_successful.is_some()
            || self.tolerated_failure_count.is_some()
            || self.tolerated_failure_percentage.is_some()
    }

    fn tolerance_exceeded(&self, progress: &BatchProgress) -> bool {
        if !self.has_criteria() {
            return progress.failed > 0;
        }
        let count = self
            .tolerated_failure_count
            .is_some_and(|count| progress.failed > count);
        let pct = self.tolerated_failure_percentage.is_some_and(|pct| {
            progress.total > 0 && (progress.failed as f64 / progress.total as f64) * 100.0 > pct
        });
        count || pct
    }
}

/// Checks the rules against the number of branches.
pub(crate) fn validate(rules: &Rules, total: usize) -> Result<(), String> {
    if rules.min_successful == Some(0) {
        return Err("min_successful must be at least 1".to_string());
    }
    if let Some(min) = rules.min_successful {
        if min > total {
            return Err(format!(
                "min_successful is {min} but there are only {total} branches"
            ));
        }
    }
    if let Some(pct) = rules.tolerated_failure_percentage {
        if !(0.0..=100.0).contains(&pct) {
            return Err(format!(
                "tolerated_failure_percentage must be between 0 and 100, got {pct}"
            ));
        }
    }
    Ok(())
}

/// Whether the batch is complete after a branch finished, and why. Without rules a batch
/// runs everything and completes at the first failure. `predicate` (the user's custom
/// rule) is asked last, only when no other rule decides.
pub(crate) fn completion(
    rules: &Rules,
    progress: &BatchProgress,
    predicate: impl FnOnce(&BatchProgress) -> bool,
) -> Option<CompletionReason> {
    let all_done = progress.succeeded + progress.failed == progress.total;
    let min_reached = rules
        .min_successful
        .is_some_and(|min| progress.succeeded >= min);
    if rules.tolerance_exceeded(progress) {
        Some(CompletionReason::FailureToleranceExceeded)
    } else if all_done {
        Some(CompletionReason::AllCompleted)
    } else if min_reached {
        Some(CompletionReason::MinSuccessfulReached)
    } else if predicate(progress) {
        Some(CompletionReason::PredicateSatisfied)
    } else {
        None
    }
}

/// When the batch's own record says it succeeded, its body only runs again to rebuild a
/// result too large to store, from the summary recorded in its place: that summary.
pub(crate) fn recorded_summary(op: Option<&OpRecord>) -> Option<&str> {
    op.filter(|op| op.status == OperationStatus::Succeeded)
        .map(|op| op.result().unwrap_or_default())
}

/// What a batch records instead of a result too large to store: why it completed and what
/// became of each branch, one letter per branch (`S` succeeded, `F` failed, `R` started
/// and unfinished, `-` never started). The branches' own records hold the rest.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchSummary {
    completion_reason: CompletionReason,
    total_count: usize,
    branches: String,
}

/// Whether `payload` is a summary [`summarize`] wrote (a JSON object with exactly the keys
/// `completionReason`, `totalCount` and `branches`) rather than a batch result: the sign,
/// in a history that does not carry `ReplayChildren`, that the batch's result was too large
/// to store.
pub(crate) fn is_summary(payload: &str) -> bool {
    serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(payload).is_ok_and(
        |object| {
            object.len() == 3
                && serde_json::from_value::<BatchSummary>(serde_json::Value::Object(object)).is_ok()
        },
    )
}

/// The summary of a batch result: `items` are the started branches with their status.
pub(crate) fn summarize(
    reason: CompletionReason,
    total: usize,
    items: impl IntoIterator<Item = (usize, BatchItemStatus)>,
) -> String {
    let mut branches = vec![b'-'; total];
    for (index, status) in items {
        if let Some(slot) = branches.get_mut(index) {
            *slot = match status {
                BatchItemStatus::Succeeded => b'S',
                BatchItemStatus::Failed => b'F',
                BatchItemStatus::Started => b'R',
                BatchItemStatus::Skipped => b'-',
            };
        }
    }
    let summary = BatchSummary {
        completion_reason: reason,
        total_count: total,
        branches: String::from_utf8(branches).unwrap_or_default(),
    };
    serde_json::to_string(&summary).unwrap_or_default()
}

/// What became of one branch, as a summary records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    /// Never started: not part of the result, not run by the rebuild.
    NotStarted,
    /// Started and unfinished when the batch completed.
    Unfinished,
    Succeeded,
    Failed,
}

impl Fate {
    /// Whether the rebuild runs the branch again (replay-only) to get its outcome.
    pub(crate) fn replays(self) -> bool {
        self != Fate::NotStarted
    }
}

/// How to rebuild a batch: the recorded reason and branch count, and each branch's fate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RebuildPlan {
    pub(crate) reason: CompletionReason,
    pub(crate) total: usize,
    pub(crate) fates: Vec<Fate>,
}

/// Reads a recorded summary for a batch of `branches` branches. An unreadable summary,
/// or one for another number of branches, is non-determinism (the message says which).
pub(crate) fn rebuild_plan(
    summary: &str,
    branches: usize,
    label: &str,
) -> Result<RebuildPlan, String> {
    let summary: BatchSummary = serde_json::from_str(summary).map_err(|err| {
        format!("the recorded summary of the {label} cannot be read ({err}); was it recorded by another version of the SDK?")
    })?;
    if summary.total_count != branches || summary.branches.len() != branches {
        return Err(format!(
            "the {label} recorded {} branches but the code gives {branches}",
            summary.total_count
        ));
    }
    let fates = summary
        .branches
        .bytes()
        .enumerate()
        .map(|(index, letter)| match letter {
            b'-' => Ok(Fate::NotStarted),
            b'R' => Ok(Fate::Unfinished),
            b'S' => Ok(Fate::Succeeded),
            b'F' => Ok(Fate::Failed),
            other => Err(format!(
                "the recorded summary of the {label} gives branch {index} the unknown status {:?}",
                char::from(other)
            )),
        })
        .collect::<Result<_, _>>()?;
    Ok(RebuildPlan {
        reason: summary.completion_reason,
        total: summary.total_count,
        fates,
    })
}

/// The status of branch `index` in the rebuilt result, from its recorded fate and what its
/// replay gave (`Some(true)` succeeded, `Some(false)` failed, `None` unfinished); `None`
/// leaves it out. A replay that disagrees with the summary is non-determinism.
pub(crate) fn rebuilt_branch(
    index: usize,
    fate: Fate,
    replayed: Option<bool>,
    label: &str,
) -> Result<Option<BatchItemStatus>, String> {
    match (fate, replayed) {
        (Fate::NotStarted, _) => Ok(None),
        (Fate::Unfinished, _) => Ok(Some(BatchItemStatus::Started)),
        (Fate::Succeeded, Some(true)) => Ok(Some(BatchItemStatus::Succeeded)),
        (Fate::Failed, Some(false)) => Ok(Some(BatchItemStatus::Failed)),
        (fate, replayed) => Err(format!(
            "branch {index} of the {label} was recorded as {} but replays as {}",
            match fate {
                Fate::Succeeded => "S",
                _ => "F",
            },
            match replayed {
                Some(true) => "succeeded",
                Some(false) => "failed",
                None => "unfinished",
            }
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::replay::{record, STATUSES};
    use CompletionReason::{
        AllCompleted, FailureToleranceExceeded, MinSuccessfulReached, PredicateSatisfied,
    };

    fn progress(succeeded: usize, failed: usize, total: usize) -> BatchProgress {
        BatchProgress {
            succeeded,
            failed,
            running: 0,
            total,
        }
    }

    fn rules(min: Option<usize>, count: Option<usize>, pct: Option<f64>) -> Rules {
        Rules {
            min_successful: min,
            tolerated_failure_count: count,
            tolerated_failure_percentage: pct,
        }
    }

    #[test]
    fn completion_table() {
        let none = rules(None, None, None);
        let rows = [
            // rules, (succeeded, failed, total), predicate -> completion
            (none, (0, 0, 0), false, Some(AllCompleted)),
            (none, (2, 0, 5), false, None),
            (none, (2, 1, 5), false, Some(FailureToleranceExceeded)),
            (none, (5, 0, 5), false, Some(AllCompleted)),
            (none, (2, 0, 5), true, Some(PredicateSatisfied)),
            (rules(None, Some(1), None), (1, 1, 5), false, None),
            (
                rules(None, Some(1), None),
                (1, 2, 5),
                false,
                Some(FailureToleranceExceeded),
            ),
            (
                rules(None, Some(1), None),
                (4, 1, 5),
                false,
                Some(AllCompleted),
            ),
            (rules(None, None, Some(40.0)), (0, 2, 5), false, None),
            (
                rules(None, None, Some(40.0)),
                (0, 3, 5),
                false,
                Some(FailureToleranceExceeded),
            ),
            (
                rules(None, None, Some(100.0)),
                (1, 4, 5),
                false,
                Some(AllCompleted),
            ),
            (
                rules(None, None, Some(100.0)),
                (2, 0, 5),
                true,
                Some(PredicateSatisfied),
            ),
            (
                rules(Some(1), None, None),
                (1, 3, 5),
                false,
                Some(MinSuccessfulReached),
            ),
            (rules(Some(1), None, None), (0, 4, 5), false, None),
            (
                rules(Some(1), None, None),
                (0, 5, 5),
                false,
                Some(AllCompleted),
            ),
            (
                rules(Some(2), Some(0), None),
                (1, 1, 5),
                false,
                Some(FailureToleranceExceeded),
            ),
            // Tolerance is checked before the minimum.
            (
                rules(Some(1), Some(0), None),
                (1, 1, 3),
                false,
                Some(FailureToleranceExceeded),
            ),
            (
                rules(Some(3), None, None),
                (2, 0, 3),
                true,
                Some(PredicateSatisfied),
            ),
        ];
        for (rules, (succeeded, failed, total), predicate, expected) in rows {
            let progress = progress(succeeded, failed, total);
            assert_eq!(
                completion(&rules, &progress, |_| predicate),
                expected,
                "{rules:?} {progress:?} predicate {predicate}"
            );
        }
    }

    #[test]
    fn validation_table() {
        let rows = [
            (rules(Some(0), None, None), 3, false),
            (rules(Some(4), None, None), 3, false),
            (rules(Some(3), None, None), 3, true),
            (rules(None, None, Some(101.0)), 3, false),
            (rules(None, None, Some(-1.0)), 3, false),
            (rules(None, None, Some(f64::NAN)), 3, false),
            (rules(None, None, Some(100.0)), 3, true),
            (rules(None, Some(0), None), 0, true),
        ];
        for (rules, total, valid) in rows {
            assert_eq!(validate(&rules, total).is_ok(), valid, "{rules:?} {total}");
        }
    }

    #[test]
    fn recorded_summary_only_of_a_succeeded_batch() {
        assert_eq!(recorded_summary(None), None);
        for status in STATUSES {
            let op = record(
                "CONTEXT",
                status,
                serde_json::json!({"ContextDetails": {"Result": "{}"}}),
            );
            let expected = (status == "SUCCEEDED").then_some("{}");
            assert_eq!(recorded_summary(Some(&op)), expected, "{status}");
        }
    }

    #[test]
    fn summaries_round_trip_into_plans() {
        let text = summarize(
            MinSuccessfulReached,
            5,
            [
                (0, BatchItemStatus::Succeeded),
                (1, BatchItemStatus::Failed),
                (3, BatchItemStatus::Started),
            ],
        );
        assert_eq!(
            text,
            r#"{"completionReason":"MIN_SUCCESSFUL_REACHED","totalCount":5,"branches":"SF-R-"}"#
        );
        let plan = rebuild_plan(&text, 5, "map").unwrap();
        assert_eq!(plan.reason, MinSuccessfulReached);
        assert_eq!(plan.total, 5);
        assert_eq!(
            plan.fates,
            [
                Fate::Succeeded,
                Fate::Failed,
                Fate::NotStarted,
                Fate::Unfinished,
                Fate::NotStarted
            ]
        );
        let replays: Vec<bool> = plan.fates.iter().map(|fate| fate.replays()).collect();
        assert_eq!(replays, [true, true, false, true, false]);
    }

    #[test]
    fn summaries_are_told_from_results() {
        let summary = summarize(AllCompleted, 2, [(0, BatchItemStatus::Succeeded)]);
        let rows = [
            (summary.as_str(), true),
            (
                r#"{"completionReason":"MIN_SUCCESSFUL_REACHED","totalCount":0,"branches":""}"#,
                true,
            ),
            // Key order does not matter.
            (
                r#"{"branches":"SF","totalCount":2,"completionReason":"ALL_COMPLETED"}"#,
                true,
            ),
            // A batch result: its items, not the branches' letters.
            (
                r#"{"all":[],"completionReason":"ALL_COMPLETED","totalCount":0}"#,
                false,
            ),
            // One key more or less.
            (
                r#"{"completionReason":"ALL_COMPLETED","totalCount":2,"branches":"SS","all":[]}"#,
                false,
            ),
            (
                r#"{"completionReason":"ALL_COMPLETED","totalCount":2}"#,
                false,
            ),
            // The keys, but not the values of a summary.
            (
                r#"{"completionReason":"NO_REASON","totalCount":2,"branches":"SS"}"#,
                false,
            ),
            (
                r#"{"completionReason":"ALL_COMPLETED","totalCount":"2","branches":"SS"}"#,
                false,
            ),
            ("", false),
            ("null", false),
            ("[1,2]", false),
            (r#""{\"completionReason\":1}""#, false),
        ];
        for (payload, expected) in rows {
            assert_eq!(is_summary(payload), expected, "{payload}");
        }
    }

    #[test]
    fn unreadable_or_mismatched_summaries_are_errors() {
        let rows = [
            ("", 1, "cannot be read"),
            ("{\"all\":[]}", 1, "cannot be read"),
            (
                r#"{"completionReason":"ALL_COMPLETED","totalCount":2,"branches":"SS"}"#,
                3,
                "recorded 2 branches but the code gives 3",
            ),
            (
                r#"{"completionReason":"ALL_COMPLETED","totalCount":3,"branches":"SS"}"#,
                3,
                "recorded 3 branches but the code gives 3",
            ),
            (
                r#"{"completionReason":"ALL_COMPLETED","totalCount":2,"branches":"SX"}"#,
                2,
                "unknown status 'X'",
            ),
        ];
        for (summary, branches, message) in rows {
            let err = rebuild_plan(summary, branches, "parallel").unwrap_err();
            assert!(err.contains(message), "{summary}: {err}");
            assert!(err.contains("parallel"), "{err}");
        }
    }

    #[test]
    fn rebuilt_branch_table() {
        use BatchItemStatus::{Failed, Started, Succeeded};
        let rows = [
            (Fate::NotStarted, None, Ok(None)),
            (Fate::NotStarted, Some(true), Ok(None)),
            (Fate::Unfinished, None, Ok(Some(Started))),
            (Fate::Unfinished, Some(true), Ok(Some(Started))),
            (Fate::Succeeded, Some(true), Ok(Some(Succeeded))),
            (Fate::Failed, Some(false), Ok(Some(Failed))),
            (
                Fate::Succeeded,
                Some(false),
                Err("recorded as S but replays as failed"),
            ),
            (
                Fate::Succeeded,
                None,
                Err("recorded as S but replays as unfinished"),
            ),
            (
                Fate::Failed,
                Some(true),
                Err("recorded as F but replays as succeeded"),
            ),
            (
                Fate::Failed,
                None,
                Err("recorded as F but replays as unfinished"),
            ),
        ];
        for (fate, replayed, expected) in rows {
            let got = rebuilt_branch(4, fate, replayed, "map");
            match (got, expected) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{fate:?} {replayed:?}"),
                (Err(got), Err(want)) => {
                    assert!(got.contains(want), "{got}");
                    assert!(got.contains("branch 4 of the map"), "{got}");
                }
                (got, want) => panic!("{fate:?} {replayed:?}: got {got:?}, want {want:?}"),
            }
        }
    }
}
