//! Human approvals end to end, through the real `airlock` binary, governor and SQLite file:
//! denial, expiry and locked accounts never run anything, and only an admin adds accounts.
//! The approved write that runs is in `sap.rs` (it needs the SAP simulator).

mod support;

use std::path::Path;

use serde_json::Value;
use support::{
    add_approver_accounts, airlock, assert_refused, run_with_stdin, tools_started, BOSS_PASS,
    LEAD_PASS,
};

/// A restart on the dev system: operators may, with a maintenance lead's approval.
const RESTART: &str = r#"{"service": "labelprintd", "system": "ops-dev"}"#;

fn json(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

fn add_accounts(data: &Path) {
    add_approver_accounts(|args, stdin| run_with_stdin(airlock(data).args(args), stdin));
}

/// Requests the restart in execute mode; returns the approval request's id.
fn request_restart(data: &Path) -> String {
    let outcome = json(
        &airlock(data)
            .args(["call", "restart_service", "--args", RESTART])
            .args(["--mode", "execute", "--json"])
            .output()
            .unwrap(),
    );
    let entry = &outcome["plan"][0];
    assert_eq!(
        entry["decision"]["decision"], "require_approval",
        "{outcome:#}"
    );
    assert!(outcome["actions_taken"].as_array().unwrap().is_empty());
    let id = entry["approval_id"]
        .as_str()
        .expect("an approval request")
        .to_owned();
    assert!(outcome["answer"].as_str().unwrap().contains(&id));
    id
}

fn approve(data: &Path, id: &str, name: &str, pass: &str) -> std::process::Output {
    run_with_stdin(
        airlock(data).args(["approvals", "approve", id, "--as", name, "--json"]),
        Some(&format!("{pass}\n")),
    )
}

#[test]
fn a_denied_request_never_runs_and_cannot_be_approved_later() {
    let data = tempfile::tempdir().unwrap();
    add_accounts(data.path());
    let id = request_restart(data.path());
    let denied = run_with_stdin(
        airlock(data.path()).args([
            "approvals",
            "deny",
            &id,
            "--as",
            "lead",
            "--comment",
            "not during the shift change",
            "--json",
        ]),
        Some(&format!("{LEAD_PASS}\n")),
    );
    let denied = json(&denied);
    assert_eq!(denied["status"], "denied");
    assert_eq!(denied["comment"], "not during the shift change");
    assert_refused(
        &approve(data.path(), &id, "lead", LEAD_PASS),
        1,
        &["is denied, not pending"],
    );
    assert!(tools_started(data.path()).is_empty());
}

#[test]
fn an_expired_request_cannot_execute() {
    let data = tempfile::tempdir().unwrap();
    let policy = policy_with(
        data.path(),
        "expire_after_minutes = 240",
        "expire_after_minutes = 0",
    );
    let with_policy = |args: &[&str]| {
        let mut cmd = airlock_with_policy(data.path(), &policy);
        cmd.args(args);
        cmd
    };
    let added = run_with_stdin(
        &mut with_policy(&[
            "users",
            "add",
            "boss",
            "--role",
            "admin",
            "--role",
            "maintenance-leads",
        ]),
        Some(&format!("{BOSS_PASS}\n")),
    );
    assert!(added.status.success(), "{added:?}");
    let outcome = json(
        &with_policy(&[
            "call",
            "restart_service",
            "--args",
            RESTART,
            "--mode",
            "execute",
            "--json",
        ])
        .output()
        .unwrap(),
    );
    let id = outcome["plan"][0]["approval_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = run_with_stdin(
        &mut with_policy(&["approvals", "approve", &id, "--as", "boss"]),
        Some(&format!("{BOSS_PASS}\n")),
    );
    assert_refused(&refused, 1, &["is expired, not pending"]);
    let all = json(
        &with_policy(&["approvals", "list", "--all", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(all[0]["status"], "expired");
    assert!(tools_started(data.path()).is_empty());
}

#[test]
fn only_an_admin_adds_accounts_and_repeated_wrong_passphrases_lock_one() {
    let data = tempfile::tempdir().unwrap();
    let first = run_with_stdin(
        airlock(data.path()).args(["users", "add", "lead", "--role", "maintenance-leads"]),
        Some(&format!("{LEAD_PASS}\n")),
    );
    assert_refused(
        &first,
        1,
        &["first local account must hold the `admin` role"],
    );
    add_accounts(data.path());
    let unauthorised = run_with_stdin(
        airlock(data.path()).args(["users", "add", "mallory", "--role", "admin", "--as", "lead"]),
        Some(&format!("{LEAD_PASS}\nmallory passphrase 1\n")),
    );
    assert_refused(&unauthorised, 1, &["`lead` is not an admin"]);

    let id = request_restart(data.path());
    for _ in 0..5 {
        assert_refused(
            &approve(data.path(), &id, "lead", "guess guess guess"),
            1,
            &[],
        );
    }
    assert_refused(
        &approve(data.path(), &id, "lead", LEAD_PASS),
        1,
        &["is locked until"],
    );
    let users = String::from_utf8_lossy(
        &airlock(data.path())
            .args(["users", "list"])
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned();
    assert!(users.contains("LOCKED"), "{users}");
    assert!(tools_started(data.path()).is_empty());
}

#[test]
fn a_read_only_deployment_plans_but_never_executes() {
    let data = tempfile::tempdir().unwrap();
    let policy = policy_with(data.path(), "read_only = false", "read_only = true");
    let call = |mode: &str| {
        airlock_with_policy(data.path(), &policy)
            .args(["call", "get_system_status", "--mode", mode, "--json"])
            .output()
            .unwrap()
    };
    let refused = call("execute");
    assert_refused(&refused, 1, &["read-only", "use plan mode"]);
    let planned = json(&call("plan"));
    assert_eq!(planned["plan"][0]["decision"]["decision"], "allow");
    assert!(tools_started(data.path()).is_empty());
}

#[test]
fn a_reply_naming_the_system_answers_the_governors_question_in_the_same_conversation() {
    let data = tempfile::tempdir().unwrap();
    let asked = json(
        &airlock(data.path())
            .args(["call", "restart_service", "--json", "--args"])
            .arg(r#"{"service": "labelprintd", "system": "plant-qa"}"#)
            .output()
            .unwrap(),
    );
    assert_eq!(asked["plan"][0]["decision"]["decision"], "clarify");
    assert!(asked["answer"].as_str().unwrap().contains("ops-dev"));
    let conversation = asked["audit"]["conversation_id"].as_str().unwrap();

    let reply = json(
        &airlock(data.path())
            .args(["ask", "--json", "--conversation", conversation])
            .arg("the dev one: ops-dev")
            .output()
            .unwrap(),
    );
    assert_eq!(reply["audit"]["conversation_id"], conversation);
    let entry = &reply["plan"][0];
    assert_eq!(entry["tool"], "restart_service", "{reply:#}");
    assert_eq!(entry["args"]["system"], "ops-dev");
    assert_eq!(entry["args"]["service"], "labelprintd");
    assert_eq!(entry["decision"]["decision"], "require_approval");

    let unknown = airlock(data.path())
        .args(["ask", "--conversation", "no-such-id", "ops-dev"])
        .output()
        .unwrap();
    assert_refused(&unknown, 1, &["no conversation `no-such-id`"]);
}

#[test]
fn the_event_stream_shows_each_decision_tool_and_approval_as_json_lines() {
    let data = tempfile::tempdir().unwrap();
    let events = |tool: &str, args: &str| -> Vec<Value> {
        let output = airlock(data.path())
            .args([
                "call", tool, "--mode", "execute", "--events", "--args", args,
            ])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).expect("every line is one JSON event"))
            .collect()
    };
    let names = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .map(|e| e["event"].as_str().unwrap().to_owned())
            .collect()
    };

    let read = events("get_system_status", "{}");
    assert_eq!(
        names(&read),
        [
            "decision",
            "plan_proposed",
            "tool_started",
            "tool_finished",
            "answer"
        ]
    );
    assert_eq!(read[0]["intent"]["decision"]["decision"], "allow");
    assert!(!read[0]["intent"]["decision"]["trace"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(read[3]["action"]["result"]["hostname"], "opsmon01");
    assert_eq!(
        read[4]["outcome"]["actions_taken"][0]["tool"],
        "get_system_status"
    );

    let write = events(
        "restart_service",
        r#"{"service": "labelprintd", "system": "pkg-line3"}"#,
    );
    assert_eq!(
        names(&write),
        ["decision", "approval_requested", "plan_proposed", "answer"]
    );
    assert_eq!(write[1]["approver_group"], "maintenance-leads");
    assert_eq!(write[1]["args"]["system"], "pkg-line3");
    let id = write[1]["approval_id"].as_str().unwrap();
    assert_eq!(write[3]["outcome"]["plan"][0]["approval_id"], id);
}

/// `airlock` on the database in `data` and the policy directory `policy`, without a model.
fn airlock_with_policy(data: &Path, policy: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(support::airlock_bin());
    cmd.arg("--data-dir")
        .arg(data)
        .arg("--fixtures-dir")
        .arg(support::repo().join("fixtures"))
        .arg("--policy-dir")
        .arg(policy)
        .env("AIRLOCK_LOG", "warn");
    cmd
}

/// A copy of the repository's policy in `dir`, with `setting` in guards.toml replaced by
/// `replacement`.
fn policy_with(dir: &Path, setting: &str, replacement: &str) -> std::path::PathBuf {
    let policy = dir.join("policy");
    copy_dir(&support::repo().join("policy"), &policy);
    let guards = std::fs::read_to_string(policy.join("guards.toml")).unwrap();
    assert!(guards.contains(setting), "guards.toml has no {setting:?}");
    std::fs::write(
        policy.join("guards.toml"),
        guards.replace(setting, replacement),
    )
    .unwrap();
    policy
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
