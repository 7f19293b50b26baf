use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time as the durable-execution service encodes it.
///
/// The service's API responses use epoch seconds (a JSON number that may have a
/// fraction); invocation envelopes have been seen with epoch milliseconds and with
/// ISO-8601 strings. All three are accepted. A timestamp keeps the encoding it arrived in,
/// so it serializes back to the same JSON; [`Timestamp::epoch_millis`] reads the instant.
///
/// ```
/// use lambda_durable::wire::Timestamp;
///
/// let seconds: Timestamp = serde_json::from_str("1767225600.5").unwrap();
/// let millis: Timestamp = serde_json::from_str("1767225600500").unwrap();
/// let text: Timestamp = serde_json::from_str("\"2026-01-01T00:00:00.5Z\"").unwrap();
/// assert_eq!(seconds.epoch_millis(), 1_767_225_600_500);
/// assert_eq!(millis.epoch_millis(), 1_767_225_600_500);
/// assert_eq!(text.epoch_millis(), 1_767_225_600_500);
/// assert_eq!(serde_json::to_string(&millis).unwrap(), "1767225600500");
/// ```
#[derive(Clone, PartialEq)]
pub struct Timestamp {
    millis: i64,
    encoding: Encoding,
}

#[derive(Clone, PartialEq)]
enum Encoding {
    Number(serde_json::Number),
    Text(String),
}

/// Numbers above this are read as epoch milliseconds, below as epoch seconds
/// (1e11 seconds is the year 5138; 1e11 milliseconds is March 1973).
const MILLIS_THRESHOLD: f64 = 1e11;

impl Timestamp {
    /// A timestamp at `millis` milliseconds after the Unix epoch, encoded as the API does
    /// (epoch seconds, with a fraction when needed).
    pub fn from_epoch_millis(millis: i64) -> Self {
        let number = if millis % 1000 == 0 {
            serde_json::Number::from(millis / 1000)
        } else {
            serde_json::Number::from_f64(millis as f64 / 1000.0)
                .unwrap_or_else(|| serde_json::Number::from(millis / 1000))
        };
        Self {
            millis,
            encoding: Encoding::Number(number),
        }
    }

    /// Milliseconds after the Unix epoch.
    pub fn epoch_millis(&self) -> i64 {
        self.millis
    }

    fn from_number(number: serde_json::Number) -> Result<Self, String> {
        let value = number
            .as_f64()
            .filter(|value| value.is_finite())
            .ok_or_else(|| format!("timestamp {number} is not a finite number"))?;
        let millis = if value.abs() >= MILLIS_THRESHOLD {
            value
        } else {
            value * 1000.0
        };
        if millis.abs() > i64::MAX as f64 {
            return Err(format!("timestamp {number} is out of range"));
        }
        Ok(Self {
            millis: millis.round() as i64,
            encoding: Encoding::Number(number),
        })
    }

    fn from_text(text: String) -> Result<Self, String> {
        let parsed =
            time::OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
                .map_err(|err| format!("timestamp {text:?} is not an ISO-8601 date-time: {err}"))?;
        let millis = parsed.unix_timestamp_nanos() / 1_000_000;
        let millis =
            i64::try_from(millis).map_err(|_| format!("timestamp {text:?} is out of range"))?;
        Ok(Self {
            millis,
            encoding: Encoding::Text(text),
        })
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.encoding {
            Encoding::Number(number) => write!(f, "Timestamp({number})"),
            Encoding::Text(text) => write!(f, "Timestamp({text:?})"),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.encoding {
            Encoding::Number(number) => number.serialize(serializer),
            Encoding::Text(text) => serializer.serialize_str(text),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(serde_json::Number),
            Text(String),
        }
        let raw = Raw::deserialize(deserializer).map_err(|_| {
            serde::de::Error::custom(
                "timestamp must be epoch seconds, epoch milliseconds or an ISO-8601 string",
            )
        })?;
        match raw {
            Raw::Number(number) => Self::from_number(number),
            Raw::Text(text) => Self::from_text(text),
        }
        .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Timestamp, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn reads_every_encoding_as_the_same_instant() {
        let expected = 1_767_225_601_123;
        for json in [
            "1767225601.123",
            "1767225601123",
            "\"2026-01-01T00:00:01.123Z\"",
            "\"2026-01-01T01:00:01.123+01:00\"",
        ] {
            assert_eq!(parse(json).unwrap().epoch_millis(), expected, "{json}");
        }
        assert_eq!(
            parse("1767225601").unwrap().epoch_millis(),
            1_767_225_601_000
        );
    }

    #[test]
    fn serializes_back_in_the_encoding_it_arrived_in() {
        for json in [
            "1767225601.123",
            "1767225601123",
            "1767225601",
            "\"2026-01-01T00:00:01.123Z\"",
        ] {
            assert_eq!(serde_json::to_string(&parse(json).unwrap()).unwrap(), json);
        }
    }

    #[test]
    fn built_timestamps_use_epoch_seconds() {
        let ts = Timestamp::from_epoch_millis(1_767_225_601_123);
        assert_eq!(serde_json::to_string(&ts).unwrap(), "1767225601.123");
        let ts = Timestamp::from_epoch_millis(1_767_225_601_000);
        assert_eq!(serde_json::to_string(&ts).unwrap(), "1767225601");
        assert_eq!(
            parse("1767225601.123").unwrap(),
            Timestamp::from_epoch_millis(1_767_225_601_123)
        );
    }

    #[test]
    fn rejects_what_is_not_a_timestamp_with_a_message_naming_it() {
        let err = parse("\"yesterday\"").unwrap_err().to_string();
        assert!(err.contains("\"yesterday\""), "{err}");
        let err = parse("true").unwrap_err().to_string();
        assert!(err.contains("ISO-8601"), "{err}");
        assert!(parse("1e300").is_err());
    }
}
