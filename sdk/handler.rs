//! The invocation driver: envelope in, handler run with replay, output out.

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::checkpoint::batcher::{BatcherConfig, BatcherStats, Checkpointer};
use crate::checkpoint::{BoxFuture, DurableService, ServiceError};
use crate::context::scope::WakeFlag;
use crate::context::DurableContext;
use crate::error::{error_object, unwind_to_error, Error};
use crate::limits::{MAX_EXECUTION_PAYLOAD_BYTES, RESPONSE_LIMIT_BYTES};
use crate::log::Operations;
use crate::logger::InvocationLog;
use crate::replay;
use crate::replay::completion::{deliver_error, deliver_result, Delivery, FatalEnd};
use crate::replay::pending::{Activity, Deadline, PendingDecision};
use crate::state::ExecutionState;
use crate::wire::{
    DurableExecutionInvocationInput, DurableExecutionInvocationOutput, ErrorObject,
    GetDurableExecutionStateRequest, InvocationStatus, Operation, OperationAction, OperationId,
    OperationType, OperationUpdate,
};

/// How the handler ended, before it is turned into an invocation output.
pub(crate) enum HandlerFailure {
    /// An SDK error escaped the handler (it may be fatal).
    Sdk(Error),
    /// A user error, already converted.
    User(ErrorObject),
}

/// A handler with its event and result types erased: it takes the event as JSON and
/// returns the serialized result.
pub(crate) type ErasedHandler = Arc<
    dyn Fn(
            Value,
            &'static str,
            DurableContext,
        ) -> BoxFuture<'static, Result<String, HandlerFailure>>
        + Send
        + Sync,
>;

/// Erases the types of a user handler.
pub(crate) fn erase<H, E, T, Err, Fut>(handler: H) -> ErasedHandler
where
    H: Fn(E, DurableContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, Err>> + Send + 'static,
    E: DeserializeOwned,
    T: Serialize,
    Err: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    Arc::new(
        move |event: Value, source: &'static str, ctx: DurableContext| {
            let event = crate::wire::from_value::<E>(event).map_err(|err| {
                // An event type that checks the whole document itself (a declared workflow's
                // input) names the path in its message.
                let detail = if err.path() == "." {
                    err.message().to_string()
                } else {
                    err.to_string()
                };
                HandlerFailure::Sdk(Error::invalid_input(format!(
                    "the event from {source} does not match the handler's event type: {detail}"
                )))
            });
            let fut = event.map(|event| handler(event, ctx));
            Box::pin(async move {
                let result = fut?.await;
                match result {
                    Ok(value) => serde_json::to_string(&value).map_err(|err| {
                        HandlerFailure::Sdk(Error::invalid_input(format!(
                            "the handler's result cannot be serialized: {err}"
                        )))
                    }),
                    Err(err) => {
                        let boxed: Box<dyn std::error::Error + Send + Sync> = err.into();
                        match boxed.downcast::<Error>() {
                            Ok(sdk) => Err(HandlerFailure::Sdk(*sdk)),
                            Err(other) => Err(HandlerFailure::User(user_error_object_named(
                                crate::error::short_type_name::<Err>(),
                                &other.to_string(),
                            ))),
                        }
                    }
                }
            })
        },
    )
}

fn user_error_object_named(error_type: String, message: &str) -> ErrorObject {
    error_object(&error_type, message)
}

/// Settings of one invocation.
#[derive(Clone)]
pub(crate) struct InvocationOptions {
    pub(crate) batcher: BatcherConfig,
    /// Whether the loggers of contexts log while replaying.
    pub(crate) log_during_replay: bool,
    /// The serdes of operations whose serdes is not set, if not JSON.
    pub(crate) default_serdes: crate::serdes::DefaultSerdes,
    /// The Lambda request id of the invocation, for log records.
    pub(crate) request_id: Option<Arc<str>>,
    /// The tenant the invocation is for, for log records.
    pub(crate) tenant_id: Option<Arc<str>>,
    /// The X-Ray trace header of the invocation (`Root=1-...;Parent=...;Sampled=...`).
    pub(crate) trace_id: Option<Arc<str>>,
    /// When the invocation must have returned (the Lambda deadline).
    pub(crate) deadline: Option<tokio::time::Instant>,
    /// How long before the deadline to stop and suspend.
    pub(crate) deadline_margin: Duration,
    /// How long to wait for queued checkpoints on the way out.
    pub(crate) drain_timeout: Duration,
    pub(crate) response_limit: usize,
    pub(crate) stats: Arc<BatcherStats>,
    /// The instrumentation plugins.
    pub(crate) hooks: crate::plugin::Hooks,
}

impl Default for InvocationOptions {
    fn default() -> Self {
        Self {
            batcher: BatcherConfig::default(),
            log_during_replay: false,
            default_serdes: crate::serdes::DefaultSerdes::default(),
            request_id: None,
            tenant_id: None,
            trace_id: None,
            deadline: None,
            deadline_margin: crate::config::DEFAULT_DEADLINE_MARGIN,
            drain_timeout: Duration::from_secs(10),
            response_limit: RESPONSE_LIMIT_BYTES,
            stats: Arc::new(BatcherStats::default()),
            hooks: crate::plugin::Hooks::default(),
        }
    }
}

/// An invocation that must end with a function error, so that Lambda invokes it again.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub(crate) struct InvocationError {
    pub(crate) message: String,
}

enum Outcome {
    Done(Result<String, HandlerFailure>),
    Fatal(Error),
    Quiescent,
    Deadline,
}

/// Runs one invocation of a durable handler against `service`.
pub(crate) async fn execute(
    service: Arc<dyn DurableService>,
    input: DurableExecutionInvocationInput,
    handler: &ErasedHandler,
    options: &InvocationOptions,
) -> Result<DurableExecutionInvocationOutput, InvocationError> {
    let arn = input.durable_execution_arn.to_string();
    let token = input.checkpoint_token.to_string();
    let updated_operation_ids = input.updated_operation_ids;
    let mut operations = Vec::new();
    let mut marker = None;
    if let Some(state) = input.initial_execution_state {
        operations = state.operations;
        marker = state.next_marker.filter(|marker| !marker.is_empty());
    }
    while let Some(current) = marker.take() {
        let page = load_page(&*service, &arn, &token, current, &options.batcher)
            .await
            .map_err(|err| match err {
                Error::Checkpoint {
                    retryable: false, ..
                } => Ok(failed(err.to_error_object())),
                other => Err(InvocationError {
                    message: other.to_string(),
                }),
            });
        match page {
            Ok((ops, next)) => {
                operations.extend(ops);
                marker = next;
            }
            Err(Ok(output)) => return Ok(output),
            Err(Err(err)) => return Err(err),
        }
    }

    let (event, source) = match find_event(input.input, &operations) {
        Ok(found) => found,
        Err(err) => return Ok(failed(Error::invalid_input(err).to_error_object())),
    };
    let execution_id = operations
        .iter()
        .find(|op| op.type_ == OperationType::Execution)
        .map(|op| op.id.clone());
    let replaying = replay::completion::replaying_at_start(operations.iter().map(|op| op.type_));

    let store = Arc::new(Operations::new(operations).observed(options.hooks.clone(), &arn));
    let trace = crate::plugin::InvocationTrace::start(
        &options.hooks,
        &arn,
        options.request_id.as_deref(),
        options.trace_id.as_deref(),
        !replaying,
        &store,
        updated_operation_ids.as_deref(),
    );
    let (checkpointer, batcher_task) = Checkpointer::spawn(
        service,
        arn.clone(),
        token,
        Arc::clone(&store),
        options.batcher.clone(),
        Arc::clone(&options.stats),
    );
    let mut batcher_task = AbortOnDrop(batcher_task);
    let log = InvocationLog {
        request_id: options.request_id.clone(),
        tenant_id: options.tenant_id.clone(),
        ..InvocationLog::new(&arn, options.log_during_replay)
    };
    let exec = Arc::new(
        ExecutionState::new(arn.clone(), store, checkpointer.clone(), log)
            .with_default_serdes(options.default_serdes.clone()),
    );
    let ctx = DurableContext::root(Arc::clone(&exec), replaying);
    let store_for_hooks = Arc::clone(&exec.operations);
    let span = tracing::info_span!(
        "durable_invocation",
        durable.execution.arn = %arn,
        durable.invocation.first = !replaying,
    );

    // A panic while the handler is built or polled fails the execution like an error
    // would, instead of unwinding through the runtime (queued updates are still written).
    let handler = Arc::clone(handler);
    let mut fut = Box::pin(async move {
        unwind_to_error(async move { handler(event, source, ctx).await })
            .await
            .unwrap_or_else(|error| Err(HandlerFailure::User(error)))
    });
    let soft_deadline = options.deadline.map(|deadline| {
        let margin = deadline_margin(deadline, options.deadline_margin);
        deadline.checked_sub(margin).unwrap_or(deadline)
    });
    let mut deadline = soft_deadline.map(|at| Box::pin(tokio::time::sleep_until(at)));
    // Once the deadline is reached: whether running attempts were cut, and until when they
    // may record their outcome (half the time left).
    let mut cut = false;
    let mut grace: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    let tracker = Arc::new(WakeFlag::default());
    let mut poller = Poller::new(&exec.operations);

    let outcome = std::future::poll_fn(|cx| {
        if let Some(err) = exec.fatal() {
            return Poll::Ready(Outcome::Fatal(err));
        }
        let waker = tracker.waker(Some(cx.waker()));
        let mut tracked = std::task::Context::from_waker(&waker);
        if let Poll::Ready(out) = span.in_scope(|| fut.as_mut().poll(&mut tracked)) {
            return Poll::Ready(match exec.fatal() {
                Some(err) => Outcome::Fatal(err),
                None => Outcome::Done(out),
            });
        }
        if let Some(err) = exec.fatal() {
            return Poll::Ready(Outcome::Fatal(err));
        }
        let deadline_passed = deadline
            .as_mut()
            .is_some_and(|deadline| deadline.as_mut().poll(cx).is_ready());
        let grace_over = grace
            .as_mut()
            .is_some_and(|grace| grace.as_mut().poll(cx).is_ready());
        let state = if !deadline_passed {
            Deadline::Ahead
        } else if grace_over {
            Deadline::GraceOver
        } else {
            Deadline::Reached { cut }
        };
        let activity = Activity {
            woken: tracker.woken(),
            active: exec.active_count(),
            parked: exec.parked_count(),
        };
        let lingering = poller.linger(&exec, activity);
        match replay::pending::when_pending(activity, state, lingering.is_some()) {
            PendingDecision::KeepRunning => {
                poller.tick(cx, &exec, activity, lingering, &checkpointer);
                Poll::Pending
            }
            PendingDecision::Suspend => Poll::Ready(Outcome::Quiescent),
            PendingDecision::Cut => {
                cut = true;
                exec.reach_deadline();
                let now = tokio::time::Instant::now();
                let left = options
                    .deadline
                    .map_or(Duration::ZERO, |hard| hard.saturating_duration_since(now));
                let mut sleep = Box::pin(tokio::time::sleep_until(now + left / 2));
                // Registers the timer; the cut attempts wake the handler as they finish.
                let _ = sleep.as_mut().poll(cx);
                grace = Some(sleep);
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            PendingDecision::EndForRetry => Poll::Ready(Outcome::Deadline),
        }
    })
    .await;
    // Every wait on the way out is bounded by the time the invocation has left.
    let hard_deadline = options.deadline;
    let bounded = |limit: Duration| match hard_deadline {
        Some(deadline) => limit.min(
            deadline
                .saturating_duration_since(tokio::time::Instant::now())
                .saturating_sub(EXIT_SLACK),
        ),
        None => limit,
    };
    let result = match outcome {
        Outcome::Quiescent => {
            // Everything queued must be durable before suspending.
            match tokio::time::timeout(bounded(options.drain_timeout), checkpointer.flush()).await {
                Ok(Ok(())) => Ok(pending()),
                Ok(Err(err)) => fatal_output(err),
                Err(_) => Err(InvocationError {
                    message: "the invocation ran out of time while writing its last checkpoints; it will be retried".to_string(),
                }),
            }
        }
        Outcome::Fatal(err) => fatal_output(err),
        Outcome::Deadline => {
            tracing::warn!(
                "the invocation is about to time out while work can still progress; ending it so that it is invoked again"
            );
            match tokio::time::timeout(bounded(options.drain_timeout), checkpointer.flush()).await {
                Ok(Err(err)) => fatal_output(err),
                _ => Err(InvocationError {
                    message: "the invocation reached its deadline while work was still running; it will be retried".to_string(),
                }),
            }
        }
        Outcome::Done(result) => {
            // A replay that completes must have asked for every operation its history holds
            // under the bodies that ran to their end; otherwise the code changed.
            let unvisited = exec.operations.first_unvisited();
            // A record this SDK version cannot interpret is reported as such (it may or may
            // not be one the code should have asked for).
            let verdict = match exec.operations.reached_unknown() {
                Some(err) => Err(err),
                None => replay::completion::on_return(unvisited),
            };
            match verdict {
                Err(err) => fatal_output(err),
                Ok(()) => {
                    let completing =
                        complete(&exec, &checkpointer, execution_id.as_ref(), result, options);
                    match tokio::time::timeout(bounded(Duration::MAX), completing).await {
                        Ok(output) => output,
                        Err(_) => Err(InvocationError {
                            message: "the invocation ran out of time while writing the execution's outcome; it will be retried".to_string(),
                        }),
                    }
                }
            }
        }
    };
    // Drop the handler (and any parked operation) before draining.
    drop(fut);
    let _ = tokio::time::timeout(bounded(options.drain_timeout), checkpointer.flush()).await;
    drop(checkpointer);
    drop(exec);
    if tokio::time::timeout(bounded(options.drain_timeout), &mut batcher_task.0)
        .await
        .is_err()
    {
        tracing::warn!("the checkpoint writer did not stop in time");
    }
    if let Some(trace) = trace {
        use crate::plugin::InvocationEndStatus as End;
        let (status, error) = match &result {
            Ok(output) => (
                match output.status {
                    InvocationStatus::Succeeded => End::Succeeded,
                    InvocationStatus::Failed => End::Failed,
                    _ => End::Pending,
                },
                output.error.clone(),
            ),
            Err(err) => (
                End::Retry,
                Some(error_object("DurableInvocationError", &err.message)),
            ),
        };
        trace.end(status, error, &store_for_hooks);
    }
    result
}

/// Asks the service what changed while work runs beside operations parked on it, when
/// [`replay::pending::next_poll`] says, so that they resume within the invocation.
struct Poller {
    /// The log's count of merged answers when the poller last looked.
    merges: u64,
    /// Questions asked since an answer last changed the log.
    unchanged: u32,
    /// When the last question was asked (or the invocation started).
    asked: tokio::time::Instant,
    timer: Option<(tokio::time::Instant, std::pin::Pin<Box<tokio::time::Sleep>>)>,
    /// Since when nothing runs while operations are parked (the invocation lingers).
    idle_since: Option<tokio::time::Instant>,
    /// Wakes the invocation when lingering is over, to suspend then.
    linger_end: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl Poller {
    fn new(operations: &Operations) -> Self {
        Self {
            merges: operations.merges(),
            unchanged: 0,
            asked: tokio::time::Instant::now(),
            timer: None,
            idle_since: None,
            linger_end: None,
        }
    }

    /// What the invocation knows of the operations parked on the service that can resume
    /// in place, and the service's time now (if the log tells it).
    fn parked(exec: &ExecutionState) -> (replay::pending::Parked, Option<i64>) {
        let dues: Vec<Option<i64>> = exec
            .parked_ids()
            .iter()
            .map(|id| exec.operations.due_millis(id))
            .collect();
        let parked = replay::pending::Parked {
            earliest_due: dues.iter().flatten().copied().min(),
            undated: dues.iter().any(Option::is_none),
        };
        (parked, exec.operations.service_now())
    }

    /// When nothing runs and operations are parked: whether the invocation waits for one
    /// due soon instead of suspending ([`replay::pending::linger`]), as the window it waits
    /// within.
    fn linger(&mut self, exec: &ExecutionState, activity: Activity) -> Option<i64> {
        if activity.woken || activity.active > 0 || activity.parked == 0 {
            self.idle_since = None;
            self.linger_end = None;
            return None;
        }
        let window = replay::pending::linger_window(exec.operations.round_trip_millis());
        if window == 0 {
            return None;
        }
        let idle_since = *self
            .idle_since
            .get_or_insert_with(tokio::time::Instant::now);
        let idle_for = i64::try_from(idle_since.elapsed().as_millis()).unwrap_or(i64::MAX);
        // Without the service's time, when anything is due is unknown: no waiting.
        let (parked, Some(now)) = Self::parked(exec) else {
            return None;
        };
        if !replay::pending::linger(parked, now, idle_for, window) {
            return None;
        }
        if self.linger_end.is_none() {
            // Just past the longest wait, so that the invocation looks again then.
            let longest = u64::try_from(window.saturating_mul(2).saturating_add(1)).unwrap_or(0);
            let end = idle_since + Duration::from_millis(longest);
            self.linger_end = Some(Box::pin(tokio::time::sleep_until(end)));
        }
        Some(window)
    }

    /// Arms the timer of the next question, and asks when it is due.
    fn tick(
        &mut self,
        cx: &mut std::task::Context<'_>,
        exec: &ExecutionState,
        activity: Activity,
        lingering: Option<i64>,
        checkpointer: &Checkpointer,
    ) {
        if activity.parked == 0 || (activity.active == 0 && lingering.is_none()) {
            // Nothing to ask about (the common case: no cost).
            self.timer = None;
            return;
        }
        if let Some(end) = &mut self.linger_end {
            // Registers the wake-up at the end of the wait.
            let _ = end.as_mut().poll(cx);
        }
        let merges = exec.operations.merges();
        if merges != self.merges {
            self.merges = merges;
            self.unchanged = 0;
        }
        let (parked, now) = Self::parked(exec);
        let now = now.unwrap_or(i64::MAX);
        let asked = i64::try_from(self.asked.elapsed().as_millis()).unwrap_or(i64::MAX);
        let since = exec
            .operations
            .since_answer()
            .map_or(asked, |answered| answered.min(asked));
        let Some(delay) =
            replay::pending::next_poll(activity, parked, now, since, self.unchanged, lingering)
        else {
            self.timer = None;
            return;
        };
        let at =
            tokio::time::Instant::now() + Duration::from_millis(u64::try_from(delay).unwrap_or(0));
        // Re-armed only when the time moves by more than the spacing of questions (while
        // lingering, a round trip).
        let spacing = lingering.map_or(replay::pending::MIN_POLL_SPACING_MS, |window| window / 2);
        let spacing = Duration::from_millis(u64::try_from(spacing).unwrap_or(0));
        let keep = self.timer.as_ref().is_some_and(|(armed, _)| {
            let gap = if *armed > at {
                *armed - at
            } else {
                at - *armed
            };
            gap < spacing
        });
        if !keep {
            self.timer = Some((at, Box::pin(tokio::time::sleep_until(at))));
        }
        if let Some((_, sleep)) = &mut self.timer {
            if sleep.as_mut().poll(cx).is_ready() {
                self.timer = None;
                self.asked = tokio::time::Instant::now();
                self.unchanged = self.unchanged.saturating_add(1);
                checkpointer.poll();
            }
        }
    }
}

/// What the invocation keeps free before its hard deadline, so that the output still
/// reaches Lambda after the last bounded wait.
const EXIT_SLACK: Duration = Duration::from_millis(50);

/// The margin to leave before the deadline: the configured one, but at most half of the
/// time the invocation has, so that a short invocation still runs its handler.
fn deadline_margin(deadline: tokio::time::Instant, configured: Duration) -> Duration {
    let total = deadline.saturating_duration_since(tokio::time::Instant::now());
    configured.min(total / 2)
}

/// Stops the checkpoint writer when the invocation is dropped before it finishes (for
/// example when the function is shutting down), so it does not outlive the invocation.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn load_page(
    service: &dyn DurableService,
    arn: &str,
    token: &str,
    marker: String,
    config: &BatcherConfig,
) -> Result<(Vec<Operation>, Option<String>), Error> {
    let request = GetDurableExecutionStateRequest {
        checkpoint_token: crate::wire::CheckpointToken::try_from(token)
            .map_err(|err| Error::invalid_input(format!("CheckpointToken: {err}")))?,
        marker: Some(marker),
        max_items: Some(1000),
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        match service.get_state(arn, &request).await {
            Ok(page) => {
                return Ok((
                    page.operations,
                    page.next_marker.filter(|marker| !marker.is_empty()),
                ))
            }
            Err(err) => retry_or_fail(err, attempt, config).await?,
        }
    }
}

async fn retry_or_fail(
    err: ServiceError,
    attempt: u32,
    config: &BatcherConfig,
) -> Result<(), Error> {
    if err.ends_invocation() || !err.is_transient() {
        let message = format!("reading the execution state failed: {err}");
        let retryable = err.ends_invocation();
        return Err(err.into_checkpoint_error(message, retryable));
    }
    if attempt >= config.max_attempts {
        let message =
            format!("reading the execution state failed: {err} (gave up after {attempt} attempts)");
        return Err(err.into_checkpoint_error(message, true));
    }
    let delay = config
        .initial_backoff
        .saturating_mul(2u32.saturating_pow(attempt - 1))
        .min(config.max_backoff);
    tokio::time::sleep(delay).await;
    Ok(())
}

#[cfg(test)]
pub(crate) fn find_event_for_tests(
    input: Option<Value>,
    operations: &[Operation],
) -> Result<(Value, &'static str), String> {
    find_event(input, operations)
}

/// Finds the user's event: a top-level `Input`, else the EXECUTION operation's
/// `InputPayload`, else JSON null.
fn find_event(
    input: Option<Value>,
    operations: &[Operation],
) -> Result<(Value, &'static str), String> {
    if let Some(input) = input {
        return Ok((input, "the envelope's Input field"));
    }
    let execution = operations
        .iter()
        .find(|op| op.type_ == OperationType::Execution)
        .or_else(|| operations.first());
    let payload = execution
        .and_then(|op| op.execution_details.as_ref())
        .and_then(|details| details.input_payload.as_deref());
    match payload {
        Some(text) if !text.trim().is_empty() => serde_json::from_str(text)
            .map(|value| (value, "the EXECUTION operation's InputPayload"))
            .map_err(|err| {
                format!("the EXECUTION operation's InputPayload is not valid JSON: {err}")
            }),
        _ => Ok((Value::Null, "the envelope (no input was given)")),
    }
}

fn pending() -> DurableExecutionInvocationOutput {
    DurableExecutionInvocationOutput {
        status: InvocationStatus::Pending,
        result: None,
        error: None,
    }
}

fn failed(error: ErrorObject) -> DurableExecutionInvocationOutput {
    DurableExecutionInvocationOutput {
        status: InvocationStatus::Failed,
        result: None,
        error: Some(error),
    }
}

/// A fatal error: retryable service failures end the invocation with a function error (so
/// Lambda invokes again); everything else fails the execution.
fn fatal_output(err: Error) -> Result<DurableExecutionInvocationOutput, InvocationError> {
    match replay::completion::on_fatal(&err) {
        FatalEnd::Retry => Err(InvocationError {
            message: match err {
                Error::Checkpoint { message, .. } => message,
                other => other.to_string(),
            },
        }),
        FatalEnd::Fail => {
            tracing::error!(error = %err, "the execution failed");
            Ok(failed(err.to_error_object()))
        }
    }
}

async fn complete(
    exec: &Arc<ExecutionState>,
    checkpointer: &Checkpointer,
    execution_id: Option<&OperationId>,
    result: Result<String, HandlerFailure>,
    options: &InvocationOptions,
) -> Result<DurableExecutionInvocationOutput, InvocationError> {
    let error = match result {
        Ok(result) => {
            if let Err(err) = checkpointer.flush().await {
                return fatal_output(err);
            }
            match deliver_result(result.len(), options.response_limit) {
                Delivery::Inline => {
                    return Ok(DurableExecutionInvocationOutput {
                        status: InvocationStatus::Succeeded,
                        result: Some(result),
                        error: None,
                    })
                }
                Delivery::TooLarge => {
                    return Ok(failed(error_object(
                        "ResultTooLargeError",
                        &format!(
                            "the handler's result is {} bytes; the service stores at most {MAX_EXECUTION_PAYLOAD_BYTES}",
                            result.len()
                        ),
                    )))
                }
                Delivery::Checkpoint => {}
            }
            let mut update = execution_update(execution_id, OperationAction::Succeed);
            update.payload = Some(result);
            return match exec.checkpoint(update).await {
                Ok(()) => Ok(DurableExecutionInvocationOutput {
                    status: InvocationStatus::Succeeded,
                    result: Some(String::new()),
                    error: None,
                }),
                Err(err) => fatal_output(err),
            };
        }
        Err(HandlerFailure::Sdk(err)) if err.is_fatal() => return fatal_output(err),
        Err(HandlerFailure::Sdk(err)) => err.to_error_object(),
        Err(HandlerFailure::User(error)) => error,
    };
    let error = crate::limits::truncate_error(error);
    if let Err(err) = checkpointer.flush().await {
        return fatal_output(err);
    }
    let size = serde_json::to_string(&error).map_or(0, |json| json.len());
    if deliver_error(size, options.response_limit) == Delivery::Inline {
        return Ok(failed(error));
    }
    let mut update = execution_update(execution_id, OperationAction::Fail);
    update.error = Some(error);
    match exec.checkpoint(update).await {
        Ok(()) => Ok(DurableExecutionInvocationOutput {
            status: InvocationStatus::Failed,
            result: None,
            error: None,
        }),
        Err(err) => fatal_output(err),
    }
}

fn execution_update(
    execution_id: Option<&OperationId>,
    action: OperationAction,
) -> OperationUpdate {
    let id = execution_id.cloned().unwrap_or_else(|| {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis());
        OperationId::try_from(format!("execution-result-{millis}"))
            .unwrap_or_else(|_| unreachable!("digits and dashes form a valid id"))
    });
    OperationUpdate {
        action,
        callback_options: None,
        chained_invoke_options: None,
        context_options: None,
        error: None,
        id,
        name: None,
        parent_id: None,
        payload: None,
        step_options: None,
        sub_type: None,
        type_: OperationType::Execution,
        wait_options: None,
    }
}

#[cfg(test)]
#[path = "handler_tests.rs"]
mod tests;
