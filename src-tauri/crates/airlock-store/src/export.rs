//! Exporting the audit log for an auditor, streamed (constant memory).
//!
//! Both formats carry, per row in `seq` order: `seq`, `created_at`, `trace_id`, `kind`,
//! `payload` and `hash` (hex). The payload is the JSON text stored and hashed, except that the
//! pseudonyms of live data subjects are replaced by their names (see the subjects module); a
//! row where that changed anything also carries `stored_payload`, the text exactly as stored
//! and hashed. So with consecutive rows the export can be checked against the chain (each
//! row's `prev_hash` is the previous row's `hash`, computed over `stored_payload` when present,
//! else `payload`).
//!
//! * [`ExportFormat::Json`]: one JSON array of objects, the payload as a JSON value,
//!   `stored_payload` (only where it differs) as a JSON string.
//! * [`ExportFormat::Csv`]: RFC 4180, a header line, fields quoted when they contain a comma,
//!   quote, CR or LF (quotes doubled), the payload as its JSON text, `stored_payload` empty
//!   where it would equal the payload, lines ending in CRLF.

use std::io::Write;

use rusqlite::types::ValueRef;
use serde::de::IgnoredAny;

use crate::{clock, Store, StoreError};

/// The format of [`Store::export_audit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// A JSON array of objects.
    Json,
    /// Comma-separated values with a header.
    Csv,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.to_ascii_lowercase().as_str() {
            "json" => Ok(Self::Json),
            "csv" => Ok(Self::Csv),
            other => Err(format!("unknown export format '{other}': use json or csv")),
        }
    }
}

const COLUMNS: [&str; 6] = ["seq", "created_at", "trace_id", "kind", "payload", "hash"];

/// The column holding a payload exactly as stored, where names were resolved.
const STORED_PAYLOAD: &str = "stored_payload";

impl Store {
    /// Writes the audit rows created at or after `since` (RFC 3339, any offset; all rows when
    /// `None`) to `out` in `format`, oldest first, and returns how many were written.
    ///
    /// # Errors
    /// [`StoreError::InvalidTime`] for a bad `since`, [`StoreError::Export`] when `out` fails,
    /// [`StoreError::Malformed`] for a stored payload that is not JSON (run the verifier), or
    /// another [`StoreError`].
    pub fn export_audit(
        &self,
        since: Option<&str>,
        format: ExportFormat,
        out: &mut dyn Write,
    ) -> Result<usize, StoreError> {
        let since = since.map(clock::normalize).transpose()?;
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, created_at, trace_id, kind, payload, hash FROM events
                 WHERE ?1 IS NULL OR created_at >= ?1 ORDER BY seq",
            )
            .map_err(|err| self.error(err))?;
        let mut rows = stmt.query([since]).map_err(|err| self.error(err))?;
        let io = |source| StoreError::Export { source };
        match format {
            ExportFormat::Json => out.write_all(b"[").map_err(io)?,
            ExportFormat::Csv => out
                .write_all(format!("{},{STORED_PAYLOAD}\r\n", COLUMNS.join(",")).as_bytes())
                .map_err(io)?,
        }
        let subjects = self.subjects()?;
        let mut count = 0;
        let mut line = Vec::with_capacity(1024);
        while let Some(row) = rows.next().map_err(|err| self.error(err))? {
            let seq: i64 = row.get(0).map_err(|err| self.error(err))?;
            let mut text = [""; 4];
            for (i, slot) in text.iter_mut().enumerate() {
                *slot = match row.get_ref(i + 1).map_err(|err| self.error(err))? {
                    ValueRef::Text(bytes) => std::str::from_utf8(bytes).map_err(|_| {
                        StoreError::Malformed(format!(
                            "audit row {seq}: {} is not UTF-8 text; run the audit verification",
                            COLUMNS[i + 1]
                        ))
                    })?,
                    _ => {
                        return Err(StoreError::Malformed(format!(
                            "audit row {seq}: {} is not text; run the audit verification",
                            COLUMNS[i + 1]
                        )))
                    }
                };
            }
            let [created_at, trace_id, kind, stored] = text;
            let resolved = if subjects.mentions_live(stored) {
                Some(self.resolved_payload(&subjects, seq, stored)?.to_string())
            } else {
                None
            };
            let payload = resolved.as_deref().unwrap_or(stored);
            let hash = match row.get_ref(5).map_err(|err| self.error(err))? {
                ValueRef::Blob(bytes) => hex::encode(bytes),
                _ => String::new(),
            };
            line.clear();
            match format {
                ExportFormat::Json => {
                    if serde_json::from_str::<IgnoredAny>(payload).is_err() {
                        return Err(StoreError::Malformed(format!(
                            "audit row {seq}: the payload is not JSON; run the audit verification"
                        )));
                    }
                    if count > 0 {
                        line.push(b',');
                    }
                    line.extend_from_slice(b"\n{\"seq\":");
                    line.extend_from_slice(seq.to_string().as_bytes());
                    for (name, value) in [
                        ("created_at", created_at),
                        ("trace_id", trace_id),
                        ("kind", kind),
                    ] {
                        line.extend_from_slice(format!(",\"{name}\":").as_bytes());
                        serde_json::to_writer(&mut line, value)
                            .map_err(|err| StoreError::Malformed(err.to_string()))?;
                    }
                    line.extend_from_slice(b",\"payload\":");
                    line.extend_from_slice(payload.as_bytes());
                    line.extend_from_slice(b",\"hash\":\"");
                    line.extend_from_slice(hash.as_bytes());
                    line.push(b'"');
                    if resolved.is_some() {
                        line.extend_from_slice(format!(",\"{STORED_PAYLOAD}\":").as_bytes());
                        serde_json::to_writer(&mut line, stored)
                            .map_err(|err| StoreError::Malformed(err.to_string()))?;
                    }
                    line.push(b'}');
                }
                ExportFormat::Csv => {
                    let seq = seq.to_string();
                    let stored_payload = if resolved.is_some() { stored } else { "" };
                    for (i, field) in [
                        seq.as_str(),
                        created_at,
                        trace_id,
                        kind,
                        payload,
                        &hash,
                        stored_payload,
                    ]
                    .into_iter()
                    .enumerate()
                    {
                        if i > 0 {
                            line.push(b',');
                        }
                        csv_field(&mut line, field);
                    }
                    line.extend_from_slice(b"\r\n");
                }
            }
            out.write_all(&line).map_err(io)?;
            count += 1;
        }
        if format == ExportFormat::Json {
            out.write_all(if count > 0 { b"\n]\n" } else { b"]\n" })
                .map_err(io)?;
        }
        out.flush().map_err(io)?;
        tracing::info!(rows = count, ?format, "audit log exported");
        Ok(count)
    }
}

/// Appends `field`, quoted when it needs to be.
fn csv_field(line: &mut Vec<u8>, field: &str) {
    if field.contains([',', '"', '\r', '\n']) {
        line.push(b'"');
        for byte in field.bytes() {
            if byte == b'"' {
                line.push(b'"');
            }
            line.push(byte);
        }
        line.push(b'"');
    } else {
        line.extend_from_slice(field.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use airlock_core::{Event, EventKind, TraceId};
    use serde_json::{json, Value};

    use super::*;

    fn store_with_rows() -> (tempfile::TempDir, Store, Vec<Event>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let trace = TraceId::new();
        let events = vec![
            Event::new(
                &trace,
                EventKind::RequestReceived,
                json!({"text": "hi, \"there\"\nline 2"}),
            ),
            Event::new(
                &trace,
                EventKind::ToolStarted,
                json!({"args": [1, 2.5, null, true], "ü": "€"}),
            ),
            Event::new(&trace, EventKind::AnswerGenerated, json!({})),
        ];
        store.append_events(&events).unwrap();
        (dir, store, events)
    }

    fn hashes(store: &Store) -> Vec<String> {
        store
            .conn
            .prepare("SELECT hash FROM events ORDER BY seq")
            .unwrap()
            .query_map([], |row| row.get::<_, Vec<u8>>(0))
            .unwrap()
            .map(|h| hex::encode(h.unwrap()))
            .collect()
    }

    #[test]
    fn json_export_parses_back_to_the_rows() {
        let (_dir, store, events) = store_with_rows();
        let mut out = Vec::new();
        let count = store
            .export_audit(None, ExportFormat::Json, &mut out)
            .unwrap();
        assert_eq!(count, 3);
        let parsed: Vec<Value> = serde_json::from_slice(&out).unwrap();
        assert_eq!(parsed.len(), 3);
        for ((row, event), hash) in parsed.iter().zip(&events).zip(hashes(&store)) {
            assert_eq!(row["trace_id"], event.trace_id.as_str());
            assert_eq!(row["kind"], event.kind.as_str());
            assert_eq!(row["payload"], event.payload);
            assert_eq!(row["hash"], hash);
            assert!(row["created_at"].as_str().unwrap().ends_with('Z'));
        }
        assert_eq!(parsed[0]["seq"], 1);
        let keys: Vec<_> = parsed[0].as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, COLUMNS);
    }

    #[test]
    fn csv_export_parses_back_to_the_rows() {
        let (_dir, store, events) = store_with_rows();
        let mut out = Vec::new();
        assert_eq!(
            store
                .export_audit(None, ExportFormat::Csv, &mut out)
                .unwrap(),
            3
        );
        let mut reader = csv::Reader::from_reader(out.as_slice());
        let mut header = COLUMNS.to_vec();
        header.push(STORED_PAYLOAD);
        assert_eq!(reader.headers().unwrap(), header.as_slice());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 3);
        for (i, ((row, event), hash)) in rows.iter().zip(&events).zip(hashes(&store)).enumerate() {
            assert_eq!(&row[0], (i + 1).to_string());
            assert_eq!(&row[2], event.trace_id.as_str());
            assert_eq!(&row[3], event.kind.as_str());
            let payload: Value = serde_json::from_str(&row[4]).unwrap();
            assert_eq!(payload, event.payload);
            assert_eq!(&row[5], hash);
            assert_eq!(&row[6], "", "nothing was resolved");
        }
    }

    #[test]
    fn a_row_naming_a_live_subject_is_exported_with_the_name_and_the_stored_text() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let payload = json!({"principal": "olivia", "text": "olivia asked, \"twice\""});
        store
            .record(&TraceId::new(), EventKind::RequestReceived, payload.clone())
            .unwrap();
        let pseudonym = store.pseudonym_of("olivia").unwrap();
        let stored: String = store
            .conn
            .query_row("SELECT payload FROM events", [], |row| row.get(0))
            .unwrap();
        assert!(stored.contains(&pseudonym) && !stored.contains("olivia"));

        let mut out = Vec::new();
        store
            .export_audit(None, ExportFormat::Csv, &mut out)
            .unwrap();
        let mut reader = csv::Reader::from_reader(out.as_slice());
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(serde_json::from_str::<Value>(&row[4]).unwrap(), payload);
        assert_eq!(&row[6], stored);
        assert_eq!(&row[5], hashes(&store)[0]);
    }

    #[test]
    fn since_keeps_only_later_rows() {
        let (_dir, store, _) = store_with_rows();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let trace = TraceId::new();
        store
            .record(&trace, EventKind::ToolFinished, json!({"late": true}))
            .unwrap();
        let late = store.events_for(&trace).unwrap()[0].created_at.clone();
        let mut out = Vec::new();
        let count = store
            .export_audit(Some(&late), ExportFormat::Json, &mut out)
            .unwrap();
        assert_eq!(count, 1);
        let parsed: Vec<Value> = serde_json::from_slice(&out).unwrap();
        assert_eq!(parsed[0]["payload"], json!({"late": true}));
        // Any offset is understood.
        let mut out = Vec::new();
        let count = store
            .export_audit(
                Some("2000-01-01T02:00:00+02:00"),
                ExportFormat::Csv,
                &mut out,
            )
            .unwrap();
        assert_eq!(count, 4);
        // Nothing after: a valid empty array.
        let mut out = Vec::new();
        let count = store
            .export_audit(Some("2999-01-01T00:00:00Z"), ExportFormat::Json, &mut out)
            .unwrap();
        assert_eq!(count, 0);
        assert!(serde_json::from_slice::<Vec<Value>>(&out)
            .unwrap()
            .is_empty());
        let err = store
            .export_audit(Some("last tuesday"), ExportFormat::Json, &mut Vec::new())
            .unwrap_err();
        assert!(matches!(err, StoreError::InvalidTime { .. }), "{err}");
    }

    #[test]
    fn a_failing_destination_says_what_to_do() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let (_dir, store, _) = store_with_rows();
        let err = store
            .export_audit(None, ExportFormat::Csv, &mut Full)
            .unwrap_err();
        assert!(matches!(err, StoreError::Export { .. }), "{err}");
        assert!(err.to_string().contains("free space"));
        assert_eq!("CSV".parse::<ExportFormat>(), Ok(ExportFormat::Csv));
        assert!("xml"
            .parse::<ExportFormat>()
            .unwrap_err()
            .contains("json or csv"));
    }
}
