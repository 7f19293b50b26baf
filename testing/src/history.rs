//! History events, kept compact while an execution runs and turned into wire [`Event`]s
//! only when someone reads them.
//!
//! A wire `Event` is about 2 KiB (one optional member per event type), so the service
//! keeps a small record per event instead: the event type, its time, the index of its
//! operation (whose identity never changes) and only the details that cannot be read
//! later from the operation itself. Details of an event that put an operation in a
//! terminal status (a step's result, a context's error, ...) are read from the operation,
//! which never changes again.

use crate::with;
use std::num::NonZeroU64;

use super::execution::{Execution, InvocationRecord};
use lambda_durable::wire::{
    CallbackFailedDetails, CallbackStartedDetails, CallbackSucceededDetails,
    CallbackTimedOutDetails, ChainedInvokeFailedDetails, ChainedInvokeStartedDetails,
    ChainedInvokeStoppedDetails, ChainedInvokeSucceededDetails, ChainedInvokeTimedOutDetails,
    ContextFailedDetails, ContextStartedDetails, ContextSucceededDetails, DurableExecutionArn,
    ErrorObject, Event, EventError, EventInput, EventResult, EventType, ExecutionFailedDetails,
    ExecutionStartedDetails, ExecutionStoppedDetails, ExecutionSucceededDetails,
    ExecutionTimedOutDetails, InvocationCompletedDetails, Operation, RetryDetails,
    StepFailedDetails, StepStartedDetails, StepSucceededDetails, Timestamp, WaitCancelledDetails,
    WaitStartedDetails, WaitSucceededDetails,
};

/// One history event as the service records it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EventRecord {
    pub(crate) event_type: EventType,
    /// Epoch milliseconds on the virtual clock.
    pub(crate) at: i64,
    /// The index of the operation the event is about.
    pub(crate) op: Option<usize>,
    pub(crate) details: Details,
}

/// What an event carries beyond what its operation holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Details {
    /// Everything comes from the operation (or the execution, or nothing).
    FromOperation,
    /// A step RETRY: the attempt's outcome and the delay before the next one.
    Retry(Box<RetryRecord>),
    /// A wait started.
    WaitStarted { seconds: i64, until: i64 },
    /// A wait was cancelled with this error.
    WaitCancelled(Option<Box<ErrorObject>>),
    /// A callback started with these timeouts (0 or absent means none).
    CallbackStarted {
        timeout: Option<i64>,
        heartbeat: Option<i64>,
    },
    /// A chained invoke started.
    InvokeStarted(Box<InvokeRecord>),
    /// The invocation with this index in the execution's invocation list ended.
    InvocationCompleted(usize),
}

/// See [`Details::Retry`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RetryRecord {
    pub(crate) attempt: i64,
    pub(crate) delay_seconds: i64,
    pub(crate) result: Option<String>,
    pub(crate) error: Option<ErrorObject>,
}

/// See [`Details::InvokeStarted`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InvokeRecord {
    pub(crate) function_name: Option<String>,
    pub(crate) tenant_id: Option<String>,
    pub(crate) payload: Option<String>,
}

fn result(payload: Option<&String>) -> Option<EventResult> {
    Some(with(EventResult::default(), |it| {
        it.payload = payload.cloned();
        it.truncated = Some(false);
    }))
}

fn error(error: Option<&ErrorObject>) -> Option<EventError> {
    Some(with(EventError::default(), |it| {
        it.payload = error.cloned();
        it.truncated = Some(false);
    }))
}

fn blank(event_id: NonZeroU64, event_type: EventType, at: i64, op: Option<&Operation>) -> Event {
    with(Event::new(event_id, event_type), |it| {
        it.event_timestamp = Some(Timestamp::from_epoch_millis(at));
        it.id = op.map(|op| op.id.clone());
        it.name = op.and_then(|op| op.name.clone());
        it.parent_id = op.and_then(|op| op.parent_id.clone());
        it.sub_type = op.and_then(|op| op.sub_type.clone());
    })
}

/// The wire events of an execution.
pub(crate) fn materialize(execution: &Execution) -> Vec<Event> {
    execution
        .events
        .iter()
        .enumerate()
        .map(|(index, record)| {
            let event_id = NonZeroU64::new(index as u64 + 1).unwrap_or(NonZeroU64::MIN);
            let op = record.op.and_then(|op| execution.operations().get(op));
            let mut event = blank(event_id, record.event_type, record.at, op);
            fill(&mut event, record, op, execution);
            event
        })
        .collect()
}

fn fill(event: &mut Event, record: &EventRecord, op: Option<&Operation>, execution: &Execution) {
    let step = op.and_then(|op| op.step_details.as_ref());
    let context = op.and_then(|op| op.context_details.as_ref());
    let callback = op.and_then(|op| op.callback_details.as_ref());
    let invoke = op.and_then(|op| op.chained_invoke_details.as_ref());
    let callback_error = || error(callback.and_then(|details| details.error.as_ref()));
    let invoke_error = || error(invoke.and_then(|details| details.error.as_ref()));
    match (record.event_type, &record.details) {
        (EventType::ExecutionStarted, _) => {
            event.execution_started_details =
                Some(with(ExecutionStartedDetails::default(), |it| {
                    it.execution_timeout = execution.execution_timeout;
                    it.input = Some(with(EventInput::default(), |it| {
                        it.payload = Some(execution.input.clone());
                        it.truncated = Some(false);
                    }));
                }));
        }
        (EventType::ExecutionSucceeded, _) => {
            event.execution_succeeded_details =
                Some(with(ExecutionSucceededDetails::default(), |it| {
                    it.result = result(execution.result.as_ref());
                }));
        }
        (EventType::ExecutionFailed, _) => {
            event.execution_failed_details = Some(with(ExecutionFailedDetails::default(), |it| {
                it.error = error(execution.error.as_ref());
            }));
        }
        (EventType::ExecutionTimedOut, _) => {
            event.execution_timed_out_details =
                Some(with(ExecutionTimedOutDetails::default(), |it| {
                    it.error = error(execution.error.as_ref());
                }));
        }
        (EventType::ExecutionStopped, _) => {
            event.execution_stopped_details =
                Some(with(ExecutionStoppedDetails::default(), |it| {
                    it.error = error(execution.error.as_ref());
                }));
        }
        (EventType::StepStarted, _) => {
            event.step_started_details = Some(StepStartedDetails(serde_json::Map::new()));
        }
        (EventType::StepSucceeded, Details::Retry(retry)) => {
            // A wait-for-condition check that keeps its state and polls again.
            event.step_succeeded_details = Some(with(StepSucceededDetails::default(), |it| {
                it.result = result(retry.result.as_ref());
                it.retry_details = Some(with(RetryDetails::default(), |it| {
                    it.current_attempt = None;
                    it.next_attempt_delay_seconds = Some(retry.delay_seconds);
                }));
            }));
        }
        (EventType::StepFailed, Details::Retry(retry)) => {
            event.step_failed_details = Some(with(StepFailedDetails::default(), |it| {
                it.error = error(retry.error.as_ref());
                it.retry_details = Some(with(RetryDetails::default(), |it| {
                    it.current_attempt = Some(retry.attempt);
                    it.next_attempt_delay_seconds = Some(retry.delay_seconds);
                }));
            }));
        }
        (EventType::StepSucceeded, _) => {
            event.step_succeeded_details = Some(with(StepSucceededDetails::default(), |it| {
                it.result = result(step.and_then(|step| step.result.as_ref()));
                it.retry_details = Some(with(RetryDetails::default(), |it| {
                    it.current_attempt = step.and_then(|step| step.attempt);
                    it.next_attempt_delay_seconds = None;
                }));
            }));
        }
        (EventType::StepFailed, _) => {
            event.step_failed_details = Some(with(StepFailedDetails::default(), |it| {
                it.error = error(step.and_then(|step| step.error.as_ref()));
                it.retry_details = Some(with(RetryDetails::default(), |it| {
                    it.current_attempt = step.and_then(|step| step.attempt);
                    it.next_attempt_delay_seconds = None;
                }));
            }));
        }
        (EventType::WaitStarted, Details::WaitStarted { seconds, until }) => {
            event.wait_started_details = Some(with(WaitStartedDetails::default(), |it| {
                it.duration = Some(*seconds);
                it.scheduled_end_timestamp = Some(Timestamp::from_epoch_millis(*until));
            }));
        }
        (EventType::WaitSucceeded, _) => {
            let duration = op.and_then(|op| {
                let end = op.wait_details.as_ref()?.scheduled_end_timestamp.as_ref()?;
                let start = op.start_timestamp.as_ref()?;
                Some((end.epoch_millis() - start.epoch_millis()) / 1000)
            });
            event.wait_succeeded_details = Some(with(WaitSucceededDetails::default(), |it| {
                it.duration = duration;
            }));
        }
        (EventType::WaitCancelled, Details::WaitCancelled(cause)) => {
            event.wait_cancelled_details = Some(with(WaitCancelledDetails::default(), |it| {
                it.error = error(cause.as_deref());
            }));
        }
        (EventType::CallbackStarted, Details::CallbackStarted { timeout, heartbeat }) => {
            event.callback_started_details = Some(with(CallbackStartedDetails::default(), |it| {
                it.callback_id = op
                    .and_then(|op| op.callback_details.as_ref())
                    .and_then(|details| details.callback_id.clone());
                it.heartbeat_timeout = *heartbeat;
                it.timeout = *timeout;
            }));
        }
        (EventType::CallbackSucceeded, _) => {
            event.callback_succeeded_details =
                Some(with(CallbackSucceededDetails::default(), |it| {
                    it.result = result(callback.and_then(|details| details.result.as_ref()));
                }));
        }
        (EventType::CallbackFailed, _) => {
            event.callback_failed_details = Some(with(CallbackFailedDetails::default(), |it| {
                it.error = callback_error();
            }));
        }
        (EventType::CallbackTimedOut, _) => {
            event.callback_timed_out_details =
                Some(with(CallbackTimedOutDetails::default(), |it| {
                    it.error = callback_error();
                }));
        }
        (EventType::ChainedInvokeStarted, Details::InvokeStarted(started)) => {
            // The execution started for a durable target (none for a plain function).
            let child = record
                .op
                .and_then(|index| execution.ops.get(index))
                .and_then(|op| op.invoke())
                .and_then(|invoke| invoke.child_arn.as_deref())
                .and_then(|arn| DurableExecutionArn::try_from(arn).ok());
            event.chained_invoke_started_details =
                Some(with(ChainedInvokeStartedDetails::default(), |it| {
                    it.durable_execution_arn = child;
                    it.function_name = started.function_name.clone();
                    it.input = Some(with(EventInput::default(), |it| {
                        it.payload = started.payload.clone();
                        it.truncated = Some(false);
                    }));
                    it.tenant_id = started.tenant_id.clone();
                }));
        }
        (EventType::ChainedInvokeSucceeded, _) => {
            event.chained_invoke_succeeded_details =
                Some(with(ChainedInvokeSucceededDetails::default(), |it| {
                    it.result = result(invoke.and_then(|details| details.result.as_ref()));
                }));
        }
        (EventType::ChainedInvokeFailed, _) => {
            event.chained_invoke_failed_details =
                Some(with(ChainedInvokeFailedDetails::default(), |it| {
                    it.error = invoke_error();
                }));
        }
        (EventType::ChainedInvokeTimedOut, _) => {
            event.chained_invoke_timed_out_details =
                Some(with(ChainedInvokeTimedOutDetails::default(), |it| {
                    it.error = invoke_error();
                }));
        }
        (EventType::ChainedInvokeStopped, _) => {
            event.chained_invoke_stopped_details =
                Some(with(ChainedInvokeStoppedDetails::default(), |it| {
                    it.error = invoke_error();
                }));
        }
        (EventType::ContextStarted, _) => {
            event.context_started_details = Some(ContextStartedDetails(serde_json::Map::new()));
        }
        (EventType::ContextSucceeded, _) => {
            event.context_succeeded_details =
                Some(with(ContextSucceededDetails::default(), |it| {
                    it.result = result(context.and_then(|context| context.result.as_ref()));
                }));
        }
        (EventType::ContextFailed, _) => {
            event.context_failed_details = Some(with(ContextFailedDetails::default(), |it| {
                it.error = error(context.and_then(|context| context.error.as_ref()));
            }));
        }
        (EventType::InvocationCompleted, Details::InvocationCompleted(index)) => {
            if let Some(invocation) = execution.invocations.get(*index) {
                event.invocation_completed_details = Some(completed(invocation));
            }
        }
        _ => {}
    }
}

fn completed(invocation: &InvocationRecord) -> InvocationCompletedDetails {
    with(InvocationCompletedDetails::default(), |it| {
        it.end_timestamp = Some(Timestamp::from_epoch_millis(invocation.end_ms));
        it.error = invocation
            .error
            .as_ref()
            .and_then(|cause| error(Some(cause)));
        it.request_id = Some(invocation.request_id.clone());
        it.start_timestamp = Some(Timestamp::from_epoch_millis(invocation.start_ms));
    })
}
