//! The answer: a short summary grounded in the tool results only, citing them as [1], [2], …

use std::fmt::Write as _;

use airlock_llm::{ChatMessage, GenerateRequest, Role};

use airlock_policy::Outcome;

use crate::{Action, PlannedIntent};

/// Longest piece of one tool result shown to the model.
const MAX_RESULT_CHARS: usize = 2_000;
/// Token budget of an answer.
const MAX_ANSWER_TOKENS: u32 = 256;

const SYSTEM: &str = "You are Airlock, an operations assistant on a plant floor. Answer the \
operator in two to four sentences using only the numbered tool results. After each fact, cite \
its result like [1]. If the results do not answer the question, say so plainly. Do not invent \
values.";

/// The generation request that answers `request` from `actions`.
pub(crate) fn answer_request(request: &str, actions: &[Action]) -> GenerateRequest {
    let mut results = String::new();
    for (n, action) in actions.iter().enumerate() {
        let body = match (&action.result, &action.error) {
            (Some(result), _) => truncate(&result.to_string(), MAX_RESULT_CHARS),
            (None, Some(error)) => format!("failed: {error}"),
            (None, None) => "no output".to_owned(),
        };
        let _ = write!(
            results,
            "[{}] {} {}:\n{}\n\n",
            n + 1,
            action.tool,
            serde_json::Value::Object(action.args.clone()),
            body
        );
    }
    let user = format!("Request: {request}\n\nTool results:\n{results}Answer:");
    GenerateRequest::text(
        vec![
            ChatMessage::new(Role::System, SYSTEM),
            ChatMessage::new(Role::User, user),
        ],
        MAX_ANSWER_TOKENS,
    )
}

/// The answer for calls the operator typed: each result as recorded, no model in between.
pub(crate) fn as_recorded(actions: &[Action]) -> String {
    let mut out = String::new();
    for action in actions {
        let _ = match (&action.result, &action.error) {
            (_, Some(error)) => writeln!(out, "`{}` failed: {error}", action.tool),
            (Some(result), None) => writeln!(
                out,
                "`{}` returned: {}",
                action.tool,
                truncate(&result.to_string(), MAX_RESULT_CHARS)
            ),
            (None, None) => writeln!(out, "`{}` returned nothing", action.tool),
        };
    }
    out.trim_end().to_owned()
}

/// The answer when no tool ran: what was proposed and why it did not run. Deterministic, so it
/// never claims anything the tools did not say.
pub(crate) fn without_results(plan: &[PlannedIntent], executing: bool) -> String {
    if plan.is_empty() {
        return "No tool fits this request, so nothing was run. I can read the syslog, job log, \
                audit and error logs, show the system status, and list the simulator's files."
            .to_owned();
    }
    let mut out = String::from(if executing {
        "Nothing was run."
    } else {
        "Plan only, nothing was run."
    });
    for entry in plan {
        let tool = &entry.intent.tool;
        let _ = match &entry.decision.outcome {
            Outcome::Allow if executing => write!(out, " `{tool}` was allowed but could not run."),
            Outcome::Allow => write!(out, " `{tool}` would run."),
            Outcome::Deny { reason } => write!(out, " `{tool}` was refused: {reason}."),
            Outcome::RequireApproval {
                approver_group,
                reason,
            } => write!(
                out,
                " `{tool}` needs approval from {approver_group}: {reason}."
            ),
            Outcome::Clarify { questions } => write!(out, " {}", questions.join(" ")),
        };
    }
    out
}

/// `text` cut to at most `max_chars` characters, marked when cut.
pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}… (truncated)", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use airlock_core::{Confidence, Intent};
    use serde_json::{json, Map};

    use super::*;

    fn intent(tool: &str) -> Intent {
        Intent {
            tool: tool.into(),
            args: Map::new(),
            reasoning: String::new(),
            confidence: Confidence::Low,
        }
    }

    #[test]
    fn results_are_numbered_and_long_ones_truncated() {
        let actions = vec![
            Action {
                tool: "get_system_status".into(),
                decision_id: "d1".into(),
                args: Map::new(),
                result: Some(json!({"cpu": 93})),
                error: None,
                duration_ms: 1.0,
            },
            Action {
                tool: "get_logs".into(),
                decision_id: "d2".into(),
                args: Map::new(),
                result: Some(json!("x".repeat(5_000))),
                error: None,
                duration_ms: 1.0,
            },
        ];
        let request = answer_request("how busy?", &actions);
        let user = &request.messages[1].content;
        assert!(user.contains("[1] get_system_status {}:\n{\"cpu\":93}"));
        assert!(user.contains("[2] get_logs"));
        assert!(user.contains("(truncated)"));
        assert!(user.len() < 3_000);
    }

    #[test]
    fn refusals_are_explained_when_nothing_ran() {
        let plan = vec![PlannedIntent {
            intent: intent("set_log_level"),
            decision: airlock_policy::Decision {
                id: "d".into(),
                outcome: Outcome::Deny {
                    reason: "it changes state".into(),
                },
                risk: airlock_policy::Risk::Medium,
                deciding_rule: Some("rule".into()),
                trace: Vec::new(),
            },
            token: None,
        }];
        let text = without_results(&plan, true);
        assert!(text.starts_with("Nothing was run."));
        assert!(text.contains("`set_log_level` was refused: it changes state"));
    }

    #[test]
    fn truncation_respects_character_boundaries() {
        assert_eq!(truncate("äöü", 2), "äö… (truncated)");
        assert_eq!(truncate("ok", 5), "ok");
    }
}
