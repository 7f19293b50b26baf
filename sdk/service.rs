//! The seam between the SDK and the durable-execution API.
//!
//! The SDK makes two calls to the service, `CheckpointDurableExecution` and
//! `GetDurableExecutionState`, through the [`DurableService`] trait. [`AwsService`] makes
//! them with `aws-sdk-lambda` and is what [`run`](crate::run) uses; give
//! [`RuntimeBuilder::durable_service`](crate::RuntimeBuilder::durable_service) an
//! implementation of your own to put the SDK on another transport, or a wrapper to observe
//! the calls (metrics, logs, a proxy). A failed call is a [`ServiceError`], whose
//! [`ServiceErrorKind`] decides whether the SDK sends it again.
//!
//! A wrapper that counts calls and failures around the AWS service:
//!
//! ```no_run
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::sync::Arc;
//!
//! use lambda_durable::service::{AwsService, BoxFuture, DurableService};
//! use lambda_durable::wire::{
//!     CheckpointDurableExecutionRequest, CheckpointDurableExecutionResponse,
//!     GetDurableExecutionStateRequest, GetDurableExecutionStateResponse,
//! };
//! use lambda_durable::{DurableContext, Error, Runtime, ServiceError};
//!
//! #[derive(Default)]
//! struct Counts {
//!     checkpoints: AtomicU64,
//!     state_pages: AtomicU64,
//!     failures: AtomicU64,
//! }
//!
//! struct Counted<S> {
//!     inner: S,
//!     counts: Arc<Counts>,
//! }
//!
//! impl<S: DurableService> DurableService for Counted<S> {
//!     fn checkpoint<'a>(
//!         &'a self,
//!         arn: &'a str,
//!         request: &'a CheckpointDurableExecutionRequest,
//!     ) -> BoxFuture<'a, Result<CheckpointDurableExecutionResponse, ServiceError>> {
//!         Box::pin(async move {
//!             self.counts.checkpoints.fetch_add(1, Ordering::Relaxed);
//!             let result = self.inner.checkpoint(arn, request).await;
//!             if result.is_err() {
//!                 self.counts.failures.fetch_add(1, Ordering::Relaxed);
//!             }
//!             result
//!         })
//!     }
//!
//!     fn get_state<'a>(
//!         &'a self,
//!         arn: &'a str,
//!         request: &'a GetDurableExecutionStateRequest,
//!     ) -> BoxFuture<'a, Result<GetDurableExecutionStateResponse, ServiceError>> {
//!         Box::pin(async move {
//!             self.counts.state_pages.fetch_add(1, Ordering::Relaxed);
//!             let result = self.inner.get_state(arn, request).await;
//!             if result.is_err() {
//!                 self.counts.failures.fetch_add(1, Ordering::Relaxed);
//!             }
//!             result
//!         })
//!     }
//!
//!     // Lets the AWS client prepare its first call during init.
//!     fn warm_up(&self) -> BoxFuture<'_, ()> {
//!         self.inner.warm_up()
//!     }
//! }
//!
//! async fn handler(_: (), ctx: DurableContext) -> Result<u32, Error> {
//!     ctx.step("answer", |_| async { Ok::<_, std::io::Error>(42) }).await
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), lambda_runtime::Error> {
//!     let counts = Arc::new(Counts::default());
//!     let service = Counted { inner: AwsService::from_env().await, counts: Arc::clone(&counts) };
//!     Runtime::builder().durable_service(service).build()?.run(handler).await
//! }
//! ```

pub use crate::checkpoint::aws::AwsService;
pub use crate::checkpoint::{BoxFuture, DurableService, ServiceError, ServiceErrorKind};
