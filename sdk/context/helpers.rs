//! Replay-safe helpers: values that look random or time-dependent but are the same on
//! every replay, because they are derived from the execution and the position in the code.

use std::sync::atomic::Ordering;
use std::time::SystemTime;

use super::DurableContext;
use crate::replay::helpers::{helper_digest, time_at, HelperCall};

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

    /// A deterministic "current time": the time at which the latest operation awaited in
    /// this context finished (a step, wait, callback, invoke or wait-for-condition), or at
    /// which the context started. It is the same on every replay, and it advances only as
    /// awaited operations finish; it is not the wall clock.
    ///
    /// Operations inside a child context, a map or parallel branch move the clock of that
    /// context only: after a child context, `now()` in its parent has not moved (the
    /// context's own end is only known to the service once it is written). Inside the
    /// operands of a combinator the clock moves as in the context, and after the combinator
    /// it stands at the latest time the operands that decided its outcome reached.
    pub fn now(&self) -> SystemTime {
        time_at(self.namespace().clock())
    }

    /// 32 bytes derived from the execution, the current namespace's position and a
    /// per-namespace sequence number of helper calls.
    fn derive(&self, purpose: &str) -> [u8; 32] {
        let namespace = self.namespace();
        let sequence = namespace.helper_counter.fetch_add(1, Ordering::Relaxed);
        helper_digest(&HelperCall {
            execution_arn: self.execution_arn(),
            namespace: &namespace.prefix,
            purpose,
            operations: namespace.counter.load(Ordering::Relaxed),
            sequence,
        })
    }
}
