//! Warnings at most once a minute, however often the trouble repeats.

use std::time::{Duration, Instant};

/// The shortest time between two warnings of one [`Throttle`].
pub(crate) const WARN_INTERVAL: Duration = Duration::from_secs(60);

/// Lets one warning through per [`WARN_INTERVAL`] and counts the ones held back.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    last: Option<Instant>,
    held_back: u64,
}

impl Throttle {
    /// Whether to warn now; when it is, also how many warnings were held back since the last.
    pub(crate) fn allow(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(last) if now.saturating_duration_since(last) < WARN_INTERVAL => {
                self.held_back += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.held_back))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_warning_a_minute_passes_and_the_rest_are_counted() {
        let start = Instant::now();
        let mut throttle = Throttle::default();
        assert_eq!(throttle.allow(start), Some(0));
        assert_eq!(throttle.allow(start + Duration::from_secs(1)), None);
        assert_eq!(throttle.allow(start + Duration::from_secs(59)), None);
        assert_eq!(throttle.allow(start + WARN_INTERVAL), Some(2));
        assert_eq!(throttle.allow(start + WARN_INTERVAL), None);
    }
}
