//! Recorded executions ("golden histories"): an execution's operation log saved to a file
//! (or read from the service's `GetDurableExecutionState` output, or rebuilt from its
//! `GetDurableExecutionHistory` output) and replayed against the current handler, so that a
//! code change that would break executions in flight fails a test instead of a production
//! execution.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::execution::Execution;
use super::replay::Replay;
use super::store::StoredOp;
use super::RunnerError;
use lambda_durable::wire::{
    ErrorObject, ExecutionStatus, GetDurableExecutionHistoryResponse, Operation, OperationType,
};

pub(crate) mod events;

/// The `format` of the files [`RecordedExecution::save`] writes.
pub const RECORDED_EXECUTION_FORMAT: &str = "lambda-durable/recorded-execution/1";

/// An execution's operation log and, when it finished, its outcome: what a replay of the
/// current handler is checked against ([`LocalRunner::replay_recorded`](super::LocalRunner::replay_recorded)).
///
/// Made from an execution the local runner ran ([`RecordedExecution::from`]), or read from
/// a file ([`RecordedExecution::load`]) holding one of:
///
/// - what [`RecordedExecution::save`] writes;
/// - the JSON output of the service's `GetDurableExecutionState` (`{"Operations": [...]}`,
///   from `aws lambda get-durable-execution-state`), whose outcome is unknown;
/// - the JSON output of the service's `GetDurableExecutionHistory` read with its execution
///   data (`{"Events": [...]}`, from `aws lambda get-durable-execution-history
///   --durable-execution-arn ARN --include-execution-data`, which merges the pages into
///   one list). The operation log is rebuilt from the events, and the outcome (status,
///   result, error) comes from the execution's last event. The history stays readable for
///   the retention period after the execution ended. Its limits: the service truncates
///   large payloads in the history (a result, an error or the input marked
///   `"Truncated": true` is refused; read such an execution with
///   `get-durable-execution-state` instead), one read without execution data is refused,
///   and it does not say whether a context was recorded with `ReplayChildren`, which is
///   inferred from what this SDK records (no result, or a map's or parallel's summary).
///
/// The service's outputs do not carry the execution's ARN; give it with
/// [`with_arn`](Self::with_arn) when the handler uses the replay-safe helpers
/// ([`DurableContext::uuid`](lambda_durable::DurableContext::uuid), ...).
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// use lambda_durable_testing::{LocalRunner, RecordedExecution};
/// # async fn handler(_: serde_json::Value, _: lambda_durable::DurableContext) -> Result<(), lambda_durable::Error> { Ok(()) }
/// let runner = LocalRunner::new(handler);
/// // Once: save an execution of today's code.
/// let execution = runner.run(serde_json::json!({"order": 1})).await?;
/// RecordedExecution::from(&execution).save("tests/histories/order-1.json")?;
/// // In CI: every saved execution replays against the code of the day.
/// let checked = lambda_durable_testing::check_recorded(&runner, "tests/histories").await?;
/// assert!(checked > 0);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedExecution {
    /// [`RECORDED_EXECUTION_FORMAT`].
    pub format: String,
    /// The execution's ARN (it seeds the replay-safe helpers, so it must be the recorded
    /// one).
    pub execution_arn: String,
    /// The status it had when it was recorded (`RUNNING` when unknown).
    pub status: ExecutionStatus,
    /// Its result, when it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Its error, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorObject>,
    /// Every operation of its log, the EXECUTION operation first.
    pub operations: Vec<Operation>,
}

/// The ARN of a recorded execution read from the service's output, which does not carry it.
const UNKNOWN_ARN: &str =
    "arn:aws:lambda:us-east-1:000000000000:function:recorded:$LATEST/durable-execution/recorded/recorded";

/// The `GetDurableExecutionState` output.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StateOutput {
    operations: Vec<Operation>,
}

impl From<&Execution> for RecordedExecution {
    fn from(execution: &Execution) -> Self {
        RecordedExecution {
            format: RECORDED_EXECUTION_FORMAT.to_string(),
            execution_arn: execution.arn.clone(),
            status: execution.status,
            result: execution.result.clone(),
            error: execution.error.clone(),
            operations: execution.operations().to_vec(),
        }
    }
}

impl RecordedExecution {
    /// Reads a recorded execution from JSON text: this type's own format, the output of
    /// `GetDurableExecutionState` (`{"Operations": [...]}`) or that of
    /// `GetDurableExecutionHistory` with `IncludeExecutionData=true` (`{"Events": [...]}`,
    /// in any order; see the [type's documentation](Self) for its limits). Its first page
    /// alone (`"NextMarker"` set, the oldest events) reads as the execution in flight at the
    /// page's last event. The ARN of the service's outputs is unknown; give it with
    /// [`with_arn`](Self::with_arn) when the handler uses replay-safe helpers.
    ///
    /// # Errors
    ///
    /// [`RunnerError::Recorded`] naming what is wrong: for a history, the event and the
    /// operation, as when a payload the log needs was truncated or left out, events of one
    /// operation disagree on its type, an event type is unknown, or there is no
    /// `ExecutionStarted` event.
    pub fn from_json(text: &str) -> Result<Self, RunnerError> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|err| RunnerError::Recorded(format!("not JSON: {err}")))?;
        let recorded = if value.get("format").is_some() {
            let recorded: RecordedExecution = serde_path_to_error::deserialize(&value)
                .map_err(|err| RunnerError::Recorded(format!("{}: {}", err.path(), err.inner())))?;
            if recorded.format != RECORDED_EXECUTION_FORMAT {
                return Err(RunnerError::Recorded(format!(
                    "format {:?} is not {RECORDED_EXECUTION_FORMAT:?}",
                    recorded.format
                )));
            }
            recorded
        } else if value.get("Operations").is_some() {
            let state: StateOutput = serde_path_to_error::deserialize(&value).map_err(|err| {
                RunnerError::Recorded(format!(
                    "a GetDurableExecutionState output: {}: {}",
                    err.path(),
                    err.inner()
                ))
            })?;
            RecordedExecution {
                format: RECORDED_EXECUTION_FORMAT.to_string(),
                execution_arn: UNKNOWN_ARN.to_string(),
                status: ExecutionStatus::Running,
                result: None,
                error: None,
                operations: state.operations,
            }
        } else if value.get("Events").is_some() {
            let history: GetDurableExecutionHistoryResponse =
                serde_path_to_error::deserialize(&value).map_err(|err| {
                    RunnerError::Recorded(format!(
                        "a GetDurableExecutionHistory output: {}: {}",
                        err.path(),
                        err.inner()
                    ))
                })?;
            let folded = events::fold(&history.events).map_err(|message| {
                RunnerError::Recorded(format!("a GetDurableExecutionHistory output: {message}"))
            })?;
            RecordedExecution {
                format: RECORDED_EXECUTION_FORMAT.to_string(),
                execution_arn: UNKNOWN_ARN.to_string(),
                status: folded.status,
                result: folded.result,
                error: folded.error,
                operations: folded.operations,
            }
        } else {
            return Err(RunnerError::Recorded(
                "neither a recorded execution (no \"format\"), a GetDurableExecutionState output (no \"Operations\") nor a GetDurableExecutionHistory output (no \"Events\")".to_string(),
            ));
        };
        match recorded.operations.first() {
            Some(first) if first.type_ == OperationType::Execution => Ok(recorded),
            Some(first) => Err(RunnerError::Recorded(format!(
                "the first operation must be the EXECUTION operation, not {} {}",
                first.type_,
                first.id.as_str()
            ))),
            None => Err(RunnerError::Recorded("it has no operations".to_string())),
        }
    }

    /// Reads a recorded execution from a file (see [`from_json`](Self::from_json)).
    ///
    /// # Errors
    ///
    /// [`RunnerError::Recorded`] naming the file and what is wrong.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, RunnerError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|err| RunnerError::Recorded(format!("{}: {err}", path.display())))?;
        Self::from_json(&text).map_err(|err| match err {
            RunnerError::Recorded(message) => {
                RunnerError::Recorded(format!("{}: {message}", path.display()))
            }
            other => other,
        })
    }

    /// Writes the recorded execution to a file as pretty JSON, creating its folder.
    ///
    /// # Errors
    ///
    /// [`RunnerError::Recorded`] naming the file when it cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), RunnerError> {
        let path = path.as_ref();
        let fail = |err: &dyn std::fmt::Display| {
            RunnerError::Recorded(format!("{}: {err}", path.display()))
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|err| fail(&err))?;
        }
        let mut text = serde_json::to_string_pretty(self).map_err(|err| fail(&err))?;
        text.push('\n');
        std::fs::write(path, text).map_err(|err| fail(&err))
    }

    /// The same recorded execution under another ARN.
    pub fn with_arn(mut self, arn: impl Into<String>) -> Self {
        self.execution_arn = arn.into();
        self
    }

    /// The execution's input, from the EXECUTION operation.
    pub(crate) fn input(&self) -> String {
        self.operations
            .first()
            .and_then(|op| op.execution_details.as_ref())
            .and_then(|details| details.input_payload.clone())
            .unwrap_or_else(|| "null".to_string())
    }

    /// The log in the runner's form.
    pub(crate) fn stored_ops(&self) -> Vec<StoredOp> {
        self.operations.iter().map(StoredOp::from_wire).collect()
    }

    /// Every way `replay` differs from a faithful replay of this recorded execution, the
    /// first divergence first ([`Replay::divergence`]). For a finished execution, every
    /// other difference too ([`Replay::mismatches`]); for one in flight (`RUNNING`) the
    /// replay may go on past the recorded operations, and only a divergence counts.
    pub fn check(&self, replay: &Replay) -> Vec<String> {
        let mut found: Vec<String> = replay.divergence().into_iter().collect();
        if matches!(
            self.status,
            ExecutionStatus::Succeeded | ExecutionStatus::Failed
        ) {
            found.extend(replay.mismatches());
        }
        found
    }
}

impl RecordedExecution {
    /// The recorded execution as the runner's [`Execution`], for a replay.
    pub(crate) fn to_execution(&self) -> Execution {
        let ops = self.stored_ops();
        let start_ms = ops.first().map_or(0, |op| op.start_ms);
        let now_ms = ops
            .iter()
            .filter_map(|op| op.end_ms.or(Some(op.start_ms)))
            .max()
            .unwrap_or(start_ms);
        Execution {
            source: crate::execution::Source::Local,
            arn: self.execution_arn.clone(),
            status: self.status,
            input: self.input(),
            result: self.result.clone(),
            error: self.error.clone(),
            ops,
            operations: std::sync::OnceLock::new(),
            events: Vec::new(),
            history: std::sync::OnceLock::new(),
            invocations: Vec::new(),
            stats: super::RunnerStats::default(),
            start_ms,
            now_ms,
            function_name: function_name(&self.execution_arn),
            execution_timeout: None,
            children: Vec::new(),
        }
    }
}

/// The function name in an execution ARN (`...:function:<name>:<qualifier>/durable-execution/...`).
fn function_name(arn: &str) -> String {
    arn.split_once(":function:")
        .map(|(_, rest)| rest)
        .and_then(|rest| rest.split([':', '/']).next())
        .filter(|name| !name.is_empty())
        .unwrap_or("recorded")
        .to_string()
}

/// Replays every recorded execution (`*.json`) in `dir` against `runner`'s handler, in
/// file name order, and returns how many it checked: the one-line gate over a folder of
/// golden histories that keeps a deploy from breaking executions in flight.
///
/// # Errors
///
/// [`RunnerError::Recorded`] listing every file that cannot be read or does not replay as
/// recorded, with what differs (the first divergence: the operation id, what the code
/// asked for and what was recorded).
pub async fn check_recorded(
    runner: &super::LocalRunner,
    dir: impl AsRef<Path>,
) -> Result<usize, RunnerError> {
    let dir = dir.as_ref();
    let entries = std::fs::read_dir(dir)
        .map_err(|err| RunnerError::Recorded(format!("{}: {err}", dir.display())))?;
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let mut problems = Vec::new();
    for file in &files {
        let recorded = match RecordedExecution::load(file) {
            Ok(recorded) => recorded,
            Err(err) => {
                problems.push(err.to_string());
                continue;
            }
        };
        match runner.replay_recorded(&recorded).await {
            Ok(replay) => {
                let found = recorded.check(&replay);
                if !found.is_empty() {
                    problems.push(format!("{}: {}", file.display(), found.join("; ")));
                }
            }
            Err(err) => problems.push(format!("{}: {err}", file.display())),
        }
    }
    if problems.is_empty() {
        Ok(files.len())
    } else {
        Err(RunnerError::Recorded(format!(
            "{} of {} recorded executions in {} do not replay as recorded:\n{}",
            problems.len(),
            files.len(),
            dir.display(),
            problems.join("\n")
        )))
    }
}
