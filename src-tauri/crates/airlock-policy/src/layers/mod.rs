//! The pipeline's layers. Each one looks at a resolved call and returns a [`Finding`]; the
//! governor runs them in order and stops at the first denial.

pub(crate) mod allowlist;
pub(crate) mod authorization;
pub(crate) mod budget;
pub(crate) mod business;
pub(crate) mod identity;
pub(crate) mod injection;
pub(crate) mod parameters;
pub(crate) mod rate;
pub(crate) mod sequence;
pub(crate) mod taint;

use crate::decision::{Layer, Risk, Step, Verdict};

/// What a layer concluded, with what the outcome needs beyond the trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    /// The trace entry.
    pub step: Step,
    /// What the decision must do because of it.
    pub effect: Effect,
}

/// How a finding changes the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Nothing.
    None,
    /// Refuse with this reason.
    Deny(String),
    /// Ask `group` to approve, for this reason.
    Approval { group: String, reason: String },
    /// Ask these questions.
    Clarify(Vec<String>),
}

impl Finding {
    /// Nothing found; `detail` says what was checked.
    pub fn pass(layer: Layer, detail: impl Into<String>, risk: Risk) -> Self {
        Self::new(layer, Verdict::Pass, detail, Vec::new(), risk, Effect::None)
    }

    /// Something worth recording that does not change the outcome.
    pub fn warn(
        layer: Layer,
        rule: impl Into<String>,
        detail: impl Into<String>,
        risk: Risk,
    ) -> Self {
        Self::new(
            layer,
            Verdict::Warn,
            detail,
            vec![rule.into()],
            risk,
            Effect::None,
        )
    }

    /// Refused by `rule`; `reason` is what the user reads.
    pub fn deny(
        layer: Layer,
        rule: impl Into<String>,
        reason: impl Into<String>,
        risk: Risk,
    ) -> Self {
        let reason = reason.into();
        Self::new(
            layer,
            Verdict::Deny,
            reason.clone(),
            vec![rule.into()],
            risk,
            Effect::Deny(reason),
        )
    }

    /// Needs approval from `group` because of `rule`.
    pub fn approval(
        layer: Layer,
        rule: impl Into<String>,
        group: impl Into<String>,
        reason: impl Into<String>,
        risk: Risk,
    ) -> Self {
        let reason = reason.into();
        let group = group.into();
        Self::new(
            layer,
            Verdict::Approval,
            format!("{reason} (approver: {group})"),
            vec![rule.into()],
            risk,
            Effect::Approval { group, reason },
        )
    }

    /// The request is ambiguous.
    pub fn clarify(
        layer: Layer,
        rule: impl Into<String>,
        questions: Vec<String>,
        risk: Risk,
    ) -> Self {
        Self::new(
            layer,
            Verdict::Clarify,
            questions.join(" "),
            vec![rule.into()],
            risk,
            Effect::Clarify(questions),
        )
    }

    /// A finding with every part given.
    pub fn new(
        layer: Layer,
        verdict: Verdict,
        detail: impl Into<String>,
        rules: Vec<String>,
        risk: Risk,
        effect: Effect,
    ) -> Self {
        Self {
            step: Step {
                layer,
                verdict,
                detail: detail.into(),
                rules,
                risk,
            },
            effect,
        }
    }
}
