//! Locating Airlock's resource directories (models, fixtures, policy, the sandbox image) on
//! disk.

use std::path::{Path, PathBuf};

/// Where the installers put the resources, relative to the directory of the executable
/// (`/usr/bin` → `/usr/lib/Airlock` for the .deb, `$APPDIR/usr/bin` → `$APPDIR/usr/lib/Airlock`
/// in the AppImage: the Tauri bundler's layout for the product name "Airlock").
pub const INSTALLED_RESOURCES: &str = "../lib/Airlock";

/// Finds a resource directory: `$env_var` when set; else, for an installed copy, the installed
/// layout beside the executable ([`INSTALLED_RESOURCES`]); else the nearest `dir_name/` that
/// holds `marker`, searching upwards from the executable and then from the working directory
/// (a checkout: `cargo run`, `target/debug/airlock`); else `./dir_name`.
///
/// The installed layout comes first so that nobody can slip a directory of their own in front
/// of it: an AppImage's executable lives under `/tmp`, and a `/tmp/policy` found by the upward
/// search would replace the policy the governor enforces.
#[must_use]
pub fn locate_dir(env_var: &str, dir_name: &str, marker: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os(env_var) {
        return PathBuf::from(dir);
    }
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_owned));
    find_dir(std::env::current_dir().ok(), exe_dir, dir_name, marker)
        .unwrap_or_else(|| PathBuf::from(dir_name))
}

fn find_dir(
    cwd: Option<PathBuf>,
    exe_dir: Option<PathBuf>,
    dir_name: &str,
    marker: &str,
) -> Option<PathBuf> {
    let installed = exe_dir
        .as_ref()
        .map(|dir| dir.join(INSTALLED_RESOURCES).join(dir_name));
    let searched = [exe_dir, cwd].into_iter().flatten().flat_map(|start| {
        start
            .ancestors()
            .map(|dir| dir.join(dir_name))
            .collect::<Vec<_>>()
    });
    installed
        .into_iter()
        .chain(searched)
        .find(|dir| dir.join(marker).is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"").unwrap();
    }

    #[test]
    fn an_installed_layout_is_found_beside_the_executable() {
        let root = tempfile::tempdir().unwrap();
        let bin = root.path().join("usr/bin");
        std::fs::create_dir_all(&bin).unwrap();
        touch(&root.path().join("usr/lib/Airlock/models/manifest.toml"));
        let found = find_dir(None, Some(bin), "models", "manifest.toml").unwrap();
        assert!(found.join("manifest.toml").is_file(), "{}", found.display());
        assert!(found.ends_with("usr/bin/../lib/Airlock/models"));
    }

    #[test]
    fn a_planted_directory_above_an_installed_copy_is_never_used() {
        let root = tempfile::tempdir().unwrap();
        // An AppImage mounted under /tmp, and a /tmp/policy someone else wrote.
        let bin = root.path().join(".mount_x/usr/bin");
        std::fs::create_dir_all(&bin).unwrap();
        touch(
            &root
                .path()
                .join(".mount_x/usr/lib/Airlock/policy/guards.toml"),
        );
        touch(&root.path().join("policy/guards.toml"));
        let found = find_dir(
            Some(root.path().to_owned()),
            Some(bin),
            "policy",
            "guards.toml",
        );
        assert_eq!(
            found,
            Some(root.path().join(".mount_x/usr/bin/../lib/Airlock/policy"))
        );
    }

    #[test]
    fn a_checkout_is_found_upwards_and_a_missing_marker_finds_nothing() {
        let root = tempfile::tempdir().unwrap();
        let checkout = root.path().join("checkout");
        touch(&checkout.join("policy/guards.toml"));
        let work = checkout.join("src/deep");
        let bin = root.path().join("target/debug");
        std::fs::create_dir_all(&work).unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        assert_eq!(
            find_dir(
                Some(work.clone()),
                Some(bin.clone()),
                "policy",
                "guards.toml"
            ),
            Some(checkout.join("policy"))
        );
        assert_eq!(
            find_dir(Some(work), Some(bin), "policy", "absent.toml"),
            None
        );
    }
}
