//! `airlock policy check | eval | test`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

use airlock_core::Confidence;
use airlock_policy::{cases, Call, CallContext, Decision, Governor, GovernorError, MemoryLedger};
use anyhow::{bail, Context as _};
use serde::Deserialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::paths::Paths;

/// `airlock policy check`: parse and validate everything; print every problem with its line.
pub fn check(paths: &Paths) -> anyhow::Result<ExitCode> {
    match governor(paths) {
        Ok(governor) => {
            let bundle = governor.bundle();
            println!(
                "policy OK: {} Cedar policies, {} tools, {} users, {} agent profiles, {} systems, {} documents ({})",
                bundle.policies.policies().count(),
                bundle.tools().len(),
                bundle.directory.users.len(),
                bundle.directory.agents.len(),
                bundle.directory.systems.len(),
                bundle.directory.documents.len(),
                bundle.dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("{err}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The optional `--context` of `airlock policy eval`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct EvalContext {
    session: Option<String>,
    request: Option<String>,
    confidence: Option<Confidence>,
    tainted: BTreeSet<String>,
    /// What the principal already spent or has pending in the budget window.
    spent_cents: i64,
    /// RFC 3339; default now.
    now: Option<String>,
}

/// `airlock policy eval`: decide one call without running it. Exit codes: 0 allow, 3 deny,
/// 4 approval, 5 clarify.
pub fn eval(
    paths: &Paths,
    principal: &str,
    tool: &str,
    args: &str,
    context: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let args: Map<String, Value> = serde_json::from_str(args)
        .context("--args must be a JSON object, e.g. '{\"source\": \"syslog\"}'")?;
    let context: EvalContext = match context {
        Some(text) => serde_json::from_str(text).context(
            "--context must be a JSON object with any of: session, request, confidence, tainted, spent_cents, now",
        )?,
        None => EvalContext::default(),
    };
    let now = match &context.now {
        Some(text) => OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .with_context(|| {
            format!("--context now `{text}` is not RFC 3339, e.g. 2026-11-22T09:30:00Z")
        })?,
        None => OffsetDateTime::now_local().unwrap_or_else(|_| OffsetDateTime::now_utc()),
    };
    let governor = governor(paths)?;
    let ledger = MemoryLedger::default();
    if context.spent_cents != 0 {
        ledger.record(principal, now, context.spent_cents);
    }
    let call_context = CallContext {
        session: context.session.unwrap_or_else(|| "policy-eval".to_owned()),
        request_id: None,
        request_text: context.request,
        confidence: context.confidence,
        tainted: context.tainted,
        now,
        identity: None,
    };
    let call = Call {
        principal,
        tool,
        args: &args,
    };
    let decision = governor.decide(&call, &call_context, &ledger);
    if json {
        println!("{}", serde_json::to_string_pretty(&decision)?);
    } else {
        print_decision(&decision);
    }
    Ok(ExitCode::from(
        u8::try_from(decision.exit_code()).unwrap_or(1),
    ))
}

/// `airlock policy test`: run `policy/tests/*.toml`.
pub fn test(paths: &Paths) -> anyhow::Result<ExitCode> {
    let dir = paths.policy_dir.join("tests");
    let results = cases::run_dir(&dir, || governor(paths))?;
    if results.is_empty() {
        bail!(
            "no cases in {}: add [[case]] tables to *.toml files there",
            dir.display()
        );
    }
    let mut failed = 0;
    for result in &results {
        let file = result
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mark = if result.passed() { "ok  " } else { "FAIL" };
        println!(
            "{mark} {file}: {} → {}{}",
            result.case.name,
            result.decision.outcome.name(),
            result
                .decision
                .deciding_rule
                .as_deref()
                .map(|r| format!(" [{r}]"))
                .unwrap_or_default()
        );
        for failure in &result.failures {
            failed += 1;
            println!("       {failure}");
        }
    }
    let failing = results.iter().filter(|r| !r.passed()).count();
    println!(
        "\n{} case(s), {} passed, {} failed",
        results.len(),
        results.len() - failing,
        failing
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Prints a decision and its trace for people.
pub fn print_decision(decision: &Decision) {
    println!(
        "decision: {}  risk: {}  rule: {}",
        decision.outcome.name(),
        decision.risk,
        decision.deciding_rule.as_deref().unwrap_or("-")
    );
    if !decision.is_allow() {
        println!("reason:   {}", decision.outcome.explanation());
    }
    println!("id:       {}", decision.id);
    println!("trace:");
    for step in &decision.trace {
        let rules = if step.rules.is_empty() {
            String::new()
        } else {
            format!(" [{}]", step.rules.join(", "))
        };
        println!(
            "  {:<16} {:<8} {:<8} {}{}",
            step.layer.name(),
            format!("{:?}", step.verdict).to_lowercase(),
            step.risk.to_string(),
            step.detail,
            rules
        );
    }
}

fn governor(paths: &Paths) -> Result<Governor, GovernorError> {
    Governor::load(
        &paths.policy_dir,
        &airlock_connectors::catalog::specs(),
        &sim_root(&paths.fixtures_dir),
    )
}

fn sim_root(fixtures: &Path) -> std::path::PathBuf {
    fixtures.join("sim")
}
