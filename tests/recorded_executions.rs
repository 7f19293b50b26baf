//! Recorded executions ("golden histories"): saved, loaded, and replayed against the
//! current code, which must take the recorded path.
#![cfg(feature = "testing")]
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use lambda_durable::testing::{check_recorded, LocalRunner, RecordedExecution, RunnerError};
use lambda_durable::wire::ExecutionStatus;
use lambda_durable::{DurableContext, Error};
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
    std::fs::write(dir.join("notes.txt"), "not a recorded execution").unwrap();
    match check_recorded(&runner(1), &dir).await {
        Err(RunnerError::Recorded(report)) => {
            assert!(report.contains("4 of 4"), "{report}");
            for (file, what) in [
                ("a.json", "not JSON"),
                ("b.json", "is not \"lambda-durable/recorded-execution/1\""),
                ("c.json", "no operations"),
                ("d.json", "neither a recorded execution"),
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
