//! The governor: the model proposes a tool call, this crate decides it.
//!
//! [`Governor::decide`] runs a call through the layers — identity, allowlist, Cedar, rate
//! limits, parameters, injection screen, taint, business guards, budget, sequence rules,
//! clarification — and returns a [`Decision`] with the trace of every layer that ran.
//! Pure Rust: no I/O beyond loading the policy directory ([`PolicyBundle::load`]) and OS
//! randomness for intent tokens ([`token`]).

mod bundle;
pub mod canonical;
pub mod cases;
pub mod config;
mod decision;
pub mod directory;
mod governor;
pub mod guards;
mod layers;
mod ledger;
pub mod token;

pub use bundle::{PolicyBundle, PolicyError, Problem, GUARDS_FILE, PRINCIPALS_FILE};
pub use decision::{Decision, Layer, Outcome, Risk, Step, Verdict};
pub use governor::{cedar_action, Call, CallContext, Governor, GovernorError, EXTERNAL_ACTION};
pub use ledger::{Ledger, LedgerError, MemoryLedger, Standing};
