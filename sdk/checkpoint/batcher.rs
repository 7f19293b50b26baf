//! The checkpoint batcher: one task per invocation that owns the checkpoint token and
//! writes every update, in the order it was created.
//!
//! - Updates queued while a request is in flight are coalesced into the next request, within
//!   the service's limits (250 updates, 750 KiB of JSON, see [`crate::limits`]), never
//!   putting two updates for the same id in one request unless the first is a STEP or
//!   CONTEXT START. The size is the exact size of the request's JSON body: every update is
//!   measured as it is serialized (escapes included), plus the tokens, keys and commas. An
//!   update larger than the limit on its own is sent alone.
//! - Every request carries a `ClientToken`, reused by each retry of that request, so a
//!   request whose response was lost is recognised by the service as a repeat.
//! - Throttling, 5xx, connection errors and invalid-token errors are retried with
//!   exponential backoff; the first error that cannot be retried is latched and returned to
//!   every waiter, and nothing more is sent.

use std::hash::Hasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::{DurableService, ServiceError};
use crate::error::Error;
use crate::limits::{self, add_update, envelope_size, MAX_REQUEST_BYTES, MAX_UPDATES_PER_REQUEST};
use crate::log::{IdHasher, IdMap, Operations};
use crate::wire::{
    CheckpointDurableExecutionRequest, CheckpointToken, ClientToken,
    GetDurableExecutionStateRequest, OperationAction, OperationType, OperationUpdate,
};

/// Limits and retry settings of the batcher.
#[derive(Debug, Clone)]
pub(crate) struct BatcherConfig {
    /// The most updates in one request.
    pub(crate) max_updates: usize,
    /// The largest request body (JSON) with more than one update.
    pub(crate) max_bytes: usize,
    pub(crate) max_attempts: u32,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    /// How long updates that nobody waits for may wait for company before they are sent.
    pub(crate) linger: Duration,
}

impl Default for BatcherConfig {
    fn default() -> Self {
        Self {
            max_updates: MAX_UPDATES_PER_REQUEST,
            max_bytes: MAX_REQUEST_BYTES,
            max_attempts: 8,
            initial_backoff: crate::config::DEFAULT_INITIAL_BACKOFF,
            max_backoff: crate::config::DEFAULT_MAX_BACKOFF,
            linger: crate::config::DEFAULT_LINGER,
        }
    }
}

type Ack = oneshot::Sender<Result<(), Error>>;

/// Attempts of one request that keeps failing with an invalid checkpoint token.
const INVALID_TOKEN_ATTEMPTS: u32 = 3;

enum Command {
    /// An update, who waits for it (if anyone), and its number: updates are numbered from
    /// 1 in the order they are queued.
    Update(Box<OperationUpdate>, Option<Ack>, u64),
    Flush(Ack),
    /// Ask the service for what changed: a request is made even with no update queued.
    Poll,
}

/// Counters of what the batcher sent, for tests and benchmarks.
#[derive(Debug, Default)]
pub(crate) struct BatcherStats {
    pub(crate) calls: AtomicU64,
    pub(crate) updates: AtomicU64,
}

/// Handle to the batcher task of one invocation.
#[derive(Clone)]
pub(crate) struct Checkpointer {
    tx: mpsc::UnboundedSender<Command>,
    /// The number of the last update queued; held while an update is numbered and sent,
    /// so that numbers follow the order of the queue.
    queued: Arc<std::sync::Mutex<u64>>,
}

impl Checkpointer {
    /// Starts the batcher task.
    pub(crate) fn spawn(
        service: Arc<dyn DurableService>,
        arn: String,
        token: String,
        operations: Arc<Operations>,
        config: BatcherConfig,
        stats: Arc<BatcherStats>,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let token = CheckpointToken::try_from(token.as_str()).map_err(|err| {
            Error::checkpoint(
                format!("the service returned an unusable checkpoint token: {err}"),
                false,
            )
        });
        let task = Batcher {
            service,
            arn,
            token,
            client_prefix: uuid::Uuid::new_v4().simple().to_string(),
            requests: 0,
            operations,
            config,
            stats,
            latched: None,
            finished: false,
            carry: None,
        };
        let handle = tokio::spawn(task.run(rx));
        let checkpointer = Self {
            tx,
            queued: Arc::new(std::sync::Mutex::new(0)),
        };
        (checkpointer, handle)
    }

    /// Numbers `update` and sends it to the batcher with `ack`; returns its number.
    fn send_update(
        &self,
        update: OperationUpdate,
        ack: Option<Ack>,
    ) -> Result<u64, mpsc::error::SendError<Command>> {
        let mut queued = self.queued.lock().unwrap_or_else(|p| p.into_inner());
        *queued += 1;
        self.tx
            .send(Command::Update(Box::new(update), ack, *queued))
            .map(|()| *queued)
    }

    /// Queues an update without waiting for it to be written; returns its number (see
    /// [`Operations::written`]). Numbers start at 1; 0 when the writer is gone.
    pub(crate) fn enqueue(&self, update: OperationUpdate) -> u64 {
        // A closed channel means the batcher is gone; the invocation is ending anyway.
        self.send_update(update, None).unwrap_or(0)
    }

    /// Queues an update and waits until it is written and the response merged.
    pub(crate) async fn checkpoint(&self, update: OperationUpdate) -> Result<(), Error> {
        let (ack, done) = oneshot::channel();
        self.send_update(update, Some(ack)).map_err(|_| stopped())?;
        done.await.map_err(|_| stopped())?
    }

    /// Asks the service for the operations that changed (an empty checkpoint, or the next
    /// request if updates are queued), without waiting: the answer is merged into the log.
    pub(crate) fn poll(&self) {
        let _ = self.tx.send(Command::Poll);
    }

    /// Waits until everything queued so far is written.
    pub(crate) async fn flush(&self) -> Result<(), Error> {
        let (ack, done) = oneshot::channel();
        self.tx.send(Command::Flush(ack)).map_err(|_| stopped())?;
        done.await.map_err(|_| stopped())?
    }
}

fn stopped() -> Error {
    Error::checkpoint("the checkpoint writer stopped".to_string(), true)
}

fn finished() -> Error {
    Error::checkpoint(
        "the execution already finished; no checkpoint token is left".to_string(),
        false,
    )
}

struct Batcher {
    service: Arc<dyn DurableService>,
    arn: String,
    /// The token of the next call; an error once none is left (or the first was unusable).
    token: Result<CheckpointToken, Error>,
    /// Client tokens are this random prefix and the number of the request: unique
    /// without asking the OS for randomness on every request.
    client_prefix: String,
    requests: u64,
    operations: Arc<Operations>,
    config: BatcherConfig,
    stats: Arc<BatcherStats>,
    latched: Option<Error>,
    finished: bool,
    carry: Option<Command>,
}

/// The first update for an id in the request being built, and how many it has.
#[derive(Clone, Copy)]
struct Seen {
    index: usize,
    count: usize,
}

/// The request being built. Its buffers are kept from one request to the next.
#[derive(Default)]
struct Pending {
    updates: Vec<OperationUpdate>,
    acks: Vec<Ack>,
    /// By the hash of the id ([`IdHasher`]); a hash shared by two different ids ends the
    /// request, which is always allowed.
    ids: IdMap<u64, Seen>,
    /// The JSON size of the request built so far, envelope included: exact once `exact`
    /// is set, an upper bound before (see [`Batcher::measure`]).
    bytes: usize,
    exact: bool,
}

impl Pending {
    fn clear(&mut self) {
        self.updates.clear();
        self.acks.clear();
        self.ids.clear();
        self.bytes = 0;
        self.exact = false;
    }
}

fn id_hash(id: &str) -> u64 {
    let mut hasher = IdHasher::default();
    hasher.write(id.as_bytes());
    hasher.finish()
}

impl Batcher {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        let mut pending = Pending::default();
        loop {
            let first = match self.carry.take() {
                Some(command) => command,
                None => match rx.recv().await {
                    Some(command) => command,
                    None => return,
                },
            };
            pending.clear();
            pending.bytes = self.envelope_bound();
            let mut linger_until = None;
            let mut poll = false;
            let mut last = None;
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    Command::Flush(ack) => pending.acks.push(ack),
                    Command::Poll => poll = true,
                    Command::Update(update, ack, number) => {
                        let size = self.measure(&mut pending, &update);
                        let key = id_hash(update.id.as_str());
                        if !pending.updates.is_empty() && !self.fits(&pending, size, key, &update) {
                            self.carry = Some(Command::Update(update, ack, number));
                            break;
                        }
                        last = Some(number);
                        pending.bytes = add_update(pending.bytes, pending.updates.is_empty(), size);
                        let index = pending.updates.len();
                        pending
                            .ids
                            .entry(key)
                            .and_modify(|seen| seen.count += 1)
                            .or_insert(Seen { index, count: 1 });
                        let ends_request = update.type_ == OperationType::Execution;
                        pending.updates.push(*update);
                        if let Some(ack) = ack {
                            pending.acks.push(ack);
                        }
                        if ends_request {
                            break;
                        }
                    }
                }
                next = match rx.try_recv() {
                    Ok(command) => Some(command),
                    // Nobody waits for what is queued: linger briefly, so a START that is not
                    // awaited can share a request with the update that follows it.
                    Err(_) if pending.acks.is_empty() && !poll && !self.config.linger.is_zero() => {
                        let deadline = *linger_until.get_or_insert_with(|| {
                            tokio::time::Instant::now() + self.config.linger
                        });
                        tokio::time::timeout_at(deadline, rx.recv())
                            .await
                            .ok()
                            .flatten()
                    }
                    Err(_) => None,
                };
            }
            let result = if pending.updates.is_empty() && !(poll && self.can_poll()) {
                self.latched.as_ref().map_or(Ok(()), |err| Err(copy(err)))
            } else {
                self.write(&mut pending.updates).await
            };
            if let Some(last) = last {
                self.operations.mark_written(last);
            }
            for ack in pending.acks.drain(..) {
                let _ = ack.send(result.as_ref().map_err(copy).copied());
            }
        }
    }

    /// The size to count for `update` in the request being built. Far from the limit, an
    /// upper bound of its JSON size that costs no serialization
    /// ([`limits::update_size_bound`]): the request's bound stays under the limit, so its
    /// exact size does too. Once the bound would pass the limit, the request is measured
    /// exactly (what it holds, then every update that joins it), so that requests are
    /// still packed as full as the limit allows.
    fn measure(&self, pending: &mut Pending, update: &OperationUpdate) -> usize {
        if !pending.exact {
            let bound = limits::update_size_bound(update);
            if add_update(pending.bytes, pending.updates.is_empty(), bound) <= self.config.max_bytes
            {
                return bound;
            }
            pending.exact = true;
            pending.bytes = pending
                .updates
                .iter()
                .enumerate()
                .fold(self.envelope_size(), |bytes, (index, held)| {
                    add_update(bytes, index == 0, limits::json_size(held))
                });
        }
        limits::json_size(update)
    }

    /// Whether `update` (of JSON size `size`, id hash `key`) may join the (non-empty)
    /// request being built.
    fn fits(&self, pending: &Pending, size: usize, key: u64, update: &OperationUpdate) -> bool {
        if pending.updates.len() >= self.config.max_updates
            || add_update(pending.bytes, false, size) > self.config.max_bytes
        {
            return false;
        }
        let Some(seen) = pending.ids.get(&key) else {
            return true;
        };
        let Some(first) = pending.updates.get(seen.index) else {
            return false;
        };
        // START then a non-START for the same STEP or CONTEXT may share a request.
        first.id == update.id
            && seen.count == 1
            && first.action == OperationAction::Start
            && matches!(first.type_, OperationType::Step | OperationType::Context)
            && update.action != OperationAction::Start
    }

    /// Writes `updates` (and leaves the buffer empty for the next request).
    async fn write(&mut self, updates: &mut Vec<OperationUpdate>) -> Result<(), Error> {
        if let Some(err) = &self.latched {
            return Err(copy(err));
        }
        if self.finished {
            return Err(Error::checkpoint(
                "the execution already finished; no more checkpoints are accepted".to_string(),
                false,
            ));
        }
        let result = self.send(updates).await;
        if let Err(err) = &result {
            self.latched = Some(copy(err));
        }
        result
    }

    /// Whether an empty request may be sent: nothing failed and the execution runs.
    fn can_poll(&self) -> bool {
        self.latched.is_none() && !self.finished && self.token.is_ok()
    }

    /// The `ClientToken` of the next request.
    fn next_client_token(&self) -> Result<ClientToken, Error> {
        ClientToken::try_from(format!("{}-{}", self.client_prefix, self.requests + 1))
            .map_err(|err| internal(format!("client token: {err}")))
    }

    /// An upper bound of [`envelope_size`](Self::envelope_size), counted from the lengths
    /// of the tokens without building the request.
    fn envelope_bound(&self) -> usize {
        let Ok(token) = &self.token else {
            return 0;
        };
        let digits = (self.requests + 1).checked_ilog10().unwrap_or(0) as usize + 1;
        let client_token = self.client_prefix.len() + 1 + digits;
        r#"{"CheckpointToken":"","ClientToken":"","Updates":[]}"#
            .len()
            .saturating_add(token.as_str().len().saturating_mul(6))
            .saturating_add(client_token.saturating_mul(6))
    }

    /// The JSON size of the next request without updates (and with the `Updates` key that
    /// an empty request leaves out). 0 when no request can be made: sending then fails
    /// anyway.
    fn envelope_size(&self) -> usize {
        let (Ok(token), Ok(client_token)) = (&self.token, self.next_client_token()) else {
            return 0;
        };
        envelope_size(&CheckpointDurableExecutionRequest {
            checkpoint_token: token.clone(),
            client_token: Some(client_token),
            updates: Vec::new(),
        })
    }

    async fn send(&mut self, updates: &mut Vec<OperationUpdate>) -> Result<(), Error> {
        let token = self.current_token()?;
        let client_token = self.next_client_token()?;
        self.requests += 1;
        let update_count = updates.len() as u64;
        let mut request = CheckpointDurableExecutionRequest {
            checkpoint_token: token,
            client_token: Some(client_token),
            updates: std::mem::take(updates),
        };
        let mut attempt = 0u32;
        let response = loop {
            attempt += 1;
            self.stats.calls.fetch_add(1, Ordering::Relaxed);
            let sent = tokio::time::Instant::now();
            match self.service.checkpoint(&self.arn, &request).await {
                Ok(response) => {
                    self.operations.note_round_trip(sent.elapsed());
                    break response;
                }
                Err(err) => self.backoff_or_fail(err, attempt).await?,
            }
        };
        // Keep the buffer for the next request.
        request.updates.clear();
        *updates = request.updates;
        self.stats
            .updates
            .fetch_add(update_count, Ordering::Relaxed);
        let state = response.new_execution_state;
        match response.checkpoint_token {
            Some(token) => self.token = Ok(token),
            None => {
                // No token after updates: the request ended the execution.
                self.token = Err(finished());
                self.finished = true;
                if let Some(state) = state {
                    self.operations.merge(state.operations);
                }
                return Ok(());
            }
        }
        if let Some(state) = state {
            self.operations.merge(state.operations);
            let mut marker = state.next_marker.filter(|marker| !marker.is_empty());
            while let Some(current) = marker.take() {
                marker = self.fetch_page(current).await?;
            }
        }
        Ok(())
    }

    async fn fetch_page(&mut self, marker: String) -> Result<Option<String>, Error> {
        let request = GetDurableExecutionStateRequest {
            checkpoint_token: self.current_token()?,
            marker: Some(marker),
            max_items: Some(1000),
        };
        let mut attempt = 0u32;
        let page = loop {
            attempt += 1;
            match self.service.get_state(&self.arn, &request).await {
                Ok(page) => break page,
                Err(err) => self.backoff_or_fail(err, attempt).await?,
            }
        };
        self.operations.merge(page.operations);
        Ok(page.next_marker.filter(|marker| !marker.is_empty()))
    }

    fn current_token(&self) -> Result<CheckpointToken, Error> {
        self.token.as_ref().cloned().map_err(copy)
    }

    /// Sleeps before the next attempt, or returns the error when it cannot be retried.
    async fn backoff_or_fail(&self, err: ServiceError, attempt: u32) -> Result<(), Error> {
        if err.ends_invocation() || !err.is_transient() {
            let message = err.to_string();
            let retryable = err.ends_invocation();
            return Err(err.into_checkpoint_error(message, retryable));
        }
        // A repeat of a request whose response was lost is answered from the service's
        // idempotency cache on the first retry; an invalid token that persists is not going to
        // recover within this invocation, so hand it back to Lambda quickly.
        let limit = if err.is_invalid_token() {
            self.config.max_attempts.min(INVALID_TOKEN_ATTEMPTS)
        } else {
            self.config.max_attempts
        };
        if attempt >= limit {
            let message = format!("{err} (gave up after {attempt} attempts)");
            return Err(err.into_checkpoint_error(message, true));
        }
        let factor = 2u32.saturating_pow(attempt - 1);
        let delay = self
            .config
            .initial_backoff
            .saturating_mul(factor)
            .min(self.config.max_backoff);
        tracing::debug!(attempt, ?delay, error = %err, "retrying checkpoint call");
        tokio::time::sleep(delay).await;
        Ok(())
    }
}

fn internal(message: String) -> Error {
    Error::checkpoint(message, false)
}

/// A copy of a checkpoint error, for each of the operations that wait on the failed
/// request and for the latch (the batcher's errors are all [`Error::Checkpoint`]).
fn copy(err: &Error) -> Error {
    err.fatal_copy()
        .unwrap_or_else(|| Error::checkpoint(err.to_string(), false))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::checkpoint::{BoxFuture, ServiceErrorKind};
    use crate::wire::{
        CheckpointDurableExecutionResponse, CheckpointUpdatedExecutionState,
        GetDurableExecutionStateResponse, Operation, OperationStatus,
    };

    /// Records requests; fails the first `failures` calls with the given error.
    #[derive(Default)]
    struct Recorder {
        requests: Mutex<Vec<CheckpointDurableExecutionRequest>>,
        failures: Mutex<Vec<ServiceError>>,
        omit_token: bool,
    }

    impl DurableService for Recorder {
        fn checkpoint<'a>(
            &'a self,
            _arn: &'a str,
            request: &'a CheckpointDurableExecutionRequest,
        ) -> BoxFuture<'a, Result<CheckpointDurableExecutionResponse, ServiceError>> {
            self.requests.lock().unwrap().push(request.clone());
            let failure = self.failures.lock().unwrap().pop();
            let n = self.requests.lock().unwrap().len();
            let operations = request
                .updates
                .iter()
                .map(|update| {
                    serde_json::from_value::<Operation>(serde_json::json!({
                        "Id": update.id.as_str(), "Type": update.type_, "Status": "STARTED"
                    }))
                    .unwrap()
                })
                .collect();
            let omit = self.omit_token;
            Box::pin(async move {
                if let Some(err) = failure {
                    return Err(err);
                }
                Ok(CheckpointDurableExecutionResponse {
                    checkpoint_token: (!omit)
                        .then(|| CheckpointToken::try_from(format!("token{n}")).unwrap()),
                    new_execution_state: Some(CheckpointUpdatedExecutionState {
                        operations,
                        next_marker: None,
                    }),
                })
            })
        }

        fn get_state<'a>(
            &'a self,
            _arn: &'a str,
            _request: &'a GetDurableExecutionStateRequest,
        ) -> BoxFuture<'a, Result<GetDurableExecutionStateResponse, ServiceError>> {
            Box::pin(async {
                Ok(GetDurableExecutionStateResponse {
                    operations: Vec::new(),
                    next_marker: None,
                })
            })
        }
    }

    fn update(id: &str, ty: OperationType, action: OperationAction) -> OperationUpdate {
        serde_json::from_value(serde_json::json!({"Id": id, "Type": ty, "Action": action})).unwrap()
    }

    fn start(
        service: Arc<Recorder>,
        config: BatcherConfig,
    ) -> (Checkpointer, Arc<Operations>, tokio::task::JoinHandle<()>) {
        let operations = Arc::new(Operations::default());
        let (checkpointer, task) = Checkpointer::spawn(
            service,
            "arn".to_string(),
            "token0".to_string(),
            Arc::clone(&operations),
            config,
            Arc::new(BatcherStats::default()),
        );
        (checkpointer, operations, task)
    }

    fn fast() -> BatcherConfig {
        BatcherConfig {
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            ..BatcherConfig::default()
        }
    }

    #[tokio::test]
    async fn queued_start_shares_a_request_with_the_following_succeed() {
        let service = Arc::new(Recorder::default());
        let (checkpointer, operations, _task) = start(Arc::clone(&service), fast());
        checkpointer.enqueue(update("a", OperationType::Step, OperationAction::Start));
        checkpointer
            .checkpoint(update("a", OperationType::Step, OperationAction::Succeed))
            .await
            .unwrap();
        let requests = service.requests.lock().unwrap().clone();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].updates.len(), 2);
        assert_eq!(requests[0].checkpoint_token.as_str(), "token0");
        assert_eq!(
            operations.get("a").unwrap().status,
            OperationStatus::Started
        );
    }

    #[tokio::test]
    async fn duplicate_ids_and_execution_updates_split_requests_in_order() {
        let service = Arc::new(Recorder::default());
        let config = BatcherConfig {
            linger: Duration::from_millis(50),
            ..fast()
        };
        let (checkpointer, _operations, _task) = start(Arc::clone(&service), config);
        checkpointer.enqueue(update("w", OperationType::Wait, OperationAction::Start));
        checkpointer.enqueue(update("w", OperationType::Wait, OperationAction::Cancel));
        checkpointer.enqueue(update(
            "x",
            OperationType::Execution,
            OperationAction::Succeed,
        ));
        checkpointer.enqueue(update("s", OperationType::Step, OperationAction::Start));
        checkpointer.flush().await.unwrap();
        let requests = service.requests.lock().unwrap().clone();
        let ids: Vec<Vec<String>> = requests
            .iter()
            .map(|r| r.updates.iter().map(|u| u.id.to_string()).collect())
            .collect();
        assert_eq!(ids, vec![vec!["w"], vec!["w", "x"], vec!["s"]]);
        // Tokens chain from one response to the next request.
        let tokens: Vec<&str> = requests
            .iter()
            .map(|r| r.checkpoint_token.as_str())
            .collect();
        assert_eq!(tokens, vec!["token0", "token1", "token2"]);
    }

    #[tokio::test]
    async fn limits_split_large_batches() {
        let service = Arc::new(Recorder::default());
        let config = BatcherConfig {
            max_updates: 3,
            linger: Duration::from_millis(50),
            ..fast()
        };
        let (checkpointer, _operations, _task) = start(Arc::clone(&service), config);
        for i in 0..7 {
            checkpointer.enqueue(update(
                &format!("s{i}"),
                OperationType::Step,
                OperationAction::Start,
            ));
        }
        checkpointer.flush().await.unwrap();
        let sizes: Vec<usize> = service
            .requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.updates.len())
            .collect();
        assert_eq!(sizes, vec![3, 3, 1]);
    }

    /// Text that JSON escapes: quotes and backslashes double, control characters take six
    /// bytes (seven once the payload is itself escaped JSON), non-ASCII takes two to four.
    fn escaping_text(len: usize, seed: u64) -> String {
        let mut rng = fastrand::Rng::with_seed(seed);
        let alphabet = ['"', '\\', '\u{1}', '\n', '\t', 'é', '😀', 'a'];
        (0..len)
            .map(|_| alphabet[rng.usize(..alphabet.len())])
            .collect()
    }

    #[tokio::test]
    async fn requests_are_split_by_their_exact_json_size() {
        const MAX: usize = 20_000;
        let service = Arc::new(Recorder::default());
        let config = BatcherConfig {
            max_bytes: MAX,
            linger: Duration::from_millis(50),
            ..fast()
        };
        let (checkpointer, _operations, _task) = start(Arc::clone(&service), config);
        let mut sent = Vec::new();
        for i in 0..40u64 {
            let mut update = update(
                &format!("s{i}"),
                OperationType::Step,
                OperationAction::Succeed,
            );
            let text = escaping_text(500 + (i as usize * 337) % 2500, i);
            // As a step stores it: the JSON of the value, escaped again in the request.
            update.payload = Some(serde_json::to_string(&text).unwrap());
            sent.push(update.id.to_string());
            checkpointer.enqueue(update);
        }
        checkpointer.flush().await.unwrap();
        let requests = service.requests.lock().unwrap().clone();
        assert!(requests.len() > 1);
        let ids: Vec<String> = requests
            .iter()
            .flat_map(|r| r.updates.iter().map(|u| u.id.to_string()))
            .collect();
        assert_eq!(ids, sent, "every update once, in order");
        for (n, request) in requests.iter().enumerate() {
            let size = serde_json::to_vec(request).unwrap().len();
            assert!(size <= MAX, "request {n} is {size} bytes");
            // Requests are as full as the limit allows: the next update did not fit.
            if let Some(next) = requests.get(n + 1) {
                let next_size = serde_json::to_vec(&next.updates[0]).unwrap().len();
                assert!(size + 1 + next_size > MAX, "request {n} had room");
            }
        }
    }

    #[test]
    fn the_envelope_and_commas_are_counted_exactly() {
        let token = CheckpointToken::try_from("dG9rZW4=").unwrap();
        let client = ClientToken::try_from("abc-1").unwrap();
        let mut request = CheckpointDurableExecutionRequest {
            checkpoint_token: token,
            client_token: Some(client),
            updates: Vec::new(),
        };
        let envelope = envelope_size(&request);
        let mut total = envelope;
        for i in 0..5u64 {
            let mut u = update(
                &format!("u{i}"),
                OperationType::Step,
                OperationAction::Succeed,
            );
            u.payload = Some(escaping_text(100, i));
            total = add_update(
                total,
                request.updates.is_empty(),
                crate::limits::json_size(&u),
            );
            request.updates.push(u);
            assert_eq!(total, serde_json::to_vec(&request).unwrap().len());
        }
    }

    #[tokio::test]
    async fn retries_reuse_the_client_token_and_the_checkpoint_token() {
        let service = Arc::new(Recorder::default());
        service.failures.lock().unwrap().extend([
            ServiceError::new(ServiceErrorKind::Transport, "Dispatch", "connection reset"),
            ServiceError::new(
                ServiceErrorKind::Throttled,
                "TooManyRequestsException",
                "slow down",
            ),
        ]);
        let (checkpointer, _operations, _task) = start(Arc::clone(&service), fast());
        checkpointer
            .checkpoint(update("a", OperationType::Step, OperationAction::Succeed))
            .await
            .unwrap();
        let requests = service.requests.lock().unwrap().clone();
        assert_eq!(requests.len(), 3);
        assert!(requests
            .iter()
            .all(|r| r.client_token == requests[0].client_token));
        assert!(requests
            .iter()
            .all(|r| r.checkpoint_token.as_str() == "token0"));
        assert!(requests[0].client_token.is_some());
    }

    #[tokio::test]
    async fn a_persistent_invalid_token_gives_up_quickly() {
        let service = Arc::new(Recorder::default());
        service.failures.lock().unwrap().extend((0..10).map(|_| {
            ServiceError::new(
                ServiceErrorKind::InvalidParameter,
                "InvalidParameterValueException",
                "Invalid checkpoint token",
            )
        }));
        let (checkpointer, _operations, _task) = start(Arc::clone(&service), fast());
        let err = checkpointer
            .checkpoint(update("a", OperationType::Step, OperationAction::Succeed))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Checkpoint {
                    retryable: true,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(service.requests.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn a_fatal_error_is_latched() {
        let service = Arc::new(Recorder::default());
        service.failures.lock().unwrap().push(ServiceError::new(
            ServiceErrorKind::InvalidParameter,
            "InvalidParameterValueException",
            "Invalid parent operation id.",
        ));
        let (checkpointer, _operations, _task) = start(Arc::clone(&service), fast());
        let err = checkpointer
            .checkpoint(update("a", OperationType::Step, OperationAction::Succeed))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Checkpoint {
                    retryable: false,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("Invalid parent operation id."));
        assert!(err.ends_execution());
        assert_eq!(err.kind(), crate::ErrorKind::Sdk);
        let cause = std::error::Error::source(&err)
            .and_then(|source| source.downcast_ref::<ServiceError>())
            .expect("the service error is the source");
        assert_eq!(cause.code, "InvalidParameterValueException");
        let again = checkpointer
            .checkpoint(update("b", OperationType::Step, OperationAction::Succeed))
            .await
            .unwrap_err();
        assert_eq!(again.to_string(), err.to_string());
        // Every waiter gets the same failure, with its source.
        let Error::Checkpoint {
            source: Some(source),
            ..
        } = &again
        else {
            panic!("{again:?}");
        };
        assert_eq!(source.code(), "InvalidParameterValueException");
        assert_eq!(
            service.requests.lock().unwrap().len(),
            1,
            "nothing more is sent"
        );
    }

    #[tokio::test]
    async fn transient_errors_give_up_as_retryable() {
        let service = Arc::new(Recorder::default());
        service.failures.lock().unwrap().extend(
            (0..10)
                .map(|_| ServiceError::new(ServiceErrorKind::Server, "ServiceException", "boom")),
        );
        let config = BatcherConfig {
            max_attempts: 3,
            ..fast()
        };
        let (checkpointer, _operations, _task) = start(Arc::clone(&service), config);
        let err = checkpointer
            .checkpoint(update("a", OperationType::Step, OperationAction::Succeed))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Checkpoint {
                    retryable: true,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(service.requests.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn a_response_without_token_ends_checkpointing() {
        let service = Arc::new(Recorder {
            omit_token: true,
            ..Recorder::default()
        });
        let (checkpointer, _operations, _task) = start(Arc::clone(&service), fast());
        checkpointer
            .checkpoint(update(
                "x",
                OperationType::Execution,
                OperationAction::Succeed,
            ))
            .await
            .unwrap();
        let err = checkpointer
            .checkpoint(update("a", OperationType::Step, OperationAction::Start))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("already finished"), "{err}");
        assert_eq!(service.requests.lock().unwrap().len(), 1);
    }
}
