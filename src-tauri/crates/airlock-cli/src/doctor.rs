//! `airlock doctor`: the same check-up of every part as the window's first-run screen.

use std::process::ExitCode;

use airlock_agent::{Agent, CheckStatus};

use crate::paths::Paths;

pub fn run(paths: &Paths, as_json: bool) -> anyhow::Result<ExitCode> {
    let agent = match Agent::open(paths.agent_config()?) {
        Ok(agent) => agent,
        Err(err) => {
            let detail = format!("Airlock's engine did not open: {err}");
            if as_json {
                println!("{}", serde_json::json!({"ok": false, "error": detail}));
            } else {
                println!("✗ {detail}");
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let checkup = agent.checkup();
    if as_json {
        println!("{}", serde_json::to_string_pretty(&checkup)?);
    } else {
        let width = checkup
            .checks
            .iter()
            .map(|check| check.name.len())
            .max()
            .unwrap_or(0);
        for check in &checkup.checks {
            let mark = match check.status {
                CheckStatus::Ok => "✓",
                CheckStatus::Warn => "!",
                CheckStatus::Fail => "✗",
            };
            println!("{mark} {:<width$}  {}", check.name, check.detail);
        }
        println!(
            "{}",
            if checkup.ok {
                "Airlock is ready."
            } else {
                "Airlock is not ready: fix the parts marked ✗."
            }
        );
    }
    Ok(if checkup.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
