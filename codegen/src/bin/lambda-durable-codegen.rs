//! Prints what a workflow declaration generates.
//!
//! ```text
//! lambda-durable-codegen workflows/order.json    # the generated Rust source
//! lambda-durable-codegen --schema                # the meta-schema of declarations
//! ```

use std::path::Path;
use std::process::ExitCode;

use lambda_durable_codegen::workflow;

const USAGE: &str = "usage: lambda-durable-codegen <declaration.json> | --schema";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag] if flag == "--schema" => {
            print!("{}", workflow::meta_schema());
            ExitCode::SUCCESS
        }
        [flag] if flag == "--help" || flag == "-h" => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        [file] => {
            match workflow::generate_file(Path::new(file), &workflow::WorkflowOptions::default()) {
                Ok(source) => {
                    print!("{source}");
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("error: {err}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
