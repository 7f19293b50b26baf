//! The folding rules of [`fold`], one table row each, and every error it reports.

use serde_json::{json, Value};

use super::*;

/// Epoch seconds of the events' time 0.
const T0: i64 = 1_767_225_600;

/// An event about operation `id` (none for `""`) at `T0 + at` seconds, with `fields`
/// (the details member, or `Id`-less identity fields) merged in. Its `EventId` is given by
/// [`history`].
fn e(event_type: &str, id: &str, at: i64, fields: Value) -> Value {
    let mut event = json!({ "EventType": event_type, "EventTimestamp": T0 + at });
    if !id.is_empty() {
        event["Id"] = json!(id);
    }
    if let (Some(event), Value::Object(fields)) = (event.as_object_mut(), fields) {
        event.extend(fields);
    }
    event
}

fn started() -> Value {
    e(
        "ExecutionStarted",
        "exec",
        0,
        json!({"ExecutionStartedDetails": {"Input": {"Payload": "{\"n\":1}", "Truncated": false}}}),
    )
}

/// `events` numbered 1, 2, ... in order, after an `ExecutionStarted` when `with_start`.
fn numbered(events: Vec<Value>, with_start: bool) -> Vec<Event> {
    let all: Vec<Value> = with_start.then(started).into_iter().chain(events).collect();
    all.into_iter()
        .enumerate()
        .map(|(index, mut event)| {
            event["EventId"] = json!(index + 1);
            serde_json::from_value(event).unwrap_or_else(|err| panic!("a bad test event: {err}"))
        })
        .collect()
}

fn history(events: Vec<Value>) -> Vec<Event> {
    numbered(events, true)
}

fn payload(text: &str) -> Value {
    json!({ "Payload": text, "Truncated": false })
}

fn error_payload(error_type: &str) -> Value {
    json!({ "Payload": { "ErrorType": error_type, "ErrorMessage": "m" }, "Truncated": false })
}

fn retry(current: Option<i64>, delay: Option<i64>) -> Value {
    let mut details = json!({});
    if let Some(current) = current {
        details["CurrentAttempt"] = json!(current);
    }
    if let Some(delay) = delay {
        details["NextAttemptDelaySeconds"] = json!(delay);
    }
    details
}

fn step_succeeded(id: &str, at: i64, result: &str, retry_details: Value) -> Value {
    e(
        "StepSucceeded",
        id,
        at,
        json!({"StepSucceededDetails": {"Result": payload(result), "RetryDetails": retry_details}}),
    )
}

fn step_failed(id: &str, at: i64, error_type: &str, retry_details: Value) -> Value {
    e(
        "StepFailed",
        id,
        at,
        json!({"StepFailedDetails": {"Error": error_payload(error_type), "RetryDetails": retry_details}}),
    )
}

fn seconds(timestamp: Option<&Timestamp>) -> Option<i64> {
    timestamp.map(|timestamp| timestamp.epoch_millis() / 1000 - T0)
}

/// The operation in one line: its type and status, then every field replay reads that is
/// set (times in seconds after `T0`).
fn describe(op: &Operation) -> String {
    let mut parts = vec![format!("{} {}", op.type_, op.status)];
    let mut add = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            parts.push(format!("{key}={value}"));
        }
    };
    add("name", op.name.as_ref().map(ToString::to_string));
    add("sub", op.sub_type.as_ref().map(ToString::to_string));
    add("parent", op.parent_id.as_ref().map(ToString::to_string));
    add(
        "input",
        op.execution_details
            .as_ref()
            .and_then(|details| details.input_payload.clone()),
    );
    let step = op.step_details.as_ref();
    add(
        "attempt",
        step.and_then(|step| step.attempt).map(|n| n.to_string()),
    );
    let context = op.context_details.as_ref();
    let callback = op.callback_details.as_ref();
    let invoke = op.chained_invoke_details.as_ref();
    add(
        "result",
        step.and_then(|step| step.result.clone())
            .or_else(|| context.and_then(|context| context.result.clone()))
            .or_else(|| callback.and_then(|callback| callback.result.clone()))
            .or_else(|| invoke.and_then(|invoke| invoke.result.clone())),
    );
    add(
        "error",
        step.and_then(|step| step.error.as_ref())
            .or_else(|| context.and_then(|context| context.error.as_ref()))
            .or_else(|| callback.and_then(|callback| callback.error.as_ref()))
            .or_else(|| invoke.and_then(|invoke| invoke.error.as_ref()))
            .map(|error| error.error_type.clone().unwrap_or_default()),
    );
    add(
        "next",
        seconds(step.and_then(|step| step.next_attempt_timestamp.as_ref())).map(|s| s.to_string()),
    );
    add(
        "scheduled",
        seconds(
            op.wait_details
                .as_ref()
                .and_then(|wait| wait.scheduled_end_timestamp.as_ref()),
        )
        .map(|s| s.to_string()),
    );
    add(
        "callback",
        callback
            .and_then(|callback| callback.callback_id.as_ref())
            .map(ToString::to_string),
    );
    add(
        "replay_children",
        context
            .and_then(|context| context.replay_children)
            .map(|flag| flag.to_string()),
    );
    add(
        "start",
        seconds(op.start_timestamp.as_ref()).map(|s| s.to_string()),
    );
    add(
        "end",
        seconds(op.end_timestamp.as_ref()).map(|s| s.to_string()),
    );
    parts.join(" ")
}

fn folded(events: Vec<Value>) -> Folded {
    fold(&history(events)).unwrap_or_else(|err| panic!("{err}"))
}

fn operation<'a>(folded: &'a Folded, id: &str) -> &'a Operation {
    folded
        .operations
        .iter()
        .find(|op| op.id.as_str() == id)
        .unwrap_or_else(|| panic!("no operation {id} in {:?}", folded.operations))
}

#[test]
fn each_operation_type_folds_by_its_life_cycle() {
    let summary = r#"{"completionReason":"ALL_COMPLETED","totalCount":1,"branches":"S"}"#;
    let rows: Vec<(&str, Vec<Value>, String)> = vec![
        // STEP
        (
            "a started step",
            vec![e("StepStarted", "s", 1, json!({"Name": "charge", "SubType": "Step", "StepStartedDetails": {}}))],
            "STEP STARTED name=charge sub=Step start=1".into(),
        ),
        (
            "a failed attempt with a retry is PENDING until its time",
            vec![
                e("StepStarted", "s", 1, json!({})),
                step_failed("s", 2, "Busy", retry(Some(1), Some(5))),
            ],
            "STEP PENDING attempt=1 error=Busy next=7 start=1".into(),
        ),
        (
            "the next START clears the retry's error and time",
            vec![
                e("StepStarted", "s", 1, json!({})),
                step_failed("s", 2, "Busy", retry(Some(1), Some(5))),
                e("StepStarted", "s", 7, json!({})),
            ],
            "STEP STARTED attempt=1 start=1".into(),
        ),
        (
            "success on the second attempt",
            vec![
                e("StepStarted", "s", 1, json!({})),
                step_failed("s", 2, "Busy", retry(Some(1), Some(5))),
                e("StepStarted", "s", 7, json!({})),
                step_succeeded("s", 8, "\"ok\"", retry(Some(2), None)),
            ],
            "STEP SUCCEEDED attempt=2 result=\"ok\" start=1 end=8".into(),
        ),
        (
            "failure without a retry; the attempts are counted without CurrentAttempt",
            vec![
                e("StepStarted", "s", 1, json!({})),
                step_failed("s", 2, "Busy", retry(None, Some(1))),
                e("StepStarted", "s", 3, json!({})),
                step_failed("s", 4, "Declined", json!({})),
            ],
            "STEP FAILED attempt=2 error=Declined start=1 end=4".into(),
        ),
        (
            "CurrentAttempt wins over the count",
            vec![step_failed("s", 2, "Declined", retry(Some(4), None))],
            "STEP FAILED attempt=4 error=Declined start=2 end=2".into(),
        ),
        (
            "a wait-for-condition check keeps its state in Result while PENDING",
            vec![
                e("StepStarted", "c", 1, json!({"SubType": "WaitForCondition"})),
                step_succeeded("c", 1, "1", retry(None, Some(2))),
            ],
            "STEP PENDING sub=WaitForCondition attempt=1 result=1 next=3 start=1".into(),
        ),
        (
            "the wait-for-condition's last check succeeds",
            vec![
                e("StepStarted", "c", 1, json!({})),
                step_succeeded("c", 1, "1", retry(None, Some(2))),
                e("StepStarted", "c", 3, json!({})),
                step_succeeded("c", 3, "2", retry(None, Some(2))),
                e("StepStarted", "c", 5, json!({})),
                step_succeeded("c", 5, "3", json!({})),
            ],
            "STEP SUCCEEDED attempt=3 result=3 start=1 end=5".into(),
        ),
        (
            "a retry whose time came by the last event is READY",
            vec![
                step_failed("s", 1, "Busy", retry(Some(1), Some(1))),
                e("InvocationCompleted", "", 3, json!({})),
            ],
            "STEP READY attempt=1 error=Busy start=1".into(),
        ),
        (
            "a retry due exactly at the last event is READY",
            vec![
                step_failed("s", 1, "Busy", retry(Some(1), Some(2))),
                e("InvocationCompleted", "", 3, json!({})),
            ],
            "STEP READY attempt=1 error=Busy start=1".into(),
        ),
        (
            "a retry not due by the last event stays PENDING",
            vec![
                step_failed("s", 1, "Busy", retry(Some(1), Some(3))),
                e("InvocationCompleted", "", 3, json!({})),
            ],
            "STEP PENDING attempt=1 error=Busy next=4 start=1".into(),
        ),
        // WAIT
        (
            "a started wait",
            vec![e(
                "WaitStarted",
                "w",
                1,
                json!({"WaitStartedDetails": {"Duration": 10, "ScheduledEndTimestamp": T0 + 11}}),
            )],
            "WAIT STARTED scheduled=11 start=1".into(),
        ),
        (
            "a started wait without its end time",
            vec![e("WaitStarted", "w", 1, json!({"WaitStartedDetails": {"Duration": 10}}))],
            "WAIT STARTED scheduled=11 start=1".into(),
        ),
        (
            "a wait that ended",
            vec![
                e("WaitStarted", "w", 1, json!({"WaitStartedDetails": {"Duration": 10, "ScheduledEndTimestamp": T0 + 11}})),
                e("WaitSucceeded", "w", 11, json!({"WaitSucceededDetails": {"Duration": 10}})),
            ],
            "WAIT SUCCEEDED scheduled=11 start=1 end=11".into(),
        ),
        (
            "a cancelled wait",
            vec![
                e("WaitStarted", "w", 1, json!({"WaitStartedDetails": {"Duration": 10, "ScheduledEndTimestamp": T0 + 11}})),
                e("WaitCancelled", "w", 4, json!({"WaitCancelledDetails": {"Error": error_payload("Stop")}})),
            ],
            "WAIT CANCELLED scheduled=11 start=1 end=4".into(),
        ),
        // CALLBACK
        (
            "a started callback has its id",
            vec![e("CallbackStarted", "cb", 1, json!({"CallbackStartedDetails": {"CallbackId": "Y2Ix", "Timeout": 60}}))],
            "CALLBACK STARTED callback=Y2Ix start=1".into(),
        ),
        (
            "a callback answered",
            vec![
                e("CallbackStarted", "cb", 1, json!({"CallbackStartedDetails": {"CallbackId": "Y2Ix"}})),
                e("CallbackSucceeded", "cb", 5, json!({"CallbackSucceededDetails": {"Result": payload("\"yes\"")}})),
            ],
            "CALLBACK SUCCEEDED result=\"yes\" callback=Y2Ix start=1 end=5".into(),
        ),
        (
            "a callback failed",
            vec![
                e("CallbackStarted", "cb", 1, json!({"CallbackStartedDetails": {"CallbackId": "Y2Ix"}})),
                e("CallbackFailed", "cb", 5, json!({"CallbackFailedDetails": {"Error": error_payload("Vetoed")}})),
            ],
            "CALLBACK FAILED error=Vetoed callback=Y2Ix start=1 end=5".into(),
        ),
        (
            "a callback timed out",
            vec![
                e("CallbackStarted", "cb", 1, json!({"CallbackStartedDetails": {"CallbackId": "Y2Ix"}})),
                e("CallbackTimedOut", "cb", 61, json!({"CallbackTimedOutDetails": {"Error": error_payload("Callback.Timeout")}})),
            ],
            "CALLBACK TIMED_OUT error=Callback.Timeout callback=Y2Ix start=1 end=61".into(),
        ),
        // CHAINED_INVOKE
        (
            "a started invoke",
            vec![e("ChainedInvokeStarted", "i", 1, json!({"ChainedInvokeStartedDetails": {"FunctionName": "f", "Input": {"Payload": "{}", "Truncated": true}}}))],
            "CHAINED_INVOKE STARTED start=1".into(),
        ),
        (
            "an invoke that succeeded",
            vec![
                e("ChainedInvokeStarted", "i", 1, json!({})),
                e("ChainedInvokeSucceeded", "i", 2, json!({"ChainedInvokeSucceededDetails": {"Result": payload("7")}})),
            ],
            "CHAINED_INVOKE SUCCEEDED result=7 start=1 end=2".into(),
        ),
        (
            "an invoke that failed",
            vec![
                e("ChainedInvokeStarted", "i", 1, json!({})),
                e("ChainedInvokeFailed", "i", 2, json!({"ChainedInvokeFailedDetails": {"Error": error_payload("StepError")}})),
            ],
            "CHAINED_INVOKE FAILED error=StepError start=1 end=2".into(),
        ),
        (
            "an invoke that timed out",
            vec![
                e("ChainedInvokeStarted", "i", 1, json!({})),
                e("ChainedInvokeTimedOut", "i", 2, json!({"ChainedInvokeTimedOutDetails": {"Error": error_payload("Timeout")}})),
            ],
            "CHAINED_INVOKE TIMED_OUT error=Timeout start=1 end=2".into(),
        ),
        (
            "an invoke that was stopped",
            vec![
                e("ChainedInvokeStarted", "i", 1, json!({})),
                e("ChainedInvokeStopped", "i", 2, json!({"ChainedInvokeStoppedDetails": {"Error": error_payload("Stopped")}})),
            ],
            "CHAINED_INVOKE STOPPED error=Stopped start=1 end=2".into(),
        ),
        // CONTEXT
        (
            "a started context",
            vec![e("ContextStarted", "x", 1, json!({"SubType": "RunInChildContext", "ContextStartedDetails": {}}))],
            "CONTEXT STARTED sub=RunInChildContext start=1".into(),
        ),
        (
            "a context with its result stored",
            vec![
                e("ContextStarted", "x", 1, json!({})),
                e("ContextSucceeded", "x", 2, json!({"ContextSucceededDetails": {"Result": payload("3")}})),
            ],
            "CONTEXT SUCCEEDED result=3 replay_children=false start=1 end=2".into(),
        ),
        (
            "a context with an empty result was recorded with ReplayChildren",
            vec![e("ContextSucceeded", "x", 2, json!({"ContextSucceededDetails": {"Result": payload("")}}))],
            "CONTEXT SUCCEEDED result= replay_children=true start=2 end=2".into(),
        ),
        (
            "a context without a result too",
            vec![e("ContextSucceeded", "x", 2, json!({"ContextSucceededDetails": {"Result": {"Truncated": false}}}))],
            "CONTEXT SUCCEEDED replay_children=true start=2 end=2".into(),
        ),
        (
            "a map whose result is its summary",
            vec![e("ContextSucceeded", "m", 2, json!({"SubType": "Map", "ContextSucceededDetails": {"Result": payload(summary)}}))],
            format!("CONTEXT SUCCEEDED sub=Map result={summary} replay_children=true start=2 end=2"),
        ),
        (
            "a parallel whose result is its summary",
            vec![e("ContextSucceeded", "m", 2, json!({"SubType": "Parallel", "ContextSucceededDetails": {"Result": payload(summary)}}))],
            format!("CONTEXT SUCCEEDED sub=Parallel result={summary} replay_children=true start=2 end=2"),
        ),
        (
            "a map whose result is stored",
            vec![e("ContextSucceeded", "m", 2, json!({"SubType": "Map", "ContextSucceededDetails": {"Result": payload("{\"all\":[],\"completionReason\":\"ALL_COMPLETED\",\"totalCount\":0}")}}))],
            "CONTEXT SUCCEEDED sub=Map result={\"all\":[],\"completionReason\":\"ALL_COMPLETED\",\"totalCount\":0} replay_children=false start=2 end=2".into(),
        ),
        (
            "a child context whose result only looks like a summary",
            vec![e("ContextSucceeded", "x", 2, json!({"SubType": "RunInChildContext", "ContextSucceededDetails": {"Result": payload(summary)}}))],
            format!("CONTEXT SUCCEEDED sub=RunInChildContext result={summary} replay_children=false start=2 end=2"),
        ),
        (
            "a failed context",
            vec![
                e("ContextStarted", "x", 1, json!({})),
                e("ContextFailed", "x", 2, json!({"ContextFailedDetails": {"Error": error_payload("ChildContextError")}})),
            ],
            "CONTEXT FAILED error=ChildContextError start=1 end=2".into(),
        ),
        // Identity
        (
            "name, sub type and parent from the events",
            vec![
                e("ContextStarted", "x", 1, json!({})),
                e("StepStarted", "s", 1, json!({"ParentId": "x"})),
                step_succeeded("s", 2, "1", json!({})),
                e("StepSucceeded", "t", 3, json!({"Name": "tax", "SubType": "Step", "ParentId": "x", "StepSucceededDetails": {"Result": payload("2")}})),
            ],
            "STEP SUCCEEDED name=tax sub=Step parent=x attempt=1 result=2 start=3 end=3".into(),
        ),
    ];
    for (what, events, expected) in rows {
        let folded = folded(events);
        let id = folded
            .operations
            .last()
            .map(|op| op.id.to_string())
            .unwrap_or_default();
        assert_eq!(describe(operation(&folded, &id)), expected, "{what}");
    }
}

#[test]
fn the_execution_operation_and_outcome() {
    let rows = [
        (
            "running",
            vec![],
            "EXECUTION STARTED input={\"n\":1} start=0",
            ExecutionStatus::Running,
            None,
            None,
        ),
        (
            "succeeded",
            vec![e(
                "ExecutionSucceeded",
                "exec",
                9,
                json!({"ExecutionSucceededDetails": {"Result": payload("{\"ok\":true}")}}),
            )],
            "EXECUTION SUCCEEDED input={\"n\":1} start=0 end=9",
            ExecutionStatus::Succeeded,
            Some("{\"ok\":true}"),
            None,
        ),
        (
            "failed",
            vec![e(
                "ExecutionFailed",
                "exec",
                9,
                json!({"ExecutionFailedDetails": {"Error": error_payload("Boom")}}),
            )],
            "EXECUTION FAILED input={\"n\":1} start=0 end=9",
            ExecutionStatus::Failed,
            None,
            Some("Boom"),
        ),
        (
            "timed out",
            vec![e(
                "ExecutionTimedOut",
                "",
                9,
                json!({"ExecutionTimedOutDetails": {"Error": error_payload("Execution.Timeout")}}),
            )],
            "EXECUTION TIMED_OUT input={\"n\":1} start=0 end=9",
            ExecutionStatus::TimedOut,
            None,
            Some("Execution.Timeout"),
        ),
        (
            "stopped",
            vec![e(
                "ExecutionStopped",
                "exec",
                9,
                json!({"ExecutionStoppedDetails": {"Error": error_payload("Stop")}}),
            )],
            "EXECUTION STOPPED input={\"n\":1} start=0 end=9",
            ExecutionStatus::Stopped,
            None,
            Some("Stop"),
        ),
    ];
    for (what, events, expected, status, result, error) in rows {
        let folded = folded(events);
        assert_eq!(folded.operations.len(), 1, "{what}");
        assert_eq!(describe(&folded.operations[0]), expected, "{what}");
        assert_eq!(folded.operations[0].id.as_str(), "exec", "{what}");
        assert_eq!(folded.status, status, "{what}");
        assert_eq!(folded.result.as_deref(), result, "{what}");
        assert_eq!(
            folded
                .error
                .as_ref()
                .and_then(|error| error.error_type.as_deref()),
            error,
            "{what}"
        );
    }
}

#[test]
fn an_execution_without_an_id_gets_one() {
    let mut start = started();
    start
        .as_object_mut()
        .map(|event| event.remove("Id"))
        .unwrap_or_default();
    let folded = fold(&numbered(
        vec![
            start,
            e(
                "StepSucceeded",
                "s",
                1,
                json!({"StepSucceededDetails": {"Result": payload("1")}}),
            ),
            e("ExecutionSucceeded", "", 2, json!({})),
        ],
        false,
    ))
    .unwrap_or_else(|err| panic!("{err}"));
    let ids: Vec<&str> = folded.operations.iter().map(|op| op.id.as_str()).collect();
    assert_eq!(ids, ["execution", "s"]);
    assert_eq!(folded.operations[0].status, OperationStatus::Succeeded);
    assert_eq!(folded.status, ExecutionStatus::Succeeded);
}

#[test]
fn operations_come_in_the_order_they_first_appear_and_events_about_none_are_skipped() {
    let mut events = history(vec![
        e("ContextStarted", "b", 1, json!({})),
        e("StepStarted", "a", 1, json!({"ParentId": "b"})),
        e(
            "InvocationCompleted",
            "",
            2,
            json!({"InvocationCompletedDetails": {"Error": {"Truncated": true}}}),
        ),
        e("ExecutionPaused", "", 3, json!({})),
        e("ExecutionResumed", "", 4, json!({})),
        step_succeeded("a", 5, "1", json!({})),
        e(
            "WaitStarted",
            "c",
            5,
            json!({"WaitStartedDetails": {"Duration": 1}}),
        ),
        e(
            "ContextSucceeded",
            "b",
            6,
            json!({"ContextSucceededDetails": {"Result": payload("1")}}),
        ),
    ]);
    // The CLI merges pages as they come; ReverseOrder gives the newest first.
    events.reverse();
    let folded = fold(&events).unwrap_or_else(|err| panic!("{err}"));
    let ids: Vec<&str> = folded.operations.iter().map(|op| op.id.as_str()).collect();
    assert_eq!(ids, ["exec", "b", "a", "c"]);
    assert_eq!(
        describe(&folded.operations[1]),
        "CONTEXT SUCCEEDED result=1 replay_children=false start=1 end=6"
    );
}

#[test]
fn what_the_log_cannot_be_rebuilt_from_is_an_error_naming_the_event() {
    let truncated = |details: &str, member: &str| json!({ details: { member: { "Payload": "{\"cut", "Truncated": true } } });
    let truncated_error = |details: &str| json!({ details: { "Error": { "Payload": { "ErrorType": "E" }, "Truncated": true } } });
    let without_data = "fetch it with IncludeExecutionData=true (`aws lambda get-durable-execution-history --include-execution-data`)";
    let use_state = "truncated in the history; read the execution with GetDurableExecutionState";
    let rows: Vec<(&str, Vec<Value>, bool, Vec<&str>)> = vec![
        (
            "no events",
            vec![],
            false,
            vec!["the history has no events"],
        ),
        (
            "no ExecutionStarted",
            vec![e("StepStarted", "s", 1, json!({}))],
            false,
            vec!["the history has no ExecutionStarted event"],
        ),
        (
            "the input truncated",
            vec![e(
                "ExecutionStarted",
                "exec",
                0,
                truncated("ExecutionStartedDetails", "Input"),
            )],
            false,
            vec![
                "event 1 (ExecutionStarted, operation exec)",
                "Input",
                use_state,
            ],
        ),
        (
            "no input",
            vec![e(
                "ExecutionStarted",
                "exec",
                0,
                json!({"ExecutionStartedDetails": {"ExecutionTimeout": 60}}),
            )],
            false,
            vec![
                "event 1 (ExecutionStarted, operation exec)",
                "Input is missing",
                without_data,
            ],
        ),
        (
            "an input without its payload",
            vec![e(
                "ExecutionStarted",
                "exec",
                0,
                json!({"ExecutionStartedDetails": {"Input": {"Truncated": false}}}),
            )],
            false,
            vec!["event 1 (ExecutionStarted", without_data],
        ),
        (
            "the execution's result truncated",
            vec![e(
                "ExecutionSucceeded",
                "exec",
                2,
                truncated("ExecutionSucceededDetails", "Result"),
            )],
            true,
            vec![
                "event 2 (ExecutionSucceeded, operation exec)",
                "Result",
                use_state,
            ],
        ),
        (
            "the execution's error truncated",
            vec![e(
                "ExecutionFailed",
                "exec",
                2,
                truncated_error("ExecutionFailedDetails"),
            )],
            true,
            vec!["event 2 (ExecutionFailed", "Error", use_state],
        ),
        (
            "a step's result truncated",
            vec![e(
                "StepSucceeded",
                "s",
                1,
                truncated("StepSucceededDetails", "Result"),
            )],
            true,
            vec!["event 2 (StepSucceeded, operation s)", "Result", use_state],
        ),
        (
            "a step's error truncated",
            vec![e(
                "StepFailed",
                "s",
                1,
                truncated_error("StepFailedDetails"),
            )],
            true,
            vec!["event 2 (StepFailed, operation s)", "Error", use_state],
        ),
        (
            "a callback's result truncated",
            vec![e(
                "CallbackSucceeded",
                "cb",
                1,
                truncated("CallbackSucceededDetails", "Result"),
            )],
            true,
            vec!["event 2 (CallbackSucceeded, operation cb)", use_state],
        ),
        (
            "a callback's error truncated",
            vec![e(
                "CallbackTimedOut",
                "cb",
                1,
                truncated_error("CallbackTimedOutDetails"),
            )],
            true,
            vec!["operation cb", use_state],
        ),
        (
            "an invoke's result truncated",
            vec![e(
                "ChainedInvokeSucceeded",
                "i",
                1,
                truncated("ChainedInvokeSucceededDetails", "Result"),
            )],
            true,
            vec!["operation i", use_state],
        ),
        (
            "an invoke's error truncated",
            vec![e(
                "ChainedInvokeStopped",
                "i",
                1,
                truncated_error("ChainedInvokeStoppedDetails"),
            )],
            true,
            vec!["operation i", use_state],
        ),
        (
            "a context's result truncated",
            vec![e(
                "ContextSucceeded",
                "x",
                1,
                truncated("ContextSucceededDetails", "Result"),
            )],
            true,
            vec!["event 2 (ContextSucceeded, operation x)", use_state],
        ),
        (
            "a context's error truncated",
            vec![e(
                "ContextFailed",
                "x",
                1,
                truncated_error("ContextFailedDetails"),
            )],
            true,
            vec!["operation x", use_state],
        ),
        (
            "a succeeded step without its result",
            vec![e(
                "StepSucceeded",
                "s",
                1,
                json!({"StepSucceededDetails": {"RetryDetails": {"CurrentAttempt": 1}}}),
            )],
            true,
            vec![
                "event 2 (StepSucceeded, operation s)",
                "Result is missing",
                without_data,
            ],
        ),
        (
            "a wait-for-condition check without its state",
            vec![e(
                "StepSucceeded",
                "s",
                1,
                json!({"StepSucceededDetails": {"Result": {"Truncated": false}, "RetryDetails": {"NextAttemptDelaySeconds": 1}}}),
            )],
            true,
            vec!["operation s", without_data],
        ),
        (
            "one id, two types",
            vec![
                e("StepStarted", "a", 1, json!({})),
                e("WaitStarted", "a", 2, json!({})),
            ],
            true,
            vec![
                "event 3 (WaitStarted, operation a)",
                "it is a WAIT event but earlier events make the operation a STEP",
            ],
        ),
        (
            "an operation with the execution's id",
            vec![e("ContextStarted", "exec", 1, json!({}))],
            true,
            vec!["event 2 (ContextStarted, operation exec)", "EXECUTION"],
        ),
        (
            "two executions",
            vec![e("ExecutionSucceeded", "other", 1, json!({}))],
            true,
            vec![
                "event 2 (ExecutionSucceeded, operation other)",
                "another execution than operation exec",
            ],
        ),
        (
            "an unknown event type",
            vec![e("StepExploded", "s", 1, json!({}))],
            true,
            vec![
                "event 2 (StepExploded, operation s)",
                "\"StepExploded\" is not one this version of the SDK knows",
            ],
        ),
        (
            "an event without an Id",
            vec![e("StepStarted", "", 1, json!({}))],
            true,
            vec!["event 2 (StepStarted)", "it has no Id"],
        ),
    ];
    for (what, events, with_start, expected) in rows {
        let err = match fold(&numbered(events, with_start)) {
            Ok(folded) => panic!("{what}: folded into {:?}", folded.operations),
            Err(err) => err,
        };
        for part in expected {
            assert!(err.contains(part), "{what}: {err:?} does not say {part:?}");
        }
    }
}
