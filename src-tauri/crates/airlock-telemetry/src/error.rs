//! What can go wrong, each message ending with what to do about it.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// An error of the trace files, the collector settings or the metrics builder.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The trace directory could not be created or secured.
    #[error(
        "cannot create the trace directory {}: {source}; check that its parent exists and is \
         writable by the user running Airlock, or configure another trace directory",
        path.display()
    )]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The trace directory or one of its files could not be read.
    #[error(
        "cannot read the traces in {}: {source}; check that the path is the trace directory \
         and that it belongs to the user running Airlock",
        path.display()
    )]
    Read {
        /// The directory or file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A setting of [`TraceConfig`](crate::TraceConfig) is out of range.
    #[error("the trace settings are not valid: {0}")]
    InvalidConfig(&'static str),
    /// The collector address uses https.
    #[error(
        "the trace collector address {0} uses https, and TLS is not supported for the \
         collector: use an http:// collector on the same LAN segment, or a local relay that \
         forwards to the remote collector over TLS"
    )]
    TlsNotSupported(String),
    /// The collector address is not an `http://HOST[:PORT][/PATH]` URL.
    #[error(
        "the trace collector address {endpoint:?} is not valid ({reason}); write it as \
         http://HOST:PORT, e.g. http://10.0.0.5:4318"
    )]
    BadEndpoint {
        /// The address as given.
        endpoint: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A background thread could not be started.
    #[error(
        "cannot start the trace {what} thread: {source}; the system is out of threads or \
         memory: close other programs and start Airlock again"
    )]
    Spawn {
        /// Which thread.
        what: &'static str,
        /// Why.
        source: io::Error,
    },
    /// The traces queued so far were not all handled in time.
    #[error(
        "the traces were not all written within {0:?}: the disk may be slow or full; check the \
         free space of the trace directory"
    )]
    FlushTimedOut(Duration),
    /// A trace id that is neither a UUID nor 32 hex digits.
    #[error(
        "{0:?} is not a trace id: give the request id (a UUID, with or without dashes) or the \
         32 hex digits of a trace id"
    )]
    BadTraceId(String),
    /// A metric name outside `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    #[error(
        "{0:?} is not a valid metric name: use ASCII letters, digits, `_` and `:`, not \
         starting with a digit"
    )]
    MetricName(String),
    /// A label name outside `[a-zA-Z_][a-zA-Z0-9_]*`, or one used twice in a sample.
    #[error(
        "label {label:?} of metric {metric} is not valid: use ASCII letters, digits and `_`, \
         not starting with a digit, each name once per sample (and no `le` on a histogram)"
    )]
    LabelName {
        /// The metric family.
        metric: String,
        /// The label name.
        label: String,
    },
    /// Two families with the same name.
    #[error("metric {0} is defined twice: merge its samples into one family")]
    DuplicateFamily(String),
    /// Histogram bounds that are not finite and strictly increasing.
    #[error(
        "histogram bounds {0:?} are not valid: list finite upper bounds in strictly \
         increasing order, without +Inf (it is always added)"
    )]
    Buckets(Vec<f64>),
}
