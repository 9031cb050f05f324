//! Where the CLI finds its data, models and fixtures.

use std::path::PathBuf;

use airlock_agent::{
    default_data_dir, default_fixtures_dir, default_models_dir, default_policy_dir, AgentConfig,
    Preselection, ScoredChoice, ToolChoice, ALWAYS_OFFERED,
};

use crate::{Cli, ToolChoiceArg};

/// Resolved locations for one invocation.
pub struct Paths {
    pub data_dir: PathBuf,
    pub models_dir: PathBuf,
    pub model: Option<PathBuf>,
    pub fixtures_dir: PathBuf,
    pub policy_dir: PathBuf,
    /// How many tools preselection offers the planner (0: every tool).
    pub preselect: usize,
    /// How the planner picks its tools.
    pub tool_choice: ToolChoice,
    /// The keychain service connection secrets are kept under: `$AIRLOCK_VAULT_SERVICE`, or
    /// Airlock's default (a second install or a test keeps its secrets apart this way).
    pub vault_service: String,
}

impl Paths {
    pub fn resolve(cli: &Cli) -> Self {
        Self {
            data_dir: cli.data_dir.clone().unwrap_or_else(default_data_dir),
            models_dir: cli.models_dir.clone().unwrap_or_else(default_models_dir),
            model: cli.model.clone(),
            fixtures_dir: cli
                .fixtures_dir
                .clone()
                .unwrap_or_else(default_fixtures_dir),
            policy_dir: cli.policy_dir.clone().unwrap_or_else(default_policy_dir),
            preselect: cli.preselect,
            tool_choice: match cli.tool_choice {
                ToolChoiceArg::Scored => ToolChoice::Scored(ScoredChoice::default()),
                ToolChoiceArg::Greedy => ToolChoice::Greedy,
            },
            vault_service: std::env::var("AIRLOCK_VAULT_SERVICE")
                .ok()
                .filter(|service| !service.trim().is_empty())
                .unwrap_or_else(|| airlock_connectors::VAULT_SERVICE.to_owned()),
        }
    }

    /// The agent configuration, with this executable as the model worker.
    pub fn agent_config(&self) -> anyhow::Result<AgentConfig> {
        let mut config = AgentConfig::with_current_exe(
            self.data_dir.clone(),
            self.models_dir.clone(),
            self.fixtures_dir.clone(),
        )?;
        config.model.clone_from(&self.model);
        config.policy_dir.clone_from(&self.policy_dir);
        config.vault_service.clone_from(&self.vault_service);
        config.tool_choice = self.tool_choice;
        if self.preselect > 0 {
            config.preselection = Preselection::top(self.preselect, ALWAYS_OFFERED);
        }
        Ok(config)
    }
}
