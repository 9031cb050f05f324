//! The governor: the model proposes a tool call, this crate decides it.
//!
//! Pure Rust: no I/O beyond loading policy files.

pub mod guards;
