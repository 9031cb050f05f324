//! Airlock's storage: one SQLite file per profile (WAL), schema migrations in code,
//! conversations and messages, and the append-only, hash-chained event log every request step
//! writes to (the audit log).
//!
//! Secrets never reach this crate's tables.

mod chain;
mod clock;
mod conversations;
mod error;
mod events;
mod migrations;
mod open;

pub use conversations::{ConversationId, StoredMessage};
pub use error::StoreError;
pub use events::StoredEvent;
pub use open::{default_data_dir, Store, StoreOptions, DATABASE_FILE};
