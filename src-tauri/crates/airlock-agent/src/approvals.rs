//! Human approvals. A call the governor sends to a human waits as a persisted request (who
//! asked, the exact call, the decision with its trace, risk, approver group, expiry). An
//! approver signs in with a local account (argon2id passphrase, lockout after repeated
//! failures), must belong to the request's approver group (by the account's roles or the
//! policy directory) and must not be the requester. On approval the governor's key signs an
//! intent token bound to the requester and the exact call, and the executor runs it. Every
//! step is recorded under the request's trace.

use airlock_core::{Confidence, EventKind, Intent, TraceId};
use airlock_store::{ApprovalRecord, ApprovalStatus, ApprovalVerdict, LocalAccount, NewApproval};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::Serialize;
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::agent::{Action, PlannedIntent, Progress};
use crate::{Agent, AgentError};

/// The role that manages local accounts.
pub const ADMIN_ROLE: &str = "admin";

/// The shortest passphrase a local account accepts.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// Why an approval step was refused, worded for the person at the machine.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// No request has that id.
    #[error("no approval request `{0}`; `airlock approvals list` shows the pending ones")]
    NotFound(String),
    /// The request is no longer pending.
    #[error("approval request `{id}` is {status}, not pending: nothing was changed")]
    Closed {
        /// The request.
        id: String,
        /// Where it stands.
        status: &'static str,
    },
    /// No local account has that name, or the passphrase is wrong (one message for both, so a
    /// guess learns nothing).
    #[error("unknown account or wrong passphrase for `{0}`")]
    SignIn(String),
    /// Too many wrong passphrases.
    #[error("account `{name}` is locked until {until} after repeated wrong passphrases")]
    Locked {
        /// The account.
        name: String,
        /// Until when (UTC).
        until: String,
    },
    /// The approver is not in the request's approver group.
    #[error("`{approver}` may not decide this request: it needs a member of `{group}`; an admin adds the role with `airlock users add` or in principals.toml")]
    NotAnApprover {
        /// Who tried.
        approver: String,
        /// Who may.
        group: String,
    },
    /// The requester tried to decide their own request.
    #[error("`{0}` asked for this call and cannot approve or deny it; another member of the approver group must")]
    OwnRequest(String),
    /// A local account could not be created.
    #[error("{0}")]
    Account(String),
}

/// Someone who proved who they are with a local account's passphrase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approver {
    /// The account name.
    pub name: String,
    /// The account's roles and groups.
    pub roles: Vec<String>,
}

/// What approving a request did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApprovalOutcome {
    /// The request as it stands afterwards.
    pub approval: ApprovalRecord,
    /// The call that ran.
    pub action: Option<Action>,
}

impl Agent {
    /// Records a pending approval request for `entry`, a call the governor sent to
    /// `approver_group`; returns its id (the decision id).
    pub(crate) fn request_approval(
        &self,
        trace: &TraceId,
        conversation: &str,
        entry: &PlannedIntent,
        approver_group: &str,
        requester: &str,
    ) -> Result<String, AgentError> {
        let _approval = tracing::info_span!(
            "approval.requested",
            approval_id = %entry.decision.id,
            approver_group,
        )
        .entered();
        let minutes = self.governance.approvals_config().expire_after_minutes;
        let expires_at = OffsetDateTime::now_utc()
            + time::Duration::minutes(i64::try_from(minutes).unwrap_or(i64::MAX / 60));
        let expires_at = expires_at.format(&Rfc3339).unwrap_or_default();
        let decision = serde_json::to_value(&entry.decision).unwrap_or(Value::Null);
        let risk = entry.decision.risk.to_string();
        let args = Value::Object(entry.intent.args.clone());
        let id = entry.decision.id.clone();
        self.store().create_approval(&NewApproval {
            id: &id,
            trace_id: trace.as_str(),
            conversation_id: conversation,
            requester,
            tool: &entry.intent.tool,
            args: &args,
            decision: &decision,
            approver_group,
            risk: &risk,
            reason: &entry.decision.outcome.explanation(),
            expires_at: &expires_at,
        })?;
        self.record(
            trace,
            EventKind::ApprovalRequested,
            json!({"approval_id": id, "tool": entry.intent.tool, "args": args,
                   "requester": requester, "approver_group": approver_group,
                   "risk": entry.decision.risk, "expires_at": expires_at}),
        )?;
        Ok(id)
    }

    /// Approval requests in `status` (all when `None`), oldest first. Requests past their
    /// expiry are marked expired (and recorded) first.
    ///
    /// # Errors
    /// [`AgentError::Store`].
    pub fn approvals(
        &self,
        status: Option<ApprovalStatus>,
    ) -> Result<Vec<ApprovalRecord>, AgentError> {
        self.expire_approvals()?;
        Ok(self.store().approvals(status)?)
    }

    /// The approval request `id`, after expiring overdue ones.
    ///
    /// # Errors
    /// [`ApprovalError::NotFound`]; [`AgentError::Store`].
    pub fn approval(&self, id: &str) -> Result<ApprovalRecord, AgentError> {
        self.expire_approvals()?;
        self.store()
            .approval(id)?
            .ok_or_else(|| ApprovalError::NotFound(id.to_owned()).into())
    }

    fn expire_approvals(&self) -> Result<(), AgentError> {
        let expired = self.store().expire_approvals()?;
        for approval in expired {
            self.record(
                &TraceId::from(approval.trace_id.clone()),
                EventKind::ApprovalExpired,
                json!({"approval_id": approval.id, "tool": approval.tool,
                       "expires_at": approval.expires_at}),
            )?;
        }
        Ok(())
    }

    /// Adds a local account `name` with `roles`; the passphrase is hashed with argon2id and
    /// never stored. The first account must hold the `admin` role; after that, `by` must be
    /// a signed-in admin, so nobody at the machine can make themselves an approver.
    ///
    /// # Errors
    /// [`ApprovalError::Account`] for a short passphrase, a bad name, an existing account or
    /// a missing admin; [`AgentError::Store`].
    pub fn add_account(
        &self,
        name: &str,
        roles: &[String],
        passphrase: &str,
        by: Option<&Approver>,
    ) -> Result<(), AgentError> {
        self.check_account_admin(by, || roles.iter().any(|role| role == ADMIN_ROLE))?;
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return Err(ApprovalError::Account(format!(
                "`{name}` is not an account name: use letters, digits, `.`, `_` and `-`"
            ))
            .into());
        }
        if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(ApprovalError::Account(format!(
                "the passphrase must have at least {MIN_PASSPHRASE_CHARS} characters"
            ))
            .into());
        }
        let hash = hash_passphrase(passphrase)?;
        self.store()
            .add_account(name, roles, &hash)
            .map_err(|err| match err {
                airlock_store::StoreError::Invalid(message) => {
                    ApprovalError::Account(message).into()
                }
                other => AgentError::Store(other),
            })?;
        self.record(
            &TraceId::new(),
            EventKind::AccountsChanged,
            json!({"added": name, "roles": roles, "by": by.map(|admin| &admin.name),
                   "os_user": self.principal()}),
        )
    }

    /// Removes local account `name` as the signed-in admin `by`; returns whether it existed.
    ///
    /// # Errors
    /// [`ApprovalError::Account`] when `by` is no admin; [`AgentError::Store`].
    pub fn remove_account(&self, name: &str, by: &Approver) -> Result<bool, AgentError> {
        self.check_account_admin(Some(by), || false)?;
        let removed = self.store().remove_account(name)?;
        if removed {
            self.record(
                &TraceId::new(),
                EventKind::AccountsChanged,
                json!({"removed": name, "by": by.name, "os_user": self.principal()}),
            )?;
        }
        Ok(removed)
    }

    /// Account changes need a signed-in admin, except the first account when
    /// `is_bootstrap_admin` says it is one.
    fn check_account_admin(
        &self,
        by: Option<&Approver>,
        is_bootstrap_admin: impl FnOnce() -> bool,
    ) -> Result<(), AgentError> {
        if let Some(admin) = by {
            if self.belongs_to(admin, ADMIN_ROLE) {
                return Ok(());
            }
            return Err(ApprovalError::Account(format!(
                "`{}` is not an admin; sign in as an account with the `{ADMIN_ROLE}` role",
                admin.name
            ))
            .into());
        }
        if self.store().accounts()?.is_empty() {
            if is_bootstrap_admin() {
                return Ok(());
            }
            return Err(ApprovalError::Account(format!(
                "the first local account must hold the `{ADMIN_ROLE}` role (`--role {ADMIN_ROLE}`): it is the one that adds the others"
            ))
            .into());
        }
        Err(ApprovalError::Account(
            "changing local accounts needs an admin's sign-in (`--as NAME`)".to_owned(),
        )
        .into())
    }

    /// Every local account (without hashes).
    ///
    /// # Errors
    /// [`AgentError::Store`].
    pub fn accounts(&self) -> Result<Vec<LocalAccount>, AgentError> {
        Ok(self.store().accounts()?)
    }

    /// The roles a local account may be given: the policy's roles and approver groups.
    #[must_use]
    pub fn known_roles(&self) -> Vec<String> {
        self.governance.known_roles()
    }

    /// Checks `passphrase` for account `name`. A wrong one counts towards the lockout; every
    /// refusal is recorded.
    ///
    /// # Errors
    /// [`ApprovalError::SignIn`] or [`ApprovalError::Locked`]; [`AgentError::Store`].
    pub fn sign_in(&self, name: &str, passphrase: &str) -> Result<Approver, AgentError> {
        let config = self.governance.approvals_config();
        let found = self.store().account_with_hash(name)?;
        let refuse = |reason: &str, err: ApprovalError| -> Result<Approver, AgentError> {
            self.record(
                &TraceId::new(),
                EventKind::ApproverRefused,
                json!({"account": name, "reason": reason}),
            )?;
            Err(err.into())
        };
        let Some((account, hash)) = found else {
            // Hash anyway, so an unknown name takes as long as a wrong passphrase.
            let _ = hash_passphrase(passphrase);
            return refuse("unknown account", ApprovalError::SignIn(name.to_owned()));
        };
        if account.is_locked() {
            let until = account.locked_until.clone().unwrap_or_default();
            return refuse(
                "account locked",
                ApprovalError::Locked {
                    name: name.to_owned(),
                    until,
                },
            );
        }
        if verify_passphrase(passphrase, &hash) {
            self.store().record_login(name)?;
            return Ok(Approver {
                name: account.name,
                roles: account.roles,
            });
        }
        let after = self.store().record_failed_login(
            name,
            config.max_failed_passphrases,
            config.lockout_minutes.saturating_mul(60),
        )?;
        match after.filter(LocalAccount::is_locked) {
            Some(locked) => refuse(
                "wrong passphrase; account locked",
                ApprovalError::Locked {
                    name: name.to_owned(),
                    until: locked.locked_until.unwrap_or_default(),
                },
            ),
            None => refuse("wrong passphrase", ApprovalError::SignIn(name.to_owned())),
        }
    }

    /// Approves request `id` as `approver` and runs the call with a token bound to the
    /// requester.
    ///
    /// # Errors
    /// [`AgentError::ReadOnly`] in a read-only installation; [`ApprovalError`] when the
    /// request is unknown, not pending (denied, expired, already approved), the approver is
    /// the requester or not in the approver group; [`AgentError::Store`].
    pub fn approve(
        &self,
        id: &str,
        approver: &Approver,
        comment: Option<&str>,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<ApprovalOutcome, AgentError> {
        if self.read_only() {
            return Err(AgentError::ReadOnly);
        }
        let approval = self.settle(id, approver, ApprovalVerdict::Approve, comment)?;
        let trace = TraceId::from(approval.trace_id.clone());
        let intent = Intent {
            tool: approval.tool.clone(),
            args: match &approval.args {
                Value::Object(args) => args.clone(),
                _ => Map::new(),
            },
            reasoning: format!("approved by {}", approver.name),
            confidence: Confidence::High,
        };
        let decision = serde_json::from_value(approval.decision.clone()).map_err(|err| {
            airlock_store::StoreError::Invalid(format!(
                "approval request `{id}` holds an unreadable decision: {err}"
            ))
        })?;
        let token = self
            .governance
            .issue_approved(&intent, &approval.id, &approval.requester);
        self.record(
            &trace,
            EventKind::TokenIssued,
            json!({"tool": intent.tool, "decision_id": approval.id, "approved_by": approver.name,
                   "key_id": hex::encode(token.key_id), "expires_at": token.expires_at}),
        )?;
        let entry = PlannedIntent {
            intent,
            decision,
            token: Some(token),
            approval_id: Some(approval.id.clone()),
        };
        let action = self
            .execute_as(&trace, &approval.requester, &[entry], progress)?
            .actions
            .pop();
        let (status, result) = match &action {
            Some(action) if action.error.is_none() => (
                ApprovalStatus::Executed,
                action.result.clone().unwrap_or(Value::Null),
            ),
            Some(action) => (ApprovalStatus::Failed, json!({"error": action.error})),
            None => (
                ApprovalStatus::Failed,
                json!({"error": "the call did not start; see the audit log of its trace"}),
            ),
        };
        self.store().finish_approval(id, status, &result)?;
        let by = with_comment(&approver.name, comment);
        let told = match &action {
            Some(action) if action.error.is_none() => format!(
                "Approved by {by}: `{}` ran. Result: {}",
                approval.tool,
                short(&result.to_string())
            ),
            Some(action) => format!(
                "Approved by {by}, but `{}` failed: {}",
                approval.tool,
                action.error.as_deref().unwrap_or("see the audit log")
            ),
            None => format!(
                "Approved by {by}, but `{}` did not start; the audit log of its trace says why",
                approval.tool
            ),
        };
        self.tell_requester(&approval, &told)?;
        Ok(ApprovalOutcome {
            approval: self.approval(id)?,
            action,
        })
    }

    /// Denies request `id` as `approver`: it never runs.
    ///
    /// # Errors
    /// As [`Agent::approve`].
    pub fn deny(
        &self,
        id: &str,
        approver: &Approver,
        comment: Option<&str>,
    ) -> Result<ApprovalRecord, AgentError> {
        let approval = self.settle(id, approver, ApprovalVerdict::Deny, comment)?;
        self.tell_requester(
            &approval,
            &format!(
                "Denied by {}: `{}` will not run.",
                with_comment(&approver.name, comment),
                approval.tool
            ),
        )?;
        Ok(approval)
    }

    /// Adds how a request was settled to the conversation it was made in, so the requester
    /// reads it there.
    fn tell_requester(&self, approval: &ApprovalRecord, text: &str) -> Result<(), AgentError> {
        let store = self.store();
        if let Some(conversation) = store.conversation(&approval.conversation_id)? {
            store.add_message(&conversation, "assistant", text, Some(&approval.trace_id))?;
        }
        Ok(())
    }

    /// Checks `approver` against request `id` and settles it; records the outcome either way.
    fn settle(
        &self,
        id: &str,
        approver: &Approver,
        verdict: ApprovalVerdict,
        comment: Option<&str>,
    ) -> Result<ApprovalRecord, AgentError> {
        let pending = self.approval(id)?;
        let trace = TraceId::from(pending.trace_id.clone());
        let refusal = if approver.name == pending.requester {
            Some(ApprovalError::OwnRequest(approver.name.clone()))
        } else if !self.belongs_to(approver, &pending.approver_group) {
            Some(ApprovalError::NotAnApprover {
                approver: approver.name.clone(),
                group: pending.approver_group.clone(),
            })
        } else if pending.status != ApprovalStatus::Pending {
            Some(ApprovalError::Closed {
                id: id.to_owned(),
                status: pending.status.as_str(),
            })
        } else {
            None
        };
        if let Some(refusal) = refusal {
            self.record(
                &trace,
                EventKind::ApproverRefused,
                json!({"approval_id": id, "account": approver.name, "reason": refusal.to_string()}),
            )?;
            return Err(refusal.into());
        }
        let settled = self
            .store()
            .settle_approval(id, verdict, &approver.name, comment)?;
        let (approval, changed) = settled.ok_or_else(|| ApprovalError::NotFound(id.to_owned()))?;
        if !changed {
            // Expired or settled by someone else between the check and the update.
            self.expire_approvals()?;
            let status = self.approval(id)?.status.as_str();
            return Err(ApprovalError::Closed {
                id: id.to_owned(),
                status,
            }
            .into());
        }
        let kind = match verdict {
            ApprovalVerdict::Approve => EventKind::ApprovalGranted,
            ApprovalVerdict::Deny => EventKind::ApprovalDenied,
        };
        self.record(
            &trace,
            kind,
            json!({"approval_id": id, "tool": approval.tool, "requester": approval.requester,
                   "approver": approver.name, "approver_roles": approver.roles,
                   "comment": comment}),
        )?;
        Ok(approval)
    }

    /// Whether `approver` is in `group`: by their account's roles or the policy directory.
    fn belongs_to(&self, approver: &Approver, group: &str) -> bool {
        approver.roles.iter().any(|role| role == group)
            || self
                .governance
                .memberships(&approver.name)
                .iter()
                .any(|membership| membership == group)
    }
}

/// Longest tool result quoted back to the requester, in characters.
const MAX_TOLD_RESULT_CHARS: usize = 600;

fn short(text: &str) -> String {
    match text.char_indices().nth(MAX_TOLD_RESULT_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// `name`, and the comment in quotes after it when there is one.
fn with_comment(name: &str, comment: Option<&str>) -> String {
    match comment.map(str::trim).filter(|comment| !comment.is_empty()) {
        Some(comment) => format!("{name} (\"{comment}\")"),
        None => name.to_owned(),
    }
}

fn hash_passphrase(passphrase: &str) -> Result<String, AgentError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|err| {
        ApprovalError::Account(format!("the OS gave no randomness for a salt: {err}"))
    })?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|err| ApprovalError::Account(format!("cannot encode the salt: {err}")))?;
    Argon2::default()
        .hash_password(passphrase.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| ApprovalError::Account(format!("cannot hash the passphrase: {err}")).into())
}

fn verify_passphrase(passphrase: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(passphrase.as_bytes(), &parsed)
            .is_ok()
    })
}
