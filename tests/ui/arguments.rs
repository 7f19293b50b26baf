use lambda_durable::{durable_execution, DurableContext, Error};

#[durable_execution(main = false)]
async fn handler(_event: serde_json::Value, _ctx: DurableContext) -> Result<(), Error> {
    Ok(())
}
