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
/// is queued and returns PENDING.
#[tokio::test]
async fn deadline_with_pending_work_suspends() {
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
    .await
    .unwrap();
    assert_eq!(output.status, InvocationStatus::Pending);
    assert!(started.elapsed() < Duration::from_secs(5));
    let updates = service.updates.lock().unwrap();
    assert!(
        updates
            .iter()
            .any(|u| u.name.as_deref().map(|n| n.as_str()) == Some("slow")),
        "the step's START was flushed"
    );
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
