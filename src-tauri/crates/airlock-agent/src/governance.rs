//! The agent's side of the governor: every intent is decided by the governor, an allowed one
//! gets a signed single-use intent token, and the executor verifies that token against the
//! exact call before it runs anything.

use std::sync::{PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, SystemTime};

use airlock_core::{Confidence, Intent};
use airlock_policy::token::{IntentToken, TokenError, TokenIssuer, TokenVerifier, VerifiedIntent};
use airlock_policy::{Call, CallContext, Decision, Governor, Ledger, LedgerError, Standing};
use airlock_store::{PrincipalStanding, SpendStatus, Store};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::{AgentConfig, AgentError};

/// How long an intent token stays valid: long enough to run the call, too short to hoard.
const TOKEN_TTL: Duration = Duration::from_secs(120);

/// The key names in the OS keychain (or key files).
const TOKEN_KEY: &str = "intent-tokens";

/// The request an intent belongs to: its trace id, text and conversation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestRef<'a> {
    /// The trace id.
    pub id: &'a str,
    /// What the operator typed.
    pub text: &'a str,
    /// The conversation (the governor's session).
    pub session: &'a str,
}

/// Who a decision is for: a principal, with the directory's roles and groups or with those a
/// source an admin vouched for states (a batch file an admin runs).
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// The login name or agent profile.
    pub principal: String,
    /// The stated roles and groups; `None`: the directory's entry.
    pub stated: Option<airlock_policy::directory::Member>,
}

impl Caller {
    /// `principal` as the directory knows it.
    pub fn directory(principal: &str) -> Self {
        Self {
            principal: principal.to_owned(),
            stated: None,
        }
    }
}

/// The governor, the token issuer and the executor's verifier, for one principal.
pub(crate) struct Governance {
    /// Replaced whole when an admin saves the policy.
    governor: RwLock<Governor>,
    issuer: TokenIssuer,
    verifier: TokenVerifier,
    principal: String,
}

impl Governance {
    /// Loads the policy and the intent-token key.
    pub fn open(
        config: &AgentConfig,
        specs: &[airlock_core::ToolSpec],
    ) -> Result<Self, AgentError> {
        let governor = Governor::load(&config.policy_dir, specs, &config.fixtures_dir.join("sim"))?;
        let key =
            airlock_connectors::keys::load_or_create_signing_key(TOKEN_KEY, &config.data_dir)?;
        let verifying = key.verifying_key();
        Ok(Self {
            governor: RwLock::new(governor),
            issuer: TokenIssuer::new(key.key, TOKEN_TTL),
            verifier: TokenVerifier::new(verifying),
            principal: config.principal.clone(),
        })
    }

    /// Whether the governor decides `tool` (see [`Governor::governs`]).
    pub fn governs(&self, tool: &str) -> bool {
        self.governor().governs(tool)
    }

    /// Whether the injection screen flags `text` (see [`Governor::screen`]).
    pub fn flags_injection(&self, text: &str) -> bool {
        !self.governor().screen(text).is_empty()
    }

    /// Who the requests run as.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// Admits `request` (trace `request_id`) before anything is planned: the principal is
    /// known and not blacklisted, and the text passes the injection screen.
    pub fn admit(&self, request_id: &str, request: &str, session: &str, store: &Store) -> Decision {
        let caller = Caller::directory(&self.principal);
        let request = RequestRef {
            id: request_id,
            text: request,
            session,
        };
        self.admit_for(&caller, request, &StoreLedger(store))
    }

    /// As [`Governance::admit`], for `caller` with `ledger`'s spend and standings.
    pub fn admit_for(
        &self,
        caller: &Caller,
        request: RequestRef<'_>,
        ledger: &dyn Ledger,
    ) -> Decision {
        let context = CallContext {
            request_id: Some(request.id.to_owned()),
            request_text: Some(request.text.to_owned()),
            identity: caller.stated.clone(),
            ..CallContext::new(request.session, now())
        };
        self.governor().admit(&caller.principal, &context, ledger)
    }

    /// What this principal may retrieve from the plant's documents.
    pub fn clearance(&self) -> airlock_store::Clearance {
        let (level, groups) = self.governor().clearance(&self.principal);
        airlock_store::Clearance { level, groups }
    }

    /// Decides one intent for `request`; `confidence` is the planner's, `None` for a call the
    /// operator typed; `tainted` names the arguments whose values came from retrieved
    /// documents or tool output.
    pub fn decide(
        &self,
        intent: &Intent,
        confidence: Option<Confidence>,
        tainted: std::collections::BTreeSet<String>,
        request: RequestRef<'_>,
        store: &Store,
    ) -> Decision {
        let caller = Caller::directory(&self.principal);
        self.decide_for(
            &caller,
            intent,
            confidence,
            tainted,
            request,
            &StoreLedger(store),
        )
    }

    /// As [`Governance::decide`], for `caller` with `ledger`'s spend and standings.
    pub fn decide_for(
        &self,
        caller: &Caller,
        intent: &Intent,
        confidence: Option<Confidence>,
        tainted: std::collections::BTreeSet<String>,
        request: RequestRef<'_>,
        ledger: &dyn Ledger,
    ) -> Decision {
        let context = CallContext {
            session: request.session.to_owned(),
            request_id: Some(request.id.to_owned()),
            request_text: Some(request.text.to_owned()),
            confidence,
            tainted,
            now: now(),
            identity: caller.stated.clone(),
        };
        let call = Call {
            principal: &caller.principal,
            tool: &intent.tool,
            args: &intent.args,
        };
        let span = tracing::info_span!(
            "governor",
            tool = %intent.tool,
            outcome = tracing::field::Empty,
            rule = tracing::field::Empty,
            risk = tracing::field::Empty,
        );
        let _governor = span.enter();
        let decision = self.governor().decide(&call, &context, ledger);
        span.record("outcome", decision.outcome.name());
        span.record("risk", decision.risk.to_string().as_str());
        if let Some(rule) = &decision.deciding_rule {
            span.record("rule", rule.as_str());
        }
        decision
    }

    /// The system a call of `tool` with `args` touches, as the governor resolves it: the
    /// tool's resource argument, else its default resource.
    pub fn service_of(
        &self,
        tool: &str,
        args: &serde_json::Map<String, serde_json::Value>,
    ) -> Option<String> {
        let governor = self.governor();
        let rules = governor.bundle().guards.tools.get(tool)?;
        rules
            .resource_param
            .as_deref()
            .and_then(|param| args.get(param))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .or_else(|| rules.default_resource.clone())
    }

    /// The amount an intent moves, when its tool carries one.
    pub fn amount_cents(&self, intent: &Intent) -> Option<i64> {
        let governor = self.governor();
        let rules = governor.bundle().guards.tools.get(&intent.tool)?;
        let param = rules.amount_param.as_deref()?;
        intent.args.get(param)?.as_i64()
    }

    /// A token for an allowed intent.
    pub fn issue(&self, intent: &Intent, decision: &Decision) -> IntentToken {
        self.issuer.issue(
            &intent.tool,
            &intent.args,
            &self.principal,
            &decision.id,
            SystemTime::now(),
        )
    }

    /// A token for a call an approver approved: bound to the principal who asked for it.
    pub fn issue_approved(
        &self,
        intent: &Intent,
        decision_id: &str,
        requester: &str,
    ) -> IntentToken {
        self.issuer.issue(
            &intent.tool,
            &intent.args,
            requester,
            decision_id,
            SystemTime::now(),
        )
    }

    /// The executor's check: the token must match this exact call by `principal` (the one
    /// who asked) and be unused.
    pub fn verify(
        &self,
        token: Option<&IntentToken>,
        intent: &Intent,
        principal: &str,
    ) -> Result<VerifiedIntent, TokenError> {
        self.verifier.verify(
            token,
            &intent.tool,
            &intent.args,
            principal,
            SystemTime::now(),
        )
    }

    /// Whether this installation only plans (`[deployment] read_only` in guards.toml).
    pub fn read_only(&self) -> bool {
        self.governor().bundle().guards.deployment.read_only
    }

    /// Approval requests and approvers' accounts, as the policy configures them.
    pub fn approvals_config(&self) -> airlock_policy::config::ApprovalsConfig {
        self.governor().bundle().guards.approvals.clone()
    }

    /// Loads the policy directory again (see [`Governor::reload`]): on any problem the policy
    /// in force stays.
    pub fn reload(
        &self,
        policy_dir: &std::path::Path,
    ) -> Result<(), airlock_policy::GovernorError> {
        self.governor
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .reload(policy_dir)
    }

    fn governor(&self) -> RwLockReadGuard<'_, Governor> {
        self.governor.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// For a tool whose target is named by an argument: that argument, and the ids of the
    /// systems (or documents) the directory knows.
    pub fn resource_choices(&self, tool: &str) -> Option<(String, Vec<String>)> {
        let governor = self.governor();
        let bundle = governor.bundle();
        let rules = bundle.guards.tools.get(tool)?;
        let param = rules.resource_param.clone()?;
        let known = match rules.resource_kind {
            airlock_policy::config::ResourceKind::System => {
                bundle.directory.systems.keys().cloned().collect()
            }
            airlock_policy::config::ResourceKind::Document => {
                bundle.directory.documents.keys().cloned().collect()
            }
        };
        Some((param, known))
    }

    /// Where a call of `tool` with `args` lands: the system (named by the tool or by its
    /// resource argument) and that system's environment and classification in the directory.
    pub fn target_of(
        &self,
        spec: &airlock_core::ToolSpec,
        args: &serde_json::Map<String, serde_json::Value>,
    ) -> crate::CallTarget {
        let governor = self.governor();
        let bundle = governor.bundle();
        let system = match &spec.target.system {
            Some((name, _)) => Some(name.clone()),
            None => bundle
                .guards
                .tools
                .get(&spec.name)
                .and_then(|rules| rules.resource_param.as_deref())
                .and_then(|param| args.get(param))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
        };
        let known = system
            .as_deref()
            .and_then(|name| bundle.directory.systems.get(name));
        crate::CallTarget {
            kind: spec.target.kind,
            environment: known.map(|entry| entry.environment.clone()).or_else(|| {
                spec.target
                    .system
                    .as_ref()
                    .map(|(_, environment)| serde_name(environment))
            }),
            classification: known.map_or_else(
                || serde_name(&spec.target.results),
                |entry| entry.classification.clone(),
            ),
            system,
        }
    }

    /// Every role the directory defines and every approver group the policy names, sorted:
    /// what a local account may be given.
    pub fn known_roles(&self) -> Vec<String> {
        let governor = self.governor();
        let bundle = governor.bundle();
        let mut roles: std::collections::BTreeSet<String> =
            bundle.directory.roles.keys().cloned().collect();
        roles.extend(
            bundle
                .notes
                .values()
                .filter_map(|note| note.approver.clone()),
        );
        roles.insert(bundle.guards.taint.approver.clone());
        roles.into_iter().collect()
    }

    /// The roles and groups the policy's directory gives `name` (none for a stranger).
    pub fn memberships(&self, name: &str) -> Vec<String> {
        self.governor().bundle().directory.memberships(name)
    }

    /// Records an allowed or pending spend so later budget decisions count it.
    pub fn record_spend(
        &self,
        store: &Store,
        intent: &Intent,
        decision: &Decision,
    ) -> Result<(), AgentError> {
        self.record_spend_of(&self.principal, store, intent, decision)
    }

    /// As [`Governance::record_spend`], for `principal`'s call.
    pub fn record_spend_of(
        &self,
        principal: &str,
        store: &Store,
        intent: &Intent,
        decision: &Decision,
    ) -> Result<(), AgentError> {
        let Some(cents) = self.amount_cents(intent) else {
            return Ok(());
        };
        let status = if decision.is_allow() {
            SpendStatus::Approved
        } else {
            SpendStatus::Pending
        };
        store.record_spend(principal, cents, status, &decision.id, &intent.tool)?;
        Ok(())
    }
}

/// The local time, or UTC where the offset cannot be determined.
fn now() -> OffsetDateTime {
    OffsetDateTime::now_local().unwrap_or_else(|_| OffsetDateTime::now_utc())
}

/// The store as the governor's ledger: the spend ledger and principal standings.
pub(crate) struct StoreLedger<'a>(pub &'a Store);

fn rfc3339(at: OffsetDateTime) -> Result<String, LedgerError> {
    at.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(|err| LedgerError(err.to_string()))
}

fn parse_time(text: Option<String>) -> Result<Option<OffsetDateTime>, LedgerError> {
    text.map(|text| {
        OffsetDateTime::parse(&text, &Rfc3339)
            .map_err(|err| LedgerError(format!("stored time `{text}` is not RFC 3339: {err}")))
    })
    .transpose()
}

impl Ledger for StoreLedger<'_> {
    fn spent_cents(&self, principal: &str, since: OffsetDateTime) -> Result<i64, LedgerError> {
        self.0
            .spend_since(principal, &rfc3339(since)?)
            .map_err(|err| LedgerError(err.to_string()))
    }

    fn standing(&self, principal: &str) -> Result<Standing, LedgerError> {
        let Some(stored) = self
            .0
            .principal_standing(principal)
            .map_err(|err| LedgerError(err.to_string()))?
        else {
            return Ok(Standing::default());
        };
        Ok(Standing {
            warned_at: parse_time(stored.warned_at)?,
            warned_for: stored.warned_for,
            blacklisted_until: parse_time(stored.blacklisted_until)?,
        })
    }

    fn set_standing(&self, principal: &str, standing: &Standing) -> Result<(), LedgerError> {
        let stored = PrincipalStanding {
            warned_at: standing.warned_at.map(rfc3339).transpose()?,
            warned_for: standing.warned_for.clone(),
            blacklisted_until: standing.blacklisted_until.map(rfc3339).transpose()?,
        };
        self.0
            .set_principal_standing(principal, &stored)
            .map_err(|err| LedgerError(err.to_string()))
    }
}

/// A unit enum's serde name (e.g. `prod`, `internal`).
fn serde_name(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}
