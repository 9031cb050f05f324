//! The operations simulator: read-only tools over the fixtures directory.
//!
//! The fixtures directory (the repository's `fixtures/`) holds one night on an ops server and
//! a mainframe batch window: `sim/logs/{syslog,joblog,audit,error}.log`, `status.json` and a small
//! file tree under `sim/`. [`OpsSimulator`] opens it once and hands out the tools:
//!
//! | tool                 | effect | what it does                                        |
//! |----------------------|--------|-----------------------------------------------------|
//! | [`GET_LOGS`]          | read   | last lines of one log, optionally filtered          |
//! | [`GET_SYSTEM_STATUS`] | read   | CPU, memory, batch jobs, subsystems                 |
//! | [`LIST_FILES`]        | read   | entries of one directory under `sim/`               |
//! | [`SET_LOG_LEVEL`]     | write  | specification only; nothing executes it yet         |
//! | `restart_service`     | write  | restarts one subsystem (with a state file only)     |
//!
//! The fixtures are never written. A simulator given a state file
//! ([`OpsSimulator::with_state_file`]) keeps there what changed since the snapshot: faults
//! injected for a drill ([`OpsSimulator::inject_fault`]) and restarts, which
//! `get_system_status` lays over the snapshot.

mod args;
mod error;
mod files;
mod log_level;
mod logs;
mod services;
mod status;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use airlock_core::{
    Classification, Environment, SystemKind, Tool, ToolError, ToolSpec, ToolTarget,
};

use services::ServiceStates;

pub use error::OpsError;
pub use logs::LogSource;
pub use services::state_file;

/// Name of the tool that reads the last lines of a log.
pub const GET_LOGS: &str = "get_logs";
/// Name of the tool that reports the current system status.
pub const GET_SYSTEM_STATUS: &str = "get_system_status";
/// Name of the tool that lists one directory of the simulator tree.
pub const LIST_FILES: &str = "list_files";
/// Name of the write tool that changes a log level.
///
/// It is specification only: [`OpsSimulator::specs`] lists it so the planner and governor know
/// it, [`OpsSimulator::tools`] does not execute it. Writes are executed only once the governor
/// exists (issue 3).
pub const SET_LOG_LEVEL: &str = "set_log_level";

/// The simulator over one fixtures directory; cheap to share, the tools hold it by [`Arc`].
#[derive(Debug, Clone)]
pub struct OpsSimulator {
    fixtures: Arc<Fixtures>,
    states: Option<Arc<ServiceStates>>,
}

/// Where the simulator's data lives.
#[derive(Debug)]
struct Fixtures {
    /// The fixtures directory, canonical (symlinks resolved).
    root: PathBuf,
}

impl Fixtures {
    fn logs_dir(&self) -> PathBuf {
        self.root.join("sim").join("logs")
    }

    fn status_file(&self) -> PathBuf {
        self.root.join("status.json")
    }

    fn sim_dir(&self) -> PathBuf {
        self.root.join("sim")
    }
}

impl OpsSimulator {
    /// Opens the simulator over a fixtures directory; errors clearly if `sim/logs/` or
    /// `status.json` are missing.
    ///
    /// # Errors
    /// [`OpsError`] when the directory does not exist, is not a directory, or lacks `sim/logs/`
    /// or `status.json`; each message says how to point Airlock at the right directory.
    pub fn open(fixtures_dir: impl Into<PathBuf>) -> Result<Self, OpsError> {
        let given: PathBuf = fixtures_dir.into();
        let root = given
            .canonicalize()
            .map_err(|source| OpsError::FixturesUnreadable {
                path: given.clone(),
                source,
            })?;
        if !root.is_dir() {
            return Err(OpsError::NotADirectory { path: given });
        }
        if !root.join("sim").join("logs").is_dir() {
            return Err(OpsError::MissingLogs { path: given });
        }
        if !root.join("status.json").is_file() {
            return Err(OpsError::MissingStatus { path: given });
        }
        tracing::debug!(fixtures = %root.display(), "opened ops simulator");
        Ok(Self {
            fixtures: Arc::new(Fixtures { root }),
            states: None,
        })
    }

    /// This simulator keeping what changed since the snapshot (injected faults, restarts) in
    /// `path` (see [`state_file`]); only such a simulator can restart services.
    #[must_use]
    pub fn with_state_file(mut self, path: PathBuf) -> Self {
        self.states = Some(Arc::new(ServiceStates::new(path)));
        self
    }

    /// Puts subsystem `service` in `state` (`down` or `degraded`) with `detail`, as a fault
    /// for a drill or a demo; `get_system_status` reports it until a restart or
    /// [`OpsSimulator::reset`].
    ///
    /// # Errors
    /// [`ToolError::InvalidArgument`] for an unknown service or state, or when the simulator
    /// has no state file; [`ToolError::Io`] when the state file cannot be written.
    pub fn inject_fault(&self, service: &str, state: &str, detail: &str) -> Result<(), ToolError> {
        if !matches!(state, "down" | "degraded") {
            return Err(args::invalid(
                "state",
                format!("a fault leaves a service `down` or `degraded`, not `{state}`"),
            ));
        }
        services::inject(&self.fixtures, self.states()?, service, state, detail)
    }

    /// Forgets injected faults and restarts: the status is the snapshot again.
    ///
    /// # Errors
    /// [`ToolError::Io`] when the state file cannot be removed, or
    /// [`ToolError::InvalidArgument`] when the simulator has no state file.
    pub fn reset(&self) -> Result<(), ToolError> {
        services::reset(self.states()?)
    }

    fn states(&self) -> Result<&ServiceStates, ToolError> {
        self.states.as_deref().ok_or_else(|| {
            args::invalid(
                "state",
                "this simulator was opened without a state file, so it cannot change anything",
            )
        })
    }

    /// The fixtures directory this simulator reads, canonical.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.fixtures.root
    }

    /// Specs of every simulator tool, executable or not, in a stable order:
    /// `get_logs`, `get_system_status`, `list_files`, `set_log_level`.
    #[must_use]
    pub fn specs() -> Vec<ToolSpec> {
        vec![
            logs::spec(),
            status::spec(),
            files::spec(),
            log_level::spec(),
        ]
    }

    /// The executable tools, sharing this simulator: the reads in the order of
    /// [`OpsSimulator::specs`], then `restart_service` when the simulator has a state file.
    /// `set_log_level` is not among them.
    #[must_use]
    pub fn tools(&self) -> Vec<Arc<dyn Tool>> {
        let mut tools: Vec<Arc<dyn Tool>> = vec![
            Arc::new(logs::LogsTool::new(Arc::clone(&self.fixtures))),
            Arc::new(status::StatusTool::new(
                Arc::clone(&self.fixtures),
                self.states.clone(),
            )),
            Arc::new(files::ListFilesTool::new(Arc::clone(&self.fixtures))),
        ];
        if let Some(states) = &self.states {
            tools.push(Arc::new(services::RestartServiceTool::new(
                Arc::clone(&self.fixtures),
                Arc::clone(states),
            )));
        }
        tools
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Helpers shared by the unit tests: the real fixtures and temporary copies of them.

    use std::fs;
    use std::path::{Path, PathBuf};

    use serde_json::{Map, Value};

    use super::OpsSimulator;
    use airlock_core::Tool;

    /// The repository's fixtures directory.
    pub(crate) const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../fixtures");

    /// The simulator over the real fixtures.
    pub(crate) fn simulator() -> OpsSimulator {
        OpsSimulator::open(FIXTURES).expect("the repository's fixtures open")
    }

    /// The executable tool called `name` from the real fixtures.
    pub(crate) fn tool(name: &str) -> std::sync::Arc<dyn Tool> {
        simulator()
            .tools()
            .into_iter()
            .find(|t| t.spec().name == name)
            .unwrap_or_else(|| panic!("no executable tool {name}"))
    }

    /// `value` as an argument map; panics unless it is a JSON object.
    pub(crate) fn args(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("arguments must be an object, got {other}"),
        }
    }

    /// A temporary copy of the real fixtures; the copy lives as long as the returned guard.
    pub(crate) fn fixtures_copy() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("fixtures");
        copy_tree(Path::new(FIXTURES), &root);
        (dir, root)
    }

    fn copy_tree(from: &Path, to: &Path) {
        fs::create_dir_all(to).expect("create dir");
        for entry in fs::read_dir(from).expect("read fixtures") {
            let entry = entry.expect("dir entry");
            let target = to.join(entry.file_name());
            if entry.file_type().expect("file type").is_dir() {
                copy_tree(&entry.path(), &target);
            } else {
                fs::copy(entry.path(), &target).expect("copy file");
            }
        }
    }
}

/// Where the simulator's tools act: the plant's operations server, production, internal data.
fn plant_ops() -> ToolTarget {
    ToolTarget::system(
        SystemKind::Ops,
        "plant-ops",
        Environment::Prod,
        Classification::Internal,
    )
}

#[cfg(test)]
mod tests {
    use std::fs;

    use airlock_core::ToolEffect;
    use serde_json::Value;

    use super::test_support::{fixtures_copy, simulator, FIXTURES};
    use super::*;

    #[test]
    fn specs_list_every_tool_in_a_stable_order() {
        let names: Vec<String> = OpsSimulator::specs().into_iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [GET_LOGS, GET_SYSTEM_STATUS, LIST_FILES, SET_LOG_LEVEL]
        );
    }

    #[test]
    fn every_spec_has_a_strict_object_schema() {
        for spec in OpsSimulator::specs() {
            let schema = spec.parameters.as_object().expect("schema is an object");
            let name = &spec.name;
            assert_eq!(schema["type"], "object", "{name}");
            assert_eq!(schema["additionalProperties"], false, "{name}");
            let properties = schema["properties"].as_object().expect("properties");
            let required = schema["required"].as_array().expect("required is listed");
            for field in required {
                let field = field.as_str().expect("required names are strings");
                assert!(
                    properties.contains_key(field),
                    "{name}: {field} required but not defined"
                );
            }
            for (field, prop) in properties {
                match prop["type"].as_str() {
                    Some("string") => assert!(
                        prop.get("enum").is_some() || prop.get("maxLength").is_some(),
                        "{name}.{field}: strings need an enum or maxLength"
                    ),
                    Some("integer") => assert!(
                        prop.get("minimum").is_some() && prop.get("maximum").is_some(),
                        "{name}.{field}: integers need minimum and maximum"
                    ),
                    other => panic!("{name}.{field}: unexpected type {other:?}"),
                }
                assert!(
                    prop["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{name}.{field}: describe every argument"
                );
            }
            assert!(!spec.description.is_empty(), "{name}: needs a description");
        }
    }

    #[test]
    fn tools_are_all_reads_and_leave_out_set_log_level() {
        let tools = simulator().tools();
        assert!(tools.iter().all(|t| t.spec().effect == ToolEffect::Read));
        assert!(tools.iter().all(|t| t.spec().name != SET_LOG_LEVEL));
        let executable: Vec<_> = tools.iter().map(|t| t.spec().clone()).collect();
        let read_specs: Vec<_> = OpsSimulator::specs()
            .into_iter()
            .filter(|s| s.effect == ToolEffect::Read)
            .collect();
        assert_eq!(executable, read_specs, "tools() matches the read specs");
    }

    #[test]
    fn set_log_level_is_specified_as_a_write() {
        let spec = OpsSimulator::specs()
            .into_iter()
            .find(|s| s.name == SET_LOG_LEVEL)
            .expect("set_log_level spec");
        assert_eq!(spec.effect, ToolEffect::Write);
        assert_eq!(
            spec.parameters["properties"]["level"]["enum"],
            serde_json::json!(["debug", "info", "warn", "error"])
        );
        assert_eq!(spec.parameters["required"], serde_json::json!(["level"]));
    }

    #[test]
    fn open_refuses_a_directory_without_logs() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("status.json"), "{}").unwrap();
        let err = OpsSimulator::open(dir.path()).unwrap_err();
        assert!(matches!(err, OpsError::MissingLogs { .. }));
        let message = err.to_string();
        assert!(message.contains("has no sim/logs/"), "{message}");
        assert!(message.contains("--fixtures-dir"), "{message}");
    }

    #[test]
    fn open_refuses_a_directory_without_status() {
        let (_guard, root) = fixtures_copy();
        fs::remove_file(root.join("status.json")).unwrap();
        let err = OpsSimulator::open(&root).unwrap_err();
        assert!(matches!(err, OpsError::MissingStatus { .. }));
        assert!(err.to_string().contains("status.json"), "{err}");
    }

    #[test]
    fn open_refuses_a_missing_directory_and_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere");
        let err = OpsSimulator::open(&missing).unwrap_err();
        assert!(err.to_string().contains("nowhere"), "{err}");
    }

    #[test]
    fn open_accepts_the_repository_fixtures() {
        let sim = simulator();
        let expected = std::path::Path::new(FIXTURES).canonicalize().unwrap();
        assert_eq!(sim.root(), expected);
    }

    #[test]
    fn tools_return_json_objects_for_valid_calls() {
        for tool in simulator().tools() {
            let args = match tool.spec().name.as_str() {
                GET_LOGS => serde_json::json!({"source": "syslog", "tail": 5}),
                LIST_FILES => serde_json::json!({"path": "/"}),
                _ => serde_json::json!({}),
            };
            let out = tool
                .invoke(&super::test_support::args(args))
                .unwrap_or_else(|e| panic!("{}: {e}", tool.spec().name));
            assert!(matches!(out, Value::Object(_)), "{}", tool.spec().name);
        }
    }
}
