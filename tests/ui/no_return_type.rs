use lambda_durable::{durable_execution, DurableContext};

#[durable_execution]
async fn handler(_event: serde_json::Value, _ctx: DurableContext) {}
