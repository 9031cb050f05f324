//! Counts of what happened to finished traces, shared by the layer and its threads.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// What happened to the traces since the layer was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TelemetryStats {
    /// Traces appended to a file.
    pub traces_written: u64,
    /// Traces dropped because the writer's queue was full.
    pub traces_dropped: u64,
    /// Traces that could not be written (the disk full, the directory gone, ...).
    pub write_failures: u64,
    /// Traces the collector accepted.
    pub traces_exported: u64,
    /// Traces not sent because the collector's queue was full.
    pub exports_dropped: u64,
    /// Traces the collector could not be reached for, or refused.
    pub export_failures: u64,
}

/// The live counters behind [`TelemetryStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub traces_written: AtomicU64,
    pub traces_dropped: AtomicU64,
    pub write_failures: AtomicU64,
    pub traces_exported: AtomicU64,
    pub exports_dropped: AtomicU64,
    pub export_failures: AtomicU64,
}

impl Counters {
    /// Adds one to `counter`.
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts now.
    pub(crate) fn snapshot(&self) -> TelemetryStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TelemetryStats {
            traces_written: get(&self.traces_written),
            traces_dropped: get(&self.traces_dropped),
            write_failures: get(&self.write_failures),
            traces_exported: get(&self.traces_exported),
            exports_dropped: get(&self.exports_dropped),
            export_failures: get(&self.export_failures),
        }
    }
}
