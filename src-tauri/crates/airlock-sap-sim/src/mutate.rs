//! Creating and changing entities under an entity set's [`WriteRules`], with SAP's checks and
//! messages.

use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::data::{Entity, Store};
use crate::error::SapError;
use crate::model::{self, Derived, EntitySet, WriteRules};
use crate::odata;

/// Creates an entity of `set` from a POST body on behalf of `user`; returns its key. Every
/// writable set is about a piece of equipment, which must be known.
pub(crate) fn create(
    store: &mut Store,
    set: &EntitySet,
    rules: &WriteRules,
    body: &Value,
    user: &str,
    now: i64,
) -> Result<String, SapError> {
    let sent = properties(set, body)?;
    for name in sent.keys() {
        let settable = rules.create_required.contains(&name.as_str())
            || rules.create_optional.iter().any(|(n, _)| n == name);
        if !settable {
            return Err(SapError::business(
                set.message_class,
                "005",
                format!(
                    "Property {name} is set by the system and cannot be given when creating a {}",
                    set.noun.to_lowercase()
                ),
            )
            .with_target(name));
        }
    }
    for required in rules.create_required {
        if sent.get(*required).is_none_or(|v| v.as_str() == Some("")) {
            return Err(SapError::business(
                set.message_class,
                "002",
                format!(
                    "Property {required} is required to create a {}",
                    set.noun.to_lowercase()
                ),
            )
            .with_target(required));
        }
    }
    check_values(store, set, rules, &sent)?;
    let equipment_id = text(&sent, "Equipment");
    let equipment = store.equipment(equipment_id).cloned().ok_or_else(|| {
        SapError::business(
            set.message_class,
            "012",
            format!("Equipment {equipment_id} does not exist"),
        )
        .with_target("Equipment")
    })?;

    let key = store.next_key(set);
    let mut fields = Map::new();
    for property in set.properties {
        let name = property.name;
        let value: Value = if name == set.key {
            key.clone().into()
        } else if let Some(value) = sent.get(name) {
            value.clone()
        } else if let Some((_, default)) = rules.create_optional.iter().find(|(n, _)| *n == name) {
            (*default).into()
        } else {
            match rules
                .derived
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, d)| d)
            {
                Some(Derived::Const(value)) => (*value).into(),
                Some(Derived::Today) => odata::format_date(odata::start_of_day(now)).into(),
                Some(Derived::Now) => odata::format_date(now).into(),
                Some(Derived::FunctionalLocation) => equipment.functional_location.clone().into(),
                Some(Derived::Plant) => equipment.plant.clone().into(),
                Some(Derived::User) => user.into(),
                None => Value::Null,
            }
        };
        fields.insert(name.into(), value);
    }
    store.insert(set, Entity { fields, version: 0 });
    Ok(key)
}

/// Applies a PATCH/MERGE body to the entity of `set` with key `key`, if `if_match` names its
/// current ETag (or is `*`); returns the new ETag.
pub(crate) fn update(
    store: &mut Store,
    set: &EntitySet,
    rules: &WriteRules,
    key: &str,
    if_match: Option<&str>,
    body: &Value,
    now: i64,
) -> Result<String, SapError> {
    let entity = store.get(set, key).ok_or_else(|| not_found(set, key))?;
    let Some(if_match) = if_match else {
        return Err(SapError::runtime(
            StatusCode::PRECONDITION_REQUIRED,
            "025",
            format!(
                "Precondition required: send an If-Match header with the ETag of {} {key}",
                set.noun.to_lowercase()
            ),
        ));
    };
    let current = entity.etag();
    let matches = if_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag == current);
    if !matches {
        return Err(SapError::runtime(
            StatusCode::PRECONDITION_FAILED,
            "026",
            format!(
                "{} {key} was changed by someone else in the meantime; read it again and \
                 repeat your change (ETag mismatch)",
                set.noun
            ),
        ));
    }
    let sent = properties(set, body)?;
    if let Some(name) = sent
        .keys()
        .find(|name| !rules.updatable.contains(&name.as_str()))
    {
        return Err(SapError::business(
            set.message_class,
            "005",
            format!(
                "Property {name} cannot be changed; changeable are {}",
                rules.updatable.join(", ")
            ),
        )
        .with_target(name));
    }
    check_values(store, set, rules, &sent)?;
    if let Some((property, closed)) = rules.closed {
        if entity.text(property) == closed {
            return Err(SapError::business(
                set.message_class,
                "006",
                format!(
                    "{} {key} is closed ({property} {closed}) and can no longer be changed",
                    set.noun
                ),
            )
            .with_target(property));
        }
    }
    let entity = store.get_mut(set, key).ok_or_else(|| not_found(set, key))?;
    entity.fields.extend(sent);
    entity.touch(now);
    Ok(entity.etag())
}

/// The 404 for a key that names no entity.
pub(crate) fn not_found(set: &EntitySet, key: &str) -> SapError {
    SapError::new(
        StatusCode::NOT_FOUND,
        format!("{}/001", set.message_class),
        format!("{} {key} does not exist", set.noun),
    )
}

/// The body's properties: a JSON object of properties of the type (`__metadata` ignored).
fn properties(set: &EntitySet, body: &Value) -> Result<Map<String, Value>, SapError> {
    let Value::Object(object) = body else {
        return Err(SapError::bad_request(
            "024",
            "The request body must be a JSON object of the entity's properties",
        ));
    };
    let mut sent = object.clone();
    sent.remove("__metadata");
    if let Some(name) = sent.keys().find(|name| set.property(name).is_none()) {
        return Err(SapError::bad_request(
            "023",
            format!(
                "Property '{name}' is not defined for type '{}'",
                set.type_name
            ),
        )
        .with_target(name));
    }
    Ok(sent)
}

/// Type, code list, length and reference checks of the sent values.
fn check_values(
    store: &Store,
    set: &EntitySet,
    rules: &WriteRules,
    sent: &Map<String, Value>,
) -> Result<(), SapError> {
    for (name, value) in sent {
        let invalid = |message: String| {
            SapError::business(set.message_class, "003", message).with_target(name)
        };
        let Some(text) = value.as_str() else {
            return Err(invalid(format!(
                "Property {name} expects an Edm.String value, not {value}"
            )));
        };
        if let Some((_, allowed)) = rules.codes.iter().find(|(n, _)| n == name) {
            if !allowed.contains(&text) {
                return Err(invalid(format!(
                    "Value '{text}' is not allowed for {name}; allowed are {}",
                    allowed.join(", ")
                )));
            }
        }
        if let Some((_, limit)) = rules.text_limits.iter().find(|(n, _)| n == name) {
            if text.chars().count() > *limit {
                return Err(SapError::business(
                    set.message_class,
                    "004",
                    format!("{name} is longer than {limit} characters"),
                )
                .with_target(name));
            }
        }
        if let Some((_, target)) = rules.references.iter().find(|(n, _)| n == name) {
            let exists = model::entity_set(target).is_some_and(|t| store.get(t, text).is_some());
            if !text.is_empty() && !exists {
                return Err(SapError::business(
                    set.message_class,
                    "013",
                    format!("{name} {text} does not exist"),
                )
                .with_target(name));
            }
        }
    }
    Ok(())
}

fn text<'m>(sent: &'m Map<String, Value>, name: &str) -> &'m str {
    sent.get(name).and_then(Value::as_str).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use crate::model::{Writes, ENTITY_SETS};

    /// Every property of a writable type is filled on create: the key, sent, defaulted or
    /// derived, exactly one way.
    #[test]
    fn write_rules_cover_every_property_once() {
        for set in ENTITY_SETS {
            let Writes::Allowed(rules) = set.writes else {
                continue;
            };
            for property in set.properties {
                let name = property.name;
                let ways = usize::from(name == set.key)
                    + usize::from(rules.create_required.contains(&name))
                    + rules
                        .create_optional
                        .iter()
                        .filter(|(n, _)| *n == name)
                        .count()
                    + rules.derived.iter().filter(|(n, _)| *n == name).count();
                assert_eq!(ways, 1, "{}.{name}", set.name);
            }
            let named = rules
                .updatable
                .iter()
                .chain(rules.codes.iter().map(|(n, _)| n))
                .chain(rules.text_limits.iter().map(|(n, _)| n))
                .chain(rules.references.iter().map(|(n, _)| n));
            for name in named {
                assert!(set.property(name).is_some(), "{}.{name}", set.name);
            }
        }
    }
}
