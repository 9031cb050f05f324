//! Trace files on disk: rotation, and reading traces back.

mod common;

use std::fs::OpenOptions;
use std::io::Write;

use airlock_telemetry::{
    find_trace, list_traces, render, AttributeValue, SpanStatus, TelemetryError, TraceConfig,
};
use common::{dispatch, files, lines, REQUEST_HEX, REQUEST_ID};
use serde_json::Value;
use tracing::field;

/// Ids of the form the agent uses, one per `n`.
fn request_id(n: u32) -> String {
    format!("{n:08x}-9d4a-4e5f-8a7b-6c5d4e3f2a1b")
}

#[test]
fn files_rotate_by_size_and_only_the_newest_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = TraceConfig::new(dir.path());
    config.max_file_bytes = 2_000;
    config.max_files = 3;
    let (dispatch, guard) = dispatch(config);
    tracing::dispatcher::with_default(&dispatch, || {
        for n in 0..40_u32 {
            let id = request_id(n);
            tracing::info_span!("request", trace_id = id.as_str(), n).in_scope(|| {
                tracing::info_span!("plan", note = "x".repeat(200).as_str()).in_scope(|| {});
            });
        }
    });
    guard.flush().unwrap();

    let files = files(dir.path());
    assert_eq!(files.len(), 3, "{files:?}");
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with("traces-") && name.ends_with(".jsonl"),
            "{name}"
        );
        let len = std::fs::metadata(path).unwrap().len();
        assert!(len <= 2_000, "{name} has {len} bytes");
    }
    let kept: Vec<i64> = lines(dir.path())
        .iter()
        .map(|line| {
            let trace: Value = serde_json::from_str(line).expect("every line is whole JSON");
            let root = common::span(&trace, "request");
            common::attribute(root, "n")["intValue"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(kept.len() >= 3 && kept.len() < 40, "{kept:?}");
    let first = kept[0];
    assert_eq!(
        kept,
        (first..40).collect::<Vec<_>>(),
        "the newest traces, in order"
    );
    assert!(
        find_trace(dir.path(), &request_id(0)).unwrap().is_none(),
        "the oldest are gone"
    );
    assert!(find_trace(dir.path(), &request_id(39)).unwrap().is_some());
}

#[test]
fn a_line_cut_short_by_a_kill_is_skipped_and_the_other_traces_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let (dispatch, guard) = dispatch(TraceConfig::new(dir.path()));
    tracing::dispatcher::with_default(&dispatch, || {
        for n in 0..3 {
            let id = request_id(n);
            tracing::info_span!("request", trace_id = id.as_str()).in_scope(|| {});
        }
    });
    guard.flush().unwrap();
    let newest = files(dir.path()).pop().unwrap();
    let whole = lines(dir.path())[2].replace(
        &request_id(2).replace('-', ""),
        &request_id(3).replace('-', ""),
    );
    let mut file = OpenOptions::new().append(true).open(&newest).unwrap();
    file.write_all(&whole.as_bytes()[..whole.len() / 2])
        .unwrap();
    drop(file);

    let list = list_traces(dir.path(), 10).unwrap();
    assert_eq!(list.unreadable_lines, 1);
    let ids: Vec<&str> = list.traces.iter().map(|t| t.trace_id.as_str()).collect();
    let expected: Vec<String> = (0..3).rev().map(request_id).collect();
    assert_eq!(ids, expected, "newest first");
    for n in 0..3 {
        assert!(
            find_trace(dir.path(), &request_id(n)).unwrap().is_some(),
            "trace {n}"
        );
    }
    assert!(find_trace(dir.path(), &request_id(3)).unwrap().is_none());
}

#[test]
fn a_trace_is_found_by_its_request_id_with_or_without_dashes_and_drawn_as_a_tree() {
    let dir = tempfile::tempdir().unwrap();
    let (dispatch, guard) = dispatch(TraceConfig::new(dir.path()));
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info_span!("request", trace_id = REQUEST_ID, mode = "plan").in_scope(|| {
            tracing::info_span!("injection_screen").in_scope(|| {});
            tracing::info_span!("llm.generate", prompt_tokens = 512, tokens_per_s = 44.1).in_scope(
                || {
                    tracing::info!("first token");
                    tracing::info_span!("sample", text = "two words").in_scope(|| {});
                },
            );
            tracing::info_span!("answer", error = field::Empty).in_scope(|| {
                tracing::Span::current().record("error", "model worker exited");
            });
        });
        tracing::info_span!("request").in_scope(|| {});
    });
    guard.flush().unwrap();

    let tree = find_trace(dir.path(), REQUEST_ID)
        .unwrap()
        .expect("found with dashes");
    assert_eq!(
        find_trace(dir.path(), REQUEST_HEX).unwrap().as_ref(),
        Some(&tree)
    );
    assert_eq!(
        find_trace(dir.path(), &REQUEST_ID.to_uppercase())
            .unwrap()
            .as_ref(),
        Some(&tree)
    );
    assert_eq!(tree.trace_id, REQUEST_ID);
    assert_eq!(tree.span_count, 5);
    let names: Vec<&str> = tree.root.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["injection_screen", "llm.generate", "answer"]);
    let generate = &tree.root.children[1];
    assert_eq!(generate.children[0].name, "sample");
    assert_eq!(generate.events[0].name, "first token");
    assert!(generate
        .attributes
        .contains(&("prompt_tokens".into(), AttributeValue::Int(512))));
    assert!(generate.start_ms >= tree.root.children[0].start_ms);
    assert!(generate.duration_ms <= tree.root.duration_ms);
    assert_eq!(
        tree.root.children[2].status,
        SpanStatus::Error {
            message: "model worker exited".into()
        }
    );

    let text = render(&tree);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("request  "), "{text}");
    assert!(
        lines[0].contains(&format!("trace {REQUEST_ID}")) && lines[0].contains("mode=plan"),
        "{text}"
    );
    assert!(!lines[0].contains("trace_id="), "{text}");
    assert!(lines[1].starts_with("├─ injection_screen  +"), "{text}");
    assert!(
        lines[2].starts_with("├─ llm.generate  +")
            && lines[2].ends_with("prompt_tokens=512 tokens_per_s=44.1"),
        "{text}"
    );
    assert!(
        lines[3].starts_with("│  ├─ • INFO first token  +"),
        "{text}"
    );
    assert!(
        lines[4].starts_with("│  └─ sample  +") && lines[4].ends_with("text=\"two words\""),
        "{text}"
    );
    assert!(
        lines[5].starts_with("└─ answer ✗  +")
            && lines[5].ends_with("error=\"model worker exited\""),
        "{text}"
    );
    assert_eq!(lines.len(), 6, "{text}");

    let json = serde_json::to_value(&tree).unwrap();
    assert_eq!(
        json["root"]["children"][1]["attributes"]["prompt_tokens"],
        512
    );
    assert_eq!(json["root"]["children"][2]["status"]["code"], "error");
}

#[test]
fn a_listing_gives_the_newest_traces_first_up_to_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (dispatch, guard) = dispatch(TraceConfig::new(dir.path()));
    tracing::dispatcher::with_default(&dispatch, || {
        for n in 0..5 {
            let id = request_id(n);
            tracing::info_span!("request", trace_id = id.as_str())
                .in_scope(|| tracing::info_span!("plan").in_scope(|| {}));
        }
    });
    guard.flush().unwrap();
    let list = list_traces(dir.path(), 2).unwrap();
    assert_eq!(list.unreadable_lines, 0);
    assert_eq!(list.traces.len(), 2);
    assert_eq!(list.traces[0].trace_id, request_id(4));
    assert_eq!(list.traces[1].trace_id, request_id(3));
    let newest = &list.traces[0];
    assert_eq!(
        (newest.root_name.as_str(), newest.span_count),
        ("request", 2)
    );
    assert!(
        newest.started_at.ends_with('Z') && newest.started_at.starts_with("20"),
        "{}",
        newest.started_at
    );
    assert!(newest.start_unix_nano >= list.traces[1].start_unix_nano);
}

#[test]
fn reading_a_missing_directory_finds_nothing_and_a_bad_id_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("never-created");
    assert!(find_trace(&missing, REQUEST_ID).unwrap().is_none());
    assert!(list_traces(&missing, 10).unwrap().traces.is_empty());
    let err = find_trace(dir.path(), "req-42").unwrap_err();
    assert!(matches!(err, TelemetryError::BadTraceId(_)));
    assert!(err.to_string().contains("with or without dashes"), "{err}");
}
