//! The in-process emulation of the durable-execution service: the operation log of each
//! execution, checkpoint validation and application, token rotation, paging, timers on a
//! virtual clock, history events and injected faults.
//!
//! Every call costs O(size of the request) plus O(log n) for timers: operations live in a
//! `Vec` in start order with an index by id, and a checkpoint response carries only the
//! operations changed since the invocation last saw them.

use crate::with;
use std::collections::{BTreeSet, HashMap};
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use super::execution::{Execution, InvocationOutcome, InvocationRecord, RunnerStats};
use super::fault::{Fault, FaultKind};
use super::history::{Details, EventRecord, InvokeRecord, RetryRecord};
use super::latency::Latency;
use super::store::{CallbackState, ContextState, OpDetails, StepState, StoredOp};
use super::validate;
use super::RunnerError;
use crate::error_object;
use lambda_durable::service::{BoxFuture, DurableService, ServiceError, ServiceErrorKind};
use lambda_durable::wire::{
    CallbackId, CheckpointDurableExecutionRequest, CheckpointDurableExecutionResponse,
    CheckpointToken, CheckpointUpdatedExecutionState, DurableExecutionArn,
    DurableExecutionInvocationInput, DurableExecutionInvocationOutput, ErrorObject, EventType,
    ExecutionStatus, GetDurableExecutionStateRequest, GetDurableExecutionStateResponse,
    InitialExecutionState, InvocationStatus, Operation, OperationAction, OperationId,
    OperationStatus, OperationType, OperationUpdate,
};

/// Where every virtual clock starts: 2026-01-01T00:00:00Z.
pub(crate) const START_MILLIS: i64 = 1_767_225_600_000;
/// `MaxItems` of a state read when the caller gives none (or 0).
const DEFAULT_MAX_ITEMS: usize = 100;
/// The largest `MaxItems` the service accepts.
const MAX_ITEMS: i64 = 1000;
/// The message of every token error.
pub(crate) const INVALID_TOKEN: &str = "Invalid checkpoint token";
const INVALID_MARKER: &str = "Invalid marker";
/// The ErrorType recorded for an invocation that ended with a function error.
pub(crate) const FUNCTION_ERROR_TYPE: &str = "DurableInvocationError";
/// The ErrorType recorded for an invocation aborted by an injected crash.
pub(crate) const CRASH_ERROR_TYPE: &str = "Runtime.ExitError";
/// The ErrorType recorded for an invocation whose output the service rejected.
pub(crate) const INVALID_OUTPUT_ERROR_TYPE: &str = "InvalidInvocationOutput";

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves the state consistent before it can panic, so a
    // poisoned lock is still usable.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn invalid_parameter(message: &str) -> ServiceError {
    ServiceError::new(
        ServiceErrorKind::InvalidParameter,
        "InvalidParameterValueException",
        message,
    )
}

mod external;

pub(crate) use external::{Responders, StartedInvoke, Timer};

/// Settings of one execution.
#[derive(Debug, Clone)]
pub(crate) struct ExecutionConfig {
    pub(crate) function_name: String,
    pub(crate) envelope_page_size: Option<usize>,
    pub(crate) state_page_size: Option<usize>,
    pub(crate) faults: Vec<Fault>,
    pub(crate) max_consecutive_failures: u32,
    /// `ExecutionTimeout` in seconds (1 to 31,622,400), if the execution has one.
    pub(crate) execution_timeout: Option<i64>,
    /// Whether the clock follows tokio's clock instead of jumping to the next timer.
    pub(crate) real_time: bool,
    /// Who answers the callbacks the execution creates.
    pub(crate) responders: Responders,
}

/// Counters of the whole service, across executions.
#[derive(Debug, Default)]
struct Totals {
    checkpoint_calls: AtomicU64,
    updates: AtomicU64,
    update_bytes: AtomicU64,
    get_state_calls: AtomicU64,
    invocations: AtomicU64,
}

/// One execution, shared between the service and the runner's handle on it.
pub(crate) type SharedRecord = Arc<Mutex<ExecutionRecord>>;

/// The local durable-execution service: a registry of executions by ARN.
#[derive(Debug)]
pub(crate) struct LocalService {
    executions: Mutex<HashMap<String, SharedRecord>>,
    totals: Totals,
    next_execution: AtomicU64,
    /// What execution ids derive from: random, so that two runners give their executions
    /// different ids (and replay-safe values), unless a test fixes it.
    id_seed: AtomicU64,
    /// How long each call takes, and the generator of its jitter.
    latency: Mutex<(Latency, fastrand::Rng)>,
}

impl Default for LocalService {
    fn default() -> Self {
        Self {
            executions: Mutex::default(),
            totals: Totals::default(),
            next_execution: AtomicU64::new(0),
            id_seed: AtomicU64::new(fastrand::u64(..)),
            latency: Mutex::new((Latency::NONE, fastrand::Rng::new())),
        }
    }
}

/// The id of the `seq`-th execution of a service whose ids derive from `seed`: a UUID.
fn execution_id(seed: u64, seq: u64) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(seed.to_le_bytes())
        .chain_update(seq.to_le_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

impl LocalService {
    /// Makes the execution ids (and so the replay-safe values of the handlers) derive from
    /// `seed`, for reproducible runs.
    pub(crate) fn set_id_seed(&self, seed: u64) {
        self.id_seed.store(seed, Ordering::Relaxed);
        lock(&self.latency).1.seed(seed);
    }

    /// A service with nothing in it whose executions get the ids (and calls the latency)
    /// that this one's next execution would: the first execution of each twin has the same
    /// ARN, so that repeated runs of a handler can be compared.
    pub(crate) fn twin(&self) -> Self {
        Self {
            executions: Mutex::default(),
            totals: Totals::default(),
            next_execution: AtomicU64::new(self.next_execution.load(Ordering::Relaxed)),
            id_seed: AtomicU64::new(self.id_seed.load(Ordering::Relaxed)),
            latency: Mutex::new(lock(&self.latency).clone()),
        }
    }

    /// Makes every call take `latency`.
    pub(crate) fn set_latency(&self, latency: Latency) {
        lock(&self.latency).0 = latency;
    }

    /// How long the next call takes.
    pub(crate) fn call_latency(&self) -> Duration {
        let mut latency = lock(&self.latency);
        let (latency, rng) = &mut *latency;
        latency.sample(rng)
    }

    /// Creates an execution that has not been invoked yet, at the start of the virtual
    /// clock.
    pub(crate) fn create_execution(
        &self,
        input_payload: String,
        config: ExecutionConfig,
    ) -> Result<SharedRecord, RunnerError> {
        self.create_execution_at(input_payload, config, START_MILLIS)
    }

    /// Creates an execution that has not been invoked yet, with its clock at `now` (epoch
    /// milliseconds).
    pub(crate) fn create_execution_at(
        &self,
        input_payload: String,
        config: ExecutionConfig,
        now: i64,
    ) -> Result<SharedRecord, RunnerError> {
        let seq = self.next_execution.fetch_add(1, Ordering::Relaxed) + 1;
        let execution_id = execution_id(self.id_seed.load(Ordering::Relaxed), seq);
        let arn = format!(
            "arn:aws:lambda:us-east-1:123456789012:function:{}:$LATEST/durable-execution/execution-{seq}/{execution_id}",
            config.function_name
        );
        DurableExecutionArn::try_from(arn.as_str()).map_err(|err| {
            RunnerError::Config(format!(
                "function name {:?} gives an invalid execution ARN: {err}",
                config.function_name
            ))
        })?;
        let id = OperationId::try_from(execution_id.as_str())
            .map_err(|err| RunnerError::Config(format!("execution id: {err}")))?;
        let record = ExecutionRecord::new(arn.clone(), id, input_payload, config, now);
        let shared = Arc::new(Mutex::new(record));
        lock(&self.executions).insert(arn, Arc::clone(&shared));
        Ok(shared)
    }

    /// Registers a copy of `execution`'s log, running again, for [`ExecutionRecord::for_replay`].
    pub(crate) fn adopt(&self, record: ExecutionRecord) -> SharedRecord {
        let arn = record.arn.clone();
        let shared = Arc::new(Mutex::new(record));
        lock(&self.executions).insert(arn, Arc::clone(&shared));
        shared
    }

    /// Forgets an execution (its handle keeps the data).
    pub(crate) fn remove(&self, arn: &str) {
        lock(&self.executions).remove(arn);
    }

    /// The counters of every execution so far.
    pub(crate) fn totals(&self) -> RunnerStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        RunnerStats {
            checkpoint_calls: load(&self.totals.checkpoint_calls),
            updates: load(&self.totals.updates),
            update_bytes: load(&self.totals.update_bytes),
            get_state_calls: load(&self.totals.get_state_calls),
            invocations: load(&self.totals.invocations),
        }
    }

    /// Counts an invocation in the service-wide totals.
    pub(crate) fn count_invocation(&self) {
        self.totals.invocations.fetch_add(1, Ordering::Relaxed);
    }

    fn record(&self, arn: &str) -> Result<SharedRecord, ServiceError> {
        lock(&self.executions).get(arn).cloned().ok_or_else(|| {
            ServiceError::new(
                ServiceErrorKind::NotFound,
                "ResourceNotFoundException",
                "Execution not found",
            )
        })
    }

    /// The synchronous part of a checkpoint call.
    fn checkpoint_now(&self, arn: &str, request: &CheckpointDurableExecutionRequest) -> Reply {
        let shared = match self.record(arn) {
            Ok(shared) => shared,
            Err(err) => return Reply::Done(Err(err)),
        };
        let mut record = lock(&shared);
        record.sync_clock();
        record.stats.checkpoint_calls += 1;
        self.totals.checkpoint_calls.fetch_add(1, Ordering::Relaxed);
        let call = record.stats.checkpoint_calls;
        if let Some(writes) = record.writes.as_mut() {
            writes.extend(request.updates.iter().cloned());
        }
        let fault = record.take_fault(call, false);
        match fault {
            Some(FaultKind::Throttle) => {
                return Reply::Done(Err(ServiceError::new(
                    ServiceErrorKind::Throttled,
                    "TooManyRequestsException",
                    "Rate exceeded (injected fault)",
                )))
            }
            Some(FaultKind::ServerError) => {
                return Reply::Done(Err(ServiceError::new(
                    ServiceErrorKind::Server,
                    "ServiceException",
                    "Internal service error (injected fault)",
                )))
            }
            Some(FaultKind::InvalidToken) => {
                return Reply::Done(Err(invalid_parameter(INVALID_TOKEN)))
            }
            _ => {}
        }
        let before = (record.stats.updates, record.stats.update_bytes);
        let result = record.process_checkpoint(request);
        let (updates, bytes) = (
            record.stats.updates - before.0,
            record.stats.update_bytes - before.1,
        );
        self.totals.updates.fetch_add(updates, Ordering::Relaxed);
        self.totals.update_bytes.fetch_add(bytes, Ordering::Relaxed);
        match fault {
            Some(FaultKind::LostResponse) => Reply::Done(Err(ServiceError::new(
                ServiceErrorKind::Transport,
                "TransportError",
                "the connection was reset before the response arrived (injected fault)",
            ))),
            Some(FaultKind::Crash) => match record.crash(call) {
                Some(ended) => Reply::Crashed(ended),
                None => Reply::Done(result),
            },
            Some(FaultKind::Deadline) => match record.live.as_ref().and_then(|live| live.time_up) {
                Some(at) => Reply::Late(result, at),
                None => Reply::Done(result),
            },
            _ => Reply::Done(result),
        }
    }

    fn get_state_now(
        &self,
        arn: &str,
        request: &GetDurableExecutionStateRequest,
    ) -> Result<GetDurableExecutionStateResponse, ServiceError> {
        let shared = self.record(arn)?;
        let mut record = lock(&shared);
        record.sync_clock();
        record.stats.get_state_calls += 1;
        self.totals.get_state_calls.fetch_add(1, Ordering::Relaxed);
        let call = record.stats.get_state_calls;
        match record.take_fault(call, true) {
            Some(FaultKind::GetStateThrottle) => {
                return Err(ServiceError::new(
                    ServiceErrorKind::Throttled,
                    "TooManyRequestsException",
                    "Rate exceeded (injected fault)",
                ))
            }
            Some(FaultKind::GetStateServerError) => {
                return Err(ServiceError::new(
                    ServiceErrorKind::Server,
                    "ServiceException",
                    "Internal service error (injected fault)",
                ))
            }
            _ => {}
        }
        record.get_state(request)
    }
}

/// The outcome of the synchronous part of a checkpoint call.
enum Reply {
    Done(Result<CheckpointDurableExecutionResponse, ServiceError>),
    /// The call was applied and the invocation crashed: the caller never gets an answer
    /// while the invocation lives.
    Crashed(watch::Receiver<bool>),
    /// The answer arrives at this instant of tokio's clock, when the invocation's time is up
    /// ([`FaultKind::Deadline`]).
    Late(
        Result<CheckpointDurableExecutionResponse, ServiceError>,
        tokio::time::Instant,
    ),
}

impl DurableService for LocalService {
    fn checkpoint<'a>(
        &'a self,
        arn: &'a str,
        request: &'a CheckpointDurableExecutionRequest,
    ) -> BoxFuture<'a, Result<CheckpointDurableExecutionResponse, ServiceError>> {
        Box::pin(async move {
            let latency = self.call_latency();
            travel(latency / 2).await;
            let reply = self.checkpoint_now(arn, request);
            travel(latency - latency / 2).await;
            match reply {
                Reply::Done(result) => result,
                Reply::Late(result, at) => {
                    tokio::time::sleep_until(at).await;
                    result
                }
                Reply::Crashed(mut ended) => {
                    // A closed channel also means the invocation is over.
                    let _ = ended.wait_for(|ended| *ended).await;
                    // A crashed process retries nothing: make the orphaned writer stop.
                    Err(ServiceError::new(
                        ServiceErrorKind::Other,
                        "InvocationAborted",
                        "the invocation was aborted by an injected crash",
                    ))
                }
            }
        })
    }

    fn get_state<'a>(
        &'a self,
        arn: &'a str,
        request: &'a GetDurableExecutionStateRequest,
    ) -> BoxFuture<'a, Result<GetDurableExecutionStateResponse, ServiceError>> {
        Box::pin(async move {
            let latency = self.call_latency();
            travel(latency / 2).await;
            let reply = self.get_state_now(arn, request);
            travel(latency - latency / 2).await;
            reply
        })
    }
}

/// A call's way to or from the service.
async fn travel(time: Duration) {
    if !time.is_zero() {
        tokio::time::sleep(time).await;
    }
}

/// The invocation that is running.
#[derive(Debug)]
struct LiveInvocation {
    number: u32,
    /// The token the next call must carry; `None` once the invocation crashed or the
    /// execution finished.
    token: Option<String>,
    crash: watch::Sender<Option<u64>>,
    ended: watch::Sender<bool>,
    start_ms: i64,
    first_event_id: u64,
    /// When (on tokio's clock) the invocation is past the SDK's soft deadline, if it has a
    /// Lambda deadline: where a [`FaultKind::Deadline`] answer arrives.
    time_up: Option<tokio::time::Instant>,
}

/// A response kept for idempotent repeats.
#[derive(Debug)]
struct Cached {
    client_token: String,
    checkpoint_token: String,
    response: CheckpointDurableExecutionResponse,
}

/// What an invocation ended with, before the service judges it.
#[derive(Debug)]
pub(crate) enum RawOutcome {
    Output(DurableExecutionInvocationOutput),
    FunctionError(String),
    Crashed(u64),
}

/// Everything the service knows about one execution.
#[derive(Debug)]
pub(crate) struct ExecutionRecord {
    pub(crate) arn: String,
    execution_id: OperationId,
    config: ExecutionConfig,
    /// The virtual clock, in epoch milliseconds.
    now: i64,
    /// With a clock in real time: an instant of tokio's clock and the clock's reading then.
    clock_base: Option<(tokio::time::Instant, i64)>,
    start: i64,
    input: String,
    ops: Vec<StoredOp>,
    index: HashMap<String, usize>,
    /// (due time, operation index, kind) of every running timer.
    timers: BTreeSet<(i64, usize, Timer)>,
    /// How many operations make a PENDING output legitimate.
    pending: usize,
    /// Indexes of the operations marked dirty.
    dirty: Vec<usize>,
    /// The service changed operations since the last invocation started.
    unseen_changes: bool,
    status: ExecutionStatus,
    result: Option<String>,
    error: Option<ErrorObject>,
    events: Vec<EventRecord>,
    invocations: Vec<InvocationRecord>,
    live: Option<LiveInvocation>,
    token_seq: u64,
    callback_seq: u64,
    /// Operation index of every callback, by callback id.
    callbacks: HashMap<String, usize>,
    /// Callbacks started since the runner last looked (for callback responders).
    new_callbacks: Vec<usize>,
    /// What a callback responder answered that the service refused, for the runner.
    pub(crate) responder_error: Option<crate::callback::SendCallbackError>,
    /// Chained invokes started since the runner last looked.
    new_invokes: Vec<StartedInvoke>,
    consecutive_failures: u32,
    cached: Option<Cached>,
    pub(crate) stats: RunnerStats,
    /// Every checkpoint update received, for a replay's copy of a log.
    writes: Option<Vec<OperationUpdate>>,
}

fn is_pending_state(ty: OperationType, status: OperationStatus) -> bool {
    matches!(
        (ty, status),
        (OperationType::Step, OperationStatus::Pending)
            | (
                OperationType::Wait | OperationType::Callback | OperationType::ChainedInvoke,
                OperationStatus::Started
            )
    )
}

/// Standard base64 with padding (tokens and callback ids are opaque base64 strings).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let sextet = (n >> (18 - 6 * i)) & 0x3f;
                out.push(char::from(ALPHABET[sextet as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

impl ExecutionRecord {
    fn new(
        arn: String,
        execution_id: OperationId,
        input: String,
        config: ExecutionConfig,
        now: i64,
    ) -> Self {
        let execution = StoredOp {
            id: execution_id.clone(),
            name: None,
            parent_id: None,
            sub_type: None,
            type_: OperationType::Execution,
            status: OperationStatus::Started,
            start_ms: now,
            end_ms: None,
            details: OpDetails::None,
            dirty: false,
        };
        let mut index = HashMap::new();
        index.insert(execution_id.to_string(), 0);
        let mut record = Self {
            arn,
            execution_id,
            clock_base: config.real_time.then(|| (tokio::time::Instant::now(), now)),
            config,
            now,
            start: now,
            input,
            ops: vec![execution],
            index,
            timers: BTreeSet::new(),
            pending: 0,
            dirty: Vec::new(),
            unseen_changes: false,
            status: ExecutionStatus::Running,
            result: None,
            error: None,
            events: Vec::new(),
            invocations: Vec::new(),
            live: None,
            token_seq: 0,
            callback_seq: 0,
            callbacks: HashMap::new(),
            new_callbacks: Vec::new(),
            responder_error: None,
            new_invokes: Vec::new(),
            consecutive_failures: 0,
            cached: None,
            stats: RunnerStats::default(),
            writes: None,
        };
        record.push_event(EventType::ExecutionStarted, Some(0), Details::FromOperation);
        if let Some(seconds) = record.config.execution_timeout {
            let due = now.saturating_add(seconds.saturating_mul(1000));
            record.timers.insert((due, 0, Timer::ExecutionTimeout));
        }
        record
    }

    /// A copy of `execution`'s operation log and history as a running execution, for a
    /// replay from scratch: the EXECUTION operation is `STARTED` again, the clock stands
    /// where the execution ended, no timer runs, and every checkpoint update it receives
    /// is kept in [`ExecutionRecord::writes`].
    pub(crate) fn for_replay(execution: &Execution, config: ExecutionConfig) -> Self {
        let mut ops = execution.ops.clone();
        if let Some(first) = ops.first_mut() {
            first.status = OperationStatus::Started;
            first.end_ms = None;
            first.dirty = false;
        }
        let mut index = HashMap::new();
        let mut callbacks = HashMap::new();
        let mut pending = 0;
        for (i, op) in ops.iter_mut().enumerate() {
            op.dirty = false;
            index.insert(op.id.to_string(), i);
            if let Some(id) = op.callback().and_then(|c| c.callback_id.as_ref()) {
                callbacks.insert(id.to_string(), i);
            }
            if is_pending_state(op.type_, op.status) {
                pending += 1;
            }
        }
        let execution_id = ops.first().map_or_else(
            || {
                OperationId::try_from("replayed-execution")
                    .unwrap_or_else(|_| unreachable!("a valid operation id"))
            },
            |op| op.id.clone(),
        );
        Self {
            arn: execution.arn.clone(),
            execution_id,
            clock_base: config
                .real_time
                .then(|| (tokio::time::Instant::now(), execution.now_ms)),
            config,
            now: execution.now_ms,
            start: execution.start_ms,
            input: execution.input.clone(),
            ops,
            index,
            timers: BTreeSet::new(),
            pending,
            dirty: Vec::new(),
            unseen_changes: false,
            status: ExecutionStatus::Running,
            result: None,
            error: None,
            events: execution.events.clone(),
            invocations: execution.invocations.clone(),
            live: None,
            token_seq: 0,
            callback_seq: u64::try_from(callbacks.len()).unwrap_or(u64::MAX),
            callbacks,
            new_callbacks: Vec::new(),
            responder_error: None,
            new_invokes: Vec::new(),
            consecutive_failures: 0,
            cached: None,
            stats: RunnerStats::default(),
            writes: Some(Vec::new()),
        }
    }

    /// The checkpoint updates received, if the record keeps them (a replay's copy).
    pub(crate) fn writes(&self) -> &[OperationUpdate] {
        self.writes.as_deref().unwrap_or_default()
    }

    /// The execution's status.
    pub(crate) fn status(&self) -> ExecutionStatus {
        self.status
    }

    /// The number of invocations so far.
    pub(crate) fn invocation_count(&self) -> usize {
        self.invocations.len()
    }

    /// Adds a fault for a later call.
    pub(crate) fn inject(&mut self, fault: Fault) {
        self.config.faults.push(fault);
    }

    /// Whether a [`FaultKind::Deadline`] is still to hit, so that invocations need a Lambda
    /// deadline.
    pub(crate) fn has_deadline_fault(&self) -> bool {
        self.config
            .faults
            .iter()
            .any(|fault| fault.kind() == FaultKind::Deadline)
    }

    /// Tells the service when the running invocation is out of time (on tokio's clock).
    pub(crate) fn set_time_up(&mut self, at: tokio::time::Instant) {
        if let Some(live) = self.live.as_mut() {
            live.time_up = Some(at);
        }
    }

    fn take_fault(&mut self, call: u64, get_state: bool) -> Option<FaultKind> {
        let position = self
            .config
            .faults
            .iter()
            .position(|fault| fault.hits(call, get_state))?;
        Some(self.config.faults.remove(position).kind())
    }

    fn mint_token(&mut self, invocation: u32) -> String {
        self.token_seq += 1;
        base64(format!("{}:{invocation}:{}", self.execution_id, self.token_seq).as_bytes())
    }

    fn get(&self, id: &str) -> Option<&StoredOp> {
        self.index.get(id).and_then(|&index| self.ops.get(index))
    }

    // ---------------------------------------------------------------------------------
    // Invocations
    // ---------------------------------------------------------------------------------

    /// Starts an invocation: mints its token and builds the envelope.
    pub(crate) fn begin_invocation(
        &mut self,
    ) -> Result<
        (
            DurableExecutionInvocationInput,
            watch::Receiver<Option<u64>>,
        ),
        RunnerError,
    > {
        self.sync_clock();
        if self.status != ExecutionStatus::Running {
            return Err(RunnerError::Finished {
                status: self.status,
            });
        }
        if let Some(live) = self.live.take() {
            // Only reachable if an earlier invocation future was dropped mid-way.
            live.ended.send_replace(true);
        }
        let number = u32::try_from(self.invocations.len() + 1).unwrap_or(u32::MAX);
        let token = self.mint_token(number);
        let checkpoint_token = CheckpointToken::try_from(token.as_str())
            .map_err(|err| RunnerError::Config(format!("checkpoint token: {err}")))?;
        let durable_execution_arn = DurableExecutionArn::try_from(self.arn.as_str())
            .map_err(|err| RunnerError::Config(format!("execution ARN: {err}")))?;
        self.cached = None;
        // What changed since the last invocation saw the state (timers fired, callbacks and
        // invokes completed while the execution was suspended), as the service lists it.
        let updated: Vec<OperationId> = self
            .dirty
            .iter()
            .filter_map(|&index| self.ops.get(index))
            .filter(|op| op.type_ != OperationType::Execution)
            .map(|op| op.id.clone())
            .collect();
        self.clear_dirty();
        self.unseen_changes = false;
        let page = self.config.envelope_page_size.unwrap_or(usize::MAX).max(1);
        let (operations, next_marker) = self.state_page(0, page);
        let (crash, crash_rx) = watch::channel(None);
        let (ended, _) = watch::channel(false);
        self.live = Some(LiveInvocation {
            number,
            token: Some(token),
            crash,
            ended,
            start_ms: self.now,
            first_event_id: self.events.len() as u64 + 1,
            time_up: None,
        });
        let input = with(
            DurableExecutionInvocationInput::new(checkpoint_token, durable_execution_arn),
            |it| {
                it.initial_execution_state = Some(with(InitialExecutionState::default(), |it| {
                    it.next_marker = next_marker;
                    it.operations = operations;
                }));
                // Always a list, empty when nothing changed while the execution was
                // suspended (changes delivered to a running invocation do not count).
                it.updated_operation_ids = Some(updated);
            },
        );
        Ok((input, crash_rx))
    }

    /// Ends the running invocation: judges its outcome, records `InvocationCompleted` and
    /// completes the execution when the outcome says so.
    pub(crate) fn end_invocation(&mut self, raw: RawOutcome) -> InvocationOutcome {
        self.sync_clock();
        let live = self.live.take();
        if let Some(live) = &live {
            live.ended.send_replace(true);
        }
        self.cached = None;
        let (number, start_ms, first_event_id) = live.as_ref().map_or(
            (
                u32::try_from(self.invocations.len() + 1).unwrap_or(u32::MAX),
                self.now,
                self.events.len() as u64 + 1,
            ),
            |live| (live.number, live.start_ms, live.first_event_id),
        );
        let (outcome, error) = match raw {
            RawOutcome::Output(output) => match self.check_output(&output) {
                Ok(()) => (InvocationOutcome::Returned(output), None),
                Err(reason) => {
                    let error = error_object(INVALID_OUTPUT_ERROR_TYPE, reason);
                    (
                        InvocationOutcome::Rejected {
                            output,
                            reason: reason.to_string(),
                        },
                        Some(error),
                    )
                }
            },
            RawOutcome::FunctionError(message) => {
                let error = error_object(FUNCTION_ERROR_TYPE, &message);
                (InvocationOutcome::FunctionError(error.clone()), Some(error))
            }
            RawOutcome::Crashed(call) => {
                let error = error_object(
                    CRASH_ERROR_TYPE,
                    &format!(
                        "the invocation crashed after checkpoint call {call} (injected fault)"
                    ),
                );
                (InvocationOutcome::Crashed { after_call: call }, Some(error))
            }
        };
        let details = Details::InvocationCompleted(self.invocations.len());
        self.push_event(EventType::InvocationCompleted, None, details);
        self.stats.invocations += 1;
        self.invocations.push(InvocationRecord {
            number,
            request_id: format!("invocation-{number}"),
            first_event_id,
            start_ms,
            end_ms: self.now,
            outcome: outcome.clone(),
            error: error.clone(),
        });
        if self.status == ExecutionStatus::Running {
            match &outcome {
                InvocationOutcome::Returned(output) => match output.status {
                    InvocationStatus::Succeeded => {
                        self.finish(ExecutionStatus::Succeeded, output.result.clone(), None)
                    }
                    InvocationStatus::Failed => {
                        self.finish(ExecutionStatus::Failed, None, output.error.clone())
                    }
                    InvocationStatus::Pending => self.consecutive_failures = 0,
                    _ => self.consecutive_failures += 1,
                },
                _ => {
                    self.consecutive_failures += 1;
                    if self.consecutive_failures >= self.config.max_consecutive_failures.max(1) {
                        self.finish(ExecutionStatus::Failed, None, error);
                    }
                }
            }
        }
        outcome
    }

    /// The service's checks of a handler output (PROTOCOL.md 3).
    fn check_output(&self, output: &DurableExecutionInvocationOutput) -> Result<(), &'static str> {
        match output.status {
            InvocationStatus::Succeeded if output.error.is_some() => {
                Err("Cannot return SUCCEEDED status with an Error.")
            }
            InvocationStatus::Failed if output.result.is_some() => {
                Err("Cannot return FAILED status with a Result.")
            }
            InvocationStatus::Pending
                if self.status == ExecutionStatus::Running && self.pending == 0 =>
            {
                Err("Cannot return PENDING status with no pending operations.")
            }
            InvocationStatus::Unknown(_) => Err("Invalid Status."),
            _ => Ok(()),
        }
    }

    /// Whether the service changed operations since the last invocation started (a timer
    /// fired), so that invoking again makes progress.
    #[cfg(test)]
    pub(crate) fn has_unseen_changes(&self) -> bool {
        self.unseen_changes
    }

    /// Crashes the running invocation after checkpoint call `call` was applied: its token
    /// dies, the runner is told, and the caller waits until the invocation is torn down.
    fn crash(&mut self, call: u64) -> Option<watch::Receiver<bool>> {
        let live = self.live.as_mut()?;
        live.token = None;
        live.crash.send_replace(Some(call));
        let ended = live.ended.subscribe();
        self.cached = None;
        Some(ended)
    }

    fn finish(
        &mut self,
        status: ExecutionStatus,
        result: Option<String>,
        error: Option<ErrorObject>,
    ) {
        self.status = status;
        let op_status = match status {
            ExecutionStatus::Succeeded => OperationStatus::Succeeded,
            ExecutionStatus::TimedOut => OperationStatus::TimedOut,
            ExecutionStatus::Stopped => OperationStatus::Stopped,
            _ => OperationStatus::Failed,
        };
        self.set_status(0, op_status);
        self.end_now(0);
        self.mark_dirty(0);
        let event_type = match status {
            ExecutionStatus::Succeeded => EventType::ExecutionSucceeded,
            ExecutionStatus::TimedOut => EventType::ExecutionTimedOut,
            ExecutionStatus::Stopped => EventType::ExecutionStopped,
            _ => EventType::ExecutionFailed,
        };
        self.push_event(event_type, Some(0), Details::FromOperation);
        self.result = result;
        self.error = error;
        if let Some(live) = self.live.as_mut() {
            live.token = None;
        }
        // A finished execution has nothing left to fire.
        self.timers.clear();
    }

    // ---------------------------------------------------------------------------------
    // Checkpoint and state reads
    // ---------------------------------------------------------------------------------

    fn live_token_matches(&self, token: &str) -> bool {
        self.live
            .as_ref()
            .and_then(|live| live.token.as_deref())
            .is_some_and(|current| current == token)
    }

    fn process_checkpoint(
        &mut self,
        request: &CheckpointDurableExecutionRequest,
    ) -> Result<CheckpointDurableExecutionResponse, ServiceError> {
        let token = request.checkpoint_token.as_str();
        if let (Some(client_token), Some(cached)) = (&request.client_token, &self.cached) {
            if cached.client_token == client_token.as_str() && cached.checkpoint_token == token {
                return Ok(cached.response.clone());
            }
        }
        if !self.live_token_matches(token) {
            return Err(invalid_parameter(INVALID_TOKEN));
        }
        // The outside systems answer the callbacks whose ids are out (with the answer to an
        // earlier call); what is due by now happens before this request.
        if let Err(err) = self.respond_to_new_callbacks() {
            self.responder_error.get_or_insert(err);
        }
        self.advance_to(self.now);
        // Each update is measured once, for the request limit and for the statistics.
        let sizes: Vec<usize> = request
            .updates
            .iter()
            .map(lambda_durable::limits::json_size)
            .collect();
        validate::request_size(request, &sizes).map_err(invalid_parameter)?;
        validate::request(&request.updates, |id| self.get(id)).map_err(invalid_parameter)?;
        for (update, size) in request.updates.iter().zip(sizes) {
            self.stats.update_bytes += u64::try_from(size).unwrap_or(u64::MAX);
            self.apply(update);
        }
        self.stats.updates += request.updates.len() as u64;
        let next = if self.status == ExecutionStatus::Running {
            let number = self.live.as_ref().map_or(0, |live| live.number);
            let token = self.mint_token(number);
            if let Some(live) = self.live.as_mut() {
                live.token = Some(token.clone());
            }
            Some(CheckpointToken::try_from(token.as_str()).map_err(|err| {
                ServiceError::new(
                    ServiceErrorKind::Server,
                    "ServiceException",
                    err.to_string(),
                )
            })?)
        } else {
            None
        };
        let operations = self.drain_dirty();
        // The invocation now knows of every change (PROTOCOL.md 4.4: a change is reported
        // by an in-flight checkpoint response, or by invoking the function again), so it
        // does not need another invocation for them.
        self.unseen_changes = false;
        let response = with(CheckpointDurableExecutionResponse::default(), |it| {
            it.checkpoint_token = next;
            it.new_execution_state = Some(with(CheckpointUpdatedExecutionState::default(), |it| {
                it.next_marker = None;
                it.operations = operations;
            }));
        });
        self.cached = request.client_token.as_ref().map(|client_token| Cached {
            client_token: client_token.to_string(),
            checkpoint_token: token.to_string(),
            response: response.clone(),
        });
        Ok(response)
    }

    fn get_state(
        &mut self,
        request: &GetDurableExecutionStateRequest,
    ) -> Result<GetDurableExecutionStateResponse, ServiceError> {
        if !self.live_token_matches(request.checkpoint_token.as_str()) {
            return Err(invalid_parameter(INVALID_TOKEN));
        }
        let max_items = match request.max_items {
            None | Some(0) => DEFAULT_MAX_ITEMS,
            Some(items @ 1..=MAX_ITEMS) => usize::try_from(items).unwrap_or(DEFAULT_MAX_ITEMS),
            Some(_) => return Err(invalid_parameter("MaxItems must be between 0 and 1000.")),
        };
        let limit = max_items
            .min(self.config.state_page_size.unwrap_or(usize::MAX))
            .max(1);
        let start = match request.marker.as_deref() {
            None | Some("") => 0,
            Some(marker) => parse_marker(marker)
                .filter(|&start| start <= self.ops.len())
                .ok_or_else(|| invalid_parameter(INVALID_MARKER))?,
        };
        let (operations, next_marker) = self.state_page(start, limit);
        Ok(with(
            GetDurableExecutionStateResponse::new(operations),
            |it| {
                it.next_marker = next_marker;
            },
        ))
    }

    // ---------------------------------------------------------------------------------
    // Applying updates (PROTOCOL.md 5.4) and their history events (5.5)
    // ---------------------------------------------------------------------------------

    fn apply(&mut self, update: &OperationUpdate) {
        if update.type_ == OperationType::Execution {
            match update.action {
                OperationAction::Succeed => {
                    self.finish(ExecutionStatus::Succeeded, update.payload.clone(), None)
                }
                _ => self.finish(ExecutionStatus::Failed, None, update.error.clone()),
            }
            return;
        }
        let (index, created) = match self.index.get(update.id.as_str()) {
            Some(&index) => (index, false),
            None => (self.create(update), true),
        };
        match (update.type_, update.action) {
            (OperationType::Step, OperationAction::Start) => self.step_start(index, created),
            (OperationType::Step, OperationAction::Succeed | OperationAction::Fail) => {
                self.step_close(index, update)
            }
            (OperationType::Step, OperationAction::Retry) => self.step_retry(index, update),
            (OperationType::Wait, OperationAction::Start) => self.wait_start(index, update),
            (OperationType::Wait, OperationAction::Cancel) => self.wait_cancel(index, update),
            (OperationType::Callback, OperationAction::Start) => self.callback_start(index, update),
            (OperationType::ChainedInvoke, OperationAction::Start) => {
                self.invoke_start(index, update)
            }
            (OperationType::ChainedInvoke, OperationAction::Cancel) => {
                self.set_status(index, OperationStatus::Cancelled);
                self.end_now(index);
            }
            (OperationType::Context, OperationAction::Start) => {
                self.push_event(
                    EventType::ContextStarted,
                    Some(index),
                    Details::FromOperation,
                );
            }
            (OperationType::Context, OperationAction::Succeed | OperationAction::Fail) => {
                self.context_close(index, update)
            }
            // Refused by validation.
            _ => {}
        }
        self.mark_dirty(index);
    }

    /// Appends a new operation from its first update, with status STARTED.
    fn create(&mut self, update: &OperationUpdate) -> usize {
        let index = self.ops.len();
        self.ops.push(StoredOp {
            id: update.id.clone(),
            name: update.name.clone(),
            parent_id: update.parent_id.clone(),
            sub_type: update.sub_type.clone(),
            type_: update.type_,
            status: OperationStatus::Started,
            start_ms: self.now,
            end_ms: None,
            details: OpDetails::None,
            dirty: false,
        });
        self.index.insert(update.id.to_string(), index);
        if is_pending_state(update.type_, OperationStatus::Started) {
            self.pending += 1;
        }
        index
    }

    fn set_status(&mut self, index: usize, status: OperationStatus) {
        let Some(op) = self.ops.get_mut(index) else {
            return;
        };
        let was = is_pending_state(op.type_, op.status);
        let is = is_pending_state(op.type_, status);
        op.status = status;
        match (was, is) {
            (true, false) => self.pending = self.pending.saturating_sub(1),
            (false, true) => self.pending += 1,
            _ => {}
        }
    }

    fn end_now(&mut self, index: usize) {
        let now = self.now;
        if let Some(op) = self.ops.get_mut(index) {
            op.end_ms = Some(now);
        }
    }

    fn attempts(&self, index: usize) -> i64 {
        self.ops
            .get(index)
            .and_then(StoredOp::step)
            .and_then(|step| step.attempt)
            .unwrap_or(0)
    }

    fn step_start(&mut self, index: usize, created: bool) {
        if !created {
            self.set_status(index, OperationStatus::Started);
            // Attempt and NextAttemptTimestamp carry over; Result and Error do not.
            if let Some(OpDetails::Step(step)) = self.ops.get_mut(index).map(|op| &mut op.details) {
                step.result = None;
                step.error = None;
            }
        }
        self.push_event(EventType::StepStarted, Some(index), Details::FromOperation);
    }

    fn step_close(&mut self, index: usize, update: &OperationUpdate) {
        let attempt = self.attempts(index) + 1;
        let succeeded = update.action == OperationAction::Succeed;
        self.set_status(
            index,
            if succeeded {
                OperationStatus::Succeeded
            } else {
                OperationStatus::Failed
            },
        );
        self.end_now(index);
        if let Some(op) = self.ops.get_mut(index) {
            op.details = OpDetails::Step(StepState {
                attempt: Some(attempt),
                next_attempt_ms: None,
                result: update.payload.clone(),
                error: update.error.clone().map(Box::new),
            });
        }
        let event_type = if succeeded {
            EventType::StepSucceeded
        } else {
            EventType::StepFailed
        };
        // The step is terminal: the event reads its result or error from it.
        self.push_event(event_type, Some(index), Details::FromOperation);
    }

    fn step_retry(&mut self, index: usize, update: &OperationUpdate) {
        let attempt = self.attempts(index) + 1;
        let delay = update
            .step_options
            .as_ref()
            .and_then(|options| options.next_attempt_delay_seconds)
            .map_or(1, NonZeroU64::get);
        let delay_seconds = i64::try_from(delay).unwrap_or(i64::MAX / 1000);
        let due = self.now.saturating_add(delay_seconds.saturating_mul(1000));
        self.set_status(index, OperationStatus::Pending);
        if let Some(op) = self.ops.get_mut(index) {
            op.details = OpDetails::Step(StepState {
                attempt: Some(attempt),
                next_attempt_ms: Some(due),
                result: update.payload.clone(),
                error: update.error.clone().map(Box::new),
            });
        }
        self.timers.insert((due, index, Timer::Operation));
        // A RETRY with a Payload is a wait-for-condition check that keeps its state.
        let event_type = if update.payload.is_some() && update.error.is_none() {
            EventType::StepSucceeded
        } else {
            EventType::StepFailed
        };
        let details = Details::Retry(Box::new(RetryRecord {
            attempt,
            delay_seconds,
            result: update.payload.clone(),
            error: update.error.clone(),
        }));
        self.push_event(event_type, Some(index), details);
    }

    fn wait_start(&mut self, index: usize, update: &OperationUpdate) {
        let seconds = update
            .wait_options
            .as_ref()
            .and_then(|options| options.wait_seconds)
            .map_or(1, NonZeroU64::get);
        let seconds_i64 = i64::try_from(seconds).unwrap_or(i64::MAX / 1000);
        let due = self.now.saturating_add(seconds_i64.saturating_mul(1000));
        if let Some(op) = self.ops.get_mut(index) {
            op.details = OpDetails::Wait {
                scheduled_end_ms: due,
            };
        }
        self.timers.insert((due, index, Timer::Operation));
        let details = Details::WaitStarted {
            seconds: seconds_i64,
            until: due,
        };
        self.push_event(EventType::WaitStarted, Some(index), details);
    }

    fn wait_cancel(&mut self, index: usize, update: &OperationUpdate) {
        let due = match self.ops.get(index).map(|op| &op.details) {
            Some(OpDetails::Wait { scheduled_end_ms }) => Some(*scheduled_end_ms),
            _ => None,
        };
        if let Some(due) = due {
            self.timers.remove(&(due, index, Timer::Operation));
        }
        self.set_status(index, OperationStatus::Cancelled);
        self.end_now(index);
        let details = Details::WaitCancelled(update.error.clone().map(Box::new));
        self.push_event(EventType::WaitCancelled, Some(index), details);
    }

    fn callback_start(&mut self, index: usize, update: &OperationUpdate) {
        self.callback_seq += 1;
        let raw = format!(
            "{{\"executionId\":\"{}\",\"operationId\":\"{}\",\"seq\":{}}}",
            self.execution_id, update.id, self.callback_seq
        );
        let callback_id = CallbackId::try_from(base64(raw.as_bytes())).ok();
        let options = update.callback_options.as_ref();
        let nonzero = |value: Option<i64>| value.filter(|value| *value > 0);
        let timeout = nonzero(options.and_then(|options| options.timeout_seconds));
        let heartbeat = nonzero(options.and_then(|options| options.heartbeat_timeout_seconds));
        let after = |seconds: i64| self.now.saturating_add(seconds.saturating_mul(1000));
        let timeout_ms = timeout.map(after);
        let heartbeat_due_ms = heartbeat.map(after);
        if let Some(due) = timeout_ms {
            self.timers.insert((due, index, Timer::CallbackTimeout));
        }
        if let Some(due) = heartbeat_due_ms {
            self.timers.insert((due, index, Timer::CallbackHeartbeat));
        }
        if let Some(id) = &callback_id {
            self.callbacks.insert(id.to_string(), index);
        }
        self.new_callbacks.push(index);
        if let Some(op) = self.ops.get_mut(index) {
            op.details = OpDetails::Callback(Box::new(CallbackState {
                callback_id,
                timeout_ms,
                timeout_seconds: timeout,
                heartbeat_seconds: heartbeat,
                heartbeat_due_ms,
                ..CallbackState::default()
            }));
        }
        let details = Details::CallbackStarted { timeout, heartbeat };
        self.push_event(EventType::CallbackStarted, Some(index), details);
    }

    fn invoke_start(&mut self, index: usize, update: &OperationUpdate) {
        let options = update.chained_invoke_options.as_ref();
        if let Some(op) = self.ops.get_mut(index) {
            op.details = OpDetails::Invoke(Box::default());
        }
        if let Some(options) = options {
            self.new_invokes.push(StartedInvoke {
                index,
                function_name: options.function_name.clone(),
                payload: update.payload.clone(),
            });
        }
        let details = Details::InvokeStarted(Box::new(InvokeRecord {
            function_name: options.map(|options| options.function_name.clone()),
            tenant_id: options.and_then(|options| options.tenant_id.clone()),
            payload: update.payload.clone(),
        }));
        self.push_event(EventType::ChainedInvokeStarted, Some(index), details);
    }

    fn context_close(&mut self, index: usize, update: &OperationUpdate) {
        let succeeded = update.action == OperationAction::Succeed;
        self.set_status(
            index,
            if succeeded {
                OperationStatus::Succeeded
            } else {
                OperationStatus::Failed
            },
        );
        self.end_now(index);
        if let Some(op) = self.ops.get_mut(index) {
            op.details = OpDetails::Context(Box::new(ContextState {
                result: update.payload.clone(),
                error: update.error.clone(),
                replay_children: update
                    .context_options
                    .as_ref()
                    .and_then(|options| options.replay_children),
            }));
        }
        let event_type = if succeeded {
            EventType::ContextSucceeded
        } else {
            EventType::ContextFailed
        };
        self.push_event(event_type, Some(index), Details::FromOperation);
    }

    /// Records an event about the operation at `index` (or about no operation).
    fn push_event(&mut self, event_type: EventType, index: Option<usize>, details: Details) {
        self.events.push(EventRecord {
            event_type,
            at: self.now,
            op: index,
            details,
        });
    }

    fn mark_dirty(&mut self, index: usize) {
        if let Some(op) = self.ops.get_mut(index) {
            if !op.dirty {
                op.dirty = true;
                self.dirty.push(index);
            }
        }
    }

    fn drain_dirty(&mut self) -> Vec<Operation> {
        let mut out = Vec::with_capacity(self.dirty.len());
        for index in std::mem::take(&mut self.dirty) {
            if let Some(op) = self.ops.get_mut(index) {
                op.dirty = false;
                out.push(op.to_wire(&self.input));
            }
        }
        out
    }

    fn clear_dirty(&mut self) {
        for index in std::mem::take(&mut self.dirty) {
            if let Some(op) = self.ops.get_mut(index) {
                op.dirty = false;
            }
        }
    }

    /// A page of the execution state that an invocation reads: at most `limit` operations
    /// from position `start` of the log, and the marker of the next page if there is one.
    ///
    /// Like the service (PROTOCOL.md 9.6), the state leaves out the operations inside a
    /// completed CONTEXT that was not checkpointed with `ReplayChildren`: its result stands
    /// for them, and an SDK must not rely on finding them.
    fn state_page(&self, start: usize, limit: usize) -> (Vec<Operation>, Option<String>) {
        let mut operations = Vec::with_capacity(limit.min(self.ops.len().saturating_sub(start)));
        for (index, op) in self.ops.iter().enumerate().skip(start) {
            if self.inside_completed_context(op) {
                continue;
            }
            if operations.len() == limit {
                return (operations, Some(marker(index)));
            }
            operations.push(op.to_wire(&self.input));
        }
        (operations, None)
    }

    /// Whether an enclosing CONTEXT of `op` has completed without `ReplayChildren`.
    fn inside_completed_context(&self, op: &StoredOp) -> bool {
        let mut parent = op.parent_id.as_ref();
        while let Some(id) = parent {
            let Some(ancestor) = self.get(id.as_str()) else {
                return false;
            };
            if ancestor.type_ == OperationType::Context
                && matches!(
                    ancestor.status,
                    OperationStatus::Succeeded | OperationStatus::Failed
                )
                && !matches!(&ancestor.details, OpDetails::Context(context)
                    if context.replay_children == Some(true))
            {
                return true;
            }
            parent = ancestor.parent_id.as_ref();
        }
        false
    }

    // ---------------------------------------------------------------------------------
    // Results
    // ---------------------------------------------------------------------------------

    /// When the execution finished, or the clock while it runs.
    fn end_or_now(&self) -> i64 {
        match self.status {
            ExecutionStatus::Running => self.now,
            _ => self
                .ops
                .first()
                .and_then(|op| op.end_ms)
                .unwrap_or(self.now),
        }
    }

    /// A copy of everything recorded so far.
    pub(crate) fn snapshot(&self) -> Execution {
        Execution {
            source: crate::execution::Source::Local,
            arn: self.arn.clone(),
            status: self.status,
            input: self.input.clone(),
            result: self.result.clone(),
            error: self.error.clone(),
            ops: self.ops.clone(),
            operations: std::sync::OnceLock::new(),
            events: self.events.clone(),
            history: std::sync::OnceLock::new(),
            invocations: self.invocations.clone(),
            stats: self.stats,
            start_ms: self.start,
            now_ms: self.end_or_now(),
            function_name: self.config.function_name.clone(),
            execution_timeout: self.config.execution_timeout,
            children: Vec::new(),
        }
    }

    /// Moves everything recorded out of the record (which is left empty).
    pub(crate) fn take(&mut self) -> Execution {
        let now_ms = self.end_or_now();
        Execution {
            source: crate::execution::Source::Local,
            arn: self.arn.clone(),
            status: self.status,
            input: std::mem::take(&mut self.input),
            result: self.result.take(),
            error: self.error.take(),
            ops: std::mem::take(&mut self.ops),
            operations: std::sync::OnceLock::new(),
            events: std::mem::take(&mut self.events),
            history: std::sync::OnceLock::new(),
            invocations: std::mem::take(&mut self.invocations),
            stats: self.stats,
            start_ms: self.start,
            now_ms,
            function_name: self.config.function_name.clone(),
            execution_timeout: self.config.execution_timeout,
            children: Vec::new(),
        }
    }
}

fn marker(index: usize) -> String {
    format!("ops-{index}")
}

fn parse_marker(marker: &str) -> Option<usize> {
    marker.strip_prefix("ops-")?.parse().ok()
}
