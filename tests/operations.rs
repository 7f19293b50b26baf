//! Child contexts, wait-for-condition, map, parallel, combinators and replay-safe helpers
//! on the local runner: happy paths, failure paths and replay.
#![allow(clippy::unwrap_used)]

use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lambda_durable::wait_strategy::WaitStrategyConfig;
use lambda_durable::wire::{EventType, ExecutionStatus, OperationStatus, OperationType};
use lambda_durable::{
    branch, BatchItemStatus, CompletionConfig, CompletionReason, DurableContext, Error, Nesting,
};
use lambda_durable_testing::{Fault, LocalRunner};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
#[error("boom: {0}")]
struct Boom(String);

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

fn events(execution: &lambda_durable_testing::Execution, ty: EventType) -> usize {
    execution
        .history()
        .iter()
        .filter(|event| event.event_type == ty)
        .count()
}

#[tokio::test]
async fn child_context_runs_once_and_replays_its_result() {
    let runs = counter();
    let r = Arc::clone(&runs);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let runs = Arc::clone(&r);
        async move {
            let pair = ctx
                .run_in_child_context("reserve", |child| async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    let a = child.step("hotel", |_| async { Ok::<_, Boom>(1) }).await?;
                    let b = child.step("car", |_| async { Ok::<_, Boom>(2) }).await?;
                    Ok::<_, Error>((a, b))
                })
                .await?;
            ctx.wait("pause", Duration::from_secs(1)).await?;
            Ok::<_, Error>(pair)
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.result::<(u32, u32)>().unwrap(), (1, 2));
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "the finished context is not re-run"
    );
    let context = execution.operation("reserve").unwrap();
    assert_eq!(context.type_, OperationType::Context);
    let hotel = execution.operation("hotel").unwrap();
    assert_eq!(hotel.parent_id.as_ref(), Some(&context.id));
    assert_eq!(events(&execution, EventType::ContextSucceeded), 1);
}

#[tokio::test]
async fn child_context_failure_is_recorded_and_replayed() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let outcome = ctx
            .run_in_child_context("risky", |child| async move {
                child
                    .step("explode", |_| async { Err::<(), _>(Boom("kaput".into())) })
                    .retry(lambda_durable::retry::presets::none())
                    .await
            })
            .await;
        let err = outcome.unwrap_err();
        assert!(matches!(err, Error::ChildContextFailed { .. }), "{err}");
        ctx.wait("pause", Duration::from_secs(1)).await?;
        Err::<(), _>(err)
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let error = execution.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("ChildContextError"));
    assert_eq!(error.error_message.as_deref(), Some("boom: kaput"));
    assert_eq!(events(&execution, EventType::ContextFailed), 1);
}

#[tokio::test]
async fn large_child_results_replay_their_children() {
    let runs = counter();
    let r = Arc::clone(&runs);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let runs = Arc::clone(&r);
        async move {
            let big = ctx
                .run_in_child_context("big", |child| async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    let mut parts = Vec::new();
                    for i in 0..3 {
                        parts.push(
                            child
                                .step(format!("part {i}"), move |_| async move {
                                    Ok::<_, Boom>("y".repeat(100 * 1024) + &i.to_string())
                                })
                                .await?,
                        );
                    }
                    Ok::<_, Error>(parts)
                })
                .await?;
            ctx.wait("pause", Duration::from_secs(1)).await?;
            Ok::<_, Error>(big.iter().map(String::len).sum::<usize>())
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.result::<usize>().unwrap(), 3 * (100 * 1024 + 1));
    let context = execution.operation("big").unwrap();
    let details = context.context_details.as_ref().unwrap();
    assert_eq!(details.replay_children, Some(true));
    assert_eq!(details.result.as_deref().unwrap_or(""), "");
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "the body runs again to rebuild the value"
    );
    assert_eq!(
        events(&execution, EventType::StepStarted),
        3,
        "but no step runs again"
    );
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Poll {
    polls: u32,
    done: bool,
}

#[tokio::test]
async fn wait_for_condition_polls_with_state_between_invocations() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        ctx.wait_for_condition(
            "job done",
            Poll {
                polls: 0,
                done: false,
            },
            |state, step| async move {
                assert_eq!(step.attempt(), state.polls + 1);
                let polls = state.polls + 1;
                Ok::<_, Boom>(Poll {
                    polls,
                    done: polls == 3,
                })
            },
        )
        .strategy(
            WaitStrategyConfig::until(|state: &Poll| state.done)
                .initial_delay(Duration::from_secs(2))
                .jitter(lambda_durable::retry::Jitter::None),
        )
        .await
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.result::<Poll>().unwrap(),
        Poll {
            polls: 3,
            done: true
        }
    );
    assert_eq!(execution.invocations(), 3);
    // 2 s, then 2 * 1.5 = 3 s.
    assert_eq!(execution.elapsed(), Duration::from_secs(5));
    let op = execution.operation("job done").unwrap();
    assert_eq!(
        op.sub_type.as_deref().map(|s| s.as_str()),
        Some("WaitForCondition")
    );
}

#[tokio::test]
async fn wait_for_condition_failures() {
    // The check fails.
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        ctx.wait_for_condition("check", 0u32, |_, _| async {
            Err::<u32, _>(Boom("no".into()))
        })
        .await
    });
    let execution = runner.run(Value::Null).await.unwrap();
    let error = execution.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("WaitForConditionError"));
    assert_eq!(error.error_message.as_deref(), Some("boom: no"));
    // The strategy gives up.
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        ctx.wait_for_condition("never", 0u32, |n, _| async move { Ok::<_, Boom>(n + 1) })
            .strategy(WaitStrategyConfig::poll_while(|_: &u32| true).max_attempts(3))
            .await
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    assert_eq!(execution.invocations(), 3);
    assert!(execution
        .error()
        .unwrap()
        .error_message
        .as_deref()
        .unwrap()
        .contains("3 attempts"));
}

#[tokio::test]
async fn map_runs_every_item_and_replays_without_running_any() {
    let runs = counter();
    let r = Arc::clone(&runs);
    let runner = LocalRunner::new(move |items: Vec<u32>, ctx: DurableContext| {
        let runs = Arc::clone(&r);
        async move {
            let result = ctx
                .map("square", items, move |item_ctx, item, index| {
                    let runs = Arc::clone(&runs);
                    async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        item_ctx
                            .step("compute", move |_| async move {
                                Ok::<_, Boom>(item * item + u32::from(index > 99))
                            })
                            .await
                    }
                })
                .max_concurrency(2)
                .await?;
            assert_eq!(result.completion_reason(), CompletionReason::AllCompleted);
            ctx.wait("pause", Duration::from_secs(1)).await?;
            result.into_results()
        }
    });
    let execution = runner.run(vec![1u32, 2, 3, 4, 5]).await.unwrap();
    assert_eq!(
        execution.result::<Vec<u32>>().unwrap(),
        vec![1, 4, 9, 16, 25]
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        5,
        "replay of the finished map runs nothing"
    );
    let iterations: Vec<_> = execution
        .operations()
        .iter()
        .filter(|op| op.sub_type.as_deref().map(|s| s.as_str()) == Some("MapIteration"))
        .collect();
    assert_eq!(iterations.len(), 5);
    assert_eq!(
        iterations[0].name.as_deref().map(|n| n.as_str()),
        Some("map-item-0")
    );
    let map = execution.operation("square").unwrap();
    assert!(iterations
        .iter()
        .all(|op| op.parent_id.as_ref() == Some(&map.id)));
}

#[tokio::test]
async fn map_completion_rules() {
    // Fail fast by default.
    let runner = LocalRunner::new(|items: Vec<u32>, ctx: DurableContext| async move {
        let result = ctx
            .map("check", items, |item_ctx, item, _| async move {
                item_ctx
                    .step("validate", move |_| async move {
                        if item % 2 == 0 {
                            Err(Boom(format!("{item} is even")))
                        } else {
                            Ok(item)
                        }
                    })
                    .retry(lambda_durable::retry::presets::none())
                    .await
            })
            .max_concurrency(1)
            .await?;
        Ok::<_, Error>((
            result.completion_reason(),
            result.success_count(),
            result.failure_count(),
            result.started_count(),
        ))
    });
    let execution = runner.run(vec![1u32, 3, 4, 5, 7]).await.unwrap();
    assert_eq!(
        execution
            .result::<(CompletionReason, usize, usize, usize)>()
            .unwrap(),
        (CompletionReason::FailureToleranceExceeded, 2, 1, 3),
        "items after the failure never start"
    );

    // Tolerated failures and a minimum of successes.
    let runner = LocalRunner::new(|items: Vec<u32>, ctx: DurableContext| async move {
        let result = ctx
            .map("check", items, |_item_ctx, item, _| async move {
                if item % 2 == 0 {
                    Err(Boom("even".into()))
                } else {
                    Ok(item)
                }
            })
            .completion(
                CompletionConfig::new()
                    .tolerated_failure_count(5)
                    .min_successful(2),
            )
            .max_concurrency(1)
            .item_namer(|item, _| format!("item {item}"))
            .await?;
        let statuses: Vec<BatchItemStatus> = result.items().iter().map(|i| i.status).collect();
        Ok::<_, Error>((result.completion_reason(), statuses))
    });
    let execution = runner.run(vec![2u32, 1, 4, 3, 5, 7]).await.unwrap();
    let (reason, statuses) = execution
        .result::<(CompletionReason, Vec<BatchItemStatus>)>()
        .unwrap();
    assert_eq!(reason, CompletionReason::MinSuccessfulReached);
    assert_eq!(
        statuses,
        vec![
            BatchItemStatus::Failed,
            BatchItemStatus::Succeeded,
            BatchItemStatus::Failed,
            BatchItemStatus::Succeeded,
            // Never started: reported with their index, not left out.
            BatchItemStatus::Skipped,
            BatchItemStatus::Skipped
        ]
    );
    assert!(execution.operation("item 3").is_some());
    assert!(execution.operation("item 5").is_none(), "never started");
}

#[tokio::test]
async fn map_validates_its_configuration() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        ctx.map("m", vec![1, 2], |_, item: u32, _| async move {
            Ok::<_, Boom>(item)
        })
        .completion(CompletionConfig::new().min_successful(3))
        .await
        .map(|_| ())
    });
    let execution = runner.run(Value::Null).await.unwrap();
    let error = execution.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("ValidationError"));
    assert!(error
        .error_message
        .as_deref()
        .unwrap()
        .contains("min_successful"));
    assert!(execution
        .operations()
        .iter()
        .all(|op| op.type_ == OperationType::Execution));
}

#[tokio::test]
async fn empty_map_completes_at_once() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let result = ctx
            .map("nothing", Vec::<u32>::new(), |_, item, _| async move {
                Ok::<_, Boom>(item)
            })
            .await?;
        Ok::<_, Error>((result.branch_count(), result.completion_reason()))
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.result::<(usize, CompletionReason)>().unwrap(),
        (0, CompletionReason::AllCompleted)
    );
    assert_eq!(events(&execution, EventType::ContextSucceeded), 1);
}

#[tokio::test]
async fn suspended_branches_keep_their_slot_and_resume() {
    let runner = LocalRunner::new(|items: Vec<u64>, ctx: DurableContext| async move {
        ctx.map("staggered", items, |item_ctx, seconds, _| async move {
            item_ctx.wait("sleep", Duration::from_secs(seconds)).await?;
            item_ctx
                .step("done", move |_| async move { Ok::<_, Boom>(seconds) })
                .await
        })
        .max_concurrency(2)
        .await?
        .into_results()
    });
    let execution = runner.run(vec![3u64, 1, 2]).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(execution.result::<Vec<u64>>().unwrap(), vec![3, 1, 2]);
    assert!(execution.invocations() >= 3);
}

#[tokio::test]
async fn parallel_branches_share_checkpoint_calls() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let mut branches = Vec::new();
        for i in 0..20u32 {
            branches.push(branch(
                format!("branch {i}"),
                move |c: DurableContext| async move {
                    let a = c
                        .step("one", move |_| async move { Ok::<_, Boom>(i) })
                        .await?;
                    let b = c
                        .step("two", move |_| async move { Ok::<_, Boom>(a * 2) })
                        .await?;
                    Ok::<_, Error>(b)
                },
            ));
        }
        ctx.parallel("fan out", branches).await?.into_results()
    });
    let execution = runner.run(Value::Null).await.unwrap();
    let values = execution.result::<Vec<u32>>().unwrap();
    assert_eq!(values, (0..20).map(|i| i * 2).collect::<Vec<_>>());
    let stats = execution.stats();
    assert!(
        stats.checkpoint_calls < 20,
        "concurrent branches share calls: {stats:?}"
    );
}

#[tokio::test]
async fn parallel_flat_nesting_records_no_branch_contexts() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        ctx.parallel(
            "flat",
            vec![
                branch("a", |c: DurableContext| async move {
                    c.step("sa", |_| async { Ok::<_, Boom>(1) }).await
                }),
                branch(None::<&str>, |c: DurableContext| async move {
                    c.step("sb", |_| async { Ok::<_, Boom>(2) }).await
                }),
            ],
        )
        .nesting(Nesting::Flat)
        .await?
        .into_results()
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.result::<Vec<u32>>().unwrap(), vec![1, 2]);
    let parallel = execution.operation("flat").unwrap();
    assert!(execution
        .operations()
        .iter()
        .all(|op| op.sub_type.as_deref().map(|s| s.as_str()) != Some("ParallelBranch")));
    let sa = execution.operation("sa").unwrap();
    assert_eq!(sa.parent_id.as_ref(), Some(&parallel.id));
}

#[tokio::test]
async fn first_successful_leaves_running_branches_started() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let result = ctx
            .parallel(
                "first",
                vec![
                    branch("slow", |c: DurableContext| async move {
                        c.wait("long", Duration::from_secs(3600)).await?;
                        Ok::<_, Error>("slow".to_string())
                    }),
                    branch("fast", |c: DurableContext| async move {
                        c.step("now", |_| async { Ok::<_, Boom>("fast".to_string()) })
                            .await
                    }),
                ],
            )
            .completion(CompletionConfig::first_successful())
            .await?;
        let statuses: Vec<_> = result.items().iter().map(|i| i.status).collect();
        Ok::<_, Error>((
            result.completion_reason(),
            statuses,
            result.succeeded().cloned().collect::<Vec<_>>(),
        ))
    });
    let execution = runner.run(Value::Null).await.unwrap();
    let (reason, statuses, values) = execution
        .result::<(CompletionReason, Vec<BatchItemStatus>, Vec<String>)>()
        .unwrap();
    assert_eq!(reason, CompletionReason::MinSuccessfulReached);
    assert_eq!(
        statuses,
        vec![BatchItemStatus::Started, BatchItemStatus::Succeeded]
    );
    assert_eq!(values, vec!["fast".to_string()]);
}

#[tokio::test]
async fn race_and_any_record_the_winner() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let seen = Arc::clone(&s);
        async move {
            let slow = ctx.step("slow", |_| async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok::<_, Boom>("slow".to_string())
            });
            let fast = ctx.step("fast", |_| async { Ok::<_, Boom>("fast".to_string()) });
            let winner = ctx
                .race("first", vec![slow.into_future(), fast.into_future()])
                .await?;
            let failing = ctx
                .step("failing", |_| async { Err::<String, _>(Boom("x".into())) })
                .retry(lambda_durable::retry::presets::none());
            let fine = ctx.step("fine", |_| async { Ok::<_, Boom>("fine".to_string()) });
            let any = ctx
                .any("any", vec![failing.into_future(), fine.into_future()])
                .await?;
            seen.lock().unwrap().push((winner.clone(), any.clone()));
            ctx.wait("pause", Duration::from_secs(1)).await?;
            Ok::<_, Error>((winner, any))
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.result::<(String, String)>().unwrap(),
        ("fast".to_string(), "fine".to_string())
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0], seen[1], "the replay gives the recorded winners");
}

#[tokio::test]
async fn all_and_all_settled() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let a = ctx.step("a", |_| async { Ok::<_, Boom>(1) });
        let b = ctx.step("b", |_| async { Ok::<_, Boom>(2) });
        let both = ctx
            .all("both", vec![a.into_future(), b.into_future()])
            .await?;
        let c = ctx
            .step("c", |_| async { Err::<u32, _>(Boom("c".into())) })
            .retry(lambda_durable::retry::presets::none());
        let d = ctx.step("d", |_| async { Ok::<_, Boom>(4) });
        let settled = ctx
            .all_settled("settled", vec![c.into_future(), d.into_future()])
            .await;
        let e = ctx
            .step("e", |_| async { Err::<u32, _>(Boom("e".into())) })
            .retry(lambda_durable::retry::presets::none());
        let f = ctx.step("f", |_| async { Ok::<_, Boom>(6) });
        let failed = ctx
            .all("fails", vec![e.into_future(), f.into_future()])
            .await;
        Ok::<_, Error>((
            both,
            settled.iter().map(Result::is_ok).collect::<Vec<_>>(),
            failed.unwrap_err().to_string(),
        ))
    });
    let execution = runner.run(Value::Null).await.unwrap();
    let (both, settled, failed) = execution.result::<(Vec<u32>, Vec<bool>, String)>().unwrap();
    assert_eq!(both, vec![1, 2]);
    assert_eq!(settled, vec![false, true]);
    assert!(failed.contains("boom: e"), "{failed}");
}

#[tokio::test]
async fn replay_safe_helpers_are_identical_on_every_replay() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let shared = Arc::clone(&seen);
    let s = Arc::clone(&seen);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let seen = Arc::clone(&s);
        async move {
            ctx.step("first", |_| async { Ok::<_, Boom>(()) }).await?;
            let values = (ctx.uuid(), ctx.random_u64(), ctx.now(), ctx.uuid());
            seen.lock().unwrap().push(values);
            ctx.wait("pause", Duration::from_secs(30)).await?;
            Ok::<_, Error>(())
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    let first_run = seen.lock().unwrap().clone();
    assert_eq!(first_run.len(), 2);
    assert_eq!(first_run[0], first_run[1]);
    let seen = first_run;
    assert_ne!(seen[0].0, seen[0].3, "two calls give two uuids");
    assert_eq!(seen[0].0.get_version_num(), 4);
    let first = execution.operation("first").unwrap();
    let end = first.end_timestamp.as_ref().unwrap().epoch_millis();
    assert_eq!(
        seen[0].2,
        std::time::UNIX_EPOCH + Duration::from_millis(u64::try_from(end).unwrap())
    );
    // Another execution gets other values.
    let other = runner.run(Value::Null).await.unwrap();
    assert_eq!(other.status(), ExecutionStatus::Succeeded);
    let all = shared.lock().unwrap().clone();
    assert_eq!(all.len(), 4);
    assert_ne!(all[2].0, all[0].0);
    assert_ne!(all[2].1, all[0].1);
}

/// A workflow mixing the operations, crashed after every single checkpoint call, ends
/// with the same result as an uninterrupted run.
#[tokio::test]
async fn crash_after_every_checkpoint_gives_the_same_result() {
    async fn workflow(items: Vec<u32>, ctx: DurableContext) -> Result<Value, Error> {
        let doubled = ctx
            .map("double", items, |c, item, _| async move {
                c.step("x2", move |_| async move { Ok::<_, Boom>(item * 2) })
                    .await
            })
            .max_concurrency(2)
            .await?
            .into_results()?;
        let sum = ctx
            .run_in_child_context("sum", |child| async move {
                let total: u32 = doubled.iter().sum();
                child
                    .step("add", move |_| async move { Ok::<_, Boom>(total) })
                    .await
            })
            .await?;
        ctx.wait("settle", Duration::from_secs(2)).await?;
        let polled = ctx
            .wait_for_condition("poll", 0u32, |n, _| async move { Ok::<_, Boom>(n + 1) })
            .strategy(
                WaitStrategyConfig::poll_while(|n: &u32| *n < 2)
                    .initial_delay(Duration::from_secs(1)),
            )
            .await?;
        let parts = ctx
            .parallel(
                "parts",
                vec![
                    branch("p1", move |c: DurableContext| async move {
                        c.step("s1", move |_| async move { Ok::<_, Boom>(sum + 1) })
                            .await
                    }),
                    branch("p2", move |c: DurableContext| async move {
                        c.step("s2", move |_| async move { Ok::<_, Boom>(sum + 2) })
                            .await
                    }),
                ],
            )
            .await?
            .into_results()?;
        Ok(serde_json::json!({"sum": sum, "polled": polled, "parts": parts}))
    }
    let clean = LocalRunner::new(workflow)
        .run(vec![1u32, 2, 3])
        .await
        .unwrap();
    assert_eq!(
        clean.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        clean.error()
    );
    let expected = clean.result::<Value>().unwrap();
    assert_eq!(expected["sum"], 12);
    let calls = clean.stats().checkpoint_calls;
    assert!(calls > 5);
    for k in 1..=calls {
        let crashed = LocalRunner::new(workflow)
            .fault(Fault::crash().at_call(k))
            .run(vec![1u32, 2, 3])
            .await
            .unwrap();
        assert_eq!(
            crashed.status(),
            ExecutionStatus::Succeeded,
            "crash after call {k}: {:?}",
            crashed.error()
        );
        assert_eq!(
            crashed.result::<Value>().unwrap(),
            expected,
            "crash after call {k}"
        );
        assert!(
            crashed
                .operations()
                .iter()
                .all(|op| op.status != OperationStatus::Failed),
            "crash after call {k}"
        );
    }
}

/// Steps, child contexts and callbacks can be recorded under a sub type of the user's
/// choosing, which replays like a name; a malformed sub type or one the SDK uses for its
/// own operations is refused before anything is recorded.
#[tokio::test]
async fn custom_sub_types_are_recorded_and_checked() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let score = ctx
            .step("score", |_| async { Ok::<_, Boom>(7u32) })
            .sub_type("FraudCheck")
            .await?;
        let saga = ctx
            .run_in_child_context("book", |child| async move {
                child.wait("settle", Duration::from_secs(1)).await?;
                Ok::<_, Error>(score + 1)
            })
            .sub_type("Saga")
            .await?;
        let callback = ctx
            .create_callback::<Value>("approval")
            .sub_type("Approval")
            .timeout(Duration::from_secs(60))
            .await?;
        let refused = [
            ctx.step("bad", |_| async { Ok::<_, Boom>(0u32) })
                .sub_type("WaitForCondition")
                .await
                .unwrap_err(),
            ctx.run_in_child_context("bad too", |_| async { Ok::<_, Error>(0u32) })
                .sub_type("has space")
                .await
                .unwrap_err(),
        ];
        let refused: Vec<String> = refused
            .iter()
            .map(|err| {
                assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
                err.to_string()
            })
            .collect();
        Ok::<_, Error>((saga, callback.id().to_string(), refused))
    });
    let done = runner.run(Value::Null).await.unwrap();
    let (saga, _id, refused) = done.result::<(u32, String, Vec<String>)>().unwrap();
    assert_eq!(saga, 8);
    assert!(refused[0].contains("SDK gives its own"), "{refused:?}");
    assert!(refused[1].contains("1 to 32"), "{refused:?}");
    let sub_type = |name: &str| {
        done.operation(name)
            .and_then(|op| op.sub_type.clone())
            .map(String::from)
    };
    assert_eq!(sub_type("score").as_deref(), Some("FraudCheck"));
    assert_eq!(sub_type("book").as_deref(), Some("Saga"));
    assert_eq!(sub_type("approval").as_deref(), Some("Approval"));
    assert!(done.operation("bad").is_none() && done.operation("bad too").is_none());
    // The wait made the later invocations replay the custom sub types.
    let replay = runner.replay(&done).await.unwrap();
    assert_eq!(replay.mismatches(), Vec::<String>::new());
}

/// A virtual child context gives its operations a namespace of their own without recording
/// an operation for itself: its body runs again on every replay, its operations replay
/// from their records, and the operations after it keep their ids whatever it holds.
#[tokio::test]
async fn virtual_contexts_group_without_a_record() {
    let runs = Arc::new(AtomicUsize::new(0));
    let handler = |steps: usize, runs: Arc<AtomicUsize>| {
        move |_: Value, ctx: DurableContext| {
            let runs = Arc::clone(&runs);
            async move {
                let total = ctx
                    .run_in_virtual_context("group", |group| async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        let mut total = 0u32;
                        for n in 0..steps {
                            total += group
                                .step(format!("part {n}"), move |_| async move {
                                    Ok::<_, Boom>(u32::try_from(n).unwrap_or(0) + 1)
                                })
                                .await?;
                        }
                        group.wait("settle", Duration::from_secs(1)).await?;
                        Ok::<_, Error>(total)
                    })
                    .await?;
                let after = ctx
                    .step("after", move |_| async move { Ok::<_, Boom>(total * 10) })
                    .await?;
                let failed = ctx
                    .run_in_virtual_context("failing", |_| async {
                        Err::<u32, _>(Boom("nope".into()))
                    })
                    .await
                    .unwrap_err();
                assert!(
                    matches!(&failed, Error::ChildContextFailed { .. })
                        && failed.to_string().contains("nope"),
                    "{failed}"
                );
                Ok::<_, Error>(after)
            }
        }
    };
    let runner = LocalRunner::new(handler(2, Arc::clone(&runs)));
    let done = runner.run(Value::Null).await.unwrap();
    assert_eq!(done.result::<u32>().unwrap(), 30);
    assert!(
        done.operations()
            .iter()
            .all(|op| op.type_ != OperationType::Context),
        "nothing is recorded for the group"
    );
    let part = done.operation("part 1").unwrap();
    assert_eq!(
        part.parent_id, None,
        "its operations hang under the enclosing context"
    );
    // The wait suspended the first invocation; the second ran the body again.
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    let replay = runner.replay(&done).await.unwrap();
    assert_eq!(replay.mismatches(), Vec::<String>::new());

    // One more step in the group leaves the id of the step after it as it was.
    let bigger = LocalRunner::new(handler(3, Arc::new(AtomicUsize::new(0))))
        .run(Value::Null)
        .await
        .unwrap();
    assert_eq!(
        bigger.operation("after").unwrap().id,
        done.operation("after").unwrap().id
    );
}

/// A virtual context whose body returns on replay before operations it recorded fails the
/// execution as non-deterministic: no record holds the group to its operations.
#[tokio::test]
async fn a_virtual_context_that_returns_early_on_replay_is_non_deterministic() {
    let first = Arc::new(AtomicUsize::new(0));
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let first_run = first.fetch_add(1, Ordering::SeqCst) == 0;
        async move {
            ctx.run_in_virtual_context("group", |group| async move {
                group.step("a", |_| async { Ok::<_, Boom>(1u32) }).await?;
                if first_run {
                    group.step("b", |_| async { Ok::<_, Boom>(2u32) }).await?;
                }
                Ok::<_, Error>(())
            })
            .await?;
            ctx.wait("pause", Duration::from_secs(1)).await?;
            Ok::<_, Error>(())
        }
    });
    let done = runner.run(Value::Null).await.unwrap();
    assert_eq!(done.status(), ExecutionStatus::Failed);
    let error = done.error().unwrap();
    assert_eq!(
        error.error_type.as_deref(),
        Some("NonDeterministicExecutionError"),
        "{error:?}"
    );
}

/// with_retry runs a block of operations again as a unit: each attempt in a context of its
/// own with new operations, a durable wait between attempts, the whole recorded under one
/// operation; when the strategy gives up, the last attempt's error comes back.
#[tokio::test]
async fn with_retry_retries_a_block_as_a_unit() {
    use lambda_durable::retry::{ExponentialBackoff, Jitter, NoRetry};
    let holds = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&holds);
    let runner = LocalRunner::new(move |succeed_on: u32, ctx: DurableContext| {
        let holds = Arc::clone(&counter);
        async move {
            let strategy = || {
                ExponentialBackoff::new()
                    .max_attempts(3)
                    .initial_delay(Duration::from_secs(2))
                    .jitter(Jitter::None)
            };
            let block = |attempt_ctx: DurableContext, attempt: u32| {
                let holds = Arc::clone(&holds);
                async move {
                    let hold = attempt_ctx
                        .step("hold", move |_| async move {
                            holds.fetch_add(1, Ordering::SeqCst);
                            Ok::<_, Boom>(format!("hold-{attempt}"))
                        })
                        .await?;
                    attempt_ctx
                        .step("confirm", move |_| async move {
                            if attempt < succeed_on {
                                Err(Boom(format!("no seat on attempt {attempt}")))
                            } else {
                                Ok(hold)
                            }
                        })
                        .retry(NoRetry)
                        .await
                }
            };
            let booked = ctx.with_retry("book", block).retry(strategy()).await;
            Ok::<_, Error>(match booked {
                Ok(hold) => hold,
                Err(err) => format!("gave up: {err}"),
            })
        }
    });
    let done = runner.run(3u32).await.unwrap();
    assert_eq!(done.result::<String>().unwrap(), "hold-3");
    assert_eq!(
        holds.load(Ordering::SeqCst),
        3,
        "one hold per attempt, none replayed"
    );
    for name in [
        "attempt 1",
        "attempt 2",
        "attempt 3",
        "retry delay 1",
        "retry delay 2",
    ] {
        assert!(done.operation(name).is_some(), "{name}");
    }
    let block = done.operation("book").unwrap();
    assert_eq!(block.type_, OperationType::Context);
    assert_eq!(
        block.sub_type.as_ref().map(|s| s.as_str()),
        Some("WithRetry")
    );
    assert_eq!(block.status, OperationStatus::Succeeded);
    // The two waits of 2 s and 4 s between the attempts.
    assert_eq!(done.elapsed(), Duration::from_secs(6));
    let replay = runner.replay(&done).await.unwrap();
    assert_eq!(replay.mismatches(), Vec::<String>::new());

    // Never succeeding: three attempts, then the last attempt's error.
    holds.store(0, Ordering::SeqCst);
    let done = runner.run(10u32).await.unwrap();
    let result = done.result::<String>().unwrap();
    assert!(
        result.starts_with("gave up") && result.contains("no seat on attempt 3"),
        "{result}"
    );
    assert_eq!(holds.load(Ordering::SeqCst), 3);
    assert!(done.operation("attempt 4").is_none());
    assert_eq!(
        done.operation("book").map(|op| op.status),
        Some(OperationStatus::Failed)
    );
}

/// parallel_tuple runs branches of different value types and gives each back typed, on
/// the first run and on replay; a failed or unfinished branch has no value.
#[tokio::test]
async fn parallel_tuple_gives_typed_values_back() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let booked = ctx
            .parallel_tuple(
                "book",
                (
                    branch("hotel", |c: DurableContext| async move {
                        c.wait("confirm", Duration::from_secs(1)).await?;
                        c.step("reserve", |_| async { Ok::<_, Boom>("H-1".to_string()) })
                            .await
                    }),
                    branch("seats", |_| async { Ok::<_, Boom>(2u32) }),
                    branch("flags", |_| async { Ok::<_, Boom>(vec![true, false]) }),
                ),
            )
            .await?;
        let (hotel, seats, flags): (String, u32, Vec<bool>) = booked.into_values()?;

        let partial = ctx
            .parallel_tuple(
                "first",
                (
                    branch("slow", |c: DurableContext| async move {
                        c.wait("long", Duration::from_secs(60)).await?;
                        Ok::<_, Error>(1u8)
                    }),
                    branch("fast", |_| async { Ok::<_, Boom>('x') }),
                    branch("broken", |_| async { Err::<(), _>(Boom("no".into())) }),
                ),
            )
            .completion(lambda_durable::CompletionConfig::first_successful())
            .await?;
        let (slow, fast, _broken) = partial.items();
        let statuses = (slow.status, fast.status, fast.result);
        let missing = partial.into_values().unwrap_err().to_string();
        Ok::<_, Error>((hotel, seats, flags, format!("{statuses:?}"), missing))
    });
    let done = runner.run(Value::Null).await.unwrap();
    let (hotel, seats, flags, statuses, missing) = done
        .result::<(String, u32, Vec<bool>, String, String)>()
        .unwrap();
    assert_eq!(
        (hotel.as_str(), seats, flags),
        ("H-1", 2, vec![true, false])
    );
    assert_eq!(statuses, "(Started, Succeeded, Some('x'))");
    assert!(missing.contains("BranchNotFinished"), "{missing}");
    // Recorded as a parallel of its branches, each value as its own JSON.
    let seats = done.operation("seats").unwrap();
    assert_eq!(
        seats
            .context_details
            .as_ref()
            .and_then(|d| d.result.as_deref()),
        Some("2")
    );
    let replay = runner.replay(&done).await.unwrap();
    assert_eq!(replay.mismatches(), Vec::<String>::new());
}

/// An unnamed operation is spelled `None`: no `Name::NONE`, no type annotation.
#[tokio::test]
async fn unnamed_operations_are_spelled_none() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        ctx.wait(None, Duration::from_secs(1)).await?;
        let n = ctx.step(None, |_| async { Ok::<_, Boom>(3u32) }).await?;
        let child = ctx
            .run_in_child_context(None, |c| async move {
                c.step(None, |_| async { Ok::<_, Boom>(4u32) }).await
            })
            .await?;
        Ok::<_, Error>(n + child)
    });
    let done = runner.run(Value::Null).await.unwrap();
    assert_eq!(done.result::<u32>().unwrap(), 7);
    assert!(done
        .operations()
        .iter()
        .filter(|op| op.type_ != OperationType::Execution)
        .all(|op| op.name.is_none()));
}

/// `.until(..)` on a wait for condition reads the state without a type annotation and
/// stops once the condition holds.
#[tokio::test]
async fn wait_for_condition_until_needs_no_annotation() {
    #[derive(Serialize, Deserialize)]
    struct Job {
        polls: u32,
    }
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let job = ctx
            .wait_for_condition("job", Job { polls: 0 }, |job, _| async move {
                Ok::<_, Boom>(Job {
                    polls: job.polls + 1,
                })
            })
            .until(|job| job.polls >= 3)
            .await?;
        Ok::<_, Error>(job.polls)
    });
    let done = runner.run(Value::Null).await.unwrap();
    assert_eq!(done.result::<u32>().unwrap(), 3);
}
