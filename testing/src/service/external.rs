//! What the service does on its own or for outside parties, between invocations: timers
//! firing (waits, retry delays, callback timeouts, execution timeouts), callbacks completed
//! by external systems, chained invokes finishing, and executions being stopped.

use super::{Details, ExecutionRecord};
use crate::callback::{CallbackMatcher, CallbackResponder, PendingCallback, SendCallbackError};
use crate::error_object;
use crate::execution::InvocationOutcome;
use crate::store::{Completion, OpDetails};
use crate::RunnerError;
use lambda_durable::wire::{
    ErrorObject, EventType, ExecutionStatus, OperationStatus, OperationType,
};

/// `ErrorType` of a callback that was not completed within its `TimeoutSeconds`.
pub(crate) const CALLBACK_TIMEOUT: &str = "Callback.Timeout";
/// `ErrorType` of a callback that got no heartbeat within its `HeartbeatTimeoutSeconds`.
pub(crate) const CALLBACK_HEARTBEAT: &str = "Callback.Heartbeat";
/// `ErrorType` of an execution that ran past its `ExecutionTimeout`.
pub(crate) const EXECUTION_TIMEOUT: &str = "Execution.Timeout";
/// `ErrorType` of an execution stopped without an error of its own.
pub(crate) const EXECUTION_STOPPED: &str = "Execution.Stopped";

/// What a running timer does when it fires. For one operation at one instant, the
/// variants fire in this order: a completion or a heartbeat sent by a responder arrives
/// before the callback's deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// A wait ends, or a step's retry delay runs out.
    Operation,
    /// A callback responder's completion arrives.
    CallbackDelivery,
    /// A callback responder's heartbeat arrives.
    CallbackBeat,
    /// A callback's `TimeoutSeconds` run out.
    CallbackTimeout,
    /// A callback's `HeartbeatTimeoutSeconds` run out since the start or the last heartbeat.
    CallbackHeartbeat,
    /// The execution's `ExecutionTimeout` runs out.
    ExecutionTimeout,
}

/// The callback responders of a runner ([`crate::LocalRunner::on_callback`]): the service
/// asks them about each callback as soon as the invocation that created it makes its next
/// call (or ends), as an outside system answers once it got the callback id.
/// One responder, and the callbacks it answers.
pub(crate) type Responder = (
    std::sync::Arc<dyn CallbackMatcher>,
    std::sync::Arc<dyn CallbackResponder>,
);

#[derive(Clone, Default)]
pub(crate) struct Responders(pub(crate) std::sync::Arc<Vec<Responder>>);

impl std::fmt::Debug for Responders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} callback responders", self.0.len())
    }
}

/// A chained invoke the runner has not run yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StartedInvoke {
    /// The CHAINED_INVOKE operation's index.
    pub(crate) index: usize,
    /// `ChainedInvokeOptions.FunctionName`.
    pub(crate) function_name: String,
    /// The payload: the target's event.
    pub(crate) payload: Option<String>,
}

impl ExecutionRecord {
    /// The virtual clock, in epoch milliseconds.
    pub(crate) fn now(&self) -> i64 {
        self.now
    }

    /// The execution's status, result and error.
    pub(crate) fn outcome(&self) -> (ExecutionStatus, Option<String>, Option<ErrorObject>) {
        (self.status, self.result.clone(), self.error.clone())
    }

    /// Whether invoking the function now makes progress: it was never invoked, its last
    /// invocation ended with an error, or the service changed operations since (a timer
    /// fired, a callback was completed, a chained invoke finished).
    pub(crate) fn needs_invocation(&self) -> bool {
        if self.status != ExecutionStatus::Running || self.live.is_some() {
            return false;
        }
        match self.invocations.last() {
            None => true,
            Some(last) => {
                self.unseen_changes || !matches!(last.outcome, InvocationOutcome::Returned(_))
            }
        }
    }

    // ---------------------------------------------------------------------------------
    // The virtual clock
    // ---------------------------------------------------------------------------------

    /// When the earliest running timer is due.
    pub(crate) fn next_due(&self) -> Option<i64> {
        self.timers.first().map(|&(due, _, _)| due)
    }

    /// Whether a callback times out (or misses its heartbeat) at `due`.
    pub(crate) fn callback_deadline_at(&self, due: i64) -> bool {
        self.timers
            .range((due, 0, Timer::Operation)..=(due, usize::MAX, Timer::ExecutionTimeout))
            .any(|&(_, _, timer)| {
                matches!(timer, Timer::CallbackTimeout | Timer::CallbackHeartbeat)
            })
    }

    /// With a clock in real time: moves it to where tokio's clock says, firing every timer
    /// due by then.
    pub(crate) fn sync_clock(&mut self) {
        if let Some((instant, millis)) = self.clock_base {
            let elapsed = i64::try_from(instant.elapsed().as_millis()).unwrap_or(i64::MAX);
            self.advance_to(millis.saturating_add(elapsed));
        }
    }

    /// With a clock in real time: the instant of tokio's clock at which the clock reads
    /// `due`.
    pub(crate) fn instant_of(&self, due: i64) -> Option<tokio::time::Instant> {
        let (instant, millis) = self.clock_base?;
        let ahead = u64::try_from(due.saturating_sub(millis)).unwrap_or(0);
        Some(instant + std::time::Duration::from_millis(ahead))
    }

    /// Moves the clock to `until` (never back), firing every timer due by then in order.
    pub(crate) fn advance_to(&mut self, until: i64) {
        while let Some(&(due, index, timer)) = self.timers.first() {
            if due > until {
                break;
            }
            self.timers.pop_first();
            self.now = self.now.max(due);
            self.fire(index, timer);
        }
        self.now = self.now.max(until);
    }

    /// Advances the virtual clock to the earliest running timer and fires every timer due
    /// by then. Returns how far the clock moved, or `None` when no timer runs.
    #[cfg(test)]
    pub(crate) fn advance_clock(&mut self) -> Option<i64> {
        let due = self.next_due()?;
        let before = self.now;
        self.advance_to(due);
        Some(self.now - before)
    }

    fn fire(&mut self, index: usize, timer: Timer) {
        match timer {
            Timer::Operation => self.fire_operation(index),
            Timer::CallbackDelivery => {
                let delivery = match self.ops.get_mut(index).map(|op| &mut op.details) {
                    Some(OpDetails::Callback(callback)) => callback.delivery.take(),
                    _ => None,
                };
                if let Some((_, completion)) = delivery {
                    self.complete_callback(index, completion);
                }
            }
            Timer::CallbackBeat => {
                let beats = match self.ops.get_mut(index).map(|op| &mut op.details) {
                    Some(OpDetails::Callback(callback)) => callback.beats.take(),
                    _ => None,
                };
                if let Some((due, every, until)) = beats {
                    self.restart_heartbeat(index);
                    self.schedule_beat(index, due.saturating_add(every), every, until);
                }
            }
            Timer::CallbackTimeout | Timer::CallbackHeartbeat => {
                let Some(callback) = self.ops.get(index).and_then(|op| op.callback()) else {
                    return;
                };
                let error = if timer == Timer::CallbackTimeout {
                    error_object(
                        CALLBACK_TIMEOUT,
                        &format!(
                            "the callback was not completed within its timeout of {} s",
                            callback.timeout_seconds.unwrap_or_default()
                        ),
                    )
                } else {
                    error_object(
                        CALLBACK_HEARTBEAT,
                        &format!(
                            "the callback got no heartbeat within its heartbeat timeout of {} s",
                            callback.heartbeat_seconds.unwrap_or_default()
                        ),
                    )
                };
                self.close_callback(index, OperationStatus::TimedOut, None, Some(error));
            }
            Timer::ExecutionTimeout => {
                if self.status == ExecutionStatus::Running {
                    let seconds = self.config.execution_timeout.unwrap_or_default();
                    let error = error_object(
                        EXECUTION_TIMEOUT,
                        &format!("the execution did not finish within its timeout of {seconds} s"),
                    );
                    self.finish(ExecutionStatus::TimedOut, None, Some(error));
                }
            }
        }
    }

    /// A wait ends, or a step's retry delay runs out.
    fn fire_operation(&mut self, index: usize) {
        let Some(op) = self.ops.get(index) else {
            return;
        };
        match (op.type_, op.status) {
            (OperationType::Wait, OperationStatus::Started) => {
                self.set_status(index, OperationStatus::Succeeded);
                self.end_now(index);
                self.push_event(
                    EventType::WaitSucceeded,
                    Some(index),
                    Details::FromOperation,
                );
            }
            (OperationType::Step, OperationStatus::Pending) => {
                self.set_status(index, OperationStatus::Ready);
                if let Some(OpDetails::Step(step)) =
                    self.ops.get_mut(index).map(|op| &mut op.details)
                {
                    step.next_attempt_ms = None;
                }
            }
            _ => return,
        }
        self.mark_dirty(index);
        self.unseen_changes = true;
    }

    // ---------------------------------------------------------------------------------
    // Callbacks (PROTOCOL.md 6.4)
    // ---------------------------------------------------------------------------------

    /// Whether this execution created the callback `callback_id`.
    pub(crate) fn owns_callback(&self, callback_id: &str) -> bool {
        self.callbacks.contains_key(callback_id)
    }

    /// The index of the callback `callback_id` if it can be completed now, or the error
    /// the service answers with.
    fn active_callback(&self, callback_id: &str) -> Result<usize, SendCallbackError> {
        let not_found = || SendCallbackError::NotFound {
            callback_id: callback_id.to_string(),
        };
        let &index = self.callbacks.get(callback_id).ok_or_else(not_found)?;
        match self.ops.get(index).map(|op| op.status) {
            Some(OperationStatus::TimedOut) => Err(SendCallbackError::TimedOut {
                callback_id: callback_id.to_string(),
            }),
            Some(OperationStatus::Started) if self.status == ExecutionStatus::Running => Ok(index),
            _ => Err(not_found()),
        }
    }

    /// `SendDurableExecutionCallbackSuccess` / `...Failure` (already validated).
    pub(crate) fn send_callback(
        &mut self,
        callback_id: &str,
        completion: Completion,
    ) -> Result<(), SendCallbackError> {
        let index = self.active_callback(callback_id)?;
        self.complete_callback(index, completion);
        Ok(())
    }

    /// `SendDurableExecutionCallbackHeartbeat`: restarts the heartbeat timeout, if the
    /// callback has one.
    pub(crate) fn heartbeat_callback(
        &mut self,
        callback_id: &str,
    ) -> Result<(), SendCallbackError> {
        let index = self.active_callback(callback_id)?;
        self.restart_heartbeat(index);
        Ok(())
    }

    /// Restarts the heartbeat timeout of the callback at `index` from now, if it has one.
    fn restart_heartbeat(&mut self, index: usize) {
        let now = self.now;
        let (old, new) = match self.ops.get_mut(index).map(|op| &mut op.details) {
            Some(OpDetails::Callback(callback)) => match callback.heartbeat_seconds {
                Some(seconds) => {
                    let due = now.saturating_add(seconds.saturating_mul(1000));
                    (callback.heartbeat_due_ms.replace(due), Some(due))
                }
                None => (None, None),
            },
            _ => (None, None),
        };
        if let Some(old) = old {
            self.timers.remove(&(old, index, Timer::CallbackHeartbeat));
        }
        if let Some(new) = new {
            self.timers.insert((new, index, Timer::CallbackHeartbeat));
        }
    }

    /// Makes a callback responder send a heartbeat for the callback at `index` every
    /// `every_ms` from now, as long as the next one is due less than `until_ms` from now.
    pub(crate) fn deliver_heartbeats(&mut self, index: usize, every_ms: i64, until_ms: i64) {
        let every = every_ms.max(1);
        let until = self.now.saturating_add(until_ms);
        self.schedule_beat(index, self.now.saturating_add(every), every, until);
    }

    fn schedule_beat(&mut self, index: usize, due: i64, every: i64, until: i64) {
        if due >= until {
            return;
        }
        let started = self.ops.get(index).is_some_and(|op| {
            op.type_ == OperationType::Callback && op.status == OperationStatus::Started
        });
        if !started {
            return;
        }
        let replaced = match self.ops.get_mut(index).map(|op| &mut op.details) {
            Some(OpDetails::Callback(callback)) => callback.beats.replace((due, every, until)),
            _ => return,
        };
        if let Some((old, _, _)) = replaced {
            self.timers.remove(&(old, index, Timer::CallbackBeat));
        }
        self.timers.insert((due, index, Timer::CallbackBeat));
    }

    /// Completes the callback at `index` now, or schedules the completion `delay_ms` later
    /// (a callback responder's answer).
    pub(crate) fn deliver_callback(&mut self, index: usize, delay_ms: i64, completion: Completion) {
        if delay_ms <= 0 {
            self.complete_callback(index, completion);
            return;
        }
        let due = self.now.saturating_add(delay_ms);
        let replaced = match self.ops.get_mut(index).map(|op| &mut op.details) {
            Some(OpDetails::Callback(callback)) => callback.delivery.replace((due, completion)),
            _ => return,
        };
        if let Some((old, _)) = replaced {
            self.timers.remove(&(old, index, Timer::CallbackDelivery));
        }
        self.timers.insert((due, index, Timer::CallbackDelivery));
    }

    fn complete_callback(&mut self, index: usize, completion: Completion) {
        match completion {
            Completion::Success(result) => {
                self.close_callback(index, OperationStatus::Succeeded, Some(result), None)
            }
            Completion::Failure(error) => {
                self.close_callback(index, OperationStatus::Failed, None, Some(error))
            }
        }
    }

    /// Ends a started callback with `status`, stops its timers and records the event.
    fn close_callback(
        &mut self,
        index: usize,
        status: OperationStatus,
        result: Option<String>,
        error: Option<ErrorObject>,
    ) {
        let started = self.ops.get(index).is_some_and(|op| {
            op.type_ == OperationType::Callback && op.status == OperationStatus::Started
        });
        if !started || self.status != ExecutionStatus::Running {
            return;
        }
        self.set_status(index, status);
        self.end_now(index);
        let mut timers = Vec::new();
        if let Some(OpDetails::Callback(callback)) =
            self.ops.get_mut(index).map(|op| &mut op.details)
        {
            callback.result = result;
            callback.error = error;
            timers.extend(callback.timeout_ms.map(|due| (due, Timer::CallbackTimeout)));
            timers.extend(
                callback
                    .heartbeat_due_ms
                    .map(|due| (due, Timer::CallbackHeartbeat)),
            );
            timers.extend(
                callback
                    .delivery
                    .take()
                    .map(|(due, _)| (due, Timer::CallbackDelivery)),
            );
            timers.extend(
                callback
                    .beats
                    .take()
                    .map(|(due, _, _)| (due, Timer::CallbackBeat)),
            );
        }
        for (due, timer) in timers {
            self.timers.remove(&(due, index, timer));
        }
        let event_type = match status {
            OperationStatus::Succeeded => EventType::CallbackSucceeded,
            OperationStatus::TimedOut => EventType::CallbackTimedOut,
            _ => EventType::CallbackFailed,
        };
        self.push_event(event_type, Some(index), Details::FromOperation);
        self.mark_dirty(index);
        self.unseen_changes = true;
    }

    /// The callback at `index`, as tests see it.
    fn describe_callback(&self, index: usize) -> Option<PendingCallback> {
        let op = self.ops.get(index)?;
        let callback_id = op.callback()?.callback_id.as_ref()?.to_string();
        // The callback of a wait_for_callback goes by the name the code gave the latter.
        let wrapper = op
            .parent_id
            .as_ref()
            .and_then(|parent| self.get(parent.as_str()))
            .filter(|parent| {
                parent.type_ == OperationType::Context
                    && parent.sub_type.as_deref().map(|s| s.as_str()) == Some("WaitForCallback")
            });
        let name = match wrapper {
            Some(wrapper) => wrapper.name.as_ref(),
            None => op.name.as_ref(),
        };
        Some(PendingCallback {
            callback_id,
            operation_id: op.id.to_string(),
            name: name.map(|name| name.to_string()),
            execution_arn: self.arn.clone(),
        })
    }

    /// Every callback that can be completed now, in start order.
    pub(crate) fn pending_callbacks(&self) -> Vec<PendingCallback> {
        if self.status != ExecutionStatus::Running {
            return Vec::new();
        }
        let mut indexes: Vec<usize> = self
            .callbacks
            .values()
            .copied()
            .filter(|&index| {
                self.ops
                    .get(index)
                    .is_some_and(|op| op.status == OperationStatus::Started)
            })
            .collect();
        indexes.sort_unstable();
        indexes
            .into_iter()
            .filter_map(|index| self.describe_callback(index))
            .collect()
    }

    /// Answers the callbacks started since the last look with the first responder that
    /// matches each: schedules its completion (at once when it has no delay) and its
    /// heartbeats.
    ///
    /// # Errors
    ///
    /// A completion the service refuses (too large).
    pub(crate) fn respond_to_new_callbacks(&mut self) -> Result<(), SendCallbackError> {
        if self.config.responders.0.is_empty() {
            return Ok(());
        }
        let responders = std::sync::Arc::clone(&self.config.responders.0);
        for (index, pending) in self.take_new_callbacks() {
            let Some((_, responder)) = responders
                .iter()
                .find(|(matcher, _)| matcher.matches(&pending))
            else {
                continue;
            };
            let response = responder.respond(&pending);
            let delay = millis(response.delay());
            if let Some(completion) = response.completion()? {
                self.deliver_callback(index, delay, completion);
            }
            if let Some(interval) = response.heartbeat_interval() {
                self.deliver_heartbeats(index, millis(interval), delay);
            }
        }
        Ok(())
    }

    /// The callbacks started since the last call that are still waiting, with their
    /// operation indexes.
    pub(crate) fn take_new_callbacks(&mut self) -> Vec<(usize, PendingCallback)> {
        let indexes = std::mem::take(&mut self.new_callbacks);
        if self.status != ExecutionStatus::Running {
            return Vec::new();
        }
        indexes
            .into_iter()
            .filter(|&index| {
                self.ops
                    .get(index)
                    .is_some_and(|op| op.status == OperationStatus::Started)
            })
            .filter_map(|index| Some((index, self.describe_callback(index)?)))
            .collect()
    }

    // ---------------------------------------------------------------------------------
    // Chained invokes
    // ---------------------------------------------------------------------------------

    /// The chained invokes started since the last call.
    pub(crate) fn take_new_invokes(&mut self) -> Vec<StartedInvoke> {
        std::mem::take(&mut self.new_invokes)
    }

    /// Records the execution started for the chained invoke at `index`.
    pub(crate) fn set_invoke_child(&mut self, index: usize, arn: &str) {
        if let Some(OpDetails::Invoke(invoke)) = self.ops.get_mut(index).map(|op| &mut op.details) {
            invoke.child_arn = Some(arn.to_string());
        }
    }

    /// Ends the chained invoke at `index` with its target's outcome (`status` is SUCCEEDED,
    /// FAILED, TIMED_OUT or STOPPED). Does nothing if the invoke is no longer running.
    pub(crate) fn complete_invoke(
        &mut self,
        index: usize,
        status: OperationStatus,
        result: Option<String>,
        error: Option<ErrorObject>,
    ) {
        let started = self.ops.get(index).is_some_and(|op| {
            op.type_ == OperationType::ChainedInvoke && op.status == OperationStatus::Started
        });
        if !started || self.status != ExecutionStatus::Running {
            return;
        }
        self.set_status(index, status);
        self.end_now(index);
        if let Some(OpDetails::Invoke(invoke)) = self.ops.get_mut(index).map(|op| &mut op.details) {
            invoke.result = result;
            invoke.error = error;
        }
        let event_type = match status {
            OperationStatus::Succeeded => EventType::ChainedInvokeSucceeded,
            OperationStatus::TimedOut => EventType::ChainedInvokeTimedOut,
            OperationStatus::Stopped => EventType::ChainedInvokeStopped,
            _ => EventType::ChainedInvokeFailed,
        };
        self.push_event(event_type, Some(index), Details::FromOperation);
        self.mark_dirty(index);
        self.unseen_changes = true;
    }

    // ---------------------------------------------------------------------------------
    // StopDurableExecution (PROTOCOL.md 6.5)
    // ---------------------------------------------------------------------------------

    /// Stops the execution: it becomes STOPPED, operations in flight stay as they are and
    /// nothing is invoked any more.
    pub(crate) fn stop(&mut self, error: Option<ErrorObject>) -> Result<(), RunnerError> {
        if self.status != ExecutionStatus::Running {
            return Err(RunnerError::Finished {
                status: self.status,
            });
        }
        let error =
            error.unwrap_or_else(|| error_object(EXECUTION_STOPPED, "the execution was stopped"));
        self.finish(ExecutionStatus::Stopped, None, Some(error));
        Ok(())
    }
}

fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
