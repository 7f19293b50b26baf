//! The example workflow's tests.
//!
//! The scenarios of the first part run on the runner the environment picks
//! ([`TestRunner::from_env`]): in-process on the local runner by default, and against a
//! deployed `hello` function when `LAMBDA_DURABLE_TEST_FUNCTION` names it (on AWS, or on
//! AWS's local emulator with `LAMBDA_DURABLE_TEST_START=emulator`; see the README). They
//! assert only what both runners see the same way: status, result, error, operations,
//! history and timeline.
//!
//! The tests of the second part depend on the local runner's virtual clock and bookkeeping
//! (elapsed time, invocation counts, a one-day timeout that passes in no time) and always
//! run locally.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hello::{process_order, Order, Receipt, APPROVAL_TIMEOUT};
use lambda_durable::wire::{EventType, ExecutionStatus, OperationStatus};
use lambda_durable_testing::{
    CallbackResponse, DurableRunner, Execution, ExecutionHandle, LocalRunner, RunnerError,
    TestRunner,
};
use serde_json::json;

fn order(cents: u64, items: &[&str]) -> Order {
    Order {
        id: "order-7".to_string(),
        cents,
        items: items.iter().map(|item| item.to_string()).collect(),
    }
}

/// A large order: it waits for a manager's approval.
fn large_order() -> Order {
    order(250_000, &["piano"])
}

/// The runner the environment asks for (see the module documentation).
fn runner() -> TestRunner {
    TestRunner::from_env(LocalRunner::new(process_order)).unwrap()
}

/// The history's event types, without the invocations (which the local runner and the
/// service record differently).
fn event_types(execution: &Execution) -> Vec<EventType> {
    execution
        .history()
        .iter()
        .map(|event| event.event_type)
        .filter(|ty| *ty != EventType::InvocationCompleted)
        .collect()
}

// ---------------------------------------------------------------------------------------
// On any runner
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn processes_an_order_with_a_retry_and_a_wait() {
    let execution = runner().run(order(990, &["mug"])).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{}",
        execution.timeline()
    );
    assert_eq!(
        execution.result::<Receipt>().unwrap(),
        Receipt {
            order: "order-7".to_string(),
            charge: "ch_990_2".to_string(),
            tracking: "TRACK-1-order-7".to_string(),
            approved_by: None,
        }
    );
    let charge = execution.operation("charge card").unwrap();
    assert_eq!(charge.step_details.as_ref().unwrap().attempt, Some(2));
    assert!(execution.operation("approval").is_none());
    assert_eq!(
        event_types(&execution),
        vec![
            EventType::ExecutionStarted,
            EventType::StepStarted,
            EventType::StepSucceeded,
            EventType::StepStarted,
            EventType::StepFailed,
            EventType::StepStarted,
            EventType::StepSucceeded,
            EventType::WaitStarted,
            EventType::WaitSucceeded,
            EventType::StepStarted,
            EventType::StepSucceeded,
            EventType::ExecutionSucceeded,
        ]
    );
    let timeline = execution.timeline();
    assert!(timeline.contains("retry in 10s"), "{timeline}");
    assert!(
        timeline.contains("wait \"cool-off\" started: 3600s"),
        "{timeline}"
    );
}

#[tokio::test]
async fn an_empty_order_fails_validation() {
    let execution = runner().run(order(990, &[])).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Failed,
        "{}",
        execution.timeline()
    );
    let error = execution.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("StepError"));
    assert_eq!(
        error.error_message.as_deref(),
        Some("invalid order: no items")
    );
    assert!(execution.operation("charge card").is_none());
    assert!(matches!(
        execution.result::<Receipt>(),
        Err(RunnerError::NoResult {
            status: ExecutionStatus::Failed,
            ..
        })
    ));
}

#[tokio::test]
async fn a_large_order_is_approved_by_a_manager() {
    let runner = runner().on_callback("approval", CallbackResponse::json(json!({"by": "grace"})));
    let execution = runner.run(large_order()).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{}",
        execution.timeline()
    );
    let receipt = execution.result::<Receipt>().unwrap();
    assert_eq!(receipt.approved_by.as_deref(), Some("grace"));
    assert_eq!(receipt.charge, "ch_250000_2");
    let approval = execution.operation("approval").unwrap();
    assert_eq!(approval.status, OperationStatus::Succeeded);
    let types = event_types(&execution);
    let started = types
        .iter()
        .position(|ty| *ty == EventType::CallbackStarted);
    let succeeded = types
        .iter()
        .position(|ty| *ty == EventType::CallbackSucceeded);
    let charged = types.iter().rposition(|ty| *ty == EventType::StepFailed);
    assert!(
        started < succeeded && succeeded < charged,
        "the approval comes before the charge: {types:?}"
    );
}

#[tokio::test]
async fn a_manager_rejects_a_large_order() {
    let runner = runner().on_callback(
        "approval",
        CallbackResponse::failure("Rejected", "over budget"),
    );
    let execution = runner.run(large_order()).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Failed,
        "{}",
        execution.timeline()
    );
    let error = execution.error().unwrap();
    assert_eq!(error.error_message.as_deref(), Some("over budget"));
    assert!(
        execution.operation("charge card").is_none(),
        "nothing is charged"
    );
    assert!(event_types(&execution).contains(&EventType::CallbackFailed));
}

#[tokio::test]
async fn a_manager_approves_by_hand() {
    let runner = runner();
    let mut execution = runner.start(large_order()).await.unwrap();
    let approval = execution.wait_for_callback("approval").await.unwrap();
    assert_eq!(approval.name(), Some("approval"));
    assert_eq!(approval.execution_arn(), execution.arn());
    let pending = execution.pending_callbacks().await.unwrap();
    assert_eq!(pending, vec![approval.clone()]);

    execution
        .send_callback_success(approval.id(), r#"{"by": "alice"}"#)
        .await
        .unwrap();
    // A callback is completed once.
    match execution
        .send_callback_success(approval.id(), r#"{"by": "bob"}"#)
        .await
    {
        Err(RunnerError::Callback(err)) => assert_eq!(err.code(), "ResourceNotFoundException"),
        other => panic!("a second answer must be refused: {other:?}"),
    }

    let done = execution.finish().await.unwrap();
    assert_eq!(
        done.status(),
        ExecutionStatus::Succeeded,
        "{}",
        done.timeline()
    );
    assert_eq!(
        done.result::<Receipt>().unwrap().approved_by.as_deref(),
        Some("alice")
    );
}

#[tokio::test]
async fn a_small_order_has_no_callback_to_wait_for() {
    let runner = runner();
    let mut execution = runner.start(order(990, &["mug"])).await.unwrap();
    match execution.wait_for_callback("approval").await {
        Err(RunnerError::NoPendingCallback { status, .. }) => {
            assert_eq!(status, ExecutionStatus::Succeeded)
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// On the local runner only: virtual time and invocation counts
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_retry_and_the_wait_take_virtual_time_and_three_invocations() {
    let execution = LocalRunner::new(process_order)
        .run(order(990, &["mug"]))
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    // Suspended for the retry and for the wait.
    assert_eq!(execution.invocations(), 3);
    assert_eq!(execution.elapsed().as_secs(), 10 + 3600);
}

#[tokio::test]
async fn an_approval_that_comes_late_delays_the_order() {
    let two_hours = Duration::from_secs(2 * 3600);
    let execution = LocalRunner::new(process_order)
        .on_callback(
            "approval",
            CallbackResponse::json(json!({"by": "grace"})).after(two_hours),
        )
        .run(large_order())
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    assert_eq!(
        execution.elapsed(),
        two_hours + Duration::from_secs(10 + 3600)
    );
}

#[tokio::test]
async fn an_order_nobody_approves_times_out_after_a_day() {
    let execution = LocalRunner::new(process_order)
        .on_callback("approval", CallbackResponse::ignore())
        .run(large_order())
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    assert_eq!(execution.elapsed(), APPROVAL_TIMEOUT);
    let approval = execution.operation("approval").unwrap();
    assert_eq!(approval.status, OperationStatus::Failed);
    assert!(event_types(&execution).contains(&EventType::CallbackTimedOut));
    assert!(execution.operation("charge card").is_none());
}

/// One call: the workflow ends the same whatever checkpoint call its invocation crashes
/// after: a small order, one a manager approves, and one nobody approves (its callback
/// times out in every run).
#[tokio::test]
async fn the_workflow_is_crash_safe() {
    let approved = LocalRunner::new(process_order)
        .on_callback("approval", CallbackResponse::json(json!({"by": "grace"})));
    for input in [order(1250, &["book"]), large_order()] {
        let report = approved
            .check_crash_safety(input)
            .await
            .unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(report.baseline().status(), ExecutionStatus::Succeeded);
        assert!(!report.crash_points().is_empty());
    }
    let report = LocalRunner::new(process_order)
        .on_callback("approval", CallbackResponse::ignore())
        .check_crash_safety(large_order())
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(report.baseline().status(), ExecutionStatus::Failed);
}
