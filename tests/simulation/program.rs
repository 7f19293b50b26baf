//! The generated workflow: a small tree of durable operations, the proptest strategies that
//! generate it from a seed, and the model that computes its expected result from the tree
//! alone.
//!
//! The tree is data so that a failing seed can be printed, shrunk and turned into a
//! regression test, and so that the expected outcome does not depend on the SDK at all:
//! the model below never looks at a run.

use std::fmt::Write as _;

use proptest::prelude::*;
use proptest::strategy::Union;
use serde_json::{json, Value};

/// Which kinds of nodes and shapes the generator may produce.
///
/// Every switch exists so that a feature hit by a known SDK defect can be turned off in
/// CI (see `Features::ci`) without losing the rest, and turned back on when it is fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// Steps with failing attempts and the retry strategies that retry them.
    pub retries: bool,
    /// `StepSemantics::AtMostOncePerRetry` steps.
    pub at_most_once: bool,
    /// Durable waits.
    pub waits: bool,
    /// `create_callback` + `result`, answered, failed or timed out.
    pub callbacks: bool,
    /// `wait_for_callback` with a submitter that may fail and be retried.
    pub wait_for_callback: bool,
    /// Chained invokes of a durable and of a plain function.
    pub invokes: bool,
    /// `run_in_child_context`.
    pub child_contexts: bool,
    /// Child contexts whose result is over 256 KiB (replayed by running the body again).
    pub large_child_results: bool,
    /// `map`.
    pub map: bool,
    /// `parallel`.
    pub parallel: bool,
    /// `Nesting::Flat` batches.
    pub flat_nesting: bool,
    /// Batches whose results are over 256 KiB with `Nesting::Nested`.
    pub large_nested_batches: bool,
    /// Batches whose results are over 256 KiB with `Nesting::Flat`.
    pub large_flat_batches: bool,
    /// Completion rules that end a batch before every branch finished.
    pub early_completion: bool,
    /// `all` / `all_settled` / `any` / `race` over operations created before the call.
    pub combinators: bool,
    /// Combinator operands written as `async { .. }` blocks that start the operation on
    /// the captured context when polled (as users write them).
    pub combinator_async_blocks: bool,
    /// `wait_for_condition`.
    pub wait_for_condition: bool,
    /// `uuid()` and `random_u64()`.
    pub helpers: bool,
    /// `now()` at the root context.
    pub now_at_root: bool,
    /// `now()` inside child contexts, batch branches and combinator operands.
    pub now_in_child: bool,
    /// Step bodies that panic on their first attempt (and succeed on a retry).
    pub panics: bool,
    /// Step results over 256 KiB.
    pub large_step_payloads: bool,
    /// Step errors over 32 KiB.
    pub large_errors: bool,
    /// The handler fails at the end (the execution's error carries the result digest).
    pub handler_failure: bool,
    /// Callbacks kept alive past their heartbeat timeout by heartbeats, then answered (or
    /// left to miss a heartbeat when the heartbeats stop).
    pub heartbeats: bool,
    /// `SimFault::Deadline`: an invocation runs out of time in the middle of a checkpoint
    /// call.
    pub deadlines: bool,
    /// The runs use a paused tokio clock, which makes the SDK's timers (the batcher's
    /// linger, checkpoint retries, the invocation deadline) deterministic and free.
    pub paused_clock: bool,
    /// Every third child context (by node id) runs as a virtual context
    /// (`run_in_virtual_context`), which records no operation of its own. Chosen by id,
    /// not drawn, so that the programs of the other features stay what they were.
    pub virtual_contexts: bool,
    /// The runner runs in real time (on the paused clock) and every step body takes a time
    /// of its own (chosen by node id, not drawn), so that waits, retries and callback
    /// answers fall due while other code runs and operations resume within an invocation.
    ///
    /// In real time a race (`any`, early-completing batches, heartbeats due as an answer
    /// arrives) may end otherwise when faults shift the timing, so the oracle does not
    /// compare such runs with its model or with each other; it still checks the
    /// invariants, the hooks' contract and every replay of what was recorded. Off in `all`
    /// and `ci` for now (`SIM_FEATURES=realtime` turns it on); its seed 370 found a real
    /// bug, now `plugins::an_empty_list_of_updated_operations_reports_nothing_ended_again`.
    pub real_time: bool,
}

impl Features {
    /// Everything on: the configuration the SDK must eventually pass.
    pub fn all() -> Self {
        Self {
            retries: true,
            at_most_once: true,
            waits: true,
            callbacks: true,
            wait_for_callback: true,
            invokes: true,
            child_contexts: true,
            large_child_results: true,
            map: true,
            parallel: true,
            flat_nesting: true,
            large_nested_batches: true,
            large_flat_batches: true,
            early_completion: true,
            combinators: true,
            combinator_async_blocks: true,
            wait_for_condition: true,
            helpers: true,
            now_at_root: true,
            now_in_child: true,
            panics: true,
            large_step_payloads: true,
            large_errors: true,
            handler_failure: true,
            heartbeats: true,
            deadlines: true,
            paused_clock: true,
            virtual_contexts: true,
            real_time: false,
        }
    }

    /// [`all`](Self::all) with the runner in real time ([`Features::real_time`]).
    pub fn real_time() -> Self {
        Self {
            real_time: true,
            ..Self::all()
        }
    }

    /// The feature set of `fixed_seeds`: everything but large (300 KiB) step results,
    /// which `all_features` covers.
    pub fn ci() -> Self {
        Self {
            large_step_payloads: false,
            ..Self::all()
        }
    }

    /// The feature set the regression seeds were found in, frozen (a change of features
    /// changes the program a seed generates): `ci` before heartbeats, deadlines and the
    /// paused clock.
    pub fn regression() -> Self {
        Self {
            heartbeats: false,
            deadlines: false,
            paused_clock: false,
            virtual_contexts: false,
            real_time: false,
            ..Self::ci()
        }
    }
}

/// A retry strategy, limited to the ones whose delays the model can compute, plus the
/// default (full jitter) whose delays it cannot.
#[derive(Debug, Clone, PartialEq)]
pub enum Retry {
    /// No `.retry(..)`: `presets::default()`, 6 attempts with full jitter.
    Default,
    /// `NoRetry`.
    None,
    /// `FixedDelay::new(delay).max_attempts(max)`.
    Fixed { delay: u64, max: u32 },
    /// `ExponentialBackoff` without jitter, rate 2.
    Exponential { initial: u64, max: u32, cap: u64 },
    /// `retry::from_fn`: `delay * attempts_made` seconds until `max` attempts.
    Custom { delay: u64, max: u32 },
}

impl Retry {
    pub fn max_attempts(&self) -> u32 {
        match self {
            Retry::Default => 6,
            Retry::None => 1,
            Retry::Fixed { max, .. }
            | Retry::Exponential { max, .. }
            | Retry::Custom { max, .. } => *max,
        }
    }

    /// The delay after the `n`-th failed attempt, if the model knows it.
    fn delay_after(&self, n: u32) -> Option<u64> {
        match self {
            Retry::Default => None,
            Retry::None => Some(0),
            Retry::Fixed { delay, .. } => Some(*delay),
            Retry::Exponential { initial, cap, .. } => {
                Some((initial.saturating_mul(1u64 << (n - 1).min(30))).min(*cap))
            }
            Retry::Custom { delay, .. } => Some(delay * u64::from(n)),
        }
    }
}

/// How a callback is answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Success {
        after: u64,
    },
    Failure {
        after: u64,
    },
    /// Never answered; `.timeout(timeout)` fires.
    Timeout {
        timeout: u64,
    },
    /// Never answered; `.heartbeat_timeout(after)` fires.
    HeartbeatTimeout {
        after: u64,
    },
    /// `.heartbeat_timeout(timeout)`; the external system sends a heartbeat every `every`
    /// seconds (`every <= timeout`) and answers `after` seconds (past the timeout) after
    /// the start.
    Heartbeated {
        timeout: u64,
        every: u64,
        after: u64,
    },
    /// `.heartbeat_timeout(timeout)`; the external system sends a heartbeat every `every`
    /// seconds before `stop`, then falls silent: the heartbeat timeout fires after the last
    /// one.
    HeartbeatsStop {
        timeout: u64,
        every: u64,
        stop: u64,
    },
}

impl Answer {
    /// The callback's `heartbeat_timeout`, in seconds, if it has one.
    pub fn heartbeat_timeout(&self) -> Option<u64> {
        match self {
            Answer::HeartbeatTimeout { after } => Some(*after),
            Answer::Heartbeated { timeout, .. } | Answer::HeartbeatsStop { timeout, .. } => {
                Some(*timeout)
            }
            _ => None,
        }
    }
}

/// When a batch completes.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// No rules: fail fast.
    Default,
    AllSuccessful,
    AllCompleted,
    FirstSuccessful,
    MinSuccessful(usize),
    ToleratedCount(usize),
    ToleratedPercentage(u32),
    /// `complete_when(succeeded >= k)` with every failure tolerated.
    When(usize),
}

/// A combinator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comb {
    All,
    AllSettled,
    Any,
    Race,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelperKind {
    Uuid,
    Random,
    Now,
}

/// One node of the workflow tree. `id` is unique in the program (the operation's name is
/// `sim-n<id>`); it is assigned by [`normalize`].
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Step {
        id: u32,
        /// Attempts that fail before one succeeds.
        fails: u32,
        retry: Retry,
        at_most_once: bool,
        /// The first failing attempt panics instead of returning an error.
        panics: bool,
        /// The result is over 256 KiB.
        large: bool,
        /// The error of each failing attempt is over 32 KiB.
        large_error: bool,
    },
    Wait {
        id: u32,
        seconds: u64,
    },
    Callback {
        id: u32,
        answer: Answer,
        /// `wait_for_callback` whose submitter fails this many times first; `None` is
        /// `create_callback` + `result`.
        submitter_fails: Option<u32>,
    },
    Invoke {
        id: u32,
        /// The durable target (which waits `wait` seconds) or the plain one.
        durable: bool,
        wait: u64,
        fail: bool,
    },
    Child {
        id: u32,
        body: Vec<Node>,
        large: bool,
        fail: bool,
    },
    Map {
        id: u32,
        items: usize,
        body: Vec<Node>,
        /// Bit `i` set: item `i` fails after running its body.
        fail_mask: u32,
        concurrency: Option<usize>,
        rule: Rule,
        flat: bool,
        large: bool,
    },
    Parallel {
        id: u32,
        branches: Vec<(Vec<Node>, bool)>,
        concurrency: Option<usize>,
        rule: Rule,
        flat: bool,
        large: bool,
    },
    Combinator {
        id: u32,
        kind: Comb,
        operands: Vec<Node>,
        async_blocks: bool,
    },
    Condition {
        id: u32,
        polls: u32,
        delay: u64,
        max_attempts: u32,
    },
    Helper {
        id: u32,
        kind: HelperKind,
    },
}

impl Node {
    pub fn id(&self) -> u32 {
        match self {
            Node::Step { id, .. }
            | Node::Wait { id, .. }
            | Node::Callback { id, .. }
            | Node::Invoke { id, .. }
            | Node::Child { id, .. }
            | Node::Map { id, .. }
            | Node::Parallel { id, .. }
            | Node::Combinator { id, .. }
            | Node::Condition { id, .. }
            | Node::Helper { id, .. } => *id,
        }
    }

    fn children_mut(&mut self) -> Vec<&mut Node> {
        match self {
            Node::Child { body, .. } | Node::Map { body, .. } => body.iter_mut().collect(),
            Node::Parallel { branches, .. } => branches
                .iter_mut()
                .flat_map(|(body, _)| body.iter_mut())
                .collect(),
            Node::Combinator { operands, .. } => operands.iter_mut().collect(),
            _ => Vec::new(),
        }
    }

    fn children(&self) -> Vec<&Node> {
        match self {
            Node::Child { body, .. } | Node::Map { body, .. } => body.iter().collect(),
            Node::Parallel { branches, .. } => {
                branches.iter().flat_map(|(body, _)| body.iter()).collect()
            }
            Node::Combinator { operands, .. } => operands.iter().collect(),
            _ => Vec::new(),
        }
    }

    /// Whether this subtree contains an at-most-once step (whose interrupted attempts add
    /// retry delays, so its timing depends on the faults).
    fn has_at_most_once(&self) -> bool {
        matches!(
            self,
            Node::Step {
                at_most_once: true,
                ..
            }
        ) || self.children().iter().any(|c| c.has_at_most_once())
    }
}

/// A generated workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub body: Vec<Node>,
    /// The handler returns an error after running the body.
    pub fail_at_end: bool,
    /// See [`Features::virtual_contexts`].
    pub virtual_contexts: bool,
    /// See [`Features::real_time`].
    pub real_time: bool,
}

impl Program {
    /// Whether the child context node `id` runs as a virtual context.
    pub fn is_virtual(&self, id: u32) -> bool {
        self.virtual_contexts && id % 3 == 1
    }

    /// The time every call to the service takes with [`Features::real_time`] (and its
    /// jitter): none, or 5, 15 or 40 ms (by the size of the program), so that invocations
    /// also wait briefly for operations due sooner than a new invocation would take.
    pub fn latency(&self) -> Option<(std::time::Duration, std::time::Duration)> {
        let ms = [0, 5, 15, 40][self.body.len() % 4];
        (self.real_time && ms > 0).then(|| {
            (
                std::time::Duration::from_millis(ms),
                std::time::Duration::from_millis(ms / 5),
            )
        })
    }

    /// How long the body of step node `id` takes with [`Features::real_time`]: 0 to 1.75 s,
    /// shifted by the index of the map item it runs in (`item`).
    pub fn step_time(&self, id: u32, item: usize) -> std::time::Duration {
        if self.real_time {
            // The items of a map take different times, so that an item waiting to retry
            // can fall due while another still runs (and run again in place).
            let slot = (u64::from(id) + 5 * item as u64) % 8;
            std::time::Duration::from_millis(250 * slot)
        } else {
            std::time::Duration::ZERO
        }
    }
}

/// Padding that makes a result larger than the service stores inline (256 KiB).
pub const LARGE: usize = 300 * 1024;

// ---------------------------------------------------------------------------------------
// Hashing and JSON shapes shared by the interpreter and the model.

/// FNV-1a: a stable hash (std's `DefaultHasher` is not guaranteed stable).
pub fn fnv(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0xff)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// Replaces the values the model cannot compute (replay-safe helpers, values derived from
/// them) by `null`.
pub fn masked(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    if k == "hx" || k == "helper" || k == "now" {
                        (k.clone(), Value::Null)
                    } else {
                        (k.clone(), masked(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(masked).collect()),
        other => other.clone(),
    }
}

/// Like [`masked`] for the comparison of two runs of the SDK: only `now` (whose value
/// depends on retry delays added by interrupted at-most-once attempts) is hidden.
pub fn without_now(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    if k == "now" {
                        (k.clone(), Value::Null)
                    } else {
                        (k.clone(), without_now(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_now).collect()),
        other => other.clone(),
    }
}

/// The digest after an outcome: every outcome feeds the inputs of the operations after it.
pub fn fold(digest: &str, outcome: &Value) -> String {
    fnv(&[digest, &masked(outcome).to_string()])
}

pub fn ok(id: u32, value: Value) -> Value {
    json!({ "n": id, "ok": value })
}

pub fn err(id: u32, error: Value) -> Value {
    json!({ "n": id, "err": error })
}

/// An error as the outcome shows it: the SDK's error type and the marker `<<..>>` that
/// the simulation put in the message, if any.
pub fn error_value(error_type: &str, marker: Option<&str>) -> Value {
    json!({ "e": error_type, "m": marker })
}

/// The text between `<<` and `>>` in `message`.
pub fn marker(message: &str) -> Option<String> {
    let start = message.find("<<")? + 2;
    let end = start + message[start..].find(">>")?;
    Some(message[start..end].to_string())
}

pub fn step_value(id: u32, digest: &str) -> Value {
    json!({ "s": id, "v": fnv(&[digest, &id.to_string()]), "hx": null })
}

pub fn echo(id: u32, digest: &str) -> Value {
    json!({ "echo": fnv(&[digest, "echo", &id.to_string()]) })
}

pub fn item_digest(digest: &str, id: u32, index: usize) -> String {
    fnv(&[digest, &id.to_string(), &index.to_string()])
}

// ---------------------------------------------------------------------------------------
// The model.

/// What a node is expected to produce: its outcome (as [`ok`] / [`err`] give it) and, when
/// the model knows it, how much virtual time it takes.
pub struct Expect {
    pub ok: bool,
    pub outcome: Value,
    pub time: Option<u64>,
}

/// What a batch is expected to produce.
#[derive(Debug, Clone, Copy)]
pub struct BatchExpect {
    pub reason: &'static str,
    /// Every branch finished, so every item is in the result.
    pub full: bool,
    /// When not full: the number of items of the category that decided (succeeded for
    /// `MinSuccessfulReached` / `PredicateSatisfied`, failed for
    /// `FailureToleranceExceeded`).
    pub decided: usize,
}

pub fn batch_expect(rule: &Rule, succeeded: &[bool]) -> BatchExpect {
    let n = succeeded.len();
    let s = succeeded.iter().filter(|ok| **ok).count();
    let f = n - s;
    let full = BatchExpect {
        reason: "ALL_COMPLETED",
        full: true,
        decided: 0,
    };
    if n == 0 {
        return full;
    }
    let exceeded = |decided| BatchExpect {
        reason: "FAILURE_TOLERANCE_EXCEEDED",
        full: false,
        decided,
    };
    let min = |k: usize, reason| {
        if s > k {
            BatchExpect {
                reason,
                full: false,
                decided: k,
            }
        } else {
            // s < k, or s == k with nothing failing (normalize rules out s == k with
            // failures, whose reason depends on the order of completion).
            full
        }
    };
    match rule {
        Rule::Default | Rule::AllSuccessful => {
            if f == 0 {
                full
            } else {
                exceeded(1)
            }
        }
        Rule::AllCompleted => full,
        Rule::FirstSuccessful => min(1, "MIN_SUCCESSFUL_REACHED"),
        Rule::MinSuccessful(k) => min(*k, "MIN_SUCCESSFUL_REACHED"),
        Rule::When(k) => min(*k, "PREDICATE_SATISFIED"),
        Rule::ToleratedCount(t) => {
            if f <= *t {
                full
            } else {
                exceeded(t + 1)
            }
        }
        Rule::ToleratedPercentage(p) => {
            let first = (1..=n).find(|k| (*k as f64 / n as f64) * 100.0 > f64::from(*p));
            match first {
                Some(k) if f >= k => exceeded(k),
                _ => full,
            }
        }
    }
}

/// The expected outcome of running `nodes` in sequence from `digest`: the outcomes and
/// the digest after them.
pub fn expect_seq(nodes: &[Node], digest: &str) -> (Vec<Value>, String, Option<u64>) {
    let mut digest = digest.to_string();
    let mut outcomes = Vec::new();
    let mut time = Some(0u64);
    for node in nodes {
        let e = expect_node(node, &digest);
        digest = fold(&digest, &e.outcome);
        time = match (time, e.time) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        outcomes.push(e.outcome);
    }
    (outcomes, digest, time)
}

/// The value of a child context / branch body: its outcomes, and the size of its padding.
pub fn body_value(outcomes: Vec<Value>, large: bool) -> Value {
    json!({ "out": outcomes, "pad": if large { LARGE } else { 0 } })
}

/// The expected outcome of one branch of a batch.
pub fn expect_branch(
    body: &[Node],
    digest: &str,
    fail: bool,
    marker: &str,
    pad: usize,
) -> Result<Value, Value> {
    let (outcomes, _, _) = expect_seq(body, digest);
    if fail {
        Err(json!({ "m": marker }))
    } else {
        Ok(json!({ "out": outcomes, "pad": pad }))
    }
}

/// Padding of each item of a batch of `count` items whose result must be large.
pub fn item_pad(large: bool, count: usize) -> usize {
    if large {
        LARGE / count.max(1) + 1024
    } else {
        0
    }
}

/// The expected branches of a batch node, in index order (value or error marker).
pub fn expect_branches(node: &Node, digest: &str) -> Vec<Result<Value, Value>> {
    match node {
        Node::Map {
            id,
            items,
            body,
            fail_mask,
            large,
            ..
        } => (0..*items)
            .map(|i| {
                expect_branch(
                    body,
                    &item_digest(digest, *id, i),
                    fail_mask & (1 << i) != 0,
                    &format!("n{id} i{i}"),
                    item_pad(*large, *items),
                )
            })
            .collect(),
        Node::Parallel {
            id,
            branches,
            large,
            ..
        } => branches
            .iter()
            .enumerate()
            .map(|(i, (body, fail))| {
                expect_branch(
                    body,
                    &item_digest(digest, *id, i),
                    *fail,
                    &format!("n{id} b{i}"),
                    item_pad(*large, branches.len()),
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The outcome shape of a batch, from its expected branches.
pub fn batch_outcome(
    rule: &Rule,
    branches: &[Result<Value, Value>],
    consistent: bool,
    actual_decided: Option<usize>,
) -> Value {
    let plan = batch_expect(
        rule,
        &branches.iter().map(Result::is_ok).collect::<Vec<_>>(),
    );
    if plan.full {
        let items: Vec<Value> = branches
            .iter()
            .enumerate()
            .map(|(i, b)| match b {
                Ok(v) => json!({ "i": i, "ok": v }),
                Err(e) => json!({ "i": i, "err": e }),
            })
            .collect();
        json!({ "reason": plan.reason, "items": items })
    } else {
        json!({
            "reason": plan.reason,
            "decided": actual_decided.unwrap_or(plan.decided),
            "consistent": consistent,
        })
    }
}

pub fn expect_node(node: &Node, digest: &str) -> Expect {
    let sum = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        _ => None,
    };
    match node {
        Node::Step {
            id,
            fails,
            retry,
            at_most_once,
            large,
            panics,
            ..
        } => {
            let max = retry.max_attempts();
            let ok_ = *fails < max;
            let failed_attempts = if ok_ { *fails } else { max - 1 };
            let time = if *at_most_once {
                None
            } else {
                (1..=failed_attempts).try_fold(0u64, |acc, n| retry.delay_after(n).map(|d| acc + d))
            };
            let outcome = if ok_ {
                let mut value = step_value(*id, digest);
                if *large {
                    value["pad"] = json!(LARGE);
                }
                ok(*id, value)
            } else {
                err(
                    *id,
                    // The body panics on its first attempt (when `panics`), so a step
                    // whose last attempt is its first fails with the panic's message.
                    error_value(
                        "StepError",
                        Some(&if *panics && max == 1 {
                            format!("n{id} panic")
                        } else {
                            format!("n{id} a{max}")
                        }),
                    ),
                )
            };
            Expect {
                ok: ok_,
                outcome,
                time,
            }
        }
        Node::Wait { id, seconds } => Expect {
            ok: true,
            outcome: ok(*id, Value::Null),
            time: Some(*seconds),
        },
        Node::Callback {
            id,
            answer,
            submitter_fails,
        } => {
            let submit = submitter_fails.map_or(0, u64::from);
            let (ok_, outcome, t) = match answer {
                Answer::Success { after } => (true, ok(*id, json!({ "cb": id })), *after),
                Answer::Failure { after } => (
                    false,
                    err(
                        *id,
                        error_value("CallbackError", Some(&format!("cb n{id}"))),
                    ),
                    *after,
                ),
                Answer::Timeout { timeout } => (
                    false,
                    err(*id, error_value("CallbackTimeoutError", None)),
                    *timeout,
                ),
                Answer::HeartbeatTimeout { after } => (
                    false,
                    err(*id, error_value("CallbackTimeoutError", None)),
                    *after,
                ),
                Answer::Heartbeated { after, .. } => (true, ok(*id, json!({ "cb": id })), *after),
                Answer::HeartbeatsStop {
                    timeout,
                    every,
                    stop,
                } => {
                    // Heartbeats at every, 2 * every, .. strictly before `stop`; each one
                    // is in time (every <= timeout), so the last one decides.
                    let last = if *stop > *every {
                        (stop - 1) / every * every
                    } else {
                        0
                    };
                    (
                        false,
                        err(*id, error_value("CallbackTimeoutError", None)),
                        last + timeout,
                    )
                }
            };
            // The answer (or the timeout) counts from the callback's start, not from the
            // submitter's success: the callback can be completed while the submitter still
            // retries, and the operation ends when both are done.
            Expect {
                ok: ok_,
                outcome,
                time: Some(submit.max(t)),
            }
        }
        Node::Invoke {
            id,
            durable,
            wait,
            fail,
        } => {
            let outcome = if *fail {
                err(*id, error_value("InvokeError", Some(&format!("inv n{id}"))))
            } else {
                ok(*id, echo(*id, digest))
            };
            Expect {
                ok: !fail,
                outcome,
                time: Some(if *durable { *wait } else { 0 }),
            }
        }
        Node::Child {
            id,
            body,
            large,
            fail,
        } => {
            let child_digest = item_digest(digest, *id, 0);
            let (outcomes, _, time) = expect_seq(body, &child_digest);
            let outcome = if *fail {
                err(
                    *id,
                    error_value("ChildContextError", Some(&format!("n{id} child"))),
                )
            } else {
                ok(*id, body_value(outcomes, *large))
            };
            Expect {
                ok: !fail,
                outcome,
                time: if body.iter().any(Node::has_at_most_once) {
                    None
                } else {
                    time
                },
            }
        }
        Node::Map { id, rule, .. } | Node::Parallel { id, rule, .. } => {
            let branches = expect_branches(node, digest);
            Expect {
                ok: true,
                outcome: ok(*id, batch_outcome(rule, &branches, true, None)),
                time: None,
            }
        }
        Node::Combinator {
            id, kind, operands, ..
        } => {
            let expects: Vec<Expect> = operands.iter().map(|o| expect_node(o, digest)).collect();
            let outcome = match kind {
                Comb::AllSettled => ok(
                    *id,
                    Value::Array(expects.iter().map(|e| e.outcome.clone()).collect()),
                ),
                Comb::All => match first_by_time(&expects, false) {
                    Some(i) => err(*id, expects[i].outcome["err"].clone()),
                    None => ok(
                        *id,
                        Value::Array(expects.iter().map(|e| e.outcome["ok"].clone()).collect()),
                    ),
                },
                Comb::Any => match first_by_time(&expects, true) {
                    Some(i) => ok(*id, expects[i].outcome["ok"].clone()),
                    None => {
                        let first = &expects[0].outcome["err"];
                        err(*id, error_value("CombinatorError", first["m"].as_str()))
                    }
                },
                Comb::Race => {
                    let i = (0..expects.len())
                        .min_by_key(|i| expects[*i].time.unwrap_or(u64::MAX))
                        .unwrap_or(0);
                    let o = &expects[i].outcome;
                    if o.get("ok").is_some() {
                        ok(*id, o["ok"].clone())
                    } else {
                        err(*id, o["err"].clone())
                    }
                }
            };
            let ok_ = outcome.get("ok").is_some();
            let _ = sum;
            Expect {
                ok: ok_,
                outcome,
                time: None,
            }
        }
        Node::Condition {
            id,
            polls,
            delay,
            max_attempts,
        } => {
            if polls <= max_attempts {
                Expect {
                    ok: true,
                    outcome: ok(
                        *id,
                        json!({ "polls": polls, "h": fnv(&[digest, "cond", &id.to_string()]) }),
                    ),
                    time: Some(u64::from(polls - 1) * delay),
                }
            } else {
                Expect {
                    ok: false,
                    outcome: err(*id, error_value("WaitForConditionError", None)),
                    time: Some(u64::from(max_attempts - 1) * delay),
                }
            }
        }
        Node::Helper { id, kind } => Expect {
            ok: true,
            outcome: ok(
                *id,
                match kind {
                    HelperKind::Now => json!({ "now": null }),
                    _ => json!({ "helper": null }),
                },
            ),
            time: Some(0),
        },
    }
}

/// The operand that finishes first among those that succeed (`successes`) or fail, if
/// there is one.
fn first_by_time(expects: &[Expect], successes: bool) -> Option<usize> {
    (0..expects.len())
        .filter(|i| expects[*i].ok == successes)
        .min_by_key(|i| expects[*i].time.unwrap_or(u64::MAX))
}

/// The expected final status and result (masked) or error marker of the program.
pub fn expect_program(program: &Program) -> (&'static str, Value) {
    let (outcomes, digest, _) = expect_seq(&program.body, "root");
    if program.fail_at_end {
        ("FAILED", json!({ "m": format!("handler {digest}") }))
    } else {
        ("SUCCEEDED", json!({ "out": outcomes }))
    }
}

// ---------------------------------------------------------------------------------------
// Normalization: rules that keep the expected result independent of timing and faults.

/// Numbers the nodes, and rewrites the shapes whose outcome would depend on the order in
/// which concurrent work finishes (the SDK is allowed to differ there between a run and
/// its replay with faults), so that the model's expectation is exact.
pub fn normalize(mut program: Program, features: &Features) -> Program {
    let mut next = 1;
    for node in &mut program.body {
        normalize_node(node, features, &mut next);
    }
    program
}

fn normalize_node(node: &mut Node, features: &Features, next: &mut u32) {
    // Operands that are not single operations: only an async block can run them.
    if let Node::Combinator {
        operands,
        async_blocks: false,
        ..
    } = node
    {
        for operand in operands.iter_mut() {
            if matches!(operand, Node::Combinator { .. } | Node::Helper { .. }) {
                let inner = std::mem::replace(operand, Node::Wait { id: 0, seconds: 1 });
                *operand = Node::Child {
                    id: 0,
                    body: vec![inner],
                    large: false,
                    fail: false,
                };
            }
        }
    }
    let id = *next;
    *next += 1;
    match node {
        Node::Step {
            id: slot,
            fails,
            retry,
            at_most_once,
            ..
        } => {
            *slot = id;
            if *at_most_once {
                // An attempt interrupted by a crash counts as failed: leave room for
                // every crash the fault plan can inject, so the step still succeeds.
                *retry = Retry::Fixed {
                    delay: 1,
                    max: *fails + 2 + crate::faults::MAX_CRASHES,
                };
            }
        }
        Node::Wait { id: slot, .. }
        | Node::Callback { id: slot, .. }
        | Node::Invoke { id: slot, .. }
        | Node::Child { id: slot, .. }
        | Node::Condition { id: slot, .. }
        | Node::Helper { id: slot, .. } => *slot = id,
        Node::Map { id: slot, .. }
        | Node::Parallel { id: slot, .. }
        | Node::Combinator { id: slot, .. } => *slot = id,
    }
    if let Node::Helper { kind, .. } = node {
        if *kind == HelperKind::Now && !features.now_at_root {
            *kind = HelperKind::Random;
        }
    }
    for child in node.children_mut() {
        normalize_node(child, features, next);
    }
    // Inside nested contexts `now` is a separate feature.
    if !features.now_in_child {
        for child in node.children_mut() {
            replace_now(child);
        }
    }
    match node {
        Node::Map {
            items,
            fail_mask,
            rule,
            concurrency,
            ..
        } => {
            *fail_mask &= (1u32 << *items) - 1;
            let ok: Vec<bool> = (0..*items).map(|i| *fail_mask & (1 << i) == 0).collect();
            fix_rule(rule, &ok, features);
            *concurrency = concurrency.map(|c| c.max(1));
        }
        Node::Parallel {
            branches,
            rule,
            concurrency,
            ..
        } => {
            let ok: Vec<bool> = branches.iter().map(|(_, fail)| !fail).collect();
            fix_rule(rule, &ok, features);
            *concurrency = concurrency.map(|c| c.max(1));
        }
        Node::Combinator { kind, operands, .. } => {
            // Which operand finishes first decides any / race / all (on failure): the
            // model only knows it when the times are known and distinct.
            let expects: Vec<Expect> = operands.iter().map(|o| expect_node(o, "x")).collect();
            let decisive: Vec<&Expect> = match kind {
                Comb::AllSettled => Vec::new(),
                Comb::All => expects.iter().filter(|e| !e.ok).collect(),
                Comb::Any => expects.iter().filter(|e| e.ok).collect(),
                Comb::Race => expects.iter().collect(),
            };
            let mut times: Vec<Option<u64>> = decisive.iter().map(|e| e.time).collect();
            let known = times.iter().all(Option::is_some);
            times.sort();
            let distinct = times.windows(2).all(|w| w[0] != w[1]);
            if !known || !distinct || operands.is_empty() {
                *kind = Comb::AllSettled;
            }
        }
        _ => {}
    }
}

fn replace_now(node: &mut Node) {
    if let Node::Helper { kind, .. } = node {
        if *kind == HelperKind::Now {
            *kind = HelperKind::Uuid;
        }
    }
    for child in node.children_mut() {
        replace_now(child);
    }
}

/// Makes a completion rule valid for the batch and its outcome independent of the order
/// in which branches finish.
fn fix_rule(rule: &mut Rule, ok: &[bool], features: &Features) {
    let n = ok.len();
    let s = ok.iter().filter(|b| **b).count();
    let f = n - s;
    if !features.early_completion {
        *rule = Rule::AllCompleted;
        return;
    }
    match rule {
        Rule::FirstSuccessful | Rule::MinSuccessful(_) | Rule::When(_) => {
            let k = match rule {
                Rule::FirstSuccessful => 1,
                Rule::MinSuccessful(k) | Rule::When(k) => *k,
                _ => 1,
            };
            if n == 0 || k == 0 || k > n || (k == s && f > 0) {
                *rule = Rule::AllCompleted;
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// Strategies.

fn retry_strategy(features: Features) -> BoxedStrategy<Retry> {
    if !features.retries {
        return Just(Retry::None).boxed();
    }
    // In real time, retries due within a step's time are common: they resume in place
    // (a map item runs again) while other work still runs.
    let short = if features.real_time { 4 } else { 0 };
    prop_oneof![
        short => (1u64..=2, 1u32..=3).prop_map(|(delay, max)| Retry::Fixed { delay, max }),
        1 => Just(Retry::Default),
        2 => Just(Retry::None),
        3 => (1u64..=20, 1u32..=4).prop_map(|(delay, max)| Retry::Fixed { delay, max }),
        2 => (1u64..=5, 1u32..=4, 5u64..=40).prop_map(|(initial, max, cap)| Retry::Exponential { initial, max, cap }),
        2 => (1u64..=7, 1u32..=4).prop_map(|(delay, max)| Retry::Custom { delay, max }),
    ]
    .boxed()
}

fn weighted(options: Vec<(u32, BoxedStrategy<Node>)>) -> BoxedStrategy<Node> {
    let options: Vec<(u32, BoxedStrategy<Node>)> =
        options.into_iter().filter(|(w, _)| *w > 0).collect();
    Union::new_weighted(options).boxed()
}

fn on(flag: bool, weight: u32) -> u32 {
    if flag {
        weight
    } else {
        0
    }
}

fn leaf_strategy(f: Features) -> BoxedStrategy<Node> {
    let step = (
        0u32..=3,
        retry_strategy(f),
        proptest::bool::weighted(if f.at_most_once { 0.25 } else { 0.0 }),
        proptest::bool::weighted(if f.panics { 0.2 } else { 0.0 }),
        proptest::bool::weighted(if f.large_step_payloads { 0.05 } else { 0.0 }),
        proptest::bool::weighted(if f.large_errors { 0.05 } else { 0.0 }),
    )
        .prop_map(
            move |(fails, retry, at_most_once, panics, large, large_error)| {
                let fails = if f.retries { fails } else { 0 };
                Node::Step {
                    id: 0,
                    fails,
                    retry,
                    at_most_once,
                    // A panicking attempt must be followed by a successful one.
                    panics: panics && fails > 0,
                    large,
                    large_error: large_error && fails > 0,
                }
            },
        )
        .boxed();
    let wait = (1u64..=300)
        .prop_map(|seconds| Node::Wait { id: 0, seconds })
        .boxed();
    let answer = if f.heartbeats {
        prop_oneof![
            3 => (0u64..=120).prop_map(|after| Answer::Success { after }),
            1 => (0u64..=120).prop_map(|after| Answer::Failure { after }),
            1 => (1u64..=600).prop_map(|timeout| Answer::Timeout { timeout }),
            1 => (1u64..=600).prop_map(|after| Answer::HeartbeatTimeout { after }),
            2 => (1u64..=100, any::<u64>(), any::<u64>()).prop_map(|(timeout, every, after)| {
                Answer::Heartbeated {
                    timeout,
                    every: 1 + every % timeout,
                    after: timeout + 1 + after % (3 * timeout),
                }
            }),
            1 => (1u64..=100, any::<u64>(), any::<u64>()).prop_map(|(timeout, every, stop)| {
                Answer::HeartbeatsStop {
                    timeout,
                    every: 1 + every % timeout,
                    stop: stop % (3 * timeout),
                }
            }),
        ]
        .boxed()
    } else {
        prop_oneof![
            3 => (0u64..=120).prop_map(|after| Answer::Success { after }),
            1 => (0u64..=120).prop_map(|after| Answer::Failure { after }),
            1 => (1u64..=600).prop_map(|timeout| Answer::Timeout { timeout }),
            1 => (1u64..=600).prop_map(|after| Answer::HeartbeatTimeout { after }),
        ]
        .boxed()
    };
    let callback = (answer, 0u32..=2, any::<bool>())
        .prop_map(move |(answer, fails, wait_for)| Node::Callback {
            id: 0,
            answer,
            submitter_fails: if f.wait_for_callback && (wait_for || !f.callbacks) {
                Some(if f.retries { fails } else { 0 })
            } else {
                None
            },
        })
        .boxed();
    let invoke = (any::<bool>(), 0u64..=100, proptest::bool::weighted(0.25))
        .prop_map(|(durable, wait, fail)| Node::Invoke {
            id: 0,
            durable,
            wait: if durable { wait } else { 0 },
            fail,
        })
        .boxed();
    let condition = (1u32..=4, 1u64..=30, 1u32..=5)
        .prop_map(|(polls, delay, max_attempts)| Node::Condition {
            id: 0,
            polls,
            delay,
            max_attempts,
        })
        .boxed();
    let helper = prop_oneof![
        Just(HelperKind::Uuid),
        Just(HelperKind::Random),
        Just(HelperKind::Now)
    ]
    .prop_map(|kind| Node::Helper { id: 0, kind })
    .boxed();
    weighted(vec![
        (6, step),
        (on(f.waits, 2), wait),
        (on(f.callbacks || f.wait_for_callback, 2), callback),
        (on(f.invokes, 2), invoke),
        (on(f.wait_for_condition, 1), condition),
        (on(f.helpers, 1), helper),
    ])
}

fn rule_strategy() -> BoxedStrategy<Rule> {
    prop_oneof![
        Just(Rule::Default),
        Just(Rule::AllSuccessful),
        Just(Rule::AllCompleted),
        Just(Rule::FirstSuccessful),
        (1usize..=3).prop_map(Rule::MinSuccessful),
        (0usize..=2).prop_map(Rule::ToleratedCount),
        (0u32..=100).prop_map(Rule::ToleratedPercentage),
        (1usize..=3).prop_map(Rule::When),
    ]
    .boxed()
}

pub fn node_strategy(f: Features) -> BoxedStrategy<Node> {
    leaf_strategy(f)
        .prop_recursive(3, 28, 4, move |inner| {
            let body = proptest::collection::vec(inner.clone(), 0..4);
            let child = (
                body.clone(),
                proptest::bool::weighted(if f.large_child_results { 0.1 } else { 0.0 }),
                proptest::bool::weighted(0.15),
            )
                .prop_map(|(body, large, fail)| Node::Child {
                    id: 0,
                    body,
                    large,
                    fail,
                })
                .boxed();
            let large_batch = f.large_nested_batches || f.large_flat_batches;
            let nesting = move |flat: bool, large: bool| -> (bool, bool) {
                let flat = flat && f.flat_nesting;
                let large =
                    large && ((flat && f.large_flat_batches) || (!flat && f.large_nested_batches));
                (flat, large)
            };
            let map = (
                0usize..=4,
                proptest::collection::vec(inner.clone(), 0..3),
                any::<u32>(),
                proptest::option::of(1usize..=3),
                rule_strategy(),
                any::<bool>(),
                proptest::bool::weighted(if large_batch { 0.08 } else { 0.0 }),
            )
                .prop_map(move |(items, body, mask, concurrency, rule, flat, large)| {
                    let (flat, large) = nesting(flat, large);
                    Node::Map {
                        id: 0,
                        items,
                        body,
                        // About one item in four fails.
                        fail_mask: mask & (mask >> 8),
                        concurrency,
                        rule,
                        flat,
                        large,
                    }
                })
                .boxed();
            let parallel = (
                proptest::collection::vec(
                    (
                        proptest::collection::vec(inner.clone(), 0..3),
                        proptest::bool::weighted(0.25),
                    ),
                    0..4,
                ),
                proptest::option::of(1usize..=3),
                rule_strategy(),
                any::<bool>(),
                proptest::bool::weighted(if large_batch { 0.08 } else { 0.0 }),
            )
                .prop_map(move |(branches, concurrency, rule, flat, large)| {
                    let (flat, large) = nesting(flat, large);
                    Node::Parallel {
                        id: 0,
                        branches,
                        concurrency,
                        rule,
                        flat,
                        large,
                    }
                })
                .boxed();
            let combinator = (
                prop_oneof![
                    Just(Comb::All),
                    Just(Comb::AllSettled),
                    Just(Comb::Any),
                    Just(Comb::Race)
                ],
                proptest::collection::vec(inner, 1..4),
                proptest::bool::weighted(if f.combinator_async_blocks { 0.5 } else { 0.0 }),
            )
                .prop_map(|(kind, operands, async_blocks)| Node::Combinator {
                    id: 0,
                    kind,
                    operands,
                    async_blocks,
                })
                .boxed();
            weighted(vec![
                (on(f.child_contexts, 3), child),
                (on(f.map, 2), map),
                (on(f.parallel, 2), parallel),
                (on(f.combinators, 2), combinator),
            ])
        })
        .boxed()
}

pub fn program_strategy(f: Features) -> BoxedStrategy<Program> {
    (
        proptest::collection::vec(node_strategy(f), 1..7),
        proptest::bool::weighted(if f.handler_failure { 0.1 } else { 0.0 }),
    )
        .prop_map(move |(body, fail_at_end)| {
            normalize(
                Program {
                    body,
                    fail_at_end,
                    virtual_contexts: f.virtual_contexts,
                    // Only on a paused clock: in real time the runs would take seconds.
                    real_time: f.real_time && f.paused_clock,
                },
                &f,
            )
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------
// Printing.

/// The program as an indented outline, one node a line.
pub fn describe(program: &Program) -> String {
    let mut out = String::new();
    if program.fail_at_end {
        out.push_str("(the handler fails at the end)\n");
    }
    for node in &program.body {
        describe_node(node, 0, &mut out);
    }
    out
}

fn describe_node(node: &Node, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    let line = match node {
        Node::Child { id, large, fail, .. } => format!("n{id} child large={large} fail={fail}"),
        Node::Map {
            id,
            items,
            fail_mask,
            concurrency,
            rule,
            flat,
            large,
            ..
        } => format!(
            "n{id} map items={items} fail_mask={fail_mask:#b} concurrency={concurrency:?} rule={rule:?} flat={flat} large={large}"
        ),
        Node::Parallel {
            id,
            concurrency,
            rule,
            flat,
            large,
            ..
        } => format!("n{id} parallel concurrency={concurrency:?} rule={rule:?} flat={flat} large={large}"),
        Node::Combinator {
            id,
            kind,
            async_blocks,
            ..
        } => format!("n{id} {kind:?} async_blocks={async_blocks}"),
        other => format!("{other:?}"),
    };
    let _ = writeln!(out, "{pad}{line}");
    match node {
        Node::Parallel { branches, .. } => {
            for (i, (body, fail)) in branches.iter().enumerate() {
                let _ = writeln!(out, "{pad}  branch {i} fail={fail}");
                for child in body {
                    describe_node(child, depth + 2, out);
                }
            }
        }
        _ => {
            for child in node.children() {
                describe_node(child, depth + 1, out);
            }
        }
    }
}

/// Counts the nodes of a program.
pub fn size(program: &Program) -> usize {
    fn count(node: &Node) -> usize {
        1 + node.children().iter().map(|c| count(c)).sum::<usize>()
    }
    program.body.iter().map(count).sum()
}
