//! One trace in memory: its id, its clock, the spans closed so far; and the finished trace's
//! OTLP/JSON line.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::ids::{hex, SpanId, TraceId};
use crate::otlp::{
    AnyValue, Event, KeyValue, Resource, ResourceSpans, Scope, ScopeSpans, Span, Status,
    TracesData, SPAN_KIND_INTERNAL, STATUS_CODE_ERROR,
};

/// The most spans one trace keeps, its root included.
pub(crate) const MAX_SPANS_PER_TRACE: usize = 10_000;

/// The root's attribute counting the spans a trace had to drop.
pub(crate) const DROPPED_SPANS_ATTRIBUTE: &str = "airlock.dropped_spans";

/// A closed span.
#[derive(Debug)]
pub(crate) struct SpanRecord {
    pub span_id: SpanId,
    pub parent: Option<SpanId>,
    pub name: &'static str,
    pub start: u64,
    pub end: u64,
    pub attributes: Vec<KeyValue>,
    pub events: Vec<Event>,
    pub dropped_events: u32,
    /// The status message when the span recorded an `error` field.
    pub error: Option<String>,
}

/// A trace whose root span is still open, shared by all its spans.
#[derive(Debug)]
pub(crate) struct Trace {
    wall_start: u64,
    started: Instant,
    state: Mutex<TraceState>,
}

#[derive(Debug)]
struct TraceState {
    id: TraceId,
    spans: Vec<SpanRecord>,
    dropped_spans: u64,
    written: bool,
}

/// A trace whose root span closed: everything that goes into its line.
#[derive(Debug)]
pub(crate) struct FinishedTrace {
    pub id: TraceId,
    /// In order of start time, the root first.
    pub spans: Vec<SpanRecord>,
}

impl Trace {
    /// A trace starting now.
    pub(crate) fn start(id: TraceId) -> Self {
        let wall_start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        Self {
            wall_start,
            started: Instant::now(),
            state: Mutex::new(TraceState {
                id,
                spans: Vec::new(),
                dropped_spans: 0,
                written: false,
            }),
        }
    }

    /// Now, in Unix nanoseconds: the wall clock at the trace's start plus the monotonic time
    /// since, so a child's times always lie within its parent's.
    pub(crate) fn now(&self) -> u64 {
        let elapsed = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.wall_start.saturating_add(elapsed)
    }

    /// Replaces the trace id (a `trace_id` recorded on the root after it opened).
    pub(crate) fn set_id(&self, id: TraceId) {
        self.lock().id = id;
    }

    /// Keeps a closed span that is not the root; it is dropped (and counted) past the limit,
    /// and dropped silently once the trace was written.
    pub(crate) fn add(&self, span: SpanRecord) {
        let mut state = self.lock();
        if state.written {
            return;
        }
        if state.spans.len() + 1 < MAX_SPANS_PER_TRACE {
            state.spans.push(span);
        } else {
            state.dropped_spans += 1;
        }
    }

    /// Closes the trace with its root span; `None` if it was finished before.
    pub(crate) fn finish(&self, mut root: SpanRecord) -> Option<FinishedTrace> {
        let mut state = self.lock();
        if state.written {
            return None;
        }
        state.written = true;
        if state.dropped_spans > 0 {
            root.attributes.push(KeyValue {
                key: DROPPED_SPANS_ATTRIBUTE.to_owned(),
                value: AnyValue::Int(i64::try_from(state.dropped_spans).unwrap_or(i64::MAX)),
            });
        }
        let mut spans = std::mem::take(&mut state.spans);
        spans.sort_by_key(|span| span.start);
        spans.insert(0, root);
        Some(FinishedTrace {
            id: state.id,
            spans,
        })
    }

    fn lock(&self) -> MutexGuard<'_, TraceState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl FinishedTrace {
    /// The trace as one OTLP/JSON request body.
    pub(crate) fn to_otlp(&self, service_version: &str) -> TracesData {
        let trace_id = hex(&self.id);
        let spans = self
            .spans
            .iter()
            .map(|span| Span {
                trace_id: trace_id.clone(),
                span_id: hex(&span.span_id),
                parent_span_id: span.parent.map(|p| hex(&p)),
                name: span.name.to_owned(),
                kind: SPAN_KIND_INTERNAL,
                start_time_unix_nano: span.start,
                end_time_unix_nano: span.end,
                attributes: span.attributes.clone(),
                events: span.events.clone(),
                dropped_events_count: span.dropped_events,
                status: match &span.error {
                    Some(message) => Status {
                        code: Some(STATUS_CODE_ERROR),
                        message: Some(message.clone()),
                    },
                    None => Status::default(),
                },
            })
            .collect();
        TracesData {
            resource_spans: vec![ResourceSpans {
                resource: Resource {
                    attributes: vec![
                        text_attribute("service.name", "airlock"),
                        text_attribute("service.version", service_version),
                    ],
                },
                scope_spans: vec![ScopeSpans {
                    scope: Scope {
                        name: "airlock".to_owned(),
                    },
                    spans,
                }],
            }],
        }
    }
}

fn text_attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: AnyValue::String(value.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: u8, parent: Option<u8>, start: u64) -> SpanRecord {
        SpanRecord {
            span_id: [id; 8],
            parent: parent.map(|p| [p; 8]),
            name: "s",
            start,
            end: start + 1,
            attributes: Vec::new(),
            events: Vec::new(),
            dropped_events: 0,
            error: None,
        }
    }

    #[test]
    fn spans_past_the_limit_are_dropped_and_counted_on_the_root() {
        let trace = Trace::start([7; 16]);
        for i in 0..MAX_SPANS_PER_TRACE + 4 {
            trace.add(span(2, Some(1), i as u64));
        }
        let finished = trace.finish(span(1, None, 0)).unwrap();
        assert_eq!(finished.spans.len(), MAX_SPANS_PER_TRACE);
        let root = &finished.spans[0];
        assert_eq!(root.span_id, [1; 8]);
        assert_eq!(
            root.attributes,
            vec![KeyValue {
                key: DROPPED_SPANS_ATTRIBUTE.into(),
                value: AnyValue::Int(5),
            }]
        );
    }

    #[test]
    fn a_span_closing_after_its_root_is_dropped() {
        let trace = Trace::start([7; 16]);
        assert!(trace.finish(span(1, None, 0)).is_some());
        trace.add(span(2, Some(1), 1));
        assert!(trace.finish(span(1, None, 0)).is_none());
        assert!(trace.lock().spans.is_empty());
    }

    #[test]
    fn the_clock_never_runs_backwards_within_a_trace() {
        let trace = Trace::start([7; 16]);
        let first = trace.now();
        assert!(trace.now() >= first);
        assert!(first > 1_600_000_000_000_000_000);
    }
}
