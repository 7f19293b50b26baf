//! Snapshot tests of the wire type generator.
//!
//! Every folder `tests/snapshots/wire/<case>/` is a small schema folder; the expected
//! output is `tests/snapshots/wire/<case>.rs` beside it. Run with `UPDATE_SNAPSHOTS=1` to
//! rewrite the expected files from the current generator.
//!
//! Each snapshot is also compiled (and exercised) by `tests/compile.rs` through a wrapper
//! in `tests/compile/<case>.rs`.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use lambda_durable_codegen::wire::{generate, WireOptions, TIMESTAMP_SCHEMA};

mod support;

use support::check_snapshot;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn snapshot_root() -> PathBuf {
    manifest_dir().join("tests").join("snapshots").join("wire")
}

/// The case folders, sorted by name.
fn cases() -> Vec<(String, PathBuf)> {
    let mut cases: Vec<(String, PathBuf)> = std::fs::read_dir(snapshot_root())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .map(|path| {
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            (name, path)
        })
        .collect();
    cases.sort();
    cases
}

/// The options of a case: the defaults, and for the `open_*` cases open enumerations whose
/// unknown values are kept in the wrapper's `UnknownText` type.
fn case_options(name: &str) -> WireOptions {
    WireOptions {
        unknown_value_type: name
            .starts_with("open_")
            .then(|| "super::UnknownText".to_string()),
        ..WireOptions::default()
    }
}

#[test]
fn generated_code_matches_snapshots() {
    let cases = cases();
    assert!(
        cases.len() >= 8,
        "expected the snapshot cases under {}, found {:?}",
        snapshot_root().display(),
        cases.iter().map(|(name, _)| name).collect::<Vec<_>>()
    );
    let mut failures = Vec::new();
    for (name, dir) in &cases {
        let generated = match generate(dir, &case_options(name)) {
            Ok(generated) => generated.source,
            Err(err) => {
                failures.push(format!("{name}: generation failed: {err}"));
                continue;
            }
        };
        let expected_path = snapshot_root().join(format!("{name}.rs"));
        failures.extend(check_snapshot(name, &expected_path, &generated));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_snapshot_file_has_a_case_folder_and_a_compile_wrapper() {
    let names: Vec<String> = cases().into_iter().map(|(name, _)| name).collect();
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(snapshot_root()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|ext| ext.to_str()) == Some("rs") {
            let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
            if !names.contains(&stem) {
                problems.push(format!("{} has no case folder", path.display()));
            }
        }
    }
    for name in &names {
        let wrapper = manifest_dir()
            .join("tests")
            .join("compile")
            .join(format!("{name}.rs"));
        if !wrapper.is_file() {
            problems.push(format!(
                "case {name} has no compile wrapper {}",
                wrapper.display()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Names of the types the generated source defines at its top level.
fn defined_types(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in source.lines() {
        for prefix in ["pub struct ", "pub enum "] {
            if let Some(rest) = line.strip_prefix(prefix) {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                names.push(name);
            }
        }
    }
    names
}

#[test]
fn real_schema_folder_generates_one_type_per_file() {
    let dir = manifest_dir().join("..").join("schema").join("wire");
    let generated = generate(&dir, &WireOptions::default()).unwrap();
    let types = defined_types(&generated.source);
    let mut stems: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().and_then(|ext| ext.to_str()) == Some("json"))
        .map(|path| path.file_stem().unwrap().to_str().unwrap().to_string())
        .collect();
    stems.sort();
    assert!(stems.len() > 50, "only {} schema files found", stems.len());
    assert!(stems.iter().any(|stem| stem == TIMESTAMP_SCHEMA));

    let missing: Vec<&String> = stems
        .iter()
        .filter(|stem| *stem != TIMESTAMP_SCHEMA && !types.contains(stem))
        .collect();
    assert!(missing.is_empty(), "no type generated for {missing:?}");
    // Every generated type is one of the files (no anonymous helper types).
    let extra: Vec<&String> = types.iter().filter(|ty| !stems.contains(ty)).collect();
    assert!(
        extra.is_empty(),
        "types that are not schema files: {extra:?}"
    );
    // Timestamp is the handwritten type, referenced by path and never defined.
    assert!(!types.iter().any(|ty| ty == TIMESTAMP_SCHEMA));
    assert!(generated.source.contains("crate::wire::Timestamp"));

    // The inputs are the folder and every file of it.
    assert_eq!(generated.inputs.len(), stems.len() + 1);
    assert_eq!(generated.inputs[0], dir);
}

#[test]
fn timestamp_type_option_changes_the_replacement_path() {
    let dir: &Path = &snapshot_root().join("timestamp_replacement");
    let options = WireOptions {
        timestamp_type: "::my_crate::When".to_string(),
        ..WireOptions::default()
    };
    let source = generate(dir, &options).unwrap().source;
    assert!(source.contains("::my_crate::When"), "{source}");
    assert!(!source.contains("crate::wire::Timestamp"), "{source}");
    assert!(!defined_types(&source).contains(&"Timestamp".to_string()));
}
