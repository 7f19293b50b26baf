//! One test, two runners: [`DurableRunner`] and [`ExecutionHandle`], implemented by the
//! local runner and by the cloud runner, and [`TestRunner`], which picks one of them from the
//! environment.

use std::future::Future;

use serde::Serialize;

use super::callback::{CallbackMatcher, CallbackResponder, PendingCallback};
use super::cloud::{CloudExecution, CloudRunner};
use super::execution::Execution;
use super::runner::{LocalRunner, RunningExecution};
use super::RunnerError;
use lambda_durable::wire::ErrorObject;

/// Runs durable executions, on the local runner ([`LocalRunner`]) or against a deployed
/// function ([`CloudRunner`]): write a test against this trait (or take a [`TestRunner`])
/// and it runs unchanged on both.
///
/// Both give the same [`Execution`]: status, result, error, operations, history and
/// timeline. What depends on the local runner's virtual clock and bookkeeping
/// ([`Execution::elapsed`], [`Execution::invocations`], [`Execution::stats`], ...)
/// differs; keep such assertions in tests that use a [`LocalRunner`], or under
/// [`is_local`](Self::is_local).
///
/// ```
/// use lambda_durable::wire::ExecutionStatus;
/// use lambda_durable::{DurableContext, Error};
/// use lambda_durable_testing::{CallbackResponse, DurableRunner, LocalRunner, RunnerError};
///
/// async fn handler(_: (), ctx: DurableContext) -> Result<String, Error> {
///     let approval = ctx.create_callback::<String>("approval").await?;
///     approval.result().await
/// }
///
/// /// The scenario, for any runner.
/// async fn approved_by_grace(runner: impl DurableRunner) -> Result<(), RunnerError> {
///     let runner = runner.on_callback("approval", CallbackResponse::json("grace".into()));
///     let execution = runner.run(()).await?;
///     assert_eq!(execution.status(), ExecutionStatus::Succeeded);
///     assert_eq!(execution.result::<String>()?, "grace");
///     Ok(())
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), RunnerError> {
/// approved_by_grace(LocalRunner::new(handler)).await?;
/// // And against the deployed function:
/// // approved_by_grace(CloudRunner::new("approvals:live")).await?;
/// # Ok(()) }
/// ```
pub trait DurableRunner: Sized + Send + Sync {
    /// An execution started by [`start`](Self::start).
    type Started: ExecutionHandle;

    /// Starts an execution with `input` and runs it to its end (or, on the local runner,
    /// until it waits with nothing that can fire), answering callbacks with the
    /// responders. A failed execution is not an error: see [`Execution::status`].
    fn run<I: Serialize + Send>(
        &self,
        input: I,
    ) -> impl Future<Output = Result<Execution, RunnerError>> + Send;

    /// Starts an execution with `input`, for a test that follows it step by step.
    fn start<I: Serialize + Send>(
        &self,
        input: I,
    ) -> impl Future<Output = Result<Self::Started, RunnerError>> + Send;

    /// Adds a callback responder (see [`LocalRunner::on_callback`] and
    /// [`CloudRunner::on_callback`]: on the cloud runner, delays are real time).
    fn on_callback(self, matcher: impl CallbackMatcher, responder: impl CallbackResponder) -> Self;

    /// Whether executions run on the local runner (virtual clock, in-process), rather than
    /// on a deployed function.
    fn is_local(&self) -> bool;
}

/// An execution a test follows step by step: [`RunningExecution`] on the local runner,
/// [`CloudExecution`] on a deployed function, [`TestExecution`] for either.
///
/// The methods have the names of the local runner's own, but are `async` and return
/// [`RunnerError`] (a refused callback is [`RunnerError::Callback`]); on a
/// [`RunningExecution`], call them as `ExecutionHandle::send_callback_success(&mut running,
/// ..)` where its inherent method of the same name would be picked.
///
/// ```
/// use lambda_durable::wire::ExecutionStatus;
/// use lambda_durable::{DurableContext, Error};
/// use lambda_durable_testing::{DurableRunner, ExecutionHandle, LocalRunner, RunnerError};
///
/// async fn handler(_: (), ctx: DurableContext) -> Result<String, Error> {
///     let approval = ctx.create_callback::<String>("approval").await?;
///     approval.result().await
/// }
///
/// async fn approved_by_hand(runner: &impl DurableRunner) -> Result<(), RunnerError> {
///     let mut execution = runner.start(()).await?;
///     let approval = execution.wait_for_callback("approval").await?;
///     execution.send_callback_success(approval.id(), r#""alice""#).await?;
///     let done = execution.finish().await?;
///     assert_eq!(done.status(), ExecutionStatus::Succeeded);
///     assert_eq!(done.result::<String>()?, "alice");
///     Ok(())
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), RunnerError> {
/// approved_by_hand(&LocalRunner::new(handler)).await
/// # }
/// ```
pub trait ExecutionHandle: Send {
    /// The execution's ARN.
    fn arn(&self) -> &str;

    /// Runs (locally) or waits (in the cloud) until a pending callback matches `matcher`
    /// (a name, or any `Fn(&PendingCallback) -> bool`), and returns it.
    ///
    /// Fails with [`RunnerError::NoPendingCallback`] when the execution finishes first, or,
    /// on the local runner, waits with nothing that can fire and no such callback.
    fn wait_for_callback(
        &mut self,
        matcher: impl CallbackMatcher,
    ) -> impl Future<Output = Result<PendingCallback, RunnerError>> + Send;

    /// The callbacks waiting to be completed now, oldest first.
    fn pending_callbacks(
        &mut self,
    ) -> impl Future<Output = Result<Vec<PendingCallback>, RunnerError>> + Send;

    /// Completes a callback with `result` (`SendDurableExecutionCallbackSuccess`).
    fn send_callback_success(
        &mut self,
        callback_id: &str,
        result: impl AsRef<[u8]> + Send,
    ) -> impl Future<Output = Result<(), RunnerError>> + Send;

    /// Fails a callback with `error` (`SendDurableExecutionCallbackFailure`).
    fn send_callback_failure(
        &mut self,
        callback_id: &str,
        error: ErrorObject,
    ) -> impl Future<Output = Result<(), RunnerError>> + Send;

    /// Sends a heartbeat for a callback (`SendDurableExecutionCallbackHeartbeat`).
    fn send_callback_heartbeat(
        &mut self,
        callback_id: &str,
    ) -> impl Future<Output = Result<(), RunnerError>> + Send;

    /// Stops the execution (`StopDurableExecution`) with `error` (by default the
    /// runner's or the service's).
    fn stop(
        &mut self,
        error: Option<ErrorObject>,
    ) -> impl Future<Output = Result<(), RunnerError>> + Send;

    /// Runs (locally) or waits (in the cloud) until the execution ends, and returns it.
    fn finish(self) -> impl Future<Output = Result<Execution, RunnerError>> + Send;
}

impl DurableRunner for LocalRunner {
    type Started = RunningExecution;

    async fn run<I: Serialize + Send>(&self, input: I) -> Result<Execution, RunnerError> {
        LocalRunner::run(self, input).await
    }

    async fn start<I: Serialize + Send>(&self, input: I) -> Result<RunningExecution, RunnerError> {
        LocalRunner::start(self, input)
    }

    fn on_callback(self, matcher: impl CallbackMatcher, responder: impl CallbackResponder) -> Self {
        LocalRunner::on_callback(self, matcher, responder)
    }

    fn is_local(&self) -> bool {
        true
    }
}

impl ExecutionHandle for RunningExecution {
    fn arn(&self) -> &str {
        RunningExecution::arn(self)
    }

    async fn wait_for_callback(
        &mut self,
        matcher: impl CallbackMatcher,
    ) -> Result<PendingCallback, RunnerError> {
        let status = self.run_until_suspended().await?;
        RunningExecution::pending_callbacks(self)
            .into_iter()
            .find(|callback| matcher.matches(callback))
            .ok_or_else(|| RunnerError::NoPendingCallback {
                arn: RunningExecution::arn(self).to_string(),
                status,
            })
    }

    async fn pending_callbacks(&mut self) -> Result<Vec<PendingCallback>, RunnerError> {
        Ok(RunningExecution::pending_callbacks(self))
    }

    async fn send_callback_success(
        &mut self,
        callback_id: &str,
        result: impl AsRef<[u8]> + Send,
    ) -> Result<(), RunnerError> {
        RunningExecution::send_callback_success(self, callback_id, result)
            .map_err(RunnerError::Callback)
    }

    async fn send_callback_failure(
        &mut self,
        callback_id: &str,
        error: ErrorObject,
    ) -> Result<(), RunnerError> {
        RunningExecution::send_callback_failure(self, callback_id, error)
            .map_err(RunnerError::Callback)
    }

    async fn send_callback_heartbeat(&mut self, callback_id: &str) -> Result<(), RunnerError> {
        RunningExecution::send_callback_heartbeat(self, callback_id).map_err(RunnerError::Callback)
    }

    async fn stop(&mut self, error: Option<ErrorObject>) -> Result<(), RunnerError> {
        let arn = RunningExecution::arn(self).to_string();
        self.stop_execution(&arn, error)
    }

    async fn finish(self) -> Result<Execution, RunnerError> {
        RunningExecution::run(self).await
    }
}

impl DurableRunner for CloudRunner {
    type Started = CloudExecution;

    async fn run<I: Serialize + Send>(&self, input: I) -> Result<Execution, RunnerError> {
        CloudRunner::run(self, input).await
    }

    async fn start<I: Serialize + Send>(&self, input: I) -> Result<CloudExecution, RunnerError> {
        CloudRunner::start(self, input).await
    }

    fn on_callback(self, matcher: impl CallbackMatcher, responder: impl CallbackResponder) -> Self {
        CloudRunner::on_callback(self, matcher, responder)
    }

    fn is_local(&self) -> bool {
        false
    }
}

impl ExecutionHandle for CloudExecution {
    fn arn(&self) -> &str {
        CloudExecution::arn(self)
    }

    async fn wait_for_callback(
        &mut self,
        matcher: impl CallbackMatcher,
    ) -> Result<PendingCallback, RunnerError> {
        CloudExecution::wait_for_callback(self, matcher).await
    }

    async fn pending_callbacks(&mut self) -> Result<Vec<PendingCallback>, RunnerError> {
        CloudExecution::pending_callbacks(self).await
    }

    async fn send_callback_success(
        &mut self,
        callback_id: &str,
        result: impl AsRef<[u8]> + Send,
    ) -> Result<(), RunnerError> {
        CloudExecution::send_callback_success(self, callback_id, result).await
    }

    async fn send_callback_failure(
        &mut self,
        callback_id: &str,
        error: ErrorObject,
    ) -> Result<(), RunnerError> {
        CloudExecution::send_callback_failure(self, callback_id, error).await
    }

    async fn send_callback_heartbeat(&mut self, callback_id: &str) -> Result<(), RunnerError> {
        CloudExecution::send_callback_heartbeat(self, callback_id).await
    }

    async fn stop(&mut self, error: Option<ErrorObject>) -> Result<(), RunnerError> {
        CloudExecution::stop(self, error).await
    }

    async fn finish(self) -> Result<Execution, RunnerError> {
        self.wait().await
    }
}

/// The runner a test gets from the environment: the cloud runner when
/// `LAMBDA_DURABLE_TEST_FUNCTION` names a deployed function (see
/// [`CloudRunner::from_env`]), else the local runner it is given. Tests written against it
/// (or against [`DurableRunner`]) run in-process by default, and against the function when
/// the variable is set:
///
/// ```sh
/// cargo test                                                   # local runner
/// LAMBDA_DURABLE_TEST_FUNCTION=order-workflow:live cargo test  # the deployed alias `live`
/// ```
///
/// ```no_run
/// use lambda_durable::wire::ExecutionStatus;
/// use lambda_durable::{DurableContext, Error};
/// use lambda_durable_testing::{DurableRunner, LocalRunner, TestRunner};
///
/// async fn handler(n: u32, ctx: DurableContext) -> Result<u32, Error> {
///     ctx.step("double", |_| async move { Ok::<_, std::io::Error>(n * 2) }).await
/// }
///
/// #[tokio::test]
/// async fn doubles() {
///     let runner = TestRunner::from_env(LocalRunner::new(handler)).unwrap();
///     let execution = runner.run(21).await.unwrap();
///     assert_eq!(execution.status(), ExecutionStatus::Succeeded);
///     assert_eq!(execution.result::<u32>().unwrap(), 42);
///     if runner.is_local() {
///         assert_eq!(execution.invocations(), 1);
///     }
/// }
/// ```
#[derive(Debug)]
pub enum TestRunner {
    /// In-process, on the local runner.
    Local(LocalRunner),
    /// Against a deployed function.
    Cloud(CloudRunner),
}

impl TestRunner {
    /// [`TestRunner::Cloud`] when [`CloudRunner::from_env`] gives a runner
    /// (`LAMBDA_DURABLE_TEST_FUNCTION` is set), else [`TestRunner::Local`] with `local`.
    ///
    /// # Errors
    ///
    /// As [`CloudRunner::from_env`]: [`RunnerError::Config`] for an invalid setting.
    pub fn from_env(local: LocalRunner) -> Result<Self, RunnerError> {
        Ok(match CloudRunner::from_env()? {
            Some(cloud) => TestRunner::Cloud(cloud),
            None => TestRunner::Local(local),
        })
    }

    /// Changes the cloud runner (its timeout, poll interval, ...), if it is one.
    pub fn map_cloud(self, change: impl FnOnce(CloudRunner) -> CloudRunner) -> Self {
        match self {
            TestRunner::Cloud(cloud) => TestRunner::Cloud(change(cloud)),
            local => local,
        }
    }
}

impl From<LocalRunner> for TestRunner {
    fn from(runner: LocalRunner) -> Self {
        TestRunner::Local(runner)
    }
}

impl From<CloudRunner> for TestRunner {
    fn from(runner: CloudRunner) -> Self {
        TestRunner::Cloud(runner)
    }
}

/// An execution started by a [`TestRunner`].
#[derive(Debug)]
pub enum TestExecution {
    /// On the local runner.
    Local(RunningExecution),
    /// On a deployed function.
    Cloud(CloudExecution),
}

impl DurableRunner for TestRunner {
    type Started = TestExecution;

    async fn run<I: Serialize + Send>(&self, input: I) -> Result<Execution, RunnerError> {
        match self {
            TestRunner::Local(runner) => runner.run(input).await,
            TestRunner::Cloud(runner) => runner.run(input).await,
        }
    }

    async fn start<I: Serialize + Send>(&self, input: I) -> Result<TestExecution, RunnerError> {
        Ok(match self {
            TestRunner::Local(runner) => TestExecution::Local(runner.start(input)?),
            TestRunner::Cloud(runner) => TestExecution::Cloud(runner.start(input).await?),
        })
    }

    fn on_callback(self, matcher: impl CallbackMatcher, responder: impl CallbackResponder) -> Self {
        match self {
            TestRunner::Local(runner) => TestRunner::Local(runner.on_callback(matcher, responder)),
            TestRunner::Cloud(runner) => TestRunner::Cloud(runner.on_callback(matcher, responder)),
        }
    }

    fn is_local(&self) -> bool {
        matches!(self, TestRunner::Local(_))
    }
}

impl ExecutionHandle for TestExecution {
    fn arn(&self) -> &str {
        match self {
            TestExecution::Local(execution) => RunningExecution::arn(execution),
            TestExecution::Cloud(execution) => CloudExecution::arn(execution),
        }
    }

    async fn wait_for_callback(
        &mut self,
        matcher: impl CallbackMatcher,
    ) -> Result<PendingCallback, RunnerError> {
        match self {
            TestExecution::Local(execution) => {
                ExecutionHandle::wait_for_callback(execution, matcher).await
            }
            TestExecution::Cloud(execution) => {
                CloudExecution::wait_for_callback(execution, matcher).await
            }
        }
    }

    async fn pending_callbacks(&mut self) -> Result<Vec<PendingCallback>, RunnerError> {
        match self {
            TestExecution::Local(execution) => Ok(RunningExecution::pending_callbacks(execution)),
            TestExecution::Cloud(execution) => CloudExecution::pending_callbacks(execution).await,
        }
    }

    async fn send_callback_success(
        &mut self,
        callback_id: &str,
        result: impl AsRef<[u8]> + Send,
    ) -> Result<(), RunnerError> {
        match self {
            TestExecution::Local(execution) => {
                RunningExecution::send_callback_success(execution, callback_id, result)
                    .map_err(RunnerError::Callback)
            }
            TestExecution::Cloud(execution) => {
                CloudExecution::send_callback_success(execution, callback_id, result).await
            }
        }
    }

    async fn send_callback_failure(
        &mut self,
        callback_id: &str,
        error: ErrorObject,
    ) -> Result<(), RunnerError> {
        match self {
            TestExecution::Local(execution) => {
                RunningExecution::send_callback_failure(execution, callback_id, error)
                    .map_err(RunnerError::Callback)
            }
            TestExecution::Cloud(execution) => {
                CloudExecution::send_callback_failure(execution, callback_id, error).await
            }
        }
    }

    async fn send_callback_heartbeat(&mut self, callback_id: &str) -> Result<(), RunnerError> {
        match self {
            TestExecution::Local(execution) => {
                RunningExecution::send_callback_heartbeat(execution, callback_id)
                    .map_err(RunnerError::Callback)
            }
            TestExecution::Cloud(execution) => {
                CloudExecution::send_callback_heartbeat(execution, callback_id).await
            }
        }
    }

    async fn stop(&mut self, error: Option<ErrorObject>) -> Result<(), RunnerError> {
        match self {
            TestExecution::Local(execution) => ExecutionHandle::stop(execution, error).await,
            TestExecution::Cloud(execution) => CloudExecution::stop(execution, error).await,
        }
    }

    async fn finish(self) -> Result<Execution, RunnerError> {
        match self {
            TestExecution::Local(execution) => RunningExecution::run(execution).await,
            TestExecution::Cloud(execution) => CloudExecution::wait(execution).await,
        }
    }
}
