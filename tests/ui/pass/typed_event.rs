//! A handler with a typed event and output and the SDK's error type.
//!
//! It sits in a module so that the `main` the attribute generates is compiled but not run
//! (running it needs the Lambda Runtime API); `ENTRY_POINT` checks that `main`'s signature.

mod function {
    use lambda_durable::{durable_execution, DurableContext, Error};

    #[derive(serde::Deserialize)]
    pub(crate) struct Order {
        id: String,
        quantity: u32,
    }

    #[derive(serde::Serialize)]
    pub(crate) struct Receipt {
        reservation: String,
    }

    #[durable_execution]
    pub(crate) async fn handler(order: Order, ctx: DurableContext) -> Result<Receipt, Error> {
        let Order { id, quantity } = order;
        let reservation = ctx
            .step("reserve", |_| async move {
                Ok::<_, std::io::Error>(format!("{quantity} x {id}"))
            })
            .await?;
        Ok(Receipt { reservation })
    }

    pub(crate) const ENTRY_POINT: fn() -> Result<(), Box<dyn std::error::Error + Send + Sync>> =
        main;
}

fn main() {
    let _ = function::ENTRY_POINT;
}
