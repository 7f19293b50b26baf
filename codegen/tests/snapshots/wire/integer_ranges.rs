/// Error types.
pub mod error {
    /// Error from a `TryFrom` or `FromStr` implementation.
    pub struct ConversionError(::std::borrow::Cow<'static, str>);
    impl ::std::error::Error for ConversionError {}
    impl ::std::fmt::Display for ConversionError {
        fn fmt(
            &self,
            f: &mut ::std::fmt::Formatter<'_>,
        ) -> Result<(), ::std::fmt::Error> {
            ::std::fmt::Display::fmt(&self.0, f)
        }
    }
    impl ::std::fmt::Debug for ConversionError {
        fn fmt(
            &self,
            f: &mut ::std::fmt::Formatter<'_>,
        ) -> Result<(), ::std::fmt::Error> {
            ::std::fmt::Debug::fmt(&self.0, f)
        }
    }
    impl From<&'static str> for ConversionError {
        fn from(value: &'static str) -> Self {
            Self(value.into())
        }
    }
    impl From<String> for ConversionError {
        fn from(value: String) -> Self {
            Self(value.into())
        }
    }
}
///Integer members with different lower bounds.
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "title": "Limits",
///  "description": "Integer members with different lower bounds.",
///  "type": "object",
///  "required": [
///    "AtLeastOne",
///    "AtLeastZero",
///    "Signed"
///  ],
///  "properties": {
///    "AtLeastOne": {
///      "description": "minimum 1 with a maximum.",
///      "type": "integer",
///      "maximum": 31622400.0,
///      "minimum": 1.0
///    },
///    "AtLeastZero": {
///      "description": "minimum 0.",
///      "type": "integer",
///      "minimum": 0.0
///    },
///    "Int64AtLeastOne": {
///      "description": "minimum 1 with an explicit int64 format.",
///      "type": "integer",
///      "format": "int64",
///      "minimum": 1.0
///    },
///    "Int64AtLeastZero": {
///      "description": "minimum 0 and a maximum with an explicit int64 format.",
///      "type": "integer",
///      "format": "int64",
///      "maximum": 99999999.0,
///      "minimum": 0.0
///    },
///    "Signed": {
///      "description": "No bound.",
///      "type": "integer"
///    }
///  }
///}
/// ```
/// </details>
#[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Limits {
    ///minimum 1 with a maximum.
    #[serde(rename = "AtLeastOne")]
    pub at_least_one: ::std::num::NonZeroU64,
    ///minimum 0.
    #[serde(rename = "AtLeastZero")]
    pub at_least_zero: u64,
    ///minimum 1 with an explicit int64 format.
    #[serde(
        rename = "Int64AtLeastOne",
        default,
        skip_serializing_if = "::std::option::Option::is_none"
    )]
    pub int64_at_least_one: ::std::option::Option<::std::num::NonZeroU64>,
    ///minimum 0 and a maximum with an explicit int64 format.
    #[serde(
        rename = "Int64AtLeastZero",
        default,
        skip_serializing_if = "::std::option::Option::is_none"
    )]
    pub int64_at_least_zero: ::std::option::Option<i64>,
    ///No bound.
    #[serde(rename = "Signed")]
    pub signed: i64,
}
impl Limits {
    ///The `Limits` with these required fields and every optional field absent (or empty).
    pub fn new(
        at_least_one: ::std::num::NonZeroU64,
        at_least_zero: u64,
        signed: i64,
    ) -> Self {
        Self {
            at_least_one,
            at_least_zero,
            signed,
            int64_at_least_one: ::std::default::Default::default(),
            int64_at_least_zero: ::std::default::Default::default(),
        }
    }
}
