//! The text exposition format 0.0.4: names checked, help and label values escaped.

use std::collections::HashSet;
use std::fmt::Write;

use super::{Labelled, MetricFamily, Samples};
use crate::error::TelemetryError;

/// The families in the text format 0.0.4 (`# HELP`, `# TYPE`, then the samples; histograms
/// as cumulative `_bucket{le="…"}` series ending in `+Inf`, `_sum` and `_count`).
///
/// # Errors
/// A metric name outside `[a-zA-Z_:][a-zA-Z0-9_:]*`, a label name outside
/// `[a-zA-Z_][a-zA-Z0-9_]*` (or repeated in a sample, or `le` on a histogram), or two
/// families with one name.
pub fn render(families: &[MetricFamily]) -> Result<String, TelemetryError> {
    let mut names = HashSet::new();
    let mut out = String::new();
    for family in families {
        let name = family.name.as_str();
        if !is_metric_name(name) {
            return Err(TelemetryError::MetricName(name.to_owned()));
        }
        if !names.insert(name) {
            return Err(TelemetryError::DuplicateFamily(name.to_owned()));
        }
        if !family.help.is_empty() {
            let _ = writeln!(out, "# HELP {name} {}", escape_help(&family.help));
        }
        match &family.samples {
            Samples::Counter(samples) | Samples::Gauge(samples) => {
                let kind = if matches!(family.samples, Samples::Counter(_)) {
                    "counter"
                } else {
                    "gauge"
                };
                let _ = writeln!(out, "# TYPE {name} {kind}");
                for sample in samples {
                    let labels = labels(name, sample, None)?;
                    let _ = writeln!(out, "{name}{labels} {}", number(sample.value));
                }
            }
            Samples::Histogram(samples) => {
                let _ = writeln!(out, "# TYPE {name} histogram");
                for sample in samples {
                    if sample.labels.iter().any(|(label, _)| label == "le") {
                        return Err(label_error(name, "le"));
                    }
                    for (bound, count) in sample.value.cumulative() {
                        let labels = labels(name, sample, Some(&number(bound)))?;
                        let _ = writeln!(out, "{name}_bucket{labels} {count}");
                    }
                    let labels = labels(name, sample, None)?;
                    let _ = writeln!(out, "{name}_sum{labels} {}", number(sample.value.sum()));
                    let _ = writeln!(out, "{name}_count{labels} {}", sample.value.count());
                }
            }
        }
    }
    Ok(out)
}

/// `{a="x",b="y"}` (with `le` last when given), or nothing without labels.
fn labels<T>(
    metric: &str,
    sample: &Labelled<T>,
    le: Option<&str>,
) -> Result<String, TelemetryError> {
    let mut seen = HashSet::new();
    let mut parts = Vec::with_capacity(sample.labels.len() + 1);
    for (label, value) in &sample.labels {
        if !is_label_name(label) || !seen.insert(label.as_str()) {
            return Err(label_error(metric, label));
        }
        parts.push(format!("{label}=\"{}\"", escape_label_value(value)));
    }
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    Ok(if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    })
}

fn label_error(metric: &str, label: &str) -> TelemetryError {
    TelemetryError::LabelName {
        metric: metric.to_owned(),
        label: label.to_owned(),
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`.
fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`.
fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Backslash and newline escaped.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Backslash, double quote and newline escaped.
fn escape_label_value(text: &str) -> String {
    escape_help(text).replace('"', "\\\"")
}

/// A sample value as Prometheus reads it: `NaN`, `+Inf`, `-Inf`, or the shortest decimal
/// that reads back as the same number (with an exponent when very large or small).
fn number(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_owned()
    } else if x.is_infinite() {
        if x > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else if x != 0.0 && (x.abs() >= 1e15 || x.abs() < 1e-4) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_prometheus_reads_them() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(-2.5e-7), "-2.5e-7");
        assert_eq!(number(1e300), "1e300");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
        assert_eq!(number(f64::NAN), "NaN");
    }

    #[test]
    fn label_values_escape_backslash_quote_and_newline_only() {
        assert_eq!(escape_label_value("a\\b\"c\nd é"), "a\\\\b\\\"c\\nd é");
        assert_eq!(escape_help("a\\b\"c\nd"), "a\\\\b\"c\\nd");
    }
}
