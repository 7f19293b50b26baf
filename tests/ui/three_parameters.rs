use lambda_durable::{durable_execution, DurableContext, Error};

#[durable_execution]
async fn handler(
    event: serde_json::Value,
    _ctx: DurableContext,
    _extra: u32,
) -> Result<serde_json::Value, Error> {
    Ok(event)
}
