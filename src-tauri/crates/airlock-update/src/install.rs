//! Installing a verified update: the staged package checked once more, then handed to the
//! platform's installer.

use std::io::Read;
use std::path::Path;

use semver::Version;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Target, UpdateError, VerifiedUpdate};

mod deb;

/// What an installation did.
#[derive(Clone, Debug, Serialize)]
pub struct InstallOutcome {
    /// The version now installed.
    pub version: Version,
    /// The command that installed it, as run.
    pub command: String,
    /// Its output (stdout, then stderr), trimmed.
    pub output: String,
}

impl VerifiedUpdate {
    /// Installs the staged package: checks that it is still the verified file, then, for
    /// `linux-deb-amd64`, that its control fields say package `airlock` at the manifest's
    /// version (`dpkg-deb -f`), and runs `dpkg -i` on it: directly when this process runs as
    /// root, else through `pkexec` (the administrator authenticates).
    ///
    /// # Errors
    /// [`UpdateError::StagedPayloadChanged`], [`UpdateError::PackageMismatch`],
    /// [`UpdateError::ToolMissing`], [`UpdateError::NotAuthorized`],
    /// [`UpdateError::InstallFailed`], each saying what to do.
    pub fn install(&self) -> Result<InstallOutcome, UpdateError> {
        self.check_staged_unchanged()?;
        let manifest = self.manifest();
        let outcome = match manifest.target {
            Target::LinuxDebAmd64 => deb::install(self.payload_path(), &manifest.version)?,
        };
        tracing::info!(
            version = %outcome.version,
            command = outcome.command,
            "update installed"
        );
        Ok(outcome)
    }

    /// Hashes the staged file again: it sits in a directory its owner can write to, between
    /// verification and the installer opening it.
    fn check_staged_unchanged(&self) -> Result<(), UpdateError> {
        let path = self.payload_path();
        let changed = |reason: String| UpdateError::StagedPayloadChanged {
            path: path.to_owned(),
            reason,
        };
        let (size, sha256) = hash_file(path).map_err(|err| changed(err.to_string()))?;
        let expected = &self.manifest().payload;
        if size != expected.size || sha256 != expected.sha256 {
            return Err(changed(format!(
                "now {size} bytes with SHA-256 {sha256}, verified as {} bytes with {}",
                expected.size, expected.sha256
            )));
        }
        Ok(())
    }
}

fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok((size, hex::encode(hasher.finalize())));
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
}

/// A command's combined output, trimmed and bounded for a message.
fn output_text(output: &std::process::Output) -> String {
    const MAX: usize = 4000;
    let mut text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !stderr.trim().is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(stderr.trim());
    }
    if text.len() > MAX {
        let mut start = text.len() - MAX;
        while !text.is_char_boundary(start) {
            start += 1;
        }
        text = format!("…{}", &text[start..]);
    }
    text
}
