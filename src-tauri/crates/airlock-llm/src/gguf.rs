//! A cheap check that a file is a GGUF model before llama.cpp sees it.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::LlmError;

const MAGIC: &[u8; 4] = b"GGUF";

/// Checks that `path` exists and starts with the GGUF magic and a known version.
///
/// # Errors
/// [`LlmError::ModelNotFound`] or [`LlmError::NotGguf`].
pub(crate) fn check_header(path: &Path) -> Result<(), LlmError> {
    let mut file = File::open(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => LlmError::ModelNotFound {
            path: path.to_owned(),
        },
        _ => LlmError::NotGguf {
            path: path.to_owned(),
            reason: format!("cannot open it: {err}"),
        },
    })?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(LlmError::NotGguf {
            path: path.to_owned(),
            reason: "it is a directory".into(),
        });
    }
    let mut header = [0u8; 8];
    let read = read_up_to(&mut file, &mut header).map_err(|err| LlmError::NotGguf {
        path: path.to_owned(),
        reason: format!("cannot read it: {err}"),
    })?;
    if read < 8 || &header[..4] != MAGIC {
        return Err(LlmError::NotGguf {
            path: path.to_owned(),
            reason: "it does not start with the GGUF magic bytes".into(),
        });
    }
    let version = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if !(1..=3).contains(&version) {
        return Err(LlmError::NotGguf {
            path: path.to_owned(),
            reason: format!("unknown GGUF version {version}"),
        });
    }
    Ok(())
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_model_not_found() {
        let err = check_header(Path::new("/nonexistent/model.gguf")).unwrap_err();
        assert!(matches!(err, LlmError::ModelNotFound { .. }));
        assert!(err.to_string().contains("make setup"));
    }

    #[test]
    fn random_bytes_are_not_gguf() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fake.gguf");
        std::fs::write(&path, b"PK\x03\x04 this is a zip, not a model").unwrap();
        let err = check_header(&path).unwrap_err();
        assert!(matches!(err, LlmError::NotGguf { .. }), "{err}");
    }

    #[test]
    fn empty_file_is_not_gguf() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.gguf");
        std::fs::write(&path, b"").unwrap();
        assert!(matches!(
            check_header(&path).unwrap_err(),
            LlmError::NotGguf { .. }
        ));
    }

    #[test]
    fn gguf_magic_with_sane_version_passes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("head.gguf");
        std::fs::write(&path, b"GGUF\x03\x00\x00\x00rest").unwrap();
        check_header(&path).unwrap();
    }
}
