//! The generated wire types against realistic protocol documents (PROTOCOL.md sections
//! 2-6 and 14): envelopes, responses and history round-trip, unknown fields are dropped,
//! bad values fail with the path of the value, and what the SDK sends has no nulls.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::num::NonZeroU64;

use lambda_durable::wire::{
    self, CallbackOptions, ChainedInvokeOptions, CheckpointDurableExecutionRequest,
    CheckpointDurableExecutionResponse, ContextOptions, DurableExecutionInvocationInput,
    DurableExecutionInvocationOutput, ErrorObject, EventType, GetDurableExecutionHistoryResponse,
    GetDurableExecutionStateResponse, InvocationStatus, Operation, OperationAction,
    OperationStatus, OperationType, OperationUpdate, StepOptions, Timestamp, WaitOptions,
    WireError,
};
use serde_json::{json, Value};

const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:orders:7/durable-execution/order-42/5f0c7a1e-1b2c-4d3e-9f00-0a1b2c3d4e5f";

/// An invocation envelope with one operation of every interesting kind and state, in
/// start order. Timestamps use all three encodings: epoch milliseconds (the EXECUTION
/// operation), epoch seconds with a fraction, and ISO-8601 strings.
const ENVELOPE: &str = r#"{
  "DurableExecutionArn": "arn:aws:lambda:us-east-1:123456789012:function:orders:7/durable-execution/order-42/5f0c7a1e-1b2c-4d3e-9f00-0a1b2c3d4e5f",
  "CheckpointToken": "QmFzZTY0T3BhcXVlVG9rZW4=",
  "InitialExecutionState": {
    "Operations": [
      {
        "Id": "5f0c7a1e-1b2c-4d3e-9f00-0a1b2c3d4e5f",
        "Type": "EXECUTION",
        "Status": "STARTED",
        "StartTimestamp": 1767225600000,
        "ExecutionDetails": { "InputPayload": "{\"orderId\":\"42\"}" }
      },
      {
        "Id": "c4ca4238a0b92382",
        "Name": "charge",
        "Type": "STEP",
        "SubType": "Step",
        "Status": "SUCCEEDED",
        "StartTimestamp": 1767225601.123,
        "EndTimestamp": "2026-01-01T00:00:02.5Z",
        "StepDetails": { "Attempt": 1, "Result": "{\"charged\":true}" }
      },
      {
        "Id": "c81e728d9d4c2f63",
        "Name": "reserve",
        "Type": "STEP",
        "SubType": "Step",
        "Status": "FAILED",
        "StartTimestamp": 1767225603,
        "EndTimestamp": 1767225609.75,
        "StepDetails": {
          "Attempt": 3,
          "Error": {
            "ErrorType": "OutOfStock",
            "ErrorMessage": "no stock for sku-9",
            "ErrorData": "{\"sku\":\"sku-9\"}",
            "StackTrace": ["at reserve (inventory.js:10:5)", "at step (durable.js:42:11)"]
          }
        }
      },
      {
        "Id": "eccbc87e4b5ce2fe",
        "Name": "notify",
        "Type": "STEP",
        "SubType": "Step",
        "Status": "PENDING",
        "StartTimestamp": 1767225610.5,
        "StepDetails": {
          "Attempt": 1,
          "NextAttemptTimestamp": 1767225665.5,
          "Error": { "ErrorType": "TimeoutError", "ErrorMessage": "mail server timed out" }
        }
      },
      {
        "Id": "a87ff679a2f3e71d",
        "Name": "poll",
        "Type": "STEP",
        "SubType": "WaitForCondition",
        "Status": "READY",
        "StartTimestamp": "2026-01-01T00:00:11Z",
        "StepDetails": { "Attempt": 2, "Result": "{\"polls\":2}" }
      },
      {
        "Id": "e4da3b7fbbce2345",
        "Name": "cool-down",
        "Type": "WAIT",
        "SubType": "Wait",
        "Status": "STARTED",
        "StartTimestamp": 1767225612,
        "WaitDetails": { "ScheduledEndTimestamp": "2026-01-01T01:00:12.000Z" }
      },
      {
        "Id": "1679091c5a880faf",
        "Type": "WAIT",
        "SubType": "Wait",
        "Status": "SUCCEEDED",
        "StartTimestamp": 1767225500,
        "EndTimestamp": 1767225510,
        "WaitDetails": { "ScheduledEndTimestamp": 1767225510 }
      },
      {
        "Id": "8f14e45fceea167a",
        "Name": "approval",
        "Type": "CALLBACK",
        "SubType": "Callback",
        "Status": "STARTED",
        "StartTimestamp": 1767225613.001,
        "CallbackDetails": { "CallbackId": "eyJleGVjdXRpb25JZCI6IjVmMGMiLCJvcGVyYXRpb25JZCI6IjhmMTQifQ==" }
      },
      {
        "Id": "c9f0f895fb98ab91",
        "Name": "signature",
        "Type": "CALLBACK",
        "SubType": "Callback",
        "Status": "SUCCEEDED",
        "StartTimestamp": 1767225614,
        "EndTimestamp": 1767225700.25,
        "CallbackDetails": {
          "CallbackId": "c2lnbmF0dXJlLWNhbGxiYWNr",
          "Result": "{\"signed\":true}"
        }
      },
      {
        "Id": "45c48cce2e2d7fbd",
        "Name": "manager",
        "Type": "CALLBACK",
        "SubType": "Callback",
        "Status": "TIMED_OUT",
        "StartTimestamp": 1767225615,
        "EndTimestamp": 1767229215,
        "CallbackDetails": {
          "CallbackId": "bWFuYWdlci1jYWxsYmFjaw==",
          "Error": { "ErrorType": "Callback.Timeout", "ErrorMessage": "Callback timed out" }
        }
      },
      {
        "Id": "d3d9446802a44259",
        "Name": "fraud-check",
        "Type": "CHAINED_INVOKE",
        "SubType": "ChainedInvoke",
        "Status": "STARTED",
        "StartTimestamp": 1767225616
      },
      {
        "Id": "6512bd43d9caa6e0",
        "Name": "pricing",
        "Type": "CHAINED_INVOKE",
        "SubType": "ChainedInvoke",
        "Status": "SUCCEEDED",
        "StartTimestamp": 1767225617,
        "EndTimestamp": 1767225618.5,
        "ChainedInvokeDetails": { "Result": "{\"price\":12.5}" }
      },
      {
        "Id": "c20ad4d76fe97759",
        "Name": "shipping",
        "Type": "CHAINED_INVOKE",
        "Status": "FAILED",
        "StartTimestamp": 1767225619,
        "EndTimestamp": 1767225620,
        "ChainedInvokeDetails": {
          "Error": { "ErrorType": "Function.Unhandled", "ErrorMessage": "boom" }
        }
      },
      {
        "Id": "c51ce410c124a10e",
        "Name": "await-payment",
        "Type": "CONTEXT",
        "SubType": "WaitForCallback",
        "Status": "SUCCEEDED",
        "StartTimestamp": 1767225621,
        "EndTimestamp": 1767225690,
        "ContextDetails": { "ReplayChildren": true, "Result": "{\"paid\":true}" }
      },
      {
        "Id": "aab3238922bcc25a",
        "ParentId": "c51ce410c124a10e",
        "Type": "CALLBACK",
        "SubType": "Callback",
        "Status": "SUCCEEDED",
        "StartTimestamp": 1767225621.5,
        "EndTimestamp": 1767225689,
        "CallbackDetails": { "CallbackId": "cGF5bWVudA==", "Result": "{\"paid\":true}" }
      },
      {
        "Id": "9bf31c7ff062936a",
        "ParentId": "c51ce410c124a10e",
        "Type": "STEP",
        "SubType": "Step",
        "Status": "SUCCEEDED",
        "StartTimestamp": 1767225621.6,
        "EndTimestamp": 1767225622,
        "StepDetails": { "Attempt": 1, "Result": "null" }
      },
      {
        "Id": "c74d97b01eae257e",
        "Name": "items",
        "Type": "CONTEXT",
        "SubType": "Map",
        "Status": "STARTED",
        "StartTimestamp": 1767225623
      },
      {
        "Id": "70efdf2ec9b08607",
        "ParentId": "c74d97b01eae257e",
        "Type": "CONTEXT",
        "SubType": "MapIteration",
        "Status": "FAILED",
        "StartTimestamp": 1767225623.1,
        "EndTimestamp": 1767225624,
        "ContextDetails": {
          "Error": { "ErrorType": "StepError", "ErrorMessage": "item 0 failed" }
        }
      },
      {
        "Id": "6f4922f45568161a",
        "ParentId": "70efdf2ec9b08607",
        "Type": "STEP",
        "SubType": "Step",
        "Status": "FAILED",
        "StartTimestamp": 1767225623.2,
        "EndTimestamp": 1767225623.9,
        "StepDetails": { "Attempt": 1, "Error": { "ErrorType": "Error", "ErrorMessage": "item 0 failed" } }
      }
    ],
    "NextMarker": "bWFya2VyLXBhZ2UtMg=="
  }
}"#;

fn envelope_value() -> Value {
    serde_json::from_str(ENVELOPE).unwrap()
}

fn parse_envelope() -> DurableExecutionInvocationInput {
    wire::from_json(ENVELOPE).unwrap()
}

fn operations(input: &DurableExecutionInvocationInput) -> &[Operation] {
    &input.initial_execution_state.as_ref().unwrap().operations
}

fn op<'a>(input: &'a DurableExecutionInvocationInput, id: &str) -> &'a Operation {
    operations(input)
        .iter()
        .find(|op| op.id.as_str() == id)
        .unwrap_or_else(|| panic!("no operation {id}"))
}

fn millis(ts: Option<&Timestamp>) -> i64 {
    ts.unwrap().epoch_millis()
}

#[test]
fn envelope_round_trips() {
    let input = parse_envelope();
    assert_eq!(serde_json::to_value(&input).unwrap(), envelope_value());
    // The same through from_value.
    let again: DurableExecutionInvocationInput = wire::from_value(envelope_value()).unwrap();
    assert_eq!(again, input);
}

#[test]
fn envelope_fields_read_as_expected() {
    let input = parse_envelope();
    assert_eq!(input.durable_execution_arn.as_str(), ARN);
    assert_eq!(input.checkpoint_token.as_str(), "QmFzZTY0T3BhcXVlVG9rZW4=");
    // Absent: the envelope says nothing about what changed.
    assert_eq!(input.updated_operation_ids, None);
    assert_eq!(input.input, None);
    let state = input.initial_execution_state.as_ref().unwrap();
    assert_eq!(state.next_marker.as_deref(), Some("bWFya2VyLXBhZ2UtMg=="));
    assert_eq!(state.operations.len(), 19);

    let types: Vec<OperationType> = state.operations.iter().map(|op| op.type_).collect();
    use OperationType::*;
    assert_eq!(
        types,
        [
            Execution,
            Step,
            Step,
            Step,
            Step,
            Wait,
            Wait,
            Callback,
            Callback,
            Callback,
            ChainedInvoke,
            ChainedInvoke,
            ChainedInvoke,
            Context,
            Callback,
            Step,
            Context,
            Context,
            Step
        ]
    );

    // EXECUTION: the user's event is the InputPayload string.
    let execution = &state.operations[0];
    assert_eq!(execution.status, OperationStatus::Started);
    assert_eq!(
        execution
            .execution_details
            .as_ref()
            .unwrap()
            .input_payload
            .as_deref(),
        Some(r#"{"orderId":"42"}"#)
    );

    // Steps.
    let charge = op(&input, "c4ca4238a0b92382");
    assert_eq!(charge.status, OperationStatus::Succeeded);
    assert_eq!(charge.name.as_ref().unwrap().as_str(), "charge");
    assert_eq!(charge.sub_type.as_ref().unwrap().as_str(), "Step");
    let details = charge.step_details.as_ref().unwrap();
    assert_eq!(details.attempt, Some(1));
    assert_eq!(details.result.as_deref(), Some(r#"{"charged":true}"#));

    let reserve = op(&input, "c81e728d9d4c2f63");
    assert_eq!(reserve.status, OperationStatus::Failed);
    let error = reserve
        .step_details
        .as_ref()
        .unwrap()
        .error
        .as_ref()
        .unwrap();
    assert_eq!(
        *error,
        with_fields(ErrorObject::default(), |it| {
            it.error_type = Some("OutOfStock".to_string());
            it.error_message = Some("no stock for sku-9".to_string());
            it.error_data = Some(r#"{"sku":"sku-9"}"#.to_string());
            it.stack_trace = vec![
                "at reserve (inventory.js:10:5)".to_string(),
                "at step (durable.js:42:11)".to_string(),
            ];
        })
    );

    let notify = op(&input, "eccbc87e4b5ce2fe");
    assert_eq!(notify.status, OperationStatus::Pending);
    let details = notify.step_details.as_ref().unwrap();
    assert_eq!(
        millis(details.next_attempt_timestamp.as_ref()),
        1_767_225_665_500
    );
    assert_eq!(
        details.error.as_ref().unwrap().error_type.as_deref(),
        Some("TimeoutError")
    );

    let poll = op(&input, "a87ff679a2f3e71d");
    assert_eq!(poll.status, OperationStatus::Ready);
    assert_eq!(poll.sub_type.as_ref().unwrap().as_str(), "WaitForCondition");
    assert_eq!(poll.step_details.as_ref().unwrap().attempt, Some(2));

    // Waits.
    let cool_down = op(&input, "e4da3b7fbbce2345");
    assert_eq!(cool_down.status, OperationStatus::Started);
    assert_eq!(
        millis(
            cool_down
                .wait_details
                .as_ref()
                .unwrap()
                .scheduled_end_timestamp
                .as_ref()
        ),
        1_767_229_212_000
    );
    assert_eq!(
        op(&input, "1679091c5a880faf").status,
        OperationStatus::Succeeded
    );

    // Callbacks.
    let approval = op(&input, "8f14e45fceea167a");
    assert_eq!(approval.status, OperationStatus::Started);
    assert_eq!(
        approval
            .callback_details
            .as_ref()
            .unwrap()
            .callback_id
            .as_ref()
            .unwrap()
            .as_str(),
        "eyJleGVjdXRpb25JZCI6IjVmMGMiLCJvcGVyYXRpb25JZCI6IjhmMTQifQ=="
    );
    let signature = op(&input, "c9f0f895fb98ab91");
    assert_eq!(
        signature
            .callback_details
            .as_ref()
            .unwrap()
            .result
            .as_deref(),
        Some(r#"{"signed":true}"#)
    );
    let manager = op(&input, "45c48cce2e2d7fbd");
    assert_eq!(manager.status, OperationStatus::TimedOut);
    let error = manager
        .callback_details
        .as_ref()
        .unwrap()
        .error
        .as_ref()
        .unwrap();
    assert_eq!(error.error_type.as_deref(), Some("Callback.Timeout"));

    // Chained invokes.
    let fraud = op(&input, "d3d9446802a44259");
    assert_eq!(fraud.status, OperationStatus::Started);
    assert_eq!(fraud.chained_invoke_details, None);
    assert_eq!(
        op(&input, "6512bd43d9caa6e0")
            .chained_invoke_details
            .as_ref()
            .unwrap()
            .result
            .as_deref(),
        Some(r#"{"price":12.5}"#)
    );
    let shipping = op(&input, "c20ad4d76fe97759");
    assert_eq!(shipping.status, OperationStatus::Failed);
    assert_eq!(shipping.sub_type, None);

    // Contexts and their children.
    let await_payment = op(&input, "c51ce410c124a10e");
    let details = await_payment.context_details.as_ref().unwrap();
    assert_eq!(details.replay_children, Some(true));
    assert_eq!(details.result.as_deref(), Some(r#"{"paid":true}"#));
    let children: Vec<&str> = operations(&input)
        .iter()
        .filter(|op| op.parent_id.as_ref().map(|id| id.as_str()) == Some("c51ce410c124a10e"))
        .map(|op| op.id.as_str())
        .collect();
    assert_eq!(children, ["aab3238922bcc25a", "9bf31c7ff062936a"]);
    let item = op(&input, "70efdf2ec9b08607");
    assert_eq!(
        item.parent_id.as_ref().unwrap().as_str(),
        "c74d97b01eae257e"
    );
    assert_eq!(item.status, OperationStatus::Failed);
    assert_eq!(
        item.context_details
            .as_ref()
            .unwrap()
            .error
            .as_ref()
            .unwrap()
            .error_type
            .as_deref(),
        Some("StepError")
    );
    assert_eq!(
        op(&input, "6f4922f45568161a")
            .parent_id
            .as_ref()
            .unwrap()
            .as_str(),
        "70efdf2ec9b08607"
    );
}

#[test]
fn timestamps_in_all_three_encodings_read_as_instants_and_keep_their_encoding() {
    let input = parse_envelope();
    // Epoch milliseconds.
    let execution = op(&input, "5f0c7a1e-1b2c-4d3e-9f00-0a1b2c3d4e5f");
    assert_eq!(
        millis(execution.start_timestamp.as_ref()),
        1_767_225_600_000
    );
    // Epoch seconds with a fraction, and an ISO-8601 string with a fraction.
    let charge = op(&input, "c4ca4238a0b92382");
    assert_eq!(millis(charge.start_timestamp.as_ref()), 1_767_225_601_123);
    assert_eq!(millis(charge.end_timestamp.as_ref()), 1_767_225_602_500);
    // Whole epoch seconds, and an ISO-8601 string without a fraction.
    assert_eq!(
        millis(op(&input, "c81e728d9d4c2f63").start_timestamp.as_ref()),
        1_767_225_603_000
    );
    assert_eq!(
        millis(op(&input, "a87ff679a2f3e71d").start_timestamp.as_ref()),
        1_767_225_611_000
    );

    // Each serializes back in the encoding it arrived in.
    let encoded = |ts: Option<&Timestamp>| serde_json::to_string(ts.unwrap()).unwrap();
    assert_eq!(encoded(execution.start_timestamp.as_ref()), "1767225600000");
    assert_eq!(encoded(charge.start_timestamp.as_ref()), "1767225601.123");
    assert_eq!(
        encoded(charge.end_timestamp.as_ref()),
        "\"2026-01-01T00:00:02.5Z\""
    );
    // A built timestamp uses epoch seconds, like the API.
    assert_eq!(
        serde_json::to_string(&Timestamp::from_epoch_millis(1_767_225_601_123)).unwrap(),
        "1767225601.123"
    );
}

/// Adds an unknown member to every object of `value`; returns how many objects it touched.
fn add_unknown_fields(value: &mut Value) -> usize {
    match value {
        Value::Object(map) => {
            let mut count = 1;
            for child in map.values_mut() {
                count += add_unknown_fields(child);
            }
            map.insert(
                "FutureField".to_string(),
                json!({"Nested": [1, null, "x"], "Flag": true}),
            );
            map.insert("FutureNull".to_string(), Value::Null);
            count
        }
        Value::Array(items) => items.iter_mut().map(add_unknown_fields).sum(),
        _ => 0,
    }
}

#[test]
fn unknown_fields_at_every_level_are_accepted_and_dropped() {
    let mut noisy = envelope_value();
    let touched = add_unknown_fields(&mut noisy);
    // envelope, state, 19 operations, 20 details objects and 4 error objects
    assert_eq!(touched, 44);
    let input: DurableExecutionInvocationInput = wire::from_value(noisy.clone()).unwrap();
    assert_eq!(input, parse_envelope());
    assert_eq!(serde_json::to_value(&input).unwrap(), envelope_value());
    let text = serde_json::to_string(&input).unwrap();
    assert!(!text.contains("Future"), "{text}");

    // The envelope fields that only some SDKs read are understood too.
    let mut with_extras = envelope_value();
    with_extras["UpdatedOperationIds"] = json!(["c4ca4238a0b92382"]);
    with_extras["Input"] = json!({"raw": true});
    let input: DurableExecutionInvocationInput = wire::from_value(with_extras.clone()).unwrap();
    let updated = input.updated_operation_ids.as_deref().unwrap();
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0].as_str(), "c4ca4238a0b92382");
    assert_eq!(serde_json::to_value(&input).unwrap(), with_extras);
    // An empty list is kept apart from an absent one: it says that nothing changed.
    with_extras["UpdatedOperationIds"] = json!([]);
    let input: DurableExecutionInvocationInput = wire::from_value(with_extras.clone()).unwrap();
    assert_eq!(input.updated_operation_ids, Some(Vec::new()));
    assert_eq!(serde_json::to_value(&input).unwrap(), with_extras);
}

fn envelope_error(edit: impl FnOnce(&mut Value)) -> WireError {
    let mut value = envelope_value();
    edit(&mut value);
    let from_text =
        wire::from_json::<DurableExecutionInvocationInput>(&value.to_string()).unwrap_err();
    let from_value = wire::from_value::<DurableExecutionInvocationInput>(value).unwrap_err();
    assert_eq!(from_text.path(), from_value.path());
    // The text parser adds the position (" at line 1 column N").
    let (text_message, value_message) = (from_text.to_string(), from_value.to_string());
    assert!(
        text_message.starts_with(&value_message) && text_message.contains(" at line 1 column "),
        "{text_message} / {value_message}"
    );
    from_value
}

/// An enum value the schemas do not list is kept (the enum's `Unknown` variant), not an
/// error: only replay reaching that operation fails. A value of the wrong JSON type is
/// still an error naming its path.
#[test]
fn unknown_enum_values_are_kept() {
    let mut value = envelope_value();
    value["InitialExecutionState"]["Operations"][1]["Status"] = json!("PAUSED");
    value["InitialExecutionState"]["Operations"][6]["Type"] = json!("TIMER");
    let input: DurableExecutionInvocationInput = wire::from_value(value).unwrap();
    let operations = &input.initial_execution_state.as_ref().unwrap().operations;
    assert!(operations[1].status.is_unknown());
    assert_eq!(operations[1].status.to_string(), "PAUSED");
    assert!(operations[6].type_.is_unknown());
    assert_eq!(operations[6].type_.as_str(), "TIMER");
    assert!(!OperationStatus::KNOWN.contains(&operations[1].status));
    // Written back as received.
    let json = serde_json::to_value(&operations[1]).unwrap();
    assert_eq!(json["Status"], "PAUSED");

    let err = envelope_error(|value| {
        value["InitialExecutionState"]["Operations"][1]["Status"] = json!(3);
    });
    assert_eq!(err.path(), "InitialExecutionState.Operations[1].Status");
    let message = err.to_string();
    assert!(
        message.starts_with(
            "DurableExecutionInvocationInput: InitialExecutionState.Operations[1].Status: "
        ),
        "{message}"
    );
}

#[test]
fn operation_id_breaking_the_pattern_names_the_path() {
    let err = envelope_error(|value| {
        value["InitialExecutionState"]["Operations"][2]["Id"] = json!("step #2");
    });
    assert_eq!(err.path(), "InitialExecutionState.Operations[2].Id");
    let message = err.to_string();
    assert!(message.contains("doesn't match pattern"), "{message}");

    let err = envelope_error(|value| {
        value["InitialExecutionState"]["Operations"][15]["ParentId"] = json!("a".repeat(65));
    });
    assert_eq!(err.path(), "InitialExecutionState.Operations[15].ParentId");
    assert!(
        err.to_string().contains("longer than 64 characters"),
        "{err}"
    );

    // An empty name is invalid (leave the field out instead).
    let err = envelope_error(|value| {
        value["InitialExecutionState"]["Operations"][1]["Name"] = json!("");
    });
    assert_eq!(err.path(), "InitialExecutionState.Operations[1].Name");
    assert!(
        err.to_string().contains("shorter than 1 characters"),
        "{err}"
    );
}

#[test]
fn other_bad_values_name_their_path() {
    let err = envelope_error(|value| {
        value["InitialExecutionState"]["Operations"][3]["StepDetails"]["NextAttemptTimestamp"] =
            json!("tomorrow");
    });
    assert_eq!(
        err.path(),
        "InitialExecutionState.Operations[3].StepDetails.NextAttemptTimestamp"
    );
    assert!(err.to_string().contains("\"tomorrow\""), "{err}");

    let err = envelope_error(|value| {
        value["InitialExecutionState"]["Operations"][2]["StepDetails"]["Error"]["StackTrace"] =
            json!("not a list");
    });
    assert_eq!(
        err.path(),
        "InitialExecutionState.Operations[2].StepDetails.Error.StackTrace"
    );

    let err = envelope_error(|value| {
        value.as_object_mut().unwrap().remove("CheckpointToken");
    });
    assert!(
        err.to_string().contains("missing field `CheckpointToken`"),
        "{err}"
    );

    let err = wire::from_json::<DurableExecutionInvocationInput>("{\"DurableExecutionArn\": ")
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("DurableExecutionInvocationInput: "),
        "{err}"
    );
}

#[test]
fn invocation_outputs_serialize_to_the_protocol_json() {
    let succeeded = with_fields(
        DurableExecutionInvocationOutput::new(InvocationStatus::Succeeded),
        |it| {
            it.result = Some(r#"{"ok":true}"#.to_string());
        },
    );
    let failed = with_fields(
        DurableExecutionInvocationOutput::new(InvocationStatus::Failed),
        |it| {
            it.error = Some(with_fields(ErrorObject::default(), |it| {
                it.error_type = Some("StepError".to_string());
                it.error_message = Some("card declined".to_string());
            }));
        },
    );
    let pending = DurableExecutionInvocationOutput::new(InvocationStatus::Pending);
    // PROTOCOL.md section 3, verbatim.
    for (output, expected) in [
        (
            &succeeded,
            r#"{"Status": "SUCCEEDED", "Result": "{\"ok\":true}"}"#,
        ),
        (
            &failed,
            r#"{"Status": "FAILED", "Error": {"ErrorType": "StepError", "ErrorMessage": "card declined"}}"#,
        ),
        (&pending, r#"{"Status": "PENDING"}"#),
    ] {
        let expected: Value = serde_json::from_str(expected).unwrap();
        assert_eq!(serde_json::to_value(output).unwrap(), expected);
        let back: DurableExecutionInvocationOutput = wire::from_value(expected).unwrap();
        assert_eq!(&back, output);
    }
    assert_eq!(
        serde_json::to_string(&pending).unwrap(),
        r#"{"Status":"PENDING"}"#
    );

    // Section 3.1: the result or error was checkpointed instead.
    let checkpointed = with_fields(
        DurableExecutionInvocationOutput::new(InvocationStatus::Succeeded),
        |it| {
            it.result = Some(String::new());
        },
    );
    assert_eq!(
        serde_json::to_string(&checkpointed).unwrap(),
        r#"{"Result":"","Status":"SUCCEEDED"}"#
    );
    let failed_checkpointed = DurableExecutionInvocationOutput::new(InvocationStatus::Failed);
    assert_eq!(
        serde_json::to_string(&failed_checkpointed).unwrap(),
        r#"{"Status":"FAILED"}"#
    );
}

fn update(id: &str, type_: OperationType, action: OperationAction) -> OperationUpdate {
    OperationUpdate::new(action, id.try_into().unwrap(), type_)
}

fn error_object(error_type: &str, message: &str) -> ErrorObject {
    with_fields(ErrorObject::default(), |it| {
        it.error_type = Some(error_type.to_string());
        it.error_message = Some(message.to_string());
    })
}

/// One update for every valid (type, action) pair of PROTOCOL.md 5.2, with the JSON the
/// service expects.
fn updates() -> Vec<(OperationUpdate, Value)> {
    use OperationAction::*;
    use OperationType::*;
    let seconds = |n| NonZeroU64::new(n).unwrap();
    let mut cases = Vec::new();

    let mut u = update("c4ca4238a0b92382", Step, Start);
    u.parent_id = Some("c81e728d9d4c2f63".try_into().unwrap());
    u.name = Some("charge".try_into().unwrap());
    u.sub_type = Some("Step".try_into().unwrap());
    cases.push((
        u,
        json!({"Id": "c4ca4238a0b92382", "ParentId": "c81e728d9d4c2f63", "Name": "charge",
               "Type": "STEP", "SubType": "Step", "Action": "START"}),
    ));

    let mut u = update("c4ca4238a0b92382", Step, Succeed);
    u.payload = Some(r#"{"charged":true}"#.to_string());
    cases.push((
        u,
        json!({"Id": "c4ca4238a0b92382", "Type": "STEP", "Action": "SUCCEED",
               "Payload": "{\"charged\":true}"}),
    ));

    let mut u = update("c4ca4238a0b92382", Step, Fail);
    u.error = Some(error_object("Error", "card declined"));
    cases.push((
        u,
        json!({"Id": "c4ca4238a0b92382", "Type": "STEP", "Action": "FAIL",
               "Error": {"ErrorType": "Error", "ErrorMessage": "card declined"}}),
    ));

    let mut u = update("c4ca4238a0b92382", Step, Retry);
    u.error = Some(error_object("TimeoutError", "slow"));
    u.step_options = Some(with_fields(StepOptions::default(), |it| {
        it.next_attempt_delay_seconds = Some(seconds(5));
    }));
    cases.push((
        u,
        json!({"Id": "c4ca4238a0b92382", "Type": "STEP", "Action": "RETRY",
               "Error": {"ErrorType": "TimeoutError", "ErrorMessage": "slow"},
               "StepOptions": {"NextAttemptDelaySeconds": 5}}),
    ));

    // Wait-for-condition keeps its state in the RETRY payload.
    let mut u = update("a87ff679a2f3e71d", Step, Retry);
    u.sub_type = Some("WaitForCondition".try_into().unwrap());
    u.payload = Some(r#"{"polls":3}"#.to_string());
    u.step_options = Some(with_fields(StepOptions::default(), |it| {
        it.next_attempt_delay_seconds = Some(seconds(30));
    }));
    cases.push((
        u,
        json!({"Id": "a87ff679a2f3e71d", "Type": "STEP", "SubType": "WaitForCondition",
               "Action": "RETRY", "Payload": "{\"polls\":3}",
               "StepOptions": {"NextAttemptDelaySeconds": 30}}),
    ));

    let mut u = update("e4da3b7fbbce2345", Wait, Start);
    u.sub_type = Some("Wait".try_into().unwrap());
    u.wait_options = Some(with_fields(WaitOptions::default(), |it| {
        it.wait_seconds = Some(seconds(3600));
    }));
    cases.push((
        u,
        json!({"Id": "e4da3b7fbbce2345", "Type": "WAIT", "SubType": "Wait", "Action": "START",
               "WaitOptions": {"WaitSeconds": 3600}}),
    ));

    cases.push((
        update("e4da3b7fbbce2345", Wait, Cancel),
        json!({"Id": "e4da3b7fbbce2345", "Type": "WAIT", "Action": "CANCEL"}),
    ));

    let mut u = update("8f14e45fceea167a", Callback, Start);
    u.name = Some("approval".try_into().unwrap());
    u.sub_type = Some("Callback".try_into().unwrap());
    u.callback_options = Some(with_fields(CallbackOptions::default(), |it| {
        it.timeout_seconds = Some(86_400);
        it.heartbeat_timeout_seconds = Some(600);
    }));
    cases.push((
        u,
        json!({"Id": "8f14e45fceea167a", "Name": "approval", "Type": "CALLBACK",
               "SubType": "Callback", "Action": "START",
               "CallbackOptions": {"TimeoutSeconds": 86400, "HeartbeatTimeoutSeconds": 600}}),
    ));

    // No timeouts: the options object is empty, not full of nulls.
    let mut u = update("45c48cce2e2d7fbd", Callback, Start);
    u.callback_options = Some(CallbackOptions::default());
    cases.push((
        u,
        json!({"Id": "45c48cce2e2d7fbd", "Type": "CALLBACK", "Action": "START",
               "CallbackOptions": {}}),
    ));

    cases.push((
        update("8f14e45fceea167a", Callback, Cancel),
        json!({"Id": "8f14e45fceea167a", "Type": "CALLBACK", "Action": "CANCEL"}),
    ));

    let mut u = update("d3d9446802a44259", ChainedInvoke, Start);
    u.name = Some("fraud-check".try_into().unwrap());
    u.sub_type = Some("ChainedInvoke".try_into().unwrap());
    u.payload = Some(r#"{"orderId":"42"}"#.to_string());
    u.chained_invoke_options = Some(with_fields(
        ChainedInvokeOptions::new(
            "arn:aws:lambda:us-east-1:123456789012:function:fraud:live".to_string(),
        ),
        |it| {
            it.tenant_id = Some("tenant-7".to_string());
        },
    ));
    cases.push((
        u,
        json!({"Id": "d3d9446802a44259", "Name": "fraud-check", "Type": "CHAINED_INVOKE",
               "SubType": "ChainedInvoke", "Action": "START", "Payload": "{\"orderId\":\"42\"}",
               "ChainedInvokeOptions": {
                   "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:fraud:live",
                   "TenantId": "tenant-7"}}),
    ));

    cases.push((
        update("d3d9446802a44259", ChainedInvoke, Cancel),
        json!({"Id": "d3d9446802a44259", "Type": "CHAINED_INVOKE", "Action": "CANCEL"}),
    ));

    let mut u = update("c81e728d9d4c2f63", Context, Start);
    u.name = Some("child".try_into().unwrap());
    u.sub_type = Some("RunInChildContext".try_into().unwrap());
    cases.push((
        u,
        json!({"Id": "c81e728d9d4c2f63", "Name": "child", "Type": "CONTEXT",
               "SubType": "RunInChildContext", "Action": "START"}),
    ));

    let mut u = update("c81e728d9d4c2f63", Context, Succeed);
    u.payload = Some(r#"[1,2]"#.to_string());
    u.context_options = Some(with_fields(ContextOptions::default(), |it| {
        it.replay_children = Some(true);
    }));
    cases.push((
        u,
        json!({"Id": "c81e728d9d4c2f63", "Type": "CONTEXT", "Action": "SUCCEED",
               "Payload": "[1,2]", "ContextOptions": {"ReplayChildren": true}}),
    ));

    let mut u = update("c81e728d9d4c2f63", Context, Fail);
    u.error = Some(error_object("StepError", "inner step failed"));
    cases.push((
        u,
        json!({"Id": "c81e728d9d4c2f63", "Type": "CONTEXT", "Action": "FAIL",
               "Error": {"ErrorType": "StepError", "ErrorMessage": "inner step failed"}}),
    ));

    let mut u = update("execution-result-1767225600000", Execution, Succeed);
    u.payload = Some(r#"{"ok":true}"#.to_string());
    cases.push((
        u,
        json!({"Id": "execution-result-1767225600000", "Type": "EXECUTION",
               "Action": "SUCCEED", "Payload": "{\"ok\":true}"}),
    ));

    let mut u = update("execution-result-1767225600001", Execution, Fail);
    u.error = Some(with_fields(ErrorObject::default(), |it| {
        it.error_type = Some("HandlerError".to_string());
        it.error_data = Some("{}".to_string());
        it.stack_trace = vec!["at handler".to_string()];
    }));
    cases.push((
        u,
        json!({"Id": "execution-result-1767225600001", "Type": "EXECUTION", "Action": "FAIL",
               "Error": {"ErrorType": "HandlerError", "ErrorData": "{}",
                         "StackTrace": ["at handler"]}}),
    ));

    cases
}

#[test]
fn operation_updates_serialize_with_no_nulls() {
    let cases = updates();
    let pairs: BTreeSet<(String, String)> = cases
        .iter()
        .map(|(u, _)| (u.type_.to_string(), u.action.to_string()))
        .collect();
    let expected_pairs: BTreeSet<(String, String)> = [
        ("EXECUTION", "SUCCEED"),
        ("EXECUTION", "FAIL"),
        ("STEP", "START"),
        ("STEP", "SUCCEED"),
        ("STEP", "FAIL"),
        ("STEP", "RETRY"),
        ("WAIT", "START"),
        ("WAIT", "CANCEL"),
        ("CALLBACK", "START"),
        ("CALLBACK", "CANCEL"),
        ("CHAINED_INVOKE", "START"),
        ("CHAINED_INVOKE", "CANCEL"),
        ("CONTEXT", "START"),
        ("CONTEXT", "SUCCEED"),
        ("CONTEXT", "FAIL"),
    ]
    .into_iter()
    .map(|(t, a)| (t.to_string(), a.to_string()))
    .collect();
    assert_eq!(pairs, expected_pairs);

    for (update, expected) in &cases {
        let text = serde_json::to_string(update).unwrap();
        assert!(!text.contains("null"), "{text}");
        assert_eq!(&serde_json::to_value(update).unwrap(), expected, "{text}");
        let back: OperationUpdate = wire::from_json(&text).unwrap();
        assert_eq!(&back, update);
    }
}

#[test]
fn checkpoint_request_serializes_the_updates_in_order() {
    let (updates, expected_updates): (Vec<OperationUpdate>, Vec<Value>) =
        updates().into_iter().unzip();
    let request = with_fields(
        CheckpointDurableExecutionRequest::new("QmFzZTY0T3BhcXVlVG9rZW4=".try_into().unwrap()),
        |it| {
            it.client_token = Some("1f0c5b8e-0c1d-4e5f-8a9b-0c1d2e3f4a5b".try_into().unwrap());
            it.updates = updates;
        },
    );
    let text = serde_json::to_string(&request).unwrap();
    assert!(!text.contains("null"), "{text}");
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({
            "CheckpointToken": "QmFzZTY0T3BhcXVlVG9rZW4=",
            "ClientToken": "1f0c5b8e-0c1d-4e5f-8a9b-0c1d2e3f4a5b",
            "Updates": expected_updates,
        })
    );

    // A token-only request (rotate the token, fetch changes).
    let empty = CheckpointDurableExecutionRequest::new("dG9rZW4tMg==".try_into().unwrap());
    assert_eq!(
        serde_json::to_string(&empty).unwrap(),
        r#"{"CheckpointToken":"dG9rZW4tMg=="}"#
    );
}

#[test]
fn checkpoint_responses_round_trip() {
    let running = json!({
        "CheckpointToken": "bmV4dC10b2tlbg==",
        "NewExecutionState": {
            "Operations": [
                {"Id": "c4ca4238a0b92382", "Type": "STEP", "SubType": "Step", "Status": "STARTED",
                 "StartTimestamp": 1767225601.123, "StepDetails": {"Attempt": 0}},
                {"Id": "8f14e45fceea167a", "Type": "CALLBACK", "SubType": "Callback",
                 "Status": "STARTED", "StartTimestamp": 1767225602,
                 "CallbackDetails": {"CallbackId": "Y2FsbGJhY2stMQ=="}}
            ],
            "NextMarker": "bW9yZQ=="
        }
    });
    let response: CheckpointDurableExecutionResponse = wire::from_value(running.clone()).unwrap();
    assert_eq!(
        response.checkpoint_token.as_ref().unwrap().as_str(),
        "bmV4dC10b2tlbg=="
    );
    let state = response.new_execution_state.as_ref().unwrap();
    assert_eq!(state.operations.len(), 2);
    assert_eq!(state.operations[1].type_, OperationType::Callback);
    assert_eq!(state.next_marker.as_deref(), Some("bW9yZQ=="));
    assert_eq!(serde_json::to_value(&response).unwrap(), running);

    // After an EXECUTION update the response carries no token (PROTOCOL.md 7.2).
    let terminal = json!({"NewExecutionState": {"Operations": [
        {"Id": "5f0c7a1e-1b2c-4d3e-9f00-0a1b2c3d4e5f", "Type": "EXECUTION",
         "Status": "SUCCEEDED", "StartTimestamp": 1767225600, "EndTimestamp": 1767225700.5}
    ]}});
    let response: CheckpointDurableExecutionResponse = wire::from_value(terminal.clone()).unwrap();
    assert_eq!(response.checkpoint_token, None);
    assert_eq!(serde_json::to_value(&response).unwrap(), terminal);
    let empty: CheckpointDurableExecutionResponse = wire::from_json("{}").unwrap();
    assert_eq!(empty.checkpoint_token, None);
    assert_eq!(empty.new_execution_state, None);
}

#[test]
fn state_pages_round_trip() {
    let page = json!({
        "Operations": [
            {"Id": "1679091c5a880faf", "Type": "WAIT", "Status": "SUCCEEDED",
             "StartTimestamp": 1767225500, "EndTimestamp": 1767225510,
             "WaitDetails": {"ScheduledEndTimestamp": 1767225510}}
        ],
        "NextMarker": "cGFnZS0z"
    });
    let response: GetDurableExecutionStateResponse = wire::from_value(page.clone()).unwrap();
    assert_eq!(response.operations[0].status, OperationStatus::Succeeded);
    assert_eq!(response.next_marker.as_deref(), Some("cGFnZS0z"));
    assert_eq!(serde_json::to_value(&response).unwrap(), page);

    // The last page: no operations, no marker. Operations is required.
    let last = json!({"Operations": []});
    let response: GetDurableExecutionStateResponse = wire::from_value(last.clone()).unwrap();
    assert!(response.operations.is_empty());
    assert_eq!(serde_json::to_value(&response).unwrap(), last);
    let err =
        wire::from_json::<GetDurableExecutionStateResponse>(r#"{"NextMarker":""}"#).unwrap_err();
    assert!(
        err.to_string().contains("missing field `Operations`"),
        "{err}"
    );
}

const HISTORY: &str = r#"{
  "Events": [
    {
      "EventType": "ExecutionStarted",
      "EventId": 1,
      "Id": "5f0c7a1e-1b2c-4d3e-9f00-0a1b2c3d4e5f",
      "Name": "order-42",
      "EventTimestamp": 1767225600.001,
      "ExecutionStartedDetails": {
        "Input": { "Payload": "{\"orderId\":\"42\"}", "Truncated": false },
        "ExecutionTimeout": 86400
      }
    },
    {
      "EventType": "StepStarted",
      "SubType": "Step",
      "EventId": 2,
      "Id": "c4ca4238a0b92382",
      "Name": "charge",
      "EventTimestamp": 1767225600.5,
      "StepStartedDetails": {}
    },
    {
      "EventType": "StepFailed",
      "SubType": "Step",
      "EventId": 3,
      "Id": "c4ca4238a0b92382",
      "Name": "charge",
      "EventTimestamp": 1767225601,
      "StepFailedDetails": {
        "Error": {
          "Payload": { "ErrorType": "TimeoutError", "ErrorMessage": "slow", "StackTrace": ["at charge"] },
          "Truncated": false
        },
        "RetryDetails": { "CurrentAttempt": 1, "NextAttemptDelaySeconds": 5 }
      }
    },
    {
      "EventType": "StepSucceeded",
      "SubType": "Step",
      "EventId": 4,
      "Id": "c4ca4238a0b92382",
      "Name": "charge",
      "EventTimestamp": 1767225607,
      "StepSucceededDetails": {
        "Result": { "Payload": "{\"charged\":true}", "Truncated": false },
        "RetryDetails": { "CurrentAttempt": 2 }
      }
    },
    {
      "EventType": "ContextStarted",
      "SubType": "RunInChildContext",
      "EventId": 5,
      "Id": "c81e728d9d4c2f63",
      "Name": "child",
      "EventTimestamp": 1767225607.5,
      "ContextStartedDetails": {}
    },
    {
      "EventType": "WaitStarted",
      "SubType": "Wait",
      "EventId": 6,
      "Id": "8fbdbf5573b18fae",
      "ParentId": "c81e728d9d4c2f63",
      "EventTimestamp": 1767225608,
      "WaitStartedDetails": { "Duration": 10, "ScheduledEndTimestamp": 1767225618 }
    },
    {
      "EventType": "InvocationCompleted",
      "EventId": 7,
      "EventTimestamp": 1767225608.2,
      "InvocationCompletedDetails": {
        "StartTimestamp": 1767225600,
        "EndTimestamp": 1767225608.2,
        "RequestId": "0b9a7c1e-5d7f-4a7e-9a51-4c3c8f1e2d3a"
      }
    },
    {
      "EventType": "WaitSucceeded",
      "SubType": "Wait",
      "EventId": 8,
      "Id": "8fbdbf5573b18fae",
      "ParentId": "c81e728d9d4c2f63",
      "EventTimestamp": 1767225618,
      "WaitSucceededDetails": { "Duration": 10 }
    },
    {
      "EventType": "CallbackStarted",
      "SubType": "Callback",
      "EventId": 9,
      "Id": "8f14e45fceea167a",
      "Name": "approval",
      "EventTimestamp": 1767225619,
      "CallbackStartedDetails": { "CallbackId": "Y2FsbGJhY2stMQ==", "Timeout": 60, "HeartbeatTimeout": 0 }
    },
    {
      "EventType": "CallbackTimedOut",
      "SubType": "Callback",
      "EventId": 10,
      "Id": "8f14e45fceea167a",
      "Name": "approval",
      "EventTimestamp": 1767225679,
      "CallbackTimedOutDetails": {
        "Error": { "Payload": { "ErrorType": "Callback.Timeout", "ErrorMessage": "Callback timed out" }, "Truncated": false }
      }
    },
    {
      "EventType": "ChainedInvokeStarted",
      "EventId": 11,
      "Id": "d3d9446802a44259",
      "Name": "fraud-check",
      "EventTimestamp": 1767225680,
      "ChainedInvokeStartedDetails": {
        "FunctionName": "fraud:live",
        "Input": { "Payload": "{}", "Truncated": false },
        "ExecutedVersion": "3",
        "DurableExecutionArn": "arn:aws:lambda:us-east-1:123456789012:function:fraud:3/durable-execution/child-1/0b9a7c1e-5d7f-4a7e-9a51-4c3c8f1e2d3a"
      }
    },
    {
      "EventType": "ChainedInvokeSucceeded",
      "EventId": 12,
      "Id": "d3d9446802a44259",
      "Name": "fraud-check",
      "EventTimestamp": 1767225690,
      "ChainedInvokeSucceededDetails": { "Result": { "Payload": "{\"fraud\":false}", "Truncated": false } }
    },
    {
      "EventType": "ContextSucceeded",
      "SubType": "RunInChildContext",
      "EventId": 13,
      "Id": "c81e728d9d4c2f63",
      "Name": "child",
      "EventTimestamp": 1767225691,
      "ContextSucceededDetails": { "Result": { "Payload": "\"done\"", "Truncated": false } }
    },
    {
      "EventType": "ExecutionFailed",
      "EventId": 14,
      "Id": "5f0c7a1e-1b2c-4d3e-9f00-0a1b2c3d4e5f",
      "Name": "order-42",
      "EventTimestamp": 1767225692,
      "ExecutionFailedDetails": {
        "Error": { "Payload": { "ErrorType": "CallbackError", "ErrorMessage": "Callback timed out" }, "Truncated": true }
      }
    }
  ],
  "NextMarker": "ZXZlbnRzLTI="
}"#;

#[test]
fn history_events_round_trip() {
    let expected: Value = serde_json::from_str(HISTORY).unwrap();
    let history: GetDurableExecutionHistoryResponse = wire::from_json(HISTORY).unwrap();
    assert_eq!(serde_json::to_value(&history).unwrap(), expected);
    assert_eq!(history.next_marker.as_deref(), Some("ZXZlbnRzLTI="));

    use EventType::*;
    let types: Vec<EventType> = history.events.iter().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        [
            ExecutionStarted,
            StepStarted,
            StepFailed,
            StepSucceeded,
            ContextStarted,
            WaitStarted,
            InvocationCompleted,
            WaitSucceeded,
            CallbackStarted,
            CallbackTimedOut,
            ChainedInvokeStarted,
            ChainedInvokeSucceeded,
            ContextSucceeded,
            ExecutionFailed
        ]
    );
    let ids: Vec<u64> = history.events.iter().map(|e| e.event_id.get()).collect();
    assert_eq!(ids, (1..=14).collect::<Vec<u64>>());

    let e = &history.events;
    let started = e[0].execution_started_details.as_ref().unwrap();
    assert_eq!(started.execution_timeout, Some(86_400));
    assert_eq!(
        started.input.as_ref().unwrap().payload.as_deref(),
        Some(r#"{"orderId":"42"}"#)
    );
    assert!(e[1].step_started_details.as_ref().unwrap().is_empty());

    let failed = e[2].step_failed_details.as_ref().unwrap();
    let error = failed.error.as_ref().unwrap();
    assert_eq!(error.truncated, Some(false));
    let payload = error.payload.as_ref().unwrap();
    assert_eq!(payload.error_type.as_deref(), Some("TimeoutError"));
    assert_eq!(payload.stack_trace, ["at charge"]);
    let retry = failed.retry_details.as_ref().unwrap();
    assert_eq!(retry.current_attempt, Some(1));
    assert_eq!(retry.next_attempt_delay_seconds, Some(5));

    let succeeded = e[3].step_succeeded_details.as_ref().unwrap();
    assert_eq!(
        succeeded.result.as_ref().unwrap().payload.as_deref(),
        Some(r#"{"charged":true}"#)
    );
    assert_eq!(
        succeeded.retry_details.as_ref().unwrap().current_attempt,
        Some(2)
    );

    assert_eq!(
        e[5].parent_id.as_ref().unwrap().as_str(),
        "c81e728d9d4c2f63"
    );
    let wait = e[5].wait_started_details.as_ref().unwrap();
    assert_eq!(wait.duration, Some(10));
    assert_eq!(
        millis(wait.scheduled_end_timestamp.as_ref()),
        1_767_225_618_000
    );

    let invocation = e[6].invocation_completed_details.as_ref().unwrap();
    assert_eq!(e[6].id, None);
    assert_eq!(millis(invocation.end_timestamp.as_ref()), 1_767_225_608_200);
    assert_eq!(invocation.error, None);

    let callback = e[8].callback_started_details.as_ref().unwrap();
    assert_eq!(
        callback.callback_id.as_ref().unwrap().as_str(),
        "Y2FsbGJhY2stMQ=="
    );
    assert_eq!(
        (callback.timeout, callback.heartbeat_timeout),
        (Some(60), Some(0))
    );
    let timed_out = e[9].callback_timed_out_details.as_ref().unwrap();
    assert_eq!(
        timed_out
            .error
            .as_ref()
            .unwrap()
            .payload
            .as_ref()
            .unwrap()
            .error_type
            .as_deref(),
        Some("Callback.Timeout")
    );

    let invoke = e[10].chained_invoke_started_details.as_ref().unwrap();
    assert_eq!(invoke.executed_version.as_deref(), Some("3"));
    assert!(invoke
        .durable_execution_arn
        .as_ref()
        .unwrap()
        .as_str()
        .ends_with("/durable-execution/child-1/0b9a7c1e-5d7f-4a7e-9a51-4c3c8f1e2d3a"));
    assert_eq!(
        e[13]
            .execution_failed_details
            .as_ref()
            .unwrap()
            .error
            .as_ref()
            .unwrap()
            .truncated,
        Some(true)
    );
}

#[test]
fn history_event_errors_name_the_path() {
    let mut value: Value = serde_json::from_str(HISTORY).unwrap();
    value["Events"][3]["EventId"] = json!(0);
    let err = wire::from_value::<GetDurableExecutionHistoryResponse>(value).unwrap_err();
    assert_eq!(err.path(), "Events[3].EventId");

    let mut value: Value = serde_json::from_str(HISTORY).unwrap();
    value["Events"][2]["StepFailedDetails"]["Error"]["Payload"]["ErrorType"] = json!(7);
    let err = wire::from_value::<GetDurableExecutionHistoryResponse>(value).unwrap_err();
    assert_eq!(
        err.path(),
        "Events[2].StepFailedDetails.Error.Payload.ErrorType"
    );
}

/// `value` with the fields `set` assigns: the wire types are `#[non_exhaustive]`, so code
/// outside the SDK builds them from their constructors and sets optional fields after.
fn with_fields<T>(mut value: T, set: impl FnOnce(&mut T)) -> T {
    set(&mut value);
    value
}
