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
//!
//! Two settings keep a protocol change from breaking the code that uses the types:
//!
//! - [`WireOptions::non_exhaustive`] marks every struct and enum `#[non_exhaustive]` and
//!   gives every struct a way to be built outside its crate: `Default` when all its fields
//!   are optional, else `new` taking the required fields. A new optional field or enum value
//!   in a schema is then not a breaking change for the users of the types.
//! - [`WireOptions::unknown_value_type`] makes string enumerations *open*: a value the
//!   schema does not list parses into a last variant, `Unknown(..)`, that keeps it, instead
//!   of failing the whole document. The code reading the value decides what an unknown
//!   value means (the SDK fails only the replay that reaches such an operation).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use quote::ToTokens;
use serde_json::Value;
use typify::{TypeSpace, TypeSpaceImpl, TypeSpaceSettings};

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
    /// Mark every generated enum and struct with named fields `#[non_exhaustive]`, and generate `new(..)`
    /// (taking the required fields) for structs that have required fields and `Default`
    /// for those that do not, so that code outside the crate can still build them.
    pub non_exhaustive: bool,
    /// Path of a `Copy` type that keeps an enumeration value the schema does not list
    /// (it must implement `From<&str>`, `as_str(&self) -> &str`, `Clone`, `Copy`, `Debug`,
    /// `Eq`, `Hash` and `Ord`). When set, every string enumeration gets a last variant
    /// `Unknown(<this type>)`, its `FromStr` and `From<&str>` never fail, and it
    /// deserializes any string. `None` keeps enumerations closed: an unlisted value is a
    /// parse error.
    pub unknown_value_type: Option<String>,
}

impl Default for WireOptions {
    fn default() -> Self {
        Self {
            timestamp_type: "crate::wire::Timestamp".to_string(),
            derives: vec!["PartialEq".to_string()],
            replacements: Vec::new(),
            non_exhaustive: true,
            unknown_value_type: None,
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
    let raw_definitions = definitions.clone();
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
    let open_enums = match &options.unknown_value_type {
        Some(unknown) => open_enum_definitions(what, &raw_definitions, unknown, options)?,
        None => Vec::new(),
    };

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
    for open in &open_enums {
        settings.with_replacement(
            &open.name,
            &open.name,
            [TypeSpaceImpl::FromStr, TypeSpaceImpl::Display].into_iter(),
        );
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
    let mut tokens = generated;
    for open in &open_enums {
        tokens.extend(open.tokens.clone());
    }
    let mut file = syn::parse2::<syn::File>(tokens).map_err(|err| CodegenError::Render {
        what: what.to_string(),
        message: err.to_string(),
    })?;
    if options.non_exhaustive {
        make_non_exhaustive(&mut file);
    }
    crate::render(what, file.into_token_stream())
}

/// A string enumeration generated here instead of by typify, with an `Unknown` variant.
struct OpenEnum {
    name: String,
    tokens: proc_macro2::TokenStream,
}

/// The open enumerations of `definitions`: every schema of type string with an `enum` of
/// strings.
///
/// typify only generates closed enumerations (an unlisted value is a parse error) and has no
/// setting for a catch-all variant, so these schemas are replaced (typify still resolves
/// references to them) and their types are generated here, with the same variant names
/// (upper camel case of the value), plus `Unknown` and conversions that never fail.
fn open_enum_definitions(
    what: &str,
    definitions: &serde_json::Map<String, Value>,
    unknown: &str,
    options: &WireOptions,
) -> Result<Vec<OpenEnum>, CodegenError> {
    let unknown_type: syn::Type = syn::parse_str(unknown).map_err(|err| CodegenError::Typify {
        what: what.to_string(),
        definition: None,
        message: format!("unknown_value_type {unknown:?} is not a Rust type: {err}"),
    })?;
    let mut out = Vec::new();
    for (name, schema) in definitions {
        let Some(values) = schema.get("enum").and_then(Value::as_array) else {
            continue;
        };
        if schema.get("type").and_then(Value::as_str) != Some("string") {
            continue;
        }
        let values: Option<Vec<&str>> = values.iter().map(Value::as_str).collect();
        let Some(values) = values else {
            continue;
        };
        let fail = |message: String| CodegenError::Typify {
            what: what.to_string(),
            definition: Some(name.clone()),
            message,
        };
        let mut variants = Vec::new();
        for value in &values {
            let variant = heck::ToUpperCamelCase::to_upper_camel_case(*value);
            if variant.is_empty()
                || variant == "Unknown"
                || variants.contains(&variant)
                || syn::parse_str::<syn::Ident>(&variant).is_err()
            {
                return Err(fail(format!(
                    "enum value {value:?} gives the variant name {variant:?}, which is empty, not an identifier, taken, or reserved for unknown values"
                )));
            }
            variants.push(variant);
        }
        let ident = syn::parse_str::<syn::Ident>(name)
            .map_err(|err| fail(format!("not a Rust type name: {err}")))?;
        let description = schema
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("A string enumeration.");
        let variant_idents: Vec<syn::Ident> = variants
            .iter()
            .map(|variant| quote::format_ident!("{variant}"))
            .collect();
        let variant_docs: Vec<String> = values.iter().map(|value| format!("`{value}`")).collect();
        let mut derives: Vec<syn::Path> = vec![
            syn::parse_quote!(Clone),
            syn::parse_quote!(Copy),
            syn::parse_quote!(Debug),
            syn::parse_quote!(Eq),
            syn::parse_quote!(Hash),
            syn::parse_quote!(Ord),
            syn::parse_quote!(PartialEq),
            syn::parse_quote!(PartialOrd),
        ];
        for derive in &options.derives {
            let path: syn::Path = syn::parse_str(derive)
                .map_err(|err| fail(format!("derive {derive:?} is not a path: {err}")))?;
            let text = path.to_token_stream().to_string();
            if !derives
                .iter()
                .any(|known| known.to_token_stream().to_string() == text)
            {
                derives.push(path);
            }
        }
        let unknown_doc = format!(
            "A value that this version of the `{name}` schema does not list, kept as received."
        );
        let tokens = quote::quote! {
            #[doc = #description]
            ///
            /// Open: a value the schema does not list parses into [`Self::Unknown`] instead of
            /// failing the document.
            #[derive(#(#derives),*)]
            pub enum #ident {
                #( #[doc = #variant_docs] #variant_idents, )*
                #[doc = #unknown_doc]
                Unknown(#unknown_type),
            }

            impl #ident {
                /// The values the schema lists, in its order.
                pub const KNOWN: &'static [Self] = &[#(Self::#variant_idents),*];

                /// The value as it is written on the wire.
                pub fn as_str(&self) -> &str {
                    match self {
                        #( Self::#variant_idents => #values, )*
                        Self::Unknown(value) => value.as_str(),
                    }
                }

                /// Whether the schema does not list this value.
                pub fn is_unknown(&self) -> bool {
                    matches!(self, Self::Unknown(_))
                }
            }

            impl ::std::fmt::Display for #ident {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }

            impl ::std::convert::From<&str> for #ident {
                fn from(value: &str) -> Self {
                    match value {
                        #( #values => Self::#variant_idents, )*
                        other => Self::Unknown(<#unknown_type as ::std::convert::From<&str>>::from(other)),
                    }
                }
            }

            impl ::std::convert::From<&::std::string::String> for #ident {
                fn from(value: &::std::string::String) -> Self {
                    Self::from(value.as_str())
                }
            }

            impl ::std::convert::From<::std::string::String> for #ident {
                fn from(value: ::std::string::String) -> Self {
                    Self::from(value.as_str())
                }
            }

            impl ::std::str::FromStr for #ident {
                type Err = ::std::convert::Infallible;
                fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                    Ok(Self::from(value))
                }
            }

            impl ::serde::Serialize for #ident {
                fn serialize<S: ::serde::Serializer>(
                    &self,
                    serializer: S,
                ) -> ::std::result::Result<S::Ok, S::Error> {
                    serializer.serialize_str(self.as_str())
                }
            }

            impl<'de> ::serde::Deserialize<'de> for #ident {
                fn deserialize<D: ::serde::Deserializer<'de>>(
                    deserializer: D,
                ) -> ::std::result::Result<Self, D::Error> {
                    let value =
                        <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(
                            deserializer,
                        )?;
                    Ok(Self::from(&*value))
                }
            }
        };
        out.push(OpenEnum {
            name: name.clone(),
            tokens,
        });
    }
    Ok(out)
}

/// Marks every top-level enum and struct with named fields `#[non_exhaustive]` and gives each such struct a way
/// to be built outside the crate: `new(required fields)`, or `Default` when no field is
/// required (typify already implements it for most of those).
fn make_non_exhaustive(file: &mut syn::File) {
    let has_default: std::collections::BTreeSet<String> = file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Impl(imp) => {
                let trait_path = imp.trait_.as_ref()?.1.segments.last()?.ident.to_string();
                (trait_path == "Default").then(|| type_name(&imp.self_ty))?
            }
            _ => None,
        })
        .collect();
    let mut extra = Vec::new();
    for item in &mut file.items {
        match item {
            syn::Item::Enum(item) => {
                item.attrs.push(syn::parse_quote!(#[non_exhaustive]));
            }
            syn::Item::Struct(item) => {
                // Newtypes (a validated string, an object without declared fields) are
                // built through their conversions; only structs with fields grow.
                let syn::Fields::Named(fields) = &item.fields else {
                    continue;
                };
                item.attrs.push(syn::parse_quote!(#[non_exhaustive]));
                let ident = &item.ident;
                let (required, optional): (Vec<&syn::Field>, Vec<&syn::Field>) = fields
                    .named
                    .iter()
                    .partition(|field| !has_serde_default(field));
                if required.is_empty() {
                    if !has_default.contains(&ident.to_string()) {
                        extra.push(syn::parse_quote! {
                            impl ::std::default::Default for #ident {
                                fn default() -> Self {
                                    Self { #( #optional: ::std::default::Default::default(), )* }
                                }
                            }
                        });
                    }
                    continue;
                }
                let names: Vec<&syn::Ident> = required
                    .iter()
                    .filter_map(|field| field.ident.as_ref())
                    .collect();
                let types: Vec<&syn::Type> = required.iter().map(|field| &field.ty).collect();
                let optional: Vec<&syn::Ident> = optional
                    .iter()
                    .filter_map(|field| field.ident.as_ref())
                    .collect();
                let doc = format!(
                    "The `{ident}` with these required fields and every optional field absent (or empty)."
                );
                let allow: Option<syn::Attribute> = (names.len() > 7)
                    .then(|| syn::parse_quote!(#[allow(clippy::too_many_arguments)]));
                extra.push(syn::parse_quote! {
                    impl #ident {
                        #[doc = #doc]
                        #allow
                        pub fn new(#( #names: #types ),*) -> Self {
                            Self {
                                #( #names, )*
                                #( #optional: ::std::default::Default::default(), )*
                            }
                        }
                    }
                });
            }
            _ => {}
        }
    }
    file.items.extend(extra);
}

fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// Whether the field has `#[serde(default)]` (optional in the schema, or a list that may be
/// absent).
fn has_serde_default(field: &syn::Field) -> bool {
    field.attrs.iter().any(|attr| {
        if !attr.path().is_ident("serde") {
            return false;
        }
        let mut found = false;
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("default") {
                found = true;
            }
            if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        });
        found
    })
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
