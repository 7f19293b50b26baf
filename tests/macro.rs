//! Compile tests of `#[durable_execution]`: valid handlers build, and each misuse is a
//! compile error pointing at the offending part of the signature (`tests/ui/*.stderr`).
//!
//! After changing a message, regenerate the snapshots with `TRYBUILD=overwrite cargo test
//! --test macro` and review them.

#[test]
fn durable_execution() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/*.rs");
}
