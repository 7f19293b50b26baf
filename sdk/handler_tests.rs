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
    /// Answers every update with this status instead (a newer service's value).
    answer_status: Option<&'static str>,
    /// More operations (JSON) in every checkpoint response.
    extra: Vec<Value>,
    /// The operations (JSON) of every `GetDurableExecutionState` page.
    page: Vec<Value>,
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
                        _ if self.answer_status.is_some() => self.answer_status.unwrap(),
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
                .chain(
                    self.extra
                        .iter()
                        .map(|op| serde_json::from_value(op.clone()).unwrap()),
                )
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
                operations: self
                    .page
                    .iter()
                    .map(|op| serde_json::from_value(op.clone()).unwrap())
                    .collect(),
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

/// An invoke's options reach its START update: the tenant and the trace header the target
/// runs under, and the payload written by the serdes given with it.
#[tokio::test]
async fn invoke_options_are_sent_on_start() {
    let service = Arc::new(Echo::default());
    let handler = erase(|_: Value, ctx: DurableContext| async move {
        ctx.invoke::<Value>(
            "ship",
            "shipping:live",
            crate::serdes::WithSerdes::new("plain".to_string(), crate::serdes::RawString),
        )
        .tenant_id("tenant-1")
        .trace_header("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
        .await
    });
    let output = execute(service.clone(), input(), &handler, &options(None))
        .await
        .unwrap();
    assert_eq!(output.status, InvocationStatus::Pending);
    let updates = service.updates.lock().unwrap();
    let start = updates
        .iter()
        .find(|update| update.type_ == OperationType::ChainedInvoke)
        .expect("the invoke's START");
    assert_eq!(start.payload.as_deref(), Some("plain"));
    let options = start.chained_invoke_options.as_ref().unwrap();
    assert_eq!(options.function_name, "shipping:live");
    assert_eq!(options.tenant_id.as_deref(), Some("tenant-1"));
    assert_eq!(
        options.x_amzn_trace_id.as_deref(),
        Some("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")
    );
}

/// A trace header over the service's limit is refused before anything is sent.
#[tokio::test]
async fn an_oversized_trace_header_is_an_invalid_argument() {
    let service = Arc::new(Echo::default());
    let handler = erase(|_: Value, ctx: DurableContext| async move {
        let err = ctx
            .invoke::<Value>("ship", "shipping", json!({}))
            .trace_header("x".repeat(8193))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { .. })
                && err.to_string().contains("trace header"),
            "{err}"
        );
        Ok::<_, Error>(())
    });
    let output = execute(service.clone(), input(), &handler, &options(None))
        .await
        .unwrap();
    assert_eq!(output.status, InvocationStatus::Succeeded, "{output:?}");
    assert!(service
        .updates
        .lock()
        .unwrap()
        .iter()
        .all(|update| update.type_ != OperationType::ChainedInvoke));
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

/// A service answer this SDK version cannot read (an operation breaking its schemas) ends
/// the invocation with a function error at once, for a checkpoint and for a state page
/// alike: Lambda invokes again, and a newer SDK can continue the execution, which FAILED
/// would have ended for good.
#[tokio::test]
async fn unreadable_service_answers_are_function_errors() {
    let handler = erase(|_: Value, ctx: DurableContext| async move {
        ctx.step("s", |_| async { Ok::<_, std::io::Error>(1) })
            .await
    });
    let unreadable = Arc::new(Echo {
        fail_with: Some(ServiceErrorKind::UnreadableResponse),
        ..Echo::default()
    });
    let err = execute(unreadable, input(), &handler, &options(None))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("injected failure"), "{err}");

    let page = ServiceError::new(
        ServiceErrorKind::UnreadableResponse,
        "InvalidResponse",
        "Operations[0].Id: does not match the pattern",
    );
    let err = retry_or_fail(page, 1, &BatcherConfig::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Checkpoint {
                retryable: true,
                ..
            }
        ),
        "{err:?}"
    );
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

// ---------------------------------------------------------------------------------------
// Operations this SDK version cannot interpret (issue 10, defect 6)
// ---------------------------------------------------------------------------------------

/// An envelope whose operations are `ops` (after the EXECUTION operation), with a next
/// page when `next_page` is set.
fn envelope_with(ops: Vec<Value>, next_page: bool) -> DurableExecutionInvocationInput {
    let mut operations = vec![json!({
        "Id": "exec", "Type": "EXECUTION", "Status": "STARTED",
        "ExecutionDetails": {"InputPayload": "{}"}
    })];
    operations.extend(ops);
    crate::lambda::parse_envelope(json!({
        "DurableExecutionArn": "arn:test",
        "CheckpointToken": "first",
        "InitialExecutionState": {
            "Operations": operations,
            "NextMarker": if next_page { "page-2" } else { "" },
        }
    }))
    .unwrap()
}

/// A step "a", then a child context "c" with a step "cs" inside; returns a + c.
fn step_and_context_handler() -> ErasedHandler {
    erase(|_: Value, ctx: DurableContext| async move {
        let a: u32 = ctx
            .step("a", |_| async { Ok::<_, std::io::Error>(1) })
            .await?;
        let c: u32 = ctx
            .run_in_child_context("c", |child| async move {
                child
                    .step("cs", |_| async { Ok::<_, std::io::Error>(2) })
                    .await
            })
            .await?;
        Ok::<_, Error>(a + c)
    })
}

fn succeeded_step(path: &str, name: &str, result: &str) -> Value {
    json!({"Id": crate::replay::operation_id(path), "Type": "STEP", "SubType": "Step",
           "Name": name, "Status": "SUCCEEDED", "StepDetails": {"Attempt": 1, "Result": result}})
}

/// The context "c" (path 2) recorded as SUCCEEDED, so replay returns its result without
/// running its body; under it, operations with a status and a type this SDK does not know.
fn completed_context_with_unknown_children() -> Vec<Value> {
    let context = crate::replay::operation_id("2");
    vec![
        succeeded_step("1", "a", "1"),
        json!({"Id": context, "Type": "CONTEXT", "SubType": "RunInChildContext", "Name": "c",
               "Status": "SUCCEEDED", "ContextDetails": {"Result": "2"}}),
        json!({"Id": crate::replay::operation_id("2-1"), "ParentId": context, "Type": "STEP",
               "SubType": "Step", "Name": "cs", "Status": "PAUSED"}),
        json!({"Id": "service-side-1", "ParentId": context, "Type": "TIMER",
               "Status": "ARMED"}),
    ]
}

fn expect_unknown_value(output: DurableExecutionInvocationOutput, id: &str, value: &str) {
    assert_eq!(output.status, InvocationStatus::Failed, "{output:?}");
    let error = output.error.unwrap();
    assert_eq!(
        error.error_type.as_deref(),
        Some("UnknownProtocolValueError"),
        "{error:?}"
    );
    let message = error.error_message.unwrap();
    assert!(message.contains(id), "{message}");
    assert!(message.contains(&format!("{value:?}")), "{message}");
    assert!(message.contains("upgrade the SDK"), "{message}");
}

/// Operations with values this SDK does not know, where replay never reaches them (under a
/// context that completed in an earlier invocation), do not matter: the execution
/// completes.
#[tokio::test]
async fn unknown_values_that_replay_never_reaches_do_not_matter() {
    let service = Arc::new(Echo::default());
    let output = execute(
        service.clone(),
        envelope_with(completed_context_with_unknown_children(), false),
        &step_and_context_handler(),
        &options(None),
    )
    .await
    .unwrap();
    assert_eq!(output.status, InvocationStatus::Succeeded, "{output:?}");
    assert_eq!(output.result.as_deref(), Some("3"));
    assert!(service.updates.lock().unwrap().is_empty());
}

/// Replay reaching an operation whose status this SDK does not know fails the execution
/// with an error naming the operation and the value, without running anything.
#[tokio::test]
async fn reaching_an_unknown_status_fails_naming_it() {
    let service = Arc::new(Echo::default());
    let step = crate::replay::operation_id("1");
    let output = execute(
        service.clone(),
        envelope_with(
            vec![
                json!({"Id": step, "Type": "STEP", "SubType": "Step", "Name": "a",
                        "Status": "PAUSED"}),
            ],
            false,
        ),
        &step_and_context_handler(),
        &options(None),
    )
    .await
    .unwrap();
    expect_unknown_value(output, &step, "PAUSED");
    assert!(service.updates.lock().unwrap().is_empty());
}

/// The same for an operation type this SDK does not know: the unknown value is reported
/// (not a non-determinism error), even though the code asks for a step there.
#[tokio::test]
async fn reaching_an_unknown_type_fails_naming_it() {
    let step = crate::replay::operation_id("1");
    let output = execute(
        Arc::new(Echo::default()),
        envelope_with(
            vec![json!({"Id": step, "Type": "TIMER", "Name": "a", "Status": "STARTED"})],
            false,
        ),
        &step_and_context_handler(),
        &options(None),
    )
    .await
    .unwrap();
    expect_unknown_value(output, &step, "TIMER");
}

/// A handler that returns without reaching a root operation with an unknown type: the
/// completion check names the unknown value (the SDK cannot tell whether the code should
/// have asked for it).
#[tokio::test]
async fn an_unknown_operation_left_unvisited_at_the_root_is_reported_as_unknown() {
    let handler = erase(|_: Value, ctx: DurableContext| async move {
        ctx.step("a", |_| async { Ok::<_, std::io::Error>(1) })
            .await
    });
    let output = execute(
        Arc::new(Echo::default()),
        envelope_with(
            vec![
                succeeded_step("1", "a", "1"),
                json!({"Id": "service-side-2", "Type": "TIMER", "Status": "ARMED"}),
            ],
            false,
        ),
        &handler,
        &options(None),
    )
    .await
    .unwrap();
    expect_unknown_value(output, "service-side-2", "TIMER");
}

/// Unknown values in a state page are kept like those of the envelope: unreached, they do
/// not matter; reached, they fail naming the operation.
#[tokio::test]
async fn unknown_values_in_a_state_page() {
    let unreached = Arc::new(Echo {
        page: completed_context_with_unknown_children(),
        ..Echo::default()
    });
    let output = execute(
        unreached,
        envelope_with(Vec::new(), true),
        &step_and_context_handler(),
        &options(None),
    )
    .await
    .unwrap();
    assert_eq!(output.status, InvocationStatus::Succeeded, "{output:?}");

    let step = crate::replay::operation_id("1");
    let reached = Arc::new(Echo {
        page: vec![
            json!({"Id": step, "Type": "STEP", "SubType": "Step", "Name": "a",
                          "Status": "QUARANTINED"}),
        ],
        ..Echo::default()
    });
    let output = execute(
        reached,
        envelope_with(Vec::new(), true),
        &step_and_context_handler(),
        &options(None),
    )
    .await
    .unwrap();
    expect_unknown_value(output, &step, "QUARANTINED");
}

/// Unknown values in a checkpoint response: an operation the code never reads again does
/// not matter; one it reads back (a wait, after its START) fails the execution naming it.
#[tokio::test]
async fn unknown_values_in_a_checkpoint_response() {
    let unrelated = Arc::new(Echo {
        extra: vec![
            json!({"Id": "service-side-3", "ParentId": crate::replay::operation_id("2"),
                           "Type": "TIMER", "Status": "ARMED"}),
        ],
        ..Echo::default()
    });
    let handler = erase(|_: Value, ctx: DurableContext| async move {
        let a: u32 = ctx
            .step("a", |_| async { Ok::<_, std::io::Error>(1) })
            .await?;
        Ok::<_, Error>(a)
    });
    let output = execute(unrelated, input(), &handler, &options(None))
        .await
        .unwrap();
    assert_eq!(output.status, InvocationStatus::Succeeded, "{output:?}");

    let paused = Arc::new(Echo {
        answer_status: Some("PAUSED"),
        ..Echo::default()
    });
    let handler = erase(|_: Value, ctx: DurableContext| async move {
        ctx.wait("w", Duration::from_secs(5)).await?;
        Ok::<_, Error>(())
    });
    let output = execute(
        paused,
        input(),
        &handler,
        &options(Some(Duration::from_secs(10))),
    )
    .await
    .unwrap();
    expect_unknown_value(output, &crate::replay::operation_id("1"), "PAUSED");

    // A callback whose START is answered with an unknown status: the unknown value is
    // the error, not what the code made of the record it could not read (no callback id).
    let paused = Arc::new(Echo {
        answer_status: Some("PAUSED"),
        ..Echo::default()
    });
    let handler = erase(|_: Value, ctx: DurableContext| async move {
        let callback = ctx.create_callback::<u32>("cb").await?;
        callback.result().await
    });
    let output = execute(
        paused,
        input(),
        &handler,
        &options(Some(Duration::from_secs(10))),
    )
    .await
    .unwrap();
    expect_unknown_value(output, &crate::replay::operation_id("1"), "PAUSED");
}
