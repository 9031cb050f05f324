//! A trace drawn as an indented tree, for `airlock trace show`.

use std::fmt::Write;

use crate::fields::{ERROR_FIELD, TRACE_ID_FIELD};
use crate::ids::{dashed, hex, parse_trace_id};
use crate::scrub::cap;
use crate::tree::{AttributeValue, SpanStatus, TraceTree, TreeEvent, TreeSpan};

/// The longest attribute value shown, in characters.
const SHOWN_VALUE_CHARS: usize = 80;

/// The trace as text, one line per span and event:
///
/// ```text
/// request  1234.5 ms  trace 3f2b8c1e-9d4a-4e5f-8a7b-6c5d4e3f2a1b  mode=plan
/// ├─ injection_screen  +0.1 ms  0.3 ms
/// ├─ llm.generate  +2.0 ms  900.1 ms  prompt_tokens=512 tokens_per_s=44.1
/// │  └─ • INFO first token  +120.0 ms
/// └─ answer ✗  +1000.0 ms  3.0 ms  error="tool failed"
/// ```
///
/// Under each span its child spans and events are listed by time; a failed span is marked
/// `✗`; attributes are `key=value`, text quoted when it holds spaces or quotes and cut at 80
/// characters.
#[must_use]
pub fn render(tree: &TraceTree) -> String {
    let root = &tree.root;
    let mut out = format!(
        "{}{}  {:.1} ms  trace {}",
        root.name,
        mark(root),
        root.duration_ms,
        tree.trace_id
    );
    let own_id = parse_trace_id(&tree.trace_id).map(|id| dashed(&hex(&id)));
    let shown = root.attributes.iter().filter(|(key, value)| {
        let is_own_id = matches!(value, AttributeValue::String(s)
            if key == TRACE_ID_FIELD && parse_trace_id(s).map(|id| dashed(&hex(&id))) == own_id);
        !is_own_id
    });
    push_attributes(&mut out, shown, &root.status);
    out.push('\n');
    children(&mut out, root, "");
    out
}

/// A child span or an event, listed under their span by time.
enum Item<'a> {
    Span(&'a TreeSpan),
    Event(&'a TreeEvent),
}

fn children(out: &mut String, span: &TreeSpan, prefix: &str) {
    let mut items: Vec<(f64, Item<'_>)> = span
        .children
        .iter()
        .map(|child| (child.start_ms, Item::Span(child)))
        .chain(
            span.events
                .iter()
                .map(|event| (event.at_ms, Item::Event(event))),
        )
        .collect();
    items.sort_by(|a, b| a.0.total_cmp(&b.0));
    let count = items.len();
    for (i, (_, item)) in items.into_iter().enumerate() {
        let last = i + 1 == count;
        out.push_str(prefix);
        out.push_str(if last { "└─ " } else { "├─ " });
        match item {
            Item::Span(child) => {
                let _ = write!(
                    out,
                    "{}{}  +{:.1} ms  {:.1} ms",
                    child.name,
                    mark(child),
                    child.start_ms,
                    child.duration_ms
                );
                push_attributes(out, child.attributes.iter(), &child.status);
                out.push('\n');
                let deeper = format!("{prefix}{}", if last { "   " } else { "│  " });
                children(out, child, &deeper);
            }
            Item::Event(event) => {
                let level = event
                    .attributes
                    .iter()
                    .find_map(|(key, value)| match value {
                        AttributeValue::String(level) if key == "level" => Some(level.as_str()),
                        _ => None,
                    });
                out.push_str("• ");
                if let Some(level) = level {
                    let _ = write!(out, "{level} ");
                }
                let _ = write!(out, "{}  +{:.1} ms", message(&event.name), event.at_ms);
                let rest = event.attributes.iter().filter(|(key, _)| key != "level");
                push_attributes(out, rest, &SpanStatus::Unset);
                out.push('\n');
            }
        }
    }
}

fn mark(span: &TreeSpan) -> &'static str {
    match span.status {
        SpanStatus::Error { .. } => " ✗",
        SpanStatus::Unset => "",
    }
}

/// `  key=value key=value`, plus the status message when no `error` attribute shows it.
fn push_attributes<'a>(
    out: &mut String,
    attributes: impl Iterator<Item = &'a (String, AttributeValue)>,
    status: &SpanStatus,
) {
    let mut first = true;
    let mut error_shown = false;
    let mut sep = |out: &mut String| {
        out.push_str(if first { "  " } else { " " });
        first = false;
    };
    for (key, value) in attributes {
        error_shown |= key == ERROR_FIELD;
        sep(out);
        let _ = write!(out, "{}={}", quote(key), shown(value));
    }
    if let (SpanStatus::Error { message }, false) = (status, error_shown) {
        sep(out);
        let _ = write!(out, "error={}", quote(message));
    }
}

fn shown(value: &AttributeValue) -> String {
    match value {
        AttributeValue::String(s) => quote(s),
        AttributeValue::Int(n) => n.to_string(),
        AttributeValue::Double(x) => x.to_string(),
        AttributeValue::Bool(b) => b.to_string(),
    }
}

/// `text` cut to 80 characters, in quotes (with escapes) when it would otherwise be
/// ambiguous: empty, or holding spaces, control characters, quotes, backslashes or `=`.
fn quote(text: &str) -> String {
    let text = cap(text.to_owned(), SHOWN_VALUE_CHARS);
    let plain = !text.is_empty()
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\' || c == '=');
    if plain {
        text
    } else {
        format!("{text:?}")
    }
}

/// An event's message as it is, unless a control character (a line break) would break the
/// tree: then quoted with escapes.
fn message(text: &str) -> String {
    if text.chars().any(char::is_control) {
        format!("{text:?}")
    } else {
        text.to_owned()
    }
}
