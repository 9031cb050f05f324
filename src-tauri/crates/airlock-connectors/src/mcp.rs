//! External MCP servers over stdio. A server listed in the policy's `mcp-servers.toml` is
//! started as a child process, its tools are listed once, and each becomes a tool of the
//! catalog named `<server>.<tool>` that the planner may propose and the executor may run —
//! after the governor decided it like any other: as the Cedar action `external_tool` on the
//! server's system. Nothing a server says about its own tools (read-only or destructive hints)
//! is trusted: a tool is a write unless the policy file names it a read.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use airlock_core::{
    Classification, Environment, SystemKind, Tool, ToolEffect, ToolError, ToolSpec, ToolTarget,
};
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The file in the policy directory that lists the servers.
pub const SERVERS_FILE: &str = "mcp-servers.toml";

/// How long a server may take to start and list its tools, or to answer one call.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Longest tool description kept (a server's text reaches the planner's prompt).
const MAX_DESCRIPTION_CHARS: usize = 300;

/// One server of `mcp-servers.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Its name: the system the governor reasons about (listed under `[systems]` in
    /// `principals.toml`) and its tools' prefix.
    pub name: String,
    /// The program that speaks MCP on its standard input and output.
    pub command: PathBuf,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// The system's environment, as `principals.toml` lists it.
    pub environment: Environment,
    /// How sensitive its results are.
    pub classification: Classification,
    /// Tools (their names on the server) the policy's author vouches only read.
    #[serde(default)]
    pub read_tools: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServersFile {
    #[serde(default, rename = "server")]
    servers: Vec<ServerConfig>,
}

/// Why a server could not be attached.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    /// `mcp-servers.toml` cannot be read or parsed.
    #[error("cannot read {path}: {reason}; fix the file or remove it")]
    Config {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The server did not start or did not list its tools.
    #[error("cannot attach MCP server `{server}` ({command}): {reason}; check its entry in {SERVERS_FILE}")]
    Attach {
        /// The server's name.
        server: String,
        /// Its command.
        command: String,
        /// What went wrong.
        reason: String,
    },
}

/// The servers `policy_dir` lists (none when it has no `mcp-servers.toml`).
///
/// # Errors
/// [`McpError::Config`] for a file that cannot be read or parsed, or a server name that is not
/// a plain lowercase identifier.
pub fn load_servers(policy_dir: &Path) -> Result<Vec<ServerConfig>, McpError> {
    let path = policy_dir.join(SERVERS_FILE);
    let fail = |reason: String| McpError::Config {
        path: path.display().to_string(),
        reason,
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(fail(err.to_string())),
    };
    let file: ServersFile = toml::from_str(&text).map_err(|err| fail(err.to_string()))?;
    for server in &file.servers {
        let plain = !server.name.is_empty()
            && server
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !plain {
            return Err(fail(format!(
                "server name `{}`: use lowercase letters, digits and dashes",
                server.name
            )));
        }
    }
    Ok(file.servers)
}

/// A started server: its tools' specs and their executors.
pub struct AttachedServer {
    /// One spec per tool the server listed, named `<server>.<tool>`.
    pub specs: Vec<ToolSpec>,
    /// Their executors (calls go to the server).
    pub tools: Vec<Arc<dyn Tool>>,
}

/// Starts `config`'s server and lists its tools.
///
/// # Errors
/// [`McpError::Attach`] when it does not start, does not speak MCP, or does not list its tools
/// within the timeout.
pub fn attach(config: &ServerConfig) -> Result<AttachedServer, McpError> {
    let fail = |reason: String| McpError::Attach {
        server: config.name.clone(),
        command: config.command.display().to_string(),
        reason,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(format!("mcp-{}", config.name))
        .enable_all()
        .build()
        .map_err(|err| fail(err.to_string()))?;
    let mut command = tokio::process::Command::new(&config.command);
    command.args(&config.args);
    let (transport, _) = {
        // The child's pipes register with the runtime that will drive them.
        let _context = runtime.enter();
        TokioChildProcess::builder(command)
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| fail(err.to_string()))?
    };
    let (client, listed) = runtime
        .block_on(async {
            tokio::time::timeout(TIMEOUT, async {
                let client = ().serve(transport).await.map_err(|err| err.to_string())?;
                let listed = client
                    .list_all_tools()
                    .await
                    .map_err(|err| err.to_string())?;
                Ok::<_, String>((client, listed))
            })
            .await
        })
        .map_err(|_| fail(format!("no answer within {} s", TIMEOUT.as_secs())))?
        .map_err(fail)?;
    let connection = Arc::new(Connection { runtime, client });
    let mut specs = Vec::with_capacity(listed.len());
    let mut tools: Vec<Arc<dyn Tool>> = Vec::with_capacity(listed.len());
    for tool in listed {
        let remote = tool.name.to_string();
        let description: String = tool
            .description
            .as_deref()
            .unwrap_or("A tool of an attached MCP server.")
            .chars()
            .take(MAX_DESCRIPTION_CHARS)
            .collect();
        let effect = if config.read_tools.contains(&remote) {
            ToolEffect::Read
        } else {
            ToolEffect::Write
        };
        let spec = ToolSpec::new(
            &format!("{}.{remote}", config.name),
            &format!("{description} (MCP server {})", config.name),
            Value::Object((*tool.input_schema).clone()),
            effect,
            ToolTarget::system(
                SystemKind::External,
                &config.name,
                config.environment,
                config.classification,
            ),
        );
        specs.push(spec.clone());
        tools.push(Arc::new(ExternalTool {
            spec,
            remote,
            connection: Arc::clone(&connection),
        }));
    }
    Ok(AttachedServer { specs, tools })
}

/// The client side of one server's session, with the runtime that drives it.
struct Connection {
    runtime: tokio::runtime::Runtime,
    client: RunningService<RoleClient, ()>,
}

/// One tool of an attached server.
struct ExternalTool {
    spec: ToolSpec,
    /// Its name on the server.
    remote: String,
    connection: Arc<Connection>,
}

impl Tool for ExternalTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn invoke(&self, args: &Map<String, Value>) -> Result<Value, ToolError> {
        let params = CallToolRequestParams::new(self.remote.clone()).with_arguments(args.clone());
        let client = &self.connection.client;
        let result = self
            .connection
            .runtime
            .block_on(async { tokio::time::timeout(TIMEOUT, client.call_tool(params)).await })
            .map_err(|_| {
                ToolError::Failed(format!(
                    "the MCP server did not answer within {} s",
                    TIMEOUT.as_secs()
                ))
            })?
            .map_err(|err| ToolError::Failed(format!("the MCP server failed: {err}")))?;
        let texts: Vec<String> = result
            .content
            .iter()
            .filter_map(|block| block.as_text().map(|text| text.text.clone()))
            .collect();
        if result.is_error == Some(true) {
            return Err(ToolError::Failed(format!(
                "the MCP server reported an error: {}",
                texts.join(" ")
            )));
        }
        Ok(result
            .structured_content
            .unwrap_or_else(|| json!({ "content": texts })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(text: &str) -> Result<Vec<ServerConfig>, McpError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SERVERS_FILE), text).unwrap();
        load_servers(dir.path())
    }

    #[test]
    fn no_file_attaches_nothing_and_a_listed_server_is_read_whole() {
        let empty = tempfile::tempdir().unwrap();
        assert!(load_servers(empty.path()).unwrap().is_empty());
        let listed = servers(
            "[[server]]\nname = \"historian\"\ncommand = \"/opt/h/bin/h-mcp\"\nargs = [\"--stdio\"]\n\
             environment = \"prod\"\nclassification = \"internal\"\nread_tools = [\"read_tag\"]\n",
        )
        .unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, "historian");
        assert_eq!(listed[0].environment, Environment::Prod);
        assert_eq!(listed[0].read_tools, ["read_tag"]);
    }

    #[test]
    fn a_bad_name_or_an_unknown_field_is_refused_with_the_file_named() {
        let bad_name = servers(
            "[[server]]\nname = \"His torian\"\ncommand = \"x\"\nenvironment = \"dev\"\nclassification = \"internal\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            bad_name.contains("lowercase letters, digits and dashes"),
            "{bad_name}"
        );
        let unknown = servers(
            "[[server]]\nname = \"h\"\ncommand = \"x\"\nenvironment = \"dev\"\nclassification = \"internal\"\ntrusted = true\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            unknown.contains(SERVERS_FILE) && unknown.contains("trusted"),
            "{unknown}"
        );
    }

    #[test]
    fn a_server_that_does_not_start_is_an_error_naming_it() {
        let config = ServerConfig {
            name: "ghost".into(),
            command: "/nonexistent/mcp-server".into(),
            args: Vec::new(),
            environment: Environment::Dev,
            classification: Classification::Internal,
            read_tools: Vec::new(),
        };
        let err = attach(&config).err().expect("no such program").to_string();
        assert!(
            err.contains("ghost") && err.contains("/nonexistent/mcp-server"),
            "{err}"
        );
    }
}
