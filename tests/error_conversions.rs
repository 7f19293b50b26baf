//! `?` takes every operation's error into the error types handlers commonly return:
//! `lambda_durable::Error`, boxed errors and `anyhow::Error`. These handlers compile only
//! if it does, and they run on the local runner.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use lambda_durable::{branch, DurableContext};
use lambda_durable_testing::LocalRunner;
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
#[error("boom")]
struct Boom;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One of every kind of operation, each result taken with `?` into `E`.
macro_rules! every_operation {
    ($ctx:ident, $error:ty) => {{
        let a: u32 = $ctx.step("a", |_| async { Ok::<_, Boom>(1u32) }).await?;
        $ctx.wait("w", Duration::from_secs(1)).await?;
        let b: u32 = $ctx
            .run_in_child_context("child", |c| async move {
                c.step("b", |_| async { Ok::<_, Boom>(2u32) }).await
            })
            .await?;
        let c: u32 = $ctx
            .run_in_virtual_context("group", |g| async move {
                g.step("c", |_| async { Ok::<_, Boom>(3u32) }).await
            })
            .await?;
        let d: Vec<u32> = $ctx
            .map("map", vec![4u32], |_, n, _| async move { Ok::<_, Boom>(n) })
            .await?
            .into_results()?;
        let (e, f) = $ctx
            .parallel_tuple(
                "pair",
                (
                    branch("e", |_| async { Ok::<_, Boom>(5u32) }),
                    branch("f", |_| async { Ok::<_, Boom>("six".to_string()) }),
                ),
            )
            .await?
            .into_values()?;
        let g: u32 = $ctx
            .wait_for_condition("poll", 6u32, |n, _| async move { Ok::<_, Boom>(n + 1) })
            .await?;
        let h: u32 = $ctx
            .with_retry("block", |c, _| async move {
                c.step("h", |_| async { Ok::<_, Boom>(8u32) }).await
            })
            .await?;
        let i: Value = $ctx.invoke("echo", "echo", json!(9)).await?;
        let changed: bool = $ctx.patched("new-path")?;
        Ok::<Value, $error>(json!([a, b, c, d, e, f, g, h, i, changed]))
    }};
}

fn expected() -> Value {
    json!([1, 2, 3, [4], 5, "six", 7, 8, 9, true])
}

async fn with_sdk_error(_: Value, ctx: DurableContext) -> Result<Value, lambda_durable::Error> {
    every_operation!(ctx, lambda_durable::Error)
}

async fn with_boxed_error(_: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    every_operation!(ctx, BoxError)
}

async fn with_anyhow(_: Value, ctx: DurableContext) -> anyhow::Result<Value> {
    every_operation!(ctx, anyhow::Error)
}

#[tokio::test]
async fn every_operation_error_converts_with_question_mark() {
    let echo = |event: Value| async move { Ok::<_, Boom>(event) };
    let sdk = LocalRunner::new(with_sdk_error).register_plain("echo", echo);
    assert_eq!(
        sdk.run(Value::Null)
            .await
            .unwrap()
            .result::<Value>()
            .unwrap(),
        expected()
    );
    let boxed = LocalRunner::new(with_boxed_error).register_plain("echo", echo);
    assert_eq!(
        boxed
            .run(Value::Null)
            .await
            .unwrap()
            .result::<Value>()
            .unwrap(),
        expected()
    );
    let anyhow = LocalRunner::new(with_anyhow).register_plain("echo", echo);
    assert_eq!(
        anyhow
            .run(Value::Null)
            .await
            .unwrap()
            .result::<Value>()
            .unwrap(),
        expected()
    );
}
