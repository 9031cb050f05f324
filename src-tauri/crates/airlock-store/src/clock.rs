//! Timestamps as the store writes them: UTC, RFC 3339, millisecond precision, `Z` suffix
//! (`2024-05-01T09:30:00.123Z`), the same text SQLite's `strftime('%Y-%m-%dT%H:%M:%fZ')` gives,
//! so that comparing two of them as text compares them as times.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::StoreError;

const STORED: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Now, as stored.
pub(crate) fn now() -> String {
    format(OffsetDateTime::now_utc())
}

/// `seconds` from now, as stored.
pub(crate) fn later(seconds: u64) -> String {
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
    format(
        OffsetDateTime::now_utc()
            .checked_add(time::Duration::seconds(seconds))
            .unwrap_or(OffsetDateTime::now_utc()),
    )
}

fn format(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(STORED)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".to_owned())
}

/// Turns a caller's RFC 3339 time (any offset) into the stored form, for `created_at >= ?`
/// comparisons. Precision below a millisecond is dropped.
pub(crate) fn normalize(value: &str) -> Result<String, StoreError> {
    OffsetDateTime::parse(value.trim(), &Rfc3339)
        .map(format)
        .map_err(|err| StoreError::InvalidTime {
            value: value.to_owned(),
            reason: err.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_stored_in_utc_with_milliseconds() {
        assert_eq!(
            normalize("2024-05-01T11:30:00.123456+02:00").unwrap(),
            "2024-05-01T09:30:00.123Z"
        );
        assert_eq!(
            normalize("2024-05-01T09:30:00Z").unwrap(),
            "2024-05-01T09:30:00.000Z"
        );
        let now = now();
        assert_eq!(now.len(), "2024-05-01T09:30:00.000Z".len());
        assert!(now.ends_with('Z'));
    }

    #[test]
    fn a_time_that_is_not_rfc3339_is_refused_with_an_example() {
        let err = normalize("yesterday").unwrap_err();
        assert!(err.to_string().contains("2024-05-01T00:00:00Z"), "{err}");
    }
}
