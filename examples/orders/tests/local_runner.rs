//! The order workflow on the local runner, driven through its generated helpers.
#![allow(clippy::unwrap_used)]

use lambda_durable::testing::LocalRunner;
use lambda_durable::wire::{ExecutionStatus, OperationStatus, OperationType};
use orders::order::{self, LineItem, Order};
use orders::process_order;

fn order(id: &str, customer: &str, items: &[(&str, u64, u64)]) -> Order {
    Order {
        id: id.to_string(),
        customer: customer.to_string(),
        items: items
            .iter()
            .map(|&(sku, quantity, unit_cents)| LineItem {
                sku: sku.to_string(),
                quantity,
                unit_cents,
            })
            .collect(),
    }
}

fn runner() -> LocalRunner {
    LocalRunner::new(order::handler(process_order))
}

#[tokio::test]
async fn a_small_order_is_charged_after_a_retry_and_handed_to_shipping() {
    let execution = runner()
        .run(order("o-1", "ada@example.com", &[("lamp", 2, 2_500)]))
        .await
        .unwrap();

    let validate = execution.operation("validate order").unwrap();
    assert_eq!(validate.status, OperationStatus::Succeeded);
    let validated: serde_json::Value = serde_json::from_str(
        validate
            .step_details
            .as_ref()
            .and_then(|details| details.result.as_deref())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        validated,
        serde_json::json!({ "totalCents": 5000, "needsApproval": false })
    );

    // The first attempt timed out; the declared policy retried it after 2 s.
    let charge = execution.operation("charge card").unwrap();
    assert_eq!(charge.status, OperationStatus::Succeeded);
    assert_eq!(
        charge.step_details.as_ref().and_then(|d| d.attempt),
        Some(2)
    );
    assert!(execution.elapsed() >= std::time::Duration::from_secs(2));

    // No approval below the threshold.
    assert!(execution.operation("manager approval").is_none());

    // The declared function is invoked; the execution waits for its result.
    let ship = execution.operation("ship order").unwrap();
    assert_eq!(
        (ship.type_, ship.status),
        (OperationType::ChainedInvoke, OperationStatus::Started)
    );
    assert!(
        execution
            .timeline()
            .contains("invoke \"ship order\" started (function shipping-service:live)"),
        "{}",
        execution.timeline()
    );
    assert_eq!(execution.status(), ExecutionStatus::Running);
}

#[tokio::test]
async fn a_large_order_waits_for_the_manager() {
    let execution = runner()
        .run(order("o-2", "bob@example.com", &[("piano", 1, 250_000)]))
        .await
        .unwrap();

    let approval = execution.operation("manager approval").unwrap();
    assert_eq!(approval.type_, OperationType::Context);
    let callback = execution
        .operations()
        .iter()
        .find(|op| op.type_ == OperationType::Callback)
        .unwrap();
    assert_eq!(callback.status, OperationStatus::Started);
    assert!(callback
        .callback_details
        .as_ref()
        .and_then(|details| details.callback_id.as_ref())
        .is_some());
    assert!(execution.operation("ship order").is_none());
    assert_eq!(execution.status(), ExecutionStatus::Running);
}

#[tokio::test]
async fn an_empty_order_fails_without_retrying() {
    let execution = runner()
        .run(order("o-3", "cy@example.com", &[]))
        .await
        .unwrap();

    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let validate = execution.operation("validate order").unwrap();
    assert_eq!(validate.status, OperationStatus::Failed);
    // "retry": {"strategy": "none"}: one attempt only.
    assert_eq!(
        validate.step_details.as_ref().and_then(|d| d.attempt),
        Some(1)
    );
    let error = execution.error().unwrap();
    assert_eq!(
        error.error_message.as_deref(),
        Some("the order has no items")
    );
}

#[tokio::test]
async fn a_declined_card_is_not_retried() {
    let execution = runner()
        .run(order("o-4", "dan@declined.example", &[("lamp", 1, 2_500)]))
        .await
        .unwrap();

    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let charge = execution.operation("charge card").unwrap();
    assert_eq!(charge.status, OperationStatus::Failed);
    // The retry filter only matches "timed out".
    assert_eq!(
        charge.step_details.as_ref().and_then(|d| d.attempt),
        Some(1)
    );
    assert_eq!(
        execution.error().unwrap().error_message.as_deref(),
        Some("card declined")
    );
}
