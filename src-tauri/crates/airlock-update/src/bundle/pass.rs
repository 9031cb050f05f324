//! One pass over the archive: each member taken as it comes, the manifest verified as soon as
//! it and its signature are both in, the package compared with it at the end.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use semver::Version;

use super::members::{entry_name, prepare_staging, read_small, stage, unexpected, Staged};
use super::signature::verify_signature;
use super::{VerifiedUpdate, VerifyOptions};
use crate::manifest::{Expected, MANIFEST_NAME, SIGNATURE_NAME};
use crate::{Manifest, TrustedKey, UpdateError};

/// What the pass has collected so far.
pub(super) struct Pass<'a> {
    bundle: &'a Path,
    key: &'a TrustedKey,
    expected: Expected<'a>,
    options: &'a VerifyOptions,
    staging_dir: PathBuf,
    seen: HashSet<String>,
    manifest: Option<Vec<u8>>,
    signature: Option<Vec<u8>>,
    staged: Option<Staged>,
    /// The manifest once its signature verified and its fields checked, with the signature's
    /// trusted comment.
    verified: Option<(Manifest, String)>,
}

impl<'a> Pass<'a> {
    /// Reads the bundle at `bundle` once; see [`super::UpdateBundle::verify_with`].
    pub(super) fn run(
        bundle: &'a Path,
        key: &'a TrustedKey,
        current: &'a Version,
        staging_dir: &Path,
        options: &'a VerifyOptions,
    ) -> Result<VerifiedUpdate, UpdateError> {
        let mut pass = Pass {
            bundle,
            key,
            expected: Expected {
                target: options.target,
                current,
                max_payload: options.limits.payload,
            },
            options,
            staging_dir: prepare_staging(staging_dir)?,
            seen: HashSet::new(),
            manifest: None,
            signature: None,
            staged: None,
            verified: None,
        };
        let file = File::open(bundle).map_err(|source| UpdateError::Read {
            path: bundle.to_owned(),
            source,
        })?;
        let mut archive = tar::Archive::new(BufReader::new(file));
        // Raw: every header is an entry of its own, so long-name and PAX records are refused
        // as members instead of being read into memory whole.
        let entries = archive
            .entries()
            .map_err(|err| pass.not_a_bundle(&err))?
            .raw(true);
        for entry in entries {
            let mut entry = entry.map_err(|err| pass.not_a_bundle(&err))?;
            pass.take(&mut entry)?;
            pass.verify_when_complete()?;
        }
        pass.finish()
    }

    fn not_a_bundle(&self, err: &std::io::Error) -> UpdateError {
        UpdateError::NotABundle {
            path: self.bundle.to_owned(),
            reason: err.to_string(),
        }
    }

    /// One member: the manifest or signature read whole, anything else staged as the package.
    fn take<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), UpdateError> {
        let name = entry_name(entry)?;
        if !self.seen.insert(name.clone()) {
            return Err(unexpected(&name, "it appears twice"));
        }
        let size = entry.size();
        let limits = self.options.limits;
        tracing::debug!(entry = name, size, "update bundle member");
        match name.as_str() {
            MANIFEST_NAME => {
                self.manifest = Some(read_small(
                    entry,
                    &name,
                    size,
                    limits.manifest,
                    self.bundle,
                )?);
            }
            SIGNATURE_NAME => {
                self.signature = Some(read_small(
                    entry,
                    &name,
                    size,
                    limits.signature,
                    self.bundle,
                )?);
            }
            _ => self.take_package(entry, name, size)?,
        }
        Ok(())
    }

    fn take_package<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        name: String,
        size: u64,
    ) -> Result<(), UpdateError> {
        let target = self.options.target;
        if self.staged.is_some() {
            return Err(unexpected(&name, "a second package; a bundle carries one"));
        }
        if let Some((manifest, _)) = &self.verified {
            if name != manifest.payload.name {
                let named = format!("update.json names the package {}", manifest.payload.name);
                return Err(unexpected(&name, &named));
            }
        }
        if !name.ends_with(target.payload_extension()) {
            let kind = format!("not a {} package", target.payload_extension());
            return Err(unexpected(&name, &kind));
        }
        if size > self.options.limits.payload {
            return Err(UpdateError::TooLarge {
                name,
                size,
                limit: self.options.limits.payload,
            });
        }
        self.staged = Some(stage(
            entry,
            name,
            size,
            &self.staging_dir,
            target,
            self.bundle,
        )?);
        Ok(())
    }

    /// Once update.json and its signature are both in: the signature first, then the fields.
    fn verify_when_complete(&mut self) -> Result<(), UpdateError> {
        if self.verified.is_some() {
            return Ok(());
        }
        if let (Some(manifest), Some(signature)) = (&self.manifest, &self.signature) {
            let trusted_comment = verify_signature(self.key, manifest, signature)?;
            let manifest = Manifest::parse_verified(manifest, &self.expected)?;
            self.verified = Some((manifest, trusted_comment));
        }
        Ok(())
    }

    /// The end of the archive: every member there, the package the manifest's.
    fn finish(self) -> Result<VerifiedUpdate, UpdateError> {
        for (name, present) in [
            (MANIFEST_NAME, self.manifest.is_some()),
            (SIGNATURE_NAME, self.signature.is_some()),
        ] {
            if !present {
                return Err(UpdateError::MissingEntry { name: name.into() });
            }
        }
        // Both files are there, so the manifest was verified as soon as the second came.
        let (manifest, trusted_comment) =
            self.verified.ok_or_else(|| UpdateError::MissingEntry {
                name: MANIFEST_NAME.into(),
            })?;
        let Some(staged) = self.staged else {
            return Err(UpdateError::MissingEntry {
                name: format!("package {}", manifest.payload.name),
            });
        };
        if staged.name != manifest.payload.name {
            let named = format!("update.json names the package {}", manifest.payload.name);
            return Err(unexpected(&staged.name, &named));
        }
        let mismatch = |reason: String| UpdateError::PayloadMismatch {
            name: manifest.payload.name.clone(),
            reason,
        };
        if staged.size != manifest.payload.size {
            return Err(mismatch(format!(
                "{} bytes, update.json says {}",
                staged.size, manifest.payload.size
            )));
        }
        if staged.sha256 != manifest.payload.sha256 {
            return Err(mismatch(format!(
                "SHA-256 {}, update.json says {}",
                staged.sha256, manifest.payload.sha256
            )));
        }
        Ok(VerifiedUpdate {
            manifest,
            payload: staged.path,
            trusted_comment,
            key_id: self.key.key_id().to_owned(),
        })
    }
}
