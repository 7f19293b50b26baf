//! Durable handlers for the end-to-end tests against AWS's local durable-execution emulator
//! (PyPI `aws-durable-execution-sdk-python-testing`, command `dex-local-runner`).
//!
//! The binary of this crate is deployed the way Lambda runs a function: one process per
//! function, started with `AWS_LAMBDA_RUNTIME_API` and `AWS_LAMBDA_FUNCTION_NAME` in its
//! environment, serving that function's handler through [`lambda_durable::run`] (or, for the
//! plain function, [`lambda_runtime::run`]). The SDK inside reaches the durable-execution API
//! through `aws-sdk-lambda`, pointed at the emulator with `AWS_ENDPOINT_URL_LAMBDA`.
//!
//! Each handler is a public function so that the tests can also run it on the SDK's local
//! runner and compare the two.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use lambda_durable::retry::{FixedDelay, NoRetry};
use lambda_durable::{branch, DurableContext, Error, StepContext};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The error type of `main`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Function name of [`steps_retry`].
pub const STEPS_RETRY: &str = "steps-retry";
/// Function name of [`wait_resume`].
pub const WAIT_RESUME: &str = "wait-resume";
/// Function name of [`failing`].
pub const FAILING: &str = "failing";
/// Function name of [`callbacks`].
pub const CALLBACKS: &str = "callbacks";
/// Function name of [`invoke_parent`].
pub const INVOKE_PARENT: &str = "invoke-parent";
/// Function name of [`invoke_child`].
pub const INVOKE_CHILD: &str = "invoke-child";
/// Function name of [`child_context`].
pub const CHILD_CONTEXT: &str = "child-context";
/// Function name of [`map_items`].
pub const MAP_ITEMS: &str = "map-items";
/// Function name of [`parallel_branches`].
pub const PARALLEL_BRANCHES: &str = "parallel-branches";
/// Function name of [`wait_beside_step`].
pub const WAIT_BESIDE_STEP: &str = "wait-beside-step";
/// Function name of [`plain_double`] (a function without durable execution).
pub const PLAIN_DOUBLE: &str = "plain-double";

/// Serves the function called `name` on the Lambda runtime API until the runtime API goes
/// away.
///
/// # Errors
///
/// An unknown function name, or the errors of the Lambda runtime (the runtime API cannot be
/// reached).
pub async fn serve(name: &str) -> Result<(), BoxError> {
    match name {
        STEPS_RETRY => lambda_durable::run(steps_retry).await,
        WAIT_RESUME => lambda_durable::run(wait_resume).await,
        FAILING => lambda_durable::run(failing).await,
        CALLBACKS => lambda_durable::run(callbacks).await,
        INVOKE_PARENT => lambda_durable::run(invoke_parent).await,
        INVOKE_CHILD => lambda_durable::run(invoke_child).await,
        CHILD_CONTEXT => lambda_durable::run(child_context).await,
        MAP_ITEMS => lambda_durable::run(map_items).await,
        PARALLEL_BRANCHES => lambda_durable::run(parallel_branches).await,
        WAIT_BESIDE_STEP => lambda_durable::run(wait_beside_step).await,
        PLAIN_DOUBLE => lambda_runtime::run(lambda_runtime::service_fn(plain_double)).await,
        other => Err(format!("no function is called {other:?}").into()),
    }
}

/// The event of the order workflows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Order {
    /// Order id.
    pub id: String,
}

/// What [`steps_retry`] returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charged {
    /// The validated order id.
    pub order: String,
    /// The charge id.
    pub charge: String,
    /// The attempt of the charge step that succeeded.
    pub attempt: u32,
}

/// The payment gateway did not answer.
#[derive(Debug, thiserror::Error)]
#[error("payment gateway timed out on attempt {0}")]
pub struct GatewayTimeout(pub u32);

/// The card was declined.
#[derive(Debug, thiserror::Error)]
#[error("card declined for order {0}")]
pub struct CardDeclined(pub String);

/// Two steps; the second fails on its first two attempts and is retried after 2 s each
/// time, so the execution suspends and is invoked again twice.
///
/// # Errors
///
/// [`Error::StepFailed`] if the charge keeps failing (it does not).
pub async fn steps_retry(order: Order, ctx: DurableContext) -> Result<Charged, Error> {
    let id = order.id;
    let order = ctx
        .step("validate", |_| async move {
            Ok::<_, GatewayTimeout>(format!("valid-{id}"))
        })
        .await?;
    let for_charge = order.clone();
    let (charge, attempt) = ctx
        .step("charge", move |step: StepContext| async move {
            if step.attempt() < 3 {
                return Err(GatewayTimeout(step.attempt()));
            }
            Ok((format!("ch-{for_charge}"), step.attempt()))
        })
        .retry(FixedDelay::new(Duration::from_secs(2)).max_attempts(3))
        .await?;
    Ok(Charged {
        order,
        charge,
        attempt,
    })
}

/// How many times the body of [`wait_resume`]'s first step ran in this process.
static BEFORE_RUNS: AtomicU32 = AtomicU32::new(0);

/// What [`wait_resume`] returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waited {
    /// The first step's result.
    pub before: String,
    /// How many times the first step's body had run in this process when the last step
    /// ran: 1, since the replay after the wait returns its recorded result.
    pub before_runs: u32,
}

/// A step, a 2 s wait (the invocation suspends; the emulator invokes the function again when
/// the timer fires), then a step.
///
/// # Errors
///
/// [`Error::Checkpoint`] when the service rejects a checkpoint.
pub async fn wait_resume(input: Value, ctx: DurableContext) -> Result<Waited, Error> {
    let label = input
        .get("label")
        .and_then(Value::as_str)
        .unwrap_or("none")
        .to_string();
    let before = ctx
        .step("before", |_| async move {
            BEFORE_RUNS.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::io::Error>(format!("before-{label}"))
        })
        .await?;
    ctx.wait("pause", Duration::from_secs(2)).await?;
    let before_runs = ctx
        .step("after", |_| async {
            Ok::<_, std::io::Error>(BEFORE_RUNS.load(Ordering::SeqCst))
        })
        .await?;
    Ok(Waited {
        before,
        before_runs,
    })
}

/// A step that succeeds, then a step that fails without retry: the execution fails with the
/// step's error.
///
/// # Errors
///
/// Always [`Error::StepFailed`], carrying [`CardDeclined`].
pub async fn failing(order: Order, ctx: DurableContext) -> Result<Charged, Error> {
    let id = order.id;
    let reserved = ctx
        .step("reserve", |_| async move {
            Ok::<_, std::io::Error>(format!("reserved-{id}"))
        })
        .await?;
    let declined = reserved.clone();
    let charge = ctx
        .step("charge", |_| async move {
            Err::<String, _>(CardDeclined(declined))
        })
        .retry(NoRetry)
        .await?;
    Ok(Charged {
        order: reserved,
        charge,
        attempt: 1,
    })
}

/// An approval sent through a callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Whether the order is approved.
    pub approved: bool,
    /// Who decided.
    pub by: String,
}

/// What [`callbacks`] returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackResults {
    /// The result of the `approval` callback.
    pub approval: Approval,
    /// The result of the `signature` wait-for-callback.
    pub signature: String,
    /// What the submitter of `signature` was given: the callback id's length.
    pub submitted: usize,
    /// The error of the `veto` callback, which the external system fails: `type: message`.
    pub veto: String,
}

/// Three callbacks, completed by the test through the emulator's callback API:
/// `approval` ([`DurableContext::create_callback`], completed with a JSON result),
/// `signature` ([`DurableContext::wait_for_callback`], heartbeated then completed) and
/// `veto` (failed by the external system; the handler catches [`Error::CallbackFailed`]).
///
/// # Errors
///
/// A callback that times out (after 60 s) or cannot be created.
pub async fn callbacks(order: Order, ctx: DurableContext) -> Result<CallbackResults, Error> {
    let approval = ctx
        .create_callback::<Approval>("approval")
        .timeout(Duration::from_secs(60))
        .await?;
    let approval_id = approval.id().to_string();
    ctx.step("request approval", |_| async move {
        Ok::<_, std::io::Error>(format!("asked for {approval_id}"))
    })
    .await?;
    let approval = approval.result().await?;

    let id = order.id;
    let submitted = ctx
        .step("prepare signature", |_| async move {
            Ok::<_, std::io::Error>(id)
        })
        .await?
        .len();
    let signature = ctx
        .wait_for_callback::<String, _, _>("signature", |callback_id, _step| async move {
            if callback_id.is_empty() {
                return Err(std::io::Error::other("no callback id"));
            }
            Ok(())
        })
        .timeout(Duration::from_secs(60))
        .heartbeat_timeout(Duration::from_secs(30))
        .await?;

    let veto = ctx
        .create_callback::<Approval>("veto")
        .timeout(Duration::from_secs(60))
        .await?;
    let veto = match veto.result().await {
        Ok(approval) => format!("unexpected success: {approval:?}"),
        Err(Error::CallbackFailed { error, .. }) => format!(
            "{}: {}",
            error.error_type.as_deref().unwrap_or("?"),
            error.error_message.as_deref().unwrap_or("?")
        ),
        Err(other) => return Err(other),
    };
    Ok(CallbackResults {
        approval,
        signature,
        submitted,
        veto,
    })
}

/// What [`invoke_parent`] returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvokeResults {
    /// The durable child's result.
    pub child: ChildResult,
    /// The plain function's result.
    pub doubled: Value,
    /// The error of invoking [`failing`]: `type: message`.
    pub failed: String,
}

/// What [`invoke_child`] returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildResult {
    /// The parent's payload, echoed.
    pub got: Value,
    /// The child's step result.
    pub computed: String,
}

/// Chained invokes: the durable [`invoke_child`] (the emulator starts a child execution),
/// the plain [`plain_double`], and the durable [`failing`] (whose failure is caught as
/// [`Error::InvokeFailed`]).
///
/// # Errors
///
/// An invoke that times out or is stopped.
pub async fn invoke_parent(order: Order, ctx: DurableContext) -> Result<InvokeResults, Error> {
    let child = ctx
        .invoke::<ChildResult>(
            "call child",
            INVOKE_CHILD,
            serde_json::json!({"order": order.id}),
        )
        .await?;
    let doubled = ctx
        .invoke::<Value>("call plain", PLAIN_DOUBLE, serde_json::json!({"n": 21}))
        .await?;
    let failed = match ctx
        .invoke::<Charged>("call failing", FAILING, Order { id: order.id })
        .await
    {
        Ok(charged) => format!("unexpected success: {charged:?}"),
        Err(Error::InvokeFailed { error, .. }) => format!(
            "{}: {}",
            error.error_type.as_deref().unwrap_or("?"),
            error.error_message.as_deref().unwrap_or("?")
        ),
        Err(other) => return Err(other),
    };
    Ok(InvokeResults {
        child,
        doubled,
        failed,
    })
}

/// The durable function [`invoke_parent`] invokes: one step.
///
/// # Errors
///
/// [`Error::Checkpoint`] when the service rejects a checkpoint.
pub async fn invoke_child(input: Value, ctx: DurableContext) -> Result<ChildResult, Error> {
    let order = input
        .get("order")
        .and_then(Value::as_str)
        .unwrap_or("none")
        .to_string();
    let computed = ctx
        .step("compute", |_| async move {
            Ok::<_, std::io::Error>(format!("computed-{order}"))
        })
        .await?;
    Ok(ChildResult {
        got: input,
        computed,
    })
}

/// A child context holding a step, a 2 s wait and a step (the execution suspends inside
/// the child), then a step at the top level.
///
/// # Errors
///
/// [`Error::Checkpoint`] when the service rejects a checkpoint.
pub async fn child_context(order: Order, ctx: DurableContext) -> Result<Vec<String>, Error> {
    let id = order.id;
    let (first, second) = ctx
        .run_in_child_context("group", |child: DurableContext| async move {
            let first = child
                .step("first", |_| async move {
                    Ok::<_, std::io::Error>(format!("first-{id}"))
                })
                .await?;
            child.wait("nap", Duration::from_secs(2)).await?;
            let second = child
                .step("second", |_| async {
                    Ok::<_, std::io::Error>("second".to_string())
                })
                .await?;
            Ok::<_, Error>((first, second))
        })
        .await?;
    let last = ctx
        .step("after group", |_| async {
            Ok::<_, std::io::Error>("last".to_string())
        })
        .await?;
    Ok(vec![first, second, last])
}

/// A map over the event's `items`, at most two at a time, one step per item.
///
/// # Errors
///
/// [`Error::ChildContextFailed`] when an item fails.
pub async fn map_items(input: Value, ctx: DurableContext) -> Result<Vec<String>, Error> {
    let items: Vec<String> = input
        .get("items")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    ctx.map(
        "shout",
        items,
        |item_ctx: DurableContext, item: String, index: usize| async move {
            item_ctx
                .step("upper", |_| async move {
                    Ok::<_, std::io::Error>(format!("{index}:{}", item.to_uppercase()))
                })
                .await
        },
    )
    .max_concurrency(2)
    .await?
    .into_results()
}

/// A parallel of two branches: one step in `left`; a 2 s wait then a step in `right`.
///
/// # Errors
///
/// [`Error::ChildContextFailed`] when a branch fails.
pub async fn parallel_branches(_input: Value, ctx: DurableContext) -> Result<Vec<String>, Error> {
    ctx.parallel(
        "both",
        vec![
            branch("left", |branch_ctx: DurableContext| async move {
                branch_ctx
                    .step("left step", |_| async {
                        Ok::<_, std::io::Error>("L".to_string())
                    })
                    .await
            }),
            branch("right", |branch_ctx: DurableContext| async move {
                branch_ctx
                    .wait("right wait", Duration::from_secs(2))
                    .await?;
                branch_ctx
                    .step("right step", |_| async {
                        Ok::<_, std::io::Error>("R".to_string())
                    })
                    .await
            }),
        ],
    )
    .await?
    .into_results()
}

/// How long the step of [`wait_beside_step`] takes.
pub const LONG_STEP: Duration = Duration::from_secs(5);

/// A parallel of a step that takes [`LONG_STEP`] beside a 1 s wait and a step: the wait
/// ends while the long step runs, and its branch goes on in the same invocation.
///
/// # Errors
///
/// [`Error::ChildContextFailed`] when a branch fails.
pub async fn wait_beside_step(_input: Value, ctx: DurableContext) -> Result<Vec<String>, Error> {
    ctx.parallel(
        "both",
        vec![
            branch("work", |branch_ctx: DurableContext| async move {
                branch_ctx
                    .step("long step", |_| async {
                        tokio::time::sleep(LONG_STEP).await;
                        Ok::<_, std::io::Error>("work".to_string())
                    })
                    .await
            }),
            branch("timer", |branch_ctx: DurableContext| async move {
                branch_ctx
                    .wait("short wait", Duration::from_secs(1))
                    .await?;
                branch_ctx
                    .step("after the wait", |_| async {
                        Ok::<_, std::io::Error>("timer".to_string())
                    })
                    .await
            }),
        ],
    )
    .await?
    .into_results()
}

/// A plain Lambda function (no durable execution): doubles `{"n": <number>}`.
///
/// # Errors
///
/// When the event has no number `n`.
pub async fn plain_double(event: lambda_runtime::LambdaEvent<Value>) -> Result<Value, BoxError> {
    let n = event
        .payload
        .get("n")
        .and_then(Value::as_i64)
        .ok_or("the event has no number \"n\"")?;
    Ok(serde_json::json!({ "doubled": n * 2 }))
}
