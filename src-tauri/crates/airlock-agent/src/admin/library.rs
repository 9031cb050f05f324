//! The document library from the admin window: list, ingest with progress, reindex and
//! remove, as a signed-in admin (recorded under the admin's name).

use std::path::PathBuf;
use std::sync::Arc;

use airlock_rag::{IngestOutcome, Progress};
use airlock_store::DocumentSummary;
use serde::Serialize;

use crate::{AddOptions, Agent, AgentError, Approver, DocumentLibrary, FileResult};

/// Most paths one ingest takes (directories count once).
pub const MAX_INGEST_PATHS: usize = 1_000;

/// A step of an ingest, for a progress bar.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IngestProgress {
    /// File `index` (0-based) of `files` starts.
    File {
        /// Its position.
        index: usize,
        /// Files in the batch.
        files: usize,
        /// The file.
        path: PathBuf,
    },
    /// Chunks of the current file embedded and stored so far.
    Chunks {
        /// Done, this file.
        done: usize,
        /// Total, this file.
        total: usize,
        /// Estimated time left for the whole batch.
        eta_ms: Option<u64>,
    },
    /// A file finished.
    Finished {
        /// The file.
        path: PathBuf,
        /// Whether it is indexed.
        ok: bool,
        /// What happened.
        detail: String,
    },
}

/// One file's result.
#[derive(Debug, Clone, Serialize)]
pub struct IngestFileReport {
    /// The file.
    pub path: PathBuf,
    /// Whether it is indexed.
    pub ok: bool,
    /// What happened, or why it failed and what to do.
    pub detail: String,
}

fn describe(result: &Result<IngestOutcome, airlock_rag::IngestError>) -> (bool, String) {
    match result {
        Ok(IngestOutcome::Added { chunks, .. }) => (true, format!("added: {chunks} chunks")),
        Ok(IngestOutcome::Updated {
            version, chunks, ..
        }) => (true, format!("new version {version}: {chunks} chunks")),
        Ok(IngestOutcome::Unchanged { .. }) => (
            true,
            "unchanged: this content is already indexed".to_owned(),
        ),
        Err(err) => (false, err.to_string()),
    }
}

fn report(results: Vec<FileResult>) -> Vec<IngestFileReport> {
    results
        .into_iter()
        .map(|file| {
            let (ok, detail) = describe(&file.result);
            IngestFileReport {
                path: file.path,
                ok,
                detail,
            }
        })
        .collect()
}

fn forward(progress: &mut dyn FnMut(IngestProgress)) -> impl FnMut(Progress<'_>) + '_ {
    move |step| {
        progress(match step {
            Progress::File { index, files, path } => IngestProgress::File {
                index,
                files,
                path: path.to_owned(),
            },
            Progress::Chunks { done, total, eta } => IngestProgress::Chunks {
                done,
                total,
                eta_ms: eta.map(|eta| u64::try_from(eta.as_millis()).unwrap_or(u64::MAX)),
            },
            Progress::Finished { path, result } => {
                let (ok, detail) = describe(result);
                IngestProgress::Finished {
                    path: path.to_owned(),
                    ok,
                    detail,
                }
            }
        });
    }
}

/// Refuses relative, missing or too many paths before anything is read.
fn check_paths(paths: &[PathBuf]) -> Result<(), AgentError> {
    if paths.is_empty() {
        return Err(AgentError::Admin(
            "choose at least one file or directory to ingest".to_owned(),
        ));
    }
    if paths.len() > MAX_INGEST_PATHS {
        return Err(AgentError::Admin(format!(
            "{} paths is more than one ingest takes ({MAX_INGEST_PATHS}); choose their directory instead",
            paths.len()
        )));
    }
    if let Some(path) = paths.iter().find(|path| !path.is_absolute()) {
        return Err(AgentError::Admin(format!(
            "`{}` is not a full path: give it from the root (e.g. /home/me/manuals/pump.pdf)",
            path.display()
        )));
    }
    if let Some(path) = paths.iter().find(|path| !path.exists()) {
        return Err(AgentError::Admin(format!(
            "`{}` does not exist: check the path",
            path.display()
        )));
    }
    Ok(())
}

impl Agent {
    /// The library as admin `by` manages it, sharing the agent's embedding model.
    fn admin_library(&self, by: &Approver) -> Result<DocumentLibrary, AgentError> {
        self.require_admin(by)?;
        let mut config = self.config.clone();
        config.principal.clone_from(&by.name);
        Ok(DocumentLibrary::open(&config)?.with_embedder(Arc::clone(&self.embedder)))
    }

    /// Every document with its classification, for admin `by`.
    ///
    /// # Errors
    /// [`AgentError::Admin`] for a non-admin; [`AgentError::Store`].
    pub fn library_documents(&self, by: &Approver) -> Result<Vec<DocumentSummary>, AgentError> {
        self.admin_library(by)?.list()
    }

    /// Ingests `paths` (files, or directories searched for supported files) labelled by
    /// `options`, as admin `by`. Each file gets its own result; a bad file does not stop the
    /// others.
    ///
    /// # Errors
    /// [`AgentError::Admin`] for a non-admin or bad paths; as [`DocumentLibrary::add`].
    pub fn ingest_documents(
        &self,
        paths: &[PathBuf],
        options: &AddOptions,
        by: &Approver,
        progress: &mut dyn FnMut(IngestProgress),
    ) -> Result<Vec<IngestFileReport>, AgentError> {
        check_paths(paths)?;
        let library = self.admin_library(by)?;
        Ok(report(library.add(
            paths,
            options,
            &mut forward(progress),
        )?))
    }

    /// Indexes every document again from its source file, as admin `by`.
    ///
    /// # Errors
    /// [`AgentError::Admin`] for a non-admin; as [`DocumentLibrary::reindex`].
    pub fn reindex_documents(
        &self,
        by: &Approver,
        progress: &mut dyn FnMut(IngestProgress),
    ) -> Result<Vec<IngestFileReport>, AgentError> {
        let library = self.admin_library(by)?;
        Ok(report(library.reindex(&mut forward(progress))?))
    }

    /// Removes document `id` as admin `by`; returns whether it existed.
    ///
    /// # Errors
    /// [`AgentError::Admin`] for a non-admin; [`AgentError::Store`].
    pub fn remove_document(&self, id: i64, by: &Approver) -> Result<bool, AgentError> {
        self.admin_library(by)?.remove(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_missing_and_empty_paths_are_refused() {
        assert!(check_paths(&[])
            .unwrap_err()
            .to_string()
            .contains("at least one"));
        let err = check_paths(&[PathBuf::from("manuals/pump.pdf")]).unwrap_err();
        assert!(err.to_string().contains("not a full path"), "{err}");
        let err = check_paths(&[PathBuf::from("/no/such/airlock/file.pdf")]).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        let many = vec![std::env::temp_dir(); MAX_INGEST_PATHS + 1];
        assert!(check_paths(&many)
            .unwrap_err()
            .to_string()
            .contains("more than"));
        assert!(check_paths(&[std::env::temp_dir()]).is_ok());
    }
}
