//! The Lambda function: serves the workflow of `lib.rs` with the OpenTelemetry plugin,
//! exporting OTLP/HTTP JSON to `OTEL_EXPORTER_OTLP_ENDPOINT` (by default the collector
//! extension on `http://localhost:4318`) with `service.name` from `OTEL_SERVICE_NAME`, in
//! the view `OTEL_PLUGIN_MODE` names. Deploy it with `template.yaml`; run it locally with
//! `cargo run -p otel-example --example otel-local`.

use lambda_durable::Runtime;
use lambda_durable_otel::OtelConfig;
use otel_example::{plugin, ship_order, View};

#[tokio::main]
async fn main() -> Result<(), lambda_durable::lambda_runtime::Error> {
    lambda_durable::logging::init_subscriber();
    // The plugin flushes the spans at the end of every invocation, before Lambda may
    // freeze the process.
    let config = OtelConfig::builder().build()?;
    Runtime::builder()
        .shared_plugin(plugin(View::from_env(), config))
        .build()?
        .run(ship_order)
        .await
}
