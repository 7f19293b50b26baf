//! Runs one execution of the order workflow on the local runner (no AWS account needed) and
//! prints its timeline: `cargo run -p orders --example orders-local`. The Lambda binary is
//! `src/main.rs`; this file is not part of it.

use lambda_durable_testing::{CallbackResponse, LocalRunner};
use orders::order::{self, LineItem, Order};
use orders::{process_order, ship, shipping};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let input = Order {
        id: "o-1001".to_string(),
        customer: "ada@example.com".to_string(),
        items: vec![LineItem {
            sku: "grand piano".to_string(),
            quantity: 1,
            unit_cents: 250_000,
        }],
    };
    // Locally, the shipping service is a registered function and the manager approves
    // every order an hour after being asked.
    let execution = LocalRunner::new(order::handler(process_order))
        .register_workflow(shipping::handler(ship))
        .on_callback(
            "manager approval",
            CallbackResponse::json(serde_json::json!({"approved": true, "manager": "grace"}))
                .after(std::time::Duration::from_secs(3600)),
        )
        .run(input)
        .await?;
    println!("{}", execution.timeline());
    println!("status: {:?}", execution.status());
    if execution.status() == lambda_durable::wire::ExecutionStatus::Running {
        // On Lambda the service resumes the execution when the shipping service answers
        // (or the manager completes the callback).
        println!(
            "waiting for an external event: the shipping service's result or the manager's answer"
        );
    }
    Ok(())
}
