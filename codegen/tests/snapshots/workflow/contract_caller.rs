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
///`Input`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "type": "object",
///  "required": [
///    "orderId",
///    "total"
///  ],
///  "properties": {
///    "orderId": {
///      "type": "string"
///    },
///    "total": {
///      "$ref": "#/definitions/LambdaDurableExternal0"
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
pub struct Input {
    /// The `orderId` field.
    #[serde(rename = "orderId")]
    pub order_id: ::std::string::String,
    /// The `total` field.
    pub total: super::contract_callee::Money,
}
///A total paid in parts.
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "description": "A total paid in parts.",
///  "type": "array",
///  "items": {
///    "$ref": "#/definitions/LambdaDurableExternal0"
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
#[serde(transparent)]
pub struct Split(pub ::std::vec::Vec<super::contract_callee::Money>);
impl ::std::ops::Deref for Split {
    type Target = ::std::vec::Vec<super::contract_callee::Money>;
    fn deref(&self) -> &::std::vec::Vec<super::contract_callee::Money> {
        &self.0
    }
}
impl ::std::convert::From<Split> for ::std::vec::Vec<super::contract_callee::Money> {
    fn from(value: Split) -> Self {
        value.0
    }
}
impl ::std::convert::From<::std::vec::Vec<super::contract_callee::Money>> for Split {
    fn from(value: ::std::vec::Vec<super::contract_callee::Money>) -> Self {
        Self(value)
    }
}
/// The name of this workflow, as declared.
#[allow(dead_code, reason = "generated for the crate's use, which may not need it")]
pub const NAME: &str = "checkout";
/// The function this workflow is declared to be deployed as, if the declaration says.
#[allow(dead_code, reason = "generated for the crate's use, which may not need it")]
pub const FUNCTION: ::std::option::Option<&str> = ::std::option::Option::None;
/// The JSON Schema of `Input`, with the definitions it refers to. An execution's input must
/// match it before the handler runs: every constraint of the declaration holds, also those
/// the Rust type cannot express.
pub const INPUT_SCHEMA: &str = "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"definitions\":{\"contract_callee.Money\":{\"properties\":{\"cents\":{\"minimum\":0,\"type\":\"integer\"},\"currency\":{\"enum\":[\"EUR\",\"USD\"],\"type\":\"string\"}},\"required\":[\"cents\",\"currency\"],\"type\":\"object\"}},\"properties\":{\"orderId\":{\"type\":\"string\"},\"total\":{\"$ref\":\"#/definitions/contract_callee.Money\"}},\"required\":[\"orderId\",\"total\"],\"title\":\"checkout input\",\"type\":\"object\"}";
/// The result of an execution of this workflow.
pub type Output = super::contract_callee::Output;
/// Invokes the workflow declared in contract_callee.json, typed by its declaration, and shares its types.
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
    /// The step operation "split total".
    ///
    /// Checkpoint name "split total"; declared at `/operations/0`.
    ///
    /// Declared configuration (`step`):
    ///
    /// - retry: SDK default (6 attempts, 5s ×2 up to 1m, full jitter)
    /// - semantics: at least once per retry
    /// - timeout: none
    ///
    /// Per call: `.retry(..)` replaces the declared retry policy, `.serdes(..)` the result's serialization; the rest of the declaration stays.
    pub fn split_total<'a, F, Fut, E>(
        &'a self,
        body: F,
    ) -> ::lambda_durable::__codegen::Step<'a, F>
    where
        F: ::std::ops::FnOnce(::lambda_durable::__codegen::StepContext) -> Fut
            + ::std::marker::Send + 'a,
        Fut: ::std::future::Future<Output = ::std::result::Result<Split, E>>
            + ::std::marker::Send + 'a,
        E: ::std::convert::Into<::lambda_durable::__codegen::BoxError> + 'a,
    {
        ::lambda_durable::__codegen::step(
            &self.ctx,
            "split total",
            ::lambda_durable::__codegen::StepConfig {
                retry: ::std::option::Option::None,
                semantics: ::std::option::Option::None,
                timeout: ::std::option::Option::None,
            },
            body,
        )
    }
    /// The payment, by the callee's declaration: payload, result and function.
    ///
    /// Checkpoint name "pay"; declared at `/operations/1`.
    ///
    /// Declared configuration (`invoke`):
    ///
    /// - workflow: declared in contract\_callee.json
    /// - function: payments-service:live
    ///
    /// Per call: `.tenant_id(..)`, `.trace_header(..)` and `.result_serdes(..)`.
    pub fn pay(
        &self,
        payload: super::contract_callee::Input,
    ) -> ::lambda_durable::__codegen::Invoke<'_, super::contract_callee::Output> {
        ::lambda_durable::__codegen::invoke(
            &self.ctx,
            "pay",
            "payments-service:live",
            payload,
        )
    }
    /// The invoke operation "pay elsewhere".
    ///
    /// Checkpoint name "pay elsewhere"; declared at `/operations/2`.
    ///
    /// Declared configuration (`invoke`):
    ///
    /// - workflow: declared in contract\_callee.json
    /// - function: payments-service:canary
    ///
    /// Per call: `.tenant_id(..)`, `.trace_header(..)` and `.result_serdes(..)`.
    pub fn pay_elsewhere(
        &self,
        payload: super::contract_callee::Input,
    ) -> ::lambda_durable::__codegen::Invoke<'_, super::contract_callee::Output> {
        ::lambda_durable::__codegen::invoke(
            &self.ctx,
            "pay elsewhere",
            "payments-service:canary",
            payload,
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
