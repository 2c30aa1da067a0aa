//! Exact page-view rollups: the additive counts of a set of views per UTC day, hour or
//! month, grouped by page, referrer and source. Visitors are distinct per UTC day, so
//! the visitors of a span are the sum of its days': cells add up exactly, and a summary
//! assembled from cells equals [`stats::summarize`] over the same raw views.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};

use super::salt::utc_day;
use super::stats::{self, Bucket, Counts, Filter, Point, Ranked, Summary, View, DIRECT};

/// Grouping bits: a cell groups by the dimensions whose bits its `dims` has.
pub const PATH: u8 = 1;
pub const REFERRER: u8 = 2;
pub const SOURCE: u8 = 4;
/// Hour cells of all views of a site (no grouping), for hourly series.
pub const HOURLY: u8 = 8;

/// The groupings rollups keep for every day: none, each dimension, and each pair, which
/// answers any query filtering on at most one dimension exactly (a filter plus the
/// dimension a top list groups by). Queries filtering on two read raw views.
pub const KEPT: [u8; 7] = [
    0,
    PATH,
    REFERRER,
    SOURCE,
    PATH | REFERRER,
    PATH | SOURCE,
    REFERRER | SOURCE,
];

/// The dimensions a filter fixes.
pub fn dims_of(filter: &Filter) -> u8 {
    let bit = |set: bool, b: u8| if set { b } else { 0 };
    bit(filter.page.is_some(), PATH)
        | bit(filter.referrer.is_some(), REFERRER)
        | bit(filter.source.is_some(), SOURCE)
}

/// What a span's cells can answer: the groupings a summary with this filter reads, or
/// `None` when rollups cannot answer it (two filters, an hourly series of a subset, or
/// one origin).
pub fn groupings(filter: &Filter, bucket: Bucket) -> Option<[u8; 4]> {
    if filter.origin.is_some() {
        // Cells hold every origin together.
        return None;
    }
    let base = dims_of(filter);
    let answerable = base.count_ones() <= 1 && (bucket != Bucket::Hour || base == 0);
    answerable.then_some([base, base | PATH, base | REFERRER, base | SOURCE])
}

/// Additive counts of the views of one cell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Agg {
    pub views: i64,
    pub uniques: i64,
    pub entries: i64,
    /// Distinct visitors within the cell's day (or hour).
    pub visitors: i64,
    /// Client-flagged unique views among entries.
    pub entry_uniques: i64,
    /// Distinct visitors among entries.
    pub entry_visitors: i64,
}

impl std::ops::AddAssign for Agg {
    fn add_assign(&mut self, o: Agg) {
        self.views += o.views;
        self.uniques += o.uniques;
        self.entries += o.entries;
        self.visitors += o.visitors;
        self.entry_uniques += o.entry_uniques;
        self.entry_visitors += o.entry_visitors;
    }
}

impl Agg {
    fn counts(self) -> Counts {
        let n = |v: i64| v.max(0) as u64;
        Counts {
            views: n(self.views),
            uniques: n(self.uniques),
            visitors: n(self.visitors),
            entries: n(self.entries),
        }
    }

    /// The counts of the entry views alone, as the entry-pages list shows them.
    fn entry_counts(self) -> Counts {
        let n = |v: i64| v.max(0) as u64;
        Counts {
            views: n(self.entries),
            uniques: n(self.entry_uniques),
            visitors: n(self.entry_visitors),
            entries: n(self.entries),
        }
    }
}

/// The span a cell counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// A UTC hour, by its first millisecond.
    Hour(i64),
    Day(NaiveDate),
    /// A UTC month, by its first day.
    Month(NaiveDate),
}

impl Period {
    /// The stored key: `YYYY-MM-DDTHH`, `YYYY-MM-DD` or `YYYY-MM`.
    pub fn key(self) -> String {
        match self {
            Period::Hour(ms) => chrono::DateTime::from_timestamp_millis(ms)
                .unwrap_or_default()
                .format("%Y-%m-%dT%H")
                .to_string(),
            Period::Day(d) => d.format("%Y-%m-%d").to_string(),
            Period::Month(d) => d.format("%Y-%m").to_string(),
        }
    }

    /// The period a stored key names.
    pub fn parse(key: &str) -> Option<Period> {
        match key.len() {
            7 => NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d")
                .ok()
                .map(Period::Month),
            10 => NaiveDate::parse_from_str(key, "%Y-%m-%d")
                .ok()
                .map(Period::Day),
            13 => chrono::NaiveDateTime::parse_from_str(&format!("{key}:00"), "%Y-%m-%dT%H:%M")
                .ok()
                .map(|t| Period::Hour(t.and_utc().timestamp_millis())),
            _ => None,
        }
    }

    pub fn start_ms(self) -> i64 {
        match self {
            Period::Hour(ms) => ms,
            Period::Day(d) | Period::Month(d) => day_start(d),
        }
    }
}

/// The first millisecond of a UTC day.
pub fn day_start(day: NaiveDate) -> i64 {
    day.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or_default()
}

/// The first day of `day`'s month.
pub fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// One rollup row: the counts of the views of a period with these dimension values.
/// Dimensions a cell does not group by are empty; a view with no referrer groups
/// under [`DIRECT`], one with no source under the empty string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub period: Period,
    pub dims: u8,
    pub path: String,
    pub referrer: String,
    pub source: String,
    pub agg: Agg,
}

#[derive(Default)]
struct Tally<'a> {
    agg: Agg,
    visitors: HashSet<&'a str>,
    entry_visitors: HashSet<&'a str>,
}

impl<'a> Tally<'a> {
    fn add(&mut self, v: &'a View) {
        self.agg.views += 1;
        self.agg.uniques += i64::from(v.unique);
        self.visitors.insert(&v.visitor);
        if v.entry {
            self.agg.entries += 1;
            self.agg.entry_uniques += i64::from(v.unique);
            self.entry_visitors.insert(&v.visitor);
        }
    }
}

type Key<'a> = (Period, u8, &'a str, &'a str, &'a str);

/// The cells of `views` for each grouping in `sets` by UTC day, plus hourly cells of
/// all of them when `hourly`. Views may span several days.
pub fn cube<'a>(views: &'a [View], sets: &[u8], hourly: bool) -> Vec<Cell> {
    let mut tallies: HashMap<Key<'a>, Tally<'a>> = HashMap::new();
    let mut day: Option<(i64, NaiveDate)> = None;
    for v in views {
        let d = match day {
            Some((start, d)) if v.ts_ms >= start && v.ts_ms - start < 86_400_000 => d,
            _ => {
                let d = utc_day(v.ts_ms);
                day = Some((day_start(d), d));
                d
            }
        };
        let referrer = v.referrer.as_deref().unwrap_or(DIRECT);
        let source = v.source.as_deref().unwrap_or("");
        let mut add = |key: Key<'a>| tallies.entry(key).or_default().add(v);
        for &dims in sets {
            let pick = |bit: u8, value: &'static str, actual| {
                if dims & bit != 0 {
                    actual
                } else {
                    value
                }
            };
            add((
                Period::Day(d),
                dims,
                pick(PATH, "", v.path.as_str()),
                pick(REFERRER, "", referrer),
                pick(SOURCE, "", source),
            ));
        }
        if hourly {
            let hour = v.ts_ms - v.ts_ms.rem_euclid(3_600_000);
            add((Period::Hour(hour), HOURLY, "", "", ""));
        }
    }
    tallies
        .into_iter()
        .map(|((period, dims, path, referrer, source), t)| Cell {
            period,
            dims,
            path: path.to_owned(),
            referrer: referrer.to_owned(),
            source: source.to_owned(),
            agg: Agg {
                visitors: t.visitors.len() as i64,
                entry_visitors: t.entry_visitors.len() as i64,
                ..t.agg
            },
        })
        .collect()
}

/// What a cell counts toward in a summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Role {
    /// Totals and top lists (each view of the range exactly once).
    pub totals: bool,
    /// The series (each view of the range exactly once, at the series' grain).
    pub series: bool,
}

/// Builds a summary from cells, each counted in the roles its reader gives it.
pub struct Assembly {
    base: u8,
    bucket: Bucket,
    series: HashMap<String, Agg>,
    totals: Agg,
    pages: HashMap<String, Agg>,
    referrers: HashMap<String, Agg>,
    sources: HashMap<String, Agg>,
}

impl Assembly {
    /// An empty summary of a query with `filter`'s dimensions, series by `bucket`.
    pub fn new(filter: &Filter, bucket: Bucket) -> Assembly {
        Assembly {
            base: dims_of(filter),
            bucket,
            series: HashMap::new(),
            totals: Agg::default(),
            pages: HashMap::new(),
            referrers: HashMap::new(),
            sources: HashMap::new(),
        }
    }

    /// Counts `cell` (already matching the filter) in `role`.
    pub fn add(&mut self, cell: &Cell, role: Role) {
        let base = self.base;
        if role.series && (cell.dims == base || (cell.dims == HOURLY && base == 0)) {
            let label = self.bucket.label(cell.period.start_ms());
            *self.series.entry(label).or_default() += cell.agg;
        }
        if !role.totals {
            return;
        }
        if cell.dims == base {
            self.totals += cell.agg;
        }
        if cell.dims == base | PATH {
            *self.pages.entry(cell.path.clone()).or_default() += cell.agg;
        }
        if cell.dims == base | REFERRER {
            *self.referrers.entry(cell.referrer.clone()).or_default() += cell.agg;
        }
        if cell.dims == base | SOURCE && !cell.source.is_empty() {
            *self.sources.entry(cell.source.clone()).or_default() += cell.agg;
        }
    }

    /// The summary over `labels`' buckets, `top` rows per list.
    pub fn finish(mut self, labels: Vec<String>, top: usize) -> Summary {
        let entries = self
            .pages
            .iter()
            .filter(|(_, a)| a.entries > 0)
            .map(|(name, a)| Ranked {
                name: name.clone(),
                counts: a.entry_counts(),
            })
            .collect();
        let ranked = |rows: HashMap<String, Agg>| {
            rows.into_iter()
                .map(|(name, a)| Ranked {
                    name,
                    counts: a.counts(),
                })
                .collect()
        };
        Summary {
            series: labels
                .into_iter()
                .map(|bucket| Point {
                    counts: self.series.remove(&bucket).unwrap_or_default().counts(),
                    bucket,
                })
                .collect(),
            totals: self.totals.counts(),
            pages: stats::rank(ranked(self.pages), top, false),
            referrers: stats::rank(ranked(self.referrers), top, false),
            sources: stats::rank(ranked(self.sources), top, false),
            entry_pages: stats::rank(entries, top, true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator, so the comparison covers many shapes.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n
        }
    }

    fn views(seed: u64, n: usize) -> Vec<View> {
        let mut g = Lcg(seed);
        let t0 = 1_767_225_600_000; // 2026-01-01
        let mut out: Vec<View> = (0..n)
            .map(|i| {
                let referrer = ["a.com", "b.com", ""][g.next(3) as usize];
                View {
                    seq: i as i64,
                    ts_ms: t0 + g.next(70 * 86_400_000) as i64,
                    path: format!("/p{}", g.next(5)),
                    referrer: (!referrer.is_empty()).then(|| referrer.to_owned()),
                    source: (g.next(2) == 0).then(|| format!("s{}", g.next(3))),
                    entry: g.next(2) == 0,
                    unique: g.next(3) == 0,
                    visitor: format!("v{}", g.next(8)),
                }
            })
            .collect();
        out.sort_by_key(|v| (v.ts_ms, v.seq));
        out
    }

    fn from_cells(views: &[View], filter: &Filter, bucket: Bucket, labels: &[String]) -> Summary {
        let sets = groupings(filter, bucket).expect("answerable");
        let kept: Vec<View> = views
            .iter()
            .filter(|v| filter.matches(v))
            .cloned()
            .collect();
        // Day cells of every grouping, then month cells summed from them, as stored.
        let cells = cube(&kept, &KEPT, true);
        let mut months: HashMap<(NaiveDate, u8, String, String, String), Agg> = HashMap::new();
        for c in cells.iter().filter(|c| matches!(c.period, Period::Day(_))) {
            let Period::Day(d) = c.period else { continue };
            let key = (
                month_of(d),
                c.dims,
                c.path.clone(),
                c.referrer.clone(),
                c.source.clone(),
            );
            *months.entry(key).or_default() += c.agg;
        }
        let mut a = Assembly::new(filter, bucket);
        for c in &cells {
            let hourly = c.dims == HOURLY;
            let series = if bucket == Bucket::Hour {
                hourly
            } else {
                !hourly
            };
            a.add(
                c,
                Role {
                    totals: false,
                    series,
                },
            );
        }
        for ((m, dims, path, referrer, source), agg) in months {
            if sets.contains(&dims) {
                let cell = Cell {
                    period: Period::Month(m),
                    dims,
                    path,
                    referrer,
                    source,
                    agg,
                };
                a.add(
                    &cell,
                    Role {
                        totals: true,
                        series: false,
                    },
                );
            }
        }
        a.finish(labels.to_vec(), 10)
    }

    #[test]
    fn cells_sum_to_the_raw_summary_for_every_answerable_query() {
        for seed in 1..6 {
            let all = views(seed, 600);
            let (first, last) = (all[0].ts_ms, all[all.len() - 1].ts_ms);
            let filters = [
                Filter::default(),
                Filter {
                    page: Some("/p1".into()),
                    ..Filter::default()
                },
                Filter {
                    referrer: Some(DIRECT.into()),
                    ..Filter::default()
                },
                Filter {
                    source: Some("s2".into()),
                    ..Filter::default()
                },
            ];
            for filter in &filters {
                for bucket in [Bucket::Hour, Bucket::Day, Bucket::Week, Bucket::Month] {
                    if groupings(filter, bucket).is_none() {
                        continue;
                    }
                    let labels = bucket.labels(first, last, 5000).unwrap();
                    let kept: Vec<View> =
                        all.iter().filter(|v| filter.matches(v)).cloned().collect();
                    let want = stats::summarize(&kept, bucket, labels.clone(), 10);
                    let got = from_cells(&all, filter, bucket, &labels);
                    assert_eq!(got, want, "seed {seed} {filter:?} {bucket:?}");
                }
            }
        }
    }

    #[test]
    fn period_keys_round_trip() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        for p in [
            Period::Day(d),
            Period::Month(month_of(d)),
            Period::Hour(day_start(d) + 7 * 3_600_000),
        ] {
            assert_eq!(Period::parse(&p.key()), Some(p), "{}", p.key());
        }
        assert_eq!(
            Period::Hour(day_start(d) + 7 * 3_600_000).key(),
            "2026-03-02T07"
        );
        assert_eq!(Period::parse("2026-3"), None);
    }

    #[test]
    fn only_single_filters_are_answerable() {
        let two = Filter {
            page: Some("/".into()),
            source: Some("x".into()),
            ..Filter::default()
        };
        assert!(groupings(&two, Bucket::Day).is_none());
        let page = Filter {
            page: Some("/".into()),
            ..Filter::default()
        };
        assert!(groupings(&page, Bucket::Hour).is_none());
        assert_eq!(
            groupings(&page, Bucket::Day),
            Some([PATH, PATH, PATH | REFERRER, PATH | SOURCE])
        );
        assert!(groupings(&Filter::default(), Bucket::Hour).is_some());
    }
}
