//! The public key updates must be signed with: minisign's (and Tauri's) format.

use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use minisign_verify::PublicKey;

use crate::UpdateError;

/// A public key file is two short lines; anything bigger is not one.
const MAX_KEY_FILE_BYTES: u64 = 4096;
const COMMENT_PREFIX: &str = "untrusted comment:";

/// The minisign public key an update's `update.json` must be signed with: the release key,
/// installed with Airlock (`/usr/lib/Airlock/update/airlock-signing.pub`), never a key that
/// came with the bundle.
#[derive(Clone, Debug)]
pub struct TrustedKey {
    key: PublicKey,
    key_id: String,
}

/// The variable naming the directory of the update key, overriding the installed one.
pub const KEY_DIR_VAR: &str = "AIRLOCK_UPDATE_KEY_DIR";
/// The update key's file name in its resource directory (`update/`).
pub const KEY_FILE: &str = "airlock-signing.pub";

impl TrustedKey {
    /// The key installed with Airlock: `$AIRLOCK_UPDATE_KEY_DIR/airlock-signing.pub`, else
    /// `update/airlock-signing.pub` in the installed resources (`/usr/lib/Airlock`); never a
    /// key that came with a bundle.
    ///
    /// # Errors
    /// [`UpdateError::NoKey`] when there is none, [`UpdateError::Key`] when it is unreadable.
    pub fn installed() -> Result<Self, UpdateError> {
        let path =
            airlock_core::resources::locate_dir(KEY_DIR_VAR, "update", KEY_FILE).join(KEY_FILE);
        if !path.is_file() {
            return Err(UpdateError::NoKey { path });
        }
        Self::from_file(&path)
    }

    /// Reads a key file: minisign's two-line `.pub`, its one-line base64 form (Tauri's
    /// `pubkey`, `airlock-signing.pub.b64`), or the bare `RW…` key.
    ///
    /// # Errors
    /// [`UpdateError::Key`] when the file cannot be read or holds no minisign public key.
    pub fn from_file(path: &Path) -> Result<Self, UpdateError> {
        let key_error = |reason: String| UpdateError::Key {
            path: path.to_owned(),
            reason,
        };
        let file = std::fs::File::open(path).map_err(|err| key_error(err.to_string()))?;
        let mut text = String::new();
        file.take(MAX_KEY_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|err| key_error(err.to_string()))?;
        if text.len() as u64 > MAX_KEY_FILE_BYTES {
            return Err(key_error(format!("more than {MAX_KEY_FILE_BYTES} bytes")));
        }
        Self::parse(&text).map_err(key_error)
    }

    /// Parses a key given as text, in any of the forms [`TrustedKey::from_file`] reads.
    ///
    /// # Errors
    /// [`UpdateError::Key`] when the text holds no minisign public key.
    pub fn from_minisign_text(text: &str) -> Result<Self, UpdateError> {
        Self::parse(text).map_err(|reason| UpdateError::Key {
            path: PathBuf::from("<text>"),
            reason,
        })
    }

    /// The key id, as minisign prints it (16 upper-case hex digits).
    #[must_use]
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub(crate) fn public_key(&self) -> &PublicKey {
        &self.key
    }

    fn parse(text: &str) -> Result<Self, String> {
        let trimmed = text.trim();
        if trimmed.starts_with(COMMENT_PREFIX) {
            let mut lines = trimmed.lines();
            let _comment = lines.next();
            let key_line = lines
                .next()
                .ok_or("the key line after the comment is missing")?;
            if lines.any(|line| !line.trim().is_empty()) {
                return Err("more than two lines".into());
            }
            return Self::from_key_line(key_line.trim());
        }
        if trimmed.starts_with("RW") && !trimmed.contains(char::is_whitespace) {
            return Self::from_key_line(trimmed);
        }
        // Tauri's form: base64 of the whole .pub file.
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(trimmed)
            .map_err(|_| "neither a .pub file, its base64 form, nor an RW… key".to_owned())?;
        let inner = String::from_utf8(decoded)
            .map_err(|_| "its base64 form does not decode to text".to_owned())?;
        if !inner.trim_start().starts_with(COMMENT_PREFIX) {
            return Err("its base64 form does not decode to a minisign .pub file".into());
        }
        Self::parse(&inner)
    }

    fn from_key_line(line: &str) -> Result<Self, String> {
        let key = PublicKey::from_base64(line)
            .map_err(|err| format!("the key line is not a minisign public key: {err}"))?;
        let key_id = key_id_of(line).ok_or("the key line is not base64")?;
        Ok(Self { key, key_id })
    }
}

/// The key id inside a base64 key or signature line (algorithm: 2 bytes, then the id, 8
/// bytes little-endian), in minisign's notation.
pub(crate) fn key_id_of(base64_line: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(base64_line.trim())
        .ok()?;
    let id: [u8; 8] = bytes.get(2..10)?.try_into().ok()?;
    Some(format!("{:016X}", u64::from_le_bytes(id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    // A key made with `minisign -G -W`.
    const PUB: &str = "untrusted comment: minisign public key 1DBCD050273F9DD8\n\
                       RWTYnT8nUNC8HV3mWhI27ob0Zcv+Cr1sSu5tg1Ybyf5d9rwtMUFJHkcb\n";

    #[test]
    fn every_key_form_gives_the_same_key_and_id() {
        let two_lines = TrustedKey::from_minisign_text(PUB).unwrap();
        assert_eq!(two_lines.key_id(), "1DBCD050273F9DD8");
        let b64 = base64::engine::general_purpose::STANDARD.encode(PUB);
        let one_line = TrustedKey::from_minisign_text(&b64).unwrap();
        let bare = TrustedKey::from_minisign_text(PUB.lines().nth(1).unwrap()).unwrap();
        for key in [&one_line, &bare] {
            assert_eq!(key.public_key(), two_lines.public_key());
            assert_eq!(key.key_id(), "1DBCD050273F9DD8");
        }
    }

    #[test]
    fn a_file_is_read_and_junk_is_refused_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("airlock-signing.pub");
        std::fs::write(&path, PUB).unwrap();
        assert_eq!(
            TrustedKey::from_file(&path).unwrap().key_id(),
            "1DBCD050273F9DD8"
        );
        std::fs::write(&path, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n").unwrap();
        let err = TrustedKey::from_file(&path).unwrap_err().to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        let err = TrustedKey::from_file(&dir.path().join("missing.pub")).unwrap_err();
        assert!(matches!(err, UpdateError::Key { .. }), "{err}");
        // A truncated key line.
        let truncated = &PUB[..PUB.len() - 10];
        assert!(TrustedKey::from_minisign_text(truncated).is_err());
    }
}
