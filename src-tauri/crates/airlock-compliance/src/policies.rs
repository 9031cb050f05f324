//! The policy files in force, and which versions of them were in force during the period.
//!
//! The files are copied as they are when the package is written. Which version was in force
//! when is reconstructed from the `policy_changed` audit events (each names the file, the
//! admin, and the SHA-256 before and after): for a file, the version at the period's start is
//! the one the last change before the period left, else the one the first later change
//! replaced, else (never changed) the file as it is now.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use airlock_store::StoredEvent;
use sha2::{Digest, Sha256};

use crate::error::io;
use crate::records::{PolicyChange, PolicyVersions};
use crate::{EvidenceError, Period};

/// The TOML files of the policy directory that belong to the policy.
const POLICY_TOML: [&str; 3] = ["principals.toml", "guards.toml", "mcp-servers.toml"];

fn is_policy_file(name: &str) -> bool {
    POLICY_TOML.contains(&name)
        || (!name.starts_with('.') && (name.ends_with(".cedar") || name.ends_with(".cedarschema")))
}

/// The policy files of `dir` (regular files only; the `tests/` tables are not policy), by
/// name, with their bytes.
pub(crate) fn read_policy_dir(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, EvidenceError> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(io("read the policy directory", dir))? {
        let entry = entry.map_err(io("read the policy directory", dir))?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let path = entry.path();
        if !is_policy_file(&name) || !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(io("read", &path))?;
        files.insert(name, bytes);
    }
    Ok(files)
}

/// SHA-256 of `bytes`, hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The `policy_changed` events as changes, oldest first.
pub(crate) fn changes(events: &[StoredEvent]) -> Vec<PolicyChange> {
    let text = |event: &StoredEvent, key: &str| {
        event.payload[key]
            .as_str()
            .map(str::to_owned)
            .filter(|value| !value.is_empty())
    };
    events
        .iter()
        .map(|event| PolicyChange {
            seq: event.seq,
            at: event.created_at.clone(),
            file: text(event, "file").unwrap_or_else(|| "(no file named)".to_owned()),
            by: text(event, "by").unwrap_or_else(|| "(nobody named)".to_owned()),
            sha256_from: text(event, "sha256_before"),
            sha256_to: text(event, "sha256"),
        })
        .collect()
}

/// Per file (those present now and those any change names), the versions in force during
/// `period`. `current` maps each file present now to its SHA-256.
pub(crate) fn versions(
    current: &BTreeMap<String, String>,
    changes: &[PolicyChange],
    period: &Period,
) -> Vec<PolicyVersions> {
    let names: BTreeSet<&str> = current
        .keys()
        .map(String::as_str)
        .chain(changes.iter().map(|change| change.file.as_str()))
        .collect();
    names
        .into_iter()
        .map(|name| {
            let mine: Vec<&PolicyChange> = changes.iter().filter(|c| c.file == name).collect();
            let before = mine.iter().rev().find(|c| c.at < period.from);
            let first_later = mine.iter().find(|c| c.at >= period.from);
            let now = current.get(name).cloned();
            let (sha256_at_start, start_source) = match (before, first_later) {
                (Some(change), _) => (
                    change.sha256_to.clone(),
                    format!(
                        "set by the change of audit row {} at {}",
                        change.seq, change.at
                    ),
                ),
                (None, Some(change)) => (
                    change.sha256_from.clone(),
                    format!(
                        "replaced by the change of audit row {} at {} (its sha256_before)",
                        change.seq, change.at
                    ),
                ),
                (None, None) => (
                    now.clone(),
                    "no change recorded: the file as it is now".to_owned(),
                ),
            };
            let within: Vec<PolicyChange> = mine
                .iter()
                .filter(|c| period.contains(&c.at))
                .map(|c| (*c).clone())
                .collect();
            let sha256_at_end = within
                .last()
                .map_or_else(|| sha256_at_start.clone(), |c| c.sha256_to.clone());
            PolicyVersions {
                file: name.to_owned(),
                copy_is_version_at_end: now.is_some() && now == sha256_at_end,
                sha256_at_start,
                start_source,
                changes: within,
                sha256_at_end,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(seq: i64, at: &str, file: &str, from: &str, to: &str) -> PolicyChange {
        PolicyChange {
            seq,
            at: at.to_owned(),
            file: file.to_owned(),
            by: "ada".to_owned(),
            sha256_from: Some(from.to_owned()),
            sha256_to: Some(to.to_owned()),
        }
    }

    fn november() -> Period {
        Period::parse("2026-11-01", "2026-11-30").unwrap()
    }

    fn current(files: &[(&str, &str)]) -> BTreeMap<String, String> {
        files
            .iter()
            .map(|(name, sha)| ((*name).to_owned(), (*sha).to_owned()))
            .collect()
    }

    #[test]
    fn the_version_at_the_start_comes_from_the_last_change_before_the_period() {
        let changes = [
            change(1, "2026-10-02T00:00:00.000Z", "plant.cedar", "a", "b"),
            change(5, "2026-11-10T00:00:00.000Z", "plant.cedar", "b", "c"),
            change(9, "2026-12-03T00:00:00.000Z", "plant.cedar", "c", "d"),
        ];
        let found = versions(&current(&[("plant.cedar", "d")]), &changes, &november());
        assert_eq!(found.len(), 1);
        let plant = &found[0];
        assert_eq!(plant.sha256_at_start.as_deref(), Some("b"));
        assert!(
            plant.start_source.contains("row 1"),
            "{}",
            plant.start_source
        );
        assert_eq!(plant.changes.len(), 1);
        assert_eq!(plant.changes[0].seq, 5);
        assert_eq!(plant.sha256_at_end.as_deref(), Some("c"));
        assert!(
            !plant.copy_is_version_at_end,
            "changed again after the period"
        );
    }

    #[test]
    fn without_an_earlier_change_the_start_is_what_the_first_change_replaced() {
        let changes = [
            change(3, "2026-11-02T00:00:00.000Z", "guards.toml", "g0", "g1"),
            change(4, "2026-11-03T00:00:00.000Z", "guards.toml", "g1", "g2"),
        ];
        let found = versions(
            &current(&[("guards.toml", "g2"), ("plant.cedar", "p")]),
            &changes,
            &november(),
        );
        let guards = found.iter().find(|v| v.file == "guards.toml").unwrap();
        assert_eq!(guards.sha256_at_start.as_deref(), Some("g0"));
        assert_eq!(guards.changes.len(), 2);
        assert_eq!(guards.sha256_at_end.as_deref(), Some("g2"));
        assert!(guards.copy_is_version_at_end);
        // A file nobody changed: the copy is what was in force all along.
        let plant = found.iter().find(|v| v.file == "plant.cedar").unwrap();
        assert_eq!(plant.sha256_at_start.as_deref(), Some("p"));
        assert!(plant.changes.is_empty());
        assert!(plant.copy_is_version_at_end);
        assert!(plant.start_source.contains("no change recorded"));
    }

    #[test]
    fn a_change_after_the_period_tells_the_version_in_force_during_it() {
        let changes = [change(
            7,
            "2026-12-24T00:00:00.000Z",
            "principals.toml",
            "old",
            "new",
        )];
        let found = versions(
            &current(&[("principals.toml", "new")]),
            &changes,
            &november(),
        );
        assert_eq!(found[0].sha256_at_start.as_deref(), Some("old"));
        assert_eq!(found[0].sha256_at_end.as_deref(), Some("old"));
        assert!(found[0].changes.is_empty());
        assert!(!found[0].copy_is_version_at_end);
    }

    #[test]
    fn only_policy_files_are_read_from_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "plant.cedar",
            "airlock.cedarschema",
            "guards.toml",
            "principals.toml",
            "mcp-servers.toml",
            "notes.txt",
            "other.toml",
            ".plant.cedar.swp",
        ] {
            std::fs::write(dir.path().join(name), name).unwrap();
        }
        std::fs::create_dir(dir.path().join("tests")).unwrap();
        std::fs::write(dir.path().join("tests/01.toml"), "x").unwrap();
        let files = read_policy_dir(dir.path()).unwrap();
        let names: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "airlock.cedarschema",
                "guards.toml",
                "mcp-servers.toml",
                "plant.cedar",
                "principals.toml"
            ]
        );
        assert_eq!(files["guards.toml"], b"guards.toml");
    }
}
