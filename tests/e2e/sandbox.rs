//! `run_command` through the real `airlock` binary and the real Docker engine: a typed call is
//! decided by the governor, runs in the sandbox and is recorded; a refused one never reaches
//! the engine; without an engine, execute mode says how to start one and plan mode still works.

mod support;

use serde_json::Value;
use support::{airlock, event_kinds, repo, tools_started};

/// `airlock call run_command` with `command`, as JSON; `docker_host` overrides the engine.
fn call(data: &std::path::Path, command: &str, mode: &str, docker_host: Option<&str>) -> Value {
    let args = serde_json::json!({ "command": command }).to_string();
    let mut cmd = airlock(data);
    cmd.args([
        "call",
        "run_command",
        "--json",
        "--mode",
        mode,
        "--args",
        &args,
    ]);
    if let Some(host) = docker_host {
        cmd.env("DOCKER_HOST", host);
    }
    let output = cmd.output().expect("airlock runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn an_allowed_command_runs_in_the_sandbox_and_is_recorded() {
    let data = tempfile::tempdir().unwrap();
    let outcome = call(
        data.path(),
        "grep -c error /sim/logs/syslog.log",
        "execute",
        None,
    );
    let log = std::fs::read_to_string(repo().join("fixtures/sim/logs/syslog.log")).unwrap();
    let expected = log.lines().filter(|l| l.contains("error")).count();

    assert_eq!(
        outcome["plan"][0]["decision"]["decision"], "allow",
        "{outcome}"
    );
    let result = &outcome["actions_taken"][0]["result"];
    assert_eq!(result["ending"], "exited", "{outcome}");
    assert_eq!(result["exit_code"], 0);
    assert_eq!(result["stdout"], format!("{expected}\n"));
    assert_eq!(result["argv"][0], "grep");
    assert_eq!(
        result["decision_id"], outcome["plan"][0]["decision"]["id"],
        "the run names the decision that allowed it"
    );
    assert_eq!(tools_started(data.path()), ["run_command"]);
    let kinds = event_kinds(data.path());
    for kind in [
        "decision_made",
        "token_issued",
        "tool_started",
        "tool_finished",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind}: {kinds:?}");
    }
}

#[test]
fn a_refused_command_never_reaches_the_engine() {
    let data = tempfile::tempdir().unwrap();
    // A dead engine address: had the call got through, it would fail differently.
    let outcome = call(
        data.path(),
        "cat /etc/shadow",
        "execute",
        Some("unix:///nonexistent/docker.sock"),
    );
    assert_eq!(outcome["plan"][0]["decision"]["decision"], "deny");
    assert_eq!(
        outcome["plan"][0]["decision"]["deciding_rule"],
        "command.path_escape"
    );
    assert_eq!(outcome["actions_taken"], Value::Array(Vec::new()));
    assert!(tools_started(data.path()).is_empty());
}

#[test]
fn without_an_engine_execute_says_how_to_start_one_and_plan_still_works() {
    let data = tempfile::tempdir().unwrap();
    let dead = Some("unix:///nonexistent/docker.sock");
    let planned = call(data.path(), "ls /sim", "plan", dead);
    assert_eq!(planned["plan"][0]["decision"]["decision"], "allow");
    assert_eq!(planned["actions_taken"], Value::Array(Vec::new()));

    let executed = call(data.path(), "ls /sim", "execute", dead);
    let error = executed["actions_taken"][0]["error"].as_str().unwrap();
    assert!(
        error.contains("not reachable at unix:///nonexistent/docker.sock")
            && error.contains("ensure_dockerd.sh"),
        "{error}"
    );
    assert!(event_kinds(data.path()).iter().any(|k| k == "tool_failed"));
}

#[test]
fn sandbox_doctor_reports_the_engine_and_a_passing_self_test() {
    let data = tempfile::tempdir().unwrap();
    let output = airlock(data.path())
        .args(["sandbox", "doctor", "--json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(output.status.success(), "{report}");
    assert_eq!(report["ok"], true);
    assert!(report["image"]
        .as_str()
        .unwrap()
        .starts_with("airlock-sandbox:"));
    assert_eq!(report["self_test"]["exit_code"], 0);
    assert!(report["engine"]["api_version"].as_str().is_some());

    let output = airlock(data.path())
        .args(["sandbox", "doctor"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("not reachable"), "{text}");

    let output = airlock(data.path())
        .args(["sandbox", "doctor"])
        .env("AIRLOCK_SANDBOX_RUNTIME", "no-such-runtime")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("no runtime `no-such-runtime`"), "{text}");
}
