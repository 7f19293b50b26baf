//! Snapshot tests of the workflow generator.
//!
//! Every declaration `tests/snapshots/workflow/<case>.json` pins one concern; the expected
//! output is `<case>.rs` beside it. Run with `UPDATE_SNAPSHOTS=1` to rewrite the expected
//! files (and the compile wrapper) from the current generator, then review the diff.
//!
//! `tests/compile/workflow_snapshots.rs` includes every snapshot, and `tests/compile.rs`
//! builds it under `#![deny(warnings)]` against the real `lambda-durable` crate.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use lambda_durable_codegen::workflow::{generate_file, WorkflowOptions};

mod support;

use support::{check_snapshot, updating};

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn snapshot_root() -> PathBuf {
    manifest_dir()
        .join("tests")
        .join("snapshots")
        .join("workflow")
}

fn wrapper_path() -> PathBuf {
    manifest_dir()
        .join("tests")
        .join("compile")
        .join("workflow_snapshots.rs")
}

/// The case declarations, sorted by name.
fn cases() -> Vec<(String, PathBuf)> {
    let mut cases: Vec<(String, PathBuf)> = std::fs::read_dir(snapshot_root())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().and_then(|ext| ext.to_str()) == Some("json"))
        .map(|path| {
            (
                path.file_stem().unwrap().to_str().unwrap().to_string(),
                path,
            )
        })
        .collect();
    cases.sort();
    cases
}

#[test]
fn generated_workflows_match_snapshots() {
    let cases = cases();
    assert!(cases.len() >= 15, "found only {} cases", cases.len());
    let mut failures = Vec::new();
    for (name, path) in &cases {
        match generate_file(path, &WorkflowOptions::default()) {
            Ok(generated) => {
                let expected = path.with_extension("rs");
                failures.extend(check_snapshot(name, &expected, &generated));
            }
            Err(err) => failures.push(format!("{name}: generation failed: {err}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The compile wrapper: one module per snapshot.
fn wrapper() -> String {
    let mut text = String::from(
        "//! Compiles every workflow snapshot (`tests/snapshots/workflow/<case>.rs`) under\n\
         //! `#![deny(warnings)]` against the real runtime. Written by `tests/workflow_snapshots.rs`\n\
         //! with `UPDATE_SNAPSHOTS=1`; do not edit.\n\
         #![deny(warnings)]\n\
         // In a binary every generated item that `main` does not use is dead code; that says\n\
         // nothing about the generated code, which users include in libraries.\n\
         #![allow(dead_code)]\n",
    );
    for (name, _) in cases() {
        text.push_str(&format!(
            "\nmod {name} {{\n    include!(\"../snapshots/workflow/{name}.rs\");\n}}\n"
        ));
    }
    text.push_str("\nfn main() {}\n");
    text
}

#[test]
fn the_compile_wrapper_includes_every_snapshot() {
    let expected = wrapper();
    if updating() {
        std::fs::write(wrapper_path(), &expected).unwrap();
        return;
    }
    let actual = std::fs::read_to_string(wrapper_path()).unwrap_or_default();
    assert_eq!(
        actual,
        expected,
        "{} is out of date; run with UPDATE_SNAPSHOTS=1",
        wrapper_path().display()
    );
}

#[test]
fn every_snapshot_has_a_declaration() {
    let names: Vec<String> = cases().into_iter().map(|(name, _)| name).collect();
    for entry in std::fs::read_dir(snapshot_root()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|ext| ext.to_str()) == Some("rs") {
            let stem = path.file_stem().unwrap().to_str().unwrap();
            assert!(
                names.iter().any(|name| name == stem),
                "{} has no declaration beside it",
                path.display()
            );
        }
    }
}

#[test]
fn the_committed_meta_schema_is_derived_from_the_declaration_types() {
    let path: &Path = &manifest_dir()
        .join("..")
        .join("schema")
        .join("workflow.schema.json");
    let derived = lambda_durable_codegen::workflow::meta_schema();
    if std::env::var_os("UPDATE_SCHEMA").is_some_and(|value| value == "1") || updating() {
        std::fs::write(path, &derived).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == derived,
        "{} differs from the schema derived from the declaration types (- committed, + derived); \
         rerun with UPDATE_SCHEMA=1 to refresh it:\n{}",
        path.display(),
        support::line_diff(&committed, &derived)
    );
}

#[test]
fn the_examples_declarations_follow_the_meta_schema() {
    // Every declaration of the example crates generates (the examples' builds use them).
    let examples = manifest_dir().join("..").join("examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(examples).unwrap() {
        let dir = entry.unwrap().path().join("workflows");
        if !dir.is_dir() {
            continue;
        }
        for file in lambda_durable_codegen::workflow::declaration_files(&dir).unwrap() {
            generate_file(&file, &WorkflowOptions::default()).unwrap();
            seen += 1;
        }
    }
    assert!(seen >= 2, "found {seen} example declarations");
}
