//! The sandbox image: Debian's statically linked busybox, its applet links, and a non-root
//! user 1001, assembled into a root filesystem tar here and imported into the engine. No
//! registry is involved. The tag is a hash of the inputs, so the image is rebuilt only when
//! they change.

use std::path::Path;
use std::process::Command;

use sha2::{Digest as _, Sha256};

use crate::SandboxError;

/// The image's repository name.
pub const REPOSITORY: &str = "airlock-sandbox";

/// Bumped when the layout below changes, so the tag changes with it.
const RECIPE_VERSION: &str = "airlock-sandbox-rootfs-v1";

/// The sandbox user: not root, not in any group with privileges.
pub const SANDBOX_USER: &str = "1001:1001";

const PASSWD: &str = "root:x:0:0:root:/root:/bin/false\nsandbox:x:1001:1001:sandbox:/tmp:/bin/sh\n";
const GROUP: &str = "root:x:0:\nsandbox:x:1001:\n";

/// Directories of the root filesystem and their modes.
const DIRECTORIES: &[(&str, u32)] = &[
    ("bin", 0o755),
    ("sbin", 0o755),
    ("usr", 0o755),
    ("usr/bin", 0o755),
    ("usr/sbin", 0o755),
    ("etc", 0o755),
    ("root", 0o700),
    ("tmp", 0o1777),
    ("sim", 0o755),
    ("proc", 0o555),
    ("sys", 0o555),
    ("dev", 0o755),
];

/// The inputs of the image and its content-addressed tag.
#[derive(Debug, Clone)]
pub struct ImageRecipe {
    busybox: Vec<u8>,
    applets: Vec<String>,
    tag: String,
}

impl ImageRecipe {
    /// Reads the busybox binary at `busybox` and asks it for its applets.
    ///
    /// # Errors
    /// [`SandboxError::Image`] when the binary is missing, not runnable or lists no applets.
    pub fn from_busybox(busybox: &Path) -> Result<Self, SandboxError> {
        let missing = |reason: String| {
            SandboxError::Image(format!(
                "{} {reason}; install Debian's statically linked busybox: `apt-get install busybox-static`",
                busybox.display()
            ))
        };
        let bytes =
            std::fs::read(busybox).map_err(|err| missing(format!("cannot be read ({err})")))?;
        if !is_static_elf(&bytes) {
            return Err(missing(
                "is not a statically linked ELF executable (the image has no C library)".to_owned(),
            ));
        }
        let listed = Command::new(busybox)
            .arg("--list-full")
            .output()
            .map_err(|err| missing(format!("does not run ({err})")))?;
        let applets: Vec<String> = String::from_utf8_lossy(&listed.stdout)
            .lines()
            .map(str::trim)
            .filter(|line| is_applet_path(line))
            .map(str::to_owned)
            .collect();
        if applets.is_empty() {
            return Err(missing(
                "lists no applets (`busybox --list-full`)".to_owned(),
            ));
        }
        let mut hash = Sha256::new();
        for part in [
            RECIPE_VERSION.as_bytes(),
            &bytes,
            PASSWD.as_bytes(),
            GROUP.as_bytes(),
        ] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        for applet in &applets {
            hash.update(applet.as_bytes());
            hash.update([0]);
        }
        let digest = hex::encode(hash.finalize());
        Ok(Self {
            busybox: bytes,
            applets,
            tag: digest[..16].to_owned(),
        })
    }

    /// `airlock-sandbox:<hash of the inputs>`.
    #[must_use]
    pub fn reference(&self) -> String {
        format!("{REPOSITORY}:{}", self.tag)
    }

    /// The tag alone.
    #[must_use]
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The root filesystem as a tar archive. Deterministic: same inputs, same bytes.
    ///
    /// # Errors
    /// [`SandboxError::Image`] if the archive cannot be written (out of memory).
    pub fn rootfs_tar(&self) -> Result<Vec<u8>, SandboxError> {
        let fail =
            |err: std::io::Error| SandboxError::Image(format!("writing the rootfs tar: {err}"));
        let mut tar = tar::Builder::new(Vec::new());
        for (dir, mode) in DIRECTORIES {
            let mut header = new_header(tar::EntryType::Directory, *mode, 0);
            tar.append_data(&mut header, format!("{dir}/"), std::io::empty())
                .map_err(fail)?;
        }
        let mut header = new_header(tar::EntryType::Regular, 0o755, self.busybox.len() as u64);
        tar.append_data(&mut header, "bin/busybox", self.busybox.as_slice())
            .map_err(fail)?;
        for (path, text) in [("etc/passwd", PASSWD), ("etc/group", GROUP)] {
            let mut header = new_header(tar::EntryType::Regular, 0o644, text.len() as u64);
            tar.append_data(&mut header, path, text.as_bytes())
                .map_err(fail)?;
        }
        for applet in &self.applets {
            let path = applet.trim_start_matches('/');
            if path == "bin/busybox" {
                continue;
            }
            let mut header = new_header(tar::EntryType::Symlink, 0o777, 0);
            tar.append_link(&mut header, path, "/bin/busybox")
                .map_err(fail)?;
        }
        tar.into_inner().map_err(fail)
    }
}

/// A tar header owned by root with a zero timestamp.
fn new_header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header
}

/// An applet path busybox may link into one of the image's directories.
fn is_applet_path(line: &str) -> bool {
    let Some((dir, name)) = line.rsplit_once('/') else {
        return false;
    };
    ["bin", "sbin", "usr/bin", "usr/sbin"].contains(&dir.trim_start_matches('/'))
        && !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.[".contains(c))
}

/// An ELF executable without a program interpreter (no dynamic loader needed).
fn is_static_elf(bytes: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" || bytes[4] != 2 || bytes[5] != 1 {
        return false;
    }
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    let u64_at = |at: usize| {
        bytes
            .get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    };
    let Some(phoff) = u64_at(32).and_then(|v| usize::try_from(v).ok()) else {
        return false;
    };
    let entry_size = usize::from(u16_at(54));
    let entries = usize::from(u16_at(56));
    (0..entries).all(|i| {
        let at = phoff + i * entry_size;
        bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .is_some_and(|kind| kind != PT_INTERP)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipe() -> ImageRecipe {
        ImageRecipe::from_busybox(Path::new("/bin/busybox")).expect("busybox-static is installed")
    }

    #[test]
    fn the_tag_is_stable_and_the_tar_is_deterministic() {
        let (a, b) = (recipe(), recipe());
        assert_eq!(a.reference(), b.reference());
        assert_eq!(a.tag().len(), 16);
        assert_eq!(a.rootfs_tar().unwrap(), b.rootfs_tar().unwrap());
    }

    #[test]
    fn the_rootfs_has_busybox_its_applets_and_a_non_root_user() {
        let tar = recipe().rootfs_tar().unwrap();
        let mut archive = tar::Archive::new(tar.as_slice());
        let mut names = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            if path == "bin/cat" {
                assert_eq!(
                    entry.link_name().unwrap().unwrap().to_str(),
                    Some("/bin/busybox")
                );
            }
            if path == "tmp/" {
                assert_eq!(entry.header().mode().unwrap(), 0o1777);
            }
            names.push(path);
        }
        for needed in [
            "bin/busybox",
            "bin/sh",
            "bin/cat",
            "etc/passwd",
            "sim/",
            "tmp/",
        ] {
            assert!(names.iter().any(|n| n == needed), "{needed} missing");
        }
        assert!(PASSWD.contains("sandbox:x:1001:1001"));
    }

    #[test]
    fn a_dynamically_linked_or_missing_binary_is_refused_with_the_fix() {
        for path in ["/bin/ls", "/nonexistent/busybox"] {
            let err = ImageRecipe::from_busybox(Path::new(path))
                .unwrap_err()
                .to_string();
            assert!(err.contains("apt-get install busybox-static"), "{err}");
        }
    }

    #[test]
    fn applet_paths_stay_in_the_image_directories() {
        assert!(is_applet_path("/usr/bin/awk"));
        assert!(is_applet_path("/bin/["));
        assert!(!is_applet_path("/etc/passwd"));
        assert!(!is_applet_path("../../bin/x"));
        assert!(!is_applet_path("/bin/a b"));
    }
}
