//! [`UnknownValue`]: an enumeration value the schemas do not list, kept as received.

use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};

/// An enumeration value that this SDK version's schemas do not list (a newer service sent
/// it), as carried by the `Unknown` variant of every wire enumeration, for example
/// [`OperationStatus::Unknown`](crate::wire::OperationStatus::Unknown).
///
/// It is `Copy`, like the enumerations that hold it: the text is interned once per distinct
/// value for the life of the process. A protocol has few values, so this is a handful of
/// short strings; to bound what a misbehaving peer can make the process keep, a value
/// longer than [`MAX_LEN`](Self::MAX_LEN) bytes is cut there (marked with `...`), and past
/// [`MAX_DISTINCT`](Self::MAX_DISTINCT) distinct values every further one reads as
/// [`OVERFLOW`](Self::OVERFLOW).
///
/// ```
/// use lambda_durable::wire::OperationStatus;
///
/// let status: OperationStatus = serde_json::from_str("\"PAUSED\"").unwrap();
/// assert!(status.is_unknown());
/// assert_eq!(status.to_string(), "PAUSED");
/// assert_eq!(serde_json::to_string(&status).unwrap(), "\"PAUSED\"");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnknownValue(&'static str);

impl UnknownValue {
    /// The longest value kept whole, in bytes.
    pub const MAX_LEN: usize = 128;
    /// How many distinct unknown values a process keeps.
    pub const MAX_DISTINCT: usize = 1024;
    /// What every value past [`MAX_DISTINCT`](Self::MAX_DISTINCT) reads as.
    pub const OVERFLOW: &'static str = "<unknown value: too many distinct unknown values>";

    /// The value as received (see the type's documentation for the limits).
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl From<&str> for UnknownValue {
    fn from(value: &str) -> Self {
        static VALUES: OnceLock<Mutex<BTreeSet<&'static str>>> = OnceLock::new();
        let cut;
        let value = if value.len() > Self::MAX_LEN {
            let mut end = Self::MAX_LEN;
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            cut = format!("{}...", &value[..end]);
            cut.as_str()
        } else {
            value
        };
        let mut values = VALUES
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(&known) = values.get(value) {
            return Self(known);
        }
        if values.len() >= Self::MAX_DISTINCT {
            return Self(Self::OVERFLOW);
        }
        let kept: &'static str = Box::leak(value.to_owned().into_boxed_str());
        values.insert(kept);
        Self(kept)
    }
}

impl std::fmt::Debug for UnknownValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.0, f)
    }
}

impl std::fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_interned_and_bounded() {
        let a = UnknownValue::from("PAUSED");
        let b = UnknownValue::from(String::from("PAUSED").as_str());
        assert_eq!(a, b);
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        assert_eq!(a.to_string(), "PAUSED");
        let long = "é".repeat(100);
        let cut = UnknownValue::from(long.as_str());
        assert!(cut.as_str().len() <= UnknownValue::MAX_LEN + 3);
        assert!(cut.as_str().ends_with("..."));
    }
}
