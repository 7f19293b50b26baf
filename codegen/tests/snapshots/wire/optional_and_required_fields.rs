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
///An object with required and optional members.
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "title": "Order",
///  "description": "An object with required and optional members.",
///  "type": "object",
///  "required": [
///    "Id",
///    "Quantity"
///  ],
///  "properties": {
///    "Gift": {
///      "description": "Optional boolean.",
///      "type": "boolean"
///    },
///    "Id": {
///      "description": "Required string.",
///      "type": "string"
///    },
///    "Note": {
///      "description": "Optional string.",
///      "type": "string"
///    },
///    "Quantity": {
///      "description": "Required integer.",
///      "type": "integer",
///      "format": "int64"
///    }
///  }
///}
/// ```
/// </details>
#[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Order {
    ///Optional boolean.
    #[serde(
        rename = "Gift",
        default,
        skip_serializing_if = "::std::option::Option::is_none"
    )]
    pub gift: ::std::option::Option<bool>,
    ///Required string.
    #[serde(rename = "Id")]
    pub id: ::std::string::String,
    ///Optional string.
    #[serde(
        rename = "Note",
        default,
        skip_serializing_if = "::std::option::Option::is_none"
    )]
    pub note: ::std::option::Option<::std::string::String>,
    ///Required integer.
    #[serde(rename = "Quantity")]
    pub quantity: i64,
}
impl Order {
    ///The `Order` with these required fields and every optional field absent (or empty).
    pub fn new(id: ::std::string::String, quantity: i64) -> Self {
        Self {
            id,
            quantity,
            gift: ::std::default::Default::default(),
            note: ::std::default::Default::default(),
        }
    }
}
