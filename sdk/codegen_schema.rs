//! Checks an execution's input against the input schema of a workflow declaration, so that
//! every constraint the declaration states (bounds, lengths, item counts, patterns, enums,
//! required properties, ...) holds when the execution starts, including those the generated
//! Rust types cannot express.
//!
//! The schemas come from `lambda-durable-codegen`, which accepts only the keywords handled
//! here (draft 7: `type`, `enum`, `const`, `properties`, `required`,
//! `additionalProperties`, `minProperties`, `maxProperties`, `items` (one schema or a
//! tuple), `minItems`, `maxItems`, `uniqueItems`, `minLength`, `maxLength`, `pattern`,
//! `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`, `allOf`,
//! `anyOf`, `oneOf` and `$ref` into the schema's `definitions`). `format` is not checked.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// A compiled input schema: the schema and its regular expressions.
#[derive(Debug)]
pub(crate) struct InputSchema {
    root: Value,
    patterns: Vec<(String, regress::Regex)>,
}

/// Where a check failed and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    /// The JSONPath of the offending value (`$.items[0].quantity`).
    pub(crate) path: String,
    /// What is wrong with it.
    pub(crate) message: String,
}

impl InputSchema {
    /// Reads a schema. `Err` describes a schema that is not JSON or holds a pattern that
    /// does not compile (the generator rejects both).
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let root: Value = serde_json::from_str(text).map_err(|err| err.to_string())?;
        let mut patterns = Vec::new();
        collect_patterns(&root, &mut patterns)?;
        Ok(Self { root, patterns })
    }

    /// The first violation of the schema by `value`, if any.
    pub(crate) fn check(&self, value: &Value) -> Option<Violation> {
        let mut path = String::from("$");
        self.check_at(&self.root, value, &mut path, 0)
    }

    fn check_at(
        &self,
        schema: &Value,
        value: &Value,
        path: &mut String,
        depth: usize,
    ) -> Option<Violation> {
        let fail = |path: &str, message: String| {
            Some(Violation {
                path: path.to_string(),
                message,
            })
        };
        if depth > 64 {
            return fail(
                path,
                "the schema nests too deeply (a `$ref` cycle?)".to_string(),
            );
        }
        let schema = match schema {
            Value::Bool(true) => return None,
            Value::Bool(false) => return fail(path, "no value is allowed here".to_string()),
            Value::Object(schema) => schema,
            _ => return None,
        };
        if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
            return match self.resolve(target) {
                Some(resolved) => self.check_at(resolved, value, path, depth + 1),
                None => fail(path, format!("the schema refers to unknown {target:?}")),
            };
        }
        if let Some(types) = schema.get("type") {
            if !type_matches(types, value) {
                return fail(
                    path,
                    format!("expected {}, got {}", type_names(types), describe(value)),
                );
            }
        }
        if let Some(Value::Array(allowed)) = schema.get("enum") {
            if !allowed.iter().any(|candidate| json_eq(candidate, value)) {
                let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
                return fail(
                    path,
                    format!("{} is not one of {}", short(value), list.join(", ")),
                );
            }
        }
        if let Some(constant) = schema.get("const") {
            if !json_eq(constant, value) {
                return fail(path, format!("{} is not {}", short(value), short(constant)));
            }
        }
        let found = match value {
            Value::Number(_) => check_number(schema, value).and_then(|message| fail(path, message)),
            Value::String(text) => self
                .check_string(schema, text)
                .and_then(|message| fail(path, message)),
            Value::Array(items) => self.check_array(schema, items, path, depth),
            Value::Object(map) => self.check_object(schema, map, path, depth),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
        self.check_combinators(schema, value, path, depth)
    }

    fn check_combinators(
        &self,
        schema: &Map<String, Value>,
        value: &Value,
        path: &mut String,
        depth: usize,
    ) -> Option<Violation> {
        if let Some(Value::Array(all)) = schema.get("allOf") {
            for part in all {
                if let Some(violation) = self.check_at(part, value, path, depth + 1) {
                    return Some(violation);
                }
            }
        }
        if let Some(Value::Array(any)) = schema.get("anyOf") {
            let mut first = None;
            for part in any {
                match self.check_at(part, value, path, depth + 1) {
                    None => {
                        first = None;
                        break;
                    }
                    Some(violation) => {
                        first.get_or_insert(violation);
                    }
                }
            }
            if let Some(violation) = first {
                return Some(Violation {
                    message: format!(
                        "matches none of the `anyOf` alternatives (the first: {} at {})",
                        violation.message, violation.path
                    ),
                    path: path.clone(),
                });
            }
        }
        if let Some(Value::Array(one)) = schema.get("oneOf") {
            let matching = one
                .iter()
                .filter(|part| self.check_at(part, value, path, depth + 1).is_none())
                .count();
            if matching != 1 {
                return Some(Violation {
                    path: path.clone(),
                    message: format!(
                        "matches {matching} of the `oneOf` alternatives; exactly one must match"
                    ),
                });
            }
        }
        None
    }

    fn resolve(&self, target: &str) -> Option<&Value> {
        let name = target.strip_prefix("#/definitions/")?;
        let definitions = self.root.get("definitions")?;
        if name.contains('~') {
            definitions.get(name.replace("~1", "/").replace("~0", "~"))
        } else {
            definitions.get(name)
        }
    }

    fn check_string(&self, schema: &Map<String, Value>, text: &str) -> Option<String> {
        let length = text.chars().count() as u64;
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
            if length < min {
                return Some(format!(
                    "{} is {length} characters long, shorter than the minimum length {min}",
                    short_str(text)
                ));
            }
        }
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
            if length > max {
                return Some(format!(
                    "{} is {length} characters long, longer than the maximum length {max}",
                    short_str(text)
                ));
            }
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
            let regex = self
                .patterns
                .iter()
                .find(|(source, _)| source == pattern)
                .map(|(_, regex)| regex);
            if regex.is_some_and(|regex| regex.find(text).is_none()) {
                return Some(format!(
                    "{} does not match the pattern {pattern:?}",
                    short_str(text)
                ));
            }
        }
        None
    }

    fn check_array(
        &self,
        schema: &Map<String, Value>,
        items: &[Value],
        path: &mut String,
        depth: usize,
    ) -> Option<Violation> {
        let count = items.len() as u64;
        let fail = |message: String| {
            Some(Violation {
                path: path.clone(),
                message,
            })
        };
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
            if count < min {
                return fail(format!("{count} items, fewer than the minimum {min}"));
            }
        }
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
            if count > max {
                return fail(format!("{count} items, more than the maximum {max}"));
            }
        }
        if schema.get("uniqueItems") == Some(&Value::Bool(true)) {
            for (index, item) in items.iter().enumerate() {
                if let Some(earlier) = items[..index].iter().position(|e| json_eq(e, item)) {
                    return fail(format!(
                        "items {earlier} and {index} are equal, and items must be unique"
                    ));
                }
            }
        }
        for (index, item) in items.iter().enumerate() {
            let item_schema = match schema.get("items") {
                Some(Value::Array(tuple)) => tuple.get(index),
                other => other,
            };
            if let Some(item_schema) = item_schema {
                let len = path.len();
                let _ = write!(path, "[{index}]");
                let found = self.check_at(item_schema, item, path, depth + 1);
                path.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
        }
        None
    }

    fn check_object(
        &self,
        schema: &Map<String, Value>,
        map: &Map<String, Value>,
        path: &mut String,
        depth: usize,
    ) -> Option<Violation> {
        let fail = |path: &str, message: String| {
            Some(Violation {
                path: path.to_string(),
                message,
            })
        };
        if let Some(Value::Array(required)) = schema.get("required") {
            for name in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    return fail(path, format!("the required property {name:?} is missing"));
                }
            }
        }
        let count = map.len() as u64;
        if let Some(min) = schema.get("minProperties").and_then(Value::as_u64) {
            if count < min {
                return fail(
                    path,
                    format!("{count} properties, fewer than the minimum {min}"),
                );
            }
        }
        if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64) {
            if count > max {
                return fail(
                    path,
                    format!("{count} properties, more than the maximum {max}"),
                );
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (name, item) in map {
            let declared = properties.and_then(|properties| properties.get(name));
            let item_schema = match declared {
                Some(schema) => Some(schema),
                None => schema.get("additionalProperties"),
            };
            let len = path.len();
            push_key(path, name);
            let found = match item_schema {
                Some(Value::Bool(false)) if declared.is_none() => fail(
                    path,
                    "this property is not declared, and the schema allows no others".to_string(),
                ),
                Some(item_schema) => self.check_at(item_schema, item, path, depth + 1),
                None => None,
            };
            path.truncate(len);
            if found.is_some() {
                return found;
            }
        }
        None
    }
}

fn collect_patterns(value: &Value, out: &mut Vec<(String, regress::Regex)>) -> Result<(), String> {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(pattern)) = map.get("pattern") {
                if !out.iter().any(|(source, _)| source == pattern) {
                    let regex = regress::Regex::new(pattern)
                        .map_err(|err| format!("invalid pattern {pattern:?}: {err}"))?;
                    out.push((pattern.clone(), regex));
                }
            }
            for (key, child) in map {
                if !matches!(key.as_str(), "enum" | "const" | "default" | "examples") {
                    collect_patterns(child, out)?;
                }
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .try_for_each(|item| collect_patterns(item, out)),
        _ => Ok(()),
    }
}

fn check_number(schema: &Map<String, Value>, value: &Value) -> Option<String> {
    let number = value.as_f64()?;
    let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
    if let Some(min) = bound("minimum") {
        if number < min {
            return Some(format!("{value} is less than the minimum {min}"));
        }
    }
    if let Some(max) = bound("maximum") {
        if number > max {
            return Some(format!("{value} is greater than the maximum {max}"));
        }
    }
    if let Some(min) = bound("exclusiveMinimum") {
        if number <= min {
            return Some(format!(
                "{value} is not greater than the exclusive minimum {min}"
            ));
        }
    }
    if let Some(max) = bound("exclusiveMaximum") {
        if number >= max {
            return Some(format!(
                "{value} is not less than the exclusive maximum {max}"
            ));
        }
    }
    if let Some(step) = bound("multipleOf").filter(|step| *step > 0.0) {
        let quotient = number / step;
        if (quotient - quotient.round()).abs() > 1e-9 {
            return Some(format!("{value} is not a multiple of {step}"));
        }
    }
    None
}

fn type_matches(types: &Value, value: &Value) -> bool {
    let matches = |name: &str| match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64()
                || value.is_u64()
                || value
                    .as_f64()
                    .is_some_and(|n| n.is_finite() && n.fract() == 0.0)
        }
        _ => true,
    };
    match types {
        Value::String(name) => matches(name),
        Value::Array(names) => names.iter().filter_map(Value::as_str).any(matches),
        _ => true,
    }
}

fn type_names(types: &Value) -> String {
    match types {
        Value::String(name) => name.clone(),
        Value::Array(names) => names
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "a value".to_string(),
    }
}

fn describe(value: &Value) -> String {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    match value {
        Value::Array(_) | Value::Object(_) | Value::Null => kind.to_string(),
        other => format!("{kind} {}", short(other)),
    }
}

/// JSON equality, with numbers compared by value (`1` equals `1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, value)| y.get(key).is_some_and(|other| json_eq(value, other)))
        }
        _ => a == b,
    }
}

/// A value for a message, cut to a readable length.
fn short(value: &Value) -> String {
    match value {
        Value::String(text) => short_str(text),
        other => {
            let text = other.to_string();
            if text.chars().count() > 80 {
                format!("{}…", text.chars().take(80).collect::<String>())
            } else {
                text
            }
        }
    }
}

fn short_str(text: &str) -> String {
    if text.chars().count() > 80 {
        format!("{:?}…", text.chars().take(80).collect::<String>())
    } else {
        format!("{text:?}")
    }
}

/// Appends a property to a JSONPath: `.name` for identifiers, `["any name"]` otherwise.
fn push_key(path: &mut String, name: &str) {
    let plain = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        path.push('.');
        path.push_str(name);
    } else {
        let _ = write!(path, "[{}]", Value::String(name.to_string()));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn violation(schema: Value, value: Value) -> Option<(String, String)> {
        let schema = InputSchema::parse(&schema.to_string()).ok()?;
        schema.check(&value).map(|v| (v.path, v.message))
    }

    #[track_caller]
    fn assert_violation(schema: Value, value: Value, path: &str, fragment: &str) {
        let Some((found, message)) = violation(schema, value) else {
            panic!("expected a violation at {path}");
        };
        assert_eq!(found, path, "{message}");
        assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
    }

    #[test]
    fn numbers_and_their_bounds() {
        let schema = json!({"type": "object", "properties": {
            "n": {"type": "integer", "minimum": 1, "maximum": 10},
            "x": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "m": {"type": "integer", "multipleOf": 5}}});
        assert_eq!(
            violation(schema.clone(), json!({"n": 1, "x": 0.5, "m": 10})),
            None
        );
        assert_violation(
            schema.clone(),
            json!({"n": 0}),
            "$.n",
            "0 is less than the minimum 1",
        );
        assert_violation(
            schema.clone(),
            json!({"n": 11}),
            "$.n",
            "greater than the maximum 10",
        );
        assert_violation(
            schema.clone(),
            json!({"n": 1.5}),
            "$.n",
            "expected integer, got number 1.5",
        );
        assert_violation(
            schema.clone(),
            json!({"x": 0}),
            "$.x",
            "not greater than the exclusive minimum 0",
        );
        assert_violation(
            schema.clone(),
            json!({"x": 1}),
            "$.x",
            "not less than the exclusive maximum 1",
        );
        assert_violation(schema, json!({"m": 7}), "$.m", "7 is not a multiple of 5");
    }

    #[test]
    fn strings_arrays_and_objects() {
        let schema = json!({"$ref": "#/definitions/Order", "definitions": {
            "Order": {"type": "object", "required": ["id", "items"], "additionalProperties": false,
                "properties": {
                    "id": {"type": "string", "minLength": 2, "maxLength": 4, "pattern": "^o-"},
                    "tag": {"enum": ["a", "b"]},
                    "one": {"const": 1},
                    "items": {"type": "array", "minItems": 1, "maxItems": 2, "uniqueItems": true,
                              "items": {"$ref": "#/definitions/Line"}}}},
            "Line": {"type": "object", "required": ["qty"], "properties": {"qty": {"type": "integer", "minimum": 1}}}}});
        let ok = json!({"id": "o-1", "items": [{"qty": 1}], "tag": "a", "one": 1.0});
        assert_eq!(violation(schema.clone(), ok), None);
        assert_violation(
            schema.clone(),
            json!({"items": []}),
            "$",
            "the required property \"id\" is missing",
        );
        assert_violation(
            schema.clone(),
            json!({"id": "o", "items": [{"qty": 1}]}),
            "$.id",
            "shorter than the minimum length 2",
        );
        assert_violation(
            schema.clone(),
            json!({"id": "o-123", "items": [{"qty": 1}]}),
            "$.id",
            "longer than the maximum length 4",
        );
        assert_violation(
            schema.clone(),
            json!({"id": "x-1", "items": [{"qty": 1}]}),
            "$.id",
            "does not match the pattern \"^o-\"",
        );
        assert_violation(
            schema.clone(),
            json!({"id": "o-1", "items": []}),
            "$.items",
            "0 items, fewer than the minimum 1",
        );
        assert_violation(
            schema.clone(),
            json!({"id": "o-1", "items": [{"qty": 1}, {"qty": 2}, {"qty": 3}]}),
            "$.items",
            "more than the maximum 2",
        );
        assert_violation(
            schema.clone(),
            json!({"id": "o-1", "items": [{"qty": 1}, {"qty": 1}]}),
            "$.items",
            "items 0 and 1 are equal",
        );
        assert_violation(
            schema.clone(),
            json!({"id": "o-1", "items": [{"qty": 0}]}),
            "$.items[0].qty",
            "less than the minimum 1",
        );
        assert_violation(
            schema.clone(),
            json!({"id": "o-1", "items": [{"qty": 1}], "tag": "c"}),
            "$.tag",
            "\"c\" is not one of \"a\", \"b\"",
        );
        assert_violation(
            schema.clone(),
            json!({"id": "o-1", "items": [{"qty": 1}], "one": 2}),
            "$.one",
            "2 is not 1",
        );
        assert_violation(
            schema,
            json!({"id": "o-1", "items": [{"qty": 1}], "odd key": 1}),
            "$[\"odd key\"]",
            "not declared",
        );
    }

    #[test]
    fn combinators_and_tuples() {
        let schema = json!({"type": "object", "properties": {
            "any": {"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 0}]},
            "one": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
            "all": {"allOf": [{"minimum": 0}, {"maximum": 5}]},
            "pair": {"type": "array", "items": [{"type": "string"}, {"type": "integer"}], "minItems": 2, "maxItems": 2}}});
        assert_eq!(
            violation(
                schema.clone(),
                json!({"any": "x", "one": 1.5, "all": 3, "pair": ["a", 1]})
            ),
            None
        );
        assert_violation(
            schema.clone(),
            json!({"any": -1}),
            "$.any",
            "matches none of the `anyOf` alternatives",
        );
        assert_violation(
            schema.clone(),
            json!({"one": 1}),
            "$.one",
            "matches 2 of the `oneOf` alternatives",
        );
        assert_violation(
            schema.clone(),
            json!({"all": 6}),
            "$.all",
            "greater than the maximum 5",
        );
        assert_violation(
            schema,
            json!({"pair": ["a", "b"]}),
            "$.pair[1]",
            "expected integer, got string \"b\"",
        );
    }

    #[test]
    fn property_counts_false_schemas_and_unknown_refs() {
        let schema = json!({"type": "object", "minProperties": 1, "maxProperties": 2,
            "properties": {"never": false, "other": {"$ref": "#/definitions/Missing"}}});
        assert_violation(
            schema.clone(),
            json!({}),
            "$",
            "0 properties, fewer than the minimum 1",
        );
        assert_violation(
            schema.clone(),
            json!({"a": 1, "b": 2, "c": 3}),
            "$",
            "3 properties, more than the maximum 2",
        );
        assert_violation(
            schema.clone(),
            json!({"never": 1}),
            "$.never",
            "no value is allowed here",
        );
        assert_violation(
            schema,
            json!({"other": 1}),
            "$.other",
            "the schema refers to unknown \"#/definitions/Missing\"",
        );
    }

    #[test]
    fn a_bad_schema_is_an_error_not_a_panic() {
        assert!(InputSchema::parse("{").is_err());
        assert!(InputSchema::parse(r#"{"pattern": "("}"#).is_err());
        let cyclic = InputSchema::parse(
            r##"{"$ref": "#/definitions/A", "definitions": {"A": {"$ref": "#/definitions/A"}}}"##,
        )
        .unwrap();
        assert!(cyclic.check(&json!(1)).is_some());
    }
}
