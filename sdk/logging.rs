//! Log output that CloudWatch and AWS's durable-function tooling can search: one JSON
//! object per record with the message and the execution ARN at the top level.
//!
//! The SDK and [`Logger`](crate::Logger) write through [`tracing`]. [`init_subscriber`]
//! installs a subscriber like `lambda_runtime::tracing::init_default_subscriber` (level from
//! `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO; JSON when the function's log format
//! is JSON, `AWS_LAMBDA_LOG_FORMAT=JSON`, else text), whose JSON records are
//! [`DurableJson`]: flat, with `timestamp`, `level`, `target`, `message`, then every field
//! of the record and of the spans around it in camelCase (`executionArn`, `requestId`,
//! `operationId`, `operationName`, `attempt`, ...). The nested form of the default JSON
//! format (`{"fields": {"execution_arn": ...}}`) is not found by tools that filter on
//! `$.executionArn` and `$.message`.
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

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

/// Installs the SDK's default subscriber, writing to standard output (see the
/// [module documentation](self)). Does nothing if a global subscriber is already set.
pub fn init_subscriber() {
    init_subscriber_with_writer(std::io::stdout);
}

/// [`init_subscriber`] with another writer (a non-blocking one, or a buffer in a test).
pub fn init_subscriber_with_writer<W>(writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::filter::{EnvFilter, LevelFilter};
    use tracing_subscriber::util::SubscriberInitExt;

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
            .event_format(DurableJson::default())
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
#[derive(Debug, Clone, Default)]
pub struct DurableJson {
    _private: (),
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
                    record.entry(camel_case(&key)).or_insert(value);
                }
            }
        }
        let line = serde_json::to_string(&Value::Object(record)).map_err(|_| fmt::Error)?;
        writeln!(writer, "{line}")
    }
}

/// The fields of one record, camelCased.
struct Fields(Map<String, Value>);

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        self.0.insert(camel_case(field.name()), value);
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

/// `execution_arn` → `executionArn`; `message` and names without underscores stay.
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
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
    use super::camel_case;

    #[test]
    fn field_names_become_camel_case() {
        assert_eq!(camel_case("execution_arn"), "executionArn");
        assert_eq!(camel_case("request_id"), "requestId");
        assert_eq!(camel_case("message"), "message");
        assert_eq!(camel_case("_leading"), "leading");
        assert_eq!(camel_case("a__b"), "aB");
        assert_eq!(camel_case("operationName"), "operationName");
    }
}
