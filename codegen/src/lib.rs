//! Code generation for `lambda-durable`.
//!
//! This crate turns JSON Schemas into Rust source at build time:
//!
//! - [`wire`] generates the protocol's wire types from the schema files of the SDK's
//!   `schema/wire/` folder. The SDK's own `build.rs` calls it; when the protocol changes,
//!   one edits a schema file and rebuilds.
//! - [`workflow`] generates typed workflow helpers from a user's declaration files
//!   (`workflows/*.json`): the declared types, and a `Workflow` struct whose methods are the
//!   declared durable operations. A user's `build.rs` calls [`workflow::build`];
//!   [`workflow::export`] writes a declaration's JSON Schemas and diagrams (Mermaid, DOT).
//!   The binary `lambda-durable-codegen` prints what a declaration generates and exports
//!   the schemas and diagrams (`lambda-durable-codegen --help`).
//!
//! Every generator renders through one path ([`render`]): a token stream is parsed with
//! `syn` and formatted with `prettyplease`, so the build scripts and the snapshot tests see
//! exactly the same text.
//!
//! ```no_run
//! // build.rs of a crate that wants the wire types of a schema folder
//! let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
//! let generated = lambda_durable_codegen::wire::generate(
//!     std::path::Path::new("schema/wire"),
//!     &lambda_durable_codegen::wire::WireOptions::default(),
//! )
//! .unwrap();
//! for file in &generated.inputs {
//!     println!("cargo:rerun-if-changed={}", file.display());
//! }
//! std::fs::write(out.join("wire.rs"), generated.source).unwrap();
//! ```

pub mod wire;
pub mod workflow;

mod error;

pub use error::CodegenError;

/// Formats generated tokens as Rust source: parse with `syn`, print with `prettyplease`.
///
/// `what` names the generated unit in the error when the tokens do not parse.
///
/// # Errors
///
/// [`CodegenError::Render`] when the tokens are not a valid Rust file, which is a bug in
/// the generator or its templates.
pub fn render(what: &str, tokens: proc_macro2::TokenStream) -> Result<String, CodegenError> {
    let file = syn::parse2::<syn::File>(tokens).map_err(|err| CodegenError::Render {
        what: what.to_string(),
        message: err.to_string(),
    })?;
    Ok(prettyplease::unparse(&file))
}
