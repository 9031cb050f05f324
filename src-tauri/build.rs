//! Build script: checks that the front end was built, then lets `tauri-build` generate the
//! context and the access-control manifests.

use std::path::Path;

/// The app's own commands. Listing them in the app manifest makes Tauri gate each one per
/// window through the capability files (`capabilities/*.json`), instead of allowing every
/// app command in every window.
const APP_COMMANDS: &[&str] = &["model_status"];

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

    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(APP_COMMANDS));
    tauri_build::try_build(attributes).expect("tauri-build failed");
}
