//! The fault schedule of a scenario: which service failures hit which calls, and the page
//! size of the operation log.

use lambda_durable_testing::{Fault, FaultKind, LocalRunner};
use proptest::prelude::*;

use crate::program::Features;

/// At most this many crashes and deadlines per execution: each one can interrupt an
/// at-most-once attempt, and `normalize` gives such steps room for that many extra
/// attempts.
pub const MAX_CRASHES: u32 = 3;

/// One injected fault; the number is a raw draw that [`FaultPlan::apply`] maps onto the
/// calls the fault-free run made, so that every fault lands inside the execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimFault {
    /// The invocation dies right after the service applied checkpoint call `k`.
    Crash(u64),
    /// Checkpoint call `k` is applied but its response is lost.
    LostResponse(u64),
    /// Checkpoint call `k` is throttled (429).
    Throttle(u64),
    /// Checkpoint call `k` fails with a 5xx.
    ServerError(u64),
    /// Checkpoint call `k` is refused for an invalid checkpoint token.
    InvalidToken(u64),
    /// `GetDurableExecutionState` call `k` is throttled.
    GetStateThrottle(u64),
    /// `GetDurableExecutionState` call `k` fails with a 5xx.
    GetStateServerError(u64),
    /// The invocation that makes checkpoint call `k` runs out of time during it
    /// (`FaultKind::Deadline`): the call is applied, its response comes after the SDK's
    /// soft deadline, and the SDK ends the invocation for a retry.
    Deadline(u64),
}

/// The faults and page size of one scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultPlan {
    pub faults: Vec<SimFault>,
    /// `LocalRunner::page_size`: small pages make the SDK read the log in several calls.
    pub page_size: Option<usize>,
}

/// The fault plans of `features` (deadlines only with `features.deadlines`; they are
/// drawn last, so that the other faults of a seed do not depend on the switch).
pub fn fault_strategy(features: Features) -> BoxedStrategy<FaultPlan> {
    let k = 1u64..1000;
    let crash = proptest::collection::vec(
        k.clone().prop_map(SimFault::Crash),
        0..=MAX_CRASHES as usize,
    );
    let other = proptest::collection::vec(
        prop_oneof![
            k.clone().prop_map(SimFault::LostResponse),
            k.clone().prop_map(SimFault::Throttle),
            k.clone().prop_map(SimFault::ServerError),
            k.clone().prop_map(SimFault::InvalidToken),
            k.clone().prop_map(SimFault::GetStateThrottle),
            k.clone().prop_map(SimFault::GetStateServerError),
        ],
        0..6,
    );
    let page = prop_oneof![
        2 => Just(None),
        1 => (1usize..=4).prop_map(Some),
    ];
    let deadlines = if features.deadlines {
        proptest::collection::vec(k.prop_map(SimFault::Deadline), 0..=2).boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    (crash, other, page, deadlines)
        .prop_map(|(mut faults, other, page_size, deadlines)| {
            // Crashes and deadlines together stay within MAX_CRASHES interruptions.
            let room = (MAX_CRASHES as usize).saturating_sub(faults.len());
            faults.extend(other);
            faults.extend(deadlines.into_iter().take(room));
            FaultPlan { faults, page_size }
        })
        .boxed()
}

impl FaultPlan {
    /// Adds the plan to `runner`. Call numbers are mapped onto `1..=checkpoint_calls`
    /// (`get_state_calls` for state reads) of the fault-free run.
    pub fn apply(
        &self,
        mut runner: LocalRunner,
        checkpoint_calls: u64,
        get_state_calls: u64,
    ) -> LocalRunner {
        if let Some(size) = self.page_size {
            runner = runner.page_size(size);
        }
        for fault in &self.faults {
            let on = |k: u64, calls: u64| 1 + (k - 1) % calls.max(1);
            let fault = match *fault {
                SimFault::Crash(k) => Fault::crash().at_call(on(k, checkpoint_calls)),
                SimFault::LostResponse(k) => {
                    Fault::lost_response().at_call(on(k, checkpoint_calls))
                }
                SimFault::Throttle(k) => Fault::throttle().at_call(on(k, checkpoint_calls)),
                SimFault::ServerError(k) => Fault::server_error().at_call(on(k, checkpoint_calls)),
                SimFault::InvalidToken(k) => {
                    Fault::invalid_token().at_call(on(k, checkpoint_calls))
                }
                SimFault::GetStateThrottle(k) => {
                    Fault::new(FaultKind::GetStateThrottle).at_call(on(k, get_state_calls))
                }
                SimFault::GetStateServerError(k) => {
                    Fault::new(FaultKind::GetStateServerError).at_call(on(k, get_state_calls))
                }
                SimFault::Deadline(k) => Fault::deadline().at_call(on(k, checkpoint_calls)),
            };
            runner = runner.fault(fault);
        }
        runner
    }

    /// The plan with its call numbers as `apply` maps them, for printing.
    pub fn describe(&self, checkpoint_calls: u64, get_state_calls: u64) -> String {
        let on = |k: u64, calls: u64| 1 + (k - 1) % calls.max(1);
        let faults: Vec<String> = self
            .faults
            .iter()
            .map(|fault| match *fault {
                SimFault::Crash(k) => {
                    format!("crash after checkpoint call {}", on(k, checkpoint_calls))
                }
                SimFault::LostResponse(k) => format!(
                    "lost response of checkpoint call {}",
                    on(k, checkpoint_calls)
                ),
                SimFault::Throttle(k) => {
                    format!("throttle checkpoint call {}", on(k, checkpoint_calls))
                }
                SimFault::ServerError(k) => {
                    format!("5xx on checkpoint call {}", on(k, checkpoint_calls))
                }
                SimFault::InvalidToken(k) => format!(
                    "invalid token on checkpoint call {}",
                    on(k, checkpoint_calls)
                ),
                SimFault::GetStateThrottle(k) => {
                    format!("throttle state read {}", on(k, get_state_calls))
                }
                SimFault::GetStateServerError(k) => {
                    format!("5xx on state read {}", on(k, get_state_calls))
                }
                SimFault::Deadline(k) => format!(
                    "the invocation runs out of time in checkpoint call {}",
                    on(k, checkpoint_calls)
                ),
            })
            .collect();
        format!("page size {:?}; {}", self.page_size, faults.join(", "))
    }
}
