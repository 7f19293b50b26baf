//! The `lambda-durable-codegen` binary prints what a declaration generates, the
//! meta-schema, or the error of a bad declaration.
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn codegen(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lambda-durable-codegen"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

#[test]
fn prints_the_generated_source_of_a_declaration() {
    let output = codegen(&["tests/snapshots/workflow/minimal_step.json"]);
    assert!(output.status.success(), "{output:?}");
    let expected = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/snapshots/workflow/minimal_step.rs"
    ))
    .unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), expected);
}

#[test]
fn prints_the_meta_schema() {
    let output = codegen(&["--schema"]);
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        lambda_durable_codegen::workflow::meta_schema()
    );
}

#[test]
fn a_bad_declaration_fails_with_its_error() {
    let output = codegen(&["tests/does-not-exist.json"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("error: cannot read tests/does-not-exist.json"),
        "{stderr}"
    );
    let usage = codegen(&[]);
    assert_eq!(usage.status.code(), Some(2));
}
