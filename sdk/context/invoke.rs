//! `invoke`: call another Lambda function (durable or not) and wait for its result.

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tracing::Instrument;

use super::{DurableContext, Name, Position};
use crate::error::{error_object, Error};
use crate::replay::Expected;
use crate::wire::{ChainedInvokeOptions, OperationAction, OperationStatus, OperationType};

const SUB_TYPE: &str = "ChainedInvoke";

/// An invoke being configured; `.await` it to run it. Created by
/// [`DurableContext::invoke`].
#[must_use = "an invoke does nothing until it is awaited"]
pub struct Invoke<'a, R> {
    ctx: &'a DurableContext,
    position: Position,
    function_name: String,
    payload: Result<String, String>,
    tenant_id: Option<String>,
    result: PhantomData<fn() -> R>,
}

impl DurableContext {
    /// Invokes the function `function_name` (a name or ARN, optionally qualified) with
    /// `payload` as its event, and waits for its result.
    ///
    /// The service runs the target, durable or not; the execution suspends meanwhile and
    /// nothing is billed. The payload and the result are JSON. A failure of the target
    /// comes back as [`Error::InvokeFailed`], a timeout as [`Error::InvokeTimedOut`], a
    /// stopped durable target as [`Error::InvokeStopped`].
    ///
    /// ```no_run
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// #[derive(serde::Serialize)]
    /// struct Shipment { order: String }
    /// #[derive(serde::Deserialize)]
    /// struct Label { tracking: String }
    ///
    /// async fn ship(ctx: &DurableContext) -> Result<String, Error> {
    ///     let label = ctx
    ///         .invoke::<Label>("create label", "shipping-labels", Shipment { order: "o-1".into() })
    ///         .await?;
    ///     Ok(label.tracking)
    /// }
    /// ```
    pub fn invoke<R>(
        &self,
        name: impl Into<Name>,
        function_name: impl Into<String>,
        payload: impl Serialize,
    ) -> Invoke<'_, R> {
        Invoke {
            ctx: self,
            position: self.reserve(name.into()),
            function_name: function_name.into(),
            payload: serde_json::to_string(&payload).map_err(|err| err.to_string()),
            tenant_id: None,
            result: PhantomData,
        }
    }
}

impl<R> Invoke<'_, R> {
    /// Runs the target on behalf of this tenant (for tenant-isolated functions).
    pub fn tenant_id(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant_id.into());
        self
    }
}

impl<'a, R> IntoFuture for Invoke<'a, R>
where
    R: DeserializeOwned + Send + 'a,
{
    type Output = Result<R, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<R, Error>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let span = tracing::info_span!(
            "invoke",
            operation_id = %self.position.id,
            name = self.position.name_str(),
            function = %self.function_name,
        );
        Box::pin(self.run().instrument(span))
    }
}

impl<'a, R: DeserializeOwned + Send + 'a> Invoke<'a, R> {
    async fn run(self) -> Result<R, Error> {
        let ctx = self.ctx;
        let position = &self.position;
        ctx.check_name(position, "invoke")?;
        let operation = || position.reference("invoke");
        if self.function_name.is_empty() || self.function_name.len() > 256 {
            return Err(Error::InvalidArgument {
                operation: operation(),
                message: format!(
                    "function name must be 1 to 256 characters, got {}",
                    self.function_name.len()
                ),
            });
        }
        if self
            .tenant_id
            .as_ref()
            .is_some_and(|t| t.is_empty() || t.len() > 256)
        {
            return Err(Error::InvalidArgument {
                operation: operation(),
                message: "tenant id must be 1 to 256 characters".to_string(),
            });
        }
        let expected = Expected {
            ty: OperationType::ChainedInvoke,
            sub_type: SUB_TYPE,
            name: position.name_str(),
        };
        let exec = Arc::clone(ctx.exec());
        if ctx.recorded(position, expected).await.is_none() {
            let payload = self.payload.map_err(|message| Error::Serialization {
                operation: operation(),
                action: "serialize",
                message,
            })?;
            crate::limits::check_payload(operation, "payload", payload.len())?;
            let mut update = position.update(
                OperationType::ChainedInvoke,
                SUB_TYPE,
                OperationAction::Start,
            );
            update.payload = Some(payload);
            update.chained_invoke_options = Some(ChainedInvokeOptions {
                function_name: self.function_name.clone(),
                tenant_id: self.tenant_id.clone(),
                x_amzn_trace_id: None,
            });
            exec.checkpoint(update).await?;
        }
        let Some(op) = exec.operations.get(&position.id) else {
            exec.park().await
        };
        let details = op.chained_invoke_details.as_ref();
        let recorded_error = || {
            Box::new(details.and_then(|d| d.error.clone()).unwrap_or_else(|| {
                error_object("InvokeError", &format!("invoke ended {}", op.status))
            }))
        };
        if crate::replay::is_terminal(op.status) {
            ctx.finished(&position.digest);
        }
        match op.status {
            OperationStatus::Succeeded => {
                let text = details.and_then(|d| d.result.as_deref()).unwrap_or("null");
                serde_json::from_str(text).map_err(|err| Error::Serialization {
                    operation: operation(),
                    action: "deserialize",
                    message: err.to_string(),
                })
            }
            OperationStatus::TimedOut => Err(Error::InvokeTimedOut {
                operation: operation(),
                error: recorded_error(),
            }),
            OperationStatus::Stopped => Err(Error::InvokeStopped {
                operation: operation(),
                error: recorded_error(),
            }),
            OperationStatus::Failed | OperationStatus::Cancelled => Err(Error::InvokeFailed {
                operation: operation(),
                error: recorded_error(),
            }),
            OperationStatus::Started | OperationStatus::Pending | OperationStatus::Ready => {
                exec.park().await
            }
        }
    }
}
