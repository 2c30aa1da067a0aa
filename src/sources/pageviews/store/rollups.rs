//! Exact page-view rollups on SQLite, so a dashboard query over years reads a few
//! thousand cells instead of every view. Closed UTC days are rolled up on first read
//! (then months from their days); an insert into a past day unmarks that day and its
//! month (a trigger, in the commit), and the next read rebuilds them. Today and the
//! partial days at a range's edges are read raw, so answers are always exact.

use std::collections::HashSet;

use chrono::{Days, Months, NaiveDate};
use rusqlite::{params, Connection, Transaction};

use super::sqlite::views;
use crate::sources::pageviews::cube::{
    self, day_start, month_of, Agg, Assembly, Cell, Period, Role, HOURLY, KEPT,
};
use crate::sources::pageviews::salt::utc_day;
use crate::sources::pageviews::stats::{Bucket, Filter, Summary, ViewQuery};
use crate::store::sqlite::SqliteStore;
use crate::store::StoreError;

/// Days rolled up per write transaction, so ingest commits interleave with a cold build.
const DAYS_PER_TX: usize = 16;
/// The stored groupings (`KEPT` and `HOURLY`), as SQL lists: with the grouping in the
/// key before the period, deletes by period use the key instead of scanning the site.
const ALL_DIMS: &str = "0, 1, 2, 4, 3, 5, 6, 8";
const DAY_DIMS: &str = "0, 1, 2, 4, 3, 5, 6";
/// Rebuild-and-read rounds before reading raw (views keep landing in the range's past).
const ROUNDS: usize = 3;

/// How a range splits: closed whole days answered by rollups (with the whole months
/// among them), and the rest read raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Closed whole days `[first, end)`, if any.
    pub closed: Option<(NaiveDate, NaiveDate)>,
    /// Whole months inside the closed days, by their first day.
    pub months: Vec<NaiveDate>,
    /// Millisecond spans read raw: the partial first day, and from the end of the
    /// closed days (today, or a partial last day) to the end of the range.
    pub raw: Vec<(i64, i64)>,
}

impl Plan {
    /// Nothing to read: the range ends before the site's first view.
    fn empty() -> Plan {
        Plan {
            closed: None,
            months: Vec::new(),
            raw: Vec::new(),
        }
    }

    /// The plan of `[from_ms, to_ms)` when `today` is the current UTC day.
    pub fn new(from_ms: i64, to_ms: i64, today: NaiveDate) -> Plan {
        let first = utc_day(from_ms);
        let first = if day_start(first) == from_ms {
            first
        } else {
            first + Days::new(1)
        };
        let end = utc_day(to_ms).min(today);
        if end <= first {
            return Plan {
                closed: None,
                months: Vec::new(),
                raw: vec![(from_ms, to_ms)],
            };
        }
        let mut months = Vec::new();
        let mut month = month_of(first);
        if month < first {
            month = month + Months::new(1);
        }
        while month + Months::new(1) <= end {
            months.push(month);
            month = month + Months::new(1);
        }
        let raw = [(from_ms, day_start(first)), (day_start(end), to_ms)]
            .into_iter()
            .filter(|(a, b)| a < b)
            .collect();
        Plan {
            closed: Some((first, end)),
            months,
            raw,
        }
    }

    /// Every period whose rollup the plan reads: its closed days and whole months.
    fn periods(&self) -> Vec<Period> {
        let mut out: Vec<Period> = self.months.iter().map(|&m| Period::Month(m)).collect();
        if let Some((first, end)) = self.closed {
            out.extend(first.iter_days().take_while(|d| *d < end).map(Period::Day));
        }
        out
    }
}

/// The groupings of `sets` once each.
fn distinct(sets: [u8; 4]) -> Vec<u8> {
    let mut out = Vec::new();
    for s in sets {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// The summary of `query` from rollups and the raw edges; `None` if the filter needs
/// raw views throughout.
pub async fn summary(
    store: &SqliteStore,
    query: &ViewQuery,
    bucket: Bucket,
    labels: Vec<String>,
    top: usize,
    now_ms: i64,
) -> Result<Option<Summary>, StoreError> {
    let Some(sets) = cube::groupings(&query.filter, bucket) else {
        return Ok(None);
    };
    let sets = distinct(sets);
    // Days before the site's first view hold nothing: a range reaching back decades must
    // not roll up (and mark) every one of them. A view landing earlier moves this back.
    let site = query.site.clone();
    let first = store.with_reader(move |c| first_view_ms(c, &site)).await?;
    let from_ms = first.map_or(query.to_ms, |ms| query.from_ms.max(day_start(utc_day(ms))));
    let plan = if from_ms < query.to_ms {
        Plan::new(from_ms, query.to_ms, utc_day(now_ms))
    } else {
        Plan::empty()
    };
    for _ in 0..ROUNDS {
        let (q, p, s) = (query.clone(), plan.clone(), sets.clone());
        let read = store
            .with_reader(move |c| read(c, &q, &p, &s, bucket))
            .await?;
        let missing = match read {
            Ok(assembly) => return Ok(Some(assembly.finish(labels, top))),
            Err(missing) => missing,
        };
        build(store, &query.site, missing).await?;
    }
    Ok(None)
}

/// When the site's first view was taken, if it has any.
fn first_view_ms(c: &Connection, site: &str) -> Result<Option<i64>, StoreError> {
    Ok(
        c.prepare_cached("SELECT MIN(ts_ms) FROM pageviews WHERE site = ?1 AND name = 'pageview'")?
            .query_row([site], |r| r.get(0))?,
    )
}

/// Rolls up the missing days (a few per transaction), then the missing months.
async fn build(store: &SqliteStore, site: &str, missing: Vec<Period>) -> Result<(), StoreError> {
    let (days, months): (Vec<Period>, Vec<Period>) = missing
        .into_iter()
        .partition(|p| matches!(p, Period::Day(_)));
    tracing::debug!(
        site,
        days = days.len(),
        months = months.len(),
        "rolling up page views"
    );
    for chunk in days.chunks(DAYS_PER_TX) {
        let (site, chunk) = (site.to_owned(), chunk.to_vec());
        store
            .with_write_tx(move |tx| {
                for p in chunk {
                    if let Period::Day(day) = p {
                        roll_day(tx, &site, day)?;
                    }
                }
                Ok(())
            })
            .await?;
    }
    if !months.is_empty() {
        let site = site.to_owned();
        store
            .with_write_tx(move |tx| {
                for p in months {
                    if let Period::Month(month) = p {
                        roll_month(tx, &site, month)?;
                    }
                }
                Ok(())
            })
            .await?;
    }
    Ok(())
}

fn mark(tx: &Transaction<'_>, site: &str, period: Period) -> Result<(), StoreError> {
    tx.prepare_cached("INSERT OR IGNORE INTO pageview_rolled (site, period) VALUES (?1, ?2)")?
        .execute(params![site, period.key()])?;
    Ok(())
}

/// Replaces `day`'s cells of `site` with those of its raw views, and marks it rolled.
fn roll_day(tx: &Transaction<'_>, site: &str, day: NaiveDate) -> Result<(), StoreError> {
    let key = Period::Day(day).key();
    tx.prepare_cached(&format!(
        "DELETE FROM pageview_rollups
         WHERE site = ?1 AND dims IN ({ALL_DIMS}) AND period >= ?2 AND period < ?2 || '~'"
    ))?
    .execute(params![site, key])?;
    let all = ViewQuery {
        site: site.to_owned(),
        from_ms: day_start(day),
        to_ms: day_start(day) + 86_400_000,
        filter: Filter::default(),
    };
    let cells = cube::cube(&views(tx, &all)?, &KEPT, true);
    let mut insert = tx.prepare_cached(
        "INSERT OR REPLACE INTO pageview_rollups (site, dims, period, path, referrer, source,
             views, uniques, entries, visitors, entry_uniques, entry_visitors)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for c in cells {
        let a = c.agg;
        insert.execute(params![
            site,
            c.dims,
            c.period.key(),
            c.path,
            c.referrer,
            c.source,
            a.views,
            a.uniques,
            a.entries,
            a.visitors,
            a.entry_uniques,
            a.entry_visitors
        ])?;
    }
    mark(tx, site, Period::Day(day))
}

/// Replaces `month`'s cells of `site` with the sums of its days' cells, and marks it
/// rolled, if every day of it is rolled (else a later read rolls the days first).
fn roll_month(tx: &Transaction<'_>, site: &str, month: NaiveDate) -> Result<(), StoreError> {
    let key = Period::Month(month).key();
    let days = month
        .iter_days()
        .take_while(|d| month_of(*d) == month)
        .count() as i64;
    let rolled: i64 = tx
        .prepare_cached(
            "SELECT COUNT(*) FROM pageview_rolled
             WHERE site = ?1 AND period > ?2 AND period < ?2 || '~'",
        )?
        .query_row(params![site, key], |r| r.get(0))?;
    if rolled != days {
        return Ok(());
    }
    tx.prepare_cached(&format!(
        "DELETE FROM pageview_rollups WHERE site = ?1 AND dims IN ({DAY_DIMS}) AND period = ?2"
    ))?
    .execute(params![site, key])?;
    tx.prepare_cached(&format!(
        "INSERT INTO pageview_rollups (site, dims, period, path, referrer, source,
             views, uniques, entries, visitors, entry_uniques, entry_visitors)
         SELECT site, dims, ?2, path, referrer, source, SUM(views), SUM(uniques),
             SUM(entries), SUM(visitors), SUM(entry_uniques), SUM(entry_visitors)
         FROM pageview_rollups
         WHERE site = ?1 AND dims IN ({DAY_DIMS}) AND period > ?2 AND period < ?2 || '~'
         GROUP BY site, dims, path, referrer, source"
    ))?
    .execute(params![site, key])?;
    mark(tx, site, Period::Month(month))
}

/// Reads the plan's cells and raw edges in one snapshot, or names the periods not
/// rolled up yet. The series reads day (or hour) cells of the filter's grouping; totals
/// and top lists read cells summed by SQLite over the whole months, then the other days.
fn read(
    c: &Connection,
    q: &ViewQuery,
    plan: &Plan,
    sets: &[u8],
    bucket: Bucket,
) -> Result<Result<Assembly, Vec<Period>>, StoreError> {
    let snapshot = c.unchecked_transaction()?;
    let periods = plan.periods();
    if !periods.is_empty() {
        let rolled = rolled(&snapshot, &q.site, &periods)?;
        let missing: Vec<Period> = periods
            .into_iter()
            .filter(|p| !rolled.contains(&p.key()))
            .collect();
        if !missing.is_empty() {
            return Ok(Err(missing));
        }
    }
    let mut assembly = Assembly::new(&q.filter, bucket);
    let hourly = bucket == Bucket::Hour;
    let series = Role {
        totals: false,
        series: true,
    };
    let totals = Role {
        totals: true,
        series: false,
    };
    if let Some((first, end)) = plan.closed {
        let (dims, len) = if hourly { (HOURLY, 13) } else { (sets[0], 10) };
        let span = Span::new(Period::Day(first).key(), Period::Day(end).key(), len);
        for cell in cells(&snapshot, q, dims, &span, false)? {
            assembly.add(&cell, series);
        }
        for span in summed_spans(plan, first, end) {
            for &dims in sets {
                for cell in cells(&snapshot, q, dims, &span, true)? {
                    assembly.add(&cell, totals);
                }
            }
        }
    }
    for &(from_ms, to_ms) in &plan.raw {
        let span = ViewQuery {
            from_ms,
            to_ms,
            ..q.clone()
        };
        for cell in cube::cube(&views(&snapshot, &span)?, sets, hourly) {
            let is_hour = cell.dims == HOURLY;
            let role = Role {
                totals: !is_hour,
                series: is_hour == hourly,
            };
            assembly.add(&cell, role);
        }
    }
    Ok(Ok(assembly))
}

/// Period keys `[from, to)` of one length: 7 months, 10 days, 13 hours.
struct Span {
    from: String,
    to: String,
    len: i64,
}

impl Span {
    fn new(from: String, to: String, len: i64) -> Span {
        Span { from, to, len }
    }
}

/// The spans totals read for closed days `[first, end)`: the whole months, and the
/// days before and after them.
fn summed_spans(plan: &Plan, first: NaiveDate, end: NaiveDate) -> Vec<Span> {
    let day = |d: NaiveDate| Period::Day(d).key();
    let (Some(m0), Some(m1)) = (plan.months.first(), plan.months.last()) else {
        return vec![Span::new(day(first), day(end), 10)];
    };
    let after = *m1 + Months::new(1);
    let mut out = vec![Span::new(
        Period::Month(*m0).key(),
        Period::Month(after).key(),
        7,
    )];
    if first < *m0 {
        out.push(Span::new(day(first), day(*m0), 10));
    }
    if after < end {
        out.push(Span::new(day(after), day(end), 10));
    }
    out
}

/// The keys among `periods` that are rolled up for `site`.
fn rolled(c: &Connection, site: &str, periods: &[Period]) -> Result<HashSet<String>, StoreError> {
    let keys: Vec<String> = periods.iter().map(|p| p.key()).collect();
    let (lo, hi) = match (keys.iter().min(), keys.iter().max()) {
        (Some(lo), Some(hi)) => (lo.clone(), hi.clone()),
        _ => return Ok(HashSet::new()),
    };
    let mut stmt = c.prepare_cached(
        "SELECT period FROM pageview_rolled WHERE site = ?1 AND period >= ?2 AND period <= ?3",
    )?;
    let found = stmt
        .query_map(params![site, lo, hi], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    Ok(found)
}

/// The stored cells of grouping `dims` in `span` that match the query's filter; with
/// `summed`, one cell per dimension value summed over the span (SQLite adds them up).
fn cells(
    c: &Connection,
    q: &ViewQuery,
    dims: u8,
    span: &Span,
    summed: bool,
) -> Result<Vec<Cell>, StoreError> {
    let (period, sums, group) = if summed {
        (
            "NULL",
            "SUM(views), SUM(uniques), SUM(entries), SUM(visitors), SUM(entry_uniques), \
             SUM(entry_visitors)",
            "GROUP BY path, referrer, source",
        )
    } else {
        (
            "period",
            "views, uniques, entries, visitors, entry_uniques, entry_visitors",
            "",
        )
    };
    // Only the given filters, as plain equalities, so SQLite can seek the index on
    // that dimension instead of scanning the grouping's cells of the span.
    let f = &q.filter;
    let mut filters = String::new();
    let mut index = String::new();
    let mut args: Vec<&dyn rusqlite::ToSql> = vec![&q.site, &dims, &span.from, &span.to, &span.len];
    for (column, value) in [
        ("path", &f.page),
        ("referrer", &f.referrer),
        ("source", &f.source),
    ] {
        if let Some(value) = value {
            filters.push_str(&format!(" AND {column} = ?"));
            args.push(value);
            // Without statistics SQLite prefers the key's period range to an equality
            // on an index, though the value is by far the narrower.
            if index.is_empty() {
                index = format!("INDEXED BY pageview_rollups_by_{column}");
            }
        }
    }
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {period}, path, referrer, source, {sums}
         FROM pageview_rollups {index}
         WHERE site = ?1 AND dims = ?2 AND period >= ?3 AND period < ?4 AND length(period) = ?5
           {filters}
         {group}"
    ))?;
    let rows = stmt.query_map(args.as_slice(), |r| {
        let key: Option<String> = r.get(0)?;
        let cell = Cell {
            period: Period::Day(NaiveDate::MIN),
            dims,
            path: r.get(1)?,
            referrer: r.get(2)?,
            source: r.get(3)?,
            agg: Agg {
                views: r.get(4)?,
                uniques: r.get(5)?,
                entries: r.get(6)?,
                visitors: r.get(7)?,
                entry_uniques: r.get(8)?,
                entry_visitors: r.get(9)?,
            },
        };
        Ok((key, cell))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (key, mut cell) = row?;
        if let Some(key) = key {
            cell.period = Period::parse(&key)
                .ok_or_else(|| StoreError::Corrupt(format!("page-view rollup period `{key}`")))?;
        }
        out.push(cell);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_sql_lists_name_every_stored_grouping() {
        let list = |s: &str| -> Vec<u8> { s.split(", ").map(|d| d.parse().unwrap()).collect() };
        let mut day = list(DAY_DIMS);
        day.sort();
        let mut kept = KEPT.to_vec();
        kept.sort();
        assert_eq!(day, kept);
        assert_eq!(list(ALL_DIMS), [list(DAY_DIMS), vec![HOURLY]].concat());
    }

    #[test]
    fn a_range_splits_into_raw_edges_closed_days_and_whole_months() {
        let p = Plan::new(
            ms("2026-01-30T12:00:00Z"),
            ms("2026-04-02T06:00:00Z"),
            day("2026-11-01"),
        );
        assert_eq!(p.closed, Some((day("2026-01-31"), day("2026-04-02"))));
        assert_eq!(p.months, vec![day("2026-02-01"), day("2026-03-01")]);
        assert_eq!(
            p.raw,
            vec![
                (ms("2026-01-30T12:00:00Z"), ms("2026-01-31T00:00:00Z")),
                (ms("2026-04-02T00:00:00Z"), ms("2026-04-02T06:00:00Z")),
            ]
        );
        let spans = summed_spans(&p, day("2026-01-31"), day("2026-04-02"));
        let spans: Vec<_> = spans
            .iter()
            .map(|s| (s.from.as_str(), s.to.as_str(), s.len))
            .collect();
        assert_eq!(
            spans,
            [
                ("2026-02", "2026-04", 7),
                ("2026-01-31", "2026-02-01", 10),
                ("2026-04-01", "2026-04-02", 10)
            ]
        );
        assert_eq!(p.periods().len(), 2 + 61);
    }

    #[test]
    fn today_and_ranges_within_a_day_are_read_raw() {
        let today = day("2026-03-10");
        let p = Plan::new(
            ms("2026-03-08T00:00:00Z"),
            ms("2026-03-11T00:00:00Z"),
            today,
        );
        assert_eq!(p.closed, Some((day("2026-03-08"), today)));
        assert!(p.months.is_empty());
        assert_eq!(
            p.raw,
            vec![(ms("2026-03-10T00:00:00Z"), ms("2026-03-11T00:00:00Z"))]
        );
        let inside = Plan::new(
            ms("2026-03-01T01:00:00Z"),
            ms("2026-03-01T05:00:00Z"),
            today,
        );
        assert_eq!(inside.closed, None);
        assert_eq!(
            inside.raw,
            vec![(ms("2026-03-01T01:00:00Z"), ms("2026-03-01T05:00:00Z"))]
        );
        let future = Plan::new(
            ms("2026-03-12T00:00:00Z"),
            ms("2026-03-14T00:00:00Z"),
            today,
        );
        assert_eq!(future.closed, None);
    }
}
