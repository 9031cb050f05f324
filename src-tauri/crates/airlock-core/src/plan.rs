//! What the planner proposes and how a request runs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The model's own estimate of how sure it is of one intent. A small enum, because small models
/// asked for a number produce values like 1e15.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// A guess.
    Low,
    /// Plausible.
    Medium,
    /// The request names this tool or its data plainly.
    High,
}

/// One proposed tool call with the model's reasoning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intent {
    /// Registered tool name.
    pub tool: String,
    /// Arguments, as the tool's schema describes them.
    pub args: Map<String, Value>,
    /// Why the model proposes this call, in one sentence.
    pub reasoning: String,
    /// How sure the model is.
    pub confidence: Confidence,
}

/// The planner's whole proposal for one request; empty when no tool is needed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Proposed calls in the order the model gave them.
    pub intents: Vec<Intent>,
}

/// How a request runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Nothing executes; the plan and each decision are shown.
    Plan,
    /// Allowed calls execute.
    Execute,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Plan => "plan",
            Mode::Execute => "execute",
        })
    }
}

/// A mode name that is neither `plan` nor `execute`.
#[derive(Debug, thiserror::Error)]
#[error("unknown mode `{0}`: use `plan` or `execute`")]
pub struct ParseModeError(String);

impl FromStr for Mode {
    type Err = ParseModeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "plan" => Ok(Mode::Plan),
            "execute" => Ok(Mode::Execute),
            other => Err(ParseModeError(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_round_trips_through_its_name() {
        for mode in [Mode::Plan, Mode::Execute] {
            assert_eq!(mode.to_string().parse::<Mode>().unwrap(), mode);
        }
        assert!("Execute!".parse::<Mode>().is_err());
    }

    #[test]
    fn plan_json_uses_snake_case_confidence() {
        let plan: Plan = serde_json::from_str(
            r#"{"intents":[{"tool":"get_system_status","args":{},"reasoning":"health","confidence":"high"}]}"#,
        )
        .unwrap();
        assert_eq!(plan.intents[0].confidence, Confidence::High);
        assert!(serde_json::from_str::<Plan>(
            r#"{"intents":[{"tool":"x","args":{},"reasoning":"","confidence":0.9}]}"#
        )
        .is_err());
    }
}
