use lambda_durable::{durable_execution, DurableContext, Error};

#[durable_execution]
async fn handler<E: serde::Serialize>(event: E, _ctx: DurableContext) -> Result<E, Error> {
    Ok(event)
}
