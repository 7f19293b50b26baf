//! Conversions between our wire types and the `aws-sdk-lambda` model types.
//!
//! Requests go from [`crate::wire`] to `aws_sdk_lambda::types`; responses come back. Every
//! field is copied. Enumerations go by their wire string, so a value one side does not list
//! travels as the other's `Unknown` variant (the log keeps such an operation, and replay
//! fails only if it reaches it). A value that one side cannot represent (a number out of
//! the SDK's `i32` range, a string that breaks our schema) becomes a [`ServiceError`]
//! naming the field: of kind [`ServiceErrorKind::Other`] in a request, and
//! [`ServiceErrorKind::UnreadableResponse`] in a response (a function error, so that a
//! newer SDK can continue the execution). Messages name fields and enum values, never
//! payloads.
//!
//! This file is written by hand: a field added to a schema in `schema/wire/` must be copied
//! here too (see the README's section on protocol changes).

use std::fmt;

use aws_sdk_lambda::primitives::DateTime;
use aws_sdk_lambda::types as aws;

use super::super::{ServiceError, ServiceErrorKind};
use crate::wire;

/// Error code of a request we could not express with the AWS SDK's types.
const INVALID_REQUEST: &str = "InvalidRequest";
/// Error code of a service response we could not express with our wire types.
const INVALID_RESPONSE: &str = "InvalidResponse";

fn invalid_request(field: impl fmt::Display, problem: impl fmt::Display) -> ServiceError {
    ServiceError::new(
        ServiceErrorKind::Other,
        INVALID_REQUEST,
        format!("{field}: {problem}"),
    )
}

fn invalid_response(field: impl fmt::Display, problem: impl fmt::Display) -> ServiceError {
    ServiceError::new(
        ServiceErrorKind::UnreadableResponse,
        INVALID_RESPONSE,
        format!("{field}: {problem}"),
    )
}

/// The JSON path of one element of a list, e.g. `NewExecutionState.Operations[2]`; built only
/// when an error message needs it.
#[derive(Clone, Copy)]
struct At<'a> {
    list: &'a str,
    index: usize,
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.list, self.index)
    }
}

// ---------------------------------------------------------------------------------------
// Requests: wire → aws
// ---------------------------------------------------------------------------------------

/// The updates of a checkpoint request.
pub(super) fn updates(
    updates: &[wire::OperationUpdate],
) -> Result<Vec<aws::OperationUpdate>, ServiceError> {
    updates
        .iter()
        .enumerate()
        .map(|(index, update)| {
            operation_update(
                update,
                At {
                    list: "Updates",
                    index,
                },
            )
        })
        .collect()
}

fn operation_update(
    update: &wire::OperationUpdate,
    at: At<'_>,
) -> Result<aws::OperationUpdate, ServiceError> {
    let step_options = update
        .step_options
        .as_ref()
        .map(|options| {
            Ok::<_, ServiceError>(
                aws::StepOptions::builder()
                    .set_next_attempt_delay_seconds(
                        options
                            .next_attempt_delay_seconds
                            .map(|seconds| {
                                to_i32(seconds.get(), || {
                                    format!("{at}.StepOptions.NextAttemptDelaySeconds")
                                })
                            })
                            .transpose()?,
                    )
                    .build(),
            )
        })
        .transpose()?;
    let wait_options = update
        .wait_options
        .as_ref()
        .map(|options| {
            Ok::<_, ServiceError>(
                aws::WaitOptions::builder()
                    .set_wait_seconds(
                        options
                            .wait_seconds
                            .map(|seconds| {
                                to_i32(seconds.get(), || format!("{at}.WaitOptions.WaitSeconds"))
                            })
                            .transpose()?,
                    )
                    .build(),
            )
        })
        .transpose()?;
    let callback_options = update
        .callback_options
        .as_ref()
        .map(|options| {
            Ok::<_, ServiceError>(
                aws::CallbackOptions::builder()
                    .set_timeout_seconds(
                        options
                            .timeout_seconds
                            .map(|seconds| {
                                to_i32(seconds, || format!("{at}.CallbackOptions.TimeoutSeconds"))
                            })
                            .transpose()?,
                    )
                    .set_heartbeat_timeout_seconds(
                        options
                            .heartbeat_timeout_seconds
                            .map(|seconds| {
                                to_i32(seconds, || {
                                    format!("{at}.CallbackOptions.HeartbeatTimeoutSeconds")
                                })
                            })
                            .transpose()?,
                    )
                    .build(),
            )
        })
        .transpose()?;
    let chained_invoke_options = update
        .chained_invoke_options
        .as_ref()
        .map(|options| {
            aws::ChainedInvokeOptions::builder()
                .function_name(options.function_name.as_str())
                .set_tenant_id(options.tenant_id.clone())
                .set_x_amzn_trace_id(options.x_amzn_trace_id.clone())
                .build()
                .map_err(|err| invalid_request(format_args!("{at}.ChainedInvokeOptions"), err))
        })
        .transpose()?;
    aws::OperationUpdate::builder()
        .id(update.id.as_str())
        .set_parent_id(update.parent_id.as_ref().map(|id| id.as_str().to_owned()))
        .set_name(update.name.as_ref().map(|name| name.as_str().to_owned()))
        .r#type(to_aws_type(update.type_))
        .set_sub_type(
            update
                .sub_type
                .as_ref()
                .map(|sub_type| sub_type.as_str().to_owned()),
        )
        .action(to_aws_action(update.action))
        .set_payload(update.payload.clone())
        .set_error(update.error.as_ref().map(to_aws_error))
        .set_context_options(update.context_options.as_ref().map(|options| {
            aws::ContextOptions::builder()
                .set_replay_children(options.replay_children)
                .build()
        }))
        .set_step_options(step_options)
        .set_wait_options(wait_options)
        .set_callback_options(callback_options)
        .set_chained_invoke_options(chained_invoke_options)
        .build()
        .map_err(|err| invalid_request(at, err))
}

/// The SDK models these numbers as `i32`; ours are wider.
pub(super) fn to_i32<N>(value: N, field: impl FnOnce() -> String) -> Result<i32, ServiceError>
where
    N: Copy + fmt::Display + TryInto<i32>,
{
    value.try_into().map_err(|_| {
        invalid_request(
            field(),
            format_args!("{value} is out of range (at most {})", i32::MAX),
        )
    })
}

fn to_aws_type(value: wire::OperationType) -> aws::OperationType {
    aws::OperationType::from(value.as_str())
}

fn to_aws_action(value: wire::OperationAction) -> aws::OperationAction {
    aws::OperationAction::from(value.as_str())
}

fn to_aws_error(error: &wire::ErrorObject) -> aws::ErrorObject {
    aws::ErrorObject::builder()
        .set_error_message(error.error_message.clone())
        .set_error_type(error.error_type.clone())
        .set_error_data(error.error_data.clone())
        .set_stack_trace((!error.stack_trace.is_empty()).then(|| error.stack_trace.clone()))
        .build()
}

// ---------------------------------------------------------------------------------------
// Responses: aws → wire
// ---------------------------------------------------------------------------------------

/// A `CheckpointDurableExecution` response.
pub(super) fn checkpoint_response(
    checkpoint_token: Option<String>,
    new_execution_state: Option<aws::CheckpointUpdatedExecutionState>,
) -> Result<wire::CheckpointDurableExecutionResponse, ServiceError> {
    let checkpoint_token = checkpoint_token
        .map(|token| {
            wire::CheckpointToken::try_from(token)
                .map_err(|err| invalid_response("CheckpointToken", err))
        })
        .transpose()?;
    let new_execution_state = new_execution_state
        .map(|state| {
            Ok::<_, ServiceError>(wire::CheckpointUpdatedExecutionState {
                next_marker: state.next_marker,
                operations: operations(
                    state.operations.unwrap_or_default(),
                    "NewExecutionState.Operations",
                )?,
            })
        })
        .transpose()?;
    Ok(wire::CheckpointDurableExecutionResponse {
        checkpoint_token,
        new_execution_state,
    })
}

/// A `GetDurableExecutionState` response.
pub(super) fn state_response(
    ops: Vec<aws::Operation>,
    next_marker: Option<String>,
) -> Result<wire::GetDurableExecutionStateResponse, ServiceError> {
    Ok(wire::GetDurableExecutionStateResponse {
        next_marker,
        operations: operations(ops, "Operations")?,
    })
}

fn operations(ops: Vec<aws::Operation>, list: &str) -> Result<Vec<wire::Operation>, ServiceError> {
    ops.into_iter()
        .enumerate()
        .map(|(index, op)| operation(op, At { list, index }))
        .collect()
}

fn operation(op: aws::Operation, at: At<'_>) -> Result<wire::Operation, ServiceError> {
    // The SDK fills a missing (required) `StartTimestamp` with the epoch; no real operation
    // started then, so read it as absent rather than as 1970.
    let start_timestamp = (op.start_timestamp != DateTime::from_secs(0))
        .then(|| timestamp(op.start_timestamp, || format!("{at}.StartTimestamp")))
        .transpose()?;
    Ok(wire::Operation {
        id: parse(op.id, || format!("{at}.Id"))?,
        parent_id: op
            .parent_id
            .map(|id| parse(id, || format!("{at}.ParentId")))
            .transpose()?,
        name: op
            .name
            .map(|name| parse(name, || format!("{at}.Name")))
            .transpose()?,
        type_: from_aws_type(&op.r#type),
        sub_type: op
            .sub_type
            .map(|sub_type| parse(sub_type, || format!("{at}.SubType")))
            .transpose()?,
        start_timestamp,
        end_timestamp: op
            .end_timestamp
            .map(|ts| timestamp(ts, || format!("{at}.EndTimestamp")))
            .transpose()?,
        status: from_aws_status(&op.status),
        execution_details: op.execution_details.map(|details| wire::ExecutionDetails {
            input_payload: details.input_payload,
        }),
        context_details: op.context_details.map(|details| wire::ContextDetails {
            error: details.error.map(from_aws_error),
            replay_children: details.replay_children,
            result: details.result,
        }),
        step_details: op
            .step_details
            .map(|details| {
                Ok::<_, ServiceError>(wire::StepDetails {
                    // The SDK reads a missing `Attempt` as 0, which is what absent means.
                    attempt: Some(i64::from(details.attempt)),
                    error: details.error.map(from_aws_error),
                    next_attempt_timestamp: details
                        .next_attempt_timestamp
                        .map(|ts| {
                            timestamp(ts, || format!("{at}.StepDetails.NextAttemptTimestamp"))
                        })
                        .transpose()?,
                    result: details.result,
                })
            })
            .transpose()?,
        wait_details: op
            .wait_details
            .map(|details| {
                Ok::<_, ServiceError>(wire::WaitDetails {
                    scheduled_end_timestamp: details
                        .scheduled_end_timestamp
                        .map(|ts| {
                            timestamp(ts, || format!("{at}.WaitDetails.ScheduledEndTimestamp"))
                        })
                        .transpose()?,
                })
            })
            .transpose()?,
        callback_details: op
            .callback_details
            .map(|details| {
                Ok::<_, ServiceError>(wire::CallbackDetails {
                    callback_id: details
                        .callback_id
                        .map(|id| parse(id, || format!("{at}.CallbackDetails.CallbackId")))
                        .transpose()?,
                    error: details.error.map(from_aws_error),
                    result: details.result,
                })
            })
            .transpose()?,
        chained_invoke_details: op.chained_invoke_details.map(|details| {
            wire::ChainedInvokeDetails {
                error: details.error.map(from_aws_error),
                result: details.result,
            }
        }),
    })
}

/// A schema-checked string newtype (`OperationId`, `OperationName`, ...). The message names
/// the field and the rule that failed, not the value.
fn parse<T>(value: String, field: impl FnOnce() -> String) -> Result<T, ServiceError>
where
    T: TryFrom<String>,
    T::Error: fmt::Display,
{
    T::try_from(value).map_err(|err| invalid_response(field(), err))
}

/// Milliseconds since the epoch, rounded to the nearest millisecond.
///
/// The SDK parses epoch seconds through an `f64`, so `1767225601.123` arrives as
/// `1767225601` s + `122999906` ns; `DateTime::to_millis` would truncate that to `.122`.
pub(super) fn epoch_millis(ts: DateTime) -> Option<i64> {
    let millis = (ts.subsec_nanos() + 500_000) / 1_000_000;
    ts.secs().checked_mul(1000)?.checked_add(i64::from(millis))
}

fn timestamp(
    ts: DateTime,
    field: impl FnOnce() -> String,
) -> Result<wire::Timestamp, ServiceError> {
    epoch_millis(ts)
        .map(wire::Timestamp::from_epoch_millis)
        .ok_or_else(|| invalid_response(field(), "timestamp out of range"))
}

/// The wire value of an operation type; one that this SDK version does not list is kept as
/// [`wire::OperationType::Unknown`].
fn from_aws_type(value: &aws::OperationType) -> wire::OperationType {
    wire::OperationType::from(value.as_str())
}

/// The wire value of an operation status; one that this SDK version does not list is kept
/// as [`wire::OperationStatus::Unknown`].
fn from_aws_status(value: &aws::OperationStatus) -> wire::OperationStatus {
    wire::OperationStatus::from(value.as_str())
}

fn from_aws_error(error: aws::ErrorObject) -> wire::ErrorObject {
    wire::ErrorObject {
        error_data: error.error_data,
        error_message: error.error_message,
        error_type: error.error_type,
        stack_trace: error.stack_trace.unwrap_or_default(),
    }
}
