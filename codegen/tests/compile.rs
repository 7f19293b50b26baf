//! Compiles every wire snapshot (`tests/snapshots/wire/<case>.rs`) under
//! `#![deny(warnings)]`, through the wrappers in `tests/compile/<case>.rs`, and runs the
//! small checks in each wrapper's `main`; `tests/compile/workflow_snapshots.rs` does the
//! same for every workflow snapshot, against the real `lambda-durable` runtime. One
//! trybuild run for all of them.

#[test]
fn snapshots_compile_without_warnings() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/compile/*.rs");
}
