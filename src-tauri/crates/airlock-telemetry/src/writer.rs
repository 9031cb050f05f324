//! The writer thread, which turns finished traces into lines in the trace files (and hands
//! them to the exporter), and the guard that waits for it.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::TelemetryError;
use crate::export::ExportMsg;
use crate::files::TraceFiles;
use crate::stats::{Counters, TelemetryStats};
use crate::throttle::Throttle;
use crate::trace::FinishedTrace;

/// How many finished traces may wait for the writer; more are dropped and counted.
const QUEUE: usize = 256;
/// How long [`TraceGuard::flush`] waits for the files.
const WRITE_WAIT: Duration = Duration::from_secs(10);
/// How long [`TraceGuard::flush`] then waits for the collector.
const EXPORT_WAIT: Duration = Duration::from_secs(5);

/// What the writer thread is asked to do.
#[derive(Debug)]
pub(crate) enum WriterMsg {
    /// Append this trace.
    Trace(FinishedTrace),
    /// Answer once everything queued before is written.
    Flush(SyncSender<()>),
}

/// The writer's side of the setup.
pub(crate) struct Writer {
    pub files: TraceFiles,
    pub service_version: String,
    pub exporter: Option<SyncSender<ExportMsg>>,
    pub counters: Arc<Counters>,
}

/// Starts the writer thread; it ends when every sender is gone.
pub(crate) fn spawn(writer: Writer) -> Result<SyncSender<WriterMsg>, TelemetryError> {
    let (tx, rx) = mpsc::sync_channel(QUEUE);
    std::thread::Builder::new()
        .name("airlock-trace-writer".into())
        .spawn(move || writer.run(&rx))
        .map_err(|source| TelemetryError::Spawn {
            what: "writer",
            source,
        })?;
    Ok(tx)
}

impl Writer {
    fn run(self, rx: &Receiver<WriterMsg>) {
        let mut throttle = Throttle::default();
        let mut dropped_reported = 0;
        for msg in rx {
            match msg {
                WriterMsg::Trace(trace) => self.write(&trace, &mut throttle),
                WriterMsg::Flush(done) => {
                    let _ = done.send(());
                }
            }
            let dropped = self.counters.traces_dropped.load(Ordering::Relaxed)
                + self.counters.exports_dropped.load(Ordering::Relaxed);
            if dropped > dropped_reported && throttle.allow(Instant::now()).is_some() {
                dropped_reported = dropped;
                tracing::warn!(
                    dropped,
                    "traces were dropped because they arrived faster than they could be \
                     written or sent; check the trace directory's disk and the collector"
                );
            }
        }
    }

    fn write(&self, trace: &FinishedTrace, throttle: &mut Throttle) {
        let mut line = match serde_json::to_vec(&trace.to_otlp(&self.service_version)) {
            Ok(line) => line,
            Err(e) => {
                Counters::bump(&self.counters.write_failures);
                tracing::warn!(error = %e, "a trace could not be encoded as OTLP/JSON");
                return;
            }
        };
        if let Some(exporter) = &self.exporter {
            if let Err(TrySendError::Full(_)) =
                exporter.try_send(ExportMsg::Body(Arc::from(&line[..])))
            {
                Counters::bump(&self.counters.exports_dropped);
            }
        }
        line.push(b'\n');
        match self.files.append(&line) {
            Ok(()) => Counters::bump(&self.counters.traces_written),
            Err(e) => {
                Counters::bump(&self.counters.write_failures);
                if let Some(held_back) = throttle.allow(Instant::now()) {
                    tracing::warn!(
                        error = %e,
                        similar_failures_since_last_warning = held_back,
                        "a trace could not be written to the trace directory; check its free \
                         space and permissions"
                    );
                }
            }
        }
    }
}

/// Keeps the trace threads' work within reach: [`flush`](Self::flush) waits until every
/// trace finished so far is written (and offered to the collector), and dropping the guard
/// does the same, so a short-lived process exits with its traces on disk. Keep it alive for
/// as long as the process traces.
#[derive(Debug)]
pub struct TraceGuard {
    writer: SyncSender<WriterMsg>,
    exporter: Option<SyncSender<ExportMsg>>,
    counters: Arc<Counters>,
}

impl TraceGuard {
    pub(crate) fn new(
        writer: SyncSender<WriterMsg>,
        exporter: Option<SyncSender<ExportMsg>>,
        counters: Arc<Counters>,
    ) -> Self {
        Self {
            writer,
            exporter,
            counters,
        }
    }

    /// Waits (at most 10 s) until the traces finished so far are in the files, then (at
    /// most 5 s more) until the collector, if any, was tried with each.
    ///
    /// # Errors
    /// [`TelemetryError::FlushTimedOut`] when the writer did not catch up in time.
    pub fn flush(&self) -> Result<(), TelemetryError> {
        if !wait(&self.writer, WriterMsg::Flush, WRITE_WAIT) {
            return Err(TelemetryError::FlushTimedOut(WRITE_WAIT));
        }
        if let Some(exporter) = &self.exporter {
            // The collector is a bonus: the trace is already on disk.
            wait(exporter, ExportMsg::Flush, EXPORT_WAIT);
        }
        Ok(())
    }

    /// What happened to the traces so far.
    #[must_use]
    pub fn stats(&self) -> TelemetryStats {
        self.counters.snapshot()
    }
}

impl Drop for TraceGuard {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Queues a flush request and waits for its answer, all within `limit`; `true` when
/// answered (or when the thread is gone, so nothing is left to wait for).
fn wait<M>(tx: &SyncSender<M>, flush: fn(SyncSender<()>) -> M, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    let mut msg = flush(done_tx);
    loop {
        match tx.try_send(msg) {
            Ok(()) => break,
            Err(TrySendError::Disconnected(_)) => return true,
            Err(TrySendError::Full(back)) => {
                if Instant::now() >= deadline {
                    return false;
                }
                msg = back;
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    match done_rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(()) => true,
        Err(mpsc::RecvTimeoutError::Disconnected) => true,
        Err(mpsc::RecvTimeoutError::Timeout) => false,
    }
}
