//! Reading the audit log for the audit viewer: events filtered by who, which tool, which
//! decision, which risk and when, newest first, with those facts lifted out of each payload.
//!
//! The facts come from the payload fields the agent writes: `principal`, `approver`,
//! `requester`, `approved_by` or `by` for who; `tool`; `decision.decision` for the governor's outcome;
//! `decision.risk` or `risk` for the risk.
//!
//! Payloads hold pseudonyms where people's names were (see the subjects module): a `principal`
//! filter matches a live subject's pseudonym as well as the name itself (rows written before
//! names were pseudonymised), and every entry comes back with live subjects' names put back.

use rusqlite::types::Value as SqlValue;
use serde::{Deserialize, Serialize};

use crate::{clock, Store, StoreError};

/// Most rows one query returns.
pub const MAX_AUDIT_ROWS: u32 = 5_000;

/// Which audit events to read; every field is optional (no filter = everything).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    /// Events of requests this person or agent took part in (asked, approved, decided).
    pub principal: Option<String>,
    /// Events about this tool.
    pub tool: Option<String>,
    /// Decisions with this outcome: `allow`, `deny`, `require_approval` or `clarify`.
    pub decision: Option<String>,
    /// Events with this risk: `low`, `medium`, `high` or `critical`.
    pub risk: Option<String>,
    /// At or after this time (RFC 3339, any offset).
    pub since: Option<String>,
    /// Before this time (RFC 3339, any offset).
    pub until: Option<String>,
    /// Most rows to return (default and ceiling [`MAX_AUDIT_ROWS`]).
    pub limit: Option<u32>,
}

/// One audit event with the facts the viewer filters and shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Its place in the chain.
    pub seq: i64,
    /// When it was written (UTC, RFC 3339).
    pub at: String,
    /// Its kind, e.g. `decision_made`.
    pub kind: String,
    /// The request it belongs to.
    pub trace_id: String,
    /// Who it is about, when the payload says.
    pub principal: Option<String>,
    /// The tool, when the payload names one.
    pub tool: Option<String>,
    /// The governor's outcome, for a decision.
    pub decision: Option<String>,
    /// The risk, when the payload carries one.
    pub risk: Option<String>,
    /// The whole payload.
    pub payload: serde_json::Value,
}

/// The SQL expression of who acted in an event: the requester, except in an approver's
/// decision, where it is the approver.
const WHO: &str =
    "coalesce(json_extract(payload, '$.principal'), json_extract(payload, '$.approver'),
              json_extract(payload, '$.requester'), json_extract(payload, '$.approved_by'),
              json_extract(payload, '$.by'))";
const RISK: &str =
    "coalesce(json_extract(payload, '$.decision.risk'), json_extract(payload, '$.risk'))";
const DECISION: &str = "json_extract(payload, '$.decision.decision')";

impl Store {
    /// The audit events matching `filter`, newest first.
    ///
    /// # Errors
    /// [`StoreError::InvalidTime`] for a bad `since`/`until`, [`StoreError::Invalid`] for an
    /// unknown decision or risk name, [`StoreError::Malformed`] for a payload that is not JSON
    /// (run the audit verification), or another [`StoreError`].
    pub fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let mut conditions = Vec::new();
        let mut values: Vec<SqlValue> = Vec::new();
        let mut bind_all = |condition: &str, bound: &[&str]| {
            let mut parts = condition.split('?');
            let mut numbered = parts.next().unwrap_or_default().to_owned();
            for (value, part) in bound.iter().zip(parts) {
                values.push(SqlValue::Text((*value).to_owned()));
                numbered.push_str(&format!("?{}{part}", values.len()));
            }
            conditions.push(numbered);
        };
        let subjects = self.subjects()?;
        if let Some(principal) = non_blank(filter.principal.as_deref()) {
            let pseudonym = subjects.pseudonym_of(principal).unwrap_or(principal);
            bind_all(
                &format!("trace_id IN (SELECT trace_id FROM events WHERE {WHO} IN (?, ?))"),
                &[principal, pseudonym],
            );
        }
        let mut bind = |condition: &str, value: String| bind_all(condition, &[&value]);
        if let Some(tool) = non_blank(filter.tool.as_deref()) {
            bind("json_extract(payload, '$.tool') = ?", tool.to_owned());
        }
        if let Some(decision) = non_blank(filter.decision.as_deref()) {
            check_name(
                "decision",
                decision,
                &["allow", "deny", "require_approval", "clarify"],
            )?;
            bind(&format!("{DECISION} = ?"), decision.to_owned());
        }
        if let Some(risk) = non_blank(filter.risk.as_deref()) {
            check_name("risk", risk, &["low", "medium", "high", "critical"])?;
            bind(&format!("{RISK} = ?"), risk.to_owned());
        }
        if let Some(since) = non_blank(filter.since.as_deref()) {
            bind("created_at >= ?", clock::normalize(since)?);
        }
        if let Some(until) = non_blank(filter.until.as_deref()) {
            bind("created_at < ?", clock::normalize(until)?);
        }
        let limit = filter
            .limit
            .unwrap_or(MAX_AUDIT_ROWS)
            .clamp(1, MAX_AUDIT_ROWS);
        let sql = format!(
            "SELECT seq, created_at, kind, trace_id, {WHO}, json_extract(payload, '$.tool'),
                    {DECISION}, {RISK}, payload
             FROM events {} ORDER BY seq DESC LIMIT {limit}",
            if conditions.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", conditions.join(" AND "))
            }
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|err| self.error(err))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values), |row| {
                Ok((
                    AuditEntry {
                        seq: row.get(0)?,
                        at: row.get(1)?,
                        kind: row.get(2)?,
                        trace_id: row.get(3)?,
                        principal: text(row.get(4)?),
                        tool: text(row.get(5)?),
                        decision: text(row.get(6)?),
                        risk: text(row.get(7)?),
                        payload: serde_json::Value::Null,
                    },
                    row.get::<_, String>(8)?,
                ))
            })
            .map_err(|err| self.error(err))?;
        rows.map(|row| {
            let (mut entry, payload) = row.map_err(|err| self.error(err))?;
            entry.payload = self.resolved_payload(&subjects, entry.seq, &payload)?;
            if let Some(name) = entry
                .principal
                .as_deref()
                .and_then(|who| subjects.name_of(who))
            {
                entry.principal = Some(name.to_owned());
            }
            Ok(entry)
        })
        .collect()
    }
}

fn non_blank(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|value| !value.is_empty())
}

fn check_name(what: &str, value: &str, known: &[&str]) -> Result<(), StoreError> {
    if known.contains(&value) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "unknown {what} `{value}`: use one of {}",
            known.join(", ")
        )))
    }
}

/// A JSON value SQLite extracted, as text when it is a string.
fn text(value: SqlValue) -> Option<String> {
    match value {
        SqlValue::Text(text) => Some(text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use airlock_core::{EventKind, TraceId};
    use serde_json::json;

    use super::*;

    fn store_with_history() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let alice = TraceId::from("t-alice".to_owned());
        let bob = TraceId::from("t-bob".to_owned());
        store
            .record(
                &alice,
                EventKind::RequestReceived,
                json!({"mode": "execute"}),
            )
            .unwrap();
        store
            .record(
                &alice,
                EventKind::DecisionMade,
                json!({"principal": "alice", "tool": "restart_service",
                       "decision": {"decision": "require_approval", "risk": "high"}}),
            )
            .unwrap();
        store
            .record(
                &alice,
                EventKind::ApprovalGranted,
                json!({"tool": "restart_service", "requester": "alice", "approver": "carol",
                       "risk": "high"}),
            )
            .unwrap();
        store
            .record(
                &bob,
                EventKind::DecisionMade,
                json!({"principal": "bob", "tool": "get_logs",
                       "decision": {"decision": "allow", "risk": "low"}}),
            )
            .unwrap();
        (dir, store)
    }

    fn seqs(store: &Store, filter: &AuditFilter) -> Vec<(String, Option<String>)> {
        store
            .audit_entries(filter)
            .unwrap()
            .into_iter()
            .map(|entry| (entry.kind, entry.tool))
            .collect()
    }

    #[test]
    fn filters_combine_and_rows_come_newest_first_with_their_facts() {
        let (_dir, store) = store_with_history();
        let all = store.audit_entries(&AuditFilter::default()).unwrap();
        assert_eq!(all.len(), 4);
        assert!(all.windows(2).all(|pair| pair[0].seq > pair[1].seq));
        assert_eq!(all[0].principal.as_deref(), Some("bob"));
        assert_eq!(all[0].decision.as_deref(), Some("allow"));
        assert_eq!(all[1].principal.as_deref(), Some("carol"));
        assert_eq!(all[1].risk.as_deref(), Some("high"));

        let alices = AuditFilter {
            principal: Some("alice".into()),
            ..AuditFilter::default()
        };
        assert_eq!(
            seqs(&store, &alices).len(),
            3,
            "every event of a request alice made, the request itself included"
        );
        let high_restarts = AuditFilter {
            tool: Some("restart_service".into()),
            risk: Some("high".into()),
            ..AuditFilter::default()
        };
        assert_eq!(
            seqs(&store, &high_restarts),
            [
                (
                    "approval_granted".to_owned(),
                    Some("restart_service".to_owned())
                ),
                (
                    "decision_made".to_owned(),
                    Some("restart_service".to_owned())
                )
            ]
        );
        let allowed = AuditFilter {
            decision: Some("allow".into()),
            limit: Some(1),
            ..AuditFilter::default()
        };
        assert_eq!(
            seqs(&store, &allowed),
            [("decision_made".to_owned(), Some("get_logs".to_owned()))]
        );
        let future = AuditFilter {
            since: Some("2999-01-01T00:00:00Z".into()),
            ..AuditFilter::default()
        };
        assert!(store.audit_entries(&future).unwrap().is_empty());
        let past = AuditFilter {
            until: Some("2000-01-01T00:00:00+02:00".into()),
            ..AuditFilter::default()
        };
        assert!(store.audit_entries(&past).unwrap().is_empty());
    }

    #[test]
    fn bad_filters_are_refused_with_what_to_use() {
        let (_dir, store) = store_with_history();
        let risky = AuditFilter {
            risk: Some("extreme".into()),
            ..AuditFilter::default()
        };
        let err = store.audit_entries(&risky).unwrap_err().to_string();
        assert!(err.contains("low, medium, high, critical"), "{err}");
        let when = AuditFilter {
            since: Some("yesterday".into()),
            ..AuditFilter::default()
        };
        assert!(matches!(
            store.audit_entries(&when),
            Err(StoreError::InvalidTime { .. })
        ));
    }
}
