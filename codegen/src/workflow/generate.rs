//! From a checked declaration to Rust source: typify makes the types, the tera templates
//! lay out the `Workflow` struct and its methods, and this module makes every name and
//! literal the templates use. Output goes through the shared render path
//! (`syn` + `prettyplease`).

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::Path;

use proc_macro2::{Delimiter, Group, Punct, Spacing, TokenStream, TokenTree};
use serde::Serialize;
use serde_json::Value;
use typify::{TypeDetails, TypeId, TypeSpace, TypeSpaceSettings};

use super::declaration::{
    Completion, Declaration, DurationSpec, Jitter, Nesting, Operation, Polling, RetryFilter,
    RetryPolicy, StepSemantics,
};
use super::names;
use super::parse::escape_pointer;
use super::WorkflowOptions;
use crate::CodegenError;

const TEMPLATES: &[(&str, &str)] = &[
    ("macros.rs.tera", include_str!("templates/macros.rs.tera")),
    (
        "workflow.rs.tera",
        include_str!("templates/workflow.rs.tera"),
    ),
    ("step.rs.tera", include_str!("templates/step.rs.tera")),
    ("wait.rs.tera", include_str!("templates/wait.rs.tera")),
    (
        "callback.rs.tera",
        include_str!("templates/callback.rs.tera"),
    ),
    ("invoke.rs.tera", include_str!("templates/invoke.rs.tera")),
    (
        "child_context.rs.tera",
        include_str!("templates/child_context.rs.tera"),
    ),
    ("map.rs.tera", include_str!("templates/map.rs.tera")),
    (
        "parallel.rs.tera",
        include_str!("templates/parallel.rs.tera"),
    ),
    (
        "wait_for_condition.rs.tera",
        include_str!("templates/wait_for_condition.rs.tera"),
    ),
];

/// Type names the generated code defines or uses as generic parameters; a declared type
/// may not take them.
const RESERVED_TYPE_NAMES: &[&str] = &["Workflow", "F", "Fut", "E", "P", "Self"];

/// Crates typify's output names with a leading `::`, reached through the runtime instead.
const REROUTED_CRATES: &[&str] = &["serde", "serde_json", "regress"];

pub(crate) fn generate(
    path: &Path,
    declaration: &Declaration,
    options: &WorkflowOptions,
) -> Result<String, CodegenError> {
    let what = path.display().to_string();
    let rt = options.runtime_path.trim_end_matches("::").to_string();
    let types = Types::build(path, declaration, options)?;
    let tera = templates(&what)?;

    let mut methods = Vec::with_capacity(declaration.operations.len());
    // The declared error types of steps, each made a `TypedError` once.
    let mut errors: Vec<String> = Vec::new();
    for (index, op) in declaration.operations.iter().enumerate() {
        let pointer = format!("/operations/{index}");
        if let Operation::Step(step) = op {
            if step.error.is_some() {
                let error_pointer = format!("{pointer}/error");
                let ty = types.ty(&error_pointer).unwrap_or_default();
                let external = step
                    .error
                    .as_ref()
                    .and_then(super::contracts::only_ref)
                    .filter(|target| super::contracts::split(target).0.is_some());
                if let Some(target) = external {
                    return Err(CodegenError::Schema {
                        path: path.to_path_buf(),
                        pointer: error_pointer,
                        message: format!("a step's error must be declared in this file, where it is made this workflow's error type; {target:?} is another declaration's type: copy it into this file's definitions"),
                    });
                }
                if !types.named_pointers.contains(&error_pointer) {
                    return Err(CodegenError::Schema {
                        path: path.to_path_buf(),
                        pointer: error_pointer,
                        message: format!("a step's error must be an object or an enum (a type of its own, to be made an error type), not `{ty}`"),
                    });
                }
                if !errors.contains(&ty) {
                    errors.push(ty);
                }
            }
        }
        let (template, context) = operation_context(path, op, &pointer, &types, &rt)?;
        let text = render_template(&tera, &what, template, &context)?;
        // Parse each method alone so that a template bug names its template.
        syn::parse_str::<syn::ImplItemFn>(&text).map_err(|err| CodegenError::Render {
            what: format!("{what} ({template} for {pointer})"),
            message: err.to_string(),
        })?;
        methods.push(text);
    }

    let workflow = WorkflowContext {
        rt: rt.clone(),
        name: declaration.name.clone(),
        function: declaration.function.clone(),
        doc: workflow_doc(declaration),
        input_schema: serde_json::to_string(&super::bundle::standalone(
            declaration,
            &declaration.input,
            &format!("{} input", declaration.name),
        ))
        .unwrap_or_default(),
        input: types.top("/input"),
        output: types.top("/output"),
        methods,
        errors: {
            let generated = types.tokens.to_string();
            errors
                .into_iter()
                .map(|ty| ErrorType {
                    display: generated.contains(&format!("Display for {ty} ")),
                    ty,
                })
                .collect()
        },
    };
    let text = render_template(&tera, &what, "workflow.rs.tera", &workflow)?;
    let helpers: TokenStream =
        text.parse()
            .map_err(|err: proc_macro2::LexError| CodegenError::Render {
                what: format!("{what} (workflow.rs.tera)"),
                message: err.to_string(),
            })?;
    let mut tokens = finish_types(&what, types.tokens, &rt)?;
    tokens.extend(helpers);
    crate::render(&what, reroute(tokens, &rt))
}

/// The type of every schema of the declaration, and typify's output.
struct Types {
    tokens: TokenStream,
    /// Rust type (as source text) and whether typify defined a type by that exact name,
    /// by JSON pointer of the schema.
    by_pointer: BTreeMap<String, (String, String)>,
    /// The pointers whose schema made a named type (a struct, an enum or a newtype).
    named_pointers: std::collections::BTreeSet<String>,
}

/// One schema to make a type for.
struct Request {
    pointer: String,
    schema: Value,
    hint: Option<String>,
}

impl Types {
    fn build(
        path: &Path,
        declaration: &Declaration,
        options: &WorkflowOptions,
    ) -> Result<Self, CodegenError> {
        let fail = |pointer: &str, message: String| CodegenError::Schema {
            path: path.to_path_buf(),
            pointer: pointer.to_string(),
            message,
        };
        // References into other declarations become references to placeholder
        // definitions, which typify replaces by the types generated for those
        // declarations (`super::payments::Output`).
        let mut externals = Externals::new(declaration, options);
        let mut declaration = declaration.clone();
        for (pointer, schema) in mutable_schemas(&mut declaration) {
            externals
                .rewrite(schema)
                .map_err(|message| fail(&pointer, message))?;
        }
        let declaration = &declaration;
        let mut definitions = BTreeMap::new();
        for (key, schema) in &declaration.definitions {
            let pointer = format!("/definitions/{}", escape_pointer(key));
            let schema = to_schema(schema).map_err(|message| fail(&pointer, message))?;
            definitions.insert(key.clone(), schema);
        }
        for placeholder in externals.paths.keys() {
            definitions.insert(placeholder.clone(), schemars::schema::Schema::Bool(true));
        }

        let mut requests = Vec::new();
        for key in declaration.definitions.keys() {
            requests.push(Request {
                pointer: format!("/definitions/{}", escape_pointer(key)),
                schema: serde_json::json!({ "$ref": format!("#/definitions/{}", escape_pointer(key)) }),
                hint: None,
            });
        }
        requests.push(Request {
            pointer: "/input".to_string(),
            schema: declaration.input.clone(),
            hint: Some("Input".to_string()),
        });
        requests.push(Request {
            pointer: "/output".to_string(),
            schema: declaration.output.clone(),
            hint: Some("Output".to_string()),
        });
        for (index, op) in declaration.operations.iter().enumerate() {
            let stem = names::type_stem(op.name()).unwrap_or_default();
            for (field, schema) in op.schemas() {
                requests.push(Request {
                    pointer: format!("/operations/{index}/{field}"),
                    schema: schema.clone(),
                    hint: Some(format!("{stem}{}", type_suffix(op, field))),
                });
            }
        }

        let mut settings = TypeSpaceSettings::default();
        settings.with_struct_builder(false);
        settings.with_derive("PartialEq".to_string());
        for (placeholder, rust_path) in &externals.paths {
            settings.with_replacement(
                sanitize_type_name(placeholder),
                rust_path,
                std::iter::empty(),
            );
        }
        let mut space = TypeSpace::new(&settings);
        catch_typify(|| space.add_ref_types(definitions.clone()))
            .map_err(|message| fail("/definitions", format!("cannot make types: {message}")))?;

        let mut by_pointer = BTreeMap::new();
        let mut named_pointers = std::collections::BTreeSet::new();
        // Named types by name: the pointer and schema that made them.
        let mut named: BTreeMap<String, (String, TypeId, Value)> = BTreeMap::new();
        for request in &requests {
            let schema =
                to_schema(&request.schema).map_err(|message| fail(&request.pointer, message))?;
            let id = catch_typify(|| space.add_type_with_name(&schema, request.hint.clone()))
                .map_err(|message| {
                    fail(&request.pointer, format!("cannot make a type: {message}"))
                })?;
            let ty = space
                .get_type(&id)
                .map_err(|err| fail(&request.pointer, err.to_string()))?;
            let is_named = matches!(
                ty.details(),
                TypeDetails::Struct(_) | TypeDetails::Enum(_) | TypeDetails::Newtype(_)
            );
            let name = ty.name();
            if is_named {
                named_pointers.insert(request.pointer.clone());
            }
            let is_ref = request.schema.get("$ref").is_some();
            if is_named && !is_ref {
                match named.get(&name) {
                    // typify hands out the existing type when the name is taken: fine for
                    // the same schema, a silent mix-up for another one.
                    Some((other, other_id, other_schema))
                        if *other_id != id || *other_schema != request.schema =>
                    {
                        return Err(fail(
                            &request.pointer,
                            format!("the type made from this schema is named `{name}`, like the type of {other}; rename one of them"),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        named.insert(
                            name.clone(),
                            (request.pointer.clone(), id.clone(), request.schema.clone()),
                        );
                    }
                }
            } else if is_named && request.pointer.starts_with("/definitions/") {
                let definition = declaration
                    .definitions
                    .iter()
                    .find(|(key, _)| {
                        format!("/definitions/{}", escape_pointer(key)) == request.pointer
                    })
                    .map(|(_, schema)| schema.clone())
                    .unwrap_or_default();
                named.entry(name.clone()).or_insert((
                    request.pointer.clone(),
                    id.clone(),
                    definition,
                ));
            }
            by_pointer.insert(request.pointer.clone(), (ty.ident().to_string(), name));
        }

        // Types typify made on its own (nested objects) may not collide either.
        let mut seen = BTreeMap::new();
        for ty in space.iter_types() {
            if matches!(
                ty.details(),
                TypeDetails::Struct(_) | TypeDetails::Enum(_) | TypeDetails::Newtype(_)
            ) {
                let name = ty.name();
                let source = named.get(&name).map(|(pointer, _, _)| pointer.clone());
                if seen.insert(name.clone(), ()).is_some() {
                    return Err(fail(
                        source.as_deref().unwrap_or(""),
                        format!(
                            "two types are named `{name}`; rename a definition or an operation"
                        ),
                    ));
                }
                let reserved = RESERVED_TYPE_NAMES.contains(&name.as_str())
                    || is_branch_generic(&name)
                    || (name == "Input"
                        && by_pointer.get("/input").is_some_and(|(_, n)| n != "Input"))
                    || (name == "Output"
                        && by_pointer
                            .get("/output")
                            .is_some_and(|(_, n)| n != "Output"));
                if reserved {
                    return Err(fail(
                        source.as_deref().unwrap_or(""),
                        format!("the type name `{name}` is taken by the generated code; rename the definition or operation it comes from"),
                    ));
                }
            }
        }

        Ok(Types {
            tokens: space.to_stream(),
            by_pointer,
            named_pointers,
        })
    }

    /// The Rust type of the schema at `pointer`.
    fn ty(&self, pointer: &str) -> Option<String> {
        self.by_pointer.get(pointer).map(|(ty, _)| ty.clone())
    }

    fn top(&self, pointer: &str) -> TopType {
        let (ty, name) = self.by_pointer.get(pointer).cloned().unwrap_or_default();
        let own = if pointer == "/input" {
            "Input"
        } else {
            "Output"
        };
        TopType {
            alias: name != own,
            ty,
        }
    }
}

/// The schemas of a declaration that may hold references, with their pointers.
fn mutable_schemas(declaration: &mut Declaration) -> Vec<(String, &mut Value)> {
    let mut schemas: Vec<(String, &mut Value)> = vec![
        ("/input".to_string(), &mut declaration.input),
        ("/output".to_string(), &mut declaration.output),
    ];
    for (key, schema) in declaration.definitions.iter_mut() {
        schemas.push((format!("/definitions/{}", escape_pointer(key)), schema));
    }
    for (index, op) in declaration.operations.iter_mut().enumerate() {
        let pointer = format!("/operations/{index}");
        let fields: Vec<(&str, Option<&mut Value>)> = match op {
            Operation::Step(op) => vec![
                ("input", op.input.as_mut()),
                ("output", op.output.as_mut()),
                ("error", op.error.as_mut()),
            ],
            Operation::Callback(op) => vec![("output", op.output.as_mut())],
            Operation::Invoke(op) => {
                vec![("input", op.input.as_mut()), ("output", op.output.as_mut())]
            }
            Operation::ChildContext(op) => vec![("output", op.output.as_mut())],
            Operation::Map(op) => vec![
                ("input", Some(&mut op.input)),
                ("output", op.output.as_mut()),
            ],
            Operation::Parallel(op) => vec![("output", op.output.as_mut())],
            Operation::WaitForCondition(op) => vec![("state", Some(&mut op.state))],
            Operation::Wait(_) => Vec::new(),
        };
        for (field, schema) in fields {
            if let Some(schema) = schema {
                schemas.push((format!("{pointer}/{field}"), schema));
            }
        }
    }
    schemas
}

/// The types of other declarations that a declaration's references name.
struct Externals<'a> {
    declaration: &'a Declaration,
    options: &'a WorkflowOptions,
    /// Placeholder definition -> Rust path of the type.
    paths: BTreeMap<String, String>,
    /// Rust path -> placeholder definition.
    placeholders: BTreeMap<String, String>,
    /// The sanitized names of the declaration's own definitions.
    taken: std::collections::BTreeSet<String>,
}

impl<'a> Externals<'a> {
    fn new(declaration: &'a Declaration, options: &'a WorkflowOptions) -> Self {
        Self {
            declaration,
            options,
            paths: BTreeMap::new(),
            placeholders: BTreeMap::new(),
            taken: declaration
                .definitions
                .keys()
                .map(|key| sanitize_type_name(key))
                .collect(),
        }
    }

    /// Replaces every reference into another declaration in `value` by a reference to a
    /// placeholder definition.
    fn rewrite(&mut self, value: &mut Value) -> Result<(), String> {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get_mut("$ref") {
                    if let (Some(_), _) = super::contracts::split(target) {
                        let linked = &self.declaration.linked;
                        let node = linked
                            .resolve(linked.root(), target)
                            .ok_or_else(|| format!("unresolved reference {target:?}"))?;
                        let rust_path = self.rust_path(&node)?;
                        let placeholder = self.placeholder(rust_path);
                        *target = format!("#/definitions/{placeholder}");
                    }
                }
                for (key, child) in map.iter_mut() {
                    if !matches!(key.as_str(), "enum" | "const" | "default" | "examples") {
                        self.rewrite(child)?;
                    }
                }
                Ok(())
            }
            Value::Array(items) => items.iter_mut().try_for_each(|item| self.rewrite(item)),
            _ => Ok(()),
        }
    }

    fn placeholder(&mut self, rust_path: String) -> String {
        if let Some(existing) = self.placeholders.get(&rust_path) {
            return existing.clone();
        }
        let mut index = self.paths.len();
        let placeholder = loop {
            let candidate = format!("LambdaDurableExternal{index}");
            if !self.taken.contains(&sanitize_type_name(&candidate)) {
                break candidate;
            }
            index += 1;
        };
        self.paths.insert(placeholder.clone(), rust_path.clone());
        self.placeholders.insert(rust_path, placeholder.clone());
        placeholder
    }

    /// The Rust path of the type generated for `node` in its declaration's module.
    fn rust_path(&self, node: &super::contracts::Node) -> Result<String, String> {
        let linked = &self.declaration.linked;
        let shown = linked.shown(&node.0);
        let module = self.options.module_of(&node.0).map_or_else(
            || default_module(&shown),
            |module| Ok(module.trim_end_matches("::").to_string()),
        )?;
        let ty = match &node.1 {
            super::contracts::Part::Input => "Input".to_string(),
            super::contracts::Part::Output => "Output".to_string(),
            super::contracts::Part::Definition(name) => sanitize_type_name(name),
        };
        Ok(format!("{module}::{ty}"))
    }
}

/// The module of a declaration's generated code by default: a sibling module named after
/// its file (`super::payments` for `payments.json`).
fn default_module(file: &Path) -> Result<String, String> {
    let stem = file
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or_default();
    let module = names::module_name(stem).ok_or_else(|| {
        format!(
            "the file name of {} has no letters or digits to make the module name of its types from; name the module with WorkflowOptions::module",
            file.display()
        )
    })?;
    Ok(format!("super::{module}"))
}

/// The name typify gives the type of a definition (`line-item` -> `LineItem`).
fn sanitize_type_name(name: &str) -> String {
    use heck::ToUpperCamelCase;
    let cleaned: String = name
        .replace('\'', "")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let out = cleaned.to_upper_camel_case();
    let out = match out.chars().next() {
        None => "X".to_string(),
        Some(c) if c.is_alphabetic() || c == '_' => out,
        Some(_) => format!("X{out}"),
    };
    if out == "Self" {
        format!("{out}_")
    } else {
        out
    }
}

fn is_branch_generic(name: &str) -> bool {
    ["F", "Fut", "E"].iter().any(|prefix| {
        name.strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// The suffix of the name of the type made from an operation's schema.
fn type_suffix(op: &Operation, field: &str) -> &'static str {
    match (op, field) {
        (Operation::Map(_), "input") => "Item",
        (_, "input") => "Input",
        (_, "state") => "State",
        (_, "error") => "Error",
        _ => "Output",
    }
}

fn to_schema(value: &Value) -> Result<schemars::schema::Schema, String> {
    let mut value = value.clone();
    strip_foreign_formats(&mut value);
    serde_json::from_value(value).map_err(|err| format!("not a valid JSON Schema: {err}"))
}

/// String formats that typify makes into types of the standard library; the others
/// (`date-time`, `date`, `uuid`, ...) would need crates a user's crate may not have, so
/// those strings stay `String` (the runtime does not check formats either).
const STD_STRING_FORMATS: &[&str] = &["ip", "ipv4", "ipv6"];

fn strip_foreign_formats(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let is_string_format =
                map.get("format")
                    .and_then(Value::as_str)
                    .is_some_and(|format| {
                        !STD_STRING_FORMATS.contains(&format)
                            && !format.starts_with("int")
                            && !format.starts_with("uint")
                            && !matches!(format, "float" | "double")
                    });
            if is_string_format {
                map.remove("format");
            }
            for (key, child) in map.iter_mut() {
                if !matches!(key.as_str(), "enum" | "const" | "default" | "examples") {
                    strip_foreign_formats(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_foreign_formats),
        _ => {}
    }
}

/// Runs a typify call, turning its panics (it reports some unsupported schemas that way)
/// into errors.
///
/// The panic hook is silenced meanwhile, so that a build script reports the error alone,
/// not a panic message and backtrace before it. The hook is process-wide: a panic of
/// another thread in that moment loses its message (not its effect).
fn catch_typify<T>(f: impl FnOnce() -> Result<T, typify::Error>) -> Result<T, String> {
    static HOOK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let caught = {
        let _guard = HOOK
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let caught = std::panic::catch_unwind(AssertUnwindSafe(f));
        std::panic::set_hook(previous);
        caught
    };
    match caught {
        // typify's messages can hold a whole schema in `Debug` form: its first line says it.
        Ok(result) => result.map_err(|err| {
            let message = err.to_string();
            match message.split_once('\n') {
                Some((first, _)) => format!("{} (...)", first.trim_end_matches([' ', '{'])),
                None => message,
            }
        }),
        Err(panic) => Err(format!(
            "unsupported schema: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("typify panicked")
        )),
    }
}

/// Finishes typify's output for a user's crate: adds `#[serde(crate = "<rt>::serde")]`
/// after every serde derive, so the derived code finds serde through the runtime (typify's
/// own extra attributes go before the derive, where a derive helper may not be), and
/// documents the fields and variants that have no description with their JSON names, so a
/// crate with `missing_docs` stays clean.
fn finish_types(what: &str, tokens: TokenStream, rt: &str) -> Result<TokenStream, CodegenError> {
    let mut file = syn::parse2::<syn::File>(tokens).map_err(|err| CodegenError::Render {
        what: format!("{what} (types)"),
        message: err.to_string(),
    })?;
    let krate = proc_macro2::Literal::string(&format!("{rt}::serde"));
    let attribute: syn::Attribute = syn::parse_quote!(#[serde(crate = #krate)]);
    finish_items(&mut file.items, &attribute);
    Ok(quote::ToTokens::into_token_stream(file))
}

fn finish_items(items: &mut [syn::Item], serde_crate: &syn::Attribute) {
    for item in items {
        let attrs = match item {
            syn::Item::Struct(item) => {
                for field in item.fields.iter_mut() {
                    if let Some(ident) = &field.ident {
                        let name = serde_name(&field.attrs)
                            .unwrap_or_else(|| names::unraw(&ident.to_string()).to_string());
                        document(&mut field.attrs, &format!(" The `{name}` field."));
                    }
                }
                &mut item.attrs
            }
            syn::Item::Enum(item) => {
                for variant in item.variants.iter_mut() {
                    let name =
                        serde_name(&variant.attrs).unwrap_or_else(|| variant.ident.to_string());
                    document(&mut variant.attrs, &format!(" `{name}`"));
                }
                &mut item.attrs
            }
            syn::Item::Mod(module) => {
                if let Some((_, items)) = &mut module.content {
                    finish_items(items, serde_crate);
                }
                allow_checked_unwraps(module, |module| &mut module.attrs);
                if module.ident == "error" {
                    // typify's `ConversionError`, unused unless a type has a checked
                    // conversion; a binary crate would warn about it.
                    module.attrs.push(syn::parse_quote!(
                        #[allow(dead_code, reason = "used only by types with checked conversions")]
                    ));
                }
                continue;
            }
            syn::Item::Impl(item) => {
                allow_checked_unwraps(item, |item| &mut item.attrs);
                continue;
            }
            _ => continue,
        };
        let derives_serde = |attr: &syn::Attribute| {
            attr.path().is_ident("derive")
                && attr
                    .meta
                    .require_list()
                    .is_ok_and(|list| list.tokens.to_string().contains("serde ::"))
        };
        if let Some(position) = attrs.iter().position(derives_serde) {
            attrs.insert(position + 1, serde_crate.clone());
        }
    }
}

/// typify unwraps what it checked while generating: `Regex::new` of a `pattern` (which
/// the generator also compiled, with the same engine) and the parsing of `default` values
/// (validated against their schema). Allows `clippy::unwrap_used` on such items, so that a
/// crate denying it can include the generated code.
fn allow_checked_unwraps<T: quote::ToTokens>(
    item: &mut T,
    attrs: impl Fn(&mut T) -> &mut Vec<syn::Attribute>,
) {
    if quote::ToTokens::to_token_stream(&*item)
        .to_string()
        .contains(". unwrap ()")
    {
        attrs(item).push(syn::parse_quote!(
            #[allow(clippy::unwrap_used, reason = "typify checked these values when the code was generated")]
        ));
    }
}

/// The `rename` of a `#[serde(rename = "...")]` attribute.
fn serde_name(attrs: &[syn::Attribute]) -> Option<String> {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("serde"))
        .find_map(|attr| {
            let mut name = None;
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    let value: syn::LitStr = meta.value()?.parse()?;
                    name = Some(value.value());
                } else if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                }
                Ok(())
            });
            name
        })
}

fn document(attrs: &mut Vec<syn::Attribute>, text: &str) {
    if !attrs.iter().any(|attr| attr.path().is_ident("doc")) {
        attrs.insert(0, syn::parse_quote!(#[doc = #text]));
    }
}

/// Rewrites paths starting with `::serde`, `::serde_json` and `::regress` (as typify writes
/// them) to go through the runtime path, so the user's crate needs none of those crates.
fn reroute(tokens: TokenStream, rt: &str) -> TokenStream {
    let prefix: TokenStream = rt.parse().unwrap_or_default();
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    let mut index = 0;
    while index < trees.len() {
        let leading_path = match (&trees[index], trees.get(index + 1), trees.get(index + 2)) {
            (TokenTree::Punct(a), Some(TokenTree::Punct(b)), Some(TokenTree::Ident(krate))) => {
                a.as_char() == ':'
                    && a.spacing() == Spacing::Joint
                    && b.as_char() == ':'
                    && REROUTED_CRATES.contains(&krate.to_string().as_str())
                    && starts_path(out.last())
            }
            _ => false,
        };
        if leading_path {
            out.extend(prefix.clone());
            out.push(TokenTree::Punct(Punct::new(':', Spacing::Joint)));
            out.push(TokenTree::Punct(Punct::new(':', Spacing::Alone)));
            index += 2;
            continue;
        }
        match &trees[index] {
            TokenTree::Group(group) => {
                let mut inner = Group::new(group.delimiter(), reroute(group.stream(), rt));
                inner.set_span(group.span());
                out.push(TokenTree::Group(inner));
            }
            other => out.push(other.clone()),
        }
        index += 1;
    }
    out.into_iter().collect()
}

/// Whether a `::` after `previous` starts a path (rather than continuing one, as in
/// `a::serde`).
fn starts_path(previous: Option<&TokenTree>) -> bool {
    match previous {
        None | Some(TokenTree::Punct(_)) | Some(TokenTree::Literal(_)) => true,
        Some(TokenTree::Group(group)) => group.delimiter() == Delimiter::None,
        Some(TokenTree::Ident(ident)) => {
            let ident = ident.to_string();
            !matches!(ident.as_str(), "crate" | "self" | "super" | "Self")
                && (names::escape(ident.clone()) != ident)
        }
    }
}

#[derive(Serialize)]
struct WorkflowContext {
    rt: String,
    name: String,
    function: Option<String>,
    doc: Vec<String>,
    input_schema: String,
    input: TopType,
    output: TopType,
    methods: Vec<String>,
    errors: Vec<ErrorType>,
}

/// A declared step error type, made a `TypedError` by the workflow template.
#[derive(Serialize)]
struct ErrorType {
    ty: String,
    /// Whether typify already implemented `Display` (it does for enums of strings).
    display: bool,
}

#[derive(Serialize, Default)]
struct TopType {
    ty: String,
    /// Whether `Input`/`Output` must be declared as an alias (typify did not name the type so).
    alias: bool,
}

fn doc_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!(" {line}")
            }
        })
        .collect()
}

fn workflow_doc(declaration: &Declaration) -> Vec<String> {
    let mut doc = match &declaration.description {
        Some(description) => doc_lines(description),
        None => vec![format!(" The workflow {:?}.", declaration.name)],
    };
    doc.push(String::new());
    doc.push(
        " Wraps the execution's `DurableContext`; each method runs one declared operation."
            .to_string(),
    );
    doc
}

fn operation_doc(op: &Operation, pointer: &str) -> Vec<String> {
    let mut doc = match op.description() {
        Some(description) => doc_lines(description),
        None => vec![format!(" The {} operation {:?}.", op.kind(), op.name())],
    };
    doc.push(String::new());
    doc.push(format!(
        " Checkpoint name {:?}; declared at `{pointer}`.",
        op.name()
    ));
    doc.push(String::new());
    doc.push(format!(" Declared configuration (`{}`):", op.kind()));
    doc.push(String::new());
    if let Some(within) = op.within() {
        doc.push(format!(" - within: {}", escape_markdown(within)));
    }
    for (label, value) in super::describe::configuration(op) {
        doc.push(format!(" - {label}: {}", escape_markdown(&value)));
    }
    if let Some(options) = per_call_options(op) {
        doc.push(String::new());
        doc.push(format!(" {options}"));
    }
    doc
}

/// Keeps rustdoc from reading declared text (patterns, names) as Markdown or HTML.
fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '*' | '_' | '`' | '[' | ']' | '<' | '>' | '\\' | '#' | '|'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// What the returned builder lets a call change, without touching the declared rest.
fn per_call_options(op: &Operation) -> Option<&'static str> {
    Some(match op {
        Operation::Step(_) => "Per call: `.retry(..)` replaces the declared retry policy, `.serdes(..)` the result's serialization; the rest of the declaration stays.",
        Operation::Callback(callback) if callback.submitter.is_some() => "Per call: `.retry(..)` replaces the submitter's declared retry policy, `.serdes(..)` the result's serialization.",
        Operation::Callback(_) => "Per call: `.serdes(..)` replaces the result's serialization.",
        Operation::Invoke(_) => "Per call: `.tenant_id(..)`, `.trace_header(..)` and `.result_serdes(..)`.",
        Operation::ChildContext(_) => "Per call: `.serdes(..)` replaces the result's serialization.",
        Operation::Map(_) => "Per call: `.item_namer(..)` names each item's context, `.item_serdes(..)` and `.serdes(..)` replace the serialization; batch settings (`.max_concurrency(..)`, `.completion(..)`, `.nesting(..)`) replace the declared ones.",
        Operation::Parallel(_) => "Per call: `.item_serdes(..)` and `.serdes(..)` replace the serialization; batch settings replace the declared ones.",
        Operation::WaitForCondition(_) => "Per call: `.serdes(..)` replaces the state's serialization.",
        Operation::Wait(_) => return None,
    })
}

#[derive(Serialize)]
struct FilterContext {
    message_matches: Vec<String>,
    message_contains: Vec<String>,
    error_types: Vec<String>,
}

#[derive(Serialize, Default)]
struct RetryContext {
    strategy: &'static str,
    preset: Option<&'static str>,
    max_attempts: Option<String>,
    initial_delay: Option<String>,
    max_delay: Option<String>,
    increment: Option<String>,
    interval: Option<String>,
    backoff_rate: Option<String>,
    jitter: Option<&'static str>,
    filter: Option<FilterContext>,
}

fn seconds(duration: Option<&DurationSpec>) -> Option<String> {
    duration.map(|d| d.total_seconds().unwrap_or(u64::MAX).to_string())
}

fn float(value: Option<f64>) -> Option<String> {
    value.map(|value| format!("{value:?}"))
}

fn jitter(value: Option<Jitter>) -> Option<&'static str> {
    value.map(|jitter| match jitter {
        Jitter::None => "None",
        Jitter::Full => "Full",
        Jitter::Half => "Half",
    })
}

fn filter(filter: Option<&RetryFilter>) -> Option<FilterContext> {
    let filter = filter.cloned().unwrap_or_default();
    Some(FilterContext {
        message_matches: filter.message_matches,
        message_contains: filter.message_contains,
        error_types: filter.error_types,
    })
}

fn retry_context(retry: Option<&RetryPolicy>) -> Option<RetryContext> {
    let preset = |name, retry_if| RetryContext {
        strategy: "preset",
        preset: Some(name),
        filter: filter(retry_if),
        ..RetryContext::default()
    };
    Some(match retry? {
        RetryPolicy::Default(p) => preset("Default", p.retry_if.as_ref()),
        RetryPolicy::Transient(p) => preset("Transient", p.retry_if.as_ref()),
        RetryPolicy::ResourceAvailability(p) => preset("ResourceAvailability", p.retry_if.as_ref()),
        RetryPolicy::Critical(p) => preset("Critical", p.retry_if.as_ref()),
        RetryPolicy::Exponential(p) => RetryContext {
            strategy: "exponential",
            max_attempts: p.max_attempts.map(|n| n.to_string()),
            initial_delay: seconds(p.initial_delay.as_ref()),
            max_delay: seconds(p.max_delay.as_ref()),
            backoff_rate: float(p.backoff_rate),
            jitter: jitter(p.jitter),
            filter: filter(p.retry_if.as_ref()),
            ..RetryContext::default()
        },
        RetryPolicy::Linear(p) => RetryContext {
            strategy: "linear",
            max_attempts: p.max_attempts.map(|n| n.to_string()),
            initial_delay: seconds(p.initial_delay.as_ref()),
            increment: seconds(p.increment.as_ref()),
            max_delay: seconds(p.max_delay.as_ref()),
            jitter: jitter(p.jitter),
            filter: filter(p.retry_if.as_ref()),
            ..RetryContext::default()
        },
        RetryPolicy::Fixed(p) => RetryContext {
            strategy: "fixed",
            interval: seconds(Some(&p.interval)),
            max_attempts: p.max_attempts.map(|n| n.to_string()),
            filter: filter(p.retry_if.as_ref()),
            ..RetryContext::default()
        },
        RetryPolicy::None(_) => RetryContext {
            strategy: "none",
            ..RetryContext::default()
        },
    })
}

#[derive(Serialize)]
struct BatchContext {
    max_concurrency: Option<String>,
    min_successful: Option<String>,
    tolerated_failure_count: Option<String>,
    tolerated_failure_percentage: Option<String>,
    nesting: Option<&'static str>,
}

fn batch_context(
    max_concurrency: Option<u64>,
    completion: Option<&Completion>,
    nesting: Option<Nesting>,
) -> BatchContext {
    let completion = completion.cloned().unwrap_or_default();
    BatchContext {
        max_concurrency: max_concurrency.map(|n| n.to_string()),
        min_successful: completion.min_successful.map(|n| n.to_string()),
        tolerated_failure_count: completion.tolerated_failure_count.map(|n| n.to_string()),
        tolerated_failure_percentage: float(completion.tolerated_failure_percentage),
        nesting: nesting.map(|nesting| match nesting {
            Nesting::Nested => "Nested",
            Nesting::Flat => "Flat",
        }),
    }
}

#[derive(Serialize)]
struct PollingContext {
    max_attempts: Option<String>,
    initial_delay: Option<String>,
    max_delay: Option<String>,
    backoff_rate: Option<String>,
    jitter: Option<&'static str>,
}

#[derive(Serialize)]
struct BranchContext {
    name: String,
    param: String,
    body: String,
    future: String,
    error: String,
}

/// The template and context of one operation's method.
fn operation_context(
    path: &Path,
    op: &Operation,
    pointer: &str,
    types: &Types,
    rt: &str,
) -> Result<(&'static str, Value), CodegenError> {
    let method = names::method_name(op.name()).map_err(|message| CodegenError::Schema {
        path: path.to_path_buf(),
        pointer: format!("{pointer}/name"),
        message,
    })?;
    let ty = |field: &str| types.ty(&format!("{pointer}/{field}"));
    let unit = "()".to_string();
    let any = format!("{rt}::serde_json::Value");
    let mut context = serde_json::json!({
        "rt": rt,
        "method": method,
        "name": op.name(),
        "doc": operation_doc(op, pointer),
    });
    let extra = match op {
        Operation::Step(step) => serde_json::json!({
            "input": ty("input"),
            "output": ty("output").unwrap_or(unit),
            "retry": retry_context(step.retry.as_ref()),
            "semantics": step.semantics.map(|semantics| match semantics {
                StepSemantics::AtLeastOncePerRetry => "AtLeastOncePerRetry",
                StepSemantics::AtMostOncePerRetry => "AtMostOncePerRetry",
            }),
            "timeout": seconds(step.timeout.as_ref()),
            "error": ty("error"),
        }),
        Operation::Wait(wait) => serde_json::json!({
            "seconds": seconds(wait.duration.as_ref()),
        }),
        Operation::Callback(callback) => serde_json::json!({
            "output": ty("output").unwrap_or(any),
            "timeout": seconds(callback.timeout.as_ref()),
            "heartbeat_timeout": seconds(callback.heartbeat_timeout.as_ref()),
            "submitter": callback.submitter.is_some(),
            "retry": retry_context(callback.submitter.as_ref().and_then(|s| s.retry.as_ref())),
        }),
        Operation::Invoke(invoke) => serde_json::json!({
            "function": invoke.function,
            "input": ty("input"),
            "output": ty("output").unwrap_or(any),
        }),
        Operation::ChildContext(_) => serde_json::json!({
            "output": ty("output").unwrap_or(unit),
        }),
        Operation::Map(map) => serde_json::json!({
            "item": ty("input"),
            "output": ty("output").unwrap_or(unit),
            "batch": batch_context(map.max_concurrency, map.completion.as_ref(), map.nesting),
        }),
        Operation::Parallel(parallel) => {
            let branches: Vec<BranchContext> = parallel
                .branches
                .iter()
                .enumerate()
                .map(|(index, name)| BranchContext {
                    name: name.clone(),
                    param: names::parameter_name(name)
                        .unwrap_or_else(|_| format!("branch_{index}")),
                    body: format!("F{index}"),
                    future: format!("Fut{index}"),
                    error: format!("E{index}"),
                })
                .collect();
            serde_json::json!({
                "output": ty("output").unwrap_or(unit),
                "branches": branches,
                "batch": batch_context(parallel.max_concurrency, parallel.completion.as_ref(), parallel.nesting),
            })
        }
        Operation::WaitForCondition(condition) => {
            let polling: Polling = condition.polling.clone().unwrap_or_default();
            serde_json::json!({
                "state": ty("state"),
                "polling": PollingContext {
                    max_attempts: polling.max_attempts.map(|n| n.to_string()),
                    initial_delay: seconds(polling.initial_delay.as_ref()),
                    max_delay: seconds(polling.max_delay.as_ref()),
                    backoff_rate: float(polling.backoff_rate),
                    jitter: jitter(polling.jitter),
                },
            })
        }
    };
    if let (Value::Object(context), Value::Object(extra)) = (&mut context, extra) {
        context.extend(extra);
    }
    let template = match op {
        Operation::Step(_) => "step.rs.tera",
        Operation::Wait(_) => "wait.rs.tera",
        Operation::Callback(_) => "callback.rs.tera",
        Operation::Invoke(_) => "invoke.rs.tera",
        Operation::ChildContext(_) => "child_context.rs.tera",
        Operation::Map(_) => "map.rs.tera",
        Operation::Parallel(_) => "parallel.rs.tera",
        Operation::WaitForCondition(_) => "wait_for_condition.rs.tera",
    };
    Ok((template, context))
}

fn templates(what: &str) -> Result<tera::Tera, CodegenError> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![]);
    tera.register_filter("rust_str", rust_str);
    tera.add_raw_templates(TEMPLATES.iter().copied())
        .map_err(|err| CodegenError::Template {
            what: what.to_string(),
            template: "(loading)".to_string(),
            message: tera_message(&err),
        })?;
    Ok(tera)
}

fn render_template(
    tera: &tera::Tera,
    what: &str,
    template: &str,
    context: &impl Serialize,
) -> Result<String, CodegenError> {
    let fail = |message: String| CodegenError::Template {
        what: what.to_string(),
        template: template.to_string(),
        message,
    };
    let context = tera::Context::from_serialize(context).map_err(|err| fail(tera_message(&err)))?;
    tera.render(template, &context)
        .map_err(|err| fail(tera_message(&err)))
}

fn tera_message(err: &tera::Error) -> String {
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// The tera filter `rust_str`: a string as a Rust string literal (quoted and escaped), so
/// templates never splice raw text into a literal.
fn rust_str(value: &Value, _: &std::collections::HashMap<String, Value>) -> tera::Result<Value> {
    match value {
        Value::String(text) => Ok(Value::String(
            proc_macro2::Literal::string(text).to_string(),
        )),
        other => Err(tera::Error::msg(format!(
            "rust_str expects a string, got {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rerouting_rewrites_only_leading_crate_paths() {
        let tokens: TokenStream = "#[derive(::serde::Serialize)] struct A(::serde_json::Value, x::serde::Y, <T as ::regress::R>::Z); fn f() -> ::serde_json::Value {}"
            .parse()
            .unwrap_or_default();
        let out = reroute(tokens, "::rt").to_string();
        assert!(out.contains(":: rt :: serde :: Serialize"), "{out}");
        assert!(out.contains(":: rt :: serde_json :: Value ,"), "{out}");
        assert!(out.contains("x :: serde :: Y"), "{out}");
        assert!(out.contains("as :: rt :: regress :: R"), "{out}");
        assert!(out.contains("-> :: rt :: serde_json :: Value"), "{out}");
    }

    #[test]
    fn rust_str_quotes_and_escapes() {
        let out = rust_str(
            &Value::String("a \"b\"\n\\".to_string()),
            &Default::default(),
        );
        assert_eq!(
            out.ok(),
            Some(Value::String("\"a \\\"b\\\"\\n\\\\\"".to_string()))
        );
    }
}
