//! Layer 10: patterns over a session's recent calls — a write after reading restricted data,
//! and a run of denials.

use std::collections::{HashMap, VecDeque};

use super::Finding;
use crate::config::{SequenceAction, SequenceConfig};
use crate::decision::{Layer, Risk};

/// What the sequence rules remember of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recent {
    /// The call read from a restricted resource.
    pub restricted_read: bool,
    /// The call was denied.
    pub denied: bool,
}

/// Recent calls per session.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    sessions: HashMap<String, VecDeque<Recent>>,
}

impl Sessions {
    /// Checks a call that is a write (`is_write`) against the session's history.
    pub fn check(
        &self,
        config: &SequenceConfig,
        session: &str,
        tool: &str,
        is_write: bool,
    ) -> Finding {
        let history = self.sessions.get(session);
        let denials = history.map_or(0, |h| h.iter().rev().take_while(|r| r.denied).count());
        if config.max_consecutive_denials > 0 && denials >= config.max_consecutive_denials {
            return Finding::deny(
                Layer::Sequence,
                "sequence.consecutive_denials",
                format!("the last {denials} calls in this session were denied; start a new session or ask an admin to review it"),
                Risk::Critical,
            );
        }
        let read_restricted = history.is_some_and(|h| h.iter().any(|r| r.restricted_read));
        if is_write && read_restricted {
            let detail = format!("`{tool}` writes after this session read restricted data");
            return match config.restricted_read_then_write {
                SequenceAction::Deny => Finding::deny(
                    Layer::Sequence,
                    "sequence.restricted_read_then_write",
                    format!("{detail}; restricted data must not flow into a write — start a new session for the change"),
                    Risk::Critical,
                ),
                SequenceAction::RaiseRisk => {
                    Finding::warn(Layer::Sequence, "sequence.restricted_read_then_write", detail, Risk::Critical)
                }
            };
        }
        Finding::pass(
            Layer::Sequence,
            format!(
                "{} earlier call(s) in this session, no suspicious pattern",
                history.map_or(0, VecDeque::len)
            ),
            Risk::Low,
        )
    }

    /// Remembers a decided call, keeping at most `config.history` per session.
    pub fn remember(&mut self, config: &SequenceConfig, session: &str, recent: Recent) {
        let history = self.sessions.entry(session.to_owned()).or_default();
        history.push_back(recent);
        while history.len() > config.history.max(1) {
            history.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Verdict;

    const READ: Recent = Recent {
        restricted_read: false,
        denied: false,
    };
    const RESTRICTED: Recent = Recent {
        restricted_read: true,
        denied: false,
    };
    const DENIED: Recent = Recent {
        restricted_read: false,
        denied: true,
    };

    #[test]
    fn a_write_after_a_restricted_read_is_denied_but_reads_are_not() {
        let config = SequenceConfig::default();
        let mut sessions = Sessions::default();
        sessions.remember(&config, "s1", RESTRICTED);
        assert_eq!(
            sessions
                .check(&config, "s1", "get_logs", false)
                .step
                .verdict,
            Verdict::Pass
        );
        let finding = sessions.check(&config, "s1", "set_config", true);
        assert_eq!(finding.step.rules, ["sequence.restricted_read_then_write"]);
        assert_eq!(finding.step.verdict, Verdict::Deny);
        assert_eq!(
            sessions
                .check(&config, "other", "set_config", true)
                .step
                .verdict,
            Verdict::Pass
        );
    }

    #[test]
    fn raise_risk_mode_warns_at_critical_risk() {
        let config = SequenceConfig {
            restricted_read_then_write: SequenceAction::RaiseRisk,
            ..SequenceConfig::default()
        };
        let mut sessions = Sessions::default();
        sessions.remember(&config, "s1", RESTRICTED);
        let finding = sessions.check(&config, "s1", "set_config", true);
        assert_eq!(finding.step.verdict, Verdict::Warn);
        assert_eq!(finding.step.risk, Risk::Critical);
    }

    #[test]
    fn a_run_of_denials_pauses_the_session_and_a_pass_breaks_the_run() {
        let config = SequenceConfig {
            max_consecutive_denials: 3,
            ..SequenceConfig::default()
        };
        let mut sessions = Sessions::default();
        for _ in 0..2 {
            sessions.remember(&config, "s1", DENIED);
        }
        assert_eq!(
            sessions
                .check(&config, "s1", "get_logs", false)
                .step
                .verdict,
            Verdict::Pass
        );
        sessions.remember(&config, "s1", DENIED);
        let finding = sessions.check(&config, "s1", "get_logs", false);
        assert_eq!(finding.step.rules, ["sequence.consecutive_denials"]);
        let mut fresh = Sessions::default();
        for recent in [DENIED, DENIED, READ, DENIED] {
            fresh.remember(&config, "s1", recent);
        }
        assert_eq!(
            fresh.check(&config, "s1", "get_logs", false).step.verdict,
            Verdict::Pass
        );
    }

    #[test]
    fn history_is_bounded() {
        let config = SequenceConfig {
            history: 2,
            ..SequenceConfig::default()
        };
        let mut sessions = Sessions::default();
        sessions.remember(&config, "s1", RESTRICTED);
        sessions.remember(&config, "s1", READ);
        sessions.remember(&config, "s1", READ);
        assert_eq!(
            sessions
                .check(&config, "s1", "set_config", true)
                .step
                .verdict,
            Verdict::Pass
        );
    }
}
