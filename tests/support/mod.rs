//! What the tests of the runtime's settings share: a `tracing` layer that captures the
//! records of the SDK's loggers, and an in-memory durable-execution service.
#![allow(
    dead_code,
    unreachable_pub,
    reason = "each test binary uses part of the support module"
)]
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use lambda_durable::service::{BoxFuture, DurableService};
use lambda_durable::wire::{
    CheckpointDurableExecutionRequest, CheckpointDurableExecutionResponse,
    CheckpointUpdatedExecutionState, GetDurableExecutionStateRequest,
    GetDurableExecutionStateResponse, Operation, OperationAction, OperationUpdate,
};
use lambda_durable::ServiceError;
use serde_json::{json, Value};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// One event as a subscriber saw it.
#[derive(Debug, Clone)]
pub struct Record {
    pub target: String,
    pub level: tracing::Level,
    pub message: String,
    /// Every other field, formatted with `Debug` (strings without quotes).
    pub fields: BTreeMap<String, String>,
}

impl Record {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

/// Captures every event of the target `lambda_durable::user` (the SDK's loggers).
#[derive(Clone, Default)]
pub struct Capture {
    records: Arc<Mutex<Vec<Record>>>,
}

impl Capture {
    /// Captures the events of this thread until the guard is dropped (tests run on a
    /// current-thread runtime, so tasks they spawn log on this thread too).
    pub fn on_this_thread() -> (Self, tracing::subscriber::DefaultGuard) {
        let capture = Self::default();
        let subscriber = tracing_subscriber::registry().with(capture.clone());
        let guard = tracing::subscriber::set_default(subscriber);
        (capture, guard)
    }

    /// The records captured so far.
    pub fn records(&self) -> Vec<Record> {
        self.records.lock().unwrap().clone()
    }

    /// The messages captured so far, in order.
    pub fn messages(&self) -> Vec<String> {
        self.records().into_iter().map(|r| r.message).collect()
    }

    /// The one record whose message is `message`.
    pub fn only(&self, message: &str) -> Record {
        let found: Vec<Record> = self
            .records()
            .into_iter()
            .filter(|r| r.message == message)
            .collect();
        assert_eq!(found.len(), 1, "{message:?} in {:?}", self.messages());
        found.into_iter().next().unwrap()
    }
}

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let metadata = event.metadata();
        if metadata.target() != "lambda_durable::user" {
            return;
        }
        let mut visitor = Fields::default();
        event.record(&mut visitor);
        self.records.lock().unwrap().push(Record {
            target: metadata.target().to_owned(),
            level: *metadata.level(),
            message: visitor.message,
            fields: visitor.fields,
        });
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    fields: BTreeMap<String, String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.fields
            .insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields.insert(field.name().to_owned(), text);
        }
    }
}

/// An in-memory durable-execution service: accepts every checkpoint and answers with the
/// status each update's action implies; serves `page` as the one page of state.
#[derive(Default)]
pub struct Echo {
    /// The updates of each checkpoint call, in order.
    pub calls: Mutex<Vec<Vec<OperationUpdate>>>,
    /// The operations (JSON) of every `GetDurableExecutionState` page.
    pub page: Vec<Value>,
    /// How many state pages were asked for.
    pub state_calls: Mutex<u32>,
}

impl DurableService for Echo {
    fn checkpoint<'a>(
        &'a self,
        _arn: &'a str,
        request: &'a CheckpointDurableExecutionRequest,
    ) -> BoxFuture<'a, Result<CheckpointDurableExecutionResponse, ServiceError>> {
        Box::pin(async move {
            let operations: Vec<Operation> = request
                .updates
                .iter()
                .map(|update| {
                    let status = match update.action {
                        OperationAction::Succeed => "SUCCEEDED",
                        OperationAction::Fail => "FAILED",
                        OperationAction::Retry => "PENDING",
                        _ => "STARTED",
                    };
                    serde_json::from_value(json!({
                        "Id": update.id.as_str(), "Type": update.type_, "Status": status,
                        "SubType": update.sub_type, "Name": update.name,
                    }))
                    .unwrap()
                })
                .collect();
            let mut calls = self.calls.lock().unwrap();
            calls.push(request.updates.clone());
            let mut state = CheckpointUpdatedExecutionState::default();
            state.operations = operations;
            let mut response = CheckpointDurableExecutionResponse::default();
            response.checkpoint_token = Some(format!("token-{}", calls.len()).try_into().unwrap());
            response.new_execution_state = Some(state);
            Ok(response)
        })
    }

    fn get_state<'a>(
        &'a self,
        _arn: &'a str,
        _request: &'a GetDurableExecutionStateRequest,
    ) -> BoxFuture<'a, Result<GetDurableExecutionStateResponse, ServiceError>> {
        Box::pin(async move {
            *self.state_calls.lock().unwrap() += 1;
            Ok(GetDurableExecutionStateResponse::new(
                self.page
                    .iter()
                    .map(|op| serde_json::from_value(op.clone()).unwrap())
                    .collect(),
            ))
        })
    }
}

/// The ARN of the executions of these tests.
pub const ARN: &str =
    "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST/durable-execution/run-1/4f1c";

/// The EXECUTION operation of an execution started with `input`.
pub fn execution_operation(input: &Value) -> Value {
    json!({
        "Id": "4f1c", "Type": "EXECUTION", "Status": "STARTED",
        "StartTimestamp": 1_767_225_600,
        "ExecutionDetails": {"InputPayload": input.to_string()}
    })
}

/// An invocation envelope holding `operations`.
pub fn envelope(operations: &[Value]) -> Value {
    json!({
        "DurableExecutionArn": ARN,
        "CheckpointToken": "token-0",
        "InitialExecutionState": {"Operations": operations}
    })
}

/// The operation id of the operation at the logical `path` (`"1"`, `"2-1"`): the SHA-256
/// of the path, in hex.
pub fn operation_id(path: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(path.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A runtime-wide format for the default-serdes tests: JSON behind a `v1:` tag.
pub struct TaggedJson;

impl lambda_durable::serdes::ValueSerdes for TaggedJson {
    fn encode(&self, value: Value) -> Result<String, lambda_durable::serdes::SerdesError> {
        Ok(format!("v1:{value}"))
    }

    fn decode(&self, data: &str) -> Result<Value, lambda_durable::serdes::SerdesError> {
        let json = data
            .strip_prefix("v1:")
            .ok_or_else(|| lambda_durable::serdes::SerdesError::new(format!("untagged: {data}")))?;
        serde_json::from_str(json).map_err(lambda_durable::serdes::SerdesError::caused_by)
    }
}
