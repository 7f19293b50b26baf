// There is no operation "validate ordr" in workflows/order.json.
use orders::order::{ValidatedOrder, Workflow};

async fn validate(wf: Workflow) -> Result<ValidatedOrder, lambda_durable::Error> {
    wf.validate_ordr(|_step| async {
        Ok::<_, std::io::Error>(ValidatedOrder {
            total_cents: 0,
            needs_approval: false,
        })
    })
    .await
}

fn main() {
    drop(validate);
}
