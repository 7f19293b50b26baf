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
///`JobDoneState`
///
/// <details><summary>JSON schema</summary>
///
/// ```json
///{
///  "type": "object",
///  "required": [
///    "done",
///    "id"
///  ],
///  "properties": {
///    "done": {
///      "type": "boolean"
///    },
///    "id": {
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
pub struct JobDoneState {
    /// The `done` field.
    pub done: bool,
    /// The `id` field.
    pub id: ::std::string::String,
}
/// The name of this workflow, as declared.
#[allow(dead_code, reason = "generated for the crate's use, which may not need it")]
pub const NAME: &str = "condition";
/// The function this workflow is declared to be deployed as, if the declaration says.
#[allow(dead_code, reason = "generated for the crate's use, which may not need it")]
pub const FUNCTION: ::std::option::Option<&str> = ::std::option::Option::None;
/// The JSON Schema of `Input`, with the definitions it refers to. An execution's input must
/// match it before the handler runs: every constraint of the declaration holds, also those
/// the Rust type cannot express.
pub const INPUT_SCHEMA: &str = "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"title\":\"condition input\",\"type\":\"null\"}";
/// The event that starts an execution of this workflow.
pub type Input = ();
/// The result of an execution of this workflow.
pub type Output = ();
/// The workflow "condition".
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
    /// The wait-for-condition operation "job done".
    ///
    /// Checkpoint name "job done"; declared at `/operations/0`.
    ///
    /// Declared configuration (`wait-for-condition`):
    ///
    /// - polling: up to 10 checks, 5s ×2 up to 1m, full jitter
    ///
    /// Per call: `.serdes(..)` replaces the state's serialization.
    pub fn job_done<'a, F, Fut, E, P>(
        &'a self,
        initial: JobDoneState,
        check: F,
        until: P,
    ) -> ::lambda_durable::__codegen::WaitForCondition<'a, JobDoneState, F>
    where
        F: ::std::ops::FnOnce(
                JobDoneState,
                ::lambda_durable::__codegen::StepContext,
            ) -> Fut + ::std::marker::Send + 'a,
        Fut: ::std::future::Future<Output = ::std::result::Result<JobDoneState, E>>
            + ::std::marker::Send + 'a,
        E: ::std::convert::Into<::lambda_durable::__codegen::BoxError> + 'a,
        P: ::std::ops::Fn(&JobDoneState) -> bool + ::std::marker::Send
            + ::std::marker::Sync + 'static,
    {
        ::lambda_durable::__codegen::wait_for_condition(
            &self.ctx,
            "job done",
            ::lambda_durable::__codegen::Polling {
                max_attempts: ::std::option::Option::Some(10),
                initial_delay: ::std::option::Option::Some(
                    ::std::time::Duration::from_secs(5),
                ),
                max_delay: ::std::option::Option::Some(
                    ::std::time::Duration::from_secs(60),
                ),
                backoff_rate: ::std::option::Option::Some(2.0),
                jitter: ::std::option::Option::Some(
                    ::lambda_durable::__codegen::Jitter::Full,
                ),
            },
            initial,
            check,
            until,
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
