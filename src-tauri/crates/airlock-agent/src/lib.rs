//! Airlock's orchestrator. For each request: check the input, plan with the local model under a
//! grammar built from the tool registry, decide each intent, run what may run, and answer from
//! the tool results only. Every step is recorded in the store's event log.
//!
//! The CLI and the desktop shell call into this crate and hold no logic of their own.

mod admin;
mod agent;
mod answer;
mod approvals;
mod batch;
mod checks;
mod choice;
mod clauses;
mod connections;
mod conversation;
mod documents;
mod error;
mod events;
mod focus;
mod governance;
mod library;
mod observe;
mod planner;
mod policy_admin;
mod preselect;
mod remedy;
mod request;
mod sandboxed;
mod scenario;
mod status;
mod subjects;
pub mod telemetry;
mod timing;
mod tools;
mod updates;
mod views;

pub use admin::{
    delete_connection, list_connections, save_connection, test_connection, ChecksumStatus,
    ConnectionTest, ConnectionView, IngestFileReport, IngestProgress, LoadedModelView, ModelEntry,
    ModelLoadProgress, ModelsView, NewConnection, MAX_INGEST_PATHS,
};
pub use agent::{
    os_principal, Action, Agent, AgentConfig, AskOutcome, AuditRef, Compensation, Draft, PlanStop,
    PlanUsage, PlannedIntent, Progress, TypedCall, AUDIT_KEY, MAX_TYPED_CALLS,
};
pub use airlock_llm::registry::{
    default_models_dir, model_status, ModelInfo, ModelSource, ModelStatus,
};
pub use airlock_policy::{Decision, Outcome};
pub use airlock_sandbox::{Chunk, SandboxConfig, Stream};
pub use airlock_store::default_data_dir;
pub use airlock_store::{
    ApprovalRecord, ApprovalStatus, AuditEntry, AuditFilter, AuditReport, ConversationSummary,
    DocumentSummary, ExportFormat, LocalAccount, OpenedChunk, StoredMessage,
};
pub use approvals::{ApprovalError, ApprovalOutcome, Approver, ADMIN_ROLE, MIN_PASSPHRASE_CHARS};
pub use batch::{
    parse_batch, BatchEntry, BatchFileError, BatchReport, BatchRequest, BatchSummary, Executed,
    IdentitySource, InvalidEntry, MultiDecision, SubDecision, SubStatus, MAX_BATCH_BYTES,
    MAX_BATCH_REQUESTS,
};
pub use checks::{Check, CheckStatus, Checkup};
pub use choice::{PlanChoice, ScoredChoice, ToolChoice, ToolScore};
pub use connections::{MES_CONNECTION, SAP_CONNECTION};
pub use error::AgentError;
pub use events::AgentEvent;
pub use library::{AddOptions, DocumentLibrary, FileResult};
pub use planner::{plan_schema, PlanError};
pub use policy_admin::{
    PolicyCaseResult, PolicyEditError, PolicyFile, PolicyReview, PolicySaved, MAX_POLICY_FILE_BYTES,
};
pub use preselect::{Preselection, ALWAYS_OFFERED};
pub use request::{check_request, read_request, RequestError, MAX_REQUEST_BYTES};
pub use scenario::{load_scenarios, AfterPrompt, Expectation, Judgement, Scenario, ScenarioError};
pub use status::{AppStatus, ModelPart, PartStatus};
pub use subjects::SubjectErasure;
pub use timing::Timings;
pub use tools::ToolRegistry;
pub use updates::{UpdateInstalled, UpdateView, CURRENT_VERSION};
pub use views::{CallTarget, ExportedAudit, PendingApproval};

/// When this process was started as one of the engine's workers (the model worker, or the
/// isolated document extractor), serves that role and returns its exit code; `None` for a
/// normal start. Every binary that opens an [`Agent`] calls this first thing in `main`.
#[must_use]
pub fn serve_worker_if_requested() -> Option<i32> {
    airlock_llm::worker::run_if_requested().or_else(airlock_rag::serve_if_requested)
}

/// The simulator fixtures: `$AIRLOCK_FIXTURES_DIR`, else the nearest `fixtures/` holding a
/// `status.json`, else `./fixtures`.
#[must_use]
pub fn default_fixtures_dir() -> std::path::PathBuf {
    airlock_core::resources::locate_dir("AIRLOCK_FIXTURES_DIR", "fixtures", "status.json")
}

/// The policy directory: `$AIRLOCK_POLICY_DIR`, else the nearest `policy/` holding a
/// `guards.toml`.
#[must_use]
pub fn default_policy_dir() -> std::path::PathBuf {
    airlock_core::resources::locate_dir("AIRLOCK_POLICY_DIR", "policy", "guards.toml")
}
