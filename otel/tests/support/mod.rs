//! Runs handlers on the local runner with an OpenTelemetry plugin and an in-memory
//! exporter, and reads the spans back.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::SystemTime;

use lambda_durable::plugin::Plugin;
use lambda_durable_otel::attributes::*;
use lambda_durable_otel::{ExecutionOtelPlugin, InvocationOtelPlugin, OtelConfig};
use lambda_durable_testing::{Execution, LocalRunner};
use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};

/// Which plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Invocation,
    Execution,
}

/// A plugin of `view` exporting to `exporter` (owned provider, batch processor).
pub fn plugin(view: View, exporter: &InMemorySpanExporter) -> Arc<dyn Plugin> {
    let config = OtelConfig::builder()
        .exporter(exporter.clone())
        .service_name("otel-tests")
        .build()
        .unwrap();
    match view {
        View::Invocation => Arc::new(InvocationOtelPlugin::new(config)),
        View::Execution => Arc::new(ExecutionOtelPlugin::new(config)),
    }
}

/// Runs `runner` with a plugin of `view`, checks the invariants of the view, and returns
/// the execution and its spans.
pub async fn run(view: View, runner: LocalRunner) -> (Execution, Spans) {
    let exporter = InMemorySpanExporter::default();
    // The plugin owns the provider: the last handle dropped shuts it down, and the
    // in-memory exporter forgets its spans then. Keep one until they are read.
    let plugin = plugin(view, &exporter);
    let execution = runner
        .shared_plugin(Arc::clone(&plugin))
        .run(())
        .await
        .unwrap();
    let spans = Spans::from(&exporter);
    drop(plugin);
    spans.check(view);
    (execution, spans)
}

/// The exported spans.
pub struct Spans(pub Vec<SpanData>);

impl Spans {
    pub fn from(exporter: &InMemorySpanExporter) -> Self {
        let mut spans = exporter.get_finished_spans().unwrap();
        spans.sort_by_key(|span| (span.start_time, span.end_time));
        Self(spans)
    }

    pub fn named(&self, name: &str) -> Vec<&SpanData> {
        self.0.iter().filter(|span| span.name == name).collect()
    }

    /// The only span named `name`.
    pub fn one(&self, name: &str) -> &SpanData {
        let found = self.named(name);
        assert_eq!(found.len(), 1, "spans named {name:?}:\n{}", self.tree());
        found[0]
    }

    /// The spans named `name` with `durable.operation.status` `status`.
    pub fn with_status(&self, name: &str, status: &str) -> Vec<&SpanData> {
        self.named(name)
            .into_iter()
            .filter(|span| text(span, OPERATION_STATUS).as_deref() == Some(status))
            .collect()
    }

    /// The only span named `name` with operation status `status`.
    pub fn one_with_status(&self, name: &str, status: &str) -> &SpanData {
        let found = self.with_status(name, status);
        assert_eq!(
            found.len(),
            1,
            "spans named {name:?} with status {status}:\n{}",
            self.tree()
        );
        found[0]
    }

    /// The `Invocation` spans of the execution `arn`, in order.
    pub fn invocations(&self, arn: &str) -> Vec<&SpanData> {
        self.named("Invocation")
            .into_iter()
            .filter(|span| text(span, EXECUTION_ARN).as_deref() == Some(arn))
            .collect()
    }

    pub fn by_id(&self, id: SpanId) -> Option<&SpanData> {
        self.0.iter().find(|span| span.span_context.span_id() == id)
    }

    pub fn parent(&self, span: &SpanData) -> Option<&SpanData> {
        self.by_id(span.parent_span_id)
    }

    pub fn children(&self, span: &SpanData) -> Vec<&SpanData> {
        let id = span.span_context.span_id();
        self.0.iter().filter(|s| s.parent_span_id == id).collect()
    }

    /// The span the only link of `span` points at.
    pub fn linked(&self, span: &SpanData) -> &SpanData {
        assert_eq!(span.links.links.len(), 1, "{}", span.name);
        let link = &span.links.links[0].span_context;
        self.0
            .iter()
            .find(|s| s.span_context.span_id() == link.span_id())
            .unwrap_or_else(|| panic!("the link of {} points at no span", span.name))
    }

    /// The spans as an indented tree, for failure messages.
    pub fn tree(&self) -> String {
        let mut out = String::new();
        let ids: HashSet<SpanId> = self.0.iter().map(|s| s.span_context.span_id()).collect();
        for root in self.0.iter().filter(|s| !ids.contains(&s.parent_span_id)) {
            self.write(root, 0, &mut out);
        }
        out
    }

    fn write(&self, span: &SpanData, depth: usize, out: &mut String) {
        out.push_str(&format!(
            "{}{} [{}] status={:?} op={:?} links={}\n",
            "  ".repeat(depth),
            span.name,
            span.span_context.span_id(),
            span.status,
            text(span, OPERATION_STATUS).or_else(|| text(span, INVOCATION_STATUS)),
            span.links.links.len(),
        ));
        for child in self.children(span) {
            self.write(child, depth + 1, out);
        }
    }

    /// What holds in every test: no span exported twice; every span INTERNAL, ending after
    /// it starts, carrying the ARN and exactly the `durable.*` keys of its kind; the links
    /// and parents of each kind.
    pub fn check(&self, view: View) {
        let tree = self.tree();
        let mut seen = HashSet::new();
        for span in &self.0 {
            let context = &span.span_context;
            assert!(
                seen.insert((context.trace_id(), context.span_id())),
                "{} exported twice:\n{tree}",
                span.name
            );
            assert_eq!(span.span_kind, SpanKind::Internal, "{}", span.name);
            assert!(span.start_time <= span.end_time, "{}", span.name);
            assert!(
                text(span, EXECUTION_ARN).is_some(),
                "{} has no ARN",
                span.name
            );
            let keys = durable_keys(span);
            let expected = expected_keys(span);
            assert_eq!(
                keys, expected,
                "the durable.* keys of {}:\n{tree}",
                span.name
            );
            match span.name.as_ref() {
                "Workflow" => {
                    assert_eq!(
                        span.parent_span_id,
                        SpanId::INVALID,
                        "Workflow has a parent"
                    );
                    assert!(span.links.links.is_empty(), "Workflow has links");
                    let status = text(span, EXECUTION_STATUS).unwrap();
                    assert_eq!(
                        span.status == Status::Ok,
                        status == "SUCCEEDED",
                        "Workflow status {:?} for {status}",
                        span.status
                    );
                    assert!(matches!(span.status, Status::Ok | Status::Error { .. }));
                }
                "Invocation" => {
                    assert!(span.links.links.is_empty(), "Invocation has links");
                    let status = text(span, INVOCATION_STATUS).unwrap();
                    let expected_ok = matches!(status.as_str(), "SUCCEEDED" | "PENDING");
                    assert_eq!(span.status == Status::Ok, expected_ok, "{status}");
                    if status == "FAILED" {
                        assert!(matches!(span.status, Status::Error { .. }));
                    }
                }
                _ => {
                    assert_eq!(span.links.links.len(), 1, "{}:\n{tree}", span.name);
                    let arn = text(span, EXECUTION_ARN);
                    match view {
                        View::Invocation => {
                            // The link is to the Workflow span of the execution, which
                            // is exported if the execution ended.
                            let link = &span.links.links[0].span_context;
                            assert_eq!(
                                link.span_id(),
                                lambda_durable_otel::workflow_span_id(arn.as_deref().unwrap())
                            );
                            let workflow = self
                                .named("Workflow")
                                .into_iter()
                                .find(|workflow| text(workflow, EXECUTION_ARN) == arn);
                            if let Some(workflow) = workflow {
                                assert_eq!(self.linked(span).span_context, workflow.span_context);
                            }
                            // The parent is an operation of the same invocation or the
                            // Invocation span.
                            let parent = self.parent(span).unwrap_or_else(|| {
                                panic!("{} has no exported parent:\n{tree}", span.name)
                            });
                            assert_ne!(parent.name, "Workflow");
                        }
                        View::Execution => {
                            let linked = self.linked(span);
                            assert_eq!(linked.name, "Invocation", "{}", span.name);
                            assert_eq!(text(linked, EXECUTION_ARN), arn);
                        }
                    }
                    // Statuses.
                    match text(span, OPERATION_STATUS).as_deref() {
                        Some("SUCCEEDED") => assert_eq!(span.status, Status::Ok),
                        Some("STARTED") => assert_eq!(span.status, Status::Unset),
                        Some(_) => assert!(matches!(span.status, Status::Error { .. })),
                        None => match text(span, ATTEMPT_OUTCOME).as_deref() {
                            Some("SUCCEEDED") => assert_eq!(span.status, Status::Ok),
                            Some("FAILED") => {
                                assert!(matches!(span.status, Status::Error { .. }))
                            }
                            other => panic!("{}: outcome {other:?}", span.name),
                        },
                    }
                }
            }
        }
    }
}

/// The `durable.*` keys of `span`.
pub fn durable_keys(span: &SpanData) -> BTreeSet<String> {
    span.attributes
        .iter()
        .map(|kv| kv.key.as_str().to_string())
        .filter(|key| key.starts_with("durable."))
        .collect()
}

/// The exact `durable.*` keys a span of its kind has.
pub fn expected_keys(span: &SpanData) -> BTreeSet<String> {
    let set = |keys: &[&str]| keys.iter().map(|key| key.to_string()).collect();
    match span.name.as_ref() {
        "Workflow" => set(&[EXECUTION_ARN, EXECUTION_STATUS]),
        "Invocation" => set(&[EXECUTION_ARN, INVOCATION_FIRST, INVOCATION_STATUS]),
        _ => {
            let mut keys: BTreeSet<String> = set(&[
                EXECUTION_ARN,
                OPERATION_ID,
                OPERATION_TYPE,
                OPERATION_SUBTYPE,
            ]);
            if attribute(span, OPERATION_NAME).is_some() {
                keys.insert(OPERATION_NAME.to_string());
            }
            let step = text(span, OPERATION_TYPE).as_deref() == Some("STEP");
            match text(span, OPERATION_STATUS).as_deref() {
                // An attempt.
                None => {
                    assert!(
                        step,
                        "{} is an attempt of a {:?}",
                        span.name,
                        text(span, OPERATION_TYPE)
                    );
                    keys.insert(ATTEMPT_NUMBER.to_string());
                    keys.insert(ATTEMPT_OUTCOME.to_string());
                }
                Some(status) => {
                    keys.insert(OPERATION_STATUS.to_string());
                    if step && status != "STARTED" {
                        keys.insert(ATTEMPT_NUMBER.to_string());
                    }
                }
            }
            keys
        }
    }
}

pub fn attribute(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.clone())
}

pub fn text(span: &SpanData, key: &str) -> Option<String> {
    attribute(span, key).map(|value| value.as_str().into_owned())
}

pub fn int(span: &SpanData, key: &str) -> Option<i64> {
    match attribute(span, key) {
        Some(Value::I64(value)) => Some(value),
        other => panic!("{key} of {} is {other:?}", span.name),
    }
}

pub fn boolean(span: &SpanData, key: &str) -> Option<bool> {
    match attribute(span, key) {
        Some(Value::Bool(value)) => Some(value),
        other => panic!("{key} of {} is {other:?}", span.name),
    }
}

/// Whether `child` lies inside `parent` in time.
pub fn inside(child: &SpanData, parent: &SpanData) -> bool {
    parent.start_time <= child.start_time && child.end_time <= parent.end_time
}

/// Whether `first` ended before `second` started.
pub fn before(first: &SpanData, second: &SpanData) -> bool {
    first.end_time <= second.start_time
}

/// A wire timestamp as a time.
pub fn time(timestamp: &lambda_durable::wire::Timestamp) -> SystemTime {
    SystemTime::UNIX_EPOCH
        + std::time::Duration::from_millis(u64::try_from(timestamp.epoch_millis()).unwrap())
}
pub mod scenarios;
