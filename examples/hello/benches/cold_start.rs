//! Cold start of the `hello` function, as Lambda starts it: the release binary runs as a
//! child process against a loopback server that plays both the Lambda runtime API and the
//! durable-execution API (`AWS_ENDPOINT_URL_LAMBDA`, plain HTTP, dummy credentials).
//!
//! `cargo bench -p hello --bench cold_start` prints, over several process starts (median and
//! range): the time from spawning the process to its first `GET /runtime/invocation/next`,
//! the first invocation (from handing out the event to the posted response) and the second,
//! the same work in a warm process; the time from handing out each event to its first
//! checkpoint call; and the binary's size, as built and stripped. Each row is also printed as
//! a JSON line (`json: {...}`). Options: `--runs N` (default 10), `--log FILE` (one more
//! start, with the function's records at every level written to FILE as JSON).
//!
//! The first invocation of `hello` with a small order validates it, runs the payment step
//! (which fails its first attempt) and suspends for the retry: two checkpoint calls.

use std::convert::Infallible;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the loopback server saw, in order, with the instant it saw it.
#[derive(Debug)]
enum Seen {
    /// `GET /runtime/invocation/next`; the number of the invocation handed out (0: none).
    Next(usize),
    /// A checkpoint call for invocation `n` (by its execution ARN).
    Checkpoint(usize),
    /// The response of invocation `n`.
    Response(usize),
}

const INVOCATIONS: usize = 2;

fn arn(n: usize) -> String {
    format!(
        "arn:aws:lambda:us-east-1:123456789012:function:hello:$LATEST/durable-execution/cold-{n}/0f5bd9a6-4ad2-4a8e-9c5f-7f0b1f2e9c{n:02}"
    )
}

fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// The envelope of invocation `n`: a new execution of a small order.
fn envelope(n: usize) -> Value {
    let order = json!({"id": format!("o-{n}"), "cents": 1250, "items": ["book"]});
    json!({
        "DurableExecutionArn": arn(n),
        "CheckpointToken": format!("token-{n}-0"),
        "InitialExecutionState": {"Operations": [{
            "Id": format!("0f5bd9a6-4ad2-4a8e-9c5f-7f0b1f2e9c{n:02}"),
            "Type": "EXECUTION",
            "Status": "STARTED",
            "StartTimestamp": now_seconds(),
            "ExecutionDetails": {"InputPayload": order.to_string()}
        }]}
    })
}

/// The operations the service would record for `updates`, as a checkpoint answers them.
fn recorded(updates: &[Value]) -> Vec<Value> {
    updates
        .iter()
        .filter(|update| update["Type"] != "EXECUTION")
        .map(|update| {
            let status = match update["Action"].as_str() {
                Some("START") => "STARTED",
                Some("SUCCEED") => "SUCCEEDED",
                Some("FAIL") => "FAILED",
                Some("RETRY") => "PENDING",
                _ => "STARTED",
            };
            let mut op = json!({
                "Id": update["Id"],
                "Type": update["Type"],
                "Status": status,
                "StartTimestamp": now_seconds(),
            });
            for key in ["Name", "SubType", "ParentId"] {
                if !update[key].is_null() {
                    op[key] = update[key].clone();
                }
            }
            if update["Type"] == "STEP" {
                op["StepDetails"] = json!({"Attempt": 1, "Result": update["Payload"]});
            }
            op
        })
        .collect()
}

/// Serves the runtime API and the durable-execution API on one loopback port, reporting
/// what it sees to `seen`. Hands out [`INVOCATIONS`] invocations, then keeps the next
/// request waiting.
async fn serve(seen: mpsc::UnboundedSender<(Instant, Seen)>) -> Result<String, BoxError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?.to_string();
    let handed_out = Arc::new(Mutex::new(0usize));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = seen.clone();
            let handed_out = Arc::clone(&handed_out);
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let seen = seen.clone();
                let handed_out = Arc::clone(&handed_out);
                async move { Ok::<_, Infallible>(answer(request, &seen, &handed_out).await) }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(address)
}

async fn answer(
    request: Request<Incoming>,
    seen: &mpsc::UnboundedSender<(Instant, Seen)>,
    handed_out: &Mutex<usize>,
) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_string();
    let json = |status: u16, body: Value| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap_or_default()
    };
    if path == "/2018-06-01/runtime/invocation/next" {
        let n = {
            let mut handed_out = handed_out.lock().unwrap_or_else(|p| p.into_inner());
            *handed_out += 1;
            *handed_out
        };
        if n > INVOCATIONS {
            let _ = seen.send((Instant::now(), Seen::Next(0)));
            std::future::pending::<()>().await;
        }
        let _ = seen.send((Instant::now(), Seen::Next(n)));
        let deadline = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            + Duration::from_secs(60);
        return Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("lambda-runtime-aws-request-id", format!("request-{n}"))
            .header(
                "lambda-runtime-deadline-ms",
                deadline.as_millis().to_string(),
            )
            .header(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:hello",
            )
            .body(Full::new(Bytes::from(envelope(n).to_string())))
            .unwrap_or_default();
    }
    let body = match request.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return json(400, json!({})),
    };
    if let Some(rest) = path.strip_prefix("/2018-06-01/runtime/invocation/request-") {
        let n = rest
            .split('/')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let _ = seen.send((Instant::now(), Seen::Response(n)));
        return json(202, json!({}));
    }
    if path.starts_with("/2025-12-01/durable-executions/") && path.ends_with("/checkpoint") {
        let request: Value = serde_json::from_slice(&body).unwrap_or_default();
        let n = (1..=INVOCATIONS)
            .find(|&n| path.contains(&format!("cold-{n}")))
            .unwrap_or(0);
        let _ = seen.send((Instant::now(), Seen::Checkpoint(n)));
        let updates = request["Updates"].as_array().cloned().unwrap_or_default();
        let token = format!(
            "{}-next",
            request["CheckpointToken"].as_str().unwrap_or("t")
        );
        return json(
            200,
            json!({
                "CheckpointToken": token,
                "NewExecutionState": {"Operations": recorded(&updates)}
            }),
        );
    }
    json(404, json!({"message": format!("no route for {path}")}))
}

/// A row of the table: its JSON key, what it measures, and the measure.
type Row = (&'static str, &'static str, fn(&Sample) -> Duration);

/// One process start.
struct Sample {
    first_poll: Duration,
    first_invocation: Duration,
    second_invocation: Duration,
    first_checkpoint: Duration,
    second_checkpoint: Duration,
    checkpoints: usize,
}

async fn start_once(exe: &str, log: Option<&str>) -> Result<Sample, BoxError> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let address = serve(tx).await?;
    let spawned = Instant::now();
    let mut child = tokio::process::Command::new(exe)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &address)
        .env("AWS_ENDPOINT_URL_LAMBDA", format!("http://{address}"))
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_LAMBDA_FUNCTION_NAME", "hello")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("RUST_LOG", if log.is_some() { "trace" } else { "off" })
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .stdout(match log {
            Some(path) => Stdio::from(std::fs::File::create(path)?),
            None => Stdio::null(),
        })
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let mut events = Vec::new();
    let finished = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(event) = rx.recv().await {
            let done = matches!(event.1, Seen::Next(0));
            events.push(event);
            if done {
                break;
            }
        }
    })
    .await;
    child.kill().await.ok();
    finished.map_err(|_| format!("the function did not finish in time: {events:?}"))?;
    let at = |wanted: &dyn Fn(&Seen) -> bool| {
        events
            .iter()
            .find(|(_, seen)| wanted(seen))
            .map(|(at, _)| *at)
            .ok_or_else(|| format!("missing event in {events:?}"))
    };
    let next1 = at(&|s| matches!(s, Seen::Next(1)))?;
    let next2 = at(&|s| matches!(s, Seen::Next(2)))?;
    let response1 = at(&|s| matches!(s, Seen::Response(1)))?;
    let response2 = at(&|s| matches!(s, Seen::Response(2)))?;
    let checkpoint1 = at(&|s| matches!(s, Seen::Checkpoint(1)))?;
    let checkpoint2 = at(&|s| matches!(s, Seen::Checkpoint(2)))?;
    Ok(Sample {
        first_poll: next1 - spawned,
        first_invocation: response1 - next1,
        second_invocation: response2 - next2,
        first_checkpoint: checkpoint1 - next1,
        second_checkpoint: checkpoint2 - next2,
        checkpoints: events
            .iter()
            .filter(|(_, seen)| matches!(seen, Seen::Checkpoint(1)))
            .count(),
    })
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn summary(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2];
    (median, values[0], values[values.len() - 1])
}

/// The size of `exe` once stripped of symbols (with `strip`, when it is installed).
fn stripped_size(exe: &str) -> Option<u64> {
    let copy = std::env::temp_dir().join(format!("hello-stripped-{}", std::process::id()));
    std::fs::copy(exe, &copy).ok()?;
    let status = std::process::Command::new("strip")
        .arg(&copy)
        .status()
        .ok()?;
    let size = status
        .success()
        .then(|| std::fs::metadata(&copy).ok().map(|m| m.len()))
        .flatten();
    let _ = std::fs::remove_file(&copy);
    size
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .map_or(Ok(10), |r| r.parse())?;
    let log = args
        .iter()
        .position(|a| a == "--log")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let exe = env!("CARGO_BIN_EXE_hello");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // A warm-up start (the binary into the page cache).
    runtime.block_on(start_once(exe, None))?;
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        samples.push(runtime.block_on(start_once(exe, None))?);
    }
    if let Some(log) = &log {
        // One more start, its records (every level) in `log`, for a look at where the time
        // goes; not counted.
        runtime.block_on(start_once(exe, Some(log)))?;
    }
    let rows: [Row; 5] = [
        (
            "first_poll",
            "process start to the first runtime API poll",
            |s| s.first_poll,
        ),
        (
            "first_invocation",
            "first invocation (event to response)",
            |s| s.first_invocation,
        ),
        (
            "second_invocation",
            "second invocation, warm process",
            |s| s.second_invocation,
        ),
        (
            "first_checkpoint",
            "first event to its first checkpoint call",
            |s| s.first_checkpoint,
        ),
        (
            "second_checkpoint",
            "second event to its first checkpoint call",
            |s| s.second_checkpoint,
        ),
    ];
    println!("| what | median ms | range ms |");
    println!("|---|---:|---:|");
    let mut lines = Vec::new();
    for (key, what, pick) in rows {
        let (median, min, max) = summary(samples.iter().map(|s| millis(pick(s))).collect());
        println!("| {what} | {median:.2} | {min:.2}–{max:.2} |");
        lines.push(json!({"metric": key, "median_ms": median, "min_ms": min, "max_ms": max}));
    }
    let size = std::fs::metadata(exe)?.len();
    let stripped = stripped_size(exe);
    println!(
        "| binary size (as built / stripped) | {size} / {} bytes | |",
        stripped.map_or("?".to_string(), |s| s.to_string())
    );
    println!(
        "| checkpoint calls of the first invocation | {} | |",
        samples.first().map_or(0, |s| s.checkpoints)
    );
    lines.push(json!({"metric": "binary_bytes", "built": size, "stripped": stripped}));
    println!();
    for line in lines {
        println!("json: {line}");
    }
    Ok(())
}
