//! Build script: checks that the front end was built, then lets `tauri-build` generate the
//! context and the access-control manifests.

use std::path::Path;

/// The app's own commands. Listing them in the app manifest makes Tauri gate each one per
/// window through the capability files (`capabilities/*.json`), instead of allowing every
/// app command in every window.
const APP_COMMANDS: &[&str] = &[
    "app_status",
    "first_run_needed",
    "run_checkup",
    "create_first_admin",
    "ask",
    "call_tool",
    "list_conversations",
    "conversation_messages",
    "open_citation",
    "open_admin_window",
    "pending_approvals",
    "approve_request",
    "deny_request",
    "admin_sign_in",
    "admin_sign_out",
    "policy_files",
    "review_policy",
    "save_policy",
    "policy_playground",
    "run_policy_tests",
    "audit_events",
    "verify_audit",
    "export_audit",
    "list_documents",
    "pick_document_files",
    "ingest_documents",
    "reindex_documents",
    "remove_document",
    "list_models",
    "verify_model",
    "switch_model",
    "list_connections",
    "add_connection",
    "test_connection",
    "remove_connection",
    "list_accounts",
    "add_account",
    "remove_account",
    "pick_update_file",
    "verify_update",
    "apply_update",
    "metrics_snapshot",
];

fn main() {
    let index = Path::new("../ui/dist/index.html");
    println!("cargo:rerun-if-changed=../ui/dist");
    // `tauri::generate_context!` embeds ../ui/dist; fail early with the fix instead of a
    // confusing macro error.
    assert!(
        index.exists(),
        "the front end is not built ({} is missing): run `npm ci && npm run build` in ui/ first",
        index.display()
    );

    keep_bundled_sqlite_private();

    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(APP_COMMANDS));
    tauri_build::try_build(attributes).expect("tauri-build failed");
}

/// The engine links its own SQLite (rusqlite's bundled copy, with sqlite-vec), while
/// WebKitGTK's libsoup and the SQLite ODBC driver link the system's `libsqlite3.so`. A
/// symbol that a linked shared library needs is exported from the executable by default, so
/// the system library's users would bind half their SQLite calls to the bundled copy and
/// crash inside the ODBC driver on the first MES connection. Symbols of static archives stay
/// private, and each SQLite copy keeps its own state.
fn keep_bundled_sqlite_private() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-Wl,--exclude-libs,ALL");
    }
}
