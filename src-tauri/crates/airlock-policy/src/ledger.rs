//! Where budgets read cumulative spend from.

use std::collections::BTreeMap;
use std::sync::Mutex;

use time::OffsetDateTime;

/// Why the spend ledger could not be read. The budget layer fails closed on it.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the spend ledger: {0}")]
pub struct LedgerError(pub String);

/// Cumulative spend per principal: pending and approved requests, in integer cents.
pub trait SpendLedger {
    /// What `principal` has spent or has pending since `since`.
    ///
    /// # Errors
    /// [`LedgerError`] when the ledger cannot be read.
    fn spent_cents(&self, principal: &str, since: OffsetDateTime) -> Result<i64, LedgerError>;
}

/// A ledger held in memory: what `airlock policy eval` and `airlock policy test` use to
/// decide "what if" without touching the real ledger.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    entries: Mutex<BTreeMap<String, Vec<(OffsetDateTime, i64)>>>,
}

impl MemoryLedger {
    /// Records `cents` spent by `principal` at `at`.
    pub fn record(&self, principal: &str, at: OffsetDateTime, cents: i64) {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(principal.to_owned())
            .or_default()
            .push((at, cents));
    }
}

impl SpendLedger for MemoryLedger {
    fn spent_cents(&self, principal: &str, since: OffsetDateTime) -> Result<i64, LedgerError> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(entries.get(principal).map_or(0, |spends| {
            spends
                .iter()
                .filter(|(at, _)| *at >= since)
                .map(|(_, cents)| cents)
                .sum()
        }))
    }
}
