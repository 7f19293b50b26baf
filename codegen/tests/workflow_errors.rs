//! Bad declarations: every kind of mistake is a `CodegenError` naming the file, the JSON
//! pointer of the offending value and the problem, and nothing panics.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use lambda_durable_codegen::workflow::{generate, WorkflowOptions};
use lambda_durable_codegen::CodegenError;
use serde_json::{json, Value};

const FILE: &str = "workflows/order.json";

/// A valid declaration with `operations` replaced.
fn with_operations(operations: Value) -> Value {
    json!({
        "name": "order",
        "input": {"type": "null"},
        "output": {"type": "null"},
        "operations": operations,
    })
}

fn error_of(declaration: &Value) -> CodegenError {
    generate(
        Path::new(FILE),
        &declaration.to_string(),
        &WorkflowOptions::default(),
    )
    .unwrap_err()
}

/// Asserts the error is a schema error at `pointer` whose message contains `fragment`,
/// and that its text names the file and the pointer.
#[track_caller]
fn assert_error(declaration: Value, pointer: &str, fragment: &str) {
    let err = error_of(&declaration);
    match &err {
        CodegenError::Schema {
            path,
            pointer: found,
            message,
        } => {
            assert_eq!(path, Path::new(FILE), "{err}");
            assert_eq!(found, pointer, "{err}");
            assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
        }
        other => panic!("expected a schema error, got {other:?}"),
    }
    let text = err.to_string();
    let expected_prefix = if pointer.is_empty() {
        format!("{FILE}: ")
    } else {
        format!("{FILE} at {pointer}: ")
    };
    assert!(text.starts_with(&expected_prefix), "{text}");
}

#[test]
fn a_valid_declaration_generates() {
    let declaration = with_operations(json!([{"kind": "step", "name": "ok"}]));
    generate(
        Path::new(FILE),
        &declaration.to_string(),
        &WorkflowOptions::default(),
    )
    .unwrap();
}

#[test]
fn invalid_json_names_the_file_and_line() {
    let err = generate(
        Path::new(FILE),
        "{\n  \"name\": ,\n}",
        &WorkflowOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, CodegenError::Json { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{FILE}: invalid JSON: ")),
        "{text}"
    );
    assert!(text.contains("line 2"), "{text}");
}

#[test]
fn a_missing_required_field_is_reported_at_its_parent() {
    assert_error(
        json!({"name": "x", "input": true, "output": true}),
        "",
        "missing field `operations`",
    );
    assert_error(
        with_operations(json!([{"kind": "invoke"}])),
        "/operations/0",
        "missing field `name`",
    );
}

#[test]
fn an_unknown_kind_is_reported_at_kind() {
    assert_error(
        with_operations(json!([{"kind": "stepp", "name": "a"}])),
        "/operations/0/kind",
        "unknown variant `stepp`, expected one of `step`, `wait`, `callback`, `invoke`, `child-context`, `map`, `parallel`, `wait-for-condition`",
    );
    assert_error(
        with_operations(json!([{"name": "a"}])),
        "/operations/0",
        "missing field `kind`",
    );
}

#[test]
fn an_unknown_field_is_reported() {
    assert_error(
        with_operations(json!([{"kind": "step", "name": "a", "retries": 3}])),
        "/operations/0/retries",
        "unknown field `retries`",
    );
    assert_error(
        json!({"name": "x", "input": true, "output": true, "operations": [], "version": 2}),
        "/version",
        "unknown field `version`",
    );
}

#[test]
fn a_value_of_the_wrong_type_is_reported_at_the_value() {
    assert_error(
        with_operations(json!([{"kind": "wait", "name": "a", "duration": {"hours": "two"}}])),
        "/operations/0/duration/hours",
        "invalid type: string \"two\", expected u64",
    );
    assert_error(
        with_operations(json!([{"kind": "step", "name": "a", "semantics": "exactly-once"}])),
        "/operations/0/semantics",
        "unknown variant `exactly-once`",
    );
}

#[test]
fn a_bad_retry_policy_is_reported_inside_the_policy() {
    assert_error(
        with_operations(
            json!([{"kind": "step", "name": "a", "retry": {"strategy": "exponential", "maxAttempts": "3"}}]),
        ),
        "/operations/0/retry/maxAttempts",
        "invalid type: string \"3\", expected u32",
    );
    assert_error(
        with_operations(json!([{"kind": "step", "name": "a", "retry": {"strategy": "sometimes"}}])),
        "/operations/0/retry/strategy",
        "unknown variant `sometimes`",
    );
    assert_error(
        with_operations(
            json!([{"kind": "step", "name": "a", "retry": {"strategy": "transient", "maxAttempts": 3}}]),
        ),
        "/operations/0/retry/maxAttempts",
        "unknown field `maxAttempts`",
    );
    assert_error(
        with_operations(
            json!([{"kind": "callback", "name": "a", "submitter": {"retry": {"strategy": "fixed"}}}]),
        ),
        "/operations/0/submitter/retry",
        "missing field `interval`",
    );
    assert_error(
        with_operations(
            json!([{"kind": "step", "name": "a", "retry": {"strategy": "exponential", "maxAttempts": 0}}]),
        ),
        "/operations/0/retry/maxAttempts",
        "maxAttempts must be at least 1",
    );
}

#[test]
fn an_invalid_retry_filter_pattern_is_reported() {
    assert_error(
        with_operations(
            json!([{"kind": "step", "name": "a", "retry": {"strategy": "default", "retryIf": {"messageMatches": ["ok", "(unclosed"]}}}]),
        ),
        "/operations/0/retry/retryIf/messageMatches/1",
        "invalid regular expression \"(unclosed\"",
    );
}

#[test]
fn duplicate_operation_names_are_rejected() {
    assert_error(
        with_operations(json!([
            {"kind": "step", "name": "charge"},
            {"kind": "wait", "name": "charge", "duration": {"seconds": 5}},
        ])),
        "/operations/1/name",
        "duplicate operation name \"charge\" (first declared at /operations/0)",
    );
}

#[test]
fn names_the_service_would_reject_are_rejected() {
    let long = "a".repeat(257);
    for (name, fragment) in [
        ("", "operation name is empty"),
        (long.as_str(), "257 characters long"),
        ("caf\u{e9}", "only printable ASCII"),
        ("tab\there", "only printable ASCII"),
    ] {
        assert_error(
            with_operations(json!([{"kind": "step", "name": name}])),
            "/operations/0/name",
            fragment,
        );
    }
}

#[test]
fn names_that_collide_as_rust_identifiers_are_rejected() {
    assert_error(
        with_operations(json!([
            {"kind": "step", "name": "charge card"},
            {"kind": "step", "name": "Charge-Card"},
        ])),
        "/operations/1/name",
        "makes the Rust method `charge_card`, like operation \"charge card\" at /operations/0",
    );
    assert_error(
        with_operations(json!([{"kind": "step", "name": "!!!"}])),
        "/operations/0/name",
        "has no letters or digits",
    );
    assert_error(
        with_operations(json!([{"kind": "parallel", "name": "p", "branches": ["a b", "A-B"]}])),
        "/operations/0/branches/1",
        "makes the Rust parameter `a_b`",
    );
    assert_error(
        with_operations(json!([{"kind": "parallel", "name": "p", "branches": ["x", "x"]}])),
        "/operations/0/branches/1",
        "duplicate branch name \"x\"",
    );
}

#[test]
fn types_whose_names_collide_are_rejected() {
    let declaration = json!({
        "name": "x",
        "input": {"type": "null"},
        "output": {"type": "null"},
        "definitions": {"PriceOutput": {"type": "object", "properties": {"a": {"type": "string"}}}},
        "operations": [{"kind": "step", "name": "price", "output": {"type": "object", "properties": {"b": {"type": "integer"}}}}],
    });
    assert_error(
        declaration,
        "/operations/0/output",
        "the type made from this schema is named `PriceOutput`, like the type of /definitions/PriceOutput",
    );
    // Two operations whose inline schemas take the same title.
    assert_error(
        with_operations(json!([
            {"kind": "step", "name": "a", "output": {"title": "Money", "type": "object", "properties": {"cents": {"type": "integer"}}}},
            {"kind": "step", "name": "b", "output": {"title": "Money", "type": "object", "properties": {"euros": {"type": "number"}}}},
        ])),
        "/operations/1/output",
        "named `Money`, like the type of /operations/0/output",
    );
}

#[test]
fn type_names_taken_by_the_generated_code_are_rejected() {
    for name in ["Workflow", "E", "Fut0"] {
        let declaration = json!({
            "name": "x",
            "input": {"$ref": format!("#/definitions/{name}")},
            "output": {"type": "null"},
            "definitions": {name: {"type": "object", "properties": {"a": {"type": "string"}}}},
            "operations": [],
        });
        assert_error(
            declaration,
            &format!("/definitions/{name}"),
            &format!("the type name `{name}` is taken by the generated code"),
        );
    }
    // A definition named `Output` while the output is another type.
    let declaration = json!({
        "name": "x",
        "input": {"type": "null"},
        "output": {"type": "string"},
        "definitions": {"Output": {"type": "object", "properties": {"a": {"type": "string"}}}},
        "operations": [],
    });
    assert_error(
        declaration,
        "/definitions/Output",
        "the type name `Output` is taken",
    );
}

#[test]
fn unknown_refs_are_rejected() {
    assert_error(
        with_operations(
            json!([{"kind": "step", "name": "a", "output": {"type": "array", "items": {"$ref": "#/definitions/Missing"}}}]),
        ),
        "/operations/0/output/items/$ref",
        "reference to unknown definition \"Missing\"",
    );
    assert_error(
        json!({"name": "x", "input": {"$ref": "other.json#/Order"}, "output": true, "operations": []}),
        "/input/$ref",
        "a reference into another declaration must point at its \"#/input\", \"#/output\" or \"#/definitions/<Name>\", not \"#/Order\"",
    );
    assert_error(
        json!({"name": "x", "input": {"$ref": "#/properties/a"}, "output": true, "operations": []}),
        "/input/$ref",
        "must point into this file's definitions, like \"#/definitions/Order\", or into another declaration, like \"payments.json#/output\"",
    );
    assert_error(
        json!({"name": "x", "input": {"$ref": "https://example.com/order.json#/input"}, "output": true, "operations": []}),
        "/input/$ref",
        "\"https://example.com/order.json\" is not a path relative to this file",
    );
    assert_error(
        json!({"name": "x", "input": {"$ref": "/abs/order.json#/input"}, "output": true, "operations": []}),
        "/input/$ref",
        "is not a path relative to this file",
    );
}

#[test]
fn invalid_schemas_are_rejected() {
    assert_error(
        json!({"name": "x", "input": {"type": 5}, "output": true, "operations": []}),
        "/input/type",
        "`type` must be a type name or a non-empty array of them, got a number",
    );
    assert_error(
        json!({"name": "x", "input": {"type": "string", "pattern": "[a-"}, "output": true, "operations": []}),
        "/input/pattern",
        "invalid regular expression",
    );
    assert_error(
        json!({"name": "x", "input": true, "output": true, "definitions": {"--": {"type": "string"}}, "operations": []}),
        "/definitions/--",
        "no letters or digits",
    );
}

#[test]
fn out_of_range_values_are_rejected() {
    assert_error(
        with_operations(json!([{"kind": "wait", "name": "w", "duration": {"seconds": 0}}])),
        "/operations/0/duration",
        "duration must be 1 to 31622400 seconds, got 0",
    );
    assert_error(
        with_operations(json!([{"kind": "wait", "name": "w", "duration": {"days": 367}}])),
        "/operations/0/duration",
        "got 31708800",
    );
    assert_error(
        with_operations(
            json!([{"kind": "callback", "name": "c", "heartbeatTimeout": {"seconds": 0}}]),
        ),
        "/operations/0/heartbeatTimeout",
        "duration must be 1 to",
    );
    assert_error(
        with_operations(json!([{"kind": "map", "name": "m", "input": true, "maxConcurrency": 0}])),
        "/operations/0/maxConcurrency",
        "at least 1",
    );
    assert_error(
        with_operations(
            json!([{"kind": "map", "name": "m", "input": true, "completion": {"toleratedFailurePercentage": 150}}]),
        ),
        "/operations/0/completion/toleratedFailurePercentage",
        "0 to 100",
    );
    assert_error(
        with_operations(json!([{"kind": "invoke", "name": "i", "function": ""}])),
        "/operations/0/function",
        "1 to 256 characters",
    );
    assert_error(
        with_operations(
            json!([{"kind": "wait-for-condition", "name": "c", "state": true, "polling": {"backoffRate": -1}}]),
        ),
        "/operations/0/polling/backoffRate",
        "non-negative",
    );
}

#[test]
fn the_workflow_name_must_not_be_empty() {
    assert_error(
        json!({"name": " ", "input": true, "output": true, "operations": []}),
        "/name",
        "the workflow name is empty",
    );
}

#[test]
fn build_outside_a_build_script_says_so() {
    // Tests do not run under cargo's build-script environment.
    if std::env::var_os("OUT_DIR").is_none() {
        let err = lambda_durable_codegen::workflow::build("workflows").unwrap_err();
        assert!(
            matches!(err, CodegenError::MissingEnv("OUT_DIR")),
            "{err:?}"
        );
    }
}

#[test]
fn a_folder_without_declarations_is_an_error() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("empty-workflows-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let err = lambda_durable_codegen::workflow::declaration_files(&dir).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        err.to_string().contains("no *.json workflow declarations"),
        "{err}"
    );
}

#[test]
fn a_step_error_must_be_a_type_of_its_own() {
    for schema in [
        json!({"type": "string"}),
        json!({"type": "integer"}),
        json!({"type": "array", "items": {"type": "string"}}),
    ] {
        assert_error(
            with_operations(json!([{"kind": "step", "name": "charge", "error": schema}])),
            "/operations/0/error",
            "must be an object or an enum",
        );
    }
    // A timeout is a duration like the others.
    let declaration = with_operations(json!([
        {"kind": "step", "name": "charge", "timeout": {"seconds": 5},
         "error": {"type": "object", "properties": {"code": {"type": "integer"}}}}
    ]));
    generate(
        Path::new(FILE),
        &declaration.to_string(),
        &WorkflowOptions::default(),
    )
    .unwrap();
}

#[test]
fn the_debug_form_is_the_readable_one() {
    // A build script that returns the error with `?` prints it with `Debug`.
    let err = error_of(&with_operations(
        json!([{"kind": "wait", "name": "w", "duration": {"seconds": 0}}]),
    ));
    let boxed: Box<dyn std::error::Error> = Box::new(err);
    assert_eq!(format!("{boxed:?}"), boxed.to_string());
    assert_eq!(
        format!("{boxed:?}"),
        "workflows/order.json at /operations/0/duration: duration must be 1 to 31622400 seconds, got 0"
    );
}

#[test]
fn schema_constructs_the_generator_cannot_handle_are_named() {
    assert_error(
        json!({"name": "x", "output": true, "operations": [], "input": {
            "type": "object",
            "properties": {"kind": {"type": "string"}},
            "if": {"properties": {"kind": {"const": "a"}}},
            "then": {"required": ["a"]}
        }}),
        "/input/if",
        "the generator cannot handle this schema: conditional schemas (`if`/`then`/`else`) are not supported",
    );
    for (keyword, fragment) in [
        ("not", "`not` is not supported"),
        ("patternProperties", "`patternProperties` is not supported"),
        ("dependencies", "`dependencies` is not supported"),
        ("$defs", "`$defs` is not supported"),
        ("definitions", "nested `definitions` are not supported"),
    ] {
        assert_error(
            json!({"name": "x", "input": true, "output": true, "operations": [],
                   "definitions": {"A": {"type": "object", keyword: {}}}}),
            &format!("/definitions/A/{}", keyword.replace('~', "~0")),
            fragment,
        );
    }
    assert_error(
        with_operations(json!([{"kind": "step", "name": "s",
            "output": {"type": "array", "items": {"type": "string", "contains": {}}}}])),
        "/operations/0/output/items/contains",
        "`contains` is not supported",
    );
}

#[test]
fn an_unknown_keyword_is_named_with_the_supported_ones() {
    assert_error(
        json!({"name": "x", "output": true, "operations": [],
               "input": {"type": "integer", "minimun": 1}}),
        "/input/minimun",
        "unknown JSON Schema keyword `minimun` (supported: `$ref`",
    );
    // Extensions are allowed.
    let declaration = json!({"name": "x", "output": true, "operations": [],
                             "input": {"type": "integer", "x-unit": "cents"}});
    generate(
        Path::new(FILE),
        &declaration.to_string(),
        &WorkflowOptions::default(),
    )
    .unwrap();
}

#[test]
fn a_typo_in_a_keyword_value_lists_the_valid_values() {
    assert_error(
        json!({"name": "x", "output": true, "operations": [],
               "input": {"type": "object", "properties": {"n": {"type": "integr"}}}}),
        "/input/properties/n/type",
        "unknown type \"integr\"; the types are \"array\", \"boolean\", \"integer\", \"null\", \"number\", \"object\", \"string\"",
    );
    assert_error(
        json!({"name": "x", "output": true, "operations": [],
               "input": {"type": ["string", "nul"]}}),
        "/input/type/1",
        "unknown type \"nul\"",
    );
    assert_error(
        json!({"name": "x", "output": true, "operations": [],
               "input": {"type": "array", "minItems": "2"}}),
        "/input/minItems",
        "`minItems` must be a non-negative integer, got a string",
    );
    assert_error(
        json!({"name": "x", "output": true, "operations": [],
               "input": {"type": "integer", "exclusiveMinimum": true}}),
        "/input/exclusiveMinimum",
        "must be a number (the bound itself",
    );
    assert_error(
        json!({"name": "x", "output": true, "operations": [],
               "input": {"type": "object", "required": ["a", "a"]}}),
        "/input/required/1",
        "lists \"a\" twice",
    );
    // Keyword values of the declaration itself list theirs too.
    assert_error(
        with_operations(json!([{"kind": "step", "name": "a",
            "retry": {"strategy": "exponential", "jitter": "ful"}}])),
        "/operations/0/retry/jitter",
        "unknown variant `ful`, expected one of `none`, `full`, `half`",
    );
}

#[test]
fn bounds_no_value_can_meet_are_rejected() {
    assert_error(
        json!({"name": "x", "output": true, "operations": [],
               "input": {"type": "integer", "minimum": 10, "maximum": 1}}),
        "/input/maximum",
        "`maximum` 1 is below `minimum` 10: no value can match",
    );
    assert_error(
        json!({"name": "x", "output": true, "operations": [],
               "input": {"type": "string", "minLength": 3, "maxLength": 2}}),
        "/input/maxLength",
        "no value can match",
    );
    assert_error(
        json!({"name": "x", "output": true, "operations": [],
               "input": {"type": "number", "exclusiveMinimum": 1, "exclusiveMaximum": 1}}),
        "/input/exclusiveMaximum",
        "no value can match",
    );
}

#[test]
fn zero_delays_are_rejected_with_a_reason() {
    for (retry, field) in [
        (
            json!({"strategy": "exponential", "initialDelay": {"seconds": 0}}),
            "initialDelay",
        ),
        (
            json!({"strategy": "exponential", "maxDelay": {}}),
            "maxDelay",
        ),
        (
            json!({"strategy": "linear", "initialDelay": {"minutes": 0}}),
            "initialDelay",
        ),
        (
            json!({"strategy": "fixed", "interval": {"seconds": 0}}),
            "interval",
        ),
    ] {
        assert_error(
            with_operations(json!([{"kind": "step", "name": "a", "retry": retry}])),
            &format!("/operations/0/retry/{field}"),
            &format!(
                "a {field} of 0 seconds cannot be honoured: the service waits at least 1 second"
            ),
        );
    }
    assert_error(
        with_operations(
            json!([{"kind": "wait-for-condition", "name": "c", "state": true,
            "polling": {"initialDelay": {"seconds": 0}}}]),
        ),
        "/operations/0/polling/initialDelay",
        "cannot be honoured",
    );
    assert_error(
        with_operations(json!([{"kind": "step", "name": "a", "timeout": {"seconds": 0}}])),
        "/operations/0/timeout",
        "duration must be 1 to",
    );
    assert_error(
        with_operations(json!([{"kind": "step", "name": "a",
            "retry": {"strategy": "exponential", "backoffRate": 0}}])),
        "/operations/0/retry/backoffRate",
        "a backoffRate of 0 makes every delay after the first zero",
    );
    // A zero increment is a constant delay, which is fine.
    let declaration = with_operations(json!([{"kind": "step", "name": "a",
        "retry": {"strategy": "linear", "increment": {"seconds": 0}}}]));
    generate(
        Path::new(FILE),
        &declaration.to_string(),
        &WorkflowOptions::default(),
    )
    .unwrap();
}

#[test]
fn a_max_delay_below_the_initial_delay_is_rejected() {
    assert_error(
        with_operations(
            json!([{"kind": "step", "name": "a", "retry": {"strategy": "exponential",
            "initialDelay": {"minutes": 2}, "maxDelay": {"minutes": 1}}}]),
        ),
        "/operations/0/retry/maxDelay",
        "maxDelay (60 s) is below initialDelay (120 s): every delay would be 60 s",
    );
    // Against the runtime's default cap (300 s) when no maxDelay is declared.
    assert_error(
        with_operations(
            json!([{"kind": "step", "name": "a", "retry": {"strategy": "linear",
            "initialDelay": {"minutes": 10}}}]),
        ),
        "/operations/0/retry/initialDelay",
        "initialDelay (600 s) is above the default maxDelay (300 s)",
    );
    // Against the default initial delay (5 s) when only maxDelay is declared.
    assert_error(
        with_operations(
            json!([{"kind": "wait-for-condition", "name": "c", "state": true,
            "polling": {"maxDelay": {"seconds": 2}}}]),
        ),
        "/operations/0/polling/maxDelay",
        "maxDelay (2 s) is below initialDelay (5 s)",
    );
    assert_error(
        with_operations(
            json!([{"kind": "callback", "name": "c", "submitter": {"retry": {
            "strategy": "exponential", "initialDelay": {"seconds": 9}, "maxDelay": {"seconds": 8}}}}]),
        ),
        "/operations/0/submitter/retry/maxDelay",
        "is below initialDelay",
    );
}

#[test]
fn retry_filters_that_cannot_matter_are_rejected() {
    assert_error(
        with_operations(
            json!([{"kind": "step", "name": "a", "retry": {"strategy": "exponential",
            "maxAttempts": 1, "retryIf": {"messageContains": ["busy"]}}}]),
        ),
        "/operations/0/retry/retryIf",
        "retryIf has no effect: maxAttempts 1 never retries",
    );
    assert_error(
        with_operations(
            json!([{"kind": "step", "name": "a", "retry": {"strategy": "transient",
            "retryIf": {"errorTypes": ["StepInterruptedError"]}}}]),
        ),
        "/operations/0/retry/retryIf/errorTypes/0",
        "StepInterruptedError never happens here: only the attempts of an at-most-once step",
    );
    assert_error(
        with_operations(
            json!([{"kind": "callback", "name": "c", "submitter": {"retry": {
            "strategy": "default", "retryIf": {"errorTypes": ["lambda_durable::StepInterruptedError"]}}}}]),
        ),
        "/operations/0/submitter/retry/retryIf/errorTypes/0",
        "never happens here",
    );
    // On an at-most-once step an interrupted attempt is retried whatever retryIf says (the
    // runtime's documented default), so a filter that names only other failures is fine.
    let declaration = with_operations(json!([{"kind": "step", "name": "a",
        "semantics": "at-most-once-per-retry",
        "retry": {"strategy": "exponential", "retryIf": {"messageContains": ["timed out"], "errorTypes": ["StepInterruptedError"]}}}]));
    generate(
        Path::new(FILE),
        &declaration.to_string(),
        &WorkflowOptions::default(),
    )
    .unwrap();
}

#[test]
fn within_must_name_a_place_that_holds_operations() {
    let ops = |within: &str| {
        with_operations(json!([
            {"kind": "child-context", "name": "group"},
            {"kind": "parallel", "name": "both", "branches": ["left", "right"]},
            {"kind": "step", "name": "plain"},
            {"kind": "step", "name": "inner", "within": within}
        ]))
    };
    assert_error(
        ops("nowhere"),
        "/operations/3/within",
        "no child-context or map operation or parallel branch is named \"nowhere\"",
    );
    assert_error(
        ops("plain"),
        "/operations/3/within",
        "\"plain\" is a step; operations run within a child-context or map operation, or a parallel branch",
    );
    assert_error(
        ops("both"),
        "/operations/3/within",
        "\"both\" is a parallel; name one of its branches (\"left\", \"right\") instead",
    );
    for ok in ["group", "left"] {
        generate(
            Path::new(FILE),
            &ops(ok).to_string(),
            &WorkflowOptions::default(),
        )
        .unwrap();
    }
    assert_error(
        with_operations(json!([
            {"kind": "child-context", "name": "a", "within": "b"},
            {"kind": "child-context", "name": "b", "within": "a"}
        ])),
        "/operations/0/within",
        "the nesting is a cycle",
    );
    assert_error(
        with_operations(json!([{"kind": "child-context", "name": "a", "within": "a"}])),
        "/operations/0/within",
        "the nesting is a cycle",
    );
    assert_error(
        with_operations(json!([
            {"kind": "child-context", "name": "left"},
            {"kind": "parallel", "name": "both", "branches": ["left", "right"]},
            {"kind": "step", "name": "s", "within": "left"}
        ])),
        "/operations/2/within",
        "names more than one place",
    );
}

#[test]
fn schemas_typify_cannot_make_types_of_are_errors_at_their_pointer() {
    assert_error(
        json!({"name": "x", "output": true, "operations": [], "input": {"enum": [1, "a"]}}),
        "/input/enum",
        "the values mix number and string",
    );
    assert_error(
        json!({"name": "x", "output": true, "operations": [],
               "input": {"type": "string", "enum": ["dark blue", "Dark-Blue"]}}),
        "/input/enum/1",
        "\"Dark-Blue\" and \"dark blue\" make the same Rust variant name `DarkBlue`",
    );
    assert_error(
        json!({"name": "x", "output": true, "operations": [],
               "input": {"allOf": [{"type": "string"}, {"type": "integer"}]}}),
        "/input/allOf",
        "nothing in common",
    );
    assert_error(
        json!({"name": "x", "output": true, "operations": [],
               "input": {"type": "array", "items": [{"type": "string"}]}}),
        "/input/items",
        "a tuple (`items` as an array of 1 schemas) needs `\"minItems\": 1` and `\"maxItems\": 1`",
    );
    // What typify itself rejects is caught (its panic too) and reported at the schema.
    assert_error(
        json!({"name": "x", "output": true, "operations": [], "input": {"enum": ["+", "-"]}}),
        "/input",
        "cannot make a type: unsupported schema: Failed to make unique variant names",
    );
}

#[test]
fn every_keyword_value_shape_is_checked() {
    let input =
        |schema: Value| json!({"name": "x", "output": true, "operations": [], "input": schema});
    for (schema, pointer, fragment) in [
        (
            json!({"properties": []}),
            "/input/properties",
            "`properties` must be an object of schemas, got an array",
        ),
        (
            json!({"anyOf": {}}),
            "/input/anyOf",
            "`anyOf` must be an array of schemas, got an object",
        ),
        (
            json!({"allOf": []}),
            "/input/allOf",
            "`allOf` must not be empty",
        ),
        (
            json!({"required": [1]}),
            "/input/required/0",
            "`required` lists property names (strings), got a number",
        ),
        (
            json!({"required": "a"}),
            "/input/required",
            "`required` must be an array of property names, got a string",
        ),
        (
            json!({"minimum": "1"}),
            "/input/minimum",
            "`minimum` must be a number, got a string",
        ),
        (
            json!({"multipleOf": -2}),
            "/input/multipleOf",
            "`multipleOf` must be greater than 0, got -2",
        ),
        (
            json!({"uniqueItems": "yes"}),
            "/input/uniqueItems",
            "`uniqueItems` must be a boolean, got a string",
        ),
        (
            json!({"pattern": 5}),
            "/input/pattern",
            "`pattern` must be a string, got a number",
        ),
        (
            json!({"enum": []}),
            "/input/enum",
            "`enum` must be a non-empty array of values, got an array",
        ),
        (
            json!({"type": []}),
            "/input/type",
            "`type` must be a type name or a non-empty array of them",
        ),
        (
            json!({"items": 3}),
            "/input/items",
            "a schema must be an object or a boolean, got a number",
        ),
        (
            json!({"additionalProperties": "no"}),
            "/input/additionalProperties",
            "a schema must be an object or a boolean, got a string",
        ),
        (
            json!({"type": "array", "items": [{"type": "string"}], "minItems": 1, "maxItems": 1, "uniqueItems": true}),
            "/input/uniqueItems",
            "`uniqueItems` is not supported on a tuple",
        ),
        (
            json!({"propertyNames": {}}),
            "/input/propertyNames",
            "`propertyNames` is not supported",
        ),
        (json!({"$id": "x"}), "/input/$id", "`$id` is not supported"),
    ] {
        assert_error(input(schema), pointer, fragment);
    }
}

#[test]
fn an_empty_error_type_name_is_rejected() {
    assert_error(
        with_operations(json!([{"kind": "step", "name": "a",
            "retry": {"strategy": "default", "retryIf": {"errorTypes": [" "]}}}])),
        "/operations/0/retry/retryIf/errorTypes/0",
        "an error type name is empty",
    );
}
