//! The command line's logging and traces, `airlock trace show|list` and `airlock metrics`.

use std::path::Path;
use std::process::ExitCode;

use airlock_agent::telemetry::{trace_config, traces_dir};
use airlock_agent::Agent;
use airlock_telemetry::{OtlpFileLayer, TraceGuard};
use clap::Subcommand;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::EnvFilter;

use crate::paths::Paths;

/// The `trace` subcommands.
#[derive(Subcommand)]
pub(crate) enum TraceCommand {
    /// One request's span tree with timings: the injection screen, retrieval, each model call
    /// (tokens, time to first token, tokens/s), each governor layer, tool runs, the answer.
    Show {
        /// The request's trace id (printed by `ask`, in `--json` outcomes and the audit log).
        trace_id: String,
        /// Print the tree as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The most recent traces, newest first.
    List {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

/// Logs to stderr (filtered by `log_filter`) and keeps request traces in the data directory;
/// the guard writes the last traces out when dropped. A trace directory that cannot be used is
/// reported and the process goes on without traces.
#[must_use]
pub fn init_logging(data_dir: &Path, log_filter: EnvFilter) -> Option<TraceGuard> {
    let log = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(log_filter);
    let traces = trace_config(data_dir).map(OtlpFileLayer::new);
    let (layer, guard, problem) = match traces {
        Some(Ok((layer, guard))) => (
            Some(layer.with_filter(LevelFilter::INFO)),
            Some(guard),
            None,
        ),
        Some(Err(err)) => (None, None, Some(err)),
        None => (None, None, None),
    };
    tracing_subscriber::registry().with(log).with(layer).init();
    if let Some(err) = problem {
        tracing::warn!(%err, "request traces are not kept");
    }
    guard
}

/// `trace show` and `trace list`.
pub(crate) fn trace(paths: &Paths, command: TraceCommand) -> anyhow::Result<ExitCode> {
    let dir = traces_dir(&paths.data_dir);
    match command {
        TraceCommand::Show { trace_id, json } => {
            let Some(tree) = airlock_telemetry::find_trace(&dir, &trace_id)? else {
                anyhow::bail!(
                    "no trace {trace_id} in {}: traces are kept for the most recent requests (see `airlock trace list`)",
                    dir.display()
                );
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&tree)?);
            } else {
                print!("{}", airlock_telemetry::render(&tree));
            }
        }
        TraceCommand::List { limit } => {
            let list = airlock_telemetry::list_traces(&dir, limit)?;
            for trace in &list.traces {
                println!(
                    "{}  {}  {:>9.1} ms  {:>3} spans  {}",
                    trace.started_at,
                    trace.trace_id,
                    trace.duration_ms,
                    trace.span_count,
                    trace.root_name
                );
            }
            if list.unreadable_lines > 0 {
                eprintln!(
                    "{} unreadable line(s) skipped (e.g. a process killed while writing)",
                    list.unreadable_lines
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `metrics`: the Prometheus text, or the counts as JSON.
pub(crate) fn metrics(paths: &Paths, json: bool) -> anyhow::Result<ExitCode> {
    let agent = Agent::open(paths.agent_config()?)?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&agent.metrics_snapshot()?)?
        );
    } else {
        print!("{}", agent.metrics_text()?);
    }
    Ok(ExitCode::SUCCESS)
}
