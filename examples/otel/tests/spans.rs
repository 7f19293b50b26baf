//! The example workflow on the local runner, with its spans written as OTLP JSON.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use lambda_durable::wire::ExecutionStatus;
use lambda_durable_otel::{OtelConfig, OtlpJsonExporter};
use lambda_durable_testing::LocalRunner;
use otel_example::{plugin, ship_order, Order, Shipment, View};
use serde_json::Value;

/// A writer the test reads back.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs the workflow with the plugin of `view`; the OTLP requests written, one per line.
async fn run(view: View) -> (lambda_durable_testing::Execution, Vec<Value>) {
    let buffer = Buffer::default();
    let config = OtelConfig::builder()
        .exporter(OtlpJsonExporter::writer(buffer.clone()))
        .build()
        .unwrap();
    let order = Order {
        id: "order-7".to_string(),
        items: vec!["book".to_string(), "lamp".to_string()],
    };
    let execution = LocalRunner::new(ship_order)
        .shared_plugin(plugin(view, config))
        .run(order)
        .await
        .unwrap();
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let requests = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    (execution, requests)
}

/// The spans of the requests: (name, span).
fn spans(requests: &[Value]) -> Vec<(String, Value)> {
    requests
        .iter()
        .flat_map(|request| {
            request["resourceSpans"][0]["scopeSpans"][0]["spans"]
                .as_array()
                .unwrap()
                .clone()
        })
        .map(|span| (span["name"].as_str().unwrap().to_string(), span))
        .collect()
}

fn count(spans: &[(String, Value)], name: &str) -> usize {
    spans.iter().filter(|(n, _)| n == name).count()
}

#[tokio::test]
async fn the_invocation_view_has_a_trace_per_execution_and_a_span_per_invocation() {
    let (execution, requests) = run(View::Invocation).await;
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    assert_eq!(
        execution.result::<Shipment>().unwrap().parcels,
        ["parcel(book)", "parcel(lamp)"]
    );
    // Suspended for the retry and for the courier: three invocations, each flushed.
    assert_eq!(execution.invocations(), 3);
    assert_eq!(requests.len(), 3);
    let spans = spans(&requests);
    assert_eq!(count(&spans, "Invocation"), 3);
    assert_eq!(count(&spans, "Workflow"), 1);
    assert_eq!(count(&spans, "charge card attempt 1"), 1);
    assert_eq!(count(&spans, "charge card attempt 2"), 1);
    // The charge in the first two invocations, the wait in the last two.
    assert_eq!(count(&spans, "charge card"), 2);
    assert_eq!(count(&spans, "wait for the courier"), 2);
    for name in [
        "pack items",
        "item book",
        "pack book",
        "notify",
        "send email",
    ] {
        assert_eq!(count(&spans, name), 1, "{name}");
    }
    let trace = &spans[0].1["traceId"];
    assert!(spans.iter().all(|(_, span)| &span["traceId"] == trace));
}

#[tokio::test]
async fn the_execution_view_has_one_span_per_operation() {
    let (execution, requests) = run(View::Execution).await;
    assert_eq!(requests.len(), execution.invocations());
    let spans = spans(&requests);
    // Every recorded operation once, plus the Workflow and the Invocation spans and one
    // span per step attempt.
    for op in execution.operations() {
        if op.type_ == lambda_durable::wire::OperationType::Execution {
            continue; // the Workflow span
        }
        // Unnamed operations are named by their id.
        let name = op
            .name
            .as_ref()
            .map_or(op.id.as_str(), |name| name.as_str());
        assert_eq!(count(&spans, name), 1, "{name} {:?}", op.type_);
    }
    assert_eq!(count(&spans, "Workflow"), 1);
    assert_eq!(count(&spans, "Invocation"), 3);
    let attempts = spans
        .iter()
        .filter(|(name, _)| name.contains(" attempt "))
        .count();
    assert_eq!(attempts, 6); // reserve, charge ×2, pack ×2, send
    let workflow = &spans.iter().find(|(n, _)| n == "Workflow").unwrap().1;
    let wait = &spans
        .iter()
        .find(|(n, _)| n == "wait for the courier")
        .unwrap()
        .1;
    assert_eq!(wait["parentSpanId"], workflow["spanId"]);
}
