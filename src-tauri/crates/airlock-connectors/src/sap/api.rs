//! The SAP objects Airlock reads and writes, as typed operations: maintenance orders
//! (`API_MAINTENANCEORDER`), maintenance notifications (`API_MAINTNOTIFICATION`) and
//! production orders (`API_PRODUCTION_ORDER_2_SRV`).

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::odata::Entity;
use super::query::{encode, Filter, Order, Query};
use super::{SapClient, SapError};
use crate::vault::Secret;

/// The maintenance order entity set.
pub const MAINTENANCE_ORDERS: &str = "API_MAINTENANCEORDER/MaintenanceOrder";
/// The maintenance notification entity set.
pub const NOTIFICATIONS: &str = "API_MAINTNOTIFICATION/MaintenanceNotification";
/// The production order entity set.
pub const PRODUCTION_ORDERS: &str = "API_PRODUCTION_ORDER_2_SRV/A_ProductionOrder_2";

/// A maintenance order's system status.
pub const ORDER_STATUSES: [&str; 5] = ["CRTD", "REL", "TECO", "CLSD", "DLFL"];
/// Statuses of an order still to be worked on.
const OPEN_ORDER_STATUSES: [&str; 2] = ["CRTD", "REL"];
/// A notification's processing phase: outstanding, postponed, in process, completed.
pub const NOTIFICATION_PHASES: [&str; 4] = ["1", "2", "3", "4"];
/// Phases of a notification still to be worked on.
const OPEN_NOTIFICATION_PHASES: [&str; 3] = ["1", "2", "3"];

/// Fields returned for maintenance orders.
const ORDER_FIELDS: [&str; 9] = [
    "MaintenanceOrder",
    "MaintenanceOrderType",
    "MaintenanceOrderDesc",
    "Equipment",
    "FunctionalLocation",
    "MaintPriority",
    "OrderSystemStatus",
    "MaintOrdBasicStartDate",
    "MaintenanceNotification",
];
/// Fields returned for notifications.
const NOTIFICATION_FIELDS: [&str; 7] = [
    "MaintenanceNotification",
    "NotificationType",
    "NotificationText",
    "Equipment",
    "MaintPriority",
    "NotifProcessingPhase",
    "NotificationCreationDate",
];
/// Fields returned for production orders.
const PRODUCTION_FIELDS: [&str; 8] = [
    "ManufacturingOrder",
    "Material",
    "ProductionPlant",
    "TotalQuantity",
    "ProductionUnit",
    "MfgOrderPlannedStartDate",
    "MfgOrderPlannedEndDate",
    "OrderIsReleased",
];

/// How to list one kind of maintenance object.
struct Listing {
    set: &'static str,
    key: &'static str,
    state_field: &'static str,
    open: &'static [&'static str],
    fields: &'static [&'static str],
}

const ORDER_LISTING: Listing = Listing {
    set: MAINTENANCE_ORDERS,
    key: "MaintenanceOrder",
    state_field: "OrderSystemStatus",
    open: &OPEN_ORDER_STATUSES,
    fields: &ORDER_FIELDS,
};

const NOTIFICATION_LISTING: Listing = Listing {
    set: NOTIFICATIONS,
    key: "MaintenanceNotification",
    state_field: "NotifProcessingPhase",
    open: &OPEN_NOTIFICATION_PHASES,
    fields: &NOTIFICATION_FIELDS,
};

/// Which maintenance orders or notifications to read.
#[derive(Debug, Clone, Default)]
pub struct MaintenanceFilter {
    /// Only this equipment (e.g. `P-101`).
    pub equipment: Option<String>,
    /// Only those still to be worked on.
    pub open_only: bool,
}

/// Which production orders to read.
#[derive(Debug, Clone, Default)]
pub struct ProductionFilter {
    /// Only this material.
    pub material: Option<String>,
    /// Only this plant.
    pub plant: Option<String>,
    /// Only released (true) or not released (false) orders.
    pub released: Option<bool>,
}

/// A maintenance order or notification priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// "1": very high.
    Emergency,
    /// "2": high.
    High,
    /// "3": medium.
    Medium,
    /// "4": low.
    Low,
}

impl Priority {
    /// From `emergency`, `high`, `medium` or `low`.
    ///
    /// # Errors
    /// [`SapError::Invalid`] for anything else.
    pub fn parse(text: &str) -> Result<Self, SapError> {
        match text {
            "emergency" => Ok(Self::Emergency),
            "high" => Ok(Self::High),
            "medium" => Ok(Self::Medium),
            "low" => Ok(Self::Low),
            other => Err(SapError::Invalid(format!(
                "priority `{other}` is not one of emergency, high, medium, low"
            ))),
        }
    }

    fn code(self) -> &'static str {
        match self {
            Self::Emergency => "1",
            Self::High => "2",
            Self::Medium => "3",
            Self::Low => "4",
        }
    }
}

/// A new maintenance order or notification.
#[derive(Debug, Clone)]
pub struct NewMaintenance {
    /// The equipment, e.g. `P-101`.
    pub equipment: String,
    /// What is wrong, in one sentence.
    pub description: String,
    /// How urgent.
    pub priority: Priority,
}

/// A status change as it happened: what undoes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    /// The order or notification.
    pub id: String,
    /// Its status (or phase) before.
    pub before: String,
    /// Its status (or phase) after.
    pub after: String,
}

impl SapClient {
    /// Maintenance orders matching `filter`, most urgent first, at most `top`.
    ///
    /// # Errors
    /// [`SapError`] as the gateway or network fails.
    pub fn maintenance_orders(
        &self,
        secret: &Secret,
        filter: &MaintenanceFilter,
        top: u32,
    ) -> Result<Vec<Entity>, SapError> {
        self.list_maintenance(secret, &ORDER_LISTING, filter, top)
    }

    /// Maintenance notifications matching `filter`, most urgent first, at most `top`.
    ///
    /// # Errors
    /// [`SapError`] as the gateway or network fails.
    pub fn notifications(
        &self,
        secret: &Secret,
        filter: &MaintenanceFilter,
        top: u32,
    ) -> Result<Vec<Entity>, SapError> {
        self.list_maintenance(secret, &NOTIFICATION_LISTING, filter, top)
    }

    fn list_maintenance(
        &self,
        secret: &Secret,
        listing: &Listing,
        filter: &MaintenanceFilter,
        top: u32,
    ) -> Result<Vec<Entity>, SapError> {
        let query = Query {
            filter: maintenance_filter(filter, listing.state_field, listing.open),
            select: listing.fields.to_vec(),
            order_by: vec![("MaintPriority", Order::Asc), (listing.key, Order::Desc)],
            top: Some(top),
        };
        self.read(secret, listing.set, &query, top as usize)
    }

    /// Production orders matching `filter`, by planned start, at most `top`.
    ///
    /// # Errors
    /// [`SapError`] as the gateway or network fails.
    pub fn production_orders(
        &self,
        secret: &Secret,
        filter: &ProductionFilter,
        top: u32,
    ) -> Result<Vec<Entity>, SapError> {
        let mut terms = Vec::new();
        if let Some(material) = &filter.material {
            terms.push(Filter::eq("Material", material.as_str()));
        }
        if let Some(plant) = &filter.plant {
            terms.push(Filter::eq("ProductionPlant", plant.as_str()));
        }
        if let Some(released) = filter.released {
            terms.push(Filter::eq(
                "OrderIsReleased",
                super::query::Literal::Bool(released),
            ));
        }
        let query = Query {
            filter: all_of(terms),
            select: PRODUCTION_FIELDS.to_vec(),
            order_by: vec![("MfgOrderPlannedStartDate", Order::Asc)],
            top: Some(top),
        };
        self.read(secret, PRODUCTION_ORDERS, &query, top as usize)
    }

    /// Opens a corrective (PM01) maintenance order; returns it as created.
    ///
    /// # Errors
    /// [`SapError`] as the gateway refuses it (e.g. unknown equipment) or the network fails.
    pub fn create_maintenance_order(
        &self,
        secret: &Secret,
        new: &NewMaintenance,
    ) -> Result<Entity, SapError> {
        let fields = object(json!({
            "MaintenanceOrderType": "PM01",
            "MaintenanceOrderDesc": new.description,
            "Equipment": new.equipment,
            "MaintPriority": new.priority.code(),
        }));
        self.create(
            secret,
            MAINTENANCE_ORDERS,
            &fields,
            &format!("a maintenance order for {}", new.equipment),
        )
    }

    /// Creates a malfunction report (M2) notification; returns it as created.
    ///
    /// # Errors
    /// [`SapError`] as the gateway refuses it or the network fails.
    pub fn create_notification(
        &self,
        secret: &Secret,
        new: &NewMaintenance,
    ) -> Result<Entity, SapError> {
        let fields = object(json!({
            "NotificationType": "M2",
            "NotificationText": new.description,
            "Equipment": new.equipment,
            "MaintPriority": new.priority.code(),
        }));
        self.create(
            secret,
            NOTIFICATIONS,
            &fields,
            &format!("a notification for {}", new.equipment),
        )
    }

    /// Sets maintenance order `id` to `status`; when `expected` is given, only if the order
    /// is in that status now (how a rollback avoids undoing someone else's later change).
    ///
    /// # Errors
    /// [`SapError::Unexpected`] when the status is not `expected`; [`SapError::Conflict`]
    /// when the order changed between reading and writing; [`SapError`] otherwise.
    pub fn set_order_status(
        &self,
        secret: &Secret,
        id: &str,
        status: &str,
        expected: Option<&str>,
    ) -> Result<StatusChange, SapError> {
        one_of(status, &ORDER_STATUSES, "order status")?;
        self.change_state(
            secret,
            &Target {
                set: MAINTENANCE_ORDERS,
                field: "OrderSystemStatus",
                noun: "maintenance order",
            },
            id,
            status,
            expected,
        )
    }

    /// Sets notification `id` to processing phase `phase` (`1`…`4`), under the same rules as
    /// [`Self::set_order_status`].
    ///
    /// # Errors
    /// As [`Self::set_order_status`].
    pub fn set_notification_phase(
        &self,
        secret: &Secret,
        id: &str,
        phase: &str,
        expected: Option<&str>,
    ) -> Result<StatusChange, SapError> {
        one_of(phase, &NOTIFICATION_PHASES, "notification phase")?;
        self.change_state(
            secret,
            &Target {
                set: NOTIFICATIONS,
                field: "NotifProcessingPhase",
                noun: "notification",
            },
            id,
            phase,
            expected,
        )
    }

    fn change_state(
        &self,
        secret: &Secret,
        target: &Target,
        id: &str,
        to: &str,
        expected: Option<&str>,
    ) -> Result<StatusChange, SapError> {
        let path = entity_path(target.set, id)?;
        let what = format!("{} {id}", target.noun);
        let current = self.get(secret, &path, &what)?;
        let before = current.text(target.field).to_owned();
        if let Some(expected) = expected.filter(|expected| *expected != before) {
            return Err(SapError::Unexpected {
                entity: what,
                expected: expected.to_owned(),
                found: before,
            });
        }
        let etag = current.etag.ok_or_else(|| SapError::Malformed {
            connection: self.connection().name.clone(),
            reason: format!("{what} came without an ETag, so it cannot be changed safely"),
        })?;
        let mut fields = Map::new();
        fields.insert(target.field.to_owned(), Value::String(to.to_owned()));
        self.update(secret, &path, &fields, &etag, &what)?;
        Ok(StatusChange {
            id: id.to_owned(),
            before,
            after: to.to_owned(),
        })
    }
}

/// Where a state lives: the entity set, the field, what to call it.
struct Target {
    set: &'static str,
    field: &'static str,
    noun: &'static str,
}

/// `SET('id')`, with `id` checked to be a plain SAP number or code.
fn entity_path(set: &str, id: &str) -> Result<String, SapError> {
    let plain = !id.is_empty()
        && id.len() <= 20
        && id
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
    if !plain {
        return Err(SapError::Invalid(format!(
            "`{id}` is not an SAP id (letters, digits and '-', at most 20)"
        )));
    }
    Ok(format!("{set}('{}')", encode(id)))
}

fn one_of(value: &str, allowed: &[&str], what: &str) -> Result<(), SapError> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(SapError::Invalid(format!(
            "{what} `{value}` is not one of {}",
            allowed.join(", ")
        )))
    }
}

fn maintenance_filter(
    filter: &MaintenanceFilter,
    state_field: &'static str,
    open: &[&str],
) -> Option<Filter> {
    let mut terms = Vec::new();
    if let Some(equipment) = &filter.equipment {
        terms.push(Filter::eq("Equipment", equipment.as_str()));
    }
    if filter.open_only {
        terms.push(Filter::Or(
            open.iter()
                .map(|state| Filter::eq(state_field, *state))
                .collect(),
        ));
    }
    all_of(terms)
}

fn all_of(mut terms: Vec<Filter>) -> Option<Filter> {
    match terms.len() {
        0 => None,
        1 => terms.pop(),
        _ => Some(Filter::And(terms)),
    }
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(object) => object,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_keys_refuse_anything_but_plain_ids() {
        assert_eq!(
            entity_path(MAINTENANCE_ORDERS, "4000101").unwrap(),
            "API_MAINTENANCEORDER/MaintenanceOrder('4000101')"
        );
        for bad in ["", "4000101')/..", "a b", "x'y", &"9".repeat(21)] {
            assert!(entity_path(MAINTENANCE_ORDERS, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn open_maintenance_for_one_equipment_is_an_and_of_an_or() {
        let filter = maintenance_filter(
            &MaintenanceFilter {
                equipment: Some("P-101".to_owned()),
                open_only: true,
            },
            "OrderSystemStatus",
            &OPEN_ORDER_STATUSES,
        )
        .unwrap();
        assert_eq!(
            filter.render(),
            "Equipment eq 'P-101' and (OrderSystemStatus eq 'CRTD' or OrderSystemStatus eq 'REL')"
        );
        assert_eq!(
            maintenance_filter(&MaintenanceFilter::default(), "X", &[]),
            None
        );
    }
}
