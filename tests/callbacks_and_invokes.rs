//! Callbacks (`create_callback`, `wait_for_callback`) and chained invokes (`invoke`) on the
//! local runner: happy paths, every failure path, replay, the runner's callback and invoke
//! emulation, and a workflow that mixes every operation kind, run uninterrupted and
//! crashed after every single checkpoint call.
#![allow(clippy::unwrap_used)]

mod support;

use std::future::IntoFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lambda_durable::retry::{presets, Jitter};
use lambda_durable::wait_strategy::WaitStrategyConfig;
use lambda_durable::wire::{
    ErrorObject, Event, EventType, ExecutionStatus, InvocationStatus, OperationStatus,
    OperationType,
};
use lambda_durable::{branch, DurableContext, Error, StepContext};
use lambda_durable_testing::{
    CallbackResponse, Execution, Fault, LocalRunner, PendingCallback, RunnerError,
    SendCallbackError,
};
use serde::Deserialize;
use serde_json::{json, Value};

/// 2026-01-01T00:00:00Z, where the virtual clock starts.
const START_MS: i64 = 1_767_225_600_000;

#[derive(Debug, thiserror::Error)]
#[error("boom: {0}")]
struct Boom(String);

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Approval {
    approved: bool,
    by: String,
}

/// What handlers saw, invocation after invocation.
type Seen = Arc<Mutex<Vec<String>>>;

fn seen() -> Seen {
    Arc::new(Mutex::new(Vec::new()))
}

fn record(seen: &Seen, entry: String) {
    seen.lock().unwrap().push(entry);
}

fn entries(seen: &Seen) -> Vec<String> {
    seen.lock().unwrap().clone()
}

/// `ok <value>`, or the error's variant with the recorded `type: message`.
fn describe<T: std::fmt::Debug>(result: &Result<T, Error>) -> String {
    let err = match result {
        Ok(value) => return format!("ok {value:?}"),
        Err(err) => err,
    };
    let variant = match err {
        Error::CallbackFailed { .. } => "CallbackFailed",
        Error::CallbackTimedOut { .. } => "CallbackTimedOut",
        Error::InvokeFailed { .. } => "InvokeFailed",
        Error::InvokeTimedOut { .. } => "InvokeTimedOut",
        Error::InvokeStopped { .. } => "InvokeStopped",
        Error::StepFailed { .. } => "StepFailed",
        Error::Serialization { .. } => return "Serialization".to_string(),
        other => return format!("other {other}"),
    };
    let recorded = err.recorded();
    format!(
        "{variant} {}: {}",
        recorded
            .and_then(|e| e.error_type.as_deref())
            .unwrap_or("-"),
        recorded
            .and_then(|e| e.error_message.as_deref())
            .unwrap_or("-")
    )
}

fn error(error_type: &str, message: &str) -> ErrorObject {
    with_fields(ErrorObject::default(), |it| {
        it.error_type = Some(error_type.to_string());
        it.error_message = Some(message.to_string());
    })
}

fn events(execution: &Execution, ty: EventType) -> Vec<&Event> {
    execution
        .history()
        .iter()
        .filter(|event| event.event_type == ty)
        .collect()
}

/// `EventType name` of every event, like the conformance histories.
fn outline(execution: &Execution) -> Vec<String> {
    execution
        .history()
        .iter()
        .map(|event| match &event.name {
            Some(name) => format!("{:?} {}", event.event_type, name.as_str()),
            None => format!("{:?}", event.event_type),
        })
        .collect()
}

fn at(event: &Event) -> i64 {
    event.event_timestamp.as_ref().unwrap().epoch_millis() - START_MS
}

// ---------------------------------------------------------------------------------------
// create_callback
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn create_callback_completed_by_the_test_replays_its_id_and_result() {
    let seen = seen();
    let s = Arc::clone(&seen);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let seen = Arc::clone(&s);
        async move {
            let callback = ctx
                .create_callback::<Approval>("approval")
                .timeout(Duration::from_secs(3600))
                .heartbeat_timeout(Duration::from_secs(600))
                .await?;
            let id = callback.id().to_string();
            record(&seen, format!("id {id}"));
            let handed: String = ctx
                .step("notify approver", move |_| async move { Ok::<_, Boom>(id) })
                .await?;
            let approval = callback.result().await;
            record(&seen, describe(&approval));
            Ok::<_, Error>(json!({ "handed": handed, "by": approval?.by }))
        }
    });
    let mut execution = runner.start(json!({})).unwrap();
    assert_eq!(
        execution.run_until_suspended().await.unwrap(),
        ExecutionStatus::Running
    );
    let pending = execution.pending_callbacks();
    assert_eq!(pending.len(), 1, "{pending:?}");
    let callback: PendingCallback = pending[0].clone();
    assert_eq!(callback.name(), Some("approval"));
    assert_eq!(callback.execution_arn(), execution.arn());
    let snapshot = execution.snapshot();
    let op = snapshot.operation("approval").unwrap();
    assert_eq!(callback.operation_id(), op.id.as_str());
    assert_eq!(
        op.callback_details.as_ref().unwrap().callback_id.as_deref(),
        Some(&callback.id().to_string())
    );
    // Nothing moved the clock: the callback has an hour left.
    assert_eq!(snapshot.elapsed(), Duration::ZERO);

    execution
        .send_callback_success(callback.id(), r#"{"approved":true,"by":"alice"}"#)
        .unwrap();
    assert!(execution.pending_callbacks().is_empty());
    assert_eq!(
        execution.run_until_suspended().await.unwrap(),
        ExecutionStatus::Succeeded
    );
    let done = execution.into_execution();
    assert_eq!(
        done.result::<Value>().unwrap(),
        json!({ "handed": callback.id(), "by": "alice" })
    );
    assert_eq!(done.invocations(), 2);
    let id_entry = format!("id {}", callback.id());
    assert_eq!(
        entries(&seen),
        vec![
            id_entry.clone(),
            id_entry,
            format!(
                "ok {:?}",
                Approval {
                    approved: true,
                    by: "alice".to_string()
                }
            )
        ],
        "the replay gets the same callback id"
    );
    assert_eq!(
        outline(&done),
        [
            "ExecutionStarted",
            "CallbackStarted approval",
            "StepStarted notify approver",
            "StepSucceeded notify approver",
            "InvocationCompleted",
            "CallbackSucceeded approval",
            "InvocationCompleted",
            "ExecutionSucceeded",
        ]
    );
    let started = events(&done, EventType::CallbackStarted)[0]
        .callback_started_details
        .clone()
        .unwrap();
    assert_eq!(
        started.callback_id.as_deref().map(String::as_str),
        Some(callback.id())
    );
    assert_eq!(
        (started.timeout, started.heartbeat_timeout),
        (Some(3600), Some(600))
    );
    let succeeded = events(&done, EventType::CallbackSucceeded)[0]
        .callback_succeeded_details
        .clone()
        .unwrap();
    assert_eq!(
        succeeded.result.unwrap().payload.as_deref(),
        Some(r#"{"approved":true,"by":"alice"}"#)
    );
    assert!(done.timeline().contains("callback \"approval\" succeeded"));
}

/// Creates a callback with the timeouts in the input, waits for it, and returns (and
/// records) how it ended; a wait afterwards makes the next invocation replay it.
fn callback_outcome_handler(
    seen: Seen,
) -> impl Fn(
    Value,
    DurableContext,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, Error>> + Send>>
       + Send
       + Sync
       + 'static {
    move |input: Value, ctx: DurableContext| {
        let seen = Arc::clone(&seen);
        Box::pin(async move {
            let mut create = ctx.create_callback::<Approval>("approval");
            if let Some(seconds) = input["timeout"].as_u64() {
                create = create.timeout(Duration::from_secs(seconds));
            }
            if let Some(seconds) = input["heartbeat"].as_u64() {
                create = create.heartbeat_timeout(Duration::from_secs(seconds));
            }
            let callback = create.await?;
            let outcome = describe(&callback.result().await);
            record(&seen, outcome.clone());
            ctx.wait("after", Duration::from_secs(1)).await?;
            Ok(outcome)
        })
    }
}

#[tokio::test]
async fn a_failed_callback_is_callback_failed_on_every_replay() {
    let seen = seen();
    let runner = LocalRunner::new(callback_outcome_handler(Arc::clone(&seen)));
    let mut execution = runner.start(json!({ "timeout": 300 })).unwrap();
    execution.run_until_suspended().await.unwrap();
    let id = execution.pending_callbacks()[0].id().to_string();
    let sent = with_fields(error("Rejected", "over budget"), |it| {
        it.error_data = Some(r#"{"limit":100}"#.to_string());
    });
    execution.send_callback_failure(&id, sent.clone()).unwrap();
    let done = execution.run().await.unwrap();
    let expected = "CallbackFailed Rejected: over budget";
    assert_eq!(done.result::<String>().unwrap(), expected);
    assert_eq!(
        entries(&seen),
        vec![expected, expected],
        "the replay raises the same error"
    );
    let failed = events(&done, EventType::CallbackFailed)[0]
        .callback_failed_details
        .clone()
        .unwrap();
    assert_eq!(failed.error.unwrap().payload, Some(sent));
    assert_eq!(
        done.operation("approval").unwrap().status,
        OperationStatus::Failed
    );
    // The failure cancelled the timeout: no time passed but the 1 s wait.
    assert_eq!(done.elapsed(), Duration::from_secs(1));
    assert!(events(&done, EventType::CallbackTimedOut).is_empty());
}

#[tokio::test]
async fn a_callback_timeout_fires_on_the_virtual_clock() {
    // Unattended, `run` lets the timeout fire.
    let seen = seen();
    let runner = LocalRunner::new(callback_outcome_handler(Arc::clone(&seen)));
    let done = runner.run(json!({ "timeout": 300 })).await.unwrap();
    let outcome = done.result::<String>().unwrap();
    assert!(
        outcome.starts_with("CallbackTimedOut Callback.Timeout: "),
        "{outcome}"
    );
    assert!(outcome.contains("300 s"), "{outcome}");
    assert_eq!(entries(&seen), vec![outcome.clone(), outcome]);
    assert_eq!(done.elapsed(), Duration::from_secs(301));
    let timed_out = events(&done, EventType::CallbackTimedOut);
    assert_eq!(timed_out.len(), 1);
    assert_eq!(at(timed_out[0]), 300_000);
    let error = timed_out[0]
        .callback_timed_out_details
        .clone()
        .unwrap()
        .error
        .unwrap()
        .payload
        .unwrap();
    assert_eq!(error.error_type.as_deref(), Some("Callback.Timeout"));
    assert_eq!(
        done.operation("approval").unwrap().status,
        OperationStatus::TimedOut
    );

    // Step by step, `run_until_suspended` stops before the timeout; `advance_clock` lets
    // it fire, and then the callback can no longer be completed.
    let runner = LocalRunner::new(callback_outcome_handler(seen));
    let mut execution = runner.start(json!({ "timeout": 300 })).unwrap();
    assert_eq!(
        execution.run_until_suspended().await.unwrap(),
        ExecutionStatus::Running
    );
    assert_eq!(execution.snapshot().elapsed(), Duration::ZERO);
    let id = execution.pending_callbacks()[0].id().to_string();
    assert_eq!(execution.advance_clock(), Some(Duration::from_secs(300)));
    assert!(execution.pending_callbacks().is_empty());
    let late = execution.send_callback_success(&id, "{}").unwrap_err();
    assert_eq!(
        late,
        SendCallbackError::TimedOut {
            callback_id: id.clone()
        }
    );
    assert_eq!(late.code(), "CallbackTimeoutException");
    assert_eq!(
        execution.send_callback_heartbeat(&id).unwrap_err().code(),
        "CallbackTimeoutException"
    );
    assert_eq!(
        execution.run_until_suspended().await.unwrap(),
        ExecutionStatus::Succeeded
    );
}

#[tokio::test]
async fn heartbeats_keep_a_callback_alive_until_one_is_missed() {
    let seen = seen();
    let runner = LocalRunner::new(callback_outcome_handler(Arc::clone(&seen)));
    let mut execution = runner
        .start(json!({ "timeout": 3600, "heartbeat": 60 }))
        .unwrap();
    execution.run_until_suspended().await.unwrap();
    let id = execution.pending_callbacks()[0].id().to_string();
    execution.advance_clock_by(Duration::from_secs(50));
    execution.send_callback_heartbeat(&id).unwrap();
    // Without that heartbeat, the callback would have timed out at 60 s.
    execution.advance_clock_by(Duration::from_secs(50));
    assert_eq!(execution.pending_callbacks().len(), 1);
    execution.send_callback_heartbeat(&id).unwrap();
    // The next deadline is 60 s after the last heartbeat: at 160 s.
    assert_eq!(
        execution.run_until_suspended().await.unwrap(),
        ExecutionStatus::Running,
        "it stops before the deadline"
    );
    assert_eq!(execution.advance_clock(), Some(Duration::from_secs(60)));
    assert_eq!(
        execution
            .send_callback_success(&id, "{}")
            .unwrap_err()
            .code(),
        "CallbackTimeoutException"
    );
    let done = execution.run().await.unwrap();
    let outcome = done.result::<String>().unwrap();
    assert!(
        outcome.starts_with("CallbackTimedOut Callback.Heartbeat: "),
        "{outcome}"
    );
    assert!(outcome.contains("heartbeat timeout of 60 s"), "{outcome}");
    assert_eq!(entries(&seen), vec![outcome.clone(), outcome]);
    assert_eq!(done.elapsed(), Duration::from_secs(161));
    assert_eq!(at(events(&done, EventType::CallbackTimedOut)[0]), 160_000);
}

#[tokio::test]
async fn a_result_that_does_not_decode_is_a_serialization_error() {
    let seen = seen();
    let runner = LocalRunner::new(callback_outcome_handler(Arc::clone(&seen)));
    let mut execution = runner.start(json!({})).unwrap();
    execution.run_until_suspended().await.unwrap();
    let id = execution.pending_callbacks()[0].id().to_string();
    execution.send_callback_success(&id, "not json").unwrap();
    let done = execution.run().await.unwrap();
    assert_eq!(done.result::<String>().unwrap(), "Serialization");
    assert_eq!(entries(&seen), vec!["Serialization", "Serialization"]);
    // The service stored what was sent.
    let op = done.operation("approval").unwrap();
    assert_eq!(
        op.callback_details.as_ref().unwrap().result.as_deref(),
        Some("not json")
    );
}

#[tokio::test]
async fn the_callback_apis_answer_like_the_service() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let callback = ctx.create_callback::<String>("big").await?;
        Ok::<_, Error>(callback.result().await?.len())
    });
    let mut execution = runner.start(json!({})).unwrap();
    execution.run_until_suspended().await.unwrap();
    let id = execution.pending_callbacks()[0].id().to_string();

    let unknown = execution
        .send_callback_success("bm8tc3VjaC1jYWxsYmFjaw==", "{}")
        .unwrap_err();
    assert_eq!(unknown.code(), "ResourceNotFoundException");
    for err in [
        execution
            .send_callback_failure("nope", error("X", "y"))
            .unwrap_err(),
        execution.send_callback_heartbeat("nope").unwrap_err(),
    ] {
        assert_eq!(
            err,
            SendCallbackError::NotFound {
                callback_id: "nope".to_string()
            }
        );
    }
    // At most 1 MiB: one byte more is refused and changes nothing.
    let too_big = format!("\"{}\"", "x".repeat(1024 * 1024 - 1));
    assert_eq!(too_big.len(), 1024 * 1024 + 1);
    let refused = execution.send_callback_success(&id, &too_big).unwrap_err();
    assert_eq!(refused.code(), "InvalidParameterValueException");
    assert!(refused.to_string().contains("1048576"), "{refused}");
    let huge_error = error("Big", &"e".repeat(1024 * 1024));
    assert_eq!(
        execution
            .send_callback_failure(&id, huge_error)
            .unwrap_err()
            .code(),
        "InvalidParameterValueException"
    );
    assert_eq!(execution.pending_callbacks().len(), 1);
    // Exactly 1 MiB is fine.
    let largest = format!("\"{}\"", "x".repeat(1024 * 1024 - 2));
    execution
        .send_callback_success(&id, largest.as_bytes())
        .unwrap();
    // A completed callback is no longer active.
    assert_eq!(
        execution
            .send_callback_success(&id, "\"again\"")
            .unwrap_err(),
        SendCallbackError::NotFound {
            callback_id: id.clone()
        }
    );
    assert_eq!(
        execution.send_callback_heartbeat(&id).unwrap_err().code(),
        "ResourceNotFoundException"
    );
    let done = execution.run().await.unwrap();
    assert_eq!(done.result::<usize>().unwrap(), 1024 * 1024 - 2);
}

#[tokio::test]
async fn callbacks_of_a_finished_execution_are_not_found() {
    // The handler gives up on the callback (it never awaits it) and finishes.
    let ids = seen();
    let i = Arc::clone(&ids);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let ids = Arc::clone(&i);
        async move {
            let callback = ctx.create_callback::<String>("forgotten").await?;
            record(&ids, callback.id().to_string());
            Ok::<_, Error>(())
        }
    });
    let mut execution = runner.start(json!({})).unwrap();
    assert_eq!(
        execution.run_until_suspended().await.unwrap(),
        ExecutionStatus::Succeeded
    );
    let id = entries(&ids)[0].clone();
    assert!(execution.pending_callbacks().is_empty());
    assert_eq!(
        execution
            .send_callback_success(&id, "\"late\"")
            .unwrap_err(),
        SendCallbackError::NotFound { callback_id: id }
    );
}

#[tokio::test]
async fn callback_responders_answer_unattended() {
    async fn handler(_: Value, ctx: DurableContext) -> Result<Value, Error> {
        let first = ctx
            .create_callback::<Approval>("manager")
            .timeout(Duration::from_secs(3600))
            .await?;
        let first = describe(&first.result().await);
        let second = ctx
            .create_callback::<Approval>("director")
            .timeout(Duration::from_secs(3600))
            .await?;
        let second = describe(&second.result().await);
        let third = ctx
            .create_callback::<Approval>("board")
            .timeout(Duration::from_secs(60))
            .await?;
        let third = describe(&third.result().await);
        let fourth = ctx
            .create_callback::<Approval>("auditor")
            .timeout(Duration::from_secs(60))
            .await?;
        let fourth = describe(&fourth.result().await);
        let sixth = ctx
            .create_callback::<Approval>("just in time")
            .timeout(Duration::from_secs(60))
            .await?;
        let sixth = describe(&sixth.result().await);
        let fifth = ctx
            .wait_for_callback::<String, _, _>("signature", |_id, _step| async {
                Ok::<_, Boom>(())
            })
            .await;
        Ok(json!([
            first,
            second,
            third,
            fourth,
            describe(&fifth),
            sixth
        ]))
    }
    let asked = seen();
    let a = Arc::clone(&asked);
    let runner = LocalRunner::new(handler)
        .on_callback(
            "manager",
            CallbackResponse::success(r#"{"approved":true,"by":"manager"}"#)
                .after(Duration::from_secs(600)),
        )
        .on_callback(
            |callback: &PendingCallback| callback.name() == Some("director"),
            move |callback: &PendingCallback| {
                record(&a, callback.name().unwrap_or("?").to_string());
                CallbackResponse::failure("Vetoed", "not this quarter")
            },
        )
        // Answers after the timeout: too late.
        .on_callback(
            "board",
            CallbackResponse::json(json!({"approved": true, "by": "board"}))
                .after(Duration::from_secs(120)),
        )
        .on_callback("auditor", CallbackResponse::ignore())
        // Arrives exactly at the deadline: in time.
        .on_callback(
            "just in time",
            CallbackResponse::json(json!({"approved": false, "by": "clock"}))
                .after(Duration::from_secs(60)),
        )
        // Matched by the wait_for_callback's name, not its inner callback's.
        .on_callback(
            "signature".to_string(),
            CallbackResponse::json(json!("signed")),
        );
    let done = runner.run(json!({})).await.unwrap();
    assert_eq!(
        done.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        done.error()
    );
    let outcomes: Vec<String> = done.result().unwrap();
    assert_eq!(
        outcomes[0],
        format!(
            "ok {:?}",
            Approval {
                approved: true,
                by: "manager".to_string()
            }
        )
    );
    assert_eq!(outcomes[1], "CallbackFailed Vetoed: not this quarter");
    assert!(
        outcomes[2].starts_with("CallbackTimedOut Callback.Timeout"),
        "{outcomes:?}"
    );
    assert!(
        outcomes[3].starts_with("CallbackTimedOut Callback.Timeout"),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[4], "ok \"signed\"");
    assert_eq!(
        outcomes[5],
        format!(
            "ok {:?}",
            Approval {
                approved: false,
                by: "clock".to_string()
            }
        )
    );
    // Each responder is asked once per callback, not on every replay.
    assert_eq!(entries(&asked), vec!["director"]);
    // 600 s for the manager, 60 s for each of the two timeouts, 60 s just in time.
    assert_eq!(done.elapsed(), Duration::from_secs(780));
    assert_eq!(at(events(&done, EventType::CallbackSucceeded)[0]), 600_000);
}

#[tokio::test]
async fn an_invalid_responder_answer_is_a_runner_error() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        ctx.create_callback::<String>("x").await?.result().await
    })
    .on_callback("x", CallbackResponse::success("y".repeat(2 * 1024 * 1024)));
    let err = runner.run(json!({})).await.unwrap_err();
    match err {
        RunnerError::Callback(inner) => {
            assert_eq!(inner.code(), "InvalidParameterValueException")
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// wait_for_callback
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn wait_for_callback_runs_the_submitter_once_and_replays_the_result() {
    let submitted = seen();
    let s = Arc::clone(&submitted);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let submitted = Arc::clone(&s);
        async move {
            let signed = ctx
                .wait_for_callback::<String, _, _>("signature", move |callback_id, _step| {
                    let submitted = Arc::clone(&submitted);
                    async move {
                        record(&submitted, callback_id);
                        Ok::<_, Boom>(())
                    }
                })
                .timeout(Duration::from_secs(600))
                .heartbeat_timeout(Duration::from_secs(120))
                .await?;
            Ok::<_, Error>(signed)
        }
    });
    let mut execution = runner.start(json!({})).unwrap();
    assert_eq!(
        execution.run_until_suspended().await.unwrap(),
        ExecutionStatus::Running
    );
    let pending = execution.pending_callbacks();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].name(), Some("signature"));
    assert_eq!(
        entries(&submitted),
        vec![pending[0].id().to_string()],
        "the submitter got the callback id"
    );
    execution.send_callback_heartbeat(pending[0].id()).unwrap();
    execution
        .send_callback_success(pending[0].id(), r#""signed by bob""#)
        .unwrap();
    let done = execution.run().await.unwrap();
    assert_eq!(done.result::<String>().unwrap(), "signed by bob");
    assert_eq!(entries(&submitted).len(), 1, "the submitter ran once");
    // As in the conformance history wait_for_callback/7-1.
    assert_eq!(
        outline(&done),
        [
            "ExecutionStarted",
            "ContextStarted signature",
            "CallbackStarted signature create callback id",
            "StepStarted signature submitter",
            "StepSucceeded signature submitter",
            "InvocationCompleted",
            "CallbackSucceeded signature create callback id",
            "ContextSucceeded signature",
            "InvocationCompleted",
            "ExecutionSucceeded",
        ]
    );
    let context = done.operation("signature").unwrap();
    assert_eq!(
        context.sub_type.as_deref().map(String::as_str),
        Some("WaitForCallback")
    );
    let callback = done.operation("signature create callback id").unwrap();
    assert_eq!(callback.parent_id.as_ref(), Some(&context.id));
    let started = events(&done, EventType::CallbackStarted)[0]
        .callback_started_details
        .clone()
        .unwrap();
    assert_eq!(
        (started.timeout, started.heartbeat_timeout),
        (Some(600), Some(120))
    );
}

#[tokio::test]
async fn wait_for_callback_failure_timeout_and_heartbeat_are_distinct() {
    fn handler(
        seen: Seen,
    ) -> impl Fn(
        Value,
        DurableContext,
    )
        -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, Error>> + Send>>
           + Send
           + Sync
           + 'static {
        move |_: Value, ctx: DurableContext| {
            let seen = Arc::clone(&seen);
            Box::pin(async move {
                let outcome = ctx
                    .wait_for_callback::<String, _, _>("sign", |_id, _step| async {
                        Ok::<_, Boom>(())
                    })
                    .timeout(Duration::from_secs(300))
                    .heartbeat_timeout(Duration::from_secs(100))
                    .await;
                let outcome = describe(&outcome);
                record(&seen, outcome.clone());
                ctx.wait("after", Duration::from_secs(1)).await?;
                Ok(outcome)
            })
        }
    }

    // Failed by the external system.
    let seen_failed = seen();
    let mut execution = LocalRunner::new(handler(Arc::clone(&seen_failed)))
        .start(json!({}))
        .unwrap();
    execution.run_until_suspended().await.unwrap();
    let id = execution.pending_callbacks()[0].id().to_string();
    execution
        .send_callback_failure(&id, error("Declined", "will not sign"))
        .unwrap();
    let failed = execution.run().await.unwrap().result::<String>().unwrap();
    assert!(
        failed.starts_with("CallbackFailed CallbackError: "),
        "{failed}"
    );
    assert!(failed.ends_with(": will not sign"), "{failed}");
    assert_eq!(entries(&seen_failed), vec![failed.clone(), failed]);

    // Heartbeats until 250 s, then the 300 s timeout.
    let seen_timeout = seen();
    let mut execution = LocalRunner::new(handler(Arc::clone(&seen_timeout)))
        .start(json!({}))
        .unwrap();
    execution.run_until_suspended().await.unwrap();
    let id = execution.pending_callbacks()[0].id().to_string();
    for _ in 0..5 {
        execution.advance_clock_by(Duration::from_secs(50));
        execution.send_callback_heartbeat(&id).unwrap();
    }
    let done = execution.run().await.unwrap();
    let timed_out = done.result::<String>().unwrap();
    assert!(timed_out.starts_with("CallbackTimedOut "), "{timed_out}");
    assert!(timed_out.contains("timeout of 300 s"), "{timed_out}");
    assert_eq!(entries(&seen_timeout), vec![timed_out.clone(), timed_out]);
    assert_eq!(done.elapsed(), Duration::from_secs(301));

    // No heartbeat: the heartbeat timeout of 100 s.
    let seen_heartbeat = seen();
    let done = LocalRunner::new(handler(Arc::clone(&seen_heartbeat)))
        .run(json!({}))
        .await
        .unwrap();
    let missed = done.result::<String>().unwrap();
    assert!(missed.starts_with("CallbackTimedOut "), "{missed}");
    assert!(missed.contains("heartbeat timeout of 100 s"), "{missed}");
    assert_eq!(entries(&seen_heartbeat), vec![missed.clone(), missed]);
    assert_eq!(done.elapsed(), Duration::from_secs(101));
    let callback = done.operation("sign create callback id").unwrap();
    let recorded = callback.callback_details.as_ref().unwrap().error.as_ref();
    assert_eq!(
        recorded.and_then(|e| e.error_type.as_deref()),
        Some("Callback.Heartbeat")
    );
}

#[tokio::test]
async fn a_failing_submitter_is_retried_by_its_strategy() {
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let a = Arc::clone(&attempts);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let attempts = Arc::clone(&a);
        async move {
            ctx.wait_for_callback::<u32, _, _>("ticket", move |_id, step: StepContext| {
                let attempts = Arc::clone(&attempts);
                async move {
                    attempts.lock().unwrap().push(step.attempt());
                    if step.attempt() < 3 {
                        return Err(Boom(format!("queue full ({})", step.attempt())));
                    }
                    Ok(())
                }
            })
            .retry(presets::fixed(Duration::from_secs(5)).max_attempts(3))
            .await
        }
    });
    let mut execution = runner.start(json!({})).unwrap();
    // The retry delays are timers: they fire; then only the callback is left.
    assert_eq!(
        execution.run_until_suspended().await.unwrap(),
        ExecutionStatus::Running
    );
    assert_eq!(*attempts.lock().unwrap(), vec![1, 2, 3]);
    assert_eq!(execution.snapshot().elapsed(), Duration::from_secs(10));
    let id = execution.pending_callbacks()[0].id().to_string();
    execution.send_callback_success(&id, "42").unwrap();
    let done = execution.run().await.unwrap();
    assert_eq!(done.result::<u32>().unwrap(), 42);
    assert_eq!(*attempts.lock().unwrap(), vec![1, 2, 3]);
    let submitter = done.operation("ticket submitter").unwrap();
    assert_eq!(
        submitter.step_details.as_ref().unwrap().attempt,
        Some(3),
        "two failed attempts, then a success"
    );
    assert_eq!(events(&done, EventType::StepFailed).len(), 2);
    assert_eq!(done.invocations(), 4);
}

#[tokio::test]
async fn a_submitter_that_keeps_failing_fails_with_its_step_error() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let outcome = ctx
            .wait_for_callback::<u32, _, _>("ticket", |_id, step: StepContext| async move {
                Err::<(), _>(Boom(format!("down (attempt {})", step.attempt())))
            })
            .retry(presets::fixed(Duration::from_secs(2)).max_attempts(2))
            .await;
        let seen = describe(&outcome);
        outcome.map(|_| seen)
    });
    let done = runner.run(json!({})).await.unwrap();
    assert_eq!(done.status(), ExecutionStatus::Failed);
    let error = done.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("StepError"));
    assert_eq!(
        error.error_message.as_deref(),
        Some("boom: down (attempt 2)")
    );
    assert_eq!(done.elapsed(), Duration::from_secs(2));
    // The callback was never completed; the wrapper context failed.
    let callback = done.operation("ticket create callback id").unwrap();
    assert_eq!(callback.status, OperationStatus::Started);
    assert_eq!(
        done.operation("ticket").unwrap().status,
        OperationStatus::Failed
    );
}

#[tokio::test]
async fn a_failing_submitter_surfaces_as_step_failed_in_the_handler() {
    let seen = seen();
    let s = Arc::clone(&seen);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let seen = Arc::clone(&s);
        async move {
            let outcome = ctx
                .wait_for_callback::<u32, _, _>("ticket", |_id, _step| async move {
                    Err::<(), _>(Boom("no".to_string()))
                })
                .retry(presets::none())
                .await;
            record(&seen, describe(&outcome));
            ctx.wait("after", Duration::from_secs(1)).await?;
            Ok::<_, Error>(())
        }
    });
    let done = runner.run(json!({})).await.unwrap();
    assert_eq!(done.status(), ExecutionStatus::Succeeded);
    let seen = entries(&seen);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0], seen[1], "the replay raises the same error");
    // The wrapper context records the error as a StepError (the body's own error type
    // is not kept); the message is the submitter's.
    assert!(seen[0].starts_with("StepFailed "), "{seen:?}");
    assert!(seen[0].ends_with(": boom: no"), "{seen:?}");
}

// ---------------------------------------------------------------------------------------
// invoke
// ---------------------------------------------------------------------------------------

async fn label_maker(order: Value, ctx: DurableContext) -> Result<Value, Error> {
    let id = order["order"].as_str().unwrap_or("?").to_string();
    let label: String = ctx
        .step("print", move |_| async move {
            Ok::<_, Boom>(format!("label-{id}"))
        })
        .await?;
    ctx.wait("dry ink", Duration::from_secs(30)).await?;
    Ok(json!({ "label": label, "got": order }))
}

#[tokio::test]
async fn invoke_runs_a_registered_durable_function_as_its_own_execution() {
    let seen = seen();
    let s = Arc::clone(&seen);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let seen = Arc::clone(&s);
        async move {
            let label = ctx
                .invoke::<Value>("make label", "labels", json!({ "order": "o-1" }))
                .tenant_id("tenant-7")
                .await;
            record(&seen, describe(&label));
            ctx.wait("after", Duration::from_secs(5)).await?;
            label
        }
    })
    .register("labels", label_maker);
    let done = runner.run(json!({})).await.unwrap();
    let expected = json!({ "label": "label-o-1", "got": { "order": "o-1" } });
    assert_eq!(done.result::<Value>().unwrap(), expected);
    // Suspended on the invoke, then on the wait, then done; the replay gets the same.
    assert_eq!(done.invocations(), 3);
    let seen = entries(&seen);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0], seen[1]);
    assert_eq!(done.elapsed(), Duration::from_secs(35));

    // The target ran as an execution of its own, once.
    assert_eq!(done.children().len(), 1);
    let child = &done.children()[0];
    assert_eq!(child.function_name(), "labels");
    assert_ne!(child.arn(), done.arn());
    assert!(child.arn().contains(":function:labels:"), "{}", child.arn());
    assert_eq!(child.status(), ExecutionStatus::Succeeded);
    assert_eq!(child.input(), r#"{"order":"o-1"}"#);
    assert_eq!(child.invocations(), 2);
    assert_eq!(child.result::<Value>().unwrap(), expected);
    assert_eq!(child.elapsed(), Duration::from_secs(30));

    let started = events(&done, EventType::ChainedInvokeStarted)[0]
        .chained_invoke_started_details
        .clone()
        .unwrap();
    assert_eq!(started.function_name.as_deref(), Some("labels"));
    assert_eq!(started.tenant_id.as_deref(), Some("tenant-7"));
    assert_eq!(
        started.input.unwrap().payload.as_deref(),
        Some(r#"{"order":"o-1"}"#)
    );
    assert_eq!(
        started.durable_execution_arn.as_deref().map(String::as_str),
        Some(child.arn())
    );
    let succeeded = events(&done, EventType::ChainedInvokeSucceeded);
    assert_eq!(succeeded.len(), 1);
    // It finished when the child did, on the shared clock.
    let child_done = events(child, EventType::ExecutionSucceeded)[0];
    assert_eq!(at(succeeded[0]), at(child_done));
    assert_eq!(at(succeeded[0]), 30_000);
    let result = succeeded[0]
        .chained_invoke_succeeded_details
        .clone()
        .unwrap()
        .result
        .unwrap()
        .payload
        .unwrap();
    assert_eq!(serde_json::from_str::<Value>(&result).unwrap(), expected);
    assert_eq!(
        outline(&done)[..5],
        [
            "ExecutionStarted",
            "ChainedInvokeStarted make label",
            "InvocationCompleted",
            "ChainedInvokeSucceeded make label",
            "WaitStarted after",
        ]
    );
    let op = done.operation("make label").unwrap();
    assert_eq!(
        (op.type_, op.status),
        (OperationType::ChainedInvoke, OperationStatus::Succeeded)
    );
}

#[tokio::test]
async fn invoke_suspends_and_a_reinvocation_replays_the_recorded_result() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        ctx.invoke::<Value>("make label", "labels", json!({ "order": "o-2" }))
            .await
    })
    .register("labels", label_maker);
    let mut execution = runner.start(json!({})).unwrap();
    let first = execution.invoke_once().await.unwrap();
    assert_eq!(first.status(), Some(InvocationStatus::Pending));
    let snapshot = execution.snapshot();
    assert_eq!(
        snapshot.operation("make label").unwrap().status,
        OperationStatus::Started
    );
    // The target's execution exists but has not run yet.
    assert_eq!(snapshot.children().len(), 1);
    assert_eq!(snapshot.children()[0].invocations(), 0);
    assert_eq!(
        execution.run_until_suspended().await.unwrap(),
        ExecutionStatus::Succeeded
    );
    let done = execution.into_execution();
    assert_eq!(done.result::<Value>().unwrap()["label"], "label-o-2");
    assert_eq!(done.invocations(), 2);
    assert_eq!(done.children()[0].invocations(), 2);
}

#[tokio::test]
async fn plain_functions_answer_at_once_and_their_errors_are_invoke_failed() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let doubled = ctx
            .invoke::<Value>("double", "doubler", json!({ "n": 21 }))
            .await;
        let broken = ctx
            .invoke::<Value>("break", "breaker", json!({ "n": 1 }))
            .await;
        let missing = ctx.invoke::<Value>("missing", "nobody", json!({})).await;
        Ok::<_, Error>(json!([
            describe(&doubled),
            describe(&broken),
            describe(&missing)
        ]))
    })
    .register_plain("doubler", |event: Value| async move {
        Ok::<_, Boom>(json!({ "doubled": event["n"].as_u64().unwrap_or(0) * 2 }))
    })
    .register_plain("breaker", |_event: Value| async move {
        Err::<Value, _>(Boom("out of order".to_string()))
    });
    let done = runner.run(json!({})).await.unwrap();
    assert_eq!(
        done.result::<Value>().unwrap(),
        json!([
            "ok Object {\"doubled\": Number(42)}",
            "InvokeFailed callbacks_and_invokes::Boom: boom: out of order",
            "InvokeFailed ResourceNotFoundException: Function not found: nobody",
        ])
    );
    assert!(
        done.children().is_empty(),
        "plain functions have no execution"
    );
    let started = events(&done, EventType::ChainedInvokeStarted);
    assert_eq!(started.len(), 3);
    assert!(started.iter().all(|event| event
        .chained_invoke_started_details
        .as_ref()
        .unwrap()
        .durable_execution_arn
        .is_none()));
    assert_eq!(events(&done, EventType::ChainedInvokeSucceeded).len(), 1);
    assert_eq!(events(&done, EventType::ChainedInvokeFailed).len(), 2);
    assert_eq!(done.elapsed(), Duration::ZERO);
    // One invocation per invoke, and the last one finishes.
    assert_eq!(done.invocations(), 4);
    assert!(done
        .timeline()
        .contains("invoke \"break\" failed: callbacks_and_invokes::Boom: boom: out of order"));
}

async fn failing_target(_: Value, ctx: DurableContext) -> Result<(), Error> {
    ctx.step("charge", |_| async {
        Err::<(), _>(Boom("card declined".to_string()))
    })
    .retry(presets::none())
    .await
}

#[tokio::test]
async fn a_failed_durable_target_is_invoke_failed_on_every_replay() {
    let seen = seen();
    let s = Arc::clone(&seen);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let seen = Arc::clone(&s);
        async move {
            let outcome = describe(&ctx.invoke::<()>("pay", "payments", json!({})).await);
            record(&seen, outcome.clone());
            ctx.wait("after", Duration::from_secs(1)).await?;
            Ok::<_, Error>(outcome)
        }
    })
    .register("payments", failing_target);
    let done = runner.run(json!({})).await.unwrap();
    let expected = "InvokeFailed StepError: boom: card declined";
    assert_eq!(done.result::<String>().unwrap(), expected);
    assert_eq!(entries(&seen), vec![expected, expected]);
    assert_eq!(done.children()[0].status(), ExecutionStatus::Failed);
    let failed = events(&done, EventType::ChainedInvokeFailed)[0]
        .chained_invoke_failed_details
        .clone()
        .unwrap()
        .error
        .unwrap()
        .payload
        .unwrap();
    assert_eq!(failed.error_type.as_deref(), Some("StepError"));
}

#[tokio::test]
async fn a_target_past_its_timeout_is_invoke_timed_out() {
    async fn slow(_: Value, ctx: DurableContext) -> Result<&'static str, Error> {
        ctx.wait("two hours", Duration::from_secs(7200)).await?;
        Ok("late")
    }
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        Ok::<_, Error>(describe(
            &ctx.invoke::<String>("slow", "slow-fn", json!({})).await,
        ))
    })
    .register("slow-fn", slow)
    .function_timeout("slow-fn", Duration::from_secs(3600));
    let done = runner.run(json!({})).await.unwrap();
    let outcome = done.result::<String>().unwrap();
    assert!(
        outcome.starts_with("InvokeTimedOut Execution.Timeout: "),
        "{outcome}"
    );
    assert_eq!(done.elapsed(), Duration::from_secs(3600));
    let child = &done.children()[0];
    assert_eq!(child.status(), ExecutionStatus::TimedOut);
    assert_eq!(
        child.error().unwrap().error_type.as_deref(),
        Some("Execution.Timeout")
    );
    let started = events(child, EventType::ExecutionStarted)[0]
        .execution_started_details
        .clone()
        .unwrap();
    assert_eq!(started.execution_timeout, Some(3600));
    assert_eq!(
        at(events(child, EventType::ExecutionTimedOut)[0]),
        3_600_000
    );
    assert!(
        events(child, EventType::WaitSucceeded).is_empty(),
        "the timed-out execution's wait never fires"
    );
    assert_eq!(
        done.operation("slow").unwrap().status,
        OperationStatus::TimedOut
    );
    assert_eq!(events(&done, EventType::ChainedInvokeTimedOut).len(), 1);
}

#[tokio::test]
async fn the_runners_own_execution_can_time_out() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        ctx.wait("long", Duration::from_secs(100)).await?;
        Ok::<_, Error>(())
    })
    .execution_timeout(Duration::from_secs(60));
    let done = runner.run(json!({})).await.unwrap();
    assert_eq!(done.status(), ExecutionStatus::TimedOut);
    assert_eq!(done.elapsed(), Duration::from_secs(60));
    assert_eq!(events(&done, EventType::ExecutionTimedOut).len(), 1);
    assert!(done
        .timeline()
        .contains("execution timed out: Execution.Timeout"));
}

#[tokio::test]
async fn a_stopped_target_is_invoke_stopped() {
    // The target waits for a callback nobody completes.
    async fn waiting(_: Value, ctx: DurableContext) -> Result<String, Error> {
        ctx.create_callback::<String>("never").await?.result().await
    }
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        Ok::<_, Error>(describe(
            &ctx.invoke::<String>("wait", "waiting", json!({})).await,
        ))
    })
    .register("waiting", waiting);
    let mut execution = runner.start(json!({})).unwrap();
    assert_eq!(
        execution.run_until_suspended().await.unwrap(),
        ExecutionStatus::Running
    );
    let child_arn = execution.snapshot().children()[0].arn().to_string();
    // The callback of the target is listed with its execution.
    let pending = execution.pending_callbacks();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].execution_arn(), child_arn);
    let callback_id = pending[0].id().to_string();

    let unknown = execution.stop_execution("arn:nope", None).unwrap_err();
    assert!(
        matches!(unknown, RunnerError::UnknownExecution { .. }),
        "{unknown}"
    );
    execution
        .stop_execution(&child_arn, Some(error("Operator", "stopped by hand")))
        .unwrap();
    let again = execution.stop_execution(&child_arn, None).unwrap_err();
    assert!(
        matches!(
            again,
            RunnerError::Finished {
                status: ExecutionStatus::Stopped
            }
        ),
        "{again}"
    );
    // Its callback is gone with it.
    assert_eq!(
        execution
            .send_callback_success(&callback_id, "\"x\"")
            .unwrap_err()
            .code(),
        "ResourceNotFoundException"
    );
    let done = execution.run().await.unwrap();
    assert_eq!(
        done.result::<String>().unwrap(),
        "InvokeStopped Operator: stopped by hand"
    );
    let child = &done.children()[0];
    assert_eq!(child.status(), ExecutionStatus::Stopped);
    assert_eq!(events(child, EventType::ExecutionStopped).len(), 1);
    // Operations in flight stay as they were.
    assert_eq!(
        child.operation("never").unwrap().status,
        OperationStatus::Started
    );
    let stopped = events(&done, EventType::ChainedInvokeStopped);
    assert_eq!(stopped.len(), 1);
    let recorded = stopped[0]
        .chained_invoke_stopped_details
        .clone()
        .unwrap()
        .error
        .unwrap()
        .payload
        .unwrap();
    assert_eq!(recorded, error("Operator", "stopped by hand"));
    assert_eq!(
        done.operation("wait").unwrap().status,
        OperationStatus::Stopped
    );
}

#[tokio::test]
async fn stopping_the_runners_own_execution_ends_it() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        ctx.create_callback::<String>("never").await?.result().await
    });
    let mut execution = runner.start(json!({})).unwrap();
    execution.run_until_suspended().await.unwrap();
    let arn = execution.arn().to_string();
    execution.stop_execution(&arn, None).unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Stopped);
    let err = execution.invoke_once().await.unwrap_err();
    assert!(matches!(err, RunnerError::Finished { .. }), "{err}");
    let done = execution.run().await.unwrap();
    assert_eq!(done.status(), ExecutionStatus::Stopped);
    assert_eq!(
        done.error().unwrap().error_type.as_deref(),
        Some("Execution.Stopped")
    );
    assert_eq!(done.invocations(), 1);
}

#[tokio::test]
async fn nested_invokes_share_the_clock() {
    // parent → shipping (durable: waits, then invokes labels and the plain pricing).
    async fn shipping(order: Value, ctx: DurableContext) -> Result<Value, Error> {
        ctx.wait("pick", Duration::from_secs(20)).await?;
        let label: Value = ctx.invoke("label", "labels", order.clone()).await?;
        let price: u64 = ctx.invoke("price", "pricing", json!({ "kg": 3 })).await?;
        Ok(json!({ "label": label["label"], "price": price }))
    }
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        // A wait that ends while the nested executions run.
        let pause = ctx.wait("meanwhile", Duration::from_secs(25));
        let shipped = ctx.invoke::<Value>("ship", "shipping", json!({ "order": "o-9" }));
        let (shipped, paused) = futures_join(shipped.into_future(), pause.into_future()).await;
        paused?;
        shipped
    })
    .register("shipping", shipping)
    .register("labels", label_maker)
    .register_plain("pricing", |event: Value| async move {
        Ok::<_, Boom>(json!(event["kg"].as_u64().unwrap_or(0) * 7))
    });
    let done = runner.run(json!({})).await.unwrap();
    assert_eq!(
        done.status(),
        ExecutionStatus::Succeeded,
        "{}",
        done.timeline()
    );
    assert_eq!(
        done.result::<Value>().unwrap(),
        json!({ "label": "label-o-9", "price": 21 })
    );
    // 20 s of picking, then 30 s of drying ink in the nested execution.
    assert_eq!(done.elapsed(), Duration::from_secs(50));
    assert_eq!(at(events(&done, EventType::WaitSucceeded)[0]), 25_000);
    let shipping = &done.children()[0];
    assert_eq!(shipping.function_name(), "shipping");
    assert_eq!(shipping.children().len(), 1);
    let labels = &shipping.children()[0];
    assert_eq!(labels.function_name(), "labels");
    assert_eq!(labels.status(), ExecutionStatus::Succeeded);
    assert_eq!(at(events(labels, EventType::ExecutionStarted)[0]), 20_000);
    assert_eq!(at(events(labels, EventType::ExecutionSucceeded)[0]), 50_000);
    assert_eq!(labels.elapsed(), Duration::from_secs(30));
}

/// Polls two futures to completion (the SDK's futures run concurrently when polled
/// together).
async fn futures_join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    tokio::join!(a, b)
}

#[tokio::test]
async fn a_function_invokes_itself_by_name_and_by_arn() {
    async fn countdown(n: u64, ctx: DurableContext) -> Result<u64, Error> {
        if n == 0 {
            return Ok(0);
        }
        // The runner knows its own handler by its function name, and the bare name of an
        // ARN or a qualified name finds it.
        let target = match n % 2 {
            0 => "countdown".to_string(),
            _ => "arn:aws:lambda:us-east-1:123456789012:function:countdown:$LATEST".to_string(),
        };
        let below: u64 = ctx.invoke(format!("count {n}"), target, n - 1).await?;
        Ok(n + below)
    }
    let runner = LocalRunner::new(countdown).function_name("countdown");
    let done = runner.run(3u64).await.unwrap();
    assert_eq!(done.result::<u64>().unwrap(), 6);
    let mut depth = 0;
    let mut level = &done;
    while let Some(child) = level.children().first() {
        depth += 1;
        assert_eq!(child.status(), ExecutionStatus::Succeeded);
        level = child;
    }
    assert_eq!(depth, 3);
    let started = events(&done, EventType::ChainedInvokeStarted)[0]
        .chained_invoke_started_details
        .clone()
        .unwrap();
    assert_eq!(
        started.function_name.as_deref(),
        Some("arn:aws:lambda:us-east-1:123456789012:function:countdown:$LATEST")
    );
}

// ---------------------------------------------------------------------------------------
// Every operation kind in one workflow
// ---------------------------------------------------------------------------------------

/// A workflow with every operation kind: step (with a retry), wait, create_callback,
/// wait_for_callback, invoke of a durable function that waits and invokes a plain one,
/// child context, wait_for_condition, map (whose items invoke), parallel (one branch waits
/// for a callback), a combinator and the replay-safe helpers.
async fn everything(input: Value, ctx: DurableContext) -> Result<Value, Error> {
    let customer = input["customer"].as_str().unwrap_or("?").to_string();
    let reserved: String = ctx
        .step("reserve", move |step: StepContext| async move {
            if step.attempt() == 1 {
                return Err(Boom("busy".to_string()));
            }
            Ok(format!("R-{customer}"))
        })
        .retry(presets::fixed(Duration::from_secs(3)).max_attempts(3))
        .await?;

    // Replay-safe helpers: the values match those recorded at the first run.
    let (uuid, random, now) = (ctx.uuid(), ctx.random_u64(), ctx.now());
    let recorded: (String, u64, u128) = ctx
        .step("remember helpers", move |_| async move {
            let millis = now
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            Ok::<_, Boom>((uuid.to_string(), random, millis))
        })
        .await?;
    let now_millis = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let helpers_stable = recorded == (uuid.to_string(), random, now_millis);

    ctx.wait("cool off", Duration::from_secs(10)).await?;

    let approval = ctx
        .create_callback::<Approval>("approval")
        .timeout(Duration::from_secs(3600))
        .await?;
    let approval_id = approval.id().to_string();
    ctx.step("ask approval", move |_| async move {
        Ok::<_, Boom>(approval_id.len())
    })
    .await?;
    let approval = approval.result().await?;

    let signature: String = ctx
        .wait_for_callback::<String, _, _>("signature", |id, _step| async move {
            if id.is_empty() {
                return Err(Boom("no id".to_string()));
            }
            Ok(())
        })
        .timeout(Duration::from_secs(600))
        .await?;

    let shipping: Value = ctx
        .invoke("ship", "shipping", json!({ "order": reserved.clone() }))
        .tenant_id("tenant-1")
        .await?;

    let total = ctx
        .run_in_child_context("totals", |child| async move {
            let a: u64 = child
                .step("base", |_| async { Ok::<_, Boom>(100u64) })
                .await?;
            child.wait("think", Duration::from_secs(2)).await?;
            let b: u64 = child
                .step("tax", move |_| async move { Ok::<_, Boom>(a / 5) })
                .await?;
            Ok::<_, Error>(a + b)
        })
        .await?;

    let polls: u32 = ctx
        .wait_for_condition(
            "ready",
            0u32,
            |n, _step| async move { Ok::<_, Boom>(n + 1) },
        )
        .strategy(
            WaitStrategyConfig::poll_while(|n: &u32| *n < 3)
                .initial_delay(Duration::from_secs(2))
                .jitter(Jitter::None),
        )
        .await?;

    let prices = ctx
        .map(
            "price items",
            vec![1u64, 2, 3],
            |item_ctx, kg, _index| async move {
                item_ctx
                    .invoke::<u64>("price", "pricing", json!({ "kg": kg }))
                    .await
            },
        )
        .max_concurrency(2)
        .await?
        .into_results()?;

    let parts = ctx
        .parallel(
            "finish",
            vec![
                branch("qa", |c: DurableContext| async move {
                    let qa = c.create_callback::<String>("qa check").await?;
                    qa.result().await
                }),
                branch("invoice", |c: DurableContext| async move {
                    c.step("invoice", |_| async { Ok::<_, Boom>("INV-1".to_string()) })
                        .await
                }),
            ],
        )
        .await?
        .into_results()?;

    let a = ctx.step("left", |_| async { Ok::<_, Boom>(1u32) });
    let b = ctx.step("right", |_| async { Ok::<_, Boom>(2u32) });
    let both = ctx
        .all("both", vec![a.into_future(), b.into_future()])
        .await?;

    Ok(json!({
        "reserved": reserved,
        "helpers_stable": helpers_stable,
        "approved_by": approval.by,
        "signature": signature,
        "shipping": shipping,
        "total": total,
        "polls": polls,
        "prices": prices,
        "parts": parts,
        "both": both,
    }))
}

async fn shipping_target(order: Value, ctx: DurableContext) -> Result<Value, Error> {
    ctx.wait("pack", Duration::from_secs(60)).await?;
    let fee: u64 = ctx.invoke("fee", "pricing", json!({ "kg": 10 })).await?;
    Ok(json!({ "order": order["order"], "fee": fee }))
}

fn everything_runner() -> LocalRunner {
    LocalRunner::new(everything)
        .register("shipping", shipping_target)
        .register_plain("pricing", |event: Value| async move {
            Ok::<_, Boom>(json!(event["kg"].as_u64().unwrap_or(0) * 4))
        })
        .on_callback(
            "approval",
            CallbackResponse::json(json!({ "approved": true, "by": "carol" }))
                .after(Duration::from_secs(120)),
        )
        .on_callback(
            "signature",
            CallbackResponse::json(json!("signed")).after(Duration::from_secs(30)),
        )
        .on_callback("qa check", CallbackResponse::json(json!("QA-OK")))
}

fn everything_result() -> Value {
    json!({
        "reserved": "R-ada",
        "helpers_stable": true,
        "approved_by": "carol",
        "signature": "signed",
        "shipping": { "order": "R-ada", "fee": 40 },
        "total": 120,
        "polls": 3,
        "prices": [4, 8, 12],
        "parts": ["QA-OK", "INV-1"],
        "both": [1, 2],
    })
}

#[tokio::test]
async fn a_workflow_with_every_operation_kind_runs_to_completion() {
    let done = everything_runner()
        .run(json!({ "customer": "ada" }))
        .await
        .unwrap();
    assert_eq!(
        done.status(),
        ExecutionStatus::Succeeded,
        "{:?}\n{}",
        done.error(),
        done.timeline()
    );
    assert_eq!(done.result::<Value>().unwrap(), everything_result());
    // 3 s retry, 10 s wait, 120 s approval, 30 s signature, 60 s shipping, 2 s think,
    // 2 + 3 s polls.
    assert_eq!(done.elapsed(), Duration::from_secs(230));
    assert!(done.invocations() >= 8, "{}", done.invocations());
    assert!(done
        .operations()
        .iter()
        .all(|op| op.status == OperationStatus::Succeeded));
    let sub_types: std::collections::HashSet<&str> = done
        .operations()
        .iter()
        .filter_map(|op| op.sub_type.as_deref().map(String::as_str))
        .collect();
    for expected in [
        "Step",
        "Wait",
        "Callback",
        "WaitForCallback",
        "ChainedInvoke",
        "RunInChildContext",
        "WaitForCondition",
        "Map",
        "MapIteration",
        "Parallel",
        "ParallelBranch",
    ] {
        assert!(sub_types.contains(expected), "no {expected}: {sub_types:?}");
    }
    let shipping = &done.children()[0];
    assert_eq!(shipping.status(), ExecutionStatus::Succeeded);
    assert_eq!(shipping.invocations(), 3);
    // Map items invoked the plain function from inside their contexts.
    let item_invokes = done
        .operations()
        .iter()
        .filter(|op| op.type_ == OperationType::ChainedInvoke && op.parent_id.is_some())
        .count();
    assert_eq!(item_invokes, 3);
    let tenant = events(&done, EventType::ChainedInvokeStarted)
        .iter()
        .find(|event| event.name.as_deref().map(String::as_str) == Some("ship"))
        .and_then(|event| event.chained_invoke_started_details.clone())
        .and_then(|details| details.tenant_id);
    assert_eq!(tenant.as_deref(), Some("tenant-1"));
}

#[tokio::test]
async fn that_workflow_crashed_after_every_checkpoint_ends_the_same() {
    let input = json!({ "customer": "ada" });
    let clean = everything_runner().run(input.clone()).await.unwrap();
    assert_eq!(clean.result::<Value>().unwrap(), everything_result());
    let calls = clean.stats().checkpoint_calls;
    assert!(calls >= 15, "{calls}");
    for k in 1..=calls {
        let crashed = everything_runner()
            .fault(Fault::crash().at_call(k))
            .run(input.clone())
            .await
            .unwrap();
        assert_eq!(
            crashed.result::<Value>().ok(),
            Some(everything_result()),
            "crash after call {k}: {:?}\n{}",
            crashed.error(),
            crashed.timeline()
        );
        assert!(
            crashed
                .invocation_outcomes()
                .any(|outcome| matches!(outcome, lambda_durable_testing::InvocationOutcome::Crashed { after_call } if *after_call == k)),
            "crash after call {k} did not happen"
        );
        assert_eq!(
            crashed.elapsed(),
            clean.elapsed(),
            "crash after call {k}: a crash costs no virtual time"
        );
        assert!(
            crashed
                .operations()
                .iter()
                .all(|op| op.status == OperationStatus::Succeeded),
            "crash after call {k}"
        );
    }
}

#[tokio::test]
async fn callback_timeouts_out_of_range_are_invalid_arguments() {
    for timeout in [
        Duration::ZERO,
        Duration::from_millis(0),
        Duration::from_secs(100_000_000),
        Duration::MAX,
    ] {
        let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| async move {
            let heartbeat = ctx
                .create_callback::<String>("h")
                .heartbeat_timeout(timeout)
                .await
                .map(|_| ());
            let overall = ctx
                .create_callback::<String>("t")
                .timeout(timeout)
                .await
                .map(|_| ());
            Ok::<_, Error>(vec![describe(&heartbeat), describe(&overall)])
        });
        let done = runner.run(json!({})).await.unwrap();
        let outcomes: Vec<String> = done.result().unwrap();
        for outcome in outcomes {
            assert!(
                outcome.starts_with("other ") && outcome.contains("invalid argument"),
                "{timeout:?}: {outcome}"
            );
        }
        assert_eq!(
            done.operations().len(),
            1,
            "nothing is checkpointed for {timeout:?}"
        );
    }
}

#[tokio::test]
async fn a_responder_that_sends_heartbeats_keeps_a_callback_alive_until_it_answers() {
    let seen = seen();
    // Heartbeats every 60 s, each exactly at the heartbeat deadline (in time), then the
    // answer after 300 s, long past the 60 s heartbeat timeout.
    let runner = LocalRunner::new(callback_outcome_handler(Arc::clone(&seen))).on_callback(
        "approval",
        CallbackResponse::json(json!({ "approved": true, "by": "board" }))
            .after(Duration::from_secs(300))
            .heartbeat_every(Duration::from_secs(60)),
    );
    let done = runner
        .run(json!({ "timeout": 3600, "heartbeat": 60 }))
        .await
        .unwrap();
    let outcome = done.result::<String>().unwrap();
    assert!(outcome.starts_with("ok "), "{outcome}");
    assert_eq!(done.elapsed(), Duration::from_secs(301));
    assert_eq!(at(events(&done, EventType::CallbackSucceeded)[0]), 300_000);
}

#[tokio::test]
async fn a_responder_whose_heartbeats_stop_lets_the_heartbeat_timeout_fire() {
    let seen = seen();
    // Heartbeats at 50, 100 and 150 s, none at 200 s: the callback times out at 210 s.
    let runner = LocalRunner::new(callback_outcome_handler(Arc::clone(&seen))).on_callback(
        "approval",
        CallbackResponse::ignore()
            .after(Duration::from_secs(200))
            .heartbeat_every(Duration::from_secs(50)),
    );
    let done = runner.run(json!({ "heartbeat": 60 })).await.unwrap();
    let outcome = done.result::<String>().unwrap();
    assert!(
        outcome.starts_with("CallbackTimedOut Callback.Heartbeat: "),
        "{outcome}"
    );
    assert_eq!(at(events(&done, EventType::CallbackTimedOut)[0]), 210_000);
}

/// `value` with the fields `set` assigns: the wire types are `#[non_exhaustive]`, so code
/// outside the SDK builds them from their constructors and sets optional fields after.
fn with_fields<T>(mut value: T, set: impl FnOnce(&mut T)) -> T {
    set(&mut value);
    value
}

/// A serdes that writes a number as `{"v": n}`: another format than the default JSON.
struct Tagged;

impl lambda_durable::serdes::Serdes<u32> for Tagged {
    fn serialize(&self, value: &u32) -> Result<String, lambda_durable::serdes::SerdesError> {
        Ok(format!("{{\"v\":{value}}}"))
    }

    fn deserialize(&self, data: &str) -> Result<u32, lambda_durable::serdes::SerdesError> {
        let value: Value =
            serde_json::from_str(data).map_err(lambda_durable::serdes::SerdesError::caused_by)?;
        value
            .get("v")
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| lambda_durable::serdes::SerdesError::new(format!("no \"v\" in {data}")))
    }
}

impl lambda_durable::serdes::Decode<u32> for Tagged {
    fn decode(&self, data: &str) -> Result<u32, lambda_durable::serdes::SerdesError> {
        lambda_durable::serdes::Serdes::deserialize(self, data)
    }
}

/// An invoke's payload and result go through the serdes given for them, on the first run
/// and on the replay after the target answered; a result the serdes cannot read is a
/// serialization error naming the invoke.
#[tokio::test]
async fn invoke_payload_and_result_use_their_serdes() {
    use lambda_durable::serdes::WithSerdes;
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let doubled: u32 = ctx
            .invoke("double", "tagged-doubler", WithSerdes::new(21u32, Tagged))
            .result_serdes(Tagged)
            .await?;
        let unreadable = ctx
            .invoke::<u32>("untagged", "plain-answer", json!({}))
            .result_serdes(Tagged)
            .await
            .unwrap_err();
        let Error::Serialization { action, .. } = &unreadable else {
            panic!("{unreadable}");
        };
        assert_eq!(*action, "deserialize");
        Ok::<_, Error>(json!([doubled, unreadable.to_string()]))
    })
    .register_plain("tagged-doubler", |event: Value| async move {
        // The payload arrives in the serdes' format.
        let v = event["v"]
            .as_u64()
            .ok_or_else(|| Boom(format!("no v in {event}")))?;
        Ok::<_, Boom>(json!({ "v": v * 2 }))
    })
    .register_plain("plain-answer", |_event: Value| async move {
        Ok::<_, Boom>(json!(42))
    });
    let done = runner.run(json!({})).await.unwrap();
    let result = done.result::<Value>().unwrap();
    assert_eq!(result[0], json!(42));
    let message = result[1].as_str().unwrap();
    assert!(
        message.contains("invoke \"untagged\"") && message.contains("no \"v\" in 42"),
        "{message}"
    );
    let started = events(&done, EventType::ChainedInvokeStarted);
    let input = started[0]
        .chained_invoke_started_details
        .as_ref()
        .and_then(|details| details.input.as_ref())
        .and_then(|input| input.payload.as_deref());
    assert_eq!(input, Some(r#"{"v":21}"#));
    // The answers came in later invocations, which replayed the invokes through the serdes.
    assert!(done.invocations() > 1);
    let replay = runner.replay(&done).await.unwrap();
    assert_eq!(replay.mismatches(), Vec::<String>::new());
}

/// wait_for_condition checkpoints its state with the serdes given for it: between polls
/// and at the end, and a replay reads it back with the same serdes.
#[tokio::test]
async fn wait_for_condition_state_uses_its_serdes() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let polls: u32 = ctx
            .wait_for_condition(
                "count",
                0u32,
                |n, _step| async move { Ok::<_, Boom>(n + 1) },
            )
            .serdes(Tagged)
            .strategy(
                WaitStrategyConfig::until(|n: &u32| *n >= 3)
                    .initial_delay(Duration::from_secs(1))
                    .jitter(Jitter::None),
            )
            .await?;
        Ok::<_, Error>(polls)
    });
    let done = runner.run(json!({})).await.unwrap();
    assert_eq!(done.result::<u32>().unwrap(), 3);
    let op = done.operation("count").unwrap();
    let state = op
        .step_details
        .as_ref()
        .and_then(|details| details.result.as_deref());
    assert_eq!(
        state,
        Some(r#"{"v":3}"#),
        "the final state in the serdes' format"
    );
    // Every poll after the first started from the state read back through the serdes.
    let retries = events(&done, EventType::StepSucceeded);
    assert!(retries.len() >= 3, "{retries:?}");
    let replay = runner.replay(&done).await.unwrap();
    assert_eq!(replay.mismatches(), Vec::<String>::new());
}

/// A serdes for a whole batch result: JSON behind a version prefix.
struct Versioned;

impl lambda_durable::serdes::Serdes<lambda_durable::BatchResult<u32>> for Versioned {
    fn serialize(
        &self,
        value: &lambda_durable::BatchResult<u32>,
    ) -> Result<String, lambda_durable::serdes::SerdesError> {
        let json =
            serde_json::to_string(value).map_err(lambda_durable::serdes::SerdesError::caused_by)?;
        Ok(format!("v1:{json}"))
    }

    fn deserialize(
        &self,
        data: &str,
    ) -> Result<lambda_durable::BatchResult<u32>, lambda_durable::serdes::SerdesError> {
        let json = data
            .strip_prefix("v1:")
            .ok_or_else(|| lambda_durable::serdes::SerdesError::new("no v1: prefix"))?;
        serde_json::from_str(json).map_err(lambda_durable::serdes::SerdesError::caused_by)
    }
}

/// Map and parallel record each branch's result with the item serdes and the whole result
/// with the batch serdes; a replay reads both back.
#[tokio::test]
async fn map_and_parallel_results_use_their_serdes() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let squares = ctx
            .map("square", vec![1u32, 2, 3], |item_ctx, n, _| async move {
                item_ctx.wait("pause", Duration::from_secs(1)).await?;
                Ok::<_, Error>(n * n)
            })
            .item_serdes(Tagged)
            .serdes(Versioned)
            .await?;
        let pair = ctx
            .parallel(
                "pair",
                vec![
                    branch("one", |_| async { Ok::<_, Boom>(1u32) }),
                    branch("two", |_| async { Ok::<_, Boom>(2u32) }),
                ],
            )
            .item_serdes(Tagged)
            .serdes(Versioned)
            .await?;
        let values: Vec<u32> = squares
            .succeeded()
            .chain(pair.succeeded())
            .copied()
            .collect();
        Ok::<_, Error>(values)
    });
    let done = runner.run(json!({})).await.unwrap();
    assert_eq!(done.result::<Vec<u32>>().unwrap(), [1, 4, 9, 1, 2]);
    let context_result = |name: &str| {
        done.operation(name)
            .and_then(|op| op.context_details.as_ref())
            .and_then(|details| details.result.clone())
            .unwrap_or_else(|| panic!("{name} has no result"))
    };
    assert_eq!(context_result("map-item-1"), r#"{"v":4}"#);
    assert_eq!(context_result("two"), r#"{"v":2}"#);
    assert!(
        context_result("square").starts_with("v1:{"),
        "{}",
        context_result("square")
    );
    assert!(context_result("pair").starts_with("v1:{"));
    // The waits made later invocations replay the map's items through the item serdes.
    assert!(done.invocations() > 1);
    let replay = runner.replay(&done).await.unwrap();
    assert_eq!(replay.mismatches(), Vec::<String>::new());
}

/// The runner's default serdes writes every value the SDK writes and reads back itself
/// (steps, child contexts, condition states, map items and results, with_retry blocks),
/// unless the operation sets its own; callback results and invokes keep their format; a
/// replay reads everything back.
#[tokio::test]
async fn the_default_serdes_writes_every_value_without_a_serdes_of_its_own() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let a = ctx.step("a", |_| async { Ok::<_, Boom>(1u32) }).await?;
        let own = ctx
            .step("own", |_| async { Ok::<_, Boom>(2u32) })
            .serdes(lambda_durable::serdes::JsonSerdes)
            .await?;
        let child = ctx
            .run_in_child_context("child", |c| async move {
                c.wait("pause", Duration::from_secs(1)).await?;
                Ok::<_, Error>(3u32)
            })
            .await?;
        let polled: u32 = ctx
            .wait_for_condition("poll", 0u32, |n, _| async move { Ok::<_, Boom>(n + 1) })
            .strategy(
                WaitStrategyConfig::until(|n: &u32| *n >= 2)
                    .initial_delay(Duration::from_secs(1))
                    .jitter(Jitter::None),
            )
            .await?;
        let mapped = ctx
            .map("map", vec![4u32], |_, n, _| async move { Ok::<_, Boom>(n) })
            .await?;
        let retried = ctx
            .with_retry("block", |c, _| async move {
                c.step("inner", |_| async { Ok::<_, Boom>(5u32) }).await
            })
            .await?;
        let invoked: Value = ctx.invoke("plain", "echo", json!({"x": 1})).await?;
        Ok::<_, Error>(json!([
            a,
            own,
            child,
            polled,
            mapped.succeeded().sum::<u32>(),
            retried,
            invoked
        ]))
    })
    .default_serdes(support::TaggedJson)
    .register_plain("echo", |event: Value| async move { Ok::<_, Boom>(event) });
    let done = runner.run(json!({})).await.unwrap();
    assert_eq!(
        done.result::<Value>().unwrap(),
        json!([1, 2, 3, 2, 4, 5, {"x": 1}])
    );
    let step = |name: &str| {
        let op = done.operation(name).unwrap_or_else(|| panic!("{name}"));
        op.step_details
            .as_ref()
            .and_then(|d| d.result.clone())
            .or_else(|| op.context_details.as_ref().and_then(|d| d.result.clone()))
            .or_else(|| {
                op.chained_invoke_details
                    .as_ref()
                    .and_then(|d| d.result.clone())
            })
            .unwrap_or_default()
    };
    for name in ["a", "child", "poll", "map", "map-item-0", "block", "inner"] {
        assert!(step(name).starts_with("v1:"), "{name}: {}", step(name));
    }
    assert_eq!(step("own"), "2", "an operation's own serdes wins");
    assert_eq!(
        step("plain"),
        r#"{"x":1}"#,
        "invoke results keep their format"
    );
    let replay = runner.replay(&done).await.unwrap();
    assert_eq!(replay.mismatches(), Vec::<String>::new());
}

/// Refuses to write the number 2: a serdes that fails.
struct NoTwos;

impl lambda_durable::serdes::Serdes<u32> for NoTwos {
    fn serialize(&self, value: &u32) -> Result<String, lambda_durable::serdes::SerdesError> {
        if *value == 2 {
            return Err(lambda_durable::serdes::SerdesError::new("no twos"));
        }
        Ok(value.to_string())
    }

    fn deserialize(&self, data: &str) -> Result<u32, lambda_durable::serdes::SerdesError> {
        data.parse()
            .map_err(lambda_durable::serdes::SerdesError::caused_by)
    }
}

/// A serdes that fails names the operation: a map item whose result does not serialize
/// fails (the others go on), and so does a wait-for-condition whose state does not.
#[tokio::test]
async fn failing_serdes_name_the_operation() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let batch = ctx
            .map("numbers", vec![1u32, 2, 3], |_, n, _| async move {
                Ok::<_, Boom>(n)
            })
            .item_serdes(NoTwos)
            .completion(lambda_durable::CompletionConfig::all_completed())
            .await?;
        let item_error = batch.errors().next().cloned().unwrap();
        let state = ctx
            .wait_for_condition("count", 1u32, |n, _| async move { Ok::<_, Boom>(n + 1) })
            .serdes(NoTwos)
            .await
            .unwrap_err();
        Ok::<_, Error>(json!([
            batch.succeeded().copied().collect::<Vec<u32>>(),
            item_error.error_message,
            state.to_string(),
        ]))
    });
    let done = runner.run(json!({})).await.unwrap();
    let result = done.result::<Value>().unwrap();
    assert_eq!(result[0], json!([1, 3]));
    let item = result[1].as_str().unwrap();
    assert!(
        item.contains("map-item-1") && item.contains("no twos"),
        "{item}"
    );
    let state = result[2].as_str().unwrap();
    assert!(
        state.contains("\"count\"")
            && state.contains("cannot serialize")
            && state.contains("no twos"),
        "{state}"
    );
}

/// A workflow of the newer operations: a block retried as a unit, a virtual context that
/// waits, a parallel of typed branches, a step of a custom sub type, a map with an item
/// serdes, all under a runtime-wide default serdes.
fn newer_operations_runner() -> LocalRunner {
    use lambda_durable::retry::{ExponentialBackoff, NoRetry};
    LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let block: String = ctx
            .with_retry("block", |c, attempt| async move {
                let hold = c
                    .step("hold", move |_| async move {
                        Ok::<_, Boom>(format!("h{attempt}"))
                    })
                    .await?;
                c.step("confirm", move |_| async move {
                    if attempt < 2 {
                        Err(Boom("not yet".into()))
                    } else {
                        Ok(hold)
                    }
                })
                .retry(NoRetry)
                .await
            })
            .retry(
                ExponentialBackoff::new()
                    .max_attempts(3)
                    .initial_delay(Duration::from_secs(1))
                    .jitter(Jitter::None),
            )
            .await?;
        let grouped = ctx
            .run_in_virtual_context("group", |g| async move {
                let a = g.step("a", |_| async { Ok::<_, Boom>(1u32) }).await?;
                g.wait("pause", Duration::from_secs(2)).await?;
                let b = g.step("b", |_| async { Ok::<_, Boom>(2u32) }).await?;
                Ok::<_, Error>(a + b)
            })
            .await?;
        let (text, number) = ctx
            .parallel_tuple(
                "pair",
                (
                    branch("text", |_| async { Ok::<_, Boom>("t".to_string()) }),
                    branch("number", |c: DurableContext| async move {
                        c.wait("later", Duration::from_secs(1)).await?;
                        Ok::<_, Error>(9u32)
                    }),
                ),
            )
            .await?
            .into_values()?;
        let scored = ctx
            .step("score", |_| async { Ok::<_, Boom>(7u32) })
            .sub_type("FraudCheck")
            .await?;
        let mapped = ctx
            .map("map", vec![1u32, 2], |_, n, _| async move {
                Ok::<_, Boom>(n * 10)
            })
            .item_serdes(Tagged)
            .await?;
        Ok::<_, Error>(json!([
            block,
            grouped,
            text,
            number,
            scored,
            mapped.succeeded().sum::<u32>()
        ]))
    })
    .default_serdes(support::TaggedJson)
}

/// Crashing after every checkpoint of that workflow gives the result of a clean run, and
/// every run replays from scratch as it ran.
#[tokio::test]
async fn the_newer_operations_crashed_after_every_checkpoint_end_the_same() {
    let runner = newer_operations_runner();
    let clean = runner.run(json!({})).await.unwrap();
    let expected = json!(["h2", 3, "t", 9, 7, 30]);
    assert_eq!(clean.result::<Value>().unwrap(), expected);
    assert_eq!(
        runner.replay(&clean).await.unwrap().mismatches(),
        Vec::<String>::new()
    );
    let calls = clean.stats().checkpoint_calls;
    assert!(calls >= 8, "{calls}");
    for k in 1..=calls {
        let runner = newer_operations_runner().fault(Fault::crash().at_call(k));
        let crashed = runner.run(json!({})).await.unwrap();
        assert_eq!(
            crashed.result::<Value>().ok(),
            Some(expected.clone()),
            "crash after call {k}: {:?}\n{}",
            crashed.error(),
            crashed.timeline()
        );
        assert_eq!(crashed.elapsed(), clean.elapsed(), "crash after call {k}");
        assert_eq!(
            runner.replay(&crashed).await.unwrap().mismatches(),
            Vec::<String>::new(),
            "crash after call {k}"
        );
    }
}
