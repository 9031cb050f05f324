//! The commands the windows may call. Each is a thin wrapper over the engine
//! (`airlock-agent`): it checks its input again (the UI is not a trust boundary), runs the
//! engine call off the UI thread and turns errors into the engine's message. Which window may
//! call which command is decided by the capability files, not here.

pub mod accounts;
pub mod admin;
pub mod approvals;
pub mod chat;
pub mod connections;
pub mod first_run;
pub mod library;
pub mod metrics;
pub mod models;
pub mod updates;

use std::sync::Arc;

use airlock_agent::Agent;

use crate::state::Engine;

/// Longest account name, comment or conversation id accepted from a window.
const MAX_SHORT_TEXT: usize = 4_096;

/// Runs `job` with the agent on a thread of its own (which also waits for the engine to finish
/// opening, early after start): engine calls touch SQLite, the model and
/// Docker, none of which belong on the async runtime or the UI thread. Not a `spawn_blocking`
/// thread: the engine drives its own async runtimes (sandbox, MCP) with `block_on`, which
/// tokio refuses inside another runtime's threads.
async fn with_agent<T: Send + 'static>(
    engine: &Engine,
    job: impl FnOnce(&Agent) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let engine = engine.clone();
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("airlock-engine-call".to_owned())
        .spawn(move || {
            let _ = done.send(engine.agent().and_then(|agent: Arc<Agent>| job(&agent)));
        })
        .map_err(|err| {
            format!("no thread for the engine call ({err}); free some memory and retry")
        })?;
    result
        .await
        .map_err(|_| "the engine call stopped unexpectedly; the log has the details".to_owned())?
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
