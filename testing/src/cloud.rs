//! [`CloudRunner`]: runs executions of a deployed durable function (on AWS, or on AWS's local
//! emulator) and reads them back as the same [`Execution`] the local runner gives, so that a
//! test's assertions run unchanged against the real service.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_lambda::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::primitives::{Blob, DateTime};
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_lambda::Client;
use serde::Serialize;
use tokio::time::Instant;

use super::callback::{self, CallbackMatcher, CallbackResponder, PendingCallback};
use super::execution::{Execution, RunnerStats, Source};
use super::recorded::events;
use super::store::{Completion, StoredOp};
use super::RunnerError;
use super::SendCallbackError;
use crate::error_object;
use lambda_durable::wire::{
    ErrorObject, Event, EventType, ExecutionStatus, GetDurableExecutionHistoryResponse,
    OperationType, Timestamp,
};

mod http;
mod pending;

#[cfg(test)]
mod tests;

/// The environment variable that selects the cloud runner: the function to run, as a name
/// or an ARN, with an optional qualifier (`my-function`, `my-function:live`,
/// `arn:aws:lambda:us-east-1:123456789012:function:my-function:7`). See
/// [`CloudRunner::from_env`] and [`TestRunner::from_env`](super::TestRunner::from_env).
pub const FUNCTION_ENV: &str = "LAMBDA_DURABLE_TEST_FUNCTION";

/// The environment variable that selects how the cloud runner starts executions: `invoke`
/// (the default, Lambda's `Invoke` API) or `emulator` (the start route of AWS's local
/// emulator, see [`StartMode::Emulator`]).
pub const START_ENV: &str = "LAMBDA_DURABLE_TEST_START";

/// The `ErrorType` of the error the cloud runner stops an execution with when it gives up
/// waiting for it ([`RunnerError::Timeout`]).
pub const STOP_ERROR_TYPE: &str = "TestRunnerTimeout";

/// How long the runner waits by default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// How often the runner polls by default, once the first quick polls are over.
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// The first poll after a wait begins; the interval doubles up to the poll interval.
const FIRST_POLL: Duration = Duration::from_millis(100);
/// The qualifier when none is given: durable functions refuse unqualified invokes.
const DEFAULT_QUALIFIER: &str = "$LATEST";
/// The account id the emulator's own CLI uses.
const EMULATOR_ACCOUNT: &str = "123456789012";
/// How many history pages the runner reads at most (of 1000 events each).
const MAX_HISTORY_PAGES: usize = 10_000;

/// How the cloud runner starts an execution.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartMode {
    /// Lambda's `Invoke` API, as on AWS: an asynchronous invoke (`InvocationType` `Event`)
    /// of the function and qualifier, with the execution name as `DurableExecutionName`;
    /// the execution's ARN comes back in the answer (`X-Amz-Durable-Execution-Arn`).
    #[default]
    Invoke,
    /// The start route of AWS's local emulator (`dex-local-runner`, PyPI
    /// `aws-durable-execution-sdk-python-testing`), which has no `Invoke` API:
    /// `POST {endpoint}/start-durable-execution` with the function name, the qualifier,
    /// the execution name, the input, the runner's [timeout](CloudRunner::timeout) as the
    /// execution's `ExecutionTimeout` (the emulator has no function configuration to take
    /// it from), a retention of one day and the emulator's account id (`123456789012`).
    /// Everything else goes through the Lambda client as in [`StartMode::Invoke`].
    Emulator {
        /// The emulator's address (`http://127.0.0.1:5000`); by default the endpoint of the
        /// Lambda client's configuration (`AWS_ENDPOINT_URL_LAMBDA`, which points the client
        /// at the emulator), else the variable `AWS_ENDPOINT_URL_LAMBDA` or
        /// `AWS_ENDPOINT_URL`. Plain `http` only.
        endpoint: Option<String>,
    },
}

/// A responder: which callbacks it answers, and how.
type Responder = (Arc<dyn CallbackMatcher>, Arc<dyn CallbackResponder>);

/// What every wait of the runner and of its executions uses.
#[derive(Clone)]
struct WaitSettings {
    timeout: Duration,
    poll_interval: Duration,
    responders: Vec<Responder>,
}

/// Runs a deployed durable function and reads its executions back as [`Execution`]s: the
/// same status, result, error, operations, history and timeline as on the local runner,
/// so that a test written for [`LocalRunner`](super::LocalRunner) runs unchanged against
/// the service (see [`DurableRunner`](super::DurableRunner) and
/// [`TestRunner::from_env`](super::TestRunner::from_env)).
///
/// The runner talks to Lambda with `aws-sdk-lambda`, configured from the usual AWS
/// settings (credentials, `AWS_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL_LAMBDA` for
/// another endpoint, ...), or through the client given with
/// [`with_client`](Self::with_client). It needs the caller permissions of the function
/// (`lambda:InvokeFunction`, `GetDurableExecution`, `GetDurableExecutionHistory`,
/// `StopDurableExecution`, and the `SendDurableExecutionCallback*` actions when it completes
/// callbacks).
///
/// - **Start**: an asynchronous invoke of the function with a qualifier (`$LATEST` unless
///   given: durable functions refuse unqualified invokes) and a durable execution name,
///   unique per run unless [set](Self::execution_name) (the service starts one execution
///   per name: the same name and input return the running execution). AWS's emulator,
///   which has no `Invoke` API, is started through its own route ([`StartMode::Emulator`]).
/// - **Wait**: polls `GetDurableExecution` until the execution is no longer `RUNNING`, at
///   most for the [timeout](Self::timeout) (5 minutes by default), every
///   [poll interval](Self::poll_interval) (1 s by default; the first polls come sooner).
///   When the time is up, the runner stops the execution (`StopDurableExecution`, with an
///   error of type [`STOP_ERROR_TYPE`]) and returns [`RunnerError::Timeout`].
/// - **Read**: the execution's status, result and error from `GetDurableExecution`, its
///   history from `GetDurableExecutionHistory` (every page, with execution data), and its
///   operations rebuilt from the history. What the service does not report (how each
///   invocation ended, the counters of the SDK's calls, the executions of chained
///   invokes) is documented on the [`Execution`] methods.
/// - **Callbacks**: [responders](Self::on_callback) answer them while the runner waits,
///   as on the local runner but in real time; step by step,
///   [`CloudExecution::wait_for_callback`] and [`CloudExecution::send_callback_success`]
///   and its siblings.
///
/// ```no_run
/// use lambda_durable::wire::ExecutionStatus;
/// use lambda_durable_testing::{CallbackResponse, CloudRunner};
/// use std::time::Duration;
///
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// let runner = CloudRunner::new("order-workflow:live")
///     .timeout(Duration::from_secs(120))
///     .on_callback("approval", CallbackResponse::json(serde_json::json!({"by": "grace"})));
/// let execution = runner.run(serde_json::json!({"id": "o-1", "cents": 250_000})).await?;
/// assert_eq!(execution.status(), ExecutionStatus::Succeeded);
/// println!("{}", execution.timeline());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CloudRunner {
    function: String,
    qualifier: String,
    start_mode: StartMode,
    execution_name: Option<String>,
    client: Arc<tokio::sync::OnceCell<Configured>>,
    wait: WaitSettings,
}

/// The Lambda client, and the endpoint its configuration names (`AWS_ENDPOINT_URL_LAMBDA`,
/// ...), if any.
#[derive(Debug, Clone)]
struct Configured {
    client: Client,
    endpoint: Option<String>,
}

impl std::fmt::Debug for CloudRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudRunner")
            .field("function", &self.function)
            .field("qualifier", &self.qualifier)
            .field("start_mode", &self.start_mode)
            .field("execution_name", &self.execution_name)
            .field("timeout", &self.wait.timeout)
            .field("poll_interval", &self.wait.poll_interval)
            .field("callback_responders", &self.wait.responders.len())
            .finish_non_exhaustive()
    }
}

impl CloudRunner {
    /// A runner for `function`: a function name, a partial ARN
    /// (`123456789012:function:my-function`) or an ARN, with an optional qualifier after a
    /// colon (`my-function:live`, `...:function:my-function:7`); `$LATEST` when there is
    /// none. Nothing is called until the first run.
    pub fn new(function: impl Into<String>) -> Self {
        let (function, qualifier) = split_function(&function.into());
        Self {
            function,
            qualifier: qualifier.unwrap_or_else(|| DEFAULT_QUALIFIER.to_string()),
            start_mode: StartMode::Invoke,
            execution_name: None,
            client: Arc::new(tokio::sync::OnceCell::new()),
            wait: WaitSettings {
                timeout: DEFAULT_TIMEOUT,
                poll_interval: DEFAULT_POLL_INTERVAL,
                responders: Vec::new(),
            },
        }
    }

    /// The runner the environment asks for: `None` when [`FUNCTION_ENV`]
    /// (`LAMBDA_DURABLE_TEST_FUNCTION`) is unset or empty, else a runner for the function
    /// it names (as [`new`](Self::new) reads it), started as [`START_ENV`]
    /// (`LAMBDA_DURABLE_TEST_START`: `invoke` by default, or `emulator`) says.
    ///
    /// ```no_run
    /// # fn f() -> Result<(), lambda_durable_testing::RunnerError> {
    /// // LAMBDA_DURABLE_TEST_FUNCTION=order-workflow:live cargo test
    /// if let Some(runner) = lambda_durable_testing::CloudRunner::from_env()? {
    ///     println!("testing {runner:?}");
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`RunnerError::Config`] when a variable is not Unicode, or `LAMBDA_DURABLE_TEST_START`
    /// is neither `invoke` nor `emulator`.
    pub fn from_env() -> Result<Option<Self>, RunnerError> {
        let function = env_var(FUNCTION_ENV)?;
        let start = env_var(START_ENV)?;
        Self::from_settings(function.as_deref(), start.as_deref())
    }

    fn from_settings(
        function: Option<&str>,
        start: Option<&str>,
    ) -> Result<Option<Self>, RunnerError> {
        let Some(function) = function.map(str::trim).filter(|f| !f.is_empty()) else {
            return Ok(None);
        };
        let mode = match start.map(str::trim) {
            None | Some("" | "invoke") => StartMode::Invoke,
            Some("emulator") => StartMode::Emulator { endpoint: None },
            Some(other) => {
                return Err(RunnerError::Config(format!(
                    "{START_ENV}={other:?}: expected `invoke` or `emulator`"
                )))
            }
        };
        Ok(Some(Self::new(function).start_mode(mode)))
    }

    /// Uses `client` for every call, instead of a client configured from the environment
    /// when the runner first needs one.
    pub fn with_client(mut self, client: Client) -> Self {
        self.client = Arc::new(tokio::sync::OnceCell::new_with(Some(Configured {
            client,
            endpoint: None,
        })));
        self
    }

    /// The qualifier to invoke: an alias, a version, or `$LATEST` (the default).
    pub fn qualifier(mut self, qualifier: impl Into<String>) -> Self {
        self.qualifier = qualifier.into();
        self
    }

    /// How executions are started ([`StartMode::Invoke`] by default).
    pub fn start_mode(mut self, mode: StartMode) -> Self {
        self.start_mode = mode;
        self
    }

    /// Starts every execution under this durable execution name (1 to 64 letters, digits,
    /// `-` and `_`) instead of a new unique one per run (`test-` and a random UUID). The
    /// service starts one execution per name: while it runs (and, on AWS, for its retention
    /// period), a start with the same name and input returns that execution, and one with
    /// another input fails with `DurableExecutionAlreadyStartedException`.
    pub fn execution_name(mut self, name: impl Into<String>) -> Self {
        self.execution_name = Some(name.into());
        self
    }

    /// How long one wait may take (5 minutes by default): the wait for the end of an
    /// execution, or for a pending callback. When it is over, the runner stops the execution
    /// and the wait returns [`RunnerError::Timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.wait.timeout = timeout;
        self
    }

    /// How often a wait polls the service (1 s by default, at least 10 ms). The first polls
    /// after a wait begins come sooner (100 ms, then doubling), so that short executions
    /// are seen to end quickly.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.wait.poll_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// Answers callbacks while the runner waits, as an external system would: the same
    /// matchers and [`CallbackResponse`](super::CallbackResponse)s as
    /// [`LocalRunner::on_callback`](super::LocalRunner::on_callback), so that a test that
    /// uses responders runs unchanged.
    ///
    /// The differences come from real time: the runner sees a callback when a poll finds
    /// its `CallbackStarted` event without a completion, asks the first matching responder
    /// once, and sends the answer (`SendDurableExecutionCallbackSuccess` or `...Failure`)
    /// [`after`](super::CallbackResponse::after) that much real time from then, with
    /// [heartbeats](super::CallbackResponse::heartbeat_every) in between. An answer
    /// that arrives after the callback timed out or was completed is dropped, as the
    /// service refuses it. Callbacks are only answered while the runner waits
    /// ([`run`](Self::run), [`CloudExecution::wait`],
    /// [`CloudExecution::wait_for_callback`]).
    pub fn on_callback(
        mut self,
        matcher: impl CallbackMatcher,
        responder: impl CallbackResponder,
    ) -> Self {
        self.wait
            .responders
            .push((Arc::new(matcher), Arc::new(responder)));
        self
    }

    /// The function as it is invoked (a name or an ARN, without the qualifier).
    pub fn function(&self) -> &str {
        &self.function
    }

    /// The qualifier it is invoked with.
    pub fn function_qualifier(&self) -> &str {
        &self.qualifier
    }

    /// The Lambda client: the one given with [`with_client`](Self::with_client), else one
    /// configured from the environment (`aws_config::load_defaults`) on first use. Use
    /// one runner per tokio runtime (per test): the client's connections belong to the
    /// runtime that made them.
    pub async fn lambda_client(&self) -> &Client {
        &self.configured().await.client
    }

    async fn configured(&self) -> &Configured {
        self.client
            .get_or_init(|| async {
                let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                Configured {
                    client: Client::new(&config),
                    endpoint: config.endpoint_url().map(str::to_string),
                }
            })
            .await
    }

    /// Starts an execution with `input` (serialized as JSON) and runs it to its end,
    /// answering callbacks with the [responders](Self::on_callback), then reads it back.
    ///
    /// A failed execution is not an error: see [`Execution::status`].
    ///
    /// # Errors
    ///
    /// [`RunnerError::Input`] when `input` cannot be serialized, [`RunnerError::Config`]
    /// for an invalid execution name or emulator address, [`RunnerError::Service`] when a
    /// call fails (naming the call and the execution), [`RunnerError::Timeout`] when the
    /// execution does not finish within the [timeout](Self::timeout) (it is stopped), and
    /// [`RunnerError::Callback`] when a responder's answer is refused as invalid.
    pub async fn run<I: Serialize>(&self, input: I) -> Result<Execution, RunnerError> {
        self.start(input).await?.wait().await
    }

    /// Starts an execution with `input` and returns at once, for a test that follows it
    /// step by step ([`CloudExecution`]).
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run), for the start.
    pub async fn start<I: Serialize>(&self, input: I) -> Result<CloudExecution, RunnerError> {
        let payload =
            serde_json::to_string(&input).map_err(|err| RunnerError::Input(err.to_string()))?;
        let name = match &self.execution_name {
            Some(name) => name.clone(),
            None => format!("test-{}", uuid::Uuid::new_v4().simple()),
        };
        check_execution_name(&name)?;
        let configured = self.configured().await;
        let client = configured.client.clone();
        let arn = match &self.start_mode {
            StartMode::Invoke => self.invoke(&client, &name, payload).await?,
            StartMode::Emulator { endpoint } => {
                let endpoint = endpoint
                    .clone()
                    .or_else(|| configured.endpoint.clone())
                    .or_else(|| {
                        ["AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL"]
                            .into_iter()
                            .find_map(|name| std::env::var(name).ok())
                            .filter(|url| !url.is_empty())
                    })
                    .ok_or_else(|| {
                        RunnerError::Config(
                            "the emulator start mode needs the emulator's address: set AWS_ENDPOINT_URL_LAMBDA or give StartMode::Emulator an endpoint".to_string(),
                        )
                    })?;
                self.emulator_start(&endpoint, &name, payload).await?
            }
        };
        Ok(CloudExecution {
            client,
            arn,
            function: self.function.clone(),
            wait: self.wait.clone(),
            answers: Vec::new(),
            asked: HashSet::new(),
        })
    }

    /// Reads any execution by its ARN (running or finished, started by this runner or not),
    /// as [`CloudExecution::snapshot`] does.
    ///
    /// # Errors
    ///
    /// [`RunnerError::Service`] when a call fails or the history cannot be read.
    pub async fn execution(&self, arn: &str) -> Result<Execution, RunnerError> {
        read_execution(self.lambda_client().await, arn, &self.function).await
    }

    async fn invoke(
        &self,
        client: &Client,
        name: &str,
        payload: String,
    ) -> Result<String, RunnerError> {
        let output = client
            .invoke()
            .function_name(&self.function)
            .qualifier(&self.qualifier)
            .invocation_type(InvocationType::Event)
            .durable_execution_name(name)
            .payload(Blob::new(payload))
            .send()
            .await
            .map_err(|err| service_error("Invoke", None, &err))?;
        output
            .durable_execution_arn()
            .filter(|arn| !arn.is_empty())
            .map(str::to_string)
            .ok_or_else(|| RunnerError::Service {
                call: "Invoke",
                arn: None,
                code: None,
                message: format!(
                    "the answer (status {}) carries no durable execution ARN: is {}:{} a durable function?",
                    output.status_code(),
                    self.function,
                    self.qualifier
                ),
            })
    }

    async fn emulator_start(
        &self,
        endpoint: &str,
        name: &str,
        payload: String,
    ) -> Result<String, RunnerError> {
        let body = serde_json::json!({
            "AccountId": EMULATOR_ACCOUNT,
            "FunctionName": self.function,
            "FunctionQualifier": self.qualifier,
            "ExecutionName": name,
            "ExecutionTimeoutSeconds": whole_seconds(self.wait.timeout),
            "ExecutionRetentionPeriodDays": 1,
            "Input": payload,
        });
        let fail = |code: Option<String>, message: String| RunnerError::Service {
            call: "start-durable-execution",
            arn: None,
            code,
            message,
        };
        let (status, answer) = http::post_json(
            endpoint,
            "/start-durable-execution",
            &body,
            self.wait.timeout.min(Duration::from_secs(60)),
        )
        .await
        .map_err(|err| match err {
            http::PostError::Endpoint(message) => RunnerError::Config(message),
            http::PostError::Transport(message) => fail(None, message),
        })?;
        let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&answer).into_owned())
        });
        if !(200..300).contains(&status) {
            let code = answer
                .get("Type")
                .or_else(|| answer.get("__type"))
                .or_else(|| answer.get("ErrorType"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_string);
            return Err(fail(
                code,
                format!("the emulator answered {status}: {answer}"),
            ));
        }
        answer
            .get("ExecutionArn")
            .and_then(serde_json::Value::as_str)
            .filter(|arn| !arn.is_empty())
            .map(str::to_string)
            .ok_or_else(|| fail(None, format!("no ExecutionArn in the answer: {answer}")))
    }
}

/// A responder's answer to one callback, in flight.
struct Answering {
    callback_id: String,
    /// When the answer is due.
    at: Instant,
    /// The answer; `None` for one that never comes ([`CallbackResponse::ignore`](super::CallbackResponse::ignore)).
    completion: Option<Completion>,
    heartbeat_every: Option<Duration>,
    next_heartbeat: Option<Instant>,
    done: bool,
}

impl Answering {
    /// The next time something is due for this callback.
    fn next_due(&self) -> Option<Instant> {
        if self.done {
            return None;
        }
        let answer = self.completion.as_ref().map(|_| self.at);
        let heartbeat = self.next_heartbeat.filter(|next| *next < self.at);
        match (answer, heartbeat) {
            (Some(a), Some(h)) => Some(a.min(h)),
            (a, h) => a.or(h),
        }
    }
}

/// What a wait waits for.
enum Goal<'a> {
    Finish,
    Callback(&'a dyn CallbackMatcher),
}

/// An execution started by [`CloudRunner::start`]: follow it, complete its callbacks,
/// stop it, wait for its end, read it.
///
/// ```no_run
/// use lambda_durable::wire::ExecutionStatus;
/// use lambda_durable_testing::CloudRunner;
///
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// let runner = CloudRunner::new("order-workflow:live");
/// let mut execution = runner.start(serde_json::json!({"id": "o-1", "cents": 250_000})).await?;
/// // Polls the history until the workflow waits for its approval.
/// let approval = execution.wait_for_callback("approval").await?;
/// execution.send_callback_success(approval.id(), r#"{"by": "grace"}"#).await?;
/// let done = execution.wait().await?;
/// assert_eq!(done.status(), ExecutionStatus::Succeeded);
/// # Ok(()) }
/// ```
pub struct CloudExecution {
    client: Client,
    arn: String,
    /// The runner's function, for the execution's function name when the service does not
    /// give its ARN.
    function: String,
    wait: WaitSettings,
    answers: Vec<Answering>,
    /// The callbacks the responders were asked about.
    asked: HashSet<String>,
}

impl std::fmt::Debug for CloudExecution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudExecution")
            .field("arn", &self.arn)
            .field("answers_in_flight", &self.answers.len())
            .finish_non_exhaustive()
    }
}

impl CloudExecution {
    /// The execution's ARN.
    pub fn arn(&self) -> &str {
        &self.arn
    }

    /// The Lambda client the execution is followed with.
    pub fn lambda_client(&self) -> &Client {
        &self.client
    }

    /// The execution's status now (`GetDurableExecution`).
    ///
    /// # Errors
    ///
    /// [`RunnerError::Service`] when the call fails.
    pub async fn status(&self) -> Result<ExecutionStatus, RunnerError> {
        Ok(describe(&self.client, &self.arn, false).await?.status)
    }

    /// The execution as it is now: status, result, error, history and the operations
    /// rebuilt from it (see [`Execution`] for what the service does not report).
    ///
    /// # Errors
    ///
    /// [`RunnerError::Service`] when a call fails or the history cannot be read.
    pub async fn snapshot(&self) -> Result<Execution, RunnerError> {
        read_execution(&self.client, &self.arn, &self.function).await
    }

    /// The callbacks waiting to be completed now: those whose `CallbackStarted` event has no
    /// later `CallbackSucceeded`, `CallbackFailed` or `CallbackTimedOut` event, oldest first;
    /// none once the execution finished. The callback of a `wait_for_callback` goes by the
    /// name of the latter, as on the local runner.
    ///
    /// # Errors
    ///
    /// [`RunnerError::Service`] when the history cannot be read.
    pub async fn pending_callbacks(&self) -> Result<Vec<PendingCallback>, RunnerError> {
        let events = history(&self.client, &self.arn, false).await?;
        Ok(pending::pending_callbacks(&events, &self.arn))
    }

    /// Waits until a pending callback matches `matcher` (a name, or any
    /// `Fn(&PendingCallback) -> bool`) and returns it, answering the callbacks of the
    /// [responders](CloudRunner::on_callback) meanwhile (those are never returned).
    ///
    /// # Errors
    ///
    /// [`RunnerError::NoPendingCallback`] when the execution finishes first,
    /// [`RunnerError::Timeout`] when none appears within the runner's timeout (the execution
    /// is stopped), [`RunnerError::Service`] when a call fails.
    pub async fn wait_for_callback(
        &mut self,
        matcher: impl CallbackMatcher,
    ) -> Result<PendingCallback, RunnerError> {
        match self.drive(Goal::Callback(&matcher)).await? {
            Reached::Callback(callback) => Ok(callback),
            Reached::Finished(status) => Err(RunnerError::NoPendingCallback {
                arn: self.arn.clone(),
                status,
            }),
        }
    }

    /// Waits for the end of the execution (answering callbacks with the
    /// [responders](CloudRunner::on_callback)) and reads it.
    ///
    /// # Errors
    ///
    /// [`RunnerError::Timeout`] when it does not finish within the runner's timeout (it is
    /// stopped), [`RunnerError::Service`] when a call fails, [`RunnerError::Callback`] when
    /// a responder's answer is invalid.
    pub async fn wait(mut self) -> Result<Execution, RunnerError> {
        self.drive(Goal::Finish).await?;
        self.snapshot().await
    }

    /// Completes the callback `callback_id` with `result`
    /// (`SendDurableExecutionCallbackSuccess`): the raw bytes the external system sends
    /// (JSON for the SDK's default serdes).
    ///
    /// # Errors
    ///
    /// [`RunnerError::Callback`] when the service refuses it (`ResourceNotFoundException`:
    /// unknown or already completed; `CallbackTimeoutException`: timed out;
    /// `InvalidParameterValueException`, or a result over 1 MiB, checked before sending),
    /// [`RunnerError::Service`] when the call fails otherwise.
    pub async fn send_callback_success(
        &self,
        callback_id: &str,
        result: impl AsRef<[u8]>,
    ) -> Result<(), RunnerError> {
        let completion = callback::success(result.as_ref()).map_err(RunnerError::Callback)?;
        complete(&self.client, callback_id, completion).await
    }

    /// Fails the callback `callback_id` with `error` (`SendDurableExecutionCallbackFailure`).
    ///
    /// # Errors
    ///
    /// As [`send_callback_success`](Self::send_callback_success).
    pub async fn send_callback_failure(
        &self,
        callback_id: &str,
        error: ErrorObject,
    ) -> Result<(), RunnerError> {
        let completion = callback::failure(error).map_err(RunnerError::Callback)?;
        complete(&self.client, callback_id, completion).await
    }

    /// Sends a heartbeat for the callback `callback_id`
    /// (`SendDurableExecutionCallbackHeartbeat`).
    ///
    /// # Errors
    ///
    /// As [`send_callback_success`](Self::send_callback_success).
    pub async fn send_callback_heartbeat(&self, callback_id: &str) -> Result<(), RunnerError> {
        heartbeat(&self.client, callback_id).await
    }

    /// Stops the execution (`StopDurableExecution`) with `error` (by default the service's).
    ///
    /// # Errors
    ///
    /// [`RunnerError::Service`] when the call fails (for example when the execution already
    /// finished).
    pub async fn stop(&self, error: Option<ErrorObject>) -> Result<(), RunnerError> {
        stop(&self.client, &self.arn, error).await
    }

    /// Polls until `goal` is reached, the execution finishes or the time is up, answering
    /// the responders' callbacks.
    async fn drive(&mut self, goal: Goal<'_>) -> Result<Reached, RunnerError> {
        let started = Instant::now();
        let deadline = started + self.wait.timeout;
        let mut delay = FIRST_POLL.min(self.wait.poll_interval);
        loop {
            let status = describe(&self.client, &self.arn, false).await?.status;
            let running = status == ExecutionStatus::Running;
            let watch_callbacks =
                !self.wait.responders.is_empty() || matches!(goal, Goal::Callback(_));
            if running && watch_callbacks {
                let events = history(&self.client, &self.arn, false).await?;
                let pending = pending::pending_callbacks(&events, &self.arn);
                self.ask_responders(&pending)?;
                self.deliver_due().await?;
                if let Goal::Callback(matcher) = goal {
                    let found = pending.into_iter().find(|callback| {
                        !self.asked.contains(callback.id()) && matcher.matches(callback)
                    });
                    if let Some(callback) = found {
                        return Ok(Reached::Callback(callback));
                    }
                }
            }
            if !running {
                return Ok(Reached::Finished(status));
            }
            let now = Instant::now();
            if now >= deadline {
                let awaited = match goal {
                    Goal::Finish => "finish".to_string(),
                    Goal::Callback(_) => {
                        "create a pending callback that matches the one awaited".to_string()
                    }
                };
                return Err(self.give_up(awaited, now - started).await);
            }
            let mut wake = (now + delay).min(deadline);
            if let Some(due) = self.answers.iter().filter_map(Answering::next_due).min() {
                wake = wake.min(due.max(now));
            }
            tokio::time::sleep_until(wake).await;
            delay = (delay * 2).min(self.wait.poll_interval);
        }
    }

    /// Asks the responders about the pending callbacks they were not asked about yet.
    fn ask_responders(&mut self, pending: &[PendingCallback]) -> Result<(), RunnerError> {
        let now = Instant::now();
        for callback in pending {
            if self.asked.contains(callback.id()) {
                continue;
            }
            let Some((_, responder)) = self
                .wait
                .responders
                .iter()
                .find(|(matcher, _)| matcher.matches(callback))
            else {
                continue;
            };
            let response = responder.respond(callback);
            let completion = response.completion().map_err(RunnerError::Callback)?;
            self.asked.insert(callback.id().to_string());
            let heartbeat_every = response.heartbeat_interval();
            self.answers.push(Answering {
                callback_id: callback.id().to_string(),
                at: now + response.delay(),
                completion,
                heartbeat_every,
                next_heartbeat: heartbeat_every.map(|every| now + every),
                done: false,
            });
        }
        Ok(())
    }

    /// Sends the answers and heartbeats that are due.
    async fn deliver_due(&mut self) -> Result<(), RunnerError> {
        let now = Instant::now();
        for answer in &mut self.answers {
            if answer.done {
                continue;
            }
            // One heartbeat when one is due (a late one stands for those missed: each
            // restarts the callback's heartbeat timeout), then the next one interval later.
            if let (Some(next), Some(every)) = (answer.next_heartbeat, answer.heartbeat_every) {
                if next <= now && next < answer.at {
                    match heartbeat(&self.client, &answer.callback_id).await {
                        Ok(()) => answer.next_heartbeat = Some(now.max(next) + every),
                        Err(err) if is_too_late(&err) => answer.done = true,
                        Err(err) => return Err(err),
                    }
                }
            }
            if answer.done || answer.at > now {
                continue;
            }
            answer.done = true;
            let Some(completion) = answer.completion.take() else {
                continue;
            };
            match complete(&self.client, &answer.callback_id, completion).await {
                Ok(()) => {}
                // Too late: the callback timed out or was completed; the service drops it.
                Err(err) if is_too_late(&err) => {}
                Err(err) => return Err(err),
            }
        }
        self.answers.retain(|answer| !answer.done);
        Ok(())
    }

    /// Stops the execution after a wait ran out of time.
    async fn give_up(&self, awaited: String, waited: Duration) -> RunnerError {
        let error = error_object(
            STOP_ERROR_TYPE,
            &format!(
                "stopped by lambda-durable-testing's cloud runner: it did not {awaited} within {}s",
                waited.as_secs()
            ),
        );
        let stop_error = stop(&self.client, &self.arn, Some(error))
            .await
            .err()
            .map(|err| err.to_string());
        RunnerError::Timeout {
            arn: self.arn.clone(),
            awaited,
            waited,
            stop_error,
        }
    }
}

/// Where a wait ended.
enum Reached {
    Finished(ExecutionStatus),
    Callback(PendingCallback),
}

/// Whether a callback call failed because the callback is no longer waiting.
fn is_too_late(err: &RunnerError) -> bool {
    matches!(
        err,
        RunnerError::Callback(
            SendCallbackError::NotFound { .. } | SendCallbackError::TimedOut { .. }
        )
    )
}

// -------------------------------------------------------------------------------------
// The service calls
// -------------------------------------------------------------------------------------

/// What `GetDurableExecution` says.
#[derive(Debug, Clone)]
struct Described {
    status: ExecutionStatus,
    result: Option<String>,
    error: Option<ErrorObject>,
    input: Option<String>,
    start_ms: Option<i64>,
    end_ms: Option<i64>,
    function_arn: Option<String>,
}

fn service_error<E>(
    call: &'static str,
    arn: Option<&str>,
    err: &SdkError<E, aws_sdk_lambda::config::http::HttpResponse>,
) -> RunnerError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = error_code(err);
    let message = match (&code, error_message(err)) {
        (Some(_), Some(message)) => message,
        _ => DisplayErrorContext(err).to_string(),
    };
    RunnerError::Service {
        call,
        arn: arn.map(str::to_string),
        code,
        message,
    }
}

/// The JSON body of a failed call's answer.
fn error_body<E>(
    err: &SdkError<E, aws_sdk_lambda::config::http::HttpResponse>,
) -> Option<serde_json::Value> {
    serde_json::from_slice(err.raw_response()?.body().bytes()?).ok()
}

/// The message of a failed call: the one the AWS SDK read, else the `Message` of the answer's
/// JSON body.
fn error_message<E>(err: &SdkError<E, aws_sdk_lambda::config::http::HttpResponse>) -> Option<String>
where
    E: ProvideErrorMetadata,
{
    if let Some(message) = err.message() {
        return Some(message.to_string());
    }
    let body = error_body(err)?;
    ["message", "Message"]
        .iter()
        .find_map(|key| body.get(key)?.as_str())
        .map(str::to_string)
}

/// The error code of a failed call: the one the AWS SDK read, else the `Type` (or `__type`)
/// of the answer's JSON body, where AWS's emulator puts it.
fn error_code<E>(err: &SdkError<E, aws_sdk_lambda::config::http::HttpResponse>) -> Option<String>
where
    E: ProvideErrorMetadata,
{
    if let Some(code) = err.code() {
        return Some(code.to_string());
    }
    let body = error_body(err)?;
    ["__type", "Type", "type"]
        .iter()
        .find_map(|key| body.get(key)?.as_str())
        // `aws.protocols#Name:` prefixes and the like: the name is the last part.
        .map(|code| {
            code.rsplit(['#', ':'])
                .find(|part| !part.is_empty())
                .unwrap_or(code)
        })
        .filter(|code| code.ends_with("Exception"))
        .map(str::to_string)
}

fn millis(at: Option<&DateTime>) -> Option<i64> {
    at.and_then(|at| at.to_millis().ok())
}

async fn describe(client: &Client, arn: &str, with_data: bool) -> Result<Described, RunnerError> {
    let output = client
        .get_durable_execution()
        .durable_execution_arn(arn)
        .include_execution_data(with_data)
        .send()
        .await
        .map_err(|err| service_error("GetDurableExecution", Some(arn), &err))?;
    Ok(Described {
        status: ExecutionStatus::from(output.status().as_str()),
        result: output.result().map(str::to_string),
        error: output.error().map(|error| {
            crate::with(ErrorObject::default(), |it| {
                it.error_type = error.error_type().map(str::to_string);
                it.error_message = error.error_message().map(str::to_string);
                it.error_data = error.error_data().map(str::to_string);
                it.stack_trace = error.stack_trace().to_vec();
            })
        }),
        input: output.input_payload().map(str::to_string),
        start_ms: millis(Some(output.start_timestamp())),
        end_ms: millis(output.end_timestamp()),
        function_arn: Some(output.function_arn().to_string()).filter(|arn| !arn.is_empty()),
    })
}

/// Keeps the raw body of a `GetDurableExecutionHistory` answer: the events are read from it
/// as the wire types (which the history folding works on), every field as the service sent
/// it.
#[derive(Debug, Clone, Default)]
struct RawBody(Arc<Mutex<Option<bytes::Bytes>>>);

impl RawBody {
    fn take(&self) -> Option<bytes::Bytes> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }
}

impl aws_sdk_lambda::config::Intercept for RawBody {
    fn name(&self) -> &'static str {
        "lambda_durable_testing::RawBody"
    }

    fn read_after_deserialization(
        &self,
        context: &aws_sdk_lambda::config::interceptors::AfterDeserializationInterceptorContextRef<
            '_,
        >,
        _runtime_components: &aws_sdk_lambda::config::RuntimeComponents,
        _cfg: &mut aws_sdk_lambda::config::ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let body = context
            .response()
            .body()
            .bytes()
            .map(bytes::Bytes::copy_from_slice);
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = body;
        Ok(())
    }
}

/// The whole history (every page), oldest first.
async fn history(client: &Client, arn: &str, with_data: bool) -> Result<Vec<Event>, RunnerError> {
    let unreadable = |message: String| RunnerError::Service {
        call: "GetDurableExecutionHistory",
        arn: Some(arn.to_string()),
        code: None,
        message,
    };
    let mut events = Vec::new();
    let mut marker: Option<String> = None;
    let mut seen = HashSet::new();
    for _ in 0..MAX_HISTORY_PAGES {
        let raw = RawBody::default();
        client
            .get_durable_execution_history()
            .durable_execution_arn(arn)
            .include_execution_data(with_data)
            .max_items(1000)
            .set_marker(marker.take())
            .customize()
            .interceptor(raw.clone())
            .send()
            .await
            .map_err(|err| service_error("GetDurableExecutionHistory", Some(arn), &err))?;
        let body = raw
            .take()
            .ok_or_else(|| unreadable("the answer's body was not kept".to_string()))?;
        let page: GetDurableExecutionHistoryResponse =
            serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(&body))
                .map_err(|err| {
                    unreadable(format!(
                        "the answer does not read as a history page: {}: {}",
                        err.path(),
                        err.inner()
                    ))
                })?;
        events.extend(page.events);
        match page.next_marker.filter(|next| !next.is_empty()) {
            Some(next) if !seen.insert(next.clone()) => {
                return Err(unreadable(format!(
                    "the service returned the page marker {next:?} twice"
                )))
            }
            Some(next) => marker = Some(next),
            None => {
                events.sort_by_key(|event| event.event_id);
                return Ok(events);
            }
        }
    }
    Err(unreadable(format!(
        "the history has more than {MAX_HISTORY_PAGES} pages"
    )))
}

async fn stop(client: &Client, arn: &str, error: Option<ErrorObject>) -> Result<(), RunnerError> {
    let error = error.map(|error| {
        aws_sdk_lambda::types::ErrorObject::builder()
            .set_error_type(error.error_type)
            .set_error_message(error.error_message)
            .set_error_data(error.error_data)
            .set_stack_trace(Some(error.stack_trace).filter(|trace| !trace.is_empty()))
            .build()
    });
    client
        .stop_durable_execution()
        .durable_execution_arn(arn)
        .set_error(error)
        .send()
        .await
        .map_err(|err| service_error("StopDurableExecution", Some(arn), &err))?;
    Ok(())
}

/// A callback call's failure, as the local runner reports it when the service gave one of
/// the errors it gives.
fn callback_error<E>(
    call: &'static str,
    callback_id: &str,
    err: &SdkError<E, aws_sdk_lambda::config::http::HttpResponse>,
) -> RunnerError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let callback_id = callback_id.to_string();
    match error_code(err).as_deref() {
        Some("ResourceNotFoundException") => {
            RunnerError::Callback(SendCallbackError::NotFound { callback_id })
        }
        Some("CallbackTimeoutException") => {
            RunnerError::Callback(SendCallbackError::TimedOut { callback_id })
        }
        Some("InvalidParameterValueException") => {
            RunnerError::Callback(SendCallbackError::InvalidParameter {
                message: error_message(err).unwrap_or_else(|| "invalid request".to_string()),
            })
        }
        _ => service_error(call, None, err),
    }
}

async fn complete(
    client: &Client,
    callback_id: &str,
    completion: Completion,
) -> Result<(), RunnerError> {
    match completion {
        Completion::Success(result) => {
            const CALL: &str = "SendDurableExecutionCallbackSuccess";
            client
                .send_durable_execution_callback_success()
                .callback_id(callback_id)
                .result(Blob::new(result))
                .send()
                .await
                .map_err(|err| callback_error(CALL, callback_id, &err))?;
        }
        Completion::Failure(error) => {
            const CALL: &str = "SendDurableExecutionCallbackFailure";
            let error = aws_sdk_lambda::types::ErrorObject::builder()
                .set_error_type(error.error_type)
                .set_error_message(error.error_message)
                .set_error_data(error.error_data)
                .set_stack_trace(Some(error.stack_trace).filter(|trace| !trace.is_empty()))
                .build();
            client
                .send_durable_execution_callback_failure()
                .callback_id(callback_id)
                .error(error)
                .send()
                .await
                .map_err(|err| callback_error(CALL, callback_id, &err))?;
        }
    }
    Ok(())
}

async fn heartbeat(client: &Client, callback_id: &str) -> Result<(), RunnerError> {
    client
        .send_durable_execution_callback_heartbeat()
        .callback_id(callback_id)
        .send()
        .await
        .map_err(|err| {
            callback_error("SendDurableExecutionCallbackHeartbeat", callback_id, &err)
        })?;
    Ok(())
}

/// Reads an execution: `GetDurableExecution` and its whole history, with execution data.
async fn read_execution(
    client: &Client,
    arn: &str,
    function: &str,
) -> Result<Execution, RunnerError> {
    let described = describe(client, arn, true).await?;
    let events = history(client, arn, true).await?;
    build_execution(arn, described, events, function)
}

/// The history as the folding can read it. The execution's payloads the history truncated
/// are filled in from `GetDurableExecution` (which has them whole): the folding refuses a
/// truncated payload it needs. An operation's error marked as truncated but sent with its
/// payload is kept as sent: AWS's emulator (1.4.0) marks every callback and context error
/// so, with the whole error.
fn readable_history(events: &mut [Event], described: &Described) {
    for event in events.iter_mut() {
        let errors = [
            event.step_failed_details.as_mut().map(|d| &mut d.error),
            event.context_failed_details.as_mut().map(|d| &mut d.error),
            event.callback_failed_details.as_mut().map(|d| &mut d.error),
            event
                .callback_timed_out_details
                .as_mut()
                .map(|d| &mut d.error),
            event
                .chained_invoke_failed_details
                .as_mut()
                .map(|d| &mut d.error),
            event
                .chained_invoke_timed_out_details
                .as_mut()
                .map(|d| &mut d.error),
            event
                .chained_invoke_stopped_details
                .as_mut()
                .map(|d| &mut d.error),
            event.wait_cancelled_details.as_mut().map(|d| &mut d.error),
        ];
        for error in errors.into_iter().flatten().flatten() {
            if error.payload.is_some() {
                error.truncated = Some(false);
            }
        }
    }
    for event in events {
        match event.event_type {
            EventType::ExecutionStarted => {
                if let (Some(details), Some(input)) =
                    (event.execution_started_details.as_mut(), &described.input)
                {
                    if let Some(event_input) = details.input.as_mut() {
                        if event_input.truncated == Some(true) || event_input.payload.is_none() {
                            event_input.payload = Some(input.clone());
                            event_input.truncated = Some(false);
                        }
                    }
                }
            }
            EventType::ExecutionSucceeded => {
                if let Some(result) = event
                    .execution_succeeded_details
                    .as_mut()
                    .and_then(|details| details.result.as_mut())
                    .filter(|result| result.truncated == Some(true))
                {
                    result.payload.clone_from(&described.result);
                    result.truncated = Some(false);
                }
            }
            EventType::ExecutionFailed
            | EventType::ExecutionTimedOut
            | EventType::ExecutionStopped => {
                let error = match event.event_type {
                    EventType::ExecutionFailed => event
                        .execution_failed_details
                        .as_mut()
                        .and_then(|details| details.error.as_mut()),
                    EventType::ExecutionTimedOut => event
                        .execution_timed_out_details
                        .as_mut()
                        .and_then(|details| details.error.as_mut()),
                    _ => event
                        .execution_stopped_details
                        .as_mut()
                        .and_then(|details| details.error.as_mut()),
                };
                if let Some(error) = error.filter(|error| error.truncated == Some(true)) {
                    error.payload.clone_from(&described.error);
                    error.truncated = Some(false);
                }
            }
            _ => {}
        }
    }
}

/// The runner's [`Execution`] of what the service said.
fn build_execution(
    arn: &str,
    described: Described,
    events: Vec<Event>,
    function: &str,
) -> Result<Execution, RunnerError> {
    let mut readable = events.clone();
    readable_history(&mut readable, &described);
    let folded = events::fold(&readable).map_err(|message| RunnerError::Service {
        call: "GetDurableExecutionHistory",
        arn: Some(arn.to_string()),
        code: None,
        message: format!("the operations cannot be rebuilt from the history: {message}"),
    })?;
    // GetDurableExecution was read first: a history that ends the execution is newer.
    let (status, result, error) = if described.status != ExecutionStatus::Running {
        (described.status, described.result, described.error)
    } else {
        (folded.status, folded.result, folded.error)
    };
    let input = described
        .input
        .or_else(|| {
            folded
                .operations
                .first()
                .filter(|op| op.type_ == OperationType::Execution)
                .and_then(|op| op.execution_details.as_ref())
                .and_then(|details| details.input_payload.clone())
        })
        .unwrap_or_else(|| "null".to_string());
    let times = || {
        events
            .iter()
            .filter_map(|event| event.event_timestamp.as_ref().map(Timestamp::epoch_millis))
    };
    let start_ms = described.start_ms.or_else(|| times().min()).unwrap_or(0);
    let now_ms = described
        .end_ms
        .or_else(|| times().max())
        .unwrap_or(start_ms)
        .max(start_ms);
    let execution_timeout = events
        .iter()
        .find(|event| event.event_type == EventType::ExecutionStarted)
        .and_then(|event| event.execution_started_details.as_ref())
        .and_then(|details| details.execution_timeout);
    let function_name =
        super::runner::bare_name(described.function_arn.as_deref().unwrap_or(function)).to_string();
    let ops = folded.operations.iter().map(StoredOp::from_wire).collect();
    Ok(Execution {
        source: Source::Service,
        arn: arn.to_string(),
        status,
        input,
        result,
        error,
        ops,
        operations: std::sync::OnceLock::from(folded.operations),
        events: Vec::new(),
        history: std::sync::OnceLock::from(events),
        invocations: Vec::new(),
        stats: RunnerStats::default(),
        start_ms,
        now_ms,
        function_name,
        execution_timeout,
        children: Vec::new(),
    })
}

// -------------------------------------------------------------------------------------
// Settings
// -------------------------------------------------------------------------------------

fn env_var(name: &str) -> Result<Option<String>, RunnerError> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(RunnerError::Config(format!("{name} is not Unicode")))
        }
    }
}

/// The function and the qualifier of `name`, `name:qualifier`, a partial ARN or an ARN, with
/// or without a qualifier.
fn split_function(spec: &str) -> (String, Option<String>) {
    let spec = spec.trim();
    let (prefix, rest) = match spec.find(":function:") {
        Some(at) => spec.split_at(at + ":function:".len()),
        None => ("", spec),
    };
    match rest.split_once(':') {
        Some((name, qualifier)) => (
            format!("{prefix}{name}"),
            Some(qualifier.to_string()).filter(|q| !q.is_empty()),
        ),
        None => (spec.to_string(), None),
    }
}

/// The service's rule for durable execution names.
fn check_execution_name(name: &str) -> Result<(), RunnerError> {
    let valid = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if valid {
        Ok(())
    } else {
        Err(RunnerError::Config(format!(
            "the durable execution name {name:?} is not 1 to 64 letters, digits, `-` and `_`"
        )))
    }
}

/// A duration in whole seconds, at least 1, rounded up.
fn whole_seconds(duration: Duration) -> u64 {
    duration
        .as_secs()
        .saturating_add(u64::from(duration.subsec_nanos() > 0))
        .max(1)
}
