//! Runs one execution of the order workflow of `lib.rs` on the local runner (no AWS
//! account needed) and prints its timeline: `cargo run -p hello --example hello-local`. The
//! Lambda binary is `src/main.rs`; this file is not part of it.

use hello::{process_order, Order};
use lambda_durable_testing::{CallbackResponse, LocalRunner};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    // The handler's loggers and the SDK write through `tracing`: print their records on
    // stdout (CloudWatch on Lambda), as JSON when the function's log format is JSON
    // (`AWS_LAMBDA_LOG_FORMAT`), at the level of `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`,
    // else INFO.
    lambda_durable::logging::init_subscriber();
    let order = Order {
        id: "order-42".to_string(),
        cents: 1250,
        items: vec!["book".to_string(), "lamp".to_string()],
    };
    // Orders above 1,000.00 wait for a manager's approval; here a responder gives it at once.
    let execution = LocalRunner::new(process_order)
        .on_callback(
            "approval",
            CallbackResponse::json(serde_json::json!({"by": "hello-local"})),
        )
        .run(serde_json::to_value(&order)?)
        .await?;
    println!("{}", execution.timeline());
    println!("status: {:?}", execution.status());
    match execution.error() {
        Some(error) => println!("error: {error:?}"),
        None => println!(
            "result: {}",
            serde_json::to_string_pretty(&execution.result::<serde_json::Value>()?)?
        ),
    }
    Ok(())
}
