//! Storage errors, each saying what to do next.

use std::path::PathBuf;

/// What can go wrong with the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory cannot be created or written.
    #[error(
        "cannot use data directory {}: {source}. Choose a writable directory with --data-dir \
         (or AIRLOCK_DATA_DIR)",
        path.display()
    )]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Another process holds the database lock for longer than the busy timeout.
    #[error(
        "the database {} is locked by another process (is another Airlock running?). \
         Close it and try again, or use another --data-dir",
        path.display()
    )]
    Locked {
        /// The database file.
        path: PathBuf,
    },
    /// The file is not a usable SQLite database.
    #[error(
        "the database {} is damaged ({detail}). It was left untouched: move it aside to start \
         with a new one, or restore it from a backup",
        path.display()
    )]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// SQLite's description.
        detail: String,
    },
    /// The file was written by a newer Airlock.
    #[error(
        "the database {} has schema version {found}, newer than this Airlock understands \
         ({supported}). Use the newer Airlock or another --data-dir",
        path.display()
    )]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The file predates what the caller needs (e.g. the audit chain) and was opened
    /// read-only, so it cannot be upgraded.
    #[error(
        "the database {} has schema version {found}, older than the audit log needs ({needed}). \
         Open it once with this Airlock (not read-only) to upgrade it, then copy it again",
        path.display()
    )]
    TooOld {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The version needed.
        needed: i64,
    },
    /// There is no database at the given path.
    #[error(
        "there is no Airlock database at {}: give the path of airlock.db or of the data \
         directory that holds it",
        path.display()
    )]
    NotFound {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The audit log failed verification.
    #[error(transparent)]
    Audit(#[from] crate::AuditProblem),
    /// The caller asked to store something the store refuses (e.g. a secret in settings).
    #[error("{0}")]
    Invalid(String),
    /// A stored value does not have the expected shape.
    #[error("stored data is malformed: {0}")]
    Malformed(String),
    /// A configured redaction pattern is not a regular expression.
    #[error(
        "the redaction pattern '{label}' is not a valid regular expression ({source}): fix it \
         in the configuration"
    )]
    InvalidPattern {
        /// The pattern's label.
        label: String,
        /// Why it does not compile.
        #[source]
        source: regex::Error,
    },
    /// A checkpoint was asked for without an audit signer.
    #[error(
        "no audit signer is set, so no checkpoint can be signed: call Store::set_audit_signer \
         with this installation's audit key first"
    )]
    NoAuditSigner,
    /// A time given by the caller is not RFC 3339.
    #[error(
        "'{value}' is not an RFC 3339 time ({reason}): write it like 2024-05-01T00:00:00Z or \
         2024-05-01T02:00:00+02:00"
    )]
    InvalidTime {
        /// What was given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// Writing an export failed.
    #[error(
        "cannot write the audit export ({source}): check that the destination is writable and \
         has free space, then export again"
    )]
    Export {
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A negative spend was given.
    #[error(
        "a spend of {amount_cents} cents is negative: record amounts in cents, zero or more \
         (a refused spend is recorded with the status rejected)"
    )]
    NegativeSpend {
        /// What was given.
        amount_cents: i64,
    },
    /// A spend for this decision is already in the ledger.
    #[error(
        "a spend for decision {decision_id} is already recorded: change its status with \
         set_spend_status instead of recording it again"
    )]
    DuplicateDecision {
        /// The decision.
        decision_id: String,
    },
    /// No spend was recorded for this decision.
    #[error("no spend is recorded for decision {decision_id}: record it with record_spend first")]
    UnknownDecision {
        /// The decision.
        decision_id: String,
    },
    /// The spend was already approved or rejected.
    #[error(
        "the spend for decision {decision_id} is already {status} and cannot change: record a \
         new decision instead"
    )]
    SpendDecided {
        /// The decision.
        decision_id: String,
        /// Its status.
        status: crate::SpendStatus,
    },
    /// Nothing is recorded about the person a subject export or erasure names.
    #[error(
        "no one named `{name}` is known to this Airlock: no account, conversation, document, \
         approval, spend or audit event records that name (it may have been erased already). \
         Check the spelling (`airlock users list`, `airlock audit export`)"
    )]
    UnknownSubject {
        /// The name given.
        name: String,
    },
    /// The operating system gave no random bytes for a subject's key.
    #[error(
        "the operating system gave no randomness for a pseudonym key ({reason}); check that \
         /dev/urandom (getrandom) works and try again"
    )]
    NoRandomness {
        /// Why.
        reason: String,
    },
    /// Any other SQLite failure.
    #[error("database error on {}: {source}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
}

impl StoreError {
    /// Classifies a SQLite error on `path`.
    pub(crate) fn from_sqlite(path: &std::path::Path, source: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        let path = path.to_owned();
        match source.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Self::Locked { path },
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => Self::Corrupt {
                path,
                detail: source.to_string(),
            },
            Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
                Self::DataDir {
                    source: std::io::Error::new(
                        std::io::ErrorKind::PermissionDenied,
                        source.to_string(),
                    ),
                    path,
                }
            }
            _ => Self::Sqlite { path, source },
        }
    }
}
