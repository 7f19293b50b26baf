//! Typed workflow helpers from declaration files.
//!
//! A declaration (`workflows/<name>.json`, format in [`declaration`] and in the meta-schema
//! `schema/workflow.schema.json`) names a workflow, its input and output types and its
//! durable operations. [`generate`] turns it into Rust: the types (typify), and a
//! `Workflow` struct whose methods are the declared operations, with their checkpoint names
//! and configuration baked in, plus a `handler` adapter for the typed handler signature
//! `async fn(Input, Workflow) -> Result<Output, E>`. Generated code refers to the runtime
//! only through `::lambda_durable::__codegen`, so a user's crate depends on `lambda-durable`
//! alone.
//!
//! From a build script, in three lines:
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     lambda_durable_codegen::workflow::build("workflows")?;
//!     Ok(())
//! }
//! ```
//!
//! and in the crate, `mod order { lambda_durable::include_workflow!("order"); }`.
//!
//! Declarations are checked before anything is generated: their shape against the
//! meta-schema, the JSON Schema keywords their schemas use (constructs the generator cannot
//! handle, misspelt keywords and keyword values of the wrong shape are errors), and then
//! names the service would reject, duplicate names, names that collide once made Rust
//! identifiers, `$ref`s to unknown definitions, out-of-range values and configurations that
//! cannot be right (zero delays, a `maxDelay` below the `initialDelay`, filters that can
//! never matter). Every error names the file, the JSON pointer and the problem, in `Debug`
//! as in `Display`, so a build script that returns it with `?` prints it readably.
//!
//! The generated `handler` checks an execution's input against the declared input schema
//! before the handler runs, so every constraint of the declaration holds, also those the
//! Rust types cannot express. Each generated method returns the runtime's builder with the
//! declaration applied, so one call can still set a retry override, a tenant id, item names
//! or a serdes, and documents the declared configuration.

pub mod declaration;
pub mod export;

mod bundle;
mod describe;

mod generate;
mod keywords;
mod names;
mod nesting;
mod parse;
mod validate;

use std::path::{Path, PathBuf};

use crate::CodegenError;

pub use declaration::meta_schema;

/// Settings of the workflow generator.
#[derive(Debug, Clone)]
pub struct WorkflowOptions {
    /// The path through which generated code reaches the runtime.
    pub runtime_path: String,
}

impl Default for WorkflowOptions {
    fn default() -> Self {
        Self {
            runtime_path: "::lambda_durable::__codegen".to_string(),
        }
    }
}

/// Generates every `*.json` declaration of `dir` into `$OUT_DIR/<file stem>.rs` and prints
/// the `cargo:rerun-if-changed` lines for the folder and each file. Meant for `build.rs`;
/// `dir` is relative to the package root. Returns the files written.
///
/// # Errors
///
/// [`CodegenError::MissingEnv`] outside a build script, and the errors of [`generate`] for
/// the first declaration that is wrong.
pub fn build(dir: impl AsRef<Path>) -> Result<Vec<PathBuf>, CodegenError> {
    let out_dir = std::env::var_os("OUT_DIR").ok_or(CodegenError::MissingEnv("OUT_DIR"))?;
    let dir = dir.as_ref();
    println!("cargo:rerun-if-changed={}", dir.display());
    let files = declaration_files(dir)?;
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    write_all(&files, Path::new(&out_dir), &WorkflowOptions::default())
}

/// Generates the declarations `files` into `out_dir`, one `<file stem>.rs` each.
///
/// # Errors
///
/// The errors of [`generate_file`], and [`CodegenError::Io`] when a file cannot be written.
pub fn write_all(
    files: &[PathBuf],
    out_dir: &Path,
    options: &WorkflowOptions,
) -> Result<Vec<PathBuf>, CodegenError> {
    let mut written = Vec::with_capacity(files.len());
    for file in files {
        let source = generate_file(file, options)?;
        let stem = file
            .file_stem()
            .and_then(|stem| stem.to_str())
            .ok_or_else(|| CodegenError::Schema {
                path: file.clone(),
                pointer: String::new(),
                message: "file name is not valid UTF-8".to_string(),
            })?;
        let target = out_dir.join(format!("{stem}.rs"));
        std::fs::write(&target, source).map_err(|source| CodegenError::Io {
            path: target.clone(),
            source,
        })?;
        written.push(target);
    }
    Ok(written)
}

/// The `*.json` files of `dir`, sorted.
///
/// # Errors
///
/// [`CodegenError::Io`] when the folder cannot be read, [`CodegenError::Schema`] when it
/// holds no declaration.
pub fn declaration_files(dir: &Path) -> Result<Vec<PathBuf>, CodegenError> {
    let io_error = |source| CodegenError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error)? {
        let path = entry.map_err(io_error)?.path();
        if path.extension().and_then(|ext| ext.to_str()) == Some("json") {
            files.push(path);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(CodegenError::Schema {
            path: dir.to_path_buf(),
            pointer: String::new(),
            message: "no *.json workflow declarations in this folder".to_string(),
        });
    }
    Ok(files)
}

/// Reads the declaration `path` and generates its Rust source.
///
/// # Errors
///
/// See [`generate`]; also [`CodegenError::Io`] when the file cannot be read.
pub fn generate_file(path: &Path, options: &WorkflowOptions) -> Result<String, CodegenError> {
    let text = std::fs::read_to_string(path).map_err(|source| CodegenError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    generate(path, &text, options)
}

/// Generates the Rust source of the declaration `text`; `path` names it in errors.
///
/// # Errors
///
/// [`CodegenError::Json`] when the text is not JSON; [`CodegenError::Schema`] (with the
/// JSON pointer of the problem) when it does not follow the meta-schema or breaks a rule
/// of declarations; [`CodegenError::Typify`] when a JSON Schema of it cannot be turned
/// into types; [`CodegenError::Template`] or [`CodegenError::Render`] for generator bugs.
pub fn generate(
    path: &Path,
    text: &str,
    options: &WorkflowOptions,
) -> Result<String, CodegenError> {
    let declaration = load(path, text)?;
    generate::generate(path, &declaration, options)
}

/// Reads the declaration `path` and checks it as [`generate`] does, without generating
/// anything (for the exports of [`export`]).
///
/// # Errors
///
/// [`CodegenError::Io`] when the file cannot be read, [`CodegenError::Json`] and
/// [`CodegenError::Schema`] as for [`generate`].
pub fn read_declaration(path: &Path) -> Result<declaration::Declaration, CodegenError> {
    let text = std::fs::read_to_string(path).map_err(|source| CodegenError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    load(path, &text)
}

/// Reads and checks the declaration `text`.
fn load(path: &Path, text: &str) -> Result<declaration::Declaration, CodegenError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|source| CodegenError::Json {
            path: path.to_path_buf(),
            source,
        })?;
    let declaration = parse::parse(path, &value)?;
    validate::validate(path, &declaration)?;
    Ok(declaration)
}
