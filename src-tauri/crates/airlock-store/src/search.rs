//! Searching the chunks of active document versions: BM25 in `chunk_fts` (nearest neighbours
//! are in `knn`), and reading chunks back for citations.
//!
//! Both searches apply the reader's [`Clearance`] inside the query, so a search for `k`
//! chunks returns the `k` best chunks the reader may see, never fewer because better ones
//! were hidden afterwards. A reader sees a chunk when its document's classification is at most
//! their level, or when the document names an audience group they belong to.

use airlock_core::Classification;
use rusqlite::OptionalExtension;
use serde::Serialize;

use crate::documents::classification_at;
use crate::{Store, StoreError};

/// The most chunks one search returns (`vec0` refuses a larger `k`).
pub const MAX_SEARCH_RESULTS: usize = 4096;

/// What a reader may retrieve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clearance {
    /// The most sensitive classification they may read.
    pub level: Classification,
    /// Their groups: a document whose audience is one of them is readable at any level.
    pub groups: Vec<String>,
}

impl Clearance {
    /// A reader cleared for `level` who belongs to no group.
    #[must_use]
    pub fn level(level: Classification) -> Self {
        Self {
            level,
            groups: Vec::new(),
        }
    }

    /// Whether this reader may see a document labelled `classification` for `audience`.
    #[must_use]
    pub fn may_read(&self, classification: Classification, audience: &str) -> bool {
        classification <= self.level
            || (!audience.is_empty() && self.groups.iter().any(|group| group == audience))
    }

    /// The groups that can widen access, each once.
    pub(crate) fn audience_groups(&self) -> Vec<&str> {
        let mut groups: Vec<&str> = self
            .groups
            .iter()
            .map(String::as_str)
            .filter(|group| !group.is_empty())
            .collect();
        groups.sort_unstable();
        groups.dedup();
        groups
    }
}

/// Limits a search beyond clearance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilter {
    /// Only chunks of these documents (`None`: all).
    pub documents: Option<Vec<i64>>,
}

/// One chunk a search found.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChunkHit {
    /// The chunk.
    pub chunk_id: i64,
    /// Vector search: the L2 distance between unit vectors (0 identical, 2 opposite).
    /// Keyword search: BM25, lower is better (SQLite's sign).
    pub score: f32,
}

/// A stored chunk with what a citation needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChunkRecord {
    /// The chunk.
    pub chunk_id: i64,
    /// Its document.
    pub document_id: i64,
    /// The document's title.
    pub title: String,
    /// The document's source path.
    pub source: String,
    /// The version the chunk belongs to.
    pub version: i64,
    /// Its position in that version.
    pub ordinal: u32,
    /// Its page (1-based), for paged formats.
    pub page: Option<u32>,
    /// The heading it sits under.
    pub section: Option<String>,
    /// Its byte span in the version's text.
    pub start_byte: usize,
    /// End of that span (exclusive).
    pub end_byte: usize,
    /// Its text.
    pub text: String,
    /// The document's classification.
    pub classification: Classification,
    /// The document's audience group (empty: none).
    pub audience: String,
    /// The document's labels.
    pub metadata: serde_json::Value,
}

/// A chunk opened for reading, with the text around it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenedChunk {
    /// The chunk.
    pub chunk: ChunkRecord,
    /// Up to the requested number of bytes of the version's text before the chunk.
    pub before: String,
    /// Up to the requested number of bytes after it.
    pub after: String,
}

impl Store {
    /// The `k` chunks that `clearance` may read ranking best by BM25 for the words of `text`
    /// (any of them; punctuation and FTS syntax in `text` are ignored), best first. Headings
    /// count as well as body text.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn keyword_chunks(
        &self,
        text: &str,
        k: usize,
        clearance: &Clearance,
        filter: &SearchFilter,
    ) -> Result<Vec<ChunkHit>, StoreError> {
        let Some(query) = fts_query(text) else {
            return Ok(Vec::new());
        };
        let k = k.min(MAX_SEARCH_RESULTS);
        let groups = serde_json::to_string(&clearance.audience_groups()).unwrap_or_default();
        let documents = filter
            .documents
            .as_ref()
            .map(|ids| serde_json::to_string(ids).unwrap_or_default());
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT c.id, bm25(chunk_fts, 1.0, 0.5) AS score
                 FROM chunk_fts
                 JOIN chunks c ON c.id = chunk_fts.rowid
                 JOIN document_versions v ON v.id = c.version_id
                 JOIN documents d ON d.id = v.document_id
                 WHERE chunk_fts MATCH ?1
                   AND (d.classification <= ?2
                        OR (d.audience != '' AND d.audience IN (SELECT value FROM json_each(?3))))
                   AND (?4 IS NULL OR d.id IN (SELECT value FROM json_each(?4)))
                 ORDER BY score, c.id
                 LIMIT ?5",
            )
            .map_err(|err| self.error(err))?;
        let rows = statement
            .query_map(
                rusqlite::params![
                    query,
                    clearance.level.rank(),
                    groups,
                    documents,
                    i64::try_from(k).unwrap_or(i64::MAX)
                ],
                |row| {
                    Ok(ChunkHit {
                        chunk_id: row.get(0)?,
                        score: row.get::<_, f64>(1)? as f32,
                    })
                },
            )
            .map_err(|err| self.error(err))?;
        rows.collect::<Result<_, _>>()
            .map_err(|err| self.error(err))
    }

    /// The chunks `ids`, in that order; ids that do not exist are skipped.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn chunks(&self, ids: &[i64]) -> Result<Vec<ChunkRecord>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached(&format!("{CHUNK_SELECT} WHERE c.id = ?1"))
            .map_err(|err| self.error(err))?;
        let mut records = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(record) = statement
                .query_row([id], chunk_record)
                .optional()
                .map_err(|err| self.error(err))?
            {
                records.push(record);
            }
        }
        Ok(records)
    }

    /// Opens chunk `id` for a reader: the chunk and up to `context` bytes of its version's text
    /// on either side. `None` when the chunk does not exist or `clearance` may not read it.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn open_chunk(
        &self,
        id: i64,
        clearance: &Clearance,
        context: usize,
    ) -> Result<Option<OpenedChunk>, StoreError> {
        let Some(chunk) = self.chunks(&[id])?.pop() else {
            return Ok(None);
        };
        if !clearance.may_read(chunk.classification, &chunk.audience) {
            return Ok(None);
        }
        let text: String = self
            .conn
            .query_row(
                "SELECT v.text FROM chunks c JOIN document_versions v ON v.id = c.version_id
                 WHERE c.id = ?1",
                [id],
                |row| row.get(0),
            )
            .map_err(|err| self.error(err))?;
        let start = floor_boundary(&text, chunk.start_byte.saturating_sub(context));
        let end = ceil_boundary(&text, chunk.end_byte.saturating_add(context));
        let before = text
            .get(start..chunk.start_byte)
            .unwrap_or_default()
            .to_owned();
        let after = text.get(chunk.end_byte..end).unwrap_or_default().to_owned();
        Ok(Some(OpenedChunk {
            chunk,
            before,
            after,
        }))
    }

    /// The documents whose metadata has `key` equal to `value`, or listing `value` when the
    /// metadata holds an array under `key` (e.g. `equipment = P-101`).
    ///
    /// # Errors
    /// SQLite errors.
    pub fn documents_labelled(&self, key: &str, value: &str) -> Result<Vec<i64>, StoreError> {
        let path = format!("$.\"{}\"", key.replace('"', ""));
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT id FROM documents
                 WHERE json_extract(metadata, ?1) = ?2
                    OR EXISTS (SELECT 1 FROM json_each(metadata, ?1) WHERE value = ?2)
                 ORDER BY id",
            )
            .map_err(|err| self.error(err))?;
        let rows = statement
            .query_map(rusqlite::params![path, value], |row| row.get(0))
            .map_err(|err| self.error(err))?;
        rows.collect::<Result<_, _>>()
            .map_err(|err| self.error(err))
    }
}

const CHUNK_SELECT: &str = "SELECT c.id, d.id, d.title, d.source, v.version, c.ordinal, c.page,
        c.section, c.start_byte, c.end_byte, c.text, d.classification, d.audience, d.metadata
     FROM chunks c
     JOIN document_versions v ON v.id = c.version_id
     JOIN documents d ON d.id = v.document_id";

fn chunk_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<ChunkRecord> {
    let metadata: String = row.get(13)?;
    Ok(ChunkRecord {
        chunk_id: row.get(0)?,
        document_id: row.get(1)?,
        title: row.get(2)?,
        source: row.get(3)?,
        version: row.get(4)?,
        ordinal: row.get(5)?,
        page: row.get(6)?,
        section: row.get(7)?,
        start_byte: usize::try_from(row.get::<_, i64>(8)?).unwrap_or_default(),
        end_byte: usize::try_from(row.get::<_, i64>(9)?).unwrap_or_default(),
        text: row.get(10)?,
        classification: classification_at(row, 11)?,
        audience: row.get(12)?,
        metadata: serde_json::from_str(&metadata).unwrap_or_default(),
    })
}

/// English words too common to rank by: a question's "what", "the" and "is" would otherwise
/// match nearly every chunk.
const STOPWORDS: &[&str] = &[
    "a", "about", "an", "and", "are", "as", "at", "be", "by", "can", "could", "do", "does", "for",
    "from", "get", "has", "have", "how", "i", "if", "in", "is", "it", "its", "me", "my", "of",
    "on", "or", "our", "please", "should", "tell", "than", "that", "the", "their", "there", "this",
    "to", "was", "we", "what", "when", "where", "which", "who", "why", "will", "with", "would",
    "you", "your",
];

/// An FTS5 query matching any word of `text` but stopwords, each quoted (so no FTS syntax from
/// the user reaches SQLite); `None` when `text` has no such words.
fn fts_query(text: &str) -> Option<String> {
    let mut words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .filter(|word| !STOPWORDS.contains(&word.as_str()))
        .collect();
    words.sort_unstable();
    words.dedup();
    (!words.is_empty()).then(|| {
        words
            .iter()
            .map(|word| format!("\"{word}\""))
            .collect::<Vec<_>>()
            .join(" OR ")
    })
}

fn floor_boundary(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn ceil_boundary(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index += 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_query_quotes_words_and_drops_syntax_and_stopwords() {
        assert_eq!(
            fts_query("What is the torque M10 \"impeller\" NEAR(x) OR -bolts*").as_deref(),
            Some("\"bolts\" OR \"impeller\" OR \"m10\" OR \"near\" OR \"torque\" OR \"x\"")
        );
        assert_eq!(fts_query(" ?!* the "), None);
    }

    #[test]
    fn audience_grants_access_above_level() {
        let reader = Clearance {
            level: Classification::Internal,
            groups: vec!["safety".into()],
        };
        assert!(reader.may_read(Classification::Internal, ""));
        assert!(!reader.may_read(Classification::Confidential, "purchasing"));
        assert!(reader.may_read(Classification::Restricted, "safety"));
        assert!(!reader.may_read(Classification::Restricted, ""));
    }

    #[test]
    fn boundaries_stay_on_characters() {
        let text = "a·b";
        assert_eq!(floor_boundary(text, 2), 1);
        assert_eq!(ceil_boundary(text, 2), 3);
        assert_eq!(ceil_boundary(text, 99), text.len());
    }
}
