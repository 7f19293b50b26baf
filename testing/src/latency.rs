//! [`Latency`]: how long each call to the local service takes, for benchmarks and tests
//! that measure what round trips cost.

use std::time::Duration;

/// How long each call to the local service takes: every checkpoint and state call of the
/// SDK, and the service's invoke of the function (see [`LocalRunner::latency`]). A call
/// takes `fixed` plus a random share of `jitter` (uniform, from a generator seeded by
/// [`LocalRunner::seed`] when one is set), half on the way there and half on the way back.
///
/// Latency is real time on tokio's clock: a test with a paused clock
/// (`#[tokio::test(start_paused = true)]`) sees the time pass without waiting for it.
///
/// ```
/// use std::time::Duration;
/// use lambda_durable_testing::Latency;
///
/// let latency = Latency::fixed(Duration::from_millis(15)).with_jitter(Duration::from_millis(5));
/// assert_eq!(latency.fixed_part(), Duration::from_millis(15));
/// assert_eq!(latency.jitter(), Duration::from_millis(5));
/// ```
///
/// [`LocalRunner::latency`]: crate::LocalRunner::latency
/// [`LocalRunner::seed`]: crate::LocalRunner::seed
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Latency {
    fixed: Duration,
    jitter: Duration,
}

impl Latency {
    /// No latency: calls are answered at once (the default).
    pub const NONE: Self = Self {
        fixed: Duration::ZERO,
        jitter: Duration::ZERO,
    };

    /// Every call takes `fixed`.
    pub const fn fixed(fixed: Duration) -> Self {
        Self {
            fixed,
            jitter: Duration::ZERO,
        }
    }

    /// Every call also takes up to `jitter` more, at random.
    pub const fn with_jitter(self, jitter: Duration) -> Self {
        Self { jitter, ..self }
    }

    /// The time every call takes.
    pub const fn fixed_part(&self) -> Duration {
        self.fixed
    }

    /// The most a call takes on top of [`fixed_part`](Self::fixed_part).
    pub const fn jitter(&self) -> Duration {
        self.jitter
    }

    /// Whether calls take no time.
    pub fn is_none(&self) -> bool {
        self.fixed.is_zero() && self.jitter.is_zero()
    }

    /// The time one call takes, drawing the jitter from `rng`.
    pub(crate) fn sample(&self, rng: &mut fastrand::Rng) -> Duration {
        if self.jitter.is_zero() {
            return self.fixed;
        }
        let jitter = u64::try_from(self.jitter.as_nanos()).unwrap_or(u64::MAX);
        self.fixed
            .saturating_add(Duration::from_nanos(rng.u64(0..=jitter)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_stay_within_fixed_and_fixed_plus_jitter() {
        let mut rng = fastrand::Rng::with_seed(7);
        let fixed = Duration::from_millis(15);
        let latency = Latency::fixed(fixed).with_jitter(Duration::from_millis(5));
        let samples: Vec<Duration> = (0..1000).map(|_| latency.sample(&mut rng)).collect();
        assert!(samples
            .iter()
            .all(|d| *d >= fixed && *d <= fixed + latency.jitter()));
        // The jitter is spread, not constant.
        let distinct: std::collections::BTreeSet<Duration> = samples.iter().copied().collect();
        assert!(distinct.len() > 100, "{}", distinct.len());
        assert_eq!(Latency::fixed(fixed).sample(&mut rng), fixed);
        assert!(Latency::NONE.is_none());
        assert!(!latency.is_none());
    }
}
