//! The simulated plant's service states and `restart_service`.
//!
//! `status.json` is the night's snapshot and is never written. What happened since (a fault
//! injected for a drill or a demo, a restart Airlock ran) lives in a state file in the data
//! directory, laid over the snapshot's `subsystems` by name.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use airlock_core::{Tool, ToolError, ToolSpec};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::args::{invalid, reject_unknown, required_str};
use super::Fixtures;

/// Longest service or system name (the schema's bounds).
const MAX_NAME_CHARS: usize = 40;

/// The state a restart leaves a service in.
const UP: &str = "up";

/// Kinds of subsystem a restart can bring back: software. A stopped line (an E-stop, a jam),
/// a database, a file server or the batch scheduler need people or their own procedures.
pub const RESTARTABLE_KINDS: &[&str] = &["service", "cics", "mq", "opcua"];

fn restartable(subsystem: &Value) -> bool {
    subsystem["kind"]
        .as_str()
        .is_some_and(|kind| RESTARTABLE_KINDS.contains(&kind))
}

/// A subsystem's state since the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceState {
    /// `up`, `degraded` or `down`.
    pub state: String,
    /// What happened, in words.
    pub detail: String,
    /// When it changed (RFC 3339).
    pub since: String,
}

/// The overlay file: subsystem name → its state since the snapshot.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Overlay {
    services: BTreeMap<String, ServiceState>,
}

/// The state file and the lock that serialises its read-modify-write cycles.
#[derive(Debug)]
pub(crate) struct ServiceStates {
    path: PathBuf,
    lock: Mutex<()>,
}

impl ServiceStates {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            lock: Mutex::new(()),
        }
    }

    /// The states recorded since the snapshot (none when the file does not exist yet).
    fn load(&self) -> Result<Overlay, ToolError> {
        match fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text).map_err(|err| {
                ToolError::BadData(format!(
                    "the simulator state file {} is damaged ({err}); remove it with `airlock sim \
                     reset` to return to the fixtures' snapshot",
                    self.path.display()
                ))
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Overlay::default()),
            Err(source) => Err(ToolError::Io {
                context: format!("reading the simulator state file {}", self.path.display()),
                source,
            }),
        }
    }

    /// Writes `overlay` whole or not at all (a temporary file renamed over the old one).
    fn store(&self, overlay: &Overlay) -> Result<(), ToolError> {
        let io_error = |source| ToolError::Io {
            context: format!("writing the simulator state file {}", self.path.display()),
            source,
        };
        let text = serde_json::to_vec_pretty(overlay)
            .map_err(|err| ToolError::BadData(err.to_string()))?;
        let temporary = self.path.with_extension("json.tmp");
        let mut file = fs::File::create(&temporary).map_err(io_error)?;
        file.write_all(&text).map_err(io_error)?;
        file.sync_all().map_err(io_error)?;
        fs::rename(&temporary, &self.path).map_err(io_error)
    }

    /// Sets `service`'s state, after checking that the snapshot knows it.
    fn set(
        &self,
        snapshot: &Value,
        service: &str,
        state: ServiceState,
    ) -> Result<ServiceState, ToolError> {
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        let mut overlay = self.load()?;
        let merged = merged_subsystems(snapshot, &overlay);
        let Some(current) = merged.iter().find(|s| s["name"] == service) else {
            return Err(unknown_service(service, &merged));
        };
        let previous = ServiceState {
            state: current["state"].as_str().unwrap_or_default().to_owned(),
            detail: current["detail"].as_str().unwrap_or_default().to_owned(),
            since: current["since"].as_str().unwrap_or_default().to_owned(),
        };
        overlay.services.insert(service.to_owned(), state);
        self.store(&overlay)?;
        Ok(previous)
    }

    /// Forgets every change since the snapshot.
    fn reset(&self) -> Result<(), ToolError> {
        let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(ToolError::Io {
                context: format!("removing the simulator state file {}", self.path.display()),
                source,
            }),
        }
    }

    /// `status` with the states recorded since the snapshot laid over its subsystems, and an
    /// `attention` list naming every subsystem that is not up, and whether a restart can
    /// bring it back.
    pub(crate) fn apply(&self, status: &mut Value) -> Result<(), ToolError> {
        let overlay = self.load()?;
        let merged = merged_subsystems(status, &overlay);
        let attention: Vec<Value> = merged
            .iter()
            .filter(|s| s["state"] != UP)
            .map(|s| {
                json!({"name": s["name"], "system": s["system"], "kind": s["kind"],
                       "state": s["state"], "restartable": restartable(s)})
            })
            .collect();
        if let Some(object) = status.as_object_mut() {
            object.insert("subsystems".into(), Value::Array(merged));
            object.insert("attention".into(), Value::Array(attention));
        }
        Ok(())
    }
}

/// The snapshot's subsystems with `overlay`'s states applied.
fn merged_subsystems(snapshot: &Value, overlay: &Overlay) -> Vec<Value> {
    let mut subsystems = snapshot["subsystems"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for subsystem in &mut subsystems {
        let name = subsystem["name"].as_str().unwrap_or_default().to_owned();
        if let (Some(changed), Some(object)) =
            (overlay.services.get(&name), subsystem.as_object_mut())
        {
            object.insert("state".into(), json!(changed.state));
            object.insert("detail".into(), json!(changed.detail));
            object.insert("since".into(), json!(changed.since));
        }
    }
    subsystems
}

fn unknown_service(service: &str, subsystems: &[Value]) -> ToolError {
    let known: Vec<&str> = subsystems
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    invalid(
        "service",
        format!(
            "no service `{service}` in the system status; known: {}",
            known.join(", ")
        ),
    )
}

/// The current time, RFC 3339, local where the offset is known.
fn now() -> String {
    let now = time::OffsetDateTime::now_local().unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Reads the snapshot (`status.json`).
pub(crate) fn snapshot(fixtures: &Fixtures) -> Result<Value, ToolError> {
    super::status::read_snapshot(&fixtures.status_file())
}

/// Puts `service` in state `state` with `detail`: a fault injected for a drill or a demo.
pub(crate) fn inject(
    fixtures: &Fixtures,
    states: &ServiceStates,
    service: &str,
    state: &str,
    detail: &str,
) -> Result<(), ToolError> {
    states
        .set(
            &snapshot(fixtures)?,
            service,
            ServiceState {
                state: state.to_owned(),
                detail: detail.to_owned(),
                since: now(),
            },
        )
        .map(drop)
}

/// Forgets injected faults and restarts.
pub(crate) fn reset(states: &ServiceStates) -> Result<(), ToolError> {
    states.reset()
}

/// The executable `restart_service`: restarts one subsystem of the simulated plant on the
/// system it runs on, and reports its state before and after (read back from the status).
pub(crate) struct RestartServiceTool {
    spec: ToolSpec,
    fixtures: Arc<Fixtures>,
    states: Arc<ServiceStates>,
}

impl RestartServiceTool {
    pub(crate) fn new(fixtures: Arc<Fixtures>, states: Arc<ServiceStates>) -> Self {
        Self {
            spec: crate::catalog::restart_service(),
            fixtures,
            states,
        }
    }
}

impl Tool for RestartServiceTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn invoke(&self, args: &Map<String, Value>) -> Result<Value, ToolError> {
        reject_unknown(args, &["service", "system"])?;
        let service = required_str(args, "service", MAX_NAME_CHARS)?;
        let system = required_str(args, "system", MAX_NAME_CHARS)?;
        let snapshot = snapshot(&self.fixtures)?;
        let subsystems = snapshot["subsystems"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let Some(subsystem) = subsystems.iter().find(|s| s["name"] == service) else {
            return Err(unknown_service(service, &subsystems));
        };
        let runs_on = subsystem["system"].as_str().unwrap_or_default();
        if runs_on != system {
            return Err(invalid(
                "system",
                format!("`{service}` runs on {runs_on}, not on {system}"),
            ));
        }
        if !restartable(subsystem) {
            return Err(ToolError::Failed(format!(
                "`{service}` is a {} subsystem, which a restart does not bring back; it needs \
                 its own procedure on site (only {} subsystems are restarted from here)",
                subsystem["kind"].as_str().unwrap_or("unknown"),
                RESTARTABLE_KINDS.join(", ")
            )));
        }
        let restarted_at = now();
        tracing::info!(service, system, "restart_service");
        let previous = self.states.set(
            &snapshot,
            service,
            ServiceState {
                state: UP.to_owned(),
                detail: format!("restarted by Airlock at {restarted_at}"),
                since: restarted_at.clone(),
            },
        )?;
        let mut status = snapshot;
        self.states.apply(&mut status)?;
        let confirmed = status["subsystems"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["name"] == service)
            .map_or(Value::Null, |s| s["state"].clone());
        Ok(json!({
            "service": service,
            "system": system,
            "previous_state": previous.state,
            "previous_detail": previous.detail,
            "state": confirmed,
            "restarted_at": restarted_at,
        }))
    }
}

/// Where the simulator keeps its state in `data_dir`.
#[must_use]
pub fn state_file(data_dir: &Path) -> PathBuf {
    data_dir.join("sim-state.json")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ops::test_support::{args, FIXTURES};
    use crate::ops::{OpsSimulator, GET_SYSTEM_STATUS};

    const RESTART: &str = "restart_service";

    fn simulator(dir: &tempfile::TempDir) -> OpsSimulator {
        OpsSimulator::open(FIXTURES)
            .unwrap()
            .with_state_file(state_file(dir.path()))
    }

    fn call(sim: &OpsSimulator, name: &str, arguments: Value) -> Result<Value, ToolError> {
        let tool = sim
            .tools()
            .into_iter()
            .find(|t| t.spec().name == name)
            .unwrap_or_else(|| panic!("no tool {name}"));
        tool.invoke(&args(arguments))
    }

    fn subsystem(status: &Value, name: &str) -> Value {
        status["subsystems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()
            .clone()
    }

    #[test]
    fn an_injected_fault_shows_in_the_status_until_a_restart_fixes_it() {
        let dir = tempfile::tempdir().unwrap();
        let sim = simulator(&dir);
        let before = call(&sim, GET_SYSTEM_STATUS, json!({})).unwrap();
        assert_eq!(subsystem(&before, "labelprintd")["state"], "up");

        sim.inject_fault("labelprintd", "down", "SIGSEGV, not restarted")
            .unwrap();
        let faulty = call(&sim, GET_SYSTEM_STATUS, json!({})).unwrap();
        assert_eq!(subsystem(&faulty, "labelprintd")["state"], "down");
        let attention = faulty["attention"].as_array().unwrap();
        let entry = attention
            .iter()
            .find(|a| a["name"] == "labelprintd")
            .expect("the fault needs attention");
        assert_eq!(entry["system"], "pkg-line3");
        assert_eq!(entry["restartable"], true);
        let line = attention.iter().find(|a| a["name"] == "PKG-3").unwrap();
        assert_eq!(
            line["restartable"], false,
            "a stopped line is not restarted"
        );

        let restarted = call(
            &sim,
            RESTART,
            json!({"service": "labelprintd", "system": "pkg-line3"}),
        )
        .unwrap();
        assert_eq!(restarted["previous_state"], "down");
        assert_eq!(restarted["previous_detail"], "SIGSEGV, not restarted");
        assert_eq!(restarted["state"], "up");
        let after = call(&sim, GET_SYSTEM_STATUS, json!({})).unwrap();
        assert_eq!(subsystem(&after, "labelprintd")["state"], "up");
        assert!(after["attention"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["name"] != "labelprintd"));

        sim.reset().unwrap();
        let reset = call(&sim, GET_SYSTEM_STATUS, json!({})).unwrap();
        assert_eq!(
            subsystem(&reset, "labelprintd"),
            subsystem(&before, "labelprintd")
        );
    }

    #[test]
    fn a_restart_on_the_wrong_system_or_of_a_line_is_refused_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let sim = simulator(&dir);
        sim.inject_fault("labelprintd", "down", "crashed").unwrap();
        let wrong = call(
            &sim,
            RESTART,
            json!({"service": "labelprintd", "system": "plant-ops"}),
        )
        .unwrap_err();
        assert!(wrong.to_string().contains("runs on pkg-line3"), "{wrong}");
        let line = call(
            &sim,
            RESTART,
            json!({"service": "PKG-3", "system": "pkg-line3"}),
        )
        .unwrap_err();
        assert!(line.to_string().contains("mes_line"), "{line}");
        let unknown = call(
            &sim,
            RESTART,
            json!({"service": "nope", "system": "pkg-line3"}),
        )
        .unwrap_err();
        assert!(unknown.to_string().contains("known: CICSPRD1"), "{unknown}");
        let status = call(&sim, GET_SYSTEM_STATUS, json!({})).unwrap();
        assert_eq!(subsystem(&status, "labelprintd")["state"], "down");
    }

    #[test]
    fn faults_are_checked_and_need_a_state_file() {
        let dir = tempfile::tempdir().unwrap();
        let sim = simulator(&dir);
        assert!(sim.inject_fault("labelprintd", "up", "x").is_err());
        assert!(sim.inject_fault("nothing-here", "down", "x").is_err());
        let read_only = OpsSimulator::open(FIXTURES).unwrap();
        assert!(read_only.inject_fault("labelprintd", "down", "x").is_err());
        assert!(read_only.tools().iter().all(|t| t.spec().name != RESTART));
    }

    #[test]
    fn a_damaged_state_file_is_reported_with_the_way_out() {
        let dir = tempfile::tempdir().unwrap();
        let sim = simulator(&dir);
        fs::write(state_file(dir.path()), b"{not json").unwrap();
        let err = call(&sim, GET_SYSTEM_STATUS, json!({})).unwrap_err();
        assert!(err.to_string().contains("airlock sim reset"), "{err}");
        sim.reset().unwrap();
        assert!(call(&sim, GET_SYSTEM_STATUS, json!({})).is_ok());
    }
}
