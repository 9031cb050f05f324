//! Remediation: when the operator asks Airlock to bring something back ("restore system
//! health"), the health reads of the plan show what failed, and the model proposes a restart
//! for each failed subsystem it judges a restart can fix. The grammar offers only those
//! candidates (each service with the system it runs on), so the model chooses among what
//! the status reported and cannot name anything else; the governor decides each restart.

use std::fmt::Write as _;

use airlock_core::ToolSpec;
use airlock_llm::{ChatMessage, GenerateRequest, Role};
use serde_json::{json, Value};

use crate::planner::MAX_INTENTS;
use crate::Action;

/// The tool a remedy calls.
pub(crate) const RESTART_SERVICE: &str = "restart_service";

/// Words of a request that asks for something to be brought back, not only looked at.
const REMEDY_WORDS: &[&str] = &[
    "restore",
    "fix",
    "heal",
    "recover",
    "repair",
    "bring back",
    "bring it back",
    "get it running",
];

/// Token budget of a remedy plan.
const MAX_REMEDY_TOKENS: u32 = 320;

/// Whether `request` asks Airlock to repair something: it holds one of [`REMEDY_WORDS`] as
/// whole words.
pub(crate) fn asks_to_remedy(request: &str) -> bool {
    let words: Vec<String> = request
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect();
    let text = format!(" {} ", words.join(" "));
    REMEDY_WORDS
        .iter()
        .any(|phrase| text.contains(&format!(" {phrase} ")))
}

/// A subsystem a status read reported not up that a restart can bring back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    service: String,
    system: String,
    state: String,
}

/// The restartable entries of the `attention` list of each status result in `actions`, those
/// that are down before those only degraded (the prompt lists them so, worst first).
pub(crate) fn candidates(actions: &[Action]) -> Vec<Candidate> {
    let mut found: Vec<Candidate> = Vec::new();
    let entries = actions
        .iter()
        .filter_map(|action| action.result.as_ref())
        .filter_map(|result| result["attention"].as_array())
        .flatten()
        .filter(|entry| entry["restartable"] == true);
    for entry in entries {
        let (Some(service), Some(system), Some(state)) = (
            entry["name"].as_str(),
            entry["system"].as_str(),
            entry["state"].as_str(),
        ) else {
            continue;
        };
        let candidate = Candidate {
            service: service.to_owned(),
            system: system.to_owned(),
            state: state.to_owned(),
        };
        if !found.contains(&candidate) && found.len() < MAX_INTENTS {
            found.push(candidate);
        }
    }
    found.sort_by_key(|candidate| candidate.state != "down");
    found
}

/// The plan schema for remedies: at most one restart per candidate, each branch fixing the
/// service and its system to one candidate's.
fn remedy_schema(candidates: &[Candidate]) -> Value {
    let branches: Vec<Value> = candidates
        .iter()
        .map(|candidate| {
            json!({
                "type": "object",
                "properties": {
                    "tool": {"const": RESTART_SERVICE},
                    "args": {
                        "type": "object",
                        "properties": {
                            "service": {"const": candidate.service},
                            "system": {"const": candidate.system}
                        },
                        "required": ["service", "system"],
                        "additionalProperties": false
                    },
                    "reasoning": {"type": "string", "maxLength": 120},
                    "confidence": {"enum": ["low", "medium", "high"]}
                },
                "required": ["tool", "args", "reasoning", "confidence"],
                "additionalProperties": false
            })
        })
        .collect();
    json!({
        "type": "object",
        "properties": {
            "intents": {"type": "array", "maxItems": candidates.len(), "items": {"oneOf": branches}}
        },
        "required": ["intents"],
        "additionalProperties": false
    })
}

/// The generation request that plans the restarts for `request` among `candidates`.
pub(crate) fn remedy_request(
    request: &str,
    candidates: &[Candidate],
    restart: &ToolSpec,
) -> GenerateRequest {
    let mut failed = String::new();
    for candidate in candidates {
        let _ = writeln!(
            failed,
            "- {} on {}: {}",
            candidate.service, candidate.system, candidate.state
        );
    }
    let system = format!(
        "You plan repairs for Airlock, an operations assistant on a plant floor. The system \
         status shows these services are not up:\n{failed}\nTool: {}(service, system): {}\n\n\
         Propose one {name} intent for each failed service the operator's request covers; \
         confidence high when the request clearly asks for it. Reply with compact JSON only: \
         {{\"intents\":[{{\"tool\":\"{name}\",\"args\":{{\"service\":\"…\",\"system\":\"…\"}},\
         \"reasoning\":\"…\",\"confidence\":\"high\"}}]}}",
        restart.name,
        restart.description,
        name = restart.name
    );
    GenerateRequest {
        json_schema: Some(remedy_schema(candidates)),
        ..GenerateRequest::text(
            vec![
                ChatMessage::new(Role::System, system),
                ChatMessage::new(Role::User, request.to_owned()),
            ],
            MAX_REMEDY_TOKENS,
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Map;

    use super::*;

    fn status_action(attention: Value) -> Action {
        Action {
            tool: "get_system_status".into(),
            decision_id: "d".into(),
            args: Map::new(),
            result: Some(json!({"attention": attention})),
            error: None,
            duration_ms: 1.0,
        }
    }

    #[test]
    fn only_restartable_failures_become_candidates_once() {
        let attention = json!([
            {"name": "CICSPRD1", "system": "plant-ops", "state": "degraded", "restartable": true},
            {"name": "PKG-3", "system": "pkg-line3", "state": "down", "restartable": false},
            {"name": "labelprintd", "system": "pkg-line3", "state": "down", "restartable": true}
        ]);
        let actions = [status_action(attention.clone()), status_action(attention)];
        let found = candidates(&actions);
        let names: Vec<&str> = found.iter().map(|c| c.service.as_str()).collect();
        assert_eq!(names, ["labelprintd", "CICSPRD1"], "down before degraded");
    }

    #[test]
    fn the_grammar_offers_only_the_candidates() {
        let found = vec![Candidate {
            service: "labelprintd".into(),
            system: "pkg-line3".into(),
            state: "down".into(),
        }];
        let schema = remedy_schema(&found);
        let branch = &schema["properties"]["intents"]["items"]["oneOf"][0];
        assert_eq!(
            branch["properties"]["args"]["properties"]["service"]["const"],
            "labelprintd"
        );
        assert_eq!(
            branch["properties"]["args"]["properties"]["system"]["const"],
            "pkg-line3"
        );
        assert_eq!(schema["properties"]["intents"]["maxItems"], 1);
    }

    #[test]
    fn requests_to_repair_are_told_from_questions() {
        assert!(asks_to_remedy("Restore system health"));
        assert!(asks_to_remedy(
            "label printer is down, bring it back please"
        ));
        assert!(!asks_to_remedy("How healthy is the ops server?"));
        assert!(!asks_to_remedy("Show the last 20 syslog lines"));
        assert!(!asks_to_remedy("Which jobs have the prefix PAY?"));
    }
}
