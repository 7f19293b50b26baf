//! Registering a declared workflow by its declaration.

use std::future::Future;

use lambda_durable::DurableContext;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::LocalRunner;
use lambda_durable::__codegen::{DeclaredInput, DeclaredWorkflow};

impl LocalRunner {
    /// Registers the handler of a declared workflow (what its generated `handler` function
    /// returns) under the function its declaration names (`"function"`), so that the
    /// invokes of other workflows reach it, as [`LocalRunner::register`] does for any
    /// name. A declaration without a `function` is registered under its `name`.
    ///
    /// With `workflows/shipping.json` declaring `"function": "shipping-service:live"`, and
    /// the order workflow's `"ship order"` invoke naming it (`"workflow": "shipping.json"`),
    /// `LocalRunner::new(order::handler(process_order)).register_workflow(shipping::handler(ship))`
    /// runs the shipping workflow for the invoke (`examples/orders` does this in its
    /// tests). Below, a hand-written stand-in for the generated module:
    ///
    /// ```
    /// use lambda_durable::{DurableContext, Error};
    /// use lambda_durable_testing::LocalRunner;
    /// use serde_json::{json, Value};
    /// # mod shipping {
    /// #     use lambda_durable::__codegen::{DeclaredInput, DeclaredWorkflow};
    /// #     pub struct Workflow;
    /// #     impl DeclaredWorkflow for Workflow {
    /// #         const INPUT_SCHEMA: &'static str = r#"{"type": "object"}"#;
    /// #         const NAME: &'static str = "shipping";
    /// #         const FUNCTION: Option<&'static str> = Some("shipping-service:live");
    /// #     }
    /// #     pub async fn handler(
    /// #         input: DeclaredInput<serde_json::Value, Workflow>,
    /// #         _ctx: lambda_durable::DurableContext,
    /// #     ) -> Result<String, lambda_durable::Error> {
    /// #         Ok(format!("TRK-{}", input.value["orderId"].as_str().unwrap_or("?")))
    /// #     }
    /// # }
    ///
    /// async fn order(input: Value, ctx: DurableContext) -> Result<String, Error> {
    ///     ctx.invoke("ship order", "shipping-service:live", input).await
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // `shipping::handler` stands for `shipping::handler(ship)` of a generated module.
    /// let runner = LocalRunner::new(order).register_workflow(shipping::handler);
    /// let execution = runner.run(json!({ "orderId": "o-1" })).await?;
    /// assert_eq!(execution.result::<String>()?, "TRK-o-1");
    /// assert_eq!(execution.children()[0].function_name(), "shipping-service:live");
    /// # Ok(()) }
    /// ```
    pub fn register_workflow<H, I, W, T, Err, Fut>(self, handler: H) -> Self
    where
        H: Fn(DeclaredInput<I, W>, DurableContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, Err>> + Send + 'static,
        I: DeserializeOwned,
        W: DeclaredWorkflow,
        T: Serialize,
        Err: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        let name = W::FUNCTION.unwrap_or(W::NAME);
        self.register(name, handler)
    }
}
