//! The local runner's latency and real-time clock: what round trips and waits cost in time,
//! measured on tokio's paused clock (so the assertions are exact, whatever the machine).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use lambda_durable::wire::ExecutionStatus;
use lambda_durable::{branch, DurableContext, Error};
use lambda_durable_testing::{Latency, LocalRunner};
use tokio::time::Instant;

const CALL: Duration = Duration::from_millis(15);

async fn three_steps(_: (), ctx: DurableContext) -> Result<u32, Error> {
    let mut total = 0;
    for i in 0..3u32 {
        total += ctx
            .step(format!("step {i}"), move |_| async move {
                Ok::<_, std::io::Error>(i)
            })
            .await?;
    }
    Ok(total)
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn every_call_and_invocation_takes_the_latency() {
    let started = Instant::now();
    let runner = LocalRunner::new(three_steps).latency(Latency::fixed(CALL));
    let execution = runner.run(()).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(execution.result::<u32>().unwrap(), 3);
    let stats = runner.stats();
    let calls = stats.checkpoint_calls + stats.get_state_calls + stats.invocations;
    assert!(calls >= 4, "{stats:?}");
    // The calls are in sequence; on a paused clock only the checkpoint writer's linger (a
    // millisecond per request, for a START nobody waits for) adds to them.
    let paid = CALL * u32::try_from(calls).unwrap();
    assert!(elapsed >= paid, "{elapsed:?} {stats:?}");
    assert!(
        elapsed <= paid + Duration::from_millis(stats.checkpoint_calls),
        "{elapsed:?} {stats:?}"
    );

    // Without latency the same run takes no time.
    let started = Instant::now();
    LocalRunner::new(three_steps).run(()).await.unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO);
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn jitter_is_bounded_and_repeats_with_the_seed() {
    let latency = Latency::fixed(CALL).with_jitter(Duration::from_millis(10));
    let mut times = Vec::new();
    for seed in [1, 1, 2] {
        let started = Instant::now();
        let runner = LocalRunner::new(three_steps).latency(latency).seed(seed);
        runner.run(()).await.unwrap();
        let stats = runner.stats();
        let calls = u32::try_from(stats.checkpoint_calls + stats.invocations).unwrap();
        let elapsed = started.elapsed();
        assert!(elapsed >= CALL * calls, "{elapsed:?}");
        assert!(elapsed <= (CALL + latency.jitter()) * calls, "{elapsed:?}");
        times.push(elapsed);
    }
    assert_eq!(times[0], times[1]);
    assert_ne!(times[0], times[2]);
}

async fn wait_a_minute(_: (), ctx: DurableContext) -> Result<(), Error> {
    ctx.wait("a minute", Duration::from_secs(60)).await
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn in_real_time_the_runner_waits_for_the_timer() {
    let started = Instant::now();
    let execution = LocalRunner::new(wait_a_minute)
        .real_time(true)
        .run(())
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    assert_eq!(started.elapsed(), Duration::from_secs(60));
    assert_eq!(execution.invocations(), 2);

    // By default the clock jumps.
    let started = Instant::now();
    LocalRunner::new(wait_a_minute).run(()).await.unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO);
}

/// A step of 5 s beside a wait of 1 s.
async fn long_step_beside_a_wait(_: (), ctx: DurableContext) -> Result<(), Error> {
    let step = branch("step", |ctx: DurableContext| async move {
        ctx.step("long", |_| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<_, std::io::Error>(())
        })
        .await
    });
    let wait = branch("wait", |ctx: DurableContext| async move {
        ctx.wait("short", Duration::from_secs(1)).await
    });
    ctx.parallel("both", vec![step, wait]).await?;
    Ok(())
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn in_real_time_timers_fire_while_the_handler_runs() {
    let started = Instant::now();
    let execution = LocalRunner::new(long_step_beside_a_wait)
        .real_time(true)
        .run(())
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    // The wait was over when the step finished: the next invocation follows at once.
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    let wait = execution.operation("short").unwrap();
    let (start, end) = (
        wait.start_timestamp.as_ref().unwrap(),
        wait.end_timestamp.as_ref().unwrap(),
    );
    assert_eq!(end.epoch_millis() - start.epoch_millis(), 1000, "{wait:?}");
}

/// A step of `millis` beside a wait of 1 s, then nothing.
async fn step_then_idle_until_a_wait(millis: u64, ctx: DurableContext) -> Result<(), Error> {
    let work = branch("work", move |ctx: DurableContext| async move {
        ctx.step("work", move |_| async move {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            Ok::<_, std::io::Error>(())
        })
        .await
    });
    let wait = branch("wait", |ctx: DurableContext| async move {
        ctx.wait("a second", Duration::from_secs(1)).await
    });
    ctx.parallel("both", vec![work, wait]).await?;
    Ok(())
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_invocation_waits_for_an_operation_due_sooner_than_a_new_invocation() {
    // The step ends about 10 ms before the wait is due: less than two round trips, what a
    // new invocation would take. The invocation waits, asks when the wait is due, and goes
    // on in place.
    let execution = LocalRunner::new(step_then_idle_until_a_wait)
        .real_time(true)
        .latency(Latency::fixed(CALL))
        .run(990)
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    assert_eq!(execution.invocations(), 1, "{}", execution.timeline());
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_invocation_suspends_for_an_operation_due_later_than_a_new_invocation() {
    // The wait is due about 100 ms after the step ends: suspending is cheaper.
    let execution = LocalRunner::new(step_then_idle_until_a_wait)
        .real_time(true)
        .latency(Latency::fixed(CALL))
        .run(900)
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    assert_eq!(execution.invocations(), 2, "{}", execution.timeline());
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn without_latency_an_invocation_never_waits_idle() {
    // Calls take no time, so a new invocation costs nothing to wait for.
    let execution = LocalRunner::new(step_then_idle_until_a_wait)
        .real_time(true)
        .run(999)
        .await
        .unwrap();
    assert_eq!(execution.invocations(), 2, "{}", execution.timeline());
}
