//! The orchestrator: one request from text to answer, every step recorded.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;

use airlock_connectors::ops::{OpsSimulator, GET_SYSTEM_STATUS};
use airlock_core::{Confidence, EventKind, Intent, Mode, ToolSpec, TraceId, Undo};
use airlock_llm::{
    ChatMessage, Generation, LoadedModel, ModelWorker, Role, StopReason, Usage, WorkerConfig,
    WORKER_ARG,
};
use airlock_sandbox::{Chunk, SandboxConfig};
use airlock_store::Store;
use serde::Serialize;
use serde_json::{json, Map, Value};

use airlock_policy::token::IntentToken;
use airlock_policy::{Decision, Outcome};

use crate::choice::{self, ClauseChoice, PlanChoice, ScoredChoice, ScoredRequest, ToolChoice};
use crate::documents::{self, DocumentSearch, EmbedderSlot};
use crate::governance::{Governance, RequestRef};
use crate::planner::{self, Example};
use crate::preselect::{Preselection, ToolIndex, ALWAYS_OFFERED};
use crate::sandboxed::SandboxRunner;
use crate::timing::{RequestClock, Timings};
use crate::{answer, check_request, conversation, focus, remedy, AgentError, ToolRegistry};

/// The name of the key that signs audit checkpoints, in the OS keychain (or a key file).
pub const AUDIT_KEY: &str = "audit-checkpoints";

/// Most calls one typed plan may hold.
pub const MAX_TYPED_CALLS: usize = 16;

/// How many tools the planner is offered, in its prompt too, when listing every tool would
/// overflow the model's context (the best prompt-narrowing setting measured, BENCHMARKS.md).
const OVERFLOW_TOP_K: usize = 4;

/// Longest tool result kept in an event, in characters.
const MAX_EVENT_RESULT_CHARS: usize = 4_000;

/// The directory under the data directory where the model worker keeps the KV cache of the
/// planner's shared prompt prefix by default.
const PROMPT_CACHE_DIR: &str = "prompt-cache";
/// The variable that puts the prompt cache elsewhere (several data directories can share one:
/// entries are keyed by model, executable and tokens).
const PROMPT_CACHE_ENV: &str = "AIRLOCK_PROMPT_CACHE_DIR";

/// Where the agent keeps its data and finds its model, fixtures and worker.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Directory of the SQLite file.
    pub data_dir: PathBuf,
    /// Where the model worker keeps the KV cache of the planner's shared prompt prefix between
    /// processes (`$AIRLOCK_PROMPT_CACHE_DIR`, else `prompt-cache` in the data directory).
    pub prompt_cache_dir: PathBuf,
    /// Directory searched for models.
    pub models_dir: PathBuf,
    /// A model chosen explicitly (`--model`), overriding the registry's choice.
    pub model: Option<PathBuf>,
    /// The simulator fixtures (logs, status, planner examples).
    pub fixtures_dir: PathBuf,
    /// The governor's policy directory.
    pub policy_dir: PathBuf,
    /// Who the requests run as: the OS login name by default.
    pub principal: String,
    /// Program run as the model worker.
    pub worker_program: PathBuf,
    /// Its arguments.
    pub worker_args: Vec<OsString>,
    /// Where `run_command` runs: the Docker engine, limits, the directory mounted at /sim.
    pub sandbox: SandboxConfig,
    /// The keychain service the connection secrets are under (see `Vault::in_service`).
    pub vault_service: String,
    /// How many tools the planner is offered per request.
    pub preselection: Preselection,
    /// How the planner picks among the offered tools.
    pub tool_choice: ToolChoice,
}

impl AgentConfig {
    /// A configuration whose model worker is the current executable in worker mode.
    ///
    /// # Errors
    /// [`AgentError::Model`] when the current executable cannot be determined.
    pub fn with_current_exe(
        data_dir: PathBuf,
        models_dir: PathBuf,
        fixtures_dir: PathBuf,
    ) -> Result<Self, AgentError> {
        let worker = WorkerConfig::current_exe(PathBuf::new())?;
        Ok(Self {
            prompt_cache_dir: std::env::var_os(PROMPT_CACHE_ENV)
                .map_or_else(|| data_dir.join(PROMPT_CACHE_DIR), PathBuf::from),
            data_dir,
            models_dir,
            model: None,
            policy_dir: crate::default_policy_dir(),
            principal: os_principal(),
            worker_program: worker.program,
            worker_args: vec![WORKER_ARG.into()],
            sandbox: sandbox_config(&fixtures_dir),
            vault_service: airlock_connectors::VAULT_SERVICE.to_owned(),
            preselection: Preselection::off(),
            tool_choice: ToolChoice::Scored(ScoredChoice::default()),
            fixtures_dir,
        })
    }
}

/// The sandbox settings for `fixtures_dir`: its `sim/` mounted at /sim, the engine from
/// `DOCKER_HOST` (or the local socket), the image the installer shipped when there is one, and
/// the container runtime from `AIRLOCK_SANDBOX_RUNTIME` (e.g. `runsc` for gVisor) when set.
fn sandbox_config(fixtures_dir: &std::path::Path) -> SandboxConfig {
    let mut config = SandboxConfig::new(fixtures_dir.join("sim"));
    config.image_tar = shipped_sandbox_image();
    config.runtime = std::env::var(SANDBOX_RUNTIME_ENV)
        .ok()
        .filter(|runtime| !runtime.trim().is_empty());
    config
}

/// The installer's sandbox image tar (`sandbox/airlock-sandbox.tar` among the resources), if
/// this is an installed copy.
fn shipped_sandbox_image() -> Option<std::path::PathBuf> {
    const TAR: &str = "airlock-sandbox.tar";
    let dir = airlock_core::resources::locate_dir("AIRLOCK_SANDBOX_IMAGE_DIR", "sandbox", TAR);
    Some(dir.join(TAR)).filter(|tar| tar.is_file())
}

/// Starts the external MCP servers `policy_dir` lists (`mcp-servers.toml`). A server that does
/// not start is left out with a warning: its tools are not offered, the rest of Airlock works.
///
/// # Errors
/// [`AgentError::Mcp`] when the file cannot be read or parsed.
fn attach_mcp_servers(
    policy_dir: &std::path::Path,
) -> Result<Vec<airlock_connectors::mcp::AttachedServer>, AgentError> {
    let servers = airlock_connectors::mcp::load_servers(policy_dir)?;
    Ok(servers
        .iter()
        .filter_map(|server| match airlock_connectors::mcp::attach(server) {
            Ok(attached) => {
                tracing::info!(server = %server.name, tools = attached.specs.len(), "MCP server attached");
                Some(attached)
            }
            Err(err) => {
                tracing::warn!(%err, "MCP server left out");
                None
            }
        })
        .collect())
}

/// The environment variable naming the sandbox's container runtime.
const SANDBOX_RUNTIME_ENV: &str = "AIRLOCK_SANDBOX_RUNTIME";

/// The login name of the OS user this process runs as: the principal requests run as. Taken
/// from the process's user id and the password database, not from `$USER` (which anyone can
/// set); `$USER` is used only where the user id cannot be read.
#[must_use]
pub fn os_principal() -> String {
    os_user_name().unwrap_or_else(|| {
        std::env::var("USER")
            .ok()
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "unknown".to_owned())
    })
}

#[cfg(target_os = "linux")]
fn os_user_name() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the process's effective user.
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let entry_uid: u32 = fields.nth(1)?.parse().ok()?;
        (entry_uid == uid).then(|| name.to_owned())
    })
}

#[cfg(not(target_os = "linux"))]
fn os_user_name() -> Option<String> {
    None
}

/// One intent of the plan with the governor's decision on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedIntent {
    /// What the model proposed.
    #[serde(flatten)]
    pub intent: Intent,
    /// The governor's decision, with its trace.
    pub decision: Decision,
    /// The intent token, issued only for an allowed intent in execute mode; never serialised.
    #[serde(skip)]
    pub token: Option<IntentToken>,
    /// The approval request it waits in, for a call that needs approval in execute mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
}

/// What the planner proposed for a request, before any decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Draft {
    /// The proposed calls.
    pub intents: Vec<Intent>,
    /// The tools the planner was offered (all of them without preselection).
    pub offered: Vec<String>,
    /// With the scored tool choice: each step's choice, from the first call to the end.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<PlanChoice>,
    /// The model and its token counts and rates for this plan.
    pub usage: PlanUsage,
}

/// What planning one request cost the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanUsage {
    /// The model file's name.
    pub model: String,
    /// Tokens in the prompt.
    pub prompt_tokens: u32,
    /// Tokens generated.
    pub completion_tokens: u32,
    /// Time to the first generated token.
    pub first_token_ms: f64,
    /// The decode rate.
    pub tokens_per_s: f64,
}

/// A tool call that ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Action {
    /// The tool.
    pub tool: String,
    /// The governor's decision that allowed it (what `rollback` takes).
    pub decision_id: String,
    /// Its arguments.
    pub args: Map<String, Value>,
    /// Its result, when it succeeded.
    pub result: Option<Value>,
    /// Its error, when it failed.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: f64,
}

impl Action {
    /// The call that undoes this write, when it completed and recorded one.
    #[must_use]
    pub fn undo(&self) -> Option<Undo> {
        self.result.as_ref().and_then(Undo::from_result)
    }
}

/// A write's undo, offered when a later step of its plan failed: `airlock rollback
/// DECISION_ID` sends it through the governor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Compensation {
    /// The decision that allowed the write (what `rollback` takes).
    pub decision_id: String,
    /// The write.
    pub tool: String,
    /// The call that undoes it.
    pub undo: Undo,
}

/// Why a plan stopped before its end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanStop {
    /// The call that failed.
    pub failed: String,
    /// Its error.
    pub error: String,
    /// The calls after it that were not run.
    pub skipped: Vec<String>,
    /// The undo of each write that completed before it.
    pub compensations: Vec<Compensation>,
}

/// The calls a plan ran, and why it stopped early if it did (nothing ran: the default).
#[derive(Default)]
pub(crate) struct Execution {
    pub(crate) actions: Vec<Action>,
    pub(crate) stop: Option<PlanStop>,
}

/// Where to find a request's record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRef {
    /// The request's trace id in the event log.
    pub trace_id: String,
    /// The mode it ran in.
    pub mode: Mode,
    /// The conversation it was stored in.
    pub conversation_id: String,
}

/// The request an intent belongs to: its trace, its text, its conversation and its
/// stopwatch.
#[derive(Clone, Copy)]
struct Turn<'a> {
    trace: &'a TraceId,
    request: &'a str,
    conversation: &'a airlock_store::ConversationId,
    clock: &'a RequestClock,
}

impl<'a> Turn<'a> {
    fn new(
        trace: &'a TraceId,
        request: &'a str,
        conversation: &'a airlock_store::ConversationId,
        clock: &'a RequestClock,
    ) -> Self {
        Self {
            trace,
            request,
            conversation,
            clock,
        }
    }
}

/// A tool call the operator typed.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedCall {
    /// The tool.
    pub tool: String,
    /// Its arguments.
    #[serde(default)]
    pub args: Map<String, Value>,
}

/// Where an intent came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// The model planned it.
    Planned,
    /// The operator typed it.
    Typed,
}

/// How the governor weighs an intent: a planned one by the planner's confidence and the
/// arguments the documents supplied (tainted), a typed one as the operator's own.
#[derive(Debug, Clone, PartialEq, Eq)]
enum IntentSource {
    /// The model planned it; `tainted` names arguments whose values came from documents.
    Planned { tainted: BTreeSet<String> },
    /// The operator typed it.
    Typed,
}

impl AuditRef {
    fn new(trace: &TraceId, mode: Mode, conversation: &airlock_store::ConversationId) -> Self {
        Self {
            trace_id: trace.to_string(),
            mode,
            conversation_id: conversation.to_string(),
        }
    }
}

/// The result of one request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AskOutcome {
    /// The answer shown to the operator.
    pub answer: String,
    /// The governor's word on the request itself, before any planning (identity and the
    /// injection screen). Anything but `Allow` means nothing was planned.
    pub admission: Decision,
    /// The plan with a decision per intent.
    pub plan: Vec<PlannedIntent>,
    /// The tool calls that ran (none in plan mode).
    pub actions_taken: Vec<Action>,
    /// The document passages the answer was grounded on (searched before planning, in both
    /// modes, when documents are indexed and relevant; plus those of a planned search).
    pub sources: Vec<airlock_rag::Passage>,
    /// Set when a call failed and the rest of the plan was not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_stopped: Option<PlanStop>,
    /// Where it was recorded.
    pub audit: AuditRef,
    /// Where its time went.
    pub timings: Timings,
}

/// What happens while a request runs, for live display.
#[derive(Debug)]
pub enum Progress<'a> {
    /// The model worker is being started (first request only).
    ModelLoading,
    /// The model is loaded.
    ModelReady(&'a LoadedModel),
    /// A piece of the plan as the model writes it.
    PlanToken(&'a str),
    /// The finished plan with decisions.
    PlanReady(&'a [PlannedIntent]),
    /// The governor decided one intent.
    Decision(&'a PlannedIntent),
    /// A call waits for a human: its approval request.
    ApprovalRequested {
        /// The approval request's id.
        id: &'a str,
        /// The call that waits.
        intent: &'a Intent,
        /// Who may approve it.
        approver_group: &'a str,
    },
    /// A tool call is starting.
    ToolStarted(&'a Intent),
    /// Output of a running tool (the sandbox streams it as the command writes it).
    ToolOutput(Chunk<'a>),
    /// A tool call ended.
    ToolFinished(&'a Action),
    /// A piece of the answer as the model writes it.
    AnswerToken(&'a str),
    /// The request's outcome, stored and recorded.
    Answer(&'a AskOutcome),
    /// The request failed.
    Error(&'a AgentError),
}

/// The orchestrator. Shareable between threads; requests are served one at a time by the model.
pub struct Agent {
    pub(crate) config: AgentConfig,
    store: Mutex<Store>,
    simulator: OpsSimulator,
    pub(crate) tools: ToolRegistry,
    examples: Vec<Example>,
    /// The embedding model, shared by document search and tool preselection.
    pub(crate) embedder: Arc<EmbedderSlot>,
    /// The tools' vectors for preselection, built on first use.
    tool_index: OnceLock<Result<ToolIndex, String>>,
    worker: Mutex<Option<Arc<ModelWorker>>>,
    pub(crate) governance: Governance,
    pub(crate) sandbox: SandboxRunner,
    /// Policy saves, one at a time.
    pub(crate) policy_edit: Mutex<()>,
    /// Where the audit key is kept: the keychain, or a file and why.
    pub(crate) key_storage: crate::status::KeyStorage,
    /// Model files already hashed.
    pub(crate) checksums: crate::admin::ChecksumCache,
}

impl Agent {
    /// Opens the store, the simulator tools and the governor (policy and intent-token key).
    /// The model is started on first use.
    ///
    /// # Errors
    /// [`AgentError::Store`], [`AgentError::Tools`], [`AgentError::Plan`] (examples),
    /// [`AgentError::Policy`] or [`AgentError::Keys`].
    pub fn open(config: AgentConfig) -> Result<Self, AgentError> {
        let mut store = Store::open(&config.data_dir)?;
        let audit_key =
            airlock_connectors::keys::load_or_create_signing_key(AUDIT_KEY, &config.data_dir)?;
        let key_storage = crate::status::KeyStorage::of(&audit_key);
        store.set_audit_signer(audit_key.key);
        let simulator = OpsSimulator::open(&config.fixtures_dir)?
            .with_state_file(airlock_connectors::ops::state_file(&config.data_dir));
        let mut specs = airlock_connectors::catalog::specs();
        let external = attach_mcp_servers(&config.policy_dir)?;
        for server in &external {
            specs.extend(server.specs.iter().cloned());
        }
        let governance = Governance::open(&config, &specs)?;
        // An attached server's tool the governor could not use is not offered to the planner.
        specs.retain(|spec| governance.governs(&spec.name));
        let mut executable = simulator.tools();
        executable.extend(crate::connections::connector_tools(&config, &store));
        executable.extend(external.into_iter().flat_map(|server| server.tools));
        let embedder = Arc::new(EmbedderSlot::new(config.models_dir.clone()));
        if let Some(spec) = specs
            .iter()
            .find(|spec| spec.name == documents::SEARCH_DOCUMENTS)
        {
            executable.push(Arc::new(DocumentSearch::open(
                spec.clone(),
                &config.data_dir,
                Arc::clone(&embedder),
                governance.clearance(),
            )?));
        }
        let tools = ToolRegistry::new(specs, executable);
        let examples =
            planner::load_examples(&config.fixtures_dir.join("planner/examples.toml"), &tools)?;
        let sandbox = SandboxRunner::new(config.sandbox.clone()).map_err(AgentError::Runtime)?;
        Ok(Self {
            sandbox,
            config,
            store: Mutex::new(store),
            simulator,
            tools,
            examples,
            embedder,
            tool_index: OnceLock::new(),
            worker: Mutex::new(None),
            governance,
            policy_edit: Mutex::new(()),
            key_storage,
            checksums: crate::admin::ChecksumCache::default(),
        })
    }

    /// Who requests run as.
    #[must_use]
    pub fn principal(&self) -> &str {
        self.governance.principal()
    }

    /// Where the agent keeps its data.
    #[must_use]
    pub fn data_dir(&self) -> &std::path::Path {
        &self.config.data_dir
    }

    /// The registered tools.
    #[must_use]
    pub fn tools(&self) -> &ToolRegistry {
        &self.tools
    }

    /// The store, for reading what was recorded.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The model worker, started on first call.
    ///
    /// # Errors
    /// [`AgentError::Model`] when no model is found or it cannot be loaded.
    pub fn model_worker(&self) -> Result<Arc<ModelWorker>, AgentError> {
        let mut slot = self.worker.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(worker) = slot.as_ref() {
            return Ok(Arc::clone(worker));
        }
        let worker = self.spawn_model_worker(self.model_path()?)?;
        *slot = Some(Arc::clone(&worker));
        Ok(worker)
    }

    /// Starts a worker with `model` in place of the running one (which stops first).
    pub(crate) fn start_model_worker(
        &self,
        model: PathBuf,
    ) -> Result<Arc<ModelWorker>, AgentError> {
        let mut slot = self.worker.lock().unwrap_or_else(PoisonError::into_inner);
        slot.take();
        let worker = self.spawn_model_worker(model)?;
        *slot = Some(Arc::clone(&worker));
        Ok(worker)
    }

    fn spawn_model_worker(&self, model: PathBuf) -> Result<Arc<ModelWorker>, AgentError> {
        let mut config = WorkerConfig::new(
            self.config.worker_program.clone(),
            self.config.worker_args.clone(),
            model,
        );
        config.prompt_cache = Some(self.config.prompt_cache_dir.clone());
        Ok(Arc::new(ModelWorker::start(config)?))
    }

    /// The model worker when one runs (never starts one).
    pub(crate) fn running_model_worker(&self) -> Option<Arc<ModelWorker>> {
        self.worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Stops the model worker (it starts again with the next request).
    pub(crate) fn stop_model(&self) {
        self.worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
    }

    /// Serves one request in a new conversation: check, plan, decide, run (in execute mode)
    /// and answer.
    ///
    /// # Errors
    /// [`AgentError`] when the request is refused, the store cannot record it, or the model
    /// cannot produce a plan. Once tools have run, a failing answer does not fail the request:
    /// the outcome says so and keeps the results.
    pub fn ask(
        &self,
        text: &str,
        mode: Mode,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<AskOutcome, AgentError> {
        self.ask_in(None, text, mode, progress)
    }

    /// Serves one request, as the next message of `conversation` when one is given: a reply
    /// that answers the governor's question of the previous turn (naming the system it asked
    /// for, or confirming an unsure call) has that call decided again with the answer, without
    /// the model; any other request is planned seeing the last turns (bounded, see
    /// [`conversation::context`]).
    ///
    /// # Errors
    /// [`AgentError::UnknownConversation`], and as [`Agent::ask`].
    pub fn ask_in(
        &self,
        conversation: Option<&str>,
        text: &str,
        mode: Mode,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<AskOutcome, AgentError> {
        self.serve(conversation, text, mode, progress)
            .inspect_err(|err| progress(Progress::Error(err)))
    }

    fn serve(
        &self,
        conversation: Option<&str>,
        text: &str,
        mode: Mode,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<AskOutcome, AgentError> {
        let trace = TraceId::new();
        let clock = RequestClock::start();
        let span = crate::observe::request_span(trace.as_str(), "ask", mode);
        let _request = span.enter();
        span.record("bytes", text.len());
        self.observe_principal(&span);
        self.refuse_execution_if_read_only(&trace, mode, text.len())?;
        let (continued, earlier) = match conversation {
            None => (None, Vec::new()),
            Some(id) => {
                let store = self.store();
                let found = store
                    .conversation(id)?
                    .ok_or_else(|| AgentError::UnknownConversation(id.to_owned()))?;
                let earlier = store.messages(&found)?;
                (Some(found), earlier)
            }
        };
        let request = match check_request(text) {
            Ok(request) => request,
            Err(err) => {
                self.record(
                    &trace,
                    EventKind::RequestRejected,
                    json!({"mode": mode, "bytes": text.len(), "reason": err.to_string()}),
                )?;
                return Err(err.into());
            }
        };
        let (conversation, admission) =
            self.receive(&trace, request, mode, Origin::Planned, continued, &clock)?;
        if let Outcome::Deny { reason } = &admission.outcome {
            let outcome = AskOutcome {
                answer: format!("I did not act on this request: {reason}."),
                audit: AuditRef::new(&trace, mode, &conversation),
                admission,
                plan: Vec::new(),
                actions_taken: Vec::new(),
                sources: Vec::new(),
                plan_stopped: None,
                timings: clock.timings(&[]),
            };
            return self.deliver(&trace, &conversation, outcome, progress);
        }
        let turn = Turn::new(&trace, request, &conversation, &clock);

        let mut passages = {
            let span = tracing::info_span!("retrieval", passages = tracing::field::Empty);
            let _retrieval = span.enter();
            let passages = self.consult_documents(turn, progress)?;
            span.record("passages", passages.len());
            passages
        };

        let answered = self.answered_question(&earlier, request)?;
        let answering = answered.is_some();
        let plan = match answered {
            Some(intents) => {
                self.record(
                    &trace,
                    EventKind::PlanProposed,
                    json!({"stage": "question_answered", "intents": intents}),
                )?;
                intents
            }
            None => {
                let prompt = format!("{}{request}", conversation::context(&earlier));
                let nearest = documents::nearest_similarity(&passages);
                let draft = match clock.model(|| self.draft(&prompt, request, nearest, progress)) {
                    Ok(draft) => draft,
                    Err(err) => {
                        self.record(
                            &trace,
                            EventKind::PlanFailed,
                            json!({"error": err.to_string()}),
                        )?;
                        return Err(err);
                    }
                };
                self.record(
                    &trace,
                    EventKind::PlanProposed,
                    json!({"intents": draft.intents, "offered": draft.offered,
                           "choices": draft.choices, "nearest_passage": nearest,
                           "usage": draft.usage}),
                )?;
                draft.intents
            }
        };
        let mut planned: Vec<PlannedIntent> = Vec::with_capacity(plan.len());
        for intent in plan {
            let source = if answering {
                IntentSource::Typed
            } else {
                let tainted = documents::tainted_args(&intent.args, &passages, request);
                IntentSource::Planned { tainted }
            };
            planned.push(self.govern(turn, intent, mode, source, progress)?);
        }
        progress(Progress::PlanReady(&planned));

        let Execution {
            mut actions,
            stop: plan_stopped,
        } = match mode {
            Mode::Plan => Execution::default(),
            Mode::Execute => self.execute(&trace, &planned, progress)?,
        };
        if mode == Mode::Execute && plan_stopped.is_none() && remedy::asks_to_remedy(request) {
            self.remedy(turn, &mut planned, &mut actions, progress)?;
        }
        let ran_tools = actions
            .iter()
            .any(|a| a.tool != documents::SEARCH_DOCUMENTS);
        if ran_tools {
            passages.retain(|passage| documents::is_relevant(passage, true));
        }
        for action in actions
            .iter()
            .filter(|a| a.tool == documents::SEARCH_DOCUMENTS)
        {
            for passage in action.result.iter().flat_map(documents::passages_of) {
                if !passages
                    .iter()
                    .any(|known| known.chunk_id == passage.chunk_id)
                {
                    passages.push(passage);
                }
            }
        }
        let answer = if !passages.is_empty() {
            let grounded = clock
                .model(|| self.grounded_answer(&trace, request, &passages, &actions, progress))?;
            if planned.is_empty() || ran_tools {
                grounded
            } else {
                format!(
                    "{grounded}\n\n{}",
                    answer::without_results(&planned, mode == Mode::Execute)
                )
            }
        } else if actions.is_empty() {
            answer::without_results(&planned, mode == Mode::Execute)
        } else {
            let answer = clock.model(|| self.answer(&trace, request, &actions, progress))?;
            match answer::not_run(&planned) {
                Some(not_run) => format!("{answer}\n\n{not_run}"),
                None => answer,
            }
        };
        let answer = match &plan_stopped {
            Some(stop) => format!("{answer}\n\n{}", answer::stopped(stop)),
            None => answer,
        };
        let outcome = AskOutcome {
            answer,
            admission,
            plan: planned,
            timings: clock.timings(&actions),
            actions_taken: actions,
            sources: passages,
            plan_stopped,
            audit: AuditRef::new(&trace, mode, &conversation),
        };
        self.deliver(&trace, &conversation, outcome, progress)
    }

    /// The calls `reply` answers when the conversation's last turn (`earlier`) ended in the
    /// governor's questions and the reply answers every one (see [`conversation::answered`]).
    fn answered_question(
        &self,
        earlier: &[airlock_store::StoredMessage],
        reply: &str,
    ) -> Result<Option<Vec<Intent>>, AgentError> {
        let Some(last_trace) = earlier
            .iter()
            .rev()
            .find(|message| message.role == "assistant")
            .and_then(|message| message.trace_id.clone())
        else {
            return Ok(None);
        };
        let events = self.store().events_for(&TraceId::from(last_trace))?;
        let questions = conversation::open_questions(&events);
        Ok(conversation::answered(&questions, reply, |tool| {
            self.governance.resource_choices(tool)
        }))
    }

    /// [`AgentError::ReadOnly`] (recorded as a rejected request) for execute mode in a
    /// read-only installation.
    fn refuse_execution_if_read_only(
        &self,
        trace: &TraceId,
        mode: Mode,
        bytes: usize,
    ) -> Result<(), AgentError> {
        if mode == Mode::Execute && self.governance.read_only() {
            self.record(
                trace,
                EventKind::RequestRejected,
                json!({"mode": mode, "bytes": bytes, "reason": AgentError::ReadOnly.to_string()}),
            )?;
            return Err(AgentError::ReadOnly);
        }
        Ok(())
    }

    /// Whether this installation only plans (`[deployment] read_only` in the policy).
    #[must_use]
    pub fn read_only(&self) -> bool {
        self.governance.read_only()
    }

    /// Stores `text` as the first message of a new conversation, records its arrival, and has
    /// the governor admit it before anything else happens (recorded too).
    fn receive(
        &self,
        trace: &TraceId,
        text: &str,
        mode: Mode,
        origin: Origin,
        continued: Option<airlock_store::ConversationId>,
        clock: &RequestClock,
    ) -> Result<(airlock_store::ConversationId, Decision), AgentError> {
        let conversation = {
            let store = self.store();
            let conversation = match continued {
                Some(conversation) => conversation,
                None => {
                    let title: String = text.chars().take(60).collect();
                    store.create_conversation(&title, self.principal())?
                }
            };
            store.add_message(&conversation, "user", text, Some(trace.as_str()))?;
            conversation
        };
        self.record(
            trace,
            EventKind::RequestReceived,
            json!({"mode": mode, "bytes": text.len(), "conversation_id": conversation.as_str(),
                   "typed_call": origin == Origin::Typed}),
        )?;
        let admission = tracing::info_span!("injection_screen").in_scope(|| {
            clock.governor(|| {
                self.governance
                    .admit(trace.as_str(), text, conversation.as_str(), &self.store())
            })
        });
        self.record(
            trace,
            EventKind::DecisionMade,
            json!({"stage": "admission", "principal": self.principal(), "decision": admission}),
        )?;
        Ok((conversation, admission))
    }

    /// Stores and records the outcome's answer, then hands the outcome back.
    fn deliver(
        &self,
        trace: &TraceId,
        conversation: &airlock_store::ConversationId,
        outcome: AskOutcome,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<AskOutcome, AgentError> {
        let span = tracing::Span::current();
        span.record("intents", outcome.plan.len());
        span.record("outcome", outcome.admission.outcome.name());
        self.store().add_message(
            conversation,
            "assistant",
            &outcome.answer,
            Some(trace.as_str()),
        )?;
        self.record(
            trace,
            EventKind::AnswerGenerated,
            json!({"answer": outcome.answer}),
        )?;
        progress(Progress::Answer(&outcome));
        Ok(outcome)
    }

    /// Runs one tool call the operator typed (`tool` with `args`), without the model, in a new
    /// conversation: see [`Agent::call_plan`].
    ///
    /// # Errors
    /// [`AgentError`] when the store cannot record the call.
    pub fn call(
        &self,
        tool: &str,
        args: Map<String, Value>,
        mode: Mode,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<AskOutcome, AgentError> {
        self.call_in(None, tool, args, mode, progress)
    }

    /// As [`Agent::call`], in `conversation` when given (as the operator's next turn there).
    ///
    /// # Errors
    /// [`AgentError::UnknownConversation`] for an unknown id, and as [`Agent::call`].
    pub fn call_in(
        &self,
        conversation: Option<&str>,
        tool: &str,
        args: Map<String, Value>,
        mode: Mode,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<AskOutcome, AgentError> {
        let call = TypedCall {
            tool: tool.to_owned(),
            args,
        };
        self.call_plan(conversation, std::slice::from_ref(&call), mode, progress)
    }

    /// Runs a plan of tool calls the operator typed, in order, without the model: the governor
    /// decides each exactly as a planned call (with no planner confidence), allowed calls in
    /// execute mode get their tokens and run, and everything is recorded. A failing call stops
    /// the plan (see [`PlanStop`]). The answer states the results as they are. The calls are a
    /// turn of `conversation` when given, else of a new one.
    ///
    /// # Errors
    /// [`AgentError::TypedPlanSize`] for no calls or more than [`MAX_TYPED_CALLS`];
    /// [`AgentError::ReadOnly`] for execute mode in a read-only installation;
    /// [`AgentError::UnknownConversation`] for an unknown conversation id;
    /// [`AgentError`] when the store cannot record the calls.
    pub fn call_plan(
        &self,
        conversation: Option<&str>,
        calls: &[TypedCall],
        mode: Mode,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<AskOutcome, AgentError> {
        if calls.is_empty() || calls.len() > MAX_TYPED_CALLS {
            return Err(AgentError::TypedPlanSize(calls.len()));
        }
        let trace = TraceId::new();
        let clock = RequestClock::start();
        let span = crate::observe::request_span(trace.as_str(), "call", mode);
        let _request = span.enter();
        self.observe_principal(&span);
        let text = calls
            .iter()
            .map(|call| format!("{} {}", call.tool, Value::Object(call.args.clone())))
            .collect::<Vec<_>>()
            .join("; ");
        self.refuse_execution_if_read_only(&trace, mode, text.len())?;
        let continued = match conversation {
            None => None,
            Some(id) => Some(
                self.store()
                    .conversation(id)?
                    .ok_or_else(|| AgentError::UnknownConversation(id.to_owned()))?,
            ),
        };
        let (conversation, admission) =
            self.receive(&trace, &text, mode, Origin::Typed, continued, &clock)?;
        let (answer, plan, execution) = if let Outcome::Deny { reason } = &admission.outcome {
            (
                format!("I did not act on this call: {reason}."),
                Vec::new(),
                Execution::default(),
            )
        } else {
            let mut planned = Vec::with_capacity(calls.len());
            for call in calls {
                let intent = Intent {
                    tool: call.tool.clone(),
                    args: call.args.clone(),
                    reasoning: "typed by the operator".to_owned(),
                    confidence: Confidence::High,
                };
                planned.push(self.govern(
                    Turn::new(&trace, &text, &conversation, &clock),
                    intent,
                    mode,
                    IntentSource::Typed,
                    progress,
                )?);
            }
            progress(Progress::PlanReady(&planned));
            let execution = match mode {
                Mode::Plan => Execution::default(),
                Mode::Execute => self.execute(&trace, &planned, progress)?,
            };
            let mut answer = if execution.actions.is_empty() {
                answer::without_results(&planned, mode == Mode::Execute)
            } else {
                let mut answer = answer::as_recorded(&execution.actions);
                if let Some(not_run) = answer::not_run(&planned) {
                    answer = format!("{answer}\n\n{not_run}");
                }
                answer
            };
            if let Some(stop) = &execution.stop {
                answer = format!("{answer}\n\n{}", answer::stopped(stop));
            }
            (answer, planned, execution)
        };
        let outcome = AskOutcome {
            answer,
            admission,
            plan,
            timings: clock.timings(&execution.actions),
            actions_taken: execution.actions,
            sources: Vec::new(),
            plan_stopped: execution.stop,
            audit: AuditRef::new(&trace, mode, &conversation),
        };
        self.deliver(&trace, &conversation, outcome, progress)
    }

    /// Rolls back the completed write the governor allowed with decision `decision_id`: the
    /// undo that write recorded is proposed as a typed call, so the governor decides it (a
    /// write usually needs approval), its own guards apply (an undo only restores a state the
    /// write left untouched), and it is recorded like any other call.
    ///
    /// # Errors
    /// [`AgentError::NothingToRollBack`] when no completed write with an undo has that id;
    /// [`AgentError`] when the store fails.
    pub fn rollback(
        &self,
        decision_id: &str,
        mode: Mode,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<AskOutcome, AgentError> {
        let undo = self
            .store()
            .finished_call(decision_id)?
            .and_then(|event| serde_json::from_value::<Undo>(event.payload["undo"].clone()).ok())
            .ok_or_else(|| AgentError::NothingToRollBack(decision_id.to_owned()))?;
        self.call(&undo.tool, undo.args, mode, progress)
    }

    /// Puts the simulated plant's subsystem `service` in `state` (`down` or `degraded`) for a
    /// drill or a demo, recorded in the audit log with who did it.
    ///
    /// # Errors
    /// [`AgentError::Simulator`] for an unknown service or state, or when the simulator's state
    /// file cannot be written; [`AgentError::Store`] when the event cannot be recorded.
    pub fn inject_fault(&self, service: &str, state: &str, detail: &str) -> Result<(), AgentError> {
        self.simulator.inject_fault(service, state, detail)?;
        self.record(
            &TraceId::new(),
            EventKind::SimulatorChanged,
            json!({"fault": {"service": service, "state": state, "detail": detail},
                   "principal": self.principal()}),
        )
    }

    /// Returns the simulated plant to the fixtures' snapshot (injected faults and restarts
    /// forgotten), recorded in the audit log.
    ///
    /// # Errors
    /// [`AgentError::Simulator`] when the state file cannot be removed; [`AgentError::Store`] when
    /// the event cannot be recorded.
    pub fn reset_simulator(&self) -> Result<(), AgentError> {
        self.simulator.reset()?;
        self.record(
            &TraceId::new(),
            EventKind::SimulatorChanged,
            json!({"reset": true, "principal": self.principal()}),
        )
    }

    /// The governor's decision on one intent, recorded; an allowed intent in execute mode gets
    /// its token (recorded as issued, never written itself).
    fn govern(
        &self,
        turn: Turn<'_>,
        intent: Intent,
        mode: Mode,
        source: IntentSource,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<PlannedIntent, AgentError> {
        let Turn {
            trace,
            request,
            conversation,
            clock,
        } = turn;
        let decision = {
            let store = self.store();
            let (confidence, tainted) = match source {
                IntentSource::Planned { tainted } => (Some(intent.confidence), tainted),
                IntentSource::Typed => (None, BTreeSet::new()),
            };
            let request = RequestRef {
                id: trace.as_str(),
                text: request,
                session: conversation.as_str(),
            };
            let decision = clock.governor(|| {
                self.governance
                    .decide(&intent, confidence, tainted, request, &store)
            });
            if matches!(
                decision.outcome,
                Outcome::Allow | Outcome::RequireApproval { .. }
            ) {
                self.governance.record_spend(&store, &intent, &decision)?;
            }
            decision
        };
        self.record(
            trace,
            EventKind::DecisionMade,
            json!({"tool": intent.tool, "args": intent.args, "principal": self.principal(), "decision": decision}),
        )?;
        let token = if mode == Mode::Execute && decision.is_allow() {
            let token = clock.governor(|| self.governance.issue(&intent, &decision));
            self.record(
                trace,
                EventKind::TokenIssued,
                json!({"tool": intent.tool, "decision_id": decision.id, "key_id": hex::encode(token.key_id),
                       "expires_at": token.expires_at}),
            )?;
            Some(token)
        } else {
            None
        };
        let mut entry = PlannedIntent {
            intent,
            decision,
            token,
            approval_id: None,
        };
        if mode == Mode::Execute {
            if let Outcome::RequireApproval { approver_group, .. } = &entry.decision.outcome {
                let group = approver_group.clone();
                let id = self.request_approval(
                    trace,
                    conversation.as_str(),
                    &entry,
                    &group,
                    self.principal(),
                )?;
                entry.approval_id = Some(id);
            }
        }
        progress(Progress::Decision(&entry));
        if let (Some(id), Outcome::RequireApproval { approver_group, .. }) =
            (&entry.approval_id, &entry.decision.outcome)
        {
            progress(Progress::ApprovalRequested {
                id,
                intent: &entry.intent,
                approver_group,
            });
        }
        Ok(entry)
    }

    /// The model's plan for a request, neither decided nor recorded nor run: what the
    /// planner proposes and which tools it was offered (for evaluating the planner).
    ///
    /// # Errors
    /// [`AgentError::Model`] when the model cannot run, [`AgentError::Plan`] when its output
    /// is not a plan.
    pub fn draft_plan(&self, request: &str) -> Result<Draft, AgentError> {
        self.draft(request, request, None, &mut |_| {})
    }

    /// The model's plan for `prompt` (the request after the conversation's context), offered
    /// the tools preselected for `request`. When the prompt listing the tools does not fit the
    /// model's context (a large catalog, e.g. with MCP servers attached), the plan is made
    /// again with the prompt, too, narrowed to the tools nearest the request.
    /// `passage_similarity` is that of the passage nearest the request among those the
    /// documents search found before planning (see [`choice::credit_documents`]).
    pub(crate) fn draft(
        &self,
        prompt: &str,
        request: &str,
        passage_similarity: Option<f32>,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Draft, AgentError> {
        let configured = &self.config.preselection;
        match self.draft_with(prompt, request, passage_similarity, configured, progress) {
            Err(AgentError::Model(airlock_llm::LlmError::ContextOverflow {
                prompt_tokens,
                n_ctx,
                ..
            })) if !configured.narrow_prompt => {
                tracing::warn!(
                    prompt_tokens,
                    n_ctx,
                    tools = self.tools.specs().len(),
                    "the tools do not fit the model's context; planning with the nearest only"
                );
                let narrowed = Preselection::top(OVERFLOW_TOP_K, ALWAYS_OFFERED).in_prompt_too();
                self.draft_with(prompt, request, passage_similarity, &narrowed, progress)
            }
            drafted => drafted,
        }
    }

    fn draft_with(
        &self,
        prompt: &str,
        request: &str,
        passage_similarity: Option<f32>,
        preselection: &Preselection,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Draft, AgentError> {
        let worker = self.ready_worker(progress)?;
        let today = time::OffsetDateTime::now_local()
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
            .date();
        let offered = self.offered_tools(request, preselection);
        let shown = if preselection.narrow_prompt {
            &offered
        } else {
            self.tools.specs()
        };
        let mut choices = Vec::new();
        let generation = match self.config.tool_choice {
            ToolChoice::Greedy => {
                let generate =
                    planner::plan_request(prompt, shown, &offered, &self.examples, today);
                crate::observe::generate(&worker, "plan", &generate, &mut |text| {
                    progress(Progress::PlanToken(text));
                    ControlFlow::Continue(())
                })?
            }
            ToolChoice::Scored(settings) => {
                let messages = planner::plan_messages(prompt, shown, &self.examples, today);
                let request = ScoredRequest {
                    text: request,
                    passage_similarity,
                };
                let (steps, generation) =
                    self.plan_scored(&worker, &messages, &offered, request, &settings, progress)?;
                choices = steps;
                generation
            }
        };
        tracing::info!(
            prompt_tokens = generation.usage.prompt_tokens,
            cached = generation.usage.cached_prompt_tokens,
            tokens = generation.usage.completion_tokens,
            first_token_ms = generation.usage.first_token_ms,
            decode_ms = generation.usage.decode_ms,
            "plan generated"
        );
        let plan = planner::parse_plan(
            &generation.text,
            generation.stop_reason,
            generation.usage.completion_tokens,
            &self.tools,
        )?;
        let model = crate::observe::model_file_name(&worker);
        Ok(Draft {
            intents: plan.intents,
            offered: offered.into_iter().map(|spec| spec.name).collect(),
            choices,
            usage: PlanUsage {
                model,
                prompt_tokens: generation.usage.prompt_tokens,
                completion_tokens: generation.usage.completion_tokens,
                first_token_ms: generation.usage.first_token_ms,
                tokens_per_s: generation.usage.decode_tokens_per_second(),
            },
        })
    }

    /// Plans with the scored tool choice (see [`crate::choice`]), one intent at a time: the
    /// model's choice between ending the plan and another call, then its scores for each of
    /// `offered` plus their similarity to `request`, then the chosen call's arguments. Where
    /// the model would end the plan, a clause of `request` asking for a tool no call uses
    /// adds that call. Returns each step's choice and the plan as one generation.
    fn plan_scored(
        &self,
        worker: &ModelWorker,
        messages: &[ChatMessage],
        offered: &[ToolSpec],
        request: ScoredRequest<'_>,
        settings: &ScoredChoice,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<(Vec<PlanChoice>, Generation), AgentError> {
        let started = Instant::now();
        let names: Vec<String> = offered.iter().map(|spec| spec.name.clone()).collect();
        let mut similarities = self.similarities(request.text, &names);
        choice::credit_documents(&names, &mut similarities, request.passage_similarity);
        let clauses = if settings.cover_clauses {
            crate::clauses::clauses(request.text)
        } else {
            Vec::new()
        };
        let mut clause_choices: Option<Vec<ClauseChoice>> = None;
        let mut written: Vec<String> = Vec::new();
        let mut called: Vec<String> = Vec::new();
        let mut choices = Vec::new();
        let mut usage = None;
        let mut completion_tokens = 0;
        let mut stop_reason = StopReason::Eos;
        progress(Progress::PlanToken(planner::PLAN_OPENING));
        while written.len() < planner::MAX_INTENTS && !offered.is_empty() {
            let next = planner::end_or_call_request(messages, &written);
            let next = crate::observe::score(worker, "plan.next", &next)?;
            usage.get_or_insert(next.usage);
            let end = choice::end_probability(next.log_probs[0], next.log_probs[1]);
            let step = if choice::ends_plan(end) {
                if clauses.len() < 2 {
                    choices.push(PlanChoice {
                        end,
                        tools: Vec::new(),
                        clause: None,
                    });
                    break;
                }
                if clause_choices.is_none() {
                    let scored = self.score_clauses(
                        worker,
                        messages,
                        &names,
                        &clauses,
                        request.passage_similarity,
                        settings,
                    )?;
                    tracing::debug!(?scored, "clauses scored");
                    clause_choices = Some(scored);
                }
                let uncovered = clause_choices.iter().flatten().find(|clause| {
                    clause
                        .asked_tool()
                        .is_some_and(|tool| !called.iter().any(|called| called == tool))
                });
                PlanChoice {
                    end,
                    tools: uncovered
                        .map(|clause| clause.tools.clone())
                        .unwrap_or_default(),
                    clause: uncovered.map(|clause| clause.clause.clone()),
                }
            } else {
                let tools = planner::tool_names_request(messages, &written, &names);
                let tools = crate::observe::score(worker, "plan.tools", &tools)?;
                let scores = choice::combine(&names, &tools.log_probs, &similarities, settings);
                tracing::debug!(?scores, intent = written.len(), "tools scored");
                PlanChoice {
                    end,
                    tools: scores,
                    clause: None,
                }
            };
            let Some(spec) = step
                .tools
                .first()
                .and_then(|best| offered.iter().find(|spec| spec.name == best.tool))
            else {
                choices.push(step);
                break;
            };
            if !written.is_empty() {
                progress(Progress::PlanToken(","));
            }
            let generate = planner::next_intent_request(messages.to_vec(), &written, spec);
            let intent = crate::observe::generate(worker, "plan", &generate, &mut |text| {
                progress(Progress::PlanToken(text));
                ControlFlow::Continue(())
            })?;
            choices.push(step);
            completion_tokens += intent.usage.completion_tokens;
            let intent_text = intent.text.trim();
            if planner::repeats_a_call(&written, intent_text) {
                tracing::debug!(
                    intent = written.len(),
                    "the model repeated a call; the plan ends"
                );
                break;
            }
            written.push(intent_text.to_owned());
            called.push(spec.name.clone());
            if intent.stop_reason == StopReason::MaxTokens {
                stop_reason = StopReason::MaxTokens;
                break;
            }
        }
        progress(Progress::PlanToken(planner::PLAN_CLOSING));
        let usage = Usage {
            completion_tokens,
            prompt_ms: started.elapsed().as_secs_f64() * 1000.0,
            ..usage.unwrap_or_default()
        };
        let generation = Generation {
            text: planner::join_intents(&written),
            stop_reason,
            usage,
        };
        Ok((choices, generation))
    }

    /// Each of `clauses` scored as if it were the request: the model's choice between
    /// ending the plan at once and a call, and its scores for each of `names` plus their
    /// similarity to the clause, the document search credited with the request's
    /// `passage_similarity` (see [`crate::choice`]).
    fn score_clauses(
        &self,
        worker: &ModelWorker,
        messages: &[ChatMessage],
        names: &[String],
        clauses: &[&str],
        passage_similarity: Option<f32>,
        settings: &ScoredChoice,
    ) -> Result<Vec<ClauseChoice>, AgentError> {
        clauses
            .iter()
            .map(|clause| {
                let mut probe = messages.to_vec();
                if let Some(request) = probe.last_mut() {
                    *request = ChatMessage::new(Role::User, (*clause).to_owned());
                }
                let next = planner::end_or_call_request(&probe, &[]);
                let next = crate::observe::score(worker, "plan.clause.next", &next)?;
                let tools = planner::tool_names_request(&probe, &[], names);
                let tools = crate::observe::score(worker, "plan.clause.tools", &tools)?;
                let mut similarities = self.similarities(clause, names);
                choice::credit_documents(names, &mut similarities, passage_similarity);
                Ok(ClauseChoice {
                    clause: (*clause).to_owned(),
                    end: choice::end_probability(next.log_probs[0], next.log_probs[1]),
                    tools: choice::combine(names, &tools.log_probs, &similarities, settings),
                })
            })
            .collect()
    }

    /// Each named tool's cosine similarity to `request` (zeros, with a warning, when the
    /// embedding model cannot rank them).
    fn similarities(&self, request: &str, names: &[String]) -> Vec<f32> {
        match self.rank_tools(request) {
            Ok(ranked) => names
                .iter()
                .map(|name| {
                    ranked
                        .iter()
                        .find(|(tool, _)| *tool == name)
                        .map_or(0.0, |(_, sim)| *sim)
                })
                .collect(),
            Err(err) => {
                tracing::warn!(%err, "tool similarity is unavailable; the model's scores decide alone");
                vec![0.0; names.len()]
            }
        }
    }

    /// Every tool with its similarity to `request`, most similar first.
    fn rank_tools(&self, request: &str) -> Result<Vec<(&str, f32)>, String> {
        let specs = self.tools.specs();
        let index = self.tool_index.get_or_init(|| {
            let embedder = self.embedder.get()?;
            ToolIndex::build(&embedder, specs, &self.examples).map_err(|err| err.to_string())
        });
        let index = index.as_ref().map_err(Clone::clone)?;
        let embedder = self.embedder.get()?;
        let query = embedder
            .embed(&[request])
            .map_err(|err| err.to_string())?
            .pop()
            .unwrap_or_default();
        Ok(index.rank(&query))
    }

    /// The tools the planner is offered for `request`: every tool, or the preselected ones
    /// (every tool, with a warning, when the embedding model cannot rank them).
    fn offered_tools(&self, request: &str, preselection: &Preselection) -> Vec<ToolSpec> {
        let specs = self.tools.specs();
        if !preselection.is_on() {
            return specs.to_vec();
        }
        match self.rank_tools(request) {
            Ok(ranked) => {
                tracing::debug!(?ranked, "tools ranked for preselection");
                crate::preselect::offered(specs, &ranked, preselection)
            }
            Err(err) => {
                tracing::warn!(%err, "tool preselection is unavailable; the planner sees every tool");
                specs.to_vec()
            }
        }
    }

    fn ready_worker(
        &self,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Arc<ModelWorker>, AgentError> {
        let started = self
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some();
        if !started {
            progress(Progress::ModelLoading);
        }
        let worker = self.model_worker()?;
        if !started {
            if let Some(model) = worker.loaded_model() {
                progress(Progress::ModelReady(&model));
            }
        }
        Ok(worker)
    }

    fn execute(
        &self,
        trace: &TraceId,
        planned: &[PlannedIntent],
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Execution, AgentError> {
        self.execute_as(trace, self.principal(), planned, progress)
    }

    /// Runs the allowed or approved (token-holding) intents of `planned` on behalf of
    /// `principal`, in order, each only once its token verifies for that principal and exact
    /// call. A call that fails (or whose token does not verify) stops the plan: the rest is
    /// not run, and the undo of each write completed before it is offered (recorded as
    /// plan_stopped).
    pub(crate) fn execute_as(
        &self,
        trace: &TraceId,
        principal: &str,
        planned: &[PlannedIntent],
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Execution, AgentError> {
        let runnable: Vec<&PlannedIntent> = planned
            .iter()
            .filter(|e| e.decision.is_allow() || e.token.is_some())
            .collect();
        let mut actions = Vec::new();
        for (index, entry) in runnable.iter().enumerate() {
            let intent = &entry.intent;
            let verified = match self
                .governance
                .verify(entry.token.as_ref(), intent, principal)
            {
                Ok(verified) => verified,
                Err(err) => {
                    self.record(
                        trace,
                        EventKind::TokenRejected,
                        json!({"tool": intent.tool, "decision_id": entry.decision.id, "error": err.to_string()}),
                    )?;
                    let error = format!("its intent token was refused: {err}");
                    let stop =
                        self.stop_plan(trace, intent, error, &runnable[index + 1..], &actions)?;
                    return Ok(Execution {
                        actions,
                        stop: Some(stop),
                    });
                }
            };
            let sandboxed = intent.tool == airlock_sandbox::RUN_COMMAND;
            let tool = self.tools.executable(&intent.tool);
            if tool.is_none() && !sandboxed {
                self.record(
                    trace,
                    EventKind::ToolFailed,
                    json!({"tool": intent.tool, "decision_id": verified.decision_id(),
                           "error": "no executor for this tool is installed yet; it is governed and planned, and runs once its connector ships"}),
                )?;
                continue;
            }
            progress(Progress::ToolStarted(intent));
            self.record(
                trace,
                EventKind::ToolStarted,
                json!({"tool": intent.tool, "args": intent.args, "decision_id": verified.decision_id()}),
            )?;
            let decision_id = verified.decision_id().to_owned();
            let span = tracing::info_span!(
                "tool",
                tool = %intent.tool,
                runner = if sandboxed { "sandbox" } else { "connector" },
                duration_ms = tracing::field::Empty,
                bytes = tracing::field::Empty,
                error = tracing::field::Empty,
            );
            let _tool = span.enter();
            let started = Instant::now();
            let outcome: Result<Value, String> = match tool {
                Some(tool) => tool.invoke(&intent.args).map_err(|err| err.to_string()),
                None => self
                    .sandbox
                    .run(verified, &intent.args, |chunk| {
                        progress(Progress::ToolOutput(chunk));
                    })
                    .map(|report| json!(report))
                    .map_err(|err| err.to_string()),
            };
            let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
            span.record("duration_ms", duration_ms);
            match &outcome {
                Ok(result) => span.record("bytes", result.to_string().len()),
                Err(err) => span.record("error", err.as_str()),
            };
            let action = match outcome {
                Ok(result) => {
                    self.record(
                        trace,
                        EventKind::ToolFinished,
                        json!({"tool": intent.tool, "decision_id": decision_id, "duration_ms": duration_ms,
                               "result": answer::truncate(&result.to_string(), MAX_EVENT_RESULT_CHARS),
                               "undo": Undo::from_result(&result)}),
                    )?;
                    Action {
                        tool: intent.tool.clone(),
                        decision_id: decision_id.clone(),
                        args: intent.args.clone(),
                        result: Some(result),
                        error: None,
                        duration_ms,
                    }
                }
                Err(err) => {
                    self.record(
                        trace,
                        EventKind::ToolFailed,
                        json!({"tool": intent.tool, "decision_id": decision_id, "duration_ms": duration_ms, "error": err.to_string()}),
                    )?;
                    Action {
                        tool: intent.tool.clone(),
                        decision_id: decision_id.clone(),
                        args: intent.args.clone(),
                        result: None,
                        error: Some(err.to_string()),
                        duration_ms,
                    }
                }
            };
            progress(Progress::ToolFinished(&action));
            let failed = action.error.clone();
            actions.push(action);
            if let Some(error) = failed {
                let stop =
                    self.stop_plan(trace, intent, error, &runnable[index + 1..], &actions)?;
                return Ok(Execution {
                    actions,
                    stop: Some(stop),
                });
            }
        }
        Ok(Execution {
            actions,
            stop: None,
        })
    }

    /// Records that `failed` stopped its plan before `skipped`, offering the undo of each
    /// write among `completed`.
    fn stop_plan(
        &self,
        trace: &TraceId,
        failed: &Intent,
        error: String,
        skipped: &[&PlannedIntent],
        completed: &[Action],
    ) -> Result<PlanStop, AgentError> {
        let stop = PlanStop {
            failed: failed.tool.clone(),
            error,
            skipped: skipped
                .iter()
                .map(|entry| entry.intent.tool.clone())
                .collect(),
            compensations: completed
                .iter()
                .filter_map(|action| {
                    action.undo().map(|undo| Compensation {
                        decision_id: action.decision_id.clone(),
                        tool: action.tool.clone(),
                        undo,
                    })
                })
                .collect(),
        };
        self.record(trace, EventKind::PlanStopped, json!(stop))?;
        Ok(stop)
    }

    /// Repairs what the health reads show failed, for a request that asks for a repair: reads
    /// the system status first when the plan did not, has the model propose restarts among
    /// the restartable failures (see [`remedy`]), and governs and runs them like planned
    /// intents — their arguments came from tool output, so they count as tainted. A remedy
    /// plan the model gets wrong is recorded and leaves the request's other results intact.
    fn remedy(
        &self,
        turn: Turn<'_>,
        planned: &mut Vec<PlannedIntent>,
        actions: &mut Vec<Action>,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<(), AgentError> {
        let Some(restart) = self.tools.spec(remedy::RESTART_SERVICE).cloned() else {
            return Ok(());
        };
        let read_status = actions
            .iter()
            .any(|action| action.tool == GET_SYSTEM_STATUS && action.result.is_some());
        if !read_status && self.tools.executable(GET_SYSTEM_STATUS).is_some() {
            let intent = Intent {
                tool: GET_SYSTEM_STATUS.to_owned(),
                args: Map::new(),
                reasoning: "the request asks for a repair: read what is failing first".to_owned(),
                confidence: Confidence::High,
            };
            let (sensed, ran) = self.own_read(turn, intent, progress)?;
            actions.extend(ran);
            planned.push(sensed);
        }
        let candidates = remedy::candidates(actions);
        if candidates.is_empty() {
            return Ok(());
        }
        let Turn {
            trace,
            request,
            clock,
            ..
        } = turn;
        let worker = self.ready_worker(progress)?;
        let generate = remedy::remedy_request(request, &candidates, &restart);
        let intents = clock
            .model(|| {
                crate::observe::generate(&worker, "remedy", &generate, &mut |text| {
                    progress(Progress::PlanToken(text));
                    ControlFlow::Continue(())
                })
            })
            .map_err(AgentError::from)
            .and_then(|generation| {
                planner::parse_plan(
                    &generation.text,
                    generation.stop_reason,
                    generation.usage.completion_tokens,
                    &self.tools,
                )
                .map_err(AgentError::from)
            });
        let intents = match intents {
            Ok(plan) => plan.intents,
            Err(err) => {
                self.record(
                    trace,
                    EventKind::PlanFailed,
                    json!({"stage": "remedy", "error": err.to_string()}),
                )?;
                return Ok(());
            }
        };
        self.record(
            trace,
            EventKind::PlanProposed,
            json!({"stage": "remedy", "intents": intents}),
        )?;
        let mut remedies = Vec::with_capacity(intents.len());
        for intent in intents {
            let already_planned = planned
                .iter()
                .any(|entry| entry.intent.tool == intent.tool && entry.intent.args == intent.args);
            if already_planned {
                continue;
            }
            let tainted = intent.args.keys().cloned().collect();
            remedies.push(self.govern(
                turn,
                intent,
                Mode::Execute,
                IntentSource::Planned { tainted },
                progress,
            )?);
        }
        progress(Progress::PlanReady(&remedies));
        actions.extend(self.execute(trace, &remedies, progress)?.actions);
        planned.extend(remedies);
        Ok(())
    }

    /// Searches the plant's documents for `request` when any are indexed: a `search_documents`
    /// call decided by the governor and recorded like any other, run in both modes (it reads
    /// only the local index, filtered by the principal's clearance). Returns the passages
    /// relevant enough to ground an answer on; the search itself is context, not an action.
    fn consult_documents(
        &self,
        turn: Turn<'_>,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Vec<airlock_rag::Passage>, AgentError> {
        if self.tools.executable(documents::SEARCH_DOCUMENTS).is_none()
            || !self.store().has_documents()?
        {
            return Ok(Vec::new());
        }
        let query: String = turn
            .request
            .chars()
            .take(documents::MAX_QUERY_CHARS)
            .collect();
        let mut args = Map::new();
        args.insert("query".into(), Value::String(query));
        let intent = Intent {
            tool: documents::SEARCH_DOCUMENTS.to_owned(),
            args,
            reasoning: "plant documents are indexed: search them before planning".to_owned(),
            confidence: Confidence::High,
        };
        let (_, searched) = self.own_read(turn, intent, progress)?;
        turn.clock.context_tools(&searched);
        Ok(searched
            .iter()
            .filter_map(|action| action.result.as_ref())
            .flat_map(documents::passages_of)
            .filter(|passage| documents::is_relevant(passage, false))
            .collect())
    }

    /// A read the agent makes on its own rather than the model planning it (the document
    /// search before planning, the status read of a repair): decided by the governor like any
    /// intent, recorded, and run under its token in either mode.
    fn own_read(
        &self,
        turn: Turn<'_>,
        intent: Intent,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<(PlannedIntent, Vec<Action>), AgentError> {
        let planned = self.govern(
            turn,
            intent,
            Mode::Execute,
            IntentSource::Planned {
                tainted: BTreeSet::new(),
            },
            progress,
        )?;
        let ran = self.execute(turn.trace, std::slice::from_ref(&planned), progress)?;
        Ok((planned, ran.actions))
    }

    /// The answer from tool `actions` and the document `passages` the request is most likely
    /// about (see [`focus`]), with citations, and the other passages listed after it. What
    /// the injection screen flags in a passage is withheld from the model.
    fn grounded_answer(
        &self,
        trace: &TraceId,
        request: &str,
        passages: &[airlock_rag::Passage],
        actions: &[Action],
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<String, AgentError> {
        let readable = answer::withheld(passages, |text| self.governance.flags_injection(text));
        let (used, further) = focus::split(&readable, &self.focus_order(request, &readable));
        let generate = answer::grounded_request(request, &used, actions);
        let text = match self.summarize(trace, &generate, progress)? {
            Ok(text) => answer::without_echo(&text).unwrap_or_else(|| answer::ONLY_ECHO.to_owned()),
            Err(err) => {
                format!("The summary could not be written ({err}); the passages found are:")
            }
        };
        Ok(answer::with_further_reading(
            answer::with_citations(&text, request, &used),
            &further,
        ))
    }

    /// The order in which the answer takes `passages`: by how likely the model finds `request`
    /// as a question about each, when there are more than it uses; the retrieval order
    /// otherwise, or when the model cannot score them.
    fn focus_order(&self, request: &str, passages: &[airlock_rag::Passage]) -> Vec<usize> {
        let retrieval: Vec<usize> = (0..passages.len()).collect();
        if passages.len() <= focus::ANSWER_PASSAGES {
            return retrieval;
        }
        let question: String = request.chars().take(documents::MAX_QUERY_CHARS).collect();
        let scored: Result<Vec<f64>, AgentError> = self.model_worker().and_then(|worker| {
            passages
                .iter()
                .map(|passage| {
                    let scoring = focus::likelihood_request(&question, passage);
                    crate::observe::score(&worker, "answer.focus", &scoring)
                        .map(|scores| scores.log_probs.first().copied().unwrap_or(f64::MIN))
                        .map_err(AgentError::from)
                })
                .collect()
        });
        match scored {
            Ok(log_probs) => focus::ranked(&log_probs),
            Err(err) => {
                tracing::warn!(%err, "passages not re-ranked: the answer takes them in retrieval order");
                retrieval
            }
        }
    }

    fn answer(
        &self,
        trace: &TraceId,
        request: &str,
        actions: &[Action],
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<String, AgentError> {
        let generate = answer::answer_request(request, actions);
        Ok(self
            .summarize(trace, &generate, progress)?
            .unwrap_or_else(|err| {
                format!(
                    "The tools ran, but the summary could not be written: {err}. \
                 Their results are listed above."
                )
            }))
    }

    /// Generates an answer: `Ok(Ok(text))`, or `Ok(Err(why))` when the model failed (recorded
    /// as answer_failed; the request still succeeds with what it has).
    fn summarize(
        &self,
        trace: &TraceId,
        generate: &airlock_llm::GenerateRequest,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<Result<String, AgentError>, AgentError> {
        let _answer = tracing::info_span!("answer").entered();
        let generated = self.model_worker().and_then(|worker| {
            crate::observe::generate(&worker, "answer", generate, &mut |text| {
                progress(Progress::AnswerToken(text));
                ControlFlow::Continue(())
            })
            .map_err(AgentError::from)
        });
        match generated {
            Ok(generation) => Ok(Ok(generation.text.trim().to_owned())),
            Err(err) => {
                self.record(
                    trace,
                    EventKind::AnswerFailed,
                    json!({"error": err.to_string()}),
                )?;
                Ok(Err(err))
            }
        }
    }

    /// Records this agent's principal on `span` as its audit pseudonym (never the name).
    fn observe_principal(&self, span: &tracing::Span) {
        match self.store().pseudonym_of(self.principal()) {
            Ok(pseudonym) => span.record("principal", pseudonym.as_str()),
            Err(err) => span.record("principal", format!("unavailable: {err}").as_str()),
        };
    }

    pub(crate) fn record(
        &self,
        trace: &TraceId,
        kind: EventKind,
        payload: Value,
    ) -> Result<(), AgentError> {
        self.store().record(trace, kind, payload)?;
        Ok(())
    }
}
