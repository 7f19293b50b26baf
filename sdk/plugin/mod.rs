//! Instrumentation plugins: hooks that observe an execution's invocations, operations and
//! user code, to feed metrics, traces or structured logs.
//!
//! A [`Plugin`] overrides the hooks it needs (each has a no-op default) and is registered on
//! the runtime ([`RuntimeBuilder::plugin`](crate::RuntimeBuilder::plugin)) or on the local
//! runner of `lambda-durable-testing`; plugins are called in registration order. The hooks:
//!
//! | hook | when |
//! |---|---|
//! | [`on_invocation_start`](Plugin::on_invocation_start) | once per invocation, after the execution's state is loaded, before the handler runs |
//! | [`on_invocation_end`](Plugin::on_invocation_end) | once per invocation that started, after its outcome is final: a terminal status only from the invocation that ends the execution, `PENDING` from one that suspends, `RETRY` from one Lambda invokes again |
//! | [`on_operation_start`](Plugin::on_operation_start) | live, before an operation's START is checkpointed (again for each retry of a step, with `is_replay`); on replay, once per invocation for each operation the code reaches that is recorded and not finished (a pending wait, retry, callback, invoke or an open context), with `is_replay` |
//! | [`on_operation_end`](Plugin::on_operation_end) | once per operation over the whole execution, when it reaches a terminal status: after the checkpoint that finished it, or, for one the service finished while the execution was suspended (a wait, a callback, an invoke), in the next invocation |
//! | [`on_operation_change`](Plugin::on_operation_change) | after each checkpoint response that reports operations new or with a changed status (before the `operation-end` of the operations it finished) |
//! | [`on_user_function_start`](Plugin::on_user_function_start) / [`on_user_function_end`](Plugin::on_user_function_end) | around every step attempt, wait-for-condition check and child-context body (map items and parallel branches included), on the task that runs it |
//!
//! Hooks never change an execution: a hook that returns an error or panics is logged and
//! ignored, and the other plugins still get the same hook. Catching a panic needs the
//! default `panic = "unwind"`. Hooks run inline, so keep them short; with no plugin
//! registered nothing is computed for them.
//!
//! The EXECUTION operation itself has no operation hooks: the invocation hooks report it.
//! A virtual context ([`run_in_virtual_context`](crate::DurableContext::run_in_virtual_context))
//! writes no checkpoint and its body runs again in every invocation that reaches it: each
//! run is reported as an operation start and end (with the id it would have, type
//! `CONTEXT`), so it may end more than once.
//! An operation that the service finishes after a context around it has finished (a wait
//! in a parallel branch the parallel no longer waits for) is outside the state an
//! invocation receives: no invocation sees it end, and it gets no `operation-end`. When
//! the envelope has no list of the operations the service changed while the execution
//! was suspended (`UpdatedOperationIds`; an empty list says that nothing changed), the
//! finished waits, callbacks and invokes are found by their end times; an invocation that writes nothing may then report them again in the next
//! one. Either way, an invocation that fails before its first checkpoint leaves them
//! listed as changed, and the next invocation reports their end again.
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use lambda_durable::plugin::{HookResult, OperationInfo, Plugin};
//! use lambda_durable::Runtime;
//!
//! /// Counts the operations that ended, by status.
//! #[derive(Default)]
//! struct Counter {
//!     succeeded: AtomicUsize,
//!     failed: AtomicUsize,
//! }
//!
//! impl Plugin for Counter {
//!     fn on_operation_end(&self, info: &OperationInfo) -> HookResult {
//!         let counter = match info.status.as_str() {
//!             "SUCCEEDED" => &self.succeeded,
//!             _ => &self.failed,
//!         };
//!         counter.fetch_add(1, Ordering::Relaxed);
//!         Ok(())
//!     }
//! }
//!
//! let runtime = Runtime::builder().plugin(Counter::default()).build();
//! assert!(runtime.is_ok());
//! ```

mod json_log;

pub use json_log::JsonLogPlugin;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::SystemTime;

use crate::wire::{ErrorObject, OperationStatus, OperationType};

/// What a hook returns: an error is logged and ignored.
pub type HookResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// An observer of executions. Every hook has a no-op default; see the
/// [module documentation](self) for when each one is called.
pub trait Plugin: Send + Sync + 'static {
    /// An invocation starts: its state is loaded and the handler is about to run.
    fn on_invocation_start(&self, info: &InvocationStartInfo) -> HookResult {
        let _ = info;
        Ok(())
    }

    /// An invocation ends, with the status it returns to the service.
    fn on_invocation_end(&self, info: &InvocationEndInfo) -> HookResult {
        let _ = info;
        Ok(())
    }

    /// An operation starts (live) or is reached on replay while not finished.
    fn on_operation_start(&self, info: &OperationInfo) -> HookResult {
        let _ = info;
        Ok(())
    }

    /// An operation reached a terminal status (once per operation per execution).
    fn on_operation_end(&self, info: &OperationInfo) -> HookResult {
        let _ = info;
        Ok(())
    }

    /// A checkpoint response reported operations that are new or changed status.
    fn on_operation_change(&self, info: &OperationChangeInfo) -> HookResult {
        let _ = info;
        Ok(())
    }

    /// User code is about to run: a step attempt, a wait-for-condition check or a child
    /// context's body.
    fn on_user_function_start(&self, info: &UserFunctionStartInfo) -> HookResult {
        let _ = info;
        Ok(())
    }

    /// User code returned (or panicked). Not called when the code is suspended or dropped
    /// (an invocation that ends while a child context waits, for example).
    fn on_user_function_end(&self, info: &UserFunctionEndInfo) -> HookResult {
        let _ = info;
        Ok(())
    }
}

/// One operation as the hooks see it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OperationInfo {
    /// The checkpointed operation id.
    pub id: String,
    /// `STEP`, `WAIT`, `CALLBACK`, `CHAINED_INVOKE` or `CONTEXT`.
    pub operation_type: OperationType,
    /// The sub type (`Step`, `Wait`, `RunInChildContext`, `Map`, `MapIteration`,
    /// `Parallel`, `ParallelBranch`, `WaitForCallback`, `WaitForCondition`, ...).
    pub sub_type: Option<String>,
    /// The name the code gave, if any.
    pub name: Option<String>,
    /// The id of the enclosing child context; `None` at the root.
    pub parent_id: Option<String>,
    /// When it started: the checkpointed time, or now for a start not checkpointed yet.
    pub start_time: Option<SystemTime>,
    /// When it ended, if it did.
    pub end_time: Option<SystemTime>,
    /// Its status.
    pub status: OperationStatus,
    /// Its checkpointed result (the serialized payload), when it succeeded with one.
    pub result: Option<String>,
    /// Its error, when it failed.
    pub error: Option<ErrorObject>,
    /// For steps and wait-for-condition checks: the attempt (1-based).
    pub attempt: Option<u32>,
    /// Whether the operation was recorded before this invocation (a replay, or the
    /// retry of a step that exists already).
    pub is_replay: bool,
}

impl OperationInfo {
    /// An operation with these identity fields and nothing else known (no name, parent,
    /// times, result, error or attempt; not a replay): for plugin tests, which set the
    /// public fields they need.
    pub fn new(
        id: impl Into<String>,
        operation_type: OperationType,
        status: OperationStatus,
    ) -> Self {
        Self {
            id: id.into(),
            operation_type,
            sub_type: None,
            name: None,
            parent_id: None,
            start_time: None,
            end_time: None,
            status,
            result: None,
            error: None,
            attempt: None,
            is_replay: false,
        }
    }

    /// The operation an update about to be checkpointed describes, starting now.
    pub(crate) fn starting(update: &crate::wire::OperationUpdate) -> Self {
        Self {
            sub_type: update.sub_type.as_ref().map(|sub| sub.to_string()),
            name: update.name.as_ref().map(|name| name.to_string()),
            parent_id: update.parent_id.as_ref().map(|id| id.to_string()),
            start_time: Some(SystemTime::now()),
            ..Self::new(
                update.id.to_string(),
                update.type_,
                OperationStatus::Started,
            )
        }
    }

    /// Whether [`status`](Self::status) is terminal (`SUCCEEDED`, `FAILED`, `CANCELLED`,
    /// `TIMED_OUT`, `STOPPED`).
    pub fn is_terminal(&self) -> bool {
        crate::replay::is_terminal(self.status)
    }
}

/// The status an invocation returns (or how it ends).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InvocationEndStatus {
    /// The execution succeeded (terminal).
    Succeeded,
    /// The execution failed (terminal).
    Failed,
    /// The invocation suspended; the service invokes the function again.
    Pending,
    /// The invocation ended with a function error (the service could not be reached, the
    /// deadline came with work still running); Lambda invokes the function again.
    Retry,
}

impl InvocationEndStatus {
    /// `SUCCEEDED`, `FAILED`, `PENDING` or `RETRY`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::Pending => "PENDING",
            Self::Retry => "RETRY",
        }
    }

    /// Whether the execution ended with this invocation.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed)
    }
}

impl std::fmt::Display for InvocationEndStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`Plugin::on_invocation_start`] gets.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct InvocationStartInfo {
    /// The execution's ARN.
    pub execution_arn: String,
    /// The Lambda request id, when Lambda gave one.
    pub request_id: Option<String>,
    /// The invocation's X-Ray trace header (`Root=1-...;Parent=...;Sampled=...`), when
    /// Lambda gave one.
    pub trace_header: Option<String>,
    /// Whether this is the execution's first invocation (no operation recorded yet).
    pub is_first_invocation: bool,
    /// When the execution started.
    pub execution_start_time: Option<SystemTime>,
    /// Every operation of the state the invocation starts with (the EXECUTION operation
    /// aside).
    pub operations: Vec<OperationInfo>,
    /// The operations the service changed while the execution was suspended (waits that
    /// ended, callbacks and invokes that finished, steps ready to retry): the envelope's
    /// `UpdatedOperationIds` when the envelope has that list (empty: none); otherwise the
    /// finished waits, callbacks and invokes whose end is later than everything the
    /// previous invocations wrote.
    pub updated_operations: Vec<OperationInfo>,
}

impl InvocationStartInfo {
    /// The start of a first invocation of `execution_arn` with no state (for plugin tests,
    /// which set the public fields they need).
    pub fn new(execution_arn: impl Into<String>) -> Self {
        Self {
            execution_arn: execution_arn.into(),
            request_id: None,
            trace_header: None,
            is_first_invocation: true,
            execution_start_time: None,
            operations: Vec::new(),
            updated_operations: Vec::new(),
        }
    }
}

/// What [`Plugin::on_invocation_end`] gets.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct InvocationEndInfo {
    /// The execution's ARN.
    pub execution_arn: String,
    /// The Lambda request id, when Lambda gave one.
    pub request_id: Option<String>,
    /// Whether this was the execution's first invocation.
    pub is_first_invocation: bool,
    /// When the execution started.
    pub execution_start_time: Option<SystemTime>,
    /// How the invocation ended.
    pub status: InvocationEndStatus,
    /// The execution's error when it failed, or the invocation's error when it ends for a
    /// retry.
    pub error: Option<ErrorObject>,
    /// How many operations the execution has at the end of the invocation (the EXECUTION
    /// operation aside).
    pub operation_count: usize,
}

impl InvocationEndInfo {
    /// The end of a first invocation of `execution_arn` with `status` (for plugin tests,
    /// which set the public fields they need).
    pub fn new(execution_arn: impl Into<String>, status: InvocationEndStatus) -> Self {
        Self {
            execution_arn: execution_arn.into(),
            request_id: None,
            is_first_invocation: true,
            execution_start_time: None,
            status,
            error: None,
            operation_count: 0,
        }
    }
}

/// What [`Plugin::on_operation_change`] gets.
#[derive(Clone)]
#[non_exhaustive]
pub struct OperationChangeInfo {
    /// The execution's ARN.
    pub execution_arn: String,
    /// The operations of the response that are new or changed status, as they are now.
    pub updated_operations: Vec<OperationInfo>,
    /// How many operations the execution has after the response was merged (the EXECUTION
    /// operation aside).
    pub operation_count: usize,
    pub(crate) log: Arc<crate::log::Operations>,
}

impl OperationChangeInfo {
    /// Every operation of the execution (the EXECUTION operation aside), as the invocation
    /// knows them when this is called. Computed on each call.
    pub fn operations(&self) -> Vec<OperationInfo> {
        self.log.infos(|_, _| true)
    }
}

impl std::fmt::Debug for OperationChangeInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperationChangeInfo")
            .field("execution_arn", &self.execution_arn)
            .field("updated_operations", &self.updated_operations)
            .field("operation_count", &self.operation_count)
            .finish_non_exhaustive()
    }
}

impl OperationChangeInfo {
    /// A change of `updated_operations` in an execution that holds exactly them (for plugin
    /// tests).
    pub fn new(execution_arn: impl Into<String>, updated_operations: Vec<OperationInfo>) -> Self {
        Self {
            execution_arn: execution_arn.into(),
            operation_count: updated_operations.len(),
            log: Arc::new(crate::log::Operations::from_infos(&updated_operations)),
            updated_operations,
        }
    }
}

/// What [`Plugin::on_user_function_start`] gets.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UserFunctionStartInfo {
    /// The operation whose code runs: its status is `STARTED`, its start time now, its
    /// attempt the attempt that runs (steps and checks).
    pub operation: OperationInfo,
    /// For a child context: whether its body runs again only to replay its checkpointed
    /// children (its result was too large to store).
    pub is_replaying_children: bool,
}

impl UserFunctionStartInfo {
    /// The start of `operation`'s code (for plugin tests).
    pub fn new(operation: OperationInfo) -> Self {
        Self {
            operation,
            is_replaying_children: false,
        }
    }
}

/// How user code ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UserFunctionOutcome {
    /// It returned a value.
    Succeeded,
    /// It returned an error or panicked.
    Failed,
}

impl UserFunctionOutcome {
    /// `SUCCEEDED` or `FAILED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
        }
    }
}

/// What [`Plugin::on_user_function_end`] gets.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UserFunctionEndInfo {
    /// As at the start, with the end time set to now.
    pub operation: OperationInfo,
    /// As at the start.
    pub is_replaying_children: bool,
    /// How the code ended.
    pub outcome: UserFunctionOutcome,
    /// Its error, when it failed.
    pub error: Option<ErrorObject>,
}

impl UserFunctionEndInfo {
    /// The end of `operation`'s code: failed with `error`, or succeeded without one (for
    /// plugin tests).
    pub fn new(operation: OperationInfo, error: Option<ErrorObject>) -> Self {
        Self {
            operation,
            is_replaying_children: false,
            outcome: match error {
                Some(_) => UserFunctionOutcome::Failed,
                None => UserFunctionOutcome::Succeeded,
            },
            error,
        }
    }
}

/// The registered plugins of a runtime, and the dispatch of hooks to them.
#[derive(Clone, Default)]
pub(crate) struct Hooks(Option<Arc<[Arc<dyn Plugin>]>>);

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Hooks({} plugins)",
            self.0.as_ref().map_or(0, |p| p.len())
        )
    }
}

impl Hooks {
    pub(crate) fn new(plugins: Vec<Arc<dyn Plugin>>) -> Self {
        if plugins.is_empty() {
            Self(None)
        } else {
            Self(Some(plugins.into()))
        }
    }

    /// Whether any plugin is registered (nothing is computed for hooks otherwise).
    pub(crate) fn is_active(&self) -> bool {
        self.0.is_some()
    }

    /// Calls `hook` on every plugin in order, each in isolation: an error or a panic is
    /// logged and the next plugin is called.
    pub(crate) fn dispatch(&self, hook: &'static str, call: impl Fn(&dyn Plugin) -> HookResult) {
        let Some(plugins) = &self.0 else {
            return;
        };
        for (index, plugin) in plugins.iter().enumerate() {
            match std::panic::catch_unwind(AssertUnwindSafe(|| call(&**plugin))) {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::warn!(hook, plugin = index, error = %error, "a plugin hook failed; ignored");
                }
                Err(panic) => {
                    let message = crate::error::panic_message(&*panic);
                    tracing::warn!(hook, plugin = index, panic = %message, "a plugin hook panicked; ignored");
                }
            }
        }
    }
}

/// The invocation hooks of one invocation: fired at its start, and at its end with how it
/// ended. Only made when a plugin is registered.
pub(crate) struct InvocationTrace {
    hooks: Hooks,
    arn: String,
    request_id: Option<String>,
    first: bool,
    execution_start: Option<SystemTime>,
}

impl InvocationTrace {
    /// Fires `invocation-start` for the state in `log`, then `operation-end` for the
    /// operations the service finished while the execution was suspended: those in
    /// `updated` that are terminal (an empty list: none), or when the envelope has no list,
    /// those [`finished_while_suspended`] finds.
    pub(crate) fn start(
        hooks: &Hooks,
        arn: &str,
        request_id: Option<&str>,
        trace_header: Option<&str>,
        first: bool,
        log: &crate::log::Operations,
        updated: Option<&[crate::wire::OperationId]>,
    ) -> Option<Self> {
        if !hooks.is_active() {
            return None;
        }
        let execution_start = log.find_start(OperationType::Execution).and_then(time_of);
        let operations = log.infos(|_, _| true);
        let updated_ids: Vec<&str> = match updated {
            Some(updated) => updated.iter().map(|id| id.as_str()).collect(),
            None => finished_while_suspended(operations.iter().map(|op| {
                (
                    op.id.as_str(),
                    op.operation_type,
                    op.status,
                    op.start_time.and_then(millis_of),
                    op.end_time.and_then(millis_of),
                )
            })),
        };
        let updated_operations: Vec<OperationInfo> = operations
            .iter()
            .filter(|op| updated_ids.contains(&op.id.as_str()))
            .cloned()
            .collect();
        let info = InvocationStartInfo {
            execution_arn: arn.to_string(),
            request_id: request_id.map(str::to_string),
            trace_header: trace_header.map(str::to_string),
            is_first_invocation: first,
            execution_start_time: execution_start,
            operations,
            updated_operations,
        };
        hooks.dispatch("invocation-start", |plugin| {
            plugin.on_invocation_start(&info)
        });
        // The operations the service finishes itself; the SDK reports those it finishes
        // when the service confirms them (a step listed as changed was reported then).
        let service_finished = |op: &&OperationInfo| {
            op.is_terminal()
                && matches!(
                    op.operation_type,
                    OperationType::Wait | OperationType::Callback | OperationType::ChainedInvoke
                )
        };
        for op in info.updated_operations.iter().filter(service_finished) {
            hooks.dispatch("operation-end", |plugin| plugin.on_operation_end(op));
        }
        Some(Self {
            hooks: hooks.clone(),
            arn: arn.to_string(),
            request_id: info.request_id,
            first,
            execution_start,
        })
    }

    /// Fires `invocation-end` with how the invocation ended.
    pub(crate) fn end(
        self,
        status: InvocationEndStatus,
        error: Option<ErrorObject>,
        log: &crate::log::Operations,
    ) {
        let info = InvocationEndInfo {
            execution_arn: self.arn,
            request_id: self.request_id,
            is_first_invocation: self.first,
            execution_start_time: self.execution_start,
            status,
            error,
            operation_count: log.operation_count(),
        };
        self.hooks
            .dispatch("invocation-end", |plugin| plugin.on_invocation_end(&info));
    }
}

/// The user-function hooks around one run of user code (a step attempt, a check, a
/// context body). Only made when a plugin is registered.
pub(crate) struct UserFunctionTrace {
    hooks: Hooks,
    start: UserFunctionStartInfo,
}

impl UserFunctionTrace {
    /// Fires `user-function-start` for the operation `update` describes (its START
    /// update; built only when a plugin is registered).
    pub(crate) fn start(
        hooks: Option<&Hooks>,
        update: impl FnOnce() -> crate::wire::OperationUpdate,
        attempt: Option<u32>,
        is_replaying_children: bool,
    ) -> Option<Self> {
        let hooks = hooks?;
        let start = UserFunctionStartInfo {
            operation: OperationInfo {
                attempt,
                ..OperationInfo::starting(&update())
            },
            is_replaying_children,
        };
        hooks.dispatch("user-function-start", |plugin| {
            plugin.on_user_function_start(&start)
        });
        Some(Self {
            hooks: hooks.clone(),
            start,
        })
    }

    /// Fires `user-function-end`: failed with `error`, or succeeded without one.
    pub(crate) fn end(self, error: Option<&ErrorObject>) {
        let mut operation = self.start.operation;
        operation.end_time = Some(SystemTime::now());
        operation.error = error.cloned();
        let info = UserFunctionEndInfo {
            operation,
            is_replaying_children: self.start.is_replaying_children,
            outcome: match error {
                Some(_) => UserFunctionOutcome::Failed,
                None => UserFunctionOutcome::Succeeded,
            },
            error: error.cloned(),
        };
        self.hooks.dispatch("user-function-end", |plugin| {
            plugin.on_user_function_end(&info)
        });
    }
}

/// The operation hooks of a child context that writes no checkpoint (a virtual context):
/// `operation-start` when its body starts, `operation-end` when it returns. Only made when
/// a plugin is registered.
pub(crate) struct SyntheticOperation {
    hooks: Hooks,
    info: OperationInfo,
}

impl SyntheticOperation {
    /// Fires `operation-start` for the operation `update` describes.
    pub(crate) fn start(
        hooks: Option<&Hooks>,
        update: impl FnOnce() -> crate::wire::OperationUpdate,
    ) -> Option<Self> {
        let hooks = hooks?;
        let info = OperationInfo::starting(&update());
        hooks.dispatch("operation-start", |plugin| plugin.on_operation_start(&info));
        Some(Self {
            hooks: hooks.clone(),
            info,
        })
    }

    /// Fires `operation-end`: failed with `error`, or succeeded with `result`.
    pub(crate) fn end(self, result: Option<String>, error: Option<&ErrorObject>) {
        let mut info = self.info;
        info.end_time = Some(SystemTime::now());
        info.status = match error {
            Some(_) => OperationStatus::Failed,
            None => OperationStatus::Succeeded,
        };
        info.result = result;
        info.error = error.cloned();
        self.hooks
            .dispatch("operation-end", |plugin| plugin.on_operation_end(&info));
    }
}

/// A time as milliseconds since the epoch.
fn millis_of(time: SystemTime) -> Option<i64> {
    let since = time.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    i64::try_from(since.as_millis()).ok()
}

/// Milliseconds since the epoch as a time.
pub(crate) fn time_of(millis: i64) -> Option<SystemTime> {
    let millis = u64::try_from(millis).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(std::time::Duration::from_millis(millis))
}

/// Which operations the service finished while the execution was suspended, from the
/// state an invocation starts with (`(id, type, status, start, end)` for each operation),
/// when the envelope does not list them: the finished waits, callbacks and chained invokes
/// that ended after everything this SDK wrote before (every start, and the ends of the
/// operations the SDK finishes itself). The invocation after their end is the first to
/// see them; later ones see later writes.
pub(crate) fn finished_while_suspended<'a>(
    ops: impl Iterator<
            Item = (
                &'a str,
                OperationType,
                OperationStatus,
                Option<i64>,
                Option<i64>,
            ),
        > + Clone,
) -> Vec<&'a str> {
    let service_finished = |ty: OperationType| {
        matches!(
            ty,
            OperationType::Wait | OperationType::Callback | OperationType::ChainedInvoke
        )
    };
    let last_write = ops
        .clone()
        .flat_map(|(_, ty, _, start, end)| {
            let end = if service_finished(ty) { None } else { end };
            [start, end]
        })
        .flatten()
        .max();
    ops.filter(|(_, ty, status, _, end)| {
        service_finished(*ty)
            && crate::replay::is_terminal(*status)
            && match (end, last_write) {
                (Some(end), Some(last)) => *end > last,
                (Some(_), None) => true,
                (None, _) => false,
            }
    })
    .map(|(id, ..)| id)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use OperationStatus as S;
    use OperationType as T;

    #[test]
    fn finished_while_suspended_is_what_ended_after_the_last_write() {
        // A wait started at 10 that the service ended at 70, after the step started at 5.
        let ops = [
            ("step", T::Step, S::Succeeded, Some(5), Some(6)),
            ("wait", T::Wait, S::Succeeded, Some(10), Some(70)),
        ];
        assert_eq!(finished_while_suspended(ops.iter().copied()), vec!["wait"]);
        // The next invocation wrote a step at 75: the wait is old news.
        let later = [
            ("step", T::Step, S::Succeeded, Some(5), Some(6)),
            ("wait", T::Wait, S::Succeeded, Some(10), Some(70)),
            ("after", T::Step, S::Succeeded, Some(75), Some(76)),
        ];
        assert!(finished_while_suspended(later.iter().copied()).is_empty());
        // A context the SDK closed after the callback ended: old news too.
        let closed = [
            ("ctx", T::Context, S::Succeeded, Some(1), Some(90)),
            ("callback", T::Callback, S::Succeeded, Some(2), Some(80)),
        ];
        assert!(finished_while_suspended(closed.iter().copied()).is_empty());
        // Still pending, or failed by the service: only terminal ones count.
        let mixed = [
            ("wait", T::Wait, S::Started, Some(10), None),
            ("invoke", T::ChainedInvoke, S::Failed, Some(11), Some(50)),
            ("callback", T::Callback, S::TimedOut, Some(12), Some(60)),
        ];
        assert_eq!(
            finished_while_suspended(mixed.iter().copied()),
            vec!["invoke", "callback"]
        );
        // A step the service made READY is not finished.
        let ready = [("step", T::Step, S::Ready, Some(1), None)];
        assert!(finished_while_suspended(ready.iter().copied()).is_empty());
    }

    #[derive(Default)]
    struct Calls(std::sync::Mutex<Vec<&'static str>>);

    impl Plugin for Calls {
        fn on_operation_end(&self, _: &OperationInfo) -> HookResult {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).push("end");
            Ok(())
        }
    }

    struct Faulty;

    impl Plugin for Faulty {
        fn on_operation_end(&self, _: &OperationInfo) -> HookResult {
            panic!("faulty plugin")
        }

        fn on_operation_start(&self, _: &OperationInfo) -> HookResult {
            Err("refused".into())
        }
    }

    #[test]
    fn a_failing_plugin_does_not_stop_the_others() {
        let calls = Arc::new(Calls::default());
        let hooks = Hooks::new(vec![
            Arc::new(Faulty),
            Arc::clone(&calls) as Arc<dyn Plugin>,
        ]);
        let info = OperationInfo {
            id: "1".into(),
            operation_type: T::Step,
            sub_type: None,
            name: None,
            parent_id: None,
            start_time: None,
            end_time: None,
            status: S::Succeeded,
            result: None,
            error: None,
            attempt: None,
            is_replay: false,
        };
        hooks.dispatch("operation-end", |plugin| plugin.on_operation_end(&info));
        hooks.dispatch("operation-start", |plugin| plugin.on_operation_start(&info));
        hooks.dispatch("operation-end", |plugin| plugin.on_operation_end(&info));
        assert_eq!(
            *calls.0.lock().unwrap_or_else(|p| p.into_inner()),
            vec!["end", "end"]
        );
        assert!(!Hooks::default().is_active());
    }
}
