//! How operation results are turned into the strings that are checkpointed.
//!
//! Every durable operation stores its result as a string. The default, [`JsonSerdes`],
//! writes JSON with `serde_json`; a step can use another format with
//! [`Step::serdes`](crate::Step::serdes).

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A failed serialization or deserialization.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SerdesError {
    message: String,
}

impl SerdesError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// Converts values of type `T` to and from checkpointed strings.
///
/// Implementations must round-trip: `deserialize(serialize(v))` gives a value equal to `v`,
/// because a replay returns the deserialized copy of what the first run stored.
pub trait Serdes<T>: Send + Sync {
    /// Serializes a value.
    ///
    /// # Errors
    ///
    /// A [`SerdesError`] when the value cannot be represented.
    fn serialize(&self, value: &T) -> Result<String, SerdesError>;

    /// Deserializes a stored value. A missing stored value is passed as `"null"`.
    ///
    /// # Errors
    ///
    /// A [`SerdesError`] when the text is not a valid `T`.
    fn deserialize(&self, data: &str) -> Result<T, SerdesError>;
}

/// The default serializer: JSON through `serde_json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonSerdes;

impl<T: Serialize + DeserializeOwned> Serdes<T> for JsonSerdes {
    fn serialize(&self, value: &T) -> Result<String, SerdesError> {
        serde_json::to_string(value).map_err(|err| SerdesError::new(err.to_string()))
    }

    fn deserialize(&self, data: &str) -> Result<T, SerdesError> {
        serde_json::from_str(data).map_err(|err| SerdesError::new(err.to_string()))
    }
}
