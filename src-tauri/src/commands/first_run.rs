//! The chat window's first-run screen: the check-up of every part, and creating the first
//! admin account (which the engine allows only while no account exists).

use airlock_agent::{Checkup, ADMIN_ROLE};
use tauri::State;

use super::{short_text, with_agent};
use crate::state::Engine;

/// Whether the first-run step is still to do: no account holds the admin role.
#[tauri::command]
pub async fn first_run_needed(engine: State<'_, Engine>) -> Result<bool, String> {
    with_agent(&engine, |agent| {
        agent
            .admins()
            .map(|admins| admins.is_empty())
            .map_err(|err| err.to_string())
    })
    .await
}

/// Every part's check (models hashed, Docker reached, sandbox image loaded): seconds.
#[tauri::command]
pub async fn run_checkup(engine: State<'_, Engine>) -> Result<Checkup, String> {
    with_agent(&engine, |agent| Ok(agent.checkup())).await
}

/// Creates the first admin account; refused by the engine once any account exists.
#[tauri::command]
pub async fn create_first_admin(
    engine: State<'_, Engine>,
    name: String,
    passphrase: String,
) -> Result<(), String> {
    short_text("account name", &name)?;
    short_text("passphrase", &passphrase)?;
    let passphrase = zeroize::Zeroizing::new(passphrase);
    with_agent(&engine, move |agent| {
        agent
            .add_account(&name, &[ADMIN_ROLE.to_owned()], &passphrase, None)
            .map_err(|err| err.to_string())
    })
    .await
}
