//! Rust names made from the names in a declaration: case conversion, keyword escaping and
//! the checks the service applies to checkpoint names. Templates never compute names; they
//! get them from here.

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Longest checkpoint name the service accepts.
pub(crate) const MAX_NAME_LEN: usize = 256;

/// Why the service would reject `name` as an operation name, if it would.
pub(crate) fn service_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("operation name is empty (1 to 256 printable ASCII characters)".to_string());
    }
    if name.len() > MAX_NAME_LEN {
        return Some(format!(
            "operation name is {} characters long; the service accepts at most {MAX_NAME_LEN}",
            name.len()
        ));
    }
    if let Some(bad) = name.chars().find(|c| !(' '..='~').contains(c)) {
        return Some(format!(
            "operation name {name:?} contains {bad:?}; the service accepts only printable ASCII characters"
        ));
    }
    None
}

/// Strict and reserved keywords of Rust 2021 (and `gen`, reserved in 2024), which need `r#`.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "do", "dyn",
    "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl", "in", "let",
    "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref", "return",
    "static", "struct", "trait", "true", "try", "type", "typeof", "union", "unsafe", "unsized",
    "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers; they get a trailing underscore instead.
const NON_RAW: &[&str] = &["crate", "self", "super", "Self", "_"];

/// The snake_case method name for an operation name, escaped when it is a keyword.
///
/// `Err` explains why no identifier can be made (a name with no letters or digits).
pub(crate) fn method_name(name: &str) -> Result<String, String> {
    let snake = name.to_snake_case();
    if snake.is_empty() {
        return Err(format!(
            "operation name {name:?} has no letters or digits to make a Rust method name from"
        ));
    }
    Ok(escape(prefix_digit(snake, "op_")))
}

/// The snake_case module name for a declaration's file stem (`order-v2` -> `order_v2`),
/// escaped when it is a keyword; `None` when the stem has no letters or digits.
pub(crate) fn module_name(stem: &str) -> Option<String> {
    let snake = stem.to_snake_case();
    (!snake.is_empty()).then(|| escape(prefix_digit(snake, "workflow_")))
}

/// The UpperCamelCase stem for types named after an operation (`"charge card"` ->
/// `ChargeCard`), `None` when the name has no letters or digits.
pub(crate) fn type_stem(name: &str) -> Option<String> {
    let camel = name.to_upper_camel_case();
    (!camel.is_empty()).then(|| prefix_digit(camel, "Op"))
}

/// A parameter name for a branch of a parallel (`"check fraud"` -> `check_fraud`).
pub(crate) fn parameter_name(name: &str) -> Result<String, String> {
    let snake = name.to_snake_case();
    if snake.is_empty() {
        return Err(format!(
            "branch name {name:?} has no letters or digits to make a Rust parameter name from"
        ));
    }
    Ok(escape(prefix_digit(snake, "branch_")))
}

fn prefix_digit(name: String, prefix: &str) -> String {
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{prefix}{name}")
    } else {
        name
    }
}

/// Escapes a keyword: `type` -> `r#type`, `self` -> `self_`.
pub(crate) fn escape(ident: String) -> String {
    if NON_RAW.contains(&ident.as_str()) {
        format!("{ident}_")
    } else if KEYWORDS.contains(&ident.as_str()) {
        format!("r#{ident}")
    } else {
        ident
    }
}

/// The identifier without its raw prefix, for comparing names.
pub(crate) fn unraw(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_are_snake_case_and_escaped() {
        assert_eq!(
            method_name("validate order").as_deref(),
            Ok("validate_order")
        );
        assert_eq!(method_name("Charge-Card").as_deref(), Ok("charge_card"));
        assert_eq!(method_name("type").as_deref(), Ok("r#type"));
        assert_eq!(method_name("self").as_deref(), Ok("self_"));
        assert_eq!(method_name("3ds check").as_deref(), Ok("op_3ds_check"));
        assert!(method_name("!!!").is_err());
    }

    #[test]
    fn service_names_are_printable_ascii_up_to_256() {
        assert!(service_name_problem("ok name").is_none());
        assert!(service_name_problem("").is_some());
        assert!(service_name_problem("tab\there").is_some());
        assert!(service_name_problem("caf\u{e9}").is_some());
        assert!(service_name_problem(&"a".repeat(256)).is_none());
        assert!(service_name_problem(&"a".repeat(257)).is_some());
    }

    #[test]
    fn type_stems_are_upper_camel_case() {
        assert_eq!(type_stem("charge card").as_deref(), Some("ChargeCard"));
        assert_eq!(type_stem("3ds").as_deref(), Some("Op3ds"));
        assert_eq!(type_stem("--"), None);
    }
}
