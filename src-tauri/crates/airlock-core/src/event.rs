//! Events: what every step of a request records.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Identifies one request from the moment it arrives to its answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TraceId(String);

impl TraceId {
    /// A fresh random trace id.
    #[must_use]
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for TraceId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for TraceId {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// The kinds of step a request goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A request arrived and passed the input checks.
    RequestReceived,
    /// A request was refused before planning (empty, too large, ...).
    RequestRejected,
    /// The planner produced a plan.
    PlanProposed,
    /// The planner failed (model missing, worker died, ...).
    PlanFailed,
    /// The governor decided one intent (allow, deny, approval, clarify), with its trace.
    DecisionMade,
    /// An intent token was issued for an allowed intent (the token itself is never recorded).
    TokenIssued,
    /// The executor refused a call whose token did not verify.
    TokenRejected,
    /// A tool call started.
    ToolStarted,
    /// A tool call finished with a result.
    ToolFinished,
    /// A tool call failed.
    ToolFailed,
    /// The answer was generated.
    AnswerGenerated,
    /// Generating the answer failed.
    AnswerFailed,
    /// A document was added, updated, relabelled or removed from the searchable library.
    DocumentsChanged,
    /// A call that needs approval now waits as an approval request.
    ApprovalRequested,
    /// An approver approved a request.
    ApprovalGranted,
    /// An approver denied a request: it never runs.
    ApprovalDenied,
    /// A request expired undecided: it never runs.
    ApprovalExpired,
    /// Someone tried to approve or deny and was refused (unknown account, wrong passphrase,
    /// locked account, not in the approver group, or their own request).
    ApproverRefused,
    /// A local account was added or removed.
    AccountsChanged,
    /// A call of a multi-step plan failed: the rest of the plan was not run, and the undo of
    /// each completed write is offered.
    PlanStopped,
    /// The plant simulator's state was changed by hand: a fault injected for a drill, or a
    /// reset to the fixtures' snapshot.
    SimulatorChanged,
    /// An admin saved a policy file; the governor now decides with it.
    PolicyChanged,
    /// An admin switched the generator model requests use.
    ModelChanged,
    /// A named SAP or MES connection was added or removed (never its secret).
    ConnectionsChanged,
    /// An admin installed an offline update bundle, or tried to and it was refused.
    UpdateApplied,
    /// A batch file of requests was run: by whom, in which mode, and whether the identities it
    /// states were trusted (only when an admin runs it).
    BatchRun,
    /// An admin erased one person: their data deleted, their name in the audit log left as a
    /// pseudonym that nothing links back to them.
    SubjectErased,
}

impl EventKind {
    /// The stable snake_case name stored in the database.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::RequestReceived => "request_received",
            EventKind::RequestRejected => "request_rejected",
            EventKind::PlanProposed => "plan_proposed",
            EventKind::PlanFailed => "plan_failed",
            EventKind::DecisionMade => "decision_made",
            EventKind::TokenIssued => "token_issued",
            EventKind::TokenRejected => "token_rejected",
            EventKind::ToolStarted => "tool_started",
            EventKind::ToolFinished => "tool_finished",
            EventKind::ToolFailed => "tool_failed",
            EventKind::AnswerGenerated => "answer_generated",
            EventKind::AnswerFailed => "answer_failed",
            EventKind::DocumentsChanged => "documents_changed",
            EventKind::ApprovalRequested => "approval_requested",
            EventKind::ApprovalGranted => "approval_granted",
            EventKind::ApprovalDenied => "approval_denied",
            EventKind::ApprovalExpired => "approval_expired",
            EventKind::ApproverRefused => "approver_refused",
            EventKind::AccountsChanged => "accounts_changed",
            EventKind::PlanStopped => "plan_stopped",
            EventKind::SimulatorChanged => "simulator_changed",
            EventKind::PolicyChanged => "policy_changed",
            EventKind::ModelChanged => "model_changed",
            EventKind::ConnectionsChanged => "connections_changed",
            EventKind::UpdateApplied => "update_applied",
            EventKind::BatchRun => "batch_run",
            EventKind::SubjectErased => "subject_erased",
        }
    }
}

/// One recorded step of a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The request this step belongs to.
    pub trace_id: TraceId,
    /// What happened.
    pub kind: EventKind,
    /// Details; never secrets.
    pub payload: Value,
}

impl Event {
    /// An event of `kind` for `trace_id` with `payload`.
    #[must_use]
    pub fn new(trace_id: &TraceId, kind: EventKind, payload: Value) -> Self {
        Self {
            trace_id: trace_id.clone(),
            kind,
            payload,
        }
    }
}
