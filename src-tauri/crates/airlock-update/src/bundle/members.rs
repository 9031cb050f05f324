//! The members of the archive: names and kinds checked, small files read whole, the package
//! staged while it is hashed.

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tempfile::TempPath;

use crate::manifest::is_plain_name;
use crate::{Target, UpdateError};

/// The package as staged, before it is compared with the manifest.
pub(super) struct Staged {
    pub name: String,
    pub path: TempPath,
    pub size: u64,
    pub sha256: String,
}

pub(super) fn unexpected(name: &str, reason: &str) -> UpdateError {
    UpdateError::UnexpectedEntry {
        name: name.to_owned(),
        reason: reason.to_owned(),
    }
}

/// The entry's name, when it is a regular file with a plain name.
pub(super) fn entry_name<R: Read>(entry: &tar::Entry<'_, R>) -> Result<String, UpdateError> {
    let raw = entry.path_bytes();
    let lossy = String::from_utf8_lossy(&raw).into_owned();
    let kind = entry.header().entry_type();
    if !kind.is_file() {
        let what = if kind.is_symlink() || kind.is_hard_link() {
            "a link"
        } else if kind.is_dir() {
            "a directory"
        } else if kind.is_pax_local_extensions()
            || kind.is_pax_global_extensions()
            || kind.is_gnu_longname()
            || kind.is_gnu_longlink()
        {
            "an extended header (the bundle must be a plain ustar archive)"
        } else {
            "not a regular file"
        };
        return Err(unexpected(&lossy, what));
    }
    let Ok(name) = std::str::from_utf8(&raw) else {
        return Err(unexpected(&lossy, "the name is not UTF-8"));
    };
    if name.starts_with('/') {
        return Err(unexpected(&lossy, "an absolute path"));
    }
    if name.split('/').any(|part| part == "..") {
        return Err(unexpected(&lossy, "a path that climbs out with .."));
    }
    if !is_plain_name(name) {
        return Err(unexpected(
            &lossy,
            "a path or unusual name, not a plain file name",
        ));
    }
    Ok(name.to_owned())
}

/// Reads a small entry whole, after checking its declared size against the cap.
pub(super) fn read_small<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    name: &str,
    size: u64,
    limit: u64,
    bundle: &Path,
) -> Result<Vec<u8>, UpdateError> {
    if size > limit {
        return Err(UpdateError::TooLarge {
            name: name.to_owned(),
            size,
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    entry
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| UpdateError::Read {
            path: bundle.to_owned(),
            source,
        })?;
    if bytes.len() as u64 != size {
        return Err(UpdateError::NotABundle {
            path: bundle.to_owned(),
            reason: format!("{name} is cut short: the file is truncated"),
        });
    }
    Ok(bytes)
}

/// Copies the package into a new file of the staging directory, hashing it on the way.
pub(super) fn stage<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    name: String,
    size: u64,
    staging_dir: &Path,
    target: Target,
    bundle: &Path,
) -> Result<Staged, UpdateError> {
    let staging = |source| UpdateError::Staging {
        dir: staging_dir.to_owned(),
        source,
    };
    let file = tempfile::Builder::new()
        .prefix("airlock-update-")
        .suffix(target.payload_extension())
        .tempfile_in(staging_dir)
        .map_err(staging)?;
    // From here on, dropping `path` (any early return) removes the file.
    let (file, path) = file.into_parts();
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut copied = 0u64;
    loop {
        let n = entry.read(&mut buf).map_err(|source| UpdateError::Read {
            path: bundle.to_owned(),
            source,
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(staging)?;
        copied += n as u64;
    }
    let file = out.into_inner().map_err(|err| staging(err.into_error()))?;
    file.sync_all().map_err(staging)?;
    drop(file);
    if copied != size {
        return Err(UpdateError::NotABundle {
            path: bundle.to_owned(),
            reason: format!("{name} is cut short: the file is truncated"),
        });
    }
    Ok(Staged {
        name,
        path,
        size: copied,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Creates the staging directory (private) if needed and returns its absolute path, so the
/// staged package's path means the same to the installer whatever its working directory.
pub(super) fn prepare_staging(dir: &Path) -> Result<PathBuf, UpdateError> {
    let staging = |source| UpdateError::Staging {
        dir: dir.to_owned(),
        source,
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(staging)?;
    dir.canonicalize().map_err(staging)
}
