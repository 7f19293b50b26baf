//! [`ActiveSpans`]: the span of the code that is running, to correlate logs with traces and
//! to propagate the trace to the services the code calls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use lambda_durable::logging::Enrich;
use lambda_durable::StepContext;
use opentelemetry::trace::{SpanContext, TraceContextExt};
use opentelemetry::Context;
use serde_json::{Map, Value};

/// The spans of the invocation a plugin is tracing: its `Invocation` span, the spans of the
/// operations it works on, and the attempt spans of the steps and checks that are running.
///
/// Get it from the plugin before registering the plugin
/// ([`InvocationOtelPlugin::active_spans`](crate::InvocationOtelPlugin::active_spans),
/// [`ExecutionOtelPlugin::active_spans`](crate::ExecutionOtelPlugin::active_spans)); it is
/// a cheap handle that stays valid. Two uses:
///
/// - **Log correlation:** [`log_enricher`](Self::log_enricher) adds `traceId`, `spanId` and
///   `otelTraceSampled` to the JSON records of
///   [`lambda_durable::logging`], so that a log line leads to its span.
/// - **Propagation:** [`step_context`](Self::step_context) is the OpenTelemetry
///   [`Context`] of a running step attempt, to inject into the headers of the requests the
///   step makes (with the propagator of your choice), so that the services it calls join
///   the execution's trace.
///
/// ```
/// use lambda_durable::{logging, DurableContext, Error, Runtime};
/// use lambda_durable_otel::{InvocationOtelPlugin, OtelConfig};
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry_sdk::propagation::TraceContextPropagator;
/// use opentelemetry_sdk::trace::InMemorySpanExporter;
/// use std::collections::HashMap;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = OtelConfig::builder().exporter(InMemorySpanExporter::default()).build()?;
/// let plugin = InvocationOtelPlugin::new(config);
/// let spans = plugin.active_spans();
/// // JSON log records (AWS_LAMBDA_LOG_FORMAT=JSON) get the ids of the running span.
/// logging::builder().enrich(spans.log_enricher()).init();
///
/// let handler = move |_: (), ctx: DurableContext| {
///     let spans = spans.clone();
///     async move {
///         ctx.step("call the shipping service", |step| async move {
///             // A `traceparent` header for the request the step makes.
///             let mut headers = HashMap::new();
///             TraceContextPropagator::new()
///                 .inject_context(&spans.step_context(&step), &mut headers);
///             Ok::<_, std::io::Error>(headers.len())
///         })
///         .await
///     }
/// };
/// let runtime = Runtime::builder().plugin(plugin).build()?;
/// # drop((runtime, handler));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct ActiveSpans {
    inner: Arc<Mutex<Active>>,
}

#[derive(Debug, Default)]
struct Active {
    execution_arn: Option<String>,
    invocation: Option<SpanContext>,
    /// The spans of the operations being worked on, by operation id.
    operations: HashMap<String, SpanContext>,
    /// The span of the attempt running, by operation id.
    attempts: HashMap<String, SpanContext>,
}

impl ActiveSpans {
    /// The span context of the code running for operation `operation_id` of execution
    /// `execution_arn`: the running attempt of a step or a check, else the operation's span
    /// (a child context, a map, ...). With no operation, or one without a span, the
    /// `Invocation` span. `None` when no invocation of that execution is being traced.
    pub fn span_context(
        &self,
        execution_arn: &str,
        operation_id: Option<&str>,
    ) -> Option<SpanContext> {
        self.lookup(execution_arn, operation_id.into_iter())
    }

    /// [`span_context`](Self::span_context) as an OpenTelemetry [`Context`] (an empty one
    /// when there is no span), to inject with a propagator.
    pub fn context(&self, execution_arn: &str, operation_id: Option<&str>) -> Context {
        context(self.span_context(execution_arn, operation_id))
    }

    /// The [`Context`] of the attempt `step` is running (see [`context`](Self::context)).
    pub fn step_context(&self, step: &StepContext) -> Context {
        self.context(step.execution_arn(), Some(step.operation_id()))
    }

    /// Adds the ids of the running span to the JSON records of
    /// [`lambda_durable::logging`]: `traceId` (32 hex digits), `spanId` (16 hex digits)
    /// and `otelTraceSampled`, for the records that name this plugin's execution
    /// (`executionArn`), using their `operationId`, else their `parentId` (see
    /// [`span_context`](Self::span_context)). Records that already have a `traceId` keep
    /// it.
    pub fn log_enricher(&self) -> LogCorrelation {
        LogCorrelation {
            spans: self.clone(),
        }
    }

    fn lookup<'a>(
        &self,
        execution_arn: &str,
        operation_ids: impl Iterator<Item = &'a str>,
    ) -> Option<SpanContext> {
        // Never wait: the enricher runs wherever something logs, possibly on a thread that
        // holds the lock (a plugin hook logging a warning).
        let active = match self.inner.try_lock() {
            Ok(active) => active,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        if active.execution_arn.as_deref() != Some(execution_arn) {
            return None;
        }
        for id in operation_ids {
            if let Some(span) = active
                .attempts
                .get(id)
                .or_else(|| active.operations.get(id))
            {
                return Some(span.clone());
            }
        }
        active.invocation.clone()
    }

    fn active(&self) -> MutexGuard<'_, Active> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// An invocation of `execution_arn` began, with `invocation` as its span.
    pub(crate) fn begin(&self, execution_arn: &str, invocation: SpanContext) {
        *self.active() = Active {
            execution_arn: Some(execution_arn.to_string()),
            invocation: Some(invocation),
            ..Active::default()
        };
    }

    /// The invocation ended.
    pub(crate) fn end(&self) {
        *self.active() = Active::default();
    }

    pub(crate) fn operation_started(&self, id: &str, span: SpanContext) {
        self.active().operations.insert(id.to_string(), span);
    }

    pub(crate) fn operation_ended(&self, id: &str) {
        let mut active = self.active();
        active.operations.remove(id);
        active.attempts.remove(id);
    }

    pub(crate) fn attempt_started(&self, id: &str, span: SpanContext) {
        self.active().attempts.insert(id.to_string(), span);
    }

    pub(crate) fn attempt_ended(&self, id: &str) {
        self.active().attempts.remove(id);
    }
}

fn context(span: Option<SpanContext>) -> Context {
    match span {
        Some(span) => Context::new().with_remote_span_context(span),
        None => Context::new(),
    }
}

/// The log enricher of [`ActiveSpans::log_enricher`].
#[derive(Clone, Debug)]
pub struct LogCorrelation {
    spans: ActiveSpans,
}

impl Enrich for LogCorrelation {
    fn enrich(&self, record: &mut Map<String, Value>) {
        if record.contains_key("traceId") {
            return;
        }
        let Some(Value::String(arn)) = record.get("executionArn") else {
            return;
        };
        let ids = ["operationId", "parentId"]
            .into_iter()
            .filter_map(|key| record.get(key).and_then(Value::as_str));
        let Some(span) = self.spans.lookup(arn, ids) else {
            return;
        };
        record.insert("traceId".into(), span.trace_id().to_string().into());
        record.insert("spanId".into(), span.span_id().to_string().into());
        record.insert("otelTraceSampled".into(), span.is_sampled().into());
    }
}
