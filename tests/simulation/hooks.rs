//! Instrumentation plugins in the simulation: every run carries a plugin that fails or
//! panics in every hook (it must change nothing), and a checker whose record the oracle
//! holds to the plugin contract.

use std::collections::HashMap;
use std::sync::Mutex;

use lambda_durable::plugin::{
    HookResult, InvocationEndInfo, InvocationStartInfo, OperationChangeInfo, OperationInfo, Plugin,
    UserFunctionEndInfo, UserFunctionStartInfo,
};

/// Fails or panics in every hook.
pub struct Faulty;

impl Plugin for Faulty {
    fn on_invocation_start(&self, _: &InvocationStartInfo) -> HookResult {
        Err("faulty plugin".into())
    }
    fn on_invocation_end(&self, _: &InvocationEndInfo) -> HookResult {
        Err("faulty plugin".into())
    }
    fn on_operation_start(&self, _: &OperationInfo) -> HookResult {
        Err("faulty plugin".into())
    }
    fn on_operation_end(&self, _: &OperationInfo) -> HookResult {
        Err("faulty plugin".into())
    }
    fn on_operation_change(&self, _: &OperationChangeInfo) -> HookResult {
        Err("faulty plugin".into())
    }
    fn on_user_function_start(&self, _: &UserFunctionStartInfo) -> HookResult {
        Err("faulty plugin".into())
    }
    fn on_user_function_end(&self, _: &UserFunctionEndInfo) -> HookResult {
        Err("faulty plugin".into())
    }
}

/// What the hooks reported, per execution (the runner runs one invocation at a time, so
/// the execution of an operation hook is the one whose invocation started last).
#[derive(Default)]
pub struct Checker {
    state: Mutex<Record>,
}

#[derive(Default)]
pub struct Record {
    current: String,
    pub invocation_starts: usize,
    pub invocation_ends: usize,
    /// (execution, operation id) → operation-end calls.
    pub ends: HashMap<(String, String), usize>,
    /// The operations the service finishes itself (waits, callbacks, invokes), which an
    /// invocation that fails before it writes anything leaves listed as changed.
    pub service_finished: std::collections::HashSet<String>,
    /// (execution, operation id, attempt) → user-function starts less ends.
    pub open_functions: HashMap<(String, String, Option<u32>), i64>,
    pub problems: Vec<String>,
}

impl Checker {
    pub fn take(&self) -> Record {
        std::mem::take(&mut *self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn with(&self, f: impl FnOnce(&mut Record)) {
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

impl Plugin for Checker {
    fn on_invocation_start(&self, info: &InvocationStartInfo) -> HookResult {
        self.with(|r| {
            r.current = info.execution_arn.clone();
            r.invocation_starts += 1;
        });
        Ok(())
    }

    fn on_invocation_end(&self, info: &InvocationEndInfo) -> HookResult {
        self.with(|r| {
            r.invocation_ends += 1;
            if info.execution_arn != r.current {
                r.problems.push(format!(
                    "invocation-end of {} while {} runs",
                    info.execution_arn, r.current
                ));
            }
        });
        Ok(())
    }

    fn on_operation_end(&self, info: &OperationInfo) -> HookResult {
        self.with(|r| {
            if !info.is_terminal() {
                r.problems.push(format!(
                    "operation-end of {} with status {}",
                    info.id, info.status
                ));
            }
            if matches!(
                info.operation_type,
                lambda_durable::wire::OperationType::Wait
                    | lambda_durable::wire::OperationType::Callback
                    | lambda_durable::wire::OperationType::ChainedInvoke
            ) {
                r.service_finished.insert(info.id.clone());
            }
            *r.ends
                .entry((r.current.clone(), info.id.clone()))
                .or_default() += 1;
        });
        Ok(())
    }

    fn on_operation_start(&self, info: &OperationInfo) -> HookResult {
        self.with(|r| {
            if info.is_terminal() {
                r.problems.push(format!(
                    "operation-start of {} with terminal status {}",
                    info.id, info.status
                ));
            }
        });
        Ok(())
    }

    fn on_user_function_start(&self, info: &UserFunctionStartInfo) -> HookResult {
        self.with(|r| {
            let key = (
                r.current.clone(),
                info.operation.id.clone(),
                info.operation.attempt,
            );
            *r.open_functions.entry(key).or_default() += 1;
        });
        Ok(())
    }

    fn on_user_function_end(&self, info: &UserFunctionEndInfo) -> HookResult {
        self.with(|r| {
            let key = (
                r.current.clone(),
                info.operation.id.clone(),
                info.operation.attempt,
            );
            let open = r.open_functions.entry(key).or_default();
            *open -= 1;
            if *open < 0 {
                r.problems.push(format!(
                    "user-function-end of {} attempt {:?} without a start",
                    info.operation.id, info.operation.attempt
                ));
            }
        });
        Ok(())
    }
}
