//! `tracing` field values turned into OTLP attributes, text scrubbed on the way.

use std::fmt;

use tracing::field::{Field, Visit};

use crate::ids::{parse_trace_id, TraceId};
use crate::otlp::{AnyValue, KeyValue};
use crate::scrub::{scrub, Scrubber};

/// The field whose value becomes the trace id when it is recorded on a root span.
pub(crate) const TRACE_ID_FIELD: &str = "trace_id";
/// The field that marks a span as failed, its value the status message.
pub(crate) const ERROR_FIELD: &str = "error";
/// The field holding an event's message.
pub(crate) const MESSAGE_FIELD: &str = "message";

/// Collects the fields of one span creation, `record` call or event.
pub(crate) struct Fields<'a> {
    scrubber: Option<&'a Scrubber>,
    /// The attributes, in field order.
    pub values: Vec<KeyValue>,
    /// The trace id in a `trace_id` field, read before any scrubbing.
    pub trace_id: Option<TraceId>,
}

impl<'a> Fields<'a> {
    /// An empty collection scrubbing text with the secret rule and `scrubber`.
    pub(crate) fn new(scrubber: Option<&'a Scrubber>) -> Self {
        Self {
            scrubber,
            values: Vec::new(),
            trace_id: None,
        }
    }

    fn text(&mut self, field: &Field, value: String) {
        if field.name() == TRACE_ID_FIELD {
            self.trace_id = self.trace_id.or_else(|| parse_trace_id(&value));
        }
        let value = scrub(self.scrubber, field.name(), value);
        self.push(field, AnyValue::String(value));
    }

    fn push(&mut self, field: &Field, value: AnyValue) {
        upsert(
            &mut self.values,
            KeyValue {
                key: field.name().to_owned(),
                value,
            },
        );
    }

    fn integer<N: TryInto<i64> + fmt::Display + Copy>(&mut self, field: &Field, n: N) {
        let value = match n.try_into() {
            Ok(n) => AnyValue::Int(n),
            Err(_) => AnyValue::String(n.to_string()),
        };
        self.push(field, value);
    }
}

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, AnyValue::Double(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, AnyValue::Int(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.integer(field, value);
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.integer(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.integer(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, AnyValue::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.text(field, format!("{value:?}"));
    }
}

/// Adds `kv`, replacing the value of an attribute with the same key (OTLP keys are unique).
pub(crate) fn upsert(values: &mut Vec<KeyValue>, kv: KeyValue) {
    match values.iter_mut().find(|existing| existing.key == kv.key) {
        Some(existing) => existing.value = kv.value,
        None => values.push(kv),
    }
}

/// What an `error` attribute says: `Some(message)` for a failure, `None` for `error = false`.
pub(crate) fn error_message(value: &AnyValue) -> Option<String> {
    match value {
        AnyValue::String(text) => Some(text.clone()),
        AnyValue::Int(n) => Some(n.to_string()),
        AnyValue::Double(x) => Some(x.to_string()),
        AnyValue::Bool(true) => Some("error".to_owned()),
        AnyValue::Bool(false) => None,
    }
}
