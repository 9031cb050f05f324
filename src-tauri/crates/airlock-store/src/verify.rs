//! Verifying the audit log: the hash chain row by row, then the signed checkpoints.
//!
//! [`Store::verify_audit`] streams the `events` table in `seq` order (constant memory) inside
//! one read transaction, so it sees one consistent snapshot while other processes append. It
//! stops at the first problem, which names the first row affected:
//!
//! | kind | what the log shows |
//! | --- | --- |
//! | [`AuditProblemKind::Edited`] | a row's contents no longer match its hash (any column, any byte), or a row differs from what a checkpoint signed (the chain up to it was recomputed) |
//! | [`AuditProblemKind::Deleted`] | a gap in the sequence numbers |
//! | [`AuditProblemKind::Inserted`] | a row that the next row's link skips, or rows shifted one place up |
//! | [`AuditProblemKind::Reordered`] | a row holding what was written at another position |
//! | [`AuditProblemKind::BrokenLink`] | a self-consistent row that does not link to the row before it |
//! | [`AuditProblemKind::UntrustedKey`] | a checkpoint signed by a key not in the trusted list |
//! | [`AuditProblemKind::BadCheckpointSignature`] | a checkpoint whose signature does not verify |
//! | [`AuditProblemKind::Truncated`] | rows missing at the end: a checkpoint or `sqlite_sequence` vouches for rows past the last one |
//!
//! What it cannot see: rows appended after the newest checkpoint by someone who can write the
//! file and recomputes their hashes, or the whole tail cut together with its checkpoints and
//! `sqlite_sequence` entry. [`AuditReport::unsigned_rows`] tells how many rows that concerns;
//! sign often ([`crate::StoreOptions::checkpoint_every`]) and keep a copy of the newest
//! checkpoint elsewhere to close that gap.

use std::fmt;

use ed25519_dalek::{Signature, VerifyingKey};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, Row, Rows};
use serde::Serialize;

use crate::chain::{row_hash, RowFields, GENESIS};
use crate::checkpoint::checkpoint_message;
use crate::{Store, StoreError};

/// What was wrong with the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditProblemKind {
    /// A row was changed after it was written.
    Edited,
    /// A row is missing (a gap in the sequence).
    Deleted,
    /// A row was added between others.
    Inserted,
    /// Rows were moved (their contents swapped).
    Reordered,
    /// A row does not link to the row before it.
    BrokenLink,
    /// A checkpoint's signature does not verify.
    BadCheckpointSignature,
    /// A checkpoint was signed by a key that is not trusted.
    UntrustedKey,
    /// Rows are missing at the end of the log.
    Truncated,
}

/// The first problem found in the audit log. Its message tells the user what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditProblem {
    /// The first row affected.
    pub seq: i64,
    /// What happened to it.
    pub kind: AuditProblemKind,
    /// The evidence.
    pub detail: String,
}

const RESTORE: &str = "restore the database from a backup and investigate who had access to it";

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (seq, detail) = (self.seq, &self.detail);
        match self.kind {
            AuditProblemKind::Edited => write!(
                f,
                "audit row {seq} was edited after it was written ({detail}): {RESTORE}"
            ),
            AuditProblemKind::Deleted => {
                write!(f, "audit row {seq} was deleted ({detail}): {RESTORE}")
            }
            AuditProblemKind::Inserted => write!(
                f,
                "audit row {seq} was inserted after the fact ({detail}): {RESTORE}"
            ),
            AuditProblemKind::Reordered => {
                write!(f, "audit row {seq} was moved ({detail}): {RESTORE}")
            }
            AuditProblemKind::BrokenLink => write!(
                f,
                "the audit chain is broken at row {seq} ({detail}): {RESTORE}"
            ),
            AuditProblemKind::BadCheckpointSignature => write!(
                f,
                "the signed checkpoint of audit row {seq} does not verify ({detail}): the \
                 checkpoint or the rows it vouches for were forged; {RESTORE}"
            ),
            AuditProblemKind::UntrustedKey => write!(
                f,
                "the checkpoint of audit row {seq} was signed by a key that is not trusted \
                 ({detail}): if that is this installation's audit key, pass it to the \
                 verifier; otherwise treat the log as forged and {RESTORE}"
            ),
            AuditProblemKind::Truncated => write!(
                f,
                "the audit log was truncated: rows from {seq} on are missing ({detail}): \
                 {RESTORE}"
            ),
        }
    }
}

impl std::error::Error for AuditProblem {}

/// The outcome of [`Store::verify_audit`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Rows found intact (all of them when there is no problem).
    pub rows_checked: u64,
    /// Checkpoints whose signature and hash were verified.
    pub checkpoints_checked: u64,
    /// The newest row found intact.
    pub last_seq: Option<i64>,
    /// The newest row vouched for by a verified checkpoint.
    pub last_checkpointed_seq: Option<i64>,
    /// The first problem, if any.
    pub first_problem: Option<AuditProblem>,
}

impl AuditReport {
    /// Whether the log verified without a problem.
    #[must_use]
    pub fn is_intact(&self) -> bool {
        self.first_problem.is_none()
    }

    /// How many rows come after the newest verified checkpoint (protected by the chain only).
    #[must_use]
    pub fn unsigned_rows(&self) -> u64 {
        let last = self.last_seq.unwrap_or(0);
        let signed = self.last_checkpointed_seq.unwrap_or(0);
        u64::try_from(last.saturating_sub(signed)).unwrap_or(0)
    }

    /// The report, or its problem as [`StoreError::Audit`].
    ///
    /// # Errors
    /// [`StoreError::Audit`] when the log is not intact.
    pub fn into_result(self) -> Result<Self, StoreError> {
        match self.first_problem {
            Some(problem) => Err(StoreError::Audit(problem)),
            None => Ok(self),
        }
    }
}

impl Store {
    /// Verifies the whole audit log: every row's hash and link, then every checkpoint's key
    /// (it must be in `trusted`; an empty list trusts no checkpoint), signature and hash, and
    /// that no row is missing at the end. Works on a store opened with
    /// [`Store::open_read_only`]. A tampered log is a report with
    /// [`AuditReport::first_problem`] set, not an error (see [`AuditReport::into_result`]).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn verify_audit(&self, trusted: &[VerifyingKey]) -> Result<AuditReport, StoreError> {
        let report = verify(&self.conn, trusted).map_err(|err| self.error(err))?;
        match &report.first_problem {
            None => tracing::info!(
                rows = report.rows_checked,
                checkpoints = report.checkpoints_checked,
                "audit log verified"
            ),
            Some(problem) => tracing::warn!(%problem, "audit log verification failed"),
        }
        Ok(report)
    }
}

/// Where the chain walk stands: the last intact row and the hash before it.
struct Chain {
    seq: i64,
    hash: [u8; 32],
    hash_before: Option<[u8; 32]>,
}

struct StoredCheckpoint {
    seq: i64,
    hash: Vec<u8>,
    signature: Vec<u8>,
    public_key: Vec<u8>,
}

fn problem(seq: i64, kind: AuditProblemKind, detail: impl Into<String>) -> Option<AuditProblem> {
    Some(AuditProblem {
        seq,
        kind,
        detail: detail.into(),
    })
}

fn verify(conn: &Connection, trusted: &[VerifyingKey]) -> rusqlite::Result<AuditReport> {
    // One snapshot for every statement below.
    let tx = conn.unchecked_transaction()?;
    let mut report = AuditReport::default();
    let mut rows_stmt = tx.prepare(
        "SELECT seq, prev_hash, hash, created_at, trace_id, kind, payload FROM events ORDER BY seq",
    )?;
    let mut checkpoints_stmt =
        tx.prepare("SELECT seq, hash, signature, public_key FROM checkpoints ORDER BY seq")?;
    let mut checkpoints = checkpoints_stmt.query([])?;
    let mut next_checkpoint = read_checkpoint(&mut checkpoints)?;
    let mut chain = Chain {
        seq: 0,
        hash: GENESIS,
        hash_before: None,
    };
    let mut rows = rows_stmt.query([])?;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        if let Some(found) = check_row(&tx, row, seq, &mut chain)? {
            report.first_problem = Some(found);
            return Ok(report);
        }
        report.rows_checked += 1;
        report.last_seq = Some(seq);
        while let Some(checkpoint) = next_checkpoint.take_if(|c| c.seq <= seq) {
            if checkpoint.seq < seq {
                report.first_problem = problem(
                    checkpoint.seq,
                    AuditProblemKind::Deleted,
                    format!(
                        "a signed checkpoint vouches for row {}, which is not in the log",
                        checkpoint.seq
                    ),
                );
                return Ok(report);
            }
            if let Some(found) = check_checkpoint(&checkpoint, trusted, Some(&chain.hash)) {
                report.first_problem = Some(found);
                return Ok(report);
            }
            report.checkpoints_checked += 1;
            report.last_checkpointed_seq = Some(seq);
            next_checkpoint = read_checkpoint(&mut checkpoints)?;
        }
    }
    let last = chain.seq;
    if let Some(checkpoint) = next_checkpoint {
        // A forged checkpoint must not pass for evidence of truncation.
        report.first_problem = check_checkpoint(&checkpoint, trusted, None).or_else(|| {
            problem(
                last + 1,
                AuditProblemKind::Truncated,
                format!(
                    "a signed checkpoint vouches for row {}, but the log ends at row {last}",
                    checkpoint.seq
                ),
            )
        });
        return Ok(report);
    }
    let handed_out: i64 = tx
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
            [],
            |row| row.get(0),
        )
        .optional()?
        .unwrap_or(0);
    if handed_out > last {
        report.first_problem = problem(
            last + 1,
            AuditProblemKind::Truncated,
            format!("SQLite numbered rows up to {handed_out}, but the log ends at row {last}"),
        );
    }
    Ok(report)
}

fn read_checkpoint(rows: &mut Rows<'_>) -> rusqlite::Result<Option<StoredCheckpoint>> {
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    let bytes = |i| -> rusqlite::Result<Vec<u8>> {
        Ok(match row.get_ref(i)? {
            ValueRef::Blob(b) | ValueRef::Text(b) => b.to_vec(),
            _ => Vec::new(),
        })
    };
    Ok(Some(StoredCheckpoint {
        seq: row.get(0)?,
        hash: bytes(1)?,
        signature: bytes(2)?,
        public_key: bytes(3)?,
    }))
}

fn hash32(value: ValueRef<'_>) -> Option<[u8; 32]> {
    match value {
        ValueRef::Blob(bytes) => bytes.try_into().ok(),
        _ => None,
    }
}

fn check_row(
    conn: &Connection,
    row: &Row<'_>,
    seq: i64,
    chain: &mut Chain,
) -> rusqlite::Result<Option<AuditProblem>> {
    use AuditProblemKind as K;
    let expected = chain.seq + 1;
    if seq > expected {
        let detail = if seq == expected + 1 {
            format!("the log goes from row {} to row {seq}", chain.seq)
        } else {
            format!("rows {expected} to {} are missing", seq - 1)
        };
        return Ok(problem(expected, K::Deleted, detail));
    }
    if seq < expected {
        return Ok(problem(
            seq,
            K::Inserted,
            format!("row {seq} comes before row 1, where the log starts"),
        ));
    }
    let (Some(prev), Some(hash)) = (hash32(row.get_ref(1)?), hash32(row.get_ref(2)?)) else {
        return Ok(problem(
            seq,
            K::Edited,
            "its prev_hash or hash is not 32 bytes",
        ));
    };
    let mut text = [&[][..]; 4];
    for (i, (slot, name)) in text
        .iter_mut()
        .zip(["created_at", "trace_id", "kind", "payload"])
        .enumerate()
    {
        match row.get_ref(i + 3)? {
            ValueRef::Text(bytes) => *slot = bytes,
            _ => return Ok(problem(seq, K::Edited, format!("its {name} is not text"))),
        }
    }
    let fields = RowFields {
        created_at: text[0],
        trace_id: text[1],
        kind: text[2],
        payload: text[3],
    };
    let found = if row_hash(&prev, seq, fields) == hash {
        if prev == chain.hash {
            None
        } else if chain.hash_before == Some(prev) {
            problem(
                chain.seq,
                K::Inserted,
                format!("row {seq} links to row {}, skipping it", chain.seq - 1),
            )
        } else {
            problem(
                seq,
                K::BrokenLink,
                format!(
                    "row {seq} does not link to row {}: the hash of one of them was recomputed",
                    chain.seq
                ),
            )
        }
    } else if chain.hash_before == Some(prev) && row_hash(&prev, seq - 1, fields) == hash {
        problem(
            chain.seq,
            K::Inserted,
            format!(
                "row {seq} holds what was written as row {}: rows were shifted to make room",
                seq - 1
            ),
        )
    } else if let Some(original) = original_position(conn, seq, &prev, &hash, fields)? {
        problem(
            seq,
            K::Reordered,
            format!("row {seq} holds what was written as row {original}"),
        )
    } else {
        problem(seq, K::Edited, "its contents no longer match its hash")
    };
    if found.is_none() {
        chain.hash_before = Some(chain.hash);
        chain.hash = hash;
        chain.seq = seq;
    }
    Ok(found)
}

/// Where an intact row that sits at the wrong `seq` was written, judged by its neighbours: the
/// row linking to it, a checkpoint of it, or the row it links to. Only runs on a bad row.
fn original_position(
    conn: &Connection,
    seq: i64,
    prev: &[u8; 32],
    hash: &[u8; 32],
    fields: RowFields<'_>,
) -> rusqlite::Result<Option<i64>> {
    let seqs = |sql: &str, key: &[u8]| -> rusqlite::Result<Vec<i64>> {
        let mut stmt = conn.prepare(sql)?;
        let found = stmt
            .query_map([key], |row| row.get::<_, i64>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(found)
    };
    let mut candidates: Vec<i64> = seqs("SELECT seq - 1 FROM events WHERE prev_hash = ?1", hash)?;
    candidates.extend(seqs("SELECT seq FROM checkpoints WHERE hash = ?1", hash)?);
    if *prev == GENESIS {
        candidates.push(1);
    } else {
        candidates.extend(seqs("SELECT seq + 1 FROM events WHERE hash = ?1", prev)?);
    }
    Ok(candidates
        .into_iter()
        .find(|&candidate| candidate != seq && row_hash(prev, candidate, fields) == *hash))
}

/// Checks a checkpoint's key and signature, and (when `row_hash` is given) that it signed the
/// hash the row has now.
fn check_checkpoint(
    checkpoint: &StoredCheckpoint,
    trusted: &[VerifyingKey],
    row_hash: Option<&[u8; 32]>,
) -> Option<AuditProblem> {
    use AuditProblemKind as K;
    let seq = checkpoint.seq;
    let Ok(key) = <[u8; 32]>::try_from(checkpoint.public_key.as_slice()) else {
        return problem(
            seq,
            K::BadCheckpointSignature,
            "its public key is not 32 bytes",
        );
    };
    if !trusted.iter().any(|t| t.as_bytes() == &key) {
        return problem(
            seq,
            K::UntrustedKey,
            format!(
                "signed by {}, not one of the {} trusted keys",
                hex::encode(key),
                trusted.len()
            ),
        );
    }
    let Ok(hash) = <[u8; 32]>::try_from(checkpoint.hash.as_slice()) else {
        return problem(seq, K::BadCheckpointSignature, "its hash is not 32 bytes");
    };
    let verified = VerifyingKey::from_bytes(&key)
        .ok()
        .zip(Signature::from_slice(&checkpoint.signature).ok());
    let valid = verified.is_some_and(|(key, signature)| {
        key.verify_strict(&checkpoint_message(seq, &hash), &signature)
            .is_ok()
    });
    if !valid {
        return problem(
            seq,
            K::BadCheckpointSignature,
            format!("the signature by {} is not valid", hex::encode(key)),
        );
    }
    match row_hash {
        Some(current) if *current != hash => problem(
            seq,
            K::Edited,
            format!(
                "it differs from the row signed at checkpoint {seq}: the rows before it were \
                 rewritten and their hashes recomputed"
            ),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use airlock_core::{Event, EventKind, TraceId};
    use ed25519_dalek::SigningKey;
    use serde_json::json;

    use super::*;
    use crate::{StoreOptions, DATABASE_FILE};

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[9; 32])
    }

    /// A log of `rows` rows signed every 4 rows and on close (the last row is signed too).
    fn log(dir: &std::path::Path, rows: usize) -> Store {
        let options = StoreOptions {
            checkpoint_every: 4,
            ..StoreOptions::default()
        };
        let mut store = Store::open_with(dir, &options).unwrap();
        store.set_audit_signer(key());
        let trace = TraceId::new();
        for n in 0..rows {
            store
                .record(&trace, EventKind::ToolFinished, json!({"n": n, "ok": true}))
                .unwrap();
        }
        drop(store);
        Store::open(dir).unwrap()
    }

    /// Runs `sql` around the append-only triggers and the CHECK constraints, as someone with
    /// the file and the sqlite3 shell could.
    fn tamper(store: &Store, sql: &str) {
        store
            .conn
            .execute_batch(&format!(
                "PRAGMA ignore_check_constraints = ON;
                 DROP TRIGGER IF EXISTS events_are_append_only_update;
                 DROP TRIGGER IF EXISTS events_are_append_only_delete;
                 DROP TRIGGER IF EXISTS checkpoints_are_append_only_update;
                 DROP TRIGGER IF EXISTS checkpoints_are_append_only_delete;
                 {sql}"
            ))
            .unwrap();
    }

    fn first_problem(store: &Store) -> AuditProblem {
        store
            .verify_audit(&[key().verifying_key()])
            .unwrap()
            .first_problem
            .expect("a problem")
    }

    fn assert_problem(store: &Store, seq: i64, kind: AuditProblemKind) -> AuditProblem {
        let problem = first_problem(store);
        assert_eq!((problem.seq, problem.kind), (seq, kind), "{problem}");
        problem
    }

    #[test]
    fn an_untouched_log_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let store = log(dir.path(), 10);
        let report = store.verify_audit(&[key().verifying_key()]).unwrap();
        assert!(report.is_intact(), "{report:?}");
        assert_eq!(report.rows_checked, 10);
        assert_eq!(report.checkpoints_checked, 3, "rows 4, 8 and 10");
        assert_eq!(report.last_seq, Some(10));
        assert_eq!(report.last_checkpointed_seq, Some(10));
        assert_eq!(report.unsigned_rows(), 0);
        assert!(report.clone().into_result().is_ok());
        store
            .record(&TraceId::new(), EventKind::ToolStarted, json!({}))
            .unwrap();
        let report = store.verify_audit(&[key().verifying_key()]).unwrap();
        assert!(report.is_intact());
        assert_eq!(report.unsigned_rows(), 1);
        // An empty log is intact too.
        let empty = tempfile::tempdir().unwrap();
        let report = Store::open(empty.path())
            .unwrap()
            .verify_audit(&[])
            .unwrap();
        assert!(report.is_intact());
        assert_eq!(report.rows_checked, 0);
    }

    #[test]
    fn an_edit_of_any_column_is_reported_at_its_row() {
        for (column, value) in [
            ("payload", "'{\"n\":5,\"ok\":false}'"),
            ("kind", "'tool_failed'"),
            ("trace_id", "'other'"),
            ("created_at", "'2020-01-01T00:00:00.000Z'"),
            ("hash", "zeroblob(32)"),
            ("prev_hash", "zeroblob(32)"),
            ("payload", "'not json'"),
            ("kind", "42"),
            ("hash", "x'00'"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let store = log(dir.path(), 10);
            tamper(
                &store,
                &format!("UPDATE events SET {column} = {value} WHERE seq = 6"),
            );
            let problem = assert_problem(&store, 6, AuditProblemKind::Edited);
            let message = problem.to_string();
            assert!(
                message.starts_with("audit row 6 was edited after it was written"),
                "{message}"
            );
            assert!(message.contains("restore the database from a backup"));
            let err = store
                .verify_audit(&[key().verifying_key()])
                .unwrap()
                .into_result()
                .unwrap_err();
            assert!(matches!(err, StoreError::Audit(_)));
        }
    }

    #[test]
    fn a_deleted_row_is_reported_as_a_gap_or_a_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let store = log(dir.path(), 10);
        tamper(&store, "DELETE FROM events WHERE seq = 3");
        assert_problem(&store, 3, AuditProblemKind::Deleted);

        let dir = tempfile::tempdir().unwrap();
        let store = log(dir.path(), 10);
        tamper(&store, "DELETE FROM events WHERE seq = 1");
        assert_problem(&store, 1, AuditProblemKind::Deleted);

        let dir = tempfile::tempdir().unwrap();
        let store = log(dir.path(), 10);
        tamper(&store, "DELETE FROM events WHERE seq = 10");
        assert_problem(&store, 10, AuditProblemKind::Truncated);
    }

    #[test]
    fn a_truncated_tail_is_reported_even_with_sqlite_sequence_reset() {
        let dir = tempfile::tempdir().unwrap();
        let store = log(dir.path(), 10);
        tamper(
            &store,
            "DELETE FROM events WHERE seq > 6;
             UPDATE sqlite_sequence SET seq = 6 WHERE name = 'events';",
        );
        let problem = assert_problem(&store, 7, AuditProblemKind::Truncated);
        assert!(problem.detail.contains("checkpoint"), "{problem}");
        // Without checkpoints, sqlite_sequence still tells.
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for _ in 0..5 {
            store
                .record(&TraceId::new(), EventKind::ToolStarted, json!({}))
                .unwrap();
        }
        tamper(&store, "DELETE FROM events WHERE seq > 3");
        let problem = assert_problem(&store, 4, AuditProblemKind::Truncated);
        assert!(
            problem.detail.contains("SQLite numbered rows up to 5"),
            "{problem}"
        );
        // Appending after the cut keeps the gap visible.
        store
            .record(&TraceId::new(), EventKind::ToolStarted, json!({}))
            .unwrap();
        assert_problem(&store, 4, AuditProblemKind::Deleted);
    }

    #[test]
    fn swapped_rows_are_reported_as_reordered_at_the_first() {
        for (a, b) in [(3, 7), (4, 5), (9, 10), (1, 2)] {
            let dir = tempfile::tempdir().unwrap();
            let store = log(dir.path(), 10);
            tamper(
                &store,
                &format!(
                    "CREATE TEMP TABLE saved AS SELECT * FROM events WHERE seq IN ({a}, {b});
                     UPDATE events SET
                        (trace_id, kind, payload, created_at, prev_hash, hash) =
                        (SELECT trace_id, kind, payload, created_at, prev_hash, hash
                         FROM saved WHERE saved.seq = {a} + {b} - events.seq)
                     WHERE seq IN ({a}, {b});"
                ),
            );
            let problem = assert_problem(&store, a, AuditProblemKind::Reordered);
            assert!(
                problem.detail.contains(&format!("written as row {b}")),
                "{problem}"
            );
        }
    }

    /// Makes room at `at` by shifting later rows up, and inserts a row there whose hash is
    /// computed correctly (the attacker knows the algorithm, not the key).
    fn insert_forged(store: &Store, at: i64) {
        tamper(store, "");
        let last: i64 = store
            .conn
            .query_row("SELECT max(seq) FROM events", [], |r| r.get(0))
            .unwrap();
        for seq in (at..=last).rev() {
            store
                .conn
                .execute("UPDATE events SET seq = seq + 1 WHERE seq = ?1", [seq])
                .unwrap();
        }
        let prev: Vec<u8> = if at == 1 {
            GENESIS.to_vec()
        } else {
            store
                .conn
                .query_row("SELECT hash FROM events WHERE seq = ?1", [at - 1], |r| {
                    r.get(0)
                })
                .unwrap()
        };
        let prev: [u8; 32] = prev.try_into().unwrap();
        let fields = RowFields {
            created_at: b"2024-05-01T09:30:00.000Z",
            trace_id: b"forged",
            kind: b"tool_finished",
            payload: b"{\"paid\":true}",
        };
        let hash = row_hash(&prev, at, fields);
        store
            .conn
            .execute(
                "INSERT INTO events (seq, trace_id, kind, payload, created_at, prev_hash, hash)
                 VALUES (?1, 'forged', 'tool_finished', '{\"paid\":true}',
                         '2024-05-01T09:30:00.000Z', ?2, ?3)",
                rusqlite::params![at, &prev[..], &hash[..]],
            )
            .unwrap();
    }

    #[test]
    fn an_inserted_row_is_reported_where_it_was_inserted() {
        // Between checkpoints: the shifted row after it gives it away.
        for at in [1, 2, 6] {
            let dir = tempfile::tempdir().unwrap();
            let store = log(dir.path(), 10);
            insert_forged(&store, at);
            assert_problem(&store, at, AuditProblemKind::Inserted);
        }
        // On a checkpointed position: the checkpoint gives it away first.
        let dir = tempfile::tempdir().unwrap();
        let store = log(dir.path(), 10);
        insert_forged(&store, 4);
        let problem = assert_problem(&store, 4, AuditProblemKind::Edited);
        assert!(problem.detail.contains("checkpoint 4"), "{problem}");
    }

    #[test]
    fn a_recomputed_chain_is_caught_by_the_next_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let store = log(dir.path(), 10);
        // Rewrite row 6 and recompute every hash after it.
        tamper(
            &store,
            "UPDATE events SET payload = '{\"n\":5,\"ok\":false}' WHERE seq = 6",
        );
        let mut prev: [u8; 32] = store
            .conn
            .query_row("SELECT hash FROM events WHERE seq = 5", [], |r| {
                r.get::<_, Vec<u8>>(0)
            })
            .unwrap()
            .try_into()
            .unwrap();
        for seq in 6..=10 {
            let (created_at, trace_id, kind, payload): (String, String, String, String) = store
                .conn
                .query_row(
                    "SELECT created_at, trace_id, kind, payload FROM events WHERE seq = ?1",
                    [seq],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .unwrap();
            let hash = row_hash(
                &prev,
                seq,
                RowFields {
                    created_at: created_at.as_bytes(),
                    trace_id: trace_id.as_bytes(),
                    kind: kind.as_bytes(),
                    payload: payload.as_bytes(),
                },
            );
            store
                .conn
                .execute(
                    "UPDATE events SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
                    rusqlite::params![&prev[..], &hash[..], seq],
                )
                .unwrap();
            prev = hash;
        }
        let problem = assert_problem(&store, 8, AuditProblemKind::Edited);
        assert!(problem.detail.contains("recomputed"), "{problem}");
    }

    #[test]
    fn checkpoints_need_a_trusted_key_and_a_valid_signature() {
        let dir = tempfile::tempdir().unwrap();
        let store = log(dir.path(), 10);
        let other = SigningKey::from_bytes(&[1; 32]).verifying_key();
        let report = store.verify_audit(&[other]).unwrap();
        let problem = report.first_problem.unwrap();
        assert_eq!(
            (problem.seq, problem.kind),
            (4, AuditProblemKind::UntrustedKey)
        );
        assert!(problem
            .detail
            .contains(&hex::encode(key().verifying_key().as_bytes())));
        assert!(problem.to_string().contains("pass it to the verifier"));
        let report = store.verify_audit(&[]).unwrap();
        assert_eq!(
            report.first_problem.unwrap().kind,
            AuditProblemKind::UntrustedKey
        );

        tamper(
            &store,
            "UPDATE checkpoints SET signature = zeroblob(64) WHERE seq = 8",
        );
        assert_problem(&store, 8, AuditProblemKind::BadCheckpointSignature);
    }

    #[test]
    fn a_forged_checkpoint_past_the_end_is_not_taken_for_a_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let store = log(dir.path(), 10);
        tamper(
            &store,
            "INSERT INTO checkpoints VALUES (99, zeroblob(32), zeroblob(64), zeroblob(32), 'x')",
        );
        assert_problem(&store, 99, AuditProblemKind::UntrustedKey);
    }

    #[test]
    fn a_copy_opened_read_only_verifies_and_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        drop(log(dir.path(), 10));
        let copy = tempfile::tempdir().unwrap();
        std::fs::copy(
            dir.path().join(DATABASE_FILE),
            copy.path().join("evidence.db"),
        )
        .unwrap();
        let file = copy.path().join("evidence.db");
        let before = std::fs::read(&file).unwrap();
        let mut store = Store::open_read_only(&file).unwrap();
        assert!(store.is_read_only());
        store.set_audit_signer(key());
        let report = store.verify_audit(&[key().verifying_key()]).unwrap();
        assert!(report.is_intact(), "{report:?}");
        assert_eq!(report.rows_checked, 10);
        assert!(store
            .record(&TraceId::new(), EventKind::ToolStarted, json!({}))
            .is_err());
        drop(store);
        assert_eq!(std::fs::read(&file).unwrap(), before);

        let err = Store::open_read_only(&copy.path().join("missing.db"))
            .err()
            .unwrap();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
    }

    #[test]
    fn a_file_from_before_the_chain_cannot_be_verified_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        conn.execute_batch(crate::migrations::MIGRATIONS[0].sql)
            .unwrap();
        conn.execute_batch("PRAGMA user_version = 1").unwrap();
        drop(conn);
        let err = Store::open_read_only(dir.path()).err().unwrap();
        assert!(matches!(err, StoreError::TooOld { found: 1, .. }), "{err}");
        assert!(err.to_string().contains("not read-only"));
    }

    #[test]
    fn events_of_a_batch_are_chained_like_single_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let trace = TraceId::new();
        let batch: Vec<_> = (0..50)
            .map(|n| Event::new(&trace, EventKind::ToolStarted, json!({ "n": n })))
            .collect();
        store.append_events(&batch).unwrap();
        store.append_event(&batch[0]).unwrap();
        let report = store.verify_audit(&[]).unwrap();
        assert!(report.is_intact(), "{report:?}");
        assert_eq!(report.rows_checked, 51);
        assert_eq!(report.unsigned_rows(), 51);
    }
}
