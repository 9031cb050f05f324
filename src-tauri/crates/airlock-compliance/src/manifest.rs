//! `manifest.json`: what the package holds, signed as a whole by `manifest.sig`.

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Period;

/// The package format this crate writes and verifies.
pub const FORMAT: &str = "airlock-evidence-v1";
/// The manifest's file name.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The signature's file name: 128 hex digits (the Ed25519 signature over the exact bytes of
/// `manifest.json`) and a newline.
pub const SIGNATURE_FILE: &str = "manifest.sig";
/// The audit rows of the period, one JSON object per line.
pub const AUDIT_FILE: &str = "audit.jsonl";
/// The signed checkpoints in and just after the period.
pub const CHECKPOINTS_FILE: &str = "checkpoints.json";
/// The verification of the whole live audit chain at export time.
pub const CHAIN_FILE: &str = "chain-verification.json";
/// The copies of the policy files, under this directory.
pub const POLICIES_DIR: &str = "policies";
/// The policy files with their SHA-256 and the versions in force during the period.
pub const POLICIES_FILE: &str = "policies.json";
/// The approvals created or settled in the period.
pub const APPROVALS_FILE: &str = "approvals.json";
/// The summary for humans, in Markdown.
pub const REPORT_MD: &str = "report.md";
/// The summary for humans, as one self-contained printable HTML page.
pub const REPORT_HTML: &str = "report.html";

/// Files every package lists in its manifest.
pub(crate) const REQUIRED_FILES: [&str; 7] = [
    AUDIT_FILE,
    CHECKPOINTS_FILE,
    CHAIN_FILE,
    POLICIES_FILE,
    APPROVALS_FILE,
    REPORT_MD,
    REPORT_HTML,
];

/// The contents of `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// The Airlock version that wrote the package.
    pub airlock_version: String,
    /// The period covered.
    pub period: Period,
    /// When the package was written (UTC, RFC 3339).
    pub created_at: String,
    /// The installation's audit public key (64 hex digits): it signed `manifest.sig` and the
    /// audit checkpoints.
    pub public_key: String,
    /// The audit rows in `audit.jsonl`.
    pub audit: AuditRange,
    /// Every other file of the package (all but `manifest.json` and `manifest.sig`), by path
    /// relative to the package directory with `/` separators, in path order.
    pub files: Vec<FileEntry>,
}

/// Which audit rows a package holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRange {
    /// How many rows.
    pub rows: u64,
    /// The first row's `seq`.
    pub first_seq: Option<i64>,
    /// The last row's `seq`.
    pub last_seq: Option<i64>,
    /// The period's anchor: the first row's `prev_hash` (hex), i.e. the hash of the row before
    /// the period, taken as given.
    pub anchor: Option<String>,
}

/// One file of the package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative path, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes (hex).
    pub sha256: String,
}

/// A key's fingerprint for people to compare: the first 16 bytes of the SHA-256 of the 32
/// public key bytes, as 8 groups of 4 hex digits (`3f2a 91c0 …`).
#[must_use]
pub fn fingerprint(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    hex::encode(&digest[..16])
        .as_bytes()
        .chunks(4)
        .map(|group| String::from_utf8_lossy(group).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;

    #[test]
    fn a_fingerprint_is_eight_groups_and_differs_between_keys() {
        let a = fingerprint(&SigningKey::from_bytes(&[1; 32]).verifying_key());
        let b = fingerprint(&SigningKey::from_bytes(&[2; 32]).verifying_key());
        assert_eq!(a.split(' ').count(), 8);
        assert!(a.split(' ').all(|g| g.len() == 4));
        assert_ne!(a, b);
    }
}
