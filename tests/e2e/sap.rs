//! SAP through the real `airlock` binary against the OData simulator on loopback: a connection
//! whose password goes in on stdin and lives in the kernel keyring, a governed read, a write
//! that waits for approval under the shipped policy, and — under a policy that allows it — a
//! completed write rolled back from its compensation record through the governor. The
//! password appears nowhere: not in the output, the logs, the database or the audit export.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use airlock_sap_sim::{SapSimulator, SimConfig};
use serde_json::Value;
use support::{add_approver_accounts, default_model, repo, run_with_stdin, LEAD_PASS, ROOT_PASS};

const USER: &str = "AIRLOCK";
const PASSWORD: &str = "e2e-Sap-Passw0rd-31337";

struct Env {
    data: tempfile::TempDir,
    policy: PathBuf,
    vault_service: String,
    seen: String,
}

impl Env {
    fn new(policy: PathBuf) -> Self {
        Self {
            data: tempfile::tempdir().unwrap(),
            policy,
            vault_service: format!("airlock-e2e-sap-{}", std::process::id()),
            seen: String::new(),
        }
    }

    fn run(&mut self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_airlock"));
        cmd.arg("--data-dir")
            .arg(self.data.path())
            .arg("--model")
            .arg(default_model())
            .arg("--fixtures-dir")
            .arg(repo().join("fixtures"))
            .arg("--policy-dir")
            .arg(&self.policy)
            .args(args)
            .env("AIRLOCK_LOG", "debug")
            .env("AIRLOCK_VAULT_SERVICE", &self.vault_service)
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
        let output = run_with_stdin(&mut cmd, stdin);
        self.seen.push_str(&String::from_utf8_lossy(&output.stdout));
        self.seen.push_str(&String::from_utf8_lossy(&output.stderr));
        output
    }

    fn json(&mut self, args: &[&str]) -> Value {
        let output = self.run(args, None);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    fn add_connection(&mut self, sim: &SapSimulator) {
        let url = sim.root_url();
        let added = self.run(
            &[
                "vault", "add", "sap-prd", "--kind", "sap", "--url", &url, "--user", USER,
                "--client", "100",
            ],
            Some(&format!("{PASSWORD}\n")),
        );
        assert!(
            added.status.success(),
            "{}",
            String::from_utf8_lossy(&added.stderr)
        );
    }

    /// Asserts the password is nowhere: output, logs, files of the data directory, the export.
    fn assert_no_secret_anywhere(&mut self) {
        self.run(&["audit", "export", "--format", "json"], None);
        assert!(
            !self.seen.contains(PASSWORD),
            "the password was printed or logged"
        );
        assert_in_no_file(self.data.path(), PASSWORD);
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        self.run(&["vault", "remove", "sap-prd"], None);
    }
}

/// Asserts no file directly in `dir` holds `secret`; returns how many files were read.
fn assert_in_no_file(dir: &Path, secret: &str) -> usize {
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            files += 1;
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "the password is in {}",
                path.display()
            );
        }
    }
    files
}

fn simulator() -> SapSimulator {
    SapSimulator::start(SimConfig::new(repo().join("fixtures/sap"), USER, PASSWORD)).unwrap()
}

/// The shipped policy, except that operators may open SAP orders and change their status
/// without approval: how a completed write comes about before approvals exist.
fn policy_allowing_sap_writes(dir: &Path) -> PathBuf {
    let shipped = repo().join("policy");
    for entry in std::fs::read_dir(&shipped).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    let cedar = std::fs::read_to_string(shipped.join("plant.cedar")).unwrap();
    let cedar = cedar
        .replace("    Airlock::Action::\"create_maintenance_order\",\n", "")
        .replace("    Airlock::Action::\"sap_set_order_status\",\n", "");
    let cedar = format!(
        "{cedar}\n@id(\"e2e-sap-writes\")\n@reason(\"the test lets operators write to the SAP simulator\")\n\
         permit (principal in Airlock::Role::\"operator\", action in [Airlock::Action::\"create_maintenance_order\", \
         Airlock::Action::\"sap_set_order_status\"], resource);\n"
    );
    std::fs::write(dir.join("plant.cedar"), cedar).unwrap();
    dir.to_owned()
}

#[test]
fn a_governed_read_and_a_write_that_runs_once_a_maintenance_lead_approves_it() {
    let sim = simulator();
    let mut env = Env::new(repo().join("policy"));
    env.add_connection(&sim);

    let tested = env.run(&["vault", "test", "sap-prd"], None);
    let said = String::from_utf8_lossy(&tested.stdout).into_owned();
    assert!(
        tested.status.success() && said.contains("SAP `sap-prd` answers"),
        "{said}"
    );

    let read = env.json(&[
        "call",
        "sap_maintenance_orders",
        "--mode",
        "execute",
        "--json",
        "--args",
        r#"{"equipment": "P-101"}"#,
    ]);
    let orders = read["actions_taken"][0]["result"]["orders"]
        .as_array()
        .unwrap();
    assert!(orders.len() >= 2, "{read}");
    assert!(orders.iter().all(|o| o["Equipment"] == "P-101"
        && ["CRTD", "REL"].contains(&o["OrderSystemStatus"].as_str().unwrap())));

    let write = env.json(&[
        "call",
        "create_maintenance_order",
        "--mode",
        "execute",
        "--json",
        "--args",
        r#"{"equipment": "P-101", "description": "bearing noise", "priority": "high"}"#,
    ]);
    assert_eq!(
        write["plan"][0]["decision"]["decision"], "require_approval",
        "{write}"
    );
    assert!(write["actions_taken"].as_array().unwrap().is_empty());
    assert!(
        sim.writes().is_empty(),
        "nothing reached SAP: {:?}",
        sim.writes()
    );
    let id = write["plan"][0]["approval_id"].as_str().unwrap().to_owned();

    // Accounts: the first is an admin, who adds the maintenance lead and `root` (the OS user
    // who asked) to the approver group.
    add_approver_accounts(|args, stdin| env.run(args, stdin));

    // Another process finds the request with every argument.
    let pending = env.json(&["approvals", "list", "--json"]);
    assert_eq!(pending[0]["id"], id.as_str());
    assert_eq!(pending[0]["args"]["description"], "bearing noise");
    assert_eq!(pending[0]["requester"], "root");

    let own = env.run(
        &["approvals", "approve", &id, "--as", "root"],
        Some(&format!("{ROOT_PASS}\n")),
    );
    assert!(
        String::from_utf8_lossy(&own.stderr).contains("cannot approve or deny it"),
        "{own:?}"
    );
    let wrong = env.run(
        &["approvals", "approve", &id, "--as", "lead"],
        Some("guess\n"),
    );
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("wrong passphrase"),
        "{wrong:?}"
    );
    assert!(sim.writes().is_empty(), "refused approvals run nothing");

    let approved = env.run(
        &[
            "approvals",
            "approve",
            &id,
            "--as",
            "lead",
            "--comment",
            "noise confirmed",
            "--json",
        ],
        Some(&format!("{LEAD_PASS}\n")),
    );
    assert!(approved.status.success(), "{approved:?}");
    let approved: Value = serde_json::from_slice(&approved.stdout).unwrap();
    assert_eq!(approved["approval"]["status"], "executed", "{approved:#}");
    assert_eq!(approved["approval"]["decided_by"], "lead");
    assert_eq!(approved["action"]["decision_id"], id.as_str());
    assert_eq!(sim.writes().len(), 1, "the approved call reached SAP once");

    let again = env.run(
        &["approvals", "approve", &id, "--as", "lead"],
        Some(&format!("{LEAD_PASS}\n")),
    );
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("is executed, not pending"),
        "{again:?}"
    );
    assert_eq!(sim.writes().len(), 1);

    assert!(env.run(&["audit", "verify"], None).status.success());
    let rows = env.json(&["audit", "export", "--format", "json"]);
    let granted = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["kind"] == "approval_granted")
        .expect("the approval is in the audit log");
    assert_eq!(granted["payload"]["approver"], "lead");
    assert_eq!(granted["payload"]["requester"], "root");
    let export = rows.to_string();
    assert!(export.contains("approver_refused") && !export.contains("$argon2id$"));

    env.assert_no_secret_anywhere();
}

#[test]
fn a_failing_step_stops_the_plan_and_the_completed_write_is_offered_for_rollback() {
    let sim = simulator();
    let policy = tempfile::tempdir().unwrap();
    let mut env = Env::new(policy_allowing_sap_writes(policy.path()));
    env.add_connection(&sim);
    let plan = env.data.path().join("plan.json");
    std::fs::write(
        &plan,
        r#"[
            {"tool": "create_maintenance_order",
             "args": {"equipment": "P-101", "description": "seal leak", "priority": "high"}},
            {"tool": "list_files", "args": {"path": "no/such/folder"}},
            {"tool": "get_system_status", "args": {}}
        ]"#,
    )
    .unwrap();
    let plan = plan.to_str().unwrap().to_owned();

    let outcome = env.json(&["call", "--plan", &plan, "--mode", "execute", "--json"]);
    let actions = outcome["actions_taken"].as_array().unwrap();
    let ran: Vec<&str> = actions
        .iter()
        .map(|a| a["tool"].as_str().unwrap())
        .collect();
    assert_eq!(
        ran,
        ["create_maintenance_order", "list_files"],
        "{outcome:#}"
    );
    assert!(actions[0]["error"].is_null() && !actions[1]["error"].is_null());
    let stop = &outcome["plan_stopped"];
    assert_eq!(stop["failed"], "list_files");
    assert_eq!(stop["skipped"], serde_json::json!(["get_system_status"]));
    let offered = &stop["compensations"][0];
    let decision = actions[0]["decision_id"].as_str().unwrap();
    assert_eq!(offered["decision_id"], decision);
    assert_eq!(offered["undo"]["tool"], "sap_set_order_status");
    let answer = outcome["answer"].as_str().unwrap();
    assert!(
        answer.contains(&format!("airlock rollback {decision} --mode execute")),
        "{answer}"
    );
    assert_eq!(sim.writes().len(), 1, "one order was created");

    let undone = env.json(&["rollback", decision, "--mode", "execute", "--json"]);
    assert_eq!(
        undone["actions_taken"][0]["result"]["changed"]["after"], "DLFL",
        "{undone}"
    );
    let rows = env.json(&["audit", "export", "--format", "json"]);
    assert!(rows
        .as_array()
        .unwrap()
        .iter()
        .any(|row| row["kind"] == "plan_stopped"));
    let bad = env.run(&["call", "--plan", "-"], Some("{not a list"));
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("JSON list of calls"));
    let empty = env.run(&["call", "--plan", "-"], Some("[]"));
    assert_eq!(empty.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("1 to 16 calls"));
}

#[test]
fn a_completed_write_is_rolled_back_through_the_governor_and_only_once() {
    let sim = simulator();
    let policy = tempfile::tempdir().unwrap();
    let mut env = Env::new(policy_allowing_sap_writes(policy.path()));
    env.add_connection(&sim);

    let created = env.json(&[
        "call",
        "create_maintenance_order",
        "--mode",
        "execute",
        "--json",
        "--args",
        r#"{"equipment": "P-101", "description": "bearing noise", "priority": "high"}"#,
    ]);
    let action = &created["actions_taken"][0];
    assert!(action["error"].is_null(), "{created}");
    let order = action["result"]["created"]["MaintenanceOrder"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(action["result"]["undo"]["tool"], "sap_set_order_status");
    let decision = action["decision_id"].as_str().unwrap().to_owned();

    let undone = env.json(&["rollback", &decision, "--mode", "execute", "--json"]);
    let undo = &undone["actions_taken"][0];
    assert_eq!(undo["tool"], "sap_set_order_status", "{undone}");
    assert_eq!(undo["result"]["changed"]["after"], "DLFL", "{undone}");
    assert_eq!(undo["result"]["changed"]["id"], order.as_str());
    let methods: Vec<(String, u16)> = sim
        .writes()
        .iter()
        .map(|w| (w.method.clone(), w.status))
        .collect();
    assert_eq!(
        methods,
        [("POST".to_owned(), 201), ("PATCH".to_owned(), 204)]
    );

    let again = env.json(&["rollback", &decision, "--mode", "execute", "--json"]);
    let error = again["actions_taken"][0]["error"]
        .as_str()
        .unwrap_or_default();
    assert!(error.contains("is now DLFL, not CRTD"), "{again}");
    assert_eq!(sim.writes().len(), 2, "the second rollback wrote nothing");

    let unknown = env.run(&["rollback", "no-such-decision"], None);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("nothing to roll back"));

    env.assert_no_secret_anywhere();
}

#[test]
fn a_full_demo_run_leaves_the_sap_password_nowhere() {
    const DEMO_PASSWORD: &str = "e2e-Demo-Sap-Passw0rd-55";
    let data = tempfile::tempdir().unwrap();
    let mut cmd = support::airlock(data.path());
    cmd.arg("demo")
        .env("AIRLOCK_LOG", "debug")
        .env("AIRLOCK_DEMO_SAP_PASSWORD", DEMO_PASSWORD)
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    let output = run_with_stdin(&mut cmd, None);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{said}");
    assert!(
        said.contains("SAP:   simulator at http://127.0.0.1:"),
        "{said}"
    );
    assert!(
        said.contains("Secrets: the SAP password is in none of the"),
        "{said}"
    );
    assert!(
        !said.contains(DEMO_PASSWORD),
        "the password was printed or logged"
    );
    let runs: Vec<PathBuf> = std::fs::read_dir(data.path().join("demo-runs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1);
    let files = assert_in_no_file(&runs[0], DEMO_PASSWORD);
    assert!(files >= 2, "the run's database and keys are there");
}
