//! `docs/workflows/` holds what `workflows/thumbnails.json` exports (the JSON Schemas of its
//! input, output and operation payloads, and its diagram: `thumbnails.md` with Mermaid, `thumbnails.dot`).
//! This test fails when they are out of date with the declaration.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use lambda_durable_codegen::workflow::export;

#[test]
fn the_exported_schemas_and_diagram_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let declaration = root.join("workflows/thumbnails.json");
    let out = root.join("docs/workflows");
    let stale = export::stale(&declaration, &out).unwrap();
    let names: Vec<String> = stale
        .iter()
        .map(|path| {
            path.strip_prefix(root)
                .unwrap_or(path)
                .display()
                .to_string()
        })
        .collect();
    assert!(
        stale.is_empty(),
        "{} out of date with workflows/thumbnails.json; regenerate with\n           cargo run -p lambda-durable-codegen -- export --out examples/fanout/docs/workflows examples/fanout/workflows/thumbnails.json\n         from the repository root (or `lambda-durable-codegen export workflows` in examples/fanout)",
        names.join(", ")
    );
}
