//! Evidence packages end to end, through the real `airlock` binary and SQLite file, without a
//! model: real activity (a typed read, a restart approved by a second account), a package
//! written for the period, verified offline, then tampered with.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::{add_approver_accounts, run_with_stdin, LEAD_PASS};

/// `airlock` on the database in `data` with the repository's fixtures and policy, no model.
fn airlock(data: &Path) -> Command {
    let mut cmd = Command::new(support::airlock_bin());
    cmd.arg("--data-dir")
        .arg(data)
        .arg("--fixtures-dir")
        .arg(support::repo().join("fixtures"))
        .arg("--policy-dir")
        .arg(support::repo().join("policy"))
        .env("AIRLOCK_LOG", "warn");
    cmd
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout(output)
}

fn json(output: &Output) -> Value {
    serde_json::from_str(&succeeded(output)).expect("stdout is JSON")
}

/// A typed read that runs, and a restart that waits for approval and is approved by `lead`.
fn activity(data: &Path) -> String {
    add_approver_accounts(|args, stdin| run_with_stdin(airlock(data).args(args), stdin));
    let read = json(
        &airlock(data)
            .args(["call", "get_system_status", "--mode", "execute", "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(read["actions_taken"][0]["tool"], "get_system_status");
    let restart = json(
        &airlock(data)
            .args([
                "call",
                "restart_service",
                "--mode",
                "execute",
                "--json",
                "--args",
            ])
            .arg(r#"{"service": "labelprintd", "system": "pkg-line3"}"#)
            .output()
            .unwrap(),
    );
    let id = restart["plan"][0]["approval_id"]
        .as_str()
        .expect("the restart waits for approval")
        .to_owned();
    let approved = json(&run_with_stdin(
        airlock(data).args([
            "approvals",
            "approve",
            &id,
            "--as",
            "lead",
            "--comment",
            "planned <maintenance> window",
            "--json",
        ]),
        Some(&format!("{LEAD_PASS}\n")),
    ));
    assert_eq!(approved["approval"]["status"], "executed", "{approved:#}");
    id
}

/// Yesterday and tomorrow (UTC) as days, so that the period surely holds today's activity.
fn days_around_today() -> (String, String) {
    let today = time::OffsetDateTime::now_utc().date();
    let day = |date: time::Date| {
        date.format(time::macros::format_description!("[year]-[month]-[day]"))
            .unwrap()
    };
    (
        day(today.previous_day().unwrap()),
        day(today.next_day().unwrap()),
    )
}

fn evidence(data: &Path, from: &str, to: &str, out: &Path) -> Output {
    airlock(data)
        .args([
            "compliance",
            "evidence",
            "--from",
            from,
            "--to",
            to,
            "--out",
        ])
        .arg(out)
        .output()
        .unwrap()
}

/// `airlock compliance verify`, comparing keys with the installation in `installation`.
fn verify(installation: &Path, package: &Path, extra: &[&str]) -> Output {
    Command::new(support::airlock_bin())
        .args(["compliance", "verify"])
        .arg(package)
        .args(extra)
        .env("AIRLOCK_DATA_DIR", installation)
        .env("AIRLOCK_LOG", "warn")
        .output()
        .unwrap()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn a_package_of_real_activity_verifies_offline_and_names_a_file_changed_afterwards() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let approval = activity(&data);
    let (from, to) = days_around_today();
    let package: PathBuf = root.path().join("evidence");

    let written = succeeded(&evidence(&data, &from, &to, &package));
    assert!(written.contains("evidence package written to"), "{written}");
    assert!(written.contains("live audit chain: intact"), "{written}");

    // What the package holds.
    let manifest = read_json(&package.join("manifest.json"));
    let rows = manifest["audit"]["rows"].as_u64().unwrap();
    let audit = std::fs::read_to_string(package.join("audit.jsonl")).unwrap();
    assert_eq!(audit.lines().count() as u64, rows);
    assert!(audit.contains(r#""kind":"tool_finished""#));
    let approvals = read_json(&package.join("approvals.json"));
    let entry = approvals
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == approval.as_str())
        .expect("the approval is in the package");
    assert_eq!(entry["decided_by"], "lead");
    assert_eq!(entry["status"], "executed");
    assert_eq!(entry["tool"], "restart_service");
    assert!(package.join("policies/plant.cedar").is_file());
    let html = std::fs::read_to_string(package.join("report.html")).unwrap();
    assert!(
        html.contains("planned &lt;maintenance&gt; window"),
        "escaped"
    );
    assert!(!html.contains("<maintenance>"));
    let md = std::fs::read_to_string(package.join("report.md")).unwrap();
    assert!(md.contains("| lead | executed: 1 |"), "{md}");

    // Verified on this installation: the keys match.
    let checked = succeeded(&verify(&data, &package, &[]));
    assert!(checked.contains("OK: the signature holds"), "{checked}");
    assert!(
        checked.contains("this installation's audit key: the same key"),
        "{checked}"
    );
    let report = json(&verify(&data, &package, &["--json"]));
    assert_eq!(report["ok"], true);
    assert_eq!(report["audit_rows_intact"].as_u64(), Some(rows));
    assert_eq!(report["installation_key"]["status"], "matches");
    // On a machine without Airlock data (an auditor's), it verifies all the same.
    let elsewhere = root.path().join("auditor");
    let checked = succeeded(&verify(&elsewhere, &package, &[]));
    assert!(checked.contains("not compared"), "{checked}");

    // A package is never written over another.
    let again = evidence(&data, &from, &to, &package);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("is not an empty directory"));

    // One byte of the report changed after signing.
    let path = package.join("report.html");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
    std::fs::write(&path, bytes).unwrap();
    let tampered = verify(&data, &package, &[]);
    assert_eq!(tampered.status.code(), Some(1), "{}", stdout(&tampered));
    assert!(
        stdout(&tampered).contains(
            "report.html: SHA-256 differs from the manifest: the file was modified after the \
             package was signed"
        ),
        "{}",
        stdout(&tampered)
    );
    let report: Value =
        serde_json::from_slice(&verify(&data, &package, &["--json"]).stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["problems"][0]["file"], "report.html");
}

#[test]
fn a_reversed_period_is_refused_before_anything_is_written() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    succeeded(
        &airlock(&data)
            .args(["call", "get_system_status", "--mode", "plan", "--json"])
            .output()
            .unwrap(),
    );
    let out = root.path().join("evidence");
    let refused = evidence(&data, "2026-11-30", "2026-11-01", &out);
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("after it ends"), "{err}");
    assert!(!out.exists());
}
