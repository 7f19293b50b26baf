//! The handlers of the tests: the shapes of the conformance scenarios.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use lambda_durable::retry::{presets, Jitter};
use lambda_durable::wait_strategy::WaitStrategyConfig;
use lambda_durable::{branch, DurableContext, Error};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
#[error("boom")]
pub struct Boom;

pub async fn success(_: (), ctx: DurableContext) -> Result<String, Error> {
    ctx.step("otel-success", |_| async {
        Ok::<_, Boom>("ok".to_string())
    })
    .await
}

pub async fn wait_resume(_: (), ctx: DurableContext) -> Result<(), Error> {
    ctx.wait("otel-wait", Duration::from_secs(1)).await?;
    ctx.step("otel-after-resume", |_| async { Ok::<_, Boom>(()) })
        .await
}

pub async fn retry(_: (), ctx: DurableContext) -> Result<u32, Error> {
    ctx.step("otel-retry", |step| async move {
        if step.attempt() == 1 {
            return Err(Boom);
        }
        Ok(step.attempt())
    })
    .retry(presets::fixed(Duration::from_secs(1)))
    .await
}

pub async fn terminal_failure(_: (), ctx: DurableContext) -> Result<(), Error> {
    ctx.step("otel-terminal-failure", |_| async { Err::<(), _>(Boom) })
        .retry(presets::none())
        .await
}

pub async fn child_context(_: (), ctx: DurableContext) -> Result<u32, Error> {
    ctx.run_in_child_context("otel-child-context", |child| async move {
        child
            .step("otel-child-step", |_| async { Ok::<_, Boom>(5) })
            .await
    })
    .await
}

pub async fn parallel(_: (), ctx: DurableContext) -> Result<Vec<String>, Error> {
    ctx.parallel(
        "otel-parallel",
        vec![
            branch("otel-parallel-branch-a", |c: DurableContext| async move {
                c.step("otel-parallel-step-a", |_| async {
                    Ok::<_, Boom>("a".to_string())
                })
                .await
            }),
            branch("otel-parallel-branch-b", |c: DurableContext| async move {
                c.step("otel-parallel-step-b", |_| async {
                    Ok::<_, Boom>("b".to_string())
                })
                .await
            }),
        ],
    )
    .max_concurrency(1)
    .await?
    .into_results()
}

pub async fn map(_: (), ctx: DurableContext) -> Result<Vec<u32>, Error> {
    ctx.map(
        "otel-map",
        vec![1u32, 2],
        |item_ctx, item, index| async move {
            item_ctx
                .step(format!("otel-map-step-{index}"), move |_| async move {
                    Ok::<_, Boom>(item * 10)
                })
                .await
        },
    )
    .item_namer(|_, index| format!("otel-map-iteration-{index}"))
    .max_concurrency(1)
    .await?
    .into_results()
}

pub async fn handled_failure(_: (), ctx: DurableContext) -> Result<String, Error> {
    let failed = ctx
        .step("otel-handled-failure", |_| async { Err::<(), _>(Boom) })
        .retry(presets::none())
        .await;
    assert!(failed.is_err());
    ctx.step("otel-recovery-step", |_| async {
        Ok::<_, Boom>("recovered".to_string())
    })
    .await
}

pub async fn wait_for_condition(_: (), ctx: DurableContext) -> Result<u32, Error> {
    ctx.wait_for_condition("otel-condition", 0u32, |state, _| async move {
        Ok::<_, Boom>(state + 1)
    })
    .strategy(
        WaitStrategyConfig::until(|state: &u32| *state >= 2)
            .initial_delay(Duration::from_secs(1))
            .jitter(Jitter::None),
    )
    .await
}

pub async fn wait_for_condition_failure(_: (), ctx: DurableContext) -> Result<u32, Error> {
    ctx.wait_for_condition("otel-failed-condition", 0u32, |_, _| async move {
        Err::<u32, _>(Boom)
    })
    .strategy(WaitStrategyConfig::until(|state: &u32| *state >= 2))
    .await
}

pub async fn wait_for_callback(_: (), ctx: DurableContext) -> Result<String, Error> {
    ctx.wait_for_callback::<String, _, _>("otel-callback", |_id, _step| async { Ok::<_, Boom>(()) })
        .await
}

pub async fn failed_child_context(_: (), ctx: DurableContext) -> Result<(), Error> {
    ctx.run_in_child_context("otel-failed-child-context", |_child| async move {
        Err::<(), _>(Boom)
    })
    .await
}

pub async fn failed_parallel(_: (), ctx: DurableContext) -> Result<Vec<u32>, Error> {
    ctx.parallel(
        "otel-failed-parallel",
        vec![branch(
            "otel-failed-parallel-branch",
            |_c: DurableContext| async move { Err::<u32, _>(Boom) },
        )],
    )
    .await?
    .into_results()
}

pub async fn failed_map(_: (), ctx: DurableContext) -> Result<Vec<u32>, Error> {
    ctx.map(
        "otel-failed-map",
        vec![1u32],
        |_item_ctx, _item, _| async move { Err::<u32, _>(Boom) },
    )
    .item_namer(|_, index| format!("otel-failed-map-iteration-{index}"))
    .await?
    .into_results()
}

pub async fn execution_failure(_: (), _ctx: DurableContext) -> Result<(), Boom> {
    Err(Boom)
}

pub async fn interrupted_wait(_: (), ctx: DurableContext) -> Result<(), Error> {
    ctx.wait("otel-interrupted-wait", Duration::from_secs(30))
        .await
}

pub async fn virtual_context(_: (), ctx: DurableContext) -> Result<String, Error> {
    ctx.run_in_virtual_context("otel-virtual-context", |_child| async move {
        Ok::<_, Error>("virtual-complete".to_string())
    })
    .await
}

/// A virtual context, then a wait: the second invocation runs the context's body again.
pub async fn virtual_context_then_wait(_: (), ctx: DurableContext) -> Result<(), Error> {
    ctx.run_in_virtual_context("otel-virtual-context", |child| async move {
        child
            .step("otel-virtual-step", |_| async { Ok::<_, Boom>(1) })
            .await
    })
    .await?;
    ctx.wait("otel-wait", Duration::from_secs(1)).await
}

pub async fn chained_invoke(_: (), ctx: DurableContext) -> Result<Value, Error> {
    ctx.invoke("otel-invoke", "otel-target", serde_json::json!({"n": 1}))
        .await
}

pub async fn failed_chained_invoke(_: (), ctx: DurableContext) -> Result<Value, Error> {
    ctx.invoke(
        "otel-failed-invoke",
        "otel-failing-target",
        serde_json::json!({}),
    )
    .await
}

pub async fn target(input: Value, ctx: DurableContext) -> Result<Value, Error> {
    ctx.step(
        "otel-target-step",
        move |_| async move { Ok::<_, Boom>(input) },
    )
    .await
}

pub async fn failing_target(_: Value, _ctx: DurableContext) -> Result<Value, Boom> {
    Err(Boom)
}
