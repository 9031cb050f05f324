//! What the governor reads and writes beyond its policy: cumulative spend (budgets) and each
//! principal's standing with the injection screen (warnings, blacklistings), so both outlive
//! the process that decided.

use std::collections::BTreeMap;
use std::sync::Mutex;

use time::OffsetDateTime;

/// Why the ledger could not be read or written. The governor fails closed on it.
#[derive(Debug, thiserror::Error)]
#[error("cannot use the governor's ledger: {0}")]
pub struct LedgerError(pub String);

/// A principal's last injection warning and blacklisting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    /// When the principal was last warned.
    pub warned_at: Option<OffsetDateTime>,
    /// The request (trace id) the warning was for; its other intents are the same offence.
    pub warned_for: Option<String>,
    /// Until when the principal is blacklisted; free again at that instant.
    pub blacklisted_until: Option<OffsetDateTime>,
}

/// The governor's persistent memory.
pub trait Ledger {
    /// What `principal` has spent or has pending since `since`, in integer cents.
    ///
    /// # Errors
    /// [`LedgerError`] when the ledger cannot be read.
    fn spent_cents(&self, principal: &str, since: OffsetDateTime) -> Result<i64, LedgerError>;

    /// The standing of `principal` (default when none was recorded).
    ///
    /// # Errors
    /// [`LedgerError`] when the ledger cannot be read.
    fn standing(&self, principal: &str) -> Result<Standing, LedgerError>;

    /// Records the standing of `principal`.
    ///
    /// # Errors
    /// [`LedgerError`] when the ledger cannot be written.
    fn set_standing(&self, principal: &str, standing: &Standing) -> Result<(), LedgerError>;
}

/// A ledger held in memory: what `airlock policy eval` and `airlock policy test` use to
/// decide "what if" without touching the real one.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    spends: Mutex<BTreeMap<String, Vec<(OffsetDateTime, i64)>>>,
    standings: Mutex<BTreeMap<String, Standing>>,
}

impl MemoryLedger {
    /// Records `cents` spent by `principal` at `at`.
    pub fn record(&self, principal: &str, at: OffsetDateTime, cents: i64) {
        self.spends
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(principal.to_owned())
            .or_default()
            .push((at, cents));
    }
}

impl Ledger for MemoryLedger {
    fn spent_cents(&self, principal: &str, since: OffsetDateTime) -> Result<i64, LedgerError> {
        let spends = self
            .spends
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(spends.get(principal).map_or(0, |spends| {
            spends
                .iter()
                .filter(|(at, _)| *at >= since)
                .map(|(_, cents)| cents)
                .sum()
        }))
    }

    fn standing(&self, principal: &str) -> Result<Standing, LedgerError> {
        Ok(self
            .standings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(principal)
            .cloned()
            .unwrap_or_default())
    }

    fn set_standing(&self, principal: &str, standing: &Standing) -> Result<(), LedgerError> {
        self.standings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(principal.to_owned(), standing.clone());
        Ok(())
    }
}
