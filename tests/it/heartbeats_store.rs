//! The heartbeats read model's conformance suite: the same heartbeats must give the same
//! coding time on every backend, whatever their arrival order, with late arrivals
//! repairing days already read. `store_conformance::store_suite!` expands to one named
//! test per case for SQLite and Elasticsearch (the stand-in, or a real cluster when
//! `RECKON_TEST_ELASTICSEARCH_URL` is set).

use chrono::NaiveDate;
use chrono_tz::Tz;
use reckon::model::Envelope;
use reckon::sources::heartbeats::heartbeat::{envelope, Stored};
use reckon::sources::heartbeats::store::{
    self as reads, Basis, Filter, Group, TimeQuery, UserSpan,
};
use reckon::store::Store;
use serde_json::json;
use serde_json::value::RawValue;

const MIN: i64 = 60_000;
/// 2026-03-02T10:00:00Z, a Monday.
const T0: i64 = 1_772_445_600_000;

/// One WakaTime heartbeat of `user` at `at` ms, in `project`, on `entity`.
fn beat(user: &str, at: i64, project: &str, entity: &str) -> Envelope {
    let item = json!({"entity": entity, "type": "file", "time": at as f64 / 1000.0,
        "project": project, "language": "Rust", "branch": "main", "is_write": false});
    let stored = Stored {
        user: user.into(),
        machine: Some("laptop".into()),
        user_agent: Some(
            "wakatime/13.1.0 (Linux-6.1) Python3.11 vim/9.0 vim-wakatime/9.0.0".into(),
        ),
        timezone: None,
        heartbeat: Some(RawValue::from_string(item.to_string()).unwrap()),
        kodo: None,
    };
    let hb = stored.decode().unwrap();
    envelope(&stored, &hb, at)
}

fn kodo(user: &str, epoch: i64, elapsed: i64, workspace: &str) -> Envelope {
    let item = json!({"application": "vsc", "elapsed": elapsed, "epoch": epoch,
        "identifier": "Main.hs", "language": "haskell", "type": "ide", "workspace": workspace});
    let stored = Stored {
        user: user.into(),
        machine: None,
        user_agent: None,
        timezone: None,
        heartbeat: None,
        kodo: Some(RawValue::from_string(item.to_string()).unwrap()),
    };
    let hb = stored.decode().unwrap();
    envelope(&stored, &hb, epoch)
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn query(user: &str, first: &str, last: &str, tz: Tz) -> TimeQuery {
    TimeQuery {
        user: user.into(),
        first: day(first),
        last: day(last),
        basis: Basis {
            tz,
            timeout_ms: 10 * MIN,
        },
        filter: Filter::default(),
        files: false,
    }
}

/// Minutes per (day, project) of a query.
async fn minutes(store: &dyn Store, q: &TimeQuery) -> Vec<(String, String, i64)> {
    let slices = reads::of(store)
        .expect("the backend keeps coding time")
        .coding_time(q)
        .await
        .unwrap();
    let mut out: std::collections::BTreeMap<(String, String), i64> = Default::default();
    for s in slices {
        let name = s.entity.clone().unwrap_or_else(|| s.group.project.clone());
        *out.entry((s.day.to_string(), name)).or_default() += s.ms;
    }
    out.into_iter()
        .map(|((d, p), ms)| (d, p, ms / MIN))
        .collect()
}

fn row(d: &str, p: &str, m: i64) -> (String, String, i64) {
    (d.into(), p.into(), m)
}

/// Beats at 0, 5, 12 (joined), 30 (after a pause), 31; the pause credits nothing.
fn morning(user: &str) -> Vec<Envelope> {
    [0, 5, 12, 30, 31]
        .iter()
        .map(|m| beat(user, T0 + m * MIN, "reckon", "src/lib.rs"))
        .collect()
}

pub async fn pauses_end_work_and_gaps_below_the_timeout_join(store: &dyn Store) {
    store.write_batch(morning("ada")).await.unwrap();
    let q = query("ada", "2026-03-02", "2026-03-02", Tz::UTC);
    assert_eq!(minutes(store, &q).await, [row("2026-03-02", "reckon", 13)]);
}

pub async fn arrival_order_and_duplicates_change_nothing(store: &dyn Store) {
    let mut beats = morning("bob");
    beats.reverse();
    store.write_batch(beats[..2].to_vec()).await.unwrap();
    store.write_batch(morning("bob")).await.unwrap();
    store.write_batch(beats).await.unwrap();
    let q = query("bob", "2026-03-02", "2026-03-02", Tz::UTC);
    assert_eq!(minutes(store, &q).await, [row("2026-03-02", "reckon", 13)]);
}

pub async fn a_late_heartbeat_repairs_a_day_already_read(store: &dyn Store) {
    store.write_batch(morning("cat")).await.unwrap();
    let q = query("cat", "2026-03-02", "2026-03-02", Tz::UTC);
    assert_eq!(minutes(store, &q).await, [row("2026-03-02", "reckon", 13)]);
    // A beat at 21 fills the pause: 12→21 and 21→30 now join.
    store
        .write_batch(vec![beat("cat", T0 + 21 * MIN, "reckon", "src/lib.rs")])
        .await
        .unwrap();
    assert_eq!(minutes(store, &q).await, [row("2026-03-02", "reckon", 31)]);
}

pub async fn days_split_at_the_users_midnight(store: &dyn Store) {
    // 22:50 to 23:10 UTC on March 2, all of it on the 2nd in UTC; Berlin (UTC+1) is
    // past midnight at 23:00.
    let start = T0 + 12 * 60 * MIN + 50 * MIN;
    let beats = (0..=4)
        .map(|i| beat("dan", start + i * 5 * MIN, "reckon", "a.rs"))
        .collect();
    store.write_batch(beats).await.unwrap();
    let utc = query("dan", "2026-03-02", "2026-03-03", Tz::UTC);
    assert_eq!(
        minutes(store, &utc).await,
        [row("2026-03-02", "reckon", 20)]
    );
    // The same heartbeats in Berlin: ten minutes before local midnight, ten after it.
    let berlin = query("dan", "2026-03-02", "2026-03-03", Tz::Europe__Berlin);
    assert_eq!(
        minutes(store, &berlin).await,
        [
            row("2026-03-02", "reckon", 10),
            row("2026-03-03", "reckon", 10)
        ]
    );
    // Read in Berlin over one day only: the other day's time is not in it.
    let one = query("dan", "2026-03-03", "2026-03-03", Tz::Europe__Berlin);
    assert_eq!(
        minutes(store, &one).await,
        [row("2026-03-03", "reckon", 10)]
    );
    // A user whose time zone changes gets their days recomputed: Kolkata is UTC+5:30.
    let kolkata = query("dan", "2026-03-03", "2026-03-03", Tz::Asia__Kolkata);
    assert_eq!(
        minutes(store, &kolkata).await,
        [row("2026-03-03", "reckon", 20)]
    );
}

pub async fn filters_apply_after_heartbeats_pair_up(store: &dyn Store) {
    // A switch to another project within the timeout credits the gap to the first.
    let beats = vec![
        beat("eve", T0, "alpha", "a.rs"),
        beat("eve", T0 + 4 * MIN, "beta", "b.rs"),
        beat("eve", T0 + 7 * MIN, "beta", "b.rs"),
    ];
    store.write_batch(beats).await.unwrap();
    let mut q = query("eve", "2026-03-02", "2026-03-02", Tz::UTC);
    assert_eq!(
        minutes(store, &q).await,
        [row("2026-03-02", "alpha", 4), row("2026-03-02", "beta", 3)]
    );
    q.filter = Filter([Some("alpha".into()), None, None, None, None, None, None]);
    assert_eq!(minutes(store, &q).await, [row("2026-03-02", "alpha", 4)]);
    q.filter = Filter([
        None,
        Some("Rust".into()),
        Some("vim".into()),
        Some("Linux".into()),
        Some("laptop".into()),
        Some("coding".into()),
        Some("main".into()),
    ]);
    assert_eq!(
        minutes(store, &q).await,
        [row("2026-03-02", "alpha", 4), row("2026-03-02", "beta", 3)]
    );
    q.filter = Filter([None, Some("Go".into()), None, None, None, None, None]);
    assert_eq!(minutes(store, &q).await, []);
}

pub async fn files_split_a_projects_time(store: &dyn Store) {
    let beats = vec![
        beat("fay", T0, "alpha", "a.rs"),
        beat("fay", T0 + 2 * MIN, "alpha", "b.rs"),
        beat("fay", T0 + 7 * MIN, "alpha", "a.rs"),
    ];
    store.write_batch(beats).await.unwrap();
    let mut q = query("fay", "2026-03-02", "2026-03-02", Tz::UTC);
    q.files = true;
    q.filter = Filter([Some("alpha".into()), None, None, None, None, None, None]);
    assert_eq!(
        minutes(store, &q).await,
        [row("2026-03-02", "a.rs", 2), row("2026-03-02", "b.rs", 5)]
    );
    let slices = reads::of(store).unwrap().coding_time(&q).await.unwrap();
    let group = Group {
        project: "alpha".into(),
        language: "Rust".into(),
        editor: "vim".into(),
        os: "Linux".into(),
        machine: "laptop".into(),
        category: "coding".into(),
        branch: "main".into(),
    };
    assert!(slices.iter().all(|s| s.group == group), "{slices:?}");
}

pub async fn kodo_heartbeats_count_their_own_elapsed_time(store: &dyn Store) {
    let beats = vec![
        kodo("gus", T0 + MIN, 60_000, "Recify"),
        kodo("gus", T0 + 2 * MIN, 60_000, "Recify"),
        kodo("gus", T0 + 2 * MIN, 60_000, "Recify"),
    ];
    store.write_batch(beats).await.unwrap();
    let q = query("gus", "2026-03-02", "2026-03-02", Tz::UTC);
    assert_eq!(minutes(store, &q).await, [row("2026-03-02", "Recify", 2)]);
}

pub async fn users_are_listed_with_the_span_of_their_heartbeats(store: &dyn Store) {
    store.write_batch(morning("hal")).await.unwrap();
    store
        .write_batch(vec![beat("ivy", T0 + 3 * MIN, "x", "x")])
        .await
        .unwrap();
    let reads = reads::of(store).unwrap();
    let all = reads.heartbeat_users(None).await.unwrap();
    let span = |user: &str, first: i64, last: i64| UserSpan {
        user: user.into(),
        first_ms: first,
        last_ms: last,
    };
    assert!(all.contains(&span("hal", T0, T0 + 31 * MIN)), "{all:?}");
    assert!(
        all.contains(&span("ivy", T0 + 3 * MIN, T0 + 3 * MIN)),
        "{all:?}"
    );
    assert!(all.windows(2).all(|w| w[0].user < w[1].user), "{all:?}");
    assert_eq!(
        reads.heartbeat_users(Some("ivy")).await.unwrap(),
        [span("ivy", T0 + 3 * MIN, T0 + 3 * MIN)]
    );
    assert_eq!(reads.heartbeat_users(Some("nobody")).await.unwrap(), []);
}

crate::store_conformance::store_suite!(
    borrowed:
    pauses_end_work_and_gaps_below_the_timeout_join,
    arrival_order_and_duplicates_change_nothing,
    a_late_heartbeat_repairs_a_day_already_read,
    days_split_at_the_users_midnight,
    filters_apply_after_heartbeats_pair_up,
    files_split_a_projects_time,
    kodo_heartbeats_count_their_own_elapsed_time,
    users_are_listed_with_the_span_of_their_heartbeats,
);
