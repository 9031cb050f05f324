//! `airlock mcp serve` driven by a real MCP client (rmcp over stdio): the tools are listed, an
//! allowed read runs and returns its result, a write that needs approval comes back pending
//! with the id of the approval request it waits in, and a call the policy forbids is denied
//! — all through the same governor, approvals and audit log as the CLI. And the other way
//! round: an external MCP server attached by the policy (here another `airlock mcp serve`)
//! has its tools offered to the planner and every call governed, waiting for an admin.

mod support;

use std::path::Path;

use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use rmcp::ServiceExt;
use serde_json::{json, Map, Value};
use support::{airlock, airlock_bin, repo};

fn args(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

#[tokio::test(flavor = "current_thread")]
async fn an_mcp_client_lists_calls_and_waits_for_approval_through_the_governor() {
    let data = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(airlock_bin());
    command
        .arg("--data-dir")
        .arg(data.path())
        .arg("--fixtures-dir")
        .arg(repo().join("fixtures"))
        .arg("--policy-dir")
        .arg(repo().join("policy"))
        .args(["mcp", "serve"])
        .env("AIRLOCK_LOG", "warn");
    let client = ().serve(TokioChildProcess::new(command).unwrap()).await.unwrap();

    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
    for expected in [
        "get_system_status",
        "restart_service",
        "create_maintenance_order",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let restart = tools.iter().find(|t| t.name == "restart_service").unwrap();
    assert_eq!(
        restart.input_schema["required"],
        json!(["service", "system"])
    );

    let read = client
        .call_tool(CallToolRequestParams::new("get_system_status"))
        .await
        .unwrap();
    let status = read.structured_content.expect("structured content");
    assert_eq!(read.is_error, Some(false), "{status}");
    assert_eq!(status["status"], "completed");
    assert_eq!(status["result"]["hostname"], "opsmon01");

    let write = client
        .call_tool(
            CallToolRequestParams::new("restart_service").with_arguments(args(
                json!({"service": "labelprintd", "system": "pkg-line3"}),
            )),
        )
        .await
        .unwrap();
    let pending = write.structured_content.expect("structured content");
    assert_eq!(pending["status"], "pending_approval", "{pending}");
    assert_eq!(pending["approver_group"], "maintenance-leads");
    let approval_id = pending["approval_id"].as_str().unwrap().to_owned();

    let forbidden = client
        .call_tool(
            CallToolRequestParams::new("restart_service").with_arguments(args(
                json!({"service": "batchsched", "system": "plant-ops"}),
            )),
        )
        .await
        .unwrap();
    assert_eq!(forbidden.is_error, Some(true));
    let denied = forbidden.structured_content.unwrap();
    assert_eq!(denied["status"], "denied");
    assert_eq!(denied["rule"], "nothing-destructive-in-prod");

    assert!(client
        .call_tool(CallToolRequestParams::new("no_such_tool"))
        .await
        .is_err());
    client.cancel().await.unwrap();

    let listed = airlock(data.path())
        .args(["approvals", "list", "--json"])
        .output()
        .unwrap();
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let waiting = listed.as_array().unwrap();
    assert_eq!(waiting.len(), 1, "{listed}");
    assert_eq!(waiting[0]["id"], approval_id.as_str());
    assert_eq!(waiting[0]["tool"], "restart_service");
    assert!(support::tools_started(data.path()).contains(&"get_system_status".to_owned()));
    assert!(!support::tools_started(data.path()).contains(&"restart_service".to_owned()));
}

/// A policy directory like the repository's that attaches `airlock mcp serve` (with its own
/// data directory, as another process would be) as the external MCP server `plant-mcp`.
fn policy_attaching_airlock(policy: &Path, inner_data: &Path) {
    for entry in std::fs::read_dir(repo().join("policy")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, policy.join(path.file_name().unwrap())).unwrap();
        }
    }
    let mut principals = std::fs::read_to_string(policy.join("principals.toml")).unwrap();
    principals.push_str(
        "\n[systems.plant-mcp]\nenvironment = \"dev\"\nclassification = \"internal\"\n\
         description = \"another Airlock, attached over MCP\"\n",
    );
    std::fs::write(policy.join("principals.toml"), principals).unwrap();
    let quoted = |path: &Path| format!("{:?}", path.display().to_string());
    let servers = format!(
        "[[server]]\nname = \"plant-mcp\"\ncommand = {}\n\
         args = [\"--data-dir\", {}, \"--fixtures-dir\", {}, \"--policy-dir\", {}, \"mcp\", \"serve\"]\n\
         environment = \"dev\"\nclassification = \"internal\"\n",
        quoted(&airlock_bin()),
        quoted(inner_data),
        quoted(&repo().join("fixtures")),
        quoted(&repo().join("policy")),
    );
    std::fs::write(policy.join("mcp-servers.toml"), servers).unwrap();
}

#[test]
fn an_attached_servers_tools_are_planned_and_governed_and_wait_for_an_admin() {
    let data = tempfile::tempdir().unwrap();
    let inner = tempfile::tempdir().unwrap();
    let policy = tempfile::tempdir().unwrap();
    policy_attaching_airlock(policy.path(), inner.path());
    let outer = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = support::airlock_with_policy(data.path(), policy.path());
        support::run_with_stdin(cmd.args(args), stdin)
    };
    let json = |output: std::process::Output| -> Value {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    };

    // Listed to the planner: the 44 tools no longer fit the default model's context, so the
    // planner is offered the nearest ones — the attached server's, when the request names it.
    json(outer(
        &[
            "ask",
            "--json",
            "--mode",
            "plan",
            "Ask plant-mcp for its system status.",
        ],
        None,
    ));
    let offered = support::plan_proposals(data.path())[0]["offered"].clone();
    assert!(
        offered
            .as_array()
            .unwrap()
            .contains(&json!("plant-mcp.get_system_status")),
        "{offered}"
    );

    // Governed: an attached tool waits for an admin, whatever the server says of it.
    let call = json(outer(
        &[
            "call",
            "plant-mcp.get_system_status",
            "--mode",
            "execute",
            "--json",
        ],
        None,
    ));
    let decision = &call["plan"][0]["decision"];
    assert_eq!(decision["decision"], "require_approval", "{call}");
    assert_eq!(decision["deciding_rule"], "external-tools-need-admin");
    assert_eq!(call["actions_taken"], json!([]));
    let id = call["plan"][0]["approval_id"].as_str().unwrap().to_owned();

    let unknown = json(outer(&["call", "plant-mcp.no_such_tool", "--json"], None));
    assert_eq!(
        unknown["plan"][0]["decision"]["deciding_rule"],
        "allowlist.unknown_tool"
    );

    // Approved by an admin: the call goes to the attached server, which runs it through its
    // own governor, and its result comes back.
    let added = outer(
        &["users", "add", "boss", "--role", "admin"],
        Some("boss passphrase 2026\n"),
    );
    assert!(added.status.success(), "{added:?}");
    let added = outer(
        &["users", "add", "ada", "--role", "admins", "--as", "boss"],
        Some("boss passphrase 2026\nada passphrase 2026\n"),
    );
    assert!(added.status.success(), "{added:?}");
    let approved = json(outer(
        &["approvals", "approve", &id, "--as", "ada", "--json"],
        Some("ada passphrase 2026\n"),
    ));
    let result = &approved["action"]["result"];
    assert_eq!(result["status"], "completed", "{approved}");
    assert_eq!(result["result"]["hostname"], "opsmon01");
    assert!(support::tools_started(inner.path()).contains(&"get_system_status".to_owned()));
    assert!(support::tools_started(data.path()).contains(&"plant-mcp.get_system_status".to_owned()));
}
