//! Airlock's connectors: the tools that reach the systems an operator asks about.
//!
//! [`ops`]: read-only tools over the fixtures directory (logs, system status, a small file
//! tree) standing in for a real ops server, a mainframe batch night and a packaging line.
//! [`mes`]: the MES over ODBC. [`sap`]: SAP over OData. [`mcp`]: the tools of external MCP
//! servers the policy attaches. Connectors never decide whether a call may run; the governor
//! does, and only the agent's executor calls [`airlock_core::Tool::invoke`].
//!
//! [`keys`] keeps Airlock's Ed25519 signing keys in the OS keychain (or a private file);
//! [`vault`] keeps connection secrets in the OS keychain (or the kernel keyring).

pub mod catalog;
pub mod keys;
pub mod mcp;
pub mod mes;
pub mod ops;
#[cfg(target_os = "linux")]
pub mod sap;
#[cfg(target_os = "linux")]
pub mod vault;

/// The keychain service under which the vault stores connection secrets.
pub const VAULT_SERVICE: &str = "airlock-vault";

/// One executable tool per spec, all sharing `source` (a database, a gateway client).
fn tools_sharing<S, T>(
    specs: Vec<airlock_core::ToolSpec>,
    source: S,
    tool: impl Fn(airlock_core::ToolSpec, std::sync::Arc<S>) -> T,
) -> Vec<std::sync::Arc<dyn airlock_core::Tool>>
where
    T: airlock_core::Tool + 'static,
{
    let source = std::sync::Arc::new(source);
    specs
        .into_iter()
        .map(|spec| {
            std::sync::Arc::new(tool(spec, std::sync::Arc::clone(&source)))
                as std::sync::Arc<dyn airlock_core::Tool>
        })
        .collect()
}
