//! Trace and span ids: the deterministic ids of an execution, the X-Ray trace header, and
//! the id generator that lets the plugins choose the ids of the spans they create.

use std::cell::Cell;
use std::time::SystemTime;

use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};
use sha2::{Digest, Sha256};

thread_local! {
    /// The ids the next span created on this thread takes, when a plugin chose them.
    static NEXT: Cell<(Option<TraceId>, Option<SpanId>)> = const { Cell::new((None, None)) };
}

/// The [`IdGenerator`] the plugins need in the tracer provider: random ids, except for the
/// spans the plugins create with deterministic ids (the `Workflow` span, the operation
/// spans of the execution view), whose ids it hands out once, on the thread that creates
/// them.
///
/// Providers that [`OtelConfig`](crate::OtelConfig) builds use it already; install it in a
/// provider of your own:
///
/// ```
/// use lambda_durable_otel::DurableIdGenerator;
/// use opentelemetry_sdk::trace::SdkTracerProvider;
///
/// let provider = SdkTracerProvider::builder()
///     .with_id_generator(DurableIdGenerator::default())
///     .build();
/// # drop(provider);
/// ```
///
/// Without it the spans still export, with random ids: then links to the `Workflow` span
/// and, in the execution view, the parents of operation spans point at ids no span has.
#[derive(Clone, Debug, Default)]
pub struct DurableIdGenerator {
    random: RandomIdGenerator,
}

impl IdGenerator for DurableIdGenerator {
    fn new_trace_id(&self) -> TraceId {
        let chosen = NEXT.with(|next| {
            let (trace, span) = next.get();
            next.set((None, span));
            trace
        });
        chosen.unwrap_or_else(|| self.random.new_trace_id())
    }

    fn new_span_id(&self) -> SpanId {
        let chosen = NEXT.with(|next| {
            let (trace, span) = next.get();
            next.set((trace, None));
            span
        });
        chosen.unwrap_or_else(|| self.random.new_span_id())
    }
}

/// Runs `create` (which creates one span) with `trace` and `span` as the ids the
/// [`DurableIdGenerator`] hands out next on this thread; what `create` does not take is
/// discarded afterwards. The trace id is only taken by a span without a parent.
pub(crate) fn with_next_ids<R>(
    trace: Option<TraceId>,
    span: Option<SpanId>,
    create: impl FnOnce() -> R,
) -> R {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            NEXT.with(|next| next.set((None, None)));
        }
    }
    NEXT.with(|next| next.set((trace, span)));
    let _reset = Reset;
    create()
}

/// The first 8 bytes of the SHA-256 of `text` as a span id (never the invalid id 0).
fn span_id_of(text: &str) -> SpanId {
    let digest = Sha256::digest(text.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    match u64::from_be_bytes(bytes) {
        0 => SpanId::from(1u64),
        id => SpanId::from(id),
    }
}

/// The span id of the `Workflow` span of the execution `arn`.
pub fn workflow_span_id(arn: &str) -> SpanId {
    span_id_of(&format!("workflow:{arn}"))
}

/// The span id of the execution-view span of operation `operation_id` of the execution
/// `arn`.
pub fn operation_span_id(arn: &str, operation_id: &str) -> SpanId {
    span_id_of(&format!("{arn}:{operation_id}"))
}

/// The trace id derived from the execution: 8 hex digits of its start time in seconds since
/// the epoch (the X-Ray rule that a trace id starts with a Unix time), then the first 24
/// hex digits of the SHA-256 of its ARN.
pub fn derived_trace_id(arn: &str, execution_start: SystemTime) -> TraceId {
    let seconds = execution_start
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|since| since.as_secs())
        .unwrap_or_default();
    let digest = Sha256::digest(arn.as_bytes());
    let mut bytes = [0u8; 16];
    // The low 32 bits of the time, as X-Ray keeps them.
    bytes[..4].copy_from_slice(&(seconds as u32).to_be_bytes());
    bytes[4..].copy_from_slice(&digest[..12]);
    TraceId::from_bytes(bytes)
}

/// An X-Ray trace header (`Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`),
/// as far as the plugins use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XrayHeader {
    /// The trace id: the `Root` without its `1-` version and the dash after the time.
    pub trace_id: TraceId,
    /// The `Parent` segment, if any.
    pub parent: Option<SpanId>,
    /// Whether `Sampled=1`.
    pub sampled: bool,
}

impl XrayHeader {
    /// Parses a header; `None` when it has no valid `Root`.
    ///
    /// ```
    /// use lambda_durable_otel::XrayHeader;
    ///
    /// let header = XrayHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1").unwrap();
    /// assert_eq!(header.trace_id.to_string(), "5759e988bd862e3fe1be46a994272793");
    /// assert!(header.sampled);
    /// assert!(XrayHeader::parse("Parent=53995c3f42cd8ad8").is_none());
    /// ```
    pub fn parse(header: &str) -> Option<Self> {
        let mut trace_id = None;
        let mut parent = None;
        let mut sampled = false;
        for part in header.split(';') {
            let Some((key, value)) = part.split_once('=') else {
                continue;
            };
            match key.trim() {
                "Root" => trace_id = parse_root(value.trim()),
                "Parent" => {
                    parent = parse_hex::<16>(value.trim())
                        .and_then(|hex| SpanId::from_hex(hex).ok())
                        .filter(|id| *id != SpanId::INVALID)
                }
                "Sampled" => sampled = value.trim() == "1",
                _ => {}
            }
        }
        Some(Self {
            trace_id: trace_id?,
            parent,
            sampled,
        })
    }

    /// The upstream span context to parent to: the `Parent` segment, when the header has
    /// one and says `Sampled=1` (an unsampled segment is recorded nowhere).
    pub(crate) fn sampled_parent(&self) -> Option<SpanContext> {
        let parent = self.parent.filter(|_| self.sampled)?;
        Some(SpanContext::new(
            self.trace_id,
            parent,
            TraceFlags::SAMPLED,
            true,
            TraceState::NONE,
        ))
    }
}

/// `1-<8 hex>-<24 hex>` as a trace id.
fn parse_root(root: &str) -> Option<TraceId> {
    let rest = root.strip_prefix("1-")?;
    let (time, random) = rest.split_once('-')?;
    let time = parse_hex::<8>(time)?;
    let random = parse_hex::<24>(random)?;
    TraceId::from_hex(&format!("{time}{random}"))
        .ok()
        .filter(|id| *id != TraceId::INVALID)
}

/// `text` if it is exactly `N` hex digits.
fn parse_hex<const N: usize>(text: &str) -> Option<&str> {
    (text.len() == N && text.bytes().all(|b| b.is_ascii_hexdigit())).then_some(text)
}

/// The trace of an execution's spans: from the invocation's X-Ray header, else from the
/// `_X_AMZN_TRACE_ID` environment variable, else derived from the execution.
pub(crate) fn execution_trace(
    arn: &str,
    header: Option<&str>,
    execution_start: SystemTime,
) -> (TraceId, Option<XrayHeader>) {
    let from_env = || std::env::var("_X_AMZN_TRACE_ID").ok();
    let header = header
        .and_then(XrayHeader::parse)
        .or_else(|| from_env().as_deref().and_then(XrayHeader::parse));
    match header {
        Some(header) => (header.trace_id, Some(header)),
        None => (derived_trace_id(arn, execution_start), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_header_gives_the_trace_and_the_sampled_parent() {
        let header =
            XrayHeader::parse(" Root=1-5759e988-bd862e3fe1be46a994272793 ;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a:0")
                .expect("valid");
        assert_eq!(
            header.trace_id,
            TraceId::from_hex("5759e988bd862e3fe1be46a994272793").expect("hex")
        );
        let parent = header.sampled_parent().expect("sampled parent");
        assert_eq!(parent.span_id().to_string(), "53995c3f42cd8ad8");
        assert!(parent.is_remote() && parent.is_sampled());
        let unsampled = XrayHeader::parse(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0",
        )
        .expect("valid");
        assert!(unsampled.sampled_parent().is_none());
        for bad in [
            "Root=2-5759e988-bd862e3fe1be46a994272793",
            "Root=1-5759e98-bd862e3fe1be46a994272793",
            "Root=1-5759e988-bd862e3fe1be46a99427279x",
            "Root=1-00000000-000000000000000000000000",
            "Sampled=1",
            "",
        ] {
            assert_eq!(XrayHeader::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_invocation_header_comes_before_the_environment_and_the_derived_id() {
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/e/1";
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        // (No other test of this binary reads the variable.)
        std::env::set_var(
            "_X_AMZN_TRACE_ID",
            "Root=1-6955b900-000000000000000000000001;Sampled=1",
        );
        let from_header = execution_trace(
            arn,
            Some("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
            start,
        );
        assert_eq!(
            from_header.0.to_string(),
            "5759e988bd862e3fe1be46a994272793"
        );
        let from_env = execution_trace(arn, Some("Sampled=1"), start);
        assert_eq!(from_env.0.to_string(), "6955b900000000000000000000000001");
        std::env::remove_var("_X_AMZN_TRACE_ID");
        let derived = execution_trace(arn, None, start);
        assert_eq!(derived, (derived_trace_id(arn, start), None));
    }

    #[test]
    fn derived_ids_are_stable_and_start_with_the_time() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(0x6954_1234);
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/e/1";
        let trace = derived_trace_id(arn, start);
        assert_eq!(trace, derived_trace_id(arn, start));
        assert!(trace.to_string().starts_with("69541234"));
        assert_ne!(trace, derived_trace_id("other", start));
        assert_eq!(workflow_span_id(arn), workflow_span_id(arn));
        assert_ne!(workflow_span_id(arn), operation_span_id(arn, "1"));
        assert_ne!(operation_span_id(arn, "1"), operation_span_id(arn, "2"));
        assert_ne!(operation_span_id(arn, "1"), SpanId::INVALID);
    }

    #[test]
    fn the_generator_hands_out_chosen_ids_once() {
        let generator = DurableIdGenerator::default();
        let trace = TraceId::from(7u128);
        let span = SpanId::from(9u64);
        let (first_trace, first_span, second_span) = with_next_ids(Some(trace), Some(span), || {
            (
                generator.new_trace_id(),
                generator.new_span_id(),
                generator.new_span_id(),
            )
        });
        assert_eq!((first_trace, first_span), (trace, span));
        assert_ne!(second_span, span);
        // Nothing is left for the next span.
        with_next_ids(Some(trace), None, || ());
        assert_ne!(generator.new_trace_id(), trace);
    }
}
