//! The Docker sandbox: `run_command` (and any later code-running tool) executes only here, in a
//! hardened, throwaway container on the local engine, and only as a [`Job`] made from a
//! verified intent token that covers the exact call.
//!
//! Guarantees of each container: no network (`network_mode: none`), read-only root filesystem
//! and read-only `/sim`, a small `noexec` `/tmp`, user 1001, no capabilities, no new privileges,
//! the engine's default seccomp profile, limits on memory (no swap), CPU, processes and open
//! files, a wall-clock timeout, capped output, and removal on every path. The image is built
//! here from Debian's static busybox; no registry is contacted.

mod config;
mod error;
pub mod image;
mod job;
mod output;
mod runner;

pub use config::{Limits, SandboxConfig};
pub use error::SandboxError;
pub use job::{Job, RUN_COMMAND};
pub use output::{Chunk, Stream, TRUNCATED_MARKER};
pub use runner::{Ending, EngineInfo, RunReport, Sandbox, LABEL};
