//! The JSON records of the package's files, shared by the writer, the report and the verifier.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One line of `audit.jsonl`: an audit row exactly as stored. `payload` is the stored JSON
/// text as a string (byte for byte what was hashed), the hashes are hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditLine {
    pub(crate) seq: i64,
    pub(crate) created_at: String,
    pub(crate) trace_id: String,
    pub(crate) kind: String,
    pub(crate) payload: String,
    pub(crate) prev_hash: String,
    pub(crate) hash: String,
}

/// One signed checkpoint in `checkpoints.json`, bytes in hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckpointEntry {
    pub(crate) seq: i64,
    pub(crate) hash: String,
    pub(crate) signature: String,
    pub(crate) public_key: String,
    pub(crate) created_at: String,
}

/// `chain-verification.json`: the whole live audit chain verified when the package was
/// written (not only the period's rows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveChain {
    /// When it was verified (UTC, RFC 3339).
    pub verified_at: String,
    /// The key checkpoints had to be signed with (hex).
    pub trusted_key: String,
    /// Whether every row and checkpoint verified.
    pub intact: bool,
    /// Rows found intact.
    pub rows_checked: u64,
    /// Checkpoints verified.
    pub checkpoints_checked: u64,
    /// The newest intact row.
    pub last_seq: Option<i64>,
    /// The newest row a verified checkpoint vouches for.
    pub last_checkpointed_seq: Option<i64>,
    /// Rows after the newest checkpoint (protected by the chain alone).
    pub unsigned_rows: u64,
    /// The first problem, when the chain is broken.
    pub first_problem: Option<ChainProblem>,
}

/// The first problem the live chain's verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainProblem {
    /// The first row affected.
    pub seq: i64,
    /// What happened to it (`edited`, `deleted`, `inserted`, …).
    pub kind: String,
    /// The verifier's message.
    pub message: String,
}

/// `policies.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PoliciesRecord {
    /// The files copied into `policies/` as they were when the package was written.
    pub(crate) files: Vec<PolicyFileEntry>,
    /// Per file, the versions in force during the period.
    pub(crate) versions: Vec<PolicyVersions>,
}

/// A copied policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PolicyFileEntry {
    pub(crate) name: String,
    pub(crate) path: String,
    pub(crate) size: u64,
    pub(crate) sha256: String,
}

/// The versions of one policy file in force during the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PolicyVersions {
    pub(crate) file: String,
    /// SHA-256 of the version in force when the period started.
    pub(crate) sha256_at_start: Option<String>,
    /// How that was established.
    pub(crate) start_source: String,
    /// Every change within the period, oldest first.
    pub(crate) changes: Vec<PolicyChange>,
    /// SHA-256 of the version in force when the period ended.
    pub(crate) sha256_at_end: Option<String>,
    /// Whether the copy in `policies/` is that version.
    pub(crate) copy_is_version_at_end: bool,
}

/// A `policy_changed` audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PolicyChange {
    /// Its audit row.
    pub(crate) seq: i64,
    pub(crate) at: String,
    pub(crate) file: String,
    pub(crate) by: String,
    pub(crate) sha256_from: Option<String>,
    pub(crate) sha256_to: Option<String>,
}

/// One approval request in `approvals.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ApprovalEntry {
    pub(crate) id: String,
    pub(crate) trace_id: String,
    pub(crate) requester: String,
    pub(crate) tool: String,
    /// Redacted as audit payloads are.
    pub(crate) args: Value,
    pub(crate) approver_group: String,
    pub(crate) risk: String,
    pub(crate) reason: String,
    pub(crate) status: String,
    pub(crate) created_at: String,
    pub(crate) expires_at: String,
    pub(crate) decided_by: Option<String>,
    pub(crate) decided_at: Option<String>,
    pub(crate) comment: Option<String>,
    pub(crate) finished_at: Option<String>,
}
