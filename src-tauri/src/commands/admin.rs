//! The admin window's commands. Every one but sign-in needs an admin signed in to this
//! window; saving the policy is checked again by the engine (admins only, valid only).

use airlock_agent::{
    Approver, AuditEntry, AuditFilter, AuditReport, Decision, ExportFormat, ExportedAudit,
    PolicyCaseResult, PolicyFile, PolicyReview, PolicySaved,
};
use serde_json::{Map, Value};
use tauri::{AppHandle, Manager as _, State};

use super::{short_text, with_agent};
use crate::state::{AdminSession, Engine};

/// Signs an admin in to the admin window.
#[tauri::command]
pub async fn admin_sign_in(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
    account: String,
    passphrase: String,
) -> Result<Approver, String> {
    short_text("account name", &account)?;
    short_text("passphrase", &passphrase)?;
    let admin = with_agent(&engine, move |agent| {
        let who = agent
            .sign_in(&account, &passphrase)
            .map_err(|err| err.to_string())?;
        if agent.is_admin(&who) {
            Ok(who)
        } else {
            Err(format!(
                "`{}` is not an admin: the admin window needs a member of `admin`",
                who.name
            ))
        }
    })
    .await?;
    session.sign_in(admin.clone());
    Ok(admin)
}

/// Signs the admin out.
#[tauri::command]
pub fn admin_sign_out(session: State<'_, AdminSession>) {
    session.sign_out();
}

/// The editable policy files as in force.
#[tauri::command]
pub async fn policy_files(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
) -> Result<Vec<PolicyFile>, String> {
    session.admin()?;
    with_agent(&engine, |agent| {
        agent.policy_files().map_err(|err| err.to_string())
    })
    .await
}

/// Checks an edit against the whole policy and diffs it; nothing is written.
#[tauri::command]
pub async fn review_policy(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
    file: String,
    text: String,
) -> Result<PolicyReview, String> {
    session.admin()?;
    with_agent(&engine, move |agent| {
        agent
            .review_policy(&file, &text)
            .map_err(|err| err.to_string())
    })
    .await
}

/// Saves an edit when the whole policy stays valid; the governor reloads it.
#[tauri::command]
pub async fn save_policy(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
    file: String,
    text: String,
) -> Result<PolicySaved, String> {
    let admin = session.admin()?;
    with_agent(&engine, move |agent| {
        agent
            .save_policy(&file, &text, &admin)
            .map_err(|err| err.to_string())
    })
    .await
}

/// Decides a call for a principal without running it.
#[tauri::command]
pub async fn policy_playground(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
    principal: String,
    tool: String,
    args: Map<String, Value>,
) -> Result<Decision, String> {
    session.admin()?;
    short_text("principal", &principal)?;
    short_text("tool name", &tool)?;
    with_agent(&engine, move |agent| {
        agent
            .playground(&principal, &tool, &args)
            .map_err(|err| err.to_string())
    })
    .await
}

/// Runs the policy test tables.
#[tauri::command]
pub async fn run_policy_tests(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
) -> Result<Vec<PolicyCaseResult>, String> {
    session.admin()?;
    with_agent(&engine, |agent| {
        agent.run_policy_tests().map_err(|err| err.to_string())
    })
    .await
}

/// Audit events matching `filter`, newest first.
#[tauri::command]
pub async fn audit_events(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
    filter: AuditFilter,
) -> Result<Vec<AuditEntry>, String> {
    session.admin()?;
    with_agent(&engine, move |agent| {
        agent.audit_events(&filter).map_err(|err| err.to_string())
    })
    .await
}

/// Verifies the audit chain and its signed checkpoints.
#[tauri::command]
pub async fn verify_audit(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
) -> Result<AuditReport, String> {
    session.admin()?;
    with_agent(&engine, |agent| {
        agent.verify_audit().map_err(|err| err.to_string())
    })
    .await
}

/// Writes every audit row since `since` (all when absent) as JSON or CSV, hashes included, to
/// the user's downloads folder (the data directory when there is none); returns where.
#[tauri::command]
pub async fn export_audit(
    app: AppHandle,
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
    since: Option<String>,
    format: String,
) -> Result<ExportedAudit, String> {
    session.admin()?;
    let format: ExportFormat = format.parse()?;
    let since = since.filter(|since| !since.trim().is_empty());
    let downloads = app.path().download_dir().ok();
    with_agent(&engine, move |agent| {
        let dir = downloads.unwrap_or_else(|| agent.data_dir().join("exports"));
        agent
            .export_audit(since.as_deref(), format, &dir)
            .map_err(|err| err.to_string())
    })
    .await
}
