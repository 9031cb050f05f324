//! `set_log_level`: a write tool that is specified but not executable.

use airlock_core::{ToolEffect, ToolSpec};
use serde_json::json;

use super::SET_LOG_LEVEL;

/// The specification of `set_log_level`, the simulator's one write tool.
///
/// Only the specification exists: the planner may propose the call and the governor reasons
/// about it, but [`super::OpsSimulator::tools`] has no executable for it. Writes are executed
/// only once the governor exists (issue 3); until then a proposed `set_log_level` never runs.
pub(crate) fn spec() -> ToolSpec {
    ToolSpec {
        name: SET_LOG_LEVEL.to_owned(),
        description: "Change the logging level of the simulator or of one subsystem. This \
                      changes state (a write) and needs approval before it runs."
            .to_owned(),
        parameters: json!({
            "type": "object",
            "properties": {
                "level": {
                    "type": "string",
                    "enum": ["debug", "info", "warn", "error"],
                    "description": "The new level: debug, info, warn or error."
                },
                "subsystem": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 32,
                    "description": "Optional subsystem to change, e.g. labelprintd; all when \
                                    left out."
                }
            },
            "required": ["level"],
            "additionalProperties": false
        }),
        effect: ToolEffect::Write,
        target: super::plant_ops(),
    }
}
