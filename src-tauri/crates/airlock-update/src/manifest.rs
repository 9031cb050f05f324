//! `update.json`: what a bundle carries, for which installation, signed as a whole.

use std::fmt;
use std::str::FromStr;

use semver::Version;
use serde::{Deserialize, Serialize};

use crate::UpdateError;

/// The manifest format this Airlock reads.
pub const FORMAT: u32 = 1;
/// The product every Airlock update names.
pub const PRODUCT: &str = "airlock";
/// The bundle's manifest entry.
pub const MANIFEST_NAME: &str = "update.json";
/// The minisign signature over the manifest's exact bytes.
pub const SIGNATURE_NAME: &str = "update.json.minisig";

/// What kind of installation an update is for: platform, architecture and package format.
/// New kinds (`linux-appimage-amd64`, …) are new variants with their own installer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Target {
    /// Debian package for x86-64 Linux, installed with dpkg.
    #[serde(rename = "linux-deb-amd64")]
    LinuxDebAmd64,
}

impl Target {
    /// Every target this Airlock knows.
    pub const ALL: &'static [Target] = &[Target::LinuxDebAmd64];

    /// The name in `update.json` and in bundle file names.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Target::LinuxDebAmd64 => "linux-deb-amd64",
        }
    }

    /// The payload's file name ending.
    #[must_use]
    pub fn payload_extension(self) -> &'static str {
        match self {
            Target::LinuxDebAmd64 => ".deb",
        }
    }

    /// The target of the Airlock running here, if this platform has one: the .deb on x86-64
    /// Linux (the package that ships the command line and the update key).
    #[must_use]
    pub fn this_platform() -> Option<Target> {
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            Some(Target::LinuxDebAmd64)
        } else {
            None
        }
    }

    /// `os-arch` of this build, for messages.
    #[must_use]
    pub fn platform_name() -> String {
        format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH)
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::ALL
            .iter()
            .copied()
            .find(|target| target.as_str() == s)
            .ok_or_else(|| format!("unknown target '{s}'"))
    }
}

/// The package a bundle carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payload {
    /// Its file name in the bundle (a plain name, e.g. `Airlock_0.1.1_amd64.deb`).
    pub name: String,
    /// SHA-256 of its bytes, lower-case hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

/// A verified `update.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: u32,
    /// [`PRODUCT`].
    pub product: String,
    /// The version the bundle installs.
    pub version: Version,
    /// The installation kind it is for.
    pub target: Target,
    /// Release notes, shown before installing.
    pub notes: String,
    /// When the bundle was made (RFC 3339).
    pub created: String,
    /// The package.
    pub payload: Payload,
}

/// The manifest as written, before its fields are checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    /// Checked on the JSON value, before the other fields.
    #[serde(rename = "format")]
    _format: u64,
    product: String,
    version: String,
    target: String,
    notes: String,
    created: String,
    payload: Payload,
}

/// What a bundle must be to install here.
#[derive(Clone, Debug)]
pub(crate) struct Expected<'a> {
    pub target: Target,
    pub current: &'a Version,
    pub max_payload: u64,
}

impl Manifest {
    /// Parses and checks signed manifest bytes: format, product, target, a strictly newer
    /// version, a plain payload name with the target's ending, a SHA-256, a size within the
    /// cap, an RFC 3339 date. Only call this on bytes whose signature verified.
    pub(crate) fn parse_verified(
        bytes: &[u8],
        expected: &Expected<'_>,
    ) -> Result<Self, UpdateError> {
        let invalid = |reason: String| UpdateError::Manifest { reason };
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|err| invalid(format!("not JSON: {err}")))?;
        // The format first, so that a newer format is named as such rather than as bad fields.
        match value.get("format").and_then(serde_json::Value::as_u64) {
            Some(found) if found != u64::from(FORMAT) => {
                return Err(UpdateError::UnsupportedFormat {
                    found,
                    supported: FORMAT,
                })
            }
            _ => {}
        }
        let raw: RawManifest =
            serde_json::from_value(value).map_err(|err| invalid(err.to_string()))?;
        if raw.product != PRODUCT {
            return Err(UpdateError::WrongProduct { found: raw.product });
        }
        let target = match raw.target.parse::<Target>() {
            Ok(target) if target == expected.target => target,
            _ => {
                return Err(UpdateError::WrongTarget {
                    found: raw.target,
                    expected: expected.target.to_string(),
                })
            }
        };
        let version = Version::parse(&raw.version)
            .map_err(|err| invalid(format!("version '{}': {err}", raw.version)))?;
        if version <= *expected.current {
            return Err(UpdateError::NotNewer {
                offered: version,
                current: expected.current.clone(),
            });
        }
        check_payload(&raw.payload, target, expected.max_payload).map_err(invalid)?;
        time::OffsetDateTime::parse(&raw.created, &time::format_description::well_known::Rfc3339)
            .map_err(|err| invalid(format!("created '{}' is not RFC 3339: {err}", raw.created)))?;
        Ok(Manifest {
            format: FORMAT,
            product: raw.product,
            version,
            target,
            notes: raw.notes,
            created: raw.created,
            payload: raw.payload,
        })
    }
}

fn check_payload(payload: &Payload, target: Target, max_size: u64) -> Result<(), String> {
    if !is_plain_name(&payload.name)
        || payload.name == MANIFEST_NAME
        || payload.name == SIGNATURE_NAME
    {
        return Err(format!(
            "payload name '{}' is not a plain file name",
            payload.name
        ));
    }
    if !payload.name.ends_with(target.payload_extension()) {
        return Err(format!(
            "payload '{}' is not a {} file, as {target} needs",
            payload.name,
            target.payload_extension()
        ));
    }
    if payload.sha256.len() != 64
        || !payload
            .sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err("payload sha256 is not 64 lower-case hex digits".into());
    }
    if payload.size > max_size {
        return Err(format!(
            "payload size {} is over the {max_size} bytes allowed",
            payload.size
        ));
    }
    Ok(())
}

/// A name that can only mean one file in one directory: printable ASCII without `/` or `\`,
/// not hidden, not `.`/`..`, at most 100 bytes (a ustar name).
pub(crate) fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(version: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let mut value = serde_json::json!({
            "format": 1, "product": "airlock", "version": version, "target": "linux-deb-amd64",
            "notes": "fixes", "created": "2026-01-02T03:04:05Z",
            "payload": {"name": "Airlock_0.2.0_amd64.deb", "sha256": "ab".repeat(32), "size": 10}
        });
        edit(&mut value);
        serde_json::to_vec(&value).unwrap()
    }

    fn parse(bytes: &[u8]) -> Result<Manifest, UpdateError> {
        let current = Version::new(0, 1, 0);
        Manifest::parse_verified(
            bytes,
            &Expected {
                target: Target::LinuxDebAmd64,
                current: &current,
                max_payload: 1000,
            },
        )
    }

    #[test]
    fn a_good_manifest_parses() {
        let m = parse(&manifest("0.2.0", |_| {})).unwrap();
        assert_eq!(m.version, Version::new(0, 2, 0));
        assert_eq!(m.target, Target::LinuxDebAmd64);
        assert_eq!(m.payload.size, 10);
        assert_eq!(
            serde_json::to_value(&m).unwrap()["target"],
            "linux-deb-amd64"
        );
    }

    #[test]
    fn each_bad_field_is_refused_with_its_own_error() {
        type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
        let cases: Vec<(&str, Edit)> = vec![
            ("format 2", Box::new(|v| v["format"] = 2.into())),
            ("product", Box::new(|v| v["product"] = "other".into())),
            (
                "target",
                Box::new(|v| v["target"] = "linux-appimage-amd64".into()),
            ),
            ("version", Box::new(|v| v["version"] = "1.0".into())),
            (
                "name",
                Box::new(|v| v["payload"]["name"] = "../x.deb".into()),
            ),
            (
                "hidden",
                Box::new(|v| v["payload"]["name"] = ".x.deb".into()),
            ),
            (
                "ending",
                Box::new(|v| v["payload"]["name"] = "x.rpm".into()),
            ),
            (
                "sha",
                Box::new(|v| v["payload"]["sha256"] = "AB".repeat(32).into()),
            ),
            ("size", Box::new(|v| v["payload"]["size"] = 1001.into())),
            ("created", Box::new(|v| v["created"] = "yesterday".into())),
            (
                "extra",
                Box::new(|v| v["install_script"] = "rm -rf /".into()),
            ),
            (
                "missing",
                Box::new(|v| drop(v.as_object_mut().unwrap().remove("notes"))),
            ),
        ];
        for (what, edit) in cases {
            let err = parse(&manifest("0.2.0", edit)).unwrap_err();
            let expected = match what {
                "format 2" => matches!(err, UpdateError::UnsupportedFormat { found: 2, .. }),
                "product" => matches!(err, UpdateError::WrongProduct { .. }),
                "target" => matches!(err, UpdateError::WrongTarget { .. }),
                _ => matches!(err, UpdateError::Manifest { .. }),
            };
            assert!(expected, "{what}: {err}");
        }
    }

    #[test]
    fn only_a_strictly_newer_version_is_accepted() {
        for older in ["0.1.0", "0.0.9", "0.1.0-rc.1"] {
            let err = parse(&manifest(older, |_| {})).unwrap_err();
            let message = err.to_string();
            assert!(matches!(err, UpdateError::NotNewer { .. }), "{message}");
            assert!(
                message.contains(older) && message.contains("0.1.0"),
                "{message}"
            );
        }
        assert!(parse(&manifest("0.1.1-rc.1", |_| {})).is_ok());
    }
}
