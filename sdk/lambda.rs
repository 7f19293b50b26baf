//! Running a durable handler on AWS Lambda: [`run`], and [`Runtime`] for settings.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, SystemTime};

use lambda_runtime::tower::layer::layer_fn;
use lambda_runtime::tower::util::BoxService;
use lambda_runtime::tower::Layer;
use lambda_runtime::{Diagnostic, LambdaEvent, LambdaInvocation, Service};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::checkpoint::aws::AwsService;
use crate::checkpoint::{BoxFuture, DurableService};
use crate::config::{deadline_margin_from_env, CheckpointConfig, ConfigError};
use crate::context::DurableContext;
use crate::error::Error;
use crate::handler::{erase, execute, ErasedHandler, InvocationOptions};
use crate::plugin::{Hooks, Plugin};
use crate::serdes::ValueSerdes;
use crate::wire::{DurableExecutionInvocationInput, DurableExecutionInvocationOutput};

/// Serves a durable handler on AWS Lambda, with the default settings.
///
/// `handler` is an async function taking the user's event (any type that deserializes from
/// the execution's input; `()` or `Option<T>` when there may be none) and a
/// [`DurableContext`], and returning `Result<T, E>` for any serializable `T` and any error
/// type `E`. Each invocation replays the handler from the start: operations already
/// recorded return their recorded results, new ones run and are checkpointed.
///
/// The SDK talks to the durable-execution API through `aws-sdk-lambda`, configured from the
/// environment by `aws-config` (so `AWS_ENDPOINT_URL_LAMBDA` points it at another endpoint).
/// It is `Runtime::builder().build()?.run(handler)`: see [`Runtime`] to change the
/// settings.
///
/// ```no_run
/// use lambda_durable::DurableContext;
///
/// #[derive(serde::Deserialize)]
/// struct Order { id: String }
///
/// async fn handler(order: Order, ctx: DurableContext) -> Result<String, lambda_durable::Error> {
///     let id = order.id.clone();
///     ctx.step("reserve", |_| async move { Ok::<_, std::io::Error>(format!("reserved {id}")) })
///         .await
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), lambda_runtime::Error> {
///     lambda_durable::run(handler).await
/// }
/// ```
///
/// # Errors
///
/// A [`ConfigError`] when `LAMBDA_DURABLE_DEADLINE_MARGIN_MS` is set to something else than
/// a number of milliseconds, and the errors of [`lambda_runtime::Runtime::run`] (the Lambda
/// runtime API is unreachable).
pub async fn run<H, E, T, Err, Fut>(handler: H) -> Result<(), lambda_runtime::Error>
where
    H: Fn(E, DurableContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, Err>> + Send + 'static,
    E: DeserializeOwned,
    T: Serialize,
    Err: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    Runtime::builder().build()?.run(handler).await
}

/// The service of the Lambda runtime that user layers wrap: lambda_runtime's own, which
/// reads invocations from the runtime API and posts their results, boxed so that it can be
/// named.
type InvocationService = BoxService<LambdaInvocation, (), lambda_runtime::Error>;

/// A user layer, applied to the service it wraps.
type BoxedLayer = Box<dyn Fn(InvocationService) -> InvocationService + Send>;

/// Where the durable-execution service comes from.
enum ServiceSource {
    /// `aws-sdk-lambda`, configured from the environment when the runtime starts.
    Environment,
    /// `aws-sdk-lambda`, configured from this shared configuration.
    SdkConfig(Box<aws_config::SdkConfig>),
    /// This AWS client.
    Client(aws_sdk_lambda::Client),
    /// The user's own service.
    Custom(Arc<dyn DurableService>),
}

/// How long the runtime's start waits for the service's warm-up (see
/// [`DurableService::warm_up`]); a warm-up that takes longer (credentials looked up far away)
/// finishes in the background.
const WARM_UP_WAIT: Duration = Duration::from_millis(250);

/// Warms `service` up during init, waiting at most [`WARM_UP_WAIT`].
async fn warm_up(service: &Arc<dyn DurableService>) {
    let service = Arc::clone(service);
    let warming = tokio::spawn(async move { service.warm_up().await });
    if tokio::time::timeout(WARM_UP_WAIT, warming).await.is_err() {
        tracing::debug!("the durable-execution client's warm-up goes on in the background");
    }
}

impl ServiceSource {
    async fn resolve(self) -> Arc<dyn DurableService> {
        match self {
            Self::Environment => Arc::new(AwsService::from_env().await),
            Self::SdkConfig(config) => Arc::new(AwsService::from_sdk_config(&config)),
            Self::Client(client) => Arc::new(AwsService::from_client(client)),
            Self::Custom(service) => service,
        }
    }
}

impl std::fmt::Debug for ServiceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Environment => "aws-sdk-lambda configured from the environment",
            Self::SdkConfig(_) => "aws-sdk-lambda configured from an SdkConfig",
            Self::Client(_) => "a given aws-sdk-lambda client",
            Self::Custom(_) => "a custom DurableService",
        })
    }
}

/// The settings of a [`Runtime`], checked by [`build`](Self::build). Made by
/// [`Runtime::builder`].
///
/// | setting | default |
/// |---|---|
/// | [`aws_config`](Self::aws_config), [`lambda_client`](Self::lambda_client), [`durable_service`](Self::durable_service): how the SDK reaches the durable-execution API | `aws-sdk-lambda` configured from the environment |
/// | [`deadline_margin`](Self::deadline_margin) | `LAMBDA_DURABLE_DEADLINE_MARGIN_MS`, else 2 s |
/// | [`checkpoint`](Self::checkpoint) | [`CheckpointConfig::default`]: the service's limits, 20 ms linger |
/// | [`log_during_replay`](Self::log_during_replay) | off |
/// | [`default_serdes`](Self::default_serdes) | JSON |
/// | [`layer`](Self::layer) | none (lambda_runtime's `TracingLayer` is always there) |
///
/// Of `aws_config`, `lambda_client` and `durable_service`, the last one called wins.
pub struct RuntimeBuilder {
    service: ServiceSource,
    deadline_margin: Option<Duration>,
    checkpoint: CheckpointConfig,
    log_during_replay: bool,
    default_serdes: crate::serdes::DefaultSerdes,
    layers: Vec<BoxedLayer>,
    plugins: Vec<Arc<dyn Plugin>>,
}

impl std::fmt::Debug for RuntimeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeBuilder")
            .field("service", &self.service)
            .field("deadline_margin", &self.deadline_margin)
            .field("checkpoint", &self.checkpoint)
            .field("log_during_replay", &self.log_during_replay)
            .field("default_serdes", &self.default_serdes)
            .field("layers", &self.layers.len())
            .field("plugins", &self.plugins.len())
            .finish()
    }
}

impl Default for RuntimeBuilder {
    fn default() -> Self {
        Self {
            service: ServiceSource::Environment,
            deadline_margin: None,
            checkpoint: CheckpointConfig::default(),
            log_during_replay: false,
            default_serdes: crate::serdes::DefaultSerdes::default(),
            layers: Vec::new(),
            plugins: Vec::new(),
        }
    }
}

impl RuntimeBuilder {
    /// Calls the durable-execution API with an `aws-sdk-lambda` client made from `config`
    /// (its region, endpoint, credentials, HTTP client, ...), with the SDK's retry and
    /// timeout settings (see [`AwsService::from_sdk_config`](crate::service::AwsService::from_sdk_config)).
    pub fn aws_config(mut self, config: aws_config::SdkConfig) -> Self {
        self.service = ServiceSource::SdkConfig(Box::new(config));
        self
    }

    /// Calls the durable-execution API with `client`, as it is configured (see
    /// [`AwsService::from_client`](crate::service::AwsService::from_client): leave its
    /// retries off).
    pub fn lambda_client(mut self, client: aws_sdk_lambda::Client) -> Self {
        self.service = ServiceSource::Client(client);
        self
    }

    /// Calls the durable-execution API through `service`: another transport, or a wrapper
    /// of [`AwsService`](crate::service::AwsService) that observes its calls (see the
    /// [`service`](crate::service) module).
    pub fn durable_service(mut self, service: impl DurableService) -> Self {
        self.service = ServiceSource::Custom(Arc::new(service));
        self
    }

    /// How long before the Lambda deadline an invocation stops running the handler, cuts
    /// running steps and writes what is queued (see the README's section on deadlines); it
    /// is at most half of the invocation's time. By default the number of milliseconds in
    /// `LAMBDA_DURABLE_DEADLINE_MARGIN_MS`, else 2 s; a margin set here wins over the
    /// variable.
    pub fn deadline_margin(mut self, margin: Duration) -> Self {
        self.deadline_margin = Some(margin);
        self
    }

    /// How updates are grouped into checkpoint calls (see [`CheckpointConfig`]).
    pub fn checkpoint(mut self, config: CheckpointConfig) -> Self {
        self.checkpoint = config;
        self
    }

    /// Whether the loggers of durable contexts ([`DurableContext::logger`]) also emit the
    /// records made while the code replays operations of earlier invocations (off by
    /// default: each record is then emitted once, by the invocation that first ran it).
    pub fn log_during_replay(mut self, on: bool) -> Self {
        self.log_during_replay = on;
        self
    }

    /// Writes the values of every step, child context, wait-for-condition state, map and
    /// parallel (branches and result) and [`with_retry`](crate::DurableContext::with_retry)
    /// block whose serdes is not set with `serdes` instead of JSON (see
    /// [`ValueSerdes`]). An operation's own `.serdes(..)` still wins. Values that cross to
    /// other systems keep their own format: callback results, and invoke payloads and
    /// results.
    ///
    /// Change it only with no execution in flight, or with a `ValueSerdes` that still
    /// reads what the previous one wrote: a replay reads the recorded values with it.
    pub fn default_serdes(mut self, serdes: impl ValueSerdes) -> Self {
        self.default_serdes = crate::serdes::DefaultSerdes::new(Some(Arc::new(serdes)));
        self
    }

    /// Registers an instrumentation plugin (see [`plugin`](crate::plugin)): it observes
    /// every invocation, operation and run of user code. Plugins are called in the order
    /// they are registered; one that fails or panics is logged and ignored.
    pub fn plugin(mut self, plugin: impl Plugin) -> Self {
        self.plugins.push(Arc::new(plugin));
        self
    }

    /// Registers a plugin that is shared (with a test that reads what it recorded, for
    /// example); see [`plugin`](Self::plugin).
    pub fn shared_plugin(mut self, plugin: Arc<dyn Plugin>) -> Self {
        self.plugins.push(plugin);
        self
    }

    /// Wraps the Lambda runtime's service in `layer`, like [`lambda_runtime::Runtime::layer`]:
    /// any `tower` layer over a service of [`LambdaInvocation`]s, such as
    /// lambda_runtime's `OpenTelemetryLayer` (feature `opentelemetry`) or a layer of your
    /// own that times or counts invocations. For an incoming invocation, a layer runs
    /// before the layers added before it. The SDK adds lambda_runtime's `TracingLayer` (a
    /// span per invocation with its request id) inside every user layer.
    ///
    /// The layers wrap lambda_runtime's service, which only [`Runtime::run`] makes; they
    /// are not part of [`Runtime::into_service`].
    ///
    /// ```no_run
    /// use std::task::{Context, Poll};
    /// use lambda_durable::lambda_runtime::tower::{Layer, Service};
    /// use lambda_durable::lambda_runtime::LambdaInvocation;
    /// use lambda_durable::{DurableContext, Error, Runtime};
    ///
    /// /// Logs how long each invocation took, response included.
    /// #[derive(Clone)]
    /// struct Timed<S>(S);
    ///
    /// impl<S: Service<LambdaInvocation>> Service<LambdaInvocation> for Timed<S>
    /// where
    ///     S::Future: Send + 'static,
    /// {
    ///     type Response = S::Response;
    ///     type Error = S::Error;
    ///     type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>;
    ///
    ///     fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
    ///         self.0.poll_ready(cx)
    ///     }
    ///
    ///     fn call(&mut self, invocation: LambdaInvocation) -> Self::Future {
    ///         let request_id = invocation.context.request_id.clone();
    ///         let started = std::time::Instant::now();
    ///         let done = self.0.call(invocation);
    ///         Box::pin(async move {
    ///             let result = done.await;
    ///             println!("{request_id} took {:?}", started.elapsed());
    ///             result
    ///         })
    ///     }
    /// }
    ///
    /// struct TimedLayer;
    ///
    /// impl<S> Layer<S> for TimedLayer {
    ///     type Service = Timed<S>;
    ///     fn layer(&self, inner: S) -> Timed<S> {
    ///         Timed(inner)
    ///     }
    /// }
    ///
    /// async fn handler(_: (), ctx: DurableContext) -> Result<(), Error> {
    ///     ctx.logger().info("hello");
    ///     Ok(())
    /// }
    ///
    /// #[tokio::main]
    /// async fn main() -> Result<(), lambda_runtime::Error> {
    ///     Runtime::builder().layer(TimedLayer).build()?.run(handler).await
    /// }
    /// ```
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<InvocationService> + Send + 'static,
        L::Service: Service<LambdaInvocation, Response = (), Error = lambda_runtime::Error>
            + Send
            + 'static,
        <L::Service as Service<LambdaInvocation>>::Future: Send + 'static,
    {
        self.layers
            .push(Box::new(move |inner| BoxService::new(layer.layer(inner))));
        self
    }

    /// Checks the settings and makes the runtime. Reads `LAMBDA_DURABLE_DEADLINE_MARGIN_MS`
    /// when no [`deadline_margin`](Self::deadline_margin) was given; the AWS configuration
    /// is read from the environment when the runtime starts, if it was not given.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] naming the setting that is out of its range (see
    /// [`CheckpointConfig`]), or `LAMBDA_DURABLE_DEADLINE_MARGIN_MS` when it is set to
    /// something else than a whole number of milliseconds.
    pub fn build(self) -> Result<Runtime, ConfigError> {
        self.checkpoint.validate()?;
        let deadline_margin = match self.deadline_margin {
            Some(margin) => margin,
            None => deadline_margin_from_env()?,
        };
        let defaults = InvocationOptions::default();
        let options = InvocationOptions {
            batcher: self.checkpoint.apply(defaults.batcher.clone()),
            log_during_replay: self.log_during_replay,
            default_serdes: self.default_serdes,
            deadline_margin,
            hooks: Hooks::new(self.plugins),
            ..defaults
        };
        Ok(Runtime {
            service: self.service,
            options,
            layers: self.layers,
        })
    }
}

/// Serves durable handlers on AWS Lambda with settings of your own: the AWS client or
/// another transport for the durable-execution API, the deadline margin, checkpoint
/// batching, logging during replay and `tower` layers around the Lambda runtime's service.
/// [`run`] is `Runtime::builder().build()?.run(handler)`.
///
/// A builder ([`Runtime::builder`], see [`RuntimeBuilder`] for every setting and its
/// default) checks the settings once, in [`build`](RuntimeBuilder::build), so that a bad
/// value is an error when the function starts, not a panic in an invocation.
///
/// ```no_run
/// use std::time::Duration;
/// use lambda_durable::{CheckpointConfig, DurableContext, Error, Runtime};
///
/// async fn handler(_: (), ctx: DurableContext) -> Result<(), Error> {
///     ctx.logger().info("started");
///     Ok(())
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), lambda_runtime::Error> {
///     lambda_durable::logging::init_subscriber();
///     let aws = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
///     Runtime::builder()
///         .aws_config(aws)
///         .deadline_margin(Duration::from_secs(5))
///         .checkpoint(CheckpointConfig::new().linger(Duration::from_millis(50)))
///         .log_during_replay(true)
///         .build()?
///         .run(handler)
///         .await
/// }
/// ```
pub struct Runtime {
    service: ServiceSource,
    /// The settings of every invocation, but its deadline, request id and tenant.
    options: InvocationOptions,
    layers: Vec<BoxedLayer>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("service", &self.service)
            .field("deadline_margin", &self.options.deadline_margin)
            .field("batcher", &self.options.batcher)
            .field("log_during_replay", &self.options.log_during_replay)
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl Runtime {
    /// The settings of a runtime, all at their defaults (see [`RuntimeBuilder`]).
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// How long before an invocation's deadline the SDK stops starting work and suspends:
    /// the [`deadline_margin`](RuntimeBuilder::deadline_margin) given, else
    /// `LAMBDA_DURABLE_DEADLINE_MARGIN_MS`, else the default.
    pub fn deadline_margin(&self) -> Duration {
        self.options.deadline_margin
    }

    /// Serves `handler` on the Lambda runtime API until the runtime API goes away, as
    /// [`run`] does, with these settings. `handler` has the same shape as for [`run`].
    ///
    /// # Errors
    ///
    /// The errors of [`lambda_runtime::Runtime::run`] (the Lambda runtime API is
    /// unreachable).
    ///
    /// # Panics
    ///
    /// As [`lambda_runtime::Runtime::new`], when the environment variables Lambda sets
    /// (`AWS_LAMBDA_FUNCTION_NAME`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`,
    /// `AWS_LAMBDA_FUNCTION_VERSION`, `AWS_LAMBDA_RUNTIME_API`) are missing.
    pub async fn run<H, E, T, Err, Fut>(mut self, handler: H) -> Result<(), lambda_runtime::Error>
    where
        H: Fn(E, DurableContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, Err>> + Send + 'static,
        E: DeserializeOwned,
        T: Serialize,
        Err: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        if cfg!(panic = "abort") {
            // `cargo lambda build --release` sets it unless the profile says otherwise.
            tracing::warn!(
                "built with panic = \"abort\": a panic in a step, a branch or a child context ends the process instead of failing that operation; set `[profile.release] panic = \"unwind\"`"
            );
        }
        let layers = std::mem::take(&mut self.layers);
        let service = self.into_service(handler).await;
        let runtime = lambda_runtime::Runtime::new(service)
            .layer(lambda_runtime::layers::TracingLayer::new())
            .layer(layer_fn(InvocationService::new));
        layers
            .into_iter()
            .fold(runtime, |runtime, apply| runtime.layer(layer_fn(apply)))
            .run()
            .await
    }

    /// The Lambda function this runtime makes of `handler`, as a `tower` service of
    /// Lambda events, without serving it: for a [`lambda_runtime::Runtime`] set up by
    /// hand (SnapStart resources, concurrency), or to run invocations in a test. The AWS
    /// configuration is read from the environment now if none was given. The builder's
    /// [layers](RuntimeBuilder::layer) are not part of it.
    ///
    /// ```
    /// use lambda_durable::lambda_runtime::{Context, LambdaEvent, Service};
    /// use lambda_durable::wire::InvocationStatus;
    /// use lambda_durable::{DurableContext, Error, Runtime};
    /// # use lambda_durable::service::{BoxFuture, DurableService};
    /// # use lambda_durable::wire::*;
    /// # use lambda_durable::ServiceError;
    /// # struct Fake;
    /// # impl DurableService for Fake {
    /// #     fn checkpoint<'a>(&'a self, _: &'a str, _: &'a CheckpointDurableExecutionRequest)
    /// #         -> BoxFuture<'a, Result<CheckpointDurableExecutionResponse, ServiceError>> {
    /// #         Box::pin(async { Ok(from_value(serde_json::json!({"CheckpointToken": "next"})).unwrap()) })
    /// #     }
    /// #     fn get_state<'a>(&'a self, _: &'a str, _: &'a GetDurableExecutionStateRequest)
    /// #         -> BoxFuture<'a, Result<GetDurableExecutionStateResponse, ServiceError>> {
    /// #         unreachable!()
    /// #     }
    /// # }
    ///
    /// async fn greet(name: String, _ctx: DurableContext) -> Result<String, Error> {
    ///     Ok(format!("hello {name}"))
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut function = Runtime::builder().durable_service(Fake).build()?.into_service(greet).await;
    /// let envelope = serde_json::json!({
    ///     "DurableExecutionArn": "arn:aws:lambda:us-east-1:123456789012:function:greet:$LATEST/durable-execution/e/1",
    ///     "CheckpointToken": "token-0",
    ///     "InitialExecutionState": {"Operations": [{
    ///         "Id": "e", "Type": "EXECUTION", "Status": "STARTED",
    ///         "ExecutionDetails": {"InputPayload": "\"world\""}
    ///     }]}
    /// });
    /// let event = LambdaEvent::new(envelope, Context::default());
    /// // An invocation Lambda should retry is a `Diagnostic`, the error Lambda is sent.
    /// let output = function.call(event).await.map_err(|err| err.error_message)?;
    /// assert_eq!(output.status, InvocationStatus::Succeeded);
    /// assert_eq!(output.result.as_deref(), Some("\"hello world\""));
    /// # Ok(()) }
    /// ```
    pub fn into_service<H, E, T, Err, Fut>(self, handler: H) -> BoxFuture<'static, HandlerService>
    where
        H: Fn(E, DurableContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, Err>> + Send + 'static,
        E: DeserializeOwned,
        T: Serialize,
        Err: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        // The handler's types are erased before the future is made, so that the future
        // does not depend on them (it is `'static` even when the event or result type is
        // not known to be).
        let handler = erase(handler);
        Box::pin(async move {
            let service = self.service.resolve().await;
            warm_up(&service).await;
            HandlerService {
                shared: Arc::new(Shared {
                    handler,
                    service,
                    options: self.options,
                }),
            }
        })
    }
}

/// A durable handler as a Lambda function: a `tower` [`Service`] that takes the Lambda
/// event of a durable invocation (the envelope, with the Lambda context) and answers with
/// the invocation's output. Made by [`Runtime::into_service`]; cheap to clone.
///
/// A malformed envelope, or an invocation that must be retried (the service could not be
/// reached, the deadline came while work could progress), is an error ([`Diagnostic`]):
/// Lambda then invokes the function again.
#[derive(Clone)]
pub struct HandlerService {
    shared: Arc<Shared>,
}

struct Shared {
    handler: ErasedHandler,
    service: Arc<dyn DurableService>,
    options: InvocationOptions,
}

impl std::fmt::Debug for HandlerService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandlerService")
            .field("deadline_margin", &self.shared.options.deadline_margin)
            .field("log_during_replay", &self.shared.options.log_during_replay)
            .finish_non_exhaustive()
    }
}

impl Service<LambdaEvent<Value>> for HandlerService {
    type Response = DurableExecutionInvocationOutput;
    type Error = Diagnostic;
    type Future = BoxFuture<'static, Result<DurableExecutionInvocationOutput, Diagnostic>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Diagnostic>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, event: LambdaEvent<Value>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            // An envelope that cannot be parsed is a function error, not a FAILED output:
            // Lambda retries the invocation, and a redeployed function (an SDK that reads
            // the envelope) can still continue the execution, which FAILED would end for
            // good.
            let input = parse_envelope(event.payload).map_err(|err| {
                tracing::error!(error = %err, "malformed durable invocation envelope");
                Diagnostic {
                    error_type: err.error_type().to_string(),
                    error_message: err.to_string(),
                }
            })?;
            this.invoke(input, event.context).await
        })
    }
}

impl HandlerService {
    /// Runs one invocation from an envelope that is already parsed, with the Lambda
    /// `context` of the invocation (its deadline, request id and tenant id are used): what
    /// [`Service::call`] does after reading the event. For code that drives invocations
    /// itself, such as a test runner that emulates the service.
    ///
    /// # Errors
    ///
    /// A [`Diagnostic`] when the invocation must end with a function error so that Lambda
    /// invokes the function again: the service could not be reached, or the deadline came
    /// while work could still progress.
    pub async fn invoke(
        &self,
        input: DurableExecutionInvocationInput,
        context: lambda_runtime::Context,
    ) -> Result<DurableExecutionInvocationOutput, Diagnostic> {
        invoke(&self.shared, input, context).await
    }
}

async fn invoke(
    shared: &Shared,
    input: DurableExecutionInvocationInput,
    context: lambda_runtime::Context,
) -> Result<DurableExecutionInvocationOutput, Diagnostic> {
    let deadline = match context.deadline().duration_since(SystemTime::now()) {
        Ok(remaining) if !remaining.is_zero() => Some(tokio::time::Instant::now() + remaining),
        // A context without a deadline (`Context::default()`, as a test makes it).
        _ if context.deadline == 0 => None,
        _ => {
            // Local tools send a relative value that reads as a date in 1970; suspending
            // at the first await would make no progress at all.
            tracing::warn!(
                deadline_ms = context.deadline,
                "the invocation's deadline has already passed when it starts; running without one"
            );
            None
        }
    };
    let options = InvocationOptions {
        deadline,
        request_id: Some(context.request_id.as_str())
            .filter(|id| !id.is_empty())
            .map(Into::into),
        tenant_id: context.tenant_id.as_deref().map(Into::into),
        trace_id: context.xray_trace_id.as_deref().map(Into::into),
        ..shared.options.clone()
    };
    execute(
        Arc::clone(&shared.service),
        input,
        &shared.handler,
        &options,
    )
    .await
    .map_err(|err| Diagnostic {
        error_type: "DurableInvocationError".to_string(),
        error_message: err.to_string(),
    })
}

/// Parses the invocation envelope, naming what is wrong with a malformed one.
pub(crate) fn parse_envelope(payload: Value) -> Result<DurableExecutionInvocationInput, Error> {
    if !payload.is_object() {
        return Err(Error::invalid_input(format!(
            "expected a durable execution envelope (a JSON object with DurableExecutionArn and CheckpointToken), got {}; is durable execution configured for this function?",
            json_kind(&payload)
        )));
    }
    crate::wire::from_value::<DurableExecutionInvocationInput>(payload).map_err(|err| {
        let hint = if err.path() == "." {
            "; is durable execution configured for this function?"
        } else {
            ""
        };
        Error::invalid_input(format!("malformed durable execution envelope: {err}{hint}"))
    })
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message(payload: Value) -> String {
        parse_envelope(payload).unwrap_err().to_string()
    }

    #[test]
    fn malformed_envelopes_are_errors_that_name_the_problem() {
        let m = message(json!("just a string"));
        assert!(m.contains("got a string"), "{m}");
        assert!(m.contains("durable execution configured"), "{m}");

        let m = message(json!({"CheckpointToken": "t"}));
        assert!(m.contains("DurableExecutionArn"), "{m}");

        let m = message(json!({"DurableExecutionArn": "arn", "CheckpointToken": 7}));
        assert!(m.contains("CheckpointToken"), "{m}");

        // An enumeration value the schemas do not list is kept, not an error: only
        // replay reaching that operation fails (see the handler's tests).
        let input = parse_envelope(json!({
            "DurableExecutionArn": "arn", "CheckpointToken": "t",
            "InitialExecutionState": {"Operations": [
                {"Id": "e", "Type": "EXECUTION", "Status": "STARTED"},
                {"Id": "s", "Type": "STEP", "Status": "SLEEPING"},
                {"Id": "n", "Type": "NEW_KIND", "Status": "STARTED"}
            ]}
        }))
        .unwrap();
        let operations = input.initial_execution_state.unwrap().operations;
        assert_eq!(operations[1].status.as_str(), "SLEEPING");
        assert!(operations[1].status.is_unknown());
        assert_eq!(operations[2].type_.to_string(), "NEW_KIND");

        let m = message(json!({
            "DurableExecutionArn": "arn", "CheckpointToken": "t",
            "InitialExecutionState": {"Operations": [
                {"Id": "e", "Type": "EXECUTION", "Status": 3}
            ]}
        }));
        assert!(
            m.contains("InitialExecutionState.Operations[0].Status"),
            "{m}"
        );

        let m = message(json!({
            "DurableExecutionArn": "arn", "CheckpointToken": "t",
            "InitialExecutionState": {"Operations": [{"Id": "bad id!", "Type": "STEP", "Status": "STARTED"}]}
        }));
        assert!(m.contains("Operations[0].Id"), "{m}");
    }

    /// A service that is never reached: the envelope is rejected first.
    struct Unreachable;

    impl DurableService for Unreachable {
        fn checkpoint<'a>(
            &'a self,
            _arn: &'a str,
            _request: &'a crate::wire::CheckpointDurableExecutionRequest,
        ) -> crate::checkpoint::BoxFuture<
            'a,
            Result<
                crate::wire::CheckpointDurableExecutionResponse,
                crate::checkpoint::ServiceError,
            >,
        > {
            unreachable!("the envelope is rejected before any checkpoint")
        }

        fn get_state<'a>(
            &'a self,
            _arn: &'a str,
            _request: &'a crate::wire::GetDurableExecutionStateRequest,
        ) -> crate::checkpoint::BoxFuture<
            'a,
            Result<crate::wire::GetDurableExecutionStateResponse, crate::checkpoint::ServiceError>,
        > {
            unreachable!("the envelope is rejected before any state page")
        }
    }

    /// An envelope that cannot be parsed at all ends the invocation with a function error
    /// (Lambda retries it, and a redeployed SDK that reads it can continue the execution),
    /// never with a FAILED output, which would end the execution for good.
    #[tokio::test]
    async fn unparseable_envelopes_are_function_errors() {
        let handler =
            erase(|_event: Value, _ctx: DurableContext| async { Ok::<_, Error>("unreachable") });
        let cases = [
            json!("just a string"),
            json!(null),
            json!({"CheckpointToken": "t"}),
            json!({"DurableExecutionArn": "arn:test"}),
            json!({"DurableExecutionArn": "arn:test", "CheckpointToken": 7}),
            json!({"DurableExecutionArn": "arn:test", "CheckpointToken": "t",
                   "InitialExecutionState": {"Operations": {"not": "a list"}}}),
            json!({"DurableExecutionArn": "arn:test", "CheckpointToken": "t",
                   "InitialExecutionState": {"Operations": [{"Id": "bad id!", "Type": "STEP", "Status": "STARTED"}]}}),
        ];
        for payload in cases {
            let event = LambdaEvent::new(payload.clone(), lambda_runtime::Context::default());
            let mut function = HandlerService {
                shared: Arc::new(Shared {
                    handler: Arc::clone(&handler),
                    service: Arc::new(Unreachable),
                    options: InvocationOptions::default(),
                }),
            };
            let result = function.call(event).await;
            let Err(diagnostic) = result else {
                panic!("{payload} gave an invocation output: {result:?}");
            };
            assert_eq!(diagnostic.error_type, "InvalidInputError", "{payload}");
            assert!(
                diagnostic
                    .error_message
                    .contains("durable execution envelope"),
                "{payload}: {}",
                diagnostic.error_message
            );
        }
    }

    #[test]
    fn well_formed_envelopes_parse_with_unknown_fields() {
        let input = parse_envelope(json!({
            "DurableExecutionArn": "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/x/y",
            "CheckpointToken": "dG9rZW4=",
            "SomethingNew": {"a": 1},
            "InitialExecutionState": {"Operations": [{
                "Id": "y", "Type": "EXECUTION", "Status": "STARTED",
                "StartTimestamp": "2026-01-01T00:00:00Z",
                "ExecutionDetails": {"InputPayload": "{\"k\":1}"},
                "Extra": true
            }], "NextMarker": ""}
        }))
        .unwrap();
        assert_eq!(input.checkpoint_token.as_str(), "dG9rZW4=");
        let state = input.initial_execution_state.unwrap();
        assert_eq!(state.operations.len(), 1);
    }

    #[test]
    fn malformed_input_payload_names_its_source() {
        // Exercised through the driver: the event source is named in the error.
        let ops: Vec<crate::wire::Operation> = serde_json::from_value(json!([{
            "Id": "y", "Type": "EXECUTION", "Status": "STARTED",
            "ExecutionDetails": {"InputPayload": "{not json"}
        }]))
        .unwrap();
        let err = crate::handler::find_event_for_tests(None, &ops).unwrap_err();
        assert!(err.contains("InputPayload is not valid JSON"), "{err}");
        let (value, _) = crate::handler::find_event_for_tests(None, &ops[..0]).unwrap();
        assert_eq!(value, Value::Null);
        let (value, source) =
            crate::handler::find_event_for_tests(Some(json!({"direct": true})), &ops).unwrap();
        assert_eq!(value, json!({"direct": true}));
        assert!(source.contains("Input field"));
    }
}
