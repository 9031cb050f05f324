//! Real signed bundles for the tests: a minisign key pair made per test (the `minisign`
//! crate, the format of the minisign CLI and Tauri's signer), tars written header by header so
//! that hostile entries (`../x`, links, lying sizes) can be made too.

#![allow(dead_code)] // each test file uses its own part

use std::path::{Path, PathBuf};

use airlock_update::TrustedKey;
use minisign::KeyPair;
use sha2::{Digest, Sha256};

pub const PAYLOAD_NAME: &str = "Airlock_0.2.0_amd64.deb";

/// A signing key pair.
pub struct Signer {
    keys: KeyPair,
}

impl Signer {
    pub fn new() -> Self {
        Self {
            keys: KeyPair::generate_unencrypted_keypair().unwrap(),
        }
    }

    /// The public key as the installed `airlock-signing.pub` holds it.
    pub fn pub_file_text(&self) -> String {
        self.keys.pk.to_box().unwrap().into_string()
    }

    pub fn trusted_key(&self) -> TrustedKey {
        TrustedKey::from_minisign_text(&self.pub_file_text()).unwrap()
    }

    /// A `.minisig` over `data`, as `minisign -S -t COMMENT` writes it.
    pub fn sign(&self, data: &[u8], trusted_comment: &str) -> Vec<u8> {
        minisign::sign(
            Some(&self.keys.pk),
            &self.keys.sk,
            data,
            Some(trusted_comment),
            None,
        )
        .unwrap()
        .into_string()
        .into_bytes()
    }
}

/// A manifest for `payload`, as make-update writes it; `edit` changes it before it is signed.
pub fn manifest(
    version: &str,
    payload: &[u8],
    edit: impl FnOnce(&mut serde_json::Value),
) -> Vec<u8> {
    let mut value = serde_json::json!({
        "format": 1,
        "product": "airlock",
        "version": version,
        "target": "linux-deb-amd64",
        "notes": "Fixes the label printer restart.",
        "created": "2026-03-01T12:00:00Z",
        "payload": {
            "name": PAYLOAD_NAME,
            "sha256": hex::encode(Sha256::digest(payload)),
            "size": payload.len(),
        }
    });
    edit(&mut value);
    serde_json::to_vec_pretty(&value).unwrap()
}

/// Bytes that stand for a package (random, so no two tests share one).
pub fn payload_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    getrandom_fill(&mut bytes);
    bytes
}

fn getrandom_fill(bytes: &mut [u8]) {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(bytes)
        .unwrap();
}

/// One tar member, written as given.
#[derive(Clone, Debug)]
pub struct Member {
    pub name: Vec<u8>,
    pub kind: u8,
    pub data: Vec<u8>,
    /// The size the header declares, when it is to differ from the data's.
    pub declared_size: Option<u64>,
    pub link: Vec<u8>,
}

impl Member {
    pub fn file(name: &str, data: &[u8]) -> Self {
        Self {
            name: name.as_bytes().to_vec(),
            kind: b'0',
            data: data.to_vec(),
            declared_size: None,
            link: Vec::new(),
        }
    }

    pub fn kind(mut self, kind: u8) -> Self {
        self.kind = kind;
        self
    }

    pub fn link_to(mut self, target: &str) -> Self {
        self.link = target.as_bytes().to_vec();
        self
    }

    pub fn declaring(mut self, size: u64) -> Self {
        self.declared_size = Some(size);
        self
    }
}

/// The three files of a good bundle, in the order manifest, signature, payload.
pub fn good_members(signer: &Signer, version: &str, payload: &[u8]) -> Vec<Member> {
    let manifest = manifest(version, payload, |_| {});
    members_for(signer, &manifest, payload)
}

pub fn members_for(signer: &Signer, manifest: &[u8], payload: &[u8]) -> Vec<Member> {
    let signature = signer.sign(manifest, "Airlock 0.2.0 update signed 2026-03-01T12:00:00Z");
    vec![
        Member::file("update.json", manifest),
        Member::file("update.json.minisig", &signature),
        Member::file(PAYLOAD_NAME, payload),
    ]
}

/// Writes a ustar archive of `members`; returns where each member's data starts in the file.
pub fn write_tar(path: &Path, members: &[Member]) -> Vec<u64> {
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for member in members {
        let mut header = [0u8; 512];
        header[..member.name.len()].copy_from_slice(&member.name);
        put_octal(&mut header[100..108], 0o644);
        put_octal(&mut header[108..116], 0);
        put_octal(&mut header[116..124], 0);
        let size = member.declared_size.unwrap_or(member.data.len() as u64);
        put_octal(&mut header[124..136], size);
        put_octal(&mut header[136..148], 1_772_366_400);
        header[156] = member.kind;
        header[157..157 + member.link.len()].copy_from_slice(&member.link);
        header[257..263].copy_from_slice(b"ustar\0");
        header[263..265].copy_from_slice(b"00");
        header[148..156].fill(b' ');
        let checksum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        put_octal(&mut header[148..155], u64::from(checksum));
        header[155] = b' ';
        out.extend_from_slice(&header);
        offsets.push(out.len() as u64);
        out.extend_from_slice(&member.data);
        out.resize(out.len().next_multiple_of(512), 0);
    }
    out.resize(out.len() + 1024, 0);
    std::fs::write(path, out).unwrap();
    offsets
}

fn put_octal(field: &mut [u8], value: u64) {
    let text = format!("{value:0width$o}\0", width = field.len() - 1);
    field.copy_from_slice(text.as_bytes());
}

/// XORs one byte of a file.
pub fn flip_byte(path: &Path, offset: u64) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = usize::try_from(offset).unwrap();
    bytes[at] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

/// A scratch directory with a bundle path and a staging directory.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn bundle(&self) -> PathBuf {
        self.dir
            .path()
            .join("airlock-0.2.0-linux-deb-amd64.airlock-update")
    }

    pub fn staging(&self) -> PathBuf {
        self.dir.path().join("staging")
    }

    /// What the staging directory holds (nothing when it does not exist).
    pub fn staged_files(&self) -> Vec<PathBuf> {
        match std::fs::read_dir(self.staging()) {
            Ok(entries) => entries.map(|entry| entry.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }
}
