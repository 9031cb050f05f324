//! The spend ledger: what each principal spent, or asked to spend, through which tool, under
//! which governor decision. Budgets sum it with [`Store::spend_since`].
//!
//! A spend is recorded once per decision (`decision_id` is unique). Its status starts as given
//! (usually [`SpendStatus::Pending`]) and can move from pending to approved or rejected once;
//! a decided spend does not change (record a new decision instead). Pending and approved spends
//! count against a budget; rejected ones do not.

use std::fmt;

use rusqlite::{params, ErrorCode, OptionalExtension};
use serde::Serialize;

use crate::{clock, Store, StoreError};

/// Where a spend stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpendStatus {
    /// Asked for, not yet decided: counts against the budget.
    Pending,
    /// Allowed: counts against the budget.
    Approved,
    /// Refused: does not count.
    Rejected,
}

impl SpendStatus {
    /// The name stored in the ledger.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }
}

impl fmt::Display for SpendStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Store {
    /// Records a spend of `amount_cents` by `principal` through `tool` under `decision_id`.
    ///
    /// # Errors
    /// [`StoreError::NegativeSpend`], [`StoreError::DuplicateDecision`] when the decision is
    /// already recorded, or another [`StoreError`].
    pub fn record_spend(
        &self,
        principal: &str,
        amount_cents: i64,
        status: SpendStatus,
        decision_id: &str,
        tool: &str,
    ) -> Result<(), StoreError> {
        if amount_cents < 0 {
            return Err(StoreError::NegativeSpend { amount_cents });
        }
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO spend_ledger (principal, amount_cents, status, decision_id, tool,
                                           created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    principal,
                    amount_cents,
                    status.as_str(),
                    decision_id,
                    tool,
                    clock::now()
                ])
            });
        match inserted {
            Ok(_) => Ok(()),
            Err(err) if err.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                let exists = self
                    .spend_status(decision_id)
                    .map(|found| found.is_some())
                    .unwrap_or(false);
                if exists {
                    Err(StoreError::DuplicateDecision {
                        decision_id: decision_id.to_owned(),
                    })
                } else {
                    Err(self.error(err))
                }
            }
            Err(err) => Err(self.error(err)),
        }
    }

    /// Moves the spend of `decision_id` to `status`: from pending to anything; setting the
    /// status it already has does nothing.
    ///
    /// # Errors
    /// [`StoreError::UnknownDecision`], [`StoreError::SpendDecided`] when it was already
    /// approved or rejected and `status` differs, or another [`StoreError`].
    pub fn set_spend_status(
        &self,
        decision_id: &str,
        status: SpendStatus,
    ) -> Result<(), StoreError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE spend_ledger SET status = ?2 WHERE decision_id = ?1 AND status = 'pending'",
            )
            .and_then(|mut stmt| stmt.execute(params![decision_id, status.as_str()]))
            .map_err(|err| self.error(err))?;
        if changed == 1 {
            return Ok(());
        }
        match self.spend_status(decision_id)? {
            None => Err(StoreError::UnknownDecision {
                decision_id: decision_id.to_owned(),
            }),
            Some(current) if current == status => Ok(()),
            Some(current) => Err(StoreError::SpendDecided {
                decision_id: decision_id.to_owned(),
                status: current,
            }),
        }
    }

    /// The status of the spend recorded under `decision_id`, if any.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails or the stored status is unknown.
    pub fn spend_status(&self, decision_id: &str) -> Result<Option<SpendStatus>, StoreError> {
        let status: Option<String> = self
            .conn
            .prepare_cached("SELECT status FROM spend_ledger WHERE decision_id = ?1")
            .and_then(|mut stmt| stmt.query_row([decision_id], |row| row.get(0)).optional())
            .map_err(|err| self.error(err))?;
        status
            .map(|status| match status.as_str() {
                "pending" => Ok(SpendStatus::Pending),
                "approved" => Ok(SpendStatus::Approved),
                "rejected" => Ok(SpendStatus::Rejected),
                other => Err(StoreError::Malformed(format!(
                    "spend for decision {decision_id} has unknown status '{other}'"
                ))),
            })
            .transpose()
    }

    /// The cents `principal` spent (pending and approved) at or after `since_rfc3339`.
    ///
    /// # Errors
    /// [`StoreError::InvalidTime`] for a bad time, or another [`StoreError`].
    pub fn spend_since(&self, principal: &str, since_rfc3339: &str) -> Result<i64, StoreError> {
        let since = clock::normalize(since_rfc3339)?;
        self.conn
            .prepare_cached(
                "SELECT coalesce(sum(amount_cents), 0) FROM spend_ledger
                 WHERE principal = ?1 AND created_at >= ?2 AND status IN ('pending', 'approved')",
            )
            .and_then(|mut stmt| stmt.query_row(params![principal, since], |row| row.get(0)))
            .map_err(|err| self.error(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPOCH: &str = "2000-01-01T00:00:00Z";

    #[test]
    fn pending_and_approved_spends_count_rejected_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .record_spend("alice", 1_500, SpendStatus::Pending, "d1", "order_parts")
            .unwrap();
        store
            .record_spend("alice", 250, SpendStatus::Approved, "d2", "book_freight")
            .unwrap();
        store
            .record_spend("alice", 9_999, SpendStatus::Rejected, "d3", "order_parts")
            .unwrap();
        store
            .record_spend("bob", 700, SpendStatus::Pending, "d4", "order_parts")
            .unwrap();
        store
            .record_spend("alice", 0, SpendStatus::Pending, "d5", "order_parts")
            .unwrap();
        assert_eq!(store.spend_since("alice", EPOCH).unwrap(), 1_750);
        assert_eq!(store.spend_since("bob", EPOCH).unwrap(), 700);
        assert_eq!(store.spend_since("carol", EPOCH).unwrap(), 0);

        store.set_spend_status("d1", SpendStatus::Rejected).unwrap();
        assert_eq!(store.spend_since("alice", EPOCH).unwrap(), 250);
        store.set_spend_status("d4", SpendStatus::Approved).unwrap();
        store.set_spend_status("d4", SpendStatus::Approved).unwrap();
        assert_eq!(store.spend_since("bob", EPOCH).unwrap(), 700);
        assert_eq!(
            store.spend_status("d4").unwrap(),
            Some(SpendStatus::Approved)
        );
        assert_eq!(store.spend_status("nope").unwrap(), None);
    }

    #[test]
    fn only_spends_since_the_given_time_count() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .record_spend("alice", 100, SpendStatus::Approved, "old", "t")
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let cut = clock::now();
        store
            .record_spend("alice", 40, SpendStatus::Approved, "new", "t")
            .unwrap();
        assert_eq!(store.spend_since("alice", &cut).unwrap(), 40);
        assert_eq!(store.spend_since("alice", EPOCH).unwrap(), 140);
        assert_eq!(
            store
                .spend_since("alice", "2999-01-01T00:00:00+01:00")
                .unwrap(),
            0
        );
        let err = store.spend_since("alice", "today").unwrap_err();
        assert!(matches!(err, StoreError::InvalidTime { .. }), "{err}");
    }

    #[test]
    fn bad_spends_and_status_changes_are_refused_with_the_next_step() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let err = store
            .record_spend("alice", -1, SpendStatus::Pending, "d1", "t")
            .unwrap_err();
        assert!(
            matches!(err, StoreError::NegativeSpend { amount_cents: -1 }),
            "{err}"
        );
        store
            .record_spend("alice", 10, SpendStatus::Pending, "d1", "t")
            .unwrap();
        let err = store
            .record_spend("bob", 10, SpendStatus::Pending, "d1", "t")
            .unwrap_err();
        assert!(matches!(err, StoreError::DuplicateDecision { .. }), "{err}");
        assert!(err.to_string().contains("set_spend_status"));
        let err = store
            .set_spend_status("ghost", SpendStatus::Approved)
            .unwrap_err();
        assert!(matches!(err, StoreError::UnknownDecision { .. }), "{err}");
        store.set_spend_status("d1", SpendStatus::Approved).unwrap();
        let err = store
            .set_spend_status("d1", SpendStatus::Rejected)
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::SpendDecided {
                    status: SpendStatus::Approved,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("already approved"));
        // The table itself refuses what the API refuses.
        for sql in [
            "UPDATE spend_ledger SET amount_cents = 1",
            "UPDATE spend_ledger SET status = 'pending'",
            "DELETE FROM spend_ledger",
            "INSERT INTO spend_ledger (principal, amount_cents, status, decision_id, tool)
             VALUES ('x', -5, 'pending', 'd9', 't')",
            "INSERT INTO spend_ledger (principal, amount_cents, status, decision_id, tool)
             VALUES ('x', 5, 'maybe', 'd9', 't')",
            "INSERT INTO spend_ledger (principal, amount_cents, status, decision_id, tool)
             VALUES ('x', 5.5, 'pending', 'd9', 't')",
        ] {
            assert!(store.conn.execute(sql, []).is_err(), "{sql}");
        }
        assert_eq!(store.spend_since("alice", EPOCH).unwrap(), 10);
    }
}
