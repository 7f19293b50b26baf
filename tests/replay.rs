//! Replay semantics of steps and waits, driven through the local runner: every row of the
//! replay decision table, retries, both step semantics, non-determinism, suspension and
//! large results.
#![allow(clippy::unwrap_used)]

use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lambda_durable::retry::{self, ExponentialBackoff, FailedAttempt, Jitter, RetryDecision};
use lambda_durable::wire::{EventType, ExecutionStatus, InvocationStatus, OperationStatus};
use lambda_durable::{DurableContext, Error, StepSemantics};
use lambda_durable_testing::{Fault, InvocationOutcome, LocalRunner};
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
#[error("gateway timed out")]
struct GatewayTimeout;

#[derive(Debug, thiserror::Error)]
#[error("card declined: {0}")]
struct Declined(String);

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

/// A succeeded step is replayed from its record: the body runs once over several
/// invocations, and the replay sees the same value as the first run.
#[tokio::test]
async fn succeeded_step_replays_without_running() {
    let runs = counter();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (r, s) = (Arc::clone(&runs), Arc::clone(&seen));
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let (runs, seen) = (Arc::clone(&r), Arc::clone(&s));
        async move {
            let value: f64 = ctx
                .step("measure", move |_| async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, GatewayTimeout>(0.1 + 0.2)
                })
                .await?;
            seen.lock().unwrap().push(value);
            ctx.wait("pause", Duration::from_secs(5)).await?;
            Ok::<_, Error>(value)
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    assert_eq!(execution.invocations(), 2);
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the body ran once");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0].to_bits(),
        seen[1].to_bits(),
        "first run and replay agree"
    );
    assert_eq!(
        execution.result::<f64>().unwrap().to_bits(),
        seen[0].to_bits()
    );
}

/// A failed step replays as the same error type and message, without running again.
#[tokio::test]
async fn failed_step_replays_the_same_error() {
    let runs = counter();
    let messages = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (r, m) = (Arc::clone(&runs), Arc::clone(&messages));
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let (runs, messages) = (Arc::clone(&r), Arc::clone(&m));
        async move {
            let outcome = ctx
                .step("charge", move |_| async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Err::<u32, _>(Declined("insufficient funds".into()))
                })
                .retry(retry::presets::none())
                .await;
            let err = outcome.unwrap_err();
            let recorded = err.recorded().unwrap().clone();
            messages.lock().unwrap().push((err.to_string(), recorded));
            ctx.wait("let it sink in", Duration::from_secs(1)).await?;
            Err::<u32, _>(err)
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let messages = messages.lock().unwrap().clone();
    assert_eq!(messages.len(), 2, "first run and replay");
    assert_eq!(messages[0], messages[1]);
    assert_eq!(
        messages[0].1.error_type.as_deref(),
        Some("replay::Declined")
    );
    assert_eq!(
        messages[0].1.error_message.as_deref(),
        Some("card declined: insufficient funds")
    );
    let error = execution.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("StepError"));
    assert_eq!(
        error.error_message.as_deref(),
        Some("card declined: insufficient funds")
    );
}

/// PENDING (retry scheduled) suspends without running the body; READY runs the next
/// attempt; the attempt number counts from 1.
#[tokio::test]
async fn retries_suspend_and_resume_with_the_next_attempt() {
    let attempts = Arc::new(std::sync::Mutex::new(Vec::new()));
    let a = Arc::clone(&attempts);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let attempts = Arc::clone(&a);
        async move {
            ctx.step("flaky", move |step| async move {
                attempts.lock().unwrap().push(step.attempt());
                if step.attempt() < 3 {
                    return Err(GatewayTimeout);
                }
                Ok(step.attempt())
            })
            .retry(
                ExponentialBackoff::new()
                    .max_attempts(5)
                    .initial_delay(Duration::from_secs(4))
                    .jitter(Jitter::None),
            )
            .await
        }
    });
    let mut running = runner.start(Value::Null).unwrap();
    let first = running.invoke_once().await.unwrap();
    assert_eq!(first.status(), Some(InvocationStatus::Pending));
    let snapshot = running.snapshot();
    let op = snapshot.operation("flaky").unwrap();
    assert_eq!(op.status, OperationStatus::Pending);
    // Invoking again before the timer fires: the step is PENDING, the body must not run.
    let early = running.invoke_once().await.unwrap();
    assert_eq!(early.status(), Some(InvocationStatus::Pending));
    assert_eq!(attempts.lock().unwrap().clone(), vec![1]);
    // The timer fires after 4 s (attempt 1 failed), then 8 s (attempt 2 failed).
    assert_eq!(running.advance_clock(), Some(Duration::from_secs(4)));
    running.invoke_once().await.unwrap();
    assert_eq!(running.advance_clock(), Some(Duration::from_secs(8)));
    let last = running.invoke_once().await.unwrap();
    assert_eq!(last.status(), Some(InvocationStatus::Succeeded));
    assert_eq!(attempts.lock().unwrap().clone(), vec![1, 2, 3]);
    let execution = running.into_execution();
    assert_eq!(execution.result::<u32>().unwrap(), 3);
    let failed_events = execution
        .history()
        .iter()
        .filter(|e| e.event_type == EventType::StepFailed)
        .count();
    assert_eq!(failed_events, 2);
}

/// A strategy that gives up fails the step; the error filter decides what retries.
#[tokio::test]
async fn retry_filters_choose_which_errors_retry() {
    let runs = counter();
    let r = Arc::clone(&runs);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let runs = Arc::clone(&r);
        async move {
            ctx.step("charge", move |_| async move {
                let n = runs.fetch_add(1, Ordering::SeqCst);
                let err: Box<dyn std::error::Error + Send + Sync> = if n == 0 {
                    Box::new(GatewayTimeout)
                } else {
                    Box::new(Declined("stolen card".into()))
                };
                Err::<(), _>(err)
            })
            .retry(
                ExponentialBackoff::new()
                    .max_attempts(10)
                    .retry_if_message_contains("timed out"),
            )
            .await
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    assert_eq!(runs.load(Ordering::SeqCst), 2, "the decline is not retried");
    assert!(execution
        .error()
        .unwrap()
        .error_message
        .as_deref()
        .unwrap()
        .contains("stolen card"));
}

/// A custom strategy function sees the recorded error type and the attempt number.
#[tokio::test]
async fn custom_strategy_sees_type_and_attempt() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let strategy = retry::from_fn(move |failure: &FailedAttempt<'_>, attempts| {
        s.lock()
            .unwrap()
            .push((failure.error_type.to_string(), attempts));
        if attempts < 2 {
            RetryDecision::retry_after(Duration::from_millis(1500))
        } else {
            RetryDecision::Stop
        }
    });
    let strategy: Arc<dyn retry::RetryStrategy> = Arc::new(strategy);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let strategy = Arc::clone(&strategy);
        async move {
            ctx.step(None::<&str>, |_| async { Err::<(), _>(GatewayTimeout) })
                .retry_shared(strategy)
                .await
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    assert_eq!(
        seen.lock().unwrap().clone(),
        vec![
            ("replay::GatewayTimeout".to_string(), 1),
            ("replay::GatewayTimeout".to_string(), 2)
        ]
    );
    // 1.5 s is rounded up to whole seconds.
    assert_eq!(execution.elapsed(), Duration::from_secs(2));
}

/// STARTED at-least-once: an interrupted attempt runs again, without a second START.
#[tokio::test]
async fn at_least_once_step_runs_again_after_a_crash() {
    let runs = counter();
    let r = Arc::clone(&runs);
    // Call 1 carries the step's START and is applied; the invocation then dies.
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let runs = Arc::clone(&r);
        async move {
            ctx.step("slow", move |_| async move {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok::<_, GatewayTimeout>("done".to_string())
            })
            .await
        }
    })
    .fault(Fault::crash().at_call(1));
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    assert_eq!(execution.result::<String>().unwrap(), "done");
    let starts = execution
        .history()
        .iter()
        .filter(|e| e.event_type == EventType::StepStarted)
        .count();
    assert_eq!(starts, 1, "no second StepStarted");
    assert!(runs.load(Ordering::SeqCst) >= 1);
}

/// STARTED at-most-once: an attempt interrupted while its body runs is not run again; it
/// counts as failed with StepInterruptedError and goes to the retry strategy.
#[tokio::test]
async fn at_most_once_step_is_never_run_twice() {
    for retries in [false, true] {
        let runs = counter();
        let r = Arc::clone(&runs);
        let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
            let runs = Arc::clone(&r);
            async move {
                let transfer = ctx
                    .step("transfer", move |step| async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        Ok::<_, GatewayTimeout>(step.attempt())
                    })
                    .semantics(StepSemantics::AtMostOncePerRetry)
                    .retry(if retries {
                        retry::presets::fixed(Duration::from_secs(3)).max_attempts(3)
                    } else {
                        retry::presets::fixed(Duration::from_secs(3)).max_attempts(1)
                    });
                let quick = ctx.step("quick", |_| async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok::<_, GatewayTimeout>(0)
                });
                let (transfer, quick) = tokio::join!(transfer.into_future(), quick.into_future());
                quick?;
                transfer
            }
        })
        // Call 1 persists the transfer's START; the quick step's checkpoints follow while
        // the transfer's body is still running, and the invocation dies after call 2.
        .fault(Fault::crash().at_call(2));
        let execution = runner.run(Value::Null).await.unwrap();
        let op = execution.operation("transfer").unwrap();
        if retries {
            assert_eq!(execution.status(), ExecutionStatus::Succeeded);
            assert_eq!(execution.result::<u32>().unwrap(), 2, "attempt 2 ran");
            assert_eq!(runs.load(Ordering::SeqCst), 2, "each attempt ran once");
        } else {
            assert_eq!(execution.status(), ExecutionStatus::Failed);
            assert_eq!(
                runs.load(Ordering::SeqCst),
                1,
                "the interrupted body is not run again"
            );
            let error = op.step_details.as_ref().unwrap().error.as_ref().unwrap();
            assert_eq!(error.error_type.as_deref(), Some("StepInterruptedError"));
        }
        let interrupted = execution.history().iter().any(|event| {
            event.event_type == EventType::StepFailed
                && serde_json::to_string(event)
                    .unwrap()
                    .contains("StepInterruptedError")
        });
        assert!(
            interrupted,
            "the interruption is recorded as a failed attempt"
        );
    }
}

/// A wait in progress suspends the invocation (PENDING); the next invocation after the
/// timer continues past it.
#[tokio::test]
async fn waits_suspend_and_resume() {
    let after = counter();
    let a = Arc::clone(&after);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let after = Arc::clone(&a);
        async move {
            ctx.wait("nap", Duration::from_secs(90)).await?;
            after.fetch_add(1, Ordering::SeqCst);
            ctx.wait(None::<&str>, Duration::from_millis(2500)).await?;
            Ok::<_, Error>("awake")
        }
    });
    let mut running = runner.start(Value::Null).unwrap();
    let outcome = running.invoke_once().await.unwrap();
    assert_eq!(outcome.status(), Some(InvocationStatus::Pending));
    assert_eq!(after.load(Ordering::SeqCst), 0);
    assert_eq!(running.advance_clock(), Some(Duration::from_secs(90)));
    assert_eq!(
        running.invoke_once().await.unwrap().status(),
        Some(InvocationStatus::Pending)
    );
    assert_eq!(running.advance_clock(), Some(Duration::from_secs(3)));
    let execution = running.run().await.unwrap();
    assert_eq!(execution.result::<String>().unwrap(), "awake");
    assert_eq!(
        after.load(Ordering::SeqCst),
        2,
        "code between the waits replays"
    );
}

/// Waits shorter than a second are rejected before anything is recorded.
#[tokio::test]
async fn invalid_wait_is_an_error_naming_the_operation() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        ctx.wait("blink", Duration::from_millis(10)).await
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let error = execution.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("ValidationError"));
    assert!(error
        .error_message
        .as_deref()
        .unwrap()
        .contains("\"blink\""));
    assert!(execution
        .operations()
        .iter()
        .all(|op| op.name.is_none() || op.name.as_deref().map(|n| n.as_str()) != Some("blink")));
}

/// Code that asks for a different operation than the history holds fails the execution
/// with NonDeterministicExecutionError, even when it catches the error.
#[tokio::test]
async fn non_determinism_fails_the_execution_even_if_caught() {
    let invocation = counter();
    let i = Arc::clone(&invocation);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let invocation = i.fetch_add(1, Ordering::SeqCst);
        async move {
            // The "deployed code" changes between the first and second invocation.
            let name = if invocation == 0 { "reserve" } else { "refund" };
            let _ignored = ctx
                .step(name, |_| async { Ok::<_, GatewayTimeout>(1) })
                .await;
            ctx.wait("pause", Duration::from_secs(1)).await?;
            Ok::<_, Error>("finished")
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let error = execution.error().unwrap();
    assert_eq!(
        error.error_type.as_deref(),
        Some("NonDeterministicExecutionError")
    );
    let message = error.error_message.as_deref().unwrap();
    assert!(message.contains("\"refund\""), "{message}");
    assert!(message.contains("\"reserve\""), "{message}");
}

/// A different operation type at the same position is also non-deterministic.
#[tokio::test]
async fn type_change_is_non_deterministic() {
    let invocation = counter();
    let i = Arc::clone(&invocation);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let invocation = i.fetch_add(1, Ordering::SeqCst);
        async move {
            if invocation == 0 {
                ctx.wait("x", Duration::from_secs(1)).await?;
            } else {
                ctx.step("x", |_| async { Ok::<_, GatewayTimeout>(()) })
                    .await?;
            }
            Ok::<_, Error>(())
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    let error = execution.error().unwrap();
    assert_eq!(
        error.error_type.as_deref(),
        Some("NonDeterministicExecutionError")
    );
    assert!(error
        .error_message
        .as_deref()
        .unwrap()
        .contains("WAIT/Wait"));
}

/// A result larger than the Lambda response limit is checkpointed as the EXECUTION's
/// result and the invocation returns an empty Result.
#[tokio::test]
async fn large_results_are_checkpointed() {
    let runner = LocalRunner::new(|_: Value, _ctx: DurableContext| async move {
        Ok::<_, Error>("x".repeat(6 * 1024 * 1024 - 20))
    });
    let mut running = runner.start(Value::Null).unwrap();
    let outcome = running.invoke_once().await.unwrap();
    match &outcome {
        InvocationOutcome::Returned(output) => {
            assert_eq!(output.status, InvocationStatus::Succeeded);
            assert_eq!(output.result.as_deref(), Some(""));
        }
        other => panic!("unexpected outcome {other:?}"),
    }
    let execution = running.into_execution();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(
        execution.result::<String>().unwrap().len(),
        6 * 1024 * 1024 - 20
    );
}

/// A result too large even for a checkpoint fails the execution with a clear error.
#[tokio::test]
async fn results_over_the_checkpoint_limit_fail() {
    let runner = LocalRunner::new(|_: Value, _ctx: DurableContext| async move {
        Ok::<_, Error>("x".repeat(7 * 1024 * 1024))
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let error = execution.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("ResultTooLargeError"));
    assert!(error
        .error_message
        .as_deref()
        .unwrap()
        .contains("7340034 bytes"));
}

/// Events of several kinds: `()`, `Option<T>` and missing input all work.
#[tokio::test]
async fn unit_and_optional_events() {
    let runner = LocalRunner::new(|event: Option<u32>, _ctx: DurableContext| async move {
        Ok::<_, Error>(event.unwrap_or(7))
    });
    assert_eq!(
        runner
            .run(Value::Null)
            .await
            .unwrap()
            .result::<u32>()
            .unwrap(),
        7
    );
    assert_eq!(
        runner.run(json!(3)).await.unwrap().result::<u32>().unwrap(),
        3
    );
    let runner = LocalRunner::new(|_: (), _ctx: DurableContext| async move { Ok::<_, Error>(()) });
    assert_eq!(
        runner.run(Value::Null).await.unwrap().status(),
        ExecutionStatus::Succeeded
    );
}

/// An event that does not match the handler's type fails with an error naming the field.
#[tokio::test]
async fn wrong_event_type_fails_naming_the_problem() {
    #[derive(serde::Deserialize)]
    struct Order {
        #[allow(dead_code)]
        id: u64,
    }
    let runner =
        LocalRunner::new(|_: Order, _ctx: DurableContext| async move { Ok::<_, Error>(()) });
    let execution = runner.run(json!({"id": "not a number"})).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let message = execution.error().unwrap().error_message.clone().unwrap();
    assert!(message.contains("InputPayload"), "{message}");
    assert!(message.contains("id"), "{message}");
}

/// User errors keep their type name on the wire.
#[tokio::test]
async fn handler_errors_become_error_objects() {
    let runner = LocalRunner::new(|_: Value, _ctx: DurableContext| async move {
        Err::<(), _>(Declined("no".into()))
    });
    let execution = runner.run(Value::Null).await.unwrap();
    let error = execution.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("replay::Declined"));
    assert_eq!(error.error_message.as_deref(), Some("card declined: no"));
}
