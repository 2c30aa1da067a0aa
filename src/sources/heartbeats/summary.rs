//! Coding time in WakaTime's public shapes: totals as `text`/`digital`/`decimal`, top
//! lists with percentages per dimension, a summary per day, and range stats. Pure: the
//! handlers read slices from the store and hand them here.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::{json, Value};

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

/// A total as WakaTime gives it (`grand_total`, and each list item).
#[derive(Debug, Serialize)]
pub struct Total {
    pub total_seconds: f64,
    pub text: String,
    pub digital: String,
    pub decimal: String,
    pub hours: i64,
    pub minutes: i64,
    pub seconds: i64,
}

/// The total of `ms`.
pub fn total(ms: i64) -> Total {
    let s = ms / 1000;
    Total {
        total_seconds: secs(ms),
        text: text(s),
        digital: digital(s),
        decimal: decimal(s),
        hours: s / 3600,
        minutes: s % 3600 / 60,
        seconds: s % 60,
    }
}

/// One entry of a top list.
#[derive(Debug, Serialize)]
pub struct Item {
    pub name: String,
    /// Share of the lists' whole time, 0–100.
    pub percent: f64,
    #[serde(flatten)]
    pub total: Total,
}

/// Items of one list, most time first (ties by name), with their share of `all`.
fn items(sums: HashMap<&str, i64>, all: i64) -> Vec<Item> {
    let mut sums: Vec<(&str, i64)> = sums.into_iter().filter(|(_, ms)| *ms > 0).collect();
    sums.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    sums.into_iter()
        .map(|(name, ms)| Item {
            name: name.to_owned(),
            percent: if all > 0 {
                (ms as f64 * 10_000.0 / all as f64).round() / 100.0
            } else {
                0.0
            },
            total: total(ms),
        })
        .collect()
}

/// The top lists of some time, as every WakaTime answer carries them.
#[derive(Debug, Default, Serialize)]
pub struct Lists {
    pub projects: Vec<Item>,
    pub languages: Vec<Item>,
    pub editors: Vec<Item>,
    pub operating_systems: Vec<Item>,
    pub machines: Vec<Item>,
    pub categories: Vec<Item>,
    pub branches: Vec<Item>,
    /// Files, when the time was split by file (a project's summaries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entities: Option<Vec<Item>>,
    /// Never tracked: always empty.
    pub dependencies: Vec<Item>,
}

/// The lists (projects, languages, ... and entities when split by file) of `slices`.
pub fn lists(slices: &[&Slice]) -> Lists {
    let all: i64 = slices.iter().map(|s| s.ms).sum();
    let list = |i: usize| {
        let mut sums: HashMap<&str, i64> = HashMap::new();
        for s in slices {
            *sums.entry(s.group.get(i)).or_default() += s.ms;
        }
        items(sums, all)
    };
    let entities = slices.iter().any(|s| s.entity.is_some()).then(|| {
        let mut sums: HashMap<&str, i64> = HashMap::new();
        for s in slices {
            *sums.entry(s.entity.as_deref().unwrap_or("")).or_default() += s.ms;
        }
        items(sums, all)
    });
    Lists {
        projects: list(0),
        languages: list(1),
        editors: list(2),
        operating_systems: list(3),
        machines: list(4),
        categories: list(5),
        branches: list(6),
        entities,
        dependencies: Vec::new(),
    }
}

fn rfc3339(ms: i64) -> String {
    crate::stats::rfc3339(ms)
}

/// The `range` of one day: its local bounds.
#[derive(Debug, Serialize)]
pub struct DayRange {
    pub date: String,
    pub start: String,
    pub end: String,
    pub text: String,
    pub timezone: &'static str,
}

pub fn day_range(day: NaiveDate, tz: Tz) -> DayRange {
    let (start, end) = day_bounds(day, tz);
    DayRange {
        date: day.to_string(),
        start: rfc3339(start),
        end: rfc3339(end - 1),
        text: day.format("%a %b %-d %Y").to_string(),
        timezone: tz.name(),
    }
}

/// One day's summary (and `statusbar/today`'s `data`).
#[derive(Debug, Serialize)]
pub struct Day {
    pub grand_total: Total,
    #[serde(flatten)]
    pub lists: Lists,
    pub range: DayRange,
}

fn day(slices: &[&Slice], day: NaiveDate, tz: Tz) -> Day {
    Day {
        grand_total: total(slices.iter().map(|s| s.ms).sum()),
        lists: lists(slices),
        range: day_range(day, tz),
    }
}

#[derive(Debug, Serialize)]
pub struct Cumulative {
    pub seconds: f64,
    pub text: String,
    pub digital: String,
    pub decimal: String,
}

#[derive(Debug, Serialize)]
pub struct DailyAverage {
    pub holidays: i64,
    pub days_including_holidays: i64,
    pub days_minus_holidays: i64,
    pub seconds: i64,
    pub text: String,
    pub seconds_including_other_language: i64,
    pub text_including_other_language: String,
}

/// `summaries`: one summary per day of a range, and their totals.
#[derive(Debug, Serialize)]
pub struct Summaries {
    pub data: Vec<Day>,
    pub cumulative_total: Cumulative,
    pub daily_average: DailyAverage,
    pub start: String,
    pub end: String,
}

/// One summary per day of `first..=last` (days without time included, as zeros).
pub fn summaries(slices: &[Slice], first: NaiveDate, last: NaiveDate, tz: Tz) -> Summaries {
    let mut by_day: BTreeMap<NaiveDate, Vec<&Slice>> = BTreeMap::new();
    for s in slices {
        by_day.entry(s.day).or_default().push(s);
    }
    let data: Vec<Day> = first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|d| day(&by_day.remove(&d).unwrap_or_default(), d, tz))
        .collect();
    let all: i64 = slices.iter().map(|s| s.ms).sum();
    let days = data.len().max(1) as i64;
    let s = all / 1000;
    let average = all / days / 1000;
    Summaries {
        data,
        cumulative_total: Cumulative {
            seconds: secs(all),
            text: text(s),
            digital: digital(s),
            decimal: decimal(s),
        },
        daily_average: DailyAverage {
            holidays: 0,
            days_including_holidays: days,
            days_minus_holidays: days,
            seconds: average,
            text: text(average),
            seconds_including_other_language: average,
            text_including_other_language: text(average),
        },
        start: rfc3339(day_bounds(first, tz).0),
        end: rfc3339(day_bounds(last, tz).1 - 1),
    }
}

/// `statusbar/today`.
#[derive(Debug, Serialize)]
pub struct StatusBar {
    pub data: Day,
}

pub fn statusbar(slices: &[Slice], today: NaiveDate, tz: Tz) -> StatusBar {
    let of_today: Vec<&Slice> = slices.iter().filter(|s| s.day == today).collect();
    StatusBar {
        data: day(&of_today, today, tz),
    }
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

#[derive(Debug, Serialize)]
pub struct BestDay {
    pub date: String,
    pub total_seconds: f64,
    pub text: String,
}

/// `stats/{range}`'s `data`.
#[derive(Debug, Serialize)]
pub struct Stats {
    pub total_seconds: f64,
    pub human_readable_total: String,
    pub daily_average: i64,
    pub human_readable_daily_average: String,
    pub days_including_holidays: i64,
    pub days_minus_holidays: usize,
    pub best_day: Option<BestDay>,
    #[serde(flatten)]
    pub lists: Lists,
    pub range: String,
    pub human_readable_range: String,
    pub start: String,
    pub end: String,
    pub timezone: &'static str,
    pub timeout: i64,
    pub user_id: String,
    pub username: String,
    pub is_up_to_date: bool,
    pub percent_calculated: u8,
    pub status: &'static str,
}

#[derive(Debug, Serialize)]
pub struct StatsAnswer {
    pub data: Stats,
}

pub fn stats(slices: &[Slice], range: &StatsRange<'_>) -> StatsAnswer {
    let all: Vec<&Slice> = slices.iter().collect();
    let ms: i64 = all.iter().map(|s| s.ms).sum();
    let mut per_day: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    for s in slices {
        *per_day.entry(s.day).or_default() += s.ms;
    }
    let days = (range.last - range.first).num_days().max(0) + 1;
    let average = ms / days / 1000;
    let best_day = per_day
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(day, ms)| BestDay {
            date: day.to_string(),
            total_seconds: secs(*ms),
            text: text(ms / 1000),
        });
    StatsAnswer {
        data: Stats {
            total_seconds: secs(ms),
            human_readable_total: text(ms / 1000),
            daily_average: average,
            human_readable_daily_average: text(average),
            days_including_holidays: days,
            days_minus_holidays: per_day.len(),
            best_day,
            lists: lists(&all),
            range: range.name.to_owned(),
            human_readable_range: human_range(range.name),
            start: rfc3339(day_bounds(range.first, range.tz).0),
            end: rfc3339(day_bounds(range.last, range.tz).1 - 1),
            timezone: range.tz.name(),
            timeout: range.timeout_minutes,
            user_id: range.user.to_owned(),
            username: range.user.to_owned(),
            is_up_to_date: true,
            percent_calculated: 100,
            status: "ok",
        },
    }
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

/// Today in `tz`.
pub fn today(tz: Tz) -> NaiveDate {
    super::durations::local_day(chrono::Utc::now().timestamp_millis(), tz)
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
        let lists = serde_json::to_value(lists(&[&b, &a])).unwrap();
        let projects = lists["projects"].as_array().unwrap();
        assert_eq!(projects[0]["name"], "a");
        assert_eq!(projects[0]["percent"], 75.0);
        assert_eq!(projects[1]["percent"], 25.0);
        assert_eq!(projects[0]["total_seconds"], 3.0);
    }

    #[test]
    fn summaries_cover_every_day_of_the_range() {
        let s = [slice("2026-11-02", "a", 61_000)];
        let first = "2026-11-01".parse().unwrap();
        let last = "2026-11-03".parse().unwrap();
        let out = serde_json::to_value(summaries(&s, first, last, Tz::UTC)).unwrap();
        assert_eq!(out["data"].as_array().unwrap().len(), 3);
        assert_eq!(out["data"][1]["grand_total"]["total_seconds"], 61.0);
        assert_eq!(out["cumulative_total"]["seconds"], 61.0);
        assert_eq!(out["data"][1]["range"]["date"], "2026-11-02");
    }
}
