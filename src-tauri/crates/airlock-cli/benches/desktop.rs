//! `make bench-desktop`: the desktop app's start to an interactive main window, and its idle
//! memory. Each run starts the real release `airlock-desktop` on a private Xvfb display with a
//! fresh data directory and times it from spawn to the log line the shell writes when the main
//! window's first command has its answer (the window has rendered, its script runs and the
//! engine has opened). The first runs each follow a page-cache drop when the bench may do one
//! (root): cold starts, every file read from disk again; the rest are warm. After the last run
//! the app idles, then the resident memory of the shell and of each WebKit process it started
//! is read from /proc. The model worker's idle memory is read from a worker of the same binary
//! with the default model loaded. Model loading is excluded from the start-up figure: the
//! model loads with the first request.
//!
//! Targets: start-up under 1.5 s, the shell's idle RSS under 200 MB.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use airlock_llm::{ModelWorker, WorkerConfig, WORKER_ARG};

#[path = "../../../../tests/e2e/support/display.rs"]
mod display;

use display::{start_xvfb, Reaped};

/// The app binary to measure, when not the one beside this bench's `airlock` (`make
/// bench-desktop` measures the release build with a harness built in the dev profile).
const DESKTOP_ENV: &str = "AIRLOCK_DESKTOP_BIN";
const COLD_RUNS: usize = 5;
const WARM_RUNS: usize = 5;
const IDLE: Duration = Duration::from_secs(10);
const READY_LINE: &str = "main window interactive";
const START_TARGET_MS: f64 = 1_500.0;
const SHELL_RSS_TARGET_MIB: f64 = 200.0;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// Empties the page cache so the next start reads every file from disk; false when not
/// permitted.
fn drop_page_cache() -> bool {
    let _ = Command::new("sync").status();
    std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok()
}

/// Resident memory of `pid` in MiB.
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

/// Every process below `root`, with its name.
fn descendants(root: u32) -> Vec<(u32, String)> {
    let mut parents: BTreeMap<u32, (u32, String)> = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid …; comm may hold spaces, so split at the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_owned();
        let ppid = stat[close + 1..]
            .split_whitespace()
            .nth(1)
            .and_then(|field| field.parse().ok())
            .unwrap_or(0);
        parents.insert(pid, (ppid, name));
    }
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for (pid, (ppid, name)) in &parents {
            if *ppid == parent {
                found.push((*pid, name.clone()));
                frontier.push(*pid);
            }
        }
    }
    found
}

struct Run {
    start_ms: f64,
    cold: bool,
}

/// Starts the app once; returns its start-up time and, when `idle` is set, its processes'
/// idle memory.
fn run_app(
    desktop: &Path,
    display: &str,
    data_dir: &Path,
    idle: bool,
) -> (f64, Vec<(String, f64)>) {
    let spawned = Instant::now();
    let mut app = Reaped::spawn(
        Command::new(desktop)
            .env("DISPLAY", display)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .env("AIRLOCK_DATA_DIR", data_dir)
            .env("AIRLOCK_POLICY_DIR", repo().join("policy"))
            .env("AIRLOCK_FIXTURES_DIR", repo().join("fixtures"))
            .env("AIRLOCK_MODELS_DIR", repo().join("models"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let stderr = app.0.stderr.take().expect("piped stderr");
    let (ready, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains(READY_LINE) {
                let _ = ready.send(spawned.elapsed());
            }
        }
    });
    let start = ready_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the main window never became interactive (run with RUST_LOG=info to see why)");
    let mut memory = Vec::new();
    if idle {
        std::thread::sleep(IDLE);
        let shell = app.0.id();
        memory.push((
            "airlock-desktop (shell)".to_owned(),
            rss_mib(shell).unwrap_or(0.0),
        ));
        for (pid, name) in descendants(shell) {
            if let Some(rss) = rss_mib(pid) {
                memory.push((format!("{name} (pid {pid})"), rss));
            }
        }
    }
    drop(app);
    (start.as_secs_f64() * 1_000.0, memory)
}

fn worker_idle_rss(desktop: &Path) -> (String, f64) {
    let model = airlock_llm::registry::select_model(None, &repo().join("models"))
        .expect("no generator model: run `make setup`");
    let worker = ModelWorker::start(WorkerConfig::new(
        desktop.to_owned(),
        vec![WORKER_ARG.into()],
        model.clone(),
    ))
    .expect("the model worker starts");
    std::thread::sleep(IDLE);
    let pid = worker.pid().expect("a running worker");
    let name = model
        .file_name()
        .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
    (name, rss_mib(pid).unwrap_or(0.0))
}

/// Median and spread of the cold or the warm runs (NaN when there were none).
struct Summary {
    median: f64,
    best: f64,
    worst: f64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "median {:.0} ms (best {:.0}, worst {:.0})",
            self.median, self.best, self.worst
        )
    }
}

fn summarise(runs: &[Run], cold: bool) -> Summary {
    let mut times: Vec<f64> = runs
        .iter()
        .filter(|run| run.cold == cold)
        .map(|run| run.start_ms)
        .collect();
    times.sort_by(f64::total_cmp);
    Summary {
        median: times.get(times.len() / 2).copied().unwrap_or(f64::NAN),
        best: times.first().copied().unwrap_or(f64::NAN),
        worst: times.last().copied().unwrap_or(f64::NAN),
    }
}

fn main() {
    // `cargo bench` passes --bench; a filter run (e.g. `cargo bench -- governor`) skips this.
    if std::env::args().skip(1).any(|arg| !arg.starts_with("--")) {
        return;
    }
    let desktop = std::env::var_os(DESKTOP_ENV).map_or_else(
        || Path::new(env!("CARGO_BIN_EXE_airlock")).with_file_name("airlock-desktop"),
        PathBuf::from,
    );
    assert!(
        desktop.is_file(),
        "{} is not built: `make bench-desktop` builds it",
        desktop.display()
    );
    let (_xvfb, display) = start_xvfb(400);
    let mut runs = Vec::new();
    let mut memory = Vec::new();
    let total = COLD_RUNS + WARM_RUNS;
    for index in 0..total {
        let data = tempfile::tempdir().expect("a temporary data directory");
        let cold = index < COLD_RUNS && drop_page_cache();
        let last = index + 1 == total;
        let (start_ms, measured) = run_app(&desktop, &display, data.path(), last);
        runs.push(Run { start_ms, cold });
        if last {
            memory = measured;
        }
    }
    let (model, worker_rss) = worker_idle_rss(&desktop);

    println!("\nDesktop start-up ({total} runs, fresh data directory each; model loads with the first request)\n");
    println!("| run | page cache | start to interactive window (ms) |");
    println!("|---|---|---|");
    for (index, run) in runs.iter().enumerate() {
        println!(
            "| {} | {} | {:.0} |",
            index + 1,
            if run.cold { "dropped (cold)" } else { "warm" },
            run.start_ms
        );
    }
    let cold = summarise(&runs, true);
    let warm = summarise(&runs, false);
    println!("\ncold: {cold}; warm: {warm}");
    let judged = if cold.median.is_nan() { &warm } else { &cold };
    println!(
        "start-up median {:.0} ms ({}); target < {START_TARGET_MS:.0} ms: {}",
        judged.median,
        if cold.median.is_nan() {
            "warm: no page-cache drop without root"
        } else {
            "cold"
        },
        if judged.median < START_TARGET_MS {
            "met"
        } else {
            "MISSED"
        }
    );

    println!("\nIdle memory after {} s\n", IDLE.as_secs());
    println!("| process | RSS (MiB) |");
    println!("|---|---|");
    for (name, rss) in &memory {
        println!("| {name} | {rss:.1} |");
    }
    println!("| model worker ({model} loaded) | {worker_rss:.1} |");
    let shell = memory.first().map_or(f64::NAN, |(_, rss)| *rss);
    println!(
        "\nshell idle RSS {shell:.1} MiB; target < {SHELL_RSS_TARGET_MIB:.0} MiB: {}",
        if shell < SHELL_RSS_TARGET_MIB {
            "met"
        } else {
            "MISSED"
        }
    );
}
