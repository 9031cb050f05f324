//! The layer under a real `tracing` subscriber: what lands in the trace file.

mod common;

use std::sync::Arc;

use airlock_telemetry::{Scrubber, TraceConfig, WITHHELD};
use common::{attribute, dispatch, lines, nanos, span, spans, REQUEST_HEX, REQUEST_ID};
use serde_json::{json, Value};
use tracing::field;

#[test]
fn a_trace_is_written_once_its_root_span_closes() {
    let dir = tempfile::tempdir().unwrap();
    let (dispatch, guard) = dispatch(TraceConfig::new(dir.path()));
    tracing::dispatcher::with_default(&dispatch, || {
        let root = tracing::info_span!("request", trace_id = REQUEST_ID, mode = "plan");
        let _in_root = root.enter();
        {
            let generate = tracing::info_span!(
                "llm.generate",
                prompt_tokens = 512_u64,
                model = "qwen2.5-3b",
                temperature = 0.25,
                cached = false,
                offset = -3_i64,
                completion_tokens = field::Empty,
            );
            let _in_generate = generate.enter();
            tracing::info!(chunk = 3, "first token");
            generate.record("completion_tokens", 40);
        }
        tracing::info_span!("tool", name = "get_logs", error = field::Empty).in_scope(|| {
            tracing::Span::current().record("error", "connection refused");
        });
        guard.flush().unwrap();
        assert!(
            lines(dir.path()).is_empty(),
            "written before the root closed"
        );
    });
    guard.flush().unwrap();

    let lines = lines(dir.path());
    assert_eq!(lines.len(), 1);
    let trace: Value = serde_json::from_str(&lines[0]).unwrap();
    let resource = &trace["resourceSpans"][0]["resource"]["attributes"];
    assert_eq!(
        resource[0],
        json!({"key": "service.name", "value": {"stringValue": "airlock"}})
    );
    assert_eq!(resource[1]["key"], "service.version");
    assert_eq!(
        trace["resourceSpans"][0]["scopeSpans"][0]["scope"]["name"],
        "airlock"
    );
    assert_eq!(spans(&trace).len(), 3);

    let root = span(&trace, "request");
    let generate = span(&trace, "llm.generate");
    let tool = span(&trace, "tool");
    for s in [root, generate, tool] {
        assert_eq!(s["traceId"], REQUEST_HEX);
        assert_eq!(s["kind"], 1);
        let id = s["spanId"].as_str().unwrap();
        assert!(
            id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{id}"
        );
        assert!(nanos(s, "startTimeUnixNano") <= nanos(s, "endTimeUnixNano"));
    }
    assert!(root.get("parentSpanId").is_none());
    for child in [generate, tool] {
        assert_eq!(child["parentSpanId"], root["spanId"]);
        assert!(nanos(child, "startTimeUnixNano") >= nanos(root, "startTimeUnixNano"));
        assert!(nanos(child, "endTimeUnixNano") <= nanos(root, "endTimeUnixNano"));
    }
    assert!(nanos(generate, "endTimeUnixNano") <= nanos(tool, "startTimeUnixNano"));

    assert_eq!(attribute(root, "mode"), &json!({"stringValue": "plan"}));
    assert_eq!(
        attribute(generate, "prompt_tokens"),
        &json!({"intValue": "512"})
    );
    assert_eq!(
        attribute(generate, "model"),
        &json!({"stringValue": "qwen2.5-3b"})
    );
    assert_eq!(
        attribute(generate, "temperature"),
        &json!({"doubleValue": 0.25})
    );
    assert_eq!(attribute(generate, "cached"), &json!({"boolValue": false}));
    assert_eq!(attribute(generate, "offset"), &json!({"intValue": "-3"}));
    assert_eq!(
        attribute(generate, "completion_tokens"),
        &json!({"intValue": "40"})
    );

    let events = generate["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["name"], "first token");
    assert_eq!(attribute(&events[0], "chunk"), &json!({"intValue": "3"}));
    assert_eq!(
        attribute(&events[0], "level"),
        &json!({"stringValue": "INFO"})
    );
    let at = nanos(&events[0], "timeUnixNano");
    assert!(nanos(generate, "startTimeUnixNano") <= at && at <= nanos(generate, "endTimeUnixNano"));

    assert_eq!(
        tool["status"],
        json!({"code": 2, "message": "connection refused"})
    );
    assert_eq!(generate["status"], json!({}));
    assert_eq!(root["status"], json!({}));
}

#[test]
fn every_root_span_is_its_own_trace_with_a_random_id_unless_given_one() {
    let dir = tempfile::tempdir().unwrap();
    let (dispatch, guard) = dispatch(TraceConfig::new(dir.path()));
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info_span!("request").in_scope(|| tracing::info_span!("plan").in_scope(|| {}));
        tracing::info_span!("request").in_scope(|| {});
        tracing::info_span!("request", trace_id = "not-a-uuid").in_scope(|| {});
    });
    guard.flush().unwrap();
    let traces: Vec<Value> = lines(dir.path())
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(traces.len(), 3);
    let ids: Vec<&str> = traces
        .iter()
        .map(|t| spans(t)[0]["traceId"].as_str().unwrap())
        .collect();
    for id in &ids {
        assert!(
            id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) && *id != "0".repeat(32)
        );
    }
    assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
    assert_eq!(
        spans(&traces[0])[1]["traceId"],
        ids[0],
        "a child shares its root's trace id"
    );
    assert_eq!(
        attribute(span(&traces[2], "request"), "trace_id"),
        &json!({"stringValue": "not-a-uuid"})
    );
}

#[test]
fn a_trace_id_recorded_on_the_root_later_applies_to_the_whole_trace() {
    let dir = tempfile::tempdir().unwrap();
    let (dispatch, guard) = dispatch(TraceConfig::new(dir.path()));
    tracing::dispatcher::with_default(&dispatch, || {
        let root = tracing::info_span!("request", trace_id = field::Empty);
        root.in_scope(|| tracing::info_span!("admit").in_scope(|| {}));
        root.record("trace_id", REQUEST_ID);
    });
    guard.flush().unwrap();
    let trace: Value = serde_json::from_str(&lines(dir.path())[0]).unwrap();
    assert!(
        spans(&trace).iter().all(|s| s["traceId"] == REQUEST_HEX),
        "{trace}"
    );
}

#[test]
fn a_span_keeps_at_most_32_events_and_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (dispatch, guard) = dispatch(TraceConfig::new(dir.path()));
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info_span!("request").in_scope(|| {
            for i in 0..40 {
                tracing::debug!(i, "step");
            }
        });
        tracing::info!("outside any span");
    });
    guard.flush().unwrap();
    let lines = lines(dir.path());
    assert_eq!(lines.len(), 1, "an event outside a span starts no trace");
    let trace: Value = serde_json::from_str(&lines[0]).unwrap();
    let root = span(&trace, "request");
    assert_eq!(root["events"].as_array().unwrap().len(), 32);
    assert_eq!(
        attribute(&root["events"][31], "i"),
        &json!({"intValue": "31"})
    );
    assert_eq!(root["droppedEventsCount"], 8);
}

/// Replaces every word holding an `@` (an e-mail address, for the test).
fn email_scrubber() -> Scrubber {
    Arc::new(|_key, value: String| {
        value
            .split(' ')
            .map(|word| if word.contains('@') { "[email]" } else { word })
            .collect::<Vec<_>>()
            .join(" ")
    })
}

#[test]
fn secrets_and_what_the_scrubber_removes_appear_nowhere_in_the_file() {
    #[derive(Debug)]
    #[allow(dead_code)] // read through Debug
    struct Operator {
        email: &'static str,
    }
    let dir = tempfile::tempdir().unwrap();
    let mut config = TraceConfig::new(dir.path());
    config.scrubber = Some(email_scrubber());
    let (dispatch, guard) = dispatch(config);
    tracing::dispatcher::with_default(&dispatch, || {
        let root = tracing::info_span!(
            "request",
            api_key = "sk-live-0123456789",
            operator = ?Operator { email: "jane.doe@plant.example" },
            prompt_tokens = 512,
            tokenizer = "bpe",
            password = field::Empty,
        );
        root.record("password", "hunter2-plant");
        root.in_scope(|| {
            tracing::info!(sapToken = %"Bearer abc.def.ghi", "mail sent to jane.doe@plant.example");
        });
    });
    guard.flush().unwrap();
    let bytes = std::fs::read(&common::files(dir.path())[0]).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    for raw in [
        "sk-live-0123456789",
        "jane.doe@plant.example",
        "hunter2-plant",
        "abc.def.ghi",
    ] {
        assert!(!text.contains(raw), "{raw} is in the file: {text}");
    }
    let trace: Value = serde_json::from_str(text.trim_end()).unwrap();
    let root = span(&trace, "request");
    assert_eq!(
        attribute(root, "api_key"),
        &json!({"stringValue": WITHHELD})
    );
    assert_eq!(
        attribute(root, "password"),
        &json!({"stringValue": WITHHELD})
    );
    assert_eq!(
        attribute(root, "prompt_tokens"),
        &json!({"intValue": "512"})
    );
    assert_eq!(attribute(root, "tokenizer"), &json!({"stringValue": "bpe"}));
    assert!(attribute(root, "operator")["stringValue"]
        .as_str()
        .unwrap()
        .contains("[email]"));
    assert_eq!(root["events"][0]["name"], "mail sent to [email]");
    assert_eq!(
        attribute(&root["events"][0], "sapToken"),
        &json!({"stringValue": WITHHELD})
    );
}

#[test]
fn long_attribute_text_is_cut_at_4096_characters() {
    let dir = tempfile::tempdir().unwrap();
    let (dispatch, guard) = dispatch(TraceConfig::new(dir.path()));
    let long = "x".repeat(10_000);
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info_span!("request", answer = long.as_str()).in_scope(|| {});
    });
    guard.flush().unwrap();
    let trace: Value = serde_json::from_str(&lines(dir.path())[0]).unwrap();
    let kept = attribute(span(&trace, "request"), "answer")["stringValue"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(kept.chars().count(), 4096);
    assert!(kept.ends_with('…'));
}

#[test]
fn dropping_the_guard_leaves_every_finished_trace_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (dispatch, guard) = dispatch(TraceConfig::new(dir.path()));
    tracing::dispatcher::with_default(&dispatch, || {
        for _ in 0..50 {
            tracing::info_span!("request").in_scope(|| tracing::info_span!("plan").in_scope(|| {}));
        }
    });
    drop(guard);
    assert_eq!(lines(dir.path()).len(), 50);
    drop(dispatch);
}
