//! What an evidence package (`airlock-compliance`) reads from the store: the audit rows of a
//! period exactly as stored, the signed checkpoints around them, the events of one kind, and the
//! public key the installation signs checkpoints with.
//!
//! The hash rules are exposed too ([`AuditRow::computed_hash`], [`audit_checkpoint_message`]),
//! so that a package's verifier recomputes row hashes and checks checkpoint signatures with the
//! very code that wrote them, not a copy of it.

use airlock_core::EventKind;
use ed25519_dalek::VerifyingKey;
use rusqlite::types::ValueRef;
use rusqlite::{OptionalExtension, Row};

use crate::chain::{row_hash, RowFields};
use crate::checkpoint::checkpoint_message;
use crate::{clock, Store, StoreError, StoredEvent};

/// One audit row exactly as stored: the text columns byte for byte and both hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditRow<'a> {
    /// Position in the log.
    pub seq: i64,
    /// UTC time, RFC 3339, as stored.
    pub created_at: &'a str,
    /// The request it belongs to.
    pub trace_id: &'a str,
    /// The step's kind.
    pub kind: &'a str,
    /// The payload's JSON text, as stored and hashed.
    pub payload: &'a str,
    /// The hash of the row before it (32 bytes in an intact log).
    pub prev_hash: &'a [u8],
    /// This row's stored hash (32 bytes in an intact log).
    pub hash: &'a [u8],
}

impl AuditRow<'_> {
    /// The hash this row should have: SHA-256 over its fields chained to its `prev_hash`, by
    /// the rules every row is written with (see the crate docs). `None` when `prev_hash` is not
    /// 32 bytes long.
    #[must_use]
    pub fn computed_hash(&self) -> Option<[u8; 32]> {
        let prev = <&[u8; 32]>::try_from(self.prev_hash).ok()?;
        Some(row_hash(
            prev,
            self.seq,
            RowFields {
                created_at: self.created_at.as_bytes(),
                trace_id: self.trace_id.as_bytes(),
                kind: self.kind.as_bytes(),
                payload: self.payload.as_bytes(),
            },
        ))
    }
}

/// The bytes a checkpoint of row `seq` with `hash` signs (Ed25519).
#[must_use]
pub fn audit_checkpoint_message(seq: i64, hash: &[u8; 32]) -> Vec<u8> {
    checkpoint_message(seq, hash)
}

/// A signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRecord {
    /// The row it vouches for (and, through the chain, every row before it).
    pub seq: i64,
    /// That row's hash.
    pub hash: Vec<u8>,
    /// The Ed25519 signature over [`audit_checkpoint_message`].
    pub signature: Vec<u8>,
    /// The public key that made it.
    pub public_key: Vec<u8>,
    /// When it was written (not signed).
    pub created_at: String,
}

const ROW_COLUMNS: [&str; 7] = [
    "seq",
    "created_at",
    "trace_id",
    "kind",
    "payload",
    "prev_hash",
    "hash",
];

impl Store {
    /// Calls `each` with every audit row from the first one written at or after `from` to the
    /// last one written at or before `to` (RFC 3339, both ends included), in `seq` order, from
    /// one consistent snapshot, and returns how many there were. The rows form one unbroken
    /// stretch of the chain (times are assigned under the write lock, so they only grow).
    ///
    /// # Errors
    /// [`StoreError::InvalidTime`] for a bad bound, [`StoreError::Malformed`] for a row whose
    /// text is not UTF-8 or whose hash is not a blob (run the audit verification), any error
    /// `each` returns, or another [`StoreError`].
    pub fn for_each_audit_row<E: From<StoreError>>(
        &self,
        from: &str,
        to: &str,
        mut each: impl FnMut(&AuditRow<'_>) -> Result<(), E>,
    ) -> Result<u64, E> {
        let from = clock::normalize(from)?;
        let to = clock::normalize(to)?;
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(|err| self.error(err))?;
        let bounds: (Option<i64>, Option<i64>) = tx
            .query_row(
                "SELECT (SELECT min(seq) FROM events WHERE created_at >= ?1),
                        (SELECT max(seq) FROM events WHERE created_at <= ?2)",
                [&from, &to],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(|err| self.error(err))?;
        let (Some(first), Some(last)) = bounds else {
            return Ok(0);
        };
        let mut stmt = tx
            .prepare(
                "SELECT seq, created_at, trace_id, kind, payload, prev_hash, hash FROM events
                 WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
            )
            .map_err(|err| self.error(err))?;
        let mut rows = stmt.query([first, last]).map_err(|err| self.error(err))?;
        let mut count = 0;
        while let Some(row) = rows.next().map_err(|err| self.error(err))? {
            each(&self.audit_row(row)?)?;
            count += 1;
        }
        Ok(count)
    }

    fn audit_row<'r>(&self, row: &'r Row<'_>) -> Result<AuditRow<'r>, StoreError> {
        let seq: i64 = row.get(0).map_err(|err| self.error(err))?;
        let value = |i: usize| row.get_ref(i).map_err(|err| self.error(err));
        let malformed = |i: usize, what: &str| {
            StoreError::Malformed(format!(
                "audit row {seq}: {} is not {what}; run `airlock audit verify` to find the \
                 first damaged row",
                ROW_COLUMNS[i]
            ))
        };
        let text = |i: usize| -> Result<&'r str, StoreError> {
            match value(i)? {
                ValueRef::Text(bytes) => {
                    std::str::from_utf8(bytes).map_err(|_| malformed(i, "UTF-8 text"))
                }
                _ => Err(malformed(i, "text")),
            }
        };
        let blob = |i: usize| -> Result<&'r [u8], StoreError> {
            match value(i)? {
                ValueRef::Blob(bytes) => Ok(bytes),
                _ => Err(malformed(i, "a hash")),
            }
        };
        Ok(AuditRow {
            seq,
            created_at: text(1)?,
            trace_id: text(2)?,
            kind: text(3)?,
            payload: text(4)?,
            prev_hash: blob(5)?,
            hash: blob(6)?,
        })
    }

    /// The signed checkpoints of rows `first` to `last`, then the first one after `last` (it
    /// vouches for the rows after the newest checkpoint within the range), in `seq` order.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn audit_checkpoints_covering(
        &self,
        first: i64,
        last: i64,
    ) -> Result<Vec<CheckpointRecord>, StoreError> {
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(|err| self.error(err))?;
        let mut within = tx
            .prepare(
                "SELECT seq, hash, signature, public_key, created_at FROM checkpoints
                 WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq",
            )
            .map_err(|err| self.error(err))?;
        let mut checkpoints = within
            .query_map([first, last], checkpoint)
            .map_err(|err| self.error(err))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| self.error(err))?;
        let after = tx
            .query_row(
                "SELECT seq, hash, signature, public_key, created_at FROM checkpoints
                 WHERE seq > ?1 ORDER BY seq LIMIT 1",
                [last],
                checkpoint,
            )
            .optional()
            .map_err(|err| self.error(err))?;
        checkpoints.extend(after);
        Ok(checkpoints)
    }

    /// Every event of `kind`, oldest first, names of live subjects put back as every reader
    /// of payloads does (e.g. each `policy_changed`, to tell which policy was in force when
    /// and who changed it).
    ///
    /// # Errors
    /// [`StoreError::Malformed`] for a payload that is not JSON, or another [`StoreError`].
    pub fn events_of_kind(&self, kind: EventKind) -> Result<Vec<StoredEvent>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, trace_id, kind, payload, created_at FROM events
                 WHERE kind = ?1 ORDER BY seq",
            )
            .map_err(|err| self.error(err))?;
        let rows = stmt
            .query_map([kind.as_str()], crate::events::raw_event)
            .map_err(|err| self.error(err))?;
        let subjects = self.subjects()?;
        rows.map(|row| self.stored_event(&subjects, row.map_err(|err| self.error(err))?))
            .collect()
    }

    /// The public key of the newest signed checkpoint: the key this installation signs its
    /// audit log with, read without the keychain. `None` when nothing was signed yet or the
    /// stored key is not a valid Ed25519 key.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn newest_checkpoint_key(&self) -> Result<Option<VerifyingKey>, StoreError> {
        let key: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT public_key FROM checkpoints ORDER BY seq DESC LIMIT 1",
                [],
                |row| row.get(0),
            )
            .optional()
            .map_err(|err| self.error(err))?;
        Ok(key
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .and_then(|bytes| VerifyingKey::from_bytes(&bytes).ok()))
    }
}

fn checkpoint(row: &Row<'_>) -> rusqlite::Result<CheckpointRecord> {
    Ok(CheckpointRecord {
        seq: row.get(0)?,
        hash: row.get(1)?,
        signature: row.get(2)?,
        public_key: row.get(3)?,
        created_at: row.get(4)?,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use airlock_core::{Event, TraceId};
    use ed25519_dalek::{Signature, SigningKey, Verifier};
    use serde_json::json;

    use super::*;
    use crate::StoreOptions;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7; 32])
    }

    fn store(dir: &std::path::Path, every: u64) -> Store {
        let options = StoreOptions {
            checkpoint_every: every,
            ..StoreOptions::default()
        };
        let mut store = Store::open_with(dir, &options).unwrap();
        store.set_audit_signer(key());
        store
    }

    fn append(store: &Store, n: usize) {
        for i in 0..n {
            store
                .append_event(&Event::new(
                    &TraceId::new(),
                    EventKind::ToolStarted,
                    json!({"n": i}),
                ))
                .unwrap();
        }
    }

    fn rows(store: &Store, from: &str, to: &str) -> Vec<(i64, [u8; 32], Vec<u8>)> {
        let mut seen = Vec::new();
        store
            .for_each_audit_row::<StoreError>(from, to, |row| {
                seen.push((row.seq, row.computed_hash().unwrap(), row.hash.to_vec()));
                Ok(())
            })
            .unwrap();
        seen
    }

    #[test]
    fn rows_of_a_period_come_in_order_with_hashes_that_recompute() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path(), 0);
        append(&store, 3);
        std::thread::sleep(Duration::from_millis(5));
        let start = clock::now();
        append(&store, 4);
        let all = rows(&store, "2000-01-01T00:00:00Z", "2999-01-01T00:00:00Z");
        assert_eq!(
            all.iter().map(|r| r.0).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6, 7]
        );
        assert!(all
            .iter()
            .all(|(_, computed, stored)| computed[..] == stored[..]));
        let later = rows(&store, &start, "2999-01-01T00:00:00Z");
        assert_eq!(later.iter().map(|r| r.0).collect::<Vec<_>>(), [4, 5, 6, 7]);
        assert!(rows(&store, "2000-01-01T00:00:00Z", "2000-01-02T00:00:00Z").is_empty());
        let err = store
            .for_each_audit_row::<StoreError>("last week", "2999-01-01T00:00:00Z", |_| Ok(()))
            .unwrap_err();
        assert!(matches!(err, StoreError::InvalidTime { .. }), "{err}");
    }

    #[test]
    fn an_edited_field_no_longer_recomputes_to_the_stored_hash() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path(), 0);
        append(&store, 1);
        store
            .for_each_audit_row::<StoreError>(
                "2000-01-01T00:00:00Z",
                "2999-01-01T00:00:00Z",
                |row| {
                    let edited = AuditRow {
                        payload: r#"{"n":1}"#,
                        ..*row
                    };
                    assert_ne!(edited.computed_hash().unwrap()[..], *row.hash);
                    let short = AuditRow {
                        prev_hash: &row.prev_hash[1..],
                        ..*row
                    };
                    assert_eq!(short.computed_hash(), None);
                    Ok(())
                },
            )
            .unwrap();
    }

    #[test]
    fn checkpoints_within_a_range_and_the_next_one_after_it_are_returned() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path(), 2);
        append(&store, 9);
        let seqs = |first, last| -> Vec<i64> {
            store
                .audit_checkpoints_covering(first, last)
                .unwrap()
                .iter()
                .map(|c| c.seq)
                .collect()
        };
        assert_eq!(seqs(3, 5), [4, 6]);
        assert_eq!(seqs(1, 8), [2, 4, 6, 8]);
        assert_eq!(seqs(9, 9), Vec::<i64>::new());
        let found = store.audit_checkpoints_covering(1, 2).unwrap().remove(0);
        let hash: [u8; 32] = found.hash.clone().try_into().unwrap();
        let signature = Signature::from_slice(&found.signature).unwrap();
        key()
            .verifying_key()
            .verify(&audit_checkpoint_message(found.seq, &hash), &signature)
            .unwrap();
        assert_eq!(
            store.newest_checkpoint_key().unwrap(),
            Some(key().verifying_key())
        );
    }

    #[test]
    fn events_of_one_kind_come_back_alone_and_an_unsigned_log_has_no_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        append(&store, 2);
        store
            .record(
                &TraceId::new(),
                EventKind::PolicyChanged,
                json!({"file": "plant.cedar", "by": "ada"}),
            )
            .unwrap();
        let changed = store.events_of_kind(EventKind::PolicyChanged).unwrap();
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].seq, 3);
        assert_eq!(changed[0].payload["file"], "plant.cedar");
        assert_eq!(changed[0].payload["by"], "ada", "the name is put back");
        assert_eq!(store.newest_checkpoint_key().unwrap(), None);
    }
}
