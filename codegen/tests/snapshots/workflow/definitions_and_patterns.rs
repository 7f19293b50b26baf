/// Error types.
#[allow(dead_code, reason = "used only by types with checked conversions")]
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
///`Color`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "type": "string",
///  "enum": [
///    "red",
///    "dark blue"
///  ]
///}
/// ```
/// </details>
#[derive(
    ::lambda_durable::__codegen::serde::Deserialize,
    ::lambda_durable::__codegen::serde::Serialize,
    Clone,
    Copy,
    Debug,
    Eq,
    Hash,
    Ord,
    PartialEq,
    PartialOrd
)]
#[serde(crate = "::lambda_durable::__codegen::serde")]
pub enum Color {
    /// `red`
    #[serde(rename = "red")]
    Red,
    /// `dark blue`
    #[serde(rename = "dark blue")]
    DarkBlue,
}
impl ::std::fmt::Display for Color {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        match *self {
            Self::Red => f.write_str("red"),
            Self::DarkBlue => f.write_str("dark blue"),
        }
    }
}
impl ::std::str::FromStr for Color {
    type Err = self::error::ConversionError;
    fn from_str(
        value: &str,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        match value {
            "red" => Ok(Self::Red),
            "dark blue" => Ok(Self::DarkBlue),
            _ => Err("invalid value".into()),
        }
    }
}
impl ::std::convert::TryFrom<&str> for Color {
    type Error = self::error::ConversionError;
    fn try_from(
        value: &str,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        value.parse()
    }
}
impl ::std::convert::TryFrom<&::std::string::String> for Color {
    type Error = self::error::ConversionError;
    fn try_from(
        value: &::std::string::String,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        value.parse()
    }
}
impl ::std::convert::TryFrom<::std::string::String> for Color {
    type Error = self::error::ConversionError;
    fn try_from(
        value: ::std::string::String,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        value.parse()
    }
}
///`Item`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "type": "object",
///  "required": [
///    "colors",
///    "sku"
///  ],
///  "properties": {
///    "colors": {
///      "type": "array",
///      "items": {
///        "$ref": "#/definitions/Color"
///      }
///    },
///    "extra": {},
///    "note": {
///      "type": [
///        "string",
///        "null"
///      ]
///    },
///    "sku": {
///      "$ref": "#/definitions/Sku"
///    }
///  }
///}
/// ```
/// </details>
#[derive(
    ::lambda_durable::__codegen::serde::Deserialize,
    ::lambda_durable::__codegen::serde::Serialize,
    Clone,
    Debug,
    PartialEq
)]
#[serde(crate = "::lambda_durable::__codegen::serde")]
pub struct Item {
    /// The `colors` field.
    pub colors: ::std::vec::Vec<Color>,
    /// The `extra` field.
    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
    pub extra: ::std::option::Option<::lambda_durable::__codegen::serde_json::Value>,
    /// The `note` field.
    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
    pub note: ::std::option::Option<::std::string::String>,
    /// The `sku` field.
    pub sku: Sku,
}
///`Sku`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "type": "string",
///  "pattern": "^[A-Z]{3}-[0-9]+$"
///}
/// ```
/// </details>
#[derive(
    ::lambda_durable::__codegen::serde::Serialize,
    Clone,
    Debug,
    Eq,
    Hash,
    Ord,
    PartialEq,
    PartialOrd
)]
#[serde(crate = "::lambda_durable::__codegen::serde")]
#[serde(transparent)]
pub struct Sku(::std::string::String);
impl ::std::ops::Deref for Sku {
    type Target = ::std::string::String;
    fn deref(&self) -> &::std::string::String {
        &self.0
    }
}
impl ::std::convert::From<Sku> for ::std::string::String {
    fn from(value: Sku) -> Self {
        value.0
    }
}
#[allow(
    clippy::unwrap_used,
    reason = "typify checked these values when the code was generated"
)]
impl ::std::str::FromStr for Sku {
    type Err = self::error::ConversionError;
    fn from_str(
        value: &str,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        static PATTERN: ::std::sync::LazyLock<
            ::lambda_durable::__codegen::regress::Regex,
        > = ::std::sync::LazyLock::new(|| {
            ::lambda_durable::__codegen::regress::Regex::new("^[A-Z]{3}-[0-9]+$")
                .unwrap()
        });
        if PATTERN.find(value).is_none() {
            return Err("doesn't match pattern \"^[A-Z]{3}-[0-9]+$\"".into());
        }
        Ok(Self(value.to_string()))
    }
}
impl ::std::convert::TryFrom<&str> for Sku {
    type Error = self::error::ConversionError;
    fn try_from(
        value: &str,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        value.parse()
    }
}
impl ::std::convert::TryFrom<&::std::string::String> for Sku {
    type Error = self::error::ConversionError;
    fn try_from(
        value: &::std::string::String,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        value.parse()
    }
}
impl ::std::convert::TryFrom<::std::string::String> for Sku {
    type Error = self::error::ConversionError;
    fn try_from(
        value: ::std::string::String,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        value.parse()
    }
}
impl<'de> ::lambda_durable::__codegen::serde::Deserialize<'de> for Sku {
    fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
    where
        D: ::lambda_durable::__codegen::serde::Deserializer<'de>,
    {
        ::std::string::String::deserialize(deserializer)?
            .parse()
            .map_err(|e: self::error::ConversionError| {
                <D::Error as ::lambda_durable::__codegen::serde::de::Error>::custom(
                    e.to_string(),
                )
            })
    }
}
/// The name of this workflow, as declared.
#[allow(dead_code, reason = "generated for the crate's use, which may not need it")]
pub const NAME: &str = "patterns";
/// The function this workflow is declared to be deployed as, if the declaration says.
#[allow(dead_code, reason = "generated for the crate's use, which may not need it")]
pub const FUNCTION: ::std::option::Option<&str> = ::std::option::Option::None;
/// The JSON Schema of `Input`, with the definitions it refers to. An execution's input must
/// match it before the handler runs: every constraint of the declaration holds, also those
/// the Rust type cannot express.
pub const INPUT_SCHEMA: &str = "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"definitions\":{\"Sku\":{\"pattern\":\"^[A-Z]{3}-[0-9]+$\",\"type\":\"string\"}},\"pattern\":\"^[A-Z]{3}-[0-9]+$\",\"title\":\"Sku\",\"type\":\"string\"}";
/// The event that starts an execution of this workflow.
pub type Input = Sku;
/// The result of an execution of this workflow.
pub type Output = Color;
/// The workflow "patterns".
///
/// Wraps the execution's `DurableContext`; each method runs one declared operation.
#[derive(::std::clone::Clone, ::std::fmt::Debug)]
pub struct Workflow {
    ctx: ::lambda_durable::__codegen::DurableContext,
}
impl ::std::convert::From<::lambda_durable::__codegen::DurableContext> for Workflow {
    fn from(ctx: ::lambda_durable::__codegen::DurableContext) -> Self {
        Self { ctx }
    }
}
impl ::std::convert::AsRef<::lambda_durable::__codegen::DurableContext> for Workflow {
    fn as_ref(&self) -> &::lambda_durable::__codegen::DurableContext {
        &self.ctx
    }
}
impl ::lambda_durable::__codegen::DeclaredWorkflow for Workflow {
    const INPUT_SCHEMA: &'static str = INPUT_SCHEMA;
    const NAME: &'static str = NAME;
    const FUNCTION: ::std::option::Option<&'static str> = FUNCTION;
}
impl Workflow {
    /// The step operation "pick".
    ///
    /// Checkpoint name "pick"; declared at `/operations/0`.
    ///
    /// Declared configuration (`step`):
    ///
    /// - retry: SDK default (6 attempts, 5s ×2 up to 1m, full jitter)
    /// - semantics: at least once per retry
    /// - timeout: none
    ///
    /// Per call: `.retry(..)` replaces the declared retry policy, `.serdes(..)` the result's serialization; the rest of the declaration stays.
    pub fn pick<'a, F, Fut, E>(
        &'a self,
        input: Item,
        body: F,
    ) -> ::lambda_durable::__codegen::Step<
        'a,
        impl ::std::ops::FnOnce(
            ::lambda_durable::__codegen::StepContext,
        ) -> Fut + ::std::marker::Send + 'a,
    >
    where
        F: ::std::ops::FnOnce(Item, ::lambda_durable::__codegen::StepContext) -> Fut
            + ::std::marker::Send + 'a,
        Fut: ::std::future::Future<Output = ::std::result::Result<Item, E>>
            + ::std::marker::Send + 'a,
        E: ::std::convert::Into<::lambda_durable::__codegen::BoxError> + 'a,
    {
        ::lambda_durable::__codegen::step_with_input(
            &self.ctx,
            "pick",
            ::lambda_durable::__codegen::StepConfig {
                retry: ::std::option::Option::None,
                semantics: ::std::option::Option::None,
                timeout: ::std::option::Option::None,
            },
            input,
            body,
        )
    }
}
/// Turns the typed handler of this workflow, `async fn(Input, Workflow) -> Result<Output, E>`,
/// into the handler that `lambda_durable::run` and the local runner take. The execution's
/// input is checked against [`INPUT_SCHEMA`] first: an input that breaks it fails the
/// execution with the JSONPath of the offending value, and the handler does not run.
pub fn handler<F, Fut, E>(
    handler: F,
) -> impl ::std::ops::Fn(
    ::lambda_durable::__codegen::DeclaredInput<Input, Workflow>,
    ::lambda_durable::__codegen::DurableContext,
) -> Fut + ::std::marker::Send + ::std::marker::Sync + 'static
where
    F: ::std::ops::Fn(Input, Workflow) -> Fut + ::std::marker::Send + ::std::marker::Sync
        + 'static,
    Fut: ::std::future::Future<Output = ::std::result::Result<Output, E>>
        + ::std::marker::Send + 'static,
    E: ::std::convert::Into<::lambda_durable::__codegen::BoxError> + 'static,
{
    ::lambda_durable::__codegen::handler::<Workflow, Input, Output, F, Fut, E>(handler)
}
