//! Coding time in WakaTime's public shapes: totals as `text`/`digital`/`decimal`, top
//! lists with percentages per dimension, a summary per day, and range stats. Pure: the
//! handlers read slices from the store and hand them here.

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde_json::{json, Map, Value};

use super::durations::day_bounds;
use super::store::{Slice, DIMENSIONS};

/// WakaTime's names for the lists of each dimension (`DIMENSIONS` order).
pub const LIST_NAMES: [&str; 7] = [
    "projects",
    "languages",
    "editors",
    "operating_systems",
    "machines",
    "categories",
    "branches",
];

fn plural(n: i64, one: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// `3 hrs 12 mins`, `1 hr 1 min`, `5 mins`, `42 secs`, as WakaTime writes durations.
pub fn text(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    match (h, m) {
        (0, 0) => plural(s, "sec"),
        (0, m) => plural(m, "min"),
        (h, 0) => plural(h, "hr"),
        (h, m) => format!("{} {}", plural(h, "hr"), plural(m, "min")),
    }
}

/// `3:12`: hours and minutes.
pub fn digital(seconds: i64) -> String {
    format!("{}:{:02}", seconds / 3600, seconds % 3600 / 60)
}

/// `3.20`: hours with two decimals.
pub fn decimal(seconds: i64) -> String {
    format!("{:.2}", seconds as f64 / 3600.0)
}

/// A total in seconds from milliseconds, exact to the millisecond.
fn secs(ms: i64) -> f64 {
    ms as f64 / 1000.0
}

/// `grant_total`-style object of `ms`.
pub fn total(ms: i64) -> Value {
    let s = ms / 1000;
    json!({
        "total_seconds": secs(ms),
        "text": text(s),
        "digital": digital(s),
        "decimal": decimal(s),
        "hours": s / 3600,
        "minutes": s % 3600 / 60,
        "seconds": s % 60,
    })
}

/// Items of one list, most time first (ties by name), with their share of `all`.
fn items(sums: HashMap<&str, i64>, all: i64) -> Vec<Value> {
    let mut sums: Vec<(&str, i64)> = sums.into_iter().filter(|(_, ms)| *ms > 0).collect();
    sums.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    sums.into_iter()
        .map(|(name, ms)| {
            let percent = if all > 0 {
                (ms as f64 * 10_000.0 / all as f64).round() / 100.0
            } else {
                0.0
            };
            let mut item = total(ms);
            let fields = item.as_object_mut().expect("total is an object");
            fields.insert("name".into(), name.into());
            fields.insert("percent".into(), percent.into());
            item
        })
        .collect()
}

/// The lists (projects, languages, ... and entities when split by file) of `slices`.
pub fn lists(slices: &[&Slice]) -> Map<String, Value> {
    let all: i64 = slices.iter().map(|s| s.ms).sum();
    let mut out = Map::new();
    for (i, name) in LIST_NAMES.iter().enumerate() {
        let mut sums: HashMap<&str, i64> = HashMap::new();
        for s in slices {
            *sums.entry(s.group.get(i)).or_default() += s.ms;
        }
        out.insert((*name).into(), items(sums, all).into());
    }
    if slices.iter().any(|s| s.entity.is_some()) {
        let mut sums: HashMap<&str, i64> = HashMap::new();
        for s in slices {
            *sums.entry(s.entity.as_deref().unwrap_or("")).or_default() += s.ms;
        }
        out.insert("entities".into(), items(sums, all).into());
    }
    out.insert("dependencies".into(), json!([]));
    out
}

fn rfc3339(ms: i64) -> String {
    crate::stats::rfc3339(ms)
}

/// `range` of one day: its local bounds, as WakaTime gives them.
pub fn day_range(day: NaiveDate, tz: Tz) -> Value {
    let (start, end) = day_bounds(day, tz);
    json!({
        "date": day.to_string(),
        "start": rfc3339(start),
        "end": rfc3339(end - 1),
        "text": day.format("%a %b %-d %Y").to_string(),
        "timezone": tz.name(),
    })
}

/// One summary per day of `first..=last` (days without time included, as zeros).
pub fn summaries(slices: &[Slice], first: NaiveDate, last: NaiveDate, tz: Tz) -> Value {
    let mut by_day: BTreeMap<NaiveDate, Vec<&Slice>> = BTreeMap::new();
    for s in slices {
        by_day.entry(s.day).or_default().push(s);
    }
    let mut data = Vec::new();
    let mut all = 0;
    for day in first.iter_days().take_while(|d| *d <= last) {
        let today = by_day.remove(&day).unwrap_or_default();
        let ms: i64 = today.iter().map(|s| s.ms).sum();
        all += ms;
        let mut entry = lists(&today);
        entry.insert("grand_total".into(), total(ms));
        entry.insert("range".into(), day_range(day, tz));
        data.push(Value::Object(entry));
    }
    let days = data.len().max(1) as i64;
    let s = all / 1000;
    let average = all / days / 1000;
    json!({
        "data": data,
        "cumulative_total": {"seconds": secs(all), "text": text(s), "digital": digital(s), "decimal": decimal(s)},
        "daily_average": {
            "holidays": 0, "days_including_holidays": days, "days_minus_holidays": days,
            "seconds": average, "text": text(average),
            "seconds_including_other_language": average, "text_including_other_language": text(average),
        },
        "start": rfc3339(day_bounds(first, tz).0),
        "end": rfc3339(day_bounds(last, tz).1 - 1),
    })
}

/// `statusbar/today`'s `data`.
pub fn statusbar(slices: &[Slice], day: NaiveDate, tz: Tz) -> Value {
    let today: Vec<&Slice> = slices.iter().filter(|s| s.day == day).collect();
    let ms: i64 = today.iter().map(|s| s.ms).sum();
    let mut data = lists(&today);
    data.insert("grand_total".into(), total(ms));
    data.insert("range".into(), day_range(day, tz));
    json!({ "data": data })
}

/// What a stats answer says of its range.
pub struct StatsRange<'a> {
    pub name: &'a str,
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub user: &'a str,
    pub tz: Tz,
    pub timeout_minutes: i64,
}

/// `stats/{range}`'s `data`.
pub fn stats(slices: &[Slice], range: &StatsRange<'_>) -> Value {
    let all: Vec<&Slice> = slices.iter().collect();
    let ms: i64 = all.iter().map(|s| s.ms).sum();
    let mut per_day: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    for s in slices {
        *per_day.entry(s.day).or_default() += s.ms;
    }
    let days = (range.last - range.first).num_days().max(0) + 1;
    let average = ms / days / 1000;
    let best = per_day
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(day, ms)| json!({"date": day.to_string(), "total_seconds": secs(*ms), "text": text(ms / 1000)}));
    let mut data = lists(&all);
    let extra = json!({
        "total_seconds": secs(ms),
        "human_readable_total": text(ms / 1000),
        "daily_average": average,
        "human_readable_daily_average": text(average),
        "days_including_holidays": days,
        "days_minus_holidays": per_day.len(),
        "best_day": best,
        "range": range.name,
        "human_readable_range": human_range(range.name),
        "start": rfc3339(day_bounds(range.first, range.tz).0),
        "end": rfc3339(day_bounds(range.last, range.tz).1 - 1),
        "timezone": range.tz.name(),
        "timeout": range.timeout_minutes,
        "user_id": range.user,
        "username": range.user,
        "is_up_to_date": true,
        "percent_calculated": 100,
        "status": "ok",
    });
    if let Value::Object(extra) = extra {
        data.extend(extra);
    }
    json!({ "data": data })
}

fn human_range(name: &str) -> String {
    match name {
        "last_7_days" => "last 7 days".into(),
        "last_30_days" => "last 30 days".into(),
        "last_6_months" => "last 6 months".into(),
        "last_year" => "last year".into(),
        "all_time" => "all time".into(),
        other => other.replace('_', " "),
    }
}

/// Kodo-style stats: per workspace (project), one item per file.
pub fn kodo_items(slices: &[Slice]) -> BTreeMap<String, Vec<Value>> {
    let mut files: BTreeMap<(&str, &str, &str, &str), i64> = BTreeMap::new();
    for s in slices {
        let key = (
            s.group.project.as_str(),
            s.entity.as_deref().unwrap_or(""),
            s.group.editor.as_str(),
            s.group.language.as_str(),
        );
        *files.entry(key).or_default() += s.ms;
    }
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for ((workspace, identifier, application, language), ms) in files {
        out.entry(workspace.to_owned()).or_default().push(json!({
            "application": application,
            "type": "file",
            "identifier": identifier,
            "elapsed": ms,
            "language": language,
        }));
    }
    out
}

/// The local day of `ms` in `tz`, for `today`.
pub fn today(tz: Tz) -> NaiveDate {
    tz.from_utc_datetime(&chrono::Utc::now().naive_utc())
        .date_naive()
}

/// `DIMENSIONS` and `LIST_NAMES` name the same dimensions, in the same order.
const _: () = assert!(DIMENSIONS.len() == LIST_NAMES.len());

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::heartbeats::store::Group;

    #[test]
    fn durations_read_like_wakatime() {
        assert_eq!(text(0), "0 secs");
        assert_eq!(text(42), "42 secs");
        assert_eq!(text(60), "1 min");
        assert_eq!(text(3600), "1 hr");
        assert_eq!(text(3660), "1 hr 1 min");
        assert_eq!(text(11_520), "3 hrs 12 mins");
        assert_eq!(digital(11_520), "3:12");
        assert_eq!(decimal(11_520), "3.20");
    }

    fn slice(day: &str, project: &str, ms: i64) -> Slice {
        Slice {
            day: day.parse().unwrap(),
            group: Group {
                project: project.into(),
                ..Group::default()
            },
            entity: None,
            ms,
        }
    }

    #[test]
    fn lists_sort_by_time_with_percentages() {
        let a = slice("2026-11-01", "a", 3_000);
        let b = slice("2026-11-01", "b", 1_000);
        let lists = lists(&[&b, &a]);
        let projects = lists["projects"].as_array().unwrap();
        assert_eq!(projects[0]["name"], "a");
        assert_eq!(projects[0]["percent"], 75.0);
        assert_eq!(projects[1]["percent"], 25.0);
    }

    #[test]
    fn summaries_cover_every_day_of_the_range() {
        let s = [slice("2026-11-02", "a", 61_000)];
        let first = "2026-11-01".parse().unwrap();
        let last = "2026-11-03".parse().unwrap();
        let out = summaries(&s, first, last, Tz::UTC);
        assert_eq!(out["data"].as_array().unwrap().len(), 3);
        assert_eq!(out["data"][1]["grand_total"]["total_seconds"], 61.0);
        assert_eq!(out["cumulative_total"]["seconds"], 61.0);
        assert_eq!(out["data"][1]["range"]["date"], "2026-11-02");
    }
}
