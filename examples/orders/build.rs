//! Generates the typed helpers of every declaration in `workflows/` into `OUT_DIR`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    lambda_durable_codegen::workflow::build("workflows")?;
    Ok(())
}
