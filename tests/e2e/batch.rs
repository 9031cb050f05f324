//! Batch mode end to end, through the real `airlock` binary, governor and SQLite file: the
//! seed-style example decides as expected when an admin vouches for its identities, the same
//! file without an admin is decided as the runner, bad entries are reported one by one, text
//! is planned by the real model, and execute mode runs or queues the calls.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{airlock, repo, run_with_stdin, BOSS_PASS, LEAD_PASS};

fn add_boss(data: &Path) {
    let added = run_with_stdin(
        airlock(data).args(["users", "add", "boss", "--role", "admin"]),
        Some(&format!("{BOSS_PASS}\n")),
    );
    assert!(added.status.success(), "{added:?}");
}

/// Runs `airlock batch` on `input` with extra `args` and `stdin`; returns the exit status,
/// the decisions file and stderr.
fn batch(data: &Path, input: &Path, args: &[&str], stdin: Option<&str>) -> (i32, Value, String) {
    let out = data.join("decisions.json");
    let output = run_with_stdin(
        airlock(data)
            .args(["batch", "--input"])
            .arg(input)
            .arg("--output")
            .arg(&out)
            .args(args),
        stdin,
    );
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let decisions = std::fs::read(&out)
        .map(|bytes| serde_json::from_slice(&bytes).expect("the output is JSON"))
        .unwrap_or_else(|err| panic!("no output ({err}); stderr: {stderr}"));
    (output.status.code().unwrap_or(-1), decisions, stderr)
}

fn result<'a>(decisions: &'a Value, id: &str) -> &'a Value {
    decisions["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|result| result["request_id"] == id)
        .unwrap_or_else(|| panic!("no result for {id}: {decisions:#}"))
}

fn count(data: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(data.join("airlock.db")).unwrap();
    conn.query_row(sql, [], |row| row.get(0)).unwrap()
}

#[test]
fn the_seed_batch_run_by_an_admin_gives_the_expected_statuses() {
    let data = tempfile::tempdir().unwrap();
    add_boss(data.path());
    let seed = repo().join("fixtures/batch/seed.json");
    let (code, decisions, stderr) = batch(
        data.path(),
        &seed,
        &["--as", "boss"],
        Some(&format!("{BOSS_PASS}\n")),
    );
    assert_eq!(code, 0, "{stderr}");
    let expected: Value = serde_json::from_slice(
        &std::fs::read(repo().join("fixtures/batch/seed.expected.json")).unwrap(),
    )
    .unwrap();
    let mut statuses = std::collections::BTreeMap::<String, usize>::new();
    for (id, subs) in expected.as_object().unwrap() {
        if id.starts_with('_') {
            continue;
        }
        let got = result(&decisions, id);
        assert_eq!(got["identity"], "stated", "{got:#}");
        assert_eq!(got["decided_as"], got["user"], "{got:#}");
        let got_subs = got["sub_decisions"].as_array().unwrap();
        let summary: Vec<Value> = got_subs
            .iter()
            .map(|sub| serde_json::json!([sub["action"], sub["status"], sub["rule"]]))
            .collect();
        let want: Vec<Value> = subs
            .as_array()
            .unwrap()
            .iter()
            .map(|sub| {
                let rule = &sub[2];
                if rule.is_null() {
                    serde_json::json!([sub[0], sub[1], got_subs[0]["rule"]])
                } else {
                    sub.clone()
                }
            })
            .collect();
        assert_eq!(summary, want, "{id}: {got:#}");
        for sub in subs.as_array().unwrap() {
            *statuses
                .entry(sub[1].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    for id in ["r07", "r08"] {
        let rule = result(&decisions, id)["sub_decisions"][0]["rule"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(rule.starts_with("injection."), "{id} was denied by {rule}");
    }
    assert!(
        result(&decisions, "r08")["sub_decisions"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("blacklisted until"),
        "{decisions:#}"
    );
    let restart = &result(&decisions, "r01")["sub_decisions"][1];
    assert_eq!(restart["service"], "pkg-line3");
    assert_eq!(restart["approver_group"], "maintenance-leads");
    assert_eq!(restart["payload"]["service"], "labelprintd");

    let summary = &decisions["summary"];
    assert_eq!(summary["requests"], 10);
    assert_eq!(summary["invalid"], 0);
    assert_eq!(summary["total"], statuses.values().sum::<usize>());
    for (status, key) in [
        ("APPROVED", "approved"),
        ("DENIED", "denied"),
        ("REQUIRES_APPROVAL", "requires_approval"),
        ("CLARIFICATION_NEEDED", "clarification_needed"),
    ] {
        assert_eq!(
            summary[key],
            statuses.get(status).copied().unwrap_or(0),
            "{key}"
        );
    }
    assert_eq!(decisions["trusted_by"], "boss");
    // Plan mode kept its own tally: nothing entered the spend ledger, nothing ran.
    assert_eq!(count(data.path(), "SELECT count(*) FROM spend_ledger"), 0);
    assert_eq!(
        count(
            data.path(),
            "SELECT count(*) FROM events WHERE kind = 'tool_started'"
        ),
        0
    );
    assert_eq!(
        count(
            data.path(),
            "SELECT count(*) FROM events WHERE kind = 'batch_run'
              AND json_extract(payload, '$.identities_trusted') = 1"
        ),
        1,
        "the trusted run is audited"
    );
    let verify = airlock(data.path())
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{verify:?}");
}

#[test]
fn without_an_admin_the_files_identities_are_not_trusted() {
    let data = tempfile::tempdir().unwrap();
    let seed = repo().join("fixtures/batch/seed.json");
    let (code, decisions, stderr) = batch(data.path(), &seed, &[], None);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("no admin signed in"), "{stderr}");
    let runner = decisions["run_by"].as_str().unwrap().to_owned();
    for result in decisions["results"].as_array().unwrap() {
        assert_eq!(result["identity"], "runner", "{result:#}");
        assert_eq!(result["decided_as"], runner.as_str(), "{result:#}");
    }
    // lena's `quality` group is the file's word only: as the runner, the restricted report
    // is refused.
    assert_eq!(
        result(&decisions, "r05")["sub_decisions"][0]["status"],
        "DENIED"
    );
    assert!(decisions.get("trusted_by").is_none());
}

#[test]
fn a_sign_in_that_is_not_an_admin_cannot_vouch_for_identities() {
    let data = tempfile::tempdir().unwrap();
    add_boss(data.path());
    let added = run_with_stdin(
        airlock(data.path()).args([
            "users",
            "add",
            "lead",
            "--role",
            "maintenance-leads",
            "--as",
            "boss",
        ]),
        Some(&format!("{BOSS_PASS}\n{LEAD_PASS}\n")),
    );
    assert!(added.status.success(), "{added:?}");
    let output = run_with_stdin(
        airlock(data.path())
            .args(["batch", "--input"])
            .arg(repo().join("fixtures/batch/seed.json"))
            .args(["--as", "lead"]),
        Some(&format!("{LEAD_PASS}\n")),
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not an admin"), "{stderr}");
    assert_eq!(
        count(
            data.path(),
            "SELECT count(*) FROM events WHERE kind = 'batch_run'"
        ),
        0
    );
}

#[test]
fn malformed_entries_are_reported_one_by_one_and_the_rest_is_decided() {
    let data = tempfile::tempdir().unwrap();
    let input = data.path().join("requests.jsonl");
    std::fs::write(
        &input,
        concat!(
            r#"{"id": "ok-1", "user": "root", "text": "status", "calls": [{"tool": "get_system_status"}]}"#,
            "\n",
            r#"{"id": "broken", "user": "root", "text": "#,
            "\n",
            r#"{"id": "no-text", "user": "root"}"#,
            "\n",
            r#"{"id": "ok-1", "user": "root", "text": "again", "calls": [{"tool": "get_system_status"}]}"#,
            "\n",
            r#"{"id": "ok-2", "user": "root", "txt": "typo", "text": "status", "calls": [{"tool": "get_system_status"}]}"#,
            "\n",
            r#"{"id": "ok-3", "user": "root", "text": "status", "calls": [{"tool": "get_system_status"}]}"#,
            "\n",
        ),
    )
    .unwrap();
    let (code, decisions, stderr) = batch(data.path(), &input, &[], None);
    assert_eq!(code, 1, "invalid entries make the exit code 1: {stderr}");
    let results = decisions["results"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    let errors = |index: usize| results[index]["errors"].to_string();
    assert!(errors(1).contains("not JSON"), "{}", errors(1));
    assert_eq!(results[1]["line"], 2);
    assert!(errors(2).contains("missing `text`"), "{}", errors(2));
    assert!(errors(3).contains("earlier request"), "{}", errors(3));
    assert!(errors(4).contains("unknown field `txt`"), "{}", errors(4));
    for index in [0, 5] {
        assert_eq!(
            results[index]["sub_decisions"][0]["status"], "APPROVED",
            "{:#}",
            results[index]
        );
    }
    assert_eq!(decisions["summary"]["invalid"], 4);
    assert_eq!(decisions["summary"]["approved"], 2);
}

#[test]
fn a_whole_file_that_is_not_json_is_refused_with_its_line() {
    let data = tempfile::tempdir().unwrap();
    let input = data.path().join("requests.json");
    std::fs::write(&input, "[\n  {\"id\": 1,\n  oops\n]").unwrap();
    let output = airlock(data.path())
        .args(["batch", "--input"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 3"), "{stderr}");
}

#[test]
fn requests_without_calls_are_planned_by_the_real_model() {
    let data = tempfile::tempdir().unwrap();
    let input = data.path().join("requests.json");
    std::fs::write(
        &input,
        r#"[{"id": "a", "user": "root", "text": "Is the plant healthy? Show me the system status."},
            {"id": "b", "user": "root", "text": "Show the last 20 lines of the syslog"}]"#,
    )
    .unwrap();
    let (code, decisions, stderr) = batch(data.path(), &input, &[], None);
    assert_eq!(code, 0, "{stderr}");
    for result in decisions["results"].as_array().unwrap() {
        assert!(result.get("errors").is_none(), "{result:#}");
        let subs = result["sub_decisions"].as_array().unwrap();
        assert!(!subs.is_empty(), "{result:#}");
        for sub in subs {
            assert!(
                [
                    "APPROVED",
                    "DENIED",
                    "REQUIRES_APPROVAL",
                    "CLARIFICATION_NEEDED"
                ]
                .contains(&sub["status"].as_str().unwrap()),
                "{sub:#}"
            );
            assert!(sub["decision_id"].as_str().is_some_and(|id| !id.is_empty()));
        }
    }
    assert_eq!(
        count(
            data.path(),
            "SELECT count(*) FROM events WHERE kind = 'plan_proposed'"
        ),
        2,
        "each request was planned by the model"
    );
}

#[test]
fn in_execute_mode_approved_calls_run_and_the_others_wait_for_approval() {
    let data = tempfile::tempdir().unwrap();
    add_boss(data.path());
    let input = data.path().join("requests.json");
    std::fs::write(
        &input,
        r#"[{"id": "x1", "user": "hana", "role": "operator", "groups": ["line-3"],
             "text": "status, then restart the label printer on the test system",
             "calls": [{"tool": "get_system_status"},
                       {"tool": "restart_service", "args": {"system": "ops-dev", "service": "labelprintd"}}]}]"#,
    )
    .unwrap();
    let (code, decisions, stderr) = batch(
        data.path(),
        &input,
        &["--mode", "execute", "--as", "boss"],
        Some(&format!("{BOSS_PASS}\n")),
    );
    assert_eq!(code, 0, "{stderr}");
    let subs = &result(&decisions, "x1")["sub_decisions"];
    assert_eq!(subs[0]["status"], "APPROVED");
    assert_eq!(subs[0]["executed"]["ok"], true, "{subs:#}");
    assert_eq!(subs[1]["status"], "REQUIRES_APPROVAL");
    let approval_id = subs[1]["approval_id"]
        .as_str()
        .expect("an approval request");
    let shown = airlock(data.path())
        .args(["approvals", "show", approval_id, "--json"])
        .output()
        .unwrap();
    assert!(shown.status.success(), "{shown:?}");
    let approval: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(approval["requester"], "hana", "{approval:#}");
    assert_eq!(approval["status"], "pending");
    assert_eq!(
        count(
            data.path(),
            "SELECT count(*) FROM events WHERE kind = 'tool_finished'"
        ),
        1
    );
}
