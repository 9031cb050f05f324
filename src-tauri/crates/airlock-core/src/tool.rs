//! Tools: their specification and the trait an executable tool implements.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Whether a tool only reads state or may change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolEffect {
    /// Reads state and changes nothing anywhere.
    Read,
    /// May change state (a file, a service, an ERP record).
    Write,
}

/// The kind of system a tool reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemKind {
    /// An operations server (logs, status, configuration, services).
    Ops,
    /// The Docker sandbox (commands over a read-only copy of the plant files).
    Sandbox,
    /// SAP over OData.
    Sap,
    /// The MES over ODBC.
    Mes,
    /// The plant's documents.
    Documents,
    /// An external MCP server the policy attaches (`policy/mcp-servers.toml`): its tools are
    /// not Airlock's own, and the governor knows them all as one Cedar action.
    External,
}

/// How sensitive data is, least first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// Anyone may see it.
    Public,
    /// People of the plant may see it.
    Internal,
    /// People cleared for confidential business data (contracts, prices) may see it.
    Confidential,
    /// Only a named audience may see it.
    Restricted,
}

impl Classification {
    /// Every level, least sensitive first.
    pub const ALL: [Self; 4] = [
        Self::Public,
        Self::Internal,
        Self::Confidential,
        Self::Restricted,
    ];

    /// The name used in the policy's directory (`public`, `internal`, `confidential`,
    /// `restricted`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Internal => "internal",
            Self::Confidential => "confidential",
            Self::Restricted => "restricted",
        }
    }

    /// The level whose name is `name`, in any letter case (`INTERNAL` as in document labels,
    /// `internal` as in the policy's directory).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(name.trim()))
    }

    /// The level's position, least sensitive first (0 for public): what the store compares.
    #[must_use]
    pub fn rank(self) -> u8 {
        self as u8
    }
}

/// Whether a system is production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// Production.
    Prod,
    /// Development or test.
    Dev,
}

impl Environment {
    /// The name used in the policy's directory (`prod`, `dev`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Prod => "prod",
            Self::Dev => "dev",
        }
    }
}

/// Where a tool acts and how sensitive its results are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolTarget {
    /// The kind of system.
    pub kind: SystemKind,
    /// The system (an id of the policy's directory, e.g. `sap-prd`) with its environment, when
    /// the tool always reaches that one; `None` when an argument names the system or document.
    pub system: Option<(String, Environment)>,
    /// The classification of the tool's results.
    pub results: Classification,
}

impl ToolTarget {
    /// A tool that reaches `system` in `environment`.
    #[must_use]
    pub fn system(
        kind: SystemKind,
        system: &str,
        environment: Environment,
        results: Classification,
    ) -> Self {
        Self {
            kind,
            system: Some((system.to_owned(), environment)),
            results,
        }
    }

    /// A tool whose arguments name the system or document it reaches.
    #[must_use]
    pub fn named_by_args(kind: SystemKind, results: Classification) -> Self {
        Self {
            kind,
            system: None,
            results,
        }
    }
}

/// What the planner may propose and the governor reasons about: a tool's name, what it does,
/// the JSON schema of its arguments, its effect, and where it acts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Unique name, `snake_case`; the only names a plan may contain.
    pub name: String,
    /// One or two sentences the model reads to choose the tool.
    pub description: String,
    /// JSON schema of the arguments: an object schema with `additionalProperties: false`.
    pub parameters: Value,
    /// Read or write.
    pub effect: ToolEffect,
    /// The system it reaches, that system's environment, and its results' classification.
    pub target: ToolTarget,
}

impl ToolSpec {
    /// A spec from its parts.
    #[must_use]
    pub fn new(
        name: &str,
        description: &str,
        parameters: Value,
        effect: ToolEffect,
        target: ToolTarget,
    ) -> Self {
        Self {
            name: name.to_owned(),
            description: description.to_owned(),
            parameters,
            effect,
            target,
        }
    }
}

/// An executable tool. Only the agent's executor calls [`Tool::invoke`].
pub trait Tool: Send + Sync {
    /// The tool's specification.
    fn spec(&self) -> &ToolSpec;

    /// Runs the tool with arguments that already passed the schema.
    ///
    /// # Errors
    /// [`ToolError`] when the arguments name something that does not exist or the tool fails.
    fn invoke(&self, args: &Map<String, Value>) -> Result<Value, ToolError>;
}

/// Why a tool call failed.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// An argument is missing, of the wrong type or out of range.
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// The argument's name.
        name: String,
        /// What is wrong with it and what would be accepted.
        reason: String,
    },
    /// The tool could not read or write what it needed.
    #[error("{context}: {source}")]
    Io {
        /// What the tool was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The data the tool read was not in the expected shape.
    #[error("{0}")]
    BadData(String),
    /// The system behind the tool (a database, an ERP) refused or failed the call; the message
    /// says what to do.
    #[error("{0}")]
    Failed(String),
}

/// The key under which a write tool's result carries its [`Undo`].
pub const UNDO_KEY: &str = "undo";

/// The call that undoes a completed write (its compensation): a write tool puts it in its
/// result under [`UNDO_KEY`], the agent records it, and a rollback proposes it to the governor
/// like any other call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Undo {
    /// The tool that undoes the write.
    pub tool: String,
    /// Its arguments.
    pub args: Map<String, Value>,
}

impl Undo {
    /// The undo a tool result carries, if any.
    #[must_use]
    pub fn from_result(result: &Value) -> Option<Self> {
        serde_json::from_value(result.get(UNDO_KEY)?.clone()).ok()
    }
}
