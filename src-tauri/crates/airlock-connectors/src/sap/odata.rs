//! Reading OData v2 JSON: collections (`{"d": {"results": [...], "__next": ...}}`), single
//! entities (`{"d": {...}}`), `/Date(ms)/` values and SAP error bodies.

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// One entity: its fields (without `__metadata` and navigation links, dates as RFC 3339) and
/// its ETag.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// The properties.
    pub fields: Map<String, Value>,
    /// The entity's ETag, when the gateway sent one.
    pub etag: Option<String>,
}

impl Entity {
    /// The string property `name`, or "".
    #[must_use]
    pub fn text(&self, name: &str) -> &str {
        self.fields.get(name).and_then(Value::as_str).unwrap_or("")
    }
}

/// One page of a collection.
#[derive(Debug)]
pub struct Page {
    /// Its entities.
    pub entities: Vec<Entity>,
    /// The link to the next page, when the server paged the answer.
    pub next: Option<String>,
}

/// Parses a collection answer.
///
/// # Errors
/// What is wrong with it, for [`super::SapError::Malformed`].
pub fn collection(body: &[u8]) -> Result<Page, String> {
    let d = envelope(body)?;
    let (results, next) = match d {
        Value::Array(results) => (results, None),
        Value::Object(mut object) => {
            let results = match object.remove("results") {
                Some(Value::Array(results)) => results,
                _ => return Err("`d.results` is not a list".to_owned()),
            };
            let next = match object.remove("__next") {
                Some(Value::String(next)) => Some(next),
                None | Some(Value::Null) => None,
                Some(_) => return Err("`d.__next` is not a link".to_owned()),
            };
            (results, next)
        }
        _ => return Err("`d` is neither a list nor an object".to_owned()),
    };
    let entities = results
        .into_iter()
        .map(|value| match value {
            Value::Object(object) => Ok(entity_from(object)),
            _ => Err("an entry of `d.results` is not an object".to_owned()),
        })
        .collect::<Result<_, _>>()?;
    Ok(Page { entities, next })
}

/// Parses a single-entity answer.
///
/// # Errors
/// What is wrong with it, for [`super::SapError::Malformed`].
pub fn entity(body: &[u8]) -> Result<Entity, String> {
    match envelope(body)? {
        Value::Object(object) => Ok(entity_from(object)),
        _ => Err("`d` is not an object".to_owned()),
    }
}

/// `(code, message)` from an SAP error body, when it is one.
#[must_use]
pub fn error(body: &[u8]) -> Option<(String, String)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let error = value.get("error")?;
    let code = error
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let message = match error.get("message")? {
        Value::String(text) => text.clone(),
        other => other.get("value")?.as_str()?.to_owned(),
    };
    Some((code.to_owned(), message))
}

fn envelope(body: &[u8]) -> Result<Value, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|err| format!("invalid JSON: {err}"))?;
    match value {
        Value::Object(mut object) => object.remove("d").ok_or_else(|| "no `d` member".to_owned()),
        _ => Err("the answer is not a JSON object".to_owned()),
    }
}

fn entity_from(mut object: Map<String, Value>) -> Entity {
    let etag = object.remove("__metadata").and_then(|metadata| {
        metadata
            .get("etag")
            .and_then(Value::as_str)
            .map(str::to_owned)
    });
    let fields = object
        .into_iter()
        .filter(|(_, value)| !is_navigation(value))
        .map(|(name, value)| (name, readable_date(value)))
        .collect();
    Entity { fields, etag }
}

fn is_navigation(value: &Value) -> bool {
    value.get("__deferred").is_some() || value.get("results").is_some()
}

/// `/Date(1763596800000)/` (or with an offset, `/Date(…+0000)/`) as RFC 3339; anything else
/// unchanged.
fn readable_date(value: Value) -> Value {
    let Value::String(text) = &value else {
        return value;
    };
    let Some(inner) = text
        .strip_prefix("/Date(")
        .and_then(|rest| rest.strip_suffix(")/"))
    else {
        return value;
    };
    let millis = inner
        .find(['+', '-'])
        .filter(|at| *at > 0)
        .map_or(inner, |at| &inner[..at]);
    millis
        .parse::<i64>()
        .ok()
        .and_then(|millis| {
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok()
        })
        .and_then(|at| at.format(&Rfc3339).ok())
        .map_or(value, Value::String)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_page_keeps_fields_and_etags_and_drops_metadata_and_links() {
        let body = json!({"d": {"results": [
            {"__metadata": {"uri": "u", "etag": "W/\"1\""}, "MaintenanceOrder": "4000101",
             "MaintOrdBasicStartDate": "/Date(1763596800000)/",
             "to_Operation": {"__deferred": {"uri": "x"}}}
        ], "__next": "https://gw/sap/X?$skiptoken=50"}});
        let page = collection(body.to_string().as_bytes()).unwrap();
        assert_eq!(page.next.as_deref(), Some("https://gw/sap/X?$skiptoken=50"));
        let entity = &page.entities[0];
        assert_eq!(entity.etag.as_deref(), Some("W/\"1\""));
        assert_eq!(
            Value::Object(entity.fields.clone()),
            json!({"MaintenanceOrder": "4000101", "MaintOrdBasicStartDate": "2025-11-20T00:00:00Z"})
        );
    }

    #[test]
    fn malformed_answers_say_what_is_wrong() {
        assert!(collection(b"<html>login</html>")
            .unwrap_err()
            .contains("invalid JSON"));
        assert!(collection(br#"{"value": []}"#)
            .unwrap_err()
            .contains("no `d`"));
        assert!(collection(br#"{"d": {"results": 5}}"#)
            .unwrap_err()
            .contains("not a list"));
        assert!(entity(br#"{"d": [1]}"#)
            .unwrap_err()
            .contains("not an object"));
    }

    #[test]
    fn sap_error_bodies_give_code_and_message() {
        let body = json!({"error": {"code": "API_MAINTORDER/012",
                                    "message": {"lang": "en", "value": "Equipment P-999 does not exist"}}});
        assert_eq!(
            error(body.to_string().as_bytes()),
            Some((
                "API_MAINTORDER/012".to_owned(),
                "Equipment P-999 does not exist".to_owned()
            ))
        );
        assert_eq!(error(b"not json"), None);
    }
}
