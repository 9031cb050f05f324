//! Locating Airlock's resource directories (models, fixtures) on disk.

use std::path::{Path, PathBuf};

/// Finds a resource directory: `$env_var` when set; else the nearest `dir_name/` that holds
/// `marker`, searching upwards from the working directory and then from the executable
/// (so both `cargo run` in a checkout and an installed layout work); else `./dir_name`.
#[must_use]
pub fn locate_dir(env_var: &str, dir_name: &str, marker: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os(env_var) {
        return PathBuf::from(dir);
    }
    let starts = [
        std::env::current_dir().ok(),
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_owned)),
    ];
    starts
        .into_iter()
        .flatten()
        .flat_map(|start| {
            start
                .ancestors()
                .map(|dir| dir.join(dir_name))
                .collect::<Vec<_>>()
        })
        .find(|dir| dir.join(marker).is_file())
        .unwrap_or_else(|| PathBuf::from(dir_name))
}
