//! The replay-aware loggers: records made while replaying are dropped unless the runtime
//! (or the local runner) logs during replay, and every record carries the execution ARN,
//! the Lambda request id and tenant id, and the operation it was made in.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use lambda_durable::lambda_runtime::{Context, LambdaEvent, Service};
use lambda_durable::wire::{ExecutionStatus, InvocationStatus};
use lambda_durable::{DurableContext, Error, Runtime};
use lambda_durable_testing::LocalRunner;
use serde_json::json;
use support::{envelope, execution_operation, operation_id, Capture, Echo, ARN};

/// Logs before and after a wait, in a step and in a child context.
async fn workflow(_: (), ctx: DurableContext) -> Result<(), Error> {
    ctx.logger().info("before the wait");
    ctx.step("charge", |step| async move {
        step.logger().info("charging");
        Ok::<_, std::io::Error>(())
    })
    .await?;
    ctx.wait("cool off", Duration::from_secs(60)).await?;
    ctx.logger().info("after the wait");
    ctx.run_in_child_context("ship", |child| async move {
        child.logger().warn("shipping");
        Ok::<_, Error>(())
    })
    .await
}

#[tokio::test(flavor = "current_thread")]
async fn records_made_while_replaying_are_dropped() {
    let (capture, _guard) = Capture::on_this_thread();
    let execution = LocalRunner::new(workflow).run(()).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    // The second invocation replays up to the wait: its "before the wait" is dropped, and
    // the step's body does not run again.
    assert_eq!(execution.invocations(), 2);
    assert_eq!(
        capture.messages(),
        ["before the wait", "charging", "after the wait", "shipping"]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_local_runner_can_log_during_replay() {
    let (capture, _guard) = Capture::on_this_thread();
    let execution = LocalRunner::new(workflow)
        .log_during_replay(true)
        .run(())
        .await
        .unwrap();
    assert_eq!(execution.invocations(), 2);
    // Replayed steps still do not run their bodies, so "charging" is logged once.
    assert_eq!(
        capture.messages(),
        [
            "before the wait",
            "charging",
            "before the wait",
            "after the wait",
            "shipping"
        ]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn records_carry_the_execution_and_the_operation() {
    let (capture, _guard) = Capture::on_this_thread();
    let execution = LocalRunner::new(workflow).run(()).await.unwrap();

    let root = capture.only("before the wait");
    assert_eq!(root.level, tracing::Level::INFO);
    assert_eq!(root.field("durable.execution.arn"), Some(execution.arn()));
    for absent in [
        "durable.operation.id",
        "durable.operation.name",
        "durable.attempt.number",
        "durable.operation.parent_id",
        "request_id",
        "tenant_id",
    ] {
        assert_eq!(root.field(absent), None, "{absent} in {root:?}");
    }

    let step = capture.only("charging");
    assert_eq!(step.field("durable.execution.arn"), Some(execution.arn()));
    assert_eq!(
        step.field("durable.operation.id"),
        Some(operation_id("1").as_str())
    );
    assert_eq!(step.field("durable.operation.name"), Some("charge"));
    assert_eq!(step.field("durable.attempt.number"), Some("1"));

    let child = capture.only("shipping");
    assert_eq!(child.level, tracing::Level::WARN);
    assert_eq!(
        child.field("durable.operation.parent_id"),
        Some(operation_id("3").as_str())
    );
    assert_eq!(child.field("durable.operation.id"), None);
}

/// Replays a recorded step between two records, on the Lambda path.
async fn greeter(name: String, ctx: DurableContext) -> Result<String, Error> {
    ctx.logger().info("while replaying");
    let greeting: String = ctx
        .step("greet", |_| async move {
            Ok::<_, std::io::Error>(format!("hello {name}"))
        })
        .await?;
    ctx.logger().info("after replaying");
    Ok(greeting)
}

/// A Lambda event whose envelope records the `greet` step as done, with a request id and a
/// tenant id in its context.
fn replaying_event() -> LambdaEvent<serde_json::Value> {
    let step = json!({
        "Id": operation_id("1"), "Type": "STEP", "SubType": "Step", "Name": "greet",
        "Status": "SUCCEEDED", "StartTimestamp": 1_767_225_601, "EndTimestamp": 1_767_225_602,
        "StepDetails": {"Attempt": 1, "Result": "\"hello world\""}
    });
    let mut context = Context::default();
    context.request_id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd".to_owned();
    context.tenant_id = Some("tenant-7".to_owned());
    LambdaEvent::new(
        envelope(&[execution_operation(&json!("world")), step]),
        context,
    )
}

#[tokio::test(flavor = "current_thread")]
async fn on_lambda_records_carry_the_request_and_the_tenant_and_replay_is_quiet() {
    let (capture, _guard) = Capture::on_this_thread();
    let mut function = Runtime::builder()
        .durable_service(Echo::default())
        .build()
        .unwrap()
        .into_service(greeter)
        .await;
    let output = function.call(replaying_event()).await.unwrap();
    assert_eq!(output.status, InvocationStatus::Succeeded);
    assert_eq!(output.result.as_deref(), Some("\"hello world\""));

    assert_eq!(capture.messages(), ["after replaying"]);
    let record = capture.only("after replaying");
    assert_eq!(record.field("durable.execution.arn"), Some(ARN));
    assert_eq!(
        record.field("request_id"),
        Some("8476a536-e9f4-11e8-9739-2dfe598c3fcd")
    );
    assert_eq!(record.field("tenant_id"), Some("tenant-7"));
}

#[tokio::test(flavor = "current_thread")]
async fn the_runtime_can_log_during_replay() {
    let (capture, _guard) = Capture::on_this_thread();
    let mut function = Runtime::builder()
        .durable_service(Echo::default())
        .log_during_replay(true)
        .build()
        .unwrap()
        .into_service(greeter)
        .await;
    let output = function.call(replaying_event()).await.unwrap();
    assert_eq!(output.status, InvocationStatus::Succeeded);
    assert_eq!(capture.messages(), ["while replaying", "after replaying"]);
    let replayed = capture.only("while replaying");
    assert_eq!(replayed.field("tenant_id"), Some("tenant-7"));
}

/// A writer the test reads back.
#[derive(Clone, Default)]
struct Lines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Lines {
    type Writer = Lines;

    fn make_writer(&'a self) -> Lines {
        self.clone()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_json_format_puts_the_message_and_the_execution_arn_at_the_top_level() {
    use lambda_durable::logging::DurableJson;
    use tracing_subscriber::fmt::format::JsonFields;

    let lines = Lines::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .fmt_fields(JsonFields::new())
        .event_format(DurableJson::default().enrich(
            |record: &mut serde_json::Map<String, serde_json::Value>| {
                let fields = record.len();
                record.insert("fieldsBefore".into(), fields.into());
            },
        ))
        .with_writer(lines.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let execution = LocalRunner::new(workflow).run(()).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let charging = records
        .iter()
        .find(|record| record["message"] == "charging")
        .unwrap_or_else(|| panic!("no charging record in {text}"));
    assert_eq!(charging["executionArn"], execution.arn());
    assert_eq!(charging["operationName"], "charge");
    assert_eq!(charging["attempt"], json!(1));
    // The fields of the step's `tracing` span, under their JSON names.
    assert_eq!(charging["operationType"], "STEP", "{charging}");
    assert_eq!(charging["operationSubtype"], "Step", "{charging}");
    // The enricher ran last, on the complete record.
    assert!(
        charging["fieldsBefore"].as_u64().is_some_and(|n| n >= 10),
        "{charging}"
    );
    assert_eq!(charging["level"], "INFO");
    assert!(charging.get("fields").is_none(), "{charging}");
    assert!(charging["timestamp"]
        .as_str()
        .is_some_and(|ts| ts.ends_with('Z')));
    let shipping = records
        .iter()
        .find(|record| record["message"] == "shipping")
        .unwrap();
    assert_eq!(shipping["level"], "WARN");
    assert_eq!(
        shipping["parentId"],
        execution.operation("ship").unwrap().id.as_str()
    );
    // Every record the handler made says which execution it belongs to.
    for (message, first) in [("before the wait", true), ("after the wait", false)] {
        let record = records.iter().find(|r| r["message"] == message).unwrap();
        assert_eq!(record["executionArn"], execution.arn(), "{record}");
        assert_eq!(record["invocationFirst"], first, "{record}");
    }
}
