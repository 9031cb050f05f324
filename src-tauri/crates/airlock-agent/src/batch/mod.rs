//! Batch mode: a file of requests from several people, each screened, planned and decided
//! like a chat request (and, in execute mode, run or queued for approval), answered with one
//! [`MultiDecision`] per request.
//!
//! Identities: the file names a user, a role or department and groups per request. They are
//! trusted only when an admin signs in for the run (recorded in the `batch_run` event); then a
//! request with a `role` is decided with the stated role and groups (the department counts as a
//! group), one without with the user's directory entry. Otherwise every request is decided as
//! the person running the batch, whatever the file says.
//!
//! Spend: in execute mode approved and pending amounts go to the spend ledger as in a chat. In
//! plan mode nothing is spent for real, but the batch keeps its own tally, so a budget overrun
//! across the batch's requests is still found. Injection offences are real in both modes: an
//! injection attempt warns (and a repeat blacklists) its user as in a chat.

mod input;
mod report;

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use airlock_core::{Confidence, EventKind, Intent, Mode, TraceId};
use airlock_policy::directory::Member;
use airlock_policy::{Decision, Ledger, LedgerError, Outcome, Risk, Standing};
use serde_json::json;
use time::OffsetDateTime;

pub use input::{
    parse_batch, BatchEntry, BatchFileError, BatchRequest, InvalidEntry, MAX_BATCH_BYTES,
    MAX_BATCH_REQUESTS,
};
pub use report::{
    BatchReport, BatchSummary, Executed, IdentitySource, MultiDecision, SubDecision, SubStatus,
};

use crate::governance::{Caller, RequestRef, StoreLedger};
use crate::{Agent, AgentError, Approver, PlannedIntent};

/// How one batch runs: its id, mode and whether the file's identities are trusted.
struct Run {
    id: String,
    mode: Mode,
    trusted: bool,
    /// Amounts decided in this batch (plan mode), by principal.
    spent: HashMap<String, i64>,
}

impl Agent {
    /// Runs a batch: every request of `entries` in order; `on_result` sees each result as soon
    /// as it is decided. `trusted_by` is the admin who vouches for the file's identities (see
    /// the module docs); `None` decides every request as this agent's principal.
    ///
    /// # Errors
    /// [`AgentError::Admin`] when `trusted_by` is not an admin; [`AgentError::ReadOnly`] for
    /// execute mode in a read-only installation; [`AgentError::Store`] when the audit log
    /// cannot be written. A request that cannot be planned is reported in its result, and the
    /// batch goes on.
    pub fn run_batch(
        &self,
        entries: &[BatchEntry],
        mode: Mode,
        trusted_by: Option<&Approver>,
        on_result: &mut dyn FnMut(&MultiDecision),
    ) -> Result<BatchReport, AgentError> {
        let started = Instant::now();
        if let Some(admin) = trusted_by.filter(|admin| !self.is_admin(admin)) {
            return Err(AgentError::Admin(format!(
                "`{}` is not an admin: only an admin's sign-in makes a batch file's identities trusted; run without it to decide every request as yourself",
                admin.name
            )));
        }
        let trace = TraceId::new();
        if mode == Mode::Execute && self.governance.read_only() {
            self.record(
                &trace,
                EventKind::RequestRejected,
                json!({"mode": mode, "batch": true, "reason": AgentError::ReadOnly.to_string()}),
            )?;
            return Err(AgentError::ReadOnly);
        }
        let mut run = Run {
            id: TraceId::new().to_string(),
            mode,
            trusted: trusted_by.is_some(),
            spent: HashMap::new(),
        };
        let invalid = entries
            .iter()
            .filter(|entry| matches!(entry, BatchEntry::Invalid(_)))
            .count();
        self.record(
            &trace,
            EventKind::BatchRun,
            json!({"stage": "started", "batch_id": run.id, "mode": mode, "requests": entries.len(),
                   "invalid": invalid, "principal": self.principal(),
                   "trusted_by": trusted_by.map(|admin| admin.name.as_str()),
                   "identities_trusted": run.trusted}),
        )?;
        let mut summary = BatchSummary::default();
        let mut results = Vec::with_capacity(entries.len());
        for entry in entries {
            let result = match entry {
                BatchEntry::Invalid(invalid) => MultiDecision::invalid(invalid),
                BatchEntry::Request(request) => self.decide_request(&mut run, request)?,
            };
            summary.add(&result);
            on_result(&result);
            results.push(result);
        }
        self.record(
            &trace,
            EventKind::BatchRun,
            json!({"stage": "finished", "batch_id": run.id, "summary": summary}),
        )?;
        Ok(BatchReport {
            batch_id: run.id,
            mode,
            run_by: self.principal().to_owned(),
            trusted_by: trusted_by.map(|admin| admin.name.clone()),
            results,
            summary,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }

    /// Screens, plans, decides and (in execute mode) runs one request of a batch.
    fn decide_request(
        &self,
        run: &mut Run,
        request: &BatchRequest,
    ) -> Result<MultiDecision, AgentError> {
        let (caller, identity) = self.caller_of(run, request);
        let trace = TraceId::new();
        let span = crate::observe::request_span(trace.as_str(), "batch", run.mode);
        let _request = span.enter();
        span.record("bytes", request.text.len());
        if let Ok(pseudonym) = self.store().pseudonym_of(&caller.principal) {
            span.record("principal", pseudonym.as_str());
        }
        let session = format!("batch:{}:{}", run.id, caller.principal);
        let reference = RequestRef {
            id: trace.as_str(),
            text: &request.text,
            session: &session,
        };
        self.record(
            &trace,
            EventKind::RequestReceived,
            json!({"mode": run.mode, "bytes": request.text.len(), "batch_id": run.id,
                   "batch_request": request.id, "principal": caller.principal,
                   "identity": identity, "typed_call": request.calls.is_some()}),
        )?;
        let mut result = MultiDecision {
            request_id: request.id.clone(),
            user: Some(request.user.clone()),
            decided_as: Some(caller.principal.clone()),
            identity: Some(identity),
            trace_id: Some(trace.to_string()),
            sub_decisions: Vec::new(),
            errors: Vec::new(),
            line: None,
        };
        let admission = {
            let _screen = tracing::info_span!("injection_screen").entered();
            let store = self.store();
            let ledger = BatchLedger::new(&store, run);
            self.governance.admit_for(&caller, reference, &ledger)
        };
        self.record(
            &trace,
            EventKind::DecisionMade,
            json!({"stage": "admission", "principal": caller.principal, "decision": admission}),
        )?;
        if !admission.is_allow() {
            result
                .sub_decisions
                .push(SubDecision::of(&admission, None, None, None));
            return Ok(result);
        }
        let mut usage = None;
        let (intents, confidence_counts) = match &request.calls {
            Some(calls) => (
                calls
                    .iter()
                    .map(|call| Intent {
                        tool: call.tool.clone(),
                        args: call.args.clone(),
                        reasoning: "stated in the batch file".to_owned(),
                        confidence: Confidence::High,
                    })
                    .collect::<Vec<_>>(),
                false,
            ),
            None => match self.draft(&request.text, &request.text, None, &mut |_| {}) {
                Ok(draft) => {
                    usage = Some(draft.usage);
                    (draft.intents, true)
                }
                Err(err) => {
                    self.record(
                        &trace,
                        EventKind::PlanFailed,
                        json!({"error": err.to_string()}),
                    )?;
                    result.errors.push(format!("planning failed: {err}"));
                    return Ok(result);
                }
            },
        };
        self.record(
            &trace,
            EventKind::PlanProposed,
            json!({"intents": intents, "stated_in_file": !confidence_counts, "usage": usage}),
        )?;
        if intents.is_empty() {
            result.sub_decisions.push(nothing_planned(&trace));
            return Ok(result);
        }
        let mut planned = Vec::with_capacity(intents.len());
        for intent in intents {
            let confidence = confidence_counts.then_some(intent.confidence);
            let entry = self.decide_intent(run, &caller, reference, &trace, intent, confidence)?;
            result.sub_decisions.push(SubDecision::of(
                &entry.decision,
                Some(&entry.intent.tool),
                self.governance
                    .service_of(&entry.intent.tool, &entry.intent.args),
                Some(&entry.intent.args),
            ));
            if let Some(sub) = result.sub_decisions.last_mut() {
                sub.approval_id.clone_from(&entry.approval_id);
            }
            planned.push(entry);
        }
        if run.mode == Mode::Execute && planned.iter().any(|entry| entry.token.is_some()) {
            let execution = self.execute_as(&trace, &caller.principal, &planned, &mut |_| {})?;
            for sub in &mut result.sub_decisions {
                if sub.status != SubStatus::Approved {
                    continue;
                }
                let action = execution
                    .actions
                    .iter()
                    .find(|action| action.decision_id == sub.decision_id);
                sub.executed = Some(match action {
                    Some(action) => Executed {
                        ok: action.error.is_none(),
                        error: action.error.clone(),
                        duration_ms: action.duration_ms,
                    },
                    None => Executed {
                        ok: false,
                        error: Some(
                            execution
                                .stop
                                .as_ref()
                                .map_or("not run".to_owned(), |stop| {
                                    format!("not run: `{}` failed before it", stop.failed)
                                }),
                        ),
                        duration_ms: 0.0,
                    },
                });
            }
        }
        Ok(result)
    }

    /// Who a request is decided as, and where that identity comes from.
    fn caller_of(&self, run: &Run, request: &BatchRequest) -> (Caller, IdentitySource) {
        if !run.trusted {
            return (Caller::directory(self.principal()), IdentitySource::Runner);
        }
        match &request.role {
            Some(role) => {
                let mut groups = request.groups.clone();
                groups.extend(request.department.iter().cloned());
                let stated = Member {
                    roles: vec![role.clone()],
                    groups,
                    ..Member::default()
                };
                (
                    Caller {
                        principal: request.user.clone(),
                        stated: Some(stated),
                    },
                    IdentitySource::Stated,
                )
            }
            None => (Caller::directory(&request.user), IdentitySource::Directory),
        }
    }

    /// The governor's decision on one intent, recorded, its spend counted; in execute mode an
    /// allowed intent gets its token and an approval-needing one its approval request.
    fn decide_intent(
        &self,
        run: &mut Run,
        caller: &Caller,
        reference: RequestRef<'_>,
        trace: &TraceId,
        intent: Intent,
        confidence: Option<Confidence>,
    ) -> Result<PlannedIntent, AgentError> {
        let decision = {
            let store = self.store();
            let decision = {
                let ledger = BatchLedger::new(&store, run);
                self.governance.decide_for(
                    caller,
                    &intent,
                    confidence,
                    BTreeSet::new(),
                    reference,
                    &ledger,
                )
            };
            if matches!(
                decision.outcome,
                Outcome::Allow | Outcome::RequireApproval { .. }
            ) {
                match (run.mode, self.governance.amount_cents(&intent)) {
                    (Mode::Plan, Some(cents)) => {
                        *run.spent.entry(caller.principal.clone()).or_default() += cents;
                    }
                    (Mode::Plan, None) => {}
                    (Mode::Execute, _) => self.governance.record_spend_of(
                        &caller.principal,
                        &store,
                        &intent,
                        &decision,
                    )?,
                }
            }
            decision
        };
        self.record(
            trace,
            EventKind::DecisionMade,
            json!({"tool": intent.tool, "args": intent.args, "principal": caller.principal,
                   "batch_id": run.id, "decision": decision}),
        )?;
        let mut entry = PlannedIntent {
            intent,
            decision,
            token: None,
            approval_id: None,
        };
        if run.mode == Mode::Execute {
            match &entry.decision.outcome {
                Outcome::Allow => {
                    let token = self.governance.issue_approved(
                        &entry.intent,
                        &entry.decision.id,
                        &caller.principal,
                    );
                    self.record(
                        trace,
                        EventKind::TokenIssued,
                        json!({"tool": entry.intent.tool, "decision_id": entry.decision.id,
                               "key_id": hex::encode(token.key_id), "expires_at": token.expires_at}),
                    )?;
                    entry.token = Some(token);
                }
                Outcome::RequireApproval { approver_group, .. } => {
                    let group = approver_group.clone();
                    let id = self.request_approval(
                        trace,
                        reference.session,
                        &entry,
                        &group,
                        &caller.principal,
                    )?;
                    entry.approval_id = Some(id);
                }
                Outcome::Deny { .. } | Outcome::Clarify { .. } => {}
            }
        }
        Ok(entry)
    }
}

/// The sub-decision of a request the planner turned into no call: ask what is needed.
fn nothing_planned(trace: &TraceId) -> SubDecision {
    let decision = Decision {
        id: trace.to_string(),
        outcome: Outcome::Clarify {
            questions: vec![
                "I could not tell which action this asks for; name the system, order or service and what should happen to it."
                    .to_owned(),
            ],
        },
        risk: Risk::Low,
        deciding_rule: Some("planner.nothing_planned".to_owned()),
        trace: Vec::new(),
    };
    SubDecision::of(&decision, None, None, None)
}

/// The store's spend ledger and standings, plus what this batch decided in plan mode.
struct BatchLedger<'a> {
    store: StoreLedger<'a>,
    spent: &'a HashMap<String, i64>,
}

impl<'a> BatchLedger<'a> {
    fn new(store: &'a airlock_store::Store, run: &'a Run) -> Self {
        Self {
            store: StoreLedger(store),
            spent: &run.spent,
        }
    }
}

impl Ledger for BatchLedger<'_> {
    fn spent_cents(&self, principal: &str, since: OffsetDateTime) -> Result<i64, LedgerError> {
        let tallied = self.spent.get(principal).copied().unwrap_or(0);
        Ok(self.store.spent_cents(principal, since)? + tallied)
    }

    fn standing(&self, principal: &str) -> Result<Standing, LedgerError> {
        self.store.standing(principal)
    }

    fn set_standing(&self, principal: &str, standing: &Standing) -> Result<(), LedgerError> {
        self.store.set_standing(principal, standing)
    }
}
