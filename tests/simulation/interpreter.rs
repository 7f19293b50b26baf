//! Turns a [`Program`] into a durable handler that uses the SDK's public API only, and
//! records what the handler's bodies did (side effects per operation and attempt, visited
//! operation names, values of replay-safe helpers) for the oracle.
//!
//! Every outcome is folded into a digest that the next operations receive (step results,
//! invoke payloads, child and item digests are derived from it), so a result that is
//! swapped, lost or replayed wrongly changes everything after it.

use std::collections::{BTreeMap, BTreeSet};
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, UNIX_EPOCH};

use lambda_durable::retry::{
    self, ExponentialBackoff, FailedAttempt, FixedDelay, Jitter, NoRetry, RetryDecision,
};
use lambda_durable::wait_strategy::WaitStrategyConfig;
use lambda_durable::{
    branch, BatchItemStatus, BatchResult, CompletionConfig, DurableContext, Error, Nesting,
    StepContext, StepSemantics,
};
use serde_json::{json, Value};

use crate::program::{
    batch_expect, echo, error_value, expect_branches, fnv, fold, item_digest, item_pad, marker,
    masked, ok, step_value, without_now, Answer, Comb, HelperKind, Node, Program, Retry, Rule,
    LARGE,
};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Fut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The error the simulated bodies fail with; its message carries a `<<marker>>`.
#[derive(Debug)]
pub struct SimError(pub String);

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SimError {}

/// A step-like body (step, wait_for_callback submitter, wait_for_condition check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyInfo {
    pub node: u32,
    pub at_most_once: bool,
    /// Inside a scope the SDK may drop before it finishes (a combinator operand, a branch
    /// of a batch that completes early), so a completed body need not be recorded.
    pub abandonable: bool,
    /// A `wait_for_condition` check: each poll completes, and the operation may still
    /// fail (attempts exhausted), and every poll is recorded.
    pub check: bool,
}

/// What the bodies of one execution did, over all its invocations.
#[derive(Debug, Default)]
pub struct Trace {
    /// Body starts per (operation id, attempt).
    pub starts: BTreeMap<(String, u32), u32>,
    /// Bodies that returned successfully, per (operation id, attempt).
    pub completions: BTreeMap<(String, u32), u32>,
    pub bodies: BTreeMap<String, BodyInfo>,
    /// Names of the operations the handler asked for.
    pub visited: BTreeSet<String>,
    /// Values each replay-safe helper call returned, by position.
    pub helpers: BTreeMap<String, BTreeSet<String>>,
    pub invocations: u32,
}

/// What the handler shares across invocations.
pub struct Shared {
    pub program: Program,
    pub trace: Mutex<Trace>,
    /// Self-check: misbehave on replay as a buggy SDK would.
    pub sabotage: bool,
    /// Self-check: the outcomes of the operations run or replayed so far, in every
    /// invocation.
    step_values: Mutex<Vec<Value>>,
}

impl Shared {
    pub fn new(program: Program, sabotage: bool) -> Arc<Self> {
        Arc::new(Self {
            program,
            trace: Mutex::new(Trace::default()),
            sabotage,
            step_values: Mutex::new(Vec::new()),
        })
    }

    pub fn trace(&self) -> MutexGuard<'_, Trace> {
        self.trace
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn started(&self, op: &str, attempt: u32, info: BodyInfo) {
        let mut trace = self.trace();
        *trace.starts.entry((op.to_string(), attempt)).or_default() += 1;
        trace.bodies.insert(op.to_string(), info);
    }

    fn completed(&self, op: &str, attempt: u32) {
        *self
            .trace()
            .completions
            .entry((op.to_string(), attempt))
            .or_default() += 1;
    }

    fn visit(&self, name: &str) {
        self.trace().visited.insert(name.to_string());
    }
}

#[derive(Clone)]
struct Env {
    shared: Arc<Shared>,
    /// The model-computable digest of everything before this point.
    digest: String,
    /// A digest that also covers helper values (which the model cannot compute).
    hx: String,
    scope: String,
    abandonable: bool,
    /// The index of the innermost map item this code runs in (0 outside of any).
    item: usize,
}

impl Env {
    fn nested(&self, digest: String, scope: String, abandonable: bool) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            hx: fnv(&[&self.hx, &digest]),
            digest,
            scope,
            abandonable: self.abandonable || abandonable,
            item: self.item,
        }
    }
}

/// Errors that end the handler instead of being part of the result: the SDK never
/// returns them for a correct program.
fn fatal(error: &Error) -> bool {
    matches!(
        error,
        Error::NonDeterministic { .. }
            | Error::Checkpoint { .. }
            | Error::InvalidArgument { .. }
            | Error::Serialization { .. }
            | Error::InvalidInput { .. }
    )
}

fn summary(error: &Error) -> Value {
    let message = error
        .recorded()
        .and_then(|o| o.error_message.clone())
        .unwrap_or_else(|| error.to_string());
    error_value(error.error_type(), marker(&message).as_deref())
}

fn classify(id: u32, result: Result<Value, Error>) -> Result<Value, Error> {
    match result {
        Ok(value) => Ok(ok(id, value)),
        Err(error) if fatal(&error) => Err(error),
        Err(error) => Ok(crate::program::err(id, summary(&error))),
    }
}

/// Replaces a padding string by its length, so results stay small to compare.
fn unpad(mut value: Value) -> Value {
    if let Some(len) = value.get("pad").and_then(Value::as_str).map(str::len) {
        value["pad"] = json!(len);
    }
    value
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// The durable handler of `shared.program`.
pub fn handler(
    shared: Arc<Shared>,
) -> impl Fn(Value, DurableContext) -> Fut<'static, Result<Value, BoxError>> + Send + Sync + 'static
{
    move |_input: Value, ctx: DurableContext| {
        let shared = Arc::clone(&shared);
        Box::pin(async move {
            shared.trace().invocations += 1;
            let env = Env {
                shared: Arc::clone(&shared),
                digest: "root".to_string(),
                hx: "root".to_string(),
                scope: String::new(),
                abandonable: false,
                item: 0,
            };
            let (outcomes, digest) = run_seq(&ctx, &shared.program.body, env).await?;
            if shared.program.fail_at_end {
                return Err(Box::new(SimError(format!("<<handler {digest}>>"))) as BoxError);
            }
            Ok(json!({ "out": outcomes }))
        })
    }
}

/// A chained-invoke target that is a durable function: waits, then echoes the payload.
pub async fn durable_target(payload: Value, ctx: DurableContext) -> Result<Value, BoxError> {
    let wait = payload["wait"].as_u64().unwrap_or(0);
    if wait > 0 {
        ctx.wait("sim-target-wait", secs(wait)).await?;
    }
    let n = u32::try_from(payload["n"].as_u64().unwrap_or(0)).unwrap_or(0);
    let digest = payload["d"].as_str().unwrap_or_default().to_string();
    let value: Value = ctx
        .step("sim-target-step", move |_| async move {
            Ok::<_, SimError>(echo(n, &digest))
        })
        .await?;
    if payload["fail"].as_bool() == Some(true) {
        return Err(Box::new(SimError(format!("<<inv n{n}>>"))));
    }
    Ok(value)
}

/// A chained-invoke target that is a plain function.
pub async fn plain_target(payload: Value) -> Result<Value, SimError> {
    let n = u32::try_from(payload["n"].as_u64().unwrap_or(0)).unwrap_or(0);
    if payload["fail"].as_bool() == Some(true) {
        return Err(SimError(format!("<<inv n{n}>>")));
    }
    Ok(echo(n, payload["d"].as_str().unwrap_or_default()))
}

/// Runs `nodes` one after the other; returns their outcomes and the digest after them.
fn run_seq<'a>(
    ctx: &'a DurableContext,
    nodes: &'a [Node],
    env: Env,
) -> Fut<'a, Result<(Vec<Value>, String), Error>> {
    Box::pin(async move {
        let mut env = env;
        let mut outcomes: Vec<Value> = Vec::new();
        for node in nodes {
            let replaying = ctx.is_replaying();
            let result = start_node(ctx, node, env.clone()).await;
            let mut outcome = classify(node.id(), result)?;
            if env.shared.sabotage
                && !matches!(node, Node::Helper { .. })
                && outcome.get("ok").is_some()
            {
                // The bug the self-check injects: on replay, an operation gets the
                // recorded value of another one (the last one seen, in any invocation).
                let mut seen = env
                    .shared
                    .step_values
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                let real = outcome.clone();
                if replaying {
                    if let Some(other) = seen
                        .iter()
                        .rev()
                        .find(|o| o["n"] != real["n"] && o["ok"] != real["ok"])
                    {
                        outcome["ok"] = other["ok"].clone();
                    }
                }
                seen.push(real);
            }
            env.digest = fold(&env.digest, &outcome);
            // `now()` may differ between executions (jittered retry delays move the clock),
            // so the chain that runs compare leaves it out, like the comparison itself.
            env.hx = fnv(&[&env.hx, &without_now(&outcome).to_string()]);
            outcomes.push(outcome);
        }
        Ok((outcomes, env.digest))
    })
}

/// Creates the operation of `node` now (so its id is reserved in program order) and
/// returns the future of its value.
fn start_node<'a>(
    ctx: &'a DurableContext,
    node: &'a Node,
    env: Env,
) -> Fut<'a, Result<Value, Error>> {
    let name = format!("sim-n{}", node.id());
    env.shared.visit(&name);
    match node {
        Node::Step {
            id,
            fails,
            retry,
            at_most_once,
            panics,
            large,
            large_error,
        } => {
            let shared = Arc::clone(&env.shared);
            let digest = env.digest.clone();
            let hx = env.hx.clone();
            let (id, fails, at_most_once, panics, large, large_error) =
                (*id, *fails, *at_most_once, *panics, *large, *large_error);
            let info = BodyInfo {
                node: id,
                at_most_once,
                abandonable: env.abandonable,
                check: false,
            };
            let takes = env.shared.program.step_time(id, env.item);
            let step = ctx
                .step(name, move |step: StepContext| async move {
                    let op = step.operation_id().to_string();
                    let attempt = step.attempt();
                    shared.started(&op, attempt, info);
                    if !takes.is_zero() {
                        tokio::time::sleep(takes).await;
                    }
                    if attempt <= fails {
                        if panics && attempt == 1 {
                            panic!("<<n{id} panic>>");
                        }
                        let mut message = format!("<<n{id} a{attempt}>>");
                        if large_error {
                            message.push_str(&"e".repeat(40 * 1024));
                        }
                        return Err(SimError(message));
                    }
                    let mut value = step_value(id, &digest);
                    value["hx"] = json!(hx);
                    if large {
                        value["pad"] = json!("p".repeat(LARGE));
                    }
                    shared.completed(&op, attempt);
                    Ok(value)
                })
                .semantics(if at_most_once {
                    StepSemantics::AtMostOncePerRetry
                } else {
                    StepSemantics::AtLeastOncePerRetry
                });
            let step = match retry.clone() {
                Retry::Default => step,
                Retry::None => step.retry(NoRetry),
                Retry::Fixed { delay, max } => {
                    step.retry(FixedDelay::new(secs(delay)).max_attempts(max))
                }
                Retry::Exponential { initial, max, cap } => step.retry(
                    ExponentialBackoff::new()
                        .max_attempts(max)
                        .initial_delay(secs(initial))
                        .max_delay(secs(cap))
                        .backoff_rate(2.0)
                        .jitter(Jitter::None),
                ),
                Retry::Custom { delay, max } => step.retry(retry::from_fn(
                    move |_: &FailedAttempt<'_>, attempts: u32| {
                        if attempts < max {
                            RetryDecision::retry_after(secs(delay * u64::from(attempts)))
                        } else {
                            RetryDecision::Stop
                        }
                    },
                )),
            };
            let future = step.into_future();
            Box::pin(async move { future.await.map(unpad) })
        }
        Node::Wait { seconds, .. } => {
            let future = ctx.wait(name, secs(*seconds));
            Box::pin(async move { future.await.map(|()| Value::Null) })
        }
        Node::Callback {
            id,
            answer,
            submitter_fails,
        } => {
            let timeout = match answer {
                Answer::Timeout { timeout } => Some(*timeout),
                _ => None,
            };
            let heartbeat = answer.heartbeat_timeout();
            match submitter_fails {
                None => {
                    let mut create = ctx.create_callback::<Value>(name);
                    if let Some(t) = timeout {
                        create = create.timeout(secs(t));
                    }
                    if let Some(h) = heartbeat {
                        create = create.heartbeat_timeout(secs(h));
                    }
                    Box::pin(async move {
                        let callback = create.await?;
                        callback.result().await
                    })
                }
                Some(fails) => {
                    let shared = Arc::clone(&env.shared);
                    let fails = *fails;
                    let info = BodyInfo {
                        node: *id,
                        at_most_once: false,
                        abandonable: env.abandonable,
                        check: false,
                    };
                    let mut wait = ctx
                        .wait_for_callback::<Value, _, _>(
                            name,
                            move |_callback_id, step: StepContext| async move {
                                let op = step.operation_id().to_string();
                                let attempt = step.attempt();
                                shared.started(&op, attempt, info);
                                if attempt <= fails {
                                    return Err(SimError(format!("<<submit a{attempt}>>")));
                                }
                                shared.completed(&op, attempt);
                                Ok(())
                            },
                        )
                        .retry(FixedDelay::new(secs(1)).max_attempts(fails + 1));
                    if let Some(t) = timeout {
                        wait = wait.timeout(secs(t));
                    }
                    if let Some(h) = heartbeat {
                        wait = wait.heartbeat_timeout(secs(h));
                    }
                    let future = wait.into_future();
                    Box::pin(future)
                }
            }
        }
        Node::Invoke {
            id,
            durable,
            wait,
            fail,
        } => {
            let target = if *durable { "sim-durable" } else { "sim-plain" };
            let future = ctx
                .invoke::<Value>(
                    name,
                    target,
                    json!({ "n": id, "d": env.digest, "wait": wait, "fail": fail }),
                )
                .into_future();
            Box::pin(future)
        }
        Node::Child {
            id,
            body,
            large,
            fail,
        } => {
            let child_env = env.nested(
                item_digest(&env.digest, *id, 0),
                format!("{}/n{id}", env.scope),
                false,
            );
            let (id, large, fail) = (*id, *large, *fail);
            let child_body = move |child: DurableContext| async move {
                let (outcomes, _) = run_seq(&child, body, child_env).await?;
                if fail {
                    return Err(Box::new(SimError(format!("<<n{id} child>>"))) as BoxError);
                }
                let pad = if large {
                    json!("p".repeat(LARGE))
                } else {
                    json!(0)
                };
                Ok(json!({ "out": outcomes, "pad": pad }))
            };
            if env.shared.program.is_virtual(id) {
                let future = ctx.run_in_virtual_context(name, child_body).into_future();
                return Box::pin(async move { future.await.map(unpad) });
            }
            let future = ctx.run_in_child_context(name, child_body).into_future();
            Box::pin(async move { future.await.map(unpad) })
        }
        Node::Map {
            id,
            items,
            body,
            fail_mask,
            concurrency,
            rule,
            flat,
            large,
        } => {
            let (id, items, fail_mask) = (*id, *items, *fail_mask);
            let expected = expect_branches(node, &env.digest);
            let plan = batch_expect(
                rule,
                &expected.iter().map(Result::is_ok).collect::<Vec<_>>(),
            );
            let pad = item_pad(*large, items);
            let item_env = env.clone();
            let mut map = ctx
                .map(
                    name,
                    (0..items).collect::<Vec<usize>>(),
                    move |item_ctx: DurableContext, i: usize, _| {
                        let env = Env {
                            item: i,
                            ..item_env.nested(
                                item_digest(&item_env.digest, id, i),
                                format!("{}/n{id}i{i}", item_env.scope),
                                !plan.full,
                            )
                        };
                        env.shared.visit(&format!("sim-n{id}-i{i}"));
                        async move {
                            let (outcomes, _) = run_seq(&item_ctx, body, env).await?;
                            if fail_mask & (1 << i) != 0 {
                                return Err(
                                    Box::new(SimError(format!("<<n{id} i{i}>>"))) as BoxError
                                );
                            }
                            Ok(branch_value(outcomes, pad))
                        }
                    },
                )
                .item_namer(move |_, i| format!("sim-n{id}-i{i}"))
                .completion(completion(rule));
            if let Some(c) = concurrency {
                map = map.max_concurrency(*c);
            }
            if *flat {
                map = map.nesting(Nesting::Flat);
            }
            let future = map.into_future();
            Box::pin(async move {
                future
                    .await
                    .map(|result| batch_value(result, &expected, plan.full))
            })
        }
        Node::Parallel {
            id,
            branches,
            concurrency,
            rule,
            flat,
            large,
        } => {
            let id = *id;
            let expected = expect_branches(node, &env.digest);
            let plan = batch_expect(
                rule,
                &expected.iter().map(Result::is_ok).collect::<Vec<_>>(),
            );
            let pad = item_pad(*large, branches.len());
            let list = branches
                .iter()
                .enumerate()
                .map(|(i, (body, fail))| {
                    let env = env.nested(
                        item_digest(&env.digest, id, i),
                        format!("{}/n{id}b{i}", env.scope),
                        !plan.full,
                    );
                    let fail = *fail;
                    let branch_name = format!("sim-n{id}-b{i}");
                    env.shared.visit(&branch_name);
                    branch(branch_name, move |branch_ctx: DurableContext| async move {
                        let (outcomes, _) = run_seq(&branch_ctx, body, env).await?;
                        if fail {
                            return Err(Box::new(SimError(format!("<<n{id} b{i}>>"))) as BoxError);
                        }
                        Ok(branch_value(outcomes, pad))
                    })
                })
                .collect();
            let mut parallel = ctx.parallel(name, list).completion(completion(rule));
            if let Some(c) = concurrency {
                parallel = parallel.max_concurrency(*c);
            }
            if *flat {
                parallel = parallel.nesting(Nesting::Flat);
            }
            let future = parallel.into_future();
            Box::pin(async move {
                future
                    .await
                    .map(|result| batch_value(result, &expected, plan.full))
            })
        }
        Node::Combinator {
            kind,
            operands,
            async_blocks,
            ..
        } => {
            let abandonable = *kind != Comb::AllSettled;
            let futures: Vec<Fut<'a, Result<Value, Error>>> = operands
                .iter()
                .map(|operand| {
                    let env = Env {
                        abandonable: env.abandonable || abandonable,
                        ..env.clone()
                    };
                    if *async_blocks {
                        // As users write them: the operation starts when the block is
                        // first polled.
                        Box::pin(async move { start_node(ctx, operand, env).await })
                            as Fut<'a, Result<Value, Error>>
                    } else {
                        start_node(ctx, operand, env)
                    }
                })
                .collect();
            let kind = *kind;
            Box::pin(async move {
                match kind {
                    Comb::All => ctx.all(name, futures).await.map(Value::Array),
                    Comb::Any => ctx.any(name, futures).await,
                    Comb::Race => ctx.race(name, futures).await,
                    Comb::AllSettled => {
                        let results = ctx.all_settled(name, futures).await;
                        let mut outcomes = Vec::new();
                        for (operand, result) in operands.iter().zip(results) {
                            outcomes.push(classify(operand.id(), result)?);
                        }
                        Ok(Value::Array(outcomes))
                    }
                }
            })
        }
        Node::Condition {
            id,
            polls,
            delay,
            max_attempts,
        } => {
            let shared = Arc::clone(&env.shared);
            let info = BodyInfo {
                node: *id,
                at_most_once: false,
                abandonable: env.abandonable,
                check: true,
            };
            let h = fnv(&[&env.digest, "cond", &id.to_string()]);
            let polls = u64::from(*polls);
            let future = ctx
                .wait_for_condition(
                    name,
                    json!({ "polls": 0 }),
                    move |state: Value, step: StepContext| async move {
                        let op = step.operation_id().to_string();
                        let attempt = step.attempt();
                        shared.started(&op, attempt, info);
                        let n = state["polls"].as_u64().unwrap_or(0) + 1;
                        shared.completed(&op, attempt);
                        Ok::<_, SimError>(json!({ "polls": n, "h": h }))
                    },
                )
                .strategy(
                    WaitStrategyConfig::poll_while(move |state: &Value| {
                        state["polls"].as_u64().unwrap_or(0) < polls
                    })
                    .max_attempts(*max_attempts)
                    .initial_delay(secs(*delay))
                    .max_delay(secs(*delay))
                    .backoff_rate(1.0)
                    .jitter(Jitter::None),
                )
                .into_future();
            Box::pin(future)
        }
        Node::Helper { id, kind } => {
            let value = match kind {
                HelperKind::Uuid => json!({ "helper": ctx.uuid().to_string() }),
                HelperKind::Random => json!({ "helper": ctx.random_u64().to_string() }),
                HelperKind::Now => {
                    let millis = ctx
                        .now()
                        .duration_since(UNIX_EPOCH)
                        .map(|d| d.as_millis())
                        .unwrap_or_default();
                    json!({ "now": millis.to_string() })
                }
            };
            env.shared
                .trace()
                .helpers
                .entry(format!("{}/n{id}", env.scope))
                .or_default()
                .insert(value.to_string());
            Box::pin(async move { Ok(value) })
        }
    }
}

fn completion(rule: &Rule) -> CompletionConfig {
    match rule {
        Rule::Default => CompletionConfig::new(),
        Rule::AllSuccessful => CompletionConfig::all_successful(),
        Rule::AllCompleted => CompletionConfig::all_completed(),
        Rule::FirstSuccessful => CompletionConfig::first_successful(),
        Rule::MinSuccessful(k) => CompletionConfig::new().min_successful(*k),
        Rule::ToleratedCount(t) => CompletionConfig::new().tolerated_failure_count(*t),
        Rule::ToleratedPercentage(p) => {
            CompletionConfig::new().tolerated_failure_percentage(f64::from(*p))
        }
        Rule::When(k) => {
            let k = *k;
            CompletionConfig::new()
                .tolerated_failure_percentage(100.0)
                .complete_when(move |progress| progress.succeeded >= k)
        }
    }
}

/// The outcome of a batch: every item when every branch was expected to finish;
/// otherwise (the set of finished branches depends on timing) the number of items of the
/// deciding kind and whether every finished item has the value or error the model expects
/// for its index.
fn batch_value(result: BatchResult<Value>, expected: &[Result<Value, Value>], full: bool) -> Value {
    let reason = serde_json::to_value(result.completion_reason()).unwrap_or(Value::Null);
    let item_error = |error: Option<&lambda_durable::wire::ErrorObject>| json!({ "m": error.and_then(|e| e.error_message.as_deref()).and_then(marker) });
    if full {
        let items: Vec<Value> = result
            .items()
            .iter()
            .map(|item| match item.status {
                BatchItemStatus::Succeeded => json!({
                    "i": item.index,
                    "ok": item.result.clone().map(unpad).unwrap_or(Value::Null),
                }),
                BatchItemStatus::Failed => {
                    json!({ "i": item.index, "err": item_error(item.error.as_ref()) })
                }
                status => json!({ "i": item.index, "status": format!("{status:?}") }),
            })
            .collect();
        return json!({ "reason": reason, "items": items });
    }
    let mut consistent = true;
    for item in result.items() {
        let want = expected.get(item.index);
        let fine = match (item.status, want) {
            (BatchItemStatus::Succeeded, Some(Ok(value))) => {
                masked(&item.result.clone().map(unpad).unwrap_or(Value::Null)) == masked(value)
            }
            (BatchItemStatus::Failed, Some(Err(error))) => {
                item_error(item.error.as_ref()) == *error
            }
            (BatchItemStatus::Started | BatchItemStatus::Skipped, Some(_)) => true,
            _ => false,
        };
        consistent &= fine;
    }
    let decided = match reason.as_str() {
        Some("FAILURE_TOLERANCE_EXCEEDED") => result.failure_count(),
        _ => result.success_count(),
    };
    json!({ "reason": reason, "decided": decided, "consistent": consistent })
}

/// What a map item or parallel branch returns: its operations' outcomes, padded with `pad`
/// bytes to make the batch result large when the program asks for it.
fn branch_value(outcomes: Vec<Value>, pad: usize) -> Value {
    let pad = if pad > 0 {
        json!("p".repeat(pad))
    } else {
        json!(0)
    };
    json!({ "out": outcomes, "pad": pad })
}
