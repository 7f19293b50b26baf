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
///`ResizeImagesOutput`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "type": "object",
///  "required": [
///    "url"
///  ],
///  "properties": {
///    "url": {
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
pub struct ResizeImagesOutput {
    /// The `url` field.
    pub url: ::std::string::String,
}
/// The name of this workflow, as declared.
#[allow(dead_code, reason = "generated for the crate's use, which may not need it")]
pub const NAME: &str = "map";
/// The function this workflow is declared to be deployed as, if the declaration says.
#[allow(dead_code, reason = "generated for the crate's use, which may not need it")]
pub const FUNCTION: ::std::option::Option<&str> = ::std::option::Option::None;
/// The JSON Schema of `Input`, with the definitions it refers to. An execution's input must
/// match it before the handler runs: every constraint of the declaration holds, also those
/// the Rust type cannot express.
pub const INPUT_SCHEMA: &str = "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"title\":\"map input\",\"type\":\"null\"}";
/// The event that starts an execution of this workflow.
pub type Input = ();
/// The result of an execution of this workflow.
pub type Output = ();
/// The workflow "map".
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
    /// The map operation "resize images".
    ///
    /// Checkpoint name "resize images"; declared at `/operations/0`.
    ///
    /// Declared configuration (`map`):
    ///
    /// - concurrency: at most 10 at once
    /// - completion: done after 2 successes, tolerates 3 failures, tolerates 25% failures
    /// - nesting: flat
    ///
    /// Per call: `.item_namer(..)` names each item's context, `.item_serdes(..)` and `.serdes(..)` replace the serialization; batch settings (`.max_concurrency(..)`, `.completion(..)`, `.nesting(..)`) replace the declared ones.
    pub fn resize_images<'a, F, Fut, E>(
        &'a self,
        items: ::std::vec::Vec<::std::string::String>,
        function: F,
    ) -> ::lambda_durable::__codegen::Map<
        'a,
        ::std::string::String,
        impl ::std::ops::Fn(
            ::lambda_durable::__codegen::DurableContext,
            ::std::string::String,
            usize,
        ) -> Fut + ::std::marker::Send + ::std::marker::Sync + 'a,
    >
    where
        F: ::std::ops::Fn(Self, ::std::string::String, usize) -> Fut
            + ::std::marker::Send + ::std::marker::Sync + 'a,
        Fut: ::std::future::Future<Output = ::std::result::Result<ResizeImagesOutput, E>>
            + ::std::marker::Send + 'a,
        E: ::std::convert::Into<::lambda_durable::__codegen::BoxError> + 'a,
    {
        ::lambda_durable::__codegen::map(
            &self.ctx,
            "resize images",
            ::lambda_durable::__codegen::BatchConfig {
                max_concurrency: ::std::option::Option::Some(10),
                min_successful: ::std::option::Option::Some(2),
                tolerated_failure_count: ::std::option::Option::Some(3),
                tolerated_failure_percentage: ::std::option::Option::Some(25.0),
                nesting: ::std::option::Option::Some(
                    ::lambda_durable::__codegen::Nesting::Flat,
                ),
            },
            items,
            function,
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
