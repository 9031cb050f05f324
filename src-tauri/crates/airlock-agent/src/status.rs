//! The parts Airlock runs on, as the status bar (and `airlock doctor`) report them: the model,
//! the Docker engine, the keychain, and whether this installation may execute at all.

use std::path::PathBuf;

use airlock_connectors::keys::{KeySource, LoadedKey};
use serde::Serialize;

use crate::Agent;

/// One part's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartStatus {
    /// Whether it works.
    pub ok: bool,
    /// What was found, or what is wrong and what to do.
    pub detail: String,
}

/// The generator model's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelPart {
    /// The model requests use, when one is found.
    pub name: Option<String>,
    /// Found (and whether loaded), or what to do.
    #[serde(flatten)]
    pub status: PartStatus,
}

/// Everything the status bar shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppStatus {
    /// Who requests run as.
    pub principal: String,
    /// The generator model.
    pub model: ModelPart,
    /// The Docker engine the sandbox runs in.
    pub docker: PartStatus,
    /// Where signing keys and connection secrets are kept.
    pub keychain: PartStatus,
    /// Whether this installation only plans (`[deployment] read_only`).
    pub read_only: bool,
    /// Where the data (database, key files) lives.
    pub data_dir: PathBuf,
}

/// Where the agent's signing keys are kept, found when it opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyStorage {
    /// In the OS keychain.
    Keychain,
    /// In a key file, because of `reason`.
    File {
        /// The file.
        path: PathBuf,
        /// Why not the keychain.
        reason: String,
    },
}

impl KeyStorage {
    /// Where `key` came from.
    pub(crate) fn of(key: &LoadedKey) -> Self {
        match &key.source {
            KeySource::Keychain => Self::Keychain,
            KeySource::File(path) => Self::File {
                path: path.clone(),
                reason: key
                    .fallback_reason
                    .clone()
                    .unwrap_or_else(|| "no keychain answered".to_owned()),
            },
        }
    }

    pub(crate) fn status(&self) -> PartStatus {
        match self {
            Self::Keychain => PartStatus {
                ok: true,
                detail: "keys are in the OS keychain".to_owned(),
            },
            Self::File { path, reason } => PartStatus {
                ok: false,
                detail: format!(
                    "keys are in the file {} (readable by this user only) because {reason}; \
                     unlock or install a Secret Service keychain to keep them there",
                    path.display()
                ),
            },
        }
    }
}

impl Agent {
    /// The status of every part. Checking Docker connects to the engine (building the sandbox
    /// image on first use), so this may take seconds: call it off the UI thread.
    pub fn status(&self) -> AppStatus {
        AppStatus {
            principal: self.principal().to_owned(),
            model: self.model_part(),
            docker: self.docker_status(),
            keychain: self.key_storage.status(),
            read_only: self.read_only(),
            data_dir: self.config.data_dir.clone(),
        }
    }

    /// Whether the Docker engine answers, and which one it is.
    pub fn docker_status(&self) -> PartStatus {
        match self.sandbox.engine() {
            Ok(engine) => PartStatus {
                ok: true,
                detail: format!("Docker {} at {}", engine.version, engine.endpoint),
            },
            Err(err) => PartStatus {
                ok: false,
                detail: err.to_string(),
            },
        }
    }

    /// Closes down cleanly when the app quits: signs an audit checkpoint over the newest row,
    /// stops the model worker and removes any sandbox container a cut-short run left. Each
    /// step is tried even when an earlier one fails; failures are logged.
    pub fn shutdown(&self) {
        match self.store().checkpoint() {
            Ok(seq) => tracing::info!(?seq, "audit checkpoint written at shutdown"),
            Err(err) => tracing::warn!(%err, "no audit checkpoint at shutdown"),
        }
        self.stop_model();
        match self.sandbox.remove_own() {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "sandbox containers removed at shutdown"),
            Err(err) => {
                tracing::warn!(%err, "sandbox containers may be left; the next start removes them")
            }
        }
    }

    fn model_part(&self) -> ModelPart {
        let loaded = self.running_model_worker().is_some();
        let found = self.model_path();
        match (found, loaded) {
            (Ok(path), loaded) => ModelPart {
                name: path
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned()),
                status: PartStatus {
                    ok: true,
                    detail: if loaded {
                        "loaded".to_owned()
                    } else {
                        "found; it loads with the first request".to_owned()
                    },
                },
            },
            (Err(err), _) => ModelPart {
                name: None,
                status: PartStatus {
                    ok: false,
                    detail: err.to_string(),
                },
            },
        }
    }
}
