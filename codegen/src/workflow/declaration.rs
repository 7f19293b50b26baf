//! The declaration types: what a workflow file may say. The meta-schema
//! `schema/workflow.schema.json` is derived from these types ([`meta_schema`]), and a file is
//! read by deserializing into them, so the schema and the reader cannot drift apart.

use std::collections::BTreeMap;

use schemars::gen::SchemaGenerator;
use schemars::schema::{InstanceType, Metadata, Schema, SchemaObject, SingleOrVec};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// A workflow declaration: one JSON file declaring a workflow's types and durable operations.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "lambda-durable workflow declaration")]
pub struct Declaration {
    /// The meta-schema this file follows (ignored; lets editors validate and complete).
    #[serde(rename = "$schema", default)]
    pub schema: Option<String>,
    /// The workflow's name (documentation, and the `NAME` constant of the generated module).
    #[schemars(length(min = 1))]
    pub name: String,
    /// What the workflow does; becomes the documentation of the generated `Workflow`.
    #[serde(default)]
    pub description: Option<String>,
    /// The Lambda function this workflow is deployed as (name or ARN, with a version or
    /// alias qualifier). An `invoke` of this declaration (`workflow`) calls it unless it
    /// names a function itself, and the local runner registers the workflow's handler
    /// under it (`LocalRunner::register_workflow`).
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub function: Option<String>,
    /// JSON Schema of the event that starts an execution (the generated `Input` type).
    #[schemars(schema_with = "json_schema")]
    pub input: Value,
    /// JSON Schema of the execution's result (the generated `Output` type).
    #[schemars(schema_with = "json_schema")]
    pub output: Value,
    /// Shared types, referenced from any schema of this file as `{"$ref": "#/definitions/Name"}`.
    /// Each becomes a Rust type named after its key.
    #[serde(default)]
    #[schemars(schema_with = "json_schema_map")]
    pub definitions: BTreeMap<String, Value>,
    /// The durable operations, each a method of the generated `Workflow`.
    pub operations: Vec<Operation>,
    /// The declarations this one refers to (`$ref`s into other files), read and checked
    /// when the declaration is loaded.
    #[serde(skip)]
    #[schemars(skip)]
    pub(crate) linked: super::contracts::Linked,
}

impl Declaration {
    /// Every JSON Schema of the declaration with its JSON pointer: the input, the output,
    /// the definitions and each operation's schemas.
    pub(crate) fn all_schemas(&self) -> Vec<(String, &Value)> {
        let mut schemas: Vec<(String, &Value)> = vec![
            ("/input".to_string(), &self.input),
            ("/output".to_string(), &self.output),
        ];
        for (key, schema) in &self.definitions {
            schemas.push((
                format!("/definitions/{}", super::parse::escape_pointer(key)),
                schema,
            ));
        }
        for (index, op) in self.operations.iter().enumerate() {
            for (field, schema) in op.schemas() {
                schemas.push((format!("/operations/{index}/{field}"), schema));
            }
        }
        schemas
    }
}

/// One durable operation. The `kind` decides the method's shape.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Operation {
    /// A step: runs a function once and checkpoints its result (`DurableContext::step`).
    Step(StepOperation),
    /// A durable timer (`DurableContext::wait`).
    Wait(WaitOperation),
    /// A callback completed from outside the function (`create_callback`, or
    /// `wait_for_callback` when it has a `submitter`).
    Callback(CallbackOperation),
    /// A chained invoke of another durable function (`DurableContext::invoke`).
    Invoke(InvokeOperation),
    /// A child context grouping operations under one checkpointed result
    /// (`DurableContext::run_in_child_context`).
    ChildContext(ChildContextOperation),
    /// A function run over every item of a list, each in its own child context
    /// (`DurableContext::map`).
    Map(MapOperation),
    /// Named branches run concurrently, each in its own child context
    /// (`DurableContext::parallel`).
    Parallel(ParallelOperation),
    /// A check polled until a condition holds (`DurableContext::wait_for_condition`).
    WaitForCondition(WaitForConditionOperation),
}

impl Operation {
    /// The operation's checkpoint name, as written in the file.
    pub fn name(&self) -> &str {
        match self {
            Operation::Step(op) => &op.name,
            Operation::Wait(op) => &op.name,
            Operation::Callback(op) => &op.name,
            Operation::Invoke(op) => &op.name,
            Operation::ChildContext(op) => &op.name,
            Operation::Map(op) => &op.name,
            Operation::Parallel(op) => &op.name,
            Operation::WaitForCondition(op) => &op.name,
        }
    }

    /// The operation's description, if any.
    pub fn description(&self) -> Option<&str> {
        match self {
            Operation::Step(op) => op.description.as_deref(),
            Operation::Wait(op) => op.description.as_deref(),
            Operation::Callback(op) => op.description.as_deref(),
            Operation::Invoke(op) => op.description.as_deref(),
            Operation::ChildContext(op) => op.description.as_deref(),
            Operation::Map(op) => op.description.as_deref(),
            Operation::Parallel(op) => op.description.as_deref(),
            Operation::WaitForCondition(op) => op.description.as_deref(),
        }
    }

    /// The JSON Schemas of this operation, by field name (`input`, `output`, `state`).
    pub fn schemas(&self) -> Vec<(&'static str, &Value)> {
        let (input, output, error): (_, Option<&Value>, Option<&Value>) = match self {
            Operation::Step(op) => (
                ("input", op.input.as_ref()),
                op.output.as_ref(),
                op.error.as_ref(),
            ),
            Operation::Wait(_) => (("input", None), None, None),
            Operation::Callback(op) => (("input", None), op.output.as_ref(), None),
            Operation::Invoke(op) => (("input", op.input.as_ref()), op.output.as_ref(), None),
            Operation::ChildContext(op) => (("input", None), op.output.as_ref(), None),
            Operation::Map(op) => (("input", Some(&op.input)), op.output.as_ref(), None),
            Operation::Parallel(op) => (("input", None), op.output.as_ref(), None),
            Operation::WaitForCondition(op) => (("state", Some(&op.state)), None, None),
        };
        let fields = [input, ("output", output), ("error", error)];
        fields
            .into_iter()
            .filter_map(|(field, schema)| Some((field, schema?)))
            .collect()
    }

    /// The operation (or parallel branch) this operation is declared to run in, if any.
    pub fn within(&self) -> Option<&str> {
        match self {
            Operation::Step(op) => op.within.as_deref(),
            Operation::Wait(op) => op.within.as_deref(),
            Operation::Callback(op) => op.within.as_deref(),
            Operation::Invoke(op) => op.within.as_deref(),
            Operation::ChildContext(op) => op.within.as_deref(),
            Operation::Map(op) => op.within.as_deref(),
            Operation::Parallel(op) => op.within.as_deref(),
            Operation::WaitForCondition(op) => op.within.as_deref(),
        }
    }

    /// The `kind` value of this operation in the file.
    pub fn kind(&self) -> &'static str {
        match self {
            Operation::Step(_) => "step",
            Operation::Wait(_) => "wait",
            Operation::Callback(_) => "callback",
            Operation::Invoke(_) => "invoke",
            Operation::ChildContext(_) => "child-context",
            Operation::Map(_) => "map",
            Operation::Parallel(_) => "parallel",
            Operation::WaitForCondition(_) => "wait-for-condition",
        }
    }
}

/// A step.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StepOperation {
    /// The checkpoint name: 1 to 256 printable ASCII characters, unique in the file.
    pub name: String,
    /// Documentation of the generated method.
    #[serde(default)]
    pub description: Option<String>,
    /// The child-context, map or parallel operation (or the parallel branch, by its name)
    /// this operation runs in, for the diagrams and the method's documentation. Absent: the
    /// workflow's top level. The generated code does not enforce it.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub within: Option<String>,
    /// JSON Schema of a value the method takes and hands to the step's function. Absent: the
    /// function gets only the step context.
    #[serde(default)]
    #[schemars(schema_with = "optional_json_schema")]
    pub input: Option<Value>,
    /// JSON Schema of the step's result. Absent: the step returns nothing (`()`).
    #[serde(default)]
    #[schemars(schema_with = "optional_json_schema")]
    pub output: Option<Value>,
    /// How failed attempts are retried. Absent: the SDK's default (6 attempts, exponential
    /// backoff from 5 s).
    #[serde(default)]
    pub retry: Option<RetryPolicy>,
    /// Whether an attempt may run more than once after a crash. Absent: at least once.
    #[serde(default)]
    pub semantics: Option<StepSemantics>,
    /// How long one attempt may run; an attempt still running then fails with
    /// `StepTimeoutError` and goes through the retry policy. Absent: no limit.
    #[serde(default)]
    pub timeout: Option<DurationSpec>,
    /// JSON Schema of the step's business error: an object or an enum, which becomes a typed
    /// error (`TypedError`) that the step's function returns and the generated method gives
    /// back as `StepError::Declared`, on the first run and on every replay. Absent: the
    /// function may fail with any error.
    #[serde(default)]
    #[schemars(schema_with = "optional_json_schema")]
    pub error: Option<Value>,
}

/// How often a step's function may run for one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StepSemantics {
    /// Re-run an attempt that was interrupted by a crash (the default).
    AtLeastOncePerRetry,
    /// Checkpoint the start of each attempt first; an interrupted attempt counts as failed.
    AtMostOncePerRetry,
}

/// A retry policy: a preset of the SDK or the parameters of a strategy, tagged by `strategy`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(tag = "strategy", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RetryPolicy {
    /// The SDK's default: 6 attempts, 5 s doubling up to 60 s, full jitter.
    Default(PresetRetry),
    /// For transient faults: 3 attempts, 5 s doubling up to 300 s, half jitter.
    Transient(PresetRetry),
    /// For resources that take time to appear: 5 attempts, 5 s doubling up to 300 s, full
    /// jitter.
    ResourceAvailability(PresetRetry),
    /// For critical operations: 10 attempts, 1 s growing ×1.5 up to 60 s, no jitter.
    Critical(PresetRetry),
    /// Exponentially growing delays; unset parameters take the SDK's defaults (3 attempts,
    /// 5 s, 300 s max, ×2, full jitter).
    Exponential(ExponentialRetry),
    /// Linearly growing delays; unset parameters take the SDK's defaults (6 attempts, 1 s
    /// then +1 s, 300 s max, no jitter).
    Linear(LinearRetry),
    /// The same delay every time.
    Fixed(FixedRetry),
    /// A single attempt: failures are never retried.
    None(NoRetry),
}

/// A preset retry policy, optionally restricted to some failures.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PresetRetry {
    /// Retry only the failures matching one of these filters.
    #[serde(default)]
    pub retry_if: Option<RetryFilter>,
}

/// Exponential backoff parameters.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExponentialRetry {
    /// Total attempts, the first one included.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_attempts: Option<u32>,
    /// Delay after the first failed attempt.
    #[serde(default)]
    pub initial_delay: Option<DurationSpec>,
    /// Cap on the computed delay.
    #[serde(default)]
    pub max_delay: Option<DurationSpec>,
    /// Factor between consecutive delays.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub backoff_rate: Option<f64>,
    /// Random variation applied to each delay.
    #[serde(default)]
    pub jitter: Option<Jitter>,
    /// Retry only the failures matching one of these filters.
    #[serde(default)]
    pub retry_if: Option<RetryFilter>,
}

/// Linear backoff parameters.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LinearRetry {
    /// Total attempts, the first one included.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_attempts: Option<u32>,
    /// Delay after the first failed attempt.
    #[serde(default)]
    pub initial_delay: Option<DurationSpec>,
    /// Added to the delay after each further failed attempt.
    #[serde(default)]
    pub increment: Option<DurationSpec>,
    /// Cap on the computed delay.
    #[serde(default)]
    pub max_delay: Option<DurationSpec>,
    /// Random variation applied to each delay.
    #[serde(default)]
    pub jitter: Option<Jitter>,
    /// Retry only the failures matching one of these filters.
    #[serde(default)]
    pub retry_if: Option<RetryFilter>,
}

/// Fixed delay parameters.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FixedRetry {
    /// The delay between attempts.
    pub interval: DurationSpec,
    /// Total attempts, the first one included (the SDK's default is 5).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_attempts: Option<u32>,
    /// Retry only the failures matching one of these filters.
    #[serde(default)]
    pub retry_if: Option<RetryFilter>,
}

/// No retry.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoRetry {}

/// Which failures may be retried: once any filter is set, a failure is retried only if it
/// matches at least one. An interrupted attempt of an at-most-once step
/// (`StepInterruptedError`) is retried whatever the filters say.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RetryFilter {
    /// Regular expressions searched in the error message: ECMAScript (JavaScript `RegExp`)
    /// syntax with no flags (case-sensitive, `.` stops at line breaks, `^`/`$` anchor at the
    /// ends of the message), matching anywhere unless anchored.
    #[serde(default)]
    pub message_matches: Vec<String>,
    /// Substrings looked for in the error message.
    #[serde(default)]
    pub message_contains: Vec<String>,
    /// Error type names (the Rust type name of the step's error, without its path).
    #[serde(default)]
    pub error_types: Vec<String>,
}

/// Random variation applied to a computed delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Jitter {
    /// The computed delay.
    None,
    /// A random delay between zero and the computed one.
    Full,
    /// Half the computed delay plus a random part of up to the other half.
    Half,
}

/// A duration as a sum of whole days, hours, minutes and seconds, e.g. `{"hours": 1}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DurationSpec {
    /// Days.
    #[serde(default)]
    pub days: u64,
    /// Hours.
    #[serde(default)]
    pub hours: u64,
    /// Minutes.
    #[serde(default)]
    pub minutes: u64,
    /// Seconds.
    #[serde(default)]
    pub seconds: u64,
}

impl DurationSpec {
    /// The total in seconds, or `None` when it does not fit in 64 bits.
    pub fn total_seconds(&self) -> Option<u64> {
        self.days
            .checked_mul(86_400)?
            .checked_add(self.hours.checked_mul(3_600)?)?
            .checked_add(self.minutes.checked_mul(60)?)?
            .checked_add(self.seconds)
    }
}

/// A durable timer.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WaitOperation {
    /// The checkpoint name: 1 to 256 printable ASCII characters, unique in the file.
    pub name: String,
    /// Documentation of the generated method.
    #[serde(default)]
    pub description: Option<String>,
    /// The child-context, map or parallel operation (or the parallel branch, by its name)
    /// this operation runs in, for the diagrams and the method's documentation. Absent: the
    /// workflow's top level. The generated code does not enforce it.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub within: Option<String>,
    /// How long to wait (at least 1 second, at most 366 days). Absent: the generated method
    /// takes the duration as an argument.
    #[serde(default)]
    pub duration: Option<DurationSpec>,
}

/// A callback.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CallbackOperation {
    /// The checkpoint name: 1 to 256 printable ASCII characters, unique in the file.
    pub name: String,
    /// Documentation of the generated method.
    #[serde(default)]
    pub description: Option<String>,
    /// The child-context, map or parallel operation (or the parallel branch, by its name)
    /// this operation runs in, for the diagrams and the method's documentation. Absent: the
    /// workflow's top level. The generated code does not enforce it.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub within: Option<String>,
    /// JSON Schema of the result the callback is completed with. Absent: any JSON value.
    #[serde(default)]
    #[schemars(schema_with = "optional_json_schema")]
    pub output: Option<Value>,
    /// How long the callback may take before it times out. Absent: no timeout.
    #[serde(default)]
    pub timeout: Option<DurationSpec>,
    /// How long the callback may go without a heartbeat. Absent: no heartbeat timeout.
    #[serde(default)]
    pub heartbeat_timeout: Option<DurationSpec>,
    /// When present, the method takes a submitter function, run as a step with the callback
    /// id (to hand it to whoever completes the callback), and then waits for the result
    /// (`wait_for_callback`). Absent: the method creates the callback and returns its handle
    /// (`create_callback`).
    #[serde(default)]
    pub submitter: Option<Submitter>,
}

/// The submitter of a callback.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Submitter {
    /// How failed submissions are retried. Absent: the SDK's default.
    #[serde(default)]
    pub retry: Option<RetryPolicy>,
}

/// A chained invoke.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InvokeOperation {
    /// The checkpoint name: 1 to 256 printable ASCII characters, unique in the file.
    pub name: String,
    /// Documentation of the generated method.
    #[serde(default)]
    pub description: Option<String>,
    /// The child-context, map or parallel operation (or the parallel branch, by its name)
    /// this operation runs in, for the diagrams and the method's documentation. Absent: the
    /// workflow's top level. The generated code does not enforce it.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub within: Option<String>,
    /// The function to invoke (name or ARN, with a version or alias qualifier). Absent: the
    /// `function` of the invoked `workflow`'s declaration, else the generated method takes
    /// it as an argument.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub function: Option<String>,
    /// The declaration of the invoked workflow, relative to this file
    /// (`"payments.json"`): the payload and result are typed by its `input` and `output`
    /// (absent `input` and `output` default to `{"$ref": "payments.json#/input"}` and
    /// `{"$ref": "payments.json#/output"}`; declared ones must agree with them), and its
    /// `function` is the default target. An invoke whose `input` or `output` is a `$ref`
    /// to another declaration's `input` or `output` invokes that workflow too.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub workflow: Option<String>,
    /// JSON Schema of the payload sent to the function. Absent: none (`()`, sent as `null`).
    #[serde(default)]
    #[schemars(schema_with = "optional_json_schema")]
    pub input: Option<Value>,
    /// JSON Schema of the function's result. Absent: any JSON value.
    #[serde(default)]
    #[schemars(schema_with = "optional_json_schema")]
    pub output: Option<Value>,
}

/// A child context.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChildContextOperation {
    /// The checkpoint name: 1 to 256 printable ASCII characters, unique in the file.
    pub name: String,
    /// Documentation of the generated method.
    #[serde(default)]
    pub description: Option<String>,
    /// The child-context, map or parallel operation (or the parallel branch, by its name)
    /// this operation runs in, for the diagrams and the method's documentation. Absent: the
    /// workflow's top level. The generated code does not enforce it.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub within: Option<String>,
    /// JSON Schema of the context's result. Absent: nothing (`()`).
    #[serde(default)]
    #[schemars(schema_with = "optional_json_schema")]
    pub output: Option<Value>,
}

/// A map over items.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MapOperation {
    /// The checkpoint name: 1 to 256 printable ASCII characters, unique in the file.
    pub name: String,
    /// Documentation of the generated method.
    #[serde(default)]
    pub description: Option<String>,
    /// The child-context, map or parallel operation (or the parallel branch, by its name)
    /// this operation runs in, for the diagrams and the method's documentation. Absent: the
    /// workflow's top level. The generated code does not enforce it.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub within: Option<String>,
    /// JSON Schema of one item.
    #[schemars(schema_with = "json_schema")]
    pub input: Value,
    /// JSON Schema of the result of one item. Absent: nothing (`()`).
    #[serde(default)]
    #[schemars(schema_with = "optional_json_schema")]
    pub output: Option<Value>,
    /// How many items may run at once. Absent: no limit.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_concurrency: Option<u64>,
    /// When the map is complete. Absent: when every item is done, tolerating no failure.
    #[serde(default)]
    pub completion: Option<Completion>,
    /// How item contexts are checkpointed. Absent: nested.
    #[serde(default)]
    pub nesting: Option<Nesting>,
}

/// Named branches run concurrently.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ParallelOperation {
    /// The checkpoint name: 1 to 256 printable ASCII characters, unique in the file.
    pub name: String,
    /// Documentation of the generated method.
    #[serde(default)]
    pub description: Option<String>,
    /// The child-context, map or parallel operation (or the parallel branch, by its name)
    /// this operation runs in, for the diagrams and the method's documentation. Absent: the
    /// workflow's top level. The generated code does not enforce it.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub within: Option<String>,
    /// The branches' checkpoint names, in order; each is an argument of the generated method.
    #[schemars(length(min = 1))]
    pub branches: Vec<String>,
    /// JSON Schema of the result of one branch. Absent: nothing (`()`).
    #[serde(default)]
    #[schemars(schema_with = "optional_json_schema")]
    pub output: Option<Value>,
    /// How many branches may run at once. Absent: no limit.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_concurrency: Option<u64>,
    /// When the parallel is complete. Absent: when every branch is done, tolerating no
    /// failure.
    #[serde(default)]
    pub completion: Option<Completion>,
    /// How branch contexts are checkpointed. Absent: nested.
    #[serde(default)]
    pub nesting: Option<Nesting>,
}

/// When a map or parallel is complete. Unset rules do not apply.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Completion {
    /// Complete as soon as this many items succeeded.
    #[serde(default)]
    pub min_successful: Option<u64>,
    /// Fail once more than this many items failed.
    #[serde(default)]
    pub tolerated_failure_count: Option<u64>,
    /// Fail once more than this percentage (0 to 100) of the items failed.
    #[serde(default)]
    #[schemars(range(min = 0, max = 100))]
    pub tolerated_failure_percentage: Option<f64>,
}

/// How the child contexts of a map or parallel are checkpointed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Nesting {
    /// One CONTEXT operation per item (the default).
    Nested,
    /// Items' operations hang directly under the batch, saving operations.
    Flat,
}

/// A polled condition.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WaitForConditionOperation {
    /// The checkpoint name: 1 to 256 printable ASCII characters, unique in the file.
    pub name: String,
    /// Documentation of the generated method.
    #[serde(default)]
    pub description: Option<String>,
    /// The child-context, map or parallel operation (or the parallel branch, by its name)
    /// this operation runs in, for the diagrams and the method's documentation. Absent: the
    /// workflow's top level. The generated code does not enforce it.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub within: Option<String>,
    /// JSON Schema of the state each check receives and returns; the final state is the
    /// operation's result.
    #[schemars(schema_with = "json_schema")]
    pub state: Value,
    /// How checks are spaced. Absent: the SDK's defaults (60 checks, 5 s growing ×1.5 up to
    /// 300 s, full jitter).
    #[serde(default)]
    pub polling: Option<Polling>,
}

/// Polling parameters of a wait-for-condition; unset ones take the SDK's defaults.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Polling {
    /// Total checks, the first one included.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_attempts: Option<u32>,
    /// Delay after the first check.
    #[serde(default)]
    pub initial_delay: Option<DurationSpec>,
    /// Cap on the computed delay.
    #[serde(default)]
    pub max_delay: Option<DurationSpec>,
    /// Factor between consecutive delays.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub backoff_rate: Option<f64>,
    /// Random variation applied to each delay.
    #[serde(default)]
    pub jitter: Option<Jitter>,
}

/// The schema of an embedded JSON Schema: an object or a boolean.
fn json_schema(_: &mut SchemaGenerator) -> Schema {
    Schema::Object(SchemaObject {
        metadata: Some(Box::new(Metadata {
            description: Some(
                "A JSON Schema (draft 7); `$ref`s point into this file's `definitions` as `#/definitions/Name`, or into another declaration (relative to this file) as `other.json#/input`, `other.json#/output` or `other.json#/definitions/Name`."
                    .to_string(),
            ),
            ..Metadata::default()
        })),
        instance_type: Some(SingleOrVec::Vec(vec![
            InstanceType::Object,
            InstanceType::Boolean,
        ])),
        ..SchemaObject::default()
    })
}

fn optional_json_schema(generator: &mut SchemaGenerator) -> Schema {
    json_schema(generator)
}

fn json_schema_map(generator: &mut SchemaGenerator) -> Schema {
    Schema::Object(SchemaObject {
        instance_type: Some(SingleOrVec::Single(Box::new(InstanceType::Object))),
        object: Some(Box::new(schemars::schema::ObjectValidation {
            additional_properties: Some(Box::new(json_schema(generator))),
            ..schemars::schema::ObjectValidation::default()
        })),
        ..SchemaObject::default()
    })
}

/// The meta-schema of declaration files, as committed in `schema/workflow.schema.json`.
pub fn meta_schema() -> String {
    let settings = schemars::gen::SchemaSettings::draft07();
    let schema = settings
        .into_generator()
        .into_root_schema_for::<Declaration>();
    let mut text = serde_json::to_string_pretty(&schema)
        .unwrap_or_else(|err| unreachable!("a schema always serializes: {err}"));
    text.push('\n');
    text
}
