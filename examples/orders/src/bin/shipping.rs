//! The shipping service's Lambda function: serves the workflow declared in
//! `workflows/shipping.json`, which the order workflow invokes.

use orders::{ship, shipping};

#[tokio::main]
async fn main() -> Result<(), lambda_durable::lambda_runtime::Error> {
    lambda_durable::logging::init_subscriber();
    lambda_durable::run(shipping::handler(ship)).await
}
