//! The operation log of one invocation: every operation the execution has recorded, kept
//! compactly and indexed by id, with what replay learns about each of them in this
//! invocation (whether it was visited, whether a context's body ran to its end). Pure data:
//! no I/O, shared by the replay core, the operation shells and the checkpoint writer that
//! merges the service's responses into it.
//!
//! # Operations this SDK version cannot interpret
//!
//! A newer service may record an operation with a type or status this SDK version's
//! schemas do not list. The wire enumerations are open (the value parses into their
//! `Unknown` variant), so such an operation does not fail the envelope, a state page or a
//! checkpoint response: it is kept here like any other, with its id, parent and raw
//! values. Nothing reads it unless replay reaches it; then the lookup itself fails with
//! [`Error::UnknownProtocolValue`], naming the operation and the value, and latches that
//! error so the execution fails whatever the code does with it. (The alternative, closed
//! enumerations with a tolerant parse of each operation into the log, would need a second,
//! raw representation to travel through the envelope, the `DurableService` trait and the
//! AWS conversion; the open enumerations carry the value the whole way with one type.)

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::Error;
use crate::wire::{
    CallbackDetails, ChainedInvokeDetails, ErrorObject, ExecutionDetails, Operation, OperationId,
    OperationStatus, OperationSubType, OperationType, Timestamp, WaitDetails,
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
pub(crate) const SUB_TYPES: [&str; 17] = [
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
    "Patch",
    "WithRetry",
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
    /// The enclosing CONTEXT operation.
    parent: Parent,
    /// Whether the code looked this operation up during this invocation.
    visited: bool,
    /// For a CONTEXT: whether its body ran to its end during this invocation, so that
    /// every operation recorded under it must have been visited.
    body_completed: bool,
}

/// The `ParentId` of a record: an SDK id kept as its digest, or another id as text.
#[derive(Debug, Clone, PartialEq)]
enum Parent {
    Root,
    Digest(Digest),
    Text(Box<str>),
}

impl Parent {
    fn from_wire(parent: Option<OperationId>) -> Self {
        match parent {
            None => Parent::Root,
            Some(id) => match digest(id.as_str()) {
                Some(digest) => Parent::Digest(digest),
                None => Parent::Text(String::from(id).into_boxed_str()),
            },
        }
    }
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
            parent: Parent::from_wire(op.parent_id),
            visited: false,
            body_completed: false,
        };
        (String::from(op.id), record)
    }

    /// The wire form (without the parent id), for the operations that read more than
    /// replay does.
    #[cfg(test)]
    pub(crate) fn to_wire(&self, id: &str) -> Operation {
        use crate::wire::{ContextDetails, OperationName, StepDetails};
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

    /// The record as plugins see it.
    pub(crate) fn info(&self, id: String, is_replay: bool) -> crate::plugin::OperationInfo {
        let (result, error, attempt) = match &self.details {
            Details::Step {
                attempt,
                result,
                error,
                ..
            } => (
                result.clone(),
                error.as_deref().cloned(),
                attempt.and_then(|attempt| u32::try_from(attempt).ok()),
            ),
            Details::Context { result, error, .. } => {
                (result.clone(), error.as_deref().cloned(), None)
            }
            Details::Callback(details) => (details.result.clone(), details.error.clone(), None),
            Details::ChainedInvoke(details) => {
                (details.result.clone(), details.error.clone(), None)
            }
            Details::None | Details::Wait(_) | Details::Execution(_) => (None, None, None),
        };
        crate::plugin::OperationInfo {
            id,
            operation_type: self.type_,
            sub_type: self.sub_type.as_str().map(str::to_string),
            name: self.name.as_deref().map(str::to_string),
            parent_id: match &self.parent {
                Parent::Root => None,
                Parent::Digest(digest) => Some(crate::replay::hex_id(&digest.0)),
                Parent::Text(id) => Some(id.to_string()),
            },
            start_time: self.start_millis.and_then(crate::plugin::time_of),
            end_time: self.end_millis.and_then(crate::plugin::time_of),
            status: self.status,
            result,
            error,
            attempt,
            is_replay,
        }
    }

    /// What of this record this SDK version does not know (`operation type "X"`,
    /// `operation status "Y"`), if anything: such a record cannot be replayed.
    pub(crate) fn not_understood(&self) -> Option<String> {
        match (self.type_.is_unknown(), self.status.is_unknown()) {
            (false, false) => None,
            (true, false) => Some(format!("operation type {:?}", self.type_.as_str())),
            (false, true) => Some(format!("operation status {:?}", self.status.as_str())),
            (true, true) => Some(format!(
                "operation type {:?} (with status {:?})",
                self.type_.as_str(),
                self.status.as_str()
            )),
        }
    }

    /// [`Error::UnknownProtocolValue`] for the operation `id` if this SDK version cannot
    /// interpret its record.
    pub(crate) fn check_known(&self, id: &str) -> Result<(), Error> {
        match self.not_understood() {
            None => Ok(()),
            Some(what) => Err(Error::UnknownProtocolValue {
                id: id.to_string(),
                what,
            }),
        }
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

    /// `CallbackDetails.CallbackId`.
    pub(crate) fn callback_id(&self) -> Option<&str> {
        match &self.details {
            Details::Callback(callback) => callback.callback_id.as_ref().map(|id| id.as_str()),
            _ => None,
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

/// The info of a record replay reaches for the first time in this invocation, if it is
/// one plugins hear of as started again: recorded, not finished, not READY to run again,
/// not the EXECUTION operation.
fn replayed_start_info(
    record: &OpRecord,
    digest: &[u8; 32],
) -> Option<crate::plugin::OperationInfo> {
    let reported = record.type_ != OperationType::Execution
        && record.status != crate::wire::OperationStatus::Ready
        && !crate::replay::is_terminal(record.status)
        && record.not_understood().is_none();
    reported.then(|| record.info(crate::replay::hex_id(digest), true))
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
    /// The first record this SDK version cannot interpret that the code reached.
    reached_unknown: Option<Error>,
}

impl Log {
    /// The id of every record, in log order.
    fn ids(&self) -> Vec<String> {
        let mut ids = vec![String::new(); self.records.len()];
        for (digest, &index) in &self.by_digest {
            if let Some(slot) = ids.get_mut(index as usize) {
                *slot = crate::replay::hex_id(&digest.0);
            }
        }
        for (id, &index) in &self.by_text {
            if let Some(slot) = ids.get_mut(index as usize) {
                *slot = id.to_string();
            }
        }
        ids
    }

    /// How many records there are, the EXECUTION operation's aside.
    fn operation_count(&self) -> usize {
        self.records
            .iter()
            .filter(|record| record.type_ != OperationType::Execution)
            .count()
    }

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

    #[cfg(test)]
    fn get(&self, id: &str) -> Option<&OpRecord> {
        self.position(id).and_then(|index| self.records.get(index))
    }

    /// The record `id` if this SDK version can interpret it; otherwise latches the error
    /// (see [`Operations::reached_unknown`]) and reads as not recorded.
    fn get_known(&mut self, id: &str) -> Option<&OpRecord> {
        let index = self.position(id)?;
        let record = self.records.get(index)?;
        if let Err(err) = record.check_known(id) {
            self.reached_unknown.get_or_insert(err);
            return None;
        }
        self.records.get(index)
    }

    fn upsert(&mut self, id: String, record: OpRecord) {
        let digest = digest(&id);
        if let Some(slot) = self
            .position_of(digest.as_ref(), &id)
            .and_then(|index| self.records.get_mut(index))
        {
            // What this invocation learnt about the operation stays.
            let (visited, body_completed) = (slot.visited, slot.body_completed);
            *slot = record;
            slot.visited = visited;
            slot.body_completed = body_completed;
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
    /// Changes at each merge of the service's answers and each write of queued updates,
    /// so that operations parked on the service can look at their record again when it
    /// may have changed.
    changes: crate::signal::Signal,
    /// The number of the last queued update that is written (see
    /// [`written`](Self::written)).
    written: std::sync::atomic::AtomicU64,
    /// The typical time of a call to the service, in microseconds (a moving average; 0
    /// before the first call).
    round_trip: std::sync::atomic::AtomicU64,
    /// How many answers that changed records were merged.
    merges: std::sync::atomic::AtomicU64,
    /// What the log tells of the service's clock (see [`service_now`](Self::service_now)).
    clock: Mutex<ServiceClock>,
    /// The plugins that see what is merged into the log and what replay reaches.
    observer: Option<Observer>,
}

/// The service's clock as the log sees it: the latest timestamp of a record, when it was
/// first seen, and when the service last answered.
#[derive(Debug, Default)]
struct ServiceClock {
    latest: Option<(i64, tokio::time::Instant)>,
    answered: Option<tokio::time::Instant>,
}

impl ServiceClock {
    fn saw(&mut self, millis: impl Iterator<Item = i64>) {
        if let Some(max) = millis.max() {
            if self.latest.is_none_or(|(latest, _)| max > latest) {
                self.latest = Some((max, tokio::time::Instant::now()));
            }
        }
    }
}

/// The plugins of an observed log, and the execution it belongs to.
#[derive(Debug)]
struct Observer {
    hooks: crate::plugin::Hooks,
    arn: Arc<str>,
}

/// What a merge changed, for the plugins: the operations new or with a changed status,
/// and those of them that became terminal.
struct Merged {
    changed: Vec<crate::plugin::OperationInfo>,
    ended: Vec<crate::plugin::OperationInfo>,
    count: usize,
}

impl Operations {
    /// The log of the operations an invocation starts with: none of them visited yet.
    pub(crate) fn new(operations: Vec<Operation>) -> Self {
        let store = Self::default();
        store
            .clock
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .saw(timestamps(&operations));
        store.insert(operations, false);
        store
    }

    fn lock(&self) -> MutexGuard<'_, Log> {
        // A panic while holding the lock cannot leave the log half-updated (each upsert
        // completes before anything can panic), so a poisoned lock is still usable.
        self.log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The same log, observed by `hooks` (if any plugin is registered): what is merged
    /// into it and what replay reaches are reported to them.
    pub(crate) fn observed(mut self, hooks: crate::plugin::Hooks, arn: &str) -> Self {
        if hooks.is_active() {
            self.observer = Some(Observer {
                hooks,
                arn: arn.into(),
            });
        }
        self
    }

    /// The plugins observing this log, if any.
    pub(crate) fn hooks(&self) -> Option<&crate::plugin::Hooks> {
        self.observer.as_ref().map(|observer| &observer.hooks)
    }

    /// Reports the START of an operation that is about to be checkpointed to the plugins,
    /// if any: as a replay when the log holds it already (the retry of a step), with the
    /// attempt that starts for a step.
    pub(crate) fn live_start(&self, update: &crate::wire::OperationUpdate) {
        let Some(observer) = &self.observer else {
            return;
        };
        if update.action != crate::wire::OperationAction::Start
            || update.type_ == OperationType::Execution
        {
            return;
        }
        let recorded = {
            let log = self.lock();
            log.position(update.id.as_str())
                .and_then(|index| log.records.get(index))
                .map(|record| match &record.details {
                    Details::Step { attempt, .. } => attempt.unwrap_or(0),
                    _ => 0,
                })
        };
        let attempt = (update.type_ == OperationType::Step)
            .then(|| u32::try_from(recorded.unwrap_or(0).saturating_add(1)).unwrap_or(u32::MAX));
        let info = crate::plugin::OperationInfo {
            attempt,
            is_replay: recorded.is_some(),
            ..crate::plugin::OperationInfo::starting(update)
        };
        observer
            .hooks
            .dispatch("operation-start", |plugin| plugin.on_operation_start(&info));
    }

    /// Replaces the local copies of `operations`, keyed by id, with what the service
    /// answered to this invocation's checkpoints. An operation that is new to the log was
    /// written by this invocation, so it counts as visited. Plugins hear of the operations
    /// that are new or changed status, and of those that ended.
    pub(crate) fn merge(self: &Arc<Self>, operations: Vec<Operation>) {
        {
            let mut clock = self.clock.lock().unwrap_or_else(|p| p.into_inner());
            clock.answered = Some(tokio::time::Instant::now());
            clock.saw(timestamps(&operations));
        }
        if operations.is_empty() {
            return;
        }
        self.merge_records(operations);
        self.merges
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Wakes the parked operations: their records may have changed.
        self.changes.bump();
    }

    /// Notes that the checkpoint writer wrote update `number` (numbered from 1 as they
    /// are queued) and every one before it, and merged the answer (or failed to write them:
    /// either way they are no longer under way).
    pub(crate) fn mark_written(&self, number: u64) {
        self.written
            .fetch_max(number, std::sync::atomic::Ordering::SeqCst);
        self.changes.bump();
    }

    /// See [`mark_written`](Self::mark_written).
    pub(crate) fn written(&self) -> u64 {
        self.written.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn merge_records(self: &Arc<Self>, operations: Vec<Operation>) {
        let Some(observer) = &self.observer else {
            self.insert(operations, true);
            return;
        };
        let merged = self.insert_observed(operations);
        if merged.changed.is_empty() {
            return;
        }
        let change = crate::plugin::OperationChangeInfo {
            execution_arn: observer.arn.to_string(),
            updated_operations: merged.changed,
            operation_count: merged.count,
            log: Arc::clone(self),
        };
        observer.hooks.dispatch("operation-change", |plugin| {
            plugin.on_operation_change(&change)
        });
        for info in &merged.ended {
            observer
                .hooks
                .dispatch("operation-end", |plugin| plugin.on_operation_end(info));
        }
    }

    /// [`insert`](Self::insert) of merged operations, noting for the plugins what changed.
    fn insert_observed(&self, operations: Vec<Operation>) -> Merged {
        let mut merged = Merged {
            changed: Vec::new(),
            ended: Vec::new(),
            count: 0,
        };
        let mut log = self.lock();
        for operation in operations {
            let (id, mut record) = OpRecord::from_wire(operation);
            record.visited = true;
            if record.type_ == OperationType::Execution {
                log.execution_start = record.start_millis;
                log.upsert(id, record);
                continue;
            }
            let before = log
                .position(&id)
                .and_then(|index| log.records.get(index))
                .map(|old| old.status);
            if before != Some(record.status) {
                let info = record.info(id.clone(), before.is_some());
                if crate::replay::is_terminal(record.status)
                    && !before.is_some_and(crate::replay::is_terminal)
                {
                    merged.ended.push(info.clone());
                }
                merged.changed.push(info);
            }
            log.upsert(id, record);
        }
        merged.count = log.operation_count();
        merged
    }

    /// A log of the operations `infos` describe (their identity, status and times), for
    /// the infos plugin tests make. Ids the service would refuse are left out.
    pub(crate) fn from_infos(infos: &[crate::plugin::OperationInfo]) -> Self {
        let millis = |time: Option<std::time::SystemTime>| {
            time.and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
                .and_then(|since| i64::try_from(since.as_millis()).ok())
                .map(crate::wire::Timestamp::from_epoch_millis)
        };
        let operations = infos
            .iter()
            .filter_map(|info| {
                let id = OperationId::try_from(info.id.as_str()).ok()?;
                let mut op = Operation::new(id, info.status, info.operation_type);
                op.name = info
                    .name
                    .as_deref()
                    .and_then(|name| crate::wire::OperationName::try_from(name).ok());
                op.parent_id = info
                    .parent_id
                    .as_deref()
                    .and_then(|id| OperationId::try_from(id).ok());
                op.sub_type = info
                    .sub_type
                    .as_deref()
                    .and_then(|sub| crate::wire::OperationSubType::try_from(sub).ok());
                op.start_timestamp = millis(info.start_time);
                op.end_timestamp = millis(info.end_time);
                Some(op)
            })
            .collect();
        Self::new(operations)
    }

    /// The infos of the operations (the EXECUTION operation aside) for which `keep` holds,
    /// in log order.
    pub(crate) fn infos(
        &self,
        keep: impl Fn(&str, &OpRecord) -> bool,
    ) -> Vec<crate::plugin::OperationInfo> {
        let log = self.lock();
        log.ids()
            .into_iter()
            .zip(&log.records)
            .filter(|(id, record)| record.type_ != OperationType::Execution && keep(id, record))
            .map(|(id, record)| record.info(id, true))
            .collect()
    }

    /// How many operations the log holds, the EXECUTION operation aside.
    pub(crate) fn operation_count(&self) -> usize {
        self.lock().operation_count()
    }

    /// Reports a recorded operation that replay reaches for the first time in this
    /// invocation while it is not finished (nor READY to run again) as started again.
    fn replayed_start(&self, info: Option<crate::plugin::OperationInfo>) {
        if let (Some(observer), Some(info)) = (&self.observer, info) {
            observer
                .hooks
                .dispatch("operation-start", |plugin| plugin.on_operation_start(&info));
        }
    }

    fn insert(&self, operations: Vec<Operation>, visited: bool) {
        if operations.is_empty() {
            return;
        }
        let mut log = self.lock();
        log.records.reserve(operations.len());
        log.by_digest.reserve(operations.len());
        for operation in operations {
            let (id, mut record) = OpRecord::from_wire(operation);
            record.visited = visited;
            if record.type_ == OperationType::Execution {
                log.execution_start = record.start_millis;
            }
            log.upsert(id, record);
        }
    }

    /// The service's time now, in epoch milliseconds, as far as the log tells: the latest
    /// timestamp it holds, moved on by the time passed since it arrived. `None` before any
    /// record has a timestamp.
    pub(crate) fn service_now(&self) -> Option<i64> {
        let clock = self.clock.lock().unwrap_or_else(|p| p.into_inner());
        let (latest, at) = clock.latest?;
        let elapsed = i64::try_from(at.elapsed().as_millis()).unwrap_or(i64::MAX);
        Some(latest.saturating_add(elapsed))
    }

    /// Notes how long a call to the service took (from sending it to its answer).
    pub(crate) fn note_round_trip(&self, took: std::time::Duration) {
        use std::sync::atomic::Ordering::Relaxed;
        // At least 1 µs: 0 means no call yet.
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1);
        // A moving average that follows the latest calls (weight 1/4). One writer (the
        // checkpoint writer), so a load and a store do.
        let average = match self.round_trip.load(Relaxed) {
            0 => micros,
            average => (average - average / 4 + micros / 4).max(1),
        };
        self.round_trip.store(average, Relaxed);
    }

    /// The typical time of a call to the service in this invocation, in milliseconds;
    /// `None` before the first call.
    pub(crate) fn round_trip_millis(&self) -> Option<i64> {
        match self.round_trip.load(std::sync::atomic::Ordering::Relaxed) {
            0 => None,
            micros => Some(i64::try_from(micros / 1000).unwrap_or(i64::MAX)),
        }
    }

    /// How long ago the service last answered a call of this invocation, in milliseconds;
    /// `None` before the first answer.
    pub(crate) fn since_answer(&self) -> Option<i64> {
        let clock = self.clock.lock().unwrap_or_else(|p| p.into_inner());
        clock
            .answered
            .map(|at| i64::try_from(at.elapsed().as_millis()).unwrap_or(i64::MAX))
    }

    /// How many answers of the service that carried operations were merged so far.
    pub(crate) fn merges(&self) -> u64 {
        self.merges.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A watcher that sees every merge of the service's answers into the log, and every
    /// write of queued updates.
    pub(crate) fn changes(&self) -> crate::signal::Watcher {
        self.changes.watch()
    }

    /// When the operation with this id is due to be ready, in epoch milliseconds: the end
    /// of a wait, the next attempt of a step or a check waiting to retry. `None` for
    /// operations the service finishes at no set time (callbacks, chained invokes) and for
    /// ids the log does not hold.
    pub(crate) fn due_millis(&self, id: &str) -> Option<i64> {
        let log = self.lock();
        let record = log.position(id).and_then(|index| log.records.get(index))?;
        match &record.details {
            Details::Wait(wait) => wait
                .scheduled_end_timestamp
                .as_ref()
                .map(Timestamp::epoch_millis),
            Details::Step { next_attempt, .. } => {
                next_attempt.as_deref().map(Timestamp::epoch_millis)
            }
            _ => None,
        }
    }

    /// A copy of the operation with this id in its wire form (without its parent id), if
    /// the log has it. A record this SDK version cannot interpret reads as absent, and
    /// latches [`Error::UnknownProtocolValue`] (see [`reached_unknown`](Self::reached_unknown)).
    #[cfg(test)]
    pub(crate) fn get(&self, id: &str) -> Option<Operation> {
        self.lock().get_known(id).map(|record| record.to_wire(id))
    }

    /// Runs `f` on the record of the operation with this id, without copying it. A record
    /// this SDK version cannot interpret reads as absent, as in [`get`](Self::get).
    pub(crate) fn with<R>(&self, id: &str, f: impl FnOnce(Option<&OpRecord>) -> R) -> R {
        f(self.lock().get_known(id))
    }

    /// Like [`with`](Self::with), for the operation whose id is the hex of `digest` (the
    /// SDK's own ids), without reading the hex back; marks the operation as visited.
    /// A record this SDK version cannot interpret reads as absent, as in [`get`](Self::get).
    pub(crate) fn visit<R>(&self, digest: &[u8; 32], f: impl FnOnce(Option<&OpRecord>) -> R) -> R {
        let mut guard = self.lock();
        let log = &mut *guard;
        let record = log
            .by_digest
            .get(&Digest(*digest))
            .and_then(|&index| log.records.get_mut(index as usize));
        let Some(record) = record else {
            return f(None);
        };
        let replayed = (self.observer.is_some() && !record.visited)
            .then(|| replayed_start_info(record, digest))
            .flatten();
        record.visited = true;
        if let Err(err) = record.check_known(&crate::replay::hex_id(digest)) {
            log.reached_unknown.get_or_insert(err);
            return f(None);
        }
        let out = f(Some(record));
        drop(guard);
        self.replayed_start(replayed);
        out
    }

    /// The replay lookup: like [`visit`](Self::visit), but a record this SDK version cannot
    /// interpret is an error, [`Error::UnknownProtocolValue`] naming the operation and the
    /// value (also latched, see [`reached_unknown`](Self::reached_unknown)), and `f` does not
    /// run.
    pub(crate) fn lookup<R>(
        &self,
        digest: &[u8; 32],
        f: impl FnOnce(Option<&OpRecord>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let mut guard = self.lock();
        let log = &mut *guard;
        let record = log
            .by_digest
            .get(&Digest(*digest))
            .and_then(|&index| log.records.get_mut(index as usize));
        let Some(record) = record else {
            return f(None);
        };
        let replayed = (self.observer.is_some() && !record.visited)
            .then(|| replayed_start_info(record, digest))
            .flatten();
        record.visited = true;
        if let Err(err) = record.check_known(&crate::replay::hex_id(digest)) {
            if log.reached_unknown.is_none() {
                log.reached_unknown = err.fatal_copy();
            }
            return Err(err);
        }
        let out = f(Some(record));
        drop(guard);
        self.replayed_start(replayed);
        out
    }

    /// The first record this SDK version cannot interpret that the code reached in this
    /// invocation ([`Error::UnknownProtocolValue`]): the execution must fail with it.
    pub(crate) fn reached_unknown(&self) -> Option<Error> {
        self.lock()
            .reached_unknown
            .as_ref()
            .and_then(Error::fatal_copy)
    }

    /// Whether the log holds a record for the operation whose id is the hex of `digest`
    /// (one this SDK version cannot interpret too), without visiting it.
    pub(crate) fn contains(&self, digest: &[u8; 32]) -> bool {
        self.lock().by_digest.contains_key(&Digest(*digest))
    }

    /// The `EndTimestamp` (epoch millis) of the operation whose id is the hex of `digest`.
    pub(crate) fn end_millis(&self, digest: &[u8; 32]) -> Option<i64> {
        let log = self.lock();
        log.by_digest
            .get(&Digest(*digest))
            .and_then(|&index| log.records.get(index as usize))
            .and_then(|record| record.end_millis)
    }

    /// Notes that the body of the CONTEXT operation whose id is the hex of `digest` ran to
    /// its end in this invocation (see [`first_unvisited`](Self::first_unvisited)).
    pub(crate) fn body_completed(&self, digest: &[u8; 32]) {
        let mut log = self.lock();
        let log = &mut *log;
        if let Some(record) = log
            .by_digest
            .get(&Digest(*digest))
            .and_then(|&index| log.records.get_mut(index as usize))
        {
            record.body_completed = true;
        }
    }

    /// The first recorded operation (in log order) that the code did not ask for, although
    /// the body it belongs to ran to its end in this invocation (the handler itself for the
    /// operations at the root): its id and a description. A complete replay of a
    /// deterministic handler visits every such operation. When this SDK version cannot
    /// interpret that record (so it cannot tell whether the code should have asked for
    /// it), [`Error::UnknownProtocolValue`] is latched as well (see
    /// [`reached_unknown`](Self::reached_unknown)), and is the error to report.
    pub(crate) fn first_unvisited(&self) -> Option<(String, String)> {
        let mut log = self.lock();
        let parent_completed = |parent: &Parent| match parent {
            Parent::Root => true,
            Parent::Digest(digest) => log
                .by_digest
                .get(digest)
                .and_then(|&index| log.records.get(index as usize))
                .is_some_and(|record| record.body_completed),
            Parent::Text(id) => log
                .by_text
                .get(id)
                .and_then(|&index| log.records.get(index as usize))
                .is_some_and(|record| record.body_completed),
        };
        let index = log.records.iter().position(|record| {
            !record.visited
                && crate::replay::completion::counts_as_skipped(record.type_, record.sub_type())
                && parent_completed(&record.parent)
        })?;
        let record = &log.records[index];
        let index = u32::try_from(index).ok()?;
        let id = log
            .by_digest
            .iter()
            .find(|(_, &at)| at == index)
            .map(|(digest, _)| crate::replay::hex_id(&digest.0))
            .or_else(|| {
                log.by_text
                    .iter()
                    .find(|(_, &at)| at == index)
                    .map(|(id, _)| id.to_string())
            })?;
        let found = crate::replay::describe(record.type_, record.sub_type(), record.name());
        if let Err(err) = record.check_known(&id) {
            log.reached_unknown.get_or_insert(err);
        }
        Some((id, found))
    }

    /// The status of the operation with this id, if the log has it.
    #[cfg(test)]
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
}

/// The start and end timestamps of `operations`, in epoch milliseconds.
fn timestamps(operations: &[Operation]) -> impl Iterator<Item = i64> + '_ {
    operations.iter().flat_map(|op| {
        [op.start_timestamp.as_ref(), op.end_timestamp.as_ref()]
            .into_iter()
            .flatten()
            .map(Timestamp::epoch_millis)
    })
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
        let store = Arc::new(Operations::new(vec![
            op(
                serde_json::json!({"Id": "ex", "Type": "EXECUTION", "Status": "STARTED", "StartTimestamp": 1767225600}),
            ),
            op(serde_json::json!({"Id": "a", "Type": "STEP", "Status": "STARTED"})),
        ]));
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
        let store = Arc::new(Operations::new(
            ids.iter()
                .enumerate()
                .map(|(n, id)| {
                    op(
                        serde_json::json!({"Id": id, "Type": "STEP", "Status": "STARTED",
                        "StepDetails": {"Attempt": n}}),
                    )
                })
                .collect(),
        ));
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(
                store.with(id, |op| op.and_then(OpRecord::step_attempt)),
                Some(n as i64),
                "{id}"
            );
        }
        assert!(store.get(&crate::replay::operation_id("2")).is_none());
        assert_eq!(
            store.visit(&crate::replay::path_digest("1"), |op| op
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

    fn unknown_value(err: Option<Error>) -> (String, String) {
        match err {
            Some(Error::UnknownProtocolValue { id, what }) => (id, what),
            other => panic!("expected UnknownProtocolValue, got {other:?}"),
        }
    }

    /// Operations with a type or status this SDK does not know are kept (with their id,
    /// parent and raw values); only looking them up fails, naming the operation and the
    /// value, and latches the error.
    #[test]
    fn unknown_values_are_kept_and_fail_only_the_lookup() {
        let step = crate::replay::operation_id("1");
        let store = Arc::new(Operations::new(vec![
            op(
                serde_json::json!({"Id": "ex", "Type": "EXECUTION", "Status": "STARTED",
                "StartTimestamp": 1767225600}),
            ),
            op(
                serde_json::json!({"Id": step, "Type": "STEP", "Status": "PAUSED",
                "StepDetails": {"Attempt": 1}}),
            ),
            op(serde_json::json!({"Id": "t", "Type": "TIMER", "Status": "ARMED", "ParentId": "p"})),
        ]));
        assert!(store.reached_unknown().is_none());
        // Scans that do not interpret the record are unaffected.
        assert_eq!(
            store.find_start(OperationType::Execution),
            Some(1_767_225_600_000)
        );
        assert_eq!(store.find_start(OperationType::Step), None);
        assert_eq!(
            store.status(&step).map(|s| s.to_string()).as_deref(),
            Some("PAUSED")
        );

        let mut ran = false;
        let err = store
            .lookup(&crate::replay::path_digest("1"), |_| {
                ran = true;
                Ok(())
            })
            .unwrap_err();
        assert!(!ran, "the caller never sees the record");
        assert_eq!(
            unknown_value(err.fatal_copy()),
            (step.clone(), "operation status \"PAUSED\"".to_string())
        );
        assert!(err.is_fatal());
        let message = err.to_string();
        assert!(
            message.contains(&step) && message.contains("upgrade the SDK"),
            "{message}"
        );
        assert_eq!(
            store.reached_unknown().map(|e| e.to_string()),
            Some(message)
        );

        // The record-level reads hide the record (it reads as not recorded) and latch.
        let store = Arc::new(Operations::new(vec![op(
            serde_json::json!({"Id": "t", "Type": "TIMER", "Status": "ARMED"}),
        )]));
        assert!(store.get("t").is_none());
        assert_eq!(
            unknown_value(store.reached_unknown()),
            (
                "t".to_string(),
                "operation type \"TIMER\" (with status \"ARMED\")".to_string()
            )
        );
        let store = Arc::new(Operations::new(vec![op(
            serde_json::json!({"Id": "t", "Type": "TIMER", "Status": "STARTED"}),
        )]));
        assert!(store.with("t", |record| record.is_none()));
        assert_eq!(
            unknown_value(store.reached_unknown()).1,
            "operation type \"TIMER\""
        );
        // A record missing altogether is not an error.
        assert!(store.get("missing").is_none());
        assert!(store
            .lookup(&crate::replay::path_digest("9"), |op| Ok(op.is_none()))
            .unwrap());
    }

    /// A known operation that a checkpoint response turns into an unknown one is replaced
    /// like any other, and then fails the lookup; one that turns back is readable again.
    #[test]
    fn merged_unknown_values_replace_known_ones() {
        let step = crate::replay::operation_id("1");
        let digest = crate::replay::path_digest("1");
        let store = Arc::new(Operations::new(vec![op(
            serde_json::json!({"Id": step, "Type": "STEP", "Status": "STARTED"}),
        )]));
        assert_eq!(
            store
                .lookup(&digest, |op| Ok(op.map(|op| op.status)))
                .unwrap(),
            Some(OperationStatus::Started)
        );
        store.merge(vec![op(
            serde_json::json!({"Id": step, "Type": "STEP", "Status": "SUSPENDED"}),
        )]);
        assert!(store.lookup(&digest, |_| Ok(())).is_err());
        store.merge(vec![op(
            serde_json::json!({"Id": step, "Type": "STEP", "Status": "SUCCEEDED"}),
        )]);
        assert_eq!(
            store
                .lookup(&digest, |op| Ok(op.map(|op| op.status)))
                .unwrap(),
            Some(OperationStatus::Succeeded)
        );
    }

    /// The completion check: an unknown record the code never asked for counts as
    /// unvisited where a known one would (at the root, or under a body that ran to its
    /// end), and latches the unknown-value error, which is what the driver reports; under
    /// a context whose body did not run, it is not reported at all.
    #[test]
    fn unvisited_unknown_records_are_reported_as_unknown() {
        let context = crate::replay::operation_id("1");
        let store = Arc::new(Operations::new(vec![
            op(serde_json::json!({"Id": "ex", "Type": "EXECUTION", "Status": "PAUSED"})),
            op(serde_json::json!({"Id": context, "Type": "CONTEXT", "Status": "SUCCEEDED"})),
            op(
                serde_json::json!({"Id": "child", "ParentId": context, "Type": "TIMER",
                "Status": "ARMED"}),
            ),
        ]));
        store.visit(&crate::replay::path_digest("1"), |_| ());
        // The EXECUTION operation's status is never interpreted.
        assert_eq!(store.first_unvisited(), None);
        assert!(store.reached_unknown().is_none());
        store.body_completed(&crate::replay::path_digest("1"));
        let (id, found) = store.first_unvisited().unwrap();
        assert_eq!(
            (id.as_str(), found.as_str()),
            ("child", "TIMER without a name")
        );
        let (id, what) = unknown_value(store.reached_unknown());
        assert_eq!(id, "child");
        assert!(what.contains("TIMER"), "{what}");
    }
}
