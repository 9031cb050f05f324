//! Sending traces to an OTLP/HTTP collector on the LAN.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use airlock_telemetry::{OtlpFileLayer, TelemetryError, TraceConfig};
use common::{dispatch, lines, REQUEST_ID};
use serde_json::Value;

/// A request as the collector received it.
struct Captured {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Accepts one connection, reads one request, answers 200.
fn collector() -> (String, mpsc::Receiver<Captured>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
        }
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .unwrap()
            .1
            .parse()
            .unwrap();
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        reader
            .get_mut()
            .write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
            )
            .unwrap();
        tx.send(Captured {
            request_line: request_line.trim_end().to_owned(),
            headers,
            body,
        })
        .unwrap();
    });
    (url, rx)
}

#[test]
fn each_trace_is_also_posted_to_the_lan_collector_as_otlp_json() {
    let (url, captured) = collector();
    let dir = tempfile::tempdir().unwrap();
    let mut config = TraceConfig::new(dir.path());
    config.endpoint = Some(url);
    let (dispatch, guard) = dispatch(config);
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info_span!("request", trace_id = REQUEST_ID)
            .in_scope(|| tracing::info_span!("plan").in_scope(|| {}));
    });
    guard.flush().unwrap();

    let request = captured
        .recv_timeout(Duration::from_secs(10))
        .expect("the collector got a request");
    assert_eq!(request.request_line, "POST /v1/traces HTTP/1.1");
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(header("content-type"), Some("application/json"));
    assert!(header("host").is_some_and(|h| h.starts_with("127.0.0.1:")));
    let sent: Value = serde_json::from_slice(&request.body).expect("the body is JSON");
    let written: Value = serde_json::from_str(&lines(dir.path())[0]).unwrap();
    assert_eq!(
        sent, written,
        "the collector gets exactly the line in the file"
    );
    let stats = guard.stats();
    assert_eq!(
        (
            stats.traces_written,
            stats.traces_exported,
            stats.export_failures
        ),
        (1, 1, 0)
    );
}

#[test]
fn an_unreachable_collector_costs_nothing_but_a_counted_failure() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let mut config = TraceConfig::new(dir.path());
    config.endpoint = Some(format!("http://127.0.0.1:{port}"));
    let (dispatch, guard) = dispatch(config);
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info_span!("request").in_scope(|| {});
    });
    guard.flush().unwrap();
    assert_eq!(
        lines(dir.path()).len(),
        1,
        "the file is written all the same"
    );
    let stats = guard.stats();
    assert_eq!((stats.traces_exported, stats.export_failures), (0, 1));
}

#[test]
fn an_https_collector_is_refused_at_construction_with_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = TraceConfig::new(dir.path().join("traces"));
    config.endpoint = Some("https://collector.plant:4318".into());
    let err = OtlpFileLayer::new(config).unwrap_err();
    assert!(matches!(err, TelemetryError::TlsNotSupported(_)), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("TLS is not supported for the collector"),
        "{message}"
    );
    assert!(
        message.contains("same LAN segment") && message.contains("local relay"),
        "{message}"
    );
    assert!(
        !dir.path().join("traces").exists(),
        "nothing is set up for a refused setting"
    );
}
