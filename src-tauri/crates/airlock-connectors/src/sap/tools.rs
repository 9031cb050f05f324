//! SAP as governed tools: reads of maintenance orders, notifications and production orders;
//! writes that open an order or a notification or change a status, each returning the call
//! that undoes it. The password is fetched from the vault for each call and dropped after it.

use std::sync::Arc;

use airlock_core::{
    Classification, Environment, SystemKind, Tool, ToolEffect, ToolError, ToolSpec, ToolTarget,
    Undo, UNDO_KEY,
};
use serde_json::{json, Map, Value};

use super::api::{
    MaintenanceFilter, NewMaintenance, Priority, ProductionFilter, NOTIFICATION_PHASES,
    ORDER_STATUSES,
};
use super::odata::Entity;
use super::{SapClient, SapError};
use crate::vault::{Secret, Vault};

/// Most entities one read returns.
pub const MAX_TOP: u32 = 200;
const DEFAULT_TOP: u32 = 50;

const ORDERS: &str = "sap_maintenance_orders";
const NOTIFICATIONS: &str = "sap_notifications";
const PRODUCTION: &str = "sap_production_orders";
const CREATE_ORDER: &str = "create_maintenance_order";
const CREATE_NOTIFICATION: &str = "sap_create_notification";
const SET_ORDER_STATUS: &str = "sap_set_order_status";
const SET_NOTIFICATION_PHASE: &str = "sap_set_notification_phase";

/// The specs of every SAP tool.
#[must_use]
pub fn specs() -> Vec<ToolSpec> {
    let target = ToolTarget::system(
        SystemKind::Sap,
        "sap-prd",
        Environment::Prod,
        Classification::Internal,
    );
    let spec = |name: &str, description: &str, parameters: Value, effect| {
        ToolSpec::new(name, description, parameters, effect, target.clone())
    };
    let equipment = json!({"type": "string", "pattern": "^[A-Z0-9][A-Z0-9-]{0,17}$",
                           "description": "Equipment id, e.g. P-101."});
    let top = json!({"type": "integer", "minimum": 1, "maximum": MAX_TOP,
                     "description": "Most rows to return (default 50)."});
    let open_only = json!({"type": "boolean", "description": "Only those still to be worked on (default true)."});
    let description = json!({"type": "string", "minLength": 3, "maxLength": 40,
                             "description": "What is wrong, in a few words (SAP short text, at most 40 characters)."});
    let priority = json!({"type": "string", "enum": ["low", "medium", "high", "emergency"]});
    let order = json!({"type": "string", "pattern": "^[0-9]{6,12}$",
                       "description": "The maintenance order number, e.g. 4000101."});
    let notification = json!({"type": "string", "pattern": "^[0-9]{6,12}$",
                              "description": "The notification number, e.g. 10000201."});
    let status = json!({"type": "string", "enum": ORDER_STATUSES,
                        "description": "CRTD created, REL released, TECO technically complete, CLSD closed, DLFL deletion flag."});
    let phase = json!({"type": "string", "enum": NOTIFICATION_PHASES,
                       "description": "1 outstanding, 2 postponed, 3 in process, 4 completed."});
    vec![
        spec(
            ORDERS,
            "List SAP maintenance orders, e.g. the open ones for one piece of equipment: order, \
             description, equipment, priority, status, start date.",
            json!({
                "type": "object",
                "properties": {"equipment": equipment.clone(), "open_only": open_only.clone(), "top": top.clone()},
                "additionalProperties": false
            }),
            ToolEffect::Read,
        ),
        spec(
            NOTIFICATIONS,
            "List SAP maintenance notifications (malfunction reports), e.g. the open ones for \
             one piece of equipment.",
            json!({
                "type": "object",
                "properties": {"equipment": equipment.clone(), "open_only": open_only, "top": top.clone()},
                "additionalProperties": false
            }),
            ToolEffect::Read,
        ),
        spec(
            PRODUCTION,
            "List SAP production orders: material, plant, quantity, planned start and end, \
             whether released.",
            json!({
                "type": "object",
                "properties": {
                    "material": {"type": "string", "pattern": "^[A-Z0-9][A-Z0-9_-]{0,39}$",
                                 "description": "Material number, e.g. FG-SHAMPOO-250."},
                    "plant": {"type": "string", "pattern": "^[A-Z0-9]{4}$", "description": "Plant, e.g. 1000."},
                    "released": {"type": "boolean"},
                    "top": top
                },
                "additionalProperties": false
            }),
            ToolEffect::Read,
        ),
        spec(
            CREATE_ORDER,
            "Open an SAP maintenance order for a piece of equipment (a write that needs approval).",
            json!({
                "type": "object",
                "properties": {"equipment": equipment.clone(), "description": description.clone(), "priority": priority.clone()},
                "required": ["equipment", "description", "priority"],
                "additionalProperties": false
            }),
            ToolEffect::Write,
        ),
        spec(
            CREATE_NOTIFICATION,
            "Report a malfunction as an SAP maintenance notification for a piece of equipment \
             (a write that needs approval).",
            json!({
                "type": "object",
                "properties": {"equipment": equipment, "description": description, "priority": priority},
                "required": ["equipment", "description", "priority"],
                "additionalProperties": false
            }),
            ToolEffect::Write,
        ),
        spec(
            SET_ORDER_STATUS,
            "Change the status of one SAP maintenance order (e.g. TECO when the work is done). \
             With expected_status, only if the order is in that status now.",
            json!({
                "type": "object",
                "properties": {"order": order, "status": status.clone(), "expected_status": status},
                "required": ["order", "status"],
                "additionalProperties": false
            }),
            ToolEffect::Write,
        ),
        spec(
            SET_NOTIFICATION_PHASE,
            "Change the processing phase of one SAP maintenance notification. With \
             expected_phase, only if it is in that phase now.",
            json!({
                "type": "object",
                "properties": {"notification": notification, "phase": phase.clone(), "expected_phase": phase},
                "required": ["notification", "phase"],
                "additionalProperties": false
            }),
            ToolEffect::Write,
        ),
    ]
}

/// Where the SAP tools get their client and password: a configured connection, or why there
/// is none (then every call says so).
pub enum SapSource {
    /// A configured connection whose secret the vault keeps.
    Connected {
        /// The client.
        client: Box<SapClient>,
        /// The vault holding the connection's secret.
        vault: Vault,
    },
    /// No usable connection; the message says how to add one.
    Unavailable(String),
}

/// The executable SAP tools over `source`, in the order of [`specs`].
#[must_use]
pub fn tools(source: SapSource) -> Vec<Arc<dyn Tool>> {
    crate::tools_sharing(specs(), source, |spec, source| SapTool { spec, source })
}

struct SapTool {
    spec: ToolSpec,
    source: Arc<SapSource>,
}

impl Tool for SapTool {
    fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    fn invoke(&self, args: &Map<String, Value>) -> Result<Value, ToolError> {
        let (client, vault) = match self.source.as_ref() {
            SapSource::Connected { client, vault } => (client, vault),
            SapSource::Unavailable(why) => return Err(ToolError::Failed(why.clone())),
        };
        let name = &client.connection().name;
        let (secret, _) = vault
            .fetch(name)
            .map_err(|err| ToolError::Failed(err.to_string()))?;
        self.run(client, &secret, args).map_err(|err| match err {
            SapError::Invalid(reason) => ToolError::Failed(reason),
            other => ToolError::Failed(other.to_string()),
        })
    }
}

impl SapTool {
    fn run(
        &self,
        client: &SapClient,
        secret: &Secret,
        args: &Map<String, Value>,
    ) -> Result<Value, SapError> {
        let connection = client.connection().name.as_str();
        let top = args
            .get("top")
            .and_then(Value::as_u64)
            .map_or(DEFAULT_TOP, |top| {
                u32::try_from(top).unwrap_or(MAX_TOP).min(MAX_TOP)
            });
        let maintenance = || MaintenanceFilter {
            equipment: text(args, "equipment").map(str::to_owned),
            open_only: args
                .get("open_only")
                .and_then(Value::as_bool)
                .unwrap_or(true),
        };
        let new = || -> Result<NewMaintenance, SapError> {
            Ok(NewMaintenance {
                equipment: required(args, "equipment")?.to_owned(),
                description: required(args, "description")?.to_owned(),
                priority: Priority::parse(required(args, "priority")?)?,
            })
        };
        match self.spec.name.as_str() {
            ORDERS => {
                let orders = client.maintenance_orders(secret, &maintenance(), top)?;
                Ok(listing("orders", orders, connection))
            }
            NOTIFICATIONS => {
                let notifications = client.notifications(secret, &maintenance(), top)?;
                Ok(listing("notifications", notifications, connection))
            }
            PRODUCTION => {
                let filter = ProductionFilter {
                    material: text(args, "material").map(str::to_owned),
                    plant: text(args, "plant").map(str::to_owned),
                    released: args.get("released").and_then(Value::as_bool),
                };
                let orders = client.production_orders(secret, &filter, top)?;
                Ok(listing("orders", orders, connection))
            }
            CREATE_ORDER => {
                let created = client.create_maintenance_order(secret, &new()?)?;
                let id = created.text("MaintenanceOrder").to_owned();
                let status = created.text("OrderSystemStatus").to_owned();
                Ok(written(
                    json!({"created": created.fields}),
                    SET_ORDER_STATUS,
                    json!({"order": id, "status": "DLFL", "expected_status": status}),
                ))
            }
            CREATE_NOTIFICATION => {
                let created = client.create_notification(secret, &new()?)?;
                let id = created.text("MaintenanceNotification").to_owned();
                let phase = created.text("NotifProcessingPhase").to_owned();
                Ok(written(
                    json!({"created": created.fields}),
                    SET_NOTIFICATION_PHASE,
                    json!({"notification": id, "phase": "4", "expected_phase": phase}),
                ))
            }
            SET_ORDER_STATUS => {
                let change = client.set_order_status(
                    secret,
                    required(args, "order")?,
                    required(args, "status")?,
                    text(args, "expected_status"),
                )?;
                Ok(written(
                    json!({"changed": change}),
                    SET_ORDER_STATUS,
                    json!({"order": change.id, "status": change.before, "expected_status": change.after}),
                ))
            }
            SET_NOTIFICATION_PHASE => {
                let change = client.set_notification_phase(
                    secret,
                    required(args, "notification")?,
                    required(args, "phase")?,
                    text(args, "expected_phase"),
                )?;
                Ok(written(
                    json!({"changed": change}),
                    SET_NOTIFICATION_PHASE,
                    json!({"notification": change.id, "phase": change.before, "expected_phase": change.after}),
                ))
            }
            other => Err(SapError::Invalid(format!("`{other}` is not an SAP tool"))),
        }
    }
}

fn listing(key: &str, entities: Vec<Entity>, connection: &str) -> Value {
    let rows: Vec<Value> = entities
        .into_iter()
        .map(|entity| Value::Object(entity.fields))
        .collect();
    let count = rows.len();
    json!({key: rows, "count": count, "connection": connection})
}

/// A write's result: what happened plus the call that undoes it.
fn written(mut result: Value, undo_tool: &str, undo_args: Value) -> Value {
    let undo = Undo {
        tool: undo_tool.to_owned(),
        args: match undo_args {
            Value::Object(args) => args,
            _ => Map::new(),
        },
    };
    if let Value::Object(object) = &mut result {
        object.insert(UNDO_KEY.to_owned(), json!(undo));
    }
    result
}

fn text<'a>(args: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    args.get(name).and_then(Value::as_str)
}

fn required<'a>(args: &'a Map<String, Value>, name: &str) -> Result<&'a str, SapError> {
    text(args, name)
        .ok_or_else(|| SapError::Invalid(format!("argument `{name}` (a string) is required")))
}
