//! The local runner driving real handlers built from `ctx.step` and `ctx.wait`: results,
//! history, paging, injected faults (including a crash after every checkpoint call), and
//! the step-by-step mode.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lambda_durable::retry::presets;
use lambda_durable::wire::{
    Event, EventType, ExecutionStatus, InvocationStatus, OperationStatus, OperationType,
};
use lambda_durable::{DurableContext, Error, Name, StepContext, StepSemantics};
use lambda_durable_testing::{
    Execution, Fault, FaultKind, InvocationOutcome, LocalRunner, RunnerError,
};
use serde_json::{json, Value};

/// 2026-01-01T00:00:00Z, where the virtual clock starts.
const START_MS: i64 = 1_767_225_600_000;

#[derive(Debug, thiserror::Error)]
#[error("card declined")]
struct PaymentError;

/// How often each step body ran, and which at-most-once attempts ran.
#[derive(Default)]
struct Counts {
    validate: AtomicUsize,
    charge: AtomicUsize,
    ship: AtomicUsize,
    /// (step, attempt) of every at-most-once body run.
    at_most_once: Mutex<Vec<(&'static str, u32)>>,
}

impl Counts {
    fn record(&self, step: &'static str, attempt: u32) {
        self.at_most_once.lock().unwrap().push((step, attempt));
    }

    /// Panics if an at-most-once attempt ran twice.
    fn assert_at_most_once(&self, context: &str) {
        let runs = self.at_most_once.lock().unwrap();
        let unique: HashSet<_> = runs.iter().collect();
        assert_eq!(
            unique.len(),
            runs.len(),
            "{context}: an attempt ran twice: {runs:?}"
        );
    }

    fn totals(&self) -> [usize; 3] {
        [
            self.validate.load(Ordering::SeqCst),
            self.charge.load(Ordering::SeqCst),
            self.ship.load(Ordering::SeqCst),
        ]
    }
}

/// validate (at most once) → charge (at most once, fails on attempt 1, retried after 2 s)
/// → wait 5 s → ship (at least once).
fn workflow(
    counts: Arc<Counts>,
) -> impl Fn(
    Value,
    DurableContext,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value, Error>> + Send>>
       + Send
       + Sync
       + 'static {
    move |order: Value, ctx: DurableContext| {
        let counts = Arc::clone(&counts);
        Box::pin(async move {
            let id = order["orderId"].as_u64().unwrap_or_default();
            let c = Arc::clone(&counts);
            let order_ref: String = ctx
                .step("validate", move |step: StepContext| async move {
                    c.validate.fetch_add(1, Ordering::SeqCst);
                    c.record("validate", step.attempt());
                    Ok::<_, std::io::Error>(format!("order-{id}"))
                })
                .semantics(StepSemantics::AtMostOncePerRetry)
                .retry(presets::fixed(Duration::from_secs(1)).max_attempts(5))
                .await?;
            let c = Arc::clone(&counts);
            let cents: u64 = ctx
                .step("charge", move |step: StepContext| async move {
                    c.charge.fetch_add(1, Ordering::SeqCst);
                    c.record("charge", step.attempt());
                    if step.attempt() == 1 {
                        return Err(PaymentError);
                    }
                    Ok(id * 100)
                })
                .semantics(StepSemantics::AtMostOncePerRetry)
                .retry(presets::fixed(Duration::from_secs(2)).max_attempts(5))
                .await?;
            ctx.wait("cool down", Duration::from_secs(5)).await?;
            let c = Arc::clone(&counts);
            let tracking: String = ctx
                .step("ship", move |_| async move {
                    c.ship.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, std::io::Error>(format!("track-{id}"))
                })
                .await?;
            Ok(json!({ "order": order_ref, "cents": cents, "tracking": tracking }))
        })
    }
}

fn expected_result() -> Value {
    json!({ "order": "order-42", "cents": 4200, "tracking": "track-42" })
}

fn input() -> Value {
    json!({ "orderId": 42 })
}

async fn run_workflow(
    configure: impl FnOnce(LocalRunner) -> LocalRunner,
) -> (Execution, Arc<Counts>) {
    let counts = Arc::new(Counts::default());
    let runner = configure(LocalRunner::new(workflow(Arc::clone(&counts))));
    let execution = runner.run(input()).await.unwrap();
    (execution, counts)
}

/// (event type, operation name) of every event.
fn shape(history: &[Event]) -> Vec<(EventType, Option<String>)> {
    history
        .iter()
        .map(|event| {
            (
                event.event_type,
                event.name.as_ref().map(|name| name.to_string()),
            )
        })
        .collect()
}

fn events<'a>(execution: &'a Execution, ty: EventType, name: &str) -> Vec<&'a Event> {
    execution
        .history()
        .iter()
        .filter(|event| {
            event.event_type == ty && event.name.as_ref().is_some_and(|n| n.as_str() == name)
        })
        .collect()
}

#[tokio::test]
async fn workflow_with_retry_and_wait_completes_with_its_history() {
    let (execution, counts) = run_workflow(|runner| runner).await;

    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{}",
        execution.timeline()
    );
    assert_eq!(execution.result::<Value>().unwrap(), expected_result());
    assert!(execution.error().is_none());
    // Suspended for the retry delay, then for the wait.
    assert_eq!(execution.invocations(), 3);
    assert_eq!(execution.elapsed(), Duration::from_secs(7));
    assert_eq!(counts.totals(), [1, 2, 1]);

    let named = |name: &str| Some(name.to_string());
    assert_eq!(
        shape(execution.history()),
        vec![
            (EventType::ExecutionStarted, None),
            (EventType::StepStarted, named("validate")),
            (EventType::StepSucceeded, named("validate")),
            (EventType::StepStarted, named("charge")),
            (EventType::StepFailed, named("charge")),
            (EventType::InvocationCompleted, None),
            (EventType::StepStarted, named("charge")),
            (EventType::StepSucceeded, named("charge")),
            (EventType::WaitStarted, named("cool down")),
            (EventType::InvocationCompleted, None),
            (EventType::WaitSucceeded, named("cool down")),
            (EventType::StepStarted, named("ship")),
            (EventType::StepSucceeded, named("ship")),
            (EventType::InvocationCompleted, None),
            (EventType::ExecutionSucceeded, None),
        ]
    );
    for (index, event) in execution.history().iter().enumerate() {
        assert_eq!(event.event_id.get(), index as u64 + 1);
    }

    // Attempts: the failure is attempt 1 with a 2 s retry delay, the success attempt 2.
    let failed = events(&execution, EventType::StepFailed, "charge");
    let details = failed[0].step_failed_details.as_ref().unwrap();
    let retry = details.retry_details.as_ref().unwrap();
    assert_eq!(retry.current_attempt, Some(1));
    assert_eq!(retry.next_attempt_delay_seconds, Some(2));
    let error = details.error.as_ref().unwrap().payload.as_ref().unwrap();
    assert_eq!(
        error.error_type.as_deref(),
        Some("local_runner::PaymentError")
    );
    assert_eq!(error.error_message.as_deref(), Some("card declined"));
    let succeeded = events(&execution, EventType::StepSucceeded, "charge");
    let details = succeeded[0].step_succeeded_details.as_ref().unwrap();
    assert_eq!(
        details.retry_details.as_ref().unwrap().current_attempt,
        Some(2)
    );
    assert_eq!(
        details.result.as_ref().unwrap().payload.as_deref(),
        Some("4200")
    );

    // The wait: 5 s, scheduled at +7 s, fired by the virtual clock.
    let started = events(&execution, EventType::WaitStarted, "cool down");
    let wait = started[0].wait_started_details.as_ref().unwrap();
    assert_eq!(wait.duration, Some(5));
    let end = wait
        .scheduled_end_timestamp
        .as_ref()
        .unwrap()
        .epoch_millis();
    assert_eq!(end, START_MS + 7_000);
    let fired = events(&execution, EventType::WaitSucceeded, "cool down");
    assert_eq!(
        fired[0].event_timestamp.as_ref().unwrap().epoch_millis(),
        end
    );

    // Every invocation completed without an error.
    for event in execution.history() {
        if event.event_type == EventType::InvocationCompleted {
            let details = event.invocation_completed_details.as_ref().unwrap();
            assert!(details.error.is_none());
            assert!(details.request_id.is_some());
        }
    }
    let outcomes: Vec<_> = execution
        .invocation_outcomes()
        .map(InvocationOutcome::status)
        .collect();
    assert_eq!(
        outcomes,
        vec![
            Some(InvocationStatus::Pending),
            Some(InvocationStatus::Pending),
            Some(InvocationStatus::Succeeded)
        ]
    );

    // The operations, in start order.
    let ops = execution.operations();
    let kinds: Vec<_> = ops.iter().map(|op| (op.type_, op.status)).collect();
    assert_eq!(
        kinds,
        vec![
            (OperationType::Execution, OperationStatus::Succeeded),
            (OperationType::Step, OperationStatus::Succeeded),
            (OperationType::Step, OperationStatus::Succeeded),
            (OperationType::Wait, OperationStatus::Succeeded),
            (OperationType::Step, OperationStatus::Succeeded),
        ]
    );
    let charge = execution.operation("charge").unwrap();
    let step = charge.step_details.as_ref().unwrap();
    assert_eq!(step.attempt, Some(2));
    assert_eq!(step.result.as_deref(), Some("4200"));
    assert!(step.error.is_none() && step.next_attempt_timestamp.is_none());
    assert_eq!(execution.operations_named("charge").count(), 1);
    assert!(execution.operation("refund").is_none());
    assert_eq!(execution.input(), r#"{"orderId":42}"#);
}

#[tokio::test]
async fn timeline_reads_like_the_execution() {
    let (execution, _) = run_workflow(|runner| runner).await;
    let timeline = execution.timeline();
    for expected in [
        "+0s     execution started: {\"orderId\":42}",
        "+0s     invocation 1",
        "+0s       step \"charge\" failed (attempt 1): local_runner::PaymentError: card declined; retry in 2s",
        "+0s       invocation 1 ended: PENDING",
        "+2s     invocation 2",
        "+2s       step \"charge\" succeeded (attempt 2): 4200",
        "+2s       wait \"cool down\" started: 5s (until +7s)",
        "+7s     wait \"cool down\" succeeded after 5s",
        "+7s       invocation 3 ended: SUCCEEDED",
        "+7s     execution succeeded: {\"cents\":4200,",
    ] {
        assert!(
            timeline.contains(expected),
            "missing {expected:?} in\n{timeline}"
        );
    }
    assert_eq!(timeline.lines().count(), execution.history().len() + 3);
}

#[tokio::test]
async fn paging_the_envelope_and_state_reads_gives_the_same_execution() {
    let (clean, _) = run_workflow(|runner| runner).await;
    let (paged, counts) = run_workflow(|runner| runner.page_size(1)).await;

    assert_eq!(paged.status(), ExecutionStatus::Succeeded);
    assert_eq!(paged.result::<Value>().unwrap(), expected_result());
    assert_eq!(shape(paged.history()), shape(clean.history()));
    assert_eq!(paged.timeline(), clean.timeline());
    assert_eq!(counts.totals(), [1, 2, 1]);
    // Invocations 2 and 3 start with a one-operation envelope and read the rest page by
    // page, one operation per call: 2 more of 3, then 3 more of 4.
    assert_eq!(clean.stats().get_state_calls, 0);
    assert_eq!(paged.stats().get_state_calls, 2 + 3);
}

#[tokio::test]
async fn retryable_faults_at_every_call_change_nothing_but_the_call_count() {
    let (clean, clean_counts) = run_workflow(|runner| runner).await;
    let calls = clean.stats().checkpoint_calls;
    assert!(calls >= 5, "{calls}");
    for kind in [
        FaultKind::Throttle,
        FaultKind::ServerError,
        FaultKind::InvalidToken,
        FaultKind::LostResponse,
    ] {
        for call in 1..=calls {
            let context = format!("{kind:?} at call {call}");
            let (execution, counts) =
                run_workflow(|runner| runner.fault(Fault::new(kind).at_call(call))).await;
            assert_eq!(execution.status(), ExecutionStatus::Succeeded, "{context}");
            assert_eq!(
                execution.result::<Value>().unwrap(),
                expected_result(),
                "{context}"
            );
            counts.assert_at_most_once(&context);
            assert_eq!(counts.totals(), clean_counts.totals(), "{context}");
            // The SDK retried the one failed call; a lost response was applied once.
            assert_eq!(execution.stats().checkpoint_calls, calls + 1, "{context}");
            assert_eq!(
                execution.stats().updates,
                clean.stats().updates,
                "{context}"
            );
            assert_eq!(execution.timeline(), clean.timeline(), "{context}");
        }
    }
}

#[tokio::test]
async fn state_read_faults_are_retried() {
    let (clean, _) = run_workflow(|runner| runner.page_size(1)).await;
    let reads = clean.stats().get_state_calls;
    for kind in [FaultKind::GetStateThrottle, FaultKind::GetStateServerError] {
        for call in 1..=reads {
            let context = format!("{kind:?} at state read {call}");
            let (execution, counts) =
                run_workflow(|runner| runner.page_size(1).fault(Fault::new(kind).at_call(call)))
                    .await;
            assert_eq!(
                execution.result::<Value>().unwrap(),
                expected_result(),
                "{context}"
            );
            counts.assert_at_most_once(&context);
            assert_eq!(execution.stats().get_state_calls, reads + 1, "{context}");
            assert_eq!(execution.timeline(), clean.timeline(), "{context}");
        }
    }
}

#[tokio::test]
async fn a_crash_after_any_checkpoint_call_gives_the_same_result() {
    crash_after_every_call().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_any_checkpoint_call_on_a_multi_threaded_runtime() {
    crash_after_every_call().await;
}

async fn crash_after_every_call() {
    let (clean, clean_counts) = run_workflow(|runner| runner).await;
    let calls = clean.stats().checkpoint_calls;
    for call in 1..=calls {
        let context = format!("crash after call {call}");
        let (execution, counts) =
            run_workflow(|runner| runner.fault(Fault::crash().at_call(call))).await;
        assert_eq!(
            execution.status(),
            ExecutionStatus::Succeeded,
            "{context}\n{}",
            execution.timeline()
        );
        assert_eq!(
            execution.result::<Value>().unwrap(),
            expected_result(),
            "{context}"
        );
        counts.assert_at_most_once(&context);
        let [validate, charge, _ship] = counts.totals();
        let [clean_validate, clean_charge, _] = clean_counts.totals();
        assert!(
            validate <= clean_validate && charge <= clean_charge,
            "{context}: {:?}",
            counts.totals()
        );

        // Exactly one invocation crashed, after the chosen call, and the service recorded it.
        let crashed: Vec<_> = execution
            .invocation_outcomes()
            .filter(|outcome| matches!(outcome, InvocationOutcome::Crashed { .. }))
            .collect();
        assert_eq!(
            crashed,
            vec![&InvocationOutcome::Crashed { after_call: call }],
            "{context}"
        );
        assert!(execution.invocations() > clean.invocations(), "{context}");
        let crash_errors = execution
            .history()
            .iter()
            .filter_map(|event| event.invocation_completed_details.as_ref()?.error.as_ref())
            .filter_map(|error| error.payload.as_ref()?.error_type.clone())
            .collect::<Vec<_>>();
        assert_eq!(
            crash_errors,
            vec!["Runtime.ExitError".to_string()],
            "{context}"
        );
        // Every step succeeded exactly once.
        for name in ["validate", "charge", "ship"] {
            assert_eq!(
                events(&execution, EventType::StepSucceeded, name).len(),
                1,
                "{context}: {name}"
            );
        }
    }
}

#[tokio::test]
async fn a_crash_in_an_at_most_once_step_is_an_interruption_not_a_rerun() {
    // Call 1 is the START of "validate": the invocation dies before the body runs.
    let (execution, counts) = run_workflow(|runner| runner.fault(Fault::crash().at_call(1))).await;
    assert_eq!(execution.result::<Value>().unwrap(), expected_result());
    let failed = events(&execution, EventType::StepFailed, "validate");
    assert_eq!(failed.len(), 1, "{}", execution.timeline());
    let error = failed[0]
        .step_failed_details
        .as_ref()
        .unwrap()
        .error
        .as_ref()
        .unwrap();
    assert_eq!(
        error.payload.as_ref().unwrap().error_type.as_deref(),
        Some("StepInterruptedError")
    );
    // Attempt 1 never ran its body; attempt 2 did.
    assert_eq!(counts.validate.load(Ordering::SeqCst), 1);
    assert!(counts
        .at_most_once
        .lock()
        .unwrap()
        .contains(&("validate", 2)));
}

#[tokio::test]
async fn function_errors_are_retried_by_invoking_again() {
    // More throttles in a row than the SDK retries within one invocation: the first
    // invocations end with a function error, a later one gets through.
    let (clean, _) = run_workflow(|runner| runner).await;
    let (execution, _) = run_workflow(|runner| {
        (1..=20).fold(runner.max_consecutive_failures(10), |runner, call| {
            runner.fault(Fault::throttle().at_call(call))
        })
    })
    .await;
    assert_eq!(execution.result::<Value>().unwrap(), expected_result());
    let errors: Vec<_> = execution
        .invocation_outcomes()
        .filter_map(|outcome| match outcome {
            InvocationOutcome::FunctionError(error) => Some(error.clone()),
            _ => None,
        })
        .collect();
    assert!(!errors.is_empty());
    assert_eq!(execution.invocations(), clean.invocations() + errors.len());
    for error in &errors {
        assert_eq!(error.error_type.as_deref(), Some("DurableInvocationError"));
        assert!(error
            .error_message
            .as_deref()
            .unwrap()
            .contains("TooManyRequestsException"));
    }
    let recorded = execution
        .history()
        .iter()
        .filter(|event| {
            event
                .invocation_completed_details
                .as_ref()
                .is_some_and(|details| details.error.is_some())
        })
        .count();
    assert_eq!(recorded, errors.len());
}

#[tokio::test]
async fn too_many_consecutive_function_errors_fail_the_execution() {
    let (execution, counts) = run_workflow(|runner| {
        (1..=2_000).fold(runner, |runner, call| {
            runner.fault(Fault::server_error().at_call(call))
        })
    })
    .await;
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    assert_eq!(execution.invocations(), 5);
    assert!(execution
        .invocation_outcomes()
        .all(|outcome| matches!(outcome, InvocationOutcome::FunctionError(_))));
    let error = execution.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("DurableInvocationError"));
    assert!(error
        .error_message
        .as_deref()
        .unwrap()
        .contains("ServiceException"));
    assert_eq!(
        execution.history().last().map(|event| event.event_type),
        Some(EventType::ExecutionFailed)
    );
    // Nothing was ever checkpointed, so no body ran past its (refused) START.
    assert_eq!(counts.totals(), [0, 0, 0]);
    let err = execution.result::<Value>().unwrap_err();
    assert!(matches!(
        err,
        RunnerError::NoResult {
            status: ExecutionStatus::Failed,
            ..
        }
    ));
    assert!(
        err.to_string().contains("FAILED (DurableInvocationError: "),
        "{err}"
    );
}

#[tokio::test]
async fn a_failing_handler_fails_the_execution_with_its_error() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        ctx.step("charge", |_| async { Err::<u32, _>(PaymentError) })
            .retry(presets::none())
            .await
    });
    let execution = runner.run(json!({})).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let error = execution.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("StepError"));
    assert_eq!(error.error_message.as_deref(), Some("card declined"));
    let charge = execution.operation("charge").unwrap();
    assert_eq!(charge.status, OperationStatus::Failed);
    assert_eq!(charge.step_details.as_ref().unwrap().attempt, Some(1));
    let types: Vec<_> = execution
        .history()
        .iter()
        .map(|event| event.event_type)
        .collect();
    assert_eq!(
        types,
        vec![
            EventType::ExecutionStarted,
            EventType::StepStarted,
            EventType::StepFailed,
            EventType::InvocationCompleted,
            EventType::ExecutionFailed,
        ]
    );
    assert!(execution
        .timeline()
        .contains("execution failed: StepError: card declined"));
}

#[tokio::test]
async fn result_errors_name_the_problem() {
    let runner = LocalRunner::new(|_: Value, _ctx: DurableContext| async move {
        Ok::<_, Error>(json!({ "n": "not a number" }))
    });
    let execution = runner.run(json!(null)).await.unwrap();
    assert_eq!(execution.raw_result(), Some(r#"{"n":"not a number"}"#));
    let err = execution.result::<u64>().unwrap_err();
    assert!(
        matches!(
            err,
            RunnerError::ResultType {
                type_name: "u64",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("the execution result is not a valid u64: "),
        "{err}"
    );
}

#[tokio::test]
async fn a_non_deterministic_handler_fails_the_execution() {
    let invocation = Arc::new(AtomicUsize::new(0));
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let n = invocation.fetch_add(1, Ordering::SeqCst);
        async move {
            // The first operation changes name between invocations.
            let name = if n == 0 { "first" } else { "second" };
            ctx.step(name, |_| async { Ok::<_, std::io::Error>(1) })
                .await?;
            ctx.wait("pause", Duration::from_secs(1)).await?;
            Ok::<_, Error>(())
        }
    });
    let execution = runner.run(json!({})).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    assert_eq!(
        execution.error().unwrap().error_type.as_deref(),
        Some("NonDeterministicExecutionError")
    );
    assert_eq!(execution.invocations(), 2);
}

#[tokio::test]
async fn a_handler_that_never_finishes_hits_the_invocation_bound() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        for _ in 0..100 {
            ctx.wait(Name::NONE, Duration::from_secs(60)).await?;
        }
        Ok::<_, Error>(())
    })
    .max_invocations(3);
    let err = runner.run(json!({})).await.unwrap_err();
    assert!(
        matches!(err, RunnerError::TooManyInvocations { limit: 3 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("more than 3 invocations"), "{err}");
}

#[tokio::test]
async fn step_by_step_mode_shows_the_state_between_invocations() {
    let counts = Arc::new(Counts::default());
    let runner = LocalRunner::new(workflow(Arc::clone(&counts)));
    let mut execution = runner.start(input()).unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Running);
    assert!(execution
        .arn()
        .ends_with(&execution.snapshot().operations()[0].id.to_string()));

    // 1: validate succeeds, charge fails and waits 2 s for its retry.
    let first = execution.invoke_once().await.unwrap();
    assert_eq!(first.status(), Some(InvocationStatus::Pending));
    let snapshot = execution.snapshot();
    let charge = snapshot.operation("charge").unwrap();
    assert_eq!(charge.status, OperationStatus::Pending);
    let details = charge.step_details.as_ref().unwrap();
    assert_eq!(details.attempt, Some(1));
    assert_eq!(
        details
            .next_attempt_timestamp
            .as_ref()
            .unwrap()
            .epoch_millis(),
        START_MS + 2_000
    );
    assert_eq!(snapshot.status(), ExecutionStatus::Running);

    // The retry timer fires: the step becomes READY.
    assert_eq!(execution.advance_clock(), Some(Duration::from_secs(2)));
    let charge = execution.snapshot().operation("charge").cloned().unwrap();
    assert_eq!(charge.status, OperationStatus::Ready);
    assert!(charge
        .step_details
        .unwrap()
        .next_attempt_timestamp
        .is_none());

    // 2: a crash injected now hits the next checkpoint (the START of attempt 2).
    execution.inject(Fault::crash());
    let second = execution.invoke_once().await.unwrap();
    assert!(
        matches!(second, InvocationOutcome::Crashed { .. }),
        "{second:?}"
    );
    assert!(second.is_error());
    assert_eq!(counts.charge.load(Ordering::SeqCst), 1);
    let charge = execution.snapshot().operation("charge").cloned().unwrap();
    assert_eq!(charge.status, OperationStatus::Started);

    // 3: the interrupted attempt 2 is retried after 2 s without running its body.
    let third = execution.invoke_once().await.unwrap();
    assert_eq!(third.status(), Some(InvocationStatus::Pending));
    assert_eq!(counts.charge.load(Ordering::SeqCst), 1);
    assert_eq!(execution.advance_clock(), Some(Duration::from_secs(2)));

    // 4: attempt 3 succeeds, the wait starts.
    let fourth = execution.invoke_once().await.unwrap();
    assert_eq!(fourth.status(), Some(InvocationStatus::Pending));
    let wait = execution
        .snapshot()
        .operation("cool down")
        .cloned()
        .unwrap();
    assert_eq!(wait.status, OperationStatus::Started);
    assert_eq!(execution.advance_clock(), Some(Duration::from_secs(5)));
    assert_eq!(execution.advance_clock(), None);

    // 5: done.
    let fifth = execution.invoke_once().await.unwrap();
    assert_eq!(fifth.status(), Some(InvocationStatus::Succeeded));
    let err = execution.invoke_once().await.unwrap_err();
    assert!(
        matches!(
            err,
            RunnerError::Finished {
                status: ExecutionStatus::Succeeded
            }
        ),
        "{err:?}"
    );

    let done = execution.into_execution();
    assert_eq!(done.result::<Value>().unwrap(), expected_result());
    assert_eq!(done.invocations(), 5);
    assert_eq!(
        done.operation("charge")
            .unwrap()
            .step_details
            .as_ref()
            .unwrap()
            .attempt,
        Some(3)
    );
    counts.assert_at_most_once("step by step");
    assert_eq!(runner.stats().invocations, 5);
}

#[tokio::test]
async fn runner_stats_add_up_over_executions() {
    let counts = Arc::new(Counts::default());
    let runner = LocalRunner::new(workflow(counts));
    let first = runner.run(input()).await.unwrap();
    let second = runner.run(input()).await.unwrap();
    assert_ne!(first.arn(), second.arn());
    let one = first.stats();
    assert_eq!(one, second.stats());
    let total = runner.stats();
    assert_eq!(total.checkpoint_calls, 2 * one.checkpoint_calls);
    assert_eq!(total.updates, 2 * one.updates);
    assert_eq!(total.update_bytes, 2 * one.update_bytes);
    assert_eq!(total.invocations, 6);
    // Every update was counted with its JSON size: at least {"Id":"<64 hex>",...}.
    assert!(one.update_bytes > one.updates * 64, "{one:?}");
}

/// Every other kind of operation the SDK has, so the emulator's validation sees what the
/// SDK really sends: a child context, a map whose items wait, a parallel, a
/// wait-for-condition that polls three times.
async fn composite(_: Value, ctx: DurableContext) -> Result<Value, Error> {
    let pair = ctx
        .run_in_child_context("reserve", |child| async move {
            let hotel = child
                .step("hotel", |_| async {
                    Ok::<_, std::io::Error>("H-1".to_string())
                })
                .await?;
            child.wait("settle", Duration::from_secs(3)).await?;
            let car = child
                .step("car", |_| async {
                    Ok::<_, std::io::Error>("C-7".to_string())
                })
                .await?;
            Ok::<_, Error>(format!("{hotel}+{car}"))
        })
        .await?;
    let doubled = ctx
        .map(
            "double",
            vec![1u64, 2, 3, 4, 5],
            |item_ctx, n: u64, _index| async move {
                let d = item_ctx
                    .step(
                        "double",
                        move |_| async move { Ok::<_, std::io::Error>(n * 2) },
                    )
                    .await?;
                item_ctx.wait("breathe", Duration::from_secs(n)).await?;
                Ok::<_, Error>(d)
            },
        )
        .max_concurrency(2)
        .await?
        .into_results()?;
    let quotes = ctx
        .parallel(
            "quotes",
            vec![
                lambda_durable::branch("a", |c| async move {
                    c.step("ask a", |_| async { Ok::<_, std::io::Error>(120u32) })
                        .await
                }),
                lambda_durable::branch("b", |c| async move {
                    c.step("ask b", |_| async { Ok::<_, std::io::Error>(95u32) })
                        .await
                }),
            ],
        )
        .await?
        .into_results()?;
    let polls = ctx
        .wait_for_condition("count to 3", 0u32, |n, _step| async move {
            Ok::<_, std::io::Error>(n + 1)
        })
        .strategy(
            lambda_durable::wait_strategy::WaitStrategyConfig::poll_while(|n: &u32| *n < 3)
                .initial_delay(Duration::from_secs(2))
                .jitter(lambda_durable::retry::Jitter::None),
        )
        .await?;
    Ok(json!({ "pair": pair, "doubled": doubled, "quotes": quotes, "polls": polls }))
}

fn composite_result() -> Value {
    json!({ "pair": "H-1+C-7", "doubled": [2, 4, 6, 8, 10], "quotes": [120, 95], "polls": 3 })
}

#[tokio::test]
async fn every_operation_kind_passes_the_service_validation() {
    for page_size in [None, Some(1), Some(3)] {
        let runner = LocalRunner::new(composite);
        let runner = match page_size {
            Some(size) => runner.page_size(size),
            None => runner,
        };
        let execution = runner.run(json!({})).await.unwrap();
        assert_eq!(
            execution.status(),
            ExecutionStatus::Succeeded,
            "page size {page_size:?}\n{}",
            execution.timeline()
        );
        assert_eq!(execution.result::<Value>().unwrap(), composite_result());
        let contexts = execution
            .operations()
            .iter()
            .filter(|op| op.type_ == OperationType::Context)
            .count();
        // reserve, double + 5 items, quotes + 2 branches.
        assert_eq!(contexts, 1 + 6 + 3, "{}", execution.timeline());
        assert!(execution
            .operations()
            .iter()
            .all(|op| op.status == OperationStatus::Succeeded));
    }
}

#[tokio::test]
async fn every_operation_kind_survives_a_crash_after_any_call() {
    let clean = LocalRunner::new(composite).run(json!({})).await.unwrap();
    for call in 1..=clean.stats().checkpoint_calls {
        let execution = LocalRunner::new(composite)
            .fault(Fault::crash().at_call(call))
            .run(json!({}))
            .await
            .unwrap();
        assert_eq!(
            execution.result::<Value>().ok(),
            Some(composite_result()),
            "crash after call {call}\n{}",
            execution.timeline()
        );
    }
}

#[tokio::test]
async fn an_execution_waiting_for_a_callback_stays_running_and_an_unknown_function_fails() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let callback = ctx.create_callback::<String>("approval").await?;
        let approval = callback.result().await?;
        Ok::<_, Error>(approval)
    });
    let execution = runner.run(json!({})).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Running);
    assert_eq!(execution.invocations(), 1);
    let callback = execution.operation("approval").unwrap();
    assert_eq!(callback.status, OperationStatus::Started);
    assert!(callback
        .callback_details
        .as_ref()
        .unwrap()
        .callback_id
        .is_some());
    let err = execution.result::<String>().unwrap_err();
    assert!(err.to_string().contains("RUNNING"), "{err}");

    // No function is registered under this name: the invoke fails, like on the service.
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        ctx.invoke::<Value>("label", "shipping-labels", json!({ "order": 1 }))
            .await
    });
    let execution = runner.run(json!({})).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let invoke = execution.operation("label").unwrap();
    assert_eq!(
        (invoke.type_, invoke.status),
        (OperationType::ChainedInvoke, OperationStatus::Failed)
    );
    let error = execution.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("InvokeError"));
    assert_eq!(
        error.error_message.as_deref(),
        Some("Function not found: shipping-labels")
    );
    let timeline = execution.timeline();
    assert!(
        timeline.contains("invoke \"label\" started (function shipping-labels)"),
        "{timeline}"
    );
    assert!(
        timeline.contains("invoke \"label\" failed: ResourceNotFoundException"),
        "{timeline}"
    );
}

#[tokio::test]
async fn a_result_too_large_for_the_response_is_checkpointed_even_if_the_response_is_lost() {
    // Its JSON (the string and two quotes) is over the response limit of 6 MiB - 50 bytes
    // and within the checkpoint limit of 6 MiB.
    const LEN: usize = 6 * 1024 * 1024 - 40;
    let runner = LocalRunner::new(|_: Value, _ctx: DurableContext| async move {
        Ok::<_, Error>("r".repeat(LEN))
    })
    .fault(Fault::lost_response().at_call(1));
    let execution = runner.run(json!({})).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    assert_eq!(execution.result::<String>().unwrap().len(), LEN);
    assert_eq!(execution.stats().checkpoint_calls, 2);
    assert_eq!(execution.stats().updates, 1);
    let succeeded: Vec<_> = execution
        .history()
        .iter()
        .filter(|event| event.event_type == EventType::ExecutionSucceeded)
        .collect();
    assert_eq!(succeeded.len(), 1);
    // The handler returned SUCCEEDED with an empty Result: the checkpointed one counts.
    let outcome = execution.invocation_outcomes().next().unwrap();
    match outcome {
        InvocationOutcome::Returned(output) => assert_eq!(output.result.as_deref(), Some("")),
        other => panic!("{other:?}"),
    }
}

/// Three at-least-once steps, one after the other, counting their runs.
fn three_steps(
    runs: Arc<AtomicUsize>,
) -> impl Fn(
    Value,
    DurableContext,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Value, Error>> + Send>>
       + Send
       + Sync
       + 'static {
    move |_: Value, ctx: DurableContext| {
        let runs = Arc::clone(&runs);
        Box::pin(async move {
            let mut total = 0u64;
            for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
                let runs = Arc::clone(&runs);
                let value: u64 = ctx
                    .step(name, move |_| async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        Ok::<_, std::io::Error>(i as u64 + 1)
                    })
                    .await?;
                total += value;
            }
            Ok(json!({ "total": total }))
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_deadline_in_the_middle_of_an_invocation_ends_it_and_the_next_one_goes_on() {
    let runs = Arc::new(AtomicUsize::new(0));
    let runner = LocalRunner::new(three_steps(Arc::clone(&runs)))
        .invocation_timeout(Duration::from_secs(60))
        .fault(Fault::deadline().at_call(1));
    let started = tokio::time::Instant::now();
    let execution = runner.run(json!({})).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    assert_eq!(execution.result::<Value>().unwrap(), json!({ "total": 6 }));
    // The first invocation wrote step a, then ran out of time waiting for the response
    // and ended for a retry; the second replayed a and ran b and c.
    let outcomes: Vec<&InvocationOutcome> = execution.invocation_outcomes().collect();
    assert_eq!(outcomes.len(), 2, "{}", execution.timeline());
    match outcomes[0] {
        InvocationOutcome::FunctionError(error) => assert!(
            error
                .error_message
                .as_deref()
                .is_some_and(|m| m.contains("deadline")),
            "{error:?}"
        ),
        other => panic!("the first invocation ended with {other:?}"),
    }
    assert_eq!(outcomes[1].status(), Some(InvocationStatus::Succeeded));
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    // The response came 1 s before the deadline (halfway through the SDK's 2 s margin).
    assert!(
        started.elapsed() >= Duration::from_secs(59),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_deadline_while_a_wait_starts_ends_the_invocation_and_the_wait_is_kept() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        ctx.wait("pause", Duration::from_secs(30)).await?;
        Ok::<_, Error>(7)
    })
    // No invocation timeout: a Deadline fault gives invocations Lambda's 15 minutes.
    .fault(Fault::deadline().at_call(1));
    let started = tokio::time::Instant::now();
    let execution = runner.run(json!({})).await.unwrap();
    assert_eq!(execution.result::<u32>().unwrap(), 7);
    let outcomes: Vec<&InvocationOutcome> = execution.invocation_outcomes().collect();
    // The deadline passed while the wait's START was in flight: the invocation ended for
    // a retry, the next one found the wait started and suspended, the third finished.
    assert!(
        matches!(outcomes[0], InvocationOutcome::FunctionError(_)),
        "{}",
        execution.timeline()
    );
    assert_eq!(outcomes[1].status(), Some(InvocationStatus::Pending));
    assert_eq!(outcomes.len(), 3);
    assert!(started.elapsed() >= Duration::from_secs(14 * 60));
    assert_eq!(execution.elapsed(), Duration::from_secs(30));
    assert_eq!(events(&execution, EventType::WaitStarted, "pause").len(), 1);
}

#[tokio::test]
async fn a_replay_of_a_finished_execution_reaches_its_result_and_writes_nothing() {
    let runs = Arc::new(AtomicUsize::new(0));
    let runner = LocalRunner::new(three_steps(Arc::clone(&runs))).page_size(1);
    let execution = runner.run(json!({})).await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    let replay = runner.replay(&execution).await.unwrap();
    assert!(replay.mismatches().is_empty(), "{:?}", replay.mismatches());
    assert_eq!(replay.status(), ExecutionStatus::Succeeded);
    assert_eq!(replay.result::<Value>().unwrap(), json!({ "total": 6 }));
    assert!(replay.writes().is_empty());
    assert!(replay.new_operations().is_empty());
    assert_eq!(replay.outcome().status(), Some(InvocationStatus::Succeeded));
    assert_eq!(runs.load(Ordering::SeqCst), 3, "no step body ran again");
    // The replay is the last invocation of its copy of the log; the original is untouched.
    assert_eq!(
        replay.execution().invocations(),
        execution.invocations() + 1
    );
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
}

#[tokio::test]
async fn a_replay_reports_a_handler_that_changed() {
    let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = Arc::clone(&first);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let first = flag.load(Ordering::SeqCst);
        async move {
            let a: u64 = ctx
                .step("a", |_| async { Ok::<_, std::io::Error>(1) })
                .await?;
            if !first {
                // A step the recorded run never had.
                let b: u64 = ctx
                    .step("b", |_| async { Ok::<_, std::io::Error>(2) })
                    .await?;
                return Ok::<_, Error>(a + b);
            }
            Ok(a)
        }
    });
    let execution = runner.run(json!({})).await.unwrap();
    assert_eq!(execution.result::<u64>().unwrap(), 1);
    first.store(false, Ordering::SeqCst);
    let replay = runner.replay(&execution).await.unwrap();
    let mismatches = replay.mismatches();
    assert!(!mismatches.is_empty());
    assert_eq!(replay.result::<u64>().unwrap(), 3);
    assert!(
        mismatches
            .iter()
            .any(|m| m.starts_with("result 3 instead of the recorded 1")),
        "{mismatches:?}"
    );
    assert_eq!(replay.new_operations().len(), 1, "{mismatches:?}");
    assert!(replay.operation_writes().count() >= 1);
}
