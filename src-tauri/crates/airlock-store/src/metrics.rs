//! Operational counts read from the audit log and the approvals table: what `airlock metrics`
//! and the admin window's charts show. The audit log is the source, so every process that
//! served requests (the window, the command line, an MCP server) is counted, across restarts.

use serde::Serialize;

use crate::{Store, StoreError};

/// A count with the labels it is broken down by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelledCount {
    /// Label values, in the order the metric documents.
    pub labels: Vec<String>,
    /// How many.
    pub count: u64,
}

/// One observation of a duration or rate, with its labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    /// Label values, in the order the metric documents.
    pub labels: Vec<String>,
    /// The value.
    pub value: f64,
}

/// Everything the metrics are computed from.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MetricsSnapshot {
    /// Requests received, by `[mode, kind]` (kind: ask, call, batch).
    pub requests: Vec<LabelledCount>,
    /// Governor decisions, by `[stage, outcome, rule]` (stage: admission or intent).
    pub decisions: Vec<LabelledCount>,
    /// Approval requests by `[status]`, as they stand now.
    pub approvals: Vec<LabelledCount>,
    /// Tool runs, by `[tool, result]` (result: ok or error), with their durations in
    /// milliseconds.
    pub tool_runs: Vec<Observation>,
    /// The planner's decode rate, tokens per second, by `[model]`.
    pub tokens_per_second: Vec<Observation>,
    /// Errors, by `[kind]` (the audit event kind that records them).
    pub errors: Vec<LabelledCount>,
    /// Batch runs started.
    pub batch_runs: u64,
    /// Rows in the audit log.
    pub audit_rows: u64,
}

/// The event kinds that record an error.
const ERROR_KINDS: &str = "'plan_failed', 'tool_failed', 'answer_failed', 'token_rejected',
                           'request_rejected', 'approver_refused'";

impl Store {
    /// Reads the counts behind the metrics.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn metrics_snapshot(&self) -> Result<MetricsSnapshot, StoreError> {
        Ok(MetricsSnapshot {
            requests: self.counts(
                "SELECT coalesce(json_extract(payload, '$.mode'), 'unknown'),
                        CASE WHEN json_extract(payload, '$.batch_id') IS NOT NULL THEN 'batch'
                             WHEN json_extract(payload, '$.typed_call') THEN 'call'
                             ELSE 'ask' END,
                        count(*)
                 FROM events WHERE kind = 'request_received' GROUP BY 1, 2 ORDER BY 1, 2",
                2,
            )?,
            decisions: self.counts(
                "SELECT CASE WHEN json_extract(payload, '$.stage') = 'admission'
                             THEN 'admission' ELSE 'intent' END,
                        coalesce(json_extract(payload, '$.decision.decision'), 'unknown'),
                        coalesce(json_extract(payload, '$.decision.deciding_rule'), ''),
                        count(*)
                 FROM events WHERE kind = 'decision_made' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
                3,
            )?,
            approvals: self.counts(
                "SELECT status, count(*) FROM approvals GROUP BY 1 ORDER BY 1",
                1,
            )?,
            tool_runs: self.observations(
                "SELECT coalesce(json_extract(payload, '$.tool'), 'unknown'),
                        CASE kind WHEN 'tool_finished' THEN 'ok' ELSE 'error' END,
                        json_extract(payload, '$.duration_ms')
                 FROM events
                 WHERE kind IN ('tool_finished', 'tool_failed')
                   AND json_type(payload, '$.duration_ms') IN ('real', 'integer')",
                2,
            )?,
            tokens_per_second: self.observations(
                "SELECT coalesce(json_extract(payload, '$.usage.model'), 'unknown'),
                        json_extract(payload, '$.usage.tokens_per_s')
                 FROM events
                 WHERE kind = 'plan_proposed'
                   AND json_extract(payload, '$.usage.tokens_per_s') > 0",
                1,
            )?,
            errors: self.counts(
                &format!(
                    "SELECT kind, count(*) FROM events WHERE kind IN ({ERROR_KINDS})
                     GROUP BY 1 ORDER BY 1"
                ),
                1,
            )?,
            batch_runs: self.scalar(
                "SELECT count(*) FROM events
                 WHERE kind = 'batch_run' AND json_extract(payload, '$.stage') = 'started'",
            )?,
            audit_rows: self.scalar("SELECT count(*) FROM events")?,
        })
    }

    /// Rows of `labels` text columns followed by a count.
    fn counts(&self, sql: &str, labels: usize) -> Result<Vec<LabelledCount>, StoreError> {
        let mut statement = self.conn.prepare(sql).map_err(|err| self.error(err))?;
        let rows = statement
            .query_map([], |row| {
                let names = (0..labels)
                    .map(|index| row.get::<_, String>(index))
                    .collect::<Result<Vec<_>, _>>()?;
                let count: i64 = row.get(labels)?;
                Ok(LabelledCount {
                    labels: names,
                    count: u64::try_from(count).unwrap_or(0),
                })
            })
            .map_err(|err| self.error(err))?;
        rows.collect::<Result<_, _>>()
            .map_err(|err| self.error(err))
    }

    /// Rows of `labels` text columns followed by a number.
    fn observations(&self, sql: &str, labels: usize) -> Result<Vec<Observation>, StoreError> {
        let mut statement = self.conn.prepare(sql).map_err(|err| self.error(err))?;
        let rows = statement
            .query_map([], |row| {
                let names = (0..labels)
                    .map(|index| row.get::<_, String>(index))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Observation {
                    labels: names,
                    value: row.get(labels)?,
                })
            })
            .map_err(|err| self.error(err))?;
        rows.collect::<Result<_, _>>()
            .map_err(|err| self.error(err))
    }

    fn scalar(&self, sql: &str) -> Result<u64, StoreError> {
        let count: i64 = self
            .conn
            .query_row(sql, [], |row| row.get(0))
            .map_err(|err| self.error(err))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use airlock_core::{EventKind, TraceId};
    use serde_json::json;

    use crate::Store;

    #[test]
    fn the_snapshot_counts_requests_decisions_tools_and_errors_from_the_audit_log() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let trace = TraceId::new();
        let record = |kind, payload| store.record(&trace, kind, payload).unwrap();
        record(EventKind::RequestReceived, json!({"mode": "plan"}));
        record(
            EventKind::RequestReceived,
            json!({"mode": "execute", "typed_call": true}),
        );
        record(
            EventKind::RequestReceived,
            json!({"mode": "plan", "batch_id": "b"}),
        );
        record(
            EventKind::DecisionMade,
            json!({"stage": "admission", "decision": {"decision": "allow"}}),
        );
        record(
            EventKind::DecisionMade,
            json!({"tool": "t", "decision": {"decision": "deny", "deciding_rule": "budget.window_exceeded"}}),
        );
        record(
            EventKind::ToolFinished,
            json!({"tool": "get_logs", "duration_ms": 12.5}),
        );
        record(
            EventKind::ToolFailed,
            json!({"tool": "run_command", "duration_ms": 3}),
        );
        record(
            EventKind::ToolFailed,
            json!({"tool": "x", "error": "no executor"}),
        );
        record(
            EventKind::PlanProposed,
            json!({"intents": [], "usage": {"model": "m.gguf", "tokens_per_s": 41.5}}),
        );
        record(EventKind::PlanFailed, json!({"error": "e"}));
        record(EventKind::BatchRun, json!({"stage": "started"}));
        record(EventKind::BatchRun, json!({"stage": "finished"}));

        let snapshot = store.metrics_snapshot().unwrap();
        let counts = |list: &[super::LabelledCount]| {
            list.iter()
                .map(|c| (c.labels.join("/"), c.count))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            counts(&snapshot.requests),
            [
                ("execute/call".to_owned(), 1),
                ("plan/ask".to_owned(), 1),
                ("plan/batch".to_owned(), 1)
            ]
        );
        assert_eq!(
            counts(&snapshot.decisions),
            [
                ("admission/allow/".to_owned(), 1),
                ("intent/deny/budget.window_exceeded".to_owned(), 1)
            ]
        );
        assert_eq!(
            snapshot.tool_runs.len(),
            2,
            "a failure without a duration is not timed"
        );
        assert_eq!(snapshot.tool_runs[1].labels, ["run_command", "error"]);
        assert_eq!(snapshot.tokens_per_second[0].value, 41.5);
        assert_eq!(
            counts(&snapshot.errors),
            [("plan_failed".to_owned(), 1), ("tool_failed".to_owned(), 2)]
        );
        assert_eq!(snapshot.batch_runs, 1);
        assert_eq!(snapshot.audit_rows, 12);
    }
}
