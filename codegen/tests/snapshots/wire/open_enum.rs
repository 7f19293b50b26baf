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
///A string enumeration with UPPER_SNAKE wire values.
///
/// Open: a value the schema does not list parses into [`Self::Unknown`] instead of
/// failing the document.
#[derive(Clone, Copy, Debug, Eq, Hash, Ord, PartialEq, PartialOrd)]
#[non_exhaustive]
pub enum Color {
    ///`RED`
    Red,
    ///`DARK_BLUE`
    DarkBlue,
    ///A value that this version of the `Color` schema does not list, kept as received.
    Unknown(super::UnknownText),
}
impl Color {
    /// The values the schema lists, in its order.
    pub const KNOWN: &'static [Self] = &[Self::Red, Self::DarkBlue];
    /// The value as it is written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Red => "RED",
            Self::DarkBlue => "DARK_BLUE",
            Self::Unknown(value) => value.as_str(),
        }
    }
    /// Whether the schema does not list this value.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Unknown(_))
    }
}
impl ::std::fmt::Display for Color {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        f.write_str(self.as_str())
    }
}
impl ::std::convert::From<&str> for Color {
    fn from(value: &str) -> Self {
        match value {
            "RED" => Self::Red,
            "DARK_BLUE" => Self::DarkBlue,
            other => {
                Self::Unknown(
                    <super::UnknownText as ::std::convert::From<&str>>::from(other),
                )
            }
        }
    }
}
impl ::std::convert::From<&::std::string::String> for Color {
    fn from(value: &::std::string::String) -> Self {
        Self::from(value.as_str())
    }
}
impl ::std::convert::From<::std::string::String> for Color {
    fn from(value: ::std::string::String) -> Self {
        Self::from(value.as_str())
    }
}
impl ::std::str::FromStr for Color {
    type Err = ::std::convert::Infallible;
    fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
        Ok(Self::from(value))
    }
}
impl ::serde::Serialize for Color {
    fn serialize<S: ::serde::Serializer>(
        &self,
        serializer: S,
    ) -> ::std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
impl<'de> ::serde::Deserialize<'de> for Color {
    fn deserialize<D: ::serde::Deserializer<'de>>(
        deserializer: D,
    ) -> ::std::result::Result<Self, D::Error> {
        let value = <::std::borrow::Cow<
            'de,
            str,
        > as ::serde::Deserialize>::deserialize(deserializer)?;
        Ok(Self::from(&*value))
    }
}
