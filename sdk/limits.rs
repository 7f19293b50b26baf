//! The durable-execution service's size and range limits, as this SDK enforces them.
//!
//! The SDK checks what it is about to send against these numbers before it sends it, so an
//! oversized payload is an error that names the operation ([`Error::PayloadTooLarge`])
//! instead of a rejected checkpoint. Where the service's documents and its API model
//! disagree, the stricter number is used. The local runner of `lambda-durable-testing`
//! validates requests with the same constants, so what passes there also passes on Lambda.
//! Sizes are bytes of UTF-8 (or of compact JSON, where that is said): the API model counts
//! some of them in characters, and a byte count is never smaller.
//!
//! ```
//! use lambda_durable::limits::{json_size, MAX_OPERATION_PAYLOAD_BYTES};
//!
//! let result = serde_json::json!({"thumbnails": ["a.png", "b.png"]});
//! assert!(json_size(&result) <= MAX_OPERATION_PAYLOAD_BYTES);
//! ```

use serde::Serialize;

use crate::error::{Error, OperationRef};
use crate::wire::{CheckpointDurableExecutionRequest, ErrorObject, OperationUpdate};

/// The largest `CheckpointDurableExecution` request body (JSON) the SDK sends with more
/// than one update: 750 KiB. The official SDKs batch to the same limit. An update that is
/// larger than this on its own is sent alone (its payload and error limits still apply).
pub const MAX_REQUEST_BYTES: usize = 750 * 1024;

/// The most updates the SDK sends in one `CheckpointDurableExecution` request: 250.
pub const MAX_UPDATES_PER_REQUEST: usize = 250;

/// The largest result of an execution, checkpointed when it does not fit the invocation's
/// response: 6 MiB (6,291,456 bytes), the API model's limit for synchronously invoked
/// executions.
pub const MAX_EXECUTION_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// The largest payload of a step, child context, chained invoke, wait or callback update (a
/// step's result, a wait-for-condition state, an invoke's input): 1 MiB, 1,048,576 bytes.
pub const MAX_OPERATION_PAYLOAD_BYTES: usize = 1024 * 1024;

/// The largest result `SendDurableExecutionCallbackSuccess` accepts: 1,048,576 bytes.
pub const MAX_CALLBACK_RESULT_BYTES: usize = 1_048_576;

/// The largest error `SendDurableExecutionCallbackFailure` accepts, as JSON: 1 MiB (all
/// fields of an `ErrorObject` together).
pub const MAX_CALLBACK_ERROR_BYTES: usize = 1024 * 1024;

/// The largest `Error` (an `ErrorObject`, as JSON) a checkpoint update may carry: 32,768
/// bytes. Longer errors are truncated by the SDK, keeping the beginning of each field and a
/// note with the original size.
pub const MAX_ERROR_BYTES: usize = 32_768;

/// Room left for the rest of an update when an error is truncated: the JS local runner
/// measures the JSON of the whole update that carries an error, not only the error. An
/// update without payload and error is below this even with the longest id, parent id,
/// name, sub type and options the model allows (checked by a test).
const UPDATE_ALLOWANCE_BYTES: usize = 1024;

/// What [`truncate_error`] cuts an ErrorObject to, as JSON: [`MAX_ERROR_BYTES`] less
/// [`UPDATE_ALLOWANCE_BYTES`], so that the update carrying it passes both local runners'
/// readings of the limit.
pub(crate) const ERROR_BUDGET_BYTES: usize = MAX_ERROR_BYTES - UPDATE_ALLOWANCE_BYTES;

/// The longest `ErrorType` kept when an error is truncated, as JSON string content.
const MAX_ERROR_TYPE_BYTES: usize = 256;

/// The largest handler output Lambda returns: 6 MiB less 50 bytes for the envelope.
///
/// Source: PROTOCOL.md §3.1; `LAMBDA_RESPONSE_SIZE_LIMIT` of the Python and JS SDKs.
pub(crate) const RESPONSE_LIMIT_BYTES: usize = 6 * 1024 * 1024 - 50;

/// Child-context results larger than this (serialized) are not checkpointed; the context is
/// marked `ReplayChildren` instead: 256 KiB.
///
/// Source: PROTOCOL.md §9.6 and §13; the Python and JS constants.
pub(crate) const REPLAY_CHILDREN_THRESHOLD_BYTES: usize = 256 * 1024;

/// The longest `NextAttemptDelaySeconds` (a retry delay) and `WaitSeconds` (a wait):
/// 31,622,400 seconds (366 days).
pub const MAX_DELAY_SECONDS: u64 = 31_622_400;

/// The longest callback `TimeoutSeconds` and `HeartbeatTimeoutSeconds`: 99,999,999.
pub const MAX_CALLBACK_SECONDS: u64 = 99_999_999;

/// The size of `value` as compact JSON (what `serde_json::to_vec` gives), without building
/// it. A value that cannot be serialized counts as `usize::MAX`.
pub fn json_size<T: Serialize + ?Sized>(value: &T) -> usize {
    let mut counter = ByteCounter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

/// At most what a string of `len` bytes takes as JSON: every byte escapes to at most six
/// (`\u001f`), plus the quotes and a separator.
fn string_bound(len: usize) -> usize {
    len.saturating_mul(6).saturating_add(3)
}

/// What an update's keys, punctuation, numbers and enum values take as JSON, at most
/// (they come to under 600 bytes).
const UPDATE_FIXED_BOUND: usize = 1024;

/// An upper bound of an update's [`json_size`], counted from the lengths of its strings
/// without serializing it: far cheaper, and never smaller than the exact size. The
/// checkpoint writer packs requests with it while they are far from the limit.
pub(crate) fn update_size_bound(update: &OperationUpdate) -> usize {
    let optional = |text: Option<&str>| text.map_or(0, |text| string_bound(text.len()));
    let mut strings = string_bound(update.id.as_str().len())
        .saturating_add(optional(update.name.as_ref().map(|n| n.as_str())))
        .saturating_add(optional(update.parent_id.as_ref().map(|id| id.as_str())))
        .saturating_add(optional(update.sub_type.as_ref().map(|s| s.as_str())))
        .saturating_add(optional(update.payload.as_deref()));
    if let Some(error) = &update.error {
        strings = strings
            .saturating_add(optional(error.error_type.as_deref()))
            .saturating_add(optional(error.error_message.as_deref()))
            .saturating_add(optional(error.error_data.as_deref()));
        for line in &error.stack_trace {
            strings = strings.saturating_add(string_bound(line.len()));
        }
    }
    if let Some(options) = &update.chained_invoke_options {
        strings = strings
            .saturating_add(string_bound(options.function_name.len()))
            .saturating_add(optional(options.tenant_id.as_deref()))
            .saturating_add(optional(options.x_amzn_trace_id.as_deref()));
    }
    strings.saturating_add(UPDATE_FIXED_BOUND)
}

/// The JSON size of `request`, which has no updates yet, once it has some: the request
/// with its `Updates` key and empty array.
pub(crate) fn envelope_size(request: &CheckpointDurableExecutionRequest) -> usize {
    debug_assert!(request.updates.is_empty());
    // An empty `Updates` is left out of the JSON: add `,"Updates":[]`.
    json_size(request).saturating_add(r#","Updates":[]"#.len())
}

/// The JSON size of a request of `bytes` once an update of `size` bytes joins it (with a
/// comma unless it is the `first`).
pub(crate) fn add_update(bytes: usize, first: bool, size: usize) -> usize {
    bytes
        .saturating_add(size)
        .saturating_add(usize::from(!first))
}

/// The JSON size of `request` whose updates measure `update_sizes` (each its
/// [`json_size`]), without serializing the updates again: what the
/// [`MAX_REQUEST_BYTES`] limit is measured on. The updates of `request` itself are not
/// read.
pub fn request_size(request: &CheckpointDurableExecutionRequest, update_sizes: &[usize]) -> usize {
    if update_sizes.is_empty() {
        return json_size(request);
    }
    let head = CheckpointDurableExecutionRequest {
        checkpoint_token: request.checkpoint_token.clone(),
        client_token: request.client_token.clone(),
        updates: Vec::new(),
    };
    update_sizes
        .iter()
        .enumerate()
        .fold(envelope_size(&head), |bytes, (index, size)| {
            add_update(bytes, index == 0, *size)
        })
}

/// A writer that only counts bytes.
struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 = self.0.saturating_add(buf.len());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Checks the size of a payload an operation is about to checkpoint (a step's result, a
/// wait-for-condition state, an invoke's input) against
/// [`MAX_OPERATION_PAYLOAD_BYTES`]. `what` names the payload in the error ("result").
///
/// # Errors
///
/// [`Error::PayloadTooLarge`], naming the operation, the size and the limit, when the
/// payload is larger than the service accepts.
pub(crate) fn check_payload(
    operation: impl FnOnce() -> OperationRef,
    what: &'static str,
    size: usize,
) -> Result<(), Error> {
    if size <= MAX_OPERATION_PAYLOAD_BYTES {
        return Ok(());
    }
    Err(Error::PayloadTooLarge {
        operation: operation(),
        what,
        size,
        limit: MAX_OPERATION_PAYLOAD_BYTES,
    })
}

/// Cuts an ErrorObject down so that its JSON is at most [`ERROR_BUDGET_BYTES`], and
/// returns it unchanged when it already fits.
///
/// The size is measured the stricter of two ways ([`error_cost`]): compact UTF-8 JSON (as
/// this SDK sends it, and as the JS local runner measures it) and Python's default
/// `json.dumps` (as the Python local runner and the AWS emulator measure it, with
/// non-ASCII characters as `\u` escapes).
///
/// The message keeps its beginning and ends with a note that the error was truncated
/// (and how large it was); the data keeps its beginning; the stack trace keeps its first
/// lines; a very long type is cut to 256 bytes. Cuts fall on character boundaries, so the
/// result is valid UTF-8 and serializes to valid JSON. Truncating again (for example
/// when the error is wrapped as a `StepError`) keeps a single note, with the original
/// size.
pub(crate) fn truncate_error(error: ErrorObject) -> ErrorObject {
    truncate_error_to(error, ERROR_BUDGET_BYTES)
}

fn truncate_error_to(error: ErrorObject, budget: usize) -> ErrorObject {
    if error_cost(&error) <= budget {
        return error;
    }
    let size = json_size(&error);
    let ErrorObject {
        error_data,
        error_message,
        error_type,
        stack_trace,
    } = error;
    let message = error_message.unwrap_or_default();
    let (body, noted) = split_note(&message);
    let note = note(noted.unwrap_or(size));
    let error_type = error_type.map(|ty| prefix_within(&ty, MAX_ERROR_TYPE_BYTES).to_string());

    // What is left for the message body, the data and the stack trace once the type, the
    // keys and the note are paid for.
    let skeleton = ErrorObject {
        error_data: error_data.as_ref().map(|_| String::new()),
        error_message: Some(note.clone()),
        error_type: error_type.clone(),
        stack_trace: Vec::new(),
    };
    let mut left = budget.saturating_sub(error_cost(&skeleton));
    let data = error_data.as_deref().unwrap_or("");
    // The body is followed by a space before the note.
    let (body_need, data_need) = (escaped_len(body) + 1, escaped_len(data));
    let stack_need = stack_cost(&stack_trace);
    // The message comes first, then the data, then the stack trace; each gets at least
    // half of what is left when the others need more.
    let body_share = body_need.min((left / 2).max(left.saturating_sub(data_need + stack_need)));
    left -= body_share;
    let data_share = data_need.min((left / 2).max(left.saturating_sub(stack_need)));
    left -= data_share;
    let body = prefix_within(body, body_share.saturating_sub(1));
    let mut kept_lines = Vec::new();
    // `, "StackTrace": []`, then each line in quotes, `, ` between them.
    let mut stack_left = left.saturating_sub(STACK_KEY_COST);
    for line in stack_trace {
        let cost = escaped_len(&line) + 2 + 2 * usize::from(!kept_lines.is_empty());
        if cost > stack_left {
            break;
        }
        stack_left -= cost;
        kept_lines.push(line);
    }
    let truncated = ErrorObject {
        error_data: error_data.map(|data| prefix_within(&data, data_share).to_string()),
        error_message: Some(if body.is_empty() {
            note.clone()
        } else {
            format!("{body} {note}")
        }),
        error_type,
        stack_trace: kept_lines,
    };
    if error_cost(&truncated) <= budget {
        return truncated;
    }
    // Not reached with the budgets used here; a last resort that always fits.
    ErrorObject {
        error_data: None,
        error_message: Some(prefix_within(&note, budget.saturating_sub(20)).to_string()),
        error_type: None,
        stack_trace: Vec::new(),
    }
}

const NOTE_PREFIX: &str = "[truncated by lambda-durable: the error was ";

fn note(original: usize) -> String {
    format!(
        "{NOTE_PREFIX}{original} bytes of JSON; checkpointed errors are limited to {MAX_ERROR_BYTES} bytes]"
    )
}

/// Splits a message into its body and the original size named by a note that an earlier
/// truncation left at its end.
fn split_note(message: &str) -> (&str, Option<usize>) {
    let Some(start) = message.rfind(NOTE_PREFIX) else {
        return (message, None);
    };
    let rest = &message[start + NOTE_PREFIX.len()..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    match rest[..digits].parse::<usize>() {
        Ok(original) if message[start..] == note(original) => {
            (message[..start].trim_end_matches(' '), Some(original))
        }
        _ => (message, None),
    }
}

/// What a character takes inside a JSON string, the larger of serde_json's UTF-8 (two to
/// four bytes for non-ASCII) and Python's ASCII-only escapes (`\uXXXX`, two of them beyond
/// the Basic Multilingual Plane). The escapes of ASCII characters are the same in both.
fn escaped_char_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
        '\u{0}'..='\u{1f}' => 6,
        '\u{20}'..='\u{7e}' => 1,
        // Python escapes DEL too.
        '\u{7f}'..='\u{ffff}' => 6,
        _ => 12,
    }
}

/// `, "StackTrace": []` in Python's spacing.
const STACK_KEY_COST: usize = 18;

/// The size of an ErrorObject as JSON, the larger of the two ways the local runners
/// measure it: compact UTF-8 (`serde_json`, JS) and Python's `json.dumps` defaults (ASCII
/// only, `", "` and `": "` separators). Never smaller than [`json_size`].
fn error_cost(error: &ErrorObject) -> usize {
    let string = |text: &str| escaped_len(text) + 2;
    let fields = [
        ("ErrorData", error.error_data.as_deref().map(string)),
        ("ErrorMessage", error.error_message.as_deref().map(string)),
        ("ErrorType", error.error_type.as_deref().map(string)),
    ];
    let mut count = 0usize;
    // The braces.
    let mut cost = 2;
    for (key, value) in fields {
        if let Some(value) = value {
            // `"key": value`
            cost += key.len() + 4 + value;
            count += 1;
        }
    }
    if !error.stack_trace.is_empty() {
        // `"StackTrace": [...]`
        cost += "StackTrace".len() + 6 + stack_lines_cost(&error.stack_trace);
        count += 1;
    }
    // `, ` between the fields.
    cost + 2 * count.saturating_sub(1)
}

/// The lines of a stack trace in quotes, separated by `, `.
fn stack_lines_cost(lines: &[String]) -> usize {
    let quoted: usize = lines.iter().map(|line| escaped_len(line) + 2).sum();
    quoted + 2 * lines.len().saturating_sub(1)
}

/// The length of `text` inside a JSON string (without the quotes).
fn escaped_len(text: &str) -> usize {
    text.chars().map(escaped_char_len).sum()
}

/// The longest prefix of `text`, cut at a character boundary, that takes at most `budget`
/// bytes inside a JSON string.
fn prefix_within(text: &str, budget: usize) -> &str {
    let mut used = 0;
    for (index, c) in text.char_indices() {
        used += escaped_char_len(c);
        if used > budget {
            return &text[..index];
        }
    }
    text
}

/// What a whole stack trace adds to an error: its key and its lines.
fn stack_cost(lines: &[String]) -> usize {
    if lines.is_empty() {
        0
    } else {
        STACK_KEY_COST + stack_lines_cost(lines)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::wire::{OperationAction, OperationType, OperationUpdate, StepOptions};

    /// The size of a request from its updates' sizes is the size of its JSON.
    #[test]
    fn request_sizes_add_up_from_their_updates() {
        let mut request = CheckpointDurableExecutionRequest {
            checkpoint_token: crate::wire::CheckpointToken::try_from("dG9rZW4=").unwrap(),
            client_token: Some(crate::wire::ClientToken::try_from("abc-7").unwrap()),
            updates: Vec::new(),
        };
        let mut sizes = Vec::new();
        for n in 0..4 {
            assert_eq!(
                request_size(&request, &sizes),
                serde_json::to_vec(&request).unwrap().len()
            );
            let mut update = OperationUpdate {
                action: OperationAction::Succeed,
                callback_options: None,
                chained_invoke_options: None,
                context_options: None,
                error: None,
                id: crate::wire::OperationId::try_from(format!("op-{n}").as_str()).unwrap(),
                name: None,
                parent_id: None,
                payload: Some(format!("\"quoted {n}\" \\ é\n")),
                step_options: None,
                sub_type: None,
                type_: OperationType::Step,
                wait_options: None,
            };
            if n == 2 {
                update.step_options = Some(StepOptions {
                    next_attempt_delay_seconds: std::num::NonZeroU64::new(3),
                });
            }
            sizes.push(json_size(&update));
            request.updates.push(update);
        }
        assert_eq!(
            request_size(&request, &sizes),
            serde_json::to_vec(&request).unwrap().len()
        );
    }

    /// The cheap bound is never below the exact size, whatever the update holds: every
    /// field set, text that escapes to six bytes a character, long names and ids.
    #[test]
    fn update_size_bounds_are_never_below_the_exact_size() {
        use crate::wire::{
            CallbackOptions, ChainedInvokeOptions, ContextOptions, OperationName, OperationSubType,
            WaitOptions,
        };
        let texts = [
            String::new(),
            "plain".to_string(),
            "\u{1}".repeat(300),
            "\"\\\n\té😀".repeat(50),
            "x".repeat(5000),
        ];
        let name = OperationName::try_from("n".repeat(256).as_str()).unwrap();
        let controls: String = (0u8..32).map(char::from).collect();
        for (i, text) in texts.iter().enumerate() {
            for full in [false, true] {
                let mut update = OperationUpdate {
                    action: OperationAction::Retry,
                    callback_options: None,
                    chained_invoke_options: None,
                    context_options: None,
                    error: None,
                    id: crate::wire::OperationId::try_from("f".repeat(64).as_str()).unwrap(),
                    name: None,
                    parent_id: None,
                    payload: Some(text.clone()),
                    step_options: None,
                    sub_type: None,
                    type_: OperationType::ChainedInvoke,
                    wait_options: None,
                };
                if full {
                    update.name = Some(name.clone());
                    update.parent_id = Some(update.id.clone());
                    update.sub_type =
                        Some(OperationSubType::try_from("x".repeat(32).as_str()).unwrap());
                    update.error = Some(error(
                        Some(text),
                        Some(&controls),
                        &[text.as_str(), controls.as_str(), "at main.rs:1"],
                    ));
                    update.step_options = Some(StepOptions {
                        next_attempt_delay_seconds: std::num::NonZeroU64::new(u64::MAX),
                    });
                    update.callback_options = Some(CallbackOptions {
                        heartbeat_timeout_seconds: Some(i64::MIN),
                        timeout_seconds: Some(i64::MAX),
                    });
                    update.chained_invoke_options = Some(ChainedInvokeOptions {
                        function_name: controls.repeat(8),
                        tenant_id: Some(controls.clone()),
                        x_amzn_trace_id: Some(text.clone()),
                    });
                    update.context_options = Some(ContextOptions {
                        replay_children: Some(true),
                    });
                    update.wait_options = Some(WaitOptions {
                        wait_seconds: std::num::NonZeroU64::new(u64::MAX),
                    });
                }
                let exact = json_size(&update);
                let bound = update_size_bound(&update);
                assert!(
                    bound >= exact,
                    "text {i}, full {full}: bound {bound} < exact {exact}"
                );
            }
        }
    }

    fn error(message: Option<&str>, data: Option<&str>, stack: &[&str]) -> ErrorObject {
        ErrorObject {
            error_data: data.map(str::to_string),
            error_message: message.map(str::to_string),
            error_type: Some("PaymentError".to_string()),
            stack_trace: stack.iter().map(|line| line.to_string()).collect(),
        }
    }

    /// Python's `json.dumps` with its defaults: ASCII only, `", "` and `": "`.
    struct PythonFormatter;

    impl serde_json::ser::Formatter for PythonFormatter {
        fn begin_array_value<W: ?Sized + std::io::Write>(
            &mut self,
            writer: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            writer.write_all(if first { b"" } else { b", " })
        }

        fn begin_object_key<W: ?Sized + std::io::Write>(
            &mut self,
            writer: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            writer.write_all(if first { b"" } else { b", " })
        }

        fn begin_object_value<W: ?Sized + std::io::Write>(
            &mut self,
            writer: &mut W,
        ) -> std::io::Result<()> {
            writer.write_all(b": ")
        }

        fn write_string_fragment<W: ?Sized + std::io::Write>(
            &mut self,
            writer: &mut W,
            fragment: &str,
        ) -> std::io::Result<()> {
            let mut units = [0u16; 2];
            for c in fragment.chars() {
                if c.is_ascii() && c != '\u{7f}' {
                    write!(writer, "{c}")?;
                } else {
                    for unit in c.encode_utf16(&mut units) {
                        write!(writer, "\\u{unit:04x}")?;
                    }
                }
            }
            Ok(())
        }
    }

    fn python_dumps_len<T: Serialize>(value: &T) -> usize {
        let mut out = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
        value.serialize(&mut serializer).unwrap();
        out.len()
    }

    /// Checks everything a truncated error must be.
    fn assert_valid(truncated: &ErrorObject) {
        let json = serde_json::to_string(truncated).unwrap();
        assert!(
            json.len() <= ERROR_BUDGET_BYTES,
            "{} bytes over the budget",
            json.len()
        );
        let python = python_dumps_len(truncated);
        assert!(python <= ERROR_BUDGET_BYTES, "{python} bytes in Python");
        let back: ErrorObject = serde_json::from_str(&json).unwrap();
        assert_eq!(&back, truncated);
        let message = truncated.error_message.as_deref().unwrap();
        assert!(message.contains("truncated"), "{message}");
        assert_eq!(truncate_error(truncated.clone()), *truncated, "stable");
    }

    /// Characters JSON escapes, one- to four-byte UTF-8, and plain ASCII.
    fn nasty(len: usize, seed: u64) -> String {
        let mut rng = fastrand::Rng::with_seed(seed);
        let alphabet = [
            '"', '\\', '\n', '\u{1}', '\u{1f}', 'é', '€', '😀', 'a', ' ', '\u{7f}',
        ];
        (0..len)
            .map(|_| alphabet[rng.usize(..alphabet.len())])
            .collect()
    }

    #[test]
    fn escaped_lengths_are_the_larger_of_serde_json_and_python() {
        for c in (0u32..0x2000)
            .filter_map(char::from_u32)
            .chain(['😀', '\u{10ffff}'])
        {
            let text = c.to_string();
            let json = json_size(&text) - 2;
            let python = python_dumps_len(&text) - 2;
            assert_eq!(escaped_char_len(c), json.max(python), "{c:?}");
        }
    }

    #[test]
    fn error_cost_is_the_larger_measure_exactly() {
        for seed in 0..20u64 {
            let stack: Vec<String> = (0..seed).map(|i| nasty(i as usize * 7, i)).collect();
            let stack: Vec<&str> = stack.iter().map(String::as_str).collect();
            let message = nasty(seed as usize * 31, seed);
            let data = (seed % 2 == 0).then(|| nasty(seed as usize * 13, seed + 1));
            let mut error = error(Some(&message), data.as_deref(), &stack);
            if seed % 3 == 0 {
                error.error_type = None;
            }
            let cost = error_cost(&error);
            assert!(cost >= json_size(&error));
            assert_eq!(cost, python_dumps_len(&error), "{error:?}");
        }
        assert_eq!(error_cost(&ErrorObject::default()), 2);
    }

    #[test]
    fn non_ascii_errors_fit_the_python_measure_too() {
        // 3 bytes in UTF-8, 6 in Python: 7,000 of them fit one measure only.
        let text = "日".repeat(7_000);
        let truncated = truncate_error(error(Some(&text), None, &[]));
        assert_valid(&truncated);
        assert!(truncated
            .error_message
            .as_deref()
            .unwrap()
            .starts_with("日日"));
    }

    #[test]
    fn small_errors_are_unchanged() {
        let small = error(Some("card declined"), Some("{\"code\":7}"), &["at charge"]);
        assert_eq!(truncate_error(small.clone()), small);
        let empty = ErrorObject {
            error_data: None,
            error_message: None,
            error_type: None,
            stack_trace: Vec::new(),
        };
        assert_eq!(truncate_error(empty.clone()), empty);
    }

    #[test]
    fn a_long_message_is_cut_and_says_so() {
        let long = "x".repeat(100_000);
        let original = error(Some(&long), None, &[]);
        let size = serde_json::to_string(&original).unwrap().len();
        let truncated = truncate_error(original);
        assert_valid(&truncated);
        let message = truncated.error_message.as_deref().unwrap();
        assert!(message.starts_with("xxxx"));
        assert!(
            message.contains(&format!("was {size} bytes of JSON")),
            "{message}"
        );
        assert!(message.ends_with("limited to 32768 bytes]"), "{message}");
        assert_eq!(truncated.error_type.as_deref(), Some("PaymentError"));
        // Most of the budget went to the message.
        assert!(
            message.len() > ERROR_BUDGET_BYTES - 200,
            "{}",
            message.len()
        );
    }

    #[test]
    fn escaping_characters_are_counted_as_json_writes_them() {
        for seed in 0..40 {
            let rng_len = 5_000 + (seed as usize * 1_733) % 60_000;
            let message = nasty(rng_len, seed);
            let data = nasty(rng_len / 2, seed + 100);
            let stack: Vec<String> = (0..50).map(|i| nasty(200 + i, seed + i as u64)).collect();
            let stack: Vec<&str> = stack.iter().map(String::as_str).collect();
            let original = error(Some(&message), Some(&data), &stack);
            let truncated = truncate_error(original.clone());
            assert_valid(&truncated);
            // What is kept is a prefix of what was there.
            let kept = truncated.error_message.as_deref().unwrap();
            let body = kept.split(NOTE_PREFIX).next().unwrap().trim_end();
            assert!(message.starts_with(body));
            assert!(data.starts_with(truncated.error_data.as_deref().unwrap()));
            assert_eq!(
                truncated.stack_trace[..],
                original.stack_trace[..truncated.stack_trace.len()]
            );
        }
    }

    #[test]
    fn data_and_stack_are_cut_when_the_message_is_short() {
        let data = "\"".repeat(50_000);
        let stack: Vec<String> = (0..2_000).map(|i| format!("frame {i}")).collect();
        let stack: Vec<&str> = stack.iter().map(String::as_str).collect();
        let truncated = truncate_error(error(Some("boom"), Some(&data), &stack));
        assert_valid(&truncated);
        let message = truncated.error_message.as_deref().unwrap();
        assert!(message.starts_with("boom ["), "{message}");
        assert!(!truncated.error_data.as_deref().unwrap().is_empty());
        assert!(!truncated.stack_trace.is_empty());
        assert!(truncated.stack_trace.len() < 2_000);
        // Without a message, the note becomes the message.
        let truncated = truncate_error(error(None, Some(&data), &[]));
        assert_valid(&truncated);
        assert!(truncated
            .error_message
            .as_deref()
            .unwrap()
            .starts_with(NOTE_PREFIX));
    }

    #[test]
    fn a_huge_type_is_cut() {
        let mut huge = error(Some("m"), None, &[]);
        huge.error_type = Some("T".repeat(1_000_000));
        let truncated = truncate_error(huge);
        assert_valid(&truncated);
        assert_eq!(
            truncated.error_type.as_deref().map(str::len),
            Some(MAX_ERROR_TYPE_BYTES)
        );
    }

    #[test]
    fn truncating_again_keeps_one_note_with_the_original_size() {
        let original = error(Some(&"ab".repeat(40_000)), None, &[]);
        let size = serde_json::to_string(&original).unwrap().len();
        let first = truncate_error(original);
        assert_valid(&first);
        // Wrapped under a longer type it no longer fits; cut again.
        let mut wrapped = first.clone();
        wrapped.error_type = Some("W".repeat(200));
        let second = truncate_error(wrapped);
        assert_valid(&second);
        let message = second.error_message.as_deref().unwrap();
        assert_eq!(message.matches(NOTE_PREFIX).count(), 1, "{message}");
        assert!(
            message.contains(&format!("was {size} bytes of JSON")),
            "{message}"
        );
    }

    #[test]
    fn a_forged_note_is_just_text() {
        let forged = format!("{}{NOTE_PREFIX}12 bytes", "z".repeat(40_000));
        let truncated = truncate_error(error(Some(&forged), None, &[]));
        assert_valid(&truncated);
        assert!(!truncated
            .error_message
            .as_deref()
            .unwrap()
            .contains("12 bytes"));
    }

    #[test]
    fn the_allowance_covers_the_largest_update_without_payload_and_error() {
        // An update that carries an error is a STEP RETRY or FAIL or a CONTEXT FAIL: no
        // payload and no invoke, wait or callback options.
        let update = OperationUpdate {
            action: OperationAction::Retry,
            callback_options: None,
            chained_invoke_options: None,
            context_options: None,
            error: Some(ErrorObject::default()),
            id: "i".repeat(64).as_str().try_into().unwrap(),
            name: Some("\"".repeat(256).as_str().try_into().unwrap()),
            parent_id: Some("p".repeat(64).as_str().try_into().unwrap()),
            payload: None,
            step_options: Some(StepOptions {
                next_attempt_delay_seconds: std::num::NonZeroU64::new(MAX_DELAY_SECONDS),
            }),
            sub_type: Some("s".repeat(32).as_str().try_into().unwrap()),
            type_: OperationType::Step,
            wait_options: None,
        };
        let size = json_size(&update);
        assert!(size <= UPDATE_ALLOWANCE_BYTES, "{size}");
        assert!(
            size > UPDATE_ALLOWANCE_BYTES / 2,
            "the test builds a large update: {size}"
        );
    }

    #[test]
    fn payloads_are_checked_against_the_operation_limit() {
        let op = || OperationRef::new("step", "abc", Some("big"));
        assert!(check_payload(op, "result", MAX_OPERATION_PAYLOAD_BYTES).is_ok());
        let err = check_payload(op, "result", MAX_OPERATION_PAYLOAD_BYTES + 1).unwrap_err();
        assert!(matches!(
            err,
            Error::PayloadTooLarge {
                size: 1_048_577,
                limit: 1_048_576,
                what: "result",
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            "step \"big\" (id abc): the result is 1048577 bytes; the service accepts at most 1048576 bytes"
        );
        assert_eq!(err.error_type(), "PayloadTooLargeError");
    }
}
