//! The append-only event log: every step of every request. (The hash chain that makes it
//! tamper-evident arrives with the governor.)

use airlock_core::{Event, EventKind, TraceId};
use rusqlite::params;
use serde::Serialize;

use crate::{Store, StoreError};

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
    /// Appends `event` and returns its sequence number.
    ///
    /// # Errors
    /// [`StoreError::Locked`] when another process holds the lock past the busy timeout, or
    /// another [`StoreError`].
    pub fn append_event(&self, event: &Event) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO events (trace_id, kind, payload) VALUES (?1, ?2, ?3)",
                params![
                    event.trace_id.as_str(),
                    event.kind.as_str(),
                    event.payload.to_string()
                ],
            )
            .map_err(|err| self.error(err))?;
        Ok(self.conn.last_insert_rowid())
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

    /// Every event of one request, in order.
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
            .query_map([trace_id.as_str()], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                ))
            })
            .map_err(|err| self.error(err))?;
        rows.map(|row| {
            let (seq, trace_id, kind, payload, created_at) = row.map_err(|err| self.error(err))?;
            let payload = serde_json::from_str(&payload)
                .map_err(|err| StoreError::Malformed(format!("event {seq}: {err}")))?;
            Ok(StoredEvent {
                seq,
                trace_id,
                kind,
                payload,
                created_at,
            })
        })
        .collect()
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

    #[test]
    fn a_write_while_another_process_holds_the_lock_fails_as_locked() {
        let dir = tempfile::tempdir().unwrap();
        let options = StoreOptions {
            busy_timeout: Duration::from_millis(100),
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
