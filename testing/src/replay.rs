//! [`Replay`]: what a replay of a recorded operation log from scratch did
//! ([`LocalRunner::replay`](super::LocalRunner::replay)).

use serde::de::DeserializeOwned;

use super::execution::{describe_error, Execution, InvocationOutcome};
use super::RunnerError;
use lambda_durable::wire::{
    ErrorObject, ExecutionStatus, Operation, OperationType, OperationUpdate,
};

/// One invocation of a handler over the complete operation log of an execution, as a
/// fresh invocation would see it (with replay semantics), and everything it did: how the
/// invocation ended, the status and result it reached, and every checkpoint update it
/// sent. Returned by [`LocalRunner::replay`](super::LocalRunner::replay).
///
/// A deterministic handler replaying a finished execution asks for every recorded
/// operation, gets the recorded outcomes, and ends with the recorded status and result; it
/// writes nothing, except the execution's own completion when its result is too large to
/// return in the invocation's output. [`Replay::mismatches`] lists every way the replay
/// differs from that.
#[derive(Debug, Clone)]
pub struct Replay {
    pub(crate) outcome: InvocationOutcome,
    /// The log after the replay (the replay is its last invocation).
    pub(crate) execution: Execution,
    pub(crate) writes: Vec<OperationUpdate>,
    /// How many operations the log held before the replay.
    pub(crate) recorded_operations: usize,
    pub(crate) recorded_status: ExecutionStatus,
    pub(crate) recorded_result: Option<String>,
    pub(crate) recorded_error: Option<ErrorObject>,
}

impl Replay {
    /// How the invocation ended.
    pub fn outcome(&self) -> &InvocationOutcome {
        &self.outcome
    }

    /// The status the replay reached: `SUCCEEDED` or `FAILED` when the handler returned
    /// (or checkpointed) a final outcome, `RUNNING` when it suspended or the invocation
    /// ended with an error.
    pub fn status(&self) -> ExecutionStatus {
        self.execution.status()
    }

    /// The result the replay reached, deserialized as `T`.
    ///
    /// # Errors
    ///
    /// As [`Execution::result`].
    pub fn result<T: DeserializeOwned>(&self) -> Result<T, RunnerError> {
        self.execution.result()
    }

    /// The result the replay reached, as JSON text.
    pub fn raw_result(&self) -> Option<&str> {
        self.execution.raw_result()
    }

    /// The error the replay failed the execution with.
    pub fn error(&self) -> Option<&ErrorObject> {
        self.execution.error()
    }

    /// Every operation update the replay sent, in order (those of refused requests
    /// included).
    pub fn writes(&self) -> &[OperationUpdate] {
        &self.writes
    }

    /// The updates the replay sent for operations other than the execution itself: a
    /// faithful replay of a finished execution sends none.
    pub fn operation_writes(&self) -> impl Iterator<Item = &OperationUpdate> {
        self.writes
            .iter()
            .filter(|update| update.type_ != OperationType::Execution)
    }

    /// The operations the replay created (not in the log it replayed), in start order.
    pub fn new_operations(&self) -> &[Operation] {
        self.execution
            .operations()
            .get(self.recorded_operations..)
            .unwrap_or_default()
    }

    /// The log after the replay, with the replay as its last invocation (for its
    /// [timeline](Execution::timeline)).
    pub fn execution(&self) -> &Execution {
        &self.execution
    }

    /// The first point where the code left the recorded history, if it did: the
    /// non-determinism it failed with (the operation id, what the code asked for and what
    /// was recorded).
    pub fn divergence(&self) -> Option<String> {
        self.error()
            .filter(|error| error.error_type.as_deref() == Some("NonDeterministicExecutionError"))
            .map(describe_error)
    }

    /// Every way the replay differs from a faithful replay of the execution it replayed:
    /// another status, result or error; an invocation that did not end with an output the
    /// service accepted; updates of operations; new operations. Empty when it is
    /// faithful.
    pub fn mismatches(&self) -> Vec<String> {
        let mut found = Vec::new();
        if !matches!(self.outcome, InvocationOutcome::Returned(_)) {
            found.push(format!("the invocation ended with {:?}", self.outcome));
        }
        if self.status() != self.recorded_status {
            found.push(format!(
                "status {:?} instead of the recorded {:?}",
                self.status(),
                self.recorded_status
            ));
        }
        if self.recorded_status == ExecutionStatus::Succeeded {
            let parse = |raw: Option<&str>| {
                raw.map(|text| {
                    serde_json::from_str::<serde_json::Value>(text)
                        .unwrap_or_else(|_| serde_json::Value::String(text.to_string()))
                })
            };
            let (now, then) = (
                parse(self.raw_result()),
                parse(self.recorded_result.as_deref()),
            );
            if now != then {
                found.push(format!(
                    "result {} instead of the recorded {}",
                    self.raw_result().unwrap_or("none"),
                    self.recorded_result.as_deref().unwrap_or("none")
                ));
            }
        }
        if self.recorded_status == ExecutionStatus::Failed
            && self.error() != self.recorded_error.as_ref()
        {
            found.push(format!(
                "error {} instead of the recorded {}",
                self.error().map_or("none".to_string(), describe_error),
                self.recorded_error
                    .as_ref()
                    .map_or("none".to_string(), describe_error)
            ));
        }
        let writes: Vec<String> = self
            .operation_writes()
            .map(|update| {
                format!(
                    "{:?} {} ({:?})",
                    update.action,
                    update.id.as_str(),
                    update.type_
                )
            })
            .collect();
        if !writes.is_empty() {
            found.push(format!("it wrote {}", writes.join(", ")));
        }
        let new: Vec<&str> = self
            .new_operations()
            .iter()
            .map(|op| op.id.as_str())
            .collect();
        if !new.is_empty() {
            found.push(format!("it created the operations {}", new.join(", ")));
        }
        found
    }
}
