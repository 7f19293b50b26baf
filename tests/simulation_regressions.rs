//! SDK bugs found by the simulation (`tests/simulation.rs`), each as a minimal handler.
//!
//! Every test is ignored while its bug is open; remove the `#[ignore]` with the fix. The
//! seed that found each one is in its documentation (`SIM_SEED=<n> SIM_FEATURES=all cargo
//! test --test simulation -- replay_seed --nocapture` replays it).
// `fn .. -> impl Future + Send` spells out the bound `now_values` needs.
#![allow(clippy::unwrap_used, clippy::manual_async_fn)]

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use lambda_durable::retry::FixedDelay;
use lambda_durable::wire::ExecutionStatus;
use lambda_durable::{DurableContext, Error, Nesting};
use lambda_durable_testing::{CallbackResponse, Fault, LocalRunner};
use serde_json::{json, Value};

type Operand<'a> = Pin<Box<dyn Future<Output = Result<Value, Error>> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Failed(String);

/// Seed 15 (all features), shrunk: `any` over two `async` blocks that start their
/// operation on the captured context. The callback wins; once the decision is recorded, a
/// replay polls only the winner, which then reserves the id the wait had, and the
/// execution fails as non-deterministic ("asked for CALLBACK/Callback ... history has
/// WAIT/Wait").
#[tokio::test(flavor = "current_thread")]
async fn combinator_async_block_operands_keep_their_ids_on_replay() {
    async fn handler(_: Value, ctx: DurableContext) -> Result<Value, Error> {
        let wait = async {
            ctx.wait("wait", Duration::from_secs(9)).await?;
            Ok(json!("waited"))
        };
        let callback = async {
            let callback = ctx.create_callback::<Value>("callback").await?;
            callback.result().await
        };
        let first = ctx
            .any(
                "first",
                vec![Box::pin(wait) as Operand<'_>, Box::pin(callback)],
            )
            .await?;
        // Anything after the combinator makes the next invocation replay it.
        ctx.wait("after", Duration::from_secs(1)).await?;
        Ok(first)
    }
    let execution = LocalRunner::new(handler)
        .on_callback("callback", CallbackResponse::json(json!("answered")))
        .run(json!({}))
        .await
        .unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(execution.result::<Value>().unwrap(), json!("answered"));
}

/// Seed 2 (all features): a step body that panics. The panic should fail the attempt
/// (and be retried) like an error; instead it unwinds out of `LocalRunner::run`.
#[tokio::test(flavor = "current_thread")]
async fn panicking_step_attempt_is_a_failed_attempt() {
    async fn handler(_: Value, ctx: DurableContext) -> Result<Value, Error> {
        ctx.step("flaky", |step| async move {
            if step.attempt() == 1 {
                panic!("first attempt panics");
            }
            Ok::<_, Failed>(json!(step.attempt()))
        })
        .retry(FixedDelay::new(Duration::from_secs(1)).max_attempts(2))
        .await
    }
    let run = tokio::spawn(async { LocalRunner::new(handler).run(json!({})).await });
    let execution = run.await.expect("the panic escaped the runner").unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(execution.result::<Value>().unwrap(), json!(2));
}

/// A flat map whose result is over 256 KiB: replayed (here because of the wait after it),
/// it comes back as an empty `BatchResult`.
#[tokio::test(flavor = "current_thread")]
async fn large_flat_map_replays_its_items() {
    async fn handler(_: Value, ctx: DurableContext) -> Result<Value, Error> {
        let batch = ctx
            .map("big", vec![0usize, 1], |item_ctx, i, _| async move {
                item_ctx
                    .step("item", move |_| async move {
                        Ok::<_, Failed>("x".repeat(150 * 1024 + i))
                    })
                    .await
            })
            .nesting(Nesting::Flat)
            .await?;
        ctx.wait("after", Duration::from_secs(1)).await?;
        let lengths: Vec<usize> = batch.succeeded().map(String::len).collect();
        Ok(json!(lengths))
    }
    let execution = LocalRunner::new(handler).run(json!({})).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(
        execution.result::<Value>().unwrap(),
        json!([150 * 1024, 150 * 1024 + 1])
    );
}

/// Seed 1025406 (regression features), shrunk, found while operations learnt to resume in
/// place: a parallel whose result is over 256 KiB is rebuilt on replay by running its
/// branches in a replay-only scope. A completed callback in a branch must give its recorded
/// result there; parking first (and so abandoning the branch) made the replay report the
/// branch as failed (`ChildContextError`).
#[tokio::test(flavor = "current_thread")]
async fn completed_callback_in_a_large_parallel_replays_its_result() {
    async fn handler(_: Value, ctx: DurableContext) -> Result<Value, Error> {
        let branch = lambda_durable::branch("b0", |ctx: DurableContext| async move {
            let callback = ctx.create_callback::<Value>("callback").await?;
            let answer = callback.result().await?;
            Ok::<_, Error>(json!({"answer": answer, "pad": "x".repeat(300 * 1024)}))
        });
        let batch = ctx.parallel("parallel", vec![branch]).await?;
        ctx.wait("after", Duration::from_secs(1)).await?;
        let answers: Vec<Value> = batch.succeeded().map(|v| v["answer"].clone()).collect();
        Ok(json!(answers))
    }
    let runner =
        LocalRunner::new(handler).on_callback("callback", CallbackResponse::json(json!(3)));
    let execution = runner.run(json!({})).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(execution.result::<Value>().unwrap(), json!([3]));
    let replay = runner.replay(&execution).await.unwrap();
    assert_eq!(replay.mismatches(), Vec::<String>::new());
}

/// Runs `handler` (which pushes every `now()` it sees into the shared list) and returns
/// the distinct values seen.
async fn now_values<F, Fut>(handler: F, faults: &[Fault]) -> Vec<u128>
where
    F: Fn(DurableContext, Arc<Mutex<Vec<u128>>>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, Error>> + Send + 'static,
{
    let seen = Arc::new(Mutex::new(Vec::new()));
    let shared = Arc::clone(&seen);
    let handler = Arc::new(handler);
    let mut runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let handler = Arc::clone(&handler);
        let seen = Arc::clone(&shared);
        async move { handler(ctx, seen).await }
    });
    for fault in faults {
        runner = runner.fault(*fault);
    }
    let execution = runner.run(json!({})).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    let mut values = seen.lock().unwrap().clone();
    values.sort_unstable();
    values.dedup();
    values
}

fn millis(ctx: &DurableContext) -> u128 {
    ctx.now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

/// `now()` in a child context after a grandchild context whose step was retried; the
/// point is replayed from scratch after a crash following the last checkpoint: the first
/// run and the replay see different times (the root variant is the next test).
#[tokio::test(flavor = "current_thread")]
async fn now_in_child_context_is_stable_across_replay() {
    fn program(
        ctx: DurableContext,
        seen: Arc<Mutex<Vec<u128>>>,
    ) -> impl Future<Output = Result<Value, Error>> + Send {
        async move {
            ctx.run_in_child_context("outer", |outer| async move {
                outer
                    .run_in_child_context("inner", |inner| async move {
                        inner
                            .step("flaky", |step| async move {
                                if step.attempt() == 1 {
                                    return Err(Failed("first attempt fails".into()));
                                }
                                Ok(())
                            })
                            .retry(FixedDelay::new(Duration::from_secs(5)).max_attempts(2))
                            .await?;
                        Ok::<_, Error>(json!(null))
                    })
                    .await?;
                seen.lock().unwrap().push(millis(&outer));
                outer.wait("later", Duration::from_secs(1)).await?;
                Ok::<_, Error>(json!(null))
            })
            .await
        }
    }
    let values = now_values(program, &[]).await;
    assert_eq!(values.len(), 1, "now() returned {values:?}");
}

/// Seed 2419 (CI's features, so `now_at_root` is off there), shrunk: `now()` at the root,
/// right after a child context whose step was retried. The invocation that finishes the
/// child sees one time and the replay of the same point (after a crash following the
/// last checkpoint) another: the execution start and the child's end.
#[tokio::test(flavor = "current_thread")]
async fn now_at_root_is_stable_across_replay() {
    fn program(
        ctx: DurableContext,
        seen: Arc<Mutex<Vec<u128>>>,
    ) -> impl Future<Output = Result<Value, Error>> + Send {
        async move {
            ctx.run_in_child_context("child", |child| async move {
                child
                    .step("flaky", |step| async move {
                        if step.attempt() == 1 {
                            return Err(Failed("first attempt fails".into()));
                        }
                        Ok(())
                    })
                    .retry(FixedDelay::new(Duration::from_secs(5)).max_attempts(2))
                    .await?;
                Ok::<_, Error>(json!(null))
            })
            .await?;
            seen.lock().unwrap().push(millis(&ctx));
            Ok(json!(null))
        }
    }
    // Checkpoint calls: 1 step start, 2 step retry, 3 step start/succeed, 4 child
    // succeeded (the last); crashing after it makes a fresh invocation replay everything.
    let calls = {
        let execution = LocalRunner::new(|_: Value, ctx: DurableContext| {
            program(ctx, Arc::new(Mutex::new(Vec::new())))
        })
        .run(json!({}))
        .await
        .unwrap();
        execution.stats().checkpoint_calls
    };
    let values = now_values(program, &[Fault::crash().at_call(calls)]).await;
    assert_eq!(values.len(), 1, "now() returned {values:?}");
}

/// A step error over the service's 32 KiB error limit: the step should still fail as a
/// step (`Error::StepFailed`, its message cut to fit) instead of the execution failing.
#[tokio::test(flavor = "current_thread")]
async fn oversized_step_error_fails_only_the_step() {
    async fn handler(_: Value, ctx: DurableContext) -> Result<Value, Error> {
        let outcome = ctx
            .step("loud", |_| async {
                Err::<(), _>(Failed("e".repeat(40 * 1024)))
            })
            .retry(lambda_durable::retry::NoRetry)
            .await;
        Ok(json!(matches!(outcome, Err(Error::StepFailed { .. }))))
    }
    let execution = LocalRunner::new(handler).run(json!({})).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(execution.result::<Value>().unwrap(), json!(true));
}
