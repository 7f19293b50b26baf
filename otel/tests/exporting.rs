//! Where the spans go: given and owned providers, the OTLP JSON exporter over HTTP and to a
//! file, and what the environment sets (the X-Ray trace header, the service name, the OTLP
//! endpoint). The tests change process-wide environment variables, so they run one at a
//! time.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::sync::Arc;

use tokio::sync::{Mutex, MutexGuard};

use lambda_durable::plugin::Plugin;
use lambda_durable_otel::attributes::*;
use lambda_durable_otel::{
    lambda_resource, workflow_span_id, DurableIdGenerator, ExecutionOtelPlugin,
    InvocationOtelPlugin, OtelConfig, OtlpJsonExporter,
};
use lambda_durable_testing::LocalRunner;
use opentelemetry::trace::{SpanId, TraceId, TracerProvider as _};
use opentelemetry::Key;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanExporter};
use serde_json::Value as Json;

use support::scenarios::*;
use support::*;

static ENV: Mutex<()> = Mutex::const_new(());

/// The environment to oneself, with the variables the tests set cleared.
async fn env() -> MutexGuard<'static, ()> {
    let guard = ENV.lock().await;
    for name in [
        "_X_AMZN_TRACE_ID",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
        "AWS_LAMBDA_FUNCTION_NAME",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_DURABLE_SAMPLING_RATIO",
    ] {
        std::env::remove_var(name);
    }
    guard
}

/// One request a test collector received.
struct Request {
    head: String,
    body: Json,
}

/// A collector on 127.0.0.1 that answers every request with `status` and hands it over.
fn collector(status: u16) -> (String, mpsc::Receiver<Request>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let length: usize = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().unwrap())
                })
                .unwrap_or(0);
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let answer = format!("HTTP/1.1 {status} Whatever\r\nContent-Length: 4\r\n\r\nnope");
            stream.write_all(answer.as_bytes()).unwrap();
            let body = serde_json::from_slice(&body).unwrap();
            if send.send(Request { head, body }).is_err() {
                return;
            }
        }
    });
    (address, receive)
}

/// The spans of OTLP JSON requests, flattened.
fn spans_of(requests: &[Json]) -> Vec<Json> {
    requests
        .iter()
        .flat_map(|request| {
            request["resourceSpans"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|resource| resource["scopeSpans"].as_array().unwrap().clone())
                .flat_map(|scope| scope["spans"].as_array().unwrap().clone())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn otlp_attribute<'a>(span: &'a Json, key: &str) -> Option<&'a Json> {
    span["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|attribute| attribute["key"] == key)
        .map(|attribute| &attribute["value"])
}

#[tokio::test]
async fn otlp_json_over_http_reaches_a_collector() {
    let _env = env().await;
    let (address, requests) = collector(200);
    let exporter = OtlpJsonExporter::http(&format!("{address}/v1/traces"))
        .unwrap()
        .with_header("x-api-key", "secret");
    let config = OtelConfig::builder()
        .exporter(exporter)
        .service_name("otel-http")
        .build()
        .unwrap();
    let plugin: Arc<dyn Plugin> = Arc::new(ExecutionOtelPlugin::new(config));
    let execution = LocalRunner::new(success)
        .shared_plugin(Arc::clone(&plugin))
        .run(())
        .await
        .unwrap();
    // Flushed at the end of the invocation: the request is there already.
    let request = requests.try_recv().unwrap();
    assert!(
        request.head.starts_with("POST /v1/traces HTTP/1.1\r\n"),
        "{}",
        request.head
    );
    let head = request.head.to_ascii_lowercase();
    assert!(head.contains("content-type: application/json"), "{head}");
    assert!(head.contains("x-api-key: secret"), "{head}");
    let resource = &request.body["resourceSpans"][0]["resource"]["attributes"];
    assert!(resource
        .as_array()
        .unwrap()
        .iter()
        .any(|kv| kv["key"] == "service.name" && kv["value"]["stringValue"] == "otel-http"));
    let scope = &request.body["resourceSpans"][0]["scopeSpans"][0]["scope"];
    assert_eq!(scope["name"], "lambda-durable");
    let spans = spans_of(&[request.body]);
    let mut names: Vec<&str> = spans
        .iter()
        .map(|span| span["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "Invocation",
            "Workflow",
            "otel-success",
            "otel-success attempt 1"
        ]
    );
    let by_name = |name: &str| spans.iter().find(|span| span["name"] == name).unwrap();
    let workflow = by_name("Workflow");
    let invocation = by_name("Invocation");
    let step = by_name("otel-success");
    assert_eq!(
        workflow["spanId"],
        workflow_span_id(execution.arn()).to_string()
    );
    assert!(workflow.get("parentSpanId").is_none());
    assert_eq!(invocation["parentSpanId"], workflow["spanId"]);
    assert_eq!(step["parentSpanId"], workflow["spanId"]);
    assert_eq!(step["links"][0]["spanId"], invocation["spanId"]);
    assert_eq!(step["links"][0]["traceId"], workflow["traceId"]);
    assert_eq!(workflow["traceId"].as_str().unwrap().len(), 32);
    assert!(spans
        .iter()
        .all(|span| span["traceId"] == workflow["traceId"]));
    assert!(spans.iter().all(|span| span["kind"] == 1));
    assert_eq!(workflow["status"]["code"], 1);
    assert_eq!(
        otlp_attribute(step, EXECUTION_ARN).unwrap()["stringValue"],
        execution.arn()
    );
    assert_eq!(
        otlp_attribute(step, ATTEMPT_NUMBER).unwrap()["intValue"],
        "1"
    );
    assert_eq!(
        otlp_attribute(invocation, INVOCATION_FIRST).unwrap()["boolValue"],
        true
    );
    let start: u128 = step["startTimeUnixNano"].as_str().unwrap().parse().unwrap();
    let end: u128 = step["endTimeUnixNano"].as_str().unwrap().parse().unwrap();
    assert!(start <= end && start > 1_700_000_000_000_000_000);
    drop(plugin);
}

#[tokio::test]
async fn a_collector_error_fails_the_export() {
    let _env = env().await;
    let (address, _requests) = collector(500);
    // Spans to export, from a provider of their own.
    let memory = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(memory.clone())
        .build();
    opentelemetry::trace::Tracer::in_span(&provider.tracer("t"), "span", |_| {});
    let batch = memory.get_finished_spans().unwrap();
    assert_eq!(batch.len(), 1);
    let exporter = OtlpJsonExporter::http(&address).unwrap();
    let error = exporter.export(batch).await.unwrap_err();
    assert!(error.to_string().contains("500"), "{error}");
    // Nobody listening.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let exporter = OtlpJsonExporter::http(&format!("http://127.0.0.1:{port}/v1/traces")).unwrap();
    let batch = memory.get_finished_spans().unwrap();
    assert!(exporter.export(batch).await.is_err());
}

#[tokio::test]
async fn the_otlp_endpoint_and_headers_come_from_the_environment() {
    let _env = env().await;
    let (address, requests) = collector(200);
    std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", format!("{address}/"));
    std::env::set_var(
        "OTEL_EXPORTER_OTLP_HEADERS",
        "authorization=Bearer%20abc,x-team=otel",
    );
    std::env::set_var("OTEL_SERVICE_NAME", "from-env");
    let config = OtelConfig::builder()
        .service_name("from-code")
        .build()
        .unwrap();
    let plugin: Arc<dyn Plugin> = Arc::new(InvocationOtelPlugin::new(config));
    LocalRunner::new(wait_resume)
        .shared_plugin(Arc::clone(&plugin))
        .run(())
        .await
        .unwrap();
    // One request per invocation (each flushed at its end).
    let received: Vec<Request> = requests.try_iter().collect();
    assert_eq!(received.len(), 2);
    for request in &received {
        assert!(request.head.starts_with("POST /v1/traces HTTP/1.1\r\n"));
        assert!(
            request.head.contains("authorization: Bearer abc\r\n"),
            "{}",
            request.head
        );
        assert!(request.head.contains("x-team: otel\r\n"));
        // OTEL_SERVICE_NAME wins over the configured name.
        let resource = &request.body["resourceSpans"][0]["resource"]["attributes"];
        let service = resource
            .as_array()
            .unwrap()
            .iter()
            .find(|kv| kv["key"] == "service.name")
            .unwrap();
        assert_eq!(service["value"]["stringValue"], "from-env");
    }
    let bodies: Vec<Json> = received.into_iter().map(|request| request.body).collect();
    assert_eq!(spans_of(&bodies[..1]).len(), 2); // Invocation, wait STARTED
    assert_eq!(spans_of(&bodies).len(), 7);
    drop(plugin);

    std::env::set_var(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "https://collector.example:4318",
    );
    let error = OtelConfig::builder().build().unwrap_err();
    assert!(error.to_string().contains("http://"), "{error}");
}

#[tokio::test]
async fn the_service_name_is_otel_service_name_then_configured_then_the_function() {
    let _env = env().await;
    let service = |resource: opentelemetry_sdk::Resource| {
        resource
            .get(&Key::new("service.name"))
            .map(|value| value.as_str().into_owned())
    };
    std::env::set_var("AWS_LAMBDA_FUNCTION_NAME", "orders-fn");
    assert_eq!(service(lambda_resource(None)).as_deref(), Some("orders-fn"));
    let resource = lambda_resource(Some("orders"));
    assert_eq!(service(resource.clone()).as_deref(), Some("orders"));
    assert_eq!(
        resource
            .get(&Key::new("faas.name"))
            .map(|value| value.as_str().into_owned())
            .as_deref(),
        Some("orders-fn")
    );
    std::env::set_var("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attributes");
    assert_eq!(
        service(lambda_resource(None)).as_deref(),
        Some("from-attributes")
    );
    std::env::set_var("OTEL_SERVICE_NAME", "from-env");
    assert_eq!(
        service(lambda_resource(Some("orders"))).as_deref(),
        Some("from-env")
    );
    // No resource attribute may start with `durable.` (they would mix with the spans').
    assert!(lambda_resource(None)
        .iter()
        .all(|(key, _)| !key.as_str().starts_with("durable.")));
}

#[tokio::test]
async fn the_trace_comes_from_the_x_ray_header() {
    let _env = env().await;
    let root = TraceId::from_hex("5759e988bd862e3fe1be46a994272793").unwrap();
    let segment = SpanId::from_hex("53995c3f42cd8ad8").unwrap();
    std::env::set_var(
        "_X_AMZN_TRACE_ID",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    );
    for view in [View::Invocation, View::Execution] {
        let (_, spans) = run(view, LocalRunner::new(wait_resume)).await;
        assert!(spans
            .0
            .iter()
            .all(|span| span.span_context.trace_id() == root));
        let workflow = spans.one("Workflow");
        assert_eq!(workflow.parent_span_id, SpanId::INVALID);
        for invocation in spans.named("Invocation") {
            match view {
                // Under the sampled X-Ray segment of the invocation.
                View::Invocation => {
                    assert_eq!(invocation.parent_span_id, segment);
                    assert!(invocation.parent_span_is_remote);
                }
                View::Execution => {
                    assert_eq!(invocation.parent_span_id, workflow.span_context.span_id())
                }
            }
        }
    }
    // An unsampled segment is recorded nowhere: the Invocation span is a root then, in the
    // same trace.
    std::env::set_var(
        "_X_AMZN_TRACE_ID",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
    );
    let (_, spans) = run(View::Invocation, LocalRunner::new(success)).await;
    let invocation = spans.one("Invocation");
    assert_eq!(invocation.parent_span_id, SpanId::INVALID);
    assert!(spans
        .0
        .iter()
        .all(|span| span.span_context.trace_id() == root));
}

#[tokio::test]
async fn a_given_provider_needs_the_durable_id_generator() {
    let _env = env().await;
    for with_generator in [true, false] {
        let exporter = InMemorySpanExporter::default();
        let builder = SdkTracerProvider::builder().with_simple_exporter(exporter.clone());
        let provider = if with_generator {
            builder
                .with_id_generator(DurableIdGenerator::default())
                .build()
        } else {
            builder.build()
        };
        let config = OtelConfig::builder()
            .provider(provider.clone())
            .instrument_name("custom-scope")
            .workflow_span_name("Root")
            .build()
            .unwrap();
        let execution = LocalRunner::new(success)
            .plugin(InvocationOtelPlugin::new(config))
            .run(())
            .await
            .unwrap();
        // The test keeps a handle to the provider: the spans are still there.
        let spans = Spans::from(&exporter);
        let root = spans.one("Root");
        assert_eq!(text(root, EXECUTION_STATUS).as_deref(), Some("SUCCEEDED"));
        assert_eq!(root.instrumentation_scope.name(), "custom-scope");
        let step = spans.one("otel-success");
        let link = &step.links.links[0].span_context;
        assert_eq!(link.span_id(), workflow_span_id(execution.arn()));
        // Without the generator the root gets a random id, which the links miss.
        assert_eq!(
            root.span_context.span_id() == workflow_span_id(execution.arn()),
            with_generator
        );
        assert_eq!(spans.0.len(), 4);
    }
}

#[tokio::test]
async fn the_file_exporter_writes_one_request_per_flush() {
    let _env = env().await;
    let path = std::env::temp_dir().join(format!("otel-test-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let config = OtelConfig::builder()
        .exporter(OtlpJsonExporter::file(&path).unwrap())
        .build()
        .unwrap();
    let plugin: Arc<dyn Plugin> = Arc::new(ExecutionOtelPlugin::new(config));
    let execution = LocalRunner::new(retry)
        .shared_plugin(Arc::clone(&plugin))
        .run(())
        .await
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let requests: Vec<Json> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(requests.len(), execution.invocations());
    let spans = spans_of(&requests);
    let names: Vec<&str> = spans
        .iter()
        .map(|span| span["name"].as_str().unwrap())
        .collect();
    // Invocation 1: the failed attempt and the Invocation; invocation 2: the second attempt,
    // the step, the Invocation and the Workflow.
    assert_eq!(names.len(), 6, "{names:?}");
    for name in [
        "otel-retry attempt 1",
        "otel-retry attempt 2",
        "otel-retry",
        "Workflow",
    ] {
        assert_eq!(names.iter().filter(|n| **n == name).count(), 1, "{name}");
    }
    let first_request = spans_of(&requests[..1]);
    assert!(first_request.iter().all(|span| span["name"] != "Workflow"));
    drop(plugin);
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn the_sampling_ratio_comes_from_the_environment() {
    let _env = env().await;
    let sampled = |ratio: &str| {
        std::env::set_var("OTEL_DURABLE_SAMPLING_RATIO", ratio);
        OtelConfig::builder()
            .exporter(InMemorySpanExporter::default())
            .build()
    };
    for bad in ["half", "2", "-1"] {
        let error = sampled(bad).unwrap_err();
        assert!(
            error.to_string().contains("OTEL_DURABLE_SAMPLING_RATIO"),
            "{error}"
        );
    }
    // Zero: nothing is exported; the configured ratio wins over the variable.
    let exporter = InMemorySpanExporter::default();
    std::env::set_var("OTEL_DURABLE_SAMPLING_RATIO", "0");
    let config = OtelConfig::builder()
        .exporter(exporter.clone())
        .build()
        .unwrap();
    let plugin: Arc<dyn Plugin> = Arc::new(InvocationOtelPlugin::new(config));
    LocalRunner::new(wait_resume)
        .shared_plugin(Arc::clone(&plugin))
        .run(())
        .await
        .unwrap();
    assert!(exporter.get_finished_spans().unwrap().is_empty());
    drop(plugin);
    let exporter = InMemorySpanExporter::default();
    let config = OtelConfig::builder()
        .exporter(exporter.clone())
        .sampling_ratio(1.0)
        .build()
        .unwrap();
    let plugin: Arc<dyn Plugin> = Arc::new(InvocationOtelPlugin::new(config));
    LocalRunner::new(wait_resume)
        .shared_plugin(Arc::clone(&plugin))
        .run(())
        .await
        .unwrap();
    assert_eq!(exporter.get_finished_spans().unwrap().len(), 7);
    drop(plugin);
    std::env::remove_var("OTEL_DURABLE_SAMPLING_RATIO");
}
