//! Page-view statistics from the views of a range: the series, totals and top lists
//! the dashboard shows, in one pure function both backends feed, so they answer the
//! same. Visitor hashes change every UTC day, so "visitors" over any span counts
//! distinct (day, visitor) pairs: a person is counted once per day they came.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::salt::utc_day;
use crate::stats::Interval;

/// A counted view as the read model keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub seq: i64,
    pub ts_ms: i64,
    pub path: String,
    pub referrer: Option<String>,
    pub source: Option<String>,
    pub entry: bool,
    pub unique: bool,
    pub visitor: String,
}

/// What `referrer=` matches for views with no referring host.
pub const DIRECT: &str = "(direct)";

/// Where views came from: a script on the page (beacons, Plausible events, live
/// sockets) or the web server's access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Script,
    Log,
}

/// Only views matching every given value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub page: Option<String>,
    /// A referring host, or `(direct)` for none.
    pub referrer: Option<String>,
    pub source: Option<String>,
    /// Applied by the stores' reads (a view does not carry its origin), and read raw.
    pub origin: Option<Origin>,
}

impl Filter {
    pub fn matches(&self, v: &View) -> bool {
        let referrer = v.referrer.as_deref().unwrap_or(DIRECT);
        self.page.as_ref().is_none_or(|p| *p == v.path)
            && self.referrer.as_ref().is_none_or(|r| r == referrer)
            && self
                .source
                .as_ref()
                .is_none_or(|s| Some(s.as_str()) == v.source.as_deref())
    }
}

/// Which views to read: one site, `[from_ms, to_ms)`, filtered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewQuery {
    pub site: String,
    pub from_ms: i64,
    pub to_ms: i64,
    pub filter: Filter,
}

/// The bucket size of a series: an hour, or a UTC day, ISO week or month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    Hour,
    #[default]
    Day,
    Week,
    Month,
}

impl Bucket {
    fn interval(self) -> Option<Interval> {
        match self {
            Bucket::Hour => None,
            Bucket::Day => Some(Interval::Day),
            Bucket::Week => Some(Interval::Week),
            Bucket::Month => Some(Interval::Month),
        }
    }

    /// The label of the bucket holding `ms`: `YYYY-MM-DDTHH:00:00Z` or `YYYY-MM-DD`.
    pub fn label(self, ms: i64) -> String {
        match self.interval() {
            Some(interval) => interval.bucket_start(ms).to_string(),
            None => chrono::DateTime::from_timestamp_millis(ms - ms.rem_euclid(3_600_000))
                .unwrap_or_default()
                .format("%Y-%m-%dT%H:00:00Z")
                .to_string(),
        }
    }

    /// Every label from `from_ms`'s bucket to `last_ms`'s, or `None` past `max`.
    pub fn labels(self, from_ms: i64, last_ms: i64, max: usize) -> Option<Vec<String>> {
        if let Some(interval) = self.interval() {
            return interval.buckets(from_ms, last_ms, max);
        }
        let first = from_ms - from_ms.rem_euclid(3_600_000);
        let count = usize::try_from((last_ms - first) / 3_600_000 + 1).ok()?;
        (count <= max).then(|| {
            (0..count as i64)
                .map(|i| self.label(first + i * 3_600_000))
                .collect()
        })
    }
}

/// Views, client-flagged unique views, visitors and entries of a set of views.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Counts {
    pub views: u64,
    /// Unique by the client's own flag (`refreshed: false`, or the beacon's `u`).
    pub uniques: u64,
    /// Unique by the server's daily visitor hash: distinct (UTC day, visitor) pairs.
    pub visitors: u64,
    /// First views of a visit (the referrer is not the site itself).
    pub entries: u64,
}

/// One bucket of the series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Point {
    pub bucket: String,
    #[serde(flatten)]
    pub counts: Counts,
}

/// One row of a top list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Ranked {
    pub name: String,
    #[serde(flatten)]
    pub counts: Counts,
}

/// Everything the site page shows for a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Summary {
    pub series: Vec<Point>,
    pub totals: Counts,
    /// Pages by views.
    pub pages: Vec<Ranked>,
    /// Referring hosts by views; `(direct)` for none.
    pub referrers: Vec<Ranked>,
    /// Named sources (search engines, social sites, `utm_source`) by views.
    pub sources: Vec<Ranked>,
    /// Pages visits began on, by entries.
    pub entry_pages: Vec<Ranked>,
}

#[derive(Default)]
struct Tally {
    counts: Counts,
    visitors: HashSet<(chrono::NaiveDate, String)>,
}

impl Tally {
    fn add(&mut self, v: &View) {
        self.counts.views += 1;
        self.counts.uniques += u64::from(v.unique);
        self.counts.entries += u64::from(v.entry);
        self.visitors.insert((utc_day(v.ts_ms), v.visitor.clone()));
    }

    fn done(mut self) -> Counts {
        self.counts.visitors = self.visitors.len() as u64;
        self.counts
    }
}

/// `rows` most first (by entries for entry pages, which keeps only rows with entries;
/// else by views), ties by name, at most `top`.
pub fn rank(mut rows: Vec<Ranked>, top: usize, by_entries: bool) -> Vec<Ranked> {
    if by_entries {
        rows.retain(|r| r.counts.entries > 0);
    }
    let key = |r: &Ranked| {
        if by_entries {
            r.counts.entries
        } else {
            r.counts.views
        }
    };
    rows.sort_by(|a, b| key(b).cmp(&key(a)).then_with(|| a.name.cmp(&b.name)));
    rows.truncate(top);
    rows
}

/// The ranked rows of `tallies`.
fn ranked(tallies: HashMap<String, Tally>, top: usize, by_entries: bool) -> Vec<Ranked> {
    let rows = tallies
        .into_iter()
        .map(|(name, t)| Ranked {
            name,
            counts: t.done(),
        })
        .collect();
    rank(rows, top, by_entries)
}

/// The summary of `views` (already filtered to the query) over `labels`' buckets.
pub fn summarize(views: &[View], bucket: Bucket, labels: Vec<String>, top: usize) -> Summary {
    let mut series: HashMap<String, Tally> = HashMap::new();
    let mut totals = Tally::default();
    let mut pages: HashMap<String, Tally> = HashMap::new();
    let mut referrers: HashMap<String, Tally> = HashMap::new();
    let mut sources: HashMap<String, Tally> = HashMap::new();
    let mut entries: HashMap<String, Tally> = HashMap::new();
    for v in views {
        series.entry(bucket.label(v.ts_ms)).or_default().add(v);
        totals.add(v);
        pages.entry(v.path.clone()).or_default().add(v);
        let referrer = v.referrer.clone().unwrap_or_else(|| DIRECT.to_owned());
        referrers.entry(referrer).or_default().add(v);
        if let Some(source) = &v.source {
            sources.entry(source.clone()).or_default().add(v);
        }
        if v.entry {
            entries.entry(v.path.clone()).or_default().add(v);
        }
    }
    Summary {
        series: labels
            .into_iter()
            .map(|bucket| {
                let counts = series.remove(&bucket).map(Tally::done).unwrap_or_default();
                Point { bucket, counts }
            })
            .collect(),
        totals: totals.done(),
        pages: ranked(pages, top, false),
        referrers: ranked(referrers, top, false),
        sources: ranked(sources, top, false),
        entry_pages: ranked(entries, top, true),
    }
}

/// Visitors and views among `views` (the last few minutes' views of a site).
pub fn now(views: &[View]) -> Counts {
    let mut tally = Tally::default();
    for v in views {
        tally.add(v);
    }
    tally.done()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(ts_ms: i64, path: &str, visitor: &str, referrer: Option<&str>) -> View {
        View {
            seq: ts_ms,
            ts_ms,
            path: path.into(),
            referrer: referrer.map(str::to_owned),
            source: None,
            entry: referrer.is_some(),
            unique: true,
            visitor: visitor.into(),
        }
    }

    const DAY: i64 = 86_400_000;

    #[test]
    fn visitors_are_distinct_per_day_and_summed_across_days() {
        let views = vec![
            view(0, "/a", "v1", None),
            view(1000, "/b", "v1", Some("x.com")),
            view(DAY + 5, "/a", "v1", None),
            view(DAY + 6, "/a", "v2", None),
        ];
        let labels = Bucket::Week.labels(0, DAY + 6, 10).unwrap();
        let s = summarize(&views, Bucket::Week, labels, 10);
        assert_eq!(s.totals.views, 4);
        // v1 on day 0, v1 on day 1, v2 on day 1.
        assert_eq!(s.totals.visitors, 3);
        assert_eq!(s.totals.entries, 1);
        assert_eq!(s.pages[0].name, "/a");
        assert_eq!(s.pages[0].counts.visitors, 3);
        assert_eq!(s.referrers[0].name, DIRECT);
        assert_eq!(s.entry_pages.len(), 1);
        assert_eq!(s.entry_pages[0].name, "/b");
    }

    #[test]
    fn series_zero_fill_every_bucket() {
        let views = vec![view(2 * 3_600_000 + 1, "/a", "v1", None)];
        let labels = Bucket::Hour.labels(0, 3 * 3_600_000, 100).unwrap();
        let s = summarize(&views, Bucket::Hour, labels, 10);
        assert_eq!(s.series.len(), 4);
        assert_eq!(s.series[0].bucket, "1970-01-01T00:00:00Z");
        assert_eq!(s.series[2].counts.views, 1);
        assert_eq!(s.series[3].counts, Counts::default());
        assert!(Bucket::Hour.labels(0, 1000 * 3_600_000, 100).is_none());
    }

    #[test]
    fn filters_match_direct_and_named_values() {
        let direct = view(0, "/a", "v", None);
        let linked = view(0, "/a", "v", Some("x.com"));
        let f = Filter {
            referrer: Some(DIRECT.into()),
            ..Filter::default()
        };
        assert!(f.matches(&direct) && !f.matches(&linked));
        let f = Filter {
            page: Some("/b".into()),
            ..Filter::default()
        };
        assert!(!f.matches(&direct));
    }
}
