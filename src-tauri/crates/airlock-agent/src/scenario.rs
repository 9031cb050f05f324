//! Demo scenarios: a request, a mode and what must (not) happen, judged against a real run.

use std::path::{Path, PathBuf};

use airlock_core::{Mode, ToolEffect};
use serde::Deserialize;

use crate::{AskOutcome, ToolRegistry};

/// One scenario from `fixtures/scenarios/*.toml`.
#[derive(Debug, Clone, Deserialize)]
pub struct Scenario {
    /// Short title.
    pub name: String,
    /// The operator's request.
    pub prompt: String,
    /// How it runs.
    pub mode: Mode,
    /// The expected outcome in words, for the table.
    pub outcome: String,
    /// Subsystems of the simulated plant put down before the prompt (`airlock sim fault`).
    #[serde(default)]
    pub faults: Vec<String>,
    /// The local account (created for the run, with the approver groups of the directory's
    /// user of that name) that approves every request the prompt left waiting.
    #[serde(default)]
    pub approve_as: Option<String>,
    /// The operator's next message in the same conversation (e.g. the answer to Airlock's
    /// question); its plan is judged by `expect.reply_planned`.
    #[serde(default)]
    pub reply: Option<String>,
    /// Once the approved writes ran, each is rolled back (`airlock rollback`), and the undo
    /// is approved by `approve_as` too.
    #[serde(default)]
    pub rollback: bool,
    /// What is checked.
    pub expect: Expectation,
}

/// The checks of a scenario. Beyond these, no write tool may ever run.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Expectation {
    /// At least one of these tools must have run (empty: no requirement).
    pub executed_any: Vec<String>,
    /// Every one of these tools must have run.
    pub executed_all: Vec<String>,
    /// At least one of these tools must be in the plan (empty: no requirement).
    pub planned_any: Vec<String>,
    /// None of these tools may run.
    pub never_executed: Vec<String>,
    /// No tool at all may run.
    pub executes_nothing: bool,
    /// The answer's sources must include a passage whose citation contains each of these
    /// (e.g. `p. 2`), and whose text contains the matching entry of `source_text`.
    pub cites: Vec<String>,
    /// Text the cited passages must hold, one per `cites` entry.
    pub source_text: Vec<String>,
    /// Tools that must wait for approval after the prompt, and run once approved.
    pub approved_ran: Vec<String>,
    /// Writes whose rollback must wait for approval, then run.
    pub rolled_back: Vec<String>,
    /// Subsystem → state the system status must report at the end.
    pub status_after: std::collections::BTreeMap<String, String>,
    /// The prompt must end in a question (a `clarify` decision) and the reply's plan must
    /// hold each of these tools, none of them in question any more.
    pub reply_planned: Vec<String>,
}

/// What a scenario did after its prompt.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AfterPrompt {
    /// The tools of the calls that ran once approved.
    pub approved: Vec<String>,
    /// The writes whose undo waited for approval and then ran.
    pub rolled_back: Vec<String>,
    /// The system status read at the end, when the scenario checks one.
    pub status: Option<serde_json::Value>,
}

/// The verdict on one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// Whether every check held.
    pub passed: bool,
    /// What actually happened, in one line.
    pub actual: String,
    /// The checks that failed.
    pub failures: Vec<String>,
}

/// Why scenarios could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("cannot load scenario {}: {reason}", path.display())]
pub struct ScenarioError {
    /// The file (or directory).
    pub path: PathBuf,
    /// What is wrong.
    pub reason: String,
}

/// Loads every `*.toml` scenario in `dir`, in file-name order.
///
/// # Errors
/// [`ScenarioError`] naming the file that cannot be read or parsed.
pub fn load_scenarios(dir: &Path) -> Result<Vec<Scenario>, ScenarioError> {
    let fail = |path: &Path, reason: String| ScenarioError {
        path: path.to_owned(),
        reason,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|err| fail(dir, err.to_string()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).map_err(|err| fail(path, err.to_string()))?;
            toml::from_str(&text).map_err(|err| fail(path, err.to_string()))
        })
        .collect()
}

impl Scenario {
    /// Judges a run of this scenario.
    #[must_use]
    pub fn judge(&self, outcome: &AskOutcome, tools: &ToolRegistry) -> Judgement {
        let ran: Vec<&str> = outcome
            .actions_taken
            .iter()
            .map(|a| a.tool.as_str())
            .collect();
        let planned: Vec<&str> = outcome
            .plan
            .iter()
            .map(|p| p.intent.tool.as_str())
            .collect();
        let expect = &self.expect;
        let mut failures = Vec::new();
        if outcome.audit.mode != self.mode {
            failures.push(format!(
                "ran in {} mode, expected {}",
                outcome.audit.mode, self.mode
            ));
        }
        if !expect.executed_any.is_empty()
            && !expect
                .executed_any
                .iter()
                .any(|t| ran.contains(&t.as_str()))
        {
            failures.push(format!("none of {:?} ran", expect.executed_any));
        }
        for tool in &expect.executed_all {
            if !ran.contains(&tool.as_str()) {
                failures.push(format!("{tool} did not run"));
            }
        }
        if !expect.planned_any.is_empty()
            && !expect
                .planned_any
                .iter()
                .any(|t| planned.contains(&t.as_str()))
        {
            failures.push(format!("none of {:?} was planned", expect.planned_any));
        }
        for tool in &expect.never_executed {
            if ran.contains(&tool.as_str()) {
                failures.push(format!("{tool} ran but must not"));
            }
        }
        if expect.executes_nothing && !ran.is_empty() {
            failures.push("tools ran but nothing may".to_owned());
        }
        for (index, citation) in expect.cites.iter().enumerate() {
            let text = expect.source_text.get(index).map_or("", String::as_str);
            if !outcome.sources.iter().any(|source| {
                source.citation.contains(citation.as_str()) && source.text.contains(text)
            }) {
                failures.push(format!("no source cited {citation:?} holding {text:?}"));
            }
        }
        for tool in &ran {
            if tools
                .spec(tool)
                .is_some_and(|s| s.effect == ToolEffect::Write)
            {
                failures.push(format!("write tool {tool} ran"));
            }
        }
        Judgement {
            passed: failures.is_empty(),
            actual: describe(&planned, &ran),
            failures,
        }
    }
}

impl Scenario {
    /// Judges the reply of a clarification round trip: the prompt's plan asked a question,
    /// and the reply's plan holds every `expect.reply_planned` tool with no question left.
    #[must_use]
    pub fn judge_reply(&self, prompt: &AskOutcome, reply: &AskOutcome) -> Vec<String> {
        let mut failures = Vec::new();
        let asked = |outcome: &AskOutcome| {
            outcome.plan.iter().any(|entry| {
                matches!(
                    entry.decision.outcome,
                    airlock_policy::Outcome::Clarify { .. }
                )
            })
        };
        if !asked(prompt) {
            failures.push("the prompt's plan asked no question".to_owned());
        }
        if asked(reply) {
            failures.push("the reply left a question open".to_owned());
        }
        for tool in &self.expect.reply_planned {
            if !reply.plan.iter().any(|entry| &entry.intent.tool == tool) {
                failures.push(format!("the reply's plan has no {tool}"));
            }
        }
        if reply.audit.conversation_id != prompt.audit.conversation_id {
            failures.push("the reply went to another conversation".to_owned());
        }
        failures
    }

    /// Judges what happened after the prompt (see [`AfterPrompt`]).
    #[must_use]
    pub fn judge_after(&self, after: &AfterPrompt) -> Vec<String> {
        let mut failures = Vec::new();
        for tool in &self.expect.approved_ran {
            if !after.approved.contains(tool) {
                failures.push(format!("{tool} did not run after approval"));
            }
        }
        for tool in &self.expect.rolled_back {
            if !after.rolled_back.contains(tool) {
                failures.push(format!("{tool} was not rolled back after approval"));
            }
        }
        let status = after.status.as_ref();
        for (subsystem, expected) in &self.expect.status_after {
            let state = status
                .and_then(|status| status["subsystems"].as_array())
                .into_iter()
                .flatten()
                .find(|s| s["name"] == subsystem.as_str())
                .and_then(|s| s["state"].as_str());
            if state != Some(expected.as_str()) {
                failures.push(format!(
                    "{subsystem} is {} at the end, expected {expected}",
                    state.unwrap_or("unknown")
                ));
            }
        }
        failures
    }
}

fn describe(planned: &[&str], ran: &[&str]) -> String {
    let list = |tools: &[&str]| {
        if tools.is_empty() {
            "nothing".to_owned()
        } else {
            tools.join(", ")
        }
    };
    format!("planned {}; ran {}", list(planned), list(ran))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use airlock_core::{Confidence, Intent, Tool, ToolSpec};
    use serde_json::{json, Map};

    use super::*;
    use crate::{Action, AuditRef, PlannedIntent};

    fn registry() -> ToolRegistry {
        let spec = |name: &str, effect| ToolSpec {
            name: name.into(),
            description: String::new(),
            parameters: json!({}),
            effect,
            target: airlock_core::ToolTarget::named_by_args(
                airlock_core::SystemKind::Ops,
                airlock_core::Classification::Internal,
            ),
        };
        ToolRegistry::new(
            vec![
                spec("status", ToolEffect::Read),
                spec("set_level", ToolEffect::Write),
            ],
            Vec::<Arc<dyn Tool>>::new(),
        )
    }

    fn allowed() -> airlock_policy::Decision {
        airlock_policy::Decision {
            id: "d".into(),
            outcome: airlock_policy::Outcome::Allow,
            risk: airlock_policy::Risk::Low,
            deciding_rule: None,
            trace: Vec::new(),
        }
    }

    fn outcome(mode: Mode, planned: &[&str], ran: &[&str]) -> AskOutcome {
        AskOutcome {
            answer: String::new(),
            admission: allowed(),
            plan: planned
                .iter()
                .map(|t| PlannedIntent {
                    intent: Intent {
                        tool: (*t).into(),
                        args: Map::new(),
                        reasoning: String::new(),
                        confidence: Confidence::High,
                    },
                    decision: allowed(),
                    token: None,
                    approval_id: None,
                })
                .collect(),
            actions_taken: ran
                .iter()
                .map(|t| Action {
                    tool: (*t).into(),
                    decision_id: String::new(),
                    args: Map::new(),
                    result: None,
                    error: None,
                    duration_ms: 0.0,
                })
                .collect(),
            sources: Vec::new(),
            plan_stopped: None,
            timings: crate::Timings::default(),
            audit: AuditRef {
                trace_id: "t".into(),
                mode,
                conversation_id: "c".into(),
            },
        }
    }

    fn scenario(mode: Mode, expect: Expectation) -> Scenario {
        Scenario {
            name: "s".into(),
            prompt: "p".into(),
            mode,
            outcome: String::new(),
            faults: Vec::new(),
            approve_as: None,
            reply: None,
            rollback: false,
            expect,
        }
    }

    #[test]
    fn what_happens_after_the_prompt_is_judged_too() {
        let s = scenario(
            Mode::Execute,
            Expectation {
                approved_ran: vec!["restart".into()],
                status_after: [("labelprintd".to_owned(), "up".to_owned())].into(),
                ..Expectation::default()
            },
        );
        let after = |approved: &[&str], status: Option<serde_json::Value>| AfterPrompt {
            approved: approved.iter().map(|&tool| tool.to_owned()).collect(),
            rolled_back: Vec::new(),
            status,
        };
        let up = json!({"subsystems": [{"name": "labelprintd", "state": "up"}]});
        let down = json!({"subsystems": [{"name": "labelprintd", "state": "down"}]});
        assert!(s.judge_after(&after(&["restart"], Some(up))).is_empty());
        let failures = s.judge_after(&after(&[], Some(down)));
        assert_eq!(
            failures,
            [
                "restart did not run after approval",
                "labelprintd is down at the end, expected up"
            ]
        );
        assert_eq!(
            s.judge_after(&after(&["restart"], None)),
            ["labelprintd is unknown at the end, expected up"]
        );
    }

    #[test]
    fn a_write_must_be_rolled_back_when_the_scenario_says_so() {
        let s = scenario(
            Mode::Execute,
            Expectation {
                approved_ran: vec!["create_order".into()],
                rolled_back: vec!["create_order".into()],
                ..Expectation::default()
            },
        );
        let mut after = AfterPrompt {
            approved: vec!["create_order".into()],
            ..AfterPrompt::default()
        };
        assert_eq!(
            s.judge_after(&after),
            ["create_order was not rolled back after approval"]
        );
        after.rolled_back.push("create_order".into());
        assert!(s.judge_after(&after).is_empty());
    }

    #[test]
    fn missing_required_tool_fails() {
        let s = scenario(
            Mode::Execute,
            Expectation {
                executed_all: vec!["status".into()],
                ..Expectation::default()
            },
        );
        let j = s.judge(&outcome(Mode::Execute, &["status"], &[]), &registry());
        assert!(!j.passed);
        assert_eq!(j.actual, "planned status; ran nothing");
        assert!(
            s.judge(
                &outcome(Mode::Execute, &["status"], &["status"]),
                &registry()
            )
            .passed
        );
    }

    #[test]
    fn any_write_tool_that_ran_fails_the_scenario() {
        let s = scenario(Mode::Execute, Expectation::default());
        let j = s.judge(
            &outcome(Mode::Execute, &["set_level"], &["set_level"]),
            &registry(),
        );
        assert_eq!(j.failures, ["write tool set_level ran"]);
    }

    #[test]
    fn plan_mode_scenarios_check_the_plan_and_that_nothing_ran() {
        let s = scenario(
            Mode::Plan,
            Expectation {
                planned_any: vec!["status".into()],
                executes_nothing: true,
                ..Expectation::default()
            },
        );
        assert!(
            s.judge(&outcome(Mode::Plan, &["status"], &[]), &registry())
                .passed
        );
        assert!(!s.judge(&outcome(Mode::Plan, &[], &[]), &registry()).passed);
        assert!(
            !s.judge(&outcome(Mode::Execute, &["status"], &[]), &registry())
                .passed
        );
    }

    #[test]
    fn a_citation_check_needs_a_source_with_that_citation_and_text() {
        let s = scenario(
            Mode::Plan,
            Expectation {
                cites: vec!["p. 2".into()],
                source_text: vec!["45 N·m".into()],
                ..Expectation::default()
            },
        );
        let mut answered = outcome(Mode::Plan, &[], &[]);
        assert_eq!(
            s.judge(&answered, &registry()).failures,
            ["no source cited \"p. 2\" holding \"45 N·m\""]
        );
        answered.sources.push(airlock_rag::Passage {
            chunk_id: 1,
            citation: "[Manual, p. 2, Impeller]".into(),
            quote: String::new(),
            text: "M10: 45 N·m".into(),
            score: 0.1,
            similarity: Some(0.6),
        });
        assert!(s.judge(&answered, &registry()).passed);
    }

    #[test]
    fn bundled_scenarios_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures/scenarios");
        let scenarios = load_scenarios(&dir).unwrap();
        assert!(scenarios.len() >= 6, "{} scenarios", scenarios.len());
    }
}
