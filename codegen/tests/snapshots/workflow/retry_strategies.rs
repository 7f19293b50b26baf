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
/// The name of this workflow, as declared.
#[allow(dead_code, reason = "generated for the crate's use, which may not need it")]
pub const NAME: &str = "strategies";
/// The function this workflow is declared to be deployed as, if the declaration says.
#[allow(dead_code, reason = "generated for the crate's use, which may not need it")]
pub const FUNCTION: ::std::option::Option<&str> = ::std::option::Option::None;
/// The JSON Schema of `Input`, with the definitions it refers to. An execution's input must
/// match it before the handler runs: every constraint of the declaration holds, also those
/// the Rust type cannot express.
pub const INPUT_SCHEMA: &str = "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"title\":\"strategies input\",\"type\":\"null\"}";
/// The event that starts an execution of this workflow.
pub type Input = ();
/// The result of an execution of this workflow.
pub type Output = ();
/// The workflow "strategies".
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
    /// The step operation "exponential".
    ///
    /// Checkpoint name "exponential"; declared at `/operations/0`.
    ///
    /// Declared configuration (`step`):
    ///
    /// - retry: exponential (5 attempts, 2s ×1.5 up to 5m, half jitter); only when the message matches /time(d)? ?out/ or the message contains "busy" or the error type is Throttled
    /// - semantics: at least once per retry
    /// - timeout: none
    ///
    /// Per call: `.retry(..)` replaces the declared retry policy, `.serdes(..)` the result's serialization; the rest of the declaration stays.
    pub fn exponential<'a, F, Fut, E>(
        &'a self,
        body: F,
    ) -> ::lambda_durable::__codegen::Step<'a, F>
    where
        F: ::std::ops::FnOnce(::lambda_durable::__codegen::StepContext) -> Fut
            + ::std::marker::Send + 'a,
        Fut: ::std::future::Future<Output = ::std::result::Result<(), E>>
            + ::std::marker::Send + 'a,
        E: ::std::convert::Into<::lambda_durable::__codegen::BoxError> + 'a,
    {
        ::lambda_durable::__codegen::step(
            &self.ctx,
            "exponential",
            ::lambda_durable::__codegen::StepConfig {
                retry: ::std::option::Option::Some(
                    ::lambda_durable::__codegen::Retry::Exponential(::lambda_durable::__codegen::Exponential {
                        max_attempts: ::std::option::Option::Some(5),
                        initial_delay: ::std::option::Option::Some(
                            ::std::time::Duration::from_secs(2),
                        ),
                        max_delay: ::std::option::Option::Some(
                            ::std::time::Duration::from_secs(300),
                        ),
                        backoff_rate: ::std::option::Option::Some(1.5),
                        jitter: ::std::option::Option::Some(
                            ::lambda_durable::__codegen::Jitter::Half,
                        ),
                        retry_if: ::lambda_durable::__codegen::Filter {
                            message_matches: &["time(d)? ?out"],
                            message_contains: &["busy"],
                            error_types: &["Throttled"],
                        },
                    }),
                ),
                semantics: ::std::option::Option::None,
                timeout: ::std::option::Option::None,
            },
            body,
        )
    }
    /// The step operation "linear".
    ///
    /// Checkpoint name "linear"; declared at `/operations/1`.
    ///
    /// Declared configuration (`step`):
    ///
    /// - retry: linear (4 attempts, 1s +3s up to 5m, no jitter)
    /// - semantics: at least once per retry
    /// - timeout: none
    ///
    /// Per call: `.retry(..)` replaces the declared retry policy, `.serdes(..)` the result's serialization; the rest of the declaration stays.
    pub fn linear<'a, F, Fut, E>(
        &'a self,
        body: F,
    ) -> ::lambda_durable::__codegen::Step<'a, F>
    where
        F: ::std::ops::FnOnce(::lambda_durable::__codegen::StepContext) -> Fut
            + ::std::marker::Send + 'a,
        Fut: ::std::future::Future<Output = ::std::result::Result<(), E>>
            + ::std::marker::Send + 'a,
        E: ::std::convert::Into<::lambda_durable::__codegen::BoxError> + 'a,
    {
        ::lambda_durable::__codegen::step(
            &self.ctx,
            "linear",
            ::lambda_durable::__codegen::StepConfig {
                retry: ::std::option::Option::Some(
                    ::lambda_durable::__codegen::Retry::Linear(::lambda_durable::__codegen::Linear {
                        max_attempts: ::std::option::Option::Some(4),
                        initial_delay: ::std::option::Option::Some(
                            ::std::time::Duration::from_secs(1),
                        ),
                        increment: ::std::option::Option::Some(
                            ::std::time::Duration::from_secs(3),
                        ),
                        max_delay: ::std::option::Option::None,
                        jitter: ::std::option::Option::Some(
                            ::lambda_durable::__codegen::Jitter::None,
                        ),
                        retry_if: ::lambda_durable::__codegen::Filter {
                            message_matches: &[],
                            message_contains: &[],
                            error_types: &[],
                        },
                    }),
                ),
                semantics: ::std::option::Option::None,
                timeout: ::std::option::Option::None,
            },
            body,
        )
    }
    /// The step operation "fixed".
    ///
    /// Checkpoint name "fixed"; declared at `/operations/2`.
    ///
    /// Declared configuration (`step`):
    ///
    /// - retry: fixed (3 attempts, 10s apart)
    /// - semantics: at least once per retry
    /// - timeout: none
    ///
    /// Per call: `.retry(..)` replaces the declared retry policy, `.serdes(..)` the result's serialization; the rest of the declaration stays.
    pub fn fixed<'a, F, Fut, E>(
        &'a self,
        body: F,
    ) -> ::lambda_durable::__codegen::Step<'a, F>
    where
        F: ::std::ops::FnOnce(::lambda_durable::__codegen::StepContext) -> Fut
            + ::std::marker::Send + 'a,
        Fut: ::std::future::Future<Output = ::std::result::Result<(), E>>
            + ::std::marker::Send + 'a,
        E: ::std::convert::Into<::lambda_durable::__codegen::BoxError> + 'a,
    {
        ::lambda_durable::__codegen::step(
            &self.ctx,
            "fixed",
            ::lambda_durable::__codegen::StepConfig {
                retry: ::std::option::Option::Some(
                    ::lambda_durable::__codegen::Retry::Fixed(::lambda_durable::__codegen::Fixed {
                        interval: ::std::time::Duration::from_secs(10),
                        max_attempts: ::std::option::Option::Some(3),
                        retry_if: ::lambda_durable::__codegen::Filter {
                            message_matches: &[],
                            message_contains: &[],
                            error_types: &[],
                        },
                    }),
                ),
                semantics: ::std::option::Option::None,
                timeout: ::std::option::Option::None,
            },
            body,
        )
    }
    /// The step operation "never".
    ///
    /// Checkpoint name "never"; declared at `/operations/3`.
    ///
    /// Declared configuration (`step`):
    ///
    /// - retry: none (one attempt)
    /// - semantics: at least once per retry
    /// - timeout: none
    ///
    /// Per call: `.retry(..)` replaces the declared retry policy, `.serdes(..)` the result's serialization; the rest of the declaration stays.
    pub fn never<'a, F, Fut, E>(
        &'a self,
        body: F,
    ) -> ::lambda_durable::__codegen::Step<'a, F>
    where
        F: ::std::ops::FnOnce(::lambda_durable::__codegen::StepContext) -> Fut
            + ::std::marker::Send + 'a,
        Fut: ::std::future::Future<Output = ::std::result::Result<(), E>>
            + ::std::marker::Send + 'a,
        E: ::std::convert::Into<::lambda_durable::__codegen::BoxError> + 'a,
    {
        ::lambda_durable::__codegen::step(
            &self.ctx,
            "never",
            ::lambda_durable::__codegen::StepConfig {
                retry: ::std::option::Option::Some(
                    ::lambda_durable::__codegen::Retry::None,
                ),
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
