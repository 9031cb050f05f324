//! `make bench`: model load time, prompt-processing and decode speed of our generator next to
//! llama.cpp's own `llama-bench` on the same model and threads, and planner latency per request
//! with a cold prompt cache, the prefix loaded from disk by a new process, and a warm cache. Prints a table; record results in BENCHMARKS.md.
//!
//! Environment: `LLAMA_BENCH` (path to llama-bench; skipped when unset), `AIRLOCK_BENCH_MODEL`
//! (default: the manifest's default model), `AIRLOCK_BENCH_THREADS` (default 2).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use airlock_agent::{load_scenarios, Agent, AgentConfig};
use airlock_core::Mode;
use airlock_llm::engine::Engine;
use airlock_llm::{ChatMessage, GenerateRequest, Role, WORKER_ARG};

const REPETITIONS: usize = 5;
const ROUNDS: usize = 3;
const PROMPT_TOKENS: usize = 256;
const DECODE_TOKENS: u32 = 128;

fn main() -> ExitCode {
    if let Some(code) = airlock_llm::worker::run_if_requested() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    // `cargo bench` passes `--bench`; nothing else is accepted.
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench failed: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..");
    let model = std::env::var_os("AIRLOCK_BENCH_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("models/SmolLM2-135M-Instruct.Q4_1.gguf"));
    let threads: u32 = std::env::var("AIRLOCK_BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
    println!("model:   {}", model.display());
    println!("threads: {threads}\n");

    let mut rows: Vec<[String; 3]> = Vec::new();

    let load_ms = median((0..3).map(|_| {
        let started = Instant::now();
        drop(Engine::load(&model).expect("model loads"));
        started.elapsed().as_secs_f64() * 1000.0
    }));
    rows.push([
        "model load (ms)".into(),
        format!("{load_ms:.0}"),
        "-".into(),
    ]);

    let engine = Engine::load(&model)?;
    let mut session = engine.session(4096, threads)?;
    let llama_bench_bin = std::env::var_os("LLAMA_BENCH").map(PathBuf::from);
    // Rounds alternate our measurement and llama-bench's, so a host whose speed drifts slows
    // both sides alike; the ratio is the median of the per-round ratios.
    let mut ours = (Vec::new(), Vec::new());
    let mut theirs = (Vec::new(), Vec::new());
    let (mut pp_tokens, mut depth) = (0, 0);
    for _ in 0..ROUNDS {
        let (pp, tokens) = prompt_speed(&mut session)?;
        let (tg, prompt) = decode_speed(&mut session)?;
        (pp_tokens, depth) = (tokens, prompt);
        ours.0.push(pp);
        ours.1.push(tg);
        if let Some(bin) = &llama_bench_bin {
            let (ref_pp, ref_tg) = llama_bench(bin, &model, threads, depth)?;
            theirs.0.push(ref_pp);
            theirs.1.push(ref_tg);
        }
    }
    let ratio = |a: &[f64], b: &[f64]| median(a.iter().zip(b).map(|(x, y)| x / y));
    let reference = |values: &[f64]| {
        if llama_bench_bin.is_some() {
            format!("{:.1}", median(values.iter().copied()))
        } else {
            "not run".into()
        }
    };
    rows.push([
        format!("prompt processing, pp{pp_tokens} (tok/s)"),
        format!("{:.1}", median(ours.0.iter().copied())),
        reference(&theirs.0),
    ]);
    rows.push([
        format!("decode, tg{DECODE_TOKENS} after {depth} prompt tokens (tok/s)"),
        format!("{:.1}", median(ours.1.iter().copied())),
        reference(&theirs.1),
    ]);
    if llama_bench_bin.is_some() {
        rows.push([
            format!("ratio ours / llama-bench, pp (median of {ROUNDS} rounds)"),
            format!("{:.3}", ratio(&ours.0, &theirs.0)),
            "-".into(),
        ]);
        rows.push([
            format!("ratio ours / llama-bench, tg (median of {ROUNDS} rounds)"),
            format!("{:.3}", ratio(&ours.1, &theirs.1)),
            "-".into(),
        ]);
    }
    drop(session);
    drop(engine);

    let planner = planner_latency(&repo, &model)?;
    rows.extend(planner);

    println!(
        "{:<44} | {:>12} | {:>12}",
        "measure", "airlock", "llama-bench"
    );
    println!("{}", "-".repeat(80));
    for [name, ours, theirs] in rows {
        println!("{name:<50} | {ours:>12} | {theirs:>12}");
    }
    Ok(())
}

/// Prompt processing of a cold ~256-token prompt through our session (median t/s, tokens).
fn prompt_speed(
    session: &mut airlock_llm::engine::Session<'_>,
) -> Result<(f64, u32), Box<dyn std::error::Error>> {
    let mut text = String::new();
    let mut request = GenerateRequest::text(vec![], 1);
    // Grow the text until the rendered prompt holds about PROMPT_TOKENS tokens.
    let sentence = "Line 3 packaging reported a jam on the cartoner at 02:14 and restarted. ";
    let mut tokens = 0;
    while tokens < PROMPT_TOKENS as u32 {
        text.push_str(sentence);
        request.messages = vec![ChatMessage::new(Role::User, text.clone())];
        session.clear_cache();
        tokens = session
            .generate(&request, &AtomicBool::new(false), &mut |_| {})?
            .usage
            .prompt_tokens;
    }
    let mut speeds = Vec::new();
    for _ in 0..REPETITIONS {
        session.clear_cache();
        let generation = session.generate(&request, &AtomicBool::new(false), &mut |_| {})?;
        speeds.push(generation.usage.prompt_tokens_per_second());
    }
    Ok((median(speeds.into_iter()), tokens))
}

/// Decode speed over DECODE_TOKENS generated tokens, sampling included (median t/s), and the
/// number of prompt tokens they follow (the KV depth llama-bench must decode at to compare).
fn decode_speed(
    session: &mut airlock_llm::engine::Session<'_>,
) -> Result<(f64, u32), Box<dyn std::error::Error>> {
    let mut request = GenerateRequest::text(
        vec![ChatMessage::new(
            Role::User,
            "Write a long maintenance report about pump P-101.",
        )],
        DECODE_TOKENS,
    );
    request.ignore_eos = true;
    let mut speeds = Vec::new();
    let mut depth = 0;
    for _ in 0..REPETITIONS {
        let generation = session.generate(&request, &AtomicBool::new(false), &mut |_| {})?;
        assert_eq!(generation.usage.completion_tokens, DECODE_TOKENS);
        speeds.push(generation.usage.decode_tokens_per_second());
        depth = generation.usage.prompt_tokens;
    }
    Ok((median(speeds.into_iter()), depth))
}

/// Runs llama-bench with the same model and threads; returns (pp, tg) in t/s. Decoding is
/// measured at a KV depth of `depth` tokens, as ours follows a prompt of that length
/// (llama-bench's plain tg128 decodes into an empty cache, which is ~6% faster here).
fn llama_bench(bin: &Path, model: &Path, threads: u32, depth: u32) -> Result<(f64, f64), String> {
    let prompt = PROMPT_TOKENS.to_string();
    let decode = DECODE_TOKENS.to_string();
    let depth = depth.to_string();
    let pp = run_llama_bench(bin, model, threads, &["-p", &prompt, "-n", "0"])?;
    let tg = run_llama_bench(
        bin,
        model,
        threads,
        &["-p", "0", "-n", &decode, "-d", &depth],
    )?;
    Ok((pp, tg))
}

/// One llama-bench test; returns its average tokens per second.
fn run_llama_bench(bin: &Path, model: &Path, threads: u32, test: &[&str]) -> Result<f64, String> {
    let output = Command::new(bin)
        .arg("-m")
        .arg(model)
        .args(["-t", &threads.to_string()])
        .args(test)
        .args(["-r", &REPETITIONS.to_string(), "-o", "json"])
        .output()
        .map_err(|err| format!("cannot run {}: {err}", bin.display()))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let results: Vec<serde_json::Value> =
        serde_json::from_slice(&output.stdout).map_err(|err| err.to_string())?;
    results
        .first()
        .and_then(|r| r["avg_ts"].as_f64())
        .ok_or_else(|| "llama-bench printed no result".to_owned())
}

/// Planner latency over the demo prompts in plan mode, through the real worker process: the
/// first request with nothing cached, the others with the prompt prefix in the worker's memory,
/// and the first request again in a new worker that loads the prefix from the disk cache.
fn planner_latency(
    repo: &Path,
    model: &Path,
) -> Result<Vec<[String; 3]>, Box<dyn std::error::Error>> {
    let data = std::env::temp_dir().join(format!("airlock-bench-{}", std::process::id()));
    let open = || -> Result<Agent, Box<dyn std::error::Error>> {
        let mut config = AgentConfig::with_current_exe(
            data.clone(),
            repo.join("models"),
            repo.join("fixtures"),
        )?;
        config.model = Some(model.to_owned());
        config.worker_args = vec![WORKER_ARG.into()];
        config.prompt_cache_dir = data.join("prompt-cache");
        let agent = Agent::open(config)?;
        agent.model_worker()?;
        Ok(agent)
    };
    let prompts: Vec<String> = load_scenarios(&repo.join("fixtures/scenarios"))?
        .into_iter()
        .map(|scenario| scenario.prompt)
        .collect();
    let first_prompt = prompts.first().ok_or("no demo scenarios")?;
    let agent = open()?;
    let cold = time_plan(&agent, first_prompt)?;
    let warm = prompts[1..]
        .iter()
        .map(|prompt| time_plan(&agent, prompt))
        .collect::<Result<Vec<f64>, _>>()?;
    drop(agent);
    let from_disk = time_plan(&open()?, first_prompt)?;
    let _ = std::fs::remove_dir_all(&data);
    let row = |name: &str, ms: f64| [name.to_owned(), format!("{ms:.0}"), "-".to_owned()];
    Ok(vec![
        row("planner request, cold prompt cache (ms)", cold),
        row(
            "planner request, prefix from disk, new process (ms)",
            from_disk,
        ),
        row(
            "planner request, warm prefix (ms, median)",
            median(warm.into_iter()),
        ),
    ])
}

/// Milliseconds to plan `prompt` (plan mode: nothing runs).
fn time_plan(agent: &Agent, prompt: &str) -> Result<f64, Box<dyn std::error::Error>> {
    let started = Instant::now();
    agent.ask(prompt, Mode::Plan, &mut |_| {})?;
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
