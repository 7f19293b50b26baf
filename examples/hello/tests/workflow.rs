//! The example workflow on the local runner.
#![allow(clippy::unwrap_used)]

use hello::{process_order, Order, Receipt};
use lambda_durable::wire::{EventType, ExecutionStatus};
use lambda_durable_testing::LocalRunner;

fn order(items: &[&str]) -> Order {
    Order {
        id: "order-7".to_string(),
        cents: 990,
        items: items.iter().map(|item| item.to_string()).collect(),
    }
}

#[tokio::test]
async fn processes_an_order_with_a_retry_and_a_wait() {
    let execution = LocalRunner::new(process_order)
        .run(order(&["mug"]))
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    assert_eq!(
        execution.result::<Receipt>().unwrap(),
        Receipt {
            order: "order-7".to_string(),
            charge: "ch_990_2".to_string(),
            tracking: "TRACK-1-order-7".to_string(),
        }
    );
    // Suspended for the retry and for the wait.
    assert_eq!(execution.invocations(), 3);
    assert_eq!(execution.elapsed().as_secs(), 10 + 3600);
    let charge = execution.operation("charge card").unwrap();
    assert_eq!(charge.step_details.as_ref().unwrap().attempt, Some(2));
    let kinds: Vec<EventType> = execution
        .history()
        .iter()
        .map(|event| event.event_type)
        .filter(|ty| *ty != EventType::InvocationCompleted)
        .collect();
    assert_eq!(
        kinds,
        vec![
            EventType::ExecutionStarted,
            EventType::StepStarted,
            EventType::StepSucceeded,
            EventType::StepStarted,
            EventType::StepFailed,
            EventType::StepStarted,
            EventType::StepSucceeded,
            EventType::WaitStarted,
            EventType::WaitSucceeded,
            EventType::StepStarted,
            EventType::StepSucceeded,
            EventType::ExecutionSucceeded,
        ]
    );
    assert!(execution.timeline().contains("retry in 10s"));
}

#[tokio::test]
async fn an_empty_order_fails_validation() {
    let execution = LocalRunner::new(process_order)
        .run(order(&[]))
        .await
        .unwrap();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let error = execution.error().unwrap();
    assert_eq!(error.error_type.as_deref(), Some("StepError"));
    assert_eq!(
        error.error_message.as_deref(),
        Some("invalid order: no items")
    );
    assert!(execution.operation("charge card").is_none());
}
