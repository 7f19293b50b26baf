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
pub const NAME: &str = "presets";
/// The event that starts an execution of this workflow.
pub type Input = ();
/// The result of an execution of this workflow.
pub type Output = ();
/// The workflow "presets".
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
impl Workflow {
    /// The step operation "default".
    ///
    /// Checkpoint name "default"; declared at `/operations/0`.
    pub fn default<'a, F, Fut, E>(
        &'a self,
        body: F,
    ) -> impl ::std::future::Future<
        Output = ::std::result::Result<(), ::lambda_durable::__codegen::Error>,
    > + ::std::marker::Send + 'a
    where
        F: ::std::ops::FnOnce(::lambda_durable::__codegen::StepContext) -> Fut
            + ::std::marker::Send + 'a,
        Fut: ::std::future::Future<Output = ::std::result::Result<(), E>>
            + ::std::marker::Send + 'a,
        E: ::std::convert::Into<::lambda_durable::__codegen::BoxError> + 'a,
    {
        ::lambda_durable::__codegen::step(
            &self.ctx,
            "default",
            ::lambda_durable::__codegen::StepConfig {
                retry: ::std::option::Option::Some(
                    ::lambda_durable::__codegen::Retry::Default(::lambda_durable::__codegen::Filter {
                        message_matches: &[],
                        message_contains: &[],
                        error_types: &[],
                    }),
                ),
                semantics: ::std::option::Option::None,
                timeout: ::std::option::Option::None,
            },
            body,
        )
    }
    /// The step operation "transient".
    ///
    /// Checkpoint name "transient"; declared at `/operations/1`.
    pub fn transient<'a, F, Fut, E>(
        &'a self,
        body: F,
    ) -> impl ::std::future::Future<
        Output = ::std::result::Result<(), ::lambda_durable::__codegen::Error>,
    > + ::std::marker::Send + 'a
    where
        F: ::std::ops::FnOnce(::lambda_durable::__codegen::StepContext) -> Fut
            + ::std::marker::Send + 'a,
        Fut: ::std::future::Future<Output = ::std::result::Result<(), E>>
            + ::std::marker::Send + 'a,
        E: ::std::convert::Into<::lambda_durable::__codegen::BoxError> + 'a,
    {
        ::lambda_durable::__codegen::step(
            &self.ctx,
            "transient",
            ::lambda_durable::__codegen::StepConfig {
                retry: ::std::option::Option::Some(
                    ::lambda_durable::__codegen::Retry::Transient(::lambda_durable::__codegen::Filter {
                        message_matches: &[],
                        message_contains: &[],
                        error_types: &["Timeout"],
                    }),
                ),
                semantics: ::std::option::Option::None,
                timeout: ::std::option::Option::None,
            },
            body,
        )
    }
    /// The step operation "resource".
    ///
    /// Checkpoint name "resource"; declared at `/operations/2`.
    pub fn resource<'a, F, Fut, E>(
        &'a self,
        body: F,
    ) -> impl ::std::future::Future<
        Output = ::std::result::Result<(), ::lambda_durable::__codegen::Error>,
    > + ::std::marker::Send + 'a
    where
        F: ::std::ops::FnOnce(::lambda_durable::__codegen::StepContext) -> Fut
            + ::std::marker::Send + 'a,
        Fut: ::std::future::Future<Output = ::std::result::Result<(), E>>
            + ::std::marker::Send + 'a,
        E: ::std::convert::Into<::lambda_durable::__codegen::BoxError> + 'a,
    {
        ::lambda_durable::__codegen::step(
            &self.ctx,
            "resource",
            ::lambda_durable::__codegen::StepConfig {
                retry: ::std::option::Option::Some(
                    ::lambda_durable::__codegen::Retry::ResourceAvailability(::lambda_durable::__codegen::Filter {
                        message_matches: &[],
                        message_contains: &[],
                        error_types: &[],
                    }),
                ),
                semantics: ::std::option::Option::None,
                timeout: ::std::option::Option::None,
            },
            body,
        )
    }
    /// The step operation "critical".
    ///
    /// Checkpoint name "critical"; declared at `/operations/3`.
    pub fn critical<'a, F, Fut, E>(
        &'a self,
        body: F,
    ) -> impl ::std::future::Future<
        Output = ::std::result::Result<(), ::lambda_durable::__codegen::Error>,
    > + ::std::marker::Send + 'a
    where
        F: ::std::ops::FnOnce(::lambda_durable::__codegen::StepContext) -> Fut
            + ::std::marker::Send + 'a,
        Fut: ::std::future::Future<Output = ::std::result::Result<(), E>>
            + ::std::marker::Send + 'a,
        E: ::std::convert::Into<::lambda_durable::__codegen::BoxError> + 'a,
    {
        ::lambda_durable::__codegen::step(
            &self.ctx,
            "critical",
            ::lambda_durable::__codegen::StepConfig {
                retry: ::std::option::Option::Some(
                    ::lambda_durable::__codegen::Retry::Critical(::lambda_durable::__codegen::Filter {
                        message_matches: &[],
                        message_contains: &["busy"],
                        error_types: &[],
                    }),
                ),
                semantics: ::std::option::Option::None,
                timeout: ::std::option::Option::None,
            },
            body,
        )
    }
}
/// Turns the typed handler of this workflow, `async fn(Input, Workflow) -> Result<Output, E>`,
/// into the handler that `lambda_durable::run` and the local runner take.
pub fn handler<F, Fut, E>(
    handler: F,
) -> impl ::std::ops::Fn(
    Input,
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
