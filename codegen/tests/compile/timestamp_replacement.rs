//! Compiles the `timestamp_replacement` snapshot under `#![deny(warnings)]` and exercises
//! it. The snapshot refers to `crate::wire::Timestamp`, provided here by a shim.
#![deny(warnings)]

mod wire {
    /// Stands in for the SDK's handwritten timestamp.
    pub type Timestamp = serde_json::Value;
}

mod generated {
    include!("../snapshots/wire/timestamp_replacement.rs");
}

use generated::Span;

fn main() {
    let json = serde_json::json!({"Start": 1767225600.5, "End": "2026-01-01T00:00:01Z"});
    let span: Span = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(span.start, serde_json::json!(1767225600.5));
    let end: Option<wire::Timestamp> = span.end.clone();
    assert_eq!(end, Some(serde_json::json!("2026-01-01T00:00:01Z")));
    assert_eq!(serde_json::to_value(&span).unwrap(), json);
}
