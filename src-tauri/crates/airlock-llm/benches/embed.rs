//! Sentence-embedding throughput: our `Embedder` next to sentence-transformers (PyTorch) on
//! the same texts, model files, batch size (32) and number of threads, passes interleaved
//! (ours, theirs, ours, …) so that outside load hits both alike.
//!
//! The texts are chunk-like windows of 45–150 words cut from the document fixtures
//! (fixtures/docs), about 50–250 tokens each. sentence-transformers runs in
//! scripts/bench_embeddings.py under the venv of scripts/setup_bench_python.sh; without that
//! venv only our side is measured. Knobs: `EMBED_BENCH_TEXTS` (default 256),
//! `EMBED_BENCH_RUNS` passes per side (default 5), `EMBED_BENCH_THREADS` (default: the
//! embedder's, one per physical core), `EMBED_BENCH_PYTHON` (default
//! /var/cache/airlock/venv-bench/bin/python).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use airlock_llm::{registry, Embedder};
use serde_json::Value;

const DEFAULT_PYTHON: &str = "/var/cache/airlock/venv-bench/bin/python";
/// Window sizes in words, cycled through: about 50 to 250 tokens of this corpus.
const WINDOWS: [usize; 6] = [45, 60, 80, 100, 125, 150];
const BATCH_SIZE: usize = 32;

/// Wall and CPU time of one pass.
#[derive(Clone, Copy)]
struct Pass {
    wall: f64,
    cpu: f64,
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let count = env_number("EMBED_BENCH_TEXTS").unwrap_or(256);
    let runs = env_number("EMBED_BENCH_RUNS").unwrap_or(5).max(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..");
    let models = root.join("models");
    let dir = registry::embedder_dir(&models).expect("models/manifest.toml lists the embedder");
    let mut embedder = Embedder::load(&dir)
        .unwrap_or_else(|err| panic!("{err}"))
        .with_batch_size(BATCH_SIZE);
    if let Some(threads) = env_number("EMBED_BENCH_THREADS") {
        embedder = embedder.with_threads(threads);
    }
    let threads = embedder.threads();

    let texts = chunks(&root.join("fixtures/docs"), count);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let tokens: Vec<usize> = refs
        .iter()
        .map(|text| embedder.count_tokens(text).expect("tokenizes"))
        .collect();
    let total_tokens: usize = tokens.iter().map(|&t| t.min(embedder.max_tokens())).sum();
    println!(
        "\nSentence embeddings, all-MiniLM-L6-v2: {} texts of {}–{} tokens (mean {}), \
         batch {BATCH_SIZE}, {threads} thread(s), {runs} passes per side after a warm-up",
        texts.len(),
        tokens.iter().min().unwrap_or(&0),
        tokens.iter().max().unwrap_or(&0),
        total_tokens / texts.len().max(1),
    );

    let python = std::env::var_os("EMBED_BENCH_PYTHON")
        .map_or_else(|| PathBuf::from(DEFAULT_PYTHON), PathBuf::from);
    let mut theirs = if python.is_file() {
        Some(SentenceTransformers::start(
            &python, &root, &dir, &texts, threads,
        ))
    } else {
        println!(
            "(no {}: measuring ours alone; `make bench-embed` or \
             `bash scripts/setup_bench_python.sh` sets up sentence-transformers to compare)",
            python.display()
        );
        None
    };

    let ours_pass = || {
        let (wall, cpu) = (Instant::now(), cpu_seconds());
        let vectors = embedder.embed(&refs).expect("embeds");
        assert_eq!(vectors.len(), refs.len());
        Pass {
            wall: wall.elapsed().as_secs_f64(),
            cpu: cpu_seconds() - cpu,
        }
    };
    ours_pass();
    let mut ours = Vec::new();
    let mut st = Vec::new();
    for _ in 0..runs {
        ours.push(ours_pass());
        if let Some(theirs) = &mut theirs {
            st.push(theirs.pass());
        }
    }

    println!("\n| side | texts | tokens | threads | wall s | texts/s | CPU s | ratio |");
    println!("|---|---|---|---|---|---|---|---|");
    let ours = median(&ours);
    let row = |side: &str, pass: Pass, ratio: &str| {
        println!(
            "| {side} | {} | {total_tokens} | {threads} | {:.3} | {:.1} | {:.3} | {ratio} |",
            texts.len(),
            pass.wall,
            texts.len() as f64 / pass.wall,
            pass.cpu,
        );
    };
    if let Some(theirs) = theirs {
        let st = median(&st);
        row(
            &format!("sentence-transformers (torch {})", theirs.torch),
            st,
            "1.00",
        );
        row(
            "airlock (candle + OpenBLAS)",
            ours,
            &format!("{:.2} (CPU {:.2})", st.wall / ours.wall, st.cpu / ours.cpu),
        );
        println!(
            "\nratio: sentence-transformers' median time over ours (above 1: ours is faster); \
             medians of {runs} passes, CPU time of the whole process, all threads"
        );
    } else {
        row("airlock (candle + OpenBLAS)", ours, "–");
    }
}

/// sentence-transformers in a child process, one pass per request.
struct SentenceTransformers {
    child: Child,
    /// Closed on drop, which ends the child's loop.
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    torch: String,
    /// Keeps the texts file until the child is done with it.
    _texts: tempfile::NamedTempFile,
}

impl SentenceTransformers {
    fn start(python: &Path, root: &Path, model: &Path, texts: &[String], threads: usize) -> Self {
        let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
        serde_json::to_writer(&mut file, texts).expect("texts written");
        file.flush().expect("texts written");
        let threads_arg = threads.to_string();
        let mut child = Command::new(python)
            .arg(root.join("scripts/bench_embeddings.py"))
            .arg("--texts")
            .arg(file.path())
            .args(["--threads", &threads_arg])
            .args(["--batch-size", &BATCH_SIZE.to_string()])
            .arg("--model-dir")
            .arg(model)
            .env("OMP_NUM_THREADS", &threads_arg)
            .env("MKL_NUM_THREADS", &threads_arg)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {}: {err}", python.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let ready = read_json(&mut stdout);
        assert_eq!(ready["threads"].as_u64(), Some(threads as u64), "{ready}");
        Self {
            child,
            stdin: Some(stdin),
            stdout,
            torch: ready["torch"].as_str().unwrap_or("?").to_owned(),
            _texts: file,
        }
    }

    fn pass(&mut self) -> Pass {
        let stdin = self.stdin.as_mut().expect("open until drop");
        writeln!(stdin, "pass").expect("the Python side reads");
        let timing = read_json(&mut self.stdout);
        Pass {
            wall: timing["wall"].as_f64().expect("wall time"),
            cpu: timing["cpu"].as_f64().expect("CPU time"),
        }
    }
}

impl Drop for SentenceTransformers {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

fn read_json(stdout: &mut impl BufRead) -> Value {
    let mut line = String::new();
    stdout
        .read_line(&mut line)
        .expect("the Python side answers");
    assert!(
        !line.is_empty(),
        "the Python side exited (see its error above)"
    );
    serde_json::from_str(&line).unwrap_or_else(|err| panic!("{err}: {line}"))
}

/// `count` windows of [`WINDOWS`] words over the document fixtures, in file-name order,
/// wrapping around at the end.
fn chunks(docs: &Path, count: usize) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(docs)
        .expect("fixtures/docs is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "md" || ext == "txt")
                && !path.ends_with("README.txt")
        })
        .collect();
    files.sort();
    let text: String = files
        .iter()
        .map(|path| std::fs::read_to_string(path).expect("a UTF-8 document"))
        .collect::<Vec<_>>()
        .join("\n");
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut start = 0;
    (0..count)
        .map(|i| {
            let size = WINDOWS[i % WINDOWS.len()];
            let chunk: Vec<&str> = (start..start + size)
                .map(|j| words[j % words.len()])
                .collect();
            start = (start + size) % words.len();
            chunk.join(" ")
        })
        .collect()
}

fn median(passes: &[Pass]) -> Pass {
    let pick = |f: fn(&Pass) -> f64| {
        let mut values: Vec<f64> = passes.iter().map(f).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    Pass {
        wall: pick(|p| p.wall),
        cpu: pick(|p| p.cpu),
    }
}

/// CPU time of this process, all threads, from /proc/self/stat (user + system, in the
/// kernel's USER_HZ ticks, 100 per second on Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_millis(ticks * 10).as_secs_f64()
}

fn env_number(name: &str) -> Option<usize> {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
}
