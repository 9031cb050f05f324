//! Approval requests: a call the governor sent to a human, waiting for an approver's word.
//!
//! A request moves `pending` → `approved` | `denied` | `expired`, and an approved one →
//! `executed` | `failed`. Every move is one conditional UPDATE, so two approvers (or two
//! processes) cannot both settle the same request, and a request past its expiry can no longer
//! be approved.

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use serde_json::Value;

use crate::{clock, Store, StoreError};

/// Where an approval request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    /// Waiting for an approver.
    Pending,
    /// Approved; the call is about to run.
    Approved,
    /// Denied by an approver: it never runs.
    Denied,
    /// Nobody decided before it expired: it never runs.
    Expired,
    /// Approved and run.
    Executed,
    /// Approved, but the call failed or could not start.
    Failed,
}

impl ApprovalStatus {
    /// The stored name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Expired => "expired",
            Self::Executed => "executed",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Approved,
            Self::Denied,
            Self::Expired,
            Self::Executed,
            Self::Failed,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// An approval request to store.
#[derive(Debug, Clone)]
pub struct NewApproval<'a> {
    /// The governor's decision id (also the request's id).
    pub id: &'a str,
    /// The request it belongs to.
    pub trace_id: &'a str,
    /// Its conversation.
    pub conversation_id: &'a str,
    /// Who asked.
    pub requester: &'a str,
    /// The exact call.
    pub tool: &'a str,
    /// Its arguments.
    pub args: &'a Value,
    /// The decision with its trace.
    pub decision: &'a Value,
    /// Who may approve.
    pub approver_group: &'a str,
    /// The decision's risk.
    pub risk: &'a str,
    /// Why it needs approval.
    pub reason: &'a str,
    /// When it expires (RFC 3339).
    pub expires_at: &'a str,
}

/// A stored approval request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApprovalRecord {
    /// Its id (the governor's decision id).
    pub id: String,
    /// The request it belongs to.
    pub trace_id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// Who asked.
    pub requester: String,
    /// The tool.
    pub tool: String,
    /// The arguments, every one of them.
    pub args: Value,
    /// The governor's decision with its trace.
    pub decision: Value,
    /// Who may approve.
    pub approver_group: String,
    /// The decision's risk.
    pub risk: String,
    /// Why it needs approval.
    pub reason: String,
    /// Where it stands.
    pub status: ApprovalStatus,
    /// When it was asked (UTC, RFC 3339).
    pub created_at: String,
    /// When it expires.
    pub expires_at: String,
    /// The approver who approved or denied it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<String>,
    /// The approver's comment.
    pub comment: Option<String>,
    /// When the approved call finished.
    pub finished_at: Option<String>,
    /// Its result or error.
    pub result: Option<Value>,
}

/// An approver's word on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalVerdict {
    /// Let it run.
    Approve,
    /// It never runs.
    Deny,
}

const SELECT: &str = "SELECT id, trace_id, conversation_id, requester, tool, args, decision,
    approver_group, risk, reason, status, created_at, expires_at, decided_by, decided_at,
    comment, finished_at, result FROM approvals";

impl Store {
    /// Stores a pending approval request.
    ///
    /// # Errors
    /// [`StoreError::InvalidTime`] for a bad expiry; SQLite errors (a duplicate id among them).
    pub fn create_approval(&self, approval: &NewApproval<'_>) -> Result<(), StoreError> {
        let expires_at = clock::normalize(approval.expires_at)?;
        self.conn
            .execute(
                "INSERT INTO approvals (id, trace_id, conversation_id, requester, tool, args,
                     decision, approver_group, risk, reason, status, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'pending', ?11)",
                params![
                    approval.id,
                    approval.trace_id,
                    approval.conversation_id,
                    approval.requester,
                    approval.tool,
                    approval.args.to_string(),
                    approval.decision.to_string(),
                    approval.approver_group,
                    approval.risk,
                    approval.reason,
                    expires_at,
                ],
            )
            .map_err(|err| self.error(err))?;
        Ok(())
    }

    /// The request `id`.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn approval(&self, id: &str) -> Result<Option<ApprovalRecord>, StoreError> {
        self.conn
            .query_row(&format!("{SELECT} WHERE id = ?1"), [id], record)
            .optional()
            .map_err(|err| self.error(err))
    }

    /// Requests in `status` (all when `None`), oldest first.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn approvals(
        &self,
        status: Option<ApprovalStatus>,
    ) -> Result<Vec<ApprovalRecord>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached(&format!(
                "{SELECT} WHERE ?1 IS NULL OR status = ?1 ORDER BY created_at, id"
            ))
            .map_err(|err| self.error(err))?;
        let rows = statement
            .query_map([status.map(ApprovalStatus::as_str)], record)
            .map_err(|err| self.error(err))?;
        rows.collect::<Result<_, _>>()
            .map_err(|err| self.error(err))
    }

    /// Marks every pending request past its expiry as expired and returns them.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn expire_approvals(&self) -> Result<Vec<ApprovalRecord>, StoreError> {
        let now = clock::now();
        let ids: Vec<String> = self
            .conn
            .prepare_cached(
                "UPDATE approvals SET status = 'expired'
                 WHERE status = 'pending' AND expires_at <= ?1 RETURNING id",
            )
            .and_then(|mut statement| {
                statement
                    .query_map([&now], |row| row.get(0))?
                    .collect::<Result<_, _>>()
            })
            .map_err(|err| self.error(err))?;
        let mut expired = Vec::with_capacity(ids.len());
        for id in ids {
            expired.extend(self.approval(&id)?);
        }
        Ok(expired)
    }

    /// Settles pending request `id` with `verdict` by `approver`. Returns the request as it
    /// stands afterwards; it is unchanged (and not `approved`/`denied` by this call) when it
    /// was no longer pending or had expired. `None` when there is no such request.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn settle_approval(
        &self,
        id: &str,
        verdict: ApprovalVerdict,
        approver: &str,
        comment: Option<&str>,
    ) -> Result<Option<(ApprovalRecord, bool)>, StoreError> {
        let now = clock::now();
        let status = match verdict {
            ApprovalVerdict::Approve => ApprovalStatus::Approved,
            ApprovalVerdict::Deny => ApprovalStatus::Denied,
        };
        let changed = self
            .conn
            .execute(
                "UPDATE approvals SET status = ?2, decided_by = ?3, decided_at = ?4, comment = ?5
                 WHERE id = ?1 AND status = 'pending' AND expires_at > ?4",
                params![id, status.as_str(), approver, now, comment],
            )
            .map_err(|err| self.error(err))?;
        Ok(self.approval(id)?.map(|record| (record, changed == 1)))
    }

    /// Records how the approved call `id` ended (`Executed` or `Failed`, with its result or
    /// error). Returns whether the request was approved and is now finished.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for another status; SQLite errors.
    pub fn finish_approval(
        &self,
        id: &str,
        status: ApprovalStatus,
        result: &Value,
    ) -> Result<bool, StoreError> {
        if !matches!(status, ApprovalStatus::Executed | ApprovalStatus::Failed) {
            return Err(StoreError::Invalid(format!(
                "an approved call ends executed or failed, not {}",
                status.as_str()
            )));
        }
        let changed = self
            .conn
            .execute(
                "UPDATE approvals SET status = ?2, finished_at = ?3, result = ?4
                 WHERE id = ?1 AND status = 'approved'",
                params![id, status.as_str(), clock::now(), result.to_string()],
            )
            .map_err(|err| self.error(err))?;
        Ok(changed == 1)
    }
}

fn record(row: &Row<'_>) -> rusqlite::Result<ApprovalRecord> {
    let json = |index: usize| -> rusqlite::Result<Value> {
        let text: String = row.get(index)?;
        serde_json::from_str(&text).map_err(|err| {
            rusqlite::Error::FromSqlConversionFailure(
                index,
                rusqlite::types::Type::Text,
                err.into(),
            )
        })
    };
    let status: String = row.get(10)?;
    let result: Option<String> = row.get(17)?;
    Ok(ApprovalRecord {
        id: row.get(0)?,
        trace_id: row.get(1)?,
        conversation_id: row.get(2)?,
        requester: row.get(3)?,
        tool: row.get(4)?,
        args: json(5)?,
        decision: json(6)?,
        approver_group: row.get(7)?,
        risk: row.get(8)?,
        reason: row.get(9)?,
        status: ApprovalStatus::parse(&status).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                10,
                rusqlite::types::Type::Text,
                format!("unknown approval status `{status}`").into(),
            )
        })?,
        created_at: row.get(11)?,
        expires_at: row.get(12)?,
        decided_by: row.get(13)?,
        decided_at: row.get(14)?,
        comment: row.get(15)?,
        finished_at: row.get(16)?,
        result: result.and_then(|text| serde_json::from_str(&text).ok()),
    })
}
