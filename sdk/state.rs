//! State of one invocation: the operation log, the checkpoint writer, the fatal-error
//! latch and the bookkeeping that tells when the handler can make no more progress.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::checkpoint::batcher::Checkpointer;
use crate::error::Error;
use crate::wire::{
    CallbackDetails, ChainedInvokeDetails, ContextDetails, ErrorObject, ExecutionDetails,
    Operation, OperationId, OperationName, OperationStatus, OperationSubType, OperationType,
    StepDetails, Timestamp, WaitDetails,
};

/// A fast hasher for operation ids.
///
/// Ids are SHA-256 digests in hex (or ids chosen by the service), not chosen by an
/// adversary, so the keyed SipHash of the standard library buys nothing; this folds the
/// bytes eight at a time with a wide multiply.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

const SEED: u64 = 0x243f_6a88_85a3_08d3;
const MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

fn fold(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut hash = self.0 ^ SEED;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            hash = fold(hash ^ u64::from_le_bytes(word), MULTIPLIER);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            hash = fold(
                hash ^ u64::from_le_bytes(word),
                MULTIPLIER ^ rest.len() as u64,
            );
        }
        self.0 = hash;
    }

    fn write_u8(&mut self, byte: u8) {
        self.0 = fold(self.0 ^ u64::from(byte) ^ SEED, MULTIPLIER);
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = fold(self.0 ^ value ^ SEED, MULTIPLIER);
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` keyed by operation ids, hashed with [`IdHasher`].
pub(crate) type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// The sub type of an operation: one of the SDK's own (no allocation), or another one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SubType {
    None,
    Known(&'static str),
    Other(Box<str>),
}

/// The sub types the SDK records: validated once when operations are written, and kept
/// without allocating in the operation log.
pub(crate) const SUB_TYPES: [&str; 15] = [
    "Step",
    "WaitForCondition",
    "Wait",
    "Callback",
    "ChainedInvoke",
    "RunInChildContext",
    "WaitForCallback",
    "Map",
    "MapIteration",
    "Parallel",
    "ParallelBranch",
    "All",
    "Any",
    "Race",
    "Combinator",
];

impl SubType {
    fn from_wire(sub_type: Option<OperationSubType>) -> Self {
        let Some(sub_type) = sub_type else {
            return SubType::None;
        };
        match SUB_TYPES.iter().find(|known| **known == sub_type.as_str()) {
            Some(known) => SubType::Known(known),
            None => SubType::Other(String::from(sub_type).into_boxed_str()),
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            SubType::None => None,
            SubType::Known(known) => Some(known),
            SubType::Other(other) => Some(other),
        }
    }
}

/// The type-specific part of an [`OpRecord`]. Steps and contexts, the common operations,
/// are kept inline; the others keep their wire details boxed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Details {
    None,
    Step {
        attempt: Option<i64>,
        result: Option<String>,
        error: Option<Box<ErrorObject>>,
        next_attempt: Option<Box<Timestamp>>,
    },
    Context {
        result: Option<String>,
        error: Option<Box<ErrorObject>>,
        replay_children: Option<bool>,
    },
    Wait(Box<WaitDetails>),
    Callback(Box<CallbackDetails>),
    ChainedInvoke(Box<ChainedInvokeDetails>),
    Execution(Box<ExecutionDetails>),
}

/// What the runtime keeps of one operation: the wire [`Operation`] without its id (the
/// key of the log), its parent id and the encoding of its timestamps, which replay never
/// reads. About a sixth of the size of the wire form; string fields are moved from the
/// wire form, not copied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OpRecord {
    pub(crate) type_: OperationType,
    pub(crate) status: OperationStatus,
    sub_type: SubType,
    name: Option<Box<str>>,
    start_millis: Option<i64>,
    end_millis: Option<i64>,
    details: Details,
}

impl OpRecord {
    /// The record of a wire operation, and its id.
    pub(crate) fn from_wire(op: Operation) -> (String, Self) {
        let details = if let Some(step) = op.step_details {
            Details::Step {
                attempt: step.attempt,
                result: step.result,
                error: step.error.map(Box::new),
                next_attempt: step.next_attempt_timestamp.map(Box::new),
            }
        } else if let Some(context) = op.context_details {
            Details::Context {
                result: context.result,
                error: context.error.map(Box::new),
                replay_children: context.replay_children,
            }
        } else if let Some(wait) = op.wait_details {
            Details::Wait(Box::new(wait))
        } else if let Some(callback) = op.callback_details {
            Details::Callback(Box::new(callback))
        } else if let Some(invoke) = op.chained_invoke_details {
            Details::ChainedInvoke(Box::new(invoke))
        } else if let Some(execution) = op.execution_details {
            Details::Execution(Box::new(execution))
        } else {
            Details::None
        };
        let record = OpRecord {
            type_: op.type_,
            status: op.status,
            sub_type: SubType::from_wire(op.sub_type),
            name: op.name.map(|name| String::from(name).into_boxed_str()),
            start_millis: op.start_timestamp.map(|ts| ts.epoch_millis()),
            end_millis: op.end_timestamp.map(|ts| ts.epoch_millis()),
            details,
        };
        (String::from(op.id), record)
    }

    /// The wire form (without the parent id), for the operations that read more than
    /// replay does.
    pub(crate) fn to_wire(&self, id: &str) -> Operation {
        let mut op = Operation {
            callback_details: None,
            chained_invoke_details: None,
            context_details: None,
            end_timestamp: self.end_millis.map(Timestamp::from_epoch_millis),
            execution_details: None,
            id: OperationId::try_from(id)
                .unwrap_or_else(|_| unreachable!("ids in the log were valid when they arrived")),
            name: self
                .name
                .as_deref()
                .and_then(|name| OperationName::try_from(name).ok()),
            parent_id: None,
            start_timestamp: self.start_millis.map(Timestamp::from_epoch_millis),
            status: self.status,
            step_details: None,
            sub_type: self
                .sub_type
                .as_str()
                .and_then(|sub_type| OperationSubType::try_from(sub_type).ok()),
            type_: self.type_,
            wait_details: None,
        };
        match &self.details {
            Details::None => {}
            Details::Step {
                attempt,
                result,
                error,
                next_attempt,
            } => {
                op.step_details = Some(StepDetails {
                    attempt: *attempt,
                    error: error.as_deref().cloned(),
                    next_attempt_timestamp: next_attempt.as_deref().cloned(),
                    result: result.clone(),
                });
            }
            Details::Context {
                result,
                error,
                replay_children,
            } => {
                op.context_details = Some(ContextDetails {
                    error: error.as_deref().cloned(),
                    replay_children: *replay_children,
                    result: result.clone(),
                });
            }
            Details::Wait(wait) => op.wait_details = Some(WaitDetails::clone(wait)),
            Details::Callback(callback) => {
                op.callback_details = Some(CallbackDetails::clone(callback));
            }
            Details::ChainedInvoke(invoke) => {
                op.chained_invoke_details = Some(ChainedInvokeDetails::clone(invoke));
            }
            Details::Execution(execution) => {
                op.execution_details = Some(ExecutionDetails::clone(execution));
            }
        }
        op
    }

    /// The recorded sub type.
    pub(crate) fn sub_type(&self) -> Option<&str> {
        self.sub_type.as_str()
    }

    /// The recorded name.
    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// `StepDetails.Attempt`.
    pub(crate) fn step_attempt(&self) -> Option<i64> {
        match &self.details {
            Details::Step { attempt, .. } => *attempt,
            _ => None,
        }
    }

    /// The `Result` of the operation's details (step, context, callback or chained
    /// invoke).
    pub(crate) fn result(&self) -> Option<&str> {
        match &self.details {
            Details::Step { result, .. } | Details::Context { result, .. } => result.as_deref(),
            Details::Callback(callback) => callback.result.as_deref(),
            Details::ChainedInvoke(invoke) => invoke.result.as_deref(),
            Details::None | Details::Wait(_) | Details::Execution(_) => None,
        }
    }

    /// The `Error` of the operation's details (step, context, callback or chained
    /// invoke).
    pub(crate) fn error(&self) -> Option<&ErrorObject> {
        match &self.details {
            Details::Step { error, .. } | Details::Context { error, .. } => error.as_deref(),
            Details::Callback(callback) => callback.error.as_ref(),
            Details::ChainedInvoke(invoke) => invoke.error.as_ref(),
            Details::None | Details::Wait(_) | Details::Execution(_) => None,
        }
    }

    /// `ContextDetails.ReplayChildren`.
    pub(crate) fn replay_children(&self) -> Option<bool> {
        match &self.details {
            Details::Context {
                replay_children, ..
            } => *replay_children,
            _ => None,
        }
    }
}

/// An SDK operation id (the SHA-256 of a path, in lowercase hex) as its 32 bytes, kept
/// inline in the index instead of as a string on the heap. They are uniformly distributed, so the first eight
/// are hash enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Digest([u8; 32]);

impl std::hash::Hash for Digest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(word));
    }
}

/// The value of each lowercase hex digit; 0xff for every other byte.
const HEX_VALUE: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut digit = 0;
    while digit < 10 {
        table[b'0' as usize + digit] = digit as u8;
        digit += 1;
    }
    let mut letter = 0;
    while letter < 6 {
        table[b'a' as usize + letter] = 10 + letter as u8;
        letter += 1;
    }
    table
};

/// The digest written by `id`, if it is 64 lowercase hex digits (a one-to-one mapping, so
/// every id still has exactly one key). Branch-free: hex digits are random.
fn digest(id: &str) -> Option<Digest> {
    let bytes = id.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut invalid = 0u8;
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let high = HEX_VALUE[usize::from(pair[0])];
        let low = HEX_VALUE[usize::from(pair[1])];
        invalid |= high | low;
        *slot = (high << 4) | (low & 0x0f);
    }
    (invalid & 0xf0 == 0).then_some(Digest(out))
}

/// The records in the order they arrived (which is the order replay reads them in), and
/// an index by id.
#[derive(Debug, Default)]
struct Log {
    records: Vec<OpRecord>,
    by_digest: IdMap<Digest, u32>,
    by_text: IdMap<Box<str>, u32>,
    /// `StartTimestamp` of the EXECUTION operation.
    execution_start: Option<i64>,
}

impl Log {
    fn position(&self, id: &str) -> Option<usize> {
        self.position_of(digest(id).as_ref(), id)
    }

    fn position_of(&self, digest: Option<&Digest>, id: &str) -> Option<usize> {
        let index = match digest {
            Some(digest) => self.by_digest.get(digest),
            None => self.by_text.get(id),
        };
        index.map(|&index| index as usize)
    }

    fn get(&self, id: &str) -> Option<&OpRecord> {
        self.position(id).and_then(|index| self.records.get(index))
    }

    fn upsert(&mut self, id: String, record: OpRecord) {
        let digest = digest(&id);
        if let Some(slot) = self
            .position_of(digest.as_ref(), &id)
            .and_then(|index| self.records.get_mut(index))
        {
            *slot = record;
            return;
        }
        let index = u32::try_from(self.records.len())
            .unwrap_or_else(|_| unreachable!("an execution has far fewer operations"));
        self.records.push(record);
        match digest {
            Some(digest) => self.by_digest.insert(digest, index),
            None => self.by_text.insert(id.into_boxed_str(), index),
        };
    }
}

/// The operation log, keyed by operation id.
#[derive(Debug, Default)]
pub(crate) struct Operations {
    log: Mutex<Log>,
}

impl Operations {
    pub(crate) fn new(operations: Vec<Operation>) -> Self {
        let store = Self::default();
        store.merge(operations);
        store
    }

    fn lock(&self) -> MutexGuard<'_, Log> {
        // A panic while holding the lock cannot leave the log half-updated (each upsert
        // completes before anything can panic), so a poisoned lock is still usable.
        self.log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Replaces the local copies of `operations`, keyed by id.
    pub(crate) fn merge(&self, operations: Vec<Operation>) {
        if operations.is_empty() {
            return;
        }
        let mut log = self.lock();
        log.records.reserve(operations.len());
        log.by_digest.reserve(operations.len());
        for operation in operations {
            let (id, record) = OpRecord::from_wire(operation);
            if record.type_ == OperationType::Execution {
                log.execution_start = record.start_millis;
            }
            log.upsert(id, record);
        }
    }

    /// A copy of the operation with this id in its wire form (without its parent id), if
    /// the log has it.
    pub(crate) fn get(&self, id: &str) -> Option<Operation> {
        self.lock().get(id).map(|record| record.to_wire(id))
    }

    /// Runs `f` on the record of the operation with this id, without copying it.
    pub(crate) fn with<R>(&self, id: &str, f: impl FnOnce(Option<&OpRecord>) -> R) -> R {
        f(self.lock().get(id))
    }

    /// Like [`with`](Self::with), for the operation whose id is the hex of `digest` (the
    /// SDK's own ids), without reading the hex back.
    pub(crate) fn with_digest<R>(
        &self,
        digest: &[u8; 32],
        f: impl FnOnce(Option<&OpRecord>) -> R,
    ) -> R {
        let log = self.lock();
        let record = log
            .by_digest
            .get(&Digest(*digest))
            .and_then(|&index| log.records.get(index as usize));
        f(record)
    }

    /// The status of the operation with this id, if the log has it.
    pub(crate) fn status(&self, id: &str) -> Option<OperationStatus> {
        self.lock().get(id).map(|record| record.status)
    }

    /// The start time (epoch millis) of the first operation of type `ty`.
    pub(crate) fn find_start(&self, ty: OperationType) -> Option<i64> {
        let log = self.lock();
        if ty == OperationType::Execution {
            return log.execution_start;
        }
        log.records
            .iter()
            .find(|op| op.type_ == ty)
            .and_then(|op| op.start_millis)
    }

    /// Whether any operation satisfies `f`.
    pub(crate) fn any(&self, f: impl Fn(&OpRecord) -> bool) -> bool {
        self.lock().records.iter().any(f)
    }
}

/// Shared state of one invocation.
pub(crate) struct ExecutionState {
    pub(crate) arn: String,
    pub(crate) operations: Arc<Operations>,
    pub(crate) checkpointer: Checkpointer,
    pub(crate) log_during_replay: bool,
    fatal: Mutex<Option<Error>>,
    active: AtomicUsize,
    suspended: AtomicUsize,
}

impl ExecutionState {
    pub(crate) fn new(
        arn: String,
        operations: Arc<Operations>,
        checkpointer: Checkpointer,
        log_during_replay: bool,
    ) -> Self {
        Self {
            arn,
            operations,
            checkpointer,
            log_during_replay,
            fatal: Mutex::new(None),
            active: AtomicUsize::new(0),
            suspended: AtomicUsize::new(0),
        }
    }

    /// Latches an error that ends the invocation whatever the user code does with it.
    /// The first one wins.
    pub(crate) fn fail(&self, error: Error) {
        let mut fatal = self.fatal.lock().unwrap_or_else(|p| p.into_inner());
        if fatal.is_none() {
            *fatal = Some(error);
        }
    }

    /// The latched fatal error, if any.
    pub(crate) fn fatal(&self) -> Option<Error> {
        self.fatal.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Marks the caller as doing work that will finish by itself (a step body, a
    /// checkpoint being written) until the guard is dropped.
    pub(crate) fn active(self: &Arc<Self>) -> ActivityGuard {
        self.active.fetch_add(1, Ordering::SeqCst);
        ActivityGuard {
            state: Arc::clone(self),
            suspended: false,
        }
    }

    /// Parks the caller for the rest of the invocation: the operation cannot finish
    /// without a timer or an external event, which the service delivers by invoking the
    /// function again. Once nothing else is running the invocation suspends.
    pub(crate) async fn park(self: &Arc<Self>) -> ! {
        self.suspended.fetch_add(1, Ordering::SeqCst);
        let _guard = ActivityGuard {
            state: Arc::clone(self),
            suspended: true,
        };
        std::future::pending::<()>().await;
        unreachable!("a pending future never completes")
    }

    /// Whether nothing can progress by itself and at least one operation is parked.
    pub(crate) fn is_quiescent(&self) -> bool {
        self.active.load(Ordering::SeqCst) == 0 && self.suspended.load(Ordering::SeqCst) > 0
    }

    /// Whether some operation is parked.
    pub(crate) fn has_parked(&self) -> bool {
        self.suspended.load(Ordering::SeqCst) > 0
    }

    /// Checkpoints `update` and waits for it, latching a failure as fatal.
    pub(crate) async fn checkpoint(
        self: &Arc<Self>,
        update: crate::wire::OperationUpdate,
    ) -> Result<(), Error> {
        let _active = self.active();
        let result = self.checkpointer.checkpoint(update).await;
        if let Err(err) = &result {
            self.fail(err.clone());
        }
        result
    }
}

/// See [`ExecutionState::active`] and [`ExecutionState::park`].
pub(crate) struct ActivityGuard {
    state: Arc<ExecutionState>,
    suspended: bool,
}

impl Drop for ActivityGuard {
    fn drop(&mut self) {
        let counter = if self.suspended {
            &self.state.suspended
        } else {
            &self.state.active
        };
        counter.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    fn op(json: serde_json::Value) -> Operation {
        serde_json::from_value(json).unwrap()
    }

    /// The compact record gives back the wire form it was made from (but the parent id).
    #[test]
    fn records_round_trip_to_the_wire_form() {
        let samples = [
            serde_json::json!({"Id": "s1", "Type": "STEP", "Status": "SUCCEEDED", "SubType": "Step",
                "Name": "charge", "ParentId": "p", "StartTimestamp": 1767225600, "EndTimestamp": 1767225601.5,
                "StepDetails": {"Attempt": 2, "Result": "\"ok\"", "NextAttemptTimestamp": 1767225700,
                    "Error": {"ErrorType": "E", "ErrorMessage": "m", "StackTrace": ["a"]}}}),
            serde_json::json!({"Id": "c1", "Type": "CONTEXT", "Status": "FAILED", "SubType": "Custom-Sub",
                "ContextDetails": {"ReplayChildren": true, "Error": {"ErrorType": "E"}}}),
            serde_json::json!({"Id": "w1", "Type": "WAIT", "Status": "STARTED", "SubType": "Wait",
                "WaitDetails": {"ScheduledEndTimestamp": 1767225900}}),
            serde_json::json!({"Id": "cb", "Type": "CALLBACK", "Status": "STARTED",
                "CallbackDetails": {"CallbackId": "abc", "Result": "1"}}),
            serde_json::json!({"Id": "cb2", "Type": "CALLBACK", "Status": "TIMED_OUT",
                "CallbackDetails": {"CallbackId": "abd", "Error": {"ErrorType": "T"}}}),
            serde_json::json!({"Id": "i1", "Type": "CHAINED_INVOKE", "Status": "SUCCEEDED",
                "ChainedInvokeDetails": {"Result": "2"}}),
            serde_json::json!({"Id": "i2", "Type": "CHAINED_INVOKE", "Status": "FAILED",
                "ChainedInvokeDetails": {"Error": {"ErrorMessage": "m"}}}),
            serde_json::json!({"Id": "ex", "Type": "EXECUTION", "Status": "STARTED",
                "StartTimestamp": 1767225600, "ExecutionDetails": {"InputPayload": "{}"}}),
        ];
        for sample in samples {
            let mut wire = op(sample);
            let (id, record) = OpRecord::from_wire(wire.clone());
            let result = wire
                .step_details
                .as_ref()
                .and_then(|d| d.result.clone())
                .or_else(|| wire.context_details.as_ref().and_then(|d| d.result.clone()))
                .or_else(|| {
                    wire.callback_details
                        .as_ref()
                        .and_then(|d| d.result.clone())
                })
                .or_else(|| {
                    wire.chained_invoke_details
                        .as_ref()
                        .and_then(|d| d.result.clone())
                });
            assert_eq!(record.result(), result.as_deref());
            let error = wire
                .step_details
                .as_ref()
                .and_then(|d| d.error.clone())
                .or_else(|| wire.context_details.as_ref().and_then(|d| d.error.clone()))
                .or_else(|| wire.callback_details.as_ref().and_then(|d| d.error.clone()))
                .or_else(|| {
                    wire.chained_invoke_details
                        .as_ref()
                        .and_then(|d| d.error.clone())
                });
            assert_eq!(record.error(), error.as_ref());
            assert_eq!(id, wire.id.as_str());
            wire.parent_id = None;
            assert_eq!(record.to_wire(&id), wire);
        }
    }

    #[test]
    fn merge_replaces_and_keeps_the_execution_start() {
        let store = Operations::new(vec![
            op(
                serde_json::json!({"Id": "ex", "Type": "EXECUTION", "Status": "STARTED", "StartTimestamp": 1767225600}),
            ),
            op(serde_json::json!({"Id": "a", "Type": "STEP", "Status": "STARTED"})),
        ]);
        store.merge(vec![op(
            serde_json::json!({"Id": "a", "Type": "STEP", "Status": "SUCCEEDED", "StepDetails": {"Result": "1"}}),
        )]);
        assert_eq!(store.status("a"), Some(OperationStatus::Succeeded));
        assert_eq!(
            store.with("a", |op| op.and_then(OpRecord::result).map(str::to_string)),
            Some("1".to_string())
        );
        assert_eq!(
            store.find_start(OperationType::Execution),
            Some(1_767_225_600_000)
        );
        assert_eq!(store.find_start(OperationType::Wait), None);
        assert!(store.any(|op| op.type_ == OperationType::Step));
        assert!(store.get("missing").is_none());
    }

    #[test]
    fn ids_of_every_form_are_keys() {
        let digest_id = crate::replay::operation_id("1");
        let upper = digest_id.to_uppercase();
        let ids = [
            digest_id.as_str(),
            upper.as_str(),
            "a",
            "execution-1",
            &digest_id[..63],
        ];
        let store = Operations::new(
            ids.iter()
                .enumerate()
                .map(|(n, id)| {
                    op(
                        serde_json::json!({"Id": id, "Type": "STEP", "Status": "STARTED",
                        "StepDetails": {"Attempt": n}}),
                    )
                })
                .collect(),
        );
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(
                store.with(id, |op| op.and_then(OpRecord::step_attempt)),
                Some(n as i64),
                "{id}"
            );
        }
        assert!(store.get(&crate::replay::operation_id("2")).is_none());
        assert_eq!(
            store.with_digest(&crate::replay::path_digest("1"), |op| op
                .and_then(OpRecord::step_attempt)),
            Some(0)
        );
        assert_eq!(digest("0g".repeat(32).as_str()), None);
        assert_eq!(digest("0A".repeat(32).as_str()), None);
        assert_eq!(digest(&"0f".repeat(32)), Some(Digest([0x0f; 32])));
    }

    #[test]
    fn the_id_hasher_spreads_hex_ids() {
        let build = BuildHasherDefault::<IdHasher>::default();
        let mut seen = std::collections::HashSet::new();
        for n in 0..10_000 {
            let id = crate::replay::operation_id(&n.to_string());
            seen.insert(build.hash_one(id.as_str()) >> 57);
        }
        // The top 7 bits (hashbrown's control byte) take every value.
        assert_eq!(seen.len(), 128);
    }
}
