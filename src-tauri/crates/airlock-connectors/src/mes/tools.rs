//! The MES as governed tools: typed reads, the guarded query, the status write and its undo.

use std::sync::Arc;

use airlock_core::{
    Classification, Environment, SystemKind, Tool, ToolEffect, ToolError, ToolSpec, ToolTarget,
    Undo, UNDO_KEY,
};
use serde_json::{json, Map, Value};

use super::{Compensation, Mes, MesError, WORK_ORDER_STATUSES};
#[cfg(target_os = "linux")]
use crate::vault::Vault;

/// Where the MES tools connect: a data source that needs no login (the fixture database), or
/// a named connection whose password the vault gives for each call.
pub enum MesSource {
    /// Connect as it is.
    Open(Mes),
    /// Log in to `dsn` as `user` with the vault's secret of connection `name`.
    #[cfg(target_os = "linux")]
    Login {
        /// The connection's name (the vault entry).
        name: String,
        /// The ODBC data source name.
        dsn: String,
        /// The user.
        user: String,
        /// The vault.
        vault: Vault,
    },
}

impl MesSource {
    /// The MES to call now; a login fetches the secret from the vault.
    fn connect(&self) -> Result<std::borrow::Cow<'_, Mes>, ToolError> {
        match self {
            Self::Open(mes) => Ok(std::borrow::Cow::Borrowed(mes)),
            #[cfg(target_os = "linux")]
            Self::Login {
                name,
                dsn,
                user,
                vault,
            } => {
                let (secret, _) = vault
                    .fetch(name)
                    .map_err(|err| ToolError::Failed(err.to_string()))?;
                Ok(std::borrow::Cow::Owned(Mes::dsn_with_login(
                    dsn,
                    user,
                    secret.expose(),
                )))
            }
        }
    }
}

/// Rows a `mes_query` returns at most (the SQL guard caps `LIMIT` the same way).
pub const MAX_QUERY_ROWS: usize = 500;

const DOWNTIME: &str = "mes_downtime";
const WORK_ORDERS: &str = "mes_work_orders";
const QUERY: &str = "mes_query";
const SET_STATUS: &str = "mes_update_work_order_status";
const UNDO_STATUS: &str = "mes_undo_work_order_status";

/// The specs of every MES tool.
#[must_use]
pub fn specs() -> Vec<ToolSpec> {
    let target = ToolTarget::system(
        SystemKind::Mes,
        "mes-line3",
        Environment::Prod,
        Classification::Restricted,
    );
    let spec = |name: &str, description: &str, parameters: Value, effect| {
        ToolSpec::new(name, description, parameters, effect, target.clone())
    };
    let date = |what: &str| {
        json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?)?$",
               "description": what})
    };
    let order_id = json!({"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3,8}$",
                          "description": "The production order, e.g. PO-4711."});
    let status = json!({"type": "string", "enum": WORK_ORDER_STATUSES});
    vec![
        spec(
            DOWNTIME,
            "Downtime events of one production line in a time window, from the MES: machine, \
             reason, minutes, start and end.",
            json!({
                "type": "object",
                "properties": {
                    "line": {"type": "integer", "minimum": 1, "maximum": 99, "description": "The line number, e.g. 3."},
                    "since": date("Start of the window, e.g. 2026-11-16."),
                    "until": date("End of the window (exclusive), e.g. 2026-11-23.")
                },
                "required": ["line", "since", "until"],
                "additionalProperties": false
            }),
            ToolEffect::Read,
        ),
        spec(
            WORK_ORDERS,
            "Production (work) orders in the MES with one status, optionally on one line.",
            json!({
                "type": "object",
                "properties": {
                    "status": status.clone(),
                    "line": {"type": "integer", "minimum": 1, "maximum": 99}
                },
                "required": ["status"],
                "additionalProperties": false
            }),
            ToolEffect::Read,
        ),
        spec(
            QUERY,
            "Query the MES database (downtime, production_orders, shift_output, machines, lines) \
             with one read-only SQL SELECT.",
            json!({
                "type": "object",
                "properties": {
                    "sql": {"type": "string", "minLength": 1, "maxLength": 4096,
                            "description": "One SELECT statement on the MES tables."}
                },
                "required": ["sql"],
                "additionalProperties": false
            }),
            ToolEffect::Read,
        ),
        spec(
            SET_STATUS,
            "Change the status of one production order in the MES (e.g. put it on hold). A \
             write: returns the record that undoes it.",
            json!({
                "type": "object",
                "properties": {"order_id": order_id.clone(), "status": status.clone()},
                "required": ["order_id", "status"],
                "additionalProperties": false
            }),
            ToolEffect::Write,
        ),
        spec(
            UNDO_STATUS,
            "Undo a production order status change from its compensation record: restore \
             `status_before` if the order still shows `status_after`.",
            json!({
                "type": "object",
                "properties": {
                    "order_id": order_id,
                    "status_before": status.clone(),
                    "status_after": status
                },
                "required": ["order_id", "status_before", "status_after"],
                "additionalProperties": false
            }),
            ToolEffect::Write,
        ),
    ]
}

/// The executable MES tools over `source`, in the order of [`specs`].
#[must_use]
pub fn tools(source: MesSource) -> Vec<Arc<dyn Tool>> {
    crate::tools_sharing(specs(), source, |spec, source| MesTool { spec, source })
}

struct MesTool {
    spec: ToolSpec,
    source: Arc<MesSource>,
}

impl Tool for MesTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn invoke(&self, args: &Map<String, Value>) -> Result<Value, ToolError> {
        let failed = |err: MesError| ToolError::Failed(err.to_string());
        let mes = self.source.connect()?;
        match self.spec.name.as_str() {
            DOWNTIME => {
                let rows = mes
                    .downtime(
                        int(args, "line")?,
                        text(args, "since")?,
                        text(args, "until")?,
                    )
                    .map_err(failed)?;
                let total: i64 = rows
                    .rows
                    .iter()
                    .filter_map(|row| row.get("minutes").and_then(Value::as_i64))
                    .sum();
                Ok(json!({"events": rows.rows, "count": rows.rows.len(), "total_minutes": total}))
            }
            WORK_ORDERS => {
                let line = args.get("line").and_then(Value::as_i64);
                let rows = mes
                    .work_orders(text(args, "status")?, line)
                    .map_err(failed)?;
                Ok(json!({"orders": rows.rows, "count": rows.rows.len()}))
            }
            QUERY => {
                let rows = mes
                    .query(text(args, "sql")?, MAX_QUERY_ROWS)
                    .map_err(failed)?;
                Ok(json!(rows))
            }
            SET_STATUS => {
                let record = mes
                    .set_work_order_status(text(args, "order_id")?, text(args, "status")?)
                    .map_err(failed)?;
                let undo = Undo {
                    tool: UNDO_STATUS.to_owned(),
                    args: [
                        ("order_id", &record.order_id),
                        ("status_before", &record.status_before),
                        ("status_after", &record.status_after),
                    ]
                    .into_iter()
                    .map(|(key, value)| (key.to_owned(), Value::String(value.clone())))
                    .collect(),
                };
                Ok(json!({"changed": true, "compensation": record, UNDO_KEY: undo}))
            }
            UNDO_STATUS => {
                let record = Compensation {
                    table: "production_orders".to_owned(),
                    order_id: text(args, "order_id")?.to_owned(),
                    status_before: text(args, "status_before")?.to_owned(),
                    status_after: text(args, "status_after")?.to_owned(),
                };
                mes.compensate(&record).map_err(failed)?;
                Ok(
                    json!({"restored": true, "order_id": record.order_id, "status": record.status_before}),
                )
            }
            other => Err(ToolError::Failed(format!("`{other}` is not an MES tool"))),
        }
    }
}

fn text<'a>(args: &'a Map<String, Value>, name: &str) -> Result<&'a str, ToolError> {
    args.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| ToolError::InvalidArgument {
            name: name.to_owned(),
            reason: "a string is required".to_owned(),
        })
}

fn int(args: &Map<String, Value>, name: &str) -> Result<i64, ToolError> {
    args.get(name)
        .and_then(Value::as_i64)
        .ok_or_else(|| ToolError::InvalidArgument {
            name: name.to_owned(),
            reason: "an integer is required".to_owned(),
        })
}
