//! Recorded executions ("golden histories"): saved, loaded, and replayed against the
//! current code, which must take the recorded path.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use lambda_durable::retry::{presets, Jitter};
use lambda_durable::wait_strategy::WaitStrategyConfig;
use lambda_durable::wire::{ExecutionStatus, Operation, OperationStatus, Timestamp};
use lambda_durable::{branch, CompletionConfig, DurableContext, Error, StepContext};
use lambda_durable_testing::{
    check_recorded, CallbackResponse, Execution, LocalRunner, RecordedExecution, RunnerError,
};
use serde_json::{json, Value};

/// A folder of its own under the system's temporary folder.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "lambda-durable-recorded-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The order workflow; `version` changes its code the way a deploy would.
fn runner(version: u32) -> LocalRunner {
    LocalRunner::new(move |event: Value, ctx: DurableContext| async move {
        let cents = event["cents"].as_u64().unwrap_or(0);
        let id = ctx.uuid().to_string();
        let charge_name = if version == 2 {
            "charge card"
        } else {
            "charge"
        };
        let charged = ctx
            .step(charge_name, move |_| async move {
                Ok::<_, std::io::Error>(cents)
            })
            .await?;
        ctx.wait("cool off", Duration::from_secs(60)).await?;
        let shipped = ctx
            .run_in_child_context("ship", |child| async move {
                child
                    .step("label", |_| async {
                        Ok::<_, std::io::Error>("L-1".to_string())
                    })
                    .await
            })
            .await?;
        if version == 3 {
            ctx.step("notify", |_| async { Ok::<_, std::io::Error>(()) })
                .await?;
        }
        Ok::<_, Error>(json!({ "id": id, "charged": charged, "label": shipped }))
    })
}

#[tokio::test]
async fn a_saved_execution_replays_against_the_same_code() {
    let dir = scratch("same");
    let execution = runner(1).run(json!({"cents": 250})).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    let file = dir.join("order.json");
    RecordedExecution::from(&execution).save(&file).unwrap();
    let loaded = RecordedExecution::load(&file).unwrap();
    assert_eq!(loaded, RecordedExecution::from(&execution));
    let replay = runner(1).replay_recorded(&loaded).await.unwrap();
    assert_eq!(loaded.check(&replay), Vec::<String>::new());
    // The replay-safe helpers see the recorded execution: the same uuid.
    assert_eq!(
        replay.result::<Value>().unwrap(),
        execution.result::<Value>().unwrap()
    );
    assert_eq!(check_recorded(&runner(1), &dir).await.unwrap(), 1);
}

#[tokio::test]
async fn changed_code_is_reported_with_the_first_divergence() {
    let dir = scratch("changed");
    let execution = runner(1).run(json!({"cents": 250})).await.unwrap();
    let recorded = RecordedExecution::from(&execution);
    recorded.save(dir.join("order.json")).unwrap();

    // A renamed step: non-determinism naming the operation and both sides.
    let replay = runner(2).replay_recorded(&recorded).await.unwrap();
    let divergence = replay.divergence().unwrap();
    let charge = execution.operation("charge").unwrap();
    assert!(divergence.contains(charge.id.as_str()), "{divergence}");
    assert!(
        divergence.contains("charge card") && divergence.contains("\"charge\""),
        "{divergence}"
    );
    assert!(!recorded.check(&replay).is_empty());

    // A new operation at the end of a finished execution: it is not recorded.
    let replay = runner(3).replay_recorded(&recorded).await.unwrap();
    let found = recorded.check(&replay).join("; ");
    assert!(found.contains("created the operations"), "{found}");

    match check_recorded(&runner(2), &dir).await {
        Err(RunnerError::Recorded(report)) => {
            assert!(report.contains("1 of 1"), "{report}");
            assert!(report.contains("order.json"), "{report}");
            assert!(report.contains(charge.id.as_str()), "{report}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_services_state_output_replays_too() {
    // What `aws lambda get-durable-execution-state` prints: the operations, no outcome.
    let execution = runner(1).run(json!({"cents": 7})).await.unwrap();
    let state = json!({ "Operations": execution.operations() }).to_string();
    let recorded = RecordedExecution::from_json(&state)
        .unwrap()
        .with_arn(RecordedExecution::from(&execution).execution_arn);
    assert_eq!(recorded.status, ExecutionStatus::Running);
    let replay = runner(1).replay_recorded(&recorded).await.unwrap();
    assert_eq!(recorded.check(&replay), Vec::<String>::new());
    let replay = runner(2).replay_recorded(&recorded).await.unwrap();
    assert_eq!(recorded.check(&replay).len(), 1);
}

#[tokio::test]
async fn unreadable_files_are_errors_that_name_them() {
    let dir = scratch("bad");
    std::fs::write(dir.join("a.json"), "{ not json").unwrap();
    std::fs::write(
        dir.join("b.json"),
        r#"{"format": "other/1", "executionArn": "x", "status": "SUCCEEDED", "operations": []}"#,
    )
    .unwrap();
    std::fs::write(dir.join("c.json"), r#"{"Operations": []}"#).unwrap();
    std::fs::write(dir.join("d.json"), r#"{"Events": []}"#).unwrap();
    std::fs::write(dir.join("e.json"), r#"{"Records": []}"#).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a recorded execution").unwrap();
    match check_recorded(&runner(1), &dir).await {
        Err(RunnerError::Recorded(report)) => {
            assert!(report.contains("5 of 5"), "{report}");
            for (file, what) in [
                ("a.json", "not JSON"),
                ("b.json", "is not \"lambda-durable/recorded-execution/1\""),
                ("c.json", "no operations"),
                (
                    "d.json",
                    "GetDurableExecutionHistory output: the history has no events",
                ),
                ("e.json", "neither a recorded execution"),
            ] {
                let line = report
                    .lines()
                    .find(|line| line.contains(file))
                    .unwrap_or_default();
                assert!(line.contains(what), "{file}: {report}");
            }
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        check_recorded(&runner(1), dir.join("missing")).await,
        Err(RunnerError::Recorded(_))
    ));
}

// ---------------------------------------------------------------------------------------
// GetDurableExecutionHistory output
// ---------------------------------------------------------------------------------------

#[derive(Debug, thiserror::Error)]
#[error("boom: {0}")]
struct Boom(String);

/// A result of about `kib` KiB: more than the 256 KiB a context stores makes it record its
/// children (or, for a map or parallel, a summary) instead.
fn large(kib: usize, tag: &str) -> String {
    format!("{tag}:{}", "x".repeat(kib * 1024))
}

/// Every operation kind and outcome the history has an event for: a step that succeeds on
/// its third attempt, one that fails, a wait, callbacks answered, refused and timed out,
/// wait_for_callback, invokes that succeed and fail, child contexts small and too large to
/// store, wait_for_condition, maps and parallels small and large, one whose losing branch
/// is left with a retry due, and the replay-safe helpers.
async fn every_event(input: Value, ctx: DurableContext) -> Result<Value, Error> {
    let id = ctx.uuid().to_string();
    let flaky: String = ctx
        .step("flaky", |step: StepContext| async move {
            if step.attempt() < 3 {
                return Err(Boom(format!("attempt {}", step.attempt())));
            }
            Ok(format!("took {}", step.attempt()))
        })
        .retry(presets::fixed(Duration::from_secs(3)).max_attempts(3))
        .await?;
    let declined = ctx
        .step("declined", |_| async {
            Err::<u32, _>(Boom("card declined".to_string()))
        })
        .retry(presets::none())
        .await
        .is_err();
    ctx.wait("cool off", Duration::from_secs(10)).await?;

    let approval = ctx
        .create_callback::<Value>("approval")
        .timeout(Duration::from_secs(3600))
        .await?
        .result()
        .await?;
    let vetoed = ctx
        .create_callback::<Value>("veto")
        .await?
        .result()
        .await
        .is_err();
    let forgotten = ctx
        .create_callback::<Value>("forgotten")
        .timeout(Duration::from_secs(60))
        .await?
        .result()
        .await
        .is_err();
    let signature: String = ctx
        .wait_for_callback::<String, _, _>("signature", |_id, _step| async { Ok::<_, Boom>(()) })
        .await?;

    let shipped: Value = ctx
        .invoke("ship", "shipping", json!({ "order": input["order"] }))
        .await?;
    let broken = ctx
        .invoke::<Value>("break", "breaker", json!({}))
        .await
        .is_err();

    let total = ctx
        .run_in_child_context("totals", |child| async move {
            let base: u64 = child
                .step("base", |_| async { Ok::<_, Boom>(100u64) })
                .await?;
            child.wait("think", Duration::from_secs(2)).await?;
            Ok::<_, Error>(base + 20)
        })
        .await?;
    let big = ctx
        .run_in_child_context("big", |child| async move {
            let mut parts = Vec::new();
            for i in 0..3 {
                parts.push(
                    child
                        .step(format!("part {i}"), move |_| async move {
                            Ok::<_, Boom>(large(100, &i.to_string()))
                        })
                        .await?,
                );
            }
            Ok::<_, Error>(parts)
        })
        .await?;

    let polls: u32 = ctx
        .wait_for_condition(
            "ready",
            0u32,
            |n, _step| async move { Ok::<_, Boom>(n + 1) },
        )
        .strategy(
            WaitStrategyConfig::poll_while(|n: &u32| *n < 3)
                .initial_delay(Duration::from_secs(2))
                .jitter(Jitter::None),
        )
        .await?;

    let prices = ctx
        .map("prices", vec![1u64, 2, 3], |item, kg, _| async move {
            item.step("price", move |_| async move { Ok::<_, Boom>(kg * 4) })
                .await
        })
        .await?
        .into_results()?;
    let big_map = ctx
        .map("big map", vec![0usize, 1, 2], |item, i, _| async move {
            item.step("chunk", move |_| async move {
                Ok::<_, Boom>(large(100, &i.to_string()))
            })
            .await
        })
        .await?
        .into_results()?;
    let parts = ctx
        .parallel(
            "finish",
            vec![
                branch("qa", |c: DurableContext| async move {
                    c.create_callback::<String>("qa check")
                        .await?
                        .result()
                        .await
                }),
                branch("invoice", |c: DurableContext| async move {
                    c.step("invoice", |_| async { Ok::<_, Boom>("INV-1".to_string()) })
                        .await
                }),
            ],
        )
        .await?
        .into_results()?;
    let big_parallel = ctx
        .parallel(
            "big parallel",
            vec![
                branch("left", |c: DurableContext| async move {
                    c.step("l", |_| async { Ok::<_, Boom>(large(150, "l")) })
                        .await
                }),
                branch("right", |c: DurableContext| async move {
                    c.step("r", |_| async { Ok::<_, Boom>(large(150, "r")) })
                        .await
                }),
            ],
        )
        .await?
        .into_results()?;
    // The slow branch loses, with a retry of its step due: the wait after the race lets its
    // time come, and nobody starts it again.
    let first = ctx
        .parallel(
            "race",
            vec![
                branch("fast", |c: DurableContext| async move {
                    c.step("fast", |_| async { Ok::<_, Boom>(1u32) }).await
                }),
                branch("slow", |c: DurableContext| async move {
                    c.step("slow step", |_| async {
                        Err::<u32, _>(Boom("busy".to_string()))
                    })
                    .retry(presets::fixed(Duration::from_secs(5)).max_attempts(9))
                    .await
                }),
            ],
        )
        .completion(CompletionConfig::first_successful())
        .await?;
    ctx.wait("after the race", Duration::from_secs(30)).await?;

    Ok(json!({
        "id": id,
        "flaky": flaky,
        "declined": declined,
        "approval": approval,
        "vetoed": vetoed,
        "forgotten": forgotten,
        "signature": signature,
        "shipped": shipped,
        "broken": broken,
        "total": total,
        "big": big.iter().map(String::len).sum::<usize>(),
        "polls": polls,
        "prices": prices,
        "big_map": big_map.iter().map(String::len).sum::<usize>(),
        "parts": parts,
        "big_parallel": big_parallel.iter().map(String::len).sum::<usize>(),
        "race": first.items().len(),
    }))
}

async fn shipping(order: Value, ctx: DurableContext) -> Result<Value, Error> {
    ctx.wait("pack", Duration::from_secs(60)).await?;
    Ok(json!({ "shipped": order["order"] }))
}

fn every_event_runner() -> LocalRunner {
    LocalRunner::new(every_event)
        .register("shipping", shipping)
        .register_plain("breaker", |_: Value| async move {
            Err::<Value, _>(Boom("broken".to_string()))
        })
        .on_callback(
            "approval",
            CallbackResponse::json(json!({ "approved": true })).after(Duration::from_secs(120)),
        )
        .on_callback(
            "veto",
            CallbackResponse::failure("Vetoed", "not this quarter"),
        )
        .on_callback("forgotten", CallbackResponse::ignore())
        .on_callback("signature", CallbackResponse::json(json!("signed")))
        .on_callback("qa check", CallbackResponse::json(json!("QA-OK")))
}

/// What `aws lambda get-durable-execution-history --include-execution-data` prints for
/// the execution (the CLI merges the pages into one list).
fn history_output(execution: &Execution) -> String {
    json!({ "Events": execution.history() }).to_string()
}

fn history_of(execution: &Execution) -> RecordedExecution {
    RecordedExecution::from_json(&history_output(execution))
        .unwrap()
        .with_arn(execution.arn())
}

fn millis(timestamp: Option<&Timestamp>) -> Option<i64> {
    timestamp.map(Timestamp::epoch_millis)
}

/// The fields of an operation that replay reads (and its times).
fn replay_fields(op: &Operation) -> Value {
    let step = op.step_details.as_ref();
    let callback = op.callback_details.as_ref();
    let invoke = op.chained_invoke_details.as_ref();
    let context = op.context_details.as_ref();
    json!({
        "id": op.id.as_str(),
        "type": op.type_,
        "status": op.status,
        "name": op.name,
        "sub_type": op.sub_type,
        "parent": op.parent_id,
        "start": millis(op.start_timestamp.as_ref()),
        "end": millis(op.end_timestamp.as_ref()),
        "input": op.execution_details.as_ref().and_then(|details| details.input_payload.clone()),
        "attempt": step.and_then(|step| step.attempt).unwrap_or(0),
        "next_attempt": millis(step.and_then(|step| step.next_attempt_timestamp.as_ref())),
        "scheduled_end": millis(op.wait_details.as_ref().and_then(|wait| wait.scheduled_end_timestamp.as_ref())),
        "callback_id": callback.and_then(|callback| callback.callback_id.clone()),
        "result": step.and_then(|step| step.result.clone())
            .or_else(|| callback.and_then(|callback| callback.result.clone()))
            .or_else(|| invoke.and_then(|invoke| invoke.result.clone()))
            .or_else(|| context.and_then(|context| context.result.clone())),
        "error": step.and_then(|step| step.error.clone())
            .or_else(|| callback.and_then(|callback| callback.error.clone()))
            .or_else(|| invoke.and_then(|invoke| invoke.error.clone()))
            .or_else(|| context.and_then(|context| context.error.clone())),
        "replay_children": context.and_then(|context| context.replay_children).unwrap_or(false),
    })
}

/// The history rebuilds `execution`'s operations, outcome included, and the handler
/// replays against it as against the operations themselves.
async fn assert_history_replays(runner: &LocalRunner, execution: &Execution) {
    let recorded = history_of(execution);
    let rebuilt: Vec<Value> = recorded.operations.iter().map(replay_fields).collect();
    let original: Vec<Value> = execution.operations().iter().map(replay_fields).collect();
    assert_eq!(rebuilt.len(), original.len());
    for (rebuilt, original) in rebuilt.iter().zip(&original) {
        assert_eq!(rebuilt, original);
    }
    assert_eq!(recorded.status, execution.status());
    assert_eq!(recorded.result.as_deref(), execution.raw_result());
    assert_eq!(recorded.error.as_ref(), execution.error());

    let replay = runner.replay_recorded(&recorded).await.unwrap();
    assert_eq!(replay.divergence(), None);
    // A finished execution replays to its outcome without a write (for one that timed out
    // or was stopped, the handler suspends where the service cut it short).
    if matches!(
        execution.status(),
        ExecutionStatus::Succeeded | ExecutionStatus::Failed
    ) {
        assert_eq!(replay.mismatches(), Vec::<String>::new());
    }
    assert_eq!(recorded.check(&replay), Vec::<String>::new());
}

#[tokio::test]
async fn a_history_rebuilds_every_operation_kind_and_replays() {
    let runner = every_event_runner();
    let execution = runner.run(json!({ "order": "o-1" })).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    let result: Value = execution.result().unwrap();
    for (key, expected) in [
        ("flaky", json!("took 3")),
        ("declined", json!(true)),
        ("vetoed", json!(true)),
        ("forgotten", json!(true)),
        ("broken", json!(true)),
        ("polls", json!(3)),
        ("race", json!(2)),
    ] {
        assert_eq!(result[key], expected, "{key}: {result}");
    }
    // What the history must reconstruct: the contexts recorded with ReplayChildren (one
    // without a result, two with a summary) and a step left READY.
    let replay_children: Vec<&str> = execution
        .operations()
        .iter()
        .filter(|op| {
            op.context_details
                .as_ref()
                .and_then(|context| context.replay_children)
                == Some(true)
        })
        .filter_map(|op| op.name.as_ref().map(|name| name.as_str()))
        .collect();
    assert_eq!(replay_children, ["big", "big map", "big parallel"]);
    assert_eq!(
        execution.operation("slow step").map(|op| op.status),
        Some(OperationStatus::Ready),
        "{}",
        execution.timeline()
    );

    assert_history_replays(&every_event_runner(), &execution).await;
}

#[tokio::test]
async fn failed_and_timed_out_histories_replay() {
    let failing = || {
        LocalRunner::new(|_: Value, ctx: DurableContext| async move {
            ctx.step("try", |_| async { Err::<u32, _>(Boom("no".to_string())) })
                .retry(presets::fixed(Duration::from_secs(1)).max_attempts(2))
                .await?;
            Ok::<_, Error>(())
        })
    };
    let execution = failing().run(json!({})).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    assert_history_replays(&failing(), &execution).await;

    // Out of time with a retry pending.
    let slow = || {
        LocalRunner::new(|_: Value, ctx: DurableContext| async move {
            ctx.step("poll", |_| async {
                Err::<u32, _>(Boom("busy".to_string()))
            })
            .retry(presets::fixed(Duration::from_secs(25)).max_attempts(9))
            .await?;
            Ok::<_, Error>(())
        })
        .execution_timeout(Duration::from_secs(60))
    };
    let execution = slow().run(json!({})).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::TimedOut);
    assert_eq!(
        execution.operation("poll").map(|op| op.status),
        Some(OperationStatus::Pending)
    );
    assert_history_replays(&slow(), &execution).await;
}

#[tokio::test]
async fn a_history_catches_changed_code() {
    let execution = runner(1).run(json!({"cents": 7})).await.unwrap();
    let recorded = history_of(&execution);
    assert_eq!(
        recorded.check(&runner(1).replay_recorded(&recorded).await.unwrap()),
        Vec::<String>::new()
    );
    let replay = runner(2).replay_recorded(&recorded).await.unwrap();
    let divergence = replay.divergence().unwrap();
    assert!(divergence.contains("charge card"), "{divergence}");
    let replay = runner(3).replay_recorded(&recorded).await.unwrap();
    let found = recorded.check(&replay).join("; ");
    assert!(found.contains("created the operations"), "{found}");
}

#[tokio::test]
async fn a_history_with_a_truncated_result_is_refused_naming_the_file() {
    let dir = scratch("truncated");
    let execution = runner(1).run(json!({"cents": 7})).await.unwrap();
    let mut output: Value = serde_json::from_str(&history_output(&execution)).unwrap();
    let charge = execution.operation("charge").unwrap().id.to_string();
    let succeeded = output["Events"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|event| event["EventType"] == "StepSucceeded" && event["Id"] == charge.as_str())
        .unwrap();
    succeeded["StepSucceededDetails"]["Result"]["Truncated"] = json!(true);
    let file = dir.join("order.json");
    std::fs::write(&file, output.to_string()).unwrap();
    match RecordedExecution::load(&file) {
        Err(RunnerError::Recorded(message)) => {
            for part in [
                "order.json",
                &charge,
                "truncated",
                "GetDurableExecutionState",
            ] {
                assert!(message.contains(part), "{message}");
            }
        }
        other => panic!("{other:?}"),
    }
    // Without execution data, nothing to replay from.
    for event in output["Events"].as_array_mut().unwrap() {
        if let Some(details) = event
            .as_object_mut()
            .unwrap()
            .values_mut()
            .find(|value| value.is_object())
        {
            for member in ["Input", "Result", "Error"] {
                if let Some(payload) = details.get_mut(member) {
                    *payload = json!({ "Truncated": false });
                }
            }
        }
    }
    match RecordedExecution::from_json(&output.to_string()) {
        Err(RunnerError::Recorded(message)) => {
            assert!(message.contains("--include-execution-data"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

/// A page of the history (`NextMarker` set: the events up to some point) is the execution
/// as it stood then, in flight: every prefix of a history replays without a divergence.
#[tokio::test]
async fn every_prefix_of_a_history_replays_as_an_execution_in_flight() {
    let runner = every_event_runner();
    let execution = runner.run(json!({ "order": "o-1" })).await.unwrap();
    let events = execution.history();
    for end in 1..=events.len() {
        let page = json!({ "Events": &events[..end], "NextMarker": "more" }).to_string();
        let recorded = RecordedExecution::from_json(&page)
            .unwrap()
            .with_arn(execution.arn());
        let finished = end == events.len();
        assert_eq!(
            recorded.status,
            if finished {
                ExecutionStatus::Succeeded
            } else {
                ExecutionStatus::Running
            }
        );
        let replay = runner.replay_recorded(&recorded).await.unwrap();
        assert_eq!(
            recorded.check(&replay),
            Vec::<String>::new(),
            "the first {end} events"
        );
    }
}
