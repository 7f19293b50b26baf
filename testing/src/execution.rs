//! What a run leaves behind: the execution's status, result, operations, history and
//! invocations, and the counters of the service calls.

use std::sync::OnceLock;

use serde::de::DeserializeOwned;

use super::history::{self, EventRecord};
use super::store::StoredOp;
use super::timeline;
use super::RunnerError;
use lambda_durable::wire::{
    DurableExecutionInvocationOutput, ErrorObject, Event, EventType, ExecutionStatus,
    InvocationStatus, Operation,
};

/// Counters of the service calls the SDK made.
///
/// `checkpoint_calls` and `get_state_calls` count every call the service received,
/// including retries and calls that failed; `updates` and `update_bytes` count the
/// operation updates the service applied (a repeated request answered from the idempotency
/// cache counts once). `update_bytes` is the size of each update as JSON, the length of
/// `serde_json::to_vec(&update)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunnerStats {
    /// `CheckpointDurableExecution` calls received.
    pub checkpoint_calls: u64,
    /// Operation updates applied.
    pub updates: u64,
    /// JSON bytes of the operation updates applied.
    pub update_bytes: u64,
    /// `GetDurableExecutionState` calls received.
    pub get_state_calls: u64,
    /// Invocations of the handler.
    pub invocations: u64,
}

/// How one invocation ended, as the service saw it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum InvocationOutcome {
    /// The handler returned this output and the service accepted it.
    Returned(DurableExecutionInvocationOutput),
    /// The invocation ended with a function error (for example a checkpoint failure that
    /// may be retried); the function is invoked again.
    FunctionError(ErrorObject),
    /// An injected [`FaultKind::Crash`](super::FaultKind::Crash) aborted the invocation
    /// after the service applied checkpoint call `after_call`; the function is invoked
    /// again.
    Crashed {
        /// The number of the checkpoint call after which the invocation died.
        after_call: u64,
    },
    /// The handler returned an output the service refuses (for example PENDING with
    /// nothing pending); it counts as a function error and the function is invoked again.
    Rejected {
        /// What the handler returned.
        output: DurableExecutionInvocationOutput,
        /// Why the service refused it.
        reason: String,
    },
}

impl InvocationOutcome {
    /// The status the handler returned, if the service accepted its output.
    pub fn status(&self) -> Option<InvocationStatus> {
        match self {
            InvocationOutcome::Returned(output) => Some(output.status),
            _ => None,
        }
    }

    /// Whether the invocation ended with an error instead of an accepted output.
    pub fn is_error(&self) -> bool {
        !matches!(self, InvocationOutcome::Returned(_))
    }
}

/// One invocation, as recorded by the service.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InvocationRecord {
    pub(crate) number: u32,
    pub(crate) request_id: String,
    /// The id the first event of this invocation got (its `InvocationCompleted` event at
    /// the latest).
    pub(crate) first_event_id: u64,
    pub(crate) start_ms: i64,
    pub(crate) end_ms: i64,
    pub(crate) outcome: InvocationOutcome,
    /// The error recorded in its `InvocationCompleted` event.
    pub(crate) error: Option<ErrorObject>,
}

/// Where an [`Execution`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// Run by the local runner, which saw every invocation and service call.
    Local,
    /// Read from the durable-execution service (or AWS's emulator) by the cloud runner:
    /// only what its `GetDurableExecution` and `GetDurableExecutionHistory` answers say.
    Service,
}

/// A durable execution: its status, result, operations, history and invocations.
///
/// Returned by [`LocalRunner::run`](super::LocalRunner::run), and by
/// [`RunningExecution::snapshot`](super::RunningExecution::snapshot) in the step-by-step
/// mode, for an execution the local runner ran; and by
/// [`CloudRunner::run`](super::CloudRunner::run) and [`CloudExecution`](super::CloudExecution)
/// for an execution of a deployed function, read from the service's
/// `GetDurableExecution` and `GetDurableExecutionHistory` answers. Both answer the same
/// questions the same way: status, result, error, operations (rebuilt from the history
/// events), history and timeline. What only the local runner can know (how each
/// invocation ended, the counters of the service calls, the executions started by chained
/// invokes, the virtual clock) is documented on each method;
/// [`is_from_service`](Self::is_from_service) tells the two apart.
#[derive(Debug, Clone)]
pub struct Execution {
    pub(crate) source: Source,
    pub(crate) arn: String,
    pub(crate) status: ExecutionStatus,
    pub(crate) input: String,
    pub(crate) result: Option<String>,
    pub(crate) error: Option<ErrorObject>,
    pub(crate) ops: Vec<StoredOp>,
    /// The wire operations, built from `ops` when first asked for.
    pub(crate) operations: OnceLock<Vec<Operation>>,
    pub(crate) events: Vec<EventRecord>,
    /// The wire events, built from `events` when first asked for.
    pub(crate) history: OnceLock<Vec<Event>>,
    pub(crate) invocations: Vec<InvocationRecord>,
    pub(crate) stats: RunnerStats,
    pub(crate) start_ms: i64,
    pub(crate) now_ms: i64,
    pub(crate) function_name: String,
    /// `ExecutionTimeout` in seconds, if the execution has one.
    pub(crate) execution_timeout: Option<i64>,
    /// The executions started by this one's chained invokes of durable functions.
    pub(crate) children: Vec<Execution>,
}

impl Execution {
    /// The execution's ARN.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The name of the function the execution runs (`local-function` by default for the
    /// runner's own handler, the registered name for a chained invoke's target; for an
    /// execution read from the service, the name in its function ARN).
    pub fn function_name(&self) -> &str {
        &self.function_name
    }

    /// Whether the execution was read from the durable-execution service by the cloud
    /// runner ([`CloudRunner`](super::CloudRunner)), rather than run by the local runner.
    pub fn is_from_service(&self) -> bool {
        self.source == Source::Service
    }

    /// The executions this one started by invoking durable functions registered with
    /// [`LocalRunner::register`](super::LocalRunner::register), in the order they started.
    /// Each has its own ARN, operations, history and invocations, and its own children.
    ///
    /// Empty for an execution read from the service: the executions its chained invokes
    /// started are executions of other functions, which the cloud runner does not fetch.
    pub fn children(&self) -> &[Execution] {
        &self.children
    }

    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `STOPPED` once the execution finished;
    /// `RUNNING` when it is suspended with nothing that can fire (for example waiting for a
    /// callback), or, for an execution read from the service, when it had not finished
    /// when it was read.
    pub fn status(&self) -> ExecutionStatus {
        self.status
    }

    /// The input the execution started with, as JSON text.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// The result, deserialized as `T`.
    ///
    /// # Errors
    ///
    /// [`RunnerError::NoResult`] when the execution did not succeed (the error names its
    /// status and error), [`RunnerError::ResultType`] when the result is not a `T`.
    pub fn result<T: DeserializeOwned>(&self) -> Result<T, RunnerError> {
        let raw = match (&self.status, &self.result) {
            (ExecutionStatus::Succeeded, Some(raw)) => raw.as_str(),
            // A result left out is read as null, like the SDK reads a missing step result.
            (ExecutionStatus::Succeeded, None) => "null",
            (status, _) => {
                return Err(RunnerError::NoResult {
                    status: *status,
                    error: self.error.as_ref().map(describe_error),
                })
            }
        };
        serde_json::from_str(raw).map_err(|err| RunnerError::ResultType {
            type_name: std::any::type_name::<T>(),
            message: err.to_string(),
        })
    }

    /// The result as the JSON text the handler returned, if the execution succeeded.
    pub fn raw_result(&self) -> Option<&str> {
        self.result.as_deref()
    }

    /// The error that failed the execution.
    pub fn error(&self) -> Option<&ErrorObject> {
        self.error.as_ref()
    }

    /// Every operation, in start order (the EXECUTION operation first).
    pub fn operations(&self) -> &[Operation] {
        self.operations
            .get_or_init(|| self.ops.iter().map(|op| op.to_wire(&self.input)).collect())
    }

    /// The first operation with this name.
    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations()
            .iter()
            .find(|op| op.name.as_deref().is_some_and(|own| own.as_str() == name))
    }

    /// Every operation with this name, in start order.
    pub fn operations_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Operation> {
        self.operations()
            .iter()
            .filter(move |op| op.name.as_deref().is_some_and(|own| own.as_str() == name))
    }

    /// The operation with this id.
    pub fn operation_by_id(&self, id: &str) -> Option<&Operation> {
        self.operations().iter().find(|op| op.id.as_str() == id)
    }

    /// The history events, oldest first (`EventId` counts from 1). For an execution read
    /// from the service, its events as the service returned them (with execution data).
    pub fn history(&self) -> &[Event] {
        self.history.get_or_init(|| history::materialize(self))
    }

    /// The number of invocations of the handler.
    ///
    /// For an execution read from the service, the number of `InvocationCompleted` events
    /// in its history: the service records one per invocation that ended (AWS's emulator
    /// 1.4.0 records none for an invocation that ended with a function error), so an
    /// invocation still running is not counted.
    pub fn invocations(&self) -> usize {
        match self.source {
            Source::Local => self.invocations.len(),
            Source::Service => self
                .history()
                .iter()
                .filter(|event| event.event_type == EventType::InvocationCompleted)
                .count(),
        }
    }

    /// How each invocation ended, in order.
    ///
    /// Empty for an execution read from the service: its history says when invocations
    /// ended, not what the handler returned (see [`history`](Self::history) for its
    /// `InvocationCompleted` events).
    pub fn invocation_outcomes(&self) -> impl Iterator<Item = &InvocationOutcome> {
        self.invocations.iter().map(|record| &record.outcome)
    }

    /// Counters of the service calls made for this execution.
    ///
    /// All zero for an execution read from the service, which does not report the calls
    /// the function made.
    pub fn stats(&self) -> RunnerStats {
        self.stats
    }

    /// How much virtual time passed from the execution's start until it finished (or
    /// until now, while it runs).
    ///
    /// For an execution read from the service, the time between its start and its end
    /// (or its last event, while it runs) by the service's timestamps: real time on AWS;
    /// on AWS's emulator started with `--skip-time`, real time plus the waits and retry
    /// delays it skipped.
    pub fn elapsed(&self) -> std::time::Duration {
        std::time::Duration::from_millis(
            u64::try_from(self.now_ms.saturating_sub(self.start_ms)).unwrap_or_default(),
        )
    }

    /// A readable account of the execution: one line per invocation and per history
    /// event, each with the virtual time since the start (for an execution read from the
    /// service, the time by its events' timestamps; its invocations show as the
    /// `InvocationCompleted` events the service recorded, without their outcome).
    ///
    /// ```text
    /// +0s     execution started: {"orderId":42}
    /// +0s     invocation 1
    /// +0s       step "charge" started
    /// +0s       step "charge" failed (attempt 1): PaymentError: declined; retry in 2s
    /// +0s       invocation 1 ended: PENDING
    /// +2s     invocation 2
    /// ...
    /// ```
    pub fn timeline(&self) -> String {
        timeline::render(self)
    }
}

/// `Type: message` of an ErrorObject.
pub(crate) fn describe_error(error: &ErrorObject) -> String {
    match (&error.error_type, &error.error_message) {
        (Some(ty), Some(message)) => format!("{ty}: {message}"),
        (Some(ty), None) => ty.clone(),
        (None, Some(message)) => message.clone(),
        (None, None) => "unknown error".to_string(),
    }
}
