//! The common cases compile without type annotations (each function here is a compile
//! check, run on the local runner).
#![allow(clippy::unwrap_used)]

use lambda_durable::{DurableContext, Error};
use lambda_durable_testing::{CallbackResponse, LocalRunner};
use serde::Deserialize;

#[derive(Debug, Deserialize, serde::Serialize, PartialEq)]
struct Approval {
    approved: bool,
}

/// The callback's result type comes from the function's return type.
async fn approval(_: (), ctx: DurableContext) -> Result<Approval, Error> {
    ctx.wait_for_callback("approval", |_callback_id, _step| async move {
        Ok::<_, std::io::Error>(())
    })
    .await
}

#[tokio::test]
async fn wait_for_callback_needs_no_turbofish() {
    let execution = LocalRunner::new(approval)
        .on_callback(
            "approval",
            CallbackResponse::json(serde_json::json!({"approved": true})),
        )
        .run(())
        .await
        .unwrap();
    assert_eq!(
        execution.result::<Approval>().unwrap(),
        Approval { approved: true }
    );
}

async fn greet(name: String, ctx: DurableContext) -> Result<String, Error> {
    let greeting = ctx
        .infallible_step("greeting", |_| async move { format!("hello {name}") })
        .await?;
    let length = ctx
        .infallible_step("length", |step| async move { step.attempt() as usize })
        .await?;
    Ok(format!("{greeting} ({length})"))
}

#[tokio::test]
async fn infallible_steps_need_no_ok_or_error_type() {
    let execution = LocalRunner::new(greet).run("ada").await.unwrap();
    assert_eq!(execution.result::<String>().unwrap(), "hello ada (1)");
    let step = execution.operation("greeting").unwrap();
    assert_eq!(
        step.step_details.as_ref().unwrap().result.as_deref(),
        Some("\"hello ada\"")
    );
}

/// A branch built by a helper function, from owned arguments: `'static`, no lifetime
/// annotations (the body moves the branch's context into its future).
fn reservation(kind: &str, id: u32) -> lambda_durable::Branch<'static, String> {
    let kind = kind.to_string();
    lambda_durable::branch(format!("reserve {kind}"), move |ctx| async move {
        ctx.infallible_step("book", move |_| async move { format!("{kind}-{id}") })
            .await
    })
}

async fn trip(_: (), ctx: DurableContext) -> Result<Vec<String>, Error> {
    let branches = vec![reservation("flight", 1), reservation("hotel", 2)];
    ctx.parallel("reservations", branches).await?.into_results()
}

#[tokio::test]
async fn branches_can_be_built_in_helper_functions() {
    let execution = LocalRunner::new(trip).run(()).await.unwrap();
    assert_eq!(
        execution.result::<Vec<String>>().unwrap(),
        vec!["flight-1".to_string(), "hotel-2".to_string()]
    );
}

async fn trip_tuple(_: (), ctx: DurableContext) -> Result<String, Error> {
    let (flight, hotel) = ctx
        .parallel_tuple(
            "reservations",
            (reservation("flight", 1), reservation("hotel", 2)),
        )
        .await?
        .into_values()?;
    Ok(format!("{flight} {hotel}"))
}

#[tokio::test]
async fn helper_branches_go_into_a_parallel_tuple_too() {
    let execution = LocalRunner::new(trip_tuple).run(()).await.unwrap();
    assert_eq!(execution.result::<String>().unwrap(), "flight-1 hotel-2");
}
