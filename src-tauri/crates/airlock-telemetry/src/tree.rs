//! A trace as a tree of spans, built from its OTLP/JSON line, for showing and for `--json`.

use std::collections::{HashMap, HashSet};

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::ids::dashed;
use crate::otlp::{self, AnyValue, KeyValue, TracesData, STATUS_CODE_ERROR};

/// One trace: its root span with everything under it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceTree {
    /// The trace id in UUID form (the request id).
    pub trace_id: String,
    /// When the root span started, in Unix nanoseconds.
    pub start_unix_nano: u64,
    /// How many spans the tree holds.
    pub span_count: usize,
    /// The root span.
    pub root: TreeSpan,
}

/// One span and, under it, the spans it started, in order of start time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TreeSpan {
    /// What the span measured (`request`, `llm.generate`, ...).
    pub name: String,
    /// The span id (16 hex digits).
    pub span_id: String,
    /// Milliseconds from the root's start to this span's.
    pub start_ms: f64,
    /// How long the span lasted, in milliseconds.
    pub duration_ms: f64,
    /// Its attributes, in recorded order (a JSON object under `--json`).
    #[serde(serialize_with = "as_map")]
    pub attributes: Vec<(String, AttributeValue)>,
    /// Whether it failed.
    pub status: SpanStatus,
    /// What happened inside it, in order.
    pub events: Vec<TreeEvent>,
    /// The spans it started, in order of start time.
    pub children: Vec<TreeSpan>,
}

/// Something that happened inside a span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TreeEvent {
    /// The event's message.
    pub name: String,
    /// Milliseconds from the root's start.
    pub at_ms: f64,
    /// Its fields (and `level`).
    #[serde(serialize_with = "as_map")]
    pub attributes: Vec<(String, AttributeValue)>,
}

/// An attribute's value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AttributeValue {
    /// Text (scrubbed when it was recorded).
    String(String),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Double(f64),
    /// A boolean.
    Bool(bool),
}

/// A span's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum SpanStatus {
    /// Nothing was said: the span did not record an `error`.
    Unset,
    /// The span recorded an `error`.
    Error {
        /// The error's text.
        message: String,
    },
}

impl TraceTree {
    /// The tree of the trace `trace_id` (32 hex digits) in `data`: the earliest span without
    /// a parent is the root; spans whose parent is missing hang under the root.
    pub(crate) fn from_otlp(data: &TracesData, trace_id: &str) -> Option<Self> {
        let spans: Vec<&otlp::Span> = data
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
            .filter(|s| s.trace_id.eq_ignore_ascii_case(trace_id))
            .collect();
        let ids: HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
        let root = spans
            .iter()
            .enumerate()
            .filter(|(_, s)| parent_of(s).is_none())
            .min_by_key(|(_, s)| s.start_time_unix_nano)
            .map(|(i, _)| i)?;
        let mut children: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, span) in spans.iter().enumerate() {
            if i == root {
                continue;
            }
            let parent = match parent_of(span) {
                Some(p) if ids.contains(p) => p,
                _ => spans[root].span_id.as_str(),
            };
            children.entry(parent).or_default().push(i);
        }
        for list in children.values_mut() {
            list.sort_by_key(|&i| spans[i].start_time_unix_nano);
        }
        let builder = Builder {
            spans: &spans,
            children: &children,
            origin: spans[root].start_time_unix_nano,
        };
        let mut seen = HashSet::from([root]);
        let root_span = builder.build(root, &mut seen);
        Some(Self {
            trace_id: dashed(&trace_id.to_ascii_lowercase()),
            start_unix_nano: builder.origin,
            span_count: seen.len(),
            root: root_span,
        })
    }
}

struct Builder<'a> {
    spans: &'a [&'a otlp::Span],
    children: &'a HashMap<&'a str, Vec<usize>>,
    origin: u64,
}

impl Builder<'_> {
    /// Span `i` (already in `seen`) and its descendants not in `seen`, so a file with
    /// repeated ids cannot make it loop.
    fn build(&self, i: usize, seen: &mut HashSet<usize>) -> TreeSpan {
        let span = self.spans[i];
        let mut children = Vec::new();
        for &child in self
            .children
            .get(span.span_id.as_str())
            .into_iter()
            .flatten()
        {
            if seen.insert(child) {
                children.push(self.build(child, seen));
            }
        }
        let status = match (&span.status.code, &span.status.message) {
            (Some(STATUS_CODE_ERROR), message) => SpanStatus::Error {
                message: message.clone().unwrap_or_default(),
            },
            _ => SpanStatus::Unset,
        };
        TreeSpan {
            name: span.name.clone(),
            span_id: span.span_id.clone(),
            start_ms: self.ms(span.start_time_unix_nano),
            duration_ms: nanos_to_ms(
                span.end_time_unix_nano
                    .saturating_sub(span.start_time_unix_nano),
            ),
            attributes: attributes(&span.attributes),
            status,
            events: span
                .events
                .iter()
                .map(|event| TreeEvent {
                    name: event.name.clone(),
                    at_ms: self.ms(event.time_unix_nano),
                    attributes: attributes(&event.attributes),
                })
                .collect(),
            children,
        }
    }

    /// Milliseconds from the root's start (negative if earlier).
    fn ms(&self, at: u64) -> f64 {
        if at >= self.origin {
            nanos_to_ms(at - self.origin)
        } else {
            -nanos_to_ms(self.origin - at)
        }
    }
}

/// A span's parent id (an empty one, as some writers put on roots, counts as none).
fn parent_of(span: &otlp::Span) -> Option<&str> {
    span.parent_span_id.as_deref().filter(|p| !p.is_empty())
}

fn nanos_to_ms(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}

fn attributes(values: &[KeyValue]) -> Vec<(String, AttributeValue)> {
    values
        .iter()
        .map(|kv| {
            let value = match &kv.value {
                AnyValue::String(s) => AttributeValue::String(s.clone()),
                AnyValue::Int(n) => AttributeValue::Int(*n),
                AnyValue::Double(x) => AttributeValue::Double(*x),
                AnyValue::Bool(b) => AttributeValue::Bool(*b),
            };
            (kv.key.clone(), value)
        })
        .collect()
}

fn as_map<S: Serializer>(
    values: &[(String, AttributeValue)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(values.len()))?;
    for (key, value) in values {
        map.serialize_entry(key, value)?;
    }
    map.end()
}
