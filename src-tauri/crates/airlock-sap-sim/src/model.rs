//! The services, entity sets and properties the simulator serves: a fixed, static model (what a
//! real gateway reads from `$metadata`).

/// The EDM type of a property, as far as the simulator distinguishes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `Edm.String`.
    String,
    /// `Edm.DateTime`, serialised as `/Date(<ms>)/`.
    DateTime,
    /// `Edm.Boolean`.
    Boolean,
    /// `Edm.Decimal`, serialised as a string (`"24000"`).
    Decimal,
}

impl Kind {
    /// The EDM name, for error messages.
    pub(crate) fn edm_name(self) -> &'static str {
        match self {
            Kind::String => "Edm.String",
            Kind::DateTime => "Edm.DateTime",
            Kind::Boolean => "Edm.Boolean",
            Kind::Decimal => "Edm.Decimal",
        }
    }
}

/// One property of an entity type.
#[derive(Debug)]
pub(crate) struct Property {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
}

/// What a client may write to an entity set.
#[derive(Debug)]
pub(crate) enum Writes {
    /// Any write is refused with 405.
    ReadOnly,
    /// Create and update with these rules.
    Allowed(&'static WriteRules),
}

/// The rules for creating and updating entities of one set.
#[derive(Debug)]
pub(crate) struct WriteRules {
    /// Properties a create must carry.
    pub(crate) create_required: &'static [&'static str],
    /// Properties a create may carry, with the value used when it does not.
    pub(crate) create_optional: &'static [(&'static str, &'static str)],
    /// Properties a PATCH/MERGE may change.
    pub(crate) updatable: &'static [&'static str],
    /// How a create fills the properties a client does not send.
    pub(crate) derived: &'static [(&'static str, Derived)],
    /// Allowed values of coded properties (priority, status, type, phase).
    pub(crate) codes: &'static [(&'static str, &'static [&'static str])],
    /// Short texts and their maximum length in characters.
    pub(crate) text_limits: &'static [(&'static str, usize)],
    /// Properties holding the key of another entity set's entity (or "" for none).
    pub(crate) references: &'static [(&'static str, &'static str)],
    /// A property value after which the entity can no longer be changed (`CLSD`).
    pub(crate) closed: Option<(&'static str, &'static str)>,
}

/// How a create fills a property the client does not send.
#[derive(Debug)]
pub(crate) enum Derived {
    /// This value.
    Const(&'static str),
    /// Today, 00:00 UTC.
    Today,
    /// The current time.
    Now,
    /// The equipment's functional location.
    FunctionalLocation,
    /// The equipment's maintenance planning plant.
    Plant,
    /// The authenticated user.
    User,
}

/// One entity set of one service.
#[derive(Debug)]
pub(crate) struct EntitySet {
    /// The service (`API_MAINTENANCEORDER`).
    pub(crate) service: &'static str,
    /// The entity set (`MaintenanceOrder`).
    pub(crate) name: &'static str,
    /// The single key property.
    pub(crate) key: &'static str,
    /// The entity type's qualified name, as in `__metadata.type`.
    pub(crate) type_name: &'static str,
    /// The SAP message class of this API's own errors (`API_MAINTORDER`).
    pub(crate) message_class: &'static str,
    /// What one entity is called in messages ("Maintenance order").
    pub(crate) noun: &'static str,
    /// The seed file in the seed directory.
    pub(crate) seed_file: &'static str,
    /// Every property, in `$metadata` order (the order of a response's fields).
    pub(crate) properties: &'static [Property],
    /// What may be written.
    pub(crate) writes: Writes,
}

impl EntitySet {
    /// The property called `name`, if the type has it.
    pub(crate) fn property(&self, name: &str) -> Option<&'static Property> {
        self.properties.iter().find(|p| p.name == name)
    }
}

/// The property every entity's ETag is derived from.
pub(crate) const LAST_CHANGE: &str = "LastChangeDateTime";

const fn prop(name: &'static str, kind: Kind) -> Property {
    Property { name, kind }
}

const PRIORITIES: &[&str] = &["1", "2", "3", "4"];

/// SAP's short texts (order description, notification text) hold 40 characters.
const SHORT_TEXT: usize = 40;

/// Maintenance orders (`API_MAINTENANCEORDER`).
pub(crate) static MAINTENANCE_ORDER: EntitySet = EntitySet {
    service: "API_MAINTENANCEORDER",
    name: "MaintenanceOrder",
    key: "MaintenanceOrder",
    type_name: "API_MAINTENANCEORDER.MaintenanceOrderType",
    message_class: "API_MAINTORDER",
    noun: "Maintenance order",
    seed_file: "maintenance_orders.json",
    properties: &[
        prop("MaintenanceOrder", Kind::String),
        prop("MaintenanceOrderType", Kind::String),
        prop("MaintenanceOrderDesc", Kind::String),
        prop("Equipment", Kind::String),
        prop("FunctionalLocation", Kind::String),
        prop("MaintenancePlanningPlant", Kind::String),
        prop("MaintPriority", Kind::String),
        prop("MaintOrdBasicStartDate", Kind::DateTime),
        prop("MaintOrdBasicEndDate", Kind::DateTime),
        prop("MaintenanceNotification", Kind::String),
        prop("OrderSystemStatus", Kind::String),
        prop(LAST_CHANGE, Kind::DateTime),
    ],
    writes: Writes::Allowed(&WriteRules {
        create_required: &["MaintenanceOrderDesc", "Equipment", "MaintPriority"],
        create_optional: &[
            ("MaintenanceOrderType", "PM01"),
            ("MaintenanceNotification", ""),
        ],
        updatable: &["OrderSystemStatus", "MaintenanceOrderDesc", "MaintPriority"],
        derived: &[
            ("FunctionalLocation", Derived::FunctionalLocation),
            ("MaintenancePlanningPlant", Derived::Plant),
            ("MaintOrdBasicStartDate", Derived::Today),
            ("MaintOrdBasicEndDate", Derived::Today),
            ("OrderSystemStatus", Derived::Const("CRTD")),
            (LAST_CHANGE, Derived::Now),
        ],
        codes: &[
            ("MaintPriority", PRIORITIES),
            ("MaintenanceOrderType", &["PM01", "PM02"]),
            (
                "OrderSystemStatus",
                &["CRTD", "REL", "TECO", "CLSD", "DLFL"],
            ),
        ],
        text_limits: &[("MaintenanceOrderDesc", SHORT_TEXT)],
        references: &[("MaintenanceNotification", "MaintenanceNotification")],
        closed: Some(("OrderSystemStatus", "CLSD")),
    }),
};

/// Maintenance notifications (`API_MAINTNOTIFICATION`).
pub(crate) static MAINTENANCE_NOTIFICATION: EntitySet = EntitySet {
    service: "API_MAINTNOTIFICATION",
    name: "MaintenanceNotification",
    key: "MaintenanceNotification",
    type_name: "API_MAINTNOTIFICATION.MaintenanceNotificationType",
    message_class: "API_MAINTNOTIF",
    noun: "Notification",
    seed_file: "notifications.json",
    properties: &[
        prop("MaintenanceNotification", Kind::String),
        prop("NotificationType", Kind::String),
        prop("NotificationText", Kind::String),
        prop("Equipment", Kind::String),
        prop("FunctionalLocation", Kind::String),
        prop("MaintPriority", Kind::String),
        prop("NotificationCreationDate", Kind::DateTime),
        prop("NotifProcessingPhase", Kind::String),
        prop("ReportedByUser", Kind::String),
        prop(LAST_CHANGE, Kind::DateTime),
    ],
    writes: Writes::Allowed(&WriteRules {
        create_required: &["NotificationText", "Equipment", "MaintPriority"],
        create_optional: &[("NotificationType", "M1")],
        updatable: &["NotifProcessingPhase", "NotificationText", "MaintPriority"],
        derived: &[
            ("FunctionalLocation", Derived::FunctionalLocation),
            ("NotificationCreationDate", Derived::Today),
            ("NotifProcessingPhase", Derived::Const("1")),
            ("ReportedByUser", Derived::User),
            (LAST_CHANGE, Derived::Now),
        ],
        codes: &[
            ("MaintPriority", PRIORITIES),
            ("NotificationType", &["M1", "M2"]),
            ("NotifProcessingPhase", &["1", "2", "3", "4"]),
        ],
        text_limits: &[("NotificationText", SHORT_TEXT)],
        references: &[],
        closed: None,
    }),
};

/// Production orders (`API_PRODUCTION_ORDER_2_SRV`), read-only.
pub(crate) static PRODUCTION_ORDER: EntitySet = EntitySet {
    service: "API_PRODUCTION_ORDER_2_SRV",
    name: "A_ProductionOrder_2",
    key: "ManufacturingOrder",
    type_name: "API_PRODUCTION_ORDER_2_SRV.A_ProductionOrder_2Type",
    message_class: "API_PRODORD",
    noun: "Production order",
    seed_file: "production_orders.json",
    properties: &[
        prop("ManufacturingOrder", Kind::String),
        prop("ManufacturingOrderType", Kind::String),
        prop("Material", Kind::String),
        prop("ProductionPlant", Kind::String),
        prop("TotalQuantity", Kind::Decimal),
        prop("ProductionUnit", Kind::String),
        prop("MfgOrderPlannedStartDate", Kind::DateTime),
        prop("MfgOrderPlannedEndDate", Kind::DateTime),
        prop("OrderIsReleased", Kind::Boolean),
        prop("OrderIsTechnicallyCompleted", Kind::Boolean),
        prop(LAST_CHANGE, Kind::DateTime),
    ],
    writes: Writes::ReadOnly,
};

/// Every entity set served.
pub(crate) static ENTITY_SETS: [&EntitySet; 3] = [
    &MAINTENANCE_ORDER,
    &MAINTENANCE_NOTIFICATION,
    &PRODUCTION_ORDER,
];

/// The entity sets of `service` (empty for an unknown service).
pub(crate) fn service_sets(service: &str) -> Vec<&'static EntitySet> {
    ENTITY_SETS
        .iter()
        .copied()
        .filter(|set| set.service == service)
        .collect()
}

/// The entity set called `name`, in any service.
pub(crate) fn entity_set(name: &str) -> Option<&'static EntitySet> {
    ENTITY_SETS.iter().copied().find(|set| set.name == name)
}
