//! Contracts between declarations: references into other declaration files, invokes typed
//! by the callee's declaration, and every error about them, which names the file and the
//! JSON pointer (and, for a disagreement, both files).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use lambda_durable_codegen::workflow::{self, export, generate_file, WorkflowOptions};
use lambda_durable_codegen::CodegenError;
use serde_json::{json, Value};

/// A fresh folder holding `files` (name, declaration), for one test.
fn folder(test: &str, files: &[(&str, Value)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "lambda-durable-contracts-{}-{test}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    for (name, declaration) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_string_pretty(declaration).unwrap()).unwrap();
    }
    dir
}

fn payments() -> Value {
    json!({
        "name": "payments",
        "function": "payments-service:live",
        "input": {"$ref": "#/definitions/Request"},
        "output": {"$ref": "#/definitions/Payment"},
        "definitions": {
            "Money": {"type": "object", "required": ["cents"], "properties": {"cents": {"type": "integer", "minimum": 0}}},
            "Request": {"type": "object", "required": ["orderId", "amount"], "properties": {"orderId": {"type": "string"}, "amount": {"$ref": "#/definitions/Money"}}},
            "Payment": {"type": "object", "required": ["paymentId"], "properties": {"paymentId": {"type": "string"}}}
        },
        "operations": []
    })
}

/// A caller with `operations` and the given input schema.
fn caller(input: Value, operations: Value) -> Value {
    json!({"name": "checkout", "input": input, "output": {"type": "null"}, "operations": operations})
}

/// Generates `file` of `dir`, expecting a schema error in `at_file` at `pointer` whose
/// message contains every fragment.
#[track_caller]
fn assert_error(dir: &Path, file: &str, at_file: &str, pointer: &str, fragments: &[&str]) {
    let err = generate_file(&dir.join(file), &WorkflowOptions::default()).unwrap_err();
    match &err {
        CodegenError::Schema {
            path,
            pointer: found,
            message,
        } => {
            assert_eq!(path, &dir.join(at_file), "{err}");
            assert_eq!(found, pointer, "{err}");
            for fragment in fragments {
                assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
            }
        }
        other => panic!("expected a schema error, got {other}"),
    }
}

#[test]
fn an_invoke_of_a_declared_workflow_takes_its_types_and_function() {
    let dir = folder(
        "typed",
        &[
            ("payments.json", payments()),
            (
                "checkout.json",
                caller(
                    json!({"$ref": "payments.json#/definitions/Money"}),
                    json!([{"kind": "invoke", "name": "pay", "workflow": "payments.json"}]),
                ),
            ),
        ],
    );
    let source = generate_file(&dir.join("checkout.json"), &WorkflowOptions::default()).unwrap();
    assert!(
        source.contains("pub type Input = super::payments::Money;"),
        "{source}"
    );
    assert!(
        source.contains("payload: super::payments::Input,"),
        "{source}"
    );
    assert!(
        source.contains("::lambda_durable::__codegen::Invoke<'_, super::payments::Output>"),
        "{source}"
    );
    assert!(source.contains("\"payments-service:live\","), "{source}");
    assert!(
        source.contains("/// - workflow: declared in payments.json"),
        "{source}"
    );
    // The input check bundles the other file's definition.
    assert!(source.contains("payments.Money"), "{source}");

    // A callee generated elsewhere (another crate): its module is named.
    let options =
        WorkflowOptions::default().module(dir.join("payments.json"), "::payments_api::workflow");
    let source = generate_file(&dir.join("checkout.json"), &options).unwrap();
    assert!(
        source.contains("payload: ::payments_api::workflow::Input,"),
        "{source}"
    );
    assert!(!source.contains("super::payments"), "{source}");

    // The referenced files, for cargo:rerun-if-changed.
    assert_eq!(
        workflow::references(&dir.join("checkout.json")).unwrap(),
        vec![dir.join("payments.json")]
    );
}

#[test]
fn declarations_may_refer_to_each_other_without_a_type_cycle() {
    // orders refers to shipping's input and output, shipping to orders' LineItem.
    let dir = folder(
        "mutual",
        &[
            (
                "orders.json",
                json!({
                    "name": "orders", "input": {"type": "null"}, "output": {"type": "null"},
                    "definitions": {"LineItem": {"type": "object", "properties": {"sku": {"type": "string"}}}},
                    "operations": [{"kind": "invoke", "name": "ship", "workflow": "shipping.json"}]
                }),
            ),
            (
                "shipping.json",
                json!({
                    "name": "shipping", "function": "shipping",
                    "input": {"type": "array", "items": {"$ref": "orders.json#/definitions/LineItem"}},
                    "output": {"type": "string"}, "operations": []
                }),
            ),
        ],
    );
    let orders = generate_file(&dir.join("orders.json"), &WorkflowOptions::default()).unwrap();
    assert!(
        orders.contains("payload: super::shipping::Input,"),
        "{orders}"
    );
    let shipping = generate_file(&dir.join("shipping.json"), &WorkflowOptions::default()).unwrap();
    assert!(
        shipping.contains("pub type Input = ::std::vec::Vec<super::orders::LineItem>;"),
        "{shipping}"
    );
    // Exports bundle the other file's definitions.
    let files = export::export_file(&dir.join("shipping.json")).unwrap();
    let input = files
        .iter()
        .find(|file| file.name == "shipping.input.schema.json")
        .unwrap();
    assert!(
        input.contents.contains("\"orders.LineItem\": {"),
        "{}",
        input.contents
    );
    assert!(
        input
            .contents
            .contains("\"$ref\": \"#/definitions/orders.LineItem\""),
        "{}",
        input.contents
    );
}

#[test]
fn a_missing_file_or_definition_is_an_error_at_the_reference() {
    let dir = folder(
        "missing",
        &[
            ("payments.json", payments()),
            (
                "no-file.json",
                caller(json!({"$ref": "nowhere.json#/input"}), json!([])),
            ),
            (
                "no-workflow.json",
                caller(
                    json!({"type": "null"}),
                    json!([{"kind": "invoke", "name": "pay", "workflow": "sub/nowhere.json"}]),
                ),
            ),
            (
                "no-definition.json",
                caller(
                    json!({"$ref": "payments.json#/definitions/Missing"}),
                    json!([]),
                ),
            ),
        ],
    );
    assert_error(
        &dir,
        "no-file.json",
        "no-file.json",
        "/input/$ref",
        &[
            "cannot read the declaration",
            "nowhere.json that this refers to",
        ],
    );
    assert_error(
        &dir,
        "no-workflow.json",
        "no-workflow.json",
        "/operations/0/workflow",
        &["cannot read the declaration", "sub/nowhere.json"],
    );
    assert_error(
        &dir,
        "no-definition.json",
        "no-definition.json",
        "/input/$ref",
        &[
            "payments.json has no definition \"Missing\"",
            "(its definitions: [\"Money\", \"Payment\", \"Request\"])",
        ],
    );
}

#[test]
fn a_wrong_referenced_declaration_is_reported_in_its_own_file() {
    let dir = folder(
        "broken-callee",
        &[
            (
                "payments.json",
                json!({"name": "", "input": true, "output": true, "operations": []}),
            ),
            (
                "checkout.json",
                caller(json!({"$ref": "payments.json#/input"}), json!([])),
            ),
        ],
    );
    assert_error(
        &dir,
        "checkout.json",
        "payments.json",
        "/name",
        &["the workflow name is empty"],
    );
    std::fs::write(dir.join("payments.json"), "{ not json").unwrap();
    let err = generate_file(&dir.join("checkout.json"), &WorkflowOptions::default()).unwrap_err();
    assert!(
        matches!(&err, CodegenError::Json { path, .. } if path == &dir.join("payments.json")),
        "{err}"
    );
}

#[test]
fn a_reference_into_the_file_itself_must_be_local() {
    let dir = folder(
        "self",
        &[(
            "checkout.json",
            json!({
                "name": "checkout", "input": {"$ref": "checkout.json#/definitions/A"}, "output": {"type": "null"},
                "definitions": {"A": {"type": "string"}}, "operations": []
            }),
        )],
    );
    assert_error(
        &dir,
        "checkout.json",
        "checkout.json",
        "/input/$ref",
        &["points into this file itself; write \"#/definitions/A\""],
    );
    let dir = folder(
        "self-input",
        &[(
            "checkout.json",
            json!({"name": "checkout", "input": {"type": "null"}, "output": {"$ref": "./checkout.json#/input"}, "operations": []}),
        )],
    );
    assert_error(
        &dir,
        "checkout.json",
        "checkout.json",
        "/output/$ref",
        &["points into this file itself; move the schema into `definitions`"],
    );
}

#[test]
fn types_that_refer_to_each_other_across_files_are_rejected() {
    let dir = folder(
        "cycle",
        &[
            (
                "a.json",
                json!({
                    "name": "a", "input": {"$ref": "#/definitions/Node"}, "output": {"type": "null"},
                    "definitions": {"Node": {"type": "object", "properties": {"next": {"$ref": "b.json#/definitions/Link"}}}},
                    "operations": []
                }),
            ),
            (
                "b.json",
                json!({
                    "name": "b", "input": {"type": "null"}, "output": {"type": "null"},
                    "definitions": {"Link": {"type": "object", "properties": {"node": {"$ref": "a.json#/definitions/Node"}}}},
                    "operations": []
                }),
            ),
        ],
    );
    let err = generate_file(&dir.join("a.json"), &WorkflowOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("types of different declarations refer to each other: "),
        "{text}"
    );
    assert!(
        text.contains("a.json#/definitions/Node -> ") && text.contains("b.json#/definitions/Link"),
        "{text}"
    );
    assert!(
        text.contains("types that hold each other must be declared in one file"),
        "{text}"
    );
    // A recursive type within one file is fine (typify boxes it).
    let dir = folder(
        "recursive",
        &[(
            "tree.json",
            json!({
                "name": "tree", "input": {"$ref": "#/definitions/Tree"}, "output": {"type": "null"},
                "definitions": {"Tree": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/definitions/Tree"}}}}},
                "operations": []
            }),
        )],
    );
    generate_file(&dir.join("tree.json"), &WorkflowOptions::default()).unwrap();
}

#[test]
fn a_payload_or_result_that_disagrees_with_the_callee_names_both_files() {
    let invoke = |extra: Value| {
        let mut op = json!({"kind": "invoke", "name": "pay", "workflow": "payments.json"});
        op.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        caller(json!({"type": "null"}), json!([op]))
    };
    let dir = folder(
        "disagree",
        &[
            ("payments.json", payments()),
            (
                "wrong-type.json",
                invoke(
                    json!({"input": {"type": "object", "required": ["orderId", "amount"], "properties": {
                    "orderId": {"type": "integer"}, "amount": {"$ref": "payments.json#/definitions/Money"}}}}),
                ),
            ),
            (
                "extra-property.json",
                invoke(
                    json!({"output": {"type": "object", "required": ["paymentId"], "properties": {
                    "paymentId": {"type": "string"}, "fee": {"type": "integer"}}}}),
                ),
            ),
            (
                "same-shape.json",
                invoke(
                    json!({"output": {"title": "Mine", "description": "annotations do not count", "type": "object",
                    "required": ["paymentId"], "properties": {"paymentId": {"type": "string"}}}}),
                ),
            ),
            (
                "wrong-function.json",
                invoke(
                    json!({"function": "arn:aws:lambda:us-east-1:123456789012:function:billing:live"}),
                ),
            ),
            (
                "qualified-function.json",
                invoke(
                    json!({"function": "arn:aws:lambda:us-east-1:123456789012:function:payments-service:canary"}),
                ),
            ),
        ],
    );
    assert_error(
        &dir,
        "wrong-type.json",
        "wrong-type.json",
        "/operations/0/input",
        &[
            "the payload does not match the input of the invoked workflow \"payments\"",
            "payments.json#/input",
            "at /properties/orderId, `type` is \"integer\" here and \"string\" in ",
        ],
    );
    assert_error(
        &dir,
        "extra-property.json",
        "extra-property.json",
        "/operations/0/output",
        &[
            "the result does not match the output of the invoked workflow \"payments\"",
            "the property \"fee\" is declared here but not in ",
            "payments.json",
        ],
    );
    generate_file(&dir.join("same-shape.json"), &WorkflowOptions::default()).unwrap();
    assert_error(
        &dir,
        "wrong-function.json",
        "wrong-function.json",
        "/operations/0/function",
        &[
            "invokes \"arn:aws:lambda:us-east-1:123456789012:function:billing:live\", but ",
            "payments.json declares that the workflow \"payments\" is deployed as \"payments-service:live\"",
        ],
    );
    // Another qualifier of the same function is the same function.
    generate_file(
        &dir.join("qualified-function.json"),
        &WorkflowOptions::default(),
    )
    .unwrap();
}

#[test]
fn an_invoke_calls_one_workflow() {
    let billing = json!({"name": "billing", "input": {"type": "string"}, "output": {"type": "string"}, "operations": []});
    let dir = folder(
        "two-callees",
        &[
            ("payments.json", payments()),
            ("billing.json", billing),
            (
                "mixed.json",
                caller(
                    json!({"type": "null"}),
                    json!([{"kind": "invoke", "name": "pay",
                        "input": {"$ref": "payments.json#/input"}, "output": {"$ref": "billing.json#/output"}}]),
                ),
            ),
            (
                "workflow-and-ref.json",
                caller(
                    json!({"type": "null"}),
                    json!([{"kind": "invoke", "name": "pay", "workflow": "payments.json",
                        "output": {"$ref": "billing.json#/output"}}]),
                ),
            ),
            (
                "no-input.json",
                caller(
                    json!({"type": "null"}),
                    json!([{"kind": "invoke", "name": "pay", "output": {"$ref": "payments.json#/output"}}]),
                ),
            ),
        ],
    );
    assert_error(
        &dir,
        "mixed.json",
        "mixed.json",
        "/operations/0/output/$ref",
        &[
            "the output is the output of ",
            "billing.json, but the input's reference names ",
            "payments.json: an invoke calls one workflow",
        ],
    );
    assert_error(
        &dir,
        "workflow-and-ref.json",
        "workflow-and-ref.json",
        "/operations/0/output/$ref",
        &["billing.json, but `workflow` names ", "payments.json"],
    );
    assert_error(
        &dir,
        "no-input.json",
        "no-input.json",
        "/operations/0/input",
        &[
            "the payload does not match the input of the invoked workflow \"payments\"",
            "the invoke declares no input",
        ],
    );
}

#[test]
fn a_workflow_path_must_be_relative() {
    let dir = folder(
        "absolute",
        &[(
            "checkout.json",
            caller(
                json!({"type": "null"}),
                json!([{"kind": "invoke", "name": "pay", "workflow": "https://example.com/payments.json"}]),
            ),
        )],
    );
    assert_error(
        &dir,
        "checkout.json",
        "checkout.json",
        "/operations/0/workflow",
        &["\"https://example.com/payments.json\" is not a path relative to this file"],
    );
}

#[test]
fn a_declared_function_name_is_checked() {
    let dir = folder(
        "function-name",
        &[(
            "long.json",
            json!({"name": "long", "function": "f".repeat(257), "input": true, "output": true, "operations": []}),
        )],
    );
    assert_error(
        &dir,
        "long.json",
        "long.json",
        "/function",
        &["function name must be 1 to 256 characters, got 257"],
    );
}

#[test]
fn a_file_name_that_makes_no_module_name_is_an_error() {
    let dir = folder(
        "module-name",
        &[
            ("+++.json", payments()),
            (
                "checkout.json",
                caller(json!({"$ref": "+++.json#/input"}), json!([])),
            ),
        ],
    );
    assert_error(
        &dir,
        "checkout.json",
        "checkout.json",
        "/input",
        &["has no letters or digits to make the module name of its types from; name the module with WorkflowOptions::module"],
    );
    // Named, it generates.
    let options = WorkflowOptions::default().module(dir.join("+++.json"), "crate::payments");
    let source = generate_file(&dir.join("checkout.json"), &options).unwrap();
    assert!(
        source.contains("pub type Input = crate::payments::Input;"),
        "{source}"
    );
}

#[test]
fn a_build_needs_the_module_of_a_declaration_it_does_not_generate() {
    let dir = folder(
        "build",
        &[
            ("shared/payments.json", payments()),
            (
                "workflows/checkout.json",
                caller(json!({"$ref": "../shared/payments.json#/input"}), json!([])),
            ),
        ],
    );
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    // The build script's environment. No other test of this binary reads OUT_DIR.
    std::env::set_var("OUT_DIR", &out);
    let err = workflow::build_with(dir.join("workflows"), &WorkflowOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "{}: refers to {}, which this build does not generate",
            dir.join("workflows/checkout.json").display(),
            dir.join("shared/payments.json").display()
        )),
        "{text}"
    );
    assert!(text.contains("WorkflowOptions::module("), "{text}");
    let options =
        WorkflowOptions::default().module(dir.join("shared/payments.json"), "::payments::workflow");
    let written = workflow::build_with(dir.join("workflows"), &options).unwrap();
    assert_eq!(written, vec![out.join("checkout.rs")]);
    let source = std::fs::read_to_string(out.join("checkout.rs")).unwrap();
    assert!(
        source.contains("pub type Input = ::payments::workflow::Input;"),
        "{source}"
    );
}

#[test]
fn a_step_error_of_another_declaration_is_rejected() {
    let dir = folder(
        "step-error",
        &[
            ("payments.json", payments()),
            (
                "checkout.json",
                caller(
                    json!({"type": "null"}),
                    json!([{"kind": "step", "name": "pay", "error": {"$ref": "payments.json#/definitions/Money"}}]),
                ),
            ),
        ],
    );
    assert_error(
        &dir,
        "checkout.json",
        "checkout.json",
        "/operations/0/error",
        &[
            "a step's error must be declared in this file",
            "\"payments.json#/definitions/Money\" is another declaration's type",
        ],
    );
}

#[test]
fn a_definition_may_be_another_declarations_type() {
    let dir = folder(
        "alias",
        &[
            ("payments.json", payments()),
            (
                "checkout.json",
                json!({
                    "name": "checkout", "input": {"$ref": "#/definitions/Amount"}, "output": {"type": "null"},
                    "definitions": {"Amount": {"$ref": "payments.json#/definitions/Money"}},
                    "operations": [{"kind": "map", "name": "each", "input": {"$ref": "payments.json#/definitions/Money"}}]
                }),
            ),
        ],
    );
    let source = generate_file(&dir.join("checkout.json"), &WorkflowOptions::default()).unwrap();
    assert!(source.contains("super::payments::Money"), "{source}");
}
