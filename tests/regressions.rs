//! Regression tests for replay defects: each one reproduces a way in which a replay could
//! return a different result than the run it repeats (or fail an execution that should
//! succeed), found in review or by the simulation. Each failed before its fix.
#![allow(clippy::unwrap_used)]

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use lambda_durable::retry::presets;
use lambda_durable::wire::{ExecutionStatus, OperationStatus, OperationType};
use lambda_durable::{branch, CompletionConfig, DurableContext, Error, Name, Nesting};
use lambda_durable_testing::{CallbackResponse, InvocationOutcome, LocalRunner};
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
#[error("flaky: {0}")]
struct Flaky(String);

type Operand<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

fn operand<'a, T>(fut: impl Future<Output = Result<T, Error>> + Send + 'a) -> Operand<'a, T> {
    Box::pin(fut)
}

/// The README's race (a callback against a one-day wait, written as an async block),
/// followed by a step: when the callback wins, the replay must not shift the step's id onto
/// the wait's.
#[tokio::test]
async fn race_of_callback_and_wait_block_replays_when_the_callback_wins() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let callback = ctx.create_callback::<bool>("approval").await?;
        let answer = callback.result();
        let default = async {
            ctx.wait("one day", Duration::from_secs(86_400)).await?;
            Ok::<_, Error>(false)
        };
        let approved = ctx
            .race(
                "approval or default",
                vec![operand(answer), operand(default)],
            )
            .await?;
        let after = ctx
            .step("after", move |_| async move {
                Ok::<_, Flaky>(format!("approved={approved}"))
            })
            .await?;
        Ok::<_, Error>(after)
    })
    .on_callback(
        "approval",
        CallbackResponse::json(json!(true)).after(Duration::from_secs(3600)),
    );
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(execution.result::<String>().unwrap(), "approved=true");
}

/// A race of two async blocks, each running an unnamed step, followed by an unnamed step
/// that fails once: the replay after the retry must give the step after the race its own
/// result, not the loser's recorded one.
#[tokio::test]
async fn race_of_step_blocks_does_not_replay_the_losers_result() {
    let winners = Arc::new(Mutex::new(Vec::new()));
    let w = Arc::clone(&winners);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let winners = Arc::clone(&w);
        async move {
            let a = async {
                ctx.step(Name::NONE, |_| async { Ok::<_, Flaky>("a".to_string()) })
                    .await
            };
            let b = async {
                ctx.step(Name::NONE, |_| async { Ok::<_, Flaky>("b".to_string()) })
                    .await
            };
            let winner = ctx.race("race", vec![operand(a), operand(b)]).await?;
            winners.lock().unwrap().push(winner.clone());
            let after = ctx
                .step(Name::NONE, move |step| async move {
                    if step.attempt() == 1 {
                        return Err(Flaky("first attempt".into()));
                    }
                    Ok(format!("after {winner}"))
                })
                .retry(presets::fixed(Duration::from_secs(1)))
                .await?;
            Ok::<_, Error>(after)
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    let winners = winners.lock().unwrap().clone();
    assert!(winners.len() >= 2, "the race ran and was replayed");
    assert!(winners.iter().all(|w| *w == winners[0]), "{winners:?}");
    assert_eq!(
        execution.result::<String>().unwrap(),
        format!("after {}", winners[0])
    );
}

/// `all` and `any` over async blocks that run several operations each, followed by more
/// operations, replay to the same result after every invocation.
#[tokio::test]
async fn all_and_any_over_blocks_replay_the_same_outcome() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let block = |label: &'static str, seconds: u64| {
            let ctx = &ctx;
            async move {
                let first = ctx
                    .step(Name::NONE, move |_| async move {
                        Ok::<_, Flaky>(format!("{label}1"))
                    })
                    .await?;
                ctx.wait(Name::NONE, Duration::from_secs(seconds)).await?;
                let second = ctx
                    .step(Name::NONE, move |_| async move {
                        Ok::<_, Flaky>(format!("{label}2"))
                    })
                    .await?;
                Ok::<_, Error>(format!("{first}+{second}"))
            }
        };
        let all = ctx
            .all("all", vec![operand(block("x", 5)), operand(block("y", 2))])
            .await?;
        let any = ctx
            .any("any", vec![operand(block("p", 9)), operand(block("q", 3))])
            .await?;
        let last = ctx
            .step(Name::NONE, |_| async { Ok::<_, Flaky>("last".to_string()) })
            .await?;
        Ok::<_, Error>(json!({"all": all, "any": any, "last": last}))
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(
        execution.result::<Value>().unwrap(),
        json!({"all": ["x1+x2", "y1+y2"], "any": "q1+q2", "last": "last"})
    );
}

/// A panicking step body is a failed attempt offered to the retry strategy, not a crash
/// of the invocation.
#[tokio::test]
async fn panicking_step_is_a_failed_attempt_that_retries() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let a = Arc::clone(&attempts);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let attempts = Arc::clone(&a);
        async move {
            ctx.step("explodes once", move |step| async move {
                attempts.fetch_add(1, Ordering::SeqCst);
                if step.attempt() == 1 {
                    panic!("boom on attempt {}", step.attempt());
                }
                Ok::<_, Flaky>(step.attempt())
            })
            .retry(presets::fixed(Duration::from_secs(2)))
            .await
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(execution.result::<u32>().unwrap(), 2);
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    let step = execution.operation("explodes once").unwrap();
    assert_eq!(step.step_details.as_ref().unwrap().attempt, Some(2));
}

/// A panic that the retry strategy does not retry fails the step with the panic's message.
#[tokio::test]
async fn panicking_step_without_retry_fails_with_the_message() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let outcome = ctx
            .step("explodes", |_| async {
                if true {
                    panic!("the disk is on fire");
                }
                Ok::<_, Flaky>(1)
            })
            .retry(presets::none())
            .await;
        match outcome {
            Err(Error::StepFailed { error, .. }) => Ok::<_, Error>(json!({
                "type": error.error_type,
                "message": error.error_message,
            })),
            other => Ok(json!({ "unexpected": format!("{other:?}") })),
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    let result = execution.result::<Value>().unwrap();
    assert_eq!(result["type"], "Panic", "{result}");
    assert!(
        result["message"]
            .as_str()
            .unwrap_or_default()
            .contains("the disk is on fire"),
        "{result}"
    );
}

/// A panic in a map item fails that item; one in a wait_for_condition check fails the
/// operation; one in a wait_for_callback submitter fails the submitter step.
#[tokio::test]
async fn panics_in_branches_checks_and_submitters_are_failures() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let batch = ctx
            .map("items", vec![1u32, 2, 3], |item_ctx, item, _| async move {
                item_ctx
                    .step(Name::NONE, move |_| async move {
                        if item == 2 {
                            panic!("item {item} is cursed");
                        }
                        Ok::<_, Flaky>(item)
                    })
                    .retry(presets::none())
                    .await
            })
            .completion(CompletionConfig::all_completed())
            .await?;
        let flat = ctx
            .parallel(
                "flat",
                vec![
                    branch("ok", |_c: DurableContext| async move { Ok::<_, Flaky>(1) }),
                    branch("bad", |_c: DurableContext| async move {
                        if true {
                            panic!("flat branch panicked");
                        }
                        Ok::<_, Flaky>(2)
                    }),
                ],
            )
            .nesting(Nesting::Flat)
            .completion(CompletionConfig::all_completed())
            .await?;
        let condition = ctx
            .wait_for_condition("poll", 0u32, |_state, _| async move {
                if true {
                    panic!("check panicked");
                }
                Ok::<_, Flaky>(1)
            })
            .await;
        let submitted = ctx
            .wait_for_callback::<String, _, _>("callback", |_id, _| async move {
                if true {
                    panic!("submitter panicked");
                }
                Ok::<_, Flaky>(())
            })
            .retry(presets::none())
            .await;
        Ok::<_, Error>(json!({
            "map": [batch.success_count(), batch.failure_count()],
            "map_error": batch.failed().next().and_then(|item| item.error.clone()).and_then(|e| e.error_message),
            "flat": [flat.success_count(), flat.failure_count()],
            "condition": condition.err().map(|err| err.to_string()),
            "submitter": submitted.err().map(|err| err.to_string()),
        }))
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    let result = execution.result::<Value>().unwrap();
    assert_eq!(result["map"], json!([2, 1]), "{result}");
    assert!(result["map_error"]
        .as_str()
        .unwrap_or_default()
        .contains("item 2 is cursed"));
    assert_eq!(result["flat"], json!([1, 1]), "{result}");
    assert!(result["condition"]
        .as_str()
        .unwrap_or_default()
        .contains("check panicked"));
    assert!(result["submitter"]
        .as_str()
        .unwrap_or_default()
        .contains("submitter panicked"));
}

/// A panic in the handler itself fails the execution with the panic's message; the runner
/// reports it instead of unwinding through the test.
#[tokio::test]
async fn panicking_handler_fails_the_execution() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        ctx.step("before", |_| async { Ok::<_, Flaky>(1) }).await?;
        if ctx.execution_arn().is_empty() {
            return Ok::<_, Error>(0);
        }
        panic!("handler gave up");
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let error = execution.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("Panic"));
    assert!(error
        .error_message
        .as_deref()
        .unwrap_or_default()
        .contains("handler gave up"));
    // The step before the panic was recorded: queued updates are not lost.
    assert_eq!(
        execution.operation("before").map(|op| op.status),
        Some(OperationStatus::Succeeded)
    );
}

/// Runs a map over `items` items whose results are `size` bytes each, with `nesting` and
/// `completion`, then a wait (so that the map replays once), and returns the execution and
/// what the handler saw of the batch on each run, as `index:status:length` per item.
async fn large_map_runs(
    items: usize,
    size: usize,
    nesting: Nesting,
    completion: CompletionConfig,
) -> (lambda_durable_testing::Execution, Vec<Vec<String>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let (seen, completion) = (Arc::clone(&s), completion.clone());
        async move {
            let batch = ctx
                .map(
                    "big",
                    (0..items).collect(),
                    move |item_ctx, item, _| async move {
                        item_ctx
                            .step(Name::NONE, move |_| async move {
                                Ok::<_, Flaky>(format!("{item}:{}", "x".repeat(size)))
                            })
                            .await
                    },
                )
                .nesting(nesting)
                .completion(completion)
                .await?;
            let summary: Vec<String> = batch
                .items()
                .iter()
                .map(|item| {
                    let length = item.result.as_ref().map_or(0, String::len);
                    format!("{}:{:?}:{length}", item.index, item.status)
                })
                .collect();
            seen.lock().unwrap().push(summary.clone());
            ctx.wait("pause", Duration::from_secs(1)).await?;
            Ok::<_, Error>(summary)
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    (execution, seen)
}

/// Flat map and parallel results larger than the 256 KiB a checkpoint keeps are rebuilt on
/// replay from the branches; the rebuilt result equals the first run's.
#[tokio::test]
async fn large_flat_batch_results_replay_equal() {
    for nesting in [Nesting::Flat, Nesting::Nested] {
        let (execution, seen) =
            large_map_runs(4, 100 * 1024, nesting, CompletionConfig::new()).await;
        assert_eq!(
            execution.status(),
            ExecutionStatus::Succeeded,
            "{nesting:?}: {:?}",
            execution.error()
        );
        assert_eq!(seen.len(), 2, "{nesting:?}: first run and one replay");
        assert_eq!(seen[0].len(), 4, "{nesting:?}");
        assert_eq!(
            seen[0], seen[1],
            "{nesting:?}: the replay rebuilt the result"
        );
    }
}

/// A large first_successful batch whose losing branches also finished before the batch's
/// record was written rebuilds the same items (not more) on replay.
#[tokio::test]
async fn large_first_successful_batch_rebuilds_the_recorded_items() {
    for nesting in [Nesting::Flat, Nesting::Nested] {
        let (execution, seen) =
            large_map_runs(3, 300 * 1024, nesting, CompletionConfig::first_successful()).await;
        assert_eq!(execution.status(), ExecutionStatus::Succeeded);
        assert_eq!(seen.len(), 2, "{nesting:?}");
        assert_eq!(seen[0], seen[1], "{nesting:?}");
    }
}

/// `now()` inside a child context gives the same value on the first run and on replay.
#[tokio::test]
async fn now_in_a_child_context_is_the_same_on_replay() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let seen = Arc::clone(&s);
        async move {
            let times = ctx
                .run_in_child_context("child", |child| async move {
                    let at_start = child.now();
                    child.step("inner", |_| async { Ok::<_, Flaky>(1) }).await?;
                    let after_step = child.now();
                    Ok::<_, Error>((at_start, after_step))
                })
                .await?;
            let after_child = ctx.now();
            seen.lock()
                .unwrap()
                .push((times.0, times.1, after_child, ctx.now()));
            ctx.wait("pause", Duration::from_secs(30)).await?;
            let after_wait = ctx.now();
            seen.lock()
                .unwrap()
                .push((after_wait, after_wait, after_wait, after_wait));
            Ok::<_, Error>(())
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[0], seen[1], "first run and replay agree");
    assert!(seen[2].0 >= seen[1].2 + Duration::from_secs(30), "{seen:?}");
    assert!(seen[0].0 >= SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600));
}

/// Replay-safe helpers differ between executions, also of two separate runners.
#[tokio::test]
async fn replay_safe_values_differ_between_runners() {
    async fn handler(_: Value, ctx: DurableContext) -> Result<(String, u64), Error> {
        Ok((ctx.uuid().to_string(), ctx.random_u64()))
    }
    let first = LocalRunner::new(handler).run(Value::Null).await.unwrap();
    let second = LocalRunner::new(handler).run(Value::Null).await.unwrap();
    let (a, b) = (
        first.result::<(String, u64)>().unwrap(),
        second.result::<(String, u64)>().unwrap(),
    );
    assert_ne!(a.0, b.0);
    assert_ne!(a.1, b.1);
}

/// A handler that asks for fewer operations on replay than its history holds (here: a loop
/// bound read from outside) fails as non-deterministic instead of completing.
#[tokio::test]
async fn early_return_on_replay_is_non_deterministic() {
    let invocations = Arc::new(AtomicUsize::new(0));
    let i = Arc::clone(&invocations);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let invocation = i.fetch_add(1, Ordering::SeqCst);
        async move {
            // Read from outside the execution: 3 rounds at first, 1 on the replay.
            let rounds = if invocation == 0 { 3 } else { 1 };
            let mut total = 0;
            for round in 0..rounds {
                total += ctx
                    .step(format!("round {round}"), move |step| async move {
                        if round == 1 && step.attempt() == 1 {
                            return Err(Flaky("not yet".into()));
                        }
                        Ok::<_, Flaky>(round)
                    })
                    .retry(presets::fixed(Duration::from_secs(1)))
                    .await?;
            }
            Ok::<_, Error>(total)
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let error = execution.error().unwrap();
    assert_eq!(
        error.error_type.as_deref(),
        Some("NonDeterministicExecutionError")
    );
    let round_1 = execution.operation("round 1").unwrap();
    assert!(
        error
            .error_message
            .as_deref()
            .unwrap_or_default()
            .contains(round_1.id.as_str()),
        "{error:?}"
    );
}

/// An execution that completes after replaying every recorded operation is not flagged,
/// including operations of race losers and of branches a finished batch left behind.
#[tokio::test]
async fn abandoned_operations_do_not_count_as_unvisited() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let slow = async {
            ctx.wait(Name::NONE, Duration::from_secs(600)).await?;
            ctx.step(Name::NONE, |_| async { Ok::<_, Flaky>(0) }).await
        };
        let fast = async {
            ctx.wait(Name::NONE, Duration::from_secs(5)).await?;
            ctx.step(Name::NONE, |_| async { Ok::<_, Flaky>(1) }).await
        };
        let winner = ctx.race("race", vec![operand(slow), operand(fast)]).await?;
        let batch = ctx
            .map(
                "first",
                vec![60u64, 1, 30],
                |item_ctx, seconds, _| async move {
                    item_ctx
                        .wait(Name::NONE, Duration::from_secs(seconds))
                        .await?;
                    Ok::<_, Error>(seconds)
                },
            )
            .completion(CompletionConfig::first_successful())
            .await?;
        ctx.wait("later", Duration::from_secs(3600)).await?;
        Ok::<_, Error>((winner, batch.succeeded().copied().collect::<Vec<_>>()))
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(execution.result::<(u32, Vec<u64>)>().unwrap(), (1, vec![1]));
}

/// At the Lambda deadline, an invocation whose step is still running ends with a function
/// error (so the service invokes again promptly), even though a wait abandoned by a finished
/// race is still STARTED in the log.
#[tokio::test(start_paused = true)]
async fn deadline_with_running_step_is_not_pending() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let forever = async {
            ctx.wait(Name::NONE, Duration::from_secs(86_400)).await?;
            Ok::<_, Error>(0)
        };
        let now = async { Ok::<_, Error>(1) };
        let winner = ctx
            .race("race", vec![operand(forever), operand(now)])
            .await?;
        let slow = ctx
            .step("slow", |_| async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok::<_, Flaky>(2)
            })
            .await?;
        Ok::<_, Error>(winner + slow)
    })
    .invocation_timeout(Duration::from_secs(5));
    let mut execution = runner.start(Value::Null).unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(60), execution.invoke_once())
        .await
        .expect("the invocation ends at its deadline")
        .unwrap();
    assert!(
        matches!(outcome, InvocationOutcome::FunctionError(_)),
        "{outcome:?}"
    );
    let snapshot = execution.snapshot();
    let wait = snapshot
        .operations()
        .iter()
        .find(|op| op.type_ == OperationType::Wait)
        .unwrap();
    assert_eq!(wait.status, OperationStatus::Started);
}

/// An operation created before a combinator and given to it as an operand moves the clock
/// of the operand that awaits it, not its context's: when it lost the race and finishes
/// later, a replay (where it resolves replay-only) must not move `now()` after the race.
/// Found by the simulation (seeds 1018969, 1023613, 1024213 and others).
#[tokio::test]
async fn losing_operand_created_before_the_combinator_does_not_move_now() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let seen = Arc::clone(&s);
        async move {
            let quick = ctx.step("quick", |_| async { Ok::<_, Flaky>(1) });
            let slow = ctx.wait("slow", Duration::from_secs(60));
            let slow = async move { slow.await.map(|()| 2) };
            let winner = ctx
                .any("first", vec![operand(quick.into_future()), operand(slow)])
                .await?;
            seen.lock().unwrap().push(ctx.now());
            // Suspends past the losing wait's end, so the replay finds it finished.
            ctx.wait("later", Duration::from_secs(120)).await?;
            Ok::<_, Error>(winner)
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(seen.iter().all(|at| *at == seen[0]), "{seen:?}");
}

/// A batch that completes early (here on a completion predicate) leaves branches it never
/// revisits in that invocation; their records are not operations the code skipped, so the
/// completed replay is not flagged as non-deterministic. Found by the simulation (seed 18).
#[tokio::test]
async fn batch_completing_early_does_not_flag_unrevisited_branches() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let batch = ctx
            .map("quotes", vec![1u32, 2], |item_ctx, item, _| async move {
                item_ctx
                    .invoke::<u32>(Name::NONE, "pricing", json!({ "item": item }))
                    .await
            })
            .completion(
                CompletionConfig::new()
                    .tolerated_failure_percentage(100.0)
                    .complete_when(|progress| progress.succeeded >= 1),
            )
            .await?;
        Ok::<_, Error>(batch.success_count())
    })
    .register_plain("pricing", |event: Value| async move {
        Ok::<_, Flaky>(json!(event["item"].as_u64().unwrap_or_default() * 10))
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(execution.result::<usize>().unwrap(), 1);
}

/// A checkpoint failure inside a combinator's operand ends the invocation; the combinator
/// does not treat it as that operand failing (`any` must not go on to report that all
/// operands failed, and the code after it must not run). Found by the soak (seed 2099858):
/// the code after `any` ran in the doomed invocation and saw another `now()` than its
/// replay.
#[tokio::test]
async fn checkpoint_failure_in_an_operand_is_not_an_operand_failure() {
    let after = Arc::new(Mutex::new(Vec::new()));
    let a = Arc::clone(&after);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let after = Arc::clone(&a);
        async move {
            let flaky = ctx
                .step("flaky", |step| async move {
                    if step.attempt() == 1 {
                        return Err(Flaky("first attempt".into()));
                    }
                    Ok(1)
                })
                .retry(presets::fixed(Duration::from_secs(1)));
            let outcome = ctx.any("any", vec![flaky.into_future()]).await;
            after.lock().unwrap().push(format!("{outcome:?}"));
            outcome
        }
    })
    .fault(lambda_durable_testing::Fault::invalid_token().at_call(1))
    .fault(lambda_durable_testing::Fault::invalid_token().at_call(2))
    .fault(lambda_durable_testing::Fault::invalid_token().at_call(3));
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(execution.result::<u32>().unwrap(), 1);
    let after = after.lock().unwrap().clone();
    assert!(
        after.iter().all(|seen| !seen.contains("AllFailed")),
        "{after:?}"
    );
}

/// Likewise, a checkpoint failure inside a child context's body ends the invocation: the
/// context does not fail with it (which the code after it could catch and go on from).
#[tokio::test]
async fn checkpoint_failure_in_a_child_context_is_not_a_context_failure() {
    let after = Arc::new(Mutex::new(Vec::new()));
    let a = Arc::clone(&after);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let after = Arc::clone(&a);
        async move {
            let outcome = ctx
                .run_in_child_context("child", |child| async move {
                    child.step("inner", |_| async { Ok::<_, Flaky>(1) }).await
                })
                .await;
            after.lock().unwrap().push(format!("{outcome:?}"));
            outcome
        }
    })
    .fault(lambda_durable_testing::Fault::invalid_token().at_call(1))
    .fault(lambda_durable_testing::Fault::invalid_token().at_call(2))
    .fault(lambda_durable_testing::Fault::invalid_token().at_call(3));
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(execution.result::<u32>().unwrap(), 1);
    let after = after.lock().unwrap().clone();
    assert!(
        after
            .iter()
            .all(|seen| !seen.contains("ChildContextFailed")),
        "{after:?}"
    );
}

/// A flat branch that asks for fewer operations on replay than it recorded fails the replay
/// as non-deterministic, as a nested branch (a CONTEXT of its own) does. Flat branches
/// have no record of their own to hold them to their children, so this went unnoticed.
#[tokio::test]
async fn early_return_in_a_flat_branch_is_non_deterministic() {
    for nesting in [Nesting::Flat, Nesting::Nested] {
        let invocations = Arc::new(AtomicUsize::new(0));
        let i = Arc::clone(&invocations);
        let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
            let invocation = i.fetch_add(1, Ordering::SeqCst);
            async move {
                let batch = ctx
                    .parallel(
                        "work",
                        vec![branch(
                            "rounds",
                            move |branch_ctx: DurableContext| async move {
                                // Read from outside the execution: 3 rounds at first, 1 on replay.
                                let rounds = if invocation == 0 { 3 } else { 1 };
                                let mut total = 0;
                                for round in 0..rounds {
                                    total += branch_ctx
                                        .step(format!("round {round}"), move |step| async move {
                                            if round == 1 && step.attempt() == 1 {
                                                return Err(Flaky("not yet".into()));
                                            }
                                            Ok::<_, Flaky>(round)
                                        })
                                        .retry(presets::fixed(Duration::from_secs(1)))
                                        .await?;
                                }
                                Ok::<_, Error>(total)
                            },
                        )],
                    )
                    .nesting(nesting)
                    .await?;
                Ok::<_, Error>(batch.success_count())
            }
        });
        let execution = runner.run(Value::Null).await.unwrap();
        assert_eq!(execution.status(), ExecutionStatus::Failed, "{nesting:?}");
        let error = execution.error().unwrap();
        assert_eq!(
            error.error_type.as_deref(),
            Some("NonDeterministicExecutionError"),
            "{nesting:?}: {error:?}"
        );
        let round_1 = execution.operation("round 1").unwrap();
        assert!(
            error
                .error_message
                .as_deref()
                .unwrap_or_default()
                .contains(round_1.id.as_str()),
            "{nesting:?}: {error:?}"
        );
    }
}
