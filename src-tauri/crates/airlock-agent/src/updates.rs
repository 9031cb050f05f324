//! Offline updates from the admin window: a signed `.airlock-update` bundle (carried on USB)
//! verified against the update key installed with Airlock, then installed by an admin.
//! Every install, and every refused attempt, lands in the audit log.

use std::path::Path;

use airlock_core::{EventKind, TraceId};
use airlock_update::semver::Version;
use airlock_update::{Manifest, TrustedKey, UpdateBundle, VerifiedUpdate};
use serde::Serialize;
use serde_json::json;

use crate::{Agent, AgentError, Approver};

/// This build's version: the one a bundle must be newer than.
pub const CURRENT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A bundle that verified: what it would install.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateView {
    /// The version running now.
    pub current_version: String,
    /// The bundle's signed manifest (version, target, notes, package name, size, SHA-256).
    pub manifest: Manifest,
    /// The signature's trusted comment: who made the bundle and when.
    pub trusted_comment: String,
    /// The id of the installed key that verified it.
    pub key_id: String,
}

/// An installed update.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateInstalled {
    /// The version now installed (in use after a restart).
    pub version: String,
    /// The installer's command, as run.
    pub command: String,
    /// Its output.
    pub output: String,
}

impl UpdateView {
    fn of(update: &VerifiedUpdate) -> Self {
        Self {
            current_version: CURRENT_VERSION.to_owned(),
            manifest: update.manifest().clone(),
            trusted_comment: update.trusted_comment().to_owned(),
            key_id: update.key_id().to_owned(),
        }
    }
}

impl Agent {
    /// Verifies the bundle at `file` (signature, product, platform, newer version, package
    /// hash) and says what it would install; installs nothing.
    ///
    /// # Errors
    /// [`AgentError::Update`] naming the check that failed and what to do.
    pub fn verify_update(&self, file: &Path) -> Result<UpdateView, AgentError> {
        Ok(UpdateView::of(&self.verified_update(file)?))
    }

    /// Verifies the bundle at `file` again, then installs its package (dpkg; through pkexec,
    /// which asks for the system administrator's password, unless Airlock runs as root).
    /// Admins only; the install or the refusal is audited.
    ///
    /// # Errors
    /// [`AgentError::Admin`] for a non-admin, [`AgentError::Update`] when the bundle is
    /// refused or the package does not install.
    pub fn apply_update(
        &self,
        file: &Path,
        admin: &Approver,
    ) -> Result<UpdateInstalled, AgentError> {
        self.require_admin(admin)?;
        let attempt = self
            .verified_update(file)
            .and_then(|update| Ok((UpdateView::of(&update), update.install()?)));
        let trace = TraceId::new();
        match attempt {
            Ok((view, outcome)) => {
                self.record(
                    &trace,
                    EventKind::UpdateApplied,
                    json!({"installed": true, "by": admin.name, "from": view.current_version,
                           "version": outcome.version.to_string(), "package": view.manifest.payload.name,
                           "sha256": view.manifest.payload.sha256, "key_id": view.key_id,
                           "bundle": file.display().to_string()}),
                )?;
                tracing::info!(version = %outcome.version, by = %admin.name, "update installed");
                Ok(UpdateInstalled {
                    version: outcome.version.to_string(),
                    command: outcome.command,
                    output: outcome.output,
                })
            }
            Err(err) => {
                self.record(
                    &trace,
                    EventKind::UpdateApplied,
                    json!({"installed": false, "by": admin.name, "from": CURRENT_VERSION,
                           "bundle": file.display().to_string(), "error": err.to_string()}),
                )?;
                Err(err)
            }
        }
    }

    fn verified_update(&self, file: &Path) -> Result<VerifiedUpdate, AgentError> {
        let current = Version::parse(CURRENT_VERSION).map_err(|err| {
            AgentError::Admin(format!(
                "this build's version {CURRENT_VERSION} is not semver ({err})"
            ))
        })?;
        let key = TrustedKey::installed()?;
        Ok(UpdateBundle::verify(
            file,
            &key,
            &current,
            &self.data_dir().join("updates"),
        )?)
    }
}
