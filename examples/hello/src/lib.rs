//! A durable order workflow: validate an order, have a manager approve it when it is large,
//! charge the card (the payment gateway times out on the first attempt, so the step is
//! retried), wait for a cool-off period, then ship.

use std::time::Duration;

use lambda_durable::retry::{ExponentialBackoff, Jitter};
use lambda_durable::{DurableContext, Error};
use serde::{Deserialize, Serialize};

/// The event that starts an execution.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Order {
    /// Order id.
    pub id: String,
    /// Amount to charge, in cents.
    pub cents: u64,
    /// Items to ship.
    pub items: Vec<String>,
}

/// Orders above this amount (in cents, so 1,000.00) wait for a manager's approval.
pub const APPROVAL_THRESHOLD_CENTS: u64 = 100_000;

/// How long a manager has to answer before the order fails.
pub const APPROVAL_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// A manager's approval: the result the approval callback is completed with
/// (`{"by": "grace"}`). A manager who rejects the order fails the callback instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    /// Who approved the order.
    pub by: String,
}

/// What the workflow returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    /// Order id.
    pub order: String,
    /// Charge id from the payment gateway.
    pub charge: String,
    /// Tracking number of the shipment.
    pub tracking: String,
    /// Who approved the order, for an order above [`APPROVAL_THRESHOLD_CENTS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
}

/// Errors of the workflow's steps.
#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    /// The order cannot be processed.
    #[error("invalid order: {0}")]
    Invalid(String),
    /// The payment gateway did not answer in time.
    #[error("payment gateway timed out")]
    GatewayTimeout,
}

/// The durable handler.
///
/// # Errors
///
/// [`Error::StepFailed`] when a step fails for good (an invalid order, or a payment that
/// keeps timing out), [`Error::CallbackFailed`] when a manager rejects the order and
/// [`Error::CallbackTimedOut`] when no manager answers within [`APPROVAL_TIMEOUT`].
pub async fn process_order(order: Order, ctx: DurableContext) -> Result<Receipt, Error> {
    let checked = order.clone();
    let order_id = ctx
        .step("validate order", |_| async move {
            if checked.items.is_empty() {
                return Err(OrderError::Invalid("no items".to_string()));
            }
            Ok(checked.id)
        })
        .await?;

    // A large order waits until a manager completes the callback "approval": its id is
    // logged here, and is in the execution's history (its CallbackStarted event).
    let mut approved_by = None;
    if order.cents > APPROVAL_THRESHOLD_CENTS {
        let id = order_id.clone();
        let approval: Approval = ctx
            .wait_for_callback("approval", |callback_id, step| async move {
                step.logger().info(format_args!(
                    "order {id} waits for approval: callback id {callback_id}"
                ));
                Ok::<_, OrderError>(())
            })
            .timeout(APPROVAL_TIMEOUT)
            .await?;
        approved_by = Some(approval.by);
    }

    let cents = order.cents;
    let charge = ctx
        .step("charge card", |step| async move {
            // A flaky gateway: the first attempt times out.
            if step.attempt() == 1 {
                step.logger().warn("payment gateway timed out");
                return Err(OrderError::GatewayTimeout);
            }
            Ok(format!("ch_{cents}_{}", step.attempt()))
        })
        .retry(
            ExponentialBackoff::new()
                .max_attempts(3)
                .initial_delay(Duration::from_secs(10))
                .jitter(Jitter::None),
        )
        .await?;

    ctx.wait("cool-off", Duration::from_secs(60 * 60)).await?;

    let items = order.items.len();
    let tracking = ctx
        .step("ship", |_| async move {
            Ok::<_, OrderError>(format!("TRACK-{items}-{}", order.id))
        })
        .await?;

    ctx.logger().info("order processed");
    Ok(Receipt {
        order: order_id,
        charge,
        tracking,
        approved_by,
    })
}
