//! Time buckets for series: UTC days, ISO weeks (starting Monday) and calendar months,
//! labelled by their first day, with zero-filling between two instants.

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Day,
    #[default]
    Week,
    Month,
}

impl Interval {
    /// The first day of the bucket that holds `ms`.
    pub fn bucket_start(self, ms: i64) -> NaiveDate {
        let day = chrono::DateTime::from_timestamp_millis(ms)
            .unwrap_or_default()
            .date_naive();
        match self {
            Interval::Day => day,
            Interval::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
            Interval::Month => day.with_day(1).expect("day 1 exists"),
        }
    }

    fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Interval::Day => start + Days::new(1),
            Interval::Week => start + Days::new(7),
            Interval::Month => start + Months::new(1),
        }
    }

    /// Every bucket label from the bucket of `from_ms` to the bucket of `last_ms`,
    /// or `None` if that is more than `max` buckets.
    pub fn buckets(self, from_ms: i64, last_ms: i64, max: usize) -> Option<Vec<String>> {
        let mut out = Vec::new();
        let end = self.bucket_start(last_ms);
        let mut cur = self.bucket_start(from_ms);
        while cur <= end {
            if out.len() == max {
                return None;
            }
            out.push(cur.to_string());
            cur = self.next(cur);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        // 2026-11-22 is a Sunday.
        let t = ms("2026-11-22T23:59:59Z");
        assert_eq!(Interval::Day.bucket_start(t).to_string(), "2026-11-22");
        assert_eq!(Interval::Week.bucket_start(t).to_string(), "2026-11-16");
        assert_eq!(Interval::Month.bucket_start(t).to_string(), "2026-11-01");
        assert_eq!(
            Interval::Week
                .bucket_start(ms("2026-11-23T00:00:00Z"))
                .to_string(),
            "2026-11-23"
        );
    }

    #[test]
    fn buckets_zero_fill_and_cap() {
        let b = Interval::Month
            .buckets(ms("2026-01-15T00:00:00Z"), ms("2026-03-01T00:00:00Z"), 100)
            .unwrap();
        assert_eq!(b, vec!["2026-01-01", "2026-02-01", "2026-03-01"]);
        assert!(Interval::Day
            .buckets(0, ms("2026-01-01T00:00:00Z"), 100)
            .is_none());
    }
}
