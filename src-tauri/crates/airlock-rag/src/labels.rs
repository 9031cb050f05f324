//! A labels file: titles, classifications, audiences and metadata for many documents at once
//! (`airlock docs add DIR --labels metadata.toml`).
//!
//! ```toml
//! [[document]]
//! file = "p101-pump-manual.md"      # relative to the labels file
//! id = "p101-pump-manual"
//! title = "P-101 Product Transfer Pump – Maintenance Manual"
//! classification = "INTERNAL"       # PUBLIC | INTERNAL | CONFIDENTIAL | RESTRICTED
//! audience = "safety"               # optional
//! equipment = ["P-101"]             # any other key becomes searchable metadata
//!
//! [[rendition]]                     # the same document in another format: same labels
//! file = "p101-pump-manual.pdf"
//! source = "p101-pump-manual"
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use airlock_core::Classification;
use serde::Deserialize;

use crate::DocumentLabels;

/// Why a labels file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LabelsError {
    /// It cannot be read.
    #[error("cannot read the labels file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// It is not valid TOML of the expected shape, or names an unknown level or source.
    #[error("the labels file {} is invalid: {detail}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

#[derive(Deserialize)]
struct LabelsFile {
    #[serde(default)]
    document: Vec<toml::Table>,
    #[serde(default)]
    rendition: Vec<Rendition>,
}

#[derive(Deserialize)]
struct Rendition {
    file: String,
    source: String,
}

/// Labels by document path (made absolute against the labels file's directory).
#[derive(Debug, Clone, Default)]
pub struct LabelsCatalog {
    by_path: HashMap<PathBuf, DocumentLabels>,
}

impl LabelsCatalog {
    /// Reads `path`.
    ///
    /// # Errors
    /// [`LabelsError`] when it cannot be read or is invalid.
    pub fn load(path: &Path) -> Result<Self, LabelsError> {
        let text = std::fs::read_to_string(path).map_err(|source| LabelsError::Read {
            path: path.to_owned(),
            source,
        })?;
        let invalid = |detail: String| LabelsError::Invalid {
            path: path.to_owned(),
            detail,
        };
        let file: LabelsFile = toml::from_str(&text).map_err(|err| invalid(err.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut by_path = HashMap::new();
        let mut by_id = HashMap::new();
        for table in file.document {
            let (file_name, id, labels) = document_labels(table).map_err(invalid)?;
            if let Some(id) = id {
                by_id.insert(id, labels.clone());
            }
            by_path.insert(absolute(base, &file_name), labels);
        }
        for rendition in file.rendition {
            let labels = by_id.get(&rendition.source).cloned().ok_or_else(|| {
                invalid(format!(
                    "rendition {} names source `{}`, which no [[document]] has as its id",
                    rendition.file, rendition.source
                ))
            })?;
            by_path.insert(absolute(base, &rendition.file), labels);
        }
        Ok(Self { by_path })
    }

    /// The labels for `path`, if the catalog has them.
    #[must_use]
    pub fn get(&self, path: &Path) -> Option<&DocumentLabels> {
        self.by_path
            .get(&absolute(Path::new("."), &path.to_string_lossy()))
    }
}

fn document_labels(
    mut table: toml::Table,
) -> Result<(String, Option<String>, DocumentLabels), String> {
    let mut text = |key: &str| match table.remove(key) {
        Some(toml::Value::String(value)) => Ok(Some(value)),
        Some(other) => Err(format!(
            "`{key}` must be a string, not {}",
            other.type_str()
        )),
        None => Ok(None),
    };
    let file = text("file")?.ok_or("every [[document]] needs a `file`")?;
    let id = text("id")?;
    let title = text("title")?;
    let audience = text("audience")?.unwrap_or_default();
    let level = text("classification")?
        .ok_or_else(|| format!("document {file} needs a `classification`"))?;
    let classification = Classification::parse(&level).ok_or_else(|| {
        format!(
            "document {file}: classification `{level}` is not PUBLIC, INTERNAL, CONFIDENTIAL or \
             RESTRICTED"
        )
    })?;
    let mut metadata = serde_json::to_value(&table).map_err(|err| err.to_string())?;
    if let (Some(id), Some(map)) = (&id, metadata.as_object_mut()) {
        map.insert("id".into(), serde_json::Value::String(id.clone()));
    }
    Ok((
        file,
        id,
        DocumentLabels {
            title,
            classification,
            audience,
            metadata,
        },
    ))
}

/// `file` against `base`, made absolute and canonical when it exists.
fn absolute(base: &Path, file: &str) -> PathBuf {
    let joined = base.join(file);
    std::fs::canonicalize(&joined).unwrap_or(joined)
}

/// The files listed in a corpus file (one path per line, relative to the file; `#` starts a
/// comment), as absolute paths.
///
/// # Errors
/// [`LabelsError::Read`] when it cannot be read.
pub fn read_corpus(path: &Path) -> Result<Vec<PathBuf>, LabelsError> {
    let text = std::fs::read_to_string(path).map_err(|source| LabelsError::Read {
        path: path.to_owned(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| absolute(base, line))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_and_renditions_get_their_labels() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("manual.md"), "x").unwrap();
        std::fs::write(dir.path().join("manual.pdf"), "x").unwrap();
        let labels = dir.path().join("labels.toml");
        std::fs::write(
            &labels,
            r#"
            [[document]]
            file = "manual.md"
            id = "manual"
            title = "Pump manual"
            classification = "restricted"
            audience = "safety"
            equipment = ["P-101"]

            [[rendition]]
            file = "manual.pdf"
            source = "manual"
            "#,
        )
        .unwrap();
        let catalog = LabelsCatalog::load(&labels).unwrap();
        let pdf = catalog.get(&dir.path().join("manual.pdf")).unwrap();
        assert_eq!(pdf.title.as_deref(), Some("Pump manual"));
        assert_eq!(pdf.classification, Classification::Restricted);
        assert_eq!(pdf.audience, "safety");
        assert_eq!(
            pdf.metadata,
            serde_json::json!({"equipment": ["P-101"], "id": "manual"})
        );
        assert!(catalog.get(&dir.path().join("other.md")).is_none());
    }

    #[test]
    fn unknown_levels_and_sources_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let labels = dir.path().join("labels.toml");
        std::fs::write(
            &labels,
            "[[document]]\nfile = \"a.md\"\nclassification = \"secret\"\n",
        )
        .unwrap();
        let err = LabelsCatalog::load(&labels).unwrap_err().to_string();
        assert!(err.contains("`secret` is not PUBLIC"), "{err}");
        std::fs::write(
            &labels,
            "[[rendition]]\nfile = \"a.pdf\"\nsource = \"nothing\"\n",
        )
        .unwrap();
        let err = LabelsCatalog::load(&labels).unwrap_err().to_string();
        assert!(err.contains("names source `nothing`"), "{err}");
    }
}
