//! The check-up of every part Airlock runs on, as `airlock doctor` prints it and the window's
//! first-run screen shows it: the models (present and intact), the Docker engine and the
//! sandbox image, the keychain, the policy, the audit log and the admin account.

use std::path::Path;

use airlock_llm::registry::{embedder_files, model_status, ModelInfo, ModelSource};
use serde::Serialize;

use crate::admin::{sha256_file, ChecksumStatus};
use crate::{Agent, AgentError, ADMIN_ROLE};

/// How one part fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// It works.
    Ok,
    /// It works in a lesser way, or needs a step soon; the detail says which.
    Warn,
    /// It does not work; the detail says what to do.
    Fail,
}

/// One part's check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The part, as a person names it.
    pub name: &'static str,
    /// How it fared.
    pub status: CheckStatus,
    /// What was found, or what is wrong and what to do.
    pub detail: String,
}

/// Every part's check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkup {
    /// No part failed (warnings allowed).
    pub ok: bool,
    /// No local account holds the admin role yet: the first-run step still to do.
    pub needs_admin: bool,
    /// The checks, in the order they are shown.
    pub checks: Vec<Check>,
}

impl Check {
    fn new(name: &'static str, status: CheckStatus, detail: impl Into<String>) -> Self {
        Self {
            name,
            status,
            detail: detail.into(),
        }
    }
}

impl Agent {
    /// Checks every part. It hashes the model files and connects to the Docker engine (which
    /// loads the sandbox image on first use), so it takes seconds: call it off the UI thread.
    #[must_use]
    pub fn checkup(&self) -> Checkup {
        let (docker, image) = self.engine_checks();
        let (admin, needs_admin) = self.admin_check();
        let checks = vec![
            self.generator_check(),
            embedder_check(&self.config.models_dir),
            docker,
            image,
            self.keychain_check(),
            self.policy_check(),
            self.audit_check(),
            admin,
        ];
        Checkup {
            ok: checks.iter().all(|check| check.status != CheckStatus::Fail),
            needs_admin,
            checks,
        }
    }

    fn generator_check(&self) -> Check {
        const NAME: &str = "generator model";
        let path = match self.model_path() {
            Ok(path) => path,
            Err(err) => return Check::new(NAME, CheckStatus::Fail, err.to_string()),
        };
        // The same file may be named by another path (`--model ../models/x.gguf`).
        let canonical = std::fs::canonicalize(&path).ok();
        let model = model_status(&self.config.models_dir)
            .available
            .into_iter()
            .find(|model| {
                model.path == path
                    || canonical.is_some() && std::fs::canonicalize(&model.path).ok() == canonical
            })
            .unwrap_or_else(|| ModelInfo {
                name: path.display().to_string(),
                size_bytes: std::fs::metadata(&path).map_or(0, |meta| meta.len()),
                path: path.clone(),
                source: ModelSource::User,
                sha256: None,
            });
        let size = format!("{:.0} MiB", model.size_bytes as f64 / (1024.0 * 1024.0));
        match self.checksums.check(&model) {
            Ok(ChecksumStatus::Valid { .. }) => Check::new(
                NAME,
                CheckStatus::Ok,
                format!(
                    "{} ({size}), checksum matches the manifest",
                    model.path.display()
                ),
            ),
            Ok(ChecksumStatus::Unlisted { sha256 }) => Check::new(
                NAME,
                CheckStatus::Warn,
                format!(
                    "{} ({size}) is not in the manifest, so nothing vouches for it \
                     (sha256 {sha256}); use a shipped model unless you trust this file",
                    model.path.display()
                ),
            ),
            Ok(ChecksumStatus::Mismatch { expected, actual }) => Check::new(
                NAME,
                CheckStatus::Fail,
                format!(
                    "{} is damaged or replaced: its sha256 is {actual}, the manifest says \
                     {expected}; reinstall Airlock or run `make setup` to restore it",
                    model.path.display()
                ),
            ),
            Ok(ChecksumStatus::Unchecked) => Check::new(
                NAME,
                CheckStatus::Fail,
                format!("{} could not be hashed", model.path.display()),
            ),
            Err(err) => Check::new(NAME, CheckStatus::Fail, err.to_string()),
        }
    }

    fn engine_checks(&self) -> (Check, Check) {
        const IMAGE: &str = "sandbox image";
        match self.sandbox.engine() {
            Ok(engine) => {
                let image = match self.sandbox.image() {
                    Some((reference, true)) => Check::new(
                        IMAGE,
                        CheckStatus::Ok,
                        format!("{reference}, loaded from the image shipped with Airlock"),
                    ),
                    Some((reference, false)) => Check::new(
                        IMAGE,
                        CheckStatus::Ok,
                        format!("{reference}, built here from busybox-static"),
                    ),
                    None => Check::new(
                        IMAGE,
                        CheckStatus::Fail,
                        "the engine answered but no image is loaded; run `airlock sandbox doctor`",
                    ),
                };
                (
                    Check::new(
                        "Docker engine",
                        CheckStatus::Ok,
                        format!("Docker {} at {}", engine.version, engine.endpoint),
                    ),
                    image,
                )
            }
            Err(err) => (
                Check::new("Docker engine", CheckStatus::Fail, err.to_string()),
                Check::new(
                    IMAGE,
                    CheckStatus::Fail,
                    "not loaded: it is loaded into the Docker engine once the engine answers",
                ),
            ),
        }
    }

    fn keychain_check(&self) -> Check {
        let status = self.key_storage.status();
        Check::new(
            "keychain",
            if status.ok {
                CheckStatus::Ok
            } else {
                CheckStatus::Warn
            },
            status.detail,
        )
    }

    fn policy_check(&self) -> Check {
        const NAME: &str = "policy";
        let dir = self.config.policy_dir.display();
        match self.policy_files() {
            Ok(files) => {
                let cedar = files.iter().filter(|file| file.language == "cedar").count();
                let mode = if self.read_only() {
                    "; this installation only plans (`[deployment] read_only`)"
                } else {
                    ""
                };
                Check::new(
                    NAME,
                    CheckStatus::Ok,
                    format!(
                        "{cedar} Cedar policy file{} from {dir} in force{mode}",
                        if cedar == 1 { "" } else { "s" }
                    ),
                )
            }
            Err(err) => Check::new(NAME, CheckStatus::Fail, err.to_string()),
        }
    }

    fn audit_check(&self) -> Check {
        const NAME: &str = "audit log";
        match self.verify_audit() {
            Ok(report) => match &report.first_problem {
                None => Check::new(
                    NAME,
                    CheckStatus::Ok,
                    format!(
                        "{} rows, chain intact, {} signed checkpoints, in {}",
                        report.rows_checked,
                        report.checkpoints_checked,
                        self.data_dir().display()
                    ),
                ),
                Some(problem) => Check::new(
                    NAME,
                    CheckStatus::Fail,
                    format!(
                        "{problem}; `airlock audit verify` shows the details, and the \
                         rows before it remain intact"
                    ),
                ),
            },
            Err(err) => Check::new(NAME, CheckStatus::Fail, err.to_string()),
        }
    }

    /// The local accounts holding the admin role; none means the first-run step is still to do.
    ///
    /// # Errors
    /// [`AgentError::Store`].
    pub fn admins(&self) -> Result<Vec<String>, AgentError> {
        Ok(self
            .accounts()?
            .into_iter()
            .filter(|account| account.roles.iter().any(|role| role == ADMIN_ROLE))
            .map(|account| account.name)
            .collect())
    }

    fn admin_check(&self) -> (Check, bool) {
        const NAME: &str = "admin account";
        match self.admins() {
            Ok(admins) if admins.is_empty() => (
                Check::new(
                    NAME,
                    CheckStatus::Warn,
                    "none yet: create it in the window's first-run screen, or with \
                     `airlock users add NAME --role admin`",
                ),
                true,
            ),
            Ok(admins) => (Check::new(NAME, CheckStatus::Ok, admins.join(", ")), false),
            Err(err) => (Check::new(NAME, CheckStatus::Fail, err.to_string()), false),
        }
    }
}

/// The embedding model of document search: every file present and as the manifest publishes.
fn embedder_check(models_dir: &Path) -> Check {
    const NAME: &str = "embedding model";
    let files = match embedder_files(models_dir) {
        Ok(files) if !files.is_empty() => files,
        Ok(_) => {
            return Check::new(
                NAME,
                CheckStatus::Warn,
                "the manifest publishes no checksum for it, so it cannot be checked",
            )
        }
        Err(err) => return Check::new(NAME, CheckStatus::Fail, err.to_string()),
    };
    for file in &files {
        match sha256_file(&file.path) {
            Ok(actual) if actual.eq_ignore_ascii_case(&file.sha256) => {}
            Ok(actual) => {
                return Check::new(
                    NAME,
                    CheckStatus::Fail,
                    format!(
                        "{} is damaged or replaced: its sha256 is {actual}, the manifest \
                         says {}; reinstall Airlock or run `make setup` to restore it",
                        file.path.display(),
                        file.sha256
                    ),
                )
            }
            Err(err) => {
                return Check::new(
                    NAME,
                    CheckStatus::Fail,
                    format!(
                        "{} cannot be read ({err}); document search needs it: reinstall \
                         Airlock or run `make setup`",
                        file.path.display()
                    ),
                )
            }
        }
    }
    let dir = files[0].path.parent().unwrap_or(models_dir);
    Check::new(
        NAME,
        CheckStatus::Ok,
        format!(
            "{} ({} files), checksums match the manifest",
            dir.display(),
            files.len()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models_dir_with_embedder(content: &[u8], published: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("manifest.toml"),
            format!(
                "[[model]]\nname = \"e\"\nkind = \"embedder\"\ntarget = \"e\"\n\
                 files = [{{ target = \"weights\", sha256 = \"{published}\" }}]\n"
            ),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("e")).unwrap();
        std::fs::write(dir.path().join("e/weights"), content).unwrap();
        dir
    }

    fn sha256(bytes: &[u8]) -> String {
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes))
    }

    #[test]
    fn an_intact_embedder_passes() {
        let dir = models_dir_with_embedder(b"weights", &sha256(b"weights"));
        let check = embedder_check(dir.path());
        assert_eq!(check.status, CheckStatus::Ok, "{}", check.detail);
    }

    #[test]
    fn a_changed_embedder_file_fails_and_says_what_to_do() {
        let dir = models_dir_with_embedder(b"weightz", &sha256(b"weights"));
        let check = embedder_check(dir.path());
        assert_eq!(check.status, CheckStatus::Fail);
        assert!(
            check.detail.contains("damaged or replaced"),
            "{}",
            check.detail
        );
        assert!(check.detail.contains("reinstall"), "{}", check.detail);
    }

    #[test]
    fn a_missing_embedder_file_fails() {
        let dir = models_dir_with_embedder(b"weights", &sha256(b"weights"));
        std::fs::remove_file(dir.path().join("e/weights")).unwrap();
        let check = embedder_check(dir.path());
        assert_eq!(check.status, CheckStatus::Fail);
        assert!(check.detail.contains("cannot be read"), "{}", check.detail);
    }
}
