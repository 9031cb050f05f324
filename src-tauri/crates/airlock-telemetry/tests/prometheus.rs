//! The text exposition read back by an independent parser.

use airlock_telemetry::prometheus::{render, Histogram, HistogramSample, MetricFamily, Sample};
use airlock_telemetry::TelemetryError;
use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{PrometheusType, PrometheusValue};

fn value(v: &PrometheusValue) -> f64 {
    match v {
        PrometheusValue::Counter(c) => c.value.as_f64(),
        PrometheusValue::Gauge(n) => n.as_f64(),
        other => panic!("not a counter or gauge: {other:?}"),
    }
}

#[test]
fn counters_and_gauges_read_back_with_their_values_and_help() {
    let text = render(&[
        MetricFamily::counter(
            "airlock_requests_total",
            "Requests handled.",
            vec![Sample::new(42.0)],
        ),
        MetricFamily::gauge(
            "airlock:model_loaded_bytes",
            "Bytes of the loaded model,\nwith a \\ in its help.",
            vec![Sample::new(1.5e9)],
        ),
        MetricFamily::gauge("airlock_temperature", "", vec![Sample::new(-0.25)]),
    ])
    .unwrap();
    let parsed = parse_prometheus(&text).unwrap_or_else(|e| panic!("{e:?} in\n{text}"));
    let requests = &parsed.families["airlock_requests_total"];
    assert_eq!(requests.family_type, PrometheusType::Counter);
    assert_eq!(requests.help, "Requests handled.");
    assert_eq!(value(&requests.iter_samples().next().unwrap().value), 42.0);
    let model = &parsed.families["airlock:model_loaded_bytes"];
    assert_eq!(model.family_type, PrometheusType::Gauge);
    assert_eq!(
        model.help,
        "Bytes of the loaded model,\nwith a \\ in its help."
    );
    assert_eq!(value(&model.iter_samples().next().unwrap().value), 1.5e9);
    let temperature = &parsed.families["airlock_temperature"];
    assert_eq!(
        value(&temperature.iter_samples().next().unwrap().value),
        -0.25
    );
}

#[test]
fn awkward_label_values_read_back_exactly() {
    let awkward = [
        "plain",
        "with \"quotes\"",
        "back\\slash\\",
        "two\nlines",
        "ünïcødé ✓ 日本",
        "a,b=c}{",
        "",
    ];
    let samples = awkward
        .iter()
        .enumerate()
        .map(|(i, v)| {
            Sample::new(i as f64)
                .label("tool", *v)
                .label("mode", "plan")
        })
        .collect();
    let text = render(&[MetricFamily::counter(
        "airlock_tool_calls_total",
        "Governed tool calls.",
        samples,
    )])
    .unwrap();
    let parsed = parse_prometheus(&text).unwrap_or_else(|e| panic!("{e:?} in\n{text}"));
    let family = &parsed.families["airlock_tool_calls_total"];
    let mut seen: Vec<(String, f64)> = family
        .iter_samples()
        .map(|s| {
            let labels = s.get_labelset().unwrap();
            assert_eq!(labels.get_label_value("mode"), Some("plan"));
            (
                labels.get_label_value("tool").unwrap().to_owned(),
                value(&s.value),
            )
        })
        .collect();
    seen.sort_by(|a, b| a.1.total_cmp(&b.1));
    let expected: Vec<(String, f64)> = awkward
        .iter()
        .enumerate()
        .map(|(i, v)| ((*v).to_owned(), i as f64))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn a_histogram_reads_back_with_cumulative_buckets_sum_and_count() {
    let mut plan = Histogram::new(&[0.1, 0.5, 2.5]).unwrap();
    for v in [0.05, 0.1, 0.3, 0.4, 1.0, 9.0] {
        plan.observe(v);
    }
    let mut execute = Histogram::new(&[0.1, 0.5, 2.5]).unwrap();
    execute.observe(3.0);
    let text = render(&[MetricFamily::histogram(
        "airlock_request_seconds",
        "Time to answer a request.",
        vec![
            HistogramSample::new(plan).label("mode", "plan"),
            HistogramSample::new(execute).label("mode", "execute"),
        ],
    )])
    .unwrap();
    assert!(
        text.contains("airlock_request_seconds_bucket{mode=\"plan\",le=\"+Inf\"} 6\n"),
        "{text}"
    );
    let parsed = parse_prometheus(&text).unwrap_or_else(|e| panic!("{e:?} in\n{text}"));
    let family = &parsed.families["airlock_request_seconds"];
    assert_eq!(family.family_type, PrometheusType::Histogram);
    for sample in family.iter_samples() {
        let mode = sample
            .get_labelset()
            .unwrap()
            .get_label_value("mode")
            .unwrap()
            .to_owned();
        let PrometheusValue::Histogram(h) = &sample.value else {
            panic!("not a histogram: {:?}", sample.value);
        };
        let buckets: Vec<(f64, f64)> = h
            .buckets
            .iter()
            .map(|b| (b.upper_bound, b.count.as_f64()))
            .collect();
        let (expected, sum, count) = match mode.as_str() {
            "plan" => (
                vec![(0.1, 2.0), (0.5, 4.0), (2.5, 5.0), (f64::INFINITY, 6.0)],
                10.85,
                6,
            ),
            "execute" => (
                vec![(0.1, 0.0), (0.5, 0.0), (2.5, 0.0), (f64::INFINITY, 1.0)],
                3.0,
                1,
            ),
            other => panic!("unexpected series {other}"),
        };
        assert_eq!(buckets, expected, "{mode}");
        assert!(
            (h.sum.unwrap().as_f64() - sum).abs() < 1e-9,
            "{mode}: {:?}",
            h.sum
        );
        assert_eq!(h.count, Some(count), "{mode}");
    }
}

#[test]
fn invalid_names_are_refused_with_the_rule() {
    let counter = |name: &str, label: &str| {
        render(&[MetricFamily::counter(
            name,
            "h",
            vec![Sample::new(1.0).label(label, "v")],
        )])
    };
    for name in ["1st_metric", "airlock-requests", "", "métrique"] {
        let err = counter(name, "ok").unwrap_err();
        assert!(
            matches!(err, TelemetryError::MetricName(_)),
            "{name}: {err:?}"
        );
        assert!(
            err.to_string().contains("not starting with a digit"),
            "{err}"
        );
    }
    for label in ["1st", "a:b", "tool-name", ""] {
        assert!(
            matches!(
                counter("ok_total", label),
                Err(TelemetryError::LabelName { .. })
            ),
            "{label}"
        );
    }
    let twice = Sample::new(1.0).label("a", "x").label("a", "y");
    assert!(matches!(
        render(&[MetricFamily::counter("ok_total", "h", vec![twice])]),
        Err(TelemetryError::LabelName { .. })
    ));
    let le = HistogramSample::new(Histogram::new(&[1.0]).unwrap()).label("le", "1");
    assert!(matches!(
        render(&[MetricFamily::histogram("h_seconds", "h", vec![le])]),
        Err(TelemetryError::LabelName { .. })
    ));
    let again = || MetricFamily::gauge("g", "h", vec![]);
    assert!(matches!(
        render(&[again(), again()]),
        Err(TelemetryError::DuplicateFamily(_))
    ));
    assert!(counter("ok_total", "_ok").is_ok());
}
