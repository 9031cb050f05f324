//! `airlock sim fault|reset`: drills on the simulated plant. A fault puts one subsystem down
//! (or degraded) until a restart or a reset; both are recorded in the audit log.

use std::process::ExitCode;

use airlock_agent::Agent;

use crate::paths::Paths;

/// `airlock sim fault SERVICE`.
pub fn fault(paths: &Paths, service: &str, state: &str, detail: &str) -> anyhow::Result<ExitCode> {
    let agent = Agent::open(paths.agent_config()?)?;
    agent.inject_fault(service, state, detail)?;
    println!(
        "{service} is now {state} in the simulated plant; `airlock ask \"restore system health\" \
         --mode execute` has the agent find and fix it, `airlock sim reset` undoes the drill."
    );
    Ok(ExitCode::SUCCESS)
}

/// `airlock sim reset`.
pub fn reset(paths: &Paths) -> anyhow::Result<ExitCode> {
    let agent = Agent::open(paths.agent_config()?)?;
    agent.reset_simulator()?;
    println!("The simulated plant is back to the fixtures' snapshot.");
    Ok(ExitCode::SUCCESS)
}
