//! Offline telemetry for Airlock: request traces in the OpenTelemetry data model, and metrics
//! in the Prometheus text format.
//!
//! **Traces.** [`OtlpFileLayer`] is a `tracing` layer. Every span without a parent starts a
//! trace (the agent's `request` span, whose `trace_id` field carries the request id); its
//! descendants join it. When the root span closes, the whole trace is appended to a file in
//! the trace directory as one line of OTLP/JSON, the exact body the OTLP/HTTP exporter POSTs
//! to `/v1/traces`, so the files can later be shipped to a collector unchanged. Attribute
//! values pass the secret rule ([`is_secret_key`]) and the configured [`Scrubber`] before
//! they are kept. The files rotate by size (see [`TraceConfig`]); a collector on the plant
//! LAN may also receive every trace over plain HTTP ([`TraceConfig::endpoint`], off by
//! default).
//!
//! ```no_run
//! use airlock_telemetry::{OtlpFileLayer, TraceConfig};
//! use tracing_subscriber::prelude::*;
//!
//! let (layer, guard) = OtlpFileLayer::new(TraceConfig::new("/var/lib/airlock/traces"))?;
//! tracing_subscriber::registry().with(layer).init();
//! tracing::info_span!("request", trace_id = "3f2b8c1e-9d4a-4e5f-8a7b-6c5d4e3f2a1b").in_scope(|| {
//!     tracing::info_span!("plan", prompt_tokens = 512).in_scope(|| {});
//! });
//! drop(guard); // waits until the trace is on disk
//! # Ok::<(), airlock_telemetry::TelemetryError>(())
//! ```
//!
//! **Reading back.** [`find_trace`] and [`list_traces`] scan the directory newest first,
//! skipping lines that do not parse (a process killed mid-write leaves at most one);
//! [`render`] draws a [`TraceTree`] as an indented tree for `airlock trace show`.
//!
//! **Metrics.** [`prometheus`] builds counters, gauges and histograms and renders them in
//! text format 0.0.4.

mod config;
mod error;
mod export;
mod fields;
mod files;
mod ids;
mod layer;
mod otlp;
pub mod prometheus;
mod read;
mod render;
mod scrub;
mod stats;
mod throttle;
mod trace;
mod tree;
mod writer;

pub use config::TraceConfig;
pub use error::TelemetryError;
pub use layer::OtlpFileLayer;
pub use read::{find_trace, list_traces, TraceList, TraceSummary};
pub use render::render;
pub use scrub::{is_secret_key, Scrubber, MAX_ATTRIBUTE_CHARS, WITHHELD};
pub use stats::TelemetryStats;
pub use tree::{AttributeValue, SpanStatus, TraceTree, TreeEvent, TreeSpan};
pub use writer::TraceGuard;
