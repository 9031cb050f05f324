//! Whether a proposed intent may run.
//!
//! Until the governor (Cedar policies, guards and intent tokens) is built, Airlock runs read-only
//! tools only and refuses everything else with a reason. This is a deliberate, real rule: the
//! safe subset of what the governor will later decide in full.

use airlock_core::{Intent, ToolEffect};
use serde::Serialize;

use crate::ToolRegistry;

/// The decision on one intent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Verdict {
    /// May run (in execute mode).
    Run,
    /// Must not run.
    Refuse {
        /// Why, in words the operator understands.
        reason: String,
    },
}

/// Decides `intent` under the read-only rule.
#[must_use]
pub fn decide(intent: &Intent, tools: &ToolRegistry) -> Verdict {
    let Some(spec) = tools.spec(&intent.tool) else {
        return Verdict::Refuse {
            reason: format!("`{}` is not a registered tool", intent.tool),
        };
    };
    match spec.effect {
        ToolEffect::Write => Verdict::Refuse {
            reason: format!(
                "`{}` changes state; until the policy engine is installed Airlock runs \
                 read-only tools only",
                spec.name
            ),
        },
        ToolEffect::Read if tools.executable(&spec.name).is_none() => Verdict::Refuse {
            reason: format!("`{}` cannot be executed on this installation", spec.name),
        },
        ToolEffect::Read => Verdict::Run,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use airlock_core::{Confidence, Tool, ToolError, ToolSpec};
    use serde_json::{json, Map, Value};

    use super::*;

    struct Echo(ToolSpec);

    impl Tool for Echo {
        fn spec(&self) -> &ToolSpec {
            &self.0
        }
        fn invoke(&self, args: &Map<String, Value>) -> Result<Value, ToolError> {
            Ok(Value::Object(args.clone()))
        }
    }

    fn spec(name: &str, effect: ToolEffect) -> ToolSpec {
        ToolSpec {
            name: name.into(),
            description: String::new(),
            parameters: json!({"type": "object", "properties": {}, "additionalProperties": false}),
            effect,
        }
    }

    fn intent(tool: &str) -> Intent {
        Intent {
            tool: tool.into(),
            args: Map::new(),
            reasoning: String::new(),
            confidence: Confidence::High,
        }
    }

    fn registry() -> ToolRegistry {
        let read = spec("read_it", ToolEffect::Read);
        let write = spec("write_it", ToolEffect::Write);
        let unexecutable = spec("read_elsewhere", ToolEffect::Read);
        ToolRegistry::new(
            vec![read.clone(), write.clone(), unexecutable],
            vec![Arc::new(Echo(read)), Arc::new(Echo(write))],
        )
    }

    #[test]
    fn read_only_tools_run() {
        assert_eq!(decide(&intent("read_it"), &registry()), Verdict::Run);
    }

    #[test]
    fn write_tools_are_refused_even_when_executable() {
        let Verdict::Refuse { reason } = decide(&intent("write_it"), &registry()) else {
            panic!("a write tool must be refused");
        };
        assert!(reason.contains("changes state"));
    }

    #[test]
    fn unknown_and_unexecutable_tools_are_refused() {
        assert!(matches!(
            decide(&intent("rm_rf"), &registry()),
            Verdict::Refuse { .. }
        ));
        assert!(matches!(
            decide(&intent("read_elsewhere"), &registry()),
            Verdict::Refuse { .. }
        ));
    }
}
