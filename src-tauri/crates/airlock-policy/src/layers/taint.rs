//! Layer 7: values that came from tool output or retrieved documents (tainted) must not flow
//! into a sensitive parameter without a human's approval (or at all, per `guards.toml`).

use std::collections::BTreeSet;

use super::Finding;
use crate::config::{TaintAction, TaintConfig, ToolRules};
use crate::decision::{Layer, Risk};

/// Checks which of `tainted` (argument names) are sensitive for the tool.
pub(crate) fn check(
    config: &TaintConfig,
    tool: &str,
    rules: &ToolRules,
    tainted: &BTreeSet<String>,
) -> Finding {
    if tainted.is_empty() {
        return Finding::pass(
            Layer::Taint,
            "no argument came from untrusted content",
            Risk::Low,
        );
    }
    let sensitive: Vec<&str> = rules
        .sensitive
        .iter()
        .filter(|param| tainted.contains(*param))
        .map(String::as_str)
        .collect();
    if sensitive.is_empty() {
        return Finding::warn(
            Layer::Taint,
            "taint.untrusted_input",
            format!(
                "argument(s) {} came from untrusted content but none is sensitive for `{tool}`",
                names(tainted.iter().map(String::as_str))
            ),
            Risk::Medium,
        );
    }
    let reason = format!(
        "sensitive argument(s) {} of `{tool}` came from tool output or a document, not from you",
        names(sensitive.iter().copied())
    );
    match config.on_sensitive {
        TaintAction::Deny => Finding::deny(
            Layer::Taint,
            "taint.sensitive",
            format!("{reason}; type the value yourself"),
            Risk::High,
        ),
        TaintAction::Approval => Finding::approval(
            Layer::Taint,
            "taint.sensitive",
            config.approver.clone(),
            reason,
            Risk::High,
        ),
    }
}

fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Verdict;

    fn rules() -> ToolRules {
        ToolRules {
            sensitive: vec!["command".to_owned()],
            ..ToolRules::default()
        }
    }

    fn tainted(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn clean_arguments_pass() {
        let finding = check(
            &TaintConfig::default(),
            "run_command",
            &rules(),
            &tainted(&[]),
        );
        assert_eq!(finding.step.verdict, Verdict::Pass);
    }

    #[test]
    fn tainted_but_harmless_arguments_only_warn() {
        let finding = check(
            &TaintConfig::default(),
            "run_command",
            &rules(),
            &tainted(&["note"]),
        );
        assert_eq!(finding.step.verdict, Verdict::Warn);
    }

    #[test]
    fn a_tainted_sensitive_argument_needs_approval_or_is_denied_per_policy() {
        let finding = check(
            &TaintConfig::default(),
            "run_command",
            &rules(),
            &tainted(&["command"]),
        );
        assert_eq!(finding.step.verdict, Verdict::Approval);
        let deny = TaintConfig {
            on_sensitive: TaintAction::Deny,
            ..TaintConfig::default()
        };
        let finding = check(&deny, "run_command", &rules(), &tainted(&["command"]));
        assert_eq!(finding.step.verdict, Verdict::Deny);
        assert_eq!(finding.step.rules, ["taint.sensitive"]);
    }
}
