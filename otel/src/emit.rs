//! What both plugins share: creating spans with chosen ids, times and links, and the
//! `Invocation` and `Workflow` spans of each invocation.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use lambda_durable::plugin::{
    InvocationEndInfo, InvocationEndStatus, InvocationStartInfo, OperationInfo,
    UserFunctionEndInfo, UserFunctionOutcome,
};
use opentelemetry::trace::{
    Link, Span as _, SpanBuilder, SpanContext, SpanId, SpanKind, Status, TraceContextExt,
    TraceFlags, TraceId, TraceState, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, Span};

use crate::active::ActiveSpans;
use crate::attributes::{
    attempt_span_name, error_description, operation_identity, ATTEMPT_NUMBER, ATTEMPT_OUTCOME,
    EXECUTION_ARN, EXECUTION_STATUS, INVOCATION_FIRST, INVOCATION_STATUS,
};
use crate::ids::{execution_trace, with_next_ids, workflow_span_id};
use crate::OtelConfig;

/// A span to create.
pub(crate) struct NewSpan<'a> {
    pub(crate) name: Cow<'static, str>,
    /// The parent; `None` for a root.
    pub(crate) parent: Option<&'a SpanContext>,
    /// The trace id of a root span.
    pub(crate) trace_id: Option<TraceId>,
    /// A deterministic span id; random when `None`.
    pub(crate) span_id: Option<SpanId>,
    pub(crate) start: SystemTime,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) links: Vec<SpanContext>,
}

/// Creates the plugins' spans on the configured provider.
#[derive(Debug)]
pub(crate) struct Emitter {
    tracer: SdkTracer,
    provider: SdkTracerProvider,
    workflow_span_name: Cow<'static, str>,
    warned: AtomicBool,
}

/// How an invocation's `Invocation` span is parented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InvocationParent {
    /// Under the X-Ray segment of the invocation when it is sampled, else a root.
    Upstream,
    /// Under the execution's `Workflow` span.
    Workflow,
}

/// The state of the running invocation both plugins keep.
#[derive(Debug)]
pub(crate) struct Invocation {
    pub(crate) arn: String,
    /// The execution's `Workflow` span, which exists as a live span only when it ends.
    pub(crate) workflow: SpanContext,
    pub(crate) execution_start: SystemTime,
    span: Span,
    /// The `Invocation` span's context.
    pub(crate) context: SpanContext,
    /// When a hook last saw the invocation.
    pub(crate) last_seen: SystemTime,
}

impl Emitter {
    pub(crate) fn new(config: OtelConfig) -> Self {
        Self {
            tracer: config.provider.tracer_with_scope(config.scope),
            provider: config.provider,
            workflow_span_name: config.workflow_span_name,
            warned: AtomicBool::new(false),
        }
    }

    pub(crate) fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }

    /// Creates (starts) a span.
    pub(crate) fn start(&self, new: NewSpan<'_>) -> Span {
        let parent = match new.parent {
            Some(parent) => Context::new().with_remote_span_context(parent.clone()),
            None => Context::new(),
        };
        let builder = SpanBuilder::from_name(new.name)
            .with_kind(SpanKind::Internal)
            .with_start_time(new.start)
            .with_attributes(new.attributes)
            .with_links(new.links.into_iter().map(Link::with_context).collect());
        let span = with_next_ids(new.trace_id, new.span_id, || {
            self.tracer.build_with_context(builder, &parent)
        });
        let chosen = new
            .span_id
            .is_some_and(|id| span.span_context().span_id() != id)
            || new
                .trace_id
                .is_some_and(|id| new.parent.is_none() && span.span_context().trace_id() != id);
        if chosen && span.span_context().is_valid() && !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "the tracer provider of the OpenTelemetry plugin does not use \
                 DurableIdGenerator: its spans get random ids, and links to the Workflow span \
                 point at ids no span has"
            );
        }
        span
    }

    /// Starts an invocation: its `Invocation` span (which `active` makes the span of the
    /// code that runs), and the context of the execution's `Workflow` span.
    pub(crate) fn begin_invocation(
        &self,
        info: &InvocationStartInfo,
        parent: InvocationParent,
        active: &ActiveSpans,
        now: SystemTime,
    ) -> Invocation {
        let execution_start = info.execution_start_time.unwrap_or(now);
        let (trace_id, header) = execution_trace(
            &info.execution_arn,
            info.trace_header.as_deref(),
            execution_start,
        );
        let workflow = SpanContext::new(
            trace_id,
            workflow_span_id(&info.execution_arn),
            TraceFlags::SAMPLED,
            false,
            TraceState::NONE,
        );
        let parent = match parent {
            InvocationParent::Workflow => Some(workflow.clone()),
            InvocationParent::Upstream => header.and_then(|header| header.sampled_parent()),
        };
        let span = self.start(NewSpan {
            name: Cow::Borrowed("Invocation"),
            parent: parent.as_ref(),
            trace_id: Some(trace_id),
            span_id: None,
            start: now,
            attributes: vec![
                KeyValue::new(EXECUTION_ARN, info.execution_arn.clone()),
                KeyValue::new(INVOCATION_FIRST, info.is_first_invocation),
            ],
            links: Vec::new(),
        });
        active.begin(&info.execution_arn, span.span_context().clone());
        Invocation {
            arn: info.execution_arn.clone(),
            workflow,
            execution_start,
            context: span.span_context().clone(),
            span,
            last_seen: now,
        }
    }

    /// Ends the `Invocation` span of an invocation that never reported its end (it was cut
    /// off, as by a crash): at the last moment a hook saw it, as `RETRY` (the service
    /// invokes the function again), with no span status.
    pub(crate) fn abandon_invocation(&self, invocation: Invocation) {
        let Invocation {
            mut span,
            last_seen,
            ..
        } = invocation;
        span.set_attribute(KeyValue::new(
            INVOCATION_STATUS,
            InvocationEndStatus::Retry.as_str(),
        ));
        span.end_with_timestamp(last_seen);
    }

    /// Ends an invocation at `at`: its `Invocation` span with how it ended and, when it
    /// ended the execution, the `Workflow` span (from the execution's start to `at`).
    pub(crate) fn end_invocation(
        &self,
        invocation: Invocation,
        info: &InvocationEndInfo,
        at: SystemTime,
    ) {
        let Invocation {
            arn,
            workflow,
            execution_start,
            mut span,
            ..
        } = invocation;
        span.set_attribute(KeyValue::new(
            INVOCATION_STATUS,
            info.status.as_str().to_string(),
        ));
        span.set_status(match info.status {
            InvocationEndStatus::Succeeded | InvocationEndStatus::Pending => Status::Ok,
            InvocationEndStatus::Failed => {
                Status::error(error_description(info.error.as_ref(), info.status.as_str()))
            }
            _ => Status::Unset,
        });
        span.end_with_timestamp(at);
        if !info.status.is_terminal() {
            // The Workflow span exists only as `workflow` until the execution ends.
            return;
        }
        let status = if info.status == InvocationEndStatus::Succeeded {
            Status::Ok
        } else {
            Status::error(error_description(info.error.as_ref(), info.status.as_str()))
        };
        let mut root = self.start(NewSpan {
            name: self.workflow_span_name.clone(),
            parent: None,
            trace_id: Some(workflow.trace_id()),
            span_id: Some(workflow.span_id()),
            start: execution_start.min(at),
            attributes: vec![
                KeyValue::new(EXECUTION_ARN, arn),
                KeyValue::new(EXECUTION_STATUS, info.status.as_str().to_string()),
            ],
            links: Vec::new(),
        });
        root.set_status(status);
        root.end_with_timestamp(at);
    }

    /// Exports what the provider holds, before Lambda may freeze the process.
    pub(crate) fn flush(&self) {
        if let Err(error) = self.provider.force_flush() {
            tracing::warn!(%error, "could not flush the OpenTelemetry spans");
        }
    }
}

/// A span context for parenting and links to a span that is not live (yet).
pub(crate) fn context_of(trace_id: TraceId, span_id: SpanId) -> SpanContext {
    SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::SAMPLED,
        false,
        TraceState::NONE,
    )
}

/// The attempt spans open (step attempts and wait-for-condition checks), by operation id and
/// attempt.
#[derive(Debug, Default)]
pub(crate) struct Attempts {
    open: HashMap<(String, u32), Span>,
}

impl Attempts {
    /// Starts the span of attempt `attempt` of `op` at `now`, under `parent`, linked to
    /// `link`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start(
        &mut self,
        emitter: &Emitter,
        active: &ActiveSpans,
        invocation: &Invocation,
        op: &OperationInfo,
        attempt: u32,
        parent: &SpanContext,
        link: SpanContext,
        now: SystemTime,
    ) {
        let mut attributes = operation_identity(&invocation.arn, op);
        attributes.push(KeyValue::new(ATTEMPT_NUMBER, i64::from(attempt)));
        let span = emitter.start(NewSpan {
            name: attempt_span_name(op, attempt),
            parent: Some(parent),
            trace_id: None,
            span_id: None,
            start: now,
            attributes,
            links: vec![link],
        });
        active.attempt_started(&op.id, span.span_context().clone());
        self.open.insert((op.id.clone(), attempt), span);
    }

    /// Ends the span of the attempt `info` reports on, with its outcome.
    pub(crate) fn end(&mut self, active: &ActiveSpans, info: &UserFunctionEndInfo, at: SystemTime) {
        let op = &info.operation;
        let attempt = op.attempt.unwrap_or(1);
        active.attempt_ended(&op.id);
        let Some(mut span) = self.open.remove(&(op.id.clone(), attempt)) else {
            return;
        };
        span.set_attribute(KeyValue::new(ATTEMPT_OUTCOME, info.outcome.as_str()));
        span.set_status(match info.outcome {
            UserFunctionOutcome::Succeeded => Status::Ok,
            _ => Status::error(error_description(info.error.as_ref(), "FAILED")),
        });
        span.end_with_timestamp(at);
    }

    /// Ends the open attempt spans of operation `id` at `at`, without an outcome.
    pub(crate) fn end_of(&mut self, id: &str, at: SystemTime) {
        let keys: Vec<(String, u32)> = self
            .open
            .keys()
            .filter(|(op, _)| op == id)
            .cloned()
            .collect();
        for key in keys {
            if let Some(mut span) = self.open.remove(&key) {
                span.end_with_timestamp(at);
            }
        }
    }

    /// Ends every open attempt span at `at`, without an outcome.
    pub(crate) fn end_all(&mut self, at: SystemTime) {
        for (_, mut span) in self.open.drain() {
            span.end_with_timestamp(at);
        }
    }
}
