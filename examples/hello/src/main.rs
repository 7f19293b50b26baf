//! On Lambda this binary serves the durable handler; anywhere else it runs one execution
//! on the local runner and prints its timeline and result.

use hello::{process_order, Order};
use lambda_durable::testing::LocalRunner;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    // The handler's loggers and the SDK write through `tracing`: print their records on
    // stdout (CloudWatch on Lambda), as JSON when the function's log format is JSON
    // (`AWS_LAMBDA_LOG_FORMAT`), at the level of `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`,
    // else INFO.
    lambda_durable::lambda_runtime::tracing::init_default_subscriber();
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda_durable::run(process_order).await;
    }
    let order = Order {
        id: "order-42".to_string(),
        cents: 1250,
        items: vec!["book".to_string(), "lamp".to_string()],
    };
    let execution = LocalRunner::new(process_order)
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
