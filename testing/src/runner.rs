//! [`LocalRunner`]: runs a durable handler against the local service, invocation after
//! invocation, on a virtual clock; with the functions it invokes (chained invokes) and the
//! external systems that complete its callbacks.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;

use super::callback::{
    self, CallbackMatcher, CallbackResponder, PendingCallback, SendCallbackError,
};
use super::execution::{Execution, InvocationOutcome, RunnerStats};
use super::fault::Fault;
use super::latency::Latency;
use super::replay::Replay;
use super::service::{
    ExecutionConfig, ExecutionRecord, LocalService, RawOutcome, Responders, SharedRecord,
};
use super::RunnerError;
use crate::error_object;
use lambda_durable::lambda_runtime::Context as LambdaContext;
use lambda_durable::plugin::Plugin;
use lambda_durable::serdes::ValueSerdes;
use lambda_durable::service::BoxFuture;
use lambda_durable::wire::{ErrorObject, ExecutionStatus, OperationStatus};
use lambda_durable::DurableContext;
use lambda_durable::{CheckpointConfig, HandlerService, Runtime};

/// Lambda's longest invocation: the deadline of invocations that a
/// [`FaultKind::Deadline`](super::FaultKind::Deadline) may hit when the runner sets none.
const LAMBDA_MAX_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The default bound on the number of invocations of one execution.
const DEFAULT_MAX_INVOCATIONS: u32 = 10_000;
/// The default number of consecutive failed invocations after which the execution fails.
const DEFAULT_MAX_CONSECUTIVE_FAILURES: u32 = 5;

fn lock(record: &Mutex<ExecutionRecord>) -> MutexGuard<'_, ExecutionRecord> {
    record
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Debug, Clone)]
struct RunnerConfig {
    function_name: String,
    envelope_page_size: Option<usize>,
    state_page_size: Option<usize>,
    faults: Vec<Fault>,
    max_invocations: u32,
    max_consecutive_failures: u32,
    execution_timeout: Option<Duration>,
    invocation_timeout: Option<Duration>,
    log_during_replay: bool,
    default_serdes: Option<CustomSerdes>,
    plugins: Plugins,
    real_time: bool,
}

/// The instrumentation plugins a runner gives the SDK.
#[derive(Clone, Default)]
struct Plugins(Vec<Arc<dyn Plugin>>);

impl std::fmt::Debug for Plugins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} plugins", self.0.len())
    }
}

/// The serdes a runner gives the SDK for operations whose serdes is not set.
#[derive(Clone)]
struct CustomSerdes(Arc<dyn ValueSerdes>);

impl std::fmt::Debug for CustomSerdes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ValueSerdes")
    }
}

/// The longest `ExecutionTimeout` the service accepts, in seconds.
const MAX_EXECUTION_TIMEOUT_SECONDS: u64 = 31_622_400;
/// `ErrorType` of a chained invoke of a function the runner does not know.
const FUNCTION_NOT_FOUND: &str = "ResourceNotFoundException";
/// `ErrorType` of a chained invoke whose payload a plain function cannot read.
const INVALID_PAYLOAD: &str = "InvalidRequestContentException";

/// A plain (not durable) function: JSON event in, JSON result or error out.
type PlainFunction =
    Arc<dyn Fn(Value) -> BoxFuture<'static, Result<Value, ErrorObject>> + Send + Sync>;

/// A durable handler, made into the SDK's Lambda function ([`HandlerService`]) for the
/// settings and service of an invocation.
#[derive(Clone)]
struct DurableFunction(Arc<dyn Fn(Runtime) -> BoxFuture<'static, HandlerService> + Send + Sync>);

impl DurableFunction {
    fn new<H, E, T, Err, Fut>(handler: H) -> Self
    where
        H: Fn(E, DurableContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, Err>> + Send + 'static,
        E: DeserializeOwned,
        T: Serialize,
        Err: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        let handler = Arc::new(handler);
        Self(Arc::new(move |runtime: Runtime| {
            let handler = Arc::clone(&handler);
            runtime.into_service(move |event: E, ctx| handler(event, ctx))
        }))
    }
}

/// The SDK settings of the runner's invocations, as a Lambda function would have them.
#[derive(Clone)]
struct SdkSettings {
    log_during_replay: bool,
    default_serdes: Option<CustomSerdes>,
    plugins: Plugins,
}

impl SdkSettings {
    fn of(config: &RunnerConfig) -> Self {
        Self {
            log_during_replay: config.log_during_replay,
            default_serdes: config.default_serdes.clone(),
            plugins: config.plugins.clone(),
        }
    }

    /// The SDK's runtime over `service`, whose checkpoint retries back off for a
    /// millisecond, so that injected faults cost no time.
    fn runtime(&self, service: &Arc<LocalService>) -> Result<Runtime, RunnerError> {
        let mut builder = Runtime::builder()
            .durable_service(Arc::clone(service))
            .checkpoint(
                CheckpointConfig::new()
                    .retry_backoff(Duration::from_millis(1), Duration::from_millis(4)),
            )
            .log_during_replay(self.log_during_replay);
        if let Some(serdes) = &self.default_serdes {
            builder = builder.default_serdes(Arc::clone(&serdes.0));
        }
        for plugin in &self.plugins.0 {
            builder = builder.shared_plugin(Arc::clone(plugin));
        }
        builder
            .build()
            .map_err(|err| RunnerError::Config(err.to_string()))
    }
}

/// What a chained invoke of a function name runs.
#[derive(Clone)]
enum Target {
    Durable(DurableFunction),
    Plain(PlainFunction),
}

/// The functions a runner knows by name, and the callback responders.
#[derive(Clone, Default)]
struct Functions {
    targets: HashMap<String, Target>,
    timeouts: HashMap<String, Duration>,
    responders: Vec<(Arc<dyn CallbackMatcher>, Arc<dyn CallbackResponder>)>,
}

impl Functions {
    /// The target a `FunctionName` names: exactly, or by its bare name (the name in an
    /// ARN, without a version or alias qualifier).
    fn lookup(&self, function_name: &str) -> Option<(&str, &Target)> {
        self.targets
            .get_key_value(function_name)
            .or_else(|| self.targets.get_key_value(bare_name(function_name)))
            .map(|(name, target)| (name.as_str(), target))
    }
}

/// `my-function` from `my-function`, `my-function:prod`,
/// `arn:aws:lambda:us-east-1:123456789012:function:my-function:$LATEST` and
/// `123456789012:function:my-function`.
pub(crate) fn bare_name(function_name: &str) -> &str {
    let rest = match function_name.find(":function:") {
        Some(at) => function_name
            .get(at + ":function:".len()..)
            .unwrap_or(function_name),
        None => function_name,
    };
    rest.split(':').next().unwrap_or(rest)
}

/// A timeout as whole seconds within what the service accepts (1 s to 366 days).
fn timeout_seconds(timeout: Duration) -> i64 {
    let seconds = timeout
        .as_secs()
        .saturating_add(u64::from(timeout.subsec_nanos() > 0));
    i64::try_from(seconds.clamp(1, MAX_EXECUTION_TIMEOUT_SECONDS)).unwrap_or(1)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Runs a durable handler in-process against an emulation of the durable-execution
/// service, with no AWS account.
///
/// The local service validates every checkpoint with the service's rules, rotates
/// checkpoint tokens, pages the operation log, records the history, and keeps timers
/// (waits, retry delays, callback and execution timeouts) on a virtual clock that starts at
/// 2026-01-01T00:00:00Z and jumps to the next timer instead of sleeping. When an invocation
/// returns `PENDING`, the runner fires the next timer and invokes the handler again, until
/// the execution finishes or nothing can fire any more.
///
/// - **Chained invokes** ([`DurableContext::invoke`]) run locally: register the functions
///   the handler invokes with [`LocalRunner::register`] (durable functions, which run as
///   executions of their own on the same clock) and [`LocalRunner::register_plain`]. The
///   runner's own handler is also known by its [function name](LocalRunner::function_name).
///   Invoking any other name fails the invoke with `ResourceNotFoundException`.
/// - **Callbacks** are completed by the test, between invocations
///   ([`RunningExecution::send_callback_success`] and its siblings), or automatically by
///   callback responders ([`LocalRunner::on_callback`]).
///
/// Faults ([`Fault`]) can be injected into the service calls, and
/// [`LocalRunner::start`] gives a step-by-step mode to inspect the state between
/// invocations. See the [module documentation](super) for an example.
pub struct LocalRunner {
    handler: DurableFunction,
    service: Arc<LocalService>,
    config: RunnerConfig,
    functions: Functions,
}

impl std::fmt::Debug for LocalRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut functions: Vec<&String> = self.functions.targets.keys().collect();
        functions.sort();
        f.debug_struct("LocalRunner")
            .field("config", &self.config)
            .field("functions", &functions)
            .field("callback_responders", &self.functions.responders.len())
            .finish_non_exhaustive()
    }
}

impl LocalRunner {
    /// A runner for `handler`, which has the same shape as for [`lambda_durable::run`]: an async
    /// function of the event (any type that deserializes from the execution's input) and a
    /// [`DurableContext`], returning `Result<T, E>` for a serializable `T`.
    pub fn new<H, E, T, Err, Fut>(handler: H) -> Self
    where
        H: Fn(E, DurableContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, Err>> + Send + 'static,
        E: DeserializeOwned,
        T: Serialize,
        Err: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        Self {
            handler: DurableFunction::new(handler),
            service: Arc::new(LocalService::default()),
            config: RunnerConfig {
                function_name: "local-function".to_string(),
                envelope_page_size: None,
                state_page_size: None,
                faults: Vec::new(),
                max_invocations: DEFAULT_MAX_INVOCATIONS,
                max_consecutive_failures: DEFAULT_MAX_CONSECUTIVE_FAILURES,
                execution_timeout: None,
                invocation_timeout: None,
                log_during_replay: false,
                default_serdes: None,
                plugins: Plugins::default(),
                real_time: false,
            },
            functions: Functions::default(),
        }
    }

    /// Registers a durable function under `function_name`, so that the handler (or any
    /// function the runner runs) can [invoke](DurableContext::invoke) it. The handler has
    /// the same shape as for [`LocalRunner::new`].
    ///
    /// A chained invoke of it starts an execution of its own, with its own ARN, operations,
    /// history and invocations, on the runner's virtual clock: the runner invokes it until
    /// it finishes, then completes the invoke with its result (or its error: the caller
    /// gets [`Error::InvokeFailed`](lambda_durable::Error::InvokeFailed), or
    /// [`InvokeTimedOut`](lambda_durable::Error::InvokeTimedOut) if it runs past its
    /// [timeout](LocalRunner::function_timeout), or
    /// [`InvokeStopped`](lambda_durable::Error::InvokeStopped) if a test
    /// [stops](RunningExecution::stop_execution) it), and invokes the caller again. It may
    /// wait, retry, create callbacks and invoke other functions in turn. Its execution is
    /// in [`Execution::children`]. The name is matched exactly, or by the bare name of an
    /// ARN or a qualified name (`name:alias`). Injected faults only hit the runner's own
    /// execution.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lambda_durable_testing::LocalRunner;
    /// use lambda_durable::wire::ExecutionStatus;
    /// use lambda_durable::{DurableContext, Error};
    /// use serde_json::{json, Value};
    ///
    /// async fn label(order: Value, ctx: DurableContext) -> Result<String, Error> {
    ///     ctx.wait("print queue", Duration::from_secs(60)).await?;
    ///     Ok(format!("label-{}", order["id"]))
    /// }
    ///
    /// async fn ship(order: Value, ctx: DurableContext) -> Result<Value, Error> {
    ///     let label: String = ctx.invoke("make label", "labels", order.clone()).await?;
    ///     let price: Value = ctx.invoke("quote", "pricing", json!({"kg": 2})).await?;
    ///     Ok(json!({ "label": label, "price": price }))
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let runner = LocalRunner::new(ship)
    ///     .register("labels", label)
    ///     .register_plain("pricing", |event: Value| async move {
    ///         Ok::<_, std::io::Error>(json!(event["kg"].as_u64().unwrap_or(0) * 5))
    ///     });
    /// let execution = runner.run(json!({ "id": 7 })).await?;
    /// assert_eq!(execution.result::<Value>()?, json!({ "label": "label-7", "price": 10 }));
    /// // The label function ran as an execution of its own, for one virtual minute.
    /// let child = &execution.children()[0];
    /// assert_eq!(child.status(), ExecutionStatus::Succeeded);
    /// assert_eq!(child.invocations(), 2);
    /// assert_eq!(execution.elapsed(), Duration::from_secs(60));
    /// # Ok(()) }
    /// ```
    pub fn register<H, E, T, Err, Fut>(
        mut self,
        function_name: impl Into<String>,
        handler: H,
    ) -> Self
    where
        H: Fn(E, DurableContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, Err>> + Send + 'static,
        E: DeserializeOwned,
        T: Serialize,
        Err: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        self.functions.targets.insert(
            function_name.into(),
            Target::Durable(DurableFunction::new(handler)),
        );
        self
    }

    /// Registers a plain (not durable) function under `function_name`: an async function
    /// of the JSON payload returning a JSON result. A chained invoke of it runs it at once
    /// (it takes no virtual time); an `Err` fails the invoke with an error whose type is
    /// the error's type name and whose message is its `Display` text. A payload that is not
    /// JSON fails the invoke with `InvalidRequestContentException`. See
    /// [`LocalRunner::register`] for an example.
    pub fn register_plain<F, Fut, Err>(
        mut self,
        function_name: impl Into<String>,
        function: F,
    ) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, Err>> + Send + 'static,
        Err: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        let function: PlainFunction = Arc::new(move |event: Value| {
            let fut = function(event);
            Box::pin(async move {
                fut.await.map_err(|err| {
                    let err: Box<dyn std::error::Error + Send + Sync> = err.into();
                    error_object(&lambda_durable::error_type_name::<Err>(), &err.to_string())
                })
            })
        });
        self.functions
            .targets
            .insert(function_name.into(), Target::Plain(function));
        self
    }

    /// The `ExecutionTimeout` of the executions of the durable function registered as
    /// `function_name` (whole seconds, at least 1 s, at most 366 days; by default there is
    /// none): one that has not finished `timeout` after it started ends `TIMED_OUT`, and
    /// the invoke that started it fails with [`Error::InvokeTimedOut`](lambda_durable::Error::InvokeTimedOut).
    pub fn function_timeout(mut self, function_name: impl Into<String>, timeout: Duration) -> Self {
        self.functions
            .timeouts
            .insert(function_name.into(), timeout);
        self
    }

    /// The `ExecutionTimeout` of the runner's own executions (whole seconds, at least 1 s,
    /// at most 366 days; by default there is none): an execution that has not finished
    /// `timeout` after it started ends with status `TIMED_OUT`.
    pub fn execution_timeout(mut self, timeout: Duration) -> Self {
        self.config.execution_timeout = Some(timeout);
        self
    }

    /// Answers callbacks automatically, as an external system would, so that
    /// [`LocalRunner::run`] can finish workflows that wait for callbacks.
    ///
    /// `matcher` picks the callbacks: a name (of the `create_callback`, or of the
    /// `wait_for_callback`) or a function of the [`PendingCallback`]. `responder` is a
    /// [`CallbackResponse`](super::CallbackResponse), or a function of the
    /// [`PendingCallback`] returning one. The runner asks the first matching responder once
    /// per callback, when the invocation that created it ends; the answer arrives at once
    /// or [after a delay](super::CallbackResponse::after) of virtual time. Callbacks
    /// without a responder wait for the test ([`RunningExecution::send_callback_success`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use lambda_durable_testing::{CallbackResponse, LocalRunner};
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// async fn handler(_: (), ctx: DurableContext) -> Result<String, Error> {
    ///     let approval = ctx
    ///         .create_callback::<bool>("manager approval")
    ///         .timeout(Duration::from_secs(3600))
    ///         .await?;
    ///     let approved = approval.result().await?;
    ///     let signature = ctx
    ///         .wait_for_callback::<String, _, _>("signature", |_id, _step| async {
    ///             Ok::<_, std::io::Error>(())
    ///         })
    ///         .await?;
    ///     Ok(format!("{approved} {signature}"))
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let runner = LocalRunner::new(handler)
    ///     .on_callback("manager approval", CallbackResponse::success("true").after(Duration::from_secs(600)))
    ///     .on_callback(|callback: &lambda_durable_testing::PendingCallback| callback.name() == Some("signature"),
    ///         |callback: &lambda_durable_testing::PendingCallback| {
    ///             CallbackResponse::json(serde_json::json!(format!("signed {}", callback.id().len())))
    ///         });
    /// let execution = runner.run(()).await?;
    /// assert!(execution.result::<String>()?.starts_with("true signed "));
    /// assert_eq!(execution.elapsed(), Duration::from_secs(600));
    /// # Ok(()) }
    /// ```
    pub fn on_callback(
        mut self,
        matcher: impl CallbackMatcher,
        responder: impl CallbackResponder,
    ) -> Self {
        self.functions
            .responders
            .push((Arc::new(matcher), Arc::new(responder)));
        self
    }

    /// Pages the operation log by at most `operations` operations (at least 1), both in
    /// the invocation envelope (`InitialExecutionState`) and in `GetDurableExecutionState`
    /// responses, so that the SDK's pagination runs. By default the envelope carries every
    /// operation and a state read returns what the caller asks for (100 by default, at
    /// most 1000).
    pub fn page_size(mut self, operations: usize) -> Self {
        let operations = operations.max(1);
        self.config.envelope_page_size = Some(operations);
        self.config.state_page_size = Some(operations);
        self
    }

    /// Injects `fault` into every execution this runner starts (each execution gets its
    /// own copy, which hits once). Executions started by chained invokes get none.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.config.faults.push(fault);
        self
    }

    /// The largest number of invocations of one execution (10 000 by default): a safety
    /// bound for handlers that never finish. Exceeding it is
    /// [`RunnerError::TooManyInvocations`].
    pub fn max_invocations(mut self, invocations: u32) -> Self {
        self.config.max_invocations = invocations.max(1);
        self
    }

    /// How many invocations in a row may fail (a function error, a crash or an output the
    /// service refuses) before the execution fails with the last error; 5 by default.
    pub fn max_consecutive_failures(mut self, failures: u32) -> Self {
        self.config.max_consecutive_failures = failures.max(1);
        self
    }

    /// The function name used in execution ARNs (`local-function` by default). A chained
    /// invoke of this name runs the runner's own handler, unless another function is
    /// registered under it.
    pub fn function_name(mut self, name: impl Into<String>) -> Self {
        self.config.function_name = name.into();
        self
    }

    /// Runs an execution with `input` until it finishes, or until it is suspended with
    /// nothing that can fire (then its status is `RUNNING`): waiting for a callback no
    /// responder answers, with no timeout. Timers fire as they come, callback timeouts
    /// included.
    ///
    /// # Errors
    ///
    /// [`RunnerError::Input`] when `input` cannot be serialized,
    /// [`RunnerError::TooManyInvocations`] when an execution needs more invocations than
    /// [`LocalRunner::max_invocations`], [`RunnerError::Config`] for an invalid function
    /// name (the runner's or a registered durable function's), [`RunnerError::Callback`]
    /// when a callback responder answers with something the service refuses. A failed execution is not an error: see [`Execution::status`].
    pub async fn run<I: Serialize>(&self, input: I) -> Result<Execution, RunnerError> {
        self.start(input)?.run().await
    }

    /// Starts an execution with `input` without invoking the handler yet, for the
    /// step-by-step mode (see [`RunningExecution`]).
    ///
    /// # Errors
    ///
    /// [`RunnerError::Input`] when `input` cannot be serialized, [`RunnerError::Config`]
    /// for an invalid function name.
    pub fn start<I: Serialize>(&self, input: I) -> Result<RunningExecution, RunnerError> {
        let payload =
            serde_json::to_string(&input).map_err(|err| RunnerError::Input(err.to_string()))?;
        let config = ExecutionConfig {
            function_name: self.config.function_name.clone(),
            envelope_page_size: self.config.envelope_page_size,
            state_page_size: self.config.state_page_size,
            faults: self.config.faults.clone(),
            max_consecutive_failures: self.config.max_consecutive_failures,
            execution_timeout: self.config.execution_timeout.map(timeout_seconds),
            real_time: self.config.real_time,
            responders: Responders(Arc::new(self.functions.responders.clone())),
        };
        let record = self.service.create_execution(payload, config.clone())?;
        let arn = lock(&record).arn.clone();
        let mut functions = self.functions.clone();
        functions
            .targets
            .entry(self.config.function_name.clone())
            .or_insert_with(|| Target::Durable(self.handler.clone()));
        Ok(RunningExecution {
            service: Arc::clone(&self.service),
            record,
            arn,
            handler: self.handler.clone(),
            settings: SdkSettings::of(&self.config),
            invocation_timeout: self.config.invocation_timeout,
            max_invocations: self.config.max_invocations,
            functions: Arc::new(functions),
            child_config: ExecutionConfig {
                faults: Vec::new(),
                execution_timeout: None,
                ..config
            },
            children: Vec::new(),
        })
    }

    /// Makes every call to the local service take `latency`: each checkpoint and state call
    /// of the SDK, and each invocation of the function by the service. For benchmarks and
    /// tests of what round trips cost; without it calls are answered at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lambda_durable::{DurableContext, Error};
    /// use lambda_durable_testing::{Latency, LocalRunner};
    ///
    /// async fn handler(_: (), ctx: DurableContext) -> Result<u32, Error> {
    ///     ctx.step("answer", |_| async { Ok::<_, std::io::Error>(42) }).await
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let started = tokio::time::Instant::now();
    /// LocalRunner::new(handler)
    ///     .latency(Latency::fixed(Duration::from_millis(15)))
    ///     .run(())
    ///     .await?;
    /// // The service's invoke, and one checkpoint call for the step.
    /// assert!(started.elapsed() >= Duration::from_millis(30));
    /// # Ok(()) }
    /// ```
    pub fn latency(self, latency: Latency) -> Self {
        self.service.set_latency(latency);
        self
    }

    /// Runs the execution in real time: the service's clock follows tokio's clock, so that
    /// time passes while the handler runs, and between invocations the runner waits for the
    /// next timer (a wait, a retry delay, a callback answered later) instead of jumping to
    /// it. Off by default: tests run at once whatever the workflow waits for. With tokio's
    /// clock paused (`start_paused = true`) real time still runs at once, in order.
    pub fn real_time(mut self, on: bool) -> Self {
        self.config.real_time = on;
        self
    }

    /// Whether the loggers of durable contexts ([`DurableContext::logger`]) also emit the
    /// records made while the handler replays operations of earlier invocations, as
    /// [`RuntimeBuilder::log_during_replay`](lambda_durable::RuntimeBuilder::log_during_replay) does
    /// on Lambda (off by default: each record is emitted once, by the invocation that
    /// first ran it). Functions the handler invokes log the same way.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lambda_durable_testing::LocalRunner;
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// async fn handler(_: (), ctx: DurableContext) -> Result<(), Error> {
    ///     // Logged by the first invocation and, with the switch on, by the second one
    ///     // too, which replays it after the wait.
    ///     ctx.logger().info("before the wait");
    ///     ctx.wait("pause", Duration::from_secs(60)).await
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let execution = LocalRunner::new(handler).log_during_replay(true).run(()).await?;
    /// assert_eq!(execution.invocations(), 2);
    /// # Ok(()) }
    /// ```
    pub fn log_during_replay(mut self, on: bool) -> Self {
        self.config.log_during_replay = on;
        self
    }

    /// Registers an instrumentation plugin, as
    /// [`RuntimeBuilder::plugin`](lambda_durable::RuntimeBuilder::plugin) does on Lambda: it
    /// observes the invocations of every execution the runner runs (those started by chained
    /// invokes too), their operations and their user code.
    pub fn plugin(mut self, plugin: impl Plugin) -> Self {
        self.config.plugins.0.push(Arc::new(plugin));
        self
    }

    /// Registers a plugin the test keeps a handle to (to read what it recorded); see
    /// [`plugin`](Self::plugin).
    pub fn shared_plugin(mut self, plugin: Arc<dyn Plugin>) -> Self {
        self.config.plugins.0.push(plugin);
        self
    }

    /// The serdes of operations whose serdes is not set, as
    /// [`RuntimeBuilder::default_serdes`](lambda_durable::RuntimeBuilder::default_serdes) sets it on
    /// Lambda.
    pub fn default_serdes(mut self, serdes: impl ValueSerdes) -> Self {
        self.config.default_serdes = Some(CustomSerdes(Arc::new(serdes)));
        self
    }

    /// Gives every invocation of the runner's own function a Lambda deadline `timeout`
    /// after it starts (by default there is none), measured on tokio's clock: the handler
    /// then stops shortly before it and the invocation ends as on Lambda, with `PENDING`
    /// when nothing could progress, else with a function error after which the runner
    /// invokes again. A [`FaultKind::Deadline`](super::FaultKind::Deadline) makes one
    /// invocation run out of this time at a chosen checkpoint call.
    pub fn invocation_timeout(mut self, timeout: Duration) -> Self {
        self.config.invocation_timeout = Some(timeout);
        self
    }

    /// Runs the handler once over the complete operation log of `execution` (usually a
    /// finished one, from [`LocalRunner::run`]), from scratch: the invocation gets the
    /// log as a fresh invocation would (paged by [`LocalRunner::page_size`], without the
    /// operations of completed child contexts), with replay semantics. It runs against a
    /// copy of the log, with no faults and no clock moving; nothing it does reaches
    /// `execution`. The [`Replay`] tells how the invocation ended, the status and result it
    /// reached and every update it sent, and [`Replay::mismatches`] whether it differs from
    /// what is recorded: a deterministic handler reaches the same outcome and writes
    /// nothing new.
    ///
    /// ```
    /// use lambda_durable_testing::LocalRunner;
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// async fn handler(_: (), ctx: DurableContext) -> Result<u64, Error> {
    ///     let a: u64 = ctx.step("a", |_| async { Ok::<_, Error>(20) }).await?;
    ///     let b: u64 = ctx.step("b", |_| async { Ok::<_, Error>(22) }).await?;
    ///     Ok(a + b)
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let runner = LocalRunner::new(handler);
    /// let execution = runner.run(()).await?;
    /// let replay = runner.replay(&execution).await?;
    /// assert_eq!(replay.result::<u64>()?, 42);
    /// assert!(replay.writes().is_empty());
    /// assert!(replay.mismatches().is_empty(), "{:?}", replay.mismatches());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`RunnerError::Config`] when the execution's ARN or a token cannot be built.
    pub async fn replay(&self, execution: &Execution) -> Result<Replay, RunnerError> {
        let config = ExecutionConfig {
            function_name: execution.function_name.clone(),
            envelope_page_size: self.config.envelope_page_size,
            state_page_size: self.config.state_page_size,
            faults: Vec::new(),
            max_consecutive_failures: u32::MAX,
            execution_timeout: None,
            real_time: false,
            responders: Responders::default(),
        };
        let service = Arc::new(LocalService::default());
        let record = service.adopt(ExecutionRecord::for_replay(execution, config));
        let outcome = invoke(
            &service,
            &record,
            &self.handler,
            &SdkSettings::of(&self.config),
            None,
            u32::MAX,
        )
        .await?;
        let mut record = lock(&record);
        let writes = record.writes().to_vec();
        Ok(Replay {
            outcome,
            execution: record.take(),
            writes,
            recorded_operations: execution.ops.len(),
            recorded_status: execution.status,
            recorded_result: execution.result.clone(),
            recorded_error: execution.error.clone(),
        })
    }

    /// Replays a [`RecordedExecution`](super::RecordedExecution) (saved by an earlier run, or read from the service's
    /// state) against this runner's handler, as [`replay`](Self::replay) does for an
    /// execution of this run. [`RecordedExecution::check`](super::RecordedExecution::check) says whether it replayed as
    /// recorded.
    ///
    /// # Errors
    ///
    /// As [`replay`](Self::replay).
    pub async fn replay_recorded(
        &self,
        recorded: &super::RecordedExecution,
    ) -> Result<Replay, RunnerError> {
        self.replay(&recorded.to_execution()).await
    }

    /// Makes the ids of the executions this runner starts derive from `seed` instead of
    /// being random, so that runs of the same handler give the same ARNs and the same
    /// [replay-safe values](DurableContext::uuid) (for reproducible tests).
    pub fn seed(self, seed: u64) -> Self {
        self.service.set_id_seed(seed);
        self
    }

    /// Counters of the service calls of every execution this runner ran so far (those
    /// started by chained invokes included).
    pub fn stats(&self) -> RunnerStats {
        self.service.totals()
    }

    /// A runner with the same handler, functions, responders and settings but no faults,
    /// over a [twin](LocalService::twin) of this runner's service: its first execution gets
    /// the ARN this runner's next one would (for runs that are compared with each other).
    pub(crate) fn fault_free_twin(&self) -> Self {
        Self {
            handler: self.handler.clone(),
            service: Arc::new(self.service.twin()),
            config: RunnerConfig {
                faults: Vec::new(),
                ..self.config.clone()
            },
            functions: self.functions.clone(),
        }
    }
}

/// An execution started by a chained invoke of a registered durable function.
struct Child {
    record: SharedRecord,
    arn: String,
    handler: DurableFunction,
    /// The execution whose CHAINED_INVOKE started it, and that operation's index.
    parent: SharedRecord,
    parent_arn: String,
    parent_op: usize,
    /// Whether its outcome was reported to the parent's operation.
    reported: bool,
}

/// An execution driven one invocation at a time, so that a test can look at the state
/// between invocations, complete callbacks and stop executions. Created by
/// [`LocalRunner::start`].
///
/// ```
/// use std::time::Duration;
/// use lambda_durable_testing::{InvocationOutcome, LocalRunner};
/// use lambda_durable::wire::{ExecutionStatus, InvocationStatus, OperationStatus};
/// use lambda_durable::{DurableContext, Error};
///
/// async fn handler(_: (), ctx: DurableContext) -> Result<u32, Error> {
///     ctx.wait("pause", Duration::from_secs(30)).await?;
///     Ok(7)
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let runner = LocalRunner::new(handler);
/// let mut execution = runner.start(())?;
/// let first = execution.invoke_once().await?;
/// assert_eq!(first.status(), Some(InvocationStatus::Pending));
/// let wait = execution.snapshot().operation("pause").cloned();
/// assert_eq!(wait.map(|op| op.status), Some(OperationStatus::Started));
///
/// assert_eq!(execution.advance_clock(), Some(Duration::from_secs(30)));
/// let second = execution.invoke_once().await?;
/// assert_eq!(second.status(), Some(InvocationStatus::Succeeded));
/// let done = execution.into_execution();
/// assert_eq!(done.status(), ExecutionStatus::Succeeded);
/// assert_eq!(done.result::<u32>()?, 7);
/// # Ok(()) }
/// ```
///
/// Completing a callback from the test:
///
/// ```
/// use lambda_durable_testing::LocalRunner;
/// use lambda_durable::wire::ExecutionStatus;
/// use lambda_durable::{DurableContext, Error};
///
/// async fn handler(_: (), ctx: DurableContext) -> Result<String, Error> {
///     let callback = ctx.create_callback::<String>("approval").await?;
///     // Hand callback.id() to the approver here (in a step).
///     callback.result().await
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut execution = LocalRunner::new(handler).start(())?;
/// // Runs until only the callback can resume the execution.
/// assert_eq!(execution.run_until_suspended().await?, ExecutionStatus::Running);
/// let pending = execution.pending_callbacks();
/// assert_eq!(pending[0].name(), Some("approval"));
/// execution.send_callback_success(pending[0].id(), r#""approved by alice""#)?;
/// // Completing it again is refused, like the service does.
/// let again = execution.send_callback_success(pending[0].id(), "\"twice\"");
/// assert_eq!(again.map_err(|err| err.code()), Err("ResourceNotFoundException"));
///
/// assert_eq!(execution.run_until_suspended().await?, ExecutionStatus::Succeeded);
/// assert_eq!(execution.into_execution().result::<String>()?, "approved by alice");
/// # Ok(()) }
/// ```
pub struct RunningExecution {
    service: Arc<LocalService>,
    record: SharedRecord,
    arn: String,
    handler: DurableFunction,
    settings: SdkSettings,
    invocation_timeout: Option<Duration>,
    max_invocations: u32,
    functions: Arc<Functions>,
    /// The settings of executions started by chained invokes (but their function name
    /// and timeout).
    child_config: ExecutionConfig,
    children: Vec<Child>,
}

impl std::fmt::Debug for RunningExecution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningExecution")
            .field("arn", &self.arn)
            .field("status", &self.status())
            .field("children", &self.children.len())
            .finish_non_exhaustive()
    }
}

impl RunningExecution {
    /// The execution's ARN.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The execution's status now.
    pub fn status(&self) -> ExecutionStatus {
        lock(&self.record).status()
    }

    /// Invokes the handler once and returns how the invocation ended. The service applies
    /// the outcome as it would: a `SUCCEEDED` or `FAILED` output ends the execution, and
    /// a function error counts towards [`LocalRunner::max_consecutive_failures`].
    ///
    /// Afterwards, the chained invokes the invocation started are taken care of: plain
    /// functions run at once, durable ones get their execution (which
    /// [`RunningExecution::run_until_suspended`] and [`RunningExecution::run`] invoke;
    /// this method does not), and callback responders answer the new callbacks.
    ///
    /// # Errors
    ///
    /// [`RunnerError::Finished`] when the execution already finished,
    /// [`RunnerError::TooManyInvocations`] when the invocation bound is reached,
    /// [`RunnerError::Callback`] when a callback responder's answer is refused,
    /// [`RunnerError::Config`] when a registered function's name cannot appear in an
    /// execution ARN.
    pub async fn invoke_once(&mut self) -> Result<InvocationOutcome, RunnerError> {
        let record = Arc::clone(&self.record);
        let timeout = self.invocation_timeout.or_else(|| {
            lock(&self.record)
                .has_deadline_fault()
                .then_some(LAMBDA_MAX_TIMEOUT)
        });
        let outcome = invoke(
            &self.service,
            &record,
            &self.handler,
            &self.settings,
            timeout,
            self.max_invocations,
        )
        .await?;
        self.after_invocation(&record).await?;
        Ok(outcome)
    }

    /// Advances the virtual clock to the next timer of this execution or of the
    /// executions its chained invokes started (a wait ending, a step retry delay running
    /// out, a callback or execution timeout, a callback responder's delayed answer) and
    /// fires every timer due by then. Returns how far the clock moved, or `None` when no
    /// timer is running.
    pub fn advance_clock(&mut self) -> Option<Duration> {
        let due = self.next_due()?;
        let before = lock(&self.record).now();
        self.advance_to(due);
        let after = lock(&self.record).now();
        Some(Duration::from_millis(
            u64::try_from(after - before).unwrap_or_default(),
        ))
    }

    /// Advances the virtual clock by `duration` (rounded down to milliseconds), firing in
    /// order every timer due by then, without invoking anything in between. For example, to
    /// send a callback heartbeat some time after the previous one.
    pub fn advance_clock_by(&mut self, duration: Duration) {
        let target = lock(&self.record).now().saturating_add(millis(duration));
        while let Some(due) = self.next_due().filter(|&due| due <= target) {
            self.advance_to(due);
        }
        self.advance_to(target);
    }

    /// Injects a fault into a later service call of this execution.
    pub fn inject(&mut self, fault: Fault) {
        lock(&self.record).inject(fault);
    }

    /// The callbacks waiting to be completed, in this execution and in those its chained
    /// invokes started, oldest first.
    pub fn pending_callbacks(&self) -> Vec<PendingCallback> {
        self.records()
            .flat_map(|record| lock(record).pending_callbacks())
            .collect()
    }

    /// Completes the callback `callback_id` with `result`, like
    /// `SendDurableExecutionCallbackSuccess`: the raw bytes the external system sends (at
    /// most 1 MiB; the handler decodes them, as JSON by default). The execution is invoked
    /// again by the next [`RunningExecution::run_until_suspended`],
    /// [`RunningExecution::run`] or [`RunningExecution::invoke_once`].
    ///
    /// # Errors
    ///
    /// [`SendCallbackError::NotFound`] when no callback has this id, or it was already
    /// completed, or its execution is over; [`SendCallbackError::TimedOut`] when it timed
    /// out; [`SendCallbackError::InvalidParameter`] for a result over 1 MiB.
    pub fn send_callback_success(
        &mut self,
        callback_id: &str,
        result: impl AsRef<[u8]>,
    ) -> Result<(), SendCallbackError> {
        let completion = callback::success(result.as_ref())?;
        self.callback_owner(callback_id)?
            .send_callback(callback_id, completion)
    }

    /// Fails the callback `callback_id` with `error`, like
    /// `SendDurableExecutionCallbackFailure`; the handler gets
    /// [`Error::CallbackFailed`](lambda_durable::Error::CallbackFailed) carrying it.
    ///
    /// # Errors
    ///
    /// As [`RunningExecution::send_callback_success`]; an error over 1 MiB of JSON is
    /// [`SendCallbackError::InvalidParameter`].
    pub fn send_callback_failure(
        &mut self,
        callback_id: &str,
        error: ErrorObject,
    ) -> Result<(), SendCallbackError> {
        let completion = callback::failure(error)?;
        self.callback_owner(callback_id)?
            .send_callback(callback_id, completion)
    }

    /// Sends a heartbeat for the callback `callback_id`, like
    /// `SendDurableExecutionCallbackHeartbeat`: its heartbeat timeout starts again from
    /// now (a callback without one is unaffected).
    ///
    /// # Errors
    ///
    /// As [`RunningExecution::send_callback_success`].
    pub fn send_callback_heartbeat(&mut self, callback_id: &str) -> Result<(), SendCallbackError> {
        self.callback_owner(callback_id)?
            .heartbeat_callback(callback_id)
    }

    /// Stops the execution with this ARN (this one, or one started by a chained invoke;
    /// see [`Execution::children`]), like `StopDurableExecution`: it ends `STOPPED` with
    /// `error` (by default `Execution.Stopped`), operations in flight stay as they are, and
    /// it is not invoked any more. A stopped child execution fails the invoke that started
    /// it with [`Error::InvokeStopped`](lambda_durable::Error::InvokeStopped).
    ///
    /// # Errors
    ///
    /// [`RunnerError::UnknownExecution`] for an ARN the runner does not know,
    /// [`RunnerError::Finished`] when the execution already finished.
    pub fn stop_execution(
        &mut self,
        arn: &str,
        error: Option<ErrorObject>,
    ) -> Result<(), RunnerError> {
        let record = self
            .records()
            .find(|record| lock(record).arn == arn)
            .cloned()
            .ok_or_else(|| RunnerError::UnknownExecution {
                arn: arn.to_string(),
            })?;
        lock(&record).stop(error)?;
        self.settle_children();
        Ok(())
    }

    /// A copy of everything recorded so far, with the executions started by chained
    /// invokes in [`Execution::children`].
    pub fn snapshot(&self) -> Execution {
        let mut execution = lock(&self.record).snapshot();
        execution.children = self.collect_children(&self.arn, false);
        execution
    }

    /// Runs the execution on from where it is, like [`LocalRunner::run`].
    ///
    /// # Errors
    ///
    /// As [`LocalRunner::run`].
    pub async fn run(mut self) -> Result<Execution, RunnerError> {
        self.drive(false).await?;
        Ok(self.into_execution())
    }

    /// Runs the execution on until it finishes or waits for a callback: it invokes this
    /// execution and those its chained invokes started while that makes progress, and
    /// fires timers in order, but stops before a callback would time out (or miss its
    /// heartbeat), so that the test can complete it; [`RunningExecution::advance_clock`]
    /// lets it time out. Returns the execution's status: `RUNNING` when it waits.
    ///
    /// # Errors
    ///
    /// As [`LocalRunner::run`].
    pub async fn run_until_suspended(&mut self) -> Result<ExecutionStatus, RunnerError> {
        self.drive(true).await?;
        Ok(self.status())
    }

    /// Ends the step-by-step mode and returns everything recorded.
    pub fn into_execution(self) -> Execution {
        let mut execution = lock(&self.record).take();
        execution.children = self.collect_children(&self.arn, true);
        execution
    }

    // ---------------------------------------------------------------------------------
    // The executions of one run: this one and those its chained invokes started
    // ---------------------------------------------------------------------------------

    fn records(&self) -> impl Iterator<Item = &SharedRecord> {
        std::iter::once(&self.record).chain(self.children.iter().map(|child| &child.record))
    }

    fn next_due(&self) -> Option<i64> {
        self.records()
            .filter_map(|record| lock(record).next_due())
            .min()
    }

    /// Moves every clock to `due`, firing the timers due by then.
    fn advance_to(&mut self, due: i64) {
        for record in self.records() {
            lock(record).advance_to(due);
        }
        self.settle_children();
    }

    /// The execution that created `callback_id`.
    fn callback_owner(
        &self,
        callback_id: &str,
    ) -> Result<MutexGuard<'_, ExecutionRecord>, SendCallbackError> {
        self.records()
            .map(|record| lock(record))
            .find(|record| record.owns_callback(callback_id))
            .ok_or_else(|| SendCallbackError::NotFound {
                callback_id: callback_id.to_string(),
            })
    }

    /// Invokes whatever can make progress, and moves the clock when nothing can.
    async fn drive(&mut self, stop_before_callback_deadlines: bool) -> Result<(), RunnerError> {
        loop {
            if self.status() != ExecutionStatus::Running {
                return Ok(());
            }
            if lock(&self.record).needs_invocation() {
                self.invoke_once().await?;
                continue;
            }
            let child = self
                .children
                .iter()
                .position(|child| lock(&child.record).needs_invocation());
            if let Some(index) = child {
                self.invoke_child(index).await?;
                continue;
            }
            // Suspended: only a timer (or an external event) can resume it.
            let Some(due) = self.next_due() else {
                return Ok(());
            };
            if stop_before_callback_deadlines
                && self
                    .records()
                    .any(|record| lock(record).callback_deadline_at(due))
            {
                return Ok(());
            }
            // In real time, the timer fires when tokio's clock gets there.
            let at = lock(&self.record).instant_of(due);
            if let Some(at) = at {
                tokio::time::sleep_until(at).await;
            }
            self.advance_to(due);
        }
    }

    async fn invoke_child(&mut self, index: usize) -> Result<(), RunnerError> {
        let Some(child) = self.children.get(index) else {
            return Ok(());
        };
        let record = Arc::clone(&child.record);
        let handler = child.handler.clone();
        invoke(
            &self.service,
            &record,
            &handler,
            &self.settings,
            None,
            self.max_invocations,
        )
        .await?;
        self.after_invocation(&record).await
    }

    /// What the service does when an invocation of `record` ends: answers new callbacks
    /// with the responders, runs new chained invokes, and reports finished executions to
    /// the invokes that started them.
    async fn after_invocation(&mut self, record: &SharedRecord) -> Result<(), RunnerError> {
        self.respond_to_callbacks(record)?;
        self.start_invokes(record).await?;
        self.settle_children();
        Ok(())
    }

    fn respond_to_callbacks(&self, record: &SharedRecord) -> Result<(), RunnerError> {
        let mut record = lock(record);
        if let Some(err) = record.responder_error.take() {
            return Err(RunnerError::Callback(err));
        }
        record
            .respond_to_new_callbacks()
            .map_err(RunnerError::Callback)
    }

    async fn start_invokes(&mut self, record: &SharedRecord) -> Result<(), RunnerError> {
        let (started, parent_arn, now) = {
            let mut parent = lock(record);
            (parent.take_new_invokes(), parent.arn.clone(), parent.now())
        };
        let functions = Arc::clone(&self.functions);
        for invoke in started {
            match functions.lookup(&invoke.function_name) {
                None => {
                    let error = error_object(
                        FUNCTION_NOT_FOUND,
                        &format!("Function not found: {}", invoke.function_name),
                    );
                    lock(record).complete_invoke(
                        invoke.index,
                        OperationStatus::Failed,
                        None,
                        Some(error),
                    );
                }
                Some((_, Target::Plain(function))) => {
                    let outcome = run_plain(function, invoke.payload.as_deref()).await;
                    let (status, result, error) = match outcome {
                        Ok(result) => (OperationStatus::Succeeded, Some(result), None),
                        Err(error) => (OperationStatus::Failed, None, Some(error)),
                    };
                    lock(record).complete_invoke(invoke.index, status, result, error);
                }
                Some((name, Target::Durable(handler))) => {
                    let config = ExecutionConfig {
                        function_name: name.to_string(),
                        execution_timeout: functions
                            .timeouts
                            .get(name)
                            .copied()
                            .map(timeout_seconds),
                        ..self.child_config.clone()
                    };
                    let child = self.service.create_execution_at(
                        invoke.payload.unwrap_or_default(),
                        config,
                        now,
                    )?;
                    let arn = lock(&child).arn.clone();
                    lock(record).set_invoke_child(invoke.index, &arn);
                    self.children.push(Child {
                        record: child,
                        arn,
                        handler: handler.clone(),
                        parent: Arc::clone(record),
                        parent_arn: parent_arn.clone(),
                        parent_op: invoke.index,
                        reported: false,
                    });
                }
            }
        }
        Ok(())
    }

    /// Completes the invokes whose executions finished.
    fn settle_children(&mut self) {
        for child in &mut self.children {
            if child.reported {
                continue;
            }
            let (status, result, error) = lock(&child.record).outcome();
            let (status, result, error) = match status {
                // The local service only records the statuses it knows.
                ExecutionStatus::Running | ExecutionStatus::Unknown(_) => continue,
                ExecutionStatus::Succeeded => (
                    OperationStatus::Succeeded,
                    Some(result.unwrap_or_else(|| "null".to_string())),
                    None,
                ),
                ExecutionStatus::TimedOut => (OperationStatus::TimedOut, None, error),
                ExecutionStatus::Stopped => (OperationStatus::Stopped, None, error),
                ExecutionStatus::Failed => (OperationStatus::Failed, None, error),
                _ => continue,
            };
            lock(&child.parent).complete_invoke(child.parent_op, status, result, error);
            child.reported = true;
        }
    }

    /// The executions `parent_arn` started, each with its own children.
    fn collect_children(&self, parent_arn: &str, take: bool) -> Vec<Execution> {
        self.children
            .iter()
            .filter(|child| child.parent_arn == parent_arn)
            .map(|child| {
                let mut execution = if take {
                    lock(&child.record).take()
                } else {
                    lock(&child.record).snapshot()
                };
                execution.children = self.collect_children(&child.arn, take);
                execution
            })
            .collect()
    }
}

impl Drop for RunningExecution {
    fn drop(&mut self) {
        self.service.remove(&self.arn);
        for child in &self.children {
            self.service.remove(&child.arn);
        }
    }
}

/// Invokes the function of `record` once, with a Lambda deadline `timeout` from now if
/// there is one.
async fn invoke(
    service: &Arc<LocalService>,
    record: &SharedRecord,
    handler: &DurableFunction,
    settings: &SdkSettings,
    timeout: Option<Duration>,
    max_invocations: u32,
) -> Result<InvocationOutcome, RunnerError> {
    let runtime = settings.runtime(service)?;
    let margin = runtime.deadline_margin();
    let function = (handler.0)(runtime).await;
    let mut context = LambdaContext::default();
    let (input, mut crashed) = {
        let mut record = lock(record);
        if record.invocation_count() >= max_invocations as usize {
            return Err(RunnerError::TooManyInvocations {
                limit: max_invocations,
            });
        }
        let begun = record.begin_invocation()?;
        if let Some(timeout) = timeout {
            let deadline = tokio::time::Instant::now() + timeout;
            record.set_time_up(time_up(deadline, margin));
            // The SDK reads the deadline as Lambda sends it: milliseconds since the epoch.
            let epoch_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .saturating_add(timeout)
                .as_millis();
            context.deadline = u64::try_from(epoch_ms).unwrap_or(u64::MAX);
        }
        begun
    };
    service.count_invocation();
    // The service's call to the function takes as long as any other call.
    let latency = service.call_latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let raw = {
        let invocation = function.invoke(input, context);
        tokio::pin!(invocation);
        tokio::select! {
            biased;
            Ok(call) = crash_signal(&mut crashed) => RawOutcome::Crashed(call),
            output = &mut invocation => match output {
                Ok(output) => RawOutcome::Output(output),
                Err(err) => RawOutcome::FunctionError(err.error_message),
            },
        }
        // A crashed invocation is dropped here, in the middle of whatever it was doing.
    };
    Ok(lock(record).end_invocation(raw))
}

/// When an invocation with this Lambda `deadline` is surely past the SDK's soft deadline
/// (the deadline less `margin`, at most half the invocation) and
/// still has time to write what is queued: halfway through that margin.
fn time_up(deadline: tokio::time::Instant, margin: Duration) -> tokio::time::Instant {
    let total = deadline.saturating_duration_since(tokio::time::Instant::now());
    let margin = margin.min(total / 2);
    deadline.checked_sub(margin / 2).unwrap_or(deadline)
}

/// Runs a plain function with a chained invoke's payload.
async fn run_plain(function: &PlainFunction, payload: Option<&str>) -> Result<String, ErrorObject> {
    let event = match payload {
        None => Value::Null,
        Some(text) if text.trim().is_empty() => Value::Null,
        Some(text) => serde_json::from_str(text).map_err(|err| {
            error_object(
                INVALID_PAYLOAD,
                &format!("Could not parse the payload as JSON: {err}"),
            )
        })?,
    };
    let result = function(event).await?;
    Ok(result.to_string())
}

/// Resolves with the checkpoint call number when the service crashes the invocation.
async fn crash_signal(
    crashed: &mut watch::Receiver<Option<u64>>,
) -> Result<u64, watch::error::RecvError> {
    let value = crashed.wait_for(Option::is_some).await?;
    let call = (*value).unwrap_or_default();
    Ok(call)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_match_by_their_bare_name() {
        assert_eq!(bare_name("labels"), "labels");
        assert_eq!(bare_name("labels:prod"), "labels");
        assert_eq!(
            bare_name("arn:aws:lambda:us-east-1:123456789012:function:labels:$LATEST"),
            "labels"
        );
        assert_eq!(
            bare_name("arn:aws:lambda:us-east-1:123456789012:function:labels"),
            "labels"
        );
        assert_eq!(bare_name("123456789012:function:labels"), "labels");
        assert_eq!(bare_name(""), "");
        assert_eq!(bare_name(":function:"), "");
    }

    #[test]
    fn timeouts_are_whole_seconds_within_the_service_range() {
        assert_eq!(timeout_seconds(Duration::ZERO), 1);
        assert_eq!(timeout_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(timeout_seconds(Duration::from_secs(60)), 60);
        assert_eq!(timeout_seconds(Duration::MAX), 31_622_400);
        assert_eq!(millis(Duration::MAX), i64::MAX);
    }
}
