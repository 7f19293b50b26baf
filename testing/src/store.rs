//! How the service keeps an operation: a compact form of the wire [`Operation`] (which is
//! about 800 bytes, one inline optional member per operation type), turned into the wire
//! form when it is sent or read.

use crate::with;
use lambda_durable::wire::{
    CallbackDetails, CallbackId, ChainedInvokeDetails, ContextDetails, ErrorObject,
    ExecutionDetails, Operation, OperationId, OperationName, OperationStatus, OperationSubType,
    OperationType, StepDetails, Timestamp, WaitDetails,
};

/// One operation of an execution.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredOp {
    pub(crate) id: OperationId,
    pub(crate) name: Option<OperationName>,
    pub(crate) parent_id: Option<OperationId>,
    pub(crate) sub_type: Option<OperationSubType>,
    pub(crate) type_: OperationType,
    pub(crate) status: OperationStatus,
    pub(crate) start_ms: i64,
    pub(crate) end_ms: Option<i64>,
    pub(crate) details: OpDetails,
    /// Changed since the running invocation last saw it.
    pub(crate) dirty: bool,
}

/// The type-specific part of an operation.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum OpDetails {
    /// No details yet (a step's first START, a context or invoke that has not ended, the
    /// EXECUTION operation, whose input lives in the execution record).
    #[default]
    None,
    Step(StepState),
    Wait {
        scheduled_end_ms: i64,
    },
    Callback(Box<CallbackState>),
    Context(Box<ContextState>),
    Invoke(Box<InvokeState>),
}

/// `StepDetails`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct StepState {
    pub(crate) attempt: Option<i64>,
    pub(crate) next_attempt_ms: Option<i64>,
    pub(crate) result: Option<String>,
    pub(crate) error: Option<Box<ErrorObject>>,
}

/// `CallbackDetails`, and the service's timers of the callback.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CallbackState {
    pub(crate) callback_id: Option<CallbackId>,
    pub(crate) result: Option<String>,
    pub(crate) error: Option<ErrorObject>,
    /// When the callback times out (`TimeoutSeconds` after its start), if it has a timeout.
    pub(crate) timeout_ms: Option<i64>,
    /// `TimeoutSeconds`, for the timeout's message.
    pub(crate) timeout_seconds: Option<i64>,
    /// `HeartbeatTimeoutSeconds`, if the callback needs heartbeats.
    pub(crate) heartbeat_seconds: Option<i64>,
    /// When the callback times out for want of a heartbeat.
    pub(crate) heartbeat_due_ms: Option<i64>,
    /// A completion scheduled by a callback responder: when it arrives, and what it is.
    pub(crate) delivery: Option<(i64, Completion)>,
    /// A callback responder's heartbeats: when the next one arrives, how often they come,
    /// and when they stop (the next one is sent only if it is due before then).
    pub(crate) beats: Option<(i64, i64, i64)>,
}

/// How an external system completes a callback.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Completion {
    Success(String),
    Failure(ErrorObject),
}

/// `ChainedInvokeDetails`, and the execution the service started for a durable target.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct InvokeState {
    pub(crate) result: Option<String>,
    pub(crate) error: Option<ErrorObject>,
    pub(crate) child_arn: Option<String>,
}

/// `ContextDetails`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ContextState {
    pub(crate) result: Option<String>,
    pub(crate) error: Option<ErrorObject>,
    pub(crate) replay_children: Option<bool>,
}

fn ts(millis: i64) -> Timestamp {
    Timestamp::from_epoch_millis(millis)
}

impl StoredOp {
    /// The step details, if the operation has them.
    pub(crate) fn step(&self) -> Option<&StepState> {
        match &self.details {
            OpDetails::Step(step) => Some(step),
            _ => None,
        }
    }

    /// The callback details, if the operation has them.
    pub(crate) fn callback(&self) -> Option<&CallbackState> {
        match &self.details {
            OpDetails::Callback(callback) => Some(callback),
            _ => None,
        }
    }

    /// The chained-invoke details, if the operation has them.
    pub(crate) fn invoke(&self) -> Option<&InvokeState> {
        match &self.details {
            OpDetails::Invoke(invoke) => Some(invoke),
            _ => None,
        }
    }

    /// The runner's form of a wire operation: the inverse of [`to_wire`](Self::to_wire)
    /// (the service's own timers of a callback are not on the wire and stay unset).
    pub(crate) fn from_wire(op: &Operation) -> StoredOp {
        let details = if let Some(step) = &op.step_details {
            OpDetails::Step(StepState {
                attempt: step.attempt,
                next_attempt_ms: millis(step.next_attempt_timestamp.as_ref()),
                result: step.result.clone(),
                error: step.error.clone().map(Box::new),
            })
        } else if let Some(wait) = &op.wait_details {
            OpDetails::Wait {
                scheduled_end_ms: millis(wait.scheduled_end_timestamp.as_ref()).unwrap_or_default(),
            }
        } else if let Some(callback) = &op.callback_details {
            OpDetails::Callback(Box::new(CallbackState {
                callback_id: callback.callback_id.clone(),
                result: callback.result.clone(),
                error: callback.error.clone(),
                ..CallbackState::default()
            }))
        } else if let Some(context) = &op.context_details {
            OpDetails::Context(Box::new(ContextState {
                result: context.result.clone(),
                error: context.error.clone(),
                replay_children: context.replay_children,
            }))
        } else if let Some(invoke) = &op.chained_invoke_details {
            OpDetails::Invoke(Box::new(InvokeState {
                result: invoke.result.clone(),
                error: invoke.error.clone(),
                child_arn: None,
            }))
        } else {
            match op.type_ {
                OperationType::Step => OpDetails::Step(StepState::default()),
                OperationType::Context => OpDetails::Context(Box::default()),
                OperationType::ChainedInvoke => OpDetails::Invoke(Box::default()),
                OperationType::Callback => OpDetails::Callback(Box::default()),
                _ => OpDetails::None,
            }
        };
        StoredOp {
            id: op.id.clone(),
            name: op.name.clone(),
            parent_id: op.parent_id.clone(),
            sub_type: op.sub_type.clone(),
            type_: op.type_,
            status: op.status,
            start_ms: millis(op.start_timestamp.as_ref()).unwrap_or_default(),
            end_ms: millis(op.end_timestamp.as_ref()),
            details,
            dirty: false,
        }
    }

    /// The wire form. `input` is the execution's input, for the EXECUTION operation.
    pub(crate) fn to_wire(&self, input: &str) -> Operation {
        let mut op = with(
            Operation::new(self.id.clone(), self.status, self.type_),
            |it| {
                it.end_timestamp = self.end_ms.map(ts);
                it.name = self.name.clone();
                it.parent_id = self.parent_id.clone();
                it.start_timestamp = Some(ts(self.start_ms));
                it.sub_type = self.sub_type.clone();
            },
        );
        if self.type_ == OperationType::Execution {
            op.execution_details = Some(with(ExecutionDetails::default(), |it| {
                it.input_payload = Some(input.to_string());
            }));
        }
        match &self.details {
            OpDetails::None => {}
            OpDetails::Step(step) => {
                op.step_details = Some(with(StepDetails::default(), |it| {
                    it.attempt = step.attempt;
                    it.error = step.error.as_deref().cloned();
                    it.next_attempt_timestamp = step.next_attempt_ms.map(ts);
                    it.result = step.result.clone();
                }));
            }
            OpDetails::Wait { scheduled_end_ms } => {
                op.wait_details = Some(with(WaitDetails::default(), |it| {
                    it.scheduled_end_timestamp = Some(ts(*scheduled_end_ms));
                }));
            }
            OpDetails::Callback(callback) => {
                op.callback_details = Some(with(CallbackDetails::default(), |it| {
                    it.callback_id = callback.callback_id.clone();
                    it.error = callback.error.clone();
                    it.result = callback.result.clone();
                }));
            }
            OpDetails::Context(context) => {
                op.context_details = Some(with(ContextDetails::default(), |it| {
                    it.error = context.error.clone();
                    it.replay_children = context.replay_children;
                    it.result = context.result.clone();
                }));
            }
            OpDetails::Invoke(invoke) => {
                if invoke.result.is_some() || invoke.error.is_some() {
                    op.chained_invoke_details = Some(with(ChainedInvokeDetails::default(), |it| {
                        it.error = invoke.error.clone();
                        it.result = invoke.result.clone();
                    }));
                }
            }
        }
        op
    }
}

fn millis(timestamp: Option<&lambda_durable::wire::Timestamp>) -> Option<i64> {
    timestamp.map(lambda_durable::wire::Timestamp::epoch_millis)
}
