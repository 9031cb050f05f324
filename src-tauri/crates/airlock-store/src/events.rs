//! The append-only event log: every step of every request. It is the audit log: SQLite triggers
//! refuse UPDATE and DELETE, and every row is hash-chained to the one before it (see
//! the crate docs for the exact bytes hashed), so that an edit made by going around the
//! triggers is found by [`Store::verify_audit`].
//!
//! Every payload is redacted ([`crate::Redactor`]) and its people's names are replaced by
//! their pseudonyms (see the subjects module) before it is hashed and written, in every append
//! path; reading puts the names of live subjects back.
//!
//! Appends run in `BEGIN IMMEDIATE` transactions: the newest row is read and the new rows are
//! chained to it under the write lock, so several processes appending to one file still form one
//! chain. A call returns only after its transaction is committed and fsynced
//! (`synchronous = FULL`).

use std::sync::LazyLock;

use airlock_core::{Event, EventKind, TraceId};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::Serialize;

use crate::chain::{row_hash, RowFields, GENESIS};
use crate::checkpoint::{checkpoint_due, write_checkpoint};
use crate::subjects::{identity_names, Pseudonymiser, Subjects};
use crate::{clock, Store, StoreError};

/// An event as stored, with its sequence number and time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    /// Position in the log (strictly increasing).
    pub seq: i64,
    /// The request it belongs to.
    pub trace_id: String,
    /// The step's kind, as [`EventKind::as_str`].
    pub kind: String,
    /// Details.
    pub payload: serde_json::Value,
    /// UTC time, RFC 3339.
    pub created_at: String,
}

impl Store {
    /// Appends `event` and returns its sequence number, once it is durable.
    ///
    /// # Errors
    /// [`StoreError::Locked`] when another process holds the lock past the busy timeout, or
    /// another [`StoreError`].
    pub fn append_event(&self, event: &Event) -> Result<i64, StoreError> {
        let seqs = self.append_events(std::slice::from_ref(event))?;
        seqs.first()
            .copied()
            .ok_or_else(|| StoreError::Malformed("an append wrote no row".to_owned()))
    }

    /// Appends `events` in order in one transaction (one fsync) and returns their sequence
    /// numbers, once they are all durable. Either every event is written or none is.
    ///
    /// # Errors
    /// As [`Store::append_event`].
    pub fn append_events(&self, events: &[Event]) -> Result<Vec<i64>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        self.append_rows(events)
            .map_err(|err| self.audit_error(err))
    }

    fn append_rows(&self, events: &[Event]) -> Result<Vec<i64>, AppendError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let seqs = self.append_in(&tx, events)?;
        tx.commit()?;
        Ok(seqs)
    }

    /// Appends `events` inside the caller's write transaction on this store's connection
    /// (registering the names they record first) and returns their sequence numbers.
    pub(crate) fn append_in(
        &self,
        tx: &Connection,
        events: &[Event],
    ) -> Result<Vec<i64>, AppendError> {
        let names: Vec<&str> = events
            .iter()
            .flat_map(|event| identity_names(event, &self.redactor))
            .collect();
        let subjects = self.register_subjects(&names)?;
        let (mut seq, mut prev) = chain_tail(tx)?;
        let created_at = clock::now();
        let mut seqs = Vec::with_capacity(events.len());
        // One chunk's redacted payloads, their spans and hashes (`hashes[i]` chains row i).
        let mut payloads = Vec::with_capacity(CHUNK * 512);
        let mut spans = Vec::with_capacity(CHUNK);
        let mut hashes = Vec::with_capacity(CHUNK + 1);
        for chunk in events.chunks(CHUNK) {
            payloads.clear();
            spans.clear();
            hashes.clear();
            hashes.push(prev);
            for event in chunk {
                seq = seq.checked_add(1).ok_or_else(|| {
                    StoreError::Malformed(
                        "the audit log has run out of sequence numbers (a row with the largest \
                         possible seq exists): run the audit verification"
                            .to_owned(),
                    )
                })?;
                let start = payloads.len();
                let names = Pseudonymiser::new(&subjects, event.kind.as_str());
                self.redactor
                    .write_pseudonymised(&event.payload, &names, &mut payloads)
                    .map_err(|err| StoreError::Malformed(err.to_string()))?;
                let payload = std::str::from_utf8(&payloads[start..])
                    .map_err(|err| StoreError::Malformed(err.to_string()))?;
                let hash = row_hash(
                    &prev,
                    seq,
                    RowFields {
                        created_at: created_at.as_bytes(),
                        trace_id: event.trace_id.as_str().as_bytes(),
                        kind: event.kind.as_str().as_bytes(),
                        payload: payload.as_bytes(),
                    },
                );
                spans.push((start, payloads.len()));
                hashes.push(hash);
                prev = hash;
                seqs.push(seq);
            }
            // Full chunks go in one multi-row INSERT; the rest one row at a time.
            let (sql, rows_per_statement) = if chunk.len() == CHUNK {
                (&*INSERT_CHUNK, CHUNK)
            } else {
                (&*INSERT_ONE, 1)
            };
            let mut insert = tx.prepare_cached(sql)?;
            let first_seq = seq - i64::try_from(chunk.len()).unwrap_or(0);
            for (offset, group) in chunk.chunks(rows_per_statement).enumerate() {
                for (j, event) in group.iter().enumerate() {
                    let i = offset * rows_per_statement + j;
                    let (start, end) = spans[i];
                    let payload = std::str::from_utf8(&payloads[start..end])
                        .map_err(|err| StoreError::Malformed(err.to_string()))?;
                    let base = j * 7;
                    let row_seq = first_seq + 1 + i64::try_from(i).unwrap_or(0);
                    insert.raw_bind_parameter(base + 1, row_seq)?;
                    insert.raw_bind_parameter(base + 2, event.trace_id.as_str())?;
                    insert.raw_bind_parameter(base + 3, event.kind.as_str())?;
                    insert.raw_bind_parameter(base + 4, payload)?;
                    insert.raw_bind_parameter(base + 5, created_at.as_str())?;
                    insert.raw_bind_parameter(base + 6, &hashes[i][..])?;
                    insert.raw_bind_parameter(base + 7, &hashes[i + 1][..])?;
                }
                insert.raw_execute()?;
            }
        }
        if let Some(key) = &self.signer {
            if checkpoint_due(tx, self.checkpoint_every, seq)? {
                write_checkpoint(tx, key, seq, &prev, &created_at)?;
            }
        }
        Ok(seqs)
    }

    pub(crate) fn audit_error(&self, err: AppendError) -> StoreError {
        match err {
            AppendError::Sqlite(err) => self.error(err),
            AppendError::Store(err) => err,
        }
    }

    /// Shorthand for [`Store::append_event`].
    ///
    /// # Errors
    /// As [`Store::append_event`].
    pub fn record(
        &self,
        trace_id: &TraceId,
        kind: EventKind,
        payload: serde_json::Value,
    ) -> Result<i64, StoreError> {
        self.append_event(&Event::new(trace_id, kind, payload))
    }

    /// Every event of one request, in order (names of live subjects resolved).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails or a payload is not JSON.
    pub fn events_for(&self, trace_id: &TraceId) -> Result<Vec<StoredEvent>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, trace_id, kind, payload, created_at FROM events
                 WHERE trace_id = ?1 ORDER BY seq",
            )
            .map_err(|err| self.error(err))?;
        let rows = stmt
            .query_map([trace_id.as_str()], raw_event)
            .map_err(|err| self.error(err))?;
        let subjects = self.subjects()?;
        rows.map(|row| self.stored_event(&subjects, row.map_err(|err| self.error(err))?))
            .collect()
    }

    /// The `tool_finished` event of the call the governor allowed with decision `decision_id`,
    /// if that call ran to completion (names of live subjects resolved).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails or the payload is not JSON.
    pub fn finished_call(&self, decision_id: &str) -> Result<Option<StoredEvent>, StoreError> {
        let found = self
            .conn
            .query_row(
                "SELECT seq, trace_id, kind, payload, created_at FROM events
                 WHERE kind = 'tool_finished' AND json_extract(payload, '$.decision_id') = ?1
                 ORDER BY seq LIMIT 1",
                [decision_id],
                raw_event,
            )
            .optional()
            .map_err(|err| self.error(err))?;
        let subjects = self.subjects()?;
        found
            .map(|raw| self.stored_event(&subjects, raw))
            .transpose()
    }

    /// A raw row as handed out: its payload's pseudonyms of live subjects resolved.
    pub(crate) fn stored_event(
        &self,
        subjects: &Subjects,
        (seq, trace_id, kind, payload, created_at): RawEvent,
    ) -> Result<StoredEvent, StoreError> {
        Ok(StoredEvent {
            seq,
            trace_id,
            kind,
            payload: self.resolved_payload(subjects, seq, &payload)?,
            created_at,
        })
    }

    /// How many events the log holds.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn event_count(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM events", [], |row| row.get(0))
            .map_err(|err| self.error(err))
    }
}

/// An event row as SQLite holds it: seq, trace id, kind, payload text, creation time.
pub(crate) type RawEvent = (i64, String, String, String, String);

/// Reads a `seq, trace_id, kind, payload, created_at` row.
pub(crate) fn raw_event(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawEvent> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

/// Rows per multi-row INSERT (7 parameters each, far below SQLite's limit).
const CHUNK: usize = 32;

static INSERT_ONE: LazyLock<String> = LazyLock::new(|| insert_sql(1));
static INSERT_CHUNK: LazyLock<String> = LazyLock::new(|| insert_sql(CHUNK));

fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO events (seq, trace_id, kind, payload, created_at, prev_hash, hash) VALUES ",
    );
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?,?)");
    }
    sql
}

/// A failure inside an append transaction (which rolls back when dropped).
pub(crate) enum AppendError {
    Sqlite(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for AppendError {
    fn from(err: rusqlite::Error) -> Self {
        Self::Sqlite(err)
    }
}

impl From<StoreError> for AppendError {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

/// The sequence number the next row follows and the hash it chains to, read under the write
/// lock. Sequence numbers continue from `sqlite_sequence`, never reusing one, so that rows cut
/// off the tail leave a gap the verifier reports.
pub(crate) fn chain_tail(conn: &Connection) -> Result<(i64, [u8; 32]), AppendError> {
    let last = conn
        .prepare_cached("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")?
        .query_row([], |row| {
            let hash = <[u8; 32]>::try_from(row.get_ref(1)?.as_bytes()?).ok();
            Ok((row.get::<_, i64>(0)?, hash))
        })
        .optional()?;
    let sequence: i64 = conn
        .prepare_cached(
            "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)",
        )?
        .query_row([], |row| row.get(0))?;
    match last {
        None => Ok((sequence, GENESIS)),
        Some((seq, Some(hash))) => Ok((seq.max(sequence), hash)),
        Some((seq, None)) => Err(AppendError::Store(StoreError::Malformed(format!(
            "audit row {seq} has no valid hash, so no row can be chained to it. Run the audit \
             verification and restore the database from a backup"
        )))),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::{StoreOptions, DATABASE_FILE};

    #[test]
    fn events_come_back_in_order_for_their_trace_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = TraceId::new();
        let b = TraceId::new();
        store
            .record(&a, EventKind::RequestReceived, json!({"len": 5}))
            .unwrap();
        store
            .record(&b, EventKind::RequestReceived, json!({}))
            .unwrap();
        store
            .record(&a, EventKind::PlanProposed, json!({"intents": []}))
            .unwrap();
        let events = store.events_for(&a).unwrap();
        let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["request_received", "plan_proposed"]);
        assert!(events[0].seq < events[1].seq);
        assert_eq!(events[0].payload, json!({"len": 5}));
    }

    #[test]
    fn events_cannot_be_changed_or_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .record(&TraceId::new(), EventKind::RequestReceived, json!({}))
            .unwrap();
        let update = store.conn.execute("UPDATE events SET kind = 'x'", []);
        assert!(update.unwrap_err().to_string().contains("append-only"));
        let delete = store.conn.execute("DELETE FROM events", []);
        assert!(delete.unwrap_err().to_string().contains("append-only"));
        assert_eq!(store.event_count().unwrap(), 1);
    }

    /// Recomputes the chain by hand (independent of the verifier).
    fn assert_chained(store: &Store) -> i64 {
        let mut stmt = store
            .conn
            .prepare(
                "SELECT seq, prev_hash, hash, created_at, trace_id, kind, payload
                 FROM events ORDER BY seq",
            )
            .unwrap();
        let mut rows = stmt.query([]).unwrap();
        let mut prev = GENESIS;
        let mut expected_seq = 1;
        while let Some(row) = rows.next().unwrap() {
            let seq: i64 = row.get(0).unwrap();
            assert_eq!(seq, expected_seq);
            let stored_prev: Vec<u8> = row.get(1).unwrap();
            let hash: Vec<u8> = row.get(2).unwrap();
            assert_eq!(stored_prev, prev, "row {seq} links to the row before it");
            let text = |i| row.get::<_, String>(i).unwrap();
            let (created_at, trace_id, kind, payload) = (text(3), text(4), text(5), text(6));
            let fields = RowFields {
                created_at: created_at.as_bytes(),
                trace_id: trace_id.as_bytes(),
                kind: kind.as_bytes(),
                payload: payload.as_bytes(),
            };
            assert_eq!(hash, row_hash(&prev, seq, fields), "row {seq} hash");
            prev = hash.try_into().unwrap();
            expected_seq += 1;
        }
        expected_seq - 1
    }

    fn event(n: usize) -> Event {
        Event::new(
            &TraceId::new(),
            EventKind::ToolFinished,
            json!({"n": n, "tool": "line_status", "ok": true}),
        )
    }

    #[test]
    fn appended_rows_form_a_hash_chain() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.append_event(&event(0)).unwrap();
        let seqs = store
            .append_events(&(1..=5).map(event).collect::<Vec<_>>())
            .unwrap();
        assert_eq!(seqs, [2, 3, 4, 5, 6]);
        assert_eq!(store.append_events(&[]).unwrap(), Vec::<i64>::new());
        assert_eq!(store.append_event(&event(6)).unwrap(), 7);
        assert_eq!(assert_chained(&store), 7);
    }

    #[test]
    fn a_failed_batch_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.append_event(&event(0)).unwrap();
        store
            .conn
            .execute_batch(
                "CREATE TRIGGER no_sevens BEFORE INSERT ON events WHEN NEW.payload LIKE '%\"n\":7%'
                 BEGIN SELECT RAISE(ABORT, 'no sevens'); END;",
            )
            .unwrap();
        let batch: Vec<_> = (5..10).map(event).collect();
        assert!(store.append_events(&batch).is_err());
        assert_eq!(store.event_count().unwrap(), 1);
        store.conn.execute_batch("DROP TRIGGER no_sevens").unwrap();
        assert_eq!(store.append_events(&batch).unwrap(), [2, 3, 4, 5, 6]);
        assert_chained(&store);
    }

    #[test]
    fn two_stores_on_one_file_append_to_one_chain() {
        let dir = tempfile::tempdir().unwrap();
        let a = Store::open(dir.path()).unwrap();
        let b = Store::open(dir.path()).unwrap();
        for n in 0..10 {
            a.append_event(&event(n)).unwrap();
            b.append_events(&[event(n), event(n)]).unwrap();
        }
        assert_eq!(assert_chained(&a), 30);
        // And from two threads at once.
        let path = dir.path().to_owned();
        let handles: Vec<_> = [a, b]
            .into_iter()
            .map(|store| {
                std::thread::spawn(move || {
                    for n in 0..50 {
                        if n % 2 == 0 {
                            store.append_event(&event(n)).unwrap();
                        } else {
                            store.append_events(&[event(n), event(n)]).unwrap();
                        }
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(assert_chained(&store), 30 + 2 * 75);
    }

    #[test]
    fn rows_written_by_schema_1_are_chained_by_the_migration() {
        let dir = tempfile::tempdir().unwrap();
        let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        conn.execute_batch(crate::migrations::MIGRATIONS[0].sql)
            .unwrap();
        conn.execute_batch("PRAGMA user_version = 1").unwrap();
        for n in 0..5 {
            conn.execute(
                "INSERT INTO events (trace_id, kind, payload) VALUES ('t', 'tool_started', ?1)",
                [format!("{{\"n\":{n}}}")],
            )
            .unwrap();
        }
        drop(conn);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(assert_chained(&store), 5);
        assert_eq!(store.append_event(&event(5)).unwrap(), 6);
        assert_eq!(assert_chained(&store), 6);
        let kept = store.events_for(&TraceId::from("t".to_owned())).unwrap();
        assert_eq!(kept.len(), 5);
        assert_eq!(kept[4].payload, json!({"n": 4}));
        // The triggers are back.
        assert!(store.conn.execute("DELETE FROM events", []).is_err());
    }

    #[test]
    fn payloads_are_redacted_before_they_are_hashed_and_written() {
        let dir = tempfile::tempdir().unwrap();
        let options = StoreOptions {
            redactor: crate::Redactor::default()
                .with_pattern("employee", r"\bE[0-9]{6}\b")
                .unwrap(),
            ..StoreOptions::default()
        };
        let store = Store::open_with(dir.path(), &options).unwrap();
        let trace = TraceId::new();
        store
            .record(
                &trace,
                EventKind::ToolStarted,
                json!({"to": "jane@example.com", "by": "E123456", "db": {"password": "hunter2"}}),
            )
            .unwrap();
        store
            .append_events(&[Event::new(
                &trace,
                EventKind::ToolFinished,
                json!({"api_key": "sk-123", "call": "+1 555 123 4567"}),
            )])
            .unwrap();
        let stored = store.events_for(&trace).unwrap();
        assert_eq!(
            stored[0].payload,
            json!({"to": "[redacted:email]", "by": "[redacted:employee]",
                   "db": {"password": "[withheld]"}})
        );
        assert_eq!(
            stored[1].payload,
            json!({"api_key": "[withheld]", "call": "[redacted:phone]"})
        );
        let raw: Vec<String> = store
            .conn
            .prepare("SELECT payload FROM events")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(raw
            .iter()
            .all(|p| !p.contains("hunter2") && !p.contains("sk-123")));
        assert_chained(&store);
    }

    #[test]
    fn a_write_while_another_process_holds_the_lock_fails_as_locked() {
        let dir = tempfile::tempdir().unwrap();
        let options = StoreOptions {
            busy_timeout: Duration::from_millis(100),
            ..StoreOptions::default()
        };
        let store = Store::open_with(dir.path(), &options).unwrap();
        let other = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        other.execute_batch("BEGIN EXCLUSIVE").unwrap();
        let err = store
            .record(&TraceId::new(), EventKind::RequestReceived, json!({}))
            .unwrap_err();
        assert!(matches!(err, StoreError::Locked { .. }), "{err}");
        assert!(err.to_string().contains("another Airlock"));
        other.execute_batch("ROLLBACK").unwrap();
        store
            .record(&TraceId::new(), EventKind::RequestReceived, json!({}))
            .unwrap();
    }
}
