//! Bad schema folders: every kind of mistake gives a `CodegenError` whose message names
//! the file (and the JSON pointer, where there is one).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use lambda_durable_codegen::wire::{generate, WireOptions};
use lambda_durable_codegen::CodegenError;

/// A fresh folder under cargo's per-target temporary directory holding `files`.
fn schema_dir(case: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("codegen-errors")
        .join(format!("{case}-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir
}

fn generate_err(dir: &Path) -> CodegenError {
    let err = generate(dir, &WireOptions::default()).unwrap_err();
    std::fs::remove_dir_all(dir).unwrap();
    err
}

const CHILD: &str = r#"{"title": "Child", "type": "object", "properties": {}}"#;

#[test]
fn invalid_json_names_the_file_and_line() {
    let dir = schema_dir(
        "invalid-json",
        &[
            ("Child.json", CHILD),
            (
                "Broken.json",
                "{\n  \"title\": \"Broken\",\n  \"type\": \"object\",\n  \"properties\": {,}\n}\n",
            ),
        ],
    );
    let file = dir.join("Broken.json");
    let err = generate_err(&dir);
    assert!(
        matches!(&err, CodegenError::Json { path, .. } if *path == file),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("{}: invalid JSON: ", file.display())),
        "{message}"
    );
    assert!(message.contains("line 4 column 18"), "{message}");
}

#[test]
fn title_not_matching_the_file_name_is_rejected_at_title() {
    let dir = schema_dir(
        "title-mismatch",
        &[("Order.json", r#"{"title": "Purchase", "type": "object"}"#)],
    );
    let file = dir.join("Order.json");
    let err = generate_err(&dir);
    assert!(
        matches!(&err, CodegenError::Schema { path, pointer, .. } if *path == file && pointer == "/title"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{} at /title: title \"Purchase\" must equal the file name \"Order\"",
            file.display()
        )
    );
}

#[test]
fn missing_title_is_rejected_at_title() {
    let dir = schema_dir("title-missing", &[("Order.json", r#"{"type": "string"}"#)]);
    let file = dir.join("Order.json");
    let message = generate_err(&dir).to_string();
    assert_eq!(
        message,
        format!(
            "{} at /title: missing title (expected \"Order\")",
            file.display()
        )
    );
}

#[test]
fn ref_to_an_unknown_file_names_the_pointer() {
    let dir = schema_dir(
        "unknown-ref",
        &[
            ("Child.json", CHILD),
            (
                "Parent.json",
                r#"{"title": "Parent", "type": "object", "properties": {
                    "Kid": {"$ref": "Child.json"},
                    "Other": {"$ref": "Missing.json"}
                }}"#,
            ),
        ],
    );
    let file = dir.join("Parent.json");
    let err = generate_err(&dir);
    assert!(
        matches!(&err, CodegenError::Schema { path, pointer, .. }
            if *path == file && pointer == "/properties/Other/$ref"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{} at /properties/Other/$ref: reference to unknown schema file \"Missing.json\"",
            file.display()
        )
    );
}

#[test]
fn ref_that_is_not_a_file_name_names_the_pointer() {
    for (case, reference) in [
        ("ref-fragment", "#/definitions/Child"),
        ("ref-url", "https://example.com/Child.schema"),
        ("ref-no-extension", "Child"),
    ] {
        let parent = format!(
            r#"{{"title": "Parent", "type": "object", "properties": {{"Kid": {{"$ref": "{reference}"}}}}}}"#
        );
        let dir = schema_dir(case, &[("Child.json", CHILD), ("Parent.json", &parent)]);
        let file = dir.join("Parent.json");
        let err = generate_err(&dir);
        assert!(
            matches!(&err, CodegenError::Schema { path, pointer, .. }
                if *path == file && pointer == "/properties/Kid/$ref"),
            "{case}: {err:?}"
        );
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("{} at /properties/Kid/$ref: ", file.display())),
            "{message}"
        );
        assert!(message.contains(&format!("{reference:?}")), "{message}");
        assert!(message.contains("must name a schema file"), "{message}");
    }
}

#[test]
fn pointer_goes_through_arrays_and_escapes_keys() {
    let dir = schema_dir(
        "pointer-escaping",
        &[
            ("Child.json", CHILD),
            (
                "Parent.json",
                r#"{"title": "Parent", "type": "object", "properties": {
                    "a/b~c": {"type": "array", "items": {"oneOf": [
                        {"$ref": "Child.json"},
                        {"$ref": "Nope.json"}
                    ]}}
                }}"#,
            ),
        ],
    );
    let err = generate_err(&dir);
    assert!(
        matches!(&err, CodegenError::Schema { pointer, .. }
            if pointer == "/properties/a~1b~0c/items/oneOf/1/$ref"),
        "{err:?}"
    );
}

#[test]
fn empty_folder_is_rejected() {
    let dir = schema_dir("empty", &[("README.md", "not a schema")]);
    let err = generate_err(&dir);
    assert!(
        matches!(&err, CodegenError::Schema { path, pointer, .. } if *path == dir && pointer.is_empty()),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("{}: no *.json schema files in this folder", dir.display())
    );
}

#[test]
fn missing_folder_names_it() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("codegen-errors-does-not-exist");
    let err = generate(&dir, &WireOptions::default()).unwrap_err();
    assert!(
        matches!(&err, CodegenError::Io { path, .. } if *path == dir),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("cannot read {}: ", dir.display())),
        "{err}"
    );
}

#[test]
fn schema_typify_rejects_is_an_error_naming_the_definition() {
    // Not a valid JSON Schema: schemars cannot read it.
    let dir = schema_dir(
        "typify-bad-type",
        &[
            ("Child.json", CHILD),
            ("Weird.json", r#"{"title": "Weird", "type": "frob"}"#),
        ],
    );
    let file = dir.join("Weird.json");
    let err = generate_err(&dir);
    assert!(
        matches!(&err, CodegenError::Schema { path, .. } if *path == file),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("not a valid JSON Schema"), "{message}");

    // A valid schema typify refuses: a pattern that is not a regular expression. The
    // culprit is found and the error names its file.
    let dir = schema_dir(
        "typify-bad-pattern",
        &[(
            "Code.json",
            r#"{"title": "Code", "type": "string", "pattern": "(("}"#,
        )],
    );
    let file = dir.join("Code.json");
    let err = generate_err(&dir);
    assert!(
        matches!(&err, CodegenError::Schema { path, .. } if *path == file),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("invalid pattern"), "{message}");
}

/// What the layout rules promise for every kind of error: the message names the file.
#[test]
fn schema_typify_rejects_names_the_file() {
    for (case, text) in [
        (
            "typify-file-bad-type",
            r#"{"title": "Weird", "type": "frob"}"#,
        ),
        (
            "typify-file-enum-value",
            r#"{"title": "Weird", "type": "string", "enum": [1, "x"]}"#,
        ),
    ] {
        let dir = schema_dir(case, &[("Weird.json", text)]);
        let file = dir.join("Weird.json");
        let message = generate_err(&dir).to_string();
        assert!(message.contains(&file.display().to_string()), "{message}");
    }
}

/// typify panics (instead of returning an error) when enum values collide after case
/// conversion; a build script would crash with typify's message and no file name.
#[test]

fn colliding_enum_values_are_an_error_not_a_panic() {
    let dir = schema_dir(
        "typify-colliding-variants",
        &[(
            "Kind.json",
            r#"{"title": "Kind", "type": "string", "enum": ["a-b", "a_b"]}"#,
        )],
    );
    let file = dir.join("Kind.json");
    let result = std::panic::catch_unwind(|| generate(&dir, &WireOptions::default()));
    std::fs::remove_dir_all(&dir).unwrap();
    let message = result.expect("generate panicked").unwrap_err().to_string();
    assert!(message.contains(&file.display().to_string()), "{message}");
}
