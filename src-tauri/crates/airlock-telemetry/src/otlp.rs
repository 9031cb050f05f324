//! The OTLP/JSON form of traces (`ExportTraceServiceRequest`, as the OTLP/HTTP exporter POSTs
//! it to `/v1/traces`): camelCase field names, hex ids, 64-bit integers as strings, enums as
//! numbers. Only the parts Airlock writes; unknown fields are ignored when reading.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `SPAN_KIND_INTERNAL`.
pub(crate) const SPAN_KIND_INTERNAL: i32 = 1;
/// `STATUS_CODE_ERROR`.
pub(crate) const STATUS_CODE_ERROR: i32 = 2;

/// One request body: the spans of one or more traces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TracesData {
    pub resource_spans: Vec<ResourceSpans>,
}

/// The spans of one resource (the Airlock installation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResourceSpans {
    pub resource: Resource,
    pub scope_spans: Vec<ScopeSpans>,
}

/// Who produced the spans (`service.name`, `service.version`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Resource {
    #[serde(default)]
    pub attributes: Vec<KeyValue>,
}

/// The spans of one instrumentation scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ScopeSpans {
    pub scope: Scope,
    pub spans: Vec<Span>,
}

/// The instrumentation scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Scope {
    pub name: String,
}

/// One span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Span {
    pub trace_id: String,
    pub span_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<String>,
    pub name: String,
    pub kind: i32,
    #[serde(with = "u64_text")]
    pub start_time_unix_nano: u64,
    #[serde(with = "u64_text")]
    pub end_time_unix_nano: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<KeyValue>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dropped_events_count: u32,
    #[serde(default)]
    pub status: Status,
}

/// Something that happened inside a span (a `tracing` event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Event {
    #[serde(with = "u64_text")]
    pub time_unix_nano: u64,
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<KeyValue>,
}

/// A span's status: unset (empty) or an error with its message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Status {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct KeyValue {
    pub key: String,
    pub value: AnyValue,
}

/// An attribute's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum AnyValue {
    #[serde(rename = "stringValue")]
    String(String),
    #[serde(rename = "intValue")]
    Int(#[serde(with = "i64_text")] i64),
    #[serde(rename = "doubleValue")]
    Double(#[serde(with = "double")] f64),
    #[serde(rename = "boolValue")]
    Bool(bool),
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A JSON number or the text of one (OTLP/JSON writes 64-bit integers as text).
#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText<N> {
    Number(N),
    Text(String),
}

fn number<'de, D, N>(deserializer: D) -> Result<N, D::Error>
where
    D: Deserializer<'de>,
    N: Deserialize<'de> + std::str::FromStr,
{
    match NumberOrText::<N>::deserialize(deserializer)? {
        NumberOrText::Number(n) => Ok(n),
        NumberOrText::Text(text) => text
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("{text:?} is not an integer"))),
    }
}

mod u64_text {
    use super::{number, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(n: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(n)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        number(deserializer)
    }
}

mod i64_text {
    use super::{number, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(n: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(n)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        number(deserializer)
    }
}

/// Finite doubles as JSON numbers; NaN and the infinities as `"NaN"`, `"Infinity"`,
/// `"-Infinity"` (the proto3 JSON mapping).
mod double {
    use super::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        if x.is_nan() {
            serializer.serialize_str("NaN")
        } else if x.is_infinite() {
            serializer.serialize_str(if *x > 0.0 { "Infinity" } else { "-Infinity" })
        } else {
            serializer.serialize_f64(*x)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Double {
            Number(f64),
            Text(String),
        }
        match Double::deserialize(deserializer)? {
            Double::Number(x) => Ok(x),
            Double::Text(text) => match text.as_str() {
                "NaN" => Ok(f64::NAN),
                "Infinity" => Ok(f64::INFINITY),
                "-Infinity" => Ok(f64::NEG_INFINITY),
                _ => text
                    .parse()
                    .map_err(|_| serde::de::Error::custom(format!("{text:?} is not a double"))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attribute_values_take_the_otlp_json_shapes() {
        let values = [
            AnyValue::String("a".into()),
            AnyValue::Int(-5),
            AnyValue::Double(0.5),
            AnyValue::Double(f64::INFINITY),
            AnyValue::Bool(true),
        ];
        assert_eq!(
            serde_json::to_value(&values).unwrap(),
            json!([
                {"stringValue": "a"},
                {"intValue": "-5"},
                {"doubleValue": 0.5},
                {"doubleValue": "Infinity"},
                {"boolValue": true}
            ])
        );
    }

    #[test]
    fn integers_are_read_as_text_or_as_numbers() {
        let text: AnyValue = serde_json::from_value(json!({"intValue": "42"})).unwrap();
        let number: AnyValue = serde_json::from_value(json!({"intValue": 42})).unwrap();
        assert_eq!(text, AnyValue::Int(42));
        assert_eq!(number, AnyValue::Int(42));
        assert!(serde_json::from_value::<AnyValue>(json!({"intValue": "4x"})).is_err());
    }
}
