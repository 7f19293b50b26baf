//! Replay-safe helpers: values that look random or time-dependent but are the same on
//! every replay, because they are derived from the execution and the position in the code.

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use super::DurableContext;
use crate::replay::{is_terminal, operation_id};
use crate::wire::OperationType;

impl DurableContext {
    /// A deterministic UUID (version 4 layout): the same value at the same place of the
    /// handler on every replay, different for every call and every execution.
    ///
    /// ```no_run
    /// # async fn f(ctx: lambda_durable::DurableContext) {
    /// let idempotency_key = ctx.uuid();
    /// # }
    /// ```
    pub fn uuid(&self) -> uuid::Uuid {
        let digest = self.derive("uuid");
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// A deterministic random number: the same at the same place of the handler on every
    /// replay.
    pub fn random_u64(&self) -> u64 {
        let digest = self.derive("random");
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(bytes)
    }

    /// A deterministic "current time": the end time the service recorded for the latest
    /// finished operation of this context before this point (or the execution's start
    /// time), so it is the same on every replay. It advances as operations finish; it is
    /// not the wall clock.
    pub fn now(&self) -> SystemTime {
        let exec = self.exec();
        let issued = self.inner.counter.load(Ordering::Relaxed);
        let prefix = &self.inner.prefix;
        for n in (1..=issued).rev() {
            let path = if prefix.is_empty() {
                n.to_string()
            } else {
                format!("{prefix}-{n}")
            };
            let millis = exec.operations.get(&operation_id(&path)).and_then(|op| {
                is_terminal(op.status)
                    .then(|| op.end_timestamp.as_ref().map(|ts| ts.epoch_millis()))
                    .flatten()
            });
            if let Some(millis) = millis {
                return at_millis(millis);
            }
        }
        let start = self.inner.parent_id.as_ref().map_or_else(
            || exec.operations.find_start(OperationType::Execution),
            |parent| {
                exec.operations
                    .get(parent)
                    .and_then(|op| op.start_timestamp.map(|ts| ts.epoch_millis()))
            },
        );
        start
            .or_else(|| exec.operations.find_start(OperationType::Execution))
            .map_or(SystemTime::UNIX_EPOCH, at_millis)
    }

    /// 32 bytes derived from the execution, this context's position and a per-context
    /// sequence number of helper calls.
    fn derive(&self, purpose: &str) -> [u8; 32] {
        let sequence = self.inner.helper_counter.fetch_add(1, Ordering::Relaxed);
        let operations = self.inner.counter.load(Ordering::Relaxed);
        let mut hasher = Sha256::new();
        hasher.update(self.execution_arn().as_bytes());
        hasher.update(b"\0");
        hasher.update(self.inner.prefix.as_bytes());
        hasher.update(b"\0");
        hasher.update(purpose.as_bytes());
        hasher.update(operations.to_le_bytes());
        hasher.update(sequence.to_le_bytes());
        hasher.finalize().into()
    }
}

fn at_millis(millis: i64) -> SystemTime {
    match u64::try_from(millis) {
        Ok(millis) => SystemTime::UNIX_EPOCH + Duration::from_millis(millis),
        Err(_) => SystemTime::UNIX_EPOCH,
    }
}
