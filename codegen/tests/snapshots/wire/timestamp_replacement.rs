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
///Uses the replaced Timestamp, required and optional.
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "title": "Span",
///  "description": "Uses the replaced Timestamp, required and optional.",
///  "type": "object",
///  "required": [
///    "Start"
///  ],
///  "properties": {
///    "End": {
///      "$ref": "#/definitions/Timestamp"
///    },
///    "Start": {
///      "$ref": "#/definitions/Timestamp"
///    }
///  }
///}
/// ```
/// </details>
#[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Span {
    #[serde(
        rename = "End",
        default,
        skip_serializing_if = "::std::option::Option::is_none"
    )]
    pub end: ::std::option::Option<crate::wire::Timestamp>,
    #[serde(rename = "Start")]
    pub start: crate::wire::Timestamp,
}
impl Span {
    ///The `Span` with these required fields and every optional field absent (or empty).
    pub fn new(start: crate::wire::Timestamp) -> Self {
        Self {
            start,
            end: ::std::default::Default::default(),
        }
    }
}
