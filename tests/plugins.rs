//! Instrumentation plugins on the local runner: which hooks fire, when, with what.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lambda_durable::plugin::{
    HookResult, InvocationEndInfo, InvocationStartInfo, OperationChangeInfo, OperationInfo, Plugin,
    UserFunctionEndInfo, UserFunctionStartInfo,
};
use lambda_durable::retry::presets;
use lambda_durable::wire::{ExecutionStatus, OperationStatus, OperationType};
use lambda_durable::{DurableContext, Error};
use lambda_durable_testing::LocalRunner;

/// Every hook call, as a line: the hook, the operation's name and what the test checks.
#[derive(Default)]
struct Recorder {
    lines: Mutex<Vec<String>>,
    starts: Mutex<Vec<InvocationStartInfo>>,
    ends: Mutex<Vec<OperationInfo>>,
    changes: Mutex<Vec<Vec<OperationInfo>>>,
}

impl Recorder {
    fn push(&self, line: String) {
        self.lines.lock().unwrap().push(line);
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    fn matching(&self, prefix: &str) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|line| line.starts_with(prefix))
            .collect()
    }
}

fn name(info: &OperationInfo) -> &str {
    info.name.as_deref().unwrap_or("-")
}

impl Plugin for Recorder {
    fn on_invocation_start(&self, info: &InvocationStartInfo) -> HookResult {
        self.push(format!(
            "invocation-start first={} updated={}",
            info.is_first_invocation,
            info.updated_operations
                .iter()
                .map(|op| name(op).to_string())
                .collect::<Vec<_>>()
                .join(",")
        ));
        self.starts.lock().unwrap().push(info.clone());
        Ok(())
    }

    fn on_invocation_end(&self, info: &InvocationEndInfo) -> HookResult {
        self.push(format!(
            "invocation-end first={} status={} terminal={} error={}",
            info.is_first_invocation,
            info.status,
            info.status.is_terminal(),
            info.error.is_some()
        ));
        Ok(())
    }

    fn on_operation_start(&self, info: &OperationInfo) -> HookResult {
        self.push(format!(
            "operation-start {} replay={} status={} attempt={:?}",
            name(info),
            info.is_replay,
            info.status,
            info.attempt
        ));
        Ok(())
    }

    fn on_operation_end(&self, info: &OperationInfo) -> HookResult {
        self.push(format!(
            "operation-end {} status={} result={:?} error={:?}",
            name(info),
            info.status,
            info.result,
            info.error.as_ref().and_then(|e| e.error_message.clone())
        ));
        self.ends.lock().unwrap().push(info.clone());
        Ok(())
    }

    fn on_operation_change(&self, info: &OperationChangeInfo) -> HookResult {
        let all = info.operations();
        assert_eq!(all.len(), info.operation_count);
        for op in &info.updated_operations {
            assert!(
                all.iter().any(|known| known.id == op.id),
                "{op:?} not in the full map"
            );
        }
        self.changes
            .lock()
            .unwrap()
            .push(info.updated_operations.clone());
        Ok(())
    }

    fn on_user_function_start(&self, info: &UserFunctionStartInfo) -> HookResult {
        self.push(format!(
            "fn-start {} attempt={:?} replaying-children={}",
            name(&info.operation),
            info.operation.attempt,
            info.is_replaying_children
        ));
        Ok(())
    }

    fn on_user_function_end(&self, info: &UserFunctionEndInfo) -> HookResult {
        self.push(format!(
            "fn-end {} attempt={:?} outcome={}",
            name(&info.operation),
            info.operation.attempt,
            info.outcome.as_str()
        ));
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("boom")]
struct Boom;

async fn one_step(_: (), ctx: DurableContext) -> Result<String, Error> {
    ctx.step("greet", |_| async { Ok::<_, Boom>("hello".to_string()) })
        .await
}

#[tokio::test]
async fn one_step_fires_every_hook_once_in_order() {
    let recorder = Arc::new(Recorder::default());
    let execution = LocalRunner::new(one_step)
        .shared_plugin(recorder.clone())
        .run(())
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    assert_eq!(
        recorder.lines(),
        vec![
            "invocation-start first=true updated=",
            "operation-start greet replay=false status=STARTED attempt=Some(1)",
            "fn-start greet attempt=Some(1) replaying-children=false",
            "fn-end greet attempt=Some(1) outcome=SUCCEEDED",
            "operation-end greet status=SUCCEEDED result=Some(\"\\\"hello\\\"\") error=None",
            "invocation-end first=true status=SUCCEEDED terminal=true error=false",
        ]
    );
    // The step's id is the checkpointed one, and the change reports it once, finished.
    let step = execution.operation("greet").unwrap();
    let ends = recorder.ends.lock().unwrap().clone();
    assert_eq!(ends[0].id, step.id.as_str());
    assert_eq!(ends[0].operation_type, OperationType::Step);
    assert_eq!(ends[0].sub_type.as_deref(), Some("Step"));
    assert_eq!(ends[0].attempt, Some(1));
    assert!(ends[0].start_time.is_some() && ends[0].end_time.is_some());
    assert!(ends[0].parent_id.is_none());
    let changed: Vec<OperationStatus> = recorder
        .changes
        .lock()
        .unwrap()
        .iter()
        .flatten()
        .filter(|op| op.id == step.id.as_str())
        .map(|op| op.status)
        .collect();
    assert_eq!(changed.last(), Some(&OperationStatus::Succeeded));
    assert_eq!(
        changed
            .iter()
            .filter(|status| **status == OperationStatus::Succeeded)
            .count(),
        1
    );
}

async fn waits(_: (), ctx: DurableContext) -> Result<String, Error> {
    ctx.wait("pause", Duration::from_secs(2)).await?;
    ctx.step("after", |_| async { Ok::<_, Boom>(()) }).await?;
    Ok("done".to_string())
}

#[tokio::test]
async fn a_wait_ends_in_the_invocation_that_first_sees_it_finished() {
    let recorder = Arc::new(Recorder::default());
    let execution = LocalRunner::new(waits)
        .shared_plugin(recorder.clone())
        .run(())
        .await
        .unwrap();
    assert_eq!(execution.invocations(), 2);
    let lines = recorder.lines();
    assert_eq!(
        recorder.matching("invocation-"),
        vec![
            "invocation-start first=true updated=",
            "invocation-end first=true status=PENDING terminal=false error=false",
            "invocation-start first=false updated=pause",
            "invocation-end first=false status=SUCCEEDED terminal=true error=false",
        ]
    );
    // One live start, no replayed start (the wait is finished when replay reaches it),
    // and one end, right after the second invocation starts.
    assert_eq!(
        recorder.matching("operation-start pause"),
        vec!["operation-start pause replay=false status=STARTED attempt=None"]
    );
    assert_eq!(
        recorder.matching("operation-end pause"),
        vec!["operation-end pause status=SUCCEEDED result=None error=None"]
    );
    let second_start = lines
        .iter()
        .position(|line| line.starts_with("invocation-start first=false"))
        .unwrap();
    assert_eq!(
        lines[second_start + 1],
        "operation-end pause status=SUCCEEDED result=None error=None"
    );
    // The replay's start info lists the whole state.
    let starts = recorder.starts.lock().unwrap().clone();
    assert_eq!(starts[1].operations.len(), 1);
    assert!(starts[1].execution_start_time.is_some());
    assert_eq!(
        starts[0].execution_start_time,
        starts[1].execution_start_time
    );
}

async fn flaky(_: (), ctx: DurableContext) -> Result<(), Error> {
    ctx.step("stable", |_| async { Ok::<_, Boom>(1) }).await?;
    ctx.step("flaky", |step| async move {
        if step.attempt() == 1 {
            return Err(Boom);
        }
        Ok(2)
    })
    .retry(presets::fixed(Duration::from_secs(1)))
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_retried_step_reports_each_attempt_and_ends_once() {
    let recorder = Arc::new(Recorder::default());
    let execution = LocalRunner::new(flaky)
        .shared_plugin(recorder.clone())
        .run(())
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    assert_eq!(
        recorder.matching("fn-"),
        vec![
            "fn-start stable attempt=Some(1) replaying-children=false",
            "fn-end stable attempt=Some(1) outcome=SUCCEEDED",
            "fn-start flaky attempt=Some(1) replaying-children=false",
            "fn-end flaky attempt=Some(1) outcome=FAILED",
            "fn-start flaky attempt=Some(2) replaying-children=false",
            "fn-end flaky attempt=Some(2) outcome=SUCCEEDED",
        ]
    );
    // The finished step starts once, live; the retried one starts live, then again live
    // (the retry of a recorded step) with attempt 2.
    assert_eq!(
        recorder.matching("operation-start"),
        vec![
            "operation-start stable replay=false status=STARTED attempt=Some(1)",
            "operation-start flaky replay=false status=STARTED attempt=Some(1)",
            "operation-start flaky replay=true status=STARTED attempt=Some(2)",
        ]
    );
    assert_eq!(
        recorder.matching("operation-end"),
        vec![
            "operation-end stable status=SUCCEEDED result=Some(\"1\") error=None",
            "operation-end flaky status=SUCCEEDED result=Some(\"2\") error=None",
        ]
    );
}

async fn failing(_: (), ctx: DurableContext) -> Result<(), Error> {
    ctx.step("doomed", |_| async { Err::<(), _>(Boom) })
        .retry(presets::none())
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_failed_execution_ends_its_invocation_failed() {
    let recorder = Arc::new(Recorder::default());
    let execution = LocalRunner::new(failing)
        .shared_plugin(recorder.clone())
        .run(())
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    assert_eq!(
        recorder.matching("operation-end"),
        vec!["operation-end doomed status=FAILED result=None error=Some(\"boom\")"]
    );
    assert_eq!(
        recorder.matching("invocation-end"),
        vec!["invocation-end first=true status=FAILED terminal=true error=true"]
    );
}

async fn nested(_: (), ctx: DurableContext) -> Result<u32, Error> {
    ctx.run_in_child_context("outer", |child| async move {
        child.step("inner", |_| async { Ok::<_, Boom>(7) }).await
    })
    .await
}

#[tokio::test]
async fn operations_in_a_child_context_name_it_as_their_parent() {
    let recorder = Arc::new(Recorder::default());
    let execution = LocalRunner::new(nested)
        .shared_plugin(recorder.clone())
        .run(())
        .await
        .unwrap();
    assert_eq!(execution.result::<u32>().unwrap(), 7);
    let outer = execution.operation("outer").unwrap().id.to_string();
    let ends = recorder.ends.lock().unwrap().clone();
    let inner_end = ends
        .iter()
        .find(|op| op.name.as_deref() == Some("inner"))
        .unwrap();
    let outer_end = ends
        .iter()
        .find(|op| op.name.as_deref() == Some("outer"))
        .unwrap();
    assert_eq!(inner_end.parent_id.as_deref(), Some(outer.as_str()));
    assert_eq!(outer_end.parent_id, None);
    assert_eq!(outer_end.operation_type, OperationType::Context);
    assert_eq!(
        recorder.matching("fn-"),
        vec![
            "fn-start outer attempt=None replaying-children=false",
            "fn-start inner attempt=Some(1) replaying-children=false",
            "fn-end inner attempt=Some(1) outcome=SUCCEEDED",
            "fn-end outer attempt=None outcome=SUCCEEDED",
        ]
    );
}

async fn two_waits(_: (), ctx: DurableContext) -> Result<(), Error> {
    let short = ctx.run_in_child_context("short branch", |child| async move {
        child.wait("short", Duration::from_secs(2)).await
    });
    let long = ctx.run_in_child_context("long branch", |child| async move {
        child.wait("long", Duration::from_secs(8)).await
    });
    let (a, b) = tokio::join!(short, long);
    a?;
    b?;
    Ok(())
}

#[tokio::test]
async fn a_pending_wait_is_reported_again_on_replay_a_finished_one_is_not() {
    let recorder = Arc::new(Recorder::default());
    let execution = LocalRunner::new(two_waits)
        .shared_plugin(recorder.clone())
        .run(())
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    assert_eq!(execution.invocations(), 3);
    // "long" is still waiting when the second invocation replays it.
    assert_eq!(
        recorder.matching("operation-start long replay"),
        vec![
            "operation-start long replay=false status=STARTED attempt=None",
            "operation-start long replay=true status=STARTED attempt=None",
        ]
    );
    assert_eq!(
        recorder.matching("operation-start short replay"),
        vec!["operation-start short replay=false status=STARTED attempt=None"]
    );
    assert_eq!(recorder.matching("operation-end short status").len(), 1);
    assert_eq!(recorder.matching("operation-end long status").len(), 1);
    // The open branch context is reported again on each replay that reaches it open.
    assert_eq!(
        recorder
            .matching("operation-start long branch replay=true")
            .len(),
        2
    );
    assert_eq!(
        recorder.matching("invocation-start"),
        vec![
            "invocation-start first=true updated=",
            "invocation-start first=false updated=short",
            "invocation-start first=false updated=long",
        ]
    );
}

/// Fails or panics in every hook.
struct Faulty;

impl Plugin for Faulty {
    fn on_invocation_start(&self, _: &InvocationStartInfo) -> HookResult {
        panic!("faulty plugin")
    }
    fn on_invocation_end(&self, _: &InvocationEndInfo) -> HookResult {
        Err("faulty plugin".into())
    }
    fn on_operation_start(&self, _: &OperationInfo) -> HookResult {
        panic!("faulty plugin")
    }
    fn on_operation_end(&self, _: &OperationInfo) -> HookResult {
        Err("faulty plugin".into())
    }
    fn on_operation_change(&self, _: &OperationChangeInfo) -> HookResult {
        panic!("faulty plugin")
    }
    fn on_user_function_start(&self, _: &UserFunctionStartInfo) -> HookResult {
        panic!("faulty plugin")
    }
    fn on_user_function_end(&self, _: &UserFunctionEndInfo) -> HookResult {
        Err("faulty plugin".into())
    }
}

#[tokio::test]
async fn a_failing_plugin_changes_nothing_and_stops_no_other_plugin() {
    let plain = LocalRunner::new(flaky).run(()).await.unwrap();
    let recorder = Arc::new(Recorder::default());
    let observed = LocalRunner::new(flaky)
        .plugin(Faulty)
        .shared_plugin(recorder.clone())
        .run(())
        .await
        .unwrap();
    assert_eq!(observed.status(), plain.status());
    assert_eq!(observed.raw_result(), plain.raw_result());
    let events = |execution: &lambda_durable_testing::Execution| {
        execution
            .history()
            .iter()
            .map(|event| (event.event_type, event.name.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(events(&observed), events(&plain));
    // The healthy plugin after it saw everything.
    let healthy = Arc::new(Recorder::default());
    LocalRunner::new(flaky)
        .shared_plugin(healthy.clone())
        .run(())
        .await
        .unwrap();
    assert_eq!(recorder.lines(), healthy.lines());
}

/// A writer the test reads back.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn wait_then_context(_: (), ctx: DurableContext) -> Result<String, Error> {
    ctx.wait("pause", Duration::from_secs(2)).await?;
    ctx.run_in_child_context("wrap", |child| async move {
        child.step("after", |_| async { Ok::<_, Boom>(()) }).await
    })
    .await?;
    Ok("done".to_string())
}

fn no_nulls(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => false,
        serde_json::Value::Object(map) => map.values().all(no_nulls),
        serde_json::Value::Array(items) => items.iter().all(no_nulls),
        _ => true,
    }
}

#[tokio::test]
async fn the_json_log_plugin_writes_one_complete_record_per_hook() {
    use lambda_durable::plugin::JsonLogPlugin;
    use serde_json::{json, Value};

    let buffer = Buffer::default();
    let execution = LocalRunner::new(wait_then_context)
        .plugin(
            JsonLogPlugin::new()
                .named("audit")
                .with_writer(buffer.clone()),
        )
        .run(())
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let records: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert!(records.len() > 10, "{text}");
    for record in &records {
        assert_eq!(record["plugin"], "audit", "{record}");
        assert_eq!(record["durableExecutionArn"], execution.arn(), "{record}");
        assert!(no_nulls(record), "{record}");
    }
    let hook = |name: &str| -> Vec<&Value> {
        records
            .iter()
            .filter(|record| record["hook"] == name)
            .collect()
    };
    let starts = hook("invocation-start");
    assert_eq!(starts.len(), 2);
    assert_eq!(starts[0]["isFirstInvocation"], json!(true));
    assert_eq!(starts[1]["isFirstInvocation"], json!(false));
    assert_eq!(starts[1]["updatedOperationsCount"], json!(1));
    assert_eq!(starts[1]["operationsCount"], json!(1));
    assert!(starts[1]["executionStartTimestamp"]
        .as_str()
        .is_some_and(|ts| ts.ends_with('Z') && ts.contains('T')));
    let updated = hook("updated-on-invoke");
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0]["name"], "pause");
    assert_eq!(updated[0]["status"], "SUCCEEDED");
    assert_eq!(updated[0]["isFirstInvocation"], json!(false));
    let ends = hook("invocation-end");
    assert_eq!(ends[0]["status"], "PENDING");
    assert_eq!(ends[0]["terminal"], json!(false));
    assert_eq!(ends[1]["status"], "SUCCEEDED");
    assert_eq!(ends[1]["terminal"], json!(true));
    assert!(ends[1].get("executionError").is_none());
    let attempt_end = hook("attempt-end");
    assert_eq!(attempt_end.len(), 1);
    assert_eq!(attempt_end[0]["name"], "after");
    assert_eq!(attempt_end[0]["attempt"], json!(1));
    assert_eq!(attempt_end[0]["outcome"], "SUCCEEDED");
    assert_eq!(attempt_end[0]["type"], "STEP");
    assert!(attempt_end[0].get("error").is_none());
    let fn_start = hook("fn-start");
    assert_eq!(fn_start.len(), 1);
    assert_eq!(fn_start[0]["name"], "wrap");
    assert_eq!(fn_start[0]["isReplayingChildren"], json!(false));
    let step_end = hook("operation-end")
        .into_iter()
        .find(|record| record["name"] == "after")
        .unwrap();
    assert_eq!(
        step_end["parentId"],
        execution.operation("wrap").unwrap().id.as_str()
    );
    assert_eq!(step_end["result"], "null");
    assert_eq!(step_end["isReplay"], json!(false));
    for change in hook("operation-change") {
        assert_eq!(change["inFullMap"], json!(true), "{change}");
        assert_eq!(change["executionArn"], execution.arn());
    }
}

async fn virtual_context(_: (), ctx: DurableContext) -> Result<u32, Error> {
    ctx.run_in_virtual_context("virt", |child| async move {
        child.step("inside", |_| async { Ok::<_, Boom>(3) }).await
    })
    .await
}

#[tokio::test]
async fn a_virtual_context_is_reported_though_it_writes_no_checkpoint() {
    let recorder = Arc::new(Recorder::default());
    let execution = LocalRunner::new(virtual_context)
        .shared_plugin(recorder.clone())
        .run(())
        .await
        .unwrap();
    assert_eq!(execution.result::<u32>().unwrap(), 3);
    assert!(execution.operation("virt").is_none());
    assert_eq!(
        recorder.matching("operation-start virt"),
        vec!["operation-start virt replay=false status=STARTED attempt=None"]
    );
    assert_eq!(
        recorder.matching("fn-"),
        vec![
            "fn-start virt attempt=None replaying-children=false",
            "fn-start inside attempt=Some(1) replaying-children=false",
            "fn-end inside attempt=Some(1) outcome=SUCCEEDED",
            "fn-end virt attempt=None outcome=SUCCEEDED",
        ]
    );
    let ends = recorder.ends.lock().unwrap().clone();
    let virt = ends
        .iter()
        .find(|op| op.name.as_deref() == Some("virt"))
        .unwrap();
    assert_eq!(virt.status, OperationStatus::Succeeded);
    assert_eq!(virt.operation_type, OperationType::Context);
    assert_eq!(virt.sub_type.as_deref(), Some("RunInChildContext"));
    let inside = ends
        .iter()
        .find(|op| op.name.as_deref() == Some("inside"))
        .unwrap();
    // The step's parent is the virtual context's own parent (the root).
    assert_eq!(inside.parent_id, None);
}

#[test]
fn plugins_can_be_tested_with_infos_of_their_own() {
    use lambda_durable::plugin::{InvocationEndStatus, JsonLogPlugin};

    let buffer = Buffer::default();
    let plugin = JsonLogPlugin::new().with_writer(buffer.clone());
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/e/1";
    let mut step = OperationInfo::new("1", OperationType::Step, OperationStatus::Succeeded);
    step.name = Some("greet".into());
    step.attempt = Some(1);
    plugin
        .on_invocation_start(&InvocationStartInfo::new(arn))
        .unwrap();
    let change = OperationChangeInfo::new(arn, vec![step.clone()]);
    assert_eq!(change.operations().len(), 1);
    assert_eq!(change.operations()[0].name.as_deref(), Some("greet"));
    plugin.on_operation_change(&change).unwrap();
    plugin
        .on_user_function_end(&UserFunctionEndInfo::new(step.clone(), None))
        .unwrap();
    plugin
        .on_invocation_end(&InvocationEndInfo::new(arn, InvocationEndStatus::Succeeded))
        .unwrap();
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let hooks: Vec<String> = text
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["hook"].to_string())
        .collect();
    assert_eq!(
        hooks,
        vec![
            "\"invocation-start\"",
            "\"operation-change\"",
            "\"attempt-end\"",
            "\"invocation-end\""
        ]
    );
    assert!(text.lines().nth(1).unwrap().contains("\"inFullMap\":true"));
}

/// Simulation seed 18 (shrunk): a parallel completes on a failed branch while another
/// branch's wait is still running. The service ends that wait later, outside the state any
/// invocation receives: it gets no `operation-end`, and everything the SDK sees ends once.
async fn abandoned_wait(_: (), ctx: DurableContext) -> Result<(), Error> {
    let branches = vec![
        lambda_durable::branch("waits", |ctx| async move {
            ctx.wait("sim-n3", Duration::from_secs(1)).await
        }),
        lambda_durable::branch("fails", |_| async move { Err::<(), _>(Boom) }),
    ];
    ctx.parallel("sim-n2", branches)
        .completion(lambda_durable::CompletionConfig::all_successful())
        .await?;
    ctx.step("sim-n4", |step| async move {
        if step.attempt() == 1 {
            return Err(Boom);
        }
        Ok(())
    })
    .retry(presets::fixed(Duration::from_secs(1)))
    .await
}

#[tokio::test]
async fn a_wait_abandoned_in_a_finished_parallel_never_ends_and_nothing_ends_twice() {
    let recorder = Arc::new(Recorder::default());
    let execution = LocalRunner::new(abandoned_wait)
        .shared_plugin(recorder.clone())
        .run(())
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    let wait = execution.operation("sim-n3").unwrap();
    assert_eq!(wait.status, OperationStatus::Succeeded);
    let ends = recorder.ends.lock().unwrap().clone();
    assert!(
        !ends.iter().any(|op| op.id == wait.id.as_str()),
        "{ends:#?}"
    );
    for name in ["sim-n2", "sim-n4", "fails"] {
        let count = ends
            .iter()
            .filter(|op| op.name.as_deref() == Some(name))
            .count();
        assert_eq!(count, 1, "{name}: {ends:#?}");
    }
}

/// Simulation seed 370 (`SIM_FEATURES=realtime`), shrunk: a chained invoke that finished
/// while the execution was suspended, then steps whose retries fell due while the
/// invocation ran. The invocation after them was told nothing changed while it was
/// suspended (`UpdatedOperationIds: []`), read that as "not said", guessed from timestamps,
/// and reported the invoke ended a second time.
async fn invoke_beside_retried_steps(_: (), ctx: DurableContext) -> Result<(), Error> {
    use std::future::{Future, IntoFuture};
    use std::pin::Pin;
    type Operand<'a> = Pin<Box<dyn Future<Output = Result<serde_json::Value, Error>> + Send + 'a>>;
    fn flaky<'a>(ctx: &'a DurableContext, name: &'static str, millis: u64) -> Operand<'a> {
        Box::pin(async move {
            ctx.step(name, move |step| async move {
                tokio::time::sleep(Duration::from_millis(millis)).await;
                if step.attempt() <= 2 {
                    return Err(std::io::Error::other("not yet"));
                }
                Ok(serde_json::json!(step.attempt()))
            })
            .retry(presets::fixed(Duration::from_secs(1)).max_attempts(3))
            .await
        })
    }
    let ctx = &ctx;
    let invoke: Operand<'_> = Box::pin(
        ctx.invoke::<serde_json::Value>("invoke", "plain", serde_json::json!({}))
            .into_future(),
    );
    let steps: Operand<'_> = Box::pin(async {
        ctx.run_in_child_context("steps", |child| async move {
            let operands = vec![flaky(&child, "a", 1500), flaky(&child, "b", 1750)];
            Ok::<_, Error>(serde_json::Value::Array(child.all("both", operands).await?))
        })
        .await
    });
    ctx.all("all", vec![invoke, steps]).await?;
    Ok(())
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_empty_list_of_updated_operations_reports_nothing_ended_again() {
    async fn plain(_: serde_json::Value) -> Result<serde_json::Value, std::io::Error> {
        Ok(serde_json::json!(1))
    }
    let recorder = Arc::new(Recorder::default());
    let execution = LocalRunner::new(invoke_beside_retried_steps)
        .register_plain("plain", plain)
        .real_time(true)
        .shared_plugin(recorder.clone())
        .run(())
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    // The shape that matters: an invocation started with an empty list after the invoke
    // was reported.
    assert!(execution.invocations() >= 4, "{}", execution.timeline());
    let ends = recorder.ends.lock().unwrap().clone();
    for name in ["invoke", "a", "b", "steps"] {
        let count = ends
            .iter()
            .filter(|op| op.name.as_deref() == Some(name))
            .count();
        assert_eq!(count, 1, "{name}: {ends:#?}\n{}", execution.timeline());
    }
}
