//! Step timeouts and what a step does at the invocation's deadline.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lambda_durable::retry::{presets, STEP_INTERRUPTED, STEP_TIMEOUT};
use lambda_durable::wire::{EventType, ExecutionStatus, InvocationStatus};
use lambda_durable::{DurableContext, Error, StepSemantics};
use lambda_durable_testing::{InvocationOutcome, LocalRunner};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
#[error("never")]
struct Never;

const LONG: Duration = Duration::from_secs(3600);

/// The recorded error type of a failed step, as the handler saw it.
fn error_type(err: &Error) -> Option<String> {
    err.recorded().and_then(|error| error.error_type.clone())
}

#[tokio::test]
async fn an_attempt_past_its_timeout_fails_and_is_retried() {
    let attempts = Arc::new(AtomicU32::new(0));
    let a = Arc::clone(&attempts);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let attempts = Arc::clone(&a);
        async move {
            ctx.step("slow then fast", move |step| {
                attempts.fetch_add(1, Ordering::SeqCst);
                async move {
                    if step.attempt() == 1 {
                        tokio::time::sleep(LONG).await;
                    }
                    Ok::<_, Never>(step.attempt())
                }
            })
            .timeout(Duration::from_millis(200))
            .retry(presets::fixed(Duration::from_secs(1)))
            .await
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(execution.result::<u32>().unwrap(), 2);
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    assert!(
        execution.timeline().contains(STEP_TIMEOUT),
        "{}",
        execution.timeline()
    );
}

#[tokio::test]
async fn without_retries_the_step_fails_with_the_timeout_and_the_body_is_told() {
    let told = Arc::new(AtomicBool::new(false));
    let t = Arc::clone(&told);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let told = Arc::clone(&t);
        async move {
            let (done, finished) = tokio::sync::oneshot::channel();
            let failed = ctx
                .step("slow", move |step| async move {
                    // Work handed to another task watches the signal.
                    let watcher = step.clone();
                    tokio::spawn(async move {
                        watcher.cancelled().await;
                        told.store(watcher.is_cancelled(), Ordering::SeqCst);
                        let _ = done.send(());
                    });
                    tokio::time::sleep(LONG).await;
                    Ok::<_, Never>(())
                })
                .timeout(Duration::from_millis(100))
                .retry(presets::none())
                .await
                .unwrap_err();
            let _ = finished.await;
            Ok::<_, Error>((error_type(&failed), failed.to_string()))
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    let (error_type, message) = execution.result::<(Option<String>, String)>().unwrap();
    assert_eq!(error_type.as_deref(), Some(STEP_TIMEOUT));
    assert!(message.contains("timed out after 0.1 s"), "{message}");
    assert!(told.load(Ordering::SeqCst));
}

#[tokio::test]
async fn checks_and_submitters_have_timeouts_too() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let check = ctx
            .wait_for_condition("poll", 0u32, |_, _| async {
                tokio::time::sleep(LONG).await;
                Ok::<_, Never>(1)
            })
            .timeout(Duration::from_millis(100))
            .await
            .unwrap_err();
        let submitter = ctx
            .wait_for_callback::<Value, _, _>("approval", |_, _| async {
                tokio::time::sleep(LONG).await;
                Ok::<_, Never>(())
            })
            .submitter_timeout(Duration::from_millis(100))
            .retry(presets::none())
            .await
            .unwrap_err();
        Ok::<_, Error>((
            matches!(check, Error::WaitForConditionFailed { .. }),
            error_type(&check),
            matches!(submitter, Error::StepFailed { .. }),
            error_type(&submitter),
        ))
    });
    let execution = runner.run(Value::Null).await.unwrap();
    let (is_condition, check_type, is_step, submitter_type) = execution
        .result::<(bool, Option<String>, bool, Option<String>)>()
        .unwrap();
    assert!(is_condition && is_step);
    assert_eq!(check_type.as_deref(), Some(STEP_TIMEOUT));
    assert_eq!(submitter_type.as_deref(), Some(STEP_TIMEOUT));
}

/// A handler with one step whose body outlasts the invocation the first time it runs.
fn long_first_attempt(semantics: StepSemantics, timeout: Option<Duration>) -> LocalRunner {
    let first = Arc::new(AtomicBool::new(true));
    LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let first = Arc::clone(&first);
        async move {
            let mut step = ctx
                .step("long", move |step| async move {
                    if first.swap(false, Ordering::SeqCst) {
                        tokio::time::sleep(LONG).await;
                    }
                    Ok::<_, Never>(step.attempt())
                })
                .semantics(semantics)
                .retry(presets::fixed(Duration::from_secs(1)));
            if let Some(timeout) = timeout {
                step = step.timeout(timeout);
            }
            step.await
        }
    })
    .invocation_timeout(Duration::from_secs(4))
}

/// The outcome of the first invocation, and the finished execution.
async fn first_invocation(
    runner: LocalRunner,
) -> (InvocationOutcome, lambda_durable_testing::Execution) {
    let mut execution = runner.start(Value::Null).unwrap();
    let first = tokio::time::timeout(Duration::from_secs(120), execution.invoke_once())
        .await
        .expect("the invocation ends by its deadline")
        .unwrap();
    let done = execution.run().await.unwrap();
    (first, done)
}

fn suspended(outcome: &InvocationOutcome) -> bool {
    matches!(outcome, InvocationOutcome::Returned(output) if output.status == InvocationStatus::Pending)
}

#[tokio::test]
async fn at_the_deadline_a_step_with_a_timeout_records_a_timed_out_attempt_and_suspends() {
    let (first, done) = first_invocation(long_first_attempt(
        StepSemantics::AtLeastOncePerRetry,
        Some(LONG),
    ))
    .await;
    assert!(suspended(&first), "{first:?}");
    assert_eq!(
        done.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        done.error()
    );
    assert_eq!(done.result::<u32>().unwrap(), 2);
    let failure = done
        .history()
        .iter()
        .find(|event| event.event_type == EventType::StepFailed)
        .and_then(|event| event.step_failed_details.as_ref())
        .and_then(|details| details.error.as_ref())
        .and_then(|error| error.payload.clone())
        .unwrap();
    assert_eq!(failure.error_type.as_deref(), Some(STEP_TIMEOUT));
    let message = failure.error_message.unwrap_or_default();
    assert!(
        message.contains("before the invocation's deadline"),
        "{message}"
    );
}

#[tokio::test]
async fn at_the_deadline_an_at_most_once_attempt_counts_as_interrupted_and_suspends() {
    let (first, done) =
        first_invocation(long_first_attempt(StepSemantics::AtMostOncePerRetry, None)).await;
    assert!(suspended(&first), "{first:?}");
    assert_eq!(done.result::<u32>().unwrap(), 2);
    assert!(
        done.timeline().contains(STEP_INTERRUPTED),
        "{}",
        done.timeline()
    );
}

#[tokio::test]
async fn at_the_deadline_an_at_least_once_attempt_runs_again() {
    let (first, done) =
        first_invocation(long_first_attempt(StepSemantics::AtLeastOncePerRetry, None)).await;
    assert!(
        matches!(first, InvocationOutcome::FunctionError(_)),
        "{first:?}"
    );
    // Nothing was recorded as failed: the next invocation runs attempt 1 again.
    assert_eq!(
        done.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        done.error()
    );
    assert_eq!(done.result::<u32>().unwrap(), 1);
    assert!(!done.timeline().contains(STEP_TIMEOUT));
}
