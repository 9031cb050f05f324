//! Traces and metrics end to end, through the real `airlock` binary: a request's exported
//! trace has the expected span tree and carries no secret or personal data, and `airlock
//! metrics` is valid Prometheus text with the counts the audit log holds.

mod support;

use std::path::Path;

use serde_json::Value;
use support::{airlock, ask_json};

/// The spans of `tree` (a `trace show --json` tree) as `(depth, name, attributes)`, depth first.
fn spans(tree: &Value) -> Vec<(usize, String, Value)> {
    fn walk(span: &Value, depth: usize, out: &mut Vec<(usize, String, Value)>) {
        out.push((
            depth,
            span["name"].as_str().unwrap().to_owned(),
            span["attributes"].clone(),
        ));
        for child in span["children"].as_array().into_iter().flatten() {
            walk(child, depth + 1, out);
        }
    }
    let mut out = Vec::new();
    walk(&tree["root"], 0, &mut out);
    out
}

fn trace_tree(data: &Path, trace_id: &str) -> Value {
    let output = airlock(data)
        .args(["trace", "show", trace_id, "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Every byte of every trace file.
fn trace_bytes(data: &Path) -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(data.join("traces")).unwrap() {
        all.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    all
}

fn attribute<'a>(attributes: &'a Value, key: &str) -> Option<&'a Value> {
    attributes.get(key)
}

fn names_at(spans: &[(usize, String, Value)], depth: usize) -> Vec<&str> {
    spans
        .iter()
        .filter(|(d, _, _)| *d == depth)
        .map(|(_, name, _)| name.as_str())
        .collect()
}

#[test]
fn a_typed_call_leaves_a_trace_of_screen_governor_layers_and_tool() {
    let data = tempfile::tempdir().unwrap();
    let output = airlock(data.path())
        .args(["call", "get_system_status", "--mode", "execute", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let outcome: Value = serde_json::from_slice(&output.stdout).unwrap();
    let trace_id = outcome["audit"]["trace_id"].as_str().unwrap();
    let tree = trace_tree(data.path(), trace_id);
    let spans = spans(&tree);
    assert_eq!(spans[0].1, "request");
    assert_eq!(attribute(&spans[0].2, "kind"), Some(&Value::from("call")));
    assert_eq!(
        names_at(&spans, 1),
        ["injection_screen", "governor", "tool"],
        "{spans:#?}"
    );
    let layers: Vec<String> = spans
        .iter()
        .filter(|(_, name, _)| name == "governor.layer")
        .map(|(_, _, attributes)| attributes["layer"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        layers,
        [
            // The admission: identity and the injection screen of the request text.
            "identity",
            "injection",
            // The call: every layer in pipeline order.
            "identity",
            "allowlist",
            "authorization",
            "rate_limit",
            "parameters",
            "injection",
            "taint",
            "business_guards",
            "sequence",
            "clarification",
        ]
    );
    let governor = spans
        .iter()
        .find(|(_, name, _)| name == "governor")
        .unwrap();
    assert_eq!(governor.2["tool"], "get_system_status");
    assert_eq!(governor.2["outcome"], "allow");
    let tool = spans.iter().find(|(_, name, _)| name == "tool").unwrap();
    assert_eq!(tool.2["runner"], "connector");
    assert!(tool.2["bytes"].as_i64().unwrap() > 0, "{tool:?}");
    assert!(tool.2["duration_ms"].as_f64().is_some());
    // The principal is its audit pseudonym, never the login name.
    let principal = spans[0].2["principal"].as_str().unwrap();
    assert!(principal.starts_with("subject:"), "{principal}");

    let shown = airlock(data.path())
        .args(["trace", "show", trace_id])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.starts_with("request"), "{text}");
    assert!(text.contains("└─ tool"), "{text}");
}

#[test]
fn a_planned_request_traces_the_model_and_keeps_secrets_and_personal_data_out() {
    let data = tempfile::tempdir().unwrap();
    let secret = "hunter2-s3cr3t";
    let email = "jane.doe@example.com";
    let phone = "+44 20 7946 0958";
    let outcome = ask_json(
        data.path(),
        "plan",
        &format!(
            "I am {email}, phone {phone}, my password is {secret}: show the last 20 lines of the syslog"
        ),
    );
    let trace_id = outcome["audit"]["trace_id"].as_str().unwrap();
    let tree = trace_tree(data.path(), trace_id);
    let spans = spans(&tree);
    assert_eq!(spans[0].1, "request");
    assert_eq!(names_at(&spans, 1)[0], "injection_screen");
    let plan = spans
        .iter()
        .find(|(_, name, attributes)| name == "llm.generate" && attributes["purpose"] == "plan")
        .unwrap_or_else(|| panic!("no planning span: {spans:#?}"));
    for key in ["prompt_tokens", "completion_tokens"] {
        assert!(plan.2[key].as_i64().unwrap() > 0, "{key}: {plan:?}");
    }
    assert!(plan.2["time_to_first_token_ms"].as_f64().unwrap() > 0.0);
    assert!(plan.2["model"].as_str().unwrap().ends_with(".gguf"));
    let scorings: Vec<&str> = spans
        .iter()
        .filter(|(_, name, _)| name == "llm.score")
        .filter_map(|(_, _, attributes)| attributes["purpose"].as_str())
        .collect();
    assert!(
        scorings.contains(&"plan.next") && scorings.contains(&"plan.tools"),
        "the scored tool choice is traced: {scorings:?}"
    );
    let governed = spans
        .iter()
        .filter(|(_, name, _)| name == "governor")
        .count();
    assert_eq!(
        governed,
        outcome["plan"].as_array().unwrap().len(),
        "a governor span per planned intent"
    );

    let bytes = trace_bytes(data.path());
    for needle in [secret, email, phone, "jane.doe"] {
        assert!(!bytes.contains(needle), "the trace files hold {needle:?}");
    }
    let user = airlock_agent::os_principal();
    for (_, name, attributes) in &spans {
        for (key, value) in attributes.as_object().into_iter().flatten() {
            assert_ne!(
                value.as_str(),
                Some(user.as_str()),
                "{name}.{key} names the user"
            );
        }
    }
}

#[test]
fn metrics_are_prometheus_text_with_the_audit_logs_counts() {
    let data = tempfile::tempdir().unwrap();
    for tool in ["get_system_status", "get_system_status", "restart_service"] {
        let output = airlock(data.path())
            .args(["call", tool, "--mode", "execute", "--json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
    }
    let output = airlock(data.path()).arg("metrics").output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let scrape = prometheus_parse::Scrape::parse(lines.into_iter().map(Ok))
        .unwrap_or_else(|err| panic!("not Prometheus text ({err}):\n{text}"));
    let value = |name: &str, labels: &[(&str, &str)]| -> f64 {
        scrape
            .samples
            .iter()
            .filter(|sample| sample.metric == name)
            .filter(|sample| {
                labels
                    .iter()
                    .all(|(key, value)| sample.labels.get(key) == Some(*value))
            })
            .map(|sample| match sample.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => 0.0,
            })
            .sum()
    };
    assert_eq!(
        value(
            "airlock_requests_total",
            &[("mode", "execute"), ("kind", "call")]
        ),
        3.0,
        "{text}"
    );
    assert_eq!(
        value(
            "airlock_decisions_total",
            &[("stage", "intent"), ("outcome", "allow")]
        ),
        2.0,
        "{text}"
    );
    // restart_service without a system: the governor asks which one.
    assert_eq!(
        value(
            "airlock_decisions_total",
            &[("stage", "intent"), ("outcome", "clarify")]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(value("airlock_approvals", &[("status", "pending")]), 0.0);
    let histogram = scrape
        .samples
        .iter()
        .find(|sample| {
            sample.metric == "airlock_tool_duration_seconds"
                && sample.labels.get("tool") == Some("get_system_status")
        })
        .unwrap_or_else(|| panic!("no tool histogram:\n{text}"));
    match &histogram.value {
        prometheus_parse::Value::Histogram(buckets) => {
            let total = buckets.last().unwrap();
            assert!(total.less_than.is_infinite());
            assert_eq!(total.count, 2.0, "{text}");
        }
        other => panic!("not a histogram: {other:?}"),
    }
    assert!(value("airlock_audit_rows", &[]) > 10.0);
}
