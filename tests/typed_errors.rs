//! Typed business errors: recorded with their type and data, given back whole on the first
//! run and on every replay, and visible to retry strategies.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lambda_durable::retry::{presets, FixedDelay};
use lambda_durable::wire::ExecutionStatus;
use lambda_durable::{branch, CompletionConfig, DurableContext, Error, ErrorRecord, TypedError};
use lambda_durable_testing::LocalRunner;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
enum PaymentError {
    #[error("card declined: {reason}")]
    Declined { reason: String, code: u32 },
    #[error("the gateway is busy")]
    Busy,
}

impl TypedError for PaymentError {}

/// A type that chose its recorded name.
#[derive(Debug, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[error("out of stock: {sku}")]
struct OutOfStock {
    sku: String,
}

impl TypedError for OutOfStock {
    fn error_type() -> String {
        "Inventory.OutOfStock".to_string()
    }
}

fn declined() -> PaymentError {
    PaymentError::Declined {
        reason: "stolen card".into(),
        code: 43,
    }
}

/// A step that fails with a typed error on every attempt: after its retries, the caller
/// gets the value back, on the first run and on every replay.
#[tokio::test]
async fn a_step_error_comes_back_typed_on_every_replay() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let seen = Arc::clone(&s);
        async move {
            let charged = ctx
                .step("charge", |_| async {
                    Err::<u32, _>(ErrorRecord::from(declined()))
                })
                .retry(presets::fixed(Duration::from_secs(1)).max_attempts(2))
                .await;
            let err = charged.unwrap_err();
            seen.lock().unwrap().push(err.downcast::<PaymentError>());
            // A wait after the failure makes one more replay.
            ctx.wait("after", Duration::from_secs(1)).await?;
            Ok::<_, Error>(err.downcast::<PaymentError>())
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    assert_eq!(
        execution.result::<Option<PaymentError>>().unwrap(),
        Some(declined())
    );
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 2, "first run and replays: {seen:?}");
    assert!(
        seen.iter().all(|error| *error == Some(declined())),
        "{seen:?}"
    );
    // Recorded with its type and data, readable by anything that reads the history.
    let recorded = execution
        .operation("charge")
        .and_then(|op| op.step_details.as_ref())
        .and_then(|details| details.error.clone())
        .unwrap();
    assert_eq!(
        recorded.error_type.as_deref(),
        Some("typed_errors::PaymentError")
    );
    assert_eq!(
        serde_json::from_str::<Value>(recorded.error_data.as_deref().unwrap()).unwrap(),
        serde_json::json!({"Declined": {"reason": "stolen card", "code": 43}})
    );
}

/// A retry strategy decides on the typed error: a busy gateway is retried, a declined card
/// is not.
#[tokio::test]
async fn retry_strategies_decide_on_the_typed_error() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let a = Arc::clone(&attempts);
    let runner = LocalRunner::new(move |_: Value, ctx: DurableContext| {
        let attempts = Arc::clone(&a);
        async move {
            let strategy = FixedDelay::new(Duration::from_secs(1))
                .max_attempts(5)
                .retry_if::<PaymentError>(|error| matches!(error, PaymentError::Busy));
            let outcome = ctx
                .step("charge", move |step| {
                    attempts.fetch_add(1, Ordering::SeqCst);
                    async move {
                        // Busy twice, then declined.
                        let error = if step.attempt() < 3 {
                            PaymentError::Busy
                        } else {
                            declined()
                        };
                        Err::<u32, _>(ErrorRecord::from(error))
                    }
                })
                .retry(strategy)
                .await;
            Ok::<_, Error>(outcome.unwrap_err().downcast::<PaymentError>())
        }
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.result::<Option<PaymentError>>().unwrap(),
        Some(declined())
    );
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
}

/// Branches, child contexts and callback submitters keep the type too.
#[tokio::test]
async fn branches_contexts_and_submitters_keep_the_type() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let batch = ctx
            .parallel(
                "reserve",
                vec![
                    branch("a", |_ctx: DurableContext| async {
                        Ok::<_, ErrorRecord>(1)
                    }),
                    branch("b", |_ctx: DurableContext| async {
                        Err::<i32, _>(ErrorRecord::from(OutOfStock { sku: "b-1".into() }))
                    }),
                ],
            )
            .completion(CompletionConfig::all_completed())
            .await?;
        let from_item = batch.items()[1].downcast_error::<OutOfStock>();
        let from_results = batch.into_results().unwrap_err().downcast::<OutOfStock>();
        let context = ctx
            .run_in_child_context("pay", |_child| async {
                Err::<(), _>(ErrorRecord::from(declined()))
            })
            .await
            .unwrap_err();
        let submitter = ctx
            .wait_for_callback::<Value, _, _>("approval", |_id, _step| async {
                Err::<(), _>(ErrorRecord::from(PaymentError::Busy))
            })
            .retry(presets::none())
            .await
            .unwrap_err();
        let submitter_is_step_failure = matches!(submitter, Error::StepFailed { .. });
        Ok::<_, Error>((
            from_item.map(|e| e.sku),
            from_results.map(|e| e.sku),
            context.downcast::<PaymentError>(),
            submitter.downcast::<PaymentError>(),
            submitter_is_step_failure,
        ))
    });
    let execution = runner.run(Value::Null).await.unwrap();
    assert_eq!(
        execution.status(),
        ExecutionStatus::Succeeded,
        "{:?}",
        execution.error()
    );
    let (item, results, context, submitter, step_failure) = execution
        .result::<(
            Option<String>,
            Option<String>,
            Option<PaymentError>,
            Option<PaymentError>,
            bool,
        )>()
        .unwrap();
    assert_eq!(item.as_deref(), Some("b-1"));
    assert_eq!(results.as_deref(), Some("b-1"));
    assert_eq!(context, Some(declined()));
    assert_eq!(submitter, Some(PaymentError::Busy));
    assert!(step_failure);
}

/// Distinct types never share a recorded name, and a type that is not the recorded one
/// does not come back.
#[tokio::test]
async fn other_types_do_not_downcast() {
    let runner = LocalRunner::new(|_: Value, ctx: DurableContext| async move {
        let err = ctx
            .step("reserve", |_| async {
                Err::<(), _>(ErrorRecord::from(OutOfStock { sku: "x".into() }))
            })
            .retry(presets::none())
            .await
            .unwrap_err();
        let plain = ctx
            .step("plain", |_| async {
                Err::<(), _>(std::io::Error::other("disk"))
            })
            .retry(presets::none())
            .await
            .unwrap_err();
        Ok::<_, Error>((
            err.downcast::<PaymentError>().is_none(),
            err.downcast::<OutOfStock>().map(|e| e.sku),
            err.recorded().and_then(|e| e.error_type.clone()),
            plain.downcast::<PaymentError>().is_none(),
            plain.recorded().and_then(|e| e.error_type.clone()),
        ))
    });
    let execution = runner.run(Value::Null).await.unwrap();
    let (not_payment, stock, name, plain_not_payment, plain_name) = execution
        .result::<(bool, Option<String>, Option<String>, bool, Option<String>)>()
        .unwrap();
    assert!(not_payment && plain_not_payment);
    assert_eq!(stock.as_deref(), Some("x"));
    assert_eq!(name.as_deref(), Some("Inventory.OutOfStock"));
    assert_eq!(plain_name.as_deref(), Some("std::io::error::Error"));
}
