//! The minisign signature over update.json's exact bytes.

use minisign_verify::Signature;

use crate::key::key_id_of;
use crate::{TrustedKey, UpdateError};

/// Checks the minisign signature over the manifest's exact bytes; returns its trusted comment.
pub(super) fn verify_signature(
    key: &TrustedKey,
    manifest: &[u8],
    signature: &[u8],
) -> Result<String, UpdateError> {
    let bad = |reason: String| UpdateError::BadSignature { reason };
    let text = std::str::from_utf8(signature)
        .map_err(|_| bad("update.json.minisig is not text".into()))?;
    let parsed = Signature::decode(text).map_err(|err| {
        bad(format!(
            "update.json.minisig is not a minisign signature: {err}"
        ))
    })?;
    if let Some(signer) = text.lines().nth(1).and_then(key_id_of) {
        if signer != key.key_id() {
            return Err(bad(format!(
                "it was signed by key {signer}, and this Airlock trusts key {}",
                key.key_id()
            )));
        }
    }
    key.public_key()
        .verify(manifest, &parsed, false)
        .map_err(|err| match err {
            minisign_verify::Error::UnexpectedAlgorithm => bad(
                "a legacy minisign signature; sign with minisign 0.8 or later, as \
                 installers/make-update does"
                    .into(),
            ),
            minisign_verify::Error::InvalidSignature => {
                bad("the signature does not match update.json's bytes".into())
            }
            other => bad(other.to_string()),
        })?;
    Ok(parsed.trusted_comment().to_owned())
}
