// The "validate order" step is declared to return a `ValidatedOrder`.
use orders::order::Workflow;

async fn validate(wf: Workflow) -> Result<(), lambda_durable::Error> {
    wf.validate_order(|_step| async { Ok::<_, std::io::Error>("valid".to_string()) })
        .await?;
    Ok(())
}

fn main() {
    drop(validate);
}
