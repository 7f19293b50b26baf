//! Replay-safe helpers (`uuid`, `random_u64`, `now`): values derived from the execution
//! and the position in the code, so that every replay sees the same ones.

use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

/// Where a replay-safe helper is called: the execution, the namespace (its path), how
/// many operations the namespace had reserved, and how many helpers it had called.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HelperCall<'a> {
    pub(crate) execution_arn: &'a str,
    pub(crate) namespace: &'a str,
    pub(crate) purpose: &'a str,
    pub(crate) operations: u64,
    pub(crate) sequence: u64,
}

/// The 32 bytes a helper call derives its value from: the same for the same call on
/// every replay, different for another execution, namespace, purpose or position.
pub(crate) fn helper_digest(call: &HelperCall<'_>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(call.execution_arn.as_bytes());
    hasher.update(b"\0");
    hasher.update(call.namespace.as_bytes());
    hasher.update(b"\0");
    hasher.update(call.purpose.as_bytes());
    hasher.update(call.operations.to_le_bytes());
    hasher.update(call.sequence.to_le_bytes());
    hasher.finalize().into()
}

/// The time `now()` gives for a namespace clock (epoch milliseconds); the epoch when the
/// clock has not seen a time (a negative value).
pub(crate) fn time_at(millis: i64) -> SystemTime {
    match u64::try_from(millis) {
        Ok(millis) => SystemTime::UNIX_EPOCH + Duration::from_millis(millis),
        Err(_) => SystemTime::UNIX_EPOCH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_of_a_call_changes_the_digest() {
        let base = HelperCall {
            execution_arn: "arn:aws:lambda:us-east-1:123:function:f:$LATEST/durable-execution/e/1",
            namespace: "2-1",
            purpose: "uuid",
            operations: 3,
            sequence: 0,
        };
        let variants = [
            HelperCall {
                execution_arn: "arn:other",
                ..base
            },
            HelperCall {
                namespace: "2-2",
                ..base
            },
            HelperCall {
                namespace: "",
                ..base
            },
            HelperCall {
                purpose: "random",
                ..base
            },
            HelperCall {
                operations: 4,
                ..base
            },
            HelperCall {
                sequence: 1,
                ..base
            },
        ];
        let digest = helper_digest(&base);
        assert_eq!(
            digest,
            helper_digest(&base),
            "the same call gives the same value"
        );
        let mut seen = vec![digest];
        for variant in variants {
            let other = helper_digest(&variant);
            assert!(!seen.contains(&other), "{variant:?} collides");
            seen.push(other);
        }
        // The separators keep the fields apart.
        let joined = HelperCall {
            execution_arn: "a",
            namespace: "b",
            ..base
        };
        let shifted = HelperCall {
            execution_arn: "ab",
            namespace: "",
            ..base
        };
        assert_ne!(helper_digest(&joined), helper_digest(&shifted));
    }

    #[test]
    fn clock_times() {
        assert_eq!(time_at(i64::MIN), SystemTime::UNIX_EPOCH);
        assert_eq!(time_at(-1), SystemTime::UNIX_EPOCH);
        assert_eq!(time_at(0), SystemTime::UNIX_EPOCH);
        assert_eq!(
            time_at(1_700_000_000_123),
            SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)
        );
    }
}
