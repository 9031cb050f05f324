//! The admin window's users: local accounts (approvers and admins) and their roles.

use airlock_agent::LocalAccount;
use serde::Serialize;
use tauri::State;

use super::{short_text, with_agent};
use crate::state::{AdminSession, Engine};

/// Most roles one account may hold.
const MAX_ROLES: usize = 32;

/// The accounts, and the roles the policy knows (what the form offers).
#[derive(Serialize)]
pub struct AccountsView {
    accounts: Vec<LocalAccount>,
    roles: Vec<String>,
}

/// Every local account (never a hash) and the policy's roles.
#[tauri::command]
pub async fn list_accounts(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
) -> Result<AccountsView, String> {
    session.admin()?;
    with_agent(&engine, |agent| {
        Ok(AccountsView {
            accounts: agent.accounts().map_err(|err| err.to_string())?,
            roles: agent.known_roles(),
        })
    })
    .await
}

/// Adds a local account; its passphrase is hashed by the engine and never stored.
#[tauri::command]
pub async fn add_account(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
    name: String,
    roles: Vec<String>,
    passphrase: String,
) -> Result<(), String> {
    let admin = session.admin()?;
    short_text("account name", &name)?;
    short_text("passphrase", &passphrase)?;
    if roles.len() > MAX_ROLES {
        return Err(format!("an account holds at most {MAX_ROLES} roles"));
    }
    for role in &roles {
        short_text("role", role)?;
    }
    let passphrase = zeroize::Zeroizing::new(passphrase);
    with_agent(&engine, move |agent| {
        agent
            .add_account(&name, &roles, &passphrase, Some(&admin))
            .map_err(|err| err.to_string())
    })
    .await
}

/// Removes a local account.
#[tauri::command]
pub async fn remove_account(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
    name: String,
) -> Result<bool, String> {
    let admin = session.admin()?;
    short_text("account name", &name)?;
    with_agent(&engine, move |agent| {
        agent
            .remove_account(&name, &admin)
            .map_err(|err| err.to_string())
    })
    .await
}
