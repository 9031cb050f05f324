//! Airlock's storage: one SQLite file per profile (WAL), schema migrations in code,
//! conversations and messages, the spend ledger budgets are checked against, the plant's
//! documents with their vector and full-text search indexes (`sqlite-vec`'s `vec0` and FTS5,
//! see [`Store::begin_version`] and [`Store::nearest_chunks`]), and the append-only,
//! hash-chained event log every request step writes to (the audit log).
//!
//! Secrets never reach this crate's tables: every event payload goes through [`Redactor`]
//! (personal data redacted, values of secret-named keys withheld) before it is hashed and
//! written.
//!
//! # The audit log
//!
//! * **Durable.** The connection runs with `PRAGMA synchronous = FULL` (WAL): an append returns
//!   only after its commit is fsynced. [`Store::append_events`] writes a batch in one
//!   transaction, one fsync.
//! * **One chain, even with several writers.** Appends run in `BEGIN IMMEDIATE`; each row
//!   stores `prev_hash` (the previous row's `hash`, 32 zero bytes for the first) and
//!   `hash = SHA-256("airlock-audit-v1" || prev_hash || u64be(8) || i64be(seq) ||
//!   u64be(len) || created_at || u64be(len) || trace_id || u64be(len) || kind || u64be(len) ||
//!   payload)`, each text field as the UTF-8 bytes stored.
//! * **Signed checkpoints.** With [`Store::set_audit_signer`], an Ed25519 signature over
//!   `"airlock-audit-checkpoint-v1" || i64be(seq) || hash` of the newest row is stored every
//!   [`StoreOptions::checkpoint_every`] rows (in the appending transaction), on
//!   [`Store::checkpoint`], and when the store is dropped with unsigned rows (best effort).
//! * **Verification.** [`Store::verify_audit`] streams the log and names the first edited,
//!   deleted, inserted or reordered row, a broken link, a bad or untrusted checkpoint, or a
//!   truncated tail ([`AuditProblemKind`]); [`Store::open_read_only`] lets an auditor verify a
//!   copy. Rows after the newest checkpoint are protected by the chain alone: whoever can write
//!   the file can append correctly hashed rows there ([`AuditReport::unsigned_rows`]).
//! * **Export.** [`Store::export_audit`] streams rows as a JSON array or CSV.

mod accounts;
mod approvals;
mod audit_query;
mod chain;
mod checkpoint;
mod clock;
mod connections;
mod conversations;
mod documents;
mod error;
mod events;
mod evidence;
mod export;
mod knn;
mod metrics;
mod migrations;
mod open;
pub mod redact;
mod search;
mod settings;
mod spend;
mod standing;
pub mod subjects;
mod vec_extension;
mod verify;
mod write;

pub use accounts::LocalAccount;
pub use approvals::{ApprovalRecord, ApprovalStatus, ApprovalVerdict, NewApproval};
pub use audit_query::{AuditEntry, AuditFilter, MAX_AUDIT_ROWS};
pub use connections::ConnectionRecord;
pub use conversations::{ConversationId, ConversationSummary, StoredMessage};
pub use documents::{
    Activation, DocumentSummary, NewChunk, NewVersion, VersionStart, EMBEDDING_DIMENSION,
};
pub use error::StoreError;
pub use events::StoredEvent;
pub use evidence::{audit_checkpoint_message, AuditRow, CheckpointRecord};
pub use export::ExportFormat;
pub use metrics::{LabelledCount, MetricsSnapshot, Observation};
pub use open::{default_data_dir, Store, StoreOptions, DATABASE_FILE};
pub use redact::Redactor;
pub use search::{ChunkHit, ChunkRecord, Clearance, OpenedChunk, SearchFilter, MAX_SEARCH_RESULTS};
pub use spend::SpendStatus;
pub use standing::PrincipalStanding;
pub use subjects::{
    is_identity_key, ErasureReport, SubjectConversation, SubjectDocument, SubjectDocumentVersion,
    SubjectExport, SubjectSpend, IDENTITY_KEYS, KIND_IDENTITY_KEYS, PSEUDONYM_PREFIX,
};
pub use verify::{AuditProblem, AuditProblemKind, AuditReport};
