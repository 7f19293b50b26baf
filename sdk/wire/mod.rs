//! The protocol's wire types, generated at build time from the JSON Schemas in
//! `schema/wire/`.
//!
//! Every struct and enum here mirrors one schema file; field names on the wire are the
//! service's (PascalCase). Unknown fields are ignored, so newer service versions that add
//! fields still parse; an enumeration value the schema does not list parses into the
//! enumeration's `Unknown` variant (an [`UnknownValue`]) instead of failing the document.
//!
//! Every type is `#[non_exhaustive]`, so that a new optional field or enumeration value is
//! not a breaking change: outside this crate, build a struct with `new` (its required
//! fields) or `Default` (when it has none) and set the optional fields afterwards, and
//! match enumerations with a wildcard arm.
//!
//! ```
//! use lambda_durable::wire::{ErrorObject, Operation, OperationId, OperationStatus, OperationType};
//!
//! let mut op = Operation::new(
//!     OperationId::try_from("step-1").unwrap(),
//!     OperationStatus::Succeeded,
//!     OperationType::Step,
//! );
//! op.name = Some("charge".try_into().unwrap());
//! let mut error = ErrorObject::default();
//! error.error_type = Some("Declined".to_string());
//! assert_eq!(op.status, OperationStatus::Succeeded);
//! ```

mod operation_id;
mod timestamp;
mod unknown;

#[allow(
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    rust_2018_idioms,
    unused_qualifications
)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/wire.rs"));
}

pub use generated::*;
pub use operation_id::OperationId;
pub use timestamp::Timestamp;
pub use unknown::UnknownValue;

macro_rules! display_as_str {
    ($($ty:ident),*) => {$(
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $ty {
            /// The value as a string slice.
            pub fn as_str(&self) -> &str {
                std::ops::Deref::deref(self).as_str()
            }
        }
    )*};
}

display_as_str!(
    OperationName,
    OperationSubType,
    CheckpointToken,
    ClientToken,
    CallbackId,
    DurableExecutionArn,
    DurableExecutionName
);

/// Whether a checkpointed `map` or `parallel` result is the summary this SDK records in
/// place of a batch result too large to store (`{"completionReason", "totalCount",
/// "branches"}`), rather than the result itself. A context with such a summary is rebuilt
/// on replay by running its branches again over their recorded operations; tools that read
/// an execution's history (where the `ReplayChildren` flag is not shown) use this to tell
/// the two apart.
///
/// ```
/// use lambda_durable::wire::is_batch_summary;
///
/// assert!(is_batch_summary(r#"{"completionReason":"ALL_COMPLETED","totalCount":2,"branches":"SS"}"#));
/// assert!(!is_batch_summary(r#"{"all":[1,2]}"#));
/// ```
pub fn is_batch_summary(payload: &str) -> bool {
    crate::replay::batch::is_summary(payload)
}

/// A wire document that does not match its schema. The message names the JSON path of the
/// offending value and what is wrong with it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{what}: {path}: {message}")]
pub struct WireError {
    what: &'static str,
    path: String,
    message: String,
}

impl WireError {
    /// The JSON path of the offending value, e.g. `InitialExecutionState.Operations[2].Status`
    /// (`.` for the document itself).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong with the value at [`path`](Self::path).
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Parses a wire document, naming the path of the first value that does not match.
///
/// ```
/// use lambda_durable::wire::{self, Operation};
///
/// let err = wire::from_json::<Operation>(r#"{"Id":"a1","Type":"STEP","Status":7}"#)
///     .unwrap_err();
/// assert_eq!(err.path(), "Status");
/// assert!(err.to_string().contains("7"));
///
/// // A value the schema does not list is not an error: it is kept.
/// let op = wire::from_json::<Operation>(r#"{"Id":"a1","Type":"STEP","Status":"PAUSED"}"#)
///     .unwrap();
/// assert_eq!(op.status.as_str(), "PAUSED");
/// ```
///
/// # Errors
///
/// [`WireError`] when the text is not JSON or does not match the type's schema.
pub fn from_json<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, WireError> {
    let deserializer = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(deserializer).map_err(|err| WireError {
        what: short_type_name::<T>(),
        path: err.path().to_string(),
        message: err.inner().to_string(),
    })
}

/// Like [`from_json`], for an already parsed JSON value.
///
/// # Errors
///
/// [`WireError`] when the value does not match the type's schema.
pub fn from_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, WireError> {
    serde_path_to_error::deserialize(value).map_err(|err| WireError {
        what: short_type_name::<T>(),
        path: err.path().to_string(),
        message: err.inner().to_string(),
    })
}

fn short_type_name<T>() -> &'static str {
    let name = std::any::type_name::<T>();
    let base = name.split('<').next().unwrap_or(name);
    base.rsplit("::").next().unwrap_or(base)
}
