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
///The shape referred to by Parent.
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "title": "Child",
///  "description": "The shape referred to by Parent.",
///  "type": "object",
///  "properties": {
///    "Value": {
///      "type": "string"
///    }
///  }
///}
/// ```
/// </details>
#[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Child {
    #[serde(
        rename = "Value",
        default,
        skip_serializing_if = "::std::option::Option::is_none"
    )]
    pub value: ::std::option::Option<::std::string::String>,
}
impl ::std::default::Default for Child {
    fn default() -> Self {
        Self { value: Default::default() }
    }
}
///Refers to another file of the folder.
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "title": "Parent",
///  "description": "Refers to another file of the folder.",
///  "type": "object",
///  "required": [
///    "Child"
///  ],
///  "properties": {
///    "Child": {
///      "description": "The referenced shape.",
///      "$ref": "#/definitions/Child"
///    }
///  }
///}
/// ```
/// </details>
#[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Parent {
    ///The referenced shape.
    #[serde(rename = "Child")]
    pub child: Child,
}
impl Parent {
    ///The `Parent` with these required fields and every optional field absent (or empty).
    pub fn new(child: Child) -> Self {
        Self { child }
    }
}
