//! Metrics in the Prometheus text exposition format 0.0.4: counters, gauges and histograms
//! with labels, built in memory and rendered with [`render`].
//!
//! ```
//! use airlock_telemetry::prometheus::{render, Histogram, HistogramSample, MetricFamily, Sample};
//!
//! let mut latency = Histogram::new(&[0.1, 0.5, 1.0])?;
//! latency.observe(0.3);
//! let text = render(&[
//!     MetricFamily::counter(
//!         "airlock_requests_total",
//!         "Requests handled.",
//!         vec![Sample::new(3.0).label("mode", "plan")],
//!     ),
//!     MetricFamily::histogram(
//!         "airlock_request_seconds",
//!         "Time to answer a request.",
//!         vec![HistogramSample::new(latency)],
//!     ),
//! ])?;
//! assert!(text.contains("airlock_request_seconds_bucket{le=\"0.5\"} 1\n"));
//! # Ok::<(), airlock_telemetry::TelemetryError>(())
//! ```

mod histogram;
mod text;

pub use histogram::Histogram;
pub use text::render;

/// A value with its labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled<T> {
    /// Label names and values, in the order they are written.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: T,
}

impl<T> Labelled<T> {
    /// The value without labels.
    #[must_use]
    pub fn new(value: T) -> Self {
        Self {
            labels: Vec::new(),
            value,
        }
    }

    /// Adds a label.
    #[must_use]
    pub fn label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.push((name.into(), value.into()));
        self
    }
}

/// A counter's or gauge's sample.
pub type Sample = Labelled<f64>;

/// One histogram series.
pub type HistogramSample = Labelled<Histogram>;

/// One metric: its name, help text and samples of one type.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFamily {
    name: String,
    help: String,
    samples: Samples,
}

#[derive(Debug, Clone, PartialEq)]
enum Samples {
    Counter(Vec<Sample>),
    Gauge(Vec<Sample>),
    Histogram(Vec<HistogramSample>),
}

impl MetricFamily {
    /// A counter: a total that only grows (by convention named `…_total`).
    #[must_use]
    pub fn counter(name: impl Into<String>, help: impl Into<String>, samples: Vec<Sample>) -> Self {
        Self::with(name, help, Samples::Counter(samples))
    }

    /// A gauge: a value that goes up and down.
    #[must_use]
    pub fn gauge(name: impl Into<String>, help: impl Into<String>, samples: Vec<Sample>) -> Self {
        Self::with(name, help, Samples::Gauge(samples))
    }

    /// A histogram: observations counted in buckets, with their sum and count.
    #[must_use]
    pub fn histogram(
        name: impl Into<String>,
        help: impl Into<String>,
        samples: Vec<HistogramSample>,
    ) -> Self {
        Self::with(name, help, Samples::Histogram(samples))
    }

    fn with(name: impl Into<String>, help: impl Into<String>, samples: Samples) -> Self {
        Self {
            name: name.into(),
            help: help.into(),
            samples,
        }
    }
}
