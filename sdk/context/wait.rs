//! `wait`: suspend the execution for a while without paying for it.

use std::future::Future;
use std::num::NonZeroU64;
use std::time::Duration;

use tracing::Instrument;

use super::lifecycle::Op;
use super::{DurableContext, Name};
use crate::error::Error;
use crate::replay::wait::{wait_decision, WaitDecision};
use crate::wire::{OperationAction, OperationType, WaitOptions};

use crate::limits::MAX_DELAY_SECONDS;

const SUB_TYPE: &str = "Wait";

impl DurableContext {
    /// Waits for `duration` (whole seconds, at least 1 s, at most 366 days; a fraction of
    /// a second is rounded up).
    ///
    /// The wait is a timer of the service: the invocation suspends and the function is
    /// invoked again when the time is up, so nothing is billed while waiting. On replay a
    /// finished wait returns at once.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// async fn remind_tomorrow(ctx: &DurableContext) -> Result<(), Error> {
    ///     ctx.wait("until tomorrow", Duration::from_secs(24 * 60 * 60)).await?;
    ///     ctx.step("send reminder", |_| async { Ok::<_, std::io::Error>(()) }).await
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a duration under one second or over the maximum, or
    /// an invalid name; [`Error::Checkpoint`] when the wait cannot be recorded.
    pub fn wait(
        &self,
        name: impl Into<Name>,
        duration: Duration,
    ) -> impl Future<Output = Result<(), Error>> + Send + '_ {
        let position = self.reserve(name.into());
        let span = operation_span!("wait", position, "WAIT", SUB_TYPE);
        async move {
            let op = Op::open(self, position, OperationType::Wait, SUB_TYPE, "wait")?;
            let seconds = wait_seconds(duration).map_err(|message| op.invalid(message))?;
            let decision = match op.decide(wait_decision).await {
                WaitDecision::Start => {
                    let mut update = op.update(OperationAction::Start);
                    update.wait_options = Some(WaitOptions {
                        wait_seconds: Some(seconds),
                    });
                    op.write(update).await?;
                    // The service may already report the wait as over.
                    op.decide_again(wait_decision)
                }
                decision => decision,
            };
            if decision != WaitDecision::Done {
                // Resumes here if the service reports the wait over while the invocation
                // still runs.
                op.park_while(wait_decision, |decision| *decision != WaitDecision::Done)
                    .await;
            }
            op.finished();
            Ok(())
        }
        .instrument(span)
    }
}

fn wait_seconds(duration: Duration) -> Result<NonZeroU64, String> {
    // Rounded up; saturating, so that `Duration::MAX` is refused instead of overflowing.
    let seconds = duration
        .as_secs()
        .saturating_add(u64::from(duration.subsec_nanos() > 0));
    if duration < Duration::from_secs(1) {
        return Err(format!(
            "wait duration must be at least 1 second, got {duration:?}"
        ));
    }
    if seconds > MAX_DELAY_SECONDS {
        return Err(format!(
            "wait duration must be at most {MAX_DELAY_SECONDS} seconds, got {seconds}"
        ));
    }
    NonZeroU64::new(seconds).ok_or_else(|| "wait duration must be positive".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_whole_seconds_within_limits() {
        assert_eq!(
            wait_seconds(Duration::from_secs(5)).map(NonZeroU64::get),
            Ok(5)
        );
        assert_eq!(
            wait_seconds(Duration::from_millis(1500)).map(NonZeroU64::get),
            Ok(2)
        );
        assert!(wait_seconds(Duration::from_millis(999)).is_err());
        assert!(wait_seconds(Duration::ZERO).is_err());
        assert!(wait_seconds(Duration::from_secs(MAX_DELAY_SECONDS + 1)).is_err());
        assert!(wait_seconds(Duration::from_secs(MAX_DELAY_SECONDS)).is_ok());
        assert!(wait_seconds(Duration::MAX).is_err());
    }
}
