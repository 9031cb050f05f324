//! `get_system_status`: the current status snapshot from `status.json`.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use airlock_core::{Tool, ToolEffect, ToolError, ToolSpec};
use serde_json::{json, Map, Value};

use super::args::reject_unknown;
use super::services::ServiceStates;
use super::{Fixtures, GET_SYSTEM_STATUS};

/// A status file larger than this is refused: the snapshot is a few kilobytes.
const MAX_STATUS_BYTES: u64 = 1024 * 1024;

/// The specification of `get_system_status`.
pub(crate) fn spec() -> ToolSpec {
    ToolSpec {
        name: GET_SYSTEM_STATUS.to_owned(),
        description: "Current system status for a health check: CPU and memory usage, load, \
                      disk space, batch jobs (running, queued, failed with abend codes) and the \
                      state of each subsystem (CICS, DB2, MQ, MES line 3, label printer)."
            .to_owned(),
        parameters: json!({
            "type": "object",
            "properties": {},
            "required": [],
            "additionalProperties": false
        }),
        effect: ToolEffect::Read,
        target: super::plant_ops(),
    }
}

/// The executable `get_system_status` tool.
pub(crate) struct StatusTool {
    spec: ToolSpec,
    fixtures: Arc<Fixtures>,
    states: Option<Arc<ServiceStates>>,
}

impl StatusTool {
    pub(crate) fn new(fixtures: Arc<Fixtures>, states: Option<Arc<ServiceStates>>) -> Self {
        Self {
            spec: spec(),
            fixtures,
            states,
        }
    }
}

impl Tool for StatusTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn invoke(&self, args: &Map<String, Value>) -> Result<Value, ToolError> {
        reject_unknown(args, &[])?;
        let mut status = read_snapshot(&self.fixtures.status_file())?;
        if let Some(states) = &self.states {
            states.apply(&mut status)?;
        }
        Ok(status)
    }
}

/// The snapshot in `path`: a JSON object of at most [`MAX_STATUS_BYTES`].
pub(crate) fn read_snapshot(path: &Path) -> Result<Value, ToolError> {
    tracing::debug!(file = %path.display(), "get_system_status");
    let io_error = |source| ToolError::Io {
        context: format!("reading the status file {}", path.display()),
        source,
    };
    let size = fs::metadata(path).map_err(io_error)?.len();
    if size > MAX_STATUS_BYTES {
        return Err(ToolError::BadData(format!(
            "the status file {} is {size} bytes, more than the limit of {MAX_STATUS_BYTES}",
            path.display()
        )));
    }
    let text = fs::read_to_string(path).map_err(io_error)?;
    let status: Value = serde_json::from_str(&text).map_err(|e| {
        ToolError::BadData(format!(
            "the status file {} is not valid JSON ({e}); fix or restore it",
            path.display()
        ))
    })?;
    if !status.is_object() {
        return Err(ToolError::BadData(format!(
            "the status file {} must hold a JSON object, not {}",
            path.display(),
            match status {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "null",
            }
        )));
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use serde_json::json;

    use super::*;
    use crate::ops::test_support::{args, fixtures_copy, tool};
    use crate::ops::OpsSimulator;

    fn status_of(root: &std::path::Path) -> Result<Value, ToolError> {
        let sim = OpsSimulator::open(root).unwrap();
        let tool = sim
            .tools()
            .into_iter()
            .find(|t| t.spec().name == GET_SYSTEM_STATUS)
            .unwrap();
        tool.invoke(&Map::new())
    }

    #[test]
    fn status_parses_and_reports_the_failed_payroll_job() {
        let status = tool(GET_SYSTEM_STATUS).invoke(&Map::new()).unwrap();
        assert_eq!(status["hostname"], "opsmon01");
        assert!(status["cpu"]["percent"].is_number());
        assert!(status["memory"]["total_mb"].is_number());
        let failed = status["batch"]["failed"].as_array().unwrap();
        let payroll = failed
            .iter()
            .find(|job| job["name"] == "PAYROLL01")
            .expect("PAYROLL01 failed");
        assert_eq!(payroll["step"], "PAY020");
        assert_eq!(payroll["abend"], "S0C7");
    }

    #[test]
    fn status_matches_the_night_in_the_logs() {
        let status = tool(GET_SYSTEM_STATUS).invoke(&Map::new()).unwrap();
        let state = |name: &str| {
            status["subsystems"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == name)
                .unwrap_or_else(|| panic!("subsystem {name}"))["state"]
                .clone()
        };
        assert_eq!(state("CICSPRD1"), "degraded");
        assert_eq!(state("DB2P"), "up");
        assert_eq!(state("MQP1"), "up");
        assert_eq!(state("PKG-3"), "down");
        assert_eq!(state("labelprintd"), "up");
        for subsystem in status["subsystems"].as_array().unwrap() {
            let s = subsystem["state"].as_str().unwrap();
            assert!(["up", "degraded", "down"].contains(&s), "{subsystem}");
        }
    }

    #[test]
    fn status_takes_no_arguments() {
        let err = tool(GET_SYSTEM_STATUS)
            .invoke(&args(json!({"host": "opsmon01"})))
            .unwrap_err();
        assert!(matches!(err, ToolError::InvalidArgument { .. }), "{err}");
    }

    #[test]
    fn malformed_status_is_bad_data_naming_the_file() {
        let (_guard, root) = fixtures_copy();
        fs::write(root.join("status.json"), "{ \"hostname\": \"opsmon01\", ").unwrap();
        let err = status_of(&root).unwrap_err();
        assert!(matches!(err, ToolError::BadData(_)), "{err}");
        assert!(err.to_string().contains("status.json"), "{err}");
    }

    #[test]
    fn status_that_is_not_an_object_is_bad_data() {
        let (_guard, root) = fixtures_copy();
        fs::write(root.join("status.json"), "[1, 2, 3]").unwrap();
        let err = status_of(&root).unwrap_err();
        assert!(matches!(err, ToolError::BadData(_)), "{err}");
        assert!(err.to_string().contains("an array"), "{err}");
    }

    #[test]
    fn status_removed_after_opening_is_an_io_error() {
        let (_guard, root) = fixtures_copy();
        let sim = OpsSimulator::open(&root).unwrap();
        fs::remove_file(root.join("status.json")).unwrap();
        let tool = sim
            .tools()
            .into_iter()
            .find(|t| t.spec().name == GET_SYSTEM_STATUS)
            .unwrap();
        let err = tool.invoke(&Map::new()).unwrap_err();
        assert!(matches!(err, ToolError::Io { .. }), "{err}");
    }
}
