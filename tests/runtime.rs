//! The runtime's settings, through its public API: a custom durable-execution service
//! (here a wrapper that counts calls around an in-memory one), checkpoint batching, and
//! settings that are refused when the runtime is built.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lambda_durable::lambda_runtime::{Context, LambdaEvent, Service};
use lambda_durable::service::{BoxFuture, DurableService};
use lambda_durable::wire::{
    CheckpointDurableExecutionRequest, CheckpointDurableExecutionResponse,
    GetDurableExecutionStateRequest, GetDurableExecutionStateResponse, InvocationStatus,
};
use lambda_durable::{CheckpointConfig, DurableContext, Error, Runtime, ServiceError};
use serde_json::json;
use support::{envelope, execution_operation, Echo};

/// Counts the calls that reach the service it wraps, and the updates they carry.
#[derive(Default)]
struct Counts {
    checkpoints: AtomicU64,
    updates: AtomicU64,
    largest: AtomicU64,
    state_pages: AtomicU64,
    /// The payload of every update, in order.
    payloads: std::sync::Mutex<Vec<String>>,
}

struct Counted<S> {
    inner: S,
    counts: Arc<Counts>,
}

impl<S: DurableService> DurableService for Counted<S> {
    fn checkpoint<'a>(
        &'a self,
        arn: &'a str,
        request: &'a CheckpointDurableExecutionRequest,
    ) -> BoxFuture<'a, Result<CheckpointDurableExecutionResponse, ServiceError>> {
        let updates = request.updates.len() as u64;
        self.counts.checkpoints.fetch_add(1, Ordering::SeqCst);
        self.counts.updates.fetch_add(updates, Ordering::SeqCst);
        self.counts.largest.fetch_max(updates, Ordering::SeqCst);
        self.counts.payloads.lock().unwrap().extend(
            request
                .updates
                .iter()
                .filter_map(|update| update.payload.clone()),
        );
        self.inner.checkpoint(arn, request)
    }

    fn get_state<'a>(
        &'a self,
        arn: &'a str,
        request: &'a GetDurableExecutionStateRequest,
    ) -> BoxFuture<'a, Result<GetDurableExecutionStateResponse, ServiceError>> {
        self.counts.state_pages.fetch_add(1, Ordering::SeqCst);
        self.inner.get_state(arn, request)
    }
}

/// Three steps: each one's START (not waited for) can share a call with its SUCCEED.
async fn three_steps(_: serde_json::Value, ctx: DurableContext) -> Result<u32, Error> {
    let mut total = 0;
    for n in 1..=3 {
        total += ctx
            .step(format!("step {n}"), move |_| async move {
                Ok::<_, std::io::Error>(n)
            })
            .await?;
    }
    Ok(total)
}

/// Runs one invocation of `three_steps` through a runtime made with `checkpoints`, whose
/// envelope holds a marker to a second page of state, and returns what the wrapper
/// counted.
async fn run_with(checkpoints: CheckpointConfig) -> Arc<Counts> {
    run_with_builder(Runtime::builder().checkpoint(checkpoints)).await
}

/// [`run_with`], with the runtime's other settings from `builder`.
async fn run_with_builder(builder: lambda_durable::RuntimeBuilder) -> Arc<Counts> {
    let counts = Arc::new(Counts::default());
    let service = Counted {
        inner: Echo {
            page: vec![execution_operation(&json!({}))],
            ..Echo::default()
        },
        counts: Arc::clone(&counts),
    };
    let mut function = builder
        .durable_service(service)
        .build()
        .unwrap()
        .into_service(three_steps)
        .await;
    let mut event = envelope(&[]);
    event["InitialExecutionState"]["NextMarker"] = json!("page-2");
    let output = function
        .call(LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    assert_eq!(output.status, InvocationStatus::Succeeded);
    assert_eq!(output.result.as_deref(), Some("6"));
    counts
}

#[tokio::test(flavor = "current_thread")]
async fn a_custom_service_sees_every_call_with_the_configured_batching() {
    let defaults = run_with(CheckpointConfig::new()).await;
    // The state page the envelope points to is read through the custom service.
    assert_eq!(defaults.state_pages.load(Ordering::SeqCst), 1);
    // A START and a SUCCEED per step.
    assert_eq!(defaults.updates.load(Ordering::SeqCst), 6);
    assert_eq!(defaults.largest.load(Ordering::SeqCst), 2);
    assert_eq!(defaults.checkpoints.load(Ordering::SeqCst), 3);

    for one_per_call in [
        CheckpointConfig::new().max_updates(1),
        CheckpointConfig::new().max_bytes(1),
    ] {
        let counts = run_with(one_per_call.clone()).await;
        assert_eq!(counts.updates.load(Ordering::SeqCst), 6, "{one_per_call:?}");
        assert_eq!(counts.largest.load(Ordering::SeqCst), 1, "{one_per_call:?}");
        assert_eq!(
            counts.checkpoints.load(Ordering::SeqCst),
            6,
            "{one_per_call:?}"
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_default_serdes_writes_what_the_steps_checkpoint() {
    let counts = run_with_builder(Runtime::builder().default_serdes(support::TaggedJson)).await;
    let payloads = counts.payloads.lock().unwrap().clone();
    assert_eq!(payloads, ["v1:1", "v1:2", "v1:3"]);
    let plain = run_with(CheckpointConfig::new()).await;
    assert_eq!(*plain.payloads.lock().unwrap(), ["1", "2", "3"]);
}

#[test]
fn settings_out_of_range_are_errors_when_the_runtime_is_built() {
    let cases = [
        (
            CheckpointConfig::new().max_updates(251),
            "CheckpointConfig::max_updates",
        ),
        (
            CheckpointConfig::new().max_bytes(CheckpointConfig::MAX_BYTES + 1),
            "CheckpointConfig::max_bytes",
        ),
        (
            CheckpointConfig::new().linger(Duration::from_secs(2)),
            "CheckpointConfig::linger",
        ),
    ];
    for (checkpoints, setting) in cases {
        let err = Runtime::builder()
            .durable_service(Echo::default())
            .deadline_margin(Duration::from_secs(1))
            .checkpoint(checkpoints)
            .build()
            .unwrap_err();
        assert_eq!(err.setting(), setting);
        assert!(err.to_string().starts_with(&format!("invalid {setting}: ")));
    }
}

#[test]
fn the_builder_shows_its_settings() {
    let builder = Runtime::builder()
        .durable_service(Echo::default())
        .deadline_margin(Duration::from_millis(1500))
        .log_during_replay(true);
    let text = format!("{builder:?}");
    assert!(text.contains("a custom DurableService"), "{text}");
    assert!(text.contains("1.5s"), "{text}");
    assert!(text.contains("log_during_replay: true"), "{text}");
    let runtime = builder.build().unwrap();
    let text = format!("{runtime:?}");
    assert!(text.contains("deadline_margin: 1.5s"), "{text}");
}
