//! A handler with its own error type, a fully qualified context type and a `Result` alias.
//!
//! It sits in a module so that the `main` the attribute generates is compiled but not run
//! (running it needs the Lambda Runtime API); `ENTRY_POINT` checks that `main`'s signature.

mod function {
    #[derive(Debug)]
    pub(crate) enum PaymentError {
        Declined,
        Durable(lambda_durable::Error),
    }

    impl std::fmt::Display for PaymentError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                PaymentError::Declined => f.write_str("payment declined"),
                PaymentError::Durable(err) => write!(f, "durable operation failed: {err}"),
            }
        }
    }

    impl std::error::Error for PaymentError {}

    impl From<lambda_durable::Error> for PaymentError {
        fn from(err: lambda_durable::Error) -> Self {
            PaymentError::Durable(err)
        }
    }

    type PaymentResult<T> = Result<T, PaymentError>;

    #[lambda_durable::durable_execution]
    async fn charge(amount: u64, ctx: lambda_durable::DurableContext) -> PaymentResult<String> {
        if amount == 0 {
            return Err(PaymentError::Declined);
        }
        let charge_id = ctx
            .step("charge", |_| async move {
                Ok::<_, std::io::Error>(format!("charge-{amount}"))
            })
            .await?;
        Ok(charge_id)
    }

    pub(crate) const ENTRY_POINT: fn() -> Result<(), Box<dyn std::error::Error + Send + Sync>> =
        main;
}

fn main() {
    let _ = function::ENTRY_POINT;
}
