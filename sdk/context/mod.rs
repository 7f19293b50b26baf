//! [`DurableContext`]: the handle through which a handler runs durable operations.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use self::scope::Namespace;
use crate::error::{Error, OperationRef};
use crate::log::OpRecord;
use crate::logger::Logger;
use crate::replay::{self, Expected};
use crate::state::ExecutionState;
use crate::wire::{
    OperationAction, OperationId, OperationName, OperationSubType, OperationType, OperationUpdate,
};

/// The `tracing` span of an operation, with the fields the OpenTelemetry plugins name the
/// same way: `durable.operation.id`, `durable.operation.name`, `durable.operation.type` and
/// `durable.operation.subtype` (and any extra fields given).
macro_rules! operation_span {
    ($span:literal, $position:expr, $type:literal, $sub_type:expr $(, $($field:tt)+)?) => {
        tracing::info_span!(
            $span,
            durable.operation.id = %$position.id,
            durable.operation.name = $position.name_str(),
            durable.operation.type = $type,
            durable.operation.subtype = $sub_type
            $(, $($field)+)?
        )
    };
}

mod batch;
mod callback;
mod child;
mod combinator;
mod condition;
mod helpers;
mod invoke;
pub(crate) mod lifecycle;
pub(crate) mod restart;
pub(crate) mod scope;
mod step;
mod tuple;
mod versioning;
mod wait;
mod with_retry;

pub use batch::{
    branch, BatchItem, BatchItemStatus, BatchProgress, BatchResult, BatchStatus, Branch,
    CompletionConfig, CompletionReason, Map, Nesting, Parallel,
};
pub use callback::{Callback, CreateCallback, WaitForCallback};
pub use child::{ChildContext, VirtualContext};
pub use condition::WaitForCondition;
pub use invoke::Invoke;
pub use step::{Step, StepContext};
pub use tuple::{BranchTuple, ItemTuple, ParallelTuple, TupleResult};
pub use with_retry::WithRetry;

/// The name of a durable operation: a string, or none.
///
/// Operation methods take `impl Into<Name>`, so a `&str`, a `String` or an
/// `Option<&str>` can be passed; `None` leaves the operation unnamed
/// (`ctx.wait(None, delay)`; an `Option<String>` passes as `name.as_deref()`). Names are
/// recorded in the execution history and checked on replay; they must be 1 to 256
/// printable ASCII characters (an empty name counts as none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Name(Option<String>);

impl Name {
    /// No name.
    pub const NONE: Name = Name(None);

    /// The name as a string, if any.
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl From<&str> for Name {
    fn from(name: &str) -> Self {
        Name(Some(name.to_string()).filter(|name| !name.is_empty()))
    }
}

impl From<String> for Name {
    fn from(name: String) -> Self {
        Name(Some(name).filter(|name| !name.is_empty()))
    }
}

impl From<&String> for Name {
    fn from(name: &String) -> Self {
        Name::from(name.as_str())
    }
}

impl<'a> From<Option<&'a str>> for Name {
    fn from(name: Option<&'a str>) -> Self {
        name.map_or(Name::NONE, Name::from)
    }
}

/// The handle a durable handler uses to run durable operations.
///
/// Each operation gets a deterministic id from its position: the `n`-th operation started
/// in a context has the logical path `n` at the root, `<parent path>-n` in a child context,
/// and its id is the SHA-256 of that path in hex. Operations must therefore be started in
/// the same order on every invocation: derive control flow only from the event and from
/// the results of earlier operations, never from the clock, randomness or outside state.
///
/// A `DurableContext` is cheap to clone; clones share the operation counter.
#[derive(Clone)]
pub struct DurableContext {
    inner: Arc<ContextInner>,
}

struct ContextInner {
    exec: Arc<ExecutionState>,
    arn: Arc<str>,
    /// The context's own id namespace: its logical path ("" at the root) and counters.
    namespace: Arc<Namespace>,
    parent_id: Option<OperationId>,
    replaying: Arc<AtomicBool>,
}

impl std::fmt::Debug for DurableContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableContext")
            .field("execution_arn", &self.inner.arn)
            .field("path", &self.inner.namespace.prefix)
            .finish_non_exhaustive()
    }
}

/// An operation's identity, reserved when the operation is created.
pub(crate) struct Position {
    /// Logical path (`"3"`, `"2-1"`), the prefix of a child context's operations.
    pub(crate) path: String,
    pub(crate) id: OperationId,
    /// The SHA-256 digest whose hex is `id`, the key of the operation log.
    pub(crate) digest: [u8; 32],
    /// The name, already checked against the `OperationName` schema.
    name: Option<String>,
    /// The name as a wire type, made when the first update needs it (replay needs none).
    wire_name: OnceLock<Option<OperationName>>,
    pub(crate) parent_id: Option<OperationId>,
    pub(crate) invalid_name: Option<String>,
    /// The clock of `namespace` when the operation was reserved: where the clock of a
    /// child context it opens starts.
    pub(crate) clock: i64,
}

impl Position {
    /// The same identity, for a branch that runs again in place.
    pub(crate) fn again(&self) -> Position {
        Position {
            path: self.path.clone(),
            id: self.id.clone(),
            digest: self.digest,
            name: self.name.clone(),
            wire_name: self.wire_name.clone(),
            parent_id: self.parent_id.clone(),
            invalid_name: self.invalid_name.clone(),
            clock: self.clock,
        }
    }

    pub(crate) fn name_str(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub(crate) fn reference(&self, kind: &'static str) -> OperationRef {
        OperationRef::new(kind, &self.id, self.name_str())
    }

    fn wire_name(&self) -> Option<OperationName> {
        self.wire_name
            .get_or_init(|| {
                self.name
                    .as_deref()
                    .and_then(|name| OperationName::try_from(name).ok())
            })
            .clone()
    }

    /// Like [`update`](Self::update), for the last update of the operation: its id and
    /// name move into the update instead of being copied.
    pub(crate) fn into_update(
        self,
        ty: OperationType,
        sub_type: &str,
        action: OperationAction,
    ) -> OperationUpdate {
        let name = match self.wire_name.into_inner() {
            Some(name) => name,
            None => self
                .name
                .as_deref()
                .and_then(|name| OperationName::try_from(name).ok()),
        };
        OperationUpdate {
            action,
            callback_options: None,
            chained_invoke_options: None,
            context_options: None,
            error: None,
            id: self.id,
            name,
            parent_id: self.parent_id,
            payload: None,
            step_options: None,
            sub_type: sub_type_of(sub_type),
            type_: ty,
            wait_options: None,
        }
    }

    /// An update for this operation with the common fields filled in.
    pub(crate) fn update(
        &self,
        ty: OperationType,
        sub_type: &str,
        action: OperationAction,
    ) -> OperationUpdate {
        OperationUpdate {
            action,
            callback_options: None,
            chained_invoke_options: None,
            context_options: None,
            error: None,
            id: self.id.clone(),
            name: self.wire_name(),
            parent_id: self.parent_id.clone(),
            payload: None,
            step_options: None,
            sub_type: sub_type_of(sub_type),
            type_: ty,
            wait_options: None,
        }
    }
}

/// Whether `name` matches the `OperationName` schema (1 to 256 characters of printable
/// ASCII), checked without the schema's regular expression: every byte of printable
/// ASCII is one character.
fn valid_name(name: &str) -> bool {
    (1..=256).contains(&name.len()) && name.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

/// The wire form of a sub type; the SDK's own are validated once and cloned.
fn sub_type_of(sub_type: &str) -> Option<OperationSubType> {
    static KNOWN: std::sync::OnceLock<Vec<(&'static str, OperationSubType)>> =
        std::sync::OnceLock::new();
    let known = KNOWN.get_or_init(|| {
        crate::log::SUB_TYPES
            .iter()
            .filter_map(|name| OperationSubType::try_from(*name).ok().map(|st| (*name, st)))
            .collect()
    });
    known
        .iter()
        .find(|(name, _)| *name == sub_type)
        .map(|(_, st)| st.clone())
        .or_else(|| OperationSubType::try_from(sub_type).ok())
}

impl DurableContext {
    pub(crate) fn root(exec: Arc<ExecutionState>, replaying: bool) -> Self {
        let arn: Arc<str> = exec.arn.as_str().into();
        let start = exec
            .operations
            .find_start(OperationType::Execution)
            .unwrap_or(scope::NO_TIME);
        Self {
            inner: Arc::new(ContextInner {
                exec,
                arn,
                namespace: Arc::new(Namespace::new(String::new(), start)),
                parent_id: None,
                replaying: Arc::new(AtomicBool::new(replaying)),
            }),
        }
    }

    /// The ARN of the durable execution this handler runs in.
    pub fn execution_arn(&self) -> &str {
        &self.inner.arn
    }

    /// A logger that drops records while this context is replaying (unless the runtime
    /// logs during replay, see [`RuntimeBuilder::log_during_replay`](crate::RuntimeBuilder::log_during_replay)).
    /// Its records carry the execution ARN, the Lambda request id and tenant id and, in a
    /// child context, the id of the context's operation (see [`Logger`]).
    pub fn logger(&self) -> Logger {
        let parent_id = self.inner.parent_id.as_ref().map(OperationId::as_str);
        Logger::for_context(&self.inner.exec.log, parent_id, &self.inner.replaying)
    }

    /// A child context whose operations are numbered under `position` and whose parent
    /// is the CONTEXT operation `parent_id` (`None` for a virtual context whose operations
    /// hang under this context's parent). Its clock starts where the clock of the
    /// namespace `position` came from stood when `position` was reserved.
    pub(crate) fn child(
        &self,
        position: &Position,
        parent_id: Option<OperationId>,
    ) -> DurableContext {
        DurableContext {
            inner: Arc::new(ContextInner {
                exec: Arc::clone(&self.inner.exec),
                arn: Arc::clone(&self.inner.arn),
                namespace: Arc::new(Namespace::new(position.path.clone(), position.clock)),
                parent_id,
                replaying: Arc::new(AtomicBool::new(self.is_replaying())),
            }),
        }
    }

    /// This context (its namespace and parent) as replaying: for a branch that runs again
    /// in place from its start, whose recorded operations replay as they would in the next
    /// invocation. The original keeps its own flag.
    pub(crate) fn replaying(&self) -> DurableContext {
        DurableContext {
            inner: Arc::new(ContextInner {
                exec: Arc::clone(&self.inner.exec),
                arn: Arc::clone(&self.inner.arn),
                namespace: Arc::clone(&self.inner.namespace),
                parent_id: self.inner.parent_id.clone(),
                replaying: Arc::new(AtomicBool::new(true)),
            }),
        }
    }

    /// The serdes of the operations of this context whose serdes is not set.
    pub(crate) fn default_serdes(&self) -> crate::serdes::DefaultSerdes {
        self.inner.exec.default_serdes.clone()
    }

    /// The address that identifies this context in the scope stack.
    pub(crate) fn scope_key(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// The namespace reservations on this context use now: the one of the combinator
    /// operand being polled, if any, else the context's own.
    pub(crate) fn namespace(&self) -> Arc<Namespace> {
        scope::active_namespace(self.scope_key())
            .unwrap_or_else(|| Arc::clone(&self.inner.namespace))
    }

    /// The wire id of this context's CONTEXT operation (`None` at the root).
    pub(crate) fn parent_id(&self) -> Option<&OperationId> {
        self.inner.parent_id.as_ref()
    }

    /// Moves the clock of the namespace that awaits the operation whose id is the hex of
    /// `digest` (this context's, or that of the combinator operand being polled) to the
    /// time the service recorded for the operation's end, once the operation has finished
    /// and its outcome is returned (see [`DurableContext::now`]). The awaiting namespace,
    /// not the one the id came from: an operation created before a combinator and given to
    /// it moves the clock of its operand, which counts only if that operand decided.
    pub(crate) fn finished(&self, digest: &[u8; 32]) {
        if let Some(end) = self.inner.exec.operations.end_millis(digest) {
            self.namespace().advance(end);
        }
    }

    /// Whether this context is replaying operations recorded by an earlier invocation.
    pub fn is_replaying(&self) -> bool {
        self.inner.replaying.load(Ordering::Relaxed)
    }

    pub(crate) fn exec(&self) -> &Arc<ExecutionState> {
        &self.inner.exec
    }

    /// Reserves the next operation id of this context. Called synchronously when an
    /// operation is created, so ids follow program order.
    pub(crate) fn reserve(&self, name: Name) -> Position {
        let namespace = self.namespace();
        self.position_at(namespace.next_path(), namespace.clock(), name)
    }

    /// The identity of an operation at the logical `path`, in this context.
    pub(crate) fn position_at(&self, path: String, clock: i64, name: Name) -> Position {
        let digest = replay::path_digest(&path);
        let id = OperationId::from_digest(replay::hex_id(&digest));
        let (name, invalid_name) = match name.0 {
            None => (None, None),
            Some(name) if valid_name(&name) => (Some(name), None),
            // The schema's own check, for its message.
            Some(name) => match OperationName::try_from(name.as_str()) {
                Ok(_) => (Some(name), None),
                Err(err) => (None, Some(format!("operation name {name:?} is invalid: {err} (1 to 256 printable ASCII characters)"))),
            },
        };
        Position {
            path,
            id,
            digest,
            clock,
            name,
            wire_name: OnceLock::new(),
            parent_id: self.inner.parent_id.clone(),
            invalid_name,
        }
    }

    /// Looks up the recorded operation at `position`, checking that it is what the code
    /// asks for, and maps it with `f` while it is borrowed, so only what `f` extracts is
    /// copied. A mismatch is latched as fatal and parks the caller for good.
    pub(crate) async fn recorded_map<R>(
        &self,
        position: &Position,
        expected: Expected<'_>,
        f: impl FnOnce(Option<&OpRecord>) -> R,
    ) -> R {
        // Only asked while replaying: once live, a context stays live.
        let next_recorded = self.is_replaying() && self.next_is_recorded(position);
        let looked_up = self.look_up(position, expected, |op| {
            (
                f(op),
                replay::completion::still_replaying(op, next_recorded),
            )
        });
        match looked_up {
            Ok((value, replaying)) => {
                if !replaying {
                    self.inner.replaying.store(false, Ordering::Relaxed);
                }
                value
            }
            Err(_) => self.inner.exec.park().await,
        }
    }

    /// Whether the log holds a record for the operation that follows the one at
    /// `position` in its namespace: the one sequential code starts next (operations
    /// created together, for a combinator, are siblings and count as following).
    fn next_is_recorded(&self, position: &Position) -> bool {
        let digest = replay::path_digest(&scope::following_path(&position.path));
        self.inner.exec.operations.contains(&digest)
    }

    /// The replay lookup behind [`recorded_map`](Self::recorded_map), without waiting:
    /// visits the record at `position`, checks that it is what the code asks for, and maps
    /// it with `f`. A mismatch (or a record this SDK cannot interpret) is latched as fatal
    /// and returned.
    pub(crate) fn look_up<R>(
        &self,
        position: &Position,
        expected: Expected<'_>,
        f: impl FnOnce(Option<&OpRecord>) -> R,
    ) -> Result<R, Error> {
        self.inner
            .exec
            .operations
            .lookup(&position.digest, |op| {
                if let Some(op) = op {
                    replay::check_identity(&position.id, op, &expected)?;
                }
                Ok(f(op))
            })
            .inspect_err(|err| {
                tracing::error!(error = %err, "the recorded operation cannot be replayed here");
                self.inner.exec.fail(err);
            })
    }

    /// The record of the operation this context would start next (in the namespace in
    /// use, see [`namespace`](Self::namespace)), if there is one: its id and description.
    pub(crate) fn next_recorded(&self) -> Option<(String, String)> {
        let id = replay::hex_id(&replay::path_digest(&self.namespace().peek_path()));
        self.inner
            .exec
            .operations
            .with(&id, |op| {
                op.map(|op| replay::describe(op.type_, op.sub_type(), op.name()))
            })
            .map(|found| (id, found))
    }

    /// Fails with the invalid-name error reserved at `position`, if any.
    pub(crate) fn check_name(&self, position: &Position, kind: &'static str) -> Result<(), Error> {
        match &position.invalid_name {
            Some(message) => Err(Error::InvalidArgument {
                operation: position.reference(kind),
                message: message.clone(),
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The handwritten name check accepts exactly what the `OperationName` schema accepts.
    #[test]
    fn name_check_agrees_with_the_schema() {
        let mut samples: Vec<String> = vec![
            String::new(),
            "a".into(),
            "s0".into(),
            "with space and ~".into(),
            "é".into(),
            "tab\t".into(),
            "x".repeat(256),
            "x".repeat(257),
            "é".repeat(200),
        ];
        for b in 0u8..=255 {
            samples.push(format!("a{}b", char::from(b)));
        }
        for sample in samples {
            assert_eq!(
                valid_name(&sample),
                OperationName::try_from(sample.as_str()).is_ok(),
                "{sample:?}"
            );
        }
    }
}
