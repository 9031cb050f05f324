//! How long the app takes to become usable: measured from the start of `main` to the answer
//! to the main window's first command (its status bar asks for the engine's status as soon as
//! it has rendered; the engine opens meanwhile), and logged once. `make bench-desktop` reads this line.

use std::sync::{Once, OnceLock};
use std::time::Instant;

static STARTED: OnceLock<Instant> = OnceLock::new();

/// Notes the moment the process started; call first thing in `main`.
pub fn mark_start() {
    STARTED.get_or_init(Instant::now);
}

/// Logs, the first time only, that the main window is interactive and how long it took.
pub fn window_interactive() {
    static LOGGED: Once = Once::new();
    LOGGED.call_once(|| {
        let startup_ms = STARTED
            .get()
            .map_or(0.0, |started| started.elapsed().as_secs_f64() * 1_000.0);
        tracing::info!(startup_ms, "main window interactive");
    });
}
