//! `Runtime::run` on the Lambda runtime API, as Lambda runs a function: a loopback server
//! plays the runtime API (two invocations, then none), and the test checks that the
//! builder's layers wrap every invocation in order, that the custom service is used, and
//! that log records carry the request id and tenant id Lambda sent.
//!
//! Its own test binary: it sets the environment variables Lambda sets, which the whole
//! process shares.
#![allow(clippy::unwrap_used)]

mod support;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use lambda_durable::lambda_runtime::tower::{Layer, Service};
use lambda_durable::lambda_runtime::LambdaInvocation;
use lambda_durable::{DurableContext, Error, Runtime};
use serde_json::{json, Value};
use support::{envelope, execution_operation, Capture, Echo};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// The request ids of the invocations the runtime API hands out, in order.
const REQUEST_IDS: [&str; 2] = ["req-1", "req-2"];
const TENANT: &str = "tenant-7";

async fn handler(name: String, ctx: DurableContext) -> Result<String, Error> {
    ctx.logger().info("greeting");
    ctx.step("greet", move |_| async move {
        Ok::<_, std::io::Error>(format!("hello {name}"))
    })
    .await
}

/// Notes, for each invocation, the name of the layer and the request id, before the inner
/// service runs.
#[derive(Clone)]
struct Tagged<S> {
    inner: S,
    name: &'static str,
    seen: Arc<Mutex<Vec<String>>>,
}

type BoxError = lambda_durable::lambda_runtime::Error;

impl<S> Service<LambdaInvocation> for Tagged<S>
where
    S: Service<LambdaInvocation, Response = (), Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = ();
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, invocation: LambdaInvocation) -> Self::Future {
        self.seen
            .lock()
            .unwrap()
            .push(format!("{} {}", self.name, invocation.context.request_id));
        Box::pin(self.inner.call(invocation))
    }
}

struct Tag {
    name: &'static str,
    seen: Arc<Mutex<Vec<String>>>,
}

impl<S> Layer<S> for Tag {
    type Service = Tagged<S>;

    fn layer(&self, inner: S) -> Tagged<S> {
        Tagged {
            inner,
            name: self.name,
            seen: Arc::clone(&self.seen),
        }
    }
}

/// A runtime API that hands out one invocation per request id, then none (the next
/// request waits for ever), and sends every posted response or error to `posted`.
async fn runtime_api(posted: mpsc::UnboundedSender<(String, Value)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handed_out = Arc::new(Mutex::new(0_usize));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handed_out = Arc::clone(&handed_out);
            let posted = posted.clone();
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let handed_out = Arc::clone(&handed_out);
                let posted = posted.clone();
                async move {
                    let path = request.uri().path().to_owned();
                    if path == "/2018-06-01/runtime/invocation/next" {
                        let next = {
                            let mut handed_out = handed_out.lock().unwrap();
                            *handed_out += 1;
                            REQUEST_IDS.get(*handed_out - 1).copied()
                        };
                        let Some(request_id) = next else {
                            std::future::pending::<()>().await;
                            unreachable!()
                        };
                        return Ok::<_, Infallible>(next_invocation(request_id));
                    }
                    let body = request.into_body().collect().await.unwrap().to_bytes();
                    let _ = posted.send((path, serde_json::from_slice(&body).unwrap()));
                    Ok(Response::builder()
                        .status(202)
                        .body(Full::new(Bytes::new()))
                        .unwrap())
                }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr.to_string()
}

/// The response to `GET /next`: a durable invocation envelope for the execution of
/// `greet("world")`, with a deadline a minute away.
fn next_invocation(request_id: &str) -> Response<Full<Bytes>> {
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(60);
    let body = envelope(&[execution_operation(&json!("world"))]);
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", request_id)
        .header(
            "lambda-runtime-deadline-ms",
            deadline.as_millis().to_string(),
        )
        .header(
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:123456789012:function:orders",
        )
        .header("lambda-runtime-aws-tenant-id", TENANT)
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn run_serves_invocations_through_the_layers_and_the_custom_service() {
    let (posted_tx, mut posted) = mpsc::unbounded_channel();
    let api = runtime_api(posted_tx).await;
    // What Lambda sets for a function; nothing else in this process reads them.
    std::env::set_var("AWS_LAMBDA_RUNTIME_API", &api);
    std::env::set_var("AWS_LAMBDA_FUNCTION_NAME", "orders");
    std::env::set_var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128");
    std::env::set_var("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
    std::env::remove_var("LAMBDA_DURABLE_DEADLINE_MARGIN_MS");

    let (capture, _guard) = Capture::on_this_thread();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let runtime = Runtime::builder()
        .durable_service(Echo::default())
        .layer(Tag {
            name: "inner",
            seen: Arc::clone(&seen),
        })
        .layer(Tag {
            name: "outer",
            seen: Arc::clone(&seen),
        })
        .build()
        .unwrap();
    let serving = tokio::spawn(runtime.run(handler));

    let mut responses = Vec::new();
    for _ in REQUEST_IDS {
        let response = tokio::time::timeout(Duration::from_secs(20), posted.recv())
            .await
            .expect("the runtime posts a response")
            .unwrap();
        responses.push(response);
    }
    serving.abort();

    for ((path, body), request_id) in responses.iter().zip(REQUEST_IDS) {
        assert_eq!(
            path,
            &format!("/2018-06-01/runtime/invocation/{request_id}/response")
        );
        assert_eq!(
            body,
            &json!({"Status": "SUCCEEDED", "Result": "\"hello world\""})
        );
    }
    // A layer added later wraps the ones added before it.
    assert_eq!(
        *seen.lock().unwrap(),
        ["outer req-1", "inner req-1", "outer req-2", "inner req-2"]
    );
    let records = capture.records();
    let fields: Vec<(Option<&str>, Option<&str>)> = records
        .iter()
        .map(|record| (record.field("request_id"), record.field("tenant_id")))
        .collect();
    assert_eq!(
        fields,
        [(Some("req-1"), Some(TENANT)), (Some("req-2"), Some(TENANT))]
    );
}
