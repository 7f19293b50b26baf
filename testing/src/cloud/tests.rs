//! The cloud runner against a stand-in for the Lambda API on 127.0.0.1: the requests it
//! sends, how it reads the answers, and what it does with bad ones.
#![allow(clippy::unwrap_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use super::*;
use crate::{CallbackResponse, DurableRunner, ExecutionHandle};

const ARN: &str =
    "arn:aws:lambda:us-east-1:123456789012:function:my-fn:$LATEST/durable-execution/run-1/abc";

/// A request the stand-in received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    /// The path, percent-decoded, and the query.
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// An answer of the stand-in.
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn ok(body: Value) -> Answer {
    Answer {
        status: 200,
        headers: Vec::new(),
        body: body.to_string(),
    }
}

fn error(status: u16, code: &str, message: &str) -> Answer {
    Answer {
        status,
        headers: vec![("x-amzn-errortype", code.to_string())],
        body: json!({ "Type": "User", "message": message }).to_string(),
    }
}

type Route = dyn Fn(&Seen, &[Seen]) -> Answer + Send + Sync;

/// The stand-in: answers with `route`, which sees the request and those before it.
struct Fake {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Fake {
    async fn start(route: impl Fn(&Seen, &[Seen]) -> Answer + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let route: Arc<Route> = Arc::new(route);
        let shared = Arc::clone(&seen);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let seen = Arc::clone(&shared);
                let route = Arc::clone(&route);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                        let seen = Arc::clone(&seen);
                        let route = Arc::clone(&route);
                        async move {
                            let method = request.method().to_string();
                            let path = percent_decode(request.uri().path());
                            let query = request.uri().query().unwrap_or_default().to_string();
                            let headers = request
                                .headers()
                                .iter()
                                .map(|(name, value)| {
                                    (
                                        name.to_string(),
                                        value.to_str().unwrap_or_default().to_string(),
                                    )
                                })
                                .collect();
                            let body = request.into_body().collect().await.unwrap().to_bytes();
                            let request = Seen {
                                method,
                                path,
                                query,
                                headers,
                                body: String::from_utf8_lossy(&body).into_owned(),
                            };
                            let answer = {
                                let mut seen = seen.lock().unwrap();
                                let answer = route(&request, &seen);
                                seen.push(request);
                                answer
                            };
                            let mut response = Response::builder().status(answer.status);
                            for (name, value) in answer.headers {
                                response = response.header(name, value);
                            }
                            let response = response
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from(answer.body)))
                                .unwrap();
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Fake {
            url: format!("http://{addr}"),
            seen,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn client(&self) -> Client {
        let config = aws_sdk_lambda::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .endpoint_url(&self.url)
            .retry_config(RetryConfig::disabled())
            .build();
        Client::from_conf(config)
    }

    /// A runner for `my-fn` through the stand-in, polling fast.
    fn runner(&self) -> CloudRunner {
        CloudRunner::new("my-fn")
            .with_client(self.client())
            .poll_interval(Duration::from_millis(10))
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(byte) = u8::from_str_radix(hex, 16) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_get(seen: &Seen) -> bool {
    seen.method == "GET"
        && seen.path.starts_with("/2025-12-01/durable-executions/")
        && !seen.path.ends_with("/history")
}

fn is_history(seen: &Seen) -> bool {
    seen.method == "GET" && seen.path.ends_with("/history")
}

/// A `GetDurableExecution` answer.
fn described(status: &str, extra: Value) -> Answer {
    let mut body = json!({
        "DurableExecutionArn": ARN,
        "DurableExecutionName": "run-1",
        "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:my-fn:$LATEST",
        "Status": status,
        "StartTimestamp": 1_767_225_600,
        "InputPayload": "{\"id\":7}",
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    ok(body)
}

/// The history of a workflow: a step that failed once and succeeded on its retry, then the
/// end; split in two pages.
fn history_pages() -> (Value, Value) {
    let step = "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b";
    let first = json!({
        "Events": [
            {"EventId": 1, "EventType": "ExecutionStarted", "Id": "exec-id", "EventTimestamp": 1_767_225_600,
             "ExecutionStartedDetails": {"Input": {"Payload": "{\"id\":7}"}, "ExecutionTimeout": 900}},
            {"EventId": 2, "EventType": "StepStarted", "Id": step, "Name": "charge", "SubType": "Step",
             "EventTimestamp": 1_767_225_600},
            {"EventId": 3, "EventType": "StepFailed", "Id": step, "Name": "charge", "SubType": "Step",
             "EventTimestamp": 1_767_225_601,
             "StepFailedDetails": {"Error": {"Payload": {"ErrorType": "Busy", "ErrorMessage": "try later"}},
                                   "RetryDetails": {"CurrentAttempt": 1, "NextAttemptDelaySeconds": 10}}},
            {"EventId": 4, "EventType": "InvocationCompleted", "EventTimestamp": 1_767_225_601,
             "InvocationCompletedDetails": {"StartTimestamp": 1_767_225_600, "EndTimestamp": 1_767_225_601, "RequestId": "req-1"}},
        ],
        "NextMarker": "page-2"
    });
    let second = json!({
        "Events": [
            {"EventId": 5, "EventType": "StepStarted", "Id": step, "Name": "charge", "SubType": "Step",
             "EventTimestamp": 1_767_225_611},
            {"EventId": 6, "EventType": "StepSucceeded", "Id": step, "Name": "charge", "SubType": "Step",
             "EventTimestamp": 1_767_225_611,
             "StepSucceededDetails": {"Result": {"Payload": "\"ch_1\""}, "RetryDetails": {"CurrentAttempt": 2}}},
            {"EventId": 7, "EventType": "ExecutionSucceeded", "Id": "exec-id", "EventTimestamp": 1_767_225_612,
             "ExecutionSucceededDetails": {"Result": {"Payload": "{\"charge\":\"ch_1\"}"}}},
            {"EventId": 8, "EventType": "InvocationCompleted", "EventTimestamp": 1_767_225_612,
             "InvocationCompletedDetails": {"StartTimestamp": 1_767_225_611, "EndTimestamp": 1_767_225_612, "RequestId": "req-2"}},
        ]
    });
    (first, second)
}

fn started_invoke() -> Answer {
    Answer {
        status: 202,
        headers: vec![("x-amz-durable-execution-arn", ARN.to_string())],
        body: String::new(),
    }
}

#[tokio::test]
async fn starts_with_an_asynchronous_qualified_invoke_under_a_unique_name() {
    let fake = Fake::start(|_, _| started_invoke()).await;
    let runner = fake.runner().qualifier("live");
    let first = runner.start(json!({"id": 7})).await.unwrap();
    let second = runner.start(json!({"id": 8})).await.unwrap();
    assert_eq!(first.arn(), ARN);
    assert_eq!(second.arn(), ARN);

    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].path, "/2015-03-31/functions/my-fn/invocations");
    assert!(
        seen[0].query.contains("Qualifier=live"),
        "{}",
        seen[0].query
    );
    assert_eq!(seen[0].header("x-amz-invocation-type"), Some("Event"));
    assert_eq!(seen[0].json(), json!({"id": 7}));
    let names: Vec<&str> = seen
        .iter()
        .map(|seen| seen.header("x-amz-durable-execution-name").unwrap())
        .collect();
    for name in &names {
        assert!(name.starts_with("test-") && name.len() == 37, "{name}");
        assert!(check_execution_name(name).is_ok());
    }
    assert_ne!(names[0], names[1]);
}

#[tokio::test]
async fn an_execution_name_and_a_qualifier_in_the_function_are_used() {
    let fake = Fake::start(|_, _| started_invoke()).await;
    let runner = CloudRunner::new("arn:aws:lambda:us-east-1:123456789012:function:my-fn:7")
        .with_client(fake.client())
        .execution_name("order-7");
    runner.start(()).await.unwrap();
    let seen = &fake.seen()[0];
    assert_eq!(
        seen.path,
        "/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:my-fn/invocations"
    );
    assert!(seen.query.contains("Qualifier=7"), "{}", seen.query);
    assert_eq!(seen.header("x-amz-durable-execution-name"), Some("order-7"));

    let invalid = fake.runner().execution_name("order 7").start(()).await;
    assert!(
        matches!(invalid, Err(RunnerError::Config(_))),
        "{invalid:?}"
    );
    assert_eq!(
        fake.seen().len(),
        1,
        "an invalid name is refused before any call"
    );
}

#[tokio::test]
async fn an_invoke_without_an_execution_arn_is_a_service_error() {
    let fake = Fake::start(|_, _| Answer {
        status: 202,
        headers: Vec::new(),
        body: String::new(),
    })
    .await;
    match fake.runner().start(()).await {
        Err(RunnerError::Service {
            call, arn, message, ..
        }) => {
            assert_eq!(call, "Invoke");
            assert_eq!(arn, None);
            assert!(message.contains("my-fn:$LATEST"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_emulator_start_mode_posts_to_its_start_route() {
    let fake = Fake::start(|seen, _| {
        if seen.json()["ExecutionName"] == "taken" {
            return Answer {
                status: 409,
                headers: Vec::new(),
                body: json!({"Type": "ExecutionAlreadyStartedException", "message": "in use"})
                    .to_string(),
            };
        }
        Answer {
            status: 201,
            headers: Vec::new(),
            body: json!({"ExecutionArn": ARN}).to_string(),
        }
    })
    .await;
    let runner = fake
        .runner()
        .qualifier("live")
        .timeout(Duration::from_millis(1500))
        .start_mode(StartMode::Emulator {
            endpoint: Some(format!("{}/", fake.url)),
        });
    let execution = runner.start(json!({"id": 7})).await.unwrap();
    assert_eq!(execution.arn(), ARN);
    let seen = &fake.seen()[0];
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("POST", "/start-durable-execution")
    );
    let body = seen.json();
    assert_eq!(body["FunctionName"], "my-fn");
    assert_eq!(body["FunctionQualifier"], "live");
    assert_eq!(body["AccountId"], EMULATOR_ACCOUNT);
    assert_eq!(body["Input"], "{\"id\":7}");
    assert_eq!(body["ExecutionTimeoutSeconds"], 2);
    assert_eq!(body["ExecutionRetentionPeriodDays"], 1);
    assert!(body["ExecutionName"].as_str().unwrap().starts_with("test-"));

    match runner.clone().execution_name("taken").start(()).await {
        Err(RunnerError::Service { call, code, .. }) => {
            assert_eq!(call, "start-durable-execution");
            assert_eq!(code.as_deref(), Some("ExecutionAlreadyStartedException"));
        }
        other => panic!("{other:?}"),
    }
    let https = runner.start_mode(StartMode::Emulator {
        endpoint: Some("https://example.com".to_string()),
    });
    assert!(matches!(https.start(()).await, Err(RunnerError::Config(_))));
}

#[tokio::test]
async fn run_polls_until_the_end_and_reads_every_history_page() {
    let (first, second) = history_pages();
    let fake = Fake::start(move |seen, before| {
        if seen.method == "POST" {
            return started_invoke();
        }
        if is_history(seen) {
            return ok(if seen.query.contains("Marker=page-2") {
                second.clone()
            } else {
                first.clone()
            });
        }
        // RUNNING for the first two polls.
        if before.iter().filter(|seen| is_get(seen)).count() < 2 {
            return described("RUNNING", json!({}));
        }
        described(
            "SUCCEEDED",
            json!({"Result": "{\"charge\":\"ch_1\"}", "EndTimestamp": 1_767_225_612}),
        )
    })
    .await;
    let execution = fake.runner().run(json!({"id": 7})).await.unwrap();

    assert!(execution.is_from_service());
    assert_eq!(execution.arn(), ARN);
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    assert_eq!(
        execution.result::<Value>().unwrap(),
        json!({"charge": "ch_1"})
    );
    assert_eq!(execution.input(), "{\"id\":7}");
    assert_eq!(execution.function_name(), "my-fn");
    assert_eq!(execution.history().len(), 8);
    let charge = execution.operation("charge").unwrap();
    assert_eq!(charge.step_details.as_ref().unwrap().attempt, Some(2));
    assert_eq!(
        charge.step_details.as_ref().unwrap().result.as_deref(),
        Some("\"ch_1\"")
    );
    assert_eq!(execution.operations()[0].type_, OperationType::Execution);
    // What the service does not report.
    assert_eq!(execution.invocations(), 2);
    assert_eq!(execution.invocation_outcomes().count(), 0);
    assert_eq!(execution.stats(), RunnerStats::default());
    assert!(execution.children().is_empty());
    assert_eq!(execution.elapsed(), Duration::from_secs(12));
    let timeline = execution.timeline();
    assert!(
        timeline.contains("step \"charge\" failed (attempt 1): Busy: try later; retry in 10s"),
        "{timeline}"
    );
    assert!(
        timeline.contains("invocation 2 ended (request req-2, ran 1s)"),
        "{timeline}"
    );
    assert!(
        timeline.contains("+12s    execution succeeded"),
        "{timeline}"
    );

    let seen = fake.seen();
    let gets = seen.iter().filter(|seen| is_get(seen)).count();
    assert_eq!(gets, 4, "three polls and the final read");
    let pages: Vec<&Seen> = seen.iter().filter(|seen| is_history(seen)).collect();
    assert_eq!(pages.len(), 2);
    for page in &pages {
        assert!(
            page.query.contains("IncludeExecutionData=true"),
            "{}",
            page.query
        );
    }
    assert!(pages[1].query.contains("Marker=page-2"));
    // A local replay of the execution read from the service works on its operations.
    let recorded = crate::RecordedExecution::from(&execution);
    assert_eq!(recorded.status, ExecutionStatus::Succeeded);
}

#[tokio::test]
async fn a_wait_that_runs_out_of_time_stops_the_execution() {
    let fake = Fake::start(|seen, _| {
        if seen.path.ends_with("/stop") {
            return ok(json!({"StopTimestamp": 1_767_225_700}));
        }
        if seen.method == "POST" {
            return started_invoke();
        }
        described("RUNNING", json!({}))
    })
    .await;
    let runner = fake.runner().timeout(Duration::from_millis(200));
    match runner.run(()).await {
        Err(RunnerError::Timeout {
            arn,
            awaited,
            waited,
            stop_error,
        }) => {
            assert_eq!(arn, ARN);
            assert_eq!(awaited, "finish");
            assert!(waited >= Duration::from_millis(200));
            assert_eq!(stop_error, None);
        }
        other => panic!("{other:?}"),
    }
    let stops: Vec<Seen> = fake
        .seen()
        .into_iter()
        .filter(|seen| seen.path.ends_with("/stop"))
        .collect();
    assert_eq!(stops.len(), 1);
    assert_eq!(
        stops[0].path,
        format!("/2025-12-01/durable-executions/{ARN}/stop")
    );
    assert_eq!(stops[0].json()["ErrorType"], STOP_ERROR_TYPE);
}

#[tokio::test]
async fn a_stop_that_fails_is_reported_with_the_timeout() {
    let fake = Fake::start(|seen, _| {
        if seen.path.ends_with("/stop") {
            return error(409, "ConflictException", "already over");
        }
        if seen.method == "POST" {
            return started_invoke();
        }
        described("RUNNING", json!({}))
    })
    .await;
    let err = fake
        .runner()
        .timeout(Duration::from_millis(50))
        .run(())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            RunnerError::Timeout {
                stop_error: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        text.contains("stopping it failed too") && text.contains("already over"),
        "{text}"
    );
}

/// The history of an execution waiting for the approval of a `wait_for_callback`.
fn waiting_for_approval() -> Value {
    json!({"Events": [
        {"EventId": 1, "EventType": "ExecutionStarted", "Id": "exec-id", "EventTimestamp": 1_767_225_600,
         "ExecutionStartedDetails": {"Input": {"Payload": "{}"}}},
        {"EventId": 2, "EventType": "ContextStarted", "Id": "ctx", "Name": "approval",
         "SubType": "WaitForCallback", "EventTimestamp": 1_767_225_600},
        {"EventId": 3, "EventType": "CallbackStarted", "Id": "cb-op", "ParentId": "ctx",
         "SubType": "Callback", "EventTimestamp": 1_767_225_600,
         "CallbackStartedDetails": {"CallbackId": "Y2FsbGJhY2s+MQ=="}},
    ]})
}

fn callback_calls(seen: &[Seen]) -> Vec<&Seen> {
    seen.iter()
        .filter(|seen| {
            seen.path
                .starts_with("/2025-12-01/durable-execution-callbacks/")
        })
        .collect()
}

#[tokio::test]
async fn responders_answer_pending_callbacks_once() {
    let fake = Fake::start(|seen, before| {
        let answered = !callback_calls(before).is_empty();
        if seen
            .path
            .starts_with("/2025-12-01/durable-execution-callbacks/")
        {
            return ok(json!({}));
        }
        if seen.method == "POST" {
            return started_invoke();
        }
        if is_history(seen) {
            return ok(waiting_for_approval());
        }
        // It takes two more polls after the answer to end: the responder must not answer
        // again meanwhile.
        let polls_after = before
            .iter()
            .skip_while(|seen| !seen.path.contains("durable-execution-callbacks"))
            .filter(|seen| is_get(seen))
            .count();
        if answered && polls_after >= 2 {
            described("SUCCEEDED", json!({"Result": "\"ok\""}))
        } else {
            described("RUNNING", json!({}))
        }
    })
    .await;
    let runner = fake
        .runner()
        .on_callback("approval", CallbackResponse::json(json!({"by": "grace"})));
    let execution = runner.run(()).await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    assert_eq!(execution.result::<String>().unwrap(), "ok");
    let seen = fake.seen();
    let calls = callback_calls(&seen);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(
        calls[0].path,
        "/2025-12-01/durable-execution-callbacks/Y2FsbGJhY2s+MQ==/succeed"
    );
    assert_eq!(calls[0].json(), json!({"by": "grace"}));
}

#[tokio::test]
async fn responder_failures_and_heartbeats_are_sent() {
    let fake = Fake::start(|seen, before| {
        if seen
            .path
            .starts_with("/2025-12-01/durable-execution-callbacks/")
        {
            return ok(json!({}));
        }
        if seen.method == "POST" {
            return started_invoke();
        }
        if is_history(seen) {
            return ok(waiting_for_approval());
        }
        if callback_calls(before)
            .iter()
            .any(|seen| seen.path.ends_with("/fail"))
        {
            described("FAILED", json!({}))
        } else {
            described("RUNNING", json!({}))
        }
    })
    .await;
    let runner = fake.runner().on_callback(
        |callback: &PendingCallback| callback.name() == Some("approval"),
        CallbackResponse::failure("Rejected", "over budget")
            .after(Duration::from_millis(250))
            .heartbeat_every(Duration::from_millis(100)),
    );
    let mut execution = runner.start(()).await.unwrap();
    execution.drive(Goal::Finish).await.unwrap();
    let seen = fake.seen();
    let calls = callback_calls(&seen);
    let kinds: Vec<&str> = calls
        .iter()
        .map(|seen| seen.path.rsplit('/').next().unwrap())
        .collect();
    // Heartbeats every 100 ms or later (a late one is not made up for), none after the
    // answer, which comes once, at 250 ms or later.
    let (last, heartbeats) = kinds.split_last().unwrap();
    assert_eq!(*last, "fail", "{kinds:?}");
    assert!(
        (1..=2).contains(&heartbeats.len()) && heartbeats.iter().all(|kind| *kind == "heartbeat"),
        "{kinds:?}"
    );
    let failure = calls.last().unwrap().json();
    assert_eq!(failure["ErrorType"], "Rejected");
    assert_eq!(failure["ErrorMessage"], "over budget");
}

#[tokio::test]
async fn a_test_waits_for_a_callback_and_completes_it() {
    let fake = Fake::start(|seen, before| {
        if seen
            .path
            .starts_with("/2025-12-01/durable-execution-callbacks/")
        {
            // Completing it a second time is refused, as the service does.
            return if callback_calls(before).is_empty() {
                ok(json!({}))
            } else {
                error(404, "ResourceNotFoundException", "no such callback")
            };
        }
        if seen.method == "POST" {
            return started_invoke();
        }
        if is_history(seen) {
            // The callback appears at the third history read.
            let reads = before.iter().filter(|seen| is_history(seen)).count();
            return ok(if reads >= 2 {
                waiting_for_approval()
            } else {
                json!({"Events": [{"EventId": 1, "EventType": "ExecutionStarted", "Id": "exec-id",
                                   "ExecutionStartedDetails": {"Input": {"Payload": "{}"}}}]})
            });
        }
        described("RUNNING", json!({}))
    })
    .await;
    let mut execution = DurableRunner::start(&fake.runner(), ()).await.unwrap();
    let approval = ExecutionHandle::wait_for_callback(&mut execution, "approval")
        .await
        .unwrap();
    assert_eq!(approval.id(), "Y2FsbGJhY2s+MQ==");
    assert_eq!(approval.operation_id(), "cb-op");
    assert_eq!(approval.execution_arn(), ARN);
    let pending = ExecutionHandle::pending_callbacks(&mut execution)
        .await
        .unwrap();
    assert_eq!(pending, vec![approval.clone()]);
    ExecutionHandle::send_callback_success(&mut execution, approval.id(), "true")
        .await
        .unwrap();
    let again = ExecutionHandle::send_callback_success(&mut execution, approval.id(), "true").await;
    match again {
        Err(RunnerError::Callback(err)) => assert_eq!(err.code(), "ResourceNotFoundException"),
        other => panic!("{other:?}"),
    }
    let too_large = execution
        .send_callback_success(approval.id(), "x".repeat(2 * 1024 * 1024))
        .await;
    match too_large {
        Err(RunnerError::Callback(err)) => assert_eq!(err.code(), "InvalidParameterValueException"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        callback_calls(&fake.seen()).len(),
        2,
        "the large one is not sent"
    );
}

#[tokio::test]
async fn waiting_for_a_callback_of_a_finished_execution_fails() {
    let fake = Fake::start(|seen, _| {
        if seen.method == "POST" {
            return started_invoke();
        }
        described("STOPPED", json!({}))
    })
    .await;
    let mut execution = fake.runner().start(()).await.unwrap();
    match execution.wait_for_callback("approval").await {
        Err(RunnerError::NoPendingCallback { arn, status }) => {
            assert_eq!(arn, ARN);
            assert_eq!(status, ExecutionStatus::Stopped);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn service_errors_name_the_call_the_execution_and_the_code() {
    let fake =
        Fake::start(|_, _| error(404, "ResourceNotFoundException", "no such execution")).await;
    match fake.runner().execution(ARN).await {
        Err(RunnerError::Service {
            call,
            arn,
            code,
            message,
        }) => {
            assert_eq!(call, "GetDurableExecution");
            assert_eq!(arn.as_deref(), Some(ARN));
            assert_eq!(code.as_deref(), Some("ResourceNotFoundException"));
            assert_eq!(message, "no such execution");
        }
        other => panic!("{other:?}"),
    }
}

/// Reads the execution with this history page (the only one).
async fn read_with_history(
    page: Value,
    status: &str,
    extra: Value,
) -> Result<Execution, RunnerError> {
    let status = status.to_string();
    let fake = Fake::start(move |seen, _| {
        if is_history(seen) {
            return ok(page.clone());
        }
        described(&status, extra.clone())
    })
    .await;
    fake.runner().execution(ARN).await
}

#[tokio::test]
async fn bad_histories_are_errors_not_panics() {
    for (page, what) in [
        (
            json!({"Events": [{"EventId": 0, "EventType": "ExecutionStarted"}]}),
            "EventId",
        ),
        (json!({"Events": "none"}), "Events"),
        (
            json!({"Events": [{"EventId": 1, "EventType": "StepStarted", "Id": "s"}]}),
            "ExecutionStarted",
        ),
        (
            json!({"Events": [
                {"EventId": 1, "EventType": "ExecutionStarted", "Id": "e",
                 "ExecutionStartedDetails": {"Input": {"Payload": "{}"}}},
                {"EventId": 2, "EventType": "StepStarted", "Id": "x"},
                {"EventId": 3, "EventType": "WaitStarted", "Id": "x"}
            ]}),
            "operation x",
        ),
    ] {
        match read_with_history(page, "RUNNING", json!({})).await {
            Err(RunnerError::Service { call, message, .. }) => {
                assert_eq!(call, "GetDurableExecutionHistory");
                assert!(message.contains(what), "{what}: {message}");
            }
            other => panic!("{what}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_page_marker_seen_twice_ends_the_read() {
    let fake = Fake::start(|seen, _| {
        if is_history(seen) {
            return ok(json!({"Events": [], "NextMarker": "same"}));
        }
        described("RUNNING", json!({}))
    })
    .await;
    match fake.runner().execution(ARN).await {
        Err(RunnerError::Service { message, .. }) => {
            assert!(message.contains("twice"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn truncated_execution_payloads_come_from_get_durable_execution() {
    let page = json!({"Events": [
        {"EventId": 1, "EventType": "ExecutionStarted", "Id": "e", "EventTimestamp": 1_767_225_600,
         "ExecutionStartedDetails": {"Input": {"Truncated": true}}},
        {"EventId": 2, "EventType": "ExecutionSucceeded", "Id": "e", "EventTimestamp": 1_767_225_601,
         "ExecutionSucceededDetails": {"Result": {"Truncated": true}}},
    ]});
    let execution = read_with_history(
        page,
        "SUCCEEDED",
        json!({"Result": "[1,2,3]", "EndTimestamp": 1_767_225_601}),
    )
    .await
    .unwrap();
    assert_eq!(execution.result::<Vec<u32>>().unwrap(), vec![1, 2, 3]);
    assert_eq!(execution.input(), "{\"id\":7}");
    let input = execution.operations()[0]
        .execution_details
        .as_ref()
        .and_then(|details| details.input_payload.as_deref());
    assert_eq!(input, Some("{\"id\":7}"));
    // The history itself stays as the service sent it.
    let started = &execution.history()[0];
    let truncated = started
        .execution_started_details
        .as_ref()
        .and_then(|details| details.input.as_ref())
        .and_then(|input| input.truncated);
    assert_eq!(truncated, Some(true));
}

#[tokio::test]
async fn a_failed_execution_reads_its_error() {
    let page = json!({"Events": [
        {"EventId": 1, "EventType": "ExecutionStarted", "Id": "e", "EventTimestamp": 1_767_225_600,
         "ExecutionStartedDetails": {"Input": {"Payload": "{}"}}},
        {"EventId": 2, "EventType": "ExecutionFailed", "Id": "e", "EventTimestamp": 1_767_225_601,
         "ExecutionFailedDetails": {"Error": {"Payload": {"ErrorType": "Rejected", "ErrorMessage": "no"}}}},
    ]});
    let execution = read_with_history(
        page,
        "FAILED",
        json!({"Error": {"ErrorType": "Rejected", "ErrorMessage": "no", "StackTrace": ["a", "b"]}}),
    )
    .await
    .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let error = execution.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("Rejected"));
    assert_eq!(error.stack_trace, vec!["a".to_string(), "b".to_string()]);
    match execution.result::<Value>() {
        Err(RunnerError::NoResult { status, error }) => {
            assert_eq!(status, ExecutionStatus::Failed);
            assert_eq!(error.as_deref(), Some("Rejected: no"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn function_specs_split_into_a_function_and_a_qualifier() {
    let split = |spec: &str| {
        let (function, qualifier) = split_function(spec);
        (function, qualifier)
    };
    assert_eq!(split("my-fn"), ("my-fn".to_string(), None));
    assert_eq!(
        split("my-fn:live"),
        ("my-fn".to_string(), Some("live".to_string()))
    );
    assert_eq!(
        split(" my-fn:$LATEST "),
        ("my-fn".to_string(), Some("$LATEST".to_string()))
    );
    assert_eq!(split("my-fn:"), ("my-fn".to_string(), None));
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:my-fn";
    assert_eq!(split(arn), (arn.to_string(), None));
    assert_eq!(
        split(&format!("{arn}:7")),
        (arn.to_string(), Some("7".to_string()))
    );
    assert_eq!(
        split("123456789012:function:my-fn:live"),
        (
            "123456789012:function:my-fn".to_string(),
            Some("live".to_string())
        )
    );
    assert_eq!(CloudRunner::new("my-fn").function_qualifier(), "$LATEST");
    assert_eq!(CloudRunner::new("my-fn:live").function(), "my-fn");
}

#[test]
fn the_environment_selects_the_function_and_the_start_mode() {
    let read = |function: Option<&str>, start: Option<&str>| {
        CloudRunner::from_settings(function, start)
            .map(|runner| runner.map(|r| (r.function, r.qualifier, r.start_mode)))
    };
    assert!(matches!(read(None, Some("emulator")), Ok(None)));
    assert!(matches!(read(Some("  "), None), Ok(None)));
    let (function, qualifier, mode) = read(Some("hello:live"), None).unwrap().unwrap();
    assert_eq!(
        (function.as_str(), qualifier.as_str(), mode),
        ("hello", "live", StartMode::Invoke)
    );
    let (_, qualifier, mode) = read(Some("hello"), Some("emulator")).unwrap().unwrap();
    assert_eq!(qualifier, "$LATEST");
    assert_eq!(mode, StartMode::Emulator { endpoint: None });
    assert!(matches!(read(Some("hello"), Some("invoke")), Ok(Some(_))));
    assert!(matches!(
        read(Some("hello"), Some("lambda")),
        Err(RunnerError::Config(_))
    ));
}

#[test]
fn execution_names_follow_the_service_rule() {
    assert!(check_execution_name("order-7_b").is_ok());
    assert!(check_execution_name(&"a".repeat(64)).is_ok());
    assert!(check_execution_name(&"a".repeat(65)).is_err());
    assert!(check_execution_name("").is_err());
    assert!(check_execution_name("order.7").is_err());
    assert_eq!(whole_seconds(Duration::ZERO), 1);
    assert_eq!(whole_seconds(Duration::from_millis(1001)), 2);
}

#[tokio::test]
async fn error_codes_in_the_body_are_read_as_the_emulator_sends_them() {
    let fake = Fake::start(|_, _| Answer {
        status: 404,
        headers: Vec::new(),
        body: json!({"Type": "ResourceNotFoundException", "Message": "gone"}).to_string(),
    })
    .await;
    match fake.runner().execution(ARN).await {
        Err(RunnerError::Service { code, message, .. }) => {
            assert_eq!(code.as_deref(), Some("ResourceNotFoundException"));
            assert_eq!(message, "gone");
        }
        other => panic!("{other:?}"),
    }
    let client = fake.client();
    match complete(&client, "cb-1", Completion::Success("true".to_string())).await {
        Err(RunnerError::Callback(SendCallbackError::NotFound { callback_id })) => {
            assert_eq!(callback_id, "cb-1")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn errors_marked_truncated_but_sent_whole_are_kept_and_results_are_not() {
    let start = json!({"EventId": 1, "EventType": "ExecutionStarted", "Id": "e",
        "EventTimestamp": 1_767_225_600, "ExecutionStartedDetails": {"Input": {"Payload": "{}"}}});
    let failed = json!({"Events": [start,
        {"EventId": 2, "EventType": "CallbackStarted", "Id": "cb", "Name": "approval",
         "SubType": "Callback", "CallbackStartedDetails": {"CallbackId": "id-1"}},
        {"EventId": 3, "EventType": "CallbackFailed", "Id": "cb", "SubType": "Callback",
         "CallbackFailedDetails": {"Error": {"Payload": {"ErrorType": "Rejected", "ErrorMessage": "no"},
                                             "Truncated": true}}},
    ]});
    let execution = read_with_history(failed, "RUNNING", json!({}))
        .await
        .unwrap();
    let callback = execution.operation("approval").unwrap();
    let error = callback
        .callback_details
        .as_ref()
        .and_then(|details| details.error.as_ref())
        .unwrap();
    assert_eq!(error.error_message.as_deref(), Some("no"));

    let cut = json!({"Events": [start,
        {"EventId": 2, "EventType": "StepStarted", "Id": "s", "Name": "big", "SubType": "Step"},
        {"EventId": 3, "EventType": "StepSucceeded", "Id": "s", "SubType": "Step",
         "StepSucceededDetails": {"Result": {"Payload": "[1, 2", "Truncated": true}}},
    ]});
    match read_with_history(cut, "RUNNING", json!({})).await {
        Err(RunnerError::Service { message, .. }) => {
            assert!(message.contains("truncated"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}
