//! A data subject's export and erasure, end to end through the real `airlock` binary and
//! SQLite file: an approver's data is exported, then erased by an admin; the audit log still
//! verifies, the approval names the pseudonym, and the approver's name is in no byte of the
//! data directory's database files.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::{assert_refused, run_with_stdin, BOSS_PASS};

const MARIA: &str = "maria.lopez";
const MARIA_PASS: &str = "maria passphrase 2026";
/// A restart on the packaging line: operators may, with a maintenance lead's approval.
const RESTART: &str = r#"{"service": "labelprintd", "system": "pkg-line3"}"#;

/// `airlock` on the database in `data` with the repository's policy, without a model (typed
/// calls and approvals need none).
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

fn run(data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    run_with_stdin(airlock(data).args(args), stdin)
}

fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn json(output: &Output) -> Value {
    serde_json::from_str(&succeeded(output)).expect("stdout is JSON")
}

/// Where in the data directory's database files (`airlock.db` and its `-wal`/`-shm`) `needle`
/// occurs, and how many files were searched.
fn files_holding(data: &Path, needle: &[u8]) -> (Vec<String>, usize) {
    let mut found = Vec::new();
    let mut searched = 0;
    for entry in std::fs::read_dir(data).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file()
            && path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("airlock.db")
        {
            searched += 1;
            let bytes = std::fs::read(&path).unwrap();
            if bytes.windows(needle.len()).any(|window| window == needle) {
                found.push(path.display().to_string());
            }
        }
    }
    (found, searched)
}

/// The admin `boss`, the approver `maria.lopez`, and a restart she approved; returns the
/// approval's id.
fn approved_restart(data: &Path) -> String {
    succeeded(&run(
        data,
        &["users", "add", "boss", "--role", "admin"],
        Some(&format!("{BOSS_PASS}\n")),
    ));
    succeeded(&run(
        data,
        &[
            "users",
            "add",
            MARIA,
            "--role",
            "maintenance-leads",
            "--as",
            "boss",
        ],
        Some(&format!("{BOSS_PASS}\n{MARIA_PASS}\n")),
    ));
    let asked = json(&run(
        data,
        &[
            "call",
            "restart_service",
            "--args",
            RESTART,
            "--mode",
            "execute",
            "--json",
        ],
        None,
    ));
    let id = asked["plan"][0]["approval_id"]
        .as_str()
        .unwrap_or_else(|| panic!("an approval request: {asked:#}"))
        .to_owned();
    let approved = json(&run(
        data,
        &[
            "approvals",
            "approve",
            &id,
            "--as",
            MARIA,
            "--comment",
            "checked on the floor by maria.lopez",
            "--json",
        ],
        Some(&format!("{MARIA_PASS}\n")),
    ));
    assert_eq!(approved["approval"]["status"], "executed", "{approved:#}");
    id
}

#[test]
fn an_erased_approver_is_a_pseudonym_everywhere_and_the_audit_log_still_verifies() {
    let data = tempfile::tempdir().unwrap();
    let id = approved_restart(data.path());

    let export = json(&run(
        data.path(),
        &["compliance", "subject-export", MARIA],
        None,
    ));
    assert_eq!(export["name"], MARIA);
    assert_eq!(export["account"]["name"], MARIA);
    assert_eq!(
        export["approvals_decided"][0]["id"],
        id.as_str(),
        "{export:#}"
    );
    assert!(
        export["audit_events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|event| event["kind"] == "approval_granted"
                && event["payload"]["approver"] == MARIA),
        "{export:#}"
    );
    let file = data.path().join("export").join("maria.json");
    std::fs::create_dir(data.path().join("export")).unwrap();
    succeeded(&run(
        data.path(),
        &[
            "compliance",
            "subject-export",
            MARIA,
            "--out",
            file.to_str().unwrap(),
        ],
        None,
    ));
    let written: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(written["approvals_decided"][0]["id"], id.as_str());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "only its owner reads the export");
    }
    let (found, _) = files_holding(data.path(), MARIA.as_bytes());
    assert!(
        !found.is_empty(),
        "the name is in the database before the erasure"
    );

    let erased = succeeded(&run(
        data.path(),
        &["compliance", "subject-erase", MARIA, "--as", "boss"],
        Some(&format!("{BOSS_PASS}\n")),
    ));
    assert!(erased.contains(&format!("Erased `{MARIA}`")), "{erased}");
    assert!(erased.contains("no row names"), "{erased}");
    assert!(erased.contains("airlock audit verify"), "{erased}");

    let verified = succeeded(&run(data.path(), &["audit", "verify"], None));
    assert!(verified.contains("audit log intact"), "{verified}");

    let (found, searched) = files_holding(data.path(), MARIA.as_bytes());
    assert!(searched >= 1);
    assert!(found.is_empty(), "the name is still in {found:?}");

    let approval = json(&run(
        data.path(),
        &["approvals", "show", &id, "--json"],
        None,
    ));
    let approver = approval["decided_by"].as_str().unwrap();
    assert!(approver.starts_with("subject:"), "{approval:#}");
    assert!(
        erased.contains(approver),
        "the report names the pseudonym: {erased}"
    );
    assert!(
        approval["comment"].as_str().unwrap().ends_with(approver),
        "{approval:#}"
    );

    assert_refused(
        &run(
            data.path(),
            &["compliance", "subject-erase", MARIA, "--as", "boss"],
            Some(&format!("{BOSS_PASS}\n")),
        ),
        1,
        &["no one named `maria.lopez`"],
    );
    assert_refused(
        &run(data.path(), &["compliance", "subject-export", MARIA], None),
        1,
        &["no one named `maria.lopez`"],
    );
}

#[test]
fn only_a_signed_in_admin_erases_a_person() {
    let data = tempfile::tempdir().unwrap();
    approved_restart(data.path());
    assert_refused(
        &run(
            data.path(),
            &["compliance", "subject-erase", "boss", "--as", MARIA],
            Some(&format!("{MARIA_PASS}\n")),
        ),
        1,
        &["`maria.lopez` is not an admin"],
    );
    assert_refused(
        &run(
            data.path(),
            &["compliance", "subject-erase", MARIA, "--as", "boss"],
            Some("not the passphrase\n"),
        ),
        1,
        &["wrong passphrase"],
    );
    let export = json(&run(
        data.path(),
        &["compliance", "subject-export", MARIA],
        None,
    ));
    assert_eq!(export["account"]["name"], MARIA, "nothing was erased");
}
