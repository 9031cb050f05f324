//! `airlock demo`: every scenario through the real model, judged, as a table.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use airlock_agent::{
    load_scenarios, Action, AfterPrompt, Agent, Approver, AskOutcome, Outcome, Scenario, Timings,
};
use airlock_connectors::ops::GET_SYSTEM_STATUS;
use airlock_core::Mode;
use serde_json::Map;
use zeroize::Zeroizing;

use crate::demo_sap::DemoSap;
use crate::paths::Paths;

/// What one run of every scenario gave.
struct RunReport {
    /// Scenarios that passed.
    passed: usize,
    /// Where each scenario's prompt spent its time (none when it failed with an error).
    timings: Vec<Option<Timings>>,
    /// Whether the SAP password was found anywhere it must not be.
    leaked: bool,
}

/// Runs every scenario `repeat` times, each round in a fresh data directory, prints each
/// round's table and then where each scenario's time went (medians over the rounds).
pub fn run(
    paths: &Paths,
    scenarios: Option<PathBuf>,
    strict: bool,
    repeat: usize,
) -> anyhow::Result<ExitCode> {
    let dir = scenarios.unwrap_or_else(|| paths.fixtures_dir.join("scenarios"));
    let scenarios = load_scenarios(&dir)?;
    let repeat = repeat.max(1);
    let mut reports = Vec::with_capacity(repeat);
    for round in 1..=repeat {
        if repeat > 1 {
            println!("\n== Round {round} of {repeat} ==\n");
        }
        let report = run_once(paths, &scenarios)?;
        if report.leaked {
            return Ok(ExitCode::FAILURE);
        }
        reports.push(report);
    }
    print_latency(&scenarios, &reports);
    let all_passed = reports.iter().all(|r| r.passed == scenarios.len());
    Ok(if strict && !all_passed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// One round: every scenario through the agent, judged, in a data directory of its own.
fn run_once(paths: &Paths, scenarios: &[Scenario]) -> anyhow::Result<RunReport> {
    // Each run gets a data directory of its own: the scenarios must not inherit an earlier
    // run's spend, rate buckets or injection warning (the injection scenario warns the user; a
    // second run in the same directory would blacklist them). The prompt cache stays the
    // user's: it holds no state of a run.
    let mut config = paths.agent_config()?;
    config.data_dir = paths.data_dir.join("demo-runs").join(format!(
        "{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
    ));
    std::fs::create_dir_all(&config.data_dir)?;
    let data_dir = config.data_dir.clone();
    let sap = DemoSap::start(paths, &mut config)?;
    let documents = index_documents(paths, &config)?;
    let agent = Agent::open(config)?;
    let worker = agent.model_worker()?;
    if let Some(model) = worker.loaded_model() {
        println!("Model: {} — {}", model.description, model.path.display());
    }
    println!("Data:  {} (this run's own)", data_dir.display());
    println!("SAP:   {}", sap.describe());
    println!("Docs:  {documents}");
    println!(
        "As:    {} (policy {})\n",
        agent.principal(),
        paths.policy_dir.display()
    );

    let mut approvers = Approvers::default();
    let mut rows = Vec::new();
    let mut timings = Vec::new();
    for scenario in scenarios {
        eprintln!("running: {} ({})", scenario.name, scenario.mode);
        for fault in &scenario.faults {
            agent.inject_fault(fault, "down", "stopped: injected fault (demo)")?;
        }
        let started = Instant::now();
        let asked = agent.ask(&scenario.prompt, scenario.mode, &mut |_| {});
        timings.push(asked.as_ref().ok().map(|outcome| outcome.timings));
        let (actual, governor, verdict) = match asked {
            Ok(outcome) => {
                let judgement = scenario.judge(&outcome, agent.tools());
                let mut actual = judgement.actual;
                let mut failures = judgement.failures;
                if let Some(reply) = &scenario.reply {
                    match agent.ask_in(
                        Some(&outcome.audit.conversation_id),
                        reply,
                        scenario.mode,
                        &mut |_| {},
                    ) {
                        Ok(answered) => {
                            actual
                                .push_str(&format!("; reply planned {}", planned_tools(&answered)));
                            failures.extend(scenario.judge_reply(&outcome, &answered));
                        }
                        Err(err) => failures.push(format!("the reply failed: {err}")),
                    }
                }
                match after_prompt(&agent, scenario, &outcome, &mut approvers) {
                    Ok(after) => {
                        if !after.approved.is_empty() {
                            actual.push_str(&format!(
                                "; approved and ran {}",
                                after.approved.join(", ")
                            ));
                        }
                        if !after.rolled_back.is_empty() {
                            actual.push_str(&format!(
                                "; rolled back {} once approved",
                                after.rolled_back.join(", ")
                            ));
                        }
                        failures.extend(scenario.judge_after(&after));
                    }
                    Err(err) => failures.push(format!("after the prompt: {err}")),
                }
                let verdict = if failures.is_empty() {
                    "PASS".to_owned()
                } else {
                    format!("FAIL: {}", failures.join("; "))
                };
                (actual, decisions(&outcome), verdict)
            }
            Err(err) => (format!("error: {err}"), "-".to_owned(), "FAIL".to_owned()),
        };
        if !scenario.faults.is_empty() {
            agent.reset_simulator()?;
        }
        rows.push([
            scenario.name.clone(),
            scenario.mode.to_string(),
            scenario.outcome.clone(),
            actual,
            governor,
            format!("{:.1}", started.elapsed().as_secs_f64()),
            verdict,
        ]);
    }
    print_table(
        &[
            "scenario",
            "mode",
            "expected",
            "actual",
            "governor: decision [deciding rule]",
            "secs",
            "result",
        ],
        &rows,
    );
    let passed = rows.iter().filter(|row| row[6] == "PASS").count();
    println!("\n{passed} passed, {} failed", rows.len() - passed);
    drop(agent);
    let (leaks, searched) = sap.find_password(&data_dir)?;
    let leaked = !leaks.is_empty();
    if leaked {
        println!("Secrets: THE SAP PASSWORD LEAKED into {}", leaks.join(", "));
    } else {
        println!(
            "Secrets: the SAP password is in none of the {searched} places searched (this run's files and its audit export)"
        );
    }
    Ok(RunReport {
        passed,
        timings,
        leaked,
    })
}

/// Where each scenario's prompt spent its time: medians over the rounds, in milliseconds. Approvals
/// and replies that follow the prompt are separate requests and not counted.
fn print_latency(scenarios: &[Scenario], reports: &[RunReport]) {
    let rows: Vec<[String; 7]> = scenarios
        .iter()
        .enumerate()
        .map(|(index, scenario)| {
            let runs: Vec<Timings> = reports.iter().filter_map(|r| r.timings[index]).collect();
            let p50 = |part: fn(&Timings) -> f64| {
                let mut values: Vec<f64> = runs.iter().map(part).collect();
                values.sort_by(f64::total_cmp);
                values
                    .get(values.len().saturating_sub(1) / 2)
                    .map_or_else(|| "-".to_owned(), |ms| format!("{ms:.1}"))
            };
            [
                scenario.name.clone(),
                runs.len().to_string(),
                p50(|t| t.total_ms),
                p50(|t| t.model_ms),
                p50(|t| t.governor_ms),
                p50(|t| t.tools_ms),
                p50(|t| (t.total_ms - t.model_ms - t.governor_ms - t.tools_ms).max(0.0)),
            ]
        })
        .collect();
    println!("\nWhere the time went (ms, median of the rounds; the prompt only):\n");
    print_table(
        &[
            "scenario", "rounds", "total", "model", "governor", "tools", "other",
        ],
        &rows,
    );
}

/// The local accounts this run created to approve with, and their passphrases (random, held
/// in memory for the run only).
#[derive(Default)]
struct Approvers {
    passphrases: HashMap<String, Zeroizing<String>>,
}

impl Approvers {
    /// `name` signed in, its account created first (with the admin role, which the first
    /// account needs, and `group`) when this run has not made it yet.
    fn sign_in(&mut self, agent: &Agent, name: &str, group: &str) -> anyhow::Result<Approver> {
        if !self.passphrases.contains_key(name) {
            let passphrase = Zeroizing::new(uuid::Uuid::new_v4().simple().to_string());
            let admin = match self.passphrases.iter().next() {
                Some((admin, pass)) => Some(agent.sign_in(admin, pass)?),
                None => None,
            };
            let roles = [airlock_agent::ADMIN_ROLE.to_owned(), group.to_owned()];
            agent.add_account(name, &roles, &passphrase, admin.as_ref())?;
            self.passphrases.insert(name.to_owned(), passphrase);
        }
        Ok(agent.sign_in(name, &self.passphrases[name])?)
    }
}

/// What the scenario does after its prompt: approves the requests it left waiting as its
/// `approve_as` account, rolls the approved writes back when it says so (each undo approved
/// by the same account), and reads the system status with a typed call when it checks one.
fn after_prompt(
    agent: &Agent,
    scenario: &Scenario,
    outcome: &AskOutcome,
    approvers: &mut Approvers,
) -> anyhow::Result<AfterPrompt> {
    let mut after = AfterPrompt::default();
    if let Some(name) = &scenario.approve_as {
        for action in approve_waiting(agent, outcome, name, approvers)? {
            if scenario.rollback {
                let undo = agent.rollback(&action.decision_id, Mode::Execute, &mut |_| {})?;
                if !approve_waiting(agent, &undo, name, approvers)?.is_empty() {
                    after.rolled_back.push(action.tool.clone());
                }
            }
            after.approved.push(action.tool);
        }
    }
    if !scenario.expect.status_after.is_empty() {
        let read = agent.call(GET_SYSTEM_STATUS, Map::new(), Mode::Execute, &mut |_| {})?;
        after.status = read
            .actions_taken
            .into_iter()
            .find_map(|action| action.result);
    }
    Ok(after)
}

/// Approves, as `name`, every call of `outcome` that waits for approval; returns the calls
/// that then ran without error.
fn approve_waiting(
    agent: &Agent,
    outcome: &AskOutcome,
    name: &str,
    approvers: &mut Approvers,
) -> anyhow::Result<Vec<Action>> {
    let mut ran = Vec::new();
    for entry in &outcome.plan {
        let (Some(id), Outcome::RequireApproval { approver_group, .. }) =
            (&entry.approval_id, &entry.decision.outcome)
        else {
            continue;
        };
        let approver = approvers.sign_in(agent, name, approver_group)?;
        let result = agent.approve(id, &approver, Some("approved in the demo"), &mut |_| {})?;
        ran.extend(result.action.filter(|action| action.error.is_none()));
    }
    Ok(ran)
}

/// Indexes the document corpus of `fixtures/docs` (its `corpus.txt`, labelled by its
/// `metadata.toml`) into the run's data directory; says what was indexed.
fn index_documents(paths: &Paths, config: &airlock_agent::AgentConfig) -> anyhow::Result<String> {
    let docs = paths.fixtures_dir.join("docs");
    let files = airlock_rag::read_corpus(&docs.join("corpus.txt"))?;
    let library = airlock_agent::DocumentLibrary::open(config)?;
    let options = airlock_agent::AddOptions {
        labels: Some(docs.join("metadata.toml")),
        ..airlock_agent::AddOptions::default()
    };
    let results = library.add(&files, &options, &mut |_| {})?;
    if let Some(failed) = results
        .iter()
        .find_map(|r| r.result.as_ref().err().map(|e| (r, e)))
    {
        anyhow::bail!("cannot index {}: {}", failed.0.path.display(), failed.1);
    }
    let chunks: u32 = library.list()?.iter().map(|d| d.chunks).sum();
    Ok(format!(
        "{} documents from {} indexed ({chunks} chunks)",
        results.len(),
        docs.display()
    ))
}

/// The tools of `outcome`'s plan, or `nothing`.
fn planned_tools(outcome: &AskOutcome) -> String {
    if outcome.plan.is_empty() {
        return "nothing".to_owned();
    }
    outcome
        .plan
        .iter()
        .map(|entry| entry.intent.tool.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The governor's word on the request when it refused it, else each intent's tool, the
/// governor's decision and the rule that decided it.
fn decisions(outcome: &AskOutcome) -> String {
    let admission = &outcome.admission;
    if !admission.is_allow() {
        return format!(
            "request: {} [{}]",
            admission.outcome.name(),
            admission.deciding_rule.as_deref().unwrap_or("-")
        );
    }
    let plan = &outcome.plan;
    if plan.is_empty() {
        return "no intent to decide".to_owned();
    }
    plan.iter()
        .map(|entry| {
            format!(
                "{}: {} [{}]",
                entry.intent.tool,
                entry.decision.outcome.name(),
                entry.decision.deciding_rule.as_deref().unwrap_or("-")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let render = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    println!("{}", render(header.to_vec()));
    println!("{}", widths.map(|w| "-".repeat(w)).join("-+-"));
    for row in rows {
        println!("{}", render(row.iter().map(String::as_str).collect()));
    }
}
