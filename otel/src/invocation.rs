//! [`InvocationOtelPlugin`]: one `Invocation` span per invocation, with the operations it
//! worked on under it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use lambda_durable::plugin::{
    HookResult, InvocationEndInfo, InvocationStartInfo, OperationChangeInfo, OperationInfo, Plugin,
    UserFunctionEndInfo, UserFunctionStartInfo,
};
use opentelemetry::trace::{Span as _, SpanContext};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{SdkTracerProvider, Span};

use crate::active::ActiveSpans;
use crate::attributes::{
    has_attempts, operation_identity, operation_outcome, operation_span_name, operation_status,
    OPERATION_STATUS,
};
use crate::emit::{Attempts, Emitter, Invocation, InvocationParent, NewSpan};
use crate::OtelConfig;

/// The invocation view: each Lambda invocation is an `Invocation` span, with a span for
/// every operation it worked on under it, and a span for every step attempt and
/// wait-for-condition check under the operation's.
///
/// - An operation that starts in one invocation and finishes in another (a wait, a
///   callback, a chained invoke, a step waiting to retry, a context around them) gets one
///   span in each: ended with the invocation and status `STARTED` (span status UNSET),
///   then a span with its terminal status in the invocation that sees it finish.
/// - Every operation and attempt span has one link, to the execution's `Workflow` span.
///   The `Workflow` span (from the execution's start to its end, parentless) is exported
///   once, by the invocation that ends the execution.
/// - An `Invocation` span is parented to the invocation's X-Ray segment when the trace
///   header says `Sampled=1`, and is a root otherwise.
/// - The spans are flushed at the end of every invocation.
///
/// ```
/// use lambda_durable::Runtime;
/// use lambda_durable_otel::{InvocationOtelPlugin, OtelConfig};
///
/// // On Lambda: OTLP to the collector extension at http://localhost:4318, or wherever
/// // OTEL_EXPORTER_OTLP_ENDPOINT says.
/// let plugin = InvocationOtelPlugin::new(OtelConfig::builder().build()?);
/// let runtime = Runtime::builder().plugin(plugin).build()?;
/// # drop(runtime);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct InvocationOtelPlugin {
    emitter: Emitter,
    active: ActiveSpans,
    state: Mutex<State>,
}

/// How many unfinished ancestors of an operation get a span opened for them at most.
const MAX_NESTING: usize = 256;

#[derive(Debug, Default)]
struct State {
    invocation: Option<Invocation>,
    /// The operation spans open in this invocation, by operation id.
    open: HashMap<String, OpenOperation>,
    attempts: Attempts,
    /// The operations as last reported (the invocation's state, then the changes), to open
    /// the span of an operation whose child is reported first.
    known: HashMap<String, OperationInfo>,
    /// How many spans were opened, to end them children first.
    opened: u64,
}

#[derive(Debug)]
struct OpenOperation {
    span: Span,
    context: SpanContext,
    order: u64,
    /// The last attempt that ran in this invocation.
    last_attempt: Option<u32>,
}

impl InvocationOtelPlugin {
    /// The plugin, with spans going where `config` says.
    pub fn new(config: OtelConfig) -> Self {
        Self {
            emitter: Emitter::new(config),
            active: ActiveSpans::default(),
            state: Mutex::new(State::default()),
        }
    }

    /// The spans of the code that is running, for log correlation and propagation.
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

impl State {
    /// Notes that a hook saw the running invocation at `now`.
    fn seen(&mut self, now: SystemTime) {
        if let Some(invocation) = &mut self.invocation {
            invocation.last_seen = now;
        }
    }

    /// The span of operation `info` in this invocation: the open one, or a new one (with
    /// the spans of its unfinished ancestors that are not open yet).
    fn open(
        &mut self,
        emitter: &Emitter,
        active: &ActiveSpans,
        info: &OperationInfo,
        now: SystemTime,
    ) -> Option<&mut OpenOperation> {
        self.open_at_depth(emitter, active, info, now, 0)
    }

    fn open_at_depth(
        &mut self,
        emitter: &Emitter,
        active: &ActiveSpans,
        info: &OperationInfo,
        now: SystemTime,
        depth: usize,
    ) -> Option<&mut OpenOperation> {
        if !self.open.contains_key(&info.id) {
            let parent = self.parent_of(emitter, active, info.parent_id.as_deref(), now, depth)?;
            let invocation = self.invocation.as_ref()?;
            let span = emitter.start(NewSpan {
                name: operation_span_name(info),
                parent: Some(&parent),
                trace_id: None,
                span_id: None,
                start: now,
                attributes: operation_identity(&invocation.arn, info),
                links: vec![invocation.workflow.clone()],
            });
            self.opened += 1;
            active.operation_started(&info.id, span.span_context().clone());
            let operation = OpenOperation {
                context: span.span_context().clone(),
                span,
                order: self.opened,
                last_attempt: None,
            };
            self.open.insert(info.id.clone(), operation);
        }
        self.open.get_mut(&info.id)
    }

    /// The span context an operation with parent `parent_id` goes under, `depth` levels
    /// below the operation reported.
    fn parent_of(
        &mut self,
        emitter: &Emitter,
        active: &ActiveSpans,
        parent_id: Option<&str>,
        now: SystemTime,
        depth: usize,
    ) -> Option<SpanContext> {
        let invocation = self.invocation.as_ref()?.context.clone();
        let Some(parent_id) = parent_id else {
            return Some(invocation);
        };
        if let Some(open) = self.open.get(parent_id) {
            return Some(open.context.clone());
        }
        // A context still running whose child is reported before replay reaches the
        // context itself (a callback that finished while the execution was suspended).
        // (Bounded, in case the parents the service reports ever loop.)
        match self
            .known
            .get(parent_id)
            .filter(|parent| !parent.is_terminal() && depth < MAX_NESTING)
            .cloned()
        {
            Some(parent) => self
                .open_at_depth(emitter, active, &parent, now, depth + 1)
                .map(|open| open.context.clone()),
            None => Some(invocation),
        }
    }

    /// Ends every open span at `at`, children first, as still running.
    fn end_open(&mut self, at: SystemTime) {
        self.attempts.end_all(at);
        let mut open: Vec<OpenOperation> = self.open.drain().map(|(_, open)| open).collect();
        open.sort_by_key(|open| std::cmp::Reverse(open.order));
        for mut operation in open {
            operation
                .span
                .set_attribute(KeyValue::new(OPERATION_STATUS, "STARTED"));
            operation.span.end_with_timestamp(at);
        }
    }
}

impl Plugin for InvocationOtelPlugin {
    fn on_invocation_start(&self, info: &InvocationStartInfo) -> HookResult {
        let now = SystemTime::now();
        let mut state = self.state();
        if let Some(stale) = state.invocation.take() {
            // The previous invocation never reported its end: end what it left open.
            state.end_open(stale.last_seen);
            self.emitter.abandon_invocation(stale);
        }
        *state = State::default();
        state.invocation = Some(self.emitter.begin_invocation(
            info,
            InvocationParent::Upstream,
            &self.active,
            now,
        ));
        state.known = info
            .operations
            .iter()
            .map(|op| (op.id.clone(), op.clone()))
            .collect();
        Ok(())
    }

    fn on_invocation_end(&self, info: &InvocationEndInfo) -> HookResult {
        let now = SystemTime::now();
        let mut state = self.state();
        state.end_open(now);
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
        let now = SystemTime::now();
        let mut state = self.state();
        state.seen(now);
        state.open(&self.emitter, &self.active, info, now);
        Ok(())
    }

    fn on_operation_end(&self, info: &OperationInfo) -> HookResult {
        let now = SystemTime::now();
        let mut state = self.state();
        state.seen(now);
        state.known.insert(info.id.clone(), info.clone());
        if state.open(&self.emitter, &self.active, info, now).is_none() {
            return Ok(());
        }
        let Some(mut operation) = state.open.remove(&info.id) else {
            return Ok(());
        };
        self.active.operation_ended(&info.id);
        state.attempts.end_of(&info.id, now);
        for attribute in operation_outcome(info, operation.last_attempt) {
            operation.span.set_attribute(attribute);
        }
        operation.span.set_status(operation_status(info));
        operation.span.end_with_timestamp(now);
        Ok(())
    }

    fn on_operation_change(&self, info: &OperationChangeInfo) -> HookResult {
        let mut state = self.state();
        state.seen(SystemTime::now());
        for op in &info.updated_operations {
            state.known.insert(op.id.clone(), op.clone());
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
        let Some(parent) = state
            .open(&self.emitter, &self.active, op, now)
            .map(|open| {
                open.last_attempt = Some(attempt);
                open.context.clone()
            })
        else {
            return Ok(());
        };
        let State {
            invocation,
            attempts,
            ..
        } = &mut *state;
        let Some(invocation) = invocation.as_ref() else {
            return Ok(());
        };
        let link = invocation.workflow.clone();
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
