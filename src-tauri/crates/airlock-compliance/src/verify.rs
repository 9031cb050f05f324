//! Verifying a package offline: nothing but the package directory is read (no store, no
//! keychain, no network).
//!
//! In order: `manifest.json` is parsed and its signature in `manifest.sig` checked against the
//! public key it names; every listed file's size and SHA-256; no file that is not listed
//! (besides the manifest and its signature); every audit row's hash recomputed and each row's
//! link to the one before it (the first row's `prev_hash` must be the manifest's anchor); each
//! checkpoint's signature and key, and that it signed the hash of the package's row of its
//! `seq`. Every problem found is listed (up to [`MAX_LISTED_PROBLEMS`]), not only the first.
//!
//! The package's key is its root of trust: whoever rewrites a package can sign it again with a
//! key of their own. Compare [`VerifyReport::key_fingerprint`] with the installation's (the
//! checkpoints, signed by the installation when the rows were written, must carry the same key).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use airlock_store::{audit_checkpoint_message, AuditRow};
use ed25519_dalek::{Signature, VerifyingKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::manifest::{
    fingerprint, AuditRange, FileEntry, Manifest, AUDIT_FILE, CHAIN_FILE, CHECKPOINTS_FILE, FORMAT,
    MANIFEST_FILE, REQUIRED_FILES, SIGNATURE_FILE,
};
use crate::records::{AuditLine, CheckpointEntry, LiveChain};
use crate::Period;

/// At most this many problems are listed; the rest are counted.
pub const MAX_LISTED_PROBLEMS: usize = 50;

/// The longest JSON file or audit line read (a larger one is a problem, not an allocation).
const MAX_JSON_BYTES: u64 = 256 * 1024 * 1024;
const MAX_LINE_BYTES: u64 = 16 * 1024 * 1024;
/// How deep the unlisted-file search descends.
const MAX_DEPTH: usize = 8;

/// Something wrong with a package, in the file where it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageProblem {
    /// The file (relative to the package), or the package directory itself.
    pub file: String,
    /// What is wrong and what it means.
    pub message: String,
}

impl fmt::Display for PackageProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// The outcome of [`verify_package`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Whether everything held.
    pub ok: bool,
    /// The manifest's format.
    pub format: Option<String>,
    /// The Airlock version that wrote the package.
    pub airlock_version: Option<String>,
    /// The period it covers.
    pub period: Option<Period>,
    /// When it was written.
    pub created_at: Option<String>,
    /// The public key the manifest names (hex).
    pub public_key: Option<String>,
    /// Its fingerprint ([`crate::fingerprint`]).
    pub key_fingerprint: Option<String>,
    /// Whether `manifest.sig` verifies with that key.
    pub signature_valid: bool,
    /// Listed files whose size and SHA-256 matched.
    pub files_matching: usize,
    /// The audit rows the manifest lists.
    pub audit: AuditRange,
    /// Audit rows whose hash recomputed and whose link held.
    pub audit_rows_intact: u64,
    /// Checkpoints whose key and signature verified.
    pub checkpoints_verified: u64,
    /// The newest row of the package a verified checkpoint signed.
    pub last_signed_seq: Option<i64>,
    /// A verified checkpoint of a row after the period (the rows between are not in the package).
    pub checkpoint_after_period: Option<i64>,
    /// The live chain's verification recorded when the package was written.
    pub live_chain: Option<LiveChain>,
    /// What is wrong, in the order found (at most [`MAX_LISTED_PROBLEMS`]).
    pub problems: Vec<PackageProblem>,
    /// Problems found beyond those listed.
    pub problems_not_listed: usize,
}

impl VerifyReport {
    /// Whether the package was signed with `key`.
    #[must_use]
    pub fn signed_by(&self, key: &VerifyingKey) -> bool {
        self.public_key.as_deref() == Some(hex::encode(key.as_bytes()).as_str())
    }

    fn problem(&mut self, file: &str, message: impl Into<String>) {
        if self.problems.len() < MAX_LISTED_PROBLEMS {
            self.problems.push(PackageProblem {
                file: file.to_owned(),
                message: message.into(),
            });
        } else {
            self.problems_not_listed += 1;
        }
    }
}

/// Verifies the package in `dir` (see the [module docs](self)). A package that does not hold is
/// a report with problems, never an error.
#[must_use]
pub fn verify_package(dir: &Path) -> VerifyReport {
    let mut report = VerifyReport::default();
    if let Some(manifest) = manifest(dir, &mut report) {
        let listed = files(dir, &manifest, &mut report);
        unlisted(dir, Path::new(""), 0, &listed, &mut report);
        if listed.contains(AUDIT_FILE) && listed.contains(CHECKPOINTS_FILE) {
            audit(dir, &manifest, &mut report);
        }
        if listed.contains(CHAIN_FILE) {
            match read_json::<LiveChain>(&dir.join(CHAIN_FILE)) {
                Ok(live) => report.live_chain = Some(live),
                Err(err) => report.problem(CHAIN_FILE, err),
            }
        }
    }
    report.ok = report.problems.is_empty() && report.problems_not_listed == 0;
    report
}

/// Reads at most `limit` bytes of `path`; more is an error.
fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => {
            "missing: the package is incomplete; ask for a complete copy".to_owned()
        }
        _ => format!("cannot be read ({err})"),
    })?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| format!("cannot be read ({err})"))?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "is larger than {limit} bytes: not a file Airlock wrote"
        ));
    }
    Ok(bytes)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let bytes = read_capped(path, MAX_JSON_BYTES)?;
    serde_json::from_slice(&bytes).map_err(|err| {
        format!("not the JSON Airlock writes ({err}): the file was damaged or replaced")
    })
}

/// The manifest, once its signature is checked (a bad signature is a problem, not the end).
fn manifest(dir: &Path, report: &mut VerifyReport) -> Option<Manifest> {
    if !dir.is_dir() {
        report.problem(
            &dir.display().to_string(),
            "not a directory: give the directory `airlock compliance evidence` wrote",
        );
        return None;
    }
    let bytes = match read_capped(&dir.join(MANIFEST_FILE), MAX_JSON_BYTES) {
        Ok(bytes) => bytes,
        Err(err) => {
            report.problem(MANIFEST_FILE, err);
            return None;
        }
    };
    let manifest: Manifest = match serde_json::from_slice(&bytes) {
        Ok(manifest) => manifest,
        Err(err) => {
            report.problem(
                MANIFEST_FILE,
                format!(
                    "not an evidence manifest ({err}): the package is damaged, or this is not \
                     an Airlock evidence package"
                ),
            );
            return None;
        }
    };
    report.format = Some(manifest.format.clone());
    report.airlock_version = Some(manifest.airlock_version.clone());
    report.period = Some(manifest.period.clone());
    report.created_at = Some(manifest.created_at.clone());
    report.public_key = Some(manifest.public_key.clone());
    report.audit = manifest.audit.clone();
    if manifest.format != FORMAT {
        report.problem(
            MANIFEST_FILE,
            format!(
                "format `{}` is not one this Airlock reads ({FORMAT}): verify it with Airlock {} \
                 or newer",
                manifest.format, manifest.airlock_version
            ),
        );
        return None;
    }
    let Some(key) = parse_key(&manifest.public_key) else {
        report.problem(
            MANIFEST_FILE,
            "public_key is not an Ed25519 public key (64 hex digits): the manifest was damaged",
        );
        return Some(manifest);
    };
    report.key_fingerprint = Some(fingerprint(&key));
    let signature = read_capped(&dir.join(SIGNATURE_FILE), 1024).and_then(|bytes| {
        parse_signature(String::from_utf8_lossy(&bytes).trim())
            .ok_or_else(|| "not an Ed25519 signature (128 hex digits)".to_owned())
    });
    match signature {
        Ok(signature) => {
            if key.verify_strict(&bytes, &signature).is_ok() {
                report.signature_valid = true;
            } else {
                report.problem(
                    SIGNATURE_FILE,
                    "the signature does not verify with the package's public key: \
                     manifest.json was changed after it was signed, or the signature was made \
                     with another key",
                );
            }
        }
        Err(err) => report.problem(SIGNATURE_FILE, err),
    }
    Some(manifest)
}

fn parse_key(text: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(text).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

fn parse_signature(text: &str) -> Option<Signature> {
    let bytes: [u8; 64] = hex::decode(text).ok()?.try_into().ok()?;
    Some(Signature::from_bytes(&bytes))
}

fn parse_hash(text: &str) -> Option<[u8; 32]> {
    hex::decode(text).ok()?.try_into().ok()
}

/// A manifest path as a path inside the package, or `None` when it could point outside it.
fn inside(dir: &Path, relative: &str) -> Option<PathBuf> {
    let mut path = dir.to_owned();
    for part in relative.split('/') {
        if part.is_empty() || part == "." || part == ".." || part.contains('\\') {
            return None;
        }
        path.push(part);
    }
    Some(path)
}

/// Checks every listed file; returns the paths listed.
fn files(dir: &Path, manifest: &Manifest, report: &mut VerifyReport) -> BTreeSet<String> {
    let mut listed = BTreeSet::new();
    for entry in &manifest.files {
        if entry.path == MANIFEST_FILE || entry.path == SIGNATURE_FILE {
            report.problem(
                &entry.path,
                "listed in the manifest, which cannot vouch for itself: the manifest was forged",
            );
            continue;
        }
        if !listed.insert(entry.path.clone()) {
            report.problem(
                &entry.path,
                "listed twice in the manifest: the manifest was forged",
            );
            continue;
        }
        let Some(path) = inside(dir, &entry.path) else {
            report.problem(
                &entry.path,
                "a path that leaves the package: the manifest was forged; it was not read",
            );
            continue;
        };
        match check_file(&path, entry) {
            Ok(()) => report.files_matching += 1,
            Err(message) => report.problem(&entry.path, message),
        }
    }
    for required in REQUIRED_FILES {
        if !listed.contains(required) {
            report.problem(
                required,
                "not listed in the manifest: the package is incomplete; ask for a complete copy",
            );
        }
    }
    listed
}

fn check_file(path: &Path, entry: &FileEntry) -> Result<(), String> {
    let meta = std::fs::symlink_metadata(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => {
            "listed in the manifest but missing: the file was deleted after the package was \
             signed"
                .to_owned()
        }
        _ => format!("cannot be read ({err})"),
    })?;
    if !meta.is_file() {
        return Err("not a regular file (a link or a directory): the package was altered".into());
    }
    let mut file = std::fs::File::open(path).map_err(|err| format!("cannot be read ({err})"))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|err| format!("cannot be read ({err})"))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    if size != entry.size {
        return Err(format!(
            "size differs from the manifest ({size} bytes, {} signed): the file was modified \
             after the package was signed",
            entry.size
        ));
    }
    if hex::encode(hasher.finalize()) != entry.sha256 {
        return Err(
            "SHA-256 differs from the manifest: the file was modified after the package was \
             signed"
                .to_owned(),
        );
    }
    Ok(())
}

/// Reports every file under `dir/relative` that the manifest does not list.
fn unlisted(
    dir: &Path,
    relative: &Path,
    depth: usize,
    listed: &BTreeSet<String>,
    report: &mut VerifyReport,
) {
    let Ok(entries) = std::fs::read_dir(dir.join(relative)) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let child = relative.join(entry.file_name());
        let name = child
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
        if is_dir && depth < MAX_DEPTH {
            unlisted(dir, &child, depth + 1, listed, report);
        } else if name != MANIFEST_FILE && name != SIGNATURE_FILE && !listed.contains(&name) {
            report.problem(
                &name,
                "not listed in the manifest: it was added after the package was signed",
            );
        }
    }
}

/// A checkpoint from `checkpoints.json`, decoded and checked on its own.
struct Checkpoint {
    hash: Option<[u8; 32]>,
    /// Whether its key is the package's and its signature verifies.
    valid: bool,
}

fn checkpoints(
    dir: &Path,
    manifest: &Manifest,
    report: &mut VerifyReport,
) -> BTreeMap<i64, Checkpoint> {
    let entries = match read_json::<Vec<CheckpointEntry>>(&dir.join(CHECKPOINTS_FILE)) {
        Ok(entries) => entries,
        Err(err) => {
            report.problem(CHECKPOINTS_FILE, err);
            return BTreeMap::new();
        }
    };
    let mut found = BTreeMap::new();
    for entry in entries {
        let seq = entry.seq;
        let hash = parse_hash(&entry.hash);
        let key = parse_key(&entry.public_key);
        let signature = parse_signature(&entry.signature);
        let valid = match (hash, key, signature) {
            (Some(hash), Some(key), Some(signature)) => {
                if entry.public_key != manifest.public_key {
                    report.problem(
                        CHECKPOINTS_FILE,
                        format!(
                            "the checkpoint of row {seq} was signed by key {}, not by the \
                             package's key {}: the package was signed again with another key \
                             after the fact, or the checkpoint is forged",
                            fingerprint(&key),
                            parse_key(&manifest.public_key)
                                .map_or_else(|| "(invalid)".to_owned(), |k| fingerprint(&k))
                        ),
                    );
                    false
                } else if key
                    .verify_strict(&audit_checkpoint_message(seq, &hash), &signature)
                    .is_err()
                {
                    report.problem(
                        CHECKPOINTS_FILE,
                        format!(
                            "the signature of the checkpoint of row {seq} does not verify: it \
                             was altered or forged"
                        ),
                    );
                    false
                } else {
                    true
                }
            }
            _ => {
                report.problem(
                    CHECKPOINTS_FILE,
                    format!(
                        "the checkpoint of row {seq} is malformed (hash, key or signature is not \
                         hex of the right length): the file was damaged"
                    ),
                );
                false
            }
        };
        if found.insert(seq, Checkpoint { hash, valid }).is_some() {
            report.problem(
                CHECKPOINTS_FILE,
                format!("row {seq} has two checkpoints: the file was altered"),
            );
        }
    }
    found
}

/// Where the walk over `audit.jsonl` stands.
#[derive(Default)]
struct Walk {
    rows: u64,
    first_seq: Option<i64>,
    /// The previous row's seq and stored hash, when it could be read.
    previous: Option<(i64, [u8; 32])>,
    last_seq: Option<i64>,
    seen_checkpoints: BTreeSet<i64>,
}

fn audit(dir: &Path, manifest: &Manifest, report: &mut VerifyReport) {
    let checkpoints = checkpoints(dir, manifest, report);
    let file = match std::fs::File::open(dir.join(AUDIT_FILE)) {
        Ok(file) => file,
        Err(err) => {
            report.problem(AUDIT_FILE, format!("cannot be read ({err})"));
            return;
        }
    };
    let mut reader = BufReader::new(file);
    let mut walk = Walk::default();
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut line);
        match read {
            Ok(0) => break,
            Ok(_) => {}
            Err(err) => {
                report.problem(AUDIT_FILE, format!("cannot be read ({err})"));
                return;
            }
        }
        number += 1;
        if line.len() as u64 > MAX_LINE_BYTES {
            report.problem(
                AUDIT_FILE,
                format!(
                    "line {number} is longer than {MAX_LINE_BYTES} bytes: not a row Airlock wrote"
                ),
            );
            return;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        row(&line, number, &checkpoints, &mut walk, report);
    }
    finish_audit(manifest, &checkpoints, &walk, report);
}

/// Checks one line of `audit.jsonl`.
fn row(
    line: &[u8],
    number: u64,
    checkpoints: &BTreeMap<i64, Checkpoint>,
    walk: &mut Walk,
    report: &mut VerifyReport,
) {
    let parsed: AuditLine = match serde_json::from_slice(line) {
        Ok(parsed) => parsed,
        Err(err) => {
            report.problem(
                AUDIT_FILE,
                format!("line {number} is not an audit row ({err}): the file was altered"),
            );
            walk.previous = None;
            return;
        }
    };
    let seq = parsed.seq;
    walk.rows += 1;
    walk.last_seq = Some(seq);
    let (Some(prev_hash), Some(hash)) = (parse_hash(&parsed.prev_hash), parse_hash(&parsed.hash))
    else {
        report.problem(
            AUDIT_FILE,
            format!("row {seq}: prev_hash or hash is not 64 hex digits: the row was altered"),
        );
        walk.previous = None;
        return;
    };
    let mut intact = true;
    if walk.first_seq.is_none() {
        walk.first_seq = Some(seq);
        if report.audit.anchor.as_deref() != Some(parsed.prev_hash.as_str())
            || report.audit.first_seq != Some(seq)
        {
            report.problem(
                AUDIT_FILE,
                format!(
                    "the first row (row {seq}) is not the one the manifest anchors the period \
                     on: rows were removed from or added at the start"
                ),
            );
            intact = false;
        }
    } else if let Some((previous_seq, previous_hash)) = walk.previous {
        if seq != previous_seq + 1 {
            report.problem(
                AUDIT_FILE,
                if seq > previous_seq {
                    format!(
                        "row {seq} follows row {previous_seq}: rows {} to {} are missing, they \
                         were removed after the package was signed",
                        previous_seq + 1,
                        seq - 1
                    )
                } else {
                    format!(
                        "row {seq} comes after row {previous_seq}: rows were reordered or added"
                    )
                },
            );
            intact = false;
        }
        if prev_hash != previous_hash {
            report.problem(
                AUDIT_FILE,
                format!(
                    "row {seq} does not link to row {previous_seq} (its prev_hash is not that \
                     row's hash): a row before it was edited, removed or inserted"
                ),
            );
            intact = false;
        }
    }
    let fields = AuditRow {
        seq,
        created_at: &parsed.created_at,
        trace_id: &parsed.trace_id,
        kind: &parsed.kind,
        payload: &parsed.payload,
        prev_hash: &prev_hash,
        hash: &hash,
    };
    if fields.computed_hash() != Some(hash) {
        report.problem(
            AUDIT_FILE,
            format!("row {seq}: its contents do not match its hash: the row was edited"),
        );
        intact = false;
    }
    if let Some(checkpoint) = checkpoints.get(&seq) {
        walk.seen_checkpoints.insert(seq);
        if checkpoint.hash != Some(hash) {
            report.problem(
                AUDIT_FILE,
                format!(
                    "row {seq} differs from what the signed checkpoint of row {seq} vouches for: \
                     the rows up to it were rewritten (their hashes recomputed)"
                ),
            );
            intact = false;
        } else if checkpoint.valid {
            report.checkpoints_verified += 1;
            report.last_signed_seq = Some(seq);
        }
    }
    if intact {
        report.audit_rows_intact += 1;
    }
    walk.previous = Some((seq, hash));
}

fn finish_audit(
    manifest: &Manifest,
    checkpoints: &BTreeMap<i64, Checkpoint>,
    walk: &Walk,
    report: &mut VerifyReport,
) {
    let listed = &manifest.audit;
    if walk.rows != listed.rows || walk.last_seq != listed.last_seq {
        let span = |first: Option<i64>, last: Option<i64>| match (first, last) {
            (Some(first), Some(last)) => format!(" (rows {first} to {last})"),
            _ => String::new(),
        };
        report.problem(
            AUDIT_FILE,
            format!(
                "holds {} rows{} where the manifest lists {}{}: rows were added or removed after \
                 the package was signed",
                walk.rows,
                span(walk.first_seq, walk.last_seq),
                listed.rows,
                span(listed.first_seq, listed.last_seq)
            ),
        );
    }
    let last = listed.last_seq.unwrap_or(i64::MIN);
    for (seq, checkpoint) in checkpoints {
        if walk.seen_checkpoints.contains(seq) {
            continue;
        }
        if *seq > last && listed.last_seq.is_some() {
            if report.checkpoint_after_period.is_none() && checkpoint.valid {
                report.checkpoints_verified += 1;
                report.checkpoint_after_period = Some(*seq);
            }
        } else {
            report.problem(
                CHECKPOINTS_FILE,
                format!(
                    "the checkpoint of row {seq} vouches for a row that is not in audit.jsonl: \
                     that row was removed after the package was signed"
                ),
            );
        }
    }
}
