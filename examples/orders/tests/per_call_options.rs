//! Per-call options of the generated helpers: one call changes what the plain API lets it
//! change (a retry override, a tenant id), and keeps the rest of the declaration.
#![allow(clippy::unwrap_used)]

use lambda_durable::retry::presets;
use lambda_durable::wire::ExecutionStatus;
use lambda_durable_testing::LocalRunner;
use orders::order::{self, Charge, ChargeRequest, Receipt, ReceiptStatus};
use orders::shipping::ShipmentRequest;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn order() -> order::Order {
    order::Order {
        id: "o-20".to_string(),
        customer: "fay@example.com".to_string(),
        items: vec![order::LineItem {
            sku: "kettle".to_string(),
            quantity: 1,
            unit_cents: 100,
        }],
    }
}

/// Charges with a gateway that always times out, retried as declared or not at all.
async fn charge(
    input: order::Order,
    wf: order::Workflow,
    override_retry: bool,
) -> Result<Receipt, BoxError> {
    let request = ChargeRequest {
        order_id: input.id.clone(),
        cents: 100,
    };
    let call = wf.charge_card(request, |_request, _step| async move {
        Err::<Charge, _>(std::io::Error::other("payment gateway timed out"))
    });
    let call = if override_retry {
        call.retry(presets::none())
    } else {
        call
    };
    call.await?;
    Err("unreachable: the gateway never answers".into())
}

async fn charge_as_declared(input: order::Order, wf: order::Workflow) -> Result<Receipt, BoxError> {
    charge(input, wf, false).await
}

async fn charge_once(input: order::Order, wf: order::Workflow) -> Result<Receipt, BoxError> {
    charge(input, wf, true).await
}

#[tokio::test]
async fn a_retry_override_replaces_the_declared_policy_for_one_call() {
    // Declared: 4 attempts when the message says "timed out".
    let declared = LocalRunner::new(order::handler(charge_as_declared))
        .run(order())
        .await
        .unwrap();
    assert_eq!(declared.status(), ExecutionStatus::Failed);
    let attempts = |execution: &lambda_durable_testing::Execution| {
        execution
            .operation("charge card")
            .and_then(|op| op.step_details.as_ref())
            .and_then(|details| details.attempt)
    };
    assert_eq!(attempts(&declared), Some(4));

    let overridden = LocalRunner::new(order::handler(charge_once))
        .run(order())
        .await
        .unwrap();
    assert_eq!(overridden.status(), ExecutionStatus::Failed);
    assert_eq!(attempts(&overridden), Some(1));
    // The checkpoint name stays the declared one.
    assert!(overridden.operation("charge card").is_some());
}

async fn ship_for_tenant(input: order::Order, wf: order::Workflow) -> Result<Receipt, BoxError> {
    let shipment = wf
        .ship_order(ShipmentRequest {
            order_id: input.id.clone(),
            items: input.items,
        })
        .tenant_id("tenant-7")
        .await?;
    Ok(Receipt {
        order_id: input.id,
        status: ReceiptStatus::Shipped,
        charge_id: None,
        approved_by: None,
        tracking_number: Some(shipment.tracking_number),
    })
}

#[tokio::test]
async fn an_invoke_takes_a_tenant_id_and_keeps_its_declared_function() {
    let execution = LocalRunner::new(order::handler(ship_for_tenant))
        .register_workflow(orders::shipping::handler(orders::ship))
        .run(order())
        .await
        .unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    let history = serde_json::to_string(execution.history()).unwrap();
    assert!(history.contains("\"TenantId\":\"tenant-7\""), "{history}");
    assert!(history.contains("shipping-service:live"), "{history}");
}
