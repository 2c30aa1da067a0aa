//! The GitHub read model on SQLite: stats as SQL aggregations over the tables the
//! journal's commit keeps (`orgs`, `repos`, `teams`, members, `pull_requests`), and the
//! reconciler's org snapshot in four indexed queries, on the store's read-only pool.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, OptionalExtension};

use super::GithubReadModel;
use crate::stats::{
    median, Interval, OrgListItem, OrgSummary, PrCounts, PrFilter, PrStats, PrTally, RepoItem,
    SeriesPoint, TeamMember, TeamStats, TimeRange,
};
use crate::store::snapshot::{OrgSnapshot, SnapshotRepo, SnapshotTeam};
use crate::store::sqlite::SqliteStore;
use crate::store::StoreError;

#[async_trait]
impl GithubReadModel for SqliteStore {
    async fn orgs(&self) -> Result<Vec<OrgListItem>, StoreError> {
        self.with_reader(orgs).await
    }

    async fn org_known(&self, org: &str) -> Result<bool, StoreError> {
        let org = org.to_owned();
        self.with_reader(move |c| Ok(org_login(c, &org)?.is_some()))
            .await
    }

    async fn org_summary(&self, org: &str) -> Result<Option<OrgSummary>, StoreError> {
        let org = org.to_owned();
        self.with_reader(move |c| org_summary(c, &org)).await
    }

    async fn pr_series(
        &self,
        filter: &PrFilter,
        interval: Interval,
    ) -> Result<Vec<SeriesPoint>, StoreError> {
        let filter = filter.clone();
        self.with_reader(move |c| pr_series(c, &filter, interval))
            .await
    }

    async fn pr_stats(&self, filter: &PrFilter, top: usize) -> Result<PrStats, StoreError> {
        let filter = filter.clone();
        self.with_reader(move |c| pr_stats(c, &filter, top)).await
    }

    async fn repos(&self, org: &str) -> Result<Vec<RepoItem>, StoreError> {
        let org = org.to_owned();
        self.with_reader(move |c| repos(c, &org)).await
    }

    async fn team_stats(&self, org: &str, range: TimeRange) -> Result<Vec<TeamStats>, StoreError> {
        let org = org.to_owned();
        self.with_reader(move |c| team_stats(c, &org, range)).await
    }

    async fn team_members(
        &self,
        org: &str,
        team: &str,
    ) -> Result<Option<Vec<TeamMember>>, StoreError> {
        let (org, team) = (org.to_owned(), team.to_owned());
        self.with_reader(move |c| team_members(c, &org, &team))
            .await
    }

    async fn org_snapshot(&self, org: &str) -> Result<OrgSnapshot, StoreError> {
        let org = org.to_owned();
        self.with_reader(move |c| org_snapshot(c, &org)).await
    }
}

fn orgs(conn: &Connection) -> Result<Vec<OrgListItem>, StoreError> {
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
fn org_login(conn: &Connection, org: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT login FROM orgs WHERE key = ?1
             UNION ALL SELECT org FROM repos WHERE org = ?1 LIMIT 1",
        )?
        .query_row([org], |r| r.get(0))
        .optional()?)
}

fn org_summary(conn: &Connection, org: &str) -> Result<Option<OrgSummary>, StoreError> {
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

fn pr_series(
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

fn pr_stats(conn: &Connection, filter: &PrFilter, top: usize) -> Result<PrStats, StoreError> {
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

fn repos(conn: &Connection, org: &str) -> Result<Vec<RepoItem>, StoreError> {
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

fn team_stats(
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

fn team_members(
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

fn org_snapshot(c: &Connection, org: &str) -> Result<OrgSnapshot, StoreError> {
    let repos = c
        .prepare_cached("SELECT id, name FROM repos WHERE org = ?1 AND deleted = 0 ORDER BY id")?
        .query_map([org], |r| {
            Ok(SnapshotRepo {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;

    let deleted_repos = c
        .prepare_cached("SELECT id FROM repos WHERE org = ?1 AND deleted = 1")?
        .query_map([org], |r| r.get(0))?
        .collect::<Result<BTreeSet<i64>, _>>()?;

    let mut teams: BTreeMap<i64, SnapshotTeam> = c
        .prepare_cached("SELECT id, slug FROM teams WHERE org = ?1 AND deleted = 0")?
        .query_map([org], |r| {
            Ok(SnapshotTeam {
                id: r.get(0)?,
                slug: r.get(1)?,
                members: BTreeMap::new(),
            })
        })?
        .map(|t| t.map(|t| (t.id, t)))
        .collect::<Result<_, _>>()?;
    let mut stmt = c.prepare_cached(
        "SELECT team_id, user_id, login FROM team_members WHERE org = ?1 AND present = 1",
    )?;
    let rows = stmt.query_map([org], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    for row in rows {
        let (team, user, login) = row?;
        if let Some(team) = teams.get_mut(&team) {
            team.members.insert(user, login);
        }
    }

    let org_members = c
        .prepare_cached("SELECT user_id, login FROM org_members WHERE org = ?1 AND present = 1")?
        .query_map([org], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<BTreeMap<i64, String>, _>>()?;

    let mut pull_requests: BTreeMap<i64, PrCounts> = BTreeMap::new();
    let mut stmt = c.prepare_cached(
        "SELECT repo_id, state, COUNT(*) FROM pull_requests WHERE org = ?1 GROUP BY repo_id, state",
    )?;
    let rows = stmt.query_map([org], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (repo, state, n) = row?;
        let counts = pull_requests.entry(repo).or_default();
        let n = n as u64;
        match state.as_str() {
            "open" => counts.open += n,
            "merged" => counts.merged += n,
            _ => counts.closed += n,
        }
    }
    Ok(OrgSnapshot {
        repos,
        deleted_repos,
        teams: teams.into_values().collect(),
        org_members,
        pull_requests,
    })
}
