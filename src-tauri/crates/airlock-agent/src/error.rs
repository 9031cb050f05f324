//! Errors of one request, worded for the operator.

use crate::{PlanError, RequestError};

/// Why a request could not be served.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The request itself was refused.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The store could not record the request (nothing ran).
    #[error(transparent)]
    Store(#[from] airlock_store::StoreError),
    /// The model could not be loaded or failed.
    #[error(transparent)]
    Model(#[from] airlock_llm::LlmError),
    /// The model's plan could not be used.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The simulator fixtures are missing or broken.
    #[error(transparent)]
    Tools(#[from] airlock_connectors::ops::OpsError),
    /// The policy's list of external MCP servers cannot be read.
    #[error(transparent)]
    Mcp(#[from] airlock_connectors::mcp::McpError),
    /// The governor's policy does not load.
    #[error(transparent)]
    Policy(#[from] airlock_policy::GovernorError),
    /// The intent-token signing key is unavailable.
    #[error(transparent)]
    Keys(#[from] airlock_connectors::keys::KeyError),
    /// No completed write with that decision id recorded how to undo it.
    #[error("nothing to roll back for decision `{0}`: no completed write with an undo record has that id; the id is in the write's outcome (`--json`) and in `airlock audit export`")]
    NothingToRollBack(String),
    /// Document ingestion or retrieval failed as a whole.
    #[error(transparent)]
    Documents(#[from] airlock_rag::RagError),
    /// The document library cannot be used: its message says why and what to do.
    #[error("{0}")]
    Library(String),
    /// An approval step was refused: its message says why and what to do.
    #[error(transparent)]
    Approval(#[from] crate::ApprovalError),
    /// A policy edit was refused.
    #[error(transparent)]
    PolicyEdit(Box<crate::PolicyEditError>),
    /// No conversation has the id a request was to continue.
    #[error("no conversation `{0}`: the id is printed after each answer (`conversation …`); leave out --conversation to start a new one")]
    UnknownConversation(String),
    /// A typed plan with no calls, or more than [`crate::MAX_TYPED_CALLS`].
    #[error(
        "a typed plan holds 1 to {max} calls, this one {count}; split it into several plans",
        max = crate::MAX_TYPED_CALLS,
        count = .0
    )]
    TypedPlanSize(usize),
    /// Execution was asked of a read-only installation.
    #[error(
        "this installation is read-only ([deployment] read_only = true in the policy's \
         guards.toml): nothing is executed, approved or rolled back here; use plan mode, or ask \
         an admin to change the deployment"
    )]
    ReadOnly,
    /// An admin task (models, connections, documents, accounts) was refused or failed; the
    /// message says why and what to do.
    #[error("{0}")]
    Admin(String),
    /// The request traces or the metrics could not be read or rendered.
    #[error(transparent)]
    Telemetry(#[from] airlock_telemetry::TelemetryError),
    /// An offline update bundle was refused, or its package did not install.
    #[error(transparent)]
    Update(#[from] airlock_update::UpdateError),
    /// A simulator change (fault injection, reset) was refused or could not be saved.
    #[error("simulator: {0}")]
    Simulator(#[from] airlock_core::ToolError),
    /// The runtime that drives the sandbox could not start (out of threads or memory).
    #[error("cannot start the sandbox runtime: {0}; free some memory or threads and try again")]
    Runtime(std::io::Error),
}
