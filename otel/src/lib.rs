//! OpenTelemetry traces for [`lambda_durable`] executions.
//!
//! Two [instrumentation plugins](lambda_durable::plugin) turn what an execution does into
//! spans, in one of two views:
//!
//! - [`InvocationOtelPlugin`], the invocation view: one `Invocation` span per Lambda
//!   invocation, with the operations it worked on under it and each step attempt under its
//!   operation. An operation that spans invocations (a wait, a retry, a callback) has a
//!   span in each, the first ended as still `STARTED`. Every operation and attempt span
//!   links to the execution's `Workflow` span.
//! - [`ExecutionOtelPlugin`], the execution view: one `Workflow` span for the whole
//!   execution, with one span per operation under it, timed by its checkpoints and linked
//!   to the `Invocation` span in which it finished.
//!
//! Both name spans `Workflow`, `Invocation`, the operation's name (its id when it has none)
//! and `<name> attempt <n>`; all are INTERNAL; the `durable.*` attributes are listed in
//! [`attributes`]. The `Workflow` span is exported once, by the invocation that ends the
//! execution, with the deterministic ids every invocation refers to
//! ([`workflow_span_id`]; in the execution view, operation spans too:
//! [`operation_span_id`]). The trace id is the X-Ray trace id of the invocation when there
//! is one, else derived from the execution's start and ARN ([`derived_trace_id`]).
//!
//! [`OtelConfig`] says where spans go: a tracer provider the configuration owns, around
//! any [`SpanExporter`](opentelemetry_sdk::trace::SpanExporter) (by default an
//! [`OtlpJsonExporter`] posting to the collector at `http://localhost:4318`), or your own
//! provider built with the [`DurableIdGenerator`]. The plugins flush it at the end of every
//! invocation.
//!
//! ```
//! use lambda_durable::{DurableContext, Error};
//! use lambda_durable_otel::{ExecutionOtelPlugin, OtelConfig};
//! use lambda_durable_testing::LocalRunner;
//! use opentelemetry_sdk::trace::InMemorySpanExporter;
//!
//! async fn handler(_: (), ctx: DurableContext) -> Result<u32, Error> {
//!     ctx.step("answer", |_| async { Ok::<_, std::io::Error>(42) }).await
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let exporter = InMemorySpanExporter::default();
//! let config = OtelConfig::builder().exporter(exporter.clone()).build()?;
//! let runner = LocalRunner::new(handler).plugin(ExecutionOtelPlugin::new(config));
//! let execution = runner.run(()).await?;
//! assert_eq!(execution.result::<u32>()?, 42);
//!
//! // Each invocation's spans are exported when it ends. (The plugin owns the provider:
//! // dropping the runner shuts it down, and the in-memory exporter forgets its spans.)
//! let mut names: Vec<String> = exporter
//!     .get_finished_spans()?
//!     .into_iter()
//!     .map(|span| span.name.into_owned())
//!     .collect();
//! names.sort();
//! assert_eq!(names, ["Invocation", "Workflow", "answer", "answer attempt 1"]);
//! # Ok(()) }
//! ```
//!
//! On Lambda, register the plugin on the runtime:
//!
//! ```no_run
//! use lambda_durable::{DurableContext, Error, Runtime};
//! use lambda_durable_otel::{InvocationOtelPlugin, OtelConfig};
//!
//! async fn handler(_: (), ctx: DurableContext) -> Result<u32, Error> {
//!     ctx.step("answer", |_| async { Ok::<_, std::io::Error>(42) }).await
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), lambda_durable::lambda_runtime::Error> {
//!     // OTLP/HTTP JSON to OTEL_EXPORTER_OTLP_ENDPOINT, by default the collector
//!     // extension on localhost:4318; service.name from OTEL_SERVICE_NAME.
//!     let config = OtelConfig::builder().build()?;
//!     Runtime::builder()
//!         .plugin(InvocationOtelPlugin::new(config))
//!         .build()?
//!         .run(handler)
//!         .await
//! }
//! ```

mod active;
pub mod attributes;
mod config;
mod emit;
mod execution;
mod ids;
mod invocation;
mod otlp;

pub use active::{ActiveSpans, LogCorrelation};
pub use config::{
    lambda_resource, ConfigError, OtelConfig, OtelConfigBuilder, DEFAULT_INSTRUMENT_NAME,
    DEFAULT_WORKFLOW_SPAN_NAME, SAMPLING_RATIO_VAR,
};
pub use execution::ExecutionOtelPlugin;
pub use ids::{
    derived_trace_id, operation_span_id, workflow_span_id, DurableIdGenerator, XrayHeader,
};
pub use invocation::InvocationOtelPlugin;
pub use otlp::{otlp_json, OtlpError, OtlpJsonExporter, DEFAULT_ENDPOINT, DEFAULT_TIMEOUT};
