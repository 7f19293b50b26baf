//! On Lambda this binary serves the order workflow; anywhere else it runs one execution on
//! the local runner and prints its timeline.

use lambda_durable::testing::LocalRunner;
use orders::order::{self, LineItem, Order};
use orders::process_order;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda_durable::run(order::handler(process_order)).await;
    }
    let input = Order {
        id: "o-1001".to_string(),
        customer: "ada@example.com".to_string(),
        items: vec![LineItem {
            sku: "lamp".to_string(),
            quantity: 2,
            unit_cents: 2_500,
        }],
    };
    let execution = LocalRunner::new(order::handler(process_order))
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
