//! The write log: every write attempt, accepted or refused, in memory and optionally appended
//! to a JSON Lines file.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::SimError;

/// One write attempt (POST, PUT, PATCH, MERGE or DELETE) and how it was answered.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RecordedWrite {
    /// The effective method: `MERGE` for a POST tunnelled with `X-HTTP-Method: MERGE`.
    pub method: String,
    /// The request path, without the query string.
    pub path: String,
    /// The request body: its JSON, a string if it was not JSON, or `null` if it was empty.
    pub body: serde_json::Value,
    /// The HTTP status of the answer.
    pub status: u16,
    /// The authenticated user (upper case), or `None` if the credentials were refused.
    pub user: Option<String>,
}

/// Keeps the write attempts.
#[derive(Debug)]
pub(crate) struct Recorder {
    writes: Vec<RecordedWrite>,
    file: Option<File>,
}

impl Recorder {
    /// A recorder that also appends to `path`, if given.
    pub(crate) fn open(path: Option<&Path>) -> Result<Recorder, SimError> {
        let file = path
            .map(|path| {
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|source| SimError::Record {
                        path: path.to_path_buf(),
                        source,
                    })
            })
            .transpose()?;
        Ok(Recorder {
            writes: Vec::new(),
            file,
        })
    }

    /// Keeps one write attempt (a file that cannot be written to is logged, not fatal).
    pub(crate) fn record(&mut self, write: RecordedWrite) {
        tracing::info!(
            method = %write.method,
            path = %write.path,
            status = write.status,
            user = write.user.as_deref().unwrap_or("-"),
            "write"
        );
        if let Some(file) = &mut self.file {
            let appended = serde_json::to_string(&write)
                .map_err(std::io::Error::from)
                .and_then(|line| writeln!(file, "{line}"))
                .and_then(|()| file.flush());
            if let Err(err) = appended {
                tracing::warn!(%err, "cannot append to the record file");
            }
        }
        self.writes.push(write);
    }

    /// Every write attempt so far, in order.
    pub(crate) fn writes(&self) -> &[RecordedWrite] {
        &self.writes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_appended_as_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("writes.jsonl");
        std::fs::write(&path, "{\"earlier\":true}\n").unwrap();
        let mut recorder = Recorder::open(Some(&path)).unwrap();
        let write = RecordedWrite {
            method: "POST".into(),
            path: "/sap/opu/odata/sap/API_MAINTENANCEORDER/MaintenanceOrder".into(),
            body: serde_json::json!({"Equipment": "P-101"}),
            status: 201,
            user: Some("AIRLOCK".into()),
        };
        recorder.record(write.clone());
        recorder.record(RecordedWrite {
            status: 403,
            user: None,
            ..write.clone()
        });
        assert_eq!(recorder.writes().len(), 2);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "appended after what was there");
        assert_eq!(lines[1]["status"], 201);
        assert_eq!(lines[1]["body"]["Equipment"], "P-101");
        assert_eq!(lines[2]["user"], serde_json::Value::Null);
    }
}
