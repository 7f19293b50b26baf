// "charge card" declares an input: the helper takes the `ChargeRequest` first.
use orders::order::{Charge, ChargeRequest, Workflow};

async fn charge(wf: Workflow) -> Result<Charge, lambda_durable::Error> {
    wf.charge_card(|request: ChargeRequest, _step| async move {
        Ok::<_, std::io::Error>(Charge {
            charge_id: request.order_id,
        })
    })
    .await
}

fn main() {
    drop(charge);
}
