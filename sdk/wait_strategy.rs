//! Wait strategies for `wait_for_condition`.
//!
//! A wait-for-condition operation runs a check, then asks its [`WaitStrategy`]
//! whether to poll again. The strategy sees the state the check returned and
//! `attempts_made`, the number of checks run so far (1 after the first). It answers
//! with a [`WaitDecision`]:
//!
//! * [`WaitDecision::Stop`]: the condition is met; the operation succeeds with the
//!   state.
//! * [`WaitDecision::Continue`]: the state is checkpointed and the invocation
//!   suspends; the service re-invokes the function after the delay (whole seconds,
//!   rounded up, at least 1 s) to run the check again. The SDK never sleeps
//!   in-process.
//! * An `Err(WaitStrategyError)` fails the operation with that error.
//!
//! [`WaitStrategyConfig`] is the standard strategy: poll until the condition holds
//! ([`WaitStrategyConfig::until`]) or while the work goes on
//! ([`WaitStrategyConfig::poll_while`]), with exponential backoff, up to a number of
//! attempts. The two constructors name what their predicate means, so that one cannot be
//! given for the other. Any closure
//! `Fn(&S, u32) -> Result<WaitDecision, WaitStrategyError> + Send + Sync + 'static`
//! is a strategy too.

use std::fmt;
use std::time::Duration;

use crate::retry::{backoff_seconds, sanitize_rate, Jitter};

/// The answer of a wait strategy after a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitDecision {
    /// Check again after `delay` (sent as whole seconds, rounded up, at least 1 s).
    Continue {
        /// How long the service waits before the next check.
        delay: Duration,
    },
    /// The condition is met: stop polling and succeed with the current state.
    Stop,
}

impl WaitDecision {
    /// Shorthand for [`WaitDecision::Continue`] with the given delay.
    pub fn continue_after(delay: Duration) -> Self {
        Self::Continue { delay }
    }
}

/// Error from a wait strategy; it fails the wait-for-condition operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitStrategyError {
    message: String,
}

impl WaitStrategyError {
    /// Creates an error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The error for a condition still unmet after `attempts_made` checks.
    pub fn exhausted(attempts_made: u32) -> Self {
        Self::new(format!(
            "wait for condition exhausted {attempts_made} attempts"
        ))
    }

    /// The error message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for WaitStrategyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WaitStrategyError {}

/// Decides, after a check, whether to poll again and after how long.
///
/// Implemented by [`WaitStrategyConfig`] and by closures
/// `Fn(&S, u32) -> Result<WaitDecision, WaitStrategyError> + Send + Sync + 'static`
/// (annotate the closure's first argument as `&S`).
pub trait WaitStrategy<S>: Send + Sync + 'static {
    /// Decides what follows check number `attempts_made` (1 after the first), given
    /// the state that check returned.
    fn decide(&self, state: &S, attempts_made: u32) -> Result<WaitDecision, WaitStrategyError>;
}

impl<S, F> WaitStrategy<S> for F
where
    F: Fn(&S, u32) -> Result<WaitDecision, WaitStrategyError> + Send + Sync + 'static,
{
    fn decide(&self, state: &S, attempts_made: u32) -> Result<WaitDecision, WaitStrategyError> {
        self(state, attempts_made)
    }
}

/// Polls until a condition holds, with exponential backoff and an attempt limit.
///
/// Made with [`until`](Self::until) (the predicate says the condition is met) or
/// [`poll_while`](Self::poll_while) (the predicate says to keep polling). After check `n`
/// with state `s`:
///
/// 1. if the condition holds for `s`, [`WaitDecision::Stop`] (a met condition wins, even
///    on the last attempt);
/// 2. else if `n >= max_attempts`, the error
///    "wait for condition exhausted `n` attempts";
/// 3. else continue after `min(initial_delay * backoff_rate^(n-1), max_delay)` with
///    jitter applied, rounded up to whole seconds (at least 1 s).
///
/// The defaults are 60 attempts, 5 s initial delay, 300 s maximum, rate 1.5 and
/// [`Jitter::Full`].
pub struct WaitStrategyConfig<S> {
    should_continue_polling: Box<dyn Fn(&S) -> bool + Send + Sync + 'static>,
    max_attempts: u32,
    initial_delay: Duration,
    max_delay: Duration,
    backoff_rate: f64,
    jitter: Jitter,
}

impl<S> fmt::Debug for WaitStrategyConfig<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitStrategyConfig")
            .field("max_attempts", &self.max_attempts)
            .field("initial_delay", &self.initial_delay)
            .field("max_delay", &self.max_delay)
            .field("backoff_rate", &self.backoff_rate)
            .field("jitter", &self.jitter)
            .finish_non_exhaustive()
    }
}

impl<S> WaitStrategyConfig<S> {
    /// Polls until `done(state)` is true (60 attempts, 5 s, 300 s max, ×1.5, full
    /// jitter).
    ///
    /// ```
    /// use lambda_durable::wait_strategy::{WaitDecision, WaitStrategy, WaitStrategyConfig};
    ///
    /// struct Job { done: bool }
    ///
    /// let strategy = WaitStrategyConfig::until(|job: &Job| job.done);
    /// assert_eq!(strategy.decide(&Job { done: true }, 1), Ok(WaitDecision::Stop));
    /// assert!(matches!(
    ///     strategy.decide(&Job { done: false }, 1),
    ///     Ok(WaitDecision::Continue { .. })
    /// ));
    /// ```
    pub fn until(done: impl Fn(&S) -> bool + Send + Sync + 'static) -> Self {
        Self::poll_while(move |state| !done(state))
    }

    /// Polls while `keep_polling(state)` is true: the opposite of
    /// [`until`](Self::until), for predicates that read as "still running".
    ///
    /// ```
    /// use lambda_durable::wait_strategy::{WaitDecision, WaitStrategy, WaitStrategyConfig};
    ///
    /// let strategy = WaitStrategyConfig::poll_while(|status: &String| status == "RUNNING");
    /// assert_eq!(strategy.decide(&"DONE".to_string(), 1), Ok(WaitDecision::Stop));
    /// ```
    pub fn poll_while(keep_polling: impl Fn(&S) -> bool + Send + Sync + 'static) -> Self {
        Self {
            should_continue_polling: Box::new(keep_polling),
            max_attempts: 60,
            initial_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(300),
            backoff_rate: 1.5,
            jitter: Jitter::Full,
        }
    }

    /// Sets the total number of checks, the first one included; 0 is treated as 1.
    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// Sets the delay after the first check.
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

    /// The decision after check `attempts_made` with `state`, with `rand01` in
    /// `[0, 1)` as the random number for the jitter.
    pub(crate) fn decide_with(
        &self,
        state: &S,
        attempts_made: u32,
        rand01: f64,
    ) -> Result<WaitDecision, WaitStrategyError> {
        if !(self.should_continue_polling)(state) {
            return Ok(WaitDecision::Stop);
        }
        if attempts_made >= self.max_attempts {
            return Err(WaitStrategyError::exhausted(attempts_made));
        }
        Ok(WaitDecision::continue_after(Duration::from_secs(
            backoff_seconds(
                self.initial_delay,
                self.max_delay,
                self.backoff_rate,
                self.jitter,
                attempts_made,
                rand01,
            ),
        )))
    }
}

impl<S: 'static> WaitStrategy<S> for WaitStrategyConfig<S> {
    fn decide(&self, state: &S, attempts_made: u32) -> Result<WaitDecision, WaitStrategyError> {
        self.decide_with(state, attempts_made, fastrand::f64())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn below(limit: u32) -> WaitStrategyConfig<u32> {
        WaitStrategyConfig::poll_while(move |s: &u32| *s < limit)
    }

    #[test]
    fn default_delays_without_jitter() {
        let s = below(100).jitter(Jitter::None);
        let got: Vec<Duration> = (1..=5)
            .map(|n| match s.decide_with(&0, n, 0.0).unwrap() {
                WaitDecision::Continue { delay } => delay,
                WaitDecision::Stop => panic!("should continue"),
            })
            .collect();
        // 5, 7.5, 11.25, 16.875, 25.3125 -> ceil
        assert_eq!(got, vec![secs(5), secs(8), secs(12), secs(17), secs(26)]);
        // 5 * 1.5^14 = 1459.6 -> capped at 300.
        assert_eq!(
            s.decide_with(&0, 15, 0.0).unwrap(),
            WaitDecision::continue_after(secs(300))
        );
    }

    #[test]
    fn default_full_jitter_with_injected_random() {
        let s = below(100);
        assert_eq!(
            s.decide_with(&0, 1, 0.5).unwrap(),
            WaitDecision::continue_after(secs(3)) // 2.5 -> 3
        );
        assert_eq!(
            s.decide_with(&0, 3, 0.5).unwrap(),
            WaitDecision::continue_after(secs(6)) // 5.625 -> 6
        );
        assert_eq!(
            s.decide_with(&0, 20, 0.25).unwrap(),
            WaitDecision::continue_after(secs(75))
        );
        assert_eq!(
            s.decide_with(&0, 2, 0.0).unwrap(),
            WaitDecision::continue_after(secs(1))
        );
        let half = below(100).jitter(Jitter::Half);
        assert_eq!(
            half.decide_with(&0, 2, 0.5).unwrap(),
            WaitDecision::continue_after(secs(6)) // 3.75 + 1.875 = 5.625 -> 6
        );
    }

    #[test]
    fn custom_backoff_settings() {
        let s = below(100)
            .initial_delay(secs(1))
            .max_delay(secs(60))
            .backoff_rate(2.0)
            .jitter(Jitter::None)
            .max_attempts(10);
        let got: Vec<u64> = (1..=8)
            .map(|n| match s.decide_with(&0, n, 0.0).unwrap() {
                WaitDecision::Continue { delay } => delay.as_secs(),
                WaitDecision::Stop => panic!("should continue"),
            })
            .collect();
        assert_eq!(got, vec![1, 2, 4, 8, 16, 32, 60, 60]);
        let nan_rate = below(100).backoff_rate(f64::NAN).jitter(Jitter::None);
        assert_eq!(
            nan_rate.decide_with(&0, 7, 0.0).unwrap(),
            WaitDecision::continue_after(secs(5))
        );
    }

    #[test]
    fn condition_met_stops() {
        let s = below(10);
        assert_eq!(s.decide_with(&10, 1, 0.5).unwrap(), WaitDecision::Stop);
        assert_eq!(s.decide(&11, 3).unwrap(), WaitDecision::Stop);
    }

    #[test]
    fn condition_met_wins_over_exhaustion() {
        let s = below(10).max_attempts(3);
        assert_eq!(s.decide_with(&10, 3, 0.5).unwrap(), WaitDecision::Stop);
        assert_eq!(s.decide_with(&10, 99, 0.5).unwrap(), WaitDecision::Stop);
    }

    #[test]
    fn exhaustion_is_an_error_naming_the_attempts() {
        let s = below(10).max_attempts(3);
        assert!(matches!(
            s.decide_with(&0, 2, 0.5).unwrap(),
            WaitDecision::Continue { .. }
        ));
        let err = s.decide_with(&0, 3, 0.5).unwrap_err();
        assert_eq!(err.to_string(), "wait for condition exhausted 3 attempts");
        assert_eq!(err.message(), "wait for condition exhausted 3 attempts");
        assert_eq!(err, WaitStrategyError::exhausted(3));
        let default_limit = below(10);
        assert!(default_limit.decide_with(&0, 59, 0.5).is_ok());
        assert_eq!(
            default_limit
                .decide_with(&0, 60, 0.5)
                .unwrap_err()
                .to_string(),
            "wait for condition exhausted 60 attempts"
        );
        // 0 attempts is treated as 1: the first unmet check is already exhausted.
        let zero = below(10).max_attempts(0);
        assert_eq!(
            zero.decide(&0, 1).unwrap_err().to_string(),
            "wait for condition exhausted 1 attempts"
        );
    }

    #[test]
    fn random_jitter_stays_in_range() {
        let s = below(10);
        for _ in 0..200 {
            match s.decide(&0, 3).unwrap() {
                WaitDecision::Continue { delay } => {
                    assert!((1..=12).contains(&delay.as_secs()), "{delay:?}");
                    assert_eq!(delay.subsec_nanos(), 0);
                }
                WaitDecision::Stop => panic!("should continue"),
            }
        }
    }

    #[test]
    fn closures_are_strategies() {
        let s = |state: &String, n: u32| {
            if state == "done" {
                Ok(WaitDecision::Stop)
            } else if n >= 3 {
                Err(WaitStrategyError::new(format!("gave up on {state}")))
            } else {
                Ok(WaitDecision::continue_after(secs(2)))
            }
        };
        assert_eq!(
            WaitStrategy::decide(&s, &"pending".to_owned(), 1).unwrap(),
            WaitDecision::continue_after(secs(2))
        );
        assert_eq!(
            WaitStrategy::decide(&s, &"done".to_owned(), 5).unwrap(),
            WaitDecision::Stop
        );
        let boxed: Box<dyn WaitStrategy<String>> = Box::new(s);
        let err = boxed.decide(&"pending".to_owned(), 3).unwrap_err();
        assert_eq!(err.to_string(), "gave up on pending");
        let as_error: &dyn std::error::Error = &err;
        assert!(as_error.source().is_none());
    }

    #[test]
    fn until_and_poll_while_read_the_predicate_oppositely() {
        let stops = |s: &WaitStrategyConfig<u32>, state: u32| {
            s.decide_with(&state, 1, 0.0).unwrap() == WaitDecision::Stop
        };
        let until = WaitStrategyConfig::until(|n: &u32| *n >= 3);
        let poll_while = WaitStrategyConfig::poll_while(|n: &u32| *n >= 3);
        for state in 0..6 {
            assert_eq!(stops(&until, state), state >= 3, "until, {state}");
            assert_eq!(stops(&poll_while, state), state < 3, "poll_while, {state}");
        }
    }

    #[test]
    fn config_is_a_boxed_strategy_and_debug_prints() {
        #[derive(Debug)]
        struct Job {
            status: &'static str,
        }
        let s: Box<dyn WaitStrategy<Job>> =
            Box::new(WaitStrategyConfig::until(|j: &Job| j.status == "SUCCEEDED"));
        assert_eq!(
            s.decide(
                &Job {
                    status: "SUCCEEDED"
                },
                1
            )
            .unwrap(),
            WaitDecision::Stop
        );
        assert!(matches!(
            s.decide(&Job { status: "RUNNING" }, 1).unwrap(),
            WaitDecision::Continue { .. }
        ));
        let text = format!("{:?}", below(1));
        assert!(text.contains("max_attempts: 60"), "{text}");
        assert!(text.contains("backoff_rate: 1.5"), "{text}");
    }
}
