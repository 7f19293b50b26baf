//! The generated helpers turn mistakes into compile errors: a wrong output type, a misspelt
//! operation, a missing argument and a handler with the wrong output (`tests/ui/*.stderr`).
//!
//! After a change of the messages, regenerate them with
//! `TRYBUILD=overwrite cargo test -p orders --test compile_fail` and review them.

#[test]
fn misuses_of_the_generated_helpers_do_not_compile() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
