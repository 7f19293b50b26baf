//! The `durable.*` span attributes, and the span statuses the plugins set.
//!
//! | span | attributes |
//! |---|---|
//! | `Workflow` | [`EXECUTION_ARN`], [`EXECUTION_STATUS`] |
//! | `Invocation` | [`EXECUTION_ARN`], [`INVOCATION_FIRST`], [`INVOCATION_STATUS`] |
//! | operation | [`EXECUTION_ARN`], [`OPERATION_ID`], [`OPERATION_TYPE`], [`OPERATION_SUBTYPE`], [`OPERATION_STATUS`], [`OPERATION_NAME`]; for a `STEP` that finished, [`ATTEMPT_NUMBER`] (its last attempt) too |
//! | attempt | [`EXECUTION_ARN`], [`OPERATION_ID`], [`OPERATION_TYPE`], [`OPERATION_SUBTYPE`], [`OPERATION_NAME`], [`ATTEMPT_NUMBER`], [`ATTEMPT_OUTCOME`] |
//!
//! [`OPERATION_NAME`] is left out for an operation without a name, [`OPERATION_SUBTYPE`]
//! for one without a sub type.

use std::borrow::Cow;

use lambda_durable::plugin::OperationInfo;
use lambda_durable::wire::{ErrorObject, OperationStatus, OperationType};
use opentelemetry::trace::Status;
use opentelemetry::KeyValue;

/// The execution's ARN, on every span.
pub const EXECUTION_ARN: &str = "durable.execution.arn";
/// How the execution ended: `SUCCEEDED` or `FAILED`.
pub const EXECUTION_STATUS: &str = "durable.execution.status";
/// Whether the invocation was the execution's first (a boolean).
pub const INVOCATION_FIRST: &str = "durable.invocation.first";
/// How the invocation ended: `SUCCEEDED`, `FAILED`, `PENDING` (suspended) or `RETRY`.
pub const INVOCATION_STATUS: &str = "durable.invocation.status";
/// The checkpointed operation id.
pub const OPERATION_ID: &str = "durable.operation.id";
/// `STEP`, `WAIT`, `CALLBACK`, `CHAINED_INVOKE` or `CONTEXT`.
pub const OPERATION_TYPE: &str = "durable.operation.type";
/// The sub type: `Step`, `WaitForCondition`, `Wait`, `Callback`, `ChainedInvoke`,
/// `RunInChildContext`, `Map`, `MapIteration`, `Parallel`, `ParallelBranch`,
/// `WaitForCallback`.
pub const OPERATION_SUBTYPE: &str = "durable.operation.subtype";
/// `STARTED` (still running when its invocation ended), or the terminal status:
/// `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `CANCELLED`, `STOPPED`.
pub const OPERATION_STATUS: &str = "durable.operation.status";
/// The name the code gave the operation.
pub const OPERATION_NAME: &str = "durable.operation.name";
/// The attempt number (1-based, an integer).
pub const ATTEMPT_NUMBER: &str = "durable.attempt.number";
/// How an attempt ended: `SUCCEEDED` or `FAILED`.
pub const ATTEMPT_OUTCOME: &str = "durable.attempt.outcome";

/// Whether operations of this type get attempt spans and an attempt number.
pub(crate) fn has_attempts(info: &OperationInfo) -> bool {
    info.operation_type == OperationType::Step
}

/// The span name of an operation: its name, else its id.
pub(crate) fn operation_span_name(info: &OperationInfo) -> Cow<'static, str> {
    Cow::Owned(info.name.clone().unwrap_or_else(|| info.id.clone()))
}

/// The span name of an attempt: `<operation name> attempt <n>`.
pub(crate) fn attempt_span_name(info: &OperationInfo, attempt: u32) -> Cow<'static, str> {
    Cow::Owned(format!("{} attempt {attempt}", operation_span_name(info)))
}

/// The attributes every operation and attempt span has: the ARN, the id, the type, the sub
/// type and the name.
pub(crate) fn operation_identity(arn: &str, info: &OperationInfo) -> Vec<KeyValue> {
    let mut attributes = vec![
        KeyValue::new(EXECUTION_ARN, arn.to_string()),
        KeyValue::new(OPERATION_ID, info.id.clone()),
        KeyValue::new(OPERATION_TYPE, info.operation_type.as_str().to_string()),
    ];
    if let Some(sub_type) = &info.sub_type {
        attributes.push(KeyValue::new(OPERATION_SUBTYPE, sub_type.clone()));
    }
    if let Some(name) = &info.name {
        attributes.push(KeyValue::new(OPERATION_NAME, name.clone()));
    }
    attributes
}

/// The attributes a finished operation adds: its status and, for a step, its last attempt.
pub(crate) fn operation_outcome(info: &OperationInfo, last_attempt: Option<u32>) -> Vec<KeyValue> {
    let mut attributes = vec![KeyValue::new(
        OPERATION_STATUS,
        info.status.as_str().to_string(),
    )];
    if has_attempts(info) {
        let attempt = info.attempt.or(last_attempt).unwrap_or(1);
        attributes.push(KeyValue::new(ATTEMPT_NUMBER, i64::from(attempt)));
    }
    attributes
}

/// The span status of a finished operation: OK when it succeeded, ERROR otherwise.
pub(crate) fn operation_status(info: &OperationInfo) -> Status {
    match info.status {
        OperationStatus::Succeeded => Status::Ok,
        _ => Status::error(error_description(info.error.as_ref(), info.status.as_str())),
    }
}

/// An error as a status description: `type: message`, or what there is of it.
pub(crate) fn error_description(error: Option<&ErrorObject>, fallback: &str) -> String {
    let error_type = error.and_then(|error| error.error_type.as_deref());
    let message = error.and_then(|error| error.error_message.as_deref());
    match (error_type, message) {
        (Some(error_type), Some(message)) => format!("{error_type}: {message}"),
        (Some(text), None) | (None, Some(text)) => text.to_string(),
        (None, None) => fallback.to_string(),
    }
}
