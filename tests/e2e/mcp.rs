//! `airlock mcp serve` driven by a real MCP client (rmcp over stdio): the tools are listed, an
//! allowed read runs and returns its result, a write that needs approval comes back pending
//! with the id of the approval request it waits in, and a call the policy forbids is denied
//! — all through the same governor, approvals and audit log as the CLI.

mod support;

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
