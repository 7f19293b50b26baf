//! The order workflow invokes the shipping workflow declared in `workflows/shipping.json`:
//! the invoke is typed by the callee's declaration (`shipping::Input` in, `shipping::Output`
//! out), the local runner registers the callee by its declaration (under its declared
//! function), and the callee checks its own declared input.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use lambda_durable::wire::ExecutionStatus;
use lambda_durable_testing::{CallbackResponse, LocalRunner};
use orders::order::{self, LineItem, Order};
use orders::shipping::{self, Shipment, ShipmentRequest};
use orders::{process_order, ship};

fn order(items: Vec<LineItem>) -> Order {
    Order {
        id: "o-30".to_string(),
        customer: "ada@example.com".to_string(),
        items,
    }
}

fn lamp(quantity: u64) -> LineItem {
    LineItem {
        sku: "lamp".to_string(),
        quantity,
        unit_cents: 2_500,
    }
}

#[test]
fn the_callee_declares_the_function_the_caller_invokes() {
    assert_eq!(shipping::FUNCTION, Some("shipping-service:live"));
    assert_eq!(shipping::NAME, "shipping");
    assert_eq!(order::FUNCTION, None);
    // The invoke's payload is the callee's input type, which holds the caller's LineItem.
    let request: shipping::Input = ShipmentRequest {
        order_id: "o-1".to_string(),
        items: vec![lamp(1)],
    };
    let _: &Vec<order::LineItem> = &request.items;
}

#[tokio::test]
async fn the_order_invokes_the_declared_shipping_workflow() {
    let execution = LocalRunner::new(order::handler(process_order))
        .register_workflow(shipping::handler(ship))
        .run(order(vec![lamp(3)]))
        .await
        .unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    let receipt: order::Receipt = execution.result().unwrap();
    assert_eq!(receipt.tracking_number.as_deref(), Some("TRK-o-30-3"));

    // The shipping workflow ran as an execution of its own, under its declared function,
    // with its declared operations; its pickup window took 30 virtual minutes.
    let child = &execution.children()[0];
    assert_eq!(child.function_name(), "shipping-service:live");
    assert_eq!(child.status(), ExecutionStatus::Succeeded);
    let shipment: Shipment = child.result().unwrap();
    assert_eq!(shipment.tracking_number, "TRK-o-30-3");
    assert!(child.operation("book carrier").is_some());
    assert!(child.operation("pickup window").is_some());
    assert!(execution.elapsed() >= Duration::from_secs(30 * 60));
}

#[tokio::test]
async fn the_callee_checks_its_own_declared_input() {
    // The shipping declaration wants at least one item: a handler that sends none fails
    // the invoke with the callee's input check.
    async fn ship_nothing(
        input: order::Input,
        wf: order::Workflow,
    ) -> Result<order::Output, lambda_durable::Error> {
        let shipment = wf
            .ship_order(ShipmentRequest {
                order_id: input.id.clone(),
                items: Vec::new(),
            })
            .await?;
        Ok(order::Receipt {
            order_id: input.id,
            status: order::ReceiptStatus::Shipped,
            charge_id: None,
            approved_by: None,
            tracking_number: Some(shipment.tracking_number),
        })
    }
    let execution = LocalRunner::new(order::handler(ship_nothing))
        .register_workflow(shipping::handler(ship))
        .run(order(vec![lamp(1)]))
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let message = execution
        .error()
        .and_then(|error| error.error_message.clone())
        .unwrap_or_default();
    assert!(
        message.contains("$.items: 0 items, fewer than the minimum 1"),
        "{message}"
    );
}

/// One call: the order workflow, with the shipping workflow and an approving manager,
/// ends the same whatever checkpoint call its invocation crashes after (a small order,
/// and a large one that waits for the manager). The "charge card" step is at most once:
/// a crash while it runs interrupts it, and an interruption is retried whatever the
/// declared `retryIf` says, so nothing differs.
#[tokio::test]
async fn the_order_workflow_is_crash_safe() {
    let runner = LocalRunner::new(order::handler(process_order))
        .register_workflow(shipping::handler(ship))
        .on_callback(
            "manager approval",
            CallbackResponse::json(serde_json::json!({"approved": true, "manager": "grace"}))
                .after(Duration::from_secs(600)),
        );
    for items in [vec![lamp(2)], vec![lamp(100)]] {
        let report = runner
            .check_crash_safety(order(items))
            .await
            .unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(report.baseline().status(), ExecutionStatus::Succeeded);
        assert!(report.crash_points().len() >= 5, "{report}");
        assert!(report.crash_points().iter().all(|point| point.crashed()));
        assert_eq!(report.interrupted().count(), 0, "{report}");
    }
}

/// The shipping workflow alone is crash-safe too.
#[tokio::test]
async fn the_shipping_workflow_is_crash_safe() {
    let report = LocalRunner::new(shipping::handler(ship))
        .check_crash_safety(ShipmentRequest {
            order_id: "o-31".to_string(),
            items: vec![lamp(2)],
        })
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        report
            .baseline()
            .result::<Shipment>()
            .unwrap()
            .tracking_number,
        "TRK-o-31-2"
    );
}
