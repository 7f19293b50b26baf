//! lambda-durable
pub mod wire;
