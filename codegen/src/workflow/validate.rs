//! The rules of declarations that the meta-schema cannot express: names the service would
//! reject, duplicates, names that collide once made Rust identifiers, `$ref`s to unknown
//! definitions and values out of the service's ranges.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::contracts;
use super::declaration::{
    Completion, Declaration, DurationSpec, Operation, Polling, RetryFilter, RetryPolicy,
    StepSemantics,
};
use super::keywords;
use super::names;
use super::parse::escape_pointer;
use crate::CodegenError;

/// The longest wait and retry delay the service accepts: 366 days.
pub(crate) const MAX_WAIT_SECONDS: u64 = 31_622_400;
/// The longest callback timeout the service accepts.
const MAX_CALLBACK_TIMEOUT_SECONDS: u64 = 99_999_999;

struct Checker<'a> {
    path: &'a Path,
}

type Checked = Result<(), CodegenError>;

impl Checker<'_> {
    fn fail(&self, pointer: impl Into<String>, message: impl Into<String>) -> CodegenError {
        CodegenError::Schema {
            path: self.path.to_path_buf(),
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

pub(crate) fn validate(path: &Path, declaration: &Declaration) -> Checked {
    let check = Checker { path };
    if declaration.name.trim().is_empty() {
        return Err(check.fail("/name", "the workflow name is empty"));
    }
    if let Some(function) = &declaration.function {
        if function.is_empty() || function.len() > 256 {
            return Err(check.fail(
                "/function",
                format!(
                    "function name must be 1 to 256 characters, got {}",
                    function.len()
                ),
            ));
        }
    }
    check_definitions(&check, declaration)?;
    check_refs(&check, declaration)?;
    check_operations(&check, &declaration.operations)
}

fn check_definitions(check: &Checker<'_>, declaration: &Declaration) -> Checked {
    for key in declaration.definitions.keys() {
        if names::type_stem(key).is_none() {
            return Err(check.fail(
                format!("/definitions/{}", escape_pointer(key)),
                format!("definition name {key:?} has no letters or digits to make a Rust type name from"),
            ));
        }
    }
    Ok(())
}

/// Every `$ref` of every schema must be `#/definitions/<a definition of this file>`, and
/// every `pattern` must compile (the generated code compiles it again, expecting success).
fn check_refs(check: &Checker<'_>, declaration: &Declaration) -> Checked {
    for (pointer, schema) in declaration.all_schemas() {
        keywords::check(schema, &pointer)
            .map_err(|(pointer, message)| check.fail(pointer, message))?;
        walk_refs(check, declaration, schema, &mut pointer.clone())?;
    }
    Ok(())
}

fn walk_refs(
    check: &Checker<'_>,
    declaration: &Declaration,
    value: &Value,
    pointer: &mut String,
) -> Checked {
    match value {
        Value::Object(map) => {
            if let Some(target) = map.get("$ref") {
                let here = format!("{pointer}/$ref");
                let Some(target) = target.as_str() else {
                    return Err(check.fail(here, "`$ref` must be a string"));
                };
                let (file, target_pointer) = contracts::split(target);
                if let Some(file) = file {
                    // Into another declaration: checked once that file is read.
                    if file.is_empty() {
                        return Err(check.fail(here, "`$ref` is empty"));
                    }
                    if let Some(problem) = contracts::file_problem(file) {
                        return Err(check.fail(here, problem));
                    }
                    if let Err(problem) = contracts::part(target_pointer) {
                        return Err(check.fail(here, problem));
                    }
                    return walk_children(check, declaration, map, pointer);
                }
                let Some(name) = target.strip_prefix("#/definitions/") else {
                    return Err(check.fail(
                        here,
                        format!("reference {target:?} must point into this file's definitions, like \"#/definitions/Order\", or into another declaration, like \"payments.json#/output\""),
                    ));
                };
                let name = name.replace("~1", "/").replace("~0", "~");
                if !declaration.definitions.contains_key(&name) {
                    let known: Vec<&str> =
                        declaration.definitions.keys().map(String::as_str).collect();
                    return Err(check.fail(
                        here,
                        format!(
                            "reference to unknown definition {name:?} (definitions: {known:?})"
                        ),
                    ));
                }
            }
            if let Some(Value::String(pattern)) = map.get("pattern") {
                if let Err(err) = regress::Regex::new(pattern) {
                    return Err(check.fail(
                        format!("{pointer}/pattern"),
                        format!("invalid regular expression {pattern:?}: {err}"),
                    ));
                }
            }
            walk_children(check, declaration, map, pointer)
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{index}"));
                walk_refs(check, declaration, child, pointer)?;
                pointer.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn walk_children(
    check: &Checker<'_>,
    declaration: &Declaration,
    map: &serde_json::Map<String, Value>,
    pointer: &mut String,
) -> Checked {
    for (key, child) in map {
        // `enum`, `const`, `default` and `examples` hold data, not schemas.
        if matches!(key.as_str(), "enum" | "const" | "default" | "examples") {
            continue;
        }
        let len = pointer.len();
        pointer.push('/');
        pointer.push_str(&escape_pointer(key));
        walk_refs(check, declaration, child, pointer)?;
        pointer.truncate(len);
    }
    Ok(())
}

fn check_operations(check: &Checker<'_>, operations: &[Operation]) -> Checked {
    let mut by_name: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_method: BTreeMap<String, usize> = BTreeMap::new();
    for (index, op) in operations.iter().enumerate() {
        let base = format!("/operations/{index}");
        let name = op.name();
        if let Some(problem) = names::service_name_problem(name) {
            return Err(check.fail(format!("{base}/name"), problem));
        }
        if let Some(first) = by_name.insert(name, index) {
            return Err(check.fail(
                format!("{base}/name"),
                format!(
                    "duplicate operation name {name:?} (first declared at /operations/{first})"
                ),
            ));
        }
        let method = names::method_name(name)
            .map_err(|message| check.fail(format!("{base}/name"), message))?;
        if let Some(first) = by_method.insert(names::unraw(&method).to_string(), index) {
            return Err(check.fail(
                format!("{base}/name"),
                format!(
                    "operation name {name:?} makes the Rust method `{method}`, like operation {:?} at /operations/{first}; rename one of them",
                    operations[first].name()
                ),
            ));
        }
        check_operation(check, &base, op)?;
    }
    for index in 0..operations.len() {
        super::nesting::parent(operations, index)
            .map_err(|message| check.fail(format!("/operations/{index}/within"), message))?;
    }
    Ok(())
}

fn check_operation(check: &Checker<'_>, base: &str, op: &Operation) -> Checked {
    match op {
        Operation::Step(op) => {
            if let Some(retry) = &op.retry {
                let at_most_once = op.semantics == Some(StepSemantics::AtMostOncePerRetry);
                check_retry(check, &format!("{base}/retry"), retry, at_most_once)?;
            }
            if let Some(timeout) = &op.timeout {
                check_duration(
                    check,
                    &format!("{base}/timeout"),
                    timeout,
                    1,
                    MAX_WAIT_SECONDS,
                )?;
            }
        }
        Operation::Wait(op) => {
            if let Some(duration) = &op.duration {
                check_duration(
                    check,
                    &format!("{base}/duration"),
                    duration,
                    1,
                    MAX_WAIT_SECONDS,
                )?;
            }
        }
        Operation::Callback(op) => {
            if let Some(timeout) = &op.timeout {
                check_duration(
                    check,
                    &format!("{base}/timeout"),
                    timeout,
                    1,
                    MAX_CALLBACK_TIMEOUT_SECONDS,
                )?;
            }
            if let Some(timeout) = &op.heartbeat_timeout {
                check_duration(
                    check,
                    &format!("{base}/heartbeatTimeout"),
                    timeout,
                    1,
                    MAX_CALLBACK_TIMEOUT_SECONDS,
                )?;
            }
            if let Some(retry) = op.submitter.as_ref().and_then(|s| s.retry.as_ref()) {
                check_retry(check, &format!("{base}/submitter/retry"), retry, false)?;
            }
        }
        Operation::Invoke(op) => {
            if let Some(function) = &op.function {
                if function.is_empty() || function.len() > 256 {
                    return Err(check.fail(
                        format!("{base}/function"),
                        format!(
                            "function name must be 1 to 256 characters, got {}",
                            function.len()
                        ),
                    ));
                }
            }
        }
        Operation::ChildContext(_) => {}
        Operation::Map(op) => {
            check_batch(check, base, op.max_concurrency, op.completion.as_ref())?;
        }
        Operation::Parallel(op) => {
            if op.branches.is_empty() {
                return Err(check.fail(
                    format!("{base}/branches"),
                    "a parallel needs at least one branch",
                ));
            }
            let mut by_name: BTreeMap<&str, usize> = BTreeMap::new();
            let mut by_param: BTreeMap<String, usize> = BTreeMap::new();
            for (index, branch) in op.branches.iter().enumerate() {
                let here = format!("{base}/branches/{index}");
                if let Some(problem) = names::service_name_problem(branch) {
                    return Err(check.fail(here, problem.replace("operation name", "branch name")));
                }
                if let Some(first) = by_name.insert(branch, index) {
                    return Err(check.fail(
                        here,
                        format!(
                            "duplicate branch name {branch:?} (first at {base}/branches/{first})"
                        ),
                    ));
                }
                let param = names::parameter_name(branch)
                    .map_err(|message| check.fail(here.clone(), message))?;
                if let Some(first) = by_param.insert(names::unraw(&param).to_string(), index) {
                    return Err(check.fail(
                        here,
                        format!(
                            "branch name {branch:?} makes the Rust parameter `{param}`, like branch {:?} at {base}/branches/{first}; rename one of them",
                            op.branches[first]
                        ),
                    ));
                }
            }
            check_batch(check, base, op.max_concurrency, op.completion.as_ref())?;
        }
        Operation::WaitForCondition(op) => {
            if let Some(polling) = &op.polling {
                check_polling(check, &format!("{base}/polling"), polling)?;
            }
        }
    }
    Ok(())
}

fn check_duration(
    check: &Checker<'_>,
    pointer: &str,
    duration: &DurationSpec,
    min: u64,
    max: u64,
) -> Checked {
    match duration.total_seconds() {
        Some(seconds) if (min..=max).contains(&seconds) => Ok(()),
        Some(seconds) => Err(check.fail(
            pointer,
            format!("duration must be {min} to {max} seconds, got {seconds}"),
        )),
        None => Err(check.fail(pointer, "duration is too long")),
    }
}

fn check_attempts(check: &Checker<'_>, pointer: &str, attempts: Option<u32>) -> Checked {
    match attempts {
        Some(0) => Err(check.fail(
            format!("{pointer}/maxAttempts"),
            "maxAttempts must be at least 1",
        )),
        _ => Ok(()),
    }
}

fn check_rate(check: &Checker<'_>, pointer: &str, rate: Option<f64>) -> Checked {
    match rate {
        Some(rate) if !rate.is_finite() || rate < 0.0 => Err(check.fail(
            format!("{pointer}/backoffRate"),
            format!("backoffRate must be a non-negative number, got {rate}"),
        )),
        Some(0.0) => Err(check.fail(
            format!("{pointer}/backoffRate"),
            "a backoffRate of 0 makes every delay after the first zero; use 1 for equal delays",
        )),
        _ => Ok(()),
    }
}

/// The delays of a backoff, each with the runtime's default used when it is not declared.
struct Delays<'a> {
    pointer: &'a str,
    initial: (Option<&'a DurationSpec>, u64),
    max: (Option<&'a DurationSpec>, u64),
}

/// Delays are at least 1 second (the service schedules attempts in whole seconds, so a
/// zero delay would silently become one) and at most 366 days, and the initial delay may
/// not exceed the cap, declared or default (every delay would be the cap).
fn check_delays(
    check: &Checker<'_>,
    pointer: &str,
    delays: &[(&str, Option<&DurationSpec>)],
) -> Checked {
    for (field, delay) in delays {
        if let Some(delay) = delay {
            let here = format!("{pointer}/{field}");
            if delay.total_seconds() == Some(0) {
                return Err(check.fail(
                    here,
                    format!("a {field} of 0 seconds cannot be honoured: the service waits at least 1 second between attempts; declare at least {{\"seconds\": 1}}"),
                ));
            }
            check_duration(check, &here, delay, 1, MAX_WAIT_SECONDS)?;
        }
    }
    Ok(())
}

fn check_order(check: &Checker<'_>, delays: &Delays<'_>) -> Checked {
    let seconds = |(declared, default): (Option<&DurationSpec>, u64)| {
        declared
            .and_then(DurationSpec::total_seconds)
            .unwrap_or(default)
    };
    let (initial, max) = (seconds(delays.initial), seconds(delays.max));
    if initial <= max {
        return Ok(());
    }
    let pointer = delays.pointer;
    Err(match (delays.initial.0, delays.max.0) {
        (_, Some(_)) => check.fail(
            format!("{pointer}/maxDelay"),
            format!("maxDelay ({max} s) is below initialDelay ({initial} s): every delay would be {max} s; raise maxDelay or lower initialDelay"),
        ),
        _ => check.fail(
            format!("{pointer}/initialDelay"),
            format!("initialDelay ({initial} s) is above the default maxDelay ({max} s): every delay would be {max} s; declare a maxDelay of at least {initial} s"),
        ),
    })
}

/// The runtime's default delays (seconds) of the strategies with parameters.
const EXPONENTIAL_DEFAULTS: (u64, u64) = (5, 300);
const LINEAR_DEFAULTS: (u64, u64) = (1, 300);
const POLLING_DEFAULTS: (u64, u64) = (5, 300);

fn check_retry(
    check: &Checker<'_>,
    pointer: &str,
    retry: &RetryPolicy,
    at_most_once: bool,
) -> Checked {
    let (filter, max_attempts) = match retry {
        RetryPolicy::Default(preset)
        | RetryPolicy::Transient(preset)
        | RetryPolicy::ResourceAvailability(preset)
        | RetryPolicy::Critical(preset) => (preset.retry_if.as_ref(), None),
        RetryPolicy::Exponential(params) => {
            check_attempts(check, pointer, params.max_attempts)?;
            check_rate(check, pointer, params.backoff_rate)?;
            check_delays(
                check,
                pointer,
                &[
                    ("initialDelay", params.initial_delay.as_ref()),
                    ("maxDelay", params.max_delay.as_ref()),
                ],
            )?;
            check_order(
                check,
                &Delays {
                    pointer,
                    initial: (params.initial_delay.as_ref(), EXPONENTIAL_DEFAULTS.0),
                    max: (params.max_delay.as_ref(), EXPONENTIAL_DEFAULTS.1),
                },
            )?;
            (params.retry_if.as_ref(), params.max_attempts)
        }
        RetryPolicy::Linear(params) => {
            check_attempts(check, pointer, params.max_attempts)?;
            check_delays(
                check,
                pointer,
                &[
                    ("initialDelay", params.initial_delay.as_ref()),
                    ("maxDelay", params.max_delay.as_ref()),
                ],
            )?;
            if let Some(increment) = &params.increment {
                check_duration(
                    check,
                    &format!("{pointer}/increment"),
                    increment,
                    0,
                    MAX_WAIT_SECONDS,
                )?;
            }
            check_order(
                check,
                &Delays {
                    pointer,
                    initial: (params.initial_delay.as_ref(), LINEAR_DEFAULTS.0),
                    max: (params.max_delay.as_ref(), LINEAR_DEFAULTS.1),
                },
            )?;
            (params.retry_if.as_ref(), params.max_attempts)
        }
        RetryPolicy::Fixed(params) => {
            check_attempts(check, pointer, params.max_attempts)?;
            check_delays(check, pointer, &[("interval", Some(&params.interval))])?;
            (params.retry_if.as_ref(), params.max_attempts)
        }
        RetryPolicy::None(_) => (None, None),
    };
    let Some(filter) = filter else {
        return Ok(());
    };
    let here = format!("{pointer}/retryIf");
    if max_attempts == Some(1) {
        return Err(check.fail(
            here,
            "retryIf has no effect: maxAttempts 1 never retries; raise maxAttempts or drop retryIf",
        ));
    }
    check_filter(check, &here, filter, at_most_once)
}

fn check_filter(
    check: &Checker<'_>,
    pointer: &str,
    filter: &RetryFilter,
    at_most_once: bool,
) -> Checked {
    for (index, pattern) in filter.message_matches.iter().enumerate() {
        if let Err(err) = regress::Regex::new(pattern) {
            return Err(check.fail(
                format!("{pointer}/messageMatches/{index}"),
                format!("invalid regular expression {pattern:?}: {err}"),
            ));
        }
    }
    for (index, name) in filter.error_types.iter().enumerate() {
        if name.trim().is_empty() {
            return Err(check.fail(
                format!("{pointer}/errorTypes/{index}"),
                "an error type name is empty",
            ));
        }
        if !at_most_once
            && (name == STEP_INTERRUPTED || name.ends_with(&format!("::{STEP_INTERRUPTED}")))
        {
            return Err(check.fail(
                format!("{pointer}/errorTypes/{index}"),
                format!("{STEP_INTERRUPTED} never happens here: only the attempts of an at-most-once step (\"semantics\": \"at-most-once-per-retry\") are interrupted"),
            ));
        }
    }
    Ok(())
}

/// The recorded error type of an interrupted at-most-once attempt.
const STEP_INTERRUPTED: &str = "StepInterruptedError";

fn check_batch(
    check: &Checker<'_>,
    base: &str,
    max_concurrency: Option<u64>,
    completion: Option<&Completion>,
) -> Checked {
    if max_concurrency == Some(0) {
        return Err(check.fail(
            format!("{base}/maxConcurrency"),
            "maxConcurrency must be at least 1",
        ));
    }
    if let Some(completion) = completion {
        if completion.min_successful == Some(0) {
            return Err(check.fail(
                format!("{base}/completion/minSuccessful"),
                "minSuccessful must be at least 1",
            ));
        }
        if let Some(percentage) = completion.tolerated_failure_percentage {
            if !(0.0..=100.0).contains(&percentage) {
                return Err(check.fail(
                    format!("{base}/completion/toleratedFailurePercentage"),
                    format!("toleratedFailurePercentage must be 0 to 100, got {percentage}"),
                ));
            }
        }
    }
    Ok(())
}

fn check_polling(check: &Checker<'_>, pointer: &str, polling: &Polling) -> Checked {
    check_attempts(check, pointer, polling.max_attempts)?;
    check_rate(check, pointer, polling.backoff_rate)?;
    check_delays(
        check,
        pointer,
        &[
            ("initialDelay", polling.initial_delay.as_ref()),
            ("maxDelay", polling.max_delay.as_ref()),
        ],
    )?;
    check_order(
        check,
        &Delays {
            pointer,
            initial: (polling.initial_delay.as_ref(), POLLING_DEFAULTS.0),
            max: (polling.max_delay.as_ref(), POLLING_DEFAULTS.1),
        },
    )
}
