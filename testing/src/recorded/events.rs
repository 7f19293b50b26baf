//! An execution's operation log rebuilt from its history events: the output of
//! `GetDurableExecutionHistory` read with `IncludeExecutionData=true`. This is the inverse
//! of [`history`](super::super::history), which turns the runner's executions into events.
//!
//! Each operation is folded from the events that carry its `Id`, oldest first, by the
//! status life cycles of PROTOCOL.md §4.4, what the service stores for each update (§5.4)
//! and which event each update gives (§5.5):
//!
//! | Events | Operation |
//! |---|---|
//! | `ExecutionStarted` | EXECUTION, `STARTED`, `ExecutionDetails.InputPayload` = `Input` |
//! | `ExecutionSucceeded` / `Failed` / `TimedOut` / `Stopped` | that status; the execution's result or error |
//! | `StepStarted` | `STARTED`; the `Result`, `Error` and `NextAttemptTimestamp` of an earlier retry are cleared |
//! | `StepSucceeded` / `StepFailed` with `RetryDetails.NextAttemptDelaySeconds` | `PENDING` (a retry; a wait-for-condition check when it succeeded), `NextAttemptTimestamp` = event time + delay, `READY` if that time is not after the last event |
//! | `StepSucceeded` / `StepFailed` without a delay | `SUCCEEDED` / `FAILED` |
//! | `WaitStarted` / `WaitSucceeded` / `WaitCancelled` | `STARTED` with `ScheduledEndTimestamp` / `SUCCEEDED` / `CANCELLED` |
//! | `CallbackStarted` / `Succeeded` / `Failed` / `TimedOut` | `STARTED` with `CallbackId` / the outcome |
//! | `ChainedInvokeStarted` / `Succeeded` / `Failed` / `TimedOut` / `Stopped` | `STARTED` / the outcome |
//! | `ContextStarted` / `ContextSucceeded` / `ContextFailed` | `STARTED` / the outcome |
//! | `InvocationCompleted`, `ExecutionPaused`, `ExecutionResumed` | none (no operation) |
//!
//! `StepDetails.Attempt` counts the finished attempts: an event's `CurrentAttempt` when it
//! has one, else the number of `StepSucceeded` and `StepFailed` events of the step so far.
//!
//! The history does not carry `ContextDetails.ReplayChildren`, so it is inferred from what
//! this SDK records: a context recorded with it succeeded with no result (or an empty
//! one), or, for a map or parallel, with the batch's summary in place of its result
//! ([`is_summary`]).

use crate::with;
use std::collections::HashMap;

use lambda_durable::wire::is_batch_summary;
use lambda_durable::wire::{
    CallbackDetails, ChainedInvokeDetails, ContextDetails, ErrorObject, Event, EventError,
    EventInput, EventResult, EventType, ExecutionDetails, ExecutionStatus, Operation, OperationId,
    OperationStatus, OperationType, RetryDetails, StepDetails, Timestamp, WaitDetails,
};

/// The id of the EXECUTION operation when no `Execution*` event carries one.
const EXECUTION_ID: &str = "execution";

/// What a history says about an execution.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Folded {
    /// The operation log, the EXECUTION operation first, then every other operation in the
    /// order its first event appears.
    pub(crate) operations: Vec<Operation>,
    /// `RUNNING` until an `ExecutionSucceeded`, `Failed`, `TimedOut` or `Stopped` event.
    pub(crate) status: ExecutionStatus,
    /// The result of `ExecutionSucceeded`.
    pub(crate) result: Option<String>,
    /// The error of `ExecutionFailed`, `TimedOut` or `Stopped`.
    pub(crate) error: Option<ErrorObject>,
}

/// Why a payload the log needs is not in the history.
const TRUNCATED: &str = "was truncated in the history; read the execution with \
    GetDurableExecutionState (`aws lambda get-durable-execution-state`) instead";
const WITHOUT_DATA: &str = "is missing: the history was fetched without execution data; \
    fetch it with IncludeExecutionData=true (`aws lambda get-durable-execution-history \
    --include-execution-data`)";

/// The operation type an event is about; `None` for events about no operation.
fn family(event_type: EventType) -> Result<Option<OperationType>, String> {
    use EventType as E;
    Ok(Some(match event_type {
        E::ExecutionStarted
        | E::ExecutionSucceeded
        | E::ExecutionFailed
        | E::ExecutionTimedOut
        | E::ExecutionStopped => OperationType::Execution,
        E::StepStarted | E::StepSucceeded | E::StepFailed => OperationType::Step,
        E::WaitStarted | E::WaitSucceeded | E::WaitCancelled => OperationType::Wait,
        E::CallbackStarted | E::CallbackSucceeded | E::CallbackFailed | E::CallbackTimedOut => {
            OperationType::Callback
        }
        E::ChainedInvokeStarted
        | E::ChainedInvokeSucceeded
        | E::ChainedInvokeFailed
        | E::ChainedInvokeTimedOut
        | E::ChainedInvokeStopped => OperationType::ChainedInvoke,
        E::ContextStarted | E::ContextSucceeded | E::ContextFailed => OperationType::Context,
        E::InvocationCompleted => return Ok(None),
        // Newer models only (botocore 1.44.8): a pause changes no operation.
        E::Unknown(value) if matches!(value.as_str(), "ExecutionPaused" | "ExecutionResumed") => {
            return Ok(None)
        }
        other => {
            return Err(format!(
                "the event type {:?} is not one this version of the SDK knows",
                other.as_str()
            ))
        }
    }))
}

/// An operation being rebuilt.
struct Building {
    op: Operation,
    /// Finished attempts so far (STEP).
    attempts: i64,
}

/// The execution's outcome so far.
struct Outcome {
    started: bool,
    status: ExecutionStatus,
    result: Option<String>,
    error: Option<ErrorObject>,
}

/// Rebuilds the operation log from a history (in any order: events are sorted by
/// `EventId`).
///
/// # Errors
///
/// What is wrong, naming the event and the operation: an empty history, no
/// `ExecutionStarted`, an event type this SDK does not know, an event without an `Id`,
/// events of one `Id` that disagree on the operation type, a payload the log needs that
/// the history truncated or left out.
pub(crate) fn fold(events: &[Event]) -> Result<Folded, String> {
    if events.is_empty() {
        return Err("the history has no events".to_string());
    }
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by_key(|event| event.event_id);
    let mut ops: Vec<Building> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut execution: Option<usize> = None;
    let mut outcome = Outcome {
        started: false,
        status: ExecutionStatus::Running,
        result: None,
        error: None,
    };
    // The time of the last event: the service's clock is at least there.
    let mut now: Option<i64> = None;
    for event in sorted {
        let at = event.event_timestamp.as_ref().map(Timestamp::epoch_millis);
        now = now.max(at);
        let what = |message: String| {
            format!(
                "event {} ({}{}): {message}",
                event.event_id,
                event.event_type,
                event
                    .id
                    .as_ref()
                    .map(|id| format!(", operation {}", id.as_str()))
                    .unwrap_or_default()
            )
        };
        let Some(type_) = family(event.event_type).map_err(what)? else {
            continue;
        };
        let slot = if type_ == OperationType::Execution {
            match (execution, &event.id) {
                (Some(slot), Some(id)) if ops[slot].op.id != *id => {
                    return Err(what(format!(
                        "it is about another execution than operation {}",
                        ops[slot].op.id.as_str()
                    )));
                }
                (Some(slot), _) => slot,
                (None, id) => {
                    let id = match id {
                        Some(id) => id.clone(),
                        None => OperationId::try_from(EXECUTION_ID)
                            .map_err(|err| what(err.to_string()))?,
                    };
                    if let Some(&slot) = index.get(id.as_str()) {
                        return Err(what(format!(
                            "earlier events make it a {} operation",
                            ops[slot].op.type_
                        )));
                    }
                    let slot = create(&mut ops, &mut index, id, type_, event);
                    execution = Some(slot);
                    slot
                }
            }
        } else {
            let Some(id) = &event.id else {
                return Err(what("it has no Id".to_string()));
            };
            match index.get(id.as_str()) {
                Some(&slot) if ops[slot].op.type_ != type_ => {
                    return Err(what(format!(
                        "it is a {type_} event but earlier events make the operation a {}",
                        ops[slot].op.type_
                    )));
                }
                Some(&slot) => slot,
                None => create(&mut ops, &mut index, id.clone(), type_, event),
            }
        };
        let building = &mut ops[slot];
        fill_identity(&mut building.op, event);
        apply(building, event, at, &mut outcome).map_err(what)?;
    }
    if !outcome.started {
        return Err("the history has no ExecutionStarted event".to_string());
    }
    let mut operations: Vec<Operation> = ops
        .into_iter()
        .map(|building| ready_if_due(building.op, now))
        .collect();
    if let Some(slot) = execution.filter(|slot| *slot > 0) {
        let op = operations.remove(slot);
        operations.insert(0, op);
    }
    Ok(Folded {
        operations,
        status: outcome.status,
        result: outcome.result,
        error: outcome.error,
    })
}

fn create(
    ops: &mut Vec<Building>,
    index: &mut HashMap<String, usize>,
    id: OperationId,
    type_: OperationType,
    event: &Event,
) -> usize {
    let slot = ops.len();
    index.insert(id.to_string(), slot);
    let mut op = Operation::new(id, OperationStatus::Started, type_);
    op.start_timestamp.clone_from(&event.event_timestamp);
    ops.push(Building { op, attempts: 0 });
    slot
}

/// The name, sub type and parent, from the first event that carries them.
fn fill_identity(op: &mut Operation, event: &Event) {
    if op.name.is_none() {
        op.name.clone_from(&event.name);
    }
    if op.sub_type.is_none() {
        op.sub_type.clone_from(&event.sub_type);
    }
    if op.parent_id.is_none() {
        op.parent_id.clone_from(&event.parent_id);
    }
}

/// The service moves a step whose retry is due to `READY` and clears its
/// `NextAttemptTimestamp` (PROTOCOL.md §4.4): a step still `PENDING` whose time came by the
/// last event is `READY`.
fn ready_if_due(mut op: Operation, now: Option<i64>) -> Operation {
    if op.type_ != OperationType::Step || op.status != OperationStatus::Pending {
        return op;
    }
    if let Some(step) = op.step_details.as_mut() {
        let due = step
            .next_attempt_timestamp
            .as_ref()
            .map(Timestamp::epoch_millis);
        if let (Some(due), Some(now)) = (due, now) {
            if due <= now {
                op.status = OperationStatus::Ready;
                step.next_attempt_timestamp = None;
            }
        }
    }
    op
}

/// The payload of an event's input, which the log needs.
fn needed_input(input: Option<&EventInput>) -> Result<String, String> {
    match input {
        Some(input) if input.truncated == Some(true) => Err(format!("its Input {TRUNCATED}")),
        Some(EventInput {
            payload: Some(payload),
            ..
        }) => Ok(payload.clone()),
        _ => Err(format!("its Input {WITHOUT_DATA}")),
    }
}

/// The payload of an event's result, if it has one.
fn result(result: Option<&EventResult>) -> Result<Option<String>, String> {
    match result {
        Some(result) if result.truncated == Some(true) => Err(format!("its Result {TRUNCATED}")),
        Some(result) => Ok(result.payload.clone()),
        None => Ok(None),
    }
}

/// The payload of an event's result, which the log needs.
fn needed_result(event_result: Option<&EventResult>) -> Result<String, String> {
    result(event_result)?.ok_or_else(|| format!("its Result {WITHOUT_DATA}"))
}

/// The error object of an event's error, if it has one.
fn error(error: Option<&EventError>) -> Result<Option<ErrorObject>, String> {
    match error {
        Some(error) if error.truncated == Some(true) => Err(format!("its Error {TRUNCATED}")),
        Some(error) => Ok(error.payload.clone()),
        None => Ok(None),
    }
}

fn end(op: &mut Operation, status: OperationStatus, event: &Event) {
    op.status = status;
    op.end_timestamp.clone_from(&event.event_timestamp);
}

/// Applies one event to its operation (PROTOCOL.md §5.5, read backwards).
fn apply(
    building: &mut Building,
    event: &Event,
    at: Option<i64>,
    outcome: &mut Outcome,
) -> Result<(), String> {
    use EventType as E;
    use OperationStatus as S;
    let op = &mut building.op;
    match event.event_type {
        E::ExecutionStarted => {
            let input = event
                .execution_started_details
                .as_ref()
                .and_then(|details| details.input.as_ref());
            let payload = needed_input(input)?;
            op.execution_details = Some(with(ExecutionDetails::default(), |it| {
                it.input_payload = Some(payload);
            }));
            op.status = S::Started;
            outcome.started = true;
        }
        E::ExecutionSucceeded => {
            let details = event.execution_succeeded_details.as_ref();
            outcome.result = result(details.and_then(|details| details.result.as_ref()))?;
            outcome.error = None;
            outcome.status = ExecutionStatus::Succeeded;
            end(op, S::Succeeded, event);
        }
        E::ExecutionFailed | E::ExecutionTimedOut | E::ExecutionStopped => {
            let (cause, status, op_status) = match event.event_type {
                E::ExecutionFailed => (
                    event
                        .execution_failed_details
                        .as_ref()
                        .and_then(|details| details.error.as_ref()),
                    ExecutionStatus::Failed,
                    S::Failed,
                ),
                E::ExecutionTimedOut => (
                    event
                        .execution_timed_out_details
                        .as_ref()
                        .and_then(|details| details.error.as_ref()),
                    ExecutionStatus::TimedOut,
                    S::TimedOut,
                ),
                _ => (
                    event
                        .execution_stopped_details
                        .as_ref()
                        .and_then(|details| details.error.as_ref()),
                    ExecutionStatus::Stopped,
                    S::Stopped,
                ),
            };
            outcome.error = error(cause)?;
            outcome.result = None;
            outcome.status = status;
            end(op, op_status, event);
        }
        E::StepStarted => {
            // START is only valid on a new or READY step: what the last retry stored is
            // gone, and READY already cleared the retry's time (PROTOCOL.md §5.4).
            op.status = S::Started;
            op.end_timestamp = None;
            if let Some(step) = op.step_details.as_mut() {
                step.result = None;
                step.error = None;
                step.next_attempt_timestamp = None;
            }
        }
        E::StepSucceeded | E::StepFailed => {
            let succeeded = event.event_type == E::StepSucceeded;
            let (payload, cause, retry) = if succeeded {
                let details = event.step_succeeded_details.as_ref();
                let payload = needed_result(details.and_then(|details| details.result.as_ref()))?;
                (
                    Some(payload),
                    None,
                    details.and_then(|details| details.retry_details.as_ref()),
                )
            } else {
                let details = event.step_failed_details.as_ref();
                let cause = error(details.and_then(|details| details.error.as_ref()))?;
                (
                    None,
                    cause,
                    details.and_then(|details| details.retry_details.as_ref()),
                )
            };
            let RetryDetails {
                current_attempt,
                next_attempt_delay_seconds,
                ..
            } = retry.cloned().unwrap_or_default();
            building.attempts = current_attempt.unwrap_or(building.attempts + 1);
            let step = op.step_details.get_or_insert_with(StepDetails::default);
            step.attempt = Some(building.attempts);
            step.result = payload;
            step.error = cause;
            match next_attempt_delay_seconds {
                Some(delay) => {
                    step.next_attempt_timestamp = at.map(|at| {
                        Timestamp::from_epoch_millis(at.saturating_add(delay.saturating_mul(1000)))
                    });
                    op.status = S::Pending;
                    op.end_timestamp = None;
                }
                None => {
                    step.next_attempt_timestamp = None;
                    end(op, if succeeded { S::Succeeded } else { S::Failed }, event);
                }
            }
        }
        E::WaitStarted => {
            let details = event.wait_started_details.as_ref();
            let scheduled = details
                .and_then(|details| details.scheduled_end_timestamp.clone())
                .or_else(|| {
                    let seconds = details.and_then(|details| details.duration)?;
                    Some(Timestamp::from_epoch_millis(
                        at?.saturating_add(seconds.saturating_mul(1000)),
                    ))
                });
            op.wait_details = Some(with(WaitDetails::default(), |it| {
                it.scheduled_end_timestamp = scheduled;
            }));
            op.status = S::Started;
        }
        E::WaitSucceeded => end(op, S::Succeeded, event),
        E::WaitCancelled => end(op, S::Cancelled, event),
        E::CallbackStarted => {
            op.callback_details = Some(with(CallbackDetails::default(), |it| {
                it.callback_id = event
                    .callback_started_details
                    .as_ref()
                    .and_then(|details| details.callback_id.clone());
            }));
            op.status = S::Started;
        }
        E::CallbackSucceeded => {
            let payload = result(
                event
                    .callback_succeeded_details
                    .as_ref()
                    .and_then(|details| details.result.as_ref()),
            )?;
            op.callback_details
                .get_or_insert_with(CallbackDetails::default)
                .result = payload;
            end(op, S::Succeeded, event);
        }
        E::CallbackFailed | E::CallbackTimedOut => {
            let (cause, status) = if event.event_type == E::CallbackFailed {
                (
                    event
                        .callback_failed_details
                        .as_ref()
                        .and_then(|details| details.error.as_ref()),
                    S::Failed,
                )
            } else {
                (
                    event
                        .callback_timed_out_details
                        .as_ref()
                        .and_then(|details| details.error.as_ref()),
                    S::TimedOut,
                )
            };
            op.callback_details
                .get_or_insert_with(CallbackDetails::default)
                .error = error(cause)?;
            end(op, status, event);
        }
        E::ChainedInvokeStarted => op.status = S::Started,
        E::ChainedInvokeSucceeded => {
            let payload = result(
                event
                    .chained_invoke_succeeded_details
                    .as_ref()
                    .and_then(|details| details.result.as_ref()),
            )?;
            if payload.is_some() {
                op.chained_invoke_details = Some(with(ChainedInvokeDetails::default(), |it| {
                    it.result = payload;
                }));
            }
            end(op, S::Succeeded, event);
        }
        E::ChainedInvokeFailed | E::ChainedInvokeTimedOut | E::ChainedInvokeStopped => {
            let (cause, status) = match event.event_type {
                E::ChainedInvokeFailed => (
                    event
                        .chained_invoke_failed_details
                        .as_ref()
                        .and_then(|details| details.error.as_ref()),
                    S::Failed,
                ),
                E::ChainedInvokeTimedOut => (
                    event
                        .chained_invoke_timed_out_details
                        .as_ref()
                        .and_then(|details| details.error.as_ref()),
                    S::TimedOut,
                ),
                _ => (
                    event
                        .chained_invoke_stopped_details
                        .as_ref()
                        .and_then(|details| details.error.as_ref()),
                    S::Stopped,
                ),
            };
            let cause = error(cause)?;
            if cause.is_some() {
                op.chained_invoke_details = Some(with(ChainedInvokeDetails::default(), |it| {
                    it.error = cause;
                }));
            }
            end(op, status, event);
        }
        E::ContextStarted => op.status = S::Started,
        E::ContextSucceeded => {
            let payload = result(
                event
                    .context_succeeded_details
                    .as_ref()
                    .and_then(|details| details.result.as_ref()),
            )?;
            let batch = matches!(
                op.sub_type.as_ref().map(|sub_type| sub_type.as_str()),
                Some("Map" | "Parallel")
            );
            let replay_children = match payload.as_deref() {
                None | Some("") => true,
                Some(payload) => batch && is_batch_summary(payload),
            };
            op.context_details = Some(with(ContextDetails::default(), |it| {
                it.replay_children = Some(replay_children);
                it.result = payload;
            }));
            end(op, S::Succeeded, event);
        }
        E::ContextFailed => {
            let cause = error(
                event
                    .context_failed_details
                    .as_ref()
                    .and_then(|details| details.error.as_ref()),
            )?;
            op.context_details = Some(with(ContextDetails::default(), |it| {
                it.error = cause;
            }));
            end(op, S::Failed, event);
        }
        // Events about no operation never get here.
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
