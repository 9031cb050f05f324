//! Intent tokens: the governor's signed, single-use permission to run one tool call.
//!
//! When the governor allows a call it issues an [`IntentToken`] with a [`TokenIssuer`]; the
//! executor checks it with a [`TokenVerifier`] right before it invokes the tool and refuses
//! the call on any [`TokenError`]. A token binds
//!
//! * the tool name, the principal the call runs for, and the governor's decision id;
//! * the arguments, by [`args_digest`] (SHA-256 of their RFC 8785 canonical JSON, so key
//!   order does not matter but every other difference does);
//! * a validity window `[issued_at, expires_at)` in unix seconds;
//! * a 128-bit random nonce, which the verifier accepts once only;
//! * the id of the signing key, and an Ed25519 signature over all of the above.
//!
//! # Signature
//! The signed message is the domain separator [`SIGNING_DOMAIN`] followed by the canonical
//! JSON ([`canonical_json`]) of the token's fields **other than** `signature`, with the binary
//! fields as lowercase hex strings, for example:
//!
//! ```text
//! airlock-intent-token-v1\0{"args_sha256":"…64 hex…","decision_id":"d-1","expires_at":1700000060,
//! "issued_at":1700000000,"key_id":"…16 hex…","nonce":"…32 hex…","principal":"operator",
//! "tool":"read_log","version":1}
//! ```
//!
//! Canonical JSON escapes every control character, so the NUL byte ends the separator
//! unambiguously. Verification uses `verify_strict` (no small-order keys, no malleable
//! signatures).
//!
//! # Compact form
//! [`IntentToken::to_compact`] gives `base64url(payload) "." base64url(signature)` without
//! padding, where `payload` is exactly the canonical JSON above (minus the separator) and
//! `signature` the 64 raw signature bytes: one ASCII line, safe in IPC messages, URLs and
//! logs. [`IntentToken::from_compact`] accepts only that exact encoding (canonical payload,
//! canonical base64, no unknown fields), so one token has exactly one compact string.
//!
//! # Time
//! Every function that depends on the clock takes `now`, so tests are deterministic; callers
//! pass [`SystemTime::now()`]. The nonce registry forgets a nonce once its token has expired
//! (an expired token fails before the nonce is looked at), so memory stays bounded by the
//! tokens issued within one TTL. A system clock set back by more than a token's lifetime
//! after that token was used would let it be replayed within its window once more.

use crate::canonical::{args_digest, canonical_json};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use zeroize::Zeroizing;

/// The token format version this crate issues and accepts.
pub const TOKEN_VERSION: u32 = 1;

/// Domain separator prefixed to the canonical payload before signing, so that a signature
/// made for an intent token can never be valid for any other message the same key signs.
pub const SIGNING_DOMAIN: &[u8] = b"airlock-intent-token-v1\0";

/// How far `issued_at` may lie in the verifier's future before a token is refused as
/// [`TokenError::NotYetValid`] (issuer and verifier normally share one clock).
pub const DEFAULT_CLOCK_LEEWAY: Duration = Duration::from_secs(5);

/// A signed permission to run one tool call once. Serializes as a JSON object whose binary
/// fields are lowercase hex; see the [module docs](self) for what is signed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentToken {
    /// Format version, [`TOKEN_VERSION`].
    pub version: u32,
    /// The tool the governor allowed.
    pub tool: String,
    /// SHA-256 of the canonical JSON of the allowed arguments ([`args_digest`]).
    #[serde(with = "hex_bytes")]
    pub args_sha256: [u8; 32],
    /// Who the call runs for.
    pub principal: String,
    /// The governor decision this token carries out (for the audit log).
    pub decision_id: String,
    /// When the token was issued, unix seconds.
    pub issued_at: u64,
    /// First second at which the token is no longer valid, unix seconds.
    pub expires_at: u64,
    /// 128 random bits; the verifier accepts each nonce once.
    #[serde(with = "hex_bytes")]
    pub nonce: [u8; 16],
    /// First 8 bytes of SHA-256 of the signer's public key ([`key_id`]).
    #[serde(with = "hex_bytes")]
    pub key_id: [u8; 8],
    /// Ed25519 signature over [`SIGNING_DOMAIN`] and the canonical payload.
    #[serde(with = "hex_bytes")]
    pub signature: [u8; 64],
}

impl fmt::Debug for IntentToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntentToken")
            .field("version", &self.version)
            .field("tool", &self.tool)
            .field("args_sha256", &hex::encode(self.args_sha256))
            .field("principal", &self.principal)
            .field("decision_id", &self.decision_id)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .field("nonce", &hex::encode(self.nonce))
            .field("key_id", &hex::encode(self.key_id))
            .field("signature", &hex::encode(self.signature))
            .finish()
    }
}

impl IntentToken {
    /// The signed fields (all but `signature`) as a JSON object.
    fn payload(&self) -> Value {
        serde_json::json!({
            "version": self.version,
            "tool": self.tool,
            "args_sha256": hex::encode(self.args_sha256),
            "principal": self.principal,
            "decision_id": self.decision_id,
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
            "nonce": hex::encode(self.nonce),
            "key_id": hex::encode(self.key_id),
        })
    }

    /// The exact bytes the signature covers: [`SIGNING_DOMAIN`] then the canonical payload.
    #[must_use]
    pub fn signing_input(&self) -> Vec<u8> {
        let payload = canonical_json(&self.payload());
        let mut input = Vec::with_capacity(SIGNING_DOMAIN.len() + payload.len());
        input.extend_from_slice(SIGNING_DOMAIN);
        input.extend_from_slice(payload.as_bytes());
        input
    }

    /// The compact string form, `base64url(canonical payload) "." base64url(signature)`.
    #[must_use]
    pub fn to_compact(&self) -> String {
        let payload = canonical_json(&self.payload());
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload.as_bytes()),
            URL_SAFE_NO_PAD.encode(self.signature)
        )
    }

    /// Parses the compact string form. Checks the encoding only; [`TokenVerifier`] checks the
    /// signature and everything else.
    ///
    /// # Errors
    /// [`TokenError::Malformed`] unless `compact` is exactly what [`Self::to_compact`] produces
    /// for some token.
    pub fn from_compact(compact: &str) -> Result<Self, TokenError> {
        let (payload_b64, signature_b64) = compact
            .split_once('.')
            .ok_or_else(|| malformed("it has no '.' between payload and signature"))?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload_b64)
            .map_err(|e| malformed(format!("the payload is not base64url: {e}")))?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature_b64)
            .map_err(|e| malformed(format!("the signature is not base64url: {e}")))?;
        let signature: [u8; 64] = signature.try_into().map_err(|bytes: Vec<u8>| {
            malformed(format!(
                "the signature has {} bytes, an Ed25519 signature has 64",
                bytes.len()
            ))
        })?;
        let mut object: Map<String, Value> = serde_json::from_slice(&payload)
            .map_err(|e| malformed(format!("the payload is not a JSON object: {e}")))?;
        if object.contains_key("signature") {
            return Err(malformed("the payload contains a signature field"));
        }
        object.insert("signature".into(), Value::String(hex::encode(signature)));
        let token: IntentToken = serde_json::from_value(Value::Object(object))
            .map_err(|e| malformed(format!("the payload fields are invalid: {e}")))?;
        if canonical_json(&token.payload()).as_bytes() != payload.as_slice() {
            return Err(malformed("the payload is not in canonical form"));
        }
        Ok(token)
    }
}

/// The key id of `key`: the first 8 bytes of SHA-256 of its 32-byte public key.
#[must_use]
pub fn key_id(key: &VerifyingKey) -> [u8; 8] {
    let digest = Sha256::digest(key.as_bytes());
    let mut id = [0u8; 8];
    id.copy_from_slice(&digest[..8]);
    id
}

/// A new Ed25519 signing key from the operating system's random number generator.
///
/// # Panics
/// If the OS random number generator fails (on Linux: `getrandom(2)` unavailable and
/// `/dev/urandom` unreadable), as the standard library's own seeding does; no key could be
/// made safely then.
#[must_use]
pub fn generate_signing_key() -> SigningKey {
    let mut secret = Zeroizing::new([0u8; 32]);
    os_random(secret.as_mut_slice());
    SigningKey::from_bytes(&secret)
}

fn os_random(buf: &mut [u8]) {
    if let Err(error) = getrandom::fill(buf) {
        panic!("the operating system's random number generator failed: {error}");
    }
}

fn unix_seconds(time: SystemTime) -> u64 {
    // Before 1970 only on a badly broken clock; such a token is simply expired.
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// Issues intent tokens with one signing key and one time-to-live.
pub struct TokenIssuer {
    key: SigningKey,
    key_id: [u8; 8],
    ttl_secs: u64,
}

impl fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("key_id", &hex::encode(self.key_id))
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// An issuer signing with `key`; its tokens are valid for `ttl` (whole seconds, at least
    /// one) from the moment they are issued.
    #[must_use]
    pub fn new(key: SigningKey, ttl: Duration) -> Self {
        let key_id = key_id(&key.verifying_key());
        Self {
            key,
            key_id,
            ttl_secs: ttl.as_secs().max(1),
        }
    }

    /// The public key a [`TokenVerifier`] must trust to accept this issuer's tokens.
    #[must_use]
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The id of this issuer's key, as it appears in its tokens.
    #[must_use]
    pub fn key_id(&self) -> [u8; 8] {
        self.key_id
    }

    /// A token allowing `tool` to run once with exactly `args` for `principal`, recording the
    /// governor's `decision_id`, valid from `now` for the issuer's TTL.
    ///
    /// # Panics
    /// If the OS random number generator fails (see [`generate_signing_key`]).
    #[must_use]
    pub fn issue(
        &self,
        tool: &str,
        args: &Map<String, Value>,
        principal: &str,
        decision_id: &str,
        now: SystemTime,
    ) -> IntentToken {
        let mut nonce = [0u8; 16];
        os_random(&mut nonce);
        let issued_at = unix_seconds(now);
        let mut token = IntentToken {
            version: TOKEN_VERSION,
            tool: tool.to_owned(),
            args_sha256: args_digest(args),
            principal: principal.to_owned(),
            decision_id: decision_id.to_owned(),
            issued_at,
            expires_at: issued_at.saturating_add(self.ttl_secs),
            nonce,
            key_id: self.key_id,
            signature: [0u8; 64],
        };
        token.signature = self.key.sign(&token.signing_input()).to_bytes();
        token
    }
}

/// What a successfully verified token allowed: the proof an executor needs to run a call.
///
/// Only [`TokenVerifier::verify`] makes one (the fields are private, it cannot be
/// deserialised), and it is neither `Clone` nor `Copy`: a runner that takes it by value runs
/// the call it covers once. The executor records it (it serialises) with the call.
#[derive(Debug, PartialEq, Eq, Serialize)]
pub struct VerifiedIntent {
    decision_id: String,
    tool: String,
    principal: String,
    #[serde(with = "hex_bytes")]
    args_sha256: [u8; 32],
    #[serde(with = "hex_bytes")]
    nonce: [u8; 16],
    #[serde(with = "hex_bytes")]
    key_id: [u8; 8],
    issued_at: u64,
    expires_at: u64,
}

impl VerifiedIntent {
    /// The governor decision the token carried out.
    #[must_use]
    pub fn decision_id(&self) -> &str {
        &self.decision_id
    }

    /// The tool that may now run.
    #[must_use]
    pub fn tool(&self) -> &str {
        &self.tool
    }

    /// Who it runs for.
    #[must_use]
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The token's nonce, now spent.
    #[must_use]
    pub fn nonce(&self) -> [u8; 16] {
        self.nonce
    }

    /// The id of the key that signed the token.
    #[must_use]
    pub fn key_id(&self) -> [u8; 8] {
        self.key_id
    }

    /// When the token was issued, unix seconds.
    #[must_use]
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }

    /// When it expires, unix seconds.
    #[must_use]
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// Whether this is the grant for exactly `tool` with exactly `args`: a runner checks it
    /// before running, so a grant for one call cannot run another.
    #[must_use]
    pub fn covers(&self, tool: &str, args: &Map<String, Value>) -> bool {
        self.tool == tool && self.args_sha256 == args_digest(args)
    }
}

/// Verifies intent tokens against one trusted public key and spends each nonce once.
///
/// Thread-safe: share one verifier (e.g. in an `Arc`) among all executor threads, so a token
/// can be used once per verifier.
pub struct TokenVerifier {
    trusted: VerifyingKey,
    trusted_id: [u8; 8],
    leeway_secs: u64,
    /// Spent nonces, each with its token's `expires_at`.
    spent: Mutex<HashMap<[u8; 16], u64>>,
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("trusted_key_id", &hex::encode(self.trusted_id))
            .field("leeway_secs", &self.leeway_secs)
            .field("spent_nonces", &self.spent_nonces())
            .finish()
    }
}

impl TokenVerifier {
    /// A verifier accepting tokens signed by `trusted`, with [`DEFAULT_CLOCK_LEEWAY`] and an
    /// empty nonce registry.
    #[must_use]
    pub fn new(trusted: VerifyingKey) -> Self {
        Self {
            trusted_id: key_id(&trusted),
            trusted,
            leeway_secs: DEFAULT_CLOCK_LEEWAY.as_secs(),
            spent: Mutex::new(HashMap::new()),
        }
    }

    /// The same verifier with `leeway` (whole seconds) for tokens issued in its future.
    #[must_use]
    pub fn with_clock_leeway(mut self, leeway: Duration) -> Self {
        self.leeway_secs = leeway.as_secs();
        self
    }

    /// How many spent nonces the registry still remembers (those of unexpired tokens, plus
    /// expired ones not yet pruned by a later [`Self::verify`]).
    #[must_use]
    pub fn spent_nonces(&self) -> usize {
        self.spent.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Checks that `token` allows running `tool` with exactly `args` for `principal` at `now`,
    /// and spends its nonce.
    ///
    /// Checks, in order: present, well-formed, signed by the trusted key, signature valid,
    /// issued no later than `now` plus the leeway, not expired (`now < expires_at`), tool,
    /// principal and arguments equal to those approved, nonce not spent. The nonce is spent
    /// only when every other check passed, so a refused call does not burn its token.
    ///
    /// # Errors
    /// The first failed check as a [`TokenError`].
    pub fn verify(
        &self,
        token: Option<&IntentToken>,
        tool: &str,
        args: &Map<String, Value>,
        principal: &str,
        now: SystemTime,
    ) -> Result<VerifiedIntent, TokenError> {
        let token = token.ok_or(TokenError::Missing)?;
        if token.version != TOKEN_VERSION {
            return Err(malformed(format!(
                "version {} is not supported (this build accepts version {TOKEN_VERSION})",
                token.version
            )));
        }
        if token.key_id != self.trusted_id {
            return Err(TokenError::WrongKey {
                key_id: hex::encode(token.key_id),
                trusted_key_id: hex::encode(self.trusted_id),
            });
        }
        let signature = Signature::from_bytes(&token.signature);
        self.trusted
            .verify_strict(&token.signing_input(), &signature)
            .map_err(|_| TokenError::BadSignature)?;

        let now = unix_seconds(now);
        if token.issued_at > now.saturating_add(self.leeway_secs) {
            return Err(TokenError::NotYetValid {
                issued_at: token.issued_at,
                now,
                leeway_secs: self.leeway_secs,
            });
        }
        if now >= token.expires_at {
            return Err(TokenError::Expired {
                expired_at: token.expires_at,
                now,
            });
        }
        if token.tool != tool {
            return Err(TokenError::ToolMismatch {
                approved: token.tool.clone(),
                requested: tool.to_owned(),
            });
        }
        if token.principal != principal {
            return Err(TokenError::PrincipalMismatch {
                approved: token.principal.clone(),
                requested: principal.to_owned(),
            });
        }
        let requested = args_digest(args);
        if token.args_sha256 != requested {
            return Err(TokenError::ArgsMismatch {
                approved_sha256: hex::encode(token.args_sha256),
                requested_sha256: hex::encode(requested),
            });
        }

        {
            // The map is consistent after any panic (one insert or retain), so a poisoned
            // lock is safe to keep using.
            let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
            spent.retain(|_, expires_at| *expires_at > now);
            if spent.contains_key(&token.nonce) {
                return Err(TokenError::Replayed {
                    decision_id: token.decision_id.clone(),
                });
            }
            spent.insert(token.nonce, token.expires_at);
        }

        Ok(VerifiedIntent {
            decision_id: token.decision_id.clone(),
            tool: token.tool.clone(),
            principal: token.principal.clone(),
            args_sha256: token.args_sha256,
            nonce: token.nonce,
            key_id: token.key_id,
            issued_at: token.issued_at,
            expires_at: token.expires_at,
        })
    }

    /// [`Self::verify`] for a token in compact form ([`IntentToken::to_compact`]).
    ///
    /// # Errors
    /// [`TokenError::Missing`] for `None`, [`TokenError::Malformed`] when the string does not
    /// parse, otherwise as [`Self::verify`].
    pub fn verify_compact(
        &self,
        token: Option<&str>,
        tool: &str,
        args: &Map<String, Value>,
        principal: &str,
        now: SystemTime,
    ) -> Result<VerifiedIntent, TokenError> {
        let token = IntentToken::from_compact(token.ok_or(TokenError::Missing)?)?;
        self.verify(Some(&token), tool, args, principal, now)
    }
}

/// Why the executor refused a tool call's intent token. Each message says what happened and
/// what to do; they reach the audit log and the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TokenError {
    /// The call came without a token.
    #[error(
        "the tool call has no intent token: only calls the governor allowed may run; send the \
         call through the governor"
    )]
    Missing,
    /// The token could not be parsed or has an unsupported format.
    #[error(
        "the intent token is malformed ({reason}); it was damaged in transit or not made by \
         Airlock's governor: have the governor decide the call again"
    )]
    Malformed {
        /// What is wrong with it.
        reason: String,
    },
    /// The token names a signing key other than the trusted one.
    #[error(
        "the intent token was signed by key {key_id}, but this executor trusts only key \
         {trusted_key_id}: it comes from another installation or a replaced key; have this \
         governor decide the call again"
    )]
    WrongKey {
        /// The key id in the token (hex).
        key_id: String,
        /// The trusted key's id (hex).
        trusted_key_id: String,
    },
    /// The signature does not match the token's contents.
    #[error(
        "the intent token's signature does not match its contents: the token was altered \
         after it was issued; discard it and have the governor decide the call again"
    )]
    BadSignature,
    /// The token's validity window has passed.
    #[error(
        "the intent token expired at {expired_at} (unix seconds; now is {now}): approvals are \
         short-lived; have the governor decide the call again"
    )]
    Expired {
        /// The token's `expires_at`, unix seconds.
        expired_at: u64,
        /// The verifier's clock, unix seconds.
        now: u64,
    },
    /// The token was issued in the verifier's future, beyond the clock leeway.
    #[error(
        "the intent token was issued at {issued_at} (unix seconds), after this machine's \
         clock ({now}) even with {leeway_secs} s of leeway: check that the system clock is \
         right, then have the governor decide the call again"
    )]
    NotYetValid {
        /// The token's `issued_at`, unix seconds.
        issued_at: u64,
        /// The verifier's clock, unix seconds.
        now: u64,
        /// The leeway allowed, seconds.
        leeway_secs: u64,
    },
    /// The token's nonce was already spent.
    #[error(
        "the intent token of decision {decision_id} was already used: each approval runs a \
         call once; have the governor decide the call again to run it again"
    )]
    Replayed {
        /// The decision the token carried out.
        decision_id: String,
    },
    /// The token allows another tool.
    #[error(
        "the intent token allows tool `{approved}`, not `{requested}`: run the tool that was \
         approved, or have the governor decide this call"
    )]
    ToolMismatch {
        /// The tool in the token.
        approved: String,
        /// The tool the executor was asked to run.
        requested: String,
    },
    /// The token allows the call for another principal.
    #[error(
        "the intent token allows the call for `{approved}`, not for `{requested}`: have the \
         governor decide the call for `{requested}`"
    )]
    PrincipalMismatch {
        /// The principal in the token.
        approved: String,
        /// The principal the executor was asked to run for.
        requested: String,
    },
    /// The arguments differ from the approved ones.
    #[error(
        "the tool call's arguments differ from the ones the governor approved (approved digest \
         {approved_sha256}, this call {requested_sha256}): they changed after approval; run \
         the call as approved or have the governor decide the changed call"
    )]
    ArgsMismatch {
        /// SHA-256 of the approved arguments' canonical JSON (hex).
        approved_sha256: String,
        /// SHA-256 of this call's arguments' canonical JSON (hex).
        requested_sha256: String,
    },
}

fn malformed(reason: impl Into<String>) -> TokenError {
    TokenError::Malformed {
        reason: reason.into(),
    }
}

/// Serde for fixed-size byte arrays as lowercase hex strings (accepting either case).
mod hex_bytes {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer, const N: usize>(
        bytes: &[u8; N],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        deserializer: D,
    ) -> Result<[u8; N], D::Error> {
        let text = String::deserialize(deserializer)?;
        let mut bytes = [0u8; N];
        hex::decode_to_slice(&text, &mut bytes)
            .map_err(|e| D::Error::custom(format!("expected {} hex digits: {e}", 2 * N)))?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T0: u64 = 1_700_000_000;
    const TTL: Duration = Duration::from_secs(60);

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn args(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("test arguments must be an object, got {other}"),
        }
    }

    fn fixed_key(byte: u8) -> SigningKey {
        SigningKey::from_bytes(&[byte; 32])
    }

    fn pair() -> (TokenIssuer, TokenVerifier) {
        let issuer = TokenIssuer::new(fixed_key(7), TTL);
        let verifier = TokenVerifier::new(issuer.verifying_key());
        (issuer, verifier)
    }

    fn log_args() -> Map<String, Value> {
        args(json!({"path": "/sim/logs/a", "lines": 50}))
    }

    fn issue_log(issuer: &TokenIssuer) -> IntentToken {
        issuer.issue("read_log", &log_args(), "operator", "decision-1", at(T0))
    }

    #[test]
    fn a_fresh_token_verifies_for_its_call() {
        let (issuer, verifier) = pair();
        let token = issue_log(&issuer);
        let verified = verifier
            .verify(
                Some(&token),
                "read_log",
                &log_args(),
                "operator",
                at(T0 + 1),
            )
            .expect("valid token");
        assert_eq!(verified.decision_id(), "decision-1");
        assert_eq!(verified.tool(), "read_log");
        assert_eq!(verified.principal(), "operator");
        assert_eq!(verified.issued_at(), T0);
        assert_eq!(verified.expires_at(), T0 + 60);
        assert_eq!(verified.key_id(), issuer.key_id());
        assert!(verified.covers("read_log", &log_args()));
        let mut other = log_args();
        other.insert("tail".into(), json!(10_000));
        assert!(!verified.covers("read_log", &other), "other arguments");
        assert!(!verified.covers("run_command", &log_args()), "another tool");
    }

    #[test]
    fn a_missing_token_is_refused_as_missing() {
        let (_, verifier) = pair();
        let result = verifier.verify(None, "read_log", &log_args(), "operator", at(T0));
        assert_eq!(result, Err(TokenError::Missing));
        let result = verifier.verify_compact(None, "read_log", &log_args(), "operator", at(T0));
        assert_eq!(result, Err(TokenError::Missing));
    }

    #[test]
    fn a_token_verified_twice_is_replayed_the_second_time() {
        let (issuer, verifier) = pair();
        let token = issue_log(&issuer);
        verifier
            .verify(Some(&token), "read_log", &log_args(), "operator", at(T0))
            .expect("first use");
        let second = verifier.verify(Some(&token), "read_log", &log_args(), "operator", at(T0));
        assert_eq!(
            second,
            Err(TokenError::Replayed {
                decision_id: "decision-1".into()
            })
        );
    }

    #[test]
    fn a_refused_call_does_not_spend_the_nonce() {
        let (issuer, verifier) = pair();
        let token = issue_log(&issuer);
        let other = args(json!({"path": "/sim/logs/b", "lines": 50}));
        let refused = verifier.verify(Some(&token), "read_log", &other, "operator", at(T0));
        assert!(matches!(refused, Err(TokenError::ArgsMismatch { .. })));
        let refused = verifier.verify(Some(&token), "read_log", &log_args(), "intruder", at(T0));
        assert!(matches!(refused, Err(TokenError::PrincipalMismatch { .. })));
        assert_eq!(verifier.spent_nonces(), 0);
        verifier
            .verify(Some(&token), "read_log", &log_args(), "operator", at(T0))
            .expect("the approved call still runs");
    }

    #[test]
    fn a_token_from_another_key_is_refused_as_wrong_key() {
        let (_, verifier) = pair();
        let stranger = TokenIssuer::new(fixed_key(9), TTL);
        let token = issue_log(&stranger);
        let result = verifier.verify(Some(&token), "read_log", &log_args(), "operator", at(T0));
        assert_eq!(
            result,
            Err(TokenError::WrongKey {
                key_id: hex::encode(stranger.key_id()),
                trusted_key_id: hex::encode(key_id(&fixed_key(7).verifying_key())),
            })
        );
    }

    #[test]
    fn a_token_signed_by_another_key_under_the_trusted_key_id_has_a_bad_signature() {
        let (issuer, verifier) = pair();
        let mut token = issue_log(&issuer);
        token.signature = fixed_key(9).sign(&token.signing_input()).to_bytes();
        let result = verifier.verify(Some(&token), "read_log", &log_args(), "operator", at(T0));
        assert_eq!(result, Err(TokenError::BadSignature));
    }

    #[test]
    fn an_altered_field_breaks_the_signature() {
        let (issuer, verifier) = pair();
        let original = issue_log(&issuer);
        let alterations: [fn(&mut IntentToken); 7] = [
            |t| t.tool = "write_file".into(),
            |t| t.principal = "admin".into(),
            |t| t.decision_id = "decision-2".into(),
            |t| t.expires_at += 3600,
            |t| t.issued_at -= 1,
            |t| t.nonce[0] ^= 1,
            |t| t.args_sha256 = args_digest(&args(json!({"path": "/etc"}))),
        ];
        for alter in alterations {
            let mut token = original.clone();
            alter(&mut token);
            let result = verifier.verify(
                Some(&token),
                &token.tool.clone(),
                &log_args(),
                &token.principal.clone(),
                at(T0),
            );
            assert_eq!(result, Err(TokenError::BadSignature), "{token:?}");
        }
    }

    #[test]
    fn an_unsupported_version_is_malformed() {
        let (issuer, verifier) = pair();
        let mut token = issue_log(&issuer);
        token.version = 2;
        let result = verifier.verify(Some(&token), "read_log", &log_args(), "operator", at(T0));
        assert!(
            matches!(result, Err(TokenError::Malformed { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn a_token_is_valid_until_just_before_expires_at() {
        let (issuer, verifier) = pair();
        let token = issue_log(&issuer);
        verifier
            .verify(
                Some(&token),
                "read_log",
                &log_args(),
                "operator",
                at(T0 + 59),
            )
            .expect("valid in its last second");
        let token = issue_log(&issuer);
        let result = verifier.verify(
            Some(&token),
            "read_log",
            &log_args(),
            "operator",
            at(T0 + 60),
        );
        assert_eq!(
            result,
            Err(TokenError::Expired {
                expired_at: T0 + 60,
                now: T0 + 60
            })
        );
    }

    #[test]
    fn a_token_from_the_future_beyond_the_leeway_is_not_yet_valid() {
        let (issuer, verifier) = pair();
        let token = issue_log(&issuer);
        verifier
            .verify(
                Some(&token),
                "read_log",
                &log_args(),
                "operator",
                at(T0 - 5),
            )
            .expect("within the default 5 s leeway");
        let token = issue_log(&issuer);
        let result = verifier.verify(
            Some(&token),
            "read_log",
            &log_args(),
            "operator",
            at(T0 - 6),
        );
        assert_eq!(
            result,
            Err(TokenError::NotYetValid {
                issued_at: T0,
                now: T0 - 6,
                leeway_secs: 5
            })
        );
        let strict = TokenVerifier::new(issuer.verifying_key()).with_clock_leeway(Duration::ZERO);
        let result = strict.verify(
            Some(&token),
            "read_log",
            &log_args(),
            "operator",
            at(T0 - 1),
        );
        assert!(matches!(result, Err(TokenError::NotYetValid { .. })));
    }

    #[test]
    fn another_tool_is_a_tool_mismatch() {
        let (issuer, verifier) = pair();
        let token = issue_log(&issuer);
        let result = verifier.verify(Some(&token), "delete_file", &log_args(), "operator", at(T0));
        assert_eq!(
            result,
            Err(TokenError::ToolMismatch {
                approved: "read_log".into(),
                requested: "delete_file".into()
            })
        );
    }

    #[test]
    fn another_principal_is_a_principal_mismatch() {
        let (issuer, verifier) = pair();
        let token = issue_log(&issuer);
        let result = verifier.verify(Some(&token), "read_log", &log_args(), "guest", at(T0));
        assert_eq!(
            result,
            Err(TokenError::PrincipalMismatch {
                approved: "operator".into(),
                requested: "guest".into()
            })
        );
    }

    #[test]
    fn arguments_one_byte_apart_are_an_args_mismatch() {
        let (issuer, verifier) = pair();
        let token = issue_log(&issuer);
        let changed = args(json!({"path": "/sim/logs/b", "lines": 50}));
        let result = verifier.verify(Some(&token), "read_log", &changed, "operator", at(T0));
        assert_eq!(
            result,
            Err(TokenError::ArgsMismatch {
                approved_sha256: hex::encode(args_digest(&log_args())),
                requested_sha256: hex::encode(args_digest(&changed)),
            })
        );
        for changed in [
            json!({"path": "/sim/logs/a", "lines": 51}),
            json!({"path": "/sim/logs/a", "lines": 50, "follow": false}),
            json!({"path": "/sim/logs/a"}),
            json!({"path": "/sim/logs/a", "lines": "50"}),
            json!({"path": "/sim/logs/a ", "lines": 50}),
        ] {
            let result =
                verifier.verify(Some(&token), "read_log", &args(changed), "operator", at(T0));
            assert!(
                matches!(result, Err(TokenError::ArgsMismatch { .. })),
                "{result:?}"
            );
        }
    }

    #[test]
    fn key_order_of_the_arguments_does_not_matter() {
        let (issuer, verifier) = pair();
        let approved = args(json!({"b": {"y": 1, "x": [true, null]}, "a": "s"}));
        let reordered = args(json!({"a": "s", "b": {"x": [true, null], "y": 1}}));
        assert_ne!(
            serde_json::to_string(&approved).ok(),
            serde_json::to_string(&reordered).ok(),
            "preserve_order keeps insertion order, so the texts differ"
        );
        let token = issuer.issue("t", &approved, "p", "d", at(T0));
        verifier
            .verify(Some(&token), "t", &reordered, "p", at(T0))
            .expect("same arguments in another key order");
    }

    #[test]
    fn an_integer_and_the_equal_float_are_the_same_argument() {
        let (issuer, verifier) = pair();
        let token = issuer.issue("t", &args(json!({"n": 1})), "p", "d", at(T0));
        verifier
            .verify(Some(&token), "t", &args(json!({"n": 1.0})), "p", at(T0))
            .expect("RFC 8785: 1 and 1.0 are the same number");
        let token = issuer.issue("t", &args(json!({"n": 1})), "p", "d", at(T0));
        let result = verifier.verify(Some(&token), "t", &args(json!({"n": 1.5})), "p", at(T0));
        assert!(matches!(result, Err(TokenError::ArgsMismatch { .. })));
    }

    #[test]
    fn the_compact_form_round_trips_and_verifies() {
        let (issuer, verifier) = pair();
        let token = issue_log(&issuer);
        let compact = token.to_compact();
        assert!(compact
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'));
        assert_eq!(IntentToken::from_compact(&compact), Ok(token.clone()));
        verifier
            .verify_compact(Some(&compact), "read_log", &log_args(), "operator", at(T0))
            .expect("compact token verifies");
    }

    #[test]
    fn the_compact_payload_is_the_signed_canonical_json() {
        let (issuer, _) = pair();
        let token = issue_log(&issuer);
        let compact = token.to_compact();
        let (payload, _) = compact.split_once('.').expect("two parts");
        let payload = URL_SAFE_NO_PAD.decode(payload).expect("base64url");
        let input = token.signing_input();
        assert_eq!(&input[..SIGNING_DOMAIN.len()], SIGNING_DOMAIN);
        assert_eq!(&input[SIGNING_DOMAIN.len()..], payload.as_slice());
        let text = String::from_utf8(payload).expect("utf-8");
        assert!(text.starts_with(r#"{"args_sha256":""#), "{text}");
        assert!(
            text.ends_with(r#","tool":"read_log","version":1}"#),
            "{text}"
        );
    }

    #[test]
    fn a_tampered_compact_string_is_malformed_or_has_a_bad_signature() {
        let (issuer, verifier) = pair();
        let token = issue_log(&issuer);
        let compact = token.to_compact();
        let (payload_b64, signature_b64) = compact.split_once('.').expect("two parts");

        // A different, validly encoded payload under the original signature.
        let mut altered = token.clone();
        altered.principal = "admin".into();
        let forged_payload = altered.to_compact();
        let (forged_b64, _) = forged_payload.split_once('.').expect("two parts");
        let forged = format!("{forged_b64}.{signature_b64}");
        let result =
            verifier.verify_compact(Some(&forged), "read_log", &log_args(), "admin", at(T0));
        assert_eq!(result, Err(TokenError::BadSignature));

        // Every single-character substitution is refused. One that lands in the key id names
        // another key, which is indistinguishable from a foreign token: WrongKey.
        for index in 0..compact.len() {
            let mut bytes = compact.clone().into_bytes();
            bytes[index] = if bytes[index] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).expect("ascii");
            let result = verifier.verify_compact(
                Some(&tampered),
                "read_log",
                &log_args(),
                "operator",
                at(T0),
            );
            assert!(
                matches!(
                    result,
                    Err(TokenError::Malformed { .. }
                        | TokenError::BadSignature
                        | TokenError::WrongKey { .. })
                ),
                "index {index}: {result:?}"
            );
        }

        for broken in [
            String::new(),
            "no-dot".to_owned(),
            payload_b64.to_owned(),
            format!("{payload_b64}.{signature_b64}.x"),
            format!("{payload_b64}=.{signature_b64}"),
            format!("{payload_b64}.{}", &signature_b64[4..]),
            format!("{}.{signature_b64}", URL_SAFE_NO_PAD.encode(b"[1,2]")),
        ] {
            let result = IntentToken::from_compact(&broken);
            assert!(
                matches!(result, Err(TokenError::Malformed { .. })),
                "{broken}: {result:?}"
            );
        }
    }

    #[test]
    fn a_non_canonical_payload_is_malformed() {
        let (issuer, _) = pair();
        let token = issue_log(&issuer);
        let compact = token.to_compact();
        let (payload_b64, signature_b64) = compact.split_once('.').expect("two parts");
        let payload = URL_SAFE_NO_PAD.decode(payload_b64).expect("base64url");
        let value: Value = serde_json::from_slice(&payload).expect("json");
        let pretty = serde_json::to_vec_pretty(&value).expect("json");
        let respaced = format!("{}.{signature_b64}", URL_SAFE_NO_PAD.encode(pretty));
        assert!(matches!(
            IntentToken::from_compact(&respaced),
            Err(TokenError::Malformed { .. })
        ));
        let mut extra = value.as_object().cloned().expect("object");
        extra.insert("admin".into(), json!(true));
        let extra = canonical_json(&Value::Object(extra));
        let extra = format!("{}.{signature_b64}", URL_SAFE_NO_PAD.encode(extra));
        assert!(matches!(
            IntentToken::from_compact(&extra),
            Err(TokenError::Malformed { .. })
        ));
    }

    #[test]
    fn the_token_serializes_with_hex_fields_and_parses_back() {
        let (issuer, _) = pair();
        let token = issue_log(&issuer);
        let json = serde_json::to_value(&token).expect("serialize");
        assert_eq!(json["args_sha256"], json!(hex::encode(token.args_sha256)));
        assert_eq!(json["nonce"].as_str().map(str::len), Some(32));
        assert_eq!(json["key_id"].as_str().map(str::len), Some(16));
        assert_eq!(json["signature"].as_str().map(str::len), Some(128));
        let back: IntentToken = serde_json::from_value(json).expect("deserialize");
        assert_eq!(back, token);
    }

    #[test]
    fn expired_nonces_are_pruned_from_the_registry() {
        let (issuer, verifier) = pair();
        for _ in 0..3 {
            let token = issue_log(&issuer);
            verifier
                .verify(Some(&token), "read_log", &log_args(), "operator", at(T0))
                .expect("valid");
        }
        assert_eq!(verifier.spent_nonces(), 3);
        let later = issuer.issue("read_log", &log_args(), "operator", "d", at(T0 + 100));
        verifier
            .verify(
                Some(&later),
                "read_log",
                &log_args(),
                "operator",
                at(T0 + 100),
            )
            .expect("valid");
        assert_eq!(verifier.spent_nonces(), 1);
    }

    #[test]
    fn nonces_and_generated_keys_are_random() {
        let (issuer, _) = pair();
        assert_ne!(issue_log(&issuer).nonce, issue_log(&issuer).nonce);
        assert_ne!(
            generate_signing_key().to_bytes(),
            generate_signing_key().to_bytes()
        );
    }

    #[test]
    fn key_id_is_the_sha256_prefix_of_the_public_key() {
        let key = fixed_key(7).verifying_key();
        let digest = Sha256::digest(key.as_bytes());
        assert_eq!(key_id(&key).as_slice(), &digest[..8]);
    }

    #[test]
    fn the_verifier_is_shareable_across_threads_and_spends_a_nonce_once() {
        let (issuer, verifier) = pair();
        let token = issue_log(&issuer);
        let verifier = std::sync::Arc::new(verifier);
        let successes: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let verifier = std::sync::Arc::clone(&verifier);
                    let token = token.clone();
                    scope.spawn(move || {
                        verifier
                            .verify(Some(&token), "read_log", &log_args(), "operator", at(T0))
                            .is_ok()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().unwrap_or(false)))
                .sum()
        });
        assert_eq!(successes, 1);
    }

    #[test]
    fn error_messages_say_what_to_do() {
        let errors = [
            TokenError::Missing,
            malformed("x"),
            TokenError::BadSignature,
            TokenError::Replayed {
                decision_id: "d".into(),
            },
            TokenError::Expired {
                expired_at: 1,
                now: 2,
            },
        ];
        for error in errors {
            let message = error.to_string();
            assert!(message.contains("governor"), "{message}");
        }
        let json = serde_json::to_value(TokenError::BadSignature).expect("serialize");
        assert_eq!(json, json!({"kind": "bad_signature"}));
    }
}
