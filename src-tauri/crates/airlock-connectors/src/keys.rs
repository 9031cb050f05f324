//! Ed25519 signing keys (intent tokens, audit checkpoints) kept in the OS keychain, or in a
//! private file where no keychain is available.
//!
//! [`load_or_create_signing_key`] returns the key stored under a name, creating it on first
//! use. Where it lives:
//!
//! 1. **The OS keychain**, entry service `airlock`, user = the key's name, secret = the 32-byte
//!    Ed25519 seed as 64 lowercase hex digits. On Linux this is the freedesktop Secret Service
//!    (GNOME Keyring, KeePassXC, KWallet's bridge) over the session D-Bus, through
//!    [`keyring_core`] and [`zbus_secret_service_keyring_store`]. It can be inspected with
//!    `secret-tool lookup service airlock username <name>`.
//! 2. **A key file** `<fallback_dir>/<name>.key` (the same 64 hex digits and a newline), mode
//!    0600 in a 0700 directory, when no keychain answers: no D-Bus session, no Secret Service
//!    provider, a keychain that is locked or does not answer within
//!    [`DEFAULT_KEYCHAIN_TIMEOUT`]. Each such load logs a warning. A key file that others can
//!    read is refused until it is `chmod 600`.
//!
//! An existing key is never replaced: a keychain entry wins, then an existing key file (kept
//! even once a keychain appears, so the key and everything it signed stay valid), and only
//! when neither exists is a new key made, in the keychain if possible. A stored key that
//! cannot be read is an error that says how to delete it, never silently overwritten.
//! Creation is serialized across processes by an advisory lock on
//! `<fallback_dir>/.<name>.key.lock`, so two first starts do not make two keys.
//!
//! # Calling from async code
//! Every keychain operation runs on a short-lived dedicated thread and is waited for at most
//! the timeout, so this is safe to call from anywhere, including a tokio runtime thread
//! (zbus's blocking API would otherwise try to start a runtime inside the runtime, or block a
//! worker). A keychain that never answers (a locked collection waiting on an unlock prompt)
//! leaves that thread blocked in the background; the caller goes on with the key file.
//!
//! # Why not the kernel keyring (keyutils)
//! Linux keyutils keys live in session, user or "persistent" keyrings that are emptied at
//! reboot (and the persistent keyring expires after days unused). A signing key must outlive
//! reboots, or every token and audit checkpoint signed before would stop verifying; so
//! keyutils is not used, not even as a middle fallback.
//!
//! # Why `keyring-core` and not the `keyring` 4.x crate
//! `keyring` 4.x is a thin shim over `keyring-core` that picks one platform store the first
//! time it is used and keeps it for the life of the process (a missing D-Bus at that moment
//! disables the keychain for good) and installs it as the process-wide default store. Building
//! our own store per call, as the keyring project recommends for applications, keeps each
//! call independent and lets it run on the dedicated thread.

use ed25519_dalek::{SigningKey, VerifyingKey};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// The keychain service under which every Airlock key is stored.
pub const KEYCHAIN_SERVICE: &str = "airlock";

/// How long one keychain operation may take before the keychain counts as locked.
pub const DEFAULT_KEYCHAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// How a key is looked for and where it may be created; [`Default`] is what
/// [`load_or_create_signing_key`] uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOptions {
    /// Try the OS keychain first (default `true`); `false` uses the key file only.
    pub use_keychain: bool,
    /// Longest wait for one keychain operation (default [`DEFAULT_KEYCHAIN_TIMEOUT`]).
    pub keychain_timeout: Duration,
    /// When the keychain is locked or does not answer in time: `true` (default) uses the key
    /// file, `false` fails with [`KeyError::KeychainLocked`]. Falling back makes a new file key
    /// if none exists yet; should the locked keychain hold the key after all, the two differ
    /// (the warning says so), so callers that must never change key pass `false`.
    pub fall_back_when_locked: bool,
}

impl Default for KeyOptions {
    fn default() -> Self {
        Self {
            use_keychain: true,
            keychain_timeout: DEFAULT_KEYCHAIN_TIMEOUT,
            fall_back_when_locked: true,
        }
    }
}

/// Where a loaded key is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// In the OS keychain (service [`KEYCHAIN_SERVICE`], user = the key's name).
    Keychain,
    /// In this key file, because no keychain was available when it was created.
    File(PathBuf),
}

/// A signing key and where it came from.
pub struct LoadedKey {
    /// The Ed25519 signing key.
    pub key: SigningKey,
    /// Where it is stored.
    pub source: KeySource,
    /// Whether this call created it (first use of the name).
    pub created: bool,
    /// Why the key is in a file rather than the keychain (`None` for [`KeySource::Keychain`]).
    pub fallback_reason: Option<String>,
}

impl LoadedKey {
    /// The public half of the key, to give to verifiers.
    #[must_use]
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }
}

impl fmt::Debug for LoadedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedKey")
            .field("public_key", &public_key_hex(&self.verifying_key()))
            .field("source", &self.source)
            .field("created", &self.created)
            .field("fallback_reason", &self.fallback_reason)
            .finish_non_exhaustive()
    }
}

/// Why a signing key could not be loaded or created. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key name cannot be used as a keychain user and file name.
    #[error(
        "invalid key name {name:?}: use 1 to 64 characters from a-z, 0-9, '-' and '_', \
         starting with a letter or digit"
    )]
    InvalidName {
        /// The rejected name.
        name: String,
    },
    /// The keychain is locked or did not answer, and the caller asked not to fall back.
    #[error(
        "the OS keychain is locked or did not answer ({detail}) while loading signing key \
         '{name}': unlock it (log in to the desktop session, or run `gnome-keyring-daemon \
         --unlock`) and try again"
    )]
    KeychainLocked {
        /// The key's name.
        name: String,
        /// What the keychain did.
        detail: String,
    },
    /// A stored key exists but cannot be decoded.
    #[error(
        "signing key '{name}' in {location} is unreadable: {problem}. It is not replaced \
         automatically, because everything signed with it would stop verifying. To start over \
         with a new key, delete it ({reset}) and start Airlock again"
    )]
    CorruptKey {
        /// The key's name.
        name: String,
        /// Where it is stored (keychain entry or file path).
        location: String,
        /// What is wrong with it.
        problem: String,
        /// The command that deletes it.
        reset: String,
    },
    /// A key file is readable by other users, or not a regular file.
    #[error("refusing to use key file {path}: {problem}; {fix}")]
    InsecureKeyFile {
        /// The key file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
        /// What to do about it.
        fix: String,
    },
    /// A public key given as text is not one [`public_key_hex`] wrote.
    #[error(
        "not an Airlock public key ({problem}): expected the 64 hex digits of an Ed25519 \
         public key, as exported by Airlock; export it again from the signing side"
    )]
    InvalidPublicKey {
        /// What is wrong with it.
        problem: String,
    },
    /// Reading or writing the key file or its directory failed.
    #[error("could not {action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// The signing key stored as `name` (e.g. `intent-tokens`, `audit-checkpoints`), created on
/// first use, in the OS keychain or else in `<fallback_dir>/<name>.key`, with
/// [`KeyOptions::default`]. See the [module docs](self) for the rules.
///
/// Blocks for at most a few keychain timeouts; safe to call from any thread, including an
/// async runtime's (prefer `spawn_blocking` there all the same).
///
/// # Errors
/// [`KeyError`]: an invalid name, a stored key that cannot be decoded, a key file others can
/// read, or an I/O failure on the key file.
pub fn load_or_create_signing_key(name: &str, fallback_dir: &Path) -> Result<LoadedKey, KeyError> {
    load_or_create_signing_key_with(name, fallback_dir, &KeyOptions::default())
}

/// [`load_or_create_signing_key`] with explicit [`KeyOptions`].
///
/// # Errors
/// As [`load_or_create_signing_key`], plus [`KeyError::KeychainLocked`] when
/// `options.fall_back_when_locked` is false and the keychain is locked or does not answer.
pub fn load_or_create_signing_key_with(
    name: &str,
    fallback_dir: &Path,
    options: &KeyOptions,
) -> Result<LoadedKey, KeyError> {
    validate_name(name)?;
    let path = key_file_path(fallback_dir, name);

    let unavailable = match lookup(name, options) {
        Lookup::Found(key) => return Ok(from_keychain(key, false)),
        Lookup::Absent if path.exists() => return load_file(name, &path, PREDATES_KEYCHAIN),
        Lookup::Absent => None,
        Lookup::Unavailable(trouble) => {
            check_fatal(name, &trouble, options)?;
            if path.exists() {
                return load_file(name, &path, &trouble.to_string());
            }
            Some(trouble)
        }
    };

    // Nothing is stored yet: create the key, one process at a time.
    let _lock = CreationLock::acquire(fallback_dir, name, options.keychain_timeout);
    let trouble = match unavailable {
        Some(trouble) => trouble,
        // The keychain answered: look again under the lock (another process may have just
        // created the key), then store a new one.
        None => match lookup(name, options) {
            Lookup::Found(key) => return Ok(from_keychain(key, false)),
            Lookup::Absent if path.exists() => return load_file(name, &path, PREDATES_KEYCHAIN),
            Lookup::Absent => match store_in_keychain(name, &new_signing_key(), options) {
                Ok((key, created)) => {
                    tracing::info!(key = name, created, "signing key is in the OS keychain");
                    return Ok(from_keychain(key, created));
                }
                Err(trouble) => trouble,
            },
            Lookup::Unavailable(trouble) => trouble,
        },
    };
    check_fatal(name, &trouble, options)?;
    if path.exists() {
        return load_file(name, &path, &trouble.to_string());
    }
    create_file(name, &path, &trouble.to_string())
}

/// Why a key file is used although the keychain answered.
const PREDATES_KEYCHAIN: &str = "the file was made when no keychain was available and stays \
                                 in use so that the key does not change";

/// The public key of a signing key.
#[must_use]
pub fn verifying_key_of(key: &SigningKey) -> VerifyingKey {
    key.verifying_key()
}

/// A public key as 64 lowercase hex digits, for configuration files and verifiers.
#[must_use]
pub fn public_key_hex(key: &VerifyingKey) -> String {
    hex::encode(key.as_bytes())
}

/// Parses a public key written by [`public_key_hex`] (surrounding whitespace allowed).
///
/// # Errors
/// [`KeyError::InvalidPublicKey`] when `text` is not 64 hex digits of a valid Ed25519 point.
pub fn parse_public_key_hex(text: &str) -> Result<VerifyingKey, KeyError> {
    let corrupt = |problem: String| KeyError::InvalidPublicKey { problem };
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut bytes)
        .map_err(|e| corrupt(format!("expected 64 hex digits: {e}")))?;
    VerifyingKey::from_bytes(&bytes).map_err(|e| corrupt(format!("not an Ed25519 key: {e}")))
}

fn validate_name(name: &str) -> Result<(), KeyError> {
    let valid = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(KeyError::InvalidName { name: name.into() })
    }
}

fn key_file_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.key"))
}

fn from_keychain(key: SigningKey, created: bool) -> LoadedKey {
    LoadedKey {
        key,
        source: KeySource::Keychain,
        created,
        fallback_reason: None,
    }
}

/// The keychain troubles that must not fall back to a key file: a corrupt entry (a new key
/// would silently replace the old one) and, if the caller asked, a locked keychain.
fn check_fatal(
    name: &str,
    trouble: &KeychainTrouble,
    options: &KeyOptions,
) -> Result<(), KeyError> {
    match trouble {
        KeychainTrouble::Corrupt { problem } => Err(KeyError::CorruptKey {
            name: name.into(),
            location: format!("the OS keychain (service '{KEYCHAIN_SERVICE}', user '{name}')"),
            problem: problem.clone(),
            reset: format!("`{}`", keychain_reset(name)),
        }),
        KeychainTrouble::Locked(detail) if !options.fall_back_when_locked => {
            Err(KeyError::KeychainLocked {
                name: name.into(),
                detail: detail.clone(),
            })
        }
        KeychainTrouble::Locked(_) | KeychainTrouble::Unavailable(_) => Ok(()),
    }
}

fn new_signing_key() -> SigningKey {
    let mut seed = Zeroizing::new([0u8; 32]);
    if let Err(error) = getrandom::fill(seed.as_mut_slice()) {
        // As the standard library does when it cannot seed: no key can be made safely.
        panic!("the operating system's random number generator failed: {error}");
    }
    SigningKey::from_bytes(&seed)
}

/// Decodes a stored seed (64 hex digits, surrounding whitespace allowed).
fn decode_seed(text: &str) -> Result<SigningKey, String> {
    let text = text.trim();
    if text.len() != 64 {
        return Err(format!(
            "expected 64 hex digits (a 32-byte Ed25519 seed), found {} characters",
            text.chars().count()
        ));
    }
    let mut seed = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text, seed.as_mut_slice())
        .map_err(|e| format!("expected 64 hex digits: {e}"))?;
    Ok(SigningKey::from_bytes(&seed))
}

fn encode_seed(key: &SigningKey) -> Zeroizing<String> {
    Zeroizing::new(hex::encode(key.as_bytes()))
}

// ------------------------------------------------------------------------------- keychain

/// Why the keychain could not be used.
#[derive(Debug, Clone)]
enum KeychainTrouble {
    /// No keychain here: no D-Bus session, no Secret Service, disabled, other platform.
    Unavailable(String),
    /// A keychain is there but locked, or did not answer in time.
    Locked(String),
    /// The keychain holds something under our name that is not a key.
    Corrupt { problem: String },
}

impl fmt::Display for KeychainTrouble {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable(why) => write!(f, "no OS keychain is available: {why}"),
            Self::Locked(why) => write!(
                f,
                "the OS keychain is locked or not answering: {why} (if it holds this key \
                 already, unlock it, delete the key file and restart to use that key again)"
            ),
            Self::Corrupt { problem } => write!(f, "the OS keychain entry is unusable: {problem}"),
        }
    }
}

enum Lookup {
    Found(SigningKey),
    Absent,
    Unavailable(KeychainTrouble),
}

fn keychain_reset(name: &str) -> String {
    format!("secret-tool clear service {KEYCHAIN_SERVICE} username {name}")
}

/// Reads the keychain entry; a corrupt entry is an error the caller returns as such.
fn lookup(name: &str, options: &KeyOptions) -> Lookup {
    if !options.use_keychain {
        return Lookup::Unavailable(KeychainTrouble::Unavailable(
            "the keychain is disabled by configuration".into(),
        ));
    }
    let owned = name.to_owned();
    match on_keychain_thread(options.keychain_timeout, move || backend::read(&owned)) {
        Ok(Ok(Some(secret))) => match decode_seed(&secret) {
            Ok(key) => Lookup::Found(key),
            Err(problem) => Lookup::Unavailable(KeychainTrouble::Corrupt { problem }),
        },
        Ok(Ok(None)) => Lookup::Absent,
        Ok(Err(trouble)) | Err(trouble) => Lookup::Unavailable(trouble),
    }
}

/// Stores `key` and reads the entry back. Returns the key the keychain now holds and whether
/// it is `key` (it is not when a concurrent creator stored its own in between).
fn store_in_keychain(
    name: &str,
    key: &SigningKey,
    options: &KeyOptions,
) -> Result<(SigningKey, bool), KeychainTrouble> {
    let owned = name.to_owned();
    let secret = encode_seed(key);
    let stored = on_keychain_thread(options.keychain_timeout, move || {
        backend::write(&owned, &secret)?;
        backend::read(&owned)
    })??
    .ok_or_else(|| {
        KeychainTrouble::Unavailable("the keychain did not keep the key it was given".into())
    })?;
    let stored = decode_seed(&stored).map_err(|problem| {
        KeychainTrouble::Unavailable(format!("the keychain returned a damaged key: {problem}"))
    })?;
    let created = stored.to_bytes() == key.to_bytes();
    Ok((stored, created))
}

/// Runs `job` on a dedicated thread and waits at most `timeout` for it.
fn on_keychain_thread<T: Send + 'static>(
    timeout: Duration,
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, KeychainTrouble> {
    on_own_thread("airlock-keychain", timeout, job).map_err(|unanswered| match unanswered {
        Unanswered::TimedOut(why) => KeychainTrouble::Locked(why),
        Unanswered::Failed(why) => KeychainTrouble::Unavailable(why),
    })
}

/// Why a job on its own thread gave no result.
pub(crate) enum Unanswered {
    /// It did not finish in time (a keychain waiting on an unlock prompt).
    TimedOut(String),
    /// The thread could not start, or the job panicked.
    Failed(String),
}

/// Runs `job` on a thread named `name` and waits at most `timeout` for it. A job that never
/// finishes leaves its thread blocked in the background; the caller goes on.
pub(crate) fn on_own_thread<T: Send + 'static>(
    name: &str,
    timeout: Duration,
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Unanswered> {
    let (sender, receiver) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            // The receiver is gone after a timeout; nothing is left to tell.
            let _ = sender.send(job());
        })
        .map_err(|e| Unanswered::Failed(format!("could not start the keychain thread: {e}")))?;
    match receiver.recv_timeout(timeout) {
        Ok(result) => Ok(result),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Unanswered::TimedOut(format!(
            "no answer within {} s (an unlock prompt may be waiting)",
            timeout.as_secs_f32()
        ))),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(Unanswered::Failed(
            "the keychain client failed unexpectedly (it panicked)".into(),
        )),
    }
}

#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
mod backend {
    //! The freedesktop Secret Service over the session D-Bus.

    use super::{KeychainTrouble, KEYCHAIN_SERVICE};
    use keyring_core::api::CredentialStoreApi as _;
    use keyring_core::{Entry, Error};
    use std::collections::HashMap;
    use zeroize::Zeroizing;

    fn entry(name: &str) -> Result<Entry, KeychainTrouble> {
        let store = zbus_secret_service_keyring_store::Store::new().map_err(classify)?;
        let label = format!("Airlock signing key ({name})");
        let modifiers = HashMap::from([("label", label.as_str())]);
        store
            .build(KEYCHAIN_SERVICE, name, Some(&modifiers))
            .map_err(classify)
    }

    /// The stored secret text, `None` when there is no entry.
    pub(super) fn read(name: &str) -> Result<Option<Zeroizing<String>>, KeychainTrouble> {
        match entry(name)?.get_password() {
            Ok(secret) => Ok(Some(Zeroizing::new(secret))),
            Err(Error::NoEntry) => Ok(None),
            Err(error) => Err(classify(error)),
        }
    }

    pub(super) fn write(name: &str, secret: &str) -> Result<(), KeychainTrouble> {
        entry(name)?.set_password(secret).map_err(classify)
    }

    fn classify(error: Error) -> KeychainTrouble {
        match error {
            Error::NoStorageAccess(e) => KeychainTrouble::Locked(e.to_string()),
            Error::BadEncoding(_) => KeychainTrouble::Corrupt {
                problem: "the stored secret is not text".into(),
            },
            Error::BadDataFormat(_, e) => KeychainTrouble::Corrupt {
                problem: format!("the stored secret is malformed: {e}"),
            },
            Error::Ambiguous(entries) => KeychainTrouble::Corrupt {
                problem: format!(
                    "{} entries match; there must be one (the reset command deletes them all)",
                    entries.len()
                ),
            },
            Error::PlatformFailure(e) => KeychainTrouble::Unavailable(e.to_string()),
            other => KeychainTrouble::Unavailable(other.to_string()),
        }
    }
}

#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
mod backend {
    //! No keychain backend is built for this platform yet: keys live in files.

    use super::KeychainTrouble;
    use zeroize::Zeroizing;

    pub(super) fn read(_name: &str) -> Result<Option<Zeroizing<String>>, KeychainTrouble> {
        Err(unsupported())
    }

    pub(super) fn write(_name: &str, _secret: &str) -> Result<(), KeychainTrouble> {
        Err(unsupported())
    }

    fn unsupported() -> KeychainTrouble {
        KeychainTrouble::Unavailable("this build has no keychain support for this platform".into())
    }
}

// ----------------------------------------------------------------------------- key file

fn warn_file(name: &str, path: &Path, reason: &str) {
    tracing::warn!(
        key = name,
        path = %path.display(),
        reason,
        "signing key '{name}' is kept in the file {} (readable by this user only), not in the OS \
         keychain: {reason}. Set up and unlock a Secret Service keyring (e.g. GNOME Keyring) to \
         keep new keys out of files.",
        path.display()
    );
}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> KeyError + 'a {
    move |source| KeyError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

fn load_file(name: &str, path: &Path, reason: &str) -> Result<LoadedKey, KeyError> {
    let key = read_key_file(name, path)?;
    warn_file(name, path, reason);
    Ok(LoadedKey {
        key,
        source: KeySource::File(path.to_owned()),
        created: false,
        fallback_reason: Some(reason.to_owned()),
    })
}

fn read_key_file(name: &str, path: &Path) -> Result<SigningKey, KeyError> {
    let file = File::open(path).map_err(io_error("open key file", path))?;
    let metadata = file
        .metadata()
        .map_err(io_error("inspect key file", path))?;
    if !metadata.is_file() {
        return Err(KeyError::InsecureKeyFile {
            path: path.to_owned(),
            problem: "it is not a regular file".into(),
            fix: "move it away; Airlock then creates a new key".into(),
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::InsecureKeyFile {
                path: path.to_owned(),
                problem: format!("its mode is {mode:03o}, so other users may read the secret key"),
                fix: format!(
                    "run `chmod 600 {}` (and if others could read it, consider the key leaked: \
                     delete the file to start over with a new key)",
                    path.display()
                ),
            });
        }
    }
    let mut text = Zeroizing::new(String::new());
    file.take(4096)
        .read_to_string(&mut text)
        .map_err(|source| match source.kind() {
            io::ErrorKind::InvalidData => KeyError::CorruptKey {
                name: name.into(),
                location: path.display().to_string(),
                problem: "it is not text".into(),
                reset: format!("rm {}", path.display()),
            },
            _ => KeyError::Io {
                action: "read key file",
                path: path.to_owned(),
                source,
            },
        })?;
    decode_seed(&text).map_err(|problem| KeyError::CorruptKey {
        name: name.into(),
        location: path.display().to_string(),
        problem,
        reset: format!("rm {}", path.display()),
    })
}

fn create_dir_private(dir: &Path) -> Result<(), KeyError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(io_error("create key directory", dir))
}

/// Creates a new key in `path`: written to a private temporary file, synced, then linked into
/// place, which fails if the name exists, so a concurrent creator's key is never overwritten
/// (the key already there is loaded instead).
fn create_file(name: &str, path: &Path, reason: &str) -> Result<LoadedKey, KeyError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_dir_private(dir)?;
    let key = new_signing_key();
    let mut suffix = [0u8; 8];
    // Uniqueness only; a clash fails create_new below.
    let _ = getrandom::fill(&mut suffix);
    let temp = dir.join(format!(".{name}.key.{}.tmp", hex::encode(suffix)));

    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let written = options
        .open(&temp)
        .map_err(io_error("create key file", &temp))
        .and_then(|mut file| {
            let mut line = encode_seed(&key);
            line.push('\n');
            file.write_all(line.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(io_error("write key file", &temp))
        });
    let published = written.and_then(|()| match fs::hard_link(&temp, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        // No hard links on this file system: rename, checking first that nothing is there.
        Err(_) if !path.exists() => fs::rename(&temp, path)
            .map(|()| true)
            .map_err(io_error("move key file into place", path)),
        Err(e) => Err(io_error("move key file into place", path)(e)),
    });
    // Gone already after a rename.
    let _ = fs::remove_file(&temp);
    if let Ok(dir_handle) = File::open(dir) {
        // Make the new name durable; failure here loses nothing that is not retried.
        let _ = dir_handle.sync_all();
    }
    if !published? {
        return load_file(name, path, reason);
    }
    warn_file(name, path, reason);
    Ok(LoadedKey {
        key,
        source: KeySource::File(path.to_owned()),
        created: true,
        fallback_reason: Some(reason.to_owned()),
    })
}

/// An advisory lock serializing key creation across processes; released on drop. Best
/// effort: without a writable directory, or after `wait`, creation goes on unlocked (the
/// key file itself is still created without overwriting).
struct CreationLock(Option<File>);

impl CreationLock {
    fn acquire(dir: &Path, name: &str, wait: Duration) -> Self {
        let path = dir.join(format!(".{name}.key.lock"));
        let file = create_dir_private(dir).ok().and_then(|()| {
            let mut options = OpenOptions::new();
            options.write(true).create(true).truncate(false);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            options.open(&path).ok()
        });
        let Some(file) = file else {
            tracing::debug!(path = %path.display(), "no key creation lock; going on without");
            return Self(None);
        };
        // Another creator holds it for at most a few keychain timeouts.
        let deadline = Instant::now() + wait.saturating_mul(3) + Duration::from_secs(1);
        loop {
            match file.try_lock() {
                Ok(()) => return Self(Some(file)),
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(error) => {
                    tracing::debug!(path = %path.display(), %error, "key creation lock not taken");
                    return Self(None);
                }
            }
        }
    }
}

impl Drop for CreationLock {
    fn drop(&mut self) {
        if let Some(file) = &self.0 {
            let _ = file.unlock();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn files_only() -> KeyOptions {
        KeyOptions {
            use_keychain: false,
            ..KeyOptions::default()
        }
    }

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn without_a_keychain_a_new_key_file_is_created_with_mode_600() {
        let dir = tempfile::tempdir().expect("temp dir");
        let keys = dir.path().join("keys");
        let loaded = load_or_create_signing_key_with("intent-tokens", &keys, &files_only())
            .expect("created");
        let path = keys.join("intent-tokens.key");
        assert!(loaded.created);
        assert_eq!(loaded.source, KeySource::File(path.clone()));
        assert!(loaded.fallback_reason.is_some());
        assert_eq!(mode_of(&path), 0o600);
        assert_eq!(mode_of(&keys), 0o700);
        let text = fs::read_to_string(&path).expect("read");
        assert_eq!(text, format!("{}\n", hex::encode(loaded.key.to_bytes())));
        let leftovers: Vec<_> = fs::read_dir(&keys)
            .expect("list")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_key_file_is_loaded_again_as_the_same_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = load_or_create_signing_key_with("audit-checkpoints", dir.path(), &files_only())
            .expect("created");
        let second =
            load_or_create_signing_key_with("audit-checkpoints", dir.path(), &files_only())
                .expect("loaded");
        assert!(!second.created);
        assert_eq!(first.key.to_bytes(), second.key.to_bytes());
        assert_eq!(first.source, second.source);
    }

    #[test]
    fn different_names_are_different_keys() {
        let dir = tempfile::tempdir().expect("temp dir");
        let a = load_or_create_signing_key_with("a", dir.path(), &files_only()).expect("a");
        let b = load_or_create_signing_key_with("b", dir.path(), &files_only()).expect("b");
        assert_ne!(a.key.to_bytes(), b.key.to_bytes());
    }

    #[test]
    fn a_group_or_world_readable_key_file_is_refused_with_the_chmod_fix() {
        let dir = tempfile::tempdir().expect("temp dir");
        load_or_create_signing_key_with("k", dir.path(), &files_only()).expect("created");
        let path = dir.path().join("k.key");
        for mode in [0o644, 0o640, 0o604, 0o660] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
            let error = load_or_create_signing_key_with("k", dir.path(), &files_only())
                .expect_err("refused");
            assert!(
                matches!(error, KeyError::InsecureKeyFile { .. }),
                "{mode:o}: {error:?}"
            );
            let message = error.to_string();
            assert!(
                message.contains(&format!("chmod 600 {}", path.display())),
                "{message}"
            );
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
        load_or_create_signing_key_with("k", dir.path(), &files_only()).expect("accepted again");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).expect("chmod");
        load_or_create_signing_key_with("k", dir.path(), &files_only()).expect("read-only is fine");
    }

    #[test]
    fn a_corrupt_key_file_is_a_clear_error_and_is_not_replaced() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("k.key");
        for content in [
            &b"too short\n"[..],
            b"zz000000000000000000000000000000000000000000000000000000000000000\n",
            &[b'a'; 66][..],
            b"",
            &[0xff, 0xfe, 0x00][..],
        ] {
            fs::write(&path, content).expect("write");
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
            let error = load_or_create_signing_key_with("k", dir.path(), &files_only())
                .expect_err("corrupt");
            assert!(matches!(error, KeyError::CorruptKey { .. }), "{error:?}");
            let message = error.to_string();
            assert!(
                message.contains(&format!("rm {}", path.display())),
                "{message}"
            );
            assert_eq!(fs::read(&path).expect("still there"), content);
        }
    }

    #[test]
    fn a_key_file_with_surrounding_whitespace_loads() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("k.key");
        let seed = [3u8; 32];
        fs::write(&path, format!("  {}\r\n", hex::encode(seed))).expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
        let loaded =
            load_or_create_signing_key_with("k", dir.path(), &files_only()).expect("loads");
        assert_eq!(loaded.key.to_bytes(), seed);
    }

    #[test]
    fn a_directory_in_place_of_the_key_file_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::create_dir(dir.path().join("k.key")).expect("mkdir");
        let error = load_or_create_signing_key_with("k", dir.path(), &files_only())
            .expect_err("not a file");
        assert!(
            matches!(
                error,
                KeyError::InsecureKeyFile { .. } | KeyError::Io { .. }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn names_that_are_not_safe_file_and_keychain_names_are_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let long = "a".repeat(65);
        for name in [
            "",
            "../x",
            "a/b",
            "Upper",
            "-lead",
            "sp ace",
            ".hidden",
            long.as_str(),
        ] {
            let error = load_or_create_signing_key_with(name, dir.path(), &files_only())
                .expect_err("invalid");
            assert!(
                matches!(error, KeyError::InvalidName { .. }),
                "{name}: {error:?}"
            );
        }
        assert_eq!(fs::read_dir(dir.path()).expect("list").count(), 0);
    }

    #[test]
    fn concurrent_first_loads_agree_on_one_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let keys: Vec<[u8; 32]> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        load_or_create_signing_key_with("shared", dir.path(), &files_only())
                            .map(|loaded| loaded.key.to_bytes())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("no panic").expect("loaded"))
                .collect()
        });
        assert!(keys.windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn a_key_file_without_keychain_logs_a_warning() {
        let dir = tempfile::tempdir().expect("temp dir");
        let logs = capture_logs(|| {
            load_or_create_signing_key_with("warned", dir.path(), &files_only()).expect("created");
        });
        assert!(logs.contains("WARN"), "{logs}");
        assert!(logs.contains("not in the OS keychain"), "{logs}");
        assert!(logs.contains("warned.key"), "{logs}");
    }

    #[test]
    fn a_timed_out_keychain_call_counts_as_locked() {
        let result = on_keychain_thread(Duration::from_millis(50), || {
            std::thread::sleep(Duration::from_secs(2));
        });
        assert!(
            matches!(result, Err(KeychainTrouble::Locked(_))),
            "{result:?}"
        );
        let result = on_keychain_thread(Duration::from_secs(5), || panic!("backend bug"));
        assert!(
            matches!(result, Err(KeychainTrouble::Unavailable(_))),
            "{result:?}"
        );
    }

    #[test]
    fn public_keys_round_trip_through_hex() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let public = verifying_key_of(&key);
        let text = public_key_hex(&public);
        assert_eq!(text.len(), 64);
        assert_eq!(
            parse_public_key_hex(&format!(" {text}\n")).expect("parses"),
            public
        );
        let error = parse_public_key_hex("abcd").expect_err("too short");
        assert!(
            matches!(error, KeyError::InvalidPublicKey { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn the_debug_form_shows_no_secret() {
        let dir = tempfile::tempdir().expect("temp dir");
        let loaded =
            load_or_create_signing_key_with("k", dir.path(), &files_only()).expect("created");
        let debug = format!("{loaded:?}");
        assert!(
            !debug.contains(&hex::encode(loaded.key.to_bytes())),
            "{debug}"
        );
        assert!(
            debug.contains(&public_key_hex(&loaded.verifying_key())),
            "{debug}"
        );
    }

    /// Runs `f` and returns the log lines it emitted on this thread.
    ///
    /// A global subscriber writing into a per-thread buffer, not a scoped `with_default`: a
    /// scoped one can miss events when another test thread hits the same call site first.
    fn capture_logs(f: impl FnOnce()) -> String {
        use std::cell::RefCell;
        thread_local! {
            static CAPTURED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        struct ThreadBuffer;
        impl io::Write for ThreadBuffer {
            fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
                CAPTURED.with(|c| c.borrow_mut().extend_from_slice(bytes));
                Ok(bytes.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            let _ = tracing_subscriber::fmt()
                .with_writer(|| ThreadBuffer)
                .with_ansi(false)
                .try_init();
        });
        CAPTURED.with(|c| c.borrow_mut().clear());
        f();
        let bytes = CAPTURED.with(|c| std::mem::take(&mut *c.borrow_mut()));
        String::from_utf8_lossy(&bytes).into_owned()
    }
}
