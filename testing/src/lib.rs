//! The local runner: runs durable handlers in-process, with no AWS account; and the cloud
//! runner, which runs the same tests against a deployed function.
//!
//! [`LocalRunner`] emulates the durable-execution service: it keeps the operation log of
//! each execution, validates every checkpoint with the service's rules (a request that
//! breaks one is rejected whole, with the service's message), rotates checkpoint tokens,
//! answers repeated requests from its idempotency cache, pages the operation log, records
//! the history events, and fires timers on a virtual clock that never sleeps. As the
//! service may, it leaves the operations inside a finished child context (one not
//! checkpointed with `ReplayChildren`) out of the state it hands an invocation, so a
//! handler that passes here does not depend on them; [`Execution`] still shows them.
//! The handler runs through the same invocation driver as on Lambda, so what passes here
//! exercises the real replay and checkpoint code.
//!
//! [`Fault`]s make the service fail on purpose: throttling, server errors, invalid tokens,
//! lost responses, crashes of the invocation after a chosen checkpoint call, and
//! invocations that run out of time in the middle of one.
//!
//! [`LocalRunner::replay`] runs the handler once more over the complete log of a finished
//! execution, from scratch, and reports whether it reached the same outcome without
//! writing anything ([`Replay`]): a check that the handler is deterministic.
//! [`LocalRunner::check_crash_safety`] goes further in one call: it runs the workflow once
//! without faults, then once crashed after each of its checkpoint calls, and fails with the
//! first crash point that changes how the execution ends ([`CrashSafetyReport`]).
//!
//! ```
//! use std::time::Duration;
//! use lambda_durable::retry::presets;
//! use lambda_durable_testing::{Fault, LocalRunner};
//! use lambda_durable::wire::{EventType, ExecutionStatus};
//! use lambda_durable::{DurableContext, Error};
//! use serde_json::{json, Value};
//!
//! #[derive(Debug, thiserror::Error)]
//! #[error("card declined")]
//! struct Declined;
//!
//! async fn handler(order: Value, ctx: DurableContext) -> Result<Value, Error> {
//!     let id = order["orderId"].as_u64().unwrap_or_default();
//!     // Fails on its first attempt and is retried 10 s later.
//!     let receipt: String = ctx
//!         .step("charge", |step| async move {
//!             if step.attempt() == 1 {
//!                 return Err(Declined);
//!             }
//!             Ok(format!("receipt-{id}"))
//!         })
//!         .retry(presets::fixed(Duration::from_secs(10)))
//!         .await?;
//!     ctx.wait("cool down", Duration::from_secs(3600)).await?;
//!     Ok(json!({ "receipt": receipt }))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A lost checkpoint response on the way, to show that the SDK recovers from it.
//! let runner = LocalRunner::new(handler).fault(Fault::lost_response().at_call(2));
//! let execution = runner.run(json!({ "orderId": 42 })).await?;
//!
//! assert_eq!(execution.status(), ExecutionStatus::Succeeded);
//! assert_eq!(execution.result::<Value>()?, json!({ "receipt": "receipt-42" }));
//! // Suspended for the retry delay and for the wait: three invocations, no real sleep.
//! assert_eq!(execution.invocations(), 3);
//! assert_eq!(execution.elapsed(), Duration::from_secs(3610));
//! let charge = execution.operation("charge").expect("the step is recorded");
//! assert_eq!(charge.step_details.as_ref().and_then(|d| d.attempt), Some(2));
//! assert_eq!(execution.history()[0].event_type, EventType::ExecutionStarted);
//! println!("{}", execution.timeline());
//! # Ok(()) }
//! ```
//!
//! The step-by-step mode ([`LocalRunner::start`], [`RunningExecution`]) invokes the
//! handler one invocation at a time and advances the clock on request.
//!
//! Chained invokes run locally: register the functions the handler invokes with
//! [`LocalRunner::register`] (durable) and [`LocalRunner::register_plain`]. Callbacks are
//! completed by the test ([`RunningExecution::send_callback_success`],
//! [`RunningExecution::send_callback_failure`], [`RunningExecution::send_callback_heartbeat`],
//! [`RunningExecution::pending_callbacks`]) or by responders
//! ([`LocalRunner::on_callback`]); their timeouts fire on the virtual clock.
//!
//! [`CloudRunner`] starts executions of a deployed durable function (on AWS, or on AWS's
//! local emulator) and reads them back as the same [`Execution`], so that a test's
//! assertions run unchanged against the service. [`DurableRunner`] and [`ExecutionHandle`]
//! are what both runners do; [`TestRunner::from_env`] picks the cloud runner when
//! `LAMBDA_DURABLE_TEST_FUNCTION` names a function, and the local runner otherwise:
//!
//! ```no_run
//! use lambda_durable::wire::ExecutionStatus;
//! use lambda_durable::{DurableContext, Error};
//! use lambda_durable_testing::{DurableRunner, LocalRunner, TestRunner};
//!
//! async fn handler(n: u32, ctx: DurableContext) -> Result<u32, Error> {
//!     ctx.step("double", |_| async move { Ok::<_, std::io::Error>(n * 2) }).await
//! }
//!
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! // `cargo test` runs it in-process; LAMBDA_DURABLE_TEST_FUNCTION=doubler:live cargo test
//! // runs it against the alias `live` of the deployed function `doubler`.
//! let runner = TestRunner::from_env(LocalRunner::new(handler))?;
//! let execution = runner.run(21).await?;
//! assert_eq!(execution.status(), ExecutionStatus::Succeeded);
//! assert_eq!(execution.result::<u32>()?, 42);
//! # Ok(()) }
//! ```

mod callback;
mod cloud;
mod crash_safety;
mod declared;
mod execution;
mod fault;
mod generic;
mod history;
mod latency;
mod recorded;
mod replay;
mod runner;
mod service;
mod store;
mod timeline;
mod validate;

#[cfg(test)]
mod tests;

pub use callback::{
    CallbackMatcher, CallbackResponder, CallbackResponse, PendingCallback, SendCallbackError,
};
pub use cloud::{CloudExecution, CloudRunner, StartMode, FUNCTION_ENV, START_ENV, STOP_ERROR_TYPE};
pub use crash_safety::{CrashDivergence, CrashPoint, CrashSafetyError, CrashSafetyReport};
pub use execution::{Execution, InvocationOutcome, RunnerStats};
pub use fault::{Fault, FaultKind};
pub use generic::{DurableRunner, ExecutionHandle, TestExecution, TestRunner};
pub use latency::Latency;
pub use recorded::{check_recorded, RecordedExecution, RECORDED_EXECUTION_FORMAT};
pub use replay::Replay;
pub use runner::{LocalRunner, RunningExecution};

use lambda_durable::wire::ExecutionStatus;

/// Why a runner could not run an execution, or read its result.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RunnerError {
    /// The execution input cannot be serialized as JSON.
    #[error("the execution input cannot be serialized as JSON: {0}")]
    Input(String),
    /// The runner is configured with a value the service would refuse.
    #[error("invalid runner configuration: {0}")]
    Config(String),
    /// The execution needed more invocations than the runner allows.
    #[error("the execution needed more than {limit} invocations; does the handler make progress?")]
    TooManyInvocations {
        /// The bound ([`LocalRunner::max_invocations`]).
        limit: u32,
    },
    /// The execution already finished, so it cannot be invoked again.
    #[error("the execution already finished with status {status}; it cannot be invoked again")]
    Finished {
        /// Its final status.
        status: ExecutionStatus,
    },
    /// The result was asked for, but the execution did not succeed.
    #[error("the execution has no result: its status is {status}{}", error_suffix(.error))]
    NoResult {
        /// The execution's status.
        status: ExecutionStatus,
        /// The execution's error (`type: message`), if it failed with one.
        error: Option<String>,
    },
    /// A callback responder ([`LocalRunner::on_callback`], [`CloudRunner::on_callback`])
    /// answered with something the service refuses (a result over 1 MiB, for example);
    /// or, through [`ExecutionHandle`] and [`CloudExecution`], the service refused to
    /// complete a callback (unknown or already completed, timed out, invalid).
    #[error("the callback could not be completed: {0}")]
    Callback(SendCallbackError),
    /// A call to the durable-execution service failed (the cloud runner's calls, and the
    /// start route of AWS's emulator), or its answer could not be read.
    #[error("{call}{}: {message}", arn_suffix(.arn))]
    Service {
        /// The API call (`Invoke`, `GetDurableExecution`, `GetDurableExecutionHistory`,
        /// `StopDurableExecution`, `SendDurableExecutionCallbackSuccess`, ...,
        /// `start-durable-execution` for the emulator's route).
        call: &'static str,
        /// The execution's ARN, when the call was about one.
        arn: Option<String>,
        /// The service's error code (`ResourceNotFoundException`, ...), when it sent one.
        code: Option<String>,
        /// What went wrong: the service's message, a connection error, or what in its answer
        /// could not be read.
        message: String,
    },
    /// The cloud runner gave up waiting: the execution did not finish, or did not reach the
    /// awaited state, within the runner's [timeout](CloudRunner::timeout). The runner
    /// stopped it (`StopDurableExecution`), so that it does not run on.
    #[error(
        "the execution {arn} did not {awaited} within {}s; {}",
        waited.as_secs_f64(),
        stop_outcome(.stop_error)
    )]
    Timeout {
        /// The execution's ARN.
        arn: String,
        /// What the runner waited for (`finish`, `create a callback ...`).
        awaited: String,
        /// How long it waited.
        waited: std::time::Duration,
        /// Why the execution could not be stopped, if it could not.
        stop_error: Option<String>,
    },
    /// A test waited for a callback ([`ExecutionHandle::wait_for_callback`]), but the
    /// execution finished, or (on the local runner) was suspended with nothing that can fire,
    /// without a pending callback that matches.
    #[error("the execution {arn} has no pending callback that matches (status {status})")]
    NoPendingCallback {
        /// The execution's ARN.
        arn: String,
        /// Its status then.
        status: ExecutionStatus,
    },
    /// No execution of this run has the ARN.
    #[error("no execution of this run has the ARN {arn}")]
    UnknownExecution {
        /// The ARN asked for.
        arn: String,
    },
    /// A recorded execution cannot be read or written, or replays differently from what was
    /// recorded (see [`check_recorded`]).
    #[error("recorded execution: {0}")]
    Recorded(String),
    /// The result does not deserialize as the type asked for.
    #[error("the execution result is not a valid {type_name}: {message}")]
    ResultType {
        /// The type asked for.
        type_name: &'static str,
        /// What serde said.
        message: String,
    },
}

/// `value` changed by `set`: how the wire types, which are `#[non_exhaustive]`, are built
/// here (from their `Default` or their `new(required fields)`).
pub(crate) fn with<T>(mut value: T, set: impl FnOnce(&mut T)) -> T {
    set(&mut value);
    value
}

/// An `ErrorObject` with a type and a message.
pub(crate) fn error_object(error_type: &str, message: &str) -> lambda_durable::wire::ErrorObject {
    with(lambda_durable::wire::ErrorObject::default(), |it| {
        it.error_type = Some(error_type.to_string());
        it.error_message = Some(message.to_string());
    })
}

fn arn_suffix(arn: &Option<String>) -> String {
    arn.as_ref()
        .map(|arn| format!(" ({arn})"))
        .unwrap_or_default()
}

fn stop_outcome(stop_error: &Option<String>) -> String {
    match stop_error {
        None => "the runner stopped it".to_string(),
        Some(error) => format!("stopping it failed too: {error}"),
    }
}

fn error_suffix(error: &Option<String>) -> String {
    error
        .as_ref()
        .map(|error| format!(" ({error})"))
        .unwrap_or_default()
}
