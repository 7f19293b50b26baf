//! Retry strategies for durable steps.
//!
//! # How retries work in a durable step
//!
//! When the body of a step fails, the SDK asks the step's [`RetryStrategy`] what to
//! do. The strategy runs *after* the failed attempt and sees two things:
//!
//! * a [`FailedAttempt`]: the error's type name, message and data exactly as they are
//!   recorded in the checkpoint, so that the same decision is reached when the
//!   execution is replayed (a [`TypedError`] comes back whole with
//!   [`FailedAttempt::downcast`]);
//! * `attempts_made`: the number of the attempt that just failed. It starts at 1
//!   (the value after the first failure).
//!
//! It answers with a [`RetryDecision`]:
//!
//! * [`RetryDecision::Retry`] checkpoints a `RETRY` with the delay and suspends the
//!   invocation. The delay is sent as whole seconds, at least 1 (fractions are
//!   rounded up), because it is the *service* that schedules the next attempt and
//!   re-invokes the function when the delay has passed. The SDK never sleeps
//!   in-process.
//! * [`RetryDecision::Stop`] checkpoints a `FAIL` and the step returns its error.
//!
//! The built-in strategies are [`ExponentialBackoff`], [`LinearBackoff`],
//! [`FixedDelay`] and [`NoRetry`]; [`presets`] holds ready-made configurations,
//! including the one used when a step has no strategy ([`presets::default`]). Any
//! closure `Fn(&FailedAttempt<'_>, u32) -> RetryDecision + Send + Sync + 'static` is
//! a strategy too.
//!
//! The configurable strategies take filters: by message (`retry_if_message_matches`,
//! `retry_if_message_contains`), by error type (`retry_on::<E>()`, or by name with
//! `retry_if_error_type`) and by typed error (`retry_if::<E>(predicate)`). Once a filter
//! is set, only failures that match one are retried, with one exception: an at-most-once
//! attempt that an interruption cut short ([`STEP_INTERRUPTED`]) did not fail on its own
//! and is retried within the attempt limit whatever the filters say, unless the strategy
//! says [`dont_retry_interrupted`](ExponentialBackoff::dont_retry_interrupted).
//!
//! The strategies are client-side only: the service sees nothing but the delay.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::TypedError;

pub(crate) use crate::limits::MAX_DELAY_SECONDS;

/// What a retry strategy sees of a failed attempt.
///
/// The values are those recorded in the checkpoint's error object, so a strategy
/// that only looks at them makes the same decision when the execution is replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FailedAttempt<'a> {
    /// The error's type name (the checkpoint's `ErrorType`).
    pub error_type: &'a str,
    /// The error's message (the checkpoint's `ErrorMessage`).
    pub message: &'a str,
    /// The error's data (the checkpoint's `ErrorData`), JSON; recorded for
    /// [`TypedError`]s and [`ErrorRecord::with_data`](crate::ErrorRecord::with_data).
    pub error_data: Option<&'a str>,
}

impl<'a> FailedAttempt<'a> {
    /// Describes a failed attempt by its error type name and message.
    pub fn new(error_type: &'a str, message: &'a str) -> Self {
        Self {
            error_type,
            message,
            error_data: None,
        }
    }

    /// The failed attempt that recorded `error` (its type, message and data).
    pub(crate) fn from_recorded(error: &'a crate::wire::ErrorObject) -> Self {
        Self::new(
            error.error_type.as_deref().unwrap_or("Error"),
            error.error_message.as_deref().unwrap_or(""),
        )
        .with_data(error.error_data.as_deref())
    }

    /// The same failed attempt with its recorded `ErrorData`.
    pub fn with_data(mut self, error_data: Option<&'a str>) -> Self {
        self.error_data = error_data;
        self
    }

    /// The [`TypedError`] the attempt failed with, rebuilt from its record; `None` for
    /// errors of other types.
    pub fn downcast<E: TypedError>(&self) -> Option<E> {
        crate::error::typed_from(Some(self.error_type), self.error_data)
    }

    /// Whether the attempt failed with an error of type `E` (by its recorded type name:
    /// the type's path; see [`TypedError::error_type`] for types that choose their own).
    pub fn is<E: ?Sized + 'static>(&self) -> bool {
        crate::error::type_matches(self.error_type, &crate::error::short_type_name::<E>())
    }
}

/// The `ErrorType` of an at-most-once step attempt that an interruption cut short.
pub const STEP_INTERRUPTED: &str = "StepInterruptedError";

/// The `ErrorType` of a step attempt (or a wait-for-condition check) that ran past its
/// timeout, or could not finish before the invocation's deadline.
pub const STEP_TIMEOUT: &str = "StepTimeoutError";

/// The answer of a retry strategy after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Try again after `delay` (sent as whole seconds, rounded up, at least 1 s).
    Retry {
        /// How long the service waits before the next attempt.
        delay: Duration,
    },
    /// Do not try again: the step fails with the error of the last attempt.
    Stop,
}

impl RetryDecision {
    /// Shorthand for [`RetryDecision::Retry`] with the given delay.
    pub fn retry_after(delay: Duration) -> Self {
        Self::Retry { delay }
    }
}

/// Decides whether a failed step attempt is retried, and after how long.
///
/// Implemented by the built-in strategies and by closures
/// `Fn(&FailedAttempt<'_>, u32) -> RetryDecision + Send + Sync + 'static`
/// (annotate the closure's first argument as `&FailedAttempt<'_>`, or pass the closure
/// through [`from_fn`]).
pub trait RetryStrategy: Send + Sync + 'static {
    /// Decides what follows the failed attempt number `attempts_made` (1 after the
    /// first failure).
    fn decide(&self, failure: &FailedAttempt<'_>, attempts_made: u32) -> RetryDecision;
}

impl<F> RetryStrategy for F
where
    F: Fn(&FailedAttempt<'_>, u32) -> RetryDecision + Send + Sync + 'static,
{
    fn decide(&self, failure: &FailedAttempt<'_>, attempts_made: u32) -> RetryDecision {
        self(failure, attempts_made)
    }
}

/// Random variation applied to a computed delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// No variation: the delay is the computed one.
    None,
    /// A uniformly random delay between zero and the computed one.
    Full,
    /// Half the computed delay plus a random part of up to the other half.
    Half,
}

impl Jitter {
    /// Applies the jitter to `base` seconds with a random number in `[0, 1)`.
    fn apply(self, base: f64, rand01: f64) -> f64 {
        let r = if rand01.is_nan() {
            0.0
        } else {
            rand01.clamp(0.0, 1.0)
        };
        match self {
            Jitter::None => base,
            Jitter::Full => r * base,
            Jitter::Half => base / 2.0 + r * base / 2.0,
        }
    }
}

/// Error returned when a retry strategy is configured with an invalid value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryConfigError {
    pattern: String,
    reason: String,
}

impl RetryConfigError {
    /// The message pattern that was rejected.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

impl fmt::Display for RetryConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid retry message pattern `{}`: {}",
            self.pattern, self.reason
        )
    }
}

impl std::error::Error for RetryConfigError {}

/// Rounds a delay in seconds to what the service accepts: whole seconds, fractions
/// rounded up, at least 1 and at most [`MAX_DELAY_SECONDS`]. NaN gives 1.
pub(crate) fn whole_seconds(seconds: f64) -> u64 {
    if seconds.is_nan() || seconds <= 1.0 {
        return 1;
    }
    let up = seconds.ceil();
    if up >= MAX_DELAY_SECONDS as f64 {
        MAX_DELAY_SECONDS
    } else {
        up as u64
    }
}

/// Converts a strategy's delay to the `NextAttemptDelaySeconds` value: whole
/// seconds, rounded up, between 1 and [`MAX_DELAY_SECONDS`].
pub(crate) fn whole_delay_seconds(delay: Duration) -> u64 {
    let up = delay
        .as_secs()
        .saturating_add(u64::from(delay.subsec_nanos() > 0));
    up.clamp(1, MAX_DELAY_SECONDS)
}

/// Exponential backoff in whole seconds, shared by the step retry and the
/// wait-for-condition strategies.
///
/// `base = min(initial * rate^(attempts_made - 1), max)`, then `jitter` with the
/// random number `rand01` in `[0, 1)`, then `max(1, ceil(x))` (capped at
/// [`MAX_DELAY_SECONDS`]). `attempts_made` 0 is treated as 1.
pub(crate) fn backoff_seconds(
    initial: Duration,
    max: Duration,
    rate: f64,
    jitter: Jitter,
    attempts_made: u32,
    rand01: f64,
) -> u64 {
    let exponent = f64::from(attempts_made.saturating_sub(1));
    let raw = initial.as_secs_f64() * rate.powf(exponent);
    // `0 * inf` (a zero initial delay with an overflowing factor) is NaN: a zero
    // initial delay stays zero.
    let base = if raw.is_nan() {
        0.0
    } else {
        raw.min(max.as_secs_f64())
    };
    whole_seconds(jitter.apply(base, rand01))
}

/// Replaces a NaN or negative backoff rate by 1.0 (a constant delay).
pub(crate) fn sanitize_rate(rate: f64) -> f64 {
    if rate.is_nan() || rate < 0.0 {
        1.0
    } else {
        rate
    }
}

/// One retryable-message filter.
#[derive(Debug, Clone)]
enum MessagePattern {
    Regex(regress::Regex),
    Substring(String),
}

impl MessagePattern {
    fn matches(&self, message: &str) -> bool {
        match self {
            MessagePattern::Regex(regex) => regex.find(message).is_some(),
            MessagePattern::Substring(needle) => message.contains(needle.as_str()),
        }
    }
}

/// A retry filter on the failed attempt, set with `retry_if`.
type Predicate = Arc<dyn Fn(&FailedAttempt<'_>) -> bool + Send + Sync>;

/// Which failures may be retried. With no filter set, every failure may. An interrupted
/// at-most-once attempt ([`STEP_INTERRUPTED`]) may be retried whatever the filters say,
/// unless it is excluded.
#[derive(Clone, Default)]
struct RetryFilter {
    patterns: Vec<MessagePattern>,
    error_types: Vec<String>,
    predicates: Vec<Predicate>,
    not_interrupted: bool,
}

impl fmt::Debug for RetryFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryFilter")
            .field("patterns", &self.patterns)
            .field("error_types", &self.error_types)
            .field("predicates", &self.predicates.len())
            .field("not_interrupted", &self.not_interrupted)
            .finish()
    }
}

impl RetryFilter {
    fn allows(&self, failure: &FailedAttempt<'_>) -> bool {
        if failure.error_type == STEP_INTERRUPTED {
            return !self.not_interrupted;
        }
        if self.patterns.is_empty() && self.error_types.is_empty() && self.predicates.is_empty() {
            return true;
        }
        self.patterns.iter().any(|p| p.matches(failure.message))
            || self
                .error_types
                .iter()
                .any(|t| crate::error::type_matches(failure.error_type, t))
            || self.predicates.iter().any(|p| p(failure))
    }

    fn add_regex(&mut self, pattern: &str) -> Result<(), RetryConfigError> {
        let regex = regress::Regex::new(pattern).map_err(|err| RetryConfigError {
            pattern: pattern.to_owned(),
            reason: err.to_string(),
        })?;
        self.patterns.push(MessagePattern::Regex(regex));
        Ok(())
    }
}

/// Generates the filter setters shared by the configurable strategies.
macro_rules! filter_setters {
    () => {
        /// Retries failures whose message contains a match of `pattern`, a regular
        /// expression in ECMAScript syntax (searched, not anchored).
        ///
        /// Once any filter is set, only failures matching at least one filter are
        /// retried. Returns an error naming the pattern if it does not compile.
        pub fn retry_if_message_matches(mut self, pattern: &str) -> Result<Self, RetryConfigError> {
            self.filter.add_regex(pattern)?;
            Ok(self)
        }

        /// Retries failures whose message contains `substring`.
        ///
        /// Once any filter is set, only failures matching at least one filter are
        /// retried.
        pub fn retry_if_message_contains(mut self, substring: impl Into<String>) -> Self {
            self.filter
                .patterns
                .push(MessagePattern::Substring(substring.into()));
            self
        }

        /// Retries failures whose recorded error type is `name`: the whole path
        /// (`my_app::TransientError`) or its last segments (`TransientError`).
        ///
        /// Once any filter is set, only failures matching at least one filter are
        /// retried. [`retry_on`](Self::retry_on) names the type itself, so that a
        /// rename cannot silently change what is retried.
        pub fn retry_if_error_type(mut self, name: impl Into<String>) -> Self {
            self.filter.error_types.push(name.into());
            self
        }

        /// Retries failures with an error of type `E` (recorded by its type name).
        ///
        /// Once any filter is set, only failures matching at least one filter are
        /// retried.
        pub fn retry_on<E: ?Sized + 'static>(self) -> Self {
            self.retry_if_error_type(crate::error::short_type_name::<E>())
        }

        /// Retries failures with a [`TypedError`] of type `E` for which `predicate`
        /// holds; it gets the error rebuilt from the record, the same on every replay.
        ///
        /// Once any filter is set, only failures matching at least one filter are
        /// retried.
        pub fn retry_if<E: TypedError>(
            mut self,
            predicate: impl Fn(&E) -> bool + Send + Sync + 'static,
        ) -> Self {
            self.filter
                .predicates
                .push(Arc::new(move |failure: &FailedAttempt<'_>| {
                    failure
                        .downcast::<E>()
                        .is_some_and(|error| predicate(&error))
                }));
            self
        }

        /// Does not retry an at-most-once attempt that an interruption cut short
        /// ([`STEP_INTERRUPTED`]). By default such an attempt is retried whatever the
        /// other filters say (it did not fail on its own), within the attempt limit.
        pub fn dont_retry_interrupted(mut self) -> Self {
            self.filter.not_interrupted = true;
            self
        }
    };
}

/// Retries with exponentially growing delays.
///
/// After failed attempt `n`: stop if `n >= max_attempts` or if filters are set and
/// none matches; otherwise wait `min(initial_delay * backoff_rate^(n-1), max_delay)`
/// with jitter applied, rounded up to whole seconds (at least 1 s).
///
/// The defaults are 3 attempts, 5 s initial delay, 300 s maximum, rate 2.0 and
/// [`Jitter::Full`], with no filter (every failure is retried).
///
/// ```
/// use std::time::Duration;
/// use lambda_durable::retry::{ExponentialBackoff, Jitter};
///
/// let strategy = ExponentialBackoff::new()
///     .max_attempts(5)
///     .initial_delay(Duration::from_secs(2))
///     .max_delay(Duration::from_secs(60))
///     .backoff_rate(1.5)
///     .jitter(Jitter::Half)
///     .retry_if_message_matches("timed? ?out")
///     .expect("valid pattern");
/// # let _ = strategy;
/// ```
#[derive(Debug, Clone)]
pub struct ExponentialBackoff {
    max_attempts: u32,
    initial_delay: Duration,
    max_delay: Duration,
    backoff_rate: f64,
    jitter: Jitter,
    filter: RetryFilter,
}

impl Default for ExponentialBackoff {
    fn default() -> Self {
        Self::new()
    }
}

impl ExponentialBackoff {
    /// Creates the strategy with the generic defaults (3 attempts, 5 s, 300 s, ×2.0,
    /// full jitter, every failure retried).
    pub fn new() -> Self {
        Self {
            max_attempts: 3,
            initial_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(300),
            backoff_rate: 2.0,
            jitter: Jitter::Full,
            filter: RetryFilter::default(),
        }
    }

    /// Sets the total number of attempts, the first one included; 0 is treated as 1.
    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// Sets the delay after the first failed attempt.
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Sets the cap on the computed delay (applied before jitter; it wins over a
    /// larger initial delay).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets the factor between consecutive delays; NaN or negative is treated as 1.0.
    pub fn backoff_rate(mut self, rate: f64) -> Self {
        self.backoff_rate = sanitize_rate(rate);
        self
    }

    /// Sets the jitter applied to the computed delay.
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    filter_setters!();

    /// The delay after failed attempt `attempts_made`, with `rand01` in `[0, 1)` as
    /// the random number for the jitter.
    pub(crate) fn delay_for(&self, attempts_made: u32, rand01: f64) -> Duration {
        Duration::from_secs(backoff_seconds(
            self.initial_delay,
            self.max_delay,
            self.backoff_rate,
            self.jitter,
            attempts_made,
            rand01,
        ))
    }
}

impl RetryStrategy for ExponentialBackoff {
    fn decide(&self, failure: &FailedAttempt<'_>, attempts_made: u32) -> RetryDecision {
        if attempts_made >= self.max_attempts || !self.filter.allows(failure) {
            return RetryDecision::Stop;
        }
        RetryDecision::retry_after(self.delay_for(attempts_made, fastrand::f64()))
    }
}

/// Retries with delays that grow by a fixed increment.
///
/// After failed attempt `n`: stop if `n >= max_attempts` or if filters are set and
/// none matches; otherwise wait `min(initial_delay + increment * (n-1), max_delay)`
/// with jitter applied, rounded up to whole seconds (at least 1 s).
///
/// The defaults are 6 attempts, 1 s initial delay, 1 s increment, 300 s maximum and
/// [`Jitter::None`], with no filter.
#[derive(Debug, Clone)]
pub struct LinearBackoff {
    max_attempts: u32,
    initial_delay: Duration,
    increment: Duration,
    max_delay: Duration,
    jitter: Jitter,
    filter: RetryFilter,
}

impl Default for LinearBackoff {
    fn default() -> Self {
        Self::new()
    }
}

impl LinearBackoff {
    /// Creates the strategy with its defaults (6 attempts, 1 s, +1 s, 300 s, no
    /// jitter, every failure retried).
    pub fn new() -> Self {
        Self {
            max_attempts: 6,
            initial_delay: Duration::from_secs(1),
            increment: Duration::from_secs(1),
            max_delay: Duration::from_secs(300),
            jitter: Jitter::None,
            filter: RetryFilter::default(),
        }
    }

    /// Sets the total number of attempts, the first one included; 0 is treated as 1.
    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// Sets the delay after the first failed attempt.
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Sets how much the delay grows after each further failed attempt.
    pub fn increment(mut self, increment: Duration) -> Self {
        self.increment = increment;
        self
    }

    /// Sets the cap on the computed delay (applied before jitter).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets the jitter applied to the computed delay.
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    filter_setters!();

    /// The delay after failed attempt `attempts_made`, with `rand01` in `[0, 1)` as
    /// the random number for the jitter.
    pub(crate) fn delay_for(&self, attempts_made: u32, rand01: f64) -> Duration {
        let steps = attempts_made.saturating_sub(1);
        let base = self
            .initial_delay
            .saturating_add(self.increment.saturating_mul(steps))
            .min(self.max_delay);
        Duration::from_secs(whole_seconds(self.jitter.apply(base.as_secs_f64(), rand01)))
    }
}

impl RetryStrategy for LinearBackoff {
    fn decide(&self, failure: &FailedAttempt<'_>, attempts_made: u32) -> RetryDecision {
        if attempts_made >= self.max_attempts || !self.filter.allows(failure) {
            return RetryDecision::Stop;
        }
        RetryDecision::retry_after(self.delay_for(attempts_made, fastrand::f64()))
    }
}

/// Retries after the same delay every time.
///
/// After failed attempt `n`: stop if `n >= max_attempts` or if filters are set and
/// none matches; otherwise wait the interval, rounded up to whole seconds (at least
/// 1 s). The default is 5 attempts, with no filter.
#[derive(Debug, Clone)]
pub struct FixedDelay {
    max_attempts: u32,
    interval: Duration,
    filter: RetryFilter,
}

impl FixedDelay {
    /// Creates the strategy with the given delay between attempts (5 attempts, every
    /// failure retried).
    pub fn new(interval: Duration) -> Self {
        Self {
            max_attempts: 5,
            interval,
            filter: RetryFilter::default(),
        }
    }

    /// Sets the total number of attempts, the first one included; 0 is treated as 1.
    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    filter_setters!();

    /// The delay before every retry, in whole seconds.
    pub(crate) fn delay(&self) -> Duration {
        Duration::from_secs(whole_delay_seconds(self.interval))
    }
}

impl RetryStrategy for FixedDelay {
    fn decide(&self, failure: &FailedAttempt<'_>, attempts_made: u32) -> RetryDecision {
        if attempts_made >= self.max_attempts || !self.filter.allows(failure) {
            return RetryDecision::Stop;
        }
        RetryDecision::retry_after(self.delay())
    }
}

/// Never retries: the first failure is final.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoRetry;

impl RetryStrategy for NoRetry {
    fn decide(&self, _failure: &FailedAttempt<'_>, _attempts_made: u32) -> RetryDecision {
        RetryDecision::Stop
    }
}

/// Ready-made retry strategies (the values of the Python and JavaScript SDKs).
pub mod presets {
    use std::time::Duration;

    use super::{ExponentialBackoff, FixedDelay, Jitter, LinearBackoff, NoRetry};

    /// The strategy used when a step has none: 6 attempts, 5 s, 60 s max, ×2, full
    /// jitter.
    pub fn default() -> ExponentialBackoff {
        ExponentialBackoff::new()
            .max_attempts(6)
            .initial_delay(Duration::from_secs(5))
            .max_delay(Duration::from_secs(60))
            .backoff_rate(2.0)
            .jitter(Jitter::Full)
    }

    /// No retry at all (1 attempt).
    pub fn none() -> NoRetry {
        NoRetry
    }

    /// For transient faults: 3 attempts, 5 s, 300 s max, ×2, half jitter.
    pub fn transient() -> ExponentialBackoff {
        ExponentialBackoff::new()
            .max_attempts(3)
            .initial_delay(Duration::from_secs(5))
            .max_delay(Duration::from_secs(300))
            .backoff_rate(2.0)
            .jitter(Jitter::Half)
    }

    /// For resources that take time to become available: 5 attempts, 5 s, 300 s max,
    /// ×2, full jitter.
    pub fn resource_availability() -> ExponentialBackoff {
        ExponentialBackoff::new()
            .max_attempts(5)
            .initial_delay(Duration::from_secs(5))
            .max_delay(Duration::from_secs(300))
            .backoff_rate(2.0)
            .jitter(Jitter::Full)
    }

    /// For critical operations: 10 attempts, 1 s, 60 s max, ×1.5, no jitter.
    pub fn critical() -> ExponentialBackoff {
        ExponentialBackoff::new()
            .max_attempts(10)
            .initial_delay(Duration::from_secs(1))
            .max_delay(Duration::from_secs(60))
            .backoff_rate(1.5)
            .jitter(Jitter::None)
    }

    /// Linear growth: 6 attempts, 1 s then +1 s each time, 300 s max, no jitter.
    pub fn linear() -> LinearBackoff {
        LinearBackoff::new()
    }

    /// The same delay every time (PY's default interval is 5 s): 5 attempts.
    pub fn fixed(interval: Duration) -> FixedDelay {
        FixedDelay::new(interval)
    }
}

/// A retry strategy from a function of the failed attempt and the number of attempts made.
///
/// Use it to pass a closure without annotating its argument types:
///
/// ```
/// use std::time::Duration;
/// use lambda_durable::retry::{self, RetryDecision};
///
/// let strategy = retry::from_fn(|failure, attempts| {
///     if failure.error_type == "Throttled" && attempts < 10 {
///         RetryDecision::retry_after(Duration::from_secs(u64::from(attempts) * 2))
///     } else {
///         RetryDecision::Stop
///     }
/// });
/// # let _ = strategy;
/// ```
pub fn from_fn<F>(decide: F) -> F
where
    F: Fn(&FailedAttempt<'_>, u32) -> RetryDecision + Send + Sync + 'static,
{
    decide
}

/// The strategy used for a step that has none ([`presets::default`]).
pub(crate) fn default_strategy() -> Arc<dyn RetryStrategy> {
    Arc::new(presets::default())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn failure<'a>(error_type: &'a str, message: &'a str) -> FailedAttempt<'a> {
        FailedAttempt::new(error_type, message)
    }

    fn delays_none(s: &ExponentialBackoff, upto: u32) -> Vec<u64> {
        (1..=upto)
            .map(|n| s.clone().jitter(Jitter::None).delay_for(n, 0.0).as_secs())
            .collect()
    }

    #[test]
    fn default_preset_delays_without_jitter() {
        assert_eq!(
            delays_none(&presets::default(), 6),
            vec![5, 10, 20, 40, 60, 60]
        );
    }

    #[test]
    fn default_preset_full_jitter_with_injected_random() {
        let s = presets::default();
        assert_eq!(s.delay_for(1, 0.5), secs(3)); // 2.5 -> ceil 3
        assert_eq!(s.delay_for(3, 0.5), secs(10));
        assert_eq!(s.delay_for(4, 0.25), secs(10));
        assert_eq!(s.delay_for(6, 0.5), secs(30)); // capped at 60 before jitter
        assert_eq!(s.delay_for(2, 0.0), secs(1)); // 0 -> at least 1 s
        assert_eq!(s.delay_for(5, 0.999), secs(60)); // 59.94 -> 60
    }

    #[test]
    fn default_preset_stops_at_six_attempts() {
        let s = presets::default();
        let f = failure("Error", "boom");
        for n in 1..6 {
            match s.decide(&f, n) {
                RetryDecision::Retry { delay } => {
                    assert!(delay >= secs(1) && delay <= secs(60), "{delay:?}");
                    assert_eq!(delay.subsec_nanos(), 0);
                }
                RetryDecision::Stop => panic!("attempt {n} should retry"),
            }
        }
        assert_eq!(s.decide(&f, 6), RetryDecision::Stop);
        assert_eq!(s.decide(&f, 7), RetryDecision::Stop);
    }

    #[test]
    fn generic_defaults() {
        let s = ExponentialBackoff::new();
        assert_eq!(delays_none(&s, 3), vec![5, 10, 20]);
        assert_eq!(s.delay_for(2, 0.5), secs(5)); // full jitter on 10
        let f = failure("Error", "x");
        assert!(matches!(s.decide(&f, 2), RetryDecision::Retry { .. }));
        assert_eq!(s.decide(&f, 3), RetryDecision::Stop);
        // Default trait gives the same configuration.
        assert_eq!(
            delays_none(&ExponentialBackoff::default(), 3),
            vec![5, 10, 20]
        );
    }

    #[test]
    fn transient_preset_half_jitter() {
        let s = presets::transient();
        // base 5, 10, 20; HALF = base/2 + r*base/2
        assert_eq!(s.delay_for(1, 0.0), secs(3)); // 2.5 -> 3
        assert_eq!(s.delay_for(1, 0.5), secs(4)); // 3.75 -> 4
        assert_eq!(s.delay_for(2, 0.5), secs(8)); // 7.5 -> 8
        assert_eq!(s.delay_for(3, 0.75), secs(18)); // 17.5 -> 18
        assert_eq!(delays_none(&s, 3), vec![5, 10, 20]);
        let f = failure("E", "m");
        assert!(matches!(s.decide(&f, 2), RetryDecision::Retry { .. }));
        assert_eq!(s.decide(&f, 3), RetryDecision::Stop);
    }

    #[test]
    fn resource_availability_preset() {
        let s = presets::resource_availability();
        assert_eq!(delays_none(&s, 5), vec![5, 10, 20, 40, 80]);
        assert_eq!(s.delay_for(5, 0.5), secs(40));
        let f = failure("E", "m");
        assert!(matches!(s.decide(&f, 4), RetryDecision::Retry { .. }));
        assert_eq!(s.decide(&f, 5), RetryDecision::Stop);
    }

    #[test]
    fn critical_preset_no_jitter() {
        let s = presets::critical();
        let got: Vec<u64> = (1..=10).map(|n| s.delay_for(n, 0.3).as_secs()).collect();
        // 1, 1.5, 2.25, 3.375, 5.0625, 7.59, 11.39, 17.09, 25.63, 38.44 -> ceil
        assert_eq!(got, vec![1, 2, 3, 4, 6, 8, 12, 18, 26, 39]);
        assert_eq!(s.delay_for(20, 0.0), secs(60)); // capped
        let f = failure("E", "m");
        assert!(matches!(s.decide(&f, 9), RetryDecision::Retry { .. }));
        assert_eq!(s.decide(&f, 10), RetryDecision::Stop);
        // Decisions of a no-jitter strategy are exact.
        assert_eq!(s.decide(&f, 3), RetryDecision::retry_after(secs(3)));
    }

    #[test]
    fn linear_preset() {
        let s = presets::linear();
        let got: Vec<u64> = (1..=6).map(|n| s.delay_for(n, 0.9).as_secs()).collect();
        assert_eq!(got, vec![1, 2, 3, 4, 5, 6]);
        let f = failure("E", "m");
        assert_eq!(s.decide(&f, 4), RetryDecision::retry_after(secs(4)));
        assert_eq!(s.decide(&f, 6), RetryDecision::Stop);
        let capped = LinearBackoff::new()
            .initial_delay(secs(10))
            .increment(secs(20))
            .max_delay(secs(45))
            .max_attempts(10);
        let got: Vec<u64> = (1..=4)
            .map(|n| capped.delay_for(n, 0.0).as_secs())
            .collect();
        assert_eq!(got, vec![10, 30, 45, 45]);
        let jittered = capped.jitter(Jitter::Full);
        assert_eq!(jittered.delay_for(2, 0.5), secs(15));
        assert_eq!(
            jittered.clone().jitter(Jitter::Half).delay_for(2, 0.5),
            secs(23)
        ); // 22.5
    }

    #[test]
    fn fixed_preset() {
        let s = presets::fixed(secs(7));
        let f = failure("E", "m");
        for n in 1..5 {
            assert_eq!(s.decide(&f, n), RetryDecision::retry_after(secs(7)));
        }
        assert_eq!(s.decide(&f, 5), RetryDecision::Stop);
        // Sub-second and zero intervals round up to whole seconds, at least 1.
        let frac = FixedDelay::new(Duration::from_millis(2500));
        assert_eq!(frac.decide(&f, 1), RetryDecision::retry_after(secs(3)));
        let zero = FixedDelay::new(Duration::ZERO).max_attempts(2);
        assert_eq!(zero.decide(&f, 1), RetryDecision::retry_after(secs(1)));
        assert_eq!(zero.decide(&f, 2), RetryDecision::Stop);
    }

    #[test]
    fn none_preset_never_retries() {
        let s = presets::none();
        assert_eq!(s.decide(&failure("E", "m"), 1), RetryDecision::Stop);
        assert_eq!(NoRetry.decide(&failure("E", "m"), 0), RetryDecision::Stop);
    }

    #[test]
    fn max_attempts_zero_and_one_mean_no_retry() {
        let f = failure("E", "m");
        for n in [0, 1] {
            let s = ExponentialBackoff::new().max_attempts(n);
            assert_eq!(s.decide(&f, 1), RetryDecision::Stop);
            let l = LinearBackoff::new().max_attempts(n);
            assert_eq!(l.decide(&f, 1), RetryDecision::Stop);
            let x = FixedDelay::new(secs(1)).max_attempts(n);
            assert_eq!(x.decide(&f, 1), RetryDecision::Stop);
        }
        let two = ExponentialBackoff::new().max_attempts(2);
        assert!(matches!(two.decide(&f, 1), RetryDecision::Retry { .. }));
        assert_eq!(two.decide(&f, 2), RetryDecision::Stop);
    }

    #[test]
    fn no_filter_retries_everything() {
        let s = ExponentialBackoff::new();
        assert!(matches!(
            s.decide(&failure("AnyType", ""), 1),
            RetryDecision::Retry { .. }
        ));
    }

    #[test]
    fn message_pattern_filter_is_searched() {
        let s = ExponentialBackoff::new()
            .jitter(Jitter::None)
            .retry_if_message_matches("time[d]? ?out")
            .unwrap();
        assert_eq!(
            s.decide(&failure("Error", "request timed out after 3s"), 1),
            RetryDecision::retry_after(secs(5))
        );
        assert_eq!(
            s.decide(&failure("Error", "Timeout"), 1),
            RetryDecision::Stop,
            "matching is case-sensitive"
        );
        assert_eq!(
            s.decide(&failure("Error", "access denied"), 1),
            RetryDecision::Stop
        );
        // Anchors are honoured.
        let anchored = ExponentialBackoff::new()
            .retry_if_message_matches("^throttl")
            .unwrap();
        assert!(matches!(
            anchored.decide(&failure("E", "throttled"), 1),
            RetryDecision::Retry { .. }
        ));
        assert_eq!(
            anchored.decide(&failure("E", "was throttled"), 1),
            RetryDecision::Stop
        );
    }

    #[test]
    fn substring_filter() {
        let s = LinearBackoff::new().retry_if_message_contains("Throttl");
        assert_eq!(
            s.decide(&failure("E", "ThrottlingException: slow down"), 2),
            RetryDecision::retry_after(secs(2))
        );
        assert_eq!(s.decide(&failure("E", "throttled"), 2), RetryDecision::Stop);
        // Regex metacharacters are literal in a substring filter.
        let lit = FixedDelay::new(secs(2)).retry_if_message_contains("a.b");
        assert_eq!(
            lit.decide(&failure("E", "x a.b y"), 1),
            RetryDecision::retry_after(secs(2))
        );
        assert_eq!(lit.decide(&failure("E", "axb"), 1), RetryDecision::Stop);
    }

    #[test]
    fn typed_and_interrupted_filters() {
        #[derive(Debug, thiserror::Error, serde::Serialize, serde::Deserialize)]
        enum Gateway {
            #[error("busy for {0} s")]
            Busy(u32),
            #[error("refused")]
            Refused,
        }
        impl TypedError for Gateway {}
        #[derive(Debug, thiserror::Error)]
        #[error("transient")]
        struct Transient;

        let name = Gateway::error_type();
        let busy = serde_json::to_string(&Gateway::Busy(3)).unwrap_or_default();
        let refused = serde_json::to_string(&Gateway::Refused).unwrap_or_default();
        let transient = crate::error::short_type_name::<Transient>();
        let s = FixedDelay::new(secs(1))
            .max_attempts(3)
            .retry_if::<Gateway>(|error| matches!(error, Gateway::Busy(_)))
            .retry_on::<Transient>();
        let rows = [
            // type, data, retried
            (name.as_str(), Some(busy.as_str()), true),
            (name.as_str(), Some(refused.as_str()), false),
            (name.as_str(), None, false),
            (transient.as_str(), None, true),
            ("Transient", None, false),
            ("Other", Some(busy.as_str()), false),
            // An interrupted attempt is retried whatever the filters say.
            (STEP_INTERRUPTED, None, true),
        ];
        for (error_type, data, retried) in rows {
            let attempt = failure(error_type, "m").with_data(data);
            let expected = if retried {
                RetryDecision::retry_after(secs(1))
            } else {
                RetryDecision::Stop
            };
            assert_eq!(s.decide(&attempt, 1), expected, "{error_type} {data:?}");
        }
        // ... within the attempt limit.
        assert_eq!(
            s.decide(&failure(STEP_INTERRUPTED, "m"), 3),
            RetryDecision::Stop
        );
        // Excluded explicitly, with or without other filters.
        let excluded = FixedDelay::new(secs(1)).dont_retry_interrupted();
        assert_eq!(
            excluded.decide(&failure(STEP_INTERRUPTED, "m"), 1),
            RetryDecision::Stop
        );
        assert_eq!(
            excluded.decide(&failure("Other", "m"), 1),
            RetryDecision::retry_after(secs(1))
        );
        let messages = ExponentialBackoff::new().retry_if_message_contains("timeout");
        assert_ne!(
            messages.decide(&failure(STEP_INTERRUPTED, "interrupted"), 1),
            RetryDecision::Stop
        );
        assert!(failure(&transient, "m").is::<Transient>());
        assert!(!failure("Other", "m").is::<Transient>());
        assert_eq!(
            failure(&name, "m")
                .with_data(Some(&busy))
                .downcast::<Gateway>()
                .map(|g| g.to_string()),
            Some("busy for 3 s".to_string())
        );
    }

    #[test]
    fn error_type_filter_alone_does_not_retry_other_types() {
        let s = ExponentialBackoff::new()
            .jitter(Jitter::None)
            .retry_if_error_type("ServiceUnavailable");
        assert_eq!(
            s.decide(&failure("ServiceUnavailable", "anything"), 1),
            RetryDecision::retry_after(secs(5))
        );
        // Setting only a type filter leaves the message filters empty: no `.*`.
        assert_eq!(
            s.decide(&failure("ValidationError", "anything"), 1),
            RetryDecision::Stop
        );
        // Exact type name, not a prefix or substring.
        assert_eq!(
            s.decide(&failure("ServiceUnavailableX", "x"), 1),
            RetryDecision::Stop
        );
    }

    #[test]
    fn filters_combine_with_or() {
        let s = ExponentialBackoff::new()
            .jitter(Jitter::None)
            .retry_if_error_type("Throttled")
            .retry_if_message_contains("busy")
            .retry_if_message_matches("^5\\d\\d")
            .unwrap();
        let retry = RetryDecision::retry_after(secs(10));
        assert_eq!(s.decide(&failure("Throttled", "x"), 2), retry);
        assert_eq!(s.decide(&failure("E", "server busy"), 2), retry);
        assert_eq!(s.decide(&failure("E", "503 unavailable"), 2), retry);
        assert_eq!(
            s.decide(&failure("E", "404 not found"), 2),
            RetryDecision::Stop
        );
        // Attempt limit wins over a matching filter.
        assert_eq!(s.decide(&failure("Throttled", "x"), 3), RetryDecision::Stop);
    }

    #[test]
    fn invalid_regex_is_reported_with_the_pattern() {
        let err = ExponentialBackoff::new()
            .retry_if_message_matches("(unclosed")
            .unwrap_err();
        assert_eq!(err.pattern(), "(unclosed");
        let text = err.to_string();
        assert!(text.contains("`(unclosed`"), "{text}");
        assert!(text.starts_with("invalid retry message pattern"), "{text}");
        assert!(text.len() > "invalid retry message pattern `(unclosed`: ".len());
        let as_error: &dyn std::error::Error = &err;
        assert!(as_error.source().is_none());
        assert!(LinearBackoff::new().retry_if_message_matches("[").is_err());
        assert!(FixedDelay::new(secs(1))
            .retry_if_message_matches("a{2,1}")
            .is_err());
    }

    #[test]
    fn invalid_rates_are_clamped() {
        for rate in [f64::NAN, -2.0] {
            let s = ExponentialBackoff::new()
                .backoff_rate(rate)
                .jitter(Jitter::None);
            assert_eq!(delays_none(&s, 3), vec![5, 5, 5]);
        }
        let shrinking = ExponentialBackoff::new()
            .backoff_rate(0.5)
            .initial_delay(secs(8))
            .jitter(Jitter::None);
        assert_eq!(delays_none(&shrinking, 5), vec![8, 4, 2, 1, 1]);
        let zero_rate = ExponentialBackoff::new().backoff_rate(0.0);
        assert_eq!(delays_none(&zero_rate, 2), vec![5, 1]);
        let infinite = ExponentialBackoff::new().backoff_rate(f64::INFINITY);
        assert_eq!(delays_none(&infinite, 2), vec![5, 300]);
    }

    #[test]
    fn extreme_values_do_not_panic() {
        let s = ExponentialBackoff::new()
            .max_attempts(u32::MAX)
            .initial_delay(Duration::ZERO)
            .max_delay(Duration::MAX)
            .jitter(Jitter::None);
        assert_eq!(s.delay_for(u32::MAX, 0.0), secs(1)); // 0 * inf stays 0
        let huge = ExponentialBackoff::new()
            .max_delay(Duration::MAX)
            .jitter(Jitter::None);
        assert_eq!(huge.delay_for(u32::MAX, 0.0), secs(MAX_DELAY_SECONDS));
        let lin = LinearBackoff::new()
            .max_delay(Duration::MAX)
            .increment(Duration::MAX);
        assert_eq!(lin.delay_for(u32::MAX, 0.0), secs(MAX_DELAY_SECONDS));
        // max_delay below initial_delay: the cap wins.
        let inverted = ExponentialBackoff::new()
            .initial_delay(secs(100))
            .max_delay(secs(30))
            .jitter(Jitter::None);
        assert_eq!(delays_none(&inverted, 2), vec![30, 30]);
        // Random numbers outside [0, 1) are clamped.
        let full = ExponentialBackoff::new();
        assert_eq!(full.delay_for(1, f64::NAN), secs(1));
        assert_eq!(full.delay_for(1, 7.0), secs(5));
        assert_eq!(full.delay_for(1, -3.0), secs(1));
    }

    #[test]
    fn sub_second_delays_round_up() {
        let s = ExponentialBackoff::new()
            .initial_delay(Duration::from_millis(1500))
            .jitter(Jitter::None);
        assert_eq!(delays_none(&s, 3), vec![2, 3, 6]);
    }

    #[test]
    fn rounding_helpers() {
        assert_eq!(whole_seconds(f64::NAN), 1);
        assert_eq!(whole_seconds(-5.0), 1);
        assert_eq!(whole_seconds(0.2), 1);
        assert_eq!(whole_seconds(1.0), 1);
        assert_eq!(whole_seconds(1.01), 2);
        assert_eq!(whole_seconds(f64::INFINITY), MAX_DELAY_SECONDS);
        assert_eq!(whole_delay_seconds(Duration::ZERO), 1);
        assert_eq!(whole_delay_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_delay_seconds(Duration::from_millis(1001)), 2);
        assert_eq!(whole_delay_seconds(secs(42)), 42);
        assert_eq!(whole_delay_seconds(Duration::MAX), MAX_DELAY_SECONDS);
        assert_eq!(
            backoff_seconds(secs(5), secs(300), 1.5, Jitter::None, 3, 0.0),
            12 // 11.25 -> 12
        );
        assert_eq!(
            backoff_seconds(secs(5), secs(300), 1.5, Jitter::None, 0, 0.0),
            5
        );
    }

    #[test]
    fn random_jitter_stays_in_range() {
        let full = presets::default();
        let half = presets::transient();
        let f = failure("E", "m");
        for _ in 0..200 {
            match full.decide(&f, 4) {
                RetryDecision::Retry { delay } => assert!((1..=40).contains(&delay.as_secs())),
                RetryDecision::Stop => panic!("should retry"),
            }
            match half.decide(&f, 2) {
                RetryDecision::Retry { delay } => assert!((5..=10).contains(&delay.as_secs())),
                RetryDecision::Stop => panic!("should retry"),
            }
        }
    }

    #[test]
    fn closures_are_strategies() {
        let s = |f: &FailedAttempt<'_>, n: u32| {
            if f.error_type == "Fatal" || n >= 4 {
                RetryDecision::Stop
            } else {
                RetryDecision::retry_after(secs(u64::from(n) * 7))
            }
        };
        assert_eq!(
            RetryStrategy::decide(&s, &failure("E", "m"), 2),
            RetryDecision::retry_after(secs(14))
        );
        assert_eq!(
            RetryStrategy::decide(&s, &failure("Fatal", "m"), 1),
            RetryDecision::Stop
        );
        let boxed: Arc<dyn RetryStrategy> = Arc::new(s);
        assert_eq!(boxed.decide(&failure("E", "m"), 4), RetryDecision::Stop);
        // Closures can capture configured strategies and delegate to them.
        let inner = presets::critical();
        let wrapper = move |f: &FailedAttempt<'_>, n: u32| match inner.decide(f, n) {
            RetryDecision::Retry { delay } => RetryDecision::retry_after(delay * 2),
            RetryDecision::Stop => RetryDecision::Stop,
        };
        assert_eq!(
            wrapper.decide(&failure("E", "m"), 3),
            RetryDecision::retry_after(secs(6))
        );
    }

    #[test]
    fn default_strategy_is_the_default_preset() {
        let s = default_strategy();
        let f = failure("Error", "boom");
        match s.decide(&f, 1) {
            RetryDecision::Retry { delay } => assert!((1..=5).contains(&delay.as_secs())),
            RetryDecision::Stop => panic!("first failure should retry"),
        }
        assert!(matches!(s.decide(&f, 5), RetryDecision::Retry { .. }));
        assert_eq!(s.decide(&f, 6), RetryDecision::Stop);
    }

    #[test]
    fn strategies_are_send_sync_static() {
        fn assert_strategy<T: RetryStrategy>() {}
        assert_strategy::<ExponentialBackoff>();
        assert_strategy::<LinearBackoff>();
        assert_strategy::<FixedDelay>();
        assert_strategy::<NoRetry>();
    }
}
