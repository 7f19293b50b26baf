//! Plain-text summaries of an operation's declared configuration, with the runtime's
//! defaults filled in: the generated methods' documentation and the diagrams use them, so
//! what shows on hover and what the picture says are the same text.

use super::declaration::{
    Completion, DurationSpec, Jitter, Nesting, Operation, Polling, RetryFilter, RetryPolicy,
    StepSemantics,
};

/// A duration as `2d 3h`, `90s`, `1h 30m`.
pub(crate) fn duration(spec: &DurationSpec) -> String {
    let Some(total) = spec.total_seconds() else {
        return "(too long)".to_string();
    };
    if total == 0 {
        return "0s".to_string();
    }
    let parts = [
        (total / 86_400, "d"),
        (total % 86_400 / 3_600, "h"),
        (total % 3_600 / 60, "m"),
        (total % 60, "s"),
    ];
    parts
        .iter()
        .filter(|(value, _)| *value > 0)
        .map(|(value, unit)| format!("{value}{unit}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn secs(seconds: u64) -> String {
    duration(&DurationSpec {
        seconds,
        ..DurationSpec::default()
    })
}

fn or_default(spec: Option<&DurationSpec>, default: u64) -> String {
    spec.map_or_else(|| secs(default), duration)
}

fn jitter(value: Option<Jitter>, default: Jitter) -> &'static str {
    match value.unwrap_or(default) {
        Jitter::None => "no jitter",
        Jitter::Full => "full jitter",
        Jitter::Half => "half jitter",
    }
}

fn rate(value: Option<f64>, default: f64) -> String {
    let rate = value.unwrap_or(default);
    if rate.fract() == 0.0 {
        format!("×{rate:.0}")
    } else {
        format!("×{rate}")
    }
}

fn filter(filter: Option<&RetryFilter>) -> String {
    let Some(filter) = filter else {
        return String::new();
    };
    let mut parts = Vec::new();
    parts.extend(
        filter
            .message_matches
            .iter()
            .map(|pattern| format!("the message matches /{pattern}/")),
    );
    parts.extend(
        filter
            .message_contains
            .iter()
            .map(|text| format!("the message contains {text:?}")),
    );
    parts.extend(
        filter
            .error_types
            .iter()
            .map(|name| format!("the error type is {name}")),
    );
    if parts.is_empty() {
        String::new()
    } else {
        format!("; only when {}", parts.join(" or "))
    }
}

/// The retry policy in words, with the runtime's defaults for what is not declared.
pub(crate) fn retry(policy: Option<&RetryPolicy>) -> String {
    let Some(policy) = policy else {
        return "SDK default (6 attempts, 5s ×2 up to 1m, full jitter)".to_string();
    };
    match policy {
        RetryPolicy::Default(p) => format!(
            "preset default (6 attempts, 5s ×2 up to 1m, full jitter){}",
            filter(p.retry_if.as_ref())
        ),
        RetryPolicy::Transient(p) => format!(
            "preset transient (3 attempts, 5s ×2 up to 5m, half jitter){}",
            filter(p.retry_if.as_ref())
        ),
        RetryPolicy::ResourceAvailability(p) => format!(
            "preset resource-availability (5 attempts, 5s ×2 up to 5m, full jitter){}",
            filter(p.retry_if.as_ref())
        ),
        RetryPolicy::Critical(p) => format!(
            "preset critical (10 attempts, 1s ×1.5 up to 1m, no jitter){}",
            filter(p.retry_if.as_ref())
        ),
        RetryPolicy::Exponential(p) => format!(
            "exponential ({} attempts, {} {} up to {}, {}){}",
            p.max_attempts.unwrap_or(3),
            or_default(p.initial_delay.as_ref(), 5),
            rate(p.backoff_rate, 2.0),
            or_default(p.max_delay.as_ref(), 300),
            jitter(p.jitter, Jitter::Full),
            filter(p.retry_if.as_ref())
        ),
        RetryPolicy::Linear(p) => format!(
            "linear ({} attempts, {} +{} up to {}, {}){}",
            p.max_attempts.unwrap_or(6),
            or_default(p.initial_delay.as_ref(), 1),
            or_default(p.increment.as_ref(), 1),
            or_default(p.max_delay.as_ref(), 300),
            jitter(p.jitter, Jitter::None),
            filter(p.retry_if.as_ref())
        ),
        RetryPolicy::Fixed(p) => format!(
            "fixed ({} attempts, {} apart){}",
            p.max_attempts.unwrap_or(5),
            duration(&p.interval),
            filter(p.retry_if.as_ref())
        ),
        RetryPolicy::None(_) => "none (one attempt)".to_string(),
    }
}

fn polling(polling: Option<&Polling>) -> String {
    let p = polling.cloned().unwrap_or_default();
    format!(
        "up to {} checks, {} {} up to {}, {}",
        p.max_attempts.unwrap_or(60),
        or_default(p.initial_delay.as_ref(), 5),
        rate(p.backoff_rate, 1.5),
        or_default(p.max_delay.as_ref(), 300),
        jitter(p.jitter, Jitter::Full)
    )
}

fn batch(
    lines: &mut Vec<(&'static str, String)>,
    max_concurrency: Option<u64>,
    completion: Option<&Completion>,
    nesting: Option<Nesting>,
) {
    lines.push((
        "concurrency",
        max_concurrency.map_or_else(
            || "unlimited".to_string(),
            |n| format!("at most {n} at once"),
        ),
    ));
    let completion = completion.cloned().unwrap_or_default();
    let mut rules = Vec::new();
    if let Some(n) = completion.min_successful {
        rules.push(format!("done after {n} successes"));
    }
    if let Some(n) = completion.tolerated_failure_count {
        rules.push(format!("tolerates {n} failures"));
    }
    if let Some(p) = completion.tolerated_failure_percentage {
        rules.push(format!("tolerates {p}% failures"));
    }
    lines.push((
        "completion",
        if rules.is_empty() {
            "every item, no failure tolerated".to_string()
        } else {
            rules.join(", ")
        },
    ));
    lines.push((
        "nesting",
        match nesting.unwrap_or(Nesting::Nested) {
            Nesting::Nested => "nested (a child context per item)".to_string(),
            Nesting::Flat => "flat".to_string(),
        },
    ));
}

/// The declared configuration of `op`, as (label, value) lines.
pub(crate) fn configuration(op: &Operation) -> Vec<(&'static str, String)> {
    let mut lines = Vec::new();
    match op {
        Operation::Step(step) => {
            lines.push(("retry", retry(step.retry.as_ref())));
            lines.push((
                "semantics",
                match step.semantics.unwrap_or(StepSemantics::AtLeastOncePerRetry) {
                    StepSemantics::AtLeastOncePerRetry => "at least once per retry".to_string(),
                    StepSemantics::AtMostOncePerRetry => {
                        "at most once per retry (an interrupted attempt fails with StepInterruptedError, retried whatever retryIf says)".to_string()
                    }
                },
            ));
            lines.push((
                "timeout",
                step.timeout.as_ref().map_or_else(
                    || "none".to_string(),
                    |t| format!("{} per attempt", duration(t)),
                ),
            ));
            if step.error.is_some() {
                lines.push(("error", "declared type".to_string()));
            }
        }
        Operation::Wait(wait) => lines.push((
            "duration",
            wait.duration
                .as_ref()
                .map_or_else(|| "given by the caller".to_string(), duration),
        )),
        Operation::Callback(callback) => {
            lines.push((
                "timeout",
                callback
                    .timeout
                    .as_ref()
                    .map_or_else(|| "none".to_string(), duration),
            ));
            if let Some(heartbeat) = &callback.heartbeat_timeout {
                lines.push(("heartbeat timeout", duration(heartbeat)));
            }
            if let Some(submitter) = &callback.submitter {
                lines.push(("submitter retry", retry(submitter.retry.as_ref())));
            }
        }
        Operation::Invoke(invoke) => {
            if let Some(workflow) = &invoke.workflow {
                lines.push(("workflow", format!("declared in {workflow}")));
            }
            lines.push((
                "function",
                invoke
                    .function
                    .clone()
                    .unwrap_or_else(|| "given by the caller".to_string()),
            ));
        }
        Operation::ChildContext(_) => {}
        Operation::Map(map) => batch(
            &mut lines,
            map.max_concurrency,
            map.completion.as_ref(),
            map.nesting,
        ),
        Operation::Parallel(parallel) => {
            lines.push(("branches", parallel.branches.join(", ")));
            batch(
                &mut lines,
                parallel.max_concurrency,
                parallel.completion.as_ref(),
                parallel.nesting,
            );
        }
        Operation::WaitForCondition(condition) => {
            lines.push(("polling", polling(condition.polling.as_ref())));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        let d = |days, hours, minutes, seconds| DurationSpec {
            days,
            hours,
            minutes,
            seconds,
        };
        assert_eq!(duration(&d(2, 0, 0, 0)), "2d");
        assert_eq!(duration(&d(0, 0, 0, 90)), "1m 30s");
        assert_eq!(duration(&d(0, 1, 30, 0)), "1h 30m");
        assert_eq!(duration(&d(0, 0, 0, 0)), "0s");
    }
}
