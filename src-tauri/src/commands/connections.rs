//! The admin window's credentials: SAP and MES connections. Secrets come in once and are
//! never sent back to any window.

use std::collections::BTreeMap;

use airlock_agent::{ConnectionTest, ConnectionView, NewConnection};
use tauri::State;

use super::{short_text, with_agent};
use crate::state::{AdminSession, Engine};

/// Every connection, with whether its secret is stored (never the secret).
#[tauri::command]
pub async fn list_connections(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
) -> Result<Vec<ConnectionView>, String> {
    session.admin()?;
    with_agent(&engine, |agent| {
        agent.connections().map_err(|err| err.to_string())
    })
    .await
}

/// Adds or replaces a connection; its secret goes to the OS keychain.
#[tauri::command]
pub async fn add_connection(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
    name: String,
    kind: String,
    settings: BTreeMap<String, String>,
    secret: String,
) -> Result<ConnectionView, String> {
    let admin = session.admin()?;
    short_text("connection name", &name)?;
    short_text("secret", &secret)?;
    for (key, value) in &settings {
        short_text("setting name", key)?;
        short_text("setting", value)?;
    }
    let secret = zeroize::Zeroizing::new(secret);
    let new = NewConnection {
        name,
        kind,
        settings,
    };
    with_agent(&engine, move |agent| {
        agent
            .add_connection(&new, &secret, &admin)
            .map_err(|err| err.to_string())
    })
    .await
}

/// Logs in to a connection with its stored secret.
#[tauri::command]
pub async fn test_connection(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
    name: String,
) -> Result<ConnectionTest, String> {
    session.admin()?;
    short_text("connection name", &name)?;
    with_agent(&engine, move |agent| {
        agent.test_connection(&name).map_err(|err| err.to_string())
    })
    .await
}

/// Removes a connection and its secret.
#[tauri::command]
pub async fn remove_connection(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
    name: String,
) -> Result<bool, String> {
    let admin = session.admin()?;
    short_text("connection name", &name)?;
    with_agent(&engine, move |agent| {
        agent
            .remove_connection(&name, &admin)
            .map_err(|err| err.to_string())
    })
    .await
}
