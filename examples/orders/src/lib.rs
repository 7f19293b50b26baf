//! Order processing, declared in `workflows/order.json`: validate the order, charge the card
//! (a gateway timeout is retried, a decline is not), ask a manager to approve large orders,
//! ship through the shipping service's function, and notify the customer.
//!
//! The shipping service is a declared workflow too (`workflows/shipping.json`), and the order
//! workflow's "ship order" invoke names it (`"workflow": "shipping.json"`): the build checks
//! that the two agree, and the invoke takes [`shipping::Input`] and returns
//! [`shipping::Output`], the callee's own types. The shipping declaration refers back to the
//! order's `LineItem`, so each module uses the other's types.
//!
//! The build script generates the typed helpers from the declarations; this crate only calls
//! them. Each method of [`order::Workflow`] is one declared operation, with its checkpoint
//! name, types and retry policy taken from the file.

use std::fmt;

/// The types and helpers generated from `workflows/order.json`.
pub mod order {
    lambda_durable::include_workflow!("order");
}

/// The types and helpers generated from `workflows/shipping.json`: the shipping service's
/// workflow, which the order workflow invokes.
pub mod shipping {
    lambda_durable::include_workflow!("shipping");
}

use order::{Approval, Charge, ChargeRequest, Receipt, ReceiptStatus, ValidatedOrder, Workflow};
use shipping::ShipmentRequest;

/// Orders above this total (in cents) need a manager's approval.
pub const APPROVAL_THRESHOLD_CENTS: u64 = 100_000;

/// Why a step of the workflow failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderError {
    /// The order has no lines.
    NoItems,
    /// The payment gateway did not answer in time (retried).
    GatewayTimedOut,
    /// The card was declined (not retried).
    Declined,
}

impl fmt::Display for OrderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrderError::NoItems => f.write_str("the order has no items"),
            OrderError::GatewayTimedOut => f.write_str("payment gateway timed out"),
            OrderError::Declined => f.write_str("card declined"),
        }
    }
}

impl std::error::Error for OrderError {}

/// A stand-in for the payment gateway: it times out on the first attempt of every charge,
/// and declines customers of `declined.example`.
fn gateway_charge(
    request: &ChargeRequest,
    customer: &str,
    attempt: u32,
) -> Result<Charge, OrderError> {
    if customer.ends_with("@declined.example") {
        return Err(OrderError::Declined);
    }
    if attempt == 1 {
        return Err(OrderError::GatewayTimedOut);
    }
    Ok(Charge {
        charge_id: format!("ch_{}_{}", request.order_id, request.cents),
    })
}

/// The durable handler, written against the generated helpers only.
///
/// # Errors
///
/// [`lambda_durable::Error::StepFailed`] when the order is invalid or the card is declined,
/// and the errors of the callback and the invoke.
pub async fn process_order(
    order: order::Input,
    wf: Workflow,
) -> Result<order::Output, lambda_durable::Error> {
    let lines = order.items.clone();
    let validated: ValidatedOrder = wf
        .validate_order(|_step| async move {
            if lines.is_empty() {
                return Err(OrderError::NoItems);
            }
            let total_cents = lines
                .iter()
                .map(|line| line.quantity * line.unit_cents)
                .sum();
            Ok(ValidatedOrder {
                total_cents,
                needs_approval: total_cents > APPROVAL_THRESHOLD_CENTS,
            })
        })
        .await?;

    let customer = order.customer.clone();
    let request = ChargeRequest {
        order_id: order.id.clone(),
        cents: validated.total_cents,
    };
    let charge = wf
        .charge_card(request, |request, step| async move {
            gateway_charge(&request, &customer, step.attempt())
        })
        .await?;

    let mut approved_by = None;
    if validated.needs_approval {
        let order_id = order.id.clone();
        let approval: Approval = wf
            .manager_approval(|callback_id, step| async move {
                // A real submitter would e-mail the manager a link carrying the callback id.
                step.logger().info(format_args!(
                    "approval of {order_id} requested: {callback_id}"
                ));
                Ok::<_, OrderError>(())
            })
            .await?;
        if !approval.approved {
            wf.notify_customer(format!("order {} was not approved", order.id), notify)
                .await?;
            return Ok(Receipt {
                order_id: order.id,
                status: ReceiptStatus::Rejected,
                charge_id: Some(charge.charge_id),
                approved_by: None,
                tracking_number: None,
            });
        }
        approved_by = Some(approval.manager);
    }

    let shipment = wf
        .ship_order(ShipmentRequest {
            order_id: order.id.clone(),
            items: order.items,
        })
        .await?;

    wf.notify_customer(
        format!("order {} shipped: {}", order.id, shipment.tracking_number),
        notify,
    )
    .await?;

    Ok(Receipt {
        order_id: order.id,
        status: ReceiptStatus::Shipped,
        charge_id: Some(charge.charge_id),
        approved_by,
        tracking_number: Some(shipment.tracking_number),
    })
}

/// The body of the "notify customer" step: a real one would send an e-mail.
async fn notify(message: String, step: lambda_durable::StepContext) -> Result<(), OrderError> {
    step.logger().info(format_args!("notify: {message}"));
    Ok(())
}

/// The shipping service's durable handler, written against the helpers generated from
/// `workflows/shipping.json`: books a carrier for the parcels, waits for the pickup window
/// and answers with the tracking number. Serve it with `shipping::handler(ship)` (the
/// binary `shipping`), or register it with the local runner by its declaration
/// (`LocalRunner::register_workflow(shipping::handler(ship))`, under the declared function
/// `shipping-service:live`).
///
/// # Errors
///
/// The errors of the steps.
pub async fn ship(
    request: shipping::Input,
    wf: shipping::Workflow,
) -> Result<shipping::Output, lambda_durable::Error> {
    let parcels: u64 = request.items.iter().map(|item| item.quantity).sum();
    // The declaration says at least one parcel (`"minimum": 1`): a `NonZeroU64`.
    let parcels = std::num::NonZeroU64::new(parcels).unwrap_or(std::num::NonZeroU64::MIN);
    let order_id = request.order_id.clone();
    let tracking_number = wf
        .book_carrier(parcels, |parcels, _step| async move {
            Ok::<_, std::io::Error>(format!("TRK-{order_id}-{parcels}"))
        })
        .await?;
    wf.pickup_window().await?;
    Ok(shipping::Shipment { tracking_number })
}
