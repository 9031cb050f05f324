//! What the desktop window reads besides requests: conversations, pending approvals with
//! where their calls land, the audit log (filtered, verified, exported) and cited passages.

use airlock_store::{
    ApprovalRecord, ApprovalStatus, AuditEntry, AuditFilter, AuditReport, ConversationSummary,
    ExportFormat, OpenedChunk, StoredMessage,
};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::{Agent, AgentError, AUDIT_KEY};

/// Most conversations listed.
const MAX_CONVERSATIONS: u32 = 200;

/// Characters of document text shown around a cited passage.
const CITATION_CONTEXT: usize = 600;

/// Where a call lands, for the approval card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallTarget {
    /// The kind of system.
    pub kind: airlock_core::SystemKind,
    /// The system, when the tool or its arguments name one.
    pub system: Option<String>,
    /// `prod` or `dev`, when known.
    pub environment: Option<String>,
    /// The classification of what it touches.
    pub classification: String,
}

/// Where an audit export was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedAudit {
    /// The file.
    pub path: PathBuf,
    /// How many rows it holds.
    pub rows: usize,
}

/// A pending approval request with where its call lands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PendingApproval {
    /// The request.
    pub approval: ApprovalRecord,
    /// Where the call lands (`None` for a tool no longer registered).
    pub target: Option<CallTarget>,
}

impl Agent {
    /// The most recently active conversations.
    ///
    /// # Errors
    /// [`AgentError::Store`].
    pub fn conversations(&self) -> Result<Vec<ConversationSummary>, AgentError> {
        Ok(self.store().conversations(MAX_CONVERSATIONS)?)
    }

    /// The messages of conversation `id`, oldest first.
    ///
    /// # Errors
    /// [`AgentError::UnknownConversation`], [`AgentError::Store`].
    pub fn conversation_messages(&self, id: &str) -> Result<Vec<StoredMessage>, AgentError> {
        let store = self.store();
        let conversation = store
            .conversation(id)?
            .ok_or_else(|| AgentError::UnknownConversation(id.to_owned()))?;
        Ok(store.messages(&conversation)?)
    }

    /// The pending approval requests, oldest first, each with where its call lands.
    ///
    /// # Errors
    /// [`AgentError::Store`].
    pub fn pending_approvals(&self) -> Result<Vec<PendingApproval>, AgentError> {
        Ok(self
            .approvals(Some(ApprovalStatus::Pending))?
            .into_iter()
            .map(|approval| {
                let target = self.tools.spec(&approval.tool).map(|spec| {
                    let args = approval.args.as_object().cloned().unwrap_or_default();
                    self.governance.target_of(spec, &args)
                });
                PendingApproval { approval, target }
            })
            .collect())
    }

    /// A cited passage with the text around it, if the principal may read it.
    ///
    /// # Errors
    /// [`AgentError::Library`] when there is no such passage or it is above the principal's
    /// clearance (one message for both); [`AgentError::Store`].
    pub fn open_citation(&self, chunk_id: i64) -> Result<OpenedChunk, AgentError> {
        self.store()
            .open_chunk(chunk_id, &self.governance.clearance(), CITATION_CONTEXT)?
            .ok_or_else(|| {
                AgentError::Library(format!(
                    "no passage {chunk_id} you may read: the document may have been removed or \
                     re-indexed since the answer; ask again to get fresh citations"
                ))
            })
    }

    /// The audit events matching `filter`, newest first.
    ///
    /// # Errors
    /// [`AgentError::Store`] (including a bad filter, with what to use).
    pub fn audit_events(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, AgentError> {
        Ok(self.store().audit_entries(filter)?)
    }

    /// Walks the audit chain and its signed checkpoints.
    ///
    /// # Errors
    /// [`AgentError::Keys`] when the audit key cannot be read, [`AgentError::Store`].
    pub fn verify_audit(&self) -> Result<AuditReport, AgentError> {
        let key =
            airlock_connectors::keys::load_or_create_signing_key(AUDIT_KEY, &self.config.data_dir)?;
        Ok(self.store().verify_audit(&[key.verifying_key()])?)
    }

    /// Writes every audit row written at or after `since` (all when `None`), oldest first, in
    /// `format` to a new file in `dir`: whole rows with their hashes, so an auditor can check
    /// the chain. The file is written under a temporary name and renamed when complete.
    ///
    /// # Errors
    /// [`AgentError::Store`], [`AgentError::Library`] when the file cannot be written.
    pub fn export_audit(
        &self,
        since: Option<&str>,
        format: ExportFormat,
        dir: &Path,
    ) -> Result<ExportedAudit, AgentError> {
        let stamp = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year][month][day]-[hour][minute][second]"
            ))
            .unwrap_or_default();
        let extension = match format {
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
        };
        let path = dir.join(format!("airlock-audit-{stamp}.{extension}"));
        let cannot = |err: std::io::Error| {
            AgentError::Library(format!(
                "cannot write the audit export in {}: {err}; free some space or pick another folder",
                dir.display()
            ))
        };
        std::fs::create_dir_all(dir).map_err(cannot)?;
        let mut staged = tempfile::NamedTempFile::new_in(dir).map_err(cannot)?;
        let rows = {
            let mut out = std::io::BufWriter::new(staged.as_file_mut());
            let rows = self.store().export_audit(since, format, &mut out)?;
            std::io::Write::flush(&mut out).map_err(cannot)?;
            rows
        };
        staged.as_file().sync_all().map_err(cannot)?;
        staged.persist(&path).map_err(|err| cannot(err.error))?;
        Ok(ExportedAudit { path, rows })
    }
}
