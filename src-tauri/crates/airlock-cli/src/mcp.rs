//! `airlock mcp serve`: the governed tools for another MCP client, on stdio.

use std::process::ExitCode;

use airlock_agent::Agent;

use crate::paths::Paths;

/// Serves until the client closes the session. Logs go to stderr; stdout is the protocol's.
pub fn serve(paths: &Paths) -> anyhow::Result<ExitCode> {
    let agent = Agent::open(paths.agent_config()?)?;
    tracing::info!(principal = agent.principal(), "serving MCP on stdio");
    airlock_mcp::serve_stdio(agent)?;
    Ok(ExitCode::SUCCESS)
}
