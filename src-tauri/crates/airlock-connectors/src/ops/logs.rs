//! `get_logs`: the last lines of one simulator log, optionally filtered.

use std::fmt;
use std::fs;
use std::io::Read;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use airlock_core::{Tool, ToolEffect, ToolError, ToolSpec};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::args::{invalid, optional_str, reject_unknown, required_int, required_str};
use super::{Fixtures, GET_LOGS};

/// Most lines one call may return (the schema's `tail` maximum).
const MAX_TAIL: u64 = 200;
/// Longest `grep` text, in characters.
const MAX_GREP_CHARS: usize = 64;
/// Logs larger than this are refused rather than loaded: the simulator's logs are small.
const MAX_LOG_BYTES: u64 = 8 * 1024 * 1024;
/// Longer lines are cut to this many characters (with `…`) so one line cannot flood the
/// model's context.
const MAX_LINE_CHARS: usize = 1000;

/// One of the simulator's logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogSource {
    /// The Linux system log of the ops server (cron, sshd, kernel, services).
    Syslog,
    /// The mainframe's JES2 job logs of the batch night (steps, return codes, abends).
    Joblog,
    /// Logins, sudo, configuration changes.
    Audit,
    /// Application and subsystem errors (CICS, DB2, MQ, MES, label printers).
    Error,
}

impl LogSource {
    /// Every source, in the order the schema lists them.
    pub const ALL: [LogSource; 4] = [
        LogSource::Syslog,
        LogSource::Joblog,
        LogSource::Audit,
        LogSource::Error,
    ];

    /// The name a call uses (`syslog`, `joblog`, `audit`, `error`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            LogSource::Syslog => "syslog",
            LogSource::Joblog => "joblog",
            LogSource::Audit => "audit",
            LogSource::Error => "error",
        }
    }

    /// The log's file name inside the fixtures' `sim/logs/`.
    #[must_use]
    pub fn file_name(self) -> &'static str {
        match self {
            LogSource::Syslog => "syslog.log",
            LogSource::Joblog => "joblog.log",
            LogSource::Audit => "audit.log",
            LogSource::Error => "error.log",
        }
    }
}

impl fmt::Display for LogSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LogSource {
    type Err = ToolError;

    /// Parses a source name exactly as the schema's enum spells it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LogSource::ALL
            .into_iter()
            .find(|source| source.as_str() == s)
            .ok_or_else(|| {
                invalid(
                    "source",
                    format!("unknown log `{s}`; use one of syslog, joblog, audit, error"),
                )
            })
    }
}

/// The specification of `get_logs`.
pub(crate) fn spec() -> ToolSpec {
    let sources: Vec<&str> = LogSource::ALL.iter().map(|s| s.as_str()).collect();
    ToolSpec {
        name: GET_LOGS.to_owned(),
        description: "Read the last lines of one log. `joblog`: mainframe batch job logs \
                      (job steps, return codes, abends such as S0C7); `error`: application and \
                      subsystem errors (CICS, DB2, MQ, MES line stops, label printers); \
                      `syslog`: the server's system log (cron, sshd, kernel, services); \
                      `audit`: logins, sudo and configuration changes."
            .to_owned(),
        parameters: json!({
            "type": "object",
            "properties": {
                "source": {
                    "type": "string",
                    "enum": sources,
                    "description": "Which log: syslog, joblog (batch jobs, abends), audit \
                                    (logins, sudo, changes) or error (application errors)."
                },
                "tail": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_TAIL,
                    "description": "How many of the last (matching) lines to return."
                },
                "grep": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_GREP_CHARS,
                    "description": "Optional text a line must contain (case-insensitive), \
                                    e.g. a job name or PAYROLL01; applied before tail."
                }
            },
            "required": ["source", "tail"],
            "additionalProperties": false
        }),
        effect: ToolEffect::Read,
        target: super::plant_ops(),
    }
}

/// What `get_logs` returns.
#[derive(Debug, Serialize)]
struct LogsOutput {
    /// The source read.
    source: &'static str,
    /// The last `tail` matching lines, oldest first.
    lines: Vec<String>,
    /// How many lines matched `grep` (all lines when there is no filter).
    matched: usize,
    /// How many lines the log has.
    total: usize,
}

/// The executable `get_logs` tool.
pub(crate) struct LogsTool {
    spec: ToolSpec,
    fixtures: Arc<Fixtures>,
}

impl LogsTool {
    pub(crate) fn new(fixtures: Arc<Fixtures>) -> Self {
        Self {
            spec: spec(),
            fixtures,
        }
    }

    fn path(&self, source: LogSource) -> PathBuf {
        self.fixtures.logs_dir().join(source.file_name())
    }

    fn read(&self, source: LogSource) -> Result<String, ToolError> {
        let path = self.path(source);
        let io_error = |source_err| ToolError::Io {
            context: format!("reading the {source} log {}", path.display()),
            source: source_err,
        };
        let file = fs::File::open(&path).map_err(io_error)?;
        let size = file.metadata().map_err(io_error)?.len();
        if size > MAX_LOG_BYTES {
            return Err(ToolError::BadData(format!(
                "the {source} log {} is {size} bytes, more than the simulator's limit of \
                 {MAX_LOG_BYTES}; trim or rotate it",
                path.display()
            )));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        file.take(MAX_LOG_BYTES)
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
        // Logs are text, but one stray byte must not hide every other line.
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

impl Tool for LogsTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn invoke(&self, args: &Map<String, Value>) -> Result<Value, ToolError> {
        reject_unknown(args, &["source", "tail", "grep"])?;
        let source: LogSource = required_str(args, "source", 16)?.parse()?;
        let tail = required_int(args, "tail", 1, MAX_TAIL)?;
        let grep = optional_str(args, "grep", MAX_GREP_CHARS)?;
        if grep.is_some_and(str::is_empty) {
            return Err(invalid(
                "grep",
                "empty; leave `grep` out to read every line",
            ));
        }
        tracing::debug!(%source, tail, grep = grep.unwrap_or(""), "get_logs");

        let text = self.read(source)?;
        let tail = usize::try_from(tail).unwrap_or(usize::MAX);
        let output = select(source, &text, tail, grep);
        tracing::debug!(
            %source,
            total = output.total,
            matched = output.matched,
            returned = output.lines.len(),
            "get_logs done"
        );
        serde_json::to_value(output).map_err(|e| ToolError::BadData(e.to_string()))
    }
}

/// Filters `text` by `grep` (case-insensitive substring) and keeps the last `tail` lines.
fn select(source: LogSource, text: &str, tail: usize, grep: Option<&str>) -> LogsOutput {
    let all: Vec<&str> = text.lines().collect();
    let total = all.len();
    let needle = grep.map(str::to_lowercase);
    let matching: Vec<&str> = match &needle {
        Some(needle) => all
            .into_iter()
            .filter(|line| line.to_lowercase().contains(needle.as_str()))
            .collect(),
        None => all,
    };
    let matched = matching.len();
    let lines = matching[matched.saturating_sub(tail)..]
        .iter()
        .map(|line| clip(line))
        .collect();
    LogsOutput {
        source: source.as_str(),
        lines,
        matched,
        total,
    }
}

/// `line`, cut to [`MAX_LINE_CHARS`] characters.
fn clip(line: &str) -> String {
    match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use serde_json::json;

    use super::*;
    use crate::ops::test_support::{args, fixtures_copy, tool};
    use crate::ops::OpsSimulator;

    fn get_logs(value: Value) -> Result<Value, ToolError> {
        tool(GET_LOGS).invoke(&args(value))
    }

    fn lines(out: &Value) -> Vec<&str> {
        out["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect()
    }

    #[test]
    fn tail_returns_the_last_lines_oldest_first() {
        let text = fs::read_to_string(format!(
            "{}/sim/logs/syslog.log",
            crate::ops::test_support::FIXTURES
        ))
        .unwrap();
        let all: Vec<&str> = text.lines().collect();
        let out = get_logs(json!({"source": "syslog", "tail": 20})).unwrap();
        assert_eq!(out["source"], "syslog");
        assert_eq!(out["total"], all.len());
        assert_eq!(out["matched"], all.len());
        assert_eq!(lines(&out), all[all.len() - 20..]);
    }

    #[test]
    fn tail_larger_than_the_log_returns_every_line() {
        let out = get_logs(json!({"source": "audit", "tail": 200})).unwrap();
        assert_eq!(out["total"], lines(&out).len());
    }

    #[test]
    fn grep_is_a_case_insensitive_substring_filter() {
        let out = get_logs(json!({"source": "joblog", "tail": 200, "grep": "abend=s0c7"})).unwrap();
        let found = lines(&out);
        assert!(!found.is_empty());
        assert!(found
            .iter()
            .all(|l| l.to_lowercase().contains("abend=s0c7")));
        assert!(found
            .iter()
            .any(|l| l.contains("IEF450I PAYROLL01 PAY020 - ABEND=S0C7 U0000 REASON=00000000")));
        assert_eq!(out["matched"], found.len());
    }

    #[test]
    fn grep_is_applied_before_tail() {
        // Only a few syslog lines mention labelprintd's crash, and they are not at the end:
        // tailing first would find none of them.
        let out = get_logs(json!({"source": "syslog", "tail": 2, "grep": "SEGV"})).unwrap();
        let found = lines(&out);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("labelprintd.service: Main process exited"));
        assert!(out["total"].as_u64().unwrap() > 100);

        let out = get_logs(json!({"source": "error", "tail": 3, "grep": "cicsprd1"})).unwrap();
        let found = lines(&out);
        assert_eq!(found.len(), 3);
        assert!(out["matched"].as_u64().unwrap() > 3);
        assert!(found.iter().all(|l| l.contains("CICSPRD1")));
        assert!(found[2].contains("degraded"), "the newest match comes last");
    }

    #[test]
    fn grep_without_matches_returns_no_lines() {
        let out = get_logs(json!({"source": "audit", "tail": 5, "grep": "no such text"})).unwrap();
        assert_eq!(out["matched"], 0);
        assert!(lines(&out).is_empty());
    }

    #[test]
    fn every_source_reads_its_log() {
        for source in LogSource::ALL {
            let out = get_logs(json!({"source": source.as_str(), "tail": 1})).unwrap();
            assert_eq!(lines(&out).len(), 1, "{source}");
            assert!(
                out["total"].as_u64().unwrap() >= 50,
                "{source} is a realistic size"
            );
        }
    }

    #[test]
    fn unknown_source_is_rejected() {
        let err = get_logs(json!({"source": "kernel", "tail": 5})).unwrap_err();
        assert!(
            matches!(&err, ToolError::InvalidArgument { name, .. } if name == "source"),
            "{err}"
        );
        assert!(
            err.to_string().contains("syslog, joblog, audit, error"),
            "{err}"
        );
        // Enum values are exact, like the schema's.
        assert!(get_logs(json!({"source": "SYSLOG", "tail": 5})).is_err());
    }

    #[test]
    fn tail_out_of_range_or_missing_is_rejected() {
        for bad in [json!(0), json!(201), json!(-1), json!(2.5), json!("20")] {
            let err = get_logs(json!({"source": "syslog", "tail": bad})).unwrap_err();
            assert!(
                matches!(&err, ToolError::InvalidArgument { name, .. } if name == "tail"),
                "{bad}: {err}"
            );
        }
        assert!(get_logs(json!({"source": "syslog"})).is_err());
    }

    #[test]
    fn grep_too_long_empty_or_unknown_arguments_are_rejected() {
        let long = "x".repeat(65);
        assert!(get_logs(json!({"source": "syslog", "tail": 5, "grep": long})).is_err());
        assert!(get_logs(json!({"source": "syslog", "tail": 5, "grep": ""})).is_err());
        assert!(get_logs(json!({"source": "syslog", "tail": 5, "grep": 7})).is_err());
        let err = get_logs(json!({"source": "syslog", "tail": 5, "lines": 5})).unwrap_err();
        assert!(
            matches!(&err, ToolError::InvalidArgument { name, .. } if name == "lines"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_log_file_is_an_io_error_naming_it() {
        let (_guard, root) = fixtures_copy();
        fs::remove_file(root.join("sim/logs/audit.log")).unwrap();
        let sim = OpsSimulator::open(&root).unwrap();
        let logs = sim
            .tools()
            .into_iter()
            .find(|t| t.spec().name == GET_LOGS)
            .unwrap();
        let err = logs
            .invoke(&args(json!({"source": "audit", "tail": 5})))
            .unwrap_err();
        assert!(matches!(err, ToolError::Io { .. }), "{err}");
        assert!(err.to_string().contains("audit.log"), "{err}");
    }

    #[test]
    fn very_long_lines_are_clipped() {
        let line = "a".repeat(MAX_LINE_CHARS + 50);
        let out = select(LogSource::Error, &line, 1, None);
        assert_eq!(out.lines[0].chars().count(), MAX_LINE_CHARS + 1);
        assert!(out.lines[0].ends_with('…'));
    }
}
