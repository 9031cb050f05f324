//! The governor: the model proposes a tool call, this crate decides it.
//!
//! Pure Rust: no I/O beyond loading policy files (and OS randomness for intent tokens).

pub mod canonical;
pub mod guards;
pub mod token;
