//! The app commands the webview may call. Each is a thin wrapper over the engine
//! (`airlock-agent`): no business logic lives here.

use std::path::PathBuf;

use airlock_agent::ModelStatus;

/// The models directory this window reads, resolved once at startup.
#[derive(Debug, Clone)]
pub struct ModelsDir(pub PathBuf);

/// Returns what the engine found in the models directory: the selected generator model, the
/// other available ones, and any problem worth telling the user.
///
/// The lookup touches the file system, so it runs on a blocking thread rather than on the
/// async runtime or the UI thread.
#[tauri::command]
pub async fn model_status(dir: tauri::State<'_, ModelsDir>) -> Result<ModelStatus, String> {
    let dir = dir.0.clone();
    tauri::async_runtime::spawn_blocking(move || airlock_agent::model_status(&dir))
        .await
        .map_err(|err| format!("the model lookup failed: {err}"))
}
