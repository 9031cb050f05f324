//! One sandboxed `cat /sim/logs/syslog.log`, round trip: our runner (bollard straight to the
//! engine) next to the `docker run --rm` CLI with the same isolation flags, interleaved so a
//! busy moment hits both. Prints p50/p99/mean over `SANDBOX_BENCH_RUNS` runs (default 50).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use airlock_policy::token::{generate_signing_key, TokenIssuer, TokenVerifier};
use airlock_sandbox::{Job, Limits, Sandbox, SandboxConfig};
use serde_json::{json, Map, Value};

const COMMAND: &str = "cat /sim/logs/syslog.log";

/// Drops streamed output (the report keeps it).
fn discard(_: airlock_sandbox::Chunk<'_>) {}

fn sim_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../fixtures/sim")
        .canonicalize()
        .expect("fixtures/sim exists")
}

/// The verified grant the executor would hold for `COMMAND`.
fn job(issuer: &TokenIssuer, verifier: &TokenVerifier) -> Job {
    let args: Map<String, Value> = json!({ "command": COMMAND }).as_object().unwrap().clone();
    let now = std::time::SystemTime::now();
    let token = issuer.issue("run_command", &args, "bench", "bench", now);
    let grant = verifier
        .verify(Some(&token), "run_command", &args, "bench", now)
        .expect("fresh token");
    Job::run_command(grant, &args).expect("grant covers the call")
}

/// `docker run --rm` with the flags our runner sets.
fn cli_run(image: &str, limits: &Limits) -> Duration {
    let started = Instant::now();
    let output = Command::new("docker")
        .args([
            "run",
            "--rm",
            "--network",
            "none",
            "--read-only",
            "--cap-drop",
            "ALL",
        ])
        .args(["--security-opt", "no-new-privileges", "--user", "1001:1001"])
        .args(["--pids-limit", &limits.pids.to_string()])
        .args(["--memory", &limits.memory_bytes.to_string()])
        .args(["--memory-swap", &limits.memory_bytes.to_string()])
        .args(["--cpus", &format!("{}", limits.nano_cpus as f64 / 1e9)])
        .args([
            "--tmpfs",
            &format!("/tmp:rw,noexec,nosuid,nodev,size={}", limits.tmpfs_bytes),
        ])
        .args([
            "--mount",
            &format!("type=bind,src={},dst=/sim,readonly", sim_dir().display()),
        ])
        .args(["--ulimit", "nofile=256", "--ulimit", "core=0"])
        .args(["--log-opt", "max-size=256k", "--log-opt", "max-file=1"])
        .args(["--hostname", "sandbox", "-w", "/sim", image])
        .args(COMMAND.split(' '))
        .output()
        .expect("the docker CLI runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    started.elapsed()
}

fn summary(name: &str, mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| ms(samples[((samples.len() - 1) as f64 * q).round() as usize]);
    let mean = samples.iter().map(|d| ms(*d)).sum::<f64>() / samples.len() as f64;
    println!(
        "{name:<28} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
        at(0.5),
        at(0.99),
        mean,
        ms(*samples.last().unwrap())
    );
    at(0.5)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runs: usize = std::env::var("SANDBOX_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let sandbox = runtime
        .block_on(Sandbox::connect(SandboxConfig::new(sim_dir())))
        .expect("the Docker engine answers (scripts/ensure_dockerd.sh)");
    let key = generate_signing_key();
    let verifier = TokenVerifier::new(key.verifying_key());
    let issuer = TokenIssuer::new(key, Duration::from_secs(60));
    let limits = sandbox.config().limits.clone();
    let image = sandbox.image().to_owned();

    let expected = std::fs::read_to_string(sim_dir().join("logs/syslog.log")).unwrap();
    for _ in 0..3 {
        let report = runtime
            .block_on(sandbox.run(job(&issuer, &verifier), discard))
            .expect("warm-up run");
        assert_eq!(report.stdout, expected);
        cli_run(&image, &limits);
    }
    let (mut ours, mut cli) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for _ in 0..runs {
        let started = Instant::now();
        runtime
            .block_on(sandbox.run(job(&issuer, &verifier), discard))
            .expect("sandbox run");
        ours.push(started.elapsed());
        cli.push(cli_run(&image, &limits));
    }
    println!(
        "\nsandbox round trip, `{COMMAND}`, {runs} runs each (engine {}):",
        sandbox.engine().version
    );
    println!(
        "{:<28} {:>9} {:>9} {:>9} {:>9}",
        "", "p50 ms", "p99 ms", "mean ms", "max ms"
    );
    let ours_p50 = summary("airlock runner (bollard)", ours);
    let cli_p50 = summary("docker run --rm (CLI)", cli);
    println!("ratio runner / CLI at p50: {:.2}", ours_p50 / cli_p50);
}
