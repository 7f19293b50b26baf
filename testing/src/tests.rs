//! The service emulation driven directly, with hand-built requests: validation rules and
//! messages, what each action stores, tokens, idempotency, paging, timers, output checks
//! and faults.
#![allow(clippy::unwrap_used)]

use crate::with;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Duration;

use super::execution::InvocationOutcome;
use super::fault::{Fault, FaultKind};
use super::service::{
    base64, ExecutionConfig, LocalService, RawOutcome, SharedRecord, START_MILLIS,
};
use super::validate::*;
use lambda_durable::service::{DurableService, ServiceError, ServiceErrorKind};
use lambda_durable::wire::{
    CallbackOptions, CheckpointDurableExecutionRequest, CheckpointDurableExecutionResponse,
    CheckpointToken, ClientToken, ContextOptions, DurableExecutionInvocationOutput, ErrorObject,
    EventType, ExecutionStatus, GetDurableExecutionStateRequest, InvocationStatus, Operation,
    OperationAction, OperationId, OperationName, OperationStatus, OperationSubType, OperationType,
    OperationUpdate, StepOptions, WaitOptions,
};

struct Harness {
    service: Arc<LocalService>,
    record: SharedRecord,
    arn: String,
    token: String,
}

fn config() -> ExecutionConfig {
    ExecutionConfig {
        function_name: "fn".to_string(),
        envelope_page_size: None,
        state_page_size: None,
        faults: Vec::new(),
        max_consecutive_failures: 3,
        execution_timeout: None,
        real_time: false,
        responders: Default::default(),
    }
}

impl Harness {
    fn new() -> Self {
        Self::with(config())
    }

    /// An execution with one invocation running.
    fn with(config: ExecutionConfig) -> Self {
        let service = Arc::new(LocalService::default());
        let record = service
            .create_execution(r#"{"orderId":42}"#.to_string(), config)
            .unwrap();
        let arn = record.lock().unwrap().arn.clone();
        let mut harness = Self {
            service,
            record,
            arn,
            token: String::new(),
        };
        harness.begin();
        harness
    }

    fn begin(&mut self) -> lambda_durable::wire::DurableExecutionInvocationInput {
        let (input, _) = self.record.lock().unwrap().begin_invocation().unwrap();
        self.token = input.checkpoint_token.to_string();
        input
    }

    fn end(&mut self, raw: RawOutcome) -> InvocationOutcome {
        self.record.lock().unwrap().end_invocation(raw)
    }

    async fn send_with(
        &mut self,
        token: &str,
        client: Option<&str>,
        updates: Vec<OperationUpdate>,
    ) -> Result<CheckpointDurableExecutionResponse, ServiceError> {
        let request = with(
            CheckpointDurableExecutionRequest::new(CheckpointToken::try_from(token).unwrap()),
            |it| {
                it.client_token = client.map(|client| ClientToken::try_from(client).unwrap());
                it.updates = updates;
            },
        );
        let response = self.service.checkpoint(&self.arn, &request).await;
        if let Ok(response) = &response {
            if let Some(token) = &response.checkpoint_token {
                self.token = token.to_string();
            }
        }
        response
    }

    /// Sends with the current token and expects success.
    async fn ok(&mut self, updates: Vec<OperationUpdate>) -> CheckpointDurableExecutionResponse {
        let token = self.token.clone();
        match self.send_with(&token, None, updates).await {
            Ok(response) => response,
            Err(err) => panic!("checkpoint refused: {err}"),
        }
    }

    /// Sends with the current token and expects InvalidParameter with `message`; checks
    /// that nothing was applied and that the token is still valid.
    async fn rejected(&mut self, updates: Vec<OperationUpdate>, message: &str) {
        let before = self.snapshot_ops();
        let token = self.token.clone();
        let err = self.send_with(&token, None, updates).await.unwrap_err();
        assert_eq!(err.kind(), ServiceErrorKind::InvalidParameter, "{err}");
        assert_eq!(err.code(), "InvalidParameterValueException");
        assert_eq!(err.message(), message);
        assert_eq!(
            self.snapshot_ops(),
            before,
            "a rejected request changed the state"
        );
        assert_eq!(self.token, token);
    }

    fn snapshot_ops(&self) -> Vec<Operation> {
        self.record.lock().unwrap().snapshot().operations().to_vec()
    }

    fn op(&self, id: &str) -> Operation {
        self.snapshot_ops()
            .into_iter()
            .find(|op| op.id.as_str() == id)
            .unwrap_or_else(|| panic!("no operation {id}"))
    }

    fn advance(&self) -> Option<i64> {
        self.record.lock().unwrap().advance_clock()
    }
}

fn update(id: &str, ty: OperationType, action: OperationAction) -> OperationUpdate {
    let sub_type = match ty {
        OperationType::Step => Some("Step"),
        OperationType::Wait => Some("Wait"),
        OperationType::Callback => Some("Callback"),
        OperationType::ChainedInvoke => Some("ChainedInvoke"),
        OperationType::Context => Some("RunInChildContext"),
        _ => None,
    };
    with(
        OperationUpdate::new(action, OperationId::try_from(id).unwrap(), ty),
        |it| {
            it.name = Some(OperationName::try_from(format!("op {id}")).unwrap());
            it.sub_type = sub_type.map(|s| OperationSubType::try_from(s).unwrap());
        },
    )
}

fn step(id: &str, action: OperationAction) -> OperationUpdate {
    update(id, OperationType::Step, action)
}

fn with_payload(mut update: OperationUpdate, payload: &str) -> OperationUpdate {
    update.payload = Some(payload.to_string());
    update
}

fn with_error(mut update: OperationUpdate, ty: &str) -> OperationUpdate {
    update.error = Some(with(ErrorObject::default(), |it| {
        it.error_message = Some("boom".to_string());
        it.error_type = Some(ty.to_string());
    }));
    update
}

fn retry(id: &str, seconds: u64) -> OperationUpdate {
    let mut update = with_error(step(id, OperationAction::Retry), "Flaky");
    update.step_options = Some(with(StepOptions::default(), |it| {
        it.next_attempt_delay_seconds = NonZeroU64::new(seconds);
    }));
    update
}

fn wait(id: &str, seconds: u64) -> OperationUpdate {
    let mut update = update(id, OperationType::Wait, OperationAction::Start);
    update.wait_options = Some(with(WaitOptions::default(), |it| {
        it.wait_seconds = NonZeroU64::new(seconds);
    }));
    update
}

fn child(mut update: OperationUpdate, parent: &str) -> OperationUpdate {
    update.parent_id = Some(OperationId::try_from(parent).unwrap());
    update
}

fn pending() -> RawOutcome {
    RawOutcome::Output(DurableExecutionInvocationOutput::new(
        InvocationStatus::Pending,
    ))
}

// ---------------------------------------------------------------------------------------
// Request-level rules (PROTOCOL.md 5.3)
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn execution_updates_must_be_single_and_last() {
    let mut h = Harness::new();
    let done = with_payload(
        update("x", OperationType::Execution, OperationAction::Succeed),
        "1",
    );
    h.rejected(
        vec![done.clone(), step("a", OperationAction::Start)],
        EXECUTION_NOT_LAST,
    )
    .await;
    h.rejected(vec![done.clone(), done.clone()], MULTIPLE_EXECUTION_UPDATES)
        .await;
    h.rejected(
        vec![update(
            "x",
            OperationType::Execution,
            OperationAction::Start,
        )],
        INVALID_ACTION,
    )
    .await;
    h.rejected(vec![with_error(done.clone(), "E")], ERROR_ON_SUCCEED)
        .await;
    let fail = update("x", OperationType::Execution, OperationAction::Fail);
    h.rejected(vec![with_payload(fail, "1")], PAYLOAD_ON_FAIL)
        .await;
}

#[tokio::test]
async fn duplicate_ids_only_as_start_then_close_of_a_step_or_context() {
    let mut h = Harness::new();
    h.rejected(vec![wait("w", 5), wait("w", 5)], DUPLICATE_ID)
        .await;
    h.rejected(
        vec![
            step("s", OperationAction::Start),
            step("s", OperationAction::Start),
        ],
        DUPLICATE_ID,
    )
    .await;
    h.rejected(
        vec![
            with_payload(step("s", OperationAction::Succeed), "1"),
            with_payload(step("s", OperationAction::Succeed), "1"),
        ],
        DUPLICATE_ID,
    )
    .await;
    h.rejected(
        vec![
            step("s", OperationAction::Start),
            with_payload(step("s", OperationAction::Succeed), "1"),
            with_payload(step("s", OperationAction::Succeed), "1"),
        ],
        DUPLICATE_ID,
    )
    .await;
    // START then a close with another name is not the same operation.
    let mut renamed = with_payload(step("s", OperationAction::Succeed), "1");
    renamed.name = Some(OperationName::try_from("other").unwrap());
    h.rejected(
        vec![step("s", OperationAction::Start), renamed],
        INCONSISTENT_NAME,
    )
    .await;

    let response = h
        .ok(vec![
            step("s", OperationAction::Start),
            with_payload(step("s", OperationAction::Succeed), "1"),
            update("c", OperationType::Context, OperationAction::Start),
            with_payload(
                update("c", OperationType::Context, OperationAction::Succeed),
                "2",
            ),
        ])
        .await;
    let statuses: Vec<_> = response
        .new_execution_state
        .unwrap()
        .operations
        .iter()
        .map(|op| (op.id.to_string(), op.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("s".to_string(), OperationStatus::Succeeded),
            ("c".to_string(), OperationStatus::Succeeded)
        ]
    );
}

#[tokio::test]
async fn parents_must_be_contexts_that_exist_or_start_earlier_in_the_request() {
    let mut h = Harness::new();
    h.rejected(
        vec![child(step("s", OperationAction::Start), "nope")],
        INVALID_PARENT,
    )
    .await;
    // The START of the parent comes after the child.
    h.rejected(
        vec![
            child(step("s", OperationAction::Start), "c"),
            update("c", OperationType::Context, OperationAction::Start),
        ],
        INVALID_PARENT,
    )
    .await;
    // A STEP is not a parent.
    h.ok(vec![step("p", OperationAction::Start)]).await;
    h.rejected(
        vec![child(step("s", OperationAction::Start), "p")],
        INVALID_PARENT,
    )
    .await;
    // Started earlier in the same request, then stored.
    h.ok(vec![
        update("c", OperationType::Context, OperationAction::Start),
        child(step("s", OperationAction::Start), "c"),
    ])
    .await;
    h.ok(vec![child(wait("w", 1), "c")]).await;
    assert_eq!(
        h.op("w").parent_id.as_deref().map(String::as_str),
        Some("c")
    );
}

#[tokio::test]
async fn updates_must_match_the_stored_operation() {
    let mut h = Harness::new();
    h.ok(vec![
        update("c", OperationType::Context, OperationAction::Start),
        child(step("s", OperationAction::Start), "c"),
    ])
    .await;
    let mut other_type = update("s", OperationType::Context, OperationAction::Succeed);
    other_type.parent_id = Some(OperationId::try_from("c").unwrap());
    h.rejected(vec![other_type], INCONSISTENT_TYPE).await;
    let mut sub_type = child(with_payload(step("s", OperationAction::Succeed), "1"), "c");
    sub_type.sub_type = Some(OperationSubType::try_from("WaitForCondition").unwrap());
    h.rejected(vec![sub_type], INCONSISTENT_SUB_TYPE).await;
    let mut name = child(with_payload(step("s", OperationAction::Succeed), "1"), "c");
    name.name = Some(OperationName::try_from("renamed").unwrap());
    h.rejected(vec![name], INCONSISTENT_NAME).await;
    h.ok(vec![update(
        "c2",
        OperationType::Context,
        OperationAction::Start,
    )])
    .await;
    let parent = child(with_payload(step("s", OperationAction::Succeed), "1"), "c2");
    h.rejected(vec![parent], INCONSISTENT_PARENT).await;
    // The EXECUTION operation's id is taken.
    let execution_id = h.snapshot_ops()[0].id.to_string();
    h.rejected(
        vec![step(&execution_id, OperationAction::Start)],
        INCONSISTENT_TYPE,
    )
    .await;
    // Leaving Name, SubType and ParentId out is not a mismatch.
    let mut bare = with_payload(step("s", OperationAction::Succeed), "1");
    bare.name = None;
    bare.sub_type = None;
    h.ok(vec![bare]).await;
    assert_eq!(h.op("s").name.as_deref().map(String::as_str), Some("op s"));
}

#[tokio::test]
async fn a_rejected_request_applies_nothing_even_its_valid_updates() {
    let mut h = Harness::new();
    h.rejected(
        vec![step("a", OperationAction::Start), wait("w", 0)],
        INVALID_WAIT_OPTIONS,
    )
    .await;
    assert_eq!(h.snapshot_ops().len(), 1);
    let execution = h.record.lock().unwrap().snapshot();
    let history = execution.history();
    assert_eq!(history.len(), 1);
}

#[tokio::test]
async fn an_empty_checkpoint_only_rotates_the_token() {
    let mut h = Harness::new();
    let before = h.token.clone();
    let response = h.ok(Vec::new()).await;
    assert_ne!(h.token, before);
    assert!(response.new_execution_state.unwrap().operations.is_empty());
}

// ---------------------------------------------------------------------------------------
// Per-type rules (PROTOCOL.md 5.2) and what each action stores (5.4)
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn step_rules() {
    let mut h = Harness::new();
    // The stricter reading applies to steps that do not exist yet.
    h.rejected(
        vec![with_error(step("s", OperationAction::Retry), "E")],
        INVALID_STEP_OPTIONS,
    )
    .await;
    h.rejected(
        vec![with_error(step("s", OperationAction::Succeed), "E")],
        ERROR_ON_SUCCEED,
    )
    .await;
    h.rejected(
        vec![with_payload(step("s", OperationAction::Fail), "1")],
        PAYLOAD_ON_FAIL,
    )
    .await;
    h.rejected(
        vec![with_payload(retry("s", 1), "1")],
        ERROR_AND_PAYLOAD_ON_RETRY,
    )
    .await;
    h.rejected(
        vec![retry("s", MAX_DELAY_SECONDS + 1)],
        INVALID_STEP_OPTIONS,
    )
    .await;
    h.rejected(vec![step("s", OperationAction::Cancel)], INVALID_ACTION)
        .await;

    h.ok(vec![step("s", OperationAction::Start)]).await;
    h.rejected(vec![step("s", OperationAction::Start)], STEP_START_STATE)
        .await;
    h.ok(vec![retry("s", 3)]).await;
    // PENDING: nothing may touch it until the timer fires.
    h.rejected(vec![step("s", OperationAction::Start)], STEP_START_STATE)
        .await;
    h.rejected(
        vec![with_payload(step("s", OperationAction::Succeed), "1")],
        STEP_CLOSE_STATE,
    )
    .await;
    h.rejected(vec![retry("s", 3)], STEP_RETRY_STATE).await;
    assert_eq!(h.advance(), Some(3000));
    h.ok(vec![step("s", OperationAction::Start)]).await;
    h.ok(vec![with_payload(
        step("s", OperationAction::Succeed),
        "\"ok\"",
    )])
    .await;
    h.rejected(
        vec![with_payload(step("s", OperationAction::Succeed), "1")],
        STEP_CLOSE_STATE,
    )
    .await;
    h.rejected(vec![step("s", OperationAction::Start)], STEP_START_STATE)
        .await;
}

#[tokio::test]
async fn step_attempts_retry_timestamps_and_results() {
    let mut h = Harness::new();
    h.ok(vec![step("s", OperationAction::Start)]).await;
    let started = h.op("s");
    assert_eq!(started.status, OperationStatus::Started);
    assert_eq!(
        started.start_timestamp.as_ref().unwrap().epoch_millis(),
        START_MILLIS
    );

    h.ok(vec![retry("s", 10)]).await;
    let pending = h.op("s");
    assert_eq!(pending.status, OperationStatus::Pending);
    let details = pending.step_details.as_ref().unwrap();
    assert_eq!(details.attempt, Some(1));
    assert_eq!(
        details
            .next_attempt_timestamp
            .as_ref()
            .unwrap()
            .epoch_millis(),
        START_MILLIS + 10_000
    );
    assert_eq!(
        details.error.as_ref().unwrap().error_type.as_deref(),
        Some("Flaky")
    );
    assert!(pending.end_timestamp.is_none());

    assert_eq!(h.advance(), Some(10_000));
    let ready = h.op("s");
    assert_eq!(ready.status, OperationStatus::Ready);
    assert!(ready
        .step_details
        .as_ref()
        .unwrap()
        .next_attempt_timestamp
        .is_none());
    assert_eq!(h.advance(), None);

    // START carries the attempt over but not the error.
    h.ok(vec![step("s", OperationAction::Start)]).await;
    let restarted = h.op("s");
    let details = restarted.step_details.as_ref().unwrap();
    assert_eq!((details.attempt, details.error.is_none()), (Some(1), true));
    assert_eq!(
        restarted.start_timestamp.as_ref().unwrap().epoch_millis(),
        START_MILLIS
    );

    // A RETRY with a Payload (wait for condition) keeps it as the Result.
    let mut poll = step("s", OperationAction::Retry);
    poll.payload = Some("{\"n\":1}".to_string());
    poll.step_options = Some(with(StepOptions::default(), |it| {
        it.next_attempt_delay_seconds = NonZeroU64::new(1);
    }));
    h.ok(vec![poll]).await;
    let polled = h.op("s").step_details.unwrap();
    assert_eq!(
        (polled.attempt, polled.result.as_deref()),
        (Some(2), Some("{\"n\":1}"))
    );
    h.advance();

    h.ok(vec![
        step("s", OperationAction::Start),
        with_payload(step("s", OperationAction::Succeed), "42"),
    ])
    .await;
    let done = h.op("s");
    assert_eq!(done.status, OperationStatus::Succeeded);
    let details = done.step_details.unwrap();
    assert_eq!(
        (details.attempt, details.result.as_deref()),
        (Some(3), Some("42"))
    );
    assert_eq!(
        done.end_timestamp.unwrap().epoch_millis(),
        START_MILLIS + 11_000
    );

    let execution = h.record.lock().unwrap().snapshot();
    let history = execution.history();
    let retries: Vec<_> = history
        .iter()
        .filter_map(|event| {
            let (retry, ty) = match event.event_type {
                EventType::StepFailed => (
                    event.step_failed_details.as_ref()?.retry_details.clone()?,
                    "failed",
                ),
                EventType::StepSucceeded => (
                    event
                        .step_succeeded_details
                        .as_ref()?
                        .retry_details
                        .clone()?,
                    "succeeded",
                ),
                _ => return None,
            };
            Some((ty, retry.current_attempt, retry.next_attempt_delay_seconds))
        })
        .collect();
    assert_eq!(
        retries,
        vec![
            ("failed", Some(1), Some(10)),
            ("succeeded", None, Some(1)),
            ("succeeded", Some(3), None)
        ]
    );
}

#[tokio::test]
async fn steps_may_close_without_a_start() {
    let mut h = Harness::new();
    h.ok(vec![with_error(step("f", OperationAction::Fail), "Boom")])
        .await;
    let failed = h.op("f");
    assert_eq!(failed.status, OperationStatus::Failed);
    assert_eq!(failed.step_details.unwrap().attempt, Some(1));
}

#[tokio::test]
async fn wait_rules_and_timer() {
    let mut h = Harness::new();
    let mut no_options = update("w", OperationType::Wait, OperationAction::Start);
    h.rejected(vec![no_options.clone()], INVALID_WAIT_OPTIONS)
        .await;
    no_options.wait_options = Some(with(WaitOptions::default(), |it| {
        it.wait_seconds = NonZeroU64::new(MAX_DELAY_SECONDS + 1);
    }));
    h.rejected(vec![no_options], INVALID_WAIT_OPTIONS).await;
    h.rejected(
        vec![update("w", OperationType::Wait, OperationAction::Cancel)],
        "Cannot cancel a WAIT that does not exist or has already completed.",
    )
    .await;
    h.rejected(
        vec![update("w", OperationType::Wait, OperationAction::Succeed)],
        INVALID_ACTION,
    )
    .await;

    h.ok(vec![wait("w", 30), wait("v", 10)]).await;
    h.rejected(
        vec![wait("w", 30)],
        "Cannot start a WAIT that already exists.",
    )
    .await;
    let started = h.op("w");
    assert_eq!(started.status, OperationStatus::Started);
    let end = started
        .wait_details
        .unwrap()
        .scheduled_end_timestamp
        .unwrap();
    assert_eq!(end.epoch_millis(), START_MILLIS + 30_000);

    // Timers fire in order, one instant at a time.
    assert_eq!(h.advance(), Some(10_000));
    assert_eq!(h.op("v").status, OperationStatus::Succeeded);
    assert_eq!(h.op("w").status, OperationStatus::Started);
    assert_eq!(h.advance(), Some(20_000));
    let done = h.op("w");
    assert_eq!(done.status, OperationStatus::Succeeded);
    assert_eq!(
        done.end_timestamp.unwrap().epoch_millis(),
        START_MILLIS + 30_000
    );
    assert_eq!(h.advance(), None);
    h.rejected(
        vec![update("w", OperationType::Wait, OperationAction::Cancel)],
        "Cannot cancel a WAIT that does not exist or has already completed.",
    )
    .await;

    // A cancelled wait never fires.
    h.ok(vec![wait("x", 5)]).await;
    h.ok(vec![update(
        "x",
        OperationType::Wait,
        OperationAction::Cancel,
    )])
    .await;
    assert_eq!(h.op("x").status, OperationStatus::Cancelled);
    assert_eq!(h.advance(), None);

    let execution = h.record.lock().unwrap().snapshot();
    let history = execution.history();
    let waits: Vec<_> = history
        .iter()
        .filter_map(|event| match event.event_type {
            EventType::WaitStarted => Some(format!(
                "started {} {:?}",
                event.id.as_ref()?.as_str(),
                event.wait_started_details.as_ref()?.duration
            )),
            EventType::WaitSucceeded => Some(format!(
                "succeeded {} {:?}",
                event.id.as_ref()?.as_str(),
                event.wait_succeeded_details.as_ref()?.duration
            )),
            EventType::WaitCancelled => Some(format!("cancelled {}", event.id.as_ref()?.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        waits,
        vec![
            "started w Some(30)",
            "started v Some(10)",
            "succeeded v Some(10)",
            "succeeded w Some(30)",
            "started x Some(5)",
            "cancelled x"
        ]
    );
}

#[tokio::test]
async fn callbacks_get_an_id_and_only_start() {
    let mut h = Harness::new();
    let mut bad = update("cb", OperationType::Callback, OperationAction::Start);
    bad.callback_options = Some(with(CallbackOptions::default(), |it| {
        it.heartbeat_timeout_seconds = Some(-1);
    }));
    h.rejected(vec![bad], INVALID_CALLBACK_OPTIONS).await;
    let mut start = update("cb", OperationType::Callback, OperationAction::Start);
    start.callback_options = Some(with(CallbackOptions::default(), |it| {
        it.heartbeat_timeout_seconds = Some(0);
        it.timeout_seconds = Some(300);
    }));
    let response = h.ok(vec![start]).await;
    let op = &response.new_execution_state.unwrap().operations[0];
    assert_eq!(op.status, OperationStatus::Started);
    let callback_id = op
        .callback_details
        .as_ref()
        .unwrap()
        .callback_id
        .clone()
        .unwrap();
    assert!(!callback_id.is_empty());
    h.rejected(
        vec![update(
            "cb",
            OperationType::Callback,
            OperationAction::Start,
        )],
        "Cannot start a CALLBACK that already exists.",
    )
    .await;
    // The stricter reading: CANCEL is refused for callbacks.
    h.rejected(
        vec![update(
            "cb",
            OperationType::Callback,
            OperationAction::Cancel,
        )],
        INVALID_ACTION,
    )
    .await;
    let execution = h.record.lock().unwrap().snapshot();
    let history = execution.history();
    let started = history
        .iter()
        .find(|event| event.event_type == EventType::CallbackStarted)
        .unwrap()
        .callback_started_details
        .clone()
        .unwrap();
    assert_eq!(started.callback_id, Some(callback_id));
    assert_eq!(
        (started.timeout, started.heartbeat_timeout),
        (Some(300), None)
    );
}

#[tokio::test]
async fn callback_timers_heartbeats_and_completions() {
    use super::store::Completion;
    let mut h = Harness::new();
    let mut start = update("cb", OperationType::Callback, OperationAction::Start);
    start.callback_options = Some(with(CallbackOptions::default(), |it| {
        it.heartbeat_timeout_seconds = Some(60);
        it.timeout_seconds = Some(300);
    }));
    h.ok(vec![start]).await;
    h.end(pending());
    let id = h
        .op("cb")
        .callback_details
        .unwrap()
        .callback_id
        .unwrap()
        .to_string();
    let at = |seconds: i64| START_MILLIS + seconds * 1000;
    {
        let mut record = h.record.lock().unwrap();
        assert_eq!(record.next_due(), Some(at(60)), "the heartbeat comes first");
        assert!(record.callback_deadline_at(at(60)));
        assert!(
            !record.needs_invocation(),
            "nothing changed since the PENDING"
        );
        record.advance_to(at(30));
        record.heartbeat_callback(&id).unwrap();
        assert_eq!(
            record.next_due(),
            Some(at(90)),
            "the old heartbeat timer is gone"
        );
        record
            .send_callback(&id, Completion::Success("\"ok\"".to_string()))
            .unwrap();
        assert_eq!(
            record.next_due(),
            None,
            "a completed callback has no timers"
        );
        assert!(record.needs_invocation());
        assert_eq!(
            record.send_callback(&id, Completion::Success("{}".to_string())),
            Err(crate::SendCallbackError::NotFound {
                callback_id: id.clone()
            })
        );
    }
    let op = h.op("cb");
    assert_eq!(op.status, OperationStatus::Succeeded);
    assert_eq!(
        op.callback_details.unwrap().result.as_deref(),
        Some("\"ok\"")
    );
    assert_eq!(op.end_timestamp.map(|ts| ts.epoch_millis()), Some(at(30)));
    // The next invocation sees it; a PENDING without anything pending is refused.
    h.begin();
    assert!(matches!(
        h.end(pending()),
        InvocationOutcome::Rejected { .. }
    ));
}

#[tokio::test]
async fn chained_invokes_need_options_and_cancel_only_while_started() {
    let mut h = Harness::new();
    h.rejected(
        vec![update(
            "i",
            OperationType::ChainedInvoke,
            OperationAction::Start,
        )],
        INVALID_INVOKE_OPTIONS,
    )
    .await;
    let mut start = update("i", OperationType::ChainedInvoke, OperationAction::Start);
    start.chained_invoke_options = Some(lambda_durable::wire::ChainedInvokeOptions::new(
        "other-function".to_string(),
    ));
    start.payload = Some("{}".to_string());
    h.ok(vec![start]).await;
    assert_eq!(h.op("i").status, OperationStatus::Started);
    h.ok(vec![update(
        "i",
        OperationType::ChainedInvoke,
        OperationAction::Cancel,
    )])
    .await;
    assert_eq!(h.op("i").status, OperationStatus::Cancelled);
    h.rejected(
        vec![update(
            "i",
            OperationType::ChainedInvoke,
            OperationAction::Cancel,
        )],
        "Cannot cancel a CHAINED_INVOKE that does not exist or has already completed.",
    )
    .await;
}

#[tokio::test]
async fn context_rules_and_details() {
    let mut h = Harness::new();
    h.ok(vec![update(
        "c",
        OperationType::Context,
        OperationAction::Start,
    )])
    .await;
    h.rejected(
        vec![update("c", OperationType::Context, OperationAction::Start)],
        "Cannot start a CONTEXT that already exists.",
    )
    .await;
    h.rejected(
        vec![with_error(
            update("c", OperationType::Context, OperationAction::Succeed),
            "E",
        )],
        ERROR_ON_SUCCEED,
    )
    .await;
    let mut succeed = with_payload(
        update("c", OperationType::Context, OperationAction::Succeed),
        "[1]",
    );
    succeed.context_options = Some(with(ContextOptions::default(), |it| {
        it.replay_children = Some(true);
    }));
    h.ok(vec![succeed]).await;
    let details = h.op("c").context_details.unwrap();
    assert_eq!(details.result.as_deref(), Some("[1]"));
    assert_eq!(details.replay_children, Some(true));
    h.rejected(
        vec![with_error(
            update("c", OperationType::Context, OperationAction::Fail),
            "E",
        )],
        CONTEXT_CLOSE_STATE,
    )
    .await;
    // A context may fail without a START.
    h.ok(vec![with_error(
        update("d", OperationType::Context, OperationAction::Fail),
        "E",
    )])
    .await;
    assert_eq!(h.op("d").status, OperationStatus::Failed);
}

#[tokio::test]
async fn sizes_are_limited() {
    let mut h = Harness::new();
    let mut big_error = step("s", OperationAction::Fail);
    big_error.error = Some(with(ErrorObject::default(), |it| {
        it.error_data = Some("x".repeat(MAX_ERROR_BYTES));
    }));
    h.rejected(vec![big_error], ERROR_TOO_LARGE).await;
    // Steps (and every operation but the EXECUTION) take 1 MiB, counted in bytes.
    let over = "é".repeat(MAX_OPERATION_PAYLOAD_BYTES / 2) + "x";
    h.rejected(
        vec![with_payload(step("s", OperationAction::Succeed), &over)],
        OPERATION_PAYLOAD_TOO_LARGE,
    )
    .await;
    let mut invoke = with_payload(
        update("i", OperationType::ChainedInvoke, OperationAction::Start),
        &over,
    );
    invoke.chained_invoke_options = Some(lambda_durable::wire::ChainedInvokeOptions::new(
        "target".to_string(),
    ));
    h.rejected(vec![invoke], OPERATION_PAYLOAD_TOO_LARGE).await;
    // Exactly at the limit is fine, even alone in a request over 750 KiB.
    let at_limit = "é".repeat(MAX_OPERATION_PAYLOAD_BYTES / 2);
    h.ok(vec![with_payload(
        step("s", OperationAction::Succeed),
        &at_limit,
    )])
    .await;
    // The EXECUTION takes 6 MiB.
    let huge = "x".repeat(MAX_EXECUTION_PAYLOAD_BYTES + 1);
    let execution = || update("e", OperationType::Execution, OperationAction::Succeed);
    h.rejected(vec![with_payload(execution(), &huge)], PAYLOAD_TOO_LARGE)
        .await;
    h.ok(vec![with_payload(execution(), &huge[1..])]).await;
}

#[tokio::test]
async fn requests_are_limited_in_size_and_count() {
    let mut h = Harness::new();
    // Two updates of 400 KB of JSON each: over 750 KiB together.
    let half = "\"".repeat(200_000);
    h.rejected(
        vec![
            with_payload(step("a", OperationAction::Succeed), &half),
            with_payload(step("b", OperationAction::Succeed), &half),
        ],
        REQUEST_TOO_LARGE,
    )
    .await;
    // Measured as JSON: 750 KiB of characters that need no escaping fit.
    let fits = "x".repeat(MAX_REQUEST_BYTES / 2 - 200);
    h.ok(vec![
        with_payload(step("a", OperationAction::Succeed), &fits),
        with_payload(step("b", OperationAction::Succeed), &fits),
    ])
    .await;
    let many = |prefix: &str, n: usize| -> Vec<OperationUpdate> {
        (0..n)
            .map(|i| step(&format!("{prefix}{i}"), OperationAction::Start))
            .collect()
    };
    h.rejected(many("c", MAX_UPDATES_PER_REQUEST + 1), TOO_MANY_UPDATES)
        .await;
    h.ok(many("c", MAX_UPDATES_PER_REQUEST)).await;
}

#[test]
fn size_messages_name_the_limits() {
    for (message, limit) in [
        (ERROR_TOO_LARGE, MAX_ERROR_BYTES),
        (PAYLOAD_TOO_LARGE, MAX_EXECUTION_PAYLOAD_BYTES),
        (OPERATION_PAYLOAD_TOO_LARGE, MAX_OPERATION_PAYLOAD_BYTES),
        (REQUEST_TOO_LARGE, MAX_REQUEST_BYTES),
        (TOO_MANY_UPDATES, MAX_UPDATES_PER_REQUEST),
    ] {
        assert!(message.contains(&format!(" {limit} ")), "{message}");
    }
}

// ---------------------------------------------------------------------------------------
// Tokens, idempotency, the response delta, paging
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn tokens_rotate_and_belong_to_one_invocation() {
    let mut h = Harness::new();
    let first = h.token.clone();
    h.ok(vec![step("a", OperationAction::Start)]).await;
    let second = h.token.clone();
    assert_ne!(first, second);
    // The consumed token is stale.
    let err = h.send_with(&first, None, Vec::new()).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (
            ServiceErrorKind::InvalidParameter,
            "Invalid checkpoint token"
        )
    );
    assert!(err.is_invalid_token() && err.is_transient());
    // A made-up one too.
    let err = h.send_with("Zm9v", None, Vec::new()).await.unwrap_err();
    assert!(err.is_invalid_token());
    // The current token of an invocation that ended is void.
    h.end(pending());
    let err = h.send_with(&second, None, Vec::new()).await.unwrap_err();
    assert!(err.is_invalid_token());
    h.begin();
    assert_ne!(h.token, second);
    let err = h.send_with(&second, None, Vec::new()).await.unwrap_err();
    assert!(err.is_invalid_token());
    h.ok(Vec::new()).await;
}

#[tokio::test]
async fn a_repeat_with_the_same_client_token_gets_the_cached_response() {
    let mut h = Harness::new();
    let token = h.token.clone();
    let first = h
        .send_with(
            &token,
            Some("client-1"),
            vec![step("a", OperationAction::Start)],
        )
        .await
        .unwrap();
    let repeat = h
        .send_with(
            &token,
            Some("client-1"),
            vec![step("a", OperationAction::Start)],
        )
        .await
        .unwrap();
    assert_eq!(first, repeat);
    let stats = h.record.lock().unwrap().stats;
    assert_eq!((stats.checkpoint_calls, stats.updates), (2, 1));
    // Another client token with the spent token is a new request, and stale.
    let err = h
        .send_with(
            &token,
            Some("client-2"),
            vec![step("a", OperationAction::Start)],
        )
        .await
        .unwrap_err();
    assert!(err.is_invalid_token());
    // The same client token with the new token is a new request.
    let current = h.token.clone();
    h.send_with(
        &current,
        Some("client-1"),
        vec![with_payload(step("a", OperationAction::Succeed), "1")],
    )
    .await
    .unwrap();
    assert_eq!(h.op("a").status, OperationStatus::Succeeded);
}

#[tokio::test]
async fn responses_carry_the_operations_changed_since_the_invocation_saw_them() {
    let mut h = Harness::new();
    h.ok(vec![wait("w", 5), step("a", OperationAction::Start)])
        .await;
    let response = h
        .ok(vec![with_payload(step("a", OperationAction::Succeed), "1")])
        .await;
    let ids: Vec<_> = response
        .new_execution_state
        .unwrap()
        .operations
        .iter()
        .map(|op| op.id.to_string())
        .collect();
    assert_eq!(ids, vec!["a"]);
    // The timer fires between invocations; the new envelope has it, and the next response
    // does not repeat it.
    h.end(pending());
    h.advance();
    assert!(h.record.lock().unwrap().has_unseen_changes());
    let input = h.begin();
    let ops = input.initial_execution_state.unwrap().operations;
    assert_eq!(ops.len(), 3);
    assert_eq!(ops[1].status, OperationStatus::Succeeded);
    let response = h.ok(vec![step("b", OperationAction::Start)]).await;
    let ids: Vec<_> = response
        .new_execution_state
        .unwrap()
        .operations
        .iter()
        .map(|op| op.id.to_string())
        .collect();
    assert_eq!(ids, vec!["b"]);
}

#[tokio::test]
async fn the_operation_log_is_paged() {
    let mut h = Harness::with(ExecutionConfig {
        envelope_page_size: Some(2),
        state_page_size: Some(2),
        ..config()
    });
    h.ok((0..4)
        .map(|i| step(&format!("s{i}"), OperationAction::Start))
        .collect())
        .await;
    h.end(pending());
    h.advance();
    let input = h.begin();
    let state = input.initial_execution_state.unwrap();
    assert_eq!(state.operations.len(), 2);
    let mut ids: Vec<String> = state
        .operations
        .iter()
        .map(|op| op.id.to_string())
        .collect();
    let mut marker = state.next_marker;
    let token = CheckpointToken::try_from(h.token.as_str()).unwrap();
    let mut reads = 0;
    while let Some(current) = marker {
        let page = h
            .service
            .get_state(
                &h.arn,
                &with(GetDurableExecutionStateRequest::new(token.clone()), |it| {
                    it.marker = Some(current);
                    it.max_items = Some(1000);
                }),
            )
            .await
            .unwrap();
        assert!(page.operations.len() <= 2);
        ids.extend(page.operations.iter().map(|op| op.id.to_string()));
        marker = page.next_marker;
        reads += 1;
    }
    assert_eq!(reads, 2);
    assert_eq!(&ids[1..], ["s0", "s1", "s2", "s3"]);
    // Reading does not rotate the token; bad markers and sizes are refused.
    let read = |marker: Option<&str>, max_items: Option<i64>| {
        with(GetDurableExecutionStateRequest::new(token.clone()), |it| {
            it.marker = marker.map(str::to_string);
            it.max_items = max_items;
        })
    };
    let first = h
        .service
        .get_state(&h.arn, &read(None, Some(1)))
        .await
        .unwrap();
    assert_eq!(first.operations.len(), 1);
    assert_eq!(first.operations[0].type_, OperationType::Execution);
    for (marker, max_items, message) in [
        (Some("garbage"), None, "Invalid marker"),
        (Some("ops-99"), None, "Invalid marker"),
        (None, Some(1001), "MaxItems must be between 0 and 1000."),
        (None, Some(-1), "MaxItems must be between 0 and 1000."),
    ] {
        let err = h
            .service
            .get_state(&h.arn, &read(marker, max_items))
            .await
            .unwrap_err();
        assert_eq!(err.message(), message);
    }
    let stale = GetDurableExecutionStateRequest::new(CheckpointToken::try_from("Zm9v").unwrap());
    assert!(h
        .service
        .get_state(&h.arn, &stale)
        .await
        .unwrap_err()
        .is_invalid_token());
    h.ok(Vec::new()).await;
}

#[tokio::test]
async fn the_state_leaves_out_the_children_of_completed_contexts() {
    let mut h = Harness::with(ExecutionConfig {
        envelope_page_size: Some(2),
        state_page_size: Some(2),
        ..config()
    });
    let start = |id: &str| update(id, OperationType::Context, OperationAction::Start);
    let done = |id: &str| with_payload(step(id, OperationAction::Succeed), "1");
    let mut replayed = with_payload(
        update("r", OperationType::Context, OperationAction::Succeed),
        "2",
    );
    replayed.context_options = Some(with(ContextOptions::default(), |it| {
        it.replay_children = Some(true);
    }));
    h.ok(vec![
        // Succeeded: its children (and theirs) are left out.
        start("c"),
        child(done("c-s"), "c"),
        child(start("c-n"), "c"),
        child(done("c-n-s"), "c-n"),
        with_payload(
            child(
                update("c-n", OperationType::Context, OperationAction::Succeed),
                "c",
            ),
            "3",
        ),
        with_payload(
            update("c", OperationType::Context, OperationAction::Succeed),
            "4",
        ),
        // Failed: the same.
        start("f"),
        child(done("f-s"), "f"),
        with_error(
            update("f", OperationType::Context, OperationAction::Fail),
            "E",
        ),
        // Succeeded with ReplayChildren: its children stay, as do those of a running one.
        start("r"),
        child(done("r-s"), "r"),
        replayed,
        start("o"),
        child(done("o-s"), "o"),
        wait("w", 5),
    ])
    .await;
    h.end(pending());
    let input = h.begin();
    let state = input.initial_execution_state.unwrap();
    let mut ids: Vec<String> = state
        .operations
        .iter()
        .map(|op| op.id.to_string())
        .collect();
    let mut marker = state.next_marker;
    let token = CheckpointToken::try_from(h.token.as_str()).unwrap();
    while let Some(current) = marker {
        let page = h
            .service
            .get_state(
                &h.arn,
                &with(GetDurableExecutionStateRequest::new(token.clone()), |it| {
                    it.marker = Some(current);
                }),
            )
            .await
            .unwrap();
        assert!(!page.operations.is_empty() && page.operations.len() <= 2);
        ids.extend(page.operations.iter().map(|op| op.id.to_string()));
        marker = page.next_marker;
    }
    assert_eq!(&ids[1..], ["c", "f", "r", "r-s", "o", "o-s", "w"]);
    // The service still keeps them: the runner's view of the execution has them all.
    assert_eq!(h.op("c-n-s").status, OperationStatus::Succeeded);
    assert_eq!(h.snapshot_ops().len(), 12);
}

#[tokio::test]
async fn an_execution_update_completes_the_execution_and_spends_the_token() {
    let mut h = Harness::new();
    let response = h
        .ok(vec![
            with_payload(step("a", OperationAction::Succeed), "1"),
            with_payload(
                update(
                    "execution-result-1",
                    OperationType::Execution,
                    OperationAction::Succeed,
                ),
                "\"big\"",
            ),
        ])
        .await;
    assert!(response.checkpoint_token.is_none());
    let ops = response.new_execution_state.unwrap().operations;
    assert!(ops
        .iter()
        .any(|op| op.type_ == OperationType::Execution && op.status == OperationStatus::Succeeded));
    let token = h.token.clone();
    assert!(h
        .send_with(&token, None, Vec::new())
        .await
        .unwrap_err()
        .is_invalid_token());
    // The handler then returns SUCCEEDED with an empty result; the stored one stays.
    let outcome = h.end(RawOutcome::Output(with(
        DurableExecutionInvocationOutput::new(InvocationStatus::Succeeded),
        |it| {
            it.result = Some(String::new());
        },
    )));
    assert_eq!(outcome.status(), Some(InvocationStatus::Succeeded));
    let execution = h.record.lock().unwrap().snapshot();
    assert_eq!(execution.status(), ExecutionStatus::Succeeded);
    assert_eq!(execution.result::<String>().unwrap(), "big");
    let succeeded = execution
        .history()
        .iter()
        .filter(|event| event.event_type == EventType::ExecutionSucceeded)
        .count();
    assert_eq!(succeeded, 1);
}

// ---------------------------------------------------------------------------------------
// Invocation outcomes
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn pending_needs_something_pending() {
    let mut h = Harness::new();
    let outcome = h.end(pending());
    assert!(
        matches!(&outcome, InvocationOutcome::Rejected { reason, .. } if reason == "Cannot return PENDING status with no pending operations."),
        "{outcome:?}"
    );
    // A started callback is pending, but no timer can resume it: the run would stop here.
    h.begin();
    h.ok(vec![update(
        "cb",
        OperationType::Callback,
        OperationAction::Start,
    )])
    .await;
    assert_eq!(h.end(pending()).status(), Some(InvocationStatus::Pending));
    assert_eq!(h.advance(), None);
    assert!(!h.record.lock().unwrap().has_unseen_changes());
    assert_eq!(h.record.lock().unwrap().status(), ExecutionStatus::Running);
}

#[tokio::test]
async fn outputs_must_not_mix_result_and_error() {
    let mut h = Harness::new();
    let error = with(ErrorObject::default(), |it| {
        it.error_message = Some("m".to_string());
        it.error_type = Some("T".to_string());
    });
    let outcome = h.end(RawOutcome::Output(with(
        DurableExecutionInvocationOutput::new(InvocationStatus::Failed),
        |it| {
            it.result = Some("1".to_string());
            it.error = Some(error.clone());
        },
    )));
    assert!(
        matches!(outcome, InvocationOutcome::Rejected { ref reason, .. } if reason == "Cannot return FAILED status with a Result.")
    );
    h.begin();
    let outcome = h.end(RawOutcome::Output(with(
        DurableExecutionInvocationOutput::new(InvocationStatus::Succeeded),
        |it| {
            it.result = Some("1".to_string());
            it.error = Some(error.clone());
        },
    )));
    assert!(
        matches!(outcome, InvocationOutcome::Rejected { ref reason, .. } if reason == "Cannot return SUCCEEDED status with an Error.")
    );
    assert_eq!(h.record.lock().unwrap().status(), ExecutionStatus::Running);
    // The third failure in a row (max_consecutive_failures = 3) fails the execution.
    h.begin();
    let outcome = h.end(RawOutcome::FunctionError("gave up".to_string()));
    assert!(outcome.is_error());
    let execution = h.record.lock().unwrap().snapshot();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    let error = execution.error().unwrap();
    assert_eq!(
        (error.error_type.as_deref(), error.error_message.as_deref()),
        (Some("DurableInvocationError"), Some("gave up"))
    );
    let completed: Vec<_> = execution
        .history()
        .iter()
        .filter_map(|event| event.invocation_completed_details.as_ref())
        .map(|details| {
            details
                .error
                .as_ref()
                .and_then(|error| error.payload.as_ref()?.error_type.clone())
        })
        .collect();
    assert_eq!(
        completed,
        vec![
            Some("InvalidInvocationOutput".to_string()),
            Some("InvalidInvocationOutput".to_string()),
            Some("DurableInvocationError".to_string())
        ]
    );
    assert!(matches!(
        h.record.lock().unwrap().begin_invocation(),
        Err(super::RunnerError::Finished {
            status: ExecutionStatus::Failed
        })
    ));
}

#[tokio::test]
async fn a_valid_pending_resets_the_failure_count() {
    let mut h = Harness::new();
    h.ok(vec![wait("w", 1)]).await;
    h.end(RawOutcome::FunctionError("one".to_string()));
    h.begin();
    h.end(RawOutcome::FunctionError("two".to_string()));
    h.begin();
    assert_eq!(h.end(pending()).status(), Some(InvocationStatus::Pending));
    h.begin();
    h.end(RawOutcome::FunctionError("three".to_string()));
    h.begin();
    h.end(RawOutcome::FunctionError("four".to_string()));
    assert_eq!(h.record.lock().unwrap().status(), ExecutionStatus::Running);
}

#[tokio::test]
async fn a_failed_output_fails_the_execution() {
    let mut h = Harness::new();
    let error = with(ErrorObject::default(), |it| {
        it.error_message = Some("declined".to_string());
        it.error_type = Some("StepError".to_string());
    });
    h.end(RawOutcome::Output(with(
        DurableExecutionInvocationOutput::new(InvocationStatus::Failed),
        |it| {
            it.error = Some(error.clone());
        },
    )));
    let execution = h.record.lock().unwrap().snapshot();
    assert_eq!(execution.status(), ExecutionStatus::Failed);
    assert_eq!(execution.error(), Some(&error));
    assert_eq!(execution.operations()[0].status, OperationStatus::Failed);
}

// ---------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn refusing_faults_apply_nothing() {
    for (kind, error_kind) in [
        (FaultKind::Throttle, ServiceErrorKind::Throttled),
        (FaultKind::ServerError, ServiceErrorKind::Server),
        (FaultKind::InvalidToken, ServiceErrorKind::InvalidParameter),
    ] {
        let mut h = Harness::with(ExecutionConfig {
            faults: vec![Fault::new(kind).at_call(2)],
            ..config()
        });
        h.ok(vec![step("a", OperationAction::Start)]).await;
        let token = h.token.clone();
        let err = h
            .send_with(
                &token,
                Some("c"),
                vec![with_payload(step("a", OperationAction::Succeed), "1")],
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), error_kind, "{kind:?}");
        assert!(err.is_transient(), "{kind:?}");
        assert_eq!(h.op("a").status, OperationStatus::Started, "{kind:?}");
        // The same request goes through on the next call.
        h.send_with(
            &token,
            Some("c"),
            vec![with_payload(step("a", OperationAction::Succeed), "1")],
        )
        .await
        .unwrap();
        assert_eq!(h.op("a").status, OperationStatus::Succeeded, "{kind:?}");
    }
}

#[tokio::test]
async fn a_lost_response_is_applied_and_recovered_by_a_repeat() {
    let mut h = Harness::with(ExecutionConfig {
        faults: vec![Fault::lost_response()],
        ..config()
    });
    let token = h.token.clone();
    let err = h
        .send_with(&token, Some("c"), vec![step("a", OperationAction::Start)])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ServiceErrorKind::Transport);
    assert_eq!(h.op("a").status, OperationStatus::Started);
    let response = h
        .send_with(&token, Some("c"), vec![step("a", OperationAction::Start)])
        .await
        .unwrap();
    assert_eq!(
        response.new_execution_state.unwrap().operations[0]
            .id
            .as_str(),
        "a"
    );
    let stats = h.record.lock().unwrap().stats;
    assert_eq!((stats.checkpoint_calls, stats.updates), (2, 1));
}

#[tokio::test]
async fn a_crash_applies_the_call_and_holds_the_caller_until_the_invocation_ends() {
    let service = Arc::new(LocalService::default());
    let record = service
        .create_execution(
            "{}".to_string(),
            ExecutionConfig {
                faults: vec![Fault::crash()],
                ..config()
            },
        )
        .unwrap();
    let arn = record.lock().unwrap().arn.clone();
    let (input, mut crashed) = record.lock().unwrap().begin_invocation().unwrap();
    let request = with(
        CheckpointDurableExecutionRequest::new(input.checkpoint_token.clone()),
        |it| {
            it.updates = vec![step("a", OperationAction::Start)];
        },
    );
    let caller = {
        let service = Arc::clone(&service);
        let arn = arn.clone();
        tokio::spawn(async move { service.checkpoint(&arn, &request).await })
    };
    let call = crashed
        .wait_for(Option::is_some)
        .await
        .map(|call| *call)
        .unwrap();
    assert_eq!(call, Some(1));
    // Applied, but the caller has no answer and the token is void.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!caller.is_finished());
    let snapshot = record.lock().unwrap().snapshot();
    assert_eq!(snapshot.operations().len(), 2);
    let retry = CheckpointDurableExecutionRequest::new(input.checkpoint_token);
    assert!(service
        .checkpoint(&arn, &retry)
        .await
        .unwrap_err()
        .is_invalid_token());
    let outcome = record
        .lock()
        .unwrap()
        .end_invocation(RawOutcome::Crashed(1));
    assert_eq!(outcome, InvocationOutcome::Crashed { after_call: 1 });
    let err = caller.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ServiceErrorKind::Other);
    assert!(!err.is_transient());
}

#[tokio::test]
async fn faults_hit_their_own_kind_of_call_once() {
    let mut h = Harness::with(ExecutionConfig {
        faults: vec![
            Fault::new(FaultKind::GetStateServerError),
            Fault::throttle().at_call(3),
        ],
        ..config()
    });
    // Checkpoint calls 1 and 2 are untouched by both faults.
    h.ok(Vec::new()).await;
    h.ok(Vec::new()).await;
    let token = h.token.clone();
    assert_eq!(
        h.send_with(&token, None, Vec::new())
            .await
            .unwrap_err()
            .kind(),
        ServiceErrorKind::Throttled
    );
    h.ok(Vec::new()).await;
    let read =
        GetDurableExecutionStateRequest::new(CheckpointToken::try_from(h.token.as_str()).unwrap());
    let err = h.service.get_state(&h.arn, &read).await.unwrap_err();
    assert_eq!(err.kind(), ServiceErrorKind::Server);
    assert!(h.service.get_state(&h.arn, &read).await.is_ok());
}

#[tokio::test]
async fn unknown_executions_are_not_found() {
    let h = Harness::new();
    let request = CheckpointDurableExecutionRequest::new(
        CheckpointToken::try_from(h.token.as_str()).unwrap(),
    );
    let err = h
        .service
        .checkpoint("arn:nope", &request)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ServiceErrorKind::NotFound);
    h.service.remove(&h.arn);
    let err = h.service.checkpoint(&h.arn, &request).await.unwrap_err();
    assert_eq!(err.kind(), ServiceErrorKind::NotFound);
}

#[test]
fn base64_matches_the_standard_alphabet() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foob"), "Zm9vYg==");
    assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
}

#[test]
fn faults_choose_their_call() {
    assert!(Fault::crash().hits(7, false));
    assert!(!Fault::crash().hits(7, true));
    assert!(Fault::crash().at_call(2).hits(2, false));
    assert!(!Fault::crash().at_call(2).hits(3, false));
    assert_eq!(Fault::crash().at_call(0).call(), None);
    assert!(Fault::new(FaultKind::GetStateThrottle).hits(1, true));
}
