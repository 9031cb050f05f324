//! The admin window's offline updates: pick a `.airlock-update` file, see what it installs
//! once it verifies, install it. The engine verifies, checks the admin again and audits.

use std::path::PathBuf;

use airlock_agent::{UpdateInstalled, UpdateView};
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt as _;

use super::{short_text, with_agent};
use crate::state::{AdminSession, Engine};

/// Opens the system's file picker for an update bundle; `None` when cancelled.
#[tauri::command]
pub async fn pick_update_file(
    app: AppHandle,
    session: State<'_, AdminSession>,
) -> Result<Option<String>, String> {
    session.admin()?;
    let (done, picked) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("The Airlock update bundle to install")
        .add_filter("Airlock update bundles", &["airlock-update"])
        .pick_file(move |file| {
            let _ = done.send(file);
        });
    let file = picked
        .await
        .map_err(|_| "the file picker closed unexpectedly; try again".to_owned())?;
    Ok(file
        .and_then(|file| file.into_path().ok())
        .map(|path| path.display().to_string()))
}

/// Verifies a bundle and says what it would install; installs nothing.
#[tauri::command]
pub async fn verify_update(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
    path: String,
) -> Result<UpdateView, String> {
    session.admin()?;
    let path = PathBuf::from(short_text("bundle path", &path)?);
    with_agent(&engine, move |agent| {
        agent.verify_update(&path).map_err(|err| err.to_string())
    })
    .await
}

/// Verifies a bundle again, then installs it.
#[tauri::command]
pub async fn apply_update(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
    path: String,
) -> Result<UpdateInstalled, String> {
    let admin = session.admin()?;
    let path = PathBuf::from(short_text("bundle path", &path)?);
    with_agent(&engine, move |agent| {
        agent
            .apply_update(&path, &admin)
            .map_err(|err| err.to_string())
    })
    .await
}
