//! Compiles every workflow snapshot (`tests/snapshots/workflow/<case>.rs`) under
//! `#![deny(warnings)]` against the real runtime. Written by `tests/workflow_snapshots.rs`
//! with `UPDATE_SNAPSHOTS=1`; do not edit.
#![deny(warnings)]
// In a binary every generated item that `main` does not use is dead code; that says
// nothing about the generated code, which users include in libraries.
#![allow(dead_code)]

mod callback_create {
    include!("../snapshots/workflow/callback_create.rs");
}

mod callback_submitter {
    include!("../snapshots/workflow/callback_submitter.rs");
}

mod child_context {
    include!("../snapshots/workflow/child_context.rs");
}

mod contract_callee {
    include!("../snapshots/workflow/contract_callee.rs");
}

mod contract_caller {
    include!("../snapshots/workflow/contract_caller.rs");
}

mod definitions_and_patterns {
    include!("../snapshots/workflow/definitions_and_patterns.rs");
}

mod inline_input_output {
    include!("../snapshots/workflow/inline_input_output.rs");
}

mod input_output_aliases {
    include!("../snapshots/workflow/input_output_aliases.rs");
}

mod invoke_function {
    include!("../snapshots/workflow/invoke_function.rs");
}

mod keyword_and_digit_names {
    include!("../snapshots/workflow/keyword_and_digit_names.rs");
}

mod map_config {
    include!("../snapshots/workflow/map_config.rs");
}

mod minimal_step {
    include!("../snapshots/workflow/minimal_step.rs");
}

mod parallel_branches {
    include!("../snapshots/workflow/parallel_branches.rs");
}

mod retry_presets {
    include!("../snapshots/workflow/retry_presets.rs");
}

mod retry_strategies {
    include!("../snapshots/workflow/retry_strategies.rs");
}

mod schema_defaults {
    include!("../snapshots/workflow/schema_defaults.rs");
}

mod schema_keywords {
    include!("../snapshots/workflow/schema_keywords.rs");
}

mod step_errors_and_timeouts {
    include!("../snapshots/workflow/step_errors_and_timeouts.rs");
}

mod step_input_output {
    include!("../snapshots/workflow/step_input_output.rs");
}

mod step_semantics {
    include!("../snapshots/workflow/step_semantics.rs");
}

mod string_escaping {
    include!("../snapshots/workflow/string_escaping.rs");
}

mod wait_durations {
    include!("../snapshots/workflow/wait_durations.rs");
}

mod wait_for_condition {
    include!("../snapshots/workflow/wait_for_condition.rs");
}

fn main() {}
