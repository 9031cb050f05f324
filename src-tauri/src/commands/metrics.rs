//! The admin window's metrics: the counts behind the charts (requests, decisions, approvals,
//! tool runs, the planner's decode rate, errors), read by the engine from the audit log and
//! the approvals table. The window draws them; nothing is computed here.

use tauri::State;

use super::with_agent;
use crate::state::{AdminSession, Engine};

/// The engine's metrics snapshot, serialised as the engine's `MetricsSnapshot` is (see
/// `ui/src/admin/metrics/types.ts`). `airlock-agent` does not re-export that type's name and
/// the shell links no other engine crate, so the value passes as JSON.
#[tauri::command]
pub async fn metrics_snapshot(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
) -> Result<serde_json::Value, String> {
    session.admin()?;
    with_agent(&engine, |agent| {
        let snapshot = agent.metrics_snapshot().map_err(|err| err.to_string())?;
        serde_json::to_value(snapshot)
            .map_err(|err| format!("the metrics could not be serialised: {err}"))
    })
    .await
}
