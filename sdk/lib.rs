//! # lambda-durable
//!
//! A typed SDK for **AWS Lambda durable functions**: Lambda handlers whose operations are
//! checkpointed to the Lambda durable-execution service and replayed on every invocation, so
//! a workflow can run for up to a year, survive crashes and pay nothing while it waits.
//!
//! ## How it works
//!
//! The service invokes the function with an envelope holding the execution's operation log.
//! The SDK runs the handler **from the start** each time; every durable operation it asks for
//! gets a deterministic id from its position (see [`DurableContext`]):
//!
//! - if the log already holds a result for that id, the recorded result is returned without
//!   running anything (replay);
//! - otherwise the operation runs and its progress is checkpointed;
//! - when nothing can progress without a timer or an outside event (a [wait](DurableContext::wait),
//!   a step retry delay), the invocation returns `PENDING` and the service invokes the function
//!   again when it is time.
//!
//! ## Walkthrough
//!
//! ```no_run
//! use std::time::Duration;
//! use lambda_durable::{DurableContext, Error};
//!
//! #[derive(serde::Deserialize)]
//! struct Signup { email: String }
//!
//! async fn onboarding(signup: Signup, ctx: DurableContext) -> Result<String, Error> {
//!     let email = signup.email.clone();
//!     // Runs once; replays return the recorded user id.
//!     let user_id = ctx
//!         .step("create account", |_| async move { Ok::<_, std::io::Error>(format!("user-{email}")) })
//!         .await?;
//!     // Suspends the execution for a day without paying for it.
//!     ctx.wait("one day later", Duration::from_secs(86_400)).await?;
//!     ctx.step("send tips", |step| async move {
//!         step.logger().info("sending tips");
//!         Ok::<_, std::io::Error>(())
//!     })
//!     .await?;
//!     Ok(user_id)
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), lambda_runtime::Error> {
//!     lambda_durable::run(onboarding).await
//! }
//! ```
//!
//! ## Modules
//!
//! - [`retry`]: retry strategies of steps; [`wait_strategy`]: polling strategies;
//! - [`serdes`]: how results are turned into checkpointed strings;
//! - [`service`]: the seam to the durable-execution API ([`service::DurableService`]), for
//!   other transports and wrappers;
//! - [`wire`]: the protocol's types, generated from the JSON Schemas in `schema/wire/`;
//! - [`limits`]: the service's size and range limits, as the SDK enforces them.
//!
//! The local runner, an in-process emulation of the service for running and testing
//! workflows with no AWS account, is the crate `lambda-durable-testing` (a
//! dev-dependency).
//!
//! ## Rules of replay
//!
//! Start operations in the same order on every invocation: derive control flow only from
//! the event and from results of earlier operations, never from the clock, randomness or
//! outside state, and put side effects inside steps. An operation that does not match the
//! history at its position fails the execution with [`Error::NonDeterministic`]. To change
//! the code while executions are in flight, guard the change with
//! [`DurableContext::patched`].
//!
//! ## Errors
//!
//! Failures of durable operations are recorded and replayed as they happened: a step that
//! gave up returns [`Error::StepFailed`] with the recorded error type and message on every
//! replay. A business error that implements [`TypedError`] keeps its fields: return it as
//! an [`ErrorRecord`] and get it back with [`Error::downcast`]. Steps take a
//! [`timeout`](Step::timeout); at the invocation's deadline running attempts are cut short
//! and recorded (see the README's section on deadlines).
//!
//! ## Settings and logs
//!
//! [`run`] serves a handler with the default settings. [`Runtime::builder`] changes them:
//! the AWS configuration or client, or another [`service::DurableService`]; the deadline
//! margin; checkpoint batching ([`CheckpointConfig`]); logging during replay; `tower`
//! layers around the Lambda runtime's service. [`DurableContext::logger`] and
//! [`StepContext::logger`] log through [`tracing`](https://docs.rs/tracing) with the
//! execution ARN, request id and operation as fields, once per record rather than on every
//! replay (see [`Logger`]); install a subscriber (for example
//! [`logging::init_subscriber()`](logging::init_subscriber)) to see them.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod checkpoint;
pub use checkpoint::{ServiceError, ServiceErrorKind};
mod config;
mod context;
mod error;
mod handler;
mod lambda;
pub mod limits;
mod log;
mod logger;
pub mod logging;
pub mod plugin;
mod replay;
pub mod retry;
pub mod serdes;
pub mod service;
mod signal;
mod state;
pub mod wait_strategy;
pub mod wire;

pub use config::{CheckpointConfig, ConfigError};
pub use context::{
    branch, BatchItem, BatchItemStatus, BatchProgress, BatchResult, BatchStatus, Branch,
    BranchTuple, Callback, ChildContext, CompletionConfig, CompletionReason, CreateCallback,
    DurableContext, Invoke, ItemTuple, Map, Name, Nesting, Parallel, ParallelTuple, Step,
    StepContext, TupleResult, VirtualContext, WaitForCallback, WaitForCondition, WithRetry,
};
pub use error::{
    error_type_name, DeclaredError, Error, ErrorKind, ErrorRecord, OperationRef, TypedError,
};
pub use lambda::{run, HandlerService, Runtime, RuntimeBuilder};
pub use logger::Logger;
pub use replay::StepSemantics;

/// The Lambda runtime that [`run`] serves handlers on, re-exported so that a function's
/// crate can name its types (the error [`run`] returns, `lambda_runtime::Context`) without
/// a dependency of its own, at the version the SDK was built with.
pub use lambda_runtime;

/// Makes an async durable handler the Lambda function's entry point: generates the `fn main`
/// that serves it with [`run`].
///
/// ```no_run
/// use lambda_durable::{durable_execution, DurableContext, Error};
///
/// #[derive(serde::Deserialize)]
/// struct Order { id: String }
///
/// #[derive(serde::Serialize)]
/// struct Receipt { reservation: String }
///
/// #[durable_execution]
/// async fn handler(order: Order, ctx: DurableContext) -> Result<Receipt, Error> {
///     let id = order.id.clone();
///     let reservation = ctx
///         .step("reserve", |_| async move { Ok::<_, std::io::Error>(format!("reserved {id}")) })
///         .await?;
///     Ok(Receipt { reservation })
/// }
/// ```
#[doc(inline)]
pub use lambda_durable_macros::durable_execution;

/// Includes the typed helpers that `lambda-durable-codegen` generated from a workflow
/// declaration: `include_workflow!("order")` includes `$OUT_DIR/order.rs`, which the build
/// script made from `workflows/order.json`.
///
/// Put it in a module of its own; the module then holds the declared types (`Input`,
/// `Output`, the `definitions` and the operations' types), the `Workflow` struct whose
/// methods are the declared operations, and `handler`, which turns an
/// `async fn(Input, Workflow) -> Result<Output, E>` into a handler for [`run`] (or the local
/// runner).
///
/// ```ignore
/// // build.rs
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     lambda_durable_codegen::workflow::build("workflows")?;
///     Ok(())
/// }
///
/// // src/main.rs
/// mod order {
///     lambda_durable::include_workflow!("order");
/// }
///
/// async fn process(input: order::Input, wf: order::Workflow) -> Result<order::Output, lambda_durable::Error> {
///     let valid = wf.validate_order(|_step| async move { Ok::<_, std::io::Error>(input.id) }).await?;
///     wf.cool_off().await?;
///     Ok(order::Output { order: valid })
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), lambda_runtime::Error> {
///     lambda_durable::run(order::handler(process)).await
/// }
/// ```
///
/// (`ignore`d here because it needs a build script; `examples/orders` is this example in
/// full.)
#[macro_export]
macro_rules! include_workflow {
    ($name:literal) => {
        ::core::include!(::core::concat!(::core::env!("OUT_DIR"), "/", $name, ".rs"));
    };
}

/// What code generated from workflow declarations refers to, so that a user's crate needs
/// no dependency besides this one. Not a public API.
#[doc(hidden)]
#[path = "codegen_support.rs"]
pub mod __codegen;

/// What the code generated by [`durable_execution`] refers to, so that a function's crate
/// needs no dependency besides this one. Not a public API.
#[doc(hidden)]
pub mod __macro_support {
    pub use ::lambda_runtime;
    pub use ::tokio;

    /// The error type of the generated `main`.
    pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
}
