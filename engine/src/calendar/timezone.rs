//! Local calendar days of UTC instants in IANA time zones.

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;

/// Returns the calendar day in `zone` of the UTC instant `nanos` (nanoseconds since the
/// Unix epoch).
pub fn local_day(nanos: i64, zone: Tz) -> NaiveDate {
    let utc = chrono::DateTime::from_timestamp_nanos(nanos);
    zone.from_utc_datetime(&utc.naive_utc()).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokyo_is_ahead_of_utc() {
        // 2026-01-31T16:00:00Z is 2026-02-01 01:00 in Tokyo.
        let nanos = 1_769_875_200_000_000_000;
        assert_eq!(
            local_day(nanos, chrono_tz::Asia::Tokyo).to_string(),
            "2026-02-01"
        );
        assert_eq!(local_day(nanos, chrono_tz::UTC).to_string(), "2026-01-31");
    }

    #[test]
    fn new_york_is_behind_utc() {
        // 2026-02-01T03:00:00Z is 2026-01-31 22:00 in New York.
        let nanos = 1_769_914_800_000_000_000;
        assert_eq!(
            local_day(nanos, chrono_tz::America::New_York).to_string(),
            "2026-01-31"
        );
    }
}
