//! The spans of both views, scenario by scenario, on the local runner.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use lambda_durable::wire::{ExecutionStatus, Operation, OperationStatus};
use lambda_durable_otel::attributes::*;
use lambda_durable_otel::{derived_trace_id, operation_span_id, workflow_span_id};
use lambda_durable_testing::{CallbackResponse, Execution, LocalRunner};
use opentelemetry::trace::{SpanId, Status};
use opentelemetry_sdk::trace::SpanData;

use support::scenarios::*;
use support::*;

/// The start of the execution (its first history event).
fn execution_start(execution: &Execution) -> std::time::SystemTime {
    time(execution.history()[0].event_timestamp.as_ref().unwrap())
}

fn id(span: &SpanData) -> SpanId {
    span.span_context.span_id()
}

fn is_error(span: &SpanData) -> bool {
    matches!(span.status, Status::Error { .. })
}

/// The spans of operations with this type and sub type.
fn of_kind<'a>(spans: &'a Spans, ty: &str, sub_type: &str) -> Vec<&'a SpanData> {
    spans
        .0
        .iter()
        .filter(|span| {
            text(span, OPERATION_TYPE).as_deref() == Some(ty)
                && text(span, OPERATION_SUBTYPE).as_deref() == Some(sub_type)
                && text(span, OPERATION_STATUS).is_some()
        })
        .collect()
}

/// Checks an execution-view operation span against the recorded operation: its id, parent
/// and checkpoint times.
fn check_recorded(arn: &str, span: &SpanData, op: &Operation, parent: &SpanData) {
    assert_eq!(text(span, OPERATION_ID).as_deref(), Some(op.id.as_str()));
    assert_eq!(
        id(span),
        operation_span_id(arn, op.id.as_str()),
        "{}",
        span.name
    );
    assert_eq!(span.parent_span_id, id(parent), "{}", span.name);
    assert_eq!(span.start_time, time(op.start_timestamp.as_ref().unwrap()));
    assert_eq!(span.end_time, time(op.end_timestamp.as_ref().unwrap()));
}

#[tokio::test]
async fn one_step_in_the_invocation_view() {
    let (execution, spans) = run(View::Invocation, LocalRunner::new(success)).await;
    let arn = execution.arn();
    assert_eq!(spans.0.len(), 4, "{}", spans.tree());
    let workflow = spans.one("Workflow");
    let invocation = spans.one("Invocation");
    let step = spans.one("otel-success");
    let attempt = spans.one("otel-success attempt 1");
    assert_eq!(invocation.parent_span_id, SpanId::INVALID);
    assert_eq!(step.parent_span_id, id(invocation));
    assert_eq!(attempt.parent_span_id, id(step));

    assert_eq!(
        text(workflow, EXECUTION_STATUS).as_deref(),
        Some("SUCCEEDED")
    );
    assert_eq!(workflow.status, Status::Ok);
    assert_eq!(boolean(invocation, INVOCATION_FIRST), Some(true));
    assert_eq!(
        text(invocation, INVOCATION_STATUS).as_deref(),
        Some("SUCCEEDED")
    );
    assert_eq!(invocation.status, Status::Ok);
    let recorded = execution.operation("otel-success").unwrap();
    assert_eq!(
        text(step, OPERATION_ID).as_deref(),
        Some(recorded.id.as_str())
    );
    assert_eq!(text(step, OPERATION_TYPE).as_deref(), Some("STEP"));
    assert_eq!(text(step, OPERATION_SUBTYPE).as_deref(), Some("Step"));
    assert_eq!(text(step, OPERATION_NAME).as_deref(), Some("otel-success"));
    assert_eq!(text(step, OPERATION_STATUS).as_deref(), Some("SUCCEEDED"));
    assert_eq!(int(step, ATTEMPT_NUMBER), Some(1));
    assert_eq!(step.status, Status::Ok);
    assert_eq!(int(attempt, ATTEMPT_NUMBER), Some(1));
    assert_eq!(text(attempt, ATTEMPT_OUTCOME).as_deref(), Some("SUCCEEDED"));
    assert_eq!(attempt.status, Status::Ok);

    // Deterministic ids: the trace from the execution's start and ARN, the Workflow span
    // from the ARN; the Workflow span starts with the execution.
    let start = execution_start(&execution);
    let trace = derived_trace_id(arn, start);
    assert!(spans
        .0
        .iter()
        .all(|span| span.span_context.trace_id() == trace));
    assert_eq!(id(workflow), workflow_span_id(arn));
    assert_eq!(workflow.start_time, start);
    assert!(inside(attempt, step) && inside(step, invocation) && inside(invocation, workflow));
    let scope = &step.instrumentation_scope;
    assert_eq!(scope.name(), lambda_durable_otel::DEFAULT_INSTRUMENT_NAME);
}

#[tokio::test]
async fn one_step_in_the_execution_view() {
    let (execution, spans) = run(View::Execution, LocalRunner::new(success)).await;
    let arn = execution.arn();
    assert_eq!(spans.0.len(), 4, "{}", spans.tree());
    let workflow = spans.one("Workflow");
    let invocation = spans.one("Invocation");
    let step = spans.one("otel-success");
    let attempt = spans.one("otel-success attempt 1");
    assert_eq!(id(workflow), workflow_span_id(arn));
    assert_eq!(invocation.parent_span_id, id(workflow));
    check_recorded(
        arn,
        step,
        execution.operation("otel-success").unwrap(),
        workflow,
    );
    assert_eq!(text(step, OPERATION_STATUS).as_deref(), Some("SUCCEEDED"));
    assert_eq!(int(step, ATTEMPT_NUMBER), Some(1));
    assert_eq!(attempt.parent_span_id, id(step));
    assert_eq!(id(spans.linked(step)), id(invocation));
    assert_eq!(id(spans.linked(attempt)), id(invocation));
    assert!(inside(attempt, invocation));
    let trace = derived_trace_id(arn, execution_start(&execution));
    assert!(spans
        .0
        .iter()
        .all(|span| span.span_context.trace_id() == trace));
}

#[tokio::test]
async fn a_wait_spans_two_invocations() {
    let (execution, spans) = run(View::Invocation, LocalRunner::new(wait_resume)).await;
    let arn = execution.arn();
    let invocations = spans.invocations(arn);
    assert_eq!(invocations.len(), 2, "{}", spans.tree());
    assert_eq!(
        text(invocations[0], INVOCATION_STATUS).as_deref(),
        Some("PENDING")
    );
    assert_eq!(boolean(invocations[0], INVOCATION_FIRST), Some(true));
    assert_eq!(
        text(invocations[1], INVOCATION_STATUS).as_deref(),
        Some("SUCCEEDED")
    );
    assert_eq!(boolean(invocations[1], INVOCATION_FIRST), Some(false));
    let started = spans.one_with_status("otel-wait", "STARTED");
    let finished = spans.one_with_status("otel-wait", "SUCCEEDED");
    assert_eq!(started.status, Status::Unset);
    assert_eq!(finished.status, Status::Ok);
    assert_eq!(started.parent_span_id, id(invocations[0]));
    assert_eq!(finished.parent_span_id, id(invocations[1]));
    assert_eq!(text(started, OPERATION_TYPE).as_deref(), Some("WAIT"));
    assert_eq!(text(started, OPERATION_SUBTYPE).as_deref(), Some("Wait"));
    assert!(before(started, finished));
    let step = spans.one("otel-after-resume");
    assert_eq!(step.parent_span_id, id(invocations[1]));
    assert!(before(finished, step));
    assert!(inside(spans.one("otel-after-resume attempt 1"), step));
    // One trace for the whole execution, one Workflow span exported at its end.
    let trace = spans.one("Workflow").span_context.trace_id();
    assert!(spans
        .0
        .iter()
        .all(|span| span.span_context.trace_id() == trace));
    assert!(spans.0.len() >= 7);

    let (execution, spans) = run(View::Execution, LocalRunner::new(wait_resume)).await;
    let arn = execution.arn();
    let workflow = spans.one("Workflow");
    let invocations = spans.invocations(arn);
    assert_eq!(invocations.len(), 2);
    let wait = spans.one("otel-wait");
    check_recorded(
        arn,
        wait,
        execution.operation("otel-wait").unwrap(),
        workflow,
    );
    assert_eq!(id(spans.linked(wait)), id(invocations[1]));
    let step = spans.one("otel-after-resume");
    assert_eq!(id(spans.linked(step)), id(invocations[1]));
    assert!(before(wait, step));
    assert!(inside(
        spans.one("otel-after-resume attempt 1"),
        invocations[1]
    ));
}

#[tokio::test]
async fn a_retried_step_has_an_attempt_span_per_attempt() {
    let (execution, spans) = run(View::Invocation, LocalRunner::new(retry)).await;
    assert_eq!(execution.result::<u32>().unwrap(), 2);
    let invocations = spans.invocations(execution.arn());
    assert_eq!(invocations.len(), 2);
    let started = spans.one_with_status("otel-retry", "STARTED");
    let finished = spans.one_with_status("otel-retry", "SUCCEEDED");
    assert_eq!(started.status, Status::Unset);
    assert_eq!(attribute(started, ATTEMPT_NUMBER), None);
    assert_eq!(int(finished, ATTEMPT_NUMBER), Some(2));
    let first = spans.one("otel-retry attempt 1");
    let second = spans.one("otel-retry attempt 2");
    assert_eq!(first.parent_span_id, id(started));
    assert_eq!(second.parent_span_id, id(finished));
    assert_eq!(text(first, ATTEMPT_OUTCOME).as_deref(), Some("FAILED"));
    assert!(is_error(first));
    assert_eq!(text(second, ATTEMPT_OUTCOME).as_deref(), Some("SUCCEEDED"));
    assert!(before(first, second));
    assert_eq!(started.parent_span_id, id(invocations[0]));
    assert_eq!(finished.parent_span_id, id(invocations[1]));

    let (execution, spans) = run(View::Execution, LocalRunner::new(retry)).await;
    let arn = execution.arn();
    let invocations = spans.invocations(arn);
    let step = spans.one("otel-retry");
    check_recorded(
        arn,
        step,
        execution.operation("otel-retry").unwrap(),
        spans.one("Workflow"),
    );
    assert_eq!(int(step, ATTEMPT_NUMBER), Some(2));
    assert_eq!(id(spans.linked(step)), id(invocations[1]));
    let first = spans.one("otel-retry attempt 1");
    let second = spans.one("otel-retry attempt 2");
    for (attempt, invocation) in [(first, invocations[0]), (second, invocations[1])] {
        assert_eq!(attempt.parent_span_id, id(step));
        assert_eq!(id(spans.linked(attempt)), id(invocation));
        assert!(inside(attempt, invocation));
    }
    assert!(is_error(first) && second.status == Status::Ok);
}

#[tokio::test]
async fn a_failed_step_fails_the_workflow() {
    for view in [View::Invocation, View::Execution] {
        let (execution, spans) = run(view, LocalRunner::new(terminal_failure)).await;
        assert_eq!(execution.status(), ExecutionStatus::Failed);
        let workflow = spans.one("Workflow");
        let invocation = spans.one("Invocation");
        assert!(is_error(workflow) && is_error(invocation));
        assert_eq!(text(workflow, EXECUTION_STATUS).as_deref(), Some("FAILED"));
        assert_eq!(
            text(invocation, INVOCATION_STATUS).as_deref(),
            Some("FAILED")
        );
        let step = spans.one_with_status("otel-terminal-failure", "FAILED");
        assert!(is_error(step));
        assert_eq!(int(step, ATTEMPT_NUMBER), Some(1));
        match &step.status {
            Status::Error { description } => assert!(description.contains("boom"), "{description}"),
            other => panic!("{other:?}"),
        }
        let attempt = spans.one("otel-terminal-failure attempt 1");
        assert_eq!(text(attempt, ATTEMPT_OUTCOME).as_deref(), Some("FAILED"));
        assert_eq!(attempt.parent_span_id, id(step));
        let parent = if view == View::Invocation {
            invocation
        } else {
            workflow
        };
        assert_eq!(step.parent_span_id, id(parent));
    }
}

#[tokio::test]
async fn a_caught_failure_keeps_the_workflow_ok() {
    for view in [View::Invocation, View::Execution] {
        let (_, spans) = run(view, LocalRunner::new(handled_failure)).await;
        assert_eq!(spans.one("Workflow").status, Status::Ok);
        let failed = spans.one_with_status("otel-handled-failure", "FAILED");
        let attempt = spans.one("otel-handled-failure attempt 1");
        let recovery = spans.one_with_status("otel-recovery-step", "SUCCEEDED");
        assert!(is_error(failed) && is_error(attempt));
        assert!(before(failed, recovery));
        if view == View::Invocation {
            // (The execution view times operations by their checkpoints, attempts as they
            // run: on the local runner, a virtual clock and the real one.)
            assert!(before(attempt, recovery));
        }
    }
}

#[tokio::test]
async fn a_child_context_holds_its_operations() {
    for view in [View::Invocation, View::Execution] {
        let (execution, spans) = run(view, LocalRunner::new(child_context)).await;
        let context = spans.one("otel-child-context");
        assert_eq!(text(context, OPERATION_TYPE).as_deref(), Some("CONTEXT"));
        assert_eq!(
            text(context, OPERATION_SUBTYPE).as_deref(),
            Some("RunInChildContext")
        );
        assert_eq!(
            text(context, OPERATION_STATUS).as_deref(),
            Some("SUCCEEDED")
        );
        let step = spans.one("otel-child-step");
        let attempt = spans.one("otel-child-step attempt 1");
        assert_eq!(step.parent_span_id, id(context));
        assert_eq!(attempt.parent_span_id, id(step));
        let root = match view {
            View::Invocation => spans.one("Invocation"),
            View::Execution => {
                let workflow = spans.one("Workflow");
                let arn = execution.arn();
                check_recorded(
                    arn,
                    context,
                    execution.operation("otel-child-context").unwrap(),
                    workflow,
                );
                check_recorded(
                    arn,
                    step,
                    execution.operation("otel-child-step").unwrap(),
                    context,
                );
                for span in [context, step, attempt] {
                    assert_eq!(spans.linked(span).name, "Invocation");
                }
                workflow
            }
        };
        assert_eq!(context.parent_span_id, id(root));
    }
}

/// The tree of a map or a parallel: the batch span under the root, its items under it, a
/// step with an attempt under each item.
fn check_batch(
    spans: &Spans,
    root: &SpanData,
    (name, sub_type): (&str, &str),
    items: &[(&str, &str)],
    item_sub_type: &str,
) {
    let batch = spans.one(name);
    assert_eq!(text(batch, OPERATION_SUBTYPE).as_deref(), Some(sub_type));
    assert_eq!(batch.parent_span_id, id(root));
    assert_eq!(of_kind(spans, "CONTEXT", item_sub_type).len(), items.len());
    for (item, step) in items {
        let item = spans.one(item);
        assert_eq!(
            text(item, OPERATION_SUBTYPE).as_deref(),
            Some(item_sub_type)
        );
        assert_eq!(item.parent_span_id, id(batch), "{}", spans.tree());
        let step_span = spans.one(step);
        assert_eq!(step_span.parent_span_id, id(item));
        assert_eq!(
            spans.one(&format!("{step} attempt 1")).parent_span_id,
            id(step_span)
        );
    }
}

#[tokio::test]
async fn parallel_branches_and_map_iterations_nest() {
    for view in [View::Invocation, View::Execution] {
        let (_, spans) = run(view, LocalRunner::new(parallel)).await;
        let root = match view {
            View::Invocation => spans.one("Invocation"),
            View::Execution => spans.one("Workflow"),
        };
        check_batch(
            &spans,
            root,
            ("otel-parallel", "Parallel"),
            &[
                ("otel-parallel-branch-a", "otel-parallel-step-a"),
                ("otel-parallel-branch-b", "otel-parallel-step-b"),
            ],
            "ParallelBranch",
        );
        assert!(spans.0.len() >= 9);

        let (_, spans) = run(view, LocalRunner::new(map)).await;
        let root = match view {
            View::Invocation => spans.one("Invocation"),
            View::Execution => spans.one("Workflow"),
        };
        check_batch(
            &spans,
            root,
            ("otel-map", "Map"),
            &[
                ("otel-map-iteration-0", "otel-map-step-0"),
                ("otel-map-iteration-1", "otel-map-step-1"),
            ],
            "MapIteration",
        );
    }
}

#[tokio::test]
async fn failed_contexts_branches_and_iterations_are_errors() {
    for view in [View::Invocation, View::Execution] {
        let (_, spans) = run(view, LocalRunner::new(failed_child_context)).await;
        let context = spans.one_with_status("otel-failed-child-context", "FAILED");
        assert!(is_error(context));
        assert!(is_error(spans.one("Workflow")) && is_error(spans.one("Invocation")));

        for (handler, batch, item) in [
            (
                LocalRunner::new(failed_parallel),
                "otel-failed-parallel",
                "otel-failed-parallel-branch",
            ),
            (
                LocalRunner::new(failed_map),
                "otel-failed-map",
                "otel-failed-map-iteration-0",
            ),
        ] {
            let (execution, spans) = run(view, handler).await;
            assert_eq!(execution.status(), ExecutionStatus::Failed);
            let batch_op = execution.operation(batch).unwrap();
            let batch = spans.one(batch);
            // The batch itself finished (its history says so); the item failed.
            assert_eq!(batch_op.status, OperationStatus::Succeeded);
            assert_eq!(batch.status, Status::Ok);
            let item = spans.one_with_status(item, "FAILED");
            assert!(is_error(item));
            assert_eq!(item.parent_span_id, id(batch));
            let workflow = spans.one("Workflow");
            assert_eq!(text(workflow, EXECUTION_STATUS).as_deref(), Some("FAILED"));
            assert!(is_error(workflow) && is_error(spans.one("Invocation")));
        }
    }
}

#[tokio::test]
async fn a_handler_error_fails_the_workflow_and_the_invocation() {
    for view in [View::Invocation, View::Execution] {
        let (execution, spans) = run(view, LocalRunner::new(execution_failure)).await;
        assert_eq!(execution.status(), ExecutionStatus::Failed);
        assert_eq!(spans.0.len(), 2, "{}", spans.tree());
        let workflow = spans.one("Workflow");
        let invocation = spans.one("Invocation");
        assert!(is_error(workflow) && is_error(invocation));
        assert_eq!(
            text(invocation, INVOCATION_STATUS).as_deref(),
            Some("FAILED")
        );
        assert_eq!(text(workflow, EXECUTION_STATUS).as_deref(), Some("FAILED"));
    }
}

#[tokio::test]
async fn wait_for_condition_checks_are_attempts() {
    let (execution, spans) = run(View::Invocation, LocalRunner::new(wait_for_condition)).await;
    assert_eq!(execution.result::<u32>().unwrap(), 2);
    let invocations = spans.invocations(execution.arn());
    assert_eq!(invocations.len(), 2, "{}", spans.tree());
    let started = spans.one_with_status("otel-condition", "STARTED");
    let finished = spans.one_with_status("otel-condition", "SUCCEEDED");
    assert_eq!(
        text(finished, OPERATION_SUBTYPE).as_deref(),
        Some("WaitForCondition")
    );
    assert_eq!(int(finished, ATTEMPT_NUMBER), Some(2));
    let first = spans.one("otel-condition attempt 1");
    let second = spans.one("otel-condition attempt 2");
    // A check that returns is a succeeded attempt, even when polling goes on.
    assert_eq!(text(first, ATTEMPT_OUTCOME).as_deref(), Some("SUCCEEDED"));
    assert_eq!(first.parent_span_id, id(started));
    assert_eq!(second.parent_span_id, id(finished));
    assert!(before(first, second));

    let (execution, spans) = run(View::Execution, LocalRunner::new(wait_for_condition)).await;
    let invocations = spans.invocations(execution.arn());
    let condition = spans.one("otel-condition");
    assert_eq!(id(spans.linked(condition)), id(invocations[1]));
    let first = spans.one("otel-condition attempt 1");
    let second = spans.one("otel-condition attempt 2");
    assert_eq!(id(spans.linked(first)), id(invocations[0]));
    assert_eq!(id(spans.linked(second)), id(invocations[1]));
    assert!(first.status == Status::Ok && second.status == Status::Ok);
    assert!(before(first, second));

    for view in [View::Invocation, View::Execution] {
        let (_, spans) = run(view, LocalRunner::new(wait_for_condition_failure)).await;
        let condition = spans.one_with_status("otel-failed-condition", "FAILED");
        assert_eq!(int(condition, ATTEMPT_NUMBER), Some(1));
        let attempt = spans.one("otel-failed-condition attempt 1");
        assert!(is_error(condition) && is_error(attempt));
        assert!(is_error(spans.one("Workflow")));
    }
}

#[tokio::test]
async fn wait_for_callback_completed_by_a_responder() {
    // Answered a second after its id is out: after the first invocation suspended (an
    // answer while the submitter runs would resume the callback in place, in one
    // invocation).
    let runner = || {
        LocalRunner::new(wait_for_callback).on_callback(
            "otel-callback",
            CallbackResponse::success("\"done\"").after(Duration::from_secs(1)),
        )
    };
    let (execution, spans) = run(View::Invocation, runner()).await;
    assert_eq!(execution.result::<String>().unwrap(), "done");
    let invocations = spans.invocations(execution.arn());
    assert_eq!(invocations.len(), 2, "{}", spans.tree());
    let context_started = spans.one_with_status("otel-callback", "STARTED");
    let context_finished = spans.one_with_status("otel-callback", "SUCCEEDED");
    assert_eq!(
        text(context_started, OPERATION_TYPE).as_deref(),
        Some("CONTEXT")
    );
    assert_eq!(
        text(context_started, OPERATION_SUBTYPE).as_deref(),
        Some("WaitForCallback")
    );
    assert_eq!(context_started.status, Status::Unset);
    assert_eq!(context_started.parent_span_id, id(invocations[0]));
    assert_eq!(context_finished.parent_span_id, id(invocations[1]));
    let callbacks = of_kind(&spans, "CALLBACK", "Callback");
    assert_eq!(callbacks.len(), 2, "{}", spans.tree());
    let (callback_started, callback_finished) = (callbacks[0], callbacks[1]);
    assert_eq!(
        text(callback_started, OPERATION_STATUS).as_deref(),
        Some("STARTED")
    );
    assert_eq!(
        text(callback_finished, OPERATION_STATUS).as_deref(),
        Some("SUCCEEDED")
    );
    assert_eq!(callback_started.parent_span_id, id(context_started));
    assert_eq!(callback_finished.parent_span_id, id(context_finished));
    assert!(inside(callback_finished, context_finished));
    let submitters = of_kind(&spans, "STEP", "Step");
    assert_eq!(submitters.len(), 1, "{}", spans.tree());
    assert_eq!(submitters[0].parent_span_id, id(context_started));
    let attempt = spans.one(&format!("{} attempt 1", submitters[0].name));
    assert_eq!(attempt.parent_span_id, id(submitters[0]));

    let (execution, spans) = run(View::Execution, runner()).await;
    let invocations = spans.invocations(execution.arn());
    let context = spans.one("otel-callback");
    assert_eq!(context.parent_span_id, id(spans.one("Workflow")));
    assert_eq!(id(spans.linked(context)), id(invocations[1]));
    let callback = of_kind(&spans, "CALLBACK", "Callback");
    assert_eq!(callback.len(), 1);
    assert_eq!(callback[0].parent_span_id, id(context));
    assert_eq!(id(spans.linked(callback[0])), id(invocations[1]));
    let submitter = of_kind(&spans, "STEP", "Step");
    assert_eq!(submitter[0].parent_span_id, id(context));
    assert_eq!(id(spans.linked(submitter[0])), id(invocations[0]));
    let attempt = spans.one(&format!("{} attempt 1", submitter[0].name));
    assert!(inside(attempt, invocations[0]));
}

#[tokio::test]
async fn wait_for_callback_completed_or_failed_by_the_test() {
    for view in [View::Invocation, View::Execution] {
        let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
        let runner = LocalRunner::new(wait_for_callback).shared_plugin(plugin(view, &exporter));
        let mut running = runner.start(()).unwrap();
        assert_eq!(
            running.run_until_suspended().await.unwrap(),
            ExecutionStatus::Running
        );
        // The first invocation is exported already: flushed when it ended.
        let spans = Spans::from(&exporter);
        let invocation = spans.one("Invocation");
        assert_eq!(
            text(invocation, INVOCATION_STATUS).as_deref(),
            Some("PENDING")
        );
        assert!(spans.named("Workflow").is_empty());
        let callback = running.pending_callbacks().remove(0);
        running
            .send_callback_success(callback.id(), "\"late\"")
            .unwrap();
        let execution = running.run().await.unwrap();
        assert_eq!(execution.result::<String>().unwrap(), "late");
        let spans = Spans::from(&exporter);
        spans.check(view);
        assert_eq!(spans.invocations(execution.arn()).len(), 2);
        assert_eq!(spans.one("Workflow").status, Status::Ok);
    }

    for view in [View::Invocation, View::Execution] {
        let runner = LocalRunner::new(wait_for_callback).on_callback(
            "otel-callback",
            CallbackResponse::failure("RejectedError", "rejected"),
        );
        let (execution, spans) = run(view, runner).await;
        assert_eq!(execution.status(), ExecutionStatus::Failed);
        let context = spans.one_with_status("otel-callback", "FAILED");
        let callback = of_kind(&spans, "CALLBACK", "Callback")
            .into_iter()
            .find(|span| text(span, OPERATION_STATUS).as_deref() == Some("FAILED"))
            .unwrap();
        assert!(is_error(context) && is_error(callback));
        assert_eq!(callback.parent_span_id, id(context));
        assert!(is_error(spans.one("Workflow")));
        let submitter = of_kind(&spans, "STEP", "Step");
        assert_eq!(
            text(submitter[0], OPERATION_STATUS).as_deref(),
            Some("SUCCEEDED")
        );
    }
}

#[tokio::test]
async fn a_chained_invoke_has_two_workflows() {
    for view in [View::Invocation, View::Execution] {
        let runner = LocalRunner::new(chained_invoke).register("otel-target", target);
        let (execution, spans) = run(view, runner).await;
        assert_eq!(
            execution.result::<serde_json::Value>().unwrap(),
            serde_json::json!({"n": 1})
        );
        let caller = execution.arn();
        let target = execution.children()[0].arn();
        assert_ne!(caller, target);
        let workflows = spans.named("Workflow");
        assert_eq!(workflows.len(), 2, "{}", spans.tree());
        let arns: Vec<String> = workflows
            .iter()
            .map(|w| text(w, EXECUTION_ARN).unwrap())
            .collect();
        assert!(arns.contains(&caller.to_string()) && arns.contains(&target.to_string()));
        for workflow in &workflows {
            assert_eq!(workflow.parent_span_id, SpanId::INVALID);
            assert_eq!(workflow.status, Status::Ok);
        }
        // Caller PENDING, target, caller SUCCEEDED.
        let order: Vec<(String, String)> = spans
            .named("Invocation")
            .iter()
            .map(|span| {
                (
                    text(span, EXECUTION_ARN).unwrap(),
                    text(span, INVOCATION_STATUS).unwrap(),
                )
            })
            .collect();
        assert_eq!(
            order,
            vec![
                (caller.to_string(), "PENDING".to_string()),
                (target.to_string(), "SUCCEEDED".to_string()),
                (caller.to_string(), "SUCCEEDED".to_string()),
            ]
        );
        // The target's spans carry the target's ARN, and its own trace.
        let step = spans.one("otel-target-step");
        assert_eq!(text(step, EXECUTION_ARN).as_deref(), Some(target));
        let target_trace = workflows
            .iter()
            .find(|w| text(w, EXECUTION_ARN).as_deref() == Some(target))
            .unwrap()
            .span_context
            .trace_id();
        assert_eq!(step.span_context.trace_id(), target_trace);
        let invoke = match view {
            View::Invocation => {
                let started = spans.one_with_status("otel-invoke", "STARTED");
                assert_eq!(started.status, Status::Unset);
                spans.one_with_status("otel-invoke", "SUCCEEDED")
            }
            View::Execution => {
                let invoke = spans.one("otel-invoke");
                let caller_invocations = spans.invocations(caller);
                assert_eq!(id(spans.linked(invoke)), id(caller_invocations[1]));
                invoke
            }
        };
        assert_eq!(
            text(invoke, OPERATION_TYPE).as_deref(),
            Some("CHAINED_INVOKE")
        );
        assert_eq!(
            text(invoke, OPERATION_SUBTYPE).as_deref(),
            Some("ChainedInvoke")
        );
        assert_eq!(text(invoke, EXECUTION_ARN).as_deref(), Some(caller));
    }

    for view in [View::Invocation, View::Execution] {
        let runner =
            LocalRunner::new(failed_chained_invoke).register("otel-failing-target", failing_target);
        let (execution, spans) = run(view, runner).await;
        assert_eq!(execution.status(), ExecutionStatus::Failed);
        let workflows = spans.named("Workflow");
        assert_eq!(workflows.len(), 2);
        assert!(workflows.iter().all(|w| is_error(w)));
        let invoke = spans.one_with_status("otel-failed-invoke", "FAILED");
        assert!(is_error(invoke));
    }
}

#[tokio::test]
async fn an_execution_that_times_out_exports_no_workflow() {
    let runner = || LocalRunner::new(interrupted_wait).execution_timeout(Duration::from_secs(15));
    let (execution, spans) = run(View::Invocation, runner()).await;
    assert_eq!(execution.status(), ExecutionStatus::TimedOut);
    assert!(spans.named("Workflow").is_empty(), "{}", spans.tree());
    let invocation = spans.one("Invocation");
    assert_eq!(
        text(invocation, INVOCATION_STATUS).as_deref(),
        Some("PENDING")
    );
    let wait = spans.one_with_status("otel-interrupted-wait", "STARTED");
    assert_eq!(wait.parent_span_id, id(invocation));
    assert_eq!(spans.0.len(), 2);

    let (_, spans) = run(View::Execution, runner()).await;
    assert_eq!(spans.0.len(), 1, "{}", spans.tree());
    assert_eq!(
        text(spans.one("Invocation"), INVOCATION_STATUS).as_deref(),
        Some("PENDING")
    );
}

#[tokio::test]
async fn a_virtual_context_is_a_span_though_it_writes_no_checkpoint() {
    for view in [View::Invocation, View::Execution] {
        let (execution, spans) = run(view, LocalRunner::new(virtual_context)).await;
        assert_eq!(execution.result::<String>().unwrap(), "virtual-complete");
        assert!(execution.operation("otel-virtual-context").is_none());
        let context = spans.one("otel-virtual-context");
        assert_eq!(text(context, OPERATION_TYPE).as_deref(), Some("CONTEXT"));
        assert_eq!(
            text(context, OPERATION_SUBTYPE).as_deref(),
            Some("RunInChildContext")
        );
        assert_eq!(context.status, Status::Ok);
        let root = match view {
            View::Invocation => spans.one("Invocation"),
            View::Execution => {
                assert_eq!(id(spans.linked(context)), id(spans.one("Invocation")));
                spans.one("Workflow")
            }
        };
        assert_eq!(context.parent_span_id, id(root));
    }

    // Its body runs again in the invocation after the wait: one span per run, each with
    // an id of its own; the step inside it (recorded) is exported once.
    for view in [View::Invocation, View::Execution] {
        let (execution, spans) = run(view, LocalRunner::new(virtual_context_then_wait)).await;
        assert_eq!(execution.invocations(), 2);
        let runs = spans.named("otel-virtual-context");
        assert_eq!(runs.len(), 2, "{}", spans.tree());
        assert_ne!(id(runs[0]), id(runs[1]));
        let step = spans.one("otel-virtual-step");
        if view == View::Execution {
            let recorded = execution.operation("otel-virtual-step").unwrap();
            assert_eq!(
                id(step),
                operation_span_id(execution.arn(), recorded.id.as_str())
            );
        }
    }
}

#[tokio::test]
async fn the_plugins_change_nothing_in_the_execution() {
    let events = |execution: &Execution| {
        execution
            .history()
            .iter()
            .map(|event| (event.event_type, event.name.clone()))
            .collect::<Vec<_>>()
    };
    let runner = || {
        LocalRunner::new(wait_for_callback)
            .on_callback("otel-callback", CallbackResponse::success("\"done\""))
    };
    let plain = runner().run(()).await.unwrap();
    let invocation = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let execution = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let plugins = [
        plugin(View::Invocation, &invocation),
        plugin(View::Execution, &execution),
    ];
    let observed = runner()
        .shared_plugin(plugins[0].clone())
        .shared_plugin(plugins[1].clone())
        .run(())
        .await
        .unwrap();
    assert_eq!(observed.status(), plain.status());
    assert_eq!(observed.raw_result(), plain.raw_result());
    assert_eq!(events(&observed), events(&plain));
    assert_eq!(observed.invocations(), plain.invocations());
    // Both views side by side, on providers of their own.
    Spans::from(&invocation).check(View::Invocation);
    Spans::from(&execution).check(View::Execution);
}

#[tokio::test(start_paused = true)]
async fn an_invocation_that_runs_out_of_time_ends_for_a_retry() {
    for view in [View::Invocation, View::Execution] {
        let runner = LocalRunner::new(success).fault(lambda_testing_fault::deadline());
        let (execution, spans) = run(view, runner).await;
        assert_eq!(execution.status(), ExecutionStatus::Succeeded);
        let invocations = spans.invocations(execution.arn());
        let statuses: Vec<String> = invocations
            .iter()
            .map(|span| text(span, INVOCATION_STATUS).unwrap())
            .collect();
        assert_eq!(statuses, ["RETRY", "SUCCEEDED"], "{}", spans.tree());
        assert_eq!(invocations[0].status, Status::Unset);
        assert_eq!(spans.named("Workflow").len(), 1);
    }
}

#[tokio::test]
async fn an_invocation_that_crashes_is_ended_by_the_next_one() {
    for view in [View::Invocation, View::Execution] {
        let runner = LocalRunner::new(success).fault(lambda_testing_fault::crash());
        let (execution, spans) = run(view, runner).await;
        assert_eq!(execution.status(), ExecutionStatus::Succeeded);
        let invocations = spans.invocations(execution.arn());
        let statuses: Vec<String> = invocations
            .iter()
            .map(|span| text(span, INVOCATION_STATUS).unwrap())
            .collect();
        assert_eq!(statuses, ["RETRY", "SUCCEEDED"], "{}", spans.tree());
        assert_eq!(spans.named("Workflow").len(), 1);
    }
}

mod lambda_testing_fault {
    use lambda_durable_testing::Fault;

    pub(crate) fn deadline() -> Fault {
        Fault::deadline().at_call(1)
    }

    pub(crate) fn crash() -> Fault {
        Fault::crash().at_call(1)
    }
}
