//! Generates the protocol's wire types from `schema/wire/*.json` into `OUT_DIR/wire.rs`.

use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest_dir = PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?,
    );
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    let schema_dir = manifest_dir.join("schema").join("wire");
    let options = lambda_durable_codegen::wire::WireOptions {
        // Operation ids are minted on every operation; the handwritten type validates the
        // schema's pattern without a regular expression.
        replacements: vec![(
            "OperationId".to_string(),
            "crate::wire::OperationId".to_string(),
        )],
        // A newer service may send enumeration values this version does not know; they
        // parse, and replay fails only if it reaches an operation it cannot interpret.
        unknown_value_type: Some("crate::wire::UnknownValue".to_string()),
        ..lambda_durable_codegen::wire::WireOptions::default()
    };
    let generated = lambda_durable_codegen::wire::generate(&schema_dir, &options)?;
    for input in &generated.inputs {
        println!("cargo:rerun-if-changed={}", input.display());
    }
    println!("cargo:rerun-if-changed=build.rs");
    write_if_changed(&out_dir.join("wire.rs"), &generated.source)?;
    Ok(())
}

fn write_if_changed(path: &Path, contents: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(());
    }
    std::fs::write(path, contents)
}
