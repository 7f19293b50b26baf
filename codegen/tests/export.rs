//! Exports of declarations: diagram snapshots (Mermaid and DOT) of every workflow snapshot
//! case, and the standalone JSON Schemas.
//!
//! Each `tests/snapshots/workflow/<case>.json` has `tests/snapshots/diagrams/<case>.mmd` and
//! `<case>.dot`; `UPDATE_SNAPSHOTS=1` rewrites them.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use lambda_durable_codegen::workflow::{export, read_declaration};
use serde_json::json;

mod support;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cases() -> Vec<(String, PathBuf)> {
    let root = manifest_dir().join("tests/snapshots/workflow");
    let mut cases: Vec<(String, PathBuf)> = std::fs::read_dir(root)
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
fn diagrams_match_snapshots() {
    let cases = cases();
    assert!(cases.len() >= 15, "found only {} cases", cases.len());
    let dir = manifest_dir().join("tests/snapshots/diagrams");
    let mut failures = Vec::new();
    for (name, path) in &cases {
        let declaration = read_declaration(path).unwrap();
        failures.extend(support::check_snapshot(
            name,
            &dir.join(format!("{name}.mmd")),
            &export::mermaid(&declaration),
        ));
        failures.extend(support::check_snapshot(
            name,
            &dir.join(format!("{name}.dot")),
            &export::dot(&declaration),
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_diagram_snapshot_has_a_declaration() {
    let names: Vec<String> = cases().into_iter().map(|(name, _)| name).collect();
    for entry in std::fs::read_dir(manifest_dir().join("tests/snapshots/diagrams")).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        assert!(
            names.contains(&stem),
            "{} has no declaration",
            path.display()
        );
    }
}

/// A declaration with nesting, retries, a callback, an invoke and a poll.
fn nested() -> &'static str {
    r##"{
      "name": "trip",
      "input": {"$ref": "#/definitions/Trip"},
      "output": {"type": "string"},
      "definitions": {
        "Trip": {"type": "object", "required": ["travellers"],
                 "properties": {"travellers": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/Traveller"}}}},
        "Traveller": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        "Unused": {"type": "string"}
      },
      "operations": [
        {"kind": "parallel", "name": "reserve", "branches": ["flight", "hotel"]},
        {"kind": "step", "name": "book flight", "within": "flight", "retry": {"strategy": "transient"}, "timeout": {"seconds": 30}},
        {"kind": "step", "name": "book hotel", "within": "hotel", "retry": {"strategy": "none"}},
        {"kind": "map", "name": "per traveller", "input": {"$ref": "#/definitions/Traveller"}, "maxConcurrency": 2},
        {"kind": "child-context", "name": "check in", "within": "per traveller"},
        {"kind": "callback", "name": "approval", "timeout": {"days": 1}, "within": "check in"},
        {"kind": "invoke", "name": "pay", "function": "payments:live"},
        {"kind": "wait-for-condition", "name": "status", "state": {"type": "string"}}
      ]
    }"##
}

#[test]
fn nesting_puts_operations_inside_their_groups() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("nested-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("trip.json");
    std::fs::write(&file, nested()).unwrap();
    let declaration = read_declaration(&file).unwrap();
    let mermaid = export::mermaid(&declaration);
    // The branch steps are inside the parallel's group and follow their branch.
    let group = mermaid.find("subgraph op0g").unwrap();
    let end = group + mermaid[group..].find("\n    end\n").unwrap();
    assert!(
        mermaid[group..end].contains("op1[\"book flight"),
        "{mermaid}"
    );
    assert!(
        mermaid[group..end].contains("op2[\"book hotel"),
        "{mermaid}"
    );
    assert!(mermaid.contains("op0b0 --> op1\n"), "{mermaid}");
    assert!(mermaid.contains("op0b1 --> op2\n"), "{mermaid}");
    // The map follows both branches; its item chain holds the child context, which holds
    // the callback.
    assert!(
        mermaid.contains("op1 --> op3\n    op2 --> op3\n"),
        "{mermaid}"
    );
    assert!(mermaid.contains("op3i --> op4\n"), "{mermaid}");
    assert!(
        mermaid.contains("        subgraph op4g [\"child context: check in\"]\n"),
        "{mermaid}"
    );
    assert!(
        mermaid.contains("            op5{{\"approval<br/>callback<br/>timeout: 1d\"}}"),
        "{mermaid}"
    );
    // Retries and polls are loops; a step without retries has none.
    assert!(mermaid.contains("op1 -. retry .-> op1"), "{mermaid}");
    assert!(!mermaid.contains("op2 -. retry"), "{mermaid}");
    assert!(mermaid.contains("op7 -. poll again .-> op7"), "{mermaid}");
    assert!(
        mermaid.contains("op6[[\"pay<br/>invoke<br/>function: payments:live\"]]"),
        "{mermaid}"
    );
    assert!(mermaid.contains("timeout: 30s per attempt"), "{mermaid}");
    let dot = export::dot(&declaration);
    assert!(dot.contains("subgraph cluster_op0g {"), "{dot}");
    assert!(
        dot.contains("op5 [shape=hexagon, label=\"approval\\ncallback\\ntimeout: 1d\"];"),
        "{dot}"
    );
    assert!(
        dot.contains("op1 -> op1 [style=dashed, label=\"retry\"];"),
        "{dot}"
    );

    // The schemas: the input inlines the definition it names and keeps only the
    // definitions it reaches.
    let files = export::export_file(&file).unwrap();
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "trip.input.schema.json",
            "trip.output.schema.json",
            "trip.per-traveller.input.schema.json",
            "trip.status.state.schema.json",
            "trip.md",
            "trip.dot"
        ]
    );
    let input: serde_json::Value = serde_json::from_str(&files[0].contents).unwrap();
    assert_eq!(input["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(input["title"], "Trip");
    assert_eq!(input["required"], json!(["travellers"]));
    assert_eq!(input["properties"]["travellers"]["minItems"], 1);
    let definitions = input["definitions"].as_object().unwrap();
    assert_eq!(
        definitions.keys().collect::<Vec<_>>(),
        ["Traveller", "Trip"]
    );
    let output: serde_json::Value = serde_json::from_str(&files[1].contents).unwrap();
    assert_eq!(output["title"], "trip output");
    assert!(output.get("definitions").is_none(), "{output}");
    assert!(
        files[4].contents.contains("```mermaid\nflowchart TD\n"),
        "{}",
        files[4].contents
    );
    assert!(files[4]
        .contents
        .contains("- [`trip.input.schema.json`](trip.input.schema.json)"));

    // write, then stale: nothing is stale until a file changes.
    let out = dir.join("docs");
    export::write(&file, &out).unwrap();
    assert!(export::stale(&file, &out).unwrap().is_empty());
    std::fs::write(out.join("trip.dot"), "changed").unwrap();
    std::fs::remove_file(out.join("trip.md")).unwrap();
    assert_eq!(
        export::stale(&file, &out).unwrap(),
        [out.join("trip.md"), out.join("trip.dot")]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
