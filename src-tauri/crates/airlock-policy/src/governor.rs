//! The decision pipeline: identity → allowlist → Cedar → rate limit → parameters → injection
//! → taint → business guards → budget → sequence → clarification. The first denial stops it;
//! approvals and warnings accumulate; every layer that ran is in the trace.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use airlock_core::{Classification, Confidence, ToolEffect, ToolSpec};
use cedar_policy::{Authorizer, EntityUid};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::bundle::{PolicyBundle, PolicyError};
use crate::config::ToolRules;
use crate::decision::{Decision, Layer, Outcome, Risk, Step};
use crate::directory::{Member, PrincipalKind};
use crate::guards::command::CommandGuard;
use crate::guards::config::ConfigGuard;
use crate::guards::injection::{self, InjectionScreen};
use crate::guards::sql::SqlGuard;
use crate::layers::authorization::{self, CedarQuery, Resource};
use crate::layers::business::{self, Guards};
use crate::layers::injection::Offences;
use crate::layers::parameters::ArgumentSchema;
use crate::layers::rate::Buckets;
use crate::layers::sequence::{Recent, Sessions};
use crate::layers::{allowlist, budget, identity, taint, Effect, Finding};
use crate::ledger::Ledger;

/// One proposed tool call.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// Who asks: an OS login name or an agent profile.
    pub principal: &'a str,
    /// The tool.
    pub tool: &'a str,
    /// Its arguments.
    pub args: &'a Map<String, Value>,
}

/// What the governor knows about the circumstances of a call.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// The session (conversation) the call belongs to; sequence rules look at its history.
    pub session: String,
    /// The request this call is part of (its trace id): the intents of one request count as
    /// one injection offence. `None`: every call is its own request.
    pub request_id: Option<String>,
    /// The user's request text, screened for injections.
    pub request_text: Option<String>,
    /// The planner's confidence in this call; `None` when a person typed the call.
    pub confidence: Option<Confidence>,
    /// Names of arguments whose values came from tool output or retrieved documents.
    pub tainted: BTreeSet<String>,
    /// The time of the decision (local offset: policies see the local hour).
    pub now: OffsetDateTime,
    /// The caller's roles and groups as stated by a source an admin vouched for (a batch file
    /// an admin runs), used instead of the directory's entry; `None`: the directory decides.
    pub identity: Option<Member>,
}

impl CallContext {
    /// A context for a call typed by a person in `session` at `now`.
    #[must_use]
    pub fn new(session: impl Into<String>, now: OffsetDateTime) -> Self {
        Self {
            session: session.into(),
            request_id: None,
            request_text: None,
            confidence: None,
            tainted: BTreeSet::new(),
            now,
            identity: None,
        }
    }
}

/// Why a governor could not be built.
#[derive(Debug, thiserror::Error)]
pub enum GovernorError {
    /// The policy directory has problems.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// A tool's argument schema or a guard's configuration is invalid.
    #[error("{0}")]
    Setup(String),
}

/// A tool the governor decides about: its spec and compiled argument schema.
struct GovernedTool {
    spec: ToolSpec,
    schema: ArgumentSchema,
}

impl AsRef<ToolSpec> for GovernedTool {
    fn as_ref(&self) -> &ToolSpec {
        &self.spec
    }
}

/// Everything derived from one policy bundle.
struct Compiled {
    bundle: PolicyBundle,
    tools: BTreeMap<String, GovernedTool>,
    guards: Guards,
    screen: InjectionScreen,
    destructive: BTreeSet<String>,
}

/// Memory across calls within this process: rate buckets and session histories. (Offences and
/// spend live in the [`Ledger`].)
#[derive(Default)]
struct State {
    buckets: Buckets,
    sessions: Sessions,
}

/// The governor. Decides each proposed call; keeps rate, offence and session state between
/// calls. Cheap to share behind an `Arc`: [`Governor::decide`] takes `&self`.
pub struct Governor {
    compiled: Compiled,
    state: Mutex<State>,
    authorizer: Authorizer,
    sim_root: PathBuf,
}

impl Governor {
    /// Loads the policy directory and prepares decisions about `tools`. `sim_root` is the host
    /// directory the sandbox mounts at `/sim` (the command guard's jail).
    ///
    /// # Errors
    /// [`GovernorError::Policy`] with every problem of the policy files;
    /// [`GovernorError::Setup`] when a tool schema or guard configuration is invalid or a tool
    /// has no Cedar action.
    pub fn load(
        policy_dir: &Path,
        tools: &[ToolSpec],
        sim_root: &Path,
    ) -> Result<Self, GovernorError> {
        let bundle = PolicyBundle::load(policy_dir)?;
        Self::with_bundle(bundle, tools, sim_root)
    }

    /// Prepares decisions with an already loaded bundle.
    ///
    /// # Errors
    /// As [`Governor::load`], without the policy problems.
    pub fn with_bundle(
        bundle: PolicyBundle,
        tools: &[ToolSpec],
        sim_root: &Path,
    ) -> Result<Self, GovernorError> {
        let compiled = compile(bundle, tools, sim_root)?;
        Ok(Self {
            compiled,
            state: Mutex::new(State::default()),
            authorizer: Authorizer::new(),
            sim_root: sim_root.to_path_buf(),
        })
    }

    /// Loads the policy directory again. On any problem the current policy stays in force and
    /// the problems are returned; rate, offence and session state survive a reload.
    ///
    /// # Errors
    /// As [`Governor::load`].
    pub fn reload(&mut self, policy_dir: &Path) -> Result<(), GovernorError> {
        let tools: Vec<ToolSpec> = self
            .compiled
            .tools
            .values()
            .map(|t| t.spec.clone())
            .collect();
        let bundle = PolicyBundle::load(policy_dir)?;
        self.compiled = compile(bundle, &tools, &self.sim_root)?;
        Ok(())
    }

    /// What the policy's injection screen finds in `text`: other text about to reach the
    /// model, such as a retrieved passage, screened as a request would be.
    #[must_use]
    pub fn screen(&self, text: &str) -> Vec<injection::Finding> {
        self.compiled.screen.screen(text)
    }

    /// Whether `tool` is one the governor decides (a tool of an attached MCP server it could
    /// not use is not: its calls are refused as unknown).
    #[must_use]
    pub fn governs(&self, tool: &str) -> bool {
        self.compiled.tools.contains_key(tool)
    }

    /// The policy in force.
    #[must_use]
    pub fn bundle(&self) -> &PolicyBundle {
        &self.compiled.bundle
    }

    /// What `principal` may retrieve from the plant's documents (see [`Directory::reader`]).
    ///
    /// [`Directory::reader`]: crate::directory::Directory::reader
    #[must_use]
    pub fn clearance(&self, principal: &str) -> (Classification, Vec<String>) {
        self.compiled.bundle.directory.reader(principal)
    }

    /// Decides one call. Never panics on any input; a failure to evaluate is a denial.
    pub fn decide(&self, call: &Call<'_>, context: &CallContext, ledger: &dyn Ledger) -> Decision {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut run = Run::default();
        let restricted_read = self.pipeline(&mut state, &mut run, call, context, ledger);
        let decision = run.finish();
        let recent = Recent {
            restricted_read: restricted_read && !matches!(decision.outcome, Outcome::Deny { .. }),
            denied: matches!(decision.outcome, Outcome::Deny { .. }),
        };
        state.sessions.remember(
            &self.compiled.bundle.guards.sequence,
            &context.session,
            recent,
        );
        decision
    }

    /// Admits a request before anything is planned for it: the principal must pass the
    /// identity layer and the request text (`context.request_text`) the injection screen. An
    /// injection found here counts as the request's offence, so a request the planner turns
    /// into no call at all is still warned about; its calls, decided later under the same
    /// `request_id`, do not count it twice. `Allow` means: go on and plan.
    pub fn admit(&self, principal: &str, context: &CallContext, ledger: &dyn Ledger) -> Decision {
        let mut run = Run::default();
        let offences = Offences::new(ledger);
        if self
            .identify(
                &mut run,
                principal,
                context.now,
                &offences,
                context.identity.as_ref(),
            )
            .is_some()
        {
            let texts: Vec<(&str, &str)> = context
                .request_text
                .as_deref()
                .map(|text| ("the request", text))
                .into_iter()
                .collect();
            let guards = &self.compiled.bundle.guards;
            run.check(Layer::Injection, || {
                offences.check(
                    &self.compiled.screen,
                    &guards.injection,
                    principal,
                    context.request_id.as_deref(),
                    &texts,
                    context.now,
                )
            });
        }
        run.finish()
    }

    /// Layer 1 into `run`: the principal's kind and directory entry (or the identity
    /// `asserted` for it), `None` when it is denied.
    fn identify<'s>(
        &'s self,
        run: &mut Run,
        principal: &str,
        now: OffsetDateTime,
        offences: &Offences<'_>,
        asserted: Option<&'s Member>,
    ) -> Option<(PrincipalKind, &'s Member)> {
        let _layer = layer_span(Layer::Identity);
        let blacklisted = match offences.blacklisted_until(principal, now) {
            Ok(until) => until,
            Err(err) => {
                run.add(Finding::deny(
                    Layer::Identity,
                    "identity.ledger_unavailable",
                    format!("{err}; nothing is decided until it can be read"),
                    Risk::High,
                ));
                return None;
            }
        };
        let checked = match asserted {
            Some(member) => identity::check_asserted(
                &self.compiled.bundle.directory,
                principal,
                member,
                blacklisted,
            ),
            None => identity::check(&self.compiled.bundle.directory, principal, blacklisted),
        };
        match checked {
            Ok((kind, member, finding)) => {
                run.add(finding);
                Some((kind, member))
            }
            Err(finding) => {
                run.add(finding);
                None
            }
        }
    }

    /// Runs the layers into `run`; returns whether the call reads a restricted resource.
    fn pipeline(
        &self,
        state: &mut State,
        run: &mut Run,
        call: &Call<'_>,
        context: &CallContext,
        ledger: &dyn Ledger,
    ) -> bool {
        let compiled = &self.compiled;
        let bundle = &compiled.bundle;
        let guards = &bundle.guards;
        let now = context.now;

        let offences = Offences::new(ledger);
        let Some((kind, member)) = self.identify(
            run,
            call.principal,
            now,
            &offences,
            context.identity.as_ref(),
        ) else {
            return false;
        };

        let allowed = {
            let _layer = layer_span(Layer::Allowlist);
            match allowlist::check(
                &bundle.directory,
                &compiled.tools,
                call.principal,
                member,
                call.tool,
            ) {
                Ok((tool, finding)) => {
                    run.add(finding);
                    Some(tool)
                }
                Err(finding) => {
                    run.stop(finding);
                    None
                }
            }
        };
        let Some(tool) = allowed else {
            return false;
        };
        let default_rules = ToolRules::default();
        let rules = guards.tools.get(call.tool).unwrap_or(&default_rules);
        let is_write = tool.spec.effect == ToolEffect::Write;

        let resource = match authorization::resolve(&bundle.directory, call.tool, rules, call.args)
        {
            Ok(resource) => resource,
            Err(finding) => return run.stop(finding),
        };
        run.risk(base_risk(
            &resource,
            is_write,
            compiled.destructive.contains(call.tool),
        ));
        let amount_cents = rules
            .amount_param
            .as_deref()
            .and_then(|param| call.args.get(param))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let query = CedarQuery {
            principal: call.principal,
            kind,
            tool: call.tool,
            action: cedar_action(&tool.spec),
            resource: &resource,
            amount_cents,
            hour: now.hour(),
            tainted: !context.tainted.is_empty(),
        };
        let stated;
        let entities = match &context.identity {
            None => &bundle.entities,
            Some(stated_member) => match bundle.entities_with(call.principal, stated_member) {
                Ok(entities) => {
                    stated = entities;
                    &stated
                }
                Err(message) => {
                    return run.stop(Finding::deny(
                        Layer::Identity,
                        "identity.unusable",
                        format!("the identity stated for `{}` does not fit the policy's schema ({message}); correct its role and groups", call.principal),
                        Risk::Medium,
                    ))
                }
            },
        };
        if run.check(Layer::Authorization, || {
            authorization::check(&self.authorizer, bundle, entities, &query)
        }) {
            return false;
        }

        if run.check(Layer::RateLimit, || {
            state
                .buckets
                .check(&guards.rate_limits, call.principal, call.tool, now)
        }) {
            return false;
        }
        if run.check(Layer::Parameters, || {
            tool.schema.check(call.tool, call.args, &guards.limits)
        }) {
            return false;
        }

        let tainted_texts: Vec<(String, &str)> = context
            .tainted
            .iter()
            .filter_map(|name| {
                call.args
                    .get(name)
                    .and_then(Value::as_str)
                    .map(|text| (format!("argument `{name}`"), text))
            })
            .collect();
        let mut texts: Vec<(&str, &str)> = Vec::with_capacity(1 + tainted_texts.len());
        if let Some(request) = &context.request_text {
            texts.push(("the request", request));
        }
        texts.extend(
            tainted_texts
                .iter()
                .map(|(label, text)| (label.as_str(), *text)),
        );
        if run.check(Layer::Injection, || {
            offences.check(
                &compiled.screen,
                &guards.injection,
                call.principal,
                context.request_id.as_deref(),
                &texts,
                now,
            )
        }) {
            return false;
        }

        if run.check(Layer::Taint, || {
            taint::check(&guards.taint, call.tool, rules, &context.tainted)
        }) {
            return false;
        }
        if run.check(Layer::BusinessGuards, || {
            business::check(
                &compiled.guards,
                &guards.amounts,
                call.tool,
                rules,
                call.args,
            )
        }) {
            return false;
        }
        if rules.amount_param.is_some()
            && run.check(Layer::Budget, || {
                budget::check(&guards.budget, ledger, call.principal, amount_cents, now)
            })
        {
            return false;
        }
        if run.check(Layer::Sequence, || {
            state
                .sessions
                .check(&guards.sequence, &context.session, call.tool, is_write)
        }) {
            return false;
        }
        run.check(Layer::Clarification, || {
            clarification(guards.clarify.min_confidence, call.tool, context.confidence)
        });
        !is_write && resource.is_restricted()
    }
}

/// The span one layer's check runs in (`governor.layer`); [`Run::add`] records its verdict and
/// rule, so a trace shows each layer's time and finding.
fn layer_span(layer: Layer) -> tracing::span::EnteredSpan {
    tracing::info_span!(
        "governor.layer",
        layer = layer.name(),
        verdict = tracing::field::Empty,
        rule = tracing::field::Empty
    )
    .entered()
}

/// The risk a call carries before any layer finds anything.
fn base_risk(resource: &Resource, is_write: bool, destructive: bool) -> Risk {
    match (is_write, destructive, resource.environment.as_str()) {
        (_, true, "prod") => Risk::Critical,
        (true, true, _) | (true, false, "prod") => Risk::High,
        (true, false, _) => Risk::Medium,
        (false, _, _) if resource.is_restricted() => Risk::Medium,
        _ => Risk::Low,
    }
}

/// Layer 11: a guess gets a question, not an execution.
fn clarification(min: Confidence, tool: &str, confidence: Option<Confidence>) -> Finding {
    match confidence {
        Some(confidence) if confidence < min => Finding::clarify(
            Layer::Clarification,
            "clarify.low_confidence",
            vec![format!(
                "I am not sure `{tool}` is what you want (planner confidence: {}). Could you say more precisely what you need?",
                format!("{confidence:?}").to_lowercase()
            )],
            Risk::Low,
        ),
        Some(confidence) => Finding::pass(
            Layer::Clarification,
            format!("planner confidence {} meets the minimum", format!("{confidence:?}").to_lowercase()),
            Risk::Low,
        ),
        None => Finding::pass(Layer::Clarification, "typed by a person, not planned", Risk::Low),
    }
}

/// The decision under construction.
#[derive(Default)]
struct Run {
    trace: Vec<Step>,
    risk: Risk,
    deny: Option<(String, Option<String>)>,
    approval: Option<(String, String, String)>,
    clarify: Option<(Vec<String>, String)>,
}

impl Run {
    fn risk(&mut self, risk: Risk) {
        self.risk = self.risk.max(risk);
    }

    /// Adds a finding; returns whether the pipeline must stop (a denial or a question about
    /// the target).
    fn add(&mut self, finding: Finding) -> bool {
        self.risk(finding.step.risk);
        let rule = finding.step.rules.first().cloned();
        let span = tracing::Span::current();
        span.record("verdict", finding.step.verdict.name());
        if let Some(rule) = &rule {
            span.record("rule", rule.as_str());
        }
        let stop = match finding.effect {
            Effect::None => false,
            Effect::Deny(reason) => {
                self.deny = Some((reason, rule));
                true
            }
            Effect::Approval { group, reason } => {
                if self.approval.is_none() {
                    self.approval = Some((group, reason, rule.unwrap_or_default()));
                }
                false
            }
            Effect::Clarify(questions) => {
                self.clarify = Some((questions, rule.unwrap_or_default()));
                false
            }
        };
        self.trace.push(finding.step);
        stop
    }

    /// Runs one layer's `check` in its span and adds the finding; returns whether the pipeline
    /// must stop.
    fn check(&mut self, layer: Layer, check: impl FnOnce() -> Finding) -> bool {
        let _layer = layer_span(layer);
        self.add(check())
    }

    /// Adds a finding that ends the pipeline.
    fn stop(&mut self, finding: Finding) -> bool {
        self.add(finding);
        false
    }

    fn finish(self) -> Decision {
        let (outcome, deciding_rule) = if let Some((reason, rule)) = self.deny {
            (Outcome::Deny { reason }, rule)
        } else if let Some((questions, rule)) = self.clarify {
            (Outcome::Clarify { questions }, Some(rule))
        } else if let Some((approver_group, reason, rule)) = self.approval {
            (
                Outcome::RequireApproval {
                    approver_group,
                    reason,
                },
                Some(rule),
            )
        } else {
            let rule = self
                .trace
                .iter()
                .find(|step| step.layer == Layer::Authorization)
                .and_then(|step| step.rules.first().cloned());
            (Outcome::Allow, rule)
        };
        Decision {
            id: uuid::Uuid::new_v4().to_string(),
            outcome,
            risk: self.risk,
            deciding_rule,
            trace: self.trace,
        }
    }
}

/// Checks what `spec` declares about its system against the policy's directory and guards,
/// and makes the declared system the tool's default resource when guards.toml names none.
fn check_target(bundle: &mut PolicyBundle, spec: &ToolSpec) -> Result<(), GovernorError> {
    let Some((system, environment)) = &spec.target.system else {
        return Ok(());
    };
    let name = &spec.name;
    let setup = |detail: String| Err(GovernorError::Setup(format!("tool `{name}` {detail}")));
    let rules = bundle.guards.tools.entry(name.clone()).or_default();
    match &rules.default_resource {
        Some(resource) if resource != system => {
            return setup(format!(
                "reaches system `{system}`, but guards.toml gives it default_resource `{resource}`; make them agree"
            ))
        }
        Some(_) => {}
        None => rules.default_resource = Some(system.clone()),
    }
    let Some(entry) = bundle.directory.systems.get(system) else {
        return setup(format!(
            "reaches system `{system}`, which principals.toml does not list under [systems]"
        ));
    };
    if entry.environment != environment.as_str() {
        return setup(format!(
            "declares system `{system}` as {}, but principals.toml says {}",
            environment.as_str(),
            entry.environment
        ));
    }
    if Some(spec.target.results) < Classification::parse(&entry.classification) {
        return setup(format!(
            "declares its results {}, less sensitive than system `{system}` ({})",
            spec.target.results.as_str(),
            entry.classification
        ));
    }
    Ok(())
}

/// The Cedar action every tool of an attached MCP server is decided as; policies tell those
/// tools apart by `context.tool`, and a role lists this action to use them at all.
pub const EXTERNAL_ACTION: &str = "external_tool";

/// The Cedar action a call of `spec` is decided as: the tool's own name, or
/// [`EXTERNAL_ACTION`] for a tool of an attached MCP server.
#[must_use]
pub fn cedar_action(spec: &ToolSpec) -> &str {
    if spec.target.kind == airlock_core::SystemKind::External {
        EXTERNAL_ACTION
    } else {
        &spec.name
    }
}

fn compile(
    mut bundle: PolicyBundle,
    specs: &[ToolSpec],
    sim_root: &Path,
) -> Result<Compiled, GovernorError> {
    let actions = bundle.tools();
    let mut tools = BTreeMap::new();
    for spec in specs {
        let external = spec.target.kind == airlock_core::SystemKind::External;
        match check_target(&mut bundle, spec) {
            Err(err) if external => {
                tracing::warn!(%err, "a tool of an attached MCP server is left out: its calls are refused");
                continue;
            }
            checked => checked?,
        }
        let action = cedar_action(spec);
        if !actions.contains(action) {
            return Err(GovernorError::Setup(format!(
                "tool `{}` has no action `{action}` in the Cedar schema; add it to policy/*.cedarschema",
                spec.name
            )));
        }
        let schema = match ArgumentSchema::compile(spec) {
            Ok(schema) => schema,
            Err(err) if external => {
                tracing::warn!(tool = %spec.name, %err, "a tool of an attached MCP server has an argument schema the governor cannot use; its calls are refused");
                continue;
            }
            Err(err) => {
                return Err(GovernorError::Setup(format!(
                    "tool `{}` has an invalid argument schema: {err}",
                    spec.name
                )))
            }
        };
        tools.insert(
            spec.name.clone(),
            GovernedTool {
                spec: spec.clone(),
                schema,
            },
        );
    }
    let destructive_group = EntityUid::from_type_name_and_id(
        "Airlock::Action"
            .parse()
            .map_err(|err| GovernorError::Setup(format!("{err}")))?,
        cedar_policy::EntityId::new("destructive"),
    );
    let destructive = actions
        .iter()
        .filter(|name| {
            let Ok(action_type) = "Airlock::Action".parse() else {
                return false;
            };
            let uid = EntityUid::from_type_name_and_id(
                action_type,
                cedar_policy::EntityId::new(name.as_str()),
            );
            bundle.entities.is_ancestor_of(&destructive_group, &uid)
        })
        .cloned()
        .collect();
    let setup = |what: &str, err: String| {
        GovernorError::Setup(format!(
            "{what} in {}: {err}",
            bundle.dir.join(crate::bundle::GUARDS_FILE).display()
        ))
    };
    let guards = Guards {
        command: CommandGuard::new(bundle.guards.command.clone(), sim_root.to_path_buf()),
        sql: SqlGuard::new(bundle.guards.sql.clone()),
        config: ConfigGuard::new(bundle.guards.config.clone()),
    };
    let screen = InjectionScreen::new(bundle.guards.injection.screen())
        .map_err(|err| setup("[injection]", err.to_string()))?;
    Ok(Compiled {
        bundle,
        tools,
        guards,
        screen,
        destructive,
    })
}
