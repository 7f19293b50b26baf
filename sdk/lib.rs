//! # lambda-durable
//!
//! A typed SDK for AWS Lambda durable functions.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod checkpoint;
mod context;
mod error;
mod handler;
mod lambda;
mod logger;
mod replay;
pub mod retry;
pub mod serdes;
mod state;
pub mod wait_strategy;
pub mod wire;

pub use context::{DurableContext, Name, Step, StepContext};
pub use error::{Error, OperationRef};
pub use lambda::run;
pub use logger::Logger;
pub use replay::StepSemantics;
