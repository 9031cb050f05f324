//! Evidence packages for auditors: a period's audit rows, checkpoints, policy versions and
//! approvals, signed with the installation's audit key, and their offline verifier.
//!
//! [`write_package`] creates a directory holding:
//!
//! | file | contents |
//! | --- | --- |
//! | `audit.jsonl` | every audit row of the period exactly as stored, one JSON object a line: `seq`, `created_at`, `trace_id`, `kind`, `payload` (the stored JSON text, as a string), `prev_hash` and `hash` (hex) |
//! | `checkpoints.json` | the signed checkpoints of those rows and the first one after them: `seq`, `hash`, `signature`, `public_key` (hex), `created_at` |
//! | `chain-verification.json` | the whole live audit chain verified at export time ([`LiveChain`]), broken or not |
//! | `policies/` | the policy files (`*.cedar`, `*.cedarschema`, `principals.toml`, `guards.toml`, `mcp-servers.toml`) as they are at export time |
//! | `policies.json` | each copied file with its SHA-256, and per file the version in force at the period's start and every change within it (from the `policy_changed` audit events) |
//! | `approvals.json` | the approvals requested, decided, finished or expired in the period |
//! | `report.md`, `report.html` | the summary for people (the HTML self-contained and printable) |
//! | `manifest.json` | format, Airlock version, period, time written, the audit public key, the audit range and its anchor, and every other file's path, size and SHA-256 ([`Manifest`]) |
//! | `manifest.sig` | the Ed25519 signature over the exact bytes of `manifest.json`, 128 hex digits |
//!
//! The period's rows are one unbroken stretch of the chain: the first row's `prev_hash` is
//! taken as given and recorded in the manifest as the period's anchor; every later row must
//! link to the one before it. [`verify_package`] recomputes each row's hash with the store's
//! own rules ([`airlock_store::AuditRow::computed_hash`]).
//!
//! ```no_run
//! use airlock_compliance::{verify_package, write_package, EvidenceRequest, Period};
//! # fn run(store: &airlock_store::Store, key: &ed25519_dalek::SigningKey)
//! #     -> Result<(), airlock_compliance::EvidenceError> {
//! let request = EvidenceRequest {
//!     period: Period::parse("2026-11-01", "2026-11-30")?,
//!     policy_dir: "policy".into(),
//!     out: "evidence-2026-11".into(),
//! };
//! let summary = write_package(store, key, &request)?;
//! assert!(verify_package(&summary.dir).ok);
//! # Ok(()) }
//! ```

mod error;
mod manifest;
mod period;
mod policies;
mod records;
mod report;
mod verify;
mod write;

#[cfg(test)]
mod tests;

pub use error::EvidenceError;
pub use manifest::{
    fingerprint, AuditRange, FileEntry, Manifest, APPROVALS_FILE, AUDIT_FILE, CHAIN_FILE,
    CHECKPOINTS_FILE, FORMAT, MANIFEST_FILE, POLICIES_DIR, POLICIES_FILE, REPORT_HTML, REPORT_MD,
    SIGNATURE_FILE,
};
pub use period::Period;
pub use records::{ChainProblem, LiveChain};
pub use verify::{verify_package, PackageProblem, VerifyReport, MAX_LISTED_PROBLEMS};
pub use write::{write_package, EvidenceRequest, PackageSummary};
