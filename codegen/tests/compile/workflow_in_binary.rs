//! A workflow included as a function's binary includes it, in a private module of its
//! `main.rs`, compiles under `#![deny(warnings)]` with no lint allowed: once the handler
//! uses the declared operations, nothing generated is dead code. (`dead_code` is named
//! on its own because trybuild allows it on the command line.)
#![deny(warnings, dead_code)]

mod minimal {
    include!("../snapshots/workflow/minimal_step.rs");
}

async fn process(
    _input: minimal::Input,
    wf: minimal::Workflow,
) -> Result<minimal::Output, lambda_durable::Error> {
    wf.do_it(|_step| async { Ok::<_, std::io::Error>(()) }).await
}

fn main() {
    let _handler = minimal::handler(process);
}
