//! Plant documents for retrieval: documents, their versions and chunks, and the two search
//! indexes over the chunks of each document's active version (`chunk_fts` for BM25,
//! `chunk_vectors` for nearest neighbours).
//!
//! Ingesting a version is resumable: [`Store::begin_version`] opens (or finds the unfinished)
//! version, [`Store::add_chunks`] stores chunks with their vectors in batches, each batch one
//! transaction, and [`Store::activate_version`] makes the version searchable and retires the
//! previous one, in one transaction. A process killed in between leaves an `ingesting` version
//! whose stored chunks are kept: beginning the same content again continues after them.

use airlock_core::Classification;
use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;

use crate::write::WriteError;
use crate::{Store, StoreError};

/// The length of every stored vector (all-MiniLM-L6-v2's): `chunk_vectors` is declared with it.
pub const EMBEDDING_DIMENSION: usize = 384;

/// `chunk_vectors` is partitioned into this many shards (chunk id modulo the count), which a
/// search scans in parallel.
pub(crate) const VECTOR_SHARDS: i64 = 4;

/// A document's labels and content as an ingest presents them.
#[derive(Debug, Clone)]
pub struct NewVersion<'a> {
    /// Where the document comes from (its canonical path): one document per source.
    pub source: &'a str,
    /// Shown in citations.
    pub title: &'a str,
    /// `pdf`, `docx`, `md`, `txt` or `csv`.
    pub format: &'a str,
    /// Who may retrieve it.
    pub classification: Classification,
    /// A group that may retrieve it whatever its members' clearance (empty: none).
    pub audience: &'a str,
    /// Free-form labels (equipment, document type, …) that searches can filter on.
    pub metadata: &'a serde_json::Value,
    /// SHA-256 of the file's bytes, hex.
    pub content_hash: &'a str,
    /// The file's size.
    pub byte_size: u64,
    /// Pages, for paged formats.
    pub page_count: Option<u32>,
    /// The extracted text every chunk's byte span points into.
    pub text: &'a str,
}

/// What [`Store::begin_version`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionStart {
    /// The active version already has this content: nothing to ingest (labels were updated).
    Unchanged {
        /// The document.
        document_id: i64,
        /// Its active version number.
        version: i64,
    },
    /// A version to fill: new, or an interrupted one with `next_ordinal` chunks already stored.
    Ingest {
        /// The document.
        document_id: i64,
        /// The version row to pass to [`Store::add_chunks`] and [`Store::activate_version`].
        version_id: i64,
        /// Its version number (1 for a new document).
        version: i64,
        /// The ordinal of the first chunk still missing (0 when nothing was stored).
        next_ordinal: u32,
    },
}

/// One chunk to store.
#[derive(Debug, Clone)]
pub struct NewChunk<'a> {
    /// Its position in the document, from 0, without gaps.
    pub ordinal: u32,
    /// Its page (1-based), for paged formats.
    pub page: Option<u32>,
    /// The heading it sits under.
    pub section: Option<&'a str>,
    /// Its byte span in the version's text.
    pub span: std::ops::Range<usize>,
    /// Its text (the version's text at `span`).
    pub text: &'a str,
    /// Tokens, as the embedder counts them.
    pub token_count: usize,
    /// Its embedding ([`EMBEDDING_DIMENSION`] floats, unit length).
    pub embedding: &'a [f32],
}

/// What [`Store::activate_version`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Activation {
    /// The document.
    pub document_id: i64,
    /// The version now searchable.
    pub version: i64,
    /// Its chunks.
    pub chunks: u32,
    /// The version it replaced, if any.
    pub retired: Option<i64>,
}

/// A document as `airlock docs list` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentSummary {
    /// The document's id (what `docs remove` takes).
    pub id: i64,
    /// Its title.
    pub title: String,
    /// Its source path.
    pub source: String,
    /// Its format.
    pub format: String,
    /// Its classification.
    pub classification: Classification,
    /// The group that may read it besides cleared readers (empty: none).
    pub audience: String,
    /// Its labels.
    pub metadata: serde_json::Value,
    /// The active version's number, if one is active.
    pub version: Option<i64>,
    /// Chunks of the active version.
    pub chunks: u32,
    /// Pages of the active version.
    pub pages: Option<u32>,
    /// SHA-256 of the active version's file.
    pub content_hash: Option<String>,
    /// Whether a version is being ingested (an interrupted ingest, until it resumes).
    pub ingesting: bool,
    /// When the document last changed.
    pub updated_at: String,
}

impl Store {
    /// Starts ingesting `new` (see [`VersionStart`]): creates the document on first sight, and
    /// a version unless its active version has the same content hash (then only the title,
    /// labels and classification are updated, in the search index too). An unfinished version
    /// with the same content is resumed; one with other content is discarded. `force` creates
    /// a new version even for unchanged content (a reindex).
    ///
    /// # Errors
    /// [`StoreError::Sqlite`] and friends.
    pub fn begin_version(
        &self,
        new: &NewVersion<'_>,
        force: bool,
    ) -> Result<VersionStart, StoreError> {
        let metadata = new.metadata.to_string();
        self.write(|tx| {
            let document_id: i64 = tx.query_row(
                "INSERT INTO documents (source, title, format, classification, audience, metadata)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (source) DO UPDATE SET
                     title = excluded.title, format = excluded.format,
                     classification = excluded.classification, audience = excluded.audience,
                     metadata = excluded.metadata,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                 RETURNING id",
                params![
                    new.source,
                    new.title,
                    new.format,
                    new.classification.rank(),
                    new.audience,
                    metadata
                ],
                |row| row.get(0),
            )?;
            relabel_vectors(tx, document_id, new.classification, new.audience)?;

            let active: Option<(i64, String)> = tx
                .query_row(
                    "SELECT v.version, v.content_hash FROM documents d
                     JOIN document_versions v ON v.id = d.active_version WHERE d.id = ?1",
                    [document_id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            if let Some((version, hash)) = &active {
                if !force && hash == new.content_hash {
                    return Ok(VersionStart::Unchanged {
                        document_id,
                        version: *version,
                    });
                }
            }

            let unfinished: Option<(i64, i64, String)> = tx
                .query_row(
                    "SELECT id, version, content_hash FROM document_versions
                     WHERE document_id = ?1 AND state = 'ingesting'",
                    [document_id],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .optional()?;
            if let Some((version_id, version, hash)) = unfinished {
                if hash == new.content_hash {
                    let stored: u32 = tx.query_row(
                        "SELECT count(*) FROM chunks WHERE version_id = ?1",
                        [version_id],
                        |row| row.get(0),
                    )?;
                    return Ok(VersionStart::Ingest {
                        document_id,
                        version_id,
                        version,
                        next_ordinal: stored,
                    });
                }
                tx.execute("DELETE FROM document_versions WHERE id = ?1", [version_id])?;
            }

            let version: i64 = tx.query_row(
                "SELECT coalesce(max(version), 0) + 1 FROM document_versions WHERE document_id = ?1",
                [document_id],
                |row| row.get(0),
            )?;
            let version_id: i64 = tx.query_row(
                "INSERT INTO document_versions
                     (document_id, version, content_hash, byte_size, page_count, text, state)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'ingesting') RETURNING id",
                params![
                    document_id,
                    version,
                    new.content_hash,
                    i64::try_from(new.byte_size).unwrap_or(i64::MAX),
                    new.page_count,
                    new.text
                ],
                |row| row.get(0),
            )?;
            Ok(VersionStart::Ingest {
                document_id,
                version_id,
                version,
                next_ordinal: 0,
            })
        })
    }

    /// Stores `chunks` of an ingesting version, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a vector of the wrong length, a span outside the version's
    /// text, or a version that is not being ingested; SQLite errors (e.g. an ordinal stored
    /// twice).
    pub fn add_chunks(&self, version_id: i64, chunks: &[NewChunk<'_>]) -> Result<(), StoreError> {
        self.write(|tx| {
            let (state, text_len): (String, i64) = tx.query_row(
                "SELECT state, length(CAST(text AS BLOB)) FROM document_versions WHERE id = ?1",
                [version_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            if state != "ingesting" {
                return Err(WriteError::Store(StoreError::Invalid(format!(
                    "version {version_id} is {state}, not being ingested"
                ))));
            }
            let mut insert = tx.prepare_cached(
                "INSERT INTO chunks (version_id, ordinal, page, section, start_byte, end_byte,
                                     text, token_count, embedding)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for chunk in chunks {
                if chunk.embedding.len() != EMBEDDING_DIMENSION {
                    return Err(WriteError::Store(StoreError::Invalid(format!(
                        "chunk {} has a {}-dimensional vector; the index holds {EMBEDDING_DIMENSION}",
                        chunk.ordinal,
                        chunk.embedding.len()
                    ))));
                }
                let end = i64::try_from(chunk.span.end).unwrap_or(i64::MAX);
                if chunk.span.start > chunk.span.end || end > text_len {
                    return Err(WriteError::Store(StoreError::Invalid(format!(
                        "chunk {} spans bytes {:?} of a {text_len}-byte text",
                        chunk.ordinal, chunk.span
                    ))));
                }
                insert.execute(params![
                    version_id,
                    chunk.ordinal,
                    chunk.page,
                    chunk.section,
                    i64::try_from(chunk.span.start).unwrap_or(i64::MAX),
                    end,
                    chunk.text,
                    i64::try_from(chunk.token_count).unwrap_or(i64::MAX),
                    vector_blob(chunk.embedding)
                ])?;
            }
            Ok(())
        })
    }

    /// Makes an ingested version searchable and retires the document's previous version (its
    /// chunks leave both indexes), in one transaction.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] when the version is not being ingested or has a gap in its
    /// chunk ordinals; SQLite errors.
    pub fn activate_version(&self, version_id: i64) -> Result<Activation, StoreError> {
        self.write(|tx| {
            let (document_id, version, state): (i64, i64, String) = tx.query_row(
                "SELECT document_id, version, state FROM document_versions WHERE id = ?1",
                [version_id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )?;
            if state != "ingesting" {
                return Err(WriteError::Store(StoreError::Invalid(format!(
                    "version {version} of document {document_id} is {state}, not being ingested"
                ))));
            }
            let (chunks, max_ordinal): (u32, Option<i64>) = tx.query_row(
                "SELECT count(*), max(ordinal) FROM chunks WHERE version_id = ?1",
                [version_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?;
            if max_ordinal.map_or(0, |max| max + 1) != i64::from(chunks) {
                return Err(WriteError::Store(StoreError::Invalid(format!(
                    "version {version} of document {document_id} has gaps in its chunks"
                ))));
            }
            let previous: Option<(i64, i64)> = tx
                .query_row(
                    "SELECT v.id, v.version FROM documents d
                     JOIN document_versions v ON v.id = d.active_version WHERE d.id = ?1",
                    [document_id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            if let Some((previous_id, _)) = previous {
                unindex_version(tx, previous_id)?;
                tx.execute(
                    "UPDATE document_versions SET state = 'retired',
                         retired_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                     WHERE id = ?1",
                    [previous_id],
                )?;
            }
            tx.execute(
                "INSERT INTO chunk_vectors
                     (chunk_id, shard, embedding, classification, audience, document_id)
                 SELECT c.id, c.id % ?3, c.embedding, d.classification, d.audience, d.id
                 FROM chunks c JOIN documents d ON d.id = ?2
                 WHERE c.version_id = ?1 ORDER BY c.id",
                params![version_id, document_id, VECTOR_SHARDS],
            )?;
            tx.execute(
                "INSERT INTO chunk_fts (rowid, text, section)
                 SELECT id, text, coalesce(section, '') FROM chunks WHERE version_id = ?1",
                [version_id],
            )?;
            tx.execute(
                "UPDATE chunks SET embedding = NULL WHERE version_id = ?1",
                [version_id],
            )?;
            tx.execute(
                "UPDATE document_versions SET state = 'active' WHERE id = ?1",
                [version_id],
            )?;
            tx.execute(
                "UPDATE documents SET active_version = ?1,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                 WHERE id = ?2",
                params![version_id, document_id],
            )?;
            Ok(Activation {
                document_id,
                version,
                chunks,
                retired: previous.map(|(_, version)| version),
            })
        })
    }

    /// Removes a document, every version and chunk of it, and its index entries. Returns
    /// whether it existed.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn remove_document(&self, document_id: i64) -> Result<bool, StoreError> {
        self.write(|tx| Ok(remove_document_in(tx, document_id)?))
    }

    /// Records `name` as the person who added document `document_id`, unless someone already
    /// is (the first adder stays). Returns whether it was recorded.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn set_document_added_by(&self, document_id: i64, name: &str) -> Result<bool, StoreError> {
        self.conn
            .execute(
                "UPDATE documents SET added_by = ?2 WHERE id = ?1 AND added_by IS NULL",
                params![document_id, name],
            )
            .map(|changed| changed == 1)
            .map_err(|err| self.error(err))
    }

    /// Every document, by title.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn documents(&self) -> Result<Vec<DocumentSummary>, StoreError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT d.id, d.title, d.source, d.format, d.classification, d.audience,
                        d.metadata, v.version,
                        (SELECT count(*) FROM chunks c WHERE c.version_id = v.id),
                        v.page_count, v.content_hash,
                        EXISTS (SELECT 1 FROM document_versions u
                                WHERE u.document_id = d.id AND u.state = 'ingesting'),
                        d.updated_at
                 FROM documents d LEFT JOIN document_versions v ON v.id = d.active_version
                 ORDER BY d.title COLLATE NOCASE, d.id",
            )
            .map_err(|err| self.error(err))?;
        let rows = statement
            .query_map([], |row| {
                let metadata: String = row.get(6)?;
                Ok(DocumentSummary {
                    id: row.get(0)?,
                    title: row.get(1)?,
                    source: row.get(2)?,
                    format: row.get(3)?,
                    classification: classification_at(row, 4)?,
                    audience: row.get(5)?,
                    metadata: serde_json::from_str(&metadata).unwrap_or_default(),
                    version: row.get(7)?,
                    chunks: row.get(8)?,
                    pages: row.get(9)?,
                    content_hash: row.get(10)?,
                    ingesting: row.get(11)?,
                    updated_at: row.get(12)?,
                })
            })
            .map_err(|err| self.error(err))?;
        rows.collect::<Result<_, _>>()
            .map_err(|err| self.error(err))
    }

    /// Whether any document is searchable (what `airlock ask` checks before retrieving).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn has_documents(&self) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM documents WHERE active_version IS NOT NULL)",
                [],
                |row| row.get(0),
            )
            .map_err(|err| self.error(err))
    }

    /// The embedding model the index was built with, as `(name, dimension)`; `None` before the
    /// first ingest.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn embedding_model(&self) -> Result<Option<(String, usize)>, StoreError> {
        self.conn
            .query_row(
                "SELECT name, dimension FROM embedding_model WHERE id = 1",
                [],
                |row| Ok((row.get(0)?, row.get::<_, u32>(1)? as usize)),
            )
            .optional()
            .map_err(|err| self.error(err))
    }

    /// Records the embedding model the index is built with.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a dimension the index cannot hold; SQLite errors.
    pub fn set_embedding_model(&self, name: &str, dimension: usize) -> Result<(), StoreError> {
        if dimension != EMBEDDING_DIMENSION {
            return Err(StoreError::Invalid(format!(
                "the embedding model {name} makes {dimension}-dimensional vectors; the document \
                 index holds {EMBEDDING_DIMENSION}"
            )));
        }
        self.write(|tx| {
            tx.execute(
                "INSERT INTO embedding_model (id, name, dimension) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                     dimension = excluded.dimension",
                params![name, i64::try_from(dimension).unwrap_or(i64::MAX)],
            )?;
            Ok(())
        })
    }
}

/// Removes a document, every version and chunk of it, and its index entries, inside the
/// caller's transaction. Returns whether it existed.
pub(crate) fn remove_document_in(tx: &Transaction<'_>, document_id: i64) -> rusqlite::Result<bool> {
    let active: Option<Option<i64>> = tx
        .query_row(
            "SELECT active_version FROM documents WHERE id = ?1",
            [document_id],
            |row| row.get(0),
        )
        .optional()?;
    let Some(active) = active else {
        return Ok(false);
    };
    if let Some(version_id) = active {
        unindex_version(tx, version_id)?;
    }
    tx.execute(
        "UPDATE documents SET active_version = NULL WHERE id = ?1",
        [document_id],
    )?;
    tx.execute("DELETE FROM documents WHERE id = ?1", [document_id])?;
    Ok(true)
}

/// Takes a version's chunks out of both search indexes.
fn unindex_version(tx: &Transaction<'_>, version_id: i64) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM chunk_vectors WHERE chunk_id IN
             (SELECT id FROM chunks WHERE version_id = ?1)",
        [version_id],
    )?;
    tx.execute(
        "INSERT INTO chunk_fts (chunk_fts, rowid, text, section)
         SELECT 'delete', id, text, coalesce(section, '') FROM chunks WHERE version_id = ?1",
        [version_id],
    )?;
    Ok(())
}

/// Carries a document's (possibly changed) labels into the vector index's filter columns.
/// vec0 refuses an UPDATE of a table with a partition key, so the rows are written anew.
fn relabel_vectors(
    tx: &Transaction<'_>,
    document_id: i64,
    classification: Classification,
    audience: &str,
) -> rusqlite::Result<()> {
    let stale: Vec<(i64, i64, Vec<u8>)> = tx
        .prepare(
            "SELECT chunk_id, shard, embedding FROM chunk_vectors
             WHERE document_id = ?1 AND (classification != ?2 OR audience != ?3)",
        )?
        .query_map(
            params![document_id, classification.rank(), audience],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )?
        .collect::<Result<_, _>>()?;
    for (chunk_id, shard, embedding) in stale {
        tx.execute("DELETE FROM chunk_vectors WHERE chunk_id = ?1", [chunk_id])?;
        tx.execute(
            "INSERT INTO chunk_vectors
                 (chunk_id, shard, embedding, classification, audience, document_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                chunk_id,
                shard,
                embedding,
                classification.rank(),
                audience,
                document_id
            ],
        )?;
    }
    Ok(())
}

/// A vector as `vec0` takes it: little-endian f32s.
pub(crate) fn vector_blob(vector: &[f32]) -> Vec<u8> {
    vector
        .iter()
        .flat_map(|value| value.to_le_bytes())
        .collect()
}

/// Reads a classification rank column.
pub(crate) fn classification_at(
    row: &rusqlite::Row<'_>,
    index: usize,
) -> rusqlite::Result<Classification> {
    let rank: u8 = row.get(index)?;
    Classification::ALL
        .get(usize::from(rank))
        .copied()
        .ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                index,
                rusqlite::types::Type::Integer,
                format!("classification rank {rank}").into(),
            )
        })
}
