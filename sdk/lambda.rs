//! Running a durable handler on AWS Lambda.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::checkpoint::aws::AwsService;
use crate::checkpoint::DurableService;
use crate::context::DurableContext;
use crate::error::Error;
use crate::handler::{erase, execute, ErasedHandler, InvocationOptions};
use crate::wire::{DurableExecutionInvocationInput, DurableExecutionInvocationOutput};

/// Serves a durable handler on AWS Lambda.
///
/// `handler` is an async function taking the user's event (any type that deserializes from
/// the execution's input; `()` or `Option<T>` when there may be none) and a
/// [`DurableContext`], and returning `Result<T, E>` for any serializable `T` and any error
/// type `E`. Each invocation replays the handler from the start: operations already
/// recorded return their recorded results, new ones run and are checkpointed.
///
/// The SDK talks to the durable-execution API through `aws-sdk-lambda`, configured from the
/// environment by `aws-config` (so `AWS_ENDPOINT_URL_LAMBDA` points it at another endpoint).
///
/// ```no_run
/// use lambda_durable::DurableContext;
///
/// #[derive(serde::Deserialize)]
/// struct Order { id: String }
///
/// async fn handler(order: Order, ctx: DurableContext) -> Result<String, lambda_durable::Error> {
///     let id = order.id.clone();
///     ctx.step("reserve", |_| async move { Ok::<_, std::io::Error>(format!("reserved {id}")) })
///         .await
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), lambda_runtime::Error> {
///     lambda_durable::run(handler).await
/// }
/// ```
///
/// # Errors
///
/// The errors of [`lambda_runtime::run`] (the Lambda runtime API is unreachable).
pub async fn run<H, E, T, Err, Fut>(handler: H) -> Result<(), lambda_runtime::Error>
where
    H: Fn(E, DurableContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, Err>> + Send + 'static,
    E: DeserializeOwned,
    T: Serialize,
    Err: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
{
    let handler = erase(handler);
    let service: Arc<dyn DurableService> = Arc::new(AwsService::from_env().await);
    // Read once: the function's configuration does not change between invocations.
    let margin = deadline_margin_from_env();
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<Value>| {
            let handler = Arc::clone(&handler);
            let service = Arc::clone(&service);
            async move { invoke(service, &handler, margin, event).await }
        },
    ))
    .await
}

async fn invoke(
    service: Arc<dyn DurableService>,
    handler: &ErasedHandler,
    deadline_margin: Duration,
    event: LambdaEvent<Value>,
) -> Result<DurableExecutionInvocationOutput, Diagnostic> {
    // An envelope that cannot be parsed is a function error, not a FAILED output: Lambda
    // retries the invocation, and a redeployed function (an SDK that reads the envelope)
    // can still continue the execution, which FAILED would end for good.
    let input = parse_envelope(event.payload).map_err(|err| {
        tracing::error!(error = %err, "malformed durable invocation envelope");
        Diagnostic {
            error_type: err.error_type().to_string(),
            error_message: err.to_string(),
        }
    })?;
    let deadline = match event.context.deadline().duration_since(SystemTime::now()) {
        Ok(remaining) if !remaining.is_zero() => Some(tokio::time::Instant::now() + remaining),
        _ => {
            // Local tools send a relative value that reads as a date in 1970; suspending
            // at the first await would make no progress at all.
            tracing::warn!(
                deadline_ms = event.context.deadline,
                "the invocation's deadline has already passed when it starts; running without one"
            );
            None
        }
    };
    let options = InvocationOptions {
        deadline,
        deadline_margin,
        ..InvocationOptions::default()
    };
    execute(service, input, handler, &options)
        .await
        .map_err(|err| Diagnostic {
            error_type: "DurableInvocationError".to_string(),
            error_message: err.to_string(),
        })
}

/// The environment variable that sets how long before the Lambda deadline an invocation
/// stops and writes what is queued, in milliseconds.
pub(crate) const DEADLINE_MARGIN_ENV: &str = "LAMBDA_DURABLE_DEADLINE_MARGIN_MS";

/// The deadline margin: [`DEADLINE_MARGIN_ENV`] if it holds a number of milliseconds,
/// else the default (2 s).
fn deadline_margin_from_env() -> Duration {
    match std::env::var(DEADLINE_MARGIN_ENV) {
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(millis) => Duration::from_millis(millis),
            Err(_) => {
                tracing::warn!(value = %text, "{DEADLINE_MARGIN_ENV} is not a number of milliseconds; using the default");
                crate::handler::DEFAULT_DEADLINE_MARGIN
            }
        },
        Err(_) => crate::handler::DEFAULT_DEADLINE_MARGIN,
    }
}

/// Parses the invocation envelope, naming what is wrong with a malformed one.
pub(crate) fn parse_envelope(payload: Value) -> Result<DurableExecutionInvocationInput, Error> {
    if !payload.is_object() {
        return Err(Error::invalid_input(format!(
            "expected a durable execution envelope (a JSON object with DurableExecutionArn and CheckpointToken), got {}; is durable execution configured for this function?",
            json_kind(&payload)
        )));
    }
    crate::wire::from_value::<DurableExecutionInvocationInput>(payload).map_err(|err| {
        let hint = if err.path() == "." {
            "; is durable execution configured for this function?"
        } else {
            ""
        };
        Error::invalid_input(format!("malformed durable execution envelope: {err}{hint}"))
    })
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message(payload: Value) -> String {
        parse_envelope(payload).unwrap_err().to_string()
    }

    #[test]
    fn malformed_envelopes_are_errors_that_name_the_problem() {
        let m = message(json!("just a string"));
        assert!(m.contains("got a string"), "{m}");
        assert!(m.contains("durable execution configured"), "{m}");

        let m = message(json!({"CheckpointToken": "t"}));
        assert!(m.contains("DurableExecutionArn"), "{m}");

        let m = message(json!({"DurableExecutionArn": "arn", "CheckpointToken": 7}));
        assert!(m.contains("CheckpointToken"), "{m}");

        // An enumeration value the schemas do not list is kept, not an error: only
        // replay reaching that operation fails (see the handler's tests).
        let input = parse_envelope(json!({
            "DurableExecutionArn": "arn", "CheckpointToken": "t",
            "InitialExecutionState": {"Operations": [
                {"Id": "e", "Type": "EXECUTION", "Status": "STARTED"},
                {"Id": "s", "Type": "STEP", "Status": "SLEEPING"},
                {"Id": "n", "Type": "NEW_KIND", "Status": "STARTED"}
            ]}
        }))
        .unwrap();
        let operations = input.initial_execution_state.unwrap().operations;
        assert_eq!(operations[1].status.as_str(), "SLEEPING");
        assert!(operations[1].status.is_unknown());
        assert_eq!(operations[2].type_.to_string(), "NEW_KIND");

        let m = message(json!({
            "DurableExecutionArn": "arn", "CheckpointToken": "t",
            "InitialExecutionState": {"Operations": [
                {"Id": "e", "Type": "EXECUTION", "Status": 3}
            ]}
        }));
        assert!(
            m.contains("InitialExecutionState.Operations[0].Status"),
            "{m}"
        );

        let m = message(json!({
            "DurableExecutionArn": "arn", "CheckpointToken": "t",
            "InitialExecutionState": {"Operations": [{"Id": "bad id!", "Type": "STEP", "Status": "STARTED"}]}
        }));
        assert!(m.contains("Operations[0].Id"), "{m}");
    }

    /// A service that is never reached: the envelope is rejected first.
    struct Unreachable;

    impl DurableService for Unreachable {
        fn checkpoint<'a>(
            &'a self,
            _arn: &'a str,
            _request: &'a crate::wire::CheckpointDurableExecutionRequest,
        ) -> crate::checkpoint::BoxFuture<
            'a,
            Result<
                crate::wire::CheckpointDurableExecutionResponse,
                crate::checkpoint::ServiceError,
            >,
        > {
            unreachable!("the envelope is rejected before any checkpoint")
        }

        fn get_state<'a>(
            &'a self,
            _arn: &'a str,
            _request: &'a crate::wire::GetDurableExecutionStateRequest,
        ) -> crate::checkpoint::BoxFuture<
            'a,
            Result<crate::wire::GetDurableExecutionStateResponse, crate::checkpoint::ServiceError>,
        > {
            unreachable!("the envelope is rejected before any state page")
        }
    }

    /// An envelope that cannot be parsed at all ends the invocation with a function error
    /// (Lambda retries it, and a redeployed SDK that reads it can continue the execution),
    /// never with a FAILED output, which would end the execution for good.
    #[tokio::test]
    async fn unparseable_envelopes_are_function_errors() {
        let handler =
            erase(|_event: Value, _ctx: DurableContext| async { Ok::<_, Error>("unreachable") });
        let cases = [
            json!("just a string"),
            json!(null),
            json!({"CheckpointToken": "t"}),
            json!({"DurableExecutionArn": "arn:test"}),
            json!({"DurableExecutionArn": "arn:test", "CheckpointToken": 7}),
            json!({"DurableExecutionArn": "arn:test", "CheckpointToken": "t",
                   "InitialExecutionState": {"Operations": {"not": "a list"}}}),
            json!({"DurableExecutionArn": "arn:test", "CheckpointToken": "t",
                   "InitialExecutionState": {"Operations": [{"Id": "bad id!", "Type": "STEP", "Status": "STARTED"}]}}),
        ];
        for payload in cases {
            let event = LambdaEvent::new(payload.clone(), lambda_runtime::Context::default());
            let result = invoke(Arc::new(Unreachable), &handler, Duration::ZERO, event).await;
            let Err(diagnostic) = result else {
                panic!("{payload} gave an invocation output: {result:?}");
            };
            assert_eq!(diagnostic.error_type, "InvalidInputError", "{payload}");
            assert!(
                diagnostic
                    .error_message
                    .contains("durable execution envelope"),
                "{payload}: {}",
                diagnostic.error_message
            );
        }
    }

    #[test]
    fn well_formed_envelopes_parse_with_unknown_fields() {
        let input = parse_envelope(json!({
            "DurableExecutionArn": "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST/durable-execution/x/y",
            "CheckpointToken": "dG9rZW4=",
            "SomethingNew": {"a": 1},
            "InitialExecutionState": {"Operations": [{
                "Id": "y", "Type": "EXECUTION", "Status": "STARTED",
                "StartTimestamp": "2026-01-01T00:00:00Z",
                "ExecutionDetails": {"InputPayload": "{\"k\":1}"},
                "Extra": true
            }], "NextMarker": ""}
        }))
        .unwrap();
        assert_eq!(input.checkpoint_token.as_str(), "dG9rZW4=");
        let state = input.initial_execution_state.unwrap();
        assert_eq!(state.operations.len(), 1);
    }

    #[test]
    fn malformed_input_payload_names_its_source() {
        // Exercised through the driver: the event source is named in the error.
        let ops: Vec<crate::wire::Operation> = serde_json::from_value(json!([{
            "Id": "y", "Type": "EXECUTION", "Status": "STARTED",
            "ExecutionDetails": {"InputPayload": "{not json"}
        }]))
        .unwrap();
        let err = crate::handler::find_event_for_tests(None, &ops).unwrap_err();
        assert!(err.contains("InputPayload is not valid JSON"), "{err}");
        let (value, _) = crate::handler::find_event_for_tests(None, &ops[..0]).unwrap();
        assert_eq!(value, Value::Null);
        let (value, source) =
            crate::handler::find_event_for_tests(Some(json!({"direct": true})), &ops).unwrap();
        assert_eq!(value, json!({"direct": true}));
        assert!(source.contains("Input field"));
    }
}
