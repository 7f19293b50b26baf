//! The `lambda-durable-codegen` binary prints what a declaration generates, the
//! meta-schema, exports schemas and diagrams, or the error of a bad declaration. It works
//! from any folder (a user's crate), with paths relative to it.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn codegen_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lambda-durable-codegen"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn codegen(args: &[&str]) -> std::process::Output {
    codegen_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn prints_the_generated_source_of_a_declaration() {
    let output = codegen(&["tests/snapshots/workflow/minimal_step.json"]);
    assert!(output.status.success(), "{output:?}");
    let expected = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/snapshots/workflow/minimal_step.rs"
    ))
    .unwrap();
    assert_eq!(text(&output.stdout), expected);
}

#[test]
fn prints_the_meta_schema() {
    let output = codegen(&["--schema"]);
    assert!(output.status.success());
    assert_eq!(
        text(&output.stdout),
        lambda_durable_codegen::workflow::meta_schema()
    );
}

#[test]
fn a_bad_declaration_fails_with_its_error() {
    let output = codegen(&["tests/does-not-exist.json"]);
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("error: cannot read tests/does-not-exist.json"),
        "{stderr}"
    );
    let usage = codegen(&[]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(text(&usage.stderr).contains("lambda-durable-codegen export"));
    let unknown = codegen(&["export", "--bogus", "x.json"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).starts_with("error: unknown option --bogus"));
}

/// A user's crate: a folder with `workflows/` and nothing of this repository.
fn user_crate(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("user-crate-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("workflows")).unwrap();
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/snapshots/workflow/callback_submitter.json"
        ),
        dir.join("workflows/approve.json"),
    )
    .unwrap();
    dir
}

#[test]
fn export_writes_and_checks_from_a_users_crate() {
    let dir = user_crate("export");
    let output = codegen_in(&dir, &["export", "workflows"]);
    assert!(output.status.success(), "{output:?}");
    assert!(
        text(&output.stdout).contains("wrote docs/workflows/approve.md"),
        "{output:?}"
    );
    for name in [
        "approve.input.schema.json",
        "approve.output.schema.json",
        "approve.md",
        "approve.dot",
    ] {
        assert!(
            dir.join("docs/workflows").join(name).is_file(),
            "{name} missing"
        );
    }

    let check = codegen_in(&dir, &["export", "--check", "workflows/approve.json"]);
    assert!(check.status.success(), "{check:?}");
    assert!(text(&check.stdout).contains("docs/workflows up to date"));

    std::fs::write(dir.join("docs/workflows/approve.md"), "stale").unwrap();
    let check = codegen_in(&dir, &["export", "--check", "workflows/approve.json"]);
    assert_eq!(check.status.code(), Some(1));
    let stderr = text(&check.stderr);
    assert!(
        stderr.contains("out of date or missing:\n  docs/workflows/approve.md\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("regenerate with: lambda-durable-codegen export --out docs/workflows workflows/approve.json"),
        "{stderr}"
    );

    let other = codegen_in(
        &dir,
        &["export", "--out", "elsewhere", "workflows/approve.json"],
    );
    assert!(other.status.success(), "{other:?}");
    assert!(dir.join("elsewhere/approve.dot").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn diagram_and_schema_print_one_export() {
    let dir = user_crate("print");
    let mermaid = codegen_in(&dir, &["diagram", "workflows/approve.json"]);
    assert!(mermaid.status.success(), "{mermaid:?}");
    assert!(text(&mermaid.stdout).starts_with("flowchart TD\n"));
    let dot = codegen_in(&dir, &["diagram", "--dot", "workflows/approve.json"]);
    assert!(text(&dot.stdout).starts_with("digraph "), "{dot:?}");

    let input = codegen_in(&dir, &["schema", "workflows/approve.json"]);
    assert!(input.status.success(), "{input:?}");
    let schema: serde_json::Value = serde_json::from_slice(&input.stdout).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");

    let missing = codegen_in(&dir, &["schema", "workflows/approve.json", "nope"]);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = text(&missing.stderr);
    assert!(
        stderr.contains("has no part \"nope\"; its parts are input, output"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::io::Read as _;
    use std::process::Stdio;
    // Enough operations that the output is larger than a pipe's buffer.
    let dir = user_crate("pipe");
    let operations: Vec<serde_json::Value> = (0..400)
        .map(|index| serde_json::json!({"kind": "step", "name": format!("step {index}")}))
        .collect();
    let declaration =
        serde_json::json!({"name": "big", "input": true, "output": true, "operations": operations});
    std::fs::write(dir.join("workflows/big.json"), declaration.to_string()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lambda-durable-codegen"))
        .args(["workflows/big.json"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read a little, then close the pipe, as `| head` does.
    let mut first = [0u8; 16];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut first)
        .unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(status.success(), "{status:?}: {stderr}");
    let full = codegen_in(&dir, &["workflows/big.json"]);
    assert!(
        full.stdout.len() > 256 * 1024,
        "{} bytes",
        full.stdout.len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_schema_typify_rejects_is_one_error_line_not_a_panic() {
    let dir = user_crate("typify");
    std::fs::write(
        dir.join("workflows/signs.json"),
        r#"{"name": "signs", "input": {"enum": ["+", "-"]}, "output": true, "operations": []}"#,
    )
    .unwrap();
    let output = codegen_in(&dir, &["workflows/signs.json"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert_eq!(
        stderr,
        "error: workflows/signs.json at /input: cannot make a type: unsupported schema: Failed to make unique variant names for [+,-]\n"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
