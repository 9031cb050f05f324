//! Where request traces are kept and how they are scrubbed, and the metrics in Prometheus
//! text. Traces go to `traces/` in the data directory (rotated); an OTLP/HTTP collector on the
//! plant LAN receives them too when `AIRLOCK_OTLP_ENDPOINT` names one (off by default).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use airlock_store::{LabelledCount, MetricsSnapshot, Observation, Redactor};
use airlock_telemetry::prometheus::{Histogram, Labelled, MetricFamily, Sample};
use airlock_telemetry::TraceConfig;

use crate::{Agent, AgentError};

/// The trace directory's name inside the data directory.
pub const TRACES_DIR: &str = "traces";

/// The environment variable naming an OTLP/HTTP collector (`http://HOST:PORT`), unset: none.
pub const OTLP_ENDPOINT_ENV: &str = "AIRLOCK_OTLP_ENDPOINT";

/// The environment variable that turns the trace files off (`off`).
pub const TRACES_ENV: &str = "AIRLOCK_TRACES";

/// The traces of the installation whose data directory is `data_dir`.
#[must_use]
pub fn traces_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(TRACES_DIR)
}

/// How this process keeps traces: in [`traces_dir`], personal data redacted from every
/// attribute as in the audit log, sent to the collector `AIRLOCK_OTLP_ENDPOINT` names if any;
/// `None` when `AIRLOCK_TRACES=off`.
#[must_use]
pub fn trace_config(data_dir: &Path) -> Option<TraceConfig> {
    if std::env::var(TRACES_ENV).is_ok_and(|value| value.eq_ignore_ascii_case("off")) {
        return None;
    }
    let mut config = TraceConfig::new(traces_dir(data_dir));
    config.endpoint = std::env::var(OTLP_ENDPOINT_ENV)
        .ok()
        .filter(|endpoint| !endpoint.trim().is_empty());
    let redactor = Redactor::default();
    config.scrubber = Some(Arc::new(move |_key: &str, value: String| {
        redactor.redact_str(&value).into_owned()
    }));
    Some(config)
}

/// Upper bounds of the tool-duration histogram, in seconds.
const TOOL_SECONDS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Upper bounds of the decode-rate histogram, in tokens per second.
const TOKENS_PER_SECOND: [f64; 8] = [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0];

/// Every status an approval request can be in (so each has a sample, zero included).
const APPROVAL_STATUSES: [&str; 6] = [
    "pending", "approved", "denied", "expired", "executed", "failed",
];

impl Agent {
    /// The counts behind the metrics, from the audit log and the approvals table.
    ///
    /// # Errors
    /// [`AgentError::Store`].
    pub fn metrics_snapshot(&self) -> Result<MetricsSnapshot, AgentError> {
        Ok(self.store().metrics_snapshot()?)
    }

    /// The metrics in the Prometheus text format 0.0.4.
    ///
    /// # Errors
    /// [`AgentError::Store`], or [`AgentError::Telemetry`] when a label cannot be written.
    pub fn metrics_text(&self) -> Result<String, AgentError> {
        Ok(airlock_telemetry::prometheus::render(&families(
            &self.metrics_snapshot()?,
        )?)?)
    }
}

/// The metric families of `snapshot`.
fn families(snapshot: &MetricsSnapshot) -> Result<Vec<MetricFamily>, AgentError> {
    let approvals: Vec<Sample> = APPROVAL_STATUSES
        .iter()
        .map(|status| {
            let count = snapshot
                .approvals
                .iter()
                .find(|entry| entry.labels.first().map(String::as_str) == Some(status))
                .map_or(0, |entry| entry.count);
            Labelled::new(count as f64).label("status", *status)
        })
        .collect();
    let sandbox: Vec<Sample> = ["ok", "error"]
        .iter()
        .map(|result| {
            let runs = snapshot
                .tool_runs
                .iter()
                .filter(|run| run.labels == [airlock_sandbox::RUN_COMMAND, result])
                .count();
            Labelled::new(runs as f64).label("result", *result)
        })
        .collect();
    Ok(vec![
        MetricFamily::counter(
            "airlock_requests_total",
            "Requests received, by mode and kind (ask, call, batch).",
            counts(&snapshot.requests, &["mode", "kind"]),
        ),
        MetricFamily::counter(
            "airlock_decisions_total",
            "Governor decisions, by stage (admission, intent), outcome and deciding rule.",
            counts(&snapshot.decisions, &["stage", "outcome", "rule"]),
        ),
        MetricFamily::gauge(
            "airlock_approvals",
            "Approval requests by status, as they stand now.",
            approvals,
        ),
        MetricFamily::histogram(
            "airlock_tool_duration_seconds",
            "Tool run durations, by tool and result.",
            histograms(
                &snapshot.tool_runs,
                &["tool", "result"],
                &TOOL_SECONDS,
                0.001,
            )?,
        ),
        MetricFamily::histogram(
            "airlock_planner_tokens_per_second",
            "The planner's decode rate per request, by model.",
            histograms(
                &snapshot.tokens_per_second,
                &["model"],
                &TOKENS_PER_SECOND,
                1.0,
            )?,
        ),
        MetricFamily::counter(
            "airlock_sandbox_runs_total",
            "Commands run in the Docker sandbox, by result.",
            sandbox,
        ),
        MetricFamily::counter(
            "airlock_errors_total",
            "Errors recorded in the audit log, by event kind.",
            counts(&snapshot.errors, &["kind"]),
        ),
        MetricFamily::counter(
            "airlock_batch_runs_total",
            "Batch files run.",
            vec![Labelled::new(snapshot.batch_runs as f64)],
        ),
        MetricFamily::gauge(
            "airlock_audit_rows",
            "Rows in the audit log.",
            vec![Labelled::new(snapshot.audit_rows as f64)],
        ),
    ])
}

fn counts(entries: &[LabelledCount], names: &[&str]) -> Vec<Sample> {
    entries
        .iter()
        .map(|entry| {
            names.iter().zip(&entry.labels).fold(
                Labelled::new(entry.count as f64),
                |sample, (name, value)| sample.label(*name, value.clone()),
            )
        })
        .collect()
}

/// One histogram per distinct label set of `observations`, each value multiplied by `scale`.
fn histograms(
    observations: &[Observation],
    names: &[&str],
    bounds: &[f64],
    scale: f64,
) -> Result<Vec<Labelled<Histogram>>, AgentError> {
    let mut by_labels: std::collections::BTreeMap<&[String], Histogram> =
        std::collections::BTreeMap::new();
    for observation in observations {
        let histogram = match by_labels.entry(&observation.labels) {
            std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::btree_map::Entry::Vacant(entry) => {
                entry.insert(Histogram::new(bounds)?)
            }
        };
        histogram.observe(observation.value * scale);
    }
    Ok(by_labels
        .into_iter()
        .map(|(labels, histogram)| {
            names
                .iter()
                .zip(labels)
                .fold(Labelled::new(histogram), |sample, (name, value)| {
                    sample.label(*name, value.clone())
                })
        })
        .collect())
}
