//! A histogram with fixed upper bounds that accumulates observations.

use crate::error::TelemetryError;

/// Observations counted in buckets with fixed upper bounds (and `+Inf`), with their sum.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    bounds: Vec<f64>,
    /// Per bucket, not cumulative; the last is `+Inf`'s.
    counts: Vec<u64>,
    sum: f64,
}

impl Histogram {
    /// An empty histogram with these upper bounds (finite, strictly increasing; `+Inf` is
    /// added).
    ///
    /// # Errors
    /// [`TelemetryError::Buckets`] for bounds that are not finite or not increasing.
    pub fn new(bounds: &[f64]) -> Result<Self, TelemetryError> {
        let finite = bounds.iter().all(|b| b.is_finite());
        let increasing = bounds.windows(2).all(|w| w[0] < w[1]);
        if !finite || !increasing {
            return Err(TelemetryError::Buckets(bounds.to_vec()));
        }
        Ok(Self {
            bounds: bounds.to_vec(),
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
        })
    }

    /// Counts `value` in the first bucket whose bound it does not exceed (NaN only in
    /// `+Inf`) and adds it to the sum.
    pub fn observe(&mut self, value: f64) {
        let bucket = if value.is_nan() {
            self.bounds.len()
        } else {
            self.bounds.partition_point(|bound| *bound < value)
        };
        self.counts[bucket] += 1;
        self.sum += value;
    }

    /// The upper bounds, without `+Inf`.
    #[must_use]
    pub fn bounds(&self) -> &[f64] {
        &self.bounds
    }

    /// How many values were observed.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The sum of the observed values.
    #[must_use]
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// Each upper bound (the last `+Inf`) with the number of values at or below it.
    pub(crate) fn cumulative(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        let bounds = self.bounds.iter().copied().chain([f64::INFINITY]);
        bounds.zip(self.counts.iter().scan(0, |total, n| {
            *total += n;
            Some(*total)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them() {
        let mut h = Histogram::new(&[1.0, 2.0]).unwrap();
        for v in [0.5, 1.0, 1.5, 2.0, 7.0, f64::NAN] {
            h.observe(v);
        }
        let cumulative: Vec<_> = h.cumulative().collect();
        assert_eq!(cumulative, [(1.0, 2), (2.0, 4), (f64::INFINITY, 6)]);
        assert_eq!(h.count(), 6);
        assert!(h.sum().is_nan());
    }

    #[test]
    fn bounds_must_be_finite_and_increasing() {
        for bounds in [
            &[1.0, 1.0][..],
            &[2.0, 1.0],
            &[1.0, f64::INFINITY],
            &[f64::NAN],
        ] {
            assert!(
                matches!(Histogram::new(bounds), Err(TelemetryError::Buckets(_))),
                "{bounds:?}"
            );
        }
        assert!(Histogram::new(&[]).is_ok());
    }
}
