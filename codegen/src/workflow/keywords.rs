//! The JSON Schema keywords a declaration's schemas may use, and the shape of their values.
//!
//! The generator makes Rust types with typify and the runtime checks an execution's input
//! against the input schema; both handle the keywords listed here. Anything else (a
//! construct such as `if`/`then`/`else` or `patternProperties`, or a misspelt keyword)
//! is rejected with the file and the JSON pointer of the keyword, instead of being ignored
//! or failing inside typify. A keyword's value is checked too: `"type": "integr"` names
//! the valid types.

use serde_json::Value;

use super::parse::escape_pointer;

/// What a keyword's value must be.
#[derive(Clone, Copy)]
enum Shape {
    /// A schema (an object or a boolean).
    Schema,
    /// An object whose values are schemas (`properties`).
    SchemaMap,
    /// A non-empty array of schemas (`allOf`, `anyOf`, `oneOf`).
    SchemaList,
    /// A schema or an array of schemas (`items`).
    SchemaOrList,
    /// An array of distinct strings (`required`).
    Names,
    /// A non-negative integer (`minLength`, `maxItems`, ...).
    Count,
    /// A number (`minimum`, ...).
    Number,
    /// A number above zero (`multipleOf`).
    Positive,
    /// A boolean (`uniqueItems`, `readOnly`, ...).
    Bool,
    /// A string (`title`, `pattern`, `$ref`, ...).
    Text,
    /// A type name or an array of them (`type`).
    Type,
    /// A non-empty array of values (`enum`).
    Values,
    /// Any value (`const`, `default`, `examples`).
    Any,
}

/// The keywords the generator and the runtime's input check handle.
const KEYWORDS: &[(&str, Shape)] = &[
    ("$ref", Shape::Text),
    ("$schema", Shape::Text),
    ("$comment", Shape::Text),
    ("title", Shape::Text),
    ("description", Shape::Text),
    ("default", Shape::Any),
    ("examples", Shape::Any),
    ("readOnly", Shape::Bool),
    ("writeOnly", Shape::Bool),
    ("deprecated", Shape::Bool),
    ("type", Shape::Type),
    ("enum", Shape::Values),
    ("const", Shape::Any),
    ("properties", Shape::SchemaMap),
    ("required", Shape::Names),
    ("additionalProperties", Shape::Schema),
    ("minProperties", Shape::Count),
    ("maxProperties", Shape::Count),
    ("items", Shape::SchemaOrList),
    ("minItems", Shape::Count),
    ("maxItems", Shape::Count),
    ("uniqueItems", Shape::Bool),
    ("minLength", Shape::Count),
    ("maxLength", Shape::Count),
    ("pattern", Shape::Text),
    ("format", Shape::Text),
    ("minimum", Shape::Number),
    ("maximum", Shape::Number),
    ("exclusiveMinimum", Shape::Number),
    ("exclusiveMaximum", Shape::Number),
    ("multipleOf", Shape::Positive),
    ("allOf", Shape::SchemaList),
    ("anyOf", Shape::SchemaList),
    ("oneOf", Shape::SchemaList),
];

/// Keywords of JSON Schema that the generator does not handle, with what to do instead.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("if", "conditional schemas (`if`/`then`/`else`) are not supported; use `oneOf` over the alternatives"),
    ("then", "conditional schemas (`if`/`then`/`else`) are not supported; use `oneOf` over the alternatives"),
    ("else", "conditional schemas (`if`/`then`/`else`) are not supported; use `oneOf` over the alternatives"),
    ("not", "`not` is not supported; list the allowed values or shapes instead"),
    ("patternProperties", "`patternProperties` is not supported; use `additionalProperties` with one schema for every extra property"),
    ("propertyNames", "`propertyNames` is not supported"),
    ("dependencies", "`dependencies` is not supported; use `oneOf` over the allowed shapes"),
    ("dependentRequired", "`dependentRequired` is not supported; use `oneOf` over the allowed shapes"),
    ("dependentSchemas", "`dependentSchemas` is not supported; use `oneOf` over the allowed shapes"),
    ("contains", "`contains` is not supported"),
    ("additionalItems", "`additionalItems` is not supported"),
    ("prefixItems", "`prefixItems` is not supported; give `items` an array of schemas (a tuple)"),
    ("unevaluatedProperties", "`unevaluatedProperties` is not supported; use `additionalProperties`"),
    ("unevaluatedItems", "`unevaluatedItems` is not supported"),
    ("definitions", "nested `definitions` are not supported; declare every type in the file's top-level `definitions`"),
    ("$defs", "`$defs` is not supported; declare every type in the file's top-level `definitions`"),
    ("$id", "`$id` is not supported; `$ref`s point into this file's `definitions`"),
    ("$anchor", "`$anchor` is not supported; `$ref`s point into this file's `definitions`"),
    ("$dynamicRef", "`$dynamicRef` is not supported"),
    ("contentEncoding", "`contentEncoding` is not supported"),
    ("contentMediaType", "`contentMediaType` is not supported"),
];

/// The values of `type`.
const TYPES: &[&str] = &[
    "array", "boolean", "integer", "null", "number", "object", "string",
];

/// Checks every keyword of the schema `value` found at `pointer`, returning the pointer
/// and message of the first problem.
pub(crate) fn check(value: &Value, pointer: &str) -> Result<(), (String, String)> {
    match value {
        Value::Bool(_) => Ok(()),
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{pointer}/{}", escape_pointer(key));
                if key.starts_with("x-") {
                    continue;
                }
                let Some(shape) = KEYWORDS
                    .iter()
                    .find(|(name, _)| name == key)
                    .map(|(_, shape)| *shape)
                else {
                    if let Some((_, reason)) = UNSUPPORTED.iter().find(|(name, _)| name == key) {
                        return Err((
                            here,
                            format!("the generator cannot handle this schema: {reason}"),
                        ));
                    }
                    return Err((
                        here,
                        format!(
                            "unknown JSON Schema keyword `{key}` (supported: {}; extensions start with `x-`)",
                            supported()
                        ),
                    ));
                };
                check_value(key, shape, child, &here)?;
            }
            check_tuple(map, pointer)?;
            check_enum(map, pointer)?;
            check_all_of(map, pointer)?;
            check_bounds(map, pointer)
        }
        other => Err((
            pointer.to_string(),
            format!(
                "a schema must be an object or a boolean, got {}",
                kind_of(other)
            ),
        )),
    }
}

fn supported() -> String {
    KEYWORDS
        .iter()
        .map(|(name, _)| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check_value(key: &str, shape: Shape, value: &Value, here: &str) -> Result<(), (String, String)> {
    let wrong = |expected: &str| {
        Err((
            here.to_string(),
            format!("`{key}` must be {expected}, got {}", kind_of(value)),
        ))
    };
    match shape {
        Shape::Schema => check(value, here),
        Shape::SchemaMap => match value {
            Value::Object(map) => {
                for (name, schema) in map {
                    check(schema, &format!("{here}/{}", escape_pointer(name)))?;
                }
                Ok(())
            }
            _ => wrong("an object of schemas"),
        },
        Shape::SchemaList => match value {
            Value::Array(items) if !items.is_empty() => {
                for (index, schema) in items.iter().enumerate() {
                    check(schema, &format!("{here}/{index}"))?;
                }
                Ok(())
            }
            Value::Array(_) => Err((here.to_string(), format!("`{key}` must not be empty"))),
            _ => wrong("an array of schemas"),
        },
        Shape::SchemaOrList => match value {
            Value::Array(items) => {
                for (index, schema) in items.iter().enumerate() {
                    check(schema, &format!("{here}/{index}"))?;
                }
                Ok(())
            }
            other => check(other, here),
        },
        Shape::Names => match value {
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    let Some(name) = item.as_str() else {
                        return Err((
                            format!("{here}/{index}"),
                            format!("`{key}` lists property names (strings), got {}", kind_of(item)),
                        ));
                    };
                    if items[..index].iter().any(|earlier| earlier.as_str() == Some(name)) {
                        return Err((
                            format!("{here}/{index}"),
                            format!("`{key}` lists {name:?} twice"),
                        ));
                    }
                }
                Ok(())
            }
            _ => wrong("an array of property names"),
        },
        Shape::Count => match value.as_u64() {
            Some(_) => Ok(()),
            None => wrong("a non-negative integer"),
        },
        Shape::Number => match value {
            Value::Number(_) => Ok(()),
            // Draft 4's boolean form of the exclusive bounds.
            Value::Bool(_) if key.starts_with("exclusive") => Err((
                here.to_string(),
                format!("`{key}` must be a number (the bound itself, as in draft 6 and later), got a boolean"),
            )),
            _ => wrong("a number"),
        },
        Shape::Positive => match value.as_f64() {
            Some(number) if number > 0.0 => Ok(()),
            Some(number) => Err((
                here.to_string(),
                format!("`{key}` must be greater than 0, got {number}"),
            )),
            None => wrong("a number"),
        },
        Shape::Bool => match value {
            Value::Bool(_) => Ok(()),
            _ => wrong("a boolean"),
        },
        Shape::Text => match value {
            Value::String(_) => Ok(()),
            _ => wrong("a string"),
        },
        Shape::Type => match value {
            Value::String(name) => check_type_name(name, here),
            Value::Array(names) if !names.is_empty() => {
                for (index, name) in names.iter().enumerate() {
                    let here = format!("{here}/{index}");
                    match name.as_str() {
                        Some(name) => check_type_name(name, &here)?,
                        None => {
                            return Err((
                                here,
                                format!("a type is a string, got {}", kind_of(name)),
                            ))
                        }
                    }
                }
                Ok(())
            }
            _ => wrong("a type name or a non-empty array of them"),
        },
        Shape::Values => match value {
            Value::Array(values) if !values.is_empty() => Ok(()),
            _ => wrong("a non-empty array of values"),
        },
        Shape::Any => Ok(()),
    }
}

fn check_type_name(name: &str, here: &str) -> Result<(), (String, String)> {
    if TYPES.contains(&name) {
        return Ok(());
    }
    Err((
        here.to_string(),
        format!(
            "unknown type {name:?}; the types are {}",
            TYPES
                .iter()
                .map(|name| format!("\"{name}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

/// `items` as an array makes a tuple, which the generator handles when its length is fixed.
fn check_tuple(
    map: &serde_json::Map<String, Value>,
    pointer: &str,
) -> Result<(), (String, String)> {
    let Some(Value::Array(items)) = map.get("items") else {
        return Ok(());
    };
    let len = items.len() as u64;
    let fixed = |key: &str| map.get(key).and_then(Value::as_u64) == Some(len);
    if map.get("uniqueItems") == Some(&Value::Bool(true)) {
        return Err((
            format!("{pointer}/uniqueItems"),
            "`uniqueItems` is not supported on a tuple (`items` as an array)".to_string(),
        ));
    }
    if fixed("minItems") && fixed("maxItems") {
        return Ok(());
    }
    Err((
        format!("{pointer}/items"),
        format!("a tuple (`items` as an array of {len} schemas) needs `\"minItems\": {len}` and `\"maxItems\": {len}`; for a list of one type give `items` a single schema"),
    ))
}

/// An `enum` the generator makes one Rust type of: its values (besides `null`) share one
/// JSON type unless `type` says which, and strings make distinct variant names.
fn check_enum(map: &serde_json::Map<String, Value>, pointer: &str) -> Result<(), (String, String)> {
    let Some(Value::Array(values)) = map.get("enum") else {
        return Ok(());
    };
    let here = format!("{pointer}/enum");
    let mut kinds: Vec<&str> = values
        .iter()
        .filter(|value| !value.is_null())
        .map(|value| match value {
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Bool(_) => "boolean",
            Value::Array(_) => "array",
            _ => "object",
        })
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    if kinds.len() > 1 && !map.contains_key("type") {
        return Err((
            here,
            format!(
                "the values mix {}; the generator makes one Rust type of an enum, so give them one type (or use `oneOf` with a `const` each)",
                kinds.join(" and ")
            ),
        ));
    }
    let mut seen: Vec<(String, &str)> = Vec::new();
    for (index, value) in values.iter().enumerate() {
        let Some(text) = value.as_str() else {
            continue;
        };
        let variant = heck::ToUpperCamelCase::to_upper_camel_case(text);
        if let Some((_, earlier)) = seen
            .iter()
            .find(|(name, _)| !variant.is_empty() && *name == variant)
        {
            return Err((
                format!("{here}/{index}"),
                format!("{text:?} and {earlier:?} make the same Rust variant name `{variant}`; the generator cannot tell them apart"),
            ));
        }
        if values[..index].contains(value) {
            return Err((
                format!("{here}/{index}"),
                format!("{text:?} is listed twice"),
            ));
        }
        seen.push((variant, text));
    }
    Ok(())
}

/// `allOf` parts whose `type`s have nothing in common: no value can match.
fn check_all_of(
    map: &serde_json::Map<String, Value>,
    pointer: &str,
) -> Result<(), (String, String)> {
    let Some(Value::Array(parts)) = map.get("allOf") else {
        return Ok(());
    };
    let types_of = |schema: &serde_json::Map<String, Value>| -> Option<Vec<String>> {
        let mut names: Vec<String> = match schema.get("type")? {
            Value::String(name) => vec![name.clone()],
            Value::Array(names) => names
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => return None,
        };
        // An integer is a number.
        if names.iter().any(|name| name == "number") {
            names.push("integer".to_string());
        }
        Some(names)
    };
    let mut common: Option<Vec<String>> = types_of(map);
    for part in parts {
        let Some(types) = part.as_object().and_then(types_of) else {
            continue;
        };
        common = Some(match common {
            None => types,
            Some(common) => common
                .into_iter()
                .filter(|name| types.contains(name))
                .collect(),
        });
        if common.as_ref().is_some_and(Vec::is_empty) {
            return Err((
                format!("{pointer}/allOf"),
                "the `type`s of the `allOf` parts have nothing in common: no value can match"
                    .to_string(),
            ));
        }
    }
    Ok(())
}

/// Bounds that no value can meet: a minimum above the maximum, for numbers, lengths,
/// item and property counts.
fn check_bounds(
    map: &serde_json::Map<String, Value>,
    pointer: &str,
) -> Result<(), (String, String)> {
    for (low, high) in [
        ("minimum", "maximum"),
        ("minLength", "maxLength"),
        ("minItems", "maxItems"),
        ("minProperties", "maxProperties"),
        ("exclusiveMinimum", "exclusiveMaximum"),
        ("minimum", "exclusiveMaximum"),
        ("exclusiveMinimum", "maximum"),
    ] {
        let (Some(min), Some(max)) = (
            map.get(low).and_then(Value::as_f64),
            map.get(high).and_then(Value::as_f64),
        ) else {
            continue;
        };
        let empty = if low.starts_with("exclusive") || high.starts_with("exclusive") {
            min >= max
        } else {
            min > max
        };
        if empty {
            return Err((
                format!("{pointer}/{high}"),
                format!("`{high}` {max} is below `{low}` {min}: no value can match"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn supported_keywords_pass_and_others_point_at_themselves() {
        assert_eq!(
            check(
                &json!({"type": "object", "properties": {"a": {"type": ["integer", "null"], "minimum": 1}},
                        "required": ["a"], "additionalProperties": false, "x-note": 1}),
                "/input"
            ),
            Ok(())
        );
        let (pointer, message) =
            check(&json!({"properties": {"a": {"if": {}}}}), "/input").unwrap_err();
        assert_eq!(pointer, "/input/properties/a/if");
        assert!(message.contains("`if`/`then`/`else`"), "{message}");
        let (pointer, message) = check(&json!({"minimun": 1}), "/output").unwrap_err();
        assert_eq!(pointer, "/output/minimun");
        assert!(
            message.contains("unknown JSON Schema keyword `minimun`"),
            "{message}"
        );
        assert!(message.contains("`minimum`"), "{message}");
    }

    #[test]
    fn keyword_values_are_checked() {
        let (pointer, message) = check(&json!({"type": "integr"}), "").unwrap_err();
        assert_eq!(pointer, "/type");
        assert!(message.contains("\"integer\""), "{message}");
        let (pointer, _) = check(&json!({"type": ["string", 3]}), "").unwrap_err();
        assert_eq!(pointer, "/type/1");
        let (pointer, message) = check(&json!({"minLength": -1}), "").unwrap_err();
        assert_eq!(pointer, "/minLength");
        assert!(message.contains("non-negative integer"), "{message}");
        let (pointer, message) = check(&json!({"required": ["a", "a"]}), "").unwrap_err();
        assert_eq!(pointer, "/required/1");
        assert!(message.contains("twice"), "{message}");
        let (pointer, _) = check(&json!({"multipleOf": 0}), "").unwrap_err();
        assert_eq!(pointer, "/multipleOf");
        let (pointer, message) = check(&json!({"minimum": 5, "maximum": 2}), "").unwrap_err();
        assert_eq!(pointer, "/maximum");
        assert!(message.contains("no value can match"), "{message}");
        assert!(check(&json!({"exclusiveMinimum": true}), "").is_err());
        let (pointer, message) = check(&json!({"enum": [1, "a", null]}), "").unwrap_err();
        assert_eq!(pointer, "/enum");
        assert!(message.contains("mix number and string"), "{message}");
        assert!(check(
            &json!({"type": ["integer", "string"], "enum": [1, "a"]}),
            ""
        )
        .is_ok());
        assert!(check(&json!({"enum": ["a", null]}), "").is_ok());
        let (pointer, message) =
            check(&json!({"enum": ["dark blue", "Dark-Blue"]}), "").unwrap_err();
        assert_eq!(pointer, "/enum/1");
        assert!(
            message.contains("the same Rust variant name `DarkBlue`"),
            "{message}"
        );
        let (pointer, _) = check(&json!({"enum": ["a", "a"]}), "").unwrap_err();
        assert_eq!(pointer, "/enum/1");
        let (pointer, message) = check(
            &json!({"allOf": [{"type": "string"}, {"type": "integer"}]}),
            "",
        )
        .unwrap_err();
        assert_eq!(pointer, "/allOf");
        assert!(message.contains("nothing in common"), "{message}");
        assert!(check(
            &json!({"allOf": [{"type": "number"}, {"type": "integer"}]}),
            ""
        )
        .is_ok());
        assert!(check(&json!({"oneOf": []}), "").is_err());
        assert!(check(&json!(3), "").is_err());
    }
}
