//! Airlock's connectors: the tools that reach the systems an operator asks about.
//!
//! [`ops`]: read-only tools over the fixtures directory (logs, system status, a small file
//! tree) standing in for a real ops server, a mainframe batch night and a packaging line.
//! [`mes`]: the MES over ODBC. Connectors never decide whether a call may run; the governor
//! does, and only the agent's executor calls [`airlock_core::Tool::invoke`].
//!
//! [`keys`] keeps Airlock's Ed25519 signing keys in the OS keychain (or a private file);
//! [`vault`] keeps connection secrets in the OS keychain (or the kernel keyring).

pub mod catalog;
pub mod keys;
pub mod mes;
pub mod ops;
#[cfg(target_os = "linux")]
pub mod vault;
