//! The commands the windows may call. Each is a thin wrapper over the engine
//! (`airlock-agent`): it checks its input again (the UI is not a trust boundary), runs the
//! engine call off the UI thread and turns errors into the engine's message. Which window may
//! call which command is decided by the capability files, not here.

pub mod admin;
pub mod approvals;
pub mod chat;

use std::sync::Arc;

use airlock_agent::Agent;

use crate::state::Engine;

/// Longest account name, comment or conversation id accepted from a window.
const MAX_SHORT_TEXT: usize = 4_096;

/// Runs `job` with the agent on a blocking thread: engine calls touch SQLite, the model and
/// Docker, none of which belong on the async runtime or the UI thread.
async fn with_agent<T: Send + 'static>(
    engine: &Engine,
    job: impl FnOnce(&Agent) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let agent: Arc<Agent> = engine.agent()?;
    tauri::async_runtime::spawn_blocking(move || job(&agent))
        .await
        .map_err(|err| format!("the engine call stopped unexpectedly: {err}"))?
}

/// Refuses a text field longer than [`MAX_SHORT_TEXT`] bytes.
fn short_text<'a>(what: &str, text: &'a str) -> Result<&'a str, String> {
    if text.len() > MAX_SHORT_TEXT {
        Err(format!(
            "the {what} is longer than {MAX_SHORT_TEXT} bytes: shorten it"
        ))
    } else {
        Ok(text)
    }
}
