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
///`Card`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "type": "object",
///  "required": [
///    "card"
///  ],
///  "properties": {
///    "card": {
///      "type": "string"
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
pub struct Card {
    /// The `card` field.
    pub card: ::std::string::String,
}
///`Input`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "type": "object",
///  "required": [
///    "code",
///    "count",
///    "pair",
///    "ratio",
///    "tags"
///  ],
///  "properties": {
///    "choice": {
///      "oneOf": [
///        {
///          "$ref": "#/definitions/Card"
///        },
///        {
///          "$ref": "#/definitions/Transfer"
///        }
///      ]
///    },
///    "code": {
///      "type": "string",
///      "maxLength": 8,
///      "minLength": 2,
///      "pattern": "^[A-Z]+$"
///    },
///    "count": {
///      "type": "integer",
///      "multipleOf": 1.0,
///      "maximum": 100.0,
///      "minimum": 1.0
///    },
///    "either": {
///      "anyOf": [
///        {
///          "type": "string"
///        },
///        {
///          "type": "integer"
///        }
///      ]
///    },
///    "host": {
///      "type": "string",
///      "format": "ipv4"
///    },
///    "id": {
///      "type": "string"
///    },
///    "limits": {
///      "type": "object",
///      "maxProperties": 3,
///      "minProperties": 1,
///      "additionalProperties": {
///        "type": "integer"
///      }
///    },
///    "mode": {
///      "enum": [
///        "fast",
///        "safe"
///      ]
///    },
///    "pair": {
///      "type": "array",
///      "items": [
///        {
///          "type": "string"
///        },
///        {
///          "type": "integer"
///        }
///      ],
///      "maxItems": 2,
///      "minItems": 2
///    },
///    "ratio": {
///      "type": "number",
///      "exclusiveMaximum": 1.0,
///      "exclusiveMinimum": 0.0
///    },
///    "tags": {
///      "type": "array",
///      "items": {
///        "type": "string"
///      },
///      "maxItems": 5,
///      "minItems": 1,
///      "uniqueItems": true
///    },
///    "version": {
///      "const": 2
///    },
///    "when": {
///      "type": "string",
///      "$comment": "format is documentation only"
///    },
///    "x": {
///      "allOf": [
///        {
///          "$ref": "#/definitions/Card"
///        }
///      ],
///      "x-note": "extensions start with x-"
///    }
///  },
///  "additionalProperties": false
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
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The `choice` field.
    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
    pub choice: ::std::option::Option<InputChoice>,
    /// The `code` field.
    pub code: InputCode,
    /// The `count` field.
    pub count: ::std::num::NonZeroU64,
    /// The `either` field.
    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
    pub either: ::std::option::Option<InputEither>,
    /// The `host` field.
    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
    pub host: ::std::option::Option<::std::net::Ipv4Addr>,
    /// The `id` field.
    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
    pub id: ::std::option::Option<::std::string::String>,
    /// The `limits` field.
    #[serde(default, skip_serializing_if = ":: std :: collections :: HashMap::is_empty")]
    pub limits: ::std::collections::HashMap<::std::string::String, i64>,
    /// The `mode` field.
    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
    pub mode: ::std::option::Option<InputMode>,
    /// The `pair` field.
    pub pair: (::std::string::String, i64),
    /// The `ratio` field.
    pub ratio: f64,
    /// The `tags` field.
    pub tags: Vec<::std::string::String>,
    /// The `version` field.
    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
    pub version: ::std::option::Option<::lambda_durable::__codegen::serde_json::Value>,
    /// The `when` field.
    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
    pub when: ::std::option::Option<::std::string::String>,
    /// The `x` field.
    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
    pub x: ::std::option::Option<Card>,
}
///`InputChoice`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "oneOf": [
///    {
///      "$ref": "#/definitions/Card"
///    },
///    {
///      "$ref": "#/definitions/Transfer"
///    }
///  ]
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
#[serde(untagged)]
pub enum InputChoice {
    /// `Card`
    Card(Card),
    /// `Transfer`
    Transfer(Transfer),
}
impl ::std::convert::From<Card> for InputChoice {
    fn from(value: Card) -> Self {
        Self::Card(value)
    }
}
impl ::std::convert::From<Transfer> for InputChoice {
    fn from(value: Transfer) -> Self {
        Self::Transfer(value)
    }
}
///`InputCode`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "type": "string",
///  "maxLength": 8,
///  "minLength": 2,
///  "pattern": "^[A-Z]+$"
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
pub struct InputCode(::std::string::String);
impl ::std::ops::Deref for InputCode {
    type Target = ::std::string::String;
    fn deref(&self) -> &::std::string::String {
        &self.0
    }
}
impl ::std::convert::From<InputCode> for ::std::string::String {
    fn from(value: InputCode) -> Self {
        value.0
    }
}
#[allow(
    clippy::unwrap_used,
    reason = "typify checked these values when the code was generated"
)]
impl ::std::str::FromStr for InputCode {
    type Err = self::error::ConversionError;
    fn from_str(
        value: &str,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        if value.chars().count() > 8usize {
            return Err("longer than 8 characters".into());
        }
        if value.chars().count() < 2usize {
            return Err("shorter than 2 characters".into());
        }
        static PATTERN: ::std::sync::LazyLock<
            ::lambda_durable::__codegen::regress::Regex,
        > = ::std::sync::LazyLock::new(|| {
            ::lambda_durable::__codegen::regress::Regex::new("^[A-Z]+$").unwrap()
        });
        if PATTERN.find(value).is_none() {
            return Err("doesn't match pattern \"^[A-Z]+$\"".into());
        }
        Ok(Self(value.to_string()))
    }
}
impl ::std::convert::TryFrom<&str> for InputCode {
    type Error = self::error::ConversionError;
    fn try_from(
        value: &str,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        value.parse()
    }
}
impl ::std::convert::TryFrom<&::std::string::String> for InputCode {
    type Error = self::error::ConversionError;
    fn try_from(
        value: &::std::string::String,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        value.parse()
    }
}
impl ::std::convert::TryFrom<::std::string::String> for InputCode {
    type Error = self::error::ConversionError;
    fn try_from(
        value: ::std::string::String,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        value.parse()
    }
}
impl<'de> ::lambda_durable::__codegen::serde::Deserialize<'de> for InputCode {
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
///`InputEither`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "anyOf": [
///    {
///      "type": "string"
///    },
///    {
///      "type": "integer"
///    }
///  ]
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
#[serde(untagged)]
pub enum InputEither {
    /// `String`
    String(::std::string::String),
    /// `Integer`
    Integer(i64),
}
impl ::std::fmt::Display for InputEither {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        match self {
            Self::String(x) => x.fmt(f),
            Self::Integer(x) => x.fmt(f),
        }
    }
}
impl ::std::convert::From<i64> for InputEither {
    fn from(value: i64) -> Self {
        Self::Integer(value)
    }
}
///`InputMode`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "enum": [
///    "fast",
///    "safe"
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
pub enum InputMode {
    /// `fast`
    #[serde(rename = "fast")]
    Fast,
    /// `safe`
    #[serde(rename = "safe")]
    Safe,
}
impl ::std::fmt::Display for InputMode {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        match *self {
            Self::Fast => f.write_str("fast"),
            Self::Safe => f.write_str("safe"),
        }
    }
}
impl ::std::str::FromStr for InputMode {
    type Err = self::error::ConversionError;
    fn from_str(
        value: &str,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        match value {
            "fast" => Ok(Self::Fast),
            "safe" => Ok(Self::Safe),
            _ => Err("invalid value".into()),
        }
    }
}
impl ::std::convert::TryFrom<&str> for InputMode {
    type Error = self::error::ConversionError;
    fn try_from(
        value: &str,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        value.parse()
    }
}
impl ::std::convert::TryFrom<&::std::string::String> for InputMode {
    type Error = self::error::ConversionError;
    fn try_from(
        value: &::std::string::String,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        value.parse()
    }
}
impl ::std::convert::TryFrom<::std::string::String> for InputMode {
    type Error = self::error::ConversionError;
    fn try_from(
        value: ::std::string::String,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        value.parse()
    }
}
///`Transfer`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "type": "object",
///  "required": [
///    "iban"
///  ],
///  "properties": {
///    "iban": {
///      "type": "string"
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
pub struct Transfer {
    /// The `iban` field.
    pub iban: ::std::string::String,
}
/// The name of this workflow, as declared.
#[allow(dead_code, reason = "generated for the crate's use, which may not need it")]
pub const NAME: &str = "schema-keywords";
/// The function this workflow is declared to be deployed as, if the declaration says.
#[allow(dead_code, reason = "generated for the crate's use, which may not need it")]
pub const FUNCTION: ::std::option::Option<&str> = ::std::option::Option::None;
/// The JSON Schema of `Input`, with the definitions it refers to. An execution's input must
/// match it before the handler runs: every constraint of the declaration holds, also those
/// the Rust type cannot express.
pub const INPUT_SCHEMA: &str = "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"additionalProperties\":false,\"definitions\":{\"Card\":{\"properties\":{\"card\":{\"type\":\"string\"}},\"required\":[\"card\"],\"type\":\"object\"},\"Transfer\":{\"properties\":{\"iban\":{\"type\":\"string\"}},\"required\":[\"iban\"],\"type\":\"object\"}},\"properties\":{\"choice\":{\"oneOf\":[{\"$ref\":\"#/definitions/Card\"},{\"$ref\":\"#/definitions/Transfer\"}]},\"code\":{\"maxLength\":8,\"minLength\":2,\"pattern\":\"^[A-Z]+$\",\"type\":\"string\"},\"count\":{\"maximum\":100,\"minimum\":1,\"multipleOf\":1,\"type\":\"integer\"},\"either\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]},\"host\":{\"format\":\"ipv4\",\"type\":\"string\"},\"id\":{\"format\":\"uuid\",\"type\":\"string\"},\"limits\":{\"additionalProperties\":{\"type\":\"integer\"},\"maxProperties\":3,\"minProperties\":1,\"type\":\"object\"},\"mode\":{\"enum\":[\"fast\",\"safe\"]},\"pair\":{\"items\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"maxItems\":2,\"minItems\":2,\"type\":\"array\"},\"ratio\":{\"exclusiveMaximum\":1,\"exclusiveMinimum\":0,\"type\":\"number\"},\"tags\":{\"items\":{\"type\":\"string\"},\"maxItems\":5,\"minItems\":1,\"type\":\"array\",\"uniqueItems\":true},\"version\":{\"const\":2},\"when\":{\"$comment\":\"format is documentation only\",\"format\":\"date-time\",\"type\":\"string\"},\"x\":{\"allOf\":[{\"$ref\":\"#/definitions/Card\"}],\"x-note\":\"extensions start with x-\"}},\"required\":[\"count\",\"ratio\",\"code\",\"tags\",\"pair\"],\"title\":\"schema-keywords input\",\"type\":\"object\"}";
/// The result of an execution of this workflow.
pub type Output = bool;
/// Every JSON Schema keyword a declaration may use; the runtime checks them all on the input.
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
    /// The step operation "check".
    ///
    /// Checkpoint name "check"; declared at `/operations/0`.
    ///
    /// Declared configuration (`step`):
    ///
    /// - retry: SDK default (6 attempts, 5s ×2 up to 1m, full jitter)
    /// - semantics: at least once per retry
    /// - timeout: none
    ///
    /// Per call: `.retry(..)` replaces the declared retry policy, `.serdes(..)` the result's serialization; the rest of the declaration stays.
    pub fn check<'a, F, Fut, E>(
        &'a self,
        body: F,
    ) -> ::lambda_durable::__codegen::Step<'a, F>
    where
        F: ::std::ops::FnOnce(::lambda_durable::__codegen::StepContext) -> Fut
            + ::std::marker::Send + 'a,
        Fut: ::std::future::Future<Output = ::std::result::Result<bool, E>>
            + ::std::marker::Send + 'a,
        E: ::std::convert::Into<::lambda_durable::__codegen::BoxError> + 'a,
    {
        ::lambda_durable::__codegen::step(
            &self.ctx,
            "check",
            ::lambda_durable::__codegen::StepConfig {
                retry: ::std::option::Option::None,
                semantics: ::std::option::Option::None,
                timeout: ::std::option::Option::None,
            },
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
