//! `airlock`: the headless Airlock binary.

mod ask;
mod demo;
mod models;
mod paths;

use std::path::PathBuf;
use std::process::ExitCode;

use airlock_core::Mode;
use clap::{Parser, Subcommand};

/// Airlock: an air-gapped operations assistant. The local model proposes, Airlock decides,
/// and every step is recorded.
#[derive(Parser)]
#[command(name = "airlock", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Directory of Airlock's database (default: the platform data directory, or
    /// $AIRLOCK_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Directory searched for models (default: the nearest models/ with a manifest.toml, or
    /// $AIRLOCK_MODELS_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    models_dir: Option<PathBuf>,
    /// A GGUF model to use instead of the most preferred one in the models directory.
    #[arg(long, global = true, value_name = "PATH")]
    model: Option<PathBuf>,
    /// The simulator fixtures (default: the nearest fixtures/ with a status.json, or
    /// $AIRLOCK_FIXTURES_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    fixtures_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Ask Airlock something. The text comes from the argument, or from stdin when it is
    /// missing or `-`.
    Ask {
        /// The request.
        text: Option<String>,
        /// `plan` shows what would run and runs nothing; `execute` runs what may run.
        #[arg(long, default_value = "plan")]
        mode: Mode,
        /// Print the outcome as one JSON object on stdout (progress goes to stderr).
        #[arg(long)]
        json: bool,
    },
    /// Run the demo scenarios through the real model and print a table.
    Demo {
        /// Directory of scenario files (default: fixtures/scenarios).
        #[arg(long, value_name = "DIR")]
        scenarios: Option<PathBuf>,
        /// Exit non-zero when a scenario fails.
        #[arg(long)]
        strict: bool,
    },
    /// Show the models present and which one is used.
    Models,
}

fn main() -> ExitCode {
    if let Some(code) = airlock_llm::worker::run_if_requested() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("AIRLOCK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let paths = paths::Paths::resolve(&cli);
    let result = match cli.command {
        Command::Ask { text, mode, json } => ask::run(&paths, text.as_deref(), mode, json),
        Command::Demo { scenarios, strict } => demo::run(&paths, scenarios, strict),
        Command::Models => models::run(&paths),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
