//! Coding time computed from editor heartbeats.
//!
//! WakaTime-style heartbeats carry no duration, so the server joins nearby heartbeats into time
//! and credits it per local day and key; Kodo-style heartbeats carry their own elapsed time.
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone};
use chrono_tz::Tz;

/// One heartbeat as durations see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beat<K> {
    /// Unix milliseconds.
    pub time_ms: i64,
    /// Kodo-style heartbeats carry the time the client says it worked, ending at `time_ms`.
    pub elapsed_ms: Option<i64>,
    /// What the time is credited to (the group: project, language, editor, ...; and the file).
    pub key: K,
}

/// How heartbeats become time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// Gaps shorter than this join two heartbeats (1–60 minutes, default 10).
    pub timeout_ms: i64,
    /// Days split at midnight here.
    pub tz: Tz,
}

/// The largest timeout and the largest elapsed time a heartbeat may carry: callers load
/// every heartbeat in [from - MARGIN_MS, to + MARGIN_MS) to compute the window [from, to).
pub const MARGIN_MS: i64 = 60 * 60 * 1000;

/// Instants are clamped to ±this (about year ±253,000) before calendar maths, well inside
/// chrono's range, so no conversion can overflow.
const LIMIT_MS: i64 = 8_000_000_000_000_000;

/// How far past a nonexistent local midnight to look for the first valid local time
/// (the longest known gap is a whole skipped day, Pacific/Apia 2011-12-30).
const MAX_GAP_MINUTES: i64 = 48 * 60;

/// How many neighbouring days to try when an instant's local date does not contain it
/// (possible when a clock goes back across midnight).
const MAX_DAY_STEPS: usize = 4;

/// Milliseconds credited to each (local day, key) inside `window` = [from_ms, to_ms).
///
/// Beats without `elapsed_ms` are sorted by (time, key), deduplicated, and each gap strictly
/// below `rules.timeout_ms` (clamped to [`MARGIN_MS`]) is credited to the earlier beat's key.
/// Beats with `elapsed_ms` credit [time - elapsed, time) to their own key (elapsed clamped to
/// [`MARGIN_MS`], non-positive credits nothing) and take no part in the pairing. Every span is
/// clipped to the window and split at local midnights of `rules.tz`; zero entries are omitted.
pub fn durations<K: Ord + Clone>(
    mut beats: Vec<Beat<K>>,
    rules: Rules,
    window: (i64, i64),
) -> BTreeMap<(NaiveDate, K), i64> {
    let mut map = BTreeMap::new();
    if window.0 >= window.1 || beats.is_empty() {
        return map;
    }
    beats.sort_unstable_by(|a, b| {
        (a.time_ms, &a.key, a.elapsed_ms).cmp(&(b.time_ms, &b.key, b.elapsed_ms))
    });
    beats.dedup();

    let timeout = rules.timeout_ms.min(MARGIN_MS);
    let mut waka = Stream::new(rules.tz);
    let mut kodo = Stream::new(rules.tz);
    let mut prev: Option<&Beat<K>> = None;
    for beat in &beats {
        match beat.elapsed_ms {
            Some(elapsed) => {
                if let Some(span) = elapsed_span(beat.time_ms, elapsed) {
                    kodo.credit(clip(span, window), &beat.key, &mut map);
                }
            }
            None => {
                if let Some(p) = prev {
                    if let Some(span) = joined_span(p.time_ms, beat.time_ms, timeout) {
                        waka.credit(clip(span, window), &p.key, &mut map);
                    }
                }
                prev = Some(beat);
            }
        }
    }
    waka.flush(&mut map);
    kodo.flush(&mut map);
    map
}

/// The UTC bounds [start, end) of local day `day` in `tz`.
///
/// A bound is the earliest instant at or after local 00:00; when midnight falls in a gap,
/// that is the first instant after the gap (so a skipped day has `start == end`).
pub fn day_bounds(day: NaiveDate, tz: Tz) -> (i64, i64) {
    let start = local_midnight(day, tz);
    let end = day
        .succ_opt()
        .map_or(i64::MAX, |next| local_midnight(next, tz));
    (start, end)
}

/// The local day that instant `ms` falls on in `tz`.
///
/// Instants beyond about year ±253,000 are clamped to that range.
pub fn local_day(ms: i64, tz: Tz) -> NaiveDate {
    let clamped = ms.clamp(-LIMIT_MS, LIMIT_MS);
    DateTime::from_timestamp_millis(clamped)
        .map_or(NaiveDate::MIN, |utc| utc.with_timezone(&tz).date_naive())
}

/// The span a pair of consecutive beats credits, if their gap is below the timeout.
fn joined_span(t0: i64, t1: i64, timeout: i64) -> Option<(i64, i64)> {
    let gap = t1.checked_sub(t0)?;
    (gap < timeout).then_some((t0, t1))
}

/// The span a beat with its own elapsed time credits.
fn elapsed_span(time: i64, elapsed: i64) -> Option<(i64, i64)> {
    (elapsed > 0).then(|| (time.saturating_sub(elapsed.min(MARGIN_MS)), time))
}

/// `span` intersected with `window` (possibly empty: start >= end).
fn clip(span: (i64, i64), window: (i64, i64)) -> (i64, i64) {
    (span.0.max(window.0), span.1.min(window.1))
}

/// The UTC instant (ms) of the earliest valid local time at or after local 00:00 of `day`.
fn local_midnight(day: NaiveDate, tz: Tz) -> i64 {
    let naive = day.and_time(NaiveTime::MIN);
    match tz.from_local_datetime(&naive).earliest() {
        Some(dt) => dt.timestamp_millis(),
        None => after_gap(naive, tz).unwrap_or_else(|| naive.and_utc().timestamp_millis()),
    }
}

/// The first instant whose local time is at or after the nonexistent local time `naive`.
fn after_gap(naive: NaiveDateTime, tz: Tz) -> Option<i64> {
    let found = (1..=MAX_GAP_MINUTES).find_map(|m| {
        let candidate = naive.checked_add_signed(TimeDelta::try_minutes(m)?)?;
        tz.from_local_datetime(&candidate).earliest()
    })?;
    // the transition lies within the minute before `found`: transitions are whole seconds
    let mut hi = found.timestamp();
    let mut lo = hi.checked_sub(60)?;
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let local = DateTime::from_timestamp(mid, 0).map(|d| d.with_timezone(&tz).naive_local());
        if local.is_some_and(|l| l >= naive) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi.checked_mul(1000)
}

/// The bounds of the local day last looked up, so most lookups cost two comparisons.
struct DayCache {
    day: NaiveDate,
    start: i64,
    end: i64,
}

impl DayCache {
    fn contains(&self, ms: i64) -> bool {
        self.start <= ms && ms < self.end
    }

    /// Where the piece of [a, b) on `a`'s local day ends.
    fn piece_end(&mut self, a: i64, b: i64, tz: Tz) -> i64 {
        if !self.contains(a) {
            self.relocate(a, tz);
        }
        if self.contains(a) {
            b.min(self.end)
        } else {
            // only for instants beyond the clamped calendar range: credit the rest here
            b
        }
    }

    fn relocate(&mut self, ms: i64, tz: Tz) {
        let mut day = local_day(ms, tz);
        let (mut start, mut end) = day_bounds(day, tz);
        for _ in 0..MAX_DAY_STEPS {
            let next = if ms >= end {
                day.succ_opt()
            } else if ms < start {
                day.pred_opt()
            } else {
                None
            };
            let Some(next) = next else { break };
            day = next;
            (start, end) = day_bounds(day, tz);
        }
        *self = DayCache { day, start, end };
    }
}

/// One stream of credited spans: its day cache and the run of credits not yet in the map,
/// so consecutive credits to the same (day, key) clone the key once.
struct Stream<'a, K> {
    tz: Tz,
    cache: DayCache,
    pending: Option<(NaiveDate, &'a K, i64)>,
}

impl<'a, K: Ord + Clone> Stream<'a, K> {
    fn new(tz: Tz) -> Self {
        let cache = DayCache {
            day: NaiveDate::MIN,
            start: 0,
            end: 0,
        };
        Stream {
            tz,
            cache,
            pending: None,
        }
    }

    /// Credits [a, b) to `key`, split at local midnights (nothing if empty).
    fn credit(
        &mut self,
        (mut a, b): (i64, i64),
        key: &'a K,
        map: &mut BTreeMap<(NaiveDate, K), i64>,
    ) {
        while a < b {
            let stop = self.cache.piece_end(a, b, self.tz);
            self.add(self.cache.day, key, stop.saturating_sub(a), map);
            a = stop;
        }
    }

    fn add(
        &mut self,
        day: NaiveDate,
        key: &'a K,
        ms: i64,
        map: &mut BTreeMap<(NaiveDate, K), i64>,
    ) {
        if let Some((d, k, total)) = &mut self.pending {
            if *d == day && *k == key {
                *total = total.saturating_add(ms);
                return;
            }
        }
        self.flush(map);
        self.pending = Some((day, key, ms));
    }

    fn flush(&mut self, map: &mut BTreeMap<(NaiveDate, K), i64>) {
        if let Some((day, key, ms)) = self.pending.take() {
            if ms > 0 {
                let total = map.entry((day, key.clone())).or_insert(0);
                *total = total.saturating_add(ms);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60 * 1000;
    const HOUR: i64 = 60 * MIN;
    const DAY: i64 = 24 * HOUR;

    fn utc_rules() -> Rules {
        Rules {
            timeout_ms: 10 * MIN,
            tz: Tz::UTC,
        }
    }

    fn rules_in(tz: Tz) -> Rules {
        Rules {
            timeout_ms: 10 * MIN,
            tz,
        }
    }

    fn beat(time_ms: i64, key: &'static str) -> Beat<&'static str> {
        Beat {
            time_ms,
            elapsed_ms: None,
            key,
        }
    }

    fn kodo(time_ms: i64, elapsed_ms: i64, key: &'static str) -> Beat<&'static str> {
        Beat {
            time_ms,
            elapsed_ms: Some(elapsed_ms),
            key,
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    /// Unix ms of a UTC wall time, computed without any time zone.
    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        date(y, mo, d)
            .and_hms_opt(h, mi, 0)
            .expect("valid test time")
            .and_utc()
            .timestamp_millis()
    }

    const ALL: (i64, i64) = (i64::MIN, i64::MAX);

    fn total<K>(map: &BTreeMap<(NaiveDate, K), i64>) -> i64 {
        map.values().sum()
    }

    #[test]
    fn joins_beats_below_the_timeout() {
        let t = utc(2026, 1, 5, 9, 0);
        let beats = vec![beat(t, "a"), beat(t + 2 * MIN, "a"), beat(t + 9 * MIN, "a")];
        let map = durations(beats, utc_rules(), ALL);
        assert_eq!(map.len(), 1);
        assert_eq!(map[&(date(2026, 1, 5), "a")], 9 * MIN);
    }

    #[test]
    fn gap_exactly_at_the_timeout_does_not_join() {
        let t = utc(2026, 1, 5, 9, 0);
        let map = durations(
            vec![beat(t, "a"), beat(t + 10 * MIN, "a")],
            utc_rules(),
            ALL,
        );
        assert!(map.is_empty(), "{map:?}");
    }

    #[test]
    fn gap_one_ms_below_the_timeout_joins() {
        let t = utc(2026, 1, 5, 9, 0);
        let beats = vec![beat(t, "a"), beat(t + 10 * MIN - 1, "a")];
        let map = durations(beats, utc_rules(), ALL);
        assert_eq!(map[&(date(2026, 1, 5), "a")], 10 * MIN - 1);
    }

    #[test]
    fn group_switch_credits_the_previous_key() {
        let t = utc(2026, 1, 5, 9, 0);
        let beats = vec![
            beat(t, "a"),
            beat(t + 3 * MIN, "b"),
            beat(t + 7 * MIN, "b"),
            beat(t + 8 * MIN, "a"),
        ];
        let map = durations(beats, utc_rules(), ALL);
        let day = date(2026, 1, 5);
        assert_eq!(map[&(day, "a")], 3 * MIN);
        assert_eq!(map[&(day, "b")], 5 * MIN);
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn lone_heartbeat_counts_zero() {
        let t = utc(2026, 1, 5, 9, 0);
        let beats = vec![beat(t, "a"), beat(t + HOUR, "b"), beat(t + 3 * HOUR, "a")];
        let map = durations(beats, utc_rules(), ALL);
        assert!(map.is_empty(), "{map:?}");
        assert!(durations(vec![beat(t, "a")], utc_rules(), ALL).is_empty());
        assert!(durations(Vec::<Beat<&str>>::new(), utc_rules(), ALL).is_empty());
    }

    #[test]
    fn span_across_utc_midnight_splits_between_days() {
        let t = utc(2026, 1, 5, 23, 56);
        let beats = vec![beat(t, "a"), beat(t + 6 * MIN, "a")];
        let map = durations(beats, utc_rules(), ALL);
        assert_eq!(map[&(date(2026, 1, 5), "a")], 4 * MIN);
        assert_eq!(map[&(date(2026, 1, 6), "a")], 2 * MIN);
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn span_across_kolkata_midnight_splits_between_days() {
        // Kolkata is +05:30 with no DST: local midnight of Jan 6 is 18:30 UTC on Jan 5
        let t = utc(2026, 1, 5, 18, 27);
        let beats = vec![beat(t, "a"), beat(t + 8 * MIN, "a")];
        let map = durations(beats, rules_in(chrono_tz::Asia::Kolkata), ALL);
        assert_eq!(map[&(date(2026, 1, 5), "a")], 3 * MIN);
        assert_eq!(map[&(date(2026, 1, 6), "a")], 5 * MIN);
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn span_across_berlin_midnight_splits_between_days() {
        // Berlin is +01:00 in January: local midnight of Jan 6 is 23:00 UTC on Jan 5
        let t = utc(2026, 1, 5, 22, 59);
        let beats = vec![beat(t, "a"), beat(t + 2 * MIN, "b"), beat(t + 5 * MIN, "b")];
        let map = durations(beats, rules_in(chrono_tz::Europe::Berlin), ALL);
        assert_eq!(map[&(date(2026, 1, 5), "a")], MIN);
        assert_eq!(map[&(date(2026, 1, 6), "a")], MIN);
        assert_eq!(map[&(date(2026, 1, 6), "b")], 3 * MIN);
        assert_eq!(map.len(), 3);
    }

    #[test]
    fn berlin_spring_dst_day_has_23_hours() {
        // 2026-03-29: CET (+1) until 01:00 UTC, then CEST (+2)
        let tz = chrono_tz::Europe::Berlin;
        let start = utc(2026, 3, 28, 23, 0);
        let end = utc(2026, 3, 29, 22, 0);
        assert_eq!(day_bounds(date(2026, 3, 29), tz), (start, end));
        // a beat every 5 minutes of local wall time from 00:00 to 23:55
        let beats: Vec<_> = (0..(end - start) / (5 * MIN))
            .map(|k| beat(start + k * 5 * MIN, "a"))
            .collect();
        assert_eq!(beats.len(), 23 * 12);
        let map = durations(beats, rules_in(tz), ALL);
        assert_eq!(map[&(date(2026, 3, 29), "a")], 23 * HOUR - 5 * MIN);
        assert_eq!(map.len(), 1);
    }

    #[test]
    fn berlin_autumn_dst_day_has_25_hours() {
        // 2026-10-25: CEST (+2) until 01:00 UTC, then CET (+1)
        let tz = chrono_tz::Europe::Berlin;
        let start = utc(2026, 10, 24, 22, 0);
        let end = utc(2026, 10, 25, 23, 0);
        assert_eq!(day_bounds(date(2026, 10, 25), tz), (start, end));
        // beats every 5 minutes from local midnight to 5 minutes past the next one
        let beats: Vec<_> = (0..=(end - start) / (5 * MIN) + 1)
            .map(|k| beat(start + k * 5 * MIN, "a"))
            .collect();
        let map = durations(beats, rules_in(tz), ALL);
        assert_eq!(map[&(date(2026, 10, 25), "a")], 25 * HOUR);
        assert_eq!(map[&(date(2026, 10, 26), "a")], 5 * MIN);
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn sao_paulo_midnight_gap_and_fold_use_earliest_valid_instant() {
        let tz = chrono_tz::America::Sao_Paulo;
        // 2018-11-04 00:00 -03 jumped to 01:00 -02, i.e. 03:00 UTC
        assert_eq!(
            day_bounds(date(2018, 11, 3), tz),
            (utc(2018, 11, 3, 3, 0), utc(2018, 11, 4, 3, 0))
        );
        assert_eq!(
            day_bounds(date(2018, 11, 4), tz),
            (utc(2018, 11, 4, 3, 0), utc(2018, 11, 5, 2, 0))
        );
        // 2019-02-17 00:00 -02 (02:00 UTC) went back to 2019-02-16 23:00 -03: Feb 16 repeats
        // its last hour and has 25 hours, Feb 17 starts at 00:00 -03
        assert_eq!(
            day_bounds(date(2019, 2, 16), tz),
            (utc(2019, 2, 16, 2, 0), utc(2019, 2, 17, 3, 0))
        );
        assert_eq!(
            day_bounds(date(2019, 2, 17), tz),
            (utc(2019, 2, 17, 3, 0), utc(2019, 2, 18, 3, 0))
        );
        // beats from the repeated 23:55 across midnight
        let t = utc(2019, 2, 17, 2, 55);
        let beats = vec![
            beat(t, "a"),
            beat(t + 8 * MIN, "a"),
            beat(t + 16 * MIN, "a"),
        ];
        let map = durations(beats, rules_in(tz), ALL);
        assert_eq!(map[&(date(2019, 2, 16), "a")], 5 * MIN);
        assert_eq!(map[&(date(2019, 2, 17), "a")], 11 * MIN);
    }

    #[test]
    fn beirut_midnight_gap_starts_day_after_the_gap() {
        // 2022-03-27 00:00 +02 jumped to 01:00 +03, i.e. 22:00 UTC on Mar 26
        let tz = chrono_tz::Asia::Beirut;
        assert_eq!(
            day_bounds(date(2022, 3, 26), tz),
            (utc(2022, 3, 25, 22, 0), utc(2022, 3, 26, 22, 0))
        );
        assert_eq!(local_day(utc(2022, 3, 26, 22, 0), tz), date(2022, 3, 27));
        assert_eq!(
            local_day(utc(2022, 3, 26, 22, 0) - 1, tz),
            date(2022, 3, 26)
        );
    }

    #[test]
    fn skipped_day_in_apia_gets_nothing() {
        // Samoa skipped 2011-12-30: 23:59:59 -10 on Dec 29 was followed by 00:00 +14 on Dec 31
        let tz = chrono_tz::Pacific::Apia;
        let jump = utc(2011, 12, 30, 10, 0);
        assert_eq!(day_bounds(date(2011, 12, 30), tz), (jump, jump));
        let beats = vec![beat(jump - 3 * MIN, "a"), beat(jump + 4 * MIN, "a")];
        let map = durations(beats, rules_in(tz), ALL);
        assert_eq!(map[&(date(2011, 12, 29), "a")], 3 * MIN);
        assert_eq!(map[&(date(2011, 12, 31), "a")], 4 * MIN);
        assert_eq!(map.len(), 2);
    }

    /// A spread of beats over two days with several keys, some gaps above the timeout.
    fn sample() -> Vec<Beat<&'static str>> {
        let keys = ["a", "b", "c"];
        let t = utc(2026, 3, 28, 22, 0);
        let steps = [1, 4, 9, 2, 15, 3, 7, 11, 6, 1, 0, 8, 30, 5];
        let mut time = t;
        (0..200)
            .map(|i| {
                time += steps[i % steps.len()] * MIN + (i as i64 % 7) * 1000;
                beat(time, keys[(i * 7 / 5) % keys.len()])
            })
            .collect()
    }

    #[test]
    fn out_of_order_arrival_gives_the_same_map() {
        let rules = rules_in(chrono_tz::Europe::Berlin);
        let sorted = durations(sample(), rules, ALL);
        assert!(total(&sorted) > 0);
        let mut reversed = sample();
        reversed.reverse();
        assert_eq!(durations(reversed, rules, ALL), sorted);
        let base = sample();
        let n = base.len();
        // 37 is coprime with 200, so this is a permutation
        let permuted: Vec<_> = (0..n).map(|i| base[(i * 37 + 11) % n].clone()).collect();
        assert_eq!(durations(permuted, rules, ALL), sorted);
    }

    #[test]
    fn duplicated_beats_give_the_same_map() {
        let rules = rules_in(chrono_tz::Asia::Kolkata);
        let once = durations(sample(), rules, ALL);
        let mut twice = sample();
        twice.extend(sample());
        assert_eq!(durations(twice, rules, ALL), once);
    }

    #[test]
    fn equal_time_beats_with_different_keys_are_deterministic() {
        let t = utc(2026, 1, 5, 9, 0);
        let orders = [
            vec![beat(t, "b"), beat(t, "a"), beat(t + 4 * MIN, "c")],
            vec![beat(t, "a"), beat(t, "b"), beat(t + 4 * MIN, "c")],
            vec![beat(t + 4 * MIN, "c"), beat(t, "b"), beat(t, "a")],
        ];
        let day = date(2026, 1, 5);
        for beats in orders {
            let map = durations(beats, utc_rules(), ALL);
            // sorted by key, "b" comes last at time t and gets the gap
            assert_eq!(
                map.into_iter().collect::<Vec<_>>(),
                vec![((day, "b"), 4 * MIN)]
            );
        }
    }

    #[test]
    fn kodo_beats_count_their_own_elapsed_time() {
        let t = utc(2026, 1, 5, 9, 0);
        let beats = vec![kodo(t, 7 * MIN, "a"), kodo(t + 2 * MIN, 90 * 1000, "b")];
        let map = durations(beats, utc_rules(), ALL);
        let day = date(2026, 1, 5);
        assert_eq!(map[&(day, "a")], 7 * MIN);
        assert_eq!(map[&(day, "b")], 90 * 1000);
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn kodo_beats_are_clipped_and_split_at_midnight() {
        let t = utc(2026, 1, 6, 0, 5);
        let beats = vec![kodo(t, 20 * MIN, "a")];
        let map = durations(beats.clone(), utc_rules(), ALL);
        assert_eq!(map[&(date(2026, 1, 5), "a")], 15 * MIN);
        assert_eq!(map[&(date(2026, 1, 6), "a")], 5 * MIN);
        let window = (utc(2026, 1, 5, 23, 50), utc(2026, 1, 6, 0, 2));
        let clipped = durations(beats, utc_rules(), window);
        assert_eq!(clipped[&(date(2026, 1, 5), "a")], 10 * MIN);
        assert_eq!(clipped[&(date(2026, 1, 6), "a")], 2 * MIN);
    }

    #[test]
    fn kodo_beats_do_not_pair_with_wakatime_beats() {
        let t = utc(2026, 1, 5, 9, 0);
        let beats = vec![
            beat(t, "w"),
            kodo(t + MIN, 30 * 1000, "k"),
            kodo(t + 2 * MIN, 30 * 1000, "k"),
            beat(t + 5 * MIN, "w"),
        ];
        let map = durations(beats, utc_rules(), ALL);
        let day = date(2026, 1, 5);
        // the Wakatime pair spans the Kodo beats and still joins to "w"
        assert_eq!(map[&(day, "w")], 5 * MIN);
        assert_eq!(map[&(day, "k")], MIN);
        assert_eq!(map.len(), 2);
        // a Kodo beat alone with one Wakatime beat: no pairing across them
        let lone = vec![beat(t, "w"), kodo(t + MIN, 30 * 1000, "k")];
        let map = durations(lone, utc_rules(), ALL);
        assert_eq!(
            map.into_iter().collect::<Vec<_>>(),
            vec![((day, "k"), 30 * 1000)]
        );
    }

    #[test]
    fn kodo_elapsed_is_clamped_and_deduplicated() {
        let t = utc(2026, 1, 5, 12, 0);
        let beats = vec![
            kodo(t, 5 * HOUR, "big"),
            kodo(t, 0, "zero"),
            kodo(t, -MIN, "negative"),
            kodo(t + HOUR, MIN, "twice"),
            kodo(t + HOUR, MIN, "twice"),
            kodo(t + HOUR, 2 * MIN, "twice"),
        ];
        let map = durations(beats, utc_rules(), ALL);
        let day = date(2026, 1, 5);
        assert_eq!(map[&(day, "big")], MARGIN_MS);
        assert_eq!(map[&(day, "twice")], 3 * MIN);
        assert_eq!(map.len(), 2);
    }

    #[test]
    fn window_clips_spans_straddling_its_bounds() {
        let t = utc(2026, 1, 5, 9, 0);
        let beats = vec![
            beat(t, "a"),
            beat(t + 8 * MIN, "a"),
            beat(t + 16 * MIN, "b"),
        ];
        let window = (t + 3 * MIN, t + 10 * MIN);
        let map = durations(beats, utc_rules(), window);
        let day = date(2026, 1, 5);
        assert_eq!(map[&(day, "a")], 7 * MIN);
        assert_eq!(map.len(), 1);
    }

    #[test]
    fn empty_or_inverted_window_gives_nothing() {
        let t = utc(2026, 1, 5, 9, 0);
        let beats = vec![beat(t, "a"), beat(t + 8 * MIN, "a")];
        assert!(durations(beats.clone(), utc_rules(), (t + MIN, t + MIN)).is_empty());
        assert!(durations(beats.clone(), utc_rules(), (t + 5 * MIN, t)).is_empty());
        assert!(durations(beats, utc_rules(), (t + 8 * MIN, t + DAY)).is_empty());
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        let extremes = [
            i64::MIN,
            i64::MIN + 1,
            -LIMIT_MS - 1,
            -1,
            0,
            LIMIT_MS + 1,
            i64::MAX - 1,
            i64::MAX,
        ];
        let mut beats = Vec::new();
        for (i, &t) in extremes.iter().enumerate() {
            beats.push(beat(t, "w"));
            beats.push(kodo(t, extremes[(i + 3) % extremes.len()], "k"));
            beats.push(kodo(t, i64::MAX, "k"));
        }
        let timeouts = [i64::MIN, -1, 0, 1, MARGIN_MS, i64::MAX];
        let windows = [
            ALL,
            (i64::MIN, 0),
            (0, i64::MAX),
            (i64::MAX - 1, i64::MAX),
            (i64::MIN, i64::MIN + 2),
        ];
        for tz in [
            Tz::UTC,
            chrono_tz::Pacific::Kiritimati,
            chrono_tz::Pacific::Niue,
        ] {
            for &timeout_ms in &timeouts {
                for &window in &windows {
                    let map = durations(beats.clone(), Rules { timeout_ms, tz }, window);
                    assert!(map.values().all(|&ms| ms > 0));
                }
            }
            for day in [NaiveDate::MIN, NaiveDate::MAX] {
                let _ = day_bounds(day, tz);
            }
            for &t in &extremes {
                let _ = local_day(t, tz);
            }
        }
        // one full span in the window, near the ends of time
        let near_end = vec![beat(i64::MAX - 5, "a"), beat(i64::MAX - 1, "a")];
        let map = durations(near_end, utc_rules(), ALL);
        assert_eq!(total(&map), 4);
    }

    /// A 64-bit linear congruential generator (Knuth's MMIX constants).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self, bound: u64) -> i64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) % bound) as i64
        }
    }

    fn random_beats(rng: &mut Lcg, n: usize) -> Vec<Beat<u8>> {
        let base = utc(2026, 3, 27, 20, 0);
        (0..n)
            .map(|_| Beat {
                time_ms: base + rng.next(3 * DAY as u64),
                elapsed_ms: None,
                key: rng.next(4) as u8,
            })
            .collect()
    }

    /// The expected total, straight from the definition.
    fn expected_total(beats: &[Beat<u8>], timeout: i64) -> i64 {
        let mut sorted: Vec<(i64, u8)> = beats.iter().map(|b| (b.time_ms, b.key)).collect();
        sorted.sort();
        sorted.dedup();
        sorted
            .windows(2)
            .map(|w| w[1].0 - w[0].0)
            .map(|gap| if gap >= timeout { 0 } else { gap })
            .sum()
    }

    #[test]
    fn property_total_equals_sum_of_joined_gaps() {
        let mut rng = Lcg(0x5eed);
        for round in 0..60 {
            let n = 1 + rng.next(600) as usize;
            let mut beats = random_beats(&mut rng, n);
            // some exact duplicates and equal times
            for i in 0..n / 10 {
                let copy = beats[i * 7 % n].clone();
                beats.push(copy);
            }
            let timeout_ms = MIN + rng.next(59 * MIN as u64);
            let rules = Rules {
                timeout_ms,
                tz: Tz::UTC,
            };
            let expected = expected_total(&beats, timeout_ms);
            let map = durations(beats.clone(), rules, ALL);
            assert_eq!(total(&map), expected, "round {round}");
            assert!(map.values().all(|&ms| ms > 0));
            // splitting at other midnights moves time between days but never changes the total
            let berlin = Rules {
                tz: chrono_tz::Europe::Berlin,
                ..rules
            };
            assert_eq!(
                total(&durations(beats, berlin, ALL)),
                expected,
                "round {round}"
            );
        }
    }
}
