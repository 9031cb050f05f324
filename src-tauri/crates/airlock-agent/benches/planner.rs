//! `make eval-planner`: do tool preselection and the scored tool choice help the small planner
//! models? Every request of `fixtures/planner/selection.toml` is planned by the real model
//! through the real worker, once per setting: greedy with every tool offered; greedy with the
//! top 4 and the top 6 by similarity (plus the always-on status read) allowed by the grammar
//! while the prompt lists every tool; greedy with the top 4 in both the prompt and the
//! grammar; and the scored choice over every tool, with and without the clauses' check
//! (`crate::choice`). The table reports per setting:
//!
//! - tool selection: plans whose set of tools is exactly the expected set;
//! - expected offered: requests whose expected tools were all offered (preselection's recall);
//! - argument validity: intents whose arguments pass their tool's schema, and cases whose
//!   arguments hold every value the set expects;
//! - plan latency (median and p90, ms): a prompt that changes with the request loses the
//!   worker's cached prefix.
//!
//! Every plan is kept, one JSON line per request and setting (with the scored choice, also the
//! first call's tool scores), in
//! `target/eval-planner/plans.jsonl`. `AIRLOCK_EVAL_MODEL=path.gguf` picks the model (default:
//! the demo model, `models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf`), `AIRLOCK_EVAL_CASES=path.toml`
//! another set of cases.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use airlock_agent::{
    Agent, AgentConfig, Preselection, ScoredChoice, ToolChoice, ALWAYS_OFFERED as ALWAYS,
};
use airlock_core::Intent;
use airlock_llm::WORKER_ARG;
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Deserialize)]
struct Cases {
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    request: String,
    tools: Vec<String>,
    #[serde(default)]
    args: Map<String, Value>,
}

/// What one setting scored.
#[derive(Default)]
struct Score {
    cases: usize,
    right_tools: usize,
    offered_expected: usize,
    intents: usize,
    schema_valid: usize,
    right_args: usize,
    failed: usize,
    latencies: Vec<f64>,
}

fn main() -> ExitCode {
    if let Some(code) = airlock_llm::worker::run_if_requested() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("eval failed: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..");
    let model = std::env::var_os("AIRLOCK_EVAL_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"));
    let cases_file = std::env::var_os("AIRLOCK_EVAL_CASES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("fixtures/planner/selection.toml"));
    let cases: Cases = toml::from_str(&std::fs::read_to_string(cases_file)?)?;
    let out_dir = repo.join("target/eval-planner");
    std::fs::create_dir_all(&out_dir)?;
    let mut plans = std::fs::File::create(out_dir.join("plans.jsonl"))?;
    println!("model: {}", model.display());
    println!("cases: {}\n", cases.case.len());

    let greedy = ToolChoice::Greedy;
    let scored = ToolChoice::Scored(ScoredChoice::default());
    let all_settings = [
        ("every tool", Preselection::off(), greedy),
        ("grammar: top 4", Preselection::top(4, ALWAYS), greedy),
        ("grammar: top 6", Preselection::top(6, ALWAYS), greedy),
        (
            "prompt: top 4",
            Preselection::top(4, ALWAYS).in_prompt_too(),
            greedy,
        ),
        ("scored choice", Preselection::off(), scored),
        (
            "scored, no clauses",
            Preselection::off(),
            ToolChoice::Scored(ScoredChoice {
                cover_clauses: false,
                ..ScoredChoice::default()
            }),
        ),
    ];
    // `AIRLOCK_EVAL_SETTINGS=scored,every` runs only the settings whose labels start so.
    let wanted: Option<Vec<String>> = std::env::var("AIRLOCK_EVAL_SETTINGS")
        .ok()
        .map(|list| list.split(',').map(|s| s.trim().to_owned()).collect());
    let settings = all_settings.into_iter().filter(|(label, _, _)| {
        wanted
            .as_ref()
            .is_none_or(|wanted| wanted.iter().any(|w| label.starts_with(w.as_str())))
    });
    let mut rows = Vec::new();
    for (label, preselection, tool_choice) in settings {
        eprintln!("setting: {label}");
        let data = tempfile::tempdir()?;
        let mut config = AgentConfig::with_current_exe(
            data.path().to_owned(),
            repo.join("models"),
            repo.join("fixtures"),
        )?;
        config.model = Some(model.clone());
        config.policy_dir = repo.join("policy");
        config.worker_args = vec![WORKER_ARG.into()];
        config.preselection = preselection;
        config.tool_choice = tool_choice;
        let agent = Agent::open(config)?;
        agent.model_worker()?;
        // One warm-up plan, so no setting pays for the model's first prompt.
        agent.draft_plan("Is the system up?")?;
        let mut score = Score::default();
        for case in &cases.case {
            let started = Instant::now();
            let drafted = agent.draft_plan(&case.request);
            let millis = started.elapsed().as_secs_f64() * 1000.0;
            score.cases += 1;
            score.latencies.push(millis);
            let record = match drafted {
                Ok(draft) => {
                    judge(&agent, case, &draft.intents, &draft.offered, &mut score);
                    json!({"setting": label, "request": case.request, "expected": case.tools,
                           "offered": draft.offered, "intents": draft.intents,
                           "choices": draft.choices, "ms": millis})
                }
                Err(err) => {
                    score.failed += 1;
                    json!({"setting": label, "request": case.request, "error": err.to_string(), "ms": millis})
                }
            };
            writeln!(plans, "{record}")?;
        }
        rows.push((label, score));
    }

    println!(
        "{:<18} | {:>14} | {:>17} | {:>20} | {:>15} | {:>7} | {:>10} | {:>10}",
        "setting",
        "tool selection",
        "expected offered",
        "args schema-valid",
        "args as expected",
        "failed",
        "p50 ms",
        "p90 ms"
    );
    println!("{}", "-".repeat(132));
    for (label, mut score) in rows {
        score.latencies.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let index = ((score.latencies.len() - 1) as f64 * q).round() as usize;
            score.latencies[index]
        };
        println!(
            "{label:<18} | {:>14} | {:>17} | {:>20} | {:>15} | {:>7} | {:>10.0} | {:>10.0}",
            format!("{}/{}", score.right_tools, score.cases),
            format!("{}/{}", score.offered_expected, score.cases),
            format!("{}/{}", score.schema_valid, score.intents),
            format!("{}/{}", score.right_args, score.cases),
            score.failed,
            at(0.5),
            at(0.9),
        );
    }
    println!("\nplans: {}", out_dir.join("plans.jsonl").display());
    Ok(())
}

/// Scores one plan against its case.
fn judge(agent: &Agent, case: &Case, intents: &[Intent], offered: &[String], score: &mut Score) {
    let expected: BTreeSet<&str> = case.tools.iter().map(String::as_str).collect();
    let planned: BTreeSet<&str> = intents.iter().map(|i| i.tool.as_str()).collect();
    if planned == expected {
        score.right_tools += 1;
    }
    if expected
        .iter()
        .all(|tool| offered.iter().any(|o| o == tool))
    {
        score.offered_expected += 1;
    }
    for intent in intents {
        score.intents += 1;
        let valid = agent.tools().spec(&intent.tool).is_some_and(|spec| {
            jsonschema::is_valid(&spec.parameters, &Value::Object(intent.args.clone()))
        });
        if valid {
            score.schema_valid += 1;
        }
    }
    let args_right = case.args.iter().all(|(tool, wanted)| {
        let Some(wanted) = wanted.as_object() else {
            return false;
        };
        intents
            .iter()
            .filter(|intent| intent.tool == *tool)
            .any(|intent| {
                wanted
                    .iter()
                    .all(|(name, value)| intent.args.get(name).is_some_and(|v| same(v, value)))
            })
    });
    if planned == expected && args_right {
        score.right_args += 1;
    }
}

/// Equal values, strings compared without case and surrounding space.
fn same(actual: &Value, wanted: &Value) -> bool {
    match (actual, wanted) {
        (Value::String(a), Value::String(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
        _ => actual == wanted,
    }
}
