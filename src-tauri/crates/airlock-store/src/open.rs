//! Opening the database: data directory, WAL, busy timeout, durability, migrations.
//!
//! Durability: the connection runs with `PRAGMA synchronous = FULL` in WAL mode, so every commit
//! (an audit append above all) is fsynced to the write-ahead log before the call returns: an
//! event that [`Store::append_event`] acknowledged survives a power cut. Batch with
//! [`Store::append_events`] to pay one fsync for many events.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::knn::ShardReaders;
use crate::migrations::{Migration, AUDIT_VERSION, MIGRATIONS};
use crate::subjects::Subjects;
use crate::{Redactor, StoreError};

/// The database file's name inside the data directory.
pub const DATABASE_FILE: &str = "airlock.db";

/// Memory-mapped reads (up to 1 GiB of the file): a vector search scans every stored vector,
/// and copying them through SQLite's page cache doubled its time (measured, BENCHMARKS.md).
pub(crate) const MEMORY_MAPPED_READS: &str = "PRAGMA mmap_size = 1073741824;";

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How long a write waits for another process's lock before failing with
    /// [`StoreError::Locked`].
    pub busy_timeout: Duration,
    /// What is redacted from every event payload before it is written (default: e-mail
    /// addresses, phone and card numbers; secrets are always withheld).
    pub redactor: Redactor,
    /// With an audit signer set ([`Store::set_audit_signer`]), an append that leaves this many
    /// or more rows after the newest checkpoint also signs a checkpoint of its newest row, in
    /// the same transaction. 0 signs only on [`Store::checkpoint`] and on drop.
    pub checkpoint_every: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(5),
            redactor: Redactor::default(),
            checkpoint_every: 1000,
        }
    }
}

/// An open Airlock database. Not shared between threads: wrap it in a mutex.
///
/// Dropping a store that has an audit signer signs a checkpoint of the newest row first when it
/// has none (best effort: a failure is logged with `tracing`, and the drop may wait up to the
/// busy timeout for another process's lock).
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    pub(crate) redactor: Redactor,
    pub(crate) signer: Option<SigningKey>,
    pub(crate) checkpoint_every: u64,
    pub(crate) read_only: bool,
    pub(crate) shard_readers: ShardReaders,
    /// The data subjects as last read (see [`Store::subjects`]).
    pub(crate) subjects_cache: RefCell<Option<Arc<Subjects>>>,
}

/// The platform data directory (`$AIRLOCK_DATA_DIR` when set), e.g. `~/.local/share/airlock`.
#[must_use]
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("AIRLOCK_DATA_DIR") {
        return PathBuf::from(dir);
    }
    directories::ProjectDirs::from("com", "Airlock", "airlock").map_or_else(
        || PathBuf::from(".airlock"),
        |dirs| dirs.data_dir().to_owned(),
    )
}

impl Store {
    /// Opens (creating when needed) `airlock.db` in `data_dir` with default options.
    ///
    /// # Errors
    /// [`StoreError::DataDir`], [`StoreError::Locked`], [`StoreError::Corrupt`],
    /// [`StoreError::TooNew`].
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(data_dir, &StoreOptions::default())
    }

    /// Opens (creating when needed) `airlock.db` in `data_dir`.
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn open_with(data_dir: &Path, options: &StoreOptions) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(DATABASE_FILE);
        crate::vec_extension::register();
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|err| StoreError::from_sqlite(&path, err))?;
        let store = Self {
            conn,
            path,
            redactor: options.redactor.clone(),
            signer: None,
            checkpoint_every: options.checkpoint_every,
            read_only: false,
            shard_readers: ShardReaders::new(),
            subjects_cache: RefCell::new(None),
        };
        store.configure(options)?;
        store.migrate()?;
        tracing::debug!(path = %store.path.display(), "store open");
        Ok(store)
    }

    /// Opens an existing database read-only, e.g. a copy an auditor was given, to verify or
    /// export its audit log. `path` is the file, or the data directory holding `airlock.db`.
    /// No migration runs and nothing is written, not even a checkpoint on drop.
    ///
    /// When SQLite cannot open the file that way (a read-only directory without the `-shm`
    /// file WAL mode needs), it is opened as immutable, which ignores a `-wal` file beside it:
    /// copy the database after Airlock has closed it (closing folds the WAL into the file).
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::Corrupt`], [`StoreError::TooNew`], or
    /// [`StoreError::TooOld`] for a file written before the audit chain.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let file = if path.is_dir() {
            path.join(DATABASE_FILE)
        } else {
            path.to_owned()
        };
        if !file.is_file() {
            return Err(StoreError::NotFound { path: file });
        }
        crate::vec_extension::register();
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let probe = |conn: Connection| {
            conn.query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))
                .map(|version| (conn, version))
        };
        let (conn, version) = match Connection::open_with_flags(&file, flags).and_then(probe) {
            Ok(opened) => opened,
            Err(err)
                if matches!(
                    err.sqlite_error_code(),
                    Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly)
                ) =>
            {
                tracing::warn!(
                    path = %file.display(),
                    error = %err,
                    "opening the database as immutable; a -wal file beside it is ignored"
                );
                Connection::open_with_flags(immutable_uri(&file), flags)
                    .and_then(probe)
                    .map_err(|err| StoreError::from_sqlite(&file, err))?
            }
            Err(err) => return Err(StoreError::from_sqlite(&file, err)),
        };
        let supported = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
        if version > supported {
            return Err(StoreError::TooNew {
                path: file,
                found: version,
                supported,
            });
        }
        if version < AUDIT_VERSION {
            return Err(StoreError::TooOld {
                path: file,
                found: version,
                needed: AUDIT_VERSION,
            });
        }
        conn.busy_timeout(StoreOptions::default().busy_timeout)
            .map_err(|err| StoreError::from_sqlite(&file, err))?;
        tracing::debug!(path = %file.display(), "store open read-only");
        Ok(Self {
            conn,
            path: file,
            redactor: Redactor::default(),
            signer: None,
            checkpoint_every: 0,
            read_only: true,
            shard_readers: ShardReaders::new(),
            subjects_cache: RefCell::new(None),
        })
    }

    /// Whether the store was opened with [`Store::open_read_only`].
    #[must_use]
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The database file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open file.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|err| self.error(err))
    }

    fn configure(&self, options: &StoreOptions) -> Result<(), StoreError> {
        self.conn
            .busy_timeout(options.busy_timeout)
            .map_err(|err| self.error(err))?;
        // The first statement that reads the file: a damaged or foreign file fails here.
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(|err| self.error(err))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, "SQLite refused WAL mode");
        }
        self.conn
            .execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
            .map_err(|err| self.error(err))?;
        self.conn
            .execute_batch(MEMORY_MAPPED_READS)
            .map_err(|err| self.error(err))?;
        let check: String = self
            .conn
            .query_row("PRAGMA quick_check", [], |row| row.get(0))
            .map_err(|err| self.error(err))?;
        if check != "ok" {
            return Err(StoreError::Corrupt {
                path: self.path.clone(),
                detail: check,
            });
        }
        Ok(())
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let supported = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
        loop {
            let current = self.schema_version()?;
            if current > supported {
                return Err(StoreError::TooNew {
                    path: self.path.clone(),
                    found: current,
                    supported,
                });
            }
            if current == supported {
                return Ok(());
            }
            self.conn
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(|err| self.error(err))?;
            // Another process may have migrated while this one waited for the lock.
            let result = self.schema_version().and_then(|current| {
                match usize::try_from(current)
                    .ok()
                    .and_then(|i| MIGRATIONS.get(i))
                {
                    Some(migration) => self
                        .apply(migration, current + 1)
                        .map(|()| Some(current + 1)),
                    None => Ok(None),
                }
            });
            match result.and_then(|applied| {
                self.conn
                    .execute_batch("COMMIT")
                    .map_err(|err| self.error(err))
                    .map(|()| applied)
            }) {
                Ok(Some(version)) => {
                    tracing::info!(version, path = %self.path.display(), "database migrated");
                }
                Ok(None) => {}
                Err(err) => {
                    // Leave the file as it was before this migration.
                    let _ = self.conn.execute_batch("ROLLBACK");
                    return Err(err);
                }
            }
        }
    }

    fn apply(&self, migration: &Migration, version: i64) -> Result<(), StoreError> {
        self.conn
            .execute_batch(migration.sql)
            .map_err(|err| self.error(err))?;
        if let Some(code) = migration.code {
            code(&self.conn).map_err(|err| self.error(err))?;
        }
        self.conn
            .execute_batch(&format!(
                "{}; PRAGMA user_version = {version};",
                migration.then
            ))
            .map_err(|err| self.error(err))
    }

    pub(crate) fn error(&self, err: rusqlite::Error) -> StoreError {
        StoreError::from_sqlite(&self.path, err)
    }
}

/// `file:` URI of `path` with `immutable=1`, percent-encoding what a URI path cannot hold.
fn immutable_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for byte in path.to_string_lossy().bytes() {
        if byte.is_ascii_alphanumeric() || b"/-_.~".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_store_is_migrated_to_the_latest_schema_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        drop(store);
        // Reopening applies nothing twice.
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    }

    #[test]
    fn the_immutable_fallback_uri_opens_paths_with_odd_characters() {
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join("audit copy #1 (100%)?");
        drop(Store::open(&odd).unwrap());
        let uri = immutable_uri(&odd.join(DATABASE_FILE));
        assert!(uri.ends_with("?immutable=1") && !uri.contains(' '), "{uri}");
        let conn = Connection::open_with_flags(
            &uri,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
        )
        .unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }

    #[test]
    fn data_dir_under_a_regular_file_is_refused_with_a_hint() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, b"x").unwrap();
        let err = Store::open(&file.join("data")).err().unwrap();
        assert!(matches!(err, StoreError::DataDir { .. }), "{err}");
        assert!(err.to_string().contains("--data-dir"));
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_reported_damaged_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DATABASE_FILE);
        let garbage = b"this is not a database, it is a shopping list\n".repeat(200);
        std::fs::write(&path, &garbage).unwrap();
        let err = Store::open(dir.path()).err().unwrap();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), garbage);
    }

    #[test]
    fn a_database_from_a_newer_airlock_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let conn = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        conn.execute_batch("PRAGMA user_version = 999").unwrap();
        drop(conn);
        let err = Store::open(dir.path()).err().unwrap();
        assert!(
            matches!(err, StoreError::TooNew { found: 999, .. }),
            "{err}"
        );
    }
}
