//! The Lambda function: serves the order workflow of `lib.rs` on the Lambda runtime API. Deploy it with
//! `template.yaml`; run it locally with `cargo run -p hello --example hello-local`.

use hello::process_order;

#[tokio::main]
async fn main() -> Result<(), lambda_durable::lambda_runtime::Error> {
    // The handler's loggers and the SDK write through `tracing`: print their records on
    // stdout (CloudWatch), as JSON when the function's log format is JSON
    // (`AWS_LAMBDA_LOG_FORMAT`), at the level of `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`,
    // else INFO.
    lambda_durable::logging::init_subscriber();
    lambda_durable::run(process_order).await
}
