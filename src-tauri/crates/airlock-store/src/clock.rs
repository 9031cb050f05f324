//! Timestamps as the store writes them: UTC, RFC 3339, millisecond precision, `Z` suffix
//! (`2024-05-01T09:30:00.123Z`), the same text SQLite's `strftime('%Y-%m-%dT%H:%M:%fZ')` gives,
//! so that comparing two of them as text compares them as times.

use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

const STORED: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Now, as stored.
pub(crate) fn now() -> String {
    format(OffsetDateTime::now_utc())
}

fn format(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(STORED)
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_stored_in_utc_with_milliseconds() {
        let now = now();
        assert_eq!(now.len(), "2024-05-01T09:30:00.000Z".len());
        assert!(now.ends_with('Z'));
    }
}
