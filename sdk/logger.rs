//! A replay-aware logger for user code.
//!
//! Re-running the handler on every invocation would repeat every log line of the work that
//! is being replayed. The [`Logger`] of a [`DurableContext`](crate::DurableContext) drops
//! records while its context is replaying (unless the runtime was built with
//! [`log_during_replay`](crate::RuntimeBuilder::log_during_replay)); the logger of a step
//! is always live, because a step body only runs for real.

use std::fmt::Display;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The target of the records a [`Logger`] emits, to filter them (`RUST_LOG`,
/// `AWS_LAMBDA_LOG_LEVEL` or any `tracing` filter): `lambda_durable::user=debug`.
pub(crate) const USER_TARGET: &str = "lambda_durable::user";

/// What every record of one invocation carries, and whether records made while replaying
/// are kept.
#[derive(Debug)]
pub(crate) struct InvocationLog {
    pub(crate) execution_arn: Arc<str>,
    /// The Lambda request id of the invocation (absent on the local runner).
    pub(crate) request_id: Option<Arc<str>>,
    /// The tenant the function was invoked for (tenant-isolated functions only).
    pub(crate) tenant_id: Option<Arc<str>>,
    /// Whether records made while replaying are emitted too.
    pub(crate) during_replay: bool,
}

impl InvocationLog {
    /// The log settings of an invocation of `execution_arn` with no Lambda context.
    pub(crate) fn new(execution_arn: &str, during_replay: bool) -> Self {
        Self {
            execution_arn: execution_arn.into(),
            request_id: None,
            tenant_id: None,
            during_replay,
        }
    }
}

/// Logs user messages through [`tracing`], dropping them while the code is replaying.
///
/// Get one from [`DurableContext::logger`](crate::DurableContext::logger) (it drops
/// records while its context replays operations recorded by an earlier invocation) or from
/// [`StepContext::logger`](crate::StepContext::logger) (always live: step bodies only run
/// for real). Records are `tracing` events with the target `lambda_durable::user` and
/// these fields, when they apply:
///
/// | field | in JSON logs | what |
/// |---|---|---|
/// | `durable.execution.arn` | `executionArn` | the durable execution's ARN |
/// | `request_id` | `requestId` | the Lambda request id of the invocation (not on the local runner) |
/// | `tenant_id` | `tenantId` | the tenant of the invocation, for tenant-isolated functions |
/// | `durable.operation.parent_id` | `parentId` | in a child context, the id of its CONTEXT operation |
/// | `durable.operation.id`, `durable.operation.name`, `durable.attempt.number` | `operationId`, `operationName`, `attempt` | in a step or a condition check: its id, name and attempt (from 1) |
///
/// The `durable.*` names are those of the SDK's `tracing` spans and of the OpenTelemetry
/// attributes of `lambda-durable-otel`. Install a subscriber to see the records, for
/// example [`logging::init_subscriber()`](crate::logging::init_subscriber) (flat JSON lines
/// with the names of the second column, and `message` and `executionArn` at the top level,
/// when `AWS_LAMBDA_LOG_FORMAT=JSON`).
///
/// ```no_run
/// use lambda_durable::{DurableContext, Error};
///
/// async fn handler(order: String, ctx: DurableContext) -> Result<(), Error> {
///     // Logged once, on the first invocation, not again on every replay.
///     ctx.logger().info(format_args!("processing order {order}"));
///     ctx.step("charge", |step| async move {
///         step.logger().info(format_args!("charging, attempt {}", step.attempt()));
///         Ok::<_, std::io::Error>(())
///     })
///     .await
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Logger {
    invocation: Arc<InvocationLog>,
    parent_id: Option<Arc<str>>,
    operation_id: Option<Arc<str>>,
    operation_name: Option<Arc<str>>,
    attempt: Option<u32>,
    /// The replay flag of the context; `None` when records are never dropped.
    replaying: Option<Arc<AtomicBool>>,
}

macro_rules! level {
    ($(#[$doc:meta])* $method:ident, $level:ident) => {
        $(#[$doc])*
        pub fn $method(&self, message: impl Display) {
            if self.suppressed() {
                return;
            }
            tracing::event!(
                target: USER_TARGET,
                tracing::Level::$level,
                durable.execution.arn = %self.invocation.execution_arn,
                request_id = self.invocation.request_id.as_deref(),
                tenant_id = self.invocation.tenant_id.as_deref(),
                durable.operation.parent_id = self.parent_id.as_deref(),
                durable.operation.id = self.operation_id.as_deref(),
                durable.operation.name = self.operation_name.as_deref(),
                durable.attempt.number = self.attempt,
                "{message}"
            );
        }
    };
}

impl Logger {
    /// The logger of a context whose CONTEXT operation is `parent_id` (`None` at the
    /// root), which drops records while `replaying` holds, unless the invocation logs
    /// during replay.
    pub(crate) fn for_context(
        invocation: &Arc<InvocationLog>,
        parent_id: Option<&str>,
        replaying: &Arc<AtomicBool>,
    ) -> Self {
        Self {
            invocation: Arc::clone(invocation),
            parent_id: parent_id.map(Into::into),
            operation_id: None,
            operation_name: None,
            attempt: None,
            replaying: (!invocation.during_replay).then(|| Arc::clone(replaying)),
        }
    }

    /// The logger of attempt `attempt` of a step or a condition check: never suppressed.
    pub(crate) fn for_step(
        invocation: &Arc<InvocationLog>,
        operation_id: &str,
        operation_name: Option<&str>,
        attempt: u32,
    ) -> Self {
        Self {
            invocation: Arc::clone(invocation),
            parent_id: None,
            operation_id: Some(operation_id.into()),
            operation_name: operation_name.map(Into::into),
            attempt: Some(attempt),
            replaying: None,
        }
    }

    /// Whether records are being dropped right now because the context is replaying.
    pub fn suppressed(&self) -> bool {
        self.replaying
            .as_ref()
            .is_some_and(|replaying| replaying.load(Ordering::Relaxed))
    }

    level!(
        /// Logs `message` at `ERROR` level, unless [suppressed](Self::suppressed).
        error, ERROR
    );
    level!(
        /// Logs `message` at `WARN` level, unless [suppressed](Self::suppressed).
        warn, WARN
    );
    level!(
        /// Logs `message` at `INFO` level, unless [suppressed](Self::suppressed).
        info, INFO
    );
    level!(
        /// Logs `message` at `DEBUG` level, unless [suppressed](Self::suppressed).
        debug, DEBUG
    );
}
