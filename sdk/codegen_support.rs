//! What code generated from a workflow declaration refers to (`lambda-durable-codegen`'s
//! `workflow` module). Not a public API: generated code names runtime items only through
//! this module, so a user's crate needs no dependency besides `lambda-durable`, and the
//! runtime can change how an operation is built without regenerating anything.
//!
//! Each generated helper is one call into a generic function here. Configuration from the
//! declaration arrives as plain data ([`StepConfig`](crate::__codegen::StepConfig),
//! [`Retry`](crate::__codegen::Retry), [`BatchConfig`](crate::__codegen::BatchConfig), ...) and
//! is turned into the runtime's builders here, never in generated code.

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::retry::{
    presets, ExponentialBackoff, FixedDelay, LinearBackoff, RetryConfigError, RetryDecision,
    RetryStrategy,
};
use crate::wait_strategy::WaitStrategyConfig;

#[path = "codegen_schema.rs"]
mod schema;

pub use crate::retry::Jitter;
pub use crate::{
    BatchResult, Branch, Callback, ChildContext, CreateCallback, DeclaredError, DurableContext,
    Error, ErrorRecord, Invoke, Map, Nesting, Parallel, Step, StepContext, StepSemantics,
    TypedError, WaitForCallback, WaitForCondition,
};
pub use ::regress;
pub use ::serde;
pub use ::serde_json;

/// The error bound of user functions: anything that converts into a boxed error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Which failures a retry policy retries (see the `retry_if_*` setters of
/// [`crate::retry::ExponentialBackoff`]). Empty lists: every failure.
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    /// Regular expressions searched in the error message.
    pub message_matches: &'static [&'static str],
    /// Substrings looked for in the error message.
    pub message_contains: &'static [&'static str],
    /// Error type names.
    pub error_types: &'static [&'static str],
}

impl Filter {
    /// No filter: every failure may be retried.
    pub const NONE: Filter = Filter {
        message_matches: &[],
        message_contains: &[],
        error_types: &[],
    };
}

/// Applies a [`Filter`] through the filter setters every configurable strategy has.
macro_rules! apply_filter {
    ($strategy:expr, $filter:expr) => {{
        let filter: &Filter = $filter;
        let mut strategy = $strategy;
        for pattern in filter.message_matches {
            strategy = strategy.retry_if_message_matches(pattern)?;
        }
        for substring in filter.message_contains {
            strategy = strategy.retry_if_message_contains(*substring);
        }
        for error_type in filter.error_types {
            strategy = strategy.retry_if_error_type(*error_type);
        }
        strategy
    }};
}

/// Parameters of an exponential backoff; `None` keeps the runtime's default.
#[derive(Debug, Clone, Copy)]
pub struct Exponential {
    /// Total attempts.
    pub max_attempts: Option<u32>,
    /// Delay after the first failure.
    pub initial_delay: Option<Duration>,
    /// Cap on the delay.
    pub max_delay: Option<Duration>,
    /// Factor between delays.
    pub backoff_rate: Option<f64>,
    /// Jitter.
    pub jitter: Option<Jitter>,
    /// Which failures are retried.
    pub retry_if: Filter,
}

impl Exponential {
    /// Every parameter at the runtime's default.
    pub const DEFAULT: Exponential = Exponential {
        max_attempts: None,
        initial_delay: None,
        max_delay: None,
        backoff_rate: None,
        jitter: None,
        retry_if: Filter::NONE,
    };
}

/// Parameters of a linear backoff; `None` keeps the runtime's default.
#[derive(Debug, Clone, Copy)]
pub struct Linear {
    /// Total attempts.
    pub max_attempts: Option<u32>,
    /// Delay after the first failure.
    pub initial_delay: Option<Duration>,
    /// Added after each further failure.
    pub increment: Option<Duration>,
    /// Cap on the delay.
    pub max_delay: Option<Duration>,
    /// Jitter.
    pub jitter: Option<Jitter>,
    /// Which failures are retried.
    pub retry_if: Filter,
}

impl Linear {
    /// Every parameter at the runtime's default.
    pub const DEFAULT: Linear = Linear {
        max_attempts: None,
        initial_delay: None,
        increment: None,
        max_delay: None,
        jitter: None,
        retry_if: Filter::NONE,
    };
}

/// Parameters of a fixed delay.
#[derive(Debug, Clone, Copy)]
pub struct Fixed {
    /// The delay between attempts.
    pub interval: Duration,
    /// Total attempts (`None`: the runtime's default).
    pub max_attempts: Option<u32>,
    /// Which failures are retried.
    pub retry_if: Filter,
}

/// A declared retry policy.
#[derive(Debug, Clone, Copy)]
pub enum Retry {
    /// [`presets::default`], filtered.
    Default(Filter),
    /// [`presets::transient`], filtered.
    Transient(Filter),
    /// [`presets::resource_availability`], filtered.
    ResourceAvailability(Filter),
    /// [`presets::critical`], filtered.
    Critical(Filter),
    /// An [`ExponentialBackoff`].
    Exponential(Exponential),
    /// A [`LinearBackoff`].
    Linear(Linear),
    /// A [`FixedDelay`].
    Fixed(Fixed),
    /// No retry.
    None,
}

impl Retry {
    /// The runtime strategy for this policy.
    ///
    /// The code generator rejects message patterns that do not compile (with the same
    /// regular expression engine), so the fallback for a bad one, a strategy that never
    /// retries, only guards against a hand-edited generated file.
    pub fn strategy(&self) -> Arc<dyn RetryStrategy> {
        match self.try_strategy() {
            Ok(strategy) => strategy,
            Err(err) => {
                tracing::error!(pattern = err.pattern(), error = %err, "invalid retry filter; failures will not be retried");
                Arc::new(presets::none())
            }
        }
    }

    fn try_strategy(&self) -> Result<Arc<dyn RetryStrategy>, RetryConfigError> {
        Ok(match self {
            Retry::Default(filter) => Arc::new(apply_filter!(presets::default(), filter)),
            Retry::Transient(filter) => Arc::new(apply_filter!(presets::transient(), filter)),
            Retry::ResourceAvailability(filter) => {
                Arc::new(apply_filter!(presets::resource_availability(), filter))
            }
            Retry::Critical(filter) => Arc::new(apply_filter!(presets::critical(), filter)),
            Retry::Exponential(params) => {
                let mut strategy = ExponentialBackoff::new();
                if let Some(max_attempts) = params.max_attempts {
                    strategy = strategy.max_attempts(max_attempts);
                }
                if let Some(delay) = params.initial_delay {
                    strategy = strategy.initial_delay(delay);
                }
                if let Some(delay) = params.max_delay {
                    strategy = strategy.max_delay(delay);
                }
                if let Some(rate) = params.backoff_rate {
                    strategy = strategy.backoff_rate(rate);
                }
                if let Some(jitter) = params.jitter {
                    strategy = strategy.jitter(jitter);
                }
                Arc::new(apply_filter!(strategy, &params.retry_if))
            }
            Retry::Linear(params) => {
                let mut strategy = LinearBackoff::new();
                if let Some(max_attempts) = params.max_attempts {
                    strategy = strategy.max_attempts(max_attempts);
                }
                if let Some(delay) = params.initial_delay {
                    strategy = strategy.initial_delay(delay);
                }
                if let Some(increment) = params.increment {
                    strategy = strategy.increment(increment);
                }
                if let Some(delay) = params.max_delay {
                    strategy = strategy.max_delay(delay);
                }
                if let Some(jitter) = params.jitter {
                    strategy = strategy.jitter(jitter);
                }
                Arc::new(apply_filter!(strategy, &params.retry_if))
            }
            Retry::Fixed(params) => {
                let mut strategy = FixedDelay::new(params.interval);
                if let Some(max_attempts) = params.max_attempts {
                    strategy = strategy.max_attempts(max_attempts);
                }
                Arc::new(apply_filter!(strategy, &params.retry_if))
            }
            Retry::None => Arc::new(presets::none()),
        })
    }
}

/// Configuration of a step.
#[derive(Debug, Clone, Copy)]
pub struct StepConfig {
    /// The retry policy (`None`: the runtime's default strategy).
    pub retry: Option<Retry>,
    /// The semantics (`None`: at least once per retry).
    pub semantics: Option<StepSemantics>,
    /// The limit of one attempt (`None`: no limit).
    pub timeout: Option<Duration>,
}

impl StepConfig {
    /// The runtime's defaults.
    pub const DEFAULT: StepConfig = StepConfig {
        retry: None,
        semantics: None,
        timeout: None,
    };
}

/// Runs a step (see [`DurableContext::step`]) with its declared name and configuration.
///
/// Returns the runtime's [`Step`] builder with the declaration applied, so that one call can
/// still change what the plain API lets it change (`.retry(..)` replaces the declared retry
/// policy, `.serdes(..)` the result's serialization) and keeps the rest of the declaration.
pub fn step<'a, F, Fut>(
    ctx: &'a DurableContext,
    name: &'static str,
    config: StepConfig,
    body: F,
) -> Step<'a, F>
where
    F: FnOnce(StepContext) -> Fut,
{
    let mut step = ctx.step(name, body);
    if let Some(semantics) = config.semantics {
        step = step.semantics(semantics);
    }
    if let Some(retry) = config.retry {
        step = step.retry_shared(retry.strategy());
    }
    if let Some(timeout) = config.timeout {
        step = step.timeout(timeout);
    }
    step
}

/// Runs a step whose function takes a declared input value (see [`step`]).
pub fn step_with_input<'a, I, F, Fut>(
    ctx: &'a DurableContext,
    name: &'static str,
    config: StepConfig,
    input: I,
    body: F,
) -> Step<'a, impl FnOnce(StepContext) -> Fut + Send + 'a>
where
    I: Send + 'a,
    F: FnOnce(I, StepContext) -> Fut + Send + 'a,
{
    step(ctx, name, config, move |step_ctx| body(input, step_ctx))
}

/// The function of a step with a declared error type, its error recorded with its data.
pub type DeclaredBody<'a, O> = Box<
    dyn FnOnce(StepContext) -> Pin<Box<dyn Future<Output = Result<O, ErrorRecord>> + Send + 'a>>
        + Send
        + 'a,
>;

/// A step whose declaration names its error type `D`, being configured; `.await` it to run
/// it. The function fails with a `D`, recorded with its data, and the caller gets it back as
/// [`DeclaredError::Declared`]. Like [`Step`], one call can replace the declared retry policy
/// or the result's serialization.
#[must_use = "a step does nothing until it is awaited"]
pub struct DeclaredStep<'a, O, D, S = crate::serdes::DefaultSerdes> {
    step: Step<'a, DeclaredBody<'a, O>, S>,
    error: PhantomData<fn() -> D>,
}

impl<'a, O, D, S> DeclaredStep<'a, O, D, S> {
    /// Replaces the declared retry policy for this call (see [`Step::retry`]).
    pub fn retry(self, strategy: impl RetryStrategy) -> Self {
        Self {
            step: self.step.retry(strategy),
            error: PhantomData,
        }
    }

    /// Replaces the declared retry policy for this call with a shared strategy (see
    /// [`Step::retry_shared`]).
    pub fn retry_shared(self, strategy: Arc<dyn RetryStrategy>) -> Self {
        Self {
            step: self.step.retry_shared(strategy),
            error: PhantomData,
        }
    }

    /// Records the result with `serdes` instead of JSON (see [`Step::serdes`]).
    pub fn serdes<S2>(self, serdes: S2) -> DeclaredStep<'a, O, D, S2> {
        DeclaredStep {
            step: self.step.serdes(serdes),
            error: PhantomData,
        }
    }
}

impl<'a, O, D, S> IntoFuture for DeclaredStep<'a, O, D, S>
where
    O: Send + 'a,
    D: TypedError,
    S: crate::serdes::Serdes<O> + 'a,
{
    type Output = Result<O, DeclaredError<D>>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let step = self.step.into_future();
        Box::pin(async move { step.await.map_err(DeclaredError::from) })
    }
}

/// Runs a step whose declaration names its error type `D` (see [`DeclaredStep`]).
pub fn typed_step<'a, O, D, F, Fut>(
    ctx: &'a DurableContext,
    name: &'static str,
    config: StepConfig,
    body: F,
) -> DeclaredStep<'a, O, D>
where
    F: FnOnce(StepContext) -> Fut + Send + 'a,
    Fut: Future<Output = Result<O, D>> + Send + 'a,
    O: Send + 'a,
    D: TypedError,
{
    let body: DeclaredBody<'a, O> = Box::new(move |step_ctx| {
        Box::pin(async move { body(step_ctx).await.map_err(ErrorRecord::from) })
    });
    DeclaredStep {
        step: step(ctx, name, config, body),
        error: PhantomData,
    }
}

/// [`typed_step`] for a function that takes a declared input value.
pub fn typed_step_with_input<'a, I, O, D, F, Fut>(
    ctx: &'a DurableContext,
    name: &'static str,
    config: StepConfig,
    input: I,
    body: F,
) -> DeclaredStep<'a, O, D>
where
    I: Send + 'a,
    F: FnOnce(I, StepContext) -> Fut + Send + 'a,
    Fut: Future<Output = Result<O, D>> + Send + 'a,
    O: Send + 'a,
    D: TypedError,
{
    typed_step(ctx, name, config, move |step_ctx| body(input, step_ctx))
}

/// Waits for a duration (see [`DurableContext::wait`]).
pub fn wait<'a>(
    ctx: &'a DurableContext,
    name: &'static str,
    duration: Duration,
) -> impl Future<Output = Result<(), Error>> + Send + 'a {
    ctx.wait(name, duration)
}

/// Configuration of a callback.
#[derive(Debug, Clone, Copy)]
pub struct CallbackConfig {
    /// Timeout of the callback.
    pub timeout: Option<Duration>,
    /// Heartbeat timeout of the callback.
    pub heartbeat_timeout: Option<Duration>,
    /// Retry policy of the submitter (wait-for-callback only).
    pub retry: Option<Retry>,
}

impl CallbackConfig {
    /// No timeouts, the default submitter retry.
    pub const DEFAULT: CallbackConfig = CallbackConfig {
        timeout: None,
        heartbeat_timeout: None,
        retry: None,
    };
}

/// Creates a callback (see [`DurableContext::create_callback`]) with its declared timeouts;
/// the returned builder still takes `.serdes(..)`.
pub fn create_callback<'a, T>(
    ctx: &'a DurableContext,
    name: &'static str,
    config: CallbackConfig,
) -> CreateCallback<'a, T> {
    let mut callback = ctx.create_callback::<T>(name);
    if let Some(timeout) = config.timeout {
        callback = callback.timeout(timeout);
    }
    if let Some(timeout) = config.heartbeat_timeout {
        callback = callback.heartbeat_timeout(timeout);
    }
    callback
}

/// Creates a callback, runs its submitter and waits for the result (see
/// [`DurableContext::wait_for_callback`]). The returned builder still takes `.retry(..)`
/// (replacing the submitter's declared retry policy) and `.serdes(..)`.
pub fn wait_for_callback<'a, T, F, Fut>(
    ctx: &'a DurableContext,
    name: &'static str,
    config: CallbackConfig,
    submitter: F,
) -> WaitForCallback<'a, T, F>
where
    F: FnOnce(String, StepContext) -> Fut,
{
    let mut callback = ctx.wait_for_callback::<T, F, Fut>(name, submitter);
    if let Some(timeout) = config.timeout {
        callback = callback.timeout(timeout);
    }
    if let Some(timeout) = config.heartbeat_timeout {
        callback = callback.heartbeat_timeout(timeout);
    }
    if let Some(retry) = config.retry {
        callback = callback.retry(SharedStrategy(retry.strategy()));
    }
    callback
}

/// Lets a shared strategy be passed where an owned one is expected.
struct SharedStrategy(Arc<dyn RetryStrategy>);

impl RetryStrategy for SharedStrategy {
    fn decide(
        &self,
        failure: &crate::retry::FailedAttempt<'_>,
        attempts_made: u32,
    ) -> RetryDecision {
        self.0.decide(failure, attempts_made)
    }
}

/// Invokes another function (see [`DurableContext::invoke`]). The returned builder still
/// takes `.tenant_id(..)`, `.trace_header(..)` and `.result_serdes(..)`.
pub fn invoke<'a, P, R>(
    ctx: &'a DurableContext,
    name: &'static str,
    function: impl Into<String>,
    payload: P,
) -> Invoke<'a, R>
where
    P: Serialize,
{
    ctx.invoke::<R>(name, function, payload)
}

/// Runs a body in a child context (see [`DurableContext::run_in_child_context`]), handing it
/// the workflow type `W` wrapping the child context. The returned builder still takes
/// `.serdes(..)`.
pub fn child_context<'a, W, F, Fut>(
    ctx: &'a DurableContext,
    name: &'static str,
    body: F,
) -> ChildContext<'a, impl FnOnce(DurableContext) -> Fut + Send + 'a>
where
    W: From<DurableContext>,
    F: FnOnce(W) -> Fut + Send + 'a,
{
    ctx.run_in_child_context(name, move |child| body(W::from(child)))
}

/// Configuration of a map or parallel.
#[derive(Debug, Clone, Copy)]
pub struct BatchConfig {
    /// Concurrency limit.
    pub max_concurrency: Option<usize>,
    /// Complete once this many succeeded.
    pub min_successful: Option<usize>,
    /// Fail once more than this many failed.
    pub tolerated_failure_count: Option<usize>,
    /// Fail once more than this percentage failed.
    pub tolerated_failure_percentage: Option<f64>,
    /// How branches are recorded.
    pub nesting: Option<Nesting>,
}

impl BatchConfig {
    /// The runtime's defaults.
    pub const DEFAULT: BatchConfig = BatchConfig {
        max_concurrency: None,
        min_successful: None,
        tolerated_failure_count: None,
        tolerated_failure_percentage: None,
        nesting: None,
    };

    fn completion(&self) -> crate::CompletionConfig {
        let mut completion = crate::CompletionConfig::new();
        if let Some(count) = self.min_successful {
            completion = completion.min_successful(count);
        }
        if let Some(count) = self.tolerated_failure_count {
            completion = completion.tolerated_failure_count(count);
        }
        if let Some(percentage) = self.tolerated_failure_percentage {
            completion = completion.tolerated_failure_percentage(percentage);
        }
        completion
    }
}

/// Generates the configuration calls shared by map and parallel.
macro_rules! configure_batch {
    ($batch:expr, $config:expr) => {{
        let config: &BatchConfig = $config;
        let mut batch = $batch.completion(config.completion());
        if let Some(limit) = config.max_concurrency {
            batch = batch.max_concurrency(limit);
        }
        if let Some(nesting) = config.nesting {
            batch = batch.nesting(nesting);
        }
        batch
    }};
}

/// Runs a function over items (see [`DurableContext::map`]), handing each the workflow
/// type `W` wrapping the item's context. The returned builder still takes
/// `.item_namer(..)`, `.item_serdes(..)`, `.serdes(..)` and the batch settings, which
/// replace the declared ones.
pub fn map<'a, W, I, F, Fut>(
    ctx: &'a DurableContext,
    name: &'static str,
    config: BatchConfig,
    items: Vec<I>,
    function: F,
) -> Map<'a, I, impl Fn(DurableContext, I, usize) -> Fut + Send + Sync + 'a>
where
    W: From<DurableContext>,
    F: Fn(W, I, usize) -> Fut + Send + Sync + 'a,
{
    let batch = ctx.map(name, items, move |item_ctx, item, index| {
        function(W::from(item_ctx), item, index)
    });
    configure_batch!(batch, &config)
}

/// A named branch of a declared parallel, handing its body the workflow type `W`.
pub fn branch<'a, W, R, F, Fut, E>(name: &'static str, body: F) -> Branch<'a, R>
where
    W: From<DurableContext>,
    F: FnOnce(W) -> Fut + Send + 'a,
    Fut: Future<Output = Result<R, E>> + Send + 'a,
    E: Into<BoxError> + 'a,
{
    crate::branch(name, move |branch_ctx| body(W::from(branch_ctx)))
}

/// Runs branches concurrently (see [`DurableContext::parallel`]). The returned builder still
/// takes `.item_serdes(..)`, `.serdes(..)` and the batch settings.
pub fn parallel<'a, 'b: 'a, R: 'b>(
    ctx: &'a DurableContext,
    name: &'static str,
    config: BatchConfig,
    branches: Vec<Branch<'b, R>>,
) -> Parallel<'a, R> {
    configure_batch!(ctx.parallel(name, branches), &config)
}

/// Polling parameters of a wait-for-condition; `None` keeps the runtime's default.
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    /// Total checks.
    pub max_attempts: Option<u32>,
    /// Delay after the first check.
    pub initial_delay: Option<Duration>,
    /// Cap on the delay.
    pub max_delay: Option<Duration>,
    /// Factor between delays.
    pub backoff_rate: Option<f64>,
    /// Jitter.
    pub jitter: Option<Jitter>,
}

impl Polling {
    /// Every parameter at the runtime's default.
    pub const DEFAULT: Polling = Polling {
        max_attempts: None,
        initial_delay: None,
        max_delay: None,
        backoff_rate: None,
        jitter: None,
    };
}

/// Polls `check` until `until` holds for the state (see
/// [`DurableContext::wait_for_condition`]). The returned builder still takes `.serdes(..)`.
pub fn wait_for_condition<'a, S, F, Fut, P>(
    ctx: &'a DurableContext,
    name: &'static str,
    polling: Polling,
    initial: S,
    check: F,
    until: P,
) -> WaitForCondition<'a, S, F>
where
    S: Send + Sync + 'static,
    F: FnOnce(S, StepContext) -> Fut,
    P: Fn(&S) -> bool + Send + Sync + 'static,
{
    let mut strategy = WaitStrategyConfig::until(until);
    if let Some(max_attempts) = polling.max_attempts {
        strategy = strategy.max_attempts(max_attempts);
    }
    if let Some(delay) = polling.initial_delay {
        strategy = strategy.initial_delay(delay);
    }
    if let Some(delay) = polling.max_delay {
        strategy = strategy.max_delay(delay);
    }
    if let Some(rate) = polling.backoff_rate {
        strategy = strategy.backoff_rate(rate);
    }
    if let Some(jitter) = polling.jitter {
        strategy = strategy.jitter(jitter);
    }
    ctx.wait_for_condition(name, initial, check)
        .strategy(strategy)
}

/// What the generated `Workflow` type of a declaration says about it.
pub trait DeclaredWorkflow {
    /// The JSON Schema of the workflow's input (with the definitions it refers to), which
    /// an execution's input must match before the handler runs.
    const INPUT_SCHEMA: &'static str;
    /// The workflow's declared name.
    const NAME: &'static str = "";
    /// The function the workflow is declared to be deployed as (`function` in the
    /// declaration, a name or ARN with a qualifier), if it is declared.
    const FUNCTION: Option<&'static str> = None;
}

/// The input of a declared workflow, checked against its declared schema (`W::INPUT_SCHEMA`)
/// when it is deserialized: every constraint of the declaration holds, also those the Rust
/// type cannot express (bounds, lengths, item counts, ...). A violation names the JSONPath
/// of the offending value.
pub struct DeclaredInput<I, W> {
    /// The checked input.
    pub value: I,
    workflow: PhantomData<fn() -> W>,
}

impl<I: std::fmt::Debug, W> std::fmt::Debug for DeclaredInput<I, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value.fmt(f)
    }
}

impl<'de, I, W> serde::Deserialize<'de> for DeclaredInput<I, W>
where
    I: DeserializeOwned,
    W: DeclaredWorkflow,
{
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = serde_json::Value::deserialize(deserializer)?;
        match compiled_schema(W::INPUT_SCHEMA) {
            Ok(schema) => {
                if let Some(violation) = schema.check(&value) {
                    return Err(D::Error::custom(format_args!(
                        "{}: {} (the workflow's declared input schema)",
                        violation.path, violation.message
                    )));
                }
            }
            Err(err) => {
                tracing::error!(error = %err, "the declared input schema does not parse; the input is not checked against it");
            }
        }
        let value = serde_path_to_error::deserialize::<_, I>(value).map_err(|err| {
            let path = err.path().to_string();
            let path = if path == "." {
                "$".to_string()
            } else {
                format!("$.{path}")
            };
            D::Error::custom(format_args!("{path}: {}", err.inner()))
        })?;
        Ok(DeclaredInput {
            value,
            workflow: PhantomData,
        })
    }
}

/// The compiled input schema of `text`, compiled once per process (each invocation of a
/// declared workflow checks its input).
fn compiled_schema(text: &'static str) -> Result<Arc<schema::InputSchema>, String> {
    type Cache = std::sync::Mutex<Vec<(&'static str, Arc<schema::InputSchema>)>>;
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    let mut cache = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, compiled)) = cache.iter().find(|(known, _)| *known == text) {
        return Ok(Arc::clone(compiled));
    }
    let compiled = Arc::new(schema::InputSchema::parse(text)?);
    cache.push((text, Arc::clone(&compiled)));
    Ok(compiled)
}

/// Adapts a handler taking the workflow type `W` to the plain handler shape that
/// [`crate::run`] and the local runner take. The event is checked against the workflow's
/// declared input schema before the handler runs ([`DeclaredInput`]).
pub fn handler<W, I, O, F, Fut, E>(
    handler: F,
) -> impl Fn(DeclaredInput<I, W>, DurableContext) -> Fut + Send + Sync + 'static
where
    W: From<DurableContext> + DeclaredWorkflow,
    F: Fn(I, W) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<O, E>> + Send + 'static,
    E: Into<BoxError> + 'static,
{
    move |input: DeclaredInput<I, W>, ctx| handler(input.value, W::from(ctx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retry::FailedAttempt;

    fn decide(retry: Retry, message: &str, attempts: u32) -> RetryDecision {
        retry
            .strategy()
            .decide(&FailedAttempt::new("Timeout", message), attempts)
    }

    #[test]
    fn exponential_parameters_and_filters_reach_the_strategy() {
        let retry = Retry::Exponential(Exponential {
            max_attempts: Some(2),
            initial_delay: Some(Duration::from_secs(7)),
            jitter: Some(Jitter::None),
            retry_if: Filter {
                message_contains: &["busy"],
                ..Filter::NONE
            },
            ..Exponential::DEFAULT
        });
        assert_eq!(
            decide(retry, "server busy", 1),
            RetryDecision::retry_after(Duration::from_secs(7))
        );
        assert_eq!(decide(retry, "server busy", 2), RetryDecision::Stop);
        assert_eq!(decide(retry, "bad request", 1), RetryDecision::Stop);
    }

    #[test]
    fn none_never_retries_and_presets_do() {
        assert_eq!(decide(Retry::None, "x", 1), RetryDecision::Stop);
        assert!(matches!(
            decide(Retry::Transient(Filter::NONE), "x", 1),
            RetryDecision::Retry { .. }
        ));
        let fixed = Retry::Fixed(Fixed {
            interval: Duration::from_secs(3),
            max_attempts: Some(3),
            retry_if: Filter {
                error_types: &["Timeout"],
                ..Filter::NONE
            },
        });
        assert_eq!(
            decide(fixed, "x", 2),
            RetryDecision::retry_after(Duration::from_secs(3))
        );
    }

    struct Declared;

    impl DeclaredWorkflow for Declared {
        const INPUT_SCHEMA: &'static str = r#"{"type": "object", "required": ["n"], "properties": {"n": {"type": "integer", "minimum": 3}}}"#;
    }

    #[derive(Debug, serde::Deserialize)]
    struct Input {
        n: i64,
    }

    #[test]
    fn a_declared_input_is_checked_against_its_schema_then_deserialized() {
        let ok: DeclaredInput<Input, Declared> =
            serde_json::from_value(serde_json::json!({"n": 3})).expect("a valid input");
        assert_eq!(ok.value.n, 3);
        let err =
            serde_json::from_value::<DeclaredInput<Input, Declared>>(serde_json::json!({"n": 2}))
                .expect_err("below the minimum");
        assert_eq!(
            err.to_string(),
            "$.n: 2 is less than the minimum 3 (the workflow's declared input schema)"
        );
        let err = serde_json::from_value::<DeclaredInput<Input, Declared>>(serde_json::json!({}))
            .expect_err("missing n");
        assert!(
            err.to_string()
                .contains("the required property \"n\" is missing"),
            "{err}"
        );
    }

    #[test]
    fn input_schemas_are_compiled_once() {
        let first = compiled_schema(Declared::INPUT_SCHEMA).expect("compiles");
        let second = compiled_schema(Declared::INPUT_SCHEMA).expect("compiles");
        assert!(Arc::ptr_eq(&first, &second));
        assert!(compiled_schema("{").is_err());
    }

    #[test]
    fn an_invalid_pattern_falls_back_to_no_retry() {
        let retry = Retry::Critical(Filter {
            message_matches: &["("],
            ..Filter::NONE
        });
        assert_eq!(decide(retry, "x", 1), RetryDecision::Stop);
    }
}
