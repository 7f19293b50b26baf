//! [`JsonLogPlugin`]: every hook as one JSON line, for CloudWatch and log-based tooling.

use std::io::Write;
use std::sync::Mutex;
use std::time::SystemTime;

use serde_json::{Map, Value};

use super::{
    HookResult, InvocationEndInfo, InvocationStartInfo, OperationChangeInfo, OperationInfo, Plugin,
    UserFunctionEndInfo, UserFunctionStartInfo,
};
use crate::wire::OperationType;

/// Writes one JSON object per hook call, on one line, to standard output (or another
/// writer): structured lifecycle records that CloudWatch Logs Insights and log-based tools
/// can filter on.
///
/// Every record has `plugin` (the name given, `lambda-durable` by default), `hook` and
/// `durableExecutionArn` at the top level, then the hook's fields in camelCase: booleans
/// are JSON booleans, times ISO-8601 (UTC, milliseconds), and a field without a value is
/// left out rather than written as `null`. The hooks are named `invocation-start`,
/// `invocation-end`, `operation-start`, `operation-end`, `operation-change` (one record
/// per changed operation), `attempt-start` and `attempt-end` (steps and wait-for-condition
/// checks), `fn-start` and `fn-end` (child-context bodies), and `updated-on-invoke` (one
/// record per operation the service changed while the execution was suspended, after
/// `invocation-start`).
///
/// The lines go to the process's standard output as they are, which Lambda sends to
/// CloudWatch whatever the function's log format.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use lambda_durable::plugin::JsonLogPlugin;
/// use lambda_durable::Runtime;
///
/// // On Lambda: standard output.
/// let runtime = Runtime::builder().plugin(JsonLogPlugin::new()).build();
/// assert!(runtime.is_ok());
///
/// // In a test: any writer.
/// let lines = JsonLogPlugin::new().named("audit").with_writer(Vec::new());
/// # let _ = lines;
/// ```
pub struct JsonLogPlugin {
    name: String,
    out: Mutex<Box<dyn Write + Send>>,
    /// The execution of the invocation that started last (one runs at a time).
    arn: Mutex<Option<String>>,
}

impl std::fmt::Debug for JsonLogPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLogPlugin")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Default for JsonLogPlugin {
    fn default() -> Self {
        Self::new()
    }
}

impl JsonLogPlugin {
    /// Writes to standard output, as `lambda-durable`.
    pub fn new() -> Self {
        Self {
            name: "lambda-durable".to_string(),
            out: Mutex::new(Box::new(std::io::stdout())),
            arn: Mutex::new(None),
        }
    }

    /// The value of every record's `plugin` field.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Writes to `out` instead of standard output (each record is followed by a newline
    /// and a flush).
    pub fn with_writer(mut self, out: impl Write + Send + 'static) -> Self {
        self.out = Mutex::new(Box::new(out));
        self
    }

    fn arn(&self) -> Option<String> {
        self.arn.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn write(&self, hook: &str, arn: Option<String>, fields: Map<String, Value>) -> HookResult {
        let mut record = Map::new();
        record.insert("plugin".into(), Value::String(self.name.clone()));
        record.insert("hook".into(), Value::String(hook.to_string()));
        if let Some(arn) = arn {
            record.insert("durableExecutionArn".into(), Value::String(arn));
        }
        record.extend(fields);
        let mut line = serde_json::to_vec(&Value::Object(record))?;
        line.push(b'\n');
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        out.write_all(&line)?;
        out.flush()?;
        Ok(())
    }
}

/// `time` as ISO-8601 in UTC with milliseconds.
fn iso(time: SystemTime) -> Option<Value> {
    let time = time::OffsetDateTime::from(time);
    let time = time
        .replace_nanosecond(time.millisecond() as u32 * 1_000_000)
        .ok()?;
    time.format(&time::format_description::well_known::Rfc3339)
        .ok()
        .map(Value::String)
}

fn put(fields: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        fields.insert(key.to_string(), value);
    }
}

fn text(value: Option<&str>) -> Option<Value> {
    value.map(|value| Value::String(value.to_string()))
}

fn error_text(error: Option<&crate::wire::ErrorObject>) -> Option<Value> {
    let error = error?;
    text(
        error
            .error_message
            .as_deref()
            .or(error.error_type.as_deref()),
    )
}

/// The fields of an operation.
fn operation_fields(info: &OperationInfo) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("id".into(), Value::String(info.id.clone()));
    fields.insert(
        "type".into(),
        Value::String(info.operation_type.as_str().to_string()),
    );
    put(&mut fields, "subType", text(info.sub_type.as_deref()));
    put(&mut fields, "name", text(info.name.as_deref()));
    put(&mut fields, "parentId", text(info.parent_id.as_deref()));
    put(&mut fields, "startTimestamp", info.start_time.and_then(iso));
    put(&mut fields, "endTimestamp", info.end_time.and_then(iso));
    fields.insert(
        "status".into(),
        Value::String(info.status.as_str().to_string()),
    );
    put(&mut fields, "result", text(info.result.as_deref()));
    put(&mut fields, "error", error_text(info.error.as_ref()));
    put(&mut fields, "attempt", info.attempt.map(Value::from));
    fields.insert("isReplay".into(), Value::Bool(info.is_replay));
    fields
}

/// `attempt-…` for step-like operations, `fn-…` for context bodies.
fn function_hook(info: &OperationInfo, end: bool) -> &'static str {
    match (info.operation_type == OperationType::Context, end) {
        (true, false) => "fn-start",
        (true, true) => "fn-end",
        (false, false) => "attempt-start",
        (false, true) => "attempt-end",
    }
}

impl Plugin for JsonLogPlugin {
    fn on_invocation_start(&self, info: &InvocationStartInfo) -> HookResult {
        *self.arn.lock().unwrap_or_else(|p| p.into_inner()) = Some(info.execution_arn.clone());
        let arn = Some(info.execution_arn.clone());
        let mut fields = Map::new();
        put(&mut fields, "requestId", text(info.request_id.as_deref()));
        fields.insert(
            "isFirstInvocation".into(),
            Value::Bool(info.is_first_invocation),
        );
        put(
            &mut fields,
            "executionStartTimestamp",
            info.execution_start_time.and_then(iso),
        );
        fields.insert("operationsCount".into(), Value::from(info.operations.len()));
        fields.insert(
            "updatedOperationsCount".into(),
            Value::from(info.updated_operations.len()),
        );
        self.write("invocation-start", arn.clone(), fields)?;
        for op in &info.updated_operations {
            let mut fields = operation_fields(op);
            fields.insert(
                "isFirstInvocation".into(),
                Value::Bool(info.is_first_invocation),
            );
            self.write("updated-on-invoke", arn.clone(), fields)?;
        }
        Ok(())
    }

    fn on_invocation_end(&self, info: &InvocationEndInfo) -> HookResult {
        let mut fields = Map::new();
        put(&mut fields, "requestId", text(info.request_id.as_deref()));
        fields.insert(
            "isFirstInvocation".into(),
            Value::Bool(info.is_first_invocation),
        );
        put(
            &mut fields,
            "executionStartTimestamp",
            info.execution_start_time.and_then(iso),
        );
        fields.insert("operationsCount".into(), Value::from(info.operation_count));
        fields.insert("status".into(), Value::String(info.status.as_str().into()));
        fields.insert("terminal".into(), Value::Bool(info.status.is_terminal()));
        put(
            &mut fields,
            "executionError",
            error_text(info.error.as_ref()),
        );
        self.write("invocation-end", Some(info.execution_arn.clone()), fields)
    }

    fn on_operation_start(&self, info: &OperationInfo) -> HookResult {
        self.write("operation-start", self.arn(), operation_fields(info))
    }

    fn on_operation_end(&self, info: &OperationInfo) -> HookResult {
        self.write("operation-end", self.arn(), operation_fields(info))
    }

    fn on_operation_change(&self, info: &OperationChangeInfo) -> HookResult {
        let all = info.operations();
        for op in &info.updated_operations {
            let mut fields = operation_fields(op);
            fields.insert(
                "executionArn".into(),
                Value::String(info.execution_arn.clone()),
            );
            fields.insert(
                "updatedOperationsCount".into(),
                Value::from(info.updated_operations.len()),
            );
            fields.insert("operationsCount".into(), Value::from(info.operation_count));
            fields.insert(
                "inFullMap".into(),
                Value::Bool(all.iter().any(|known| known.id == op.id)),
            );
            self.write("operation-change", Some(info.execution_arn.clone()), fields)?;
        }
        Ok(())
    }

    fn on_user_function_start(&self, info: &UserFunctionStartInfo) -> HookResult {
        let mut fields = operation_fields(&info.operation);
        fields.remove("status");
        if info.operation.operation_type == OperationType::Context {
            fields.insert(
                "isReplayingChildren".into(),
                Value::Bool(info.is_replaying_children),
            );
        }
        self.write(function_hook(&info.operation, false), self.arn(), fields)
    }

    fn on_user_function_end(&self, info: &UserFunctionEndInfo) -> HookResult {
        let mut fields = operation_fields(&info.operation);
        fields.remove("status");
        fields.insert(
            "outcome".into(),
            Value::String(info.outcome.as_str().into()),
        );
        put(&mut fields, "error", error_text(info.error.as_ref()));
        if info.operation.operation_type == OperationType::Context {
            fields.insert(
                "isReplayingChildren".into(),
                Value::Bool(info.is_replaying_children),
            );
        }
        self.write(function_hook(&info.operation, true), self.arn(), fields)
    }
}
