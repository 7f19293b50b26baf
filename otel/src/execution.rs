//! [`ExecutionOtelPlugin`]: one `Workflow` span per execution, with one span per operation
//! under it, across invocations.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use lambda_durable::plugin::{
    HookResult, InvocationEndInfo, InvocationStartInfo, OperationChangeInfo, OperationInfo, Plugin,
    UserFunctionEndInfo, UserFunctionStartInfo,
};
use opentelemetry::trace::Span as _;
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::active::ActiveSpans;
use crate::attributes::{
    has_attempts, operation_identity, operation_outcome, operation_span_name, operation_status,
};
use crate::emit::{context_of, Attempts, Emitter, Invocation, InvocationParent, NewSpan};
use crate::ids::operation_span_id;
use crate::OtelConfig;

/// The execution view: the execution is one `Workflow` span, with one span per operation
/// under it (or under the span of the context the operation runs in), whatever invocation
/// it ran in.
///
/// - An operation span is created when the operation finishes, with the checkpointed start
///   and end times, its terminal status, and one link to the `Invocation` span in which it
///   finished. An operation that never finishes has no span.
/// - Each step attempt and wait-for-condition check is a span under its operation's span,
///   linked to the `Invocation` span in which it ran.
/// - Each invocation is an `Invocation` span under the `Workflow` span. The `Workflow` span
///   (from the execution's start to its end) is exported once, by the invocation that ends
///   the execution; until then the spans refer to it by its deterministic id.
/// - The spans are flushed at the end of every invocation.
///
/// ```
/// use lambda_durable::Runtime;
/// use lambda_durable_otel::{ExecutionOtelPlugin, OtelConfig};
///
/// let plugin = ExecutionOtelPlugin::new(OtelConfig::builder().build()?);
/// let runtime = Runtime::builder().plugin(plugin).build()?;
/// # drop(runtime);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ExecutionOtelPlugin {
    emitter: Emitter,
    active: ActiveSpans,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    invocation: Option<Invocation>,
    /// The ids of the operations the service has a record of (the invocation's state, then
    /// the checkpoint responses). An operation that ends without one is a virtual context.
    recorded: HashSet<String>,
    attempts: Attempts,
}

impl State {
    /// Notes that a hook saw the running invocation at `now`.
    fn seen(&mut self, now: SystemTime) {
        if let Some(invocation) = &mut self.invocation {
            invocation.last_seen = now;
        }
    }
}

impl ExecutionOtelPlugin {
    /// The plugin, with spans going where `config` says.
    pub fn new(config: OtelConfig) -> Self {
        Self {
            emitter: Emitter::new(config),
            active: ActiveSpans::default(),
            state: Mutex::new(State::default()),
        }
    }

    /// The spans of the code that is running, for log correlation and propagation. An
    /// operation's span is the one it will have when it finishes (its deterministic id).
    pub fn active_spans(&self) -> ActiveSpans {
        self.active.clone()
    }

    /// The tracer provider the spans are created with.
    pub fn provider(&self) -> &SdkTracerProvider {
        self.emitter.provider()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Plugin for ExecutionOtelPlugin {
    fn on_invocation_start(&self, info: &InvocationStartInfo) -> HookResult {
        let now = SystemTime::now();
        let mut state = self.state();
        if let Some(stale) = state.invocation.take() {
            // The previous invocation never reported its end: end what it left open.
            state.attempts.end_all(stale.last_seen);
            self.emitter.abandon_invocation(stale);
        }
        *state = State::default();
        state.invocation = Some(self.emitter.begin_invocation(
            info,
            InvocationParent::Workflow,
            &self.active,
            now,
        ));
        state.recorded = info.operations.iter().map(|op| op.id.clone()).collect();
        Ok(())
    }

    fn on_invocation_end(&self, info: &InvocationEndInfo) -> HookResult {
        let now = SystemTime::now();
        let mut state = self.state();
        state.attempts.end_all(now);
        if let Some(invocation) = state.invocation.take() {
            self.emitter.end_invocation(invocation, info, now);
        }
        *state = State::default();
        drop(state);
        self.active.end();
        self.emitter.flush();
        Ok(())
    }

    fn on_operation_start(&self, info: &OperationInfo) -> HookResult {
        let mut state = self.state();
        state.seen(SystemTime::now());
        if let Some(invocation) = state.invocation.as_ref() {
            let span = context_of(
                invocation.workflow.trace_id(),
                operation_span_id(&invocation.arn, &info.id),
            );
            self.active.operation_started(&info.id, span);
        }
        Ok(())
    }

    fn on_operation_end(&self, info: &OperationInfo) -> HookResult {
        let now = SystemTime::now();
        let mut state = self.state();
        state.seen(now);
        self.active.operation_ended(&info.id);
        let Some(invocation) = state.invocation.as_ref() else {
            return Ok(());
        };
        let trace_id = invocation.workflow.trace_id();
        let parent = match &info.parent_id {
            Some(parent) => context_of(trace_id, operation_span_id(&invocation.arn, parent)),
            None => invocation.workflow.clone(),
        };
        // A virtual context has no record: its body runs again in each invocation that
        // reaches it, so its span gets a random id rather than one it could repeat.
        let span_id = state
            .recorded
            .contains(&info.id)
            .then(|| operation_span_id(&invocation.arn, &info.id));
        let start = info.start_time.unwrap_or(now);
        let end = info.end_time.unwrap_or(now).max(start);
        let mut attributes = operation_identity(&invocation.arn, info);
        attributes.extend(operation_outcome(info, None));
        let mut span = self.emitter.start(NewSpan {
            name: operation_span_name(info),
            parent: Some(&parent),
            trace_id: None,
            span_id,
            start,
            attributes,
            links: vec![invocation.context.clone()],
        });
        span.set_status(operation_status(info));
        span.end_with_timestamp(end);
        Ok(())
    }

    fn on_operation_change(&self, info: &OperationChangeInfo) -> HookResult {
        let mut state = self.state();
        state.seen(SystemTime::now());
        for op in &info.updated_operations {
            state.recorded.insert(op.id.clone());
        }
        Ok(())
    }

    fn on_user_function_start(&self, info: &UserFunctionStartInfo) -> HookResult {
        let op = &info.operation;
        if !has_attempts(op) {
            return Ok(());
        }
        let attempt = op.attempt.unwrap_or(1);
        let now = SystemTime::now();
        let mut state = self.state();
        state.seen(now);
        let State {
            invocation,
            attempts,
            ..
        } = &mut *state;
        let Some(invocation) = invocation.as_ref() else {
            return Ok(());
        };
        let parent = context_of(
            invocation.workflow.trace_id(),
            operation_span_id(&invocation.arn, &op.id),
        );
        let link = invocation.context.clone();
        attempts.start(
            &self.emitter,
            &self.active,
            invocation,
            op,
            attempt,
            &parent,
            link,
            now,
        );
        Ok(())
    }

    fn on_user_function_end(&self, info: &UserFunctionEndInfo) -> HookResult {
        if !has_attempts(&info.operation) {
            return Ok(());
        }
        let now = SystemTime::now();
        let mut state = self.state();
        state.seen(now);
        state.attempts.end(&self.active, info, now);
        Ok(())
    }
}
