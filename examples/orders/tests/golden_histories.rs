//! Golden histories: executions of the order workflow recorded in `tests/histories/` replay
//! against this code as they were recorded, so a change that would break executions in
//! flight fails here. `UPDATE_HISTORIES=1` records them again from this code (do that only
//! when a change is meant to apply to new executions alone, guarded with `ctx.patched`).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use lambda_durable::wire::ExecutionStatus;
use lambda_durable_testing::{check_recorded, CallbackResponse, LocalRunner, RecordedExecution};
use orders::order::{self, LineItem, Order};
use orders::{process_order, ship, shipping};

fn histories() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/histories")
}

fn order(id: &str, items: &[(&str, u64, u64)]) -> Order {
    Order {
        id: id.to_string(),
        customer: "ada@example.com".to_string(),
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

/// Runs the scenarios and saves them.
async fn record() {
    let runner = LocalRunner::new(order::handler(process_order))
        .register_workflow(shipping::handler(ship))
        .on_callback(
            "manager approval",
            CallbackResponse::json(serde_json::json!({"approved": true, "manager": "grace"}))
                .after(std::time::Duration::from_secs(600)),
        );
    let scenarios = [
        ("small-order", order("o-1", &[("lamp", 2, 2_500)])),
        ("large-order", order("o-2", &[("piano", 1, 900_000)])),
    ];
    for (name, input) in scenarios {
        let execution = runner.run(input).await.unwrap();
        assert_eq!(execution.status(), ExecutionStatus::Succeeded, "{name}");
        RecordedExecution::from(&execution)
            .save(histories().join(format!("{name}.json")))
            .unwrap();
    }
}

#[tokio::test]
async fn recorded_orders_replay_against_this_code() {
    if std::env::var_os("UPDATE_HISTORIES").is_some_and(|value| value == "1") {
        record().await;
    }
    let runner = LocalRunner::new(order::handler(process_order));
    let checked = check_recorded(&runner, histories()).await.unwrap();
    assert_eq!(
        checked,
        2,
        "the recorded scenarios are in {:?}",
        histories()
    );
}
