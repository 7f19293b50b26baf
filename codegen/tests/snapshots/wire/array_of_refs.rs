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
///Arrays whose items are another file's shape.
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "title": "Batch",
///  "description": "Arrays whose items are another file's shape.",
///  "type": "object",
///  "required": [
///    "Items"
///  ],
///  "properties": {
///    "Extra": {
///      "description": "Optional array.",
///      "type": "array",
///      "items": {
///        "$ref": "#/definitions/Item"
///      }
///    },
///    "Items": {
///      "description": "Required array.",
///      "type": "array",
///      "items": {
///        "$ref": "#/definitions/Item"
///      }
///    }
///  }
///}
/// ```
/// </details>
#[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Batch {
    ///Optional array.
    #[serde(
        rename = "Extra",
        default,
        skip_serializing_if = "::std::vec::Vec::is_empty"
    )]
    pub extra: ::std::vec::Vec<Item>,
    ///Required array.
    #[serde(rename = "Items")]
    pub items: ::std::vec::Vec<Item>,
}
///One element of a Batch.
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "title": "Item",
///  "description": "One element of a Batch.",
///  "type": "object",
///  "required": [
///    "Name"
///  ],
///  "properties": {
///    "Name": {
///      "type": "string"
///    }
///  }
///}
/// ```
/// </details>
#[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Item {
    #[serde(rename = "Name")]
    pub name: ::std::string::String,
}
impl Batch {
    ///The `Batch` with these required fields and every optional field absent (or empty).
    pub fn new(items: ::std::vec::Vec<Item>) -> Self {
        Self {
            items,
            extra: ::std::default::Default::default(),
        }
    }
}
impl Item {
    ///The `Item` with these required fields and every optional field absent (or empty).
    pub fn new(name: ::std::string::String) -> Self {
        Self { name }
    }
}
