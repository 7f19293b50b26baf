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
///`Money`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "type": "object",
///  "required": [
///    "cents",
///    "currency"
///  ],
///  "properties": {
///    "cents": {
///      "type": "integer",
///      "minimum": 0.0
///    },
///    "currency": {
///      "type": "string",
///      "enum": [
///        "EUR",
///        "USD"
///      ]
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
pub struct Money {
    /// The `cents` field.
    pub cents: u64,
    /// The `currency` field.
    pub currency: MoneyCurrency,
}
///`MoneyCurrency`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "type": "string",
///  "enum": [
///    "EUR",
///    "USD"
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
pub enum MoneyCurrency {
    /// `EUR`
    #[serde(rename = "EUR")]
    Eur,
    /// `USD`
    #[serde(rename = "USD")]
    Usd,
}
impl ::std::fmt::Display for MoneyCurrency {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        match *self {
            Self::Eur => f.write_str("EUR"),
            Self::Usd => f.write_str("USD"),
        }
    }
}
impl ::std::str::FromStr for MoneyCurrency {
    type Err = self::error::ConversionError;
    fn from_str(
        value: &str,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        match value {
            "EUR" => Ok(Self::Eur),
            "USD" => Ok(Self::Usd),
            _ => Err("invalid value".into()),
        }
    }
}
impl ::std::convert::TryFrom<&str> for MoneyCurrency {
    type Error = self::error::ConversionError;
    fn try_from(
        value: &str,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        value.parse()
    }
}
impl ::std::convert::TryFrom<&::std::string::String> for MoneyCurrency {
    type Error = self::error::ConversionError;
    fn try_from(
        value: &::std::string::String,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        value.parse()
    }
}
impl ::std::convert::TryFrom<::std::string::String> for MoneyCurrency {
    type Error = self::error::ConversionError;
    fn try_from(
        value: ::std::string::String,
    ) -> ::std::result::Result<Self, self::error::ConversionError> {
        value.parse()
    }
}
///`Payment`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "type": "object",
///  "required": [
///    "charged",
///    "paymentId"
///  ],
///  "properties": {
///    "charged": {
///      "$ref": "#/definitions/Money"
///    },
///    "paymentId": {
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
pub struct Payment {
    /// The `charged` field.
    pub charged: Money,
    /// The `paymentId` field.
    #[serde(rename = "paymentId")]
    pub payment_id: ::std::string::String,
}
///`PaymentRequest`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "type": "object",
///  "required": [
///    "amount",
///    "orderId"
///  ],
///  "properties": {
///    "amount": {
///      "$ref": "#/definitions/Money"
///    },
///    "orderId": {
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
pub struct PaymentRequest {
    /// The `amount` field.
    pub amount: Money,
    /// The `orderId` field.
    #[serde(rename = "orderId")]
    pub order_id: ::std::string::String,
}
/// The name of this workflow, as declared.
#[allow(dead_code, reason = "generated for the crate's use, which may not need it")]
pub const NAME: &str = "payments";
/// The function this workflow is declared to be deployed as, if the declaration says.
#[allow(dead_code, reason = "generated for the crate's use, which may not need it")]
pub const FUNCTION: ::std::option::Option<&str> = ::std::option::Option::Some(
    "payments-service:live",
);
/// The JSON Schema of `Input`, with the definitions it refers to. An execution's input must
/// match it before the handler runs: every constraint of the declaration holds, also those
/// the Rust type cannot express.
pub const INPUT_SCHEMA: &str = "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"definitions\":{\"Money\":{\"properties\":{\"cents\":{\"minimum\":0,\"type\":\"integer\"},\"currency\":{\"enum\":[\"EUR\",\"USD\"],\"type\":\"string\"}},\"required\":[\"cents\",\"currency\"],\"type\":\"object\"},\"PaymentRequest\":{\"properties\":{\"amount\":{\"$ref\":\"#/definitions/Money\"},\"orderId\":{\"type\":\"string\"}},\"required\":[\"orderId\",\"amount\"],\"type\":\"object\"}},\"properties\":{\"amount\":{\"$ref\":\"#/definitions/Money\"},\"orderId\":{\"type\":\"string\"}},\"required\":[\"orderId\",\"amount\"],\"title\":\"PaymentRequest\",\"type\":\"object\"}";
/// The event that starts an execution of this workflow.
pub type Input = PaymentRequest;
/// The result of an execution of this workflow.
pub type Output = Payment;
/// A workflow other declarations invoke: its input, output and definitions are their contract.
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
    /// - timeout: none
    ///
    /// Per call: `.retry(..)` replaces the declared retry policy, `.serdes(..)` the result's serialization; the rest of the declaration stays.
    pub fn charge<'a, F, Fut, E>(
        &'a self,
        input: Money,
        body: F,
    ) -> ::lambda_durable::__codegen::Step<
        'a,
        impl ::std::ops::FnOnce(
            ::lambda_durable::__codegen::StepContext,
        ) -> Fut + ::std::marker::Send + 'a,
    >
    where
        F: ::std::ops::FnOnce(Money, ::lambda_durable::__codegen::StepContext) -> Fut
            + ::std::marker::Send + 'a,
        Fut: ::std::future::Future<
                Output = ::std::result::Result<::std::string::String, E>,
            > + ::std::marker::Send + 'a,
        E: ::std::convert::Into<::lambda_durable::__codegen::BoxError> + 'a,
    {
        ::lambda_durable::__codegen::step_with_input(
            &self.ctx,
            "charge",
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
