// The workflow's declared output is a `Receipt`; a handler returning a string is rejected.
use lambda_durable_testing::LocalRunner;
use orders::order::{self, Workflow};

async fn handler(input: order::Input, _wf: Workflow) -> Result<String, lambda_durable::Error> {
    Ok(input.id)
}

fn main() {
    drop(LocalRunner::new(order::handler(handler)));
}
