use lambda_durable::{durable_execution, Error};

#[durable_execution]
async fn handler(event: serde_json::Value, _ctx: String) -> Result<serde_json::Value, Error> {
    Ok(event)
}
