//! The readable timeline of an execution: one line per invocation and per history event.

use std::fmt::Write as _;

use super::execution::{describe_error, Execution, InvocationOutcome, InvocationRecord};
use lambda_durable::wire::{
    ErrorObject, Event, EventError, EventResult, EventType, InvocationStatus, RetryDetails,
};

/// The longest payload shown in full; longer ones are cut.
const MAX_SHOWN: usize = 60;

pub(crate) fn render(execution: &Execution) -> String {
    let mut out = String::new();
    let mut invocations = execution.invocations.iter().peekable();
    let mut completed = execution.invocations.iter();
    let mut inside = false;
    // Invocations known only by the service's InvocationCompleted events.
    let mut service_invocations = 0;
    for event in execution.history() {
        let id = event.event_id.get();
        while let Some(record) = invocations.next_if(|record| record.first_event_id <= id) {
            line(
                &mut out,
                record.start_ms - execution.start_ms,
                false,
                &format!("invocation {}", record.number),
            );
            inside = true;
        }
        let at = event
            .event_timestamp
            .as_ref()
            .map_or(0, |ts| ts.epoch_millis() - execution.start_ms);
        let text = if event.event_type == EventType::InvocationCompleted {
            match completed.next() {
                Some(record) => inside_text(Some(record)),
                None if execution.is_from_service() => {
                    service_invocations += 1;
                    service_invocation_text(service_invocations, event)
                }
                None => inside_text(None),
            }
        } else {
            describe(event, execution.start_ms)
        };
        line(&mut out, at, inside, &text);
        if event.event_type == EventType::InvocationCompleted {
            inside = false;
        }
    }
    out
}

fn line(out: &mut String, offset_ms: i64, indent: bool, text: &str) {
    let offset = format!("+{}", seconds(offset_ms));
    let indent = if indent { "  " } else { "" };
    // At least one space after the offset, also after a long one (`+3610.168s`).
    let _ = writeln!(out, "{offset:<7} {indent}{text}");
}

/// `5s`, `1.5s`.
fn seconds(ms: i64) -> String {
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{}.{:03}s", ms / 1000, (ms % 1000).abs())
    }
}

fn inside_text(record: Option<&InvocationRecord>) -> String {
    let Some(record) = record else {
        return "invocation ended".to_string();
    };
    let how = match &record.outcome {
        InvocationOutcome::Returned(output) => match output.status {
            InvocationStatus::Pending => "PENDING".to_string(),
            InvocationStatus::Succeeded => "SUCCEEDED".to_string(),
            InvocationStatus::Failed => match &output.error {
                Some(error) => format!("FAILED ({})", shorten(&describe_error(error))),
                None => "FAILED".to_string(),
            },
            status => status.to_string(),
        },
        InvocationOutcome::FunctionError(error) => {
            format!("function error ({})", shorten(&describe_error(error)))
        }
        InvocationOutcome::Crashed { after_call } => {
            format!("crashed after checkpoint call {after_call} (injected fault)")
        }
        InvocationOutcome::Rejected { reason, .. } => format!("output rejected: {reason}"),
    };
    format!("invocation {} ended: {how}", record.number)
}

/// An invocation of an execution read from the service: its number, request id, duration
/// and function error, as its `InvocationCompleted` event has them.
fn service_invocation_text(number: usize, event: &Event) -> String {
    let mut text = format!("invocation {number} ended");
    let Some(details) = &event.invocation_completed_details else {
        return text;
    };
    let mut about = Vec::new();
    if let Some(request_id) = &details.request_id {
        about.push(format!("request {request_id}"));
    }
    if let (Some(start), Some(end)) = (&details.start_timestamp, &details.end_timestamp) {
        about.push(format!(
            "ran {}",
            seconds(end.epoch_millis() - start.epoch_millis())
        ));
    }
    if !about.is_empty() {
        let _ = write!(text, " ({})", about.join(", "));
    }
    if let Some(error) = details
        .error
        .as_ref()
        .and_then(|error| error.payload.as_ref())
    {
        let _ = write!(
            text,
            ": function error ({})",
            shorten(&describe_error(error))
        );
    }
    text
}

/// `step "charge"`, or `step 6b86b273` for an unnamed one.
fn label(event: &Event) -> String {
    let sub_type = event.sub_type.as_deref().map(String::as_str);
    let kind = match sub_type {
        Some("Step") => "step",
        Some("WaitForCondition") => "wait for condition",
        Some("Wait") => "wait",
        Some("Callback") => "callback",
        Some("ChainedInvoke") => "invoke",
        Some("RunInChildContext") => "child context",
        Some("WaitForCallback") => "wait for callback",
        Some("Map") => "map",
        Some("MapIteration") => "map iteration",
        Some("Parallel") => "parallel",
        Some("ParallelBranch") => "parallel branch",
        _ => match event.event_type {
            EventType::StepStarted | EventType::StepSucceeded | EventType::StepFailed => "step",
            EventType::WaitStarted | EventType::WaitSucceeded | EventType::WaitCancelled => "wait",
            EventType::CallbackStarted
            | EventType::CallbackSucceeded
            | EventType::CallbackFailed
            | EventType::CallbackTimedOut => "callback",
            EventType::ChainedInvokeStarted
            | EventType::ChainedInvokeSucceeded
            | EventType::ChainedInvokeFailed
            | EventType::ChainedInvokeTimedOut
            | EventType::ChainedInvokeStopped => "invoke",
            _ => "context",
        },
    };
    match (&event.name, &event.id) {
        (Some(name), _) => format!("{kind} {:?}", name.as_str()),
        (None, Some(id)) => format!("{kind} {}", id.chars().take(8).collect::<String>()),
        (None, None) => kind.to_string(),
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_SHOWN {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(MAX_SHOWN - 3).collect();
        cut.push_str("...");
        cut
    }
}

fn result_text(result: Option<&EventResult>) -> String {
    match result.and_then(|result| result.payload.as_deref()) {
        Some("") => "(empty)".to_string(),
        Some(payload) => shorten(payload),
        None => "(no result)".to_string(),
    }
}

fn error_text(error: Option<&EventError>) -> String {
    error.and_then(|error| error.payload.as_ref()).map_or_else(
        || "(no error)".to_string(),
        |error: &ErrorObject| shorten(&describe_error(error)),
    )
}

fn attempt(retry: Option<&RetryDetails>) -> String {
    match retry.and_then(|retry| retry.current_attempt) {
        Some(attempt) => format!(" (attempt {attempt})"),
        None => String::new(),
    }
}

fn next_delay(retry: Option<&RetryDetails>) -> Option<i64> {
    retry.and_then(|retry| retry.next_attempt_delay_seconds)
}

fn describe(event: &Event, start_ms: i64) -> String {
    let label = label(event);
    match event.event_type {
        EventType::ExecutionStarted => {
            let input = event
                .execution_started_details
                .as_ref()
                .and_then(|details| details.input.as_ref())
                .and_then(|input| input.payload.as_deref())
                .map_or_else(|| "(no input)".to_string(), shorten);
            format!("execution started: {input}")
        }
        EventType::ExecutionSucceeded => format!(
            "execution succeeded: {}",
            result_text(
                event
                    .execution_succeeded_details
                    .as_ref()
                    .and_then(|details| details.result.as_ref())
            )
        ),
        EventType::ExecutionFailed => format!(
            "execution failed: {}",
            error_text(
                event
                    .execution_failed_details
                    .as_ref()
                    .and_then(|details| details.error.as_ref())
            )
        ),
        EventType::ExecutionTimedOut => format!(
            "execution timed out: {}",
            error_text(
                event
                    .execution_timed_out_details
                    .as_ref()
                    .and_then(|details| details.error.as_ref())
            )
        ),
        EventType::ExecutionStopped => format!(
            "execution stopped: {}",
            error_text(
                event
                    .execution_stopped_details
                    .as_ref()
                    .and_then(|details| details.error.as_ref())
            )
        ),
        EventType::StepStarted
        | EventType::ContextStarted
        | EventType::CallbackStarted
        | EventType::ChainedInvokeStarted => {
            let mut text = format!("{label} started");
            if let Some(details) = &event.chained_invoke_started_details {
                if let Some(function) = &details.function_name {
                    let _ = write!(text, " (function {function})");
                }
            }
            text
        }
        EventType::StepSucceeded => {
            let details = event.step_succeeded_details.as_ref();
            let retry = details.and_then(|details| details.retry_details.as_ref());
            let result = result_text(details.and_then(|details| details.result.as_ref()));
            match next_delay(retry) {
                Some(delay) => format!("{label} checked: {result}; next check in {delay}s"),
                None => format!("{label} succeeded{}: {result}", attempt(retry)),
            }
        }
        EventType::StepFailed => {
            let details = event.step_failed_details.as_ref();
            let retry = details.and_then(|details| details.retry_details.as_ref());
            let error = error_text(details.and_then(|details| details.error.as_ref()));
            let mut text = format!("{label} failed{}: {error}", attempt(retry));
            if let Some(delay) = next_delay(retry) {
                let _ = write!(text, "; retry in {delay}s");
            }
            text
        }
        EventType::WaitStarted => {
            let details = event.wait_started_details.as_ref();
            let duration = details.and_then(|details| details.duration).unwrap_or(0);
            let until = details
                .and_then(|details| details.scheduled_end_timestamp.as_ref())
                .map(|ts| format!(" (until +{})", seconds(ts.epoch_millis() - start_ms)))
                .unwrap_or_default();
            format!("{label} started: {duration}s{until}")
        }
        EventType::WaitSucceeded => {
            let duration = event
                .wait_succeeded_details
                .as_ref()
                .and_then(|details| details.duration)
                .unwrap_or(0);
            format!("{label} succeeded after {duration}s")
        }
        EventType::WaitCancelled => format!("{label} cancelled"),
        EventType::ContextSucceeded => format!(
            "{label} succeeded: {}",
            result_text(
                event
                    .context_succeeded_details
                    .as_ref()
                    .and_then(|details| details.result.as_ref())
            )
        ),
        EventType::ContextFailed => format!(
            "{label} failed: {}",
            error_text(
                event
                    .context_failed_details
                    .as_ref()
                    .and_then(|details| details.error.as_ref())
            )
        ),
        EventType::CallbackSucceeded => format!(
            "{label} succeeded: {}",
            result_text(
                event
                    .callback_succeeded_details
                    .as_ref()
                    .and_then(|details| details.result.as_ref())
            )
        ),
        EventType::CallbackFailed => format!(
            "{label} failed: {}",
            error_text(
                event
                    .callback_failed_details
                    .as_ref()
                    .and_then(|details| details.error.as_ref())
            )
        ),
        EventType::CallbackTimedOut => format!(
            "{label} timed out: {}",
            error_text(
                event
                    .callback_timed_out_details
                    .as_ref()
                    .and_then(|details| details.error.as_ref())
            )
        ),
        EventType::ChainedInvokeSucceeded => format!(
            "{label} succeeded: {}",
            result_text(
                event
                    .chained_invoke_succeeded_details
                    .as_ref()
                    .and_then(|details| details.result.as_ref())
            )
        ),
        EventType::ChainedInvokeFailed => format!(
            "{label} failed: {}",
            error_text(
                event
                    .chained_invoke_failed_details
                    .as_ref()
                    .and_then(|details| details.error.as_ref())
            )
        ),
        EventType::ChainedInvokeTimedOut => format!(
            "{label} timed out: {}",
            error_text(
                event
                    .chained_invoke_timed_out_details
                    .as_ref()
                    .and_then(|details| details.error.as_ref())
            )
        ),
        EventType::ChainedInvokeStopped => format!(
            "{label} stopped: {}",
            error_text(
                event
                    .chained_invoke_stopped_details
                    .as_ref()
                    .and_then(|details| details.error.as_ref())
            )
        ),
        EventType::InvocationCompleted => "invocation ended".to_string(),
        event_type => {
            format!("{event_type} (an event this SDK version does not know)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_seconds_with_milliseconds_when_needed() {
        assert_eq!(seconds(0), "0s");
        assert_eq!(seconds(5000), "5s");
        assert_eq!(seconds(1500), "1.500s");
    }

    #[test]
    fn long_offsets_stay_apart_from_the_text() {
        let mut out = String::new();
        line(&mut out, 0, false, "start");
        line(&mut out, 3_610_168, true, "wait");
        assert_eq!(out, "+0s     start\n+3610.168s   wait\n");
    }

    #[test]
    fn long_payloads_are_cut_on_character_boundaries() {
        let long = "é".repeat(100);
        let cut = shorten(&long);
        assert_eq!(cut.chars().count(), MAX_SHOWN);
        assert!(cut.ends_with("..."));
        assert_eq!(shorten("short"), "short");
    }

    #[test]
    fn unnamed_operations_are_labelled_by_id_prefix() {
        let event: Event = serde_json::from_value(serde_json::json!({
            "EventId": 2, "EventType": "StepStarted", "SubType": "Step",
            "Id": "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b"
        }))
        .unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(label(&event), "step 6b86b273");
    }
}
