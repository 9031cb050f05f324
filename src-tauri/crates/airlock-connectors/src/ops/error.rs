//! Why the simulator could not be opened.

use std::path::PathBuf;

/// Why [`super::OpsSimulator::open`] failed; every message says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The fixtures directory does not exist or cannot be read.
    #[error(
        "cannot open fixtures directory {}: {source}: pass --fixtures-dir or run from the \
         repository root",
        path.display()
    )]
    FixturesUnreadable {
        /// The directory as given.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The fixtures path names a file, not a directory.
    #[error(
        "fixtures path {} is not a directory: pass the fixtures directory itself with \
         --fixtures-dir",
        path.display()
    )]
    NotADirectory {
        /// The path as given.
        path: PathBuf,
    },
    /// The fixtures directory has no `sim/logs/` directory.
    #[error(
        "fixtures directory {} has no sim/logs/: pass --fixtures-dir or run from the repository root",
        path.display()
    )]
    MissingLogs {
        /// The directory as given.
        path: PathBuf,
    },
    /// The fixtures directory has no `status.json`.
    #[error(
        "fixtures directory {} has no status.json: pass --fixtures-dir or run from the \
         repository root",
        path.display()
    )]
    MissingStatus {
        /// The directory as given.
        path: PathBuf,
    },
}
