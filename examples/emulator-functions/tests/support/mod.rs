//! The test harness: AWS's local durable-execution emulator (`dex-local-runner`) in a Python
//! virtual environment, and a Lambda service for it made of a Lambda Invoke endpoint and one
//! Lambda runtime API per function, served to this crate's function binary.
//!
//! ```text
//!  test ──start-durable-execution / history / callbacks──▶ emulator (Python, 127.0.0.1)
//!                                                             │  POST /2015-03-31/functions/{name}/invocations
//!                                                             ▼
//!                                  Invoke endpoint (this module) ──▶ runtime API of {name}
//!                                                                      ▲  GET  …/invocation/next
//!                                                                      │  POST …/invocation/{id}/response | error
//!                                       function process (emulator-functions binary, lambda_runtime)
//!                                           └── checkpoints and state reads (aws-sdk-lambda) ──▶ emulator
//! ```
//!
//! Everything listens on 127.0.0.1 on ports picked by the system. Every process is killed
//! when the [`Harness`] is dropped, on panic too; the emulator also exits by itself when its
//! stdin (a pipe from the test process) closes, so a killed test leaves nothing behind, and
//! a function process exits when its runtime API goes away.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_lambda::types::{Event, EventType, ExecutionStatus};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// The emulator release the suite is pinned to.
pub(crate) const EMULATOR_VERSION: &str = "1.4.0";
/// The region the emulator signs in and reports in ARNs.
const REGION: &str = "us-west-2";
/// The account id the emulator uses.
const ACCOUNT: &str = "123456789012";
/// How long one invocation may run (the Lambda function timeout of every function).
const INVOCATION_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the emulator may take to answer its health check after it is started.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one request of the test to the emulator may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

type Body = Full<Bytes>;

/// Where the emulator's virtual environment is: `$DEX_EMULATOR_VENV`, else
/// `target/dex-emulator` in the workspace. It is created by `.ci/emulator-setup.sh` (which
/// `.ci/run` calls before the tests); when it is missing, the first test runs that script.
fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let workspace = workspace_root();
        let venv = std::env::var_os("DEX_EMULATOR_VENV").map_or_else(
            || workspace.join("target").join("dex-emulator"),
            PathBuf::from,
        );
        if !python(&venv).is_file() || !installed_marker(&venv).is_file() {
            let script = workspace.join(".ci").join("emulator-setup.sh");
            eprintln!(
                "the emulator is not installed in {}; running {} (needs python3 and PyPI)",
                venv.display(),
                script.display()
            );
            let status = Command::new("bash")
                .arg(&script)
                .arg(&venv)
                .stdin(Stdio::null())
                .status()
                .unwrap_or_else(|err| panic!("cannot run {}: {err}", script.display()));
            assert!(
                status.success(),
                "{} failed ({status}): the emulator tests need aws-durable-execution-sdk-python-testing=={EMULATOR_VERSION} \
                 in a Python virtual environment; run `bash .ci/emulator-setup.sh` or set DEX_EMULATOR_VENV",
                script.display()
            );
        }
        assert!(
            python(&venv).is_file() && installed_marker(&venv).is_file(),
            "no emulator in {} after setup",
            venv.display()
        );
        venv
    })
}

fn python(venv: &Path) -> PathBuf {
    venv.join("bin").join("python")
}

/// Written by the setup script once the pinned packages are installed.
fn installed_marker(venv: &Path) -> PathBuf {
    venv.join(format!("dex-local-runner-{EMULATOR_VERSION}.installed"))
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the crate is two levels below the workspace root")
        .to_path_buf()
}

/// A durable function or a plain one, as the emulator's `--function-configs` describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Durable,
    Plain,
}

/// A process that is killed (and reaped) when this is dropped.
struct Killed {
    child: Child,
}

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One invocation waiting for, or held by, a function process.
struct Invocation {
    request_id: String,
    payload: Bytes,
    deadline_ms: u128,
    reply: oneshot::Sender<Outcome>,
}

/// How an invocation ended.
#[derive(Debug)]
enum Outcome {
    /// The function's response (`/response`).
    Response(Bytes),
    /// A function error (`/error`, a crash or a timeout): the error document and its type.
    Error(Bytes),
}

/// One function: its runtime API and (once invoked) its process.
struct Function {
    name: String,
    kind: Kind,
    runtime_api: SocketAddr,
    queue: mpsc::UnboundedSender<Invocation>,
    /// The invocations handed to the process, by request id.
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    process: Mutex<Option<Killed>>,
    starts: AtomicU64,
}

/// What the Invoke endpoint saw: one entry per Invoke.
#[derive(Debug, Clone)]
pub(crate) struct InvokeRecord {
    /// The function invoked.
    pub(crate) function: String,
    /// The execution, for a handler invocation of a durable function.
    pub(crate) execution_arn: Option<String>,
    /// Whether the emulator marked it as a handler invocation (`X-Dex-Handler-Invoke`).
    pub(crate) handler_invoke: bool,
    /// The invocation output's `Status` (or `FunctionError` for a function error).
    pub(crate) status: String,
    /// Every operation id in the envelope the function received.
    pub(crate) operation_ids: Vec<String>,
}

struct Shared {
    functions: HashMap<String, Arc<Function>>,
    binary: PathBuf,
    /// The emulator, for the proxy.
    emulator_addr: SocketAddr,
    /// What the functions' SDK is pointed at: the recording proxy in front of the emulator.
    service_url: String,
    logs: PathBuf,
    service_calls: Mutex<Vec<ServiceCall>>,
    /// When set, the invocation id (in the emulator's tokens) whose checkpoints get a
    /// corrupted token: the first one seen.
    corrupt: Option<Mutex<Option<String>>>,
    records: Mutex<Vec<InvokeRecord>>,
    next_request: AtomicU64,
}

/// The emulator, the Lambda service in front of the functions, and a client for both.
pub(crate) struct Harness {
    shared: Arc<Shared>,
    emulator: Option<Killed>,
    tasks: Vec<JoinHandle<()>>,
    client: aws_sdk_lambda::Client,
    emulator_addr: SocketAddr,
    name: String,
}

/// What the test asked the harness for.
pub(crate) struct HarnessBuilder {
    name: String,
    functions: Vec<(String, Kind)>,
    corrupt_first_invocation: bool,
}

impl HarnessBuilder {
    /// Adds a function served by the binary.
    pub(crate) fn function(mut self, name: &str, kind: Kind) -> Self {
        self.functions.push((name.to_string(), kind));
        self
    }

    /// Makes the proxy corrupt the checkpoint token of every checkpoint call of the first
    /// invocation that checkpoints (the emulator then answers 400 "Invalid checkpoint token").
    pub(crate) fn corrupt_first_invocation_tokens(mut self) -> Self {
        self.corrupt_first_invocation = true;
        self
    }

    /// Starts the Invoke endpoint, a runtime API per function and the emulator.
    pub(crate) async fn start(self) -> Harness {
        let venv = venv();
        let logs = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("emulator")
            .join(format!("{}-{}", self.name, std::process::id()));
        let _ = std::fs::remove_dir_all(&logs);
        std::fs::create_dir_all(&logs).expect("create the log directory");

        let invoke_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the Invoke endpoint");
        let proxy_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the service proxy");
        let proxy_addr = proxy_listener.local_addr().expect("proxy address");
        let invoke_addr = invoke_listener
            .local_addr()
            .expect("Invoke endpoint address");

        let mut tasks = Vec::new();
        let mut functions = HashMap::new();
        let mut receivers = Vec::new();
        for (name, kind) in &self.functions {
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind a runtime API");
            let (queue, receiver) = mpsc::unbounded_channel();
            let function = Arc::new(Function {
                name: name.clone(),
                kind: *kind,
                runtime_api: listener.local_addr().expect("runtime API address"),
                queue,
                in_flight: Mutex::new(HashMap::new()),
                process: Mutex::new(None),
                starts: AtomicU64::new(0),
            });
            functions.insert(name.clone(), Arc::clone(&function));
            receivers.push((function, listener, receiver));
        }

        let function_configs: serde_json::Map<String, Value> = self
            .functions
            .iter()
            .map(|(name, kind)| {
                let config = match kind {
                    Kind::Durable => json!({"DurableConfig": {"ExecutionTimeout": 120, "RetentionPeriodInDays": 1}}),
                    Kind::Plain => json!({}),
                };
                (name.clone(), config)
            })
            .collect();
        let (emulator, emulator_addr) = start_emulator(
            venv,
            invoke_addr,
            &Value::Object(function_configs).to_string(),
            &logs,
        )
        .await;
        let emulator_url = format!("http://{emulator_addr}");

        let shared = Arc::new(Shared {
            functions,
            binary: PathBuf::from(env!("CARGO_BIN_EXE_emulator-functions")),
            emulator_addr,
            service_url: format!("http://{proxy_addr}"),
            service_calls: Mutex::new(Vec::new()),
            corrupt: self.corrupt_first_invocation.then(|| Mutex::new(None)),
            logs,
            records: Mutex::new(Vec::new()),
            next_request: AtomicU64::new(1),
        });
        for (function, listener, receiver) in receivers {
            tasks.push(tokio::spawn(serve_runtime_api(
                function,
                listener,
                Arc::new(tokio::sync::Mutex::new(receiver)),
            )));
        }
        tasks.push(tokio::spawn(serve_service_proxy(
            Arc::clone(&shared),
            proxy_listener,
        )));
        tasks.push(tokio::spawn(serve_invoke_endpoint(
            Arc::clone(&shared),
            invoke_listener,
        )));

        let config = aws_sdk_lambda::Config::builder()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .region(aws_sdk_lambda::config::Region::new(REGION))
            .endpoint_url(&emulator_url)
            .credentials_provider(aws_sdk_lambda::config::Credentials::new(
                "test", "test", None, None, "static",
            ))
            .timeout_config(
                aws_sdk_lambda::config::timeout::TimeoutConfig::builder()
                    .operation_timeout(REQUEST_TIMEOUT)
                    .build(),
            )
            .build();
        Harness {
            shared,
            emulator: Some(emulator),
            tasks,
            client: aws_sdk_lambda::Client::from_conf(config),
            emulator_addr,
            name: self.name,
        }
    }
}

/// Starts `dex-local-runner start-server` on a free port and waits for its health check.
async fn start_emulator(
    venv: &Path,
    invoke_addr: SocketAddr,
    function_configs: &str,
    logs: &Path,
) -> (Killed, SocketAddr) {
    // The CLI under a watchdog thread that exits the process when stdin closes, which it
    // does when the test process ends in any way.
    const LAUNCHER: &str = "import os, sys, threading\n\
        threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()\n\
        from aws_durable_execution_sdk_python_testing.cli import main\n\
        sys.argv[0] = 'dex-local-runner'\n\
        sys.exit(main())\n";
    let mut last_error = String::new();
    for attempt in 1..=3 {
        // A free port: bound, read and released (the emulator binds it right after).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("find a free port")
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let log_path = logs.join(format!("emulator-{attempt}.log"));
        let log = std::fs::File::create(&log_path).expect("create the emulator log");
        let child = Command::new(python(venv))
            .arg("-c")
            .arg(LAUNCHER)
            .args(["start-server", "--host", "127.0.0.1", "--port"])
            .arg(port.to_string())
            .arg("--lambda-endpoint")
            .arg(format!("http://{invoke_addr}"))
            .arg("--local-runner-endpoint")
            .arg(format!("http://{addr}"))
            .args(["--local-runner-region", REGION])
            .arg("--invocation-timeout")
            .arg(INVOCATION_TIMEOUT.as_secs().to_string())
            .arg("--function-configs")
            .arg(function_configs)
            .args(["--log-level", "INFO"])
            .env_clear()
            .envs(hermetic_aws_env())
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(log.try_clone().expect("clone the log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot start the emulator with {}: {err}",
                    python(venv).display()
                )
            });
        let mut process = Killed { child };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = process.child.try_wait() {
                last_error = format!(
                    "the emulator exited with {status}; its log:\n{}",
                    tail(&log_path, 40)
                );
                break;
            }
            if health(addr).await {
                return (process, addr);
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                last_error = format!(
                    "the emulator did not answer GET /health within {STARTUP_TIMEOUT:?}; its log:\n{}",
                    tail(&log_path, 40)
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        drop(process);
    }
    panic!("{last_error}");
}

/// Dummy credentials and settings so that nothing reads the user's AWS configuration or
/// reaches out of the machine.
fn hermetic_aws_env() -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "test".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
        ("AWS_REGION", REGION.to_string()),
        ("AWS_DEFAULT_REGION", REGION.to_string()),
        ("AWS_CONFIG_FILE", "/nonexistent/aws-config".to_string()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/aws-credentials".to_string(),
        ),
        ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
    ]
}

async fn health(addr: SocketAddr) -> bool {
    matches!(
        http(addr, Method::GET, "/health", None).await,
        Ok((StatusCode::OK, _))
    )
}

/// One HTTP/1.1 request with a JSON body to `addr`.
async fn http(
    addr: SocketAddr,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Result<(StatusCode, Bytes), String> {
    let body = body.map_or_else(Bytes::new, |body| Bytes::from(body.to_string()));
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .body(Full::new(body))
        .map_err(|err| err.to_string())?;
    let response = send(addr, request, REQUEST_TIMEOUT).await?;
    Ok((response.status(), response.into_body()))
}

/// Sends `request` to `addr` on a new connection and reads the whole response, within
/// `timeout`.
async fn send(
    addr: SocketAddr,
    request: Request<Body>,
    timeout: Duration,
) -> Result<Response<Bytes>, String> {
    let path = request.uri().to_string();
    let exchange = async {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|err| err.to_string())?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|err| err.to_string())?;
        let driver = tokio::spawn(connection);
        let response = sender
            .send_request(request)
            .await
            .map_err(|err| err.to_string())?;
        let (parts, body) = response.into_parts();
        let bytes = body
            .collect()
            .await
            .map_err(|err| err.to_string())?
            .to_bytes();
        driver.abort();
        Ok(Response::from_parts(parts, bytes))
    };
    tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("{path}: no answer within {timeout:?}"))?
}

/// A call of a function's SDK to the durable-execution API, as the proxy saw it.
#[derive(Debug, Clone)]
pub(crate) struct ServiceCall {
    /// `GET` or `POST`.
    pub(crate) method: String,
    /// The path, percent-decoded (it holds the execution ARN).
    pub(crate) path: String,
    /// The JSON body (`Null` when there is none).
    pub(crate) body: Value,
    /// The emulator's HTTP status.
    pub(crate) status: u16,
    /// The `Authorization` header.
    pub(crate) authorization: Option<String>,
}

/// The endpoint the functions' SDK is pointed at (`AWS_ENDPOINT_URL_LAMBDA`): forwards every
/// request to the emulator unchanged and records it.
async fn serve_service_proxy(shared: Arc<Shared>, listener: TcpListener) {
    serve(listener, move |request| {
        let shared = Arc::clone(&shared);
        async move { forward(&shared, request).await }
    })
    .await;
}

async fn forward(shared: &Shared, request: Request<Incoming>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(body) => body.to_bytes(),
        Err(err) => return respond(StatusCode::BAD_REQUEST, err.to_string()),
    };
    let path = percent_decode(parts.uri.path());
    let body = match &shared.corrupt {
        Some(target) if path.ends_with("/checkpoint") => corrupt_token(target, body),
        _ => body,
    };
    let mut call = ServiceCall {
        method: parts.method.to_string(),
        path,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        status: 0,
        authorization: parts
            .headers
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string),
    };
    let mut forwarded = Request::new(Full::new(body));
    *forwarded.method_mut() = parts.method;
    *forwarded.uri_mut() = parts.uri.path_and_query().map_or_else(
        || "/".parse().expect("a valid path"),
        |path| path.as_str().parse().expect("a path and query stay valid"),
    );
    *forwarded.headers_mut() = parts.headers;
    // The body may have been rewritten; hyper sets the length of the one it sends.
    forwarded.headers_mut().remove("content-length");
    let response = match send(shared.emulator_addr, forwarded, INVOCATION_TIMEOUT).await {
        Ok(response) => response,
        Err(err) => return respond(StatusCode::BAD_GATEWAY, err),
    };
    call.status = response.status().as_u16();
    shared
        .service_calls
        .lock()
        .expect("service calls lock")
        .push(call);
    let (mut parts, body) = response.into_parts();
    for hop in [
        "connection",
        "transfer-encoding",
        "content-length",
        "keep-alive",
    ] {
        parts.headers.remove(hop);
    }
    Response::from_parts(parts, Full::new(body))
}

/// Corrupts the `CheckpointToken` of a checkpoint request when it belongs to the targeted
/// invocation (the first one seen). The emulator's tokens are base64 JSON
/// `{"arn", "seq", "inv"}`; a wrong sequence number makes a well-formed but stale token.
fn corrupt_token(target: &Mutex<Option<String>>, body: Bytes) -> Bytes {
    let Ok(mut request) = serde_json::from_slice::<Value>(&body) else {
        return body;
    };
    let token = request["CheckpointToken"].as_str().unwrap_or("");
    let Some(mut decoded) = aws_smithy_types::base64::decode(token)
        .ok()
        .and_then(|json| serde_json::from_slice::<Value>(&json).ok())
    else {
        return body;
    };
    let invocation = decoded["inv"].as_str().unwrap_or("").to_string();
    let mut target = target.lock().expect("corruption target lock");
    if target.get_or_insert_with(|| invocation.clone()) != &invocation {
        return body;
    }
    decoded["seq"] = json!(decoded["seq"].as_i64().unwrap_or(0) + 1000);
    request["CheckpointToken"] = json!(aws_smithy_types::base64::encode(decoded.to_string()));
    Bytes::from(request.to_string())
}

/// Decodes `%XX` escapes.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| text.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn respond(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

/// Serves one listener with `handle` until the task is aborted.
async fn serve<F, Fut>(listener: TcpListener, handle: F)
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response<Body>> + Send + 'static,
{
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let handle = handle.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let handle = handle.clone();
                async move { Ok::<_, Infallible>(handle(request).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The Lambda Invoke endpoint the emulator calls: `POST /2015-03-31/functions/{name}/invocations`.
async fn serve_invoke_endpoint(shared: Arc<Shared>, listener: TcpListener) {
    serve(listener, move |request| {
        let shared = Arc::clone(&shared);
        async move { invoke(&shared, request).await }
    })
    .await;
}

async fn invoke(shared: &Arc<Shared>, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let [_, "functions", name, "invocations"] = segments.as_slice() else {
        return lambda_error(
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            &format!("no route for {} {path}", request.method()),
        );
    };
    if request.method() != Method::POST {
        return lambda_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "UnknownOperationException",
            "Invoke is a POST",
        );
    }
    // `name` or `name:qualifier`; every qualifier runs the same code here.
    let name = name.split("%3A").next().unwrap_or(name);
    let name = name.split(':').next().unwrap_or(name).to_string();
    let handler_invoke = request
        .headers()
        .get("x-dex-handler-invoke")
        .is_some_and(|value| value == "true");
    let Some(function) = shared.functions.get(&name).cloned() else {
        return lambda_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            &format!("Function not found: {name}"),
        );
    };
    if function.kind == Kind::Durable && !handler_invoke {
        return lambda_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContentException",
            "this endpoint runs handler invocations of durable functions only; start executions with the emulator",
        );
    }
    let payload = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(err) => {
            return lambda_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContentException",
                &err.to_string(),
            )
        }
    };
    let envelope: Value = serde_json::from_slice(&payload).unwrap_or(Value::Null);
    let execution_arn = envelope
        .get("DurableExecutionArn")
        .and_then(Value::as_str)
        .map(str::to_string);
    let operation_ids = envelope
        .pointer("/InitialExecutionState/Operations")
        .and_then(Value::as_array)
        .map(|operations| {
            operations
                .iter()
                .filter_map(|operation| operation.get("Id").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();

    let request_id = format!(
        "req-{:06}",
        shared.next_request.fetch_add(1, Ordering::SeqCst)
    );
    let outcome = run_invocation(shared, &function, request_id.clone(), payload).await;
    let (status, response) = match &outcome {
        Outcome::Response(body) => {
            let status = serde_json::from_slice::<Value>(body)
                .ok()
                .and_then(|output| {
                    output
                        .get("Status")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or_else(|| "(no Status)".to_string());
            (status, ok_response(&request_id, body.clone(), None))
        }
        Outcome::Error(body) => (
            "FunctionError".to_string(),
            ok_response(&request_id, body.clone(), Some("Unhandled")),
        ),
    };
    shared
        .records
        .lock()
        .expect("records lock")
        .push(InvokeRecord {
            function: name,
            execution_arn,
            handler_invoke,
            status,
            operation_ids,
        });
    response
}

/// Hands the invocation to the function's process (starting one if there is none) and waits
/// for its outcome, at most the function timeout.
async fn run_invocation(
    shared: &Arc<Shared>,
    function: &Arc<Function>,
    request_id: String,
    payload: Bytes,
) -> Outcome {
    if let Err(err) = ensure_process(shared, function) {
        return function_error("Runtime.StartError", &err);
    }
    let deadline = SystemTime::now() + INVOCATION_TIMEOUT;
    let (reply, outcome) = oneshot::channel();
    let invocation = Invocation {
        request_id: request_id.clone(),
        payload,
        deadline_ms: deadline
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis()),
        reply,
    };
    if function.queue.send(invocation).is_err() {
        return function_error("Runtime.Unavailable", "the runtime API has stopped");
    }
    match tokio::time::timeout(INVOCATION_TIMEOUT, watch(function, outcome)).await {
        Ok(Some(outcome)) => outcome,
        Ok(None) => function_error(
            "Runtime.ExitError",
            &format!(
                "the process of {} exited during invocation {request_id}",
                function.name
            ),
        ),
        Err(_) => {
            function
                .in_flight
                .lock()
                .expect("in-flight lock")
                .remove(&request_id);
            // Lambda stops a function that runs past its timeout.
            if let Some(process) = function.process.lock().expect("process lock").take() {
                drop(process);
            }
            function_error(
                "Sandbox.Timedout",
                &format!(
                    "Task timed out after {:.2} seconds",
                    INVOCATION_TIMEOUT.as_secs_f64()
                ),
            )
        }
    }
}

/// Waits for the outcome, or for the function's process to exit without giving one.
async fn watch(function: &Function, mut outcome: oneshot::Receiver<Outcome>) -> Option<Outcome> {
    loop {
        match tokio::time::timeout(Duration::from_millis(200), &mut outcome).await {
            Ok(result) => return result.ok(),
            Err(_) => {
                let exited = function
                    .process
                    .lock()
                    .expect("process lock")
                    .as_mut()
                    .is_none_or(|process| !matches!(process.child.try_wait(), Ok(None)));
                if exited {
                    // A last chance for an outcome sent just before the exit.
                    return outcome.try_recv().ok();
                }
            }
        }
    }
}

fn function_error(error_type: &str, message: &str) -> Outcome {
    Outcome::Error(Bytes::from(
        json!({"errorType": error_type, "errorMessage": message}).to_string(),
    ))
}

/// Starts the function's process if it has none running (a cold start).
fn ensure_process(shared: &Shared, function: &Function) -> Result<(), String> {
    let mut process = function.process.lock().expect("process lock");
    if let Some(running) = process.as_mut() {
        match running.child.try_wait() {
            Ok(None) => return Ok(()),
            Ok(Some(status)) => {
                // The process is gone: whatever it held failed.
                for (_, reply) in function.in_flight.lock().expect("in-flight lock").drain() {
                    let _ = reply.send(function_error(
                        "Runtime.ExitError",
                        &format!("the process exited with {status}"),
                    ));
                }
            }
            Err(err) => return Err(format!("cannot check the process: {err}")),
        }
    }
    let start = function.starts.fetch_add(1, Ordering::SeqCst) + 1;
    let log_path = shared.logs.join(format!("{}.log", function.name));
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|err| format!("cannot open {}: {err}", log_path.display()))?;
    let stderr = log
        .try_clone()
        .map_err(|err| format!("cannot clone the log file: {err}"))?;
    let child = Command::new(&shared.binary)
        .env_clear()
        .envs(hermetic_aws_env())
        .env("AWS_LAMBDA_RUNTIME_API", function.runtime_api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", &function.name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", function.name),
        )
        .env("AWS_LAMBDA_LOG_STREAM_NAME", format!("local/{start}"))
        .env("AWS_ENDPOINT_URL_LAMBDA", &shared.service_url)
        .env("RUST_LOG", "info")
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(stderr)
        .spawn()
        .map_err(|err| format!("cannot start {}: {err}", shared.binary.display()))?;
    *process = Some(Killed { child });
    Ok(())
}

/// The runtime API of one function, for its process.
async fn serve_runtime_api(
    function: Arc<Function>,
    listener: TcpListener,
    queue: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>>,
) {
    serve(listener, move |request| {
        let function = Arc::clone(&function);
        let queue = Arc::clone(&queue);
        async move { runtime_api(&function, &queue, request).await }
    })
    .await;
}

async fn runtime_api(
    function: &Function,
    queue: &tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    request: Request<Incoming>,
) -> Response<Body> {
    let path = request.uri().path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (request.method().clone(), segments.as_slice()) {
        (Method::GET, ["2018-06-01", "runtime", "invocation", "next"]) => {
            let Some(invocation) = queue.lock().await.recv().await else {
                return respond(StatusCode::GONE, "the harness is shutting down");
            };
            function
                .in_flight
                .lock()
                .expect("in-flight lock")
                .insert(invocation.request_id.clone(), invocation.reply);
            let mut response = respond(StatusCode::OK, invocation.payload);
            let headers = response.headers_mut();
            let mut set = |name: &'static str, value: String| {
                if let Ok(value) = hyper::header::HeaderValue::from_str(&value) {
                    headers.insert(name, value);
                }
            };
            set("content-type", "application/json".to_string());
            set("lambda-runtime-aws-request-id", invocation.request_id);
            set(
                "lambda-runtime-deadline-ms",
                invocation.deadline_ms.to_string(),
            );
            set(
                "lambda-runtime-invoked-function-arn",
                format!(
                    "arn:aws:lambda:{REGION}:{ACCOUNT}:function:{}",
                    function.name
                ),
            );
            set(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000;Sampled=0".to_string(),
            );
            response
        }
        (
            Method::POST,
            ["2018-06-01", "runtime", "invocation", id, kind @ ("response" | "error")],
        ) => {
            let reply = function
                .in_flight
                .lock()
                .expect("in-flight lock")
                .remove(*id);
            let is_error = *kind == "error";
            let body = match request.into_body().collect().await {
                Ok(body) => body.to_bytes(),
                Err(err) => return respond(StatusCode::BAD_REQUEST, err.to_string()),
            };
            let Some(reply) = reply else {
                return respond(
                    StatusCode::BAD_REQUEST,
                    json!({"errorType": "InvalidRequestID", "errorMessage": format!("unknown request id {id}")}).to_string(),
                );
            };
            let _ = reply.send(if is_error {
                Outcome::Error(body)
            } else {
                Outcome::Response(body)
            });
            respond(StatusCode::ACCEPTED, json!({"status": "OK"}).to_string())
        }
        (Method::POST, ["2018-06-01", "runtime", "init", "error"]) => {
            respond(StatusCode::ACCEPTED, json!({"status": "OK"}).to_string())
        }
        (method, _) => respond(
            StatusCode::NOT_FOUND,
            format!("no route for {method} {path}"),
        ),
    }
}

fn ok_response(request_id: &str, body: Bytes, function_error: Option<&str>) -> Response<Body> {
    let mut response = respond(StatusCode::OK, body);
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        "x-amz-executed-version",
        hyper::header::HeaderValue::from_static("$LATEST"),
    );
    if let Ok(value) = hyper::header::HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    if let Some(kind) = function_error {
        if let Ok(value) = hyper::header::HeaderValue::from_str(kind) {
            headers.insert("x-amz-function-error", value);
        }
    }
    response
}

fn lambda_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let mut response = respond(
        status,
        json!({"Type": "User", "message": message}).to_string(),
    );
    if let Ok(value) = hyper::header::HeaderValue::from_str(code) {
        response.headers_mut().insert("x-amzn-errortype", value);
    }
    response
}

/// A finished execution as the emulator reports it.
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) arn: String,
    pub(crate) status: ExecutionStatus,
    pub(crate) result: Option<String>,
    pub(crate) error_type: Option<String>,
    pub(crate) error_message: Option<String>,
    pub(crate) history: Vec<Event>,
}

impl Finished {
    /// The result, parsed as JSON.
    pub(crate) fn result_json(&self) -> Value {
        let text = self
            .result
            .as_deref()
            .unwrap_or_else(|| panic!("{} has no result (status {:?})", self.arn, self.status));
        serde_json::from_str(text)
            .unwrap_or_else(|err| panic!("result {text:?} is not JSON: {err}"))
    }

    /// The history in one line per event (see [`outline`]).
    pub(crate) fn outline(&self) -> Vec<String> {
        outline(
            &self
                .history
                .iter()
                .map(EventSummary::from_aws)
                .collect::<Vec<_>>(),
        )
    }

    /// Events of one type.
    pub(crate) fn events(&self, event_type: &EventType) -> Vec<&Event> {
        self.history
            .iter()
            .filter(|event| event.event_type() == Some(event_type))
            .collect()
    }

    /// Every id the operation events carry (the execution's own id excluded).
    pub(crate) fn operation_ids(&self) -> Vec<&str> {
        let execution_id = self
            .history
            .iter()
            .find(|event| event.event_type() == Some(&EventType::ExecutionStarted))
            .and_then(Event::id);
        let mut ids: Vec<&str> = self
            .history
            .iter()
            .flat_map(|event| [event.id(), event.parent_id()])
            .flatten()
            .filter(|id| Some(*id) != execution_id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// What the outline of a history needs from one event.
pub(crate) struct EventSummary {
    event_type: String,
    sub_type: Option<String>,
    name: Option<String>,
    id: Option<String>,
    parent_id: Option<String>,
}

impl EventSummary {
    fn from_aws(event: &Event) -> Self {
        Self {
            event_type: event
                .event_type()
                .map_or("?", EventType::as_str)
                .to_string(),
            sub_type: event.sub_type().map(str::to_string),
            name: event.name().map(str::to_string),
            id: event.id().map(str::to_string),
            parent_id: event.parent_id().map(str::to_string),
        }
    }

    /// From an event of the SDK's local runner, through its JSON form (the wire format).
    pub(crate) fn from_wire(event: &lambda_durable::wire::Event) -> Self {
        let json = serde_json::to_value(event).expect("a history event serializes");
        let field = |name: &str| json.get(name).and_then(Value::as_str).map(str::to_string);
        Self {
            event_type: field("EventType").unwrap_or_else(|| "?".to_string()),
            sub_type: field("SubType"),
            name: field("Name"),
            id: field("Id"),
            parent_id: field("ParentId"),
        }
    }
}

/// One line per event: `EventType [SubType] [Name] [(in <parent's name>)]`, without the
/// execution's name (it differs between runs).
pub(crate) fn outline(events: &[EventSummary]) -> Vec<String> {
    let names: HashMap<&str, &str> = events
        .iter()
        .filter_map(|event| Some((event.id.as_deref()?, event.name.as_deref()?)))
        .collect();
    events
        .iter()
        .map(|event| {
            let mut line = event.event_type.clone();
            if let Some(sub_type) = &event.sub_type {
                let _ = write!(line, " {sub_type}");
            }
            if !event.event_type.starts_with("Execution") {
                if let Some(name) = &event.name {
                    let _ = write!(line, " {name}");
                }
            }
            if let Some(parent) = event.parent_id.as_deref() {
                let _ = write!(
                    line,
                    " (in {})",
                    names.get(parent).copied().unwrap_or(parent)
                );
            }
            line
        })
        .collect()
}

/// Whether `id` has the shape our SDK gives operation ids: 64 lowercase hex characters.
pub(crate) fn is_sdk_operation_id(id: &str) -> bool {
    id.len() == 64
        && id
            .bytes()
            .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
}

impl Harness {
    /// A harness named after the test (for its log directory).
    pub(crate) fn builder(name: &str) -> HarnessBuilder {
        HarnessBuilder {
            name: name.to_string(),
            functions: Vec::new(),
            corrupt_first_invocation: false,
        }
    }

    /// The emulator's Lambda API client (history, callbacks, ...).
    pub(crate) fn client(&self) -> &aws_sdk_lambda::Client {
        &self.client
    }

    /// Starts an execution of `function` with `input` (the emulator's
    /// `POST /start-durable-execution`) and returns its ARN.
    pub(crate) async fn start(&self, function: &str, input: &Value) -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        let execution_name = format!(
            "{function}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let body = json!({
            "AccountId": ACCOUNT,
            "FunctionName": function,
            "FunctionQualifier": "$LATEST",
            "ExecutionName": execution_name,
            "ExecutionTimeoutSeconds": 120,
            "ExecutionRetentionPeriodDays": 1,
            "Input": input.to_string(),
        });
        let (status, response) = http(
            self.emulator_addr,
            Method::POST,
            "/start-durable-execution",
            Some(&body),
        )
        .await
        .unwrap_or_else(|err| panic!("start-durable-execution: {err}"));
        let response: Value = serde_json::from_slice(&response).unwrap_or(Value::Null);
        assert_eq!(
            status,
            StatusCode::CREATED,
            "start-durable-execution answered {status}: {response}"
        );
        response
            .get("ExecutionArn")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no ExecutionArn in {response}"))
            .to_string()
    }

    /// Polls the execution until it is no longer RUNNING (at most `timeout`) and returns it
    /// with its history.
    pub(crate) async fn wait_finished(&self, arn: &str, timeout: Duration) -> Finished {
        let started = Instant::now();
        loop {
            let execution = self
                .client
                .get_durable_execution()
                .durable_execution_arn(arn)
                .send()
                .await
                .unwrap_or_else(|err| panic!("GetDurableExecution {arn}: {err:?}"));
            if execution.status() != &ExecutionStatus::Running {
                let error = execution.error();
                return Finished {
                    arn: arn.to_string(),
                    status: execution.status().clone(),
                    result: execution.result().map(str::to_string),
                    error_type: error
                        .and_then(|error| error.error_type())
                        .map(str::to_string),
                    error_message: error
                        .and_then(|error| error.error_message())
                        .map(str::to_string),
                    history: self.history(arn).await,
                };
            }
            assert!(
                started.elapsed() < timeout,
                "{arn} is still RUNNING after {timeout:?}; history so far:\n{}",
                Finished {
                    arn: arn.to_string(),
                    status: ExecutionStatus::Running,
                    result: None,
                    error_type: None,
                    error_message: None,
                    history: self.history(arn).await,
                }
                .outline()
                .join("\n")
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The execution's whole history, oldest first.
    pub(crate) async fn history(&self, arn: &str) -> Vec<Event> {
        let mut events = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..100 {
            let page = self
                .client
                .get_durable_execution_history()
                .durable_execution_arn(arn)
                .include_execution_data(true)
                .set_marker(marker.take())
                .send()
                .await
                .unwrap_or_else(|err| panic!("GetDurableExecutionHistory {arn}: {err:?}"));
            events.extend(page.events().iter().cloned());
            match page.next_marker() {
                Some(next) if !next.is_empty() => marker = Some(next.to_string()),
                _ => return events,
            }
        }
        panic!("the history of {arn} has more than 100 pages");
    }

    /// Waits until `found` returns something for the history (at most `timeout`), and
    /// returns that.
    pub(crate) async fn wait_for_history<T>(
        &self,
        arn: &str,
        timeout: Duration,
        found: impl Fn(&[Event]) -> Option<T>,
    ) -> T {
        let started = Instant::now();
        loop {
            let history = self.history(arn).await;
            if let Some(value) = found(&history) {
                return value;
            }
            assert!(
                started.elapsed() < timeout,
                "the history of {arn} did not reach the awaited state within {timeout:?}:\n{}",
                outline(
                    &history
                        .iter()
                        .map(EventSummary::from_aws)
                        .collect::<Vec<_>>()
                )
                .join("\n")
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What the Invoke endpoint handled for one execution, in order.
    pub(crate) fn invocations(&self, arn: &str) -> Vec<InvokeRecord> {
        self.shared
            .records
            .lock()
            .expect("records lock")
            .iter()
            .filter(|record| record.execution_arn.as_deref() == Some(arn))
            .cloned()
            .collect()
    }

    /// The durable-execution API calls of the functions' SDK for one execution, in order.
    pub(crate) fn service_calls(&self, arn: &str) -> Vec<ServiceCall> {
        self.shared
            .service_calls
            .lock()
            .expect("service calls lock")
            .iter()
            .filter(|call| call.path.contains(arn))
            .cloned()
            .collect()
    }

    /// Everything the Invoke endpoint handled.
    pub(crate) fn all_invocations(&self) -> Vec<InvokeRecord> {
        self.shared.records.lock().expect("records lock").clone()
    }

    /// How many processes were started for `function` (cold starts).
    pub(crate) fn process_starts(&self, function: &str) -> u64 {
        self.shared
            .functions
            .get(function)
            .map_or(0, |function| function.starts.load(Ordering::SeqCst))
    }

    /// The ids of the processes the harness started and still holds: the emulator's and the
    /// functions'.
    pub(crate) fn pids(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = self
            .emulator
            .iter()
            .map(|process| process.child.id())
            .collect();
        for function in self.shared.functions.values() {
            if let Some(process) = function.process.lock().expect("process lock").as_ref() {
                pids.push(process.child.id());
            }
        }
        pids
    }

    fn dump_logs(&self) {
        eprintln!(
            "---- logs of {} (in {}) ----",
            self.name,
            self.shared.logs.display()
        );
        if let Ok(entries) = std::fs::read_dir(&self.shared.logs) {
            let mut paths: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
            paths.sort();
            for path in paths {
                eprintln!("== {}\n{}", path.display(), tail(&path, 60));
            }
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // The emulator first, so that it sends no more invocations; then every function
        // process; then the servers.
        drop(self.emulator.take());
        for function in self.shared.functions.values() {
            let process = function.process.lock().map(|mut process| process.take());
            drop(process);
        }
        for task in &self.tasks {
            task.abort();
        }
        if std::thread::panicking() {
            self.dump_logs();
        }
    }
}
