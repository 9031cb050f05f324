//! Why an evidence package could not be written, each message saying what to do next.

use std::path::PathBuf;

/// What can go wrong while writing an evidence package. Nothing is left at the destination
/// when it does: the package is assembled next to it and renamed into place only at the end.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// A bound of the period is neither a day nor an RFC 3339 instant.
    #[error(
        "--{which} '{value}' is not a day or an instant ({reason}): write a day as 2026-11-01 \
         (UTC) or an instant as 2026-11-01T08:00:00Z or 2026-11-01T09:00:00+01:00"
    )]
    InvalidBound {
        /// `from` or `to`.
        which: &'static str,
        /// What was given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// The period starts after it ends.
    #[error(
        "the period starts ({from}) after it ends ({to}): give the earlier time as --from and \
         the later one as --to"
    )]
    ReversedPeriod {
        /// The start, as stored times are written.
        from: String,
        /// The end.
        to: String,
    },
    /// The destination exists and holds something (or is not a directory).
    #[error(
        "{} already exists and is not an empty directory: choose a new directory for the \
         package (nothing is ever written over existing files)",
        path.display()
    )]
    DestinationNotEmpty {
        /// The destination.
        path: PathBuf,
    },
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] airlock_store::StoreError),
    /// A file could not be read or written.
    #[error(
        "could not {action} {}: {source}. Check that the directory is writable and has free \
         space (and that the policy directory is readable), then try again",
        path.display()
    )]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A package file could not be serialized.
    #[error("could not serialize {file}: {source}; this is a bug in Airlock, please report it")]
    Serialize {
        /// The package file.
        file: &'static str,
        /// The serializer's error.
        #[source]
        source: serde_json::Error,
    },
}

/// A closure turning an I/O error on `path` into [`EvidenceError::Io`].
pub(crate) fn io<'a>(
    action: &'static str,
    path: &'a std::path::Path,
) -> impl FnOnce(std::io::Error) -> EvidenceError + 'a {
    move |source| EvidenceError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}
