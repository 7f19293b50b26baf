//! `patched`: change the code of a workflow while executions of the old code are in
//! flight.

use super::{scope, DurableContext, Name};
use crate::error::Error;
use crate::replay::versioning::{marker_path, patch_decision, PatchDecision, PATCH_SUB_TYPE};
use crate::replay::Expected;
use crate::wire::{OperationAction, OperationType};

impl DurableContext {
    /// Whether the code change `change` applies to this execution: `true` for executions
    /// that reach this point with code that has the change, `false` for executions whose
    /// history was recorded past this point by code without it.
    ///
    /// Replay requires the same operations in the same order on every invocation, so code
    /// that adds, removes or reorders operations breaks executions already in flight. Guard
    /// the change instead: keep the old operations on the `false` branch and put the new
    /// ones on the `true` branch. The first time an execution takes the new path a marker is
    /// recorded (a STEP with sub type `Patch`, named `change`), so its replays take the new
    /// path too. The marker takes no operation id of its own: operations after it keep
    /// their ids, and histories recorded before the change replay unchanged.
    ///
    /// Once no execution that took the old path is in flight, delete the `false` branch and
    /// the call; markers left in histories are then ignored.
    ///
    /// ```no_run
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// async fn checkout(ctx: &DurableContext, cents: u64) -> Result<u64, Error> {
    ///     let total = if ctx.patched("add-tax")? {
    ///         ctx.step("add tax", |_| async move { Ok::<_, std::io::Error>(cents * 108 / 100) })
    ///             .await?
    ///     } else {
    ///         cents
    ///     };
    ///     ctx.step("charge", |_| async move { Ok::<_, std::io::Error>(total) }).await
    /// }
    /// ```
    ///
    /// Ask before creating the operations the change guards (the answer looks at whether
    /// the history holds the operation at the next position). The same `change` asked twice
    /// in one context gives the same answer. In the operands
    /// of a combinator and the branches of a map or parallel the answer is theirs.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when `change` is not a valid operation name (1 to 256
    /// printable ASCII characters); [`Error::NonDeterministic`] when another operation is
    /// recorded under the marker's id.
    pub fn patched(&self, change: &str) -> Result<bool, Error> {
        let namespace = self.namespace();
        let position = self.position_at(
            marker_path(&namespace.prefix, change),
            namespace.clock(),
            Name::from(change),
        );
        if change.is_empty() {
            return Err(Error::InvalidArgument {
                operation: position.reference("patch"),
                message: "a change id must not be empty".to_string(),
            });
        }
        self.check_name(&position, "patch")?;
        let mut answers = namespace
            .patches
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, answer)) = answers.iter().find(|(asked, _)| asked == change) {
            return Ok(*answer);
        }
        let next_recorded = self.next_recorded().is_some();
        let replay_only = scope::replay_only();
        let expected = Expected {
            ty: OperationType::Step,
            sub_type: PATCH_SUB_TYPE,
            name: position.name_str(),
        };
        let decision = self.look_up(&position, expected, |marker| {
            patch_decision(marker, next_recorded, replay_only)
        });
        match decision? {
            PatchDecision::New { record } => {
                answers.push((change.to_string(), true));
                if record {
                    // Queued: it is written before anything the new path records after it.
                    self.exec().enqueue(position.into_update(
                        OperationType::Step,
                        PATCH_SUB_TYPE,
                        OperationAction::Succeed,
                    ));
                }
                Ok(true)
            }
            PatchDecision::Old => {
                answers.push((change.to_string(), false));
                Ok(false)
            }
        }
    }
}
