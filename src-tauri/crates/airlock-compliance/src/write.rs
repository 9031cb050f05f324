//! Writing a package: assembled in a hidden directory next to the destination, every file
//! hashed as it is written, the manifest signed last, then renamed into place.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use airlock_core::EventKind;
use airlock_store::{ApprovalRecord, ApprovalStatus, AuditReport, Redactor, Store};
use ed25519_dalek::{Signer as _, SigningKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::io;
use crate::manifest::{
    fingerprint, AuditRange, FileEntry, Manifest, APPROVALS_FILE, AUDIT_FILE, CHAIN_FILE,
    CHECKPOINTS_FILE, FORMAT, MANIFEST_FILE, POLICIES_DIR, POLICIES_FILE, REPORT_HTML, REPORT_MD,
    SIGNATURE_FILE,
};
use crate::policies::{changes, read_policy_dir, sha256_hex, versions};
use crate::records::{
    ApprovalEntry, AuditLine, ChainProblem, CheckpointEntry, LiveChain, PoliciesRecord,
    PolicyFileEntry,
};
use crate::report::{blocks, html, markdown, Activity, Coverage, ReportInput};
use crate::{period, EvidenceError, Period};

/// What to put in a package, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRequest {
    /// The period covered.
    pub period: Period,
    /// The policy directory in force (its policy files are copied).
    pub policy_dir: PathBuf,
    /// The directory to create: it must not exist, or be empty.
    pub out: PathBuf,
}

/// What a written package holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageSummary {
    /// The package directory.
    pub dir: PathBuf,
    /// The period covered.
    pub period: Period,
    /// The audit rows it holds.
    pub audit: AuditRange,
    /// Signed checkpoints in `checkpoints.json`.
    pub checkpoints: usize,
    /// Approvals in `approvals.json`.
    pub approvals: usize,
    /// Policy changes within the period.
    pub policy_changes: usize,
    /// The whole live chain's verification at export time.
    pub live_chain: LiveChain,
    /// The fingerprint of the key that signed the package.
    pub key_fingerprint: String,
    /// Files listed in the manifest.
    pub files: usize,
}

/// Writes the evidence package `request` asks for, signed with `signer` (the installation's
/// audit checkpoint key, whose public half checkpoints must carry), and returns what it holds.
///
/// Call [`Store::checkpoint`] first, so that the newest rows are signed too. A broken live
/// chain does not stop the package: `chain-verification.json` and the report say so, and the
/// package's own verification then fails on the damaged rows it holds.
///
/// # Errors
/// [`EvidenceError::DestinationNotEmpty`] when `request.out` exists and is not an empty
/// directory, [`EvidenceError::Store`] or [`EvidenceError::Io`]. On any error nothing is left
/// at the destination.
pub fn write_package(
    store: &Store,
    signer: &SigningKey,
    request: &EvidenceRequest,
) -> Result<PackageSummary, EvidenceError> {
    let out = &request.out;
    check_destination(out)?;
    let name = out
        .file_name()
        .ok_or_else(|| EvidenceError::DestinationNotEmpty { path: out.clone() })?;
    let parent = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io("create", &parent))?;
    let staging_dir = tempfile::Builder::new()
        .prefix(&format!(".{}.partial-", name.to_string_lossy()))
        .tempdir_in(&parent)
        .map_err(io("create a staging directory in", &parent))?;
    let mut staging = Staging {
        root: staging_dir.path().to_owned(),
        files: Vec::new(),
    };
    let mut summary = assemble(store, signer, request, &mut staging)?;
    File::open(&staging.root)
        .and_then(|dir| dir.sync_all())
        .map_err(io("sync", &staging.root))?;
    let staged = staging_dir.keep();
    if let Err(err) = place(&staged, out) {
        let _ = std::fs::remove_dir_all(&staged);
        return Err(err);
    }
    if let Ok(dir) = File::open(&parent) {
        // Best effort: the rename is durable once the parent directory is synced.
        let _ = dir.sync_all();
    }
    summary.dir.clone_from(out);
    tracing::info!(
        dir = %out.display(),
        rows = summary.audit.rows,
        intact = summary.live_chain.intact,
        "evidence package written"
    );
    Ok(summary)
}

/// Refuses a destination that exists and is not an empty directory.
fn check_destination(out: &Path) -> Result<(), EvidenceError> {
    match std::fs::symlink_metadata(out) {
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(io("inspect", out)(source)),
        Ok(meta) if meta.is_dir() => {
            let mut entries = std::fs::read_dir(out).map_err(io("read", out))?;
            if entries.next().is_none() {
                Ok(())
            } else {
                Err(EvidenceError::DestinationNotEmpty {
                    path: out.to_owned(),
                })
            }
        }
        Ok(_) => Err(EvidenceError::DestinationNotEmpty {
            path: out.to_owned(),
        }),
    }
}

/// Moves the finished package to `out` (replacing an empty directory there).
fn place(staged: &Path, out: &Path) -> Result<(), EvidenceError> {
    check_destination(out)?;
    if out.is_dir() {
        std::fs::remove_dir(out).map_err(io("replace the empty directory", out))?;
    }
    std::fs::rename(staged, out).map_err(io("move the finished package to", out))
}

/// The package being assembled, and the files written so far.
struct Staging {
    root: PathBuf,
    files: Vec<FileEntry>,
}

impl Staging {
    /// Writes `bytes` as `relative` (`/`-separated) and records it for the manifest.
    fn write(&mut self, relative: &str, bytes: &[u8]) -> Result<(), EvidenceError> {
        self.stream(relative, |out| out.write_all(bytes))
    }

    fn write_json<T: Serialize>(
        &mut self,
        relative: &'static str,
        value: &T,
    ) -> Result<(), EvidenceError> {
        let mut bytes =
            serde_json::to_vec_pretty(value).map_err(|source| EvidenceError::Serialize {
                file: relative,
                source,
            })?;
        bytes.push(b'\n');
        self.write(relative, &bytes)
    }

    /// Writes `relative` through `fill`, hashing on the way, and records it.
    fn stream<T>(
        &mut self,
        relative: &str,
        fill: impl FnOnce(&mut Hashing<BufWriter<File>>) -> std::io::Result<T>,
    ) -> Result<T, EvidenceError> {
        let path = self.root.join(relative);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        }
        let file = File::create(&path).map_err(io("create", &path))?;
        let mut out = Hashing {
            inner: BufWriter::new(file),
            hasher: Sha256::new(),
            size: 0,
        };
        let value = fill(&mut out).map_err(io("write", &path))?;
        out.flush().map_err(io("write", &path))?;
        let Hashing {
            inner,
            hasher,
            size,
        } = out;
        let file = inner
            .into_inner()
            .map_err(|err| io("write", &path)(err.into_error()))?;
        file.sync_all().map_err(io("sync", &path))?;
        self.files.push(FileEntry {
            path: relative.to_owned(),
            size,
            sha256: hex::encode(hasher.finalize()),
        });
        Ok(value)
    }
}

/// A writer that hashes and counts what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.size += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes every file into `staging` and signs the manifest.
fn assemble(
    store: &Store,
    signer: &SigningKey,
    request: &EvidenceRequest,
    staging: &mut Staging,
) -> Result<PackageSummary, EvidenceError> {
    let period = &request.period;
    let key = signer.verifying_key();
    let created_at = period::now();

    let (audit, activity) = write_audit(store, period, staging)?;

    let checkpoints = match (audit.first_seq, audit.last_seq) {
        (Some(first), Some(last)) => store.audit_checkpoints_covering(first, last)?,
        _ => Vec::new(),
    };
    let last = audit.last_seq.unwrap_or(i64::MIN);
    let coverage = Coverage {
        in_period: checkpoints.iter().filter(|c| c.seq <= last).count(),
        last_signed: checkpoints
            .iter()
            .map(|c| c.seq)
            .filter(|s| *s <= last)
            .max(),
        after_period: checkpoints.iter().map(|c| c.seq).find(|s| *s > last),
    };
    let entries: Vec<CheckpointEntry> = checkpoints
        .iter()
        .map(|c| CheckpointEntry {
            seq: c.seq,
            hash: hex::encode(&c.hash),
            signature: hex::encode(&c.signature),
            public_key: hex::encode(&c.public_key),
            created_at: c.created_at.clone(),
        })
        .collect();
    staging.write_json(CHECKPOINTS_FILE, &entries)?;

    let live = live_chain(&store.verify_audit(&[key])?, &key);
    staging.write_json(CHAIN_FILE, &live)?;

    let policy = write_policies(store, &request.policy_dir, period, staging)?;

    let approvals = approvals_in(&store.approvals(None)?, period);
    staging.write_json(APPROVALS_FILE, &approvals)?;

    let airlock_version = env!("CARGO_PKG_VERSION");
    let report = blocks(&ReportInput {
        period,
        created_at: &created_at,
        airlock_version,
        key: &key,
        audit: &audit,
        activity: &activity,
        coverage: &coverage,
        live: &live,
        approvals: &approvals,
        policies: &policy.versions,
    });
    staging.write(REPORT_MD, markdown(&report).as_bytes())?;
    staging.write(REPORT_HTML, html(&report).as_bytes())?;

    let mut files = std::mem::take(&mut staging.files);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        airlock_version: airlock_version.to_owned(),
        period: period.clone(),
        created_at,
        public_key: hex::encode(key.as_bytes()),
        audit: audit.clone(),
        files,
    };
    let mut bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|source| EvidenceError::Serialize {
            file: MANIFEST_FILE,
            source,
        })?;
    bytes.push(b'\n');
    let signature = signer.sign(&bytes);
    staging.write(MANIFEST_FILE, &bytes)?;
    staging.write(
        SIGNATURE_FILE,
        format!("{}\n", hex::encode(signature.to_bytes())).as_bytes(),
    )?;

    Ok(PackageSummary {
        dir: staging.root.clone(),
        period: period.clone(),
        audit,
        checkpoints: entries.len(),
        approvals: approvals.len(),
        policy_changes: policy.versions.iter().map(|v| v.changes.len()).sum(),
        live_chain: live,
        key_fingerprint: fingerprint(&key),
        files: manifest.files.len(),
    })
}

/// Streams the period's rows into `audit.jsonl`, tallying them for the report.
fn write_audit(
    store: &Store,
    period: &Period,
    staging: &mut Staging,
) -> Result<(AuditRange, Activity), EvidenceError> {
    let mut range = AuditRange::default();
    let mut activity = Activity::default();
    let written = staging.stream(AUDIT_FILE, |out| {
        let mut failure = None;
        let counted = store.for_each_audit_row::<EvidenceError>(&period.from, &period.to, |row| {
            let line = AuditLine {
                seq: row.seq,
                created_at: row.created_at.to_owned(),
                trace_id: row.trace_id.to_owned(),
                kind: row.kind.to_owned(),
                payload: row.payload.to_owned(),
                prev_hash: hex::encode(row.prev_hash),
                hash: hex::encode(row.hash),
            };
            if range.first_seq.is_none() {
                range.first_seq = Some(row.seq);
                range.anchor = Some(line.prev_hash.clone());
            }
            range.last_seq = Some(row.seq);
            activity.add(row.kind, row.payload);
            serde_json::to_writer(&mut *out, &line)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"))
                .map_err(|source| EvidenceError::Io {
                    action: "write",
                    path: PathBuf::from(AUDIT_FILE),
                    source,
                })
        });
        match counted {
            Ok(count) => range.rows = count,
            Err(err) => failure = Some(err),
        }
        Ok(failure)
    })?;
    match written {
        Some(err) => Err(err),
        None => Ok((range, activity)),
    }
}

/// Copies the policy files and reconstructs the versions in force.
fn write_policies(
    store: &Store,
    policy_dir: &Path,
    period: &Period,
    staging: &mut Staging,
) -> Result<PoliciesRecord, EvidenceError> {
    let mut files = Vec::new();
    let mut current = BTreeMap::new();
    for (name, bytes) in read_policy_dir(policy_dir)? {
        let path = format!("{POLICIES_DIR}/{name}");
        staging.write(&path, &bytes)?;
        let sha256 = sha256_hex(&bytes);
        current.insert(name.clone(), sha256.clone());
        files.push(PolicyFileEntry {
            name,
            path,
            size: bytes.len() as u64,
            sha256,
        });
    }
    let recorded = changes(&store.events_of_kind(EventKind::PolicyChanged)?);
    let record = PoliciesRecord {
        files,
        versions: versions(&current, &recorded, period),
    };
    staging.write_json(POLICIES_FILE, &record)?;
    Ok(record)
}

/// The live chain's verification, as the package records it.
fn live_chain(report: &AuditReport, key: &ed25519_dalek::VerifyingKey) -> LiveChain {
    LiveChain {
        verified_at: period::now(),
        trusted_key: hex::encode(key.as_bytes()),
        intact: report.is_intact(),
        rows_checked: report.rows_checked,
        checkpoints_checked: report.checkpoints_checked,
        last_seq: report.last_seq,
        last_checkpointed_seq: report.last_checkpointed_seq,
        unsigned_rows: report.unsigned_rows(),
        first_problem: report.first_problem.as_ref().map(|problem| ChainProblem {
            seq: problem.seq,
            kind: serde_json::to_value(problem.kind)
                .ok()
                .and_then(|kind| kind.as_str().map(str::to_owned))
                .unwrap_or_else(|| format!("{:?}", problem.kind)),
            message: problem.to_string(),
        }),
    }
}

/// The approvals requested, decided, finished or expired within `period`, oldest first, their
/// arguments and comments redacted as audit payloads are.
fn approvals_in(all: &[ApprovalRecord], period: &Period) -> Vec<ApprovalEntry> {
    let redactor = Redactor::default();
    let within = |at: Option<&str>| at.is_some_and(|at| period.contains(at));
    all.iter()
        .filter(|a| {
            within(Some(&a.created_at))
                || within(a.decided_at.as_deref())
                || within(a.finished_at.as_deref())
                || (a.status == ApprovalStatus::Expired && within(Some(&a.expires_at)))
        })
        .map(|a| ApprovalEntry {
            id: a.id.clone(),
            trace_id: a.trace_id.clone(),
            requester: a.requester.clone(),
            tool: a.tool.clone(),
            args: redactor.redact_value(&a.args),
            approver_group: a.approver_group.clone(),
            risk: a.risk.clone(),
            reason: a.reason.clone(),
            status: a.status.as_str().to_owned(),
            created_at: a.created_at.clone(),
            expires_at: a.expires_at.clone(),
            decided_by: a.decided_by.clone(),
            decided_at: a.decided_at.clone(),
            comment: a
                .comment
                .as_deref()
                .map(|comment| redactor.redact_str(comment).into_owned()),
            finished_at: a.finished_at.clone(),
        })
        .collect()
}
