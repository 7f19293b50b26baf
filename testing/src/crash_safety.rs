//! One-call crash safety: a workflow run once without faults, then once crashed after
//! each of its checkpoint calls, must end the same way every time.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde::Serialize;
use serde_json::Value;

use super::execution::{Execution, InvocationOutcome};
use super::{Fault, LocalRunner, RunnerError};
use lambda_durable::wire::{ErrorObject, ExecutionStatus, Operation};

impl LocalRunner {
    /// Checks that crashes cannot change what the workflow does: runs an execution with
    /// `input` once without faults (the baseline), then, for every checkpoint call `k` the
    /// baseline made, once more with the invocation crashing right after call `k`
    /// ([`Fault::crash`]`().at_call(k)`: the service applies the call, the invocation dies,
    /// the function is invoked again and replays). Every crashed run must end like the
    /// baseline: the same status, the same result (compared as JSON) or error (type and
    /// message), and the same operation outline (each operation's type, subtype, name,
    /// nesting and final status; not ids, timestamps, attempts or payloads).
    ///
    /// Every run uses this runner's handler, registered functions, callback responders and
    /// settings, but not its [faults](LocalRunner::fault), and gets the same execution ARN
    /// (so [`DurableContext::uuid`](lambda_durable::DurableContext::uuid) and its siblings
    /// give the same values). Only the runner's own execution crashes; registered durable
    /// functions run as usual. Callbacks no responder answers leave every run `RUNNING`,
    /// which counts as the same ending.
    ///
    /// What may legitimately differ: an [at-most-once](lambda_durable::StepSemantics) step
    /// (or callback submitter) that is running when the invocation crashes is not run again:
    /// its attempt fails with `StepInterruptedError` and goes through its retry policy. When
    /// the retry runs, the execution ends as the baseline did, and the crash point passes;
    /// when it does not (no retries, or a `retryIf` that does not match), the ending
    /// differs by design. Such a crash point is not a failure: it is listed in
    /// [`CrashSafetyReport::interrupted`] with what differed.
    ///
    /// What the check finds: code whose path depends on anything but the durable state
    /// (a counter, the clock, a random number, an environment variable read outside a
    /// step), which replays differently after a crash (`NonDeterministicExecutionError`, or
    /// other operations); step bodies that give another result when they run again (an
    /// at-least-once step interrupted by a crash runs again); and work done outside steps
    /// that a crash repeats or loses.
    ///
    /// ```
    /// use lambda_durable::{DurableContext, Error};
    /// use lambda_durable_testing::LocalRunner;
    ///
    /// async fn handler(n: u64, ctx: DurableContext) -> Result<u64, Error> {
    ///     let doubled: u64 = ctx.step("double", |_| async move { Ok::<_, Error>(n * 2) }).await?;
    ///     let id = ctx.uuid().to_string(); // replay-safe: the same after a crash
    ///     ctx.step("store", |_| async move { Ok::<_, Error>(id.len()) }).await?;
    ///     Ok(doubled + 1)
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let report = LocalRunner::new(handler).check_crash_safety(20).await?;
    /// assert_eq!(report.baseline().result::<u64>()?, 41);
    /// assert!(report.crash_points().len() >= 2); // one crashed run per checkpoint call
    /// assert_eq!(report.interrupted().count(), 0);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`CrashSafetyError::Differs`] for the first crash point whose run ended differently
    /// (its message names the call, what differed and both outlines);
    /// [`CrashSafetyError::Runner`] when a run cannot be run (the input does not serialize,
    /// too many invocations, an invalid configuration).
    pub async fn check_crash_safety<I: Serialize>(
        &self,
        input: I,
    ) -> Result<CrashSafetyReport, CrashSafetyError> {
        let input = serde_json::to_value(&input).map_err(|err| CrashSafetyError::Runner {
            call: None,
            source: RunnerError::Input(err.to_string()),
        })?;
        let baseline = self
            .fault_free_twin()
            .run(&input)
            .await
            .map_err(|source| CrashSafetyError::Runner { call: None, source })?;
        let expected = Ending::of(&baseline);
        let calls = baseline.stats().checkpoint_calls;
        let mut points = Vec::new();
        for call in 1..=calls {
            let runner = self.fault_free_twin();
            let mut running = runner
                .start(&input)
                .map_err(|source| CrashSafetyError::Runner {
                    call: Some(call),
                    source,
                })?;
            running.inject(Fault::crash().at_call(call));
            let execution = running
                .run()
                .await
                .map_err(|source| CrashSafetyError::Runner {
                    call: Some(call),
                    source,
                })?;
            let differences = expected.differences(&Ending::of(&execution));
            let interrupted = interrupted_steps(&execution);
            let crashed = execution
                .invocation_outcomes()
                .any(|outcome| matches!(outcome, InvocationOutcome::Crashed { .. }));
            let point = CrashPoint {
                call,
                crashed,
                interrupted_steps: interrupted,
                differences,
                execution,
            };
            if !point.differences.is_empty() && point.interrupted_steps.is_empty() {
                return Err(CrashSafetyError::Differs(Box::new(CrashDivergence {
                    call,
                    calls,
                    differences: point.differences,
                    baseline_outline: expected.outline_text(),
                    crashed_outline: Ending::of(&point.execution).outline_text(),
                    baseline,
                    crashed: point.execution,
                })));
            }
            points.push(point);
        }
        Ok(CrashSafetyReport { baseline, points })
    }
}

/// What [`LocalRunner::check_crash_safety`] found: the baseline run and one crashed run per
/// checkpoint call, all of which ended like the baseline (or differ only because an
/// at-most-once step was interrupted).
#[derive(Debug, Clone)]
pub struct CrashSafetyReport {
    baseline: Execution,
    points: Vec<CrashPoint>,
}

impl CrashSafetyReport {
    /// The run without faults.
    pub fn baseline(&self) -> &Execution {
        &self.baseline
    }

    /// The crashed runs, by the checkpoint call after which each crashed (1, 2, ...).
    pub fn crash_points(&self) -> &[CrashPoint] {
        &self.points
    }

    /// The crash points that ended differently because the crash interrupted an
    /// at-most-once step, which is not run again by design.
    pub fn interrupted(&self) -> impl Iterator<Item = &CrashPoint> {
        self.points
            .iter()
            .filter(|point| !point.differences.is_empty())
    }
}

impl fmt::Display for CrashSafetyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} crash points, all ending {} like the run without faults",
            self.points.len(),
            self.baseline.status()
        )?;
        for point in self.interrupted() {
            write!(
                f,
                "; after call {} the interrupted at-most-once step {} changed: {}",
                point.call,
                point.interrupted_steps.join(", "),
                point.differences.join("; ")
            )?;
        }
        Ok(())
    }
}

/// One crashed run of [`LocalRunner::check_crash_safety`].
#[derive(Debug, Clone)]
pub struct CrashPoint {
    call: u64,
    crashed: bool,
    interrupted_steps: Vec<String>,
    differences: Vec<String>,
    execution: Execution,
}

impl CrashPoint {
    /// The checkpoint call after which the invocation crashed (counted from 1, retries
    /// included, as for [`Fault::at_call`]).
    pub fn call(&self) -> u64 {
        self.call
    }

    /// Whether the crash happened: `false` when the run never made that many calls.
    pub fn crashed(&self) -> bool {
        self.crashed
    }

    /// The names of the at-most-once steps whose attempt the crash interrupted
    /// (`StepInterruptedError`).
    pub fn interrupted_steps(&self) -> &[String] {
        &self.interrupted_steps
    }

    /// How the run's ending differs from the baseline's: empty, unless an interrupted
    /// at-most-once step explains it.
    pub fn differences(&self) -> &[String] {
        &self.differences
    }

    /// The crashed run.
    pub fn execution(&self) -> &Execution {
        &self.execution
    }
}

/// Why [`LocalRunner::check_crash_safety`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CrashSafetyError {
    /// A crash changed how the execution ends.
    #[error("{0}")]
    Differs(Box<CrashDivergence>),
    /// A run could not be run.
    #[error("{}: {source}", match call {
        Some(call) => format!("the run crashed after checkpoint call {call}"),
        None => "the run without faults".to_string(),
    })]
    Runner {
        /// The crash point of the run, `None` for the run without faults.
        call: Option<u64>,
        /// What went wrong.
        source: RunnerError,
    },
}

/// The first crash point whose run ended differently from the run without faults.
#[derive(Debug, Clone)]
pub struct CrashDivergence {
    call: u64,
    calls: u64,
    differences: Vec<String>,
    baseline_outline: String,
    crashed_outline: String,
    baseline: Execution,
    crashed: Execution,
}

impl CrashDivergence {
    /// The checkpoint call after which the invocation crashed.
    pub fn call(&self) -> u64 {
        self.call
    }

    /// What differed: status, result, error, operations.
    pub fn differences(&self) -> &[String] {
        &self.differences
    }

    /// The run without faults.
    pub fn baseline(&self) -> &Execution {
        &self.baseline
    }

    /// The crashed run (its [timeline](Execution::timeline) shows the crash and what
    /// followed).
    pub fn crashed(&self) -> &Execution {
        &self.crashed
    }
}

impl fmt::Display for CrashDivergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "not crash-safe: a crash after checkpoint call {} (of {}) changes the execution:",
            self.call, self.calls
        )?;
        for difference in &self.differences {
            writeln!(f, "- {difference}")?;
        }
        writeln!(f, "operations without a crash:")?;
        f.write_str(&self.baseline_outline)?;
        writeln!(f, "operations with the crash after call {}:", self.call)?;
        f.write_str(&self.crashed_outline)
    }
}

/// How an execution ended, as compared by the check.
struct Ending {
    status: ExecutionStatus,
    result: Option<String>,
    error: Option<(String, String)>,
    /// (operation id, outline line), in the order the operations were recorded.
    outline: Vec<(String, String)>,
}

impl Ending {
    fn of(execution: &Execution) -> Self {
        Self {
            status: execution.status(),
            result: execution.raw_result().map(str::to_string),
            error: execution.error().map(error_text),
            outline: outline(execution.operations()),
        }
    }

    fn differences(&self, other: &Ending) -> Vec<String> {
        let mut found = Vec::new();
        if self.status != other.status {
            found.push(format!(
                "status: {} without the crash, {} with it",
                self.status, other.status
            ));
        }
        if !same_json(self.result.as_deref(), other.result.as_deref()) {
            found.push(format!(
                "result: {} without the crash, {} with it",
                shown(self.result.as_deref()),
                shown(other.result.as_deref())
            ));
        }
        if self.error != other.error {
            let show = |error: &Option<(String, String)>| match error {
                Some((kind, message)) => format!("{kind}: {message:?}"),
                None => "none".to_string(),
            };
            found.push(format!(
                "error: {} without the crash, {} with it",
                show(&self.error),
                show(&other.error)
            ));
        }
        let ours: BTreeMap<&str, &str> = self
            .outline
            .iter()
            .map(|(id, line)| (id.as_str(), line.trim_start()))
            .collect();
        let theirs: BTreeMap<&str, &str> = other
            .outline
            .iter()
            .map(|(id, line)| (id.as_str(), line.trim_start()))
            .collect();
        if ours != theirs {
            let only =
                |a: &BTreeMap<&str, &str>, b: &BTreeMap<&str, &str>, list: &[(String, String)]| {
                    list.iter()
                        .filter(|(id, line)| {
                            b.get(id.as_str()) != Some(&line.trim_start())
                                && a.contains_key(id.as_str())
                        })
                        .map(|(_, line)| line.trim_start().to_string())
                        .collect::<Vec<_>>()
                };
            let missing = only(&ours, &theirs, &self.outline);
            let extra = only(&theirs, &ours, &other.outline);
            let mut text = "operations:".to_string();
            if !missing.is_empty() {
                let _ = write!(text, " without the crash only: {}", missing.join(", "));
            }
            if !extra.is_empty() {
                if !missing.is_empty() {
                    text.push(';');
                }
                let _ = write!(text, " with the crash only: {}", extra.join(", "));
            }
            found.push(text);
        }
        found
    }

    fn outline_text(&self) -> String {
        let mut out = String::new();
        for (_, line) in &self.outline {
            let _ = writeln!(out, "  {line}");
        }
        if self.outline.is_empty() {
            out.push_str("  (none)\n");
        }
        out
    }
}

fn error_text(error: &ErrorObject) -> (String, String) {
    (
        error.error_type.clone().unwrap_or_default(),
        error.error_message.clone().unwrap_or_default(),
    )
}

/// Results compare as JSON values (key order and spacing do not matter), else as text.
fn same_json(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => match (
            serde_json::from_str::<Value>(a),
            serde_json::from_str::<Value>(b),
        ) {
            (Ok(a), Ok(b)) => a == b,
            _ => a == b,
        },
        (a, b) => a == b,
    }
}

/// The longest result shown in a difference.
const MAX_SHOWN: usize = 200;

fn shown(result: Option<&str>) -> String {
    match result {
        None => "no result".to_string(),
        Some(text) if text.len() <= MAX_SHOWN => text.to_string(),
        Some(text) => {
            let mut end = MAX_SHOWN;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}... ({} bytes)", &text[..end], text.len())
        }
    }
}

/// One line per operation: `TYPE[/Subtype] "name" STATUS`, indented by nesting.
fn outline(operations: &[Operation]) -> Vec<(String, String)> {
    let parents: BTreeMap<&str, Option<&str>> = operations
        .iter()
        .map(|op| {
            (
                op.id.as_str(),
                op.parent_id.as_ref().map(|parent| parent.as_str()),
            )
        })
        .collect();
    operations
        .iter()
        .map(|op| {
            let mut depth = 0;
            let mut parent = op.parent_id.as_ref().map(|parent| parent.as_str());
            while let Some(id) = parent {
                depth += 1;
                if depth > operations.len() {
                    break;
                }
                parent = parents.get(id).copied().flatten();
            }
            let mut line = "  ".repeat(depth);
            let _ = write!(line, "{}", op.type_);
            // A subtype that only repeats the type (`STEP`/`Step`) says nothing.
            if let Some(sub_type) = op.sub_type.as_ref().filter(|sub_type| {
                !sub_type
                    .as_str()
                    .eq_ignore_ascii_case(&op.type_.to_string())
            }) {
                let _ = write!(line, "/{}", sub_type.as_str());
            }
            if let Some(name) = &op.name {
                let _ = write!(line, " {:?}", name.as_str());
            }
            let _ = write!(line, " {}", op.status);
            (op.id.as_str().to_string(), line)
        })
        .collect()
}

/// The names of the steps whose attempt failed as interrupted in `execution`.
fn interrupted_steps(execution: &Execution) -> Vec<String> {
    let mut names: Vec<String> = execution
        .history()
        .iter()
        .filter(|event| {
            event
                .step_failed_details
                .as_ref()
                .and_then(|details| details.error.as_ref())
                .and_then(|error| error.payload.as_ref())
                .and_then(|error| error.error_type.as_deref())
                == Some(lambda_durable::retry::STEP_INTERRUPTED)
        })
        .map(|event| {
            event
                .name
                .as_ref()
                .map_or_else(|| "(unnamed)".to_string(), |name| name.as_str().to_string())
        })
        .collect();
    names.dedup();
    names
}
