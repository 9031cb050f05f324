//! What a batch run returns: one [`MultiDecision`] per request, with a decision per intent,
//! and a summary.

use airlock_policy::{Decision, Outcome, Risk};
use serde::Serialize;
use serde_json::{Map, Value};

use super::input::InvalidEntry;

/// A sub-decision's status, in the batch format's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubStatus {
    /// The call may run (in execute mode it ran, see `executed`).
    Approved,
    /// The call must not run.
    Denied,
    /// A person of `approver_group` must approve it first.
    RequiresApproval,
    /// The governor needs an answer from the user first.
    ClarificationNeeded,
}

/// What running an approved call in execute mode gave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Executed {
    /// Whether it succeeded.
    pub ok: bool,
    /// Its error, when it failed or did not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: f64,
}

/// The governor's decision on one intent of a request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubDecision {
    /// Approved, denied, requires approval or clarification needed.
    pub status: SubStatus,
    /// The system the call touches, when it names or implies one.
    pub service: Option<String>,
    /// The tool; `None` when the request was refused before any call was planned.
    pub action: Option<String>,
    /// The call's arguments (approved and approval-needing calls).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<Map<String, Value>>,
    /// Why it was denied or needs approval, or the question to answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who may approve it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approver_group: Option<String>,
    /// The policy or guard rule that decided it.
    pub rule: Option<String>,
    /// The highest risk any layer assigned.
    pub risk: Risk,
    /// The decision's id (what approvals and the audit log refer to).
    pub decision_id: String,
    /// The approval request it waits in (execute mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    /// What running it gave (execute mode, approved calls).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executed: Option<Executed>,
}

impl SubDecision {
    /// The sub-decision for `decision` on a call of `action` (none: the request itself).
    pub(crate) fn of(
        decision: &Decision,
        action: Option<&str>,
        service: Option<String>,
        args: Option<&Map<String, Value>>,
    ) -> Self {
        let (status, reason, approver_group) = match &decision.outcome {
            Outcome::Allow => (SubStatus::Approved, None, None),
            Outcome::Deny { reason } => (SubStatus::Denied, Some(reason.clone()), None),
            Outcome::RequireApproval {
                approver_group,
                reason,
            } => (
                SubStatus::RequiresApproval,
                Some(reason.clone()),
                Some(approver_group.clone()),
            ),
            Outcome::Clarify { questions } => (
                SubStatus::ClarificationNeeded,
                Some(questions.join(" ")),
                None,
            ),
        };
        let payload = matches!(status, SubStatus::Approved | SubStatus::RequiresApproval)
            .then(|| args.cloned())
            .flatten();
        Self {
            status,
            service,
            action: action.map(str::to_owned),
            payload,
            reason,
            approver_group,
            rule: decision.deciding_rule.clone(),
            risk: decision.risk,
            decision_id: decision.id.clone(),
            approval_id: None,
            executed: None,
        }
    }
}

/// Whose identity a request was decided with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentitySource {
    /// The role and groups the file states (an admin ran the batch).
    Stated,
    /// The file's user as the policy's directory knows them (an admin ran the batch; the
    /// entry states no role).
    Directory,
    /// The person running the batch: the file's identities are not trusted without an admin.
    Runner,
}

/// The outcome of one entry of a batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MultiDecision {
    /// The entry's id (or `#N`, its position, when it has no usable id).
    pub request_id: String,
    /// The user the entry names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Who it was decided as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_as: Option<String>,
    /// Where that identity came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentitySource>,
    /// The request's trace id in the audit log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// A decision per intent (one for a request refused before planning).
    pub sub_decisions: Vec<SubDecision>,
    /// Why the entry was not run (invalid) or did not finish (planning failed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// The entry's line, for JSON Lines input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl MultiDecision {
    /// The report of an entry that could not be run.
    pub(crate) fn invalid(entry: &InvalidEntry) -> Self {
        Self {
            request_id: entry
                .id
                .clone()
                .unwrap_or_else(|| format!("#{}", entry.position)),
            user: None,
            decided_as: None,
            identity: None,
            trace_id: None,
            sub_decisions: Vec::new(),
            errors: entry.errors.clone(),
            line: entry.line,
        }
    }
}

/// Counts over a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BatchSummary {
    /// Entries in the file.
    pub requests: usize,
    /// Entries reported as invalid and not run.
    pub invalid: usize,
    /// Requests whose planning failed.
    pub failed: usize,
    /// Sub-decisions over all requests.
    pub total: usize,
    /// Of which approved.
    pub approved: usize,
    /// Denied.
    pub denied: usize,
    /// Requiring approval.
    pub requires_approval: usize,
    /// Needing clarification.
    pub clarification_needed: usize,
}

impl BatchSummary {
    /// Counts `result` in.
    pub(crate) fn add(&mut self, result: &MultiDecision) {
        self.requests += 1;
        if result.trace_id.is_none() {
            self.invalid += 1;
        } else if !result.errors.is_empty() {
            self.failed += 1;
        }
        for sub in &result.sub_decisions {
            self.total += 1;
            match sub.status {
                SubStatus::Approved => self.approved += 1,
                SubStatus::Denied => self.denied += 1,
                SubStatus::RequiresApproval => self.requires_approval += 1,
                SubStatus::ClarificationNeeded => self.clarification_needed += 1,
            }
        }
    }
}

/// A whole batch run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchReport {
    /// The batch's id (in the audit log's `batch_run` event and every request's events).
    pub batch_id: String,
    /// Plan or execute.
    pub mode: airlock_core::Mode,
    /// Who ran it (the OS user).
    pub run_by: String,
    /// The admin who vouched for the file's identities, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trusted_by: Option<String>,
    /// One per entry, in file order.
    pub results: Vec<MultiDecision>,
    /// The counts.
    pub summary: BatchSummary,
    /// How long the run took.
    pub elapsed_ms: f64,
}
