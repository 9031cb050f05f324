//! The document library as `airlock docs` manages it: adding, listing, removing and
//! reindexing documents, searching them and opening a cited chunk, for the principal running
//! the command (searches and opened chunks respect its clearance). Every change is recorded
//! in the audit log, and a new document records who added it (a subject export lists it, an
//! erasure of that person deletes it).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use airlock_core::{Classification, EventKind, TraceId};
use airlock_rag::{
    retrieve, worker::WorkerCommand, DocumentLabels, IngestError, IngestOutcome, Ingestor,
    LabelsCatalog, Progress, RetrievalConfig, RetrievalMode, Retrieved,
};
use airlock_store::{Clearance, DocumentSummary, OpenedChunk, SearchFilter, Store};
use serde_json::json;

use crate::documents::EmbedderSlot;
use crate::{AgentConfig, AgentError};

/// How documents added without a labels file are labelled.
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    /// Their classification (internal when `None`: never public by accident).
    pub classification: Option<Classification>,
    /// A group that may read them whatever its clearance.
    pub audience: Option<String>,
    /// A title (only for a single file).
    pub title: Option<String>,
    /// A labels file whose entries win over the options above.
    pub labels: Option<PathBuf>,
}

/// One file's result.
#[derive(Debug)]
pub struct FileResult {
    /// The file.
    pub path: PathBuf,
    /// What happened.
    pub result: Result<IngestOutcome, IngestError>,
}

/// The library for one principal.
pub struct DocumentLibrary {
    store: Store,
    embedder: Arc<EmbedderSlot>,
    clearance: Clearance,
    principal: String,
    worker: WorkerCommand,
}

impl DocumentLibrary {
    /// Opens the store and the principal's clearance from the policy; the embedding model is
    /// loaded on first use.
    ///
    /// # Errors
    /// [`AgentError::Store`], or [`AgentError::Library`] when the policy does not load.
    pub fn open(config: &AgentConfig) -> Result<Self, AgentError> {
        let bundle = airlock_policy::PolicyBundle::load(&config.policy_dir)
            .map_err(|err| AgentError::Library(err.to_string()))?;
        let (level, groups) = bundle.directory.reader(&config.principal);
        Ok(Self {
            store: Store::open(&config.data_dir)?,
            embedder: Arc::new(EmbedderSlot::new(config.models_dir.clone())),
            clearance: Clearance { level, groups },
            principal: config.principal.clone(),
            worker: WorkerCommand::new(config.worker_program.clone(), [airlock_rag::WORKER_ARG]),
        })
    }

    /// The same library embedding with `embedder` (an already loaded model).
    pub(crate) fn with_embedder(mut self, embedder: Arc<EmbedderSlot>) -> Self {
        self.embedder = embedder;
        self
    }

    /// What the principal may read.
    #[must_use]
    pub fn clearance(&self) -> &Clearance {
        &self.clearance
    }

    /// Adds `paths` (files, or directories searched recursively for supported files). Each
    /// file gets its own result; a bad file does not stop the others.
    ///
    /// # Errors
    /// [`AgentError::Library`] for an unreadable labels file, a directory that cannot be
    /// listed or a missing embedding model; [`AgentError::Documents`] when the index belongs
    /// to another embedding model.
    pub fn add(
        &self,
        paths: &[PathBuf],
        options: &AddOptions,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Vec<FileResult>, AgentError> {
        let catalog = match &options.labels {
            Some(path) => {
                LabelsCatalog::load(path).map_err(|err| AgentError::Library(err.to_string()))?
            }
            None => LabelsCatalog::default(),
        };
        let files = expand(paths).map_err(AgentError::Library)?;
        let labelled: Vec<(PathBuf, DocumentLabels)> = files
            .into_iter()
            .map(|path| {
                let labels = catalog
                    .get(&path)
                    .cloned()
                    .unwrap_or_else(|| DocumentLabels {
                        title: options.title.clone(),
                        classification: options.classification.unwrap_or(Classification::Internal),
                        audience: options.audience.clone().unwrap_or_default(),
                        metadata: json!({}),
                    });
                (path, labels)
            })
            .collect();
        self.ingest(&labelled, false, "added", progress)
    }

    /// Indexes every document again from its source file (after a model or chunking change).
    ///
    /// # Errors
    /// As [`DocumentLibrary::add`].
    pub fn reindex(
        &self,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Vec<FileResult>, AgentError> {
        let documents = self.store.documents()?;
        if let Some((indexed, _)) = self.store.embedding_model()? {
            let current =
                airlock_rag::TextEmbedder::model_name(self.embedder()?.as_ref()).to_owned();
            if indexed != current {
                self.store
                    .set_embedding_model(&current, airlock_store::EMBEDDING_DIMENSION)?;
            }
        }
        let labelled: Vec<(PathBuf, DocumentLabels)> = documents
            .into_iter()
            .map(|document| {
                (
                    PathBuf::from(&document.source),
                    DocumentLabels {
                        title: Some(document.title),
                        classification: document.classification,
                        audience: document.audience,
                        metadata: document.metadata,
                    },
                )
            })
            .collect();
        self.ingest(&labelled, true, "reindexed", progress)
    }

    fn ingest(
        &self,
        files: &[(PathBuf, DocumentLabels)],
        force: bool,
        action: &str,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Vec<FileResult>, AgentError> {
        let embedder = self.embedder()?;
        let ingestor = Ingestor::new(&self.store, embedder.as_ref(), self.worker.clone());
        let results = ingestor.ingest(files, force, progress)?;
        let trace = TraceId::new();
        for ((path, labels), result) in files.iter().zip(&results) {
            if let Ok(IngestOutcome::Added { document_id, .. }) = result {
                self.store
                    .set_document_added_by(*document_id, &self.principal)?;
            }
            let payload = match result {
                Ok(outcome) => json!({"action": action, "principal": self.principal,
                    "source": path, "title": labels.title, "classification": labels.classification,
                    "outcome": outcome}),
                Err(err) => json!({"action": action, "principal": self.principal,
                    "source": path, "error": err.to_string()}),
            };
            self.store
                .record(&trace, EventKind::DocumentsChanged, payload)?;
        }
        Ok(files
            .iter()
            .zip(results)
            .map(|((path, _), result)| FileResult {
                path: path.clone(),
                result,
            })
            .collect())
    }

    /// Every document.
    ///
    /// # Errors
    /// [`AgentError::Store`].
    pub fn list(&self) -> Result<Vec<DocumentSummary>, AgentError> {
        Ok(self.store.documents()?)
    }

    /// Removes document `id` (recorded). Returns whether it existed.
    ///
    /// # Errors
    /// [`AgentError::Store`].
    pub fn remove(&self, id: i64) -> Result<bool, AgentError> {
        let removed = self.store.remove_document(id)?;
        if removed {
            self.store.record(
                &TraceId::new(),
                EventKind::DocumentsChanged,
                json!({"action": "removed", "principal": self.principal, "document_id": id}),
            )?;
        }
        Ok(removed)
    }

    /// The best `top_k` chunks for `query` the principal may read.
    ///
    /// # Errors
    /// [`AgentError::Documents`].
    pub fn search(
        &self,
        query: &str,
        mode: RetrievalMode,
        top_k: usize,
    ) -> Result<Vec<Retrieved>, AgentError> {
        let embedder = self.embedder()?;
        let config = RetrievalConfig {
            top_k,
            ..RetrievalConfig::default()
        };
        retrieve(
            &self.store,
            embedder.as_ref(),
            query,
            &self.clearance,
            &SearchFilter::default(),
            &config,
            mode,
        )
        .map_err(AgentError::from)
    }

    /// Chunk `id` with `context` bytes around it, if the principal may read it.
    ///
    /// # Errors
    /// [`AgentError::Store`].
    pub fn open_chunk(&self, id: i64, context: usize) -> Result<Option<OpenedChunk>, AgentError> {
        Ok(self.store.open_chunk(id, &self.clearance, context)?)
    }

    fn embedder(&self) -> Result<Arc<airlock_llm::Embedder>, AgentError> {
        self.embedder.get().map_err(AgentError::Library)
    }
}

/// `paths` with directories replaced by the supported files under them, sorted.
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|err| format!("cannot list {}: {err}", dir.display()))?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    found.sort();
    for path in found {
        if path.is_dir() {
            walk(&path, files)?;
        } else if airlock_rag::Format::from_path(&path).is_ok() {
            files.push(path);
        }
    }
    Ok(())
}
