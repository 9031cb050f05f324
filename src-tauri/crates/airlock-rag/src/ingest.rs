//! Ingestion: file → text (PDF and DOCX in an isolated worker) → chunks → embeddings → store,
//! one file at a time. A file that fails gets its own error and the batch goes on; an
//! unchanged file (same SHA-256) is skipped; a changed one becomes a new version that replaces
//! the old one; an interrupted file resumes after the chunks already stored.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use airlock_core::Classification;
use airlock_store::{NewChunk, NewVersion, Store, VersionStart};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::chunk::{chunk, ChunkConfig, TokenCounter};
use crate::extract::{extract_file, ExtractLimits, Format};
use crate::worker::{extract_isolated, WorkerCommand};
use crate::{ExtractError, IngestError, RagError, TextEmbedder};

/// Chunks embedded (and stored) per batch: one transaction each, the unit an interrupted
/// ingest can lose.
const EMBED_BATCH: usize = 32;

/// What a document is labelled with when it is added.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentLabels {
    /// Shown in citations; the file name (without extension) when `None`.
    pub title: Option<String>,
    /// Who may retrieve it.
    pub classification: Classification,
    /// A group that may retrieve it whatever its members' clearance (empty: none).
    pub audience: String,
    /// Free-form labels searches can filter on.
    pub metadata: serde_json::Value,
}

impl DocumentLabels {
    /// Labels with `classification` and nothing else.
    #[must_use]
    pub fn classified(classification: Classification) -> Self {
        Self {
            title: None,
            classification,
            audience: String::new(),
            metadata: serde_json::json!({}),
        }
    }
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum IngestOutcome {
    /// A new document.
    Added {
        /// Its id.
        document_id: i64,
        /// Its chunks.
        chunks: u32,
    },
    /// A new version of a known document; the previous one is retired.
    Updated {
        /// The document.
        document_id: i64,
        /// The new version.
        version: i64,
        /// Its chunks.
        chunks: u32,
    },
    /// The content was already indexed: nothing was done (labels were refreshed).
    Unchanged {
        /// The document.
        document_id: i64,
        /// Its active version.
        version: i64,
    },
}

/// Where a batch stands, for progress displays.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// File `index` (0-based) of `files` starts.
    File {
        /// Its position.
        index: usize,
        /// Files in the batch.
        files: usize,
        /// Its path.
        path: &'a Path,
    },
    /// Chunks of the current file embedded and stored so far.
    Chunks {
        /// Done, this file.
        done: usize,
        /// Total, this file.
        total: usize,
        /// Estimated time left for the whole batch, from the bytes processed so far.
        eta: Option<Duration>,
    },
    /// A file finished.
    Finished {
        /// Its path.
        path: &'a Path,
        /// What happened.
        result: &'a Result<IngestOutcome, IngestError>,
    },
}

/// Ingests files into a store with one embedder.
pub struct Ingestor<'a> {
    store: &'a Store,
    embedder: &'a dyn TextEmbedder,
    chunking: ChunkConfig,
    limits: ExtractLimits,
    worker: WorkerCommand,
}

impl<'a> Ingestor<'a> {
    /// An ingestor writing to `store`, embedding with `embedder`, parsing PDF and DOCX in child
    /// processes started by `worker`.
    #[must_use]
    pub fn new(store: &'a Store, embedder: &'a dyn TextEmbedder, worker: WorkerCommand) -> Self {
        Self {
            store,
            embedder,
            chunking: ChunkConfig::default(),
            limits: ExtractLimits::default(),
            worker,
        }
    }

    /// The same ingestor with other chunk sizes.
    #[must_use]
    pub fn with_chunking(mut self, chunking: ChunkConfig) -> Self {
        self.chunking = chunking;
        self
    }

    /// The same ingestor with other extraction limits.
    #[must_use]
    pub fn with_limits(mut self, limits: ExtractLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Ingests every file, in order, each with its labels; `force` makes a new version even of
    /// unchanged content (a reindex). Returns one result per file.
    ///
    /// # Errors
    /// [`RagError::ModelMismatch`] before anything is read when the index was built with
    /// another embedding model; per-file problems are in the returned results.
    pub fn ingest(
        &self,
        files: &[(PathBuf, DocumentLabels)],
        force: bool,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Vec<Result<IngestOutcome, IngestError>>, RagError> {
        self.check_model()?;
        let total_bytes: u64 = files
            .iter()
            .map(|(path, _)| std::fs::metadata(path).map_or(0, |m| m.len()))
            .sum();
        let mut clock = BatchClock {
            started: Instant::now(),
            total_bytes,
            done_bytes: 0,
        };
        let mut results = Vec::with_capacity(files.len());
        for (index, (path, labels)) in files.iter().enumerate() {
            progress(Progress::File {
                index,
                files: files.len(),
                path,
            });
            let size = std::fs::metadata(path).map_or(0, |m| m.len());
            let result = self.ingest_file(path, labels, force, &clock, size, progress);
            clock.done_bytes += size;
            if let Err(err) = &result {
                tracing::warn!(path = %path.display(), error = %err, "document not ingested");
            }
            progress(Progress::Finished {
                path,
                result: &result,
            });
            results.push(result);
        }
        Ok(results)
    }

    fn check_model(&self) -> Result<(), RagError> {
        match self.store.embedding_model()? {
            Some((indexed, _)) if indexed != self.embedder.model_name() => {
                Err(RagError::ModelMismatch {
                    indexed,
                    current: self.embedder.model_name().to_owned(),
                })
            }
            Some(_) => Ok(()),
            None => Ok(self
                .store
                .set_embedding_model(self.embedder.model_name(), self.embedder.dimension())?),
        }
    }

    fn ingest_file(
        &self,
        path: &Path,
        labels: &DocumentLabels,
        force: bool,
        clock: &BatchClock,
        size: u64,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<IngestOutcome, IngestError> {
        let source = std::fs::canonicalize(path).map_err(|source| IngestError::Io {
            path: path.to_owned(),
            source,
        })?;
        let format = Format::from_path(&source).map_err(IngestError::Extract)?;
        let extracted = if format.needs_isolation() {
            extract_isolated(&source, &self.limits, &self.worker)
        } else {
            extract_file(&source, &self.limits)
        }
        .map_err(IngestError::Extract)?;
        let content_hash = sha256_file(&source)?;
        let chunks = chunk(&extracted, &Tokens(self.embedder), &self.chunking);
        if chunks.is_empty() {
            return Err(IngestError::Extract(ExtractError::Empty));
        }
        let title = labels
            .title
            .clone()
            .unwrap_or_else(|| default_title(&source));
        let source_text = source.to_string_lossy();
        let start = self.store.begin_version(
            &NewVersion {
                source: &source_text,
                title: &title,
                format: format.name(),
                classification: labels.classification,
                audience: &labels.audience,
                metadata: &labels.metadata,
                content_hash: &content_hash,
                byte_size: size,
                page_count: extracted.pages(),
                text: &extracted.text,
            },
            force,
        )?;
        let (document_id, version_id, version, next) = match start {
            VersionStart::Unchanged {
                document_id,
                version,
            } => {
                return Ok(IngestOutcome::Unchanged {
                    document_id,
                    version,
                })
            }
            VersionStart::Ingest {
                document_id,
                version_id,
                version,
                next_ordinal,
            } => (document_id, version_id, version, next_ordinal as usize),
        };
        if next > 0 {
            tracing::info!(path = %source.display(), stored = next, "resuming an interrupted ingest");
        }
        for (batch_index, batch) in chunks[next.min(chunks.len())..]
            .chunks(EMBED_BATCH)
            .enumerate()
        {
            let texts: Vec<&str> = batch.iter().map(|c| c.text.as_str()).collect();
            let vectors = self
                .embedder
                .embed_texts(&texts)
                .map_err(IngestError::Embed)?;
            let rows: Vec<NewChunk<'_>> = batch
                .iter()
                .zip(&vectors)
                .map(|(draft, vector)| NewChunk {
                    ordinal: draft.ordinal,
                    page: draft.page,
                    section: draft.section.as_deref(),
                    span: draft.range.clone(),
                    text: &draft.text,
                    token_count: draft.token_count,
                    embedding: vector,
                })
                .collect();
            self.store.add_chunks(version_id, &rows)?;
            let done = (next + (batch_index + 1) * EMBED_BATCH).min(chunks.len());
            progress(Progress::Chunks {
                done,
                total: chunks.len(),
                eta: clock.eta(size, done, chunks.len()),
            });
        }
        let activation = self.store.activate_version(version_id)?;
        Ok(if version == 1 {
            IngestOutcome::Added {
                document_id,
                chunks: activation.chunks,
            }
        } else {
            IngestOutcome::Updated {
                document_id,
                version,
                chunks: activation.chunks,
            }
        })
    }
}

/// The embedder's token count, which is what the chunk size limits.
struct Tokens<'e>(&'e dyn TextEmbedder);

impl TokenCounter for Tokens<'_> {
    fn count_tokens(&self, text: &str) -> usize {
        self.0.count_tokens(text)
    }
}

/// Time left for a batch, from the bytes processed so far.
struct BatchClock {
    started: Instant,
    total_bytes: u64,
    done_bytes: u64,
}

impl BatchClock {
    fn eta(&self, file_bytes: u64, done: usize, total: usize) -> Option<Duration> {
        let fraction = if total == 0 {
            1.0
        } else {
            done as f64 / total as f64
        };
        let processed = self.done_bytes as f64 + file_bytes as f64 * fraction;
        if processed <= 0.0 {
            return None;
        }
        let elapsed = self.started.elapsed().as_secs_f64();
        let left = (self.total_bytes as f64 - processed).max(0.0);
        Some(Duration::from_secs_f64(elapsed * left / processed))
    }
}

fn sha256_file(path: &Path) -> Result<String, IngestError> {
    let io = |source| IngestError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = file.read(&mut buffer).map_err(io)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn default_title(path: &Path) -> String {
    path.file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
