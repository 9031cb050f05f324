//! Helpers shared by the integration tests.

#![allow(dead_code)] // each test crate uses some of them

use std::fs;
use std::path::{Path, PathBuf};

use airlock_telemetry::{OtlpFileLayer, TraceConfig, TraceGuard};
use serde_json::Value;
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

/// A request id as the agent writes it.
pub const REQUEST_ID: &str = "3f2b8c1e-9d4a-4e5f-8a7b-6c5d4e3f2a1b";
/// Its OTLP trace id.
pub const REQUEST_HEX: &str = "3f2b8c1e9d4a4e5f8a7b6c5d4e3f2a1b";

/// A registry with the layer built from `config`, and the layer's guard.
pub fn dispatch(config: TraceConfig) -> (Dispatch, TraceGuard) {
    let (layer, guard) = OtlpFileLayer::new(config).expect("the layer starts");
    (
        Dispatch::new(tracing_subscriber::registry().with(layer)),
        guard,
    )
}

/// The trace files of `dir`, oldest first.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Every line of every trace file, oldest first.
pub fn lines(dir: &Path) -> Vec<String> {
    files(dir)
        .iter()
        .flat_map(|path| {
            let text = fs::read_to_string(path).unwrap();
            text.lines().map(str::to_owned).collect::<Vec<_>>()
        })
        .collect()
}

/// The spans of one OTLP/JSON line.
pub fn spans(line: &Value) -> &Vec<Value> {
    line["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array()
        .expect("spans")
}

/// The span named `name`.
pub fn span<'a>(line: &'a Value, name: &str) -> &'a Value {
    spans(line)
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no span {name} in {line}"))
}

/// The value object of attribute `key` of a span or event.
pub fn attribute<'a>(item: &'a Value, key: &str) -> &'a Value {
    item["attributes"]
        .as_array()
        .and_then(|attrs| attrs.iter().find(|a| a["key"] == key))
        .map(|a| &a["value"])
        .unwrap_or_else(|| panic!("no attribute {key} in {item}"))
}

/// A nanosecond timestamp field (written as text).
pub fn nanos(item: &Value, field: &str) -> u64 {
    item[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is not text in {item}"))
        .parse()
        .unwrap()
}
