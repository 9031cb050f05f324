//! The seed (one JSON file per entity set) and the entities served from it, in key order.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::SimError;
use crate::model::{self, EntitySet, Kind, Property, Writes, LAST_CHANGE};
use crate::odata;

/// One entity: its properties and how often it has changed since the seed.
#[derive(Debug, Clone)]
pub(crate) struct Entity {
    /// Every property of the type, by name.
    pub(crate) fields: Map<String, Value>,
    /// Bumped on every change; part of the ETag.
    pub(crate) version: u64,
}

impl Entity {
    /// The key value.
    pub(crate) fn key(&self, set: &EntitySet) -> &str {
        self.text(set.key)
    }

    /// A string property's value ("" if absent or not a string).
    pub(crate) fn text(&self, property: &str) -> &str {
        self.fields
            .get(property)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The current ETag.
    pub(crate) fn etag(&self) -> String {
        let last_change = odata::parse_date(self.text(LAST_CHANGE)).unwrap_or_default();
        odata::etag(last_change, self.version)
    }

    /// Records a change at `now`: a later `LastChangeDateTime` (never earlier than the last
    /// one) and a new version, hence a new ETag.
    pub(crate) fn touch(&mut self, now: i64) {
        let last_change = odata::parse_date(self.text(LAST_CHANGE)).unwrap_or_default();
        self.fields.insert(
            LAST_CHANGE.into(),
            odata::format_date(now.max(last_change)).into(),
        );
        self.version += 1;
    }
}

/// What the seed says about one piece of equipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Equipment {
    /// Where it is installed (`PLT1-L3-PMP`).
    pub(crate) functional_location: String,
    /// Its maintenance planning plant (`1000`).
    pub(crate) plant: String,
}

/// Every entity of every set, and the equipment known from the maintenance orders.
#[derive(Debug)]
pub(crate) struct Store {
    sets: HashMap<&'static str, Vec<Entity>>,
    equipment: HashMap<String, Equipment>,
}

impl Store {
    /// Reads and checks every seed file in `dir`.
    pub(crate) fn load(dir: &Path) -> Result<Store, SimError> {
        let mut sets = HashMap::new();
        for set in model::ENTITY_SETS {
            let path = dir.join(set.seed_file);
            let text = std::fs::read_to_string(&path).map_err(|source| SimError::SeedRead {
                path: path.clone(),
                source,
            })?;
            let entities =
                parse_seed(set, &text).map_err(|reason| SimError::SeedInvalid { path, reason })?;
            sets.insert(set.name, entities);
        }
        let mut store = Store {
            sets,
            equipment: HashMap::new(),
        };
        store
            .check_references()
            .and_then(|()| store.collect_equipment())
            .map_err(|reason| SimError::SeedInvalid {
                path: dir.to_path_buf(),
                reason,
            })?;
        Ok(store)
    }

    /// The entities of `set`, in key order.
    pub(crate) fn entities(&self, set: &EntitySet) -> &[Entity] {
        self.sets.get(set.name).map_or(&[], Vec::as_slice)
    }

    /// The entity of `set` with key `key`.
    pub(crate) fn get(&self, set: &EntitySet, key: &str) -> Option<&Entity> {
        self.entities(set).iter().find(|e| e.key(set) == key)
    }

    /// The entity of `set` with key `key`, to change it.
    pub(crate) fn get_mut(&mut self, set: &EntitySet, key: &str) -> Option<&mut Entity> {
        self.sets
            .get_mut(set.name)?
            .iter_mut()
            .find(|e| e.key(set) == key)
    }

    /// The number the next created entity of `set` gets: one after the highest.
    pub(crate) fn next_key(&self, set: &EntitySet) -> String {
        let highest = self
            .entities(set)
            .iter()
            .filter_map(|e| e.key(set).parse::<u64>().ok())
            .max()
            .unwrap_or_default();
        (highest + 1).to_string()
    }

    /// Adds a new entity (its key is the highest, so key order holds).
    pub(crate) fn insert(&mut self, set: &EntitySet, entity: Entity) {
        self.sets.entry(set.name).or_default().push(entity);
    }

    /// The equipment called `id`.
    pub(crate) fn equipment(&self, id: &str) -> Option<&Equipment> {
        self.equipment.get(id)
    }

    /// Sets one property as another SAP user would, giving the entity a new ETag.
    pub(crate) fn modify(
        &mut self,
        set_name: &str,
        key: &str,
        property: &str,
        value: Value,
        now: i64,
    ) -> Result<(), SimError> {
        let set = model::entity_set(set_name)
            .ok_or_else(|| SimError::UnknownEntitySet(set_name.to_owned()))?;
        let invalid = |reason: &str| SimError::InvalidChange {
            entity_set: set.name.to_owned(),
            property: property.to_owned(),
            reason: reason.to_owned(),
        };
        let definition = set
            .property(property)
            .ok_or_else(|| invalid("no such property"))?;
        if property == set.key {
            return Err(invalid("the key cannot change"));
        }
        check_value(definition, &value).map_err(|reason| invalid(&reason))?;
        let entity = self
            .get_mut(set, key)
            .ok_or_else(|| SimError::UnknownEntity {
                entity_set: set.name.to_owned(),
                key: key.to_owned(),
            })?;
        entity.fields.insert(property.to_owned(), value);
        if property == LAST_CHANGE {
            entity.version += 1;
        } else {
            entity.touch(now);
        }
        Ok(())
    }

    /// Every reference (an order's notification) names an existing entity.
    fn check_references(&self) -> Result<(), String> {
        for set in model::ENTITY_SETS {
            let Writes::Allowed(rules) = set.writes else {
                continue;
            };
            for (property, target_name) in rules.references {
                let target = model::entity_set(target_name)
                    .ok_or_else(|| format!("{property} refers to unknown set {target_name}"))?;
                for entity in self.entities(set) {
                    let value = entity.text(property);
                    if !value.is_empty() && self.get(target, value).is_none() {
                        return Err(format!(
                            "{} {}: {property} {value} does not exist",
                            set.name,
                            entity.key(set)
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Learns each equipment's functional location and plant from the maintenance orders, and
    /// checks every other entity naming equipment agrees.
    fn collect_equipment(&mut self) -> Result<(), String> {
        let orders = &model::MAINTENANCE_ORDER;
        let mut registry = HashMap::new();
        for order in self.entities(orders) {
            let equipment = Equipment {
                functional_location: order.text("FunctionalLocation").to_owned(),
                plant: order.text("MaintenancePlanningPlant").to_owned(),
            };
            let known = registry
                .entry(order.text("Equipment").to_owned())
                .or_insert_with(|| equipment.clone());
            if *known != equipment {
                return Err(format!(
                    "order {} places equipment {} differently from an earlier order",
                    order.key(orders),
                    order.text("Equipment")
                ));
            }
        }
        for set in model::ENTITY_SETS {
            if set.property("Equipment").is_none() || set.property("FunctionalLocation").is_none() {
                continue;
            }
            for entity in self.entities(set) {
                let id = entity.text("Equipment");
                let place = entity.text("FunctionalLocation");
                match registry.get(id) {
                    Some(known) if known.functional_location == place => {}
                    _ => {
                        return Err(format!(
                            "{} {}: equipment {id} at {place} is not at that place in any \
                             maintenance order",
                            set.name,
                            entity.key(set)
                        ))
                    }
                }
            }
        }
        self.equipment = registry;
        Ok(())
    }
}

/// The entities of one seed file, checked against the type and sorted by key.
fn parse_seed(set: &EntitySet, text: &str) -> Result<Vec<Entity>, String> {
    let rows: Vec<Map<String, Value>> =
        serde_json::from_str(text).map_err(|err| format!("not a JSON array of objects: {err}"))?;
    let mut entities = Vec::with_capacity(rows.len());
    for (index, fields) in rows.into_iter().enumerate() {
        let at = |reason: String| format!("entity {index}: {reason}");
        if let Some(extra) = fields.keys().find(|name| set.property(name).is_none()) {
            return Err(at(format!("unknown property {extra}")));
        }
        for property in set.properties {
            let value = fields
                .get(property.name)
                .ok_or_else(|| at(format!("missing property {}", property.name)))?;
            check_value(property, value).map_err(&at)?;
        }
        let entity = Entity { fields, version: 0 };
        let key = entity.key(set);
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_digit()) {
            return Err(at(format!("key {key:?} is not a number")));
        }
        if let Writes::Allowed(rules) = set.writes {
            for (property, allowed) in rules.codes {
                let value = entity.text(property);
                if !allowed.contains(&value) {
                    return Err(at(format!(
                        "{property} {value:?} is not one of {allowed:?}"
                    )));
                }
            }
        }
        entities.push(entity);
    }
    entities.sort_by(|a, b| {
        let (a, b) = (a.key(set), b.key(set));
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    });
    if let Some(pair) = entities.windows(2).find(|w| w[0].key(set) == w[1].key(set)) {
        return Err(format!("key {} appears twice", pair[0].key(set)));
    }
    Ok(entities)
}

/// Whether `value` has the JSON form of the property's type.
fn check_value(property: &Property, value: &Value) -> Result<(), String> {
    let fits = match property.kind {
        Kind::String => value.is_string(),
        Kind::Boolean => value.is_boolean(),
        Kind::DateTime => value.as_str().and_then(odata::parse_date).is_some(),
        Kind::Decimal => value
            .as_str()
            .is_some_and(|text| text.parse::<f64>().is_ok_and(f64::is_finite)),
    };
    if fits {
        Ok(())
    } else {
        Err(format!(
            "{} must be an {} value, not {value}",
            property.name,
            property.kind.edm_name()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures/sap")
    }

    #[test]
    fn the_shipped_seed_loads() {
        let store = Store::load(&seed_dir()).unwrap();
        let p101 = store.equipment("P-101").unwrap();
        assert_eq!(p101.functional_location, "PLT1-L3-PMP");
        assert_eq!(p101.plant, "1000");
        let orders = store.entities(&model::MAINTENANCE_ORDER);
        assert!(orders
            .windows(2)
            .all(|w| w[0].key(&model::MAINTENANCE_ORDER) < w[1].key(&model::MAINTENANCE_ORDER)));
    }

    #[test]
    fn a_seed_with_a_wrongly_typed_property_is_refused() {
        let set = &model::PRODUCTION_ORDER;
        let text = std::fs::read_to_string(seed_dir().join(set.seed_file)).unwrap();
        let mut rows: Vec<Map<String, Value>> = serde_json::from_str(&text).unwrap();
        rows[0].insert("OrderIsReleased".into(), "yes".into());
        let err = parse_seed(set, &serde_json::to_string(&rows).unwrap()).unwrap_err();
        assert!(
            err.contains("OrderIsReleased must be an Edm.Boolean"),
            "{err}"
        );
    }

    #[test]
    fn modify_bumps_the_etag_and_refuses_the_key() {
        let mut store = Store::load(&seed_dir()).unwrap();
        let set = &model::MAINTENANCE_ORDER;
        let before = store.get(set, "4000101").unwrap().etag();
        store
            .modify(set.name, "4000101", "MaintPriority", "1".into(), 0)
            .unwrap();
        let after = store.get(set, "4000101").unwrap();
        assert_eq!(after.text("MaintPriority"), "1");
        assert_ne!(after.etag(), before);
        assert!(matches!(
            store.modify(set.name, "4000101", "MaintenanceOrder", "1".into(), 0),
            Err(SimError::InvalidChange { .. })
        ));
        assert!(matches!(
            store.modify(set.name, "4000101", "MaintPriority", 1.into(), 0),
            Err(SimError::InvalidChange { .. })
        ));
        assert!(matches!(
            store.modify(set.name, "9", "MaintPriority", "1".into(), 0),
            Err(SimError::UnknownEntity { .. })
        ));
    }
}
