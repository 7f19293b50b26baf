//! Wire types from a folder of JSON Schema files.
//!
//! Layout rules for the folder (checked, with errors naming the file and JSON pointer):
//!
//! - one schema per file, `<TypeName>.json`, whose `title` is the file stem;
//! - a reference to another shape is a bare file name, `{"$ref": "ErrorObject.json"}`;
//! - nested object types are files of their own, so every generated type has the name of
//!   its file.
//!
//! The files are merged into one schema whose `definitions` are keyed by type name, and
//! typify generates one Rust type per definition. The `Timestamp` shape is replaced by a
//! handwritten type (see [`WireOptions::timestamp_type`]) because timestamps arrive in
//! several encodings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use typify::{TypeSpace, TypeSpaceSettings};

use crate::CodegenError;

/// Settings of the wire type generator.
#[derive(Debug, Clone)]
pub struct WireOptions {
    /// Path of the Rust type that replaces the `Timestamp` schema in generated code.
    pub timestamp_type: String,
    /// Extra derives applied to every generated type.
    pub derives: Vec<String>,
    /// Schemas replaced by handwritten types, as (schema name, Rust path) pairs, for
    /// scalars that need more than typify generates (for example a constructor that skips
    /// validation of values known to be valid).
    pub replacements: Vec<(String, String)>,
}

impl Default for WireOptions {
    fn default() -> Self {
        Self {
            timestamp_type: "crate::wire::Timestamp".to_string(),
            derives: vec!["PartialEq".to_string()],
            replacements: Vec::new(),
        }
    }
}

/// The result of [`generate`]: the Rust source and the files it was made from.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Formatted Rust source holding one type per schema file.
    pub source: String,
    /// Every file read, for `cargo:rerun-if-changed`.
    pub inputs: Vec<PathBuf>,
}

/// The name of the schema that [`WireOptions::timestamp_type`] replaces.
pub const TIMESTAMP_SCHEMA: &str = "Timestamp";

/// Reads every `*.json` file of `dir` and generates the Rust types they describe.
///
/// # Errors
///
/// A [`CodegenError`] naming the file (and JSON pointer) when a file cannot be read, is not
/// JSON, breaks the layout rules above, or cannot be turned into types.
pub fn generate(dir: &Path, options: &WireOptions) -> Result<Generated, CodegenError> {
    let files = schema_files(dir)?;
    let mut definitions = serde_json::Map::new();
    let stems: Vec<String> = files.iter().map(|(stem, _)| stem.clone()).collect();
    for (stem, path) in &files {
        let mut schema = read_json(path)?;
        check_title(path, stem, &schema)?;
        rewrite_refs(path, &stems, &mut schema, &mut String::new())?;
        if let Value::Object(map) = &mut schema {
            map.remove("$schema");
            map.remove("$id");
        }
        definitions.insert(stem.clone(), schema);
    }
    let source = types_from_definitions(&dir.display().to_string(), definitions, options).map_err(
        |err| match err {
            CodegenError::Typify {
                definition: Some(definition),
                message,
                ..
            } => CodegenError::Schema {
                path: dir.join(format!("{definition}.json")),
                pointer: String::new(),
                message: format!("type generation failed: {message}"),
            },
            other => other,
        },
    )?;
    Ok(Generated {
        source,
        inputs: std::iter::once(dir.to_path_buf())
            .chain(files.into_iter().map(|(_, path)| path))
            .collect(),
    })
}

/// Generates types from already merged `definitions` (keyed by type name, `$ref`s of the
/// form `#/definitions/<Name>`).
///
/// # Errors
///
/// [`CodegenError::Typify`] when typify rejects a schema, [`CodegenError::Render`] when the
/// output does not parse.
pub fn types_from_definitions(
    what: &str,
    definitions: serde_json::Map<String, Value>,
    options: &WireOptions,
) -> Result<String, CodegenError> {
    let defs: BTreeMap<String, schemars::schema::Schema> = definitions
        .into_iter()
        .map(|(name, schema)| {
            serde_json::from_value(schema)
                .map(|schema| (name.clone(), schema))
                .map_err(|err| CodegenError::Typify {
                    what: what.to_string(),
                    definition: Some(name.clone()),
                    message: format!("not a valid JSON Schema: {err}"),
                })
        })
        .collect::<Result<_, _>>()?;

    let mut settings = TypeSpaceSettings::default();
    settings.with_struct_builder(false);
    for derive in &options.derives {
        settings.with_derive(derive.clone());
    }
    if defs.contains_key(TIMESTAMP_SCHEMA) {
        settings.with_replacement(
            TIMESTAMP_SCHEMA,
            &options.timestamp_type,
            std::iter::empty(),
        );
    }
    for (schema, rust_type) in &options.replacements {
        if defs.contains_key(schema) {
            settings.with_replacement(schema, rust_type, std::iter::empty());
        }
    }
    let generated = match run_typify(&settings, defs.clone()) {
        Ok(generated) => generated,
        Err(message) => {
            return Err(CodegenError::Typify {
                what: what.to_string(),
                definition: find_culprit(&settings, &defs),
                message,
            })
        }
    };
    crate::render(what, generated)
}

/// Runs typify, turning its panics (it reports some unsupported schemas that way) into
/// errors instead of crashing the build script.
fn run_typify(
    settings: &TypeSpaceSettings,
    defs: BTreeMap<String, schemars::schema::Schema>,
) -> Result<proc_macro2::TokenStream, String> {
    std::panic::catch_unwind(move || {
        let mut space = TypeSpace::new(settings);
        space
            .add_ref_types(defs)
            .map(|()| space.to_stream())
            .map_err(|err| err.to_string())
    })
    .map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("typify panicked");
        format!("unsupported schema: {message}")
    })?
}

/// Finds the definition typify rejects: each one is tried with every other definition
/// replaced by a permissive schema (so references still resolve). Only runs on failure.
fn find_culprit(
    settings: &TypeSpaceSettings,
    defs: &BTreeMap<String, schemars::schema::Schema>,
) -> Option<String> {
    defs.keys().find_map(|suspect| {
        let isolated = defs
            .iter()
            .map(|(name, schema)| {
                let schema = if name == suspect {
                    schema.clone()
                } else {
                    schemars::schema::Schema::Bool(true)
                };
                (name.clone(), schema)
            })
            .collect();
        run_typify(settings, isolated)
            .err()
            .map(|_| suspect.clone())
    })
}

fn schema_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, CodegenError> {
    let io_error = |source| CodegenError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error)? {
        let path = entry.map_err(io_error)?.path();
        if path.extension().and_then(|ext| ext.to_str()) != Some("json") {
            continue;
        }
        let Some(stem) = path.file_stem().and_then(|stem| stem.to_str()) else {
            return Err(CodegenError::Schema {
                path,
                pointer: String::new(),
                message: "file name is not valid UTF-8".to_string(),
            });
        };
        files.push((stem.to_string(), path.clone()));
    }
    files.sort();
    if files.is_empty() {
        return Err(CodegenError::Schema {
            path: dir.to_path_buf(),
            pointer: String::new(),
            message: "no *.json schema files in this folder".to_string(),
        });
    }
    Ok(files)
}

pub(crate) fn read_json(path: &Path) -> Result<Value, CodegenError> {
    let text = std::fs::read_to_string(path).map_err(|source| CodegenError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| CodegenError::Json {
        path: path.to_path_buf(),
        source,
    })
}

fn check_title(path: &Path, stem: &str, schema: &Value) -> Result<(), CodegenError> {
    match schema.get("title").and_then(Value::as_str) {
        Some(title) if title == stem => Ok(()),
        Some(title) => Err(CodegenError::Schema {
            path: path.to_path_buf(),
            pointer: "/title".to_string(),
            message: format!("title {title:?} must equal the file name {stem:?}"),
        }),
        None => Err(CodegenError::Schema {
            path: path.to_path_buf(),
            pointer: "/title".to_string(),
            message: format!("missing title (expected {stem:?})"),
        }),
    }
}

/// Rewrites `{"$ref": "Name.json"}` into `{"$ref": "#/definitions/Name"}`.
fn rewrite_refs(
    path: &Path,
    stems: &[String],
    value: &mut Value,
    pointer: &mut String,
) -> Result<(), CodegenError> {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get_mut("$ref") {
                let Some(stem) = target.strip_suffix(".json") else {
                    return Err(CodegenError::Schema {
                        path: path.to_path_buf(),
                        pointer: format!("{pointer}/$ref"),
                        message: format!(
                            "reference {target:?} must name a schema file of this folder, like \"ErrorObject.json\""
                        ),
                    });
                };
                if !stems.iter().any(|known| known == stem) {
                    return Err(CodegenError::Schema {
                        path: path.to_path_buf(),
                        pointer: format!("{pointer}/$ref"),
                        message: format!("reference to unknown schema file {target:?}"),
                    });
                }
                *target = format!("#/definitions/{stem}");
            }
            for (key, child) in map.iter_mut() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                rewrite_refs(path, stems, child, pointer)?;
                pointer.truncate(len);
            }
            Ok(())
        }
        Value::Array(items) => {
            for (index, child) in items.iter_mut().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{index}"));
                rewrite_refs(path, stems, child, pointer)?;
                pointer.truncate(len);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
