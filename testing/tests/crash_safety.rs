//! `LocalRunner::check_crash_safety`: passes workflows that end the same whatever crash
//! they meet (steps, retries, waits, callbacks answered or timed out, chained invokes), and
//! catches the ones that do not (code that branches on state outside the durable log, step
//! bodies that give another result when run again), naming the crash point, what differed
//! and both outlines; interrupted at-most-once steps are reported, not failed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lambda_durable::retry::presets;
use lambda_durable::wire::ExecutionStatus;
use lambda_durable::{DurableContext, Error, StepSemantics};
use lambda_durable_testing::{CallbackResponse, CrashSafetyError, LocalRunner};
use serde_json::{json, Value};

async fn label(order: Value, ctx: DurableContext) -> Result<String, Error> {
    ctx.wait("print queue", Duration::from_secs(60)).await?;
    let id = order["id"].as_u64().unwrap_or_default();
    ctx.step(
        "print",
        |_| async move { Ok::<_, Error>(format!("label-{id}")) },
    )
    .await
}

/// Steps (one retried), a wait, a callback answered by a responder, a chained invoke of a
/// durable function, a child context and a replay-safe uuid.
async fn good(order: Value, ctx: DurableContext) -> Result<Value, Error> {
    let id = order["id"].as_u64().unwrap_or_default();
    let total: u64 = ctx
        .step("total", |step| async move {
            if step.attempt() == 1 {
                return Err(std::io::Error::other("gateway timed out"));
            }
            Ok::<_, std::io::Error>(id * 10)
        })
        .retry(presets::fixed(Duration::from_secs(5)))
        .await?;
    ctx.wait("cool off", Duration::from_secs(30)).await?;
    let approval = ctx.create_callback::<bool>("approval").await?;
    let approved = approval.result().await?;
    let label: String = ctx.invoke("make label", "labels", order.clone()).await?;
    let key = ctx.uuid().to_string();
    let written = key.clone();
    let audited: usize = ctx
        .run_in_child_context("audit", |child| async move {
            child
                .step("write", |_| async move { Ok::<_, Error>(written.len()) })
                .await
        })
        .await?;
    Ok(
        json!({ "total": total, "approved": approved, "label": label, "key": key, "audited": audited }),
    )
}

fn good_runner() -> LocalRunner {
    LocalRunner::new(good)
        .register("labels", label)
        .on_callback(
            "approval",
            CallbackResponse::json(json!(true)).after(Duration::from_secs(120)),
        )
}

#[tokio::test]
async fn a_deterministic_workflow_passes_at_every_crash_point() {
    let report = good_runner()
        .check_crash_safety(json!({ "id": 7 }))
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    let baseline = report.baseline();
    assert_eq!(baseline.status(), ExecutionStatus::Succeeded);
    assert_eq!(baseline.result::<Value>().unwrap()["label"], "label-7");
    let calls = baseline.stats().checkpoint_calls;
    assert!(calls >= 7, "only {calls} checkpoint calls");
    let points = report.crash_points();
    assert_eq!(points.len() as u64, calls);
    for (index, point) in points.iter().enumerate() {
        assert_eq!(point.call(), index as u64 + 1);
        assert!(point.crashed(), "no crash after call {}", point.call());
        assert!(point.differences().is_empty());
        assert_eq!(
            point.execution().result::<Value>().unwrap(),
            baseline.result::<Value>().unwrap()
        );
    }
    assert_eq!(report.interrupted().count(), 0);
    assert!(report
        .to_string()
        .starts_with(&format!("{calls} crash points")));
}

/// Branches on a counter kept outside the durable state: the first invocation ever takes
/// one path, every later one (a replay after a crash) the other.
#[tokio::test]
async fn a_workflow_that_branches_on_outside_state_is_caught() {
    let invocations = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&invocations);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let seen = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            ctx.step("load", |_| async { Ok::<_, Error>(1) }).await?;
            let path = if seen == 0 { "fast path" } else { "slow path" };
            ctx.step(path, |_| async { Ok::<_, Error>(2) }).await?;
            ctx.step("save", |_| async { Ok::<_, Error>(3) }).await
        }
    });
    let err = runner.check_crash_safety(json!({})).await.unwrap_err();
    let CrashSafetyError::Differs(divergence) = &err else {
        panic!("expected a divergence, got {err}");
    };
    assert_eq!(divergence.call(), 1);
    assert_eq!(divergence.baseline().status(), ExecutionStatus::Succeeded);
    assert_eq!(divergence.crashed().status(), ExecutionStatus::Succeeded);
    let text = err.to_string();
    let expected = "\
not crash-safe: a crash after checkpoint call 1 (of 3) changes the execution:
- operations: without the crash only: STEP \"fast path\" SUCCEEDED; with the crash only: STEP \"slow path\" SUCCEEDED
operations without a crash:
  EXECUTION SUCCEEDED
  STEP \"load\" SUCCEEDED
  STEP \"fast path\" SUCCEEDED
  STEP \"save\" SUCCEEDED
operations with the crash after call 1:
  EXECUTION SUCCEEDED
  STEP \"load\" SUCCEEDED
  STEP \"slow path\" SUCCEEDED
  STEP \"save\" SUCCEEDED
";
    assert_eq!(text, expected);
}

/// An at-least-once step whose body gives another answer when it runs again: a crash while
/// it runs (before its result is checkpointed) changes the result.
#[tokio::test]
async fn a_step_that_answers_differently_when_run_again_is_caught() {
    let draws = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&draws);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let counter = Arc::clone(&counter);
        async move {
            // The START checkpoint of a step with a timeout is a crash point inside it.
            ctx.step("draw", move |_| async move {
                Ok::<_, Error>(counter.fetch_add(1, Ordering::SeqCst))
            })
            .timeout(Duration::from_secs(60))
            .await
        }
    });
    let err = runner.check_crash_safety(()).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("- result: 0 without the crash, 1 with it"),
        "{text}"
    );
    assert!(text.contains("  STEP \"draw\" SUCCEEDED\n"), "{text}");
    assert!(
        text.starts_with("not crash-safe: a crash after checkpoint call 1 (of 1)"),
        "{text}"
    );
}

async fn charge(_: Value, ctx: DurableContext, retried: bool) -> Result<String, Error> {
    let step = ctx
        .step("charge", |_| async { Ok::<_, Error>("ch_1".to_string()) })
        .semantics(StepSemantics::AtMostOncePerRetry);
    let charge = if retried {
        step.retry(presets::fixed(Duration::from_secs(1))).await?
    } else {
        step.retry(presets::none()).await?
    };
    Ok(charge)
}

#[tokio::test]
async fn an_interrupted_at_most_once_step_is_reported_not_failed() {
    let runner = LocalRunner::new(|input: Value, ctx: DurableContext| charge(input, ctx, false));
    let report = runner
        .check_crash_safety(json!({}))
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    let interrupted: Vec<_> = report.interrupted().collect();
    assert_eq!(interrupted.len(), 1, "{report}");
    let point = interrupted[0];
    assert_eq!(point.interrupted_steps(), ["charge"]);
    assert_eq!(point.execution().status(), ExecutionStatus::Failed);
    assert!(
        point.differences()[0].starts_with("status: SUCCEEDED without the crash, FAILED with it"),
        "{:?}",
        point.differences()
    );
    assert!(report
        .to_string()
        .contains("interrupted at-most-once step charge"));

    // With a retry, the interrupted attempt is retried and the execution ends the same.
    let runner = LocalRunner::new(|input: Value, ctx: DurableContext| charge(input, ctx, true));
    let report = runner.check_crash_safety(json!({})).await.unwrap();
    assert_eq!(report.interrupted().count(), 0);
    assert!(report
        .crash_points()
        .iter()
        .any(|point| point.interrupted_steps() == ["charge"]));
}

/// A callback nobody answers: it times out in every run, and the workflow's fallback is
/// the same each time; without a timeout every run stays RUNNING, which is the same ending.
#[tokio::test]
async fn callback_timeouts_and_unanswered_callbacks_end_the_same() {
    async fn with_timeout(_: Value, ctx: DurableContext) -> Result<String, Error> {
        let callback = ctx
            .create_callback::<String>("approval")
            .timeout(Duration::from_secs(3600))
            .await?;
        Ok(match callback.result().await {
            Ok(answer) => answer,
            Err(Error::CallbackTimedOut { .. }) => "timed out".to_string(),
            Err(other) => return Err(other),
        })
    }
    let report = LocalRunner::new(with_timeout)
        .check_crash_safety(json!({}))
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(report.baseline().result::<String>().unwrap(), "timed out");
    assert!(!report.crash_points().is_empty());

    async fn unanswered(_: Value, ctx: DurableContext) -> Result<String, Error> {
        let callback = ctx.create_callback::<String>("approval").await?;
        callback.result().await
    }
    let report = LocalRunner::new(unanswered)
        .check_crash_safety(json!({}))
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(report.baseline().status(), ExecutionStatus::Running);
}

#[tokio::test]
async fn an_input_that_does_not_serialize_is_a_runner_error() {
    struct Unserializable;
    impl serde::Serialize for Unserializable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no"))
        }
    }
    let err = good_runner()
        .check_crash_safety(Unserializable)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CrashSafetyError::Runner { call: None, .. }),
        "{err}"
    );
    assert!(
        err.to_string().starts_with("the run without faults: "),
        "{err}"
    );
}
