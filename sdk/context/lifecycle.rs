//! The life cycle every durable operation follows, shared by the operation shells:
//!
//! 1. **look up** the operation's record by its id, checking that it is the operation the
//!    code asks for (type, sub type, name), and mark it visited;
//! 2. **decide**, with a function of the pure core ([`crate::replay`]), from the record
//!    alone what to do: return a recorded outcome, wait, or run;
//! 3. **start**: checkpoint START, awaited when the service's answer is needed (a callback
//!    id, an at-most-once step) or queued otherwise;
//! 4. **run** the user code, if any;
//! 5. **close**: checkpoint the outcome, and move the `now()` clock of the awaiting
//!    namespace to the end of the operation.
//!
//! An [`Op`] holds what every step needs; the shells in this module's siblings hold only
//! what is particular to their operation.

use std::sync::Arc;

use super::{DurableContext, Position};
use crate::error::{Error, OperationRef};
use crate::log::OpRecord;
use crate::replay::Expected;
use crate::state::ExecutionState;
use crate::wire::{OperationAction, OperationType, OperationUpdate};

/// One operation going through its life cycle.
pub(crate) struct Op<'c> {
    pub(crate) ctx: &'c DurableContext,
    pub(crate) position: Position,
    ty: OperationType,
    sub_type: &'static str,
    /// What the operation is called in errors ("step", "wait for callback", ...).
    kind: &'static str,
}

impl<'c> Op<'c> {
    /// Opens the operation reserved at `position`; an invalid name fails it here.
    pub(crate) fn open(
        ctx: &'c DurableContext,
        position: Position,
        ty: OperationType,
        sub_type: &'static str,
        kind: &'static str,
    ) -> Result<Self, Error> {
        ctx.check_name(&position, kind)?;
        Ok(Self {
            ctx,
            position,
            ty,
            sub_type,
            kind,
        })
    }

    pub(crate) fn exec(&self) -> &'c Arc<ExecutionState> {
        self.ctx.exec()
    }

    /// The operation as errors name it.
    pub(crate) fn reference(&self) -> OperationRef {
        self.position.reference(self.kind)
    }

    /// Checks a sub type the user chose in place of `default`: the service's format
    /// (1 to 32 of `[a-zA-Z0-9-_]`), and none of the sub types the SDK gives its own
    /// operations, which replay and tools read as such.
    pub(crate) fn check_sub_type(&self, default: &'static str) -> Result<(), Error> {
        custom_sub_type(self.sub_type, default).map_err(|message| self.invalid(message))
    }

    /// An invalid argument of this operation.
    pub(crate) fn invalid(&self, message: String) -> Error {
        Error::InvalidArgument {
            operation: self.reference(),
            message,
        }
    }

    /// A value of this operation that does not (de)serialize; `action` is `"serialize"`
    /// or `"deserialize"`.
    pub(crate) fn serialization(
        &self,
        action: &'static str,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        Error::serialization(self.reference(), action, cause)
    }

    /// Look up and decide: `decide` gets the record (if any) while the log lends it, so
    /// that only what it extracts is copied. A record of another operation is
    /// non-determinism, latched as fatal: the caller stays parked for good.
    pub(crate) async fn decide<R>(&self, decide: impl FnOnce(Option<&OpRecord>) -> R) -> R {
        let expected = Expected {
            ty: self.ty,
            sub_type: self.sub_type,
            name: self.position.name_str(),
        };
        self.ctx
            .recorded_map(&self.position, expected, decide)
            .await
    }

    /// Decides again from the record as it stands now: the service's answer to a START
    /// (which may already report the operation as finished), without visiting it again.
    pub(crate) fn decide_again<R>(&self, decide: impl FnOnce(Option<&OpRecord>) -> R) -> R {
        self.exec().operations.with(&self.position.id, decide)
    }

    /// An update of this operation with the common fields filled in.
    pub(crate) fn update(&self, action: OperationAction) -> OperationUpdate {
        self.position.update(self.ty, self.sub_type, action)
    }

    /// The last update of this operation: its id and name move into it.
    pub(crate) fn into_update(self, action: OperationAction) -> OperationUpdate {
        self.position.into_update(self.ty, self.sub_type, action)
    }

    /// Checkpoints `update` and waits until it is durable (and the service answered).
    pub(crate) async fn write(&self, update: OperationUpdate) -> Result<(), Error> {
        self.exec().checkpoint(update).await
    }

    /// Queues `update`; it is written with the next request, before the invocation ends.
    pub(crate) fn queue(&self, update: OperationUpdate) {
        self.exec().enqueue(update);
    }

    /// The operation has finished and its outcome is returned: the `now()` clock of the
    /// namespace that awaits it moves to the operation's recorded end.
    pub(crate) fn finished(&self) {
        self.ctx.finished(&self.position.digest);
    }

    /// Waits for the service for the rest of the invocation (see
    /// [`ExecutionState::park`]): for an operation that cannot go on in this invocation
    /// even when the service reports on it (a step whose body already ran).
    pub(crate) async fn park(&self) -> ! {
        self.exec().park().await
    }

    /// Waits for the service to schedule the next attempt of an operation whose body ran
    /// in this invocation (see [`ExecutionState::park_for_next_attempt`]): a branch that can
    /// run again in place does so once the attempt is ready; elsewhere the attempt runs in
    /// the next invocation.
    pub(crate) async fn park_for_next_attempt(&self) -> ! {
        self.exec()
            .park_for_next_attempt(self.position.id.as_str())
            .await
    }

    /// Waits for the service until `decide` gives a value from the operation's record: it
    /// is asked again after every answer of the service (see
    /// [`ExecutionState::park_until`]), so the operation resumes within this invocation
    /// once the service reports it ready or finished.
    pub(crate) async fn park_until<R>(
        &self,
        mut decide: impl FnMut(Option<&OpRecord>) -> Option<R>,
    ) -> R {
        let exec = Arc::clone(self.exec());
        exec.park_until(self.position.id.as_str(), || self.decide_again(&mut decide))
            .await
    }

    /// Waits for the service while `parked` holds for what `decide` makes of the record
    /// (see [`park_until`](Self::park_until)), and returns the first decision that is not
    /// parked.
    pub(crate) async fn park_while<R>(
        &self,
        mut decide: impl FnMut(Option<&OpRecord>) -> R,
        parked: impl Fn(&R) -> bool,
    ) -> R {
        self.park_until(|record| Some(decide(record)).filter(|next| !parked(next)))
            .await
    }
}

/// What is wrong with a sub type chosen in place of `default`, if anything (see
/// [`Op::check_sub_type`]).
pub(crate) fn custom_sub_type(sub_type: &str, default: &str) -> Result<(), String> {
    if sub_type == default {
        return Ok(());
    }
    // The service's format, as the wire schema states it.
    if let Err(problem) = crate::wire::OperationSubType::try_from(sub_type) {
        return Err(format!(
            "sub type {sub_type:?} must be 1 to 32 letters, digits, '-' or '_' ({problem})"
        ));
    }
    if crate::log::SUB_TYPES.contains(&sub_type) {
        return Err(format!(
            "sub type {sub_type:?} is one the SDK gives its own operations; choose another"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::custom_sub_type;

    #[test]
    fn custom_sub_types_follow_the_service_and_leave_the_sdks_alone() {
        let rows = [
            ("Step", "Step", true),
            ("Payment", "Step", true),
            ("fraud-check_2", "Step", true),
            ("", "Step", false),
            ("has space", "Step", false),
            ("Ünicode", "Step", false),
            ("x23456789012345678901234567890123", "Step", false),
            ("x2345678901234567890123456789012", "Step", true),
            ("WaitForCondition", "Step", false),
            ("Map", "RunInChildContext", false),
            ("Patch", "Step", false),
        ];
        for (sub_type, default, ok) in rows {
            assert_eq!(
                custom_sub_type(sub_type, default).is_ok(),
                ok,
                "{sub_type:?} in place of {default:?}"
            );
        }
    }
}
