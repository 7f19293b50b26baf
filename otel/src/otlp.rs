//! [`OtlpJsonExporter`]: spans as OTLP JSON, posted to a collector over plain HTTP or
//! written to a file, with no HTTP stack beyond the standard library.

use std::fmt;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry::{Array, InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use serde_json::{json, Map, Value as Json};

/// Where [`OtlpJsonExporter::from_env`] posts when the environment names no endpoint: the
/// OTLP/HTTP receiver of a collector on the same host (the collector extension of a
/// Lambda layer).
pub const DEFAULT_ENDPOINT: &str = "http://localhost:4318/v1/traces";

/// How long one export may take, unless `OTEL_EXPORTER_OTLP_TIMEOUT` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A [`SpanExporter`] that encodes each batch as one OTLP `ExportTraceServiceRequest` in
/// the protocol's JSON encoding (hex trace and span ids, integer enums, 64-bit integers
/// and nanosecond times as strings), and either posts it to an OTLP/HTTP receiver
/// (`Content-Type: application/json`) or appends it as one line to a file or writer (the
/// format of the collector's file exporter).
///
/// The HTTP client speaks plain HTTP/1.1 only, which is what a collector on the same host
/// offers (the collector extension of a Lambda layer listens on `localhost:4318`). For TLS,
/// gRPC or protobuf, use the `opentelemetry-otlp` crate's exporter with
/// [`OtelConfigBuilder::exporter`](crate::OtelConfigBuilder::exporter).
///
/// ```
/// use lambda_durable_otel::{OtelConfig, OtlpJsonExporter};
///
/// let to_collector = OtlpJsonExporter::http("http://127.0.0.1:4318/v1/traces")?;
/// let to_file = OtlpJsonExporter::file(std::env::temp_dir().join("traces.json"))?;
/// let config = OtelConfig::builder().exporter(to_file).build()?;
/// # drop((to_collector, config));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct OtlpJsonExporter {
    sink: Mutex<Sink>,
    resource: Resource,
}

enum Sink {
    Http(HttpTarget),
    Writer(Box<dyn Write + Send>),
}

struct HttpTarget {
    host: String,
    port: u16,
    path: String,
    headers: Vec<(String, String)>,
    timeout: Duration,
}

impl fmt::Debug for OtlpJsonExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        let target = match &*sink {
            Sink::Http(target) => format!("http://{}:{}{}", target.host, target.port, target.path),
            Sink::Writer(_) => "writer".to_string(),
        };
        f.debug_struct("OtlpJsonExporter")
            .field("target", &target)
            .finish_non_exhaustive()
    }
}

/// Why an [`OtlpJsonExporter`] could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtlpError {
    /// The endpoint is not a plain `http://host[:port][/path]` URL.
    #[error("unsupported OTLP endpoint {endpoint:?}: {reason}")]
    Endpoint {
        /// The endpoint.
        endpoint: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The file could not be opened.
    #[error("cannot open the trace file: {0}")]
    File(#[from] std::io::Error),
}

impl OtlpJsonExporter {
    /// Posts to `endpoint`, a full `http://host[:port]/path` URL (the path of an OTLP/HTTP
    /// receiver is `/v1/traces`; without a path, `/v1/traces` is used).
    ///
    /// # Errors
    ///
    /// [`OtlpError::Endpoint`] for anything but a plain `http://` URL.
    pub fn http(endpoint: &str) -> Result<Self, OtlpError> {
        Ok(Self::with_sink(Sink::Http(HttpTarget::parse(endpoint)?)))
    }

    /// Posts where the OTLP environment variables say: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
    /// (as is), else `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/traces` appended, else
    /// [`DEFAULT_ENDPOINT`]; with the headers of `OTEL_EXPORTER_OTLP_TRACES_HEADERS` or
    /// `OTEL_EXPORTER_OTLP_HEADERS` (`key=value` pairs separated by commas, values
    /// percent-decoded) and the timeout of `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` or
    /// `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds).
    ///
    /// # Errors
    ///
    /// [`OtlpError::Endpoint`] when the endpoint is not a plain `http://` URL.
    pub fn from_env() -> Result<Self, OtlpError> {
        let env = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.trim().is_empty())
        };
        let endpoint = match (
            env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            env("OTEL_EXPORTER_OTLP_ENDPOINT"),
        ) {
            (Some(endpoint), _) => endpoint,
            (None, Some(base)) => format!("{}/v1/traces", base.trim_end_matches('/')),
            (None, None) => DEFAULT_ENDPOINT.to_string(),
        };
        let mut target = HttpTarget::parse(&endpoint)?;
        if let Some(headers) =
            env("OTEL_EXPORTER_OTLP_TRACES_HEADERS").or_else(|| env("OTEL_EXPORTER_OTLP_HEADERS"))
        {
            target.headers = parse_headers(&headers);
        }
        if let Some(millis) = env("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")
            .or_else(|| env("OTEL_EXPORTER_OTLP_TIMEOUT"))
            .and_then(|millis| millis.trim().parse::<u64>().ok())
        {
            target.timeout = Duration::from_millis(millis.max(1));
        }
        Ok(Self::with_sink(Sink::Http(target)))
    }

    /// Appends one line per batch to the file at `path` (created if needed).
    ///
    /// # Errors
    ///
    /// [`OtlpError::File`] when the file cannot be opened for appending.
    pub fn file(path: impl AsRef<Path>) -> Result<Self, OtlpError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Self::writer(file))
    }

    /// Writes one line per batch to `out` (flushed after each).
    pub fn writer(out: impl Write + Send + 'static) -> Self {
        Self::with_sink(Sink::Writer(Box::new(out)))
    }

    /// Adds a header to every request (HTTP only).
    pub fn with_header(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let mut sink = self.sink.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Sink::Http(target) = &mut sink {
            target.headers.push((name.into(), value.into()));
        }
        Self {
            sink: Mutex::new(sink),
            resource: self.resource,
        }
    }

    /// The time one export may take (HTTP only; [`DEFAULT_TIMEOUT`] by default).
    pub fn with_timeout(self, timeout: Duration) -> Self {
        let mut sink = self.sink.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Sink::Http(target) = &mut sink {
            target.timeout = timeout.max(Duration::from_millis(1));
        }
        Self {
            sink: Mutex::new(sink),
            resource: self.resource,
        }
    }

    fn with_sink(sink: Sink) -> Self {
        Self {
            sink: Mutex::new(sink),
            resource: Resource::builder_empty().build(),
        }
    }

    fn send(&self, batch: &[SpanData]) -> Result<(), String> {
        if batch.is_empty() {
            return Ok(());
        }
        let body = encode(&self.resource, batch).to_string();
        let mut sink = self.sink.lock().unwrap_or_else(|p| p.into_inner());
        match &mut *sink {
            Sink::Writer(out) => {
                let mut line = body.into_bytes();
                line.push(b'\n');
                out.write_all(&line)
                    .and_then(|()| out.flush())
                    .map_err(|err| format!("cannot write the spans: {err}"))
            }
            Sink::Http(target) => target.post(body.as_bytes()),
        }
    }
}

impl SpanExporter for OtlpJsonExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let result = self.send(&batch).map_err(OTelSdkError::InternalFailure);
        std::future::ready(result)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.clone();
    }
}

impl HttpTarget {
    fn parse(endpoint: &str) -> Result<Self, OtlpError> {
        let fail = |reason| OtlpError::Endpoint {
            endpoint: endpoint.to_string(),
            reason,
        };
        let rest = endpoint
            .trim()
            .strip_prefix("http://")
            .ok_or_else(|| fail("only plain http:// endpoints are supported"))?;
        let (authority, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(fail("no host, or credentials in the URL"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => {
                let port = port.parse::<u16>().map_err(|_| fail("invalid port"))?;
                (host, port)
            }
            _ => (authority, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let path = if path.is_empty() || path == "/" {
            "/v1/traces"
        } else {
            path
        };
        Ok(Self {
            host: host.to_string(),
            port,
            path: path.to_string(),
            headers: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// One POST, on a connection of its own.
    fn post(&self, body: &[u8]) -> Result<(), String> {
        let addresses = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|err| format!("cannot resolve {}: {err}", self.host))?;
        let mut last = format!("no address for {}", self.host);
        let mut stream = None;
        for address in addresses {
            match TcpStream::connect_timeout(&address, self.timeout) {
                Ok(connected) => {
                    stream = Some(connected);
                    break;
                }
                Err(err) => last = format!("cannot connect to {address}: {err}"),
            }
        }
        let mut stream = stream.ok_or(last)?;
        let io = |err: std::io::Error| {
            format!("OTLP export to {}:{} failed: {err}", self.host, self.port)
        };
        stream.set_read_timeout(Some(self.timeout)).map_err(io)?;
        stream.set_write_timeout(Some(self.timeout)).map_err(io)?;
        let host = if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        };
        let mut head = format!(
            "POST {} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.path,
            body.len()
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).map_err(io)?;
        stream.write_all(body).map_err(io)?;
        stream.flush().map_err(io)?;
        let mut response = Vec::new();
        stream
            .take(64 * 1024)
            .read_to_end(&mut response)
            .map_err(io)?;
        let text = String::from_utf8_lossy(&response);
        let status = text
            .lines()
            .next()
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|code| code.parse::<u16>().ok())
            .ok_or_else(|| format!("no HTTP response from {host}"))?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
            Err(format!(
                "the OTLP receiver at {host} answered {status}: {}",
                body.chars().take(200).collect::<String>()
            ))
        }
    }
}

/// `key=value,key2=value2`, values percent-decoded.
fn parse_headers(text: &str) -> Vec<(String, String)> {
    text.split(',')
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            let name = name.trim();
            (!name.is_empty()).then(|| (name.to_string(), percent_decode(value.trim())))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let decoded = (bytes[index] == b'%')
            .then(|| text.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(byte) => {
                out.push(byte);
                index += 3;
            }
            None => {
                out.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `spans` as one OTLP JSON `ExportTraceServiceRequest` with `resource`, the spans grouped
/// by instrumentation scope.
///
/// ```
/// use lambda_durable_otel::otlp_json;
/// use opentelemetry_sdk::Resource;
///
/// let request = otlp_json(&Resource::builder_empty().build(), &[]);
/// assert_eq!(request["resourceSpans"][0]["scopeSpans"].as_array().map(Vec::len), Some(0));
/// ```
pub fn otlp_json(resource: &Resource, spans: &[SpanData]) -> Json {
    encode(resource, spans)
}

fn encode(resource: &Resource, spans: &[SpanData]) -> Json {
    let mut scopes: Vec<(&InstrumentationScope, Vec<Json>)> = Vec::new();
    for span in spans {
        let encoded = encode_span(span);
        match scopes
            .iter_mut()
            .find(|(scope, _)| *scope == &span.instrumentation_scope)
        {
            Some((_, spans)) => spans.push(encoded),
            None => scopes.push((&span.instrumentation_scope, vec![encoded])),
        }
    }
    let scope_spans: Vec<Json> = scopes
        .into_iter()
        .map(|(scope, spans)| {
            let mut encoded = Map::new();
            encoded.insert("name".into(), json!(scope.name()));
            if let Some(version) = scope.version() {
                encoded.insert("version".into(), json!(version));
            }
            let attributes: Vec<Json> = scope.attributes().map(encode_key_value).collect();
            if !attributes.is_empty() {
                encoded.insert("attributes".into(), Json::Array(attributes));
            }
            let mut group = Map::new();
            group.insert("scope".into(), Json::Object(encoded));
            group.insert("spans".into(), Json::Array(spans));
            if let Some(url) = scope.schema_url() {
                group.insert("schemaUrl".into(), json!(url));
            }
            Json::Object(group)
        })
        .collect();
    let resource_attributes: Vec<Json> = resource
        .iter()
        .map(|(key, value)| json!({ "key": key.as_str(), "value": encode_value(value) }))
        .collect();
    let mut resource_spans = Map::new();
    resource_spans.insert(
        "resource".into(),
        json!({ "attributes": resource_attributes }),
    );
    resource_spans.insert("scopeSpans".into(), Json::Array(scope_spans));
    if let Some(url) = resource.schema_url() {
        resource_spans.insert("schemaUrl".into(), json!(url));
    }
    json!({ "resourceSpans": [Json::Object(resource_spans)] })
}

fn encode_span(span: &SpanData) -> Json {
    let context = &span.span_context;
    let mut out = Map::new();
    out.insert("traceId".into(), json!(context.trace_id().to_string()));
    out.insert("spanId".into(), json!(context.span_id().to_string()));
    let state = context.trace_state().header();
    if !state.is_empty() {
        out.insert("traceState".into(), json!(state));
    }
    if span.parent_span_id != SpanId::INVALID {
        out.insert(
            "parentSpanId".into(),
            json!(span.parent_span_id.to_string()),
        );
    }
    out.insert("name".into(), json!(span.name));
    out.insert("kind".into(), json!(kind_code(&span.span_kind)));
    out.insert("startTimeUnixNano".into(), json!(nanos(span.start_time)));
    out.insert("endTimeUnixNano".into(), json!(nanos(span.end_time)));
    out.insert(
        "attributes".into(),
        Json::Array(span.attributes.iter().map(encode_key_value).collect()),
    );
    if span.dropped_attributes_count > 0 {
        out.insert(
            "droppedAttributesCount".into(),
            json!(span.dropped_attributes_count),
        );
    }
    if !span.events.events.is_empty() {
        let events: Vec<Json> = span
            .events
            .events
            .iter()
            .map(|event| {
                json!({
                    "timeUnixNano": nanos(event.timestamp),
                    "name": event.name,
                    "attributes": event.attributes.iter().map(encode_key_value).collect::<Vec<_>>(),
                })
            })
            .collect();
        out.insert("events".into(), Json::Array(events));
    }
    if !span.links.links.is_empty() {
        let links: Vec<Json> = span
            .links
            .links
            .iter()
            .map(|link| {
                json!({
                    "traceId": link.span_context.trace_id().to_string(),
                    "spanId": link.span_context.span_id().to_string(),
                    "attributes": link.attributes.iter().map(encode_key_value).collect::<Vec<_>>(),
                })
            })
            .collect();
        out.insert("links".into(), Json::Array(links));
    }
    let status = match &span.status {
        Status::Unset => json!({}),
        Status::Ok => json!({ "code": 1 }),
        Status::Error { description } => json!({ "code": 2, "message": description }),
    };
    out.insert("status".into(), status);
    Json::Object(out)
}

fn kind_code(kind: &SpanKind) -> u8 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

/// Nanoseconds since the epoch, as a string (a 64-bit integer in OTLP JSON).
fn nanos(time: SystemTime) -> String {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|since| since.as_nanos())
        .unwrap_or_default()
        .to_string()
}

fn encode_key_value(kv: &KeyValue) -> Json {
    json!({ "key": kv.key.as_str(), "value": encode_value(&kv.value) })
}

fn encode_value(value: &Value) -> Json {
    match value {
        Value::Bool(value) => json!({ "boolValue": value }),
        Value::I64(value) => json!({ "intValue": value.to_string() }),
        Value::F64(value) => json!({ "doubleValue": value }),
        Value::String(value) => json!({ "stringValue": value.as_str() }),
        Value::Array(array) => {
            let values: Vec<Json> = match array {
                Array::Bool(values) => values.iter().map(|v| json!({ "boolValue": v })).collect(),
                Array::I64(values) => values
                    .iter()
                    .map(|v| json!({ "intValue": v.to_string() }))
                    .collect(),
                Array::F64(values) => values.iter().map(|v| json!({ "doubleValue": v })).collect(),
                Array::String(values) => values
                    .iter()
                    .map(|v| json!({ "stringValue": v.as_str() }))
                    .collect(),
                _ => Vec::new(),
            };
            json!({ "arrayValue": { "values": values } })
        }
        other => json!({ "stringValue": other.to_string() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let target = HttpTarget::parse("http://localhost:4318/v1/traces").expect("valid");
        assert_eq!(
            (target.host.as_str(), target.port, target.path.as_str()),
            ("localhost", 4318, "/v1/traces")
        );
        let target = HttpTarget::parse("http://collector").expect("valid");
        assert_eq!(
            (target.host.as_str(), target.port, target.path.as_str()),
            ("collector", 80, "/v1/traces")
        );
        let target = HttpTarget::parse("http://[::1]:4318/custom").expect("valid");
        assert_eq!(
            (target.host.as_str(), target.port, target.path.as_str()),
            ("::1", 4318, "/custom")
        );
        for bad in [
            "https://collector:4318",
            "collector:4318",
            "http://",
            "http://u:p@host",
            "http://host:port",
        ] {
            assert!(HttpTarget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn headers_are_pairs_with_decoded_values() {
        assert_eq!(
            parse_headers("api-key=a%20b, x = 1,broken,=skip"),
            vec![
                ("api-key".to_string(), "a b".to_string()),
                ("x".to_string(), "1".to_string())
            ]
        );
        assert_eq!(percent_decode("100%"), "100%");
    }
}
