//! Proves that the generated wire types (`lambda_durable::wire`) match what the real
//! `aws-sdk-lambda` client sends and receives.
//!
//! A loopback HTTP/1 server records every request the client makes and answers with a
//! canned JSON body chosen by the test. Requests the client serializes are read back into
//! our wire types and must serialize to the same JSON; responses built from our wire types
//! must be parsed by the client into the same values.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeSet, VecDeque};
use std::convert::Infallible;
use std::fmt::Write as _;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types as aws;
use aws_smithy_types::DateTime;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use lambda_durable::wire::{self, Timestamp};
use serde_json::{json, Value};
use tokio::task::{JoinHandle, JoinSet};

const CALL_TIMEOUT: Duration = Duration::from_secs(10);

const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST/durable-execution/order-42/5f0c7a1e-1b2c-4d3e-9f00-0a1b2c3d4e5f";
/// `ARN` as a single smithy path label (`:` → `%3A`, `/` → `%2F`, `$` → `%24`).
const ARN_SEGMENT: &str = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aorders%3A%24LATEST%2Fdurable-execution%2Forder-42%2F5f0c7a1e-1b2c-4d3e-9f00-0a1b2c3d4e5f";
const EXECUTION_ID: &str = "5f0c7a1e-1b2c-4d3e-9f00-0a1b2c3d4e5f";
const CHECKPOINT_TOKEN: &str = "QmFzZTY0+T3BhcXVl/VG9rZW4=";

/// Callback ids are base64 and may contain `+`, `/` and `=`.
const CALLBACK_ID: &str = "eyJleGVjdXRpb24iOiJvcmRlci00MiJ9+/AbC==";
const CALLBACK_SEGMENT: &str = "eyJleGVjdXRpb24iOiJvcmRlci00MiJ9%2B%2FAbC%3D%3D";

// ---------------------------------------------------------------------------------------
// Loopback server
// ---------------------------------------------------------------------------------------

/// One request as the server received it.
#[derive(Debug, Clone)]
struct Captured {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl Captured {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn body_json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "request body is not JSON ({err}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn body_text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

#[derive(Default)]
struct ServerState {
    responses: VecDeque<String>,
    requests: Vec<Captured>,
}

struct MockServer {
    port: u16,
    state: Arc<Mutex<ServerState>>,
    task: Option<JoinHandle<()>>,
}

impl MockServer {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(ServerState::default()));
        let server_state = Arc::clone(&state);
        let task = tokio::spawn(async move {
            // Connections live in the set, so aborting this task also ends them.
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = Arc::clone(&server_state);
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        handle(Arc::clone(&state), request)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            port,
            state,
            task: Some(task),
        }
    }

    /// Queues the JSON body of the next 200 response.
    fn respond(&self, body: String) {
        self.state.lock().unwrap().responses.push_back(body);
    }

    /// The one request received since the last call; fails if there were none or several.
    fn take_request(&self) -> Captured {
        let mut state = self.state.lock().unwrap();
        let mut requests = std::mem::take(&mut state.requests);
        assert_eq!(
            requests.len(),
            1,
            "expected exactly one request, got {requests:#?}"
        );
        assert!(state.responses.is_empty(), "a queued response was not used");
        requests.pop().unwrap()
    }

    async fn shutdown(mut self) {
        let task = self.task.take().unwrap();
        task.abort();
        let err = task.await.unwrap_err();
        assert!(err.is_cancelled(), "server task ended with {err:?}");
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn handle(
    state: Arc<Mutex<ServerState>>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) => Bytes::from(format!("<body error: {err}>")),
    };
    let captured = Captured {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(key, value)| {
                (
                    key.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let canned = {
        let mut state = state.lock().unwrap();
        state.requests.push(captured);
        state.responses.pop_front()
    };
    let response = match canned {
        Some(body) => Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body))),
        None => Response::builder()
            .status(500)
            .header("content-type", "application/json")
            .header("x-amzn-errortype", "ServiceException")
            .body(Full::new(Bytes::from_static(
                br#"{"Message":"the test queued no response for this request"}"#,
            ))),
    };
    Ok(response.unwrap())
}

fn client_for(server: &MockServer) -> aws_sdk_lambda::Client {
    let config = aws_sdk_lambda::Config::builder()
        .endpoint_url(format!("http://127.0.0.1:{}", server.port))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
        .behavior_version(BehaviorVersion::latest())
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

/// Runs one client call with a bounded timeout and returns its output.
async fn call<T, E: std::fmt::Debug>(future: impl Future<Output = Result<T, E>>) -> T {
    match tokio::time::timeout(CALL_TIMEOUT, future).await {
        Ok(Ok(output)) => output,
        Ok(Err(err)) => panic!("client call failed: {err:?}"),
        Err(_) => panic!("client call did not finish within {CALL_TIMEOUT:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Encoding helpers
// ---------------------------------------------------------------------------------------

/// Percent-encodes a path label the way smithy does (everything but `A-Za-z0-9-._~`).
fn encode_label(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            write!(out, "%{byte:02X}").unwrap();
        }
    }
    out
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Builds a JSON object from a query string; `integers` and `booleans` name the keys whose
/// values are typed on the wire.
fn query_json(query: &str, integers: &[&str], booleans: &[&str]) -> Value {
    let mut object = serde_json::Map::new();
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(key);
        let value = percent_decode(value);
        let value = if integers.contains(&key.as_str()) {
            Value::from(value.parse::<i64>().unwrap())
        } else if booleans.contains(&key.as_str()) {
            Value::from(value.parse::<bool>().unwrap())
        } else {
            Value::from(value)
        };
        assert!(
            object.insert(key.clone(), value).is_none(),
            "query key {key} repeated in {query}"
        );
    }
    Value::Object(object)
}

/// Parses `value` as `T` with our schema-checked parser, serializes it back and checks the
/// JSON is unchanged.
fn round_trip<T>(value: &Value) -> T
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let parsed: T = wire::from_json(&value.to_string())
        .unwrap_or_else(|err| panic!("{} rejected {value:#}: {err}", std::any::type_name::<T>()));
    let again = serde_json::to_value(&parsed).unwrap();
    assert_eq!(
        &again,
        value,
        "{} does not round-trip",
        std::any::type_name::<T>()
    );
    parsed
}

/// Drops empty arrays, which the client writes (`"Updates":[]`, `"StackTrace":[]`) and our
/// types leave out; both mean the same on the wire.
fn without_empty_arrays(value: &Value) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .filter(|(_, v)| !matches!(v, Value::Array(items) if items.is_empty()))
                .map(|(k, v)| (k.clone(), without_empty_arrays(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_empty_arrays).collect()),
        other => other.clone(),
    }
}

/// The instant to the nearest millisecond. `DateTime::to_millis` truncates, and the
/// client builds a `DateTime` from the epoch-seconds float, so `.123` can come out as
/// `.122999…`.
fn rounded_millis(instant: &DateTime) -> i64 {
    instant.secs() * 1000 + (i64::from(instant.subsec_nanos()) + 500_000) / 1_000_000
}

fn assert_instant(ours: Option<&Timestamp>, theirs: Option<&DateTime>, what: &str) {
    match (ours, theirs) {
        (None, None) => {}
        (Some(ours), Some(theirs)) => {
            assert_eq!(rounded_millis(theirs), ours.epoch_millis(), "{what}");
            let expected = DateTime::from_millis(ours.epoch_millis());
            let drift = (theirs.as_nanos() - expected.as_nanos()).abs();
            assert!(
                drift < 1_000,
                "{what}: {theirs:?} is {drift} ns off {expected:?}"
            );
        }
        (ours, theirs) => panic!("{what}: ours {ours:?}, client {theirs:?}"),
    }
}

fn ts(millis: i64) -> Option<Timestamp> {
    Some(Timestamp::from_epoch_millis(millis))
}

// ---------------------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------------------

const OPERATION_TYPES: [wire::OperationType; 6] = [
    wire::OperationType::Execution,
    wire::OperationType::Context,
    wire::OperationType::Step,
    wire::OperationType::Wait,
    wire::OperationType::Callback,
    wire::OperationType::ChainedInvoke,
];

const OPERATION_STATUSES: [wire::OperationStatus; 8] = [
    wire::OperationStatus::Started,
    wire::OperationStatus::Pending,
    wire::OperationStatus::Ready,
    wire::OperationStatus::Succeeded,
    wire::OperationStatus::Failed,
    wire::OperationStatus::Cancelled,
    wire::OperationStatus::TimedOut,
    wire::OperationStatus::Stopped,
];

const OPERATION_ACTIONS: [wire::OperationAction; 5] = [
    wire::OperationAction::Start,
    wire::OperationAction::Succeed,
    wire::OperationAction::Fail,
    wire::OperationAction::Retry,
    wire::OperationAction::Cancel,
];

const EXECUTION_STATUSES: [wire::ExecutionStatus; 5] = [
    wire::ExecutionStatus::Running,
    wire::ExecutionStatus::Succeeded,
    wire::ExecutionStatus::Failed,
    wire::ExecutionStatus::TimedOut,
    wire::ExecutionStatus::Stopped,
];

/// The lists above hold every value the schemas list (the enumerations are
/// `#[non_exhaustive]`, so this is checked against their `KNOWN` lists, not by a match).
#[test]
fn enum_lists_are_exhaustive() {
    assert_eq!(&OPERATION_TYPES[..], wire::OperationType::KNOWN);
    assert_eq!(&OPERATION_STATUSES[..], wire::OperationStatus::KNOWN);
    assert_eq!(&OPERATION_ACTIONS[..], wire::OperationAction::KNOWN);
    assert_eq!(&EXECUTION_STATUSES[..], wire::ExecutionStatus::KNOWN);
}

fn wire_strings<T: serde::Serialize>(values: &[T]) -> BTreeSet<String> {
    values
        .iter()
        .map(|value| match serde_json::to_value(value).unwrap() {
            Value::String(text) => text,
            other => panic!("enum serialized as {other}"),
        })
        .collect()
}

fn client_strings(values: &[&str]) -> BTreeSet<String> {
    values.iter().map(|value| (*value).to_owned()).collect()
}

#[test]
fn enumerations_have_the_same_values_as_the_client() {
    assert_eq!(
        wire_strings(&OPERATION_TYPES),
        client_strings(aws::OperationType::values())
    );
    assert_eq!(
        wire_strings(&OPERATION_STATUSES),
        client_strings(aws::OperationStatus::values())
    );
    assert_eq!(
        wire_strings(&OPERATION_ACTIONS),
        client_strings(aws::OperationAction::values())
    );
    assert_eq!(
        wire_strings(&EXECUTION_STATUSES),
        client_strings(aws::ExecutionStatus::values())
    );
    let event_types: Vec<wire::EventType> = aws::EventType::values()
        .iter()
        .map(|value| value.parse().unwrap())
        .collect();
    assert_eq!(
        wire_strings(&event_types),
        client_strings(aws::EventType::values())
    );
    // And no EventType of ours is unknown to the client.
    let schema: Value =
        serde_json::from_str(include_str!("../schema/wire/EventType.json")).unwrap();
    let ours: BTreeSet<String> = schema["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|value| value.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ours, client_strings(aws::EventType::values()));
}

// ---------------------------------------------------------------------------------------
// Comparisons between our values and the client's
// ---------------------------------------------------------------------------------------

fn assert_error(ours: Option<&wire::ErrorObject>, theirs: Option<&aws::ErrorObject>, what: &str) {
    match (ours, theirs) {
        (None, None) => {}
        (Some(ours), Some(theirs)) => {
            assert_eq!(
                ours.error_type.as_deref(),
                theirs.error_type(),
                "{what}.ErrorType"
            );
            assert_eq!(
                ours.error_message.as_deref(),
                theirs.error_message(),
                "{what}.ErrorMessage"
            );
            assert_eq!(
                ours.error_data.as_deref(),
                theirs.error_data(),
                "{what}.ErrorData"
            );
            assert_eq!(
                ours.stack_trace.as_slice(),
                theirs.stack_trace(),
                "{what}.StackTrace"
            );
        }
        (ours, theirs) => panic!("{what}: ours {ours:?}, client {theirs:?}"),
    }
}

fn assert_update(ours: &wire::OperationUpdate, theirs: &aws::OperationUpdate) {
    let what = format!("update {}", theirs.id());
    assert_eq!(ours.id.as_str(), theirs.id(), "{what}: Id");
    assert_eq!(
        ours.parent_id.as_ref().map(|id| id.as_str()),
        theirs.parent_id(),
        "{what}: ParentId"
    );
    assert_eq!(
        ours.name.as_ref().map(|name| name.as_str()),
        theirs.name(),
        "{what}: Name"
    );
    assert_eq!(
        ours.type_.to_string(),
        theirs.r#type().as_str(),
        "{what}: Type"
    );
    assert_eq!(
        ours.sub_type.as_ref().map(|sub_type| sub_type.as_str()),
        theirs.sub_type(),
        "{what}: SubType"
    );
    assert_eq!(
        ours.action.to_string(),
        theirs.action().as_str(),
        "{what}: Action"
    );
    assert_eq!(ours.payload.as_deref(), theirs.payload(), "{what}: Payload");
    assert_error(
        ours.error.as_ref(),
        theirs.error(),
        &format!("{what}: Error"),
    );
    assert_eq!(
        ours.context_options.as_ref().map(|o| o.replay_children),
        theirs.context_options().map(|o| o.replay_children()),
        "{what}: ContextOptions"
    );
    assert_eq!(
        ours.step_options
            .as_ref()
            .map(|o| o.next_attempt_delay_seconds.map(|n| n.get())),
        theirs.step_options().map(|o| o
            .next_attempt_delay_seconds()
            .map(|n| u64::try_from(n).unwrap())),
        "{what}: StepOptions"
    );
    assert_eq!(
        ours.wait_options
            .as_ref()
            .map(|o| o.wait_seconds.map(|n| n.get())),
        theirs
            .wait_options()
            .map(|o| o.wait_seconds().map(|n| u64::try_from(n).unwrap())),
        "{what}: WaitOptions"
    );
    match (ours.callback_options.as_ref(), theirs.callback_options()) {
        (None, None) => {}
        (Some(ours), Some(theirs)) => {
            // The client leaves out zero (= no timeout), which we read as absent.
            assert_eq!(
                ours.timeout_seconds.unwrap_or(0),
                i64::from(theirs.timeout_seconds()),
                "{what}: CallbackOptions.TimeoutSeconds"
            );
            assert_eq!(
                ours.heartbeat_timeout_seconds.unwrap_or(0),
                i64::from(theirs.heartbeat_timeout_seconds()),
                "{what}: CallbackOptions.HeartbeatTimeoutSeconds"
            );
        }
        (ours, theirs) => panic!("{what}: CallbackOptions ours {ours:?}, client {theirs:?}"),
    }
    match (
        ours.chained_invoke_options.as_ref(),
        theirs.chained_invoke_options(),
    ) {
        (None, None) => {}
        (Some(ours), Some(theirs)) => {
            assert_eq!(
                ours.function_name,
                theirs.function_name(),
                "{what}: FunctionName"
            );
            assert_eq!(
                ours.tenant_id.as_deref(),
                theirs.tenant_id(),
                "{what}: TenantId"
            );
            assert_eq!(
                ours.x_amzn_trace_id.as_deref(),
                theirs.x_amzn_trace_id(),
                "{what}: XAmznTraceId"
            );
        }
        (ours, theirs) => panic!("{what}: ChainedInvokeOptions ours {ours:?}, client {theirs:?}"),
    }
}

fn assert_operation(ours: &wire::Operation, theirs: &aws::Operation) {
    let what = format!("operation {}", ours.id.as_str());
    assert_eq!(ours.id.as_str(), theirs.id(), "{what}: Id");
    assert_eq!(
        ours.parent_id.as_ref().map(|id| id.as_str()),
        theirs.parent_id(),
        "{what}: ParentId"
    );
    assert_eq!(
        ours.name.as_ref().map(|name| name.as_str()),
        theirs.name(),
        "{what}: Name"
    );
    assert_eq!(
        ours.sub_type.as_ref().map(|sub_type| sub_type.as_str()),
        theirs.sub_type(),
        "{what}: SubType"
    );
    assert_eq!(
        ours.type_.to_string(),
        theirs.r#type().as_str(),
        "{what}: Type"
    );
    assert!(
        aws::OperationType::values().contains(&theirs.r#type().as_str()),
        "{what}: the client does not know type {:?}",
        theirs.r#type()
    );
    assert_eq!(
        ours.status.to_string(),
        theirs.status().as_str(),
        "{what}: Status"
    );
    assert!(
        aws::OperationStatus::values().contains(&theirs.status().as_str()),
        "{what}: the client does not know status {:?}",
        theirs.status()
    );
    assert_instant(
        ours.start_timestamp.as_ref(),
        Some(theirs.start_timestamp()),
        &format!("{what}: StartTimestamp"),
    );
    assert_instant(
        ours.end_timestamp.as_ref(),
        theirs.end_timestamp(),
        &format!("{what}: EndTimestamp"),
    );

    assert_eq!(
        ours.execution_details
            .as_ref()
            .map(|d| d.input_payload.as_deref()),
        theirs.execution_details().map(|d| d.input_payload()),
        "{what}: ExecutionDetails"
    );

    match (ours.context_details.as_ref(), theirs.context_details()) {
        (None, None) => {}
        (Some(ours), Some(theirs)) => {
            assert_eq!(
                ours.replay_children,
                theirs.replay_children(),
                "{what}: ReplayChildren"
            );
            assert_eq!(
                ours.result.as_deref(),
                theirs.result(),
                "{what}: ContextDetails.Result"
            );
            assert_error(
                ours.error.as_ref(),
                theirs.error(),
                &format!("{what}: ContextDetails.Error"),
            );
        }
        (ours, theirs) => panic!("{what}: ContextDetails ours {ours:?}, client {theirs:?}"),
    }

    match (ours.step_details.as_ref(), theirs.step_details()) {
        (None, None) => {}
        (Some(ours), Some(theirs)) => {
            assert_eq!(
                ours.attempt.unwrap_or(0),
                i64::from(theirs.attempt()),
                "{what}: Attempt"
            );
            assert_instant(
                ours.next_attempt_timestamp.as_ref(),
                theirs.next_attempt_timestamp(),
                &format!("{what}: NextAttemptTimestamp"),
            );
            assert_eq!(
                ours.result.as_deref(),
                theirs.result(),
                "{what}: StepDetails.Result"
            );
            assert_error(
                ours.error.as_ref(),
                theirs.error(),
                &format!("{what}: StepDetails.Error"),
            );
        }
        (ours, theirs) => panic!("{what}: StepDetails ours {ours:?}, client {theirs:?}"),
    }

    match (ours.wait_details.as_ref(), theirs.wait_details()) {
        (None, None) => {}
        (Some(ours), Some(theirs)) => assert_instant(
            ours.scheduled_end_timestamp.as_ref(),
            theirs.scheduled_end_timestamp(),
            &format!("{what}: ScheduledEndTimestamp"),
        ),
        (ours, theirs) => panic!("{what}: WaitDetails ours {ours:?}, client {theirs:?}"),
    }

    match (ours.callback_details.as_ref(), theirs.callback_details()) {
        (None, None) => {}
        (Some(ours), Some(theirs)) => {
            assert_eq!(
                ours.callback_id.as_ref().map(|id| id.as_str()),
                theirs.callback_id(),
                "{what}: CallbackId"
            );
            assert_eq!(
                ours.result.as_deref(),
                theirs.result(),
                "{what}: CallbackDetails.Result"
            );
            assert_error(
                ours.error.as_ref(),
                theirs.error(),
                &format!("{what}: CallbackDetails.Error"),
            );
        }
        (ours, theirs) => panic!("{what}: CallbackDetails ours {ours:?}, client {theirs:?}"),
    }

    match (
        ours.chained_invoke_details.as_ref(),
        theirs.chained_invoke_details(),
    ) {
        (None, None) => {}
        (Some(ours), Some(theirs)) => {
            assert_eq!(
                ours.result.as_deref(),
                theirs.result(),
                "{what}: ChainedInvokeDetails.Result"
            );
            assert_error(
                ours.error.as_ref(),
                theirs.error(),
                &format!("{what}: ChainedInvokeDetails.Error"),
            );
        }
        (ours, theirs) => panic!("{what}: ChainedInvokeDetails ours {ours:?}, client {theirs:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// CheckpointDurableExecution requests
// ---------------------------------------------------------------------------------------

fn aws_error(error_type: &str) -> aws::ErrorObject {
    aws::ErrorObject::builder()
        .error_type(error_type)
        .error_message("card declined: \"insufficient funds\"\nrétry later ✓ 🚀")
        .error_data(r#"{"code":51,"path":"C:\\tmp"}"#)
        .stack_trace("at charge (src/handler.rs:10:5)")
        .stack_trace("at main (src/main.rs:2:1)")
        .build()
}

fn update(
    id: &str,
    type_: aws::OperationType,
    action: aws::OperationAction,
) -> aws::builders::OperationUpdateBuilder {
    aws::OperationUpdate::builder()
        .id(id)
        .r#type(type_)
        .action(action)
}

/// Every (type, action) pair PROTOCOL.md 5.2 allows, except EXECUTION (see the EXECUTION
/// requests below), with every optional field in use somewhere.
fn mid_invocation_updates() -> Vec<aws::OperationUpdate> {
    use aws::OperationAction as A;
    use aws::OperationType as T;
    let builders = vec![
        // CONTEXT START at the root.
        update("ctx-order", T::Context, A::Start)
            .name("process order")
            .sub_type("RunInChildContext"),
        // STEP START then SUCCEED inside the context.
        update("step-charge", T::Step, A::Start)
            .parent_id("ctx-order")
            .name("charge card")
            .sub_type("Step"),
        update("step-charge", T::Step, A::Succeed)
            .parent_id("ctx-order")
            .name("charge card")
            .sub_type("Step")
            .payload(r#"{"charged":true,"amount":12.5,"note":"ünïcode ✓"}"#),
        // STEP FAIL with a full error.
        update("step-refund", T::Step, A::Fail)
            .parent_id("ctx-order")
            .sub_type("Step")
            .error(aws_error("RefundError")),
        // STEP RETRY with an error (a failed attempt).
        update("step-notify", T::Step, A::Retry)
            .name("notify ~!@#$%^&*()")
            .sub_type("Step")
            .step_options(aws::StepOptions::builder().next_attempt_delay_seconds(5).build())
            .error(aws_error("TimeoutError")),
        // STEP RETRY with a payload (wait-for-condition state), at the maximum delay.
        update("step-poll", T::Step, A::Retry)
            .name("poll status")
            .sub_type("WaitForCondition")
            .step_options(
                aws::StepOptions::builder()
                    .next_attempt_delay_seconds(31_622_400)
                    .build(),
            )
            .payload(r#"{"attempts":3}"#),
        // WAIT START and CANCEL.
        update("wait-cool", T::Wait, A::Start)
            .name("cool down")
            .sub_type("Wait")
            .wait_options(aws::WaitOptions::builder().wait_seconds(300).build()),
        update("wait-old", T::Wait, A::Cancel).sub_type("Wait"),
        // CALLBACK START with both timeouts, with only one (the client drops zero), and
        // CANCEL (allowed by the JS validator).
        update("cb-approval", T::Callback, A::Start)
            .parent_id("ctx-order")
            .name("approval")
            .sub_type("Callback")
            .callback_options(
                aws::CallbackOptions::builder()
                    .timeout_seconds(3600)
                    .heartbeat_timeout_seconds(60)
                    .build(),
            ),
        update("cb-receipt", T::Callback, A::Start)
            .sub_type("Callback")
            .callback_options(
                aws::CallbackOptions::builder()
                    .timeout_seconds(99_999_999)
                    .build(),
            ),
        update("cb-stale", T::Callback, A::Cancel).sub_type("Callback"),
        // CHAINED_INVOKE START with every option, and CANCEL.
        update("inv-pay", T::ChainedInvoke, A::Start)
            .name("invoke payments")
            .sub_type("ChainedInvoke")
            .payload(r#"{"orderId":"42"}"#)
            .chained_invoke_options(
                aws::ChainedInvokeOptions::builder()
                    .function_name("arn:aws:lambda:us-east-1:123456789012:function:payments:3")
                    .tenant_id("tenant-7")
                    .x_amzn_trace_id(
                        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                    )
                    .build()
                    .unwrap(),
            ),
        update("inv-old", T::ChainedInvoke, A::Cancel),
        // CONTEXT SUCCEED with ReplayChildren.
        update("ctx-order", T::Context, A::Succeed)
            .name("process order")
            .sub_type("RunInChildContext")
            .payload(r#"{"status":"done"}"#)
            .context_options(aws::ContextOptions::builder().replay_children(true).build()),
        // CONTEXT START then FAIL (a map).
        update("ctx-map", T::Context, A::Start)
            .name("ship items")
            .sub_type("Map"),
        update("ctx-map", T::Context, A::Fail)
            .name("ship items")
            .sub_type("Map")
            .error(aws_error("MapError"))
            .context_options(aws::ContextOptions::builder().replay_children(false).build()),
    ];
    builders
        .into_iter()
        .map(|builder| builder.build().unwrap())
        .collect()
}

fn assert_checkpoint_request(
    request: &Captured,
    sent_updates: &[aws::OperationUpdate],
) -> wire::CheckpointDurableExecutionRequest {
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.path,
        format!("/2025-12-01/durable-executions/{ARN_SEGMENT}/checkpoint")
    );
    assert_eq!(request.query, None);
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert!(
        request
            .header("authorization")
            .is_some_and(|auth| auth.starts_with("AWS4-HMAC-SHA256 Credential=AKID/")),
        "the request is not SigV4-signed with the test credentials: {:?}",
        request.header("authorization")
    );
    let body = request.body_json();
    let parsed: wire::CheckpointDurableExecutionRequest = round_trip(&body);

    assert_eq!(parsed.checkpoint_token.as_str(), CHECKPOINT_TOKEN);
    let client_token = parsed
        .client_token
        .as_ref()
        .expect("the client fills in ClientToken");
    assert_eq!(Some(client_token.as_str()), body["ClientToken"].as_str());
    assert!(
        (1..=64).contains(&client_token.len())
            && client_token.bytes().all(|b| (0x21..=0x7e).contains(&b)),
        "ClientToken {client_token:?} does not match ^[\\x21-\\x7E]{{1,64}}$"
    );

    assert_eq!(parsed.updates.len(), sent_updates.len(), "update count");
    for (ours, theirs) in parsed.updates.iter().zip(sent_updates) {
        assert_update(ours, theirs);
    }
    parsed
}

#[tokio::test]
async fn checkpoint_requests_cover_every_update_and_round_trip() {
    let server = MockServer::start().await;
    let client = client_for(&server);
    let ack = serde_json::to_string(&with_fields(
        wire::CheckpointDurableExecutionResponse::default(),
        |it| {
            it.checkpoint_token = Some("bmV4dA==".parse().unwrap());
        },
    ))
    .unwrap();

    // 1. Every non-EXECUTION type/action pair in one batch.
    let updates = mid_invocation_updates();
    let covered: BTreeSet<(String, String)> = updates
        .iter()
        .map(|u| {
            (
                u.r#type().as_str().to_owned(),
                u.action().as_str().to_owned(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
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
    .map(|(t, a)| (t.to_owned(), a.to_owned()))
    .collect();
    assert_eq!(covered, expected);

    server.respond(ack.clone());
    let output = call(
        client
            .checkpoint_durable_execution()
            .durable_execution_arn(ARN)
            .checkpoint_token(CHECKPOINT_TOKEN)
            .set_updates(Some(updates.clone()))
            .send(),
    )
    .await;
    assert_eq!(output.checkpoint_token(), Some("bmV4dA=="));
    let first = assert_checkpoint_request(&server.take_request(), &updates);
    let body_ids: Vec<&str> = first.updates.iter().map(|u| u.id.as_str()).collect();
    let sent_ids: Vec<&str> = updates.iter().map(aws::OperationUpdate::id).collect();
    assert_eq!(body_ids, sent_ids);
    // The client drops a zero CallbackOptions member; we read it as absent.
    let receipt = first
        .updates
        .iter()
        .find(|u| u.id.as_str() == "cb-receipt")
        .unwrap();
    let receipt_options = receipt.callback_options.as_ref().unwrap();
    assert_eq!(receipt_options.timeout_seconds, Some(99_999_999));
    assert_eq!(receipt_options.heartbeat_timeout_seconds, None);

    // 2. EXECUTION SUCCEED as the last update, after a STEP SUCCEED; explicit ClientToken.
    let execution_succeed = vec![
        aws::OperationUpdate::builder()
            .id("step-last")
            .r#type(aws::OperationType::Step)
            .sub_type("Step")
            .action(aws::OperationAction::Succeed)
            .payload("null")
            .build()
            .unwrap(),
        aws::OperationUpdate::builder()
            .id("execution-result-1767225600000")
            .r#type(aws::OperationType::Execution)
            .action(aws::OperationAction::Succeed)
            .payload(r#"{"ok":true}"#)
            .build()
            .unwrap(),
    ];
    server.respond("{}".to_owned());
    let output = call(
        client
            .checkpoint_durable_execution()
            .durable_execution_arn(ARN)
            .checkpoint_token(CHECKPOINT_TOKEN)
            .client_token("fixed-client-token~!")
            .set_updates(Some(execution_succeed.clone()))
            .send(),
    )
    .await;
    assert_eq!(output.checkpoint_token(), None);
    let second = assert_checkpoint_request(&server.take_request(), &execution_succeed);
    assert_eq!(
        second.client_token.as_ref().map(|t| t.as_str()),
        Some("fixed-client-token~!")
    );

    // 3. EXECUTION FAIL alone; a fresh auto-filled ClientToken.
    let execution_fail = vec![aws::OperationUpdate::builder()
        .id("execution-result-1767225600001")
        .r#type(aws::OperationType::Execution)
        .action(aws::OperationAction::Fail)
        .error(aws_error("HandlerError"))
        .build()
        .unwrap()];
    server.respond("{}".to_owned());
    call(
        client
            .checkpoint_durable_execution()
            .durable_execution_arn(ARN)
            .checkpoint_token(CHECKPOINT_TOKEN)
            .set_updates(Some(execution_fail.clone()))
            .send(),
    )
    .await;
    let third = assert_checkpoint_request(&server.take_request(), &execution_fail);
    assert_ne!(
        third.client_token, first.client_token,
        "each send() gets a new ClientToken"
    );

    // 4. No updates at all: the body has no Updates member.
    server.respond(ack.clone());
    call(
        client
            .checkpoint_durable_execution()
            .durable_execution_arn(ARN)
            .checkpoint_token(CHECKPOINT_TOKEN)
            .send(),
    )
    .await;
    let request = server.take_request();
    assert!(request.body_json().get("Updates").is_none());
    let empty = assert_checkpoint_request(&request, &[]);
    assert!(empty.updates.is_empty());

    // 5. An explicitly empty list, and an error with an empty StackTrace: the client
    //    writes `[]`, our types read it as empty and leave it out when writing.
    let empty_stack = vec![aws::OperationUpdate::builder()
        .id("step-empty-stack")
        .r#type(aws::OperationType::Step)
        .action(aws::OperationAction::Fail)
        .error(
            aws::ErrorObject::builder()
                .error_type("E")
                .set_stack_trace(Some(Vec::new()))
                .build(),
        )
        .build()
        .unwrap()];
    for updates in [Vec::new(), empty_stack] {
        server.respond(ack.clone());
        call(
            client
                .checkpoint_durable_execution()
                .durable_execution_arn(ARN)
                .checkpoint_token(CHECKPOINT_TOKEN)
                .set_updates(Some(updates.clone()))
                .send(),
        )
        .await;
        let request = server.take_request();
        let body = request.body_json();
        assert_ne!(
            body,
            without_empty_arrays(&body),
            "the client wrote an empty array"
        );
        let parsed: wire::CheckpointDurableExecutionRequest =
            wire::from_json(request.body_text()).unwrap();
        assert_eq!(
            serde_json::to_value(&parsed).unwrap(),
            without_empty_arrays(&body)
        );
        assert_eq!(parsed.updates.len(), updates.len());
        for (ours, theirs) in parsed.updates.iter().zip(&updates) {
            assert_update(ours, theirs);
        }
    }

    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// CheckpointDurableExecution responses
// ---------------------------------------------------------------------------------------

fn op(
    id: &str,
    type_: wire::OperationType,
    status: wire::OperationStatus,
    start_millis: i64,
) -> wire::Operation {
    with_fields(
        wire::Operation::new(id.parse().unwrap(), status, type_),
        |it| {
            it.start_timestamp = ts(start_millis);
        },
    )
}

fn wire_error(error_type: &str) -> wire::ErrorObject {
    with_fields(wire::ErrorObject::default(), |it| {
        it.error_data = Some(r#"{"code":51}"#.to_owned());
        it.error_message = Some("it \"broke\"\nbadly ✓".to_owned());
        it.error_type = Some(error_type.to_owned());
        it.stack_trace = vec!["at a (a.rs:1)".to_owned(), "at b (b.rs:2)".to_owned()];
    })
}

/// Operations of every type and every status, with every details member populated.
fn every_kind_of_operation() -> Vec<wire::Operation> {
    use wire::OperationStatus as S;
    use wire::OperationType as T;
    let ctx = "ctx-order";
    vec![
        with_fields(
            op(EXECUTION_ID, T::Execution, S::Started, 1_767_225_600_000),
            |it| {
                it.execution_details = Some(with_fields(wire::ExecutionDetails::default(), |it| {
                    it.input_payload = Some(r#"{"orderId":"42"}"#.to_owned());
                }));
            },
        ),
        with_fields(op(ctx, T::Context, S::Succeeded, 1_767_225_600_250), |it| {
            it.name = Some("process order".parse().unwrap());
            it.sub_type = Some("RunInChildContext".parse().unwrap());
            it.end_timestamp = ts(1_767_225_601_999);
            it.context_details = Some(with_fields(wire::ContextDetails::default(), |it| {
                it.replay_children = Some(true);
                it.result = Some(r#"{"status":"done"}"#.to_owned());
            }));
        }),
        with_fields(
            op("ctx-map", T::Context, S::Failed, 1_767_225_600_500),
            |it| {
                it.sub_type = Some("Map".parse().unwrap());
                it.end_timestamp = ts(1_767_225_602_001);
                it.context_details = Some(with_fields(wire::ContextDetails::default(), |it| {
                    it.replay_children = Some(false);
                    it.error = Some(wire_error("MapError"));
                }));
            },
        ),
        with_fields(
            op("step-charge", T::Step, S::Pending, 1_767_225_600_123),
            |it| {
                it.parent_id = Some(ctx.parse().unwrap());
                it.name = Some("charge card".parse().unwrap());
                it.sub_type = Some("Step".parse().unwrap());
                it.step_details = Some(with_fields(wire::StepDetails::default(), |it| {
                    it.attempt = Some(2);
                    it.next_attempt_timestamp = ts(1_767_225_661_001);
                    it.result = Some(r#"{"partial":1}"#.to_owned());
                    it.error = Some(wire_error("TimeoutError"));
                }));
            },
        ),
        with_fields(
            op("step-poll", T::Step, S::Ready, 1_767_225_600_999),
            |it| {
                it.sub_type = Some("WaitForCondition".parse().unwrap());
                it.step_details = Some(with_fields(Default::default(), |it| {
                    it.attempt = Some(3);
                }));
            },
        ),
        op("step-running", T::Step, S::Started, 1_767_225_600_001),
        with_fields(
            op("wait-cool", T::Wait, S::Started, 1_767_225_900_777),
            |it| {
                it.name = Some("cool down".parse().unwrap());
                it.sub_type = Some("Wait".parse().unwrap());
                it.wait_details = Some(with_fields(wire::WaitDetails::default(), |it| {
                    it.scheduled_end_timestamp = ts(1_767_226_200_777);
                }));
            },
        ),
        with_fields(
            op("wait-old", T::Wait, S::Cancelled, 1_767_225_600_000),
            |it| {
                it.end_timestamp = ts(1_767_225_700_000);
                it.wait_details = Some(with_fields(wire::WaitDetails::default(), |it| {
                    it.scheduled_end_timestamp = ts(1_767_229_200_000);
                }));
            },
        ),
        with_fields(
            op("cb-approval", T::Callback, S::TimedOut, 1_767_225_600_456),
            |it| {
                it.parent_id = Some(ctx.parse().unwrap());
                it.sub_type = Some("Callback".parse().unwrap());
                it.end_timestamp = ts(1_767_229_200_456);
                it.callback_details = Some(with_fields(wire::CallbackDetails::default(), |it| {
                    it.callback_id = Some(CALLBACK_ID.parse().unwrap());
                    it.error = Some(with_fields(Default::default(), |it| {
                        it.error_type = Some("Callback.Timeout".to_owned());
                        it.error_message = Some("Callback timed out".to_owned());
                    }));
                }));
            },
        ),
        with_fields(
            op("cb-receipt", T::Callback, S::Succeeded, 1_767_225_600_000),
            |it| {
                it.callback_details = Some(with_fields(wire::CallbackDetails::default(), |it| {
                    it.callback_id = Some("Y2ItcmVjZWlwdA==".parse().unwrap());
                    it.result = Some(r#"{"approved":true}"#.to_owned());
                }));
                it.end_timestamp = ts(1_767_225_650_000);
            },
        ),
        with_fields(
            op("inv-pay", T::ChainedInvoke, S::Stopped, 1_767_225_600_010),
            |it| {
                it.name = Some("invoke payments".parse().unwrap());
                it.end_timestamp = ts(1_767_225_610_010);
                it.chained_invoke_details =
                    Some(with_fields(wire::ChainedInvokeDetails::default(), |it| {
                        it.error = Some(wire_error("Execution.Stopped"));
                    }));
            },
        ),
        with_fields(
            op("inv-ok", T::ChainedInvoke, S::Succeeded, 1_767_225_600_020),
            |it| {
                it.sub_type = Some("ChainedInvoke".parse().unwrap());
                it.end_timestamp = ts(1_767_225_620_020);
                it.chained_invoke_details =
                    Some(with_fields(wire::ChainedInvokeDetails::default(), |it| {
                        it.result = Some(r#"{"paid":true}"#.to_owned());
                    }));
            },
        ),
    ]
}

#[tokio::test]
async fn checkpoint_responses_built_from_wire_types_parse_in_the_client() {
    let operations = every_kind_of_operation();
    assert_eq!(
        wire_strings(&operations.iter().map(|o| o.type_).collect::<Vec<_>>()),
        wire_strings(&OPERATION_TYPES),
        "every OperationType is covered"
    );
    assert_eq!(
        wire_strings(&operations.iter().map(|o| o.status).collect::<Vec<_>>()),
        wire_strings(&OPERATION_STATUSES),
        "every OperationStatus is covered"
    );

    let server = MockServer::start().await;
    let client = client_for(&server);

    let response = with_fields(wire::CheckpointDurableExecutionResponse::default(), |it| {
        it.checkpoint_token = Some("QmFzZTY0T3BhcXVlVG9rZW4y".parse().unwrap());
        it.new_execution_state = Some(with_fields(
            wire::CheckpointUpdatedExecutionState::default(),
            |it| {
                it.next_marker = Some("changed-page-2".to_owned());
                it.operations = operations.clone();
            },
        ));
    });
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(
        round_trip::<wire::CheckpointDurableExecutionResponse>(&json),
        response
    );
    // Timestamps go out as epoch seconds, as the API sends them.
    assert_eq!(
        json["NewExecutionState"]["Operations"][1]["EndTimestamp"],
        json!(1_767_225_601.999)
    );
    server.respond(json.to_string());
    let output = call(
        client
            .checkpoint_durable_execution()
            .durable_execution_arn(ARN)
            .checkpoint_token(CHECKPOINT_TOKEN)
            .send(),
    )
    .await;
    server.take_request();
    assert_eq!(output.checkpoint_token(), Some("QmFzZTY0T3BhcXVlVG9rZW4y"));
    let state = output.new_execution_state().expect("NewExecutionState");
    assert_eq!(state.next_marker(), Some("changed-page-2"));
    assert_eq!(state.operations().len(), operations.len());
    for (ours, theirs) in operations.iter().zip(state.operations()) {
        assert_operation(ours, theirs);
    }

    // A terminal response: no token, no state.
    let terminal = wire::CheckpointDurableExecutionResponse::default();
    server.respond(serde_json::to_string(&terminal).unwrap());
    let output = call(
        client
            .checkpoint_durable_execution()
            .durable_execution_arn(ARN)
            .checkpoint_token(CHECKPOINT_TOKEN)
            .send(),
    )
    .await;
    server.take_request();
    assert_eq!(output.checkpoint_token(), None);
    // NewExecutionState is required in the client's model, so it substitutes an empty one.
    assert!(
        output
            .new_execution_state()
            .is_none_or(|state| state.operations().is_empty() && state.next_marker().is_none()),
        "{:?}",
        output.new_execution_state()
    );

    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// GetDurableExecutionState
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn get_state_query_reads_into_the_request_type_and_the_response_parses() {
    let server = MockServer::start().await;
    let client = client_for(&server);
    let marker = "page 2/of:3+x=";

    let operations: Vec<wire::Operation> = every_kind_of_operation().into_iter().take(4).collect();
    let response = with_fields(
        wire::GetDurableExecutionStateResponse::new(operations.clone()),
        |it| {
            it.next_marker = Some("state-page-3".to_owned());
        },
    );
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(
        round_trip::<wire::GetDurableExecutionStateResponse>(&json),
        response
    );
    server.respond(json.to_string());
    let output = call(
        client
            .get_durable_execution_state()
            .durable_execution_arn(ARN)
            .checkpoint_token(CHECKPOINT_TOKEN)
            .marker(marker)
            .max_items(1000)
            .send(),
    )
    .await;
    let request = server.take_request();
    assert_eq!(request.method, "GET");
    assert_eq!(
        request.path,
        format!("/2025-12-01/durable-executions/{ARN_SEGMENT}/state")
    );
    assert!(request.body.is_empty());
    let query = request.query.as_deref().expect("query string");
    let query = query_json(query, &["MaxItems"], &[]);
    let parsed: wire::GetDurableExecutionStateRequest = round_trip(&query);
    assert_eq!(parsed.checkpoint_token.as_str(), CHECKPOINT_TOKEN);
    assert_eq!(parsed.marker.as_deref(), Some(marker));
    assert_eq!(parsed.max_items, Some(1000));

    assert_eq!(output.next_marker(), Some("state-page-3"));
    assert_eq!(output.operations().len(), operations.len());
    for (ours, theirs) in operations.iter().zip(output.operations()) {
        assert_operation(ours, theirs);
    }

    // Only the required parameter, and the last page: no NextMarker, no operations.
    let last_page = wire::GetDurableExecutionStateResponse::new(Vec::new());
    server.respond(serde_json::to_string(&last_page).unwrap());
    let output = call(
        client
            .get_durable_execution_state()
            .durable_execution_arn(ARN)
            .checkpoint_token(CHECKPOINT_TOKEN)
            .send(),
    )
    .await;
    let request = server.take_request();
    let query = query_json(request.query.as_deref().unwrap(), &["MaxItems"], &[]);
    assert_eq!(query, json!({ "CheckpointToken": CHECKPOINT_TOKEN }));
    let parsed: wire::GetDurableExecutionStateRequest = round_trip(&query);
    assert_eq!(parsed.marker, None);
    assert_eq!(parsed.max_items, None);
    assert_eq!(output.next_marker(), None);
    assert!(output.operations().is_empty());

    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// Callback completion APIs
// ---------------------------------------------------------------------------------------

fn callback_path(action: &str) -> String {
    format!("/2025-12-01/durable-execution-callbacks/{CALLBACK_SEGMENT}/{action}")
}

/// The CallbackId the server sees in the path, decoded.
fn callback_id_from_path(request: &Captured, action: &str) -> String {
    let rest = request
        .path
        .strip_prefix("/2025-12-01/durable-execution-callbacks/")
        .unwrap();
    let segment = rest.strip_suffix(&format!("/{action}")).unwrap();
    assert!(
        !segment.contains('/'),
        "CallbackId spans segments: {segment}"
    );
    percent_decode(segment)
}

#[tokio::test]
async fn callback_apis_send_bodies_that_fit_the_request_types() {
    let server = MockServer::start().await;
    let client = client_for(&server);
    let ack = serde_json::to_string(&wire::SendDurableExecutionCallbackResponse(
        serde_json::Map::new(),
    ))
    .unwrap();
    assert_eq!(ack, "{}");

    // Success: the raw result bytes are the body.
    let result = r#"{"approved":true,"by":"Zoë ✓"}"#;
    server.respond(ack.clone());
    call(
        client
            .send_durable_execution_callback_success()
            .callback_id(CALLBACK_ID)
            .result(Blob::new(result.as_bytes()))
            .send(),
    )
    .await;
    let request = server.take_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, callback_path("succeed"));
    assert_eq!(
        request.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(request.body.as_ref(), result.as_bytes());
    let callback_id = callback_id_from_path(&request, "succeed");
    assert_eq!(callback_id, CALLBACK_ID);
    let success: wire::SendDurableExecutionCallbackSuccessRequest = round_trip(&json!({
        "CallbackId": callback_id,
        "Result": request.body_text(),
    }));
    assert_eq!(success.callback_id.as_str(), CALLBACK_ID);
    assert_eq!(success.result.as_deref(), Some(result));

    // Success without a result: an empty body, still a valid (empty) Result.
    server.respond(ack.clone());
    call(
        client
            .send_durable_execution_callback_success()
            .callback_id(CALLBACK_ID)
            .send(),
    )
    .await;
    let request = server.take_request();
    assert_eq!(request.path, callback_path("succeed"));
    assert!(request.body.is_empty());
    let success: wire::SendDurableExecutionCallbackSuccessRequest = round_trip(&json!({
        "CallbackId": callback_id_from_path(&request, "succeed"),
        "Result": request.body_text(),
    }));
    assert_eq!(success.result.as_deref(), Some(""));

    // Failure: the ErrorObject is the body itself.
    let error = aws_error("ApprovalRejected");
    server.respond(ack.clone());
    call(
        client
            .send_durable_execution_callback_failure()
            .callback_id(CALLBACK_ID)
            .error(error.clone())
            .send(),
    )
    .await;
    let request = server.take_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, callback_path("fail"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body = request.body_json();
    let parsed: wire::ErrorObject = round_trip(&body);
    assert_error(Some(&parsed), Some(&error), "callback failure body");
    let failure: wire::SendDurableExecutionCallbackFailureRequest = round_trip(&json!({
        "CallbackId": callback_id_from_path(&request, "fail"),
        "Error": body,
    }));
    assert_eq!(failure.callback_id.as_str(), CALLBACK_ID);
    assert_eq!(failure.error.as_ref(), Some(&parsed));

    // Failure without an error: an empty object.
    server.respond(ack.clone());
    call(
        client
            .send_durable_execution_callback_failure()
            .callback_id(CALLBACK_ID)
            .send(),
    )
    .await;
    let request = server.take_request();
    assert_eq!(request.path, callback_path("fail"));
    let parsed: wire::ErrorObject = round_trip(&request.body_json());
    assert_eq!(parsed, wire::ErrorObject::default());

    // Heartbeat: no body.
    server.respond(ack);
    call(
        client
            .send_durable_execution_callback_heartbeat()
            .callback_id(CALLBACK_ID)
            .send(),
    )
    .await;
    let request = server.take_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, callback_path("heartbeat"));
    assert!(request.body.is_empty());
    let heartbeat: wire::SendDurableExecutionCallbackHeartbeatRequest = round_trip(&json!({
        "CallbackId": callback_id_from_path(&request, "heartbeat"),
    }));
    assert_eq!(heartbeat.callback_id.as_str(), CALLBACK_ID);

    server.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// GetDurableExecutionHistory
// ---------------------------------------------------------------------------------------

fn event(event_id: u64, event_type: wire::EventType, millis: i64, id: &str) -> wire::Event {
    with_fields(
        wire::Event::new(event_id.try_into().unwrap(), event_type),
        |it| {
            it.event_timestamp = ts(millis);
            it.id = Some(id.parse().unwrap());
        },
    )
}

fn event_result(payload: &str, truncated: bool) -> Option<wire::EventResult> {
    Some(with_fields(wire::EventResult::default(), |it| {
        it.payload = Some(payload.to_owned());
        it.truncated = Some(truncated);
    }))
}

fn event_error(error_type: &str) -> Option<wire::EventError> {
    Some(with_fields(wire::EventError::default(), |it| {
        it.payload = Some(wire_error(error_type));
        it.truncated = Some(false);
    }))
}

fn history() -> Vec<wire::Event> {
    use wire::EventType as E;
    let ctx = "ctx-order";
    let step = |event_id, event_type, millis| {
        with_fields(event(event_id, event_type, millis, "step-charge"), |it| {
            it.parent_id = Some(ctx.parse().unwrap());
            it.name = Some("charge card".parse().unwrap());
            it.sub_type = Some("Step".parse().unwrap());
        })
    };
    vec![
        with_fields(
            event(1, E::ExecutionStarted, 1_767_225_600_000, EXECUTION_ID),
            |it| {
                it.execution_started_details = Some(with_fields(
                    wire::ExecutionStartedDetails::default(),
                    |it| {
                        it.execution_timeout = Some(3600);
                        it.input = Some(with_fields(wire::EventInput::default(), |it| {
                            it.payload = Some(r#"{"orderId":"42"}"#.to_owned());
                            it.truncated = Some(false);
                        }));
                    },
                ));
                it.name = Some("order-42".parse().unwrap());
            },
        ),
        with_fields(event(2, E::ContextStarted, 1_767_225_600_100, ctx), |it| {
            it.name = Some("process order".parse().unwrap());
            it.sub_type = Some("RunInChildContext".parse().unwrap());
            it.context_started_details = Some(wire::ContextStartedDetails(serde_json::Map::new()));
        }),
        with_fields(step(3, E::StepStarted, 1_767_225_600_200), |it| {
            it.step_started_details = Some(wire::StepStartedDetails(serde_json::Map::new()));
        }),
        with_fields(step(4, E::StepFailed, 1_767_225_600_301), |it| {
            it.step_failed_details = Some(with_fields(wire::StepFailedDetails::default(), |it| {
                it.error = event_error("TimeoutError");
                it.retry_details = Some(with_fields(wire::RetryDetails::default(), |it| {
                    it.current_attempt = Some(1);
                    it.next_attempt_delay_seconds = Some(5);
                }));
            }));
        }),
        with_fields(step(5, E::StepSucceeded, 1_767_225_605_999), |it| {
            it.step_succeeded_details =
                Some(with_fields(wire::StepSucceededDetails::default(), |it| {
                    it.result = event_result(r#"{"charged":true}"#, true);
                    it.retry_details = Some(with_fields(wire::RetryDetails::default(), |it| {
                        it.current_attempt = Some(2);
                    }));
                }));
        }),
        with_fields(
            event(6, E::WaitStarted, 1_767_225_606_123, "wait-cool"),
            |it| {
                it.wait_started_details =
                    Some(with_fields(wire::WaitStartedDetails::default(), |it| {
                        it.duration = Some(300);
                        it.scheduled_end_timestamp = ts(1_767_225_906_123);
                    }));
            },
        ),
        with_fields(
            event(7, E::WaitSucceeded, 1_767_225_906_200, "wait-cool"),
            |it| {
                it.wait_succeeded_details =
                    Some(with_fields(wire::WaitSucceededDetails::default(), |it| {
                        it.duration = Some(300);
                    }));
            },
        ),
        with_fields(
            event(8, E::CallbackStarted, 1_767_225_906_300, "cb-approval"),
            |it| {
                it.callback_started_details =
                    Some(with_fields(wire::CallbackStartedDetails::default(), |it| {
                        it.callback_id = Some(CALLBACK_ID.parse().unwrap());
                        it.heartbeat_timeout = Some(60);
                        it.timeout = Some(3600);
                    }));
            },
        ),
        with_fields(
            event(9, E::CallbackTimedOut, 1_767_225_966_300, "cb-approval"),
            |it| {
                it.callback_timed_out_details = Some(with_fields(
                    wire::CallbackTimedOutDetails::default(),
                    |it| {
                        it.error = event_error("Callback.Heartbeat");
                    },
                ));
            },
        ),
        with_fields(
            event(10, E::ChainedInvokeStarted, 1_767_225_966_400, "inv-pay"),
            |it| {
                it.chained_invoke_started_details = Some(with_fields(
                    wire::ChainedInvokeStartedDetails::default(),
                    |it| {
                        it.durable_execution_arn = Some(
                    "arn:aws:lambda:us-east-1:123456789012:function:payments:3/durable-execution/inv-pay/0b1c"
                        .parse()
                        .unwrap(),
                );
                        it.executed_version = Some("3".to_owned());
                        it.function_name = Some("payments:3".to_owned());
                        it.input = Some(with_fields(wire::EventInput::default(), |it| {
                            it.payload = Some(r#"{"orderId":"42"}"#.to_owned());
                            it.truncated = Some(false);
                        }));
                        it.tenant_id = Some("tenant-7".to_owned());
                    },
                ));
            },
        ),
        with_fields(
            event(11, E::ChainedInvokeSucceeded, 1_767_225_970_000, "inv-pay"),
            |it| {
                it.chained_invoke_succeeded_details = Some(with_fields(
                    wire::ChainedInvokeSucceededDetails::default(),
                    |it| {
                        it.result = event_result(r#"{"paid":true}"#, false);
                    },
                ));
            },
        ),
        with_fields(
            event(12, E::ContextSucceeded, 1_767_225_970_100, ctx),
            |it| {
                it.context_succeeded_details = Some(with_fields(
                    wire::ContextSucceededDetails::default(),
                    |it| {
                        it.result = event_result(r#"{"status":"done"}"#, false);
                    },
                ));
            },
        ),
        with_fields(
            event(13, E::InvocationCompleted, 1_767_225_970_201, EXECUTION_ID),
            |it| {
                it.invocation_completed_details = Some(with_fields(
                    wire::InvocationCompletedDetails::default(),
                    |it| {
                        it.start_timestamp = ts(1_767_225_600_000);
                        it.end_timestamp = ts(1_767_225_970_200);
                        it.request_id = Some("c6af9ac6-7b61-11e6-9a41-93e8deadbeef".to_owned());
                        it.error = event_error("Runtime.ExitError");
                    },
                ));
            },
        ),
        with_fields(
            event(14, E::ExecutionSucceeded, 1_767_225_970_300, EXECUTION_ID),
            |it| {
                it.execution_succeeded_details = Some(with_fields(
                    wire::ExecutionSucceededDetails::default(),
                    |it| {
                        it.result = event_result(r#"{"ok":true}"#, false);
                    },
                ));
            },
        ),
    ]
}

fn assert_event_error(
    ours: Option<&wire::EventError>,
    theirs: Option<&aws::EventError>,
    what: &str,
) {
    match (ours, theirs) {
        (None, None) => {}
        (Some(ours), Some(theirs)) => {
            assert_eq!(ours.truncated, theirs.truncated(), "{what}.Truncated");
            assert_error(
                ours.payload.as_ref(),
                theirs.payload(),
                &format!("{what}.Payload"),
            );
        }
        (ours, theirs) => panic!("{what}: ours {ours:?}, client {theirs:?}"),
    }
}

fn assert_event_result(
    ours: Option<&wire::EventResult>,
    theirs: Option<&aws::EventResult>,
    what: &str,
) {
    assert_eq!(
        ours.map(|r| (r.payload.as_deref(), r.truncated)),
        theirs.map(|r| (r.payload(), r.truncated())),
        "{what}"
    );
}

fn assert_event_input(
    ours: Option<&wire::EventInput>,
    theirs: Option<&aws::EventInput>,
    what: &str,
) {
    assert_eq!(
        ours.map(|r| (r.payload.as_deref(), r.truncated)),
        theirs.map(|r| (r.payload(), r.truncated())),
        "{what}"
    );
}

fn assert_retry(ours: Option<&wire::RetryDetails>, theirs: Option<&aws::RetryDetails>, what: &str) {
    assert_eq!(
        ours.map(|r| (r.current_attempt.unwrap_or(0), r.next_attempt_delay_seconds)),
        theirs.map(|r| (
            i64::from(r.current_attempt()),
            r.next_attempt_delay_seconds().map(i64::from)
        )),
        "{what}"
    );
}

fn assert_event(ours: &wire::Event, theirs: &aws::Event) {
    let what = format!("event {}", ours.event_id);
    let event_type = theirs.event_type().expect("EventType");
    assert_eq!(
        ours.event_type.to_string(),
        event_type.as_str(),
        "{what}: EventType"
    );
    assert!(
        aws::EventType::values().contains(&event_type.as_str()),
        "{what}: the client does not know {event_type:?}"
    );
    assert_eq!(
        i64::try_from(ours.event_id.get()).unwrap(),
        i64::from(theirs.event_id())
    );
    assert_eq!(
        ours.id.as_ref().map(|id| id.as_str()),
        theirs.id(),
        "{what}: Id"
    );
    assert_eq!(
        ours.name.as_ref().map(|n| n.as_str()),
        theirs.name(),
        "{what}: Name"
    );
    assert_eq!(
        ours.parent_id.as_ref().map(|id| id.as_str()),
        theirs.parent_id(),
        "{what}: ParentId"
    );
    assert_eq!(
        ours.sub_type.as_ref().map(|s| s.as_str()),
        theirs.sub_type(),
        "{what}: SubType"
    );
    assert_instant(
        ours.event_timestamp.as_ref(),
        theirs.event_timestamp(),
        &format!("{what}: EventTimestamp"),
    );

    // Exactly the same details members are present.
    macro_rules! same_presence {
        ($($member:ident),* $(,)?) => {$(
            assert_eq!(
                ours.$member.is_some(),
                theirs.$member().is_some(),
                "{what}: {}",
                stringify!($member)
            );
        )*};
    }
    same_presence!(
        execution_started_details,
        execution_succeeded_details,
        execution_failed_details,
        execution_timed_out_details,
        execution_stopped_details,
        context_started_details,
        context_succeeded_details,
        context_failed_details,
        wait_started_details,
        wait_succeeded_details,
        wait_cancelled_details,
        step_started_details,
        step_succeeded_details,
        step_failed_details,
        chained_invoke_started_details,
        chained_invoke_succeeded_details,
        chained_invoke_failed_details,
        chained_invoke_timed_out_details,
        chained_invoke_stopped_details,
        callback_started_details,
        callback_succeeded_details,
        callback_failed_details,
        callback_timed_out_details,
        invocation_completed_details,
    );

    if let (Some(ours), Some(theirs)) = (
        &ours.execution_started_details,
        theirs.execution_started_details(),
    ) {
        assert_event_input(
            ours.input.as_ref(),
            theirs.input(),
            &format!("{what}: Input"),
        );
        assert_eq!(
            ours.execution_timeout,
            Some(i64::from(theirs.execution_timeout()))
        );
    }
    if let (Some(ours), Some(theirs)) = (
        &ours.execution_succeeded_details,
        theirs.execution_succeeded_details(),
    ) {
        assert_event_result(
            ours.result.as_ref(),
            theirs.result(),
            &format!("{what}: Result"),
        );
    }
    if let (Some(ours), Some(theirs)) = (
        &ours.context_succeeded_details,
        theirs.context_succeeded_details(),
    ) {
        assert_event_result(
            ours.result.as_ref(),
            theirs.result(),
            &format!("{what}: Result"),
        );
    }
    if let (Some(ours), Some(theirs)) = (&ours.step_failed_details, theirs.step_failed_details()) {
        assert_event_error(
            ours.error.as_ref(),
            theirs.error(),
            &format!("{what}: Error"),
        );
        assert_retry(
            ours.retry_details.as_ref(),
            theirs.retry_details(),
            &format!("{what}: RetryDetails"),
        );
    }
    if let (Some(ours), Some(theirs)) = (
        &ours.step_succeeded_details,
        theirs.step_succeeded_details(),
    ) {
        assert_event_result(
            ours.result.as_ref(),
            theirs.result(),
            &format!("{what}: Result"),
        );
        assert_retry(
            ours.retry_details.as_ref(),
            theirs.retry_details(),
            &format!("{what}: RetryDetails"),
        );
    }
    if let (Some(ours), Some(theirs)) = (&ours.wait_started_details, theirs.wait_started_details())
    {
        assert_eq!(
            ours.duration,
            Some(i64::from(theirs.duration())),
            "{what}: Duration"
        );
        assert_instant(
            ours.scheduled_end_timestamp.as_ref(),
            Some(theirs.scheduled_end_timestamp()),
            &format!("{what}: ScheduledEndTimestamp"),
        );
    }
    if let (Some(ours), Some(theirs)) = (
        &ours.wait_succeeded_details,
        theirs.wait_succeeded_details(),
    ) {
        assert_eq!(
            ours.duration,
            theirs.duration().map(i64::from),
            "{what}: Duration"
        );
    }
    if let (Some(ours), Some(theirs)) = (
        &ours.callback_started_details,
        theirs.callback_started_details(),
    ) {
        assert_eq!(
            ours.callback_id.as_ref().map(|id| id.as_str()),
            Some(theirs.callback_id()),
            "{what}: CallbackId"
        );
        assert_eq!(
            ours.heartbeat_timeout,
            theirs.heartbeat_timeout().map(i64::from)
        );
        assert_eq!(ours.timeout, theirs.timeout().map(i64::from));
    }
    if let (Some(ours), Some(theirs)) = (
        &ours.callback_timed_out_details,
        theirs.callback_timed_out_details(),
    ) {
        assert_event_error(
            ours.error.as_ref(),
            theirs.error(),
            &format!("{what}: Error"),
        );
    }
    if let (Some(ours), Some(theirs)) = (
        &ours.chained_invoke_started_details,
        theirs.chained_invoke_started_details(),
    ) {
        assert_eq!(ours.function_name.as_deref(), Some(theirs.function_name()));
        assert_eq!(ours.tenant_id.as_deref(), theirs.tenant_id());
        assert_eq!(ours.executed_version.as_deref(), theirs.executed_version());
        assert_eq!(
            ours.durable_execution_arn.as_ref().map(|arn| arn.as_str()),
            theirs.durable_execution_arn()
        );
        assert_event_input(
            ours.input.as_ref(),
            theirs.input(),
            &format!("{what}: Input"),
        );
    }
    if let (Some(ours), Some(theirs)) = (
        &ours.chained_invoke_succeeded_details,
        theirs.chained_invoke_succeeded_details(),
    ) {
        assert_event_result(
            ours.result.as_ref(),
            theirs.result(),
            &format!("{what}: Result"),
        );
    }
    if let (Some(ours), Some(theirs)) = (
        &ours.invocation_completed_details,
        theirs.invocation_completed_details(),
    ) {
        assert_instant(
            ours.start_timestamp.as_ref(),
            Some(theirs.start_timestamp()),
            &format!("{what}: StartTimestamp"),
        );
        assert_instant(
            ours.end_timestamp.as_ref(),
            Some(theirs.end_timestamp()),
            &format!("{what}: EndTimestamp"),
        );
        assert_eq!(ours.request_id.as_deref(), Some(theirs.request_id()));
        assert_event_error(
            ours.error.as_ref(),
            theirs.error(),
            &format!("{what}: Error"),
        );
    }
}

#[tokio::test]
async fn history_built_from_wire_events_parses_in_the_client() {
    let server = MockServer::start().await;
    let client = client_for(&server);

    let events = history();
    let response = with_fields(
        wire::GetDurableExecutionHistoryResponse::new(events.clone()),
        |it| {
            it.next_marker = Some("history-page-2".to_owned());
        },
    );
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(
        round_trip::<wire::GetDurableExecutionHistoryResponse>(&json),
        response
    );
    server.respond(json.to_string());
    let output = call(
        client
            .get_durable_execution_history()
            .durable_execution_arn(ARN)
            .include_execution_data(true)
            .max_items(25)
            .marker("history-page-1")
            .reverse_order(false)
            .send(),
    )
    .await;
    let request = server.take_request();
    assert_eq!(request.method, "GET");
    assert_eq!(
        request.path,
        format!("/2025-12-01/durable-executions/{ARN_SEGMENT}/history")
    );
    let query = query_json(
        request.query.as_deref().unwrap(),
        &["MaxItems"],
        &["IncludeExecutionData", "ReverseOrder"],
    );
    let parsed: wire::GetDurableExecutionHistoryRequest = round_trip(&query);
    assert_eq!(parsed.include_execution_data, Some(true));
    assert_eq!(parsed.max_items, Some(25));
    assert_eq!(parsed.marker.as_deref(), Some("history-page-1"));
    assert_eq!(parsed.reverse_order, Some(false));

    assert_eq!(output.next_marker(), Some("history-page-2"));
    assert_eq!(output.events().len(), events.len());
    for (ours, theirs) in events.iter().zip(output.events()) {
        assert_event(ours, theirs);
    }

    server.shutdown().await;
}

#[test]
fn label_encoding_matches_the_expected_paths() {
    assert_eq!(encode_label(ARN), ARN_SEGMENT);
    assert_eq!(percent_decode(ARN_SEGMENT), ARN);
    assert_eq!(encode_label(CALLBACK_ID), CALLBACK_SEGMENT);
    assert_eq!(percent_decode(CALLBACK_SEGMENT), CALLBACK_ID);
}

/// `value` with the fields `set` assigns: the wire types are `#[non_exhaustive]`, so code
/// outside the SDK builds them from their constructors and sets optional fields after.
fn with_fields<T>(mut value: T, set: impl FnOnce(&mut T)) -> T {
    set(&mut value);
    value
}
