//! How operation results are turned into the strings that are checkpointed.
//!
//! Every durable operation stores its result as a string. The default, [`JsonSerdes`],
//! writes JSON with `serde_json`; a step can use another format with
//! [`Step::serdes`](crate::Step::serdes). Values that come from outside (callback results)
//! only need [`Decode`]; [`RawString`] passes them through unchanged.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A failed serialization or deserialization.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SerdesError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl SerdesError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// An error caused by `source` (the serializer's own error), with its message: the
    /// cause stays reachable through [`std::error::Error::source`].
    ///
    /// ```
    /// use lambda_durable::serdes::SerdesError;
    ///
    /// let cause = serde_json::from_str::<u32>("\"x\"").unwrap_err();
    /// let err = SerdesError::caused_by(cause);
    /// assert!(err.to_string().contains("expected u32"));
    /// assert!(std::error::Error::source(&err).is_some());
    /// ```
    pub fn caused_by(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            message: source.to_string(),
            source: Some(Box::new(source)),
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
        serde_json::to_string(value).map_err(SerdesError::caused_by)
    }

    fn deserialize(&self, data: &str) -> Result<T, SerdesError> {
        serde_json::from_str(data).map_err(SerdesError::caused_by)
    }
}

impl<T, S: Serdes<T> + ?Sized> Serdes<T> for std::sync::Arc<S> {
    fn serialize(&self, value: &T) -> Result<String, SerdesError> {
        (**self).serialize(value)
    }

    fn deserialize(&self, data: &str) -> Result<T, SerdesError> {
        (**self).deserialize(data)
    }
}

/// A serialization format for values of every type: the runtime's default for the
/// operations whose serdes is not set (see
/// [`RuntimeBuilder::default_serdes`](crate::RuntimeBuilder::default_serdes)).
///
/// A value goes through [`serde_json::Value`] on its way: `encode` gets it as a JSON
/// value and writes the text to checkpoint; `decode` reads checkpointed text back into a
/// JSON value. So any serde format can be the default (its data model is then JSON's:
/// maps with string keys, no raw bytes), and so can a transformation of JSON, such as
/// compression or encryption of every checkpointed value. `decode(encode(v))` must give
/// `v` back.
///
/// ```
/// use lambda_durable::serdes::{SerdesError, ValueSerdes};
///
/// /// JSON behind a version tag, so that a later format can tell old records apart.
/// struct TaggedJson;
///
/// impl ValueSerdes for TaggedJson {
///     fn encode(&self, value: serde_json::Value) -> Result<String, SerdesError> {
///         Ok(format!("v1:{value}"))
///     }
///
///     fn decode(&self, data: &str) -> Result<serde_json::Value, SerdesError> {
///         let json = data
///             .strip_prefix("v1:")
///             .ok_or_else(|| SerdesError::new("not a v1 record"))?;
///         serde_json::from_str(json).map_err(SerdesError::caused_by)
///     }
/// }
/// ```
pub trait ValueSerdes: Send + Sync + 'static {
    /// The text to checkpoint for `value`.
    ///
    /// # Errors
    ///
    /// A [`SerdesError`] when the value cannot be written.
    fn encode(&self, value: serde_json::Value) -> Result<String, SerdesError>;

    /// The value that `data`, written by [`encode`](Self::encode), holds.
    ///
    /// # Errors
    ///
    /// A [`SerdesError`] when the text cannot be read.
    fn decode(&self, data: &str) -> Result<serde_json::Value, SerdesError>;
}

/// A shared serdes is a serdes: one instance can serve several runtimes or runners.
impl<S: ValueSerdes + ?Sized> ValueSerdes for std::sync::Arc<S> {
    fn encode(&self, value: serde_json::Value) -> Result<String, SerdesError> {
        (**self).encode(value)
    }

    fn decode(&self, data: &str) -> Result<serde_json::Value, SerdesError> {
        (**self).decode(data)
    }
}

/// The serdes of an operation whose serdes is not set: the runtime's
/// [`ValueSerdes`] if it has one, else JSON (exactly as [`JsonSerdes`]).
#[derive(Clone, Default)]
pub struct DefaultSerdes {
    custom: Option<std::sync::Arc<dyn ValueSerdes>>,
}

impl DefaultSerdes {
    pub(crate) fn new(custom: Option<std::sync::Arc<dyn ValueSerdes>>) -> Self {
        Self { custom }
    }
}

impl std::fmt::Debug for DefaultSerdes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.custom.is_some() {
            "DefaultSerdes(custom)"
        } else {
            "DefaultSerdes(json)"
        })
    }
}

impl<T: Serialize + DeserializeOwned> Serdes<T> for DefaultSerdes {
    fn serialize(&self, value: &T) -> Result<String, SerdesError> {
        match &self.custom {
            None => serde_json::to_string(value).map_err(SerdesError::caused_by),
            Some(custom) => {
                custom.encode(serde_json::to_value(value).map_err(SerdesError::caused_by)?)
            }
        }
    }

    fn deserialize(&self, data: &str) -> Result<T, SerdesError> {
        match &self.custom {
            None => serde_json::from_str(data).map_err(SerdesError::caused_by),
            Some(custom) => {
                serde_json::from_value(custom.decode(data)?).map_err(SerdesError::caused_by)
            }
        }
    }
}

/// Reads values that come from outside the SDK, such as the result an external system sends
/// to a callback. Unlike [`Serdes`] it only needs to deserialize.
pub trait Decode<T>: Send + Sync {
    /// Deserializes a value. A missing value is passed as `"null"`.
    ///
    /// # Errors
    ///
    /// A [`SerdesError`] when the text is not a valid `T`.
    fn decode(&self, data: &str) -> Result<T, SerdesError>;
}

impl<T: DeserializeOwned> Decode<T> for JsonSerdes {
    fn decode(&self, data: &str) -> Result<T, SerdesError> {
        serde_json::from_str(data).map_err(SerdesError::caused_by)
    }
}

/// Passes strings through unchanged: a callback result is returned exactly as the external
/// system sent it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawString;

impl Serdes<String> for RawString {
    fn serialize(&self, value: &String) -> Result<String, SerdesError> {
        Ok(value.clone())
    }

    fn deserialize(&self, data: &str) -> Result<String, SerdesError> {
        Ok(data.to_string())
    }
}

impl Decode<String> for RawString {
    fn decode(&self, data: &str) -> Result<String, SerdesError> {
        Ok(data.to_string())
    }
}

/// A value sent to another function (an [`invoke`](crate::DurableContext::invoke)'s
/// payload), written once when the operation starts. Every `Serialize` type is one (as
/// JSON); [`WithSerdes`] sends a value in another format.
pub trait Encode {
    /// The text to send.
    ///
    /// # Errors
    ///
    /// A [`SerdesError`] when the value cannot be represented.
    fn encode(&self) -> Result<String, SerdesError>;
}

impl<T: Serialize + ?Sized> Encode for T {
    fn encode(&self) -> Result<String, SerdesError> {
        serde_json::to_string(self).map_err(SerdesError::caused_by)
    }
}

/// A value with the [`Serdes`] that writes it: the payload of an invoke whose target
/// expects another format than JSON.
///
/// ```
/// use lambda_durable::serdes::{Encode, RawString, WithSerdes};
///
/// let payload = WithSerdes::new("plain text".to_string(), RawString);
/// assert_eq!(payload.encode().unwrap(), "plain text");
/// ```
#[derive(Debug, Clone)]
pub struct WithSerdes<T, S> {
    value: T,
    serdes: S,
}

impl<T, S: Serdes<T>> WithSerdes<T, S> {
    /// `value`, to be written with `serdes`.
    pub fn new(value: T, serdes: S) -> Self {
        Self { value, serdes }
    }
}

impl<T, S: Serdes<T>> Encode for WithSerdes<T, S> {
    fn encode(&self) -> Result<String, SerdesError> {
        self.serdes.serialize(&self.value)
    }
}
