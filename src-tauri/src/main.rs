//! `airlock-desktop`: the Airlock desktop shell. It prepares the environment, opens the main
//! window and routes the window's commands to the engine; it holds no business logic.

// Release builds on Windows should not open a console window next to the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;

use std::process::ExitCode;

use anyhow::Context as _;
use tracing_subscriber::EnvFilter;

/// Exit code when there is no graphical display to open a window on.
const EXIT_NO_DISPLAY: u8 = 2;

fn main() -> ExitCode {
    // Environment changes first, while the process is still single-threaded.
    #[cfg(target_os = "linux")]
    avoid_webkit_dmabuf_renderer();

    init_tracing();

    if !has_display() {
        eprintln!(
            "Airlock needs a graphical display. Run `make demo` for the headless demo, \
             or `xvfb-run make run`."
        );
        return ExitCode::from(EXIT_NO_DISPLAY);
    }

    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("airlock-desktop: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Builds and runs the Tauri application until the last window closes.
fn run() -> anyhow::Result<()> {
    let models_dir = airlock_agent::default_models_dir();
    tracing::info!(models_dir = %models_dir.display(), "starting Airlock desktop");

    tauri::Builder::default()
        .manage(commands::ModelsDir(models_dir))
        .invoke_handler(tauri::generate_handler![commands::model_status])
        .run(tauri::generate_context!())
        .context("the desktop window could not run")
}

/// Logs to stderr; `RUST_LOG` overrides the default `info` level.
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Whether a window can be opened. On X11/Wayland systems this needs `DISPLAY` or
/// `WAYLAND_DISPLAY`; without either, GTK would panic deep inside its initialisation.
fn has_display() -> bool {
    if cfg!(any(target_os = "windows", target_os = "macos")) {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|value| !value.is_empty()))
}

/// `WebKitGTK`'s DMA-BUF renderer leaves the window blank (or crashes it) on many GPU drivers,
/// in VMs and under Xvfb. Turn it off unless the user chose a value themselves.
///
/// Must run before any thread starts: changing the environment is not thread-safe.
#[cfg(target_os = "linux")]
fn avoid_webkit_dmabuf_renderer() {
    const VAR: &str = "WEBKIT_DISABLE_DMABUF_RENDERER";
    if std::env::var_os(VAR).is_none() {
        std::env::set_var(VAR, "1");
    }
}
