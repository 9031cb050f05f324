//! `airlock-desktop`: the Airlock desktop shell. It prepares the environment, opens the main
//! window and routes the window's commands to the engine; it holds no business logic. Started
//! as `airlock`, it is the command line instead (`airlock-cli`), so the package ships one
//! binary.

// Release builds on Windows should not open a console window next to the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod startup;
mod state;

use std::process::ExitCode;

use airlock_agent::{Agent, AgentConfig};
use anyhow::Context as _;
use tauri::Manager as _;
use tracing_subscriber::EnvFilter;

use crate::state::{AdminSession, Engine};

/// Exit code when there is no graphical display to open a window on.
const EXIT_NO_DISPLAY: u8 = 2;

fn main() -> ExitCode {
    startup::mark_start();
    // The model worker and the document extractor are this same binary in another role.
    if let Some(code) = airlock_agent::serve_worker_if_requested() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    if started_as_cli() {
        return airlock_cli::run();
    }
    // Environment changes first, while the process is still single-threaded.
    #[cfg(target_os = "linux")]
    avoid_webkit_dmabuf_renderer();

    let _traces = init_tracing();

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

/// Builds and runs the Tauri application until the last window closes, then shuts the
/// engine down cleanly.
fn run() -> anyhow::Result<()> {
    let engine = Engine::open_in_background(open_agent);
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(main) = app.get_webview_window("main") {
                let _ = main.unminimize();
                let _ = main.set_focus();
            }
        }))
        .plugin(tauri_plugin_dialog::init())
        .manage(engine)
        .manage(AdminSession::default())
        .invoke_handler(tauri::generate_handler![
            commands::chat::app_status,
            commands::first_run::first_run_needed,
            commands::first_run::run_checkup,
            commands::first_run::create_first_admin,
            commands::chat::ask,
            commands::chat::call_tool,
            commands::chat::list_conversations,
            commands::chat::conversation_messages,
            commands::chat::open_citation,
            commands::chat::open_admin_window,
            commands::approvals::pending_approvals,
            commands::approvals::approve_request,
            commands::approvals::deny_request,
            commands::admin::admin_sign_in,
            commands::admin::admin_sign_out,
            commands::admin::policy_files,
            commands::admin::review_policy,
            commands::admin::save_policy,
            commands::admin::policy_playground,
            commands::admin::run_policy_tests,
            commands::admin::audit_events,
            commands::admin::verify_audit,
            commands::admin::export_audit,
            commands::library::list_documents,
            commands::library::pick_document_files,
            commands::library::ingest_documents,
            commands::library::reindex_documents,
            commands::library::remove_document,
            commands::models::list_models,
            commands::models::verify_model,
            commands::models::switch_model,
            commands::connections::list_connections,
            commands::connections::add_connection,
            commands::connections::test_connection,
            commands::connections::remove_connection,
            commands::accounts::list_accounts,
            commands::accounts::add_account,
            commands::accounts::remove_account,
            commands::updates::pick_update_file,
            commands::updates::verify_update,
            commands::updates::apply_update,
            commands::metrics::metrics_snapshot,
        ])
        .on_window_event(|window, event| {
            if window.label() == commands::chat::ADMIN_WINDOW
                && matches!(event, tauri::WindowEvent::Destroyed)
            {
                window.state::<AdminSession>().sign_out();
            }
        })
        .build(tauri::generate_context!())
        .context("the desktop window could not start")?;
    app.run(|app, event| {
        if let tauri::RunEvent::Exit = event {
            if let Some(agent) = app.state::<Engine>().opened() {
                agent.shutdown();
            }
        }
    });
    Ok(())
}

/// The package installs one binary: `/usr/bin/airlock` starts it with `argv[0]` set to
/// `airlock` (`exec -a`), and it then serves the headless command line instead of a window.
fn started_as_cli() -> bool {
    std::env::args_os()
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(std::path::Path::file_name)
        .is_some_and(|name| name == "airlock")
}

/// A model file to use instead of the most preferred one in the models directory.
const MODEL_ENV: &str = "AIRLOCK_MODEL";

/// Opens the engine with the default directories (each overridable by its `AIRLOCK_*`
/// variable) and model ([`MODEL_ENV`]), as the OS user. A failure is kept and shown by every
/// command.
fn open_agent() -> Result<Agent, String> {
    let mut config = AgentConfig::with_current_exe(
        airlock_agent::default_data_dir(),
        airlock_agent::default_models_dir(),
        airlock_agent::default_fixtures_dir(),
    )
    .map_err(|err| err.to_string())?;
    config.model = std::env::var_os(MODEL_ENV)
        .filter(|path| !path.is_empty())
        .map(std::path::PathBuf::from);
    tracing::info!(
        data_dir = %config.data_dir.display(),
        models_dir = %config.models_dir.display(),
        policy_dir = %config.policy_dir.display(),
        "opening the Airlock engine"
    );
    Agent::open(config).map_err(|err| {
        tracing::error!(%err, "the engine did not open");
        format!("Airlock's engine did not open: {err}")
    })
}

/// Logs to stderr (`RUST_LOG` overrides the default `info` level) and keeps request traces in
/// the data directory; the guard writes the last traces out when dropped.
fn init_tracing() -> Option<airlock_telemetry::TraceGuard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    airlock_cli::init_logging(&airlock_agent::default_data_dir(), filter)
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
