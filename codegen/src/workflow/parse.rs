//! Reading a declaration: its JSON is deserialized into the declaration types, from which
//! the meta-schema is derived, so a file that reads is a file that follows the meta-schema.
//! Errors carry the JSON pointer of the offending value.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::declaration::{
    CallbackOperation, ChildContextOperation, Declaration, ExponentialRetry, FixedRetry,
    InvokeOperation, LinearRetry, MapOperation, NoRetry, ParallelOperation, PresetRetry,
    StepOperation, WaitForConditionOperation, WaitOperation,
};
use crate::CodegenError;

pub(crate) fn parse(path: &Path, value: &Value) -> Result<Declaration, CodegenError> {
    deserialize_at::<Declaration>(value, "").map_err(|(pointer, message)| {
        let (pointer, message) = refine(value, pointer, message);
        CodegenError::Schema {
            path: path.to_path_buf(),
            pointer,
            message,
        }
    })
}

/// Deserializes `value` (found at `base`), returning the pointer and message of a failure.
fn deserialize_at<T: DeserializeOwned>(value: &Value, base: &str) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|err| {
        let mut pointer = base.to_string();
        for segment in err.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => {
                    pointer.push_str(&format!("/{index}"));
                }
                serde_path_to_error::Segment::Map { key } => {
                    pointer.push('/');
                    pointer.push_str(&escape_pointer(key));
                }
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => {}
            }
        }
        (pointer, err.into_inner().to_string())
    })
}

pub(crate) fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// serde reports an error inside an internally tagged value (an operation by `kind`, a
/// retry policy by `strategy`) at the tagged value itself. Read that value again as the
/// variant its tag names, to point at the field that is wrong.
fn refine(root: &Value, pointer: String, message: String) -> (String, String) {
    let Some(Value::Object(map)) = root.pointer(&pointer) else {
        return (pointer, message);
    };
    let is_operation = pointer
        .strip_prefix("/operations/")
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()));
    let (tag, variant): (&str, fn(&str) -> Option<Variant>) = if is_operation {
        ("kind", operation_variant)
    } else if pointer.ends_with("/retry") {
        ("strategy", retry_variant)
    } else {
        return (pointer, message);
    };
    let Some(name) = map.get(tag).and_then(Value::as_str) else {
        return match map.get(tag) {
            None => (pointer, message),
            Some(_) => (
                format!("{pointer}/{tag}"),
                format!("`{tag}` must be a string"),
            ),
        };
    };
    let Some(read) = variant(name) else {
        // An unknown tag: serde's message lists the known ones.
        return (format!("{pointer}/{tag}"), message);
    };
    let mut rest = map.clone();
    rest.remove(tag);
    match read(&Value::Object(rest), &pointer) {
        Ok(()) => (pointer, message),
        Err((inner, inner_message)) if inner != pointer => refine(root, inner, inner_message),
        Err(found) => found,
    }
}

type Variant = fn(&Value, &str) -> Result<(), (String, String)>;

fn read_as<T: DeserializeOwned>(value: &Value, pointer: &str) -> Result<(), (String, String)> {
    deserialize_at::<T>(value, pointer).map(drop)
}

fn operation_variant(kind: &str) -> Option<Variant> {
    Some(match kind {
        "step" => read_as::<StepOperation>,
        "wait" => read_as::<WaitOperation>,
        "callback" => read_as::<CallbackOperation>,
        "invoke" => read_as::<InvokeOperation>,
        "child-context" => read_as::<ChildContextOperation>,
        "map" => read_as::<MapOperation>,
        "parallel" => read_as::<ParallelOperation>,
        "wait-for-condition" => read_as::<WaitForConditionOperation>,
        _ => return None,
    })
}

fn retry_variant(strategy: &str) -> Option<Variant> {
    Some(match strategy {
        "default" | "transient" | "resource-availability" | "critical" => read_as::<PresetRetry>,
        "exponential" => read_as::<ExponentialRetry>,
        "linear" => read_as::<LinearRetry>,
        "fixed" => read_as::<FixedRetry>,
        "none" => read_as::<NoRetry>,
        _ => return None,
    })
}
