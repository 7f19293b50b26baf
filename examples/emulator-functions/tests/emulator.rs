//! End-to-end tests against AWS's local durable-execution emulator.
//!
//! Each test starts `dex-local-runner start-server` (PyPI `aws-durable-execution-sdk-python-testing`,
//! pinned in `emulator-requirements.txt`) on 127.0.0.1, serves the Lambda Invoke endpoint it
//! calls, and runs this crate's binary as the functions on the Lambda runtime API, the way
//! Lambda runs a deployed function. The SDK inside checkpoints and reads state through
//! `aws-sdk-lambda`, pointed at the emulator with `AWS_ENDPOINT_URL_LAMBDA` and dummy
//! credentials. The tests assert the final status and result, the emulator's history (event
//! types, order, operation names and details) and the invocations the functions answered;
//! where the SDK's local runner can run the same handler, they also compare its history with
//! the emulator's.
//!
//! The emulator comes from the Python virtual environment made by `.ci/emulator-setup.sh`
//! (`$DEX_EMULATOR_VENV`, else `target/dex-emulator`); a test creates it when it is missing.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, SystemTime};

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Event, EventType, ExecutionStatus};
use emulator_functions::{
    CALLBACKS, CHILD_CONTEXT, FAILING, INVOKE_CHILD, INVOKE_PARENT, MAP_ITEMS, PARALLEL_BRANCHES,
    PLAIN_DOUBLE, STEPS_RETRY, WAIT_BESIDE_STEP, WAIT_RESUME,
};
use lambda_durable_testing::LocalRunner;
use serde_json::{json, Value};
use support::{is_sdk_operation_id, outline, EventSummary, Finished, Harness, Kind};

/// How long an execution may take to finish.
const FINISH: Duration = Duration::from_secs(90);

/// Asserts what every execution must satisfy: each operation id (and parent id) in the
/// history and in every envelope our functions received has the SDK's format, since the
/// emulator does not check it (the service does).
fn assert_operation_ids(harness: &Harness, done: &Finished) {
    let ids = done.operation_ids();
    assert!(!ids.is_empty(), "no operation in {:#?}", done.outline());
    for id in ids {
        assert!(
            is_sdk_operation_id(id),
            "operation id {id:?} in the history"
        );
    }
    // Every call of the SDK went through aws-sdk-lambda (signed with the dummy
    // credentials) to the 2025-12-01 API, and the emulator accepted it.
    let calls = harness.service_calls(&done.arn);
    assert!(!calls.is_empty(), "no service call for {}", done.arn);
    for call in &calls {
        assert!(
            call.path.starts_with("/2025-12-01/durable-executions/"),
            "{call:?}"
        );
        assert!(
            call.authorization
                .as_deref()
                .is_some_and(|auth| auth.starts_with("AWS4-HMAC-SHA256 Credential=test/")),
            "{call:?}"
        );
        assert_eq!(call.status, 200, "{call:?}");
        assert!(
            call.method == "POST" && call.path.ends_with("/checkpoint")
                || call.method == "GET" && call.path.ends_with("/state"),
            "{call:?}"
        );
    }
    for update in updates(harness, &done.arn) {
        let id = update["Id"].as_str().unwrap_or("");
        assert!(
            update["Type"] == "EXECUTION" || is_sdk_operation_id(id),
            "update {update}"
        );
        if let Some(parent) = update.get("ParentId").and_then(Value::as_str) {
            assert!(is_sdk_operation_id(parent), "update {update}");
        }
    }
    let execution_id = done.arn.rsplit('/').next().unwrap();
    for record in harness.invocations(&done.arn) {
        for id in record.operation_ids {
            assert!(
                id == execution_id || is_sdk_operation_id(&id),
                "operation id {id:?} in an envelope"
            );
        }
    }
}

/// Every update the functions' SDK checkpointed for one execution, in order.
fn updates(harness: &Harness, arn: &str) -> Vec<Value> {
    harness
        .service_calls(arn)
        .into_iter()
        .filter(|call| call.path.ends_with("/checkpoint"))
        .flat_map(|call| call.body["Updates"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// The statuses our functions returned to the emulator for one execution, in order.
fn statuses(harness: &Harness, arn: &str) -> Vec<String> {
    harness
        .invocations(arn)
        .into_iter()
        .map(|record| {
            assert!(record.handler_invoke, "{record:?} is not a handler invoke");
            record.status
        })
        .collect()
}

/// The `(Id, event)` of the only event of `event_type` named `name`.
fn only<'a>(done: &'a Finished, event_type: &EventType, name: &str) -> &'a Event {
    let events: Vec<&Event> = done
        .events(event_type)
        .into_iter()
        .filter(|event| event.name() == Some(name))
        .collect();
    assert_eq!(
        events.len(),
        1,
        "{event_type:?} {name}: {:#?}",
        done.outline()
    );
    events[0]
}

fn timestamp(event: &Event) -> SystemTime {
    SystemTime::try_from(*event.event_timestamp().unwrap()).unwrap()
}

/// The outline of the history of the same handler run on the SDK's local runner, with its
/// status and result.
async fn local_outline<H, E, T, Err, Fut>(
    handler: H,
    input: Value,
) -> (
    Vec<String>,
    lambda_durable::wire::ExecutionStatus,
    Option<String>,
)
where
    H: Fn(E, lambda_durable::DurableContext) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<T, Err>> + Send + 'static,
    E: serde::de::DeserializeOwned,
    T: serde::Serialize,
    Err: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    let execution = LocalRunner::new(handler).run(input).await.unwrap();
    let events: Vec<EventSummary> = execution
        .history()
        .iter()
        .map(EventSummary::from_wire)
        .collect();
    (
        outline(&events),
        execution.status(),
        execution.raw_result().map(str::to_string),
    )
}

#[tokio::test]
async fn steps_with_a_retry() {
    let harness = Harness::builder("steps_with_a_retry")
        .function(STEPS_RETRY, Kind::Durable)
        .start()
        .await;
    let input = json!({"id": "o-1"});
    let arn = harness.start(STEPS_RETRY, &input).await;
    let done = harness.wait_finished(&arn, FINISH).await;

    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:#?}");
    assert_eq!(
        done.result_json(),
        json!({"order": "valid-o-1", "charge": "ch-valid-o-1", "attempt": 3})
    );
    assert_eq!(
        done.outline(),
        [
            "ExecutionStarted",
            "StepStarted Step validate",
            "StepSucceeded Step validate",
            "StepStarted Step charge",
            "StepFailed Step charge",
            "InvocationCompleted",
            "StepStarted Step charge",
            "StepFailed Step charge",
            "InvocationCompleted",
            "StepStarted Step charge",
            "StepSucceeded Step charge",
            "InvocationCompleted",
            "ExecutionSucceeded",
        ]
    );
    // Each failed attempt is recorded with its error and the retry delay.
    let failures = done.events(&EventType::StepFailed);
    for (attempt, event) in (1..).zip(&failures) {
        let details = event.step_failed_details().unwrap();
        let error = details.error().and_then(|error| error.payload()).unwrap();
        assert_eq!(
            error.error_type(),
            Some("emulator_functions::GatewayTimeout")
        );
        assert_eq!(
            error.error_message(),
            Some(format!("payment gateway timed out on attempt {attempt}").as_str())
        );
        let retry = details.retry_details().unwrap();
        assert_eq!(retry.current_attempt(), attempt);
        assert_eq!(retry.next_attempt_delay_seconds(), Some(2));
    }
    // The retry really waited: each attempt starts at least 2 s after the previous failure.
    let starts = done.events(&EventType::StepStarted);
    for (failure, next_start) in failures.iter().zip(&starts[2..]) {
        let gap = timestamp(next_start)
            .duration_since(timestamp(failure))
            .unwrap();
        assert!(gap >= Duration::from_millis(1950), "retried after {gap:?}");
    }
    let charged = done.events(&EventType::StepSucceeded)[1]
        .step_succeeded_details()
        .and_then(|details| details.result())
        .and_then(|result| result.payload())
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(charged).unwrap(),
        json!(["ch-valid-o-1", 3])
    );
    assert_eq!(
        statuses(&harness, &arn),
        ["PENDING", "PENDING", "SUCCEEDED"]
    );
    assert_operation_ids(&harness, &done);

    let (local, status, result) = local_outline(emulator_functions::steps_retry, input).await;
    assert_eq!(local, done.outline(), "local runner vs emulator");
    assert_eq!(status, lambda_durable::wire::ExecutionStatus::Succeeded);
    assert_eq!(
        serde_json::from_str::<Value>(&result.unwrap()).unwrap(),
        done.result_json()
    );
}

#[tokio::test]
async fn wait_suspends_and_resumes() {
    let harness = Harness::builder("wait_suspends_and_resumes")
        .function(WAIT_RESUME, Kind::Durable)
        .start()
        .await;
    let arn = harness.start(WAIT_RESUME, &json!({"label": "w"})).await;
    let done = harness.wait_finished(&arn, FINISH).await;

    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:#?}");
    // The first step's body ran once: the invocation after the wait replayed it.
    assert_eq!(
        done.result_json(),
        json!({"before": "before-w", "before_runs": 1})
    );
    assert_eq!(
        done.outline(),
        [
            "ExecutionStarted",
            "StepStarted Step before",
            "StepSucceeded Step before",
            "WaitStarted Wait pause",
            "InvocationCompleted",
            "WaitSucceeded Wait pause",
            "StepStarted Step after",
            "StepSucceeded Step after",
            "InvocationCompleted",
            "ExecutionSucceeded",
        ]
    );
    let started = only(&done, &EventType::WaitStarted, "pause");
    let details = started.wait_started_details().unwrap();
    assert_eq!(details.duration(), 2);
    let succeeded = only(&done, &EventType::WaitSucceeded, "pause");
    assert_eq!(
        succeeded
            .wait_succeeded_details()
            .and_then(|d| d.duration()),
        Some(2)
    );
    let waited = timestamp(succeeded)
        .duration_since(timestamp(started))
        .unwrap();
    assert!(waited >= Duration::from_millis(1950), "waited {waited:?}");
    // Suspended (PENDING), then invoked again by the emulator's timer, in the same process.
    assert_eq!(statuses(&harness, &arn), ["PENDING", "SUCCEEDED"]);
    assert_eq!(harness.process_starts(WAIT_RESUME), 1);
    assert_operation_ids(&harness, &done);

    let (local, status, _) =
        local_outline(emulator_functions::wait_resume, json!({"label": "w"})).await;
    assert_eq!(local, done.outline(), "local runner vs emulator");
    assert_eq!(status, lambda_durable::wire::ExecutionStatus::Succeeded);
}

#[tokio::test]
async fn a_wait_beside_a_running_step_resumes_in_place() {
    let harness = Harness::builder("a_wait_beside_a_running_step_resumes_in_place")
        .function(WAIT_BESIDE_STEP, Kind::Durable)
        .start()
        .await;
    let arn = harness.start(WAIT_BESIDE_STEP, &json!({})).await;
    let done = harness.wait_finished(&arn, FINISH).await;

    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:#?}");
    assert_eq!(done.result_json(), json!(["work", "timer"]));
    // One invocation: the SDK asked the emulator about the wait when it was due, while the
    // long step ran, and went on with the step after it.
    assert_eq!(
        statuses(&harness, &arn),
        ["SUCCEEDED"],
        "{:#?}",
        done.outline()
    );
    let waited = only(&done, &EventType::WaitSucceeded, "short wait");
    let after = only(&done, &EventType::StepSucceeded, "after the wait");
    let long = only(&done, &EventType::StepSucceeded, "long step");
    assert!(timestamp(after) <= timestamp(long), "{:#?}", done.outline());
    assert!(timestamp(waited) <= timestamp(after));
    assert_operation_ids(&harness, &done);
}

#[tokio::test]
async fn failing_workflow() {
    let harness = Harness::builder("failing_workflow")
        .function(FAILING, Kind::Durable)
        .start()
        .await;
    let input = json!({"id": "o-2"});
    let arn = harness.start(FAILING, &input).await;
    let done = harness.wait_finished(&arn, FINISH).await;

    assert_eq!(done.status, ExecutionStatus::Failed, "{done:#?}");
    assert_eq!(done.result, None);
    assert_eq!(done.error_type.as_deref(), Some("StepError"));
    assert_eq!(
        done.error_message.as_deref(),
        Some("card declined for order reserved-o-2")
    );
    assert_eq!(
        done.outline(),
        [
            "ExecutionStarted",
            "StepStarted Step reserve",
            "StepSucceeded Step reserve",
            "StepStarted Step charge",
            "StepFailed Step charge",
            "InvocationCompleted",
            "ExecutionFailed",
        ]
    );
    let step_error = only(&done, &EventType::StepFailed, "charge")
        .step_failed_details()
        .and_then(|details| details.error())
        .and_then(|error| error.payload())
        .unwrap();
    assert_eq!(
        step_error.error_type(),
        Some("emulator_functions::CardDeclined")
    );
    let execution_error = done.events(&EventType::ExecutionFailed)[0]
        .execution_failed_details()
        .and_then(|details| details.error())
        .and_then(|error| error.payload())
        .unwrap();
    assert_eq!(execution_error.error_type(), Some("StepError"));
    assert_eq!(
        execution_error.error_message(),
        Some("card declined for order reserved-o-2")
    );
    // The handler returned FAILED (no function error, no retry by the emulator).
    assert_eq!(statuses(&harness, &arn), ["FAILED"]);
    assert_operation_ids(&harness, &done);

    let (local, status, _) = local_outline(emulator_functions::failing, input).await;
    assert_eq!(local, done.outline(), "local runner vs emulator");
    assert_eq!(status, lambda_durable::wire::ExecutionStatus::Failed);
}

/// The id of the `CallbackStarted` event named `name`, once the invocation that created it
/// has ended (so the execution is suspended when the test completes it).
fn suspended_on(history: &[Event], name: &str) -> Option<String> {
    let position = history.iter().position(|event| {
        event.event_type() == Some(&EventType::CallbackStarted) && event.name() == Some(name)
    })?;
    history[position..]
        .iter()
        .any(|event| event.event_type() == Some(&EventType::InvocationCompleted))
        .then(|| {
            history[position]
                .callback_started_details()
                .map(|details| details.callback_id().to_string())
        })
        .flatten()
}

#[tokio::test]
async fn callbacks_completed_through_the_emulator() {
    let harness = Harness::builder("callbacks")
        .function(CALLBACKS, Kind::Durable)
        .start()
        .await;
    let arn = harness.start(CALLBACKS, &json!({"id": "o-3"})).await;
    let client = harness.client();

    let approval = harness
        .wait_for_history(&arn, FINISH, |history| suspended_on(history, "approval"))
        .await;
    client
        .send_durable_execution_callback_success()
        .callback_id(&approval)
        .result(Blob::new(br#"{"approved":true,"by":"alice"}"#.to_vec()))
        .send()
        .await
        .unwrap();

    let signature = harness
        .wait_for_history(&arn, FINISH, |history| {
            suspended_on(history, "signature create callback id")
        })
        .await;
    client
        .send_durable_execution_callback_heartbeat()
        .callback_id(&signature)
        .send()
        .await
        .unwrap();
    client
        .send_durable_execution_callback_success()
        .callback_id(&signature)
        .result(Blob::new(br#""signed-by-bob""#.to_vec()))
        .send()
        .await
        .unwrap();

    let veto = harness
        .wait_for_history(&arn, FINISH, |history| suspended_on(history, "veto"))
        .await;
    client
        .send_durable_execution_callback_failure()
        .callback_id(&veto)
        .error(
            aws_sdk_lambda::types::ErrorObject::builder()
                .error_type("Vetoed")
                .error_message("too expensive")
                .build(),
        )
        .send()
        .await
        .unwrap();
    // A finished callback cannot be completed again.
    let again = client
        .send_durable_execution_callback_success()
        .callback_id(&approval)
        .result(Blob::new(b"{}".to_vec()))
        .send()
        .await;
    assert!(again.is_err(), "completing a callback twice: {again:?}");

    let done = harness.wait_finished(&arn, FINISH).await;
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:#?}");
    assert_eq!(
        done.result_json(),
        json!({
            "approval": {"approved": true, "by": "alice"},
            "signature": "signed-by-bob",
            "submitted": 3,
            "veto": "Vetoed: too expensive",
        })
    );
    assert_eq!(
        done.outline(),
        [
            "ExecutionStarted",
            "CallbackStarted Callback approval",
            "StepStarted Step request approval",
            "StepSucceeded Step request approval",
            "InvocationCompleted",
            "CallbackSucceeded Callback approval",
            "StepStarted Step prepare signature",
            "StepSucceeded Step prepare signature",
            "ContextStarted WaitForCallback signature",
            "CallbackStarted Callback signature create callback id (in signature)",
            "StepStarted Step signature submitter (in signature)",
            "StepSucceeded Step signature submitter (in signature)",
            "InvocationCompleted",
            "CallbackSucceeded Callback signature create callback id (in signature)",
            "ContextSucceeded WaitForCallback signature",
            "CallbackStarted Callback veto",
            "InvocationCompleted",
            "CallbackFailed Callback veto",
            "InvocationCompleted",
            "ExecutionSucceeded",
        ]
    );
    let started = only(
        &done,
        &EventType::CallbackStarted,
        "signature create callback id",
    )
    .callback_started_details()
    .unwrap();
    assert_eq!(started.callback_id(), signature);
    // The emulator's history leaves out the callback's timeouts (it records them only when
    // it has the update at hand); check what the SDK sent instead.
    let options: Vec<(String, Value)> = updates(&harness, &arn)
        .into_iter()
        .filter(|update| update["Type"] == "CALLBACK" && update["Action"] == "START")
        .map(|update| {
            (
                update["Name"].as_str().unwrap_or("").to_string(),
                update["CallbackOptions"].clone(),
            )
        })
        .collect();
    assert_eq!(
        options,
        [
            ("approval".to_string(), json!({"TimeoutSeconds": 60})),
            (
                "signature create callback id".to_string(),
                json!({"TimeoutSeconds": 60, "HeartbeatTimeoutSeconds": 30})
            ),
            ("veto".to_string(), json!({"TimeoutSeconds": 60})),
        ]
    );
    let approved = only(&done, &EventType::CallbackSucceeded, "approval")
        .callback_succeeded_details()
        .and_then(|details| details.result())
        .and_then(|result| result.payload())
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(approved).unwrap(),
        json!({"approved": true, "by": "alice"})
    );
    let vetoed = only(&done, &EventType::CallbackFailed, "veto")
        .callback_failed_details()
        .and_then(|details| details.error())
        .and_then(|error| error.payload())
        .unwrap();
    assert_eq!(vetoed.error_type(), Some("Vetoed"));
    assert_eq!(vetoed.error_message(), Some("too expensive"));
    assert_eq!(
        statuses(&harness, &arn),
        ["PENDING", "PENDING", "PENDING", "SUCCEEDED"]
    );
    assert_operation_ids(&harness, &done);
}

#[tokio::test]
async fn chained_invokes() {
    let harness = Harness::builder("chained_invokes")
        .function(INVOKE_PARENT, Kind::Durable)
        .function(INVOKE_CHILD, Kind::Durable)
        .function(FAILING, Kind::Durable)
        .function(PLAIN_DOUBLE, Kind::Plain)
        .start()
        .await;
    let arn = harness.start(INVOKE_PARENT, &json!({"id": "o-4"})).await;
    let done = harness.wait_finished(&arn, FINISH).await;

    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:#?}");
    assert_eq!(
        done.result_json(),
        json!({
            "child": {"got": {"order": "o-4"}, "computed": "computed-o-4"},
            "doubled": {"doubled": 42},
            "failed": "StepError: card declined for order reserved-o-4",
        })
    );
    assert_eq!(
        done.outline(),
        [
            "ExecutionStarted",
            "ChainedInvokeStarted ChainedInvoke call child",
            "InvocationCompleted",
            "ChainedInvokeSucceeded ChainedInvoke call child",
            "ChainedInvokeStarted ChainedInvoke call plain",
            "InvocationCompleted",
            "ChainedInvokeSucceeded ChainedInvoke call plain",
            "ChainedInvokeStarted ChainedInvoke call failing",
            "InvocationCompleted",
            "ChainedInvokeFailed ChainedInvoke call failing",
            "InvocationCompleted",
            "ExecutionSucceeded",
        ]
    );
    assert_eq!(
        statuses(&harness, &arn),
        ["PENDING", "PENDING", "PENDING", "SUCCEEDED"]
    );
    assert_operation_ids(&harness, &done);

    // The durable targets ran as executions of their own, started by the emulator.
    let child_arn = |name: &str| {
        let details = only(&done, &EventType::ChainedInvokeStarted, name)
            .chained_invoke_started_details()
            .unwrap();
        (
            details.function_name().to_string(),
            details.durable_execution_arn().map(str::to_string),
        )
    };
    let (function, child) = child_arn("call child");
    assert_eq!(function, INVOKE_CHILD);
    let child = harness.wait_finished(&child.unwrap(), FINISH).await;
    assert_eq!(child.status, ExecutionStatus::Succeeded);
    assert_eq!(
        child.outline(),
        [
            "ExecutionStarted",
            "StepStarted Step compute",
            "StepSucceeded Step compute",
            "InvocationCompleted",
            "ExecutionSucceeded",
        ]
    );
    assert_eq!(statuses(&harness, &child.arn), ["SUCCEEDED"]);
    assert_operation_ids(&harness, &child);

    let (function, failing) = child_arn("call failing");
    assert_eq!(function, FAILING);
    let failing = harness.wait_finished(&failing.unwrap(), FINISH).await;
    assert_eq!(failing.status, ExecutionStatus::Failed);
    assert_eq!(statuses(&harness, &failing.arn), ["FAILED"]);
    let failed = only(&done, &EventType::ChainedInvokeFailed, "call failing")
        .chained_invoke_failed_details()
        .and_then(|details| details.error())
        .and_then(|error| error.payload())
        .unwrap();
    assert_eq!(failed.error_type(), Some("StepError"));

    // The plain function was invoked once, as a plain Invoke, with the payload.
    let (function, plain) = child_arn("call plain");
    assert_eq!((function.as_str(), plain), (PLAIN_DOUBLE, None));
    let plain: Vec<_> = harness
        .all_invocations()
        .into_iter()
        .filter(|record| record.function == PLAIN_DOUBLE)
        .collect();
    assert_eq!(plain.len(), 1, "{plain:?}");
    assert!(!plain[0].handler_invoke && plain[0].execution_arn.is_none());
}

#[tokio::test]
async fn child_context_suspends_inside() {
    let harness = Harness::builder("child_context")
        .function(CHILD_CONTEXT, Kind::Durable)
        .start()
        .await;
    let input = json!({"id": "o-5"});
    let arn = harness.start(CHILD_CONTEXT, &input).await;
    let done = harness.wait_finished(&arn, FINISH).await;

    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:#?}");
    assert_eq!(done.result_json(), json!(["first-o-5", "second", "last"]));
    assert_eq!(
        done.outline(),
        [
            "ExecutionStarted",
            "ContextStarted RunInChildContext group",
            "StepStarted Step first (in group)",
            "StepSucceeded Step first (in group)",
            "WaitStarted Wait nap (in group)",
            "InvocationCompleted",
            "WaitSucceeded Wait nap (in group)",
            "StepStarted Step second (in group)",
            "StepSucceeded Step second (in group)",
            "ContextSucceeded RunInChildContext group",
            "StepStarted Step after group",
            "StepSucceeded Step after group",
            "InvocationCompleted",
            "ExecutionSucceeded",
        ]
    );
    let group = only(&done, &EventType::ContextSucceeded, "group")
        .context_succeeded_details()
        .and_then(|details| details.result())
        .and_then(|result| result.payload())
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(group).unwrap(),
        json!(["first-o-5", "second"])
    );
    assert_eq!(statuses(&harness, &arn), ["PENDING", "SUCCEEDED"]);
    assert_operation_ids(&harness, &done);

    let (local, status, _) = local_outline(emulator_functions::child_context, input).await;
    assert_eq!(local, done.outline(), "local runner vs emulator");
    assert_eq!(status, lambda_durable::wire::ExecutionStatus::Succeeded);
}

/// Asserts that `first` comes before `second` in `outline`.
fn before(outline: &[String], first: &str, second: &str) {
    let find = |line: &str| {
        outline
            .iter()
            .position(|candidate| candidate == line)
            .unwrap_or_else(|| panic!("no {line:?} in {outline:#?}"))
    };
    assert!(
        find(first) < find(second),
        "{first:?} is not before {second:?} in {outline:#?}"
    );
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    lines.sort();
    lines
}

#[tokio::test]
async fn map_over_items() {
    let harness = Harness::builder("map")
        .function(MAP_ITEMS, Kind::Durable)
        .start()
        .await;
    let input = json!({"items": ["a", "b", "c"]});
    let arn = harness.start(MAP_ITEMS, &input).await;
    let done = harness.wait_finished(&arn, FINISH).await;

    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:#?}");
    assert_eq!(done.result_json(), json!(["0:A", "1:B", "2:C"]));
    let outline = done.outline();
    // Items run concurrently (two at a time), so only the order within an item and the
    // nesting are fixed.
    assert_eq!(
        outline.first().map(String::as_str),
        Some("ExecutionStarted")
    );
    assert_eq!(
        outline[outline.len() - 3..],
        [
            "ContextSucceeded Map shout",
            "InvocationCompleted",
            "ExecutionSucceeded",
        ]
    );
    let mut expected = vec![
        "ExecutionStarted".to_string(),
        "ContextStarted Map shout".to_string(),
        "ContextSucceeded Map shout".to_string(),
        "InvocationCompleted".to_string(),
        "ExecutionSucceeded".to_string(),
    ];
    for item in 0..3 {
        let lines = [
            format!("ContextStarted MapIteration map-item-{item} (in shout)"),
            format!("StepStarted Step upper (in map-item-{item})"),
            format!("StepSucceeded Step upper (in map-item-{item})"),
            format!("ContextSucceeded MapIteration map-item-{item} (in shout)"),
        ];
        before(&outline, "ContextStarted Map shout", &lines[0]);
        for pair in lines.windows(2) {
            before(&outline, &pair[0], &pair[1]);
        }
        before(&outline, &lines[3], "ContextSucceeded Map shout");
        expected.extend(lines);
    }
    assert_eq!(sorted(outline.clone()), sorted(expected));
    // At most two items at a time: the third starts after one of the first two finished.
    let third = outline
        .iter()
        .position(|line| line == "ContextStarted MapIteration map-item-2 (in shout)")
        .unwrap();
    assert!(
        outline[..third]
            .iter()
            .any(|line| line.starts_with("ContextSucceeded MapIteration")),
        "{outline:#?}"
    );
    assert_eq!(statuses(&harness, &arn), ["SUCCEEDED"]);
    assert_operation_ids(&harness, &done);

    let (local, status, _) = local_outline(emulator_functions::map_items, input).await;
    assert_eq!(
        sorted(local),
        sorted(done.outline()),
        "local runner vs emulator"
    );
    assert_eq!(status, lambda_durable::wire::ExecutionStatus::Succeeded);
}

#[tokio::test]
async fn parallel_branches() {
    let harness = Harness::builder("parallel")
        .function(PARALLEL_BRANCHES, Kind::Durable)
        .start()
        .await;
    let arn = harness.start(PARALLEL_BRANCHES, &json!({})).await;
    let done = harness.wait_finished(&arn, FINISH).await;

    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:#?}");
    assert_eq!(done.result_json(), json!(["L", "R"]));
    let outline = done.outline();
    let expected = [
        "ExecutionStarted",
        "ContextStarted Parallel both",
        "ContextStarted ParallelBranch left (in both)",
        "StepStarted Step left step (in left)",
        "StepSucceeded Step left step (in left)",
        "ContextSucceeded ParallelBranch left (in both)",
        "ContextStarted ParallelBranch right (in both)",
        "WaitStarted Wait right wait (in right)",
        "InvocationCompleted",
        "WaitSucceeded Wait right wait (in right)",
        "StepStarted Step right step (in right)",
        "StepSucceeded Step right step (in right)",
        "ContextSucceeded ParallelBranch right (in both)",
        "ContextSucceeded Parallel both",
        "InvocationCompleted",
        "ExecutionSucceeded",
    ];
    assert_eq!(
        sorted(outline.clone()),
        sorted(expected.iter().map(|line| line.to_string()).collect())
    );
    // Within a branch the order is fixed; the right branch suspended on its wait, and
    // resumed in a second invocation.
    for branch in [&expected[2..6], &expected[6..13]] {
        for pair in branch.windows(2) {
            if pair.contains(&"InvocationCompleted") {
                continue;
            }
            before(&outline, pair[0], pair[1]);
        }
    }
    before(
        &outline,
        "WaitStarted Wait right wait (in right)",
        "InvocationCompleted",
    );
    before(
        &outline,
        "InvocationCompleted",
        "WaitSucceeded Wait right wait (in right)",
    );
    assert_eq!(
        outline[outline.len() - 3..],
        [
            "ContextSucceeded Parallel both",
            "InvocationCompleted",
            "ExecutionSucceeded",
        ]
    );
    assert_eq!(statuses(&harness, &arn), ["PENDING", "SUCCEEDED"]);
    assert_operation_ids(&harness, &done);

    let (local, status, _) = local_outline(emulator_functions::parallel_branches, json!({})).await;
    assert_eq!(
        sorted(local),
        sorted(done.outline()),
        "local runner vs emulator"
    );
    assert_eq!(status, lambda_durable::wire::ExecutionStatus::Succeeded);
}

#[tokio::test]
async fn an_invalid_token_fails_the_invocation_and_the_emulator_invokes_again() {
    let harness = Harness::builder("invalid_token")
        .function(INVOKE_CHILD, Kind::Durable)
        .corrupt_first_invocation_tokens()
        .start()
        .await;
    let arn = harness.start(INVOKE_CHILD, &json!({"order": "o-6"})).await;
    let done = harness.wait_finished(&arn, FINISH).await;

    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:#?}");
    assert_eq!(
        done.result_json(),
        json!({"got": {"order": "o-6"}, "computed": "computed-o-6"})
    );
    // The emulator's 400 (a body without an error code) was read as an invalid checkpoint
    // token: the SDK retried the call, then ended the invocation with a function error
    // (through the runtime API's /error) so that the emulator invoked it again.
    let calls = harness.service_calls(&arn);
    let rejected = calls.iter().take_while(|call| call.status == 400).count();
    assert!(rejected >= 2, "{calls:#?}");
    assert!(
        calls[rejected..].iter().all(|call| call.status == 200),
        "{calls:#?}"
    );
    assert_eq!(statuses(&harness, &arn), ["FunctionError", "SUCCEEDED"]);
    // The emulator records no event for the failed invocation (the service records an
    // InvocationCompleted with the error); nothing of it was applied.
    assert_eq!(
        done.outline(),
        [
            "ExecutionStarted",
            "StepStarted Step compute",
            "StepSucceeded Step compute",
            "InvocationCompleted",
            "ExecutionSucceeded",
        ]
    );
}

#[tokio::test]
async fn the_harness_leaves_nothing_running() {
    let harness = Harness::builder("cleanup")
        .function(WAIT_RESUME, Kind::Durable)
        .start()
        .await;
    // Leave an execution suspended on its wait, with the function's process started.
    let arn = harness.start(WAIT_RESUME, &json!({"label": "c"})).await;
    harness
        .wait_for_history(&arn, FINISH, |history| {
            history
                .iter()
                .any(|event| event.event_type() == Some(&EventType::WaitStarted))
                .then_some(())
        })
        .await;
    let pids = harness.pids();
    assert_eq!(pids.len(), 2, "the emulator and one function process");
    for pid in &pids {
        assert!(
            std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "{pid} runs"
        );
    }
    drop(harness);
    for pid in pids {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} is still there after the harness was dropped"
        );
    }
}
