//! Stats queries and answers, shaped like aggregations (filters, group-by, time buckets)
//! so that SQL and an Elasticsearch aggregation can both answer them. The HTTP layer
//! parses requests into these; store backends compute them.

mod interval;

use serde::Serialize;
use utoipa::ToSchema;

pub use interval::Interval;

/// A half-open time range `[from, to)` in Unix milliseconds; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl TimeRange {
    pub fn contains(&self, t: i64) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t < e)
    }
}

/// Filters on pull requests of one org. `team` matches PRs whose author is currently
/// a member of that team (by slug).
#[derive(Debug, Clone, Default)]
pub struct PrFilter {
    pub org: String,
    pub team: Option<String>,
    pub repo: Option<String>,
    pub author: Option<String>,
    pub range: TimeRange,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct OrgSummary {
    pub org: String,
    pub repos: u64,
    pub teams: u64,
    pub members: u64,
    pub pull_requests: PrCounts,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct PrCounts {
    pub open: u64,
    /// Closed without being merged.
    pub closed: u64,
    pub merged: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct OrgListItem {
    pub org: String,
    pub login: String,
}

/// One time bucket of the PR series: PRs opened, merged, and closed unmerged in it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct SeriesPoint {
    pub bucket: String,
    pub opened: u64,
    pub merged: u64,
    pub closed: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct TeamStats {
    pub team: String,
    pub name: Option<String>,
    pub members: u64,
    pub opened: u64,
    pub merged: u64,
    pub median_time_to_merge_seconds: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct TeamMember {
    pub login: String,
    pub user_id: i64,
}

/// PR totals for one filter and range, with the median time to merge and the busiest
/// repos and authors: the numbers an org overview shows next to its chart.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct PrStats {
    /// PRs created in the range.
    pub opened: u64,
    /// PRs merged in the range.
    pub merged: u64,
    /// PRs closed without being merged in the range.
    pub closed: u64,
    /// Median seconds from creation to merge of the PRs merged in the range.
    pub median_time_to_merge_seconds: Option<f64>,
    /// Repos by PRs opened in the range, then merged; most active first.
    pub top_repos: Vec<PrTally>,
    /// Authors by PRs opened in the range, then merged; most active first.
    pub top_authors: Vec<PrTally>,
}

/// PRs opened and merged in the range for one repo (`owner/name`) or author (login).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct PrTally {
    pub key: String,
    pub opened: u64,
    pub merged: u64,
}

/// A repo of an org that has not been deleted.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct RepoItem {
    pub name: String,
    pub full_name: String,
    pub private: bool,
    pub archived: bool,
    pub open_pull_requests: u64,
}

/// Median of the values, or `None` when empty. Sorts in place.
pub fn median(values: &mut [i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 0 {
        (values[mid - 1] as f64 + values[mid] as f64) / 2.0
    } else {
        values[mid] as f64
    })
}

/// A page of raw events of one source and UTC day, oldest first.
#[derive(Debug, Clone)]
pub struct EventsQuery {
    pub source: String,
    pub day: chrono::NaiveDate,
    /// Exclusive lower bound on the event sequence number (the cursor).
    pub after: Option<i64>,
    pub limit: usize,
    /// The page ends with the event whose payload takes the payloads' total to this many
    /// bytes or past it, however many events `limit` allows: a page holds at most
    /// `max_bytes` plus one payload.
    pub max_bytes: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoredEvent {
    pub seq: i64,
    pub source: String,
    pub kind: String,
    pub action: Option<String>,
    pub delivery_id: String,
    pub hook_id: Option<String>,
    pub received_at: String,
    /// The JSON payload as received; for a text payload, the text as a JSON string.
    #[schema(value_type = Object)]
    pub payload: Box<serde_json::value::RawValue>,
    /// `text/plain` when the payload was stored as text; absent for JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<&'static str>,
}

#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct DayCount {
    pub source: String,
    pub day: String,
    pub events: u64,
}

/// Filters on the delivery log, newest first.
#[derive(Debug, Clone, Default)]
pub struct DeliveryQuery {
    pub source: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    /// Only deliveries with a log sequence below this (the cursor).
    pub before: Option<i64>,
    pub limit: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// Log sequence; absent for rejected deliveries, which are not stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
    pub source: String,
    pub event: String,
    pub action: Option<String>,
    pub delivery_id: Option<String>,
    pub hook_id: Option<String>,
    /// `accepted`, `duplicate` or `rejected`.
    pub status: String,
    /// Error code for rejected deliveries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub received_at: String,
    pub size: u64,
}

/// Formats Unix milliseconds as RFC 3339 UTC with millisecond precision.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5, 1, 3]), Some(3.0));
        assert_eq!(median(&mut [4, 1, 3, 2]), Some(2.5));
    }

    #[test]
    fn range_is_half_open() {
        let r = TimeRange {
            from: Some(10),
            to: Some(20),
        };
        assert!(r.contains(10) && r.contains(19));
        assert!(!r.contains(9) && !r.contains(20));
        assert!(TimeRange::default().contains(i64::MIN));
    }
}
