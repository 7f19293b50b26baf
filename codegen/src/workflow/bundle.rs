//! Standalone JSON Schemas of a declaration's parts: a schema of the file (the input, the
//! output or an operation's payload) with the definitions it refers to, directly or not,
//! so it can be used without the declaration (by the runtime's input check, an API
//! gateway, a client in another language). Definitions of other declarations that the
//! schema reaches through references are bundled too, under `<file stem>.<name>`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use super::contracts::{Node, Part};
use super::declaration::Declaration;

/// The JSON Schema dialect of declarations and of exported schemas.
pub(crate) const DRAFT_07: &str = "http://json-schema.org/draft-07/schema#";

/// `schema` made standalone: `$schema`, a `title` (the referenced definition's name when
/// the schema is only a `$ref`, else `title`), and the reachable `definitions`. A schema
/// that is only a `$ref` is replaced by the definition it names, so that the root is the
/// type itself.
pub(crate) fn standalone(declaration: &Declaration, schema: &Value, title: &str) -> Value {
    let mut bundler = Bundler {
        declaration,
        keys: BTreeMap::new(),
        definitions: BTreeMap::new(),
    };
    let root = declaration.linked.root().to_path_buf();
    let rewritten = bundler.rewrite(&root, schema);
    let mut root_schema = match &rewritten {
        Value::Object(map) => {
            let only_ref = map.len() == 1 && map.contains_key("$ref");
            let target = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|target| target.strip_prefix("#/definitions/"))
                .map(|name| name.replace("~1", "/").replace("~0", "~"));
            match (only_ref, target) {
                (true, Some(key)) => {
                    let mut inlined = match bundler.definitions.get(&key) {
                        Some(Value::Object(definition)) => definition.clone(),
                        Some(Value::Bool(false)) => not_anything(),
                        _ => Map::new(),
                    };
                    let name = bundler.title_of(&key).unwrap_or(key);
                    inlined
                        .entry("title")
                        .or_insert_with(|| Value::String(name));
                    inlined
                }
                _ => map.clone(),
            }
        }
        Value::Bool(false) => not_anything(),
        _ => Map::new(),
    };
    root_schema
        .entry("title")
        .or_insert_with(|| Value::String(title.to_string()));
    let mut out = Map::new();
    out.insert("$schema".to_string(), Value::String(DRAFT_07.to_string()));
    out.extend(root_schema);
    if !bundler.definitions.is_empty() {
        out.insert(
            "definitions".to_string(),
            Value::Object(bundler.definitions.into_iter().collect()),
        );
    }
    Value::Object(out)
}

fn not_anything() -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("not".to_string(), Value::Object(Map::new()));
    map
}

struct Bundler<'a> {
    declaration: &'a Declaration,
    /// The definition key of each bundled node.
    keys: BTreeMap<Node, String>,
    /// The bundled definitions, by key.
    definitions: BTreeMap<String, Value>,
}

impl Bundler<'_> {
    /// `value`, a schema of the declaration `file`, with its references pointing at
    /// bundled definitions (which it adds).
    fn rewrite(&mut self, file: &Path, value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut out = Map::new();
                for (key, child) in map {
                    let rewritten = if key == "$ref" {
                        match child.as_str().and_then(|target| self.target(file, target)) {
                            Some(target) => Value::String(target),
                            None => child.clone(),
                        }
                    } else if matches!(key.as_str(), "enum" | "const" | "default" | "examples") {
                        child.clone()
                    } else {
                        self.rewrite(file, child)
                    };
                    out.insert(key.clone(), rewritten);
                }
                Value::Object(out)
            }
            Value::Array(items) => {
                Value::Array(items.iter().map(|item| self.rewrite(file, item)).collect())
            }
            other => other.clone(),
        }
    }

    /// The bundled reference for `target`, a `$ref` in `file`, bundling what it names.
    fn target(&mut self, file: &Path, target: &str) -> Option<String> {
        let linked = &self.declaration.linked;
        let node = match linked.resolve(file, target) {
            Some(node) => linked.collapse(node),
            // A declaration that was not linked (read from text without a file).
            None => return Some(target.to_string()),
        };
        if let Some(key) = self.keys.get(&node) {
            return Some(format!("#/definitions/{}", contracts_escape(key)));
        }
        let key = self.key_of(&node);
        self.keys.insert(node.clone(), key.clone());
        let schema = match linked.schema(&node) {
            Some(schema) => schema.clone(),
            // The declaration's own definitions, when it was not linked.
            None => match &node.1 {
                Part::Definition(name) if node.0 == linked.root() => {
                    self.declaration.definitions.get(name).cloned()?
                }
                _ => return None,
            },
        };
        // Reserve the key before rewriting, so that recursive references find it.
        self.definitions.insert(key.clone(), Value::Bool(true));
        let rewritten = self.rewrite(&node.0, &schema);
        self.definitions.insert(key.clone(), rewritten);
        Some(format!("#/definitions/{}", contracts_escape(&key)))
    }

    /// The declaration's own definitions keep their names; those of other declarations
    /// are prefixed with the file stem, as are other declarations' inputs and outputs.
    fn key_of(&self, node: &Node) -> String {
        let linked = &self.declaration.linked;
        if node.0 == linked.root() {
            if let Part::Definition(name) = &node.1 {
                return name.clone();
            }
        }
        let stem = linked
            .shown(&node.0)
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_default();
        match &node.1 {
            Part::Definition(name) => format!("{stem}.{name}"),
            Part::Input => format!("{stem}.input"),
            Part::Output => format!("{stem}.output"),
        }
    }

    /// The title an inlined definition gets: its name, without a file stem.
    fn title_of(&self, key: &str) -> Option<String> {
        self.keys
            .iter()
            .find(|(_, k)| *k == key)
            .map(|(node, k)| match &node.1 {
                Part::Definition(name) => name.clone(),
                Part::Input | Part::Output => k.clone(),
            })
    }
}

fn contracts_escape(key: &str) -> String {
    super::parse::escape_pointer(key)
}
