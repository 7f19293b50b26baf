use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use super::error::ConversionError;

/// Identifier of a durable operation, unique within its execution: 1 to 64 letters,
/// digits, `-` or `_` (the `OperationId` schema).
///
/// The SDK derives ids deterministically, so that the same logical operation gets the same
/// id on every replay; the EXECUTION operation's id is chosen by the service.
///
/// ```
/// use lambda_durable::wire::OperationId;
///
/// let id = OperationId::try_from("step-1").unwrap();
/// assert_eq!(id.as_str(), "step-1");
/// assert!(OperationId::try_from("no spaces").is_err());
/// assert!(OperationId::try_from("").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct OperationId(String);

/// The longest operation id the service accepts.
const MAX_LEN: usize = 64;

fn check(value: &str) -> Result<(), ConversionError> {
    if value.is_empty() {
        return Err("shorter than 1 characters".into());
    }
    if value.len() > MAX_LEN {
        return Err(format!("longer than {MAX_LEN} characters").into());
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err("doesn't match pattern \"^[a-zA-Z0-9_-]+$\"".into());
    }
    Ok(())
}

impl OperationId {
    /// The id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An id the SDK derived itself (a hex digest), known to be valid.
    pub(crate) fn from_digest(hex: String) -> Self {
        debug_assert!(check(&hex).is_ok());
        Self(hex)
    }
}

impl std::ops::Deref for OperationId {
    type Target = String;
    fn deref(&self) -> &String {
        &self.0
    }
}

impl From<OperationId> for String {
    fn from(value: OperationId) -> Self {
        value.0
    }
}

impl std::str::FromStr for OperationId {
    type Err = ConversionError;
    fn from_str(value: &str) -> Result<Self, ConversionError> {
        check(value)?;
        Ok(Self(value.to_string()))
    }
}

impl TryFrom<&str> for OperationId {
    type Error = ConversionError;
    fn try_from(value: &str) -> Result<Self, ConversionError> {
        value.parse()
    }
}

impl TryFrom<&String> for OperationId {
    type Error = ConversionError;
    fn try_from(value: &String) -> Result<Self, ConversionError> {
        value.parse()
    }
}

impl TryFrom<String> for OperationId {
    type Error = ConversionError;
    fn try_from(value: String) -> Result<Self, ConversionError> {
        check(&value)?;
        Ok(Self(value))
    }
}

impl fmt::Display for OperationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for OperationId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Self::try_from(value).map_err(|err| serde::de::Error::custom(err.to_string()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The handwritten check accepts exactly what the schema's pattern and lengths accept.
    #[test]
    fn agrees_with_the_schema() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../schema/wire/OperationId.json")).unwrap();
        let pattern = regress::Regex::new(schema["pattern"].as_str().unwrap()).unwrap();
        let min = schema["minLength"].as_u64().unwrap() as usize;
        let max = schema["maxLength"].as_u64().unwrap() as usize;
        let mut samples: Vec<String> = vec![
            String::new(),
            "a".into(),
            "A-z_09".into(),
            "with space".into(),
            "é".into(),
            "tab\t".into(),
            "dot.".into(),
            "x".repeat(64),
            "x".repeat(65),
            "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b".into(),
        ];
        for b in 0u8..128 {
            samples.push(format!("a{}b", b as char));
        }
        for sample in samples {
            let expected =
                pattern.find(&sample).is_some() && (min..=max).contains(&sample.chars().count());
            assert_eq!(
                OperationId::try_from(sample.as_str()).is_ok(),
                expected,
                "{sample:?}"
            );
        }
    }

    #[test]
    fn deserializes_with_validation() {
        let id: OperationId = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(id.to_string(), "abc");
        let err = serde_json::from_str::<OperationId>("\"a b\"").unwrap_err();
        assert!(err.to_string().contains("pattern"), "{err}");
    }
}
