//! `invoke`: call another Lambda function (durable or not) and wait for its result.

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;

use tracing::Instrument;

use super::lifecycle::Op;
use super::{DurableContext, Name, Position};
use crate::error::Error;
use crate::replay::invoke::{invoke_decision, InvokeDecision};
use crate::serdes::{Decode, Encode, JsonSerdes, SerdesError};
use crate::wire::{ChainedInvokeOptions, OperationAction, OperationType};

const SUB_TYPE: &str = "ChainedInvoke";

/// An invoke being configured; `.await` it to run it. Created by
/// [`DurableContext::invoke`].
#[must_use = "an invoke does nothing until it is awaited"]
pub struct Invoke<'a, R, D = JsonSerdes> {
    ctx: &'a DurableContext,
    position: Position,
    function_name: String,
    payload: Result<String, SerdesError>,
    tenant_id: Option<String>,
    trace_header: Option<String>,
    decoder: D,
    result: PhantomData<fn() -> R>,
}

impl DurableContext {
    /// Invokes the function `function_name` (a name or ARN, optionally qualified) with
    /// `payload` as its event, and waits for its result.
    ///
    /// The service runs the target, durable or not; the execution suspends meanwhile and
    /// nothing is billed. The payload and the result are JSON by default (send another
    /// format with [`WithSerdes`](crate::serdes::WithSerdes), read one with
    /// [`Invoke::result_serdes`]). A failure of the target
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
        payload: impl Encode,
    ) -> Invoke<'_, R> {
        Invoke {
            ctx: self,
            position: self.reserve(name.into()),
            function_name: function_name.into(),
            payload: payload.encode(),
            tenant_id: None,
            trace_header: None,
            decoder: JsonSerdes,
            result: PhantomData,
        }
    }
}

/// The longest `X-Amzn-Trace-Id` header the service accepts for an invoke.
const TRACE_HEADER_MAX: usize = 8192;

impl<'a, R, D> Invoke<'a, R, D> {
    /// Runs the target on behalf of this tenant (for tenant-isolated functions).
    pub fn tenant_id(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant_id.into());
        self
    }

    /// The X-Ray trace header the target runs under (`Root=...;Parent=...;Sampled=...`, at
    /// most 8192 characters). By default the target inherits the execution's trace.
    pub fn trace_header(mut self, header: impl Into<String>) -> Self {
        self.trace_header = Some(header.into());
        self
    }

    /// Reads the target's result with `decoder` instead of as JSON (for example
    /// [`RawString`](crate::serdes::RawString) for a plain-text answer), on the first run
    /// and on replay alike. A result it cannot read fails the invoke with
    /// [`Error::Serialization`].
    ///
    /// ```no_run
    /// use lambda_durable::serdes::RawString;
    /// use lambda_durable::{DurableContext, Error};
    ///
    /// async fn greeting(ctx: &DurableContext) -> Result<String, Error> {
    ///     // The target answers with plain text, not JSON.
    ///     ctx.invoke::<String>("greet", "greeter", serde_json::json!({"name": "Ada"}))
    ///         .result_serdes(RawString)
    ///         .await
    /// }
    /// ```
    pub fn result_serdes<D2>(self, decoder: D2) -> Invoke<'a, R, D2> {
        Invoke {
            ctx: self.ctx,
            position: self.position,
            function_name: self.function_name,
            payload: self.payload,
            tenant_id: self.tenant_id,
            trace_header: self.trace_header,
            decoder,
            result: PhantomData,
        }
    }
}

impl<'a, R, D> IntoFuture for Invoke<'a, R, D>
where
    R: Send + 'a,
    D: Decode<R> + 'a,
{
    type Output = Result<R, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<R, Error>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        let span = operation_span!("invoke", self.position, "CHAINED_INVOKE", SUB_TYPE, function = %self.function_name);
        Box::pin(self.run().instrument(span))
    }
}

impl<'a, R: Send + 'a, D: Decode<R> + 'a> Invoke<'a, R, D> {
    async fn run(self) -> Result<R, Error> {
        let op = Op::open(
            self.ctx,
            self.position,
            OperationType::ChainedInvoke,
            SUB_TYPE,
            "invoke",
        )?;
        if self.function_name.is_empty() || self.function_name.len() > 256 {
            return Err(op.invalid(format!(
                "function name must be 1 to 256 characters, got {}",
                self.function_name.len()
            )));
        }
        if self
            .tenant_id
            .as_ref()
            .is_some_and(|t| t.is_empty() || t.len() > 256)
        {
            return Err(op.invalid("tenant id must be 1 to 256 characters".to_string()));
        }
        if self
            .trace_header
            .as_ref()
            .is_some_and(|header| header.chars().count() > TRACE_HEADER_MAX)
        {
            return Err(op.invalid(format!(
                "the trace header must be at most {TRACE_HEADER_MAX} characters"
            )));
        }
        let decoder = &self.decoder;
        let decode = |decision: InvokeDecision<'_>| match decision {
            InvokeDecision::Start => Next::Start,
            InvokeDecision::Park => Next::Park,
            InvokeDecision::Succeeded(text) => Next::Done(
                decoder
                    .decode(text.unwrap_or("null"))
                    .map_err(|err| op.serialization("deserialize", err)),
            ),
            InvokeDecision::Failed(error) => Next::Done(Err(Error::InvokeFailed {
                operation: op.reference(),
                error: Box::new(error),
            })),
            InvokeDecision::TimedOut(error) => Next::Done(Err(Error::InvokeTimedOut {
                operation: op.reference(),
                error: Box::new(error),
            })),
            InvokeDecision::Stopped(error) => Next::Done(Err(Error::InvokeStopped {
                operation: op.reference(),
                error: Box::new(error),
            })),
        };
        let mut next = op.decide(|record| decode(invoke_decision(record))).await;
        if let Next::Start = next {
            let payload = self
                .payload
                .map_err(|err| op.serialization("serialize", err))?;
            crate::limits::check_payload(|| op.reference(), "payload", payload.len())?;
            let mut update = op.update(OperationAction::Start);
            update.payload = Some(payload);
            update.chained_invoke_options = Some(ChainedInvokeOptions {
                function_name: self.function_name,
                tenant_id: self.tenant_id,
                x_amzn_trace_id: self.trace_header,
            });
            op.write(update).await?;
            next = op.decide_again(|record| decode(invoke_decision(record)));
        }
        let result = match next {
            Next::Done(result) => result,
            // Nothing recorded after a START: the service has not answered yet. Resumes as
            // soon as it reports the invoke finished, also while this invocation runs.
            Next::Start | Next::Park => {
                op.park_until(|record| match decode(invoke_decision(record)) {
                    Next::Done(result) => Some(result),
                    Next::Start | Next::Park => None,
                })
                .await
            }
        };
        op.finished();
        result
    }
}

/// What an invoke does after looking at the log.
enum Next<R> {
    Start,
    Park,
    Done(Result<R, Error>),
}
