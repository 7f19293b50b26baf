//! Runs one execution of the workflow of `lib.rs` on the local runner (no AWS account
//! needed) with the OpenTelemetry plugin, and writes its spans as OTLP JSON:
//!
//! ```text
//! cargo run -p otel-example --example otel-local [-- traces.json]
//! ```
//!
//! The spans go to the file given (one OTLP `ExportTraceServiceRequest` per line, one line
//! per invocation; `otel-traces.json` by default), or, when `OTEL_EXPORTER_OTLP_ENDPOINT` is
//! set, to the collector there (OTLP/HTTP JSON). `OTEL_PLUGIN_MODE=execution` picks the
//! execution view. On the local runner the operations' checkpoint times (which the
//! execution view uses) are on its virtual clock, which starts at 2026-01-01T00:00:00Z.

use lambda_durable_otel::{OtelConfig, OtlpJsonExporter};
use lambda_durable_testing::LocalRunner;
use otel_example::{plugin, ship_order, Order, View};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let view = View::from_env();
    let (exporter, destination) = match std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => (OtlpJsonExporter::from_env()?, endpoint),
        _ => {
            let path = std::env::args()
                .nth(1)
                .unwrap_or_else(|| "otel-traces.json".to_string());
            // A new file for each run.
            std::fs::write(&path, "")?;
            (OtlpJsonExporter::file(&path)?, path)
        }
    };
    let config = OtelConfig::builder()
        .exporter(exporter)
        .service_name("otel-example")
        .build()?;
    let order = Order {
        id: "order-42".to_string(),
        items: vec!["book".to_string(), "lamp".to_string()],
    };
    let runner = LocalRunner::new(ship_order).shared_plugin(plugin(view, config));
    let execution = runner.run(order).await?;
    println!("{}", execution.timeline());
    println!("status: {:?}", execution.status());
    println!(
        "{} invocations; {view:?} view spans written to {destination}",
        execution.invocations()
    );
    Ok(())
}
