//! `AwsService` against a loopback HTTP/1 server that records requests and serves canned
//! responses.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use super::*;
use crate::wire;

const ARN: &str =
    "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST/durable-execution/run-1/4f1c";
const ENCODED_ARN: &str = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aorders%3A%24LATEST%2Fdurable-execution%2Frun-1%2F4f1c";
/// Bound on every call in these tests.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// A request as the server saw it.
struct Recorded {
    method: String,
    path: String,
    query: Option<String>,
    headers: hyper::HeaderMap,
    body: Bytes,
}

impl Recorded {
    /// The value of the header `name`, which must be there once, as text.
    fn header(&self, name: &str) -> &str {
        let mut values = self.headers.get_all(name).iter();
        let value = values
            .next()
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers));
        assert!(values.next().is_none(), "{name} is sent twice");
        value.to_str().unwrap()
    }
}

/// What the server answers to every request.
struct Canned {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
    /// Wait this long before answering.
    delay: Duration,
}

impl Canned {
    fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json")],
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    fn error(status: u16, error_type: &'static str, body: &Value) -> Self {
        let mut canned = Self::json(status, body);
        canned.headers.push(("x-amzn-errortype", error_type));
        canned
    }
}

type Log = Arc<Mutex<Vec<Recorded>>>;

/// Starts a server on 127.0.0.1 that answers every request with `canned`.
async fn serve(canned: Canned) -> (SocketAddr, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Log::default();
    let canned = Arc::new(canned);
    let server_log = log.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = server_log.clone();
            let canned = canned.clone();
            let service = service_fn(move |request: Request<Incoming>| {
                let log = log.clone();
                let canned = canned.clone();
                async move {
                    let (parts, body) = request.into_parts();
                    let body = body.collect().await?.to_bytes();
                    log.lock().unwrap().push(Recorded {
                        method: parts.method.to_string(),
                        path: parts.uri.path().to_owned(),
                        query: parts.uri.query().map(str::to_owned),
                        headers: parts.headers,
                        body,
                    });
                    tokio::time::sleep(canned.delay).await;
                    let mut response = Response::builder().status(canned.status);
                    for (name, value) in &canned.headers {
                        response = response.header(*name, *value);
                    }
                    Ok::<_, hyper::Error>(
                        response
                            .body(Full::new(Bytes::from(canned.body.clone())))
                            .unwrap(),
                    )
                }
            });
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, log)
}

/// The client settings `from_env` uses, with a fixed region and dummy credentials.
fn test_config(endpoint: &str) -> aws_sdk_lambda::config::Builder {
    configure(
        aws_sdk_lambda::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test")),
    )
}

fn service_at(addr: SocketAddr) -> AwsService {
    AwsService::from_conf(test_config(&format!("http://{addr}")).build())
}

async fn checkpoint(
    service: &AwsService,
    request: &CheckpointDurableExecutionRequest,
) -> Result<CheckpointDurableExecutionResponse, ServiceError> {
    tokio::time::timeout(CALL_TIMEOUT, service.checkpoint(ARN, request))
        .await
        .unwrap()
}

async fn get_state(
    service: &AwsService,
    request: &GetDurableExecutionStateRequest,
) -> Result<GetDurableExecutionStateResponse, ServiceError> {
    tokio::time::timeout(CALL_TIMEOUT, service.get_state(ARN, request))
        .await
        .unwrap()
}

fn checkpoint_request(updates: Value) -> CheckpointDurableExecutionRequest {
    wire::from_value(json!({
        "CheckpointToken": "token-0",
        "ClientToken": "client-token-7",
        "Updates": updates,
    }))
    .unwrap()
}

fn state_request() -> GetDurableExecutionStateRequest {
    wire::from_value(json!({"CheckpointToken": "token-0", "Marker": "page-2", "MaxItems": 1000}))
        .unwrap()
}

/// One update of every type, every action and every field between them.
fn every_update() -> Value {
    json!([
        {"Id": "ctx-1", "Name": "batch", "Type": "CONTEXT", "SubType": "RunInChildContext", "Action": "START"},
        {"Id": "step-1", "ParentId": "ctx-1", "Name": "charge card", "Type": "STEP", "SubType": "Step",
         "Action": "RETRY", "StepOptions": {"NextAttemptDelaySeconds": 30},
         "Error": {"ErrorType": "StepError", "ErrorMessage": "card declined", "ErrorData": "{\"code\":51}",
                   "StackTrace": ["at charge (lib.rs:10)", "at run (lib.rs:20)"]}},
        {"Id": "wait-1", "ParentId": "ctx-1", "Type": "WAIT", "SubType": "Wait", "Action": "START",
         "WaitOptions": {"WaitSeconds": 3600}},
        {"Id": "wait-0", "Type": "WAIT", "Action": "CANCEL"},
        {"Id": "cb-1", "ParentId": "ctx-1", "Type": "CALLBACK", "SubType": "Callback", "Action": "START",
         "CallbackOptions": {"TimeoutSeconds": 300, "HeartbeatTimeoutSeconds": 60}},
        {"Id": "inv-1", "ParentId": "ctx-1", "Type": "CHAINED_INVOKE", "SubType": "ChainedInvoke", "Action": "START",
         "Payload": "{\"order\":42}",
         "ChainedInvokeOptions": {"FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:ship:prod",
                                  "TenantId": "tenant-9", "XAmznTraceId": "Root=1-5759e988-bd862e3fe1be46a994272793"}},
        {"Id": "ctx-1", "Type": "CONTEXT", "SubType": "RunInChildContext", "Action": "SUCCEED",
         "Payload": "[1,2,3]", "ContextOptions": {"ReplayChildren": true}},
        {"Id": "ctx-2", "Type": "CONTEXT", "Action": "FAIL", "Error": {"ErrorMessage": "boom"}},
        {"Id": "exec", "Type": "EXECUTION", "Action": "SUCCEED", "Payload": "\"done\""}
    ])
}

/// One operation of every type with every detail, with millisecond timestamps that a
/// truncating conversion would get wrong.
fn every_operation() -> Value {
    let error = json!({"ErrorType": "Callback.Timeout", "ErrorMessage": "timed out", "ErrorData": "{}",
                       "StackTrace": ["frame 1", "frame 2"]});
    json!([
        {"Id": "exec", "Type": "EXECUTION", "Status": "STARTED", "StartTimestamp": 1767225600,
         "ExecutionDetails": {"InputPayload": "{\"orderId\":42}"}},
        {"Id": "ctx-1", "Name": "batch", "Type": "CONTEXT", "SubType": "RunInChildContext", "Status": "SUCCEEDED",
         "StartTimestamp": 1767225601.123, "EndTimestamp": 1767225602.999,
         "ContextDetails": {"ReplayChildren": true, "Result": "[1,2,3]"}},
        {"Id": "ctx-2", "Type": "CONTEXT", "Status": "FAILED", "StartTimestamp": 1767225601.001,
         "EndTimestamp": 1767225601.5, "ContextDetails": {"Error": error.clone()}},
        {"Id": "step-1", "ParentId": "ctx-1", "Name": "charge card", "Type": "STEP", "SubType": "Step",
         "Status": "PENDING", "StartTimestamp": 1767225601.7,
         "StepDetails": {"Attempt": 2, "NextAttemptTimestamp": 1767225631.123, "Result": "{\"n\":1}", "Error": error.clone()}},
        {"Id": "wait-1", "ParentId": "ctx-1", "Type": "WAIT", "SubType": "Wait", "Status": "STARTED",
         "StartTimestamp": 1767225601.01, "WaitDetails": {"ScheduledEndTimestamp": 1767229201.01}},
        {"Id": "cb-1", "ParentId": "ctx-1", "Type": "CALLBACK", "SubType": "Callback", "Status": "TIMED_OUT",
         "StartTimestamp": 1767225601.333, "EndTimestamp": 1767225901.333,
         "CallbackDetails": {"CallbackId": "eyJhcm4iOiJ4In0=", "Result": "ok", "Error": error.clone()}},
        {"Id": "inv-1", "ParentId": "ctx-1", "Type": "CHAINED_INVOKE", "SubType": "ChainedInvoke",
         "Status": "STOPPED", "StartTimestamp": 1767225601.456, "EndTimestamp": 1767225700.456,
         "ChainedInvokeDetails": {"Result": "{}", "Error": error}},
        {"Id": "step-2", "Type": "STEP", "Status": "READY", "StartTimestamp": 1767225601.8,
         "StepDetails": {"Attempt": 0}},
        {"Id": "step-3", "Type": "STEP", "Status": "CANCELLED", "StartTimestamp": 1767225601.9,
         "EndTimestamp": 1767225602.1, "StepDetails": {"Attempt": 1}},
        {"Id": "step-4", "Type": "STEP", "Status": "SUCCEEDED", "StartTimestamp": 1767225601.25,
         "EndTimestamp": 1767225602.75, "StepDetails": {"Attempt": 1, "Result": "7"}}
    ])
}

fn body_json(recorded: &Recorded) -> Value {
    serde_json::from_slice(&recorded.body).unwrap()
}

#[tokio::test]
async fn checkpoint_sends_every_update_field_and_reads_every_operation_field() {
    let served = json!({
        "CheckpointToken": "token-1",
        "NewExecutionState": {"Operations": every_operation(), "NextMarker": "more-1"},
    });
    let (addr, log) = serve(Canned::json(200, &served)).await;
    let request = checkpoint_request(every_update());

    let response = checkpoint(&service_at(addr), &request).await.unwrap();

    let log = log.lock().unwrap();
    assert_eq!(
        log.len(),
        1,
        "exactly one request (no client-level retries)"
    );
    assert_eq!(log[0].method, "POST");
    assert_eq!(
        log[0].path,
        format!("/2025-12-01/durable-executions/{ENCODED_ARN}/checkpoint")
    );
    let sent = body_json(&log[0]);
    assert_eq!(sent, serde_json::to_value(&request).unwrap());
    assert_eq!(sent["ClientToken"], "client-token-7");
    assert_eq!(serde_json::to_value(&response).unwrap(), served);
    assert_eq!(
        response.checkpoint_token.as_deref().map(String::as_str),
        Some("token-1")
    );
}

#[tokio::test]
async fn empty_checkpoint_sends_an_empty_update_list_and_keeps_a_missing_token_missing() {
    let (addr, log) = serve(Canned::json(200, &json!({}))).await;
    let request = checkpoint_request(json!([]));

    let response = checkpoint(&service_at(addr), &request).await.unwrap();

    assert_eq!(response.checkpoint_token, None);
    // The model marks `NewExecutionState` required, so the SDK fills in an empty one.
    let state = response.new_execution_state.unwrap();
    assert!(state.operations.is_empty() && state.next_marker.is_none());
    let sent = body_json(&log.lock().unwrap()[0]);
    // Our serializer leaves an empty list out; we send `[]` like the official SDKs.
    assert_eq!(
        sent,
        json!({"CheckpointToken": "token-0", "ClientToken": "client-token-7", "Updates": []})
    );
}

#[tokio::test]
async fn get_state_sends_the_query_and_reads_every_operation_field() {
    let served = json!({"Operations": every_operation(), "NextMarker": "page-3"});
    let (addr, log) = serve(Canned::json(200, &served)).await;

    let response = get_state(&service_at(addr), &state_request())
        .await
        .unwrap();

    assert_eq!(serde_json::to_value(&response).unwrap(), served);
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].method, "GET");
    assert_eq!(
        log[0].path,
        format!("/2025-12-01/durable-executions/{ENCODED_ARN}/state")
    );
    let mut query: Vec<&str> = log[0]
        .query
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .collect();
    query.sort_unstable();
    assert_eq!(
        query,
        ["CheckpointToken=token-0", "Marker=page-2", "MaxItems=1000"]
    );
    assert!(log[0].body.is_empty());
}

#[tokio::test]
async fn get_state_reads_an_empty_page() {
    let (addr, _log) = serve(Canned::json(200, &json!({"Operations": []}))).await;
    let request: GetDurableExecutionStateRequest =
        wire::from_value(json!({"CheckpointToken": "t"})).unwrap();

    let response = get_state(&service_at(addr), &request).await.unwrap();

    assert!(response.operations.is_empty());
    assert_eq!(response.next_marker, None);
}

/// The error a checkpoint and a state read get for `canned`; both must agree.
async fn errors_for(canned: Canned) -> ServiceError {
    let (addr, log) = serve(canned).await;
    let service = service_at(addr);
    let from_checkpoint = checkpoint(&service, &checkpoint_request(every_update()))
        .await
        .unwrap_err();
    let from_state = get_state(&service, &state_request()).await.unwrap_err();
    assert_eq!(
        log.lock().unwrap().len(),
        2,
        "one attempt each: the client must not retry"
    );
    assert_eq!(from_checkpoint.kind, from_state.kind);
    assert_eq!(from_checkpoint.code, from_state.code);
    assert_eq!(from_checkpoint.message, from_state.message);
    // The AWS SDK's own error stays reachable as the source.
    let source = std::error::Error::source(&from_checkpoint).expect("the AWS SDK error");
    assert!(
        source
            .downcast_ref::<aws_sdk_lambda::error::SdkError<
                aws_sdk_lambda::operation::checkpoint_durable_execution::CheckpointDurableExecutionError,
                aws_sdk_lambda::config::http::HttpResponse,
            >>()
            .is_some(),
        "{source:?}"
    );
    from_checkpoint
}

#[tokio::test]
async fn invalid_checkpoint_token_is_an_invalid_parameter() {
    let err = errors_for(Canned::error(
        400,
        "InvalidParameterValueException",
        &json!({"Type": "User", "message": "Invalid checkpoint token"}),
    ))
    .await;
    assert_eq!(err.kind, ServiceErrorKind::InvalidParameter);
    assert_eq!(err.code, "InvalidParameterValueException");
    assert_eq!(err.message, "Invalid checkpoint token");
    assert!(err.is_invalid_token() && err.is_transient());
}

#[tokio::test]
async fn a_400_without_an_error_code_is_still_an_invalid_parameter() {
    // Emulators may leave out `X-Amzn-ErrorType` and put the exception name in `Type`.
    let err = errors_for(Canned::json(
        400,
        &json!({"Type": "InvalidParameterValueException", "message": "Invalid checkpoint token"}),
    ))
    .await;
    assert_eq!(err.kind, ServiceErrorKind::InvalidParameter);
    assert_eq!(err.code, "HTTP 400");
    assert!(err.is_invalid_token());
}

#[tokio::test]
async fn other_invalid_parameters_are_not_transient() {
    let err = errors_for(Canned::error(
        400,
        "InvalidParameterValueException:http://internal.amazon.com/coral/",
        &json!({"Type": "User", "message": "Invalid parent operation id."}),
    ))
    .await;
    assert_eq!(err.kind, ServiceErrorKind::InvalidParameter);
    assert_eq!(err.code, "InvalidParameterValueException");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn throttling_is_throttled() {
    let err = errors_for(Canned::error(
        429,
        "TooManyRequestsException",
        &json!({"Type": "User", "message": "Rate exceeded", "Reason": "CallerRateLimitExceeded"}),
    ))
    .await;
    assert_eq!(err.kind, ServiceErrorKind::Throttled);
    assert_eq!(err.code, "TooManyRequestsException");
    assert_eq!(err.message, "Rate exceeded");
}

#[tokio::test]
async fn a_bare_429_is_throttled() {
    let mut canned = Canned::json(429, &json!({}));
    canned.body = "slow down".to_owned();
    let err = errors_for(canned).await;
    assert_eq!(err.kind, ServiceErrorKind::Throttled);
    assert!(err.is_transient());
}

#[tokio::test]
async fn service_exception_is_a_server_error() {
    let err = errors_for(Canned::error(
        500,
        "ServiceException",
        &json!({"Type": "Service", "Message": "Internal error"}),
    ))
    .await;
    assert_eq!(err.kind, ServiceErrorKind::Server);
    assert_eq!(err.code, "ServiceException");
    assert_eq!(err.message, "Internal error");
}

#[tokio::test]
async fn an_unmodeled_5xx_with_a_non_json_body_is_a_server_error() {
    let mut canned = Canned::json(503, &json!({}));
    canned.headers = vec![("content-type", "text/html")];
    canned.body = "<html>Service Unavailable</html>".to_owned();
    let err = errors_for(canned).await;
    assert_eq!(err.kind, ServiceErrorKind::Server);
    assert_eq!(err.code, "HTTP 503");
    assert!(!err.message.contains("<html>"), "{}", err.message);
}

#[tokio::test]
async fn a_non_json_error_body_keeps_the_code_from_the_header() {
    let mut canned = Canned::json(400, &json!({}));
    canned.headers = vec![(
        "x-amzn-errortype",
        "com.amazonaws.lambda#KMSDisabledException:http://internal/",
    )];
    canned.body = "key disabled".to_owned();
    let err = errors_for(canned).await;
    // By status alone a 400 would be an InvalidParameter.
    assert_eq!(err.kind, ServiceErrorKind::Other);
    assert_eq!(err.code, "KMSDisabledException");
}

#[tokio::test]
async fn resource_not_found_is_not_found() {
    let err = errors_for(Canned::error(
        404,
        "ResourceNotFoundException",
        &json!({"Type": "User", "Message": "Execution not found"}),
    ))
    .await;
    assert_eq!(err.kind, ServiceErrorKind::NotFound);
    assert_eq!(err.code, "ResourceNotFoundException");
    assert_eq!(err.message, "Execution not found");
}

#[tokio::test]
async fn kms_errors_are_other_and_final() {
    let err = errors_for(Canned::error(
        502,
        "KMSDisabledException",
        &json!({"Type": "User", "Message": "key disabled"}),
    ))
    .await;
    assert_eq!(err.kind, ServiceErrorKind::Other);
    assert_eq!(err.code, "KMSDisabledException");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn unknown_4xx_codes_are_other() {
    let err = errors_for(Canned::error(
        403,
        "AccessDeniedException",
        &json!({"Message": "not allowed"}),
    ))
    .await;
    assert_eq!(err.kind, ServiceErrorKind::Other);
    assert_eq!(err.code, "AccessDeniedException");
    assert_eq!(err.message, "not allowed");
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    // Bound but not listening: the port stays ours, and connecting to it is refused.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let service = service_at(socket.local_addr().unwrap());

    let err = checkpoint(&service, &checkpoint_request(json!([])))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ServiceErrorKind::Transport);
    assert_eq!(err.code, "DispatchFailure");
    assert!(err.is_transient());
    // The chain goes down to the connection's own error.
    let mut depth = 0;
    let mut source = std::error::Error::source(&err);
    while let Some(next) = source {
        depth += 1;
        source = next.source();
    }
    assert!(depth >= 2, "{err:?}");
    let err = get_state(&service, &state_request()).await.unwrap_err();
    assert_eq!(err.kind, ServiceErrorKind::Transport);
}

#[tokio::test]
async fn an_attempt_timeout_is_a_transport_error() {
    let mut canned = Canned::json(200, &json!({}));
    canned.delay = Duration::from_secs(10);
    let (addr, _log) = serve(canned).await;
    let config = test_config(&format!("http://{addr}"))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_millis(200))
                .build(),
        )
        .build();
    let service = AwsService::from_conf(config);

    let err = checkpoint(&service, &checkpoint_request(json!([])))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ServiceErrorKind::Transport);
    assert_eq!(err.code, "TimeoutError");
}

/// Serves one operation, `overrides` applied to a valid one, and returns the error.
async fn response_error(overrides: Value) -> ServiceError {
    let mut operation = json!({
        "Id": "step-1", "Type": "STEP", "Status": "SUCCEEDED", "StartTimestamp": 1767225601.5,
        "StepDetails": {"Attempt": 1, "Result": "\"secret-payload\""},
    });
    for (key, value) in overrides.as_object().unwrap() {
        operation[key] = value.clone();
    }
    let served = json!({"CheckpointToken": "token-1", "NewExecutionState": {"Operations": [{
        "Id": "exec", "Type": "EXECUTION", "Status": "STARTED", "StartTimestamp": 1767225600,
    }, operation]}});
    let (addr, _log) = serve(Canned::json(200, &served)).await;
    let err = checkpoint(&service_at(addr), &checkpoint_request(json!([])))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ServiceErrorKind::UnreadableResponse);
    assert!(!err.is_transient() && err.ends_invocation());
    assert!(!err.message.contains("secret-payload"), "{}", err.message);
    err
}

/// Values this SDK version does not list (a newer service) travel as the wire
/// enumerations' `Unknown` variants, in checkpoint responses and in state pages alike; the
/// log keeps them and replay fails only if it reaches them.
#[tokio::test]
async fn unknown_types_and_statuses_are_kept() {
    let served = json!({"CheckpointToken": "token-1", "NewExecutionState": {"Operations": [
        {"Id": "exec", "Type": "EXECUTION", "Status": "STARTED", "StartTimestamp": 1767225600},
        {"Id": "step-1", "Type": "STEP", "Status": "PAUSED", "StartTimestamp": 1767225601},
        {"Id": "timer-1", "Type": "TIMER", "Status": "STARTED", "StartTimestamp": 1767225601},
    ]}});
    let (addr, _log) = serve(Canned::json(200, &served)).await;
    let response = checkpoint(&service_at(addr), &checkpoint_request(json!([])))
        .await
        .unwrap();
    let operations = response.new_execution_state.unwrap().operations;
    assert_eq!(operations[1].status.as_str(), "PAUSED");
    assert!(operations[1].status.is_unknown());
    assert_eq!(operations[1].type_, crate::wire::OperationType::Step);
    assert_eq!(operations[2].type_.as_str(), "TIMER");
    assert!(operations[2].type_.is_unknown());

    let served = json!({"Operations": [
        {"Id": "cb-1", "Type": "CALLBACK", "Status": "EXPIRED", "StartTimestamp": 1767225601},
    ]});
    let (addr, _log) = serve(Canned::json(200, &served)).await;
    let page = get_state(&service_at(addr), &state_request())
        .await
        .unwrap();
    assert_eq!(page.operations[0].status.as_str(), "EXPIRED");
    assert_eq!(
        page.operations[0].type_,
        crate::wire::OperationType::Callback
    );
}

#[tokio::test]
async fn a_missing_id_is_an_error_naming_the_field() {
    let err = response_error(json!({"Id": null})).await;
    assert!(err.message.contains("Operations[1].Id"), "{}", err.message);
}

#[tokio::test]
async fn an_id_breaking_the_schema_is_an_error_naming_the_field() {
    let err = response_error(json!({"ParentId": "no spaces allowed"})).await;
    assert!(
        err.message.contains("Operations[1].ParentId"),
        "{}",
        err.message
    );
    assert!(
        !err.message.contains("no spaces allowed"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_missing_start_timestamp_stays_missing() {
    let served = json!({"Operations": [{"Id": "exec", "Type": "EXECUTION", "Status": "STARTED"}]});
    let (addr, _log) = serve(Canned::json(200, &served)).await;

    let response = get_state(&service_at(addr), &state_request())
        .await
        .unwrap();

    assert_eq!(serde_json::to_value(&response).unwrap(), served);
}

#[tokio::test]
async fn numbers_the_sdk_cannot_carry_fail_before_sending() {
    let (addr, log) = serve(Canned::json(200, &json!({}))).await;
    let service = service_at(addr);
    let request = checkpoint_request(json!([
        {"Id": "s", "Type": "STEP", "Action": "START"},
        {"Id": "s", "Type": "STEP", "Action": "RETRY", "StepOptions": {"NextAttemptDelaySeconds": 4_294_967_296_u64}},
    ]));

    let err = checkpoint(&service, &request).await.unwrap_err();
    assert_eq!(err.kind, ServiceErrorKind::Other);
    assert!(
        err.message
            .contains("Updates[1].StepOptions.NextAttemptDelaySeconds"),
        "{}",
        err.message
    );

    let mut request = state_request();
    request.max_items = Some(i64::from(i32::MAX) + 1);
    let err = get_state(&service, &request).await.unwrap_err();
    assert_eq!(err.kind, ServiceErrorKind::Other);
    assert!(err.message.contains("MaxItems"), "{}", err.message);
    assert!(log.lock().unwrap().is_empty(), "nothing may be sent");
}

#[test]
fn timestamps_round_to_the_nearest_millisecond() {
    use aws_sdk_lambda::primitives::DateTime;
    // Parsed through f64 the way the SDK does, `.123` arrives as 122999906 ns.
    let parsed = DateTime::from_secs_f64(1_767_225_601.123);
    assert_eq!(parsed.subsec_nanos() / 1_000_000, 122);
    assert_eq!(convert::epoch_millis(parsed), Some(1_767_225_601_123));
    assert_eq!(
        convert::epoch_millis(DateTime::from_secs_and_nanos(1, 999_600_000)),
        Some(2_000)
    );
    assert_eq!(
        convert::epoch_millis(DateTime::from_secs_and_nanos(-2, 500_000_000)),
        Some(-1_500)
    );
    assert_eq!(convert::epoch_millis(DateTime::from_secs(i64::MAX)), None);
}

/// Every call names the SDK and its version in both user-agent headers, whichever way the
/// service was made: from a configuration (as `from_env` does) or over a given client.
#[tokio::test]
async fn every_call_names_the_sdk_in_its_user_agent() {
    let (addr, log) = serve(Canned::json(200, &json!({"CheckpointToken": "token-1"}))).await;
    let endpoint = format!("http://{addr}");
    let shared = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&endpoint)
        .credentials_provider(aws_sdk_lambda::config::SharedCredentialsProvider::new(
            Credentials::new("AKID", "SECRET", None, None, "test"),
        ))
        .build();
    let given = aws_sdk_lambda::Client::from_conf(test_config(&endpoint).build());
    let services = [
        AwsService::from_sdk_config(&shared),
        AwsService::from_client(given),
        // A client that already names the SDK names it once.
        AwsService::from_client(service_at(addr).client().clone()),
    ];
    for service in &services {
        checkpoint(service, &checkpoint_request(json!([])))
            .await
            .unwrap();
        // The state call's response is not a valid page here; only its request counts.
        let _ = get_state(service, &state_request()).await;
    }

    let expected = format!("lib/lambda-durable/{}", env!("CARGO_PKG_VERSION"));
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 2 * services.len());
    for request in log.iter() {
        for name in ["user-agent", "x-amz-user-agent"] {
            let agent = request.header(name);
            assert_eq!(
                agent.matches(&expected).count(),
                1,
                "{} {}: {name}: {agent}",
                request.method,
                request.path
            );
        }
    }
}

#[test]
fn the_client_retries_nothing_and_uses_our_timeouts() {
    let shared = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .endpoint_url("http://127.0.0.1:9014")
        .retry_config(RetryConfig::standard().with_max_attempts(5))
        .build();
    let config = configure(aws_sdk_lambda::config::Builder::from(&shared)).build();

    assert_eq!(
        config.retry_config().map(RetryConfig::max_attempts),
        Some(1)
    );
    let timeouts = config.timeout_config().unwrap();
    assert_eq!(timeouts.connect_timeout(), Some(CONNECT_TIMEOUT));
    assert_eq!(timeouts.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
    assert_eq!(config.region().map(Region::as_ref), Some("eu-west-1"));
}

/// The connect and read timeouts of a connector's settings.
type Timeouts = (Option<Duration>, Option<Duration>);

/// The HTTP connectors a client asked for (by their settings), and the requests sent.
#[derive(Debug, Clone, Default)]
struct Connectors {
    settings: Arc<Mutex<Vec<Timeouts>>>,
    sent: Arc<std::sync::atomic::AtomicUsize>,
}

#[derive(Debug)]
struct Answer(Arc<std::sync::atomic::AtomicUsize>);

impl aws_smithy_runtime_api::client::http::HttpConnector for Answer {
    fn call(
        &self,
        _request: aws_sdk_lambda::config::http::HttpRequest,
    ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut response = HttpResponse::new(
            200u16.try_into().unwrap(),
            aws_smithy_types::body::SdkBody::from(r#"{"CheckpointToken":"next"}"#),
        );
        response
            .headers_mut()
            .insert("content-type", "application/json");
        aws_smithy_runtime_api::client::http::HttpConnectorFuture::ready(Ok(response))
    }
}

#[tokio::test]
async fn the_warm_up_prepares_the_connector_the_calls_use_and_sends_nothing() {
    let seen = Connectors::default();
    let client = {
        let seen = seen.clone();
        aws_smithy_runtime_api::client::http::http_client_fn(move |settings, _components| {
            seen.settings
                .lock()
                .unwrap()
                .push((settings.connect_timeout(), settings.read_timeout()));
            aws_smithy_runtime_api::client::http::SharedHttpConnector::new(Answer(Arc::clone(
                &seen.sent,
            )))
        })
    };
    let service = AwsService::from_conf(
        test_config("http://127.0.0.1:1")
            .http_client(client)
            .build(),
    );
    tokio::time::timeout(CALL_TIMEOUT, service.warm_up())
        .await
        .unwrap();
    // A connector was made (signed request, credentials loaded), and nothing was sent.
    assert_eq!(seen.settings.lock().unwrap().len(), 1);
    assert_eq!(seen.sent.load(std::sync::atomic::Ordering::SeqCst), 0);
    // A real call asks for a connector with the same settings: the AWS client's own HTTP
    // client keeps connectors by these settings, so the call finds the one made at warm-up.
    let response = tokio::time::timeout(
        CALL_TIMEOUT,
        service.checkpoint(ARN, &checkpoint_request(json!([]))),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        response.checkpoint_token.map(|t| t.to_string()).as_deref(),
        Some("next")
    );
    assert_eq!(seen.sent.load(std::sync::atomic::Ordering::SeqCst), 1);
    let settings = seen.settings.lock().unwrap().clone();
    assert_eq!(settings.len(), 2);
    assert_eq!(settings[0], settings[1]);
    assert_eq!(settings[0].0, Some(CONNECT_TIMEOUT));
}
