//! Approving and denying calls that wait for a human. The approver proves who they are with
//! their local account's passphrase on every decision; the engine checks the group, refuses
//! self-approval and records everything.

use airlock_agent::{AgentEvent, ApprovalOutcome, ApprovalRecord, PendingApproval};
use tauri::ipc::Channel;
use tauri::State;

use super::chat::forward;
use super::{short_text, with_agent};
use crate::state::Engine;

/// The pending requests, each with where its call lands.
#[tauri::command]
pub async fn pending_approvals(engine: State<'_, Engine>) -> Result<Vec<PendingApproval>, String> {
    with_agent(&engine, |agent| {
        agent.pending_approvals().map_err(|err| err.to_string())
    })
    .await
}

/// Approves request `id` as the account that signs; the call runs, its events go to `events`.
#[tauri::command]
pub async fn approve_request(
    engine: State<'_, Engine>,
    id: String,
    account: String,
    passphrase: String,
    comment: Option<String>,
    events: Channel<AgentEvent>,
) -> Result<ApprovalOutcome, String> {
    check(&id, &account, &passphrase, comment.as_deref())?;
    with_agent(&engine, move |agent| {
        let approver = agent
            .sign_in(&account, &passphrase)
            .map_err(|err| err.to_string())?;
        agent
            .approve(&id, &approver, comment.as_deref(), &mut forward(&events))
            .map_err(|err| err.to_string())
    })
    .await
}

/// Denies request `id` as the account that signs; a comment says why.
#[tauri::command]
pub async fn deny_request(
    engine: State<'_, Engine>,
    id: String,
    account: String,
    passphrase: String,
    comment: String,
) -> Result<ApprovalRecord, String> {
    check(&id, &account, &passphrase, Some(&comment))?;
    if comment.trim().is_empty() {
        return Err("say why the request is denied: a comment is required".to_owned());
    }
    with_agent(&engine, move |agent| {
        let approver = agent
            .sign_in(&account, &passphrase)
            .map_err(|err| err.to_string())?;
        agent
            .deny(&id, &approver, Some(&comment))
            .map_err(|err| err.to_string())
    })
    .await
}

fn check(id: &str, account: &str, passphrase: &str, comment: Option<&str>) -> Result<(), String> {
    short_text("approval id", id)?;
    short_text("account name", account)?;
    short_text("passphrase", passphrase)?;
    if let Some(comment) = comment {
        short_text("comment", comment)?;
    }
    if account.trim().is_empty() {
        return Err("enter the approver's account name".to_owned());
    }
    Ok(())
}
