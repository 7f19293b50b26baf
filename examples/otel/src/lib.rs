//! A durable order workflow traced with OpenTelemetry.
//!
//! [`ship_order`] reserves stock, charges the card (the first attempt fails and is retried
//! ten seconds later), packs every item in a `map`, waits for the courier, and notifies
//! the customer in a child context: enough operations, invocations and attempts to show
//! both views of the OpenTelemetry plugins. [`plugin`] builds the plugin of the view
//! [`View::from_env`] picks (`OTEL_PLUGIN_MODE=invocation|execution`).
//!
//! The Lambda binary is `src/main.rs`; `examples/otel-local.rs` runs the workflow on the
//! local runner and writes its spans as OTLP JSON.

use std::sync::Arc;
use std::time::Duration;

use lambda_durable::plugin::Plugin;
use lambda_durable::retry::presets;
use lambda_durable::{DurableContext, Error};
use lambda_durable_otel::{ExecutionOtelPlugin, InvocationOtelPlugin, OtelConfig};
use serde::{Deserialize, Serialize};

/// The execution's input.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Order {
    /// The order id.
    pub id: String,
    /// The items to pack.
    pub items: Vec<String>,
}

/// The execution's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// The order id.
    pub order: String,
    /// The charge's receipt.
    pub receipt: String,
    /// One parcel per item.
    pub parcels: Vec<String>,
}

/// The payment service is busy on the first try.
#[derive(Debug, thiserror::Error)]
#[error("the payment service is busy")]
pub struct Busy;

/// The workflow.
pub async fn ship_order(order: Order, ctx: DurableContext) -> Result<Shipment, Error> {
    let count = order.items.len();
    ctx.step("reserve stock", move |_| async move {
        Ok::<_, Busy>(format!("{count} items reserved"))
    })
    .await?;
    let id = order.id.clone();
    let receipt: String = ctx
        .step("charge card", move |step| async move {
            if step.attempt() == 1 {
                return Err(Busy);
            }
            Ok(format!("receipt-{id}"))
        })
        .retry(presets::fixed(Duration::from_secs(10)))
        .await?;
    let parcels = ctx
        .map(
            "pack items",
            order.items,
            |item_ctx, item: String, _| async move {
                item_ctx
                    .step(format!("pack {item}"), move |_| async move {
                        Ok::<_, Busy>(format!("parcel({item})"))
                    })
                    .await
            },
        )
        .item_namer(|item, _| format!("item {item}"))
        .await?
        .into_results()?;
    ctx.wait("wait for the courier", Duration::from_secs(600))
        .await?;
    ctx.run_in_child_context("notify", |child| async move {
        child
            .step("send email", |_| async { Ok::<_, Busy>(()) })
            .await
    })
    .await?;
    Ok(Shipment {
        order: order.id,
        receipt,
        parcels,
    })
}

/// Which view of the execution the spans give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// [`InvocationOtelPlugin`]: one `Invocation` span per invocation, with its operations.
    Invocation,
    /// [`ExecutionOtelPlugin`]: one `Workflow` span, with every operation under it.
    Execution,
}

impl View {
    /// `OTEL_PLUGIN_MODE`: `execution` for the execution view, anything else (or nothing)
    /// for the invocation view.
    pub fn from_env() -> Self {
        match std::env::var("OTEL_PLUGIN_MODE").as_deref() {
            Ok("execution") => Self::Execution,
            _ => Self::Invocation,
        }
    }
}

/// The plugin of `view`, exporting where `config` says.
pub fn plugin(view: View, config: OtelConfig) -> Arc<dyn Plugin> {
    match view {
        View::Invocation => Arc::new(InvocationOtelPlugin::new(config)),
        View::Execution => Arc::new(ExecutionOtelPlugin::new(config)),
    }
}
