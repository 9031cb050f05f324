//! Nearest-neighbour search in `chunk_vectors`, the sqlite-vec index of active chunks.
//!
//! The index is partitioned into [`VECTOR_SHARDS`] shards. A search is one exact KNN per shard
//! and access path (the reader's level, then each audience group above it); the scans run on
//! up to one connection per core at once, because a scan is bound by copying vectors out of
//! the file and one core cannot copy fast enough (BENCHMARKS.md, retrieval at scale). The
//! scans cover disjoint sets of chunks, so the `k` nearest of all their results are the `k`
//! nearest chunks the reader may see.

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use rusqlite::{params_from_iter, types::Value, Connection, OpenFlags};

use crate::documents::{vector_blob, EMBEDDING_DIMENSION, VECTOR_SHARDS};
use crate::search::{ChunkHit, Clearance, SearchFilter, MAX_SEARCH_RESULTS};
use crate::{Store, StoreError};

/// Connections that scan shards beside the store's own one, opened at the first search.
pub(crate) type ShardReaders = std::sync::OnceLock<Vec<Mutex<Connection>>>;

/// Which chunks one scan may return.
#[derive(Debug, Clone)]
enum Access {
    /// Classified at or below this rank.
    UpTo(i64),
    /// Classified above `level` and addressed to `group`.
    Audience { level: i64, group: String },
}

/// One KNN: a shard under one access path.
#[derive(Debug, Clone)]
struct Scan {
    shard: i64,
    access: Access,
}

impl Store {
    /// The `k` chunks nearest to `query` (a unit vector) that `clearance` may read, nearest
    /// first.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a vector of the wrong length; SQLite errors.
    pub fn nearest_chunks(
        &self,
        query: &[f32],
        k: usize,
        clearance: &Clearance,
        filter: &SearchFilter,
    ) -> Result<Vec<ChunkHit>, StoreError> {
        if query.len() != EMBEDDING_DIMENSION {
            return Err(StoreError::Invalid(format!(
                "the query vector has {} dimensions; the index holds {EMBEDDING_DIMENSION}",
                query.len()
            )));
        }
        let k = k.min(MAX_SEARCH_RESULTS);
        if k == 0 || filter.documents.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
        let scans = plan(clearance);
        let blob = vector_blob(query);
        let query = KnnQuery {
            blob: &blob,
            k,
            filter,
            path: &self.path,
        };
        let mut hits = self.run(&scans, &query)?;
        hits.sort_by(|a, b| {
            a.score
                .total_cmp(&b.score)
                .then(a.chunk_id.cmp(&b.chunk_id))
        });
        hits.truncate(k);
        Ok(hits)
    }

    /// Runs `scans` spread over the store's connection and its shard readers.
    fn run(&self, scans: &[Scan], query: &KnnQuery<'_>) -> Result<Vec<ChunkHit>, StoreError> {
        let readers = self.shard_readers();
        let lanes = readers.len() + 1;
        std::thread::scope(|scope| {
            let workers: Vec<_> = readers
                .iter()
                .enumerate()
                .map(|(index, reader)| {
                    scope.spawn(move || {
                        let conn = reader.lock().unwrap_or_else(PoisonError::into_inner);
                        scan_lane(&conn, scans, index + 1, lanes, query)
                    })
                })
                .collect();
            let mut hits = scan_lane(&self.conn, scans, 0, lanes, query)?;
            for worker in workers {
                let more = worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
                hits.extend(more);
            }
            Ok(hits)
        })
    }

    /// The extra connections for shard scans: one per further core, up to one per shard. None
    /// for a read-only store (it may be an immutable snapshot a second connection would not
    /// see the same way) or when they cannot be opened (logged; searches then scan every shard
    /// on the store's connection).
    fn shard_readers(&self) -> &[Mutex<Connection>] {
        self.shard_readers.get_or_init(|| {
            if self.read_only {
                return Vec::new();
            }
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            let shards = usize::try_from(VECTOR_SHARDS).unwrap_or(1);
            (1..cores.min(shards))
                .map(|_| open_reader(&self.path).map(Mutex::new))
                .collect::<Result<Vec<_>, _>>()
                .unwrap_or_else(|err| {
                    tracing::warn!(
                        path = %self.path.display(),
                        error = %err,
                        "no extra connection for vector search; shards are scanned one by one"
                    );
                    Vec::new()
                })
        })
    }
}

/// What every scan of one search shares.
struct KnnQuery<'a> {
    blob: &'a [u8],
    k: usize,
    filter: &'a SearchFilter,
    path: &'a Path,
}

/// Every shard under the reader's level, then every shard under each audience group.
fn plan(clearance: &Clearance) -> Vec<Scan> {
    let level = i64::from(clearance.level.rank());
    let mut accesses = vec![Access::UpTo(level)];
    accesses.extend(
        clearance
            .audience_groups()
            .into_iter()
            .map(|group| Access::Audience {
                level,
                group: group.to_owned(),
            }),
    );
    accesses
        .into_iter()
        .flat_map(|access| {
            (0..VECTOR_SHARDS).map(move |shard| Scan {
                shard,
                access: access.clone(),
            })
        })
        .collect()
}

/// Runs every `lanes`-th scan from `first` on `conn`.
fn scan_lane(
    conn: &Connection,
    scans: &[Scan],
    first: usize,
    lanes: usize,
    query: &KnnQuery<'_>,
) -> Result<Vec<ChunkHit>, StoreError> {
    let mut hits = Vec::new();
    for scan in scans.iter().skip(first).step_by(lanes) {
        hits.extend(
            knn(conn, scan, query).map_err(|err| StoreError::from_sqlite(query.path, err))?,
        );
    }
    Ok(hits)
}

/// The `k` nearest chunks of one scan.
fn knn(conn: &Connection, scan: &Scan, query: &KnnQuery<'_>) -> rusqlite::Result<Vec<ChunkHit>> {
    let mut values = vec![
        Value::Blob(query.blob.to_vec()),
        Value::Integer(i64::try_from(query.k).unwrap_or(i64::MAX)),
        Value::Integer(scan.shard),
    ];
    let mut sql = String::from(
        "SELECT chunk_id, distance FROM chunk_vectors
         WHERE embedding MATCH ? AND k = ? AND shard = ?",
    );
    match &scan.access {
        Access::UpTo(level) => {
            sql.push_str(" AND classification <= ?");
            values.push(Value::Integer(*level));
        }
        Access::Audience { level, group } => {
            sql.push_str(" AND classification > ? AND audience = ?");
            values.push(Value::Integer(*level));
            values.push(Value::Text(group.clone()));
        }
    }
    if let Some(documents) = &query.filter.documents {
        sql.push_str(" AND document_id IN (");
        sql.push_str(&vec!["?"; documents.len()].join(", "));
        sql.push(')');
        values.extend(documents.iter().map(|id| Value::Integer(*id)));
    }
    sql.push_str(" ORDER BY distance");
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(params_from_iter(values), |row| {
        Ok(ChunkHit {
            chunk_id: row.get(0)?,
            score: row.get::<_, f64>(1)? as f32,
        })
    })?;
    rows.collect()
}

/// A read-only connection to the store's file, set up for scanning like the store's own.
fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(crate::StoreOptions::default().busy_timeout)?;
    conn.execute_batch(crate::open::MEMORY_MAPPED_READS)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use airlock_core::Classification;

    use super::*;
    use crate::migrations::MIGRATIONS;
    use crate::DATABASE_FILE;

    /// A unit vector pointing mostly along axis `axis`.
    fn axis_vector(axis: usize) -> Vec<f32> {
        let mut vector = vec![0.01_f32; EMBEDDING_DIMENSION];
        vector[axis] = 1.0;
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        vector.iter().map(|x| x / norm).collect()
    }

    #[test]
    fn vectors_indexed_before_sharding_are_found_after_the_migration() {
        let dir = tempfile::tempdir().unwrap();
        crate::vec_extension::register();
        let conn = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        for migration in &MIGRATIONS[..7] {
            conn.execute_batch(migration.sql).unwrap();
            if let Some(code) = migration.code {
                code(&conn).unwrap();
            }
            conn.execute_batch(migration.then).unwrap();
        }
        conn.execute_batch("PRAGMA user_version = 7").unwrap();
        for id in 1..=10_i64 {
            let axis = usize::try_from(id).unwrap();
            conn.execute(
                "INSERT INTO chunk_vectors (chunk_id, embedding, classification, audience, document_id)
                 VALUES (?1, ?2, ?3, ?4, 1)",
                rusqlite::params![
                    id,
                    vector_blob(&axis_vector(axis)),
                    if id % 3 == 0 { 3 } else { 1 },
                    if id == 9 { "safety" } else { "" },
                ],
            )
            .unwrap();
        }
        drop(conn);

        let store = Store::open(dir.path()).unwrap();
        let shards: Vec<i64> = store
            .conn
            .prepare("SELECT shard FROM chunk_vectors ORDER BY chunk_id")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(shards, (1..=10).map(|id| id % 4).collect::<Vec<i64>>());

        let internal = Clearance::level(Classification::Internal);
        let all = SearchFilter::default();
        let hits = store
            .nearest_chunks(&axis_vector(7), 10, &internal, &all)
            .unwrap();
        let ids: Vec<i64> = hits.iter().map(|hit| hit.chunk_id).collect();
        assert_eq!(ids[0], 7);
        assert_eq!(
            ids.len(),
            7,
            "restricted chunks 3, 6 and 9 stay hidden: {ids:?}"
        );
        assert!(ids.iter().all(|id| id % 3 != 0));

        let safety = Clearance {
            level: Classification::Internal,
            groups: vec!["safety".to_owned()],
        };
        let hits = store
            .nearest_chunks(&axis_vector(9), 1, &safety, &all)
            .unwrap();
        assert_eq!(
            hits[0].chunk_id, 9,
            "the audience group still opens chunk 9"
        );

        drop(store);
        let snapshot = Store::open_read_only(dir.path()).unwrap();
        let hits = snapshot
            .nearest_chunks(&axis_vector(7), 10, &internal, &all)
            .unwrap();
        assert_eq!(
            hits.len(),
            7,
            "a read-only store scans its shards on one connection"
        );
    }
}
