//! Reading traces back from the trace directory, newest first, skipping unreadable lines.

use std::fs;
use std::io;
use std::path::Path;

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::TelemetryError;
use crate::files::trace_files;
use crate::ids::{hex, parse_trace_id};
use crate::otlp::TracesData;
use crate::tree::TraceTree;

/// One trace in a listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceSummary {
    /// The trace id in UUID form (the request id).
    pub trace_id: String,
    /// The root span's name.
    pub root_name: String,
    /// When the root span started, RFC 3339 in UTC.
    pub started_at: String,
    /// When the root span started, in Unix nanoseconds.
    pub start_unix_nano: u64,
    /// How long the root span lasted, in milliseconds.
    pub duration_ms: f64,
    /// How many spans the trace holds.
    pub span_count: usize,
}

/// The newest traces, and how many lines could not be read on the way.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TraceList {
    /// Newest first.
    pub traces: Vec<TraceSummary>,
    /// Lines that are not a trace (e.g. the last line of a process killed while writing).
    pub unreadable_lines: usize,
}

/// The trace with this id (a request id: a UUID with or without dashes, or 32 hex digits),
/// searched in every trace file, newest first; the newest if it was written twice. Lines
/// that do not parse are skipped (and logged).
///
/// # Errors
/// [`TelemetryError::BadTraceId`] for an id of the wrong form; [`TelemetryError::Read`] when
/// the directory or a file cannot be read. A directory that does not exist holds no trace.
pub fn find_trace(dir: &Path, trace_id: &str) -> Result<Option<TraceTree>, TelemetryError> {
    let id = parse_trace_id(trace_id).ok_or_else(|| TelemetryError::BadTraceId(trace_id.into()))?;
    let id = hex(&id);
    let needle = format!("\"traceId\":\"{id}\"");
    let mut unreadable = 0;
    let mut found = None;
    each_line_newest_first(dir, |line| {
        if !line.contains(&needle) {
            return true;
        }
        match parse(line).and_then(|data| TraceTree::from_otlp(&data, &id)) {
            Some(tree) => {
                found = Some(tree);
                false
            }
            None => {
                unreadable += 1;
                true
            }
        }
    })?;
    if unreadable > 0 {
        tracing::warn!(unreadable, "skipped trace lines that do not parse");
    }
    Ok(found)
}

/// The newest `limit` traces, newest first.
///
/// # Errors
/// [`TelemetryError::Read`] when the directory or a file cannot be read. A directory that
/// does not exist holds no trace.
pub fn list_traces(dir: &Path, limit: usize) -> Result<TraceList, TelemetryError> {
    let mut list = TraceList::default();
    if limit == 0 {
        return Ok(list);
    }
    each_line_newest_first(dir, |line| {
        match parse(line).as_ref().and_then(summary) {
            Some(trace) => list.traces.push(trace),
            None => list.unreadable_lines += 1,
        }
        list.traces.len() < limit
    })?;
    Ok(list)
}

/// Calls `visit` with each line (text or not: non-UTF-8 lines come as empty text) of every
/// trace file, newest first, until it returns `false`.
fn each_line_newest_first(
    dir: &Path,
    mut visit: impl FnMut(&str) -> bool,
) -> Result<(), TelemetryError> {
    let read_error = |path: &Path, source| TelemetryError::Read {
        path: path.to_owned(),
        source,
    };
    let files = trace_files(dir).map_err(|e| read_error(dir, e))?;
    for path in files.iter().rev() {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            // Rotated away by a writer since the listing.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(read_error(path, e)),
        };
        let lines = bytes.split(|b| *b == b'\n').filter(|line| !line.is_empty());
        for line in lines.rev() {
            if !visit(std::str::from_utf8(line).unwrap_or_default()) {
                return Ok(());
            }
        }
    }
    Ok(())
}

fn parse(line: &str) -> Option<TracesData> {
    serde_json::from_str(line).ok()
}

/// The summary of the one trace a line holds.
fn summary(data: &TracesData) -> Option<TraceSummary> {
    let trace_id = data
        .resource_spans
        .first()?
        .scope_spans
        .first()?
        .spans
        .first()?
        .trace_id
        .clone();
    let tree = TraceTree::from_otlp(data, &trace_id)?;
    let started_at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(tree.start_unix_nano))
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default();
    Some(TraceSummary {
        trace_id: tree.trace_id,
        root_name: tree.root.name,
        started_at,
        start_unix_nano: tree.start_unix_nano,
        duration_ms: tree.root.duration_ms,
        span_count: tree.span_count,
    })
}
