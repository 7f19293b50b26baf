use lambda_durable::{durable_execution, DurableContext, Error};

#[durable_execution]
async fn handler(_ctx: DurableContext) -> Result<(), Error> {
    Ok(())
}
