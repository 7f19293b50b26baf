//! The spans of the running code (`ActiveSpans`): trace and span ids on JSON log records, and
//! the context a step propagates to the services it calls; and sampling.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use lambda_durable::logging::DurableJson;
use lambda_durable::plugin::Plugin;
use lambda_durable::{DurableContext, Error};
use lambda_durable_otel::{
    ActiveSpans, ConfigError, ExecutionOtelPlugin, InvocationOtelPlugin, OtelConfig,
};
use lambda_durable_testing::LocalRunner;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::Value as Json;
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::fmt::MakeWriter;

use support::{Spans, View};

/// A writer that keeps every line.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Lines {
    type Writer = Lines;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Lines {
    fn records(&self) -> Vec<Json> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }
}

/// Logs in the root context, in a step (and returns the `traceparent` the step would send)
/// and in a child context.
async fn workflow(spans: ActiveSpans, ctx: DurableContext) -> Result<String, Error> {
    ctx.logger().info("in the root context");
    let traceparent = ctx
        .step("charge", |step| async move {
            step.logger().info("charging");
            let mut headers = std::collections::HashMap::new();
            TraceContextPropagator::new().inject_context(&spans.step_context(&step), &mut headers);
            Ok::<_, std::io::Error>(headers.remove("traceparent").unwrap_or_default())
        })
        .await?;
    ctx.run_in_child_context("ship", |child| async move {
        child.logger().info("shipping");
        Ok::<_, Error>(())
    })
    .await?;
    Ok(traceparent)
}

/// Runs `workflow` with a plugin of `view`, JSON logs enriched by its active spans.
async fn run(view: View) -> (String, Vec<Json>, Spans, ActiveSpans, String) {
    let exporter = InMemorySpanExporter::default();
    let config = OtelConfig::builder()
        .exporter(exporter.clone())
        .build()
        .unwrap();
    let (plugin, spans): (Arc<dyn Plugin>, ActiveSpans) = match view {
        View::Invocation => {
            let plugin = InvocationOtelPlugin::new(config);
            let spans = plugin.active_spans();
            (Arc::new(plugin), spans)
        }
        View::Execution => {
            let plugin = ExecutionOtelPlugin::new(config);
            let spans = plugin.active_spans();
            (Arc::new(plugin), spans)
        }
    };
    let lines = Lines::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .fmt_fields(JsonFields::new())
        .event_format(DurableJson::default().enrich(spans.log_enricher()))
        .with_writer(lines.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let for_handler = spans.clone();
    let execution = LocalRunner::new(move |_: (), ctx| workflow(for_handler.clone(), ctx))
        .shared_plugin(Arc::clone(&plugin))
        .run(())
        .await
        .unwrap();
    let traceparent: String = execution.result().unwrap();
    let exported = Spans::from(&exporter);
    drop(plugin);
    (
        traceparent,
        lines.records(),
        exported,
        spans,
        execution.arn().to_string(),
    )
}

fn record<'a>(records: &'a [Json], message: &str) -> &'a Json {
    records
        .iter()
        .find(|record| record["message"] == message)
        .unwrap_or_else(|| panic!("no record {message:?} in {records:#?}"))
}

/// Asserts that `record` carries the ids of `span`.
fn assert_ids(record: &Json, span: &SpanData) {
    let context = &span.span_context;
    assert_eq!(
        record["traceId"],
        context.trace_id().to_string(),
        "{record}"
    );
    assert_eq!(record["spanId"], context.span_id().to_string(), "{record}");
    assert_eq!(record["otelTraceSampled"], true, "{record}");
}

async fn records_and_propagation_name_the_running_span(view: View) {
    let (traceparent, records, spans, active, arn) = run(view).await;
    let attempt = spans.one("charge attempt 1");
    assert_ids(record(&records, "charging"), attempt);
    assert_ids(
        record(&records, "in the root context"),
        spans.one("Invocation"),
    );
    assert_ids(record(&records, "shipping"), spans.one("ship"));
    // The context the step propagates is its attempt's.
    assert_eq!(
        traceparent,
        format!(
            "00-{}-{}-01",
            attempt.span_context.trace_id(),
            attempt.span_context.span_id()
        )
    );
    // Between invocations nothing is running.
    assert!(active.span_context(&arn, None).is_none());
    assert!(active.span_context(&arn, Some("anything")).is_none());
}

#[tokio::test(flavor = "current_thread")]
async fn invocation_view_records_and_propagation_name_the_running_span() {
    records_and_propagation_name_the_running_span(View::Invocation).await;
}

#[tokio::test(flavor = "current_thread")]
async fn execution_view_records_and_propagation_name_the_running_span() {
    records_and_propagation_name_the_running_span(View::Execution).await;
}

#[tokio::test(flavor = "current_thread")]
async fn records_of_other_executions_and_records_with_ids_are_left_alone() {
    use lambda_durable::logging::Enrich;

    let active = InvocationOtelPlugin::new(
        OtelConfig::builder()
            .exporter(InMemorySpanExporter::default())
            .build()
            .unwrap(),
    )
    .active_spans();
    let enrich = active.log_enricher();
    let mut record = serde_json::Map::new();
    record.insert("executionArn".into(), "arn:aws:lambda:other".into());
    enrich.enrich(&mut record);
    assert!(!record.contains_key("traceId"));
    record.insert("traceId".into(), "mine".into());
    enrich.enrich(&mut record);
    assert_eq!(record["traceId"], "mine");
    assert!(!record.contains_key("spanId"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_sampling_ratio_of_zero_exports_nothing_and_logs_say_unsampled() {
    let exporter = InMemorySpanExporter::default();
    let plugin = InvocationOtelPlugin::new(
        OtelConfig::builder()
            .exporter(exporter.clone())
            .sampling_ratio(0.0)
            .build()
            .unwrap(),
    );
    let active = plugin.active_spans();
    let lines = Lines::default();
    let subscriber = tracing_subscriber::fmt()
        .fmt_fields(JsonFields::new())
        .event_format(DurableJson::default().enrich(active.log_enricher()))
        .with_writer(lines.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let plugin: Arc<dyn Plugin> = Arc::new(plugin);
    let for_handler = active.clone();
    LocalRunner::new(move |_: (), ctx| workflow(for_handler.clone(), ctx))
        .shared_plugin(Arc::clone(&plugin))
        .run(())
        .await
        .unwrap();
    assert!(exporter.get_finished_spans().unwrap().is_empty());
    let charging = record(&lines.records(), "charging").clone();
    assert_eq!(charging["otelTraceSampled"], false, "{charging}");
}

#[test]
fn sampling_ratios_outside_zero_to_one_are_refused() {
    for ratio in [-0.1, 1.5, f64::NAN] {
        let error = OtelConfig::builder()
            .exporter(InMemorySpanExporter::default())
            .sampling_ratio(ratio)
            .build()
            .unwrap_err();
        assert!(matches!(error, ConfigError::SamplingRatio(_)), "{error:?}");
        assert!(error.to_string().contains("from 0 to 1"), "{error}");
    }
    let error = OtelConfig::builder()
        .provider(SdkTracerProvider::builder().build())
        .sampling_ratio(0.5)
        .build()
        .unwrap_err();
    assert!(
        matches!(error, ConfigError::ProviderOption("sampling_ratio")),
        "{error:?}"
    );
    assert!(error.to_string().contains("your own provider"), "{error}");
}

#[tokio::test(flavor = "current_thread")]
async fn the_sdk_tracing_spans_carry_the_durable_attributes_through_tracing_opentelemetry() {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry::Value;
    use tracing_subscriber::layer::SubscriberExt;

    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("sdk-spans")));
    let _guard = tracing::subscriber::set_default(subscriber);
    let execution = LocalRunner::new(|_: (), ctx| workflow(ActiveSpans::default(), ctx))
        .run(())
        .await
        .unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    let attribute = |span: &SpanData, key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    };
    let step = spans
        .iter()
        .find(|span| span.name == "step")
        .unwrap_or_else(|| panic!("no step span in {spans:#?}"));
    let charge = execution.operation("charge").unwrap();
    assert_eq!(
        attribute(step, "durable.operation.id"),
        Some(Value::from(charge.id.to_string()))
    );
    assert_eq!(
        attribute(step, "durable.operation.name"),
        Some(Value::from("charge"))
    );
    assert_eq!(
        attribute(step, "durable.operation.type"),
        Some(Value::from("STEP"))
    );
    assert_eq!(
        attribute(step, "durable.operation.subtype"),
        Some(Value::from("Step"))
    );
    assert_eq!(
        attribute(step, "durable.attempt.number"),
        Some(Value::I64(1))
    );
    let context = spans
        .iter()
        .find(|span| span.name == "child_context")
        .unwrap();
    assert_eq!(
        attribute(context, "durable.operation.type"),
        Some(Value::from("CONTEXT"))
    );
    let invocation = spans
        .iter()
        .find(|span| span.name == "durable_invocation")
        .unwrap();
    assert_eq!(
        attribute(invocation, "durable.execution.arn"),
        Some(Value::from(execution.arn().to_string()))
    );
    assert_eq!(
        attribute(invocation, "durable.invocation.first"),
        Some(Value::Bool(true))
    );
}
