//! The admin window's models: list with checksum status, verify, switch with load progress.

use airlock_agent::{ChecksumStatus, LoadedModelView, ModelLoadProgress, ModelsView};
use tauri::ipc::Channel;
use tauri::State;

use super::{short_text, with_agent};
use crate::state::{AdminSession, Engine};

/// The generator models in the models directory and the one in use.
#[tauri::command]
pub async fn list_models(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
) -> Result<ModelsView, String> {
    session.admin()?;
    with_agent(&engine, |agent| Ok(agent.models())).await
}

/// Hashes one model file and compares it with the manifest.
#[tauri::command]
pub async fn verify_model(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
    name: String,
) -> Result<ChecksumStatus, String> {
    session.admin()?;
    short_text("model name", &name)?;
    with_agent(&engine, move |agent| {
        agent.verify_model(&name).map_err(|err| err.to_string())
    })
    .await
}

/// Makes one model the one requests use, streaming the load's stages to `events`.
#[tauri::command]
pub async fn switch_model(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
    name: String,
    events: Channel<ModelLoadProgress>,
) -> Result<LoadedModelView, String> {
    let admin = session.admin()?;
    short_text("model name", &name)?;
    with_agent(&engine, move |agent| {
        agent
            .switch_model(&name, &admin, &mut |stage| {
                if let Err(err) = events.send(stage) {
                    tracing::warn!(%err, "the window stopped listening to a model load");
                }
            })
            .map_err(|err| err.to_string())
    })
    .await
}
