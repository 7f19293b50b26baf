//! The callbacks an execution waits for, read from its history: a `CallbackStarted` event
//! with no later `CallbackSucceeded`, `CallbackFailed` or `CallbackTimedOut` event for the
//! same operation, while the execution runs. Needs no execution data.

use std::collections::{HashMap, HashSet};

use crate::PendingCallback;
use lambda_durable::wire::{Event, EventType};

/// What the first event of an operation says about it.
struct Identity<'a> {
    name: Option<&'a str>,
    sub_type: Option<&'a str>,
    context: bool,
}

/// The pending callbacks of the execution `arn`, oldest first.
pub(crate) fn pending_callbacks(events: &[Event], arn: &str) -> Vec<PendingCallback> {
    let mut sorted: Vec<&Event> = events.iter().collect();
    sorted.sort_by_key(|event| event.event_id);
    let mut identities: HashMap<&str, Identity<'_>> = HashMap::new();
    let mut started: Vec<(&Event, String)> = Vec::new();
    let mut closed: HashSet<&str> = HashSet::new();
    for event in sorted {
        match event.event_type {
            EventType::ExecutionSucceeded
            | EventType::ExecutionFailed
            | EventType::ExecutionTimedOut
            | EventType::ExecutionStopped => return Vec::new(),
            _ => {}
        }
        let Some(id) = event.id.as_ref().map(|id| id.as_str()) else {
            continue;
        };
        identities.entry(id).or_insert_with(|| Identity {
            name: event.name.as_deref().map(String::as_str),
            sub_type: event.sub_type.as_deref().map(String::as_str),
            context: matches!(
                event.event_type,
                EventType::ContextStarted | EventType::ContextSucceeded | EventType::ContextFailed
            ),
        });
        match event.event_type {
            EventType::CallbackStarted => {
                let callback_id = event
                    .callback_started_details
                    .as_ref()
                    .and_then(|details| details.callback_id.as_ref())
                    .map(ToString::to_string);
                if let Some(callback_id) = callback_id.filter(|id| !id.is_empty()) {
                    started.push((event, callback_id));
                }
            }
            EventType::CallbackSucceeded
            | EventType::CallbackFailed
            | EventType::CallbackTimedOut => {
                closed.insert(id);
            }
            _ => {}
        }
    }
    started
        .into_iter()
        .filter_map(|(event, callback_id)| {
            let id = event.id.as_ref()?.as_str();
            if closed.contains(id) {
                return None;
            }
            // The callback of a wait_for_callback goes by the name the code gave the latter.
            let wrapper = event
                .parent_id
                .as_ref()
                .and_then(|parent| identities.get(parent.as_str()))
                .filter(|parent| parent.context && parent.sub_type == Some("WaitForCallback"));
            let name = match wrapper {
                Some(wrapper) => wrapper.name,
                None => event.name.as_deref().map(String::as_str),
            };
            Some(PendingCallback {
                callback_id,
                operation_id: id.to_string(),
                name: name.map(str::to_string),
                execution_arn: arn.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn events(list: Value) -> Vec<Event> {
        serde_json::from_value(list).unwrap_or_else(|err| panic!("{err}"))
    }

    fn started(
        event_id: u64,
        id: &str,
        name: Option<&str>,
        parent: Option<&str>,
        callback: &str,
    ) -> Value {
        json!({
            "EventId": event_id, "EventType": "CallbackStarted", "Id": id, "Name": name,
            "ParentId": parent, "SubType": "Callback",
            "EventTimestamp": 1_767_225_600 + event_id,
            "CallbackStartedDetails": {"CallbackId": callback}
        })
    }

    fn ids(pending: &[PendingCallback]) -> Vec<(&str, Option<&str>)> {
        pending
            .iter()
            .map(|callback| (callback.id(), callback.name()))
            .collect()
    }

    #[test]
    fn started_callbacks_without_a_completion_are_pending_oldest_first() {
        let history = events(json!([
            {"EventId": 1, "EventType": "ExecutionStarted", "Id": "exec",
             "ExecutionStartedDetails": {"Input": {"Payload": "{}"}}},
            started(2, "op-a", Some("approval"), None, "cb-a"),
            started(3, "op-b", Some("signature"), None, "cb-b"),
            started(4, "op-c", None, None, "cb-c"),
            {"EventId": 5, "EventType": "CallbackSucceeded", "Id": "op-a", "SubType": "Callback",
             "CallbackSucceededDetails": {"Result": {"Payload": "true"}}},
            {"EventId": 6, "EventType": "CallbackTimedOut", "Id": "op-c", "SubType": "Callback"},
            {"EventId": 7, "EventType": "InvocationCompleted"},
        ]));
        let pending = pending_callbacks(&history, "arn:x");
        assert_eq!(ids(&pending), vec![("cb-b", Some("signature"))]);
        assert_eq!(pending[0].operation_id(), "op-b");
        assert_eq!(pending[0].execution_arn(), "arn:x");
    }

    #[test]
    fn events_out_of_order_are_read_by_event_id() {
        let mut list = vec![
            started(3, "op-b", Some("b"), None, "cb-b"),
            {
                json!({"EventId": 4, "EventType": "CallbackFailed", "Id": "op-a", "SubType": "Callback"})
            },
            started(2, "op-a", Some("a"), None, "cb-a"),
        ];
        list.reverse();
        let pending = pending_callbacks(&events(Value::Array(list)), "arn:x");
        assert_eq!(ids(&pending), vec![("cb-b", Some("b"))]);
    }

    #[test]
    fn the_callback_of_a_wait_for_callback_goes_by_its_name() {
        let history = events(json!([
            {"EventId": 1, "EventType": "ContextStarted", "Id": "ctx", "Name": "approval",
             "SubType": "WaitForCallback"},
            started(2, "op-cb", None, Some("ctx"), "cb-1"),
            {"EventId": 3, "EventType": "ContextStarted", "Id": "other", "Name": "group",
             "SubType": "RunInChildContext"},
            started(4, "op-cb2", Some("inner"), Some("other"), "cb-2"),
        ]));
        assert_eq!(
            ids(&pending_callbacks(&history, "arn:x")),
            vec![("cb-1", Some("approval")), ("cb-2", Some("inner"))]
        );
    }

    #[test]
    fn a_finished_execution_has_no_pending_callbacks() {
        let history = events(json!([
            started(1, "op-a", Some("approval"), None, "cb-a"),
            {"EventId": 2, "EventType": "ExecutionStopped", "Id": "exec"},
        ]));
        assert!(pending_callbacks(&history, "arn:x").is_empty());
    }

    #[test]
    fn a_callback_started_without_an_id_is_not_listed() {
        let history = events(json!([
            {"EventId": 1, "EventType": "CallbackStarted", "Id": "op-a", "Name": "a",
             "CallbackStartedDetails": {}},
            {"EventId": 2, "EventType": "CallbackStarted", "Name": "no operation id",
             "CallbackStartedDetails": {"CallbackId": "cb-x"}},
        ]));
        assert!(pending_callbacks(&history, "arn:x").is_empty());
    }
}
