//! Offline updates of Airlock: a signed bundle carried on USB, verified against the key the
//! installation shipped with, then installed.
//!
//! A `.airlock-update` file is an uncompressed tar holding exactly three regular files:
//! `update.json` (the [`Manifest`]: format, product, version, target, notes, date and the
//! package's name, SHA-256 and size), `update.json.minisig` (a minisign signature over
//! update.json's exact bytes) and the package itself. `installers/make-update` writes it.
//!
//! [`UpdateBundle::verify`] reads the file once: the signature is checked with the
//! [`TrustedKey`] before update.json is parsed, the manifest must be for this product and
//! target and strictly newer than the running version, and the package is staged and hashed
//! on the way; only a bundle that passes everything becomes a [`VerifiedUpdate`], which
//! [`VerifiedUpdate::install`] hands to the system's installer (dpkg, as root or through
//! pkexec).
//!
//! ```no_run
//! use airlock_update::{semver::Version, TrustedKey, UpdateBundle};
//! use std::path::Path;
//!
//! let key = TrustedKey::from_file(Path::new("/usr/lib/Airlock/update/airlock-signing.pub"))?;
//! let current = Version::parse(env!("CARGO_PKG_VERSION")).expect("a semver version");
//! let update = UpdateBundle::verify(
//!     Path::new("/media/usb/airlock-0.1.1-linux-deb-amd64.airlock-update"),
//!     &key,
//!     &current,
//!     Path::new("/var/tmp/airlock-updates"),
//! )?;
//! println!("{}: {}", update.manifest().version, update.manifest().notes);
//! update.install()?;
//! # Ok::<(), airlock_update::UpdateError>(())
//! ```

mod bundle;
mod error;
mod install;
mod key;
mod manifest;

pub use bundle::{Limits, UpdateBundle, VerifiedUpdate, VerifyOptions};
pub use error::UpdateError;
pub use install::InstallOutcome;
pub use key::{TrustedKey, KEY_DIR_VAR, KEY_FILE};
pub use manifest::{Manifest, Payload, Target, FORMAT, MANIFEST_NAME, PRODUCT, SIGNATURE_NAME};
pub use semver;

/// The file name ending of update bundles.
pub const BUNDLE_EXTENSION: &str = ".airlock-update";
