//! What the governor returns: an outcome, a risk score and the trace of every layer that ran.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The governor's verdict on one proposed tool call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Outcome {
    /// The call may run; an intent token is issued for it.
    Allow,
    /// The call must not run.
    Deny {
        /// The text the user sees.
        reason: String,
    },
    /// A member of `approver_group` must approve the call before it runs.
    RequireApproval {
        /// Who may approve.
        approver_group: String,
        /// Why approval is needed.
        reason: String,
    },
    /// The request is ambiguous; ask these questions instead of guessing.
    Clarify {
        /// Questions for the user.
        questions: Vec<String>,
    },
}

impl Outcome {
    /// The stable snake_case name of the outcome (`allow`, `deny`, `require_approval`,
    /// `clarify`).
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny { .. } => "deny",
            Outcome::RequireApproval { .. } => "require_approval",
            Outcome::Clarify { .. } => "clarify",
        }
    }

    /// The text a user sees: the reason, or the questions joined.
    #[must_use]
    pub fn explanation(&self) -> String {
        match self {
            Outcome::Allow => "allowed".to_owned(),
            Outcome::Deny { reason } | Outcome::RequireApproval { reason, .. } => reason.clone(),
            Outcome::Clarify { questions } => questions.join(" "),
        }
    }
}

/// How much harm the call could do if the decision were wrong.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// A read of non-restricted data.
    #[default]
    Low,
    /// A write, or a read of restricted data.
    Medium,
    /// A write in production, tainted input, a first injection warning.
    High,
    /// Destructive, or an attack in progress.
    Critical,
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
            Risk::Critical => "critical",
        })
    }
}

/// The pipeline's layers, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// The principal exists and is not blacklisted.
    Identity,
    /// The tool is on the principal's role (and agent profile) allowlist.
    Allowlist,
    /// Cedar policies.
    Authorization,
    /// Token buckets per principal and per tool.
    RateLimit,
    /// The arguments match the tool's JSON schema and size limits.
    Parameters,
    /// The prompt-injection screen on the request text and untrusted arguments.
    Injection,
    /// Values from tool output or documents flowing into sensitive parameters.
    Taint,
    /// Command, SQL and config guards; amount limits.
    BusinessGuards,
    /// Cumulative spend over the rolling window.
    Budget,
    /// Patterns over the session's recent calls.
    Sequence,
    /// Planner confidence and unknown targets.
    Clarification,
}

impl Layer {
    /// Every layer, in pipeline order.
    pub const ALL: [Layer; 11] = [
        Layer::Identity,
        Layer::Allowlist,
        Layer::Authorization,
        Layer::RateLimit,
        Layer::Parameters,
        Layer::Injection,
        Layer::Taint,
        Layer::BusinessGuards,
        Layer::Budget,
        Layer::Sequence,
        Layer::Clarification,
    ];

    /// The stable snake_case name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Layer::Identity => "identity",
            Layer::Allowlist => "allowlist",
            Layer::Authorization => "authorization",
            Layer::RateLimit => "rate_limit",
            Layer::Parameters => "parameters",
            Layer::Injection => "injection",
            Layer::Taint => "taint",
            Layer::BusinessGuards => "business_guards",
            Layer::Budget => "budget",
            Layer::Sequence => "sequence",
            Layer::Clarification => "clarification",
        }
    }
}

/// What one layer concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing found.
    Pass,
    /// Something worth recording that does not change the outcome by itself.
    Warn,
    /// The call needs a human's approval.
    Approval,
    /// The call is refused; later layers do not run.
    Deny,
    /// The request is ambiguous.
    Clarify,
}

impl Verdict {
    /// The stable snake_case name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Approval => "approval",
            Verdict::Deny => "deny",
            Verdict::Clarify => "clarify",
        }
    }
}

/// One layer's entry in a decision's trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Which layer.
    pub layer: Layer,
    /// What it concluded.
    pub verdict: Verdict,
    /// What it checked and what it found, in one sentence.
    pub detail: String,
    /// The Cedar policy ids or guard rule ids that matched.
    pub rules: Vec<String>,
    /// The risk this layer assigns to the call.
    pub risk: Risk,
}

/// The governor's word on one call: the outcome, the overall risk, the rule that decided it
/// and every layer's finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Unique id; intent tokens and approvals refer to it.
    pub id: String,
    /// Allow, deny, ask for approval or ask for clarification.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The highest risk any layer assigned.
    pub risk: Risk,
    /// The rule that determined the outcome (a Cedar policy id or a guard rule id); `None`
    /// for an allow that no single rule decided.
    pub deciding_rule: Option<String>,
    /// Every layer that ran, in order.
    pub trace: Vec<Step>,
}

impl Decision {
    /// Whether the call may run right away.
    #[must_use]
    pub fn is_allow(&self) -> bool {
        matches!(self.outcome, Outcome::Allow)
    }

    /// The trace entry of `layer`, if it ran.
    #[must_use]
    pub fn step(&self, layer: Layer) -> Option<&Step> {
        self.trace.iter().find(|step| step.layer == layer)
    }

    /// The exit code `airlock policy eval` uses: 0 allow, 3 deny, 4 approval, 5 clarify.
    #[must_use]
    pub fn exit_code(&self) -> i32 {
        match self.outcome {
            Outcome::Allow => 0,
            Outcome::Deny { .. } => 3,
            Outcome::RequireApproval { .. } => 4,
            Outcome::Clarify { .. } => 5,
        }
    }
}
