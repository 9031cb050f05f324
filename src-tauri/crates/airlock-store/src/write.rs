//! Short write transactions: `BEGIN IMMEDIATE`, the caller's statements, commit; rolled back
//! when any of them fails.

use rusqlite::{Transaction, TransactionBehavior};

use crate::{Store, StoreError};

/// Why a write transaction failed: SQLite, or a check of the caller's.
#[derive(Debug)]
pub(crate) enum WriteError {
    Sqlite(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for WriteError {
    fn from(err: rusqlite::Error) -> Self {
        Self::Sqlite(err)
    }
}

impl From<StoreError> for WriteError {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

impl Store {
    /// Runs `work` in one immediate transaction and commits it.
    pub(crate) fn write<T>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> Result<T, WriteError>,
    ) -> Result<T, StoreError> {
        let run = || {
            let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
            let value = work(&tx)?;
            tx.commit()?;
            Ok(value)
        };
        run().map_err(|err| match err {
            WriteError::Sqlite(err) => self.error(err),
            WriteError::Store(err) => err,
        })
    }
}
