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
///`ChargeError`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "oneOf": [
///    {
///      "type": "object",
///      "required": [
///        "declined"
///      ],
///      "properties": {
///        "declined": {
///          "type": "object",
///          "required": [
///            "reason"
///          ],
///          "properties": {
///            "reason": {
///              "type": "string"
///            }
///          }
///        }
///      },
///      "additionalProperties": false
///    },
///    {
///      "type": "object",
///      "required": [
///        "limit"
///      ],
///      "properties": {
///        "limit": {
///          "type": "integer",
///          "minimum": 0.0
///        }
///      },
///      "additionalProperties": false
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
pub enum ChargeError {
    /// `declined`
    #[serde(rename = "declined")]
    Declined { reason: ::std::string::String },
    /// `limit`
    #[serde(rename = "limit")]
    Limit(u64),
}
impl ::std::convert::From<u64> for ChargeError {
    fn from(value: u64) -> Self {
        Self::Limit(value)
    }
}
///`GatewayError`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "type": "string",
///  "enum": [
///    "busy",
///    "down"
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
pub enum GatewayError {
    /// `busy`
    #[serde(rename = "busy")]
    Busy,
    /// `down`
    #[serde(rename = "down")]
    Down,
}
impl ::std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        match *self {
            Self::Busy => f.write_str("busy"),
            Self::Down => f.write_str("down"),
        }
    }
}
impl ::std::str::FromStr for GatewayError {
    type Err = self::error::ConversionError;
    fn from_str(
        value: &str,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        match value {
            "busy" => Ok(Self::Busy),
            "down" => Ok(Self::Down),
            _ => Err("invalid value".into()),
        }
    }
}
impl ::std::convert::TryFrom<&str> for GatewayError {
    type Error = self::error::ConversionError;
    fn try_from(
        value: &str,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        value.parse()
    }
}
impl ::std::convert::TryFrom<&::std::string::String> for GatewayError {
    type Error = self::error::ConversionError;
    fn try_from(
        value: &::std::string::String,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        value.parse()
    }
}
impl ::std::convert::TryFrom<::std::string::String> for GatewayError {
    type Error = self::error::ConversionError;
    fn try_from(
        value: ::std::string::String,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        value.parse()
    }
}
/// The name of this workflow, as declared.
#[allow(dead_code, reason = "generated for the crate's use, which may not need it")]
pub const NAME: &str = "payments";
/// The function this workflow is declared to be deployed as, if the declaration says.
#[allow(dead_code, reason = "generated for the crate's use, which may not need it")]
pub const FUNCTION: ::std::option::Option<&str> = ::std::option::Option::None;
/// The JSON Schema of `Input`, with the definitions it refers to. An execution's input must
/// match it before the handler runs: every constraint of the declaration holds, also those
/// the Rust type cannot express.
pub const INPUT_SCHEMA: &str = "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"title\":\"payments input\",\"type\":\"null\"}";
/// The event that starts an execution of this workflow.
pub type Input = ();
/// The result of an execution of this workflow.
pub type Output = ();
/// The workflow "payments".
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
    /// The step operation "charge".
    ///
    /// Checkpoint name "charge"; declared at `/operations/0`.
    ///
    /// Declared configuration (`step`):
    ///
    /// - retry: SDK default (6 attempts, 5s ×2 up to 1m, full jitter)
    /// - semantics: at least once per retry
    /// - timeout: 30s per attempt
    /// - error: declared type
    ///
    /// Per call: `.retry(..)` replaces the declared retry policy, `.serdes(..)` the result's serialization; the rest of the declaration stays.
    pub fn charge<'a, F, Fut>(
        &'a self,
        input: u64,
        body: F,
    ) -> ::lambda_durable::__codegen::DeclaredStep<
        'a,
        ::std::string::String,
        ChargeError,
    >
    where
        F: ::std::ops::FnOnce(u64, ::lambda_durable::__codegen::StepContext) -> Fut
            + ::std::marker::Send + 'a,
        Fut: ::std::future::Future<
                Output = ::std::result::Result<::std::string::String, ChargeError>,
            > + ::std::marker::Send + 'a,
    {
        ::lambda_durable::__codegen::typed_step_with_input(
            &self.ctx,
            "charge",
            ::lambda_durable::__codegen::StepConfig {
                retry: ::std::option::Option::None,
                semantics: ::std::option::Option::None,
                timeout: ::std::option::Option::Some(
                    ::std::time::Duration::from_secs(30),
                ),
            },
            input,
            body,
        )
    }
    /// The step operation "refund".
    ///
    /// Checkpoint name "refund"; declared at `/operations/1`.
    ///
    /// Declared configuration (`step`):
    ///
    /// - retry: SDK default (6 attempts, 5s ×2 up to 1m, full jitter)
    /// - semantics: at least once per retry
    /// - timeout: none
    /// - error: declared type
    ///
    /// Per call: `.retry(..)` replaces the declared retry policy, `.serdes(..)` the result's serialization; the rest of the declaration stays.
    pub fn refund<'a, F, Fut>(
        &'a self,
        body: F,
    ) -> ::lambda_durable::__codegen::DeclaredStep<'a, (), GatewayError>
    where
        F: ::std::ops::FnOnce(::lambda_durable::__codegen::StepContext) -> Fut
            + ::std::marker::Send + 'a,
        Fut: ::std::future::Future<Output = ::std::result::Result<(), GatewayError>>
            + ::std::marker::Send + 'a,
    {
        ::lambda_durable::__codegen::typed_step(
            &self.ctx,
            "refund",
            ::lambda_durable::__codegen::StepConfig {
                retry: ::std::option::Option::None,
                semantics: ::std::option::Option::None,
                timeout: ::std::option::Option::None,
            },
            body,
        )
    }
    /// The step operation "notify".
    ///
    /// Checkpoint name "notify"; declared at `/operations/2`.
    ///
    /// Declared configuration (`step`):
    ///
    /// - retry: SDK default (6 attempts, 5s ×2 up to 1m, full jitter)
    /// - semantics: at least once per retry
    /// - timeout: 2m per attempt
    /// - error: declared type
    ///
    /// Per call: `.retry(..)` replaces the declared retry policy, `.serdes(..)` the result's serialization; the rest of the declaration stays.
    pub fn notify<'a, F, Fut>(
        &'a self,
        body: F,
    ) -> ::lambda_durable::__codegen::DeclaredStep<'a, (), GatewayError>
    where
        F: ::std::ops::FnOnce(::lambda_durable::__codegen::StepContext) -> Fut
            + ::std::marker::Send + 'a,
        Fut: ::std::future::Future<Output = ::std::result::Result<(), GatewayError>>
            + ::std::marker::Send + 'a,
    {
        ::lambda_durable::__codegen::typed_step(
            &self.ctx,
            "notify",
            ::lambda_durable::__codegen::StepConfig {
                retry: ::std::option::Option::None,
                semantics: ::std::option::Option::None,
                timeout: ::std::option::Option::Some(
                    ::std::time::Duration::from_secs(120),
                ),
            },
            body,
        )
    }
}
impl ::std::fmt::Display for ChargeError {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        f.write_str(
            &::lambda_durable::__codegen::serde_json::to_string(self).unwrap_or_default(),
        )
    }
}
impl ::std::error::Error for ChargeError {}
impl ::lambda_durable::__codegen::TypedError for ChargeError {
    fn error_type() -> ::std::string::String {
        ::std::format!("{}.{}", NAME, "ChargeError")
    }
}
impl ::std::error::Error for GatewayError {}
impl ::lambda_durable::__codegen::TypedError for GatewayError {
    fn error_type() -> ::std::string::String {
        ::std::format!("{}.{}", NAME, "GatewayError")
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
