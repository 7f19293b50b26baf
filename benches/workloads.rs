//! The benchmark workloads W0 to W5 (and W1P, W1 with one plugin) and the latency workloads
//! W6 to W8, run on the local runner.
//!
//! `cargo bench --bench workloads` prints two tables. The first: for each of W0 to W5 the
//! median and range of the run time over several runs after a warm-up, the checkpoint
//! calls, the operation updates, their bytes as JSON and the peak resident memory of a
//! process that ran only that workload. Every workload runs in a child process of its own
//! (this binary, re-executed with `--workload`), so peak memory is per workload; W0 is
//! timed from process start to exit.
//!
//! The second: W6 to W8 in real time (the runner waits for timers as the service would)
//! with every service call taking 0 ms and then 15 ms, against the theoretical minimum:
//! the round trips on the workload's critical path times the latency, plus the waits it
//! requires. Every row is also printed as one JSON line (prefixed `json: `).
//!
//! Options: `--runs N` (default 7; 3 for W6 to W8), `--only W1` (one workload id).

use std::process::Command;
use std::time::{Duration, Instant};

use lambda_durable::retry::presets;
use lambda_durable::{branch, DurableContext, Error};
use lambda_durable_testing::{
    CallbackResponse, Latency, LocalRunner, PendingCallback, RunnerStats,
};
use serde_json::{json, Value};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn item(i: u64) -> Value {
    json!({"i": i, "payload": "p".repeat(100)})
}

async fn step_value(ctx: &DurableContext, name: String, i: u64) -> Result<Value, Error> {
    ctx.step(
        name,
        move |_| async move { Ok::<_, std::io::Error>(item(i)) },
    )
    .await
}

/// W0 and W1: N sequential steps.
async fn sequential(n: u64, ctx: DurableContext) -> Result<u64, Error> {
    for i in 0..n {
        step_value(&ctx, format!("s{i}"), i).await?;
    }
    Ok(n)
}

/// W2: N sequential steps, then a wait.
async fn sequential_then_wait(n: u64, ctx: DurableContext) -> Result<u64, Error> {
    sequential(n, ctx.clone()).await?;
    ctx.wait("wait", Duration::from_secs(1)).await?;
    Ok(n)
}

/// W3: map over N items, concurrency 10, one step per item.
async fn map(n: u64, ctx: DurableContext) -> Result<usize, Error> {
    let items: Vec<u64> = (0..n).collect();
    let result = ctx
        .map("map", items, |item_ctx, i, _| async move {
            step_value(&item_ctx, "step".to_string(), i).await
        })
        .max_concurrency(10)
        .await?;
    Ok(result.success_count())
}

/// W4: parallel with N branches of 2 steps.
async fn parallel(n: u64, ctx: DurableContext) -> Result<usize, Error> {
    let branches = (0..n)
        .map(|i| {
            branch(None::<&str>, move |c: DurableContext| async move {
                step_value(&c, "a".to_string(), i).await?;
                step_value(&c, "b".to_string(), i).await
            })
        })
        .collect();
    Ok(ctx.parallel("parallel", branches).await?.success_count())
}

/// W5: N child contexts in a row, 3 steps each.
async fn children(n: u64, ctx: DurableContext) -> Result<u64, Error> {
    for i in 0..n {
        ctx.run_in_child_context(format!("c{i}"), move |child| async move {
            for s in 0..3 {
                step_value(&child, format!("s{s}"), i).await?;
            }
            Ok::<_, Error>(())
        })
        .await?;
    }
    Ok(n)
}

/// W6: map of N items at concurrency 10; every tenth item's step fails once and is retried
/// after 1 s.
async fn map_with_retries(n: u64, ctx: DurableContext) -> Result<usize, Error> {
    let items: Vec<u64> = (0..n).collect();
    let result = ctx
        .map("map", items, |item_ctx, i, _| async move {
            item_ctx
                .step("step", move |step| async move {
                    if i % 10 == 0 && step.attempt() == 1 {
                        return Err(std::io::Error::other("fails once"));
                    }
                    Ok(item(i))
                })
                .retry(presets::fixed(Duration::from_secs(1)).max_attempts(2))
                .await
        })
        .max_concurrency(10)
        .await?;
    Ok(result.success_count())
}

/// How long W7's step takes.
const LONG_STEP: Duration = Duration::from_secs(5);

/// W7: a parallel of a step of 5 s beside a branch of N waits of 1 s.
async fn long_step_beside_waits(n: u64, ctx: DurableContext) -> Result<usize, Error> {
    let long = branch("long", |c: DurableContext| async move {
        c.step("long step", |_| async {
            tokio::time::sleep(LONG_STEP).await;
            Ok::<_, std::io::Error>(())
        })
        .await
    });
    let waits = branch("waits", move |c: DurableContext| async move {
        for i in 0..n {
            c.wait(format!("wait {i}"), Duration::from_secs(1)).await?;
        }
        Ok::<_, Error>(())
    });
    Ok(ctx
        .parallel("parallel", vec![long, waits])
        .await?
        .success_count())
}

/// W8: N sequential callbacks, each answered as soon as it is created.
async fn sequential_callbacks(n: u64, ctx: DurableContext) -> Result<u64, Error> {
    for i in 0..n {
        let _: bool = ctx
            .wait_for_callback(format!("callback {i}"), |_id, _step| async {
                Ok::<_, std::io::Error>(())
            })
            .await?;
    }
    Ok(n)
}

/// W1P: a plugin that counts the hooks it gets, to measure what hooks cost.
#[derive(Default)]
struct Counting(std::sync::atomic::AtomicU64);

impl Counting {
    fn count(&self) -> lambda_durable::plugin::HookResult {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

impl lambda_durable::plugin::Plugin for Counting {
    fn on_invocation_start(
        &self,
        _: &lambda_durable::plugin::InvocationStartInfo,
    ) -> lambda_durable::plugin::HookResult {
        self.count()
    }
    fn on_invocation_end(
        &self,
        _: &lambda_durable::plugin::InvocationEndInfo,
    ) -> lambda_durable::plugin::HookResult {
        self.count()
    }
    fn on_operation_start(
        &self,
        _: &lambda_durable::plugin::OperationInfo,
    ) -> lambda_durable::plugin::HookResult {
        self.count()
    }
    fn on_operation_end(
        &self,
        _: &lambda_durable::plugin::OperationInfo,
    ) -> lambda_durable::plugin::HookResult {
        self.count()
    }
    fn on_operation_change(
        &self,
        _: &lambda_durable::plugin::OperationChangeInfo,
    ) -> lambda_durable::plugin::HookResult {
        self.count()
    }
    fn on_user_function_start(
        &self,
        _: &lambda_durable::plugin::UserFunctionStartInfo,
    ) -> lambda_durable::plugin::HookResult {
        self.count()
    }
    fn on_user_function_end(
        &self,
        _: &lambda_durable::plugin::UserFunctionEndInfo,
    ) -> lambda_durable::plugin::HookResult {
        self.count()
    }
}

struct Sample {
    time: Duration,
    stats: RunnerStats,
}

async fn run_once(workload: &str, n: u64) -> Result<Sample, BoxError> {
    let sample = match workload {
        "W1" => timed(LocalRunner::new(sequential), n).await?,
        "W1P" => timed(LocalRunner::new(sequential).plugin(Counting::default()), n).await?,
        "W2" => {
            // The second invocation alone: it replays N steps and finishes.
            let runner = LocalRunner::new(sequential_then_wait);
            let mut running = runner.start(n)?;
            running.invoke_once().await?;
            running.advance_clock().ok_or("the wait did not suspend")?;
            let before = running.snapshot().stats();
            let start = Instant::now();
            running.invoke_once().await?;
            let time = start.elapsed();
            let execution = running.into_execution();
            if !matches!(
                execution.status(),
                lambda_durable::wire::ExecutionStatus::Succeeded
            ) {
                return Err(format!("W2 ended {:?}", execution.status()).into());
            }
            let after = execution.stats();
            Sample {
                time,
                stats: difference(after, before),
            }
        }
        "W3" => timed(LocalRunner::new(map), n).await?,
        "W4" => timed(LocalRunner::new(parallel), n).await?,
        "W5" => timed(LocalRunner::new(children), n).await?,
        other => return Err(format!("unknown workload {other}").into()),
    };
    Ok(sample)
}

/// One run of a latency workload, in real time, with every service call taking `latency`.
async fn run_latency_once(workload: &str, n: u64, latency: Duration) -> Result<Sample, BoxError> {
    let runner = match workload {
        "W6" => LocalRunner::new(map_with_retries),
        "W7" => LocalRunner::new(long_step_beside_waits),
        "W8" => LocalRunner::new(sequential_callbacks).on_callback(
            |_: &PendingCallback| true,
            CallbackResponse::json(json!(true)),
        ),
        other => return Err(format!("unknown workload {other}").into()),
    };
    let runner = runner
        .real_time(true)
        .latency(Latency::fixed(latency))
        .max_invocations(10_000);
    timed(runner, n).await
}

/// In W6 (`n` items, every tenth failing once, `concurrency` slots), the round trip in which
/// the last failing item runs its first attempt, at best: each round trip starts an item in
/// every free slot, and a failing item keeps its slot until its retry, a second later.
fn last_failure_wave(n: u64, concurrency: u64) -> u64 {
    let (mut next, mut held, mut wave, mut last) = (0, 0, 0, 0);
    while next < n && held < concurrency {
        wave += 1;
        let started = (concurrency - held).min(n - next);
        for item in next..next + started {
            if item % 10 == 0 {
                held += 1;
                last = wave;
            }
        }
        next += started;
    }
    last
}

/// The theoretical minimum of a latency workload: the round trips on its critical path
/// times `latency`, plus the waits it requires. A round trip is one service call, or the
/// service's invoke of the function.
fn minimum(workload: &str, n: u64, latency: Duration) -> Duration {
    let trips = |count: u64| latency * u32::try_from(count).unwrap_or(u32::MAX);
    match workload {
        // The invoke; the round trips until the last failing item has run its first attempt
        // (items take a round trip each, and every failing item holds its slot until its
        // retry: see `last_failure_wave`), its retry delay, its second attempt.
        "W6" => Duration::from_secs(1) + trips(1 + last_failure_wave(n, 10) + 1),
        // The invoke; per wait, its START and the poll that sees it over; the step runs
        // beside them (or longer).
        "W7" => trips(1) + (LONG_STEP).max(Duration::from_secs(n) + trips(2 * n)),
        // The invoke; per callback, the START that hands out its id, and the submitter's
        // checkpoint, whose answer carries the completed callback.
        "W8" => trips(1 + 2 * n),
        _ => Duration::ZERO,
    }
}

fn difference(after: RunnerStats, before: RunnerStats) -> RunnerStats {
    let mut stats = after;
    stats.checkpoint_calls -= before.checkpoint_calls;
    stats.updates -= before.updates;
    stats.update_bytes -= before.update_bytes;
    stats.get_state_calls -= before.get_state_calls;
    stats.invocations -= before.invocations;
    stats
}

async fn timed(runner: LocalRunner, n: u64) -> Result<Sample, BoxError> {
    let start = Instant::now();
    let execution = runner.run(n).await?;
    let time = start.elapsed();
    if !matches!(
        execution.status(),
        lambda_durable::wire::ExecutionStatus::Succeeded
    ) {
        return Err(format!("ended {:?}: {:?}", execution.status(), execution.error()).into());
    }
    Ok(Sample {
        time,
        stats: execution.stats(),
    })
}

/// Peak resident set size of this process, in bytes (Linux `VmHWM`).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Child mode: run one workload `runs` times after a warm-up and print one JSON line.
fn child(workload: &str, n: u64, runs: usize, latency: Option<Duration>) -> Result<(), BoxError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if let Some(latency) = latency {
        // Real time: no warm-up run (one run of W7 alone takes seconds).
        let mut times = Vec::with_capacity(runs);
        let mut last = None;
        for _ in 0..runs {
            let sample = runtime.block_on(run_latency_once(workload, n, latency))?;
            times.push(sample.time.as_secs_f64() * 1000.0);
            last = Some(sample.stats);
        }
        let stats = last.ok_or("no runs")?;
        println!(
            "{}",
            json!({"times": times, "calls": stats.checkpoint_calls,
                   "get_state": stats.get_state_calls, "invocations": stats.invocations})
        );
        return Ok(());
    }
    if workload == "W0" {
        let sample = runtime.block_on(timed(LocalRunner::new(sequential), 1))?;
        println!(
            "{}",
            json!({"calls": sample.stats.checkpoint_calls, "updates": sample.stats.updates,
                   "bytes": sample.stats.update_bytes, "rss": peak_rss()})
        );
        return Ok(());
    }
    runtime.block_on(run_once(workload, n))?;
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let sample = runtime.block_on(run_once(workload, n))?;
        times.push(sample.time.as_secs_f64() * 1000.0);
        last = Some(sample.stats);
    }
    let stats = last.ok_or("no runs")?;
    println!(
        "{}",
        json!({"times": times, "calls": stats.checkpoint_calls, "updates": stats.updates,
               "bytes": stats.update_bytes, "rss": peak_rss()})
    );
    Ok(())
}

fn spawn(
    workload: &str,
    n: u64,
    runs: usize,
    latency: Option<Duration>,
) -> Result<Value, BoxError> {
    let mut command = Command::new(std::env::current_exe()?);
    command.args([
        "--workload",
        workload,
        "--n",
        &n.to_string(),
        "--runs",
        &runs.to_string(),
    ]);
    if let Some(latency) = latency {
        command.args(["--latency-ms", &latency.as_millis().to_string()]);
    }
    let output = command.output()?;
    if !output.status.success() {
        return Err(format!(
            "{workload} N={n} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let stdout = String::from_utf8(output.stdout)?;
    let line = stdout.lines().last().ok_or("no output")?;
    Ok(serde_json::from_str(line)?)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let runs: Option<usize> = arg("--runs").map(|r| r.parse()).transpose()?;
    if let Some(workload) = arg("--workload") {
        let n: u64 = arg("--n").map_or(Ok(1), |n| n.parse())?;
        let latency = arg("--latency-ms")
            .map(|ms| ms.parse().map(Duration::from_millis))
            .transpose()?;
        return child(&workload, n, runs.unwrap_or(1), latency);
    }
    let only = arg("--only");
    let workloads: [(&str, u64, &str); 10] = [
        ("W0", 1, "whole process"),
        ("W1", 100, "sequential steps"),
        ("W1", 1000, "sequential steps"),
        ("W1", 5000, "sequential steps"),
        ("W1P", 1000, "W1 with one plugin"),
        ("W2", 1000, "replay only"),
        ("W2", 5000, "replay only"),
        ("W3", 500, "map, concurrency 10"),
        ("W4", 50, "parallel, 2 steps each"),
        ("W5", 200, "child contexts, 3 steps each"),
    ];
    let table = only
        .as_deref()
        .is_none_or(|only| workloads.iter().any(|w| w.0 == only));
    if table {
        throughput_table(&workloads, only.as_deref(), runs.unwrap_or(7))?;
    }
    let latency_workloads: [(&str, u64, &str); 3] = [
        (
            "W6",
            100,
            "map, concurrency 10, every tenth item retried after 1 s",
        ),
        ("W7", 5, "parallel: a 5 s step beside 5 waits of 1 s"),
        ("W8", 100, "sequential callbacks answered at once"),
    ];
    let latency_table = only
        .as_deref()
        .is_none_or(|only| latency_workloads.iter().any(|w| w.0 == only));
    if latency_table {
        if table {
            println!();
        }
        println!(
            "| W | N | what | latency ms | median ms | range ms | minimum ms | median / minimum | checkpoint calls | state calls | invocations |"
        );
        println!("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        let mut lines = Vec::new();
        for (workload, n, what) in latency_workloads {
            if only.as_deref().is_some_and(|only| only != workload) {
                continue;
            }
            for latency in [Duration::ZERO, Duration::from_millis(15)] {
                let report = spawn(workload, n, runs.unwrap_or(3), Some(latency))?;
                let mut times: Vec<f64> = report["times"]
                    .as_array()
                    .map(|t| t.iter().filter_map(Value::as_f64).collect())
                    .unwrap_or_default();
                let min = times.iter().copied().fold(f64::INFINITY, f64::min);
                let max = times.iter().copied().fold(0.0, f64::max);
                let med = median(&mut times);
                let floor = minimum(workload, n, latency).as_secs_f64() * 1000.0;
                let ratio = if floor > 0.0 {
                    format!("{:.2}", med / floor)
                } else {
                    "–".to_string()
                };
                println!(
                    "| {workload} | {n} | {what} | {} | {med:.1} | {min:.1}–{max:.1} | {floor:.1} | {ratio} | {} | {} | {} |",
                    latency.as_millis(),
                    report["calls"],
                    report["get_state"],
                    report["invocations"]
                );
                lines.push(json!({
                    "workload": workload, "n": n, "latency_ms": latency.as_millis() as u64,
                    "median_ms": med, "min_ms": min, "max_ms": max, "minimum_ms": floor,
                    "checkpoint_calls": report["calls"], "get_state_calls": report["get_state"],
                    "invocations": report["invocations"],
                }));
            }
        }
        println!();
        for line in lines {
            println!("json: {line}");
        }
    }
    Ok(())
}

/// The table of W0 to W5.
fn throughput_table(
    workloads: &[(&str, u64, &str)],
    only: Option<&str>,
    runs: usize,
) -> Result<(), BoxError> {
    println!(
        "| W | N | what | median ms | range ms | checkpoint calls | updates | update bytes | peak RSS MB |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|");
    for &(workload, n, what) in workloads {
        if only.is_some_and(|only| only != workload) {
            continue;
        }
        let (mut times, report) = if workload == "W0" {
            // Whole process, start to exit.
            spawn("W0", 1, 1, None)?;
            let mut times = Vec::with_capacity(runs);
            let mut report = Value::Null;
            for _ in 0..runs {
                let start = Instant::now();
                report = spawn("W0", 1, 1, None)?;
                times.push(start.elapsed().as_secs_f64() * 1000.0);
            }
            (times, report)
        } else {
            let report = spawn(workload, n, runs, None)?;
            let times: Vec<f64> = report["times"]
                .as_array()
                .map(|t| t.iter().filter_map(Value::as_f64).collect())
                .unwrap_or_default();
            (times, report)
        };
        let min = times.iter().copied().fold(f64::INFINITY, f64::min);
        let max = times.iter().copied().fold(0.0, f64::max);
        let med = median(&mut times);
        let rss = report["rss"]
            .as_f64()
            .map_or("?".to_string(), |b| format!("{:.1}", b / (1024.0 * 1024.0)));
        println!(
            "| {workload} | {n} | {what} | {med:.2} | {min:.2}–{max:.2} | {} | {} | {} | {rss} |",
            report["calls"], report["updates"], report["bytes"]
        );
    }
    Ok(())
}
