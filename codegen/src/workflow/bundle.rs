//! Standalone JSON Schemas of a declaration's parts: a schema of the file (the input, the
//! output or an operation's payload) with the definitions it refers to, directly or not,
//! so it can be used without the declaration (by the runtime's input check, an API
//! gateway, a client in another language).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::declaration::Declaration;

/// The JSON Schema dialect of declarations and of exported schemas.
pub(crate) const DRAFT_07: &str = "http://json-schema.org/draft-07/schema#";

/// `schema` made standalone: `$schema`, a `title` (the referenced definition's name when
/// the schema is only a `$ref`, else `title`), and the reachable `definitions`. A schema
/// that is only a `$ref` is replaced by the definition it names, so that the root is the
/// type itself.
pub(crate) fn standalone(declaration: &Declaration, schema: &Value, title: &str) -> Value {
    let definitions = reachable(declaration, schema);
    let mut root = match schema {
        Value::Object(map) => {
            let only_ref = map.len() == 1 && map.contains_key("$ref");
            let target = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|target| target.strip_prefix("#/definitions/"))
                .map(|name| name.replace("~1", "/").replace("~0", "~"));
            match (only_ref, target) {
                (true, Some(name)) => {
                    let mut inlined = match declaration.definitions.get(&name) {
                        Some(Value::Object(definition)) => definition.clone(),
                        Some(Value::Bool(false)) => not_anything(),
                        _ => Map::new(),
                    };
                    inlined
                        .entry("title")
                        .or_insert_with(|| Value::String(name.clone()));
                    inlined
                }
                _ => map.clone(),
            }
        }
        Value::Bool(false) => not_anything(),
        _ => Map::new(),
    };
    root.entry("title")
        .or_insert_with(|| Value::String(title.to_string()));
    let mut out = Map::new();
    out.insert("$schema".to_string(), Value::String(DRAFT_07.to_string()));
    out.extend(root);
    if !definitions.is_empty() {
        out.insert(
            "definitions".to_string(),
            Value::Object(definitions.into_iter().collect()),
        );
    }
    Value::Object(out)
}

fn not_anything() -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("not".to_string(), Value::Object(Map::new()));
    map
}

/// The definitions `schema` refers to, directly or through other definitions.
fn reachable(declaration: &Declaration, schema: &Value) -> BTreeMap<String, Value> {
    let mut found = BTreeMap::new();
    let mut pending = Vec::new();
    collect_refs(schema, &mut pending);
    while let Some(name) = pending.pop() {
        if found.contains_key(&name) {
            continue;
        }
        if let Some(definition) = declaration.definitions.get(&name) {
            collect_refs(definition, &mut pending);
            found.insert(name, definition.clone());
        }
    }
    found
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|target| target.strip_prefix("#/definitions/"))
            {
                out.push(name.replace("~1", "/").replace("~0", "~"));
            }
            for (key, child) in map {
                if !matches!(key.as_str(), "enum" | "const" | "default" | "examples") {
                    collect_refs(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, out)),
        _ => {}
    }
}
