//! Editing the governor's policy from the admin window: read the files in force, review an
//! edit (the whole policy checked with the edit in place, and a diff), save it (admins only,
//! atomically, recorded, the governor reloaded), try a call in a playground, run the test
//! tables. A policy with any problem is never written: the last good one stays in force.

use std::path::{Path, PathBuf};
use std::sync::PoisonError;

use airlock_core::{EventKind, TraceId};
use airlock_policy::{cases, Call, CallContext, Decision, Governor, GovernorError, MemoryLedger};
use serde::Serialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::{Agent, AgentError, Approver, ADMIN_ROLE};

/// The largest policy file the editor accepts.
pub const MAX_POLICY_FILE_BYTES: usize = 512 * 1024;

/// The TOML files of the policy directory the editor offers (besides `*.cedar` and
/// `*.cedarschema`). `mcp-servers.toml` is not among them: attached servers start with the app.
const EDITABLE_TOML: [&str; 2] = [airlock_policy::GUARDS_FILE, airlock_policy::PRINCIPALS_FILE];

/// Why a policy edit was refused; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum PolicyEditError {
    /// The file is not one the editor may change.
    #[error("`{0}` is not an editable policy file: pick one of the *.cedar, *.cedarschema, guards.toml or principals.toml files the editor lists")]
    NotEditable(String),
    /// The text is too long.
    #[error("`{file}` would be {bytes} bytes; a policy file may hold at most {MAX_POLICY_FILE_BYTES}: split it into several .cedar files")]
    TooLarge {
        /// The file.
        file: String,
        /// Its size.
        bytes: usize,
    },
    /// Only admins change the policy.
    #[error("`{0}` is not an admin: only a member of `admin` may change the policy")]
    NotAdmin(String),
    /// The edit leaves the policy with problems.
    #[error("the edit was not saved; the policy in force is unchanged. Fix these problems first:\n{}", .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<airlock_policy::Problem>),
    /// The file could not be read or written.
    #[error("{action} {}: {source}; check the policy directory's permissions (the policy in force is unchanged)", .path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// One file of the policy directory, as in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyFile {
    /// Its name in the policy directory.
    pub name: String,
    /// `cedar`, `cedarschema` or `toml`.
    pub language: &'static str,
    /// Its text.
    pub text: String,
}

/// What saving an edit would do: the problems the whole policy would have, and the diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyReview {
    /// Every problem, with file and line; empty when the edit may be saved.
    pub problems: Vec<airlock_policy::Problem>,
    /// A unified diff of the edit against the file in force.
    pub diff: String,
}

/// A saved edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicySaved {
    /// The file.
    pub file: String,
    /// What changed (unified diff).
    pub diff: String,
    /// The SHA-256 of the new text (hex), as recorded in the audit log.
    pub sha256: String,
}

/// One case of the policy test tables, for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyCaseResult {
    /// The table file.
    pub file: String,
    /// The case's name.
    pub name: String,
    /// Whether the decision matched.
    pub passed: bool,
    /// The decision the case expects.
    pub expected: String,
    /// What the governor decided, and why the case failed if it did.
    pub got: String,
}

impl Agent {
    /// The editable files of the policy directory, by name.
    ///
    /// # Errors
    /// [`PolicyEditError::Io`] when the directory or a file cannot be read.
    pub fn policy_files(&self) -> Result<Vec<PolicyFile>, AgentError> {
        let dir = &self.config.policy_dir;
        let entries = std::fs::read_dir(dir).map_err(|source| io("reading", dir, source))?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| io("reading", dir, source))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(language) = language(&name) {
                let path = entry.path();
                let text = std::fs::read_to_string(&path)
                    .map_err(|source| io("reading", &path, source))?;
                files.push(PolicyFile {
                    name,
                    language,
                    text,
                });
            }
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(files)
    }

    /// Checks the whole policy with `text` in place of `file` (in a staging copy; nothing in
    /// force changes) and diffs the edit.
    ///
    /// # Errors
    /// [`PolicyEditError::NotEditable`], [`PolicyEditError::TooLarge`] or
    /// [`PolicyEditError::Io`].
    pub fn review_policy(&self, file: &str, text: &str) -> Result<PolicyReview, AgentError> {
        let current = self.current_text(file, text)?;
        let staging =
            tempfile::tempdir().map_err(|source| io("staging", Path::new("."), source))?;
        for entry in self
            .policy_files()?
            .iter()
            .filter(|entry| entry.name != file)
        {
            let path = staging.path().join(&entry.name);
            std::fs::write(&path, &entry.text).map_err(|source| io("staging", &path, source))?;
        }
        let path = staging.path().join(file);
        std::fs::write(&path, text).map_err(|source| io("staging", &path, source))?;
        let problems = match Governor::load(staging.path(), self.tools.specs(), &self.sim_root()) {
            Ok(_) => Vec::new(),
            Err(GovernorError::Policy(err)) => err.problems,
            Err(other) => vec![airlock_policy::Problem {
                file: file.to_owned(),
                line: None,
                message: other.to_string(),
            }],
        };
        Ok(PolicyReview {
            problems,
            diff: unified_diff(file, &current, text),
        })
    }

    /// Saves `text` as `file` when `admin` is an admin and the whole policy stays valid: the
    /// file is replaced atomically, the governor reloads, and the change (who, diff, digests)
    /// lands in the audit log. On any problem nothing is written.
    ///
    /// # Errors
    /// [`PolicyEditError`] (not an admin, not editable, invalid, I/O), [`AgentError::Policy`]
    /// when the reload fails (the old file is put back), [`AgentError::Store`].
    pub fn save_policy(
        &self,
        file: &str,
        text: &str,
        admin: &Approver,
    ) -> Result<PolicySaved, AgentError> {
        if !self.is_admin(admin) {
            return Err(PolicyEditError::NotAdmin(admin.name.clone()).into());
        }
        let _one_at_a_time = self
            .policy_edit
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let review = self.review_policy(file, text)?;
        if !review.problems.is_empty() {
            return Err(PolicyEditError::Invalid(review.problems).into());
        }
        let path = self.config.policy_dir.join(file);
        let before = std::fs::read(&path).map_err(|source| io("reading", &path, source))?;
        replace_file(&path, text.as_bytes())?;
        if let Err(err) = self.governance.reload(&self.config.policy_dir) {
            replace_file(&path, &before)?;
            return Err(err.into());
        }
        let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
        self.record(
            &TraceId::new(),
            EventKind::PolicyChanged,
            json!({"file": file, "by": admin.name, "sha256_before": hex::encode(Sha256::digest(&before)),
                   "sha256": sha256, "diff": review.diff}),
        )?;
        tracing::info!(file, by = %admin.name, "policy saved and reloaded");
        Ok(PolicySaved {
            file: file.to_owned(),
            diff: review.diff,
            sha256,
        })
    }

    /// Decides `tool` with `args` for `principal` under the policy in force, without running
    /// it and without touching the live governor's rate, session or budget state.
    ///
    /// # Errors
    /// [`AgentError::Policy`] when the policy directory no longer loads.
    pub fn playground(
        &self,
        principal: &str,
        tool: &str,
        args: &Map<String, Value>,
    ) -> Result<Decision, AgentError> {
        let governor = Governor::load(
            &self.config.policy_dir,
            self.tools.specs(),
            &self.sim_root(),
        )?;
        let call = Call {
            principal,
            tool,
            args,
        };
        let context = CallContext::new("policy-playground", time::OffsetDateTime::now_utc());
        Ok(governor.decide(&call, &context, &MemoryLedger::default()))
    }

    /// Runs the policy directory's test tables (`tests/*.toml`).
    ///
    /// # Errors
    /// [`AgentError::Library`] when a table cannot be read or the policy does not load.
    pub fn run_policy_tests(&self) -> Result<Vec<PolicyCaseResult>, AgentError> {
        let specs = self.tools.specs();
        let sim_root = self.sim_root();
        let results = cases::run_dir(&self.config.policy_dir.join("tests"), || {
            Governor::load(&self.config.policy_dir, specs, &sim_root)
        })
        .map_err(|err| AgentError::Library(err.to_string()))?;
        Ok(results
            .into_iter()
            .map(|result| PolicyCaseResult {
                file: result
                    .file
                    .file_name()
                    .map_or_else(String::new, |name| name.to_string_lossy().into_owned()),
                passed: result.passed(),
                expected: result.case.expect.clone(),
                got: if result.passed() {
                    result.decision.outcome.name().to_owned()
                } else {
                    format!(
                        "{}: {}",
                        result.decision.outcome.name(),
                        result.failures.join("; ")
                    )
                },
                name: result.case.name,
            })
            .collect())
    }

    /// Whether `who` holds the admin role (by account or by the policy's directory).
    #[must_use]
    pub fn is_admin(&self, who: &Approver) -> bool {
        who.roles.iter().any(|role| role == ADMIN_ROLE)
            || self
                .governance
                .memberships(&who.name)
                .iter()
                .any(|role| role == ADMIN_ROLE)
    }

    /// The text of editable `file` in force, after checking the edit's size.
    fn current_text(&self, file: &str, text: &str) -> Result<String, AgentError> {
        if language(file).is_none() || file.contains(['/', '\\']) || file.starts_with('.') {
            return Err(PolicyEditError::NotEditable(file.to_owned()).into());
        }
        if text.len() > MAX_POLICY_FILE_BYTES {
            return Err(PolicyEditError::TooLarge {
                file: file.to_owned(),
                bytes: text.len(),
            }
            .into());
        }
        let path = self.config.policy_dir.join(file);
        match std::fs::read_to_string(&path) {
            Ok(current) => Ok(current),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(source) => Err(io("reading", &path, source).into()),
        }
    }

    fn sim_root(&self) -> PathBuf {
        self.config.fixtures_dir.join("sim")
    }
}

/// The editor's language for an editable file name, `None` for any other file.
fn language(name: &str) -> Option<&'static str> {
    if EDITABLE_TOML.contains(&name) {
        Some("toml")
    } else if name.ends_with(".cedarschema") {
        Some("cedarschema")
    } else if name.ends_with(".cedar") {
        Some("cedar")
    } else {
        None
    }
}

/// Writes `bytes` to `path` through a synced temporary file renamed over it, so a crash
/// leaves the old file or the new one, never half of either.
fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), PolicyEditError> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut staged =
        tempfile::NamedTempFile::new_in(dir).map_err(|source| io("writing", path, source))?;
    staged
        .write_all(bytes)
        .and_then(|()| staged.as_file().sync_all())
        .map_err(|source| io("writing", path, source))?;
    staged
        .persist(path)
        .map_err(|err| io("replacing", path, err.error))?;
    Ok(())
}

fn unified_diff(file: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{file}"), &format!("b/{file}"))
        .to_string()
}

fn io(action: &'static str, path: &Path, source: std::io::Error) -> PolicyEditError {
    PolicyEditError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

impl From<PolicyEditError> for AgentError {
    fn from(err: PolicyEditError) -> Self {
        AgentError::PolicyEdit(Box::new(err))
    }
}
