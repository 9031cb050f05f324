//! Airlock's storage: one SQLite file per profile (WAL), schema migrations in code,
//! conversations and messages, and the append-only, hash-chained event log every request step
//! writes to (the audit log).
//!
//! Secrets never reach this crate's tables: every event payload goes through [`Redactor`]
//! (personal data redacted, values of secret-named keys withheld) before it is hashed and
//! written.

mod chain;
mod checkpoint;
mod clock;
mod conversations;
mod error;
mod events;
mod export;
mod migrations;
mod open;
pub mod redact;
mod spend;
mod verify;

pub use conversations::{ConversationId, StoredMessage};
pub use error::StoreError;
pub use events::StoredEvent;
pub use export::ExportFormat;
pub use open::{default_data_dir, Store, StoreOptions, DATABASE_FILE};
pub use redact::Redactor;
pub use spend::SpendStatus;
pub use verify::{AuditProblem, AuditProblemKind, AuditReport};
