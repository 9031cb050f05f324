//! The generator models an admin sees and switches between: each one in the models directory
//! with its size and checksum status, the one in use, and switching (checksum-checked, loaded,
//! remembered across restarts, audited).

use std::collections::HashMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use airlock_core::{EventKind, TraceId};
use airlock_llm::registry::{model_status, ModelInfo, ModelSource};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::{Agent, AgentError, Approver};

/// The store setting naming the model an admin chose.
pub(crate) const ACTIVE_MODEL_SETTING: &str = "active_model";

/// Whether a model file is the one its manifest publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ChecksumStatus {
    /// Not hashed yet.
    Unchecked,
    /// The file's SHA-256 is the manifest's.
    Valid {
        /// The hash (hex).
        sha256: String,
    },
    /// The file differs from the manifest's: damaged or replaced.
    Mismatch {
        /// What the manifest publishes.
        expected: String,
        /// What the file hashes to.
        actual: String,
    },
    /// A user's model: no published hash to compare with.
    Unlisted {
        /// What the file hashes to.
        sha256: String,
    },
}

/// One generator model on disk.
#[derive(Debug, Clone, Serialize)]
pub struct ModelEntry {
    /// Manifest name, or the file stem of a user model.
    pub name: String,
    /// The GGUF file.
    pub path: PathBuf,
    /// Its size.
    pub size_bytes: u64,
    /// Manifest or user-provided.
    pub source: ModelSource,
    /// Whether it is intact, as far as checked.
    pub checksum: ChecksumStatus,
    /// Whether requests use it.
    pub active: bool,
}

/// The model loaded in the worker.
#[derive(Debug, Clone, Serialize)]
pub struct LoadedModelView {
    /// Its name, as in [`ModelEntry::name`].
    pub name: String,
    /// What llama.cpp says it is (architecture, size, quantisation).
    pub description: String,
    /// The context window.
    pub n_ctx: u32,
    /// Time to load the weights.
    pub load_ms: f64,
}

/// The models tab.
#[derive(Debug, Clone, Serialize)]
pub struct ModelsView {
    /// The directory searched.
    pub models_dir: PathBuf,
    /// Every generator there, most preferred first.
    pub models: Vec<ModelEntry>,
    /// The model in the worker, when one is loaded.
    pub loaded: Option<LoadedModelView>,
    /// Why the model cannot be switched here, when it is fixed for this run.
    pub pinned_reason: Option<String>,
    /// What is wrong when no model can be used, and what to do.
    pub problem: Option<String>,
}

/// A step of a switch.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum ModelLoadProgress {
    /// The file is being hashed.
    Verifying {
        /// What is checked.
        detail: String,
    },
    /// The worker is loading the weights.
    Loading {
        /// What is loaded.
        detail: String,
    },
    /// Ready for requests.
    Loaded {
        /// The model.
        model: LoadedModelView,
    },
}

/// Checksums already computed, per file, valid while its size and modification time stay.
#[derive(Debug, Default)]
pub(crate) struct ChecksumCache(Mutex<HashMap<PathBuf, (u64, SystemTime, ChecksumStatus)>>);

impl ChecksumCache {
    fn known(&self, model: &ModelInfo) -> ChecksumStatus {
        let stamp = file_stamp(&model.path);
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&model.path)
            .filter(|(size, modified, _)| Some((*size, *modified)) == stamp)
            .map_or(ChecksumStatus::Unchecked, |(_, _, status)| status.clone())
    }

    pub(crate) fn check(&self, model: &ModelInfo) -> Result<ChecksumStatus, AgentError> {
        let known = self.known(model);
        if known != ChecksumStatus::Unchecked {
            return Ok(known);
        }
        let actual = sha256_file(&model.path).map_err(|err| {
            AgentError::Admin(format!(
                "cannot read model file {}: {err}",
                model.path.display()
            ))
        })?;
        let status = match &model.sha256 {
            None => ChecksumStatus::Unlisted { sha256: actual },
            Some(expected) if expected.eq_ignore_ascii_case(&actual) => {
                ChecksumStatus::Valid { sha256: actual }
            }
            Some(expected) => ChecksumStatus::Mismatch {
                expected: expected.clone(),
                actual,
            },
        };
        if let Some((size, modified)) = file_stamp(&model.path) {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(model.path.clone(), (size, modified, status.clone()));
        }
        Ok(status)
    }
}

fn file_stamp(path: &Path) -> Option<(u64, SystemTime)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// The SHA-256 of a file (hex), read in 1 MiB blocks.
pub(crate) fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buffer[..read]);
    }
}

impl Agent {
    /// The model file requests use: the one fixed for this run (`--model`, `AIRLOCK_MODEL`),
    /// else the one an admin chose while it is still there, else the most preferred present.
    ///
    /// # Errors
    /// [`AgentError::Model`] when no model is found; [`AgentError::Store`].
    pub(crate) fn model_path(&self) -> Result<PathBuf, AgentError> {
        if let Some(explicit) = &self.config.model {
            return Ok(airlock_llm::registry::select_model(
                Some(explicit),
                &self.config.models_dir,
            )?);
        }
        if let Some(chosen) = self.store().setting(ACTIVE_MODEL_SETTING)? {
            let status = model_status(&self.config.models_dir);
            match status
                .available
                .into_iter()
                .find(|model| model.name == chosen)
            {
                Some(model) => return Ok(model.path),
                None => tracing::warn!(
                    model = %chosen,
                    "the model an admin chose is no longer in the models directory; the most preferred one is used"
                ),
            }
        }
        Ok(airlock_llm::registry::select_model(
            None,
            &self.config.models_dir,
        )?)
    }

    /// Every generator model with its checksum status as far as checked, and which is used.
    #[must_use]
    pub fn models(&self) -> ModelsView {
        let status = model_status(&self.config.models_dir);
        let active = self.model_path().ok();
        let loaded = self.loaded_model_view(&status.available);
        ModelsView {
            models: status
                .available
                .iter()
                .map(|model| ModelEntry {
                    name: model.name.clone(),
                    path: model.path.clone(),
                    size_bytes: model.size_bytes,
                    source: model.source,
                    checksum: self.checksums.known(model),
                    active: active.as_ref() == Some(&model.path),
                })
                .collect(),
            models_dir: status.models_dir,
            loaded,
            pinned_reason: self.config.model.as_ref().map(|path| {
                format!(
                    "this run uses {} (set with --model or AIRLOCK_MODEL); restart without it to choose here",
                    path.display()
                )
            }),
            problem: status.problem,
        }
    }

    /// Hashes model `name` (seconds for a large file) and compares it with the manifest.
    ///
    /// # Errors
    /// [`AgentError::Admin`] for an unknown model or an unreadable file.
    pub fn verify_model(&self, name: &str) -> Result<ChecksumStatus, AgentError> {
        let model = self.find_model(name)?;
        self.checksums.check(&model)
    }

    /// Makes model `name` the one requests use, as admin `by`: checks its file against the
    /// manifest, loads it in a new worker (the old one stops first, so two models never share
    /// the memory), remembers the choice and records it.
    ///
    /// # Errors
    /// [`AgentError::Admin`] for a non-admin, a model fixed for this run, an unknown model or
    /// a damaged file; [`AgentError::Model`] when it does not load (the previous choice
    /// stays, and the next request loads it again).
    pub fn switch_model(
        &self,
        name: &str,
        by: &Approver,
        progress: &mut dyn FnMut(ModelLoadProgress),
    ) -> Result<LoadedModelView, AgentError> {
        self.require_admin(by)?;
        if let Some(reason) = self.models().pinned_reason {
            return Err(AgentError::Admin(reason));
        }
        let model = self.find_model(name)?;
        progress(ModelLoadProgress::Verifying {
            detail: format!("checking the SHA-256 of {}", model.path.display()),
        });
        let checksum = self.checksums.check(&model)?;
        if let ChecksumStatus::Mismatch { expected, actual } = &checksum {
            return Err(AgentError::Admin(format!(
                "{} is damaged or replaced (SHA-256 {actual}, the manifest says {expected}): fetch it again with `make setup` before using it",
                model.path.display()
            )));
        }
        progress(ModelLoadProgress::Loading {
            detail: format!(
                "loading {} ({:.0} MiB)",
                model.name,
                model.size_bytes as f64 / (1024.0 * 1024.0)
            ),
        });
        let previous = self.model_path().ok();
        let worker = self.start_model_worker(model.path.clone())?;
        self.store()
            .set_setting(ACTIVE_MODEL_SETTING, &model.name)?;
        let loaded = worker.loaded_model();
        let view = LoadedModelView {
            name: model.name.clone(),
            description: loaded
                .as_ref()
                .map(|loaded| loaded.description.clone())
                .unwrap_or_default(),
            n_ctx: loaded.as_ref().map_or(0, |loaded| loaded.n_ctx),
            load_ms: loaded.as_ref().map_or(0.0, |loaded| loaded.load_ms),
        };
        self.record(
            &TraceId::new(),
            EventKind::ModelChanged,
            json!({"model": model.name, "path": model.path, "checksum": checksum,
                   "previous": previous, "load_ms": view.load_ms, "by": by.name,
                   "os_user": self.principal()}),
        )?;
        progress(ModelLoadProgress::Loaded {
            model: view.clone(),
        });
        Ok(view)
    }

    fn find_model(&self, name: &str) -> Result<ModelInfo, AgentError> {
        let status = model_status(&self.config.models_dir);
        status
            .available
            .into_iter()
            .find(|model| model.name == name)
            .ok_or_else(|| {
                AgentError::Admin(format!(
                    "no model `{name}` in {}: put its GGUF file there (or run `make setup`) and reopen the list",
                    self.config.models_dir.display()
                ))
            })
    }

    fn loaded_model_view(&self, available: &[ModelInfo]) -> Option<LoadedModelView> {
        let loaded = self.running_model_worker()?.loaded_model()?;
        let name = available
            .iter()
            .find(|model| model.path == loaded.path)
            .map_or_else(
                || loaded.path.display().to_string(),
                |model| model.name.clone(),
            );
        Some(LoadedModelView {
            name,
            description: loaded.description,
            n_ctx: loaded.n_ctx,
            load_ms: loaded.load_ms,
        })
    }
}
