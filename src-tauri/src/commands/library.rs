//! The admin window's document library: list, pick files, ingest and reindex with progress,
//! remove. The engine checks the admin again.

use std::path::PathBuf;

use airlock_agent::{
    AddOptions, DocumentSummary, IngestFileReport, IngestProgress, MAX_INGEST_PATHS,
};
use airlock_core::Classification;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt as _;

use super::{short_text, with_agent};
use crate::state::{AdminSession, Engine};

/// Every document with its classification.
#[tauri::command]
pub async fn list_documents(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
) -> Result<Vec<DocumentSummary>, String> {
    let admin = session.admin()?;
    with_agent(&engine, move |agent| {
        agent
            .library_documents(&admin)
            .map_err(|err| err.to_string())
    })
    .await
}

/// Opens the system's file picker (documents the library can read); empty when cancelled.
/// The picker is opened here, not by the window: no window holds a dialog permission.
#[tauri::command]
pub async fn pick_document_files(
    app: AppHandle,
    session: State<'_, AdminSession>,
) -> Result<Vec<String>, String> {
    session.admin()?;
    let (done, picked) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Documents to add to the library")
        .add_filter(
            "Documents",
            &["pdf", "docx", "md", "markdown", "txt", "html", "htm"],
        )
        .pick_files(move |files| {
            let _ = done.send(files);
        });
    let files = picked
        .await
        .map_err(|_| "the file picker closed unexpectedly; try again".to_owned())?;
    Ok(files
        .unwrap_or_default()
        .into_iter()
        .filter_map(|file| file.into_path().ok())
        .map(|path| path.display().to_string())
        .collect())
}

/// Ingests files and directories, streaming progress to `events`.
#[tauri::command]
pub async fn ingest_documents(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
    paths: Vec<String>,
    classification: Option<Classification>,
    audience: Option<String>,
    events: Channel<IngestProgress>,
) -> Result<Vec<IngestFileReport>, String> {
    let admin = session.admin()?;
    if paths.len() > MAX_INGEST_PATHS {
        return Err(format!(
            "{} paths is more than one ingest takes ({MAX_INGEST_PATHS}); choose their directory instead",
            paths.len()
        ));
    }
    for path in &paths {
        short_text("path", path)?;
    }
    let audience = match audience.as_deref().map(str::trim) {
        Some("") | None => None,
        Some(group) => Some(short_text("audience group", group)?.to_owned()),
    };
    let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
    let options = AddOptions {
        classification,
        audience,
        ..AddOptions::default()
    };
    with_agent(&engine, move |agent| {
        agent
            .ingest_documents(&paths, &options, &admin, &mut forward(&events))
            .map_err(|err| err.to_string())
    })
    .await
}

/// Indexes every document again from its source file, streaming progress to `events`.
#[tauri::command]
pub async fn reindex_documents(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
    events: Channel<IngestProgress>,
) -> Result<Vec<IngestFileReport>, String> {
    let admin = session.admin()?;
    with_agent(&engine, move |agent| {
        agent
            .reindex_documents(&admin, &mut forward(&events))
            .map_err(|err| err.to_string())
    })
    .await
}

/// Removes one document from the library.
#[tauri::command]
pub async fn remove_document(
    engine: State<'_, Engine>,
    session: State<'_, AdminSession>,
    id: i64,
) -> Result<bool, String> {
    let admin = session.admin()?;
    with_agent(&engine, move |agent| {
        agent
            .remove_document(id, &admin)
            .map_err(|err| err.to_string())
    })
    .await
}

fn forward(events: &Channel<IngestProgress>) -> impl FnMut(IngestProgress) + '_ {
    |step| {
        if let Err(err) = events.send(step) {
            tracing::warn!(%err, "the window stopped listening to an ingest's progress");
        }
    }
}
