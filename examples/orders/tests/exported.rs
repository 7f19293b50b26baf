//! `docs/workflows/` holds what `workflows/order.json` and `workflows/shipping.json` export
//! (the JSON Schemas of their inputs, outputs and operation payloads, and their diagrams:
//! `order.md` with Mermaid, `order.dot`, ...). This test fails when they are out of date
//! with the declarations.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use lambda_durable_codegen::workflow::export;

#[test]
fn the_exported_schemas_and_diagram_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = root.join("docs/workflows");
    for declaration in ["order", "shipping"] {
        let file = root.join(format!("workflows/{declaration}.json"));
        let stale = export::stale(&file, &out).unwrap();
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
            "{} out of date with workflows/{declaration}.json; regenerate with\n           cargo run -p lambda-durable-codegen -- export --out examples/orders/docs/workflows examples/orders/workflows\n         from the repository root (or `lambda-durable-codegen export workflows` in examples/orders)",
            names.join(", ")
        );
    }
}
