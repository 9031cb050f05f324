//! The registry of tools the planner may name and the executor may run.

use std::collections::HashMap;
use std::sync::Arc;

use airlock_core::{Tool, ToolSpec};

/// Every tool spec the planner may propose, and the executable tools among them.
pub struct ToolRegistry {
    specs: Vec<ToolSpec>,
    executable: HashMap<String, Arc<dyn Tool>>,
}

impl ToolRegistry {
    /// A registry of `specs`, of which `tools` can be executed.
    #[must_use]
    pub fn new(specs: Vec<ToolSpec>, tools: Vec<Arc<dyn Tool>>) -> Self {
        let executable = tools
            .into_iter()
            .map(|tool| (tool.spec().name.clone(), tool))
            .collect();
        Self { specs, executable }
    }

    /// Every spec, in registration order.
    #[must_use]
    pub fn specs(&self) -> &[ToolSpec] {
        &self.specs
    }

    /// The spec named `name`.
    #[must_use]
    pub fn spec(&self, name: &str) -> Option<&ToolSpec> {
        self.specs.iter().find(|spec| spec.name == name)
    }

    /// The executable tool named `name`, if this install can run it.
    #[must_use]
    pub fn executable(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.executable.get(name)
    }
}
