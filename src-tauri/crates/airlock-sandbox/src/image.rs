//! The sandbox image: Debian's statically linked busybox, its applet links, and a non-root
//! user 1001, assembled into a root filesystem tar and imported into the engine. No registry
//! is involved. The tar is built here from the host's busybox, or shipped ready-made in the
//! installer (`airlock sandbox export-image`). The tag is a hash of the tar, so the same image
//! has the same tag whichever way it came, and the engine imports it only once.

use std::path::Path;
use std::process::Command;

use sha2::{Digest as _, Sha256};

use crate::SandboxError;

/// The image's repository name.
pub const REPOSITORY: &str = "airlock-sandbox";

/// The largest shipped image tar accepted (busybox-static's is about 2 MiB).
const MAX_SHIPPED_TAR: u64 = 64 * 1024 * 1024;

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

/// The inputs of the image: busybox and the applets it provides.
#[derive(Debug, Clone)]
pub struct ImageRecipe {
    busybox: Vec<u8>,
    applets: Vec<String>,
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
        Ok(Self {
            busybox: bytes,
            applets,
        })
    }

    /// The image these inputs make.
    ///
    /// # Errors
    /// [`SandboxError::Image`] if the archive cannot be written (out of memory).
    pub fn image(&self) -> Result<SandboxImage, SandboxError> {
        Ok(SandboxImage::new(self.rootfs_tar()?))
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

/// A root filesystem tar ready to import, and its content-addressed tag.
#[derive(Debug, Clone)]
pub struct SandboxImage {
    tar: Vec<u8>,
    tag: String,
}

impl SandboxImage {
    fn new(tar: Vec<u8>) -> Self {
        let digest = hex::encode(Sha256::digest(&tar));
        Self {
            tag: digest[..16].to_owned(),
            tar,
        }
    }

    /// Reads a shipped image tar (written by [`SandboxImage::write_to`]) and checks that it
    /// holds a root filesystem with busybox, a shell and the sandbox user.
    ///
    /// # Errors
    /// [`SandboxError::Image`] when the file is missing, too large or not such a tar.
    pub fn from_tar_file(path: &Path) -> Result<Self, SandboxError> {
        let broken = |reason: String| {
            SandboxError::Image(format!(
                "the shipped sandbox image {} {reason}; reinstall Airlock, or remove the file to \
                 build the image from the host's busybox-static",
                path.display()
            ))
        };
        let size = std::fs::metadata(path)
            .map_err(|err| broken(format!("cannot be read ({err})")))?
            .len();
        if size > MAX_SHIPPED_TAR {
            return Err(broken(format!(
                "is {size} bytes, more than the {MAX_SHIPPED_TAR} a sandbox image may be"
            )));
        }
        let tar = std::fs::read(path).map_err(|err| broken(format!("cannot be read ({err})")))?;
        let mut needed = ["bin/busybox", "bin/sh", "etc/passwd"].map(|name| (name, false));
        let mut archive = tar::Archive::new(tar.as_slice());
        let entries = archive
            .entries()
            .map_err(|err| broken(format!("is not a tar archive ({err})")))?;
        for entry in entries {
            let entry = entry.map_err(|err| broken(format!("is a damaged tar archive ({err})")))?;
            let path = entry
                .path()
                .map_err(|err| broken(format!("has a bad entry ({err})")))?;
            for (name, found) in &mut needed {
                *found |= path.as_ref() == Path::new(name);
            }
        }
        if let Some((name, _)) = needed.iter().find(|(_, found)| !found) {
            return Err(broken(format!(
                "has no {name}: it is not an Airlock sandbox image"
            )));
        }
        Ok(Self::new(tar))
    }

    /// Writes the tar to `path`, for the installer to ship.
    ///
    /// # Errors
    /// [`SandboxError::Image`] when the file cannot be written.
    pub fn write_to(&self, path: &Path) -> Result<(), SandboxError> {
        std::fs::write(path, &self.tar)
            .map_err(|err| SandboxError::Image(format!("writing {}: {err}", path.display())))
    }

    /// `airlock-sandbox:<hash of the tar>`.
    #[must_use]
    pub fn reference(&self) -> String {
        format!("{REPOSITORY}:{}", self.tag)
    }

    /// The tag alone.
    #[must_use]
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The root filesystem tar.
    #[must_use]
    pub fn tar(&self) -> &[u8] {
        &self.tar
    }

    /// The root filesystem tar, owned (for the engine's import).
    #[must_use]
    pub fn into_tar(self) -> Vec<u8> {
        self.tar
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
        let (a, b) = (recipe().image().unwrap(), recipe().image().unwrap());
        assert_eq!(a.reference(), b.reference());
        assert_eq!(a.tag().len(), 16);
        assert_eq!(a.tar(), b.tar());
    }

    #[test]
    fn a_shipped_tar_is_the_same_image_as_one_built_here() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("airlock-sandbox.tar");
        let built = recipe().image().unwrap();
        built.write_to(&path).unwrap();
        let shipped = SandboxImage::from_tar_file(&path).unwrap();
        assert_eq!(shipped.reference(), built.reference());
        assert_eq!(shipped.tar(), built.tar());
    }

    #[test]
    fn a_damaged_or_foreign_shipped_tar_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.tar");
        std::fs::write(&garbage, b"not a tar at all, just some bytes").unwrap();
        let mut foreign = tar::Builder::new(Vec::new());
        let mut header = new_header(tar::EntryType::Regular, 0o644, 2);
        foreign
            .append_data(&mut header, "hello.txt", &b"hi"[..])
            .unwrap();
        let other = dir.path().join("other.tar");
        std::fs::write(&other, foreign.into_inner().unwrap()).unwrap();
        let missing = dir.path().join("missing.tar");
        for path in [garbage, other, missing] {
            let err = SandboxImage::from_tar_file(&path).unwrap_err().to_string();
            assert!(err.contains("reinstall Airlock"), "{err}");
        }
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
