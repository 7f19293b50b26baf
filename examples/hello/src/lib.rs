//! A durable order workflow: validate an order, charge the card (the payment gateway times
//! out on the first attempt, so the step is retried), wait for a cool-off period, then ship.

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

/// What the workflow returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    /// Order id.
    pub order: String,
    /// Charge id from the payment gateway.
    pub charge: String,
    /// Tracking number of the shipment.
    pub tracking: String,
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
/// keeps timing out).
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
    })
}
