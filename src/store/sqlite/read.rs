//! The read path: stats as SQL aggregations over the projected tables, raw events by
//! day, and the delivery log. Runs on pooled read-only connections.

use std::collections::{BTreeMap, HashMap};

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::payload;
use crate::model::ContentType;
use crate::stats::{
    median, rfc3339, DayCount, DeliveryQuery, DeliveryRecord, EventsQuery, Interval, OrgListItem,
    OrgSummary, PrCounts, PrFilter, PrStats, PrTally, RepoItem, SeriesPoint, StoredEvent,
    TeamMember, TeamStats, TimeRange,
};
use crate::store::StoreError;

pub fn orgs(conn: &Connection) -> Result<Vec<OrgListItem>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, login FROM orgs
         UNION SELECT DISTINCT org, org FROM repos WHERE org NOT IN (SELECT key FROM orgs)
         ORDER BY 1",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(OrgListItem {
            org: r.get(0)?,
            login: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The org's display login, or `None` if nothing is stored under that key.
pub fn org_login(conn: &Connection, org: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT login FROM orgs WHERE key = ?1
             UNION ALL SELECT org FROM repos WHERE org = ?1 LIMIT 1",
        )?
        .query_row([org], |r| r.get(0))
        .optional()?)
}

pub fn org_summary(conn: &Connection, org: &str) -> Result<Option<OrgSummary>, StoreError> {
    let Some(login) = org_login(conn, org)? else {
        return Ok(None);
    };
    let count = |sql: &str| -> Result<u64, StoreError> {
        Ok(conn.prepare_cached(sql)?.query_row([org], |r| r.get(0))?)
    };
    let mut pull_requests = PrCounts::default();
    let mut stmt = conn.prepare_cached(
        "SELECT state, COUNT(*) FROM pull_requests WHERE org = ?1 GROUP BY state",
    )?;
    let mut rows = stmt.query([org])?;
    while let Some(row) = rows.next()? {
        let n: u64 = row.get(1)?;
        let state: String = row.get(0)?;
        match state.as_str() {
            "open" => pull_requests.open = n,
            "closed" => pull_requests.closed = n,
            "merged" => pull_requests.merged = n,
            other => return Err(StoreError::Corrupt(format!("unknown PR state `{other}`"))),
        }
    }
    Ok(Some(OrgSummary {
        org: login,
        repos: count("SELECT COUNT(*) FROM repos WHERE org = ?1 AND deleted = 0")?,
        teams: count("SELECT COUNT(*) FROM teams WHERE org = ?1 AND deleted = 0")?,
        members: count("SELECT COUNT(*) FROM org_members WHERE org = ?1 AND present = 1")?,
        pull_requests,
    }))
}

fn bucket_sql(interval: Interval, column: &str) -> String {
    match interval {
        Interval::Day => format!("date({column} / 1000, 'unixepoch')"),
        Interval::Week => format!("date({column} / 1000, 'unixepoch', 'weekday 0', '-6 days')"),
        Interval::Month => format!("date({column} / 1000, 'unixepoch', 'start of month')"),
    }
}

/// `WHERE` clauses and parameters shared by every PR query with this filter.
fn pr_where(filter: &PrFilter) -> (String, Vec<Value>) {
    let mut sql = String::from("p.org = ?");
    let mut args = vec![Value::from(filter.org.clone())];
    if let Some(repo) = &filter.repo {
        let full = if repo.contains('/') {
            repo.clone()
        } else {
            format!("{}/{repo}", filter.org)
        };
        sql.push_str(" AND lower(p.repo) = lower(?)");
        args.push(Value::from(full));
    }
    if let Some(author) = &filter.author {
        sql.push_str(" AND lower(p.author) = lower(?)");
        args.push(Value::from(author.clone()));
    }
    if let Some(team) = &filter.team {
        sql.push_str(
            " AND p.author_id IN (SELECT tm.user_id FROM team_members tm JOIN teams t ON t.id = tm.team_id
               WHERE t.org = ? AND lower(t.slug) = lower(?) AND t.deleted = 0 AND tm.present = 1)",
        );
        args.push(Value::from(filter.org.clone()));
        args.push(Value::from(team.clone()));
    }
    (sql, args)
}

pub fn pr_series(
    conn: &Connection,
    filter: &PrFilter,
    interval: Interval,
) -> Result<Vec<SeriesPoint>, StoreError> {
    let (base, base_args) = pr_where(filter);
    let mut points: BTreeMap<String, SeriesPoint> = BTreeMap::new();
    let metrics: [(&str, &str); 3] = [
        ("created_at", "1"),
        ("merged_at", "p.merged_at IS NOT NULL"),
        ("closed_at", "p.state = 'closed'"),
    ];
    for (i, (column, extra)) in metrics.iter().enumerate() {
        let mut args = base_args.clone();
        let mut sql = format!(
            "SELECT {bucket} AS b, COUNT(*) FROM pull_requests p WHERE {base} AND {extra} AND p.{column} IS NOT NULL",
            bucket = bucket_sql(interval, &format!("p.{column}")),
        );
        if let Some(from) = filter.range.from {
            sql.push_str(&format!(" AND p.{column} >= ?"));
            args.push(Value::from(from));
        }
        if let Some(to) = filter.range.to {
            sql.push_str(&format!(" AND p.{column} < ?"));
            args.push(Value::from(to));
        }
        sql.push_str(" GROUP BY b");
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(args))?;
        while let Some(row) = rows.next()? {
            let bucket: String = row.get(0)?;
            let n: u64 = row.get(1)?;
            let point = points.entry(bucket.clone()).or_insert(SeriesPoint {
                bucket,
                opened: 0,
                merged: 0,
                closed: 0,
            });
            match i {
                0 => point.opened = n,
                1 => point.merged = n,
                _ => point.closed = n,
            }
        }
    }
    Ok(points.into_values().collect())
}

pub fn pr_stats(conn: &Connection, filter: &PrFilter, top: usize) -> Result<PrStats, StoreError> {
    let (base, mut args) = pr_where(filter);
    let (touched, touched_args) = touched_in(&filter.org, filter.range);
    let sql = format!(
        "SELECT p.repo, p.author, p.state, p.created_at, p.merged_at, p.closed_at
         FROM pull_requests p WHERE {base} AND {touched}"
    );
    args.extend(touched_args);
    let mut stats = PrStats {
        opened: 0,
        merged: 0,
        closed: 0,
        median_time_to_merge_seconds: None,
        top_repos: Vec::new(),
        top_authors: Vec::new(),
    };
    let mut repos: HashMap<String, (u64, u64)> = HashMap::new();
    let mut authors: HashMap<String, (u64, u64)> = HashMap::new();
    let mut durations = Vec::new();
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    while let Some(row) = rows.next()? {
        let (repo, author) = (text(row, 0)?, text(row, 1)?);
        let closed_unmerged = text(row, 2)? == "closed";
        let (created, merged, closed): (i64, Option<i64>, Option<i64>) =
            (row.get(3)?, row.get(4)?, row.get(5)?);
        let opened_here = u64::from(filter.range.contains(created));
        let merged_at = merged.filter(|m| filter.range.contains(*m));
        let merged_here = u64::from(merged_at.is_some());
        if let Some(m) = merged_at {
            durations.push((m - created) / 1000);
        }
        if closed_unmerged && closed.is_some_and(|c| filter.range.contains(c)) {
            stats.closed += 1;
        }
        stats.opened += opened_here;
        stats.merged += merged_here;
        // Borrowed keys: allocate a name only the first time it is seen.
        for (map, key) in [(&mut repos, repo), (&mut authors, author)] {
            let tally = match map.get_mut(key) {
                Some(tally) => tally,
                None => map.entry(key.to_owned()).or_default(),
            };
            tally.0 += opened_here;
            tally.1 += merged_here;
        }
    }
    stats.median_time_to_merge_seconds = median(&mut durations);
    stats.top_repos = top_tallies(repos, top);
    stats.top_authors = top_tallies(authors, top);
    Ok(stats)
}

/// `p.id IN (...)`: the org's PRs created, merged or closed in the range, each set found
/// through its own index (an `OR` of the three ranges would scan every PR of the org).
fn touched_in(org: &str, range: TimeRange) -> (String, Vec<Value>) {
    if range == TimeRange::default() {
        return ("1".into(), Vec::new());
    }
    let (from, to) = (range.from.unwrap_or(i64::MIN), range.to.unwrap_or(i64::MAX));
    let sql = "p.id IN (
        SELECT id FROM pull_requests WHERE org = ? AND created_at >= ? AND created_at < ?
        UNION SELECT id FROM pull_requests WHERE org = ? AND merged_at IS NOT NULL AND merged_at >= ? AND merged_at < ?
        UNION SELECT id FROM pull_requests WHERE org = ? AND closed_at IS NOT NULL AND closed_at >= ? AND closed_at < ?)";
    let args = (0..3)
        .flat_map(|_| {
            [
                Value::from(org.to_owned()),
                Value::from(from),
                Value::from(to),
            ]
        })
        .collect();
    (sql.into(), args)
}

/// A text column borrowed from the row, without allocating.
fn text<'r>(row: &'r rusqlite::Row<'_>, index: usize) -> rusqlite::Result<&'r str> {
    row.get_ref(index)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// The `top` busiest keys: most opened, then most merged, then by name.
fn top_tallies(tallies: HashMap<String, (u64, u64)>, top: usize) -> Vec<PrTally> {
    let mut all: Vec<PrTally> = tallies
        .into_iter()
        .filter(|(_, (opened, merged))| opened + merged > 0)
        .map(|(key, (opened, merged))| PrTally {
            key,
            opened,
            merged,
        })
        .collect();
    all.sort_by(|a, b| {
        (b.opened, b.merged)
            .cmp(&(a.opened, a.merged))
            .then_with(|| a.key.cmp(&b.key))
    });
    all.truncate(top);
    all
}

pub fn repos(conn: &Connection, org: &str) -> Result<Vec<RepoItem>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.name, r.full_name, r.private, r.archived,
                (SELECT COUNT(*) FROM pull_requests p WHERE p.repo_id = r.id AND p.state = 'open')
         FROM repos r WHERE r.org = ?1 AND r.deleted = 0 ORDER BY lower(r.name)",
    )?;
    let rows = stmt.query_map([org], |r| {
        Ok(RepoItem {
            name: r.get(0)?,
            full_name: r.get(1)?,
            private: r.get(2)?,
            archived: r.get(3)?,
            open_pull_requests: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn team_stats(
    conn: &Connection,
    org: &str,
    range: TimeRange,
) -> Result<Vec<TeamStats>, StoreError> {
    let mut teams: Vec<(i64, TeamStats)> = conn
        .prepare_cached(
            "SELECT t.id, COALESCE(t.slug, CAST(t.id AS TEXT)), t.name,
                    (SELECT COUNT(*) FROM team_members tm WHERE tm.team_id = t.id AND tm.present = 1)
             FROM teams t WHERE t.org = ?1 AND t.deleted = 0 ORDER BY 2",
        )?
        .query_map([org], |r| {
            Ok((
                r.get(0)?,
                TeamStats {
                    team: r.get(1)?,
                    name: r.get(2)?,
                    members: r.get(3)?,
                    opened: 0,
                    merged: 0,
                    median_time_to_merge_seconds: None,
                },
            ))
        })?
        .collect::<Result<_, _>>()?;
    let index: HashMap<i64, usize> = teams
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let mut durations: Vec<Vec<i64>> = vec![Vec::new(); teams.len()];
    let (touched, mut args) = touched_in(org, range);
    args.insert(0, Value::from(org.to_owned()));
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT tm.team_id, p.created_at, p.merged_at
         FROM team_members tm JOIN pull_requests p ON p.author_id = tm.user_id AND p.org = tm.org
         WHERE tm.org = ? AND tm.present = 1 AND {touched}"
    ))?;
    let mut rows = stmt.query(params_from_iter(args))?;
    while let Some(row) = rows.next()? {
        let Some(&i) = index.get(&row.get::<_, i64>(0)?) else {
            continue;
        };
        let created: i64 = row.get(1)?;
        let merged: Option<i64> = row.get(2)?;
        if range.contains(created) {
            teams[i].1.opened += 1;
        }
        if let Some(merged) = merged.filter(|m| range.contains(*m)) {
            teams[i].1.merged += 1;
            durations[i].push((merged - created) / 1000);
        }
    }
    for ((_, team), mut d) in teams.iter_mut().zip(durations) {
        team.median_time_to_merge_seconds = median(&mut d);
    }
    Ok(teams.into_iter().map(|(_, t)| t).collect())
}

pub fn team_members(
    conn: &Connection,
    org: &str,
    team: &str,
) -> Result<Option<Vec<TeamMember>>, StoreError> {
    let id: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM teams WHERE org = ?1 AND lower(slug) = lower(?2) AND deleted = 0",
        )?
        .query_row([org, team], |r| r.get(0))
        .optional()?;
    let Some(id) = id else {
        return Ok(None);
    };
    let members = conn
        .prepare_cached(
            "SELECT login, user_id FROM team_members WHERE team_id = ?1 AND present = 1 ORDER BY lower(login)",
        )?
        .query_map([id], |r| {
            Ok(TeamMember {
                login: r.get(0)?,
                user_id: r.get(1)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some(members))
}

pub fn events(conn: &Connection, query: &EventsQuery) -> Result<Vec<StoredEvent>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, source, kind, action, delivery_id, hook_id, received_at, encoding, payload, content_type
         FROM events WHERE source = ?1 AND day = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4",
    )?;
    let mut rows = stmt.query(params![
        query.source,
        query.day.to_string(),
        query.after.unwrap_or(0),
        query.limit as i64
    ])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let content_type = payload::content_type(seq, row.get(9)?)?;
        let payload = payload::decode(seq, row.get(7)?, row.get(8)?)?;
        let payload = payload::served(seq, payload, content_type)?;
        out.push(StoredEvent {
            seq,
            source: row.get(1)?,
            kind: row.get(2)?,
            action: row.get(3)?,
            delivery_id: row.get(4)?,
            hook_id: row.get(5)?,
            received_at: rfc3339(row.get(6)?),
            payload,
            content_type: (content_type != ContentType::Json).then(|| content_type.as_str()),
        });
    }
    Ok(out)
}

pub fn event_days(
    conn: &Connection,
    source: Option<&str>,
    range: TimeRange,
) -> Result<Vec<DayCount>, StoreError> {
    let mut sql = String::from("SELECT source, day, COUNT(*) FROM events WHERE 1");
    let mut args: Vec<Value> = Vec::new();
    if let Some(source) = source {
        sql.push_str(" AND source = ?");
        args.push(Value::from(source.to_owned()));
    }
    if let Some(from) = range.from {
        sql.push_str(" AND received_at >= ?");
        args.push(Value::from(from));
    }
    if let Some(to) = range.to {
        sql.push_str(" AND received_at < ?");
        args.push(Value::from(to));
    }
    sql.push_str(" GROUP BY source, day ORDER BY day, source");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        Ok(DayCount {
            source: r.get(0)?,
            day: r.get(1)?,
            events: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn deliveries(
    conn: &Connection,
    query: &DeliveryQuery,
) -> Result<Vec<DeliveryRecord>, StoreError> {
    let mut sql = String::from(
        "SELECT seq, source, kind, action, delivery_id, hook_id, status, received_at, size
         FROM deliveries WHERE 1",
    );
    let mut args: Vec<Value> = Vec::new();
    for (column, value) in [
        ("source", &query.source),
        ("kind", &query.kind),
        ("status", &query.status),
    ] {
        if let Some(value) = value {
            sql.push_str(&format!(" AND {column} = ?"));
            args.push(Value::from(value.clone()));
        }
    }
    if let Some(before) = query.before {
        sql.push_str(" AND seq < ?");
        args.push(Value::from(before));
    }
    sql.push_str(" ORDER BY seq DESC LIMIT ?");
    args.push(Value::from(query.limit as i64));
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        Ok(DeliveryRecord {
            seq: Some(r.get(0)?),
            source: r.get(1)?,
            event: r.get(2)?,
            action: r.get(3)?,
            delivery_id: Some(r.get(4)?),
            hook_id: r.get(5)?,
            status: r.get(6)?,
            reason: None,
            received_at: rfc3339(r.get(7)?),
            size: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
