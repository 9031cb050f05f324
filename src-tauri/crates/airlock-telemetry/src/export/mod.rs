//! Sending finished traces to an OTLP/HTTP collector on the plant LAN, from a thread of its
//! own with a bounded queue, so a slow or absent collector never holds the app up.

mod endpoint;
mod http;

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::time::Instant;

pub(crate) use endpoint::Endpoint;

use crate::error::TelemetryError;
use crate::stats::Counters;
use crate::throttle::Throttle;

/// How many traces may wait for the collector; more are dropped and counted.
const QUEUE: usize = 64;

/// What the exporter thread is asked to do.
#[derive(Debug)]
pub(crate) enum ExportMsg {
    /// POST this OTLP/JSON body.
    Body(Arc<[u8]>),
    /// Answer once everything queued before has been tried.
    Flush(SyncSender<()>),
}

/// Starts the exporter thread; it ends when every sender is gone.
pub(crate) fn spawn(
    endpoint: Endpoint,
    counters: Arc<Counters>,
) -> Result<SyncSender<ExportMsg>, TelemetryError> {
    let (tx, rx) = mpsc::sync_channel(QUEUE);
    std::thread::Builder::new()
        .name("airlock-trace-export".into())
        .spawn(move || run(&endpoint, &rx, &counters))
        .map_err(|source| TelemetryError::Spawn {
            what: "export",
            source,
        })?;
    Ok(tx)
}

fn run(endpoint: &Endpoint, rx: &Receiver<ExportMsg>, counters: &Counters) {
    let mut throttle = Throttle::default();
    for msg in rx {
        match msg {
            ExportMsg::Body(body) => match http::post_json(endpoint, &body) {
                Ok(()) => Counters::bump(&counters.traces_exported),
                Err(e) => {
                    Counters::bump(&counters.export_failures);
                    if let Some(held_back) = throttle.allow(Instant::now()) {
                        tracing::warn!(
                            collector = %endpoint.host_header(),
                            error = %e,
                            similar_failures_since_last_warning = held_back,
                            "a trace could not be sent to the collector; it is still in the \
                             trace files. Check that the collector runs and listens on this \
                             address"
                        );
                    }
                }
            },
            ExportMsg::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}
