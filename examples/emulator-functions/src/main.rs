//! Serves the durable handler named by `AWS_LAMBDA_FUNCTION_NAME` on the Lambda runtime API
//! (`AWS_LAMBDA_RUNTIME_API`), as Lambda runs a deployed function.

use emulator_functions::{serve, BoxError};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let name = std::env::var("AWS_LAMBDA_FUNCTION_NAME").map_err(|_| {
        "AWS_LAMBDA_FUNCTION_NAME is not set: this binary runs on the Lambda runtime API \
         (see the crate's tests for a local one)"
    })?;
    serve(&name).await
}
