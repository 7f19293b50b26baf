//! Tests of the invocation driver against an in-memory service.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use super::*;
use crate::checkpoint::ServiceErrorKind;
use crate::wire::{
    CheckpointDurableExecutionRequest, CheckpointDurableExecutionResponse,
    CheckpointUpdatedExecutionState, GetDurableExecutionStateResponse,
};

/// Accepts every checkpoint, echoing the written operations as STARTED (waits) or with
/// the status their action implies.
#[derive(Default)]
struct Echo {
    updates: Mutex<Vec<OperationUpdate>>,
    fail_with: Option<ServiceErrorKind>,
}

impl DurableService for Echo {
    fn checkpoint<'a>(
        &'a self,
        _arn: &'a str,
        request: &'a CheckpointDurableExecutionRequest,
    ) -> BoxFuture<'a, Result<CheckpointDurableExecutionResponse, ServiceError>> {
        Box::pin(async move {
            if let Some(kind) = self.fail_with {
                return Err(ServiceError::new(kind, "Injected", "injected failure"));
            }
            self.updates
                .lock()
                .unwrap()
                .extend(request.updates.iter().cloned());
            let operations = request
                .updates
                .iter()
                .map(|update| {
                    let status = match update.action {
                        OperationAction::Succeed => "SUCCEEDED",
                        OperationAction::Fail => "FAILED",
                        OperationAction::Retry => "PENDING",
                        _ => "STARTED",
                    };
                    serde_json::from_value(json!({
                        "Id": update.id.as_str(), "Type": update.type_, "Status": status,
                        "SubType": update.sub_type, "Name": update.name,
                    }))
                    .unwrap()
                })
                .collect();
            Ok(CheckpointDurableExecutionResponse {
                checkpoint_token: Some("next".try_into().unwrap()),
                new_execution_state: Some(CheckpointUpdatedExecutionState {
                    operations,
                    next_marker: None,
                }),
            })
        })
    }

    fn get_state<'a>(
        &'a self,
        _arn: &'a str,
        _request: &'a GetDurableExecutionStateRequest,
    ) -> BoxFuture<'a, Result<GetDurableExecutionStateResponse, ServiceError>> {
        Box::pin(async {
            Ok(GetDurableExecutionStateResponse {
                operations: Vec::new(),
                next_marker: None,
            })
        })
    }
}

fn input() -> DurableExecutionInvocationInput {
    serde_json::from_value(json!({
        "DurableExecutionArn": "arn:test",
        "CheckpointToken": "first",
        "InitialExecutionState": {"Operations": [{
            "Id": "exec", "Type": "EXECUTION", "Status": "STARTED",
            "ExecutionDetails": {"InputPayload": "{}"}
        }]}
    }))
    .unwrap()
}

fn options(deadline_in: Option<Duration>) -> InvocationOptions {
    InvocationOptions {
        deadline: deadline_in.map(|d| tokio::time::Instant::now() + d),
        deadline_margin: Duration::from_millis(100),
        drain_timeout: Duration::from_secs(2),
        batcher: BatcherConfig {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(1),
            ..BatcherConfig::default()
        },
        ..InvocationOptions::default()
    }
}

/// Near the deadline, with a wait pending beside a long step, the invocation flushes what
/// is queued and ends with a function error: the step could still finish, so `PENDING`
/// (which waits for the wait's timer) would leave it stranded.
#[tokio::test]
async fn deadline_with_a_parked_wait_beside_a_running_step_is_a_function_error() {
    let service = Arc::new(Echo::default());
    let handler = erase(|_: Value, ctx: DurableContext| async move {
        let wait = ctx.wait("later", Duration::from_secs(60));
        let slow = ctx.step("slow", |_| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok::<_, std::io::Error>(())
        });
        let (wait, slow) = tokio::join!(wait, std::future::IntoFuture::into_future(slow));
        wait?;
        slow
    });
    let started = std::time::Instant::now();
    let output = execute(
        service.clone(),
        input(),
        &handler,
        &options(Some(Duration::from_millis(300))),
    )
    .await;
    assert!(output.is_err(), "{output:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let updates = service.updates.lock().unwrap();
    assert!(
        updates
            .iter()
            .any(|u| u.name.as_deref().map(|n| n.as_str()) == Some("slow")),
        "the step's START was flushed"
    );
}

/// With only a parked wait (nothing running), the invocation suspends before the deadline.
#[tokio::test]
async fn parked_wait_alone_suspends() {
    let service = Arc::new(Echo::default());
    let handler = erase(|_: Value, ctx: DurableContext| async move {
        ctx.wait("later", Duration::from_secs(60)).await
    });
    let output = execute(
        service.clone(),
        input(),
        &handler,
        &options(Some(Duration::from_secs(30))),
    )
    .await
    .unwrap();
    assert_eq!(output.status, InvocationStatus::Pending);
}

/// Near the deadline with nothing pending (only a long step running), the invocation ends
/// with a function error so that it is retried.
#[tokio::test]
async fn deadline_without_pending_work_is_a_function_error() {
    let service = Arc::new(Echo::default());
    let handler = erase(|_: Value, ctx: DurableContext| async move {
        ctx.step("slow", |_| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok::<_, std::io::Error>(())
        })
        .await
    });
    let err = execute(
        service,
        input(),
        &handler,
        &options(Some(Duration::from_millis(300))),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("deadline"), "{err}");
}

/// A service that stays unavailable makes the invocation fail with a function error
/// (retried by Lambda); a non-retryable service error fails the execution.
#[tokio::test]
async fn checkpoint_failures_are_classified() {
    let handler = erase(|_: Value, ctx: DurableContext| async move {
        ctx.step("s", |_| async { Ok::<_, std::io::Error>(1) })
            .await
    });
    let unavailable = Arc::new(Echo {
        fail_with: Some(ServiceErrorKind::Server),
        ..Echo::default()
    });
    let err = execute(unavailable, input(), &handler, &options(None))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("gave up"), "{err}");

    let rejected = Arc::new(Echo {
        fail_with: Some(ServiceErrorKind::InvalidParameter),
        ..Echo::default()
    });
    let output = execute(rejected, input(), &handler, &options(None))
        .await
        .unwrap();
    assert_eq!(output.status, InvocationStatus::Failed);
    let error = output.error.unwrap();
    assert_eq!(error.error_type.as_deref(), Some("CheckpointError"));
    assert!(error.error_message.unwrap().contains("injected failure"));
}

/// Updates queued without waiting (a child context's outcome) are written before the
/// invocation returns.
#[tokio::test]
async fn nothing_queued_is_lost_when_the_handler_finishes() {
    let service = Arc::new(Echo::default());
    let handler = erase(|_: Value, ctx: DurableContext| async move {
        ctx.run_in_child_context("group", |_child| async { Ok::<_, std::io::Error>(5) })
            .await
    });
    let output = execute(service.clone(), input(), &handler, &options(None))
        .await
        .unwrap();
    assert_eq!(output.status, InvocationStatus::Succeeded);
    assert_eq!(output.result.as_deref(), Some("5"));
    let actions: Vec<OperationAction> = service
        .updates
        .lock()
        .unwrap()
        .iter()
        .map(|u| u.action)
        .collect();
    assert_eq!(
        actions,
        vec![OperationAction::Start, OperationAction::Succeed]
    );
}

/// An envelope recording a step, a wait, a child context with a step inside and a
/// callback still waiting, for the handler of [`recorded_handler`].
fn recorded_envelope() -> Value {
    let id = |path: &str| crate::replay::operation_id(path);
    let at = "2026-01-01T00:00:00Z";
    json!({
        "DurableExecutionArn": "arn:test",
        "CheckpointToken": "first",
        "InitialExecutionState": {"Operations": [
            {"Id": "exec", "Type": "EXECUTION", "Status": "STARTED", "StartTimestamp": at,
             "ExecutionDetails": {"InputPayload": "{\"n\":2}"}},
            {"Id": id("1"), "Type": "STEP", "SubType": "Step", "Name": "a", "Status": "SUCCEEDED",
             "StartTimestamp": at, "EndTimestamp": 1767225601000_i64,
             "StepDetails": {"Attempt": 1, "Result": "1"}},
            {"Id": id("2"), "Type": "WAIT", "SubType": "Wait", "Name": "w", "Status": "SUCCEEDED",
             "StartTimestamp": at, "WaitDetails": {"ScheduledEndTimestamp": 1767225605.0}},
            {"Id": id("3"), "Type": "CONTEXT", "SubType": "RunInChildContext", "Name": "c",
             "Status": "SUCCEEDED", "StartTimestamp": at, "ContextDetails": {"Result": "3"}},
            {"Id": id("3-1"), "ParentId": id("3"), "Type": "STEP", "SubType": "Step", "Name": "cs",
             "Status": "SUCCEEDED", "StartTimestamp": at, "StepDetails": {"Result": "3"}},
            {"Id": id("4"), "Type": "CALLBACK", "SubType": "Callback", "Name": "cb",
             "Status": "STARTED", "StartTimestamp": at, "CallbackDetails": {"CallbackId": "cb-1"}}
        ], "NextMarker": ""}
    })
}

#[derive(serde::Deserialize)]
struct Event {
    n: u32,
}

fn recorded_handler() -> ErasedHandler {
    erase(|event: Event, ctx: DurableContext| async move {
        let a: u32 = ctx
            .step("a", |_| async { Ok::<_, std::io::Error>(1) })
            .await?;
        ctx.wait("w", Duration::from_secs(5)).await?;
        let c: u32 = ctx
            .run_in_child_context("c", |child| async move {
                child
                    .step("cs", |_| async { Ok::<_, std::io::Error>(3) })
                    .await
            })
            .await?;
        let callback = ctx.create_callback::<u32>("cb").await?;
        let v = callback.result().await?;
        Ok::<_, Error>(event.n + a + c + v)
    })
}

/// Every JSON node of the envelope, by path.
fn nodes(value: &Value, path: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(path.clone());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                path.push(Value::String(key.clone()));
                nodes(child, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                path.push(json!(index));
                nodes(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Replaces (or, with `None`, removes) the node at `path`.
fn mutate(mut root: Value, path: &[Value], with: Option<Value>) -> Value {
    let Some((last, parents)) = path.split_last() else {
        return with.unwrap_or(Value::Null);
    };
    let mut node = &mut root;
    for step in parents {
        node = match step {
            Value::String(key) => &mut node[key.as_str()],
            _ => &mut node[step.as_u64().unwrap() as usize],
        };
    }
    match (node, last, with) {
        (Value::Object(map), Value::String(key), Some(value)) => {
            map.insert(key.clone(), value);
        }
        (Value::Object(map), Value::String(key), None) => {
            map.remove(key);
        }
        (Value::Array(items), index, Some(value)) => {
            items[index.as_u64().unwrap() as usize] = value;
        }
        (Value::Array(items), index, None) => {
            items.remove(index.as_u64().unwrap() as usize);
        }
        _ => unreachable!("paths come from the same document"),
    }
    root
}

/// Bad input never panics: every node of a recorded envelope replaced by a value of each
/// JSON type, or removed, gives a parse error that names the envelope's field, or an
/// invocation that ends (PENDING, SUCCEEDED, or FAILED with an error that says what is
/// wrong). The untouched envelope suspends on the callback.
#[tokio::test]
async fn mutated_envelopes_never_panic() {
    let envelope = recorded_envelope();
    let handler = recorded_handler();
    let service: Arc<dyn DurableService> = Arc::new(Echo::default());
    let run = |payload: Value| {
        let handler = Arc::clone(&handler);
        let service = Arc::clone(&service);
        async move {
            let input = crate::lambda::parse_envelope(payload)?;
            Ok::<_, Error>(
                execute(
                    service,
                    input,
                    &handler,
                    &options(Some(Duration::from_secs(5))),
                )
                .await,
            )
        }
    };
    let baseline = run(envelope.clone()).await.unwrap().unwrap();
    assert_eq!(baseline.status, InvocationStatus::Pending);

    let mut paths = Vec::new();
    nodes(&envelope, &mut Vec::new(), &mut paths);
    let replacements = [
        Some(Value::Null),
        Some(json!(7)),
        Some(json!(-1.5)),
        Some(json!("x")),
        Some(json!([])),
        Some(json!({})),
        Some(json!(true)),
        None,
    ];
    let (mut parse_errors, mut ended) = (0, 0);
    for path in &paths {
        for with in &replacements {
            let mutated = mutate(envelope.clone(), path, with.clone());
            match run(mutated).await {
                Err(err) => {
                    let message = err.to_string();
                    assert!(
                        message.contains("durable execution envelope"),
                        "{path:?} -> {with:?}: {message}"
                    );
                    parse_errors += 1;
                }
                Ok(Err(err)) => {
                    // A function error (the invocation is retried): it says why.
                    assert!(!err.to_string().is_empty(), "{path:?} -> {with:?}");
                    ended += 1;
                }
                Ok(Ok(output)) => {
                    if output.status == InvocationStatus::Failed {
                        let error = output.error.unwrap();
                        assert!(
                            error.error_type.is_some()
                                && error
                                    .error_message
                                    .as_deref()
                                    .is_some_and(|m| !m.is_empty()),
                            "{path:?} -> {with:?}: {error:?}"
                        );
                    }
                    ended += 1;
                }
            }
        }
    }
    // Both kinds of outcome were exercised.
    assert!(parse_errors > 100 && ended > 100, "{parse_errors} {ended}");
}

/// A checkpoint service that never answers.
struct Hang;

impl DurableService for Hang {
    fn checkpoint<'a>(
        &'a self,
        _arn: &'a str,
        _request: &'a CheckpointDurableExecutionRequest,
    ) -> BoxFuture<'a, Result<CheckpointDurableExecutionResponse, ServiceError>> {
        Box::pin(std::future::pending())
    }

    fn get_state<'a>(
        &'a self,
        _arn: &'a str,
        _request: &'a GetDurableExecutionStateRequest,
    ) -> BoxFuture<'a, Result<GetDurableExecutionStateResponse, ServiceError>> {
        Box::pin(std::future::pending())
    }
}

/// A handler that returned while its last checkpoints cannot be written: the invocation
/// ends with a function error before its deadline instead of waiting past it (Lambda would
/// kill it without a word).
#[tokio::test(start_paused = true)]
async fn completion_is_bounded_by_the_deadline() {
    let handler: ErasedHandler = erase(|_: Value, ctx: DurableContext| async move {
        // A child context queues its updates; completing must write them first.
        ctx.run_in_child_context("queued", |_| async { Ok::<_, Error>(1) })
            .await
    });
    let deadline = Duration::from_secs(3);
    let started = tokio::time::Instant::now();
    let outcome = tokio::time::timeout(
        Duration::from_secs(60),
        execute(Arc::new(Hang), input(), &handler, &options(Some(deadline))),
    )
    .await
    .expect("the invocation must end by its deadline");
    let err = outcome.expect_err("the outcome cannot be written: a function error");
    assert!(err.to_string().contains("time"), "{err}");
    assert!(started.elapsed() <= deadline, "{:?}", started.elapsed());
}
