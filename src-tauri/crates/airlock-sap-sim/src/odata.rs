//! OData v2 wire forms: `/Date(ms)/`, weak `datetime` ETags, entity URIs, key predicates, and an
//! entity's JSON with its `__metadata`.

use serde_json::{json, Map, Value};
use time::macros::format_description;
use time::OffsetDateTime;

use crate::data::Entity;
use crate::model::{EntitySet, Property};

/// The path under which every service lives.
pub(crate) const SERVICE_ROOT: &str = "/sap/opu/odata/sap";

/// Milliseconds since the epoch of a `/Date(<ms>)/` value (an offset suffix such as `+0000`,
/// as in `Edm.DateTimeOffset`, is accepted and ignored).
pub(crate) fn parse_date(text: &str) -> Option<i64> {
    let inner = text.strip_prefix("/Date(")?.strip_suffix(")/")?;
    let digits_end = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| !c.is_ascii_digit())
        .map_or(inner.len(), |(i, _)| i);
    let (millis, offset) = inner.split_at(digits_end);
    let offset_ok = offset.is_empty()
        || (offset.len() == 5
            && offset.starts_with(['+', '-'])
            && offset[1..].chars().all(|c| c.is_ascii_digit()));
    if offset_ok {
        millis.parse().ok()
    } else {
        None
    }
}

/// The `/Date(<ms>)/` form of a point in time.
pub(crate) fn format_date(millis: i64) -> String {
    format!("/Date({millis})/")
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_millis() -> i64 {
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX)
}

/// 00:00 UTC of the day `millis` falls on.
pub(crate) fn start_of_day(millis: i64) -> i64 {
    const DAY: i64 = 86_400_000;
    millis.div_euclid(DAY) * DAY
}

/// The weak ETag of an entity last changed at `millis`, on its `version`-th change: SAP's
/// `W/"datetime'2026-11-20T08%3A15%3A00.1230007'"`, whose seven fractional digits carry the
/// milliseconds and then the version, so two changes in one millisecond still differ.
pub(crate) fn etag(millis: i64, version: u64) -> String {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let seconds = at
        .format(format_description!(
            "[year]-[month]-[day]T[hour]%3A[minute]%3A[second]"
        ))
        .unwrap_or_default();
    format!(
        "W/\"datetime'{seconds}.{:03}{:04}'\"",
        millis.rem_euclid(1000),
        version % 10_000
    )
}

/// `'value'` as an OData string literal (quotes doubled).
pub(crate) fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The absolute URI of one entity, e.g. `http://host/sap/opu/odata/sap/API_X/Set('1')`.
pub(crate) fn entity_uri(base: &str, set: &EntitySet, key: &str) -> String {
    format!("{base}/{}/{}({})", set.service, set.name, quote(key))
}

/// The key in a key predicate's inside: `'4000101'` or `MaintenanceOrder='4000101'`.
pub(crate) fn parse_key_predicate(set: &EntitySet, inside: &str) -> Option<String> {
    let literal = match inside.split_once('=') {
        Some((name, literal)) if !name.contains('\'') => {
            (name.trim() == set.key).then_some(literal)?
        }
        _ => inside,
    };
    let body = literal.trim().strip_prefix('\'')?.strip_suffix('\'')?;
    let mut key = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\'' && chars.next() != Some('\'') {
            return None;
        }
        key.push(c);
    }
    Some(key)
}

/// An entity as a response carries it: `__metadata` first, then its properties in `$metadata`
/// order, only those in `select` when there is one.
pub(crate) fn entity_json(
    base: &str,
    set: &EntitySet,
    entity: &Entity,
    select: Option<&[&Property]>,
) -> Value {
    let uri = entity_uri(base, set, entity.key(set));
    let mut out = Map::new();
    out.insert(
        "__metadata".into(),
        json!({"id": uri, "uri": uri, "type": set.type_name, "etag": entity.etag()}),
    );
    for property in set.properties {
        let selected = select.is_none_or(|chosen| chosen.iter().any(|p| p.name == property.name));
        if selected {
            let value = entity.fields.get(property.name).cloned();
            out.insert(property.name.into(), value.unwrap_or(Value::Null));
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MAINTENANCE_ORDER;

    #[test]
    fn dates_round_trip_and_accept_an_offset() {
        assert_eq!(
            parse_date(&format_date(1_795_162_500_000)),
            Some(1_795_162_500_000)
        );
        assert_eq!(
            parse_date("/Date(1795162500000+0000)/"),
            Some(1_795_162_500_000)
        );
        assert_eq!(parse_date("/Date(-86400000)/"), Some(-86_400_000));
        assert_eq!(parse_date("/Date(12x)/"), None);
        assert_eq!(parse_date("2026-11-20"), None);
    }

    #[test]
    fn etags_carry_the_time_and_the_version() {
        // 2026-11-20T08:15:00.123Z
        let millis = 1_795_162_500_123;
        assert_eq!(
            etag(millis, 7),
            "W/\"datetime'2026-11-20T08%3A15%3A00.1230007'\""
        );
        assert_ne!(etag(millis, 7), etag(millis, 8));
    }

    #[test]
    fn key_predicates_in_both_forms_with_escaped_quotes() {
        let set = &MAINTENANCE_ORDER;
        assert_eq!(
            parse_key_predicate(set, "'4000101'").as_deref(),
            Some("4000101")
        );
        assert_eq!(
            parse_key_predicate(set, "MaintenanceOrder='4000101'").as_deref(),
            Some("4000101")
        );
        assert_eq!(
            parse_key_predicate(set, "'O''Brien'").as_deref(),
            Some("O'Brien")
        );
        assert_eq!(parse_key_predicate(set, "Equipment='P-101'"), None);
        assert_eq!(parse_key_predicate(set, "4000101"), None);
        assert_eq!(parse_key_predicate(set, "'a'b'"), None);
    }
}
