use lambda_durable::{durable_execution, DurableContext, Error};

#[durable_execution]
fn handler(event: serde_json::Value, _ctx: DurableContext) -> Result<serde_json::Value, Error> {
    Ok(event)
}
