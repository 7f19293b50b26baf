//! The service's size limits, driven through the local runner: requests are split by
//! their exact JSON size, oversized errors are truncated instead of failing the
//! checkpoint, and oversized payloads fail at the operation that produced them.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lambda_durable::retry::presets;
use lambda_durable::wait_strategy::WaitStrategyConfig;
use lambda_durable::wire::{ErrorObject, EventType, ExecutionStatus, OperationStatus};
use lambda_durable::{DurableContext, Error};
use lambda_durable_testing::{CallbackResponse, LocalRunner};
use serde_json::{json, Value};

/// The limit the local runners put on a checkpointed ErrorObject, as JSON.
const MAX_ERROR_BYTES: usize = 32_768;
/// The payload limit of steps, invokes and wait-for-condition states.
const MAX_PAYLOAD_BYTES: usize = 1_048_576;

/// Text whose JSON is much larger than itself: quotes and backslashes double, control
/// characters take six bytes (and seven once the payload is itself a JSON string), and
/// non-ASCII characters take two to four bytes without escaping.
fn escaping_text(len: usize) -> String {
    let pattern = ['"', '\\', '\u{1}', '\n', 'é', '😀', '"', '"'];
    pattern.iter().cycle().take(len).collect()
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Huge(String);

// ---------------------------------------------------------------------------------------
// 8. Requests are split by their exact size
// ---------------------------------------------------------------------------------------

/// Child contexts queue their SUCCEED without waiting, so they are batched. Each result
/// here is 110 KB as a payload (under the 256 KiB ReplayChildren threshold) and 160 KB
/// once the update is serialized: an estimate that undercounts escaping puts all five in
/// one request, over the service's limit.
#[tokio::test]
async fn updates_full_of_escaped_characters_are_split_into_requests_the_service_accepts() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let mut lengths = Vec::new();
        for i in 0..5 {
            let text: String = ctx
                .run_in_child_context(format!("part {i}"), |_child| async move {
                    Ok::<_, Error>(escaping_text(40_000))
                })
                .await?;
            lengths.push(text.chars().count());
        }
        Ok::<_, Error>(lengths)
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(execution.result::<Vec<usize>>().unwrap(), vec![40_000; 5]);
    let stats = execution.stats();
    // Each SUCCEED is 110 KB of payload and 160 KB as JSON: together more than one
    // request of at most 750 KiB holds.
    assert!(stats.update_bytes > 750 * 1024, "{stats:?}");
    assert!(stats.checkpoint_calls >= 2, "{stats:?}");
    assert_eq!(stats.updates, 10, "{stats:?}");
}

// ---------------------------------------------------------------------------------------
// 9. Oversized errors are truncated
// ---------------------------------------------------------------------------------------

/// A step error whose JSON is over the service's error limit is truncated and goes
/// through the retry strategy, instead of failing the execution as a checkpoint error.
#[tokio::test]
async fn an_oversized_step_error_is_retried() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        ctx.step("flaky", |step| async move {
            if step.attempt() == 1 {
                return Err(Huge(escaping_text(30_000)));
            }
            Ok(step.attempt())
        })
        .retry(presets::fixed(Duration::from_secs(1)))
        .await
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(execution.result::<u32>().unwrap(), 2);
    assert_eq!(execution.invocations(), 2);
}

/// When the strategy gives up, the step fails with the truncated error: valid JSON within
/// the limit, the start of the message kept, and a note that it was truncated. The first
/// run and the replay see the same error.
#[tokio::test]
async fn an_oversized_step_error_fails_the_step_truncated_and_replays_the_same() {
    let message = format!("card declined: {}", escaping_text(30_000));
    let seen: Arc<Mutex<Vec<ErrorObject>>> = Arc::default();
    let (text, log) = (message.clone(), Arc::clone(&seen));
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let (text, log) = (text.clone(), Arc::clone(&log));
        async move {
            let failed = ctx
                .step("charge", |_| async move { Err::<(), _>(Huge(text)) })
                .retry(presets::none())
                .await
                .unwrap_err();
            log.lock().unwrap().push(failed.to_error_object());
            // Suspend once, so that the step is replayed.
            ctx.wait("pause", Duration::from_secs(1)).await?;
            Err::<(), _>(failed)
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "first run and replay");
    assert_eq!(seen[0], seen[1], "the replay sees the first run's error");

    let recorded = execution
        .operation("charge")
        .and_then(|op| op.step_details.as_ref())
        .and_then(|details| details.error.clone())
        .unwrap();
    assert_eq!(recorded.error_type.as_deref(), Some("limits::Huge"));
    let json = serde_json::to_string(&recorded).unwrap();
    assert!(json.len() <= MAX_ERROR_BYTES, "{} bytes", json.len());
    let back: ErrorObject = serde_json::from_str(&json).unwrap();
    assert_eq!(back, recorded);
    let kept = recorded.error_message.as_deref().unwrap();
    assert!(
        kept.starts_with("card declined: \"\\\u{1}\né😀"),
        "{kept:.40}"
    );
    assert!(kept.contains("truncated"), "{kept}");
    assert!(message.starts_with(kept.split(" [truncated").next().unwrap()));

    // The execution fails with the StepError wrapper of the same (truncated) error.
    let error = execution.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("StepError"));
    assert_eq!(error.error_message, recorded.error_message);
    assert!(serde_json::to_string(error).unwrap().len() <= MAX_ERROR_BYTES);
}

/// A handler error over the limit is truncated in the output too.
#[tokio::test]
async fn an_oversized_handler_error_is_truncated() {
    let runner = LocalRunner::new(|_: Value, _ctx: DurableContext| async move {
        Err::<(), _>(Huge("x".repeat(7 * 1024 * 1024)))
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let error = execution.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("limits::Huge"));
    assert!(serde_json::to_string(error).unwrap().len() <= MAX_ERROR_BYTES);
    assert!(error
        .error_message
        .as_deref()
        .unwrap()
        .contains("truncated"));
}

/// The external system may fail a callback with an error of up to 1 MiB; wait_for_callback
/// records it as the failure of its child context, where the 32 KiB limit applies.
#[tokio::test]
async fn an_oversized_callback_failure_is_truncated_where_it_is_checkpointed() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let result = ctx
            .wait_for_callback::<String, _, _>("signature", |_id, _step| async {
                Ok::<_, Error>(())
            })
            .await;
        let error = result.unwrap_err();
        Ok::<_, Error>(json!({ "type": error.error_type(), "object": error.to_error_object() }))
    })
    .on_callback(
        "signature",
        CallbackResponse::failure("Vetoed", &escaping_text(100_000)),
    );
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    let seen: Value = execution.result().unwrap();
    assert_eq!(seen["type"], "CallbackError", "{seen:.200}");
    let object: ErrorObject = serde_json::from_value(seen["object"].clone()).unwrap();
    assert!(serde_json::to_string(&object).unwrap().len() <= MAX_ERROR_BYTES);
    let message = object.error_message.as_deref().unwrap();
    assert!(message.starts_with("\"\\\u{1}\né😀"), "{message:.40}");
    assert!(message.contains("truncated"));
    let context = execution.operation("signature").unwrap();
    assert_eq!(context.status, OperationStatus::Failed);
}

// ---------------------------------------------------------------------------------------
// 10. Oversized payloads fail at the operation
// ---------------------------------------------------------------------------------------

/// What the handler saw: the error's type and message, or "ok".
fn outcome<T>(result: Result<T, Error>) -> Value {
    match result {
        Ok(_) => json!("ok"),
        Err(err) => json!({ "type": err.error_type(), "message": err.to_string() }),
    }
}

fn assert_too_large(seen: &Value, operation: &str, size: usize) {
    assert_eq!(seen["type"], "PayloadTooLargeError", "{seen}");
    let message = seen["message"].as_str().unwrap();
    assert!(message.contains(operation), "{message}");
    assert!(message.contains(&format!("{size} bytes")), "{message}");
    assert!(
        message.contains(&format!("at most {MAX_PAYLOAD_BYTES} bytes")),
        "{message}"
    );
}

#[tokio::test]
async fn an_oversized_step_result_fails_at_the_step() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        // Its JSON (with the two quotes) is one byte over the limit.
        let over = ctx
            .step("too big", |_| async {
                Ok::<_, Error>("x".repeat(MAX_PAYLOAD_BYTES - 1))
            })
            .await;
        // Exactly at the limit is accepted, here and by the service.
        let at = ctx
            .step("just fits", |_| async {
                Ok::<_, Error>("y".repeat(MAX_PAYLOAD_BYTES - 2))
            })
            .await
            .map(|text| text.len());
        Ok::<_, Error>(json!([outcome(over), at?]))
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    let result: Value = execution.result().unwrap();
    assert_too_large(&result[0], "step \"too big\"", MAX_PAYLOAD_BYTES + 1);
    assert_eq!(result[1], MAX_PAYLOAD_BYTES - 2);
    let fits = execution.operation("just fits").unwrap();
    assert_eq!(fits.status, OperationStatus::Succeeded);
    // Nothing was checkpointed as the oversized step's result.
    assert!(execution
        .operation("too big")
        .is_none_or(|op| op.status != OperationStatus::Succeeded));
}

#[tokio::test]
async fn an_oversized_invoke_payload_fails_at_the_invoke() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let big = escaping_text(400_000);
        let result = ctx
            .invoke::<Value>("label", "shipping-labels", json!({ "text": big }))
            .await;
        Ok::<_, Error>(outcome(result))
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    let seen: Value = execution.result().unwrap();
    let size = serde_json::to_string(&json!({ "text": escaping_text(400_000) }))
        .unwrap()
        .len();
    assert_too_large(&seen, "invoke \"label\"", size);
    // The invoke never started.
    assert!(!execution
        .history()
        .iter()
        .any(|event| event.event_type == EventType::ChainedInvokeStarted));
}

#[tokio::test]
async fn an_oversized_condition_state_fails_at_the_operation() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let result = ctx
            .wait_for_condition("grow", String::new(), |_state, _step| async {
                Ok::<_, Error>("z".repeat(2 * MAX_PAYLOAD_BYTES))
            })
            .strategy(WaitStrategyConfig::poll_while(|_: &String| false))
            .await;
        Ok::<_, Error>(outcome(result))
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    let seen: Value = execution.result().unwrap();
    assert_too_large(
        &seen,
        "wait for condition \"grow\"",
        2 * MAX_PAYLOAD_BYTES + 2,
    );
}
