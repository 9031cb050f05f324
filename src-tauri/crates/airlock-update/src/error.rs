//! Why an update bundle was refused or could not be installed, each with the next step.

use std::path::PathBuf;

/// Everything that can stop an update. Every message ends with what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// The trusted public key could not be read or is not a minisign public key.
    #[error(
        "the update key {path} cannot be used ({reason}): it must be the minisign public key \
         file airlock-signing.pub (two lines, `untrusted comment: minisign public key …` and \
         `RW…`) or its one-line base64 form; reinstall Airlock to restore it"
    )]
    Key {
        /// Where the key was read from (`<text>` for a key given as text).
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// No update key is installed (a development build), or `AIRLOCK_UPDATE_KEY_DIR` names a
    /// directory without one.
    #[error(
        "no update key at {path}: updates apply only to an installed Airlock (the .deb ships \
         /usr/lib/Airlock/update/airlock-signing.pub); if AIRLOCK_UPDATE_KEY_DIR is set, point it \
         at the directory of the release's public key, or unset it"
    )]
    NoKey {
        /// Where the key was looked for.
        path: PathBuf,
    },
    /// The bundle file could not be opened or read.
    #[error(
        "cannot read the update bundle {path}: {source}; check the path and copy the file again"
    )]
    Read {
        /// The bundle.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a well-formed uncompressed tar.
    #[error(
        "{path} is not an Airlock update bundle ({reason}): use the .airlock-update file made by \
         installers/make-update, copied whole (not unpacked, not compressed)"
    )]
    NotABundle {
        /// The bundle.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An entry that is not one of the three files, or not a plain regular file.
    #[error(
        "the update bundle holds '{name}', which is not allowed ({reason}): a bundle holds \
         exactly update.json, update.json.minisig and the package it names, as regular files; \
         this one was changed or is not an Airlock update, so get it again from your publisher"
    )]
    UnexpectedEntry {
        /// The entry's name, lossily decoded.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// One of the three files is missing.
    #[error(
        "the update bundle has no {name}: it is incomplete or not an Airlock update; copy it \
         again from your publisher"
    )]
    MissingEntry {
        /// The missing file.
        name: String,
    },
    /// An entry is bigger than its cap.
    #[error(
        "'{name}' in the update bundle is {size} bytes, more than the {limit} allowed: the bundle \
         is damaged or not an Airlock update; get it again from your publisher"
    )]
    TooLarge {
        /// The entry.
        name: String,
        /// Its declared size.
        size: u64,
        /// The cap.
        limit: u64,
    },
    /// The signature over update.json does not verify with the trusted key.
    #[error(
        "update.json is not signed by this Airlock's update key ({reason}): the bundle was \
         changed or signed by someone else; do not install it, and get it again from your \
         publisher"
    )]
    BadSignature {
        /// What minisign verification said.
        reason: String,
    },
    /// update.json is signed but not a valid manifest.
    #[error(
        "update.json is signed but not a valid update manifest ({reason}): this Airlock cannot \
         read it; ask your publisher for a bundle made by installers/make-update"
    )]
    Manifest {
        /// What is wrong with it.
        reason: String,
    },
    /// A manifest format this Airlock does not know.
    #[error(
        "the bundle uses update format {found}, and this Airlock reads format {supported} only: \
         ask your publisher for a bundle in format {supported}, or install the intermediate \
         release first"
    )]
    UnsupportedFormat {
        /// The bundle's format.
        found: u64,
        /// The format this Airlock reads.
        supported: u32,
    },
    /// Not an Airlock update.
    #[error("the bundle is an update of '{found}', not of airlock: it does not belong here")]
    WrongProduct {
        /// The bundle's product.
        found: String,
    },
    /// An update for another platform or package kind.
    #[error(
        "the bundle is for {found}, and this Airlock is {expected}: ask your publisher for the \
         {expected} bundle"
    )]
    WrongTarget {
        /// The bundle's target.
        found: String,
        /// This installation's target.
        expected: String,
    },
    /// This platform has no update target yet.
    #[error(
        "offline updates are not available on this platform ({platform}): install the new \
         release with the platform's installer"
    )]
    UnsupportedPlatform {
        /// `os-arch`.
        platform: String,
    },
    /// Same or older version: downgrades and re-installs are refused.
    #[error(
        "the bundle holds Airlock {offered}, which is not newer than the installed Airlock \
         {current}: nothing to update (an older or the same version is never installed this \
         way; use the package manager to downgrade deliberately)"
    )]
    NotNewer {
        /// The bundle's version.
        offered: semver::Version,
        /// The running version.
        current: semver::Version,
    },
    /// The payload's size or SHA-256 differs from the signed manifest.
    #[error(
        "the package {name} in the bundle does not match the signed update.json ({reason}): it \
         was changed or damaged in transit; copy the bundle again and retry"
    )]
    PayloadMismatch {
        /// The payload's name.
        name: String,
        /// Which check failed.
        reason: String,
    },
    /// The staging directory could not be used.
    #[error(
        "cannot stage the package in {dir}: {source}; free some space or fix that directory's \
         permissions and retry"
    )]
    Staging {
        /// The staging directory.
        dir: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The staged package changed between verification and installation.
    #[error(
        "the staged package {path} changed after it was verified ({reason}): something else is \
         writing to the staging directory; nothing was installed, verify the bundle again"
    )]
    StagedPayloadChanged {
        /// The staged payload.
        path: PathBuf,
        /// What differs.
        reason: String,
    },
    /// The package in the bundle cannot be read as one.
    #[error(
        "the package in the bundle cannot be read ({reason}): nothing was installed; ask your \
         publisher for a new bundle"
    )]
    BadPackage {
        /// What the package tool said.
        reason: String,
    },
    /// The package inside is not the Airlock package of the announced version.
    #[error(
        "the package in the bundle says {field} '{found}', but an Airlock {expected_version} \
         update must carry package '{expected_package}' version {expected_version}: the \
         bundle was made wrongly; nothing was installed, ask your publisher for a new bundle"
    )]
    PackageMismatch {
        /// The control field that differs (`Package` or `Version`).
        field: &'static str,
        /// Its value in the package.
        found: String,
        /// The package name expected.
        expected_package: &'static str,
        /// The manifest's version.
        expected_version: String,
    },
    /// A tool the installation needs is missing.
    #[error("{tool} is not installed, so the update cannot be applied: {hint}")]
    ToolMissing {
        /// The program.
        tool: &'static str,
        /// What to do.
        hint: &'static str,
    },
    /// Running a program failed.
    #[error("could not run `{command}`: {source}; check that it is installed and executable")]
    Spawn {
        /// The command line.
        command: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The administrator did not authorise the installation.
    #[error(
        "the installation was not authorised (pkexec: {output}): sign in as an administrator \
         when asked, or run `sudo airlock update apply FILE`; nothing was installed"
    )]
    NotAuthorized {
        /// pkexec's message.
        output: String,
    },
    /// The installer ran and failed.
    #[error(
        "`{command}` failed ({status}): {output}\nfix what it reports (e.g. `apt-get -f install` \
         for missing dependencies, from your offline mirror) and apply the bundle again"
    )]
    InstallFailed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// Its output (stdout and stderr, trimmed).
        output: String,
    },
}
