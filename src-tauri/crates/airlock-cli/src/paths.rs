//! Where the CLI finds its data, models and fixtures.

use std::path::PathBuf;

use airlock_agent::{
    default_data_dir, default_fixtures_dir, default_models_dir, default_policy_dir, AgentConfig,
};

use crate::Cli;

/// Resolved locations for one invocation.
pub struct Paths {
    pub data_dir: PathBuf,
    pub models_dir: PathBuf,
    pub model: Option<PathBuf>,
    pub fixtures_dir: PathBuf,
    pub policy_dir: PathBuf,
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
        Ok(config)
    }
}
