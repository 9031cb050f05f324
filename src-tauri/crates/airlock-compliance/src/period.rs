//! The period a package covers.
//!
//! Both ends are included. A bound is a day (`YYYY-MM-DD`) or an RFC 3339 instant (any
//! offset). A day is taken in **UTC**: `--from 2026-11-01` starts at `2026-11-01T00:00:00.000Z`
//! and `--to 2026-11-30` ends at `2026-11-30T23:59:59.999Z`. UTC because the audit log stores
//! UTC times and a package must mean the same rows on every machine that reads it, whatever
//! its time zone; give instants with an offset (`2026-11-01T00:00:00+01:00`) for local days.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::macros::{format_description, time};
use time::{Date, OffsetDateTime, UtcOffset};

use crate::EvidenceError;

/// A period, both ends included, written as the store writes times (UTC, RFC 3339,
/// milliseconds, e.g. `2026-11-01T00:00:00.000Z`), so that comparing texts compares times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// The first instant included.
    pub from: String,
    /// The last instant included.
    pub to: String,
}

const STORED: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Which end of the period a bound is.
#[derive(Clone, Copy)]
enum End {
    From,
    To,
}

impl Period {
    /// Parses `from` and `to` (see the [module docs](self)).
    ///
    /// # Errors
    /// [`EvidenceError::InvalidBound`] for a bound that is neither a day nor an instant,
    /// [`EvidenceError::ReversedPeriod`] when `from` is after `to`.
    pub fn parse(from: &str, to: &str) -> Result<Self, EvidenceError> {
        let start = bound(from, End::From)?;
        let end = bound(to, End::To)?;
        let period = Self {
            from: stored(start),
            to: stored(end),
        };
        if start > end {
            return Err(EvidenceError::ReversedPeriod {
                from: period.from,
                to: period.to,
            });
        }
        Ok(period)
    }

    /// Whether the stored time `at` falls in the period.
    #[must_use]
    pub fn contains(&self, at: &str) -> bool {
        self.from.as_str() <= at && at <= self.to.as_str()
    }
}

fn bound(text: &str, end: End) -> Result<OffsetDateTime, EvidenceError> {
    let text = text.trim();
    let which = match end {
        End::From => "from",
        End::To => "to",
    };
    let refused = |reason: String| EvidenceError::InvalidBound {
        which,
        value: text.to_owned(),
        reason,
    };
    if text.len() == "2026-11-01".len() {
        let day = Date::parse(text, format_description!("[year]-[month]-[day]"))
            .map_err(|err| refused(err.to_string()))?;
        let at = match end {
            End::From => day.midnight(),
            End::To => day.with_time(time!(23:59:59.999)),
        };
        return Ok(at.assume_utc());
    }
    OffsetDateTime::parse(text, &Rfc3339).map_err(|err| refused(err.to_string()))
}

/// `at` as the store writes times. Precision below a millisecond is dropped, which keeps an
/// instant's own millisecond in the period.
pub(crate) fn stored(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(STORED)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".to_owned())
}

/// Now, as the store writes times.
pub(crate) fn now() -> String {
    stored(OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_cover_the_whole_utc_day_at_both_ends() {
        let period = Period::parse("2026-11-01", "2026-11-30").unwrap();
        assert_eq!(period.from, "2026-11-01T00:00:00.000Z");
        assert_eq!(period.to, "2026-11-30T23:59:59.999Z");
        assert!(period.contains("2026-11-30T23:59:59.999Z"));
        assert!(period.contains("2026-11-01T00:00:00.000Z"));
        assert!(!period.contains("2026-12-01T00:00:00.000Z"));
        assert!(!period.contains("2026-10-31T23:59:59.999Z"));
        let one_day = Period::parse("2026-11-01", "2026-11-01").unwrap();
        assert_eq!(one_day.to, "2026-11-01T23:59:59.999Z");
    }

    #[test]
    fn instants_with_an_offset_are_taken_in_utc() {
        let period =
            Period::parse("2026-11-01T01:00:00+01:00", "2026-11-01T12:30:00.1234Z").unwrap();
        assert_eq!(period.from, "2026-11-01T00:00:00.000Z");
        assert_eq!(period.to, "2026-11-01T12:30:00.123Z");
    }

    #[test]
    fn a_reversed_period_is_refused_saying_which_end_is_which() {
        let err = Period::parse("2026-11-30", "2026-11-01").unwrap_err();
        assert!(matches!(err, EvidenceError::ReversedPeriod { .. }), "{err}");
        assert!(err.to_string().contains("--from"), "{err}");
        // The same day at both ends is not reversed.
        Period::parse("2026-11-01T10:00:00Z", "2026-11-01").unwrap();
    }

    #[test]
    fn a_bound_that_is_not_a_day_or_an_instant_is_refused_with_examples() {
        for (from, to, which) in [
            ("last month", "2026-11-30", "--from"),
            ("2026-11-01", "2026-13-01", "--to"),
            ("2026-11-01", "2026-11-30T25:00:00Z", "--to"),
        ] {
            let err = Period::parse(from, to).unwrap_err();
            assert!(matches!(err, EvidenceError::InvalidBound { .. }), "{err}");
            let text = err.to_string();
            assert!(text.starts_with(which), "{text}");
            assert!(text.contains("2026-11-01T08:00:00Z"), "{text}");
        }
    }
}
