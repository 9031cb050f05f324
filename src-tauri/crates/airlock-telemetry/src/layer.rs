//! The `tracing` layer that assembles spans into traces and hands each finished trace to the
//! writer thread.

use std::cell::Cell;
use std::sync::mpsc::SyncSender;
use std::sync::Arc;

use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::config::TraceConfig;
use crate::error::TelemetryError;
use crate::export::{self, Endpoint};
use crate::fields::{error_message, upsert, Fields, ERROR_FIELD, MESSAGE_FIELD};
use crate::files::{self, TraceFiles};
use crate::ids::{new_span_id, new_trace_id, SpanId};
use crate::otlp::{self, AnyValue, KeyValue};
use crate::scrub::Scrubber;
use crate::stats::Counters;
use crate::trace::{SpanRecord, Trace};
use crate::writer::{self, TraceGuard, Writer, WriterMsg};

/// The most events one span keeps; later ones are counted in `droppedEventsCount`.
pub(crate) const MAX_EVENTS_PER_SPAN: usize = 32;

/// A `tracing` layer writing each trace as one OTLP/JSON line once its root span closes.
///
/// - A span without a parent is a trace's root. Its `trace_id` field (a UUID, the request
///   id; recorded at creation or later with `Span::record`) gives the trace id, its 32 hex
///   digits; without one the trace id is random. Spans under it share that id.
/// - Each span's fields, at creation and recorded later, become its attributes (text
///   scrubbed, see [`TraceConfig::scrubber`]); a field named `error` (other than `false`)
///   marks the span failed, its value the status message. Events inside a span become the
///   span's events (the message their name, at most 32 per span).
/// - The trace is held in memory until the root closes (at most 10,000 spans; the number
///   dropped beyond that is the root's `airlock.dropped_spans` attribute). The registry keeps
///   a parent open while a child is, so a span kept alive elsewhere delays the whole trace;
///   anything recorded after the root closed is dropped.
/// - Files are written by a background thread (see [`TraceConfig`] for names and rotation);
///   keep the [`TraceGuard`] until the process ends.
pub struct OtlpFileLayer {
    scrubber: Option<Scrubber>,
    writer: SyncSender<WriterMsg>,
    counters: Arc<Counters>,
}

impl OtlpFileLayer {
    /// Creates the trace directory, starts the writer thread (and the exporter thread when
    /// an endpoint is set) and returns the layer with its guard.
    ///
    /// # Errors
    /// Invalid settings, an `https://` or malformed endpoint, a directory that cannot be
    /// created, or a thread that cannot be started.
    pub fn new(config: TraceConfig) -> Result<(Self, TraceGuard), TelemetryError> {
        config.check()?;
        let endpoint = config
            .endpoint
            .as_deref()
            .map(Endpoint::parse)
            .transpose()?;
        files::create_dir(&config.dir)?;
        let counters = Arc::new(Counters::default());
        let exporter = endpoint
            .map(|endpoint| export::spawn(endpoint, Arc::clone(&counters)))
            .transpose()?;
        let writer = writer::spawn(Writer {
            files: TraceFiles::new(config.dir, config.max_file_bytes, config.max_files),
            service_version: config.service_version,
            exporter: exporter.clone(),
            counters: Arc::clone(&counters),
        })?;
        let guard = TraceGuard::new(writer.clone(), exporter, Arc::clone(&counters));
        let layer = Self {
            scrubber: config.scrubber,
            writer,
            counters,
        };
        Ok((layer, guard))
    }
}

impl std::fmt::Debug for OtlpFileLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpFileLayer").finish_non_exhaustive()
    }
}

/// A span that has not closed yet, kept in the registry's extensions.
struct OpenSpan {
    trace: Arc<Trace>,
    span_id: SpanId,
    parent: Option<SpanId>,
    start: u64,
    attributes: Vec<KeyValue>,
    events: Vec<otlp::Event>,
    dropped_events: u32,
}

impl<S> Layer<S> for OtlpFileLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(_inside) = Inside::enter() else {
            return;
        };
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut fields = Fields::new(self.scrubber.as_ref());
        attrs.record(&mut fields);
        let parent = span.parent().and_then(|parent| {
            let extensions = parent.extensions();
            let open = extensions.get::<OpenSpan>()?;
            Some((Arc::clone(&open.trace), open.span_id))
        });
        let (trace, parent) = match parent {
            Some((trace, parent_id)) => (trace, Some(parent_id)),
            None => {
                let trace_id = fields.trace_id.unwrap_or_else(new_trace_id);
                (Arc::new(Trace::start(trace_id)), None)
            }
        };
        let start = trace.now();
        span.extensions_mut().insert(OpenSpan {
            trace,
            span_id: new_span_id(),
            parent,
            start,
            attributes: fields.values,
            events: Vec::new(),
            dropped_events: 0,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(_inside) = Inside::enter() else {
            return;
        };
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut fields = Fields::new(self.scrubber.as_ref());
        values.record(&mut fields);
        let mut extensions = span.extensions_mut();
        let Some(open) = extensions.get_mut::<OpenSpan>() else {
            return;
        };
        if let (None, Some(trace_id)) = (open.parent, fields.trace_id) {
            open.trace.set_id(trace_id);
        }
        for kv in fields.values {
            upsert(&mut open.attributes, kv);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(_inside) = Inside::enter() else {
            return;
        };
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        // Count an event past the limit without formatting its fields.
        let time = {
            let mut extensions = span.extensions_mut();
            let Some(open) = extensions.get_mut::<OpenSpan>() else {
                return;
            };
            if open.events.len() >= MAX_EVENTS_PER_SPAN {
                open.dropped_events = open.dropped_events.saturating_add(1);
                return;
            }
            open.trace.now()
        };
        // The scrubber runs with no lock held.
        let mut fields = Fields::new(self.scrubber.as_ref());
        event.record(&mut fields);
        let mut name = event.metadata().name().to_owned();
        let mut attributes = vec![KeyValue {
            key: "level".to_owned(),
            value: AnyValue::String(event.metadata().level().as_str().to_owned()),
        }];
        for kv in fields.values {
            match kv.value {
                AnyValue::String(message) if kv.key == MESSAGE_FIELD => name = message,
                _ => upsert(&mut attributes, kv),
            }
        }
        let mut extensions = span.extensions_mut();
        if let Some(open) = extensions.get_mut::<OpenSpan>() {
            open.events.push(otlp::Event {
                time_unix_nano: time,
                name,
                attributes,
            });
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let Some(open) = span.extensions_mut().remove::<OpenSpan>() else {
            return;
        };
        let error = open
            .attributes
            .iter()
            .find(|kv| kv.key == ERROR_FIELD)
            .and_then(|kv| error_message(&kv.value));
        let record = SpanRecord {
            span_id: open.span_id,
            parent: open.parent,
            name: span.name(),
            start: open.start,
            end: open.trace.now(),
            attributes: open.attributes,
            events: open.events,
            dropped_events: open.dropped_events,
            error,
        };
        if record.parent.is_some() {
            open.trace.add(record);
        } else if let Some(finished) = open.trace.finish(record) {
            if self.writer.try_send(WriterMsg::Trace(finished)).is_err() {
                Counters::bump(&self.counters.traces_dropped);
            }
        }
    }
}

/// Marks this thread as inside the layer: anything the scrubber logs would otherwise come
/// straight back into the layer.
struct Inside;

thread_local! {
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

impl Inside {
    /// `None` when this thread is inside the layer already (or is being torn down).
    fn enter() -> Option<Self> {
        let entered = INSIDE.try_with(|inside| !inside.replace(true)).ok()?;
        // Built only when entering: dropping it marks the thread outside again.
        if entered {
            Some(Self)
        } else {
            None
        }
    }
}

impl Drop for Inside {
    fn drop(&mut self) {
        let _ = INSIDE.try_with(|inside| inside.set(false));
    }
}
