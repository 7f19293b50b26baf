//! Contracts between declarations: `$ref`s into other declaration files
//! (`"payments.json#/output"`, relative to the declaring file), and invokes of declared
//! workflows, whose payload and result must agree with the callee's own input and output.
//!
//! Loading a declaration reads every declaration it refers to, directly or not (each once,
//! so files may refer to each other), checks each as its own, and then checks what spans
//! files: that references point at an existing `input`, `output` or definition, that no
//! types refer to each other across files (Rust types in different modules cannot hold
//! each other), and that each invoke agrees with the workflow it invokes.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::declaration::{Declaration, Operation};
use super::parse::escape_pointer;
use crate::CodegenError;

/// What a reference points at in a declaration.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Part {
    /// Its `input`.
    Input,
    /// Its `output`.
    Output,
    /// One of its `definitions`, by key.
    Definition(String),
}

impl Part {
    fn pointer(&self) -> String {
        match self {
            Part::Input => "/input".to_string(),
            Part::Output => "/output".to_string(),
            Part::Definition(name) => format!("/definitions/{}", escape_pointer(name)),
        }
    }
}

/// A schema of a declaration: the declaration (by key) and the part.
pub(crate) type Node = (PathBuf, Part);

/// A `$ref` split into its file (`None` for `#...`, this file) and its pointer.
pub(crate) fn split(target: &str) -> (Option<&str>, &str) {
    match target.split_once('#') {
        Some(("", pointer)) => (None, pointer),
        Some((file, pointer)) => (Some(file), pointer),
        None => (Some(target), ""),
    }
}

/// The part `pointer` names in another declaration, or why it names none.
pub(crate) fn part(pointer: &str) -> Result<Part, String> {
    match pointer {
        "/input" => Ok(Part::Input),
        "/output" => Ok(Part::Output),
        _ => match pointer.strip_prefix("/definitions/") {
            Some(name) if !name.is_empty() && !name.contains('/') => Ok(Part::Definition(
                name.replace("~1", "/").replace("~0", "~"),
            )),
            _ => Err(format!(
                "a reference into another declaration must point at its \"#/input\", \"#/output\" or \"#/definitions/<Name>\", not {:?}",
                format!("#{pointer}")
            )),
        },
    }
}

/// Why the file part of a reference cannot name a declaration, if it cannot.
pub(crate) fn file_problem(file: &str) -> Option<String> {
    if file.contains("://") || file.starts_with('/') || file.starts_with('\\') || file.contains(':')
    {
        return Some(format!(
            "{file:?} is not a path relative to this file; references name other declarations by relative path, like \"payments.json#/output\""
        ));
    }
    None
}

/// The key of a declaration file: its canonical path, or its absolute path with `.` and
/// `..` resolved when it does not exist.
pub(crate) fn key(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        clean(&absolute)
    })
}

/// `path` with `.` dropped and `..` applied to the component before it where there is one.
fn clean(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(component),
            },
            other => out.push(other),
        }
    }
    out.iter().collect()
}

/// The `$ref`s in `value` (a schema found at `pointer`), with the pointer of each `$ref`.
pub(crate) fn refs<'v>(value: &'v Value, pointer: &str, out: &mut Vec<(String, &'v str)>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                out.push((format!("{pointer}/$ref"), target));
            }
            for (key, child) in map {
                if !matches!(key.as_str(), "enum" | "const" | "default" | "examples") {
                    refs(child, &format!("{pointer}/{}", escape_pointer(key)), out);
                }
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                refs(child, &format!("{pointer}/{index}"), out);
            }
        }
        _ => {}
    }
}

/// One declaration of a [`Linked`] group.
#[derive(Debug, Clone)]
pub(crate) struct File {
    /// The path to show in messages and `cargo:rerun-if-changed` (the root's path joined
    /// with the references' relative paths).
    pub(crate) shown: PathBuf,
    pub(crate) declaration: Arc<Declaration>,
}

/// A declaration and every declaration it refers to, directly or not.
#[derive(Debug, Clone, Default)]
pub(crate) struct Linked {
    root: PathBuf,
    files: BTreeMap<PathBuf, File>,
}

impl Linked {
    /// The key of the declaration the group was loaded for.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The declaration with this key.
    pub(crate) fn file(&self, key: &Path) -> Option<&File> {
        self.files.get(key)
    }

    /// The other declarations of the group, by key.
    pub(crate) fn others(&self) -> impl Iterator<Item = (&PathBuf, &File)> {
        self.files.iter().filter(|(key, _)| **key != self.root)
    }

    /// What `target`, a `$ref` in the declaration `from`, points at (`None` for a
    /// reference the checks rejected).
    pub(crate) fn resolve(&self, from: &Path, target: &str) -> Option<Node> {
        let (file, pointer) = split(target);
        match file {
            None => {
                let name = pointer.strip_prefix("/definitions/")?;
                Some((
                    from.to_path_buf(),
                    Part::Definition(name.replace("~1", "/").replace("~0", "~")),
                ))
            }
            Some(file) => {
                let shown = &self.files.get(from)?.shown;
                let joined = clean(&shown.parent().unwrap_or(Path::new("")).join(file));
                Some((key(&joined), part(pointer).ok()?))
            }
        }
    }

    /// The schema of `node`.
    pub(crate) fn schema(&self, node: &Node) -> Option<&Value> {
        let declaration = &self.files.get(&node.0)?.declaration;
        match &node.1 {
            Part::Input => Some(&declaration.input),
            Part::Output => Some(&declaration.output),
            Part::Definition(name) => declaration.definitions.get(name),
        }
    }

    /// `node`, or, for an input or output that is only a reference, what it refers to (an
    /// `input` of `{"$ref": "#/definitions/Order"}` is `Order`).
    pub(crate) fn collapse(&self, node: Node) -> Node {
        let mut node = node;
        for _ in 0..8 {
            if matches!(node.1, Part::Definition(_)) {
                break;
            }
            let next = self
                .schema(&node)
                .and_then(only_ref)
                .and_then(|target| self.resolve(&node.0, target));
            match next {
                Some(next) if next != node => node = next,
                _ => break,
            }
        }
        node
    }

    /// The path to show for the declaration with this key.
    pub(crate) fn shown(&self, key: &Path) -> PathBuf {
        self.files
            .get(key)
            .map_or_else(|| key.to_path_buf(), |file| file.shown.clone())
    }
}

/// The target of a schema that is only a reference (annotations aside).
pub(crate) fn only_ref(schema: &Value) -> Option<&str> {
    let map = schema.as_object()?;
    let target = map.get("$ref")?.as_str()?;
    map.keys()
        .all(|key| key == "$ref" || is_annotation(key))
        .then_some(target)
}

/// Keywords that say nothing about which values a schema accepts.
fn is_annotation(key: &str) -> bool {
    matches!(
        key,
        "title"
            | "description"
            | "$comment"
            | "examples"
            | "readOnly"
            | "writeOnly"
            | "deprecated"
            | "$schema"
    ) || key.starts_with("x-")
}

/// Reads the declarations `declaration` (read from `path`) refers to and checks what spans
/// files; fills the invokes of declared workflows from the callee's declaration.
pub(crate) fn link(path: &Path, declaration: &mut Declaration) -> Result<(), CodegenError> {
    let root = key(path);
    let mut linker = Linker {
        files: BTreeMap::new(),
        root: root.clone(),
    };
    linker.files.insert(
        root.clone(),
        File {
            shown: path.to_path_buf(),
            declaration: Arc::new(declaration.clone()),
        },
    );

    // Invokes naming a `workflow`: read it, then default the payload and result to its
    // input and output.
    for (index, op) in declaration.operations.iter_mut().enumerate() {
        let Operation::Invoke(invoke) = op else {
            continue;
        };
        let Some(workflow) = invoke.workflow.clone() else {
            continue;
        };
        let pointer = format!("/operations/{index}/workflow");
        if let Some(problem) = file_problem(&workflow) {
            return Err(schema_error(path, &pointer, problem));
        }
        linker.read(&root, &workflow, &pointer)?;
        for (field, part) in [(&mut invoke.input, "input"), (&mut invoke.output, "output")] {
            if field.is_none() {
                *field = Some(serde_json::json!({ "$ref": format!("{workflow}#/{part}") }));
            }
        }
    }
    linker.files.insert(
        root.clone(),
        File {
            shown: path.to_path_buf(),
            declaration: Arc::new(declaration.clone()),
        },
    );

    let mut queue = VecDeque::from([root.clone()]);
    let mut visited = BTreeSet::new();
    while let Some(current) = queue.pop_front() {
        if !visited.insert(current.clone()) {
            continue;
        }
        let file = linker.files[&current].clone();
        for (base, schema) in file.declaration.all_schemas() {
            let mut found = Vec::new();
            refs(schema, &base, &mut found);
            for (pointer, target) in found {
                let (Some(other), target_pointer) = split(target) else {
                    continue;
                };
                let Ok(part) = part(target_pointer) else {
                    continue; // rejected by the declaration's own checks
                };
                let other_key = linker.read(&current, other, &pointer)?;
                if other_key == current {
                    let local = match &part {
                        Part::Definition(_) => {
                            format!("write {:?}", format!("#{}", part.pointer()))
                        }
                        Part::Input | Part::Output => {
                            "move the schema into `definitions` and refer to it there".to_string()
                        }
                    };
                    return Err(schema_error(
                        &file.shown,
                        &pointer,
                        format!("reference {target:?} points into this file itself; {local}"),
                    ));
                }
                let callee = &linker.files[&other_key];
                if let Part::Definition(name) = &part {
                    if !callee.declaration.definitions.contains_key(name) {
                        let known: Vec<&str> = callee
                            .declaration
                            .definitions
                            .keys()
                            .map(String::as_str)
                            .collect();
                        return Err(schema_error(
                            &file.shown,
                            &pointer,
                            format!(
                                "{} has no definition {name:?} (its definitions: {known:?})",
                                callee.shown.display()
                            ),
                        ));
                    }
                }
                queue.push_back(other_key);
            }
        }
    }

    let linked = Linked {
        root: root.clone(),
        files: linker.files,
    };
    check_cycles(&linked)?;
    check_invokes(path, declaration, &linked)?;
    declaration.linked = linked;
    Ok(())
}

struct Linker {
    root: PathBuf,
    files: BTreeMap<PathBuf, File>,
}

impl Linker {
    /// Reads (once) the declaration `relative` refers to from the declaration `from`, for
    /// the reference at `pointer`; returns its key.
    fn read(
        &mut self,
        from: &Path,
        relative: &str,
        pointer: &str,
    ) -> Result<PathBuf, CodegenError> {
        let from_shown = self.files[from].shown.clone();
        if let Some(problem) = file_problem(relative) {
            return Err(schema_error(&from_shown, pointer, problem));
        }
        let shown = clean(&from_shown.parent().unwrap_or(Path::new("")).join(relative));
        let other = key(&shown);
        if other == from || other == self.root || self.files.contains_key(&other) {
            return Ok(other);
        }
        let text = std::fs::read_to_string(&shown).map_err(|err| {
            schema_error(
                &from_shown,
                pointer,
                format!(
                    "cannot read the declaration {} that this refers to: {err}",
                    shown.display()
                ),
            )
        })?;
        let value: Value = serde_json::from_str(&text).map_err(|source| CodegenError::Json {
            path: shown.clone(),
            source,
        })?;
        let declaration = super::parse::parse(&shown, &value)?;
        super::validate::validate(&shown, &declaration)?;
        self.files.insert(
            other.clone(),
            File {
                shown,
                declaration: Arc::new(declaration),
            },
        );
        Ok(other)
    }
}

fn schema_error(path: &Path, pointer: &str, message: impl Into<String>) -> CodegenError {
    CodegenError::Schema {
        path: path.to_path_buf(),
        pointer: pointer.to_string(),
        message: message.into(),
    }
}

/// Types of different files may not refer to each other in a cycle: each file's types are
/// generated into a module of their own, and only typify, within one file, boxes what
/// would otherwise hold itself.
fn check_cycles(linked: &Linked) -> Result<(), CodegenError> {
    // Edges: node -> (pointer of the reference in the node's file, target).
    let mut edges: BTreeMap<Node, Vec<(String, Node)>> = BTreeMap::new();
    for (file_key, file) in &linked.files {
        let declaration = &file.declaration;
        let mut parts = vec![Part::Input, Part::Output];
        parts.extend(
            declaration
                .definitions
                .keys()
                .cloned()
                .map(Part::Definition),
        );
        for part in parts {
            let node = (file_key.clone(), part);
            let Some(schema) = linked.schema(&node) else {
                continue;
            };
            let mut found = Vec::new();
            refs(schema, &node.1.pointer(), &mut found);
            let targets = found
                .into_iter()
                .filter_map(|(pointer, target)| Some((pointer, linked.resolve(file_key, target)?)))
                .collect();
            edges.insert(node, targets);
        }
    }
    // Depth-first search; a reference back to a node on the path closes a cycle.
    let mut done: BTreeSet<Node> = BTreeSet::new();
    for start in edges.keys() {
        let mut path: Vec<(Node, usize)> = vec![(start.clone(), 0)];
        let mut on_path: BTreeSet<Node> = BTreeSet::from([start.clone()]);
        while let Some((node, next)) = path.last().cloned() {
            if done.contains(&node) {
                path.pop();
                on_path.remove(&node);
                continue;
            }
            let targets = edges.get(&node).map(Vec::as_slice).unwrap_or_default();
            let Some((pointer, target)) = targets.get(next) else {
                done.insert(node.clone());
                path.pop();
                on_path.remove(&node);
                continue;
            };
            if let Some(last) = path.last_mut() {
                last.1 += 1;
            }
            if on_path.contains(target) {
                let from = path
                    .iter()
                    .position(|(n, _)| n == target)
                    .unwrap_or_default();
                let cycle: Vec<&Node> = path[from..].iter().map(|(n, _)| n).collect();
                if cycle.iter().any(|n| n.0 != target.0) {
                    let mut names: Vec<String> = cycle
                        .iter()
                        .map(|n| format!("{}#{}", linked.shown(&n.0).display(), n.1.pointer()))
                        .collect();
                    names.push(format!(
                        "{}#{}",
                        linked.shown(&target.0).display(),
                        target.1.pointer()
                    ));
                    return Err(schema_error(
                        &linked.shown(&node.0),
                        pointer,
                        format!(
                            "types of different declarations refer to each other: {}; each declaration's types are generated into a module of their own, so types that hold each other must be declared in one file",
                            names.join(" -> ")
                        ),
                    ));
                }
            } else if !done.contains(target) {
                on_path.insert(target.clone());
                path.push((target.clone(), 0));
            }
        }
    }
    Ok(())
}

/// The bare function name of a function name, qualified name or ARN.
fn bare_function(function: &str) -> &str {
    let name = match function.split_once(":function:") {
        Some((_, rest)) => rest,
        None => function,
    };
    name.split(':').next().unwrap_or(name)
}

/// Each invoke of a declared workflow agrees with the callee's declaration: its payload
/// with the callee's input, its result with the callee's output, its function with the
/// callee's function. Fills the function from the callee when the invoke names none.
fn check_invokes(
    path: &Path,
    declaration: &mut Declaration,
    linked: &Linked,
) -> Result<(), CodegenError> {
    let root = linked.root().to_path_buf();
    for (index, op) in declaration.operations.iter_mut().enumerate() {
        let Operation::Invoke(invoke) = op else {
            continue;
        };
        let base = format!("/operations/{index}");
        // The callee, and what names it: (key, pointer, how).
        let mut callee: Option<(PathBuf, String, String)> = None;
        let mut inferred: Option<String> = None;
        if let Some(workflow) = &invoke.workflow {
            let joined = clean(&path.parent().unwrap_or(Path::new("")).join(workflow));
            callee = Some((
                key(&joined),
                format!("{base}/workflow"),
                "`workflow`".to_string(),
            ));
        }
        for (field, wanted) in [("input", Part::Input), ("output", Part::Output)] {
            let schema = if field == "input" {
                invoke.input.as_ref()
            } else {
                invoke.output.as_ref()
            };
            let Some(target) = schema.and_then(only_ref) else {
                continue;
            };
            let Some((other, part)) = linked.resolve(&root, target) else {
                continue;
            };
            if other == root || part != wanted {
                continue;
            }
            match &callee {
                Some((known, _, how)) if *known != other => {
                    return Err(schema_error(
                        path,
                        &format!("{base}/{field}/$ref"),
                        format!(
                            "the {field} is the {field} of {}, but {how} names {}: an invoke calls one workflow",
                            linked.shown(&other).display(),
                            linked.shown(known).display()
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    inferred = split(target).0.map(str::to_string);
                    callee = Some((
                        other,
                        format!("{base}/{field}/$ref"),
                        format!("the {field}'s reference"),
                    ));
                }
            }
        }
        let Some((callee, _, _)) = callee else {
            continue;
        };
        if invoke.workflow.is_none() {
            invoke.workflow = inferred;
        }
        let Some(file) = linked.file(&callee) else {
            continue;
        };
        let callee_shown = file.shown.display().to_string();
        for (field, part, what) in [
            ("input", Part::Input, "payload"),
            ("output", Part::Output, "result"),
        ] {
            let schema = if field == "input" {
                invoke.input.as_ref()
            } else {
                invoke.output.as_ref()
            };
            let theirs = (callee.clone(), part);
            let Some(their_schema) = linked.schema(&theirs) else {
                continue;
            };
            let ours = schema.cloned().unwrap_or(Value::Null);
            let absent = schema.is_none();
            let mut seen = BTreeSet::new();
            let compared = if absent {
                Err(format!("the invoke declares no {field}"))
            } else {
                Comparison {
                    linked,
                    seen: &mut seen,
                    callee: &callee_shown,
                }
                .compare((&root, &ours), (&callee, their_schema), "", 0)
            };
            if let Err(detail) = compared {
                return Err(schema_error(
                    path,
                    &format!("{base}/{field}"),
                    format!(
                        "the {what} does not match the {field} of the invoked workflow {:?} ({callee_shown}#/{field}): {detail}",
                        file.declaration.name
                    ),
                ));
            }
        }
        match (&invoke.function, &file.declaration.function) {
            (Some(ours), Some(theirs)) if bare_function(ours) != bare_function(theirs) => {
                return Err(schema_error(
                    path,
                    &format!("{base}/function"),
                    format!(
                        "invokes {ours:?}, but {callee_shown} declares that the workflow {:?} is deployed as {theirs:?}",
                        file.declaration.name
                    ),
                ));
            }
            (None, Some(theirs)) => invoke.function = Some(theirs.clone()),
            _ => {}
        }
    }
    Ok(())
}

/// Structural comparison of two schemas of (possibly) different files, references
/// followed, annotations ignored.
struct Comparison<'a> {
    linked: &'a Linked,
    seen: &'a mut BTreeSet<(Node, Node)>,
    callee: &'a str,
}

/// Keywords whose values are schemas, or maps or lists of schemas.
const SCHEMA_KEYWORDS: &[&str] = &[
    "properties",
    "items",
    "additionalProperties",
    "allOf",
    "anyOf",
    "oneOf",
];

impl Comparison<'_> {
    fn compare(
        &mut self,
        ours: (&Path, &Value),
        theirs: (&Path, &Value),
        at: &str,
        depth: usize,
    ) -> Result<(), String> {
        if depth > 64 {
            return Ok(());
        }
        let our_ref = ref_of(ours.1).and_then(|t| self.linked.resolve(ours.0, t));
        let their_ref = ref_of(theirs.1).and_then(|t| self.linked.resolve(theirs.0, t));
        if our_ref.is_some() || their_ref.is_some() {
            if let (Some(a), Some(b)) = (&our_ref, &their_ref) {
                if a == b || !self.seen.insert((a.clone(), b.clone())) {
                    return Ok(());
                }
            }
            let next = |node: &Option<Node>, side: (&Path, &Value)| -> (PathBuf, Value) {
                match node {
                    Some(node) => (
                        node.0.clone(),
                        self.linked
                            .schema(node)
                            .cloned()
                            .unwrap_or(Value::Bool(true)),
                    ),
                    None => (side.0.to_path_buf(), side.1.clone()),
                }
            };
            let (a_file, a) = next(&our_ref, ours);
            let (b_file, b) = next(&their_ref, theirs);
            return self.compare((&a_file, &a), (&b_file, &b), at, depth + 1);
        }
        let a = as_map(ours.1);
        let b = as_map(theirs.1);
        let keys: BTreeSet<&String> = a
            .keys()
            .chain(b.keys())
            .filter(|key| !is_annotation(key))
            .collect();
        let place = if at.is_empty() {
            "the root".to_string()
        } else {
            at.to_string()
        };
        for key in keys {
            let here = format!("{at}/{}", escape_pointer(key));
            match (a.get(key.as_str()), b.get(key.as_str())) {
                (Some(x), None) => {
                    return Err(format!(
                        "at {place}, `{key}` is {x} here and absent in {}",
                        self.callee
                    ))
                }
                (None, Some(y)) => {
                    return Err(format!(
                        "at {place}, `{key}` is absent here and {y} in {}",
                        self.callee
                    ))
                }
                (Some(x), Some(y)) if SCHEMA_KEYWORDS.contains(&key.as_str()) => {
                    self.compare_nested(key, (ours.0, x), (theirs.0, y), &here, depth)?;
                }
                (Some(x), Some(y)) => {
                    if !same_value(key, x, y) {
                        return Err(format!(
                            "at {place}, `{key}` is {x} here and {y} in {}",
                            self.callee
                        ));
                    }
                }
                (None, None) => {}
            }
        }
        Ok(())
    }

    fn compare_nested(
        &mut self,
        key: &str,
        ours: (&Path, &Value),
        theirs: (&Path, &Value),
        at: &str,
        depth: usize,
    ) -> Result<(), String> {
        match (key, ours.1, theirs.1) {
            ("properties", Value::Object(a), Value::Object(b)) => {
                let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
                for name in names {
                    match (a.get(name.as_str()), b.get(name.as_str())) {
                        (Some(x), Some(y)) => self.compare(
                            (ours.0, x),
                            (theirs.0, y),
                            &format!("{at}/{}", escape_pointer(name)),
                            depth + 1,
                        )?,
                        (Some(_), None) => {
                            return Err(format!(
                                "the property {name:?} is declared here but not in {}",
                                self.callee
                            ))
                        }
                        (None, Some(_)) => {
                            return Err(format!(
                                "the property {name:?} is declared in {} but not here",
                                self.callee
                            ))
                        }
                        (None, None) => {}
                    }
                }
                Ok(())
            }
            (_, Value::Array(a), Value::Array(b)) => {
                if a.len() != b.len() {
                    return Err(format!(
                        "at {at}, {} schemas here and {} in {}",
                        a.len(),
                        b.len(),
                        self.callee
                    ));
                }
                for (index, (x, y)) in a.iter().zip(b).enumerate() {
                    self.compare(
                        (ours.0, x),
                        (theirs.0, y),
                        &format!("{at}/{index}"),
                        depth + 1,
                    )?;
                }
                Ok(())
            }
            _ => self.compare(ours, theirs, at, depth + 1),
        }
    }
}

/// The `$ref` of a schema (its siblings do not count, as in draft 7).
fn ref_of(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()
}

/// A schema as an object: `true` is `{}`, `false` is `{"not": {}}`.
fn as_map(schema: &Value) -> Map<String, Value> {
    match schema {
        Value::Object(map) => map.clone(),
        Value::Bool(false) => {
            let mut map = Map::new();
            map.insert("not".to_string(), Value::Object(Map::new()));
            map
        }
        _ => Map::new(),
    }
}

/// Values of keywords that are lists of names compare as sets.
fn same_value(key: &str, a: &Value, b: &Value) -> bool {
    let as_set = |value: &Value| -> Option<BTreeSet<String>> {
        match value {
            Value::Array(items) => Some(items.iter().map(Value::to_string).collect()),
            Value::String(one) if key == "type" => {
                Some(BTreeSet::from([Value::String(one.clone()).to_string()]))
            }
            _ => None,
        }
    };
    if matches!(key, "required" | "type" | "enum") {
        if let (Some(x), Some(y)) = (as_set(a), as_set(b)) {
            return x == y;
        }
    }
    a == b
}
