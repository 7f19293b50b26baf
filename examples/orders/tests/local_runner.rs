//! The order workflow on the local runner, driven through its generated helpers.
#![allow(clippy::unwrap_used)]

use lambda_durable::wire::{ExecutionStatus, OperationStatus, OperationType};
use lambda_durable_testing::{CallbackResponse, LocalRunner};
use orders::order::{self, LineItem, Order};
use orders::{process_order, ship, shipping};

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

/// The workflow alone: the shipping service and the manager are not there.
fn runner() -> LocalRunner {
    LocalRunner::new(order::handler(process_order))
}

/// The workflow with a local shipping service and a manager who answers `approved`.
fn runner_with_services(approved: bool) -> LocalRunner {
    runner()
        .register_workflow(shipping::handler(ship))
        .on_callback(
            "manager approval",
            CallbackResponse::json(serde_json::json!({"approved": approved, "manager": "grace"}))
                .after(std::time::Duration::from_secs(600)),
        )
}

#[tokio::test]
async fn a_small_order_ships_end_to_end() {
    let execution = runner_with_services(true)
        .run(order("o-10", "ada@example.com", &[("lamp", 2, 2_500)]))
        .await
        .unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    let receipt: order::Receipt = execution.result().unwrap();
    assert_eq!(receipt.status, order::ReceiptStatus::Shipped);
    assert_eq!(receipt.tracking_number.as_deref(), Some("TRK-o-10-2"));
    assert_eq!(receipt.approved_by, None);
    assert!(execution.operation("notify customer").is_some());
}

#[tokio::test]
async fn a_large_order_ships_after_the_manager_approves() {
    let execution = runner_with_services(true)
        .run(order("o-11", "bob@example.com", &[("piano", 1, 250_000)]))
        .await
        .unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    let receipt: order::Receipt = execution.result().unwrap();
    assert_eq!(receipt.status, order::ReceiptStatus::Shipped);
    assert_eq!(receipt.approved_by.as_deref(), Some("grace"));
    assert_eq!(receipt.tracking_number.as_deref(), Some("TRK-o-11-1"));
    // The manager answered 10 minutes after being asked.
    assert!(execution.elapsed() >= std::time::Duration::from_secs(600));
}

#[tokio::test]
async fn a_rejected_order_is_not_shipped() {
    let execution = runner_with_services(false)
        .run(order("o-12", "cy@example.com", &[("piano", 1, 250_000)]))
        .await
        .unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    let receipt: order::Receipt = execution.result().unwrap();
    assert_eq!(receipt.status, order::ReceiptStatus::Rejected);
    assert!(execution.operation("ship order").is_none());
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

    // The declared function is invoked; without a registered shipping service the
    // service reports it as not found, and the invoke fails the workflow.
    let ship = execution.operation("ship order").unwrap();
    assert_eq!(
        (ship.type_, ship.status),
        (OperationType::ChainedInvoke, OperationStatus::Failed)
    );
    assert!(
        execution
            .timeline()
            .contains("invoke \"ship order\" started (function shipping-service:live)"),
        "{}",
        execution.timeline()
    );
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    assert_eq!(
        execution.error().unwrap().error_type.as_deref(),
        Some("InvokeError")
    );
}

#[tokio::test]
async fn a_large_order_waits_for_the_manager() {
    let mut running = runner()
        .start(order("o-2", "bob@example.com", &[("piano", 1, 250_000)]))
        .unwrap();
    assert_eq!(
        running.run_until_suspended().await.unwrap(),
        ExecutionStatus::Running
    );
    let execution = running.snapshot();
    let approval = execution.operation("manager approval").unwrap();
    assert_eq!(approval.type_, OperationType::Context);
    let callback = execution
        .operations()
        .iter()
        .find(|op| op.type_ == OperationType::Callback)
        .unwrap();
    assert_eq!(callback.status, OperationStatus::Started);
    let pending = running.pending_callbacks();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].name(), Some("manager approval"));
    assert!(execution.operation("ship order").is_none());

    // Nobody answers: the declared two-day timeout fails the workflow.
    let execution = running.run().await.unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    assert_eq!(
        execution.error().unwrap().error_type.as_deref(),
        Some("CallbackTimeoutError")
    );
    assert!(execution.elapsed() >= std::time::Duration::from_secs(2 * 24 * 3600));
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

/// An input that breaks the declared input schema fails the execution before the handler
/// runs, naming the JSONPath of the offending value and the broken constraint.
#[tokio::test]
async fn an_input_that_breaks_the_declaration_fails_before_the_handler_runs() {
    for (input, path, fragment) in [
        (
            serde_json::json!({"id": "o-5", "customer": "eve@example.com",
                "items": [{"sku": "lamp", "quantity": -1, "unitCents": 100}]}),
            "$.items[0].quantity",
            "-1 is less than the minimum 0",
        ),
        (
            serde_json::json!({"id": "o-5", "items": []}),
            "$",
            "the required property \"customer\" is missing",
        ),
        (
            serde_json::json!({"id": "o-5", "customer": 7, "items": []}),
            "$.customer",
            "expected string, got number 7",
        ),
    ] {
        let execution = runner().run(input).await.unwrap();
        assert_eq!(execution.status(), ExecutionStatus::Failed);
        assert!(
            execution
                .operations()
                .iter()
                .all(|op| op.type_ == OperationType::Execution),
            "the handler ran: {:?}",
            execution.operations()
        );
        let message = execution
            .error()
            .unwrap()
            .error_message
            .clone()
            .unwrap_or_default();
        assert!(
            message.ends_with(&format!(
                "does not match the handler's event type: {path}: {fragment} (the workflow's declared input schema)"
            )),
            "{message}"
        );
    }
}
