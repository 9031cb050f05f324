//! Airlock's governed tools over the Model Context Protocol, on stdio.
//!
//! `airlock mcp serve` lets another MCP client (an IDE assistant, another agent) list Airlock's
//! tools and call them. Each call is exactly an operator's typed call ([`Agent::call`]) in
//! execute mode, as the OS user that started the server: the governor decides it, an allowed
//! call runs under its intent token, one needing approval waits as an approval request, and
//! every step is in the audit chain. Nothing here decides anything.
//!
//! Each result carries a `status` in its structured content: `completed` (with the tool's
//! `result`), `pending_approval` (with the `approval_id` an approver settles with
//! `airlock approvals approve`), `clarification_needed` (with the governor's `questions`),
//! `denied`, `failed` or `not_run`.

use std::future::Future;
use std::sync::Arc;

use airlock_agent::{AgentError, AskOutcome, Outcome};
use airlock_core::Mode;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{MaybeSendFuture, RequestContext};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{json, Value};

pub use airlock_agent::Agent;

/// Why the MCP server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    /// The async runtime could not start.
    #[error(
        "cannot start the MCP server's runtime: {0}; free some memory or threads and try again"
    )]
    Runtime(std::io::Error),
    /// The client did not complete the MCP handshake.
    #[error("the MCP client did not initialise the session: {0}; start `airlock mcp serve` from an MCP client, which speaks first on stdin")]
    Handshake(String),
    /// The session ended abnormally.
    #[error("the MCP session ended abnormally: {0}")]
    Session(String),
}

/// The MCP server: Airlock's tools, each call governed by the agent.
pub struct GovernedTools {
    agent: Arc<Agent>,
}

impl GovernedTools {
    /// A server over `agent`.
    #[must_use]
    pub fn new(agent: Agent) -> Self {
        Self {
            agent: Arc::new(agent),
        }
    }

    /// Every tool the agent governs, with its argument schema.
    fn tools(&self) -> Vec<Tool> {
        self.agent
            .tools()
            .specs()
            .iter()
            .map(|spec| {
                let schema = spec.parameters.as_object().cloned().unwrap_or_default();
                Tool::new(spec.name.clone(), spec.description.clone(), schema)
            })
            .collect()
    }
}

/// Serves `agent`'s tools on stdin/stdout until the client closes the session.
///
/// # Errors
/// [`McpError`] when the runtime cannot start, the client never initialises the session, or
/// the session fails.
pub fn serve_stdio(agent: Agent) -> Result<(), McpError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(McpError::Runtime)?;
    runtime.block_on(async {
        let service = GovernedTools::new(agent)
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|err| McpError::Handshake(err.to_string()))?;
        service
            .waiting()
            .await
            .map_err(|err| McpError::Session(err.to_string()))?;
        Ok(())
    })
}

impl ServerHandler for GovernedTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("airlock", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Airlock's plant-operations tools. Every call is decided by Airlock's governor \
                 and recorded: a call may be denied, or wait for a human approver \
                 (status pending_approval with an approval_id).",
            )
    }

    fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<ListToolsResult, ErrorData>> + MaybeSendFuture + '_ {
        std::future::ready(Ok(ListToolsResult::with_all_items(self.tools())))
    }

    fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> impl Future<Output = Result<CallToolResponse, ErrorData>> + MaybeSendFuture + '_ {
        let agent = Arc::clone(&self.agent);
        async move {
            let tool = request.name.to_string();
            if agent.tools().spec(&tool).is_none() {
                return Err(ErrorData::invalid_params(
                    format!("Airlock has no tool `{tool}`; list the tools first"),
                    None,
                ));
            }
            let args = request.arguments.unwrap_or_default();
            tracing::info!(tool, "MCP call");
            let outcome = tokio::task::spawn_blocking(move || {
                agent.call(&tool, args, Mode::Execute, &mut |_| {})
            })
            .await
            .map_err(|err| ErrorData::internal_error(err.to_string(), None))?;
            Ok(CallToolResponse::from(call_result(outcome)))
        }
    }
}

/// The MCP result of one governed call: its status and details as structured content, the
/// same as JSON text for clients that read only text.
fn call_result(outcome: Result<AskOutcome, AgentError>) -> CallToolResult {
    let (failed, status) = match outcome {
        Ok(outcome) => status_of(&outcome),
        Err(err) => (true, json!({"status": "failed", "error": err.to_string()})),
    };
    let text = serde_json::to_string_pretty(&status).unwrap_or_default();
    let mut result = if failed {
        CallToolResult::error(vec![ContentBlock::text(text)])
    } else {
        CallToolResult::success(vec![ContentBlock::text(text)])
    };
    result.structured_content = Some(status);
    result
}

/// Whether the call failed or was refused, and its status object.
fn status_of(outcome: &AskOutcome) -> (bool, Value) {
    let trace = &outcome.audit.trace_id;
    if let Outcome::Deny { reason } = &outcome.admission.outcome {
        return (
            true,
            json!({"status": "denied", "reason": reason, "trace_id": trace}),
        );
    }
    let Some(entry) = outcome.plan.first() else {
        return (
            true,
            json!({"status": "not_run", "reason": outcome.answer, "trace_id": trace}),
        );
    };
    let decision = &entry.decision;
    match &decision.outcome {
        Outcome::Allow => match outcome.actions_taken.first() {
            Some(action) => match &action.error {
                None => (
                    false,
                    json!({"status": "completed", "decision_id": decision.id,
                           "result": action.result, "trace_id": trace}),
                ),
                Some(error) => (
                    true,
                    json!({"status": "failed", "decision_id": decision.id, "error": error,
                           "trace_id": trace}),
                ),
            },
            None => (
                true,
                json!({"status": "not_run", "decision_id": decision.id,
                       "reason": outcome.answer, "trace_id": trace}),
            ),
        },
        Outcome::RequireApproval {
            approver_group,
            reason,
        } => (
            false,
            json!({"status": "pending_approval", "approval_id": entry.approval_id,
                   "approver_group": approver_group, "reason": reason,
                   "decision_id": decision.id, "trace_id": trace}),
        ),
        Outcome::Deny { reason } => (
            true,
            json!({"status": "denied", "reason": reason, "rule": decision.deciding_rule,
                   "decision_id": decision.id, "trace_id": trace}),
        ),
        Outcome::Clarify { questions } => (
            false,
            json!({"status": "clarification_needed", "questions": questions,
                   "decision_id": decision.id, "trace_id": trace}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use airlock_agent::{AuditRef, Decision, PlannedIntent};
    use airlock_core::{Confidence, Intent};

    use super::*;

    fn decision(outcome: Outcome) -> Decision {
        Decision {
            id: "d1".into(),
            outcome,
            risk: airlock_policy::Risk::Low,
            deciding_rule: Some("rule".into()),
            trace: Vec::new(),
        }
    }

    fn outcome(admission: Outcome, plan: Vec<Outcome>) -> AskOutcome {
        AskOutcome {
            answer: "nothing ran".into(),
            admission: decision(admission),
            plan: plan
                .into_iter()
                .map(|outcome| PlannedIntent {
                    intent: Intent {
                        tool: "restart_service".into(),
                        args: serde_json::Map::new(),
                        reasoning: String::new(),
                        confidence: Confidence::High,
                    },
                    decision: decision(outcome),
                    token: None,
                    approval_id: None,
                })
                .collect(),
            actions_taken: Vec::new(),
            sources: Vec::new(),
            plan_stopped: None,
            timings: airlock_agent::Timings::default(),
            audit: AuditRef {
                trace_id: "t1".into(),
                mode: Mode::Execute,
                conversation_id: "c1".into(),
            },
        }
    }

    #[test]
    fn a_question_is_not_an_error_and_carries_the_questions() {
        let clarify = Outcome::Clarify {
            questions: vec!["Which system?".into()],
        };
        let (failed, status) = status_of(&outcome(Outcome::Allow, vec![clarify]));
        assert!(!failed);
        assert_eq!(status["status"], "clarification_needed");
        assert_eq!(status["questions"], json!(["Which system?"]));
    }

    #[test]
    fn a_refused_request_and_an_allowed_call_that_did_not_run_are_errors() {
        let refused = Outcome::Deny {
            reason: "unknown user".into(),
        };
        let (failed, status) = status_of(&outcome(refused, Vec::new()));
        assert!(failed);
        assert_eq!(status["status"], "denied");
        assert_eq!(status["reason"], "unknown user");

        let (failed, status) = status_of(&outcome(Outcome::Allow, vec![Outcome::Allow]));
        assert!(failed);
        assert_eq!(status["status"], "not_run");
        assert_eq!(status["trace_id"], "t1");
    }

    #[test]
    fn the_result_carries_the_status_as_structured_content_and_text() {
        let result = call_result(Err(AgentError::ReadOnly));
        assert_eq!(result.is_error, Some(true));
        let status = result.structured_content.unwrap();
        assert_eq!(status["status"], "failed");
        assert!(status["error"].as_str().unwrap().contains("read-only"));
    }
}
