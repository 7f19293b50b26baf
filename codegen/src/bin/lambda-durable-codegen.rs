//! The command line of `lambda-durable-codegen`: what a declaration generates, its JSON
//! Schemas and its diagram. Paths are relative to the current directory, so it runs from a
//! user's crate as well as from this repository (`cargo install --path codegen`).
//!
//! ```text
//! lambda-durable-codegen workflows/order.json                 # the generated Rust source
//! lambda-durable-codegen --schema                             # the meta-schema of declarations
//! lambda-durable-codegen export workflows                     # schemas and diagrams into docs/workflows
//! lambda-durable-codegen export --check workflows             # fails when those files are out of date
//! lambda-durable-codegen diagram [--dot] workflows/order.json # the Mermaid (or DOT) diagram
//! lambda-durable-codegen schema workflows/order.json [part]   # one exported JSON Schema
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use lambda_durable_codegen::workflow::{self, export};
use lambda_durable_codegen::CodegenError;

const USAGE: &str = "\
usage:
  lambda-durable-codegen <declaration.json>
      print the Rust source generated from a declaration
  lambda-durable-codegen --schema
      print the meta-schema of declarations
  lambda-durable-codegen export [--out <dir>] [--check] <declaration.json | folder>...
      write the JSON Schemas of each declaration's input, output and operation payloads and
      its diagram (<stem>.md with Mermaid, <stem>.dot) into <dir> (default: docs/workflows);
      with --check, write nothing and fail when a file is missing or out of date
  lambda-durable-codegen diagram [--dot] <declaration.json>
      print the workflow's diagram in Mermaid (or Graphviz DOT)
  lambda-durable-codegen schema <declaration.json> [<part>]
      print one exported JSON Schema: input (the default), output or <operation>.<field>
      (charge-card.input)

Paths are relative to the current directory.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--schema") if args.len() == 1 => emit(&workflow::meta_schema()),
        Some("--help" | "-h" | "help") => emit(&format!("{USAGE}\n")),
        Some("export") => export_command(&args[1..]),
        Some("diagram") => diagram_command(&args[1..]),
        Some("schema") => schema_command(&args[1..]),
        Some(file) if args.len() == 1 && !file.starts_with('-') => {
            workflow::generate_file(Path::new(file), &workflow::WorkflowOptions::default())
                .map_err(Failure::Codegen)
                .and_then(|source| emit(&source))
        }
        _ => Err(Failure::Usage(String::new())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Codegen(err)) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
        Err(Failure::Output(err)) => {
            eprintln!("error: cannot write the output: {err}");
            ExitCode::FAILURE
        }
        Err(Failure::Stale(message)) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
        Err(Failure::Usage(message)) => {
            if !message.is_empty() {
                eprintln!("error: {message}");
            }
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

enum Failure {
    Codegen(CodegenError),
    Output(std::io::Error),
    Stale(String),
    Usage(String),
}

impl From<CodegenError> for Failure {
    fn from(err: CodegenError) -> Self {
        Failure::Codegen(err)
    }
}

/// Writes `text` to stdout. A closed pipe (`... | head`) ends the output quietly.
fn emit(text: &str) -> Result<(), Failure> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::Output(err)),
        _ => Ok(()),
    }
}

/// The declarations named by the arguments: files, and the `*.json` files of folders.
fn declarations(inputs: &[String]) -> Result<Vec<PathBuf>, Failure> {
    if inputs.is_empty() {
        return Err(Failure::Usage(
            "name a declaration or a folder of them".to_string(),
        ));
    }
    let mut files = Vec::new();
    for input in inputs {
        let path = PathBuf::from(input);
        if path.is_dir() {
            files.extend(workflow::declaration_files(&path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

fn export_command(args: &[String]) -> Result<(), Failure> {
    let mut out = PathBuf::from("docs/workflows");
    let mut check = false;
    let mut inputs = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => {
                out = PathBuf::from(
                    args.next()
                        .ok_or_else(|| Failure::Usage("--out needs a folder".to_string()))?,
                );
            }
            "--check" => check = true,
            flag if flag.starts_with('-') => {
                return Err(Failure::Usage(format!("unknown option {flag}")))
            }
            input => inputs.push(input.to_string()),
        }
    }
    let files = declarations(&inputs)?;
    if check {
        let mut stale = Vec::new();
        for file in &files {
            stale.extend(export::stale(file, &out)?);
        }
        if !stale.is_empty() {
            let list: Vec<String> = stale.iter().map(|p| format!("  {}", p.display())).collect();
            return Err(Failure::Stale(format!(
                "out of date or missing:\n{}\nregenerate with: lambda-durable-codegen export --out {} {}",
                list.join("\n"),
                out.display(),
                inputs.join(" ")
            )));
        }
        return emit(&format!("{} up to date\n", out.display()));
    }
    let mut report = String::new();
    for file in &files {
        for written in export::write(file, &out)? {
            report.push_str(&format!("wrote {}\n", written.display()));
        }
    }
    emit(&report)
}

fn diagram_command(args: &[String]) -> Result<(), Failure> {
    let (dot, rest): (bool, Vec<String>) = match args {
        [flag, rest @ ..] if flag == "--dot" => (true, rest.to_vec()),
        [flag, rest @ ..] if flag == "--mermaid" => (false, rest.to_vec()),
        rest => (false, rest.to_vec()),
    };
    let [file] = rest.as_slice() else {
        return Err(Failure::Usage("diagram takes one declaration".to_string()));
    };
    let declaration = workflow::read_declaration(Path::new(file))?;
    if dot {
        emit(&export::dot(&declaration))
    } else {
        emit(&export::mermaid(&declaration))
    }
}

fn schema_command(args: &[String]) -> Result<(), Failure> {
    let (file, part) = match args {
        [file] => (file, "input"),
        [file, part] => (file, part.as_str()),
        _ => {
            return Err(Failure::Usage(
                "schema takes a declaration and optionally a part".to_string(),
            ))
        }
    };
    let declaration = workflow::read_declaration(Path::new(file))?;
    let schemas = export::schemas(&declaration);
    match schemas.iter().find(|(name, _)| name == part) {
        Some((_, schema)) => {
            let text = serde_json::to_string_pretty(schema)
                .unwrap_or_else(|err| unreachable!("a JSON value always serializes: {err}"));
            emit(&format!("{text}\n"))
        }
        None => {
            let parts: Vec<&str> = schemas.iter().map(|(name, _)| name.as_str()).collect();
            Err(Failure::Usage(format!(
                "{file} has no part {part:?}; its parts are {}",
                parts.join(", ")
            )))
        }
    }
}
