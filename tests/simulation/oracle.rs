//! Runs one scenario three times on the local runner (without faults, with the seed's
//! faults, and with a crash after the last checkpoint so that a fresh invocation replays
//! nearly the whole recorded history and finishes the execution itself), replays the final
//! log of the first two from scratch (`LocalRunner::replay`), and again from the log rebuilt
//! from their history events (`RecordedExecution::from_json` of `{"Events": [...]}`, what
//! `GetDurableExecutionHistory` returns), and checks every run against the model and the
//! others.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use lambda_durable::wire::{ExecutionStatus, Operation, OperationStatus};
use lambda_durable_testing::{Execution, Fault, InvocationOutcome, LocalRunner, RecordedExecution};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Value};

use crate::faults::{fault_strategy, FaultPlan};
use crate::interpreter::{self, durable_target, plain_target, Shared};
use crate::program::{
    self, describe, expect_program, marker, masked, without_now, Answer, Features, Node, Program,
};

/// One seed's workflow and faults.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub program: Program,
    pub faults: FaultPlan,
    /// Run on a paused tokio clock (`Features::paused_clock`).
    pub paused: bool,
}

/// The proptest value tree of a seed's scenario: `current()` is the scenario, and
/// `simplify()` / `complicate()` shrink it.
pub fn scenario_tree(
    seed: u64,
    features: Features,
) -> impl ValueTree<Value = (Program, FaultPlan)> {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let word = seed
            .wrapping_add(i as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(17);
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = (
        program::program_strategy(features),
        fault_strategy(features),
    );
    match strategy.new_tree(&mut runner) {
        Ok(tree) => tree,
        Err(reason) => panic!("the strategy rejected seed {seed}: {reason}"),
    }
}

pub fn scenario(seed: u64, features: Features) -> Scenario {
    let (program, faults) = scenario_tree(seed, features).current();
    Scenario {
        program,
        faults,
        paused: features.paused_clock,
    }
}

/// What a passing scenario cost, for throughput numbers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub invocations: u64,
    pub checkpoint_calls: u64,
    /// Invocations of the run with faults that ended because their deadline passed.
    pub deadline_endings: u64,
    /// Callbacks of the program kept alive by heartbeats (answered or not).
    pub heartbeated_callbacks: u64,
    /// Operations replayed from scratch by `LocalRunner::replay` (both final logs).
    pub replayed_operations: u64,
}

/// One run of the program on a fresh runner.
struct Run {
    execution: Execution,
    shared: Arc<Shared>,
    /// What the plugin hooks reported.
    hooks: crate::hooks::Record,
}

fn runner_for(shared: &Arc<Shared>) -> LocalRunner {
    let mut runner = LocalRunner::new(interpreter::handler(Arc::clone(shared)))
        .register("sim-durable", durable_target)
        .register_plain("sim-plain", plain_target)
        // A plugin that fails in every hook must change nothing.
        .plugin(crate::hooks::Faulty)
        .max_invocations(3000)
        .max_consecutive_failures(40)
        .real_time(shared.program.real_time)
        // The same execution ids in every run of a scenario, so that replay-safe values
        // (which derive from them) are comparable between the runs.
        .seed(0x5eed);
    if let Some((latency, jitter)) = shared.program.latency() {
        runner =
            runner.latency(lambda_durable_testing::Latency::fixed(latency).with_jitter(jitter));
    }
    let mut callbacks = Vec::new();
    for node in &shared.program.body {
        collect_callbacks(node, &mut callbacks);
    }
    for (id, answer) in callbacks {
        use lambda_durable_testing::CallbackResponse;
        let response = match answer {
            Answer::Success { after } => {
                CallbackResponse::json(json!({ "cb": id })).after(Duration::from_secs(after))
            }
            Answer::Failure { after } => {
                CallbackResponse::failure("SimCallbackError", &format!("<<cb n{id}>>"))
                    .after(Duration::from_secs(after))
            }
            Answer::Timeout { .. } | Answer::HeartbeatTimeout { .. } => CallbackResponse::ignore(),
            Answer::Heartbeated { every, after, .. } => CallbackResponse::json(json!({ "cb": id }))
                .after(Duration::from_secs(after))
                .heartbeat_every(Duration::from_secs(every)),
            Answer::HeartbeatsStop { every, stop, .. } => CallbackResponse::ignore()
                .after(Duration::from_secs(stop))
                .heartbeat_every(Duration::from_secs(every)),
        };
        let name = format!("sim-n{id}");
        runner = runner.on_callback(
            move |callback: &lambda_durable_testing::PendingCallback| {
                callback.name() == Some(name.as_str())
            },
            response,
        );
    }
    runner
}

fn collect_callbacks(node: &Node, out: &mut Vec<(u32, Answer)>) {
    if let Node::Callback { id, answer, .. } = node {
        out.push((*id, answer.clone()));
    }
    match node {
        Node::Child { body, .. } | Node::Map { body, .. } => {
            body.iter().for_each(|n| collect_callbacks(n, out))
        }
        Node::Parallel { branches, .. } => branches
            .iter()
            .flat_map(|(b, _)| b.iter())
            .for_each(|n| collect_callbacks(n, out)),
        Node::Combinator { operands, .. } => {
            operands.iter().for_each(|n| collect_callbacks(n, out))
        }
        _ => {}
    }
}

/// What the retry jitter of every run draws from.
const JITTER_SEED: u64 = 0x5eed_1773;

/// A current-thread runtime, on a paused clock when `paused` (where timers cost nothing
/// and fire in a deterministic order).
fn runtime(paused: bool) -> Result<tokio::runtime::Runtime, String> {
    let mut builder = tokio::runtime::Builder::new_current_thread();
    builder.enable_all();
    if paused {
        builder.start_paused(true);
    }
    builder.build().map_err(|err| format!("runtime: {err}"))
}

/// How long a run may take on tokio's clock before it counts as a hang: on a paused clock
/// a hang reaches it at once, and a deadline fault alone takes up to 15 minutes.
fn hang_limit(paused: bool) -> Duration {
    if paused {
        Duration::from_secs(24 * 3600)
    } else {
        Duration::from_secs(120)
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_default()
}

fn run(
    program: &Program,
    sabotage: bool,
    paused: bool,
    configure: impl FnOnce(LocalRunner) -> LocalRunner,
) -> Result<Run, String> {
    let shared = Shared::new(program.clone(), sabotage);
    let checker = Arc::new(crate::hooks::Checker::default());
    let runner = configure(runner_for(&shared)).shared_plugin(checker.clone());
    let runtime = runtime(paused)?;
    // The SDK's retry jitter draws from this thread's `fastrand` generator (the runtime
    // runs on this thread): the same draws in every run of a scenario.
    fastrand::seed(JITTER_SEED);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(async {
            tokio::time::timeout(hang_limit(paused), runner.run(json!({}))).await
        })
    }));
    match outcome {
        Err(panic) => Err(format!(
            "a panic escaped LocalRunner::run: {}",
            panic_message(&*panic)
        )),
        Ok(Err(_)) => Err("the run did not finish in time (a hang)".to_string()),
        Ok(Ok(Err(err))) => Err(format!("LocalRunner::run failed: {err}")),
        Ok(Ok(Ok(execution))) => Ok(Run {
            execution,
            shared,
            hooks: checker.take(),
        }),
    }
}

/// What a replay from scratch starts from.
#[derive(Clone, Copy)]
enum ReplayOf<'a> {
    /// The execution's final operation log (`LocalRunner::replay`).
    Log(&'a Execution),
    /// The log rebuilt from its history events (`LocalRunner::replay_recorded`).
    History(&'a RecordedExecution),
}

/// Replays the final log of `recorded` from scratch on a fresh handler
/// (`LocalRunner::replay`) and lists every way it differs from a faithful replay.
fn replay_problems(
    program: &Program,
    sabotage: bool,
    paused: bool,
    recorded: &Run,
    configure: impl FnOnce(LocalRunner) -> LocalRunner,
    label: &str,
) -> Vec<String> {
    replay_of(
        program,
        sabotage,
        paused,
        ReplayOf::Log(&recorded.execution),
        configure,
        label,
    )
}

/// The history of the finished execution of `recorded` read back as
/// `GetDurableExecutionHistory` output, its rebuilt log equal to the execution's on every
/// field replay reads, and replayed from scratch on a fresh handler with no divergence and
/// no other difference from a faithful replay.
fn history_replay_problems(
    program: &Program,
    sabotage: bool,
    paused: bool,
    recorded: &Run,
    configure: impl FnOnce(LocalRunner) -> LocalRunner,
    label: &str,
) -> Vec<String> {
    let execution = &recorded.execution;
    if execution.status() == ExecutionStatus::Running {
        return Vec::new();
    }
    let output = json!({ "Events": execution.history() }).to_string();
    let from_history = match RecordedExecution::from_json(&output) {
        Ok(read) => read.with_arn(execution.arn()),
        Err(err) => return vec![format!("{label}: the history does not read back: {err}")],
    };
    let mut problems = Vec::new();
    let (rebuilt, original) = (&from_history.operations, execution.operations());
    if rebuilt.len() != original.len() {
        problems.push(format!(
            "{label}: the history rebuilds {} operations, the log has {}",
            rebuilt.len(),
            original.len()
        ));
    }
    for (rebuilt, original) in rebuilt.iter().zip(original) {
        let (rebuilt, original) = (replay_fields(rebuilt), replay_fields(original));
        if rebuilt != original {
            problems.push(format!(
                "{label}: the history rebuilds\n    {rebuilt}\n  where the log has\n    {original}"
            ));
        }
    }
    if (
        from_history.status,
        from_history.result.as_deref(),
        from_history.error.as_ref(),
    ) != (
        execution.status(),
        execution.raw_result(),
        execution.error(),
    ) {
        problems.push(format!(
            "{label}: the history gives the outcome {:?} {:?} {:?}",
            from_history.status, from_history.result, from_history.error
        ));
    }
    problems.extend(replay_of(
        program,
        sabotage,
        paused,
        ReplayOf::History(&from_history),
        configure,
        label,
    ));
    problems
}

/// The fields of an operation that replay reads.
fn replay_fields(op: &Operation) -> Value {
    let step = op.step_details.as_ref();
    let callback = op.callback_details.as_ref();
    let invoke = op.chained_invoke_details.as_ref();
    let context = op.context_details.as_ref();
    json!({
        "id": op.id.as_str(),
        "type": op.type_,
        "status": op.status,
        "name": op.name,
        "sub_type": op.sub_type,
        "parent": op.parent_id,
        "input": op.execution_details.as_ref().and_then(|details| details.input_payload.clone()),
        "attempt": step.and_then(|step| step.attempt).unwrap_or(0),
        "next_attempt": step
            .and_then(|step| step.next_attempt_timestamp.as_ref())
            .map(|at| at.epoch_millis()),
        "callback_id": callback.and_then(|callback| callback.callback_id.clone()),
        "result": step
            .and_then(|step| step.result.clone())
            .or_else(|| callback.and_then(|callback| callback.result.clone()))
            .or_else(|| invoke.and_then(|invoke| invoke.result.clone()))
            .or_else(|| context.and_then(|context| context.result.clone())),
        "error": step
            .and_then(|step| step.error.clone())
            .or_else(|| callback.and_then(|callback| callback.error.clone()))
            .or_else(|| invoke.and_then(|invoke| invoke.error.clone()))
            .or_else(|| context.and_then(|context| context.error.clone())),
        "replay_children": context.and_then(|context| context.replay_children).unwrap_or(false),
    })
}

fn replay_of(
    program: &Program,
    sabotage: bool,
    paused: bool,
    of: ReplayOf<'_>,
    configure: impl FnOnce(LocalRunner) -> LocalRunner,
    label: &str,
) -> Vec<String> {
    let shared = Shared::new(program.clone(), sabotage);
    let runner = configure(runner_for(&shared));
    let runtime = match runtime(paused) {
        Ok(runtime) => runtime,
        Err(err) => return vec![format!("{label}: {err}")],
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(async {
            let replay = async {
                match of {
                    ReplayOf::Log(execution) => runner.replay(execution).await,
                    ReplayOf::History(recorded) => runner.replay_recorded(recorded).await,
                }
            };
            tokio::time::timeout(hang_limit(paused), replay).await
        })
    }));
    let replay = match outcome {
        Err(panic) => {
            return vec![format!(
                "{label}: a panic escaped LocalRunner::replay: {}",
                panic_message(&*panic)
            )]
        }
        Ok(Err(_)) => return vec![format!("{label}: the replay did not finish in time")],
        Ok(Ok(Err(err))) => return vec![format!("{label}: LocalRunner::replay failed: {err}")],
        Ok(Ok(Ok(replay))) => replay,
    };
    let found: Vec<String> = match of {
        ReplayOf::Log(_) => replay.mismatches(),
        // The divergence, and for a succeeded or failed execution every other mismatch.
        ReplayOf::History(recorded) => recorded.check(&replay),
    };
    let mut problems: Vec<String> = found.into_iter().map(|m| format!("{label}: {m}")).collect();
    let trace = shared.trace();
    let ran: Vec<String> = trace
        .starts
        .keys()
        .map(|(op, attempt)| {
            let node = trace.bodies.get(op).map(|i| i.node).unwrap_or_default();
            format!("n{node} ({op}) attempt {attempt}")
        })
        .collect();
    if !ran.is_empty() {
        problems.push(format!("{label}: bodies ran: {}", ran.join(", ")));
    }
    if !problems.is_empty() {
        problems.push(format!(
            "--- {label}: timeline ---\n{}",
            replay.execution().timeline()
        ));
    }
    problems
}

fn status_name(status: ExecutionStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{status:?}").to_uppercase())
}

/// The run's status and its result, or its error's marker.
fn observed(run: &Run) -> (String, Value) {
    let execution = &run.execution;
    let status = status_name(execution.status());
    let value = if execution.status() == ExecutionStatus::Succeeded {
        execution.result::<Value>().unwrap_or(Value::Null)
    } else {
        let message = execution
            .error()
            .and_then(|e| e.error_message.clone())
            .unwrap_or_default();
        match marker(&message) {
            Some(m) => json!({ "m": m }),
            None => json!({ "error": execution.error().map(|e| format!("{e:?}")) }),
        }
    };
    (status, value)
}

/// Why the run failed, if it failed without one of the simulation's own errors.
fn non_determinism(run: &Run) -> Option<String> {
    let mut found = None;
    for outcome in run.execution.invocation_outcomes() {
        if let InvocationOutcome::FunctionError(error) = outcome {
            let text = format!("{error:?}");
            if text.contains("NonDeterministic") {
                found = Some(text);
            }
        }
    }
    if let Some(error) = run.execution.error() {
        let text = format!("{error:?}");
        if text.contains("NonDeterministic") {
            found = Some(text);
        }
    }
    found
}

/// The invariants of one run that do not need another run to compare with.
fn invariants(run: &Run, label: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let trace = run.shared.trace();
    let operations = run.execution.operations();
    // No operation id recorded twice.
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    for op in operations {
        *ids.entry(op.id.as_str()).or_default() += 1;
    }
    for (id, count) in &ids {
        if *count > 1 {
            problems.push(format!("{label}: operation {id} is recorded {count} times"));
        }
    }
    // Every recorded operation was visited: named ones by the handler, the others (the
    // SDK's own, or the invoke target's) under a recorded parent.
    for op in operations {
        let name = op.name.as_ref().map(|n| n.to_string());
        // The SDK names its own operations after the user's ("sim-n8 submitter").
        if let Some(name) = name.as_deref().and_then(|n| n.split(' ').next()) {
            if name.starts_with("sim-n") && !trace.visited.contains(name) {
                problems.push(format!(
                    "{label}: operation {name} ({}) is recorded but the handler never asked for it",
                    op.id.as_str()
                ));
            }
        }
        if let Some(parent) = &op.parent_id {
            if !ids.contains_key(parent.as_str()) {
                problems.push(format!(
                    "{label}: operation {:?} ({}) has parent {} which is not recorded",
                    name,
                    op.id.as_str(),
                    parent.as_str()
                ));
            }
        }
    }
    // At-most-once bodies ran at most once per attempt.
    for ((op, attempt), count) in &trace.starts {
        let info = trace.bodies.get(op);
        if info.is_some_and(|i| i.at_most_once) && *count > 1 {
            problems.push(format!(
                "{label}: at-most-once step n{} ({op}) ran {count} times for attempt {attempt}",
                info.map(|i| i.node).unwrap_or_default()
            ));
        }
    }
    // Completed at-least-once bodies are recorded, once.
    let mut succeeded_events: BTreeMap<String, usize> = BTreeMap::new();
    for event in run.execution.history() {
        if format!("{:?}", event.event_type) == "StepSucceeded" {
            if let Some(id) = &event.id {
                *succeeded_events.entry(id.as_str().to_string()).or_default() += 1;
            }
        }
    }
    for (id, count) in &succeeded_events {
        let step_body = trace.bodies.get(id).is_some_and(|info| !info.check);
        if *count > 1 && step_body {
            let events: Vec<String> = run
                .execution
                .history()
                .iter()
                .filter(|e| e.id.as_ref().is_some_and(|i| i.as_str() == id))
                .map(|e| {
                    format!(
                        "#{} {:?} {:?}",
                        e.event_id,
                        e.event_type,
                        e.name.as_ref().map(|n| n.to_string())
                    )
                })
                .collect();
            problems.push(format!(
                "{label}: step {id} has {count} StepSucceeded events: {events:?}"
            ));
        }
    }
    if run.execution.status() == ExecutionStatus::Succeeded || run.shared.program.fail_at_end {
        for (op, _) in trace.completions.keys() {
            let Some(info) = trace.bodies.get(op) else {
                continue;
            };
            if info.abandonable || info.at_most_once || info.check {
                continue;
            }
            let recorded = run.execution.operation_by_id(op);
            if recorded.is_none_or(|o| o.status != OperationStatus::Succeeded) {
                problems.push(format!(
                    "{label}: the body of n{} ({op}) completed but the operation is recorded as {:?}",
                    info.node,
                    recorded.map(|o| o.status)
                ));
            }
        }
    }
    // Replay-safe helpers gave one value per position.
    for (position, values) in &trace.helpers {
        if values.len() > 1 {
            problems.push(format!("{label}: helper at {position} returned different values across invocations: {values:?}"));
        }
    }
    if let Some(error) = non_determinism(run) {
        problems.push(format!("{label}: non-determinism: {error}"));
    }
    problems
}

/// What the plugin hooks of a run reported against the contract: statuses that fit the
/// hook, no operation ended twice, and without faults, every invocation ended and every
/// finished operation of the execution ended once.
fn hook_problems(run: &Run, fault_free: bool, label: &str) -> Vec<String> {
    let record = &run.hooks;
    let mut problems: Vec<String> = record
        .problems
        .iter()
        .map(|problem| format!("{label}: hooks: {problem}"))
        .collect();
    // Virtual contexts have no record and are reported by every invocation that runs them.
    fn ids(execution: &Execution, into: &mut std::collections::HashSet<(String, String)>) {
        for op in execution.operations() {
            into.insert((execution.arn().to_string(), op.id.to_string()));
        }
        for child in execution.children() {
            ids(child, into);
        }
    }
    let mut recorded = std::collections::HashSet::new();
    ids(&run.execution, &mut recorded);
    for ((arn, id), count) in &record.ends {
        // With faults, an invocation that saw a wait, callback or invoke finished may fail
        // before it writes anything: the service lists it again, and the next one reports it
        // again.
        let may_repeat = !fault_free && record.service_finished.contains(id);
        if *count > 1 && !may_repeat && recorded.contains(&(arn.clone(), id.clone())) {
            problems.push(format!(
                "{label}: hooks: operation {id} of {arn} ended {count} times"
            ));
        }
    }
    if fault_free {
        if record.invocation_starts != record.invocation_ends {
            problems.push(format!(
                "{label}: hooks: {} invocations started, {} ended",
                record.invocation_starts, record.invocation_ends
            ));
        }
        let arn = run.execution.arn().to_string();
        let ops = run.execution.operations();
        let millis =
            |ts: &Option<lambda_durable::wire::Timestamp>| ts.as_ref().map(|t| t.epoch_millis());
        // An operation that ends after a context around it finished (a wait or callback of
        // a branch the batch no longer waits for) is out of the state the SDK receives:
        // no invocation can see it end.
        let hidden = |op: &lambda_durable::wire::Operation| {
            let end = millis(&op.end_timestamp);
            let mut parent = op.parent_id.clone();
            while let Some(id) = parent {
                let Some(context) = ops.iter().find(|candidate| candidate.id == id) else {
                    return false;
                };
                if let (Some(closed), Some(end)) = (millis(&context.end_timestamp), end) {
                    if closed <= end {
                        return true;
                    }
                }
                parent = context.parent_id.clone();
            }
            false
        };
        for op in ops {
            if hidden(op) {
                continue;
            }
            let finished = !matches!(
                op.status,
                lambda_durable::wire::OperationStatus::Started
                    | lambda_durable::wire::OperationStatus::Pending
                    | lambda_durable::wire::OperationStatus::Ready
            );
            if op.type_ == lambda_durable::wire::OperationType::Execution || !finished {
                continue;
            }
            let count = record
                .ends
                .get(&(arn.clone(), op.id.to_string()))
                .copied()
                .unwrap_or(0);
            if count != 1 {
                problems.push(format!(
                    "{label}: hooks: finished operation {} ({:?}) ended {count} times",
                    op.id, op.name
                ));
            }
        }
    }
    problems
}

/// The oracle: every check of the design for one scenario. `Err` describes every problem
/// found (with the runs' timelines when they disagree).
pub fn check(scenario: &Scenario, sabotage: bool) -> Result<Stats, String> {
    let (want_status, want_value) = expect_program(&scenario.program);
    let mut problems = Vec::new();

    let paused = scenario.paused;
    let clean = run(&scenario.program, sabotage, paused, |r| r)?;
    let stats = clean.execution.stats();
    let (clean_status, clean_value) = observed(&clean);
    // In real time a race (`any`, `race`, a batch that completes early, a heartbeat or a
    // timeout due as an answer arrives) may end otherwise when the timing moves, as faults
    // move it: the result is then not the model's, nor the same with faults or after a
    // crash. What must hold whatever the timing is checked still: the invariants, the
    // hooks' contract and every replay of what was recorded.
    let timing_decides = scenario.program.real_time;
    if !timing_decides && (clean_status != want_status || masked(&clean_value) != want_value) {
        problems.push(format!(
            "fault-free run differs from the model:\n  model: {want_status} {want_value}\n  run:   {clean_status} {}",
            masked(&clean_value)
        ));
    }
    problems.extend(invariants(&clean, "fault-free run"));
    problems.extend(hook_problems(&clean, true, "fault-free run"));

    let faulty = run(&scenario.program, sabotage, paused, |r| {
        scenario
            .faults
            .apply(r, stats.checkpoint_calls, stats.get_state_calls)
    })?;
    let (faulty_status, faulty_value) = observed(&faulty);
    if !timing_decides
        && (faulty_status != clean_status
            || without_now(&faulty_value) != without_now(&clean_value))
    {
        problems.push(format!(
            "run with faults differs from the fault-free run:\n  fault-free: {clean_status} {}\n  faults:     {faulty_status} {}",
            without_now(&clean_value),
            without_now(&faulty_value)
        ));
    }
    problems.extend(invariants(&faulty, "run with faults"));
    problems.extend(hook_problems(&faulty, false, "run with faults"));

    // Replay of the final history: crash right after the last checkpoint call, so the
    // next invocation starts from scratch over (nearly) everything recorded.
    if stats.checkpoint_calls > 0 {
        let replay = run(&scenario.program, sabotage, paused, |r| {
            r.fault(Fault::crash().at_call(stats.checkpoint_calls))
        })?;
        let (replay_status, replay_value) = observed(&replay);
        // In real time the crash moves what follows it (the next invocation's calls, and
        // with them when outside systems answer), so races may end otherwise.
        if !timing_decides
            && (replay_status != clean_status
                || without_now(&replay_value) != without_now(&clean_value))
        {
            problems.push(format!(
                "crash-replay of the final history differs:\n  fault-free: {clean_status} {}\n  replayed:   {replay_status} {}\n--- crash-replay timeline ---\n{}",
                without_now(&clean_value),
                without_now(&replay_value),
                replay.execution.timeline()
            ));
        }
        problems.extend(invariants(&replay, "replay run"));
    }

    // Replays of the final logs from scratch: the recorded outcome, no write, no body run.
    problems.extend(replay_problems(
        &scenario.program,
        sabotage,
        paused,
        &clean,
        |r| r,
        "replay of the fault-free log",
    ));
    problems.extend(replay_problems(
        &scenario.program,
        sabotage,
        paused,
        &faulty,
        |r| match scenario.faults.page_size {
            Some(size) => r.page_size(size),
            None => r,
        },
        "replay of the log with faults",
    ));
    problems.extend(history_replay_problems(
        &scenario.program,
        sabotage,
        paused,
        &clean,
        |r| r,
        "replay of the fault-free history",
    ));
    problems.extend(history_replay_problems(
        &scenario.program,
        sabotage,
        paused,
        &faulty,
        |r| match scenario.faults.page_size {
            Some(size) => r.page_size(size),
            None => r,
        },
        "replay of the history with faults",
    ));

    if problems.is_empty() {
        let deadline_endings = faulty
            .execution
            .invocation_outcomes()
            .filter(|outcome| {
                matches!(outcome, InvocationOutcome::FunctionError(error)
                    if error.error_message.as_deref().is_some_and(|m| m.contains("deadline")))
            })
            .count() as u64;
        let mut callbacks = Vec::new();
        for node in &scenario.program.body {
            collect_callbacks(node, &mut callbacks);
        }
        let heartbeated_callbacks = callbacks
            .iter()
            .filter(|(_, answer)| {
                matches!(
                    answer,
                    Answer::Heartbeated { .. } | Answer::HeartbeatsStop { .. }
                )
            })
            .count() as u64;
        Ok(Stats {
            invocations: stats.invocations + faulty.execution.stats().invocations,
            checkpoint_calls: stats.checkpoint_calls,
            deadline_endings,
            heartbeated_callbacks,
            replayed_operations: (clean.execution.operations().len()
                + faulty.execution.operations().len()) as u64,
        })
    } else {
        Err(format!(
            "{}\n--- fault-free timeline ---\n{}\n--- faulty timeline ---\n{}",
            problems.join("\n"),
            clean.execution.timeline(),
            faulty.execution.timeline()
        ))
    }
}

/// The timelines of the fault-free run and of the run with faults, to check that a
/// scenario runs the same way every time.
pub fn timelines(scenario: &Scenario) -> Result<(String, String), String> {
    let clean = run(&scenario.program, false, scenario.paused, |r| r)?;
    let stats = clean.execution.stats();
    let faulty = run(&scenario.program, false, scenario.paused, |r| {
        scenario
            .faults
            .apply(r, stats.checkpoint_calls, stats.get_state_calls)
    })?;
    Ok((clean.execution.timeline(), faulty.execution.timeline()))
}

/// A readable dump of a scenario: the program and its faults as they are applied.
pub fn dump(scenario: &Scenario) -> String {
    let shared = Shared::new(scenario.program.clone(), false);
    let calls = run(&scenario.program, false, scenario.paused, |r| r)
        .map(|r| r.execution.stats())
        .map(|s| (s.checkpoint_calls, s.get_state_calls))
        .unwrap_or((1, 1));
    drop(shared);
    let expected = expect_program(&scenario.program);
    format!(
        "program ({} nodes):\n{}faults: {}\nexpected: {} {}",
        program::size(&scenario.program),
        describe(&scenario.program),
        scenario.faults.describe(calls.0, calls.1),
        expected.0,
        expected.1
    )
}

/// Shrinks a failing seed with proptest's value tree: keeps the simplest scenario that
/// still fails, within `budget` checks.
pub fn shrink(
    seed: u64,
    features: Features,
    sabotage: bool,
    budget: usize,
) -> Option<(Scenario, String)> {
    let mut tree = scenario_tree(seed, features);
    let to_scenario = |(program, faults): (Program, FaultPlan)| Scenario {
        program,
        faults,
        paused: features.paused_clock,
    };
    let mut best = {
        let s = to_scenario(tree.current());
        let failure = check(&s, sabotage).err()?;
        (s, failure)
    };
    let mut checks = 0;
    let mut failing = true;
    while checks < budget {
        let moved = if failing {
            tree.simplify()
        } else {
            tree.complicate()
        };
        if !moved {
            break;
        }
        checks += 1;
        let s = to_scenario(tree.current());
        match check(&s, sabotage) {
            Err(failure) => {
                failing = true;
                best = (s, failure);
            }
            Ok(_) => failing = false,
        }
    }
    Some(best)
}
