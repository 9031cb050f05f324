//! `airlock update verify FILE` and `airlock update apply FILE`: an offline update bundle
//! (`installers/make-update`) checked against the update key installed with Airlock, then
//! installed with dpkg.

use std::path::Path;
use std::process::ExitCode;

use airlock_update::semver::Version;
use airlock_update::{TrustedKey, UpdateBundle, VerifiedUpdate};
use serde_json::json;

use crate::paths::Paths;

/// Verifies a bundle and prints what it holds; installs nothing.
pub fn verify(paths: &Paths, file: &Path, as_json: bool) -> anyhow::Result<ExitCode> {
    let current = current_version()?;
    let update = match verified(paths, file, &current) {
        Ok(update) => update,
        Err(err) if as_json => {
            println!("{}", json!({"ok": false, "error": err.to_string()}));
            return Ok(ExitCode::FAILURE);
        }
        Err(err) => return Err(err),
    };
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "ok": true,
                "current_version": current.to_string(),
                "manifest": update.manifest(),
                "trusted_comment": update.trusted_comment(),
                "key_id": update.key_id(),
            }))?
        );
    } else {
        print_summary(&update, &current);
        println!(
            "OK: the bundle verifies; install it with `airlock update apply {}`",
            file.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Verifies a bundle, then installs its package.
pub fn apply(paths: &Paths, file: &Path) -> anyhow::Result<ExitCode> {
    let current = current_version()?;
    let update = verified(paths, file, &current)?;
    print_summary(&update, &current);
    println!(
        "installing Airlock {} (administrator rights are needed: dpkg runs through pkexec \
         unless you are root)…",
        update.manifest().version
    );
    let outcome = update.install()?;
    if !outcome.output.is_empty() {
        println!("{}", outcome.output);
    }
    println!(
        "OK: Airlock {} installed (`{}`); restart Airlock to use it",
        outcome.version, outcome.command
    );
    Ok(ExitCode::SUCCESS)
}

fn verified(paths: &Paths, file: &Path, current: &Version) -> anyhow::Result<VerifiedUpdate> {
    let key = TrustedKey::installed()?;
    let staging = paths.data_dir.join("updates");
    Ok(UpdateBundle::verify(file, &key, current, &staging)?)
}

fn current_version() -> anyhow::Result<Version> {
    Ok(Version::parse(env!("CARGO_PKG_VERSION"))?)
}

fn print_summary(update: &VerifiedUpdate, current: &Version) {
    let manifest = update.manifest();
    println!(
        "✓ signature: update.json signed by the installed update key {}",
        update.key_id()
    );
    println!("  signed comment: {}", printable(update.trusted_comment()));
    println!(
        "✓ Airlock {} for {} (installed: {current}), made {}",
        manifest.version, manifest.target, manifest.created
    );
    println!(
        "✓ package {}: {} bytes, SHA-256 {}",
        manifest.payload.name, manifest.payload.size, manifest.payload.sha256
    );
    if !manifest.notes.trim().is_empty() {
        println!("notes:");
        for line in manifest.notes.trim_end().lines() {
            println!("  {}", printable(line));
        }
    }
}

/// Text from the bundle without control characters (no terminal escapes).
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}
