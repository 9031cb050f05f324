//! The chat window's commands: status, requests with their event stream, conversations,
//! cited passages, and opening the admin window.

use airlock_agent::{
    AgentEvent, AppStatus, AskOutcome, ConversationSummary, OpenedChunk, Progress, StoredMessage,
};
use airlock_core::Mode;
use serde_json::{Map, Value};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State, WebviewUrl, WebviewWindowBuilder};

use super::{short_text, with_agent};
use crate::state::Engine;

/// The admin window's label (its capability file grants the admin commands to it alone).
pub const ADMIN_WINDOW: &str = "admin";

/// Model, Docker, keychain and deployment mode.
#[tauri::command]
pub async fn app_status(engine: State<'_, Engine>) -> Result<AppStatus, String> {
    let status = with_agent(&engine, |agent| Ok(agent.status())).await;
    crate::startup::window_interactive();
    status
}

/// Serves one request, streaming its events to `events`; resolves with the outcome.
#[tauri::command]
pub async fn ask(
    engine: State<'_, Engine>,
    text: String,
    mode: String,
    conversation_id: Option<String>,
    events: Channel<AgentEvent>,
) -> Result<AskOutcome, String> {
    let mode: Mode = mode.parse().map_err(|err| format!("{err}"))?;
    if let Some(id) = &conversation_id {
        short_text("conversation id", id)?;
    }
    with_agent(&engine, move |agent| {
        agent
            .ask_in(
                conversation_id.as_deref(),
                &text,
                mode,
                &mut forward(&events),
            )
            .map_err(|err| err.to_string())
    })
    .await
}

/// Runs one tool call the operator typed, without the model: the governor decides it like a
/// planned one; its events go to `events`. It is a turn of `conversation_id` when given.
#[tauri::command]
pub async fn call_tool(
    engine: State<'_, Engine>,
    tool: String,
    args: Map<String, Value>,
    mode: String,
    conversation_id: Option<String>,
    events: Channel<AgentEvent>,
) -> Result<AskOutcome, String> {
    let mode: Mode = mode.parse().map_err(|err| format!("{err}"))?;
    short_text("tool name", &tool)?;
    if let Some(id) = &conversation_id {
        short_text("conversation id", id)?;
    }
    with_agent(&engine, move |agent| {
        agent
            .call_in(
                conversation_id.as_deref(),
                &tool,
                args,
                mode,
                &mut forward(&events),
            )
            .map_err(|err| err.to_string())
    })
    .await
}

/// Sends each progress step to the window as an event; a window that stopped listening
/// does not stop the request.
pub fn forward(events: &Channel<AgentEvent>) -> impl FnMut(Progress<'_>) + '_ {
    |progress| {
        if let Err(err) = events.send(AgentEvent::from(&progress)) {
            tracing::warn!(%err, "the window stopped listening to a request's events");
        }
    }
}

/// The most recently active conversations.
#[tauri::command]
pub async fn list_conversations(
    engine: State<'_, Engine>,
) -> Result<Vec<ConversationSummary>, String> {
    with_agent(&engine, |agent| {
        agent.conversations().map_err(|err| err.to_string())
    })
    .await
}

/// The messages of one conversation.
#[tauri::command]
pub async fn conversation_messages(
    engine: State<'_, Engine>,
    conversation_id: String,
) -> Result<Vec<StoredMessage>, String> {
    short_text("conversation id", &conversation_id)?;
    with_agent(&engine, move |agent| {
        agent
            .conversation_messages(&conversation_id)
            .map_err(|err| err.to_string())
    })
    .await
}

/// A cited passage with the text around it.
#[tauri::command]
pub async fn open_citation(
    engine: State<'_, Engine>,
    chunk_id: i64,
) -> Result<OpenedChunk, String> {
    if chunk_id <= 0 {
        return Err(format!("{chunk_id} is not a passage id"));
    }
    with_agent(&engine, move |agent| {
        agent.open_citation(chunk_id).map_err(|err| err.to_string())
    })
    .await
}

/// Opens the admin window, or focuses it when it is open.
#[tauri::command]
pub async fn open_admin_window(app: AppHandle) -> Result<(), String> {
    if let Some(window) = app.get_webview_window(ADMIN_WINDOW) {
        return window.set_focus().map_err(|err| err.to_string());
    }
    WebviewWindowBuilder::new(&app, ADMIN_WINDOW, WebviewUrl::App("admin.html".into()))
        .title("Airlock — Administration")
        .inner_size(1180.0, 780.0)
        .min_inner_size(720.0, 520.0)
        .build()
        .map(drop)
        .map_err(|err| format!("the admin window could not open: {err}"))
}
