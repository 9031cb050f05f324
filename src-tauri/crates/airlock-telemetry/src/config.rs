//! The settings of the trace files and of the optional LAN collector.

use std::fmt;
use std::path::PathBuf;

use crate::error::TelemetryError;
use crate::scrub::Scrubber;

/// How traces are kept.
///
/// Files are named `traces-YYYYMMDD-HHMMSS-NNNNNN.jsonl` (UTC time of creation, then a
/// sequence number), so their names sort oldest first. A trace is appended to the newest
/// file; when that would grow past `max_file_bytes`, a new file is started (a single trace
/// larger than the limit gets a file of its own), and the oldest files are deleted so that
/// at most `max_files` remain.
#[derive(Clone)]
pub struct TraceConfig {
    /// The trace directory; created (mode 0700 on Unix) if missing.
    pub dir: PathBuf,
    /// The size a file may reach before the next trace starts a new one (16 MiB by default).
    pub max_file_bytes: u64,
    /// The most files kept, the newest (8 by default).
    pub max_files: usize,
    /// An OTLP/HTTP collector on the plant LAN, `http://HOST[:PORT][/PATH]`, that also
    /// receives every trace at `{endpoint}/v1/traces`; `None` (the default) sends nothing.
    pub endpoint: Option<String>,
    /// Applied to every attribute's text after the secret rule ([`is_secret_key`] names are
    /// always withheld), e.g. to redact personal data; `None` keeps the text as it is.
    ///
    /// [`is_secret_key`]: crate::is_secret_key
    pub scrubber: Option<Scrubber>,
    /// The `service.version` resource attribute (this crate's version by default, which is
    /// the workspace's).
    pub service_version: String,
}

impl TraceConfig {
    /// The defaults, keeping traces in `dir`.
    #[must_use]
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            max_file_bytes: 16 * 1024 * 1024,
            max_files: 8,
            endpoint: None,
            scrubber: None,
            service_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    /// Refuses settings that cannot work.
    pub(crate) fn check(&self) -> Result<(), TelemetryError> {
        if self.max_files == 0 {
            return Err(TelemetryError::InvalidConfig(
                "max_files is 0: keep at least one trace file",
            ));
        }
        if self.max_file_bytes == 0 {
            return Err(TelemetryError::InvalidConfig(
                "max_file_bytes is 0: allow each trace file at least one byte (16 MiB is the default)",
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for TraceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceConfig")
            .field("dir", &self.dir)
            .field("max_file_bytes", &self.max_file_bytes)
            .field("max_files", &self.max_files)
            .field("endpoint", &self.endpoint)
            .field("scrubber", &self.scrubber.as_ref().map(|_| "custom"))
            .field("service_version", &self.service_version)
            .finish()
    }
}
