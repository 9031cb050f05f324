//! Shared helpers of the end-to-end tests: run the real `airlock` binary against the real
//! default model and a fresh data directory.

#![allow(dead_code)] // Each test binary uses a different subset.

pub mod display;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// The `airlock` binary under test.
pub fn airlock_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_airlock"))
}

/// The default model; fails with the fix when `make setup` has not fetched it.
pub fn default_model() -> PathBuf {
    let path = repo().join("models/SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        path.is_file(),
        "the default model {} is missing: run `make setup` first",
        path.display()
    );
    path
}

/// A command for `airlock` with a fresh data dir, the default model and the repository's
/// fixtures.
pub fn airlock(data_dir: &Path) -> Command {
    airlock_with_model(data_dir, &default_model())
}

/// As [`airlock`], with another model file.
pub fn airlock_with_model(data_dir: &Path, model: &Path) -> Command {
    command(data_dir, model, &repo().join("policy"))
}

/// As [`airlock`], with another policy directory.
pub fn airlock_with_policy(data_dir: &Path, policy_dir: &Path) -> Command {
    command(data_dir, &default_model(), policy_dir)
}

fn command(data_dir: &Path, model: &Path, policy_dir: &Path) -> Command {
    let mut cmd = Command::new(airlock_bin());
    cmd.arg("--data-dir")
        .arg(data_dir)
        .arg("--model")
        .arg(model)
        .arg("--fixtures-dir")
        .arg(repo().join("fixtures"))
        .arg("--policy-dir")
        .arg(policy_dir)
        .env("AIRLOCK_LOG", "warn")
        .stdin(Stdio::null());
    cmd
}

/// Runs `cmd` with `stdin` fed to it (or no stdin), capturing stdout and stderr.
pub fn run_with_stdin(cmd: &mut Command, stdin: Option<&str>) -> Output {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("airlock runs");
    if let Some(text) = stdin {
        let mut input = child.stdin.take().expect("stdin is piped");
        std::io::Write::write_all(&mut input, text.as_bytes()).expect("stdin takes the text");
    }
    child.wait_with_output().expect("airlock ends")
}

/// Runs `airlock ask --json` and returns the parsed outcome; panics with stderr on failure.
pub fn ask_json(data_dir: &Path, mode: &str, text: &str) -> Value {
    let output = airlock(data_dir)
        .args(["ask", "--json", "--mode", mode, text])
        .output()
        .expect("airlock runs");
    assert!(
        output.status.success(),
        "airlock ask failed for {text:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "stdout is not JSON ({err}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// Stderr as text.
fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The kinds of every event recorded in `data_dir`, in order.
pub fn event_kinds(data_dir: &Path) -> Vec<String> {
    query_strings(data_dir, "SELECT kind FROM events ORDER BY seq")
}

/// The tool names that started, according to the event log.
pub fn tools_started(data_dir: &Path) -> Vec<String> {
    query_strings(
        data_dir,
        "SELECT json_extract(payload, '$.tool') FROM events
         WHERE kind = 'tool_started' ORDER BY seq",
    )
}

/// The payload of every plan the model proposed in `data_dir`, in order.
pub fn plan_proposals(data_dir: &Path) -> Vec<Value> {
    query_strings(
        data_dir,
        "SELECT payload FROM events WHERE kind = 'plan_proposed' ORDER BY seq",
    )
    .iter()
    .map(|payload| serde_json::from_str(payload).expect("a JSON payload"))
    .collect()
}

/// One text column of `sql` over the database in `data_dir`.
fn query_strings(data_dir: &Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(data_dir.join("airlock.db")).expect("database exists");
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Asserts that `output` exited with `code` and that stderr contains every one of `needles`.
pub fn assert_refused(output: &Output, code: i32, needles: &[&str]) {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stderr: {err}");
    for needle in needles {
        assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    }
}

/// The demo scenarios.
pub fn scenarios() -> Vec<airlock_agent::Scenario> {
    airlock_agent::load_scenarios(&repo().join("fixtures/scenarios")).expect("scenarios load")
}

/// The passphrase of `boss`, the admin account the approval tests add first.
pub const BOSS_PASS: &str = "correct horse battery staple";
/// The passphrase of `lead`, a maintenance lead (the approver group of writes).
pub const LEAD_PASS: &str = "lead passphrase 2026";
/// The passphrase of the account named like the OS user the requests run as.
pub const ROOT_PASS: &str = "root passphrase 2026";

/// Adds the admin `boss`, then (signed in as boss) `lead` and `root` (the OS user the requests
/// run as) to the maintenance leads, through `run(args, stdin)`.
pub fn add_approver_accounts(mut run: impl FnMut(&[&str], Option<&str>) -> Output) {
    let added = run(
        &["users", "add", "boss", "--role", "admin"],
        Some(&format!("{BOSS_PASS}\n")),
    );
    assert!(added.status.success(), "{added:?}");
    for (name, pass) in [("lead", LEAD_PASS), ("root", ROOT_PASS)] {
        let added = run(
            &[
                "users",
                "add",
                name,
                "--role",
                "maintenance-leads",
                "--as",
                "boss",
            ],
            Some(&format!("{BOSS_PASS}\n{pass}\n")),
        );
        assert!(added.status.success(), "{added:?}");
    }
}
