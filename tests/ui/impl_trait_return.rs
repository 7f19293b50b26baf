use lambda_durable::{durable_execution, DurableContext};

#[durable_execution]
async fn handler(event: serde_json::Value, _ctx: DurableContext) -> impl serde::Serialize {
    event
}
