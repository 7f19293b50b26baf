//! A replay-aware logger for user code.
//!
//! Re-running the handler on every invocation would repeat every log line of the work that
//! is being replayed. The [`Logger`] of a [`DurableContext`](crate::DurableContext) drops
//! records while its context is replaying; the logger of a step is always live, because a
//! step body only runs for real. Records go to [`tracing`] with the target
//! `lambda_durable::user` and carry the execution ARN, and inside steps the operation id,
//! name and attempt.

use std::fmt::Display;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Logs user messages through `tracing`, suppressed while replaying.
#[derive(Clone, Debug)]
pub struct Logger {
    execution_arn: Arc<str>,
    operation_id: Option<Arc<str>>,
    operation_name: Option<Arc<str>>,
    attempt: Option<u32>,
    replaying: Option<Arc<AtomicBool>>,
}

macro_rules! level {
    ($(#[$doc:meta])* $method:ident, $level:ident) => {
        $(#[$doc])*
        pub fn $method(&self, message: impl Display) {
            if self.suppressed() {
                return;
            }
            tracing::$level!(
                target: "lambda_durable::user",
                execution_arn = %self.execution_arn,
                operation_id = self.operation_id.as_deref(),
                operation_name = self.operation_name.as_deref(),
                attempt = self.attempt,
                "{message}"
            );
        }
    };
}

impl Logger {
    pub(crate) fn for_context(execution_arn: Arc<str>, replaying: Option<Arc<AtomicBool>>) -> Self {
        Self {
            execution_arn,
            operation_id: None,
            operation_name: None,
            attempt: None,
            replaying,
        }
    }

    pub(crate) fn for_step(
        execution_arn: Arc<str>,
        operation_id: &str,
        operation_name: Option<&str>,
        attempt: u32,
    ) -> Self {
        Self {
            execution_arn,
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
        /// Logs at `ERROR` level.
        error, error
    );
    level!(
        /// Logs at `WARN` level.
        warn, warn
    );
    level!(
        /// Logs at `INFO` level.
        info, info
    );
    level!(
        /// Logs at `DEBUG` level.
        debug, debug
    );
}
