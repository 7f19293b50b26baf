//! Operations the service finishes while the invocation still runs (a wait that ends, a
//! callback answered, a step or check due again) resume in place instead of in a later
//! invocation; when nothing runs, the invocation suspends as before. Timed on tokio's paused
//! clock with the runner in real time, so the assertions are exact.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use lambda_durable::wire::ExecutionStatus;
use lambda_durable::{branch, DurableContext, Error};
use lambda_durable_testing::{CallbackResponse, LocalRunner, PendingCallback};
use tokio::time::Instant;

/// A branch with one step that takes `seconds`.
fn long_step(seconds: u64) -> lambda_durable::Branch<'static, ()> {
    branch("long", move |ctx: DurableContext| async move {
        ctx.step("long step", move |_| async move {
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            Ok::<_, std::io::Error>(())
        })
        .await
    })
}

/// `waits` waits of 1 s, then a step, beside a step of `seconds`.
async fn waits_beside_a_step(ctx: DurableContext, waits: u64, seconds: u64) -> Result<(), Error> {
    let waiting = branch("waiting", move |ctx: DurableContext| async move {
        for i in 0..waits {
            ctx.wait(format!("wait {i}"), Duration::from_secs(1))
                .await?;
        }
        ctx.step("after the waits", |_| async { Ok::<_, std::io::Error>(()) })
            .await
    });
    ctx.parallel("both", vec![long_step(seconds), waiting])
        .await?;
    Ok(())
}

fn millis(op: &lambda_durable::wire::Operation) -> (i64, i64) {
    (
        op.start_timestamp.as_ref().unwrap().epoch_millis(),
        op.end_timestamp.as_ref().unwrap().epoch_millis(),
    )
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn waits_beside_a_running_step_resume_in_place() {
    let started = Instant::now();
    let execution = LocalRunner::new(|_: (), ctx| waits_beside_a_step(ctx, 5, 7))
        .real_time(true)
        .run(())
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    assert_eq!(execution.invocations(), 1, "{}", execution.timeline());
    assert_eq!(started.elapsed(), Duration::from_secs(7));
    // The waits ran one after the other while the step ran, each as soon as the one before
    // it ended.
    let first = millis(execution.operation("wait 0").unwrap());
    let last = millis(execution.operation("wait 4").unwrap());
    assert_eq!(first.1 - first.0, 1000);
    assert!(last.1 - first.0 < 6000, "{first:?} {last:?}");
    let after = millis(execution.operation("after the waits").unwrap());
    let step = millis(execution.operation("long step").unwrap());
    assert!(after.1 < step.1, "{after:?} before {step:?}");
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_wait_alone_still_suspends_the_invocation() {
    let started = Instant::now();
    let execution = LocalRunner::new(|_: (), ctx| waits_beside_a_step(ctx, 3, 1))
        .real_time(true)
        .run(())
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    // The first wait ends with the step, in place; nothing runs beside the others, so each
    // of them ends in an invocation of its own. (The first wait's end, reported by a
    // checkpoint response, does not cost another invocation.)
    assert_eq!(execution.invocations(), 3, "{}", execution.timeline());
    assert_eq!(started.elapsed(), Duration::from_secs(3));
}

async fn callbacks(count: u64, ctx: DurableContext) -> Result<u64, Error> {
    let mut approvals = 0;
    for i in 0..count {
        let approved: bool = ctx
            .wait_for_callback(format!("approval {i}"), |_id, _step| async {
                Ok::<_, std::io::Error>(())
            })
            .await?;
        approvals += u64::from(approved);
    }
    Ok(approvals)
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn callbacks_answered_while_the_submitter_runs_resume_in_place() {
    let execution = LocalRunner::new(callbacks)
        .on_callback(
            |_: &PendingCallback| true,
            CallbackResponse::json(true.into()),
        )
        .run(10)
        .await
        .unwrap();
    assert_eq!(execution.result::<u64>().unwrap(), 10);
    assert_eq!(execution.invocations(), 1, "{}", execution.timeline());
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_callback_answered_later_resumes_in_place_while_a_step_runs() {
    async fn handler(_: (), ctx: DurableContext) -> Result<usize, Error> {
        let approval = branch("approval", |ctx: DurableContext| async move {
            ctx.wait_for_callback::<bool, _, _>("approval", |_id, _step| async {
                Ok::<_, std::io::Error>(())
            })
            .await
        });
        let work = branch("work", |ctx: DurableContext| async move {
            ctx.step("work", |_| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Ok::<_, std::io::Error>(false)
            })
            .await
        });
        let results = ctx.parallel("both", vec![approval, work]).await?;
        Ok(results.success_count())
    }
    let started = Instant::now();
    let execution = LocalRunner::new(handler)
        .real_time(true)
        .on_callback(
            "approval",
            CallbackResponse::json(true.into()).after(Duration::from_secs(3)),
        )
        .run(())
        .await
        .unwrap();
    assert_eq!(execution.result::<usize>().unwrap(), 2);
    assert_eq!(execution.invocations(), 1, "{}", execution.timeline());
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    // Asked about at a bounded rate: about once a second, backing off, while the step ran.
    let stats = execution.stats();
    assert!(stats.checkpoint_calls <= 12, "{stats:?}");
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_replay_of_an_execution_that_resumed_in_place_agrees() {
    let runner = LocalRunner::new(|_: (), ctx| waits_beside_a_step(ctx, 2, 4)).real_time(true);
    let execution = runner.run(()).await.unwrap();
    assert_eq!(execution.invocations(), 1);
    let replay = runner.replay(&execution).await.unwrap();
    assert_eq!(replay.mismatches(), Vec::<String>::new());
}

/// A map of `items` at concurrency 2: item 0 runs a step that fails its first attempt
/// (retried after 1 s) after a step that succeeds; the others run a step of `seconds`.
/// Counts the runs of each body.
async fn a_retry_beside_long_items(
    ctx: DurableContext,
    items: usize,
    seconds: u64,
    runs: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) -> Result<Vec<u32>, Error> {
    let retry = lambda_durable::retry::ExponentialBackoff::new()
        .max_attempts(3)
        .initial_delay(Duration::from_secs(1))
        .jitter(lambda_durable::retry::Jitter::None);
    ctx.map(
        "items",
        (0..items).collect(),
        move |item_ctx, i: usize, _| {
            let runs = runs.clone();
            let retry = retry.clone();
            async move {
                if i == 0 {
                    let log = runs.clone();
                    item_ctx
                        .step("before", move |_| async move {
                            log.lock().unwrap().push("before".into());
                            Ok::<_, std::io::Error>(())
                        })
                        .await?;
                    let log = runs.clone();
                    return item_ctx
                        .step("flaky", move |step| async move {
                            log.lock()
                                .unwrap()
                                .push(format!("flaky {}", step.attempt()));
                            if step.attempt() == 1 {
                                return Err(std::io::Error::other("not yet"));
                            }
                            Ok(step.attempt())
                        })
                        .retry(retry)
                        .await;
                }
                item_ctx
                    .step("long", move |_| async move {
                        tokio::time::sleep(Duration::from_secs(seconds)).await;
                        Ok::<_, std::io::Error>(0)
                    })
                    .await
            }
        },
    )
    .max_concurrency(2)
    .await?
    .into_results()
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_map_item_waiting_to_retry_runs_again_in_place_while_others_run() {
    let runs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = runs.clone();
    let started = Instant::now();
    let execution =
        LocalRunner::new(move |_: (), ctx| a_retry_beside_long_items(ctx, 2, 5, log.clone()))
            .real_time(true)
            .run(())
            .await
            .unwrap();
    assert_eq!(execution.result::<Vec<u32>>().unwrap(), vec![2, 0]);
    assert_eq!(execution.invocations(), 1, "{}", execution.timeline());
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    // The item ran again from its start: the step before the retry replayed its record.
    assert_eq!(*runs.lock().unwrap(), ["before", "flaky 1", "flaky 2"]);
    // The second attempt ran when the service made it ready, a second after the first.
    let flaky = execution.operation("flaky").unwrap();
    let (start, end) = millis(flaky);
    assert!((1000..1100).contains(&(end - start)), "{start} {end}");
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_map_item_waiting_to_retry_frees_its_slot_for_the_next_item() {
    // Three items at concurrency 2: the third starts when the retried item ends, while the
    // long one still runs, all in one invocation.
    let runs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = runs.clone();
    let started = Instant::now();
    let execution =
        LocalRunner::new(move |_: (), ctx| a_retry_beside_long_items(ctx, 3, 3, log.clone()))
            .real_time(true)
            .run(())
            .await
            .unwrap();
    assert_eq!(execution.result::<Vec<u32>>().unwrap(), vec![2, 0, 0]);
    assert_eq!(execution.invocations(), 1, "{}", execution.timeline());
    // Item 2 starts when the retried item ends, at 1 s, and ends 3 s later (not when the
    // long item ends, at 3 s).
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(4) && elapsed < Duration::from_millis(4200),
        "{elapsed:?}"
    );
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_map_item_waiting_to_retry_with_nothing_else_running_suspends() {
    let runs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = runs.clone();
    let execution =
        LocalRunner::new(move |_: (), ctx| a_retry_beside_long_items(ctx, 1, 0, log.clone()))
            .real_time(true)
            .run(())
            .await
            .unwrap();
    assert_eq!(execution.result::<Vec<u32>>().unwrap(), vec![2]);
    assert_eq!(execution.invocations(), 2, "{}", execution.timeline());
    assert_eq!(*runs.lock().unwrap(), ["before", "flaky 1", "flaky 2"]);
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_replay_of_a_map_item_that_ran_again_in_place_agrees() {
    let runs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = runs.clone();
    let runner =
        LocalRunner::new(move |_: (), ctx| a_retry_beside_long_items(ctx, 3, 3, log.clone()))
            .real_time(true);
    let execution = runner.run(()).await.unwrap();
    assert_eq!(execution.invocations(), 1);
    let replay = runner.replay(&execution).await.unwrap();
    assert_eq!(replay.mismatches(), Vec::<String>::new());
}

/// Items of `nesting` that run a step failing once (retried after 1 s) in a map nested in
/// each item, beside an item running a step of 3 s; counts the runs of each body.
async fn nested_retries(
    ctx: DurableContext,
    nesting: lambda_durable::Nesting,
    runs: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) -> Result<usize, Error> {
    let retry = lambda_durable::retry::ExponentialBackoff::new()
        .max_attempts(2)
        .initial_delay(Duration::from_secs(1))
        .jitter(lambda_durable::retry::Jitter::None);
    let outer = ctx
        .map("outer", vec![0u32, 1], move |item_ctx, i, _| {
            let runs = runs.clone();
            let retry = retry.clone();
            async move {
                if i == 1 {
                    return item_ctx
                        .step("long", |_| async {
                            tokio::time::sleep(Duration::from_secs(3)).await;
                            Ok::<_, std::io::Error>(1)
                        })
                        .await;
                }
                let inner = item_ctx
                    .map("inner", vec![10u32, 11], move |inner_ctx, j, _| {
                        let runs = runs.clone();
                        let retry = retry.clone();
                        async move {
                            let log = runs.clone();
                            inner_ctx
                                .step(format!("first {j}"), move |_| async move {
                                    log.lock().unwrap().push(format!("first {j}"));
                                    Ok::<_, std::io::Error>(())
                                })
                                .await?;
                            let log = runs.clone();
                            inner_ctx
                                .step(format!("flaky {j}"), move |step| async move {
                                    log.lock()
                                        .unwrap()
                                        .push(format!("flaky {j} {}", step.attempt()));
                                    if step.attempt() == 1 && j == 10 {
                                        return Err(std::io::Error::other("not yet"));
                                    }
                                    Ok(j)
                                })
                                .retry(retry)
                                .await
                        }
                    })
                    .nesting(nesting)
                    .await?;
                Ok(inner.success_count() as u32)
            }
        })
        .nesting(nesting)
        .await?;
    Ok(outer.success_count())
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn nested_and_flat_map_items_run_again_in_place() {
    for nesting in [
        lambda_durable::Nesting::Nested,
        lambda_durable::Nesting::Flat,
    ] {
        let runs = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = runs.clone();
        let runner = LocalRunner::new(move |_: (), ctx| nested_retries(ctx, nesting, log.clone()))
            .real_time(true);
        let execution = runner.run(()).await.unwrap();
        assert_eq!(execution.result::<usize>().unwrap(), 2, "{nesting:?}");
        assert_eq!(
            execution.invocations(),
            1,
            "{nesting:?}: {}",
            execution.timeline()
        );
        // Only the inner item with the failing step ran again; its first step replayed.
        let mut runs = runs.lock().unwrap().clone();
        runs.sort();
        assert_eq!(
            runs,
            [
                "first 10",
                "first 11",
                "flaky 10 1",
                "flaky 10 2",
                "flaky 11 1"
            ],
            "{nesting:?}"
        );
        let replay = runner.replay(&execution).await.unwrap();
        assert_eq!(replay.mismatches(), Vec::<String>::new(), "{nesting:?}");
    }
}
