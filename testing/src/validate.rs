//! The service's validation of checkpoint requests (PROTOCOL.md 5.1 to 5.3, and the
//! limits of 12 and 13), as pure functions: every rule is checked before anything is
//! applied, and the first violation rejects the whole request with the service's message.
//!
//! The limits are the SDK's own ([`lambda_durable::limits`]), so that the SDK's checks and the
//! runner's agree.

use std::collections::HashMap;

use super::store::StoredOp;
use lambda_durable::limits::{json_size, MAX_CALLBACK_SECONDS};
pub(crate) use lambda_durable::limits::{
    MAX_DELAY_SECONDS, MAX_ERROR_BYTES, MAX_EXECUTION_PAYLOAD_BYTES, MAX_OPERATION_PAYLOAD_BYTES,
    MAX_REQUEST_BYTES, MAX_UPDATES_PER_REQUEST,
};
use lambda_durable::wire::{
    CheckpointDurableExecutionRequest, OperationAction, OperationStatus, OperationType,
    OperationUpdate,
};

pub(crate) const MULTIPLE_EXECUTION_UPDATES: &str = "Cannot checkpoint multiple EXECUTION updates.";
pub(crate) const EXECUTION_NOT_LAST: &str = "EXECUTION checkpoint must be the last update.";
pub(crate) const DUPLICATE_ID: &str = "Cannot checkpoint multiple operations with the same ID.";
pub(crate) const INVALID_PARENT: &str = "Invalid parent operation id.";
pub(crate) const INCONSISTENT_TYPE: &str = "Inconsistent operation type.";
pub(crate) const INCONSISTENT_SUB_TYPE: &str = "Inconsistent operation subtype.";
pub(crate) const INCONSISTENT_NAME: &str = "Inconsistent operation name.";
pub(crate) const INCONSISTENT_PARENT: &str = "Inconsistent parent operation id.";
pub(crate) const INVALID_ACTION: &str = "Invalid action for the given operation type.";
pub(crate) const ERROR_ON_SUCCEED: &str = "Cannot provide an Error for SUCCEED action.";
pub(crate) const PAYLOAD_ON_FAIL: &str = "Cannot provide a Payload for FAIL action.";
pub(crate) const ERROR_AND_PAYLOAD_ON_RETRY: &str =
    "Cannot provide both an Error and a Payload for RETRY action.";
pub(crate) const INVALID_STEP_OPTIONS: &str = "Invalid StepOptions for the given action.";
pub(crate) const INVALID_WAIT_OPTIONS: &str = "Invalid WaitOptions for the given action.";
pub(crate) const INVALID_CALLBACK_OPTIONS: &str = "Invalid CallbackOptions for the given action.";
pub(crate) const INVALID_INVOKE_OPTIONS: &str =
    "Invalid ChainedInvokeOptions for the given action.";
pub(crate) const STEP_START_STATE: &str = "Invalid current STEP state to start.";
pub(crate) const STEP_CLOSE_STATE: &str = "Invalid current STEP state to close.";
pub(crate) const STEP_RETRY_STATE: &str = "Invalid current STEP state to re-attempt.";
pub(crate) const CONTEXT_CLOSE_STATE: &str = "Invalid current CONTEXT state to close.";
pub(crate) const ERROR_TOO_LARGE: &str = "Error object size must be less than 32768 bytes.";
pub(crate) const PAYLOAD_TOO_LARGE: &str =
    "Payload size must be at most 6291456 bytes for an EXECUTION update.";
pub(crate) const OPERATION_PAYLOAD_TOO_LARGE: &str =
    "Payload size must be at most 1048576 bytes for a STEP, CONTEXT, CHAINED_INVOKE, WAIT or CALLBACK update.";
pub(crate) const REQUEST_TOO_LARGE: &str =
    "Request size must be at most 768000 bytes when it carries more than one update.";
pub(crate) const TOO_MANY_UPDATES: &str = "Cannot checkpoint more than 250 updates in one request.";

/// Checks the size of a whole request (PROTOCOL.md 12 and 13): at most 250 updates, and at
/// most 750 KiB of JSON unless it carries a single update (which the SDKs send alone when
/// it is larger; its payload and error limits apply, see [`request`]).
pub(crate) fn request_size(
    request: &CheckpointDurableExecutionRequest,
    update_sizes: &[usize],
) -> Result<(), &'static str> {
    if request.updates.len() > MAX_UPDATES_PER_REQUEST {
        return Err(TOO_MANY_UPDATES);
    }
    if request.updates.len() > 1
        && lambda_durable::limits::request_size(request, update_sizes) > MAX_REQUEST_BYTES
    {
        return Err(REQUEST_TOO_LARGE);
    }
    Ok(())
}

/// What the request has said about one id so far.
struct Seen {
    ty: OperationType,
    action: OperationAction,
    count: usize,
    update: usize,
}

/// Checks a whole request against the stored operations (`lookup`). Returns the message of
/// the first violated rule.
pub(crate) fn request<'a>(
    updates: &[OperationUpdate],
    lookup: impl Fn(&str) -> Option<&'a StoredOp>,
) -> Result<(), &'static str> {
    // Rule 1: at most one EXECUTION update, and it comes last.
    let executions = updates
        .iter()
        .filter(|update| update.type_ == OperationType::Execution)
        .count();
    if executions > 1 {
        return Err(MULTIPLE_EXECUTION_UPDATES);
    }
    if executions == 1
        && updates.last().map(|update| update.type_) != Some(OperationType::Execution)
    {
        return Err(EXECUTION_NOT_LAST);
    }

    let mut seen: HashMap<&str, Seen> = HashMap::with_capacity(updates.len());
    for (position, update) in updates.iter().enumerate() {
        valid_action(update)?;
        let id = update.id.as_str();
        // Rule 2: an id appears twice only as a STEP/CONTEXT START followed by a non-START.
        if let Some(earlier) = seen.get_mut(id) {
            let allowed = earlier.count == 1
                && earlier.action == OperationAction::Start
                && matches!(earlier.ty, OperationType::Step | OperationType::Context)
                && update.action != OperationAction::Start;
            if !allowed {
                return Err(DUPLICATE_ID);
            }
            earlier.count += 1;
            if let Some(first) = updates.get(earlier.update) {
                consistent_with_update(first, update)?;
            }
        } else {
            seen.insert(
                id,
                Seen {
                    ty: update.type_,
                    action: update.action,
                    count: 1,
                    update: position,
                },
            );
        }
        // Rule 3: the parent is a stored CONTEXT or a CONTEXT started earlier in the request.
        if let Some(parent) = update.parent_id.as_deref() {
            let stored_context =
                lookup(parent).is_some_and(|op| op.type_ == OperationType::Context);
            let started_here = seen.get(parent.as_str()).is_some_and(|entry| {
                entry.ty == OperationType::Context
                    && entry.action == OperationAction::Start
                    && entry.update < position
            });
            if !stored_context && !started_here {
                return Err(INVALID_PARENT);
            }
        }
        // Rule 4: consistency with the stored operation.
        let stored = lookup(id);
        if let Some(op) = stored {
            consistent_with_stored(op, update)?;
        }
        // Rule 5: the action is valid for the type and the current state.
        state_rules(update, stored.map(|op| op.status))?;
        sizes(update)?;
    }
    Ok(())
}

fn valid_action(update: &OperationUpdate) -> Result<(), &'static str> {
    use OperationAction as A;
    let valid = match update.type_ {
        OperationType::Execution => matches!(update.action, A::Succeed | A::Fail),
        OperationType::Step => matches!(update.action, A::Start | A::Succeed | A::Fail | A::Retry),
        OperationType::Wait | OperationType::ChainedInvoke => {
            matches!(update.action, A::Start | A::Cancel)
        }
        // The stricter reading: the Python validator accepts only START for callbacks.
        OperationType::Callback => update.action == A::Start,
        OperationType::Context => matches!(update.action, A::Start | A::Succeed | A::Fail),
        _ => false,
    };
    if valid {
        Ok(())
    } else {
        Err(INVALID_ACTION)
    }
}

fn consistent_with_stored(op: &StoredOp, update: &OperationUpdate) -> Result<(), &'static str> {
    if op.type_ != update.type_ {
        return Err(INCONSISTENT_TYPE);
    }
    if update.sub_type.is_some() && update.sub_type != op.sub_type {
        return Err(INCONSISTENT_SUB_TYPE);
    }
    if update.name.is_some() && update.name != op.name {
        return Err(INCONSISTENT_NAME);
    }
    if update.parent_id.is_some() && update.parent_id != op.parent_id {
        return Err(INCONSISTENT_PARENT);
    }
    Ok(())
}

/// Two updates for the same id in one request must describe the same operation.
fn consistent_with_update(
    earlier: &OperationUpdate,
    update: &OperationUpdate,
) -> Result<(), &'static str> {
    if earlier.type_ != update.type_ {
        return Err(INCONSISTENT_TYPE);
    }
    if update.sub_type.is_some()
        && earlier.sub_type.is_some()
        && update.sub_type != earlier.sub_type
    {
        return Err(INCONSISTENT_SUB_TYPE);
    }
    if update.name.is_some() && earlier.name.is_some() && update.name != earlier.name {
        return Err(INCONSISTENT_NAME);
    }
    if update.parent_id != earlier.parent_id {
        return Err(INCONSISTENT_PARENT);
    }
    Ok(())
}

/// Per-type rules of PROTOCOL.md 5.2, with the stricter reading (the JS validator's
/// StepOptions and Payload/Error rules apply to operations that do not exist yet too).
fn state_rules(
    update: &OperationUpdate,
    status: Option<OperationStatus>,
) -> Result<(), &'static str> {
    use OperationAction as A;
    use OperationStatus as S;
    use OperationType as T;
    let ty = update.type_;
    match (ty, update.action) {
        (T::Execution | T::Context, A::Succeed) => no_error(update)?,
        (T::Execution | T::Context, A::Fail) => no_payload(update)?,
        _ => {}
    }
    match (ty, update.action) {
        (T::Step, A::Start) if !matches!(status, None | Some(S::Ready)) => Err(STEP_START_STATE),
        (T::Step, A::Succeed | A::Fail)
            if !matches!(status, None | Some(S::Started | S::Ready)) =>
        {
            Err(STEP_CLOSE_STATE)
        }
        (T::Step, A::Succeed) => no_error(update),
        (T::Step, A::Fail) => no_payload(update),
        (T::Step, A::Retry) if !matches!(status, None | Some(S::Started | S::Ready)) => {
            Err(STEP_RETRY_STATE)
        }
        (T::Step, A::Retry) => retry_rules(update),
        (T::Wait | T::Callback | T::ChainedInvoke | T::Context, A::Start) if status.is_some() => {
            Err(already_exists(ty))
        }
        (T::Wait, A::Start) => wait_options(update),
        (T::Callback, A::Start) => callback_options(update),
        (T::ChainedInvoke, A::Start) => invoke_options(update),
        (T::Wait, A::Cancel) if status != Some(S::Started) => {
            Err("Cannot cancel a WAIT that does not exist or has already completed.")
        }
        (T::ChainedInvoke, A::Cancel) if status != Some(S::Started) => {
            Err("Cannot cancel a CHAINED_INVOKE that does not exist or has already completed.")
        }
        (T::Context, A::Succeed | A::Fail) if !matches!(status, None | Some(S::Started)) => {
            Err(CONTEXT_CLOSE_STATE)
        }
        // Everything else is valid, or was refused by `valid_action`.
        _ => Ok(()),
    }
}

fn retry_rules(update: &OperationUpdate) -> Result<(), &'static str> {
    let delay = update
        .step_options
        .as_ref()
        .and_then(|options| options.next_attempt_delay_seconds);
    if delay.is_none_or(|delay| delay.get() > MAX_DELAY_SECONDS) {
        return Err(INVALID_STEP_OPTIONS);
    }
    if update.error.is_some() && update.payload.is_some() {
        return Err(ERROR_AND_PAYLOAD_ON_RETRY);
    }
    Ok(())
}

fn wait_options(update: &OperationUpdate) -> Result<(), &'static str> {
    let seconds = update
        .wait_options
        .as_ref()
        .and_then(|options| options.wait_seconds);
    if seconds.is_none_or(|seconds| seconds.get() > MAX_DELAY_SECONDS) {
        return Err(INVALID_WAIT_OPTIONS);
    }
    Ok(())
}

fn callback_options(update: &OperationUpdate) -> Result<(), &'static str> {
    let Some(options) = &update.callback_options else {
        return Ok(());
    };
    let in_range = |value: Option<i64>| {
        value.is_none_or(|value| {
            u64::try_from(value).is_ok_and(|value| value <= MAX_CALLBACK_SECONDS)
        })
    };
    if in_range(options.timeout_seconds) && in_range(options.heartbeat_timeout_seconds) {
        Ok(())
    } else {
        Err(INVALID_CALLBACK_OPTIONS)
    }
}

fn invoke_options(update: &OperationUpdate) -> Result<(), &'static str> {
    let Some(options) = &update.chained_invoke_options else {
        return Err(INVALID_INVOKE_OPTIONS);
    };
    let name_ok = (1..=256).contains(&options.function_name.chars().count());
    let tenant_ok = options
        .tenant_id
        .as_ref()
        .is_none_or(|tenant| (1..=256).contains(&tenant.chars().count()));
    let trace_ok = options
        .x_amzn_trace_id
        .as_ref()
        .is_none_or(|trace| trace.chars().count() <= 8192);
    if name_ok && tenant_ok && trace_ok {
        Ok(())
    } else {
        Err(INVALID_INVOKE_OPTIONS)
    }
}

fn already_exists(ty: OperationType) -> &'static str {
    match ty {
        OperationType::Wait => "Cannot start a WAIT that already exists.",
        OperationType::Callback => "Cannot start a CALLBACK that already exists.",
        OperationType::ChainedInvoke => "Cannot start a CHAINED_INVOKE that already exists.",
        _ => "Cannot start a CONTEXT that already exists.",
    }
}

fn no_error(update: &OperationUpdate) -> Result<(), &'static str> {
    match update.error {
        Some(_) => Err(ERROR_ON_SUCCEED),
        None => Ok(()),
    }
}

fn no_payload(update: &OperationUpdate) -> Result<(), &'static str> {
    match update.payload {
        Some(_) => Err(PAYLOAD_ON_FAIL),
        None => Ok(()),
    }
}

/// The payload and error limits of one update, in bytes (the model counts the payload in
/// characters; the SDK and the runner use the stricter byte count).
fn sizes(update: &OperationUpdate) -> Result<(), &'static str> {
    if let Some(payload) = &update.payload {
        let (limit, message) = match update.type_ {
            OperationType::Execution => (MAX_EXECUTION_PAYLOAD_BYTES, PAYLOAD_TOO_LARGE),
            _ => (MAX_OPERATION_PAYLOAD_BYTES, OPERATION_PAYLOAD_TOO_LARGE),
        };
        if payload.len() > limit {
            return Err(message);
        }
    }
    if let Some(error) = &update.error {
        if json_size(error) > MAX_ERROR_BYTES {
            return Err(ERROR_TOO_LARGE);
        }
    }
    Ok(())
}
