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
///    "id"
///  ],
///  "properties": {
///    "id": {
///      "description": "Order id.",
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
pub struct Input {
    ///Order id.
    pub id: ::std::string::String,
}
///`Output`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "type": "object",
///  "properties": {
///    "total": {
///      "type": "integer"
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
pub struct Output {
    /// The `total` field.
    #[serde(default, skip_serializing_if = "::std::option::Option::is_none")]
    pub total: ::std::option::Option<i64>,
}
impl ::std::default::Default for Output {
    fn default() -> Self {
        Self { total: Default::default() }
    }
}
/// The name of this workflow, as declared.
#[allow(dead_code, reason = "generated for the crate's use, which may not need it")]
pub const NAME: &str = "inline";
/// The function this workflow is declared to be deployed as, if the declaration says.
#[allow(dead_code, reason = "generated for the crate's use, which may not need it")]
pub const FUNCTION: ::std::option::Option<&str> = ::std::option::Option::None;
/// The JSON Schema of `Input`, with the definitions it refers to. An execution's input must
/// match it before the handler runs: every constraint of the declaration holds, also those
/// the Rust type cannot express.
pub const INPUT_SCHEMA: &str = "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"properties\":{\"id\":{\"description\":\"Order id.\",\"type\":\"string\"}},\"required\":[\"id\"],\"title\":\"inline input\",\"type\":\"object\"}";
/// The workflow "inline".
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
impl Workflow {}
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
