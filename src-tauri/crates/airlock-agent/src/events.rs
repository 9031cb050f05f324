//! The request's event stream in owned, serialisable form: what the CLI prints as JSON lines
//! (`--events`) and the desktop shell forwards to the window. Built from [`Progress`], which
//! borrows and is free to produce.

use airlock_core::Intent;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::{Action, AskOutcome, PlannedIntent, Progress};

/// One step of a request, as it happens.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AgentEvent {
    /// The model worker is starting.
    ModelLoading,
    /// The model is loaded.
    ModelReady {
        /// llama.cpp's description of it.
        description: String,
        /// How long loading took.
        load_ms: f64,
    },
    /// A piece of the plan as the model writes it.
    PlanToken {
        /// The text.
        text: String,
    },
    /// The plan, every intent with the governor's decision.
    PlanProposed {
        /// The intents.
        plan: Vec<PlannedIntent>,
    },
    /// The governor decided one intent (with every layer's step in its trace).
    Decision {
        /// The intent and its decision.
        intent: Box<PlannedIntent>,
    },
    /// A call waits for a human.
    ApprovalRequested {
        /// The approval request's id.
        approval_id: String,
        /// The tool.
        tool: String,
        /// Its arguments, every one.
        args: Map<String, Value>,
        /// Who may approve it.
        approver_group: String,
    },
    /// A tool call is starting.
    ToolStarted {
        /// The tool.
        tool: String,
        /// Its arguments.
        args: Map<String, Value>,
    },
    /// Output of a running tool, as it is written.
    ToolOutput {
        /// `stdout` or `stderr`.
        stream: airlock_sandbox::Stream,
        /// The text (invalid UTF-8 replaced).
        text: String,
    },
    /// A tool call ended.
    ToolFinished {
        /// What ran, with its result or error.
        action: Box<Action>,
    },
    /// A piece of the answer as the model writes it.
    Token {
        /// The text.
        text: String,
    },
    /// The request's outcome.
    Answer {
        /// The outcome.
        outcome: Box<AskOutcome>,
    },
    /// The request failed; the message says what to do.
    Error {
        /// The message.
        message: String,
    },
}

impl From<&Progress<'_>> for AgentEvent {
    fn from(progress: &Progress<'_>) -> Self {
        match progress {
            Progress::ModelLoading => Self::ModelLoading,
            Progress::ModelReady(model) => Self::ModelReady {
                description: model.description.clone(),
                load_ms: model.load_ms,
            },
            Progress::PlanToken(text) => Self::PlanToken {
                text: (*text).to_owned(),
            },
            Progress::PlanReady(plan) => Self::PlanProposed {
                plan: plan.to_vec(),
            },
            Progress::Decision(entry) => Self::Decision {
                intent: Box::new((*entry).clone()),
            },
            Progress::ApprovalRequested {
                id,
                intent,
                approver_group,
            } => approval_requested(id, intent, approver_group),
            Progress::ToolStarted(intent) => Self::ToolStarted {
                tool: intent.tool.clone(),
                args: intent.args.clone(),
            },
            Progress::ToolOutput(chunk) => Self::ToolOutput {
                stream: chunk.stream,
                text: String::from_utf8_lossy(chunk.bytes).into_owned(),
            },
            Progress::ToolFinished(action) => Self::ToolFinished {
                action: Box::new((*action).clone()),
            },
            Progress::AnswerToken(text) => Self::Token {
                text: (*text).to_owned(),
            },
            Progress::Answer(outcome) => Self::Answer {
                outcome: Box::new((*outcome).clone()),
            },
            Progress::Error(err) => Self::Error {
                message: err.to_string(),
            },
        }
    }
}

fn approval_requested(id: &str, intent: &Intent, approver_group: &str) -> AgentEvent {
    AgentEvent::ApprovalRequested {
        approval_id: id.to_owned(),
        tool: intent.tool.clone(),
        args: intent.args.clone(),
        approver_group: approver_group.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use airlock_sandbox::{Chunk, Stream};
    use serde_json::json;

    use super::*;

    #[test]
    fn events_serialise_with_their_name_and_owned_data() {
        let bytes = b"line \xff\n".to_vec();
        let event = AgentEvent::from(&Progress::ToolOutput(Chunk {
            stream: Stream::Stderr,
            bytes: &bytes,
        }));
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({"event": "tool_output", "stream": "stderr", "text": "line \u{fffd}\n"})
        );
        let token = AgentEvent::from(&Progress::AnswerToken("45 N·m"));
        assert_eq!(
            serde_json::to_value(&token).unwrap(),
            json!({"event": "token", "text": "45 N·m"})
        );
        let failed = AgentEvent::from(&Progress::Error(&crate::AgentError::ReadOnly));
        assert_eq!(serde_json::to_value(&failed).unwrap()["event"], "error");
    }
}
