//! [`LocalRunner`]: runs a durable handler against the local service, invocation after
//! invocation, on a virtual clock.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::watch;

use super::execution::{Execution, InvocationOutcome, RunnerStats};
use super::fault::Fault;
use super::service::{ExecutionConfig, ExecutionRecord, LocalService, RawOutcome, SharedRecord};
use super::RunnerError;
use crate::checkpoint::batcher::BatcherConfig;
use crate::checkpoint::DurableService;
use crate::context::DurableContext;
use crate::handler::{erase, execute, ErasedHandler, InvocationOptions};
use crate::wire::{ExecutionStatus, InvocationStatus};

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
}

/// Runs a durable handler in-process against an emulation of the durable-execution
/// service, with no AWS account.
///
/// The local service validates every checkpoint with the service's rules, rotates
/// checkpoint tokens, pages the operation log, records the history, and keeps timers
/// (waits, retry delays) on a virtual clock that starts at 2026-01-01T00:00:00Z and jumps
/// to the next timer instead of sleeping. When an invocation returns `PENDING`, the runner
/// fires the next timer and invokes the handler again, until the execution finishes or
/// nothing can fire any more.
///
/// Faults ([`Fault`]) can be injected into the service calls, and
/// [`LocalRunner::start`] gives a step-by-step mode to inspect the state between
/// invocations. See the [module documentation](super) for an example.
pub struct LocalRunner {
    handler: ErasedHandler,
    service: Arc<LocalService>,
    config: RunnerConfig,
}

impl std::fmt::Debug for LocalRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalRunner")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl LocalRunner {
    /// A runner for `handler`, which has the same shape as for [`crate::run`]: an async
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
            handler: erase(handler),
            service: Arc::new(LocalService::default()),
            config: RunnerConfig {
                function_name: "local-function".to_string(),
                envelope_page_size: None,
                state_page_size: None,
                faults: Vec::new(),
                max_invocations: DEFAULT_MAX_INVOCATIONS,
                max_consecutive_failures: DEFAULT_MAX_CONSECUTIVE_FAILURES,
            },
        }
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
    /// own copy, which hits once).
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

    /// The function name used in execution ARNs (`local-function` by default).
    pub fn function_name(mut self, name: impl Into<String>) -> Self {
        self.config.function_name = name.into();
        self
    }

    /// Runs an execution with `input` until it finishes, or until it is suspended with
    /// nothing that can fire (then its status is `RUNNING`).
    ///
    /// # Errors
    ///
    /// [`RunnerError::Input`] when `input` cannot be serialized,
    /// [`RunnerError::TooManyInvocations`] when the execution needs more invocations than
    /// [`LocalRunner::max_invocations`], [`RunnerError::Config`] for an invalid function
    /// name. A failed execution is not an error: see [`Execution::status`].
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
        let record = self.service.create_execution(
            payload,
            ExecutionConfig {
                function_name: self.config.function_name.clone(),
                envelope_page_size: self.config.envelope_page_size,
                state_page_size: self.config.state_page_size,
                faults: self.config.faults.clone(),
                max_consecutive_failures: self.config.max_consecutive_failures,
            },
        )?;
        let arn = lock(&record).arn.clone();
        Ok(RunningExecution {
            service: Arc::clone(&self.service),
            record,
            arn,
            handler: Arc::clone(&self.handler),
            options: invocation_options(),
            max_invocations: self.config.max_invocations,
        })
    }

    /// Counters of the service calls of every execution this runner ran so far.
    pub fn stats(&self) -> RunnerStats {
        self.service.totals()
    }
}

/// The SDK settings of a local invocation: checkpoint retries back off for a millisecond,
/// so injected faults cost no time.
fn invocation_options() -> InvocationOptions {
    InvocationOptions {
        batcher: BatcherConfig {
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(4),
            ..BatcherConfig::default()
        },
        ..InvocationOptions::default()
    }
}

/// An execution driven one invocation at a time, so that a test can look at the state
/// between invocations. Created by [`LocalRunner::start`].
///
/// ```
/// use std::time::Duration;
/// use lambda_durable::testing::{InvocationOutcome, LocalRunner};
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
pub struct RunningExecution {
    service: Arc<LocalService>,
    record: SharedRecord,
    arn: String,
    handler: ErasedHandler,
    options: InvocationOptions,
    max_invocations: u32,
}

impl std::fmt::Debug for RunningExecution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningExecution")
            .field("arn", &self.arn)
            .field("status", &self.status())
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
    /// # Errors
    ///
    /// [`RunnerError::Finished`] when the execution already finished,
    /// [`RunnerError::TooManyInvocations`] when the invocation bound is reached.
    pub async fn invoke_once(&mut self) -> Result<InvocationOutcome, RunnerError> {
        let (input, mut crashed) = {
            let mut record = lock(&self.record);
            if record.invocation_count() >= self.max_invocations as usize {
                return Err(RunnerError::TooManyInvocations {
                    limit: self.max_invocations,
                });
            }
            record.begin_invocation()?
        };
        self.service.count_invocation();
        let service: Arc<dyn DurableService> = Arc::clone(&self.service) as Arc<dyn DurableService>;
        let raw = {
            let invocation = execute(service, input, &self.handler, &self.options);
            tokio::pin!(invocation);
            tokio::select! {
                biased;
                Ok(call) = crash_signal(&mut crashed) => RawOutcome::Crashed(call),
                output = &mut invocation => match output {
                    Ok(output) => RawOutcome::Output(output),
                    Err(err) => RawOutcome::FunctionError(err.message),
                },
            }
            // A crashed invocation is dropped here, in the middle of whatever it was doing.
        };
        Ok(lock(&self.record).end_invocation(raw))
    }

    /// Advances the virtual clock to the next timer (a wait ending, a step retry delay
    /// running out) and fires every timer due by then. Returns how far the clock moved, or
    /// `None` when no timer is running.
    pub fn advance_clock(&mut self) -> Option<Duration> {
        lock(&self.record)
            .advance_clock()
            .map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or_default()))
    }

    /// Injects a fault into a later service call of this execution.
    pub fn inject(&mut self, fault: Fault) {
        lock(&self.record).inject(fault);
    }

    /// A copy of everything recorded so far.
    pub fn snapshot(&self) -> Execution {
        lock(&self.record).snapshot()
    }

    /// Runs the execution on from where it is, like [`LocalRunner::run`].
    ///
    /// # Errors
    ///
    /// [`RunnerError::TooManyInvocations`] when the invocation bound is reached.
    pub async fn run(mut self) -> Result<Execution, RunnerError> {
        loop {
            if self.status() != ExecutionStatus::Running {
                break;
            }
            let outcome = self.invoke_once().await?;
            if outcome.status() == Some(InvocationStatus::Pending) {
                let changed = lock(&self.record).has_unseen_changes();
                if !changed && self.advance_clock().is_none() {
                    // Suspended with nothing that can fire: only an external event
                    // (a callback, a chained invoke) could resume it.
                    break;
                }
            }
        }
        Ok(self.into_execution())
    }

    /// Ends the step-by-step mode and returns everything recorded.
    pub fn into_execution(self) -> Execution {
        lock(&self.record).take()
    }
}

impl Drop for RunningExecution {
    fn drop(&mut self) {
        self.service.remove(&self.arn);
    }
}

/// Resolves with the checkpoint call number when the service crashes the invocation.
async fn crash_signal(
    crashed: &mut watch::Receiver<Option<u64>>,
) -> Result<u64, watch::error::RecvError> {
    let value = crashed.wait_for(Option::is_some).await?;
    let call = (*value).unwrap_or_default();
    Ok(call)
}
