use std::path::PathBuf;

/// A failure of code generation. Each variant names the file and, where it applies, the
/// JSON pointer of the part of the schema that is wrong.
///
/// `Debug` prints the same text as `Display` (`<file> at <pointer>: <message>`), so that a
/// build script returning the error with `?` shows it as the CLI does, not as a struct with
/// escaped quotes.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum CodegenError {
    /// A schema file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A schema file is not valid JSON.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parse error, with line and column.
        source: serde_json::Error,
    },
    /// A schema file is valid JSON but breaks a rule of the schema layout.
    #[error("{path}{}: {message}", pointer_suffix(pointer))]
    Schema {
        /// The file.
        path: PathBuf,
        /// JSON pointer to the offending value (empty for the whole document).
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// typify could not turn the schemas into types.
    #[error("{what}: type generation failed{}: {message}", definition.as_ref().map(|d| format!(" in definition {d}")).unwrap_or_default())]
    Typify {
        /// The folder or file being generated.
        what: String,
        /// The definition typify rejected, when it could be found.
        definition: Option<String>,
        /// typify's message.
        message: String,
    },
    /// A template of the workflow generator failed to render (a generator bug).
    #[error("{what}: template {template} failed: {message}")]
    Template {
        /// The generated unit.
        what: String,
        /// The template's name.
        template: String,
        /// tera's message, with its causes.
        message: String,
    },
    /// A build script ran without an environment variable cargo sets.
    #[error("environment variable {0} is not set (is this running in a build script?)")]
    MissingEnv(&'static str),
    /// Generated tokens did not parse as Rust (a generator bug).
    #[error("{what}: generated code does not parse: {message}")]
    Render {
        /// The generated unit.
        what: String,
        /// The parser's message.
        message: String,
    },
}

impl std::fmt::Debug for CodegenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

fn pointer_suffix(pointer: &str) -> String {
    if pointer.is_empty() {
        String::new()
    } else {
        format!(" at {pointer}")
    }
}
