//! What a declaration says, for readers other than the Rust compiler: the JSON Schemas of
//! its input, its output and each operation's payloads (standalone documents for API
//! gateways, clients in other languages and documentation), and a diagram of the workflow
//! in Mermaid (which GitHub renders in Markdown) and Graphviz DOT, showing the operations,
//! their kinds, retries, timeouts, callbacks, invokes and nesting.
//!
//! ```no_run
//! use std::path::Path;
//!
//! use lambda_durable_codegen::workflow::export;
//!
//! // Writes docs/workflows/order.input.schema.json, order.output.schema.json, one file per
//! // operation payload, order.md (Mermaid) and order.dot.
//! export::write(Path::new("workflows/order.json"), Path::new("docs/workflows")).unwrap();
//! // In a test: the committed files are those the declaration makes.
//! assert!(export::stale(Path::new("workflows/order.json"), Path::new("docs/workflows")).unwrap().is_empty());
//! ```
//!
//! The files name the declaration by its file name only, so they are the same whichever
//! folder the export runs from.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::bundle::standalone;
use super::declaration::{Declaration, Operation};
use super::nesting::{self, Parent};
use super::{describe, names};
use crate::CodegenError;

/// One exported file: its name (no folder) and its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedFile {
    /// The file name, `<declaration stem>.<part>`: `order.input.schema.json`, `order.md`.
    pub name: String,
    /// The file's text.
    pub contents: String,
}

/// Every file exported for the declaration `text` (read from `path`, which names it in
/// errors and gives the file names their stem), after the checks of
/// [`generate`](super::generate).
///
/// # Errors
///
/// The errors of reading and checking a declaration ([`CodegenError::Json`],
/// [`CodegenError::Schema`]).
pub fn export(path: &Path, text: &str) -> Result<Vec<ExportedFile>, CodegenError> {
    let declaration = super::load(path, text)?;
    let stem = stem(path)?;
    let source = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut files = Vec::new();
    for (part, schema) in schemas(&declaration) {
        let mut schema = schema;
        if let Value::Object(map) = &mut schema {
            let note = format!(
                "Exported from {source} by lambda-durable-codegen; regenerate it, do not edit."
            );
            let comment = match map.get("$comment").and_then(Value::as_str) {
                Some(own) => format!("{note} {own}"),
                None => note,
            };
            map.insert("$comment".to_string(), Value::String(comment));
        }
        let mut contents = serde_json::to_string_pretty(&schema)
            .unwrap_or_else(|err| unreachable!("a JSON value always serializes: {err}"));
        contents.push('\n');
        files.push(ExportedFile {
            name: format!("{stem}.{part}.schema.json"),
            contents,
        });
    }
    let schema_files: Vec<String> = files.iter().map(|file| file.name.clone()).collect();
    files.push(ExportedFile {
        name: format!("{stem}.md"),
        contents: markdown(&declaration, &source, &schema_files),
    });
    files.push(ExportedFile {
        name: format!("{stem}.dot"),
        contents: dot(&declaration),
    });
    Ok(files)
}

/// Reads the declaration `path` and exports it (see [`export`]).
///
/// # Errors
///
/// See [`export`]; also [`CodegenError::Io`] when the file cannot be read.
pub fn export_file(path: &Path) -> Result<Vec<ExportedFile>, CodegenError> {
    let text = std::fs::read_to_string(path).map_err(|source| CodegenError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    export(path, &text)
}

/// Exports the declaration `path` into `out_dir` (created when missing), returning the
/// files written.
///
/// # Errors
///
/// See [`export_file`]; [`CodegenError::Io`] when a file cannot be written.
pub fn write(path: &Path, out_dir: &Path) -> Result<Vec<PathBuf>, CodegenError> {
    let files = export_file(path)?;
    std::fs::create_dir_all(out_dir).map_err(|source| CodegenError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::with_capacity(files.len());
    for file in files {
        let target = out_dir.join(&file.name);
        std::fs::write(&target, file.contents).map_err(|source| CodegenError::Io {
            path: target.clone(),
            source,
        })?;
        written.push(target);
    }
    Ok(written)
}

/// The files of `out_dir` that differ from what the declaration `path` exports now, or are
/// missing: empty when the exported files are up to date.
///
/// # Errors
///
/// See [`export_file`].
pub fn stale(path: &Path, out_dir: &Path) -> Result<Vec<PathBuf>, CodegenError> {
    let mut stale = Vec::new();
    for file in export_file(path)? {
        let target = out_dir.join(&file.name);
        if std::fs::read_to_string(&target).ok().as_deref() != Some(file.contents.as_str()) {
            stale.push(target);
        }
    }
    Ok(stale)
}

fn stem(path: &Path) -> Result<String, CodegenError> {
    path.file_stem()
        .and_then(|stem| stem.to_str())
        .map(str::to_string)
        .ok_or_else(|| CodegenError::Schema {
            path: path.to_path_buf(),
            pointer: String::new(),
            message: "file name is not valid UTF-8".to_string(),
        })
}

/// The standalone schemas of the declaration, by part name: `input`, `output`, and
/// `<operation>.<field>` for each schema of an operation (`charge-card.input`).
pub fn schemas(declaration: &Declaration) -> Vec<(String, Value)> {
    let name = &declaration.name;
    let mut out = vec![
        (
            "input".to_string(),
            standalone(declaration, &declaration.input, &format!("{name} input")),
        ),
        (
            "output".to_string(),
            standalone(declaration, &declaration.output, &format!("{name} output")),
        ),
    ];
    for op in &declaration.operations {
        let part = kebab(op.name());
        for (field, schema) in op.schemas() {
            let title = format!("{name}: {} {field}", op.name());
            out.push((
                format!("{part}.{field}"),
                standalone(declaration, schema, &title),
            ));
        }
    }
    out
}

/// An operation name as a file name part: its Rust method name in kebab case.
fn kebab(name: &str) -> String {
    names::method_name(name)
        .map(|method| names::unraw(&method).replace('_', "-"))
        .unwrap_or_else(|_| "operation".to_string())
}

/// The shape of a node, by operation kind.
#[derive(Clone, Copy)]
enum Shape {
    Box,
    Rounded,
    Hexagon,
    Subroutine,
    Diamond,
    Note,
    Terminal,
}

/// What a diagram draws, before it is written in one syntax or the other.
enum Item {
    Node {
        id: String,
        lines: Vec<String>,
        shape: Shape,
    },
    Group {
        id: String,
        title: String,
        items: Vec<Item>,
    },
}

struct Edge {
    from: String,
    to: String,
    label: Option<&'static str>,
}

/// The declaration as items and edges: operations in declaration order within their
/// parent (the workflow, a child context, a map's items, a parallel branch), each parent's
/// operations chained from its entry, loops for retries and polls.
struct Diagram {
    items: Vec<Item>,
    edges: Vec<Edge>,
}

impl Diagram {
    fn of(declaration: &Declaration) -> Self {
        let ops = &declaration.operations;
        let parents: Vec<Parent> = (0..ops.len())
            .map(|index| nesting::parent_unchecked(ops, index))
            .collect();
        let mut diagram = Diagram {
            items: Vec::new(),
            edges: Vec::new(),
        };
        let mut items = vec![Item::Node {
            id: "start".to_string(),
            lines: vec![format!("start: {}", declaration.name)],
            shape: Shape::Terminal,
        }];
        items.extend(diagram.items_of(ops, &parents, Parent::Root));
        items.push(Item::Node {
            id: "finish".to_string(),
            lines: vec!["end".to_string()],
            shape: Shape::Terminal,
        });
        diagram.items = items;
        let exits = diagram.chain(ops, &parents, Parent::Root, vec!["start".to_string()]);
        for from in exits {
            diagram.edge(from, "finish".to_string(), None);
        }
        diagram
    }

    fn edge(&mut self, from: String, to: String, label: Option<&'static str>) {
        self.edges.push(Edge { from, to, label });
    }

    fn children(parents: &[Parent], parent: Parent) -> Vec<usize> {
        (0..parents.len())
            .filter(|index| parents[*index] == parent)
            .collect()
    }

    fn items_of(&mut self, ops: &[Operation], parents: &[Parent], parent: Parent) -> Vec<Item> {
        let mut items = Vec::new();
        for index in Self::children(parents, parent) {
            let op = &ops[index];
            let id = format!("op{index}");
            let shape = match op {
                Operation::Wait(_) => Shape::Rounded,
                Operation::Callback(_) => Shape::Hexagon,
                Operation::Invoke(_) => Shape::Subroutine,
                Operation::WaitForCondition(_) => Shape::Diamond,
                _ => Shape::Box,
            };
            let node = Item::Node {
                id: id.clone(),
                lines: diagram_lines(op),
                shape,
            };
            match op {
                Operation::ChildContext(_) => {
                    let mut inner = vec![node];
                    inner.extend(self.items_of(ops, parents, Parent::Operation(index)));
                    items.push(Item::Group {
                        id: format!("{id}g"),
                        title: format!("child context: {}", op.name()),
                        items: inner,
                    });
                }
                Operation::Map(_) => {
                    let mut inner = vec![
                        node,
                        Item::Node {
                            id: format!("{id}i"),
                            lines: vec!["each item, in a child context of its own".to_string()],
                            shape: Shape::Note,
                        },
                    ];
                    self.edge(id.clone(), format!("{id}i"), None);
                    inner.extend(self.items_of(ops, parents, Parent::Operation(index)));
                    items.push(Item::Group {
                        id: format!("{id}g"),
                        title: format!("map: {}", op.name()),
                        items: inner,
                    });
                }
                Operation::Parallel(parallel) => {
                    let mut inner = vec![node];
                    for (branch, name) in parallel.branches.iter().enumerate() {
                        let branch_id = format!("{id}b{branch}");
                        inner.push(Item::Node {
                            id: branch_id.clone(),
                            lines: vec![format!("branch: {name}")],
                            shape: Shape::Box,
                        });
                        self.edge(id.clone(), branch_id, None);
                        inner.extend(self.items_of(ops, parents, Parent::Branch(index, branch)));
                    }
                    items.push(Item::Group {
                        id: format!("{id}g"),
                        title: format!("parallel: {}", op.name()),
                        items: inner,
                    });
                }
                _ => items.push(node),
            }
        }
        items
    }

    /// Chains the operations of `parent` from `entry`, returning the nodes the next
    /// operation follows.
    fn chain(
        &mut self,
        ops: &[Operation],
        parents: &[Parent],
        parent: Parent,
        entry: Vec<String>,
    ) -> Vec<String> {
        let mut previous = entry;
        for index in Self::children(parents, parent) {
            let op = &ops[index];
            let id = format!("op{index}");
            for from in &previous {
                self.edge(from.clone(), id.clone(), None);
            }
            if has_retries(op) {
                self.edge(id.clone(), id.clone(), Some("retry"));
            }
            if matches!(op, Operation::WaitForCondition(_)) {
                self.edge(id.clone(), id.clone(), Some("poll again"));
            }
            previous = match op {
                Operation::ChildContext(_) => {
                    self.chain(ops, parents, Parent::Operation(index), vec![id])
                }
                Operation::Map(_) => self.chain(
                    ops,
                    parents,
                    Parent::Operation(index),
                    vec![format!("{id}i")],
                ),
                Operation::Parallel(parallel) => {
                    let mut exits = Vec::new();
                    for branch in 0..parallel.branches.len() {
                        exits.extend(self.chain(
                            ops,
                            parents,
                            Parent::Branch(index, branch),
                            vec![format!("{id}b{branch}")],
                        ));
                    }
                    exits
                }
                _ => vec![id],
            };
        }
        previous
    }
}

/// The configuration lines a diagram shows: the declared ones and the ones that matter
/// (retries, timeouts, limits), not every default.
fn diagram_lines(op: &Operation) -> Vec<String> {
    let mut lines = vec![op.name().to_string(), op.kind().to_string()];
    for (label, value) in describe::configuration(op) {
        let value = match (label, value.as_str()) {
            ("timeout", "none")
            | ("concurrency", "unlimited")
            | ("completion", "every item, no failure tolerated")
            | ("nesting", "nested (a child context per item)")
            | ("semantics", "at least once per retry")
            | ("branches", _) => continue,
            ("semantics", _) => "at most once per retry".to_string(),
            _ => value,
        };
        lines.push(format!("{label}: {value}"));
    }
    lines
}

fn has_retries(op: &Operation) -> bool {
    use super::declaration::RetryPolicy;
    let retry = match op {
        Operation::Step(step) => step.retry.as_ref(),
        Operation::Callback(callback) => match &callback.submitter {
            Some(submitter) => submitter.retry.as_ref(),
            None => return false,
        },
        _ => return false,
    };
    !matches!(retry, Some(RetryPolicy::None(_)))
}

/// The Mermaid flowchart of the declaration: operations in declaration order (the handler
/// decides the real order and which of them run), each with its kind and configuration;
/// maps, parallels and child contexts as groups holding the operations declared `within`
/// them, retries and polls as loops.
pub fn mermaid(declaration: &Declaration) -> String {
    let diagram = Diagram::of(declaration);
    let mut out = String::from("flowchart TD\n");
    mermaid_items(&diagram.items, 1, &mut out);
    for edge in &diagram.edges {
        match edge.label {
            Some(label) => {
                let _ = writeln!(out, "    {} -. {label} .-> {}", edge.from, edge.to);
            }
            None => {
                let _ = writeln!(out, "    {} --> {}", edge.from, edge.to);
            }
        }
    }
    out
}

fn mermaid_items(items: &[Item], depth: usize, out: &mut String) {
    let indent = "    ".repeat(depth);
    for item in items {
        match item {
            Item::Node { id, lines, shape } => {
                let text = mermaid_text(lines);
                let shaped = match shape {
                    Shape::Box => format!("[\"{text}\"]"),
                    Shape::Rounded => format!("(\"{text}\")"),
                    Shape::Hexagon => format!("{{{{\"{text}\"}}}}"),
                    Shape::Subroutine => format!("[[\"{text}\"]]"),
                    Shape::Diamond => format!("{{\"{text}\"}}"),
                    Shape::Note => format!("[/\"{text}\"/]"),
                    Shape::Terminal => format!("([\"{text}\"])"),
                };
                let _ = writeln!(out, "{indent}{id}{shaped}");
            }
            Item::Group { id, title, items } => {
                let _ = writeln!(
                    out,
                    "{indent}subgraph {id} [\"{}\"]",
                    mermaid_text(std::slice::from_ref(title))
                );
                mermaid_items(items, depth + 1, out);
                let _ = writeln!(out, "{indent}end");
            }
        }
    }
}

/// Text for a Mermaid label in double quotes, lines joined with `<br/>`.
fn mermaid_text(lines: &[String]) -> String {
    lines
        .iter()
        .map(|line| {
            line.replace('&', "#amp;")
                .replace('"', "#quot;")
                .replace('<', "#lt;")
                .replace('>', "#gt;")
        })
        .collect::<Vec<_>>()
        .join("<br/>")
}

/// The Graphviz DOT graph of the declaration, with the same content as [`mermaid`]:
/// dashed clusters for maps, parallels and child contexts, dashed loops for retries and
/// polls.
pub fn dot(declaration: &Declaration) -> String {
    let diagram = Diagram::of(declaration);
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", dot_string(&declaration.name));
    out.push_str("    rankdir=TB;\n    node [fontname=\"Helvetica\", fontsize=10];\n    edge [fontname=\"Helvetica\", fontsize=9];\n");
    dot_items(&diagram.items, 1, &mut out);
    for edge in &diagram.edges {
        match edge.label {
            Some(label) => {
                let _ = writeln!(
                    out,
                    "    {} -> {} [style=dashed, label={}];",
                    edge.from,
                    edge.to,
                    dot_string(label)
                );
            }
            None => {
                let _ = writeln!(out, "    {} -> {};", edge.from, edge.to);
            }
        }
    }
    out.push_str("}\n");
    out
}

fn dot_items(items: &[Item], depth: usize, out: &mut String) {
    let indent = "    ".repeat(depth);
    for item in items {
        match item {
            Item::Node { id, lines, shape } => {
                let shape = match shape {
                    Shape::Box => "shape=box",
                    Shape::Rounded => "shape=box, style=rounded",
                    Shape::Hexagon => "shape=hexagon",
                    Shape::Subroutine => "shape=component",
                    Shape::Diamond => "shape=diamond",
                    Shape::Note => "shape=box, style=dotted",
                    Shape::Terminal => "shape=oval",
                };
                let _ = writeln!(
                    out,
                    "{indent}{id} [{shape}, label={}];",
                    dot_string(&lines.join("\n"))
                );
            }
            Item::Group { id, title, items } => {
                let _ = writeln!(
                    out,
                    "{indent}subgraph cluster_{id} {{\n{indent}    label={};\n{indent}    style=dashed;",
                    dot_string(title)
                );
                dot_items(items, depth + 1, out);
                let _ = writeln!(out, "{indent}}}");
            }
        }
    }
}

/// A DOT string literal.
fn dot_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The Markdown page of a declaration: the Mermaid diagram, a table of the operations and
/// the list of exported schemas.
fn markdown(declaration: &Declaration, source: &str, schema_files: &[String]) -> String {
    let mut out = format!("# Workflow `{}`\n\n", declaration.name);
    let _ = writeln!(
        out,
        "<!-- Exported from {source} by lambda-durable-codegen (`lambda-durable-codegen export`); regenerate it, do not edit. -->\n"
    );
    if let Some(description) = &declaration.description {
        let _ = writeln!(out, "{description}\n");
    }
    out.push_str("Operations in declaration order; the handler decides the order they run in and which of them run.\n\n");
    let _ = writeln!(out, "```mermaid\n{}```\n", mermaid(declaration));
    out.push_str("| operation | kind | configuration |\n|---|---|---|\n");
    for op in &declaration.operations {
        let config: Vec<String> = describe::configuration(op)
            .into_iter()
            .map(|(label, value)| format!("{label}: {value}"))
            .collect();
        let _ = writeln!(
            out,
            "| {} | `{}` | {} |",
            table_cell(op.name()),
            op.kind(),
            table_cell(&config.join("; "))
        );
    }
    out.push_str("\nJSON Schemas (draft 7):\n\n");
    for file in schema_files {
        let _ = writeln!(out, "- [`{file}`]({file})");
    }
    out
}

fn table_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
