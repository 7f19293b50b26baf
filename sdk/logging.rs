//! Log output that CloudWatch and AWS's durable-function tooling can search: one JSON
//! object per record with the message and the execution ARN at the top level.
//!
//! The SDK and [`Logger`](crate::Logger) write through [`tracing`]. [`init_subscriber`]
//! installs a subscriber like `lambda_runtime::tracing::init_default_subscriber` (level from
//! `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO; JSON when the function's log format
//! is JSON, `AWS_LAMBDA_LOG_FORMAT=JSON`, else text), whose JSON records are
//! [`DurableJson`]: flat, with `timestamp`, `level`, `target`, `message`, then every field
//! of the record and of the spans around it in camelCase (`executionArn`, `requestId`,
//! `operationId`, `operationName`, `attempt`, ...; see [`json_field_name`]). The nested
//! form of the default JSON format (`{"fields": {"durable.execution.arn": ...}}`) is not
//! found by tools that filter on `$.executionArn` and `$.message`.
//!
//! [`builder`] sets the same subscriber up with another writer, or with fields of your own
//! added to every JSON record ([`Enrich`]; `lambda-durable-otel` adds the trace and span
//! ids of the running code that way).
//!
//! ```no_run
//! use lambda_durable::{DurableContext, Error};
//!
//! async fn handler(_: (), ctx: DurableContext) -> Result<(), Error> {
//!     ctx.logger().info("started");
//!     Ok(())
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), lambda_runtime::Error> {
//!     // {"timestamp":"...","level":"INFO","target":"...","message":"started",
//!     //  "executionArn":"arn:aws:lambda:...","requestId":"..."}
//!     lambda_durable::logging::init_subscriber();
//!     lambda_durable::run(handler).await
//! }
//! ```

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// Installs the SDK's default subscriber, writing to standard output (see the
/// [module documentation](self)). Does nothing if a global subscriber is already set.
pub fn init_subscriber() {
    builder().init();
}

/// [`init_subscriber`] with another writer (a non-blocking one, or a buffer in a test).
pub fn init_subscriber_with_writer<W>(writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    builder().writer(writer).init();
}

/// A [`LoggingBuilder`]: the subscriber of [`init_subscriber`], to configure before
/// installing it.
///
/// ```
/// use lambda_durable::logging;
///
/// // Every JSON record also says which function wrote it.
/// let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
/// logging::builder()
///     .enrich(move |record: &mut serde_json::Map<String, serde_json::Value>| {
///         record.insert("function".into(), function.clone().into());
///     })
///     .init();
/// ```
pub fn builder() -> LoggingBuilder {
    LoggingBuilder {
        writer: BoxMakeWriter::new(std::io::stdout),
        format: DurableJson::default(),
    }
}

/// Configures the subscriber of [`init_subscriber`]; made by [`builder`].
pub struct LoggingBuilder {
    writer: BoxMakeWriter,
    format: DurableJson,
}

impl fmt::Debug for LoggingBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoggingBuilder")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl LoggingBuilder {
    /// Writes the records with `writer` instead of to standard output.
    pub fn writer<W>(mut self, writer: W) -> Self
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        self.writer = BoxMakeWriter::new(writer);
        self
    }

    /// Adds fields to every JSON record (see [`DurableJson::enrich`]). Text records are
    /// written as they are.
    pub fn enrich(mut self, enrich: impl Enrich) -> Self {
        self.format = self.format.enrich(enrich);
        self
    }

    /// Installs the subscriber as the global default. Does nothing if one is already set.
    pub fn init(self) {
        use tracing_subscriber::filter::{EnvFilter, LevelFilter};
        use tracing_subscriber::util::SubscriberInitExt;

        let writer = self.writer;
        let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
            .or_else(|_| std::env::var("RUST_LOG"))
            .ok()
            .and_then(|level| level.parse::<LevelFilter>().ok())
            .unwrap_or(LevelFilter::INFO);
        let filter = EnvFilter::builder()
            .with_default_directive(level.into())
            .from_env_lossy();
        let json = std::env::var("AWS_LAMBDA_LOG_FORMAT")
            .is_ok_and(|format| format.eq_ignore_ascii_case("json"));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(writer);
        let _ = if json {
            builder
                .fmt_fields(JsonFields::new())
                .event_format(self.format)
                .finish()
                .try_init()
        } else {
            builder
                .with_target(false)
                .without_time()
                .finish()
                .try_init()
        };
    }
}

/// Adds fields to the JSON records [`DurableJson`] writes, after the record's own fields and
/// those of the spans around it: `record` holds them all, under their JSON names
/// ([`json_field_name`]).
///
/// Implemented for closures `Fn(&mut serde_json::Map<String, serde_json::Value>)`.
/// It runs for every record, on the thread that logs: keep it quick, and never log from it.
pub trait Enrich: Send + Sync + 'static {
    /// Adds or changes fields of `record`.
    fn enrich(&self, record: &mut Map<String, Value>);
}

impl<F> Enrich for F
where
    F: Fn(&mut Map<String, Value>) + Send + Sync + 'static,
{
    fn enrich(&self, record: &mut Map<String, Value>) {
        self(record);
    }
}

/// A `tracing-subscriber` event format: one flat JSON object per record (see the
/// [module documentation](self)). Use it with [`JsonFields`] as the field formatter, so
/// that the fields of the spans around a record (the execution ARN of the SDK's own
/// records) are merged into it:
///
/// ```
/// use lambda_durable::logging::DurableJson;
/// use tracing_subscriber::fmt::format::JsonFields;
///
/// let subscriber = tracing_subscriber::fmt()
///     .fmt_fields(JsonFields::new())
///     .event_format(DurableJson::default())
///     .finish();
/// # drop(subscriber);
/// ```
#[derive(Clone, Default)]
pub struct DurableJson {
    enrichers: Vec<Arc<dyn Enrich>>,
}

impl fmt::Debug for DurableJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DurableJson")
            .field("enrichers", &self.enrichers.len())
            .finish()
    }
}

impl DurableJson {
    /// Runs `enrich` on every record before it is written (after the enrichers added
    /// before it).
    pub fn enrich(mut self, enrich: impl Enrich) -> Self {
        self.enrichers.push(Arc::new(enrich));
        self
    }
}

impl<S, N> FormatEvent<S, N> for DurableJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut record = Map::new();
        if let Ok(now) =
            time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339)
        {
            record.insert("timestamp".into(), Value::String(now));
        }
        record.insert("level".into(), Value::String(meta.level().to_string()));
        record.insert("target".into(), Value::String(meta.target().to_string()));
        let mut fields = Fields(Map::new());
        event.record(&mut fields);
        if let Some(message) = fields.0.remove("message") {
            record.insert("message".into(), message);
        }
        record.extend(fields.0);
        // The spans around the record, innermost first: their fields fill what the record
        // does not say itself (the SDK's records carry the ARN in their invocation span).
        if let Some(scope) = ctx.event_scope() {
            for span in scope {
                let extensions = span.extensions();
                let Some(formatted) = extensions.get::<FormattedFields<N>>() else {
                    continue;
                };
                let Ok(Value::Object(span_fields)) = serde_json::from_str::<Value>(formatted)
                else {
                    continue;
                };
                for (key, value) in span_fields {
                    record.entry(json_field_name(&key)).or_insert(value);
                }
            }
        }
        for enrich in &self.enrichers {
            enrich.enrich(&mut record);
        }
        let line = serde_json::to_string(&Value::Object(record)).map_err(|_| fmt::Error)?;
        writeln!(writer, "{line}")
    }
}

/// The fields of one record, under their JSON names.
struct Fields(Map<String, Value>);

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        self.0.insert(json_field_name(field.name()), value);
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_string()));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::String(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}

/// The name [`DurableJson`] writes a `tracing` field under: the names AWS's durable-function
/// tooling reads for the SDK's own fields (`durable.execution.arn` → `executionArn`,
/// `durable.operation.id` → `operationId`, `durable.operation.name` → `operationName`,
/// `durable.operation.parent_id` → `parentId`, `durable.attempt.number` → `attempt`), and
/// otherwise the name without a `durable.` prefix in camelCase (`request_id` →
/// `requestId`, `durable.invocation.first` → `invocationFirst`).
///
/// ```
/// use lambda_durable::logging::json_field_name;
///
/// assert_eq!(json_field_name("durable.execution.arn"), "executionArn");
/// assert_eq!(json_field_name("durable.attempt.number"), "attempt");
/// assert_eq!(json_field_name("order_id"), "orderId");
/// ```
pub fn json_field_name(name: &str) -> String {
    match name {
        "durable.execution.arn" => "executionArn".into(),
        "durable.operation.id" => "operationId".into(),
        "durable.operation.name" => "operationName".into(),
        "durable.operation.parent_id" => "parentId".into(),
        "durable.attempt.number" => "attempt".into(),
        other => camel_case(other.strip_prefix("durable.").unwrap_or(other)),
    }
}

/// `execution_arn` → `executionArn`, `invocation.first` → `invocationFirst`; `message` and
/// names without separators stay.
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' || c == '.' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{camel_case, json_field_name};

    #[test]
    fn field_names_become_camel_case() {
        assert_eq!(camel_case("execution_arn"), "executionArn");
        assert_eq!(camel_case("request_id"), "requestId");
        assert_eq!(camel_case("message"), "message");
        assert_eq!(camel_case("_leading"), "leading");
        assert_eq!(camel_case("a__b"), "aB");
        assert_eq!(camel_case("operationName"), "operationName");
        assert_eq!(camel_case("invocation.first"), "invocationFirst");
    }

    #[test]
    fn sdk_fields_get_the_names_aws_tooling_reads() {
        assert_eq!(json_field_name("durable.execution.arn"), "executionArn");
        assert_eq!(json_field_name("durable.operation.id"), "operationId");
        assert_eq!(json_field_name("durable.operation.name"), "operationName");
        assert_eq!(json_field_name("durable.operation.parent_id"), "parentId");
        assert_eq!(json_field_name("durable.attempt.number"), "attempt");
        assert_eq!(
            json_field_name("durable.operation.subtype"),
            "operationSubtype"
        );
        assert_eq!(
            json_field_name("durable.invocation.first"),
            "invocationFirst"
        );
        assert_eq!(json_field_name("request_id"), "requestId");
        assert_eq!(json_field_name("durable"), "durable");
    }
}
