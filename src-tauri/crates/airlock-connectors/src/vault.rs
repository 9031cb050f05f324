//! Connection secrets (SAP and MES passwords) kept only in the OS keychain.
//!
//! A named connection (`sap-prod`, `mes-line3`, …) has non-secret settings, which the caller
//! keeps elsewhere (Airlock keeps them in SQLite), and one secret, which lives here: in the
//! freedesktop Secret Service (GNOME Keyring, KeePassXC) under service [`VAULT_SERVICE`] and
//! user = the connection's name, or — when no Secret Service answers on this machine (a headless
//! server) — in the Linux kernel keyring (keyutils), which is cleared at reboot: the operator
//! then adds the secret again. Which one holds a secret is always reported and logged.
//!
//! Secrets are read only when a call executes, held in [`Secret`] (zeroized on drop, `Debug`
//! and `Display` print `***`), and never written to SQLite, logs, prompts, tool results or
//! errors: every message here names the connection, never the secret.
//!
//! Every keychain operation runs on its own thread and is waited for at most the timeout, so
//! a locked keychain that would block on an unlock prompt gives a clear error instead of a hang.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use keyring_core::api::CredentialStoreApi as _;
use keyring_core::{Entry, Error};
use zeroize::Zeroizing;

use crate::keys::{on_own_thread, Unanswered};

pub use crate::VAULT_SERVICE;

/// How long one keychain operation may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// A secret: zeroized when dropped, never printed.
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps `text` (which is moved, not copied).
    #[must_use]
    pub fn new(text: String) -> Self {
        Self(Zeroizing::new(text))
    }

    /// The secret itself, for the one call that sends it.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where a secret is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// The freedesktop Secret Service (the desktop keychain); survives reboots.
    SecretService,
    /// The Linux kernel keyring (keyutils): for headless machines; cleared at reboot.
    KernelKeyring,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SecretService => "the OS keychain (Secret Service)",
            Self::KernelKeyring => "the kernel keyring (keyutils; cleared at reboot)",
        })
    }
}

/// Why the vault could not do what was asked. Messages name the connection, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The connection name cannot be used as a keychain entry.
    #[error("invalid connection name {0:?}: use 1 to 64 characters from a-z, 0-9, '-' and '_', starting with a letter or digit")]
    InvalidName(String),
    /// No secret is stored for the connection.
    #[error("no secret is stored for connection `{0}`; add it with `airlock vault add {0}`")]
    NotFound(String),
    /// The keychain is locked or did not answer.
    #[error("the OS keychain is locked or not answering ({detail}) while reading connection `{name}`: unlock it (log in to the desktop session, or `gnome-keyring-daemon --unlock`) and try again")]
    Locked {
        /// The connection.
        name: String,
        /// What the keychain did.
        detail: String,
    },
    /// No keychain could be used.
    #[error("no keychain can keep the secret of connection `{name}`: {detail}; install and unlock a Secret Service (GNOME Keyring) or allow keyutils")]
    Unavailable {
        /// The connection.
        name: String,
        /// What each keychain said.
        detail: String,
    },
}

/// Which keychains the vault uses, in order, and how long it waits for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vault {
    backends: Vec<Backend>,
    timeout: Duration,
    service: String,
}

impl Default for Vault {
    /// The Secret Service, then the kernel keyring; [`DEFAULT_TIMEOUT`].
    fn default() -> Self {
        Self::with_backends(vec![Backend::SecretService, Backend::KernelKeyring])
    }
}

/// What a keychain said.
enum Trouble {
    /// No such keychain here.
    Unavailable(String),
    /// Locked or not answering.
    Locked(String),
}

impl Vault {
    /// A vault over `backends`, tried in order.
    #[must_use]
    pub fn with_backends(backends: Vec<Backend>) -> Self {
        Self {
            backends,
            timeout: DEFAULT_TIMEOUT,
            service: VAULT_SERVICE.to_owned(),
        }
    }

    /// The same vault keeping its secrets under keychain service `service` instead of
    /// [`VAULT_SERVICE`]: a separate namespace (the demo uses one so it never touches the
    /// secrets of real connections with the same names).
    #[must_use]
    pub fn in_service(mut self, service: &str) -> Self {
        service.clone_into(&mut self.service);
        self
    }

    /// Stores `secret` for connection `name` in the first keychain that takes it, replacing an
    /// older one there; returns which. A locked keychain is an error (the secret is not put
    /// somewhere else behind the user's back).
    ///
    /// # Errors
    /// [`VaultError::InvalidName`], [`VaultError::Locked`], [`VaultError::Unavailable`].
    pub fn store(&self, name: &str, secret: &Secret) -> Result<Backend, VaultError> {
        validate(name)?;
        let mut unavailable = Vec::new();
        for &backend in &self.backends {
            let (owned, text) = (name.to_owned(), Zeroizing::new(secret.expose().to_owned()));
            let service = self.service.clone();
            match self.on_thread(move || match backend {
                Backend::SecretService => secret_service(&service, &owned)?
                    .set_password(&text)
                    .map_err(classify),
                Backend::KernelKeyring => kernel::set(&service, &owned, &text),
            }) {
                Ok(()) => {
                    if backend == Backend::KernelKeyring {
                        tracing::warn!(connection = name, "the secret is kept in the kernel keyring: it is lost at reboot, add it again then (no Secret Service answers here)");
                    }
                    return Ok(backend);
                }
                Err(Trouble::Locked(detail)) => {
                    return Err(VaultError::Locked {
                        name: name.to_owned(),
                        detail,
                    })
                }
                Err(Trouble::Unavailable(detail)) => {
                    unavailable.push(format!("{backend}: {detail}"))
                }
            }
        }
        Err(VaultError::Unavailable {
            name: name.to_owned(),
            detail: unavailable.join("; "),
        })
    }

    /// The secret of connection `name` and where it was found.
    ///
    /// # Errors
    /// [`VaultError::NotFound`] when no keychain has it; [`VaultError::Locked`] when a locked
    /// keychain may have it and no other does.
    pub fn fetch(&self, name: &str) -> Result<(Secret, Backend), VaultError> {
        validate(name)?;
        let mut locked = None;
        for &backend in &self.backends {
            let (owned, service) = (name.to_owned(), self.service.clone());
            let found = self.on_thread(move || match backend {
                Backend::SecretService => match secret_service(&service, &owned)?.get_password() {
                    Ok(secret) => Ok(Some(Secret::new(secret))),
                    Err(Error::NoEntry) => Ok(None),
                    Err(other) => Err(classify(other)),
                },
                Backend::KernelKeyring => kernel::get(&service, &owned),
            });
            match found {
                Ok(Some(secret)) => return Ok((secret, backend)),
                Ok(None) | Err(Trouble::Unavailable(_)) => {}
                Err(Trouble::Locked(detail)) => locked = Some(detail),
            }
        }
        Err(match locked {
            Some(detail) => VaultError::Locked {
                name: name.to_owned(),
                detail,
            },
            None => VaultError::NotFound(name.to_owned()),
        })
    }

    /// Deletes the secret of connection `name` from every keychain that has it; returns them.
    ///
    /// # Errors
    /// [`VaultError::Locked`] when a keychain that may hold it is locked.
    pub fn remove(&self, name: &str) -> Result<Vec<Backend>, VaultError> {
        validate(name)?;
        let mut removed = Vec::new();
        for &backend in &self.backends {
            let (owned, service) = (name.to_owned(), self.service.clone());
            match self.on_thread(move || match backend {
                Backend::SecretService => {
                    match secret_service(&service, &owned)?.delete_credential() {
                        Ok(()) => Ok(true),
                        Err(Error::NoEntry) => Ok(false),
                        Err(other) => Err(classify(other)),
                    }
                }
                Backend::KernelKeyring => kernel::remove(&service, &owned),
            }) {
                Ok(true) => removed.push(backend),
                Ok(false) | Err(Trouble::Unavailable(_)) => {}
                Err(Trouble::Locked(detail)) => {
                    return Err(VaultError::Locked {
                        name: name.to_owned(),
                        detail,
                    })
                }
            }
        }
        Ok(removed)
    }

    /// Runs `job` on its own thread, waiting at most the timeout.
    fn on_thread<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> Result<T, Trouble> + Send + 'static,
    ) -> Result<T, Trouble> {
        on_own_thread("airlock-vault", self.timeout, job).map_err(
            |unanswered| match unanswered {
                Unanswered::TimedOut(why) => Trouble::Locked(why),
                Unanswered::Failed(why) => Trouble::Unavailable(why),
            },
        )?
    }
}

/// The Secret Service entry of connection `name` under `service`.
fn secret_service(service: &str, name: &str) -> Result<Entry, Trouble> {
    let label = format!("Airlock connection secret ({name})");
    let modifiers = HashMap::from([("label", label.as_str())]);
    zbus_secret_service_keyring_store::Store::new()
        .map_err(classify)?
        .build(service, name, Some(&modifiers))
        .map_err(classify)
}

mod kernel {
    //! The user's kernel keyring: shared by this user's processes (a login session keyring may
    //! not exist on a headless machine), cleared at reboot. Keys are readable by the owner only.

    use linux_keyutils::{
        Key, KeyError, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, Permission,
    };
    use zeroize::Zeroizing;

    use super::{Secret, Trouble};

    fn ring() -> Result<KeyRing, Trouble> {
        KeyRing::from_special_id(KeyRingIdentifier::User, true).map_err(trouble)
    }

    fn description(service: &str, name: &str) -> String {
        format!("{service}:{name}")
    }

    fn find(service: &str, name: &str) -> Result<Option<Key>, Trouble> {
        match ring()?.search(&description(service, name)) {
            Ok(key) => Ok(Some(key)),
            Err(KeyError::KeyDoesNotExist | KeyError::KeyExpired | KeyError::KeyRevoked) => {
                Ok(None)
            }
            Err(err) => Err(trouble(err)),
        }
    }

    pub(super) fn set(service: &str, name: &str, secret: &str) -> Result<(), Trouble> {
        let key = ring()?
            .add_key(&description(service, name), secret)
            .map_err(trouble)?;
        let owner_only = KeyPermissionsBuilder::builder()
            .posessor(Permission::ALL)
            .user(Permission::ALL)
            .build();
        key.set_perms(owner_only).map_err(trouble)
    }

    pub(super) fn get(service: &str, name: &str) -> Result<Option<Secret>, Trouble> {
        let Some(key) = find(service, name)? else {
            return Ok(None);
        };
        let bytes = Zeroizing::new(key.read_to_vec().map_err(trouble)?);
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Trouble::Unavailable("the stored secret is not text".into()))?;
        Ok(Some(Secret::new(text.to_owned())))
    }

    pub(super) fn remove(service: &str, name: &str) -> Result<bool, Trouble> {
        let Some(key) = find(service, name)? else {
            return Ok(false);
        };
        key.invalidate().map_err(trouble)?;
        Ok(true)
    }

    fn trouble(err: KeyError) -> Trouble {
        Trouble::Unavailable(format!("keyutils: {err:?}"))
    }
}

fn classify(error: Error) -> Trouble {
    match error {
        Error::NoStorageAccess(err) => Trouble::Locked(err.to_string()),
        other => Trouble::Unavailable(other.to_string()),
    }
}

fn validate(name: &str) -> Result<(), VaultError> {
    let mut bytes = name.bytes();
    let valid = (1..=64).contains(&name.len())
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(VaultError::InvalidName(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints() {
        let secret = Secret::new("hunter2".to_owned());
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn connection_names_are_checked_before_any_keychain_is_asked() {
        let vault = Vault::with_backends(Vec::new());
        for bad in ["", "Sap", "-x", "a b", &"x".repeat(65)] {
            assert!(
                matches!(vault.fetch(bad), Err(VaultError::InvalidName(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            vault.fetch("sap-prod"),
            Err(VaultError::NotFound(_))
        ));
    }
}
