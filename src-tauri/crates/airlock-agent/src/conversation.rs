//! Continuing a conversation: answering the governor's question from the previous turn, and
//! the bounded context of earlier turns the planner sees.
//!
//! A question about *which* system or document a call meant is answered by naming one; a
//! question about a call the planner was unsure of is answered by confirming it. Either way the
//! call is decided again with the answer filled in, without the model. Any other reply is
//! planned as a new request that sees the last few turns.

use std::fmt::Write as _;

use airlock_core::{Confidence, Intent};
use airlock_policy::{Decision, Outcome};
use airlock_store::{StoredEvent, StoredMessage};
use serde_json::{Map, Value};

/// Earlier messages the planner sees when a conversation goes on.
const CONTEXT_MESSAGES: usize = 6;
/// Longest piece of one earlier message the planner sees, in characters.
const CONTEXT_MESSAGE_CHARS: usize = 400;

/// Rules whose question is answered by naming a system or document.
const WHICH_RESOURCE_RULES: &[&str] = &["clarify.unknown_resource", "clarify.missing_resource"];
/// The rule whose question is answered by confirming the call.
const LOW_CONFIDENCE_RULE: &str = "clarify.low_confidence";
/// Replies that confirm a call.
const CONFIRMATIONS: &[&str] = &[
    "yes",
    "y",
    "confirm",
    "confirmed",
    "correct",
    "ok",
    "okay",
    "go ahead",
    "do it",
    "yes please",
];

/// A call of the previous turn the governor asked a question about.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Question {
    tool: String,
    args: Map<String, Value>,
    rule: String,
}

/// The calls of a turn (its recorded events) that ended in a question.
pub(crate) fn open_questions(events: &[StoredEvent]) -> Vec<Question> {
    events
        .iter()
        .filter(|event| event.kind == airlock_core::EventKind::DecisionMade.as_str())
        .filter_map(|event| {
            let payload = &event.payload;
            let tool = payload["tool"].as_str()?;
            let decision: Decision = serde_json::from_value(payload["decision"].clone()).ok()?;
            if !matches!(decision.outcome, Outcome::Clarify { .. }) {
                return None;
            }
            Some(Question {
                tool: tool.to_owned(),
                args: payload["args"].as_object().cloned().unwrap_or_default(),
                rule: decision.deciding_rule.unwrap_or_default(),
            })
        })
        .collect()
}

/// The calls `reply` answers, when it answers every open question: for a question about the
/// resource, `choices(tool)` gives the argument that names it and the known ids, and the reply
/// must name exactly one of them; for an unsure call, the reply must confirm it.
pub(crate) fn answered(
    questions: &[Question],
    reply: &str,
    choices: impl Fn(&str) -> Option<(String, Vec<String>)>,
) -> Option<Vec<Intent>> {
    if questions.is_empty() {
        return None;
    }
    let words: Vec<String> = reply
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '!' | '?' | '"' | '`'))
        .map(|word| word.trim_end_matches('.').to_lowercase())
        .filter(|word| !word.is_empty())
        .collect();
    let mut intents = Vec::with_capacity(questions.len());
    for question in questions {
        let mut args = question.args.clone();
        if WHICH_RESOURCE_RULES.contains(&question.rule.as_str()) {
            let (param, known) = choices(&question.tool)?;
            let named: Vec<&String> = known
                .iter()
                .filter(|id| words.contains(&id.to_lowercase()))
                .collect();
            let [chosen] = named.as_slice() else {
                return None;
            };
            args.insert(param, Value::String((*chosen).clone()));
        } else if question.rule == LOW_CONFIDENCE_RULE {
            let reply = words.join(" ");
            if !CONFIRMATIONS.contains(&reply.as_str()) {
                return None;
            }
        } else {
            return None;
        }
        intents.push(Intent {
            tool: question.tool.clone(),
            args,
            reasoning: format!("the operator answered the question about it: {reply}"),
            confidence: Confidence::High,
        });
    }
    Some(intents)
}

/// The last turns of `messages` as context for the planner, bounded whatever the
/// conversation's length: at most [`CONTEXT_MESSAGES`] messages of at most
/// [`CONTEXT_MESSAGE_CHARS`] characters each. Empty for a new conversation.
pub(crate) fn context(messages: &[StoredMessage]) -> String {
    let start = messages.len().saturating_sub(CONTEXT_MESSAGES);
    let mut out = String::new();
    for message in &messages[start..] {
        let who = if message.role == "user" {
            "operator"
        } else {
            "Airlock"
        };
        let text = crate::answer::truncate(message.content.trim(), CONTEXT_MESSAGE_CHARS);
        let _ = writeln!(out, "{who}: {}", text.replace('\n', " "));
    }
    if out.is_empty() {
        return out;
    }
    format!("Earlier in this conversation:\n{out}\nNow: ")
}

#[cfg(test)]
mod tests {
    use airlock_core::EventKind;
    use airlock_policy::Risk;
    use serde_json::json;

    use super::*;

    fn question(rule: &str) -> Question {
        Question {
            tool: "restart_service".into(),
            args: json!({"service": "labelprintd", "system": "plant-qa"})
                .as_object()
                .cloned()
                .unwrap(),
            rule: rule.into(),
        }
    }

    fn systems(_: &str) -> Option<(String, Vec<String>)> {
        Some((
            "system".into(),
            vec!["ops-dev".into(), "plant-ops".into(), "pkg-line3".into()],
        ))
    }

    #[test]
    fn naming_one_known_system_answers_which_system() {
        let questions = [question("clarify.unknown_resource")];
        let intents = answered(&questions, "the dev one, ops-dev.", systems).unwrap();
        assert_eq!(intents[0].args["system"], "ops-dev");
        assert_eq!(intents[0].args["service"], "labelprintd");
        assert!(answered(&questions, "ops-dev or plant-ops", systems).is_none());
        assert!(answered(&questions, "the test box", systems).is_none());
    }

    #[test]
    fn only_a_plain_confirmation_confirms_an_unsure_call() {
        let questions = [question("clarify.low_confidence")];
        assert!(answered(&questions, "Yes", systems).is_some());
        assert!(answered(&questions, "go ahead!", systems).is_some());
        assert!(answered(&questions, "yes but on ops-dev", systems).is_none());
        assert!(answered(&questions, "no", systems).is_none());
        assert!(answered(&[], "yes", systems).is_none());
    }

    #[test]
    fn open_questions_are_read_from_the_turns_decisions() {
        let clarify = Decision {
            id: "d1".into(),
            outcome: Outcome::Clarify {
                questions: vec!["Which system?".into()],
            },
            risk: Risk::Low,
            deciding_rule: Some("clarify.unknown_resource".into()),
            trace: Vec::new(),
        };
        let allow = Decision {
            outcome: Outcome::Allow,
            deciding_rule: None,
            ..clarify.clone()
        };
        let event = |payload: Value| StoredEvent {
            seq: 1,
            trace_id: "t".into(),
            kind: EventKind::DecisionMade.as_str().into(),
            payload,
            created_at: String::new(),
        };
        let events = [
            event(json!({"stage": "admission", "decision": allow})),
            event(json!({"tool": "get_logs", "args": {}, "decision": allow})),
            event(json!({"tool": "restart_service", "args": {"system": "x"}, "decision": clarify})),
        ];
        let open = open_questions(&events);
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].tool, "restart_service");
        assert_eq!(open[0].rule, "clarify.unknown_resource");
    }

    #[test]
    fn the_context_stays_bounded_however_long_the_conversation() {
        let message = |role: &str, n: usize| StoredMessage {
            role: role.into(),
            content: format!("turn {n} {}", "x".repeat(10_000)),
            trace_id: None,
            created_at: String::new(),
        };
        let messages: Vec<StoredMessage> = (0..500)
            .map(|n| message(if n % 2 == 0 { "user" } else { "assistant" }, n))
            .collect();
        let text = context(&messages);
        assert!(text.contains("turn 499") && !text.contains("turn 493"));
        assert!(text.chars().count() < CONTEXT_MESSAGES * (CONTEXT_MESSAGE_CHARS + 40) + 60);
        assert!(text.ends_with("Now: "));
        assert_eq!(context(&[]), "");
    }
}
