//! Which models are on disk and which one to use.
//!
//! `models/manifest.toml` names the models Airlock ships with and their preference; any other
//! `.gguf` file a user drops into the models directory is offered too, after them. Only
//! generators are offered for chat; the embedder (document search) is found with
//! [`embedder_dir`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::LlmError;

/// Where a model came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelSource {
    /// Listed in `models/manifest.toml`.
    Manifest,
    /// Dropped into the models directory by a user.
    User,
}

/// A generator model present on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Manifest name, or the file stem for user models.
    pub name: String,
    /// The GGUF file.
    pub path: PathBuf,
    /// File size.
    pub size_bytes: u64,
    /// Manifest or user-provided.
    pub source: ModelSource,
    /// The SHA-256 the manifest publishes for it (hex); `None` for a user model.
    pub sha256: Option<String>,
}

/// The generator models present and the one Airlock will use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelStatus {
    /// The directory searched.
    pub models_dir: PathBuf,
    /// The model in use: the most preferred one present.
    pub selected: Option<ModelInfo>,
    /// Every generator present, most preferred first.
    pub available: Vec<ModelInfo>,
    /// What is wrong, when no model can be used, and what to do about it.
    pub problem: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    #[serde(rename = "model", default)]
    models: Vec<ManifestModel>,
}

#[derive(Debug, Deserialize)]
struct ManifestModel {
    name: String,
    kind: ModelKind,
    /// Lower is preferred; only generators are ranked.
    #[serde(default = "unranked")]
    preference: u32,
    /// A file below the models directory, or for a model of several files, a directory.
    target: String,
    /// The file's SHA-256 (hex), for a model of one file.
    #[serde(default)]
    sha256: Option<String>,
    /// The files of a model of several files (below `target`).
    #[serde(default)]
    files: Vec<ManifestFile>,
}

/// One file of a model of several files.
#[derive(Debug, Deserialize)]
struct ManifestFile {
    /// Its name below the model's directory.
    target: String,
    /// Its SHA-256 (hex).
    sha256: String,
}

/// A file of the embedding model and the SHA-256 the manifest publishes for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedFile {
    /// Where it should be.
    pub path: PathBuf,
    /// Its SHA-256 (hex), as the manifest publishes it.
    pub sha256: String,
}

/// What a manifest model is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ModelKind {
    /// A GGUF chat model for the planner and answers.
    Generator,
    /// A sentence-embedding model directory for document search; never a generator.
    Embedder,
}

fn unranked() -> u32 {
    u32::MAX
}

/// The models directory: `$AIRLOCK_MODELS_DIR`, else the nearest `models/` holding a
/// `manifest.toml` above the working directory or the executable, else `./models`.
#[must_use]
pub fn default_models_dir() -> PathBuf {
    airlock_core::resources::locate_dir("AIRLOCK_MODELS_DIR", "models", "manifest.toml")
}

/// Lists the generator models in `models_dir` and picks one; never fails, but says in
/// [`ModelStatus::problem`] what is wrong.
#[must_use]
pub fn model_status(models_dir: &Path) -> ModelStatus {
    match available_models(models_dir) {
        Ok(available) => ModelStatus {
            models_dir: models_dir.to_owned(),
            selected: available.first().cloned(),
            problem: available.is_empty().then(|| {
                LlmError::NoModel {
                    dir: models_dir.to_owned(),
                }
                .to_string()
            }),
            available,
        },
        Err(err) => ModelStatus {
            models_dir: models_dir.to_owned(),
            selected: None,
            available: Vec::new(),
            problem: Some(err.to_string()),
        },
    }
}

/// The model to use: `explicit` when given (it must exist), else the most preferred model in
/// `models_dir`.
///
/// # Errors
/// [`LlmError::ModelNotFound`] for a missing explicit path, [`LlmError::NoModel`] when the
/// directory holds none, [`LlmError::Manifest`] for a broken manifest.
pub fn select_model(explicit: Option<&Path>, models_dir: &Path) -> Result<PathBuf, LlmError> {
    if let Some(path) = explicit {
        return if path.exists() {
            Ok(path.to_owned())
        } else {
            Err(LlmError::ModelNotFound {
                path: path.to_owned(),
            })
        };
    }
    available_models(models_dir)?
        .into_iter()
        .next()
        .map(|model| model.path)
        .ok_or_else(|| LlmError::NoModel {
            dir: models_dir.to_owned(),
        })
}

/// The directory of the embedding model the manifest in `models_dir` lists (the first
/// `kind = "embedder"`). Whether its files are there is for [`crate::Embedder::load`] to say.
///
/// # Errors
/// [`LlmError::NoEmbedder`] when the manifest lists none (or is missing),
/// [`LlmError::Manifest`] for a broken manifest.
pub fn embedder_dir(models_dir: &Path) -> Result<PathBuf, LlmError> {
    read_manifest(models_dir)?
        .models
        .into_iter()
        .find(|model| model.kind == ModelKind::Embedder)
        .map(|model| models_dir.join(model.target))
        .ok_or_else(|| LlmError::NoEmbedder {
            manifest: models_dir.join("manifest.toml"),
        })
}

/// The embedding model's files with their published SHA-256, as the manifest in `models_dir`
/// lists them (the first `kind = "embedder"`; a model of one file gives that file).
///
/// # Errors
/// As [`embedder_dir`].
pub fn embedder_files(models_dir: &Path) -> Result<Vec<PublishedFile>, LlmError> {
    let embedder = read_manifest(models_dir)?
        .models
        .into_iter()
        .find(|model| model.kind == ModelKind::Embedder)
        .ok_or_else(|| LlmError::NoEmbedder {
            manifest: models_dir.join("manifest.toml"),
        })?;
    let root = models_dir.join(&embedder.target);
    if embedder.files.is_empty() {
        return Ok(embedder
            .sha256
            .map(|sha256| PublishedFile { path: root, sha256 })
            .into_iter()
            .collect());
    }
    Ok(embedder
        .files
        .into_iter()
        .map(|file| PublishedFile {
            path: root.join(file.target),
            sha256: file.sha256,
        })
        .collect())
}

/// Every generator in `models_dir`: manifest models by preference, then user models by name.
fn available_models(models_dir: &Path) -> Result<Vec<ModelInfo>, LlmError> {
    let manifest = read_manifest(models_dir)?;
    let entries = match std::fs::read_dir(models_dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => {
            return Err(LlmError::Manifest {
                path: models_dir.to_owned(),
                reason: format!("cannot list the models directory: {err}"),
            })
        }
    };
    let mut ranked: Vec<(u32, ModelInfo)> = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let is_gguf = Path::new(&file_name)
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("gguf"));
        let Ok(meta) = entry.metadata() else { continue };
        if file_name.starts_with('.') || !is_gguf || !meta.is_file() {
            continue;
        }
        let listed = manifest.models.iter().find(|m| m.target == file_name);
        if listed.is_some_and(|m| m.kind != ModelKind::Generator) {
            continue;
        }
        let (rank, name, source, sha256) = match listed {
            Some(m) => (
                m.preference,
                m.name.clone(),
                ModelSource::Manifest,
                m.sha256.clone(),
            ),
            None => (
                u32::MAX,
                file_name.trim_end_matches(".gguf").to_owned(),
                ModelSource::User,
                None,
            ),
        };
        ranked.push((
            rank,
            ModelInfo {
                name,
                path: entry.path(),
                size_bytes: meta.len(),
                source,
                sha256,
            },
        ));
    }
    ranked.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    Ok(ranked.into_iter().map(|(_, model)| model).collect())
}

fn read_manifest(models_dir: &Path) -> Result<Manifest, LlmError> {
    let path = models_dir.join("manifest.toml");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Manifest { models: Vec::new() })
        }
        Err(err) => {
            return Err(LlmError::Manifest {
                path,
                reason: err.to_string(),
            })
        }
    };
    toml::from_str(&text).map_err(|err| LlmError::Manifest {
        path,
        reason: err.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
[[model]]
name = "big"
kind = "generator"
preference = 1
target = "big.gguf"

[[model]]
name = "small"
kind = "generator"
preference = 2
target = "small.gguf"
"#;

    fn dir_with(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("manifest.toml"), MANIFEST).unwrap();
        for file in files {
            std::fs::write(dir.path().join(file), b"GGUF").unwrap();
        }
        dir
    }

    #[test]
    fn most_preferred_present_model_is_selected() {
        let dir = dir_with(&["small.gguf", "big.gguf"]);
        let status = model_status(dir.path());
        assert_eq!(status.selected.unwrap().name, "big");
        assert_eq!(status.available.len(), 2);
        assert!(status.problem.is_none());
    }

    #[test]
    fn user_models_come_after_manifest_models() {
        let dir = dir_with(&["mine.gguf", "small.gguf"]);
        let names: Vec<_> = model_status(dir.path())
            .available
            .into_iter()
            .map(|m| (m.name, m.source))
            .collect();
        assert_eq!(
            names,
            [
                ("small".to_owned(), ModelSource::Manifest),
                ("mine".to_owned(), ModelSource::User)
            ]
        );
    }

    #[test]
    fn partial_downloads_and_other_files_are_ignored() {
        let dir = dir_with(&[".big.gguf.partial", "notes.txt", "readme.gguf.sha256"]);
        let status = model_status(dir.path());
        assert!(status.selected.is_none());
        assert!(status.problem.unwrap().contains("make setup"));
    }

    #[test]
    fn explicit_model_must_exist() {
        let err = select_model(Some(Path::new("/no/such.gguf")), Path::new("/tmp")).unwrap_err();
        assert!(matches!(err, LlmError::ModelNotFound { .. }));
    }

    const WITH_EMBEDDER: &str = r#"
[[model]]
name = "small"
kind = "generator"
preference = 2
target = "small.gguf"

[[model]]
name = "minilm"
kind = "embedder"
target = "minilm"
"#;

    #[test]
    fn the_embedder_is_never_offered_as_a_generator() {
        let dir = dir_with(&["small.gguf"]);
        std::fs::write(dir.path().join("manifest.toml"), WITH_EMBEDDER).unwrap();
        std::fs::create_dir(dir.path().join("minilm")).unwrap();
        std::fs::write(dir.path().join("minilm/model.gguf"), b"GGUF").unwrap();
        let status = model_status(dir.path());
        let names: Vec<_> = status.available.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["small"]);
        assert!(status.problem.is_none());
    }

    #[test]
    fn the_embedder_directory_comes_from_the_manifest() {
        let dir = dir_with(&[]);
        std::fs::write(dir.path().join("manifest.toml"), WITH_EMBEDDER).unwrap();
        assert_eq!(embedder_dir(dir.path()).unwrap(), dir.path().join("minilm"));
    }

    #[test]
    fn the_embedder_files_carry_their_published_hashes() {
        let dir = dir_with(&[]);
        let manifest = format!(
            "{WITH_EMBEDDER}files = [{{ target = \"config.json\", sha256 = \"aa\" }}, \
             {{ target = \"model.safetensors\", sha256 = \"bb\" }}]\n"
        );
        std::fs::write(dir.path().join("manifest.toml"), manifest).unwrap();
        let files = embedder_files(dir.path()).unwrap();
        assert_eq!(
            files,
            [
                PublishedFile {
                    path: dir.path().join("minilm/config.json"),
                    sha256: "aa".to_owned()
                },
                PublishedFile {
                    path: dir.path().join("minilm/model.safetensors"),
                    sha256: "bb".to_owned()
                },
            ]
        );
    }

    #[test]
    fn a_manifest_without_embedder_says_what_to_do() {
        let dir = dir_with(&[]);
        let err = embedder_dir(dir.path()).unwrap_err();
        assert!(matches!(err, LlmError::NoEmbedder { .. }));
        assert!(err.to_string().contains("make setup"), "{err}");
    }

    #[test]
    fn an_unknown_model_kind_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = "[[model]]\nname = \"x\"\nkind = \"oracle\"\ntarget = \"x.gguf\"\n";
        std::fs::write(dir.path().join("manifest.toml"), manifest).unwrap();
        let problem = model_status(dir.path()).problem.unwrap();
        assert!(problem.contains("unknown variant `oracle`"), "{problem}");
    }

    #[test]
    fn broken_manifest_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("manifest.toml"), "[[model]\nname=").unwrap();
        let status = model_status(dir.path());
        assert!(status.problem.unwrap().contains("invalid model manifest"));
    }
}
