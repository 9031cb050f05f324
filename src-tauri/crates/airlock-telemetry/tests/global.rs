//! The layer under the process-wide subscriber, as the app installs it. `tracing` guards a
//! scoped subscriber against re-entry, but not the global one: this file holds one test so
//! the global subscriber is the only one.

mod common;

use std::sync::Arc;

use airlock_telemetry::{OtlpFileLayer, TraceConfig};
use common::{attribute, lines, span};
use serde_json::{json, Value};
use tracing_subscriber::prelude::*;

#[test]
fn a_scrubber_that_logs_does_not_loop_back_into_the_layer() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = TraceConfig::new(dir.path());
    config.scrubber = Some(Arc::new(|key: &str, value: String| {
        tracing::info!(key, "scrubbing");
        value.replace("secret-ish", "[gone]")
    }));
    let (layer, guard) = OtlpFileLayer::new(config).unwrap();
    tracing_subscriber::registry().with(layer).init();

    tracing::info_span!("request", note = "secret-ish").in_scope(|| {
        tracing::info!(detail = "secret-ish", "inside");
    });
    guard.flush().unwrap();

    let trace: Value = serde_json::from_str(&lines(dir.path())[0]).unwrap();
    let root = span(&trace, "request");
    assert_eq!(attribute(root, "note"), &json!({"stringValue": "[gone]"}));
    let events = root["events"].as_array().unwrap();
    assert_eq!(
        events.len(),
        1,
        "the scrubber's own events are not recorded: {events:?}"
    );
    assert_eq!(
        attribute(&events[0], "detail"),
        &json!({"stringValue": "[gone]"})
    );
}
