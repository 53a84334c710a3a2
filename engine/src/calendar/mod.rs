//! The billing calendar: period grids aligned to a contract's billing anchor.
//!
//! Every boundary is computed from the anchor itself (anchor + n intervals, with the day
//! clamped to the month's length), never from the previous boundary, so an anchor on the
//! 31st gives Jan 31, Feb 28, Mar 31, Apr 30 and not a drift to the 28th.

pub mod timezone;

use chrono::{Datelike, NaiveDate};

/// The length of a billing period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Month,
    Quarter,
    Year,
}

impl Interval {
    /// Parses `month`, `quarter` or `year`.
    pub fn parse(text: &str) -> Option<Interval> {
        match text {
            "month" => Some(Interval::Month),
            "quarter" => Some(Interval::Quarter),
            "year" => Some(Interval::Year),
            _ => None,
        }
    }

    /// The number of months in one period.
    pub fn months(self) -> i32 {
        match self {
            Interval::Month => 1,
            Interval::Quarter => 3,
            Interval::Year => 12,
        }
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let first_of_next =
        NaiveDate::from_ymd_opt(next_year, next_month, 1).expect("valid month");
    first_of_next.pred_opt().expect("valid date").day()
}

/// Returns the anchor moved by `months` months, on the anchor's day of the month or on the
/// month's last day when the month is shorter.
pub fn add_months_clamped(anchor: NaiveDate, months: i32) -> NaiveDate {
    let index = anchor.year() * 12 + anchor.month0() as i32 + months;
    let year = index.div_euclid(12);
    let month = index.rem_euclid(12) as u32 + 1;
    let day = anchor.day().min(days_in_month(year, month));
    NaiveDate::from_ymd_opt(year, month, day).expect("clamped day is valid")
}

/// Returns the grid boundary number `n` (boundary 0 is the anchor).
pub fn boundary(anchor: NaiveDate, interval: Interval, n: i32) -> NaiveDate {
    add_months_clamped(anchor, n * interval.months())
}

/// Returns `(start, end)` of the grid period that contains `day`, end exclusive.
pub fn period_containing(
    day: NaiveDate,
    anchor: NaiveDate,
    interval: Interval,
) -> (NaiveDate, NaiveDate) {
    let months =
        (day.year() - anchor.year()) * 12 + day.month0() as i32 - anchor.month0() as i32;
    let mut n = months.div_euclid(interval.months());
    // The estimate is off by at most one period: move until the boundaries enclose the day.
    while boundary(anchor, interval, n) > day {
        n -= 1;
    }
    while boundary(anchor, interval, n + 1) <= day {
        n += 1;
    }
    (
        boundary(anchor, interval, n),
        boundary(anchor, interval, n + 1),
    )
}

/// Returns the start of every grid period that overlaps `[from, to)`, in order.
pub fn grid_starts(
    from: NaiveDate,
    to: NaiveDate,
    anchor: NaiveDate,
    interval: Interval,
) -> Vec<NaiveDate> {
    let mut starts = Vec::new();
    if to <= from {
        return starts;
    }
    let (mut start, mut end) = period_containing(from, anchor, interval);
    while start < to {
        starts.push(start);
        let next = period_containing(end, anchor, interval);
        start = next.0;
        end = next.1;
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn anchor_on_31st_clamps_each_month() {
        let anchor = d("2026-01-31");
        let ends: Vec<NaiveDate> = (1..=4)
            .map(|n| boundary(anchor, Interval::Month, n))
            .collect();
        assert_eq!(
            ends,
            vec![
                d("2026-02-28"),
                d("2026-03-31"),
                d("2026-04-30"),
                d("2026-05-31")
            ]
        );
    }

    #[test]
    fn anchor_on_29th_in_leap_year() {
        assert_eq!(
            boundary(d("2024-01-29"), Interval::Month, 1),
            d("2024-02-29")
        );
        assert_eq!(
            boundary(d("2024-02-29"), Interval::Year, 1),
            d("2025-02-28")
        );
        assert_eq!(
            boundary(d("2024-02-29"), Interval::Year, 4),
            d("2028-02-29")
        );
    }

    #[test]
    fn period_containing_before_anchor() {
        let (start, end) =
            period_containing(d("2026-04-11"), d("2026-05-01"), Interval::Month);
        assert_eq!((start, end), (d("2026-04-01"), d("2026-05-01")));
    }

    #[test]
    fn period_containing_on_boundaries() {
        let anchor = d("2026-01-31");
        assert_eq!(
            period_containing(d("2026-02-28"), anchor, Interval::Month).0,
            d("2026-02-28")
        );
        assert_eq!(
            period_containing(d("2026-02-27"), anchor, Interval::Month).0,
            d("2026-01-31")
        );
        assert_eq!(
            period_containing(d("2026-03-30"), anchor, Interval::Month).1,
            d("2026-03-31")
        );
    }

    #[test]
    fn quarter_grid_from_mid_period() {
        let starts = grid_starts(
            d("2026-02-15"),
            d("2026-08-01"),
            d("2026-01-01"),
            Interval::Quarter,
        );
        assert_eq!(
            starts,
            vec![d("2026-01-01"), d("2026-04-01"), d("2026-07-01")]
        );
    }

    #[test]
    fn empty_range_has_no_periods() {
        assert!(grid_starts(
            d("2026-02-01"),
            d("2026-02-01"),
            d("2026-01-01"),
            Interval::Month
        )
        .is_empty());
    }
}
