//! `patched`: code changes under executions in flight. Each test runs one execution whose
//! code changes between invocations (the handler reads which version is deployed from
//! outside, as a redeploy would change it).
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lambda_durable::wire::{ExecutionStatus, OperationType};
use lambda_durable::{DurableContext, Error};
use lambda_durable_testing::LocalRunner;
use serde_json::Value;

/// The code before and after the change "add-tax": a step "add tax" between the wait and
/// the charge.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Version {
    Old,
    New,
    /// The new code once the old path is deleted.
    Cleaned,
}

async fn checkout(ctx: &DurableContext, version: Version) -> Result<(u64, Option<bool>), Error> {
    let cents = ctx
        .step("price", |_| async { Ok::<_, std::io::Error>(1000u64) })
        .await?;
    ctx.wait("cool off", Duration::from_secs(5)).await?;
    let (total, patched) = match version {
        Version::Old => (cents, None),
        Version::New => {
            let patched = ctx.patched("add-tax")?;
            let total = if patched {
                ctx.step("add tax", move |_| async move {
                    Ok::<_, std::io::Error>(cents * 108 / 100)
                })
                .await?
            } else {
                cents
            };
            (total, Some(patched))
        }
        Version::Cleaned => {
            let total = ctx
                .step("add tax", move |_| async move {
                    Ok::<_, std::io::Error>(cents * 108 / 100)
                })
                .await?;
            (total, Some(true))
        }
    };
    ctx.step(
        "charge",
        move |_| async move { Ok::<_, std::io::Error>(total) },
    )
    .await?;
    Ok((total, patched))
}

/// A runner whose code is `versions[i]` in invocation `i` (the last one from then on).
fn deployed(versions: &'static [Version]) -> (LocalRunner, Arc<AtomicUsize>) {
    let invocations = Arc::new(AtomicUsize::new(0));
    let i = Arc::clone(&invocations);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let n = i.fetch_add(1, Ordering::SeqCst);
        let version = versions[n.min(versions.len() - 1)];
        async move { checkout(&ctx, version).await }
    });
    (runner, invocations)
}

fn markers(execution: &lambda_durable_testing::Execution) -> usize {
    execution
        .operations()
        .iter()
        .filter(|op| {
            op.type_ == OperationType::Step
                && op.sub_type.as_ref().map(|s| s.as_str()) == Some("Patch")
        })
        .count()
}

#[tokio::test]
async fn new_executions_take_the_new_path_on_every_replay() {
    let (runner, invocations) = deployed(&[Version::New]);
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(
        execution.result::<(u64, Option<bool>)>().unwrap(),
        (1080, Some(true))
    );
    assert!(
        invocations.load(Ordering::SeqCst) >= 2,
        "the wait makes a replay"
    );
    assert_eq!(markers(&execution), 1);
    let marker = execution.operation("add-tax").unwrap();
    assert_eq!(marker.sub_type.as_ref().map(|s| s.as_str()), Some("Patch"));
    // The marker takes no operation id: the step after it is the third operation.
    let (old_runner, _) = deployed(&[Version::Old]);
    let old = old_runner.run(Value::Null).await.unwrap();
    let add_tax = execution.operation("add tax").unwrap();
    assert_eq!(add_tax.id, old.operation("charge").unwrap().id);
}

#[tokio::test]
async fn histories_recorded_past_the_change_take_the_old_path() {
    // The old code charged before the new code was deployed (it waits to settle), so the
    // history holds the charge where the new code would add tax: the new code must replay
    // the old path.
    let invocations = Arc::new(AtomicUsize::new(0));
    let i = Arc::clone(&invocations);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let n = i.fetch_add(1, Ordering::SeqCst);
        async move {
            // Invocation 0 and 1: the old code (it charges, then waits again); from the
            // third on, the new code.
            let version = if n < 2 { Version::Old } else { Version::New };
            let result = checkout(&ctx, version).await?;
            ctx.wait("settle", Duration::from_secs(5)).await?;
            Ok::<_, Error>(result)
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert!(invocations.load(Ordering::SeqCst) >= 3);
    assert_eq!(
        execution.result::<(u64, Option<bool>)>().unwrap(),
        (1000, Some(false))
    );
    assert_eq!(markers(&execution), 0);
    assert!(execution.operation("add tax").is_none());
}

#[tokio::test]
async fn histories_that_end_before_the_change_take_the_new_path() {
    // The old code waits; the new code is deployed before the wait ends: nothing was
    // recorded past the change, so the execution goes on with the new path.
    let (runner, _) = deployed(&[Version::Old, Version::New]);
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(
        execution.result::<(u64, Option<bool>)>().unwrap(),
        (1080, Some(true))
    );
    assert_eq!(markers(&execution), 1);
}

#[tokio::test]
async fn the_call_can_be_removed_once_the_old_path_is_gone() {
    // Recorded with the marker by the new code; replayed by code without the call.
    let invocations = Arc::new(AtomicUsize::new(0));
    let i = Arc::clone(&invocations);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let n = i.fetch_add(1, Ordering::SeqCst);
        async move {
            let version = if n < 2 {
                Version::New
            } else {
                Version::Cleaned
            };
            let result = checkout(&ctx, version).await?;
            ctx.wait("settle", Duration::from_secs(5)).await?;
            Ok::<_, Error>(result)
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert!(invocations.load(Ordering::SeqCst) >= 3);
    assert_eq!(markers(&execution), 1);
    assert_eq!(
        execution.result::<(u64, Option<bool>)>().unwrap(),
        (1080, Some(true))
    );
}

#[tokio::test]
async fn deleting_the_new_path_under_a_new_history_is_non_deterministic() {
    // Code that drops the new path while an execution took it: the step it recorded is
    // never asked for again.
    let invocations = Arc::new(AtomicUsize::new(0));
    let i = Arc::clone(&invocations);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let n = i.fetch_add(1, Ordering::SeqCst);
        async move {
            let version = if n < 2 { Version::New } else { Version::Old };
            let result = checkout(&ctx, version).await?;
            ctx.wait("settle", Duration::from_secs(5)).await?;
            Ok::<_, Error>(result)
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    assert_eq!(
        execution.error().unwrap().error_type.as_deref(),
        Some("NonDeterministicExecutionError")
    );
}

#[tokio::test]
async fn changes_are_per_context_and_validated() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let outer = ctx.patched("x")?;
        let again = ctx.patched("x")?;
        let inner = ctx
            .run_in_child_context("child", |child| async move { child.patched("x") })
            .await?;
        let invalid = ctx.patched("").unwrap_err();
        let invalid_chars = ctx.patched("tab\t").unwrap_err();
        Ok::<_, Error>((
            outer,
            again,
            inner,
            invalid.to_string(),
            invalid_chars.to_string(),
        ))
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    let (outer, again, inner, invalid, invalid_chars) = execution
        .result::<(bool, bool, bool, String, String)>()
        .unwrap();
    assert!(outer && again && inner);
    assert!(invalid.contains("invalid argument"), "{invalid}");
    assert!(invalid_chars.contains("invalid"), "{invalid_chars}");
    // One marker at the root (asked twice), one in the child context.
    assert_eq!(markers(&execution), 2);
}
