//! Settings of the runtime that are plain data: checkpoint batching, the deadline margin,
//! and the error a bad value is.

use std::time::Duration;

use crate::checkpoint::batcher::BatcherConfig;
use crate::limits::{MAX_REQUEST_BYTES, MAX_UPDATES_PER_REQUEST};

/// How the SDK groups operation updates into `CheckpointDurableExecution` calls.
///
/// One task per invocation writes checkpoints, one call at a time; updates queued while a
/// call is in flight go together in the next one, within these limits. The defaults are
/// the service's own limits, which are also the largest values accepted: 250 updates and
/// 750 KiB of JSON per call, and a 20 ms linger.
///
/// Lower limits make smaller requests (for a proxy with a smaller body limit, say); a
/// longer linger groups more updates that nobody waits for (the START of a step that runs
/// at least once per retry, of a child context) with what follows, at the cost of writing
/// them later. Updates the code waits for are never held back.
///
/// Values are checked when the runtime is built ([`RuntimeBuilder::build`](crate::RuntimeBuilder::build)).
///
/// ```
/// use std::time::Duration;
/// use lambda_durable::{CheckpointConfig, Runtime};
///
/// let checkpoints = CheckpointConfig::new()
///     .max_updates(100)
///     .max_bytes(256 * 1024)
///     .linger(Duration::from_millis(50));
/// assert!(Runtime::builder().checkpoint(checkpoints).build().is_ok());
///
/// let err = Runtime::builder()
///     .checkpoint(CheckpointConfig::new().max_updates(1000))
///     .build()
///     .unwrap_err();
/// assert_eq!(err.setting(), "CheckpointConfig::max_updates");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointConfig {
    max_updates: usize,
    max_bytes: usize,
    linger: Duration,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl Default for CheckpointConfig {
    fn default() -> Self {
        Self {
            max_updates: Self::MAX_UPDATES,
            max_bytes: Self::MAX_BYTES,
            linger: DEFAULT_LINGER,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
        }
    }
}

/// How long updates that nobody waits for wait for company, by default.
pub(crate) const DEFAULT_LINGER: Duration = Duration::from_millis(20);
/// The first wait before a failed checkpoint call is sent again, by default.
pub(crate) const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between two attempts of a checkpoint call, by default.
pub(crate) const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(2);

impl CheckpointConfig {
    /// The most updates the service takes in one call (250): the default and the largest
    /// value of [`max_updates`](Self::max_updates).
    pub const MAX_UPDATES: usize = MAX_UPDATES_PER_REQUEST;

    /// The largest request body the service takes with more than one update, in bytes of
    /// JSON (750 KiB): the default and the largest value of [`max_bytes`](Self::max_bytes).
    pub const MAX_BYTES: usize = MAX_REQUEST_BYTES;

    /// The longest [`linger`](Self::linger) (1 s, the longest batching window of the
    /// official Python SDK): longer would only delay what the execution has done.
    pub const MAX_LINGER: Duration = Duration::from_secs(1);

    /// The defaults: the service's limits and a 20 ms linger.
    pub fn new() -> Self {
        Self::default()
    }

    /// The most updates in one call, from 1 to [`MAX_UPDATES`](Self::MAX_UPDATES).
    pub fn max_updates(mut self, updates: usize) -> Self {
        self.max_updates = updates;
        self
    }

    /// The largest request body with more than one update, in bytes of JSON, from 1 to
    /// [`MAX_BYTES`](Self::MAX_BYTES). An update larger than this on its own is still sent,
    /// alone (the limits on payloads and errors apply to it).
    pub fn max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// How long updates that nobody waits for may wait for more updates to join them
    /// before they are sent, up to [`MAX_LINGER`](Self::MAX_LINGER); zero sends them at
    /// once.
    pub fn linger(mut self, linger: Duration) -> Self {
        self.linger = linger;
        self
    }

    /// The longest wait between two attempts of a call (10 s): the largest value of
    /// [`retry_backoff`](Self::retry_backoff)'s `max`. An invocation that keeps failing to
    /// checkpoint for longer is better ended, so that Lambda invokes the function again.
    pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

    /// How long the SDK waits before it sends a checkpoint or state call again after the
    /// service throttled it, answered with a server error or the connection failed: `first`
    /// after the first failure, doubling (with jitter) up to `max`. The defaults are 100 ms
    /// and 2 s. `first` must not be zero, and `first <= max <=`
    /// [`MAX_BACKOFF`](Self::MAX_BACKOFF). A test double of the service that fails on
    /// purpose can make the waits a millisecond long.
    ///
    /// ```
    /// use std::time::Duration;
    /// use lambda_durable::{CheckpointConfig, Runtime};
    ///
    /// let fast = CheckpointConfig::new().retry_backoff(Duration::from_millis(1), Duration::from_millis(4));
    /// assert!(Runtime::builder().checkpoint(fast).build().is_ok());
    ///
    /// let backwards = CheckpointConfig::new().retry_backoff(Duration::from_secs(2), Duration::from_secs(1));
    /// let err = Runtime::builder().checkpoint(backwards).build().unwrap_err();
    /// assert_eq!(err.setting(), "CheckpointConfig::retry_backoff");
    /// ```
    pub fn retry_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.initial_backoff = first;
        self.max_backoff = max;
        self
    }

    /// Checks every value against its range.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=Self::MAX_UPDATES).contains(&self.max_updates) {
            return Err(ConfigError::new(
                "CheckpointConfig::max_updates",
                format!(
                    "{} updates per call; it must be from 1 to {}, the service's limit",
                    self.max_updates,
                    Self::MAX_UPDATES
                ),
            ));
        }
        if !(1..=Self::MAX_BYTES).contains(&self.max_bytes) {
            return Err(ConfigError::new(
                "CheckpointConfig::max_bytes",
                format!(
                    "{} bytes per call; it must be from 1 to {}, the service's limit",
                    self.max_bytes,
                    Self::MAX_BYTES
                ),
            ));
        }
        if self.linger > Self::MAX_LINGER {
            return Err(ConfigError::new(
                "CheckpointConfig::linger",
                format!(
                    "{:?}; it must be at most {:?}",
                    self.linger,
                    Self::MAX_LINGER
                ),
            ));
        }
        if self.initial_backoff.is_zero()
            || self.initial_backoff > self.max_backoff
            || self.max_backoff > Self::MAX_BACKOFF
        {
            return Err(ConfigError::new(
                "CheckpointConfig::retry_backoff",
                format!(
                    "first {:?}, max {:?}; the first wait must not be zero and first <= max <= {:?}",
                    self.initial_backoff,
                    self.max_backoff,
                    Self::MAX_BACKOFF
                ),
            ));
        }
        Ok(())
    }

    /// `batcher` with these limits.
    pub(crate) fn apply(&self, batcher: BatcherConfig) -> BatcherConfig {
        BatcherConfig {
            max_updates: self.max_updates,
            max_bytes: self.max_bytes,
            linger: self.linger,
            initial_backoff: self.initial_backoff,
            max_backoff: self.max_backoff,
            ..batcher
        }
    }
}

/// A setting of the runtime that has no valid value: what [`RuntimeBuilder::build`](crate::RuntimeBuilder::build)
/// returns instead of a runtime.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {setting}: {reason}")]
pub struct ConfigError {
    setting: &'static str,
    reason: String,
}

impl ConfigError {
    fn new(setting: &'static str, reason: String) -> Self {
        Self { setting, reason }
    }

    /// The setting that is wrong: a method (`CheckpointConfig::max_updates`) or an
    /// environment variable (`LAMBDA_DURABLE_DEADLINE_MARGIN_MS`).
    pub fn setting(&self) -> &str {
        self.setting
    }
}

/// The environment variable that sets how long before the Lambda deadline an invocation
/// stops and writes what is queued, in milliseconds, when the runtime is not given one.
pub(crate) const DEADLINE_MARGIN_ENV: &str = "LAMBDA_DURABLE_DEADLINE_MARGIN_MS";

/// How long before the Lambda deadline an invocation stops running the handler and writes
/// what is queued, by default.
pub(crate) const DEFAULT_DEADLINE_MARGIN: Duration = Duration::from_secs(2);

/// The deadline margin [`DEADLINE_MARGIN_ENV`] sets: `value` is the variable's value, if
/// it is set (`Err` when it is not Unicode). Unset, the default.
pub(crate) fn deadline_margin_from(
    value: Option<Result<String, std::ffi::OsString>>,
) -> Result<Duration, ConfigError> {
    let text = match value {
        None => return Ok(DEFAULT_DEADLINE_MARGIN),
        Some(Ok(text)) => text,
        Some(Err(raw)) => raw.to_string_lossy().into_owned(),
    };
    text.trim()
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| {
            ConfigError::new(
                DEADLINE_MARGIN_ENV,
                format!("{text:?} is not a whole number of milliseconds"),
            )
        })
}

/// The deadline margin the environment sets (see [`deadline_margin_from`]).
pub(crate) fn deadline_margin_from_env() -> Result<Duration, ConfigError> {
    deadline_margin_from(std::env::var_os(DEADLINE_MARGIN_ENV).map(|raw| raw.into_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_limits_are_checked_against_the_service_limits() {
        assert_eq!(CheckpointConfig::new().validate(), Ok(()));
        let largest = CheckpointConfig::new()
            .max_updates(250)
            .max_bytes(750 * 1024)
            .linger(Duration::from_secs(1));
        assert_eq!(largest.validate(), Ok(()));
        let smallest = CheckpointConfig::new()
            .max_updates(1)
            .max_bytes(1)
            .linger(Duration::ZERO);
        assert_eq!(smallest.validate(), Ok(()));

        let cases = [
            (
                CheckpointConfig::new().max_updates(0),
                "invalid CheckpointConfig::max_updates: 0 updates per call; it must be from 1 to 250, the service's limit",
            ),
            (
                CheckpointConfig::new().max_updates(251),
                "invalid CheckpointConfig::max_updates: 251 updates per call; it must be from 1 to 250, the service's limit",
            ),
            (
                CheckpointConfig::new().max_bytes(0),
                "invalid CheckpointConfig::max_bytes: 0 bytes per call; it must be from 1 to 768000, the service's limit",
            ),
            (
                CheckpointConfig::new().max_bytes(768_001),
                "invalid CheckpointConfig::max_bytes: 768001 bytes per call; it must be from 1 to 768000, the service's limit",
            ),
            (
                CheckpointConfig::new().linger(Duration::from_millis(1001)),
                "invalid CheckpointConfig::linger: 1.001s; it must be at most 1s",
            ),
        ];
        for (config, message) in cases {
            let err = config.validate().unwrap_err();
            assert_eq!(err.to_string(), message);
        }
    }

    #[test]
    fn the_checkpoint_config_reaches_the_batcher() {
        let batcher = CheckpointConfig::new()
            .max_updates(7)
            .max_bytes(4096)
            .linger(Duration::from_millis(3))
            .apply(BatcherConfig::default());
        assert_eq!(batcher.max_updates, 7);
        assert_eq!(batcher.max_bytes, 4096);
        assert_eq!(batcher.linger, Duration::from_millis(3));
        // The retry settings are not the checkpoint config's.
        assert_eq!(batcher.max_attempts, BatcherConfig::default().max_attempts);
        // The defaults are the batcher's.
        let defaults = CheckpointConfig::new().apply(BatcherConfig {
            max_updates: 1,
            max_bytes: 1,
            linger: Duration::ZERO,
            ..BatcherConfig::default()
        });
        assert_eq!(defaults.max_updates, BatcherConfig::default().max_updates);
        assert_eq!(defaults.max_bytes, BatcherConfig::default().max_bytes);
        assert_eq!(defaults.linger, BatcherConfig::default().linger);
    }

    #[test]
    fn the_deadline_margin_comes_from_the_environment_variable() {
        assert_eq!(deadline_margin_from(None), Ok(DEFAULT_DEADLINE_MARGIN));
        assert_eq!(
            deadline_margin_from(Some(Ok(" 3500 ".to_owned()))),
            Ok(Duration::from_millis(3500))
        );
        assert_eq!(
            deadline_margin_from(Some(Ok("0".to_owned()))),
            Ok(Duration::ZERO)
        );
        for bad in ["2s", "-1", "", "1.5"] {
            let err = deadline_margin_from(Some(Ok(bad.to_owned()))).unwrap_err();
            assert_eq!(err.setting(), DEADLINE_MARGIN_ENV);
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }
}
