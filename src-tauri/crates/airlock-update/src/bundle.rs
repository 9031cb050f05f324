//! Reading a `.airlock-update` file: one pass over the tar, the signature checked before the
//! manifest is parsed, the package staged while it is hashed and trusted only after both.

mod members;
mod pass;
mod signature;

use std::path::Path;

use semver::Version;
use tempfile::TempPath;

use crate::{Manifest, Target, TrustedKey, UpdateError};

/// Size caps for the three files of a bundle, checked against each tar header before any of
/// its data is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `update.json`.
    pub manifest: u64,
    /// `update.json.minisig`.
    pub signature: u64,
    /// The package.
    pub payload: u64,
}

impl Default for Limits {
    /// 64 KiB, 4 KiB and 2 GiB.
    fn default() -> Self {
        Self {
            manifest: 64 << 10,
            signature: 4 << 10,
            payload: 2 << 30,
        }
    }
}

/// What a bundle must be to install here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifyOptions {
    /// The installation kind the bundle must be for.
    pub target: Target,
    /// The size caps.
    pub limits: Limits,
}

impl VerifyOptions {
    /// This platform's target ([`Target::this_platform`]) and the default caps.
    ///
    /// # Errors
    /// [`UpdateError::UnsupportedPlatform`] where offline updates do not exist yet.
    pub fn for_this_platform() -> Result<Self, UpdateError> {
        let target = Target::this_platform().ok_or_else(|| UpdateError::UnsupportedPlatform {
            platform: Target::platform_name(),
        })?;
        Ok(Self {
            target,
            limits: Limits::default(),
        })
    }
}

/// An offline update bundle: an uncompressed tar of exactly `update.json`,
/// `update.json.minisig` (minisign over update.json's exact bytes) and the package update.json
/// names, in any order.
#[derive(Debug)]
pub struct UpdateBundle;

/// A bundle whose signature, manifest and package all checked out. The package is staged in a
/// file of its own, removed when this value is dropped.
#[derive(Debug)]
pub struct VerifiedUpdate {
    manifest: Manifest,
    payload: TempPath,
    trusted_comment: String,
    key_id: String,
}

impl VerifiedUpdate {
    /// The verified manifest.
    #[must_use]
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The staged package (absolute), its size and SHA-256 those of the manifest.
    #[must_use]
    pub fn payload_path(&self) -> &Path {
        &self.payload
    }

    /// The signature's trusted comment (signed too): who made the bundle and when.
    #[must_use]
    pub fn trusted_comment(&self) -> &str {
        &self.trusted_comment
    }

    /// The id of the key that signed it (the trusted key's).
    #[must_use]
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

impl UpdateBundle {
    /// Verifies the bundle at `path` for this platform with the default caps: see
    /// [`UpdateBundle::verify_with`].
    ///
    /// # Errors
    /// See [`UpdateBundle::verify_with`]; also [`UpdateError::UnsupportedPlatform`].
    pub fn verify(
        path: &Path,
        key: &TrustedKey,
        current_version: &Version,
        staging_dir: &Path,
    ) -> Result<VerifiedUpdate, UpdateError> {
        Self::verify_with(
            path,
            key,
            current_version,
            staging_dir,
            &VerifyOptions::for_this_platform()?,
        )
    }

    /// Verifies the bundle at `path`, streaming it once:
    /// - the tar holds exactly three regular files with plain names, none twice, no links,
    ///   directories or paths, each within its cap;
    /// - `update.json.minisig` verifies over update.json's exact bytes with `key`, before
    ///   update.json is parsed;
    /// - update.json is format 1, product airlock, `options.target`, a version strictly newer
    ///   than `current_version`;
    /// - the package is written to `staging_dir` (created 0700 if missing) under a unique name
    ///   while it is hashed; its name, size and SHA-256 must be update.json's. On any refusal
    ///   the staged file is removed.
    ///
    /// # Errors
    /// An [`UpdateError`] naming the first check that failed.
    pub fn verify_with(
        path: &Path,
        key: &TrustedKey,
        current_version: &Version,
        staging_dir: &Path,
        options: &VerifyOptions,
    ) -> Result<VerifiedUpdate, UpdateError> {
        let result = pass::Pass::run(path, key, current_version, staging_dir, options);
        match &result {
            Ok(update) => tracing::info!(
                bundle = %path.display(),
                version = %update.manifest.version,
                target = %update.manifest.target,
                key_id = update.key_id,
                "update bundle verified"
            ),
            // The caller reports the error itself; this is the log's record of it.
            Err(err) => tracing::info!(bundle = %path.display(), "update bundle refused: {err}"),
        }
        result
    }
}
